"""What the Supply review shows: days of cover, binding supplier limits, unmet demand by family."""

from __future__ import annotations

import numpy as np
import pandas as pd

from sop_core.plan.lifecycle import stock_left

__all__ = ["inventory_cover", "supplier_limits", "unmet_by_family", "unmet_totals", "sku_columns"]


def sku_columns(model, family: str | None) -> np.ndarray:
    """Column indices of the family's skus (all skus for None)."""
    if family is None:
        return np.arange(len(model.skus))
    return np.flatnonzero(model.sku_family == list(model.families).index(family))


def inventory_cover(result, family: str | None = None) -> pd.DataFrame:
    """Projected end inventory and its days of cover by month.

    Days of cover = end inventory / (next month's demand / 30); the last month uses its own demand
    (as the target cover does). Months with no demand to cover have no figure.

    ``end_of_life_units`` is the part of the end inventory held by products past their end month
    (from the end month on: the stock they leave, ``plan.lifecycle.stock_left``).

    Returns columns month, end_inventory_units, next_month_demand, cover_days, end_inventory_value,
    end_of_life_units.
    """
    m = result.model
    cols = sku_columns(m, family)
    inventory = result.supply.end_inventory
    left = stock_left(m.lifecycle, m.months, inventory, result.finance.inventory_value_sku)
    ended = left.held(inventory)[:, cols].sum(axis=1)
    end = inventory[:, cols].sum(axis=1)
    demand = result.demand[:, cols].sum(axis=1)
    nxt = np.append(demand[1:], demand[-1:]) if len(demand) else demand
    with np.errstate(divide="ignore", invalid="ignore"):
        cover = np.where(nxt > 0, end / (nxt / 30.0), np.nan)
    value = result.finance.inventory_value_sku[:, cols].sum(axis=1)
    return pd.DataFrame(
        {
            "month": list(result.model.months),
            "end_inventory_units": end,
            "next_month_demand": nxt,
            "cover_days": cover,
            "end_inventory_value": value,
            "end_of_life_units": ended,
        }
    )


def supplier_limits(result, family: str | None = None) -> pd.DataFrame:
    """Supplier or material limits in the horizon and whether they bind.

    A limit binds when the production the resources allow (req × scale) is above max_units.

    Returns columns month, sku, family, max_units, wanted_units (req × scale), production_units,
    binding (bool), short_units (wanted − production where binding), unshipped_units (the
    sku-month's demand not shipped: a binding limit costs sales only where this is above 0;
    otherwise it holds back the stock built for cover).
    """
    m, s = result.model, result.supply
    cols = sku_columns(m, family)
    limits = m.max_units[:, cols]
    mi, si = np.nonzero(np.isfinite(limits))
    sku_idx = cols[si]
    wanted = (s.req * s.scale)[mi, sku_idx]
    prod = s.production[mi, sku_idx]
    maxu = m.max_units[mi, sku_idx]
    binding = wanted > maxu + 1e-9
    return (
        pd.DataFrame(
            {
                "month": np.asarray(m.months, dtype=object)[mi],
                "sku": m.skus[sku_idx],
                "family": np.asarray(m.families, dtype=object)[m.sku_family[sku_idx]],
                "max_units": maxu,
                "wanted_units": wanted,
                "production_units": prod,
                "binding": binding,
                "short_units": np.where(binding, wanted - prod, 0.0),
                "unshipped_units": s.unmet[mi, sku_idx],
            }
        )
        .sort_values(["month", "sku"])
        .reset_index(drop=True)
    )


def unmet_totals(result, family: str | None = None) -> tuple[float, float]:
    """(unmet units, revenue lost) over the horizon, for one family or all: every family-month,
    also those below half a unit that ``unmet_by_family`` leaves out of its table, so the total
    is the Executive summary's."""
    fam = result.family
    if family:
        fam = fam[fam["family"] == family]
    return float(fam["unmet_units"].sum()), float(fam["unmet_revenue"].sum())


def unmet_by_family(result, family: str | None = None) -> pd.DataFrame:
    """Unmet demand (units and revenue lost) by family and month, only where there is some.

    Returns columns month, family, demand_units, unmet_units, unmet_revenue.
    """
    fam = result.family
    out = fam[fam["unmet_units"] > 0.5]
    if family:
        out = out[out["family"] == family]
    return out[["month", "family", "demand_units", "unmet_units", "unmet_revenue"]].reset_index(
        drop=True
    )
