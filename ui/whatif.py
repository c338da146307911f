"""The what-if panel: lever inputs, the scenario's figures against base, the curves.

Used by the Scenarios page (every lever, per family and resource) and by the Executive
summary (``compact_panel``: the company-wide levers only). Both run in an ``st.fragment``, so a
lever change reruns the panel alone: the model and the base plan are cached (``ui.plan``), a
lever change is one ``engine.compute`` (a few ms on the demo).
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable

import numpy as np
import pandas as pd
import pyarrow as pa
import streamlit as st

from sop_core.plan.levers import LEVERS, Levers, describe_lever, describe_levers, month_name
from sop_core.views import whatif
from sop_core.views.charts import scenario_curves_chart
from ui import plan, state
from ui.text import plain
from ui.widgets import delta as metric_delta
from ui.widgets import views

__all__ = [
    "controls",
    "widget_key",
    "seed",
    "set_inputs",
    "reset",
    "typed_values",
    "typed_windows",
    "current_levers",
    "apply_lever",
    "timing_rows",
    "plain",
    "lever_grid",
    "everywhere_inputs",
    "metric_args",
    "curves_table",
    "figure_metrics",
    "curves_chart",
    "figures",
    "scenario_panel",
    "compact_panel",
    "SCENARIO",
    "SUMMARY",
]

SCENARIO = "scenario"  # widget key prefix of the Scenarios page
SUMMARY = "summary_whatif"  # of the Executive summary's panel

# The lever groups of the Scenarios page: everywhere rows first, then by family, by resource.
FAMILY_LEVERS = [n for n, s in LEVERS.items() if s.qualifier == "family"]
RESOURCE_LEVERS = [n for n, s in LEVERS.items() if s.qualifier == "resource"]
COMPACT_FIGURES = [
    "revenue",
    "gross_margin",
    "operating_profit",
    "closing_cash_end",
    "lowest_cash",
    "money_at_stake",
]
# the Scenarios page's right-hand column: the four that a leader watches first, then the rest
SIDE_FIGURES = [
    "gross_margin",
    "lowest_cash",
    "revenue",
    "closing_cash_end",
    "operating_profit",
    "gross_margin_pct",
    "inventory_value_end",
    "unmet_revenue",
    "unmet_units",
    "peak_utilisation",
    "money_at_stake",
    "disagreements_count",
]
STEP = {"%": 1.0, "days": 1.0, "FTE": 1.0}
LEVER_GROUPS = ("Levers: everywhere", "By family", "By resource")


@st.cache_resource(show_spinner=False, max_entries=8)
def _controls(path: str, version: int, cycle: str | None, _model) -> list[whatif.LeverControl]:
    return whatif.lever_controls(_model)


def controls(store, cycle: str | None, version: int | None = None) -> list[whatif.LeverControl]:
    """The lever inputs of the cycle's model (cached per data version)."""
    version = state.data_version(store) if version is None else version
    model = plan.model(store, cycle, version=version)
    return _controls(str(store.path), version, cycle, model)


def widget_key(prefix: str, control: whatif.LeverControl) -> str:
    """``scenario_price_change_pct`` (everywhere) or ``scenario_price_change_pct_Panel Radiators``."""
    base = f"{prefix}_{control.name}"
    return base if control.qualifier is None else f"{base}_{control.qualifier}"


def _shown(c: whatif.LeverControl, value):
    """What an input holds for a lever value: a choice's name for a choice (allocation)."""
    if c.spec.choices and value is not None and not isinstance(value, str):
        return c.spec.choices[int(value)]
    return value


def seed(prefix: str, ctrls: list[whatif.LeverControl], levers: Levers | None = None) -> None:
    """Give each input its value the first time it is shown in this session: the plan of
    record's lever (``levers``), else the control's current value."""
    shown = whatif.inputs_from_levers(ctrls, levers or {})
    for c in ctrls:
        key = widget_key(prefix, c)
        if key not in st.session_state:
            st.session_state[key] = _shown(c, shown[c.key])


def set_inputs(prefix: str, ctrls: list[whatif.LeverControl], levers: Levers) -> list[str]:
    """Show a set of levers in the inputs, windows included (call from a callback, before the
    inputs are drawn). Returns the levers the inputs cannot show (``whatif.unplaced_levers``)."""
    months = ctrls[0].months if ctrls else ()
    values = whatif.inputs_from_levers(ctrls, levers)
    windows = whatif.windows_from_levers(ctrls, levers, months)
    for c in ctrls:
        key = widget_key(prefix, c)
        st.session_state[key] = _shown(c, values[c.key])
        start, end = windows[c.key]
        st.session_state[f"{key}__from"] = start
        st.session_state[f"{key}__to"] = end
    return whatif.unplaced_levers(ctrls, levers)


def apply_lever(
    prefix: str, ctrls: list[whatif.LeverControl], key: tuple, value: float, window=None
) -> None:
    """Set one lever's input (and its "from"/"to") to a value, e.g. goal seek's answer (call from a
    callback)."""
    c = next(c for c in ctrls if c.key == tuple(key))
    wkey = widget_key(prefix, c)
    st.session_state[wkey] = _shown(c, value)
    months = list(c.months)
    end = (
        None
        if window is None or window.end in (None, months[-1] if months else None)
        else window.end
    )
    st.session_state[f"{wkey}__from"] = None if window is None else window.start
    st.session_state[f"{wkey}__to"] = end
    st.session_state[f"{wkey}__bad"] = False


def reset(prefix: str, ctrls: list[whatif.LeverControl], levers: Levers | None = None) -> None:
    """Every lever back to the plan of record's (``levers``; none: the base plan). A scenario
    loaded on the page is let go (the next save is a new scenario, not a new version of it)."""
    set_inputs(prefix, ctrls, levers or {})
    for key in ("loaded", "save_name", "save_note"):
        st.session_state.pop(f"{prefix}_{key}", None)


def typed_values(prefix: str, ctrls: list[whatif.LeverControl]) -> dict:
    """What the inputs hold now, by lever key (from session state: usable in callbacks)."""
    return {c.key: st.session_state.get(widget_key(prefix, c), _shown(c, c.current)) for c in ctrls}


def typed_windows(prefix: str, ctrls: list[whatif.LeverControl]) -> dict:
    """Each input's "from" and "to" month now (None: the horizon's first or last month)."""
    state_ = st.session_state
    out = {}
    for c in ctrls:
        key = widget_key(prefix, c)
        out[c.key] = (state_.get(f"{key}__from"), state_.get(f"{key}__to"))
    return out


def current_levers(prefix: str, ctrls: list[whatif.LeverControl]):
    """(levers applied, messages of the values or months that cannot be applied) from the inputs."""
    return whatif.levers_from_inputs(
        ctrls, typed_values(prefix, ctrls), typed_windows(prefix, ctrls)
    )


# --- inputs -----------------------------------------------------------------------------------
#
# Each input is a keyed fragment of its own, and its change callback reruns only that input (to
# show or clear its message) and the figures fragment: a lever change sends a few dozen
# elements, not the whole panel.


def figures_fragment(prefix: str) -> str:
    return f"{prefix}_figures"


def timing_fragment(prefix: str) -> str:
    return f"{prefix}_timing"


def _is_set(c: whatif.LeverControl, value) -> bool:
    """Whether an input applies something (and so gets a "from"/"to" row)."""
    if value is None:
        return False
    return c.qualifier is not None or value != _shown(c, c.current)


def _problem(c: whatif.LeverControl, value) -> str | None:
    if value is None or c.spec.choices:
        return None
    return whatif.check_value(c.name, float(value))


def _changed(prefix: str, c: whatif.LeverControl, fragment_key: str) -> None:
    """A lever input changed: rerun the figures, the input itself only if its message must
    appear or go, and the timing rows only if a lever was set or cleared."""
    key = widget_key(prefix, c)
    value = st.session_state.get(key)
    bad = _problem(c, value) is not None
    shown = st.session_state.get(f"{key}__bad", False)
    st.session_state[f"{key}__bad"] = bad
    scope = [figures_fragment(prefix)]
    if bad != shown:
        scope.append(fragment_key)
    now_set = _is_set(c, value)
    timing_shown = st.session_state.get(f"{prefix}__timing_shown", False)
    if timing_shown and now_set != st.session_state.get(f"{key}__set", False):
        scope.append(timing_fragment(prefix))
    st.session_state[f"{key}__set"] = now_set
    st.rerun(scope)


def _input(
    prefix: str, c: whatif.LeverControl, *, collapsed: bool = False, help: str | None = None
):
    """One lever input, in its own fragment; its message below it if the value cannot be applied."""
    key = widget_key(prefix, c)
    fragment_key = f"{key}__input"

    def draw() -> None:
        if c.spec.choices:
            st.selectbox(
                c.label,
                list(c.spec.choices),
                key=key,
                format_func=lambda v: (
                    v.replace("_", " ") + (" (data)" if v == _shown(c, c.current) else "")
                ),
                help=help or c.spec.help,
                label_visibility="collapsed" if collapsed else "visible",
                persist_state="session",  # kept while another lever group is shown
                on_change=_changed,
                args=(prefix, c, fragment_key),
            )
            return
        value = st.number_input(
            plain(c.label),
            value=None,  # the value lives in session state (seeded, loaded, reset)
            step=STEP.get(c.unit, 1.0),
            format="%g",
            key=key,
            placeholder=c.hint or None,
            help=help or c.spec.help,
            label_visibility="collapsed" if collapsed else "visible",
            persist_state="session",
            on_change=_changed,
            args=(prefix, c, fragment_key),
        )
        problem = _problem(c, value)
        st.session_state[f"{key}__bad"] = problem is not None
        st.session_state[f"{key}__set"] = _is_set(c, value)
        if problem:
            st.error(plain(problem), icon=":material/block:")

    st.fragment(draw, key=fragment_key)()


def everywhere_inputs(prefix: str, ctrls: list[whatif.LeverControl], columns: int) -> None:
    """The company-wide row of every lever, ``columns`` to a row (rows aligned on the inputs)."""
    rows = [c for c in ctrls if c.qualifier is None]
    for start in range(0, len(rows), columns):
        cols = st.columns(columns, vertical_alignment="bottom")
        for col, c in zip(cols, rows[start : start + columns], strict=False):
            with col:
                scope = (
                    f" {c.scope}: a family's or resource's own value overrides it."
                    if c.scope
                    else ""
                )
                _input(prefix, c, help=f"{c.spec.help[0].upper()}{c.spec.help[1:]}.{scope}")


def lever_grid(prefix: str, ctrls: list[whatif.LeverControl], names: list[str], kind: str) -> None:
    """A grid: one row per family (or resource), one column per lever; empty = as everywhere."""
    rows = [c for c in ctrls if c.qualifier is not None and c.name in names]
    entities = list(dict.fromkeys(c.qualifier for c in rows))
    if not entities:
        st.caption(f"There are no {kind} in the data.")
        return
    widths = [1.3] + [1] * len(names)
    head = st.columns(widths, vertical_alignment="bottom")
    head[0].markdown(f"**{kind.capitalize()}**")
    for col, name in zip(head[1:], names, strict=True):
        col.markdown(f"**{LEVERS[name].label}**")
    by_key = {c.key: c for c in rows}
    for entity in entities:
        cells = st.columns(widths, vertical_alignment="top")
        cells[0].markdown(plain(entity))
        for col, name in zip(cells[1:], names, strict=True):
            with col:
                _input(prefix, by_key[(name, entity)], collapsed=True)


# --- when each lever applies ---------------------------------------------------------------------


def _timing_changed(prefix: str, c: whatif.LeverControl) -> None:
    st.rerun([timing_fragment(prefix), figures_fragment(prefix)])


def _draw_timing(prefix: str, ctrls: list[whatif.LeverControl], names: list[str] | None) -> None:
    if names is None:
        rows = [c for c in ctrls if c.qualifier is None]
    else:
        rows = [c for c in ctrls if c.qualifier is not None and c.name in names]
    rows = [c for c in rows if _is_set(c, st.session_state.get(widget_key(prefix, c)))]
    if not rows:
        st.caption(
            "**When:** a lever you set applies over the whole horizon unless you give it a "
            "*from* and *to* month here."
        )
        return
    st.caption("**When** each lever set here applies (empty: the horizon's first or last month)")
    months = list(rows[0].months)
    for c in rows:
        key = widget_key(prefix, c)
        value = st.session_state.get(key)
        start = st.session_state.get(f"{key}__from")
        end = st.session_state.get(f"{key}__to")
        if c.spec.choices:
            what = f"{c.spec.label.split(' (')[0]}: {str(value).replace('_', ' ')}"
        else:
            what = describe_lever(c.name, c.qualifier, float(value))
        text, first, last = st.columns([2.2, 1, 1], vertical_alignment="center")
        text.markdown(plain(what))
        first.selectbox(
            "from",
            months,
            index=None,
            key=f"{key}__from",
            persist_state="session",
            format_func=month_name,
            placeholder=f"from {month_name(months[0])}",
            label_visibility="collapsed",
            on_change=_timing_changed,
            args=(prefix, c),
        )
        last.selectbox(
            "to",
            months,
            index=None,
            key=f"{key}__to",
            persist_state="session",
            format_func=month_name,
            placeholder=f"to {month_name(months[-1])}",
            label_visibility="collapsed",
            on_change=_timing_changed,
            args=(prefix, c),
        )
        problem = whatif.check_window(start, end, months)
        if problem:
            st.error(f"{plain(what)}: {problem}", icon=":material/block:")


def timing_rows(prefix: str, ctrls: list[whatif.LeverControl], names: list[str] | None) -> None:
    """A "from"/"to" month beside each lever set in a group (``names`` None: the everywhere
    rows), in a fragment of its own: a lever set or cleared reruns it, nothing else does."""
    st.session_state[f"{prefix}__timing_shown"] = True  # lever changes may rerun it now
    st.fragment(_draw_timing, key=timing_fragment(prefix))(prefix, ctrls, names)


# --- figures ----------------------------------------------------------------------------------


def _where(row) -> str:
    """When or where a figure is: the month of the lowest cash or of the horizon's end, the
    resource at peak utilisation."""
    note = row["scenario_note"] or ""
    if row["key"] == "peak_utilisation":
        return note.split(",")[0]
    return month_name(note) if re.fullmatch(r"\d{4}-\d{2}", note) else note


def metric_args(rows: list[dict], currency: str, keys=None) -> list[dict]:
    """The arguments of ``st.metric`` for each figure (rows of ``whatif.compare_records``).

    A figure the levers leave unchanged shows a grey 0; where it has a month or resource, that
    follows the change.
    """
    if keys is not None:
        by_key = {r["key"]: r for r in rows}
        rows = [by_key[k] for k in keys]
    out = []
    for row in rows:
        unit = row["unit"]
        change = whatif.format_delta(row["delta"], unit, currency)
        unchanged = change is None or change == "no change"
        helptext = f"Plan of record: {whatif.format_value(row['base'], unit, currency)}"
        if row["base_note"]:
            helptext += f" ({row['base_note']})"
        if row["scenario_note"]:
            helptext += f"; scenario: {row['scenario_note']}"
        out.append(
            {
                "label": row["label"],
                "value": whatif.format_value(row["scenario"], unit, currency),
                "delta": 0 if unchanged else metric_delta(change),
                "delta_color": "off"
                if unchanged
                else ("normal" if row["better"] == "up" else "inverse"),
                "delta_arrow": "off" if unchanged else "auto",
                "delta_description": _where(row) or None,
                "help": helptext,
                "border": True,
                "width": "stretch",
            }
        )
    return out


def figure_metrics(args: list[dict], columns: int) -> None:
    """The figures as metrics, ``columns`` to a row."""
    for start in range(0, len(args), columns):
        # one flex row per line of figures: far cheaper to send and draw than st.columns
        row_box = st.container(horizontal=True, gap="small")
        for kwargs in args[start : start + columns]:
            row_box.metric(**kwargs)


PLAN_COLORS = ["#D55E00", "#0072B2", "#009E73", "#CC79A7"]
CURVES_TITLE = "Cash (solid), margin (dashed), minimum (red)"
SIDE_CHART_HEIGHT = 150  # beside the levers: in sight on a 1280 × 720 projector


@st.cache_resource(show_spinner=False, max_entries=16)
def _chart_spec(
    currency: str,
    plans: tuple[str, ...],
    title: str,
    height: int | None = None,
    minimum: float | None = None,
) -> dict:
    """The curves chart's Vega-Lite spec without data: built by the house function once, reused."""
    months = ["2000-01", "2000-02"]
    sample = pd.DataFrame(
        [
            {"month": m, "plan": p, "measure": measure, "amount": 0.0}
            for p in plans
            for measure in ("Closing cash", "Gross margin")
            for m in months
        ]
    )
    grey = {whatif.BASE, whatif.RECORD}
    colors = {p: "#555555" for p in plans if p in grey}
    colors.update(zip([p for p in plans if p not in grey], PLAN_COLORS, strict=False))
    spec = scenario_curves_chart(sample, currency, title, colors, minimum).to_dict()
    spec.pop("datasets", None)
    spec.pop("data", None)
    for layer in spec.get("layer", ()):
        # the lines take the data sent with the chart; the minimum rule keeps its inline values
        if "name" in (layer.get("data") or {}):
            layer.pop("data")
    if height is not None:
        # the plot's own height (axes and legends come on top of it), the page's width
        spec["height"] = height
        spec["autosize"] = {"type": "fit-x", "contains": "padding"}
        lines = spec["layer"][0] if "layer" in spec else spec
        lines["encoding"]["x"]["title"] = None  # months need no "Month"
    return spec


def curves_chart(
    frame: pd.DataFrame,
    currency: str,
    title: str = "",
    key: str | None = None,
    minimum: float | None = None,
):
    """Closing cash and gross margin by month of each plan on one chart.

    The spec comes from ``charts.scenario_curves_chart`` once per currency and set of plans; a
    lever change only sends new data (Altair's to_dict costs tens of ms a call).
    """
    spec = _chart_spec(currency, tuple(dict.fromkeys(frame["plan"])), title, None, minimum)
    st.vega_lite_chart(frame, spec, width="stretch", key=key)


# --- the panels -------------------------------------------------------------------------------


def _applied_line(levers: Levers, errors: dict) -> None:
    if levers:
        text = "**Applied:** " + " · ".join(describe_levers(levers))
        if any(k[0] == "price_change_pct" for k in levers):
            # said plainly beside the price lever: a price change moves no volume at elasticity 0
            text += " — " + whatif.elasticity_note(levers)
        st.caption(text)
    else:
        st.caption("**No lever set:** the figures are the base plan's (the data as imported).")
    if errors:
        st.caption(f":red[{len(errors)} value(s) or month(s) marked in red are not applied.]")


def _figures(store, cycle, prefix, keys, columns, lead=None) -> None:
    """The figures against base: what a lever change reruns.

    With ``lead`` (a number of figures) the first ``lead`` figures come first, then the cash and
    margin curves with the minimum cash, then the rest: the Scenarios page's right-hand column,
    where the chart must stay in sight on a projector. Without, the figures alone.

    Everything is computed before the first element is sent, so the browser gets the new
    figures in one burst and redraws the page once or twice, not once per figure.
    """
    version = _data_version(store, prefix)  # every cache below is keyed by it
    ctrls = controls(store, cycle, version)
    levers, errors = current_levers(prefix, ctrls)
    # every what-if starts from, and is measured against, the cycle's plan of record
    base = plan.record(store, cycle, version=version).result
    scenario = plan.result(store, levers, cycle, version=version)
    currency = base.model.settings.currency
    args = metric_args(whatif.compare_records(base, scenario), currency, keys)
    if lead is None:
        figure_metrics(args, columns)
        _applied_line(levers, errors)
        return
    minimum = base.model.settings.minimum_cash
    spec = _chart_spec(
        currency, (whatif.RECORD, "Scenario"), CURVES_TITLE, SIDE_CHART_HEIGHT, minimum
    )
    data = curves_table(base, scenario)
    figure_metrics(args[:lead], columns)
    _applied_line(levers, errors)
    st.vega_lite_chart(data, spec, width="stretch", key=f"{prefix}_curves")
    figure_metrics(args[lead:], columns)


VERSION_TTL_S = 2.0


def _data_version(store, prefix: str) -> int:
    """The data version, read from the store at most every ``VERSION_TTL_S`` during lever
    changes (a query is a few ms under load); every full run of a page reads it afresh
    (``_fresh_version``), so an import or edit shows at the next page run."""
    key = f"{prefix}__version"
    now = time.monotonic()
    cached = st.session_state.get(key)
    if cached is not None and now - cached[1] < VERSION_TTL_S:
        return cached[0]
    version = state.data_version(store)
    st.session_state[key] = (version, now)
    return version


def _fresh_version(prefix: str) -> None:
    st.session_state.pop(f"{prefix}__version", None)


def curves_table(base, scenario) -> pa.Table:
    """``whatif.curves`` of base and scenario as an Arrow table, built from the arrays directly
    (what the chart is sent as; a pandas frame costs a few ms more to build and convert)."""
    months = list(base.model.months)
    n = len(months)
    plans, measures, amounts = [], [], []
    for name, r in ((whatif.RECORD, base), ("Scenario", scenario)):
        for measure, values in (
            ("Closing cash", r.finance.closing_cash),
            ("Gross margin", r.finance.gross_margin),
        ):
            plans += [name] * n
            measures += [measure] * n
            amounts.append(np.asarray(values, dtype=float))
    return pa.table(
        {
            "month": months * 4,
            "plan": plans,
            "measure": measures,
            "amount": np.concatenate(amounts),
        }
    )


def figures(store, cycle, prefix: str, *, keys=None, columns: int = 6, lead=None) -> None:
    """The figures fragment (keyed ``<prefix>_figures``: the lever inputs rerun it); ``lead``
    as in ``_figures``."""
    st.fragment(_figures, key=figures_fragment(prefix))(store, cycle, prefix, keys, columns, lead)


def scenario_panel(store, cycle: str | None, actions: Callable[[], None] | None = None) -> None:
    """The Scenarios page's what-if: figures against base, every lever, the curves.

    A lever change reruns only its input and the figures (see ``_input``). ``actions`` draws
    more buttons beside the levers' reset (the page's "Save as scenario…").
    """
    _fresh_version(SCENARIO)
    ctrls = controls(store, cycle)
    record_levers = plan.record(store, cycle).levers
    seed(SCENARIO, ctrls, record_levers)
    # Only the chosen group's inputs are drawn (their values persist in the session): the fewer
    # elements on the page, the faster the browser redraws the figures after a change.
    tab = f"{SCENARIO}_lever_tab"
    group = st.session_state.get(tab, LEVER_GROUPS[0])
    if group == LEVER_GROUPS[1]:
        # five levers a family need the page's width; the figures and curves follow beside the
        # timing rows
        views("Levers", LEVER_GROUPS, key=tab)
        st.caption(
            "An empty cell follows the *everywhere* value (stock cover: the data's, in brackets)."
        )
        lever_grid(SCENARIO, ctrls, FAMILY_LEVERS, "families")
    # levers on the left, the figures and the curves beside them: both in sight at 1280 × 720
    left, right = st.columns([1, 1.1], gap="medium")
    with right:
        figures(store, cycle, SCENARIO, columns=2, lead=2, keys=SIDE_FIGURES)
    with left:
        if group != LEVER_GROUPS[1]:
            # in the column, so that the figures and the curves start at the top of the view
            group = views("Levers", LEVER_GROUPS, key=tab)
        if group == LEVER_GROUPS[1]:
            timing_rows(SCENARIO, ctrls, FAMILY_LEVERS)
        elif group == LEVER_GROUPS[2]:
            st.caption("An empty cell follows the *everywhere* value.")
            lever_grid(SCENARIO, ctrls, RESOURCE_LEVERS, "resources")
            timing_rows(SCENARIO, ctrls, RESOURCE_LEVERS)
        else:
            everywhere_inputs(SCENARIO, ctrls, 2)
            timing_rows(SCENARIO, ctrls, None)
        with st.container(horizontal=True, gap="small"):
            st.button(
                "Reset levers",
                key=f"{SCENARIO}_reset",
                icon=":material/restart_alt:",
                on_click=reset,
                args=(SCENARIO, ctrls, record_levers),
                help="Every lever back to the plan of record's (the promoted scenario's, or none).",
            )
            if actions is not None:
                actions()


def _open_in_scenarios(ctrls) -> None:
    levers, _ = current_levers(SUMMARY, ctrls)
    set_inputs(SCENARIO, ctrls, levers)
    st.session_state[f"{SCENARIO}_view"] = "What if"


def compact_panel(store, cycle: str | None = None) -> None:
    """The Executive summary's what-if: the company-wide levers and six figures against base.

    In an expander drawn only when open, so the summary stays as light as it was.
    """
    cycle = cycle or state.selected_cycle(store)
    box = st.expander(
        "What if…? Change an assumption and see cash and margin move",
        icon=":material/tune:",
        key=f"{SUMMARY}_open_panel",
        on_change="rerun",
    )
    if not box.open:
        return
    with box:
        _fresh_version(SUMMARY)
        ctrls = controls(store, cycle)
        record_levers = plan.record(store, cycle).levers
        seed(SUMMARY, ctrls, record_levers)
        figures(store, cycle, SUMMARY, keys=COMPACT_FIGURES, columns=3)
        everywhere_inputs(SUMMARY, ctrls, 5)
        b1, b2, _ = st.columns([1, 1.4, 3])
        b1.button(
            "Reset",
            key=f"{SUMMARY}_reset",
            icon=":material/restart_alt:",
            on_click=reset,
            args=(SUMMARY, ctrls, record_levers),
            width="stretch",
        )
        if b2.button(
            "Open on the Scenarios page",
            key=f"{SUMMARY}_open",
            icon=":material/tune:",
            on_click=_open_in_scenarios,
            args=(ctrls,),
            width="stretch",
            help="Per family and resource levers, the curves, saving and comparing scenarios.",
        ):
            st.switch_page("pages/scenarios.py")
