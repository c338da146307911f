"""Scenario levers: the spec table, parsing ``key[:qualifier][@window]=value``, validation, per-month values."""

from __future__ import annotations

import difflib
import json
import math
import re
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from sop_core.errors import LeverError
from sop_core.months import month_diff, parse_month

__all__ = [
    "LeverSpec",
    "LEVERS",
    "ALLOCATIONS",
    "Window",
    "LeverKey",
    "Levers",
    "parse_lever",
    "parse_levers",
    "parse_lever_key",
    "parse_window",
    "validate_levers",
    "normalize_levers",
    "check_windows",
    "fit_windows",
    "lever_text",
    "key_text",
    "format_value",
    "levers_to_strings",
    "levers_to_json",
    "levers_from_json",
    "lever_vector",
    "lever_values",
    "lever_series",
    "window_slice",
    "describe_lever",
    "describe_levers",
    "describe_window",
    "month_name",
]


class Window(NamedTuple):
    """The months a lever applies in: ``start`` to ``end`` inclusive (``end`` None: to the horizon's end)."""

    start: str
    end: str | None = None


class LeverKey(NamedTuple):
    """Which lever: its name, the family or resource it is limited to, and its time window."""

    name: str
    qualifier: str | None = None
    window: Window | None = None


# LeverKey(name, qualifier or None, window or None) -> value. A plain 3-tuple finds the same entry.
Levers = dict[LeverKey, float]


# Beyond these a figure is a typing or unit error, not a scenario.
MAX_CHANGE_PCT = 1000.0
MAX_FTE_CHANGE = 10_000.0
MAX_ELASTICITY = 10.0

# allocation's values, stored as their position (a lever's value is a number)
ALLOCATIONS = ("pro_rata", "margin")


@dataclass(frozen=True)
class LeverSpec:
    """One lever: what it does, its qualifier kind ('family', 'resource' or None) and its bounds.

    ``kind`` says how it applies: 'scale_pct' multiplies by (1 + value/100), 'add' adds,
    'replace' replaces the data's figure, 'elasticity' is price_elasticity's exponent.
    ``default`` is the value that changes nothing (None for 'replace' levers: the data's own
    figure stays). ``step`` is the sensitivity step (one step down and one up) and ``precision``
    the display precision goal seek rounds to; ``choices`` names the values of a lever that is a
    choice (stored as the position of the choice).
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
    step: float = 1.0
    precision: float = 0.01
    choices: tuple[str, ...] = ()
    why_max: str = ""


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
            step=1.0,
        ),
        LeverSpec(
            "price_elasticity",
            "Price elasticity (×)",
            "",
            "family",
            -MAX_ELASTICITY,
            MAX_ELASTICITY,
            0.0,
            "elasticity",
            "multiplies demand by (1 + price change/100) ^ elasticity; 0 = price moves no volume",
            "an elasticity beyond ±10 is not a demand response",
            step=0.5,
            why_max="an elasticity beyond ±10 is not a demand response",
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
            step=5.0,
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
            step=5.0,
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
            step=5.0,
            precision=0.1,
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
            step=10.0,
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
            step=1.0,
            precision=0.1,
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
            step=5.0,
            precision=0.1,
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
            step=5.0,
            precision=0.1,
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
            step=5.0,
        ),
        LeverSpec(
            "allocation",
            "Capacity allocation (choice)",
            "",
            None,
            0.0,
            float(len(ALLOCATIONS) - 1),
            None,
            "choice",
            "replaces the allocation setting: pro_rata shares short capacity in proportion, "
            "margin makes what earns the most contribution per month",
            choices=ALLOCATIONS,
        ),
    ]
}


def _fmt(value: float) -> str:
    return str(int(value)) if float(value).is_integer() and abs(value) < 1e15 else repr(value)


def format_value(name: str, value: float) -> str:
    """A lever value as written after ``=``: a number, or a choice's name (allocation=margin)."""
    spec = LEVERS.get(name)
    if spec is not None and spec.choices:
        index = int(value)
        if index == value and 0 <= index < len(spec.choices):
            return spec.choices[index]
    return _fmt(value)


# the text after "@": FROM or FROM..TO, each YYYY-MM (a first-of-month date is accepted)
_WINDOW_LIKE = re.compile(r"^\s*\d{4}-\d{1,2}")


def parse_window(text: str, where: str = "") -> Window:
    """``FROM`` or ``FROM..TO`` (months, TO inclusive) to a ``Window``.

    Raises:
        LeverError: not months, or FROM after TO.
    """
    label = f'Lever "{where}": ' if where else ""
    raw = str(text).strip()
    start_text, dots, end_text = (part.strip() for part in raw.partition(".."))
    if not start_text or (dots and not end_text):
        raise LeverError(
            f'{label}window "{raw}" is not FROM or FROM..TO (months YYYY-MM, e.g. @2027-09 or '
            "@2027-03..2027-06)."
        )
    months = []
    for part in (start_text, end_text) if dots else (start_text,):
        try:
            months.append(parse_month(part))
        except ValueError as exc:
            raise LeverError(f'{label}window month "{part}" {exc}.') from None
    start = months[0]
    end = months[1] if dots else None
    if end is not None and month_diff(end, start) < 0:
        raise LeverError(f"{label}the window starts {start}, after it ends {end} (FROM..TO).")
    return Window(start, end)


def _split_left(left: str) -> tuple[str, str | None, str | None]:
    """``key[:qualifier][@window]`` to its three texts (window text without the ``@``)."""
    name_part, colon, rest = left.partition(":")
    window = None
    if colon:
        # a window is the text after the last "@" when it starts like a month; otherwise an
        # "@" belongs to the family or resource name
        head, at, tail = rest.rpartition("@")
        if at and _WINDOW_LIKE.match(tail):
            rest, window = head, tail
        return name_part.strip(), rest.strip(), window
    name, at, tail = name_part.partition("@")
    return name.strip(), None, (tail if at else None)


def parse_lever_key(text: str, item: str | None = None) -> LeverKey:
    """Parse ``key[:qualifier][@FROM[..TO]]`` (no value) into a ``LeverKey``.

    ``item``: the whole ``key…=value`` text, quoted in the messages (default: ``text``).

    Raises:
        LeverError: unknown lever, a qualifier it does not take, an empty qualifier, a bad window.
    """
    left = str(text).strip()
    shown = left if item is None else str(item).strip()
    name, qualifier, window_text = _split_left(left)
    spec = LEVERS.get(name)
    if spec is None:
        close = difflib.get_close_matches(name, LEVERS, n=1, cutoff=0.5)
        hint = f' Did you mean "{close[0]}"?' if close else ""
        raise LeverError(
            f'Unknown lever "{name}" in "{shown}".{hint} Known levers: {", ".join(LEVERS)}.'
        )
    if qualifier is not None and qualifier != "" and spec.qualifier is None:
        raise LeverError(
            f'Lever "{name}" takes no qualifier (got ":{qualifier}" in "{shown}"); use {name}=VALUE.'
        )
    if qualifier == "":
        if spec.qualifier is None:
            raise LeverError(f'Lever "{shown}": nothing after ":" (use {name}=VALUE).')
        raise LeverError(f'Lever "{shown}": the {spec.qualifier} after ":" is empty.')
    window = None if window_text is None else parse_window(window_text, left)
    return LeverKey(name, qualifier, window)


def parse_lever(item: str) -> tuple[LeverKey, float]:
    """Parse one ``key[:qualifier][@FROM[..TO]]=value`` into ``(LeverKey, value)``.

    Checks the name, whether a qualifier is allowed, the window, the number and its bounds;
    whether the qualifier names a known family or resource, and the window lies in the
    horizon, is checked by ``validate_levers``.

    Raises:
        LeverError: with what is wrong and what was expected.
    """
    text = str(item).strip()
    if "=" not in text:
        raise LeverError(
            f'Lever "{text}" is not KEY[:QUALIFIER][@FROM[..TO]]=VALUE '
            "(e.g. price_change_pct:Widgets=-3, headcount_change_fte:Assembly@2027-09=3)."
        )
    left, raw = (part.strip() for part in text.split("=", 1))
    key = parse_lever_key(left, text)
    spec = LEVERS[key.name]
    if spec.choices:
        choice = raw.strip().lower().replace("-", "_").replace(" ", "_")
        if choice not in spec.choices:
            raise LeverError(
                f'Lever "{left}": "{raw}" is not one of {", ".join(spec.choices)} '
                f"(e.g. {key.name}={spec.choices[-1]})."
            )
        return key, float(spec.choices.index(choice))
    number_text = raw.replace("_", "")
    if spec.unit == "%" and number_text.endswith("%"):
        number_text = number_text[:-1].strip()
    try:
        value = float(number_text)
    except ValueError:
        expected = spec.unit or "a number"
        raise LeverError(
            f'Lever "{left}": "{raw}" is not a number (expected {expected}, e.g. {key.name}=5).'
        ) from None
    _check_bounds(spec, left, value, raw)
    return key, value


def _check_bounds(spec: LeverSpec, left: str, value: float, raw: str | None = None) -> None:
    if not math.isfinite(value):
        raise LeverError(
            f'Lever "{left}": "{raw if raw is not None else value}" is not a finite number.'
        )
    unit = f" {spec.unit}" if spec.unit else ""
    if spec.choices and value != int(value):
        raise LeverError(f'Lever "{left}": {value} is not one of {", ".join(spec.choices)}.')
    if value < spec.min:
        why = f" ({spec.why_min})" if spec.why_min else ""
        raise LeverError(f'Lever "{left}": {_fmt(value)} is below {_fmt(spec.min)}{why}.')
    if value > spec.max:
        if spec.why_max:
            raise LeverError(
                f'Lever "{left}": {_fmt(value)} is above {_fmt(spec.max)}{unit} ({spec.why_max}).'
            )
        raise LeverError(
            f'Lever "{left}": {_fmt(value)} is above {_fmt(spec.max)}{unit}, '
            "which looks like a typing error."
        )


def parse_levers(items) -> Levers:
    """Parse ``key[:qualifier][@window]=value`` strings; a later item for the same key wins.

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


def _key(key) -> LeverKey:
    """A LeverKey from a LeverKey or a plain ``(name, qualifier[, window])`` tuple."""
    if isinstance(key, LeverKey):
        return key
    name, qualifier, *rest = key
    window = rest[0] if rest else None
    if window is not None and not isinstance(window, Window):
        window = Window(*window)
    return LeverKey(name, qualifier, window)


def key_text(key) -> str:
    """``key[:qualifier][@FROM[..TO]]``: a lever key as written on the command line."""
    name, qualifier, window = _key(key)
    text = f"{name}:{qualifier}" if qualifier else name
    if window is not None:
        text += f"@{window.start}" + (f"..{window.end}" if window.end else "")
    return text


def lever_text(key, value: float) -> str:
    """``key[:qualifier][@FROM[..TO]]=value``: one lever as stored and typed."""
    return f"{key_text(key)}={format_value(_key(key).name, value)}"


_PLURAL = {"family": "families", "resource": "resources"}


def _known(kind: str, names) -> str:
    names, plural = list(names), _PLURAL[kind]
    shown = ", ".join(names[:20]) + (f" and {len(names) - 20} more" if len(names) > 20 else "")
    return f"known {plural}: {shown}" if names else f"there are no {plural} in the data"


def _overlaps(a: Window, b: Window) -> bool:
    a_end = a.end or "9999-12"
    b_end = b.end or "9999-12"
    return month_diff(a.start, b_end) <= 0 and month_diff(b.start, a_end) <= 0


def check_windows(levers: Levers, months=None) -> None:
    """Check the windows: inside the horizon ``months`` (if given), and no two windows of one
    lever and qualifier overlapping (which value would apply there is then unclear).

    Raises:
        LeverError: a window outside the horizon, or two overlapping windows.
    """
    months = list(months) if months is not None else None
    seen: dict[tuple[str, str | None], list[LeverKey]] = {}
    for raw_key in levers:
        key = _key(raw_key)
        if key.window is None:
            continue
        if months:
            first, last = months[0], months[-1]
            for label, month in (("starts", key.window.start), ("ends", key.window.end)):
                if month is None:
                    continue
                if month_diff(month, first) < 0 or month_diff(month, last) > 0:
                    raise LeverError(
                        f'Lever "{key_text(key)}": the window {label} {month}, outside the plan '
                        f"horizon {first}..{last}."
                    )
        for other in seen.setdefault((key.name, key.qualifier), []):
            if _overlaps(key.window, other.window):
                raise LeverError(
                    f'Levers "{key_text(other)}" and "{key_text(key)}" overlap: give each month '
                    "one value (end the first window before the second starts)."
                )
        seen[(key.name, key.qualifier)].append(key)


def normalize_levers(levers) -> Levers:
    """The levers with ``LeverKey`` keys and float values (a hand-built dict may use plain
    ``(name, qualifier)`` or ``(name, qualifier, window)`` tuples)."""
    return {_key(k): float(v) for k, v in (levers or {}).items()}


def validate_levers(levers: Levers, families, resources, months=None) -> Levers:
    """Check each lever: its name and bounds, that its qualifier names a known family or
    resource (per the lever's qualifier kind), and its window (see ``check_windows``; inside
    the horizon when ``months`` is given).

    Returns the same levers (for chaining).

    Raises:
        LeverError: unknown lever, a qualifier on a lever that takes none, an unknown family or
            resource (the known ones are listed), a value out of bounds, a window outside the
            horizon or overlapping another of the same lever.
    """
    known = {"family": list(families), "resource": list(resources)}
    for raw_key, value in levers.items():
        key = _key(raw_key)
        name, qualifier, _ = key
        left = key_text(key)
        parse_lever_key(left)  # name and qualifier rules (a hand-built dict too)
        spec = LEVERS[name]
        _check_bounds(spec, left, float(value))
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
    check_windows(levers, months)
    return levers


def fit_windows(levers: Levers, months) -> tuple[Levers, list[str]]:
    """Levers fitted to a horizon: a window partly outside ``months`` is clipped to it, one wholly
    outside is dropped (it has nothing to act on). Returns the levers and what was clipped or
    dropped, with why (e.g. a saved scenario read after the horizon moved)."""
    months = list(months)
    if not months or not any(_key(k).window for k in levers):
        return dict(levers), []
    first, last = months[0], months[-1]
    kept: Levers = {}
    notes: list[str] = []
    for raw_key, value in levers.items():
        key = _key(raw_key)
        window = key.window
        if window is None:
            kept[key] = value
            continue
        end = window.end or last
        if month_diff(window.start, last) > 0 or month_diff(end, first) < 0:
            notes.append(
                f"{lever_text(key, value)} (its window is outside the horizon {first}..{last})"
            )
            continue
        start = window.start if month_diff(window.start, first) >= 0 else first
        stop = window.end if window.end is None or month_diff(window.end, last) <= 0 else last
        fitted = LeverKey(key.name, key.qualifier, Window(start, stop))
        if fitted != key:
            notes.append(
                f"{lever_text(key, value)} (window clipped to the horizon: {key_text(fitted)})"
            )
        kept[fitted] = value
    return kept, notes


def _sort_key(key) -> tuple:
    order = {name: i for i, name in enumerate(LEVERS)}
    name, qualifier, window = _key(key)
    return (
        order.get(name, len(order)),
        name,
        qualifier or "",
        "" if window is None else window.start,
    )


def levers_to_strings(levers: Levers) -> list[str]:
    """The levers as ``key[:qualifier][@window]=value`` strings, in a stable order (spec order,
    qualifier, window start)."""
    return [lever_text(k, levers[k]) for k in sorted(levers, key=_sort_key)]


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


# --- values per entity and month ----------------------------------------------------------------


def window_slice(window: Window | None, months) -> slice:
    """The positions of ``months`` inside ``window`` (all of them for None), clipped to the months."""
    n = len(months)
    if window is None or n == 0:
        return slice(0, n)
    first = months[0]
    start = min(max(month_diff(window.start, first), 0), n)
    end = n if window.end is None else min(max(month_diff(window.end, first) + 1, 0), n)
    return slice(start, max(start, end))


def lever_vector(levers: Levers | None, name: str, keys, neutral: float = 0.0) -> np.ndarray:
    """One lever's value for each of ``keys`` (families or resources), ignoring windowed levers.

    The unqualified value applies everywhere; a qualified value overrides it for its key.
    Keys with neither get ``neutral``.
    """
    keys = list(keys)
    out = np.full(len(keys), float(neutral))
    if not levers:
        return out
    everywhere = levers.get((name, None, None))
    if everywhere is not None:
        out[:] = everywhere
    qualified = [
        (q, v) for (lever, q, window), v in levers.items() if lever == name and q and not window
    ]
    if qualified and len(keys):
        position = {k: i for i, k in enumerate(keys)}
        for qualifier, value in qualified:
            if qualifier in position:
                out[position[qualifier]] = value
    return out


def lever_values(
    levers: Levers | None, name: str, keys, months, neutral: float = 0.0
) -> np.ndarray:
    """One lever's value for each of ``keys``: ``(K,)`` when no lever of that name has a window,
    else ``(M, K)`` month by month.

    In a month the most specific lever applies: a qualified one beats the unqualified one, and
    of two with the same qualifier, the windowed one beats the one without a window (windows of
    one lever and qualifier do not overlap: ``check_windows``).
    """
    if not levers or not any(k[0] == name and k[2] is not None for k in levers):
        return lever_vector(levers, name, keys, neutral)
    keys, months = list(keys), list(months)
    position = {k: i for i, k in enumerate(keys)}
    out = np.full((len(months), len(keys)), float(neutral))
    entries = [(k, v) for k, v in levers.items() if k[0] == name]

    def rank(item) -> int:
        (_, qualifier, window), _ = item
        return (2 if qualifier is not None else 0) + (1 if window is not None else 0)

    for (_, qualifier, window), value in sorted(entries, key=rank):
        rows = window_slice(window, months)
        if qualifier is None:
            out[rows, :] = value
        elif qualifier in position:
            out[rows, position[qualifier]] = value
    return out


def lever_series(levers: Levers | None, name: str, months, default: float):
    """An unqualified lever's value: a float when it has no window, else ``(M,)`` month by month
    (``default`` outside the windows, the unwindowed value if there is one)."""
    if not levers or not any(k[0] == name and k[2] is not None for k in levers):
        return float(levers.get((name, None, None), default)) if levers else float(default)
    return lever_values(levers, name, [None], months, default)[:, 0]


# --- levers as sentences ---------------------------------------------------------------------------

# How a lever reads in a sentence: the thing it changes, and the word before its qualifier.
_NOUNS = {
    "price_change_pct": "Price",
    "price_elasticity": "Price elasticity",
    "volume_change_pct": "Volume",
    "material_cost_change_pct": "Material cost",
    "target_cover_days": "Target stock cover",
    "capacity_change_pct": "Capacity",
    "headcount_change_fte": "Headcount",
    "dso_days": "Customer payment terms (DSO)",
    "dpo_days": "Supplier payment terms (DPO)",
    "fixed_costs_change_pct": "Fixed costs",
    "allocation": "Capacity allocation",
}

_CHOICE_WORDS = {"pro_rata": "pro rata", "margin": "by margin"}

_MONTH_NAMES = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def month_name(month: str) -> str:
    """``2027-09`` as a person reads it: ``Sep 2027``."""
    return f"{_MONTH_NAMES[int(month[5:7]) - 1]} {month[:4]}"


def describe_window(window: Window | None) -> str:
    """'' for no window, else ' from Sep 2027' or ' from Mar 2027 to Jun 2027' (or ' in Mar 2027')."""
    if window is None:
        return ""
    if window.end is None:
        return f" from {month_name(window.start)}"
    if window.end == window.start:
        return f" in {month_name(window.start)}"
    return f" from {month_name(window.start)} to {month_name(window.end)}"


def _number(value: float) -> str:
    # up to four decimals: a goal-seek answer (0.454 %) reads as the value it is
    return f"{value:,.4f}".rstrip("0").rstrip(".").replace("-", "−")


def describe_lever(
    name: str, qualifier: str | None, value: float, window: Window | None = None
) -> str:
    """One lever as a sentence a board member reads: 'Headcount +3 FTE on Press & Weld from Sep 2027'."""
    spec = LEVERS.get(name)
    if spec is None:
        return f"{name}{':' + qualifier if qualifier else ''} = {_number(value)}"
    if spec.choices:
        choice = format_value(name, value)
        return f"{_NOUNS[name]} {_CHOICE_WORDS.get(choice, choice)}{describe_window(window)}"
    sign = "+" if spec.kind != "replace" and value > 0 else ""
    unit = f" {spec.unit}" if spec.unit else ""
    text = f"{_NOUNS.get(name, spec.label)} {sign}{_number(value)}{unit}"
    if spec.qualifier:
        text += f" on {qualifier}" if qualifier else f" on all {_PLURAL[spec.qualifier]}"
    return text + describe_window(window)


def describe_levers(levers: Levers) -> list[str]:
    """The levers as sentences, in spec order, qualifier, window (an empty list for none)."""
    out = []
    for key in sorted(levers, key=_sort_key):
        name, qualifier, window = _key(key)
        out.append(describe_lever(name, qualifier, levers[key], window))
    return out
