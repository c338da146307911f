"""The decision log: what the executive meeting decided, who owns it, by when, and what it answers."""

from __future__ import annotations

import datetime as _dt
import math

import pandas as pd

from sop_core.errors import ConflictError, SopError
from sop_core.months import parse_month
from sop_core.store.concurrency import guarded_update, show_value
from sop_core.store.lock import ensure_unlocked_in

__all__ = [
    "STATUSES",
    "OPEN_STATUSES",
    "OUTCOME_MEASURES",
    "EXPECTED_FIELDS",
    "EDITABLE_FIELDS",
    "DECISION_COLUMNS",
    "add_decision",
    "get_decision",
    "update_decision",
    "delete_decision",
    "list_decisions",
    "open_decisions",
    "answer_options",
    "parse_due",
    "expected_text",
]

STATUSES = ("open", "in progress", "done", "dropped")
OPEN_STATUSES = ("open", "in progress")
# The measures a decision's expected effect may name: each has a plan figure and an actual one
# (docs/METHOD.md §11): key -> (label, unit).
OUTCOME_MEASURES: dict[str, tuple[str, str]] = {
    "shipped_units": ("Shipped units", "units"),
    "revenue": ("Revenue", "money"),
    "gross_margin": ("Gross margin", "money"),
    "operating_profit": ("Operating profit", "money"),
    "closing_cash": ("Closing cash", "money"),
    "receivables": ("Receivables", "money"),
    "payables": ("Payables", "money"),
    "inventory_value": ("Inventory value", "money"),
}
EXPECTED_FIELDS = ("expected_measure", "expected_value", "expected_month", "expected_scenario")
EDITABLE_FIELDS = ("decision", "owner", "due", "status", "answers", "note", *EXPECTED_FIELDS)
DECISION_COLUMNS = [
    "id",
    "decision",
    "owner",
    "due",
    "status",
    "answers",
    "note",
    "taken_in",
    "created_at",
    "created_by",
    "updated_at",
    "updated_by",
    "version",
    "expected_measure",
    "expected_value",
    "expected_month",
    "expected_scenario",
    "decision_key",
    "overdue",
]

SQL_LIST = """
SELECT id, decision, owner, due, status, answers, note, coalesce(origin_cycle, cycle) AS taken_in,
    created_at, created_by, updated_at, updated_by, version, expected_measure, expected_value,
    expected_month, expected_scenario, coalesce(origin_id, id) AS decision_key
FROM decisions WHERE cycle = ? ORDER BY id
"""
SQL_ONE = "SELECT * FROM decisions WHERE id = ?"
SQL_INSERT = """
INSERT INTO decisions (cycle, decision, owner, due, status, answers, note, created_by,
    origin_cycle, updated_at, updated_by, expected_measure, expected_value, expected_month,
    expected_scenario)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, current_timestamp, ?, ?, ?, ?, ?) RETURNING id
"""
SQL_DELETE = "DELETE FROM decisions WHERE id = ? AND version = ? RETURNING id"
SQL_SCENARIOS = "SELECT name FROM scenarios WHERE cycle = ? ORDER BY promoted DESC, name"


def parse_due(value: object) -> str:
    """A due date as ``YYYY-MM-DD`` (from a date or text).

    Raises:
        SopError: not a date.
    """
    if isinstance(value, _dt.date):
        return value.isoformat()[:10]
    text = "" if value is None else str(value).strip()
    try:
        return _dt.date.fromisoformat(text[:10]).isoformat()
    except ValueError:
        raise SopError(f'Due date "{text}" is not a date (expected YYYY-MM-DD).') from None


def _blank(value: object) -> bool:
    if value is None:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    return isinstance(value, str) and not value.strip()


def _expected(changes: dict) -> dict:
    """The expected-effect fields of ``changes``, checked: a measure, a number and a month
    together (a scenario's name optional), or all blank (no expected effect)."""
    fields = {k: changes[k] for k in EXPECTED_FIELDS if k in changes}
    if not fields:
        return {}
    measure, value, month = (
        fields.get("expected_measure"),
        fields.get("expected_value"),
        fields.get("expected_month"),
    )
    scenario = fields.get("expected_scenario")
    if all(_blank(fields.get(k)) for k in EXPECTED_FIELDS):
        return dict.fromkeys(EXPECTED_FIELDS)
    if _blank(measure) or str(measure) not in OUTCOME_MEASURES:
        raise SopError(
            f'Expected effect: measure "{"" if measure is None else measure}" is not one of '
            f"{', '.join(OUTCOME_MEASURES)}."
        )
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise SopError(
            f'Expected effect: value "{"" if value is None else value}" is not a number '
            "(the figure the decision should reach, e.g. 4200000)."
        ) from None
    if not math.isfinite(number):
        raise SopError("Expected effect: the value is not a finite number.")
    try:
        month = parse_month(month)
    except ValueError as exc:
        raise SopError(
            f'Expected effect: month "{"" if month is None else month}" {exc}.'
        ) from None
    return {
        "expected_measure": str(measure),
        "expected_value": number,
        "expected_month": month,
        "expected_scenario": None if _blank(scenario) else str(scenario).strip(),
    }


def expected_text(measure: object, value: object, month: object, scenario: object = None) -> str:
    """An expected effect as a sentence: 'Receivables 5,600,000 in 2026-10 (scenario “DSO 45”)';
    empty when there is none."""
    if _blank(measure):
        return ""
    label = OUTCOME_MEASURES.get(str(measure), (str(measure),))[0]
    text = f"{label} {float(value):,.0f} in {month}"
    return text + (f" (scenario “{scenario}”)" if not _blank(scenario) else "")


def _clean(changes: dict) -> dict:
    out = _expected(changes)
    for key, value in changes.items():
        if key in EXPECTED_FIELDS:
            continue
        if key == "due":
            out[key] = parse_due(value)
        elif key == "status":
            if value not in STATUSES:
                raise SopError(f'Status "{value}" is not one of {", ".join(STATUSES)}.')
            out[key] = value
        else:
            out[key] = "" if value is None else str(value).strip()
    if "decision" in out and not out["decision"]:
        raise SopError("A decision needs its text (what was decided).")
    if "owner" in out and not out["owner"]:
        raise SopError("A decision needs an owner (who makes it happen).")
    return out


def add_decision(
    store,
    cycle: str,
    *,
    decision: str,
    owner: str,
    due: object,
    user: str,
    answers: str = "",
    status: str = "open",
    note: str = "",
    expected_measure: str | None = None,
    expected_value: float | None = None,
    expected_month: str | None = None,
    expected_scenario: str | None = None,
) -> int:
    """Log a decision in the cycle (normally taken in its executive meeting).

    Args:
        answers: what it answers: a disagreement or a scenario (see ``answer_options``).
        expected_measure, expected_value, expected_month: the effect it should have (one of
            ``OUTCOME_MEASURES`` reaching the value in that month), judged against the actuals
            once they cover the month (``views.review.decision_outcomes``); all three or none.
        expected_scenario: the scenario the expected value was read from, if any.

    Returns:
        Its id.

    Raises:
        CycleLocked: the cycle is locked.
        SopError: no text, owner or due date, or half an expected effect.
    """

    row = _clean(
        {
            "decision": decision,
            "owner": owner,
            "due": due,
            "status": status,
            "answers": answers,
            "note": note,
            "expected_measure": expected_measure,
            "expected_value": expected_value,
            "expected_month": expected_month,
            "expected_scenario": expected_scenario,
        }
    )
    expected = {k: row.get(k) for k in EXPECTED_FIELDS}
    with store.transaction() as cur:
        ensure_unlocked_in(cur, cycle)
        new_id = cur.execute(
            SQL_INSERT,
            [
                cycle,
                row["decision"],
                row["owner"],
                row["due"],
                row["status"],
                row["answers"],
                row["note"],
                user,
                cycle,
                user,
                *(expected[k] for k in EXPECTED_FIELDS),
            ],
        ).fetchone()[0]
        effect = expected_text(*(expected[k] for k in EXPECTED_FIELDS))
        store.audit(
            cur,
            user,
            "add",
            "decision",
            f"{cycle}/{new_id}",
            None,
            row["decision"],
            f"owner {row['owner']}, due {row['due']}"
            + (f", answers {row['answers']}" if row["answers"] else "")
            + (f", expected: {effect}" if effect else ""),
        )
    return int(new_id)


def get_decision(store, decision_id: int) -> dict | None:
    """One stored decision as a dict (what an editor 'loads'), or None."""
    frame = store.query(SQL_ONE, [int(decision_id)])
    if frame.empty:
        return None
    return {
        k: (None if v is None or v is pd.NaT or (isinstance(v, float) and pd.isna(v)) else v)
        for k, v in frame.iloc[0].to_dict().items()
    }


def update_decision(
    store,
    decision_id: int,
    expected_version: int,
    changes: dict,
    *,
    user: str,
    loaded: dict | None = None,
) -> None:
    """Save an edit of a decision loaded at ``expected_version`` (status, owner, due, …).

    Raises:
        ConflictError: someone saved it since it was loaded; the message shows both values.
        CycleLocked: its cycle is locked (open decisions carry forward to the next cycle).
    """

    bad = sorted(set(changes) - set(EDITABLE_FIELDS))
    if bad:
        raise SopError(
            f"{', '.join(bad)} cannot be edited (editable: {', '.join(EDITABLE_FIELDS)})."
        )
    row = get_decision(store, decision_id)
    if row is None:
        raise SopError(f"Decision {decision_id} no longer exists (someone deleted it).")
    if any(k in changes for k in EXPECTED_FIELDS):  # an effect is checked as a whole
        changes = {**{k: row.get(k) for k in EXPECTED_FIELDS}, **changes}
    clean = _clean(changes)
    with store.transaction() as cur:
        ensure_unlocked_in(cur, row["cycle"])
        old = guarded_update(
            cur, "decisions", int(decision_id), expected_version, clean, user=user, loaded=loaded
        )
        key = f"{old['cycle']}/{decision_id}"
        for column, value in clean.items():
            if show_value(value) != show_value(old[column]):
                action = "status" if column == "status" else "edit"
                store.audit(
                    cur, user, action, "decision", key, old[column], value, f"field {column}"
                )


def delete_decision(store, decision_id: int, expected_version: int, *, user: str) -> None:
    """Remove a decision logged by mistake (a decision that will not happen is 'dropped')."""

    row = get_decision(store, decision_id)
    if row is None:
        raise SopError(f"Decision {decision_id} no longer exists (someone deleted it).")
    with store.transaction() as cur:
        ensure_unlocked_in(cur, row["cycle"])
        if not cur.execute(SQL_DELETE, [int(decision_id), int(expected_version)]).fetchall():
            raise ConflictError(
                f'{row["updated_by"] or "Someone"} changed the decision "{row["decision"]}" since '
                "you loaded it; it was not deleted — reload and decide again."
            )
        store.audit(
            cur, user, "delete", "decision", f"{row['cycle']}/{decision_id}", row["decision"], None
        )


def list_decisions(
    store, cycle: str | None, status: str | None = None, today: _dt.date | None = None
) -> pd.DataFrame:
    """The cycle's decision log (``DECISION_COLUMNS``); ``overdue`` = still open, due before today."""
    frame = store.query(SQL_LIST, [cycle])
    if status is not None:
        frame = frame[frame["status"] == status]
    today = (today or _dt.date.today()).isoformat()
    frame["overdue"] = frame["status"].isin(OPEN_STATUSES) & (frame["due"].fillna("9999") < today)
    return frame.reindex(columns=DECISION_COLUMNS).reset_index(drop=True)


def open_decisions(store, cycle: str | None, today: _dt.date | None = None) -> pd.DataFrame:
    """The decisions still open in the cycle, soonest due first (Executive summary, board pack).

    Returns:
        id, decision, owner, due, status, answers, taken_in, overdue.
    """
    frame = list_decisions(store, cycle, today=today)
    frame = frame[frame["status"].isin(OPEN_STATUSES)]
    cols = ["id", "decision", "owner", "due", "status", "answers", "taken_in", "overdue"]
    return frame.sort_values(["due", "id"], kind="stable")[cols].reset_index(drop=True)


def answer_options(
    store, cycle: str | None, disagreements: pd.DataFrame | None = None, limit: int = 25
) -> list[str]:
    """What a decision can answer: the cycle's saved scenarios and its biggest disagreements.

    Args:
        disagreements: the plan's disagreements (``PlanResult.disagreements``), if computed.
    """
    options = [f"Scenario: {n}" for n in store.query(SQL_SCENARIOS, [cycle])["name"]]
    if disagreements is not None and len(disagreements):
        top = disagreements.sort_values("money_at_stake", ascending=False).head(limit)
        for row in top.itertuples():
            kind = str(row.type).replace("_", " ")
            options.append(f"Disagreement: {kind} · {row.entity} · {row.month}")
    return options
