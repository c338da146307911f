"""Cached, lever-free views the pages share: the forecast track record and the history tables."""

from __future__ import annotations

import threading
from collections import OrderedDict
from concurrent.futures import Future, ThreadPoolExecutor

import pandas as pd
import streamlit as st

from sop_core.forecasting.trackrecord import (
    SCORED_LAGS,
    forecast_value_added,
    source_bias,
    track_record,
)
from sop_core.meeting.kept import keep_frame, kept_key, read_kept_frame
from sop_core.views.review import assumption_tests_for
from ui import background, plan
from ui.connection import open_store
from ui.state import data_version, plan_data, selected_cycle

__all__ = ["track_tables", "score_in_background", "assumption_tests"]

# Only the months the track record scores (lags 1 to SCORED_LAGS: the cycle's own month and the
# next two), in stored order (it sums by keys, so a sort buys nothing): a past cycle's baseline
# covers its whole horizon, 11.4 M rows at 100,000 skus, of which 0.9 M are scored.
SQL_BASELINE_HISTORY = f"""
SELECT cycle, sku, month, units FROM baseline
WHERE cycle < ? AND month >= cycle
  AND month < strftime(strptime(cycle, '%Y-%m') + INTERVAL {SCORED_LAGS} MONTH, '%Y-%m')
"""


# The track record of a data version and cycle, scored once in a worker thread and shared by
# every session: at 100,000 skus it takes about 4 s, so the Executive summary, where the meeting
# opens, starts it when its own figures are out (``score_in_background``); the Demand review
# waits for it under its spinner if it is not done yet. A failure stays with its key, so that
# each visit says why (until the data changes).
MAX_TRACKS = 4
TRACK = "track"  # kept beside the store as <store>.track.parquet
_tracks: OrderedDict[tuple, Future] = OrderedDict()
_tracks_lock = threading.Lock()
_pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sop-track")


def _score(store, cycle: str | None, data, key: str | None):
    # read from beside the store when a server scored this data already (meeting.kept)
    track = read_kept_frame(store, TRACK, key)
    if track is None:
        # the statistical baselines of past cycles (what forecast value added compares against)
        history = store.arrow(SQL_BASELINE_HISTORY, [cycle or ""]).to_pandas()
        track = track_record(
            data.actuals,
            data.forecasts,
            data.products,
            current_cycle=cycle,
            baseline_history=history,
        )
        keep_frame(store, TRACK, key, track)
    return track, source_bias(track, data.settings.tolerance_pct), forecast_value_added(track)


def _track(store, cycle: str | None) -> Future:
    cycle = cycle or selected_cycle(store)
    version = data_version(store)
    key = (str(store.path), version, cycle)
    with _tracks_lock:
        future = _tracks.get(key)
        if future is not None:
            _tracks.move_to_end(key)
            return future
    data = plan_data(store, cycle)  # the frames the pages hold (cached per data version)
    kept = kept_key(store, cycle, version)  # a query: not under the lock
    with _tracks_lock:
        future = _tracks.get(key)
        if future is None:
            future = _tracks[key] = background.urgent(
                _pool.submit(_score, store, cycle, data, kept)
            )
            while len(_tracks) > MAX_TRACKS:
                _tracks.popitem(last=False)
    return future


def score_in_background(store, cycle: str | None = None) -> None:
    """Start scoring the cycle's track record (``track_tables``) if nothing has yet."""
    _track(store, cycle)


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
    """(track record by source/family/lag, bias verdicts pooled over lags 1-3, forecast value
    added), scored once per data version and cycle (the same frames for every session: not to be
    changed in place)."""
    future = _track(store, cycle)
    if not future.done():
        with st.spinner("Scoring past forecasts…"):
            return future.result()
    return future.result()
