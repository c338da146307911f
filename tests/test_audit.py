"""The audit log: every edit, import, sign-off and lock with the user's name; filters; the page."""

import datetime as dt
from pathlib import Path

import pytest
from _rhythm import CYCLE, make_store, restore_main  # noqa: F401 - autouse

from sop_core.meeting import cycles, decisions, register
from sop_core.store.audit import audit_entries, audit_facets

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def store(tmp_path):
    s = make_store(tmp_path / "plan.duckdb")  # imports as "setup"
    aid = register.add_assumption(s, CYCLE, name="Lead time", value="5", user="Ann")
    register.update_assumption(s, aid, 1, {"value": "6"}, user="Omar")
    decisions.add_decision(s, CYCLE, decision="Shift", owner="Ops", due="2026-02-01", user="Ann")
    cycles.sign_off(s, CYCLE, "demand_review", user="Sales lead")
    cycles.lock_cycle(s, CYCLE, user="Kim", override="the test locks without sign-offs")
    yield s
    s.close()


def test_every_kind_of_change_is_logged_with_its_user(store):
    log = audit_entries(store)
    seen = set(zip(log["user_name"], log["action"], log["entity"], strict=True))
    assert {
        ("setup", "import", "products"),
        ("Ann", "add", "assumption"),
        ("Omar", "edit", "assumption"),
        ("Ann", "add", "decision"),
        ("Sales lead", "sign off", "cycle step"),
        ("Kim", "sign off", "cycle step"),
        ("Kim", "lock", "cycle"),
    } <= seen
    assert log["id"].is_monotonic_decreasing  # newest first


@pytest.mark.parametrize(
    "filters, expected",
    [
        ({"users": ["Kim"]}, [("Kim", "lock"), ("Kim", "sign off")]),
        ({"users": "Omar"}, [("Omar", "edit")]),
        ({"actions": ["add"], "entities": "decision"}, [("Ann", "add")]),
        ({"users": ["Ann", "Omar"], "text": "lead time"}, [("Omar", "edit"), ("Ann", "add")]),
        ({"entities": ["cycle"]}, [("Kim", "lock")]),
        ({"start": dt.date(2000, 1, 1), "end": dt.date(2000, 12, 31)}, []),
        ({"users": ["nobody"]}, []),
    ],
)
def test_filters(store, filters, expected):
    frame = audit_entries(store, **filters)
    assert list(zip(frame["user_name"], frame["action"], strict=True)) == expected


def test_date_filter_includes_today_and_limit(store):
    today = dt.date.today()
    assert len(audit_entries(store, start=today, end=today)) == len(audit_entries(store))
    assert len(audit_entries(store, limit=2)) == 2


def test_facets(store):
    facets = audit_facets(store)
    assert facets["users"] == ["Ann", "Kim", "Omar", "Sales lead", "setup"]
    assert {"import", "lock", "sign off", "add", "edit"} <= set(facets["actions"])
    assert facets["first"] == facets["last"] == dt.date.today()


def test_audit_page_lists_and_filters(store, monkeypatch):
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("SOP_DB", str(store.path))
    store.close()  # the page opens the file itself
    at = AppTest.from_file(str(ROOT / "pages" / "audit.py"), default_timeout=30)
    at.run()
    assert not at.exception
    table = at.dataframe[0].value
    assert table["user_name"].iloc[0] == "Kim" and table["action"].iloc[0] == "lock"
    at.multiselect(key="audit_users").select("Omar").run()
    assert not at.exception
    assert at.dataframe[0].value[["user_name", "action"]].values.tolist() == [["Omar", "edit"]]
    at.text_input(key="audit_text").input("no such words").run()
    assert not at.dataframe and "No entries match" in at.info[0].value


def test_audit_page_empty_state(tmp_path, monkeypatch):
    from streamlit.testing.v1 import AppTest

    from sop_core.store.db import Store

    Store(tmp_path / "empty.duckdb").close()
    monkeypatch.setenv("SOP_DB", str(tmp_path / "empty.duckdb"))
    at = AppTest.from_file(str(ROOT / "pages" / "audit.py"), default_timeout=30)
    at.run()
    assert not at.exception
    assert "Nothing has been recorded yet" in at.info[0].value


def test_audit_download_quotes_text_that_starts_like_a_formula(store, monkeypatch):
    import csv
    import io

    import streamlit as st
    from streamlit.testing.v1 import AppTest

    register.add_assumption(store, "2026-02", name="Lead time", value="-5", owner="=1+1",
                            user="@attacker")  # fmt: skip
    monkeypatch.setenv("SOP_DB", str(store.path))
    store.close()
    sent: list[bytes] = []
    original = st.download_button

    def capture(label, data, *args, **kwargs):
        sent.append(data)
        return original(label, data, *args, **kwargs)

    monkeypatch.setattr(st, "download_button", capture)
    at = AppTest.from_file(str(ROOT / "pages" / "audit.py"), default_timeout=30)
    at.run()
    assert not at.exception
    rows = list(csv.DictReader(io.StringIO(sent[-1].decode("utf-8"))))
    added = next(r for r in rows if r["user_name"] == "'@attacker")
    assert added["new_value"] == "-5"  # a plain number is left as it is
    assert not any(v.startswith(("=", "+", "@")) for r in rows for v in r.values() if v)
