"""The S&OP cycle page: the rhythm, sign-off, lock and next cycle through the page (AppTest)."""

from pathlib import Path

import pytest
from _rhythm import make_store, restore_main  # noqa: F401 - autouse
from streamlit.testing.v1 import AppTest

from sop_core.store.db import Store

ROOT = Path(__file__).resolve().parent.parent
PAGE = str(ROOT / "pages" / "cycle.py")


@pytest.fixture
def db(tmp_path, monkeypatch):
    path = tmp_path / "plan.duckdb"
    make_store(path).close()
    monkeypatch.setenv("SOP_DB", str(path))
    return path


def _session(user: str) -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=30)
    at.session_state["user"] = user
    at.run()
    assert not at.exception, at.exception
    return at


def _texts(elements) -> list[str]:
    return [e.value for e in elements]


def test_page_shows_the_rhythm_and_the_four_steps(db):
    at = _session("Jane")
    assert at.title[0].value == "S&OP cycle"
    assert at.subheader[0].value.startswith("Cycle 2026-01 · step 1 of 4: Demand review (due 2 Jan")
    steps = at.dataframe[0].value
    assert steps["title"].tolist() == [
        "Demand review",
        "Supply review",
        "Integrated reconciliation",
        "Executive S&OP",
    ]
    assert "No earlier cycle has a locked plan yet" in " ".join(_texts(at.info))


def test_sign_off_lock_and_open_next_through_the_page(db):
    at = _session("Jane")
    at.button(key="cycle_sign_demand_review").click().run()
    assert not at.exception
    assert _texts(at.success) == ["Demand review of cycle 2026-01 signed off by Jane."]
    assert at.subheader[0].value.startswith("Cycle 2026-01 · step 2 of 4: Supply review")

    assert at.button(key="cycle_lock").disabled  # not before the meeting agreed it
    at.checkbox(key="cycle_lock_confirm").check().run()
    assert at.button(key="cycle_lock").disabled  # two steps are not signed off: no reason given
    assert "Not signed off yet: Supply review, Integrated reconciliation" in at.warning[0].value
    for step in ("supply_review", "reconciliation"):
        at.button(key=f"cycle_sign_{step}").click().run()
    assert not at.warning  # every step signed off: the lock needs no override
    at.button(key="cycle_lock").click().run()
    assert not at.exception
    assert _texts(at.success)[0].startswith("Cycle 2026-01 locked by Jane: the base plan")
    assert at.subheader[0].value.startswith("Cycle 2026-01 · locked by Jane on ")
    assert any("is locked (by Jane" in text for text in _texts(at.info))
    assert not [b for b in at.button if b.key and b.key.startswith("cycle_sign_")]

    at.button(key="cycle_open").click().run()
    assert not at.exception
    assert _texts(at.success)[0].startswith("Opened cycle 2026-02")
    assert at.subheader[0].value.startswith("Cycle 2026-02 · step 1 of 4")
    assert len(at.get("vega_lite_chart")) == 1  # the waterfall
    bridge = [d.value for d in at.dataframe if "Step" in d.value.columns]
    assert bridge and bridge[0]["Step"].tolist() == [
        "Plan 2026-01",
        "demand change",
        "price",
        "cost",
        "capacity",
        "timing",
        "Plan 2026-02",
    ]

    with Store(db) as store:
        log = store.audit_log()
    assert {("Jane", "sign off"), ("Jane", "lock"), ("Jane", "open")} <= set(
        zip(log["user_name"], log["action"], strict=True)
    )


def test_two_sessions_edit_the_same_step_the_later_is_refused(db):
    ann, bob = _session("Ann"), _session("Bob")
    ann.text_input(key="cycle_owner_supply_review").input("Head of Operations")
    ann.button(key="cycle_save_supply_review").click().run()
    assert _texts(ann.success) == [
        "Supply review: owner Head of Operations, due 9 Jan, not started."
    ]
    bob.text_input(key="cycle_owner_supply_review").input("COO")
    bob.button(key="cycle_save_supply_review").click().run()
    assert not bob.exception
    error = _texts(bob.error)[0]
    assert error.startswith('Ann saved the step "Supply review"')
    assert "owner is now Head of Operations" in error
    assert "Your owner COO was not saved" in error


def test_saving_a_signed_off_steps_owner_keeps_the_sign_off_and_reopen_needs_a_reason(db):
    at = _session("Jane")
    at.button(key="cycle_sign_demand_review").click().run()
    assert not [s for s in at.selectbox if s.key == "cycle_status_demand_review"]
    at.text_input(key="cycle_owner_demand_review").input("CMO")
    at.button(key="cycle_save_demand_review").click().run()
    assert not at.exception
    with Store(db) as store:
        row = store.query(
            "SELECT owner, status, signed_by FROM cycle_steps WHERE step = 'demand_review'"
        ).iloc[0]
    assert (row["owner"], row["status"], row["signed_by"]) == ("CMO", "signed off", "Jane")
    at.button(key="cycle_reopen_demand_review").click().run()  # no reason: refused
    assert "a reason of a few words is required" in _texts(at.error)[0]
    at.text_input(key="cycle_reopen_reason_demand_review").input("Sales sent a new forecast")
    at.button(key="cycle_reopen_demand_review").click().run()
    assert _texts(at.success) == [
        "Demand review of cycle 2026-01 reopened by Jane: Sales sent a new forecast"
    ]
    assert at.button(key="cycle_sign_demand_review")  # it can be signed off again


def test_an_executive_override_locks_with_its_reason(db):
    at = _session("Jane")
    at.checkbox(key="cycle_lock_confirm").check().run()
    at.text_input(key="cycle_lock_override").input("The board meets tomorrow").run()
    at.button(key="cycle_lock").click().run()
    assert not at.exception
    message = _texts(at.success)[0]
    assert message.startswith("Cycle 2026-01 locked by Jane")
    assert (
        "Locked with Demand review, Supply review, Integrated reconciliation not signed off: "
        "The board meets tomorrow" in message
    )


def test_a_rerun_after_typing_does_not_take_the_other_editors_version(db):
    # In a browser a text input reruns the page when it loses focus, before Save is clicked:
    # the save must still be checked against the version the inputs were loaded from.
    ann, bob = _session("Ann"), _session("Bob")
    ann.text_input(key="cycle_owner_supply_review").input("Head of Operations")
    ann.button(key="cycle_save_supply_review").click().run()
    bob.text_input(key="cycle_owner_supply_review").input("COO").run()
    bob.selectbox(key="cycle_status_supply_review").select("in progress").run()
    bob.button(key="cycle_save_supply_review").click().run()
    error = _texts(bob.error)[0]
    assert error.startswith('Ann saved the step "Supply review" at ')
    assert "since you loaded it" in error and "Your owner COO" in error
    with Store(db) as store:
        owner = store.scalar(
            "SELECT owner FROM cycle_steps WHERE cycle = '2026-01' AND step = 'supply_review'"
        )
    assert owner == "Head of Operations"
    # Reload shows what Ann stored; saving then is Bob's informed choice
    bob.button(key="cycle_reload_supply_review").click().run()
    assert bob.text_input(key="cycle_owner_supply_review").value == "Head of Operations"
    bob.text_input(key="cycle_owner_supply_review").input("COO").run()
    bob.button(key="cycle_save_supply_review").click().run()
    assert _texts(bob.success) == ["Supply review: owner COO, due 9 Jan, not started."]


def test_a_refused_action_shows_the_reason(db):
    at = _session("Jane")
    at.checkbox(key="cycle_lock_confirm").check().run()
    at.text_input(key="cycle_lock_override").input("The board meets tomorrow").run()
    with Store(db) as store:  # someone else locks it first, from another session
        from sop_core.meeting.cycles import lock_cycle

        lock_cycle(store, "2026-01", user="Kim", override="the test locks without sign-offs")
    at.button(key="cycle_lock").click().run()
    assert not at.exception
    assert _texts(at.error)[0].startswith("Cycle 2026-01 is locked (by Kim on ")


def test_empty_state_without_a_cycle(tmp_path, monkeypatch):
    path = tmp_path / "empty.duckdb"
    Store(path).close()
    monkeypatch.setenv("SOP_DB", str(path))
    at = AppTest.from_file(PAGE, default_timeout=30)
    at.run()
    assert not at.exception
    assert "There is no S&OP cycle yet" in at.info[0].value


def test_an_unnamed_session_cannot_sign_off(db):
    at = AppTest.from_file(PAGE, default_timeout=30)
    at.run()
    assert not at.exception
    assert "Enter your name in the sidebar" in at.warning[0].value
    assert at.button(key="cycle_sign_demand_review").disabled
    at.checkbox(key="cycle_lock_confirm").check().run()
    assert at.button(key="cycle_lock").disabled
