"""Assumptions that drive the plan: an assumption of the register linked to a setting or a lever.

A linked assumption's value is the plan's input: the cycle's plan of record applies it (settings
replaced, levers under the promoted scenario's, which win on the same key). An unlinked assumption
is documentation: the register says it is not in the plan's arithmetic.

Links are ``dso_days``, ``dpo_days``, ``fixed_costs_per_month``, ``minimum_cash`` (settings) and
``price_change_pct:FAMILY``, ``material_cost_change_pct:FAMILY``, ``capacity_change_pct:RESOURCE``,
``headcount_change_fte:RESOURCE`` (levers, with their bounds).
"""

from __future__ import annotations

import math
import re
from dataclasses import replace

import pandas as pd

from sop_core.errors import LeverError, SopError
from sop_core.plan.levers import LEVERS, Levers, describe_lever, parse_lever
from sop_core.settings import Settings

__all__ = [
    "SETTING_LINKS",
    "LEVER_LINKS",
    "NOT_LINKED",
    "link_options",
    "link_label",
    "check_link",
    "linked_number",
    "linked_inputs",
    "apply_settings",
]

# settings an assumption may stand for, with their labels and units
SETTING_LINKS: dict[str, tuple[str, str]] = {
    "dso_days": ("Customer payment terms (DSO)", "days"),
    "dpo_days": ("Supplier payment terms (DPO)", "days"),
    "fixed_costs_per_month": ("Fixed costs per month", "money"),
    "minimum_cash": ("Minimum cash", "money"),
}
# levers an assumption may stand for (qualified by a family or a resource)
LEVER_LINKS = (
    "price_change_pct",
    "material_cost_change_pct",
    "capacity_change_pct",
    "headcount_change_fte",
)
NOT_LINKED = "not in the plan's arithmetic"
_NUMBER = re.compile(r"^\s*([-+−]?\d[\d,_]*(?:\.\d+)?)")


def link_options(families, resources) -> dict[str, str]:
    """Every link a register row may have, key → what it reads as ('Price change on Panel Radiators')."""
    out = {key: label for key, (label, _unit) in SETTING_LINKS.items()}
    for name in LEVER_LINKS:
        spec = LEVERS[name]
        names = families if spec.qualifier == "family" else resources
        label = spec.label.split(" (")[0]
        for q in names:
            out[f"{name}:{q}"] = f"{label} on {q}"
    return out


def link_label(link: str | None) -> str:
    """What a link reads as in the register ('Customer payment terms (DSO)'), or NOT_LINKED."""
    if not link:
        return NOT_LINKED
    if link in SETTING_LINKS:
        return SETTING_LINKS[link][0]
    name, _, q = link.partition(":")
    spec = LEVERS.get(name)
    return f"{spec.label.split(' (')[0]} on {q}" if spec else link


def linked_number(value: object) -> float | None:
    """The number a linked assumption's value states ('52', '−3 %', '1,200'), else None."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, int | float):
        return float(value)
    match = _NUMBER.match(str(value))
    if not match:
        return None
    return float(match.group(1).replace(",", "").replace("_", "").replace("−", "-"))


def check_link(link: str | None, value: object, families, resources) -> str | None:
    """The link as stored (None for no link), after checking it and the value make a plan input.

    Raises:
        SopError: an unknown link, a family or resource that does not exist, a value that is not
            a number or is out of the lever's bounds.
    """
    link = (link or "").strip() or None
    if link is None:
        return None
    options = link_options(families, resources)
    if link not in options:
        name = link.partition(":")[0]
        if name in LEVER_LINKS:
            kind = "family" if LEVERS[name].qualifier == "family" else "resource"
            raise SopError(f'"{link}": no {kind} "{link.partition(":")[2]}" in the data.')
        raise SopError(
            f'"{link}" is not something the plan reads (expected one of: '
            f"{', '.join(SETTING_LINKS)}, or a price, material cost, capacity or headcount change)."
        )
    number = linked_number(value)
    if number is None:
        raise SopError(
            f'A linked assumption needs a number as its value ("{value}" is not one): the plan '
            f"reads it as {options[link]}."
        )
    if link in SETTING_LINKS:
        if number < 0:
            raise SopError(f"{options[link]} cannot be negative (got {number:g}).")
        return link
    try:
        parse_lever(f"{link}={number}")
    except LeverError as exc:
        raise SopError(str(exc)) from None
    return link


def linked_inputs(linked: pd.DataFrame, families, resources) -> tuple[Levers, dict[str, float]]:
    """The plan inputs of a cycle's linked assumptions: (levers, settings by key).

    Rows whose link or value no longer fits the data (a family since removed) are left out: the
    register shows them as not applied.
    """
    levers: Levers = {}
    settings: dict[str, float] = {}
    known_f, known_r = set(families), set(resources)
    for link, value in zip(linked.get("link", []), linked.get("value", []), strict=True):
        if not isinstance(link, str) or not link:
            continue
        number = linked_number(value)
        if number is None:
            continue
        if link in SETTING_LINKS:
            settings[link] = number
            continue
        name, _, q = link.partition(":")
        if name not in LEVER_LINKS:
            continue
        known = known_f if LEVERS[name].qualifier == "family" else known_r
        if q not in known:
            continue
        try:
            key, val = parse_lever(f"{link}={number}")
        except LeverError:
            continue
        if val != LEVERS[name].default:  # at its neutral value a lever changes nothing
            levers[key] = val
    return levers, settings


def apply_settings(settings: Settings, overrides: dict[str, float]) -> Settings:
    """The settings with the linked assumptions' values in place of their own."""
    return replace(settings, **overrides) if overrides else settings


def describe_link(link: str, value: float) -> str:
    """A linked input in words: 'DSO 60 days', 'Price +2 % on Panel Radiators'."""
    if link in SETTING_LINKS:
        label, unit = SETTING_LINKS[link]
        return f"{label} {value:g}" + ("" if unit == "money" else f" {unit}")
    name, _, q = link.partition(":")
    return describe_lever(name, q or None, value)
