"""Goal seek: the value of one lever, nearest to no change, that meets a target on the plan.

Pure, on a prepared ``Model``: every value tried is one ``engine.compute`` (the same engine as
``plan --set``). The measures move with a lever monotonically, or close to it, for most levers
but not always, so the search (1) walks out from the no-change value on a grid in both
directions, (2) bisects the first grid step where the target is met, (3) rounds away from no
change to the lever's display precision (finer where needed) and (4) checks the answer: it
meets the target, and the value 1 % nearer to no change does not (else it bisects again nearer).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from sop_core.errors import GoalSeekError, LeverError
from sop_core.plan.engine import compute
from sop_core.plan.levers import (
    LEVERS,
    LeverKey,
    Levers,
    LeverSpec,
    key_text,
    normalize_levers,
    parse_lever_key,
    validate_levers,
)
from sop_core.plan.model import Model

__all__ = [
    "MEASURES",
    "MEASURE_LABELS",
    "Target",
    "GoalSeekResult",
    "measure_value",
    "measure_values",
    "parse_target",
    "make_target",
    "no_change_value",
    "goal_seek",
    "round_to",
]

MEASURES = (
    "lowest_cash",
    "closing_cash",
    "revenue",
    "gross_margin",
    "gross_margin_pct",
    "operating_profit",
    "unmet_units",
)
MEASURE_LABELS = {
    "lowest_cash": "Lowest cash",
    "closing_cash": "Closing cash",
    "revenue": "Revenue",
    "gross_margin": "Gross margin",
    "gross_margin_pct": "Gross margin %",
    "operating_profit": "Operating profit",
    "unmet_units": "Unmet demand (units)",
}
# the named values a target may use instead of a number, and the measures they fit
NAMED_VALUES = {
    "minimum_cash": ("lowest_cash", "closing_cash"),
    "budget": ("revenue", "gross_margin", "gross_margin_pct"),
}
OPERATORS = (">=", "<=")
LINEAR_STEPS = 10  # grid: 1 to 10 sensitivity steps out, then doubling to the bound
MAX_REFINE = 40


def measure_values(result) -> dict[str, float]:
    """Every goal-seek measure of a plan (horizon totals; cash at its lowest and last month)."""
    f = result.finance
    revenue = float(f.revenue.sum())
    margin = float(f.gross_margin.sum())
    return {
        "lowest_cash": float(f.closing_cash.min()) if len(f.closing_cash) else math.nan,
        "closing_cash": float(f.closing_cash[-1]) if len(f.closing_cash) else math.nan,
        "revenue": revenue,
        "gross_margin": margin,
        "gross_margin_pct": margin / revenue * 100.0 if revenue else math.nan,
        "operating_profit": float(f.operating_profit.sum()),
        "unmet_units": float(result.supply.unmet.sum()),
    }


def measure_value(result, measure: str) -> float:
    """One measure of a plan (see ``measure_values``)."""
    return measure_values(result)[measure]


@dataclass(frozen=True)
class Target:
    """``measure op value``: e.g. lowest_cash >= 750,000 (``named``: 'minimum_cash' or 'budget')."""

    measure: str
    op: str
    value: float
    named: str | None = None

    def met(self, figure: float) -> bool:
        if figure is None or math.isnan(figure):
            return False
        # a hair of tolerance: a figure equal to the target up to float rounding meets it
        slack = 1e-9 * max(1.0, abs(self.value))
        return figure >= self.value - slack if self.op == ">=" else figure <= self.value + slack

    @property
    def text(self) -> str:
        value = self.named or f"{self.value:g}"
        return f"{self.measure}{self.op}{value}"


def _named_value(model: Model, measure: str, name: str) -> float:
    if name == "minimum_cash":
        return float(model.settings.minimum_cash)
    revenue = model.budget_revenue
    margin = model.budget_gross_margin
    if measure == "revenue":
        figures = revenue
    elif measure == "gross_margin":
        figures = margin
    else:
        both = ~np.isnan(revenue) & ~np.isnan(margin)
        total = float(np.nansum(np.where(both, revenue, np.nan)))
        if not both.any() or total == 0:
            raise GoalSeekError(
                "There is no budget revenue and gross margin to compare gross_margin_pct with: "
                "import a budget table, or give a number."
            )
        return float(np.nansum(np.where(both, margin, np.nan))) / total * 100.0
    if np.isnan(figures).all():
        raise GoalSeekError(
            f"There is no budget {measure.replace('_', ' ')} in the data: import a budget table, "
            "or give a number."
        )
    return float(np.nansum(figures))


def make_target(model: Model, measure: str, op: str, value: float | str) -> Target:
    """A target from its parts; ``value`` a number or 'minimum_cash' / 'budget'.

    Raises:
        GoalSeekError: an unknown measure or operator, a named value that does not fit the
            measure (budget for cash), or no budget in the data.
    """
    if measure not in MEASURES:
        raise GoalSeekError(f'Unknown measure "{measure}" (expected one of {", ".join(MEASURES)}).')
    if op not in OPERATORS:
        raise GoalSeekError(f'Unknown comparison "{op}" (expected >= or <=).')
    if isinstance(value, str):
        text = value.strip()
        if text in NAMED_VALUES:
            if measure not in NAMED_VALUES[text]:
                raise GoalSeekError(
                    f'"{text}" is a target for {" or ".join(NAMED_VALUES[text])}, not {measure}: '
                    "give a number."
                )
            return Target(measure, op, _named_value(model, measure, text), text)
        try:
            number = float(text.replace(",", "").replace("_", ""))
        except ValueError:
            raise GoalSeekError(
                f'Target value "{text}" is not a number, minimum_cash or budget.'
            ) from None
        value = number
    if not math.isfinite(float(value)):
        raise GoalSeekError(f"Target value {value} is not a finite number.")
    return Target(measure, op, float(value))


_TARGET = re.compile(r"^\s*([A-Za-z_%]+)\s*(>=|<=|=>|=<|>|<|=)\s*(.+?)\s*$")


def parse_target(text: str, model: Model) -> Target:
    """``MEASURE>=VALUE`` or ``MEASURE<=VALUE`` (VALUE a number, minimum_cash or budget).

    Raises:
        GoalSeekError: not that shape, an unknown measure, a bad value.
    """
    match = _TARGET.match(str(text))
    if not match:
        raise GoalSeekError(
            f'Target "{text}" is not MEASURE>=VALUE or MEASURE<=VALUE '
            "(e.g. lowest_cash>=minimum_cash, revenue>=budget, unmet_units<=100)."
        )
    measure, op, value = match.groups()
    if op not in OPERATORS:
        raise GoalSeekError(f'Target "{text}": use >= or <= (got "{op}").')
    return make_target(model, measure, op, value)


def no_change_value(model: Model, key: LeverKey) -> float:
    """The value of a lever that changes nothing: its neutral value, or for a replacing lever
    the data's own figure (target_cover_days: the median of the skus' figures it applies to)."""
    spec = LEVERS[key.name]
    if spec.default is not None:
        return float(spec.default)
    if key.name in ("dso_days", "dpo_days"):
        return float(getattr(model.settings, key.name))
    if key.name == "target_cover_days":
        covers = np.asarray(model.target_cover_days, dtype=float)
        if key.qualifier is not None:
            covers = covers[model.sku_family == model.families.index(key.qualifier)]
        return float(np.median(covers)) if covers.size else 0.0
    raise GoalSeekError(
        f'Lever "{key.name}" is a choice ({", ".join(spec.choices)}), not a number: compare '
        "the choices as scenarios instead."
    )


def round_to(value: float, step: float) -> float:
    """``value`` rounded to a multiple of ``step`` (to step's decimals, no float dust)."""
    decimals = max(0, -math.floor(math.log10(step) + 1e-12))
    return round(round(value / step) * step, decimals)


def _text(value: float) -> str:
    return (
        f"{value:.10f}".rstrip("0").rstrip(".")
        if not float(value).is_integer()
        else str(int(value))
    )


@dataclass(frozen=True)
class GoalSeekResult:
    """The answer: the lever value (``line`` as the CLI prints it), what the plan then shows,
    and what it showed before (with the sought lever at no change)."""

    key: LeverKey
    value: float
    target: Target
    achieved: float
    before: float
    no_change: float
    evaluations: int

    @property
    def line(self) -> str:
        """``KEY[:QUALIFIER][@WINDOW]=VALUE``."""
        return f"{key_text(self.key)}={_text(self.value)}"

    @property
    def already_met(self) -> bool:
        return self.value == self.no_change


def goal_seek(
    model: Model,
    target: Target,
    key: LeverKey | str,
    base: Levers | None = None,
    *,
    evaluate: Callable[[Levers], float] | None = None,
) -> GoalSeekResult:
    """The value of lever ``key`` nearest to no change that meets ``target``, the other levers
    ``base`` held (the sought key replaces the same key in ``base``).

    Args:
        model: from ``prepare``.
        target: from ``parse_target`` or ``make_target``.
        key: ``LeverKey`` or its text ``KEY[:QUALIFIER][@WINDOW]``.
        base: the scenario's levers.
        evaluate: the measure of a set of levers (default: ``compute`` then the target's measure).

    Raises:
        GoalSeekError: no value within the lever's bounds meets the target (the best reached is
            said), or the lever is a choice.
        LeverError: a bad lever (unknown, a qualifier that does not exist, a window outside the
            horizon), before any search.
    """
    if isinstance(key, str):
        key = parse_lever_key(key)
    base = normalize_levers(base)
    base.pop(key, None)
    spec = LEVERS[key.name]
    neutral = no_change_value(model, key)
    validate_levers({**base, key: neutral}, model.families, model.resources, model.months)
    if evaluate is None:

        def evaluate(levers: Levers) -> float:
            return measure_value(compute(model, levers), target.measure)

    seen: dict[float, float] = {}

    def figure(value: float) -> float:
        value = float(value)
        if value not in seen:
            try:
                seen[value] = evaluate({**base, key: value})
            except LeverError:  # e.g. a price cut of 100 % against a negative elasticity
                seen[value] = math.nan
        return seen[value]

    def meets(value: float) -> bool:
        return target.met(figure(value))

    def result(value: float) -> GoalSeekResult:
        return GoalSeekResult(
            key, value, target, figure(value), figure(neutral), neutral, len(seen)
        )

    if meets(neutral):
        return result(neutral)

    # (1) the grid, out from no change: sides +1 (up) and −1 (down), at growing distances
    room = {+1: spec.max - neutral, -1: neutral - spec.min}
    distances: list[float] = [spec.step * k for k in range(1, LINEAR_STEPS + 1)]
    while distances[-1] < max(room.values()):
        distances.append(distances[-1] * 2)
    found: dict[int, tuple[float, float]] = {}
    previous = 0.0
    for d in distances:
        for side in (+1, -1):
            if room[side] <= 0 or side in found or previous >= room[side]:
                continue
            reach = min(d, room[side])
            if meets(neutral + side * reach):
                found[side] = (previous, reach)
        if found:
            break
        previous = d
    if not found:
        tried = [(v, f) for v, f in seen.items() if not math.isnan(f)]
        best = (
            max(tried, key=lambda t: t[1]) if target.op == ">=" else min(tried, key=lambda t: t[1])
        )
        unit = f" {spec.unit}" if spec.unit else ""
        raise GoalSeekError(
            f"No value of {key_text(key)} between {_text(spec.min)} and {_text(spec.max)}{unit} "
            f"meets {target.text} ({target.value:,.2f}): the best it reaches is "
            f"{best[1]:,.2f} at {_text(best[0])}{unit}."
        )

    # (2)-(4) per side that meets: bisect, round, check; the nearer answer wins
    answers = [_refine(neutral, side, lo, hi, spec, meets) for side, (lo, hi) in found.items()]
    best_value = min(answers, key=lambda v: (abs(v - neutral), v))
    return result(best_value)


def _refine(
    neutral: float,
    side: int,
    lo: float,
    hi: float,
    spec: LeverSpec,
    meets: Callable[[float], bool],
) -> float:
    """The distance from no change on one side, bisected between ``lo`` (fails, or no change)
    and ``hi`` (meets), rounded away from no change and checked against the value 1 % nearer."""
    bound = spec.max if side > 0 else spec.min

    def at(distance: float) -> float:
        value = neutral + side * distance
        return min(value, spec.max) if side > 0 else max(value, spec.min)

    for _ in range(MAX_REFINE):
        while hi - lo > min(spec.precision / 64, 0.001 * hi):
            mid = (lo + hi) / 2
            if meets(at(mid)):
                hi = mid
            else:
                lo = mid
        answer = None
        step = spec.precision
        while answer is None and step >= min(spec.precision, 0.001 * hi) / 1000:
            # the nearest multiple of the step first (the crossing may sit on it), then the next
            # one out from no change
            for distance in dict.fromkeys((round(hi / step) * step, math.ceil(hi / step) * step)):
                value = round_to(at(distance), step) if at(distance) != bound else bound
                if meets(value) and not meets(neutral + 0.99 * (value - neutral)):
                    answer = value
                    break
            step /= 10
        if answer is not None:
            return answer
        # a value 1 % nearer meets too (the measure is not monotone here): look nearer
        nearer = 0.99 * hi
        if meets(at(nearer)):
            lo, hi = (0.0 if nearer <= lo else lo), nearer
        else:  # rounding could not settle: tighten the bracket and try again
            lo = max(lo, nearer)
    return at(hi)
