"""A large company on one machine: import, plan, store read and the app's pages, with peak memory.

Run: ``nice -n 5 .venv/bin/python bench/bench_scale.py --skus 100000 --months 36 --resources 50``
(add ``--keep DIR`` to keep the store and CSVs; ``--no-app`` to skip the browser part).

1. ``bench/synthetic.py`` writes the company's contract CSVs (seeded; not timed).
2. ``python -m sop_core init`` and ``import`` of the CSVs: wall time and the process's peak
   resident memory (``wait4``'s ``ru_maxrss``).
3. The baselines of every cycle are stored from the generator (fitting 100,000 series is the
   forecasting cluster's job, docs/FORECASTING.md).
4. ``python -m sop_core plan --level company``: wall time and peak memory. It prepares the
   model of record and keeps it beside the store (``meeting.kept``), as the first process to
   show new data does.
5. In this process: ``load_plan_data`` (the store read into frames), median of 5.
6. The app on that store (``streamlit run app.py``), headless Chromium: the first page (from
   opening the URL to the Executive summary's figures shown and its script run ended, the
   store read and the plan included; an early run timed only its title, shown before the plan; a large
   plan's cash range, drawn in the background after the figures, timed apart), then
   every page of the sidebar twice (the second round is the "every page after" figure), then 5
   lever changes on the Scenarios page (Enter to the new "Closing cash"), and the server's peak
   memory (``VmHWM``).
7. Two fresh servers: the first page, then the Demand review at once; with the model kept
   (by ``plan``), then with no model kept (its file removed: the first process to show new data).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.bench_whatif import one_change, start, wait_idle  # noqa: E402
from bench.synthetic import company, store_baselines, write_csvs  # noqa: E402
from sop_core.meeting.kept import SUFFIX  # noqa: E402
from sop_core.store.db import Store  # noqa: E402
from sop_core.store.plandata import load_plan_data  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]  # fmt: skip
# Running, or a cached computation's spinner still up: the page is not finished.
# The app's script state (set at once, unlike the running sign, which shows after a delay),
# the running sign, a spinner, a skeleton.
RUNNING = (
    '[data-testid="stApp"][data-test-script-state="running"], '
    '[data-testid="stApp"][data-test-script-state="rerunRequested"], '
    '[data-testid="stStatusWidget"], [data-testid="stSpinner"], [data-testid="stSkeleton"]'
)
FIGURE = '[data-testid="stMetric"]:has-text("Revenue vs budget")'
PROGRESS = '[data-testid="stProgress"]'  # ranges drawn in the background (ui.plan)


def timed_cli(*args: str, cwd: Path = ROOT) -> tuple[float, float]:
    """Run ``python -m sop_core ARGS`` (the code of the checkout ``cwd``); (wall seconds, peak
    resident MB) of that process."""
    with tempfile.TemporaryFile("w+") as out:
        t0 = time.perf_counter()
        proc = subprocess.Popen(
            [sys.executable, "-m", "sop_core", *args], cwd=cwd, stdout=out, stderr=out
        )
        _, status, usage = os.wait4(proc.pid, 0)  # this child's own rusage
        wall = time.perf_counter() - t0
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode:
            out.seek(0)
            raise RuntimeError(f"{args[0]} failed in {cwd}: {out.read()[-500:]}")
    return wall, usage.ru_maxrss / 1024  # Linux reports KB


def vm_hwm_mb(pid: int, field: str = "VmHWM") -> float:
    """The process's peak resident memory in MB (``field="VmRSS"``: its current one)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024
    return float("nan")


# Streamlit shows its running indicator and a cached function's spinner only after a short
# delay: a page is finished when the title is there and neither has shown for this long. (The
# runs before 2026-11-29's last took the first quiet moment, and so timed the Demand review's
# first visit at 0.1 s while it scored past forecasts for 20 s more.)
SETTLE_S = 1.5


def shown(page, title: str, timeout: float = 300.0) -> float:
    """Seconds until the h1 reads ``title`` and no script is running, from when it was quiet
    for ``SETTLE_S`` (polled every 20 ms)."""
    t0 = time.perf_counter()
    quiet_since = None
    while time.perf_counter() - t0 < timeout:
        h1 = page.locator("h1").first
        done = h1.count() and h1.inner_text().strip() == title
        if done and page.locator(RUNNING).count() == 0:
            quiet_since = quiet_since or time.perf_counter()
            if time.perf_counter() - quiet_since >= SETTLE_S:
                return quiet_since - t0
        else:
            quiet_since = None
        time.sleep(0.02)
    raise TimeoutError(title)


def since(t0: float) -> float:
    """Seconds from ``t0`` to now."""
    return time.perf_counter() - t0


def run_ended(page, timeout: float = 600.0) -> None:
    """Wait until the app's script run has ended (the state the app sets at once).

    The first page is timed so: ``shown`` would wait for a quiet moment, and a large plan's
    range, drawn in the background, is polled every 2 s by a short run of its own. (The first
    page's times up to stop 23's note were taken when ``shown`` returned, and so counted its
    ``SETTLE_S`` of waiting too: 1.5 s more than the page took.)
    """
    page.wait_for_selector(
        '[data-testid="stApp"][data-test-script-state="notRunning"]', timeout=timeout * 1000
    )


class MemoryWatch:
    """The server's resident memory sampled every 0.2 s, its highest per phase of the run."""

    def __init__(self, pid: int):
        self.pid, self.phase, self.peaks = pid, "start", {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(0.2):
            try:
                rss = vm_hwm_mb(self.pid, "VmRSS")
            except OSError:
                return
            self.peaks[self.phase] = max(self.peaks.get(self.phase, 0.0), rss)

    def stop(self) -> dict[str, float]:
        self._stop.set()
        self._thread.join()
        return self.peaks


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def server_idle(pid: int, since: float, quiet: float = 1.0, timeout: float = 300.0) -> float:
    """Seconds from ``since`` to the end of the server process's last busy tenth of a second
    (over 10 % of a core) before ``quiet`` seconds without one."""
    busy_until, used = since, _cpu_seconds(pid)
    while time.perf_counter() - since < timeout:
        time.sleep(0.1)
        now, cpu = time.perf_counter(), _cpu_seconds(pid)
        if cpu - used > 0.01:
            busy_until = now
        used = cpu
        if now - busy_until >= quiet:
            return busy_until - since
    return float("inf")


TRACK_TABLE = "text=How far each source's forecasts were off"  # the Demand review's track record


def demand_right_after(db: Path, work: Path, *, kept: bool = True) -> dict:
    """A fresh server: the first page, then the Demand review at once (its track record is
    scored in the background from the end of the first page, and may not be done yet): seconds
    from the click to its run ended and its track record shown.

    ``kept``: with the prepared model kept beside the store (by ``plan`` or an earlier server),
    else without (the file removed first: the first process to show this data prepares it)."""
    from playwright.sync_api import sync_playwright

    if not kept:
        db.with_name(db.name + SUFFIX).unlink(missing_ok=True)
    proc, url = start("app.py", ROOT, {"SOP_DB": str(db)}, work / "app_right_after.log")
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1440, "height": 900})
            t0 = time.perf_counter()
            page.goto(url + "/", timeout=300_000)
            page.wait_for_selector(FIGURE, timeout=600_000)
            run_ended(page)
            first = since(t0)
            clicked = time.perf_counter()
            page.locator('[data-testid="stSidebarNav"]').get_by_text(
                "Demand review", exact=True
            ).click()
            page.wait_for_selector(TRACK_TABLE, timeout=300_000)
            run_ended(page)
            browser.close()
            return {"first_page_s": first, "demand_review_s": since(clicked)}
    finally:
        proc.terminate()
        proc.wait(timeout=60)


def app_figures(db: Path, work: Path, levers: int) -> dict:
    from playwright.sync_api import sync_playwright

    proc, url = start("app.py", ROOT, {"SOP_DB": str(db)}, work / "app.log")
    out: dict = {}
    watch = MemoryWatch(proc.pid)
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1440, "height": 900})
            t0 = time.perf_counter()
            watch.phase = "first page"
            page.goto(url + "/", timeout=300_000)
            page.wait_for_selector('h1:has-text("Executive summary")', timeout=300_000)
            out["first_title_s"] = since(t0)
            # the title comes before the plan: the first page counts until its figures are shown
            # and its run has ended
            page.wait_for_selector(FIGURE, timeout=600_000)
            run_ended(page)
            out["first_page_s"] = since(t0)
            print(f"  first page {out['first_page_s']:.1f} s (title at {out['first_title_s']:.1f} s)",
                  flush=True)  # fmt: skip
            # a large plan's cash range is drawn in the background after the figures
            watch.phase = "first page's cash range"
            page.wait_for_selector(PROGRESS, state="detached", timeout=900_000)
            run_ended(page)
            out["first_range_s"] = since(t0)
            print(f"  its cash range {out['first_range_s']:.1f} s", flush=True)
            nav = page.locator('[data-testid="stSidebarNav"] a')
            titles = [t.strip().splitlines()[-1].strip() for t in nav.all_inner_texts()]
            rounds: list[dict[str, float]] = []
            for k in range(2):
                watch.phase = ("first", "second")[k] + " visit of every page"
                times = {}
                for title in [*titles[1:], titles[0]]:
                    clicked = time.perf_counter()
                    page.locator('[data-testid="stSidebarNav"]').get_by_text(
                        title, exact=True
                    ).click()
                    try:
                        seen = shown(page, title)
                    except TimeoutError:  # said, and the next page measured all the same
                        seen = float("inf")
                    # the page counts until its server has finished working for it too
                    times[title] = max(seen, server_idle(proc.pid, clicked))
                    rss = vm_hwm_mb(proc.pid, "VmRSS")
                    print(f"    {title}: {times[title]:.2f} s (shown at {seen:.2f} s; server "
                          f"{rss:,.0f} MB)", flush=True)  # fmt: skip
                rounds.append(times)
            out["pages_first_visit_s"] = rounds[0]
            out["pages_after_s"] = rounds[1]
            page.locator('[data-testid="stSidebarNav"]').get_by_text(
                "Scenarios", exact=True
            ).click()
            shown(page, "Scenarios")
            field = page.get_by_label("Price change (%)", exact=True)
            field.wait_for(timeout=120_000)
            wait_idle(page)
            watch.phase = "lever changes"
            # ±10 %: a step that moves a large company's compact "Closing cash" (£1.2bn)
            values = [10.0 * (1 + i // 2) * (1 if i % 2 else -1) for i in range(levers + 1)]
            ms = [one_change(page, field, "Closing cash", v) for v in values]
            out["lever_ms"] = ms[1:]
            out["server_peak_mb"] = vm_hwm_mb(proc.pid)
            out["exceptions"] = page.locator('[data-testid="stException"]').count()
            browser.close()
    finally:
        out["memory_by_phase_mb"] = watch.stop()
        proc.terminate()
        proc.wait(timeout=30)
    log = (work / "app.log").read_text()
    out["tracebacks"] = log.count("Traceback")
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--skus", type=int, default=100_000)
    ap.add_argument("--months", type=int, default=36, help="plan months (the horizon)")
    ap.add_argument("--history", type=int, default=36, help="months of actuals before the plan")
    ap.add_argument("--resources", type=int, default=50)
    ap.add_argument("--levers", type=int, default=5)
    ap.add_argument("--keep", help="keep the store and the CSVs in this folder")
    ap.add_argument("--no-app", action="store_true", help="skip the app in the browser")
    ap.add_argument("--reuse", action="store_true", help="reuse --keep's CSVs if there")
    args = ap.parse_args(argv)
    work = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="bench_scale_"))
    work.mkdir(parents=True, exist_ok=True)
    db, csvs = work / "big.duckdb", work / "csv"
    try:
        t0 = time.perf_counter()
        tables, baselines = company(args.skus, args.months, args.resources, history=args.history)
        if not (args.reuse and (csvs / "forecasts.csv").exists()):
            write_csvs(tables, csvs)
        rows = {name: len(frame) for name, frame in tables.items()}
        size = sum(f.stat().st_size for f in csvs.iterdir()) / 1e6
        print(
            f"{args.skus:,} skus × {args.months} plan months × {args.resources} resources, "
            f"{args.history} months of actuals: {sum(rows.values()):,} rows in {size:,.0f} MB "
            f"of CSV (generated in {time.perf_counter() - t0:.0f} s)",
            flush=True,
        )
        print("  rows: " + ", ".join(f"{k} {v:,}" for k, v in rows.items()), flush=True)
        del tables
        for old in (db, db.with_name(db.name + SUFFIX), db.with_name(db.name + ".track.parquet")):
            old.unlink(missing_ok=True)  # a kept plan of an earlier run would not be read anyway
        timed_cli("init", "--db", str(db))
        wall, peak = timed_cli("import", "--db", str(db), str(csvs))
        print(f"import: {wall:.1f} s, peak {peak:,.0f} MB", flush=True)
        with Store(db) as store:
            store_baselines(store, baselines)
        print(f"  baselines stored: {len(baselines):,} rows", flush=True)
        del baselines
        wall, peak = timed_cli("plan", "--db", str(db), "--level", "company",
                               "--out", str(work / "company.csv"))  # fmt: skip
        print(f"plan --level company: {wall:.1f} s, peak {peak:,.0f} MB", flush=True)
        with Store(db, create=False) as store:
            reads = []
            for _ in range(5):
                t0 = time.perf_counter()
                load_plan_data(store)
                reads.append(time.perf_counter() - t0)
        print(f"store read (load_plan_data): median {statistics.median(reads):.2f} s, "
              f"min {min(reads):.2f} s", flush=True)  # fmt: skip
        print(f"  store file: {db.stat().st_size / 1e6:,.0f} MB", flush=True)
        if not args.no_app:
            out = app_figures(db, work, args.levers)
            after = out["pages_after_s"]
            print(f"app: first page {out['first_page_s']:.1f} s (its title at "
                  f"{out['first_title_s']:.1f} s, its cash range at {out['first_range_s']:.1f} s)",
                  flush=True)  # fmt: skip
            print("  first visit: " + ", ".join(
                f"{k} {v:.2f}" for k, v in out["pages_first_visit_s"].items()))  # fmt: skip
            print("  after:       " + ", ".join(f"{k} {v:.2f}" for k, v in after.items()))
            print(f"  every page after: max {max(after.values()):.2f} s, "
                  f"median {statistics.median(after.values()):.2f} s")  # fmt: skip
            lever = out["lever_ms"]
            print(f"  lever change on Scenarios: median {statistics.median(lever):.0f} ms, "
                  f"max {max(lever):.0f} ms ({len(lever)} changes)")  # fmt: skip
            print("  server memory, highest by phase: " + ", ".join(
                f"{k} {v:,.0f} MB" for k, v in out["memory_by_phase_mb"].items()))  # fmt: skip
            print(f"  server peak memory: {out['server_peak_mb']:,.0f} MB; "
                  f"exceptions {out['exceptions']}, tracebacks {out['tracebacks']}")  # fmt: skip
            for kept, what in ((True, "its model kept"), (False, "no model kept")):
                now = demand_right_after(db, work, kept=kept)
                print(f"app, a fresh server, {what}: first page {now['first_page_s']:.1f} s, then "
                      f"the Demand review at once: {now['demand_review_s']:.2f} s", flush=True)  # fmt: skip
        load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
        print(f"machine: {os.cpu_count()} CPUs, load average {load}")
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
