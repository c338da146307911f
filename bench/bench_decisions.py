"""Time the decision tools: goal seek and sensitivity (demo and 10,000 skus), allocation=margin
against pro rata (10,000 skus × 20 resources × 24 months), and the what-if plan before and after.

Run: ``nice -n 5 .venv/bin/python bench/bench_decisions.py`` (about two minutes). Sections:

- ``demo``: the demo company's store built in a temporary folder; goal seek (three targets)
  and sensitivity, each the median of ``--runs`` on the prepared model.
- ``synthetic``: ``bench_plan.synthetic_tables`` at ``--skus``; sensitivity, one goal seek, and a
  plan (compute + the three levels + disagreements + summary, as ``bench_plan.plan_and_frames``)
  with ``allocation=pro_rata`` and with ``allocation=margin``, alternating, median of ``--runs``.
- ``whatif``: ``bench/bench_plan.py`` of this tree and of ``--baseline`` (a git ref; default the
  merge base with main: the engine before time windows), run alternately ``--rounds`` times in
  this run, so the what-if path with no windows and no elasticity is compared on the same load.
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_plan import LEVERS, plan_and_frames, synthetic_tables  # noqa: E402

from sop_core.plan.engine import compute  # noqa: E402
from sop_core.plan.goalseek import goal_seek, parse_target  # noqa: E402
from sop_core.plan.model import prepare  # noqa: E402
from sop_core.plan.sensitivity import sensitivity  # noqa: E402
from sop_core.store.plandata import plan_data_from_frames  # noqa: E402

DEMO_SEEKS = [
    ("price_change_pct", "lowest_cash>=minimum_cash"),
    ("price_change_pct:Panel Radiators@2027-03", "revenue>=budget"),
    ("headcount_change_fte:Press & Weld@2027-09", "unmet_units<=5000"),
]
SYNTHETIC_SEEK = ("price_change_pct", "revenue>=budget")


def _median_ms(fn, runs: int) -> tuple[float, float, object]:
    times, out = [], None
    for _ in range(runs):
        t0 = time.perf_counter()
        out = fn()
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times), max(times), out


def demo(runs: int) -> None:
    from sop_core.bootstrap import init_store
    from sop_core.plan.service import model_for_store
    from sop_core.store.db import Store

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "demo.duckdb"
        init_store(path, demo=True, user="bench").close()
        with Store(path) as store:
            model = model_for_store(store)
    print(
        f"demo: {len(model.skus)} skus x {len(model.months)} months x {len(model.resources)} resources"
    )
    for lever, text in DEMO_SEEKS:
        target = parse_target(text, model)
        med, worst, answer = _median_ms(lambda t=target, k=lever: goal_seek(model, t, k), runs)
        print(
            f"  goalseek {text:<28} {answer.line:<48} {answer.evaluations:>3} plans"
            f"  median {med:7.1f} ms  max {worst:7.1f} ms"
        )
    med, worst, frame = _median_ms(lambda: sensitivity(model), runs)
    print(
        f"  sensitivity {frame['lever'].nunique()} levers x 2 steps"
        f"  median {med:7.1f} ms  max {worst:7.1f} ms"
    )
    med, worst, _ = _median_ms(lambda: compute(model), runs)
    print(f"  one plan (compute, pro rata)        median {med:7.2f} ms")
    med, worst, _ = _median_ms(lambda: compute(model, ["allocation=margin"]), runs)
    print(f"  one plan (compute, margin)          median {med:7.2f} ms")


def synthetic(n_skus: int, n_resources: int, n_months: int, runs: int) -> None:
    tables, baseline, bias = synthetic_tables(n_skus, n_months, n_resources)
    model = prepare(plan_data_from_frames(tables, baseline=baseline), bias=bias)
    print(f"synthetic: {n_skus} skus x {n_months} months x {n_resources} resources")
    pro, margin = [*LEVERS, "allocation=pro_rata"], [*LEVERS, "allocation=margin"]
    plan_and_frames(model, pro)
    plan_and_frames(model, margin)  # warm-up
    times = {"pro_rata": [], "margin": []}
    for _ in range(runs):
        for name, levers in (("pro_rata", pro), ("margin", margin)):
            t0 = time.perf_counter()
            result = plan_and_frames(model, levers)
            times[name].append((time.perf_counter() - t0) * 1000)
            if name == "margin":
                shadow = result.shadow_price
    gm = {
        n: compute(model, lv).summary["gross_margin"]
        for n, lv in (("pro_rata", pro), ("margin", margin))
    }
    for name in times:
        print(
            f"  plan allocation={name:<9} median {statistics.median(times[name]):8.1f} ms"
            f"  max {max(times[name]):8.1f} ms  gross margin {gm[name]:,.0f}"
        )
    short = int((shadow > 0).sum())
    print(f"  resource-months with a shadow price (margin): {short}")
    med, worst, frame = _median_ms(lambda: sensitivity(model), max(1, runs // 3))
    print(
        f"  sensitivity {frame['lever'].nunique()} levers x 2 steps"
        f"  median {med:8.1f} ms  max {worst:8.1f} ms"
    )
    lever, text = SYNTHETIC_SEEK
    target = parse_target(text, model)
    med, worst, answer = _median_ms(lambda: goal_seek(model, target, lever), max(1, runs // 3))
    print(
        f"  goalseek {text} -> {answer.line} ({answer.evaluations} plans)"
        f"  median {med:8.1f} ms  max {worst:8.1f} ms"
    )


def _export(ref: str, into: Path) -> None:
    data = subprocess.run(
        ["git", "archive", ref, "sop_core", "bench"], cwd=ROOT, capture_output=True, check=True
    ).stdout
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        tar.extractall(into, filter="data")


def _bench_plan(tree: Path, sizes: str, runs: int) -> dict[int, float]:
    out = subprocess.run(
        [
            sys.executable,
            str(tree / "bench" / "bench_plan.py"),
            "--sizes",
            sizes,
            "--runs",
            str(runs),
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    medians = {}
    for line in out.splitlines()[1:]:
        parts = line.split()
        medians[int(parts[0])] = float(parts[5])  # plan_ms(median)
    return medians


def whatif(ref: str, sizes: str, runs: int, rounds: int) -> None:
    if not ref:
        ref = subprocess.run(
            ["git", "merge-base", "HEAD", "main"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    print(f"what-if plan (bench_plan.py, plan_ms median of {runs}), this tree against {ref[:10]}:")
    with tempfile.TemporaryDirectory() as tmp:
        old = Path(tmp)
        _export(ref, old)
        results = {"before": [], "after": []}
        for _ in range(rounds):
            results["before"].append(_bench_plan(old, sizes, runs))
            results["after"].append(_bench_plan(ROOT, sizes, runs))
    for size in results["after"][0]:
        before = [r[size] for r in results["before"]]
        after = [r[size] for r in results["after"]]
        print(
            f"  {size:>6} skus  before {min(before):6.2f}–{max(before):6.2f} ms"
            f"  after {min(after):6.2f}–{max(after):6.2f} ms"
            f"  (medians of rounds: {statistics.median(before):.2f} vs {statistics.median(after):.2f})"
        )


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sections", default="demo,synthetic,whatif")
    p.add_argument("--skus", type=int, default=10_000)
    p.add_argument("--resources", type=int, default=20)
    p.add_argument("--months", type=int, default=24)
    p.add_argument("--runs", type=int, default=9)
    p.add_argument(
        "--baseline",
        default="",
        help="git ref of the engine before (default: merge base with main)",
    )
    p.add_argument("--whatif-sizes", default="1000,10000")
    p.add_argument("--whatif-runs", type=int, default=15)
    p.add_argument("--rounds", type=int, default=3)
    args = p.parse_args(argv)
    sections = args.sections.split(",")
    print(f"load average at start: {os.getloadavg()[0]:.1f} (2 vCPUs)")
    if "demo" in sections:
        demo(args.runs)
    if "synthetic" in sections:
        synthetic(args.skus, args.resources, args.months, args.runs)
    if "whatif" in sections:
        whatif(args.baseline, args.whatif_sizes, args.whatif_runs, args.rounds)
    print(f"load average at end: {os.getloadavg()[0]:.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
