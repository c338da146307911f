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


def _datasets(chart) -> list[pd.DataFrame]:
    """Every dataset of a layered chart, in the order of the spec."""
    return [pd.DataFrame(rows) for rows in chart.to_dict()["datasets"].values()]


def _layers(chart) -> list[dict]:
    return chart.to_dict()["layer"]


FAN = pd.DataFrame(
    {
        "month": ["2027-01", "2027-02"],
        "p10": [80.0, 60.0],
        "p50": [100.0, 95.0],
        "p90": [120.0, 130.0],
        "point": [105.0, 90.0],
    }
)


def test_fan_chart_shades_p10_to_p90_and_draws_the_plan_and_the_median():
    chart = charts.fan_chart(FAN, "GBP", minimum=70.0)
    band, lines, rule, label = _layers(chart)
    assert band["mark"]["type"] == "area"
    assert band["encoding"]["y"]["field"] == "p10" and band["encoding"]["y2"]["field"] == "p90"
    data = {frozenset(d.columns): d for d in _datasets(chart)}
    drawn = next(d for cols, d in data.items() if "amount" in cols)
    plan = drawn[drawn["key"] == "point"]["amount"].tolist()
    median = drawn[drawn["key"] == "p50"]["amount"].tolist()
    assert plan == [105.0, 90.0] and median == [100.0, 95.0]
    assert set(drawn["what"]) == {
        charts.FAN_SERIES["point"],
        charts.FAN_SERIES["p50"],
    }
    # the plan solid, the median dashed
    dash = lines["encoding"]["strokeDash"]["scale"]
    assert dash["domain"] == [charts.FAN_SERIES["point"], charts.FAN_SERIES["p50"]]
    assert dash["range"] == [[1, 0], [6, 3]]
    assert rule["mark"]["type"] == "rule" and rule["encoding"]["y"]["field"] == "minimum"
    level = next(d for cols, d in data.items() if "minimum" in cols)
    assert level["minimum"].tolist() == [70.0]
    assert label["encoding"]["text"]["value"] == "minimum cash"


def test_fan_chart_without_a_minimum_has_no_rule():
    assert len(_layers(charts.fan_chart(FAN, "GBP"))) == 2


def test_history_chart_shades_the_baseline_band_when_given():
    frame = pd.DataFrame(
        {"month": ["2027-01", "2027-02"], "series": ["Statistical"] * 2, "units": [10.0, 12.0]}
    )
    band = pd.DataFrame({"month": ["2027-01", "2027-02"], "p10": [8.0, 9.0], "p90": [13.0, 15.0]})
    plain = charts.history_forecast_chart(frame).to_dict()
    assert "layer" not in plain  # no band, one line layer as before
    chart = charts.history_forecast_chart(frame, band=band, band_label="80 % band (sum)")
    shaded, lines = _layers(chart)
    assert shaded["mark"]["type"] == "area"
    assert (shaded["encoding"]["y"]["field"], shaded["encoding"]["y2"]["field"]) == ("p10", "p90")
    rows = next(d for d in _datasets(chart) if "p10" in d.columns)
    assert rows["p90"].tolist() == [13.0, 15.0] and set(rows["what"]) == {"80 % band (sum)"}
