"""Refit only the stale statistical baselines: the cycles whose stored baseline is missing or
lacks a product's sku or a month the cycle covers (an import of actuals clears the cycles whose
history it changed: ``sop_core.store.changes``)."""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd

# The job list and the pool are baseline.py's own: this module only decides which cycles to fit.
from sop_core.forecasting.baseline import (
    FitProgress,
    _baselines,
    _cycle_jobs,
    _products_skus,
    _store_baselines,
)

__all__ = ["stale_cycles", "refit_stale"]

SQL_COVERED = """
SELECT b.cycle, count(DISTINCT (b.sku, b.month)) AS covered
FROM baseline AS b
JOIN required_months AS r ON b.cycle = r.cycle AND b.month = r.month
JOIN required_skus AS s ON b.sku = s.sku
GROUP BY b.cycle
"""


def _jobs(store) -> tuple[list[str], pd.DataFrame, dict[str, tuple[str, list[str]]]]:
    skus = _products_skus(store)
    actuals = store.read_table("actuals")
    current, plan_months, past = _cycle_jobs(store, actuals)
    cycle = current or plan_months[0]
    jobs = dict(past)
    jobs.setdefault(cycle, (plan_months[0], plan_months))
    return skus, actuals, jobs


def _stale(store, skus: list[str], jobs: dict[str, tuple[str, list[str]]]) -> dict:
    months = pd.DataFrame(
        [(c, m) for c, (_, ms) in jobs.items() for m in dict.fromkeys(ms)],
        columns=["cycle", "month"],
    )
    cur = store.cursor()
    try:
        cur.register("required_months", months)
        cur.register("required_skus", pd.DataFrame({"sku": skus}))
        covered = dict(cur.execute(SQL_COVERED).fetchall())
    finally:
        cur.close()
    need = len(set(skus))
    return {c: job for c, job in jobs.items() if covered.get(c, 0) < need * len(set(job[1]))}


def stale_cycles(store) -> list[str]:
    """The cycles (current and past) whose stored baseline is missing or incomplete, in order.

    Raises:
        PlanError: no products are loaded.
    """
    skus, _, jobs = _jobs(store)
    return sorted(_stale(store, skus, jobs))


def refit_stale(
    store,
    *,
    user: str,
    workers: int | None = None,
    on_progress: Callable[[FitProgress], None] | None = None,
) -> list[str]:
    """Fit and store the baseline of every stale cycle, all in one worker pool.

    Args:
        on_progress: called as series are fitted; an exception it raises cancels the refit
            (the workers are stopped at once and nothing is stored).

    Returns:
        The cycles refitted (none when every stored baseline is complete).
    """
    skus, actuals, jobs = _jobs(store)
    stale = _stale(store, skus, jobs)
    if not stale:
        return []
    frames = _baselines(
        actuals, skus, stale, workers=workers, progress=False, on_progress=on_progress
    )
    _store_baselines(store, frames, user)
    return sorted(frames)
