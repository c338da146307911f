"""What the Demand review shows: history, baseline, each source's forecast and the plan, by month."""

from __future__ import annotations

import numpy as np
import pandas as pd

from sop_core.codes import factorized, positions
from sop_core.views.supply import sku_columns

__all__ = ["demand_series", "SERIES", "find_products", "PRODUCT_CHOICES", "family_demand_units"]

SERIES = ("Actuals", "Statistical", "Sales", "Marketing", "Consensus", "Plan")
# At most this many products are offered at once: a company of 100,000 skus is searched, not
# scrolled (a list that long takes seconds to send and draw).
PRODUCT_CHOICES = 50


def find_products(
    skus: np.ndarray | list[str],
    names: pd.Series,
    text: str = "",
    *,
    limit: int | None = None,
) -> tuple[list[str], int]:
    """The skus whose sku or name contains ``text`` (ignoring case), in the given order.

    Args:
        skus: the skus to search (e.g. a family's), in the order to offer them.
        names: product name by sku (index sku).
        text: what the person typed; blank matches every sku.
        limit: how many to return at most (default ``PRODUCT_CHOICES``).

    Returns:
        ``(first limit matches, how many match in all)``.
    """
    limit = PRODUCT_CHOICES if limit is None else limit
    needle = text.strip().casefold()
    if not needle:
        return [str(s) for s in skus[:limit]], len(skus)
    skus = pd.Series(np.asarray(skus, dtype=object), dtype="str")
    named = skus.map(names).fillna("").astype("str")
    hit = skus.str.casefold().str.contains(needle, regex=False) | named.str.casefold().str.contains(
        needle, regex=False
    )
    found = skus[hit.to_numpy()]
    return found.iloc[:limit].tolist(), int(len(found))


def demand_series(
    data,
    result,
    *,
    family: str | None = None,
    sku: str | None = None,
    history_months: int = 24,
    at_prices: bool = False,
) -> pd.DataFrame:
    """Units by month for a family or a sku (all skus if neither): actuals, then each forecast and the plan.

    With ``at_prices`` each sku's units are valued at its plan price (``unit_price``, before
    levers), so that products of different prices add up: a £3 valve and a £259 radiator are
    not two of the same thing. The column is then ``revenue`` instead of ``units``.

    The forecasts are the cycle's (PlanData.cycle) over the horizon. A source's line is drawn
    only in the months where it covers every chosen sku that has demand then: a sum over the
    skus that happen to have it (one family's consensus set, the others not yet) would look like
    a collapse of the total. The consensus is what drives the plan (``demand_source`` 3). The
    plan is the demand plan D after levers.

    Returns columns month, series, units (or revenue); ``attrs["partial"]`` lists the sources left out of
    some month for want of coverage.
    """
    m = result.model
    skus = m.skus
    cols = np.flatnonzero(skus == sku) if sku is not None else sku_columns(m, family)
    weight = m.unit_price[cols] if at_prices else np.ones(len(cols))
    if len(cols) and cols[-1] - cols[0] + 1 == len(cols):
        cols = slice(int(cols[0]), int(cols[-1]) + 1)  # a family is one block: views, not copies
    parts = []
    # each actual's sku by its position (millions of rows: looked up once per distinct sku)
    si = positions(pd.Index(skus, dtype=object), data.actuals["sku"], month=False)
    inside = np.zeros(len(skus) + 1, dtype=bool)  # the last: a sku not in the plan (-1)
    inside[cols] = True
    # summed by the month's code (kept while the frame lives), not grouped by text: a million
    # rows of one family, every visit
    codes, labels = factorized(data.actuals["month"])
    rows = inside[si] & (codes >= 0)
    if rows.any():
        units = np.nan_to_num(np.asarray(data.actuals["units"], dtype=float)[rows], nan=0.0)
        if at_prices:
            units = units * m.unit_price[si[rows]]
        code = codes[rows]
        sums = np.bincount(code, weights=units, minlength=len(labels))
        seen = np.bincount(code, minlength=len(labels)) > 0
        hist = pd.DataFrame({"month": np.asarray(labels, dtype=object)[seen], "units": sums[seen]})
        hist = hist.sort_values("month").tail(history_months)
        parts.append(hist.assign(series="Actuals"))
    months = np.asarray(m.months, dtype=object)

    active = m.demand_source[:, cols] != 0  # the sku has demand in the month
    partial: list[str] = []

    def add(name: str, grid: np.ndarray) -> None:
        sub = grid[:, cols] * weight
        present = ~np.isnan(sub)
        has = present.any(axis=1) & ~(active & ~present).any(axis=1)
        if (present.any(axis=1) & ~has).any():
            partial.append(name)
        if has.any():
            parts.append(
                pd.DataFrame(
                    {"month": months[has], "units": np.nansum(sub, axis=1)[has], "series": name}
                )
            )

    add("Statistical", m.baseline)
    add("Sales", m.sales)
    add("Marketing", m.marketing)
    add("Consensus", np.where(m.demand_source == 3, m.demand, np.nan))
    parts.append(
        pd.DataFrame({"month": months, "units": result.demand[:, cols] @ weight, "series": "Plan"})
    )
    out = pd.concat(parts, ignore_index=True)[["month", "series", "units"]]
    order = out["series"].map({name: i for i, name in enumerate(SERIES)})
    out = (
        out.assign(order=order)
        .sort_values(["order", "month"])
        .drop(columns="order")
        .reset_index(drop=True)
    )
    if at_prices:
        out = out.rename(columns={"units": "revenue"})
    out.attrs["partial"] = partial
    return out


def family_demand_units(result, family: str | None = None) -> float:
    """The plan's demand over the horizon, in units, of a family (all products if None)."""
    return float(result.demand[:, sku_columns(result.model, family)].sum())
