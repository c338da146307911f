"""Cached plans for the pages: each cycle's plan of record, its model, and what-ifs on that model."""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from concurrent.futures import Future, ThreadPoolExecutor

import numpy as np
import pandas as pd
import streamlit as st

from sop_core.meeting.record import PlanOfRecord, model_of_record, plan_of_record
from sop_core.meeting.scenarios import list_scenarios, usable_levers
from sop_core.plan.engine import compute
from sop_core.plan.levers import (
    Levers,
    levers_from_json,
    levers_to_strings,
    normalize_levers,
    parse_levers,
)
from sop_core.plan.ranges import PlanRanges
from sop_core.plan.sensitivity import sensitivity as plan_sensitivity
from sop_core.views.ranges import app_ranges, app_samples
from ui import background
from ui.connection import open_store
from ui.state import data_version, plan_data_at, selected_cycle

__all__ = [
    "model",
    "result",
    "base_result",
    "record",
    "cycle_plan",
    "saved_plans",
    "sensitivity",
    "ranges",
    "record_ranges",
    "record_levers",
    "ranges_progress",
    "wait_for_ranges",
    "BACKGROUND_CELLS",
    "levers_key",
]


def levers_key(levers: Levers | None) -> tuple:
    """A hashable, order-free key for a set of levers: their ``key[:q][@window]=value`` strings."""
    return tuple(levers_to_strings(normalize_levers(levers)))


@st.cache_resource(show_spinner="Preparing the plan for this cycle…", max_entries=6)
def _model(path: str, version: int, cycle: str | None):
    # the frames the pages read (state.plan_data): held once, not once more by the model; a
    # model prepared here is kept beside the store when the page's run ends (meeting.kept)
    data = plan_data_at(path, version, cycle)
    return model_of_record(open_store(path), cycle, data=data, version=version, keep=_hold)


# Plans under levers, most recently used last, within a memory budget: a demo plan is a few
# hundred KB and 64 of them cost nothing, while one plan of 100,000 skus × 36 months holds
# ~0.6 GB of arrays, and caching 64 of those would exhaust the server (docs/SCALING.md).
MAX_RESULTS = 64
BUDGET_ENV = "SOP_PLAN_CACHE_MB"
_results: OrderedDict[tuple, tuple[object, int]] = OrderedDict()
_results_lock = threading.Lock()


def _budget_bytes() -> int:
    try:
        return int(float(os.environ.get(BUDGET_ENV, "1024")) * 1e6)
    except ValueError:
        return 1_024_000_000


def nbytes(obj: object, depth: int = 0) -> int:
    """The memory of a plan's arrays and frames (the shared model not counted)."""
    if isinstance(obj, np.ndarray):
        return int(obj.nbytes)
    if isinstance(obj, pd.DataFrame):
        return int(obj.memory_usage(index=False).sum())
    if depth < 2 and hasattr(obj, "__dict__"):
        return sum(nbytes(v, depth + 1) for k, v in vars(obj).items() if k != "model")
    return 0


def _result(path: str, version: int, cycle: str | None, key: tuple):
    cache_key = (path, version, cycle, key)
    with _results_lock:
        hit = _results.get(cache_key)
        if hit is not None:
            _results.move_to_end(cache_key)
            return hit[0]
    levers = parse_levers(key)
    result = compute(_model(path, version, cycle), levers)
    size = nbytes(result)
    with _results_lock:
        _results[cache_key] = (result, size)
        total, budget = sum(s for _, s in _results.values()), _budget_bytes()
        # Oldest first; the plan just computed always stays.
        while len(_results) > 1 and (len(_results) > MAX_RESULTS or total > budget):
            _, (_, dropped) = _results.popitem(last=False)
            total -= dropped
    return result


@st.cache_resource(show_spinner=False, max_entries=8)
def _record(path: str, version: int, cycle: str | None) -> PlanOfRecord:
    return plan_of_record(open_store(path), cycle, model=_model(path, version, cycle))


@st.cache_data(show_spinner=False, max_entries=16)
def _sensitivity(path: str, version: int, cycle: str | None, key: tuple):
    return plan_sensitivity(_model(path, version, cycle), parse_levers(key))


def sensitivity(store, levers: Levers | None = None, cycle: str | None = None):
    """``plan.sensitivity`` of the cycle's model under ``levers`` (cached per data version)."""
    cycle = cycle or selected_cycle(store)
    return _sensitivity(str(store.path), _version(store, None), cycle, levers_key(levers))


def _version(store, version: int | None) -> int:
    return data_version(store) if version is None else version


def model(store, cycle: str | None = None, *, version: int | None = None):
    """The model the cycle's plan of record is computed on (frozen for a locked cycle), prepared
    once per data version.

    ``version``: the data version if the caller already has it (saves a query per call).
    """
    return _model(str(store.path), _version(store, version), cycle or selected_cycle(store))


def result(
    store, levers: Levers | None = None, cycle: str | None = None, *, version: int | None = None
):
    """A what-if: the plan of the cycle's model under ``levers`` (cached per cycle, data version
    and levers). The plan of record itself is ``record(...).result``."""
    cycle = cycle or selected_cycle(store)
    return _result(str(store.path), _version(store, version), cycle, levers_key(levers))


def base_result(store, cycle: str | None = None, *, version: int | None = None):
    """The plan with no levers: the data as imported (as locked, for a locked cycle)."""
    return result(store, None, cycle, version=version)


def record(store, cycle: str | None = None, *, version: int | None = None) -> PlanOfRecord:
    """The cycle's plan of record (locked, else the promoted scenario, else the base plan)."""
    cycle = cycle or selected_cycle(store)
    return _record(str(store.path), _version(store, version), cycle)


def cycle_plan(store, cycle: str | None = None):
    """(result, label, warnings) of the cycle's plan of record, for a page's headline."""
    rec = record(store, cycle)
    return rec.result, rec.label, list(rec.warnings)


def saved_plans(store, cycle: str | None = None) -> dict[str, object]:
    """Each saved scenario of the cycle computed on the cycle's model (cached per levers)."""
    cycle = cycle or selected_cycle(store)
    if not cycle:
        return {}
    m = model(store, cycle)
    out = {}
    for sc in list_scenarios(store, cycle).itertuples(index=False):
        items = levers_to_strings(levers_from_json(sc.levers))
        levers, _dropped = usable_levers(items, m.families, m.resources, m.months)
        out[sc.name] = result(store, levers, cycle)
    return out


# Ranges (sampled demand paths) of a plan, per data version, cycle and levers: a few hundred KB
# each; the first page to ask draws them, the others reuse them.
MAX_RANGES = 16
_ranges: OrderedDict[tuple, PlanRanges] = OrderedDict()
_ranges_lock = threading.Lock()
# Paths × months × skus above which the ranges are drawn in the background, so that a page shows
# its figures at once and the range when it is ready: 100 paths of a 100,000-sku plan take ~40 s,
# the demo's 500 paths 0.1 s (docs/SCALING.md). One drawing at a time: each uses both cores'
# worth of numpy, and two would only share them.
BACKGROUND_CELLS = 20_000_000
_drawing: dict[tuple, Future] = {}
_drawn_paths: dict[tuple, tuple[int, int]] = {}  # (paths planned, samples) while drawing
_pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sop-ranges")
# Drawings asked for during a page run, started when the run ends (``start_held``, app.py): the
# rest of the page would otherwise share the cores with them (a large plan's root causes,
# figures and tables: about a second at 100,000 skus).
_held: list[tuple[tuple, object, Future]] = []


def _keep(key: tuple, drawn: PlanRanges) -> None:
    with _ranges_lock:
        _ranges[key] = drawn
        while len(_ranges) > MAX_RANGES:
            _ranges.popitem(last=False)


def _draw(key: tuple, point) -> PlanRanges:
    """The background drawing: kept in the cache when done; a failure stays in ``_drawing``
    so that every page asking for these ranges says why (until the data changes)."""

    def progress(done: int, total: int) -> None:
        _drawn_paths[key] = (done, total)
        background.after_urgent()  # a page being run goes first (one path at most waits)

    drawn = app_ranges(point, progress=progress)
    _keep(key, drawn)
    with _ranges_lock:
        _drawing.pop(key, None)
        _drawn_paths.pop(key, None)
    return drawn


def _draw_into(key: tuple, point, future: Future) -> None:
    background.after_urgent()  # a track record being scored goes first
    if not future.set_running_or_notify_cancel():
        return
    try:
        drawn = _draw(key, point)
    except BaseException as exc:  # kept in the future: the pages say why
        future.set_exception(exc)
    else:
        future.set_result(drawn)


# Prepared models to keep beside the store (``_model``), written when the page's run ends:
# about 0.5 s of writing at 100,000 skus that the first page does not wait for.
_held_keeping: list = []
_keeping = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sop-keep")


def _hold(job) -> None:
    with _ranges_lock:
        _held_keeping.append(job)


def start_held() -> None:
    """Start the background work the page run asked for (the drawings, the keeping of a model):
    called when the run ends."""
    with _ranges_lock:
        held, keeping = list(_held), list(_held_keeping)
        _held.clear()
        _held_keeping.clear()
    for key, point, future in held:
        _pool.submit(_draw_into, key, point, future)
    for job in keeping:
        _keeping.submit(job)


def _ranges_key(store, levers, cycle, version) -> tuple:
    cycle = cycle or selected_cycle(store)
    return (str(store.path), _version(store, version), cycle, levers_key(levers))


def ranges(
    store,
    levers: Levers | None = None,
    cycle: str | None = None,
    *,
    version: int | None = None,
    wait: bool = True,
) -> PlanRanges | None:
    """``views.ranges.app_ranges`` of the plan under ``levers`` (cached per cycle, data version
    and levers).

    Drawn at once under a spinner, unless ``wait`` is False and the paths hold more than
    ``BACKGROUND_CELLS`` sku-months in all: then drawn in the background from the end of the
    page run (``start_held``), and None until they are (``ranges_progress`` says how far;
    ``wait_for_ranges`` shows it).

    Raises:
        SopError: the ranges cannot be drawn (also when a background drawing failed).
    """
    key = _ranges_key(store, levers, cycle, version)
    _path, version, cycle, _levers = key
    with _ranges_lock:
        hit = _ranges.get(key)
        if hit is not None:
            _ranges.move_to_end(key)
            return hit
        pending = _drawing.get(key)
    if pending is not None:
        if not wait and not pending.done():
            return None
        with background.yielding():  # the drawing pauses for page runs, but not for this one
            return pending.result()  # the drawing's figures, or the reason it failed
    point = result(store, levers, cycle, version=version)
    samples = app_samples(point)
    if wait or point.model.demand.size * samples <= BACKGROUND_CELLS:
        with st.spinner(f"Sampling {samples:,} demand paths…"):
            drawn = app_ranges(point)
        _keep(key, drawn)
        return drawn
    with _ranges_lock:
        if key not in _drawing and key not in _ranges:
            _drawn_paths[key] = (0, samples)
            _drawing[key] = future = Future()
            _held.append((key, point, future))
    return None


def ranges_progress(
    store, levers: Levers | None = None, cycle: str | None = None
) -> tuple[int, int] | None:
    """(paths planned, samples) of ranges being drawn in the background; None when they are
    drawn, failed or not asked for."""
    key = _ranges_key(store, levers, cycle, None)
    with _ranges_lock:
        pending = _drawing.get(key)
        if pending is None or pending.done():
            return None
        return _drawn_paths.get(key, (0, 0))


def record_ranges(store, cycle: str | None = None, *, wait: bool = True) -> PlanRanges | None:
    """The ranges of the cycle's plan of record (its model and levers); ``wait`` as ``ranges``."""
    cycle = cycle or selected_cycle(store)
    version = _version(store, None)
    levers = record(store, cycle, version=version).levers
    return ranges(store, levers, cycle, version=version, wait=wait)


def record_levers(store, cycle: str | None = None) -> Levers:
    """The levers of the cycle's plan of record."""
    return record(store, cycle).levers


POLL_SECONDS = 2.0


def wait_for_ranges(store, levers_list: list[Levers], cycle: str | None, what: str) -> None:
    """Where ranges drawn in the background will show: how many paths are planned, checked
    every ``POLL_SECONDS``; the page runs again when every one of ``levers_list`` is drawn."""

    @st.fragment(run_every=POLL_SECONDS)
    def poll() -> None:
        states = [ranges_progress(store, levers, cycle) for levers in levers_list]
        pending = [s for s in states if s is not None]
        if not pending:
            st.rerun()  # drawn (or failed): the page shows them (or says why not)
        done, total = sum(d for d, _ in pending), sum(t for _, t in pending)
        st.progress(
            done / total if total else 0.0,
            text=f"Drawing {what} over {total:,} demand paths in the background: {done:,} "
            "planned so far. The figures above are final; the range shows here when ready.",
        )

    poll()
