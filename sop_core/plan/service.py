"""The plan of a store's cycle: its data read, the baseline fitted where needed, the bias verdicts scored, prepared."""

from __future__ import annotations

import numpy as np
import pandas as pd

from sop_core.forecasting.baseline import ensure_baseline
from sop_core.forecasting.trackrecord import source_bias, track_record
from sop_core.plan.model import Model, positions, prepare
from sop_core.store.plandata import PlanData, load_plan_data


def _needs_baseline(data: PlanData) -> bool:
    """True when some sku-month of the horizon has neither a consensus nor a sales forecast."""
    fc = data.tables["forecasts"]
    n_needed = data.tables["products"]["sku"].nunique() * len(data.months)
    if data.cycle is None or fc.empty:
        return n_needed > 0
    fc = fc[
        (fc["cycle"].astype(str).str.slice(0, 7) == data.cycle)
        & fc["source"].isin(["consensus", "sales"])
    ]
    # Codes, not strings: millions of forecast rows for a large company.
    skus = pd.Index(data.tables["products"]["sku"].astype(str).unique())
    si = positions(skus, fc["sku"], month=False)
    mi = positions(pd.Index(list(data.months)), fc["month"], month=True)
    inside = (si >= 0) & (mi >= 0)
    seen = np.zeros(len(skus) * len(data.months), dtype=bool)
    seen[si[inside].astype(np.int64) * len(data.months) + mi[inside]] = True
    covered = int(seen.sum())
    return covered < n_needed


def with_baseline(store, data: PlanData) -> PlanData:
    if not _needs_baseline(data):
        return data
    # without a cycle (no forecasts at all) the baseline is kept under the first plan month
    baseline = ensure_baseline(store, data.cycle or data.months[0])
    return data if baseline is None else data.with_baseline(baseline)


def _bias(data: PlanData) -> pd.DataFrame | None:
    if data.cycle is None or data.tables["actuals"].empty:
        return None  # no past cycle can be scored
    track = track_record(
        data.tables["actuals"],
        data.tables["forecasts"],
        data.tables["products"],
        current_cycle=data.cycle,
    )
    return source_bias(track, data.settings.tolerance_pct)


def model_for_data(store, data: PlanData) -> Model:
    """The plan data prepared, with the baseline fitted where needed and the bias verdicts scored."""
    data = with_baseline(store, data)
    return prepare(data, bias=_bias(data))


def model_for_store(store, cycle: str | None = None) -> Model:
    """A store's cycle (default: the current cycle) prepared for ``compute``.

    The baseline comes from ``forecast.ensure_baseline`` when some sku-month of the horizon has
    neither a consensus nor a sales forecast; the bias verdicts from the track record.

    Raises:
        PlanError: no products.
    """

    return model_for_data(store, load_plan_data(store, cycle))
