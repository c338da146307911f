"""Time the plan engine on synthetic companies (seeded): prepare once, then compute + frames.

Run: ``.venv/bin/python bench/bench_plan.py`` (sizes: 1,000 and 10,000 skus × 24 months × 20
resources). ``plan_ms`` is what a lever change costs once the data are in memory: ``compute``
plus the company, family and resource frames, the budget gap, the disagreements and the
summary; ``arrays_ms`` is ``compute`` alone; ``prepare_ms`` is the once-per-data step and
``sku_frame_ms`` the lazily built sku × month frame (not needed for the levels).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sop_core.months import month_range  # noqa: E402
from sop_core.plan.engine import compute
from sop_core.plan.model import prepare
from sop_core.store.plandata import plan_data_from_frames  # noqa: E402

LEVERS = [
    "price_change_pct=-3",
    "price_change_pct:F1=5",
    "volume_change_pct=4",
    "capacity_change_pct:R01=10",
    "headcount_change_fte:R02=2",
    "dso_days=45",
]


def synthetic_tables(
    n_skus: int, n_months: int = 24, n_resources: int = 20, n_families: int = 8, seed: int = 7
):
    """Contract frames of a synthetic company, its baseline and a track-record bias frame."""
    rng = np.random.default_rng(seed)
    months = month_range("2026-01", n_months)
    skus = np.array([f"S{i:05d}" for i in range(n_skus)], dtype=object)
    families = np.array([f"F{i}" for i in range(n_families)], dtype=object)
    resources = np.array([f"R{i:02d}" for i in range(n_resources)], dtype=object)
    price = rng.uniform(5, 200, n_skus).round(2)
    products = pd.DataFrame(
        {
            "sku": skus,
            "name": skus,
            "family": families[rng.integers(0, n_families, n_skus)],
            "unit_price": price,
            "unit_material_cost": (price * rng.uniform(0.2, 0.4, n_skus)).round(2),
            "unit_variable_cost": (price * rng.uniform(0.05, 0.15, n_skus)).round(2),
            "target_cover_days": rng.choice([0.0, 15.0, 30.0, 45.0], n_skus),
        }
    )
    level = rng.gamma(2.0, 50.0, n_skus)
    season = 1 + 0.2 * np.sin(np.arange(n_months) / 12 * 2 * np.pi)
    units = np.round(level[None, :] * season[:, None] * rng.uniform(0.8, 1.2, (n_months, n_skus)))
    mm, ss = np.meshgrid(np.arange(n_months), np.arange(n_skus), indexing="ij")
    pick = rng.uniform(size=units.shape)

    def long(mask, values, **extra):
        return pd.DataFrame(
            {
                **extra,
                "month": np.asarray(months, dtype=object)[mm[mask]],
                "sku": skus[ss[mask]],
                "units": values[mask],
            }
        )

    consensus = long(pick < 0.6, units, cycle="2026-01", source="consensus")
    sales = long(pick < 0.85, units * 1.1, cycle="2026-01", source="sales")
    marketing = long(pick < 0.5, units * 0.95, cycle="2026-01", source="marketing")
    forecasts = pd.concat([consensus, sales, marketing], ignore_index=True)[
        ["cycle", "month", "sku", "source", "units"]
    ]
    baseline = long(np.ones(units.shape, bool), units * 0.97)[["sku", "month", "units"]]

    first = rng.integers(0, n_resources, n_skus)
    second = (first + rng.integers(1, n_resources, n_skus)) % n_resources
    routings = pd.DataFrame(
        {
            "sku": np.concatenate([skus, skus]),
            "resource": np.concatenate([resources[first], resources[second]]),
            "hours_per_unit": rng.uniform(0.05, 0.5, 2 * n_skus).round(3),
        }
    )
    hours = np.zeros(n_resources)
    np.add.at(hours, first, level * routings["hours_per_unit"].to_numpy()[:n_skus])
    np.add.at(hours, second, level * routings["hours_per_unit"].to_numpy()[n_skus:])
    rm, rr = np.meshgrid(np.arange(n_months), np.arange(n_resources), indexing="ij")
    available = hours[None, :] * rng.uniform(0.85, 1.4, (n_months, n_resources))
    capacity = pd.DataFrame(
        {
            "month": np.asarray(months, dtype=object)[rm.ravel()],
            "resource": resources[rr.ravel()],
            "available_hours": available.ravel().round(1),
        }
    )
    resources_frame = pd.DataFrame(
        {
            "resource": resources,
            "site": "Plant",
            "hours_per_fte": 140.0,
            "cost_per_fte": 4000.0,
        }
    )
    staffed = rr.ravel() % 2 == 0  # half the resources have a recruitment plan
    headcount = pd.DataFrame(
        {
            "month": capacity["month"][staffed].to_numpy(),
            "resource": capacity["resource"][staffed].to_numpy(),
            "planned_fte": np.round(available.ravel()[staffed] / 140.0 * 0.95, 1),
        }
    )
    limited = rng.uniform(size=units.shape) < 0.05
    supply_limits = long(limited, units * 0.9)[["month", "sku", "units"]].rename(
        columns={"units": "max_units"}
    )
    fm, ff = np.meshgrid(np.arange(n_months), np.arange(n_families), indexing="ij")
    family_revenue = np.array(
        [
            float((price * level)[products["family"].to_numpy() == f].sum())
            for f in families  # 8 families: setup only, not timed
        ]
    )
    budget = pd.DataFrame(
        {
            "month": np.asarray(months, dtype=object)[fm.ravel()],
            "family": families[ff.ravel()],
            "revenue": (family_revenue[ff.ravel()] * 1.05).round(0),
            "gross_margin": (family_revenue[ff.ravel()] * 0.4).round(0),
            "closing_inventory_value": (family_revenue[ff.ravel()] * 0.3).round(0),
        }
    )
    settings = pd.DataFrame(
        {
            "key": [
                "plan_start",
                "horizon_months",
                "opening_cash",
                "dso_days",
                "dpo_days",
                "fixed_costs_per_month",
                "minimum_cash",
            ],
            "value": ["2026-01", str(n_months), "1000000", "40", "30", "300000", "500000"],
        }
    )
    tables = {
        "products": products,
        "forecasts": forecasts,
        "inventory": pd.DataFrame({"sku": skus, "on_hand_units": np.round(level * 0.5)}),
        "resources": resources_frame,
        "routings": routings,
        "capacity": capacity,
        "headcount": headcount,
        "supply_limits": supply_limits,
        "budget": budget,
        "cash_items": pd.DataFrame(
            {"month": [months[3], months[9]], "item": ["capex", "loan"], "amount": [-2e5, -1e5]}
        ),
        "settings": settings,
    }
    bias = pd.DataFrame(
        {
            "source": ["sales"] * n_families + ["marketing"] * n_families,
            "family": list(families) * 2,
            "verdict": ["inflating", "unbiased"] * n_families,
        }
    )
    return tables, baseline, bias


def plan_and_frames(model, levers):
    """What a lever change costs: compute, the three levels, budget gap, disagreements, summary."""
    result = compute(model, levers)
    for level in ("company", "family", "resource"):
        result.level(level)
    result.budget_gap  # noqa: B018 - built lazily: touching it builds it
    result.summary  # noqa: B018 - includes the disagreements
    return result


def bench(n_skus: int, n_months: int, n_resources: int, runs: int) -> dict:
    tables, baseline, bias = synthetic_tables(n_skus, n_months, n_resources)
    data = plan_data_from_frames(tables, baseline=baseline)
    t0 = time.perf_counter()
    model = prepare(data, bias=bias)
    prepare_ms = (time.perf_counter() - t0) * 1000
    plan_and_frames(model, LEVERS)  # warm-up
    times, arrays = [], []
    for _ in range(runs):
        t0 = time.perf_counter()
        compute(model, LEVERS)
        arrays.append((time.perf_counter() - t0) * 1000)
        t0 = time.perf_counter()
        result = plan_and_frames(model, LEVERS)
        times.append((time.perf_counter() - t0) * 1000)
    t0 = time.perf_counter()
    result.sku  # noqa: B018
    sku_ms = (time.perf_counter() - t0) * 1000
    return {
        "skus": n_skus,
        "months": n_months,
        "resources": n_resources,
        "prepare_ms": prepare_ms,
        "arrays_ms_median": statistics.median(arrays),
        "compute_ms_median": statistics.median(times),
        "compute_ms_min": min(times),
        "sku_frame_ms": sku_ms,
        "disagreements": len(result.disagreements),
    }


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sizes", default="1000,10000", help="comma-separated sku counts")
    p.add_argument("--months", type=int, default=24)
    p.add_argument("--resources", type=int, default=20)
    p.add_argument("--runs", type=int, default=15)
    args = p.parse_args(argv)
    print(
        "skus    months resources  prepare_ms  arrays_ms(median)  plan_ms(median)  plan_ms(min)"
        "  sku_frame_ms  disagreements"
    )
    for n in (int(x) for x in args.sizes.split(",")):
        r = bench(n, args.months, args.resources, args.runs)
        print(
            f"{r['skus']:<7} {r['months']:<6} {r['resources']:<10} {r['prepare_ms']:>10.1f}"
            f"  {r['arrays_ms_median']:>17.2f}  {r['compute_ms_median']:>15.2f}"
            f"  {r['compute_ms_min']:>12.2f}  {r['sku_frame_ms']:>12.1f}  {r['disagreements']:>13}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
