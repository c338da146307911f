"""What the product review shows: launches and ends in the horizon, like-for-like baselines, stock left."""

from __future__ import annotations

import numpy as np
import pandas as pd

from sop_core import fmt
from sop_core.months import month_label
from sop_core.plan.lifecycle import stock_left

__all__ = [
    "PRODUCT_REVIEW_COLUMNS",
    "STOCK_LEFT_COLUMNS",
    "product_review",
    "product_review_note",
    "like_for_like_label",
    "stock_left_table",
    "run_down",
]

PRODUCT_REVIEW_COLUMNS = [
    "sku",
    "name",
    "family",
    "event",
    "launch_month",
    "end_month",
    "like_for_like",
    "demand_units",
    "revenue",
    "stock_left_units",
    "stock_left_value",
]
STOCK_LEFT_COLUMNS = [
    "month",
    "sku",
    "name",
    "family",
    "units",
    "value",
    "severity",
    "title",
]


def _names(model) -> np.ndarray:
    return np.asarray(model.sku_names, dtype=object)


def product_review(result, family: str | None = None) -> pd.DataFrame:
    """The products that launch or end in the horizon (or ended before it and still hold stock),
    and those planned like-for-like: what they add to the plan and the stock they leave.

    ``demand_units`` is the demand plan over the horizon (levers applied), ``revenue`` the plan
    revenue (shipped × price), ``stock_left_units`` and ``stock_left_value`` the stock on hand at
    the end month valued at cost (``plan.lifecycle.stock_left``: the disagreement's figures).

    Returns columns PRODUCT_REVIEW_COLUMNS, launches first (by month), then ends (by month).
    """
    m = result.model
    life = m.lifecycle
    months = list(m.months)
    n_months = len(months)
    launch_in = np.asarray(
        [x is not None and months[0] <= x <= months[-1] for x in life.launch], dtype=bool
    )
    end_pos = life.end_pos
    left = stock_left(life, months, result.supply.end_inventory, result.finance.inventory_value_sku)
    units_left = np.zeros(len(m.skus))
    value_left = np.zeros(len(m.skus))
    units_left[left.sku], value_left[left.sku] = left.units, left.value
    end_in = (end_pos >= 0) & (end_pos < n_months)
    shown = launch_in | end_in | (units_left > 0) | life.like_for_like
    if family is not None:
        shown &= m.sku_family == list(m.families).index(family)
    cols = np.flatnonzero(shown)
    names = _names(m)
    like = np.where(
        life.like_for_like[cols],
        [
            f"{names[life.like[s]]} ({m.skus[life.like[s]]})"
            + ("" if life.like_share[s] == 1.0 else f" × {life.like_share[s]:g}")
            if life.like[s] >= 0
            else ""
            for s in cols
        ],
        "",
    )
    events = np.where(
        launch_in[cols] & end_in[cols],
        "launch and end",
        np.where(launch_in[cols], "launch", np.where(end_pos[cols] < n_months, "end", "")),
    )
    events = np.where(events == "", "like-for-like", events)
    out = pd.DataFrame(
        {
            "sku": m.skus[cols],
            "name": names[cols],
            "family": np.asarray(m.families, dtype=object)[m.sku_family[cols]],
            "event": events,
            "launch_month": life.launch[cols],
            "end_month": life.end[cols],
            "like_for_like": like.astype(object),
            "demand_units": result.demand[:, cols].sum(axis=0),
            "revenue": result.finance.revenue_sku[:, cols].sum(axis=0),
            "stock_left_units": units_left[cols],
            "stock_left_value": value_left[cols],
        },
        columns=PRODUCT_REVIEW_COLUMNS,
    )
    first = out["event"].map({"launch": 0, "launch and end": 0, "end": 1}).fillna(2)
    when = out["launch_month"].where(first == 0, out["end_month"]).fillna("")
    return (
        out.assign(_first=first, _when=when)
        .sort_values(["_first", "_when", "sku"], kind="stable")
        .drop(columns=["_first", "_when"])
        .reset_index(drop=True)
    )


def product_review_note(review: pd.DataFrame, currency: str) -> str:
    """One sentence over the product review: launches and their volume, ends, stock at risk."""
    if review.empty:
        return "No product launches or ends in the horizon."
    launches = review[review["event"].isin(["launch", "launch and end"])]
    ends = review[review["event"].isin(["end", "launch and end"])]
    parts = []
    if len(launches):
        parts.append(
            f"{len(launches)} launch{'es' if len(launches) != 1 else ''}: "
            f"{fmt.units(float(launches['demand_units'].sum()))} units, "
            f"{fmt.money(float(launches['revenue'].sum()), currency)} of revenue in the horizon"
        )
    if len(ends):
        at_risk = float(ends["stock_left_value"].sum())
        parts.append(
            f"{len(ends)} end{'s' if len(ends) != 1 else ''}: "
            f"{fmt.units(float(ends['stock_left_units'].sum()))} units of stock left, "
            f"{fmt.money(at_risk, currency)} at cost at risk"
        )
    return "; ".join(parts) + "."


def like_for_like_label(model, sku: str | None) -> str | None:
    """ "like-for-like: NAME" for a sku planned on another's baseline, else None."""
    if sku is None:
        return None
    at = np.flatnonzero(model.skus == sku)
    if not len(at):
        return None
    s = int(at[0])
    life = model.lifecycle
    if not life.like_for_like[s]:
        return None
    label = f"like-for-like: {_names(model)[life.like[s]]}"
    if life.like_share[s] != 1.0:
        label += f" × {life.like_share[s]:g}"
    if life.launch[s] is not None:
        label += f" from {month_label(life.launch[s])}"
    return label


def stock_left_table(result, family: str | None = None) -> pd.DataFrame:
    """The stock-left-at-end-of-life disagreements (the rows Alignment and the board pack show),
    one per product, largest value first, with their root cause's sentence.

    Returns columns STOCK_LEFT_COLUMNS.
    """
    dis = result.disagreements
    rows = dis[dis["type"] == "stock_left_end_of_life"]
    if family is not None:
        rows = rows[rows["family"] == family]
    if rows.empty:
        return pd.DataFrame(columns=STOCK_LEFT_COLUMNS)
    titles = result.root_causes.set_index("cause")["title"]
    return pd.DataFrame(
        {
            "month": rows["month"].to_numpy(),
            "sku": rows["cause"].str.partition("|")[2].to_numpy(),
            "name": rows["entity"].to_numpy(),
            "family": rows["family"].to_numpy(),
            "units": rows["figure_a"].astype(float).to_numpy(),
            "value": rows["money_at_stake"].astype(float).to_numpy(),
            "severity": rows["severity"].to_numpy(),
            "title": rows["cause"].map(titles).to_numpy(),
        },
        columns=STOCK_LEFT_COLUMNS,
    ).reset_index(drop=True)


def run_down(result, sku: str) -> pd.DataFrame:
    """One product's stock month by month: end inventory, demand and production, and whether the
    month is past its end (the run-down to its end and the stock left after it).

    Returns columns month, end_inventory_units, demand_units, production_units, phase
    ("on sale", "before launch" or "after the end").
    """
    m = result.model
    at = np.flatnonzero(m.skus == sku)
    if not len(at):
        raise KeyError(sku)
    s = int(at[0])
    months = np.asarray(m.months, dtype=object)
    life = m.lifecycle
    phase = np.where(life.active[:, s], "on sale", "after the end")
    if life.launch[s] is not None:
        phase = np.where(months < life.launch[s], "before launch", phase)
    return pd.DataFrame(
        {
            "month": months,
            "end_inventory_units": result.supply.end_inventory[:, s],
            "demand_units": result.demand[:, s],
            "production_units": result.supply.production[:, s],
            "phase": phase,
        }
    )
