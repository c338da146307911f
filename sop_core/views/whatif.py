"""What-if: the lever controls of a model, typed values to levers, and a scenario's figures against base.

Pure functions over ``engine.PlanResult``: the Scenarios page and the Executive summary's what-if
panel render what these return; the CLI's ``plan --scenario`` computes the same plans.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from sop_core import fmt
from sop_core.months import month_diff
from sop_core.plan.levers import (
    LEVERS,
    LeverKey,
    Levers,
    LeverSpec,
    Window,
    lever_text,
    month_name,
    normalize_levers,
)

__all__ = [
    "ALL",
    "Figure",
    "FIGURES",
    "LeverControl",
    "lever_controls",
    "check_value",
    "levers_from_inputs",
    "inputs_from_levers",
    "windows_from_levers",
    "unplaced_levers",
    "window_from_inputs",
    "check_window",
    "elasticity_note",
    "figures",
    "compare",
    "compare_records",
    "side_by_side",
    "curves",
    "format_side_by_side",
    "format_value",
    "format_delta",
    "is_unchanged",
    "fmt_number",
    "MAX_COMPARED",
    "BASE",
    "RECORD",
]

ALL = {"family": "All families", "resource": "All resources"}
MAX_COMPARED = 4
BASE = "Base plan"
RECORD = "Plan of record"  # what a what-if starts from and is measured against


# --- the controls ------------------------------------------------------------------------------


@dataclass(frozen=True)
class LeverControl:
    """One input of the lever panel: a lever, everywhere (``qualifier`` None) or for one family/resource.

    ``current`` is what the input shows before anyone touches it: the neutral value for a
    scaling lever's everywhere row, the data's figure for a replacing one (None where the data
    has no single figure), and None (empty: "as the everywhere row") for a family or resource row.
    ``hint`` is the placeholder of an empty input.
    """

    name: str
    qualifier: str | None
    scope: str
    label: str
    unit: str
    current: float | None
    hint: str
    months: tuple[str, ...] = ()  # the horizon: what "from" and "to" may be

    @property
    def key(self) -> tuple[str, str | None]:
        return (self.name, self.qualifier)

    @property
    def spec(self) -> LeverSpec:
        return LEVERS[self.name]


def _num(value: float) -> str:
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.1f}"


def _data_figure(values: np.ndarray, unit: str) -> tuple[float | None, str]:
    """(the single figure the data has, or None; a hint saying what the data has)."""
    values = values[~np.isnan(values)] if values.size else values
    if values.size == 0:
        return None, "as in the data"
    lo, hi = float(values.min()), float(values.max())
    if lo == hi:
        return lo, f"{_num(lo)} (data)"
    return None, f"{_num(lo)}–{_num(hi)} (data)"


def lever_controls(model) -> list[LeverControl]:
    """Every input of the lever panel for a model, in the order of PRODUCT.md's levers.

    A lever with a qualifier gets an everywhere row ("All families" / "All resources") then one
    row per family or resource of the model.
    """
    settings = model.settings
    months = tuple(model.months)
    out: list[LeverControl] = []
    for spec in LEVERS.values():
        if spec.qualifier is None:
            if spec.choices:  # allocation replaces a setting that is a choice
                setting = getattr(settings, spec.name)
                current = float(spec.choices.index(setting)) if setting in spec.choices else 0.0
                hint = f"{spec.choices[int(current)]} (data)"
            elif spec.default is None:  # dso_days, dpo_days replace a setting
                current = float(getattr(settings, spec.name))
                hint = f"{_num(current)} (data)"
            else:
                current, hint = float(spec.default), ""
            out.append(
                LeverControl(spec.name, None, "", spec.label, spec.unit, current, hint, months)
            )
            continue
        everywhere = ALL[spec.qualifier]
        names = model.families if spec.qualifier == "family" else model.resources
        if spec.default is None:  # target_cover_days replaces the products' figures
            current, hint = _data_figure(np.asarray(model.target_cover_days, float), spec.unit)
        else:
            current, hint = float(spec.default), ""
        out.append(
            LeverControl(spec.name, None, everywhere, spec.label, spec.unit, current, hint, months)
        )
        for i, name in enumerate(names):
            if spec.default is None:
                _, data_hint = _data_figure(
                    np.asarray(model.target_cover_days, float)[model.sku_family == i], spec.unit
                )
                hint = f"= everywhere ({data_hint.removesuffix(' (data)')})"
            else:
                hint = "= everywhere"
            out.append(
                LeverControl(
                    spec.name, name, name, f"{spec.label}: {name}", spec.unit, None, hint, months
                )
            )
    return out


# --- typed values to levers ---------------------------------------------------------------------


def check_value(name: str, value: float) -> str | None:
    """Why a typed value cannot be applied to a lever, or None if it can."""
    spec = LEVERS[name]
    if spec.choices:
        if value in range(len(spec.choices)):
            return None
        return f"{value} is not one of {', '.join(spec.choices)}: not applied."
    unit = f" {spec.unit}" if spec.unit else ""
    if not math.isfinite(value):
        return f"{value} is not a number: not applied."
    if value < spec.min:
        why = spec.why_min or f"the lowest is {fmt_number(spec.min)}{unit}"
        return f"{fmt_number(value)}{unit} is impossible ({why}): not applied."
    if value > spec.max:
        return (
            f"{fmt_number(value)}{unit} is above {fmt_number(spec.max)}{unit}, which looks like a "
            "typing error: not applied."
        )
    return None


def fmt_number(value: float) -> str:
    """A lever value as a person writes it: −150, 2.5, 45 (a typographic minus)."""
    text = f"{abs(value):,.2f}".rstrip("0").rstrip(".")
    return ("−" if value < 0 else "") + text


def _choice_value(spec: LeverSpec, value):
    """A choice lever's value as its position (the input may hold the choice's name)."""
    if spec.choices and isinstance(value, str):
        return float(spec.choices.index(value)) if value in spec.choices else math.nan
    return value


def window_from_inputs(start: str | None, end: str | None, months) -> Window | None:
    """The window of a lever's "from" and "to" inputs: None when they span the whole horizon
    (empty = the horizon's first or last month); an open end when "to" is the last month."""
    months = list(months)
    if not months:
        return None
    first, last = months[0], months[-1]
    start, end = start or first, end or last
    if start == first and end == last:
        return None
    return Window(start, None if end == last else end)


def check_window(start: str | None, end: str | None, months) -> str | None:
    """Why a lever's "from"/"to" cannot be applied (outside the horizon, from after to), or None."""
    months = list(months)
    if not months:
        return None
    first, last = months[0], months[-1]
    for label, month in (("from", start), ("to", end)):
        if month is not None and (month_diff(month, first) < 0 or month_diff(month, last) > 0):
            return (
                f"{label} {month_name(month)} is outside the plan horizon "
                f"({month_name(first)} to {month_name(last)}): not applied."
            )
    if start and end and month_diff(end, start) < 0:
        return f"from {month_name(start)} is after to {month_name(end)}: not applied."
    return None


def levers_from_inputs(
    controls: list[LeverControl],
    values: dict[tuple[str, str | None], float | None],
    windows: dict[tuple[str, str | None], tuple[str | None, str | None]] | None = None,
    months=None,
) -> tuple[Levers, dict[tuple[str, str | None], str]]:
    """The levers the typed values (and their "from"/"to" months) ask for, and a message for each
    input that cannot be applied.

    An empty input (None) applies nothing. An everywhere row equal to its ``current`` applies
    nothing (it is the data's own figure). A family or resource row applies its value, unless
    that equals what the everywhere row already gives it over the same months. A bad value or
    window is left out (so the figures stay as if it had not been typed) and reported by its key.
    """
    windows = windows or {}
    if months is None:
        months = controls[0].months if controls else ()
    months = list(months)
    levers: Levers = {}
    errors: dict[tuple[str, str | None], str] = {}
    everywhere: dict[str, tuple[float | None, Window | None]] = {}
    for c in controls:
        neutral = c.current if c.spec.default is None else c.spec.default
        value = _choice_value(c.spec, values.get(c.key))
        if value is None:
            if c.qualifier is None:
                everywhere[c.name] = (neutral, None)
            continue
        value = float(value)
        start, end = windows.get(c.key, (None, None))
        problem = check_value(c.name, value) or check_window(start, end, months)
        if problem:
            errors[c.key] = problem
            if c.qualifier is None:
                everywhere[c.name] = (neutral, None)
            continue
        window = window_from_inputs(start, end, months)
        if c.qualifier is None:
            everywhere[c.name] = (value, window)
            if c.current is None or value != c.current:
                levers[LeverKey(c.name, None, window)] = value
        elif (value, window) != everywhere.get(c.name):
            levers[LeverKey(c.name, c.qualifier, window)] = value
    return levers, errors


def inputs_from_levers(
    controls: list[LeverControl], levers: Levers
) -> dict[tuple[str, str | None], float | None]:
    """What each input shows for a set of levers (e.g. a loaded scenario): the inverse of
    ``levers_from_inputs`` for levers that fit the controls (one value per lever and qualifier)."""
    by_control = _by_control(levers)
    return {c.key: by_control.get(c.key, (c.current, None))[0] for c in controls}


def windows_from_levers(
    controls: list[LeverControl], levers: Levers, months
) -> dict[tuple[str, str | None], tuple[str | None, str | None]]:
    """What each input's "from" and "to" show for a set of levers (None = the horizon's end)."""
    months = list(months)
    last = months[-1] if months else None
    by_control = _by_control(levers)
    out = {}
    for c in controls:
        window = by_control.get(c.key, (None, None))[1]
        if window is None:
            out[c.key] = (None, None)
        else:
            out[c.key] = (window.start, window.end if window.end != last else None)
    return out


def _by_control(levers: Levers) -> dict[tuple[str, str | None], tuple[float, Window | None]]:
    by_control: dict[tuple[str, str | None], tuple[float, Window | None]] = {}
    for key, value in normalize_levers(levers).items():
        by_control.setdefault((key.name, key.qualifier), (value, key.window))
    return by_control


def unplaced_levers(controls: list[LeverControl], levers: Levers) -> list[str]:
    """Levers the inputs cannot show: a second value for one lever and qualifier (the inputs
    hold one value and one window each) or a family or resource the controls lack."""
    keys = {c.key for c in controls}
    seen: set[tuple[str, str | None]] = set()
    out = []
    for key, value in normalize_levers(levers).items():
        pair = (key.name, key.qualifier)
        if pair not in keys or pair in seen:
            out.append(lever_text(key, value))
        seen.add(pair)
    return out


def elasticity_note(levers: Levers, family: str | None = None) -> str:
    """The price elasticity a price change moves volume with, said plainly (0: it moves none).

    For ``family`` its own elasticity, else the everywhere one; the everywhere note names the
    families that have their own.
    """
    levers = normalize_levers(levers)
    mine = [v for k, v in levers.items() if k.name == "price_elasticity" and k.qualifier == family]
    if not mine and family is not None:
        mine = [
            v for k, v in levers.items() if k.name == "price_elasticity" and k.qualifier is None
        ]
    own = sorted(
        {k.qualifier for k in levers if k.name == "price_elasticity" and k.qualifier is not None}
    )
    others = f" ({', '.join(own)}: their own)" if family is None and own else ""
    if not mine or all(v == 0 for v in mine):
        return f"Elasticity 0: price changes do not move volume{others}."
    e = mine[0]
    response = ((1.01**e) - 1.0) * 100.0
    shown = ", ".join(fmt_number(v) for v in dict.fromkeys(mine))
    return (
        f"Elasticity {shown}: volume × (1 + price change) ^ elasticity, so +1 % price moves "
        f"volume {fmt_number(round(response, 2)) if response < 0 else '+' + fmt_number(round(response, 2))} %"
        f"{others}."
    )


# --- the figures ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Figure:
    """A headline figure: key into ``PlanResult.summary``, label, unit kind, and which way is good."""

    key: str
    label: str
    kind: str  # money, pct, units, count
    better: str  # up or down


FIGURES: tuple[Figure, ...] = (
    Figure("revenue", "Revenue", "money", "up"),
    Figure("gross_margin", "Gross margin", "money", "up"),
    Figure("gross_margin_pct", "Gross margin %", "pct", "up"),
    Figure("operating_profit", "Operating profit", "money", "up"),
    Figure("closing_cash_end", "Closing cash", "money", "up"),
    Figure("lowest_cash", "Lowest cash", "money", "up"),
    Figure("inventory_value_end", "Inventory value", "money", "down"),
    Figure("unmet_units", "Unmet demand (units)", "units", "down"),
    Figure("unmet_revenue", "Lost sales", "money", "down"),
    Figure("peak_utilisation", "Peak utilisation", "pct", "down"),
    Figure("disagreements_count", "Disagreements", "count", "down"),
    Figure("money_at_stake", "Money at stake", "money", "down"),
)


def figures(result) -> dict[str, tuple[float | None, str]]:
    """Each headline figure of a plan with its note (the month, or resource and month).

    Percentages are in percent (peak utilisation 1.39 → 139.0).
    """
    s = result.summary
    last = result.model.months[-1] if len(result.model.months) else ""
    peak = s["peak_utilisation"]
    out: dict[str, tuple[float | None, str]] = {}
    for f in FIGURES:
        value = s[f.key]
        note = ""
        if f.key == "closing_cash_end" or f.key == "inventory_value_end":
            note = last
        elif f.key == "lowest_cash":
            note = s["lowest_cash_month"]
        elif f.key == "peak_utilisation":
            value = None if peak is None else peak * 100.0
            note = (
                f"{s['peak_utilisation_resource']}, {s['peak_utilisation_month']}"
                if peak is not None
                else "no capacity limit"
            )
        out[f.key] = (None if value is None else float(value), note)
    return out


def _unit(kind: str, currency: str) -> str:
    return {"money": currency, "pct": "%", "units": "units", "count": "count"}[kind]


def compare(base, scenario) -> pd.DataFrame:
    """The scenario's headline figures against the base plan's.

    Returns:
        One row per figure of ``FIGURES``: key, label, unit (the currency, %, units, count),
        base, scenario, delta (scenario − base; percentage points for %), base_note,
        scenario_note, better (up or down).
    """
    return pd.DataFrame(compare_records(base, scenario))


def compare_records(base, scenario) -> list[dict]:
    """``compare`` as a list of row dicts (what a page renders, without building a frame)."""
    currency = base.model.settings.currency
    b, s = figures(base), figures(scenario)
    rows = []
    for f in FIGURES:
        (bv, bn), (sv, sn) = b[f.key], s[f.key]
        delta = None if bv is None or sv is None else sv - bv
        rows.append(
            {
                "key": f.key,
                "label": f.label,
                "unit": _unit(f.kind, currency),
                "base": bv,
                "scenario": sv,
                "delta": delta,
                "base_note": bn,
                "scenario_note": sn,
                "better": f.better,
            }
        )
    return rows


def side_by_side(plans: dict[str, object]) -> pd.DataFrame:
    """The headline figures of several plans side by side (e.g. the base plan and 2–4 scenarios).

    Args:
        plans: name → PlanResult, in the order of the columns.

    Returns:
        key, label, unit, then one column per plan with its value, and ``<name> note`` columns
        for the figures that have a month or resource.
    """
    if not plans:
        return pd.DataFrame(columns=["key", "label", "unit"])
    currency = next(iter(plans.values())).model.settings.currency
    figs = {name: figures(r) for name, r in plans.items()}
    rows = []
    for f in FIGURES:
        row = {"key": f.key, "label": f.label, "unit": _unit(f.kind, currency)}
        for name in plans:
            row[name] = figs[name][f.key][0]
        for name in plans:
            row[f"{name} note"] = figs[name][f.key][1]
        rows.append(row)
    return pd.DataFrame(rows)


def format_side_by_side(frame: pd.DataFrame, currency: str) -> pd.DataFrame:
    """``side_by_side`` as people read it: a figure column, then each plan's value with its note
    (the month of the lowest cash, the resource at peak), and each scenario's change against the
    first plan (the base) in brackets."""
    plans = [
        c for c in frame.columns if c not in ("key", "label", "unit") and not c.endswith(" note")
    ]
    out = {"figure": frame["label"].tolist()}
    first = plans[0] if plans else None
    for name in plans:
        cells = []
        for row in frame.to_dict("records"):
            text = format_value(row[name], row["unit"], currency)
            note = row.get(f"{name} note")
            if note and row["key"] in ("lowest_cash", "peak_utilisation"):
                text += f" ({note})"
            if name != first:
                change = format_delta(
                    None if row[name] is None or row[first] is None else row[name] - row[first],
                    row["unit"],
                    currency,
                )
                if change and change != "no change":
                    text += f" [{change}]"
            cells.append(text)
        out[name] = cells
    return pd.DataFrame(out)


def curves(plans: dict[str, object]) -> pd.DataFrame:
    """Closing cash and gross margin by month of each plan, long: month, plan, measure, amount.

    The frame ``charts.scenario_curves_chart`` draws; plans keep the order given.
    """
    parts = []
    for name, r in plans.items():
        months = np.asarray(r.model.months, dtype=object)
        for measure, values in (
            ("Closing cash", r.finance.closing_cash),
            ("Gross margin", r.finance.gross_margin),
        ):
            parts.append(
                pd.DataFrame(
                    {
                        "month": months,
                        "plan": name,
                        "measure": measure,
                        "amount": np.asarray(values, dtype=float),
                    }
                )
            )
    if not parts:
        return pd.DataFrame(columns=["month", "plan", "measure", "amount"])
    return pd.concat(parts, ignore_index=True)


# --- formatting for people ----------------------------------------------------------------------


def format_value(value: float | None, unit: str, currency: str) -> str:
    """A figure as shown: money compact (£1.2m), percent one decimal, units and counts whole."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "—"
    if unit == currency:
        return fmt.money(value, currency)
    if unit == "%":
        return fmt.pct(value)
    return fmt.units(value)


def is_unchanged(delta: float | None, unit: str) -> bool:
    """True when a change rounds to nothing as shown (under 0.05 pts, under one unit or penny)."""
    if delta is None or (isinstance(delta, float) and not math.isfinite(delta)):
        return False
    return abs(delta) < (0.05 if unit == "%" else 0.5)


def format_delta(delta: float | None, unit: str, currency: str) -> str | None:
    """A change against base with its sign (+£1.2m, −0.4 pts, +120); 'no change' when it
    rounds to nothing; None if unknown."""
    if delta is None or (isinstance(delta, float) and not math.isfinite(delta)):
        return None
    if is_unchanged(delta, unit):
        return "no change"
    if unit == currency:
        return fmt.signed_money(delta, currency)
    if unit == "%":
        return fmt.pct(delta, signed=True).replace(" %", " pts")
    return ("+" if delta > 0 else "") + fmt.units(delta)
