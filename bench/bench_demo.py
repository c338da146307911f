"""Time building the demo store (what the app's first start does), phase by phase.

Run: ``.venv/bin/python bench/bench_demo.py [--runs N]``. Each run builds a fresh store in a
temporary folder, as ``bootstrap.load_demo`` does, and times its phases: the import, the
statistical baselines (current and past cycles, in a worker pool), the three earlier cycles
locked with the plans they had (``load_history``: the performance review's history), this
cycle's meeting (register, decisions, sign-offs) and the first judging of the decisions. The
baseline in the same run is the build without the history and the judging (the phases the
demo had before the performance review).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sop_core.bootstrap import DEMO_DIR, load_history, load_meeting  # noqa: E402
from sop_core.forecasting.baseline import run_forecast  # noqa: E402
from sop_core.intake.importer import import_paths  # noqa: E402
from sop_core.store.db import Store  # noqa: E402
from sop_core.views.review import decision_outcomes  # noqa: E402

PHASES = ("import", "baselines", "earlier cycles locked", "meeting", "decisions judged")


def build_once() -> dict[str, float]:
    """Seconds per phase of one demo build."""
    times = {}
    with tempfile.TemporaryDirectory() as folder:
        store = Store(Path(folder) / "demo.duckdb")
        steps = (
            lambda: import_paths(store, [DEMO_DIR], user="bench"),
            lambda: run_forecast(store, progress=False, history=True),
            lambda: load_history(store),
            lambda: load_meeting(store, user="bench"),
            lambda: decision_outcomes(store, record=True),
        )
        for name, step in zip(PHASES, steps, strict=True):
            start = time.perf_counter()
            step()
            times[name] = time.perf_counter() - start
        store.close()
    return times


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args(argv)
    runs = [build_once() for _ in range(args.runs)]
    for name in PHASES:
        values = [r[name] for r in runs]
        print(
            f"{name:<24} median {statistics.median(values):6.2f} s  ({min(values):.2f}–{max(values):.2f})"
        )
    totals = [sum(r.values()) for r in runs]
    before = [r["import"] + r["baselines"] + r["meeting"] for r in runs]
    print(
        f"{'whole build':<24} median {statistics.median(totals):6.2f} s  ({min(totals):.2f}–{max(totals):.2f})"
    )
    print(
        f"{'without the history':<24} median {statistics.median(before):6.2f} s  "
        f"({min(before):.2f}–{max(before):.2f})"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
