"""Bench only: statsforecast's AutoETS, AutoTheta and AutoARIMA on series given in a file.

statsforecast needs pandas < 3, which the app's environment does not have, so it lives in
its own environment and ``bench_forecast.py`` runs this script there (``--statsforecast``):

    python -m venv bench/.venv
    bench/.venv/bin/pip install -r bench/requirements-statsforecast.txt

Usage: ``bench/.venv/bin/python bench/bench_statsforecast.py IN.npz OUT.npz [--jobs 2]``.
IN.npz holds ``y_0, y_1, ...`` (the training series) and ``h`` (the horizons); OUT.npz
gets, per model, ``MODEL`` (forecasts), ``MODEL-lo-80`` and ``MODEL-hi-80`` (the 80 %
intervals), each an array (series x max horizon, nan past a series' horizon), and
``seconds`` (the wall time of the fit).
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np
import pandas as pd

MODELS = ("AutoETS", "AutoTheta", "AutoARIMA")


def main(argv: list[str] | None = None) -> int:
    """Fit the three models on every series of IN.npz and write their forecasts to OUT.npz."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("inp")
    p.add_argument("out")
    p.add_argument("--jobs", type=int, default=2)
    args = p.parse_args(argv)

    from statsforecast import StatsForecast
    from statsforecast.models import AutoARIMA, AutoETS, AutoTheta

    data = np.load(args.inp)
    horizons = np.asarray(data["h"], dtype=int)
    series = [np.asarray(data[f"y_{i}"], dtype=float) for i in range(len(horizons))]
    out: dict[str, np.ndarray] = {}
    start = time.perf_counter()
    # one call per distinct horizon (statsforecast forecasts one h for all series)
    for h in sorted(set(horizons.tolist())):
        chosen = [i for i, hh in enumerate(horizons) if hh == h]
        frame = pd.concat(
            [
                pd.DataFrame({"unique_id": i, "ds": np.arange(len(series[i])), "y": series[i]})
                for i in chosen
            ],
            ignore_index=True,
        )
        sf = StatsForecast(
            models=[AutoETS(season_length=12), AutoTheta(season_length=12),
                    AutoARIMA(season_length=12)],
            freq=1, n_jobs=args.jobs,
        )  # fmt: skip
        fc = sf.forecast(df=frame, h=int(h), level=[80])
        for col in [c for c in fc.columns if c.split("-")[0] in MODELS]:
            table = out.setdefault(col, np.full((len(series), horizons.max()), np.nan))
            for i in chosen:
                values = fc.loc[fc["unique_id"] == i, col].to_numpy(dtype=float)
                table[i, : len(values)] = values
    out["seconds"] = np.array(time.perf_counter() - start)
    np.savez(args.out, **out)
    print(f"statsforecast: {len(series)} series in {out['seconds']:.0f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
