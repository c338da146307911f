"""The performance review: plan against actual, the revenue split, assumptions tested, decisions judged.

Hand-computed on the small company of ``_rhythm``: products A (price 10, cost 4 + 1) and B (price
20, cost 8 + 2), 100 units of each a month, no stock cover, no payment terms, so the locked plan
of cycle 2026-01 ships 200 units and books revenue 3,000, cost 1,500, gross margin 1,500 each
month of 2026-02 … 2026-04, and closing cash 1,000 + 1,500 a month.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
from _rhythm import CYCLE, make_store, restore_main  # noqa: F401 - autouse

from sop_core.cli import main
from sop_core.errors import ImportRejected, SopError
from sop_core.intake.importer import import_paths
from sop_core.meeting import cycles, decisions
from sop_core.meeting.outcomes import set_expected_effect, verdict
from sop_core.plan.assumption_check import assumption_tests
from sop_core.plan.disagreements import disagreement_totals, totals_of_table
from sop_core.plan.engine import compute
from sop_core.plan.model import prepare
from sop_core.store.db import Store
from sop_core.store.plandata import plan_data_from_frames
from sop_core.views import review as rv

OVERRIDE = "the test locks without the reviews signed off"
NEXT = "2026-02"


# --- a locked plan against the actuals ----------------------------------------------------------


def _write(folder, **tables: str):
    folder.mkdir(exist_ok=True)
    for name, text in tables.items():
        (folder / f"{name}.csv").write_text(text, encoding="utf-8")
    return folder


ACTUALS = "month,sku,units\n2026-02,A,90\n2026-02,B,120\n"
FINANCIAL = (
    "month,revenue,gross_margin,operating_profit,closing_cash,receivables,payables,inventory_value\n"
    "2026-01,2000,,,,,,\n"  # before the plan: kept, "no plan to compare"
    "2026-02,3234,1600,,2400,1000,,\n"
    "2026-03,2900,,,,,,\n"  # no units imported for March: revenue only, no split
)


@pytest.fixture
def locked(tmp_path):
    """The small company with cycle 2026-01 locked (a decision with an expected effect logged in
    it first), the next cycle open, and the February and March actuals imported."""
    store = make_store(tmp_path / "plan.duckdb")
    decisions.add_decision(
        store,
        CYCLE,
        decision="Promotion on B in February",
        owner="Sales",
        due="2026-02-28",
        user="Kim",
        expected_measure="revenue",
        expected_value=3300,
        expected_month="2026-02",
    )
    decisions.add_decision(
        store,
        CYCLE,
        decision="Cheaper packaging from February",
        owner="Operations",
        due="2026-02-28",
        status="done",
        user="Kim",
        expected_measure="gross_margin",
        expected_value=1550,
        expected_month="2026-02",
    )
    cycles.lock_cycle(store, CYCLE, user="Kim", override=OVERRIDE)
    cycles.open_next_cycle(store, user="Kim")
    import_paths(
        store,
        [_write(tmp_path / "actuals", actuals=ACTUALS, financial_actuals=FINANCIAL)],
        user="Finance",
    )
    yield store
    store.close()


def _rows(frame: pd.DataFrame) -> dict[tuple[str, str], tuple]:
    return {
        (r.month, r.measure): (r.plan, r.actual, r.variance) for r in frame.itertuples(index=False)
    }


def test_variance_and_the_revenue_split_by_hand(locked):
    frame = rv.review(locked, CYCLE)
    assert list(frame.columns) == ["month", "measure", "plan", "actual", "variance"]
    rows = _rows(frame)
    nan = rows[("2026-02", "revenue_volume_effect")][0]
    assert np.isnan(nan)
    # units: plan 100 + 100, actual 90 + 120
    assert rows[("2026-02", "shipped_units")] == (200, 210, 10)
    assert rows[("2026-02", "revenue")] == (3000, 3234, 234)
    # volume: (90 − 100) × 10 + (120 − 100) × 20 = 300; price/mix: 3,234 − (90 × 10 + 120 × 20) = −66
    assert rows[("2026-02", "revenue_volume_effect")][2] == 300
    assert rows[("2026-02", "revenue_price_mix_effect")][2] == -66
    assert rows[("2026-02", "revenue")][2] == 300 + -66  # exactly the revenue variance
    assert rows[("2026-02", "gross_margin")] == (1500, 1600, 100)
    assert rows[("2026-02", "closing_cash")] == (2500, 2400, -100)  # 1,000 + 1,500
    assert rows[("2026-02", "receivables")] == (0, 1000, 1000)
    # March: revenue booked, no units imported: no units row and no split
    assert [m for (mo, m) in rows if mo == "2026-03"] == ["revenue"]
    assert rows[("2026-03", "revenue")] == (3000, 2900, -100)
    # January is before the plan: not in the review, kept as "no plan to compare"
    assert "2026-01" not in set(frame["month"])
    outside = rv.unplanned_months(locked)
    assert outside["month"].tolist() == ["2026-01"]
    assert outside["status"].tolist() == ["no plan to compare"]
    assert outside["revenue"].tolist() == [2000]


def test_by_family_the_volume_effect_adds_up(locked):
    families = rv.review_by_family(locked, CYCLE)
    assert families[["family", "plan_units", "actual_units", "volume_effect"]].values.tolist() == [
        ["F1", 100, 90, -100],
        ["F2", 100, 120, 400],
    ]
    total = rv.review(locked, CYCLE).set_index("measure").loc["revenue_volume_effect", "variance"]
    assert families["volume_effect"].sum() == total


def test_the_review_of_a_locked_cycle_is_unchanged_after_a_new_import(locked, tmp_path):
    before = rv.review(locked, CYCLE)
    products = locked.read_table("products")
    products["unit_price"] *= 2  # a price list imported later
    settings = "key,value\nplan_start,2026-03\nhorizon_months,3\nopening_cash,99\ndso_days,60\n"
    folder = _write(tmp_path / "later", settings=settings)
    products.to_csv(folder / "products.csv", index=False)
    import_paths(locked, [folder], user="Finance")
    pd.testing.assert_frame_equal(rv.review(locked, CYCLE), before)
    # new actuals change the actual side only
    changed = FINANCIAL.replace("2026-02,3234,", "2026-02,3400,")
    import_paths(locked, [_write(tmp_path / "fin", financial_actuals=changed)], user="Finance")
    after = _rows(rv.review(locked, CYCLE))
    assert after[("2026-02", "revenue")] == (3000, 3400, 400)
    assert after[("2026-02", "revenue_price_mix_effect")][2] == 100  # 3,400 − 3,300


def test_a_review_of_an_unlocked_cycle_says_which_are_locked(locked):
    with pytest.raises(SopError, match=r"Cycle 2026-02 is not locked: .* Locked cycles: 2026-01\."):
        rv.review(locked, NEXT)


def test_no_locked_cycle_yet(tmp_path):
    with make_store(tmp_path / "plan.duckdb") as store:
        with pytest.raises(SopError, match="no cycle is locked yet"):
            rv.review(store, CYCLE)
        last = rv.last_month_against_plan(store)
        assert not last.ready and "No plan has been locked yet" in last.sentence


def test_last_month_is_against_the_plan_locked_closest_before_it(locked):
    last = rv.last_month_against_plan(locked)
    assert (last.month, last.cycle) == ("2026-03", CYCLE)
    assert last.figure("revenue") == (3000, 2900, -100)
    assert last.sentence.startswith(
        "Mar 2026 against the plan locked in cycle 2026-01: revenue £2,900, £100 (3.3 %) below plan."
    )


def test_history_scores_each_locked_plan_by_lag(locked):
    history = rv.review_history(locked)
    assert history[["cycle", "month", "lag", "error_pct"]].values.tolist() == [
        [CYCLE, "2026-02", 2, pytest.approx((3000 - 3234) / 3234 * 100)],
        [CYCLE, "2026-03", 3, pytest.approx((3000 - 2900) / 2900 * 100)],
    ]
    accuracy = rv.accuracy_by_cycle(history)
    assert np.isnan(accuracy["lag_1"].iloc[0])  # the plan starts the month after its cycle
    assert accuracy["mean_abs_error_pct"].iloc[0] == pytest.approx(
        (234 / 3234 * 100 + 100 / 2900 * 100) / 2
    )
    assert rv.accuracy_sentence(history) == "No locked plan has actuals for its own month yet."


def test_accuracy_sentence_compares_the_first_and_last_cycle():
    history = pd.DataFrame(
        {
            "cycle": ["2026-08", "2026-09", "2026-10"],
            "month": ["2026-08", "2026-09", "2026-10"],
            "lag": [1, 1, 1],
            "measure": "revenue",
            "plan": [104.0, 97.0, 101.0],
            "actual": [100.0, 100.0, 100.0],
            "variance": [-4.0, 3.0, -1.0],
            "error_pct": [4.0, -3.0, 1.0],
        }
    )
    assert rv.accuracy_sentence(history) == (
        "Revenue in the cycle's own month: cycle 2026-08 missed by +4.0 %, cycle 2026-10 by "
        "+1.0 % (plan − actual, % of actual): the plan is getting more accurate. The plan was "
        "above the actual in 2 of the 3 months scored."
    )


# --- the command line ---------------------------------------------------------------------------


def test_cli_review_writes_the_documented_columns_and_refuses_an_unlocked_cycle(
    locked, tmp_path, capsys
):
    path = locked.path
    locked.close()
    out = tmp_path / "review.csv"
    assert main(["review", "--db", str(path), "--cycle", CYCLE, "--out", str(out)]) == 0
    frame = pd.read_csv(out, dtype={"month": str})
    assert list(frame.columns) == ["month", "measure", "plan", "actual", "variance"]
    assert frame["measure"].tolist()[:4] == [
        "shipped_units",
        "revenue",
        "revenue_volume_effect",
        "revenue_price_mix_effect",
    ]
    assert frame.loc[frame["measure"] == "revenue_price_mix_effect", "variance"].tolist() == [-66]
    capsys.readouterr()
    assert main(["review", "--db", str(path), "--cycle", NEXT, "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: Cycle 2026-02 is not locked") and "Locked cycles: 2026-01." in err
    assert "Traceback" not in err
    assert main(["review", "--db", str(path), "--cycle", "26-1", "--out", str(out)]) == 2
    assert 'error: --cycle "26-1" is not a month' in capsys.readouterr().err


# --- decisions against outcomes -------------------------------------------------------------


@pytest.mark.parametrize(
    ("plan", "expected", "actual", "outcome"),
    [
        (100, 80, 75, "delivered"),  # beyond the expected figure
        (100, 80, 80, "delivered"),
        (100, 80, 88, "partly"),  # (88 − 100) / (80 − 100) = 0.6 of the way
        (100, 80, 90, "partly"),  # exactly half the way
        (100, 80, 91, "not"),  # 0.45 of the way
        (100, 80, 105, "not"),  # the other way
        (3000, 3300, 3234, "partly"),  # 234 / 300 = 0.78
        (100, 100, 104, "delivered"),  # hold the plan: within the 5 % tolerance
        (100, 100, 106, "not"),
    ],
)
def test_verdict(plan, expected, actual, outcome):
    assert verdict(plan, expected, actual, 5.0) == outcome


def test_decisions_are_judged_once_the_actuals_cover_their_month_and_audited(locked, tmp_path):
    outcomes = rv.decision_outcomes(locked, record=True).set_index("measure")
    assert outcomes.loc["revenue", ["plan", "expected", "actual", "verdict"]].tolist() == [
        3000,
        3300,
        3234,
        "partly",
    ]
    assert outcomes.loc["gross_margin", "verdict"] == "delivered"  # 1,600 ≥ 1,550
    # the open decision carried into 2026-02 is listed once
    assert len(outcomes) == 2 and set(outcomes["taken_in"]) == {CYCLE}
    judged = locked.query("SELECT * FROM audit_log WHERE action = 'judge' ORDER BY id")
    assert judged["new_value"].tolist() == ["partly delivered", "delivered"]
    rv.decision_outcomes(locked, record=True)  # judged again, nothing changed: nothing written
    assert len(locked.query("SELECT * FROM audit_log WHERE action = 'judge'")) == 2
    changed = FINANCIAL.replace("2026-02,3234,", "2026-02,3400,")
    import_paths(locked, [_write(tmp_path / "fin", financial_actuals=changed)], user="Finance")
    rv.decision_outcomes(locked, record=True)
    last = locked.query("SELECT * FROM audit_log WHERE action = 'judge' ORDER BY id DESC LIMIT 1")
    assert (last["old_value"].iloc[0], last["new_value"].iloc[0]) == (
        "partly delivered",
        "delivered",
    )


def test_a_decision_waits_for_the_actuals_of_its_month(tmp_path):
    with make_store(tmp_path / "plan.duckdb") as store:
        decisions.add_decision(
            store,
            CYCLE,
            decision="Hold March revenue",
            owner="Sales",
            due="2026-03-31",
            user="Kim",
            expected_measure="revenue",
            expected_value=3000,
            expected_month="2026-03",
        )
        outcomes = rv.decision_outcomes(store, record=True)
        assert outcomes["verdict"].tolist() == [""]
        assert outcomes["text"].iloc[0].endswith("waiting for the actuals of Mar 2026")
        assert store.query("SELECT * FROM decision_verdicts").empty


def test_an_expected_effect_from_a_scenario_and_its_checks(tmp_path):
    from sop_core.meeting.scenarios import save_scenario
    from sop_core.plan.levers import parse_levers

    with make_store(tmp_path / "plan.duckdb") as store:
        did = decisions.add_decision(
            store, CYCLE, decision="Raise prices", owner="Sales", due="2026-02-01", user="Kim"
        )
        save_scenario(store, CYCLE, "Price +10", parse_levers(["price_change_pct=10"]), author="x")
        value = set_expected_effect(
            store, did, 1, measure="revenue", month="2026-03", scenario="Price +10", user="Kim"
        )
        assert value == pytest.approx(3300)  # 3,000 at prices 10 % higher
        row = decisions.get_decision(store, did)
        assert (row["expected_measure"], row["expected_month"], row["expected_scenario"]) == (
            "revenue",
            "2026-03",
            "Price +10",
        )
        with pytest.raises(SopError, match=r"2026-09 is not a month of cycle 2026-01's plan"):
            set_expected_effect(
                store, did, 2, measure="revenue", month="2026-09", value=1, user="K"
            )
        with pytest.raises(SopError, match="give the value the decision should reach"):
            set_expected_effect(store, did, 2, measure="revenue", month="2026-03", user="K")
        with pytest.raises(SopError, match='measure "margin" is not one of'):
            decisions.add_decision(
                store,
                CYCLE,
                decision="x",
                owner="y",
                due="2026-02-01",
                user="K",
                expected_measure="margin",
                expected_value=1,
                expected_month="2026-02",
            )
        with pytest.raises(SopError, match='value "" is not a number'):
            decisions.add_decision(
                store,
                CYCLE,
                decision="x",
                owner="y",
                due="2026-02-01",
                user="K",
                expected_measure="revenue",
                expected_month="2026-02",
            )
        set_expected_effect(store, did, 2, measure=None, month=None, user="Kim")  # cleared
        assert decisions.get_decision(store, did)["expected_measure"] is None
        edits = store.query(
            "SELECT new_value, detail FROM audit_log WHERE entity = 'decision' AND action = 'edit'"
        )
        assert "field expected_value" in set(edits["detail"])


# --- bad input ----------------------------------------------------------------------------------


def test_receivables_without_revenue_are_refused_naming_file_row_and_column(tmp_path):
    with make_store(tmp_path / "plan.duckdb") as store:
        before = store.row_counts()
        text = "month,revenue,receivables\n2026-01,1000,1500\n2026-02,,1250\n2026-03,abc,900\n"
        with pytest.raises(ImportRejected) as err:
            import_paths(store, [_write(tmp_path / "in", financial_actuals=text)], user="x")
        assert err.value.problems == [
            "financial_actuals.csv row 3, column revenue: is empty while receivables is 1,250: "
            "receivables need the month's revenue (DSO is measured from both); give the revenue "
            "or leave receivables blank",
            'financial_actuals.csv row 4, column revenue: "abc" is not a number',
        ]
        assert store.row_counts() == before
        # a blank revenue alone is "not known", and months outside any plan are kept
        ok = "month,revenue,closing_cash\n2019-01,,500\n2026-02,3000,\n"
        import_paths(store, [_write(tmp_path / "ok", financial_actuals=ok)], user="x")
        kept = store.read_table("financial_actuals")
        assert kept["month"].tolist() == ["2019-01", "2026-02"]
        assert np.isnan(kept["revenue"].iloc[0]) and kept["closing_cash"].iloc[0] == 500


def test_an_old_store_gains_the_review_tables(tmp_path):
    path = tmp_path / "old.duckdb"
    with Store(path) as store:  # undo migration 8, as a store made before it looks
        cur = store.cursor()
        cur.execute("DROP TABLE financial_actuals")
        cur.execute("DROP TABLE decision_verdicts")
        for column in (
            "origin_id",
            "expected_measure",
            "expected_value",
            "expected_month",
            "expected_scenario",
        ):
            cur.execute(f"ALTER TABLE decisions DROP COLUMN {column}")
        cur.execute("DELETE FROM schema_migrations WHERE version = 8")
        cur.close()
    with Store(path) as store:
        applied = store.query("SELECT version FROM schema_migrations")["version"].tolist()
        assert 8 in applied
        assert store.row_counts()["financial_actuals"] == 0
        columns = set(store.query("DESCRIBE decisions")["column_name"])
        assert {"origin_id", "expected_measure", "expected_value", "expected_month"} <= columns


# --- assumptions tested -------------------------------------------------------------------------


def _tested_frames() -> dict[str, pd.DataFrame]:
    """Products A (10; 4 + 1; 30 days cover) and B (20; 8 + 2; 15 days), 100 units a month
    planned from 2026-02; four months of actuals and three of what finance booked before it."""
    fa = pd.DataFrame(
        {
            "month": ["2025-10", "2025-11", "2025-12", "2026-01"],
            "revenue": [1000.0, 3000.0, 6000.0, 3000.0],
            "gross_margin": [np.nan, 1500.0, 3000.0, 1500.0],
            "operating_profit": np.nan,
            "closing_cash": np.nan,
            "receivables": [9000.0, 5000.0, 12000.0, 7000.0],
            "payables": np.nan,
            "inventory_value": [np.nan, 1000.0, 700.0, 1200.0],
        }
    )
    units = {"2025-10": 100, "2025-11": 100, "2025-12": 200, "2026-01": 100}
    return {
        "products": pd.DataFrame(
            {
                "sku": ["A", "B"],
                "name": ["Alpha", "Beta"],
                "family": ["F1", "F2"],
                "unit_price": [10.0, 20.0],
                "unit_material_cost": [4.0, 8.0],
                "unit_variable_cost": [1.0, 2.0],
                "target_cover_days": [30.0, 15.0],
            }
        ),
        "actuals": pd.DataFrame(
            [(m, s, float(u)) for m, u in units.items() for s in ("A", "B")],
            columns=["month", "sku", "units"],
        ),
        "forecasts": pd.DataFrame(
            [
                (CYCLE, m, s, "consensus", 100.0)
                for m in ("2026-02", "2026-03", "2026-04", "2026-05")
                for s in ("A", "B")
            ],
            columns=["cycle", "month", "sku", "source", "units"],
        ),
        "resources": pd.DataFrame(
            {"resource": ["R"], "site": ["S"], "hours_per_fte": [100.0], "cost_per_fte": [50.0]}
        ),
        "headcount": pd.DataFrame(
            {
                "month": ["2025-11", "2025-12", "2026-01"],
                "resource": "R",
                "planned_fte": 2.0,
            }
        ),
        "financial_actuals": fa,
        "settings": pd.DataFrame(
            {
                "key": ["plan_start", "horizon_months", "dso_days"],
                "value": ["2026-02", "3", "50"],
            }
        ),
    }


def _tested(frames=None, linked=None):
    data = plan_data_from_frames(frames or _tested_frames(), cycle=CYCLE)
    if linked is not None:
        data = replace(data, linked=linked)
    model = prepare(data)
    return model, compute(model, {})


def test_measured_dso_days_of_inventory_price_and_cost_by_hand():
    model, result = _tested()
    tests = assumption_tests(model, result).set_index("key")
    dso = tests.loc["dso_days"]
    # 30 × (5,000 + 12,000 + 7,000) / (3,000 + 6,000 + 3,000): October falls outside the window
    assert (dso["assumed"], dso["measured"]) == (50, 60)
    assert (dso["first_month"], dso["last_month"], dso["months"]) == ("2025-11", "2026-01", 3)
    assert dso["flagged"] and dso["gap_pct"] == pytest.approx(20)
    assert dso["money_at_stake"] == pytest.approx(1000)  # 3,000 a month × 10 days / 30
    assert dso["text"].startswith(
        "Customer payment terms (DSO): assumed 50 days; measured 60 days over Nov 2025–Jan 2026"
    )
    price = tests.loc["realised_price"]
    assert price["measured"] == pytest.approx(100) and not price["flagged"]  # 12,000 of 12,000
    stock = tests.loc["inventory_days"]
    # 30 × (1,000 + 700) / (next months' shipments at cost: 200×5 + 200×10 + 100×5 + 100×10)
    assert stock["measured"] == pytest.approx(30 * 1700 / 4500)
    # cover weighted by the same: (30 × 1,500 + 15 × 3,000) / 4,500
    assert stock["assumed"] == pytest.approx(20)
    assert (stock["first_month"], stock["last_month"]) == ("2025-11", "2025-12")
    assert stock["flagged"]
    assert stock["money_at_stake"] == pytest.approx(1000 * (1 - 1700 / 4500 * 30 / 20))
    cost = tests.loc["material_cost"]
    # (3,000 − 1,500 − 100) + (6,000 − 3,000 − 100) + (3,000 − 1,500 − 100) = 5,700 of 6,000
    assert cost["measured"] == pytest.approx(95)
    assert not cost["flagged"]  # exactly at the 5 % tolerance is within it


def test_a_flagged_test_is_a_disagreement_counted_once():
    model, result = _tested()
    dis = result.disagreements
    drift = dis[dis["type"] == "assumption_drift"].set_index("entity")
    assert list(drift.index) == ["Customer payment terms (DSO)", "Days of inventory"]
    dso = drift.loc["Customer payment terms (DSO)"]
    assert (dso["month"], dso["figure_a"], dso["figure_b"], dso["gap"]) == ("2026-02", 60, 50, 10)
    assert (dso["owner"], dso["review"], dso["unit"]) == (
        "Finance",
        "Integrated reconciliation",
        "days",
    )
    assert dso["cause"] == "assumption|Customer payment terms (DSO)" and dso["counted"]
    assert drift.loc["Days of inventory", "owner"] == "Operations"
    assert totals_of_table(dis).money == pytest.approx(disagreement_totals(model, result).money)
    causes = result.root_causes.set_index("cause")
    title = causes.loc["assumption|Customer payment terms (DSO)", "title"]
    assert title == (
        "Customer payment terms (DSO): assumed 50 days, measured 60 days over Nov 2025–Jan 2026: "
        "£1k the plan would move if the measured value held"
    )


def test_the_register_names_the_assumption_its_owner_and_its_tolerance():
    linked = pd.DataFrame(
        {
            "name": ["Payment terms"],
            "value": ["50"],
            "link": ["dso_days"],
            "owner": ["Credit control"],
            "tolerance_pct": [25.0],
        }
    )
    model, result = _tested(linked=linked)
    dso = assumption_tests(model, result).set_index("key").loc["dso_days"]
    assert (dso["assumption"], dso["owner"], dso["tolerance_pct"]) == (
        "Payment terms",
        "Credit control",
        25,
    )
    assert not dso["flagged"]  # 20 % off, within its 25 %


def test_without_financial_actuals_nothing_is_tested():
    frames = _tested_frames()
    del frames["financial_actuals"]
    model, result = _tested(frames)
    assert assumption_tests(model, result).empty
    assert "assumption_drift" not in set(result.disagreements["type"])
