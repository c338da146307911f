"""Ranges through the plan: sampled demand against its band and track record, correlation within a
family, the same engine for every path, quantiles and the probability counted by hand."""

from __future__ import annotations

import shutil
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
from scipy.stats import norm
from test_engine import HAND_BASELINE, hand_tables, settings_frame

from sop_core.errors import LeverError, PlanError
from sop_core.forecasting.baseline import baseline_frame
from sop_core.meeting import cycles
from sop_core.meeting.record import model_of_record, plan_of_record
from sop_core.months import month_range
from sop_core.plan.engine import compute
from sop_core.plan.model import prepare
from sop_core.plan.ranges import (
    HORIZON_MEASURES,
    MEASURES,
    RANGE_COLUMNS,
    Z90,
    PlanRanges,
    demand_uncertainty,
    odds,
    plan_ranges,
    sample_demand,
)
from sop_core.store.db import Store
from sop_core.store.plandata import plan_data_from_frames


def spread_frame(rows) -> pd.DataFrame:
    """A track record's verdicts with spreads: (source, family, log_ratio_mean, log_ratio_sd)."""
    frame = pd.DataFrame(rows, columns=["source", "family", "log_ratio_mean", "log_ratio_sd"])
    return frame.assign(n_points=24, verdict="unbiased")


def simple_model(
    *,
    families: dict[str, int],
    months: int = 2,
    point: float = 100.0,
    p10: float = 80.0,
    p90: float = 125.0,
    minimum_cash: float = 0.0,
    cash_items: pd.DataFrame | None = None,
    sales: bool = False,
    bias: pd.DataFrame | None = None,
):
    """Skus priced 10 with no costs, no stock cover, no resources: each month's revenue is 10 ×
    demand and closing cash the running sum of revenue (plus cash items). The baseline is
    ``point`` with the band ``p10``..``p90`` every month; with ``sales`` a sales forecast of
    ``point`` drives every month instead."""
    skus = [(f"{fam}-{i}", fam) for fam, n in families.items() for i in range(n)]
    plan_months = month_range("2026-01", months)
    baseline = pd.DataFrame(
        [(s, m, point, p10, p90) for s, _ in skus for m in plan_months],
        columns=["sku", "month", "units", "p10", "p90"],
    )
    tables = {
        "products": pd.DataFrame(
            {
                "sku": [s for s, _ in skus],
                "name": [s for s, _ in skus],
                "family": [f for _, f in skus],
                "unit_price": 10.0,
                "unit_material_cost": 0.0,
                "unit_variable_cost": 0.0,
                "target_cover_days": 0.0,
            }
        ),
        "settings": settings_frame(
            plan_start="2026-01", horizon_months=months, minimum_cash=minimum_cash
        ),
    }
    if sales:
        tables["forecasts"] = pd.DataFrame(
            [("2026-01", m, s, "sales", point) for s, _ in skus for m in plan_months],
            columns=["cycle", "month", "sku", "source", "units"],
        )
    if cash_items is not None:
        tables["cash_items"] = cash_items
    return prepare(plan_data_from_frames(tables, baseline=baseline), bias=bias)


def children(n: int, seed: int = 7):
    return np.random.SeedSequence(seed).spawn(n)


# --- each sku-month's spread -----------------------------------------------------------------


def test_the_band_drives_a_split_normal_with_its_p10_and_p90():
    # point 100, band 80..125: the low side's sd is 20 / 1.2816 = 15.61, the high side's 25 / 1.2816
    model = simple_model(families={"F": 3})
    u = demand_uncertainty(model)
    assert u.sd_low[0, 0] == pytest.approx(20 / Z90) == pytest.approx(15.606, abs=1e-3)
    assert u.sd_high[0, 0] == pytest.approx(25 / Z90) == pytest.approx(19.507, abs=1e-3)
    assert not u.by_record.any()
    assert u.counts(model) == {
        "certain": 0,
        "baseline band": 6,
        "track record": 0,
        "band width (no track record)": 0,
    }


def test_sampled_demand_has_the_band_as_its_10th_and_90th_percentiles():
    model = simple_model(families={"F": 5}, months=3)
    demand = sample_demand(model, demand_uncertainty(model), children(4000))
    assert np.mean(demand < 80.0) == pytest.approx(0.10, abs=0.015)
    assert np.mean(demand > 125.0) == pytest.approx(0.10, abs=0.015)
    assert np.median(demand) == pytest.approx(100.0, abs=1.5)


def test_a_source_month_moves_by_its_track_record():
    # sales forecast 100 in a family whose actuals ran ln(actual/forecast) ~ N(-0.2, 0.1):
    # median 100 × e^-0.2 = 81.87; its 10th percentile 100 × e^(-0.2 - 1.2816 × 0.1) = 72.03
    bias = spread_frame([("sales", "F", -0.2, 0.1)])
    model = simple_model(families={"F": 5}, months=3, sales=True, bias=bias)
    u = demand_uncertainty(model)
    assert u.by_record.all()
    demand = sample_demand(model, u, children(4000))
    assert np.median(demand) == pytest.approx(81.87, abs=0.8)
    assert np.mean(demand < 72.03) == pytest.approx(0.10, abs=0.015)


def test_a_source_without_a_record_takes_the_band_width_and_the_family_falls_back_to_all():
    # F2 has no row of its own: the source's "All" row applies; marketing never drives D
    bias = spread_frame([("sales", "All", 0.0, 0.3), ("sales", "F1", 0.0, 0.1)])
    model = simple_model(families={"F1": 1, "F2": 1}, sales=True, bias=bias)
    u = demand_uncertainty(model)
    assert u.log_sd[0].tolist() == pytest.approx([0.1, 0.3])
    # without any record: the band's width relative to the baseline (80..125 around 100), on
    # the sales figure 100: sd 20 / 1.2816 below, 25 / 1.2816 above
    plain = simple_model(families={"F1": 1}, sales=True)
    u = demand_uncertainty(plain)
    assert not u.by_record.any()
    assert u.sd_low[0, 0] == pytest.approx(20 / Z90)
    assert u.sd_high[0, 0] == pytest.approx(25 / Z90)
    assert u.counts(plain)["band width (no track record)"] == 2


def test_the_sampled_ranges_cover_80_percent_of_a_known_distribution():
    # 12 skus of iid N(level, sd) history: the future follows the same distribution, so how
    # much of it the sampled P10..P90 of each sku-month covers is known exactly
    rng = np.random.default_rng(2024)
    n_skus = 12
    levels = rng.uniform(80, 400, n_skus)
    sds = levels * rng.uniform(0.05, 0.2, n_skus)
    skus = [f"S{i:02d}" for i in range(n_skus)]
    history = month_range("2021-01", 60)
    actuals = pd.DataFrame(
        [
            (m, skus[i], u)
            for i in range(n_skus)
            for m, u in zip(history, rng.normal(levels[i], sds[i], 60), strict=True)
        ],
        columns=["month", "sku", "units"],
    )
    months = month_range("2026-01", 6)
    base = baseline_frame(actuals, skus, months, origin="2026-01", workers=1)
    tables = {
        "products": pd.DataFrame(
            {"sku": skus, "name": skus, "family": "F", "unit_price": 1.0, "target_cover_days": 0}
        ),
        "actuals": actuals,
        "settings": settings_frame(plan_start="2026-01", horizon_months=6),
    }
    model = prepare(plan_data_from_frames(tables, baseline=base))
    demand = sample_demand(model, demand_uncertainty(model), children(3000))
    low, high = np.quantile(demand, [0.1, 0.9], axis=0)
    order = [list(model.skus).index(s) for s in skus]
    mu, sd = levels[None, :], sds[None, :]
    covered = norm.cdf((high[:, order] - mu) / sd) - norm.cdf((low[:, order] - mu) / sd)
    assert 0.72 <= float(covered.mean()) <= 0.88, covered.mean()


# --- correlation within a family --------------------------------------------------------------


def test_a_family_moves_together_by_the_documented_rho_and_carries_its_shock_over_months():
    # 10 skus a family, each sd 10 (a symmetric band 100 ± 12.816): with ρ = 0.5 the family
    # total's sd is 10 × √(10 × (1 + 9 × 0.5)) = 74.16, against 10 × √10 = 31.62 independent
    # (× 2.345); next month's total correlates k ρ φ / (1 + (k − 1) ρ) = 10 × 0.4 / 5.5 = 0.727
    model = simple_model(families={"F1": 10, "F2": 10}, p10=100 - 12.816, p90=100 + 12.816)
    u = demand_uncertainty(model)
    shared = model.family_sum(sample_demand(model, u, children(20000)))
    alone = model.family_sum(sample_demand(model, u, children(20000), family_share=0.0))
    assert shared[:, 0, 0].std() == pytest.approx(74.16, rel=0.04)
    assert alone[:, 0, 0].std() == pytest.approx(31.62, rel=0.04)
    assert np.corrcoef(shared[:, 0, 0], shared[:, 1, 0])[0, 1] == pytest.approx(0.727, abs=0.03)
    # families move independently
    assert abs(np.corrcoef(shared[:, 0, 0], shared[:, 0, 1])[0, 1]) < 0.03


# --- the plan over the paths ------------------------------------------------------------------

ZERO_SPREAD = spread_frame(
    [
        ("consensus", "F1", 0.0, 0.0),
        ("consensus", "F2", 0.0, 0.0),
        ("sales", "F2", 0.0, 0.0),
    ]
)
HAND_BAND = HAND_BASELINE.assign(p10=HAND_BASELINE["units"], p90=HAND_BASELINE["units"])


@pytest.mark.parametrize(
    "levers",
    [[], ["volume_change_pct=10", "price_change_pct:F1=-5", "price_elasticity=-1.2"]],
)
def test_ranges_collapse_to_the_point_plan_when_the_error_is_zero(levers):
    # the engine's hand case (capacity, a supply limit, stock, DSO/DPO, a capex): consensus,
    # sales and baseline months, every one with zero spread
    model = prepare(plan_data_from_frames(hand_tables(), baseline=HAND_BAND), bias=ZERO_SPREAD)
    assert demand_uncertainty(model).certain
    ranges = plan_ranges(model, levers, samples=20)
    point = compute(model, levers)
    monthly = ranges.monthly
    for measure in MEASURES:
        rows = monthly[monthly["measure"] == measure]
        for q in ("p10", "p50", "p90"):
            assert rows[q].tolist() == pytest.approx(rows["point"].tolist(), abs=1e-6), measure
    cash = monthly[monthly["measure"] == "closing_cash"]["point"].tolist()
    assert cash == pytest.approx(point.company["closing_cash"].tolist())
    horizon = ranges.horizon.set_index("measure")
    assert horizon.loc["lowest_cash", "p50"] == pytest.approx(min(cash))
    # the hand case's cash, 5716, 5398, 5760 (with the levers 5755, 5457, 5772), is below its
    # minimum of 5500 in Feb: so is every path
    if not levers:
        assert cash == pytest.approx([5716, 5398, 5760])
    assert ranges.probability == 1.0
    assert ranges.below_minimum.tolist() == [0.0, 1.0, 0.0]


def test_p10_p50_p90_are_ordered_everywhere():
    spread = spread_frame(
        [("consensus", "F1", -0.1, 0.3), ("consensus", "F2", 0.05, 0.2), ("sales", "F2", 0, 0.4)]
    )
    band = HAND_BASELINE.assign(p10=HAND_BASELINE["units"] * 0.5, p90=HAND_BASELINE["units"] * 2)
    model = prepare(plan_data_from_frames(hand_tables(), baseline=band), bias=spread)
    frame = plan_ranges(model, ["capacity_change_pct=-20"], samples=400, seed=3).frame()
    assert (frame["p10"] <= frame["p50"]).all() and (frame["p50"] <= frame["p90"]).all()
    assert (frame["p10"] < frame["p90"]).any()  # and the spread is not nothing


def test_the_quantiles_and_the_probability_by_hand():
    # 5 paths × 2 months of closing cash against a minimum of 10:
    #   path 0:  5, 12  below in month 1
    #   path 1:  8,  9  below in both
    #   path 2: 11, 12  never
    #   path 3: 12,  7  below in month 2
    #   path 4: 14, 10  never (10 is not below 10)
    # some month: paths 0, 1, 3 → 3/5 = 0.6; month 1: paths 0, 1 → 0.4; month 2: 1, 3 → 0.4
    # month 1 cash sorted 5, 8, 11, 12, 14: P10 = 5 + 0.4 × 3 = 6.2, P50 = 11, P90 = 12 + 0.6 × 2 = 13.2
    # lowest cash per path 5, 8, 11, 7, 10 → sorted 5, 7, 8, 10, 11: P10 5.8, P50 8, P90 10.6
    cash = np.array([[5, 12], [8, 9], [11, 12], [12, 7], [14, 10]], dtype=float)
    zeros = np.zeros_like(cash)
    ranges = PlanRanges(
        months=("2026-01", "2026-02"),
        samples=5,
        seed=0,
        minimum_cash=10.0,
        paths={"revenue": zeros, "gross_margin": zeros, "closing_cash": cash, "unmet_units": zeros},
        point={m: np.array([10.0, 10.0]) for m in MEASURES},
    )
    assert ranges.probability == pytest.approx(0.6)
    assert ranges.below_minimum.tolist() == pytest.approx([0.4, 0.4])
    assert ranges.riskiest_month == ("2026-01", pytest.approx(0.4))  # the first of a tie
    jan = ranges.monthly.query("measure == 'closing_cash' and month == '2026-01'").iloc[0]
    assert [jan["p10"], jan["p50"], jan["p90"]] == pytest.approx([6.2, 11.0, 13.2])
    low = ranges.horizon.set_index("measure").loc["lowest_cash"]
    assert [low["p10"], low["p50"], low["p90"]] == pytest.approx([5.8, 8.0, 10.6])
    prob = ranges.horizon.set_index("measure").loc["cash_below_minimum_probability"]
    assert [prob["p10"], prob["p50"], prob["p90"]] == [0.6, 0.6, 0.6]


def test_the_probability_matches_a_count_of_the_sampled_paths():
    # 3 skus, 2 months, 8 paths. Revenue is 10 × demand and costs nothing, so closing cash is
    # 10 × the month's demand, then that plus 10 × the next month's demand − 3,300 (a cash item):
    # each path is counted below from its sampled demand alone, without the engine.
    items = pd.DataFrame({"month": ["2026-02"], "item": ["capex"], "amount": [-3300.0]})
    model = simple_model(families={"F": 3}, minimum_cash=2900.0, cash_items=items)
    demand = sample_demand(model, demand_uncertainty(model), children(8, seed=11))
    month1 = 10 * demand[:, 0].sum(axis=1)
    month2 = month1 + 10 * demand[:, 1].sum(axis=1) - 3300
    below = (month1 < 2900) | (month2 < 2900)
    assert 0 < below.sum() < 8  # some paths, not all: the case counts something
    ranges = plan_ranges(model, samples=8, seed=11)
    assert ranges.paths["closing_cash"] == pytest.approx(np.column_stack([month1, month2]))
    assert ranges.probability == below.sum() / 8
    assert ranges.below_minimum.tolist() == [np.mean(month1 < 2900), np.mean(month2 < 2900)]


def test_levers_apply_to_every_path_as_to_the_point_demand():
    model = simple_model(families={"F": 4})
    plain = plan_ranges(model, samples=50, seed=5)
    doubled = plan_ranges(model, ["volume_change_pct=100"], samples=50, seed=5)
    assert doubled.paths["revenue"] == pytest.approx(2 * plain.paths["revenue"])
    assert doubled.point["revenue"] == pytest.approx(2 * plain.point["revenue"])


def test_the_same_seed_gives_the_same_paths_whatever_the_batch_and_count():
    model = simple_model(families={"F1": 2, "F2": 3}, months=4)
    big = plan_ranges(model, samples=30, seed=9)
    small_batches = plan_ranges(model, samples=30, seed=9, memory_mb=1e-6)  # one path a batch
    first = plan_ranges(model, samples=10, seed=9)
    other = plan_ranges(model, samples=30, seed=10)
    assert np.array_equal(big.paths["revenue"], small_batches.paths["revenue"])
    assert np.array_equal(first.paths["revenue"], big.paths["revenue"][:10])
    assert not np.array_equal(other.paths["revenue"], big.paths["revenue"])


def test_the_margin_allocation_plans_each_path_by_its_own_programme():
    # the hand case by margin: each path's figures equal a single plan of that path's demand
    spread = spread_frame([("consensus", "F1", 0.0, 0.2), ("consensus", "F2", 0.0, 0.2)])
    model = prepare(plan_data_from_frames(hand_tables(), baseline=HAND_BAND), bias=spread)
    u = demand_uncertainty(model)
    ranges = plan_ranges(model, ["allocation=margin"], samples=4, seed=1)
    demand = sample_demand(model, u, children(4, seed=1))
    assert len({tuple(row) for row in ranges.paths["closing_cash"]}) == 4  # four plans
    for n in range(4):
        single = compute(replace(model, demand=demand[n]), ["allocation=margin"])
        assert ranges.paths["closing_cash"][n] == pytest.approx(single.finance.closing_cash)
        assert ranges.paths["unmet_units"][n] == pytest.approx(single.supply.unmet.sum(axis=1))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"samples": 0}, "Samples: 0 is not a whole number from 1 to 100,000."),
        ({"samples": 100_001}, "Samples: 100001 is not a whole number from 1 to 100,000."),
        ({"family_share": 1.5}, "family_share: 1.5 is not between 0 and 1."),
    ],
)
def test_bad_arguments_are_refused(kwargs, message):
    with pytest.raises(PlanError) as err:
        plan_ranges(simple_model(families={"F": 1}), **kwargs)
    assert str(err.value) == message


def test_a_bad_lever_is_refused_as_by_compute():
    with pytest.raises(LeverError, match="Unknown lever"):
        plan_ranges(simple_model(families={"F": 1}), ["no_such_lever=1"], samples=2)


def test_the_frame_is_the_cli_contract():
    model = simple_model(families={"F": 2}, months=3)
    frame = plan_ranges(model, samples=20).frame()
    assert list(frame.columns) == RANGE_COLUMNS
    assert len(frame) == 3 * len(MEASURES) + len(HORIZON_MEASURES)
    assert frame["measure"].tolist()[:4] == list(MEASURES)
    assert frame["month"].tolist()[:4] == ["2026-01"] * 4
    tail = frame.tail(4)
    assert tail["month"].tolist() == ["horizon"] * 4
    assert tail["measure"].tolist() == list(HORIZON_MEASURES)


@pytest.mark.parametrize(
    ("p", "said"),
    [
        (0.25, "1 in 4"),
        (0.27, "1 in 4"),
        (0.52, "1 in 2"),
        (0.781, "4 in 5"),
        (0.7, "7 in 10"),
        (0.05, "1 in 20"),
        (0.001, "1 in 1000"),
        (0.43, "43 %"),
    ],
)
def test_odds_as_people_say_them(p, said):
    assert odds(p) == said


# --- a locked plan's ranges are frozen with it --------------------------------------------------


def test_a_locked_plan_keeps_the_band_and_track_record_its_ranges_are_drawn_from(
    demo_store_file, tmp_path
):
    path = tmp_path / "demo.duckdb"
    shutil.copy(demo_store_file, path)
    with Store(path) as store:
        before = plan_of_record(store)
        open_ranges = plan_ranges(before.model, before.levers, samples=200, seed=4)
        cycles.lock_cycle(
            store, before.cycle, user="Kim", override="the test locks the plan as it is"
        )
        model = model_of_record(store, before.cycle)
    assert np.isfinite(model.baseline_p10).all() and np.isfinite(model.source_log_sd[2:]).all()
    locked = plan_ranges(model, before.levers, samples=200, seed=4)
    assert locked.frame().equals(open_ranges.frame())


def test_paths_planned_together_equal_a_plan_of_each():
    # the hand case with windowed levers (prices, elasticity, cover, DSO by month): a batch of
    # paths through the sample axis gives each path exactly the single plan of its demand
    spread = spread_frame(
        [("consensus", "F1", -0.1, 0.3), ("consensus", "F2", 0.0, 0.2), ("sales", "F2", 0, 0.3)]
    )
    band = HAND_BASELINE.assign(p10=HAND_BASELINE["units"] * 0.5, p90=HAND_BASELINE["units"] * 2)
    model = prepare(plan_data_from_frames(hand_tables(), baseline=band), bias=spread)
    levers = [
        "price_change_pct:F1@2026-02=-5",
        "price_elasticity=-1.5",
        "target_cover_days:F1@2026-02=30",
        "dso_days@2026-03=45",
        "capacity_change_pct=-10",
    ]
    ranges = plan_ranges(model, levers, samples=12, seed=2)
    assert ranges.samples == 12
    demand = sample_demand(model, demand_uncertainty(model), children(12, seed=2))
    for n in range(12):
        single = compute(replace(model, demand=demand[n]), levers)
        assert ranges.paths["revenue"][n] == pytest.approx(single.finance.revenue)
        assert ranges.paths["gross_margin"][n] == pytest.approx(single.finance.gross_margin)
        assert ranges.paths["closing_cash"][n] == pytest.approx(single.finance.closing_cash)
        assert ranges.paths["unmet_units"][n] == pytest.approx(single.supply.unmet.sum(axis=1))


def test_a_baseline_fitted_for_the_plan_brings_its_band(tmp_path):
    # the hand case with two years of actuals: B's 2026-03 is baseline-driven, so the baseline
    # is fitted for the plan (service.with_baseline) and its band is the month's spread
    rng = np.random.default_rng(3)
    history = month_range("2024-01", 24)
    actuals = pd.DataFrame(
        [
            (m, s, float(u))
            for s in ("A", "B")
            for m, u in zip(history, rng.normal(60, 8, 24), strict=True)
        ],
        columns=["month", "sku", "units"],
    )
    with Store(tmp_path / "plan.duckdb") as store:
        store.replace_tables({**hand_tables(), "actuals": actuals}, user="test", source="test")
        model = model_of_record(store, "2026-01")
    u = demand_uncertainty(model)
    b = list(model.skus).index("B")
    assert model.demand_source[2, b] == 1  # baseline
    assert model.baseline_p10[2, b] < model.baseline[2, b] < model.baseline_p90[2, b]
    assert u.kind[2, b] == 1 and u.sd_low[2, b] > 0  # "baseline band"
