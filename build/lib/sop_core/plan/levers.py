"""Scenario levers: the spec table, parsing ``key[:qualifier]=value`` and validation."""

from __future__ import annotations

import difflib
import json
import math
from dataclasses import dataclass

import numpy as np

from sop_core.errors import LeverError

__all__ = [
    "LeverSpec",
    "LEVERS",
    "Levers",
    "parse_lever",
    "parse_levers",
    "validate_levers",
    "levers_to_strings",
    "levers_to_json",
    "levers_from_json",
    "lever_vector",
    "describe_lever",
    "describe_levers",
]

# (lever name, qualifier or None) -> value
Levers = dict[tuple[str, str | None], float]


# Beyond these a figure is a typing or unit error, not a scenario.
MAX_CHANGE_PCT = 1000.0
MAX_FTE_CHANGE = 10_000.0


@dataclass(frozen=True)
class LeverSpec:
    """One lever: what it does, its qualifier kind ('family', 'resource' or None) and its bounds.

    ``kind`` says how it applies: 'scale_pct' multiplies by (1 + value/100), 'add' adds,
    'replace' replaces the data's figure. ``default`` is the value that changes nothing
    (None for 'replace' levers: the data's own figure stays).
    """

    name: str
    label: str
    unit: str
    qualifier: str | None
    min: float
    max: float
    default: float | None
    kind: str
    help: str
    why_min: str = ""


LEVERS: dict[str, LeverSpec] = {
    s.name: s
    for s in [
        LeverSpec(
            "price_change_pct",
            "Price change (%)",
            "%",
            "family",
            -100.0,
            MAX_CHANGE_PCT,
            0.0,
            "scale_pct",
            "scales unit_price",
            "a price cannot fall by more than 100 %",
        ),
        LeverSpec(
            "volume_change_pct",
            "Volume change (%)",
            "%",
            "family",
            -100.0,
            MAX_CHANGE_PCT,
            0.0,
            "scale_pct",
            "scales the demand plan D",
            "demand cannot fall by more than 100 %",
        ),
        LeverSpec(
            "material_cost_change_pct",
            "Material cost change (%)",
            "%",
            "family",
            -100.0,
            MAX_CHANGE_PCT,
            0.0,
            "scale_pct",
            "scales unit_material_cost",
            "a cost cannot fall by more than 100 %",
        ),
        LeverSpec(
            "target_cover_days",
            "Target stock cover (days)",
            "days",
            "family",
            0.0,
            3650.0,
            None,
            "replace",
            "replaces the products' target_cover_days",
            "days cannot be negative",
        ),
        LeverSpec(
            "capacity_change_pct",
            "Capacity change (%)",
            "%",
            "resource",
            -100.0,
            MAX_CHANGE_PCT,
            0.0,
            "scale_pct",
            "scales available_hours",
            "capacity cannot fall by more than 100 %",
        ),
        LeverSpec(
            "headcount_change_fte",
            "Headcount change (FTE)",
            "FTE",
            "resource",
            -MAX_FTE_CHANGE,
            MAX_FTE_CHANGE,
            0.0,
            "add",
            "adds FTE to each planned_fte row (never below 0)",
        ),
        LeverSpec(
            "dso_days",
            "Customer payment terms, DSO (days)",
            "days",
            None,
            0.0,
            365.0,
            None,
            "replace",
            "replaces the dso_days setting",
            "days cannot be negative",
        ),
        LeverSpec(
            "dpo_days",
            "Supplier payment terms, DPO (days)",
            "days",
            None,
            0.0,
            365.0,
            None,
            "replace",
            "replaces the dpo_days setting",
            "days cannot be negative",
        ),
        LeverSpec(
            "fixed_costs_change_pct",
            "Fixed costs change (%)",
            "%",
            None,
            -100.0,
            MAX_CHANGE_PCT,
            0.0,
            "scale_pct",
            "scales fixed_costs_per_month",
            "fixed costs cannot fall by more than 100 %",
        ),
    ]
}


def _fmt(value: float) -> str:
    return str(int(value)) if float(value).is_integer() and abs(value) < 1e15 else repr(value)


def parse_lever(item: str) -> tuple[tuple[str, str | None], float]:
    """Parse one ``key[:qualifier]=value`` into ``((key, qualifier), value)``.

    Checks the name, whether a qualifier is allowed, the number and its bounds; whether the
    qualifier names a known family or resource is checked by ``validate_levers``.

    Raises:
        LeverError: with what is wrong and what was expected.
    """
    text = str(item).strip()
    if "=" not in text:
        raise LeverError(
            f'Lever "{text}" is not KEY[:QUALIFIER]=VALUE (e.g. price_change_pct:Widgets=-3).'
        )
    left, raw = (part.strip() for part in text.split("=", 1))
    name, _, qualifier = (part.strip() for part in left.partition(":"))
    qualifier = qualifier or None
    spec = LEVERS.get(name)
    if spec is None:
        close = difflib.get_close_matches(name, LEVERS, n=1, cutoff=0.5)
        hint = f' Did you mean "{close[0]}"?' if close else ""
        raise LeverError(
            f'Unknown lever "{name}" in "{text}".{hint} Known levers: {", ".join(LEVERS)}.'
        )
    if qualifier is not None and spec.qualifier is None:
        raise LeverError(
            f'Lever "{name}" takes no qualifier (got ":{qualifier}" in "{text}"); use {name}=VALUE.'
        )
    if left.endswith(":"):
        raise LeverError(f'Lever "{text}": the {spec.qualifier} after ":" is empty.')
    number_text = raw.replace("_", "")
    if spec.unit == "%" and number_text.endswith("%"):
        number_text = number_text[:-1].strip()
    try:
        value = float(number_text)
    except ValueError:
        raise LeverError(
            f'Lever "{left}": "{raw}" is not a number (expected {spec.unit}, e.g. {name}=5).'
        ) from None
    if not math.isfinite(value):
        raise LeverError(f'Lever "{left}": "{raw}" is not a finite number.')
    if value < spec.min:
        why = f" ({spec.why_min})" if spec.why_min else ""
        raise LeverError(f'Lever "{left}": {_fmt(value)} is below {_fmt(spec.min)}{why}.')
    if value > spec.max:
        raise LeverError(
            f'Lever "{left}": {_fmt(value)} is above {_fmt(spec.max)} {spec.unit}, '
            "which looks like a typing error."
        )
    return (name, qualifier), value


def parse_levers(items) -> Levers:
    """Parse ``key[:qualifier]=value`` strings; a later item for the same key and qualifier wins.

    So a scenario's saved levers followed by ``--set`` items: the ``--set`` ones override.

    Raises:
        LeverError: the first bad item, with the reason.
    """
    levers: Levers = {}
    for item in items or ():
        key, value = parse_lever(item)
        levers.pop(key, None)  # re-insert so the order shows the latest
        levers[key] = value
    return levers


_PLURAL = {"family": "families", "resource": "resources"}


def _known(kind: str, names) -> str:
    names, plural = list(names), _PLURAL[kind]
    shown = ", ".join(names[:20]) + (f" and {len(names) - 20} more" if len(names) > 20 else "")
    return f"known {plural}: {shown}" if names else f"there are no {plural} in the data"


def validate_levers(levers: Levers, families, resources) -> Levers:
    """Check each qualifier names a known family or resource (per the lever's qualifier kind).

    Returns the same levers (for chaining).

    Raises:
        LeverError: unknown lever, a qualifier on a lever that takes none, an unknown family or
            resource (the known ones are listed), or a value out of bounds.
    """
    known = {"family": list(families), "resource": list(resources)}
    for (name, qualifier), value in levers.items():
        spec = LEVERS.get(name)
        if spec is None:  # a hand-built dict, not from parse_levers
            parse_lever(f"{name}={value}")
        item = f"{name}:{qualifier}={_fmt(value)}" if qualifier else f"{name}={_fmt(value)}"
        parse_lever(item)  # bounds and qualifier rules
        if qualifier is None:
            continue
        names = known[spec.qualifier]
        if qualifier not in names:
            folded = [n for n in names if str(n).lower() == qualifier.lower()]
            hint = f' Did you mean "{folded[0]}"?' if folded else ""
            raise LeverError(
                f'Lever "{name}:{qualifier}": unknown {spec.qualifier} "{qualifier}".{hint} '
                f"({_known(spec.qualifier, names)})."
            )
    return levers


def levers_to_strings(levers: Levers) -> list[str]:
    """The levers as ``key[:qualifier]=value`` strings, in a stable order (spec order, qualifier)."""
    order = {name: i for i, name in enumerate(LEVERS)}
    keys = sorted(levers, key=lambda k: (order.get(k[0], len(order)), k[0], k[1] or ""))
    return [
        f"{name}:{q}={_fmt(levers[(name, q)])}" if q else f"{name}={_fmt(levers[(name, q)])}"
        for name, q in keys
    ]


def levers_to_json(levers: Levers) -> str:
    """The JSON list of strings stored in ``scenarios.levers``."""
    return json.dumps(levers_to_strings(levers))


def levers_from_json(text: str | None) -> Levers:
    """Parse a stored ``scenarios.levers`` JSON list of strings.

    Raises:
        LeverError: not a JSON list of strings, or a bad lever in it.
    """
    if text is None or str(text).strip() == "":
        return {}
    try:
        items = json.loads(text)
    except (TypeError, ValueError):
        raise LeverError(f"Stored levers {str(text)[:80]!r} are not a JSON list.") from None
    if not isinstance(items, list) or not all(isinstance(i, str) for i in items):
        raise LeverError(f"Stored levers {str(text)[:80]!r} are not a JSON list of strings.")
    return parse_levers(items)


def lever_vector(levers: Levers | None, name: str, keys, neutral: float = 0.0) -> np.ndarray:
    """One lever's value for each of ``keys`` (families or resources).

    The unqualified value applies everywhere; a qualified value overrides it for its key.
    Keys with neither get ``neutral``.
    """
    keys = list(keys)
    out = np.full(len(keys), float(neutral))
    if not levers:
        return out
    everywhere = levers.get((name, None))
    if everywhere is not None:
        out[:] = everywhere
    if len(keys):
        position = {k: i for i, k in enumerate(keys)}
        for (lever, qualifier), value in levers.items():
            if lever == name and qualifier is not None and qualifier in position:
                out[position[qualifier]] = value
    return out


# How a lever reads in a sentence: the thing it changes, and the word before its qualifier.
_NOUNS = {
    "price_change_pct": "Price",
    "volume_change_pct": "Volume",
    "material_cost_change_pct": "Material cost",
    "target_cover_days": "Target stock cover",
    "capacity_change_pct": "Capacity",
    "headcount_change_fte": "Headcount",
    "dso_days": "Customer payment terms (DSO)",
    "dpo_days": "Supplier payment terms (DPO)",
    "fixed_costs_change_pct": "Fixed costs",
}


def _number(value: float) -> str:
    return f"{value:,.2f}".rstrip("0").rstrip(".").replace("-", "−")


def describe_lever(name: str, qualifier: str | None, value: float) -> str:
    """One lever as a sentence a board member reads: 'Price +2 % on Panel Radiators'."""
    spec = LEVERS.get(name)
    if spec is None:
        return f"{name}{':' + qualifier if qualifier else ''} = {_number(value)}"
    sign = "+" if spec.kind != "replace" and value > 0 else ""
    unit = f" {spec.unit}" if spec.unit else ""
    text = f"{_NOUNS.get(name, spec.label)} {sign}{_number(value)}{unit}"
    if spec.qualifier:
        text += f" on {qualifier}" if qualifier else f" on all {_PLURAL[spec.qualifier]}"
    return text


def describe_levers(levers: Levers) -> list[str]:
    """The levers as sentences, in spec order then qualifier (an empty list for none)."""
    order = {name: i for i, name in enumerate(LEVERS)}
    keys = sorted(levers, key=lambda k: (order.get(k[0], len(order)), k[0], k[1] or ""))
    return [describe_lever(name, q, levers[(name, q)]) for name, q in keys]
