"""The board pack's summary: the headline figures against budget and the previous locked plan, and the key messages."""

from __future__ import annotations

from sop_core import fmt
from sop_core.boardpack.model import (
    MONEY,
    PCT,
    UNITS,
    Block,
    Figure,
    Section,
)
from sop_core.boardpack.sections.common import (
    PackInputs,
)
from sop_core.meeting.versions import plan_totals
from sop_core.views.headline import budget_scope

__all__ = ["summary_section"]


def summary_section(a: PackInputs) -> Section:
    r, s, cur = a.result, a.result.summary, a.currency
    settings, months = r.model.settings, r.months
    prev_company = a.previous_company
    prev = None
    if prev_company is not None and len(prev_company):
        totals = plan_totals(prev_company)
        low = int(prev_company["closing_cash"].to_numpy().argmin())
        prev = {
            **totals,
            "gross_margin_pct": totals["gross_margin"] / totals["revenue"] * 100.0
            if totals["revenue"]
            else None,
            "lowest_cash": float(prev_company["closing_cash"].iloc[low]),
            "inventory_value_end": float(prev_company["inventory_value"].iloc[-1]),
        }

    def p(key: str) -> float | None:
        return None if prev is None else prev.get(key)

    budget_inv = r.budget_gap[r.budget_gap["month"] == months[-1]]["budget_inventory_value"]
    budget_inv_end = None if budget_inv.isna().all() else float(budget_inv.sum())
    budget_gm_pct = (
        s["budget_gross_margin"] / s["budget_revenue"] * 100.0
        if s["budget_revenue"] and s["budget_gross_margin"] is not None
        else None
    )
    peak = s["peak_utilisation"]
    scope = budget_scope(s)
    figures = (
        Figure(
            "Revenue",
            s["revenue"],
            MONEY,
            s["budget_revenue"],
            p("revenue"),
            note=f"budget: {scope}",
            budget_gap=s["revenue_vs_budget"],
        ),
        Figure(
            "Gross margin",
            s["gross_margin"],
            MONEY,
            s["budget_gross_margin"],
            p("gross_margin"),
            note=f"budget: {scope}",
            budget_gap=s["gross_margin_vs_budget"],
        ),
        Figure(
            "Gross margin % of revenue",
            s["gross_margin_pct"],
            PCT,
            budget_gm_pct,
            p("gross_margin_pct"),
        ),
        Figure("Operating profit", s["operating_profit"], MONEY, None, p("operating_profit")),
        Figure(
            f"Closing cash, {months[-1]}", s["closing_cash_end"], MONEY, None, p("closing_cash")
        ),
        Figure(
            f"Lowest closing cash ({s['lowest_cash_month']})",
            s["lowest_cash"],
            MONEY,
            None,
            p("lowest_cash"),
            note=f"minimum cash {fmt.money(settings.minimum_cash, cur)}",
        ),
        Figure(
            f"Inventory value, {months[-1]}",
            s["inventory_value_end"],
            MONEY,
            budget_inv_end,
            p("inventory_value_end"),
        ),
        Figure("Unmet demand, units", s["unmet_units"], UNITS),
        Figure("Sales lost to supply", s["unmet_revenue"], MONEY),
        Figure(
            "Peak utilisation",
            None if peak is None else peak * 100.0,
            PCT,
            note=f"{s['peak_utilisation_resource']}, {s['peak_utilisation_month']}"
            if peak is not None
            else "",
        ),
        Figure(
            "Money at stake",
            s["money_at_stake"],
            MONEY,
            note=f"{s['root_causes_count']} root cause(s), each pound counted once",
        ),
    )
    head = f"Plan: {a.label}, {months[0]} to {months[-1]}; money in {cur}."
    compare = "No previous locked cycle to compare with."
    if a.previous_cycle:
        compare = f"Previous cycle: the locked plan of {a.previous_cycle}"
        prev_months = a.previous_months
        if prev_months and (prev_months[0], prev_months[-1]) != (months[0], months[-1]):
            compare += f", over its own horizon {prev_months[0]} to {prev_months[-1]}"
        compare += "."
    return Section(
        "summary",
        "Executive summary",
        (
            Block(
                "Headline figures",
                text=(head, compare),
                figures=figures,
            ),
            Block("Key messages", text=tuple(_messages(a))),
        ),
        sheet="Summary",
    )


def _messages(a: PackInputs) -> list[str]:
    """Plain sentences for the board, each from the engine's figures."""
    r, s, cur = a.result, a.result.summary, a.currency
    settings, months = r.model.settings, r.months
    out = []
    line = f"Revenue {fmt.money(s['revenue'], cur)} over {months[0]} to {months[-1]}"
    if s["revenue_vs_budget"] is not None:
        line += f", {fmt.signed_money(s['revenue_vs_budget'], cur)} against budget"
    line += f"; gross margin {fmt.money(s['gross_margin'], cur)} ({fmt.pct(s['gross_margin_pct'])})"
    if s["gross_margin_vs_budget"] is not None:
        line += f", {fmt.signed_money(s['gross_margin_vs_budget'], cur)} against budget"
    if s["revenue_vs_budget"] is not None:
        line += f" (budget over {budget_scope(s)})"
    out.append(line + ".")
    below = s["lowest_cash"] < settings.minimum_cash
    out.append(
        f"Cash is lowest in {s['lowest_cash_month']} at {fmt.money(s['lowest_cash'], cur)}, "
        + (
            f"{fmt.money(settings.minimum_cash - s['lowest_cash'], cur)} below the "
            f"{fmt.money(settings.minimum_cash, cur)} minimum."
            if below
            else f"above the {fmt.money(settings.minimum_cash, cur)} minimum."
        )
    )
    if s["peak_utilisation"] is not None:
        out.append(
            f"Peak load: {s['peak_utilisation_resource']} at {fmt.pct(s['peak_utilisation'] * 100)} "
            f"of capacity in {s['peak_utilisation_month']}."
        )
    if s["unmet_units"] > 0.5:
        out.append(
            f"Demand the plan cannot ship: {fmt.units(s['unmet_units'])} units, "
            f"{fmt.money(s['unmet_revenue'], cur)} of revenue lost."
        )
    else:
        out.append("All demand is shipped.")
    causes = r.root_causes
    causes = causes[causes["status"] == "open"]
    if len(causes):
        top = causes.iloc[0]
        out.append(
            f"{len(causes)} root cause(s) of disagreement, {fmt.money(s['money_at_stake'], cur)} "
            f"at stake, each pound counted once; the largest: {top['title']} (owner {top['owner']})."
        )
    else:
        out.append("No disagreements: the three stories agree within tolerance.")
    decisions = a.decisions
    if decisions is not None and len(decisions):
        waiting = decisions[decisions["status"].isin(["open", "in progress"])]
        overdue = int(waiting["overdue"].fillna(False).astype(bool).sum())
        out.append(
            f"{len(decisions)} decision(s) logged this cycle, {len(waiting)} still open"
            + (f", {overdue} overdue." if overdue else ".")
        )
    for w in a.warnings:
        out.append(w)
    return out
