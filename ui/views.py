"""Cached, lever-free views the pages share: the forecast track record and the history tables."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from sop_core.forecasting.trackrecord import (
    SCORED_LAGS,
    forecast_value_added,
    source_bias,
    track_record,
)
from sop_core.views.review import assumption_tests_for
from ui import plan
from ui.connection import open_store
from ui.state import data_version, plan_data, selected_cycle

__all__ = ["track_tables", "baseline_history", "assumption_tests"]

# Only the months the track record scores (lags 1 to SCORED_LAGS: the cycle's own month and the
# next two), in stored order (it sums by keys, so a sort buys nothing): a past cycle's baseline
# covers its whole horizon, 11.4 M rows at 100,000 skus, of which 0.9 M are scored.
SQL_BASELINE_HISTORY = f"""
SELECT cycle, sku, month, units FROM baseline
WHERE cycle < ? AND month >= cycle
  AND month < strftime(strptime(cycle, '%Y-%m') + INTERVAL {SCORED_LAGS} MONTH, '%Y-%m')
"""


# Held once, not pickled per page run (nothing changes it).
@st.cache_resource(show_spinner=False, max_entries=2)
def _baseline_history(path: str, version: int, cycle: str) -> pd.DataFrame:
    return open_store(path).arrow(SQL_BASELINE_HISTORY, [cycle]).to_pandas()


def baseline_history(store, cycle: str | None = None) -> pd.DataFrame:
    """The statistical baselines of past cycles (what forecast value added compares against)."""
    cycle = cycle or selected_cycle(store)
    return _baseline_history(str(store.path), data_version(store), cycle or "")


@st.cache_data(show_spinner="Scoring past forecasts…", max_entries=8)
def _track(path: str, version: int, cycle: str | None, _data, _history):
    track = track_record(
        _data.actuals,
        _data.forecasts,
        _data.products,
        current_cycle=cycle,
        baseline_history=_history,
    )
    return track, source_bias(track, _data.settings.tolerance_pct), forecast_value_added(track)


@st.cache_data(show_spinner="Testing the plan's assumptions against the actuals…", max_entries=8)
def _assumption_tests(path: str, version: int, cycle: str | None, _record, _data):
    return assumption_tests_for(
        open_store(path), _record, actuals=_data.actuals, forecasts=_data.forecasts
    )


def assumption_tests(store, cycle: str | None = None) -> pd.DataFrame:
    """``views.review.assumption_tests_for`` of the cycle's plan of record, on the actuals and
    forecasts the pages hold (``state.plan_data``), cached per data version: a large company's
    tables are millions of rows, read and sorted again on every visit before."""
    cycle = cycle or selected_cycle(store)
    version = data_version(store)
    record = plan.record(store, cycle, version=version)
    return _assumption_tests(str(store.path), version, cycle, record, plan_data(store, cycle))


def track_tables(store, cycle: str | None = None):
    """(track record by source/family/lag, bias verdicts pooled over lags 1-3, forecast value added)."""
    cycle = cycle or selected_cycle(store)
    data = plan_data(store, cycle)
    return _track(str(store.path), data_version(store), cycle, data, baseline_history(store, cycle))
