"""Forecast track record: bias, WMAPE and value added of each source, by family and lag.

Definitions (PRODUCT.md "Forecast track record", docs/FORECASTING.md):

- A forecast made in cycle ``c`` for month ``m`` has **lag** ``month_diff(m, c) + 1``: the
  cycle's own month is lag 1, because the S&OP cycle meets before that month's actuals are
  known; the month after is lag 2, and so on. Months before the cycle (lag < 1) and beyond
  ``max_lag`` are not scored.
- Only sku-months where both the forecast and the actual exist count. Forecast rows of the
  same cycle, source, sku and month are summed first; the error is taken per sku-month:
  ``error = forecast - actual``.
- Per source, family and lag: ``bias % = sum(error) / sum(actual) * 100`` and
  ``WMAPE % = sum(|error|) / sum(actual) * 100``; the absolute value is taken per sku-month,
  before summing to the family. Family ``"All"`` pools every family. When ``sum(actual)`` is 0
  both percentages are NaN (undefined).
- Positive bias = inflation, negative = sandbagging.

**Spread** (``source_spread``, the demand ranges' uncertainty of a source-driven month): per
source and family, pooled over lags 1–3, the mean and standard deviation of
``ln(actual / forecast)`` over the scored sku-months where both are above 0, each weighted by
its actual units. A family with fewer than ``MIN_SPREAD_POINTS`` such points takes the source's
pooled (``"All"``) figures.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sop_core.codes import MEMO_ROWS, Kept, positions, take_rows
from sop_core.contract import FORECAST_SOURCES
from sop_core.months import month_diff

__all__ = [
    "ALL_FAMILIES",
    "STATISTICAL",
    "TRACK_COLUMNS",
    "BIAS_COLUMNS",
    "FVA_COLUMNS",
    "SPREAD_COLUMNS",
    "MIN_SPREAD_POINTS",
    "scored_points",
    "track_record",
    "pool_lags",
    "source_spread",
    "source_bias",
    "forecast_value_added",
]

ALL_FAMILIES = "All"
# lags 1 to 3 are scored unless asked otherwise (``max_lag``)
SCORED_LAGS = 3
STATISTICAL = "statistical"
NO_FAMILY = "(not in products)"
SOURCE_ORDER = (STATISTICAL, *FORECAST_SOURCES)

TRACK_COLUMNS = [
    "source",
    "family",
    "lag",
    "n_points",
    "actual_units",
    "forecast_units",
    "error_units",
    "abs_error_units",
    "bias_pct",
    "wmape_pct",
]
BIAS_COLUMNS = ["source", "family", "n_points", "bias_pct", "wmape_pct", "verdict"]
FVA_COLUMNS = ["source", "family", "lag", "wmape_pct", "baseline_wmape_pct", "fva_pct_points"]
SPREAD_COLUMNS = ["source", "family", "n_points", "log_ratio_mean", "log_ratio_sd"]
# fewer scored points than this in a family: its spread is the source's over all families
MIN_SPREAD_POINTS = 12

# A bias exactly at the tolerance is "unbiased"; this guards the comparison against float noise.
_EPS = 1e-9
_SUMS = ["n_points", "actual_units", "forecast_units", "error_units", "abs_error_units"]


def _pct(numerator: pd.Series, actual: pd.Series) -> pd.Series:
    """``numerator / actual * 100``, NaN where the actual is 0."""
    actual = actual.astype(float)
    out = numerator.astype(float) / actual.where(actual != 0) * 100.0
    return out.astype(float)


def _with_percentages(frame: pd.DataFrame) -> pd.DataFrame:
    frame = frame.copy()
    frame["bias_pct"] = _pct(frame["error_units"], frame["actual_units"])
    frame["wmape_pct"] = _pct(frame["abs_error_units"], frame["actual_units"])
    return frame


def _source_rank(source: str) -> int:
    return SOURCE_ORDER.index(source) if source in SOURCE_ORDER else len(SOURCE_ORDER)


def _sorted(frame: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """Sources in a fixed order, family "All" first then alphabetical, then the other keys."""
    frame = frame.assign(
        _s=frame["source"].map(_source_rank),
        _f=(frame["family"] != ALL_FAMILIES).astype(int),
    )
    frame = frame.sort_values(["_s", "_f", "family", *keys], kind="stable")
    return frame.drop(columns=["_s", "_f"]).reset_index(drop=True)


def _lags(frame: pd.DataFrame) -> np.ndarray:
    """Each row's lag, ``month_diff(month, cycle) + 1``, worked out once per distinct cycle and
    month (millions of rows hold a few dozen of each); 0 (scored nowhere) where either is
    missing."""
    ci, cycles = pd.factorize(frame["cycle"].astype(str))
    mi, months = pd.factorize(frame["month"].astype(str))
    table = np.array(
        [[month_diff(m, c) + 1 for m in months] for c in cycles], dtype=np.int64
    ).reshape(len(cycles), len(months))
    lags = np.zeros(len(frame), dtype=np.int64)
    known = (ci >= 0) & (mi >= 0)
    lags[known] = table[ci[known], mi[known]]
    return lags


def _scored_points(
    actuals: pd.DataFrame,
    forecasts: pd.DataFrame,
    current_cycle: str,
    baseline_history: pd.DataFrame | None,
    max_lag: int,
) -> pd.DataFrame:
    """One row per (source, cycle, sku, month) with forecast, actual, lag and error."""
    imported = _imported_points(actuals, forecasts, current_cycle, max_lag)
    if baseline_history is None or not len(baseline_history):
        return imported.copy(deep=False)  # the kept frame stays as it is
    # Only the months a lag scores: a past cycle's baseline covers its whole horizon (11.4
    # million rows at 100,000 skus, of which 3 months a cycle are scored).
    lag = _lags(baseline_history)
    scored = (lag >= 1) & (lag <= max_lag)
    stat = baseline_history.loc[scored, ["cycle", "month", "sku", "units"]].assign(
        source=STATISTICAL
    )
    sources = set(imported["source"].unique())
    if sources and max(sources) >= STATISTICAL:  # one sorting with or after it: scored together
        return _points(
            [_past_forecasts(forecasts, current_cycle), stat], actuals, current_cycle, max_lag
        )
    # The sum by source first: the statistical baseline's points come after the imported ones,
    # each scored alone as together (the same rows, in the same order).
    statistical = _points([stat], actuals, current_cycle, max_lag)
    if not len(imported):
        return statistical
    if not len(statistical):
        return imported.copy(deep=False)
    return pd.concat([imported, statistical], ignore_index=True)


def _past_forecasts(forecasts: pd.DataFrame, current_cycle: str) -> pd.DataFrame:
    # Past cycles only, before any conversion: the current cycle is most of a large company's rows.
    past = (forecasts["cycle"].astype(str) < str(current_cycle)).to_numpy(dtype=bool)
    return take_rows(forecasts, past, ["cycle", "month", "sku", "source", "units"])


# The imported sources' points, kept while the frames they come from live: the plan scores them
# for its bias verdicts, and the Demand review's track record (with the statistical baseline's
# points) takes them from here instead of scoring 1.2 million forecasts again at 100,000 skus.
_IMPORTED = Kept()


def _imported_points(
    actuals: pd.DataFrame, forecasts: pd.DataFrame, current_cycle: str, max_lag: int
) -> pd.DataFrame:
    frames, extra = (forecasts, actuals), (str(current_cycle), max_lag)
    hit = _IMPORTED.get(frames, extra)
    if hit is not None:
        return hit
    points = _points([_past_forecasts(forecasts, current_cycle)], actuals, current_cycle, max_lag)
    if len(forecasts) >= MEMO_ROWS:
        _IMPORTED.keep(frames, points, extra)
    return points


def _points(
    parts: list[pd.DataFrame], actuals: pd.DataFrame, current_cycle: str, max_lag: int
) -> pd.DataFrame:
    """``_scored_points`` of forecast rows (``cycle, month, sku, source, units``)."""
    non_empty = [p for p in parts if len(p)]
    fc = pd.concat(non_empty, ignore_index=True) if non_empty else parts[0].copy()
    fc = fc.astype({"cycle": str, "month": str, "sku": str, "source": str})
    fc["units"] = fc["units"].astype(float)
    fc = fc[fc["cycle"] < str(current_cycle)]
    if fc.empty:
        return pd.DataFrame(
            columns=["source", "cycle", "sku", "month", "forecast", "actual", "lag", "error"]
        )
    fc = fc.groupby(["source", "cycle", "sku", "month"], as_index=False)["units"].sum()
    fc["lag"] = _lags(fc)
    fc = fc[(fc["lag"] >= 1) & (fc["lag"] <= max_lag)]

    # Only the months some forecast scored here is for: years of a large company's actuals
    # are millions of rows, and the merge below keeps only these months anyway.
    in_scope = actuals["month"].astype(str).isin(fc["month"].unique()).to_numpy(dtype=bool)
    act = actuals.loc[in_scope, ["month", "sku", "units"]].astype({"month": str, "sku": str})
    act["units"] = act["units"].astype(float)
    act = act.groupby(["sku", "month"], as_index=False)["units"].sum()

    points = fc.rename(columns={"units": "forecast"}).merge(
        act.rename(columns={"units": "actual"}), on=["sku", "month"], how="inner"
    )
    points["error"] = points["forecast"] - points["actual"]
    return points


def scored_points(
    actuals: pd.DataFrame,
    forecasts: pd.DataFrame,
    *,
    current_cycle: str,
    baseline_history: pd.DataFrame | None = None,
    max_lag: int = SCORED_LAGS,
) -> pd.DataFrame:
    """Every scored forecast: one row per source, cycle, sku and month, with columns
    ``source, cycle, sku, month, forecast, actual, lag, error`` (the rows ``track_record`` sums;
    pass them to it and to ``source_spread`` to score them once)."""
    return _scored_points(actuals, forecasts, current_cycle, baseline_history, max_lag)


def _family_of(products: pd.DataFrame) -> pd.Series:
    """Each sku's family (of a sku listed twice, its last row's), indexed by sku."""
    family_of = pd.Series(
        products["family"].astype(str).to_numpy(), index=products["sku"].astype(str).to_numpy()
    )
    return family_of[~family_of.index.duplicated(keep="last")]


def _families(sku: pd.Series, family_of: pd.Series) -> pd.Series:
    """Each row's family by its sku, ``NO_FAMILY`` for a sku not in products: each distinct sku
    looked up once (``codes.positions``), not each of a million rows mapped."""
    found = np.append(family_of.to_numpy(dtype=object), np.nan)
    values = found[positions(family_of.index, sku, month=False)]
    return pd.Series(values, index=sku.index, dtype=family_of.dtype).fillna(NO_FAMILY)


def track_record(
    actuals: pd.DataFrame,
    forecasts: pd.DataFrame,
    products: pd.DataFrame,
    *,
    current_cycle: str,
    baseline_history: pd.DataFrame | None = None,
    max_lag: int = SCORED_LAGS,
    points: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Accuracy and bias of every forecast source in the cycles before ``current_cycle``.

    Args:
        actuals: ``month, sku, units``.
        forecasts: ``cycle, month, sku, source, units`` (sources sales, marketing, consensus).
        products: ``sku, family`` (other columns ignored).
        current_cycle: only cycles strictly before it are scored.
        baseline_history: the statistical baseline of past cycles, ``cycle, sku, month, units``;
            scored as source ``"statistical"`` when given.
        max_lag: the longest lag scored (1 = the cycle's own month).
        points: ``scored_points(...)`` of the same arguments, when the caller has them.

    Returns:
        One row per source, family (each family and ``"All"``) and lag 1..max_lag, columns
        ``TRACK_COLUMNS``. Every combination is present; one without scored points has
        ``n_points`` 0 and NaN percentages. Sources: the three imported ones, plus
        ``"statistical"`` when ``baseline_history`` is given, plus any other source found.
    """
    if points is None:
        points = _scored_points(actuals, forecasts, current_cycle, baseline_history, max_lag)
    # A Series, not a dict: mapping by index is vectorised (a dict is looked up row by row).
    family_of = _family_of(products)
    points = points.assign(family=_families(points["sku"], family_of))
    points["abs_error"] = points["error"].abs()

    def summarise(frame: pd.DataFrame) -> pd.DataFrame:
        return frame.groupby(["source", "family", "lag"], as_index=False).agg(
            n_points=("error", "size"),
            actual_units=("actual", "sum"),
            forecast_units=("forecast", "sum"),
            error_units=("error", "sum"),
            abs_error_units=("abs_error", "sum"),
        )

    by_family = summarise(points)
    pooled = summarise(points.assign(family=ALL_FAMILIES))

    sources = list(FORECAST_SOURCES)
    if baseline_history is not None:
        sources.insert(0, STATISTICAL)
    sources += sorted(set(points["source"].unique()) - set(sources))
    families = [ALL_FAMILIES, *sorted(set(family_of.tolist()) | set(points["family"].unique()))]
    grid = pd.MultiIndex.from_product(
        [sources, families, range(1, max_lag + 1)], names=["source", "family", "lag"]
    ).to_frame(index=False)
    track = grid.merge(pd.concat([pooled, by_family], ignore_index=True), how="left")
    track[_SUMS] = track[_SUMS].fillna(0.0)
    track["n_points"] = track["n_points"].astype(int)
    track["lag"] = track["lag"].astype(int)
    track = _with_percentages(track)
    return _sorted(track[TRACK_COLUMNS], ["lag"])


def pool_lags(track: pd.DataFrame, lags: tuple[int, ...] = (1, 2, 3)) -> pd.DataFrame:
    """The track record pooled over ``lags`` per source and family (sums, then percentages)."""
    rows = track[track["lag"].isin(lags)]
    if "abs_error_units" not in rows.columns:  # a track without it: rebuild from WMAPE
        rows = rows.assign(
            abs_error_units=(rows["wmape_pct"] * rows["actual_units"] / 100.0).fillna(0.0)
        )
    pooled = rows.groupby(["source", "family"], as_index=False, sort=False)[_SUMS].sum()
    pooled["n_points"] = pooled["n_points"].astype(int)
    return _sorted(_with_percentages(pooled), [])


def source_spread(
    points: pd.DataFrame, products: pd.DataFrame, lags: tuple[int, ...] = (1, 2, 3)
) -> pd.DataFrame:
    """How far the actuals fell from each source's forecasts, per source and family (and
    ``"All"``): the mean and standard deviation of ``ln(actual / forecast)``, weighted by the
    actual units, over the scored sku-months of ``lags`` where both are above 0.

    A mean below 0 is a source that forecast high (inflating), above 0 one that forecast low;
    the standard deviation is the spread around it. A family with fewer than
    ``MIN_SPREAD_POINTS`` points takes the source's ``"All"`` figures (its ``n_points`` stays
    its own).

    Args:
        points: ``scored_points(...)``.
        products: ``sku, family``.

    Returns:
        Columns ``SPREAD_COLUMNS``; a source without points has no rows.
    """
    rows = points[
        points["lag"].isin(lags) & (points["forecast"] > 0) & (points["actual"] > 0)
    ].copy()
    if rows.empty:
        return pd.DataFrame(columns=SPREAD_COLUMNS)
    rows["family"] = _families(rows["sku"], _family_of(products))
    rows["w"] = rows["actual"].astype(float)
    rows["l"] = np.log(rows["actual"].astype(float) / rows["forecast"].astype(float))
    rows["wl"] = rows["w"] * rows["l"]
    rows["wll"] = rows["w"] * rows["l"] ** 2

    def summarise(frame: pd.DataFrame) -> pd.DataFrame:
        out = frame.groupby(["source", "family"], as_index=False).agg(
            n_points=("l", "size"), w=("w", "sum"), wl=("wl", "sum"), wll=("wll", "sum")
        )
        mean = out["wl"] / out["w"]
        out["log_ratio_mean"] = mean
        out["log_ratio_sd"] = np.sqrt(np.maximum(out["wll"] / out["w"] - mean**2, 0.0))
        return out

    pooled = summarise(rows.assign(family=ALL_FAMILIES))
    by_family = summarise(rows)
    few = by_family["n_points"] < MIN_SPREAD_POINTS
    fallback = by_family[["source"]].merge(pooled, on="source", how="left")
    for col in ("log_ratio_mean", "log_ratio_sd"):
        by_family.loc[few, col] = fallback.loc[few.to_numpy(), col].to_numpy()
    spread = pd.concat([pooled, by_family], ignore_index=True)
    spread["n_points"] = spread["n_points"].astype(int)
    return _sorted(spread[SPREAD_COLUMNS], [])


def _verdict(n_points: int, bias_pct: float, tolerance_pct: float) -> str:
    if n_points == 0 or not np.isfinite(bias_pct):
        return "no history"
    if bias_pct > tolerance_pct + _EPS:
        return "inflating"
    if bias_pct < -tolerance_pct - _EPS:
        return "sandbagging"
    return "unbiased"


def source_bias(track: pd.DataFrame, tolerance_pct: float) -> pd.DataFrame:
    """Each source's historical bias per family (and ``"All"``), pooled over lags 1–3.

    Verdict: ``"inflating"`` when bias % > tolerance, ``"sandbagging"`` when bias % <
    -tolerance, else ``"unbiased"`` (a bias exactly at the tolerance is unbiased);
    ``"no history"`` when there are no scored points (or their actuals sum to 0).

    Returns:
        Columns ``BIAS_COLUMNS``.
    """
    pooled = pool_lags(track)
    pooled["verdict"] = [
        _verdict(n, b, float(tolerance_pct))
        for n, b in zip(pooled["n_points"], pooled["bias_pct"], strict=True)
    ]
    return pooled[BIAS_COLUMNS]


def forecast_value_added(track: pd.DataFrame) -> pd.DataFrame:
    """WMAPE of each human source against the statistical baseline, per family and lag.

    ``fva_pct_points = baseline_wmape_pct - wmape_pct``: positive means the source's
    forecast was more accurate than the statistical baseline (it added value). Rows only
    where both the source and the statistical baseline have a defined WMAPE for that family
    and lag.

    Returns:
        Columns ``FVA_COLUMNS``.
    """
    scored = track[(track["n_points"] > 0) & track["wmape_pct"].notna()]
    stat = scored.loc[scored["source"] == STATISTICAL, ["family", "lag", "wmape_pct"]].rename(
        columns={"wmape_pct": "baseline_wmape_pct"}
    )
    human = scored.loc[scored["source"] != STATISTICAL, ["source", "family", "lag", "wmape_pct"]]
    fva = human.merge(stat, on=["family", "lag"], how="inner")
    fva["fva_pct_points"] = fva["baseline_wmape_pct"] - fva["wmape_pct"]
    if fva.empty:
        return pd.DataFrame(columns=FVA_COLUMNS)
    return _sorted(fva[FVA_COLUMNS], ["lag"])
