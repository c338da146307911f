"""The headline figures of a plan, computed once and written once: every page, the what-if panel and
the board pack show these values with these words (one figure, one value).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sop_core import fmt
from sop_core.months import month_diff, month_label, span_label

__all__ = ["Headline", "HEADLINE_KEYS", "headline_figures", "budget_scope", "headline_by_key"]

# The order the summary shows them in.
HEADLINE_KEYS = (
    "revenue",
    "revenue_vs_budget",
    "gross_margin",
    "operating_profit",
    "lowest_cash",
    "closing_cash",
    "sales_lost",
    "money_at_stake",
)


@dataclass(frozen=True)
class Headline:
    """One headline figure: its number, the number as shown, and the line under it."""

    key: str
    label: str
    value: float | None
    text: str
    note: str
    kind: str  # money, money_delta, units, count
    good: str = "up"  # which way is better (for a change's colour)
    help: str = ""


def budget_scope(summary: dict) -> str:
    """Which months the budget comparison covers: 'Nov 2026–Apr 2028', with the count of months
    only where the budget leaves gaps in that span ('Nov 2026–Apr 2028, 12 months')."""
    return _scope(
        summary.get("budget_first_month"),
        summary.get("budget_last_month"),
        summary.get("budget_months") or 0,
    )


def _scope(first: str | None, last: str | None, n: int) -> str:
    if not first:
        return "no budget loaded"
    span = span_label(first, last)
    if n == month_diff(last, first) + 1:
        return span
    return f"{span}, {n} month{'s' if n != 1 else ''}"


def headline_figures(result, family: str | None = None) -> list[Headline]:
    """The headline figures of a plan (``PlanResult``), for the company or one family.

    A family's figures are its own (revenue, margin, gap to budget, sales lost); cash, operating
    profit and money at stake exist for the company only and are left out.
    """
    model = result.model
    cur = model.settings.currency
    s = result.summary
    horizon = span_label(model.months[0], model.months[-1])
    if family is not None:
        return _family_figures(result, family, cur, horizon)
    minimum = float(model.settings.minimum_cash)
    last = model.months[-1]
    gm_pct = s["gross_margin_pct"]
    scope = budget_scope(s)
    out = [
        Headline(
            "revenue",
            "Revenue",
            s["revenue"],
            fmt.money(s["revenue"], cur),
            horizon,
            "money",
            help="Shipped units × unit price, summed over the plan's horizon.",
        ),
        Headline(
            "revenue_vs_budget",
            "Revenue vs budget",
            s["revenue_vs_budget"],
            fmt.signed_money(s["revenue_vs_budget"], cur)
            if s["revenue_vs_budget"] is not None
            else "—",
            scope,
            "money_delta",
            help="Plan revenue minus budget revenue, over the family-months that have a budget.",
        ),
        Headline(
            "gross_margin",
            "Gross margin",
            s["gross_margin"],
            fmt.money(s["gross_margin"], cur),
            f"{fmt.pct(gm_pct)} of revenue" if gm_pct is not None else horizon,
            "money",
            help="Revenue − material and variable costs − labour (planned FTE × cost per FTE).",
        ),
        Headline(
            "operating_profit",
            "Operating profit",
            s["operating_profit"],
            fmt.money(s["operating_profit"], cur),
            horizon,
            "money",
            help="Gross margin − fixed costs.",
        ),
        Headline(
            "lowest_cash",
            "Lowest cash",
            s["lowest_cash"],
            fmt.money(s["lowest_cash"], cur),
            f"{fmt.money(abs(s['lowest_cash'] - minimum), cur)} "
            f"{'short' if s['lowest_cash'] < minimum else 'spare'} · "
            f"{month_label(s['lowest_cash_month'])}",
            "money",
            help="The lowest month-end cash balance over the horizon and its month; short (or "
            "spare) against the minimum cash the company holds "
            f"({fmt.money(minimum, cur)}, setting minimum_cash).",
        ),
        Headline(
            "closing_cash",
            "Closing cash",
            s["closing_cash_end"],
            fmt.money(s["closing_cash_end"], cur),
            month_label(last),
            "money",
            help="Cash at the end of the horizon: opening cash + every month's cash flow.",
        ),
        Headline(
            "sales_lost",
            "Sales lost to supply",
            s["unmet_revenue"],
            fmt.money(s["unmet_revenue"], cur),
            f"{fmt.units(s['unmet_units'])} units not shipped"
            if s["unmet_units"] >= 0.5
            else "all demand ships",
            "money",
            good="down",
            help="Demand the supply plan cannot ship, at the plan's prices.",
        ),
        Headline(
            "money_at_stake",
            "Money at stake",
            s["money_at_stake"],
            fmt.money(s["money_at_stake"], cur),
            f"{s['root_causes_count']} root cause{'s' if s['root_causes_count'] != 1 else ''}",
            "money",
            good="down",
            help="What the plan would gain or lose if the other story held, each pound counted "
            "once across the root causes (docs/METHOD.md).",
        ),
    ]
    return out


def _family_figures(result, family: str, cur: str, horizon: str) -> list[Headline]:
    model = result.model
    f = list(model.families).index(family)
    a = result.family_arrays
    revenue = float(a["revenue"][:, f].sum())
    gm = float(a["gross_margin"][:, f].sum())
    lost = float(a["unmet_revenue"][:, f].sum())
    units = float(a["unmet_units"][:, f].sum())
    budget = model.budget_revenue[:, f]
    cells = ~np.isnan(budget)
    gap = float(a["revenue"][cells, f].sum() - budget[cells].sum()) if cells.any() else None
    months = [m for m, c in zip(model.months, cells, strict=True) if c]
    scope = _scope(months[0], months[-1], len(months)) if months else "no budget loaded"
    return [
        Headline(
            "revenue", "Revenue", revenue, fmt.money(revenue, cur), f"{family} · {horizon}", "money"
        ),
        Headline(
            "revenue_vs_budget",
            "Revenue vs budget",
            gap,
            fmt.signed_money(gap, cur) if gap is not None else "—",
            f"{family} · {scope}",
            "money_delta",
        ),
        Headline(
            "gross_margin",
            "Gross margin",
            gm,
            fmt.money(gm, cur),
            f"{family} · {fmt.pct(gm / revenue * 100) if revenue else '—'} of revenue",
            "money",
        ),
        Headline(
            "sales_lost",
            "Sales lost to supply",
            lost,
            fmt.money(lost, cur),
            f"{family} · {fmt.units(units)} units not shipped"
            if units >= 0.5
            else f"{family} · all demand ships",
            "money",
            good="down",
        ),
    ]


def headline_by_key(figures: list[Headline]) -> dict[str, Headline]:
    return {h.key: h for h in figures}
