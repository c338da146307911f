"""The command line beside the running app: import and board pack while it serves, the page shows the import."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from pypdf import PdfReader

from sop_core import fmt
from sop_core.bootstrap import DEMO_DIR
from tests._browser import HAVE_CHROMIUM, chromium, free_port, goto_when_up, wait_idle

playwright = pytest.importorskip("playwright.sync_api")

ROOT = Path(__file__).resolve().parent.parent
LOWEST = '[data-testid="stMetric"]:has-text("Lowest cash") [data-testid="stMetricValue"]'

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not HAVE_CHROMIUM, reason="needs Debian's chromium at /usr/bin/chromium"),
]


def _cli(db: Path, *args: str) -> subprocess.CompletedProcess:
    done = subprocess.run(
        [sys.executable, "-m", "sop_core", args[0], "--db", str(db), *args[1:]],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    return done


def _lowest_cash(db: Path, out: Path) -> float:
    _cli(db, "plan", "--level", "company", "--out", str(out))
    return float(pd.read_csv(out)["closing_cash"].min())


def _wait_idle(page, timeout: float = 120) -> None:
    wait_idle(page, timeout, '[data-testid="stElementContainer"]')


def test_cli_import_and_boardpack_while_the_app_runs(tmp_path, demo_store_file):
    db = tmp_path / "demo.duckdb"
    shutil.copy(demo_store_file, db)
    port = free_port()
    env = dict(os.environ, SOP_DB=str(db), STREAMLIT_BROWSER_GATHER_USAGE_STATS="false")
    log = open(tmp_path / "app.log", "w")  # noqa: SIM115 - closed in finally
    server = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless=true",
         f"--server.port={port}", "--server.fileWatcherType=none"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        with chromium() as browser:
            page = browser.new_page(viewport={"width": 1440, "height": 900})
            goto_when_up(page, f"http://127.0.0.1:{port}")
            page.wait_for_selector("h1:has-text('Executive summary')", timeout=120_000)
            _wait_idle(page)
            before = _lowest_cash(db, tmp_path / "before.csv")  # the CLI reads beside the app
            assert page.locator(LOWEST).inner_text() == fmt.money(before, "GBP")

            # A new opening cash, imported from the command line while the app serves.
            settings = pd.read_csv(DEMO_DIR / "settings.csv", dtype=str)
            opening = float(settings.loc[settings["key"] == "opening_cash", "value"].iloc[0])
            settings.loc[settings["key"] == "opening_cash", "value"] = str(opening + 1_000_000)
            folder = tmp_path / "import"
            folder.mkdir()
            settings.to_csv(folder / "settings.csv", index=False)
            done = _cli(db, "import", str(folder))
            assert f"settings {len(settings)} -> {len(settings)} rows" in done.stdout
            _cli(db, "boardpack", "--out", str(tmp_path / "pack.pdf"))
            after = _lowest_cash(db, tmp_path / "after.csv")
            # closing cash = opening cash + cumulative cash flow: every month up by 1,000,000
            assert after == pytest.approx(before + 1_000_000)

            # The app shows the import at the next interaction, without a restart.
            assert page.locator(LOWEST).inner_text() == fmt.money(before, "GBP")
            nav = page.locator('[data-testid="stSidebarNav"]')
            nav.get_by_text("Alignment", exact=True).click()
            _wait_idle(page)
            nav.get_by_text("Executive summary", exact=True).click()
            page.wait_for_selector(LOWEST, timeout=60_000)
            _wait_idle(page)
            assert page.locator(LOWEST).inner_text() == fmt.money(after, "GBP")
            assert page.locator('[data-testid="stException"]').count() == 0
        # the pack built beside the app carries the imported figure
        text = " ".join(pg.extract_text() for pg in PdfReader(tmp_path / "pack.pdf").pages)
        assert f"lowest {fmt.money(after, 'GBP')}" in " ".join(text.split())
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()
    assert "Traceback" not in (tmp_path / "app.log").read_text()
