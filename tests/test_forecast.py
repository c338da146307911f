"""Statistical baseline: model choice per history length, the combination, the 80 % band,
gaps, the store, the command line."""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.stats import norm

from sop_core.forecasting import baseline as forecast
from sop_core.forecasting.baseline import (
    BASELINE_COLUMNS,
    band,
    baseline_frame,
    baseline_history,
    combine_forecasts,
    ensure_baseline,
    error_scale,
    fit_baseline,
    fit_series,
    is_seasonal,
    pooled_quantiles,
    run_forecast,
    theta_forecast,
)
from sop_core.months import month_range
from sop_core.store.db import Store

ROOT = Path(__file__).resolve().parent.parent


def synthetic(n, *, level=100.0, slope=0.5, amplitude=30.0, peak=6, noise=5.0, seed=0):
    """Trend + a yearly cycle peaking at index ``peak`` (mod 12) + Gaussian noise."""
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    season = amplitude * np.cos(2 * np.pi * (t - peak) / 12)
    return level + slope * t + season + rng.normal(0, noise, n)


def seasonal_parts(model: str) -> list[str]:
    """The season letter (N, A, M) of each ETS part of a combination label."""
    return [part[-2] for part in model.split(" + ") if part.startswith("ETS(")]


# --- fit_baseline --------------------------------------------------------------------


@pytest.mark.parametrize("n, peak, seed", [(36, 2, 1), (60, 6, 2), (96, 11, 3)])
def test_seasonality_is_captured(n, peak, seed):
    y = synthetic(n, peak=peak, seed=seed)
    fc, model = fit_baseline(y, 12)
    assert model.endswith(" + Theta")  # >= 24 months: the combination
    assert seasonal_parts(model) and all(s in "AM" for s in seasonal_parts(model))
    # The forecast's first step is month index n; its peak falls on the true peak month.
    assert (n + int(np.argmax(fc))) % 12 == peak


@pytest.mark.parametrize("n", [24, 30, 35])
def test_a_short_strongly_seasonal_history_gets_a_seasonal_model(n):
    # With 24-35 months AICc alone would prefer a flat ETS(A,N,N): the seasonality test
    # keeps the winter peak in the baseline.
    y = synthetic(n, level=1000, slope=5, amplitude=400, peak=1, noise=60, seed=n)
    fc, model = fit_baseline(y, 12)
    assert seasonal_parts(model) and all(s in "AM" for s in seasonal_parts(model)), model
    assert (n + int(np.argmax(fc))) % 12 in (0, 1, 2)


@pytest.mark.parametrize(
    "y, expected",
    [
        (synthetic(24, amplitude=30, noise=3, seed=1), True),
        (synthetic(60, amplitude=10, noise=5, seed=2), True),
        (synthetic(60, amplitude=0, noise=5, seed=3), False),  # trend + noise only
        (np.arange(30, dtype=float), False),  # a straight line
        (np.tile([1.0, 5.0, 9.0, 2.0, 2.0, 3.0, 4.0, 8.0, 1.0, 0.0, 0.0, 6.0], 3), True),
    ],
)
def test_seasonality_test(y, expected):
    assert is_seasonal(y) is expected


def test_never_negative_on_a_declining_series():
    y = np.clip(synthetic(48, level=200, slope=-4.0, amplitude=10, seed=4), 0, None)
    fc, _ = fit_baseline(y, 24)
    assert fc.shape == (24,)
    assert np.all(fc >= 0) and np.all(np.isfinite(fc))
    assert fc.min() == 0  # the fitted decline runs into the floor


def test_twelve_to_23_months_is_seasonal_naive():
    y = np.arange(1.0, 19.0)  # 18 months: 1..18
    fc, model = fit_baseline(y, 14)
    # last year's 12 values (7..18), repeated: 7..18, then 7, 8
    assert fc.tolist() == [7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 7, 8]
    assert model == "seasonal naive"


def test_exactly_12_months_is_seasonal_naive():
    y = np.array([5, 0, 3, 8, 1, 1, 2, 9, 4, 4, 6, 7], dtype=float)
    fc, model = fit_baseline(y, 3)
    assert fc.tolist() == [5, 0, 3] and model == "seasonal naive"


@pytest.mark.parametrize(
    "history, expected, model",
    [
        ([4, 0, 10, 20, 30], 20.0, "mean of last 3 months"),  # (10 + 20 + 30) / 3
        ([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11], 10.0, "mean of last 3 months"),  # (9+10+11)/3
        ([5, 7], 6.0, "mean of last 2 months"),  # (5 + 7) / 2
        ([9], 9.0, "mean of last 1 month"),
        ([0, 0, 3], 1.0, "mean of last 3 months"),  # (0 + 0 + 3) / 3
    ],
)
def test_under_12_months_is_the_mean_of_the_last_three(history, expected, model):
    fc, label = fit_baseline(np.array(history, dtype=float), 4)
    assert fc.tolist() == [expected] * 4
    assert label == model


@pytest.mark.parametrize("n", [0, 5, 15, 40])
def test_all_zero_or_empty_history_gives_zeros(n):
    fc, model = fit_baseline(np.zeros(n), 6)
    assert fc.tolist() == [0.0] * 6
    assert model == ("no history" if n == 0 else "zeros")


def _broken(*args, **kwargs):
    raise np.linalg.LinAlgError("singular")


def test_failing_ets_fits_leave_theta_alone(monkeypatch):
    monkeypatch.setattr(forecast, "_fit_ets", _broken)
    y = synthetic(36, seed=5)
    fc, model = fit_baseline(y, 13)
    assert model == "Theta"
    assert np.allclose(fc, np.maximum(theta_forecast(y, 13), 0))


def test_failing_ets_and_theta_fall_back_to_seasonal_naive(monkeypatch):
    monkeypatch.setattr(forecast, "_fit_ets", _broken)
    monkeypatch.setattr(forecast, "theta_forecast", _broken)
    y = synthetic(36, seed=5)
    fc, model = fit_baseline(y, 13)
    assert model == "seasonal naive (fallback)"
    assert fc.tolist() == [*y[-12:].tolist(), y[-12]]


@pytest.mark.parametrize("bad", [np.nan, np.inf, 1e12])
def test_non_finite_or_exploding_forecasts_fall_back(monkeypatch, bad):
    monkeypatch.setattr(forecast, "_fit_ets", lambda y, t, d, s, steps: (np.full(steps, bad), 1.0))
    monkeypatch.setattr(forecast, "theta_forecast", lambda y, steps: np.full(steps, bad))
    y = synthetic(30, seed=6)
    fc, model = fit_baseline(y, 12)
    assert model == "seasonal naive (fallback)" and np.allclose(fc, y[-12:])


def test_the_two_lowest_aicc_candidates_are_combined_with_theta(monkeypatch):
    # Stub fits: each candidate forecasts a constant and reports an SSE; AICc grows with
    # the SSE and the parameter count, so ETS(A,N,N) (SSE 1) and ETS(A,Ad,N) (SSE 2) win.
    constants = {(None, False, None): (10.0, 1.0), ("add", True, None): (30.0, 2.0)}

    def stub(y, trend, damped, seasonal, steps):
        value, sse = constants.get((trend, damped, seasonal), (1000.0, 1e9))
        return np.full(steps, value), sse

    monkeypatch.setattr(forecast, "_fit_ets", stub)
    monkeypatch.setattr(forecast, "theta_forecast", lambda y, steps: np.full(steps, 60.0))
    y = np.abs(synthetic(48, amplitude=0, seed=8))  # no yearly pattern: all candidates compete
    fc, model = fit_baseline(y, 3)
    # ((10 + 30) / 2 + 60) / 2 = 40
    assert fc.tolist() == [40.0, 40.0, 40.0]
    assert model == "ETS(A,N,N) + ETS(A,Ad,N) + Theta"


@pytest.mark.parametrize(
    "ets, theta, expected",
    [
        ([[10.0, 20.0], [30.0, 40.0]], [40.0, 50.0], [30.0, 40.0]),  # ([20, 30] + [40, 50]) / 2
        ([[10.0, 20.0]], [30.0, 0.0], [20.0, 10.0]),  # one ETS: (10 + 30) / 2, (20 + 0) / 2
        ([[10.0, 20.0], [30.0, 40.0]], None, [20.0, 30.0]),  # no Theta: the ETS mean
        ([], [7.0, 8.0], [7.0, 8.0]),  # no ETS: Theta alone
    ],
)
def test_combine_forecasts_by_hand(ets, theta, expected):
    got = combine_forecasts([np.array(e) for e in ets], None if theta is None else np.array(theta))
    assert got.tolist() == expected


def test_combine_forecasts_needs_a_forecast():
    with pytest.raises(ValueError, match="at least one"):
        combine_forecasts([], None)


def test_theta_on_a_straight_line_by_hand():
    # y = 10 + 2t, t = 0..29 (no yearly pattern): SES tracks the line with alpha -> 1, so
    # its level is the last value 68; the slope b = 2, and the forecast h months ahead is
    # 68 + b/2 * (h - 1 + 1/alpha - (1-alpha)^30/alpha) -> 68 + h: 69, 70, 71.
    y = 10.0 + 2.0 * np.arange(30)
    assert np.allclose(theta_forecast(y, 3), [69.0, 70.0, 71.0], atol=0.05)


def test_theta_matches_statsmodels_on_a_seasonal_series():
    # statsmodels' ThetaModel starts SES at the first value; ours fits the first level too,
    # so the two agree closely but not exactly on a long, regular series.
    from statsmodels.tsa.forecasting.theta import ThetaModel

    y = synthetic(96, level=500, slope=2, amplitude=80, noise=10, seed=9)
    theirs = np.asarray(ThetaModel(y, period=12).fit().forecast(12))
    assert np.allclose(theta_forecast(y, 12), theirs, rtol=0.03)


def test_multiplicative_only_for_positive_series(monkeypatch):
    tried = []

    def record(y, trend, damped, seasonal, steps):
        tried.append(seasonal)
        return np.ones(steps), 1.0

    monkeypatch.setattr(forecast, "_fit_ets", record)
    y = synthetic(36, seed=7)
    fit_baseline(y, 3)
    assert "mul" in tried
    tried.clear()
    y[5] = 0.0
    fit_baseline(y, 3)
    assert "mul" not in tried and "add" in tried


# --- the band -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "history, expected",
    [
        (np.arange(1.0, 15.0), 12.0),  # 1..14: every change over a year is 12
        (np.r_[np.zeros(12), np.zeros(12)], 0.0),  # never changed
        (np.tile([1.0, 5.0], 12), 4.0),  # the same every year: the monthly change, |5-1|
        (np.array([1.0, 3.0, 2.0]), 1.5),  # short: (|3-1| + |2-3|) / 2
        (np.array([7.0]), 0.0),  # one month: no change seen
    ],
)
def test_error_scale_by_hand(history, expected):
    assert error_scale(history) == pytest.approx(expected)


def test_pooled_quantiles_by_hand():
    errors = [np.array([[1.0, 2.0, 3.0]]), np.array([[3.0, 4.0, 5.0]])]
    q = pooled_quantiles(errors, 5, window=0)
    # horizon 0 pools {1, 3}: the 10th percentile 1 + 0.1 x 2 = 1.2, the 90th 2.8;
    # horizon 1 pools {2, 4}: 2.2, 3.8; horizon 2 pools {3, 5}: 3.2, 4.8
    assert np.allclose(q[:3], [[1.2, 2.8], [2.2, 3.8], [3.2, 4.8]])
    # beyond the last horizon with errors (index 2): x sqrt(4/3), then x sqrt(5/3)
    assert q[3].tolist() == pytest.approx([3.2 * (4 / 3) ** 0.5, 4.8 * (4 / 3) ** 0.5])
    assert q[4].tolist() == pytest.approx([3.2 * (5 / 3) ** 0.5, 4.8 * (5 / 3) ** 0.5])


def test_pooled_quantiles_window_and_gaps():
    # a one-step-only series (one row per origin, one column) and a nan (not observed)
    errors = [np.array([[0.0], [10.0]]), np.array([[np.nan, 20.0]])]
    q = pooled_quantiles(errors, 2, window=1)
    # horizon 0 pools columns 0..1: {0, 10, 20} -> 10th percentile 2, 90th 18
    assert q[0].tolist() == pytest.approx([2.0, 18.0])
    # horizon 1 pools columns 0..1 as well (the window reaches back one horizon)
    assert q[1].tolist() == pytest.approx([2.0, 18.0])
    assert pooled_quantiles([], 3).tolist() == [[0.0, 0.0]] * 3  # nothing to calibrate on


def test_band_by_hand():
    q = np.array([[-1.0, 1.5], [-2.0, 0.5], [0.5, 1.0]])
    low, high = band(np.array([10.0, 2.0, 4.0]), 2.0, q)
    # 10 - 2 = 8, 10 + 3 = 13; 2 - 4 clipped to 0, 2 + 1 = 3; 4 + 1 = 5 above the
    # forecast: p10 clipped down to the forecast 4, 4 + 2 = 6
    assert low.tolist() == [8.0, 0.0, 4.0]
    assert high.tolist() == [13.0, 3.0, 6.0]


def test_backtest_errors_by_history_length():
    long = fit_series(synthetic(60, seed=11), 18)
    assert long.errors.shape == (1, 18)  # the combination refitted on the first 42 months
    assert long.scale == pytest.approx(error_scale(synthetic(60, seed=11)))
    # 30 months: the combination refitted on 24, the last 6 held out
    assert fit_series(synthetic(30, seed=12), 18).errors.shape == (1, 6)
    # 28 months: 4 held out would be too few, so seasonal naive from month 12 on
    y = synthetic(28, seed=12)
    mid = fit_series(y, 18)
    expected = (y[12:] - forecast.seasonal_naive(y[:12], 16)) / error_scale(y)
    assert mid.errors.shape == (1, 16) and np.allclose(mid.errors[0], expected)
    # 3 months 2, 4, 6: one month ahead of the mean so far: 4 - 2 = 2, 6 - (2+4)/2 = 3,
    # divided by the scale (|4-2| + |6-4|) / 2 = 2
    short = fit_series(np.array([2.0, 4.0, 6.0]), 5)
    assert short.errors.tolist() == [[1.0], [1.5]]
    assert fit_series(np.zeros(20), 5).errors.size == 0  # nothing to calibrate


def test_the_band_covers_80_percent_of_a_known_distribution():
    # 40 skus, each 60 months of iid normal noise around a level: the future months follow
    # the same N(level, sd), so the band's true coverage is known exactly per sku-month.
    rng = np.random.default_rng(2024)
    levels = rng.uniform(50, 500, 40)
    sds = levels * rng.uniform(0.05, 0.25, 40)
    history = month_range("2020-01", 60)
    actuals = pd.DataFrame(
        [
            (m, f"S{i:02d}", u)
            for i in range(40)
            for m, u in zip(history, rng.normal(levels[i], sds[i], 60), strict=True)
        ],
        columns=["month", "sku", "units"],
    )
    skus = [f"S{i:02d}" for i in range(40)]
    frame = baseline_frame(actuals, skus, month_range("2025-01", 18), origin="2025-01", workers=1)
    i = frame["sku"].str[1:].astype(int).to_numpy()
    below = norm.cdf((frame["p10"] - levels[i]) / sds[i])
    above = norm.sf((frame["p90"] - levels[i]) / sds[i])
    coverage = float(np.mean(1 - below - above))
    assert 0.75 <= coverage <= 0.85, coverage
    assert 0.05 <= float(np.mean(below)) <= 0.15  # and neither tail is starved
    assert 0.05 <= float(np.mean(above)) <= 0.15


def test_the_band_is_never_negative_and_brackets_the_forecast():
    rows = []
    months = month_range("2020-01", 48)
    declining = np.clip(synthetic(48, level=200, slope=-5.0, amplitude=10, seed=13), 0, None)
    intermittent = np.where(np.random.default_rng(14).random(48) < 0.5, 0.0, 3.0)
    for sku, y in [("down", declining), ("lumpy", intermittent), ("short", np.ones(48))]:
        rows += [(m, sku, u) for m, u in zip(months, y, strict=True)]
    rows = [r for r in rows if not (r[1] == "short" and r[0] < "2023-07")]  # 6 months only
    frame = baseline_frame(
        pd.DataFrame(rows, columns=["month", "sku", "units"]),
        ["down", "lumpy", "short", "none"],
        month_range("2024-01", 18),
        origin="2024-01",
    )
    assert list(frame.columns) == BASELINE_COLUMNS
    assert (frame["p10"] >= 0).all() and frame[["p10", "p90"]].notna().all().all()
    assert (frame["p10"] <= frame["units"]).all() and (frame["units"] <= frame["p90"]).all()
    down = frame[frame["sku"] == "down"]
    assert down["p10"].min() == 0 and (down["p90"] > down["units"]).any()
    assert (frame[frame["sku"] == "none"][["units", "p10", "p90"]] == 0).all().all()


# --- baseline_frame ------------------------------------------------------------------

# sku A: 14 months 2023-01..2024-02 with 2023-04 and 2023-09 missing (= 0 units);
# sku B: 2023-05..2024-01 only (it had no sale in 2024-02, the last month of the data);
# sku C: no actuals. An actual at the origin (2024-03) is not history.
A_UNITS = {
    "2023-01": 10, "2023-02": 11, "2023-03": 12, "2023-05": 14, "2023-06": 15,
    "2023-07": 16, "2023-08": 17, "2023-10": 19, "2023-11": 20, "2023-12": 21,
    "2024-01": 22, "2024-02": 23, "2024-03": 9999,
}  # fmt: skip
B_UNITS = {m: 6.0 for m in month_range("2023-05", 9)}
GAPPY = pd.DataFrame(
    [(m, "A", u) for m, u in A_UNITS.items()] + [(m, "B", u) for m, u in B_UNITS.items()],
    columns=["month", "sku", "units"],
)


def test_baseline_frame_zero_fills_gaps_by_hand():
    frame = baseline_frame(
        GAPPY, ["A", "B", "C"], ["2024-03", "2024-04", "2024-05"], origin="2024-03"
    )
    assert list(frame.columns) == BASELINE_COLUMNS
    got = {(r.sku, r.month): (r.units, r.model) for r in frame.itertuples()}
    # A: 14 months (2023-01..2024-02) -> seasonal naive on the zero-filled history:
    #    2024-03 <- 2023-03 = 12, 2024-04 <- 2023-04 = 0 (missing), 2024-05 <- 2023-05 = 14
    assert [got[("A", m)] for m in ("2024-03", "2024-04", "2024-05")] == [
        (12.0, "seasonal naive"),
        (0.0, "seasonal naive"),
        (14.0, "seasonal naive"),
    ]
    # B: 2023-05..2024-02 = 10 months, the last 0 -> mean of (6 + 6 + 0) / 3 = 4
    assert [got[("B", m)][0] for m in ("2024-03", "2024-04", "2024-05")] == [4.0, 4.0, 4.0]
    assert got[("B", "2024-03")][1] == "mean of last 3 months"
    # C: no actuals
    assert [got[("C", m)] for m in ("2024-03", "2024-04", "2024-05")] == [(0.0, "no history")] * 3


def test_baseline_frame_reaches_months_after_a_gap():
    # Forecast only 2024-05 and 2024-06 (steps 3 and 4 after the data's last month 2024-02):
    # seasonal naive gives 2023-05 = 14 and 2023-06 = 15.
    frame = baseline_frame(GAPPY, ["A"], ["2024-05", "2024-06"], origin="2024-03")
    assert frame["units"].tolist() == [14.0, 15.0]
    assert frame["month"].tolist() == ["2024-05", "2024-06"]


def test_baseline_frame_refuses_months_before_the_origin():
    with pytest.raises(ValueError, match="before the origin"):
        baseline_frame(GAPPY, ["A"], ["2024-01"], origin="2024-03")


def test_baseline_frame_without_actuals():
    empty = pd.DataFrame(columns=["month", "sku", "units"])
    frame = baseline_frame(empty, ["A", "B"], ["2024-03", "2024-04"], origin="2024-03")
    assert frame["units"].tolist() == [0.0] * 4
    assert set(frame["model"]) == {"no history"}


def test_parallel_and_in_process_give_the_same_frame():
    # 45 skus (over the in-process threshold of 40): mostly short histories, so fast;
    # the last three long enough for exponential smoothing.
    rows = []
    for i in range(45):
        n = 40 if i >= 42 else 14 + i % 8
        y = np.round(np.clip(synthetic(n, seed=10 + i), 0, None))
        rows += [
            (m, f"S{i:02d}", u) for m, u in zip(month_range("2020-01", 60)[-n:], y, strict=True)
        ]
    actuals = pd.DataFrame(rows, columns=["month", "sku", "units"])
    skus = [f"S{i:02d}" for i in range(45)]
    months = month_range("2025-01", 6)
    one = baseline_frame(actuals, skus, months, origin="2025-01", workers=1)
    two = baseline_frame(actuals, skus, months, origin="2025-01", workers=2)
    pd.testing.assert_frame_equal(one, two)
    assert len(one) == 45 * 6
    assert one[one["sku"] == "S44"]["model"].iloc[0].startswith("ETS(")


# --- the store and the command line -----------------------------------------------------

PRODUCTS = pd.DataFrame(
    {
        "sku": ["P1", "P2", "P3"],
        "name": ["one", "two", "three"],
        "family": ["F", "F", "G"],
        "unit_price": [10.0, 20.0, 30.0],
        "unit_material_cost": [1.0, 2.0, 3.0],
        "unit_variable_cost": [1.0, 1.0, 1.0],
        "target_cover_days": [30.0, 30.0, 30.0],
    }
)
HISTORY = month_range("2022-01", 30)  # 2022-01 .. 2024-06: the plan starts 2024-07
# Past cycle 2024-05: its forecast months 2024-05..2024-08 and the horizon 2024-07..2025-12
PAST_MONTHS = month_range("2024-05", 20)


def _store(tmp_path) -> Store:
    actuals = pd.DataFrame(
        [
            (m, "P1", float(u))
            for m, u in zip(HISTORY, np.round(synthetic(30, seed=20)), strict=True)
        ]
        + [(m, "P2", 5.0) for m in HISTORY[-15:]],  # 15 months: seasonal naive; P3: none
        columns=["month", "sku", "units"],
    )
    forecasts = pd.DataFrame(
        [("2024-05", m, s, src, 50.0) for m in month_range("2024-05", 4) for s in ("P1", "P2")
         for src in ("sales", "consensus")]
        + [("2024-07", m, "P1", "sales", 60.0) for m in month_range("2024-07", 3)]
        + [("2024-05", "2024-04", "P1", "sales", 1.0)],  # before its cycle: not a baseline month
        columns=["cycle", "month", "sku", "source", "units"],
    )  # fmt: skip
    store = Store(tmp_path / "t.duckdb")
    store.replace_tables(
        {"products": PRODUCTS, "actuals": actuals, "forecasts": forecasts}, user="t", source="t"
    )
    return store


def test_run_forecast_stores_the_cycle_with_an_audit_row(tmp_path):
    with _store(tmp_path) as store:
        frame = run_forecast(store, progress=False, user="tester")
        assert list(frame.columns) == BASELINE_COLUMNS
        assert len(frame) == 3 * 18
        assert frame["month"].min() == "2024-07" and frame["month"].max() == "2025-12"
        assert (frame["units"] >= 0).all()
        stored = store.query("SELECT cycle, count(*) AS n FROM baseline GROUP BY cycle")
        assert stored.set_index("cycle")["n"].to_dict() == {"2024-07": 54}
        audit = store.audit_log()
        row = audit[(audit["action"] == "forecast") & (audit["entity"] == "baseline")].iloc[0]
        assert row["item_key"] == "2024-07" and row["user_name"] == "tester"
        assert row["new_value"] == "54 rows"
        stored_band = store.query("SELECT p10, p90, units FROM baseline WHERE sku = 'P1'")
        assert stored_band["p10"].notna().all()
        assert (stored_band["p10"] <= stored_band["units"]).all()
        assert (stored_band["units"] <= stored_band["p90"]).all()
        models = frame.drop_duplicates("sku").set_index("sku")["model"].to_dict()
        assert models["P1"].endswith(" + Theta") and models["P2"] == "seasonal naive"
        assert models["P3"] == "no history"
        # P2 sold 5 every month of its 15: seasonal naive repeats 5
        assert frame[frame["sku"] == "P2"]["units"].tolist() == [5.0] * 18

        # Again: the cycle's rows are replaced, not added to.
        run_forecast(store, progress=False)
        assert store.scalar("SELECT count(*) FROM baseline") == 54


def test_run_forecast_with_history_stores_past_cycles(tmp_path):
    with _store(tmp_path) as store:
        run_forecast(store, progress=False, history=True)
        past = baseline_history(store, "2024-07")
        assert set(past["cycle"]) == {"2024-05"}
        # the months cycle 2024-05's forecasts cover from the cycle on, and the horizon
        assert sorted(past["month"].unique()) == PAST_MONTHS
        assert sorted(past["sku"].unique()) == ["P1", "P2", "P3"]
        # as of 2024-05: P2 had 13 months of 5 -> seasonal naive 5
        assert past[past["sku"] == "P2"]["units"].tolist() == [5.0] * 20
        audit = store.audit_log()
        keys = audit[audit["action"] == "forecast"]["item_key"].tolist()
        assert sorted(keys) == ["2024-05", "2024-07"]


def test_ensure_baseline_uses_the_stored_one_or_computes_it(tmp_path):
    with _store(tmp_path) as store:
        first = ensure_baseline(store, "2024-07")  # computed
        assert list(first.columns) == ["sku", "month", "units"] and len(first) == 54
        with store.transaction() as cur:
            cur.execute("UPDATE baseline SET units = 123 WHERE sku = 'P1'")
        again = ensure_baseline(store, "2024-07")  # stored, complete: not recomputed
        assert (again[again["sku"] == "P1"]["units"] == 123).all()
        with store.transaction() as cur:
            cur.execute("DELETE FROM baseline WHERE sku = 'P3'")
        fixed = ensure_baseline(store, "2024-07")  # a product is missing: recomputed
        assert sorted(fixed["sku"].unique()) == ["P1", "P2", "P3"]
        assert not (fixed[fixed["sku"] == "P1"]["units"] == 123).all()
        past = ensure_baseline(store, "2024-05")  # a past cycle: its as-of-then baseline
        assert sorted(past["month"].unique()) == PAST_MONTHS


def test_ensure_baseline_with_the_band(tmp_path):
    with _store(tmp_path) as store:
        first = ensure_baseline(store, "2024-07", with_band=True)
        assert list(first.columns) == ["sku", "month", "units", "p10", "p90"]
        assert len(first) == 54 and first[["p10", "p90"]].notna().all().all()
        # a baseline stored before the band existed (p10, p90 empty) is recomputed
        with store.transaction() as cur:
            cur.execute("UPDATE baseline SET p10 = NULL, p90 = NULL, units = 123")
        assert (ensure_baseline(store, "2024-07")["units"] == 123).all()  # units alone: kept
        # the plan's path takes the band as stored: none here, and nothing is refitted
        as_stored = ensure_baseline(store, "2024-07", with_band=True, require_band=False)
        assert (as_stored["units"] == 123).all() and as_stored["p10"].isna().all()
        again = ensure_baseline(store, "2024-07", with_band=True)
        assert again[["p10", "p90"]].notna().all().all()
        assert not (again["units"] == 123).all()


def test_a_past_cycle_gets_its_as_of_then_baseline(tmp_path):
    with _store(tmp_path) as store:
        frame = run_forecast(store, "2024-05", progress=False)
        # fitted on actuals before 2024-05 (P2 had 13 months of 5: seasonal naive), over the
        # months its forecasts cover and the horizon's
        assert sorted(frame["month"].unique()) == PAST_MONTHS
        assert frame[frame["sku"] == "P2"]["units"].tolist() == [5.0] * 20
        assert store.scalar("SELECT count(DISTINCT cycle) FROM baseline") == 1


def test_baseline_history_computes_what_is_missing(tmp_path):
    with _store(tmp_path) as store:
        assert store.scalar("SELECT count(*) FROM baseline") == 0
        past = baseline_history(store, "2024-07")  # computed and stored
        assert len(past) == 3 * 20 and set(past["cycle"]) == {"2024-05"}
        with store.transaction() as cur:
            cur.execute("DELETE FROM baseline WHERE sku = 'P2'")
        assert len(baseline_history(store, "2024-07", compute_missing=False)) == 2 * 20
        again = baseline_history(store, "2024-07")
        pd.testing.assert_frame_equal(again, past)


def test_cli_forecast_writes_sku_month_units_and_the_band(tmp_path):
    _store(tmp_path).close()
    out = tmp_path / "f.csv"
    proc = subprocess.run(
        [sys.executable, "-m", "sop_core", "forecast", "--db", str(tmp_path / "t.duckdb"),
         "--out", str(out), "--no-progress"],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    written = pd.read_csv(out, dtype={"month": str})
    assert list(written.columns) == ["sku", "month", "units", "p10", "p90"]
    assert len(written) == 54 and written["month"].iloc[0] == "2024-07"
    assert (written["p10"] >= 0).all()
    assert (written["p10"] <= written["units"]).all() and (written["units"] <= written["p90"]).all()
    p1 = written[written["sku"] == "P1"]
    assert (p1["p90"] > p1["p10"]).all()  # a noisy history gets a band of some width


def test_opening_the_next_cycle_carries_the_band(tmp_path):
    from sop_core.meeting.cycles import open_next_cycle

    with _store(tmp_path) as store:
        run_forecast(store, progress=False)  # the current cycle 2024-07, with its band
        open_next_cycle(store, user="tester")
        copied = store.query(
            "SELECT units, p10, p90 FROM baseline WHERE cycle = '2024-08' ORDER BY sku, month"
        )
        original = store.query(
            "SELECT units, p10, p90 FROM baseline WHERE cycle = '2024-07' AND month >= '2024-08'"
            " ORDER BY sku, month"
        )
        assert len(copied) == 3 * 17 and copied[["p10", "p90"]].notna().all().all()
        pd.testing.assert_frame_equal(copied, original)


def test_the_plan_takes_a_complete_stored_baseline_without_checking_the_forecasts(
    tmp_path, monkeypatch
):
    from sop_core.plan import service
    from sop_core.store.plandata import load_plan_data

    with _store(tmp_path) as store:
        ensure_baseline(store, "2024-07", with_band=True)  # stored for every sku and month
        data = load_plan_data(store, "2024-07")

        def coverage(_data):  # the forecasts' coverage is not worked out
            raise AssertionError("the forecasts' coverage was checked")

        monkeypatch.setattr(service, "_needs_baseline", coverage)
        assert service.with_baseline(store, data) is data  # the data as read
        # a sku missing from the stored baseline: the coverage decides again
        with store.transaction() as cur:
            cur.execute("DELETE FROM baseline WHERE sku = 'P3'")
        data = load_plan_data(store, "2024-07")
        with pytest.raises(AssertionError, match="coverage was checked"):
            service.with_baseline(store, data)


def test_cli_forecast_of_the_current_cycle_leaves_its_plan_prepared_beside_the_store(
    tmp_path, monkeypatch
):
    from sop_core.meeting import kept, record

    _store(tmp_path).close()
    proc = subprocess.run(
        [sys.executable, "-m", "sop_core", "forecast", "--db", str(tmp_path / "t.duckdb"),
         "--no-progress"],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "the plan prepared on it is kept beside the store" in proc.stdout

    def not_again(*args, **kwargs):
        raise AssertionError("prepared again although the forecast kept it")

    monkeypatch.setattr(record, "prepared", not_again)
    with Store(tmp_path / "t.duckdb") as store:
        assert kept.is_kept(store, record.current_cycle(store))
        model = record.model_of_record(store)
    assert model.baseline.shape == (18, 3) and not np.isnan(model.baseline).all()
