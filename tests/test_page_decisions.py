"""The Assumptions and Decisions pages: register, drift, history, decision log, two sessions, the lock."""

from pathlib import Path

import pytest
from _rhythm import CYCLE, make_store, restore_main  # noqa: F401 - autouse
from streamlit.testing.v1 import AppTest

from sop_core.meeting import cycles, decisions, register
from sop_core.store.db import Store

ROOT = Path(__file__).resolve().parent.parent
ASSUMPTIONS = str(ROOT / "pages" / "assumptions.py")
DECISIONS = str(ROOT / "pages" / "decisions.py")


@pytest.fixture
def db(tmp_path, monkeypatch):
    path = tmp_path / "plan.duckdb"
    make_store(path).close()
    monkeypatch.setenv("SOP_DB", str(path))
    return path


def _with_store(db, fn):
    with Store(db) as store:
        return fn(store)


def _session(user: str, page: str = ASSUMPTIONS) -> AppTest:
    at = AppTest.from_file(page, default_timeout=30)
    at.session_state["user"] = user
    at.run()
    assert not at.exception, at.exception
    return at


def _metrics(at) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def _texts(elements) -> list[str]:
    return [e.value for e in elements]


def test_empty_register_and_log_say_what_to_do(db):
    at = _session("Jane")
    assert "The register is empty" in " ".join(_texts(at.info))
    assert _metrics(at)["Assumptions in force"] == "0"
    at = _session("Jane", DECISIONS)
    assert "No decisions logged in this cycle yet" in " ".join(_texts(at.info))
    assert _metrics(at)["Open decisions"] == "0"


def test_add_an_assumption_and_a_decision_through_the_page(db):
    at = _session("Jane")
    at.text_input(key="assumptions_new_name").input("Supplier X lead time")
    at.text_input(key="assumptions_new_value").input("6")
    at.text_input(key="assumptions_new_unit").input("weeks")
    at.text_input(key="assumptions_new_owner").input("Operations")
    at.button(key="assumptions_new_add").click().run()
    assert not at.exception
    assert _texts(at.success) == ['Added "Supplier X lead time" to the register of cycle 2026-01.']
    table = at.dataframe[0].value
    assert table[["assumption", "value", "owner", "by"]].values.tolist() == [
        ["Supplier X lead time", "6 weeks", "Operations", "Jane"]
    ]

    at = _session("Jane", DECISIONS)
    at.text_area(key="decisions_new_d_text").input("Add a second shift")
    at.text_input(key="decisions_new_d_owner").input("Head of Operations")
    at.button(key="decisions_new_d_add").click().run()
    assert not at.exception
    assert _texts(at.success) == ["Decision logged."]
    assert _metrics(at)["Open decisions"] == "1"
    did = _with_store(db, lambda s: int(decisions.list_decisions(s, CYCLE)["id"].iloc[0]))
    at.selectbox(key=f"decisions_d_status_{did}").select("done")
    at.button(key=f"decisions_d_save_{did}").click().run()
    assert not at.exception
    assert _texts(at.success) == ["Decision saved (done)."]
    assert _metrics(at)["Open decisions"] == "0"


def test_two_sessions_edit_the_same_assumption_the_later_save_is_refused(db):
    aid = _with_store(
        db,
        lambda s: register.add_assumption(
            s, CYCLE, name="Supplier X lead time", value="5", unit="weeks", user="ann"
        ),
    )
    jane, bob = _session("Jane"), _session("Bob")  # both load version 1

    jane.text_input(key=f"assumptions_value_{aid}").input("6")
    jane.button(key=f"assumptions_save_{aid}").click().run()
    assert _texts(jane.success) == ['Saved "Supplier X lead time" (and marked reviewed by Jane).']

    bob.text_input(key=f"assumptions_value_{aid}").input("8")
    bob.button(key=f"assumptions_save_{aid}").click().run()
    assert not bob.exception
    [error] = _texts(bob.error)
    assert error.startswith('Jane saved the assumption "Supplier X lead time" at ')
    assert error.endswith(
        "value is now 6 weeks (you loaded 5 weeks). "
        "Your value 8 weeks was not saved — reload and re-apply."
    )
    assert _with_store(db, lambda s: register.get_assumption(s, aid)["value"]) == "6"

    bob.button(key="assumptions_reload").click().run()  # reload shows the stored value
    assert bob.text_input(key=f"assumptions_value_{aid}").value == "6"
    bob.text_input(key=f"assumptions_value_{aid}").input("8")
    bob.button(key=f"assumptions_save_{aid}").click().run()
    assert not bob.error
    assert _with_store(db, lambda s: register.get_assumption(s, aid)["value"]) == "8"


def test_drift_is_flagged_and_charted_across_cycles(db):
    def history(store):
        register.add_assumption(store, CYCLE, name="Lead time", value="5", unit="weeks", user="a")
        cycles.open_next_cycle(store, user="kim")
        carried = int(store.scalar("SELECT id FROM assumptions WHERE cycle = '2026-02'"))
        register.update_assumption(store, carried, 1, {"value": "7"}, user="omar")

    _with_store(db, history)
    at = _session("Jane")
    assert _metrics(at)["Drifted beyond tolerance"] == "1"
    table = at.dataframe[0].value
    assert table["flag"].tolist() == ["⚠ drift"]
    assert table["previous"].tolist() == ["2026-01: 5"]
    assert at.selectbox(key="assumptions_history").value == "Lead time"
    assert len(at.get("vega_lite_chart")) == 1


def test_a_locked_cycle_refuses_edits_on_the_page(db):
    aid = _with_store(
        db, lambda s: register.add_assumption(s, CYCLE, name="Lead time", value="5", user="a")
    )
    at = _session("Jane")
    _with_store(
        db,
        lambda s: cycles.lock_cycle(
            s, CYCLE, user="Kim", override="the test locks without sign-offs"
        ),
    )
    at.text_input(key=f"assumptions_value_{aid}").input("9")
    at.button(key=f"assumptions_save_{aid}").click().run()
    assert not at.exception
    assert _texts(at.error)[0].startswith("Cycle 2026-01 is locked (by Kim on ")
    assert any("is locked (by Kim" in text for text in _texts(at.info))
    at.text_input(key="assumptions_new_name").input("New one")
    at.text_input(key="assumptions_new_value").input("1")
    at.button(key="assumptions_new_add").click().run()
    assert _texts(at.error)[0].startswith("Cycle 2026-01 is locked (by Kim on ")
    assert _with_store(db, lambda s: register.get_assumption(s, aid)["value"]) == "5"


def test_a_message_stays_until_dismissed_or_the_next_action(db):
    at = _session("Jane")
    at.text_input(key="assumptions_new_name").input("Lead time")
    at.text_input(key="assumptions_new_value").input("6")
    at.button(key="assumptions_new_add").click().run()
    assert _texts(at.success) == ['Added "Lead time" to the register of cycle 2026-01.']
    at.selectbox(key="assumptions_history").select("Lead time").run()  # not an action
    assert _texts(at.success) == ['Added "Lead time" to the register of cycle 2026-01.']
    at.text_input(key="assumptions_new_name").input("Steel price")
    at.text_input(key="assumptions_new_value").input("4")
    at.button(key="assumptions_new_add").click().run()  # the next action replaces it
    assert _texts(at.success) == ['Added "Steel price" to the register of cycle 2026-01.']
    at.button(key="assumptions_flash_dismiss").click().run()
    assert _texts(at.success) == []
