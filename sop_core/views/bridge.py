"""What changed since the last locked plan: revenue, margin and cash bridged by cause.

Sequential substitution through the engine: start from the earlier version's inputs and swap
in the later version's, one cause at a time (demand, then prices, then costs, then capacity),
all over the earlier plan's months; whatever is left (the horizon's roll, cash items, opening
balances and inventory, payment terms, stock cover) is timing. Each step is the difference between two full plans, so the steps add up to the
difference between the two plans exactly (up to float rounding).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import pandas as pd

from sop_core.errors import SopError
from sop_core.meeting.record import capture_version
from sop_core.meeting.versions import (
    PlanVersion,
    load_version,
    plan_totals,
    previous_locked_cycle,
)
from sop_core.plan.engine import compute
from sop_core.plan.levers import LEVERS, Levers, fit_windows, normalize_levers
from sop_core.plan.model import prepare
from sop_core.store.plandata import PlanData

__all__ = [
    "CAUSES",
    "METRICS",
    "LEVER_CAUSE",
    "Bridge",
    "stage_inputs",
    "bridge_versions",
    "bridge_detail",
    "bridge_between",
    "bridge_for_cycle",
    "waterfall_steps",
]

CAUSES = ("demand change", "price", "cost", "capacity", "timing")
METRICS = ("revenue", "gross_margin", "closing_cash")
METRIC_LABELS = {
    "revenue": "Revenue",
    "gross_margin": "Gross margin",
    "closing_cash": "Closing cash",
}
# Each lever belongs to the cause whose inputs it changes; the rest are timing.
LEVER_CAUSE = {
    "volume_change_pct": "demand change",
    "price_change_pct": "price",
    "material_cost_change_pct": "cost",
    "fixed_costs_change_pct": "cost",
    "capacity_change_pct": "capacity",
    "headcount_change_fte": "capacity",
}
DEMAND_TABLES = ("forecasts", "actuals")
CAPACITY_TABLES = ("routings", "capacity", "headcount", "supply_limits")
METHOD = "recalculation"
TOLERANCE = 1e-6


@dataclass(frozen=True)
class Bridge:
    """A bridge between two plans: ``frame`` has step, kind, revenue, gross_margin, closing_cash;
    ``by_family`` (when computed) each cause's revenue by family: step, family, revenue."""

    from_cycle: str
    to_cycle: str
    to_locked: bool
    frame: pd.DataFrame
    currency: str
    by_family: pd.DataFrame | None = None


def _stage(cause: str) -> int:
    return CAUSES.index(cause) + 1


def _lever_stage(name: str) -> int:
    return _stage(LEVER_CAUSE.get(name, "timing"))


def _products(old: pd.DataFrame, new: pd.DataFrame, upto: int) -> pd.DataFrame:
    """The new product list (from the demand step on) with old figures for causes not yet swapped."""
    if upto < _stage("demand change"):
        return old.copy()
    keep_old = ["name", "family", "target_cover_days"]
    if upto < _stage("price"):
        keep_old.append("unit_price")
    if upto < _stage("cost"):
        keep_old += ["unit_material_cost", "unit_variable_cost"]
    out = new.copy().reset_index(drop=True)
    before = old.drop_duplicates("sku", keep="last").set_index("sku")
    common = out["sku"].isin(before.index)
    for column in keep_old:
        out.loc[common, column] = out.loc[common, "sku"].map(before[column]).to_numpy()
    return out


def _resources(old: pd.DataFrame, new: pd.DataFrame, upto: int) -> pd.DataFrame:
    """Old resources until the capacity step; the labour cost per FTE from the cost step on."""
    if upto >= _stage("capacity"):
        return new.copy()
    out = old.copy().reset_index(drop=True)
    if upto >= _stage("cost"):
        after = new.drop_duplicates("resource", keep="last").set_index("resource")
        common = out["resource"].isin(after.index)
        out.loc[common, "cost_per_fte"] = (
            out.loc[common, "resource"].map(after["cost_per_fte"]).to_numpy()
        )
    return out


def _levers(old: Levers, new: Levers, upto: int, families, resources, months) -> Levers:
    """Levers of causes already swapped from the new plan, the rest from the old one.

    A lever naming a family or resource the stage's data lacks is left out (it has nothing to act on).
    """
    out: Levers = {}
    for source, newer in ((old, False), (new, True)):
        for key, value in normalize_levers(source).items():
            if (_lever_stage(key.name) <= upto) == newer:
                out[key] = value
    known = {"family": set(families), "resource": set(resources)}
    kept: Levers = {}
    for key, value in out.items():
        spec = LEVERS.get(key.name)
        if spec is None:
            continue
        if key.qualifier is not None and key.qualifier not in known.get(spec.qualifier, set()):
            continue
        kept[key] = value
    # a window is clipped to the stage's months (one wholly outside them has nothing to act on)
    return fit_windows(kept, months)[0]


def _demand_over_old_months(
    old: PlanVersion, new: PlanVersion
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The new forecasts and baseline, except in months the new horizon no longer has.

    Those months keep the old plan's demand until the timing step: a month that rolled out of
    the horizon is timing, not a change of demand.
    """
    dropped = set(old.months) - set(new.months)

    def month(frame: pd.DataFrame) -> pd.Series:
        return frame["month"].astype(str).str.slice(0, 7)

    fc_new, fc_old = new.tables["forecasts"], old.tables["forecasts"]
    kept = fc_old[month(fc_old).isin(dropped)].assign(cycle=new.cycle)
    forecasts = pd.concat([fc_new[~month(fc_new).isin(dropped)], kept], ignore_index=True)
    b_new, b_old = new.baseline, old.baseline
    parts = [b_new[~month(b_new).isin(dropped)], b_old[month(b_old).isin(dropped)]]
    parts = [b for b in parts if len(b)]
    baseline = pd.concat(parts, ignore_index=True) if parts else b_new
    return forecasts, baseline


def stage_inputs(old: PlanVersion, new: PlanVersion, upto: int) -> tuple[PlanData, Levers]:
    """The plan inputs after swapping in the first ``upto`` causes (0 = the old plan, 5 = the new)."""
    if upto >= _stage("timing"):
        data = new.plan_data()
        return data, _levers(
            old.levers, new.levers, upto, data.families, data.resource_names, data.months
        )
    tables = dict(old.tables)
    cycle, baseline = old.cycle, old.baseline
    if upto >= _stage("demand change"):
        for name in DEMAND_TABLES:
            tables[name] = new.tables[name]
        cycle = new.cycle
        tables["forecasts"], baseline = _demand_over_old_months(old, new)
    tables["products"] = _products(old.tables["products"], new.tables["products"], upto)
    tables["resources"] = _resources(old.tables["resources"], new.tables["resources"], upto)
    if upto >= _stage("capacity"):
        for name in CAPACITY_TABLES:
            tables[name] = new.tables[name]
    settings = old.settings
    if upto >= _stage("cost"):
        settings = replace(settings, fixed_costs_per_month=new.settings.fixed_costs_per_month)
    data = PlanData(
        tables=tables, settings=settings, cycle=cycle, months=list(old.months), baseline=baseline
    )
    return data, _levers(
        old.levers, new.levers, upto, data.families, data.resource_names, data.months
    )


def _stage_plan(data: PlanData, levers: Levers) -> tuple[dict, pd.Series]:
    """A stage's totals and its horizon revenue by family."""
    result = compute(prepare(data), levers)
    family = result.family.groupby("family", sort=False)["revenue"].sum()
    return plan_totals(result.company), family


def bridge_versions(old: PlanVersion, new: PlanVersion) -> pd.DataFrame:
    """The bridge from ``old`` to ``new`` by cause.

    Returns:
        One row per step: the old plan (kind 'total'), each cause (kind 'delta'), a
        'recalculation' step only if recomputing a stored plan gives other figures (the engine
        changed since it was locked), the new plan ('total'); columns step, kind, revenue,
        gross_margin, closing_cash (revenue and margin summed over each plan's horizon, cash at
        its end).
    """
    return bridge_detail(old, new)[0]


def bridge_detail(old: PlanVersion, new: PlanVersion) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``bridge_versions`` and each cause's revenue change by family (step, family, revenue):
    the same plans, so a cause's families add up to its revenue step."""
    computed = [_stage_plan(*stage_inputs(old, new, k)) for k in range(len(CAUSES) + 1)]
    stages = [totals for totals, _ in computed]
    start = old.totals if old.results else stages[0]
    end = new.totals if new.results else stages[-1]
    rows = [{"step": f"Plan {old.cycle}", "kind": "total", **{m: start[m] for m in METRICS}}]
    for k, cause in enumerate(CAUSES, start=1):
        rows.append(
            {
                "step": cause,
                "kind": "delta",
                **{m: stages[k][m] - stages[k - 1][m] for m in METRICS},
            }
        )
    method = {m: (stages[0][m] - start[m]) + (end[m] - stages[-1][m]) for m in METRICS}
    if any(abs(v) > TOLERANCE for v in method.values()):
        rows.append({"step": METHOD, "kind": "delta", **method})
    rows.append({"step": f"Plan {new.cycle}", "kind": "total", **{m: end[m] for m in METRICS}})
    families = []
    for k, cause in enumerate(CAUSES, start=1):
        before, after = computed[k - 1][1], computed[k][1]
        change = after.sub(before, fill_value=0.0)
        families.append(
            pd.DataFrame({"step": cause, "family": change.index, "revenue": change.to_numpy()})
        )
    by_family = pd.concat(families, ignore_index=True)
    return pd.DataFrame(rows, columns=["step", "kind", *METRICS]), by_family


def bridge_between(store, from_cycle: str, to_cycle: str) -> Bridge:
    """The bridge between two locked cycles.

    Raises:
        SopError: either cycle is not locked.
    """

    versions = {}
    for cycle in (from_cycle, to_cycle):
        version = load_version(store, cycle)
        if version is None:
            raise SopError(
                f"Cycle {cycle} has no locked plan: lock it (Executive S&OP sign-off) to compare it."
            )
        versions[cycle] = version
    new = versions[to_cycle]
    frame, by_family = bridge_detail(versions[from_cycle], new)
    return Bridge(
        from_cycle=from_cycle,
        to_cycle=to_cycle,
        to_locked=True,
        frame=frame,
        currency=new.settings.currency,
        by_family=by_family,
    )


def bridge_for_cycle(store, cycle: str) -> Bridge | None:
    """From the last locked plan before ``cycle`` to the cycle's plan of record (locked, else as
    it stands: the promoted scenario or the base plan, exactly the figures the pages show).

    Returns:
        None when no earlier cycle was locked.
    """

    previous = previous_locked_cycle(store, cycle)
    if previous is None:
        return None
    old = load_version(store, previous)
    new = load_version(store, cycle)
    locked = new is not None
    if new is None:
        new = capture_version(store, cycle)
    frame, by_family = bridge_detail(old, new)
    return Bridge(
        from_cycle=previous,
        to_cycle=cycle,
        to_locked=locked,
        frame=frame,
        currency=new.settings.currency,
        by_family=by_family,
    )


def waterfall_steps(frame: pd.DataFrame, metric: str) -> pd.DataFrame:
    """One metric of a bridge as ``step, amount, kind`` (what ``charts.bridge_chart`` draws)."""
    if metric not in METRICS:
        raise SopError(f'Unknown measure "{metric}" (expected one of {", ".join(METRICS)}).')
    return pd.DataFrame(
        {"step": frame["step"], "amount": frame[metric].astype(float), "kind": frame["kind"]}
    )
