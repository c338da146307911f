"""The monthly S&OP cycle: four steps on a four-week calendar, sign-offs, the lock, the next cycle."""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass

import pandas as pd

from sop_core import fmt
from sop_core.errors import SopError
from sop_core.fmt import money
from sop_core.meeting.record import capture_version
from sop_core.meeting.versions import PlanVersion, save_version
from sop_core.months import add_months, parse_month
from sop_core.store.concurrency import guarded_update
from sop_core.store.lock import (
    cycle_info,
    ensure_unlocked,
    ensure_unlocked_in,
    is_locked,
)
from sop_core.store.plandata import current_cycle

__all__ = [
    "StepSpec",
    "STEPS",
    "STEP_STATUSES",
    "STEP_BY_KEY",
    "NOT_STARTED",
    "IN_PROGRESS",
    "SIGNED_OFF",
    "due_dates",
    "ensure_cycle",
    "steps",
    "update_step",
    "sign_off",
    "reopen_step",
    "MIN_REASON",
    "lock_cycle",
    "lock_version",
    "open_next_cycle",
    "rhythm_line",
    "status_text",
    "cycle_command",
]


@dataclass(frozen=True)
class StepSpec:
    """One step of the rhythm: its key, order, title, default owner and week of the month."""

    step: str
    position: int
    title: str
    owner: str
    question: str


STEPS: tuple[StepSpec, ...] = (
    StepSpec("demand_review", 1, "Demand review", "Sales & Marketing", "What will the market buy?"),
    StepSpec("supply_review", 2, "Supply review", "Operations", "What can we deliver?"),
    StepSpec(
        "reconciliation", 3, "Integrated reconciliation", "Finance", "What does it mean in money?"
    ),
    StepSpec("executive", 4, "Executive S&OP", "CEO", "Decide and lock the plan."),
)
STEP_BY_KEY = {s.step: s for s in STEPS}
NOT_STARTED, IN_PROGRESS, SIGNED_OFF = "not started", "in progress", "signed off"
STEP_STATUSES = (NOT_STARTED, IN_PROGRESS, SIGNED_OFF)
MIN_REASON = 5  # characters: a reopen or a lock override says why

SQL_INSERT_CYCLE = """
INSERT INTO cycles (cycle, status, opened_by) VALUES (?, 'open', ?) ON CONFLICT DO NOTHING
"""
SQL_INSERT_STEP = """
INSERT INTO cycle_steps (cycle, step, position, title, owner, due) VALUES (?, ?, ?, ?, ?, ?)
ON CONFLICT DO NOTHING
"""
SQL_COUNT_STEPS = "SELECT count(*) FROM cycle_steps WHERE cycle = ?"
SQL_STEPS = """
SELECT position, step, title, owner, due, status, signed_by, signed_at, version
FROM cycle_steps WHERE cycle = ? ORDER BY position
"""
SQL_STEP = "SELECT * FROM cycle_steps WHERE cycle = ? AND step = ?"
SQL_LOCK_CYCLE = """
UPDATE cycles SET status = 'locked', locked_at = coalesce(?, current_timestamp), locked_by = ?
WHERE cycle = ?
"""
SQL_SIGN_EXECUTIVE = """
UPDATE cycle_steps SET status = 'signed off', signed_by = ?,
    signed_at = coalesce(?, current_timestamp), updated_by = ?, updated_at = current_timestamp,
    version = version + 1
WHERE cycle = ? AND step = 'executive'
"""
SQL_COPY_FORECASTS = """
INSERT INTO forecasts (cycle, month, sku, source, units)
SELECT ?, month, sku, source, units FROM forecasts WHERE cycle = ? AND month >= ?
"""
SQL_COPY_BASELINE = """
INSERT INTO baseline (cycle, month, sku, units, p10, p90, model)
SELECT ?, month, sku, units, p10, p90, model FROM baseline WHERE cycle = ? AND month >= ?
"""
SQL_COPY_ASSUMPTIONS = """
INSERT INTO assumptions (cycle, name, value, unit, owner, rationale, evidence, reviewed_at,
    reviewed_by, tolerance_pct, created_at, created_by, updated_at, updated_by)
SELECT ?, name, value, unit, owner, rationale, evidence, reviewed_at, reviewed_by, tolerance_pct,
    created_at, created_by, updated_at, updated_by
FROM assumptions WHERE cycle = ? ORDER BY id
"""
SQL_COPY_SCENARIOS = """
INSERT INTO scenarios (cycle, name, levers, author, note, created_at, updated_at, promoted)
SELECT ?, name, levers, author, note, created_at, updated_at, promoted
FROM scenarios WHERE cycle = ? ORDER BY id
"""
SQL_COPY_OPEN_DECISIONS = """
INSERT INTO decisions (cycle, decision, owner, due, status, answers, created_at, created_by,
    origin_cycle, note, updated_at, updated_by, origin_id, expected_measure, expected_value,
    expected_month, expected_scenario)
SELECT ?, decision, owner, due, status, answers, created_at, created_by,
    coalesce(origin_cycle, cycle), note, updated_at, updated_by, coalesce(origin_id, id),
    expected_measure, expected_value, expected_month, expected_scenario
FROM decisions WHERE cycle = ? AND status NOT IN ('done', 'dropped') ORDER BY id
"""
SQL_PLAN_START = "SELECT value FROM settings WHERE key = 'plan_start'"
SQL_SET_PLAN_START = "UPDATE settings SET value = ? WHERE key = 'plan_start'"


# --- calendar ---------------------------------------------------------------------------------


def due_dates(cycle: str) -> dict[str, _dt.date]:
    """The four-week calendar: step k is due on the Friday of week k of the cycle month.

    Week 1 ends on the month's first Friday (2026-11: 6, 13, 20 and 27 Nov).
    """
    month = parse_month(cycle)
    first = _dt.date(int(month[:4]), int(month[5:7]), 1)
    friday = first + _dt.timedelta(days=(4 - first.weekday()) % 7)
    return {s.step: friday + _dt.timedelta(weeks=s.position - 1) for s in STEPS}


# --- the cycle record ------------------------------------------------------------------------


def ensure_cycle(store, cycle: str, *, user: str = "system") -> None:
    """Make sure the cycle has its record and its four steps (idempotent; first access creates them)."""
    cycle = parse_month(cycle)
    if store.scalar(SQL_COUNT_STEPS, [cycle]) == len(STEPS):
        return
    due = due_dates(cycle)
    with store.transaction() as cur:
        _insert_cycle(cur, cycle, user, due)


def _insert_cycle(cur, cycle: str, user: str, due: dict[str, _dt.date]) -> None:
    cur.execute(SQL_INSERT_CYCLE, [cycle, user])
    for s in STEPS:
        cur.execute(SQL_INSERT_STEP, [cycle, s.step, s.position, s.title, s.owner, due[s.step]])


# --- steps ------------------------------------------------------------------------------------


def steps(store, cycle: str | None = None, today: _dt.date | None = None) -> pd.DataFrame:
    """The cycle's four steps (created on first access).

    Returns:
        position, step, title, owner, due (date), status, signed_by, signed_at, version,
        overdue (not signed off and due before ``today``).
    """
    cycle = cycle or current_cycle(store)
    if not cycle:
        raise SopError("There is no S&OP cycle yet: import forecasts (with their cycle) first.")
    ensure_cycle(store, cycle)
    frame = store.query(SQL_STEPS, [cycle])
    today = today or _dt.date.today()
    frame["due"] = pd.to_datetime(frame["due"]).dt.date
    frame["overdue"] = (frame["status"] != SIGNED_OFF) & (frame["due"] < today)
    return frame


def _step_row(cur, cycle: str, step: str) -> dict:
    if step not in STEP_BY_KEY:
        raise SopError(f'Unknown step "{step}" (expected one of {", ".join(STEP_BY_KEY)}).')
    frame = cur.execute(SQL_STEP, [cycle, step]).df()
    return frame.iloc[0].to_dict()


def update_step(
    store,
    cycle: str,
    step: str,
    *,
    user: str,
    expected_version: int,
    owner: str | None = None,
    status: str | None = None,
    due: _dt.date | str | None = None,
) -> None:
    """Change a step's owner or due date, or move an unsigned step between 'not started' and
    'in progress'.

    Editing the owner or the due date never changes the status. A signed-off step keeps its
    sign-off: only ``reopen_step`` (with a reason) undoes it; signing off goes through
    ``sign_off`` (and, for the executive step, the lock). A status equal to the stored one is
    not a change.

    Raises:
        CycleLocked: the cycle is locked.
        ConflictError: someone changed the step since it was loaded.
        SopError: an empty owner, a bad date, or a status change on a signed-off step.
    """
    ensure_cycle(store, cycle, user=user)
    changes: dict[str, object] = {}
    if owner is not None:
        owner = owner.strip()
        if not owner:
            raise SopError("A step needs an owner.")
        changes["owner"] = owner
    if due is not None:
        try:
            changes["due"] = pd.Timestamp(due).date()
        except (ValueError, TypeError):
            raise SopError(f'Due date "{due}" is not a date (expected YYYY-MM-DD).') from None
    if status is not None and status not in (NOT_STARTED, IN_PROGRESS, SIGNED_OFF):
        raise SopError(
            f'Status "{status}" is not a step status (expected "{NOT_STARTED}" or "{IN_PROGRESS}").'
        )
    with store.transaction() as cur:
        ensure_unlocked_in(cur, cycle)
        row = _step_row(cur, cycle, step)
        if status is not None and status != row["status"]:
            title = STEP_BY_KEY[step].title
            if row["status"] == SIGNED_OFF:
                raise SopError(
                    f"{title} of cycle {cycle} is signed off (by {row['signed_by']} on "
                    f"{fmt.moment(row['signed_at'])}): its status is not changed here. To undo "
                    "the sign-off, reopen it with a reason."
                )
            if status == SIGNED_OFF:
                raise SopError(f"Sign {title} off with its sign-off button, not by editing it.")
            changes["status"] = status
        # only what differs from the stored row is a change (a form sends every field)
        if "due" in changes and str(changes["due"]) == str(pd.Timestamp(row["due"]).date()):
            del changes["due"]
        if changes.get("owner") == row["owner"]:
            del changes["owner"]
        if not changes:
            return
        old = guarded_update(
            cur, "cycle_steps", (cycle, step), expected_version, changes, user=user
        )
        for column in ("owner", "due", "status"):
            if column in changes and str(changes[column]) != str(old[column]):
                store.audit(
                    cur, user, "edit", "cycle step", f"{cycle}/{step}", old[column], changes[column]
                )


def reopen_step(
    store,
    cycle: str,
    step: str,
    *,
    user: str,
    reason: str,
    expected_version: int | None = None,
) -> str:
    """Undo a step's sign-off on purpose: back to 'in progress', with the reason in the audit.

    Raises:
        CycleLocked: the cycle is locked (its sign-offs are the record).
        SopError: the step is not signed off, or the reason is missing.
        ConflictError: someone changed the step since it was loaded.
    """
    spec = STEP_BY_KEY.get(step)
    if spec is None:
        raise SopError(f'Unknown step "{step}" (expected one of {", ".join(STEP_BY_KEY)}).')
    reason = (reason or "").strip()
    if len(reason) < MIN_REASON:
        raise SopError(f"Say why {spec.title} is reopened: a reason of a few words is required.")
    with store.transaction() as cur:
        ensure_unlocked_in(cur, cycle)
        row = _step_row(cur, cycle, step)
        if row["status"] != SIGNED_OFF:
            raise SopError(f"{spec.title} of cycle {cycle} is not signed off: nothing to reopen.")
        version = int(row["version"]) if expected_version is None else expected_version
        guarded_update(
            cur,
            "cycle_steps",
            (cycle, step),
            version,
            {"status": IN_PROGRESS, "signed_by": None, "signed_at": None},
            user=user,
        )
        store.audit(
            cur, user, "reopen", "cycle step", f"{cycle}/{step}", SIGNED_OFF, IN_PROGRESS, reason
        )
    return f"{spec.title} of cycle {cycle} reopened by {user}: {reason}"


def sign_off(
    store,
    cycle: str,
    step: str,
    *,
    user: str,
    expected_version: int | None = None,
    today: _dt.date | None = None,
    at: _dt.datetime | None = None,
) -> str:
    """Sign a step off (who, when); the executive step's sign-off is the lock of the plan.

    Steps may be signed off out of order; the message says which earlier ones are still open.
    ``at`` is when it was signed (default now; the demo's earlier cycles give their meeting days).

    Returns:
        A one-line confirmation for the person.

    Raises:
        CycleLocked: the cycle is already locked.
        ConflictError: someone changed the step since it was loaded.
    """
    if step == "executive":
        return lock_cycle(store, cycle, user=user, today=today)
    ensure_cycle(store, cycle, user=user)
    spec = STEP_BY_KEY.get(step)
    if spec is None:
        raise SopError(f'Unknown step "{step}" (expected one of {", ".join(STEP_BY_KEY)}).')
    with store.transaction() as cur:
        ensure_unlocked_in(cur, cycle)
        row = _step_row(cur, cycle, step)
        if row["status"] == SIGNED_OFF:
            raise SopError(
                f"{spec.title} of cycle {cycle} is already signed off "
                f"(by {row['signed_by']} on {fmt.moment(row['signed_at'])})."
            )
        version = int(row["version"]) if expected_version is None else expected_version
        guarded_update(
            cur,
            "cycle_steps",
            (cycle, step),
            version,
            {"status": SIGNED_OFF, "signed_by": user, "signed_at": at or _now()},
            user=user,
        )
        store.audit(
            cur, user, "sign off", "cycle step", f"{cycle}/{step}", row["status"], SIGNED_OFF
        )
    earlier = _open_before(store, cycle, spec.position)
    note = f" Still open before it: {', '.join(earlier)}." if earlier else ""
    return f"{spec.title} of cycle {cycle} signed off by {user}.{note}"


def _now() -> _dt.datetime:
    return _dt.datetime.now().replace(microsecond=0)


def _open_before(store, cycle: str, position: int) -> list[str]:
    frame = store.query(SQL_STEPS, [cycle])
    open_ = frame[(frame["position"] < position) & (frame["status"] != SIGNED_OFF)]
    return open_["title"].tolist()


# --- lock -------------------------------------------------------------------------------------


def lock_cycle(
    store,
    cycle: str | None = None,
    *,
    user: str,
    override: str | None = None,
    today: _dt.date | None = None,
) -> str:
    """Executive S&OP: sign the last step off and lock the cycle's plan of record as one version.

    The version holds the inputs, the promoted scenario (else the base plan) and its results;
    from then on the cycle refuses edits and imports and shows exactly the figures locked.
    Every earlier step must be signed off, unless an executive overrides with a reason: the
    reason and the steps left open are kept in the lock record (and shown in the board pack).

    Returns:
        A one-line confirmation with the plan's revenue, gross margin and closing cash.

    Raises:
        CycleLocked: the cycle is already locked.
        SopError: steps not signed off and no override (or an override without a reason).
        PlanError: there is nothing to plan (no products).
    """

    cycle = cycle or current_cycle(store)
    if not cycle:
        raise SopError("There is no S&OP cycle to lock: import forecasts (with their cycle) first.")
    ensure_cycle(store, cycle, user=user)
    ensure_unlocked(store, cycle)
    earlier = _open_before(store, cycle, STEP_BY_KEY["executive"].position)
    note = None
    if earlier:
        reason = (override or "").strip()
        if override is None:
            raise SopError(
                f"Cycle {cycle} cannot be locked: not signed off: {', '.join(earlier)}. Sign "
                "them off first, or lock with an executive override and its reason."
            )
        if len(reason) < MIN_REASON:
            raise SopError(
                "Say why the lock goes ahead with steps not signed off: a reason is required."
            )
        note = f"Locked with {', '.join(earlier)} not signed off: {reason}"
    version = capture_version(store, cycle, lock_note=note)  # slow: outside the write lock
    return lock_version(store, version, user=user)


def lock_version(
    store, version: PlanVersion, *, user: str, at: _dt.datetime | None = None, detail: str = ""
) -> str:
    """Keep ``version`` as its cycle's locked plan, sign the executive step off and lock the cycle.

    ``lock_cycle`` calls it with the open cycle's plan of record; the demo calls it with the plan
    each earlier cycle had (built from what was known then, ``bootstrap.load_history``), ``at``
    the day of that meeting. ``detail`` is added to the audit row.

    Raises:
        CycleLocked: the cycle is already locked.
    """
    cycle = version.cycle
    ensure_cycle(store, cycle, user=user)
    totals = version.totals
    currency = version.settings.currency
    figures = (
        f"revenue {money(totals['revenue'], currency)}, gross margin "
        f"{money(totals['gross_margin'], currency)}, closing cash "
        f"{money(totals['closing_cash'], currency)}"
    )
    note = version.lock_note
    with store.transaction() as cur:
        ensure_unlocked_in(cur, cycle)
        save_version(cur, version, user=user, locked_at=at)
        cur.execute(SQL_LOCK_CYCLE, [at, user, cycle])
        cur.execute(SQL_SIGN_EXECUTIVE, [user, at, user, cycle])
        audit = f"plan: {version.plan_label}; {figures}"
        if note:
            audit += f"; {note}"
        if detail:
            audit += f"; {detail}"
        store.audit(cur, user, "sign off", "cycle step", f"{cycle}/executive", None, SIGNED_OFF)
        store.audit(cur, user, "lock", "cycle", cycle, "open", "locked", audit)
    said = f" {note}." if note else ""
    return (
        f"Cycle {cycle} locked by {user}: {version.plan_label}, "
        f"{version.months[0]} to {version.months[-1]}: {figures}.{said}"
    )


# --- next cycle -------------------------------------------------------------------------------


def open_next_cycle(store, *, user: str, today: _dt.date | None = None) -> str:
    """Open the cycle after the current one; the current cycle's plan becomes its starting point.

    Copies the current cycle's forecasts (months from the new cycle on) and statistical
    baseline to the new cycle, rolls ``plan_start`` forward one month if it is set, and carries
    forward the assumptions (same values; ``reviewed_at`` kept so unreviewed ones age), the
    saved scenarios (the promoted one stays promoted) and the open decisions. Opening while
    the current cycle is not locked is allowed; the message warns that its plan was not
    recorded.

    Returns:
        A one-line confirmation (with the warning, if any).

    Raises:
        SopError: there is no cycle yet, or the next one is already open.
    """
    current = current_cycle(store)
    if not current:
        raise SopError(
            "There is no S&OP cycle to roll forward: import forecasts (with their cycle) first."
        )
    ensure_cycle(store, current, user=user)
    nxt = add_months(current, 1)
    if cycle_info(store, nxt) is not None:
        raise SopError(
            f"Cycle {nxt} is already open but has no forecasts: import its forecasts (Data page)."
        )
    was_locked = is_locked(store, current)
    due = due_dates(nxt)
    with store.transaction() as cur:
        counts = {}
        for name, sql, params in (
            ("forecasts", SQL_COPY_FORECASTS, [nxt, current, nxt]),
            ("baseline", SQL_COPY_BASELINE, [nxt, current, nxt]),
            ("assumptions", SQL_COPY_ASSUMPTIONS, [nxt, current]),
            ("scenarios", SQL_COPY_SCENARIOS, [nxt, current]),
            ("decisions", SQL_COPY_OPEN_DECISIONS, [nxt, current]),
        ):
            before = cur.execute(f"SELECT count(*) FROM {name} WHERE cycle = ?", [nxt]).fetchone()
            cur.execute(sql, params)
            after = cur.execute(f"SELECT count(*) FROM {name} WHERE cycle = ?", [nxt]).fetchone()
            counts[name] = after[0] - before[0]
        start = cur.execute(SQL_PLAN_START).fetchone()
        rolled = ""
        if start and start[0] and str(start[0]).strip():
            old_start = parse_month(start[0])
            new_start = add_months(old_start, 1)
            cur.execute(SQL_SET_PLAN_START, [new_start])
            store.audit(cur, user, "roll", "settings", "plan_start", old_start, new_start, nxt)
            rolled = f"; plan start {old_start} → {new_start}"
        _insert_cycle(cur, nxt, user, due)
        carried = (
            f"{counts['forecasts']} forecast rows, {counts['assumptions']} assumptions, "
            f"{counts['scenarios']} scenarios, {counts['decisions']} open decisions carried forward"
        )
        store.audit(cur, user, "open", "cycle", nxt, current, nxt, carried + rolled)
    warning = (
        ""
        if was_locked
        else f" Warning: cycle {current} was not locked, so no plan of record was kept for it."
    )
    return (
        f"Opened cycle {nxt} (steps due {', '.join(fmt.day(d) for d in due.values())}): "
        f"{carried}{rolled}.{warning}"
    )


# --- where the business is in the rhythm ------------------------------------------------------


def rhythm_line(store, cycle: str | None = None, today: _dt.date | None = None) -> str:
    """One line for the Executive summary.

    e.g. "Cycle 2026-11 · step 2 of 4: Supply review (due 13 Nov, overdue) · 1 of 4 signed off".
    """
    cycle = cycle or current_cycle(store)
    if not cycle:
        return "No S&OP cycle yet: import forecasts (with their cycle) to start one."
    frame = steps(store, cycle, today)
    signed = int((frame["status"] == SIGNED_OFF).sum())
    tally = f"{signed} of {len(frame)} signed off"
    info = cycle_info(store, cycle)
    if info is not None and info.locked:
        return (
            f"Cycle {cycle} · locked by {info.locked_by} on {fmt.day(info.locked_at)} "
            f"{pd.Timestamp(info.locked_at).year} · {tally}"
        )
    pending = frame[frame["status"] != SIGNED_OFF]
    row = pending.iloc[0]
    due = f"due {fmt.day(row['due'])}" + (", overdue" if row["overdue"] else "")
    status = "" if row["status"] == NOT_STARTED else f", {row['status']}"
    line = (
        f"Cycle {cycle} · step {row['position']} of {len(frame)}: {row['title']} "
        f"({due}{status}) · {tally}"
    )
    overdue = int(frame["overdue"].sum())
    if overdue > 1:
        line += f" · {overdue} steps overdue"
    return line


def status_text(store, cycle: str | None = None, today: _dt.date | None = None) -> str:
    """The rhythm line, then one line per step (for the command line)."""
    cycle = cycle or current_cycle(store)
    if not cycle:
        return rhythm_line(store, cycle, today)
    lines = [rhythm_line(store, cycle, today)]
    for row in steps(store, cycle, today).itertuples():
        who = (
            f" by {row.signed_by} on {fmt.moment(row.signed_at)}"
            if row.status == SIGNED_OFF
            else ""
        )
        late = " (overdue)" if row.overdue else ""
        lines.append(
            f"  {row.position}. {row.title:<26} {row.owner:<18} due {fmt.day(row.due):<7} "
            f"{row.status}{who}{late}"
        )
    return "\n".join(lines)


def cycle_command(
    store, action: str, *, user: str, override: str | None = None, today: _dt.date | None = None
) -> str:
    """``python -m sop_core cycle open|lock|status``: the same rules as the app.

    Raises:
        SopError: a refused action (the CLI prints its one line and exits non-zero).
    """
    if action == "open":
        return open_next_cycle(store, user=user, today=today)
    if action == "lock":
        return lock_cycle(store, user=user, override=override, today=today)
    if action == "status":
        return status_text(store, today=today)
    raise SopError(f'Unknown cycle action "{action}" (expected open, lock or status).')
