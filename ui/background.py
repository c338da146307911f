"""The order of the server's background work: what a leader will wait for first.

The track record the Demand review shows (``ui.views``) is worked out before a large plan's
ranges (``ui.plan``), which a progress bar stands in for: the meeting goes from the summary to
the Demand review, and a drawing of ranges that shared the two cores with the scoring would keep
it waiting twice as long. For the same reason a drawing pauses between its paths while a page
runs (``page_run``): a page visited during the 40 s of a large plan's drawing waits for one path
at most, not for a share of the cores the whole time.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import Future
from contextlib import contextmanager

__all__ = ["URGENT_WAIT_S", "urgent", "after_urgent", "page_run", "yielding"]

# The longest a drawing of ranges waits for urgent work (then it starts all the same).
URGENT_WAIT_S = 120.0

_pending = 0
_changed = threading.Condition()
_in_run = threading.local()  # .depth: page runs under way in this thread


def _done(_future: Future) -> None:
    global _pending
    with _changed:
        _pending -= 1
        _changed.notify_all()


def urgent(future: Future) -> Future:
    """Count ``future`` as urgent work until it is done (counted from now, so that a drawing
    about to start waits for it)."""
    global _pending
    with _changed:
        _pending += 1
    future.add_done_callback(_done)  # at once if it is done already
    return future


def _add(n: int) -> None:
    global _pending
    with _changed:
        _pending += n
        _changed.notify_all()


@contextmanager
def page_run() -> Iterator[None]:
    """Count a page's run as urgent work while it runs (``app.py``)."""
    _add(1)
    _in_run.depth = getattr(_in_run, "depth", 0) + 1
    try:
        yield
    finally:
        _in_run.depth -= 1
        _add(-1)


@contextmanager
def yielding() -> Iterator[None]:
    """Within ``page_run``: not urgent while it waits for background work (a drawing it needs
    done), which would otherwise wait for it in turn. Outside a page run: nothing to give up."""
    running = getattr(_in_run, "depth", 0) > 0
    if running:
        _add(-1)
    try:
        yield
    finally:
        if running:
            _add(1)


def after_urgent(timeout: float = URGENT_WAIT_S) -> None:
    """Wait until no urgent work is pending (for at most ``timeout`` seconds)."""
    with _changed:
        _changed.wait_for(lambda: _pending == 0, timeout=timeout)
