"""Where the stories disagree: each disagreement of a plan, its two figures, its money, its root cause.

Money at stake is what the plan would gain or lose if the other story held, and each pound is
counted once (docs/METHOD.md, "Money at stake"):

- a lost sale is attributed to the one constraint that cut that sku's production that month (the
  most loaded resource it uses, or its supplier limit); the unmet-demand row carries it, the
  capacity and labour rows show it without counting it again;
- a biased forecast is priced at the revenue it moves in the plan (nothing once the consensus,
  not the biased source, drives the plan);
- a gap to budget is priced at what lost sales, forecast bias and stock left at end of life do
  not already explain;
- stocks (inventory, cash) are counted at their worst month, not once a month; the stock a
  product leaves when it ends, once, at its end month.

Every row names its root cause (``cause``: kind and where); ``root_causes`` groups the rows and
adds up only the money each row ``counted``.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np
import pandas as pd

from sop_core import fmt
from sop_core.months import month_diff, month_label, span_label
from sop_core.plan.assumption_check import flagged_tests
from sop_core.plan.finance import Finance
from sop_core.plan.lifecycle import stock_left
from sop_core.plan.model import Model
from sop_core.plan.supply import SupplyPlan
from sop_core.settings import Settings

__all__ = [
    "DISAGREEMENT_COLUMNS",
    "DISAGREEMENT_TYPES",
    "ROOT_CAUSE_COLUMNS",
    "WARNING_LEVEL",
    "HIGH_SHARE",
    "MEDIUM_SHARE",
    "OPEN",
    "RESOLVED",
    "Totals",
    "PlanFigures",
    "find_disagreements",
    "disagreement_totals",
    "totals_of_table",
    "root_causes",
    "severity",
]

DISAGREEMENT_COLUMNS = [
    "month",
    "type",
    "entity",
    "family",
    "resource",
    "story_a",
    "figure_a",
    "story_b",
    "figure_b",
    "gap",
    "unit",
    "money_at_stake",
    "severity",
    "owner",
    "review",
    "cause",
    "counted",
    "status",
    "resolved_by",
    "resolved_at",
    "resolution",
]
ROOT_CAUSE_COLUMNS = [
    "cause",
    "kind",
    "entity",
    "title",
    "measure",
    "money_at_stake",
    "first_month",
    "last_month",
    "months",
    "rows",
    "severity",
    "owner",
    "review",
    "status",
    "resolved_by",
    "resolved_at",
    "resolution",
]

SUPPLY_REVIEW = "Supply review"
DEMAND_REVIEW = "Demand review"
RECONCILIATION = "Integrated reconciliation"
OPEN, RESOLVED = "open", "resolved"
STOCK_LEFT = "Stock left at end of life"  # story_a of a product ending in the horizon

# type -> (owner, review), in the order used to break ties
DISAGREEMENT_TYPES: dict[str, tuple[str, str]] = {
    "cash_below_minimum": ("Finance", RECONCILIATION),
    "unmet_demand": ("Operations", SUPPLY_REVIEW),
    "capacity_overload": ("Operations", SUPPLY_REVIEW),
    "labour_shortfall": ("Operations", SUPPLY_REVIEW),
    "labour_surplus": ("Operations", SUPPLY_REVIEW),
    "stock_left_end_of_life": ("Operations", SUPPLY_REVIEW),
    "revenue_vs_budget": ("Finance", RECONCILIATION),
    "margin_vs_budget": ("Finance", RECONCILIATION),
    "inventory_vs_budget": ("Finance", RECONCILIATION),
    "forecast_inflated": ("Sales", DEMAND_REVIEW),  # owner: the source, Sales or Marketing
    "forecast_sandbagged": ("Sales", DEMAND_REVIEW),
    # owner: the assumption's owner in the register (Finance for DSO by default)
    "assumption_drift": ("Finance", RECONCILIATION),
    "capacity_warning": ("Operations", SUPPLY_REVIEW),
}
_TYPE_RANK = {kind: i for i, kind in enumerate(DISAGREEMENT_TYPES)}
ALWAYS_HIGH = {"cash_below_minimum"}
ALWAYS_LOW = {"capacity_warning"}
WARNING_LEVEL = 0.9  # utilisation from which a resource is flagged as a warning
HIGH_SHARE = 0.02  # money ≥ 2 % of the average monthly plan revenue: high
MEDIUM_SHARE = 0.005  # ≥ 0.5 %: medium; below: low
_EPS = 1e-9
_SEVERITY_RANK = {"high": 3, "medium": 2, "low": 1}

# Root-cause kinds: the measure their money is in, and (owner, review).
CAUSES: dict[str, tuple[str, str, str]] = {
    "capacity": ("sales lost", "Operations", SUPPLY_REVIEW),
    "near_capacity": ("nothing lost yet", "Operations", SUPPLY_REVIEW),
    "supply_limit": ("sales lost", "Operations", SUPPLY_REVIEW),
    "unmet": ("sales lost", "Operations", SUPPLY_REVIEW),
    "labour_surplus": ("labour cost without work", "Operations", SUPPLY_REVIEW),
    "end_of_life": ("stock left at end of life, at cost", "Operations", SUPPLY_REVIEW),
    "bias": ("plan revenue resting on a biased forecast", "Sales", DEMAND_REVIEW),
    "budget_revenue": ("revenue gap to budget, not explained above", "Finance", RECONCILIATION),
    "budget_margin": ("margin gap to budget beyond the revenue gap", "Finance", RECONCILIATION),
    "budget_inventory": ("inventory value gap at the worst month", "Finance", RECONCILIATION),
    "cash": ("cash short of the minimum at the lowest", "Finance", RECONCILIATION),
    "assumption": ("what the plan moves if the measured value held", "Finance", RECONCILIATION),
}


class PlanFigures(Protocol):
    """What the rules read of a computed plan (``plan.result.PlanResult`` is one)."""

    supply: SupplyPlan
    finance: Finance
    demand: np.ndarray  # (M, S) after the volume lever
    unit_price: np.ndarray  # (M, S) the scenario's prices, month by month
    planned_fte: np.ndarray  # (M, R) after levers
    target_cover_days: np.ndarray  # (S,) after levers
    dso_days: float

    @property
    def family_arrays(self) -> dict[str, np.ndarray]: ...

    @property
    def fte_needed(self) -> np.ndarray: ...


def _beyond(gap: np.ndarray, reference: np.ndarray, tolerance: float) -> np.ndarray:
    """|gap| > tolerance × |reference|, ignoring floating-point dust."""
    ref = np.abs(reference)
    return np.abs(gap) > tolerance * ref + _EPS * np.maximum(ref, 1.0)


def _worst_month_only(mask: np.ndarray, size: np.ndarray) -> np.ndarray:
    """(M, K): True in each column's row of largest ``size`` among the masked rows (a stock is
    counted at its worst month, not once a month)."""
    out = np.zeros(mask.shape, dtype=bool)
    if not mask.any():
        return out
    score = np.where(mask, size, -np.inf)
    worst = np.argmax(score, axis=0)
    cols = np.flatnonzero(mask.any(axis=0))
    out[worst[cols], cols] = True
    return out


@dataclass
class Totals:
    """The headline of the disagreements: rows, open root causes, money at stake counted once."""

    rows: int = 0
    root_causes: int = 0
    money: float = 0.0
    _causes: set = field(default_factory=set, repr=False)

    def add(self, kind: str, mask: np.ndarray, names: np.ndarray, *, by: str, **cols) -> None:
        n = int(np.count_nonzero(mask))
        if n == 0:
            return
        self.rows += n
        money = cols["money_at_stake"]
        counted = cols.get("counted", True)
        status_open = cols.get("status", OPEN)
        take = mask & _as_grid(counted, mask.shape) & (_as_grid(status_open, mask.shape) == OPEN)
        if isinstance(money, np.ndarray) and money.ndim == 2:
            self.money += float(np.nansum(np.where(take, money, 0.0)))
        else:
            self.money += float(np.count_nonzero(take)) * float(money)
        open_mask = mask & (_as_grid(status_open, mask.shape) == OPEN)
        cause = cols["cause"]
        if isinstance(cause, np.ndarray) and cause.ndim == 2:
            self._causes.update(cause[open_mask].tolist())
        else:
            for k in np.flatnonzero(open_mask.any(axis=0)):
                self._causes.add(f"{cause}|{names[k]}")
        self.root_causes = len(self._causes)


def _as_grid(value, shape) -> np.ndarray:
    if isinstance(value, np.ndarray) and value.ndim == 2:
        return value
    return np.full(shape, value, dtype=object if isinstance(value, str) else type(value))


class _Rows:
    """Collects blocks of rows as arrays; one sorted DataFrame is built at the end."""

    _KEYS = ("_month", "_entity", "_rank")  # integer sort keys, not output columns

    def __init__(self, months: np.ndarray):
        self.months = months
        self.parts: dict[str, list[np.ndarray]] = {
            c: [] for c in (*DISAGREEMENT_COLUMNS, *self._KEYS)
        }

    def add(self, kind: str, mask: np.ndarray, names: np.ndarray, *, by: str, **cols) -> None:
        """Rows where ``mask`` (M, K) holds; ``names`` (K,) are families or resources (``by``).

        ``cause`` is a kind (the row's entity completes it) or an (M, K) array of full keys.
        """
        mi, ki = np.nonzero(mask)
        n = len(mi)
        if n == 0:
            return
        owner, review = DISAGREEMENT_TYPES[kind]
        entity = names[ki]
        none = np.full(n, None, dtype=object)
        cause = cols.pop("cause")
        values = {
            "month": self.months[mi],
            "type": np.full(n, kind, dtype=object),
            "entity": entity,
            "family": entity if by == "family" else none,
            "resource": entity if by == "resource" else none,
            "owner": np.full(n, owner, dtype=object),
            "review": np.full(n, review, dtype=object),
            "severity": none,
            "counted": np.ones(n, dtype=bool),
            "status": np.full(n, OPEN, dtype=object),
            "resolved_by": none,
            "resolved_at": none,
            "resolution": none,
            "cause": cause[mask]
            if isinstance(cause, np.ndarray)
            else np.asarray([f"{cause}|{e}" for e in entity], dtype=object),
            "_month": mi,
            "_entity": ki,
            "_rank": np.full(n, _TYPE_RANK[kind]),
        }
        for name, value in cols.items():
            if isinstance(value, np.ndarray) and value.ndim == 2:
                values[name] = value[mask]
            elif name == "counted":
                values[name] = np.full(n, bool(value))
            else:
                values[name] = np.full(n, value, dtype=object if isinstance(value, str) else float)
        for c in self.parts:
            self.parts[c].append(values[c])

    def frame(self, average_monthly_revenue: float) -> pd.DataFrame:
        """The rows with their severity, by money at stake (then type, month, entity)."""
        if not self.parts["month"]:
            empty = {c: pd.Series(dtype=_DTYPES.get(c, object)) for c in DISAGREEMENT_COLUMNS}
            return pd.DataFrame(empty)
        cols = {c: np.concatenate(part) for c, part in self.parts.items()}
        money = cols["money_at_stake"].astype(float)
        cols["severity"] = severity(cols["type"], money, average_monthly_revenue)
        cols["counted"] = cols["counted"].astype(bool)
        order = np.lexsort((cols["_entity"], cols["_month"], cols["_rank"], -money))
        return pd.DataFrame({c: cols[c][order] for c in DISAGREEMENT_COLUMNS})


_DTYPES = {
    "figure_a": float,
    "figure_b": float,
    "gap": float,
    "money_at_stake": float,
    "counted": bool,
}


def severity(kind: np.ndarray, money: np.ndarray, average_monthly_revenue: float) -> np.ndarray:
    """high / medium / low: cash always high, warnings always low, else by money at stake.

    High when money ≥ HIGH_SHARE of the horizon's average monthly plan revenue, medium when
    ≥ MEDIUM_SHARE, else low; with no revenue, any money above 0 is high.
    """
    base = max(float(average_monthly_revenue), 0.0)
    high = (money >= HIGH_SHARE * base) & (money > 0)
    medium = (money >= MEDIUM_SHARE * base) & (money > 0)
    by_money = np.where(high, "high", np.where(medium, "medium", "low"))
    out = np.where(np.isin(kind, list(ALWAYS_LOW)), "low", by_money)
    return np.where(np.isin(kind, list(ALWAYS_HIGH)), "high", out).astype(object)


def find_disagreements(
    model: Model, result: PlanFigures, settings: Settings | None = None
) -> pd.DataFrame:
    """Every disagreement of the plan, sorted by money at stake (largest first).

    Args:
        model: the prepared data (budget, forecasts, baseline, bias verdicts, consensus choices).
        result: the computed plan (levers applied).
        settings: for tolerance_pct, minimum_cash and currency; default the model's.

    Returns:
        Columns DISAGREEMENT_COLUMNS; ``gap`` = figure_a − figure_b; a row whose money another
        row already carries has ``counted`` False; a resolved one has ``status`` "resolved".
    """
    rows = _Rows(np.asarray(model.months, dtype=object))
    _find(model, result, settings or model.settings, rows)
    return rows.frame(float(result.finance.revenue.mean()))


def disagreement_totals(
    model: Model, result: PlanFigures, settings: Settings | None = None
) -> Totals:
    """The rows of ``find_disagreements`` counted, their open root causes counted, and the money
    at stake of the counted open rows added up, without building the table."""
    totals = Totals()
    _find(model, result, settings or model.settings, totals)
    return totals


def totals_of_table(dis: pd.DataFrame) -> Totals:
    """The totals of a built (possibly filtered) disagreement table: rows, open root causes, and
    the money of its counted open rows: the same figures ``disagreement_totals`` gives."""
    if dis.empty:
        return Totals()
    open_rows = dis["status"] == OPEN
    counted = open_rows & dis["counted"].astype(bool)
    return Totals(
        rows=len(dis),
        root_causes=int(dis.loc[open_rows, "cause"].nunique()),
        money=float(dis.loc[counted, "money_at_stake"].sum()),
    )


# --- lost sales, attributed -----------------------------------------------------------------


def _lost_sales_causes(model: Model, result: PlanFigures) -> tuple[np.ndarray, np.ndarray]:
    """For each sku-month with unmet demand, what cut it: ``(cause, lost)`` both ``(M, S)``.

    ``cause`` holds 0 where nothing was lost, ``1 + r`` for resource ``r`` (the most loaded one
    the sku uses, when production fell short of what was asked), ``-1`` for the supplier limit
    (production at its maximum units) and ``-2`` otherwise. ``lost`` is unmet × price.
    """
    lost = result.supply.unmet * result.unit_price
    # what cut each sku-month depends on the supply plan alone: plans that share it (a price
    # change, ``engine``) share the causes
    cause = _CAUSES.get(result.supply)
    if cause is None:
        cause = _CAUSES[result.supply] = _causes(model, result.supply, result.demand)
    return cause, lost


_CAUSES: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # SupplyPlan -> cause


def _causes(model: Model, supply, demand: np.ndarray) -> np.ndarray:
    """``cause`` of ``_lost_sales_causes``, ``(M, S)``."""
    unmet = supply.unmet
    cause = np.zeros(unmet.shape, dtype=np.int64)
    mi, si = np.nonzero(unmet > _EPS * np.maximum(demand, 1.0))
    if len(mi) == 0:
        return cause
    req, production = supply.req[mi, si], supply.production[mi, si]
    limit = model.max_units[mi, si]
    finite = np.isfinite(limit)
    at_limit = finite & (production >= np.where(finite, limit, 0.0) * (1.0 - _EPS) - _EPS)
    short = production < req - _EPS * np.maximum(req, 1.0)
    cut_by_capacity = short & ~at_limit
    cells = np.full(len(mi), -2, dtype=np.int64)
    cells[at_limit & short] = -1
    routing = model.routing
    if cut_by_capacity.any() and len(routing.sku):
        with np.errstate(divide="ignore", invalid="ignore"):
            util = np.where(supply.capacity > 0, supply.load / supply.capacity, np.inf)
        starts = routing.starts
        ordinal = np.full(routing.n_skus, -1)  # sku -> its place among the routed skus
        ordinal[routing.sku[starts]] = np.arange(len(starts))
        owner = ordinal[routing.sku]  # pair -> its sku's place
        idx = np.flatnonzero(cut_by_capacity)
        idx = idx[ordinal[si[idx]] >= 0]  # a sku without routings is cut by nothing here
        months, month_of = np.unique(mi[idx], return_inverse=True)
        chosen = np.empty((len(months), len(starts)), dtype=np.int64)
        for k, m in enumerate(months):  # month by month: (pairs,) arrays, not (cells × pairs)
            score = util[m, routing.resource]
            best = np.maximum.reduceat(score, starts)
            # the most loaded resource the sku uses; of equally loaded ones, the first
            first = np.where(score >= best[owner], routing.resource, np.iinfo(np.int64).max)
            chosen[k] = np.minimum.reduceat(first, starts)
        cells[idx] = chosen[month_of, ordinal[si[idx]]] + 1
    cause[mi, si] = cells
    return cause


def _family_cause_keys(
    model: Model, cause: np.ndarray, lost: np.ndarray, families: np.ndarray
) -> tuple[np.ndarray, dict[int, np.ndarray]]:
    """The cause of each family-month's lost sales (the one carrying most of it), as keys, and
    the lost sales per cause code ``(M, F)``."""
    n_months, n_skus = cause.shape
    n_families = len(families)
    keys = np.full((n_months, n_families), None, dtype=object)
    cells = np.flatnonzero(cause)  # the sku-months that lost sales, month by month, sku by sku
    if not len(cells):
        return keys, {}
    codes, code_of = np.unique(cause.ravel()[cells], return_inverse=True)
    month, sku = np.divmod(cells, n_skus)
    bucket = (code_of * n_months + month) * n_families + model.sku_family[sku]
    stacked = np.bincount(
        bucket, weights=lost.ravel()[cells], minlength=len(codes) * n_months * n_families
    ).reshape(len(codes), n_months, n_families)  # (C, M, F)
    by_code = {int(c): stacked[i] for i, c in enumerate(codes)}
    dominant = codes[np.argmax(stacked, axis=0)]
    resources = np.asarray(model.resources, dtype=object)
    for (m, f), code in np.ndenumerate(dominant):
        if code >= 1:
            keys[m, f] = f"capacity|{resources[code - 1]}"
        elif code == -1:
            keys[m, f] = f"supply_limit|{families[f]}"
        else:
            keys[m, f] = f"unmet|{families[f]}"
    return keys, by_code


def _lost_by_resource(
    by_code: dict[int, np.ndarray], n_months: int, n_resources: int
) -> np.ndarray:
    out = np.zeros((n_months, n_resources))
    for code, per_family in by_code.items():
        if code >= 1:
            out[:, code - 1] = per_family.sum(axis=1)
    return out


# --- the rules ------------------------------------------------------------------------------


def _find(model: Model, result: PlanFigures, settings: Settings, rows: _Rows | Totals) -> None:
    """Apply every rule of the reference method, handing each block of rows to ``rows``."""
    tol = float(settings.tolerance_pct) / 100.0
    currency = settings.currency
    families = np.asarray(model.families, dtype=object)
    resources = np.asarray(model.resources, dtype=object)
    fa = result.family_arrays
    supply, money = result.supply, result.finance
    n_months = len(model.months)

    # Demand above what supply can ship: the sales lost, each attributed to what cut it. These
    # rows carry the money; the capacity and labour rows below show the same money uncounted.
    cause, lost = _lost_sales_causes(model, result)
    family_cause, by_code = _family_cause_keys(model, cause, lost, families)
    lost_resource = _lost_by_resource(by_code, n_months, len(resources))
    unmet = fa["unmet_units"]
    rows.add(
        "unmet_demand",
        unmet > _EPS * np.maximum(fa["demand_units"], 1.0),
        families,
        by="family",
        story_a="Demand plan",
        figure_a=fa["demand_units"],
        story_b="Supply can ship",
        figure_b=fa["shipped_units"],
        gap=unmet,
        unit="units",
        money_at_stake=fa["unmet_revenue"],
        cause=np.where(
            pd.isna(family_cause),
            np.char.add("unmet|", families.astype(str))[None, :],
            family_cause,
        ),
    )

    # Resources loaded beyond capacity by what demand asks for: priced at the sales this
    # resource's shortfall actually cost (counted on the unmet-demand rows), not at the hours.
    load, cap = supply.load, supply.capacity
    limited = np.isfinite(cap) & (load > 0)
    over = limited & (load > cap * (1.0 + _EPS))
    warn = limited & ~over & (load >= WARNING_LEVEL * cap)
    common = dict(
        story_a="Load asked by demand",
        figure_a=load,
        story_b="Capacity",
        figure_b=cap,
        gap=load - cap,
        unit="hours",
        cause="capacity",
    )
    rows.add(
        "capacity_overload",
        over,
        resources,
        by="resource",
        money_at_stake=lost_resource,
        counted=False,
        **common,
    )
    common["cause"] = "near_capacity"
    rows.add("capacity_warning", warn, resources, by="resource", money_at_stake=0.0, **common)

    # FTE needed (from demand) against the recruitment plan. A shortfall costs the sales lost
    # when labour is what binds (counted on the unmet-demand rows); a surplus costs its wages.
    needed, planned = result.fte_needed, result.planned_fte
    fte_gap = needed - planned
    known = ~np.isnan(fte_gap)
    beyond = known & _beyond(np.nan_to_num(fte_gap), np.nan_to_num(planned), tol)
    labour_binds = planned * model.hours_per_fte[None, :] <= cap * (1.0 + _EPS)
    common = dict(
        story_a="FTE needed by demand",
        figure_a=needed,
        story_b="FTE planned",
        figure_b=planned,
        gap=fte_gap,
        unit="FTE",
    )
    rows.add(
        "labour_shortfall",
        beyond & (fte_gap > 0),
        resources,
        by="resource",
        money_at_stake=np.where(labour_binds, lost_resource, 0.0),
        counted=False,
        cause="capacity",
        **common,
    )
    rows.add(
        "labour_surplus",
        beyond & (fte_gap < 0),
        resources,
        by="resource",
        money_at_stake=np.abs(np.nan_to_num(fte_gap)) * model.cost_per_fte[None, :],
        cause="labour_surplus",
        **common,
    )

    # A sales or marketing forecast off the baseline in the direction of its known bias, priced
    # at the revenue it moves in the plan (see _bias_money). Done before the budget rules, which
    # take its effect out of the budget gap.
    inflation_moved, sandbag_moved = _bias_rules(model, result, tol, families, rows)

    # Stock still on hand when a product ends, valued at cost: a stock, counted once at its end
    # month. Its value, held from then on, is taken out of the inventory gap to budget below.
    dead_value = _end_of_life_rule(model, result, families, rows)

    # The plan against finance's budget, priced at what the rules above do not explain.
    lost_family = fa["unmet_revenue"]
    budget_rev = model.budget_revenue
    has = ~np.isnan(budget_rev)
    if has.any():
        gap = fa["revenue"] - budget_rev
        residual = fa["revenue"] + lost_family - inflation_moved + sandbag_moved - budget_rev
        rows.add(
            "revenue_vs_budget",
            has & _beyond(np.nan_to_num(gap), np.nan_to_num(budget_rev), tol),
            families,
            by="family",
            story_a="Plan revenue",
            figure_a=fa["revenue"],
            story_b="Budget revenue",
            figure_b=budget_rev,
            gap=gap,
            unit=currency,
            money_at_stake=np.abs(np.nan_to_num(residual)),
            cause="budget_revenue",
        )
    budget_gm = model.budget_gross_margin
    has = ~np.isnan(budget_gm)
    if has.any():
        gap = fa["gross_margin"] - budget_gm
        with np.errstate(divide="ignore", invalid="ignore"):
            rate = np.where(np.nan_to_num(budget_rev) != 0, budget_gm / budget_rev, 0.0)
        explained = np.nan_to_num(fa["revenue"] - budget_rev) * np.nan_to_num(rate)
        rows.add(
            "margin_vs_budget",
            has & _beyond(np.nan_to_num(gap), np.nan_to_num(budget_gm), tol),
            families,
            by="family",
            story_a="Plan gross margin",
            figure_a=fa["gross_margin"],
            story_b="Budget gross margin",
            figure_b=budget_gm,
            gap=gap,
            unit=currency,
            money_at_stake=np.abs(np.nan_to_num(gap - explained)),
            cause="budget_margin",
        )
    budget_inv = model.budget_inventory_value
    has = ~np.isnan(budget_inv)
    if has.any():
        gap = fa["inventory_value"] - budget_inv
        mask = has & _beyond(np.nan_to_num(gap), np.nan_to_num(budget_inv), tol)
        rows.add(
            "inventory_vs_budget",
            mask,
            families,
            by="family",
            story_a="Plan inventory value",
            figure_a=fa["inventory_value"],
            story_b="Budget inventory value",
            figure_b=budget_inv,
            gap=gap,
            unit=currency,
            money_at_stake=np.abs(np.nan_to_num(gap - dead_value)),
            counted=_worst_month_only(mask, np.abs(np.nan_to_num(gap - dead_value))),
            cause="budget_inventory",
        )

    # Closing cash below the minimum: counted once, at the lowest month.
    closing = money.closing_cash
    minimum = float(settings.minimum_cash)
    below = closing < minimum - _EPS * max(abs(minimum), 1.0)
    if below.any():
        short = (minimum - closing)[:, None]
        rows.add(
            "cash_below_minimum",
            below[:, None],
            np.asarray(["Company"], dtype=object),
            by="company",
            story_a="Closing cash",
            figure_a=closing[:, None],
            story_b="Minimum cash",
            figure_b=minimum,
            gap=(closing - minimum)[:, None],
            unit=currency,
            money_at_stake=short,
            counted=_worst_month_only(below[:, None], short),
            cause="cash",
        )

    # An assumption the actuals contradict beyond its tolerance (plan.assumption_check), in the
    # plan's first month: priced at what the plan would move if the measured value held.
    _assumption_rules(model, result, rows)


def _assumption_rules(model: Model, result: PlanFigures, rows: _Rows | Totals) -> None:
    tests = flagged_tests(model, result)
    if not tests:
        return
    n_months = len(model.months)
    mask = np.zeros((n_months, len(tests)), dtype=bool)
    mask[0, :] = True

    def grid(column: str, dtype=object) -> np.ndarray:
        return np.tile(np.asarray([t[column] for t in tests], dtype=dtype), (n_months, 1))

    spans = [f"Measured {span_label(t['first_month'], t['last_month'])}" for t in tests]
    rows.add(
        "assumption_drift",
        mask,
        np.asarray([t["assumption"] for t in tests], dtype=object),
        by="company",
        story_a=np.tile(np.asarray(spans, dtype=object), (n_months, 1)),
        figure_a=grid("measured", float),
        story_b="Assumed in the plan",
        figure_b=grid("assumed", float),
        gap=grid("gap", float),
        unit=grid("unit"),
        money_at_stake=grid("money_at_stake", float),
        owner=grid("owner"),
        cause="assumption",
    )


def _end_of_life_rule(
    model: Model, result: PlanFigures, families: np.ndarray, rows: _Rows | Totals
) -> np.ndarray:
    """One row per product that ends in (or before) the horizon with stock left; returns the
    value of that stock held by each family and month from the end on, ``(M, F)``.

    figure_a = the units left (end inventory of the end month; for a product that ended before
    the horizon, its stock on hand); money = their inventory value at the scenario's unit cost.
    """
    n_months = len(model.months)
    inventory_value = result.finance.inventory_value_sku
    left = stock_left(model.lifecycle, model.months, result.supply.end_inventory, inventory_value)
    if not len(left):
        return np.zeros((n_months, len(families)))
    shape = (n_months, len(left))
    k = np.arange(len(left))
    mask = np.zeros(shape, dtype=bool)
    mask[left.month, k] = True

    def at_end(values: np.ndarray) -> np.ndarray:
        out = np.zeros(shape)
        out[left.month, k] = values
        return out

    story = np.where(left.ended_before, "Stock of a product ended before the plan", STOCK_LEFT)
    rows.add(
        "stock_left_end_of_life",
        mask,
        np.asarray(model.sku_names, dtype=object)[left.sku],
        by="sku",
        story_a=np.broadcast_to(story.astype(object), shape).copy(),
        figure_a=at_end(left.units),
        story_b="Demand after the end",
        figure_b=0.0,
        gap=at_end(left.units),
        unit="units",
        money_at_stake=at_end(left.value),
        family=np.tile(families[model.sku_family[left.sku]], (n_months, 1)),
        cause=np.tile(
            np.char.add("end_of_life|", model.skus[left.sku].astype(str)), (n_months, 1)
        ).astype(object),
    )
    return model.family_sum(left.held(inventory_value))


def _bias_rules(
    model: Model, result: PlanFigures, tol: float, families: np.ndarray, rows: _Rows | Totals
) -> tuple[np.ndarray, np.ndarray]:
    """Forecast-bias rows; returns the revenue inflation and sandbagging move, ``(M, F)`` each.

    The revenue a biased source moves: in the sku-months it drives the plan (sales drives D
    where there is no consensus; marketing never does), inflation = (shipped − baseline) × price
    where shipped is above the baseline (scaled by the volume lever), sandbagging = (baseline −
    demand) × price where demand is below it; 0 where the source does not drive the plan. Where
    the consensus drives the plan and the team set it with a reason, the disagreement is
    resolved: shown with who and when, money 0.
    """
    shape = (len(model.months), len(model.families))
    inflation_moved, sandbag_moved = np.zeros(shape), np.zeros(shape)
    if not model.bias_verdict.any():
        return inflation_moved, sandbag_moved
    by = model.family_sum
    with np.errstate(divide="ignore", invalid="ignore"):
        volume = np.where(model.demand > 0, result.demand / model.demand, 1.0)
    fixed = _bias_inputs(model)
    baseline = fixed["baseline"] * volume
    price = result.unit_price
    consensus_drives = fixed["consensus_drives"]
    resolved_family = np.asarray([f in model.consensus_choices for f in model.families])
    for k, (source, owner, code) in enumerate(
        (("sales", "Sales", 2), ("marketing", "Marketing", -9))
    ):
        verdict = model.bias_verdict[k]
        if not verdict.any():
            continue
        f_units, b_units, compared = fixed[source]
        dev = f_units - b_units
        off = compared & _beyond(dev, b_units, tol)
        drives = model.demand_source == code
        up = by(np.where(drives, np.maximum(result.supply.shipped - baseline, 0.0), 0.0) * price)
        down = by(np.where(drives, np.maximum(baseline - result.demand, 0.0), 0.0) * price)
        resolved = consensus_drives & resolved_family[None, :]
        for kind, direction, moved, into in (
            ("forecast_inflated", 1, up, inflation_moved),
            ("forecast_sandbagged", -1, down, sandbag_moved),
        ):
            mask = off & (np.sign(dev) == direction) & (verdict[None, :] == direction)
            into += np.where(mask & ~resolved, moved, 0.0)
            cells = {
                "story_a": f"{owner} forecast",
                "figure_a": f_units,
                "story_b": "Statistical baseline",
                "figure_b": b_units,
                "gap": dev,
                "unit": "units",
                "owner": owner,
                "cause": np.full(shape, f"bias|{source}|", dtype=object) + families[None, :],
            }
            open_rows = mask & ~resolved
            rows.add(kind, open_rows, families, by="family", money_at_stake=moved, **cells)
            closed = mask & resolved
            if closed.any():
                rows.add(
                    kind,
                    closed,
                    families,
                    by="family",
                    money_at_stake=0.0,
                    counted=False,
                    status=RESOLVED,
                    **_resolution(model, shape),
                    **cells,
                )
    return inflation_moved, sandbag_moved


# What the bias rules take from the model alone, per model: a lever changes none of it, and at
# 100,000 skus × 36 months working it out again cost a third of a lever change.
_BIAS_INPUTS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _bias_inputs(model: Model) -> dict:
    """The baseline (0 where unknown), where the consensus drives a family-month, and per source
    its forecast and the baseline summed by family over the sku-months that have both, and
    whether any has (``(f_units, b_units, compared)``, ``(M, F)`` each)."""
    found = _BIAS_INPUTS.get(model)
    if found is not None:
        return found
    by = model.family_sum
    out: dict = {
        "baseline": np.nan_to_num(model.baseline),
        "consensus_drives": by((model.demand_source == 3).astype(float)) > 0,
    }
    for source, forecast in (("sales", model.sales), ("marketing", model.marketing)):
        both = ~np.isnan(forecast) & ~np.isnan(model.baseline)
        out[source] = (
            by(np.where(both, forecast, 0.0)),
            by(np.where(both, model.baseline, 0.0)),
            by(both.astype(float)) > 0,
        )
    _BIAS_INPUTS[model] = out
    return out


def _resolution(model: Model, shape: tuple[int, int]) -> dict[str, np.ndarray]:
    """Who resolved each family's forecast disagreements, when, and why (the consensus choice)."""
    out = {
        c: np.full(shape, None, dtype=object) for c in ("resolved_by", "resolved_at", "resolution")
    }
    for f, family in enumerate(model.families):
        choice = model.consensus_choices.get(family)
        if choice is not None:
            out["resolved_by"][:, f] = choice["author"]
            out["resolved_at"][:, f] = choice["updated_at"]
            out["resolution"][:, f] = f"Consensus set: {choice['describe']} ({choice['reason']})"
    return out


# --- root causes ------------------------------------------------------------------------------


def root_causes(dis: pd.DataFrame, currency: str = "GBP") -> pd.DataFrame:
    """The disagreements grouped by root cause (kind × where) across months, largest money first.

    A root cause's money is the sum of its counted rows' money (open ones; a resolved root cause
    shows 0); ``title`` says it in one sentence ("Press & Weld short of capacity Oct 2027–Mar
    2028: £602k of sales lost").
    """
    if dis.empty:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in ROOT_CAUSE_COLUMNS})
    # Each root cause's rows by position, in order of first appearance (as a groupby without
    # sorting), and the columns read once as arrays: a large company's table has thousands of
    # rows in hundreds of root causes, and a frame per root cause cost a second at 100,000 skus.
    codes, keys = pd.factorize(dis["cause"], sort=False)  # a missing cause is no root cause
    order = np.argsort(codes, kind="stable")[int(np.count_nonzero(codes < 0)) :]
    groups = np.split(order, np.cumsum(np.bincount(codes[codes >= 0], minlength=len(keys)))[:-1])
    is_open = (dis["status"] == OPEN).to_numpy(dtype=bool)
    counted = dis["counted"].astype(bool).to_numpy(dtype=bool)
    money_col = dis["money_at_stake"]
    month = dis["month"].to_numpy(dtype=object)
    priced_row = (money_col > 0.5).to_numpy(dtype=bool)

    def column(name: str) -> list:  # a column some tables leave out: read only where needed
        return dis[name].tolist() if name in dis else [None] * len(dis)

    severity, owners, entities = column("severity"), column("owner"), column("entity")
    resolved = {c: column(c) for c in ("resolved_by", "resolved_at", "resolution")}
    out = []
    for key, rows in zip(keys, groups, strict=True):
        kind, _, entity = str(key).partition("|")
        measure, owner, review = CAUSES.get(kind, ("money at stake", "", ""))
        open_rows = rows[is_open[rows]]
        money = float(money_col.iloc[open_rows[counted[open_rows]]].sum())
        months = sorted(set(month[rows].tolist()))
        # the title's span: the months that carry money, if any do
        priced = sorted(set(month[rows[priced_row[rows]]].tolist()))
        status = OPEN if len(open_rows) else RESOLVED
        if kind == "bias":
            owner = str(owners[rows[0]])
            entity = entity.partition("|")[2]
        elif kind == "assumption":  # the assumption's owner in the register
            owner = str(owners[rows[0]])
        elif kind == "end_of_life":
            entity = str(entities[rows[0]])  # the product's name (the key holds its sku)
        worst = max((severity[i] for i in rows), key=lambda s: _SEVERITY_RANK.get(s, 0))
        last = rows[-1]
        group = None if kind in _TITLE_WITHOUT_ROWS else dis.iloc[rows]
        out.append(
            {
                "cause": key,
                "kind": kind,
                "entity": entity,
                "title": _title(kind, entity, group, priced or months, money, currency, status),
                "measure": measure,
                "money_at_stake": money,
                "first_month": months[0],
                "last_month": months[-1],
                "months": len(months),
                "rows": len(rows),
                "severity": worst if money > 0 or status == OPEN else "low",
                "owner": owner,
                "review": review,
                "status": status,
                **{c: v[last] if status == RESOLVED else None for c, v in resolved.items()},
            }
        )
    frame = pd.DataFrame(out, columns=ROOT_CAUSE_COLUMNS)
    rank = frame["status"].map({OPEN: 0, RESOLVED: 1})
    return (
        frame.assign(_rank=rank)
        .sort_values(
            ["_rank", "money_at_stake", "cause"], ascending=[True, False, True], kind="stable"
        )
        .drop(columns="_rank")
        .reset_index(drop=True)
    )


# the kinds whose title says no more than the root cause's months and money
_TITLE_WITHOUT_ROWS = frozenset({"supply_limit", "unmet", "labour_surplus"})


def _title(
    kind: str,
    entity: str,
    group: pd.DataFrame | None,
    months: list[str],
    money: float,
    currency: str,
    status: str,
) -> str:
    span, amount = span_label(months[0], months[-1]), fmt.money(money, currency)
    if len(months) > 1 and month_diff(months[-1], months[0]) + 1 > len(months):
        span += f" ({len(months)} months)"
    if kind == "capacity":
        labour = group[group["type"] == "labour_shortfall"]
        how = ""
        if len(labour):
            peak = labour.loc[labour["gap"].idxmax()]
            how = f" (labour: {peak['figure_b']:,.1f} FTE planned, {peak['figure_a']:,.1f} needed in {month_label(peak['month'])})"
        if money > 0:
            return f"{entity} short of capacity {span}{how}: {amount} of sales lost"
        return f"{entity} short of capacity {span}{how}: no sales lost (stock covered demand)"
    if kind == "near_capacity":
        peak = group.loc[(group["figure_a"] / group["figure_b"]).idxmax()]
        load = fmt.pct(peak["figure_a"] / peak["figure_b"] * 100)
        return f"{entity} near capacity {span}: up to {load} loaded, nothing lost yet"
    if kind == "supply_limit":
        return f"Supplier limits on {entity} {span}: {amount} of sales lost"
    if kind == "unmet":
        return f"{entity} demand above what supply can ship {span}: {amount} of sales lost"
    if kind == "labour_surplus":
        return (
            f"{entity} staffed above what demand needs {span}: {amount} of labour cost without work"
        )
    if kind == "bias":
        who = str(group["owner"].iloc[0])
        inflated = (group["type"] == "forecast_inflated").any()
        if status == RESOLVED:
            return f"{who} forecast for {entity} {'inflated' if inflated else 'below the baseline'} {span}: resolved by the consensus"
        what = "inflated" if inflated else "below the baseline"
        if money <= 0:
            return f"{who} forecast for {entity} {what} {span}: it does not drive the plan"
        if inflated:
            return (
                f"{who} forecast for {entity} inflated {span}: {amount} of plan revenue rests on it"
            )
        return f"{who} forecast for {entity} below the baseline {span}: {amount} of revenue the baseline expects is left out"
    side = "above" if group["gap"].sum() > 0 else "below"
    if kind == "budget_revenue":
        return f"{entity} revenue {side} budget {span}: {amount} not explained by lost sales or forecast bias"
    if kind == "budget_margin":
        return f"{entity} gross margin {side} budget {span}: {amount} beyond what the revenue gap explains"
    if kind == "budget_inventory":
        worst = group.loc[group["money_at_stake"].idxmax()]
        return f"{entity} inventory {side} budget {span}: {amount} at the worst month ({month_label(worst['month'])})"
    if kind == "end_of_life":
        row = group.iloc[0]
        units = fmt.units(float(row["figure_a"]))
        if row["story_a"] != STOCK_LEFT:
            return f"{entity} ended before the plan with {units} units on hand: {amount} of stock at cost"
        return f"{entity} ends {month_label(row['month'])} with {units} units left: {amount} of stock at cost"
    if kind == "cash":
        worst = group.loc[group["money_at_stake"].idxmax()]
        return f"Cash below the minimum {span}: {amount} short at the lowest ({month_label(worst['month'])})"
    if kind == "assumption":
        row = group.iloc[0]
        unit = str(row["unit"])
        shown = (lambda v: f"{v:,.0f} days") if unit == "days" else (lambda v: f"{v:.1f} %")
        measured = str(row["story_a"]).removeprefix("Measured ")
        return (
            f"{entity}: assumed {shown(row['figure_b'])}, measured {shown(row['figure_a'])} over "
            f"{measured}: {amount} the plan would move if the measured value held"
        )
    return f"{kind} {entity} {span}: {amount}"
