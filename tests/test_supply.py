"""The supply plan on arrays: capacity rules, pro-rata sharing, routings as pairs."""

import numpy as np
import pytest

from sop_core.plan.supply import Routing, capacity_hours, supply_plan

NAN, INF = np.nan, np.inf


@pytest.mark.parametrize(
    "available, planned, hours_per_fte, expected",
    [
        (100.0, 2.0, 40.0, 80.0),  # staff bind: 2 × 40
        (60.0, 2.0, 40.0, 60.0),  # hours bind
        (NAN, 2.0, 40.0, 80.0),  # no capacity row: the staff limit alone
        (60.0, NAN, 40.0, 60.0),  # no headcount row: the hours alone
        (NAN, NAN, 40.0, INF),  # neither: unlimited
        (100.0, 0.0, 40.0, 0.0),  # nobody planned: nothing can be made
    ],
)
def test_capacity_hours(available, planned, hours_per_fte, expected):
    cap = capacity_hours(np.array([[available]]), np.array([[planned]]), np.array([hours_per_fte]))
    assert cap[0, 0] == expected


def test_routing_pairs():
    dense = np.array([[1.0, 0.0], [0.0, 0.0], [2.0, 3.0]])
    routing = Routing.from_dense(dense)
    np.testing.assert_array_equal(routing.dense(), dense)
    # load: Σ_s units × hours; sku 1 has no routing
    assert routing.load(np.array([10.0, 5.0, 1.0])).tolist() == [12.0, 3.0]
    assert routing.load(np.array([[10.0, 5.0, 1.0], [0.0, 0.0, 2.0]])).tolist() == [
        [12.0, 3.0],
        [4.0, 6.0],
    ]
    # min over the resources each sku uses; sku 1 uses none → default
    assert routing.min_over_resources(np.array([0.5, 0.8])).tolist() == [0.5, 1.0, 0.5]
    # spread: Σ_r hours × per-hour figure
    assert routing.spread(np.array([[1.0, 10.0]])).tolist() == [[1.0, 0.0, 32.0]]
    assert routing.unit_hours().load(np.array([10.0, 5.0, 1.0])).tolist() == [11.0, 1.0]


def test_capacity_shared_pro_rata_and_scale_is_the_tightest_resource():
    # skus 0 and 1 share R0 (cap 50 for a load of 100 → 0.5); sku 1 also uses R1 (cap 20 for 40 → 0.5 too)
    # sku 2 uses R1 only: 0.5. Each makes half of what it asks.
    demand = np.array([[50.0, 20.0, 20.0]])
    hours = np.array([[1.0, 0.0], [2.5, 1.0], [0.0, 1.0]])
    plan = supply_plan(
        demand,
        np.zeros(3),
        np.zeros(3),
        Routing.from_dense(hours),
        np.array([[50.0, 20.0]]),
        np.full((1, 3), INF),
    )
    assert plan.load.tolist() == [[100.0, 40.0]]
    assert plan.scale.tolist() == [[0.5, 0.5, 0.5]]
    assert plan.production.tolist() == [[25.0, 10.0, 10.0]]
    assert plan.unmet.tolist() == [[25.0, 10.0, 10.0]]


def test_zero_hour_routing_limits_nothing_and_zero_capacity_stops_production():
    demand = np.array([[10.0, 10.0]])
    hours = np.array([[0.0], [1.0]])  # sku 0 has a zero-hour routing on R0
    plan = supply_plan(
        demand,
        np.zeros(2),
        np.zeros(2),
        Routing.from_dense(hours),
        np.array([[0.0]]),
        np.full((1, 2), INF),
    )
    assert plan.production.tolist() == [[10.0, 0.0]]
    assert plan.shipped.tolist() == [[10.0, 0.0]]


def test_supply_limit_and_inventory_carry_over():
    # month 0: req = 10 + cover(30 days → D(1) = 20) − 5 = 25, limited to 12; ship 10, end 7
    # month 1 (last): target = D(1) = 20; req = 20 + 20 − 7 = 33; no limit; ship 20, end 20
    plan = supply_plan(
        np.array([[10.0], [20.0]]),
        np.array([30.0]),
        np.array([5.0]),
        Routing.from_dense(np.zeros((1, 0))),
        np.zeros((2, 0)),
        np.array([[12.0], [INF]]),
    )
    assert plan.req[:, 0].tolist() == [25.0, 33.0]
    assert plan.production[:, 0].tolist() == [12.0, 33.0]
    assert plan.end_inventory[:, 0].tolist() == [7.0, 20.0]


def test_routing_with_a_sample_axis():
    # two demand samples at once: (N, S) units to (N, R) hours, (N, R) ratios to (N, S) scales
    routing = Routing.from_dense(np.array([[1.0, 0.0], [0.0, 0.0], [2.0, 3.0]]))
    assert routing.load(np.array([[10.0, 5.0, 1.0], [0.0, 0.0, 2.0]])).tolist() == [
        [12.0, 3.0],
        [4.0, 6.0],
    ]
    ratios = np.array([[0.5, 0.8], [1.0, 0.2]])
    assert routing.min_over_resources(ratios).tolist() == [[0.5, 1.0, 0.5], [1.0, 1.0, 0.2]]


def test_a_supply_plan_of_samples_is_each_samples_plan():
    # the pro-rata case above and the same demand doubled, planned together
    demand = np.array([[[50.0, 20.0, 20.0]], [[100.0, 40.0, 40.0]]])
    hours = Routing.from_dense(np.array([[1.0, 0.0], [2.5, 1.0], [0.0, 1.0]]))
    args = (np.zeros(3), np.zeros(3), hours, np.array([[50.0, 20.0]]), np.full((1, 3), INF))
    both = supply_plan(demand, *args)
    assert both.production.shape == (2, 1, 3) and both.load.shape == (2, 1, 2)
    for n in range(2):
        one = supply_plan(demand[n], *args)
        for name in ("req", "scale", "production", "shipped", "unmet", "end_inventory", "load"):
            assert getattr(both, name)[n].tolist() == getattr(one, name).tolist(), name
    assert both.production[1].tolist() == [[25.0, 10.0, 10.0]]  # twice the asking, same capacity
