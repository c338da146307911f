"""What has happened: actual shipments valued at list price, by month and family."""

from __future__ import annotations

import pandas as pd

__all__ = ["actuals_by_family", "trailing_revenue"]


def actuals_by_family(products: pd.DataFrame, actuals: pd.DataFrame) -> pd.DataFrame:
    """Units shipped and their value at today's unit price, per month and family.

    Returns columns month, family, units, revenue (sorted by month, family).
    """
    cols = ["month", "family", "units", "revenue"]
    if actuals.empty or products.empty:
        return pd.DataFrame(columns=cols)
    joined = actuals.merge(products[["sku", "family", "unit_price"]], on="sku", how="inner")
    joined = joined.assign(revenue=joined["units"] * joined["unit_price"])
    out = joined.groupby(["month", "family"], as_index=False)[["units", "revenue"]].sum()
    return out[cols].sort_values(["month", "family"]).reset_index(drop=True)


def trailing_revenue(products: pd.DataFrame, actuals: pd.DataFrame, months: int = 12) -> dict:
    """Revenue of the last ``months`` months of actuals and of the ``months`` before them.

    Returns a dict: revenue, previous (None if the history is shorter), first_month, last_month.
    """
    by = actuals_by_family(products, actuals)
    if by.empty:
        return {"revenue": 0.0, "previous": None, "first_month": None, "last_month": None}
    per_month = by.groupby("month")["revenue"].sum().sort_index()
    last = per_month.iloc[-months:]
    prev = per_month.iloc[-2 * months : -months] if len(per_month) >= 2 * months else None
    return {
        "revenue": float(last.sum()),
        "previous": None if prev is None else float(prev.sum()),
        "first_month": last.index[0],
        "last_month": last.index[-1],
    }
