"""The plan engine end to end: a hand-computed case, a lever case, lever effects, properties.

The hand case (2 skus, 3 months, 2026-01..03) is shared by test_disagreements.py and
test_cli_plan.py. Every expected number is written out; the arithmetic is in the comments.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sop_core.errors import LeverError, PlanError
from sop_core.plan.engine import compute, plan
from sop_core.plan.model import prepare
from sop_core.plan.result import LEVEL_COLUMNS, SKU_COLUMNS
from sop_core.store.plandata import plan_data_from_frames

MONTHS = ["2026-01", "2026-02", "2026-03"]


def settings_frame(**values) -> pd.DataFrame:
    return pd.DataFrame({"key": list(values), "value": [str(v) for v in values.values()]})


def hand_tables(*, all_consensus: bool = False) -> dict[str, pd.DataFrame]:
    """The hand case.

    Products: A (family F1) price 10, material 4, variable 1 (unit cost 5), cover 15 days;
              B (family F2) price 20, material 6, variable 2 (unit cost 8), cover 0 days.
    Demand:   A consensus 100, 80, 60. B: 2026-01 consensus 50 (sales 70 and baseline 999
              are ignored), 2026-02 sales 50, 2026-03 baseline 40.
    On hand:  A 10, B 0.
    Line:     A 1 h/unit, B 2 h/unit; available 184, 400, 400 h; no headcount (no labour cost).
    Team:     A 1 h/unit; available 1000 h; planned FTE 10, 3, 10 × 24 h/FTE = 240, 72, 240 h
              (labour binds), cost 30 per FTE.
    Limits:   A 2026-03 at most 50 units (binds); B 2026-03 at most 100 (does not).
    Money:    opening cash 5000, receivables 1000, payables 500; DSO 15, DPO 30; fixed 200 a
              month; capex −1000 in 2026-02; minimum cash 5500.
    """
    forecasts = [
        ("2026-01", "2026-01", "A", "consensus", 100.0),
        ("2026-01", "2026-02", "A", "consensus", 80.0),
        ("2026-01", "2026-03", "A", "consensus", 60.0),
        ("2026-01", "2026-01", "B", "consensus", 50.0),
        ("2026-01", "2026-01", "B", "sales", 70.0),
        ("2026-01", "2026-02", "B", "sales", 50.0),
        ("2025-12", "2026-03", "B", "consensus", 500.0),  # an older cycle: not the plan
    ]
    if all_consensus:
        forecasts += [
            ("2026-01", "2026-02", "B", "consensus", 50.0),
            ("2026-01", "2026-03", "B", "consensus", 40.0),
        ]
    return {
        "products": pd.DataFrame(
            {
                "sku": ["B", "A"],
                "name": ["Bolt", "Anchor"],
                "family": ["F2", "F1"],
                "unit_price": [20.0, 10.0],
                "unit_material_cost": [6.0, 4.0],
                "unit_variable_cost": [2.0, 1.0],
                "target_cover_days": [0.0, 15.0],
            }
        ),
        "forecasts": pd.DataFrame(forecasts, columns=["cycle", "month", "sku", "source", "units"]),
        "inventory": pd.DataFrame({"sku": ["A"], "on_hand_units": [10.0]}),
        "resources": pd.DataFrame(
            {
                "resource": ["Team", "Line"],
                "site": ["Leeds", "Leeds"],
                "hours_per_fte": [24.0, 160.0],
                "cost_per_fte": [30.0, 3000.0],
            }
        ),
        "routings": pd.DataFrame(
            {
                "sku": ["A", "A", "B"],
                "resource": ["Line", "Team", "Line"],
                "hours_per_unit": [1.0, 1.0, 2.0],
            }
        ),
        "capacity": pd.DataFrame(
            {
                "month": MONTHS * 2,
                "resource": ["Line"] * 3 + ["Team"] * 3,
                "available_hours": [184.0, 400.0, 400.0, 1000.0, 1000.0, 1000.0],
            }
        ),
        "headcount": pd.DataFrame(
            {"month": MONTHS, "resource": ["Team"] * 3, "planned_fte": [10.0, 3.0, 10.0]}
        ),
        "supply_limits": pd.DataFrame(
            {"month": ["2026-03", "2026-03"], "sku": ["A", "B"], "max_units": [50.0, 100.0]}
        ),
        "budget": pd.DataFrame(
            {
                "month": ["2026-01", "2026-02", "2026-03"],
                "family": ["F1", "F1", "F2"],
                "revenue": [1000.0, 1000.0, 820.0],
                "gross_margin": [200.0, 300.0, 400.0],
                "closing_inventory_value": [50.0, np.nan, np.nan],
            }
        ),
        "cash_items": pd.DataFrame({"month": ["2026-02"], "item": ["capex"], "amount": [-1000.0]}),
        "settings": settings_frame(
            currency="EUR",
            plan_start="2026-01",
            horizon_months=3,
            opening_cash=5000,
            opening_receivables=1000,
            opening_payables=500,
            dso_days=15,
            dpo_days=30,
            fixed_costs_per_month=200,
            minimum_cash=5500,
            tolerance_pct=5,
        ),
    }


HAND_BASELINE = pd.DataFrame(
    {"sku": ["B", "B"], "month": ["2026-01", "2026-03"], "units": [999.0, 40.0]}
)


def hand_data(**kw):
    return plan_data_from_frames(hand_tables(**kw), baseline=HAND_BASELINE)


def hand_plan(levers=None):
    return plan(hand_data(), levers)


def column(frame: pd.DataFrame, name: str, **where) -> list[float]:
    for key, value in where.items():
        frame = frame[frame[key] == value]
    return frame[name].tolist()


# --- the hand case ------------------------------------------------------------------------
# 2026-01  target A = 15/30 × D(A,02) = 0.5 × 80 = 40; req A = 100 + 40 − 10 = 130; req B = 50
#          load Line = 130×1 + 50×2 = 230 > cap 184 → 184/230 = 0.8; Team 130 ≤ min(1000, 240)
#          scale A = min(0.8, 1) = 0.8, B = 0.8; P A = 104, P B = 40
#          ship A = min(100, 10+104) = 100, end A = 14; ship B = min(50, 40) = 40, unmet B 10
# 2026-02  target A = 0.5 × 60 = 30; req A = 80 + 30 − 14 = 96; req B = 50
#          Line 96 + 100 = 196 ≤ 400; Team 96 > min(1000, 3 × 24 = 72) → 72/96 = 0.75
#          P A = 96 × 0.75 = 72, P B = 50; ship A = min(80, 14+72) = 80, end A 6; ship B 50
# 2026-03  last month: target A = 0.5 × D(A,03) = 30; req A = 60 + 30 − 6 = 84; req B = 40
#          Line 84 + 80 = 164 ≤ 400; Team 84 ≤ 240; P A = min(84, limit 50) = 50; P B = 40
#          ship A = min(60, 6 + 50) = 56, unmet A 4, end A 0; ship B 40
SUPPLY = {
    # array: {sku: [2026-01, 2026-02, 2026-03]}
    "req": {"A": [130, 96, 84], "B": [50, 50, 40]},
    "scale": {"A": [0.8, 0.75, 1], "B": [0.8, 1, 1]},
    "production": {"A": [104, 72, 50], "B": [40, 50, 40]},
    "shipped": {"A": [100, 80, 56], "B": [40, 50, 40]},
    "unmet": {"A": [0, 0, 4], "B": [10, 0, 0]},
    "begin_inventory": {"A": [10, 14, 6], "B": [0, 0, 0]},
    "end_inventory": {"A": [14, 6, 0], "B": [0, 0, 0]},
}


@pytest.mark.parametrize("array", list(SUPPLY))
def test_hand_case_supply_per_sku(array):
    result = hand_plan()
    skus = list(result.model.skus)
    got = getattr(result.supply, array)
    for sku, expected in SUPPLY[array].items():
        assert got[:, skus.index(sku)].tolist() == pytest.approx(expected), (array, sku)


def test_hand_case_demand_sources():
    result = hand_plan()
    sku = result.sku
    assert column(sku, "demand_units", sku="B") == [50.0, 50.0, 40.0]
    assert column(sku, "demand_source", sku="B") == ["consensus", "sales", "baseline"]
    assert column(sku, "demand_source", sku="A") == ["consensus"] * 3


# Finance, by month (company):
# revenue   = ship × price: 100×10 + 40×20 = 1800; 80×10 + 50×20 = 1800; 56×10 + 40×20 = 1360
# var. COGS = ship × (material + variable): 100×5 + 40×8 = 820; 80×5 + 50×8 = 800; 56×5 + 40×8 = 600
# labour    = Team planned FTE × 30 (Line has no headcount rows): 300, 90, 300
# GM        = 1800 − 820 − 300 = 680; 1800 − 800 − 90 = 910; 1360 − 600 − 300 = 460
# OP        = GM − 200 = 480, 710, 260
# inventory = end × unit cost: 14×5 = 70; 6×5 = 30; 0. Opening: 10 × 5 = 50
# receivables = revenue × 15/30: 900, 900, 680 (opening 1000)
# payables  = P × material × 30/30: 104×4 + 40×6 = 656; 72×4 + 50×6 = 588; 50×4 + 40×6 = 440 (opening 500)
# cash flow = OP − Δrec − Δinv + Δpay + items:
#   480 − (900−1000) − (70−50) + (656−500) = 480 + 100 − 20 + 156 = 716
#   710 − 0 − (30−70) + (588−656) − 1000 = 710 + 40 − 68 − 1000 = −318
#   260 − (680−900) − (0−30) + (440−588) = 260 + 220 + 30 − 148 = 362
# closing cash = 5000 + 716 = 5716; 5716 − 318 = 5398; 5398 + 362 = 5760
HAND_COMPANY = {
    "month": MONTHS,
    "revenue": [1800, 1800, 1360],
    "variable_cogs": [820, 800, 600],
    "labour_cost": [300, 90, 300],
    "gross_margin": [680, 910, 460],
    "fixed_costs": [200, 200, 200],
    "operating_profit": [480, 710, 260],
    "inventory_value": [70, 30, 0],
    "receivables": [900, 900, 680],
    "payables": [656, 588, 440],
    "cash_flow": [716, -318, 362],
    "closing_cash": [5716, 5398, 5760],
}


def test_hand_case_company():
    company = hand_plan().level("company")
    assert list(company.columns) == LEVEL_COLUMNS["company"]
    for name, expected in HAND_COMPANY.items():
        got = company[name].tolist()
        assert got == (expected if name == "month" else pytest.approx(expected)), name


# Family F1 = A, F2 = B. Labour goes to skus by their share of each resource's load hours:
# Team is used by A only, so F1 carries all of it: F1 GM = 1000 − 500 − 300 = 200; 800 − 400 − 90
# = 310; 560 − 280 − 300 = −20. F2 GM = 800 − 320 = 480; 1000 − 400 = 600; 800 − 320 = 480.
HAND_FAMILY = {
    ("F1", "demand_units"): [100, 80, 60],
    ("F1", "production_units"): [104, 72, 50],
    ("F1", "shipped_units"): [100, 80, 56],
    ("F1", "unmet_units"): [0, 0, 4],
    ("F1", "end_inventory_units"): [14, 6, 0],
    ("F1", "revenue"): [1000, 800, 560],
    ("F1", "variable_cogs"): [500, 400, 280],
    ("F1", "inventory_value"): [70, 30, 0],
    ("F1", "labour_cost"): [300, 90, 300],
    ("F1", "gross_margin"): [200, 310, -20],
    ("F1", "unmet_revenue"): [0, 0, 40],
    ("F2", "demand_units"): [50, 50, 40],
    ("F2", "production_units"): [40, 50, 40],
    ("F2", "shipped_units"): [40, 50, 40],
    ("F2", "unmet_units"): [10, 0, 0],
    ("F2", "revenue"): [800, 1000, 800],
    ("F2", "variable_cogs"): [320, 400, 320],
    ("F2", "labour_cost"): [0, 0, 0],
    ("F2", "gross_margin"): [480, 600, 480],
    ("F2", "unmet_revenue"): [200, 0, 0],
}


def test_hand_case_family():
    result = hand_plan()
    family = result.family
    assert list(result.level("family").columns) == LEVEL_COLUMNS["family"]
    assert list(family.columns[: len(LEVEL_COLUMNS["family"])]) == LEVEL_COLUMNS["family"]
    assert family[["month", "family"]].values.tolist() == [
        [m, f] for m in MONTHS for f in ("F1", "F2")
    ]
    for (fam, name), expected in HAND_FAMILY.items():
        assert column(family, name, family=fam) == pytest.approx(expected), (fam, name)


# Resources: util = load / cap; fte_needed = load / hours_per_fte (Line 160, Team 24).
# Line: 230/184 = 1.25, 196/400 = 0.49, 164/400 = 0.41; FTE 1.4375, 1.225, 1.025; no plan.
# Team: 130/240 = 0.541666…, 96/72 = 1.333…, 84/240 = 0.35; FTE 5.41666…, 4, 3.5; planned 10, 3, 10.
HAND_RESOURCE = {
    ("Line", "load_hours"): [230, 196, 164],
    ("Line", "capacity_hours"): [184, 400, 400],
    ("Line", "utilisation"): [1.25, 0.49, 0.41],
    ("Line", "fte_needed"): [1.4375, 1.225, 1.025],
    ("Team", "load_hours"): [130, 96, 84],
    ("Team", "capacity_hours"): [240, 72, 240],
    ("Team", "utilisation"): [130 / 240, 96 / 72, 0.35],
    ("Team", "fte_needed"): [130 / 24, 4, 3.5],
    ("Team", "fte_planned"): [10, 3, 10],
    ("Team", "labour_cost"): [300, 90, 300],
    ("Line", "labour_cost"): [0, 0, 0],
}


def test_hand_case_resource():
    result = hand_plan()
    resource = result.resource
    assert list(result.level("resource").columns) == LEVEL_COLUMNS["resource"]
    for (res, name), expected in HAND_RESOURCE.items():
        assert column(resource, name, resource=res) == pytest.approx(expected), (res, name)
    assert resource[resource["resource"] == "Line"]["fte_planned"].isna().all()


def test_hand_case_budget_gap():
    gap = hand_plan().budget_gap
    f1 = gap[gap["family"] == "F1"]
    assert f1["plan_revenue"].tolist() == pytest.approx([1000, 800, 560])
    assert f1["budget_revenue"].tolist()[:2] == [1000, 1000] and np.isnan(
        f1["budget_revenue"].iloc[2]
    )
    assert f1["revenue_gap"].tolist()[:2] == pytest.approx([0, -200])
    assert f1["gross_margin_gap"].tolist()[:2] == pytest.approx([0, 10])
    assert f1["budget_inventory_value"].tolist()[0] == 50
    f2 = gap[(gap["family"] == "F2") & (gap["month"] == "2026-03")].iloc[0]
    assert (f2["revenue_gap"], f2["gross_margin_gap"]) == pytest.approx((-20, 80))


def test_hand_case_summary():
    s = hand_plan().summary
    expected = {
        "revenue": 4960,
        "variable_cogs": 2220,
        "labour_cost": 690,
        "gross_margin": 2050,
        "gross_margin_pct": 2050 / 4960 * 100,
        "operating_profit": 1450,
        "closing_cash_end": 5760,
        "lowest_cash": 5398,
        "inventory_value_end": 0,
        "unmet_units": 14,
        "unmet_revenue": 240,  # 10 × 20 + 4 × 10
        "peak_utilisation": 96 / 72,
        "budget_revenue": 2820,
        "budget_gross_margin": 900,
        # the plan over the budget's cells: F1 Jan 1000, F1 Feb 800, F2 Mar 800 = 2600
        "revenue_in_budget": 2600,
        "revenue_vs_budget": 2600 - 2820,
        "gross_margin_vs_budget": 0 + 10 + 80,  # F1 Jan, F1 Feb, F2 Mar (test_hand_case_budget_gap)
        "budget_months": 3,
        "disagreements_count": 11,
        "root_causes_count": 8,
        # 200 + 40 + 200 + 137.5 + 195 + 102 + 89.756 + 20, each pound once (test_disagreements.py)
        "money_at_stake": 200 + 40 + 200 + 137.5 + 195 + 102 + (80 + 20 * 400 / 820) + 20,
    }
    for key, value in expected.items():
        assert s[key] == pytest.approx(value), key
    assert s["lowest_cash_month"] == "2026-02"
    assert (s["peak_utilisation_resource"], s["peak_utilisation_month"]) == ("Team", "2026-02")
    assert (s["budget_first_month"], s["budget_last_month"]) == ("2026-01", "2026-03")


def test_sku_frame_columns_and_order():
    sku = hand_plan().sku
    assert list(sku.columns) == SKU_COLUMNS
    assert sku[["month", "sku", "family"]].values.tolist()[:2] == [
        ["2026-01", "A", "F1"],
        ["2026-01", "B", "F2"],
    ]
    # family margins add up to the company's
    company = hand_plan().company
    assert sku.groupby("month")["gross_margin"].sum().tolist() == pytest.approx(
        company["gross_margin"].tolist()
    )


# --- a lever case ---------------------------------------------------------------------------
# price_change_pct:F1=-10 → A sells at 9; capacity_change_pct:Line=25 → Line 230, 500, 500 h;
# dso_days=30.
# 2026-01 req A 130, B 50; Line load 230 = cap 230 → scale 1; P A 130, P B 50;
#         ship A 100, end A 40; ship B 50
# 2026-02 req A = 80 + 30 − 40 = 70; Team 70 ≤ 72; P A 70, P B 50; ship A 80, end A 30; ship B 50
# 2026-03 req A = 60 + 30 − 30 = 60 → limit 50; P B 40; ship A = min(60, 30+50) = 60, end A 20
# revenue = 100×9 + 50×20 = 1900; 80×9 + 1000 = 1720; 60×9 + 40×20 = 1340
# COGS = 500 + 400 = 900; 400 + 400 = 800; 300 + 320 = 620; labour 300, 90, 300
# GM = 700, 830, 420; OP = 500, 630, 220; inventory = 40×5 = 200, 150, 100 (opening 50)
# receivables (DSO 30) = revenue: 1900, 1720, 1340; payables = 130×4 + 50×6 = 820; 70×4 + 300 = 580;
#   50×4 + 40×6 = 440
# cash flow = 500 − 900 − 150 + 320 = −230; 630 + 180 + 50 − 240 − 1000 = −380; 220 + 380 + 50 − 140 = 510
# closing = 4770, 4390, 4900
LEVERED_COMPANY = {
    "revenue": [1900, 1720, 1340],
    "variable_cogs": [900, 800, 620],
    "labour_cost": [300, 90, 300],
    "gross_margin": [700, 830, 420],
    "operating_profit": [500, 630, 220],
    "inventory_value": [200, 150, 100],
    "receivables": [1900, 1720, 1340],
    "payables": [820, 580, 440],
    "cash_flow": [-230, -380, 510],
    "closing_cash": [4770, 4390, 4900],
}
LEVERS = ["price_change_pct:F1=-10", "capacity_change_pct:Line=25", "dso_days=30"]


def test_lever_case_company():
    company = hand_plan(LEVERS).company
    for name, expected in LEVERED_COMPANY.items():
        assert company[name].tolist() == pytest.approx(expected), name


def test_lever_case_supply():
    result = hand_plan(LEVERS)
    assert column(result.resource, "capacity_hours", resource="Line") == pytest.approx(
        [230, 500, 500]
    )
    assert column(result.sku, "production_units", sku="A") == pytest.approx([130, 70, 50])
    assert column(result.sku, "end_inventory_units", sku="A") == pytest.approx([40, 30, 20])
    assert column(result.sku, "unmet_units", sku="B") == pytest.approx([0, 0, 0])
    assert result.unit_price[0].tolist() == pytest.approx([9, 20])  # (M, S): every month alike


def test_levers_as_dict_and_strings_agree_and_model_is_reused():
    model = prepare(hand_data())
    from sop_core.plan.levers import parse_levers

    a = compute(model, LEVERS).company
    b = compute(model, parse_levers(LEVERS)).company
    pd.testing.assert_frame_equal(a, b)
    base = compute(model).company  # the model is unchanged by a levered compute
    assert base["closing_cash"].tolist() == pytest.approx([5716, 5398, 5760])


# --- levers with a time window ---------------------------------------------------------------
# price_change_pct:F1@2026-02=-10 → A sells at 9 from Feb on (Jan at 10); dso_days@2026-03=30 →
# DSO 15 in Jan and Feb, 30 in Mar. Supply as in the hand case (no elasticity: volume unmoved).
# revenue = 100×10 + 40×20 = 1800; 80×9 + 50×20 = 1720; 56×9 + 40×20 = 1304
# GM = 1800 − 820 − 300 = 680; 1720 − 800 − 90 = 830; 1304 − 600 − 300 = 404; OP = 480, 630, 204
# receivables = 1800 × 15/30 = 900; 1720 × 15/30 = 860; 1304 × 30/30 = 1304
# cash flow = 480 + 100 − 20 + 156 = 716; 630 + 40 + 40 − 68 − 1000 = −358;
#             204 − (1304 − 860) + 30 − 148 = −358; closing = 5716, 5358, 5000
WINDOWED = ["price_change_pct:F1@2026-02=-10", "dso_days@2026-03=30"]
WINDOWED_COMPANY = {
    "revenue": [1800, 1720, 1304],
    "gross_margin": [680, 830, 404],
    "operating_profit": [480, 630, 204],
    "receivables": [900, 860, 1304],
    "cash_flow": [716, -358, -358],
    "closing_cash": [5716, 5358, 5000],
}


def test_windowed_levers_apply_in_their_months_only():
    result = hand_plan(WINDOWED)
    company = result.company
    for name, expected in WINDOWED_COMPANY.items():
        assert company[name].tolist() == pytest.approx(expected), name
    assert result.unit_price[:, 0].tolist() == pytest.approx([10, 9, 9])  # A by month
    assert result.dso_days.tolist() == [15, 15, 30]


# headcount_change_fte:Team@2026-02..2026-02=1: Team has 4 FTE in Feb only (cap 4 × 24 = 96 h,
# labour 120); Jan and Mar as planned (10 FTE, labour 300).
# 2026-02 req A 96 ≤ 96 → P A 96 (not 72); ship A 80, end A 30
# 2026-03 req A = 60 + 30 − 30 = 60 → limit 50; ship A = min(60, 30 + 50) = 60, end A 20
# GM = 680; 1800 − 800 − 120 = 880; (600 + 800) − (300 + 320) − 300 = 480
def test_a_hire_from_a_month_is_costed_from_that_month():
    result = hand_plan(["headcount_change_fte:Team@2026-02..2026-02=1"])
    assert column(result.resource, "fte_planned", resource="Team") == pytest.approx([10, 4, 10])
    assert result.company["labour_cost"].tolist() == pytest.approx([300, 120, 300])
    assert column(result.sku, "production_units", sku="A") == pytest.approx([104, 96, 50])
    assert result.company["gross_margin"].tolist() == pytest.approx([680, 880, 480])


def test_without_windows_the_arrays_are_one_row_seen_every_month():
    result = hand_plan(LEVERS)
    assert result.unit_price.strides[0] == 0  # a broadcast view: no per-month copy
    assert result.dso_days.tolist() == [30, 30, 30]


# --- price elasticity -----------------------------------------------------------------------
# price_change_pct:F1=25 with price_elasticity:F1=-1: A's demand × 1.25 ^ −1 = 0.8 → 80, 64, 48;
# B (F2, no price change) keeps 50, 50, 40. From Feb only: Jan keeps 100.
# price −10 % with elasticity −2: × 0.9 ^ −2 = 1 / 0.81 → 123.456…, 98.765…, 74.074…
@pytest.mark.parametrize(
    "levers, demand_a",
    [
        (["price_change_pct:F1=25", "price_elasticity:F1=-1"], [80, 64, 48]),
        (["price_change_pct:F1@2026-02=25", "price_elasticity:F1=-1"], [100, 64, 48]),
        (["price_change_pct=-10", "price_elasticity:F1=-2"], [100 / 0.81, 80 / 0.81, 60 / 0.81]),
        (["price_change_pct:F1=25"], [100, 80, 60]),  # elasticity 0: volume unmoved
        (["price_elasticity:F1=-1"], [100, 80, 60]),  # no price change: nothing moves
    ],
)
def test_price_elasticity_moves_the_familys_volume(levers, demand_a):
    result = hand_plan(levers)
    assert column(result.sku, "demand_units", sku="A") == pytest.approx(demand_a)
    assert column(result.sku, "demand_units", sku="B") == pytest.approx([50, 50, 40])


def test_price_cut_of_100_pct_with_negative_elasticity_is_refused():
    with pytest.raises(LeverError, match="Price −100 % with a negative price elasticity on F1"):
        hand_plan(["price_change_pct=-100", "price_elasticity:F1=-1"])


# --- each lever moves what it should and nothing else ----------------------------------------
LEVER_EFFECTS = [
    # (lever, (level, column) that change, (level, column) that stay)
    (
        "dso_days=45",
        [("company", "receivables"), ("company", "cash_flow"), ("company", "closing_cash")],
        [
            ("company", "revenue"),
            ("company", "gross_margin"),
            ("company", "payables"),
            ("family", "shipped_units"),
        ],
    ),
    (
        "dpo_days=60",
        [("company", "payables"), ("company", "closing_cash")],
        [("company", "revenue"), ("company", "receivables"), ("company", "gross_margin")],
    ),
    (
        "price_change_pct=-3",
        [("company", "revenue"), ("company", "gross_margin"), ("company", "receivables")],
        [
            ("family", "shipped_units"),
            ("family", "production_units"),
            ("company", "variable_cogs"),
            ("company", "payables"),
            ("company", "inventory_value"),
        ],
    ),
    (
        "price_change_pct:F2=-3",
        [("company", "revenue")],
        [("sku", "revenue", "A"), ("family", "shipped_units")],
    ),
    (
        "material_cost_change_pct=10",
        [
            ("company", "variable_cogs"),
            ("company", "inventory_value"),
            ("company", "payables"),
            ("company", "gross_margin"),
        ],
        [("company", "revenue"), ("family", "shipped_units"), ("company", "receivables")],
    ),
    (
        "volume_change_pct=-20",
        [("family", "demand_units"), ("company", "revenue")],
        [("resource", "capacity_hours"), ("company", "labour_cost"), ("company", "fixed_costs")],
    ),
    (
        "capacity_change_pct:Line=50",
        [("resource", "capacity_hours", "Line"), ("family", "production_units")],
        [
            ("family", "demand_units"),
            ("resource", "capacity_hours", "Team"),
            ("company", "labour_cost"),
        ],
    ),
    (
        "headcount_change_fte:Team=1",
        [
            ("resource", "fte_planned", "Team"),
            ("company", "labour_cost"),
            ("resource", "capacity_hours", "Team"),
        ],
        [
            ("family", "demand_units"),
            ("resource", "capacity_hours", "Line"),
            ("company", "fixed_costs"),
        ],
    ),
    (
        "fixed_costs_change_pct=50",
        [("company", "fixed_costs"), ("company", "operating_profit"), ("company", "closing_cash")],
        [("company", "gross_margin"), ("company", "revenue"), ("company", "receivables")],
    ),
    (
        "target_cover_days:F1=0",
        [("sku", "production_units", "A"), ("sku", "end_inventory_units", "A")],
        # B shares Line with A, so B's production may move; demand and costs may not
        [("family", "demand_units"), ("company", "labour_cost"), ("company", "fixed_costs")],
    ),
]


def _values(result, spec):
    level, name, *entity = spec
    frame = getattr(result, level)
    if entity:
        key = {"sku": "sku", "family": "family", "resource": "resource"}[level]
        frame = frame[frame[key] == entity[0]]
    return frame[name].to_numpy(dtype=float)


@pytest.mark.parametrize("lever, changes, stays", LEVER_EFFECTS, ids=[e[0] for e in LEVER_EFFECTS])
def test_each_lever_moves_what_it_should(lever, changes, stays):
    model = prepare(hand_data())
    base, moved = compute(model), compute(model, [lever])
    for spec in changes:
        assert not np.allclose(_values(base, spec), _values(moved, spec), equal_nan=True), spec
    for spec in stays:
        np.testing.assert_allclose(_values(base, spec), _values(moved, spec), err_msg=str(spec))


def test_qualified_lever_overrides_unqualified_for_its_family():
    result = hand_plan(["price_change_pct=-50", "price_change_pct:F1=10"])
    assert result.unit_price[0].tolist() == pytest.approx([11, 10])  # A (F1) 10 × 1.1, B 20 × 0.5


def test_headcount_lever_never_below_zero_and_missing_rows_stay_missing():
    result = hand_plan(["headcount_change_fte=-5"])
    assert column(result.resource, "fte_planned", resource="Team") == pytest.approx([5, 0, 5])
    assert result.resource[result.resource["resource"] == "Line"]["fte_planned"].isna().all()


@pytest.mark.parametrize(
    "levers, message",
    [
        (["price_change_pct:F9=1"], 'unknown family "F9"'),
        (["capacity_change_pct:F1=1"], 'unknown resource "F1"'),
        (["dso_days=-1"], "is below 0"),
        (["dso_days@2026-04=40"], "the window starts 2026-04, outside the plan horizon"),
        (["price_elasticity=11"], "is above 10"),
    ],
)
def test_compute_rejects_bad_levers(levers, message):
    with pytest.raises(LeverError, match=message):
        hand_plan(levers)


# --- edge cases -------------------------------------------------------------------------------


def test_no_resources_means_no_capacity_limit_and_missing_demand_is_zero():
    tables = {
        "products": hand_tables()["products"],
        "forecasts": pd.DataFrame(
            [("2026-01", "2026-01", "A", "sales", 30.0)],
            columns=["cycle", "month", "sku", "source", "units"],
        ),
        "settings": settings_frame(plan_start="2026-01", horizon_months=2),
    }
    result = plan(plan_data_from_frames(tables))
    sku = result.sku
    # A: target 0.5 × D(A,02) = 0 → req 30, made and shipped; B: nothing anywhere → demand 0
    assert column(sku, "production_units", sku="A") == [30.0, 0.0]
    assert column(sku, "demand_source", sku="B") == ["none", "none"]
    assert (
        result.resource.empty
        and list(result.level("resource").columns) == LEVEL_COLUMNS["resource"]
    )
    assert result.summary["peak_utilisation"] is None
    assert result.disagreements.empty


def test_idle_resource_labour_goes_to_families_by_revenue():
    # A's demand is 0 in 2026-02 and 03, so Team (used by A only) has no load in 2026-03 but
    # still 10 planned FTE: its labour (10 × 30 = 300) is shared by revenue, and only B sells.
    tables = hand_tables()
    fc = tables["forecasts"]
    a_later = (fc["sku"] == "A") & fc["month"].isin(["2026-02", "2026-03"])
    tables["forecasts"] = fc.assign(units=fc["units"].where(~a_later, 0.0))
    result = plan(plan_data_from_frames(tables, baseline=HAND_BASELINE))
    team_load = column(result.resource, "load_hours", resource="Team")
    assert team_load[2] == 0.0
    march = result.family[result.family["month"] == "2026-03"].set_index("family")
    assert march.loc["F2", "labour_cost"] == pytest.approx(300.0)
    assert march["gross_margin"].sum() == pytest.approx(result.company["gross_margin"].iloc[2])


def test_prepare_does_not_change_its_input():
    tables = hand_tables()
    before = {k: v.copy() for k, v in tables.items()}
    plan(plan_data_from_frames(tables, baseline=HAND_BASELINE), LEVERS).sku  # noqa: B018
    for name, frame in tables.items():
        pd.testing.assert_frame_equal(frame, before[name])


def test_prepare_without_products_and_unknown_level():
    with pytest.raises(PlanError, match="No products"):
        prepare(plan_data_from_frames({}))
    with pytest.raises(PlanError, match='Unknown level "sku"'):
        hand_plan().level("sku")


# --- properties ---------------------------------------------------------------------------------
units = st.one_of(st.none(), st.floats(0, 200, allow_nan=False).map(lambda x: round(x, 2)))


@st.composite
def small_company(draw):
    n_skus = draw(st.integers(1, 3))
    n_res = draw(st.integers(0, 2))
    n_months = draw(st.integers(1, 4))
    months = [f"2026-{m:02d}" for m in range(1, n_months + 1)]
    skus = [f"S{i}" for i in range(n_skus)]
    resources = [f"R{i}" for i in range(n_res)]
    money = st.floats(0, 50, allow_nan=False).map(lambda x: round(x, 2))
    products = pd.DataFrame(
        {
            "sku": skus,
            "name": skus,
            "family": [draw(st.sampled_from(["F1", "F2"])) for _ in skus],
            "unit_price": [draw(money) for _ in skus],
            "unit_material_cost": [draw(money) for _ in skus],
            "unit_variable_cost": [draw(money) for _ in skus],
            "target_cover_days": [draw(st.sampled_from([0.0, 10.0, 30.0, 45.0])) for _ in skus],
        }
    )
    rows = []
    for m in months:
        for s in skus:
            for source in ("consensus", "sales"):
                u = draw(units)
                if u is not None:
                    rows.append(("2026-01", m, s, source, u))
    forecasts = pd.DataFrame(rows, columns=["cycle", "month", "sku", "source", "units"])

    def long(keys, col, strategy):
        out = [(m, k, draw(strategy)) for m in months for k in keys]
        return pd.DataFrame([r for r in out if r[2] is not None], columns=["month", "x", col])

    cap = long(resources, "available_hours", units).rename(columns={"x": "resource"})
    hc = long(
        resources, "planned_fte", st.one_of(st.none(), st.floats(0, 5).map(lambda x: round(x, 2)))
    ).rename(columns={"x": "resource"})
    lim = long(skus, "max_units", st.one_of(st.none(), st.none(), units)).rename(
        columns={"x": "sku"}
    )
    routings = pd.DataFrame(
        [
            (s, r, draw(st.sampled_from([0.0, 0.5, 1.0, 2.0])))
            for s in skus
            for r in resources
            if draw(st.booleans())
        ],
        columns=["sku", "resource", "hours_per_unit"],
    )
    tables = {
        "products": products,
        "forecasts": forecasts,
        "inventory": pd.DataFrame(
            {"sku": skus, "on_hand_units": [draw(st.floats(0, 100)) for _ in skus]}
        ),
        "resources": pd.DataFrame(
            {
                "resource": resources,
                "site": "X",
                "hours_per_fte": [draw(st.sampled_from([0.0, 10.0, 160.0])) for _ in resources],
                "cost_per_fte": [draw(money) for _ in resources],
            }
        ),
        "routings": routings,
        "capacity": cap,
        "headcount": hc,
        "supply_limits": lim,
        "cash_items": pd.DataFrame(
            {"month": months[:1], "item": ["capex"], "amount": [draw(st.floats(-500, 500))]}
        ),
        "settings": settings_frame(
            plan_start="2026-01",
            horizon_months=n_months,
            opening_cash=draw(st.floats(-1000, 1000)),
            opening_receivables=draw(st.floats(0, 1000)),
            opening_payables=draw(st.floats(0, 1000)),
            dso_days=draw(st.floats(0, 90)),
            dpo_days=draw(st.floats(0, 90)),
            fixed_costs_per_month=draw(st.floats(0, 100)),
        ),
    }
    return plan_data_from_frames(tables)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(small_company())
def test_plan_invariants(data):
    result = plan(data)
    s, f = result.supply, result.finance
    tol = 1e-6
    assert (s.begin_inventory >= -tol).all() and (s.end_inventory >= -tol).all()
    assert (s.production >= -tol).all() and (s.production <= s.req + tol).all()
    assert (s.shipped <= result.demand + tol).all()
    np.testing.assert_allclose(s.shipped + s.unmet, result.demand, atol=tol)
    np.testing.assert_allclose(
        s.end_inventory, s.begin_inventory + s.production - s.shipped, atol=tol
    )
    np.testing.assert_allclose(s.begin_inventory[1:], s.end_inventory[:-1], atol=tol)
    np.testing.assert_allclose(
        f.closing_cash, data.settings.opening_cash + np.cumsum(f.cash_flow), atol=1e-6
    )
    # the operating-profit-to-cash bridge, month by month
    st_ = data.settings
    rec = np.concatenate([[st_.opening_receivables], f.receivables])
    inv = np.concatenate([[f.opening_inventory_value], f.inventory_value])
    pay = np.concatenate([[st_.opening_payables], f.payables])
    bridge = f.operating_profit - np.diff(rec) - np.diff(inv) + np.diff(pay) + f.cash_items
    np.testing.assert_allclose(f.cash_flow, bridge, atol=1e-6)
    # capacity: production never loads a resource beyond its capacity (when it is limited)
    prod_load = result.model.routing.load(s.production)
    limited = np.isfinite(s.capacity)
    assert (prod_load[limited] <= s.capacity[limited] * (1 + 1e-9) + tol).all()
    # family margins add up to the company margin
    np.testing.assert_allclose(
        result.family_arrays["gross_margin"].sum(axis=1), f.gross_margin, atol=1e-6
    )
    company = result.level("company")
    assert list(company.columns) == LEVEL_COLUMNS["company"] and len(company) == len(data.months)
