"""Alignment: demand, supply and finance side by side, every disagreement marked in place and priced."""

import pandas as pd
import streamlit as st

from sop_core import fmt
from sop_core.views.alignment import (
    TYPE_LABELS,
    alignment_table,
    disagreement_marks,
    filter_disagreements,
    stories_by_month,
)
from sop_core.views.charts import SEVERITY_ORDER, stories_chart, story_gaps_chart
from ui import plan, state
from ui.text import plain
from ui.widgets import disagreement_table

store = state.get_store()
cycle = state.selected_cycle(store)
family = state.selected_family()
result, plan_label, _ = plan.cycle_plan(store, cycle)
cur = state.settings(store).currency

st.title("Alignment")
st.caption(
    "The three stories in money, month by month: **Demand** — revenue if every unit the demand plan asks for "
    "shipped; **Supply** — revenue of what the business can ship; **Finance** — the budget. "
    f"Diamonds mark disagreements (size = money at stake, colour = severity). {plain(plan_label)}"
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
dis = filter_disagreements(
    all_dis,
    result.model,
    family=family,
    resource=None if resource == "All resources" else resource,
    types=types or None,
    severities=severities or None,
)

table = alignment_table(result, dis, family)
total_gap = float(table["supply_vs_budget"].sum(skipna=True))
m1, m2, m3, m4 = st.columns(4)
m1.metric("Demand story", fmt.money(float(table["demand"].sum()), cur), border=True)
m2.metric(
    "Supply can ship",
    fmt.money(float(table["supply"].sum()), cur),
    fmt.signed_money(float(table["supply_vs_demand"].sum()), cur).replace("−", "-") + " vs demand",
    border=True,
)
m3.metric(
    "Finance budget",
    fmt.money(float(table["finance"].sum(skipna=True)), cur),
    fmt.signed_money(total_gap, cur).replace("−", "-") + " supply vs budget",
    border=True,
)
m4.metric(
    "Disagreements",
    f"{len(dis)}",
    f"{fmt.money(float(dis['money_at_stake'].sum()) if len(dis) else 0.0, cur)} at stake",
    delta_color="off",
    delta_arrow="off",
    border=True,
)

stories = stories_by_month(result, family)
marks = disagreement_marks(dis, stories)
st.altair_chart(stories_chart(stories, marks, cur), width="stretch")
st.altair_chart(story_gaps_chart(stories, cur), width="stretch")

st.subheader("Month by month")
view = pd.DataFrame(
    {
        "month": table["month"],
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
