"""The decision log: logging, open and overdue decisions, edits by two people, what a decision answers."""

import datetime as dt

import pandas as pd
import pytest
from _rhythm import CYCLE, make_store, tables_equal

from sop_core.errors import ConflictError, SopError
from sop_core.meeting import decisions
from sop_core.meeting.scenarios import save_scenario


@pytest.fixture
def store(tmp_path):
    s = make_store(tmp_path / "plan.duckdb")
    yield s
    s.close()


def _log(store, text, due, status="open", owner="Ops"):
    did = decisions.add_decision(store, CYCLE, decision=text, owner=owner, due=due, user="kim")
    if status != "open":
        decisions.update_decision(store, did, 1, {"status": status}, user="kim")
    return did


@pytest.mark.parametrize(
    "value, due",
    [
        ("2026-03-01", "2026-03-01"),
        (dt.date(2026, 3, 1), "2026-03-01"),
        (pd.Timestamp("2026-03-01 10:00"), "2026-03-01"),
        ("2026-03-01T09:00", "2026-03-01"),
    ],
)
def test_parse_due(value, due):
    assert decisions.parse_due(value) == due


@pytest.mark.parametrize("value", ["next week", "", None, "2026-02-30"])
def test_parse_due_refuses_what_is_not_a_date(value):
    with pytest.raises(SopError, match="is not a date"):
        decisions.parse_due(value)


def test_open_decisions_soonest_first_with_overdue(store):
    _log(store, "Second shift", "2026-02-20")
    _log(store, "Price rise", "2026-02-05")
    _log(store, "Done already", "2026-01-30", status="done")
    _log(store, "Not doing it", "2026-01-30", status="dropped")
    _log(store, "Hire planner", "2026-02-10", status="in progress")
    frame = decisions.open_decisions(store, CYCLE, today=dt.date(2026, 2, 11))
    assert frame[["decision", "status", "overdue"]].values.tolist() == [
        ["Price rise", "open", True],
        ["Hire planner", "in progress", True],
        ["Second shift", "open", False],
    ]
    assert frame["taken_in"].tolist() == [CYCLE] * 3


def test_add_is_audited_with_owner_due_and_answer(store):
    decisions.add_decision(
        store,
        CYCLE,
        decision="Add a second shift",
        owner="Head of Operations",
        due="2026-03-01",
        answers="Disagreement: capacity overload · Line 2 · 2026-03",
        user="Kim",
    )
    row = store.audit_log().iloc[0]
    assert (row["user_name"], row["action"], row["entity"]) == ("Kim", "add", "decision")
    assert row["new_value"] == "Add a second shift"
    assert row["detail"] == (
        "owner Head of Operations, due 2026-03-01, "
        "answers Disagreement: capacity overload · Line 2 · 2026-03"
    )


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"decision": "", "owner": "o", "due": "2026-03-01"}, "needs its text"),
        ({"decision": "d", "owner": " ", "due": "2026-03-01"}, "needs an owner"),
        ({"decision": "d", "owner": "o", "due": "soon"}, "is not a date"),
        ({"decision": "d", "owner": "o", "due": "2026-03-01", "status": "maybe"}, "is not one of"),
    ],
)
def test_add_refuses_an_incomplete_decision(store, kwargs, message):
    before = store.snapshot()
    with pytest.raises(SopError, match=message):
        decisions.add_decision(store, CYCLE, user="kim", **kwargs)
    assert tables_equal(before, store.snapshot())


def test_two_sessions_edit_the_same_decision_the_later_save_is_refused(store):
    did = _log(store, "Second shift", "2026-03-01")
    ann = decisions.get_decision(store, did)
    bob = decisions.get_decision(store, did)
    decisions.update_decision(
        store, did, ann["version"], {"due": "2026-04-01"}, user="Ann", loaded=ann
    )
    before = store.snapshot()
    with pytest.raises(ConflictError) as refused:
        decisions.update_decision(
            store, did, bob["version"], {"due": "2026-02-15"}, user="Bob", loaded=bob
        )
    message = str(refused.value)
    assert message.startswith('Ann saved the decision "Second shift" at ')
    assert "due is now 2026-04-01 (you loaded 2026-03-01)" in message
    assert message.endswith("Your due 2026-02-15 was not saved — reload and re-apply.")
    assert tables_equal(before, store.snapshot())


def test_a_status_change_is_audited_as_status(store):
    did = _log(store, "Second shift", "2026-03-01")
    decisions.update_decision(
        store, did, 1, {"status": "done", "note": "Started 2 Mar"}, user="Ops"
    )
    log = store.audit_log().head(2).sort_values("id")
    assert log[["action", "old_value", "new_value", "detail"]].values.tolist() == [
        ["status", "open", "done", "field status"],
        ["edit", "", "Started 2 Mar", "field note"],
    ]
    assert decisions.open_decisions(store, CYCLE).empty


def test_answer_options_list_scenarios_and_the_biggest_disagreements(store):
    save_scenario(store, CYCLE, "Price -3%", {("price_change_pct", None): -3.0}, author="kim")
    found = pd.DataFrame(
        {
            "type": ["unmet_demand", "capacity_overload"],
            "entity": ["A", "Line 2"],
            "month": ["2026-03", "2026-04"],
            "money_at_stake": [1_000.0, 50_000.0],
        }
    )
    assert decisions.answer_options(store, CYCLE, found) == [
        "Scenario: Price -3%",
        "Disagreement: capacity overload · Line 2 · 2026-04",
        "Disagreement: unmet demand · A · 2026-03",
    ]
    assert decisions.answer_options(store, CYCLE) == ["Scenario: Price -3%"]


def test_delete_needs_the_loaded_version(store):
    did = _log(store, "Typo", "2026-03-01")
    decisions.update_decision(store, did, 1, {"decision": "Typo fixed"}, user="ann")
    with pytest.raises(ConflictError, match="not deleted"):
        decisions.delete_decision(store, did, 1, user="bob")
    decisions.delete_decision(store, did, 2, user="bob")
    assert decisions.list_decisions(store, CYCLE).empty
