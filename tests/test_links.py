"""Assumptions that drive the plan: a register row linked to a setting or a lever is a plan input."""

import pandas as pd
import pytest
from _rhythm import CYCLE, make_store

from sop_core.errors import CycleLocked, SopError
from sop_core.meeting import cycles, register
from sop_core.meeting.record import plan_of_record
from sop_core.plan.links import NOT_LINKED, check_link, link_label, linked_inputs

FAMILIES, RESOURCES = ["F1", "F2"], ["Line"]


@pytest.mark.parametrize(
    ("link", "value", "message"),
    [
        ("dso_days", "sixty", "needs a number"),
        ("dso_days", "-5", "cannot be negative"),
        ("price_change_pct:F9", "2", 'no family "F9"'),
        ("capacity_change_pct:Oven", "10", 'no resource "Oven"'),
        ("price_change_pct:F1", "-150", "below -100"),
        ("lead_time", "6", "not something the plan reads"),
    ],
)
def test_a_link_that_cannot_be_a_plan_input_is_refused(link, value, message):
    with pytest.raises(SopError, match=message):
        check_link(link, value, FAMILIES, RESOURCES)


def test_linked_inputs_turn_rows_into_levers_and_settings():
    rows = pd.DataFrame(
        {
            "name": ["DSO", "Price", "Overtime", "Old family", "Fixed"],
            "value": ["60 days", "+2 %", "0", "5", "1,200"],
            "link": [
                "dso_days",
                "price_change_pct:F1",
                "capacity_change_pct:Line",  # 0 %: changes nothing, so no lever
                "price_change_pct:Gone",  # a family since removed: left out
                "fixed_costs_per_month",
            ],
        }
    )
    levers, settings = linked_inputs(rows, FAMILIES, RESOURCES)
    assert levers == {("price_change_pct", "F1", None): 2.0}
    assert settings == {"dso_days": 60.0, "fixed_costs_per_month": 1200.0}
    assert link_label(None) == NOT_LINKED == "not in the plan's arithmetic"
    assert link_label("price_change_pct:F1") == "Price change on F1"


@pytest.fixture
def store(tmp_path):
    s = make_store(tmp_path / "plan.duckdb")
    yield s
    s.close()


def test_changing_a_linked_dso_changes_the_plan_and_an_unlinked_one_does_not(store):
    # The rhythm store: 3 months × (A 100 × 10 + B 100 × 20) = 3,000 a month, no DSO (0 days).
    assert plan_of_record(store, CYCLE).result.company["receivables"].tolist() == [0, 0, 0]
    unlinked = register.add_assumption(store, CYCLE, name="Payment terms", value="45", user="a")
    assert plan_of_record(store, CYCLE).result.company["receivables"].tolist() == [0, 0, 0]
    linked = register.add_assumption(
        store, CYCLE, name="DSO", value="30", unit="days", link="dso_days", user="a"
    )
    # receivables = revenue × DSO / 30 = 3,000 × 30 / 30
    assert plan_of_record(store, CYCLE).result.company["receivables"].tolist() == [3000] * 3
    row = register.get_assumption(store, linked)
    register.update_assumption(store, linked, int(row["version"]), {"value": "45"}, user="cfo")
    record = plan_of_record(store, CYCLE)
    assert record.result.company["receivables"].tolist() == [4500] * 3  # 3,000 × 45 / 30
    assert record.model.settings.dso_days == 45
    table = register.register(store, CYCLE).set_index("name")
    assert table.loc["DSO", "link"] == "dso_days"
    assert pd.isna(table.loc["Payment terms", "link"])
    audit = store.query("SELECT detail FROM audit_log WHERE action = 'add' ORDER BY id")
    assert audit["detail"].tolist()[-1] == "linked to Customer payment terms (DSO)"
    assert unlinked != linked


def test_a_linked_lever_applies_under_the_promoted_scenario(store):
    register.add_assumption(
        store, CYCLE, name="Price rise", value="10", unit="%", link="price_change_pct:F1", user="a"
    )
    record = plan_of_record(store, CYCLE)
    # F1 = A (price 10): 3 × 100 × 11 = 3,300; F2 = B: 3 × 100 × 20 = 6,000
    assert record.result.summary["revenue"] == pytest.approx(9300)
    assert record.levers == {("price_change_pct", "F1", None): 10.0}


def test_a_linked_value_that_is_not_a_number_is_refused_and_a_locked_cycle_refuses_the_edit(store):
    aid = register.add_assumption(store, CYCLE, name="DSO", value="30", link="dso_days", user="a")
    row = register.get_assumption(store, aid)
    with pytest.raises(SopError, match="needs a number"):
        register.update_assumption(store, aid, int(row["version"]), {"value": "soon"}, user="b")
    assert register.get_assumption(store, aid)["value"] == "30"
    cycles.lock_cycle(store, CYCLE, user="Kim", override="the test locks without sign-offs")
    with pytest.raises(CycleLocked):
        register.update_assumption(store, aid, int(row["version"]), {"value": "45"}, user="b")
