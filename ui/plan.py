"""Cached plans for the pages: the prepared model per cycle, and results per set of levers."""

from __future__ import annotations

import os
import threading
from collections import OrderedDict

import numpy as np
import pandas as pd
import streamlit as st

from sop_core.meeting.scenarios import promoted_scenario, usable_levers
from sop_core.plan.engine import compute
from sop_core.plan.levers import Levers
from sop_core.plan.service import model_for_store
from ui.connection import open_store
from ui.state import data_version, selected_cycle

__all__ = ["model", "result", "base_result", "cycle_plan", "levers_key"]


def levers_key(levers: Levers | None) -> tuple:
    """A hashable, order-free key for a set of levers."""
    return tuple(sorted(((k[0], k[1] or ""), float(v)) for k, v in (levers or {}).items()))


@st.cache_resource(show_spinner="Preparing the plan for this cycle…", max_entries=6)
def _model(path: str, version: int, cycle: str | None):
    return model_for_store(open_store(path), cycle)


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
    levers = {(name, q or None): v for (name, q), v in key}
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


def _version(store, version: int | None) -> int:
    return data_version(store) if version is None else version


def model(store, cycle: str | None = None, *, version: int | None = None):
    """The cycle's plan data as arrays (prepared once per data version).

    ``version``: the data version if the caller already has it (saves a query per call).
    """
    return _model(str(store.path), _version(store, version), cycle or selected_cycle(store))


def result(
    store, levers: Levers | None = None, cycle: str | None = None, *, version: int | None = None
):
    """The plan under ``levers`` (cached per cycle, data version and levers)."""
    cycle = cycle or selected_cycle(store)
    return _result(str(store.path), _version(store, version), cycle, levers_key(levers))


def base_result(store, cycle: str | None = None, *, version: int | None = None):
    """The plan with no levers: the data as imported."""
    return result(store, None, cycle, version=version)


def cycle_plan(store, cycle: str | None = None):
    """The cycle's plan: the promoted scenario if there is one, else the base plan.

    Returns (result, label, dropped) — ``dropped`` lists levers of the promoted scenario that no
    longer fit the data.
    """
    cycle = cycle or selected_cycle(store)
    promoted = promoted_scenario(store, cycle)
    if promoted is None:
        return base_result(store, cycle), "Base plan (no scenario promoted)", []
    m = model(store, cycle)
    levers, dropped = usable_levers(promoted.levers, m.families, m.resources)
    return result(store, levers, cycle), f"Scenario “{promoted.name}” (promoted)", dropped
