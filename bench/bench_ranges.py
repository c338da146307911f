"""Time the ranges (sampled demand paths through the plan engine) on the demo and a synthetic company.

Run: ``.venv/bin/python bench/bench_ranges.py`` (sections ``demo``, ``synthetic``, ``whatif``).

- ``demo``: the demo company's plan of record, 1,000 paths (target < 1 s); the app's 500.
- ``synthetic``: ``bench_plan``'s company of 10,000 skus × 24 months × 20 resources (its baseline
  given a band of −20 %/+25 %, its sources a track record of ln(actual/forecast) ~ N(−0.05,
  0.12)), 200 paths (target < 10 s).
- Both at the default batch (``ranges.BATCH_CELLS``) and other batch sizes, against the same
  run's single ``compute``, and against a loop of ``compute`` over the same sampled paths, one
  at a time. Peak memory of the draw is
  tracemalloc's (numpy's arrays are traced), measured in a run of its own.
- ``whatif``: ``bench_plan.py`` of this tree against the merge base with main, alternately
  (``bench_decisions.whatif``): the single-plan what-if path before and after.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
import tracemalloc
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.bench_decisions import whatif  # noqa: E402
from bench.bench_plan import LEVERS, synthetic_tables  # noqa: E402
from sop_core.bootstrap import init_store  # noqa: E402
from sop_core.meeting.record import plan_of_record  # noqa: E402
from sop_core.plan import ranges  # noqa: E402
from sop_core.plan.engine import compute  # noqa: E402
from sop_core.plan.model import prepare  # noqa: E402
from sop_core.plan.ranges import (  # noqa: E402
    DEFAULT_SEED,
    MEMORY_MB,
    _batch_size,
    demand_uncertainty,
    plan_ranges,
    sample_demand,
)
from sop_core.store.db import Store  # noqa: E402
from sop_core.store.plandata import plan_data_from_frames  # noqa: E402


def _times(fn, runs: int) -> list[float]:
    out = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t0)
    return out


def _peak_mb(fn) -> float:
    tracemalloc.start()
    tracemalloc.reset_peak()
    fn()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak / 1e6


def _loop(model, levers, samples: int, seed: int) -> None:
    """The other way: one ``compute`` per path, over the same paths."""
    unc = demand_uncertainty(model)
    children = np.random.SeedSequence(seed).spawn(samples)
    batch = _batch_size(model, samples, MEMORY_MB)
    for start in range(0, samples, batch):
        paths = sample_demand(model, unc, children[start : start + batch])
        for path in paths:
            compute(replace(model, demand=path), levers)


def _report(name: str, model, levers, samples: int, runs: int, batches=(None,)) -> None:
    """Time the draw at the default batch (None) and at other batch sizes (paths at once)."""
    n_months, n_skus = model.demand.shape
    print(f"{name}: {n_skus:,} skus × {n_months} months × {len(model.resources)} resources")
    single = _times(lambda: compute(model, levers), 31)
    print(
        f"  one compute (same run)       median {statistics.median(single) * 1e3:9.1f} ms"
        f"  min {min(single) * 1e3:8.1f} ms"
    )
    default = ranges.BATCH_CELLS
    for paths in batches:
        ranges.BATCH_CELLS = default if paths is None else paths * model.demand.size
        batch = _batch_size(model, samples, MEMORY_MB)
        t = _times(lambda: plan_ranges(model, levers, samples=samples), runs)
        peak = _peak_mb(lambda: plan_ranges(model, levers, samples=samples))
        print(
            f"  {samples:,} paths, {batch:>4} at once  median {statistics.median(t):7.3f} s  "
            f"min {min(t):7.3f} s  max {max(t):7.3f} s  (peak {peak:,.0f} MB traced"
            f"{', the default' if paths is None else ''})"
        )
    ranges.BATCH_CELLS = default
    t = _times(lambda: _loop(model, levers, samples, DEFAULT_SEED), max(1, runs // 2))
    print(
        f"  {samples:,} paths, a compute each median {statistics.median(t):7.3f} s  "
        f"min {min(t):7.3f} s"
    )
    r = plan_ranges(model, levers, samples=samples)
    print(f"  cash below the minimum in some month: {r.probability:.1%} of paths")


def demo(args) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(args.db) if args.db else Path(tmp) / "demo.duckdb"
        if not args.db:
            init_store(db, demo=True, user="bench").close()
        with Store(db) as store:
            record = plan_of_record(store)
    _report("demo", record.model, record.levers, 1000, args.runs, batches=(None, 1000, 20))
    t = _times(lambda: plan_ranges(record.model, record.levers, samples=500), args.runs)
    print(f"  500 paths (the app's)        median {statistics.median(t):9.3f} s")


def synthetic(args) -> None:
    tables, baseline, bias = synthetic_tables(args.skus, args.months, args.resources)
    baseline = baseline.assign(p10=baseline["units"] * 0.8, p90=baseline["units"] * 1.25)
    sources = bias.drop_duplicates("family")[["family"]]
    spread = [
        sources.assign(source=s, verdict="unbiased", log_ratio_mean=-0.05, log_ratio_sd=0.12)
        for s in ("sales", "consensus")
    ]
    bias = pd.concat(spread, ignore_index=True).assign(n_points=100)
    model = prepare(plan_data_from_frames(tables, baseline=baseline), bias=bias)
    _report("synthetic", model, LEVERS, args.samples, args.runs, batches=(None, 5))


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sections", default="demo,synthetic,whatif")
    p.add_argument("--db", help="an existing demo store (default: build one)")
    p.add_argument("--skus", type=int, default=10_000)
    p.add_argument("--months", type=int, default=24)
    p.add_argument("--resources", type=int, default=20)
    p.add_argument("--samples", type=int, default=200)
    p.add_argument("--runs", type=int, default=5)
    p.add_argument("--whatif-sizes", default="1000,10000")
    p.add_argument("--whatif-runs", type=int, default=15)
    p.add_argument("--rounds", type=int, default=3)
    args = p.parse_args(argv)
    print(f"load average {os.getloadavg()[0]:.1f}, {os.cpu_count()} cpus")
    sections = args.sections.split(",")
    if "demo" in sections:
        demo(args)
    if "synthetic" in sections:
        synthetic(args)
    if "whatif" in sections:
        whatif("", args.whatif_sizes, args.whatif_runs, args.rounds)
    print(f"load average {os.getloadavg()[0]:.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
