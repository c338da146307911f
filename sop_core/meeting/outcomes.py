"""Plans against what happened: a plan's measures by month, the actuals' measures, and a decision's verdict.

The measures (``decisions.OUTCOME_MEASURES``) are the ones with both a plan figure and an actual
one: shipped units (the ``actuals`` table) and revenue, gross margin, operating profit, closing
cash, receivables, payables and inventory value (``financial_actuals``, blank = not known).

A decision's **verdict** (docs/METHOD.md §11), with ``P`` the plan's figure of the measure in the
month (the plan of record of the cycle the decision was taken in: its locked plan once locked),
``E`` the expected figure and ``A`` the actual one:

- ``E ≠ P``: progress ``r = (A − P) / (E − P)``; **delivered** when ``r ≥ 1`` (the actual reached
  the expected figure, or went beyond it), **partly** when ``0.5 ≤ r < 1`` (at least half the
  way from the plan), **not** otherwise (less than half the way, or the other way);
- ``E = P`` (the decision was to hold the plan's figure): delivered when ``|A − E| ≤
  tolerance_pct/100 × |E|``, not otherwise.

A decision is judged once the actuals have the measure for its month; the first verdict, and
any later change (new actuals imported), is stored in ``decision_verdicts`` and audited.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from sop_core.errors import SopError
from sop_core.meeting.decisions import OUTCOME_MEASURES, get_decision, update_decision
from sop_core.meeting.record import model_of_record, plan_of_record
from sop_core.meeting.scenarios import get_scenario, usable_levers
from sop_core.months import parse_month
from sop_core.plan.engine import compute

__all__ = [
    "DELIVERED",
    "PARTLY",
    "NOT_DELIVERED",
    "VERDICT_LABELS",
    "FINANCIAL_MEASURES",
    "plan_measures",
    "actual_measures",
    "verdict",
    "stored_verdicts",
    "record_verdict",
    "set_expected_effect",
]

DELIVERED, PARTLY, NOT_DELIVERED = "delivered", "partly", "not"
VERDICT_LABELS = {
    DELIVERED: "delivered",
    PARTLY: "partly delivered",
    NOT_DELIVERED: "not delivered",
}
PARTLY_SHARE = 0.5
FINANCIAL_MEASURES = (
    "revenue",
    "gross_margin",
    "operating_profit",
    "closing_cash",
    "receivables",
    "payables",
    "inventory_value",
)

SQL_VERDICTS = """
SELECT decision_key, taken_in, measure, month, plan_value, expected_value, actual_value, verdict,
    judged_at, judged_by
FROM decision_verdicts ORDER BY decision_key
"""
SQL_VERDICT_OF = "SELECT * FROM decision_verdicts WHERE decision_key = ?"
SQL_INSERT_VERDICT = """
INSERT INTO decision_verdicts (decision_key, taken_in, measure, month, plan_value, expected_value,
    actual_value, verdict, judged_by)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
"""
SQL_UPDATE_VERDICT = """
UPDATE decision_verdicts SET taken_in = ?, measure = ?, month = ?, plan_value = ?,
    expected_value = ?, actual_value = ?, verdict = ?, judged_at = current_timestamp, judged_by = ?
WHERE decision_key = ?
"""


def plan_measures(result) -> pd.DataFrame:
    """A plan's measures by month: ``month`` and one column per ``OUTCOME_MEASURES`` key."""
    company = result.company
    frame = pd.DataFrame({"month": company["month"].astype(str)})
    frame["shipped_units"] = np.asarray(result.supply.shipped, dtype=float).sum(axis=1)
    for measure in FINANCIAL_MEASURES:
        frame[measure] = company[measure].to_numpy(dtype=float)
    return frame.reset_index(drop=True)


def actual_measures(actuals: pd.DataFrame, financial: pd.DataFrame) -> pd.DataFrame:
    """What happened by month: ``month``, ``shipped_units`` (Σ units of the actuals) and each
    financial measure (NaN where finance has not booked it); every month of either table."""
    units = pd.DataFrame(columns=["month", "shipped_units"])
    if actuals is not None and len(actuals):
        act = actuals.assign(
            month=actuals["month"].astype(str).str.slice(0, 7),
            units=pd.to_numeric(actuals["units"], errors="coerce"),
        )
        units = act.groupby("month", as_index=False)["units"].sum()
        units = units.rename(columns={"units": "shipped_units"})
    money = pd.DataFrame(columns=["month", *FINANCIAL_MEASURES])
    if financial is not None and len(financial):
        money = financial.assign(month=financial["month"].astype(str).str.slice(0, 7))
        money = money.reindex(columns=["month", *FINANCIAL_MEASURES])
    frame = units.merge(money, on="month", how="outer")
    for column in ("shipped_units", *FINANCIAL_MEASURES):
        frame[column] = pd.to_numeric(frame[column], errors="coerce").astype(float)
    return frame.sort_values("month").reset_index(drop=True)


def verdict(plan: float, expected: float, actual: float, tolerance_pct: float = 5.0) -> str:
    """``delivered``, ``partly`` or ``not``: how far the actual went from the plan to the expected
    figure (module docstring)."""
    gap = expected - plan
    if abs(gap) <= 1e-9 * max(abs(expected), 1.0):
        held = abs(actual - expected) <= tolerance_pct / 100.0 * abs(expected)
        return DELIVERED if held else NOT_DELIVERED
    progress = (actual - plan) / gap
    if progress >= 1.0 - 1e-12:
        return DELIVERED
    if progress >= PARTLY_SHARE:
        return PARTLY
    return NOT_DELIVERED


def stored_verdicts(store) -> pd.DataFrame:
    """Every verdict recorded: decision_key, taken_in, measure, month, plan_value,
    expected_value, actual_value, verdict, judged_at, judged_by."""
    return store.query(SQL_VERDICTS)


def _same(a: object, b: object) -> bool:
    if a is None or (isinstance(a, float) and math.isnan(a)):
        return b is None or (isinstance(b, float) and math.isnan(b))
    if b is None or (isinstance(b, float) and math.isnan(b)):
        return False
    return abs(float(a) - float(b)) <= 1e-6 * max(abs(float(a)), 1.0)


def record_verdict(
    store,
    key: int,
    *,
    taken_in: str,
    measure: str,
    month: str,
    plan_value: float | None,
    expected_value: float,
    actual_value: float,
    outcome: str,
    user: str = "system",
) -> bool:
    """Store a decision's verdict the first time it is judged, or when it changes; audited.

    Returns:
        True when something was written (a first verdict or a changed one).
    """
    with store.transaction() as cur:
        old = cur.execute(SQL_VERDICT_OF, [int(key)]).df()
        values = [taken_in, measure, month, plan_value, expected_value, actual_value, outcome]
        label = f"{VERDICT_LABELS[outcome]}: actual {actual_value:,.0f} against expected {expected_value:,.0f}"
        if old.empty:
            cur.execute(SQL_INSERT_VERDICT, [int(key), *values, user])
            store.audit(
                cur,
                user,
                "judge",
                "decision",
                f"{taken_in}/{key}",
                None,
                VERDICT_LABELS[outcome],
                f"{measure} {month}: {label}",
            )
            return True
        row = old.iloc[0]
        unchanged = (
            row["verdict"] == outcome
            and row["measure"] == measure
            and row["month"] == month
            and _same(row["actual_value"], actual_value)
            and _same(row["expected_value"], expected_value)
            and _same(row["plan_value"], plan_value)
        )
        if unchanged:
            return False
        cur.execute(SQL_UPDATE_VERDICT, [*values, user, int(key)])
        store.audit(
            cur,
            user,
            "judge",
            "decision",
            f"{taken_in}/{key}",
            VERDICT_LABELS.get(str(row["verdict"]), str(row["verdict"])),
            VERDICT_LABELS[outcome],
            f"{measure} {month}: {label} (judged again: the actuals or the effect changed)",
        )
        return True


def _scenario_value(store, cycle: str, scenario: str, measure: str, month: str) -> float:
    model = model_of_record(store, cycle)
    saved = get_scenario(store, cycle, scenario)
    if saved is None:
        raise SopError(
            f'No scenario "{scenario}" in cycle {cycle}: save it first (Scenarios page).'
        )
    levers, _dropped = usable_levers(saved.levers, model.families, model.resources)
    frame = plan_measures(compute(model, levers)).set_index("month")
    return float(frame.loc[month, measure])


def set_expected_effect(
    store,
    decision_id: int,
    expected_version: int,
    *,
    measure: str | None,
    month: str | None,
    value: float | None = None,
    scenario: str | None = None,
    user: str,
    loaded: dict | None = None,
) -> float | None:
    """Set (or clear, with ``measure`` None) what a decision is expected to achieve.

    The month must be one of the plan's months of the cycle the decision is logged in. With a
    ``scenario`` and no ``value``, the value is that saved scenario's figure of the measure in
    the month (computed now, kept with the scenario's name).

    Returns:
        The expected value stored (None when cleared).

    Raises:
        SopError: an unknown measure, a month outside the plan, no value and no scenario.
        CycleLocked, ConflictError: as ``decisions.update_decision``.
    """
    row = get_decision(store, decision_id)
    if row is None:
        raise SopError(f"Decision {decision_id} no longer exists (someone deleted it).")
    if not measure:
        changes = dict.fromkeys(
            ("expected_measure", "expected_value", "expected_month", "expected_scenario")
        )
        update_decision(store, decision_id, expected_version, changes, user=user, loaded=loaded)
        return None
    if measure not in OUTCOME_MEASURES:
        raise SopError(
            f'Expected effect: measure "{measure}" is not one of {", ".join(OUTCOME_MEASURES)}.'
        )
    try:
        month = parse_month(month)
    except ValueError as exc:
        raise SopError(f'Expected effect: month "{month}" {exc}.') from None
    cycle = row["cycle"]
    months = list(plan_of_record(store, cycle).model.months)
    if month not in months:
        raise SopError(
            f"Expected effect: {month} is not a month of cycle {cycle}'s plan "
            f"({months[0]} to {months[-1]})."
        )
    scenario = (scenario or "").strip() or None
    if value is None:
        if scenario is None:
            raise SopError(
                "Expected effect: give the value the decision should reach, or the scenario "
                "it comes from."
            )
        value = _scenario_value(store, cycle, scenario, measure, month)
    changes = {
        "expected_measure": measure,
        "expected_value": float(value),
        "expected_month": month,
        "expected_scenario": scenario,
    }
    update_decision(store, decision_id, expected_version, changes, user=user, loaded=loaded)
    return float(value)
