"""The order of the server's background work: what a leader will wait for first.

The track record the Demand review shows (``ui.views``) is worked out before a large plan's
ranges (``ui.plan``), which a progress bar stands in for: the meeting goes from the summary to
the Demand review, and a drawing of ranges that shared the two cores with the scoring would keep
it waiting twice as long.
"""

from __future__ import annotations

import threading
from concurrent.futures import Future

__all__ = ["URGENT_WAIT_S", "urgent", "after_urgent"]

# The longest a drawing of ranges waits for urgent work (then it starts all the same).
URGENT_WAIT_S = 120.0

_pending = 0
_changed = threading.Condition()


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


def after_urgent(timeout: float = URGENT_WAIT_S) -> None:
    """Wait until no urgent work is pending (for at most ``timeout`` seconds)."""
    with _changed:
        _changed.wait_for(lambda: _pending == 0, timeout=timeout)
