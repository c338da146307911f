"""The plan data as arrays before levers (``prepare``): contract frames to time-major numpy grids, once per data version."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from sop_core.codes import month_labels, positions, rows_in
from sop_core.errors import PlanError
from sop_core.forecasting.consensus import get_choice_from_row
from sop_core.forecasting.trackrecord import ALL_FAMILIES
from sop_core.plan.lifecycle import Lifecycle, lifecycle_of
from sop_core.plan.supply import Routing
from sop_core.settings import Settings
from sop_core.store.plandata import PlanData

# demand_source codes: where D(s,m) came from
DEMAND_SOURCES = ("none", "baseline", "sales", "consensus")


BIAS_SOURCES = ("sales", "marketing")


VERDICT_CODES = {"inflating": 1, "sandbagging": -1}


def _numbers(series: pd.Series) -> np.ndarray:
    if pd.api.types.is_float_dtype(series.dtype):  # a store's column: no parsing
        return series.to_numpy(dtype=float, na_value=np.nan)
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
    ri = positions(rows, frame[row_col], month=row_col == "month")
    ci = positions(cols, frame[col_col], month=col_col == "month")
    ok = (ri >= 0) & (ci >= 0) & ~np.isnan(values)
    if add:
        out[:] = 0.0
        np.add.at(out, (ri[ok], ci[ok]), values[ok])
    else:
        out[ri[ok], ci[ok]] = values[ok]
    return out


def _source_grids(
    forecasts: pd.DataFrame, cycle: str | None, months: pd.Index, skus: pd.Index
) -> dict[str, np.ndarray]:
    """``(M, S)`` units of each demand source of the cycle (consensus, sales, marketing), NaN
    where it has no row; of two rows for one sku-month, the later. Masks over the whole frame,
    not filtered copies: a large company's cycle is millions of rows."""
    out = {
        s: np.full((len(months), len(skus)), np.nan) for s in ("consensus", "sales", "marketing")
    }
    if cycle is None or forecasts.empty:
        return out
    source = forecasts["source"]
    wanted = rows_in(forecasts["cycle"], [cycle], month=True) & rows_in(source, list(out))
    if not wanted.any():
        return out
    mi = positions(months, forecasts["month"], month=True)
    si = positions(skus, forecasts["sku"], month=False)
    units = _numbers(forecasts["units"])
    wanted = wanted & (mi >= 0) & (si >= 0) & ~np.isnan(units)
    for name, grid in out.items():
        rows = wanted & (source == name).to_numpy(dtype=bool)
        grid[mi[rows], si[rows]] = units[rows]
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
    # launch and end months, like skus, the months with demand (plan.lifecycle)
    lifecycle: Lifecycle = field(repr=False)
    settings: Settings = field(default_factory=Settings)
    cycle: str | None = None
    # family -> the consensus choice the team set with a reason in this cycle (author,
    # updated_at, reason, describe): its forecast disagreements are resolved
    consensus_choices: dict = field(default_factory=dict, repr=False)
    # the frames it was prepared from (frozen ones for a locked plan): budget, settings, tables
    data: PlanData | None = field(default=None, repr=False)
    # the baseline's 80 % band, (M, S), NaN where unknown: the demand ranges' spread (plan.ranges)
    baseline_p10: np.ndarray | None = field(default=None, repr=False)
    baseline_p90: np.ndarray | None = field(default=None, repr=False)
    # each demand source's spread by family, (len(DEMAND_SOURCES), F), rows by source code: mean
    # and sd of ln(actual/forecast) in its track record (trackrecord.source_spread; the family's,
    # else the source's over all families); NaN where it has no record (none, baseline: always)
    source_log_mean: np.ndarray | None = field(default=None, repr=False)
    source_log_sd: np.ndarray | None = field(default=None, repr=False)

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
            ``trackrecord.source_bias(...)``; None = no bias-based disagreements. With columns
            ``log_ratio_mean`` and ``log_ratio_sd`` (``service.bias_verdicts``), each source's
            spread for the demand ranges.

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

    by_source = _source_grids(t["forecasts"], data.cycle, month_index, sku_index)
    base = data.baseline if data.baseline is not None else pd.DataFrame()

    def baseline_grid(name: str) -> np.ndarray:
        if base.empty or name not in base:
            return np.full((n_months, n_skus), np.nan)
        grid = _grid(base, month_index, "month", sku_index, "sku", _numbers(base[name]), np.nan)
        return np.maximum(grid, 0.0)

    baseline = baseline_grid("units")
    # the band around the units (stored so; kept so for frames made by hand), NaN = unknown
    p10, p90 = baseline_grid("p10"), baseline_grid("p90")
    life = lifecycle_of(products, list(data.months), t["actuals"])
    if life.like_for_like.any():
        # a new product takes its like sku's baseline and band (× like_share); masked below
        # before launch
        new = np.flatnonzero(life.like_for_like)
        for grid in (baseline, p10, p90):
            grid[:, new] = grid[:, life.like[new]] * life.like_share[new][None, :]
    p10 = np.where(np.isnan(p10), np.nan, np.fmin(p10, baseline))
    p90 = np.where(np.isnan(p90), np.nan, np.fmax(p90, baseline))
    consensus, sales = by_source["consensus"], by_source["sales"]
    marketing = by_source["marketing"]
    if life.restricts:
        # no demand outside [launch_month, end_month]: every source is absent there
        off = ~life.active
        for grid in (consensus, sales, marketing, baseline, p10, p90):
            grid[off] = np.nan
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
        mi = month_index.get_indexer(month_labels(items["month"]))
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
        marketing=marketing,
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
        lifecycle=life,
        settings=data.settings,
        cycle=data.cycle,
        consensus_choices=choices_of(data.consensus_choices),
        data=data,
        baseline_p10=p10,
        baseline_p90=p90,
        source_log_mean=_source_record(bias, families, "log_ratio_mean"),
        source_log_sd=_source_record(bias, families, "log_ratio_sd"),
    )


def choices_of(frame: pd.DataFrame) -> dict[str, dict]:
    """The cycle's consensus choices by family, as the disagreements show them."""
    out = {}
    for _, row in frame.iterrows():
        choice = get_choice_from_row(row)
        out[choice.family] = {
            "author": choice.author,
            "updated_at": choice.updated_at,
            "reason": choice.reason,
            "describe": choice.describe(),
        }
    return out


def with_bias(model: Model, bias: pd.DataFrame | None) -> Model:
    """The model with ``bias`` in place (as ``prepare(data, bias=bias)`` gives it), for a model
    prepared while the track record was still being scored."""
    return replace(
        model,
        bias_verdict=_bias_codes(bias, model.families),
        source_log_mean=_source_record(bias, model.families, "log_ratio_mean"),
        source_log_sd=_source_record(bias, model.families, "log_ratio_sd"),
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


def _source_record(bias: pd.DataFrame | None, families: tuple[str, ...], column: str) -> np.ndarray:
    """``(len(DEMAND_SOURCES), F)``: a track-record figure of each demand source by family (its
    pooled ``"All"`` figure where the family has none), NaN where the source has no record."""
    out = np.full((len(DEMAND_SOURCES), len(families)), np.nan)
    needed = {"source", "family", column}
    if bias is None or bias.empty or not needed <= set(bias.columns):
        return out
    rows = bias
    if "n_points" in rows:
        rows = rows[pd.to_numeric(rows["n_points"], errors="coerce").fillna(0) > 0]
    values = pd.to_numeric(rows[column], errors="coerce").to_numpy(dtype=float)
    codes = pd.Index(list(DEMAND_SOURCES)).get_indexer(rows["source"].astype(str))
    names = rows["family"].astype(str).to_numpy(dtype=object)
    fi = pd.Index(list(families)).get_indexer(names)
    pooled = names == ALL_FAMILIES
    for code, value in zip(codes[pooled], values[pooled], strict=True):
        if code >= 0:
            out[code, :] = value
    ok = (codes >= 0) & (fi >= 0) & np.isfinite(values)
    out[codes[ok], fi[ok]] = values[ok]
    out[: DEMAND_SOURCES.index("sales")] = np.nan  # none and baseline: no such record here
    return out
