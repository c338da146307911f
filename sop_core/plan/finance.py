"""The finance of the reference method: revenue, margin, working capital and cash, month by month."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from weakref import WeakKeyDictionary

import numpy as np

from sop_core.plan.supply import DAYS_PER_MONTH, Routing, SupplyPlan

__all__ = ["Finance", "plan_finance", "allocate_labour"]


@dataclass(frozen=True, eq=False)
class Finance:
    """Money of the plan: ``(M, S)`` per sku, ``(M, R)`` per resource, ``(M,)`` for the company.

    Of N demand samples planned at once (``supply_plan``), the per-sku and company figures
    carry the sample axis first: ``(N, M, S)`` and ``(N, M)``. ``labour_sku`` (labour shared
    over skus, for family margins) is built on first use.
    """

    revenue_sku: np.ndarray
    variable_cogs_sku: np.ndarray
    inventory_value_sku: np.ndarray
    labour_resource: np.ndarray
    revenue: np.ndarray
    variable_cogs: np.ndarray
    labour_cost: np.ndarray
    gross_margin: np.ndarray
    fixed_costs: np.ndarray
    operating_profit: np.ndarray
    inventory_value: np.ndarray
    receivables: np.ndarray
    payables: np.ndarray
    cash_items: np.ndarray
    cash_flow: np.ndarray
    closing_cash: np.ndarray
    opening_inventory_value: float
    supply: SupplyPlan = field(repr=False)
    routing: Routing = field(repr=False)

    @cached_property
    def labour_sku(self) -> np.ndarray:
        """Each resource's labour shared over skus (``allocate_labour``): ``(M, S)``."""
        # By load, it depends on the supply plan and the labour alone: plans that share their
        # supply plan (``engine``: a price change) share it, if their labour is the same too.
        known = _BY_LOAD.get(self.supply)
        if known is not None and np.array_equal(known[0], self.labour_resource):
            by_load = known[1]
        else:
            by_load = labour_by_load(
                self.labour_resource, self.supply.req, self.routing, self.supply.load
            )
            _BY_LOAD[self.supply] = (self.labour_resource, by_load)
        return allocate_labour(
            self.labour_resource,
            self.supply.req,
            self.routing,
            self.supply.load,
            self.revenue_sku,
            by_load=by_load,
        )


_BY_LOAD: WeakKeyDictionary = WeakKeyDictionary()  # SupplyPlan -> (labour, labour_by_load)


def labour_by_load(
    labour: np.ndarray, req: np.ndarray, routing: Routing, load: np.ndarray
) -> np.ndarray:
    """``(M, S)``: each resource's labour shared over the skus by their share of its load hours
    (``req × hours_per_unit / load``); 0 from a resource with no load."""
    per_hour = np.divide(labour, load, out=np.zeros_like(labour), where=load > 0)
    return req * routing.spread(per_hour)


def allocate_labour(
    labour: np.ndarray,
    req: np.ndarray,
    routing: Routing,
    load: np.ndarray,
    revenue: np.ndarray,
    *,
    by_load: np.ndarray | None = None,
) -> np.ndarray:
    """Each resource's labour cost shared over skus, so family margins add up to the company's.

    A resource's labour in a month goes to the skus by their share of its load hours
    (``req × hours_per_unit / load``); when its load is 0, by the skus' share of that month's
    revenue; when the revenue is 0 too, equally over the skus.

    ``by_load``: ``labour_by_load`` of the same figures, when the caller has it.

    Returns:
        ``(M, S)`` labour cost per sku and month; each month sums to the resources' labour.
    """
    n_months, n_skus = req.shape
    loaded = load > 0
    if by_load is None:
        by_load = labour_by_load(labour, req, routing, load)
    idle = np.where(loaded, 0.0, labour).sum(axis=1)  # (M,) labour of resources with no load
    if not idle.any():
        return by_load
    total = revenue.sum(axis=1, keepdims=True)
    equal = np.full_like(revenue, 1.0 / max(n_skus, 1))
    share = np.divide(revenue, total, out=equal, where=total > 0)
    return by_load + share * idle[:, None]


def plan_finance(
    supply: SupplyPlan,
    *,
    unit_price: np.ndarray,
    unit_material_cost: np.ndarray,
    unit_variable_cost: np.ndarray,
    on_hand: np.ndarray,
    routing: Routing,
    planned_fte: np.ndarray,
    cost_per_fte: np.ndarray,
    fixed_costs_per_month: float | np.ndarray,
    cash_items: np.ndarray,
    opening_cash: float,
    opening_receivables: float,
    opening_payables: float,
    dso_days: float | np.ndarray,
    dpo_days: float | np.ndarray,
) -> Finance:
    """Revenue to closing cash, exactly as PRODUCT.md writes it (unit prices and costs after levers).

    Prices and costs are ``(S,)``, or ``(M, S)`` when a windowed lever changes them by month;
    ``fixed_costs_per_month``, ``dso_days`` and ``dpo_days`` a number or ``(M,)``. A supply plan
    of N demand samples gives figures with the sample axis first (company figures ``(N, M)``).

    Args:
        planned_fte: ``(M, R)``, NaN where there is no headcount row (no labour cost there).
        cash_items: ``(M,)`` other cash flows, negative = out.
    """
    unit_cost = unit_material_cost + unit_variable_cost
    revenue_sku = supply.shipped * unit_price
    cogs_sku = supply.shipped * unit_cost
    inventory_sku = supply.end_inventory * unit_cost
    labour_resource = np.nan_to_num(planned_fte * cost_per_fte[None, :], nan=0.0)

    # the last axis is the sku's, the one before it the month's (a sample axis may lead)
    revenue = revenue_sku.sum(axis=-1)
    cogs = cogs_sku.sum(axis=-1)
    labour = labour_resource.sum(axis=1)
    gross_margin = revenue - cogs - labour
    fixed = np.broadcast_to(np.asarray(fixed_costs_per_month, dtype=float), revenue.shape).copy()
    operating_profit = gross_margin - fixed
    inventory_value = inventory_sku.sum(axis=-1)
    receivables = revenue * (dso_days / DAYS_PER_MONTH)
    payables = (supply.production * unit_material_cost).sum(axis=-1) * (dpo_days / DAYS_PER_MONTH)

    # opening stock at the first month's unit costs (they change by month under a windowed lever)
    first_cost = unit_cost if np.ndim(unit_cost) == 1 else unit_cost[0]
    opening_inventory_value = float((np.asarray(on_hand, dtype=float) * first_cost).sum())

    def delta(series: np.ndarray, opening: float) -> np.ndarray:
        return np.diff(series, prepend=opening, axis=-1)

    cash_flow = (
        operating_profit
        - delta(receivables, opening_receivables)
        - delta(inventory_value, opening_inventory_value)
        + delta(payables, opening_payables)
        + cash_items
    )
    closing_cash = opening_cash + np.cumsum(cash_flow, axis=-1)
    return Finance(
        revenue_sku=revenue_sku,
        variable_cogs_sku=cogs_sku,
        inventory_value_sku=inventory_sku,
        labour_resource=labour_resource,
        revenue=revenue,
        variable_cogs=cogs,
        labour_cost=labour,
        gross_margin=gross_margin,
        fixed_costs=fixed,
        operating_profit=operating_profit,
        inventory_value=inventory_value,
        receivables=receivables,
        payables=payables,
        cash_items=np.asarray(cash_items, dtype=float),
        cash_flow=cash_flow,
        closing_cash=closing_cash,
        opening_inventory_value=opening_inventory_value,
        supply=supply,
        routing=routing,
    )
