"""The Scenarios page's decision views: goal seek, sensitivity (the tornado), capacity allocation.

Each starts from the levers set under *What if* (held as they are) and draws what ``sop_core``
computes: ``plan.goalseek``, ``plan.sensitivity`` (the engine of the CLI's ``goalseek`` and
``sensitivity``) and ``views.allocation``.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from sop_core import fmt
from sop_core.errors import SopError
from sop_core.plan.goalseek import goal_seek, make_target
from sop_core.plan.levers import LeverKey, describe_levers, key_text, month_name
from sop_core.views import charts, decisions, whatif
from sop_core.views.allocation import allocation_levers, compare_allocation
from ui import plan, state
from ui import whatif as panel

__all__ = ["goal_seek_panel", "sensitivity_panel", "allocation_panel"]

P = panel.SCENARIO
WHAT_IF = "What if"  # the page's view the "Apply" button shows
SENSITIVITY_MEASURES = {
    "lowest_cash": "Lowest cash",
    "closing_cash": "Closing cash",
    "gross_margin": "Gross margin",
}


def _held(store, cycle):
    """(model, controls, the what-if's levers, messages of what it cannot apply)."""
    version = state.data_version(store)
    model = plan.model(store, cycle, version=version)
    ctrls = panel.controls(store, cycle, version)
    panel.seed(P, ctrls)
    levers, errors = panel.current_levers(P, ctrls)
    return model, ctrls, levers, errors


def _held_line(levers, errors) -> None:
    held = " · ".join(describe_levers(levers)) if levers else "none: the base plan"
    st.caption(f"Levers held (as set under *{WHAT_IF}*): " + panel.plain(held))
    if errors:
        st.caption(f":red[{len(errors)} value(s) under *{WHAT_IF}* are not applied.]")


# --- goal seek ------------------------------------------------------------------------------------


def _apply(ctrls, key: tuple, value: float, window) -> None:
    panel.apply_lever(P, ctrls, key, value, window)
    st.session_state[f"{P}_view"] = WHAT_IF


def goal_seek_panel(store, cycle: str | None) -> None:
    """Pick a target and one lever (with its months): the value nearest to no change that meets
    the target, or why none within the lever's bounds does; "Apply" sets it under What if."""
    model, ctrls, levers, errors = _held(store, cycle)
    currency = model.settings.currency
    months = list(model.months)
    st.caption(
        "Ask the plan for the answer: the value of one lever, nearest to no change, that meets a "
        "target. The other levers stay as set."
    )
    _held_line(levers, errors)
    measures = list(decisions.MEASURES)
    c1, c2, c3, c4 = st.columns([1.4, 0.8, 1.2, 1.2], vertical_alignment="bottom")
    measure = c1.selectbox(
        "Target",
        measures,
        key=f"{P}_goal_measure",
        format_func=decisions.MEASURE_LABELS.get,
    )
    op = c2.selectbox(
        "must be",
        [">=", "<="],
        index=1 if measure == "unmet_units" else 0,
        key=f"{P}_goal_op_{measure}",  # per measure: unmet units default to "at most"
        format_func={">=": "at least", "<=": "at most"}.get,
    )
    choices = decisions.target_choices(model, measure)
    labels = dict(choices)
    named = c3.selectbox(
        "Value",
        [c[0] for c in choices],
        key=f"{P}_goal_named_{measure}",
        format_func=labels.get,
    )
    number = None
    if named is None:
        number = c4.number_input(
            "Number",
            value=None,
            key=f"{P}_goal_value_{measure}",
            placeholder="e.g. 750000" if measure != "gross_margin_pct" else "e.g. 40",
            format="%g",
        )
    options = decisions.seekable_levers(model)
    names = dict(options)
    l1, l2, l3 = st.columns([2, 1, 1], vertical_alignment="bottom")
    lever = l1.selectbox(
        "Lever to move",
        [o[0] for o in options],
        key=f"{P}_goal_lever",
        format_func=lambda k: names[tuple(k)],
    )
    start = l2.selectbox(
        "from",
        months,
        index=None,
        key=f"{P}_goal_from",
        format_func=month_name,
        placeholder=f"{month_name(months[0])} (start)",
    )
    end = l3.selectbox(
        "to",
        months,
        index=None,
        key=f"{P}_goal_to",
        format_func=month_name,
        placeholder=f"{month_name(months[-1])} (end)",
    )
    window_problem = whatif.check_window(start, end, months)
    if window_problem:
        st.error(window_problem, icon=":material/block:")
    missing = named is None and number is None
    asked = (measure, op, named, number, tuple(lever), start, end, plan.levers_key(levers))
    if st.button(
        "Find the value",
        key=f"{P}_goal_find",
        type="primary",
        icon=":material/target:",
        disabled=bool(window_problem) or missing,
        help="Type a number for the target first." if missing else None,
    ):
        window = whatif.window_from_inputs(start, end, months)
        key = LeverKey(lever[0], lever[1], window)
        try:
            target = make_target(model, measure, op, named if named is not None else number)
            answer = goal_seek(model, target, key, levers)
        except SopError as exc:
            st.session_state[f"{P}_goal_answer"] = (asked, None, str(exc))
        else:
            st.session_state[f"{P}_goal_answer"] = (asked, answer, None)
    stored = st.session_state.get(f"{P}_goal_answer")
    if not stored or stored[0] != asked:
        return
    _, answer, problem = stored
    if problem:
        st.error(problem, icon=":material/block:")
        return
    st.success(panel.plain(decisions.goal_seek_sentence(answer, currency)))
    if answer.already_met:
        return
    # st.code, not Markdown: the lever may name a family or resource as imported
    value_box, apply_box = st.columns([3, 1], vertical_alignment="center")
    value_box.code(answer.line, language=None, wrap_lines=True)
    apply_box.button(
        f"Apply under {WHAT_IF}",
        key=f"{P}_goal_apply",
        icon=":material/check:",
        on_click=_apply,
        args=(ctrls, (answer.key.name, answer.key.qualifier), answer.value, answer.key.window),
        help="Set this value (and its months) on the lever's input and show the figures.",
        width="stretch",
    )
    st.caption("The same answer from the command line:")
    st.code(
        f'python -m sop_core goalseek --db PATH --lever "{key_text(answer.key)}" '
        f'--target "{answer.target.text}"',
        language="bash",
        wrap_lines=True,
    )


# --- sensitivity -----------------------------------------------------------------------------------


def sensitivity_panel(store, cycle: str | None) -> None:
    """Every lever one step down and up: the tornado of one measure, biggest swing on top."""
    model, _ctrls, levers, errors = _held(store, cycle)
    currency = model.settings.currency
    st.caption(
        "Which assumption matters most? Each lever one step down and one step up (price ±1 %, "
        "elasticity ±0.5, volume, material and fixed costs ±5 %, capacity ±10 %, headcount ±1 "
        "FTE, payment terms and stock cover ±5 days) from where it is set."
    )
    _held_line(levers, errors)
    try:
        frame = plan.sensitivity(store, levers, cycle)
    except SopError as exc:
        st.error(str(exc))
        return
    measure = st.segmented_control(
        "Measure",
        list(SENSITIVITY_MEASURES),
        key=f"{P}_sens_measure",
        format_func=SENSITIVITY_MEASURES.get,
        default="lowest_cash",
        required=True,
        label_visibility="collapsed",
    )
    labelled = decisions.sensitivity_labels(frame)
    rows = labelled[labelled["measure"] == measure]
    base = float(rows["base"].iloc[0]) if len(rows) else 0.0
    title = f"{SENSITIVITY_MEASURES[measure]}: {fmt.money(base, currency)} as set"
    st.altair_chart(
        charts.tornado_chart(labelled, measure, currency, title),
        width="stretch",
        key=f"{P}_sens_chart",
    )
    table = pd.DataFrame(
        {
            "lever (down / up)": rows["label"],
            "one step down": [fmt.money(v, currency) for v in rows["at_low"]],
            "change down": [fmt.signed_money(v - base, currency) for v in rows["at_low"]],
            "one step up": [fmt.money(v, currency) for v in rows["at_high"]],
            "change up": [fmt.signed_money(v - base, currency) for v in rows["at_high"]],
        }
    )
    st.dataframe(table, hide_index=True, key=f"{P}_sens_table")
    st.caption(
        "Each figure is the plan with that one lever changed (`python -m sop_core sensitivity "
        "--db PATH --out sensitivity.csv` writes the whole table)."
    )


# --- capacity allocation ---------------------------------------------------------------------------


def allocation_panel(store, cycle: str | None) -> None:
    """Margin allocation against pro rata: what it gains or loses, who it favours, and what one
    more hour of each short resource is worth."""
    model, _ctrls, levers, errors = _held(store, cycle)
    currency = model.settings.currency
    st.caption(
        "When capacity is short, *pro rata* cuts every product in proportion; *by margin* makes, "
        "month by month, what earns the most contribution per hour (a linear programme per "
        f"month). Choose it for the plan under *{WHAT_IF}* (Capacity allocation) or in the "
        "settings (allocation)."
    )
    _held_line(levers, errors)
    pro_levers, margin_levers = allocation_levers(levers)
    try:
        pro = plan.result(store, pro_levers, cycle)
        margin = plan.result(store, margin_levers, cycle)
    except SopError as exc:
        st.error(str(exc))
        return
    c = compare_allocation(pro, margin)
    (st.success if c.gain >= 0 else st.warning)(panel.plain(c.sentence(currency)))
    hour = c.hour_sentence(currency)
    if hour:
        st.info(panel.plain(hour), icon=":material/schedule:")
    with st.container(horizontal=True, gap="small"):
        st.metric(
            "Gross margin, pro rata", fmt.money(c.pro_rata_gross_margin, currency), border=True
        )
        st.metric(
            "Gross margin, by margin",
            fmt.money(c.margin_gross_margin, currency),
            delta=fmt.signed_money(c.gain, currency),
            border=True,
        )
        st.metric(
            "Unmet units, pro rata → by margin",
            f"{fmt.units(c.pro_rata_unmet_units)} → {fmt.units(c.margin_unmet_units)}",
            border=True,
        )
    if len(c.shadow):
        st.markdown("**What one more hour is worth** (by margin, dearest first)")
        shadow = c.shadow.head(15)
        st.dataframe(
            pd.DataFrame(
                {
                    "month": [month_name(m) for m in shadow["month"]],
                    "resource": shadow["resource"],
                    "one more hour": [fmt.money(v, currency) for v in shadow["shadow_price"]],
                    "hours used": [fmt.units(v) for v in shadow["production_hours"]],
                    "capacity": [fmt.units(v) for v in shadow["capacity_hours"]],
                }
            ),
            hide_index=True,
            key=f"{P}_alloc_shadow",
        )
    fam = c.families
    st.markdown("**By family** over the horizon")
    st.dataframe(
        pd.DataFrame(
            {
                "family": fam["family"],
                "made, pro rata": [fmt.units(v) for v in fam["pro_rata_units"]],
                "made, by margin": [fmt.units(v) for v in fam["margin_units"]],
                "gross margin, pro rata": [
                    fmt.money(v, currency) for v in fam["pro_rata_gross_margin"]
                ],
                "gross margin, by margin": [
                    fmt.money(v, currency) for v in fam["margin_gross_margin"]
                ],
                "change": [fmt.signed_money(v, currency) for v in fam["gross_margin_change"]],
            }
        ),
        hide_index=True,
        key=f"{P}_alloc_families",
    )
