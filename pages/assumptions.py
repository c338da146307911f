"""Assumptions: the register the plan rests on, with drift and staleness, edited and reviewed per cycle."""

import pandas as pd
import streamlit as st

from sop_core.errors import SopError
from sop_core.meeting import register
from sop_core.plan.links import NOT_LINKED, link_options
from sop_core.store import lock
from sop_core.views.register import register_counts, register_view
from sop_core.views.register_charts import assumption_history_chart
from sop_core.views.review import tests_table
from ui import auth, editing, flash, plan, state, views
from ui.text import plain

P = "assumptions"
store = state.get_store()
cycle = state.selected_cycle(store)
user = state.user_name()
may_edit = auth.can("assumption:edit", store)  # greys out buttons; auth.check is what counts

st.title("Assumptions")
if not cycle:
    st.info(
        "There is no S&OP cycle yet: import forecasts with their cycle column on the Data page. "
        "The register is kept per cycle."
    )
    st.stop()
info = lock.cycle_info(store, cycle)
st.caption(
    f"Cycle {cycle} · what the plan rests on · you are {plain(user)}"
    + (" (set your name in the sidebar)" if user == "anonymous" else "")
)
if info and info.locked:
    st.info(
        f"Cycle {cycle} is locked (by {plain(info.locked_by)} on {pd.Timestamp(info.locked_at):%d %b %Y}): "
        "its register is the record of that meeting and cannot be changed. "
        "Open the next cycle (S&OP cycle page) to review it again.",
        icon=":material/lock:",
    )
flash.show(P)


try:
    model = plan.model(store, cycle)
    LINKS = {"": NOT_LINKED, **link_options(model.families, model.resources)}
except SopError:  # nothing to plan yet (no products): only the settings can be linked
    LINKS = {"": NOT_LINKED, **link_options([], [])}
LINK_HELP = (
    "Link the assumption to the setting or lever it stands for: its value then drives the plan "
    "(and changing it changes the plan). Unlinked, it is documentation only."
)


def _write(detail, do, done: str, *, after=None) -> None:
    editing.write(P, "assumption:edit", detail, do, done, store=store, after=after)


def _snap() -> dict:
    return st.session_state.get(f"{P}_loaded_assumption")


def _unload() -> None:
    st.session_state.pop(f"{P}_loaded_assumption", None)


def _save(row_id: int) -> None:
    snap = _snap()
    fields = {f: st.session_state.get(f"{P}_{f}_{row_id}") for f in register.EDITABLE_FIELDS}
    changes = editing.changed_fields(snap, fields)
    _write(
        snap["name"],
        lambda: register.update_assumption(
            store, row_id, int(snap["version"]), changes, user=user, loaded=snap
        ),
        f'Saved "{plain(snap["name"])}" (and marked reviewed by {plain(user)}).',
        after=_unload,
    )


def _review(row_id: int) -> None:
    snap = _snap()
    _write(
        snap["name"],
        lambda: register.review_assumption(
            store, row_id, int(snap["version"]), user=user, loaded=snap
        ),
        f'"{plain(snap["name"])}" reviewed by {plain(user)}: it still holds.',
        after=_unload,
    )


def _delete(row_id: int) -> None:
    snap = _snap()
    _write(
        snap["name"],
        lambda: register.delete_assumption(store, row_id, int(snap["version"]), user=user),
        f'Deleted "{plain(snap["name"])}" from the register of cycle {cycle}.',
        after=lambda: editing.forget(P, "assumption", row_id, f"{P}_"),
    )


def _add() -> None:
    get = st.session_state.get
    _write(
        get(f"{P}_new_name"),
        lambda: register.add_assumption(
            store,
            cycle,
            name=get(f"{P}_new_name"),
            value=get(f"{P}_new_value"),
            unit=get(f"{P}_new_unit") or "",
            owner=get(f"{P}_new_owner") or "",
            rationale=get(f"{P}_new_rationale") or "",
            evidence=get(f"{P}_new_evidence") or "",
            tolerance_pct=get(f"{P}_new_tolerance"),
            link=get(f"{P}_new_link") or None,
            user=user,
        ),
        f'Added "{plain(get(f"{P}_new_name"))}" to the register of cycle {cycle}.',
    )


table = register.register(store, cycle)
counts = register_counts(table)
c1, c2, c3 = st.columns(3)
c1.metric("Assumptions in force", counts["in_force"])
c2.metric("Drifted beyond tolerance", counts["drifted"])
c3.metric("Unreviewed for over a cycle", counts["stale"])
if table.empty:
    st.info(
        "The register is empty. Write down what the plan rests on — e.g. “Supplier X lead time: "
        "6 weeks” — with its owner and evidence (form below); the promoted scenario's levers "
        "appear here by themselves."
    )
else:
    st.dataframe(
        register_view(table),
        hide_index=True,
        column_config={
            "last reviewed": st.column_config.DatetimeColumn(format="D MMM YYYY"),
            "why flagged": st.column_config.TextColumn(width="large"),
        },
        key=f"{P}_table",
    )

try:
    tested = views.assumption_tests(store, cycle)
except SopError as exc:  # no plan yet: the register still shows
    tested = None
    st.warning(f"The assumptions could not be tested against the actuals: {exc}")
if tested is not None and len(tested):
    st.subheader("Tested against the actuals")
    st.caption(
        "The register's monthly test: what the plan assumes, measured over the last three months "
        "of actuals before it (docs/METHOD.md §11). Beyond its tolerance, a test is a "
        "disagreement with the assumption's owner (Alignment page)."
    )
    st.dataframe(
        tests_table(tested, state.settings(store).currency), hide_index=True, key=f"{P}_tests"
    )

TOLERANCE = "Drift tolerance (%) — blank: the settings' tolerance"
left, right = st.columns(2, gap="large")
with left:
    st.subheader("Edit or review an assumption")
    written = table[table["kind"] == "written"]
    if written.empty:
        st.caption("No written assumptions in this cycle yet.")
    else:
        names = dict(zip([int(i) for i in written["id"]], written["name"], strict=True))
        row_id = st.selectbox("Assumption", list(names), format_func=names.get, key=f"{P}_pick")
        snap = editing.loaded_row(
            P, "assumption", row_id, lambda i: register.get_assumption(store, i)
        )
        if snap is None:
            st.warning("That assumption was deleted by someone else: pick another.")
        else:
            with st.form(f"{P}_form_{row_id}"):
                for field, label in (("value", "Value"), ("unit", "Unit"), ("owner", "Owner")):
                    st.text_input(label, value=snap[field] or "", key=f"{P}_{field}_{row_id}")
                st.text_area(
                    "Rationale", value=snap["rationale"] or "", key=f"{P}_rationale_{row_id}"
                )
                st.text_input(
                    "Evidence", value=snap["evidence"] or "", key=f"{P}_evidence_{row_id}"
                )
                st.number_input(
                    TOLERANCE,
                    value=snap["tolerance_pct"],
                    min_value=0.0,
                    max_value=1000.0,
                    key=f"{P}_tolerance_pct_{row_id}",
                )
                st.selectbox(
                    "The plan reads it as",
                    list(LINKS),
                    index=list(LINKS).index(snap["link"] if snap["link"] in LINKS else ""),
                    format_func=LINKS.get,
                    key=f"{P}_link_{row_id}",
                    help=LINK_HELP,
                )
                st.form_submit_button(
                    "Save (counts as reviewed)",
                    type="primary",
                    on_click=_save,
                    args=(row_id,),
                    key=f"{P}_save_{row_id}",
                    disabled=not may_edit,
                )
            b1, b2, b3 = st.columns(3)
            b1.button(
                "Reviewed: still holds",
                key=f"{P}_review",
                on_click=_review,
                args=(row_id,),
                disabled=not may_edit,
            )
            b2.button(
                "Reload",
                key=f"{P}_reload",
                on_click=editing.forget,
                args=(P, "assumption", row_id, f"{P}_"),
                help="Load the stored values again (after someone else saved).",
            )
            b3.button(
                "Delete", key=f"{P}_delete", on_click=_delete, args=(row_id,), disabled=not may_edit
            )
            reviewed = (
                "never reviewed"
                if snap["reviewed_at"] is None
                else f"last reviewed {pd.Timestamp(snap['reviewed_at']):%d %b %Y} "
                f"by {plain(snap['reviewed_by'] or '—')}"
            )
            st.caption(f"Loaded version {snap['version']}; {reviewed}.")
with right:
    st.subheader("Add an assumption")
    with st.form(f"{P}_add_form", clear_on_submit=True):
        st.text_input("Name", key=f"{P}_new_name", placeholder="Supplier X lead time")
        st.text_input("Value", key=f"{P}_new_value", placeholder="6")
        st.text_input("Unit", key=f"{P}_new_unit", placeholder="weeks")
        st.text_input("Owner", key=f"{P}_new_owner", placeholder="Head of Operations")
        st.text_area("Rationale", key=f"{P}_new_rationale")
        st.text_input("Evidence", key=f"{P}_new_evidence", placeholder="Supplier letter 3 Nov")
        st.number_input(
            TOLERANCE, value=None, min_value=0.0, max_value=1000.0, key=f"{P}_new_tolerance"
        )
        st.selectbox(
            "The plan reads it as",
            list(LINKS),
            format_func=LINKS.get,
            key=f"{P}_new_link",
            help=LINK_HELP,
        )
        st.form_submit_button(
            "Add to the register", on_click=_add, key=f"{P}_new_add", disabled=not may_edit
        )

if not table.empty:
    st.subheader("An assumption across cycles")
    names = table["name"].tolist()
    drifted = table.loc[table["drift"], "name"].tolist()
    pick = st.selectbox(
        "Assumption", names, index=names.index(drifted[0]) if drifted else 0, key=f"{P}_history"
    )
    history = register.assumption_history(store, pick)
    if history["number"].notna().sum() >= 1:
        st.altair_chart(assumption_history_chart(history, pick), width="stretch")
    else:
        st.caption("Its values are not numbers, so there is nothing to chart; the history:")
    st.dataframe(
        history[["cycle", "value", "unit", "reviewed_at"]],
        hide_index=True,
        key=f"{P}_history_table",
    )
