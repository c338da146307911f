"""The plan of record: which plan a cycle shows, under which levers — one answer for every page, the
what-if base, the bridge, the board pack and the command line.

- A **locked** cycle shows the plan locked: recomputed from the inputs frozen at the lock (its
  contract tables, forecasts, baseline, bias verdicts, consensus choices, horizon and levers), so
  whatever is imported or opened later changes nothing. If recomputing ever gives other figures
  than those stored at the lock (the engine changed), the record says so in ``warnings``.
- An **open** cycle shows its promoted scenario, else the base plan (the data as imported).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from sop_core import fmt
from sop_core.errors import LeverError
from sop_core.meeting.kept import keep_model, kept_key, read_kept
from sop_core.meeting.scenarios import (
    get_scenario,
    promoted_scenario,
    scenario_names,
    usable_levers,
)
from sop_core.meeting.versions import BASELINE_COLUMNS, BIAS_COLUMNS, PlanVersion, load_version
from sop_core.plan.engine import compute
from sop_core.plan.levers import Levers, describe_levers, parse_levers, validate_levers
from sop_core.plan.links import apply_settings, linked_inputs
from sop_core.plan.model import Model, prepare
from sop_core.plan.result import PlanResult
from sop_core.plan.service import prepared
from sop_core.store.plandata import PlanData, current_cycle, load_plan_data

__all__ = [
    "LOCKED",
    "PROMOTED",
    "BASE",
    "PlanOfRecord",
    "plan_of_record",
    "model_of_record",
    "capture_version",
    "version_from_data",
    "plan_for_store",
]

LOCKED, PROMOTED, BASE = "locked", "promoted", "base"
# A recomputed locked plan further than this (in the currency) from the stored one is reported.
DRIFT_TOLERANCE = 0.5


@dataclass(frozen=True)
class PlanOfRecord:
    """A cycle's plan of record: what it is (locked, promoted or base), its model, levers, result."""

    cycle: str | None
    kind: str
    model: Model
    levers: Levers
    result: PlanResult
    scenario: str | None = None
    dropped: tuple[str, ...] = ()
    locked_at: object = None
    locked_by: str | None = None
    lock_note: str | None = None
    warnings: tuple[str, ...] = ()
    version: PlanVersion | None = field(default=None, repr=False)

    @property
    def locked(self) -> bool:
        return self.kind == LOCKED

    @property
    def label(self) -> str:
        """One line that says which plan this is, e.g. 'Locked plan of cycle 2026-11 (scenario
        “Hire 6”), locked on 27 Nov 2026 by Kim' or 'Scenario “Price −3 %” (promoted)'."""
        what = f"scenario “{self.scenario}”" if self.scenario else "the base plan"
        if self.kind == LOCKED:
            when = (
                f" on {fmt.day(self.locked_at)} {pd.Timestamp(self.locked_at).year}"
                if self.locked_at is not None
                else ""
            )
            return f"Locked plan of cycle {self.cycle} ({what}), locked{when} by {self.locked_by}"
        if self.kind == PROMOTED:
            return f"Scenario “{self.scenario}” (promoted)"
        return "Base plan (no scenario promoted)"

    @property
    def lever_sentences(self) -> list[str]:
        return describe_levers(self.levers)


def _frozen_model(version: PlanVersion) -> Model:
    bias = version.bias if len(version.bias) else None
    return prepare(version.plan_data(), bias=bias)


def _linked_settings(data: PlanData) -> PlanData:
    """The open cycle's inputs with its linked assumptions' settings in place."""
    _levers, overrides = linked_inputs(data.linked, data.families, data.resource_names)
    if not overrides:
        return data
    frame = data.tables["settings"].copy()
    for key, value in overrides.items():
        frame = frame[frame["key"] != key]
        frame = pd.concat([frame, pd.DataFrame({"key": [key], "value": [f"{value:g}"]})])
    tables = {**data.tables, "settings": frame.reset_index(drop=True)}
    return replace(data, tables=tables, settings=apply_settings(data.settings, overrides))


def _linked_levers(model: Model) -> Levers:
    data = model.data
    if data is None:
        return {}
    levers, _settings = linked_inputs(data.linked, model.families, model.resources)
    return levers


def _at_once(job: Callable[[], object]) -> None:
    job()


def model_of_record(
    store,
    cycle: str | None = None,
    *,
    data: PlanData | None = None,
    version: int | None = None,
    keep: Callable[[Callable[[], object]], None] = _at_once,
) -> Model:
    """The prepared model the cycle's plan of record is computed on (frozen when locked).

    An open cycle's model is read from beside the store when a process prepared it for the same
    data already (``meeting.kept``), else prepared and kept there.

    Args:
        data: ``load_plan_data(store, cycle)``, when the caller has read it (the app: its frames
            are then held once, by the pages and the model); unused for a locked cycle.
        version: the data version ``data`` was read at (default: the store's now).
        keep: runs the keeping of a model just prepared (a job taking no argument): at once by
            default; the app runs it in the background.

    Raises:
        PlanError: nothing to plan (no products).
    """
    cycle = cycle or current_cycle(store)
    locked = load_version(store, cycle) if cycle else None
    if locked is not None:
        return _frozen_model(locked)
    key = kept_key(store, cycle, version)  # before the data is read: a later write misses it
    data = data if data is not None else load_plan_data(store, cycle)
    hit = read_kept(store, key)
    if hit is not None and hit.months == tuple(data.months):
        return hit.model(_linked_settings(data))
    live, _bias, model = prepared(store, data, settle=_linked_settings)
    if key is not None and live.baseline is data.baseline:  # nothing fitted: the data as stored
        keep(lambda: keep_model(store, key, model))
    return model


def _drift(version: PlanVersion, result: PlanResult) -> tuple[str, ...]:
    stored = version.results.get("company")
    if stored is None or stored.empty:
        return ()
    now = result.company.reset_index(drop=True)
    if len(now) != len(stored) or list(now["month"]) != list(stored["month"]):
        return (
            f"The locked plan of {version.cycle} recomputes over other months than were locked.",
        )
    cols = [c for c in stored.columns if c != "month" and c in now.columns]
    gap = float(np.nanmax(np.abs(now[cols].to_numpy(float) - stored[cols].to_numpy(float))))
    if gap > DRIFT_TOLERANCE:
        return (
            f"Recomputed today, the locked plan of {version.cycle} differs from the figures stored at "
            f"the lock by up to {gap:,.0f} (the engine changed since): the stored figures are the record.",
        )
    return ()


def plan_of_record(store, cycle: str | None = None, *, model: Model | None = None) -> PlanOfRecord:
    """Which plan cycle ``cycle`` (default: the current cycle) shows, computed.

    Args:
        model: the cycle's ``model_of_record``, when the caller has it cached.

    Raises:
        PlanError: nothing to plan (no products).
    """
    cycle = cycle or current_cycle(store)
    version = load_version(store, cycle) if cycle else None
    if version is not None:
        model = model or _frozen_model(version)
        result = compute(model, version.levers)
        return PlanOfRecord(
            cycle=cycle,
            kind=LOCKED,
            model=model,
            levers=dict(version.levers),
            result=result,
            scenario=version.scenario_name,
            locked_at=version.locked_at,
            locked_by=version.locked_by,
            lock_note=version.lock_note,
            warnings=_drift(version, result),
            version=version,
        )
    model = model or model_of_record(store, cycle)
    linked = _linked_levers(model)  # the register's linked assumptions, under the scenario's
    promoted = promoted_scenario(store, model.cycle) if model.cycle else None
    if promoted is None:
        return PlanOfRecord(
            cycle=model.cycle, kind=BASE, model=model, levers=linked, result=compute(model, linked)
        )
    levers, dropped = usable_levers(promoted.levers, model.families, model.resources, model.months)
    levers = {**linked, **levers}
    warnings = ()
    if dropped:
        warnings = (
            "The promoted scenario's levers that no longer fit the data were dropped: "
            + "; ".join(dropped),
        )
    return PlanOfRecord(
        cycle=model.cycle,
        kind=PROMOTED,
        model=model,
        levers=levers,
        result=compute(model, levers),
        scenario=promoted.name,
        dropped=tuple(dropped),
        warnings=warnings,
    )


def capture_version(store, cycle: str, *, lock_note: str | None = None) -> PlanVersion:
    """The open cycle's plan of record as a version to lock: its inputs, levers and results.

    Raises:
        PlanError: nothing to plan (no products).
    """
    data, bias, model = prepared(store, load_plan_data(store, cycle), settle=_linked_settings)
    record = plan_of_record(store, cycle, model=model)
    return version_from_data(
        data,
        bias=bias,
        levers=record.levers,
        scenario_name=record.scenario,
        result=record.result,
        lock_note=lock_note,
    )


def version_from_data(
    data: PlanData,
    *,
    bias: pd.DataFrame | None,
    levers: Levers | None = None,
    scenario_name: str | None = None,
    result: PlanResult | None = None,
    lock_note: str | None = None,
) -> PlanVersion:
    """A plan version of ``data`` (its cycle's forecasts only) under ``levers``: what a lock keeps.

    ``result`` is the plan if already computed on these inputs (else it is computed here).
    """
    levers = dict(levers or {})
    if result is None:
        result = compute(prepare(data, bias=bias), levers)
    tables = dict(data.tables)
    forecasts = tables["forecasts"]
    tables["forecasts"] = forecasts[forecasts["cycle"] == data.cycle].reset_index(drop=True)
    return PlanVersion(
        cycle=data.cycle,
        months=tuple(data.months),
        tables=tables,
        baseline=data.baseline.reindex(columns=BASELINE_COLUMNS).reset_index(drop=True),
        scenario_name=scenario_name,
        levers=levers,
        results={
            "company": result.company.reset_index(drop=True),
            "family": result.family.reset_index(drop=True),
            "resource": result.resource.reset_index(drop=True),
        },
        bias=bias if bias is not None else pd.DataFrame(columns=BIAS_COLUMNS),
        consensus_choices=data.consensus_choices.reset_index(drop=True),
        lock_note=lock_note,
        linked=data.linked.reset_index(drop=True),
    )


def plan_for_store(
    store, *, cycle: str | None = None, scenario: str | None = None, lever_args=()
) -> PlanResult:
    """The plan of record of a cycle (default: the current cycle), or a named scenario instead of
    it, with extra levers on top.

    Levers: the named scenario's if one is given, else the plan of record's (the promoted
    scenario's, or those locked); then ``lever_args`` (``key[:qualifier]=value`` strings, e.g.
    from ``--set``), which override or add. With neither, the result is the plan of record.

    Raises:
        LeverError: a bad lever, or an unknown scenario (the saved names are listed).
        PlanError: no products.
    """
    extra = parse_levers(lever_args)  # a typing error fails before any slow step
    record = plan_of_record(store, cycle)
    if scenario is None and not extra:
        return record.result
    levers = dict(record.levers)
    if scenario is not None:
        saved = get_scenario(store, record.cycle, scenario)
        if saved is None:
            names = scenario_names(store, record.cycle)
            listed = ", ".join(names) if names else "none"
            raise LeverError(
                f'No scenario "{scenario}" in cycle {record.cycle}; saved scenarios: {listed}.'
            )
        levers, _dropped = usable_levers(
            saved.levers, record.model.families, record.model.resources, record.model.months
        )
    levers.update(extra)
    validate_levers(levers, record.model.families, record.model.resources, record.model.months)
    return compute(record.model, levers)
