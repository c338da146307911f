"""What the Demand review offers to drill into: a search over skus and names, never 100,000 options."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from sop_core.views import demand
from sop_core.views.demand import find_products

APP = str(Path(__file__).resolve().parent.parent / "app.py")
SKUS = ["RAD-11", "RAD-22", "TWL-01", "CTL-09"]
NAMES = pd.Series(
    ["Compact Radiator 11", "Compact Radiator 22", "Towel Rail Chrome", "Smart Thermostat"],
    index=SKUS,
)


@pytest.mark.parametrize(
    ("text", "limit", "expected"),
    [
        ("", 10, (SKUS, 4)),  # blank: every sku, in the given order
        ("", 2, (["RAD-11", "RAD-22"], 4)),  # the first two listed, all four counted
        ("rad", 10, (["RAD-11", "RAD-22"], 2)),  # sku, ignoring case
        ("  chrome ", 10, (["TWL-01"], 1)),  # name, trimmed
        ("radiator", 1, (["RAD-11"], 2)),
        ("thermo", 10, (["CTL-09"], 1)),
        ("RAD-3", 10, ([], 0)),
        ("(", 10, ([], 0)),  # typed text is text, not a pattern
    ],
)
def test_find_products(text, limit, expected):
    assert find_products(SKUS, NAMES, text, limit=limit) == expected


def test_find_products_default_limit_is_the_module_setting(monkeypatch):
    monkeypatch.setattr(demand, "PRODUCT_CHOICES", 3)
    assert find_products(SKUS, NAMES) == (["RAD-11", "RAD-22", "TWL-01"], 4)


def _options(at: AppTest) -> list[str]:
    return list(at.selectbox(key="demand_sku").options)


def test_the_demand_page_lists_a_few_products_and_finds_the_others(demo_db, monkeypatch):
    monkeypatch.setattr(demand, "PRODUCT_CHOICES", 5)
    at = AppTest.from_file(APP, default_timeout=120)
    at.run()
    at.switch_page("pages/demand.py").run()
    assert not at.exception
    options = _options(at)
    assert len(options) == 1 + 5 and options[0] == "All products"
    assert "5 of 42 products listed" in " ".join(c.value for c in at.caption)
    # a sku far down the list is found by part of its name
    at.text_input(key="demand_sku_find").set_value("towel").run()
    found = _options(at)[1:]
    assert found and all("Towel" in o for o in found)
    sku = found[0].split(" · ")[0]
    at.selectbox(key="demand_sku").select(sku).run()
    assert not at.exception
    assert at.selectbox(key="demand_sku").value == sku
    assert any(f"Units per month: {sku}" in str(c.proto) for c in at.get("vega_lite_chart"))
    # the chosen product stays chosen while the search changes
    at.text_input(key="demand_sku_find").set_value("radiator").run()
    assert at.selectbox(key="demand_sku").value == sku
    assert found[0] in _options(at)
    at.text_input(key="demand_sku_find").set_value("no such product").run()
    assert "No product's sku or name contains that text." in [c.value for c in at.caption]
