"""Two editors at once: an update applies only if the row is still the version that was loaded."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd

from sop_core.errors import ConflictError, SopError

__all__ = ["EditableTable", "EDITABLE", "guarded_update", "conflict_message", "show_value"]


@dataclass(frozen=True)
class EditableTable:
    """A table whose rows are edited in place: its key, editable columns and who/when columns."""

    key: tuple[str, ...]
    columns: frozenset[str]
    label: str
    name_column: str
    who: str | None = "updated_by"
    when: str | None = "updated_at"
    quiet: frozenset[str] = frozenset()  # bookkeeping columns a refusal does not mention


# The allow-list: only these tables and columns are ever named in a guarded UPDATE.
EDITABLE: dict[str, EditableTable] = {
    "assumptions": EditableTable(
        key=("id",),
        columns=frozenset(
            {
                "value",
                "unit",
                "owner",
                "rationale",
                "evidence",
                "tolerance_pct",
                "reviewed_at",
                "reviewed_by",
                "link",
            }
        ),
        label="assumption",
        name_column="name",
        quiet=frozenset({"reviewed_at", "reviewed_by"}),
    ),
    "decisions": EditableTable(
        key=("id",),
        columns=frozenset(
            {
                "decision",
                "owner",
                "due",
                "status",
                "answers",
                "note",
                "expected_measure",
                "expected_value",
                "expected_month",
                "expected_scenario",
            }
        ),
        label="decision",
        name_column="decision",
    ),
    "cycle_steps": EditableTable(
        key=("cycle", "step"),
        columns=frozenset({"owner", "due", "status", "signed_by", "signed_at"}),
        label="step",
        name_column="title",
        quiet=frozenset({"signed_at"}),
    ),
    "scenarios": EditableTable(
        key=("id",),
        columns=frozenset({"levers", "note", "author", "promoted"}),
        label="scenario",
        name_column="name",
        who="author",
        when="updated_at",
    ),
    "board_commentary": EditableTable(
        key=("cycle", "section"),
        columns=frozenset({"body"}),
        label="commentary on",
        name_column="section",
        who="written_by",
        when="written_at",
    ),
}

Formatter = Callable[[str, object, dict], str]


def show_value(value: object) -> str:
    """A stored value as a person reads it: blank for missing, numbers without trailing zeros."""
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return "(blank)"
    if isinstance(value, str) and not value.strip():
        return "(blank)"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, pd.Timestamp):
        return value.strftime("%Y-%m-%d %H:%M")
    return str(value)


def _default_fmt(column: str, value: object, row: dict) -> str:
    return show_value(value)


def _same(a: object, b: object) -> bool:
    if a is None or (isinstance(a, float) and pd.isna(a)):
        return b is None or (isinstance(b, float) and pd.isna(b))
    if isinstance(a, int | float) and isinstance(b, int | float):
        return float(a) == float(b)
    return str(a) == str(b)


def conflict_message(
    *,
    label: str,
    name: str,
    who: str | None,
    when: object,
    fields: list[tuple[str, str, str | None, str | None]],
) -> str:
    """The refusal a person reads: who saved what and when, what they loaded, what was not saved.

    Args:
        fields: ``(column, stored now, as loaded or None, mine or None)``, already formatted.
    """
    at = ""
    if when is not None and not (isinstance(when, float) and pd.isna(when)):
        at = f" at {pd.Timestamp(when).strftime('%H:%M on %d %b')}"
    parts, mine = [], []
    for column, stored, loaded, yours in fields:
        text = f"{column} is now {stored}"
        if loaded is not None:
            text += f" (you loaded {loaded})"
        parts.append(text)
        if yours is not None:
            mine.append(f"{column} {yours}")
    changed = f": {'; '.join(parts)}" if parts else ""
    lost = f"Your {', '.join(mine)} was not saved" if mine else "Your change was not saved"
    return (
        f'{who or "Someone"} saved the {label} "{name}"{at} since you loaded it{changed}. '
        f"{lost} — reload and re-apply."
    )


def guarded_update(
    cur,
    table: str,
    key: object,
    expected_version: int,
    changes: dict[str, object],
    *,
    user: str,
    loaded: dict | None = None,
    fmt: Formatter | None = None,
) -> dict:
    """Apply ``changes`` to one row if it is still at ``expected_version``; bump its version.

    Runs on the caller's cursor, inside the caller's transaction (``store.transaction()``),
    so the check and the write are one step for every session of the process.

    Args:
        table: one of ``EDITABLE``; ``changes`` may name only its editable columns.
        key: the row's key value (a tuple for a composite key).
        loaded: the row as the user loaded it, to show "since you loaded …" in a refusal.
        fmt: ``fmt(column, value, row) -> str`` to show values with units in a refusal.

    Returns:
        The stored row before the update, as a dict (for the audit's old values).

    Raises:
        ConflictError: someone saved the row since it was loaded; the message shows the stored
            value, the loaded one and the one that was not saved.
        SopError: the row no longer exists.
        ValueError: a table or column outside the allow-list (a programming error).
    """
    rule = EDITABLE.get(table)
    if rule is None:
        raise ValueError(f"{table} is not an editable table (expected one of {sorted(EDITABLE)})")
    bad = sorted(set(changes) - rule.columns)
    if bad:
        raise ValueError(f"{table}: {bad} are not editable (editable: {sorted(rule.columns)})")
    keys = key if isinstance(key, tuple) else (key,)
    if len(keys) != len(rule.key):
        raise ValueError(f"{table} is keyed by {rule.key}, got {key!r}")
    where = " AND ".join(f"{k} = ?" for k in rule.key)
    found = cur.execute(f"SELECT * FROM {table} WHERE {where}", list(keys)).df()
    if found.empty:
        raise SopError(
            f"The {rule.label} {key!r} no longer exists (someone deleted it): reload the page."
        )
    stored = {c: _plain(v) for c, v in found.iloc[0].items()}
    show = fmt or _default_fmt
    if int(stored["version"]) != int(expected_version):
        raise ConflictError(_conflict(rule, stored, loaded, changes, show))
    sets = [f"{c} = ?" for c in changes] + ["version = version + 1"]
    params = list(changes.values())
    if rule.who and rule.who not in changes:
        sets.append(f"{rule.who} = ?")
        params.append(user)
    if rule.when:
        sets.append(f"{rule.when} = current_timestamp")
    sql = f"UPDATE {table} SET {', '.join(sets)} WHERE {where} AND version = ? RETURNING version"
    done = cur.execute(sql, params + list(keys) + [int(expected_version)]).fetchall()
    if not done:  # changed between the read and the write (another process)
        again = cur.execute(f"SELECT * FROM {table} WHERE {where}", list(keys)).df()
        now = {c: _plain(v) for c, v in again.iloc[0].items()} if len(again) else stored
        raise ConflictError(_conflict(rule, now, loaded, changes, show))
    return stored


def _plain(value: object) -> object:
    if value is pd.NaT:
        return None
    if isinstance(value, float) and pd.isna(value):
        return None
    if hasattr(value, "item") and not isinstance(value, pd.Timestamp):
        return value.item()
    return value


def _conflict(
    rule: EditableTable, stored: dict, loaded: dict | None, changes: dict, show: Formatter
) -> str:
    fields = []
    columns = [c for c in changes if c in stored and c not in rule.quiet]
    if loaded:
        columns += [
            c
            for c in sorted(rule.columns - rule.quiet)
            if c in loaded and c in stored and c not in changes and not _same(loaded[c], stored[c])
        ]
    for c in columns:
        theirs = stored[c]
        was = loaded.get(c) if loaded else None
        mine = changes.get(c)
        changed_by_them = loaded is not None and c in loaded and not _same(was, theirs)
        if c in changes and _same(mine, theirs) and not changed_by_them:
            continue  # a column both sides agree on says nothing
        fields.append(
            (
                c.replace("_", " "),
                show(c, theirs, stored),
                show(c, was, loaded) if loaded is not None and c in loaded else None,
                show(c, mine, stored) if c in changes else None,
            )
        )
    return conflict_message(
        label=rule.label,
        name=str(stored.get(rule.name_column, "")),
        who=stored.get(rule.who) if rule.who else None,
        when=stored.get(rule.when) if rule.when else None,
        fields=fields,
    )
