"""Scenarios page in headless Chromium: a person moves a lever and sees the figures change."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from sop_core import fmt
from sop_core.meeting.record import plan_for_store
from sop_core.store.db import Store
from tests._browser import CHROMIUM, CHROMIUM_ARGS, free_port

ROOT = Path(__file__).resolve().parent.parent

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="needs Debian's chromium"),
]


@pytest.fixture
def app(demo_store_file, tmp_path):
    """The app on a free loopback port against a copy of the demo store; yields (url, expected
    closing cash for a few lever sets, computed by the engine on another copy)."""
    db = tmp_path / "plan.duckdb"
    shutil.copy(demo_store_file, db)
    reference = tmp_path / "reference.duckdb"
    shutil.copy(db, reference)
    store = Store(reference)
    cur = store.settings().currency
    want = {
        levers: fmt.money(
            plan_for_store(store, lever_args=list(levers)).summary["closing_cash_end"], cur
        )
        for levers in [(), ("price_change_pct=-3",)]
    }
    store.close()

    port = free_port()
    env = dict(os.environ, SOP_DB=str(db), STREAMLIT_BROWSER_GATHER_USAGE_STATS="false")
    log = (tmp_path / "app.log").open("w")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "streamlit",
            "run",
            "app.py",
            "--server.headless=true",
            f"--server.port={port}",
            "--server.address=127.0.0.1",
            "--server.fileWatcherType=none",
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 60
        while True:
            try:
                with urllib.request.urlopen(url + "/_stcore/health", timeout=1):
                    break
            except OSError:
                if time.time() > deadline or proc.poll() is not None:
                    pytest.fail(f"the app did not start: {(tmp_path / 'app.log').read_text()}")
                time.sleep(0.2)
        yield url, want
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


def test_moving_a_lever_changes_the_figures(app):
    from playwright.sync_api import expect, sync_playwright

    url, want = app
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            page = browser.new_page(viewport={"width": 1440, "height": 900})
            page.goto(url + "/", timeout=90_000)
            # as a person would: from the home page, the Scenarios entry of the sidebar
            page.locator('[data-testid="stSidebarNav"] a', has_text="Scenarios").click(
                timeout=90_000
            )
            cash = page.locator('[data-testid="stMetric"]', has_text="Closing cash").locator(
                '[data-testid="stMetricValue"]'
            )
            expect(cash).to_have_text(want[()], timeout=90_000)

            price = page.get_by_label("Price change (%)", exact=True)
            price.fill("-3")
            price.press("Enter")
            expect(cash).to_have_text(want[("price_change_pct=-3",)], timeout=30_000)
            delta = page.locator('[data-testid="stMetric"]', has_text="Closing cash").locator(
                '[data-testid="stMetricDelta"]'
            )
            expect(delta).to_contain_text("£")

            # an impossible value: a message beside the input, the figures back at base
            price.fill("-150")
            price.press("Enter")
            expect(page.get_by_text("−150 % is impossible")).to_be_visible(timeout=30_000)
            expect(cash).to_have_text(want[()], timeout=30_000)
            assert page.locator('[data-testid="stException"]').count() == 0
        finally:
            browser.close()
