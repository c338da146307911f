"""The statistical baseline: exponential smoothing per sku, chosen by AICc, stored per cycle.

Method (docs/FORECASTING.md has the measurements behind each choice):

- **>= 24 months of history**: Holt-Winters exponential smoothing (statsmodels), every
  candidate fitted by least squares, the one with the lowest AICc kept. Candidates:
  ETS(A,N,N), ETS(A,Ad,N), ETS(A,N,A), ETS(A,Ad,A), and, when every month of the history is
  above 0, ETS(A,N,M) and ETS(A,Ad,M) (multiplicative seasonality, period 12). When a
  seasonality test finds a yearly pattern (F-test of 11 month dummies over a linear trend,
  5 % level) only the seasonal candidates compete: with 24-35 months AICc charges the 12
  seasonal parameters so heavily that it would pick a flat forecast for a plainly seasonal
  sku. The undamped additive trend is left out: on the M3 backtest it made the forecasts
  worse (it extrapolates a trend for 18 months) and cost a third of the time.
- **12-23 months**: seasonal naive (each month repeats the same month of the last year).
- **1-11 months**: the mean of the last (up to) 3 months, flat.
- **no history, or only zeros**: zeros.

A fit that fails, or a forecast that is not finite or explodes (above 10 x the history's
maximum), drops that candidate; when none is left the seasonal naive is used. Forecasts are
never negative (clipped at 0).

The history of a sku runs from its first month with actuals to the last month with actuals
of any sku before the origin; months missing inside it are 0 units.
"""

from __future__ import annotations

import importlib.machinery
import math
import multiprocessing
import os
import sys
import threading
import time
import types
import warnings
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
import pandas as pd

from sop_core.errors import PlanError
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
    "fit_baseline",
    "seasonal_naive",
    "is_seasonal",
    "baseline_frame",
    "run_forecast",
    "ensure_baseline",
    "baseline_history",
    "FitProgress",
]

SEASON = 12
MIN_SEASONAL_HISTORY = 24  # two full years: the exponential smoothing candidates
MIN_SNAIVE_HISTORY = 12  # one full year: seasonal naive
SHORT_MEAN_MONTHS = 3  # shorter histories: the mean of the last 3 months
SEASONALITY_ALPHA = 0.05  # the seasonality test's level
PARALLEL_MIN_SERIES = 40  # fewer series are fitted in-process: starting workers costs more
EXPLOSION_FACTOR = 10.0  # a forecast above 10 x the history's max is an unstable fit

BASELINE_COLUMNS = ["sku", "month", "units", "model"]

# (trend, damped, seasonal): the candidate set, and whether it needs a positive series.
_CANDIDATES: tuple[tuple[str | None, bool, str | None], ...] = (
    (None, False, None),
    ("add", True, None),
    (None, False, "add"),
    ("add", True, "add"),
    (None, False, "mul"),
    ("add", True, "mul"),
)

LABEL_ZEROS = "zeros"
LABEL_NO_HISTORY = "no history"
LABEL_SNAIVE = "seasonal naive"
LABEL_FALLBACK = "seasonal naive (fallback)"

SQL_DELETE_CYCLE = "DELETE FROM baseline WHERE cycle = ?"
SQL_COUNT_CYCLE = "SELECT count(*) FROM baseline WHERE cycle = ?"
SQL_INSERT_FRAME = """
INSERT INTO baseline (cycle, month, sku, units, model)
SELECT CAST(cycle AS VARCHAR), CAST(month AS VARCHAR), CAST(sku AS VARCHAR),
       CAST(units AS DOUBLE), CAST(model AS VARCHAR)
FROM incoming_baseline
"""
SQL_BASELINE_OF_CYCLE = "SELECT sku, month, units FROM baseline WHERE cycle = ? ORDER BY sku, month"
SQL_BASELINE_BEFORE = """
SELECT cycle, sku, month, units, model FROM baseline WHERE cycle < ? ORDER BY cycle, sku, month
"""
SQL_PAST_FORECAST_MONTHS = """
SELECT DISTINCT cycle, month FROM forecasts WHERE cycle < ? AND month >= cycle ORDER BY cycle, month
"""


# --- one series ----------------------------------------------------------------------


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


def _fit_exponential_smoothing(y: np.ndarray, steps: int) -> tuple[np.ndarray, str] | None:
    """The lowest-AICc candidate's forecast and label, or None if every candidate failed."""
    n = len(y)
    positive = bool(np.all(y > 0))
    seasonal_only = is_seasonal(y)
    ceiling = EXPLOSION_FACTOR * float(np.max(y))
    best: tuple[float, np.ndarray, str] | None = None
    for trend, damped, seasonal in _CANDIDATES:
        if (seasonal == "mul" and not positive) or (seasonal_only and seasonal is None):
            continue
        try:
            forecast, sse = _fit_ets(y, trend, damped, seasonal, steps)
        except Exception:  # noqa: BLE001 - any failure of one candidate just drops it
            continue
        if not np.all(np.isfinite(forecast)) or not np.isfinite(sse):
            continue
        if np.max(forecast) > ceiling:
            continue
        score = _aicc(sse, n, _n_params(trend, damped, seasonal))
        if best is None or score < best[0]:
            best = (score, forecast, _label(trend, damped, seasonal))
    return None if best is None else (best[1], best[2])


def fit_baseline(history: np.ndarray, steps: int) -> tuple[np.ndarray, str]:
    """The baseline forecast of one monthly series and the name of the model used.

    Args:
        history: units per month, oldest first, no gaps (missing months as 0).
        steps: how many months to forecast after the last one of ``history``.

    Returns:
        ``(forecast, model)``: ``steps`` values, never negative, and a label such as
        ``"ETS(A,Ad,A)"``, ``"seasonal naive"``, ``"mean of last 3 months"``, ``"zeros"``.
    """
    y = np.asarray(history, dtype=float)
    steps = int(steps)
    if steps <= 0:
        return np.zeros(0), LABEL_NO_HISTORY if len(y) == 0 else LABEL_ZEROS
    if len(y) == 0:
        return np.zeros(steps), LABEL_NO_HISTORY
    y = np.where(np.isfinite(y), y, 0.0)
    if not np.any(y != 0):
        return np.zeros(steps), LABEL_ZEROS
    n = len(y)
    if n < MIN_SNAIVE_HISTORY:
        k = min(SHORT_MEAN_MONTHS, n)
        level = max(0.0, float(np.mean(y[-k:])))
        return np.full(steps, level), f"mean of last {k} month{'s' if k > 1 else ''}"
    if n < MIN_SEASONAL_HISTORY:
        return np.maximum(seasonal_naive(y, steps), 0.0), LABEL_SNAIVE
    fitted = _fit_exponential_smoothing(y, steps)
    if fitted is None:
        return np.maximum(seasonal_naive(y, steps), 0.0), LABEL_FALLBACK
    forecast, label = fitted
    return np.maximum(forecast, 0.0), label


# --- many series -----------------------------------------------------------------------


def _fit_chunk(tasks: list[tuple[np.ndarray, int]]) -> list[tuple[np.ndarray, str]]:
    return [fit_baseline(y, steps) for y, steps in tasks]


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


_MAIN_SWAP = threading.Lock()


@contextmanager
def _workers_never_run_main():
    """Start worker processes without re-running the caller's ``__main__`` script in them.

    "spawn" and "forkserver" workers re-run the parent's main script when it was started from a
    file. Streamlit (and its AppTest) runs each page as ``__main__``, so a worker would run the
    app itself. While the workers start, ``__main__`` is a stub named like a package's
    ``__main__``, which workers skip; a main started with ``python -m`` is already skipped.
    """
    main = sys.modules.get("__main__")
    if getattr(getattr(main, "__spec__", None), "name", None):
        yield
        return
    stub = types.ModuleType("__main__")
    stub.__spec__ = importlib.machinery.ModuleSpec("sop_core.__main__", None)
    with _MAIN_SWAP:
        sys.modules["__main__"] = stub
        try:
            yield
        finally:
            sys.modules["__main__"] = main


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
) -> list[tuple[np.ndarray, str]]:
    """``fit_baseline`` over every task, in order; in worker processes for large inputs.

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
        if workers == 1 or len(tasks) < PARALLEL_MIN_SERIES:
            results = []
            for y, steps in tasks:
                results.append(fit_baseline(y, steps))
                report(1)
            return results
        # Chunks: few enough to keep the pickling small, many enough to balance the load.
        size = max(5, min(50, math.ceil(len(tasks) / (workers * 8))))
        chunks = [(i, tasks[i : i + size]) for i in range(0, len(tasks), size)]
        results: list = [None] * len(tasks)
        with _workers_never_run_main():  # every worker starts here
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


def _frame(skus: list[str], months: list[str], steps_of: list[int], results: list) -> pd.DataFrame:
    idx = np.asarray(steps_of, dtype=int) - 1
    n = len(months)
    units = np.concatenate([f[idx] for f, _ in results]) if results and n else np.zeros(0)
    return pd.DataFrame(
        {
            "sku": np.repeat([str(s) for s in skus], n),
            "month": [str(m) for m in months] * len(skus),
            "units": units.astype(float),
            "model": np.repeat([label for _, label in results], n) if results else [],
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
        Columns ``sku, month, units, model``, one row per sku and month, skus and months in
        the given order.
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
    have = set(zip(stored["sku"].astype(str), stored["month"].astype(str), strict=True))
    return all((s, m) in have for s in skus for m in months)


def ensure_baseline(store, cycle: str) -> pd.DataFrame:
    """The stored baseline of ``cycle`` (``sku, month, units``), computed first if missing.

    A stored baseline that lacks a row for any product's sku in any month the cycle's
    baseline covers (see ``run_forecast``) is recomputed and stored.
    """
    skus = _products_skus(store)
    _, plan_months, past = _cycle_jobs(store, store.read_table("actuals"))
    _, months = past.get(cycle, (None, plan_months))
    stored = store.query(SQL_BASELINE_OF_CYCLE, [cycle])
    if _complete(stored, skus, months):
        return stored
    frame = run_forecast(store, cycle, progress=False)
    return frame.loc[:, ["sku", "month", "units"]].reset_index(drop=True)


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
