"""The plan engine: levers applied to a prepared model, then the reference method (``compute``).

``plan.model.prepare`` is the slow, once-per-data step; ``compute`` applies the scenario levers
to the arrays and runs the reference method of PRODUCT.md (supply in ``plan.supply``, money in
``plan.finance``); the frames of ``PlanResult`` are built on first use.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sop_core.plan.finance import plan_finance
from sop_core.plan.levers import Levers, lever_vector, parse_levers, validate_levers
from sop_core.plan.model import Model, prepare
from sop_core.plan.result import PlanResult
from sop_core.plan.supply import capacity_hours, supply_plan
from sop_core.store.plandata import PlanData

__all__ = ["compute", "plan"]


def compute(model: Model, levers: Levers | list[str] | None = None) -> PlanResult:
    """Apply the scenario levers and run the reference method (demand → supply → finance).

    Args:
        model: from ``prepare``.
        levers: ``{(name, qualifier): value}`` from ``parse_levers``, or the strings themselves.

    Raises:
        LeverError: a lever is unknown, out of bounds, or names an unknown family/resource.
    """
    if isinstance(levers, list | tuple):
        levers = parse_levers(levers)
    levers = dict(levers or {})
    validate_levers(levers, model.families, model.resources)
    fam, settings = model.sku_family, model.settings

    def per_sku(name: str, neutral: float = 0.0) -> np.ndarray:
        return lever_vector(levers, name, model.families, neutral)[fam]

    def per_resource(name: str) -> np.ndarray:
        return lever_vector(levers, name, model.resources)

    demand = model.demand * (1.0 + per_sku("volume_change_pct") / 100.0)[None, :]
    price = model.unit_price * (1.0 + per_sku("price_change_pct") / 100.0)
    material = model.unit_material_cost * (1.0 + per_sku("material_cost_change_pct") / 100.0)
    cover_lever = per_sku("target_cover_days", np.nan)
    cover = np.where(np.isnan(cover_lever), model.target_cover_days, cover_lever)
    available = model.available_hours * (1.0 + per_resource("capacity_change_pct") / 100.0)
    # headcount adds to each planned_fte row (a missing row stays missing), never below 0
    planned = np.maximum(model.planned_fte + per_resource("headcount_change_fte")[None, :], 0.0)
    dso = levers.get(("dso_days", None), settings.dso_days)
    dpo = levers.get(("dpo_days", None), settings.dpo_days)
    fixed = settings.fixed_costs_per_month * (
        1.0 + levers.get(("fixed_costs_change_pct", None), 0.0) / 100.0
    )

    cap = capacity_hours(available, planned, model.hours_per_fte)
    supply = supply_plan(demand, cover, model.on_hand, model.routing, cap, model.max_units)
    money = plan_finance(
        supply,
        unit_price=price,
        unit_material_cost=material,
        unit_variable_cost=model.unit_variable_cost,
        on_hand=model.on_hand,
        routing=model.routing,
        planned_fte=planned,
        cost_per_fte=model.cost_per_fte,
        fixed_costs_per_month=fixed,
        cash_items=model.cash_items,
        opening_cash=settings.opening_cash,
        opening_receivables=settings.opening_receivables,
        opening_payables=settings.opening_payables,
        dso_days=dso,
        dpo_days=dpo,
    )
    return PlanResult(
        model=model,
        levers=levers,
        demand=demand,
        unit_price=price,
        unit_material_cost=material,
        target_cover_days=cover,
        available_hours=available,
        planned_fte=planned,
        dso_days=float(dso),
        dpo_days=float(dpo),
        fixed_costs_per_month=float(fixed),
        supply=supply,
        finance=money,
    )


def plan(
    data: PlanData, levers: Levers | list[str] | None = None, *, bias: pd.DataFrame | None = None
) -> PlanResult:
    """``compute(prepare(data, bias=bias), levers)``, for one-off plans."""
    return compute(prepare(data, bias=bias), levers)


# --- from the store -------------------------------------------------------------------------
