"""The bundled demo company: contract-shaped, reproducible, and telling the six stories."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from scripts import make_demo as md
from sop_core.contract import SETTINGS, TABLES
from sop_core.meeting.record import plan_for_store
from sop_core.store.db import Store

DEMO = md.DEFAULT_OUT
MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


@pytest.fixture(scope="module")
def tables() -> dict[str, pd.DataFrame]:
    return md.read_tables(DEMO)


@pytest.fixture(scope="module")
def story(tables) -> dict:
    return md.story_numbers(tables)


def _settings(tables) -> dict[str, str]:
    s = tables["settings"]
    return dict(zip(s["key"], s["value"], strict=True))


# --- shape ---------------------------------------------------------------------------------


def test_one_csv_per_contract_table_with_exactly_the_contract_columns():
    assert sorted(p.stem for p in DEMO.glob("*.csv")) == sorted(TABLES)
    for name, spec in TABLES.items():
        raw = (DEMO / f"{name}.csv").read_bytes()
        text = raw.decode("utf-8")  # UTF-8, no byte-order mark
        assert not text.startswith("\ufeff")
        assert "\r" not in text and ";" not in text.splitlines()[0]
        assert text.splitlines()[0].split(",") == spec.column_names, name
        frame = pd.read_csv(DEMO / f"{name}.csv", dtype=str, keep_default_na=False)
        assert len(frame) > 0, name
        for col in spec.columns:
            values = frame[col.name]
            if not col.required:
                values = values[values != ""]  # an optional cell may be blank
            if col.kind == "month":
                assert values.map(lambda v: bool(MONTH.match(v))).all(), (name, col.name)
            elif col.kind == "number":
                numbers = pd.to_numeric(values)  # a dot decimal, nothing else
                assert numbers.notna().all(), (name, col.name)
                assert (numbers >= col.min).all(), (name, col.name)
                assert (numbers <= col.max).all(), (name, col.name)
            elif col.choices:
                assert values.isin(col.choices).all(), (name, col.name)
        if spec.key:
            assert not frame.duplicated(list(spec.key)).any(), name


def test_references_hold(tables):
    skus = set(tables["products"]["sku"])
    resources = set(tables["resources"]["resource"])
    families = set(tables["products"]["family"])
    for name in ("actuals", "forecasts", "inventory", "routings", "supply_limits"):
        assert set(tables[name]["sku"]) <= skus, name
    for name in ("routings", "capacity", "headcount"):
        assert set(tables[name]["resource"]) <= resources, name
    assert set(tables["budget"]["family"]) == families
    assert set(tables["inventory"]["sku"]) == skus


def test_settings_hold_every_contract_key(tables):
    settings = _settings(tables)
    assert set(settings) == set(SETTINGS)
    assert settings["company_name"] == md.COMPANY
    assert settings["currency"] == "GBP"
    assert settings["plan_start"] == "2026-11"
    assert settings["horizon_months"] == "18"
    assert float(settings["tolerance_pct"]) == 5
    assert 45 <= float(settings["dso_days"]) <= 60
    assert 30 <= float(settings["dpo_days"]) <= 60


def test_company_size_and_calendar(tables):
    products = tables["products"]
    assert 30 <= len(products) <= 60
    assert 3 <= products["family"].nunique() <= 4
    res = tables["resources"]
    assert 4 <= len(res) <= 6 and res["site"].nunique() == 2
    assert res["hours_per_fte"].between(140, 160).all()
    assert res["cost_per_fte"].between(3000, 4500).all()
    routes = tables["routings"].groupby("sku").size()
    assert set(routes.index) == set(products["sku"]) and routes.between(1, 4).all()

    act = tables["actuals"]
    months = sorted(act["month"].unique())
    assert months == md.month_range("2023-11", 36) and months[-1] == "2026-10"
    launched = set(products.loc[products["launch_month"].notna(), "sku"])
    assert launched == {sku for sku, *_ in md.LAUNCHES}
    assert len(act) == 36 * (len(products) - len(launched))  # a launch has no history
    assert not set(act["sku"]) & launched

    horizon = md.month_range("2026-11", 18)
    history = md.month_range("2025-11", 12)  # the months finance booked (financial_actuals)
    for name in ("capacity", "headcount"):
        grid = tables[name]
        assert sorted(grid["month"].unique()) == history + horizon
        assert len(grid) == 30 * len(res)
    budget = tables["budget"]
    assert sorted(budget["month"].unique()) == horizon
    assert len(budget) == 18 * products["family"].nunique()
    assert budget[["closing_inventory_value", "headcount_fte"]].notna().all().all()
    assert set(tables["cash_items"]["month"]) <= set(history + horizon)
    assert sorted(tables["financial_actuals"]["month"]) == history


def test_forecast_cycles(tables):
    fc = tables["forecasts"]
    n_skus = len(tables["products"])
    cycles = sorted(fc["cycle"].unique())
    assert cycles == md.month_range("2026-05", 7)
    lag = np.array([md.month_diff(m, c) for m, c in zip(fc["month"], fc["cycle"], strict=True)])
    assert (lag >= 0).all()  # from the cycle's own month (lag 1) onwards
    n_launches = len(md.LAUNCHES)
    for cycle in cycles[:-1]:
        past = fc[fc["cycle"] == cycle]
        for source in ("sales", "marketing", "consensus"):
            rows = past[past["source"] == source]
            assert rows["month"].nunique() >= 6 and rows["month"].min() == cycle
            # a product launched in the horizon was not forecast in past cycles
            assert len(rows) == rows["month"].nunique() * (n_skus - n_launches)
    current = fc[fc["cycle"] == "2026-11"]
    horizon = md.month_range("2026-11", 18)
    products = tables["products"].set_index("sku")
    for source in ("sales", "marketing"):
        rows = current[current["source"] == source]
        assert sorted(rows["month"].unique()) == horizon
        # the current cycle forecasts each product from its launch to its end only
        for sku, months in rows.groupby("sku")["month"]:
            launch, end = products.at[sku, "launch_month"], products.at[sku, "end_month"]
            lifetime = [
                m
                for m in horizon
                if (pd.isna(launch) or m >= launch) and (pd.isna(end) or m <= end)
            ]
            assert sorted(months) == lifetime, (sku, source)
    consensus = current[current["source"] == "consensus"]
    assert 3 <= consensus["month"].nunique() < 18


def test_margins_are_plausible(story):
    assert 25 <= story["gross_margin_pct"] <= 40
    assert 5 <= story["operating_margin_pct"] <= 15
    assert 25e6 <= story["annual_revenue"] <= 60e6  # a mid-sized manufacturer


# --- reproducible --------------------------------------------------------------------------


def test_regenerating_gives_identical_bytes(tmp_path):
    md.build(tmp_path)
    written = sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*.csv"))
    shipped = sorted(
        str(p.relative_to(DEMO)) for p in DEMO.rglob("*.csv") if p.parent.name != "meeting"
    )
    assert written == shipped
    assert "history/2026-08/settings.csv" in written
    for name in written:
        assert (tmp_path / name).read_bytes() == (DEMO / name).read_bytes(), name


def test_main_writes_to_the_given_folder(tmp_path):
    assert md.main([str(tmp_path / "out")]) == 0
    assert (tmp_path / "out" / "products.csv").exists()


# --- the six stories, by the reference check -----------------------------------------------


def test_story_1_smart_controls_sales_forecast_is_inflated(story):
    assert story["sales_bias_pct"][md.INFLATED_FAMILY] > 15
    assert story["sales_bias_pct"][md.INFLATED_FAMILY] < 30
    assert story["sales_vs_trend_pct"][md.INFLATED_FAMILY] > 15


def test_story_2_valves_sales_forecast_is_sandbagged(story):
    assert -20 < story["sales_bias_pct"][md.SANDBAGGED_FAMILY] < -10
    assert story["sales_vs_trend_pct"][md.SANDBAGGED_FAMILY] < -8


def test_other_forecasts_are_honest(story):
    for family, bias in story["sales_bias_pct"].items():
        if family not in (md.INFLATED_FAMILY, md.SANDBAGGED_FAMILY):
            assert abs(bias) < 4, family
    for family, bias in story["marketing_bias_pct"].items():
        assert abs(bias) < 4, family


def test_story_3_press_and_weld_overloads_in_the_peak_and_demand_goes_unmet(story):
    over = story["overload_utilisation"]
    assert len(over) >= 3
    assert {"2027-11", "2027-12", "2028-01"} <= set(over)
    assert max(over.values()) > 1.3
    unmet = story["unmet_units_by_month"]
    assert {"2027-12", "2028-01"} <= set(unmet) and sum(unmet.values()) > 3000
    assert story["lost_revenue"] > 300_000


def test_other_resources_are_healthy(story):
    low, high = story["other_util_range"]
    assert low >= 0.6
    assert high <= 0.9


def test_story_4_budget_expects_more_second_half_revenue_than_supply_allows(story):
    assert story["budget_h2_revenue"] > story["plan_h2_revenue"] * 1.02
    gaps = story["family_gap_pct"]
    assert (gaps[md.RADIATORS].loc[["2027-12", "2028-01"]] < -10).all()
    # most of the picture stays near budget
    near = (gaps.abs() <= 5).to_numpy().mean()
    assert near > 0.9
    for family in (md.TOWEL_RAILS, md.VALVES, md.SMART):
        assert (gaps[family].abs() <= 5).all(), family


def test_story_5_recruitment_lags_labour_needed_and_labour_binds(story):
    short = story["labour_short"]  # needed > planned × 1.05 and staffed < available hours
    months = {m for m, r, _need, _plan in short if r == md.PRESS}
    assert {"2027-11", "2027-12", "2028-01"} <= months
    assert {r for _m, r, _need, _plan in short} <= {md.PRESS, md.COAT}
    worst = max(need / plan for _m, _r, need, plan in short)
    assert worst > 1.3


def test_story_7_a_launch_like_a_current_model_and_ends_one_leaving_stock(tables, story):
    products = tables["products"].set_index("sku")
    (sku, _name, family, _price, _route, launch, like), *_ = md.LAUNCHES
    assert (products.at[sku, "launch_month"], products.at[sku, "like_sku"]) == (launch, like)
    assert products.at[sku, "family"] == family == md.SMART
    assert products.at[like, "end_month"] < launch  # the successor of the current model
    assert "2026-11" < launch < "2028-04"
    plan = story["plan"]["sku"]
    new = plan[plan["sku"] == sku].set_index("month")
    assert (new.loc[new.index < launch, "demand"] == 0).all()
    assert (new.loc[new.index >= launch, "demand"] > 0).all()
    ended = [s for s, end in md.ENDS.items() if s in md.LAST_TIME_BUY]
    assert len(ended) == 1
    rail = plan[plan["sku"] == ended[0]].set_index("month")
    end = md.ENDS[ended[0]]
    assert (rail.loc[rail.index > end, "demand"] == 0).all()
    assert (rail.loc[rail.index > end, "production"] == 0).all()
    left = rail.at[end, "end_inventory"]
    assert left > 300  # the last-time buy outlasts the orders
    assert (rail.loc[rail.index > end, "end_inventory"] == left).all()  # it stays on hand
    assert products.at[ended[0], "family"] == md.TOWEL_RAILS


def test_story_6_cash_dips_below_minimum(story):
    below = story["cash_below_minimum"]
    assert 1 <= len(below) <= 3
    assert "2027-10" in below
    assert story["min_cash"] < story["minimum_cash"] - 100_000
    assert (story["company"]["closing_cash"] > 0).all()  # a dip, not a collapse


# --- the real engine -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def engine_plan(demo_store_file):
    with Store(demo_store_file) as store:
        yield plan_for_store(store)


def test_real_engine_shows_all_six_stories(engine_plan):
    dis = engine_plan.disagreements
    by_type = {t: set(g["entity"]) for t, g in dis.groupby("type")}
    assert md.INFLATED_FAMILY in by_type["forecast_inflated"]
    assert md.SANDBAGGED_FAMILY in by_type["forecast_sandbagged"]
    assert by_type["forecast_inflated"] == {md.INFLATED_FAMILY}
    assert by_type["forecast_sandbagged"] == {md.SANDBAGGED_FAMILY}
    assert by_type["capacity_overload"] == {md.PRESS}
    assert md.RADIATORS in by_type["unmet_demand"]
    assert md.PRESS in by_type["labour_shortfall"]
    assert md.RADIATORS in by_type["revenue_vs_budget"]
    assert "cash_below_minimum" in by_type

    overload = dis[dis["type"] == "capacity_overload"]
    assert overload["month"].nunique() >= 3
    # the overload's money is the sales it loses, once: the Press & Weld root cause
    press = engine_plan.root_causes.set_index("cause").loc[f"capacity|{md.PRESS}"]
    assert press["severity"] == "high"
    assert press["money_at_stake"] == pytest.approx(engine_plan.summary["unmet_revenue"], rel=0.01)
    cash = dis[dis["type"] == "cash_below_minimum"]
    assert "2027-10" in set(cash["month"])


def test_real_engine_shows_the_product_review(engine_plan, story):
    from sop_core.views.lifecycle import product_review

    (sku, _name, _family, _price, _route, launch, like), *_ = md.LAUNCHES
    model = engine_plan.model
    s = list(model.skus).index(sku)
    # the launch takes its like sku's statistical baseline (as fitted: the like sku itself ends
    # before the launch, so its own plan has none there) from its launch month on
    fitted = model.data.baseline
    fitted = fitted[fitted["sku"] == like].set_index("month")["units"]
    after = np.asarray(model.months) >= launch
    assert after.sum() == 14
    np.testing.assert_allclose(
        model.baseline[after, s], fitted.reindex(np.asarray(model.months)[after]).to_numpy()
    )
    assert np.isnan(model.baseline[~after, s]).all()
    # the stock left by the towel rail: a disagreement priced at the reference's units × cost
    ended = next(s for s in md.ENDS if s in md.LAST_TIME_BUY)
    end = md.ENDS[ended]
    ref = story["plan"]["sku"].set_index(["sku", "month"]).at[(ended, end), "end_inventory"]
    product = md.read_tables(DEMO)["products"].set_index("sku").loc[ended]
    cost = product["unit_material_cost"] + product["unit_variable_cost"]
    dis = engine_plan.disagreements
    row = (
        dis[dis["type"] == "stock_left_end_of_life"].set_index("cause").loc[f"end_of_life|{ended}"]
    )
    assert (row["month"], row["owner"], row["review"]) == (end, "Operations", "Supply review")
    assert row["figure_a"] == pytest.approx(ref)
    assert row["money_at_stake"] == pytest.approx(ref * cost)
    assert row["severity"] in ("medium", "high")
    review = product_review(engine_plan).set_index("sku")
    assert review.at[sku, "event"] == "launch"
    assert review.at[sku, "like_for_like"].startswith(str(product_name(like)))
    assert review.at[ended, "stock_left_value"] == pytest.approx(ref * cost)
    assert review.at[like, "event"] == "end" and review.at[like, "stock_left_units"] == 0


def product_name(sku: str) -> str:
    return md.read_tables(DEMO)["products"].set_index("sku").at[sku, "name"]


def test_real_engine_agrees_with_the_reference_check(engine_plan, story):
    company = engine_plan.company.set_index("month")
    ref = story["company"].set_index("month")
    for col in ("revenue", "gross_margin", "closing_cash"):
        np.testing.assert_allclose(company[col], ref[col], rtol=1e-6, atol=1.0)
    res = engine_plan.resource
    press = res[res["resource"] == md.PRESS].set_index("month")
    assert (press["utilisation"] > 1.0).sum() >= 3
    peak = press.loc[["2027-11", "2027-12", "2028-01"]]
    assert (peak["fte_needed"] > peak["fte_planned"] * 1.05).all()
    others = res[res["resource"] != md.PRESS]
    assert others["utilisation"].between(0.6, 0.9).all()


# --- the performance review: twelve months booked, three cycles locked ----------------------


def _history(name: str) -> pd.DataFrame:
    return pd.read_csv(DEMO / "history" / f"{name}.csv", dtype=str, keep_default_na=False)


def test_financial_actuals_agree_with_the_units_shipped_and_the_plan_s_opening(tables):
    fa = tables["financial_actuals"].set_index("month")
    products = tables["products"].set_index("sku")
    act = tables["actuals"]
    listed = (
        act.assign(value=act["units"] * act["sku"].map(products["unit_price"]))
        .groupby("month")["value"]
        .sum()
    )
    realised = fa["revenue"] / listed.reindex(fa.index)
    assert realised.between(0.96, 0.99).all()  # revenue ≈ units × list price less rebates
    settings = _settings(tables)
    october = fa.loc["2026-10"]
    assert october["closing_cash"] == float(settings["opening_cash"])  # October closes, Nov opens
    assert october["payables"] == float(settings["opening_payables"])
    cost = products["unit_material_cost"] + products["unit_variable_cost"]
    on_hand = tables["inventory"].set_index("sku")["on_hand_units"]
    assert october["inventory_value"] == pytest.approx((on_hand * cost).sum(), abs=1.0)
    # DSO sits near the 52 days the plan assumes, then drifts to about 61 days over Aug-Oct
    dso = 30 * fa["receivables"] / fa["revenue"]
    assert dso.loc["2025-11":"2026-07"].between(49, 55).all()
    drift = fa.loc["2026-08":"2026-10"]
    measured = 30 * drift["receivables"].sum() / drift["revenue"].sum()
    assert 60 <= measured <= 62 and float(settings["dso_days"]) == 52


def test_each_locked_cycle_opens_on_the_month_before_it(tables):
    fa = tables["financial_actuals"].set_index("month")
    cycles = _history("cycles")
    assert cycles["cycle"].tolist() == md.LOCKED_CYCLES == ["2026-08", "2026-09", "2026-10"]
    for cycle in md.LOCKED_CYCLES:
        own = pd.read_csv(DEMO / "history" / cycle / "settings.csv", dtype=str)
        own = dict(zip(own["key"], own["value"], strict=True))
        before = fa.loc[md.add_months(cycle, -1)]
        assert own["plan_start"] == cycle
        assert float(own["opening_cash"]) == before["closing_cash"]
        assert float(own["opening_receivables"]) == before["receivables"]
        assert own["dso_days"] == "52"


@pytest.fixture(scope="module")
def review_store(demo_store_file):
    with Store(demo_store_file) as store:
        yield store


def test_three_earlier_cycles_are_locked_with_the_plan_each_had(review_store):
    from sop_core.meeting.record import plan_of_record
    from sop_core.views.review import locked_cycles

    assert locked_cycles(review_store) == ["2026-08", "2026-09", "2026-10"]
    for cycle in locked_cycles(review_store):
        record = plan_of_record(review_store, cycle)
        assert record.locked and record.locked_by == "Catherine Finch (CEO)"
        assert record.model.months[0] == cycle and len(record.model.months) == 18
        assert not record.warnings  # recomputing gives the figures stored at the lock
        # what was known then: no actual of the cycle's own month or later
        assert record.model.data.actuals["month"].max() < cycle
        assert record.model.data.financial_actuals["month"].max() < cycle


def test_the_review_shows_last_month_and_the_history(review_store):
    from sop_core.views.review import last_month_against_plan, review, review_history

    last = last_month_against_plan(review_store)
    assert (last.month, last.cycle) == ("2026-10", "2026-10")
    revenue = last.figure("revenue")
    assert revenue[2] < 0  # below plan: customers paid about 2.5 % under list
    frame = review(review_store, "2026-08")
    assert sorted(frame["month"].unique()) == ["2026-08", "2026-09", "2026-10"]
    history = review_history(review_store)
    assert sorted(set(zip(history["cycle"], history["lag"], strict=True))) == [
        ("2026-08", 1),
        ("2026-08", 2),
        ("2026-08", 3),
        ("2026-09", 1),
        ("2026-09", 2),
        ("2026-10", 1),
    ]


def test_one_assumption_drifted_dso_and_it_is_a_disagreement(review_store, engine_plan):
    from sop_core.meeting.record import plan_of_record
    from sop_core.views.review import assumption_tests_for

    tests = assumption_tests_for(review_store, plan_of_record(review_store))
    flagged = tests[tests["flagged"]]
    assert flagged["key"].tolist() == ["dso_days"]
    dso = flagged.iloc[0]
    assert dso["assumed"] == 52 and 60 <= dso["measured"] <= 62
    assert dso["owner"] == "Credit Controller"  # the register's owner of the linked assumption
    assert "assumed 52 days; measured 61 days over Aug 2026–Oct 2026" in dso["text"]
    dis = engine_plan.disagreements
    drift = dis[dis["type"] == "assumption_drift"]
    assert drift["entity"].tolist() == ["Customer payment terms (DSO)"]
    assert drift["owner"].tolist() == ["Credit Controller"]
    assert drift["money_at_stake"].iloc[0] == pytest.approx(dso["money_at_stake"])


def test_one_decision_delivered_and_one_did_not(review_store):
    from sop_core.views.review import decision_outcomes

    outcomes = decision_outcomes(review_store).set_index("measure")
    assert outcomes["taken_in"].tolist() == ["2026-08", "2026-08"]
    stock = outcomes.loc["inventory_value"]
    assert stock["verdict"] == "delivered" and stock["actual"] <= stock["expected"] < stock["plan"]
    credit = outcomes.loc["receivables"]
    assert credit["verdict"] == "not" and credit["actual"] > credit["plan"] > credit["expected"]
    # judged when the demo was built, and audited
    assert outcomes["judged_at"].notna().all()
    judged = review_store.query("SELECT count(*) AS n FROM audit_log WHERE action = 'judge'")
    assert int(judged["n"].iloc[0]) == 2
