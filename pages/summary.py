"""Executive summary: the horizon's headline figures against budget, the top disagreements, decisions waiting."""

import streamlit as st

from sop_core import fmt
from sop_core.errors import SopError
from sop_core.meeting.cycles import rhythm_line
from sop_core.meeting.decisions import open_decisions
from sop_core.views.alignment import filter_disagreements
from sop_core.views.overview import trailing_revenue
from ui import plan, state, views, whatif
from ui.text import plain
from ui.widgets import delta, disagreement_table, notice

store = state.get_store()
cycle = state.selected_cycle(store)
data = state.plan_data(store, cycle)
cur = data.settings.currency
family = state.selected_family()

st.title("Executive summary")
result, plan_label, dropped = plan.cycle_plan(store, cycle)
st.caption(
    f"{plain(data.settings.company_name or 'Your company')} · plan {data.months[0]} to {data.months[-1]} "
    f"({len(data.months)} months) · {plain(plan_label)} · money in {cur}"
)
try:
    st.info(rhythm_line(store, cycle), icon=":material/event:")
except SopError as exc:
    notice(f"Cycle status unavailable: {plain(exc)}")
if dropped:
    st.warning(
        "The promoted scenario's levers that no longer fit the data were dropped: "
        + "; ".join(dropped)
    )

s = result.summary
budget_rev, budget_gm = s["budget_revenue"], s["budget_gross_margin"]


def vs_budget(value, budget):
    return None if budget is None else delta(f"{fmt.signed_money(value - budget, cur)} vs budget")


c1, c2, c3, c4 = st.columns(4)
c1.metric(
    "Revenue, horizon",
    fmt.money(s["revenue"], cur),
    vs_budget(s["revenue"], budget_rev),
    border=True,
)
c2.metric(
    f"Gross margin ({fmt.pct(s['gross_margin_pct'])} of revenue)",
    fmt.money(s["gross_margin"], cur),
    vs_budget(s["gross_margin"], budget_gm),
    border=True,
)
c3.metric("Operating profit", fmt.money(s["operating_profit"], cur), border=True)
minimum = data.settings.minimum_cash
c4.metric(
    f"Lowest closing cash ({s['lowest_cash_month']})",
    fmt.money(s["lowest_cash"], cur),
    delta(
        f"{fmt.signed_money(s['lowest_cash'] - minimum, cur)} vs minimum {fmt.money(minimum, cur)}"
    ),
    border=True,
)
c5, c6, c7, c8 = st.columns(4)
c5.metric(
    f"Inventory value ({data.months[-1]})", fmt.money(s["inventory_value_end"], cur), border=True
)
c6.metric(
    "Unmet demand",
    f"{fmt.units(s['unmet_units'])} units",
    f"{fmt.money(s['unmet_revenue'], cur)} revenue lost"
    if s["unmet_units"] > 0.5
    else "all demand shipped",
    delta_color="inverse" if s["unmet_units"] > 0.5 else "off",
    delta_arrow="off",
    border=True,
)
peak = s["peak_utilisation"]
c7.metric(
    "Peak utilisation",
    fmt.pct(peak * 100) if peak is not None else "—",
    f"{s['peak_utilisation_resource']}, {s['peak_utilisation_month']}"
    if peak is not None
    else None,
    delta_color="off",
    delta_arrow="off",
    border=True,
)
try:
    _, bias, _ = views.track_tables(store, cycle)
    sales = bias[(bias["source"] == "sales") & (bias["family"] == "All")]
    if sales.empty or sales["n_points"].iloc[0] == 0:
        c8.metric(
            "Sales forecast bias",
            "—",
            "no track record yet",
            delta_color="off",
            delta_arrow="off",
            border=True,
        )
    else:
        flagged = bias[
            (bias["source"].isin(["sales", "marketing"]))
            & (bias["family"] != "All")
            & bias["verdict"].isin(["inflating", "sandbagging"])
        ]
        c8.metric(
            "Sales forecast bias (lags 1–3)",
            fmt.pct(sales["bias_pct"].iloc[0], signed=True),
            f"{len(flagged)} family forecast(s) biased" if len(flagged) else "no family biased",
            delta_color="inverse" if len(flagged) else "off",
            delta_arrow="off",
            border=True,
        )
except SopError as exc:
    c8.metric("Sales forecast bias", "—", border=True)
    notice(f"Track record unavailable: {plain(exc)}")

whatif.compact_panel(store, cycle)

st.subheader("Top disagreements")
dis = filter_disagreements(result.disagreements, result.model, family=family)
st.caption(
    f"{len(dis)} disagreement(s), {fmt.money(float(dis['money_at_stake'].sum()) if len(dis) else 0.0, cur)} at stake"
    + (f" · family {plain(family)}" if family else "")
    + " · sorted by money at stake; the full list is on the Alignment page."
)
disagreement_table(dis.head(8), cur, key="summary_disagreements", cycle=cycle)

st.subheader("Decisions waiting")
try:
    waiting = open_decisions(store, cycle)
except SopError as exc:
    waiting = None
    notice(f"Decision log unavailable: {plain(exc)}")
if waiting is not None:
    if waiting.empty:
        st.caption(
            "No open decisions. Record decisions on the Assumptions & decisions page during the executive meeting."
        )
    else:
        st.dataframe(
            waiting[["decision", "owner", "due", "status", "answers", "overdue"]],
            hide_index=True,
            key="summary_decisions",
            column_config={"overdue": st.column_config.CheckboxColumn("overdue")},
        )

with st.expander("History: the last 12 months of actuals"):
    trailing = trailing_revenue(data.products, data.actuals, 12)
    change = None
    if trailing["previous"]:
        change = (
            fmt.pct((trailing["revenue"] / trailing["previous"] - 1) * 100, signed=True)
            + " vs prior 12 months"
        )
    st.metric(
        f"Revenue at list price, {trailing['first_month']} to {trailing['last_month']}",
        fmt.money(trailing["revenue"], cur),
        delta(change),
    )
