"""What the pages and the board pack show of the ranges: the sentence, the horizon table, the
scenarios' ranges side by side, how many paths the app draws, the Demand review's band."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
from test_engine import HAND_BASELINE, hand_tables
from test_ranges import simple_model

from sop_core.plan.engine import compute
from sop_core.plan.model import prepare
from sop_core.plan.ranges import MEASURES, PlanRanges
from sop_core.store.plandata import plan_data_from_frames
from sop_core.views import ranges as view

MONTHS = ("2027-09", "2027-10", "2027-11")


def hand_ranges(cash, minimum=750_000.0, counts=None) -> PlanRanges:
    cash = np.asarray(cash, dtype=float)
    revenue = np.tile([1e6, 2e6, 3e6], (len(cash), 1)) * (1 + np.arange(len(cash)))[:, None]
    zeros = np.zeros_like(cash)
    return PlanRanges(
        months=MONTHS,
        samples=len(cash),
        seed=1,
        minimum_cash=minimum,
        paths={
            "revenue": revenue,
            "gross_margin": zeros,
            "closing_cash": cash,
            "unmet_units": zeros,
        },
        point={
            "revenue": np.array([1e6, 2e6, 3e6]),
            "gross_margin": np.zeros(3),
            "closing_cash": np.array([900e3, 800e3, 950e3]),
            "unmet_units": np.zeros(3),
        },
        spread_counts=counts or {},
    )


# Four paths; October is below £750k in one of them (1 in 4), some month in two (1 in 2).
FOUR = [
    [900e3, 700e3, 900e3],
    [900e3, 800e3, 700e3],
    [900e3, 800e3, 900e3],
    [900e3, 800e3, 900e3],
]


@pytest.mark.parametrize(
    ("cash", "sentence"),
    [
        (
            FOUR,
            "A 1 in 4 chance cash goes below £750k in Oct 2027 (in some month of the horizon: "
            "1 in 2).",
        ),
        (
            [[900e3, 700e3, 900e3], [900e3, 800e3, 900e3]],
            "A 1 in 2 chance cash goes below £750k in Oct 2027.",
        ),
        ([[900e3] * 3] * 3, "Cash stays at or above £750k in every month of all 3 demand paths."),
        (
            [[900e3, 700e3, 900e3], [800e3, 600e3, 900e3]],
            "Cash goes below £750k in Oct 2027 in every one of the 2 demand paths.",
        ),
    ],
)
def test_the_cash_risk_sentence(cash, sentence):
    assert view.cash_risk_sentence(hand_ranges(cash), "GBP") == sentence


def test_the_lowest_cash_sentence_and_the_horizon_table():
    # lowest cash per path 700k, 700k, 800k, 800k: P10 700k, P50 750k, P90 800k; the plan 800k
    r = hand_ranges(FOUR)
    assert view.lowest_cash_sentence(r, "GBP") == (
        "Lowest cash £700k to £800k (P10–P90), £750k on the median path; the plan £800k."
    )
    table = view.horizon_table(r, "GBP")
    assert table["measure"].tolist() == ["Revenue", "Gross margin", "Lowest cash"]
    # horizon revenue per path 6m, 12m, 18m, 24m: P10 7.8m, P50 15m, P90 22.2m
    assert table.iloc[0][["P10", "P50", "P90", "plan of record"]].tolist() == [
        "£7.8m",
        "£15.0m",
        "£22.2m",
        "£6.0m",
    ]


def test_compare_ranges_puts_each_plans_range_beside_it():
    table = view.compare_ranges(
        {"Base": hand_ranges(FOUR), "Calm": hand_ranges([[9e5] * 3])}, "GBP"
    )
    assert table["scenario"].tolist() == ["Base", "Calm"]
    assert table["lowest cash P10"].tolist() == ["£700k", "£900k"]
    assert table["cash below minimum"].tolist() == ["50.0 %", "0.0 %"]


def test_the_assumptions_note_says_where_the_spread_comes_from():
    counts = {
        "certain": 2,
        "baseline band": 10,
        "track record": 30,
        "band width (no track record)": 0,
    }
    note = view.assumptions_note(hand_ranges(FOUR, counts=counts))
    assert note.startswith(
        "4 demand paths (seed 1): 10 sku-months from the statistical baseline's band; 30 "
        "sku-months from the forecasting source's track record; 2 taken as certain"
    )
    assert "share 50% of their error, carried 80% into the next month" in note


def test_app_samples_by_size_and_allocation():
    small = compute(simple_model(families={"F": 3}))
    assert view.app_samples(small) == view.APP_SAMPLES
    # a company of 2,000,000 sku-months: 60,000,000 cells / 2,000,000 = 30 → at least 100
    big = replace(small, model=replace(small.model, demand=np.zeros((20, 100_000))))
    assert view.app_samples(big) == view.MIN_APP_SAMPLES
    margin = compute(
        prepare(plan_data_from_frames(hand_tables(), baseline=HAND_BASELINE)),
        ["allocation=margin"],
    )
    assert view.app_samples(margin) == view.MARGIN_SAMPLES


def test_app_ranges_are_the_plans_levers_over_the_apps_paths():
    model = simple_model(families={"F": 2})
    result = compute(model, ["volume_change_pct=10"])
    r = view.app_ranges(result)
    assert r.samples == view.APP_SAMPLES
    assert r.point["revenue"] == pytest.approx(result.finance.revenue)
    assert set(r.paths) == set(MEASURES)


def test_the_demand_reviews_band_sums_the_skus_bands():
    # 3 skus of 100 units, band 80..125 each: a family's band 240..375, a sku's its own
    result = compute(simple_model(families={"F1": 2, "F2": 1}))
    band, label = view.baseline_band(result, family="F1")
    assert label == "Statistical 80 % band (sum of sku bands)"
    assert band["p10"].tolist() == [160.0, 160.0] and band["p90"].tolist() == [250.0, 250.0]
    band, label = view.baseline_band(result, sku="F2-0")
    assert label == "Statistical 80 % band"
    assert band["p10"].tolist() == [80.0, 80.0] and band["p90"].tolist() == [125.0, 125.0]
    everything, _ = view.baseline_band(result)
    assert everything["p90"].tolist() == [375.0, 375.0]


def test_no_band_without_a_baseline():
    tables = hand_tables(all_consensus=True)
    result = compute(prepare(plan_data_from_frames(tables, baseline=pd.DataFrame())))
    band, _ = view.baseline_band(result)
    assert band.empty
