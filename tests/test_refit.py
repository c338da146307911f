"""Refitting only the stale baselines, with progress, cancellation, and workers that end with
their parent."""

from __future__ import annotations

import multiprocessing
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from sop_core.forecasting.baseline import FitProgress
from sop_core.forecasting.refit import refit_stale, stale_cycles

ROOT = Path(__file__).resolve().parent.parent
CYCLES = [f"2026-{m:02d}" for m in range(5, 12)]


def test_a_fitted_store_has_nothing_stale_and_a_forgotten_cycle_is(demo_store):
    assert stale_cycles(demo_store) == []
    assert refit_stale(demo_store, user="t") == []
    with demo_store.transaction() as cur:
        cur.execute("DELETE FROM baseline WHERE cycle = '2026-07'")
        cur.execute("DELETE FROM baseline WHERE cycle = '2026-09' AND sku = 'CTL-HPC-01'")
    assert stale_cycles(demo_store) == ["2026-07", "2026-09"]
    seen: list[FitProgress] = []
    assert refit_stale(demo_store, user="t", workers=1, on_progress=seen.append) == [
        "2026-07",
        "2026-09",
    ]
    assert stale_cycles(demo_store) == []
    assert [p.done for p in seen] == list(range(1, 2 * 42 + 1))  # 42 skus, two cycles
    assert seen[-1].total == 84 and seen[-1].remaining == 0
    assert seen[0].remaining == pytest.approx(seen[0].elapsed * 83)


class Cancelled(Exception):
    pass


def test_cancelling_stops_the_workers_at_once_and_stores_nothing(demo_store):
    with demo_store.transaction() as cur:
        cur.execute("DELETE FROM baseline")
    seen: list[FitProgress] = []

    def cancel(progress: FitProgress) -> None:
        seen.append(progress)
        raise Cancelled

    with pytest.raises(Cancelled):
        refit_stale(demo_store, user="t", workers=2, on_progress=cancel)
    assert len(seen) == 1 and seen[0].done < seen[0].total == 7 * 42
    assert multiprocessing.active_children() == []  # terminated, not waited for
    assert demo_store.scalar("SELECT count(*) FROM baseline") == 0
    assert stale_cycles(demo_store) == CYCLES


KILLED_PARENT = """
import os, signal, threading, time, multiprocessing
import numpy as np
from sop_core.forecasting.baseline import _fit_many

rng = np.random.default_rng(3)
tasks = [(rng.gamma(2.0, 50.0, 480), 18) for _ in range(800)]  # chunks of 50 slow series
threading.Thread(target=_fit_many, args=(tasks,), kwargs=dict(workers=2, progress=False),
                 daemon=True).start()
while len(multiprocessing.active_children()) < 2:
    time.sleep(0.1)
time.sleep(2)  # both workers inside their first chunk
print(" ".join(str(c.pid) for c in multiprocessing.active_children()), flush=True)
os.kill(os.getpid(), signal.SIGKILL)  # the app server killed while its workers are busy
"""


def _running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return False
    return "\nState:\tZ" not in state  # a zombie has ended; only its exit status is left


@pytest.mark.skipif(not Path("/proc").exists(), reason="reads /proc")
def test_workers_end_when_their_parent_is_killed(tmp_path):
    out = tmp_path / "pids.txt"
    with out.open("w") as handle:  # a file, not a pipe: the workers hold a copy of stdout
        proc = subprocess.run(
            [sys.executable, "-c", KILLED_PARENT], cwd=ROOT, stdout=handle, timeout=300
        )
    assert proc.returncode == -9
    pids = [int(p) for p in out.read_text().split()]
    assert len(pids) == 2
    try:
        deadline = time.monotonic() + 3  # each worker checks on its parent twice a second
        while any(_running(p) for p in pids) and time.monotonic() < deadline:
            time.sleep(0.1)
        # without that check a worker ends only after its chunk (50 series of 480 months:
        # tens of seconds), when it finds no one to hand the result to
        assert not any(_running(p) for p in pids)
    finally:
        for pid in pids:  # whatever happened, leave no worker behind
            if _running(pid):
                os.kill(pid, signal.SIGKILL)
