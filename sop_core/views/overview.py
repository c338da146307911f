"""What has happened: actual shipments valued at list price, by month and family."""

from __future__ import annotations

import numpy as np
import pandas as pd

from sop_core.codes import positions

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


def _revenue_by_month(products: pd.DataFrame, actuals: pd.DataFrame) -> pd.Series:
    """Revenue at today's unit price by month (sorted), of the actuals of products with a
    family: ``actuals_by_family``'s revenue summed over families, by codes rather than a merge
    (millions of rows for a large company)."""
    skus = pd.Index(products["sku"].astype(str))
    if not skus.is_unique:  # not a contract products table: as the merge counts it
        by = actuals_by_family(products, actuals)
        return by.groupby("month")["revenue"].sum().sort_index()
    si = positions(skus, actuals["sku"], month=False)
    has_family = products["family"].notna().to_numpy(dtype=bool)
    price = pd.to_numeric(products["unit_price"], errors="coerce").to_numpy(dtype=float)
    mi, month_values = pd.factorize(actuals["month"], use_na_sentinel=True)
    rows = (si >= 0) & (mi >= 0)
    rows[rows] = has_family[si[rows]]
    units = pd.to_numeric(actuals["units"], errors="coerce").to_numpy(dtype=float)[rows]
    revenue = np.nan_to_num(units * price[si[rows]])  # a missing figure adds nothing, as in a sum
    n = len(month_values)
    total = np.bincount(mi[rows], weights=revenue, minlength=n)
    seen = np.bincount(mi[rows], minlength=n) > 0
    return pd.Series(total[seen], index=pd.Index(month_values)[seen]).sort_index()


def trailing_revenue(products: pd.DataFrame, actuals: pd.DataFrame, months: int = 12) -> dict:
    """Revenue of the last ``months`` months of actuals and of the ``months`` before them.

    Returns a dict: revenue, previous (None if the history is shorter), first_month, last_month.
    """
    if actuals.empty or products.empty:
        return {"revenue": 0.0, "previous": None, "first_month": None, "last_month": None}
    per_month = _revenue_by_month(products, actuals)
    if per_month.empty:
        return {"revenue": 0.0, "previous": None, "first_month": None, "last_month": None}
    last = per_month.iloc[-months:]
    prev = per_month.iloc[-2 * months : -months] if len(per_month) >= 2 * months else None
    return {
        "revenue": float(last.sum()),
        "previous": None if prev is None else float(prev.sum()),
        "first_month": last.index[0],
        "last_month": last.index[-1],
    }
