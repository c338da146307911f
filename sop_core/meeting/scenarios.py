"""Saved scenarios per cycle: save, list, load, delete and promote, audited and safe for two editors."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from sop_core.errors import ConflictError, LeverError, SopError
from sop_core.plan.levers import (
    LEVERS,
    Levers,
    fit_windows,
    lever_text,
    levers_from_json,
    levers_to_json,
    levers_to_strings,
    parse_levers,
)
from sop_core.store.lock import ensure_unlocked

__all__ = [
    "Scenario",
    "list_scenarios",
    "get_scenario",
    "save_scenario",
    "delete_scenario",
    "promote_scenario",
    "promoted_scenario",
    "usable_levers",
]

SQL_LIST = """
SELECT id, name, levers, author, note, created_at, updated_at, version, promoted
FROM scenarios WHERE cycle = ? ORDER BY promoted DESC, name
"""
SQL_ONE = """
SELECT id, name, levers, author, note, created_at, updated_at, version, promoted
FROM scenarios WHERE cycle = ? AND name = ?
"""
SQL_INSERT = """
INSERT INTO scenarios (cycle, name, levers, author, note) VALUES (?, ?, ?, ?, ?) RETURNING id
"""
SQL_UPDATE = """
UPDATE scenarios SET levers = ?, note = ?, author = ?, updated_at = current_timestamp, version = version + 1
WHERE cycle = ? AND name = ? AND version = ?
"""
SQL_DELETE = "DELETE FROM scenarios WHERE cycle = ? AND name = ? AND version = ?"
SQL_UNPROMOTE = "UPDATE scenarios SET promoted = false WHERE cycle = ? AND promoted"
SQL_PROMOTE = "UPDATE scenarios SET promoted = true WHERE cycle = ? AND name = ?"


@dataclass(frozen=True)
class Scenario:
    """A saved scenario as loaded: its levers as ``key[:qualifier]=value`` strings and its version."""

    id: int
    cycle: str
    name: str
    levers: list[str]
    author: str | None
    note: str | None
    updated_at: object
    version: int
    promoted: bool


def _row_to_scenario(cycle: str, row: pd.Series) -> Scenario:
    return Scenario(
        id=int(row["id"]),
        cycle=cycle,
        name=row["name"],
        levers=levers_to_strings(levers_from_json(row["levers"])),
        author=row["author"],
        note=row["note"],
        updated_at=row["updated_at"],
        version=int(row["version"]),
        promoted=bool(row["promoted"]),
    )


def _guard(store, cycle: str) -> None:

    ensure_unlocked(store, cycle)


def list_scenarios(store, cycle: str | None) -> pd.DataFrame:
    """The cycle's scenarios: id, name, levers (JSON), author, note, created_at, updated_at, version, promoted."""
    return store.query(SQL_LIST, [cycle])


def get_scenario(store, cycle: str | None, name: str) -> Scenario | None:
    frame = store.query(SQL_ONE, [cycle, name])
    return None if frame.empty else _row_to_scenario(cycle, frame.iloc[0])


def _clean_name(name: str) -> str:
    text = (name or "").strip()
    if not text:
        raise SopError("A scenario needs a name.")
    if len(text) > 80:
        raise SopError(f"Scenario name is {len(text)} characters; keep it to 80.")
    return text


def save_scenario(
    store,
    cycle: str,
    name: str,
    levers: Levers,
    *,
    author: str,
    note: str = "",
    expected_version: int | None = None,
) -> Scenario:
    """Save a new scenario, or a new version of one loaded at ``expected_version``.

    Raises:
        ConflictError: the name exists and was not loaded (``expected_version`` None), or someone
            saved it since it was loaded; the message shows both sets of levers.
        CycleLocked: the cycle is locked.
    """
    name = _clean_name(name)
    _guard(store, cycle)
    text = levers_to_json(levers)
    with store.transaction() as cur:
        row = cur.execute(SQL_ONE, [cycle, name]).df()
        if row.empty:
            cur.execute(SQL_INSERT, [cycle, name, text, author, note])
            store.audit(
                cur, author, "save", "scenario", f"{cycle}/{name}", None, text, note or None
            )
        else:
            stored = _row_to_scenario(cycle, row.iloc[0])
            if expected_version is None or stored.version != expected_version:
                mine = ", ".join(levers_to_strings(levers)) or "no levers"
                theirs = ", ".join(stored.levers) or "no levers"
                when = pd.Timestamp(stored.updated_at).strftime("%H:%M on %d %b")
                lead = (
                    f'A scenario named "{name}" already exists'
                    if expected_version is None
                    else f'"{name}" was changed since you loaded it'
                )
                raise ConflictError(
                    f"{lead}: {stored.author or 'someone'} saved [{theirs}] at {when}. "
                    f"Your levers [{mine}] were not saved: load it again and re-apply, or save under another name."
                )
            cur.execute(SQL_UPDATE, [text, note, author, cycle, name, expected_version])
            store.audit(
                cur,
                author,
                "save",
                "scenario",
                f"{cycle}/{name}",
                levers_to_json(levers_from_json(row["levers"].iloc[0])),
                text,
                note or None,
            )
    return get_scenario(store, cycle, name)


def delete_scenario(store, cycle: str, name: str, *, user: str, expected_version: int) -> None:
    """Delete a scenario as loaded; refused if someone changed it since."""
    _guard(store, cycle)
    with store.transaction() as cur:
        row = cur.execute(SQL_ONE, [cycle, name]).df()
        if row.empty:
            raise SopError(f'No scenario "{name}" in cycle {cycle} (someone may have deleted it).')
        cur.execute(SQL_DELETE, [cycle, name, expected_version])
        if cur.execute(SQL_ONE, [cycle, name]).df().shape[0]:
            raise ConflictError(
                f'"{name}" was changed since you loaded it (now version {int(row["version"].iloc[0])}); '
                "not deleted: load it again first."
            )
        store.audit(cur, user, "delete", "scenario", f"{cycle}/{name}", row["levers"].iloc[0], None)


def promote_scenario(store, cycle: str, name: str, *, user: str) -> None:
    """Make a saved scenario the cycle's plan (one per cycle), audited."""
    _guard(store, cycle)
    with store.transaction() as cur:
        if cur.execute(SQL_ONE, [cycle, name]).df().empty:
            raise SopError(f'No scenario "{name}" in cycle {cycle}.')
        old = cur.execute(
            "SELECT name FROM scenarios WHERE cycle = ? AND promoted", [cycle]
        ).fetchone()
        cur.execute(SQL_UNPROMOTE, [cycle])
        cur.execute(SQL_PROMOTE, [cycle, name])
        store.audit(cur, user, "promote", "scenario", cycle, old[0] if old else "base plan", name)


def promoted_scenario(store, cycle: str | None) -> Scenario | None:
    """The scenario promoted to be the cycle's plan, or None (the base plan)."""
    frame = store.query("SELECT name FROM scenarios WHERE cycle = ? AND promoted", [cycle])
    return None if frame.empty else get_scenario(store, cycle, frame["name"].iloc[0])


def usable_levers(items: list[str], families, resources, months=None) -> tuple[Levers, list[str]]:
    """Levers of a saved scenario that still fit the data, and what had to be dropped (with why).

    A lever qualified by a family or resource that no longer exists is dropped, not an error;
    with ``months`` (the horizon), a window wholly outside it is dropped and one partly outside
    clipped to it (``levers.fit_windows``), each said in the list.
    """

    levers = parse_levers(items)
    known = {"family": set(families), "resource": set(resources)}
    kept: Levers = {}
    dropped: list[str] = []
    for key, value in levers.items():
        kind = LEVERS[key.name].qualifier
        if key.qualifier is not None and key.qualifier not in known[kind]:
            dropped.append(f"{lever_text(key, value)} ({kind} {key.qualifier} no longer exists)")
            continue
        kept[key] = value
    if months is not None:
        kept, notes = fit_windows(kept, months)
        dropped += notes
    return kept, dropped


SQL_SCENARIO_LEVERS = """
SELECT levers FROM scenarios WHERE cycle = ? AND name = ? ORDER BY updated_at DESC, id DESC LIMIT 1
"""


SQL_SCENARIO_NAMES = "SELECT DISTINCT name FROM scenarios WHERE cycle = ? ORDER BY name"


def scenario_names(store, cycle: str | None) -> list[str]:
    """Names of the scenarios saved for a cycle."""
    return store.query(SQL_SCENARIO_NAMES, [cycle])["name"].tolist()


def scenario_levers(store, cycle: str | None, name: str) -> list[str]:
    """The ``key[:qualifier]=value`` strings of a saved scenario.

    Raises:
        LeverError: no scenario of that name in the cycle (the saved names are listed), or its
            stored levers are not a JSON list of strings.
    """
    frame = store.query(SQL_SCENARIO_LEVERS, [cycle, name])
    if frame.empty:
        names = scenario_names(store, cycle)
        saved = ", ".join(names) if names else "none"
        raise LeverError(f'No scenario "{name}" in cycle {cycle}; saved scenarios: {saved}.')
    text = frame["levers"].iloc[0]
    return levers_to_strings(levers_from_json(text))
