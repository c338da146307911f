"""The plan engine: contract frames to numpy arrays once (``prepare``), then levers to a plan (``compute``).

``prepare`` is the slow, once-per-data step; ``compute`` applies the scenario levers to the
arrays and runs the reference method of PRODUCT.md (supply in ``supply.py``, money in
``finance.py``); the frames of ``PlanResult`` are built on first use.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import pandas as pd

from sop_core.errors import PlanError
from sop_core.plan.finance import Finance, plan_finance
from sop_core.plan.levers import Levers, lever_vector, parse_levers, validate_levers
from sop_core.plan.supply import Routing, SupplyPlan, capacity_hours, supply_plan
from sop_core.settings import Settings
from sop_core.store.plandata import PlanData

__all__ = [
    "Model",
    "PlanResult",
    "prepare",
    "compute",
    "plan",
    "plan_for_store",
    "model_for_store",
    "model_for_store",
    "LEVEL_COLUMNS",
    "SKU_COLUMNS",
    "BUDGET_GAP_COLUMNS",
    "DEMAND_SOURCES",
]

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
    ],
}
# Extra columns of PlanResult.family / .resource, after the CLI ones.
FAMILY_EXTRA = ["begin_inventory_units", "labour_cost", "gross_margin", "unmet_revenue"]
RESOURCE_EXTRA = ["available_hours", "labour_cost"]
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
# demand_source codes: where D(s,m) came from
DEMAND_SOURCES = ("none", "baseline", "sales", "consensus")
BIAS_SOURCES = ("sales", "marketing")
VERDICT_CODES = {"inflating": 1, "sandbagging": -1}


def _months(series: pd.Series) -> np.ndarray:
    return series.astype(str).str.slice(0, 7).to_numpy(dtype=object)


def _numbers(series: pd.Series) -> np.ndarray:
    return pd.to_numeric(series, errors="coerce").to_numpy(dtype=float)


def _grid(
    frame: pd.DataFrame,
    rows: pd.Index,
    row_col: str,
    cols: pd.Index,
    col_col: str,
    values: np.ndarray,
    fill: float,
    *,
    add: bool = False,
) -> np.ndarray:
    """A ``(len(rows), len(cols))`` array from long rows; rows outside either index are ignored."""
    out = np.full((len(rows), len(cols)), fill, dtype=float)
    if frame.empty:
        return out
    ri = rows.get_indexer(
        _months(frame[row_col]) if row_col == "month" else frame[row_col].astype(str)
    )
    ci = cols.get_indexer(
        _months(frame[col_col]) if col_col == "month" else frame[col_col].astype(str)
    )
    ok = (ri >= 0) & (ci >= 0) & ~np.isnan(values)
    if add:
        out[:] = 0.0
        np.add.at(out, (ri[ok], ci[ok]), values[ok])
    else:
        out[ri[ok], ci[ok]] = values[ok]
    return out


@dataclass(frozen=True, eq=False)
class Model:
    """The plan data as arrays, before levers. Time-major: ``(M, S)``, ``(M, R)``, ``(M, F)``.

    NaN means "no row" where the method gives that a meaning (no capacity or headcount row =
    unlimited; no forecast); ``max_units`` is ``inf`` where there is no supply limit.
    """

    months: tuple[str, ...]
    skus: np.ndarray = field(repr=False)
    sku_names: np.ndarray = field(repr=False)
    families: tuple[str, ...]
    resources: tuple[str, ...]
    sku_family: np.ndarray = field(repr=False)  # (S,) index into families, sorted
    family_starts: np.ndarray = field(repr=False)  # (F,) first sku of each family
    demand: np.ndarray = field(repr=False)  # (M, S) D before the volume lever
    demand_source: np.ndarray = field(repr=False)  # (M, S) codes of DEMAND_SOURCES
    sales: np.ndarray = field(repr=False)  # (M, S) NaN where none
    marketing: np.ndarray = field(repr=False)
    baseline: np.ndarray = field(repr=False)
    unit_price: np.ndarray = field(repr=False)  # (S,)
    unit_material_cost: np.ndarray = field(repr=False)
    unit_variable_cost: np.ndarray = field(repr=False)
    target_cover_days: np.ndarray = field(repr=False)
    on_hand: np.ndarray = field(repr=False)
    hours_per_unit: np.ndarray = field(repr=False)  # (S, R), 0 = no routing
    routing: Routing = field(repr=False)  # the same as (sku, resource) pairs
    available_hours: np.ndarray = field(repr=False)  # (M, R) NaN = unlimited
    planned_fte: np.ndarray = field(repr=False)  # (M, R) NaN = no headcount row
    hours_per_fte: np.ndarray = field(repr=False)  # (R,)
    cost_per_fte: np.ndarray = field(repr=False)
    sites: np.ndarray = field(repr=False)
    max_units: np.ndarray = field(repr=False)  # (M, S) inf = no limit
    cash_items: np.ndarray = field(repr=False)  # (M,)
    budget_revenue: np.ndarray = field(repr=False)  # (M, F) NaN = no budget row
    budget_gross_margin: np.ndarray = field(repr=False)
    budget_inventory_value: np.ndarray = field(repr=False)
    bias_verdict: np.ndarray = field(repr=False)  # (2, F): sales, marketing; +1/-1/0
    settings: Settings = field(default_factory=Settings)
    cycle: str | None = None

    def family_sum(self, values: np.ndarray) -> np.ndarray:
        """Sum over each family's skus along the last axis: ``(..., S)`` to ``(..., F)``."""
        return np.add.reduceat(values, self.family_starts, axis=-1)

    @property
    def shape(self) -> tuple[int, int, int]:
        """(months, skus, resources)."""
        return len(self.months), len(self.skus), len(self.resources)


def prepare(data: PlanData, *, bias: pd.DataFrame | None = None) -> Model:
    """Turn the plan data into arrays once.

    Args:
        data: the contract frames, settings, cycle, horizon and baseline.
        bias: the track record's verdicts (columns source, family, verdict), e.g.
            ``trackrecord.source_bias(...)``; None = no bias-based disagreements.

    Raises:
        PlanError: no products, or an empty horizon.
    """
    t = data.tables
    products = t["products"]
    if products is None or products.empty:
        raise PlanError("No products are loaded: import a products table first.")
    if not data.months:
        raise PlanError("The plan horizon is empty: set horizon_months to 1 or more.")
    products = products.assign(sku=products["sku"].astype(str)).drop_duplicates("sku", keep="last")
    products = products.assign(family=products["family"].fillna("").astype(str))
    # skus sorted by family, then sku: each family is one contiguous block (fast sums)
    products = products.sort_values(["family", "sku"], kind="stable").reset_index(drop=True)
    skus = products["sku"].to_numpy(dtype=object)
    sku_index = pd.Index(skus)
    month_index = pd.Index(list(data.months))
    families = tuple(sorted(set(products["family"])))
    sku_family = pd.Index(families).get_indexer(products["family"]).astype(np.intp)
    family_starts = np.searchsorted(sku_family, np.arange(len(families))).astype(np.intp)
    n_months, n_skus = len(month_index), len(skus)

    def col(name: str) -> np.ndarray:
        if name not in products:
            return np.zeros(n_skus)
        return np.nan_to_num(_numbers(products[name]), nan=0.0)

    # demand sources of the current cycle
    forecasts = t["forecasts"]
    if data.cycle is not None and not forecasts.empty:
        forecasts = forecasts[forecasts["cycle"].astype(str).str.slice(0, 7) == data.cycle]
    else:
        forecasts = forecasts.iloc[0:0]
    by_source = {}
    for source in ("consensus", "sales", "marketing"):
        sub = forecasts[forecasts["source"] == source]
        by_source[source] = _grid(
            sub, month_index, "month", sku_index, "sku", _numbers(sub["units"]), np.nan
        )
    base = data.baseline if data.baseline is not None else pd.DataFrame()
    if base.empty or "units" not in base:
        baseline = np.full((n_months, n_skus), np.nan)
    else:
        baseline = _grid(
            base, month_index, "month", sku_index, "sku", _numbers(base["units"]), np.nan
        )
        baseline = np.maximum(baseline, 0.0)
    consensus, sales = by_source["consensus"], by_source["sales"]
    source = np.select(
        [~np.isnan(consensus), ~np.isnan(sales), ~np.isnan(baseline)], [3, 2, 1], default=0
    ).astype(np.int8)
    demand = np.select(
        [source == 3, source == 2, source == 1],
        [consensus, sales, baseline],
        default=0.0,
    )

    # inventory
    inv = t["inventory"]
    on_hand = np.zeros(n_skus)
    if not inv.empty:
        si = sku_index.get_indexer(inv["sku"].astype(str))
        units = np.nan_to_num(_numbers(inv["on_hand_units"]), nan=0.0)
        np.add.at(on_hand, si[si >= 0], units[si >= 0])

    # resources, routings, capacity, headcount
    res = t["resources"].assign(resource=t["resources"]["resource"].astype(str))
    res = res.drop_duplicates("resource", keep="last").sort_values("resource", kind="stable")
    resources = tuple(res["resource"].tolist())
    res_index = pd.Index(list(resources))
    routings = t["routings"]
    hours_per_unit = _grid(
        routings, sku_index, "sku", res_index, "resource", _numbers(routings["hours_per_unit"]), 0.0
    )
    cap = t["capacity"]
    available = _grid(
        cap, month_index, "month", res_index, "resource", _numbers(cap["available_hours"]), np.nan
    )
    hc = t["headcount"]
    planned = _grid(
        hc, month_index, "month", res_index, "resource", _numbers(hc["planned_fte"]), np.nan
    )
    limits = t["supply_limits"]
    max_units = _grid(
        limits, month_index, "month", sku_index, "sku", _numbers(limits["max_units"]), np.inf
    )

    # money: cash items, budget
    items = t["cash_items"]
    cash_items = np.zeros(n_months)
    if not items.empty:
        mi = month_index.get_indexer(_months(items["month"]))
        amounts = np.nan_to_num(_numbers(items["amount"]), nan=0.0)
        np.add.at(cash_items, mi[mi >= 0], amounts[mi >= 0])
    budget = t["budget"]
    family_index = pd.Index(list(families))

    def budget_grid(name: str) -> np.ndarray:
        values = _numbers(budget[name]) if name in budget else np.full(len(budget), np.nan)
        return _grid(budget, month_index, "month", family_index, "family", values, np.nan)

    return Model(
        months=tuple(month_index),
        skus=skus,
        sku_names=products["name"].astype(str).to_numpy(dtype=object)
        if "name" in products
        else skus,
        families=families,
        resources=resources,
        sku_family=sku_family,
        family_starts=family_starts,
        demand=demand,
        demand_source=source,
        sales=sales,
        marketing=by_source["marketing"],
        baseline=baseline,
        unit_price=col("unit_price"),
        unit_material_cost=col("unit_material_cost"),
        unit_variable_cost=col("unit_variable_cost"),
        target_cover_days=col("target_cover_days"),
        on_hand=on_hand,
        hours_per_unit=hours_per_unit,
        routing=Routing.from_dense(hours_per_unit),
        available_hours=available,
        planned_fte=planned,
        hours_per_fte=np.nan_to_num(_numbers(res["hours_per_fte"]), nan=0.0),
        cost_per_fte=np.nan_to_num(_numbers(res["cost_per_fte"]), nan=0.0),
        sites=res["site"].astype(str).to_numpy(dtype=object),
        max_units=max_units,
        cash_items=cash_items,
        budget_revenue=budget_grid("revenue"),
        budget_gross_margin=budget_grid("gross_margin"),
        budget_inventory_value=budget_grid("closing_inventory_value"),
        bias_verdict=_bias_codes(bias, families),
        settings=data.settings,
        cycle=data.cycle,
    )


def _bias_codes(bias: pd.DataFrame | None, families: tuple[str, ...]) -> np.ndarray:
    codes = np.zeros((len(BIAS_SOURCES), len(families)), dtype=np.int8)
    if bias is None or bias.empty or not {"source", "family", "verdict"} <= set(bias.columns):
        return codes
    si = pd.Index(list(BIAS_SOURCES)).get_indexer(bias["source"].astype(str))
    fi = pd.Index(list(families)).get_indexer(bias["family"].astype(str))
    verdict = bias["verdict"].astype(str).map(VERDICT_CODES).fillna(0).to_numpy(dtype=np.int8)
    ok = (si >= 0) & (fi >= 0)
    codes[si[ok], fi[ok]] = verdict[ok]
    return codes


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
    Prices and costs here are the scenario's (levers applied).
    """

    model: Model
    levers: Levers
    demand: np.ndarray  # (M, S) after the volume lever
    unit_price: np.ndarray  # (S,) after levers
    unit_material_cost: np.ndarray
    target_cover_days: np.ndarray
    available_hours: np.ndarray  # (M, R) after levers, NaN = no row
    planned_fte: np.ndarray
    dso_days: float
    dpo_days: float
    fixed_costs_per_month: float
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
        return self.supply.unmet * self.unit_price[None, :]

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
                "available_hours": self.available_hours,
                "labour_cost": self.finance.labour_resource,
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
        from sop_core.plan.disagreements import find_disagreements

        return find_disagreements(self.model, self)

    @cached_property
    def disagreement_totals(self) -> tuple[int, float]:
        """(number of disagreements, money at stake), from the table if it is built already,
        else counted without building it (cheaper: a what-if needs only these)."""
        if "disagreements" in self.__dict__:
            dis = self.disagreements
            return len(dis), float(dis["money_at_stake"].sum()) if len(dis) else 0.0
        from sop_core.plan.disagreements import disagreement_totals

        return disagreement_totals(self.model, self)

    @cached_property
    def summary(self) -> dict:
        """Totals over the horizon for the headline tiles (None where there is no figure)."""
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
        has_budget = ~np.isnan(m.budget_revenue)
        count, at_stake = self.disagreement_totals
        return {
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
            "budget_revenue": float(np.nansum(m.budget_revenue)) if has_budget.any() else None,
            "budget_gross_margin": _none_if_nan(float(np.nansum(m.budget_gross_margin)))
            if (~np.isnan(m.budget_gross_margin)).any()
            else None,
            "disagreements_count": count,
            "money_at_stake": at_stake,
        }

    def level(self, name: str) -> pd.DataFrame:
        """Exactly the CLI columns of ``plan --level name`` (company, family or resource).

        Raises:
            PlanError: an unknown level.
        """
        if name not in LEVEL_COLUMNS:
            raise PlanError(f'Unknown level "{name}" (expected one of {", ".join(LEVEL_COLUMNS)}).')
        return getattr(self, name)[LEVEL_COLUMNS[name]]


# --- from the store -------------------------------------------------------------------------


def _needs_baseline(data: PlanData) -> bool:
    """True when some sku-month of the horizon has neither a consensus nor a sales forecast."""
    fc = data.tables["forecasts"]
    n_needed = data.tables["products"]["sku"].nunique() * len(data.months)
    if data.cycle is None or fc.empty:
        return n_needed > 0
    fc = fc[
        (fc["cycle"].astype(str).str.slice(0, 7) == data.cycle)
        & fc["source"].isin(["consensus", "sales"])
    ]
    months = _months(fc["month"])
    inside = np.isin(months, list(data.months)) & fc["sku"].isin(data.tables["products"]["sku"])
    covered = pd.DataFrame({"sku": fc["sku"][inside], "month": months[inside]}).drop_duplicates()
    return len(covered) < n_needed


def _with_baseline(store, data: PlanData) -> PlanData:
    if not _needs_baseline(data):
        return data
    try:
        from sop_core.forecasting.baseline import ensure_baseline
    except ImportError:  # no forecasting module: plan on the stored baseline, if any
        return data
    # without a cycle (no forecasts at all) the baseline is kept under the first plan month
    baseline = ensure_baseline(store, data.cycle or data.months[0])
    return data if baseline is None else data.with_baseline(baseline)


def _bias(data: PlanData) -> pd.DataFrame | None:
    if data.cycle is None or data.tables["actuals"].empty:
        return None  # no past cycle can be scored
    try:
        from sop_core.forecasting.trackrecord import source_bias, track_record
    except ImportError:  # no track record: no bias-based disagreements
        return None
    track = track_record(
        data.tables["actuals"],
        data.tables["forecasts"],
        data.tables["products"],
        current_cycle=data.cycle,
    )
    return source_bias(track, data.settings.tolerance_pct)


def _model_from_data(store, data: PlanData) -> Model:
    data = _with_baseline(store, data)
    return prepare(data, bias=_bias(data))


def model_for_store(store, cycle: str | None = None) -> Model:
    """A store's cycle (default: the current cycle) prepared for ``compute``.

    The baseline comes from ``forecast.ensure_baseline`` when some sku-month of the horizon has
    neither a consensus nor a sales forecast; the bias verdicts from the track record.

    Raises:
        PlanError: no products.
    """
    from sop_core.store.plandata import load_plan_data

    return _model_from_data(store, load_plan_data(store, cycle))


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
    from sop_core.plan.levers import scenario_levers
    from sop_core.store.plandata import load_plan_data

    extra = parse_levers(lever_args)  # a typing error fails before any slow step
    data = load_plan_data(store, cycle)
    saved = scenario_levers(store, data.cycle, scenario) if scenario else []
    levers = parse_levers(saved)
    levers.update(extra)
    validate_levers(levers, data.families, data.resource_names)
    return compute(_model_from_data(store, data), levers)
