"""The lock guard: a locked cycle refuses every change to its plan, checked inside the write."""

from __future__ import annotations

from dataclasses import dataclass

from sop_core.errors import CycleLocked
from sop_core.fmt import moment
from sop_core.store.plandata import current_cycle

__all__ = ["CycleInfo", "cycle_info", "is_locked", "ensure_unlocked", "ensure_unlocked_in"]

SQL_CYCLE = (
    "SELECT cycle, status, opened_at, opened_by, locked_at, locked_by FROM cycles WHERE cycle = ?"
)


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
        f"Cycle {cycle} is locked (by {by or 'someone'} on {moment(at)}): "
        "open the next cycle to change the plan."
    )


def ensure_unlocked(store, cycle: str | None = None) -> None:
    """Refuse a change to a locked cycle's plan (default: the current cycle).

    Called before every import, assumption, decision, consensus or scenario change.

    Raises:
        CycleLocked: the cycle is locked; the message says by whom and when.
    """
    cycle = cycle or current_cycle(store)
    if not cycle:
        return
    info = cycle_info(store, cycle)
    if info is not None and info.locked:
        raise CycleLocked(_locked_message(cycle, info.locked_by, info.locked_at))


def ensure_unlocked_in(cur, cycle: str | None) -> None:
    """The same check on the caller's transaction (so no lock slips in between check and write)."""
    if not cycle:
        return
    # fetchall: a result left open would block the caller's next register() on this cursor
    rows = cur.execute(
        "SELECT status, locked_by, locked_at FROM cycles WHERE cycle = ?", [cycle]
    ).fetchall()
    row = rows[0] if rows else None
    if row is not None and row[0] == "locked":
        raise CycleLocked(_locked_message(cycle, row[1], row[2]))
