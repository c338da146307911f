"""The Scenarios page's decision views in sop_core: goal-seek choices and sentences, sensitivity
labels, the tornado chart's data."""

from __future__ import annotations

import pandas as pd
import pytest
from test_engine import hand_data

from sop_core.plan.goalseek import goal_seek, parse_target
from sop_core.plan.model import prepare
from sop_core.plan.sensitivity import sensitivity
from sop_core.views import charts, decisions


@pytest.fixture(scope="module")
def model():
    return prepare(hand_data())


def test_seekable_levers_leave_out_the_choice(model):
    options = dict(decisions.seekable_levers(model))
    assert options[("price_change_pct", "F1")] == "Price change (%): F1"
    assert options[("headcount_change_fte", "Team")] == "Headcount change (FTE): Team"
    assert ("dso_days", None) in options
    assert all(name != "allocation" for name, _ in options)


def test_target_choices_by_measure(model):
    assert decisions.target_choices(model, "lowest_cash") == [
        ("minimum_cash", "minimum cash (€5,500)"),
        (None, "a number"),
    ]
    assert decisions.target_choices(model, "revenue") == [("budget", "budget"), (None, "a number")]
    assert decisions.target_choices(model, "unmet_units") == [(None, "a number")]


def test_goal_seek_sentences(model):
    answer = goal_seek(model, parse_target("lowest_cash>=minimum_cash", model), "dso_days")
    assert decisions.goal_seek_sentence(answer, "EUR") == (
        "Customer payment terms (DSO) 13.3 days meets lowest cash ≥ the minimum cash €5,500: "
        "€5,500 (now €5,398)."
    )
    windowed = goal_seek(model, parse_target("revenue>=5000", model), "price_change_pct:F1@2026-02")
    # A's revenue from Feb: 800 + 560 = 1360; 1360 × x/100 ≥ 40 → x ≥ 2.94: 2.95
    assert decisions.goal_seek_sentence(windowed, "EUR") == (
        "Price +2.95 % on F1 from Feb 2026 meets revenue ≥ €5,000: €5,000 (now €4,960)."
    )
    met = goal_seek(model, parse_target("unmet_units<=20", model), "price_change_pct")
    assert decisions.goal_seek_sentence(met, "EUR") == (
        "Unmet demand (units) is 14 already, ≤ 20: no change is needed."
    )


def test_sensitivity_labels(model):
    frame = decisions.sensitivity_labels(sensitivity(model))
    labels = dict(zip(frame["lever"], frame["label"], strict=False))
    assert labels["price_change_pct"] == "Price change −1 / +1 %"
    assert labels["dso_days"] == "Customer payment terms, DSO 10 / 20 days"
    assert labels["target_cover_days:F2"] == "Target stock cover on F2 0 / 5 days"
    assert labels["price_elasticity"] == "Price elasticity −0.5 / +0.5"


def test_tornado_chart_bars_from_base_biggest_swing_first():
    frame = pd.DataFrame(
        {
            "label": ["small", "big", "small", "big"],
            "measure": ["lowest_cash", "lowest_cash", "gross_margin", "gross_margin"],
            "base": [100.0, 100.0, 50.0, 50.0],
            "at_low": [90.0, 40.0, 0.0, 0.0],
            "at_high": [105.0, 180.0, 0.0, 0.0],
        }
    )
    spec = charts.tornado_chart(frame, "lowest_cash", "GBP").to_dict()
    data = pd.DataFrame(next(iter(spec["datasets"].values())))
    bars = data[data["side"] == "One step down"].set_index("label")
    assert bars.loc["big", ["start", "end", "change"]].tolist() == [100, 40, -60]
    assert bars.loc["small", "text"] == "−£10"
    up = data[data["side"] == "One step up"].set_index("label")
    assert up.loc["big", "text"] == "+£80"
    y_sort = spec["layer"][0]["encoding"]["y"]["sort"]
    assert y_sort == ["big", "small"]  # swing 80 before 10
    assert len(data) == 4  # one measure only
