"""The baseline's fits on a Dask cluster give the same numbers as in-process; a bad scheduler says so."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sop_core.errors import SopError
from sop_core.forecasting import baseline, cluster
from sop_core.months import month_range
from tests._browser import free_port

MONTHS = month_range("2022-01", 36)
HORIZON = month_range("2025-01", 6)


def _actuals(n: int) -> pd.DataFrame:
    rng = np.random.default_rng(3)
    season = 1 + 0.3 * np.sin(np.arange(36) / 12 * 2 * np.pi)
    rows = []
    for i in range(n):
        units = np.round(rng.uniform(20, 200) * season * rng.uniform(0.8, 1.2, 36))
        rows.append(pd.DataFrame({"month": MONTHS, "sku": f"S{i:03d}", "units": units}))
    return pd.concat(rows, ignore_index=True)


def test_a_local_dask_cluster_gives_the_same_baseline_as_in_process():
    n = baseline.PARALLEL_MIN_SERIES + 5  # enough to fan out
    actuals = _actuals(n)
    skus = [f"S{i:03d}" for i in range(n)]
    here = baseline.baseline_frame(actuals, skus, HORIZON, origin="2025-01", workers=1)
    with cluster.using(cluster.LOCAL):
        assert cluster.active_scheduler() == "local"
        on_dask = baseline.baseline_frame(actuals, skus, HORIZON, origin="2025-01", workers=2)
    assert cluster.active_scheduler() is None
    pd.testing.assert_frame_equal(on_dask, here)
    assert len(here) == n * len(HORIZON) and (here["units"] >= 0).all()


def test_map_chunks_keeps_the_order_of_the_chunks():
    seen = []
    out = cluster.map_chunks(
        sorted, [[3, 1], [9, 8, 7], [5]], scheduler=cluster.LOCAL, workers=1, on_done=seen.append
    )
    assert out == [[1, 3], [7, 8, 9], [5]]
    assert sorted(seen) == [1, 2, 3]


def test_an_unreachable_scheduler_is_one_clear_error(monkeypatch):
    monkeypatch.setattr(cluster, "CONNECT_TIMEOUT", "2s")
    address = f"tcp://127.0.0.1:{free_port()}"  # nothing listens there
    with pytest.raises(SopError) as info:
        cluster.map_chunks(sorted, [[2, 1]], scheduler=address)
    assert str(info.value).startswith(f"Cannot reach the Dask scheduler at {address}: ")
    assert "\n" not in str(info.value)


def test_the_scheduler_comes_from_the_call_then_the_environment(monkeypatch):
    monkeypatch.delenv(cluster.SCHEDULER_ENV, raising=False)
    assert cluster.active_scheduler() is None
    monkeypatch.setenv(cluster.SCHEDULER_ENV, "tcp://sched:8786")
    assert cluster.active_scheduler() == "tcp://sched:8786"
    with cluster.using("local"):
        assert cluster.active_scheduler() == "local"
        with cluster.using(None):  # None keeps the outer choice
            assert cluster.active_scheduler() == "local"
    assert cluster.active_scheduler() == "tcp://sched:8786"
