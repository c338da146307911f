"""The statistical baseline: ETS and Theta combined per sku, with a calibrated 80 % band.

Method (docs/FORECASTING.md has the measurements behind each choice):

- **>= 24 months of history**: the mean of two forecasts, the exponential smoothing one and
  the Theta one. Exponential smoothing: Holt-Winters (statsmodels), every candidate fitted
  by least squares and ranked by AICc; the forecast is the mean of the two best. Candidates:
  ETS(A,N,N), ETS(A,Ad,N), ETS(A,N,A), ETS(A,Ad,A), and, when every month of the history is
  above 0, ETS(A,N,M) and ETS(A,Ad,M) (multiplicative seasonality, period 12). When a
  seasonality test finds a yearly pattern (F-test of 11 month dummies over a linear trend,
  5 % level) only the seasonal candidates compete: with 24-35 months AICc charges the 12
  seasonal parameters so heavily that it would pick a flat forecast for a plainly seasonal
  sku. Theta: the classic method (simple exponential smoothing plus half the slope of a
  straight-line fit) on the history with its yearly pattern divided out (classical
  decomposition) when the seasonality test finds a yearly pattern.
- **12-23 months**: seasonal naive (each month repeats the same month of the last year).
- **1-11 months**: the mean of the last (up to) 3 months, flat.
- **no history, or only zeros**: zeros.

A fit that fails, or a forecast that is not finite or explodes (above 10 x the history's
maximum), drops that candidate; when no candidate is left the seasonal naive is used.
Forecasts are never negative (clipped at 0).

**The band** (``p10``, ``p90``: the 80 % interval). Each sku's method is backtested inside
its own history: the last months are held out, the same model forms are refitted on the
rest (the seasonal naive when fewer than 30 months leave too little) and the errors at each horizon are
divided by the sku's scale (the mean absolute change from the same month a year before, as
in MASE). The 10th and 90th percentiles of these scaled errors, pooled over every sku of
the run and over neighbouring horizons, times each sku's scale, give its band around its
forecast. Bands are clipped so that ``0 <= p10 <= units <= p90``.

The history of a sku runs from its first month with actuals to the last month with actuals
of any sku before the origin; months missing inside it are 0 units.
"""

from __future__ import annotations

import math
import multiprocessing
import os
import sys
import threading
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from sop_core.codes import positions
from sop_core.errors import PlanError
from sop_core.forecasting import cluster
from sop_core.months import add_months, month_diff
from sop_core.store.plandata import current_cycle, horizon

__all__ = [
    "SEASON",
    "MIN_SEASONAL_HISTORY",
    "MIN_SNAIVE_HISTORY",
    "SHORT_MEAN_MONTHS",
    "PARALLEL_MIN_SERIES",
    "BASELINE_COLUMNS",
    "SEASONALITY_ALPHA",
    "INTERVAL_PROBABILITIES",
    "HORIZON_WINDOW",
    "SeriesFit",
    "fit_baseline",
    "fit_series",
    "seasonal_naive",
    "is_seasonal",
    "theta_forecast",
    "combine_forecasts",
    "error_scale",
    "pooled_quantiles",
    "band",
    "baseline_frame",
    "run_forecast",
    "ensure_baseline",
    "baseline_history",
    "FitProgress",
]

SEASON = 12
MIN_SEASONAL_HISTORY = 24  # two full years: exponential smoothing and Theta
MIN_SNAIVE_HISTORY = 12  # one full year: seasonal naive
SHORT_MEAN_MONTHS = 3  # shorter histories: the mean of the last 3 months
SEASONALITY_ALPHA = 0.05  # the seasonality test's level
PARALLEL_MIN_SERIES = 40  # fewer series are fitted in-process: starting workers costs more
EXPLOSION_FACTOR = 10.0  # a forecast above 10 x the history's max is an unstable fit
COMBINED_ETS = 2  # the exponential smoothing forecast: the mean of the best 2 by AICc
INTERVAL_PROBABILITIES = (0.1, 0.9)  # the band: p10 and p90
HORIZON_WINDOW = 2  # a horizon's quantiles pool the errors of the horizons 2 either side
MIN_MODEL_BACKTEST = 6  # the combination is backtested itself when >= 6 months can be held out

BASELINE_COLUMNS = ["sku", "month", "units", "p10", "p90", "model"]

# (trend, damped, seasonal): the candidate set, and whether it needs a positive series.
_CANDIDATES: tuple[tuple[str | None, bool, str | None], ...] = (
    (None, False, None),
    ("add", True, None),
    (None, False, "add"),
    ("add", True, "add"),
    (None, False, "mul"),
    ("add", True, "mul"),
)
_Form = tuple[str | None, bool, str | None]

LABEL_ZEROS = "zeros"
LABEL_NO_HISTORY = "no history"
LABEL_SNAIVE = "seasonal naive"
LABEL_FALLBACK = "seasonal naive (fallback)"
LABEL_THETA = "Theta"

SQL_DELETE_CYCLE = "DELETE FROM baseline WHERE cycle = ?"
SQL_COUNT_CYCLE = "SELECT count(*) FROM baseline WHERE cycle = ?"
SQL_INSERT_FRAME = """
INSERT INTO baseline (cycle, month, sku, units, p10, p90, model)
SELECT CAST(cycle AS VARCHAR), CAST(month AS VARCHAR), CAST(sku AS VARCHAR),
       CAST(units AS DOUBLE), CAST(p10 AS DOUBLE), CAST(p90 AS DOUBLE), CAST(model AS VARCHAR)
FROM incoming_baseline
"""
SQL_BASELINE_OF_CYCLE = "SELECT sku, month, units FROM baseline WHERE cycle = ? ORDER BY sku, month"
SQL_BAND_OF_CYCLE = """
SELECT sku, month, units, p10, p90 FROM baseline WHERE cycle = ? ORDER BY sku, month
"""
SQL_BASELINE_BEFORE = """
SELECT cycle, sku, month, units, model FROM baseline WHERE cycle < ? ORDER BY cycle, sku, month
"""
# The horizon needs only the last month of actuals (``horizon``: the month after it).
SQL_LAST_ACTUAL_MONTH = "SELECT month FROM actuals ORDER BY month DESC LIMIT 1"
SQL_PAST_FORECAST_MONTHS = """
SELECT DISTINCT cycle, month FROM forecasts WHERE cycle < ? AND month >= cycle ORDER BY cycle, month
"""


# --- one series: exponential smoothing ----------------------------------------------------


def _label(trend: str | None, damped: bool, seasonal: str | None) -> str:
    t = "N" if trend is None else ("Ad" if damped else "A")
    s = {None: "N", "add": "A", "mul": "M"}[seasonal]
    return f"ETS(A,{t},{s})"


def seasonal_naive(history: np.ndarray, steps: int) -> np.ndarray:
    """Each future month repeats the same calendar month of the last 12 months."""
    last = np.asarray(history, dtype=float)[-SEASON:]
    return np.array([last[k % len(last)] for k in range(steps)], dtype=float)


def _aicc(sse: float, n: int, n_params: int) -> float:
    """AICc of a Gaussian fit with ``n_params`` estimated (the variance included)."""
    if sse <= 0 or n - n_params - 1 <= 0:
        return math.inf if sse > 0 else -math.inf
    return n * math.log(sse / n) + 2 * n_params + 2 * n_params * (n_params + 1) / (n - n_params - 1)


def _n_params(trend: str | None, damped: bool, seasonal: str | None) -> int:
    # alpha, level0 | beta, trend0 | phi | gamma, 11 free seasonal states | the variance
    return 2 + 2 * (trend is not None) + damped + (SEASON if seasonal else 0) + 1


def _fit_ets(
    y: np.ndarray, trend: str | None, damped: bool, seasonal: str | None, steps: int
) -> tuple[np.ndarray, float]:
    """One Holt-Winters fit: its forecast and the SSE of its one-step-ahead fit."""
    from statsmodels.tsa.holtwinters import ExponentialSmoothing

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # convergence chatter; a bad fit is caught below
        model = ExponentialSmoothing(
            y,
            trend=trend,
            damped_trend=damped,
            seasonal=seasonal,
            seasonal_periods=SEASON if seasonal else None,
            initialization_method="estimated",
        )
        # least squares: as accurate as L-BFGS-B (lower SSE) and ~3x faster (bench).
        result = model.fit(method="least_squares", use_brute=False)
        return np.asarray(result.forecast(steps), dtype=float), float(result.sse)


def _sse(design: np.ndarray, y: np.ndarray) -> float:
    coef = np.linalg.lstsq(design, y, rcond=None)[0]
    return float(np.sum((y - design @ coef) ** 2))


def is_seasonal(y: np.ndarray) -> bool:
    """Whether ``y`` has a yearly pattern: an F-test of 11 month-of-year dummies added to a
    linear trend (least squares), at the ``SEASONALITY_ALPHA`` level. Needs >= 14 months."""
    y = np.asarray(y, dtype=float)
    n = len(y)
    trend = np.column_stack([np.ones(n), np.arange(n, dtype=float)])
    dummies = (np.arange(n)[:, None] % SEASON == np.arange(1, SEASON)[None, :]).astype(float)
    full = np.column_stack([trend, dummies])
    df_full = n - full.shape[1]
    if df_full <= 0:
        return False
    sse_trend, sse_full = _sse(trend, y), _sse(full, y)
    if sse_trend <= 0:
        return False  # a straight line: nothing seasonal about it
    if sse_full <= 1e-12 * sse_trend:
        return True  # the months explain everything
    from scipy.stats import f

    stat = ((sse_trend - sse_full) / (SEASON - 1)) / (sse_full / df_full)
    return bool(f.sf(stat, SEASON - 1, df_full) < SEASONALITY_ALPHA)


def _usable(forecast: np.ndarray, ceiling: float) -> bool:
    return bool(np.all(np.isfinite(forecast)) and np.max(forecast, initial=0.0) <= ceiling)


def _ranked_ets(y: np.ndarray, steps: int) -> list[tuple[float, np.ndarray, _Form]]:
    """Every candidate that fitted and gave a usable forecast, lowest AICc first."""
    n = len(y)
    positive = bool(np.all(y > 0))
    seasonal_only = is_seasonal(y)
    ceiling = EXPLOSION_FACTOR * float(np.max(y))
    ranked = []
    for trend, damped, seasonal in _CANDIDATES:
        if (seasonal == "mul" and not positive) or (seasonal_only and seasonal is None):
            continue
        try:
            forecast, sse = _fit_ets(y, trend, damped, seasonal, steps)
        except Exception:  # noqa: BLE001 - any failure of one candidate just drops it
            continue
        if not _usable(forecast, ceiling) or not np.isfinite(sse):
            continue
        score = _aicc(sse, n, _n_params(trend, damped, seasonal))
        ranked.append((score, forecast, (trend, damped, seasonal)))
    ranked.sort(key=lambda r: r[0])  # stable: ties keep the candidate order
    return ranked


# --- one series: Theta ---------------------------------------------------------------------


def _seasonal_indices(y: np.ndarray) -> tuple[np.ndarray, bool]:
    """Classical decomposition: the 12 seasonal indices (position ``t % 12``) around a
    centred 2x12 moving average; multiplicative (mean 1) when the history is above 0,
    else additive (mean 0)."""
    n = len(y)
    weights = np.r_[0.5, np.ones(SEASON - 1), 0.5] / SEASON
    trend = np.full(n, np.nan)
    trend[SEASON // 2 : n - SEASON // 2] = np.convolve(y, weights, mode="valid")
    multiplicative = bool(np.all(y > 0))
    detrended = y / trend if multiplicative else y - trend
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a month never seen gives nan
        indices = np.array([np.nanmean(detrended[k::SEASON]) for k in range(SEASON)])
    indices = indices / indices.mean() if multiplicative else indices - indices.mean()
    return indices, multiplicative  # a nan index (a month never seen) makes Theta unusable


def _ses(x: np.ndarray) -> tuple[float, float]:
    """Simple exponential smoothing by least squares: ``(alpha, next level)``.

    For a given alpha the one-step forecasts are linear in the initial level, so the best
    initial level has a closed form; alpha is then found by a bounded scalar search.
    """
    from scipy.optimize import minimize_scalar
    from scipy.signal import lfilter

    decay_powers = np.arange(len(x), dtype=float)

    def fit(alpha: float) -> tuple[float, float]:
        from_zero = lfilter([0.0, alpha], [1.0, alpha - 1.0], x)  # forecasts with level0 = 0
        decay = (1.0 - alpha) ** decay_powers
        level0 = float(np.dot(x - from_zero, decay) / np.dot(decay, decay))
        errors = x - from_zero - decay * level0
        nxt = (1.0 - alpha) * (from_zero[-1] + decay[-1] * level0) + alpha * x[-1]
        return float(np.dot(errors, errors)), nxt

    best = minimize_scalar(
        lambda a: fit(a)[0], bounds=(1e-4, 0.9999), method="bounded", options={"xatol": 1e-5}
    )
    alpha = float(best.x)
    return alpha, fit(alpha)[1]


def theta_forecast(history: np.ndarray, steps: int) -> np.ndarray:
    """The Theta method (Assimakopoulos and Nikolopoulos; Hyndman and Billah's form).

    On the deseasonalised history ``x`` (see the module docstring): simple exponential
    smoothing's level ``l`` and alpha, and ``b`` the slope of a least-squares line through
    ``x``; the forecast ``h`` months ahead is ``l + b/2 * (h - 1 + 1/alpha - (1-alpha)^n /
    alpha)``, then the yearly pattern is put back. Not clipped at 0.
    """
    y = np.asarray(history, dtype=float)
    n = len(y)
    indices, multiplicative = None, True
    x = y
    if is_seasonal(y):
        indices, multiplicative = _seasonal_indices(y)
        past = indices[np.arange(n) % SEASON]
        x = y / past if multiplicative else y - past
    slope = float(np.polyfit(np.arange(n, dtype=float), x, 1)[0])
    alpha, level = _ses(x)
    h = np.arange(steps, dtype=float)
    forecast = level + 0.5 * slope * (h + 1.0 / alpha - (1.0 - alpha) ** n / alpha)
    if indices is not None:
        future = indices[(n + np.arange(steps)) % SEASON]
        forecast = forecast * future if multiplicative else forecast + future
    return forecast


def _theta_or_none(y: np.ndarray, steps: int) -> np.ndarray | None:
    try:
        forecast = theta_forecast(y, steps)
    except Exception:  # noqa: BLE001 - a failed Theta just leaves exponential smoothing
        return None
    return forecast if _usable(forecast, EXPLOSION_FACTOR * float(np.max(y))) else None


def combine_forecasts(ets: list[np.ndarray], theta: np.ndarray | None) -> np.ndarray:
    """The combination: the mean of the ETS forecasts, then the mean of that and Theta's.

    Either part may be missing (an empty list, or None), then the other is used alone.
    """
    parts = []
    if ets:
        parts.append(np.mean(np.vstack(ets), axis=0))
    if theta is not None:
        parts.append(np.asarray(theta, dtype=float))
    if not parts:
        raise ValueError("combine_forecasts needs at least one forecast")
    return np.mean(np.vstack(parts), axis=0)


def _combination_label(forms: list[_Form], theta: bool) -> str:
    names = [_label(*f) for f in forms] + ([LABEL_THETA] if theta else [])
    return " + ".join(names)


def _fit_model(y: np.ndarray, steps: int) -> tuple[np.ndarray, str, list[_Form], bool] | None:
    """The combination for >= 24 months: forecast, label, ETS forms and whether Theta was
    used; None if every candidate failed."""
    ranked = _ranked_ets(y, steps)[:COMBINED_ETS]
    theta = _theta_or_none(y, steps)
    if not ranked and theta is None:
        return None
    forms = [form for _, _, form in ranked]
    forecast = combine_forecasts([f for _, f, _ in ranked], theta)
    return forecast, _combination_label(forms, theta is not None), forms, theta is not None


def _refit_forms(y: np.ndarray, steps: int, forms: list[_Form], theta: bool) -> np.ndarray:
    """The combination with its model forms fixed (no AICc ranking): for the backtest."""
    ceiling = EXPLOSION_FACTOR * float(np.max(y))
    ets = []
    for form in forms:
        try:
            forecast, _ = _fit_ets(y, *form, steps)
        except Exception:  # noqa: BLE001 - a form that fails here is left out
            continue
        if _usable(forecast, ceiling):
            ets.append(forecast)
    theta_fc = _theta_or_none(y, steps) if theta else None
    if not ets and theta_fc is None:
        return seasonal_naive(y, steps)
    return combine_forecasts(ets, theta_fc)


# --- one series: the point forecast and its backtest --------------------------------------


@dataclass(frozen=True)
class SeriesFit:
    """One sku's fit: the forecast, the model's label, the scale of its errors, and its
    backtest errors divided by that scale: one row per origin, column 0 = one month ahead
    (maybe no row)."""

    forecast: np.ndarray
    model: str
    scale: float = 0.0
    errors: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))


def error_scale(history: np.ndarray) -> float:
    """The unit of a sku's errors: the mean absolute change from the same month a year
    before (MASE's scale); the mean absolute month-to-month change when that is 0 or the
    history is 12 months or shorter; 0 when the history never changed."""
    y = np.asarray(history, dtype=float)
    if len(y) > SEASON:
        scale = float(np.mean(np.abs(y[SEASON:] - y[:-SEASON])))
        if scale > 0:
            return scale
    return float(np.mean(np.abs(np.diff(y)))) if len(y) >= 2 else 0.0


def _short_mean(y: np.ndarray, steps: int) -> tuple[np.ndarray, str]:
    k = min(SHORT_MEAN_MONTHS, len(y))
    level = max(0.0, float(np.mean(y[-k:])))
    return np.full(steps, level), f"mean of last {k} month{'s' if k > 1 else ''}"


def _point(y: np.ndarray, steps: int) -> tuple[np.ndarray, str, list[_Form] | None, bool]:
    """The forecast of a non-empty, not all-zero history: forecast (not clipped), label,
    and for the combination its ETS forms and whether Theta was used (else None)."""
    n = len(y)
    if n < MIN_SNAIVE_HISTORY:
        forecast, label = _short_mean(y, steps)
        return forecast, label, None, False
    if n < MIN_SEASONAL_HISTORY:
        return seasonal_naive(y, steps), LABEL_SNAIVE, None, False
    fitted = _fit_model(y, steps)
    if fitted is None:
        return seasonal_naive(y, steps), LABEL_FALLBACK, None, False
    return fitted


def _backtest(y: np.ndarray, steps: int, forms: list[_Form] | None, theta: bool) -> np.ndarray:
    """Errors (actual - forecast) of the sku's method on the last months of its history:
    one row per origin, one column per horizon.

    The combination keeps its forms when that leaves >= 24 months to fit on and covers
    ``MIN_MODEL_BACKTEST`` horizons (or all of them); otherwise the seasonal naive is
    backtested from 12 months on. Histories of 12 months or fewer: the one-month-ahead errors of the mean of
    the last 3 months, from every origin.
    """
    n = len(y)
    if forms is not None and n - MIN_SEASONAL_HISTORY >= min(steps, MIN_MODEL_BACKTEST):
        held = min(steps, n - MIN_SEASONAL_HISTORY)
        forecast = _refit_forms(y[: n - held], held, forms, theta)
    elif n > MIN_SNAIVE_HISTORY:
        held = min(steps, n - MIN_SNAIVE_HISTORY)
        forecast = seasonal_naive(y[: n - held], held)
    else:
        past = [float(np.mean(y[max(0, t - SHORT_MEAN_MONTHS) : t])) for t in range(1, n)]
        return (y[1:] - np.maximum(np.asarray(past, dtype=float), 0.0))[:, None]
    return (y[n - held :] - np.maximum(forecast, 0.0))[None, :]


def fit_series(history: np.ndarray, steps: int, *, backtest: bool = True) -> SeriesFit:
    """The baseline forecast of one monthly series, with what its band needs.

    Args:
        history: units per month, oldest first, no gaps (missing months as 0).
        steps: how many months to forecast after the last one of ``history``.
        backtest: also backtest the method inside the history (for the band).

    Returns:
        The forecast (``steps`` values, never negative), the model label (such as
        ``"ETS(A,N,M) + ETS(A,Ad,M) + Theta"``, ``"seasonal naive"``, ``"mean of last 3
        months"``, ``"zeros"``), the error scale and the scaled backtest errors.
    """
    y = np.asarray(history, dtype=float)
    steps = max(0, int(steps))
    if len(y) == 0:
        return SeriesFit(np.zeros(steps), LABEL_NO_HISTORY)
    y = np.where(np.isfinite(y), y, 0.0)
    if not np.any(y != 0):
        return SeriesFit(np.zeros(steps), LABEL_ZEROS)
    if steps == 0:
        return SeriesFit(np.zeros(0), LABEL_ZEROS)
    forecast, label, forms, theta = _point(y, steps)
    forecast = np.maximum(forecast, 0.0)
    if not backtest:
        return SeriesFit(forecast, label)
    scale = error_scale(y)
    errors = _backtest(y, steps, forms, theta) / scale if scale > 0 else np.zeros((0, 0))
    return SeriesFit(forecast, label, scale, errors)


def fit_baseline(history: np.ndarray, steps: int) -> tuple[np.ndarray, str]:
    """The baseline forecast of one monthly series and the name of the model used.

    Args:
        history: units per month, oldest first, no gaps (missing months as 0).
        steps: how many months to forecast after the last one of ``history``.

    Returns:
        ``(forecast, model)``: ``steps`` values, never negative, and a label such as
        ``"ETS(A,N,M) + ETS(A,Ad,M) + Theta"``, ``"seasonal naive"``,
        ``"mean of last 3 months"``, ``"zeros"``.
    """
    fit = fit_series(history, steps, backtest=False)
    return fit.forecast, fit.model


# --- the band: pooled quantiles of the scaled backtest errors ------------------------------


def pooled_quantiles(
    errors: list[np.ndarray],
    steps: int,
    *,
    probabilities: tuple[float, float] = INTERVAL_PROBABILITIES,
    window: int = HORIZON_WINDOW,
) -> np.ndarray:
    """Per horizon, the quantiles of the scaled errors pooled over series.

    ``errors`` holds one array per series: a row per backtest origin, a column per horizon
    (column 0 = one month ahead; nan = not observed). Horizon ``h`` pools all errors at horizons
    ``h - window .. h + window``. Beyond the longest horizon with errors, the quantiles of
    that horizon grow with the square root of the horizon (as a random walk's spread does);
    without any error at all they are 0.

    Returns:
        An array ``(steps, 2)``: the low and high quantile of each horizon.
    """
    out = np.zeros((steps, 2))
    errors = [np.atleast_2d(np.asarray(e, dtype=float)) for e in errors]
    longest = max((e.shape[1] for e in errors if e.size), default=0)
    last = None
    for h in range(steps):
        if h < longest:
            lo, hi = max(0, h - window), h + window + 1
            pooled = np.concatenate([e[:, lo:hi].ravel() for e in errors])
            pooled = pooled[np.isfinite(pooled)]
            if pooled.size:
                out[h] = np.quantile(pooled, probabilities)
                last = h
                continue
        if last is not None:
            out[h] = out[last] * math.sqrt((h + 1) / (last + 1))
    return out


def band(
    forecast: np.ndarray, scale: float, quantiles: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """``(p10, p90)`` of one series: forecast + quantile x scale, clipped to
    ``0 <= p10 <= forecast <= p90``."""
    forecast = np.asarray(forecast, dtype=float)
    k = len(forecast)
    low = np.clip(forecast + quantiles[:k, 0] * scale, 0.0, forecast)
    high = np.maximum(forecast + quantiles[:k, 1] * scale, forecast)
    return low, high


# --- many series -----------------------------------------------------------------------


def _fit_chunk(tasks: list[tuple[np.ndarray, int]]) -> list[SeriesFit]:
    return [fit_series(y, steps) for y, steps in tasks]


def _fit_numbered(chunk: tuple[int, list[tuple[np.ndarray, int]]]) -> tuple[int, list]:
    start, tasks = chunk
    return start, _fit_chunk(tasks)


def _alive(pid: int) -> bool:
    """Whether process ``pid`` still runs (a zombie, dead but not yet reaped, does not)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process: the pid was reused, so ours is gone
        return False
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:
            text = stat.read()
    except OSError:  # no /proc: kill(0) is all there is
        return True
    return text[text.rindex(b")") + 2 : text.rindex(b")") + 3] != b"Z"


def _end_with(parent: int) -> None:
    """In a worker: exit as soon as the process that started the pool is gone.

    A killed app server (or test runner) must not leave workers fitting: with forkserver their
    own parent is the fork server, so nothing else tells them.
    """

    def watch() -> None:
        while _alive(parent):
            time.sleep(0.5)
        os._exit(1)

    threading.Thread(target=watch, name="end-with-parent", daemon=True).start()


@dataclass(frozen=True)
class FitProgress:
    """How far a fit of many series is: for a progress bar with an estimate of the time left."""

    done: int
    total: int
    elapsed: float  # seconds since the fit started

    @property
    def remaining(self) -> float | None:
        """Seconds left at the pace so far (None before the first series is done)."""
        if self.done <= 0:
            return None
        return self.elapsed / self.done * (self.total - self.done)


def _pool_context():
    # forkserver: workers are forked from a clean server process, never from the caller,
    # which may be a multi-threaded app server holding a DuckDB connection. The server
    # imports statsmodels once, so the workers of every later run start without that cost.
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("spawn")
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload([__name__, "statsmodels.tsa.holtwinters"])
    return ctx


def _fit_many(
    tasks: list[tuple[np.ndarray, int]],
    *,
    workers: int | None,
    progress: bool,
    on_progress: Callable[[FitProgress], None] | None = None,
) -> list[SeriesFit]:
    """``fit_series`` over every task, in order; in worker processes for large inputs.

    ``on_progress`` is called after each chunk; an exception it raises (a person cancelling,
    a closed browser) stops the fit at once: the workers are terminated, not waited for.
    """
    from tqdm import tqdm

    workers = max(1, int(workers or os.cpu_count() or 1))
    bar = tqdm(
        total=len(tasks), desc="Statistical baseline", unit="sku", file=sys.stderr,
        disable=not progress, leave=False,
    )  # fmt: skip
    started, done_so_far = time.monotonic(), 0

    def report(count: int) -> None:
        nonlocal done_so_far
        done_so_far += count
        bar.update(count)
        if on_progress is not None:
            on_progress(FitProgress(done_so_far, len(tasks), time.monotonic() - started))

    try:
        scheduler = cluster.active_scheduler()
        if scheduler is not None and len(tasks) >= PARALLEL_MIN_SERIES:
            # The same chunks as tasks on a Dask cluster (cluster.py), ``workers`` its size if local.
            size = max(5, min(50, math.ceil(len(tasks) / (workers * 8))))
            chunks = [tasks[i : i + size] for i in range(0, len(tasks), size)]
            parts = cluster.map_chunks(
                _fit_chunk, chunks, scheduler=scheduler, workers=workers, on_done=report
            )
            return [fit for part in parts for fit in part]
        if workers == 1 or len(tasks) < PARALLEL_MIN_SERIES:
            results = []
            for y, steps in tasks:
                results.append(fit_series(y, steps))
                report(1)
            return results
        # Chunks: few enough to keep the pickling small, many enough to balance the load.
        size = max(5, min(50, math.ceil(len(tasks) / (workers * 8))))
        chunks = [(i, tasks[i : i + size]) for i in range(0, len(tasks), size)]
        results: list = [None] * len(tasks)
        with cluster.workers_never_run_main():  # every worker starts here
            pool = _pool_context().Pool(workers, initializer=_end_with, initargs=(os.getpid(),))
        try:
            for start, done in pool.imap_unordered(_fit_numbered, chunks):
                results[start : start + len(done)] = done
                report(len(done))
        except BaseException:
            pool.terminate()  # cancelled or failed: stop the workers now
            raise
        else:
            pool.close()
        finally:
            pool.join()
        return results
    finally:
        bar.close()


def _prepare(
    actuals: pd.DataFrame, skus: list[str], months: list[str], origin: str
) -> tuple[list[tuple[np.ndarray, int]], list[int]]:
    """For each sku: its zero-filled history and the steps to reach the last month; and for
    each month its step index (1 = the month after the history's end)."""
    months = [str(m) for m in months]
    early = [m for m in months if m < origin]
    if early:
        raise ValueError(f"months {early[:3]} are before the origin {origin}: nothing to forecast")
    act = actuals.loc[:, ["month", "sku", "units"]].astype({"month": str, "sku": str})
    act = act[act["month"] < origin]
    if act.empty or not months:
        end = add_months(origin, -1)
        steps_of = [month_diff(m, end) for m in months]
        return [(np.zeros(0), max(steps_of, default=0)) for _ in skus], steps_of
    end = str(act["month"].max())  # the last month with actuals, any sku
    steps_of = [month_diff(m, end) for m in months]
    horizon = max(steps_of)
    per_sku = act.groupby(["sku", "month"])["units"].sum()
    tasks = []
    for sku in skus:
        sku = str(sku)
        if sku in per_sku.index.get_level_values(0):
            series = per_sku.loc[sku]
            first = str(series.index.min())
            y = np.zeros(month_diff(end, first) + 1)
            for month, units in series.items():
                y[month_diff(str(month), first)] = float(units)
        else:
            y = np.zeros(0)
        tasks.append((y, horizon))
    return tasks, steps_of


def _frame(
    skus: list[str], months: list[str], steps_of: list[int], results: list[SeriesFit]
) -> pd.DataFrame:
    """The baseline rows of one run: each sku's forecast and band at the months' steps; the
    band's quantiles pool the backtest errors of every sku of the run."""
    idx = np.asarray(steps_of, dtype=int) - 1
    n = len(months)
    horizon = max((len(r.forecast) for r in results), default=0)
    quantiles = pooled_quantiles([r.errors for r in results if r.errors.size], horizon)
    units, low, high = [], [], []
    for r in results:
        p10, p90 = band(r.forecast, r.scale, quantiles)
        units.append(r.forecast[idx])
        low.append(p10[idx])
        high.append(p90[idx])

    def column(parts: list[np.ndarray]) -> np.ndarray:
        return np.concatenate(parts).astype(float) if parts and n else np.zeros(0)

    return pd.DataFrame(
        {
            "sku": np.repeat([str(s) for s in skus], n),
            "month": [str(m) for m in months] * len(skus),
            "units": column(units),
            "p10": column(low),
            "p90": column(high),
            "model": np.repeat([r.model for r in results], n) if results else [],
        },
        columns=BASELINE_COLUMNS,
    )


def baseline_frame(
    actuals: pd.DataFrame,
    skus: list[str],
    months: list[str],
    *,
    origin: str,
    workers: int | None = None,
    progress: bool = False,
) -> pd.DataFrame:
    """The statistical baseline of ``skus`` for ``months``, fitted on actuals before ``origin``.

    Args:
        actuals: ``month, sku, units``; only months before ``origin`` are used.
        skus: every sku to forecast; one without actuals gets zeros ("no history").
        months: the months to forecast, none before ``origin``; they may start later than
            the month after the last actual: the forecast runs on to reach them.
        origin: the first month that is not history (the forecast is made "as of" it).
        workers: processes to fit in (default: one per core); small inputs run in-process.
        progress: show a progress bar on stderr.

    Returns:
        Columns ``sku, month, units, p10, p90, model`` (``BASELINE_COLUMNS``), one row per
        sku and month, skus and months in the given order; ``p10``/``p90`` the 80 % band,
        calibrated on the backtest errors of all ``skus`` together.
    """
    skus = [str(s) for s in skus]
    tasks, steps_of = _prepare(actuals, skus, months, str(origin))
    results = _fit_many(tasks, workers=workers, progress=progress)
    return _frame(skus, [str(m) for m in months], steps_of, results)


# --- the store -------------------------------------------------------------------------


def _store_baselines(store, frames: dict[str, pd.DataFrame], user: str) -> None:
    """Replace the baseline of each cycle with its frame, one audit row each, in one transaction."""
    with store.transaction() as cur:
        for cycle, frame in frames.items():
            old = cur.execute(SQL_COUNT_CYCLE, [cycle]).fetchone()[0]
            cur.execute(SQL_DELETE_CYCLE, [cycle])
            rows = frame.loc[:, BASELINE_COLUMNS].assign(cycle=cycle)
            cur.register("incoming_baseline", rows)
            cur.execute(SQL_INSERT_FRAME)
            cur.unregister("incoming_baseline")
            models = rows.drop_duplicates("sku")["model"].value_counts()
            detail = ", ".join(f"{m} {c}" for m, c in models.items())
            store.audit(
                cur,
                user,
                "forecast",
                "baseline",
                cycle,
                f"{old} rows",
                f"{len(rows)} rows",
                f"{rows['sku'].nunique()} skus x {rows['month'].nunique()} months; models: {detail}",
            )


def _products_skus(store) -> list[str]:
    products = store.read_table("products")
    if products.empty:
        raise PlanError(
            "No products are loaded: import a products table before computing the baseline."
        )
    return products["sku"].astype(str).tolist()


def run_forecast(
    store,
    cycle: str | None = None,
    *,
    progress: bool = True,
    history: bool = False,
    user: str | None = None,
    workers: int | None = None,
) -> pd.DataFrame:
    """Compute and store the statistical baseline of a cycle (default: the current cycle).

    A cycle's baseline is the forecast as it would have been made in that cycle:

    - the current cycle (or a later one, or one without forecasts): fitted on the actuals
      before the plan horizon's first month, over the plan horizon (``plandata.horizon``);
    - a past cycle (before the current one, with forecasts): fitted on the actuals before
      the cycle's month, over the months its forecasts cover from the cycle's month on (what
      the track record compares the human forecasts against: forecast value added) and the
      plan horizon's months (so the cycle can still be planned).

    With ``history`` every past cycle's baseline is computed and stored too. All fits run
    in one worker pool; each cycle's rows are replaced in one transaction with an audit row.

    Returns:
        The cycle's baseline: ``sku, month, units, model``.

    Raises:
        PlanError: no products are loaded.
    """
    skus = _products_skus(store)
    actuals = store.read_table("actuals")
    current, plan_months, past = _cycle_jobs(store, actuals)
    cycle = cycle or current or plan_months[0]
    jobs = {cycle: past.get(cycle, (plan_months[0], plan_months))}
    if history:
        for c, job in past.items():
            jobs.setdefault(c, job)
    frames = _baselines(actuals, skus, jobs, workers=workers, progress=progress)
    _store_baselines(store, frames, user or "system")
    return frames[cycle]


def _cycle_jobs(
    store, actuals: pd.DataFrame, before: str | None = None
) -> tuple[str | None, list[str], dict[str, tuple[str, list[str]]]]:
    """The current cycle, the plan horizon, and each past cycle's ``(origin, months)``.

    Past cycles: those in forecasts before ``before`` (default: the current cycle).
    """

    current = current_cycle(store)
    plan_months = horizon(store.settings(), actuals, current)
    before = before or current
    past: dict[str, tuple[str, list[str]]] = {}
    if before:
        rows = store.query(SQL_PAST_FORECAST_MONTHS, [before])
        for c, group in rows.groupby("cycle", sort=True):
            months = set(group["month"]) | {m for m in plan_months if m >= c}
            past[str(c)] = (str(c), sorted(months))
    return current, plan_months, past


def _baselines(
    actuals: pd.DataFrame,
    skus: list[str],
    jobs: dict[str, tuple[str, list[str]]],
    *,
    workers: int | None,
    progress: bool,
    on_progress: Callable[[FitProgress], None] | None = None,
) -> dict[str, pd.DataFrame]:
    """One baseline per cycle (``{cycle: (origin, months)}``), every fit in one worker pool."""
    prepared = {c: _prepare(actuals, skus, months, origin) for c, (origin, months) in jobs.items()}
    tasks = [t for tasks, _ in prepared.values() for t in tasks]
    results = _fit_many(tasks, workers=workers, progress=progress, on_progress=on_progress)
    frames, at = {}, 0
    for cycle, (cycle_tasks, steps_of) in prepared.items():
        part = results[at : at + len(cycle_tasks)]
        at += len(cycle_tasks)
        frames[cycle] = _frame(skus, jobs[cycle][1], steps_of, part)
    return frames


def _complete(stored: pd.DataFrame, skus: list[str], months: list[str]) -> bool:
    """Whether ``stored`` has a row for every sku and month."""
    if stored.empty:
        return False
    # Codes, not a set of tuples: a large company's baseline has millions of rows, and looking
    # each distinct sku and month up once is what keeps it fast.
    sku_index = pd.Index(list(dict.fromkeys(skus)))
    month_index = pd.Index(list(dict.fromkeys(months)))
    si = positions(sku_index, stored["sku"], month=False)
    mi = positions(month_index, stored["month"], month=False)
    inside = (si >= 0) & (mi >= 0)
    seen = np.zeros(len(sku_index) * len(month_index), dtype=bool)
    seen[si[inside].astype(np.int64) * len(month_index) + mi[inside]] = True
    return bool(seen.all())


def ensure_baseline(
    store,
    cycle: str,
    *,
    with_band: bool = False,
    require_band: bool = True,
    stored: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """The stored baseline of ``cycle`` (``sku, month, units``), computed first if missing.

    A stored baseline that lacks a row for any product's sku in any month the cycle's
    baseline covers (see ``run_forecast``) is recomputed and stored. With ``with_band`` the
    80 % band comes too (``sku, month, units, p10, p90``), and a stored baseline without it
    (stored before the band existed) is recomputed — unless ``require_band`` is False: then it
    comes as stored, its band NaN (the plan's path: refitting a large company's baseline for
    its band would take a page load an hour).

    ``stored``: the cycle's stored baseline with its band (``sku, month, units, p10, p90``, any
    order), when the caller has already read it (``load_plan_data``): not read again.
    """
    kept = complete_baseline(
        store, cycle, with_band=with_band, require_band=require_band, stored=stored
    )
    if kept is not None:
        return kept
    columns = ["sku", "month", "units", "p10", "p90"] if with_band else ["sku", "month", "units"]
    frame = run_forecast(store, cycle, progress=False)
    return frame.loc[:, columns].reset_index(drop=True)


def complete_baseline(
    store,
    cycle: str,
    *,
    with_band: bool = False,
    require_band: bool = True,
    stored: pd.DataFrame | None = None,
) -> pd.DataFrame | None:
    """``ensure_baseline``'s stored baseline when it is complete (nothing to fit), else None."""
    skus = _products_skus(store)
    _, plan_months, past = _cycle_jobs(store, store.query(SQL_LAST_ACTUAL_MONTH))
    _, months = past.get(cycle, (None, plan_months))
    columns = ["sku", "month", "units", "p10", "p90"] if with_band else ["sku", "month", "units"]
    if stored is None:
        sql = SQL_BAND_OF_CYCLE if with_band else SQL_BASELINE_OF_CYCLE
        stored = store.arrow(sql, [cycle]).to_pandas()
    else:
        stored = stored.loc[:, columns]
    banded = not with_band or not require_band or not stored[["p10", "p90"]].isna().any().any()
    return stored if banded and _complete(stored, skus, months) else None


def baseline_history(
    store, before_cycle: str, *, compute_missing: bool = True, progress: bool = False
) -> pd.DataFrame:
    """The baselines of the cycles before ``before_cycle``: ``cycle, sku, month, units, model``.

    This is the ``baseline_history`` argument of ``trackrecord.track_record``. With
    ``compute_missing`` every past cycle in forecasts whose stored baseline is missing or
    incomplete (e.g. after actuals were re-imported, which clears the baselines) is
    computed and stored first, all in one worker pool.
    """
    if compute_missing:
        skus = _products_skus(store)
        actuals = store.read_table("actuals")
        stored = store.query(SQL_BASELINE_BEFORE, [before_cycle])
        _, _, past = _cycle_jobs(store, actuals, before_cycle)
        jobs = {
            c: job
            for c, job in past.items()
            if not _complete(stored[stored["cycle"] == c], skus, job[1])
        }
        if jobs:
            frames = _baselines(actuals, skus, jobs, workers=None, progress=progress)
            _store_baselines(store, frames, "system")
    return store.query(SQL_BASELINE_BEFORE, [before_cycle])
