"""One plan's figures (``PlanResult``): the method's arrays and, built on first use, its frames, totals and disagreements."""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd

from sop_core.errors import PlanError
from sop_core.plan.disagreements import (
    Totals,
    find_disagreements,
    root_causes,
    totals_of_table,
)
from sop_core.plan.disagreements import disagreement_totals as count_disagreements
from sop_core.plan.finance import Finance
from sop_core.plan.levers import Levers
from sop_core.plan.model import DEMAND_SOURCES, Model
from sop_core.plan.supply import SupplyPlan

# Columns of `python -m sop_core plan --level ...`, exactly as PRODUCT.md lists them.
LEVEL_COLUMNS: dict[str, list[str]] = {
    "company": [
        "month",
        "revenue",
        "variable_cogs",
        "labour_cost",
        "gross_margin",
        "fixed_costs",
        "operating_profit",
        "inventory_value",
        "receivables",
        "payables",
        "cash_flow",
        "closing_cash",
    ],
    "family": [
        "month",
        "family",
        "demand_units",
        "production_units",
        "shipped_units",
        "unmet_units",
        "end_inventory_units",
        "revenue",
        "variable_cogs",
        "inventory_value",
    ],
    "resource": [
        "month",
        "resource",
        "load_hours",
        "capacity_hours",
        "utilisation",
        "fte_needed",
        "fte_planned",
        "production_hours",
    ],
}


# Extra columns of PlanResult.family / .resource, after the CLI ones.
FAMILY_EXTRA = ["begin_inventory_units", "labour_cost", "gross_margin", "unmet_revenue"]


RESOURCE_EXTRA = ["available_hours", "labour_cost", "shadow_price"]


SKU_COLUMNS = [
    "month",
    "sku",
    "family",
    "demand_units",
    "production_units",
    "shipped_units",
    "unmet_units",
    "begin_inventory_units",
    "end_inventory_units",
    "revenue",
    "variable_cogs",
    "inventory_value",
    "unmet_revenue",
    "labour_cost",
    "gross_margin",
    "demand_source",
]


BUDGET_GAP_COLUMNS = [
    "month",
    "family",
    "plan_revenue",
    "budget_revenue",
    "revenue_gap",
    "plan_gross_margin",
    "budget_gross_margin",
    "gross_margin_gap",
    "plan_inventory_value",
    "budget_inventory_value",
]


def _long(months, names, key: str, arrays: dict[str, np.ndarray]) -> pd.DataFrame:
    """A long frame month × name from ``(M, K)`` arrays, month-major (sorted by month, name)."""
    n_months, n_names = len(months), len(names)
    cols = {
        "month": np.repeat(np.asarray(months, dtype=object), n_names),
        key: np.tile(np.asarray(names, dtype=object), n_months),
    }
    for name, arr in arrays.items():
        cols[name] = np.asarray(arr, dtype=float).reshape(-1)
    return pd.DataFrame(cols)


def _none_if_nan(value: float) -> float | None:
    return None if value is None or (isinstance(value, float) and math.isnan(value)) else value


@dataclass(frozen=True, eq=False)
class PlanResult:
    """One plan: the arrays of the method and, built on first use, its frames.

    Frames: ``sku``, ``family``, ``company``, ``resource``, ``budget_gap``, ``disagreements``;
    ``summary`` is a dict over the horizon; ``level(name)`` gives exactly the CLI columns.
    Prices and costs here are the scenario's (levers applied), month by month: a lever with a
    time window changes them in its months only (without one, the ``(M, S)`` arrays are
    read-only views of one row).
    """

    model: Model
    levers: Levers
    demand: np.ndarray  # (M, S) after the volume and price-elasticity levers
    unit_price: np.ndarray  # (M, S) after levers
    unit_material_cost: np.ndarray  # (M, S)
    target_cover_days: np.ndarray  # (M, S)
    available_hours: np.ndarray  # (M, R) after levers, NaN = no row
    planned_fte: np.ndarray
    dso_days: np.ndarray  # (M,)
    dpo_days: np.ndarray  # (M,)
    fixed_costs_per_month: np.ndarray  # (M,)
    supply: SupplyPlan
    finance: Finance

    # --- arrays -----------------------------------------------------------------------
    @property
    def months(self) -> list[str]:
        return list(self.model.months)

    @property
    def unit_cost(self) -> np.ndarray:
        return self.unit_material_cost + self.model.unit_variable_cost

    @cached_property
    def capacity_hours(self) -> np.ndarray:
        """``(M, R)`` hours, NaN where unlimited."""
        cap = self.supply.capacity
        return np.where(np.isinf(cap), np.nan, cap)

    @cached_property
    def utilisation(self) -> np.ndarray:
        """``(M, R)`` load/cap from req; NaN where unlimited, inf where cap is 0 and load is not."""
        load, cap = self.supply.load, self.supply.capacity
        with np.errstate(divide="ignore", invalid="ignore"):
            util = load / cap
        util = np.where(np.isinf(cap), np.nan, util)
        return np.where((cap == 0) & (load == 0), 0.0, util)

    @cached_property
    def fte_needed(self) -> np.ndarray:
        """``(M, R)`` load / hours_per_fte; NaN where hours_per_fte is 0."""
        hpf = self.model.hours_per_fte
        return np.divide(
            self.supply.load,
            hpf[None, :],
            out=np.full(self.supply.load.shape, np.nan),
            where=hpf[None, :] > 0,
        )

    @cached_property
    def unmet_revenue_sku(self) -> np.ndarray:
        return self.supply.unmet * self.unit_price

    @cached_property
    def production_hours(self) -> np.ndarray:
        """``(M, R)`` hours the production uses: Σ_s P × hours_per_unit (never above capacity)."""
        return self.model.routing.load(self.supply.production)

    @cached_property
    def shadow_price(self) -> np.ndarray:
        """``(M, R)`` what one more hour of a resource is worth in a month allocated by margin
        (0 where it has room); NaN in months allocated pro rata."""
        shadow = self.supply.shadow_price
        return np.full(self.supply.load.shape, np.nan) if shadow is None else shadow

    @cached_property
    def family_arrays(self) -> dict[str, np.ndarray]:
        """``(M, F)`` sums over each family's skus."""
        by, s, f = self.model.family_sum, self.supply, self.finance
        arrays = {
            "demand_units": by(self.demand),
            "production_units": by(s.production),
            "shipped_units": by(s.shipped),
            "unmet_units": by(s.unmet),
            "end_inventory_units": by(s.end_inventory),
            "revenue": by(f.revenue_sku),
            "variable_cogs": by(f.variable_cogs_sku),
            "inventory_value": by(f.inventory_value_sku),
            "begin_inventory_units": by(s.begin_inventory),
            "labour_cost": by(f.labour_sku),
        }
        arrays["gross_margin"] = arrays["revenue"] - arrays["variable_cogs"] - arrays["labour_cost"]
        arrays["unmet_revenue"] = by(self.unmet_revenue_sku)
        return arrays

    # --- frames -------------------------------------------------------------------------
    @cached_property
    def company(self) -> pd.DataFrame:
        """Company by month: exactly the CLI company columns."""
        f = self.finance
        return pd.DataFrame(
            {
                "month": list(self.model.months),
                "revenue": f.revenue,
                "variable_cogs": f.variable_cogs,
                "labour_cost": f.labour_cost,
                "gross_margin": f.gross_margin,
                "fixed_costs": f.fixed_costs,
                "operating_profit": f.operating_profit,
                "inventory_value": f.inventory_value,
                "receivables": f.receivables,
                "payables": f.payables,
                "cash_flow": f.cash_flow,
                "closing_cash": f.closing_cash,
            }
        )

    @cached_property
    def family(self) -> pd.DataFrame:
        """Family by month: the CLI family columns, then begin inventory, labour, margin, unmet revenue."""
        a = self.family_arrays
        cols = LEVEL_COLUMNS["family"][2:] + FAMILY_EXTRA
        return _long(self.model.months, self.model.families, "family", {c: a[c] for c in cols})

    @cached_property
    def resource(self) -> pd.DataFrame:
        """Resource by month: the CLI resource columns (capacity and utilisation empty = unlimited)."""
        return _long(
            self.model.months,
            self.model.resources,
            "resource",
            {
                "load_hours": self.supply.load,
                "capacity_hours": self.capacity_hours,
                "utilisation": self.utilisation,
                "fte_needed": self.fte_needed,
                "fte_planned": self.planned_fte,
                "production_hours": self.production_hours,
                "available_hours": self.available_hours,
                "labour_cost": self.finance.labour_resource,
                "shadow_price": self.shadow_price,
            },
        )

    @cached_property
    def sku(self) -> pd.DataFrame:
        """Sku by month (the biggest frame: built only when asked for)."""
        m = self.model
        s, f = self.supply, self.finance
        frame = _long(
            m.months,
            m.skus,
            "sku",
            {
                "demand_units": self.demand,
                "production_units": s.production,
                "shipped_units": s.shipped,
                "unmet_units": s.unmet,
                "begin_inventory_units": s.begin_inventory,
                "end_inventory_units": s.end_inventory,
                "revenue": f.revenue_sku,
                "variable_cogs": f.variable_cogs_sku,
                "inventory_value": f.inventory_value_sku,
                "unmet_revenue": self.unmet_revenue_sku,
                "labour_cost": f.labour_sku,
                "gross_margin": f.revenue_sku - f.variable_cogs_sku - f.labour_sku,
            },
        )
        families = np.asarray(m.families, dtype=object)[m.sku_family]
        frame.insert(2, "family", np.tile(families, len(m.months)))
        frame["demand_source"] = np.asarray(DEMAND_SOURCES, dtype=object)[
            m.demand_source.reshape(-1)
        ]
        return frame[SKU_COLUMNS]

    @cached_property
    def budget_gap(self) -> pd.DataFrame:
        """Plan against budget by family and month (gaps = plan − budget; NaN where no budget row)."""
        a, m = self.family_arrays, self.model
        return _long(
            m.months,
            m.families,
            "family",
            {
                "plan_revenue": a["revenue"],
                "budget_revenue": m.budget_revenue,
                "revenue_gap": a["revenue"] - m.budget_revenue,
                "plan_gross_margin": a["gross_margin"],
                "budget_gross_margin": m.budget_gross_margin,
                "gross_margin_gap": a["gross_margin"] - m.budget_gross_margin,
                "plan_inventory_value": a["inventory_value"],
                "budget_inventory_value": m.budget_inventory_value,
            },
        )

    @cached_property
    def disagreements(self) -> pd.DataFrame:
        """Every disagreement of the plan, priced, sorted by money at stake (see disagreements.py)."""
        return find_disagreements(self.model, self)

    @cached_property
    def disagreement_totals(self) -> Totals:
        """Rows, open root causes and money at stake (counted once), from the table if it is built
        already, else without building it (cheaper: a what-if needs only these)."""
        if "disagreements" in self.__dict__:
            return totals_of_table(self.disagreements)
        return count_disagreements(self.model, self)

    @cached_property
    def root_causes(self) -> pd.DataFrame:
        """The disagreements grouped by root cause, largest money first (disagreements.root_causes)."""
        return root_causes(self.disagreements, self.model.settings.currency)

    @cached_property
    def summary(self) -> dict:
        """Totals over the horizon for the headline tiles (None where there is no figure).

        Budget comparisons cover only the family-months that have a budget row: the plan and the
        budget are added up over the same cells (``budget_first_month`` to ``budget_last_month``,
        ``budget_months`` of them), so every page compares the same months.
        """
        f, m = self.finance, self.model
        months = list(m.months)
        revenue = float(f.revenue.sum())
        gm = float(f.gross_margin.sum())
        low = int(np.argmin(f.closing_cash))
        util = self.utilisation
        peak = (None, None, None)
        if util.size and not np.isnan(util).all():
            flat = int(np.nanargmax(util))
            mi, ri = divmod(flat, util.shape[1])
            peak = (float(util[mi, ri]), m.resources[ri], months[mi])
        totals = self.disagreement_totals
        out = {
            "revenue": revenue,
            "variable_cogs": float(f.variable_cogs.sum()),
            "labour_cost": float(f.labour_cost.sum()),
            "gross_margin": gm,
            "gross_margin_pct": gm / revenue * 100.0 if revenue else None,
            "operating_profit": float(f.operating_profit.sum()),
            "closing_cash_end": float(f.closing_cash[-1]),
            "lowest_cash": float(f.closing_cash[low]),
            "lowest_cash_month": months[low],
            "inventory_value_end": float(f.inventory_value[-1]),
            "unmet_units": float(self.supply.unmet.sum()),
            "unmet_revenue": float(self.unmet_revenue_sku.sum()),
            "peak_utilisation": peak[0],
            "peak_utilisation_resource": peak[1],
            "peak_utilisation_month": peak[2],
            "disagreements_count": totals.rows,
            "root_causes_count": totals.root_causes,
            "money_at_stake": totals.money,
        }
        a = self.family_arrays
        for key, plan_key, budget in (
            ("revenue", "revenue", m.budget_revenue),
            ("gross_margin", "gross_margin", m.budget_gross_margin),
        ):
            cells = ~np.isnan(budget)
            if cells.any():
                in_budget = float(a[plan_key][cells].sum())
                out[f"budget_{key}"] = float(budget[cells].sum())
                out[f"{key}_in_budget"] = in_budget
                out[f"{key}_vs_budget"] = in_budget - out[f"budget_{key}"]
            else:
                out[f"budget_{key}"] = out[f"{key}_in_budget"] = out[f"{key}_vs_budget"] = None
        budget_months = [
            months[i] for i in np.flatnonzero((~np.isnan(m.budget_revenue)).any(axis=1))
        ]
        out["budget_first_month"] = budget_months[0] if budget_months else None
        out["budget_last_month"] = budget_months[-1] if budget_months else None
        out["budget_months"] = len(budget_months)
        return out

    def level(self, name: str) -> pd.DataFrame:
        """Exactly the CLI columns of ``plan --level name`` (company, family or resource).

        Raises:
            PlanError: an unknown level.
        """
        if name not in LEVEL_COLUMNS:
            raise PlanError(f'Unknown level "{name}" (expected one of {", ".join(LEVEL_COLUMNS)}).')
        return getattr(self, name)[LEVEL_COLUMNS[name]]
