"""The command line ``import`` of a large company's CSVs: wall time and peak memory, against a
baseline checkout timed in the same run (this machine is shared and noisy).

Run: ``nice -n 5 .venv/bin/python bench/bench_import.py --skus 100000 --baseline /path/to/old``
(``--csvs DIR`` to reuse CSVs written before; ``--runs N`` alternates the two checkouts N times).

Each run is a fresh store (``python -m sop_core init``, then ``import`` of every CSV, timed
alone), in a child process whose own peak resident memory is read from ``wait4``. The baseline
is any other checkout of this project (``git worktree add /tmp/old <commit>``), run with this
checkout's Python so that only the code differs.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.bench_scale import timed_cli  # noqa: E402
from bench.synthetic import company, write_csvs  # noqa: E402


def timed_import(checkout: Path, csvs: Path, folder: Path) -> tuple[float, float]:
    """(wall seconds, peak resident MB) of ``import`` into a new store, code from ``checkout``."""
    db = folder / f"import_{time.time_ns()}.duckdb"
    timed_cli("init", "--db", str(db), cwd=checkout)
    measured = timed_cli(
        "import", "--db", str(db), *map(str, sorted(csvs.glob("*.csv"))), cwd=checkout
    )
    db.unlink()
    return measured


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skus", type=int, default=10_000)
    parser.add_argument("--months", type=int, default=36)
    parser.add_argument("--resources", type=int, default=50)
    parser.add_argument("--csvs", type=Path, help="a folder of CSVs written before (not rewritten)")
    parser.add_argument("--baseline", type=Path, help="another checkout to time in the same run")
    parser.add_argument("--runs", type=int, default=1)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        csvs = args.csvs
        if csvs is None or not any(csvs.glob("*.csv")):
            csvs = csvs or folder / "csvs"
            csvs.mkdir(parents=True, exist_ok=True)
            tables, _ = company(args.skus, args.months, args.resources, history=args.months)
            write_csvs(tables, csvs)
        rows = sum(max(sum(1 for _ in f.open("rb")) - 1, 0) for f in csvs.glob("*.csv"))
        megabytes = sum(f.stat().st_size for f in csvs.glob("*.csv")) / 1e6
        print(f"{csvs}: {rows:,} rows, {megabytes:,.0f} MB of CSV")
        checkouts = {"this checkout": ROOT}
        if args.baseline:
            checkouts["baseline"] = args.baseline.resolve()
        seen: dict[str, list[tuple[float, float]]] = {name: [] for name in checkouts}
        for _ in range(args.runs):
            for name, checkout in checkouts.items():
                seen[name].append(timed_import(checkout, csvs, folder))
                wall, peak = seen[name][-1]
                print(f"  {name:14} {wall:7.1f} s  peak {peak:,.0f} MB", flush=True)
        print("\n| code | import (median) | peak memory (max) |\n|---|---:|---:|")
        for name, runs in seen.items():
            wall = statistics.median(w for w, _ in runs)
            peak = max(p for _, p in runs)
            print(f"| {name} | {wall:.1f} s | {peak:,.0f} MB |")


if __name__ == "__main__":
    main()
