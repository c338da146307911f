"""Sensitivity: each lever one step down and one up, and what lowest cash, closing cash and gross
margin do (the tornado chart's table).

Pure, on a prepared ``Model``: each figure is one ``engine.compute`` with the scenario's levers
and the stepped lever (the same as ``plan --scenario … --set LEVER=VALUE``). The steps are the
levers' ``step`` (``plan.levers.LEVERS``): price ±1 %, price elasticity ±0.5, volume, material
cost and fixed costs ±5 %, capacity ±10 %, headcount ±1 FTE on every resource row, DSO, DPO and
stock cover ±5 days; each clipped to the lever's bounds. Stock cover replaces the products'
figures, so where they differ it is stepped per family (one row for each family whose skus share
one figure). ``allocation`` is a choice, not a step: compare it as a scenario.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sop_core.plan.engine import compute
from sop_core.plan.goalseek import measure_values, no_change_value
from sop_core.plan.levers import LEVERS, LeverKey, Levers, key_text, normalize_levers
from sop_core.plan.model import Model

__all__ = ["SENSITIVITY_MEASURES", "SENSITIVITY_COLUMNS", "sensitivity", "stepped_levers"]

SENSITIVITY_MEASURES = ("lowest_cash", "closing_cash", "gross_margin")
SENSITIVITY_COLUMNS = ["lever", "low", "high", "measure", "base", "at_low", "at_high"]


def stepped_levers(model: Model, base: Levers | None = None) -> list[tuple[LeverKey, float, float]]:
    """Each lever stepped: (key, low, high), in the order of the spec table.

    The step is taken from the scenario's value of that key when it has one, else from no change.
    """
    base = normalize_levers(base)
    out: list[tuple[LeverKey, float, float]] = []
    for spec in LEVERS.values():
        if spec.choices:
            continue
        keys = [LeverKey(spec.name)]
        if spec.name == "target_cover_days":
            covers = np.asarray(model.target_cover_days, dtype=float)
            if covers.size and covers.min() != covers.max():
                keys = []
                for i, family in enumerate(model.families):
                    mine = covers[model.sku_family == i]
                    if mine.size and mine.min() == mine.max():
                        keys.append(LeverKey(spec.name, family))
        for key in keys:
            centre = base.get(key, no_change_value(model, key))
            low = max(spec.min, centre - spec.step)
            high = min(spec.max, centre + spec.step)
            out.append((key, low, high))
    return out


def sensitivity(model: Model, base: Levers | None = None) -> pd.DataFrame:
    """Every lever one step down and up: the measures at each, sorted by effect.

    Args:
        model: from ``prepare``.
        base: the scenario's levers (a stepped lever replaces the same key).

    Returns:
        ``SENSITIVITY_COLUMNS``: one row per lever and measure; ``lever`` as written on the
        command line (``dso_days``, ``target_cover_days:Towel Rails``), ``low``/``high`` its two
        values, ``base`` the measure under ``base``, ``at_low``/``at_high`` under the step.
        Measures in the order of ``SENSITIVITY_MEASURES``; within one, the largest swing
        (``max(|at_low − base|, |at_high − base|)``) first.
    """
    base = normalize_levers(base)
    at_base = measure_values(compute(model, base))
    rows = []
    for key, low, high in stepped_levers(model, base):
        at = {}
        for side, value in (("low", low), ("high", high)):
            levers = {**base, key: value}
            at[side] = measure_values(compute(model, levers))
        for measure in SENSITIVITY_MEASURES:
            rows.append(
                {
                    "lever": key_text(key),
                    "low": low,
                    "high": high,
                    "measure": measure,
                    "base": at_base[measure],
                    "at_low": at["low"][measure],
                    "at_high": at["high"][measure],
                }
            )
    frame = pd.DataFrame(rows, columns=SENSITIVITY_COLUMNS)
    if frame.empty:
        return frame
    swing = np.maximum(
        (frame["at_low"] - frame["base"]).abs(), (frame["at_high"] - frame["base"]).abs()
    )
    order = frame["measure"].map({m: i for i, m in enumerate(SENSITIVITY_MEASURES)})
    frame = frame.assign(_order=order, _swing=swing)
    frame = frame.sort_values(["_order", "_swing", "lever"], ascending=[True, False, True])
    return frame.drop(columns=["_order", "_swing"]).reset_index(drop=True)
