"""The statistical baseline on a Dask cluster against the process pool, in one run.

Run: ``nice -n 5 .venv/bin/python bench/bench_cluster.py [--series 1000] [--scheduler ADDRESS]``

The same ``--series`` synthetic histories as ``bench_forecast.py`` (48–120 months, seeded), 18
months ahead, fitted four ways one after the other: the process pool with 2 workers, a local
Dask cluster with 1 and with 2 workers (started and stopped inside the timing: what
``forecast`` pays), and in-process (1 worker: the CPU seconds are the work itself). With
``--scheduler`` a running cluster is timed too. Every way must give the same frame. Prints
seconds per 1,000 series and the projection for 100,000 series on N workers:
``in-process CPU s per 1,000 × 100 / N`` plus the local cluster's start-up.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.bench_forecast import synthetic_actuals  # noqa: E402
from sop_core.forecasting import cluster  # noqa: E402
from sop_core.forecasting.baseline import baseline_frame  # noqa: E402
from sop_core.months import month_range  # noqa: E402


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--series", type=int, default=1000)
    ap.add_argument("--scheduler", help="also time this running Dask scheduler")
    args = ap.parse_args(argv)
    actuals, skus = synthetic_actuals(args.series)
    months = month_range("2025-01", 18)
    ways = [("process pool", None, 2), ("Dask local", cluster.LOCAL, 1),
            ("Dask local", cluster.LOCAL, 2), ("in-process", None, 1)]  # fmt: skip
    if args.scheduler:
        ways.append(("Dask at " + args.scheduler, args.scheduler, None))
    rows, first = [], None
    for name, scheduler, workers in ways:
        load = os.getloadavg()[0]
        t0, c0 = time.perf_counter(), time.process_time()
        with cluster.using(scheduler):
            frame = baseline_frame(actuals, skus, months, origin="2025-01", workers=workers)
        seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
        if first is None:
            first = frame
        else:
            pd.testing.assert_frame_equal(frame, first)  # the same numbers every way
        rows.append((name, workers, seconds, cpu, load))
        print(f"  {name}, {workers} worker(s): {seconds:.1f} s", file=sys.stderr, flush=True)
    print(f"{args.series} series, 18 months ahead; every way gave the same baseline")
    print("| way | workers | seconds | s per 1,000 series | load average at start |")
    print("|---|---|---|---|---|")
    for name, workers, seconds, _, load in rows:
        print(
            f"| {name} | {workers or '?'} | {seconds:.1f} | {seconds / args.series * 1000:.1f} "
            f"| {load:.1f} |"
        )
    cpu_per_1000 = next(c for n, w, s, c, _ in rows if n == "in-process") / args.series * 1000
    print(f"\nin-process CPU: {cpu_per_1000:.1f} s per 1,000 series")
    print("projection for 100,000 series (CPU × 100 / N, no start-up, no contention):")
    for n in (2, 8, 16, 32, 64):
        print(f"  {n} workers: {cpu_per_1000 * 100 / n / 60:.1f} min")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
