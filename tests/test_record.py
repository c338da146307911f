"""The plan of record: which plan a cycle shows — locked plans frozen, the promoted scenario, the bridge."""

import shutil

import pandas as pd
import pytest

from sop_core.cli import main
from sop_core.intake.importer import import_paths
from sop_core.meeting import cycles
from sop_core.meeting.record import BASE, LOCKED, PROMOTED, plan_for_store, plan_of_record
from sop_core.meeting.scenarios import promote_scenario, save_scenario
from sop_core.plan.levers import parse_levers
from sop_core.store.db import Store
from sop_core.views.bridge import bridge_for_cycle

CYCLE, NEXT = "2026-11", "2026-12"
OVERRIDE = "the test locks without the reconciliation sign-off"


@pytest.fixture
def db(demo_store_file, tmp_path):
    path = tmp_path / "demo.duckdb"
    shutil.copy(demo_store_file, path)
    return path


def _cli_outputs(db, tmp_path, tag: str) -> dict[str, bytes]:
    out = {}
    for level in ("company", "family", "resource"):
        path = tmp_path / f"{tag}_{level}.csv"
        assert (
            main(["plan", "--db", str(db), "--cycle", CYCLE, "--level", level, "--out", str(path)])
            == 0
        )
        out[level] = path.read_bytes()
    path = tmp_path / f"{tag}_disagreements.csv"
    assert main(["disagreements", "--db", str(db), "--cycle", CYCLE, "--out", str(path)]) == 0
    out["disagreements"] = path.read_bytes()
    return out


def test_a_locked_cycle_gives_the_same_csv_after_the_next_cycle_opens_and_a_new_import(
    db, tmp_path
):
    with Store(db) as store:
        save_scenario(
            store,
            CYCLE,
            "Hire 6",
            parse_levers(["headcount_change_fte:Press & Weld=6"]),
            author="Ops",
        )
        promote_scenario(store, CYCLE, "Hire 6", user="Kim")
        cycles.lock_cycle(store, CYCLE, user="Kim", override=OVERRIDE)
        locked = plan_of_record(store, CYCLE)
    before = _cli_outputs(db, tmp_path, "before")

    with Store(db) as store:
        cycles.open_next_cycle(store, user="Kim")
        products = store.read_table("products")
        products["unit_price"] = products["unit_price"] * 1.10  # a price rise imported later
        folder = tmp_path / "new"
        folder.mkdir()
        products.to_csv(folder / "products.csv", index=False)
        import_paths(store, [folder], user="Finance")
        after_record = plan_of_record(store, CYCLE)
        live = plan_of_record(store, NEXT)
    after = _cli_outputs(db, tmp_path, "after")

    assert after == before
    assert after_record.kind == LOCKED and after_record.locked_by == "Kim"
    assert after_record.scenario == "Hire 6"
    assert after_record.label.startswith(
        "Locked plan of cycle 2026-11 (scenario “Hire 6”), locked on "
    )
    assert after_record.result.summary == pytest.approx(locked.result.summary)
    assert after_record.warnings == ()
    # the open cycle moves with the new prices; the locked one did not
    assert live.kind == PROMOTED and live.result.months[0] == NEXT
    assert live.result.summary["revenue"] != pytest.approx(locked.result.summary["revenue"])
    company = pd.read_csv(tmp_path / "after_company.csv", dtype={"month": str})
    assert company["month"].iloc[0] == CYCLE  # the locked horizon, not the new one


def test_the_promoted_scenario_is_the_plan_of_record_and_the_cli_default(db, tmp_path):
    with Store(db) as store:
        base = plan_of_record(store, CYCLE)
        assert base.kind == BASE and base.levers == {}
        save_scenario(
            store, CYCLE, "Price -3%", parse_levers(["price_change_pct=-3"]), author="CFO"
        )
        promote_scenario(store, CYCLE, "Price -3%", user="Kim")
        record = plan_of_record(store, CYCLE)
        named = plan_for_store(store, scenario="Price -3%")
        with_more = plan_for_store(store, lever_args=["dso_days=30"])
    assert record.kind == PROMOTED and record.label == "Scenario “Price -3%” (promoted)"
    assert record.levers == {("price_change_pct", None, None): -3.0}
    assert record.result.summary["revenue"] == pytest.approx(base.result.summary["revenue"] * 0.97)
    assert named.summary["revenue"] == pytest.approx(record.result.summary["revenue"])
    # --set levers go on top of the plan of record's
    assert with_more.levers == {
        ("price_change_pct", None, None): -3.0,
        ("dso_days", None, None): 30.0,
    }
    out = tmp_path / "company.csv"
    assert main(["plan", "--db", str(db), "--level", "company", "--out", str(out)]) == 0
    cli = pd.read_csv(out)
    assert cli["revenue"].sum() == pytest.approx(record.result.summary["revenue"])


def test_the_bridge_ends_at_the_plan_of_record(db):
    with Store(db) as store:
        cycles.lock_cycle(store, CYCLE, user="Kim", override=OVERRIDE)
        cycles.open_next_cycle(store, user="Kim")
        save_scenario(store, NEXT, "Volume +5%", parse_levers(["volume_change_pct=5"]), author="S")
        promote_scenario(store, NEXT, "Volume +5%", user="Kim")
        bridge = bridge_for_cycle(store, NEXT)
        record = plan_of_record(store, NEXT)
    end = bridge.frame.iloc[-1]
    s = record.result.summary
    assert end["revenue"] == pytest.approx(s["revenue"])
    assert end["gross_margin"] == pytest.approx(s["gross_margin"])
    assert end["closing_cash"] == pytest.approx(s["closing_cash_end"])
    assert (bridge.frame.loc[bridge.frame["kind"] == "delta", "revenue"].sum()) == pytest.approx(
        s["revenue"] - bridge.frame["revenue"].iloc[0]
    )


def test_a_budget_that_stops_before_the_horizon_is_compared_over_its_own_months(db):
    with Store(db) as store:
        cycles.lock_cycle(store, CYCLE, user="Kim", override=OVERRIDE)
        cycles.open_next_cycle(store, user="Kim")
        result = plan_of_record(store, NEXT).result
    s = result.summary
    gap = result.budget_gap.dropna(subset=["budget_revenue"])
    assert s["budget_last_month"] == "2028-04" and result.months[-1] == "2028-05"
    assert s["budget_months"] == 17
    assert s["revenue_vs_budget"] == pytest.approx(float(gap["revenue_gap"].sum()))
    assert s["revenue_in_budget"] == pytest.approx(float(gap["plan_revenue"].sum()))
    assert s["revenue_in_budget"] < s["revenue"]  # the horizon's last month has no budget
