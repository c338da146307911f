"""Capacity allocation by margin against pro rata: the money it moves, who it favours, what an hour is worth.

Pure functions over two ``PlanResult``s of the same model and levers, one computed with
``allocation=pro_rata`` and one with ``allocation=margin`` (the Scenarios page's Allocation view
and the board pack read what these return; the figures are the engine's).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from sop_core import fmt
from sop_core.plan.levers import LeverKey, Levers, month_name, normalize_levers

__all__ = [
    "AllocationComparison",
    "allocation_levers",
    "compare_allocation",
    "shadow_prices",
    "SHADOW_COLUMNS",
    "FAMILY_COLUMNS",
]

SHADOW_COLUMNS = ["month", "resource", "shadow_price", "production_hours", "capacity_hours"]
FAMILY_COLUMNS = [
    "family",
    "pro_rata_units",
    "margin_units",
    "pro_rata_gross_margin",
    "margin_gross_margin",
    "gross_margin_change",
]


def allocation_levers(levers: Levers | None) -> tuple[Levers, Levers]:
    """The scenario's levers with ``allocation`` set to pro_rata and to margin (any allocation
    lever of the scenario, windowed or not, is replaced)."""
    others = {k: v for k, v in normalize_levers(levers).items() if k.name != "allocation"}
    return (
        {**others, LeverKey("allocation"): 0.0},
        {**others, LeverKey("allocation"): 1.0},
    )


@dataclass(frozen=True)
class AllocationComparison:
    """Margin allocation against pro rata over the horizon.

    ``gain`` is gross margin by margin − by pro rata (negative when margin allocation loses);
    ``bottleneck`` the resource short in the most months (None when none is short), ``family``
    the family that gains the most hours on it; ``top`` the dearest hour (resource, month,
    price) or None.
    """

    gain: float
    pro_rata_gross_margin: float
    margin_gross_margin: float
    pro_rata_unmet_units: float
    margin_unmet_units: float
    bottleneck: str | None
    family: str | None
    top: tuple[str, str, float] | None
    families: pd.DataFrame
    shadow: pd.DataFrame

    def sentence(self, currency: str) -> str:
        """What margin allocation does, in one sentence a board member reads."""
        if self.bottleneck is None:
            return (
                "No resource is short in any month: allocating by margin makes the same plan as "
                "pro rata."
            )
        gain = fmt.money(abs(self.gain), currency)
        if self.gain >= 0.5:
            who = f"{self.family} on {self.bottleneck}" if self.family else self.bottleneck
            return (
                f"Prioritising {who} keeps {gain} more gross margin over the horizon than "
                "sharing short capacity pro rata."
            )
        if self.gain <= -0.5:
            return (
                f"Allocating by margin month by month loses {gain} of gross margin over the "
                "horizon against pro rata: each month it fills short capacity with the best "
                "earners per hour, their cover stock included, and other products' sales are "
                "lost later."
            )
        return "Allocating by margin keeps the same gross margin as pro rata over the horizon."

    def hour_sentence(self, currency: str) -> str | None:
        """'One more hour on Press & Weld in Jan 2028 is worth £89' (the dearest hour), or None."""
        if self.top is None:
            return None
        resource, month, price = self.top
        return (
            f"One more hour on {resource} in {month_name(month)} is worth "
            f"{fmt.money(price, currency)} of contribution."
        )


def shadow_prices(result) -> pd.DataFrame:
    """What one more hour of each short resource is worth, by month, dearest first.

    Returns:
        ``SHADOW_COLUMNS``, rows with a price above 0 only (months allocated by margin).
    """
    price = result.shadow_price
    with np.errstate(invalid="ignore"):
        mi, ri = np.nonzero(np.nan_to_num(price, nan=0.0) > 0)
    frame = pd.DataFrame(
        {
            "month": np.asarray(result.model.months, dtype=object)[mi],
            "resource": np.asarray(result.model.resources, dtype=object)[ri],
            "shadow_price": price[mi, ri],
            "production_hours": result.production_hours[mi, ri],
            "capacity_hours": result.capacity_hours[mi, ri],
        },
        columns=SHADOW_COLUMNS,
    )
    return frame.sort_values(["shadow_price", "month"], ascending=[False, True]).reset_index(
        drop=True
    )


def compare_allocation(pro_rata, margin) -> AllocationComparison:
    """Margin allocation against pro rata (two results of one model and the same other levers)."""
    m = pro_rata.model
    gm_pro = float(pro_rata.finance.gross_margin.sum())
    gm_mar = float(margin.finance.gross_margin.sum())
    shadow = shadow_prices(margin)
    by = m.family_sum
    a_pro, a_mar = pro_rata.family_arrays, margin.family_arrays
    families = pd.DataFrame(
        {
            "family": list(m.families),
            "pro_rata_units": by(pro_rata.supply.production).sum(axis=0),
            "margin_units": by(margin.supply.production).sum(axis=0),
            "pro_rata_gross_margin": a_pro["gross_margin"].sum(axis=0),
            "margin_gross_margin": a_mar["gross_margin"].sum(axis=0),
        },
    )
    families["gross_margin_change"] = (
        families["margin_gross_margin"] - families["pro_rata_gross_margin"]
    )
    bottleneck = family = top = None
    if len(shadow):
        months_short = shadow.groupby("resource")["month"].nunique()
        peak = shadow.groupby("resource")["shadow_price"].max()
        ranked = sorted(months_short.index, key=lambda r: (-months_short[r], -peak[r], r))
        bottleneck = ranked[0]
        r = m.resources.index(bottleneck)
        hours = m.hours_per_unit[:, r]
        moved = (margin.supply.production - pro_rata.supply.production) * hours[None, :]
        gained = by(moved).sum(axis=0)
        if gained.size and gained.max() > 0:
            family = m.families[int(np.argmax(gained))]
        first = shadow.iloc[0]
        top = (str(first["resource"]), str(first["month"]), float(first["shadow_price"]))
    return AllocationComparison(
        gain=gm_mar - gm_pro,
        pro_rata_gross_margin=gm_pro,
        margin_gross_margin=gm_mar,
        pro_rata_unmet_units=float(pro_rata.supply.unmet.sum()),
        margin_unmet_units=float(margin.supply.unmet.sum()),
        bottleneck=bottleneck,
        family=family,
        top=top,
        families=families[FAMILY_COLUMNS],
        shadow=shadow,
    )
