"""How long each page takes to show in the browser after the first load, on the demo company.

Run: ``.venv/bin/python bench/bench_pages.py [--db DEMO.duckdb] [--rounds 3] [--root CHECKOUT]``

``--root`` serves the app of another checkout (e.g. ``git archive`` of an older commit) on the
same store, to compare two versions in one run on a noisy machine.

Starts the app on a copy of the demo store (built in a temp folder when ``--db`` is not given),
opens it in headless Chromium, then clicks through every page in the sidebar, ``--rounds``
times. For each click it measures, in the page, from the click to the moment the new page's
title is shown and Streamlit has stopped running (no running-status widget); the first round
loads the caches and is not counted. Prints the median per page over the later rounds.
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]  # fmt: skip
RUNNING = '[data-testid="stStatusWidget"]'


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def shown(page, title: str, timeout: float = 60.0) -> float:
    """Seconds until the h1 reads ``title`` and no script is running (polled every 10 ms)."""
    start = time.perf_counter()
    while time.perf_counter() - start < timeout:
        h1 = page.locator("h1").first
        if h1.count() and h1.inner_text().strip() == title and page.locator(RUNNING).count() == 0:
            return time.perf_counter() - start
        time.sleep(0.01)
    raise TimeoutError(title)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--db", help="a demo store to copy (default: build one)")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--root", default=str(ROOT), help="the checkout whose app.py to serve")
    args = ap.parse_args()
    from playwright.sync_api import sync_playwright

    work = Path(tempfile.mkdtemp(prefix="bench_pages_"))
    db = work / "demo.duckdb"
    if args.db:
        shutil.copy(args.db, db)
    else:
        from sop_core.bootstrap import init_store

        print("building the demo store…", file=sys.stderr)
        init_store(db, demo=True, user="bench").close()
    port = free_port()
    env = dict(os.environ, SOP_DB=str(db), STREAMLIT_BROWSER_GATHER_USAGE_STATS="false")
    server = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless=true", f"--server.port={port}"],
        cwd=args.root, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    times: dict[str, list[float]] = {}
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1440, "height": 900})
            for _ in range(120):
                try:
                    page.goto(f"http://127.0.0.1:{port}/", timeout=5000)
                    break
                except Exception:
                    time.sleep(0.5)
            shown(page, "Executive summary", timeout=120)
            nav = page.locator('[data-testid="stSidebarNav"] a')
            titles = [t.strip().splitlines()[-1].strip() for t in nav.all_inner_texts()]
            for round_no in range(args.rounds):
                for title in [*titles[1:], titles[0]]:
                    page.locator('[data-testid="stSidebarNav"]').get_by_text(
                        title, exact=True
                    ).click()
                    seconds = shown(page, title)
                    if round_no:
                        times.setdefault(title, []).append(seconds)
            browser.close()
    finally:
        server.terminate()
        server.wait()
        shutil.rmtree(work, ignore_errors=True)
    print(f"| page | median seconds to show (rounds 2–{args.rounds}) |")
    print("|---|---|")
    for title, values in times.items():
        print(f"| {title} | {statistics.median(values):.2f} |")
    every = [v for vs in times.values() for v in vs]
    print(f"\nall pages: median {statistics.median(every):.2f} s, max {max(every):.2f} s")


if __name__ == "__main__":
    main()
