"""Margin-optimal allocation: one month's linear programme by hand, then the hand case by margin."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from test_engine import column, hand_data, hand_plan

from sop_core.plan.allocation import margin_month
from sop_core.plan.engine import compute
from sop_core.plan.model import prepare
from sop_core.plan.supply import Routing

# Two products on one press of 150 h:
#   P1 contribution 5 a unit, 1 h a unit → 5 an hour; asked for 100 (100 h)
#   P2 contribution 8 a unit, 2 h a unit → 4 an hour; asked for 100 (200 h)
# The press makes the better earner per hour first: P1 100 units (100 h), then P2 with the 50 h
# left: 25 units. Contribution 500 + 200 = 700 (pro rata: 150/300 = 0.5 of each → 250 + 400 = 650).
# One more hour would make half a P2 more: shadow price 8 / 2 = 4 an hour.


def test_two_products_one_short_press():
    routing = Routing.from_dense(np.array([[1.0], [2.0]]))
    production, shadow = margin_month(
        np.array([100.0, 100.0]), np.array([5.0, 8.0]), routing, np.array([150.0])
    )
    assert production.tolist() == pytest.approx([100, 25])
    assert shadow.tolist() == pytest.approx([4])
    assert float(production @ np.array([5.0, 8.0])) == pytest.approx(700)


# A second resource that is not short binds nothing: a packing line of 1,000 h used by P2 only,
# and a third product on packing only, made in full (it uses no short resource).
def test_a_resource_with_room_and_a_product_off_the_short_one():
    hours = np.array([[1.0, 0.0], [2.0, 1.0], [0.0, 1.0]])  # press, packing
    production, shadow = margin_month(
        np.array([100.0, 100.0, 40.0]),
        np.array([5.0, 8.0, 3.0]),
        Routing.from_dense(hours),
        np.array([150.0, 1000.0]),
    )
    assert production.tolist() == pytest.approx([100, 25, 40])
    assert shadow.tolist() == pytest.approx([4, 0])


def test_nothing_short_makes_everything_and_prices_no_hour():
    production, shadow = margin_month(
        np.array([10.0, 20.0]),
        np.array([5.0, 8.0]),
        Routing.from_dense(np.array([[1.0], [2.0]])),
        np.array([np.inf]),
    )
    assert production.tolist() == [10, 20] and shadow.tolist() == [0]


# The hand case of test_engine.py with allocation=margin. Unit contribution: A 10 − 5 = 5 (1 h on
# Line: 5 an hour), B 20 − 8 = 12 (2 h on Line: 6 an hour).
# 2026-01 Line short (230 h asked, 184 h): B first, 50 units (100 h), A the 84 h left → P A 84,
#         P B 50 (pro rata: 104, 40); Line's hour is worth A's 5. ship A min(100, 10 + 84) = 94.
# 2026-02 req A = 80 + 30 − 0 = 110; Team short (72 h): A 72 (Team's hour worth 5); B 50 in full.
# 2026-03 req A = 60 + 30 − 0 = 90 → limit 50; nothing short: A 50, B 40; no hour has a price.
# revenue = 94×10 + 50×20 = 1940; 72×10 + 1000 = 1720; 50×10 + 40×20 = 1300
# COGS = 94×5 + 50×8 = 870; 72×5 + 400 = 760; 250 + 320 = 570; labour 300, 90, 300
# GM = 770, 870, 430 (pro rata 680, 910, 460): the horizon gains 2070 − 2050 = 20.
def test_hand_case_by_margin():
    result = hand_plan(["allocation=margin"])
    assert column(result.sku, "production_units", sku="A") == pytest.approx([84, 72, 50])
    assert column(result.sku, "production_units", sku="B") == pytest.approx([50, 50, 40])
    assert result.company["revenue"].tolist() == pytest.approx([1940, 1720, 1300])
    assert result.company["gross_margin"].tolist() == pytest.approx([770, 870, 430])
    resource = result.resource
    assert column(resource, "shadow_price", resource="Line") == pytest.approx([5, 0, 0])
    assert column(resource, "shadow_price", resource="Team") == pytest.approx([0, 5, 0])
    # production hours: Line 84 + 2 × 50 = 184 (its capacity), 72 + 100 = 172, 50 + 80 = 130
    assert column(resource, "production_hours", resource="Line") == pytest.approx([184, 172, 130])
    assert column(resource, "production_hours", resource="Team") == pytest.approx([84, 72, 50])


def test_margin_by_setting_equals_the_lever_and_a_window_limits_it():
    tables_data = hand_data()
    by_setting = compute(
        prepare(replace(tables_data, settings=replace(tables_data.settings, allocation="margin")))
    )
    by_lever = hand_plan(["allocation=margin"])
    np.testing.assert_allclose(by_setting.supply.production, by_lever.supply.production)
    # the lever beats the setting: pro rata on a margin store is the hand case again
    back = compute(
        prepare(replace(tables_data, settings=replace(tables_data.settings, allocation="margin"))),
        ["allocation=pro_rata"],
    )
    assert column(back.sku, "production_units", sku="A") == pytest.approx([104, 72, 50])
    # margin from Feb only: Jan pro rata (A 104), Feb by margin: req A = 80 + 30 − 14 = 96 on
    # Team's 72 h → 72 (as pro rata: A is Team's only product); Team's hour priced at 5
    windowed = hand_plan(["allocation@2026-02=margin"])
    assert column(windowed.sku, "production_units", sku="A") == pytest.approx([104, 72, 50])
    assert np.isnan(column(windowed.resource, "shadow_price", resource="Team")[0])
    assert column(windowed.resource, "shadow_price", resource="Team")[1:] == pytest.approx([5, 0])


def test_pro_rata_prices_no_hour_and_production_hours_stay_within_capacity():
    result = hand_plan()
    assert np.isnan(result.resource["shadow_price"]).all()
    cap = result.supply.capacity
    limited = np.isfinite(cap)
    assert (result.production_hours[limited] <= cap[limited] * (1 + 1e-12)).all()
    # Line in Jan: pro rata 104 + 2 × 40 = 184 = capacity
    assert column(result.resource, "production_hours", resource="Line")[0] == pytest.approx(184)


# --- the Allocation view: margin against pro rata (views/allocation.py) ---------------------------
# Hand case: gross margin 2070 by margin against 2050 pro rata (+20). Line is short in Jan and
# Team in Feb (each one month, each hour worth 5): the tie goes to the name, Line. On Line, B (F2)
# gains 10 units × 2 h = 20 h in Jan while A (F1) loses 20 h: F2 is the family prioritised.
# Families: F1 made 104 + 72 + 50 = 226 pro rata, 84 + 72 + 50 = 206 by margin; F2 130 → 140.
# F1 margin pro rata 200 + 310 − 20 = 490; by margin (940 − 470 − 300) + (720 − 360 − 90) +
# (500 − 250 − 300) = 390. F2 480 + 600 + 480 = 1560 → 600 + 600 + 480 = 1680.


def test_compare_allocation_on_the_hand_case():
    from sop_core.views.allocation import allocation_levers, compare_allocation

    model = prepare(hand_data())
    pro_levers, margin_levers = allocation_levers({("allocation", None, ("2026-02", None)): 1.0})
    assert pro_levers == {("allocation", None, None): 0.0}  # any allocation lever is replaced
    c = compare_allocation(compute(model, pro_levers), compute(model, margin_levers))
    assert (c.pro_rata_gross_margin, c.margin_gross_margin, c.gain) == pytest.approx(
        (2050, 2070, 20)
    )
    assert (c.pro_rata_unmet_units, c.margin_unmet_units) == pytest.approx((14, 24))
    assert (c.bottleneck, c.family) == ("Line", "F2")
    assert c.top == ("Line", "2026-01", pytest.approx(5))
    assert c.sentence("EUR") == (
        "Prioritising F2 on Line keeps €20 more gross margin over the horizon than sharing short "
        "capacity pro rata."
    )
    assert (
        c.hour_sentence("EUR") == "One more hour on Line in Jan 2026 is worth €5 of contribution."
    )
    assert c.shadow[["month", "resource"]].values.tolist() == [
        ["2026-01", "Line"],
        ["2026-02", "Team"],
    ]
    # Line in Jan: 184 h used of 184
    assert c.shadow.iloc[0][["production_hours", "capacity_hours"]].tolist() == [184, 184]
    fam = c.families.set_index("family")
    assert fam.loc["F1"].tolist() == pytest.approx([226, 206, 490, 390, -100])
    assert fam.loc["F2"].tolist() == pytest.approx([130, 140, 1560, 1680, 120])


def test_compare_allocation_when_nothing_is_short():
    from sop_core.views.allocation import compare_allocation

    model = prepare(hand_data())
    roomy = ["capacity_change_pct=100", "headcount_change_fte:Team=10"]
    c = compare_allocation(
        compute(model, [*roomy, "allocation=pro_rata"]),
        compute(model, [*roomy, "allocation=margin"]),
    )
    assert c.gain == pytest.approx(0) and c.bottleneck is None and c.top is None
    assert c.sentence("EUR").startswith("No resource is short in any month")
    assert c.hour_sentence("EUR") is None
