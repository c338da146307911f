"""Time a lever change on the Scenarios page in headless Chromium against a bare Streamlit rerun.

Run: ``.venv/bin/python bench/bench_whatif.py [--db DEMO.duckdb] [--reps 15] [--skus 10000]``

Three Streamlit servers on free loopback ports, one browser:

- *bare*: a temp file with one ``st.number_input`` and one ``st.metric`` showing its value;
- *demo*: ``app.py`` on the demo store (``--db``; built in a temp folder when not given, ~50 s),
  Scenarios page, and the Executive summary with its what-if panel open (same server);
- *big*: ``app.py`` on a synthetic store of ``--skus`` skus (seeded, 18 months, 20 resources,
  full consensus so no forecast has to be fitted), Scenarios page.

Each repetition types a new value into the input and presses Enter; a capture listener stamps
the keydown and a MutationObserver stamps the moment the metric's value text changes in the
DOM ("Closing cash" on the Scenarios page and in the summary's panel). Both stamps are taken in
the page (``performance.now()``), so the figure is what a person sees: request, server run,
message, render. The bare, Scenarios and summary repetitions alternate (same machine, same
moment); the first two of each are warm-up. Prints the medians and the ratio demo/bare (the target is ≤ 1.5) and the big
store's median (target ≤ 1 s).
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
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
BARE_APP = """import streamlit as st

x = st.number_input("x", value=0.0, step=1.0, key="x")
st.metric("y", f"{x:.0f}")
"""
# Stamps the Enter keydown (capture phase, before Streamlit sees it) and the first DOM
# mutation after it that shows a new value in the metric labelled ``label``: the last one so
# labelled, because the summary's what-if figures come after its own "Closing cash" and last
# month's "Closing cash, Oct 2026" (the bench read those before, and waited for ever).
ARM = """
({label, old}) => {
  window.__dt = null;
  window.__t0 = null;
  if (!window.__armed) {
    document.addEventListener('keydown', (e) => {
      if (e.key === 'Enter') window.__t0 = performance.now();
    }, true);
    window.__armed = true;
  }
  const read = () => {
    let found = null;  // the last metric so labelled: the what-if figures come after the page's own
    for (const m of document.querySelectorAll('[data-testid="stMetric"]')) {
      const l = m.querySelector('[data-testid="stMetricLabel"]');
      if (l && l.textContent.trim() === label) {
        const v = m.querySelector('[data-testid="stMetricValue"]');
        found = v ? v.textContent : null;
      }
    }
    return found;
  };
  const obs = new MutationObserver(() => {
    if (window.__t0 === null) return;
    const now = read();
    if (now !== null && now !== old) {
      window.__dt = performance.now() - window.__t0;
      obs.disconnect();
    }
  });
  obs.observe(document.body, {subtree: true, childList: true, characterData: true});
}
"""
READ = """
(label) => {
  let found = null;
  for (const m of document.querySelectorAll('[data-testid="stMetric"]')) {
    const l = m.querySelector('[data-testid="stMetricLabel"]');
    if (l && l.textContent.trim() === label) {
      const v = m.querySelector('[data-testid="stMetricValue"]');
      found = v ? v.textContent : null;
    }
  }
  return found;
}
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(script: str, cwd: Path, env_extra: dict[str, str], log: Path):
    """A Streamlit server on a free loopback port; returns (process, base url)."""
    port = free_port()
    env = dict(os.environ, STREAMLIT_BROWSER_GATHER_USAGE_STATS="false", **env_extra)
    cmd = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        script,
        "--server.headless=true",
        f"--server.port={port}",
        "--server.address=127.0.0.1",
        "--server.fileWatcherType=none",
    ]
    proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            with urllib.request.urlopen(url + "/_stcore/health", timeout=1) as r:
                if r.status == 200:
                    return proc, url
        except OSError:
            time.sleep(0.2)
    proc.terminate()
    raise RuntimeError(f"Streamlit did not start: see {log}")


def wait_idle(page, timeout: float = 120) -> None:
    """Until the page has elements and Streamlit has stopped running for three looks in a row."""
    page.wait_for_selector('[data-testid="stElementContainer"]', timeout=timeout * 1000)
    quiet, t0 = 0, time.time()
    while time.time() - t0 < timeout:
        busy = page.locator(
            '[data-testid="stStatusWidget"], [data-testid="stSkeleton"], [data-testid="stSpinner"]'
        ).count()
        quiet = 0 if busy else quiet + 1
        if quiet >= 3:
            return
        time.sleep(0.1)
    raise RuntimeError("the page did not settle")


def open_scenarios(page, url: str) -> None:
    """The app's home, then the Scenarios page from the sidebar (as a person would)."""
    page.goto(url + "/", timeout=120_000)
    wait_idle(page)
    page.locator('[data-testid="stSidebarNav"] a', has_text="Scenarios").click()
    page.wait_for_selector("h1:has-text('Scenarios')", timeout=120_000)
    page.get_by_label("Price change (%)", exact=True).wait_for(timeout=120_000)
    wait_idle(page)


def open_summary_panel(page, url: str) -> None:
    """The Executive summary (the app's home) with its what-if panel opened."""
    page.goto(url + "/", timeout=120_000)
    wait_idle(page)
    page.get_by_text("What if…? Change an assumption").click()
    page.get_by_label("Price change (%)", exact=True).wait_for(timeout=120_000)
    wait_idle(page)


def one_change(page, field, label: str, value: float) -> float:
    """ms from Enter to the metric showing a new value."""
    page.bring_to_front()  # the measured tab is the visible one (no background throttling)
    old = page.evaluate(READ, label)
    field.fill(f"{value:g}")
    page.evaluate(ARM, {"label": label, "old": old})
    field.press("Enter")
    page.wait_for_function("window.__dt !== null", timeout=60_000)
    dt = float(page.evaluate("window.__dt"))
    wait_idle(page)
    return dt


def synthetic_store(path: Path, n_skus: int) -> None:
    """A plan store of ``n_skus`` skus (seeded): bench_plan's company, every sku-month with a
    consensus forecast so the app needs no statistical baseline."""
    import numpy as np
    import pandas as pd

    from bench.bench_plan import synthetic_tables
    from sop_core.store.db import Store

    tables, baseline, _ = synthetic_tables(n_skus, n_months=18, n_resources=20)
    units = baseline.rename(columns={"units": "units"})
    rng = np.random.default_rng(11)
    consensus = units.assign(
        cycle="2026-01", source="consensus", units=np.round(units["units"].to_numpy())
    )
    sales = units.assign(
        cycle="2026-01",
        source="sales",
        units=np.round(units["units"].to_numpy() * rng.uniform(0.95, 1.2, len(units))),
    )
    tables["forecasts"] = pd.concat([consensus, sales], ignore_index=True)[
        ["cycle", "month", "sku", "source", "units"]
    ]
    store = Store(path)
    try:
        store.replace_tables(tables, user="bench", source=f"synthetic {n_skus} skus")
    finally:
        store.close()


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--db", help="the demo store (default: build one in a temp folder)")
    p.add_argument("--reps", type=int, default=15, help="timed repetitions per page")
    p.add_argument("--skus", type=int, default=10_000, help="skus of the big store (0: skip)")
    args = p.parse_args(argv)

    from playwright.sync_api import sync_playwright

    tmp = Path(tempfile.mkdtemp(prefix="bench_whatif_"))
    procs = []
    try:
        demo_db = tmp / "demo.duckdb"
        if args.db:
            shutil.copy(args.db, demo_db)
            if Path(args.db + ".wal").exists():  # a store last written by a running app
                shutil.copy(args.db + ".wal", str(demo_db) + ".wal")
        else:
            from sop_core.bootstrap import init_store

            print("building the demo store (about 50 s)…", flush=True)
            init_store(demo_db, demo=True).close()
        big_db = tmp / "big.duckdb"
        if args.skus:
            print(f"building a {args.skus:,}-sku store…", flush=True)
            synthetic_store(big_db, args.skus)
        bare_dir = tmp / "bare"
        bare_dir.mkdir()
        (bare_dir / "bare.py").write_text(BARE_APP)

        bare_proc, bare_url = start("bare.py", bare_dir, {}, tmp / "bare.log")
        procs.append(bare_proc)
        demo_proc, demo_url = start("app.py", ROOT, {"SOP_DB": str(demo_db)}, tmp / "demo.log")
        procs.append(demo_proc)

        with sync_playwright() as pw:
            browser = pw.chromium.launch(
                executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
            )
            viewport = {"width": 1440, "height": 900}
            bare = browser.new_page(viewport=viewport)
            bare.goto(bare_url + "/")
            wait_idle(bare)
            bare_field = bare.get_by_label("x", exact=True)
            demo = browser.new_page(viewport=viewport)
            open_scenarios(demo, demo_url)
            demo_field = demo.get_by_label("Price change (%)", exact=True)
            summary = browser.new_page(viewport=viewport)
            open_summary_panel(summary, demo_url)
            summary_field = summary.get_by_label("Price change (%)", exact=True)

            bare_ms, demo_ms, summary_ms = [], [], []
            for i in range(args.reps + 2):
                value = float(i % 20 + 1)
                bare_ms.append(one_change(bare, bare_field, "y", float(i + 1)))
                demo_ms.append(one_change(demo, demo_field, "Closing cash", value))
                summary_ms.append(one_change(summary, summary_field, "Closing cash", value))
            bare_ms, demo_ms, summary_ms = bare_ms[2:], demo_ms[2:], summary_ms[2:]
            b, d = statistics.median(bare_ms), statistics.median(demo_ms)
            s = statistics.median(summary_ms)
            print(f"bare rerun (1 number_input, 1 metric): median {b:.0f} ms over {len(bare_ms)}")
            print(f"Scenarios page, demo, lever change:    median {d:.0f} ms over {len(demo_ms)}")
            print(f"ratio demo/bare: {d / b:.2f} (target ≤ 1.5)")
            print(f"Executive summary's what-if panel:     median {s:.0f} ms, {s / b:.2f}× bare")
            load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
            print(f"  machine: {os.cpu_count()} CPUs, load average {load}")
            print("  bare ms:", " ".join(f"{x:.0f}" for x in bare_ms))
            print("  demo ms:", " ".join(f"{x:.0f}" for x in demo_ms))
            print("  summary ms:", " ".join(f"{x:.0f}" for x in summary_ms))
            summary.close()
            demo.close()
            bare.close()

            if args.skus:
                big_proc, big_url = start("app.py", ROOT, {"SOP_DB": str(big_db)}, tmp / "big.log")
                procs.append(big_proc)
                big = browser.new_page(viewport=viewport)
                open_scenarios(big, big_url)
                big_field = big.get_by_label("Price change (%)", exact=True)
                big_ms = [
                    one_change(big, big_field, "Closing cash", float(i % 20 + 1))
                    for i in range(min(args.reps, 10) + 2)
                ][2:]
                m = statistics.median(big_ms)
                print(
                    f"Scenarios page, {args.skus:,} skus, lever change: median {m:.0f} ms, "
                    f"max {max(big_ms):.0f} ms over {len(big_ms)} (target ≤ 1000 ms)"
                )
                print("  big ms:", " ".join(f"{x:.0f}" for x in big_ms))
            browser.close()
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
