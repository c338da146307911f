"""A person's walk through the app in headless Chromium: first start on the demo, every page, the URL state."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from tests._browser import (
    CHROMIUM,
    chromium,
    free_port,
    goto_when_up,
    wait_for_port,
    wait_idle,
)

playwright = pytest.importorskip("playwright.sync_api")

ROOT = Path(__file__).resolve().parent.parent
# Page title in the navigation -> a text that page must show.
PAGES = {
    "Executive summary": "What the meeting must decide",
    "Alignment": "Every disagreement",
    "Scenarios": "Scenarios",
    "Demand review": "Track record",
    "Supply review": "Utilisation by resource",
    "Finance": "Bridge from budget to plan",
    "Performance review": "Is the plan getting more accurate?",
    "S&OP cycle": "cycle",
    "Assumptions": "Assumptions in force",
    "Decisions": "Open decisions",
    "Board pack": "Board pack",
    "Data": "What is loaded",
    "Audit log": "Audit",
}

APP_LOG: dict[str, tuple[Path, int]] = {}  # app url -> (its run.sh output, its port)

# Text a reader cannot see whole: an element that clips its overflow and whose text is wider
# than its box (metric labels, values and notes, headings, captions, buttons, table headers).
CUT_JS = """() => {
  const sel = '[data-testid=stMetricLabel] *, [data-testid=stMetricValue] *, [data-testid=stMetricValue],'
    + ' [data-testid=stMetricDelta] *, h1, h2, h3, [data-testid=stCaptionContainer] *, button p,'
    + ' [data-testid=stTable] th, [data-testid=stMarkdownContainer] p';
  const out = [];
  for (const el of document.querySelectorAll(sel)) {
    const cs = getComputedStyle(el);
    const clips = cs.textOverflow === 'ellipsis' || ['hidden', 'clip'].includes(cs.overflowX);
    if (clips && el.scrollWidth > el.clientWidth + 1 && el.innerText.trim()) out.push(el.innerText.trim().slice(0, 60));
  }
  return [...new Set(out)];
}"""

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not Path(CHROMIUM).exists(), reason="needs Debian's chromium at /usr/bin/chromium"
    ),
]


def _wait_idle(page, timeout: float = 90) -> None:
    """Until Streamlit has rendered and stopped running the script (no status widget, no spinner)."""
    wait_idle(page, timeout, '[data-testid="stApp"]', '[data-testid="stElementContainer"]')


def _main_text_with(page, text: str, timeout: float = 60) -> str:
    """The page's main text once it shows ``text`` (a page on a loaded machine may still be
    drawing its lower sections when the status widget has gone), or as it is at the timeout."""
    end = time.time() + timeout
    while True:
        main = page.locator('[data-testid="stMain"]').inner_text()
        if text.lower() in main.lower() or time.time() > end:
            return main
        time.sleep(0.5)


@pytest.fixture(scope="module")
def app_url(tmp_path_factory, demo_store_file):
    """The app started as the README says (run.sh), on a copy of the demo store, on a free loopback port."""
    folder = tmp_path_factory.mktemp("browser")
    db = folder / "demo.duckdb"
    shutil.copy(demo_store_file, db)
    port = free_port()
    env = dict(os.environ, SOP_DB=str(db), STREAMLIT_BROWSER_GATHER_USAGE_STATS="false")
    with open(folder / "app.log", "w") as log:
        proc = subprocess.Popen(
            [
                "bash",
                "run.sh",
                "--server.headless=true",
                f"--server.port={port}",
                "--server.fileWatcherType=none",
            ],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    APP_LOG[url] = (folder / "app.log", port)
    wait_for_port(port, 120)
    yield url
    proc.terminate()
    proc.wait(timeout=30)


@pytest.fixture(scope="module")
def browser():
    with chromium() as b:
        yield b


def test_a_shared_link_opens_inside_the_app_on_a_fresh_server(app_url, browser):
    """The server's very first request is a deep link: it must run inside the router, not alone."""
    page = browser.new_page(viewport={"width": 1440, "height": 900})
    page.goto(app_url + "/alignment?family=Towel+Rails", timeout=60_000)
    page.wait_for_selector("h1:has-text('Alignment')", timeout=90_000)
    _wait_idle(page)
    nav = page.locator('[data-testid="stSidebarNav"]').inner_text()
    assert (
        "Executive summary" in nav and "Supply review" in nav
    )  # the app's navigation, not a file list
    assert "family Towel Rails" in page.locator('[data-testid="stMain"]').inner_text()
    page.close()


def test_every_page_renders_without_exception(app_url, browser, tmp_path_factory):
    shots = Path(os.environ.get("SOP_SHOTS") or tmp_path_factory.mktemp("shots"))
    shots.mkdir(parents=True, exist_ok=True)
    page = browser.new_page(viewport={"width": 1440, "height": 900})
    page.goto(app_url, timeout=60_000)
    _wait_idle(page)
    nav = page.locator('[data-testid="stSidebarNav"]')
    for title, text in PAGES.items():
        nav.get_by_text(title, exact=True).click()
        _wait_idle(page)
        assert page.locator("h1").first.inner_text().strip() != "", title
        assert page.locator('[data-testid="stException"]').count() == 0, title
        main = _main_text_with(page, text)
        assert text.lower() in main.lower(), (title, text)
        page.screenshot(
            path=str(shots / f"{title.replace(' ', '_').replace('&', 'and')}.png"), full_page=True
        )
    page.close()


def test_run_sh_says_the_port_it_serves_on(app_url):
    log, port = APP_LOG[app_url]
    assert f"Starting the S&OP cockpit on http://localhost:{port} " in log.read_text()
    assert port != 8501  # a free port was passed, and that one is printed


def test_nothing_is_cut_off_on_a_projector(app_url, browser):
    """At 1280 × 720 every page's metric labels, values and notes, headings, captions, buttons and
    table headers show whole."""
    page = browser.new_page(viewport={"width": 1280, "height": 720})
    page.goto(app_url, timeout=60_000)
    _wait_idle(page)
    nav = page.locator('[data-testid="stSidebarNav"]')
    cut = {}
    for title in PAGES:
        nav.get_by_text(title, exact=True).click()
        _wait_idle(page)
        found = page.evaluate(CUT_JS)
        if found:
            cut[title] = found
    page.close()
    assert cut == {}


def test_summary_shows_the_demo_figures(app_url, browser):
    page = browser.new_page(viewport={"width": 1440, "height": 900})
    page.goto(app_url, timeout=60_000)
    _wait_idle(page)
    # the summary's last section may still be drawing on a loaded machine
    main = _main_text_with(page, "Last month against the plan")
    assert "Harlow & Finch" in main
    assert "Revenue vs budget" in main and "£" in main
    assert "What the meeting must decide" in main and "open root causes" in main
    assert "Last month against the plan" in main and "locked in cycle 2026-10" in main
    page.close()


def test_family_filter_is_kept_across_pages_and_in_the_url(app_url, browser):
    page = browser.new_page(viewport={"width": 1440, "height": 900})
    page.goto(app_url + "/?family=Smart+Controls", timeout=60_000)
    _wait_idle(page)
    page.locator('[data-testid="stSidebarNav"]').get_by_text("Alignment", exact=True).click()
    _wait_idle(page)
    assert "family=Smart" in page.url
    assert "Smart Controls" in page.locator('[data-testid="stMain"]').inner_text()
    # a link reopens the same view
    fresh = browser.new_page(viewport={"width": 1440, "height": 900})
    fresh.goto(page.url, timeout=60_000)
    _wait_idle(fresh)
    assert "family Smart Controls" in fresh.locator('[data-testid="stMain"]').inner_text()
    fresh.close()
    page.close()


def test_first_start_builds_the_demo_store(tmp_path, browser):
    """The README's first command on a machine with no store: the app builds it, then shows the demo."""
    db = tmp_path / "fresh.duckdb"
    port = free_port()
    env = dict(os.environ, SOP_DB=str(db), STREAMLIT_BROWSER_GATHER_USAGE_STATS="false")
    with open(tmp_path / "app.log", "w") as log:
        proc = subprocess.Popen(
            [
                "bash",
                "run.sh",
                "--server.headless=true",
                f"--server.port={port}",
                "--server.fileWatcherType=none",
            ],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        page = browser.new_page(viewport={"width": 1440, "height": 900})
        goto_when_up(page, f"http://127.0.0.1:{port}")
        # while the demo store is built, the sidebar lists no file names of pages/
        page.wait_for_selector('[data-testid="stSpinner"]', timeout=60_000)
        nav = page.locator('[data-testid="stSidebarNav"]')
        during = nav.inner_text() if nav.count() and nav.first.is_visible() else ""
        assert "summary" not in during and "alignment" not in during, during
        page.wait_for_selector("h1:has-text('Executive summary')", timeout=240_000)
        _wait_idle(page, timeout=120)
        main = page.locator('[data-testid="stMain"]').inner_text()
        assert "Harlow & Finch Heating Ltd" in main
        assert page.locator('[data-testid="stException"]').count() == 0
        assert db.exists()
        log_text = (tmp_path / "app.log").read_text()
        assert "Traceback" not in log_text, log_text[-2000:]
        page.close()
    finally:
        proc.terminate()
        proc.wait(timeout=30)
