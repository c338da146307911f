"""S&OP cycle: where the business is in the four-week rhythm, sign-offs, the lock, the next cycle."""

import pandas as pd
import streamlit as st

from sop_core import fmt
from sop_core.errors import SopError
from sop_core.meeting import cycles
from sop_core.meeting.scenarios import promoted_scenario
from sop_core.meeting.versions import list_versions
from sop_core.months import add_months
from sop_core.plan.levers import describe_levers, parse_levers
from sop_core.store import lock
from sop_core.store.plandata import current_cycle
from sop_core.views import bridge
from sop_core.views.charts import bridge_chart
from ui import auth, flash, state
from ui.text import plain

store = state.get_store()
cycle = state.selected_cycle(store)

st.title("S&OP cycle")
if not cycle:
    st.info(
        "There is no S&OP cycle yet. Import forecasts with their cycle column on the Data page "
        "(the cycle is the month the forecast was made); the cycle and its four steps start then."
    )
    st.stop()


def _run(permission: str, action, *args, **kwargs) -> bool:
    """Run one store action from a button if the role may; keep its message for the rerun."""
    try:
        auth.check(permission, detail=cycle, store=store)
        message = action(*args, **kwargs)
    except SopError as exc:
        flash.say("cycle", "error", plain(exc))
        return False
    state.after_write()
    flash.say("cycle", "success", message or "Saved.")
    return True


def _sign(step: str) -> None:
    if _run("step:signoff", cycles.sign_off, store, cycle, step, user=state.user_name()):
        _reload_step(step)


def _lock(override: bool) -> None:
    reason = st.session_state.get("cycle_lock_override") if override else None
    _run("cycle:lock", cycles.lock_cycle, store, cycle, user=state.user_name(), override=reason)


def _reopen(step: str, version: int) -> None:
    reason = st.session_state.get(f"cycle_reopen_reason_{step}") or ""
    done = _run(
        "step:reopen",
        cycles.reopen_step,
        store,
        cycle,
        step,
        user=state.user_name(),
        reason=reason,
        expected_version=version,
    )
    if done:
        _reload_step(step)


def _open_next() -> None:
    if _run("cycle:open", cycles.open_next_cycle, store, user=state.user_name()):
        st.session_state["cycle"] = current_cycle(store)  # the sidebar follows to the new cycle


def _loaded_key(step: str) -> str:
    return f"cycle_loaded_{cycle}_{step}"


def _load_step(row) -> None:
    """Fill a step's owner and status inputs from the store once, and remember the version they
    came from: a save is checked against it, however many reruns happen in between."""
    if _loaded_key(row.step) not in st.session_state:
        st.session_state[_loaded_key(row.step)] = int(row.version)
        st.session_state[f"cycle_owner_{row.step}"] = row.owner
        st.session_state[f"cycle_due_{row.step}"] = row.due
        if row.status == cycles.SIGNED_OFF:  # a sign-off is undone by Reopen only, never a Save
            st.session_state.pop(f"cycle_status_{row.step}", None)
        else:
            st.session_state[f"cycle_status_{row.step}"] = row.status


def _reload_step(step: str) -> None:
    for key in (
        _loaded_key(step),
        f"cycle_owner_{step}",
        f"cycle_due_{step}",
        f"cycle_status_{step}",
    ):
        st.session_state.pop(key, None)


def _update_step(step: str) -> str:
    owner = st.session_state.get(f"cycle_owner_{step}")
    due = st.session_state.get(f"cycle_due_{step}")
    status = st.session_state.get(f"cycle_status_{step}")  # absent on a signed-off step's card
    cycles.update_step(
        store,
        cycle,
        step,
        user=state.user_name(),
        expected_version=st.session_state[_loaded_key(step)],
        owner=owner,
        status=status,
        due=due,
    )
    saved = f"owner {plain(owner)}, due {fmt.day(due)}" + (f", {status}" if status else "")
    return f"{cycles.STEP_BY_KEY[step].title}: {saved}."


def _save_step(step: str) -> None:
    if _run("step:update", _update_step, step):
        _reload_step(step)  # show what is stored now, and take its version


flash.show("cycle")

try:
    line = cycles.rhythm_line(store, cycle)
    steps = cycles.steps(store, cycle)
except SopError as exc:
    st.error(plain(exc))
    st.stop()
info = lock.cycle_info(store, cycle)
locked = bool(info and info.locked)
st.subheader(line)
if locked:
    st.info(
        f"Cycle {cycle} is locked (by {plain(info.locked_by)} on "
        f"{pd.Timestamp(info.locked_at):%d %b %Y %H:%M}): its plan is the plan of record and "
        "edits and imports are refused. Open the next cycle to plan again.",
        icon=":material/lock:",
    )

st.dataframe(
    steps.assign(
        overdue=steps["overdue"].map({True: "overdue", False: ""}),
        signed_by=steps["signed_by"].fillna(""),
        signed_at=[
            "" if pd.isna(v) else f"{pd.Timestamp(v):%a %d %b %H:%M}" for v in steps["signed_at"]
        ],
    )[["position", "title", "owner", "due", "status", "signed_by", "signed_at", "overdue"]],
    hide_index=True,
    column_config={
        "position": st.column_config.NumberColumn("Step", width="small"),
        "title": "What",
        "owner": "Owner",
        "due": st.column_config.DateColumn("Due", format="ddd D MMM"),
        "status": "Status",
        "signed_by": "Signed off by",
        "signed_at": "Signed off",
        "overdue": "",
    },
    key="cycle_steps_table",
)

named = state.user_name() != "anonymous"
if not locked:
    st.subheader("Sign off a step")
    st.caption(
        f"Signing off writes your name ({plain(state.user_name())}) and the time to the audit log. "
        "The executive step's sign-off locks the plan."
    )
    if not named:
        st.warning("Enter your name in the sidebar to sign off: a sign-off says who agreed.")
    cols = st.columns(len(steps))
    for col, row in zip(cols, steps.itertuples(), strict=True):
        spec = cycles.STEP_BY_KEY[row.step]
        signed = row.status == cycles.SIGNED_OFF
        with col, st.container(border=True):
            st.markdown(f"**{row.position}. {row.title}**")
            st.caption(spec.question)
            if row.step == "executive":
                st.caption("Signed off by the lock below.")
                continue
            _load_step(row)
            if signed:
                st.badge(
                    f"Signed off by {plain(row.signed_by)} on "
                    f"{pd.Timestamp(row.signed_at):%d %b %H:%M}",
                    icon=":material/check_circle:",
                    color="green",
                )
            st.text_input("Owner", key=f"cycle_owner_{row.step}")
            st.date_input("Due", key=f"cycle_due_{row.step}", format="DD/MM/YYYY")
            if not signed:
                st.selectbox(
                    "Status", list(cycles.STEP_STATUSES[:2]), key=f"cycle_status_{row.step}"
                )
            save, reload = st.columns(2)
            save.button(
                "Save owner and due date" if signed else "Save",
                key=f"cycle_save_{row.step}",
                on_click=_save_step,
                args=(row.step,),
                disabled=not auth.can("step:update", store),
            )
            reload.button(
                "Reload",
                key=f"cycle_reload_{row.step}",
                on_click=_reload_step,
                args=(row.step,),
                help="Load the stored owner, due date and status again (after someone else saved).",
            )
            if signed:
                with st.popover("Reopen…", icon=":material/undo:"):
                    st.text_input(
                        "Why reopen it?",
                        key=f"cycle_reopen_reason_{row.step}",
                        placeholder="e.g. Sales sent a revised forecast",
                    )
                    st.button(
                        f"Reopen {row.title}",
                        key=f"cycle_reopen_{row.step}",
                        on_click=_reopen,
                        args=(row.step, int(row.version)),
                        disabled=not auth.can("step:reopen", store),
                    )
            else:
                st.button(
                    "Sign off",
                    key=f"cycle_sign_{row.step}",
                    type="primary",
                    disabled=not named or not auth.can("step:signoff", store),
                    on_click=_sign,
                    args=(row.step,),
                )

    st.subheader("Executive S&OP: lock the plan")
    promoted = promoted_scenario(store, cycle)
    plan_text = (
        f'the promoted scenario "{plain(promoted.name)}" '
        f"({plain('; '.join(describe_levers(parse_levers(promoted.levers)))) or 'no levers'})"
        if promoted
        else "the base plan (no scenario is promoted; promote one on the Scenarios page)"
    )
    st.write(
        f"Locking stores {plan_text} with its inputs and results as the plan of record for "
        f"cycle {cycle}. After the lock, edits and imports for this cycle are refused."
    )
    unsigned = steps[(steps["step"] != "executive") & (steps["status"] != cycles.SIGNED_OFF)]
    confirm = st.checkbox(
        f"The executive meeting agreed this plan for cycle {cycle}", key="cycle_lock_confirm"
    )
    may_lock = confirm and named and auth.can("cycle:lock", store)
    if unsigned.empty:
        st.button(
            f"Sign off and lock cycle {cycle}",
            key="cycle_lock",
            type="primary",
            icon=":material/lock:",
            disabled=not may_lock,
            on_click=_lock,
            args=(False,),
        )
    else:
        st.warning(
            f"Not signed off yet: {', '.join(unsigned['title'])}. Sign them off above, or lock "
            "with an executive override: its reason is kept in the lock record and the board pack.",
            icon=":material/warning:",
        )
        reason = st.text_input(
            "Reason for locking without those sign-offs",
            key="cycle_lock_override",
            placeholder="e.g. The board meets tomorrow; finance signs off the reconciliation after.",
        )
        st.button(
            f"Lock cycle {cycle} with an override",
            key="cycle_lock",
            type="primary",
            icon=":material/lock:",
            disabled=not (may_lock and len((reason or "").strip()) >= cycles.MIN_REASON),
            on_click=_lock,
            args=(True,),
        )

if cycle == current_cycle(store):
    st.subheader("Next cycle")
    nxt = add_months(cycle, 1)
    st.write(
        f"Opening cycle {nxt} copies this cycle's forecasts, assumptions, scenarios and open "
        "decisions to it and rolls the plan start forward one month."
        + ("" if locked else f" Cycle {cycle} is not locked yet: lock it first to keep its plan.")
    )
    st.button(
        f"Open cycle {nxt}",
        key="cycle_open",
        on_click=_open_next,
        disabled=not auth.can("cycle:open", store),
    )

st.subheader("What changed since the last locked plan")


@st.cache_resource(show_spinner=False, max_entries=4)
def _bridge(path: str, version: int, cycle: str):
    return bridge.bridge_for_cycle(state.get_store(), cycle)


try:
    result = _bridge(str(store.path), state.data_version(store), cycle)
except SopError as exc:
    result = None
    st.warning(f"The bridge cannot be computed: {exc}")
else:
    if result is None:
        st.info(
            "No earlier cycle has a locked plan yet. Once a cycle is locked, the next one shows "
            "here how revenue, margin and cash moved, by cause."
        )
    else:
        what = "locked plan" if result.to_locked else "plan as it stands"
        st.caption(
            f"From the locked plan of {result.from_cycle} to the {what} of {result.to_cycle}: "
            "demand, then prices, then costs, then capacity are swapped in turn; the rest "
            "(horizon roll, cash items, opening balances, terms) is timing."
        )
        labels = bridge.METRIC_LABELS
        metric = st.segmented_control(
            "Measure",
            list(labels),
            format_func=labels.get,
            default="revenue",
            key="cycle_bridge_metric",
        )
        metric = metric or "revenue"
        st.altair_chart(
            bridge_chart(
                bridge.waterfall_steps(result.frame, metric), result.currency, labels[metric]
            ),
            width="stretch",
        )
        shown = result.frame.drop(columns=["kind"]).rename(
            columns={"step": "Step", **{m: labels[m] for m in labels}}
        )
        for m in labels.values():
            shown[m] = shown[m].map(lambda v: fmt.money_full(v, result.currency))
        st.dataframe(shown, hide_index=True, key="cycle_bridge_table")

versions = list_versions(store)
currency = state.plan_data(store, cycle).settings.currency
if len(versions):
    st.subheader("Locked plans")
    money = {"revenue": "revenue", "gross_margin": "gross margin", "closing_cash": "closing cash"}
    shown = versions.assign(
        **{m: [fmt.money(v, currency) for v in versions[m]] for m in money}
    ).rename(columns={**money, "locked_by": "locked by"})
    st.caption("Each locked plan's horizon totals as they were locked; closing cash at its end.")
    st.dataframe(
        shown,
        hide_index=True,
        column_config={
            "locked_at": st.column_config.DatetimeColumn("locked at", format="D MMM YYYY HH:mm"),
        },
        key="cycle_versions",
    )
