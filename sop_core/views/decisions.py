"""Decision support for the Scenarios page: goal-seek choices and answers, sensitivity labels.

Pure functions: the page reads widgets, calls these and ``plan.goalseek`` / ``plan.sensitivity``
(the engine the CLI's ``goalseek`` and ``sensitivity`` use), and renders what they return.
"""

from __future__ import annotations

import math

import pandas as pd

from sop_core import fmt
from sop_core.plan.goalseek import MEASURE_LABELS, MEASURES, GoalSeekResult
from sop_core.plan.levers import (
    LEVERS,
    describe_lever,
    describe_window,
    parse_lever_key,
)
from sop_core.plan.model import Model

__all__ = [
    "seekable_levers",
    "target_choices",
    "format_measure",
    "goal_seek_sentence",
    "sensitivity_labels",
    "MEASURE_LABELS",
    "MEASURES",
]


def seekable_levers(model: Model) -> list[tuple[tuple[str, str | None], str]]:
    """The levers goal seek can move, everywhere and per family or resource: ((name, qualifier),
    label). A choice (allocation) is not a number to seek."""
    out = []
    for spec in LEVERS.values():
        if spec.choices:
            continue
        noun = spec.label
        out.append(((spec.name, None), noun))
        if spec.qualifier:
            names = model.families if spec.qualifier == "family" else model.resources
            out += [((spec.name, name), f"{noun}: {name}") for name in names]
    return out


def target_choices(model: Model, measure: str) -> list[tuple[str | None, str]]:
    """What a target value may be for a measure: (named value or None for a number, label).

    Cash measures offer the minimum cash setting; revenue and gross margin (and its %) the
    budget where the data has one; every measure a number.
    """
    currency = model.settings.currency
    out: list[tuple[str | None, str]] = []
    if measure in ("lowest_cash", "closing_cash"):
        out.append(
            (
                "minimum_cash",
                f"minimum cash ({fmt.money_full(model.settings.minimum_cash, currency)})",
            )
        )
    if measure in ("revenue", "gross_margin", "gross_margin_pct"):
        has = ~pd.isna(
            model.budget_revenue if measure == "revenue" else model.budget_gross_margin
        ).all()
        if has:
            out.append(("budget", "budget"))
    out.append((None, "a number"))
    return out


def format_measure(measure: str, value: float, currency: str) -> str:
    """A measure's figure as a goal-seek answer shows it: money in full (a target is a threshold:
    £750k would hide whether £749,600 meets it), % one decimal, units whole."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    if measure == "gross_margin_pct":
        return fmt.pct(value)
    if measure == "unmet_units":
        return fmt.units(value)
    return fmt.money_full(value, currency)


def goal_seek_sentence(result: GoalSeekResult, currency: str) -> str:
    """The answer as a sentence: 'Price +2.31 % on Panel Radiators from Mar 2027 meets lowest
    cash ≥ the minimum cash £750,000: £752,314 (now £690,120).'"""
    key, target = result.key, result.target
    op = "≥" if target.op == ">=" else "≤"
    goal = format_measure(target.measure, target.value, currency)
    if target.named == "minimum_cash":
        goal = f"the minimum cash {goal}"
    elif target.named == "budget":
        goal = f"the budget {goal}"
    what = MEASURE_LABELS[target.measure]
    if result.already_met:
        return (
            f"{what} is {format_measure(target.measure, result.before, currency)} already, "
            f"{op} {goal}: no change is needed."
        )
    lever = describe_lever(key.name, key.qualifier, result.value, key.window)
    return (
        f"{lever} meets {what.lower()} {op} {goal}: "
        f"{format_measure(target.measure, result.achieved, currency)} "
        f"(now {format_measure(target.measure, result.before, currency)})."
    )


def _steps(name: str, low: float, high: float) -> str:
    spec = LEVERS[name]
    unit = f" {spec.unit}" if spec.unit else ""

    def show(v: float) -> str:
        text = f"{abs(v):,.2f}".rstrip("0").rstrip(".")
        sign = "−" if v < 0 else ("+" if spec.kind != "replace" and v > 0 else "")
        return sign + text

    return f"{show(low)} / {show(high)}{unit}"


def sensitivity_labels(frame: pd.DataFrame) -> pd.DataFrame:
    """The sensitivity table with a ``label`` a person reads: 'DSO (days) 47 / 57 days',
    'Target stock cover on Towel Rails 9 / 19 days'."""
    labels = []
    for lever, low, high in zip(frame["lever"], frame["low"], frame["high"], strict=True):
        key = parse_lever_key(lever)
        spec = LEVERS[key.name]
        noun = spec.label.split(" (")[0]
        where = f" on {key.qualifier}" if key.qualifier else ""
        labels.append(f"{noun}{where}{describe_window(key.window)} {_steps(key.name, low, high)}")
    return frame.assign(label=labels)
