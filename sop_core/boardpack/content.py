"""The board pack's content for a cycle: the plan shown, its status, the previous locked plan, the sections."""

from __future__ import annotations

import datetime as _dt
from dataclasses import replace

import pandas as pd

from sop_core.boardpack.model import BoardPack, Progress, step
from sop_core.boardpack.sections.common import PackInputs, safe, track_bias
from sop_core.boardpack.sections.decisions import decisions_section
from sop_core.boardpack.sections.demand import demand_section
from sop_core.boardpack.sections.disagreements import disagreement_section
from sop_core.boardpack.sections.finance import finance_section
from sop_core.boardpack.sections.paper import paper_sections
from sop_core.boardpack.sections.scenarios import scenario_plans, scenarios_section
from sop_core.boardpack.sections.summary import summary_section
from sop_core.boardpack.sections.supply import supply_section
from sop_core.errors import SopError
from sop_core.meeting.commentary import commentary_for
from sop_core.meeting.decisions import list_decisions
from sop_core.meeting.record import PlanOfRecord, plan_of_record
from sop_core.meeting.register import register
from sop_core.meeting.scenarios import get_scenario, scenario_names, usable_levers
from sop_core.meeting.versions import load_version, previous_locked_cycle
from sop_core.plan.engine import compute
from sop_core.store.plandata import load_plan_data
from sop_core.views.bridge import bridge_for_cycle
from sop_core.views.ranges import app_ranges

__all__ = ["pack_content"]


def _plan(store, cycle: str | None, scenario: str | None) -> tuple[PlanOfRecord, object, str]:
    """(the cycle's plan of record, the result the pack shows, its label): the plan of record,
    or the named scenario on the same model."""
    record = plan_of_record(store, cycle)
    if not scenario:
        return record, record.result, record.label
    chosen = get_scenario(store, record.cycle, scenario)
    if chosen is None:
        names = scenario_names(store, record.cycle)
        raise SopError(
            f'No scenario "{scenario}" in cycle {record.cycle}; saved scenarios: '
            f"{', '.join(names) if names else 'none'}."
        )
    model = record.model
    levers, _dropped = usable_levers(chosen.levers, model.families, model.resources, model.months)
    how = "promoted" if chosen.promoted else "chosen for this pack, not promoted"
    return record, compute(model, levers), f"Scenario “{chosen.name}” ({how})"


def _status(record: PlanOfRecord) -> tuple[str, str]:
    if record.locked:
        when = pd.Timestamp(record.locked_at)
        line = f"Locked by {record.locked_by} on {when.day} {when.strftime('%b %Y')}"
        if record.lock_note:
            line += f" · {record.lock_note}"
        return "locked", line
    return "draft", "Draft: the cycle is open, the plan is not locked yet"


def _previous(store, cycle: str | None):
    """(cycle, its locked company frame) of the latest locked cycle before this one, or (None, None)."""
    if not cycle:
        return None, None

    previous = previous_locked_cycle(store, cycle)
    if previous is None:
        return None, None
    version = load_version(store, previous)
    if version is None or "company" not in version.results:
        return None, None
    return previous, version


def pack_content(
    store,
    cycle: str | None = None,
    scenario: str | None = None,
    *,
    progress: Progress | None = None,
    today: _dt.date | None = None,
) -> BoardPack:
    """The board pack's content for a cycle (default: the current cycle).

    The plan shown is the cycle's plan of record (``meeting.record``: the locked plan, else the
    promoted scenario, else the base plan), or the named scenario on the same model. A locked
    cycle's pack is built from what was frozen at the lock (its inputs, budget and bias verdicts),
    so it carries the same figures whenever it is rebuilt.

    Raises:
        PlanError: nothing to plan (no products).
        SopError: an unknown scenario (the saved names are listed).
    """

    step(progress, "Computing the plan", 0.02)
    record, result, label = _plan(store, cycle, scenario)
    model, cycle = record.model, record.cycle
    data = record.version.plan_data() if record.locked else load_plan_data(store, cycle)
    settings = model.settings
    currency = settings.currency
    step(progress, "Reading the cycle, decisions and assumptions", 0.12)
    status, status_line = _status(record)
    if record.locked and today is None:
        # a locked cycle's paper says what was overdue when it was locked, whenever it is rebuilt
        today = pd.Timestamp(record.locked_at).date()
    previous_cycle, version = _previous(store, cycle)
    previous_line = (
        f"The locked plan of cycle {previous_cycle}: {version.plan_label}"
        if previous_cycle
        else "No previous locked cycle to compare with"
    )
    decisions, decisions_error = safe(
        lambda: list_decisions(store, cycle, today=today) if cycle else None
    )
    reg, register_error = safe(lambda: register(store, cycle) if cycle else None)
    if record.locked:
        bias, bias_error = record.version.bias, "No track record was kept with this locked plan."
    else:
        bias, bias_error = safe(track_bias, store, data, cycle)
    warnings = list(record.warnings)
    a = PackInputs(
        store=store,
        cycle=cycle,
        model=model,
        result=result,
        label=label,
        currency=currency,
        previous_cycle=previous_cycle,
        previous_company=version.results["company"] if version is not None else None,
        previous_months=tuple(version.months) if version is not None else (),
        decisions=decisions,
        decisions_error=decisions_error or f"No decision log for cycle {cycle}.",
        register=reg,
        register_error=register_error or f"No assumption register for cycle {cycle}.",
        bias=bias,
        bias_error=f"Track record unavailable: {bias_error}",
        budget=data.tables["budget"],
        warnings=warnings,
        record=record,
        locked=record.locked,
        frozen={t: data.tables[t] for t in ("actuals", "financial_actuals", "forecasts")},
    )
    step(progress, "Comparing the saved scenarios", 0.16)
    a.base_plan = compute(model, {}) if result.levers else result
    a.scenario_plans, a.scenario_levers = scenario_plans(a)
    step(progress, "Sampling the plan's range", 0.2)
    a.ranges, error = safe(app_ranges, result)
    a.ranges_error = f"Ranges unavailable: {error}" if error else ""
    step(progress, "Bridging from the last locked plan", 0.25)
    a.bridge, error = safe(bridge_for_cycle, store, cycle) if cycle else (None, None)
    if error:
        a.bridge_note = f"The bridge could not be computed: {error}"
    elif a.bridge is not None and scenario and label != record.label:
        a.bridge_note = (
            f"The bridge runs to the cycle's plan of record ({record.label}), not to the "
            "scenario chosen for this pack."
        )
    a.commentary = commentary_for(store, cycle)
    scenarios = scenarios_section(a)
    step(progress, "Writing the board paper", 0.3)
    headline = summary_section(a).blocks[0]
    appendix = (
        disagreement_section(a),
        decisions_section(a),
        demand_section(a),
        supply_section(a),
        finance_section(a),
        scenarios,
    )
    # the appendix's keys apart from the pre-read's (both have "scenarios", "decisions")
    sections = (
        *paper_sections(a, headline),
        *(replace(s, key=f"appendix.{s.key}") for s in appendix),
    )
    return BoardPack(
        company=settings.company_name or "Your company",
        cycle=cycle,
        currency=currency,
        created=_dt.datetime.now().replace(microsecond=0),
        status=status,
        status_line=status_line,
        plan_label=label,
        months=tuple(model.months),
        previous_cycle=previous_cycle,
        previous_line=previous_line,
        sections=sections,
        warnings=tuple(warnings),
    )
