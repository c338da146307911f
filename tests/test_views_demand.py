"""Demand and Supply views: sources drawn where they cover every product, plan prices, limits."""

from __future__ import annotations

from test_engine import hand_data

from sop_core.plan.engine import compute
from sop_core.plan.model import prepare
from sop_core.views.demand import demand_series, family_demand_units


def _plan():
    data = hand_data()
    return data, compute(prepare(data), [])


def _line(series, name):
    rows = series[series["series"] == name]
    return dict(zip(rows["month"], rows["units"], strict=True))


def test_a_source_set_for_some_products_only_is_not_summed_into_a_false_total():
    # the hand case: A's consensus 100, 80, 60; B's consensus only in 2026-01 (50), its sales
    # 70 and 50 in 2026-01/02, its baseline 40 in 2026-03 (METHOD.md's hand case)
    data, result = _plan()
    every = demand_series(data, result)
    # all products: only 2026-01 has a consensus for both (100 + 50); 2026-02 would show A's 80
    # alone as if demand had halved
    assert _line(every, "Consensus") == {"2026-01": 150.0}
    assert _line(every, "Sales") == {}  # A has no sales forecast in any month
    assert _line(every, "Statistical") == {}  # nor a baseline (the hand case gives B one)
    assert every.attrs["partial"] == ["Statistical", "Sales", "Consensus"]
    assert _line(every, "Plan") == {"2026-01": 150.0, "2026-02": 130.0, "2026-03": 100.0}
    # a family (or a product) that the source covers keeps its whole line
    f1 = demand_series(data, result, family="F1")
    assert _line(f1, "Consensus") == {"2026-01": 100.0, "2026-02": 80.0, "2026-03": 60.0}
    assert f1.attrs["partial"] == []
    b = demand_series(data, result, sku="B")
    assert _line(b, "Sales") == {"2026-01": 70.0, "2026-02": 50.0}
    assert _line(b, "Consensus") == {"2026-01": 50.0}


def test_the_family_demand_over_the_horizon():
    _, result = _plan()
    assert family_demand_units(result, "F1") == 240.0  # 100 + 80 + 60
    assert family_demand_units(result, "F2") == 140.0  # 50 + 50 + 40
    assert family_demand_units(result) == 380.0


def test_products_of_different_prices_add_up_at_plan_prices():
    # A sells at 10, B at 20: the plan's 2026-01 is 100 A + 50 B = 150 units but 2,000 of revenue
    data, result = _plan()
    every = demand_series(data, result, at_prices=True)
    assert "units" not in every.columns
    plan = every[every["series"] == "Plan"]
    assert dict(zip(plan["month"], plan["revenue"], strict=True)) == {
        "2026-01": 100 * 10 + 50 * 20,
        "2026-02": 80 * 10 + 50 * 20,
        "2026-03": 60 * 10 + 40 * 20,
    }
    cons = every[every["series"] == "Consensus"]
    assert cons["revenue"].tolist() == [2000.0]
    b = demand_series(data, result, sku="B", at_prices=True)
    sales = b[b["series"] == "Sales"]
    assert sales["revenue"].tolist() == [70 * 20, 50 * 20]


def test_a_supplier_limit_says_whether_it_costs_sales():
    # the hand case (test_engine): 2026-03 req A = 60 + 30 − 6 = 84 against a limit of 50, so 34
    # are held back; ship A = min(60, 6 + 50) = 56: 4 of demand unshipped. B's limit of 100 is
    # above its 40: nothing held back
    from sop_core.views.supply import supplier_limits

    _, result = _plan()
    limits = supplier_limits(result).set_index("sku")
    assert limits.loc["A", ["max_units", "wanted_units", "production_units"]].tolist() == [
        50.0,
        84.0,
        50.0,
    ]
    assert limits.loc["A", "short_units"] == 34.0 and limits.loc["A", "unshipped_units"] == 4.0
    assert not limits.loc["B", "binding"] and limits.loc["B", "unshipped_units"] == 0.0


def test_the_actuals_line_counts_the_chosen_products_only_at_their_plan_prices():
    from dataclasses import replace

    import pandas as pd

    data, result = _plan()
    actuals = pd.DataFrame(
        [
            ("2025-11", "A", 3.0),
            ("2025-11", "B", 2.0),
            ("2025-11", "Z", 500.0),  # not a product of the plan: on no line
            ("2025-12", "A", 5.0),
        ],
        columns=["month", "sku", "units"],
    )
    data = replace(data, tables={**data.tables, "actuals": actuals})
    assert _line(demand_series(data, result), "Actuals") == {"2025-11": 5.0, "2025-12": 5.0}
    assert _line(demand_series(data, result, family="F1"), "Actuals") == {
        "2025-11": 3.0,
        "2025-12": 5.0,
    }
    # A at 10, B at 20
    money = demand_series(data, result, at_prices=True)
    rows = money[money["series"] == "Actuals"]
    assert dict(zip(rows["month"], rows["revenue"], strict=True)) == {
        "2025-11": 3 * 10 + 2 * 20,
        "2025-12": 5 * 10,
    }


def test_the_actuals_line_sorts_its_months_counts_a_blank_as_nothing_and_keeps_the_latest():
    from dataclasses import replace

    import pandas as pd

    data, result = _plan()
    actuals = pd.DataFrame(
        [
            ("2025-12", "A", 5.0),
            ("2025-10", "A", float("nan")),  # a blank: the month shows, at 0
            ("2025-11", "B", 2.0),
            ("2025-11", "A", 3.0),
        ],
        columns=["month", "sku", "units"],
    )
    data = replace(data, tables={**data.tables, "actuals": actuals})
    rows = demand_series(data, result)
    rows = rows[rows["series"] == "Actuals"]
    assert rows["month"].tolist() == ["2025-10", "2025-11", "2025-12"]
    assert rows["units"].tolist() == [0.0, 5.0, 5.0]
    assert _line(demand_series(data, result, history_months=2), "Actuals") == {
        "2025-11": 5.0,
        "2025-12": 5.0,
    }
