"""What the browser tests share: Debian's chromium and its flags, a free loopback port, waiting for a server and for a page, reading the store a served app holds."""

from __future__ import annotations

import shutil
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

CHROMIUM = "/usr/bin/chromium"
# Without the background-networking flags Chromium keeps trying to reach the internet.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
HAVE_CHROMIUM = Path(CHROMIUM).exists()


def free_port() -> int:
    """A loopback port nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# What Streamlit shows while a script runs: the page is "idle" once none of it shows for a while.
BUSY = '[data-testid="stStatusWidget"], [data-testid="stSpinner"], [data-testid="stSkeleton"]'


@contextmanager
def chromium() -> Iterator:
    """Headless Debian chromium with this sandbox's flags (a module's ``browser`` fixture)."""
    from playwright.sync_api import sync_playwright  # only the browser tests need playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


def wait_for_port(port: int, timeout: float, pause: float = 0.3) -> None:
    """Until something listens on the loopback ``port``, for at most ``timeout`` seconds (a
    server that never comes up then fails the page load that follows, with its reason)."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(pause)


def wait_idle(page, timeout: float, *ready: str) -> None:
    """Until each ``ready`` selector is on the page and Streamlit has stopped running the script
    (nothing of ``BUSY`` seen four times in a row, 0.2 s apart), for at most ``timeout`` s."""
    for selector in ready:
        page.wait_for_selector(selector, timeout=timeout * 1000)
    quiet, end = 0, time.time() + timeout
    while time.time() < end and quiet < 4:
        quiet = 0 if page.locator(BUSY).count() else quiet + 1
        time.sleep(0.2)


def goto_when_up(page, url: str, timeout: float = 60) -> None:
    """Open ``url`` once the server answers (it may still be starting), retrying every 0.5 s for
    at most ``timeout`` seconds; the last failure is raised."""
    deadline = time.time() + timeout
    while True:
        try:
            page.goto(url, timeout=5000)
            return
        except Exception:
            if time.time() > deadline:
                raise
            time.sleep(0.5)


@contextmanager
def store_copy(db: Path):
    """A ``Store`` on a copy of the file (and its write-ahead log) that a served app holds:
    DuckDB lets one program write the file."""
    from sop_core.store.db import Store

    copy = db.with_name(f"read_{time.time_ns()}.duckdb")
    shutil.copy(db, copy)
    wal = db.with_name(db.name + ".wal")
    if wal.exists():
        shutil.copy(wal, copy.with_name(copy.name + ".wal"))
    with Store(copy) as store:
        yield store
