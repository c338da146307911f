"""The plan engine: levers applied to a prepared model, then the reference method (``compute``).

``plan.model.prepare`` is the slow, once-per-data step; ``compute`` applies the scenario levers
to the arrays and runs the reference method of PRODUCT.md (supply in ``plan.supply``, money in
``plan.finance``); the frames of ``PlanResult`` are built on first use.
"""

from __future__ import annotations

import threading
from weakref import WeakKeyDictionary

import numpy as np
import pandas as pd

from sop_core.errors import LeverError
from sop_core.plan.finance import plan_finance
from sop_core.plan.levers import (
    ALLOCATIONS,
    Levers,
    lever_series,
    lever_values,
    normalize_levers,
    parse_levers,
    validate_levers,
)
from sop_core.plan.model import Model, prepare
from sop_core.plan.result import PlanResult
from sop_core.plan.supply import SupplyPlan, capacity_hours, supply_plan
from sop_core.store.plandata import PlanData

__all__ = ["compute", "plan"]


def _broadcast(values: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """``values`` as ``shape`` (a read-only view when it is the same for every month)."""
    values = np.asarray(values, dtype=float)
    return values if values.shape == shape else np.broadcast_to(values, shape)


def compute(model: Model, levers: Levers | list[str] | None = None) -> PlanResult:
    """Apply the scenario levers and run the reference method (demand → supply → finance).

    A lever with a time window applies in its months only (``levers.lever_values``); without
    windows every figure is the same each month and the arrays stay one row (the what-if path).

    Args:
        model: from ``prepare``.
        levers: ``{LeverKey: value}`` from ``parse_levers``, or the strings themselves.

    Raises:
        LeverError: a lever is unknown, out of bounds, names an unknown family/resource, has a
            window outside the horizon, or a price cut of 100 % meets a negative elasticity.
    """
    if isinstance(levers, list | tuple):
        levers = parse_levers(levers)
    levers = normalize_levers(levers)
    months = model.months
    validate_levers(levers, model.families, model.resources, months)
    fam, settings = model.sku_family, model.settings
    n_months, n_skus = len(months), len(model.skus)
    ms = (n_months, n_skus)

    def per_sku(name: str, neutral: float = 0.0) -> np.ndarray:
        # (S,) or, when the lever has a window, (M, S)
        return lever_values(levers, name, model.families, months, neutral)[..., fam]

    def per_resource(name: str) -> np.ndarray:
        return lever_values(levers, name, model.resources, months)

    price_pct = per_sku("price_change_pct")
    demand = model.demand * (1.0 + per_sku("volume_change_pct") / 100.0)
    if any(k[0] == "price_elasticity" for k in levers):
        demand = demand * _price_response(model, price_pct, per_sku("price_elasticity"))
    price = model.unit_price * (1.0 + price_pct / 100.0)
    material = model.unit_material_cost * (1.0 + per_sku("material_cost_change_pct") / 100.0)
    cover_lever = per_sku("target_cover_days", np.nan)
    cover = np.where(np.isnan(cover_lever), model.target_cover_days, cover_lever)
    available = model.available_hours * (1.0 + per_resource("capacity_change_pct") / 100.0)
    # headcount adds to each planned_fte row (a missing row stays missing), never below 0
    planned = np.maximum(model.planned_fte + per_resource("headcount_change_fte"), 0.0)
    dso = lever_series(levers, "dso_days", months, settings.dso_days)
    dpo = lever_series(levers, "dpo_days", months, settings.dpo_days)
    fixed = settings.fixed_costs_per_month * (
        1.0 + lever_series(levers, "fixed_costs_change_pct", months, 0.0) / 100.0
    )
    by_margin = _margin_months(levers, months, settings.allocation)

    cap = capacity_hours(available, planned, model.hours_per_fte)
    contribution = None if by_margin is None else price - material - model.unit_variable_cost
    supply = _supply(model, demand, cover, cap, by_margin, contribution)
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
        unit_price=_broadcast(price, ms),
        unit_material_cost=_broadcast(material, ms),
        target_cover_days=_broadcast(cover, ms),
        available_hours=available,
        planned_fte=planned,
        dso_days=_broadcast(dso, (n_months,)),
        dpo_days=_broadcast(dpo, (n_months,)),
        fixed_costs_per_month=_broadcast(fixed, (n_months,)),
        supply=supply,
        finance=money,
    )


# The last supply plans worked out on each model, with what they were worked out from: a lever
# that changes none of it (a price change without elasticity, DSO, DPO, fixed costs; a
# material cost outside the months allocated by margin) takes the plan instead of working it
# out again (0.25 s of a lever change at 100,000 skus; comparing the inputs: a few ms).
SUPPLY_MEMO = 2
_supply_memo: WeakKeyDictionary = WeakKeyDictionary()  # Model -> [(inputs, SupplyPlan)]
_supply_lock = threading.Lock()


def _same(a, b) -> bool:
    if a is None or b is None:
        return a is b
    a, b = np.asarray(a), np.asarray(b)
    return a.shape == b.shape and np.array_equal(a, b, equal_nan=a.dtype.kind == "f")


def _supply(model: Model, demand, cover, cap, by_margin, contribution) -> SupplyPlan:
    """``supply_plan`` of the model under these inputs (the model's own: on hand, routing,
    supply limits), or the same plan worked out before."""
    inputs = (demand, cover, cap, by_margin, contribution)
    with _supply_lock:
        known = list(_supply_memo.get(model, ()))
    for seen, plan in known:
        if all(_same(x, y) for x, y in zip(inputs, seen, strict=True)):
            return plan
    plan = supply_plan(
        demand,
        cover,
        model.on_hand,
        model.routing,
        cap,
        model.max_units,
        margin_months=by_margin,
        contribution=contribution,
        demand_after=_demand_after(model, demand),
    )
    with _supply_lock:
        entries = _supply_memo.setdefault(model, [])
        entries.append((inputs, plan))
        del entries[:-SUPPLY_MEMO]
    return plan


def _price_response(model: Model, price_pct: np.ndarray, elasticity: np.ndarray) -> np.ndarray:
    """``(1 + price_change_pct/100) ^ elasticity``: how a family's demand answers its price.

    Raises:
        LeverError: a price cut of 100 % with a negative elasticity (demand would be infinite).
    """
    base = 1.0 + price_pct / 100.0
    base, elasticity = np.broadcast_arrays(base, elasticity)
    bad = (base <= 0.0) & (elasticity < 0.0)
    if bad.any():
        family = model.families[int(model.sku_family[np.nonzero(bad)[-1][0]])]
        raise LeverError(
            f"Price −100 % with a negative price elasticity on {family} makes demand infinite: "
            "raise the price change above −100 % or set the elasticity to 0 or more."
        )
    with np.errstate(divide="ignore"):
        return np.where(elasticity == 0.0, 1.0, np.power(np.maximum(base, 0.0), elasticity))


def _demand_after(model: Model, demand: np.ndarray) -> np.ndarray | None:
    """The demand the last month's target covers: its own, except for a product that ends in
    the last month (nothing after it to cover); None when no product does."""
    ends = model.lifecycle.ends_in_last_month
    if not len(demand) or not ends.any():
        return None
    return np.where(ends, 0.0, demand[-1])


def _margin_months(levers: Levers, months, setting: str) -> np.ndarray | None:
    """``(M,)`` bool: the months allocated by margin (the ``allocation`` lever over the setting),
    or None when every month is pro rata."""
    default = float(ALLOCATIONS.index(setting)) if setting in ALLOCATIONS else 0.0
    values = lever_series(levers, "allocation", months, default)
    margin = float(ALLOCATIONS.index("margin"))
    flags = np.broadcast_to(np.asarray(values) == margin, (len(months),))
    return np.array(flags) if flags.any() else None


def plan(
    data: PlanData, levers: Levers | list[str] | None = None, *, bias: pd.DataFrame | None = None
) -> PlanResult:
    """``compute(prepare(data, bias=bias), levers)``, for one-off plans."""
    return compute(prepare(data, bias=bias), levers)
