"""Sign-in for real: the app served with OpenID Connect settings against a local test provider
(oidc-provider-mock on loopback), clicked through in headless Chromium as a person would.

One provider and one app server for the module; each test is a fresh browser context (no
cookies). The provider's authorization page takes any subject; the email claim is that subject.
"""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest

from sop_core.meeting import roles
from sop_core.store.db import Store
from tests._browser import (
    CHROMIUM,
    chromium,
    free_port,
    store_copy,
    wait_for_port,
    wait_idle,
)

playwright = pytest.importorskip("playwright.sync_api")
oidc_provider_mock = pytest.importorskip("oidc_provider_mock")

ROOT = Path(__file__).resolve().parent.parent
EXECUTIVE = "erin.exec@example.com"
OPERATIONS = "olga.ops@example.com"

pytestmark = [
    pytest.mark.browser,
    # The test provider runs on Authlib's older server interfaces; its warnings are not ours.
    pytest.mark.filterwarnings("ignore::DeprecationWarning"),
    pytest.mark.skipif(
        not Path(CHROMIUM).exists(), reason="needs Debian's chromium at /usr/bin/chromium"
    ),
]


# Streamlit's command line, with every thread's stack written to the log on SIGUSR1: a test that
# failed asks for them, to tell a slow page from a server whose scripts are stuck.
SERVE_WITH_STACKS = (
    "import faulthandler, signal, sys; faulthandler.register(signal.SIGUSR1, all_threads=True); "
    "from streamlit.web.cli import main; sys.argv[0] = 'streamlit'; sys.exit(main())"
)


@pytest.fixture(scope="module")
def provider():
    """The test identity provider on a free loopback port, in a thread of this process."""
    with oidc_provider_mock.run_server_in_thread() as server:
        yield f"http://localhost:{server.server_port}"


@pytest.fixture(scope="module")
def served(tmp_path_factory, demo_store_file, provider):
    """The app on a copy of the demo store, sign-in configured through a secrets file of its own."""
    folder = tmp_path_factory.mktemp("oidc")
    db = folder / "demo.duckdb"
    shutil.copy(demo_store_file, db)
    with Store(db) as store:
        roles.set_role(store, "admin@example.com", "admin", user="tests")
        roles.set_role(store, EXECUTIVE, "executive", user="admin@example.com")
        roles.set_role(store, OPERATIONS, "operations", user="admin@example.com")
    port = free_port()
    app = f"http://localhost:{port}"
    secret = {"cookie": secrets.token_urlsafe(32), "client": secrets.token_urlsafe(24)}
    (folder / "secrets.toml").write_text(
        "[auth]\n"
        f'redirect_uri = "{app}/oauth2callback"\n'
        f'cookie_secret = "{secret["cookie"]}"\n'
        'client_id = "sop-cockpit"\n'
        f'client_secret = "{secret["client"]}"\n'
        f'server_metadata_url = "{provider}/.well-known/openid-configuration"\n'
    )
    env = dict(os.environ, SOP_DB=str(db), STREAMLIT_BROWSER_GATHER_USAGE_STATS="false")
    log_path = folder / "app.log"
    with open(log_path, "w") as log:
        proc = subprocess.Popen(
            [
                str(ROOT / ".venv" / "bin" / "python"),
                "-c",
                SERVE_WITH_STACKS,
                "run",
                "app.py",
                "--server.headless=true",
                f"--server.port={port}",
                f"--secrets.files={folder / 'secrets.toml'}",
                # a served cockpit does not reload its code: files that other tests write
                # beside it must not restart its scripts
                "--server.fileWatcherType=none",
            ],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    wait_for_port(port, 60, pause=0.2)
    yield {
        "url": app,
        "db": db,
        "log": log_path,
        "secrets": secret,
        "provider": provider,
        "proc": proc,
    }
    proc.terminate()
    proc.wait(timeout=30)


@pytest.fixture(autouse=True)
def _server_report(request):
    """After each test, the app server's state and the end of its log: pytest prints them only
    when the test failed, to tell a slow page from a server that stopped."""
    yield
    failed = getattr(request.node, "report_call", None)
    if "served" not in request.fixturenames or failed is None or not failed.failed:
        return
    served = request.getfixturevalue("served")
    code = served["proc"].poll()
    print("app server:", "running" if code is None else f"ended with exit code {code}")
    if code is None:
        served["proc"].send_signal(signal.SIGUSR1)
        time.sleep(1)
    print("app log (last 4,000 characters):")
    print(served["log"].read_text()[-4000:])


@pytest.fixture(scope="module")
def browser():
    with chromium() as b:
        yield b


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    page = context.new_page()
    yield page
    try:  # printed by pytest only when the test failed: what the page showed at the end
        shown = page.locator('[data-testid="stApp"]').inner_text(timeout=5000)
        print("page", page.url, "shows:", shown[:2000])
    except Exception as exc:  # noqa: BLE001 - a report, never a second failure
        print("page", page.url, "could not be read:", exc)
    context.close()


def _main_text(page) -> str:
    return page.locator('[data-testid="stMain"]').inner_text()


def _account(provider: str, sub: str, **claims) -> None:
    """An account at the test provider: subject ``sub`` with these claims (default: its own
    address as a verified email)."""
    import httpx

    body = {"email": sub, "email_verified": True, **claims}
    httpx.put(f"{provider}/users/{sub}", json=body, timeout=10).raise_for_status()


def _sign_in(page, app: str, email: str, provider: str | None = None) -> None:
    """From the app's sign-in screen through the provider's authorization page and back."""
    if provider is not None and "@" in email:
        _account(provider, email)
    page.goto(app, timeout=60_000)
    page.get_by_role("button", name="Sign in").click(timeout=60_000)
    page.get_by_placeholder("sub").fill(email, timeout=30_000)  # the provider's own page
    page.get_by_role("button", name="Authorize").click()
    page.wait_for_url(f"{app}/**", timeout=30_000)


def _audit(db: Path, until=lambda log: True, timeout: float = 30):
    """The audit log, newest first, read from a copy of the store (DuckDB lets one program
    write the file), once ``until(log)`` holds or ``timeout`` seconds have passed: the page may
    show a refusal before the app's write of it is committed."""
    deadline = time.monotonic() + timeout
    while True:
        with store_copy(db) as store:
            log = store.audit_log()
        if until(log) or time.monotonic() > deadline:
            return log
        time.sleep(0.5)


def _newest_is(action: str):
    return lambda log: len(log) > 0 and log.iloc[0]["action"] == action


def _refused_sign_in(user: str):
    return lambda log: (
        (log["action"] == "refused") & (log["entity"] == "sign-in") & (log["user_name"] == user)
    ).any()


def test_signed_out_sees_only_the_sign_in_screen_even_on_a_deep_link(served, page):
    page.goto(served["url"] + "/finance?family=Towel+Rails", timeout=60_000)
    page.get_by_role("button", name="Sign in").wait_for(timeout=60_000)
    time.sleep(1)  # nothing else arrives after it
    assert "Sign in with your company account" in _main_text(page)
    assert page.locator('[data-testid="stSidebarNav"]').count() == 0
    assert page.locator('[data-testid="stDataFrame"], [data-testid="stMetric"]').count() == 0
    assert "Finance" not in _main_text(page)


def test_sign_in_through_the_provider_maps_the_role_audits_the_email_and_signs_out(served, page):
    app = served["url"]
    _sign_in(page, app, EXECUTIVE, served["provider"])
    sidebar = page.locator('[data-testid="stSidebar"]')
    sidebar.get_by_text(f"Signed in as {EXECUTIVE}").wait_for(timeout=60_000)
    assert "Role: executive" in sidebar.inner_text()
    assert "Users and roles" not in sidebar.inner_text()  # the admin page is for admins

    # An executive signs off a step: the audit log names the signed-in email.
    page.goto(app + "/cycle", timeout=60_000)
    page.get_by_role("heading", name="Sign off a step").wait_for(timeout=60_000)
    page.locator("button:not([disabled])").filter(has_text="Sign off").first.click()
    page.get_by_text(f"of cycle 2026-11 signed off by {EXECUTIVE}").wait_for(timeout=60_000)
    last = _audit(served["db"], _newest_is("sign off")).iloc[0]
    assert (last["user_name"], last["action"]) == (EXECUTIVE, "sign off")

    # Signing out ends the provider's session and returns to the sign-in screen.
    page.locator('[data-testid="stSidebar"]').get_by_role("button", name="Sign out").click()
    page.get_by_role("button", name="End session").click(timeout=30_000)
    page.get_by_role("button", name="Sign in").wait_for(timeout=60_000)
    assert "Sign in with your company account" in _main_text(page)
    page.goto(app + "/cycle", timeout=60_000)  # and the cookie is gone
    page.get_by_role("button", name="Sign in").wait_for(timeout=60_000)


def test_an_email_with_no_role_sees_only_a_refusal(served, page):
    _sign_in(page, served["url"], "stranger@example.com", served["provider"])
    page.get_by_text("which has no role in this cockpit").wait_for(timeout=60_000)
    page.get_by_role("button", name="Sign out").wait_for(timeout=30_000)
    assert page.locator('[data-testid="stSidebarNav"]').count() == 0
    assert page.locator('[data-testid="stDataFrame"], [data-testid="stMetric"]').count() == 0
    refused = _audit(served["db"], _refused_sign_in("stranger@example.com"))
    refused = refused[refused["action"] == "refused"]
    assert ["stranger@example.com", "sign-in"] in refused[["user_name", "entity"]].values.tolist()


def test_a_refused_import_says_who_may_and_no_secret_reaches_the_log(served, page, tmp_path):
    _sign_in(page, served["url"], OPERATIONS, served["provider"])
    page.locator('[data-testid="stSidebar"]').get_by_text("Role: operations").wait_for(
        timeout=60_000
    )
    page.goto(served["url"] + "/data", timeout=60_000)
    page.get_by_text("may import: products, actuals, inventory").wait_for(timeout=60_000)
    wait_idle(page, 60, '[data-testid="stFileUploader"]')
    budget = tmp_path / "budget.csv"
    budget.write_text("month,family,revenue,gross_margin\n2027-01,Towel Rails,1,1\n")
    page.locator('[data-testid="stFileUploader"] input[type="file"]').set_input_files(budget)
    page.get_by_text("budget.csv").first.wait_for(timeout=30_000)
    # the button is enabled by the run that the upload starts
    page.locator('button[data-testid="stBaseButton-primary"]:not([disabled])').filter(
        has_text="Import"
    ).wait_for(timeout=60_000)
    page.get_by_role("button", name="Import", exact=True).click(timeout=30_000)
    page.get_by_text("Only finance or admin may import budget").wait_for(timeout=60_000)
    assert f"you are signed in as {OPERATIONS} (operations)." in _main_text(page)
    last = _audit(served["db"], _newest_is("refused")).iloc[0]
    assert (last["user_name"], last["action"], last["entity"]) == (
        OPERATIONS,
        "refused",
        "import:budget",
    )
    log = served["log"].read_text()
    for value in served["secrets"].values():
        assert value not in log
    assert "Traceback" not in log


def test_an_unverified_email_claim_is_refused_even_as_a_string(served, page):
    _account(served["provider"], "mallory", email=OPERATIONS, email_verified="false")
    _sign_in(page, served["url"], "mallory")
    page.get_by_text("does not vouch for this email address").wait_for(timeout=60_000)
    assert page.locator('[data-testid="stSidebarNav"]').count() == 0
    assert page.locator('[data-testid="stDataFrame"], [data-testid="stMetric"]').count() == 0


def test_another_account_with_someones_email_does_not_get_their_role(served, page, browser):
    # the executive signs in first: the role is bound to that account (issuer, subject)
    first = browser.new_context().new_page()
    _sign_in(first, served["url"], EXECUTIVE, served["provider"])
    first.locator('[data-testid="stSidebar"]').get_by_text("Role: executive").wait_for(
        timeout=60_000
    )
    first.context.close()
    # another account at the provider whose email claim is the executive's address
    _account(served["provider"], "impostor", email=EXECUTIVE)
    _sign_in(page, served["url"], "impostor")
    page.get_by_text("from another account at the identity provider").wait_for(timeout=60_000)
    assert page.locator('[data-testid="stSidebarNav"]').count() == 0
    refused = _audit(served["db"], _refused_sign_in(EXECUTIVE))
    refused = refused[(refused["action"] == "refused") & (refused["entity"] == "sign-in")]
    assert EXECUTIVE in refused["user_name"].tolist()
    assert any("impostor" in str(v) for v in refused["new_value"])
