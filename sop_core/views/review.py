"""The performance review: each locked plan against what happened, the assumptions tested, decisions against outcomes.

One computation for the Performance review page, the Executive summary's "Last month against
the plan", the Decisions page, the board pack and ``python -m sop_core review`` (formulas in
docs/METHOD.md §11):

- ``review(store, cycle)``: for each month of a locked cycle's plan that has actuals, plan,
  actual and variance (actual − plan) of shipped units and of what finance booked, and the
  revenue variance split into a volume effect and a price/mix effect that add up to it;
- ``review_history(store)``: every locked plan's revenue error by lag: is the plan getting more
  accurate?
- ``assumption_tests_for(store, record)``: each plan-driving assumption measured over the last
  three months (``plan.assumption_check``), with demand against the consensus and sales forecast;
- ``decision_outcomes(store)``: each decision with an expected effect, its plan, expected and
  actual figures and its verdict (``meeting.outcomes``).

The locked plan is the plan of record (``meeting.record``): recomputed from the inputs frozen at
the lock, so a later import changes the actuals side only.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from sop_core import fmt
from sop_core.errors import SopError
from sop_core.meeting.decisions import OUTCOME_MEASURES
from sop_core.meeting.outcomes import (
    FINANCIAL_MEASURES,
    VERDICT_LABELS,
    actual_measures,
    plan_measures,
    record_verdict,
    stored_verdicts,
    verdict,
)
from sop_core.meeting.record import PlanOfRecord, plan_of_record
from sop_core.meeting.versions import list_versions
from sop_core.months import month_diff, month_label, span_label
from sop_core.plan.assumption_check import TEST_COLUMNS, assumption_tests
from sop_core.views.narrative import Say, Sentence

__all__ = [
    "REVIEW_COLUMNS",
    "REVIEW_MEASURES",
    "MEASURE_LABELS",
    "FAMILY_COLUMNS",
    "HISTORY_COLUMNS",
    "OUTCOME_COLUMNS",
    "NO_PLAN",
    "LastMonth",
    "locked_cycles",
    "locked_record",
    "review",
    "review_of",
    "review_by_family",
    "review_by_family_of",
    "unplanned_months",
    "review_history",
    "accuracy_by_cycle",
    "accuracy_sentence",
    "last_month_against_plan",
    "assumption_tests_for",
    "demand_tests",
    "decision_outcomes",
    "show_measure",
    "review_table",
    "tests_table",
    "outcomes_table",
]

REVIEW_COLUMNS = ["month", "measure", "plan", "actual", "variance"]
VOLUME, PRICE_MIX = "revenue_volume_effect", "revenue_price_mix_effect"
# The order a month's rows come in: units, revenue and its split, then the rest of finance.
# (FINANCIAL_MEASURES starts with revenue; its split follows it here)
REVIEW_MEASURES = ("shipped_units", "revenue", VOLUME, PRICE_MIX, *FINANCIAL_MEASURES[1:])
MEASURE_LABELS = {
    **{k: v[0] for k, v in OUTCOME_MEASURES.items()},
    VOLUME: "Revenue: volume effect",
    PRICE_MIX: "Revenue: price and mix effect",
}
FAMILY_COLUMNS = [
    "month",
    "family",
    "plan_units",
    "actual_units",
    "units_variance",
    "plan_revenue",
    "actual_units_at_plan_price",
    "volume_effect",
]
HISTORY_COLUMNS = [
    "cycle",
    "month",
    "lag",
    "measure",
    "plan",
    "actual",
    "variance",
    "error_pct",
]
OUTCOME_COLUMNS = [
    "decision_key",
    "taken_in",
    "decision",
    "owner",
    "status",
    "measure",
    "month",
    "scenario",
    "plan",
    "expected",
    "actual",
    "verdict",
    "judged_at",
    "text",
]
NO_PLAN = "no plan to compare"
# How a caller gets a cycle's plan of record (the app passes its cached one); default: computed.
PlanOf = Callable[[str], PlanOfRecord]
SQL_EXPECTED = """
SELECT id, cycle, coalesce(origin_cycle, cycle) AS taken_in, coalesce(origin_id, id) AS decision_key,
    decision, owner, status, expected_measure, expected_value, expected_month, expected_scenario
FROM decisions WHERE expected_measure IS NOT NULL ORDER BY cycle, id
"""


# --- which plans can be reviewed ----------------------------------------------------------------


def locked_cycles(store) -> list[str]:
    """The locked cycles, oldest first."""
    return [str(c) for c in list_versions(store)["cycle"]]


def _plans(store, plan_of: PlanOf | None) -> PlanOf:
    return plan_of or (lambda cycle: plan_of_record(store, cycle))


def locked_record(store, cycle: str, plan_of: PlanOf | None = None) -> PlanOfRecord:
    """The locked plan of ``cycle`` (the figures frozen at the lock).

    Args:
        plan_of: ``cycle -> PlanOfRecord`` (the app's cached one); default ``plan_of_record``.

    Raises:
        SopError: the cycle is not locked; the message lists the locked cycles.
    """
    locked = locked_cycles(store)
    if cycle not in locked:
        if not locked:
            raise SopError(
                f"Cycle {cycle} is not locked, and no cycle is locked yet: a review compares a "
                "locked plan with what happened (lock a cycle on the S&OP cycle page)."
            )
        raise SopError(
            f"Cycle {cycle} is not locked: a review compares a locked plan with what happened. "
            f"Locked cycles: {', '.join(locked)}."
        )
    return _plans(store, plan_of)(cycle)


def _actuals(store) -> tuple[pd.DataFrame, pd.DataFrame]:
    return store.read_table("actuals"), store.read_table("financial_actuals")


# --- plan against actual --------------------------------------------------------------------------


def _units_grid(result, actuals: pd.DataFrame, months: list[str]) -> np.ndarray:
    """Actual units ``(len(months), S)`` on the plan's skus (0 where a sku has no row)."""
    skus = pd.Index([str(s) for s in result.model.skus])
    out = np.zeros((len(months), len(skus)))
    if actuals is None or actuals.empty or not months:
        return out
    mi = pd.Index(months).get_indexer(actuals["month"].astype(str).str.slice(0, 7))
    si = skus.get_indexer(actuals["sku"].astype(str))
    units = pd.to_numeric(actuals["units"], errors="coerce").to_numpy(dtype=float)
    ok = (mi >= 0) & (si >= 0) & ~np.isnan(units)
    np.add.at(out, (mi[ok], si[ok]), units[ok])
    return out


def _planned_prices(result) -> np.ndarray:
    """``(M, S)`` unit prices of the plan (after its levers)."""
    price = np.asarray(result.unit_price, dtype=float)
    n_months = len(result.model.months)
    return price if price.ndim == 2 else np.tile(price, (n_months, 1))


def review_of(result, actuals: pd.DataFrame, financial: pd.DataFrame) -> pd.DataFrame:
    """A plan (``PlanResult``) against the actuals: ``REVIEW_COLUMNS``, months in order.

    A plan month with actuals (an ``actuals`` row or a ``financial_actuals`` row) gets a
    ``shipped_units`` row when units were imported for it, a row per financial measure finance
    booked (blank = not known: no row), and, with both the units and the revenue, the two
    effects (their ``plan`` and ``actual`` empty, the effect in ``variance``):

    - ``revenue_volume_effect`` = Σ_s (actual units − planned shipped units) × planned unit price;
    - ``revenue_price_mix_effect`` = actual revenue − Σ_s actual units × planned unit price.

    Their sum is the revenue variance. Units of skus the plan does not know count in
    ``shipped_units`` and land in the price/mix effect (they have no planned price).
    """
    plan = plan_measures(result).set_index("month")
    actual = actual_measures(actuals, financial).set_index("month")
    months = [m for m in plan.index if m in actual.index]
    units_months = set()
    if actuals is not None and len(actuals):
        units_months = set(actuals["month"].astype(str).str.slice(0, 7))
    grid = _units_grid(result, actuals, months)
    plan_index = pd.Index(list(plan.index))
    prices = _planned_prices(result)
    shipped = np.asarray(result.supply.shipped, dtype=float)
    rows = []
    for k, month in enumerate(months):
        p, a = plan.loc[month], actual.loc[month]
        mi = plan_index.get_loc(month)
        for measure in ("shipped_units", *FINANCIAL_MEASURES):
            if measure == "shipped_units" and month not in units_months:
                continue
            value = a[measure]
            if pd.isna(value):
                continue
            rows.append(
                (month, measure, float(p[measure]), float(value), float(value - p[measure]))
            )
            if measure == "revenue" and month in units_months:
                at_plan_price = float(grid[k] @ prices[mi])
                volume = float((grid[k] - shipped[mi]) @ prices[mi])
                rows.append((month, VOLUME, np.nan, np.nan, volume))
                rows.append((month, PRICE_MIX, np.nan, np.nan, float(value) - at_plan_price))
    frame = pd.DataFrame(rows, columns=REVIEW_COLUMNS)
    order = {m: i for i, m in enumerate(REVIEW_MEASURES)}
    frame["_o"] = frame["measure"].map(order)
    return (
        frame.sort_values(["month", "_o"], kind="stable").drop(columns="_o").reset_index(drop=True)
    )


def review(store, cycle: str, plan_of: PlanOf | None = None) -> pd.DataFrame:
    """A locked cycle's plan against the actuals as stored now (``review_of``).

    Raises:
        SopError: the cycle is not locked (the locked ones are listed).
    """
    record = locked_record(store, cycle, plan_of)
    return review_of(record.result, *_actuals(store))


def review_by_family_of(result, actuals: pd.DataFrame) -> pd.DataFrame:
    """Units and the volume effect by family, for each plan month with units imported
    (``FAMILY_COLUMNS``): finance books revenue for the company only, so the price/mix effect
    is not split by family."""
    if actuals is None or actuals.empty:
        return pd.DataFrame(columns=FAMILY_COLUMNS)
    have = set(actuals["month"].astype(str).str.slice(0, 7))
    model = result.model
    months = [m for m in model.months if m in have]
    if not months:
        return pd.DataFrame(columns=FAMILY_COLUMNS)
    index = pd.Index(list(model.months))
    rows_at = index.get_indexer(months)
    grid = _units_grid(result, actuals, months)
    prices = _planned_prices(result)[rows_at]
    shipped = np.asarray(result.supply.shipped, dtype=float)[rows_at]
    by = model.family_sum
    plan_units, actual_units = by(shipped), by(grid)
    plan_rev, actual_rev = by(shipped * prices), by(grid * prices)
    out = []
    for k, month in enumerate(months):
        for f, family in enumerate(model.families):
            out.append(
                (
                    month,
                    family,
                    plan_units[k, f],
                    actual_units[k, f],
                    actual_units[k, f] - plan_units[k, f],
                    plan_rev[k, f],
                    actual_rev[k, f],
                    actual_rev[k, f] - plan_rev[k, f],
                )
            )
    return pd.DataFrame(out, columns=FAMILY_COLUMNS)


def review_by_family(store, cycle: str, plan_of: PlanOf | None = None) -> pd.DataFrame:
    """``review_by_family_of`` for a locked cycle.

    Raises:
        SopError: the cycle is not locked.
    """
    record = locked_record(store, cycle, plan_of)
    return review_by_family_of(record.result, store.read_table("actuals"))


def unplanned_months(store, plan_of: PlanOf | None = None) -> pd.DataFrame:
    """Months finance booked that no locked plan covers: kept, shown as "no plan to compare".

    Returns:
        ``month``, each financial measure, ``status`` (``NO_PLAN``).
    """
    financial = store.read_table("financial_actuals")
    plans = _plans(store, plan_of)
    covered: set[str] = set()
    for cycle in locked_cycles(store):
        covered |= set(plans(cycle).model.months)
    frame = financial[~financial["month"].isin(covered)].copy()
    frame["status"] = NO_PLAN
    return frame.reset_index(drop=True)


# --- is the plan getting more accurate? -----------------------------------------------------------


def review_history(store, measure: str = "revenue", plan_of: PlanOf | None = None) -> pd.DataFrame:
    """Every locked plan against the actuals of ``measure`` (revenue, or shipped_units when no
    revenue was booked): ``HISTORY_COLUMNS``; lag 1 is the cycle's own month."""
    if measure not in OUTCOME_MEASURES:
        raise SopError(
            f'Unknown measure "{measure}" (expected one of {", ".join(OUTCOME_MEASURES)}).'
        )
    actuals, financial = _actuals(store)
    plans = _plans(store, plan_of)
    rows = []
    for cycle in locked_cycles(store):
        frame = review_of(plans(cycle).result, actuals, financial)
        frame = frame[frame["measure"] == measure]
        for r in frame.itertuples(index=False):
            rows.append(
                (
                    cycle,
                    r.month,
                    month_diff(r.month, cycle) + 1,
                    measure,
                    r.plan,
                    r.actual,
                    r.variance,
                    (r.plan - r.actual) / abs(r.actual) * 100.0 if r.actual else np.nan,
                )
            )
    return pd.DataFrame(rows, columns=HISTORY_COLUMNS)


def accuracy_by_cycle(history: pd.DataFrame, max_lag: int = 3) -> pd.DataFrame:
    """Each locked cycle's error at lags 1..max_lag (plan − actual, % of actual) and its mean
    absolute error over those lags: ``cycle, months, lag_1 … lag_N, mean_abs_error_pct``."""
    lags = [f"lag_{k}" for k in range(1, max_lag + 1)]
    cols = ["cycle", "months", *lags, "mean_abs_error_pct"]
    if history.empty:
        return pd.DataFrame(columns=cols)
    scored = history[history["lag"].between(1, max_lag)]
    rows = []
    for cycle, group in scored.groupby("cycle", sort=True):
        by_lag = dict(zip(group["lag"], group["error_pct"], strict=True))
        rows.append(
            {
                "cycle": cycle,
                "months": len(group),
                **{f"lag_{k}": by_lag.get(k, np.nan) for k in range(1, max_lag + 1)},
                "mean_abs_error_pct": float(group["error_pct"].abs().mean()),
            }
        )
    return pd.DataFrame(rows, columns=cols)


def accuracy_sentence(history: pd.DataFrame, measure: str = "revenue") -> str:
    """Two sentences: is the plan getting more accurate (each cycle's error in its own month,
    the first locked cycle against the last), and which way it misses (months above actual)."""
    label = MEASURE_LABELS.get(measure, measure).lower()
    accuracy = accuracy_by_cycle(history)
    scored = accuracy.dropna(subset=["lag_1"])
    if scored.empty:
        return "No locked plan has actuals for its own month yet."
    over = int((history["error_pct"] > 0).sum())
    side = (
        f" The plan was above the actual in {over} of the {len(history)} months scored."
        if len(history) > 1
        else ""
    )
    if len(scored) == 1:
        row = scored.iloc[0]
        return (
            f"One locked plan scored so far: cycle {row['cycle']} missed its own month's {label} "
            f"by {fmt.pct(row['lag_1'], signed=True)}. Lock more cycles to see a trend.{side}"
        )
    first, last = scored.iloc[0], scored.iloc[-1]
    a, b = abs(first["lag_1"]), abs(last["lag_1"])
    trend = (
        "the plan is getting more accurate"
        if b < a - 0.05
        else "the plan is getting less accurate"
        if b > a + 0.05
        else "no change in accuracy"
    )
    return (
        f"{label.capitalize()} in the cycle's own month: cycle {first['cycle']} missed by "
        f"{fmt.pct(first['lag_1'], signed=True)}, cycle {last['cycle']} by "
        f"{fmt.pct(last['lag_1'], signed=True)} (plan − actual, % of actual): {trend}.{side}"
    )


# --- last month, for the Executive summary ----------------------------------------------------------


@dataclass(frozen=True)
class LastMonth:
    """The latest month with actuals against the plan locked closest before it (or why not)."""

    month: str | None
    cycle: str | None
    rows: pd.DataFrame  # REVIEW_COLUMNS of that month
    sentence: str
    currency: str = "GBP"
    says: Sentence | None = None  # the sentence with the figures it states (the board paper)

    @property
    def ready(self) -> bool:
        return self.cycle is not None and not self.rows.empty

    def figure(self, measure: str) -> tuple[float, float, float] | None:
        """(plan, actual, variance) of a measure, None when not booked."""
        found = self.rows[self.rows["measure"] == measure]
        if found.empty:
            return None
        r = found.iloc[0]
        return float(r["plan"]), float(r["actual"]), float(r["variance"])

    def effect(self, measure: str) -> float | None:
        found = self.rows[self.rows["measure"] == measure]
        return None if found.empty else float(found.iloc[0]["variance"])


def last_month_against_plan(
    store,
    plan_of: PlanOf | None = None,
    *,
    before: str | None = None,
    actuals: pd.DataFrame | None = None,
    financial: pd.DataFrame | None = None,
) -> LastMonth:
    """The latest month with actuals that a locked plan covers, against the latest such plan
    (the one locked closest before the month: cycle 2026-10 for Oct 2026).

    Args:
        before: only months before this one (the board paper of cycle C looks at the months
            before C, so it says the same whenever it is rebuilt).
        actuals, financial: the actuals to use instead of the store's (a locked cycle's paper
            uses those frozen with its plan).
    """
    currency = store.settings().currency
    empty = pd.DataFrame(columns=REVIEW_COLUMNS)
    locked = locked_cycles(store)
    if before is not None:
        locked = [c for c in locked if c < before]
    if not locked:
        return LastMonth(
            None,
            None,
            empty,
            "No plan has been locked yet: lock the cycle in the executive meeting (S&OP cycle "
            "page), and next month this shows what happened against it.",
            currency,
        )
    if actuals is None or financial is None:
        stored_actuals, stored_financial = _actuals(store)
        actuals = stored_actuals if actuals is None else actuals
        financial = stored_financial if financial is None else financial
    known = actual_measures(actuals, financial)
    if before is not None and len(known):
        known = known[known["month"] < before]
    if known.empty:
        return LastMonth(
            None,
            None,
            empty,
            "No actuals yet: import actuals (units) and financial_actuals on the Data page.",
            currency,
        )
    for month in sorted(known["month"], reverse=True):
        for cycle in reversed(locked):
            if cycle > month:
                continue
            record = _plans(store, plan_of)(cycle)
            if month not in record.model.months:
                continue
            rows = review_of(record.result, actuals, financial)
            rows = rows[rows["month"] == month].reset_index(drop=True)
            if rows.empty:
                continue
            says = _last_sentence(month, cycle, rows, currency)
            return LastMonth(month, cycle, rows, says.text, currency, says)
    return LastMonth(
        None,
        None,
        empty,
        f"The actuals ({span_label(known['month'].min(), known['month'].max())}) fall outside "
        f"every locked plan ({', '.join(locked)}): no plan to compare.",
        currency,
    )


def _last_sentence(month: str, cycle: str, rows: pd.DataFrame, currency: str) -> Sentence:
    def get(measure):
        found = rows[rows["measure"] == measure]
        return None if found.empty else found.iloc[0]

    say = Say(currency)

    def show(measure: str, column: str, value: float, signed: bool = False) -> str:
        text = show_measure(measure, value, currency, signed=signed)
        return say.shown(f"review.{month}.{measure}.{column}", value, text)

    head = f"{month_label(month)} against the plan locked in cycle {cycle}"
    revenue = get("revenue")
    if revenue is not None:
        pct = revenue["variance"] / abs(revenue["plan"]) * 100.0 if revenue["plan"] else None
        side = "above" if revenue["variance"] >= 0 else "below"
        size = (
            say.pct(f"review.{month}.revenue.variance_pct", pct, abs_value=True)
            if pct is not None
            else "—"
        )
        text = (
            f"{head}: revenue {show('revenue', 'actual', revenue['actual'])}, "
            f"{show('revenue', 'abs_variance', abs(revenue['variance']))} "
            f"({size}) {side} plan"
        )
        volume, mix = get(VOLUME), get(PRICE_MIX)
        if volume is not None:
            text += (
                f" (volume {show(VOLUME, 'variance', volume['variance'], True)}, price and mix "
                f"{show(PRICE_MIX, 'variance', mix['variance'], True)})"
            )
        cash = get("closing_cash")
        if cash is not None:
            text += (
                f"; closing cash {show('closing_cash', 'actual', cash['actual'])} against "
                f"{show('closing_cash', 'plan', cash['plan'])} planned"
            )
        return say.done(text + ".")
    units = get("shipped_units")
    return say.done(
        f"{head}: {say.units(f'review.{month}.shipped_units.actual', units['actual'])} units "
        f"shipped against {say.units(f'review.{month}.shipped_units.plan', units['plan'])} "
        "planned; no revenue booked yet (import financial_actuals on the Data page)."
    )


# --- assumptions tested -----------------------------------------------------------------------------


def demand_tests(
    store,
    record: PlanOfRecord,
    window: int = 3,
    *,
    actuals: pd.DataFrame | None = None,
    forecasts: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Demand against the consensus and the sales forecast made for the same month (lag 1),
    over the last ``window`` months with actuals before the plan, valued at list price (so a
    unit of a £4 valve does not weigh as much as a £150 radiator): the track record's test of the
    forecasts the plan rests on (``TEST_COLUMNS``, unit the currency; they feed no disagreement
    here: the forecast bias rows already do). ``actuals``, ``forecasts``: instead of the store's
    (a locked cycle's board paper passes those kept with the locked plans)."""
    model = record.model
    start = model.months[0]
    actuals = store.read_table("actuals") if actuals is None else actuals
    forecasts = store.read_table("forecasts") if forecasts is None else forecasts
    tol = float(model.settings.tolerance_pct)
    currency = model.settings.currency
    if actuals.empty or forecasts.empty:
        return pd.DataFrame(columns=TEST_COLUMNS)
    price = dict(zip([str(s) for s in model.skus], model.unit_price, strict=True))
    act = actuals[actuals["month"] < start]
    own = forecasts[(forecasts["cycle"] == forecasts["month"]) & (forecasts["month"] < start)]
    rows = []
    for source, owner in (("consensus", "Demand review"), ("sales", "Sales")):
        fc = own[own["source"] == source]
        both = fc.merge(act, on=["month", "sku"], suffixes=("_fc", "_act"))
        months = sorted(both["month"].unique())[-window:]
        if not months:
            continue
        both = both[both["month"].isin(months)]
        at_list = both["sku"].astype(str).map(price).fillna(0.0).astype(float)
        forecast = float((both["units_fc"] * at_list).sum())
        shipped = float((both["units_act"] * at_list).sum())
        gap = shipped - forecast
        gap_pct = gap / forecast * 100.0 if forecast else np.nan
        flagged = bool(forecast and abs(gap) > tol / 100.0 * abs(forecast))
        span = span_label(months[0], months[-1])
        name = f"Demand: the {source} forecast"
        text = (
            f"{name}: {fmt.money(forecast, currency)} at list price forecast for the cycle's own "
            f"month over {span}; {fmt.money(shipped, currency)} shipped "
            f"({fmt.pct(gap_pct, signed=True)}, {'beyond' if flagged else 'within'} the "
            f"{tol:g} % tolerance)"
        )
        rows.append(
            {
                "key": f"demand_{source}",
                "assumption": name,
                "owner": owner,
                "unit": currency,
                "assumed": forecast,
                "measured": shipped,
                "gap": gap,
                "gap_pct": gap_pct,
                "first_month": months[0],
                "last_month": months[-1],
                "months": len(months),
                "tolerance_pct": tol,
                "flagged": flagged,
                "money_at_stake": 0.0,
                "text": text,
            }
        )
    return pd.DataFrame(rows, columns=TEST_COLUMNS)


def assumption_tests_for(
    store,
    record: PlanOfRecord,
    *,
    actuals: pd.DataFrame | None = None,
    forecasts: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """The register's monthly test for a cycle's plan of record: DSO, realised price, days of
    inventory and material cost (flagged ones feed the disagreements as ``assumption_drift``),
    then demand against the consensus and sales forecasts (``TEST_COLUMNS`` + ``feeds``;
    ``actuals``, ``forecasts`` as in ``demand_tests``)."""
    plan_tests = assumption_tests(record.model, record.result).assign(feeds="assumption drift")
    demand = demand_tests(store, record, actuals=actuals, forecasts=forecasts).assign(
        feeds="forecast bias"
    )
    parts = [p for p in (plan_tests, demand) if len(p)]
    if not parts:
        return pd.DataFrame(columns=[*TEST_COLUMNS, "feeds"])
    return pd.concat(parts, ignore_index=True)


# --- decisions against outcomes ----------------------------------------------------------------


def decision_outcomes(
    store,
    *,
    record: bool = False,
    plan_of: PlanOf | None = None,
    upto: str | None = None,
    actuals: pd.DataFrame | None = None,
    financial: pd.DataFrame | None = None,
    settings=None,
) -> pd.DataFrame:
    """Every decision with an expected effect, against what happened (``OUTCOME_COLUMNS``).

    A decision carried into later cycles appears once (its latest row). ``plan`` is the plan of
    record of the cycle it was taken in (its locked plan once locked), ``verdict`` is
    ``delivered``, ``partly`` or ``not`` once the actuals have the measure for its month, else
    empty (``text`` says what it waits for).

    Args:
        record: store each first verdict (and any change) in ``decision_verdicts``, audited as
            ``system``.
        plan_of: ``cycle -> PlanOfRecord`` (the app's cached one); default ``plan_of_record``.
        upto: only decisions of cycles up to this one (a locked cycle's board paper).
        actuals, financial, settings: instead of the store's (those frozen with a locked plan).
    """
    found = store.query(SQL_EXPECTED)
    if upto is not None:
        found = found[found["cycle"] <= upto]
    if found.empty:
        return pd.DataFrame(columns=OUTCOME_COLUMNS)
    found = found.drop_duplicates("decision_key", keep="last").sort_values(
        ["taken_in", "decision_key"], kind="stable"
    )
    if actuals is None or financial is None:
        stored_actuals, stored_financial = _actuals(store)
        actuals = stored_actuals if actuals is None else actuals
        financial = stored_financial if financial is None else financial
    actual = actual_measures(actuals, financial).set_index("month")
    settings = settings or store.settings()
    tolerance = float(settings.tolerance_pct)
    currency = settings.currency
    plans_of = _plans(store, plan_of)
    plans: dict[str, pd.DataFrame | None] = {}
    rows = []
    for d in found.itertuples(index=False):
        taken_in, measure, month = str(d.taken_in), str(d.expected_measure), str(d.expected_month)
        if taken_in not in plans:
            try:
                plans[taken_in] = plan_measures(plans_of(taken_in).result).set_index("month")
            except SopError:
                plans[taken_in] = None
        plan_frame = plans[taken_in]
        plan = (
            float(plan_frame.loc[month, measure])
            if plan_frame is not None and month in plan_frame.index
            else np.nan
        )
        value = (
            float(actual.loc[month, measure])
            if month in actual.index and pd.notna(actual.loc[month, measure])
            else np.nan
        )
        expected = float(d.expected_value)
        label = MEASURE_LABELS[measure]

        def show(v: float, measure: str = measure) -> str:
            return show_measure(measure, v, currency)

        outcome = ""
        if np.isnan(plan):
            text = f"{label} in {month_label(month)}: not a month of cycle {taken_in}'s plan"
        elif np.isnan(value):
            text = (
                f"{label} {show(expected)} expected in {month_label(month)} (plan {show(plan)}): "
                f"waiting for the actuals of {month_label(month)}"
            )
        else:
            outcome = verdict(plan, expected, value, tolerance)
            text = (
                f"{label} in {month_label(month)}: plan {show(plan)}, expected {show(expected)}, "
                f"actual {show(value)}: {VERDICT_LABELS[outcome]}"
            )
            if record:
                record_verdict(
                    store,
                    int(d.decision_key),
                    taken_in=taken_in,
                    measure=measure,
                    month=month,
                    plan_value=plan,
                    expected_value=expected,
                    actual_value=value,
                    outcome=outcome,
                )
        rows.append(
            {
                "decision_key": int(d.decision_key),
                "taken_in": taken_in,
                "decision": d.decision,
                "owner": d.owner,
                "status": d.status,
                "measure": measure,
                "month": month,
                "scenario": d.expected_scenario if isinstance(d.expected_scenario, str) else "",
                "plan": plan,
                "expected": expected,
                "actual": value,
                "verdict": outcome,
                "text": text,
            }
        )
    frame = pd.DataFrame(rows)
    judged = stored_verdicts(store)[["decision_key", "judged_at"]]
    frame = frame.merge(judged, on="decision_key", how="left")
    frame.loc[frame["verdict"] == "", "judged_at"] = pd.NaT
    return frame.reindex(columns=OUTCOME_COLUMNS).reset_index(drop=True)


# --- as a person reads them (the page and the board pack) -------------------------------------


def show_measure(measure: str, value: float, currency: str, *, signed: bool = False) -> str:
    """A figure of a measure as the review shows it: units with separators, money compact from a
    ten thousand (£68k, £1.16m), written out below it (£3,250); empty when missing."""
    if value is None or pd.isna(value):
        return ""
    if measure == "shipped_units":
        text = fmt.units(value)
        return f"+{text}" if signed and value > 0 else text
    if abs(value) < 1e4:  # compact money rounds £3,250 and £3,300 alike: write it out
        text = fmt.money_full(value, currency)
        return f"+{text}" if signed and value > 0 else text
    return fmt.signed_money(value, currency) if signed else fmt.money(value, currency, digits=2)


def review_table(frame: pd.DataFrame, currency: str) -> pd.DataFrame:
    """A review (``REVIEW_COLUMNS``) as text: month, measure, plan, actual, variance, variance %
    (of plan); the effects show their amount in the variance column only."""
    return pd.DataFrame(
        {
            "month": [month_label(m) for m in frame["month"]],
            "measure": frame["measure"].map(MEASURE_LABELS).fillna(frame["measure"]),
            "plan": [
                show_measure(m, v, currency)
                for m, v in zip(frame["measure"], frame["plan"], strict=True)
            ],
            "actual": [
                show_measure(m, v, currency)
                for m, v in zip(frame["measure"], frame["actual"], strict=True)
            ],
            "variance": [
                show_measure(m, v, currency, signed=True)
                for m, v in zip(frame["measure"], frame["variance"], strict=True)
            ],
            "variance %": [
                fmt.pct(v / abs(p) * 100.0, signed=True) if pd.notna(p) and p else ""
                for v, p in zip(frame["variance"], frame["plan"], strict=True)
            ],
        }
    )


def tests_table(tests: pd.DataFrame, currency: str) -> pd.DataFrame:
    """Assumption tests as text: flag, assumption, owner, assumed, measured, over, gap, what it
    would move, what it feeds."""

    def show(value: float, unit: str) -> str:
        if unit == "days":
            return f"{value:,.1f} days"
        if unit == "%":
            return f"{value:.1f} %"
        if unit == "units":
            return fmt.units(value)
        return fmt.money(value, currency, digits=2)

    return pd.DataFrame(
        {
            "flag": ["⚠ beyond tolerance" if f else "" for f in tests["flagged"]],
            "assumption": tests["assumption"],
            "owner": tests["owner"],
            "assumed": [show(v, u) for v, u in zip(tests["assumed"], tests["unit"], strict=True)],
            "measured": [show(v, u) for v, u in zip(tests["measured"], tests["unit"], strict=True)],
            "over": [
                span_label(a, b)
                for a, b in zip(tests["first_month"], tests["last_month"], strict=True)
            ],
            "gap": [fmt.pct(v, signed=True) for v in tests["gap_pct"]],
            "tolerance": [f"{v:g} %" for v in tests["tolerance_pct"]],
            "would move": [fmt.money(v, currency) if v else "" for v in tests["money_at_stake"]],
            "feeds": tests.get("feeds", ""),
        }
    )


def outcomes_table(outcomes: pd.DataFrame, currency: str) -> pd.DataFrame:
    """Decisions against outcomes as text: decision, owner, taken in, measure, month, plan,
    expected, actual, verdict (or what it waits for), judged on."""

    def show(measure: str, value: float) -> str:
        return show_measure(measure, value, currency)

    verdicts = [VERDICT_LABELS.get(v, "") or "waiting for actuals" for v in outcomes["verdict"]]
    return pd.DataFrame(
        {
            "decision": outcomes["decision"],
            "owner": outcomes["owner"],
            "taken in": outcomes["taken_in"],
            "measure": outcomes["measure"].map(MEASURE_LABELS),
            "month": [month_label(m) for m in outcomes["month"]],
            "plan": [
                show(m, v) for m, v in zip(outcomes["measure"], outcomes["plan"], strict=True)
            ],
            "expected": [
                show(m, v) for m, v in zip(outcomes["measure"], outcomes["expected"], strict=True)
            ],
            "actual": [
                show(m, v) for m, v in zip(outcomes["measure"], outcomes["actual"], strict=True)
            ],
            "verdict": verdicts,
            "judged": [
                "" if pd.isna(t) else fmt.day(t) + f" {pd.Timestamp(t).year}"
                for t in outcomes["judged_at"]
            ],
        }
    )
