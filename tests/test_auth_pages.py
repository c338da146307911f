"""Sign-in and roles in the app (AppTest, sign-in simulated through ``at.user``): the gate, the
sidebar, sign-out, and each role's allowed and refused writes through the pages, table-driven.

The real OpenID Connect flow against a provider is in test_auth_oidc.py.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from _rhythm import make_store, restore_main  # noqa: F401 - autouse
from streamlit.testing.v1 import AppTest

from sop_core.meeting import roles
from sop_core.meeting.scenarios import save_scenario
from sop_core.plan.levers import parse_levers
from sop_core.store.db import Store
from ui import auth

ROOT = Path(__file__).resolve().parent.parent
APP = str(ROOT / "app.py")
# Placeholders only: AppTest never talks to a provider (st.user is simulated).
SECRETS = {
    "redirect_uri": "http://127.0.0.1:8501/oauth2callback",
    "cookie_secret": "placeholder-cookie-secret-for-tests-only",
    "client_id": "sop-cockpit",
    "client_secret": "placeholder",
    "server_metadata_url": "http://127.0.0.1:9/.well-known/openid-configuration",
}


def email(role: str) -> str:
    return f"{role}@example.com"


@pytest.fixture
def db(tmp_path, monkeypatch):
    """The small company, with one person per role (``sales@example.com`` is sales, …)."""
    path = tmp_path / "plan.duckdb"
    with make_store(path) as store:
        for role in roles.ROLES:
            roles.set_role(store, email(role), role, user="setup")
        levers = parse_levers(["price_change_pct=-3"])
        save_scenario(store, "2026-01", "Price cut", levers, author="setup")
    monkeypatch.setenv("SOP_DB", str(path))
    return path


def _session(script: str, user: dict, *, timeout: float = 60) -> AppTest:
    at = AppTest.from_file(script, default_timeout=timeout)
    at.secrets["auth"] = dict(SECRETS)
    at.user = dict(user)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


ISSUER = "https://login.example.com"


def _signed_in(role_or_email: str, **claims) -> dict:
    """What Streamlit keeps of a sign-in: the ID token's claims (iss, sub, iat, email …)."""
    address = role_or_email if "@" in role_or_email else email(role_or_email)
    user = {
        "is_logged_in": True,
        "email": address,
        "email_verified": True,
        "name": "Test",
        "iss": ISSUER,
        "sub": f"sub-{address.lower()}",
        "iat": int(time.time()) - 60,
    }
    return dict(user, **claims)


def _texts(elements) -> list[str]:
    """The texts as a person reads them: Markdown escapes (ui/text.plain) removed."""
    return [re.sub(r"\\(.)", r"\1", str(e.value)) for e in elements]


def _audit(db, action: str | None = None):
    with Store(db) as store:
        log = store.audit_log()
    return log if action is None else log[log["action"] == action]


# --- the gate ----------------------------------------------------------------------------------
def test_signed_out_sees_only_the_sign_in_screen(db):
    at = _session(APP, {"is_logged_in": False})
    assert _texts(at.title) == ["S&OP cockpit"]
    assert [b.label for b in at.button] == ["Sign in"]
    assert not at.sidebar.selectbox and not at.sidebar.text_input  # no cycle, family or name
    assert not at.dataframe and not at.metric and not at.error


def test_an_email_with_no_role_sees_only_a_refusal_and_may_sign_out(db):
    at = _session(APP, _signed_in("stranger@example.com"))
    assert _texts(at.title) == ["S&OP cockpit"]
    assert len(at.error) == 1 and "stranger@example.com, which has no role" in at.error[0].value
    assert [b.label for b in at.button] == ["Sign out"]
    assert not at.sidebar.selectbox and not at.dataframe and not at.metric
    at.run()  # logged once per session, not on every rerun
    refused = _audit(db, "refused")
    assert refused[["user_name", "entity"]].values.tolist() == [["stranger@example.com", "sign-in"]]
    at.button(key="auth_sign_out").click().run()
    assert at.user.get("is_logged_in") is False
    at.run()
    assert _texts(at.title) == ["S&OP cockpit"]
    assert [b.label for b in at.button] == ["Sign in"]


@pytest.mark.parametrize(
    ("claims", "says"),
    [
        ({"email_verified": False}, "does not vouch for this email"),
        ({"email_verified": "false"}, "does not vouch for this email"),  # a string is not true
        ({"email_verified": 0}, "does not vouch for this email"),
        ({"email_verified": "true"}, "does not vouch for this email"),  # nor is this one
        ({"email_verified": None}, "does not vouch for this email"),  # missing
        ({"email": None}, "no email"),
    ],
)
def test_an_unverified_or_missing_email_is_refused(db, claims, says):
    at = _session(APP, dict(_signed_in("admin"), **claims))
    assert says in at.error[0].value
    assert not at.sidebar.selectbox


def test_entra_ids_verified_domain_claim_counts_as_verified(db):
    at = _session(APP, _signed_in("finance", email_verified=None, xms_edov=True))
    assert at.title[0].value == "Executive summary"


def test_a_role_is_bound_to_the_first_account_and_another_account_is_refused(db):
    first = _session(APP, _signed_in("finance"))
    assert first.title[0].value == "Executive summary"
    bound = _audit(db, "bind")
    assert bound[["user_name", "new_value"]].values.tolist() == [
        ["finance@example.com", f"{ISSUER} sub-finance@example.com"]
    ]
    # another account at the provider whose email claim is the finance lead's address
    intruder = _signed_in("finance", sub="sub-intruder")
    for _ in range(2):  # two page loads: refused each time, logged once
        other = _session(APP, intruder)
        assert not other.sidebar.selectbox and not other.dataframe and not other.metric
        assert "from another account at the identity provider" in other.error[0].value
        assert [b.label for b in other.button] == ["Sign out"]
    refused = _audit(db, "refused")
    assert refused[["user_name", "entity", "item_key"]].values.tolist() == [
        ["finance@example.com", "sign-in", "finance@example.com"]
    ]
    assert "sub-intruder" in refused["new_value"].iloc[0]
    # the first account still gets in
    assert _session(APP, _signed_in("finance")).title[0].value == "Executive summary"


def test_a_sign_in_without_account_identifier_is_refused(db):
    at = _session(APP, _signed_in("finance", sub=None))
    assert "sent no account identifier" in at.error[0].value
    assert not at.sidebar.selectbox


def test_the_no_role_refusal_is_logged_once_per_sign_in_not_per_page_load(db):
    user = _signed_in("stranger@example.com")
    for _ in range(3):  # each page load is a new Streamlit session
        _session(APP, user)
    assert len(_audit(db, "refused")) == 1
    _session(APP, dict(user, iat=user["iat"] + 5))  # a new sign-in is logged again
    assert len(_audit(db, "refused")) == 2


def test_a_signed_out_sign_in_opens_nothing_again(db):
    user = _signed_in("stranger@example.com")
    at = _session(APP, user)
    at.button(key="auth_sign_out").click().run()
    assert _audit(db, "sign out")["user_name"].tolist() == ["stranger@example.com"]
    # the same cookie, copied before sign-out, in another browser
    again = _session(APP, user)
    assert [b.label for b in again.button] == ["Sign in"]
    assert "This sign-in was signed out" in again.info[0].value


def test_a_sign_in_older_than_the_session_limit_is_asked_again(db, monkeypatch):
    monkeypatch.setenv(auth.SESSION_HOURS_ENV, "2")
    old = _session(APP, _signed_in("finance", iat=int(time.time()) - 3 * 3600))
    assert [b.label for b in old.button] == ["Sign in"]
    assert "more than 2 hours old" in old.info[0].value
    fresh = _session(APP, _signed_in("finance", iat=int(time.time()) - 3600))
    assert fresh.title[0].value == "Executive summary"


@pytest.mark.parametrize(
    "headers",
    [
        {"X-Forwarded-For": "203.0.113.9", "Host": "127.0.0.1:8501"},
        {"Forwarded": "for=203.0.113.9", "Host": "127.0.0.1:8501"},
        {"Host": "sop.example.com"},
    ],
)
def test_local_mode_refuses_requests_through_a_proxy(tmp_path, monkeypatch, headers):
    path = tmp_path / "plan.duckdb"
    make_store(path).close()
    monkeypatch.setenv("SOP_DB", str(path))
    # AppTest sends no request headers: the app reads them through auth._request_headers
    monkeypatch.setattr(auth, "_request_headers", lambda: headers)
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    assert not at.exception
    assert "configure sign-in" in at.error[0].value
    assert not at.sidebar.text_input and not at.metric
    monkeypatch.setattr(auth, "_request_headers", lambda: {"Host": "localhost:8501"})
    local = AppTest.from_file(APP, default_timeout=60)
    local.run()
    assert not local.error and local.title[0].value == "Executive summary"


def test_sign_in_maps_the_role(db):
    at = _session(APP, _signed_in("Finance@Example.com"))
    assert at.title[0].value == "Executive summary"
    side = " ".join(_texts(at.sidebar.markdown) + _texts(at.sidebar.caption))
    assert "Signed in as **finance@example.com**" in side and "Role: finance" in side
    assert at.sidebar.button(key="auth_sign_out").label == "Sign out"
    assert not at.sidebar.text_input  # the name comes from sign-in, not the sidebar
    # (Signing out from the sidebar is clicked through in test_auth_oidc.py: AppTest runs a
    # multipage app's later runs without the router, so its sidebar is not there to click.)


def test_only_an_admin_may_use_the_admin_page(db):
    at = _session(str(ROOT / "pages" / "admin.py"), _signed_in("admin"))
    assert at.title[0].value == "Users and roles"
    assert "finance@example.com" in at.dataframe[0].value["email"].tolist()
    # A finance lead has no admin page in the navigation; reached anyway, it refuses (logged).
    page = _session(str(ROOT / "pages" / "admin.py"), _signed_in("finance"))
    assert page.error[0].value.startswith("Only admin may manage who has which role")
    assert not page.dataframe and not page.text_input
    assert _audit(db, "refused")["entity"].tolist() == ["roles:manage"]


def test_admin_page_gives_and_removes_roles_audited(db):
    at = _session(str(ROOT / "pages" / "admin.py"), _signed_in("admin"))
    at.text_input(key="admin_email").set_value("New.Person@Example.com")
    at.selectbox(key="admin_role").set_value("operations")
    at.button(key="admin_save").click().run()
    assert _texts(at.success) == ["new.person@example.com is now operations."]
    at.selectbox(key="admin_remove_email").set_value("admin@example.com")
    at.button(key="admin_remove").click().run()
    assert "last admin" in at.error[0].value
    with Store(db) as store:
        assert roles.role_of(store, "new.person@example.com") == "operations"
        assert roles.role_of(store, "admin@example.com") == "admin"
    row = _audit(db, "role").iloc[0]
    assert (row["user_name"], row["item_key"], row["new_value"]) == (
        "admin@example.com",
        "new.person@example.com",
        "operations",
    )


@pytest.mark.parametrize(
    ("address", "loopback"),
    [("127.0.0.1", True), ("localhost", True), ("::1", True), ("[::1]", True)]
    + [("0.0.0.0", False), ("", False), (None, False), ("192.168.1.20", False)],
)
def test_which_addresses_count_as_local(address, loopback):
    assert auth.is_loopback(address) is loopback


def test_local_mode_on_a_network_address_shows_nothing(db, monkeypatch):
    monkeypatch.setattr(auth, "_served_on_loopback", lambda: False)
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    assert "served on a network address without sign-in" in at.error[0].value
    assert not at.sidebar.selectbox and not at.metric


def test_local_mode_is_the_local_administrator(db):
    at = AppTest.from_file(APP, default_timeout=60)
    at.session_state["user"] = "Jane"
    at.run()
    assert not at.exception
    assert at.sidebar.text_input(key="user").value == "Jane"
    at.switch_page("pages/admin.py").run()
    assert at.title[0].value == "Users and roles" and not at.error
    assert "Sign-in is not configured" in at.info[0].value


# --- each role's writes through the pages ------------------------------------------------------
def _upload(table: str, text: str) -> Callable[[AppTest], None]:
    def drive(at: AppTest) -> None:
        at.file_uploader(key="data_upload").set_value((f"{table}.csv", text.encode(), "text/csv"))
        at.run()

    return drive


def _fill(**values) -> Callable[[AppTest], None]:
    """Type into the page's inputs; the click sends them (a form's inputs go with its button)."""

    def drive(at: AppTest) -> None:
        rerun = False
        for key, value in values.items():
            if key.endswith("confirm"):  # a checkbox that enables its button: needs a run
                at.checkbox(key=key).set_value(value)
                rerun = True
            elif key == "decisions_new_d_text" or key.startswith("boardpack_commentary_text"):
                at.text_area(key=key).input(value)
            else:
                at.text_input(key=key).input(value)
        if rerun:
            at.run()

    return drive


def _nothing(at: AppTest) -> None:
    pass


def _saved_view(at: AppTest) -> None:
    at.session_state["scenario_view"] = "Saved scenarios"
    at.run()


PAGE = {
    name: str(ROOT / "pages" / f"{name}.py")
    for name in ("cycle", "assumptions", "decisions", "data", "demand", "scenarios", "boardpack")
}
# action, page, what to fill in, the button, a text of success, one role allowed, one refused
PAGE_ACTIONS = [
    (
        "commentary:edit",
        "boardpack",
        _fill(boardpack_commentary_text_chair="The dip in cash is seasonal."),
        "boardpack_commentary_save",
        "Commentary saved",
        "finance",
        "viewer",
    ),
    (
        "step:update",
        "cycle",
        _fill(cycle_owner_demand_review="Head of Sales"),
        "cycle_save_demand_review",
        "owner Head of Sales",
        "sales",
        "viewer",
    ),
    (
        "step:signoff",
        "cycle",
        _nothing,
        "cycle_sign_demand_review",
        "signed off",
        "executive",
        "finance",
    ),
    (
        "cycle:lock",
        "cycle",
        _fill(cycle_lock_confirm=True, cycle_lock_override="The board meets tomorrow"),
        "cycle_lock",
        "locked by",
        "executive",
        "operations",
    ),
    ("cycle:open", "cycle", _nothing, "cycle_open", "2026-02", "admin", "sales"),
    (
        "assumption:edit",
        "assumptions",
        _fill(assumptions_new_name="Lead time", assumptions_new_value="6"),
        "assumptions_new_add",
        "Added",
        "operations",
        "viewer",
    ),
    (
        "decision:record",
        "decisions",
        _fill(decisions_new_d_text="Second shift", decisions_new_d_owner="Ops"),
        "decisions_new_d_add",
        "Decision logged",
        "executive",
        "finance",
    ),
    (
        "consensus:set",
        "demand",
        _fill(demand_consensus_reason="Sales inflates: take the baseline"),
        "demand_consensus_set",
        "set consensus",
        "sales",
        "operations",
    ),
    (
        "scenario:save",
        "scenarios",
        _fill(scenario_save_name="Volume push"),
        "scenario_save",
        'Saved "Volume push"',
        "finance",
        "viewer",
    ),
    (
        "scenario:promote",
        "scenarios",
        _saved_view,
        "scenario_promote",
        "is now the plan",
        "executive",
        "finance",
    ),
    (
        "import:forecasts",
        "data",
        _upload("forecasts", "cycle,month,sku,source,units\n2026-01,2026-02,A,sales,90\n"),
        "data_import",
        "Imported",
        "marketing",
        "finance",
    ),
    (
        "import:inventory",
        "data",
        _upload("inventory", "sku,on_hand_units\nA,5\nB,7\n"),
        "data_import",
        "Imported",
        "operations",
        "sales",
    ),
    (
        "import:cash_items",
        "data",
        _upload("cash_items", "month,item,amount\n2026-03,Capex,-500\n"),
        "data_import",
        "Imported",
        "finance",
        "operations",
    ),
]
CASES = [
    pytest.param(action, page, drive, key, done, role, ok, id=f"{action}-{role}")
    for action, page, drive, key, done, allowed, refused in PAGE_ACTIONS
    for role, ok in ((allowed, True), (refused, False))
]


def _messages(at: AppTest) -> str:
    return " | ".join(_texts(at.error) + _texts(at.success))


@pytest.mark.parametrize(("action", "page", "drive", "key", "done", "role", "ok"), CASES)
def test_a_role_may_or_may_not_through_the_page(db, action, page, drive, key, done, role, ok):
    at = _session(PAGE[page], _signed_in(role))
    drive(at)
    button = at.button(key=key)
    if ok:
        assert not button.disabled
        button.click().run()
        assert not at.error, _messages(at)
        last = _audit(db).iloc[0]
        # (the consensus page reruns after saving, so its message is the audit row)
        assert any(done in s for s in _texts(at.success)) or last["action"] == done, _messages(at)
        assert last["user_name"] == email(role) and last["action"] != "refused"
        return
    if not button.disabled:  # the page could not tell beforehand (an upload): the check refuses
        button.click().run()
    else:
        # The widget is greyed out, and Streamlit drops a disabled widget's clicks. The check
        # behind it still counts: an allowed person whose role is taken away while the page
        # is open is refused on the click.
        with Store(db) as store:
            roles.set_role(store, "switch@example.com", roles.ADMIN, user="setup")
        at = _session(PAGE[page], _signed_in("switch@example.com"))
        drive(at)
        with Store(db) as store:
            roles.set_role(store, "switch@example.com", role, user="admin@example.com")
        at.button(key=key).click().run()
    errors = _texts(at.error)
    if not errors and page == "demand":
        # A form's button read on this run: Streamlit drops the click of a widget disabled
        # in the run that reads it, so the role's refusal shows beside it and nothing is set.
        assert any(c.startswith("Only sales, marketing or admin") for c in _texts(at.caption))
        assert _audit(db, "set consensus").empty
        return
    assert len(errors) == 1 and errors[0].startswith("Only "), _messages(at)
    assert f"({role})." in errors[0] and "admin" in errors[0]
    refused = _audit(db, "refused").iloc[0]
    assert refused["entity"] == action
