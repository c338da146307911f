"""Assumptions & decisions: the register the plan rests on (with drift) and the executive decision log."""

import datetime as dt

import pandas as pd
import streamlit as st

from sop_core.errors import SopError
from sop_core.meeting import decisions, register
from sop_core.meeting.record import plan_for_store
from sop_core.store import lock
from sop_core.store.concurrency import show_value
from sop_core.views.register_charts import assumption_history_chart
from ui import auth, state

store = state.get_store()
cycle = state.selected_cycle(store)
user = state.user_name()
may_edit = auth.can("assumption:edit", store)  # greys out buttons; auth.check is what counts
may_decide = auth.can("decision:record", store)

st.title("Assumptions & decisions")
if not cycle:
    st.info(
        "There is no S&OP cycle yet: import forecasts with their cycle column on the Data page. "
        "The register and the decision log are kept per cycle."
    )
    st.stop()

info = lock.cycle_info(store, cycle)
locked = bool(info and info.locked)
st.caption(
    f"Cycle {cycle} · you are {user}"
    + (" (set your name in the sidebar)" if user == "anonymous" else "")
)
if locked:
    st.info(
        f"Cycle {cycle} is locked (by {info.locked_by} on {pd.Timestamp(info.locked_at):%d %b %Y}): "
        "its register and decisions are the record of that meeting and cannot be changed. "
        "Open the next cycle (S&OP cycle page) to review them again.",
        icon=":material/lock:",
    )

flash = st.session_state.pop("decisions_flash", None)
if flash:
    (st.error if flash[0] == "error" else st.success)(flash[1])


def _flash(kind: str, text: str) -> None:
    st.session_state["decisions_flash"] = (kind, text)


def _loaded(kind: str, row_id: int, getter) -> dict | None:
    """The row as this session loaded it (kept until saved or reloaded: the conflict check's base)."""
    key = f"decisions_loaded_{kind}"
    snap = st.session_state.get(key)
    if not snap or snap.get("id") != row_id:
        snap = getter(store, row_id)
        st.session_state[key] = snap
    return snap


def _forget(kind: str, row_id: int, prefix: str) -> None:
    st.session_state.pop(f"decisions_loaded_{kind}", None)
    for key in [
        k for k in st.session_state if str(k).startswith(prefix) and k.endswith(f"_{row_id}")
    ]:
        del st.session_state[key]


def _changes(snap: dict, fields: dict) -> dict:
    return {k: v for k, v in fields.items() if show_value(v) != show_value(snap.get(k))}


# --- assumption register ----------------------------------------------------------------------


def _write(action: str, detail: object, do, done: str, *, after=None) -> None:
    """Check the role, write, then say what happened; a refusal or a conflict changes nothing."""
    try:
        auth.check(action, detail=str(detail), store=store)
        do()
    except SopError as exc:
        _flash("error", str(exc))
        return
    state.after_write()
    if after is not None:
        after()
    _flash("success", done)


def _unload_assumption() -> None:
    st.session_state.pop("decisions_loaded_assumption", None)


def _save_assumption(row_id: int) -> None:
    snap = st.session_state.get("decisions_loaded_assumption")
    fields = {
        f: st.session_state.get(f"decisions_a_{f}_{row_id}") for f in register.EDITABLE_FIELDS
    }
    _write(
        "assumption:edit",
        snap["name"],
        lambda: register.update_assumption(
            store, row_id, int(snap["version"]), _changes(snap, fields), user=user, loaded=snap
        ),
        f'Saved "{snap["name"]}" (and marked reviewed by {user}).',
        after=_unload_assumption,
    )


def _review_assumption(row_id: int) -> None:
    snap = st.session_state.get("decisions_loaded_assumption")
    _write(
        "assumption:edit",
        snap["name"],
        lambda: register.review_assumption(
            store, row_id, int(snap["version"]), user=user, loaded=snap
        ),
        f'"{snap["name"]}" reviewed by {user}: it still holds.',
        after=_unload_assumption,
    )


def _delete_assumption(row_id: int) -> None:
    snap = st.session_state.get("decisions_loaded_assumption")
    _write(
        "assumption:edit",
        snap["name"],
        lambda: register.delete_assumption(store, row_id, int(snap["version"]), user=user),
        f'Deleted "{snap["name"]}" from the register of cycle {cycle}.',
        after=lambda: _forget("assumption", row_id, "decisions_a_"),
    )


def _add_assumption() -> None:
    get = st.session_state.get
    _write(
        "assumption:edit",
        get("decisions_new_a_name"),
        lambda: register.add_assumption(
            store,
            cycle,
            name=get("decisions_new_a_name"),
            value=get("decisions_new_a_value"),
            unit=get("decisions_new_a_unit") or "",
            owner=get("decisions_new_a_owner") or "",
            rationale=get("decisions_new_a_rationale") or "",
            evidence=get("decisions_new_a_evidence") or "",
            tolerance_pct=get("decisions_new_a_tol"),
            user=user,
        ),
        f'Added "{get("decisions_new_a_name")}" to the register of cycle {cycle}.',
    )


tab_register, tab_decisions = st.tabs(["Assumption register", "Decision log"])

with tab_register:
    table = register.register(store, cycle)
    written = table[table["kind"] == "written"]
    c1, c2, c3 = st.columns(3)
    c1.metric("Assumptions in force", len(table))
    c2.metric("Drifted beyond tolerance", int(table["drift"].sum()))
    c3.metric("Unreviewed for over a cycle", int(table["stale"].sum()))
    if table.empty:
        st.info(
            "The register is empty. Write down what the plan rests on — e.g. “Supplier X lead "
            "time: 6 weeks” — with its owner and evidence (form below); the promoted scenario's "
            "levers appear here by themselves."
        )
    else:
        shown = pd.DataFrame(
            {
                "flag": [
                    " ".join(w for w, on in (("⚠ drift", d), ("⏱ stale", s)) if on)
                    for d, s in zip(table["drift"], table["stale"], strict=True)
                ],
                "assumption": table["name"],
                "value": [
                    f"{v} {u}".strip() if isinstance(u, str) else str(v)
                    for v, u in zip(table["value"], table["unit"], strict=True)
                ],
                "owner": table["owner"],
                "last reviewed": table["reviewed_at"],
                "by": table["reviewed_by"],
                "previous": [
                    f"{c}: {v}" if isinstance(c, str) else ""
                    for c, v in zip(table["previous_cycle"], table["previous_value"], strict=True)
                ],
                "why flagged": table["flag"],
                "rationale": table["rationale"],
                "evidence": table["evidence"],
                "source": table["kind"],
            }
        )
        st.dataframe(
            shown,
            hide_index=True,
            column_config={
                "last reviewed": st.column_config.DatetimeColumn(format="D MMM YYYY"),
                "why flagged": st.column_config.TextColumn(width="large"),
            },
            key="decisions_register_table",
        )

    left, right = st.columns(2, gap="large")
    with left:
        st.subheader("Edit or review an assumption")
        if written.empty:
            st.caption("No written assumptions in this cycle yet.")
        else:
            ids = [int(i) for i in written["id"]]
            names = dict(zip(ids, written["name"], strict=True))
            row_id = st.selectbox(
                "Assumption", ids, format_func=names.get, key="decisions_assumption"
            )
            snap = _loaded("assumption", row_id, register.get_assumption)
            if snap is None:
                st.warning("That assumption was deleted by someone else: pick another.")
            else:
                with st.form(f"decisions_a_form_{row_id}"):
                    st.text_input(
                        "Value", value=snap["value"] or "", key=f"decisions_a_value_{row_id}"
                    )
                    st.text_input(
                        "Unit", value=snap["unit"] or "", key=f"decisions_a_unit_{row_id}"
                    )
                    st.text_input(
                        "Owner", value=snap["owner"] or "", key=f"decisions_a_owner_{row_id}"
                    )
                    st.text_area(
                        "Rationale",
                        value=snap["rationale"] or "",
                        key=f"decisions_a_rationale_{row_id}",
                    )
                    st.text_input(
                        "Evidence",
                        value=snap["evidence"] or "",
                        key=f"decisions_a_evidence_{row_id}",
                    )
                    st.number_input(
                        "Drift tolerance (%) — blank: the settings' tolerance",
                        value=snap["tolerance_pct"],
                        min_value=0.0,
                        max_value=1000.0,
                        key=f"decisions_a_tolerance_pct_{row_id}",
                    )
                    st.form_submit_button(
                        "Save (counts as reviewed)",
                        type="primary",
                        on_click=_save_assumption,
                        args=(row_id,),
                        key=f"decisions_a_save_{row_id}",
                        disabled=not may_edit,
                    )
                b1, b2, b3 = st.columns(3)
                b1.button(
                    "Reviewed: still holds",
                    key="decisions_a_review",
                    on_click=_review_assumption,
                    args=(row_id,),
                    disabled=not may_edit,
                )
                b2.button(
                    "Reload",
                    key="decisions_a_reload",
                    on_click=_forget,
                    args=("assumption", row_id, "decisions_a_"),
                    help="Load the stored values again (after someone else saved).",
                )
                b3.button(
                    "Delete",
                    key="decisions_a_delete",
                    on_click=_delete_assumption,
                    args=(row_id,),
                    disabled=not may_edit,
                )
                reviewed = (
                    "never reviewed"
                    if snap["reviewed_at"] is None
                    else f"last reviewed {pd.Timestamp(snap['reviewed_at']):%d %b %Y} "
                    f"by {snap['reviewed_by'] or '—'}"
                )
                st.caption(f"Loaded version {snap['version']}; {reviewed}.")
    with right:
        st.subheader("Add an assumption")
        with st.form("decisions_add_assumption", clear_on_submit=True):
            st.text_input("Name", key="decisions_new_a_name", placeholder="Supplier X lead time")
            st.text_input("Value", key="decisions_new_a_value", placeholder="6")
            st.text_input("Unit", key="decisions_new_a_unit", placeholder="weeks")
            st.text_input("Owner", key="decisions_new_a_owner", placeholder="Head of Operations")
            st.text_area("Rationale", key="decisions_new_a_rationale")
            st.text_input(
                "Evidence", key="decisions_new_a_evidence", placeholder="Supplier letter 3 Nov"
            )
            st.number_input(
                "Drift tolerance (%) — blank: the settings' tolerance",
                value=None,
                min_value=0.0,
                max_value=1000.0,
                key="decisions_new_a_tol",
            )
            st.form_submit_button(
                "Add to the register",
                on_click=_add_assumption,
                key="decisions_new_a_add",
                disabled=not may_edit,
            )

    if not table.empty:
        st.subheader("An assumption across cycles")
        names = table["name"].tolist()
        drifted = table.loc[table["drift"], "name"].tolist()
        pick = st.selectbox(
            "Assumption",
            names,
            index=names.index(drifted[0]) if drifted else 0,
            key="decisions_history",
        )
        history = register.assumption_history(store, pick)
        if history["number"].notna().sum() >= 1:
            st.altair_chart(assumption_history_chart(history, pick), width="stretch")
        else:
            st.caption("Its values are not numbers, so there is nothing to chart; the history:")
        st.dataframe(
            history[["cycle", "value", "unit", "reviewed_at"]],
            hide_index=True,
            key="decisions_history_table",
        )


# --- decision log -----------------------------------------------------------------------------


@st.cache_resource(show_spinner=False, max_entries=4)
def _disagreements(path: str, version: int, cycle: str):

    return plan_for_store(state.get_store(), cycle=cycle).disagreements


OTHER = "Something else (write it below)"
NOTHING = "—"


def _answers(prefix: str) -> str:
    chosen = st.session_state.get(f"{prefix}_answers")
    if chosen == OTHER:
        return st.session_state.get(f"{prefix}_answers_other") or ""
    return "" if chosen in (None, NOTHING) else chosen


def _add_decision() -> None:
    get = st.session_state.get
    _write(
        "decision:record",
        get("decisions_new_d_text"),
        lambda: decisions.add_decision(
            store,
            cycle,
            decision=get("decisions_new_d_text"),
            owner=get("decisions_new_d_owner"),
            due=get("decisions_new_d_due"),
            answers=_answers("decisions_new_d"),
            note=get("decisions_new_d_note") or "",
            user=user,
        ),
        "Decision logged.",
    )


def _save_decision(row_id: int) -> None:
    snap = st.session_state.get("decisions_loaded_decision")
    get = st.session_state.get
    fields = {
        "decision": get(f"decisions_d_decision_{row_id}"),
        "owner": get(f"decisions_d_owner_{row_id}"),
        "due": get(f"decisions_d_due_{row_id}"),
        "status": get(f"decisions_d_status_{row_id}"),
        "note": get(f"decisions_d_note_{row_id}"),
    }

    def save() -> None:
        fields["due"] = decisions.parse_due(fields["due"])
        decisions.update_decision(
            store, row_id, int(snap["version"]), _changes(snap, fields), user=user, loaded=snap
        )

    _write(
        "decision:record",
        snap["decision"],
        save,
        f"Decision saved ({fields['status']}).",
        after=lambda: st.session_state.pop("decisions_loaded_decision", None),
    )


with tab_decisions:
    log = decisions.list_decisions(store, cycle)
    open_ = log[log["status"].isin(decisions.OPEN_STATUSES)]
    c1, c2, c3 = st.columns(3)
    c1.metric("Open decisions", len(open_))
    c2.metric("Overdue", int(open_["overdue"].sum()))
    c3.metric("Closed this cycle", len(log) - len(open_))
    if log.empty:
        st.info(
            "No decisions logged in this cycle yet. In the executive meeting, log each decision "
            "with its owner, due date and what it answers (a disagreement or a scenario)."
        )
    else:
        st.dataframe(
            log.assign(overdue=log["overdue"].map({True: "overdue", False: ""}))[
                ["decision", "owner", "due", "status", "overdue", "answers", "note", "taken_in"]
            ],
            hide_index=True,
            column_config={"decision": st.column_config.TextColumn(width="large")},
            key="decisions_log_table",
        )

    left, right = st.columns(2, gap="large")
    with left:
        st.subheader("Log a decision")
        try:
            found = _disagreements(str(store.path), state.data_version(store), cycle)
        except Exception:  # noqa: BLE001 - the options degrade to the scenarios
            found = None
        options = [NOTHING, *decisions.answer_options(store, cycle, found), OTHER]
        with st.form("decisions_add_decision", clear_on_submit=True):
            st.text_area(
                "Decision",
                key="decisions_new_d_text",
                placeholder="Add a second shift on Line 2 from March",
            )
            st.text_input("Owner", key="decisions_new_d_owner", placeholder="Head of Operations")
            st.date_input(
                "Due",
                value=dt.date.today() + dt.timedelta(days=28),
                key="decisions_new_d_due",
            )
            st.selectbox("What it answers", options, key="decisions_new_d_answers")
            st.text_input("…or in your words", key="decisions_new_d_answers_other")
            st.text_input("Note", key="decisions_new_d_note")
            st.form_submit_button(
                "Log the decision",
                type="primary",
                on_click=_add_decision,
                key="decisions_new_d_add",
                disabled=not may_decide,
            )
    with right:
        st.subheader("Update a decision")
        if log.empty:
            st.caption("Nothing to update yet.")
        else:
            ids = [int(i) for i in log["id"]]
            texts = dict(zip(ids, log["decision"], strict=True))
            row_id = st.selectbox("Decision", ids, format_func=texts.get, key="decisions_decision")
            snap = _loaded("decision", row_id, decisions.get_decision)
            if snap is None:
                st.warning("That decision was deleted by someone else: pick another.")
            else:
                with st.form(f"decisions_d_form_{row_id}"):
                    st.text_area(
                        "Decision", value=snap["decision"], key=f"decisions_d_decision_{row_id}"
                    )
                    st.text_input(
                        "Owner", value=snap["owner"] or "", key=f"decisions_d_owner_{row_id}"
                    )
                    st.date_input(
                        "Due",
                        value=dt.date.fromisoformat(snap["due"]) if snap["due"] else None,
                        key=f"decisions_d_due_{row_id}",
                    )
                    st.selectbox(
                        "Status",
                        decisions.STATUSES,
                        index=decisions.STATUSES.index(snap["status"]),
                        key=f"decisions_d_status_{row_id}",
                    )
                    st.text_input(
                        "Note", value=snap["note"] or "", key=f"decisions_d_note_{row_id}"
                    )
                    st.form_submit_button(
                        "Save",
                        type="primary",
                        on_click=_save_decision,
                        args=(row_id,),
                        key=f"decisions_d_save_{row_id}",
                        disabled=not may_decide,
                    )
                st.button(
                    "Reload",
                    key="decisions_d_reload",
                    on_click=_forget,
                    args=("decision", row_id, "decisions_d_"),
                )
                if snap.get("answers"):
                    st.caption(f"Answers: {snap['answers']}")
