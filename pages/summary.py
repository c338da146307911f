"""Executive summary: what the meeting must decide, the plan of record in figures, last month against the plan, the cycle."""

import streamlit as st

from sop_core import fmt
from sop_core.errors import SopError
from sop_core.meeting.cycles import rhythm_line
from sop_core.meeting.decisions import open_decisions
from sop_core.months import month_label, span_label
from sop_core.views.agenda import agenda
from sop_core.views.charts import fan_chart
from sop_core.views.headline import headline_figures
from sop_core.views.overview import trailing_revenue
from sop_core.views.ranges import (
    assumptions_note,
    cash_risk_sentence,
    fan_frame,
    lowest_cash_sentence,
)
from sop_core.views.review import MEASURE_LABELS, last_month_against_plan, show_measure
from ui import plan, state, views, whatif
from ui.text import plain
from ui.widgets import agenda_rows, delta, headline_metrics, notice

store = state.get_store()
cycle = state.selected_cycle(store)
data = state.plan_data(store, cycle)
family = state.selected_family()
record = plan.record(store, cycle)
result = record.result
cur = result.model.settings.currency
months = result.model.months

st.title("Executive summary")
st.caption(
    f"{plain(result.model.settings.company_name or 'Your company')} · {plain(record.label)} · "
    f"{span_label(months[0], months[-1])} ({len(months)} months) · money in {cur}"
)
for warning in record.warnings:
    st.warning(warning, icon=":material/warning:")

# The meeting opens with last month in one line; its figures follow the decisions below.
try:
    last = last_month_against_plan(store, plan_of=lambda c: plan.record(store, c))
except SopError as exc:  # the rest of the summary still shows
    last = None
    notice(f"Last month against the plan is unavailable: {exc}")
if last is not None:
    st.info(f"**Last month.** {plain(last.sentence)}", icon=":material/history:")

st.subheader("What the meeting must decide")
try:
    scenarios = plan.saved_plans(store, cycle)
except SopError as exc:  # the agenda still shows, without what each scenario would change
    scenarios = None
    notice(f"The saved scenarios could not be compared: {exc}")
items = agenda(result, scenarios, limit=5)
if items.empty:
    st.success("The three stories agree within tolerance: nothing needs a decision.")
else:
    agenda_rows(items, cur, key="summary_agenda")
    total = result.summary["root_causes_count"]
    st.caption(
        f"The {len(items)} largest of {total} open root causes, by money at stake (each pound "
        "counted once; how: docs/METHOD.md). Month by month on the Alignment page."
    )

st.subheader("The plan in figures" + (f": {family}" if family else ""))
if family:
    st.caption(
        f"Figures for {family} only; cash, operating profit and money at stake are company-wide "
        "(choose All families in the sidebar)."
    )
headline_metrics(headline_figures(result, family), columns=4, key="summary")
try:
    ranges = plan.record_ranges(store, cycle, wait=False)  # a large plan's: in the background
    if ranges is None:
        plan.wait_for_ranges(store, [plan.record_levers(store, cycle)], cycle, "the cash range")
except SopError as exc:  # the figures above stand without their range
    ranges = None
    notice(f"Cash ranges unavailable: {exc}")
if ranges is not None:
    line, fan = st.columns([2, 3], gap="large")
    line.markdown(f"**{cash_risk_sentence(ranges, cur)}**")
    line.caption(f"{lowest_cash_sentence(ranges, cur)} {assumptions_note(ranges)}")
    fan.altair_chart(
        fan_chart(
            fan_frame(ranges), cur, minimum=ranges.minimum_cash, title="Closing cash", height=180
        ),
        width="stretch",
    )

try:
    st.info(rhythm_line(store, cycle), icon=":material/event:")
except SopError as exc:
    notice(f"Cycle status unavailable: {plain(exc)}")

if last is not None and last.ready:
    st.subheader("Last month against the plan")
    tiles = st.columns(4)
    for tile, measure in zip(
        tiles, ("revenue", "gross_margin", "closing_cash", "shipped_units"), strict=True
    ):
        figure = last.figure(measure)
        if figure is None:
            continue
        planned, actual, variance = figure
        tile.metric(
            f"{MEASURE_LABELS[measure]}, {month_label(last.month)}",
            show_measure(measure, actual, cur),
            delta(f"{show_measure(measure, variance, cur, signed=True)} vs plan"),
            help=f"Plan {show_measure(measure, planned, cur)} (cycle {last.cycle}'s locked plan)",
        )
    st.caption("Each locked plan against what happened: the Performance review page.")

st.subheader("Decisions waiting")
try:
    waiting = open_decisions(store, cycle)
except SopError as exc:
    waiting = None
    notice(f"Decision log unavailable: {plain(exc)}")
if waiting is not None:
    if waiting.empty:
        st.caption(
            "No open decisions. Record decisions on the Decisions page during the executive meeting."
        )
    else:
        st.dataframe(
            waiting[["decision", "owner", "due", "status", "answers", "overdue"]],
            hide_index=True,
            key="summary_decisions",
            column_config={"overdue": st.column_config.CheckboxColumn("overdue")},
        )

whatif.compact_panel(store, cycle)

# worked out when opened: a large company's years of actuals are millions of rows
history = st.expander(
    "History: the last 12 months of actuals", key="summary_history", on_change="rerun"
)
if history.open:
    with history:
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

# The meeting goes on to the Demand review: its track record is scored in the background from now.
views.score_in_background(store, cycle)
