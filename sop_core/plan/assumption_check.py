"""The plan's assumptions measured against what finance booked: DSO, realised price, days of inventory, material cost.

Each plan-driving assumption that the actuals can measure is tested over the last ``WINDOW``
months before the plan starts that carry the figures it needs (docs/METHOD.md §11):

- **DSO** (``dso_days``): measured ``30 × Σ receivables / Σ revenue`` (financial actuals); assumed:
  the plan's ``dso_days`` in its first month (a lever or a linked assumption of the register
  included; a lever windowed later moves the effect, month by month, not the assumed figure).
- **Realised price** (``realised_price``): measured ``100 × Σ revenue / Σ_s units × unit_price`` (the
  list price of products); assumed 100 % (the plan books every unit at its price).
- **Days of inventory** (``inventory_days``): inventory at the end of a month covers the next
  month's shipments (as the plan's cover target does): measured ``30 × Σ_m inventory_value(m) /
  Σ_m Σ_s units(s, m+1) × unit_cost(s)``; assumed the plan's ``target_cover_days`` weighted by
  the same ``units(s, m+1) × unit_cost(s)``.
- **Material and variable cost** (``material_cost``): measured ``100 × Σ (revenue − gross_margin −
  labour) / Σ_s units × unit_cost`` with labour = Σ planned_fte × cost_per_fte of the headcount
  rows of those months (the test needs them); assumed 100 % of standard.

A test is **flagged** when ``|measured − assumed| > tolerance_pct/100 × |assumed|``: the tolerance
of the register row linked to the assumption, else the settings' ``tolerance_pct``. A flagged
test is priced at what the plan would move if the measured value held (``money_at_stake``): the
receivables (DSO) or the stock (days of inventory) at their largest month, revenue (price) or
cost of goods (material cost) over the horizon.
"""

from __future__ import annotations

import math
import weakref
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from sop_core import fmt
from sop_core.months import add_months, month_label, span_label
from sop_core.plan.model import Model

__all__ = [
    "WINDOW",
    "TEST_COLUMNS",
    "TEST_KEYS",
    "assumption_tests",
    "flagged_tests",
    "untested",
]

WINDOW = 3  # months measured: the last three with the figures the test needs
DAYS = 30.0
_EPS = 1e-9

# key -> (what the register calls it by default, unit, default owner)
TEST_KEYS: dict[str, tuple[str, str, str]] = {
    "dso_days": ("Customer payment terms (DSO)", "days", "Finance"),
    "realised_price": ("Realised price (% of list)", "%", "Sales"),
    "inventory_days": ("Days of inventory", "days", "Operations"),
    "material_cost": ("Material and variable cost (% of standard)", "%", "Operations"),
}
TEST_COLUMNS = [
    "key",
    "assumption",
    "owner",
    "unit",
    "assumed",
    "measured",
    "gap",
    "gap_pct",
    "first_month",
    "last_month",
    "months",
    "tolerance_pct",
    "flagged",
    "money_at_stake",
    "text",
]


@dataclass
class _Measured:
    """What the actuals say, independent of the levers: per test, its months and figures."""

    months: dict[str, list[str]] = field(default_factory=dict)
    value: dict[str, float] = field(default_factory=dict)
    # days of inventory: each sku's weight units(s, m+1) × unit_cost(s) over the window
    cover_weight: np.ndarray | None = None
    why_not: dict[str, str] = field(default_factory=dict)
    # the register's row linked to a test, by key: (name, owner, tolerance_pct or None)
    register: dict[str, tuple[str, str, float | None]] = field(default_factory=dict)


_CACHE: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _numbers(frame: pd.DataFrame, column: str) -> pd.Series:
    if column not in frame:
        return pd.Series(np.nan, index=frame.index, dtype=float)
    return pd.to_numeric(frame[column], errors="coerce").astype(float)


def _units_by_month(model: Model, actuals: pd.DataFrame) -> pd.DataFrame:
    """Actual units, months × the model's skus (0 where a sku has no row in a month with actuals)."""
    if actuals is None or actuals.empty:
        return pd.DataFrame(columns=list(model.skus), dtype=float)
    act = actuals.assign(
        month=actuals["month"].astype(str).str.slice(0, 7),
        sku=actuals["sku"].astype(str),
        units=_numbers(actuals, "units"),
    )
    wide = act.pivot_table(index="month", columns="sku", values="units", aggfunc="sum")
    return wide.reindex(columns=list(model.skus)).fillna(0.0).sort_index()


def _labour_by_month(tables: dict) -> pd.Series:
    """Σ planned_fte × cost_per_fte per month of the headcount table (months with rows only)."""
    hc, res = tables.get("headcount"), tables.get("resources")
    if hc is None or hc.empty or res is None:
        return pd.Series(dtype=float)
    cost = dict(zip(res["resource"].astype(str), _numbers(res, "cost_per_fte"), strict=True))
    frame = hc.assign(
        month=hc["month"].astype(str).str.slice(0, 7),
        cost=_numbers(hc, "planned_fte") * hc["resource"].astype(str).map(cost).astype(float),
    )
    return frame.groupby("month")["cost"].sum(min_count=1)


def _last(months: list[str]) -> list[str]:
    return sorted(months)[-WINDOW:]


def _measure(model: Model) -> _Measured:
    data = model.data
    if data is None:
        return _Measured()
    tables = data.tables
    fa = tables.get("financial_actuals")
    start = model.months[0]
    out = _Measured(why_not={})
    if fa is None or fa.empty:
        for key in TEST_KEYS:
            out.why_not[key] = "no financial actuals imported"
        return out
    fa = fa.assign(month=fa["month"].astype(str).str.slice(0, 7))
    fa = fa[fa["month"] < start].set_index("month").sort_index()
    revenue = _numbers(fa, "revenue")
    units = _units_by_month(model, tables.get("actuals"))
    price = np.asarray(model.unit_price, dtype=float)
    cost = np.asarray(model.unit_material_cost + model.unit_variable_cost, dtype=float)
    list_value = pd.Series(units.to_numpy() @ price, index=units.index)
    cost_value = pd.Series(units.to_numpy() @ cost, index=units.index)

    # DSO: months with revenue and receivables
    recv = _numbers(fa, "receivables")
    ok = revenue.notna() & recv.notna()
    months = _last(list(fa.index[ok]))
    if months and revenue[months].sum() > 0:
        out.months["dso_days"] = months
        out.value["dso_days"] = DAYS * recv[months].sum() / revenue[months].sum()
    else:
        out.why_not["dso_days"] = "no month with both revenue and receivables"

    # realised price: months with revenue and units shipped
    ok = revenue.notna() & revenue.index.isin(list_value.index[list_value > 0])
    months = _last(list(fa.index[ok]))
    if months:
        out.months["realised_price"] = months
        out.value["realised_price"] = 100.0 * revenue[months].sum() / list_value[months].sum()
    else:
        out.why_not["realised_price"] = "no month with both revenue and units shipped"

    # days of inventory: inventory at the end of m against the shipments of m+1
    inv = _numbers(fa, "inventory_value")
    nxt = {m: add_months(m, 1) for m in fa.index}
    ok = inv.notna() & pd.Series(
        [nxt[m] in cost_value.index and cost_value.get(nxt[m], 0.0) > 0 for m in fa.index],
        index=fa.index,
    )
    months = _last(list(fa.index[ok]))
    if months:
        following = [nxt[m] for m in months]
        weight = units.loc[following].to_numpy().sum(axis=0) * cost
        out.months["inventory_days"] = months
        out.value["inventory_days"] = DAYS * inv[months].sum() / weight.sum()
        out.cover_weight = weight
    else:
        out.why_not["inventory_days"] = (
            "no month with inventory value whose next month has units shipped"
        )

    # material and variable cost: revenue − gross margin − labour against standard cost
    gm = _numbers(fa, "gross_margin")
    labour = _labour_by_month(tables)
    ok = (
        revenue.notna()
        & gm.notna()
        & fa.index.isin(labour.index)
        & fa.index.isin(cost_value.index[cost_value > 0])
    )
    months = _last(list(fa.index[ok]))
    if months:
        spent = (revenue[months] - gm[months] - labour.reindex(months)).sum()
        out.months["material_cost"] = months
        out.value["material_cost"] = 100.0 * spent / cost_value[months].sum()
    elif gm.notna().any():
        out.why_not["material_cost"] = (
            "no month with revenue, gross margin, units shipped and headcount rows (labour)"
        )
    else:
        out.why_not["material_cost"] = "no gross margin in the financial actuals"
    return out


def _measured(model: Model) -> _Measured:
    """What the actuals say for this model, measured once (a what-if reuses it)."""
    found = _CACHE.get(model)
    if found is None:
        found = _measure(model)
        found.register = _register_rows(model)
        _CACHE[model] = found
    return found


def _register_rows(model: Model) -> dict[str, tuple[str, str, float | None]]:
    """The register's row linked to a tested assumption (dso_days), by test key."""
    data = model.data
    linked = getattr(data, "linked", None) if data is not None else None
    if linked is None or linked.empty or "link" not in linked:
        return {}
    rows = linked[linked["link"].astype(str) == "dso_days"]
    if rows.empty:
        return {}
    row = rows.iloc[-1]
    tol = row.get("tolerance_pct")
    tol = None if tol is None or pd.isna(tol) else float(tol)
    return {"dso_days": (_text(row.get("name")), _text(row.get("owner")), tol)}


def _text(value: object) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return str(value).strip()


def _effect(key: str, result, assumed: float, measured: float) -> tuple[float, str]:
    """What the plan would move if the measured value held: (money, the sentence)."""
    f = result.finance
    months = list(result.model.months)
    cur = result.model.settings.currency
    if key == "dso_days":
        # month by month against the plan's own terms (a windowed lever may change them)
        dso = np.broadcast_to(np.asarray(result.dso_days, dtype=float), f.revenue.shape)
        extra = f.revenue * (measured - dso) / DAYS
        at = int(np.argmax(np.abs(extra))) if len(extra) else 0
        money = float(abs(extra[at])) if len(extra) else 0.0
        side = "higher" if measured > assumed else "lower"
        return money, (
            f"at {measured:,.0f} days the plan's receivables would be {fmt.money(money, cur)} "
            f"{side} at the peak ({month_label(months[at])}), and cash that much "
            f"{'lower' if side == 'higher' else 'higher'}"
        )
    ratio = measured / assumed - 1.0 if assumed else 0.0
    if key == "inventory_days":
        extra = f.inventory_value * ratio
        at = int(np.argmax(np.abs(extra))) if len(extra) else 0
        money = float(abs(extra[at])) if len(extra) else 0.0
        side = "higher" if ratio > 0 else "lower"
        return money, (
            f"at {measured:,.0f} days the plan's stock would be {fmt.money(money, cur)} {side} "
            f"at its largest month ({month_label(months[at])})"
        )
    if key == "realised_price":
        money = float(abs(f.revenue.sum() * ratio))
        side = "lower" if ratio < 0 else "higher"
        return money, (
            f"at {measured:.1f} % of list the plan's revenue would be {fmt.money(money, cur)} "
            f"{side} over the horizon"
        )
    money = float(abs(f.variable_cogs.sum() * ratio))
    side = "higher" if ratio > 0 else "lower"
    return money, (
        f"at {measured:.1f} % of standard the plan's cost of goods would be "
        f"{fmt.money(money, cur)} {side} over the horizon"
    )


def _assumed(key: str, result, measured: _Measured) -> float:
    if key == "dso_days":
        # the plan's terms as they stand now: a lever with a later window changes later months
        return float(np.asarray(result.dso_days, dtype=float).reshape(-1)[0])
    if key == "inventory_days":
        weight = measured.cover_weight
        cover = np.asarray(result.target_cover_days, dtype=float)
        if cover.ndim == 2:  # (M, S): the plan's cover as it stands now, its first month
            cover = cover[0]
        return float((cover * weight).sum() / weight.sum()) if weight.sum() > 0 else 0.0
    return 100.0


def _tests(model: Model, result, *, flagged_only: bool = False) -> list[dict]:
    """The tests as plain rows (``TEST_COLUMNS``): no pandas here, a what-if runs it per lever."""
    measured = _measured(model)
    settings = model.settings
    rows = []
    for key, (label, unit, owner) in TEST_KEYS.items():
        if key not in measured.value:
            continue
        reg_name, reg_owner, reg_tol = measured.register.get(key, ("", "", None))
        name = reg_name or label
        who = reg_owner or owner
        tol = float(settings.tolerance_pct) if reg_tol is None else reg_tol
        value = float(measured.value[key])
        assumed = _assumed(key, result, measured)
        gap = value - assumed
        gap_pct = gap / abs(assumed) * 100.0 if assumed else (0.0 if gap == 0 else math.inf)
        flagged = abs(gap) > tol / 100.0 * abs(assumed) + _EPS * max(abs(assumed), 1.0)
        if flagged_only and not flagged:
            continue
        months = measured.months[key]
        span = span_label(months[0], months[-1])
        shown = {"days": lambda v: f"{v:,.0f} days", "%": lambda v: f"{v:.1f} %"}[unit]
        text = f"{name}: assumed {shown(assumed)}; measured {shown(value)} over {span}"
        money = 0.0
        if flagged:
            money, effect = _effect(key, result, assumed, value)
            text += f" ({gap_pct:+.0f} %, beyond the {tol:g} % tolerance): {effect}"
        else:
            text += f" (within the {tol:g} % tolerance)"
        rows.append(
            {
                "key": key,
                "assumption": name,
                "owner": who,
                "unit": unit,
                "assumed": assumed,
                "measured": value,
                "gap": gap,
                "gap_pct": gap_pct,
                "first_month": months[0],
                "last_month": months[-1],
                "months": len(months),
                "tolerance_pct": tol,
                "flagged": bool(flagged),
                "money_at_stake": money,
                "text": text,
            }
        )
    return rows


def assumption_tests(model: Model, result) -> pd.DataFrame:
    """Each plan-driving assumption the financial actuals can measure, tested (``TEST_COLUMNS``).

    Args:
        model: the prepared plan (its ``data`` holds the financial actuals, actuals, headcount
            and the register's linked rows).
        result: the computed plan (its DSO, cover days and figures, levers applied).

    Returns:
        One row per test that could be measured, in ``TEST_KEYS`` order; ``text`` says it in
        one sentence ("assumed DSO 52 days; measured 61 days over Aug–Oct 2026").
    """
    return pd.DataFrame(_tests(model, result), columns=TEST_COLUMNS)


def flagged_tests(model: Model, result) -> list[dict]:
    """The tests beyond tolerance, as rows (``TEST_COLUMNS`` keys): what feeds the
    ``assumption_drift`` disagreements."""
    return _tests(model, result, flagged_only=True)


def untested(model: Model) -> dict[str, str]:
    """Why a test could not be measured, by key (e.g. 'no financial actuals imported')."""
    return dict(_measured(model).why_not)
