"""Time the board pack on the demo: the content, then each format, this tree against another checkout.

Run: ``.venv/bin/python bench/bench_boardpack.py [--baseline /work/main] [--runs 3]``

Each checkout builds its own demo store (``init --demo``: its schema), then a child process of
that checkout times ``pack_content`` and ``render_pack`` to .pdf, .pptx and .xlsx, ``--runs``
times, alternating the checkouts so machine load falls on both alike. A format's time is the
content plus its render (what one click builds); the median of the runs is printed.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FORMATS = (".pdf", ".pptx", ".xlsx")


def child(db: str, folder: str) -> None:
    """In the checkout under test: one build of the content and each format, as JSON seconds."""
    sys.path.insert(0, os.getcwd())
    from sop_core.boardpack.build import render_pack
    from sop_core.boardpack.content import pack_content
    from sop_core.store.db import Store

    out = {}
    with Store(Path(db)) as store:
        t = time.perf_counter()
        pack = pack_content(store)
        out["content"] = time.perf_counter() - t
    for suffix in FORMATS:
        pack.images.clear()  # each format draws its own charts, as a single-format build would
        t = time.perf_counter()
        render_pack(pack, Path(folder) / f"pack{suffix}")
        out[suffix] = time.perf_counter() - t
    print(json.dumps(out))


def _demo(checkout: Path, folder: Path) -> Path:
    db = folder / f"demo-{checkout.name}.duckdb"
    subprocess.run(
        [sys.executable, "-m", "sop_core", "init", "--db", str(db), "--demo"],
        cwd=checkout,
        check=True,
        capture_output=True,
    )
    return db


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--baseline", default="/work/main", help="the checkout to compare with")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--child", nargs=2, metavar=("DB", "FOLDER"))
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return
    checkouts = {"this tree": ROOT, "baseline": Path(args.baseline).resolve()}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        dbs = {name: _demo(path, folder) for name, path in checkouts.items()}
        times: dict[str, list[dict]] = {name: [] for name in checkouts}
        for _ in range(args.runs):
            for name, path in checkouts.items():
                proc = subprocess.run(
                    [sys.executable, str(ROOT / "bench" / "bench_boardpack.py"), "--child"]
                    + [str(dbs[name]), tmp],
                    cwd=path,
                    check=True,
                    capture_output=True,
                    text=True,
                )
                times[name].append(json.loads(proc.stdout.strip().splitlines()[-1]))
    print(f"{'checkout':<10} {'content':>8} " + " ".join(f"{s + ' total':>12}" for s in FORMATS))
    for name, runs in times.items():
        content = statistics.median(r["content"] for r in runs)
        totals = [statistics.median(r["content"] + r[s] for r in runs) for s in FORMATS]
        print(f"{name:<10} {content:>7.2f}s " + " ".join(f"{t:>11.2f}s" for t in totals))


if __name__ == "__main__":
    main()
