"""Budget-to-plan gross margin bridge: a hand-computed case; the steps add up."""

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from sop_core.views.budget import budget_fte_grid, budget_to_plan_bridge


def _result():
    # 1 month, 2 families, 1 resource
    model = SimpleNamespace(
        months=("2027-01",),
        families=("A", "B"),
        budget_revenue=np.array([[100.0, 50.0]]),
        budget_gross_margin=np.array([[30.0, 10.0]]),
        cost_per_fte=np.array([5.0]),
    )
    arrays = {
        "revenue": np.array([[120.0, 40.0]]),
        "gross_margin": np.array([[33.0, 9.0]]),
        "labour_cost": np.array([[12.0, 6.0]]),
    }
    return SimpleNamespace(model=model, family_arrays=arrays, planned_fte=np.array([[2.0]]))


def test_bridge_hand_computed():
    out = budget_to_plan_bridge(_result(), budget_fte=np.array([[2.0, 1.0]]))
    got = dict(zip(out["step"], out["amount"], strict=True))
    # budget GM 30 + 10 = 40 on revenue 150: rate 40/150
    assert got["Budget gross margin"] == pytest.approx(40.0)
    # volume: (160 - 150) x 40/150 = 2.6667
    assert got["Volume"] == pytest.approx(10 * 40 / 150)
    # price and mix: 20 x 0.3 + (-10) x 0.2 = 4, less volume = 1.3333
    assert got["Price and mix"] == pytest.approx(4 - 10 * 40 / 150)
    # labour: budget 3 FTE x £5 (average planned cost per FTE) = 15; plan 12 + 6 = 18 -> -3
    assert got["Labour"] == pytest.approx(-3.0)
    # cost: 42 - 40 - 2.6667 - 1.3333 + 3 = 1
    assert got["Cost"] == pytest.approx(1.0)
    assert got["Plan gross margin"] == pytest.approx(42.0)
    assert list(out["kind"]) == ["total", "delta", "delta", "delta", "delta", "total"]


def test_bridge_without_budget_fte_puts_labour_in_cost():
    out = budget_to_plan_bridge(_result(), budget_fte=None)
    got = dict(zip(out["step"], out["amount"], strict=True))
    assert got["Labour"] == 0.0
    assert got["Cost"] == pytest.approx(-2.0)  # 42 - 40 - 4
    assert sum(out["amount"][:5]) == pytest.approx(out["amount"].iloc[5])


def test_budget_fte_grid_aligns_to_model():
    model = SimpleNamespace(months=("2027-01", "2027-02"), families=("A", "B"))
    budget = pd.DataFrame(
        {"month": ["2027-02", "2027-01"], "family": ["B", "A"], "headcount_fte": [4.0, 3.0]}
    )
    grid = budget_fte_grid(budget, model)
    assert np.array_equal(np.nan_to_num(grid, nan=-1), np.array([[3.0, -1], [-1, 4.0]]))
    assert budget_fte_grid(budget.assign(headcount_fte=np.nan), model) is None


def test_gap_by_family_compares_the_months_the_budget_covers_and_keeps_missing_budget_missing():
    from sop_core.views.budget import gap_by_family

    # A has a budget for Jan and Feb only: its March plan (7) is left out of both sides
    gap = pd.DataFrame(
        {
            "month": ["2027-01", "2027-02", "2027-03", "2027-01"],
            "family": ["A", "A", "A", "B"],
            "plan_revenue": [10.0, 20.0, 7.0, 5.0],
            "budget_revenue": [12.0, 18.0, np.nan, np.nan],
            "revenue_gap": [-2.0, 2.0, np.nan, np.nan],
            "plan_gross_margin": [3.0, 6.0, 2.0, 1.0],
            "budget_gross_margin": [4.0, 5.0, np.nan, np.nan],
            "gross_margin_gap": [-1.0, 1.0, np.nan, np.nan],
        }
    )
    out = gap_by_family(gap).set_index("family")
    assert out.loc["A", "plan_revenue"] == 30.0 and out.loc["A", "budget_revenue"] == 30.0
    assert out.loc["A", "revenue_gap"] == 0.0
    assert out.loc["A", "plan_gross_margin"] == 9.0  # 3 + 6, not + 2
    assert np.isnan(out.loc["B", "budget_revenue"]) and np.isnan(out.loc["B", "plan_revenue"])
