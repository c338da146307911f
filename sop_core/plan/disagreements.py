"""Where the stories disagree: each disagreement of a plan, with its two figures, money and owner."""

from __future__ import annotations

from typing import Protocol

import numpy as np
import pandas as pd

from sop_core.plan.finance import Finance
from sop_core.plan.model import Model
from sop_core.plan.supply import SupplyPlan
from sop_core.settings import Settings

__all__ = [
    "DISAGREEMENT_COLUMNS",
    "DISAGREEMENT_TYPES",
    "WARNING_LEVEL",
    "HIGH_SHARE",
    "MEDIUM_SHARE",
    "find_disagreements",
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
]

SUPPLY_REVIEW = "Supply review"
DEMAND_REVIEW = "Demand review"
RECONCILIATION = "Integrated reconciliation"

# type -> (owner, review), in the order used to break ties
DISAGREEMENT_TYPES: dict[str, tuple[str, str]] = {
    "cash_below_minimum": ("Finance", RECONCILIATION),
    "unmet_demand": ("Operations", SUPPLY_REVIEW),
    "capacity_overload": ("Operations", SUPPLY_REVIEW),
    "labour_shortfall": ("Operations", SUPPLY_REVIEW),
    "labour_surplus": ("Operations", SUPPLY_REVIEW),
    "revenue_vs_budget": ("Finance", RECONCILIATION),
    "margin_vs_budget": ("Finance", RECONCILIATION),
    "inventory_vs_budget": ("Finance", RECONCILIATION),
    "forecast_inflated": ("Sales", DEMAND_REVIEW),  # owner: the source, Sales or Marketing
    "forecast_sandbagged": ("Sales", DEMAND_REVIEW),
    "capacity_warning": ("Operations", SUPPLY_REVIEW),
}
_TYPE_RANK = {kind: i for i, kind in enumerate(DISAGREEMENT_TYPES)}
ALWAYS_HIGH = {"cash_below_minimum"}
ALWAYS_LOW = {"capacity_warning"}
WARNING_LEVEL = 0.9  # utilisation from which a resource is flagged as a warning
HIGH_SHARE = 0.02  # money ≥ 2 % of the average monthly plan revenue: high
MEDIUM_SHARE = 0.005  # ≥ 0.5 %: medium; below: low
_EPS = 1e-9


class PlanFigures(Protocol):
    """What the rules read of a computed plan (``plan.result.PlanResult`` is one)."""

    supply: SupplyPlan
    finance: Finance
    unit_price: np.ndarray  # (S,) the scenario's prices
    planned_fte: np.ndarray  # (M, R) after levers

    @property
    def family_arrays(self) -> dict[str, np.ndarray]: ...

    @property
    def fte_needed(self) -> np.ndarray: ...


def _beyond(gap: np.ndarray, reference: np.ndarray, tolerance: float) -> np.ndarray:
    """|gap| > tolerance × |reference|, ignoring floating-point dust."""
    ref = np.abs(reference)
    return np.abs(gap) > tolerance * ref + _EPS * np.maximum(ref, 1.0)


class _Rows:
    """Collects blocks of rows as arrays; one sorted DataFrame is built at the end."""

    _KEYS = ("_month", "_entity", "_rank")  # integer sort keys, not output columns

    def __init__(self, months: np.ndarray):
        self.months = months
        self.parts: dict[str, list[np.ndarray]] = {
            c: [] for c in (*DISAGREEMENT_COLUMNS, *self._KEYS)
        }

    def add(self, kind: str, mask: np.ndarray, names: np.ndarray, *, by: str, **cols) -> None:
        """Rows where ``mask`` (M, K) holds; ``names`` (K,) are families or resources (``by``)."""
        mi, ki = np.nonzero(mask)
        n = len(mi)
        if n == 0:
            return
        owner, review = DISAGREEMENT_TYPES[kind]
        entity = names[ki]
        none = np.full(n, None, dtype=object)
        values = {
            "month": self.months[mi],
            "type": np.full(n, kind, dtype=object),
            "entity": entity,
            "family": entity if by == "family" else none,
            "resource": entity if by == "resource" else none,
            "owner": np.full(n, owner, dtype=object),
            "review": np.full(n, review, dtype=object),
            "severity": none,
            "_month": mi,
            "_entity": ki,
            "_rank": np.full(n, _TYPE_RANK[kind]),
        }
        for name, value in cols.items():
            if isinstance(value, np.ndarray) and value.ndim == 2:
                values[name] = value[mask]
            else:
                values[name] = np.full(n, value, dtype=object if isinstance(value, str) else float)
        for c in self.parts:
            self.parts[c].append(values[c])

    def frame(self, average_monthly_revenue: float) -> pd.DataFrame:
        """The rows with their severity, by money at stake (then type, month, entity)."""
        if not self.parts["month"]:
            empty = {
                c: pd.Series(dtype=float if c in _NUMBERS else object) for c in DISAGREEMENT_COLUMNS
            }
            return pd.DataFrame(empty)
        cols = {c: np.concatenate(part) for c, part in self.parts.items()}
        money = cols["money_at_stake"].astype(float)
        cols["severity"] = severity(cols["type"], money, average_monthly_revenue)
        order = np.lexsort((cols["_entity"], cols["_month"], cols["_rank"], -money))
        return pd.DataFrame({c: cols[c][order] for c in DISAGREEMENT_COLUMNS})


_NUMBERS = {"figure_a", "figure_b", "gap", "money_at_stake"}


class _Totals:
    """Counts the rows and adds up their money at stake, without building them: what the
    headline figures need (a what-if recomputes them on every lever change)."""

    def __init__(self):
        self.count = 0
        self.money = 0.0

    def add(self, kind: str, mask: np.ndarray, names: np.ndarray, *, by: str, **cols) -> None:
        n = int(np.count_nonzero(mask))
        if n == 0:
            return
        money = cols["money_at_stake"]
        self.count += n
        if isinstance(money, np.ndarray) and money.ndim == 2:
            self.money += float(np.nansum(money[mask]))
        else:
            self.money += n * float(money)


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
        model: the prepared data (budget, forecasts, baseline, bias verdicts).
        result: the computed plan (levers applied).
        settings: for tolerance_pct, minimum_cash and currency; default the model's.

    Returns:
        Columns DISAGREEMENT_COLUMNS; ``gap`` = figure_a − figure_b.
    """
    rows = _Rows(np.asarray(model.months, dtype=object))
    _find(model, result, settings or model.settings, rows)
    return rows.frame(float(result.finance.revenue.mean()))


def disagreement_totals(
    model: Model, result: PlanFigures, settings: Settings | None = None
) -> tuple[int, float]:
    """(number of disagreements, money at stake): the rows of ``find_disagreements`` counted
    and added up without building them."""
    totals = _Totals()
    _find(model, result, settings or model.settings, totals)
    return totals.count, totals.money


def _find(model: Model, result: PlanFigures, settings: Settings, rows: _Rows | _Totals) -> None:
    """Apply every rule of the reference method, handing each block of rows to ``rows``."""
    tol = float(settings.tolerance_pct) / 100.0
    currency = settings.currency
    families = np.asarray(model.families, dtype=object)
    resources = np.asarray(model.resources, dtype=object)
    fa = result.family_arrays
    supply, money = result.supply, result.finance

    # Demand above what supply can ship: revenue lost at the scenario's prices.
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
    )

    # Resources loaded beyond capacity by what demand asks for.
    load, cap = supply.load, supply.capacity
    limited = np.isfinite(cap) & (load > 0)
    over = limited & (load > cap * (1.0 + _EPS))
    warn = limited & ~over & (load >= WARNING_LEVEL * cap)
    if over.any() or warn.any():
        # value of what demand asks of each resource: Σ over skus using r of req × price
        asked_value = model.routing.unit_hours().load(supply.req * result.unit_price)  # (M, R)
        with np.errstate(divide="ignore", invalid="ignore"):
            lost_share = np.where(over, 1.0 - cap / load, 0.0)
        common = dict(
            story_a="Load asked by demand",
            figure_a=load,
            story_b="Capacity",
            figure_b=cap,
            gap=load - cap,
            unit="hours",
        )
        rows.add(
            "capacity_overload",
            over,
            resources,
            by="resource",
            money_at_stake=lost_share * asked_value,
            **common,
        )
        rows.add("capacity_warning", warn, resources, by="resource", money_at_stake=0.0, **common)

    # FTE needed (from demand) against the recruitment plan.
    needed, planned = result.fte_needed, result.planned_fte
    fte_gap = needed - planned
    known = ~np.isnan(fte_gap)
    beyond = known & _beyond(np.nan_to_num(fte_gap), np.nan_to_num(planned), tol)
    fte_money = np.abs(np.nan_to_num(fte_gap)) * model.cost_per_fte[None, :]
    for kind, mask in (("labour_shortfall", fte_gap > 0), ("labour_surplus", fte_gap < 0)):
        rows.add(
            kind,
            beyond & mask,
            resources,
            by="resource",
            story_a="FTE needed by demand",
            figure_a=needed,
            story_b="FTE planned",
            figure_b=planned,
            gap=fte_gap,
            unit="FTE",
            money_at_stake=fte_money,
        )

    # The plan against finance's budget.
    for kind, plan_key, budget, label in (
        ("revenue_vs_budget", "revenue", model.budget_revenue, "revenue"),
        ("margin_vs_budget", "gross_margin", model.budget_gross_margin, "gross margin"),
        ("inventory_vs_budget", "inventory_value", model.budget_inventory_value, "inventory value"),
    ):
        has = ~np.isnan(budget)
        if not has.any():
            continue
        gap = fa[plan_key] - budget
        rows.add(
            kind,
            has & _beyond(np.nan_to_num(gap), np.nan_to_num(budget), tol),
            families,
            by="family",
            story_a=f"Plan {label}",
            figure_a=fa[plan_key],
            story_b=f"Budget {label}",
            figure_b=budget,
            gap=gap,
            unit=currency,
            money_at_stake=np.abs(gap),
        )

    # Closing cash below the minimum.
    closing = money.closing_cash
    minimum = float(settings.minimum_cash)
    below = closing < minimum - _EPS * max(abs(minimum), 1.0)
    if below.any():
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
            money_at_stake=(minimum - closing)[:, None],
        )

    # A sales or marketing forecast off the baseline in the direction of its known bias.
    if model.bias_verdict.any():
        by = model.family_sum
        counts = np.diff(np.append(model.family_starts, len(model.skus)))
        average_price = by(result.unit_price) / counts  # (M, F): prices may change by month
        for k, (source, owner) in enumerate((("sales", "Sales"), ("marketing", "Marketing"))):
            verdict = model.bias_verdict[k]
            if not verdict.any():
                continue
            forecast = model.sales if source == "sales" else model.marketing
            both = ~np.isnan(forecast) & ~np.isnan(model.baseline)
            f_units = by(np.where(both, forecast, 0.0))
            b_units = by(np.where(both, model.baseline, 0.0))
            compared = by(both.astype(float)) > 0
            dev = f_units - b_units
            off = compared & _beyond(dev, b_units, tol)
            for kind, mask in (
                ("forecast_inflated", off & (dev > 0) & (verdict[None, :] == 1)),
                ("forecast_sandbagged", off & (dev < 0) & (verdict[None, :] == -1)),
            ):
                rows.add(
                    kind,
                    mask,
                    families,
                    by="family",
                    story_a=f"{owner} forecast",
                    figure_a=f_units,
                    story_b="Statistical baseline",
                    figure_b=b_units,
                    gap=dev,
                    unit="units",
                    money_at_stake=np.abs(dev) * average_price,
                    owner=owner,
                )
