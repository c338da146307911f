"""Disagreements: each type on hand cases, with money at stake, severity, owner and order."""

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
from test_engine import hand_plan, settings_frame

from sop_core.plan.disagreements import DISAGREEMENT_COLUMNS, Totals, disagreement_totals, severity
from sop_core.plan.engine import plan
from sop_core.store.plandata import plan_data_from_frames

SUPPLY, DEMAND, RECON = "Supply review", "Demand review", "Integrated reconciliation"

# The hand case of test_engine.py (no levers). Average monthly plan revenue = (1800 + 1800 +
# 1360) / 3 = 1653.33: high from 2 % = 33.07, medium from 0.5 % = 8.27.
# Money at stake is what the plan would gain or lose if the other story held, counted once:
# - unmet_demand F2 2026-01: 50 − 40 = 10 units × 20 = 200 of sales lost. B was cut by Line
#   (load 230 > cap 184, scale 0.8), the only resource it uses: cause capacity|Line, counted.
# - capacity_overload Line 2026-01: the sales Line's shortfall cost, 200 (the row above carries
#   them: not counted again). Team 2026-02: load 96 > 72 cut A to 72, but A shipped all 80 from
#   stock: 0 lost.
# - labour_shortfall Team 2026-02 (needs 96/24 = 4 vs 3 planned; labour binds: 3 × 24 = 72 <
#   1000 h): the sales labour cost, 0; not counted (the unmet rows carry sales lost).
# - unmet_demand F1 2026-03: A made 50, its supplier limit: 4 × 10 = 40, cause supply_limit|F1.
# - revenue_vs_budget F1 2026-02: 800 − 1000 = −200 (20 % > 5 %); no sales lost nor bias in F1
#   that month, so all 200 is unexplained: money 200.
# - labour Team (hours_per_fte 24, cost 30): 2026-01 needs 130/24 = 5.4167 vs 10 planned → surplus
#   4.5833 × 30 = 137.5; 2026-03 3.5 vs 10 → 6.5 × 30 = 195.
# - cash_below_minimum 2026-02: 5398 < 5500 → 102 (always high; its worst month, counted)
# - margin_vs_budget F2 2026-03: 480 vs 400 → +80 (20 %); the revenue gap 800 − 820 = −20 at the
#   budget's margin rate 400/820 explains −9.756, so 80 + 9.756 = 89.756 is beyond it.
# - inventory_vs_budget F1 2026-01: 70 vs 50 → +20 (40 %), medium; its only (so worst) month.
# Total counted: 200 + 40 + 200 + 137.5 + 195 + 102 + 89.756 + 20 = 984.256.
# Ties (unmet 200, overload 200, revenue 200) are ordered by type: supply before finance.
HAND_EXPECTED = [
    # month, type, entity, figure_a, figure_b, gap, unit, money, severity, owner, review
    ("2026-01", "unmet_demand", "F2", 50, 40, 10, "units", 200, "high", "Operations", SUPPLY),
    (
        "2026-01",
        "capacity_overload",
        "Line",
        230,
        184,
        46,
        "hours",
        200,
        "high",
        "Operations",
        SUPPLY,
    ),
    ("2026-02", "revenue_vs_budget", "F1", 800, 1000, -200, "EUR", 200, "high", "Finance", RECON),
    ("2026-03", "labour_surplus", "Team", 3.5, 10, -6.5, "FTE", 195, "high", "Operations", SUPPLY),
    (
        "2026-01",
        "labour_surplus",
        "Team",
        130 / 24,
        10,
        130 / 24 - 10,
        "FTE",
        137.5,
        "high",
        "Operations",
        SUPPLY,
    ),
    (
        "2026-02",
        "cash_below_minimum",
        "Company",
        5398,
        5500,
        -102,
        "EUR",
        102,
        "high",
        "Finance",
        RECON,
    ),
    (
        "2026-03",
        "margin_vs_budget",
        "F2",
        480,
        400,
        80,
        "EUR",
        80 + 20 * 400 / 820,
        "high",
        "Finance",
        RECON,
    ),
    ("2026-03", "unmet_demand", "F1", 60, 56, 4, "units", 40, "high", "Operations", SUPPLY),
    ("2026-01", "inventory_vs_budget", "F1", 70, 50, 20, "EUR", 20, "medium", "Finance", RECON),
    ("2026-02", "capacity_overload", "Team", 96, 72, 24, "hours", 0, "low", "Operations", SUPPLY),
    ("2026-02", "labour_shortfall", "Team", 4, 3, 1, "FTE", 0, "low", "Operations", SUPPLY),
]
HAND_TOTAL = 200 + 40 + 200 + 137.5 + 195 + 102 + (80 + 20 * 400 / 820) + 20


def _rows(frame: pd.DataFrame) -> list[tuple]:
    cols = [
        "month",
        "type",
        "entity",
        "figure_a",
        "figure_b",
        "gap",
        "unit",
        "money_at_stake",
        "severity",
        "owner",
        "review",
    ]
    return [tuple(r) for r in frame[cols].itertuples(index=False)]


def _assert_rows(got: list[tuple], expected: list[tuple]):
    assert len(got) == len(expected), got
    for g, e in zip(got, expected, strict=True):
        assert g[:3] == e[:3] and g[6] == e[6] and g[8:] == e[8:], (g, e)
        assert g[3:6] == pytest.approx(e[3:6]) and g[7] == pytest.approx(e[7]), (g, e)


def test_hand_case_disagreements():
    frame = hand_plan().disagreements
    assert list(frame.columns) == DISAGREEMENT_COLUMNS
    _assert_rows(_rows(frame), HAND_EXPECTED)
    families = frame.set_index("type")
    assert frame.loc[frame["type"] == "unmet_demand", "family"].tolist() == ["F2", "F1"]
    assert frame.loc[frame["type"] == "capacity_overload", "resource"].tolist() == ["Line", "Team"]
    assert frame.loc[frame["type"] == "capacity_overload", "family"].isna().all()
    assert families.loc["cash_below_minimum", "story_b"] == "Minimum cash"
    causes = dict(
        zip(
            zip(frame["type"], frame["entity"], frame["month"], strict=True),
            frame["cause"],
            strict=True,
        )
    )
    assert causes[("unmet_demand", "F2", "2026-01")] == "capacity|Line"
    assert causes[("capacity_overload", "Line", "2026-01")] == "capacity|Line"
    assert causes[("unmet_demand", "F1", "2026-03")] == "supply_limit|F1"
    assert causes[("labour_shortfall", "Team", "2026-02")] == "capacity|Team"
    not_counted = frame.loc[~frame["counted"], "type"].tolist()
    assert sorted(not_counted) == ["capacity_overload", "capacity_overload", "labour_shortfall"]
    assert float(frame.loc[frame["counted"], "money_at_stake"].sum()) == pytest.approx(HAND_TOTAL)


def test_hand_case_root_causes_count_each_pound_once():
    result = hand_plan()
    causes = result.root_causes.set_index("cause")
    assert causes.loc["capacity|Line", "money_at_stake"] == pytest.approx(200)  # not 400
    assert (
        causes.loc["capacity|Line", "title"]
        == "Line short of capacity Jan 2026: €200 of sales lost"
    )
    assert causes.loc["capacity|Team", "money_at_stake"] == 0
    assert causes.loc["capacity|Team", "title"] == (
        "Team short of capacity Feb 2026 (labour: 3.0 FTE planned, 4.0 needed in Feb 2026): "
        "no sales lost (stock covered demand)"
    )
    assert causes.loc["labour_surplus|Team", "money_at_stake"] == pytest.approx(332.5)
    assert causes.loc["labour_surplus|Team", "title"] == (
        "Team staffed above what demand needs Jan 2026–Mar 2026 (2 months): "
        "€332 of labour cost without work"
    )
    assert causes.loc["supply_limit|F1", "title"] == (
        "Supplier limits on F1 Mar 2026: €40 of sales lost"
    )
    assert float(causes["money_at_stake"].sum()) == pytest.approx(HAND_TOTAL)
    assert result.summary["money_at_stake"] == pytest.approx(HAND_TOTAL)
    assert result.summary["root_causes_count"] == len(causes) == 8
    assert list(result.root_causes["money_at_stake"]) == sorted(
        result.root_causes["money_at_stake"], reverse=True
    )


def test_capacity_warning_from_90_to_100_percent():
    # lever case of test_engine.py: Line capacity +25 % → 230 h for a load of 230 (100 %);
    # Team 2026-02 70 h of 72 (97.2 %). Warnings carry no money and are always low.
    frame = hand_plan(
        ["price_change_pct:F1=-10", "capacity_change_pct:Line=25", "dso_days=30"]
    ).disagreements
    warn = frame[frame["type"] == "capacity_warning"]
    _assert_rows(
        _rows(warn),
        [
            (
                "2026-01",
                "capacity_warning",
                "Line",
                230,
                230,
                0,
                "hours",
                0,
                "low",
                "Operations",
                SUPPLY,
            ),
            (
                "2026-02",
                "capacity_warning",
                "Team",
                70,
                72,
                -2,
                "hours",
                0,
                "low",
                "Operations",
                SUPPLY,
            ),
        ],
    )
    assert "capacity_overload" not in set(frame["type"])


def test_tolerance_is_a_strict_bound():
    # budget F1 2026-02 revenue 800 / 0.95 = 842.1: the plan's 800 is 42.1 under it, exactly 5 %
    # of the budget, so it is within tolerance; the same budget without it was flagged.
    base = hand_plan()
    assert (base.disagreements["type"] == "revenue_vs_budget").sum() == 1
    from test_engine import HAND_BASELINE, hand_tables

    tables = hand_tables()
    tables["budget"] = pd.DataFrame(
        {"month": ["2026-02"], "family": ["F1"], "revenue": [800 / 0.95], "gross_margin": [310.0]}
    )
    frame = plan(plan_data_from_frames(tables, baseline=HAND_BASELINE)).disagreements
    assert (
        not frame["type"]
        .isin(["revenue_vs_budget", "margin_vs_budget", "inventory_vs_budget"])
        .any()
    )


def forecast_tables():
    """Three skus; F1 = A (price 10), B (price 30): average price 20; F2 = C (price 5).

    Baseline 100 a month for each. Sales: A 130, 80; B 100, 100; C 80, 80. Marketing: A 90 in
    2026-01 only; C 120, 120.
    """
    products = pd.DataFrame(
        {
            "sku": ["A", "B", "C"],
            "name": ["a", "b", "c"],
            "family": ["F1", "F1", "F2"],
            "unit_price": [10.0, 30.0, 5.0],
            "unit_material_cost": 0.0,
            "unit_variable_cost": 0.0,
            "target_cover_days": 0.0,
        }
    )
    rows = [
        ("2026-01", "A", "sales", 130.0),
        ("2026-02", "A", "sales", 80.0),
        ("2026-01", "B", "sales", 100.0),
        ("2026-02", "B", "sales", 100.0),
        ("2026-01", "C", "sales", 80.0),
        ("2026-02", "C", "sales", 80.0),
        ("2026-01", "A", "marketing", 90.0),
        ("2026-01", "C", "marketing", 120.0),
        ("2026-02", "C", "marketing", 120.0),
    ]
    forecasts = pd.DataFrame(
        [("2026-01", *r) for r in rows], columns=["cycle", "month", "sku", "source", "units"]
    )
    baseline = pd.DataFrame(
        {"sku": ["A", "B", "C"] * 2, "month": ["2026-01"] * 3 + ["2026-02"] * 3, "units": 100.0}
    )
    tables = {
        "products": products,
        "forecasts": forecasts,
        "settings": settings_frame(plan_start="2026-01", horizon_months=2, tolerance_pct=5),
    }
    return plan_data_from_frames(tables, baseline=baseline)


BIAS = pd.DataFrame(
    {
        "source": ["sales", "sales", "marketing", "marketing", "sales", "consensus"],
        "family": ["F1", "F2", "F1", "F2", "All", "F1"],
        "verdict": [
            "inflating",
            "sandbagging",
            "sandbagging",
            "unbiased",
            "inflating",
            "inflating",
        ],
    }
)


def test_forecast_departing_in_the_direction_of_its_bias():
    # Average monthly revenue = (130×10 + 100×30 + 80×5 + 80×10 + 3000 + 400) / 2 = 4450: high ≥ 89.
    # No consensus and no resources: the sales forecast drives the plan and all of it ships.
    # Sales F1 2026-01: 230 vs 200 = +15 % and sales inflate F1 → inflated; the revenue it moves
    #   in the plan: A ships 130 against a baseline of 100, (130 − 100) × 10 = 300; B 100 = 100.
    # Sales F1 2026-02: 180 vs 200 = −10 %, against its bias → not flagged.
    # Marketing F1 2026-01 (only A has a marketing figure): 90 vs 100 = −10 %, marketing
    #   sandbags F1 → sandbagged; marketing never drives the plan, so it moves nothing: 0.
    # Sales F2: 80 vs 100 = −20 % each month, sales sandbag F2 → (100 − 80) × 5 = 100 each.
    # Marketing F2: +20 %, but marketing is unbiased on F2 → not flagged.
    frame = plan(forecast_tables(), bias=BIAS).disagreements
    _assert_rows(
        _rows(frame),
        [
            (
                "2026-01",
                "forecast_inflated",
                "F1",
                230,
                200,
                30,
                "units",
                300,
                "high",
                "Sales",
                DEMAND,
            ),
            (
                "2026-01",
                "forecast_sandbagged",
                "F2",
                80,
                100,
                -20,
                "units",
                100,
                "high",
                "Sales",
                DEMAND,
            ),
            (
                "2026-02",
                "forecast_sandbagged",
                "F2",
                80,
                100,
                -20,
                "units",
                100,
                "high",
                "Sales",
                DEMAND,
            ),
            (
                "2026-01",
                "forecast_sandbagged",
                "F1",
                90,
                100,
                -10,
                "units",
                0,
                "low",
                "Marketing",
                DEMAND,
            ),
        ],
    )
    assert frame["story_a"].tolist() == ["Sales forecast"] * 3 + ["Marketing forecast"]
    assert frame["cause"].tolist() == [
        "bias|sales|F1",
        "bias|sales|F2",
        "bias|sales|F2",
        "bias|marketing|F1",
    ]


def test_a_consensus_set_with_a_reason_resolves_the_forecast_disagreement():
    # The same company with a consensus for F1 (set from the baseline, with a reason) over both
    # months: the plan no longer rests on the sales forecast, so the inflation row is resolved,
    # with who, when and why; it counts no money. F2 stays open.
    data = forecast_tables()
    consensus = pd.DataFrame(
        [("2026-01", m, s, "consensus", 100.0) for m in ("2026-01", "2026-02") for s in ("A", "B")],
        columns=["cycle", "month", "sku", "source", "units"],
    )
    tables = dict(data.tables)
    tables["forecasts"] = pd.concat([tables["forecasts"], consensus], ignore_index=True)
    choices = pd.DataFrame(
        {
            "cycle": ["2026-01"],
            "family": ["F1"],
            "method": ["statistical"],
            "weights": ["{}"],
            "adjustment_pct": [0.0],
            "reason": ["Sales has inflated F1 for six cycles"],
            "author": ["Sam (Sales)"],
            "updated_at": [pd.Timestamp("2026-01-09 10:30")],
            "version": [1],
        }
    )
    resolved_data = replace(
        plan_data_from_frames(tables, baseline=data.baseline), consensus_choices=choices
    )
    result = plan(resolved_data, bias=BIAS)
    frame = result.disagreements
    f1 = frame[(frame["cause"] == "bias|sales|F1")]
    assert f1[["status", "money_at_stake", "counted", "resolved_by"]].values.tolist() == [
        ["resolved", 0.0, False, "Sam (Sales)"]
    ]
    assert f1["resolution"].iloc[0] == (
        "Consensus set: Statistical baseline, adjustment +0 % (Sales has inflated F1 for six cycles)"
    )
    causes = result.root_causes.set_index("cause")
    assert causes.loc["bias|sales|F1", "status"] == "resolved"
    # who, when and why: the root cause's last row's
    assert causes.loc["bias|sales|F1", "resolved_by"] == "Sam (Sales)"
    assert causes.loc["bias|sales|F1", "resolved_at"] == pd.Timestamp("2026-01-09 10:30")
    assert causes.loc["bias|sales|F1", "resolution"] == f1["resolution"].iloc[0]
    assert causes.loc["bias|sales|F1", ["money_at_stake", "rows", "severity"]].tolist() == [
        0.0,
        1,
        "low",
    ]
    assert causes.loc["bias|sales|F1", "title"] == (
        "Sales forecast for F1 inflated Jan 2026: resolved by the consensus"
    )
    assert result.root_causes["status"].tolist()[-1] == "resolved"  # open ones come first
    assert result.summary["money_at_stake"] == pytest.approx(200)  # the two F2 months only
    # the consensus settles every forecast disagreement of F1, marketing's too: F2 is left
    assert result.summary["root_causes_count"] == 1


def test_no_bias_no_forecast_disagreements_and_empty_frame_has_the_columns():
    frame = plan(forecast_tables()).disagreements
    assert frame.empty and list(frame.columns) == DISAGREEMENT_COLUMNS


@pytest.mark.parametrize(
    "kind, money, average, expected",
    [
        ("cash_below_minimum", 0.01, 1000.0, "high"),
        ("capacity_warning", 0.0, 1000.0, "low"),
        ("unmet_demand", 20.0, 1000.0, "high"),  # 2 % of 1000
        ("unmet_demand", 19.99, 1000.0, "medium"),
        ("labour_surplus", 5.0, 1000.0, "medium"),  # 0.5 %
        ("labour_surplus", 4.99, 1000.0, "low"),
        ("revenue_vs_budget", 0.0, 1000.0, "low"),
        ("margin_vs_budget", 1.0, 0.0, "high"),  # no revenue: any money is high
    ],
)
def test_severity_rule(kind, money, average, expected):
    assert severity(np.array([kind], dtype=object), np.array([money]), average).tolist() == [
        expected
    ]


@pytest.mark.parametrize(
    "levers",
    [
        [],
        ["price_change_pct:F1=-10", "capacity_change_pct:Line=25", "dso_days=30"],  # warnings
        ["capacity_change_pct=100", "headcount_change_fte:Team=2"],
        ["volume_change_pct=40"],
    ],
)
def test_totals_count_and_add_up_the_table_without_building_it(levers):
    frame = hand_plan(levers).disagreements
    counted = hand_plan(levers)
    totals = disagreement_totals(counted.model, counted)
    assert totals.rows == len(frame)
    take = frame["counted"] & (frame["status"] == "open")
    assert totals.money == pytest.approx(float(frame.loc[take, "money_at_stake"].sum()))
    assert totals.root_causes == frame.loc[frame["status"] == "open", "cause"].nunique()
    # the headline figures use the count, not the table
    assert counted.summary["disagreements_count"] == len(frame)
    assert "disagreements" not in counted.__dict__


def test_totals_of_the_hand_case():
    result = hand_plan()
    totals = disagreement_totals(result.model, result)
    assert (totals.rows, totals.root_causes) == (11, 8)
    assert totals.money == pytest.approx(HAND_TOTAL)


def test_totals_of_forecast_disagreements_and_of_none():
    # test_forecast_departing_in_the_direction_of_its_bias: 300 + 100 + 100 + 0 (and the
    # cash and budget rules have nothing to say about this company)
    with_bias = plan(forecast_tables(), bias=BIAS)
    totals = disagreement_totals(with_bias.model, with_bias)
    assert (totals.rows, totals.root_causes) == (4, 3)
    assert totals.money == pytest.approx(500)
    none = plan(forecast_tables())
    assert disagreement_totals(none.model, none) == Totals()
