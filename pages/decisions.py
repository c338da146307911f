"""Decisions: the executive decision log — what was decided, who owns it, by when, what it answers."""

import datetime as dt

import pandas as pd
import streamlit as st

from sop_core.errors import SopError
from sop_core.meeting import decisions, outcomes
from sop_core.meeting.scenarios import scenario_names
from sop_core.months import month_label
from sop_core.store import lock
from sop_core.views.register import decision_counts, decision_log_view
from sop_core.views.review import MEASURE_LABELS, decision_outcomes, outcomes_table
from ui import auth, editing, flash, plan, state
from ui.text import plain

P = "decisions"
store = state.get_store()
cycle = state.selected_cycle(store)
user = state.user_name()
may_decide = auth.can("decision:record", store)  # greys out buttons; auth.check is what counts

st.title("Decisions")
if not cycle:
    st.info(
        "There is no S&OP cycle yet: import forecasts with their cycle column on the Data page. "
        "The decision log is kept per cycle."
    )
    st.stop()
info = lock.cycle_info(store, cycle)
st.caption(
    f"Cycle {cycle} · you are {plain(user)}"
    + (" (set your name in the sidebar)" if user == "anonymous" else "")
)
if info and info.locked:
    st.info(
        f"Cycle {cycle} is locked (by {plain(info.locked_by)} on {pd.Timestamp(info.locked_at):%d %b %Y}): "
        "its decisions are the record of that meeting and cannot be changed. "
        "Open the next cycle (S&OP cycle page) to carry them on.",
        icon=":material/lock:",
    )
flash.show(P)

OTHER = "Something else (write it below)"
NOTHING = "—"


def _answers(prefix: str) -> str:
    chosen = st.session_state.get(f"{prefix}_answers")
    if chosen == OTHER:
        return st.session_state.get(f"{prefix}_answers_other") or ""
    return "" if chosen in (None, NOTHING) else chosen


def _add() -> None:
    get = st.session_state.get
    editing.write(
        P,
        "decision:record",
        get(f"{P}_new_d_text"),
        lambda: decisions.add_decision(
            store,
            cycle,
            decision=get(f"{P}_new_d_text"),
            owner=get(f"{P}_new_d_owner"),
            due=get(f"{P}_new_d_due"),
            answers=_answers(f"{P}_new_d"),
            note=get(f"{P}_new_d_note") or "",
            user=user,
        ),
        "Decision logged.",
        store=store,
    )


def _save(row_id: int) -> None:
    snap = st.session_state.get(f"{P}_loaded_decision")
    get = st.session_state.get
    fields = {f: get(f"{P}_d_{f}_{row_id}") for f in ("decision", "owner", "due", "status", "note")}

    def save() -> None:
        fields["due"] = decisions.parse_due(fields["due"])
        changes = editing.changed_fields(snap, fields)
        decisions.update_decision(
            store, row_id, int(snap["version"]), changes, user=user, loaded=snap
        )

    editing.write(
        P,
        "decision:record",
        snap["decision"],
        save,
        f"Decision saved ({fields['status']}).",
        store=store,
        after=lambda: st.session_state.pop(f"{P}_loaded_decision", None),
    )


def _expect(row_id: int, clear: bool = False) -> None:
    snap = st.session_state.get(f"{P}_loaded_decision")
    get = st.session_state.get
    measure = None if clear else get(f"{P}_e_measure_{row_id}") or None
    value = get(f"{P}_e_value_{row_id}")
    scenario = get(f"{P}_e_scenario_{row_id}") or None
    editing.write(
        P,
        "decision:record",
        snap["decision"],
        lambda: outcomes.set_expected_effect(
            store,
            row_id,
            int(snap["version"]),
            measure=measure,
            month=get(f"{P}_e_month_{row_id}"),
            value=None if scenario and value is None else value,
            scenario=scenario,
            user=user,
            loaded=snap,
        ),
        "Expected effect cleared." if measure is None else "Expected effect saved.",
        store=store,
        after=lambda: st.session_state.pop(f"{P}_loaded_decision", None),
    )


log = decisions.list_decisions(store, cycle)
counts = decision_counts(log)
c1, c2, c3 = st.columns(3)
c1.metric("Open decisions", counts["open"])
c2.metric("Overdue", counts["overdue"])
c3.metric("Closed this cycle", counts["closed"])
if log.empty:
    st.info(
        "No decisions logged in this cycle yet. In the executive meeting, log each decision with "
        "its owner, due date and what it answers (a disagreement or a scenario)."
    )
else:
    st.dataframe(
        decision_log_view(log),
        hide_index=True,
        column_config={"decision": st.column_config.TextColumn(width="large")},
        key=f"{P}_log_table",
    )

left, right = st.columns(2, gap="large")
with left:
    st.subheader("Log a decision")
    try:
        found = plan.cycle_plan(store, cycle)[0].disagreements
    except SopError:  # no plan (e.g. no products): the options are the scenarios alone
        found = None
    options = [NOTHING, *decisions.answer_options(store, cycle, found), OTHER]
    with st.form(f"{P}_add_decision", clear_on_submit=True):
        st.text_area(
            "Decision", key=f"{P}_new_d_text", placeholder="Add a second shift on Line 2 from March"
        )
        st.text_input("Owner", key=f"{P}_new_d_owner", placeholder="Head of Operations")
        st.date_input("Due", value=dt.date.today() + dt.timedelta(days=28), key=f"{P}_new_d_due")
        st.selectbox("What it answers", options, key=f"{P}_new_d_answers")
        st.text_input("…or in your words", key=f"{P}_new_d_answers_other")
        st.text_input("Note", key=f"{P}_new_d_note")
        st.form_submit_button(
            "Log the decision",
            type="primary",
            on_click=_add,
            key=f"{P}_new_d_add",
            disabled=not may_decide,
        )
with right:
    st.subheader("Update a decision")
    if log.empty:
        st.caption("Nothing to update yet.")
    else:
        texts = dict(zip([int(i) for i in log["id"]], log["decision"], strict=True))
        row_id = st.selectbox("Decision", list(texts), format_func=texts.get, key=f"{P}_decision")
        snap = editing.loaded_row(P, "decision", row_id, lambda i: decisions.get_decision(store, i))
        if snap is None:
            st.warning("That decision was deleted by someone else: pick another.")
        else:
            with st.form(f"{P}_d_form_{row_id}"):
                st.text_area("Decision", value=snap["decision"], key=f"{P}_d_decision_{row_id}")
                st.text_input("Owner", value=snap["owner"] or "", key=f"{P}_d_owner_{row_id}")
                st.date_input(
                    "Due",
                    value=dt.date.fromisoformat(snap["due"]) if snap["due"] else None,
                    key=f"{P}_d_due_{row_id}",
                )
                st.selectbox(
                    "Status",
                    decisions.STATUSES,
                    index=decisions.STATUSES.index(snap["status"]),
                    key=f"{P}_d_status_{row_id}",
                )
                st.text_input("Note", value=snap["note"] or "", key=f"{P}_d_note_{row_id}")
                st.form_submit_button(
                    "Save",
                    type="primary",
                    on_click=_save,
                    args=(row_id,),
                    key=f"{P}_d_save_{row_id}",
                    disabled=not may_decide,
                )
            st.button(
                "Reload",
                key=f"{P}_d_reload",
                on_click=editing.forget,
                args=(P, "decision", row_id, f"{P}_d_"),
            )
            if snap.get("answers"):
                st.caption(f"Answers: {plain(snap['answers'])}")
            with st.form(f"{P}_e_form_{row_id}"):
                st.markdown(
                    "**Expected effect**: what it should achieve, judged against the actuals"
                )
                measures = ["", *decisions.OUTCOME_MEASURES]
                current = snap.get("expected_measure") or ""
                st.selectbox(
                    "Measure",
                    measures,
                    index=measures.index(current) if current in measures else 0,
                    format_func=lambda m: MEASURE_LABELS.get(m, "—"),
                    key=f"{P}_e_measure_{row_id}",
                )
                try:
                    months = list(plan.record(store, cycle).model.months)
                except SopError:  # nothing to plan: no month to pick
                    months = []
                chosen = snap.get("expected_month")
                st.selectbox(
                    "Month",
                    months,
                    index=months.index(chosen) if chosen in months else (0 if months else None),
                    format_func=month_label,
                    key=f"{P}_e_month_{row_id}",
                )
                st.number_input(
                    "Expected figure (money in the company currency, or units)",
                    value=snap.get("expected_value"),
                    step=1000.0,
                    key=f"{P}_e_value_{row_id}",
                )
                names = ["", *scenario_names(store, cycle)]
                st.selectbox(
                    "…or read it from a saved scenario",
                    names,
                    index=names.index(snap.get("expected_scenario") or ""),
                    format_func=lambda n: n or "—",
                    key=f"{P}_e_scenario_{row_id}",
                    help="With no figure above, the scenario's figure of the measure in that month.",
                )
                c1, c2 = st.columns(2)
                c1.form_submit_button(
                    "Save the expected effect",
                    on_click=_expect,
                    args=(row_id,),
                    key=f"{P}_e_save_{row_id}",
                    disabled=not may_decide,
                )
                c2.form_submit_button(
                    "Clear it",
                    on_click=_expect,
                    args=(row_id, True),
                    key=f"{P}_e_clear_{row_id}",
                    disabled=not may_decide,
                )

st.subheader("Decisions against outcomes")
try:
    judged = decision_outcomes(store, record=True, plan_of=lambda c: plan.record(store, c))
except SopError as exc:
    judged = None
    st.warning(f"The decisions could not be judged: {exc}", icon=":material/info:")
if judged is not None:
    if judged.empty:
        st.caption(
            "No decision has an expected effect yet: give one above (a measure, the figure and the "
            "month); it is judged once the actuals of that month are imported."
        )
    else:
        st.dataframe(
            outcomes_table(judged, state.settings(store).currency),
            hide_index=True,
            key=f"{P}_outcomes",
            column_config={"decision": st.column_config.TextColumn(width="large")},
        )
