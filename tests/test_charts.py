"""The chart builders: what each chart is given to draw (data and encodings), checked on small frames."""

from __future__ import annotations

import pandas as pd
import pytest

from sop_core.views import charts


def _data(chart) -> pd.DataFrame:
    """The rows of the chart's (first) dataset."""
    spec = chart.to_dict()
    datasets = spec["datasets"]
    return pd.DataFrame(next(iter(datasets.values())))


def test_bridge_chart_stacks_each_step_on_the_running_total():
    steps = pd.DataFrame(
        {
            "step": ["Budget", "Volume", "Cost", "Plan"],
            "amount": [100.0, 20.0, -30.0, 90.0],
            "kind": ["total", "delta", "delta", "total"],
        }
    )
    data = _data(charts.bridge_chart(steps, "GBP"))
    assert list(data["start"]) == [0.0, 100.0, 120.0, 0.0]
    assert list(data["end"]) == [100.0, 120.0, 90.0, 90.0]
    assert list(data["colour"]) == ["total", "increase", "decrease", "total"]
    assert list(data["label"]) == ["£100", "+£20", "−£30", "£90"]


def test_cash_chart_marks_the_months_below_the_minimum():
    frame = pd.DataFrame(
        {"month": ["2027-01", "2027-02", "2027-03"], "closing_cash": [500.0, 90.0, 150.0]}
    )
    data = _data(charts.cash_chart(frame, 100.0, "GBP"))
    assert list(data["below"]) == [False, True, False]
    assert set(data["minimum"]) == {100.0}


@pytest.mark.parametrize(
    ("utilisation", "status", "label"),
    [
        (0.5, "under 90 %", "50"),
        (0.95, "90–100 %", "95"),
        (1.2, "over 100 %", "120"),
        (None, "unlimited", "—"),
    ],
)
def test_utilisation_heatmap_buckets(utilisation, status, label):
    frame = pd.DataFrame(
        {"month": ["2027-01"], "resource": ["Press"], "utilisation": [utilisation]}
    )
    data = _data(charts.utilisation_heatmap(frame))
    assert data["status"].iloc[0] == status
    assert data["label"].iloc[0] == label


def test_the_gap_panels_draw_each_gap_with_its_cost_side_in_red():
    gaps = pd.DataFrame(
        {
            "panel": ["Sales lost to supply"] * 2 + ["Hours asked beyond capacity"] * 2,
            "month": ["2027-01", "2027-02"] * 2,
            "value": [-200.0, 0.0, 46.0, 0.0],
            "unit": ["GBP", "GBP", "hours", "hours"],
            "note": ["Line short of capacity Jan 2027: £200 of sales lost", "", "", ""],
        }
    )
    spec = charts.gap_panels_chart(gaps, "GBP").to_dict()
    panels = spec["vconcat"]
    assert [p["title"]["text"] for p in panels] == [
        "Sales lost to supply",
        "Hours asked beyond capacity",
    ]
    assert panels[0]["title"]["subtitle"] == ["Line short of capacity Jan 2027: £200 of sales lost"]
    colors = [p["layer"][0]["encoding"]["color"] for p in panels]
    assert colors[0]["condition"]["test"] == "datum.value < 0"  # money lost is below zero
    assert colors[1]["condition"]["test"] == "datum.value > 0"  # hours over capacity above it
    assert colors[0]["condition"]["value"] == charts.GAP_ADVERSE


def test_money_axis_labels_in_the_company_currency():
    axis = charts.money_axis("EUR", "Revenue").to_dict()
    assert "'€'" in axis["labelExpr"] and axis["title"] == "Revenue"


def test_story_colours_are_fixed_and_distinct():
    assert list(charts.STORY_COLORS) == ["Demand", "Supply", "Finance"]
    assert len(set(charts.STORY_COLORS.values())) == 3
    assert charts.SEVERITY_ORDER == ["high", "medium", "low"]
