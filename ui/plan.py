"""Cached plans for the pages: each cycle's plan of record, its model, and what-ifs on that model."""

from __future__ import annotations

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
from sop_core.plan.sensitivity import sensitivity as plan_sensitivity
from ui.connection import open_store
from ui.state import data_version, selected_cycle

__all__ = [
    "model",
    "result",
    "base_result",
    "record",
    "cycle_plan",
    "saved_plans",
    "sensitivity",
    "levers_key",
]


def levers_key(levers: Levers | None) -> tuple:
    """A hashable, order-free key for a set of levers: their ``key[:q][@window]=value`` strings."""
    return tuple(levers_to_strings(normalize_levers(levers)))


@st.cache_resource(show_spinner="Preparing the plan for this cycle…", max_entries=6)
def _model(path: str, version: int, cycle: str | None):
    return model_of_record(open_store(path), cycle)


@st.cache_resource(show_spinner=False, max_entries=64)
def _result(path: str, version: int, cycle: str | None, key: tuple):
    levers = parse_levers(key)
    return compute(_model(path, version, cycle), levers)


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
