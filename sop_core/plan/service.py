"""The plan of a store's cycle: its data read, the baseline fitted where needed, the bias verdicts scored, prepared."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pandas as pd

from sop_core.codes import positions, rows_in
from sop_core.forecasting.baseline import complete_baseline, ensure_baseline
from sop_core.forecasting.trackrecord import (
    scored_points,
    source_bias,
    source_spread,
    track_record,
)
from sop_core.plan.model import Model, prepare, with_bias
from sop_core.store.plandata import PlanData, load_plan_data

__all__ = [
    "with_baseline",
    "bias_scores",
    "bias_verdicts",
    "prepared",
    "model_for_data",
    "model_for_store",
]


def _needs_baseline(data: PlanData) -> bool:
    """True when some sku-month of the horizon has neither a consensus nor a sales forecast."""
    fc = data.tables["forecasts"]
    n_needed = data.tables["products"]["sku"].nunique() * len(data.months)
    if data.cycle is None or fc.empty:
        return n_needed > 0
    wanted = rows_in(fc["cycle"], [data.cycle], month=True) & rows_in(
        fc["source"], ["consensus", "sales"]
    )
    # Codes, not strings, and no filtered copy of the frame: millions of forecast rows for a
    # large company.
    skus = pd.Index(data.tables["products"]["sku"].astype(str).unique())
    si = positions(skus, fc["sku"], month=False)
    mi = positions(pd.Index(list(data.months)), fc["month"], month=True)
    inside = wanted & (si >= 0) & (mi >= 0)
    seen = np.zeros(len(skus) * len(data.months), dtype=bool)
    seen[si[inside].astype(np.int64) * len(data.months) + mi[inside]] = True
    covered = int(seen.sum())
    return covered < n_needed


# the plan's baseline: with its band as stored (NaN where it has none: refitting a large
# company's baseline for its band would take an hour)
_BAND = {"with_band": True, "require_band": False}


def with_baseline(store, data: PlanData) -> PlanData:
    """The data with its cycle's statistical baseline, fitted (and stored) where a sku-month of
    the horizon has neither a consensus nor a sales forecast."""
    read = data.cycle is not None and {"p10", "p90"} <= set(data.baseline.columns)
    # A stored baseline that covers every sku-month leaves nothing to fit, whatever the
    # forecasts cover: the data as read (the check costs less than the forecasts' coverage).
    if read and complete_baseline(store, data.cycle, stored=data.baseline, **_BAND) is not None:
        return data
    if not _needs_baseline(data):
        return data
    # without a cycle (no forecasts at all) the baseline is kept under the first plan month;
    # with its band as stored, the spread of the demand ranges (plan.ranges)
    cycle = data.cycle or data.months[0]
    # the cycle's baseline as load_plan_data read it
    baseline = ensure_baseline(store, cycle, stored=data.baseline if read else None, **_BAND)
    return data if baseline is None else data.with_baseline(baseline)


def _scorable(data: PlanData) -> bool:
    return data.cycle is not None and not data.tables["actuals"].empty


def bias_scores(data: PlanData) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The track record of the cycle's past forecasts and each source's spread by family: the
    part of ``bias_verdicts`` the tolerance does not change (needs a cycle and actuals)."""
    actuals, products = data.tables["actuals"], data.tables["products"]
    points = scored_points(actuals, data.tables["forecasts"], current_cycle=data.cycle)
    track = track_record(
        actuals, data.tables["forecasts"], products, current_cycle=data.cycle, points=points
    )
    spread = source_spread(points, products)[["source", "family", "log_ratio_mean", "log_ratio_sd"]]
    return track, spread


def bias_verdicts(
    data: PlanData, scores: tuple[pd.DataFrame, pd.DataFrame] | None = None
) -> pd.DataFrame | None:
    """Each source's bias verdict by family from the track record (None: nothing to score), with
    its spread (``trackrecord.source_spread``: ``log_ratio_mean``, ``log_ratio_sd``, NaN where
    the source has no scored point), the uncertainty of the months it drives in the demand
    ranges. ``scores``: ``bias_scores(data)``, when worked out already."""
    if not _scorable(data):
        return None  # no past cycle can be scored
    track, spread = scores if scores is not None else bias_scores(data)
    bias = source_bias(track, data.settings.tolerance_pct)
    return bias.merge(spread, on=["source", "family"], how="left")


def prepared(
    store, data: PlanData, settle: Callable[[PlanData], PlanData] | None = None
) -> tuple[PlanData, pd.DataFrame | None, Model]:
    """The data with its baseline (fitted where needed) and ``settle``'s changes to it, its bias
    verdicts, and the model prepared from them.

    The track record is scored in a second thread while the baseline is checked and the arrays
    are prepared: neither needs the other (its verdicts go into the model at the end,
    ``model.with_bias``), and for a large company each is seconds.
    """
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="sop-scores") as pool:
        scores = pool.submit(bias_scores, data) if _scorable(data) else None
        live = with_baseline(store, data)
        if settle is not None:
            live = settle(live)
        model = prepare(live)
        bias = bias_verdicts(live, scores.result()) if scores is not None else None
    return live, bias, with_bias(model, bias)


def model_for_data(store, data: PlanData) -> Model:
    """The plan data prepared, with the baseline fitted where needed and the bias verdicts scored."""
    return prepared(store, data)[2]


def model_for_store(store, cycle: str | None = None) -> Model:
    """A store's cycle (default: the current cycle) prepared for ``compute``.

    The baseline comes from ``forecast.ensure_baseline`` when some sku-month of the horizon has
    neither a consensus nor a sales forecast; the bias verdicts from the track record.

    Raises:
        PlanError: no products.
    """

    return model_for_data(store, load_plan_data(store, cycle))
