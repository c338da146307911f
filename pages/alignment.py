"""Alignment: demand, supply and finance side by side, every disagreement marked in place and priced."""

import pandas as pd
import streamlit as st

from sop_core import fmt
from sop_core.months import month_label
from sop_core.plan.disagreements import totals_of_table
from sop_core.views.alignment import (
    TYPE_LABELS,
    alignment_table,
    disagreement_marks,
    filter_disagreements,
    stories_by_month,
    story_gaps,
)
from sop_core.views.charts import SEVERITY_ORDER, gap_panels_chart, stories_chart
from sop_core.views.headline import headline_by_key, headline_figures
from ui import plan, state
from ui.text import plain
from ui.widgets import disagreement_table, headline_metric

store = state.get_store()
cycle = state.selected_cycle(store)
family = state.selected_family()
result, plan_label, _ = plan.cycle_plan(store, cycle)
cur = state.settings(store).currency

st.title("Alignment")
st.caption(
    "Where demand (what the market asks for), supply (what the business can ship) and finance "
    f"(the budget) part, month by month, and what each gap costs. {plain(plan_label)}"
    + (f" · family {plain(family)}" if family else " · all families")
)

all_dis = result.disagreements
f1, f2, f3 = st.columns([2, 3, 2])
resource = f1.selectbox(
    "Resource", ["All resources", *result.model.resources], key="alignment_resource"
)
present = [t for t in TYPE_LABELS if t in set(all_dis["type"])]
types = f2.multiselect(
    "Type of disagreement",
    present,
    format_func=lambda t: TYPE_LABELS.get(t, t),
    key="alignment_types",
    placeholder="All types",
)
severities = f3.pills("Severity", SEVERITY_ORDER, selection_mode="multi", key="alignment_severity")
filtered = bool(family or resource != "All resources" or types or severities)
dis = filter_disagreements(
    all_dis,
    result.model,
    family=family,
    resource=None if resource == "All resources" else resource,
    types=types or None,
    severities=severities or None,
)

table = alignment_table(result, dis, family)
vs_budget = headline_by_key(headline_figures(result, family))["revenue_vs_budget"]
stake = totals_of_table(dis)
m1, m2, m3, m4 = st.columns(4)
m1.metric(
    "Demand story",
    fmt.money(float(table["demand"].sum()), cur),
    "at plan prices",
    delta_color="off",
    delta_arrow="off",
    help="Every unit the market asks for (the consensus demand), at the plan's prices.",
    border=True,
)
m2.metric(
    "Supply can ship",
    fmt.money(float(table["supply"].sum()), cur),
    fmt.signed_money(float(table["supply_vs_demand"].sum()), cur) + " vs demand",
    delta_color="off",
    delta_arrow="off",
    border=True,
)
headline_metric(m3, vs_budget)
m4.metric(
    "Money at stake" + (" (filtered)" if filtered else ""),
    fmt.money(stake.money, cur),
    f"{stake.root_causes} root cause{'s' if stake.root_causes != 1 else ''}",
    delta_color="off",
    delta_arrow="off",
    help=f"What the plan would gain or lose if the other story held, each pound counted once "
    f"across the root causes; {stake.rows} month rows in the table below.",
    border=True,
)

st.subheader("Where the stories part, month by month")
st.caption(
    "Each panel is one gap between the stories, in its own unit; red is the side that costs. "
    "Under each title, its largest root cause."
)
st.altair_chart(gap_panels_chart(story_gaps(result, family), cur), width="content")
with st.expander("The three stories in money, side by side"):
    stories = stories_by_month(result, family)
    marks = disagreement_marks(dis, stories)
    st.altair_chart(stories_chart(stories, marks, cur), width="stretch")

st.subheader("Month by month")
view = pd.DataFrame(
    {
        "month": [month_label(m) for m in table["month"]],
        "Demand": [fmt.money(v, cur) for v in table["demand"]],
        "Supply": [fmt.money(v, cur) for v in table["supply"]],
        "Finance (budget)": [fmt.money(v, cur) if pd.notna(v) else "—" for v in table["finance"]],
        "supply − demand": [fmt.signed_money(v, cur) for v in table["supply_vs_demand"]],
        "supply − budget": [
            fmt.signed_money(v, cur) if pd.notna(v) else "—" for v in table["supply_vs_budget"]
        ],
        "disagreements": table["disagreements"],
        "money at stake": [fmt.money(v, cur) if v else "—" for v in table["money_at_stake"]],
        "worst": table["worst"],
        "issues": table["issues"],
    }
)
st.dataframe(view, hide_index=True, key="alignment_months")

st.subheader(f"Every disagreement ({len(dis)})")
st.caption(
    "Sorted by money at stake. “resolve in” opens the review that owns it, with this cycle and family."
)
disagreement_table(dis, cur, key="alignment_disagreements", cycle=cycle, height=420)
