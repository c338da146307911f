"""What the product lifecycle costs the plan: this checkout against a base checkout, alternating.

Run: ``.venv/bin/python bench/bench_lifecycle.py --base /path/to/older/checkout`` (e.g. a
``git archive`` of the commit before the lifecycle). Each round runs one child process per
checkout on the same synthetic company (``bench_plan.synthetic_tables``, 10,000 skus × 24 months
× 20 resources by default) and times ``prepare`` and a lever change (``compute`` + the levels,
budget gap, disagreements and summary, median of ``--runs``). This checkout is timed twice: on
the company as it is (no lifecycle columns: what every plan pays) and with 10 % of the skus
ending in the horizon, 5 % launching in it like another sku (what using the feature costs).
Without ``--base`` only this checkout is timed.
"""

from __future__ import annotations

import argparse
import importlib
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent.parent


def _child(repo: str, n_skus: int, runs: int, lifecycle: bool) -> dict:
    sys.path.insert(0, repo)
    sys.path.insert(1, str(HERE / "bench"))
    # imported here, after the path names the checkout to time; sop_core before bench_plan,
    # which puts this checkout first on the path when it is imported
    import numpy as np

    import sop_core
    from sop_core.plan.model import prepare
    from sop_core.store.plandata import plan_data_from_frames

    bench_plan = importlib.import_module("bench_plan")
    LEVERS, plan_and_frames = bench_plan.LEVERS, bench_plan.plan_and_frames
    synthetic_tables = bench_plan.synthetic_tables
    assert Path(sop_core.__file__).resolve().is_relative_to(Path(repo).resolve())

    tables, baseline, bias = synthetic_tables(n_skus, 24, 20)
    if lifecycle:
        products = tables["products"].copy()
        rng = np.random.default_rng(11)
        months = [f"2026-{m:02d}" for m in range(1, 13)] + [f"2027-{m:02d}" for m in range(1, 13)]
        ends = rng.uniform(size=n_skus) < 0.10
        launches = ~ends & (rng.uniform(size=n_skus) < 0.05)
        products["end_month"] = np.where(ends, rng.choice(months, n_skus), None)
        products["launch_month"] = np.where(launches, rng.choice(months, n_skus), None)
        products["like_sku"] = np.where(launches, np.roll(products["sku"].to_numpy(), 1), None)
        products["like_share"] = np.where(launches, 0.8, np.nan)
        tables["products"] = products
    data = plan_data_from_frames(tables, baseline=baseline)
    t0 = time.perf_counter()
    model = prepare(data, bias=bias)
    prepare_ms = (time.perf_counter() - t0) * 1000
    plan_and_frames(model, LEVERS)  # warm-up
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        plan_and_frames(model, LEVERS)
        times.append((time.perf_counter() - t0) * 1000)
    return {"prepare_ms": prepare_ms, "plan_ms": statistics.median(times)}


def _run(repo: Path, n_skus: int, runs: int, lifecycle: bool) -> dict:
    out = subprocess.run(
        [sys.executable, __file__, "--child", str(repo), "--skus", str(n_skus)]
        + ["--runs", str(runs)]
        + (["--lifecycle"] if lifecycle else []),
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", type=Path, help="an older checkout to compare with")
    parser.add_argument("--skus", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--lifecycle", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(_child(args.child, args.skus, args.runs, args.lifecycle)))
        return 0
    kinds = [("this, no lifecycle", HERE, False), ("this, lifecycle", HERE, True)]
    if args.base:
        kinds.insert(0, ("base", args.base.resolve(), False))
    results: dict[str, list[dict]] = {name: [] for name, _, _ in kinds}
    for _ in range(args.rounds):
        for name, repo, lifecycle in kinds:
            results[name].append(_run(repo, args.skus, args.runs, lifecycle))
    print(
        f"{args.skus:,} skus × 24 months × 20 resources, {args.rounds} rounds of {args.runs} runs"
    )
    print(f"{'':22} {'prepare ms (median)':>20} {'plan ms (median of rounds)':>28}")
    for name, rows in results.items():
        prep = statistics.median(r["prepare_ms"] for r in rows)
        plans = sorted(r["plan_ms"] for r in rows)
        print(
            f"{name:22} {prep:20.0f} {statistics.median(plans):16.1f}  "
            f"({plans[0]:.1f}–{plans[-1]:.1f})"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
