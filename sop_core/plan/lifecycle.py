"""Product lifecycle in the plan: launch and end months, like-for-like baselines, the stock left at an end.

PRODUCT.md "Product lifecycle": a product with ``launch_month`` has no demand before it, one
with ``end_month`` none after it, and a product without history but with a ``like_sku`` takes
that sku's statistical baseline (× ``like_share``, default 1) from its launch month on. The
stock still on hand when a product ends stays in inventory, valued at cost, and is a
disagreement (``plan.disagreements``, type ``stock_left_end_of_life``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = ["Lifecycle", "lifecycle_of", "StockLeft", "stock_left", "MIN_STOCK_LEFT"]

# Units: less than half a unit left when a product ends is rounding, not stock.
MIN_STOCK_LEFT = 0.5


@dataclass(frozen=True, eq=False)
class Lifecycle:
    """Each sku's launch and end, its like sku, and the months it has demand (skus in model order)."""

    launch: np.ndarray  # (S,) object: YYYY-MM, or None = on sale from before the horizon
    end: np.ndarray  # (S,) object: YYYY-MM, or None = no end
    like: np.ndarray  # (S,) intp: index of the like sku, -1 = none
    like_share: np.ndarray  # (S,) float: 1 where blank
    like_for_like: np.ndarray  # (S,) bool: no history and a like sku, so its baseline is taken
    active: np.ndarray  # (M, S) bool: the months of the horizon with demand
    # (S,) the end month's position in the horizon: −1 for an end before it, M for one after
    # it or none
    end_pos: np.ndarray

    @property
    def restricts(self) -> bool:
        """True when some sku-month of the horizon has no demand because of a launch or an end."""
        return not bool(self.active.all())

    @property
    def ends_in_last_month(self) -> np.ndarray:
        """(S,) bool: the end month is the horizon's last (no cover to hold after it)."""
        return self.end_pos == len(self.active) - 1


def _number(month: str) -> int:
    return int(month[:4]) * 12 + int(month[5:7]) - 1


def _months(products: pd.DataFrame, column: str) -> np.ndarray:
    if column not in products:
        return np.full(len(products), None, dtype=object)
    values = products[column]
    text = values.astype("str").str.strip().str.slice(0, 7)
    blank = values.isna() | text.isin(["", "nan", "None", "NaT"])
    return np.where(blank.to_numpy(), None, text.to_numpy(dtype=object)).astype(object)


def lifecycle_of(products: pd.DataFrame, months: list[str], actuals: pd.DataFrame) -> Lifecycle:
    """The lifecycle arrays of ``products`` (one row per sku, in the model's sku order).

    A sku has history when its actuals add up to more than 0 units; a like sku outside the
    product list is ignored (the importer refuses one, but a frozen or hand-made frame may hold
    it). The like-for-like is one level deep: a like sku that is itself new lends its own fitted
    baseline (zeros without history), not its like sku's.
    """
    skus = products["sku"].astype("str").to_numpy(dtype=object)
    n_skus = len(skus)
    launch, end = _months(products, "launch_month"), _months(products, "end_month")
    like = np.full(n_skus, -1, dtype=np.intp)
    if "like_sku" in products:
        named = products["like_sku"]
        given = named.notna().to_numpy() & (named.astype("str").str.strip() != "").to_numpy()
        found = pd.Index(skus).get_indexer(named.astype("str").str.strip())
        like = np.where(given & (found >= 0) & (found != np.arange(n_skus)), found, -1)
    share = np.ones(n_skus)
    if "like_share" in products:
        raw = pd.to_numeric(products["like_share"], errors="coerce").to_numpy(dtype=float)
        share = np.where(np.isnan(raw), 1.0, raw)
    history = np.zeros(n_skus, dtype=bool)
    if (like >= 0).any() and actuals is not None and not actuals.empty:
        units = pd.to_numeric(actuals["units"], errors="coerce").fillna(0.0)
        sold = units.groupby(actuals["sku"].astype("str")).sum()
        history = pd.Index(skus).isin(sold.index[sold > 0])
    n_months = len(months)
    active = np.ones((n_months, n_skus), dtype=bool)
    end_pos = np.full(n_skus, n_months, dtype=np.intp)
    if n_months and (any(m is not None for m in launch) or any(m is not None for m in end)):
        # month numbers, not strings: one comparison per sku-month of a large company
        horizon = np.asarray([_number(m) for m in months], dtype=np.int64)
        first = np.asarray([-1 if m is None else _number(m) for m in launch], dtype=np.int64)
        last = np.asarray([1 << 40 if m is None else _number(m) for m in end], dtype=np.int64)
        active = (horizon[:, None] >= first[None, :]) & (horizon[:, None] <= last[None, :])
        # months are consecutive: an end inside the horizon is its offset from the first month
        end_pos = np.where(last < horizon[0], -1, np.minimum(last - horizon[0], n_months))
        end_pos = end_pos.astype(np.intp)
    return Lifecycle(
        launch=launch,
        end=end,
        like=like.astype(np.intp),
        like_share=share,
        like_for_like=(like >= 0) & ~history,
        active=active,
        end_pos=end_pos,
    )


@dataclass(frozen=True, eq=False)
class StockLeft:
    """The stock each ended product leaves: one entry per sku with at least MIN_STOCK_LEFT units.

    ``month`` is the row's month in the horizon: the end month, or the first month for a product
    that ended before the horizon (its whole stock on hand is left). ``units`` is the end
    inventory of that month and ``value`` its inventory value (units × the scenario's unit cost,
    material + variable): the same figure the plan's inventory value holds.
    """

    sku: np.ndarray  # (K,) sku index
    month: np.ndarray  # (K,) month index
    units: np.ndarray  # (K,)
    value: np.ndarray  # (K,)
    ended_before: np.ndarray  # (K,) bool: ended before the horizon

    def __len__(self) -> int:
        return len(self.sku)

    def held(self, values: np.ndarray) -> np.ndarray:
        """``values`` (M, S) kept in the months from each entry's month on, 0 elsewhere: e.g. the
        inventory value held by products past their end."""
        out = np.zeros_like(values, dtype=float)
        for s, m in zip(self.sku, self.month, strict=True):
            out[m:, s] = values[m:, s]
        return out


def stock_left(
    lifecycle: Lifecycle,
    months: tuple[str, ...] | list[str],
    end_inventory: np.ndarray,
    inventory_value: np.ndarray,
) -> StockLeft:
    """The stock left by the products whose end falls in (or before) the horizon.

    Args:
        lifecycle: the model's lifecycle.
        months: the horizon.
        end_inventory: ``(M, S)`` the supply plan's end inventory.
        inventory_value: ``(M, S)`` end inventory × unit cost (``Finance.inventory_value_sku``).
    """
    pos = lifecycle.end_pos
    ended = pos < len(months)
    sku = np.flatnonzero(ended)
    month = np.maximum(pos[sku], 0)
    units = end_inventory[month, sku] if len(sku) else np.zeros(0)
    keep = units >= MIN_STOCK_LEFT
    sku, month = sku[keep], month[keep]
    return StockLeft(
        sku=sku,
        month=month,
        units=np.asarray(units[keep], dtype=float),
        value=np.asarray(inventory_value[month, sku], dtype=float),
        ended_before=pos[sku] < 0,
    )
