"""Finance: what it means financially — P&L by month, gap to budget, working capital, cash, budget-to-plan bridge."""

import pandas as pd
import streamlit as st

from sop_core import fmt
from sop_core.errors import SopError
from sop_core.months import month_label
from sop_core.views.budget import budget_fte_grid, budget_to_plan_bridge, gap_by_family
from sop_core.views.charts import (
    bridge_chart,
    cash_chart,
    fan_chart,
    pnl_chart,
    working_capital_chart,
)
from sop_core.views.headline import headline_by_key, headline_figures
from sop_core.views.ranges import (
    assumptions_note,
    cash_risk_sentence,
    fan_frame,
    horizon_table,
    lowest_cash_sentence,
)
from ui import plan, state
from ui.text import plain
from ui.widgets import headline_metrics, notice

store = state.get_store()
cycle = state.selected_cycle(store)
family = state.selected_family()
result, plan_label, warnings = plan.cycle_plan(store, cycle)
data = result.model.data  # the inputs of the plan shown (frozen ones for a locked cycle)
cur = data.settings.currency
company = result.company
minimum = data.settings.minimum_cash

st.title("Finance")
st.caption(
    f"Integrated reconciliation · cycle {cycle} · {plain(plan_label)} · money in {cur}. "
    "Every figure is the plan's: revenue from what supply can ship, at the scenario's prices and costs."
)

for warning in warnings:
    st.warning(warning, icon=":material/warning:")
figures = headline_by_key(headline_figures(result))
headline_metrics(
    [figures[k] for k in ("revenue_vs_budget", "operating_profit", "lowest_cash", "closing_cash")],
    columns=4,
    key="finance",
)
below = company[company["closing_cash"] < minimum]
end = company.iloc[-1]
working_capital = float(end["receivables"] + end["inventory_value"] - end["payables"])
st.caption(
    f"Months below the minimum cash of {fmt.money(minimum, cur)}: "
    + (", ".join(month_label(m) for m in below["month"]) if len(below) else "none")
    + f" · working capital at the end (receivables + inventory − payables): "
    f"{fmt.money(working_capital, cur)}"
)

left, right = st.columns(2, gap="large")
with left:
    try:
        ranges = plan.record_ranges(store, cycle, wait=False)  # a large plan's: in the background
        if ranges is None:
            plan.wait_for_ranges(store, [plan.record_levers(store, cycle)], cycle, "the cash range")
    except SopError as exc:  # the plain cash curve still shows
        ranges = None
        notice(f"Cash ranges unavailable: {exc}")
    if ranges is None:
        st.altair_chart(
            cash_chart(
                company,
                minimum,
                cur,
                title=f"Closing cash against the minimum ({fmt.money(minimum, cur)})",
            ),
            width="stretch",
        )
    else:
        st.altair_chart(
            fan_chart(
                fan_frame(ranges),
                cur,
                minimum=minimum,
                title=f"Closing cash: the plan and its range, minimum {fmt.money(minimum, cur)}",
            ),
            width="stretch",
        )
        st.markdown(f"**{cash_risk_sentence(ranges, cur)}** {lowest_cash_sentence(ranges, cur)}")
        with st.expander("Ranges over the horizon"):
            st.dataframe(horizon_table(ranges, cur), hide_index=True, key="finance_ranges")
            st.caption(assumptions_note(ranges))
with right:
    st.altair_chart(
        pnl_chart(company, cur, title="Revenue, gross margin and operating profit"), width="stretch"
    )

st.subheader("P&L and cash by month")
money_cols = [c for c in company.columns if c != "month"]
names = {
    "revenue": "Revenue",
    "variable_cogs": "Variable COGS",
    "labour_cost": "Labour",
    "gross_margin": "Gross margin",
    "fixed_costs": "Fixed costs",
    "operating_profit": "Operating profit",
    "inventory_value": "Inventory value",
    "receivables": "Receivables",
    "payables": "Payables",
    "cash_flow": "Cash flow",
    "closing_cash": "Closing cash",
}
pnl = company.set_index("month")[money_cols].T
pnl.index = [names.get(c, c) for c in pnl.index]
pnl["Horizon"] = [
    float(company[c].sum())
    if c not in ("inventory_value", "receivables", "payables", "closing_cash")
    else float(company[c].iloc[-1])
    for c in money_cols
]
st.dataframe(
    pnl.map(lambda v: fmt.money(v, cur)), key="finance_pnl", height=35 * (len(pnl) + 1) + 3
)
st.caption(
    "Horizon column: totals for flows; the last month for balances (inventory, receivables, payables, cash)."
)

st.subheader("Gap to budget by family")
gap = result.budget_gap
if gap["budget_revenue"].notna().sum() == 0:
    st.info(
        "No budget is loaded: import the budget table (month, family, revenue, gross_margin) to compare."
    )
else:
    if family:
        gap = gap[gap["family"] == family]
    by_family = gap_by_family(gap)
    view = pd.DataFrame(
        {
            "family": by_family["family"],
            "plan revenue": [fmt.money(v, cur) for v in by_family["plan_revenue"]],
            "budget revenue": [fmt.money(v, cur) for v in by_family["budget_revenue"]],
            "revenue gap": [fmt.signed_money(v, cur) for v in by_family["revenue_gap"]],
            "revenue gap %": [
                fmt.pct(g / b * 100, signed=True) if b else "—"
                for g, b in zip(by_family["revenue_gap"], by_family["budget_revenue"], strict=True)
            ],
            "plan gross margin": [fmt.money(v, cur) for v in by_family["plan_gross_margin"]],
            "budget gross margin": [fmt.money(v, cur) for v in by_family["budget_gross_margin"]],
            "margin gap": [fmt.signed_money(v, cur) for v in by_family["gross_margin_gap"]],
        }
    )
    st.dataframe(view, hide_index=True, key="finance_gap")
    with st.expander("By family and month"):
        monthly = gap.pivot_table(
            index="family", columns="month", values="revenue_gap", aggfunc="sum"
        )
        st.caption("Revenue gap (plan − budget) by family and month.")
        st.dataframe(monthly.map(lambda v: fmt.signed_money(v, cur)), key="finance_gap_monthly")

st.subheader("Bridge from budget to plan")
if result.summary["budget_gross_margin"] is None:  # no budget margin to bridge from
    st.info("The bridge needs a budget with gross margin.")
else:
    steps = budget_to_plan_bridge(result, budget_fte_grid(data.budget, result.model))
    st.altair_chart(
        bridge_chart(steps, cur, title="Gross margin over the horizon"), width="stretch"
    )
    st.caption(
        "Volume: revenue change at the budget's margin rate · Price and mix: revenue falling in families "
        "with higher or lower budget margins · Labour: planned labour against the budget's headcount · "
        "Cost: the rest (material and variable cost rates). Method in docs/METHOD.md."
    )
st.subheader("Working capital")
st.altair_chart(
    working_capital_chart(company, cur, title="Receivables, inventory and payables"),
    width="stretch",
)
