"""Track record: hand-computed bias, WMAPE, lags, verdicts and forecast value added."""

import math

import pandas as pd
import pytest

from sop_core.forecasting import trackrecord
from sop_core.forecasting.trackrecord import (
    BIAS_COLUMNS,
    FVA_COLUMNS,
    SPREAD_COLUMNS,
    TRACK_COLUMNS,
    forecast_value_added,
    scored_points,
    source_bias,
    source_spread,
    track_record,
)

PRODUCTS = pd.DataFrame({"sku": ["A", "B"], "name": ["a", "b"], "family": ["F1", "F2"]})

# Actuals, units:      2024-01  2024-02  2024-03
#   A (family F1)        100      100      100
#   B (family F2)         50       60       40
ACTUALS = pd.DataFrame(
    {
        "month": ["2024-01", "2024-02", "2024-03"] * 2,
        "sku": ["A"] * 3 + ["B"] * 3,
        "units": [100, 100, 100, 50, 60, 40],
    }
)


def _fc(rows):
    return pd.DataFrame(rows, columns=["cycle", "month", "sku", "source", "units"])


# Two past cycles (2024-01, 2024-02); the current cycle is 2024-04.
FORECASTS = _fc(
    [
        # sales, cycle 2024-01: lags 1, 2, 3
        ("2024-01", "2024-01", "A", "sales", 110),
        ("2024-01", "2024-02", "A", "sales", 120),
        ("2024-01", "2024-03", "A", "sales", 90),
        ("2024-01", "2024-01", "B", "sales", 50),
        ("2024-01", "2024-02", "B", "sales", 54),
        ("2024-01", "2024-03", "B", "sales", 50),
        # sales, cycle 2024-02: lags 1, 2, and lag 3 (2024-04) has no actual yet
        ("2024-02", "2024-02", "A", "sales", 105),
        ("2024-02", "2024-03", "A", "sales", 95),
        ("2024-02", "2024-04", "A", "sales", 100),
        ("2024-02", "2024-02", "B", "sales", 66),
        ("2024-02", "2024-03", "B", "sales", 40),
        # marketing: low every time (sandbagging), lag 1 only
        ("2024-01", "2024-01", "A", "marketing", 80),
        ("2024-01", "2024-01", "B", "marketing", 40),
        ("2024-02", "2024-02", "A", "marketing", 90),
        ("2024-02", "2024-02", "B", "marketing", 45),
        # the current cycle is not track record
        ("2024-04", "2024-03", "A", "sales", 9999),
        ("2024-04", "2024-04", "A", "sales", 9999),
    ]
)

# Statistical baseline of the past cycles: A always 90, B always 55.
BASELINE_HISTORY = pd.DataFrame(
    [
        (c, s, m, u)
        for c, months in (
            ("2024-01", ["2024-01", "2024-02", "2024-03"]),
            ("2024-02", ["2024-02", "2024-03", "2024-04"]),
        )
        for m in months
        for s, u in (("A", 90), ("B", 55))
    ],
    columns=["cycle", "sku", "month", "units"],
)


def _row(frame, **keys):
    mask = pd.Series(True, index=frame.index)
    for k, v in keys.items():
        mask &= frame[k] == v
    rows = frame[mask]
    assert len(rows) == 1, (keys, rows)
    return rows.iloc[0]


@pytest.fixture(scope="module")
def track():
    return track_record(
        ACTUALS,
        FORECASTS,
        PRODUCTS,
        current_cycle="2024-04",
        baseline_history=BASELINE_HISTORY,
    )


def test_columns_and_full_grid(track):
    assert list(track.columns) == TRACK_COLUMNS
    # 4 sources x 3 families (All, F1, F2) x 3 lags
    assert len(track) == 4 * 3 * 3
    assert track["source"].unique().tolist() == ["statistical", "sales", "marketing", "consensus"]
    assert track["family"].unique().tolist() == ["All", "F1", "F2"]


# Sales, hand-computed (error = forecast - actual per sku-month):
#  lag 1: A c01 m01 110-100=+10, A c02 m02 105-100=+5, B c01 m01 50-50=0, B c02 m02 66-60=+6
#    F1: actual 200, forecast 215, error 15, |error| 15 -> bias 7.5 %, WMAPE 7.5 %
#    F2: actual 110, forecast 116, error 6, |error| 6 -> bias = WMAPE = 6/110 = 5.454545... %
#    All: actual 310, forecast 331, error 21, |error| 21 -> 21/310 = 6.774193548... %
#  lag 2: A c01 m02 +20, A c02 m03 -5, B c01 m02 54-60=-6, B c02 m03 40-40=0
#    F1: actual 200, error 15, |error| 25 -> bias 7.5 %, WMAPE 12.5 %
#    F2: actual 100, error -6, |error| 6 -> bias -6 %, WMAPE 6 %
#    All: actual 300, error 9, |error| 31 -> bias 3 %, WMAPE 10.333... %
#  lag 3: A c01 m03 90-100=-10, B c01 m03 50-40=+10 (A c02 m04 has no actual: not counted)
#    F1: n 1, bias -10 %, WMAPE 10 %;  F2: n 1, bias 25 %, WMAPE 25 %
#    All: actual 140, error 0, |error| 20 -> bias 0 %, WMAPE 14.285714... % (errors
#    offset in the sum, not in the absolute values: |error| is taken per sku-month)
@pytest.mark.parametrize(
    "family, lag, n, actual, forecast, error, bias, wmape",
    [
        ("F1", 1, 2, 200, 215, 15, 7.5, 7.5),
        ("F2", 1, 2, 110, 116, 6, 5.454545454545, 5.454545454545),
        ("All", 1, 4, 310, 331, 21, 6.774193548387, 6.774193548387),
        ("F1", 2, 2, 200, 215, 15, 7.5, 12.5),
        ("F2", 2, 2, 100, 94, -6, -6.0, 6.0),
        ("All", 2, 4, 300, 309, 9, 3.0, 10.333333333333),
        ("F1", 3, 1, 100, 90, -10, -10.0, 10.0),
        ("F2", 3, 1, 40, 50, 10, 25.0, 25.0),
        ("All", 3, 2, 140, 140, 0, 0.0, 14.285714285714),
    ],
)
def test_sales_bias_and_wmape_by_hand(track, family, lag, n, actual, forecast, error, bias, wmape):
    row = _row(track, source="sales", family=family, lag=lag)
    assert row["n_points"] == n
    assert row["actual_units"] == actual
    assert row["forecast_units"] == forecast
    assert row["error_units"] == error
    assert row["bias_pct"] == pytest.approx(bias, abs=1e-9)
    assert row["wmape_pct"] == pytest.approx(wmape, abs=1e-9)


def test_marketing_negative_bias_by_hand(track):
    # lag 1: A 80-100=-20, 90-100=-10; B 40-50=-10, 45-60=-15
    # All: actual 310, error -55 -> bias -17.741935... %, WMAPE 17.741935... %
    row = _row(track, source="marketing", family="All", lag=1)
    assert row["n_points"] == 4
    assert row["error_units"] == -55
    assert row["bias_pct"] == pytest.approx(-17.741935483871, abs=1e-9)
    assert row["wmape_pct"] == pytest.approx(17.741935483871, abs=1e-9)
    # No marketing forecast beyond lag 1.
    assert _row(track, source="marketing", family="All", lag=2)["n_points"] == 0


def test_source_without_forecasts_has_empty_rows(track):
    rows = track[track["source"] == "consensus"]
    assert (rows["n_points"] == 0).all()
    assert rows["bias_pct"].isna().all() and rows["wmape_pct"].isna().all()


def test_source_bias_pooled_over_lags_by_hand(track):
    bias = source_bias(track, tolerance_pct=5)
    assert list(bias.columns) == BIAS_COLUMNS
    # sales pooled over lags 1-3:
    #   All: n 4+4+2=10, actual 310+300+140=750, error 21+9+0=30, |error| 21+31+20=72
    #        -> bias 30/750 = 4 %, WMAPE 72/750 = 9.6 %
    #   F1:  actual 500, error 15+15-10=20, |error| 15+25+10=50 -> bias 4 %, WMAPE 10 %
    #   F2:  actual 250, error 6-6+10=10, |error| 6+6+10=22 -> bias 4 %, WMAPE 8.8 %
    expected = {"All": (10, 4.0, 9.6), "F1": (5, 4.0, 10.0), "F2": (5, 4.0, 8.8)}
    for family, (n, b, w) in expected.items():
        row = _row(bias, source="sales", family=family)
        assert row["n_points"] == n
        assert row["bias_pct"] == pytest.approx(b, abs=1e-9)
        assert row["wmape_pct"] == pytest.approx(w, abs=1e-9)
        assert row["verdict"] == "unbiased"
    assert _row(bias, source="marketing", family="All")["verdict"] == "sandbagging"
    assert _row(bias, source="consensus", family="All")["verdict"] == "no history"
    assert _row(bias, source="consensus", family="F1")["n_points"] == 0


@pytest.mark.parametrize(
    "tolerance, verdict",
    [(3.9, "inflating"), (4.0, "unbiased"), (4.1, "unbiased")],
)
def test_sales_verdict_depends_on_tolerance(track, tolerance, verdict):
    # sales' pooled bias is exactly 4 % (above): a bias at the tolerance is unbiased.
    assert _row(source_bias(track, tolerance), source="sales", family="All")["verdict"] == verdict


def _single_point(forecast_units, actual_units=100.0, cycle="2024-01", month="2024-01"):
    return track_record(
        pd.DataFrame({"month": [month], "sku": ["A"], "units": [actual_units]}),
        _fc([(cycle, month, "A", "sales", forecast_units)]),
        PRODUCTS,
        current_cycle="2024-06",
    )


@pytest.mark.parametrize(
    "forecast, verdict",
    [
        (105.0, "unbiased"),  # bias +5 % = tolerance
        (105.01, "inflating"),  # +5.01 %
        (95.0, "unbiased"),  # -5 % = -tolerance
        (94.99, "sandbagging"),  # -5.01 %
        (100.0, "unbiased"),
        (50.0, "sandbagging"),  # -50 %
        (300.0, "inflating"),  # +200 %
    ],
)
def test_verdict_at_the_tolerance_boundary(forecast, verdict):
    bias = source_bias(_single_point(forecast), tolerance_pct=5.0)
    assert _row(bias, source="sales", family="F1")["verdict"] == verdict
    assert _row(bias, source="sales", family="All")["verdict"] == verdict


def test_zero_actuals_give_no_verdict():
    track = _single_point(10.0, actual_units=0.0)
    row = _row(track, source="sales", family="All", lag=1)
    assert row["n_points"] == 1 and math.isnan(row["bias_pct"])
    assert _row(source_bias(track, 5), source="sales", family="All")["verdict"] == "no history"


@pytest.mark.parametrize(
    "cycle, month, lag",
    [
        ("2024-01", "2024-01", 1),  # the cycle's own month
        ("2024-01", "2024-02", 2),
        ("2024-01", "2024-03", 3),
        ("2023-12", "2024-01", 2),  # across a year end
        ("2023-11", "2024-01", 3),
        ("2024-01", "2024-04", None),  # beyond max_lag 3
        ("2024-02", "2024-01", None),  # before the cycle
    ],
)
def test_lag_assignment(cycle, month, lag):
    track = _single_point(100.0, cycle=cycle, month=month)
    scored = track[
        (track["source"] == "sales") & (track["family"] == "All") & (track["n_points"] > 0)
    ]
    assert scored["lag"].tolist() == ([] if lag is None else [lag])


def test_max_lag_widens_the_window():
    track = track_record(
        pd.DataFrame({"month": ["2024-06"], "sku": ["A"], "units": [10]}),
        _fc([("2024-01", "2024-06", "A", "sales", 12)]),
        PRODUCTS,
        current_cycle="2024-07",
        max_lag=6,
    )
    row = _row(track, source="sales", family="All", lag=6)
    assert row["n_points"] == 1 and row["bias_pct"] == pytest.approx(20.0)


def test_only_cycles_before_the_current_one_count():
    track = track_record(ACTUALS, FORECASTS, PRODUCTS, current_cycle="2024-02")
    # only cycle 2024-01 remains: sales lag 1 = A 110 vs 100, B 50 vs 50
    row = _row(track, source="sales", family="All", lag=1)
    assert (row["n_points"], row["forecast_units"], row["actual_units"]) == (2, 160, 150)


def test_duplicate_forecast_rows_are_summed_before_the_error():
    # two rows of 60 for the same cycle/sku-month = a forecast of 120 against 100: |error| 20.
    # (Scoring each row alone would give |60-100| + |60-100| = 80.)
    track = track_record(
        pd.DataFrame({"month": ["2024-01"], "sku": ["A"], "units": [100]}),
        _fc([("2024-01", "2024-01", "A", "sales", 60), ("2024-01", "2024-01", "A", "sales", 60)]),
        PRODUCTS,
        current_cycle="2024-02",
    )
    row = _row(track, source="sales", family="All", lag=1)
    assert row["n_points"] == 1 and row["wmape_pct"] == pytest.approx(20.0)


def test_inputs_are_not_mutated():
    before = [f.copy() for f in (ACTUALS, FORECASTS, PRODUCTS, BASELINE_HISTORY)]
    t = track_record(
        ACTUALS, FORECASTS, PRODUCTS, current_cycle="2024-04", baseline_history=BASELINE_HISTORY
    )
    t_before = t.copy()
    source_bias(t, 5)
    forecast_value_added(t)
    for b, a in zip(before, (ACTUALS, FORECASTS, PRODUCTS, BASELINE_HISTORY), strict=True):
        pd.testing.assert_frame_equal(a, b)
    pd.testing.assert_frame_equal(t, t_before)


def test_empty_inputs():
    empty_fc = _fc([])
    track = track_record(
        pd.DataFrame(columns=["month", "sku", "units"]), empty_fc, PRODUCTS, current_cycle="2024-01"
    )
    assert (track["n_points"] == 0).all()
    assert set(source_bias(track, 5)["verdict"]) == {"no history"}
    assert forecast_value_added(track).empty
    assert list(forecast_value_added(track).columns) == FVA_COLUMNS


# Statistical (A always 90, B always 55), lag 1:
#   F1: A c01 m01 90-100=-10, A c02 m02 -10 -> WMAPE 20/200 = 10 %
#   F2: B c01 m01 55-50=+5, B c02 m02 55-60=-5 -> WMAPE 10/110 = 9.090909... %
#   All: |error| 30 / 310 = 9.677419... %
# FVA = baseline WMAPE - source WMAPE:
#   sales F1 lag 1: 10 - 7.5 = +2.5 (sales beat the baseline)
#   sales F2 lag 1: 9.090909 - 5.454545 = +3.636364
#   marketing F1 lag 1: A -20, -10 -> WMAPE 30/200 = 15 %; FVA 10 - 15 = -5
#   marketing All lag 1: 9.677419 - 17.741935 = -8.064516
@pytest.mark.parametrize(
    "source, family, lag, wmape, baseline, fva",
    [
        ("sales", "F1", 1, 7.5, 10.0, 2.5),
        ("sales", "F2", 1, 5.454545454545, 9.090909090909, 3.636363636364),
        ("marketing", "F1", 1, 15.0, 10.0, -5.0),
        ("marketing", "All", 1, 17.741935483871, 9.677419354839, -8.064516129032),
    ],
)
def test_forecast_value_added_by_hand(track, source, family, lag, wmape, baseline, fva):
    table = forecast_value_added(track)
    assert list(table.columns) == FVA_COLUMNS
    row = _row(table, source=source, family=family, lag=lag)
    assert row["wmape_pct"] == pytest.approx(wmape, abs=1e-9)
    assert row["baseline_wmape_pct"] == pytest.approx(baseline, abs=1e-9)
    assert row["fva_pct_points"] == pytest.approx(fva, abs=1e-9)


def test_fva_only_where_both_are_scored(track):
    table = forecast_value_added(track)
    assert "statistical" not in set(table["source"])
    assert "consensus" not in set(table["source"])  # never forecast
    assert table[table["source"] == "marketing"]["lag"].unique().tolist() == [1]
    # sales has lags 1-3 for every family, and so does the baseline
    assert len(table[table["source"] == "sales"]) == 9


def test_fva_needs_the_baseline():
    track = track_record(ACTUALS, FORECASTS, PRODUCTS, current_cycle="2024-04")
    assert "statistical" not in set(track["source"])
    assert forecast_value_added(track).empty


# --- the spread (source_spread) ----------------------------------------------------------------
# Two sales points in F1, lag 1: forecast 100, actual 110 (ln 1.1 = 0.0953102, weight 110) and
# forecast 200, actual 180 (ln 0.9 = −0.1053605, weight 180).
#   mean = (110 × 0.0953102 + 180 × −0.1053605) / 290 = −8.4808 / 290 = −0.0292440
#   sd   = √((110 × 0.0953102² + 180 × 0.1053605²) / 290 − 0.0292440²) = √0.0094806 = 0.0973685
SPREAD_FORECASTS = _fc(
    [
        ("2024-01", "2024-01", "A", "sales", 100),
        ("2024-01", "2024-01", "C", "sales", 200),
        ("2024-01", "2024-01", "B", "sales", 0),  # no ratio: not scored for the spread
    ]
)
SPREAD_ACTUALS = pd.DataFrame(
    {"month": ["2024-01"] * 3, "sku": ["A", "C", "B"], "units": [110, 180, 50]}
)
SPREAD_PRODUCTS = pd.DataFrame({"sku": ["A", "B", "C"], "family": ["F1", "F2", "F1"]})


def test_source_spread_by_hand(monkeypatch):
    monkeypatch.setattr(trackrecord, "MIN_SPREAD_POINTS", 2)
    points = scored_points(SPREAD_ACTUALS, SPREAD_FORECASTS, current_cycle="2024-04")
    spread = source_spread(points, SPREAD_PRODUCTS)
    assert list(spread.columns) == SPREAD_COLUMNS
    f1 = _row(spread, source="sales", family="F1")
    assert f1["n_points"] == 2
    assert f1["log_ratio_mean"] == pytest.approx(-0.0292440, abs=1e-7)
    assert f1["log_ratio_sd"] == pytest.approx(0.0973685, abs=1e-7)
    assert set(spread["family"]) == {"All", "F1"}  # B's zero forecast has no ratio


def test_a_family_with_few_points_takes_the_sources_spread_over_all_families(monkeypatch):
    monkeypatch.setattr(trackrecord, "MIN_SPREAD_POINTS", 3)
    points = scored_points(SPREAD_ACTUALS, SPREAD_FORECASTS, current_cycle="2024-04")
    spread = source_spread(points, SPREAD_PRODUCTS)
    f1, pooled = (
        _row(spread, source="sales", family="F1"),
        _row(spread, source="sales", family="All"),
    )
    assert f1["n_points"] == 2  # its own count, the pooled figures
    assert f1["log_ratio_sd"] == pooled["log_ratio_sd"]


def test_track_record_of_given_points_is_the_same(track):
    points = scored_points(
        ACTUALS, FORECASTS, current_cycle="2024-04", baseline_history=BASELINE_HISTORY
    )
    again = track_record(
        ACTUALS,
        FORECASTS.iloc[0:0],  # ignored: the points are given
        PRODUCTS,
        current_cycle="2024-04",
        baseline_history=BASELINE_HISTORY,
        points=points,
    )
    pd.testing.assert_frame_equal(again, track)


def test_a_past_baseline_beyond_the_scored_lags_scores_the_same():
    """A stored past baseline covers its whole horizon; only lags 1 to 3 are scored, so the rows
    outside them (dropped before the sums) change nothing, and the lag 1 and 3 rows stay."""
    wider = pd.concat(
        [
            BASELINE_HISTORY,
            pd.DataFrame(
                [
                    ("2024-01", "A", "2023-12", 9_999),  # lag 0: before its cycle
                    ("2024-01", "A", "2024-04", 9_999),  # lag 4
                    ("2024-02", "B", "2024-06", 9_999),  # lag 5
                ],
                columns=["cycle", "sku", "month", "units"],
            ),
        ],
        ignore_index=True,
    )
    narrow = scored_points(
        ACTUALS, FORECASTS, current_cycle="2024-04", baseline_history=BASELINE_HISTORY
    )
    wide = scored_points(ACTUALS, FORECASTS, current_cycle="2024-04", baseline_history=wider)
    pd.testing.assert_frame_equal(wide, narrow)
    stat = wide[wide["source"] == "statistical"]
    assert sorted(stat["lag"].unique()) == [1, 2, 3]
    assert 9_999 not in set(stat["forecast"])


def test_the_imported_sources_points_are_scored_once_while_their_frames_live(monkeypatch):
    # the plan scores them for its bias verdicts; the Demand review adds the baseline's
    monkeypatch.setattr(trackrecord, "MEMO_ROWS", 1)
    actuals, forecasts = ACTUALS.copy(), FORECASTS.copy()
    scorings = []
    real = trackrecord._points

    def counted(parts, *args):
        scorings.append(sorted(set().union(*(set(p["source"]) for p in parts if len(p)))))
        return real(parts, *args)

    monkeypatch.setattr(trackrecord, "_points", counted)
    first = scored_points(actuals, forecasts, current_cycle="2024-04")
    with_baseline = track_record(
        actuals, forecasts, PRODUCTS, current_cycle="2024-04", baseline_history=BASELINE_HISTORY
    )
    # the imported sources once, then the statistical baseline alone
    imported = sorted(set(FORECASTS.loc[FORECASTS["cycle"] < "2024-04", "source"]))
    assert imported == ["marketing", "sales"]
    assert scorings == [imported, ["statistical"]]
    first["forecast"] = -1.0  # a caller's change reaches no later caller
    again = scored_points(actuals, forecasts, current_cycle="2024-04")
    assert (again["forecast"] >= 0).all() and len(scorings) == 2
    # the same figures as the hand-computed fixture (fresh frames, nothing kept)
    expected = track_record(
        ACTUALS.copy(),
        FORECASTS.copy(),
        PRODUCTS,
        current_cycle="2024-04",
        baseline_history=BASELINE_HISTORY,
    )
    pd.testing.assert_frame_equal(with_baseline, expected)


def test_a_source_sorting_after_the_baseline_is_scored_with_it_in_order():
    forecasts = FORECASTS.assign(
        source=FORECASTS["source"].replace({"marketing": "zeta", "sales": "statistical"})
    )
    points = scored_points(
        ACTUALS, forecasts, current_cycle="2024-04", baseline_history=BASELINE_HISTORY
    )
    keys = list(zip(points["source"], points["cycle"], points["sku"], points["month"], strict=True))
    assert keys == sorted(keys) and len(set(keys)) == len(keys)  # one row per key, in key order
    assert "zeta" in set(points["source"])


def test_a_points_family_is_its_skus_last_products_row_or_not_in_products():
    products = pd.DataFrame({"sku": ["A", "B", "A"], "family": ["F1", "F2", "F3"]})
    actuals = pd.DataFrame({"month": ["2024-01"] * 3, "sku": ["A", "B", "Z"], "units": [10.0] * 3})
    forecasts = _fc([("2024-01", "2024-01", s, "sales", 12.0) for s in ("A", "B", "Z")])
    track = track_record(actuals, forecasts, products, current_cycle="2024-02")
    one = track[(track["source"] == "sales") & (track["lag"] == 1) & (track["n_points"] > 0)]
    by_family = dict(zip(one["family"], one["n_points"], strict=True))
    # A's last row says F3; Z is in no products row; All pools the three
    assert by_family == {"All": 3, "F2": 1, "F3": 1, trackrecord.NO_FAMILY: 1}
    spread = source_spread(
        scored_points(actuals, forecasts, current_cycle="2024-02"), products
    ).set_index(["source", "family"])
    assert spread.loc[("sales", "F3"), "n_points"] == 1
    assert spread.loc[("sales", trackrecord.NO_FAMILY), "n_points"] == 1
