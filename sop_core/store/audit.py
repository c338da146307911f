"""The audit log read back: who changed what and when, filtered, newest first."""

from __future__ import annotations

import datetime as _dt

import pandas as pd

__all__ = [
    "AUDIT_COLUMNS",
    "SQL_DATA_VERSION",
    "audit_entries",
    "audit_facets",
    "data_version",
    "data_stamp",
]

AUDIT_COLUMNS = [
    "id",
    "logged_at",
    "user_name",
    "action",
    "entity",
    "item_key",
    "old_value",
    "new_value",
    "detail",
]
# Every write is audited: the last id grows with every import or edit (refusals change nothing).
SQL_DATA_VERSION = "SELECT coalesce(max(id), 0) FROM audit_log WHERE action <> 'refused'"
SQL_LOGGED_AT = "SELECT logged_at FROM audit_log WHERE id = ?"
SQL_FACETS = """
SELECT
    (SELECT list(DISTINCT user_name ORDER BY user_name) FROM audit_log) AS users,
    (SELECT list(DISTINCT action ORDER BY action) FROM audit_log) AS actions,
    (SELECT list(DISTINCT entity ORDER BY entity) FROM audit_log) AS entities,
    (SELECT min(logged_at) FROM audit_log) AS first,
    (SELECT max(logged_at) FROM audit_log) AS last
"""


def data_version(store) -> int:
    """Grows with every import or edit (each writes the audit log): 0 for a store never written."""
    return int(store.scalar(SQL_DATA_VERSION))


def data_stamp(store, version: int | None = None) -> str | None:
    """The store's data ``version`` (default: now) with the time it was written: one store's
    state, not another's that counts as many writes (a store made again from nothing). None for
    a store never written."""
    version = data_version(store) if version is None else int(version)
    at = store.scalar(SQL_LOGGED_AT, [version]) if version else None
    return None if at is None else f"{version}@{pd.Timestamp(at).isoformat()}"


def _values(items) -> list[str]:
    if items is None or items is pd.NA or isinstance(items, str | float):
        return [items] if isinstance(items, str) and items else []
    return [str(i) for i in items if i is not None and str(i) != ""]


def audit_entries(
    store,
    *,
    users=None,
    actions=None,
    entities=None,
    start: _dt.date | None = None,
    end: _dt.date | None = None,
    text: str | None = None,
    limit: int | None = 1000,
) -> pd.DataFrame:
    """Audit rows matching every filter given, newest first.

    Args:
        users, actions, entities: a value or a list of values; empty = any.
        start, end: dates, both inclusive.
        text: found (case-insensitive) in the item, the old or new value or the detail.
        limit: at most this many rows (None = all).
    """
    where, params = [], []
    for column, chosen in (("user_name", users), ("action", actions), ("entity", entities)):
        values = _values(chosen)
        if values:
            where.append(f"{column} IN ({', '.join('?' for _ in values)})")
            params += values
    if start is not None:
        where.append("CAST(logged_at AS DATE) >= ?")
        params.append(start)
    if end is not None:
        where.append("CAST(logged_at AS DATE) <= ?")
        params.append(end)
    if text and text.strip():
        where.append("concat_ws(' ', item_key, old_value, new_value, detail) ILIKE ?")
        params.append(f"%{text.strip()}%")
    sql = f"SELECT {', '.join(AUDIT_COLUMNS)} FROM audit_log"
    if where:
        sql += " WHERE " + " AND ".join(where)
    sql += " ORDER BY id DESC"
    if limit:
        sql += " LIMIT ?"
        params.append(int(limit))
    return store.query(sql, params)


def audit_facets(store) -> dict:
    """The values the filters offer: users, actions, entities, and the first and last dates."""
    row = store.query(SQL_FACETS).iloc[0]

    def day(value):
        return None if value is None or pd.isna(value) else pd.Timestamp(value).date()

    return {
        "users": _values(row["users"]),
        "actions": _values(row["actions"]),
        "entities": _values(row["entities"]),
        "first": day(row["first"]),
        "last": day(row["last"]),
    }
