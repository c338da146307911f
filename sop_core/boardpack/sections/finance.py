"""The board pack's finance section: P&L and cash by month, cash ranges, the bridge from budget, working capital."""

from __future__ import annotations

from dataclasses import replace

import pandas as pd

from sop_core import fmt
from sop_core.boardpack.model import (
    MONEY,
    MONEY_DELTA,
    TEXT,
    Block,
    Section,
    Table,
)
from sop_core.boardpack.sections.common import (
    PackInputs,
    money_table_by_month,
)
from sop_core.views import charts
from sop_core.views.budget import budget_fte_grid, budget_to_plan_bridge, gap_by_family
from sop_core.views.ranges import (
    assumptions_note,
    cash_risk_sentence,
    fan_frame,
    lowest_cash_sentence,
)

__all__ = ["finance_section"]


def _days(days) -> str:
    """Payment terms over the horizon: '45', or '45–60' when a windowed lever changes them."""
    lo, hi = float(min(days)), float(max(days))
    return f"{lo:g}" if lo == hi else f"{lo:g}–{hi:g}"


def _cash_ranges(a: PackInputs) -> Block:
    """The fan chart of closing cash over the app's demand paths, and the chance it goes below
    the minimum (``views.ranges``: the same figures as the Finance page)."""
    cur = a.currency
    ranges = a.ranges
    if ranges is None:
        return Block("Cash ranges", text=(a.ranges_error,))
    fan = fan_frame(ranges)
    table = money_table_by_month(
        fan,
        {"p10": "P10", "p50": "P50", "p90": "P90", "point": "Plan of record"},
        "Closing cash range by month",
        total=False,
    )
    return Block(
        "Cash ranges",
        text=(
            cash_risk_sentence(ranges, cur),
            lowest_cash_sentence(ranges, cur)
            + " The plan of record stays the plan; the range says how far demand may move it.",
            assumptions_note(ranges),
        ),
        chart=charts.fan_chart(fan, cur, minimum=ranges.minimum_cash),
        chart_alt="Closing cash by month: the plan, the median and P10–P90 of the demand paths, "
        "and the minimum cash",
        table=table,
    )


def finance_section(a: PackInputs) -> Section:

    r, cur = a.result, a.currency
    company = r.company
    minimum = r.model.settings.minimum_cash
    pnl = money_table_by_month(
        company,
        {
            "revenue": "Revenue",
            "variable_cogs": "Variable COGS",
            "labour_cost": "Labour",
            "gross_margin": "Gross margin",
            "fixed_costs": "Fixed costs",
            "operating_profit": "Operating profit",
        },
        "P&L by month",
    )
    cash = money_table_by_month(
        company,
        {"cash_flow": "Cash flow", "closing_cash": "Closing cash"},
        "Cash by month",
        total=False,
    )
    cash_emph = pd.DataFrame(False, index=cash.frame.index, columns=cash.frame.columns)
    cash_emph.loc[1, list(r.months)] = (company["closing_cash"] < minimum).to_numpy()
    cash = Table(cash.frame, cash.kinds, title=cash.title, emphasis=cash_emph)
    wc = money_table_by_month(
        company,
        {"receivables": "Receivables", "inventory_value": "Inventory", "payables": "Payables"},
        "Working capital by month (month end)",
        total=False,
    )
    s = r.summary
    below = company[company["closing_cash"] < minimum]
    cash_text = (
        f"Closing cash by month against the minimum of {fmt.money(minimum, cur)} (dashed line). "
        + (
            f"Below the minimum in {len(below)} month(s), lowest {fmt.money(s['lowest_cash'], cur)} "
            f"in {s['lowest_cash_month']}; those months in bold."
            if len(below)
            else f"Never below the minimum; lowest {fmt.money(s['lowest_cash'], cur)} in {s['lowest_cash_month']}."
        ),
    )
    pnl = replace(pnl, chart_rows=("Revenue", "Gross margin", "Operating profit"))
    cash = replace(cash, chart_rows=("Closing cash",), chart_level=("Minimum cash", minimum))
    wc = replace(wc, chart_rows=("Receivables", "Inventory", "Payables"))
    blocks = [
        Block(
            "P&L by month",
            text=(
                f"Revenue {fmt.money(s['revenue'], cur)}, gross margin {fmt.money(s['gross_margin'], cur)}, "
                f"operating profit {fmt.money(s['operating_profit'], cur)} over the horizon.",
            ),
            chart=charts.pnl_chart(company, cur),
            chart_alt="Revenue, gross margin and operating profit by month",
            table=pnl,
        ),
        Block(
            "Cash",
            text=cash_text,
            chart=charts.cash_chart(company, minimum, cur),
            chart_alt="Closing cash by month with the minimum-cash line",
            table=cash,
        ),
        _cash_ranges(a),
        Block(
            "Working capital",
            text=(
                f"Receivables ({_days(r.dso_days)} days' sales), inventory at cost and payables "
                f"({_days(r.dpo_days)} days' material purchases) at each month end.",
            ),
            chart=charts.working_capital_chart(company, cur),
            chart_alt="Receivables, inventory and payables by month",
            table=wc,
        ),
    ]
    if r.summary["budget_revenue"] is None:
        blocks.append(
            Block("Budget to plan", text=("No budget is loaded: there is nothing to bridge from.",))
        )
    else:
        bridge = budget_to_plan_bridge(r, budget_fte_grid(a.budget, r.model))
        steps = pd.DataFrame(
            {"Step": bridge["step"], "Gross margin": bridge["amount"].astype(float)}
        )
        gap = gap_by_family(r.budget_gap)
        by_family = pd.DataFrame(
            {
                "Family": gap["family"],
                "Plan revenue": gap["plan_revenue"],
                "Budget revenue": gap["budget_revenue"],
                "Revenue vs budget": gap["revenue_gap"],
                "Plan gross margin": gap["plan_gross_margin"],
                "Budget gross margin": gap["budget_gross_margin"],
                "Margin vs budget": gap["gross_margin_gap"],
            }
        )
        fam_kinds = {c: MONEY for c in by_family.columns} | {
            "Family": TEXT,
            "Revenue vs budget": MONEY_DELTA,
            "Margin vs budget": MONEY_DELTA,
        }
        blocks.append(
            Block(
                "Budget to plan: gross margin bridge",
                text=(
                    "Gross margin from budget to plan by cause over the months with a budget: "
                    "volume (at the budget's margin rate), price and mix, cost, labour.",
                ),
                chart=charts.bridge_chart(bridge, cur),
                chart_alt="Gross margin bridge from budget to plan",
                table=Table(
                    steps,
                    {"Step": TEXT, "Gross margin": MONEY},
                    title="Bridge steps",
                    key_columns=0,
                ),
                data=(
                    Table(steps, {"Step": TEXT, "Gross margin": MONEY}, title="Bridge steps"),
                    Table(by_family, fam_kinds, title="Plan against budget by family, horizon"),
                ),
            )
        )
        blocks.append(
            Block(
                "Plan against budget by family",
                text=("Revenue and gross margin over the horizon, plan against budget.",),
                table=Table(by_family, fam_kinds, title="Plan against budget by family"),
            )
        )
    # the workbook's finance sheet gets the P&L, cash and working capital as numbers too
    return Section("finance", "Finance", tuple(blocks), sheet="Finance")
