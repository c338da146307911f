"""The assumption register: numbers in values, drift and staleness on hand-made histories, edits."""

import pandas as pd
import pytest
from _rhythm import CYCLE, make_store, tables_equal

from sop_core.errors import ConflictError, SopError
from sop_core.meeting import cycles, register
from sop_core.meeting.scenarios import promote_scenario, save_scenario


@pytest.fixture
def store(tmp_path):
    s = make_store(tmp_path / "plan.duckdb")
    yield s
    s.close()


@pytest.mark.parametrize(
    "value, number",
    [
        ("6", 6.0),
        ("6.5", 6.5),
        ("1,200", 1200.0),
        ("6 weeks", 6.0),
        ("-3 %", -3.0),
        ("£40", None),  # a currency sign before the number is text
        ("Q3", None),
        ("2026-11", None),
        ("12-14 weeks", None),
        ("", None),
        (None, None),
        (4.0, 4.0),
    ],
)
def test_numeric_value(value, number):
    assert register.numeric_value(value) == number


def _history(*rows) -> pd.DataFrame:
    """(cycle, name, value, reviewed_at, tolerance_pct) rows as register rows."""
    return pd.DataFrame(
        [
            {
                "cycle": c,
                "kind": "written",
                "name": n,
                "value": v,
                "reviewed_at": pd.Timestamp(r) if r else None,
                "tolerance_pct": t,
            }
            for c, n, v, r, t in rows
        ]
    )


# cycle 2026-11: "stale" = last reviewed before 2026-10-01 (the previous cycle's start)
@pytest.mark.parametrize(
    "rows, drift, stale, change",
    [
        # 5 -> 6 weeks: +20 % > 5 %
        (
            [("2026-10", "L", "5", "2026-10-20", None), ("2026-11", "L", "6", "2026-11-03", None)],
            True,
            False,
            20.0,
        ),
        # 100 -> 104: +4 % within 5 %
        (
            [
                ("2026-10", "L", "100", "2026-10-20", None),
                ("2026-11", "L", "104", "2026-11-03", None),
            ],
            False,
            False,
            4.0,
        ),
        # 100 -> 95: -5 % is not beyond 5 %
        (
            [
                ("2026-10", "L", "100", "2026-10-20", None),
                ("2026-11", "L", "95", "2026-11-03", None),
            ],
            False,
            False,
            -5.0,
        ),
        # its own tolerance of 2 % beats the default 5 %
        (
            [
                ("2026-10", "L", "100", "2026-10-20", None),
                ("2026-11", "L", "104", "2026-11-03", 2.0),
            ],
            True,
            False,
            4.0,
        ),
        # from 0 anything is drift
        (
            [("2026-10", "L", "0", "2026-10-20", None), ("2026-11", "L", "1", "2026-11-03", None)],
            True,
            False,
            float("inf"),
        ),
        # compared with the latest earlier cycle that has it (2026-09), not the first
        (
            [
                ("2026-08", "L", "6", "2026-10-20", None),
                ("2026-09", "L", "8", "2026-10-20", None),
                ("2026-11", "L", "8", "2026-11-03", None),
            ],
            False,
            False,
            0.0,
        ),
        # reviewed on the first day of the previous cycle: fresh enough
        (
            [("2026-10", "L", "6", "2026-10-01", None), ("2026-11", "L", "6", "2026-10-01", None)],
            False,
            False,
            0.0,
        ),
        # reviewed the day before the previous cycle began: stale
        (
            [("2026-10", "L", "6", "2026-09-30", None), ("2026-11", "L", "6", "2026-09-30", None)],
            False,
            True,
            0.0,
        ),
        # never reviewed: stale
        ([("2026-11", "L", "6", None, None)], False, True, None),
        # text values are not drift
        (
            [
                ("2026-10", "L", "Supplier A", "2026-10-20", None),
                ("2026-11", "L", "Supplier B", "2026-11-03", None),
            ],
            False,
            False,
            None,
        ),
    ],
)
def test_drift_and_stale_on_hand_made_histories(rows, drift, stale, change):
    flagged = register.flag_register(_history(*rows), "2026-11", 5.0)
    assert len(flagged) == 1
    row = flagged.iloc[0]
    assert bool(row["drift"]) is drift
    assert bool(row["stale"]) is stale
    if change is None:
        assert pd.isna(row["change_pct"])
    else:
        assert row["change_pct"] == pytest.approx(change)


def test_flag_text_says_why():
    flagged = register.flag_register(
        _history(
            ("2026-10", "Lead time", "5", "2026-09-15", None),
            ("2026-11", "Lead time", "6", "2026-09-15", None),
            ("2026-11", "New one", "x", "2026-11-02", None),
        ),
        "2026-11",
        5.0,
    ).set_index("name")
    assert flagged.loc["Lead time", "flag"] == (
        "drift: +20.0 % since 2026-10 (was 5; tolerance 5 %); "
        "stale: last reviewed 2026-09-15, more than one cycle ago"
    )
    assert flagged.loc["New one", "flag"] == "new this cycle"
    assert flagged.loc["Lead time", "previous_value"] == "5"


def test_register_lists_written_assumptions_and_the_promoted_levers(store):
    register.add_assumption(
        store,
        CYCLE,
        name="Supplier X lead time",
        value="6",
        unit="weeks",
        owner="Operations",
        rationale="Port congestion",
        evidence="Supplier letter",
        user="ann",
    )
    save_scenario(
        store,
        CYCLE,
        "Squeeze",
        {("price_change_pct", "F1"): -3.0, ("capacity_change_pct", None): 10.0},
        author="kim",
        note="Match the competitor",
    )
    promote_scenario(store, CYCLE, "Squeeze", user="kim")
    table = register.register(store, CYCLE)
    assert table[["kind", "name", "value", "unit"]].values.tolist() == [
        ["written", "Supplier X lead time", "6", "weeks"],
        ["scenario lever", "Capacity change", "10", "%"],
        ["scenario lever", "Price change · F1", "-3", "%"],
    ]
    levers = table[table["kind"] == "scenario lever"]
    assert set(levers["owner"]) == {"kim"}
    assert set(levers["evidence"]) == {'Scenario "Squeeze" (promoted)'}
    assert set(levers["rationale"]) == {"Match the competitor"}
    assert not table["stale"].any()


def test_history_and_drift_across_cycles_through_the_store(store):
    aid = register.add_assumption(
        store, CYCLE, name="Supplier X lead time", value="5", unit="weeks", user="ann"
    )
    cycles.lock_cycle(store, CYCLE, user="kim", override="the test locks without sign-offs")
    cycles.open_next_cycle(store, user="kim")
    carried = int(store.scalar("SELECT id FROM assumptions WHERE cycle = '2026-02'"))
    assert carried != aid
    register.update_assumption(store, carried, 1, {"value": "6"}, user="omar")
    table = register.register(store, "2026-02").set_index("name")
    assert bool(table.loc["Supplier X lead time", "drift"])
    assert table.loc["Supplier X lead time", "reviewed_by"] == "omar"
    history = register.assumption_history(store, "supplier x lead time")
    assert history[["cycle", "value", "number"]].values.tolist() == [
        ["2026-01", "5", 5.0],
        ["2026-02", "6", 6.0],
    ]


def test_history_chart_is_built():
    from sop_core.views.register_charts import assumption_history_chart

    history = pd.DataFrame(
        {
            "cycle": ["2026-10", "2026-11"],
            "value": ["5", "52.000000"],
            "number": [5.0, 52.0],
            "unit": ["weeks", "weeks"],
            "reviewed_at": [pd.Timestamp("2026-10-02"), None],
            "kind": ["written", "written"],
        }
    )
    spec = assumption_history_chart(history, "Lead time").to_dict()
    assert spec["layer"][0]["mark"]["type"] == "line"
    # the points are labelled with the number as written (52), not the stored text "52.000000"
    text = spec["layer"][2]["encoding"]["text"]
    assert (text["field"], text["format"]) == ("number", ",~g")


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"name": " ", "value": "6"}, "needs a name"),
        ({"name": "Lead time", "value": ""}, "needs a value"),
        ({"name": "lead TIME", "value": "7"}, "already in the register"),
        ({"name": "Other", "value": "7", "tolerance_pct": "five"}, "is not a number"),
    ],
)
def test_add_refuses_incomplete_or_duplicate_assumptions(store, kwargs, message):
    register.add_assumption(store, CYCLE, name="Lead time", value="6", user="ann")
    before = store.snapshot()
    with pytest.raises(SopError, match=message):
        register.add_assumption(store, CYCLE, user="ann", **kwargs)
    assert tables_equal(before, store.snapshot())


def test_two_sessions_edit_the_same_assumption_the_later_save_is_refused(store):
    aid = register.add_assumption(
        store, CYCLE, name="Supplier X lead time", value="5", unit="weeks", user="ann"
    )
    jane = register.get_assumption(store, aid)  # both load version 1
    bob = register.get_assumption(store, aid)

    register.update_assumption(
        store, aid, jane["version"], {"value": "6"}, user="Jane", loaded=jane
    )
    before = store.snapshot()
    with pytest.raises(ConflictError) as refused:
        register.update_assumption(
            store, aid, bob["version"], {"value": "8"}, user="Bob", loaded=bob
        )
    message = str(refused.value)
    assert message.startswith('Jane saved the assumption "Supplier X lead time" at ')
    assert message.endswith(
        "since you loaded it: value is now 6 weeks (you loaded 5 weeks). "
        "Your value 8 weeks was not saved — reload and re-apply."
    )
    assert tables_equal(before, store.snapshot())  # nothing lost, nothing overwritten
    assert register.get_assumption(store, aid)["value"] == "6"
    # Bob reloads and re-applies: accepted
    fresh = register.get_assumption(store, aid)
    register.update_assumption(store, aid, fresh["version"], {"value": "8"}, user="Bob")
    edits = store.audit_log()
    edits = edits[(edits["action"] == "edit") & (edits["entity"] == "assumption")]
    assert edits[["user_name", "old_value", "new_value"]].values.tolist() == [
        ["Bob", "6", "8"],
        ["Jane", "5", "6"],
    ]


def test_review_marks_reviewed_without_changing_the_value(store):
    aid = register.add_assumption(store, CYCLE, name="Lead time", value="6", user="ann")
    register.review_assumption(store, aid, 1, user="omar")
    row = register.get_assumption(store, aid)
    assert (row["value"], row["reviewed_by"], row["version"]) == ("6", "omar", 2)
    assert store.audit_log()["action"].iloc[0] == "review"


def test_delete_of_a_changed_assumption_is_refused(store):
    aid = register.add_assumption(store, CYCLE, name="Lead time", value="6", user="ann")
    register.update_assumption(store, aid, 1, {"value": "7"}, user="jane")
    with pytest.raises(ConflictError, match="it was not deleted"):
        register.delete_assumption(store, aid, 1, user="bob")
    register.delete_assumption(store, aid, 2, user="bob")
    assert register.get_assumption(store, aid) is None
