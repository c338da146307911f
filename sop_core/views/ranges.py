"""The plan's ranges as the pages and the board pack show them: how many paths, the fan chart's rows, the cash-risk sentence, the horizon ranges, scenarios side by side, the Demand review's band."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from sop_core import fmt
from sop_core.months import month_label
from sop_core.plan.ranges import (
    DEFAULT_SEED,
    SPREAD_KINDS,
    PlanRanges,
    odds,
    plan_ranges,
)
from sop_core.plan.result import PlanResult
from sop_core.views.supply import sku_columns

__all__ = [
    "APP_SAMPLES",
    "MIN_APP_SAMPLES",
    "MARGIN_SAMPLES",
    "SAMPLE_CELLS",
    "app_samples",
    "app_ranges",
    "fan_frame",
    "cash_risk_sentence",
    "lowest_cash_sentence",
    "assumptions_note",
    "horizon_table",
    "compare_ranges",
    "baseline_band",
]

# What the app and the board pack sample: 500 paths on a company the size of the demo, fewer on a
# large one so a page never waits long (the paths' cells, months × skus × paths, are capped),
# and at most 100 when short capacity is allocated by margin (a linear programme per path and
# month). `python -m sop_core ranges --samples N` with the N the page names gives the same figures.
APP_SAMPLES = 500
MIN_APP_SAMPLES = 100
MARGIN_SAMPLES = 100
SAMPLE_CELLS = 60_000_000

_HORIZON_LABELS = {
    "revenue": "Revenue",
    "gross_margin": "Gross margin",
    "lowest_cash": "Lowest cash",
}
_SPREAD_WORDS = {
    "baseline band": "the statistical baseline's band",
    "track record": "the forecasting source's track record",
    "band width (no track record)": "the baseline band's width (a source without a record)",
}


def app_samples(result: PlanResult) -> int:
    """How many demand paths the app and the board pack draw for this plan."""
    cells = max(int(np.prod(result.model.demand.shape)), 1)
    n = min(APP_SAMPLES, max(MIN_APP_SAMPLES, SAMPLE_CELLS // cells))
    if result.supply.margin_months is not None:
        n = min(n, MARGIN_SAMPLES)
    return int(n)


def app_ranges(
    result: PlanResult,
    *,
    seed: int = DEFAULT_SEED,
    progress: Callable[[int, int], None] | None = None,
) -> PlanRanges:
    """The ranges of the plan ``result`` shows (its model and levers), as the app draws them
    (``progress``: called with paths planned and samples after each batch)."""
    return plan_ranges(
        result.model, result.levers, samples=app_samples(result), seed=seed, progress=progress
    )


def fan_frame(ranges: PlanRanges, measure: str = "closing_cash") -> pd.DataFrame:
    """Columns month, p10, p50, p90, point of one measure: the fan chart's rows."""
    rows = ranges.monthly[ranges.monthly["measure"] == measure]
    return rows[["month", "p10", "p50", "p90", "point"]].reset_index(drop=True)


def cash_risk_sentence(ranges: PlanRanges, currency: str) -> str:
    """The month most likely to end below the minimum cash, in words: "A 1 in 4 chance cash goes
    below £750k in Oct 2027 (in some month of the horizon: 1 in 3)."."""
    minimum = fmt.money(ranges.minimum_cash, currency)
    paths = f"{ranges.samples:,} demand path{'s' if ranges.samples != 1 else ''}"
    month, p = ranges.riskiest_month
    if ranges.probability == 0.0:
        return f"Cash stays at or above {minimum} in every month of all {paths}."
    when = month_label(month)
    if p == 1.0:
        return f"Cash goes below {minimum} in {when} in every one of the {paths}."
    some = ranges.probability
    tail = (
        ""
        if some == p
        else (
            " (in some month of the horizon: every path)"
            if some == 1.0
            else f" (in some month of the horizon: {odds(some)})"
        )
    )
    return f"A {odds(p)} chance cash goes below {minimum} in {when}{tail}."


def lowest_cash_sentence(ranges: PlanRanges, currency: str) -> str:
    """ "Lowest cash £167k to £805k (P10–P90), £633k on the median path; the plan £608k."."""
    row = ranges.horizon.set_index("measure").loc["lowest_cash"]
    return (
        f"Lowest cash {fmt.money(row['p10'], currency)} to {fmt.money(row['p90'], currency)} "
        f"(P10–P90), {fmt.money(row['p50'], currency)} on the median path; the plan "
        f"{fmt.money(row['point'], currency)}."
    )


def assumptions_note(ranges: PlanRanges) -> str:
    """Where the spread comes from, in one line (paths, seed, sources, correlation)."""
    counts = {k: v for k, v in ranges.spread_counts.items() if v}
    parts = [
        f"{n:,} sku-months from {_SPREAD_WORDS[k]}" for k, n in counts.items() if k in _SPREAD_WORDS
    ]
    certain = counts.get(SPREAD_KINDS[0], 0)
    if certain:
        parts.append(f"{certain:,} taken as certain (no band, no track record)")
    spread = "; ".join(parts) if parts else "no sku-month has a demand spread"
    return (
        f"{ranges.samples:,} demand paths (seed {ranges.seed}): {spread}. A family's skus share "
        f"{ranges.family_share:.0%} of their error, carried {ranges.persistence:.0%} into the "
        "next month. Method: docs/METHOD.md §12."
    )


def horizon_table(ranges: PlanRanges, currency: str) -> pd.DataFrame:
    """The horizon's ranges as shown: measure, P10, P50, P90, plan of record (formatted)."""
    rows = ranges.horizon.set_index("measure")
    return pd.DataFrame(
        [
            {
                "measure": label,
                "P10": fmt.money(rows.loc[key, "p10"], currency),
                "P50": fmt.money(rows.loc[key, "p50"], currency),
                "P90": fmt.money(rows.loc[key, "p90"], currency),
                "plan of record": fmt.money(rows.loc[key, "point"], currency),
            }
            for key, label in _HORIZON_LABELS.items()
        ]
    )


def compare_ranges(ranges: dict[str, PlanRanges], currency: str) -> pd.DataFrame:
    """Beside each compared plan: P10–P90 of its lowest cash and horizon revenue, and the chance
    cash goes below the minimum in some month."""
    rows = []
    for name, r in ranges.items():
        h = r.horizon.set_index("measure")
        rows.append(
            {
                "scenario": name,
                "lowest cash P10": fmt.money(h.loc["lowest_cash", "p10"], currency),
                "lowest cash P90": fmt.money(h.loc["lowest_cash", "p90"], currency),
                "revenue P10": fmt.money(h.loc["revenue", "p10"], currency),
                "revenue P90": fmt.money(h.loc["revenue", "p90"], currency),
                "cash below minimum": fmt.pct(r.probability * 100),
            }
        )
    return pd.DataFrame(rows)


def baseline_band(
    result: PlanResult,
    *,
    family: str | None = None,
    sku: str | None = None,
    at_prices: bool = False,
) -> tuple[pd.DataFrame, str]:
    """The statistical baseline's 80 % band over the Demand review's selection: (columns month,
    p10, p90; its label). A family's or the company's band is the sum of its skus' bands — wider
    than the band of the total unless the skus move together — and is labelled so. With
    ``at_prices`` each sku's band is valued at its plan price (as ``demand_series``)."""
    m = result.model
    if sku is not None:
        cols = np.flatnonzero(m.skus == sku)
        label = "Statistical 80 % band"
    else:
        cols = sku_columns(m, family)
        label = "Statistical 80 % band (sum of sku bands)"
    empty = pd.DataFrame(columns=["month", "p10", "p90"])
    if m.baseline_p10 is None or m.baseline_p90 is None or not len(cols):
        return empty, label
    low, high = m.baseline_p10[:, cols], m.baseline_p90[:, cols]
    if at_prices:
        low, high = low * m.unit_price[cols], high * m.unit_price[cols]
    known = ~(np.isnan(low) | np.isnan(high)).all(axis=1)
    if not known.any():
        return empty, label
    frame = pd.DataFrame(
        {
            "month": np.asarray(m.months, dtype=object)[known],
            "p10": np.nansum(low, axis=1)[known],
            "p90": np.nansum(high, axis=1)[known],
        }
    )
    return frame, label
