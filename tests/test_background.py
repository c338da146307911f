"""The order of the server's background work (``ui.background``): a drawing of ranges pauses
between its paths while a page runs, and a page run waiting for a drawing lets it go on."""

from __future__ import annotations

import threading
import time

from ui import background


def _drawing(steps: int, done: list) -> threading.Thread:
    def draw() -> None:
        for k in range(steps):
            background.after_urgent(timeout=10)
            done.append((k, time.monotonic()))

    return threading.Thread(target=draw)


def test_a_drawing_pauses_while_a_page_runs_and_goes_on_when_it_ends():
    done: list = []
    with background.page_run():
        thread = _drawing(3, done)
        thread.start()
        time.sleep(0.3)
        assert done == []  # no path while the page runs
        ended = time.monotonic()
    thread.join(10)
    assert [k for k, _ in done] == [0, 1, 2] and done[0][1] >= ended


def test_a_page_run_waiting_for_the_drawing_lets_it_go_on():
    done: list = []
    with background.page_run():
        thread = _drawing(2, done)
        with background.yielding():
            thread.start()
            thread.join(5)  # would wait the whole timeout if the run still counted
        assert [k for k, _ in done] == [0, 1]
    assert background._pending == 0


def test_outside_a_page_run_yielding_gives_up_nothing():
    with background.yielding():
        assert background._pending == 0
    started = time.monotonic()
    background.after_urgent(timeout=5)
    assert time.monotonic() - started < 1
