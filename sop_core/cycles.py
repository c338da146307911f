"""The monthly S&OP cycle: four steps on a four-week calendar, sign-offs, the lock, the next cycle."""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass

import pandas as pd

from sop_core.concurrency import guarded_update
from sop_core.errors import CycleLocked, SopError
from sop_core.months import add_months, parse_month

__all__ = [
    "StepSpec",
    "STEPS",
    "STEP_STATUSES",
    "STEP_BY_KEY",
    "NOT_STARTED",
    "IN_PROGRESS",
    "SIGNED_OFF",
    "CycleInfo",
    "due_dates",
    "ensure_cycle",
    "cycle_info",
    "is_locked",
    "ensure_unlocked",
    "ensure_unlocked_in",
    "steps",
    "update_step",
    "sign_off",
    "lock_cycle",
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

SQL_CYCLE = (
    "SELECT cycle, status, opened_at, opened_by, locked_at, locked_by FROM cycles WHERE cycle = ?"
)
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
UPDATE cycles SET status = 'locked', locked_at = current_timestamp, locked_by = ? WHERE cycle = ?
"""
SQL_SIGN_EXECUTIVE = """
UPDATE cycle_steps SET status = 'signed off', signed_by = ?, signed_at = current_timestamp,
    updated_by = ?, updated_at = current_timestamp, version = version + 1
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
    origin_cycle, note, updated_at, updated_by)
SELECT ?, decision, owner, due, status, answers, created_at, created_by,
    coalesce(origin_cycle, cycle), note, updated_at, updated_by
FROM decisions WHERE cycle = ? AND status NOT IN ('done', 'dropped') ORDER BY id
"""
SQL_PLAN_START = "SELECT value FROM settings WHERE key = 'plan_start'"
SQL_SET_PLAN_START = "UPDATE settings SET value = ? WHERE key = 'plan_start'"


@dataclass(frozen=True)
class CycleInfo:
    """A cycle's record: open or locked, and who opened and locked it when."""

    cycle: str
    status: str
    opened_at: object
    opened_by: str | None
    locked_at: object
    locked_by: str | None

    @property
    def locked(self) -> bool:
        return self.status == "locked"


# --- calendar ---------------------------------------------------------------------------------


def due_dates(cycle: str) -> dict[str, _dt.date]:
    """The four-week calendar: step k is due on the Friday of week k of the cycle month.

    Week 1 ends on the month's first Friday (2026-11: 6, 13, 20 and 27 Nov).
    """
    month = parse_month(cycle)
    first = _dt.date(int(month[:4]), int(month[5:7]), 1)
    friday = first + _dt.timedelta(days=(4 - first.weekday()) % 7)
    return {s.step: friday + _dt.timedelta(weeks=s.position - 1) for s in STEPS}


def _day(value: object) -> str:
    """'13 Nov' for a date."""
    d = pd.Timestamp(value)
    return f"{d.day} {d.strftime('%b')}"


def _when(value: object) -> str:
    d = pd.Timestamp(value)
    return f"{d.day} {d.strftime('%b %Y %H:%M')}"


# --- the cycle record ------------------------------------------------------------------------


def _current(store) -> str | None:
    from sop_core.plandata import current_cycle  # lazy: plandata is imported by the store's users

    return current_cycle(store)


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


def cycle_info(store, cycle: str) -> CycleInfo | None:
    """The cycle's record, or None if it has none yet."""
    frame = store.query(SQL_CYCLE, [cycle])
    if frame.empty:
        return None
    row = frame.iloc[0]
    return CycleInfo(
        cycle=row["cycle"],
        status=row["status"],
        opened_at=row["opened_at"],
        opened_by=row["opened_by"],
        locked_at=row["locked_at"],
        locked_by=row["locked_by"],
    )


def is_locked(store, cycle: str | None) -> bool:
    info = cycle_info(store, cycle) if cycle else None
    return bool(info and info.locked)


def _locked_message(cycle: str, by: str | None, at: object) -> str:
    return (
        f"Cycle {cycle} is locked (by {by or 'someone'} on {_when(at)}): "
        "open the next cycle to change the plan."
    )


def ensure_unlocked(store, cycle: str | None = None) -> None:
    """Refuse a change to a locked cycle's plan (default: the current cycle).

    Called before every import, assumption, decision, consensus or scenario change.

    Raises:
        CycleLocked: the cycle is locked; the message says by whom and when.
    """
    cycle = cycle or _current(store)
    if not cycle:
        return
    info = cycle_info(store, cycle)
    if info is not None and info.locked:
        raise CycleLocked(_locked_message(cycle, info.locked_by, info.locked_at))


def ensure_unlocked_in(cur, cycle: str | None) -> None:
    """The same check on the caller's transaction (so no lock slips in between check and write)."""
    if not cycle:
        return
    row = cur.execute(
        "SELECT status, locked_by, locked_at FROM cycles WHERE cycle = ?", [cycle]
    ).fetchone()
    if row is not None and row[0] == "locked":
        raise CycleLocked(_locked_message(cycle, row[1], row[2]))


# --- steps ------------------------------------------------------------------------------------


def steps(store, cycle: str | None = None, today: _dt.date | None = None) -> pd.DataFrame:
    """The cycle's four steps (created on first access).

    Returns:
        position, step, title, owner, due (date), status, signed_by, signed_at, version,
        overdue (not signed off and due before ``today``).
    """
    cycle = cycle or _current(store)
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
) -> None:
    """Change a step's owner or move it between 'not started' and 'in progress' (or re-open it).

    Signing off goes through ``sign_off`` (and, for the executive step, the lock).

    Raises:
        CycleLocked: the cycle is locked.
        ConflictError: someone changed the step since it was loaded.
    """
    ensure_cycle(store, cycle, user=user)
    changes: dict[str, object] = {}
    if owner is not None:
        owner = owner.strip()
        if not owner:
            raise SopError("A step needs an owner.")
        changes["owner"] = owner
    if status is not None:
        if status not in (NOT_STARTED, IN_PROGRESS):
            raise SopError(
                f'Status "{status}" cannot be set here (expected "{NOT_STARTED}" or '
                f'"{IN_PROGRESS}"); sign a step off with its sign-off button.'
            )
        changes.update(status=status, signed_by=None, signed_at=None)
    if not changes:
        return
    with store.transaction() as cur:
        ensure_unlocked_in(cur, cycle)
        old = guarded_update(
            cur, "cycle_steps", (cycle, step), expected_version, changes, user=user
        )
        for column in ("owner", "status"):
            if column in changes and changes[column] != old[column]:
                action = "reopen" if old["status"] == SIGNED_OFF else "edit"
                store.audit(
                    cur, user, action, "cycle step", f"{cycle}/{step}", old[column], changes[column]
                )


def sign_off(
    store,
    cycle: str,
    step: str,
    *,
    user: str,
    expected_version: int | None = None,
    today: _dt.date | None = None,
) -> str:
    """Sign a step off (who, when); the executive step's sign-off is the lock of the plan.

    Steps may be signed off out of order; the message says which earlier ones are still open.

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
                f"(by {row['signed_by']} on {_when(row['signed_at'])})."
            )
        version = int(row["version"]) if expected_version is None else expected_version
        guarded_update(
            cur,
            "cycle_steps",
            (cycle, step),
            version,
            {"status": SIGNED_OFF, "signed_by": user, "signed_at": _now()},
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


def lock_cycle(store, cycle: str | None = None, *, user: str, today: _dt.date | None = None) -> str:
    """Executive S&OP: sign the last step off and lock the cycle's plan as one version.

    The version holds the inputs, the promoted scenario (else the base plan) and its results;
    from then on the cycle refuses edits and imports. Earlier steps not signed off do not
    block the lock: the message and the audit say which they were.

    Returns:
        A one-line confirmation with the plan's revenue, gross margin and closing cash.

    Raises:
        CycleLocked: the cycle is already locked.
        PlanError: there is nothing to plan (no products).
    """
    from sop_core.fmt import money
    from sop_core.planversions import capture_version, save_version

    cycle = cycle or _current(store)
    if not cycle:
        raise SopError("There is no S&OP cycle to lock: import forecasts (with their cycle) first.")
    ensure_cycle(store, cycle, user=user)
    ensure_unlocked(store, cycle)
    version = capture_version(store, cycle)  # the slow part, outside the write lock
    earlier = _open_before(store, cycle, STEP_BY_KEY["executive"].position)
    totals = version.totals
    currency = version.settings.currency
    figures = (
        f"revenue {money(totals['revenue'], currency)}, gross margin "
        f"{money(totals['gross_margin'], currency)}, closing cash "
        f"{money(totals['closing_cash'], currency)}"
    )
    with store.transaction() as cur:
        ensure_unlocked_in(cur, cycle)
        save_version(cur, version, user=user)
        cur.execute(SQL_LOCK_CYCLE, [user, cycle])
        cur.execute(SQL_SIGN_EXECUTIVE, [user, user, cycle])
        detail = f"plan: {version.plan_label}; {figures}"
        if earlier:
            detail += f"; not signed off: {', '.join(earlier)}"
        store.audit(cur, user, "sign off", "cycle step", f"{cycle}/executive", None, SIGNED_OFF)
        store.audit(cur, user, "lock", "cycle", cycle, "open", "locked", detail)
    note = f" Not signed off before the lock: {', '.join(earlier)}." if earlier else ""
    return (
        f"Cycle {cycle} locked by {user}: {version.plan_label}, "
        f"{version.months[0]} to {version.months[-1]}: {figures}.{note}"
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
    current = _current(store)
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
        f"Opened cycle {nxt} (steps due {', '.join(_day(d) for d in due.values())}): "
        f"{carried}{rolled}.{warning}"
    )


# --- where the business is in the rhythm ------------------------------------------------------


def rhythm_line(store, cycle: str | None = None, today: _dt.date | None = None) -> str:
    """One line for the Executive summary.

    e.g. "Cycle 2026-11 · step 2 of 4: Supply review (due 13 Nov, overdue) · 1 of 4 signed off".
    """
    cycle = cycle or _current(store)
    if not cycle:
        return "No S&OP cycle yet: import forecasts (with their cycle) to start one."
    frame = steps(store, cycle, today)
    signed = int((frame["status"] == SIGNED_OFF).sum())
    tally = f"{signed} of {len(frame)} signed off"
    info = cycle_info(store, cycle)
    if info is not None and info.locked:
        return (
            f"Cycle {cycle} · locked by {info.locked_by} on {_day(info.locked_at)} "
            f"{pd.Timestamp(info.locked_at).year} · {tally}"
        )
    pending = frame[frame["status"] != SIGNED_OFF]
    row = pending.iloc[0]
    due = f"due {_day(row['due'])}" + (", overdue" if row["overdue"] else "")
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
    cycle = cycle or _current(store)
    if not cycle:
        return rhythm_line(store, cycle, today)
    lines = [rhythm_line(store, cycle, today)]
    for row in steps(store, cycle, today).itertuples():
        who = f" by {row.signed_by} on {_when(row.signed_at)}" if row.status == SIGNED_OFF else ""
        late = " (overdue)" if row.overdue else ""
        lines.append(
            f"  {row.position}. {row.title:<26} {row.owner:<18} due {_day(row.due):<7} "
            f"{row.status}{who}{late}"
        )
    return "\n".join(lines)


def cycle_command(store, action: str, *, user: str, today: _dt.date | None = None) -> str:
    """``python -m sop_core cycle open|lock|status``: the same rules as the app.

    Raises:
        SopError: a refused action (the CLI prints its one line and exits non-zero).
    """
    if action == "open":
        return open_next_cycle(store, user=user, today=today)
    if action == "lock":
        return lock_cycle(store, user=user, today=today)
    if action == "status":
        return status_text(store, today=today)
    raise SopError(f'Unknown cycle action "{action}" (expected open, lock or status).')
