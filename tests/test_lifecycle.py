"""Products that start and stop: launch and end months, like-for-like baselines, stock left at the end.

The hand case (3 skus, 4 months, 2026-01..04, no resources so capacity is unlimited); every
expected number is written out, the arithmetic in the comments.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from sop_core.errors import ImportRejected
from sop_core.intake.importer import import_paths
from sop_core.meeting.record import plan_for_store
from sop_core.plan.disagreements import disagreement_totals
from sop_core.plan.engine import plan
from sop_core.store.db import Store
from sop_core.store.migrations import MIGRATIONS
from sop_core.store.plandata import plan_data_from_frames
from sop_core.views import charts
from sop_core.views.lifecycle import (
    like_for_like_label,
    product_review,
    product_review_note,
    run_down,
    stock_left_table,
)
from sop_core.views.supply import inventory_cover

APP = str(Path(__file__).resolve().parent.parent / "app.py")
MONTHS = ["2026-01", "2026-02", "2026-03", "2026-04"]


def hand_tables(**products) -> dict[str, pd.DataFrame]:
    """The hand case.

    OLD (family F): price 10, unit cost 4 + 1 = 5, cover 15 days, has history; baseline 100,
        110, 120, 130.
    NEW (family F): price 12, unit cost 5 + 1 = 6, cover 30 days, no history, launches 2026-03
        like OLD at 0.5; its fitted baseline is zeros (what the fit gives a sku without history).
    END (family G): price 20, unit cost 6 + 2 = 8, cover 30 days, ends 2026-02; sales forecast
        40 a month in all four months (the two after its end are not demand); 150 on hand.
    """
    frame = pd.DataFrame(
        {
            "sku": ["OLD", "NEW", "END"],
            "name": ["Old thermostat", "New thermostat", "Ender rail"],
            "family": ["F", "F", "G"],
            "unit_price": [10.0, 12.0, 20.0],
            "unit_material_cost": [4.0, 5.0, 6.0],
            "unit_variable_cost": [1.0, 1.0, 2.0],
            "target_cover_days": [15.0, 30.0, 30.0],
            "launch_month": [None, "2026-03", None],
            "end_month": [None, None, "2026-02"],
            "like_sku": [None, "OLD", None],
            "like_share": [np.nan, 0.5, np.nan],
        }
    )
    for column, values in products.items():
        frame[column] = values
    return {
        "products": frame,
        "actuals": pd.DataFrame(
            {"month": ["2025-12", "2025-12"], "sku": ["OLD", "END"], "units": [100.0, 50.0]}
        ),
        "forecasts": pd.DataFrame(
            [("2026-01", m, "END", "sales", 40.0) for m in MONTHS],
            columns=["cycle", "month", "sku", "source", "units"],
        ),
        "inventory": pd.DataFrame({"sku": ["END"], "on_hand_units": [150.0]}),
        "settings": pd.DataFrame(
            {"key": ["plan_start", "horizon_months"], "value": ["2026-01", "4"]}
        ),
    }


BASELINE = pd.DataFrame(
    [
        (sku, m, units)
        for sku, row in (
            ("OLD", [100.0, 110.0, 120.0, 130.0]),
            ("NEW", [0.0, 0.0, 0.0, 0.0]),
            ("END", [45.0, 45.0, 45.0, 45.0]),
        )
        for m, units in zip(MONTHS, row, strict=True)
    ],
    columns=["sku", "month", "units"],
)


def hand_plan(levers=None, tables=None):
    data = plan_data_from_frames(tables or hand_tables(), baseline=BASELINE)
    return plan(data, levers)


def rows_of(result, sku: str) -> pd.DataFrame:
    frame = result.sku
    return frame[frame["sku"] == sku].set_index("month")


# --- the plan around a launch and an end -----------------------------------------------------


def test_plan_rows_around_a_launch():
    new = rows_of(hand_plan(), "NEW")
    # no demand before the launch; from it, OLD's baseline × 0.5: 120 × 0.5 = 60, 130 × 0.5 = 65
    assert new["demand_units"].tolist() == [0.0, 0.0, 60.0, 65.0]
    assert new["demand_source"].tolist() == ["none", "none", "baseline", "baseline"]
    # target = 30/30 × D(m+1): 0, 60, 65, 65 (last month: its own D)
    # req: Jan 0; Feb 0 + 60 − 0 = 60 (the launch stock); Mar 60 + 65 − 60 = 65; Apr 65 + 65 − 65
    assert new["production_units"].tolist() == [0.0, 60.0, 65.0, 65.0]
    assert new["shipped_units"].tolist() == [0.0, 0.0, 60.0, 65.0]
    assert new["end_inventory_units"].tolist() == [0.0, 60.0, 65.0, 65.0]
    assert new["revenue"].tolist() == [0.0, 0.0, 720.0, 780.0]  # 60 × 12, 65 × 12
    assert new["inventory_value"].tolist() == [0.0, 360.0, 390.0, 390.0]  # × 6


def test_plan_rows_around_an_end():
    end = rows_of(hand_plan(), "END")
    # sales 40 in Jan and Feb; nothing after the end, although sales still forecast 40
    assert end["demand_units"].tolist() == [40.0, 40.0, 0.0, 0.0]
    assert end["demand_source"].tolist() == ["sales", "sales", "none", "none"]
    # Jan: target 30/30 × 40 = 40, req max(0, 40 + 40 − 150) = 0; Feb: target 0 (no demand in
    # Mar), req max(0, 40 + 0 − 110) = 0; nothing made after the end
    assert end["production_units"].tolist() == [0.0, 0.0, 0.0, 0.0]
    assert end["shipped_units"].tolist() == [40.0, 40.0, 0.0, 0.0]
    # 150 − 40 = 110, − 40 = 70 left, and the 70 stay on hand, valued at 8 each
    assert end["end_inventory_units"].tolist() == [110.0, 70.0, 70.0, 70.0]
    assert end["inventory_value"].tolist() == [880.0, 560.0, 560.0, 560.0]


def test_the_like_for_like_baseline_equals_the_like_skus():
    model = hand_plan().model
    skus = list(model.skus)
    old, new = skus.index("OLD"), skus.index("NEW")
    np.testing.assert_allclose(model.baseline[2:, new], model.baseline[2:, old] * 0.5)
    assert np.isnan(model.baseline[:2, new]).all()  # before the launch there is none
    # a share left blank is 1: the like sku's baseline itself
    share_one = hand_plan(tables=hand_tables(like_share=[np.nan, np.nan, np.nan])).model
    np.testing.assert_allclose(share_one.baseline[2:, new], [120.0, 130.0])
    np.testing.assert_allclose(share_one.baseline[:, old], [100.0, 110.0, 120.0, 130.0])


def test_a_product_with_history_keeps_its_own_baseline():
    tables = hand_tables()
    tables["actuals"] = pd.concat(
        [tables["actuals"], pd.DataFrame({"month": ["2025-12"], "sku": ["NEW"], "units": [7.0]})]
    )
    new = rows_of(hand_plan(tables=tables), "NEW")
    assert new["demand_units"].tolist() == [0.0, 0.0, 0.0, 0.0]  # its own fitted zeros
    # and no like sku at all: a product without history has the zeros of its fit
    assert rows_of(hand_plan(tables=hand_tables(like_sku=[None] * 3)), "NEW")[
        "demand_units"
    ].tolist() == [0.0, 0.0, 0.0, 0.0]


def test_without_lifecycle_columns_nothing_changes():
    tables = hand_tables()
    tables["products"] = tables["products"].drop(
        columns=["launch_month", "end_month", "like_sku", "like_share"]
    )
    result = hand_plan(tables=tables)
    assert rows_of(result, "END")["demand_units"].tolist() == [40.0] * 4
    assert rows_of(result, "NEW")["demand_units"].tolist() == [0.0] * 4
    assert result.model.lifecycle.active.all()
    assert (result.disagreements["type"] != "stock_left_end_of_life").all()


# --- stock left at end of life ---------------------------------------------------------------


def _stock_rows(result) -> pd.DataFrame:
    dis = result.disagreements
    return dis[dis["type"] == "stock_left_end_of_life"].reset_index(drop=True)


def test_stock_left_is_a_disagreement_priced_at_cost():
    result = hand_plan()
    rows = _stock_rows(result)
    assert len(rows) == 1
    row = rows.iloc[0]
    # 70 units left at the end month, × unit cost 6 + 2 = 8: 560
    assert (row["month"], row["entity"], row["family"], row["resource"]) == (
        "2026-02",
        "Ender rail",
        "G",
        None,
    )
    assert (row["figure_a"], row["figure_b"], row["gap"], row["unit"]) == (70.0, 0.0, 70.0, "units")
    assert row["money_at_stake"] == 560.0
    assert (row["owner"], row["review"], row["cause"]) == (
        "Operations",
        "Supply review",
        "end_of_life|END",
    )
    assert bool(row["counted"]) and row["status"] == "open"
    causes = result.root_causes.set_index("cause")
    assert causes.at["end_of_life|END", "title"] == (
        "Ender rail ends Feb 2026 with 70 units left: £560 of stock at cost"
    )
    assert causes.at["end_of_life|END", "measure"] == "stock left at end of life, at cost"
    assert causes.at["end_of_life|END", "entity"] == "Ender rail"
    assert result.summary["money_at_stake"] == pytest.approx(560.0)


def test_stock_left_uses_the_scenarios_unit_cost():
    # material 6 × 1.5 = 9, + variable 2 = 11 a unit: 70 × 11 = 770
    result = hand_plan(["material_cost_change_pct:G=50"])
    assert _stock_rows(result)["money_at_stake"].tolist() == [770.0]


@pytest.mark.parametrize(
    "levers", [[], ["material_cost_change_pct=50"], ["volume_change_pct=-50", "dso_days=30"]]
)
def test_totals_agree_with_the_table(levers):
    result = hand_plan(levers)
    frame = result.disagreements
    totals = disagreement_totals(result.model, result)
    take = frame["counted"] & (frame["status"] == "open")
    assert totals.rows == len(frame)
    assert totals.money == pytest.approx(float(frame.loc[take, "money_at_stake"].sum()))
    assert totals.root_causes == frame.loc[frame["status"] == "open", "cause"].nunique()


def test_an_end_before_the_horizon_leaves_the_stock_on_hand():
    # END ended in 2025-11: its 150 on hand are left from the first month, 150 × 8 = 1,200
    result = hand_plan(tables=hand_tables(end_month=[None, None, "2025-11"]))
    assert rows_of(result, "END")["end_inventory_units"].tolist() == [150.0] * 4
    row = _stock_rows(result).iloc[0]
    assert (row["month"], row["figure_a"], row["money_at_stake"]) == ("2026-01", 150.0, 1200.0)
    assert row["story_a"] == "Stock of a product ended before the plan"
    assert result.root_causes.set_index("cause").at["end_of_life|END", "title"] == (
        "Ender rail ended before the plan with 150 units on hand: £1k of stock at cost"
    )


def test_an_end_in_the_last_month_or_after_the_horizon():
    # ends 2026-04, the last month: 150 on hand for 4 × 40 = 160. Mar: target 30/30 × 40,
    # req 40 + 40 − 70 = 10; Apr: no cover to hold after the end (not the last month's own
    # demand, the method's rule for a product that goes on), req 40 + 0 − 40 = 0: nothing left
    result = hand_plan(tables=hand_tables(end_month=[None, None, "2026-04"]))
    end = rows_of(result, "END")
    assert end["production_units"].tolist() == [0.0, 0.0, 10.0, 0.0]
    assert end["end_inventory_units"].tolist() == [110.0, 70.0, 40.0, 0.0]
    assert _stock_rows(result).empty
    # a product going on after the horizon keeps the method's rule: Apr target = 40, made
    going_on = rows_of(hand_plan(tables=hand_tables(end_month=[None, None, "2026-06"])), "END")
    assert going_on["production_units"].tolist() == [0.0, 0.0, 10.0, 40.0]
    assert _stock_rows(hand_plan(tables=hand_tables(end_month=[None, None, "2026-06"]))).empty
    # a last month with stock left: 200 on hand, 4 × 40 sold, 40 left at 8 = 320
    tables = hand_tables(end_month=[None, None, "2026-04"])
    tables["inventory"] = pd.DataFrame({"sku": ["END"], "on_hand_units": [200.0]})
    row = _stock_rows(hand_plan(tables=tables)).iloc[0]
    assert (row["month"], row["figure_a"], row["money_at_stake"]) == ("2026-04", 40.0, 320.0)


def test_the_inventory_gap_to_budget_leaves_out_the_stock_already_counted():
    # budget inventory of G in 2026-03: 100; the plan holds 560 (the 70 units left): gap 460,
    # beyond tolerance. The 560 are counted on the stock-left row, so the budget row carries
    # only |460 − 560| = 100 (what the plan's inventory would miss the budget by without them).
    tables = hand_tables()
    tables["budget"] = pd.DataFrame(
        {
            "month": ["2026-03"],
            "family": ["G"],
            "revenue": [0.0],
            "gross_margin": [0.0],
            "closing_inventory_value": [100.0],
        }
    )
    dis = hand_plan(tables=tables).disagreements
    inv = dis[dis["type"] == "inventory_vs_budget"].iloc[0]
    assert (inv["figure_a"], inv["figure_b"], inv["gap"]) == (560.0, 100.0, 460.0)
    assert inv["money_at_stake"] == 100.0


# --- what the pages show ---------------------------------------------------------------------


def test_product_review_lists_launches_and_ends_with_their_figures():
    review = product_review(hand_plan())
    assert review["sku"].tolist() == ["NEW", "END"]  # launches first, then ends
    new, end = review.iloc[0], review.iloc[1]
    assert (new["event"], new["launch_month"]) == ("launch", "2026-03")
    assert pd.isna(new["end_month"])
    assert new["like_for_like"] == "Old thermostat (OLD) × 0.5"
    assert (new["demand_units"], new["revenue"]) == (125.0, 1500.0)  # 60 + 65; × 12
    assert (new["stock_left_units"], new["stock_left_value"]) == (0.0, 0.0)
    assert (end["event"], end["end_month"], end["like_for_like"]) == ("end", "2026-02", "")
    assert (end["demand_units"], end["revenue"]) == (80.0, 1600.0)  # 40 + 40; × 20
    assert (end["stock_left_units"], end["stock_left_value"]) == (70.0, 560.0)
    assert product_review_note(review, "GBP") == (
        "1 launch: 125 units, £2k of revenue in the horizon; "
        "1 end: 70 units of stock left, £560 at cost at risk."
    )
    assert product_review(hand_plan(), "F")["sku"].tolist() == ["NEW"]
    assert product_review_note(review.iloc[0:0], "GBP") == (
        "No product launches or ends in the horizon."
    )


def test_like_for_like_label_and_run_down():
    result = hand_plan()
    assert like_for_like_label(result.model, "NEW") == (
        "like-for-like: Old thermostat × 0.5 from Mar 2026"
    )
    assert like_for_like_label(result.model, "OLD") is None
    assert like_for_like_label(result.model, None) is None
    down = run_down(result, "END")
    assert down["end_inventory_units"].tolist() == [110.0, 70.0, 70.0, 70.0]
    assert down["phase"].tolist() == ["on sale", "on sale", "after the end", "after the end"]
    assert run_down(result, "NEW")["phase"].tolist() == [
        "before launch",
        "before launch",
        "on sale",
        "on sale",
    ]


def test_stock_left_table_and_the_inventory_chart_show_the_run_down():
    result = hand_plan()
    table = stock_left_table(result)
    assert table[["month", "sku", "name", "family", "units", "value"]].values.tolist() == [
        ["2026-02", "END", "Ender rail", "G", 70.0, 560.0]
    ]
    assert table["title"].iloc[0].startswith("Ender rail ends Feb 2026 with 70 units left")
    assert stock_left_table(result, "F").empty
    cover = inventory_cover(result, "G")
    assert cover["end_inventory_units"].tolist() == [110.0, 70.0, 70.0, 70.0]
    assert cover["end_of_life_units"].tolist() == [0.0, 70.0, 70.0, 70.0]
    spec = charts.inventory_cover_chart(cover).to_dict()
    data = pd.DataFrame(next(iter(spec["datasets"].values())))
    assert data["on sale"].tolist() == [110.0, 0.0, 0.0, 0.0]
    assert data["past end of life"].tolist() == [0.0, 70.0, 70.0, 70.0]
    bars = spec["layer"][0]
    assert bars["transform"][0]["fold"] == ["on sale", "past end of life"]
    # without ended products the chart is the plain one
    plain = charts.inventory_cover_chart(inventory_cover(result, "F")).to_dict()
    assert "transform" not in plain["layer"][0]


# --- bad input -------------------------------------------------------------------------------

HEADER = (
    "sku,name,family,unit_price,unit_material_cost,unit_variable_cost,target_cover_days,"
    "launch_month,end_month,like_sku,like_share\n"
)


@pytest.mark.parametrize(
    ("rows", "expected"),
    [
        (
            "A,Alpha,F1,10,4,1,30,,,ZZ,\nB,Beta,F1,20,8,2,15,,,,\nC,Gamma,F2,5,2,0.5,0,,,,\n",
            'products.csv row 2, column like_sku: "ZZ" is not a sku in products.csv (expected '
            "another sku of this file)",
        ),
        (
            "A,Alpha,F1,10,4,1,30,,,,\nB,Beta,F1,20,8,2,15,2026-03,,B,\nC,Gamma,F2,5,2,0.5,0,,,,\n",
            'products.csv row 3, column like_sku: "B" is the product itself (expected another '
            "sku of this file)",
        ),
        (
            "A,Alpha,F1,10,4,1,30,,,,\nB,Beta,F1,20,8,2,15,2026-03,2026-01,A,\n"
            "C,Gamma,F2,5,2,0.5,0,,,,\n",
            'products.csv row 3, column end_month: "2026-01" is before launch_month 2026-03 '
            "(a product ends after it launches)",
        ),
        (
            "A,Alpha,F1,10,4,1,30,March 2026,,,\nB,Beta,F1,20,8,2,15,,,,\nC,Gamma,F2,5,2,0.5,0,,,,\n",
            'products.csv row 2, column launch_month: "March 2026" is not a month (expected '
            "YYYY-MM, e.g. 2026-01)",
        ),
        (
            "A,Alpha,F1,10,4,1,30,,2026-13,,\nB,Beta,F1,20,8,2,15,,,,\nC,Gamma,F2,5,2,0.5,0,,,,\n",
            'products.csv row 2, column end_month: "2026-13" has month 13, which does not exist '
            "(expected 01-12)",
        ),
        (
            "A,Alpha,F1,10,4,1,30,,,,0.5\nB,Beta,F1,20,8,2,15,,,,\nC,Gamma,F2,5,2,0.5,0,,,,\n",
            'products.csv row 2, column like_share: "0.5" is given without a like_sku (a share '
            "of which sku's baseline? add the like_sku)",
        ),
        (
            "A,Alpha,F1,10,4,1,30,,,,\nB,Beta,F1,20,8,2,15,,,A,-1\nC,Gamma,F2,5,2,0.5,0,,,,\n",
            'products.csv row 3, column like_share: "-1" is below the minimum 0',
        ),
    ],
    ids=[
        "unknown-like",
        "like-itself",
        "end-before-launch",
        "not-a-month",
        "month-13",
        "share-alone",
        "share-negative",
    ],
)
def test_bad_lifecycle_is_refused_with_row_and_column_and_changes_nothing(
    loaded_db, write_csvs, rows, expected
):
    before = loaded_db.snapshot()
    with pytest.raises(ImportRejected) as info:
        import_paths(loaded_db, [write_csvs(["products"], products=HEADER + rows)], user="x")
    assert info.value.problems == [expected]
    after = loaded_db.snapshot()
    assert before.keys() == after.keys()
    for name in before:
        pd.testing.assert_frame_equal(before[name], after[name], obj=name)


def test_a_good_lifecycle_imports_and_plans(loaded_db, write_csvs):
    rows = (
        "A,Alpha,F1,10,4,1,30,,2026-01,,\n"
        "B,Beta,F1,20,8,2,15,2025-12-01,,,\n"  # a first-of-month date is a month
        "C,Gamma,F2,5,2,0.5,0,2026-01,2026-01,A,0.8\n"
    )
    import_paths(loaded_db, [write_csvs(["products"], products=HEADER + rows)], user="x")
    stored = loaded_db.read_table("products").set_index("sku")
    assert stored.at["B", "launch_month"] == "2025-12"
    assert (stored.at["C", "like_sku"], stored.at["C", "like_share"]) == ("A", 0.8)
    assert pd.isna(stored.at["A", "like_sku"]) and pd.isna(stored.at["A", "like_share"])
    assert plan_for_store(loaded_db).model.lifecycle.end.tolist().count("2026-01") == 2


def test_an_older_store_gains_the_lifecycle_columns(tmp_path):
    path = tmp_path / "old.duckdb"
    store = Store(path)
    with store.transaction() as cur:  # as a store made before migration 9
        for column in ("launch_month", "end_month", "like_sku", "like_share"):
            cur.execute(f"ALTER TABLE products DROP COLUMN {column}")
        cur.execute("DELETE FROM schema_migrations WHERE version = 9")
    store.close()
    store = Store(path)
    columns = store.query("DESCRIBE products")["column_name"].tolist()
    assert columns[-4:] == ["launch_month", "end_month", "like_sku", "like_share"]
    assert store.schema_version() == MIGRATIONS[-1][0]  # 9 applied again, the later ones kept
    assert store.scalar("SELECT count(*) FROM schema_migrations WHERE version = 9") == 1
    store.close()


# --- the pages on the demo -------------------------------------------------------------------


def _page(page: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=120)
    at.run()
    at.switch_page(page).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_the_demand_review_opens_with_the_product_review(demo_db):
    at = _page("pages/demand.py")
    assert at.subheader[0].value == "Product review: launches and ends"
    table = next(f.value for f in at.dataframe if "like-for-like on" in f.value.columns)
    by_name = table.set_index("product")
    gen2, towel = "Wireless Room Thermostat Gen 2", "Straight Towel Rail 1200x500 Anthracite"
    assert by_name.loc[gen2, ["launch", "end"]].tolist() == ["Mar 2027", "—"]
    assert by_name.at[gen2, "like-for-like on"] == "Wireless Room Thermostat (CTL-WRT-01)"
    assert by_name.loc[towel, ["launch", "end"]].tolist() == ["—", "Dec 2026"]
    assert by_name.at[towel, "stock left"] == "624"
    result = plan_for_store(Store(demo_db))
    review = product_review(result)
    assert at.caption[1].value == product_review_note(review, "GBP")
    # the launched sku's chart says whose baseline it is planned on
    at.selectbox(key="demand_sku").set_value("CTL-WRT-02").run()
    assert any(
        "like-for-like: Wireless Room Thermostat from Mar 2027" in str(c.proto)
        for c in at.get("vega_lite_chart")
    )


def test_the_supply_review_shows_the_stock_left(demo_db):
    at = _page("pages/supply.py")
    table = next(f.value for f in at.dataframe if "units left" in f.value.columns)
    assert len(table) == 1
    assert (
        table["what"]
        .iloc[0]
        .startswith("Straight Towel Rail 1200x500 Anthracite ends Dec 2026 with")
    )
    assert at.selectbox(key="supply_run_down").value == "TWR-ST-1250A"
    assert any("TWR-ST-1250A: end inventory" in str(c.proto) for c in at.get("vega_lite_chart"))
