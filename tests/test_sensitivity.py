"""Sensitivity on the hand case (test_engine.py): documented steps, figures equal to a plan with
that one lever set, sorted by effect, stepped from the scenario's own value."""

from __future__ import annotations

import pytest
from test_engine import hand_data

from sop_core.plan.engine import compute
from sop_core.plan.goalseek import measure_values
from sop_core.plan.levers import LeverKey, parse_levers
from sop_core.plan.model import prepare
from sop_core.plan.sensitivity import SENSITIVITY_COLUMNS, sensitivity, stepped_levers


@pytest.fixture(scope="module")
def model():
    return prepare(hand_data())


def test_documented_steps(model):
    steps = {key: (low, high) for key, low, high in stepped_levers(model)}
    assert steps[LeverKey("price_change_pct")] == (-1, 1)
    assert steps[LeverKey("price_elasticity")] == (-0.5, 0.5)
    assert steps[LeverKey("volume_change_pct")] == (-5, 5)
    assert steps[LeverKey("capacity_change_pct")] == (-10, 10)
    assert steps[LeverKey("headcount_change_fte")] == (-1, 1)
    assert steps[LeverKey("dso_days")] == (10, 20)  # the data's 15 ± 5
    assert steps[LeverKey("dpo_days")] == (25, 35)
    assert steps[LeverKey("fixed_costs_change_pct")] == (-5, 5)
    # stock cover differs by sku (A 15, B 0): stepped per family, clipped at 0 days
    assert steps[LeverKey("target_cover_days", "F1")] == (10, 20)
    assert steps[LeverKey("target_cover_days", "F2")] == (0, 5)
    assert LeverKey("target_cover_days") not in steps
    assert all(key.name != "allocation" for key in steps)  # a choice, not a step


def test_each_figure_is_the_plan_with_that_lever(model):
    frame = sensitivity(model)
    assert list(frame.columns) == SENSITIVITY_COLUMNS
    assert len(frame) == 11 * 3  # 10 levers, stock cover on 2 families; 3 measures each
    for row in frame.itertuples():
        key = next(iter(parse_levers([f"{row.lever}=0"])))
        for value, figure in ((row.low, row.at_low), (row.high, row.at_high)):
            assert measure_values(compute(model, {key: value}))[row.measure] == pytest.approx(
                figure
            )


def test_by_hand_and_sorted_by_effect(model):
    frame = sensitivity(model)
    cash = frame[frame["measure"] == "lowest_cash"].set_index("lever")
    # DSO 10 / 20: Feb closing cash = 6298 − 60 × DSO (test_goalseek.py) → 5698 / 5098
    assert tuple(cash.loc["dso_days", ["base", "at_low", "at_high"]]) == pytest.approx(
        (5398, 5698, 5098)
    )
    # price ±1 %: revenue ± 1 % in Jan and Feb (18 + 18), receivables half of it → Feb ± 27
    assert tuple(cash.loc["price_change_pct", ["at_low", "at_high"]]) == pytest.approx((5371, 5425))
    # no price change: elasticity moves nothing
    assert tuple(cash.loc["price_elasticity", ["at_low", "at_high"]]) == (5398, 5398)
    for _, part in frame.groupby("measure", sort=False):
        swing = part[["at_low", "at_high"]].sub(part["base"], axis=0).abs().max(axis=1)
        assert swing.is_monotonic_decreasing
    assert cash.index[0] == "dso_days"  # the biggest swing on lowest cash


def test_steps_from_the_scenarios_value(model):
    base = parse_levers(["dso_days=30", "price_change_pct=-3"])
    frame = sensitivity(model, base)
    rows = frame.drop_duplicates("lever").set_index("lever")
    assert tuple(rows.loc["dso_days", ["low", "high"]]) == (25, 35)
    assert tuple(rows.loc["price_change_pct", ["low", "high"]]) == (-4, -2)
    base_cash = measure_values(compute(model, base))["lowest_cash"]
    assert frame[frame["measure"] == "lowest_cash"]["base"].eq(base_cash).all()
