"""Performance review: each locked plan against what happened, the assumptions tested, decisions against outcomes."""

import pandas as pd
import streamlit as st

from sop_core import fmt
from sop_core.errors import SopError
from sop_core.months import month_label, span_label
from sop_core.views import review as rv
from sop_core.views.charts import accuracy_chart
from ui import plan, state, views
from ui.text import plain
from ui.widgets import delta, notice

P = "review"
store = state.get_store()
cycle = state.selected_cycle(store)
cur = state.settings(store).currency


def plan_of(c: str):
    return plan.record(store, c)  # cached per data version


st.title("Performance review")
st.caption(
    "Did we do what we planned, and were our assumptions right? Each locked plan against what "
    f"happened, month by month · money in {cur} · formulas in docs/METHOD.md §11"
)

locked = rv.locked_cycles(store)
financial = store.read_table("financial_actuals")

# --- plan against actual ---------------------------------------------------------------------
st.subheader("Plan against actual")
if not locked:
    st.info(
        "No cycle is locked yet. Lock the plan in the executive meeting (S&OP cycle page): once "
        "the actuals of its months are imported, this page compares them with what was locked.",
        icon=":material/lock_open:",
    )
else:
    options = list(reversed(locked))
    default = options.index(cycle) if cycle in options else 0
    chosen = st.selectbox(
        "Locked plan",
        options,
        index=default,
        key=f"{P}_cycle",
        format_func=lambda c: f"Cycle {c}",
        help="The plan as it was locked in that cycle: later imports change only the actuals.",
    )
    if financial.empty:
        st.info(
            "No financial actuals yet: import the financial_actuals table on the Data page (what "
            "finance booked by month: revenue, and where known gross margin, cash, receivables, "
            "payables, inventory value). Until then only shipped units are compared.",
            icon=":material/upload_file:",
        )
    try:
        frame = rv.review(store, chosen, plan_of)
        record = plan_of(chosen)
    except SopError as exc:
        st.error(str(exc))
        frame = None
    if frame is not None:
        st.caption(plain(record.label))
        if frame.empty:
            months = record.model.months
            st.info(
                f"No actuals yet for the months of cycle {chosen}'s plan "
                f"({span_label(months[0], months[-1])}): import them on the Data page."
            )
        else:
            last = frame["month"].max()
            rows = frame[frame["month"] == last].set_index("measure")
            cols = st.columns(4)
            for col, measure in zip(
                cols, ("revenue", "gross_margin", "closing_cash", "shipped_units"), strict=True
            ):
                if measure in rows.index:
                    r = rows.loc[measure]
                    text = rv.show_measure(measure, r["actual"], cur)
                    col.metric(
                        f"{rv.MEASURE_LABELS[measure]}, {month_label(last)}",
                        text,
                        delta(
                            f"{rv.show_measure(measure, r['variance'], cur, signed=True)} "
                            "against plan"
                        ),
                        delta_color="normal",
                        border=True,
                    )
            st.dataframe(
                rv.review_table(frame, cur),
                hide_index=True,
                key=f"{P}_table",
                height=min(35 * (len(frame) + 1) + 3, 560),
            )
            st.caption(
                "Variance = actual − plan. Revenue variance = volume effect (units above or below "
                "plan, at the planned prices) + price and mix effect (what customers paid against "
                "the planned prices, and which products they bought): the two add up to it exactly."
            )
            with st.expander("By family: units and the volume effect"):
                families = rv.review_by_family(store, chosen, plan_of)
                st.dataframe(
                    pd.DataFrame(
                        {
                            "month": [month_label(m) for m in families["month"]],
                            "family": families["family"],
                            "plan units": [fmt.units(v) for v in families["plan_units"]],
                            "actual units": [fmt.units(v) for v in families["actual_units"]],
                            "units variance": [
                                fmt.units(v) if v <= 0 else f"+{fmt.units(v)}"
                                for v in families["units_variance"]
                            ],
                            "volume effect": [
                                fmt.signed_money(v, cur) for v in families["volume_effect"]
                            ],
                        }
                    ),
                    hide_index=True,
                    key=f"{P}_families",
                )
                st.caption(
                    "Finance books revenue for the company, so the price and mix effect is not "
                    "split by family."
                )
    try:
        outside = rv.unplanned_months(store, plan_of)
    except SopError as exc:
        outside = None
        notice(f"The months outside the locked plans could not be listed: {exc}")
    if outside is not None and len(outside):
        with st.expander(
            f"{len(outside)} month(s) of financial actuals outside every locked plan: {rv.NO_PLAN}"
        ):
            st.dataframe(
                pd.DataFrame(
                    {
                        "month": [month_label(m) for m in outside["month"]],
                        "revenue": [fmt.money(v, cur, digits=2) for v in outside["revenue"]],
                        "closing cash": [
                            fmt.money(v, cur, digits=2) for v in outside["closing_cash"]
                        ],
                        "status": outside["status"],
                    }
                ),
                hide_index=True,
                key=f"{P}_outside",
            )

# --- is the plan getting more accurate? ------------------------------------------------------
st.subheader("Is the plan getting more accurate?")
if locked:
    measure = "revenue" if not financial.empty else "shipped_units"
    history = rv.review_history(store, measure, plan_of)
    if history.empty:
        st.info("No locked plan has actuals for its months yet.")
    else:
        st.markdown(plain(rv.accuracy_sentence(history, measure)))
        left, right = st.columns(2, gap="large")
        with left:
            st.altair_chart(
                accuracy_chart(
                    history, title=f"{rv.MEASURE_LABELS[measure]}: each locked plan's error"
                ),
                width="stretch",
            )
        with right:
            accuracy = rv.accuracy_by_cycle(history)
            st.dataframe(
                pd.DataFrame(
                    {
                        "cycle": accuracy["cycle"],
                        "months": accuracy["months"],
                        "own month": [fmt.pct(v, signed=True) for v in accuracy["lag_1"]],
                        "1 ahead": [fmt.pct(v, signed=True) for v in accuracy["lag_2"]],
                        "2 ahead": [fmt.pct(v, signed=True) for v in accuracy["lag_3"]],
                        "mean |error|": [fmt.pct(v) for v in accuracy["mean_abs_error_pct"]],
                    }
                ),
                hide_index=True,
                key=f"{P}_accuracy",
            )
            st.caption("Error = plan − actual, in % of the actual.")
else:
    st.caption("Shown once cycles are locked and their months have actuals.")

# --- assumptions tested ----------------------------------------------------------------------
st.subheader("Assumptions tested against the actuals")
try:
    record = plan.record(store, cycle)
    tests = views.assumption_tests(store, cycle)
except SopError as exc:
    tests = None
    notice(f"The assumptions could not be tested: {exc}")
if tests is not None:
    st.caption(
        f"The plan of cycle {cycle} ({plain(record.label)}) against the last three months of actuals "
        "before it. A test beyond its tolerance is a disagreement (Alignment page)."
    )
    if tests.empty:
        st.info(
            "Nothing to test yet: import financial_actuals (revenue, receivables, inventory value, "
            "gross margin) and actuals on the Data page."
        )
    else:
        for text in tests.loc[tests["flagged"], "text"]:
            st.warning(plain(text), icon=":material/warning:")
        st.dataframe(rv.tests_table(tests, cur), hide_index=True, key=f"{P}_tests")

# --- decisions against outcomes --------------------------------------------------------------
st.subheader("Decisions against outcomes")
try:
    outcomes = rv.decision_outcomes(
        store,
        record=True,
        plan_of=plan_of,
        actuals=state.plan_data(store, cycle).actuals,  # held already: not read again
        financial=financial,
    )
except SopError as exc:
    outcomes = None
    notice(f"The decisions could not be judged: {exc}")
if outcomes is not None:
    if outcomes.empty:
        st.info(
            "No decision has an expected effect yet: give one on the Decisions page (a measure, "
            "the figure it should reach and the month), and it is judged here once the actuals "
            "of that month are in."
        )
    else:
        st.dataframe(
            rv.outcomes_table(outcomes, cur),
            hide_index=True,
            key=f"{P}_outcomes",
            column_config={"decision": st.column_config.TextColumn(width="large")},
        )
        st.caption(
            "Delivered: the actual reached the expected figure · partly: at least half the way "
            "from the plan to it · not: less than half, or the other way. The plan is the one "
            "of the cycle the decision was taken in (its locked plan)."
        )
