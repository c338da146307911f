"""Scenarios: change an assumption and see cash and margin move at once; save, load, compare, promote."""

import pandas as pd
import streamlit as st

from sop_core.errors import SopError
from sop_core.meeting.scenarios import (
    delete_scenario,
    get_scenario,
    list_scenarios,
    promote_scenario,
    save_scenario,
    usable_levers,
)
from sop_core.months import span_label
from sop_core.plan.levers import describe_levers, levers_from_json, levers_to_strings
from sop_core.store.lock import is_locked
from sop_core.views import whatif
from sop_core.views.ranges import compare_ranges
from ui import auth, decisions, flash, plan, state
from ui import whatif as panel
from ui.text import plain
from ui.widgets import notice, views

P = panel.SCENARIO
WHAT_IF, SAVED, COMPARE = "What if", "Saved scenarios", "Compare"
GOAL, SENSITIVITY, ALLOCATION = "Goal seek", "Sensitivity", "Allocation"
store = state.get_store()
cycle = state.selected_cycle(store)
data = state.plan_data(store, cycle)
cur = data.settings.currency
user = state.user_name()
may_save = auth.can("scenario:save", store)  # greys out buttons; auth.check is what counts
may_promote = auth.can("scenario:promote", store)

st.title("Scenarios")
st.caption(
    f"What if…? Each figure against the plan of record · {span_label(data.months[0], data.months[-1])}"
    f" · cycle {cycle or '—'} · money in {cur}"
)


def _flash(kind: str, text: str) -> None:
    flash.say(P, kind, text)


# Always one container, a message or not: the what-if below keeps its place in the page.
with st.container():
    flash.show(P)


# --- the callbacks (run before the page, so the inputs show what they set) ---------------------


def _save() -> None:
    ctrls = panel.controls(store, cycle)
    levers, errors = panel.current_levers(P, ctrls)
    name = (st.session_state.get(f"{P}_save_name") or "").strip()
    if errors:
        _flash("error", "Not saved: fix the values marked in red first (they are not applied).")
        return
    loaded = st.session_state.get(f"{P}_loaded") or {}
    expected = loaded.get("version") if loaded.get("name") == name else None
    try:
        auth.check("scenario:save", detail=name, store=store)
        saved = save_scenario(
            store,
            cycle,
            name,
            levers,
            author=user,
            note=st.session_state.get(f"{P}_save_note") or "",
            expected_version=expected,
        )
    except SopError as exc:
        _flash("error", plain(exc))
        return
    state.after_write()
    st.session_state[f"{P}_loaded"] = {"name": saved.name, "version": saved.version}
    _flash(
        "success",
        f'Saved "{plain(saved.name)}" (version {saved.version}, {len(levers)} lever(s)) for cycle '
        f"{cycle} as {plain(user)}.",
    )


def _load(name: str) -> None:
    sc = get_scenario(store, cycle, name)
    if sc is None:
        _flash(
            "error", f'"{plain(name)}" is no longer saved in cycle {cycle} (someone deleted it).'
        )
        return
    model = plan.model(store, cycle)
    levers, dropped = usable_levers(sc.levers, model.families, model.resources, model.months)
    dropped += [
        f"{item} (the inputs hold one value per lever)"
        for item in panel.set_inputs(P, panel.controls(store, cycle), levers)
    ]
    st.session_state[f"{P}_loaded"] = {"name": sc.name, "version": sc.version}
    st.session_state[f"{P}_view"] = WHAT_IF  # show what was loaded
    st.session_state[f"{P}_save_name"] = sc.name
    st.session_state[f"{P}_save_note"] = sc.note or ""
    if dropped:
        _flash(
            "warning",
            f'Loaded "{plain(sc.name)}" without {len(dropped)} lever(s) that no longer fit the data: '
            + "; ".join(dropped),
        )
    else:
        _flash(
            "success",
            f'Loaded "{plain(sc.name)}" (version {sc.version}, by {plain(sc.author or "—")}).',
        )


def _delete(name: str, version: int) -> None:
    try:
        auth.check("scenario:save", detail=name, store=store)
        delete_scenario(store, cycle, name, user=user, expected_version=version)
    except SopError as exc:
        _flash("error", plain(exc))
        return
    state.after_write()
    if (st.session_state.get(f"{P}_loaded") or {}).get("name") == name:
        st.session_state.pop(f"{P}_loaded", None)
    _flash("success", f'Deleted "{plain(name)}" from cycle {cycle}.')


def _promote(name: str) -> None:
    try:
        auth.check("scenario:promote", detail=name, store=store)
        promote_scenario(store, cycle, name, user=user)
    except SopError as exc:
        _flash("error", plain(exc))
        return
    state.after_write()
    _flash(
        "success",
        f'"{plain(name)}" is now the plan of cycle {cycle}: the Executive summary and the board pack use it '
        "(recorded in the audit log).",
    )


# --- the page: three views, only the chosen one is drawn ----------------------------------------
# (a lever change redraws the figures; the fewer elements on the page, the sooner they show)

locked = is_locked(store, cycle) if cycle else False
saved = list_scenarios(store, cycle) if cycle else pd.DataFrame(columns=["name"])
names = saved["name"].tolist()
loaded = st.session_state.get(f"{P}_loaded")
view = views("View", [WHAT_IF, SAVED, COMPARE, GOAL, SENSITIVITY, ALLOCATION], key=f"{P}_view")


def save_popover() -> None:
    """ "Save as scenario…": name, note and the save button, beside the levers' reset."""
    if not cycle:
        st.caption("Scenarios are saved per S&OP cycle, and there is none yet.")
        return
    label = f'Save "{plain(loaded["name"])}"…' if loaded else "Save as scenario…"
    with st.popover(label, icon=":material/save:", type="primary"):
        if locked:
            st.info(
                f"Cycle {cycle} is locked: its scenarios are the record of that meeting. "
                "Open the next cycle to save new ones.",
                icon=":material/lock:",
            )
        st.text_input(
            "Scenario name",
            key=f"{P}_save_name",
            max_chars=80,
            placeholder="e.g. Price −3 % on radiators",
            disabled=locked,
        )
        st.text_input(
            "Note",
            key=f"{P}_save_note",
            placeholder="why, who asked, what it assumes",
            disabled=locked,
        )
        st.button(
            "Save scenario",
            key=f"{P}_save",
            type="primary",
            icon=":material/save:",
            on_click=_save,
            disabled=locked or not may_save,
        )
        st.caption(
            f"Saved with the levers set now, you as author ({plain(user)}) and the note, for cycle {cycle}"
            + (" — set your name in the sidebar." if user == "anonymous" else ".")
            + (
                f' Loaded: "{plain(loaded["name"])}" (version {loaded["version"]}); keep its name to save '
                "a new version."
                if loaded
                else ""
            )
        )


def saved_view() -> None:
    if saved.empty:
        st.caption(
            f"No scenario saved for cycle {cycle} yet: set some levers under *{WHAT_IF}*, name "
            "the scenario and save it."
        )
        return
    shown = pd.DataFrame(
        {
            "plan": ["★ promoted" if p else "" for p in saved["promoted"]],
            "scenario": saved["name"],
            "levers": [
                "; ".join(describe_levers(levers_from_json(t))) or "no lever"
                for t in saved["levers"]
            ],
            "author": saved["author"],
            "note": saved["note"],
            "saved": saved["updated_at"],
            "version": saved["version"],
        }
    )
    st.dataframe(
        shown,
        hide_index=True,
        key=f"{P}_saved_table",
        column_config={
            "saved": st.column_config.DatetimeColumn(format="D MMM HH:mm"),
            "version": st.column_config.NumberColumn(width="small"),
        },
    )
    pick_col, load_col, del_col, promote_col = st.columns(
        [2, 1, 1, 1.3], vertical_alignment="bottom"
    )
    pick = pick_col.selectbox("Scenario", names, key=f"{P}_pick")
    version = int(saved.loc[saved["name"] == pick, "version"].iloc[0])
    load_col.button(
        "Load",
        key=f"{P}_load",
        icon=":material/upload:",
        on_click=_load,
        args=(pick,),
        width="stretch",
        help=f"Set the levers to this scenario's and show it under {WHAT_IF}.",
    )
    with del_col.popover(
        "Delete", icon=":material/delete:", disabled=locked or not may_save, width="stretch"
    ):
        st.markdown(
            f'Delete **"{plain(pick)}"** from cycle {cycle}? The audit log keeps its levers.'
        )
        st.button(
            "Yes, delete",
            key=f"{P}_delete",
            on_click=_delete,
            args=(pick, version),
            type="primary",
        )
    with promote_col.popover(
        "Promote to plan",
        icon=":material/verified:",
        disabled=locked or not may_promote,
        width="stretch",
    ):
        st.markdown(
            f'Make **"{plain(pick)}"** the plan of cycle {cycle}? The Executive summary, finance '
            "and the board pack will show it; recorded in the audit log."
        )
        st.button(
            "Yes, promote",
            key=f"{P}_promote",
            on_click=_promote,
            args=(pick,),
            type="primary",
        )
    if locked:
        st.caption(f"Cycle {cycle} is locked: scenarios can be loaded, not changed.")
    st.caption(
        f'The same numbers from the command line: `python -m sop_core plan --db PATH --scenario "{pick}" '
        "--level company --out plan.csv`"
    )


def compare_view() -> None:
    if len(names) < 2:
        st.caption("Save two or more scenarios to compare them side by side.")
        return
    chosen = st.multiselect(
        "Scenarios to compare (2 to 4)",
        names,
        key=f"{P}_compare",
        max_selections=whatif.MAX_COMPARED,
        placeholder="Pick 2 to 4 saved scenarios",
    )
    if len(chosen) < 2:
        st.caption("Pick at least two.")
        return
    model = plan.model(store, cycle)
    plans = {whatif.BASE: plan.base_result(store, cycle)}
    for name in chosen:
        items = levers_to_strings(
            levers_from_json(saved.loc[saved["name"] == name, "levers"].iloc[0])
        )
        levers, dropped = usable_levers(items, model.families, model.resources, model.months)
        if dropped:
            st.warning(f'"{plain(name)}" is compared without: ' + plain("; ".join(dropped)))
        plans[name] = plan.result(store, levers, cycle)
    table = whatif.format_side_by_side(whatif.side_by_side(plans), cur)
    st.dataframe(
        table,
        hide_index=True,
        key=f"{P}_compare_table",
        row_height=36,
        height=(len(table) + 1) * 36 + 3,  # every figure at once, no scrolling on a projector
    )
    st.caption("In brackets: the change against the base plan.")
    try:  # a large plan's ranges: drawn in the background
        spread = {
            name: plan.ranges(store, r.levers, cycle, wait=False) for name, r in plans.items()
        }
        if any(r is None for r in spread.values()):
            levers = [plans[name].levers for name, r in spread.items() if r is None]
            plan.wait_for_ranges(store, levers, cycle, "the ranges of these plans")
            spread = None
    except SopError as exc:  # the comparison above stands without ranges
        spread = None
        notice(f"Ranges unavailable: {exc}")
    if spread is not None:
        st.dataframe(compare_ranges(spread, cur), hide_index=True, key=f"{P}_compare_ranges")
        first = next(iter(spread.values()))
        st.caption(
            f"Ranges over {first.samples:,} demand paths each (the same paths for every "
            "scenario): P10 and P90 of the lowest cash and the horizon's revenue, and the share "
            "of paths whose cash goes below the minimum in some month."
        )
    frame = whatif.curves(plans)
    c1, c2 = st.columns(2)
    with c1:
        panel.curves_chart(
            frame[frame["measure"] == "Closing cash"],
            cur,
            "Closing cash by month (red: the minimum)",
            key=f"{P}_cmp_cash",
            minimum=data.settings.minimum_cash,
        )
    with c2:
        panel.curves_chart(
            frame[frame["measure"] == "Gross margin"],
            cur,
            "Gross margin by month",
            key=f"{P}_cmp_gm",
        )


if view == GOAL:
    decisions.goal_seek_panel(store, cycle)
elif view == SENSITIVITY:
    decisions.sensitivity_panel(store, cycle)
elif view == ALLOCATION:
    decisions.allocation_panel(store, cycle)
elif view in (SAVED, COMPARE):
    if not cycle:
        st.info("Scenarios are saved per S&OP cycle and there is none yet.")
    elif view == SAVED:
        saved_view()
    else:
        compare_view()
else:
    panel.scenario_panel(store, cycle, actions=save_popover)
