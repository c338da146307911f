"""Finance on arrays: labour allocation to skus, first-month deltas from the opening figures."""

import numpy as np

from sop_core.plan.finance import allocate_labour, plan_finance
from sop_core.plan.supply import Routing, supply_plan


def test_labour_by_load_share_then_revenue_then_equal():
    routing = Routing.from_dense(np.array([[1.0], [3.0]]))
    labour = np.array([[100.0], [100.0], [100.0]])
    req = np.array([[10.0, 10.0], [0.0, 0.0], [0.0, 0.0]])
    load = routing.load(req)  # 40, 0, 0
    revenue = np.array([[5.0, 5.0], [30.0, 10.0], [0.0, 0.0]])
    out = allocate_labour(labour, req, routing, load, revenue)
    # month 0: by load hours 10 : 30; month 1: idle, by revenue 30 : 10; month 2: no revenue, equal
    np.testing.assert_allclose(out, [[25.0, 75.0], [75.0, 25.0], [50.0, 50.0]])


def test_first_month_deltas_use_opening_figures_at_scenario_costs():
    # one sku, no resources: on hand 4, demand 10, cover 0 → P 6, ship 10, end 0
    supply = supply_plan(
        np.array([[10.0]]),
        np.zeros(1),
        np.array([4.0]),
        Routing.from_dense(np.zeros((1, 0))),
        np.zeros((1, 0)),
        np.array([[np.inf]]),
    )
    f = plan_finance(
        supply,
        unit_price=np.array([10.0]),
        unit_material_cost=np.array([3.0]),
        unit_variable_cost=np.array([1.0]),
        on_hand=np.array([4.0]),
        routing=Routing.from_dense(np.zeros((1, 0))),
        planned_fte=np.zeros((1, 0)),
        cost_per_fte=np.zeros(0),
        fixed_costs_per_month=5.0,
        cash_items=np.array([-2.0]),
        opening_cash=100.0,
        opening_receivables=50.0,
        opening_payables=20.0,
        dso_days=60.0,
        dpo_days=15.0,
    )
    # revenue 100, COGS 40, OP 100 − 40 − 5 = 55; receivables 200; payables 6 × 3 × 0.5 = 9
    # opening inventory 4 × (3 + 1) = 16 → 0; cash flow = 55 − 150 + 16 − 11 − 2 = −92
    assert f.opening_inventory_value == 16.0
    assert (f.receivables[0], f.payables[0]) == (200.0, 9.0)
    assert f.cash_flow.tolist() == [-92.0]
    assert f.closing_cash.tolist() == [8.0]
