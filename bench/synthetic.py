"""A synthetic company of any size (seeded) as contract tables, for the scale and load benches.

``company(n_skus, n_months, n_resources)`` extends ``bench_plan.synthetic_tables`` (products,
the current cycle's forecasts over ``n_months`` plan months from 2026-01, resources, routings,
capacity, headcount, supply limits, budget, cash items, settings) with what a real company also
stores: ``history`` months of actuals before the plan, and three past cycles (2025-10 to
2025-12) of sales and marketing forecasts over their next three months (the track record).
Its statistical baselines (current and past cycles) come from the same generator, as
``cycle, sku, month, units, model`` rows with model ``synthetic``: fitting them for 100,000
series takes about an hour (docs/FORECASTING.md), so the benches store them directly, as a
nightly ``forecast`` job would.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.bench_plan import synthetic_tables  # noqa: E402
from sop_core.months import add_months, month_range  # noqa: E402

__all__ = ["company", "PAST_CYCLES", "write_csvs"]

PAST_CYCLES = ["2025-10", "2025-11", "2025-12"]


def company(
    n_skus: int, n_months: int = 36, n_resources: int = 50, *, history: int = 36, seed: int = 7
) -> tuple[dict[str, pd.DataFrame], pd.DataFrame]:
    """Contract tables of a company of ``n_skus`` skus, and its baselines (every cycle)."""
    tables, baseline, _ = synthetic_tables(n_skus, n_months, n_resources)
    rng = np.random.default_rng(seed + 1)
    skus = tables["products"]["sku"].to_numpy()
    level = baseline.groupby("sku", sort=False)["units"].mean().reindex(skus).to_numpy() / 0.97
    past_months = month_range(add_months("2026-01", -history), history)
    season = 1 + 0.2 * np.sin(np.arange(history) / 12 * 2 * np.pi)
    units = np.round(level[None, :] * season[:, None] * rng.uniform(0.75, 1.25, (history, n_skus)))
    tables["actuals"] = pd.DataFrame(
        {
            "month": np.repeat(np.asarray(past_months, dtype=object), n_skus),
            "sku": np.tile(skus, history),
            "units": units.ravel(),
        }
    )
    past = []
    for cycle in PAST_CYCLES:
        months = [m for m in month_range(cycle, 3) if m < "2026-01"]
        for source, bias in (("sales", 1.1), ("marketing", 0.95)):
            noise = rng.uniform(0.85, 1.15, (len(months), n_skus))
            at = [past_months.index(m) for m in months]
            past.append(
                pd.DataFrame(
                    {
                        "cycle": cycle,
                        "month": np.repeat(np.asarray(months, dtype=object), n_skus),
                        "sku": np.tile(skus, len(months)),
                        "source": source,
                        "units": np.round(units[at] * bias * noise).ravel(),
                    }
                )
            )
    tables["forecasts"] = pd.concat([*past, tables["forecasts"]], ignore_index=True)
    baselines = [baseline.assign(cycle="2026-01")]
    for cycle in PAST_CYCLES:
        months = [m for m in month_range(cycle, 3) if m < "2026-01"] + list(
            baseline["month"].unique()
        )
        at = {m: i for i, m in enumerate(past_months)}
        rows = []
        for m in months:
            values = units[at[m]] if m in at else level * 0.97
            rows.append(pd.DataFrame({"sku": skus, "month": m, "units": np.round(values * 0.98)}))
        baselines.append(pd.concat(rows, ignore_index=True).assign(cycle=cycle))
    all_baselines = pd.concat(baselines, ignore_index=True).assign(model="synthetic")
    return tables, all_baselines[["cycle", "sku", "month", "units", "model"]]


def write_csvs(tables: dict[str, pd.DataFrame], folder: Path) -> None:
    """One contract CSV per table (what a company exports for ``import``)."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, frame in tables.items():
        frame.to_csv(folder / f"{name}.csv", index=False)


def store_baselines(store, baselines: pd.DataFrame) -> None:
    """Write the generator's baselines as ``forecast`` would (one transaction, one audit row)."""
    with store.transaction() as cur:
        cur.execute("DELETE FROM baseline")
        cur.register("incoming_baseline", baselines)
        cur.execute(
            "INSERT INTO baseline (cycle, month, sku, units, model) "
            "SELECT cycle, month, sku, units, model FROM incoming_baseline"
        )
        cur.unregister("incoming_baseline")
        store.audit(cur, "bench", "forecast", "baseline", None, None, f"{len(baselines)} rows")
