"""The plan of record: which plan a cycle shows, under which levers (one answer for pages, board pack and CLI)."""

from __future__ import annotations

from sop_core.meeting.scenarios import scenario_levers
from sop_core.plan.engine import compute
from sop_core.plan.levers import parse_levers, validate_levers
from sop_core.plan.result import PlanResult
from sop_core.plan.service import model_for_data
from sop_core.store.plandata import load_plan_data


def plan_for_store(
    store, *, cycle: str | None = None, scenario: str | None = None, lever_args=()
) -> PlanResult:
    """The plan of a store's cycle (default: the current cycle) under a scenario and extra levers.

    Levers: the saved scenario's (by cycle and name) first, then ``lever_args``
    (``key[:qualifier]=value`` strings, e.g. from ``--set``), which override or add.

    Raises:
        LeverError: a bad lever, or an unknown scenario (the saved names are listed).
        PlanError: no products.
    """

    extra = parse_levers(lever_args)  # a typing error fails before any slow step
    data = load_plan_data(store, cycle)
    saved = scenario_levers(store, data.cycle, scenario) if scenario else []
    levers = parse_levers(saved)
    levers.update(extra)
    validate_levers(levers, data.families, data.resource_names, data.months)
    return compute(model_for_data(store, data), levers)
