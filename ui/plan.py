"""Cached plans for the pages: the prepared model per cycle, and results per set of levers."""

from __future__ import annotations

import streamlit as st

from sop_core.meeting.scenarios import promoted_scenario, usable_levers
from sop_core.plan.engine import compute
from sop_core.plan.levers import Levers, levers_to_strings, normalize_levers, parse_levers
from sop_core.plan.sensitivity import sensitivity as plan_sensitivity
from sop_core.plan.service import model_for_store
from ui.connection import open_store
from ui.state import data_version, selected_cycle

__all__ = ["model", "result", "base_result", "cycle_plan", "levers_key", "sensitivity"]


def levers_key(levers: Levers | None) -> tuple:
    """A hashable, order-free key for a set of levers: their ``key[:q][@window]=value`` strings."""
    return tuple(levers_to_strings(normalize_levers(levers)))


@st.cache_resource(show_spinner="Preparing the plan for this cycle…", max_entries=6)
def _model(path: str, version: int, cycle: str | None):
    return model_for_store(open_store(path), cycle)


@st.cache_resource(show_spinner=False, max_entries=64)
def _result(path: str, version: int, cycle: str | None, key: tuple):
    levers = parse_levers(key)
    return compute(_model(path, version, cycle), levers)


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
    levers, dropped = usable_levers(promoted.levers, m.families, m.resources, m.months)
    return result(store, levers, cycle), f"Scenario “{promoted.name}” (promoted)", dropped
