"""What an import changes in a table: rows added, removed and changed by key, old -> new values
for the first of each, written to the audit log; and the baselines those changes make stale."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import duckdb

from sop_core.contract import TABLES

__all__ = ["MAX_LOGGED_ROWS", "TableChange", "table_change", "audit_change", "forget_baselines"]

# Rows listed one by one in the audit log per table and kind (added, removed, changed); the
# rest are counted in the table's summary row.
MAX_LOGGED_ROWS = 20


@dataclass
class TableChange:
    """One table's import compared with what it replaces, by the table's key."""

    table: str
    old_rows: int
    new_rows: int
    added: int = 0
    removed: int = 0
    changed: int = 0
    # (kind, key, old, new): the first MAX_LOGGED_ROWS of each kind
    rows: list[tuple[str, str, str | None, str | None]] = field(default_factory=list)
    first_month: str | None = None  # the earliest month of a row added, removed or changed

    @property
    def summary(self) -> str:
        return f"{self.added:,} added, {self.removed:,} removed, {self.changed:,} changed"

    @property
    def any(self) -> bool:
        return bool(self.added or self.removed or self.changed)


def _text(value: object) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "(empty)"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and abs(value) < 1e15 else f"{value:.10g}"
    return str(value)


def table_change(cur: duckdb.DuckDBPyConnection, table: str, incoming: str) -> TableChange:
    """Compare the stored ``table`` with the table named ``incoming``, by the key.

    ``incoming`` has the stored table's columns, already cast to its types (``replace_tables``
    casts the import's rows once into it), so both are compared as stored.
    """
    spec = TABLES[table]  # allow-list: KeyError for anything else
    keys = list(spec.key)
    values = [c.name for c in spec.columns if c.name not in keys]

    def on(a: str, b: str) -> str:
        return " AND ".join(f"{a}.{k} = {b}.{k}" for k in keys)

    differs = " OR ".join(f"o.{v} IS DISTINCT FROM n.{v}" for v in values) or "FALSE"
    key_text = " || ' · ' || ".join(f"CAST(x.{k} AS VARCHAR)" for k in keys)
    old_rows = cur.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
    new_rows = cur.execute(f"SELECT count(*) FROM {incoming}").fetchone()[0]
    change = TableChange(table, int(old_rows), int(new_rows))

    def rows(sql: str) -> list[tuple]:
        return cur.execute(sql + f" LIMIT {MAX_LOGGED_ROWS}").fetchall()

    # the key and value lists come from the contract, never from a user
    added = (
        f"FROM {incoming} AS x WHERE NOT EXISTS (SELECT 1 FROM {table} AS o WHERE {on('o', 'x')})"
    )
    removed = (
        f"FROM {table} AS x WHERE NOT EXISTS (SELECT 1 FROM {incoming} AS n WHERE {on('x', 'n')})"
    )
    changed = f"FROM {table} AS o JOIN {incoming} AS n ON {on('o', 'n')} WHERE {differs}"
    change.added = int(cur.execute(f"SELECT count(*) {added}").fetchone()[0])
    change.removed = int(cur.execute(f"SELECT count(*) {removed}").fetchone()[0])
    change.changed = int(cur.execute(f"SELECT count(*) {changed}").fetchone()[0])
    described = ", ".join(f"x.{v}" for v in values) or "NULL"
    for kind, frm in (("added", added), ("removed", removed)):
        count = change.added if kind == "added" else change.removed
        if count:
            for row in rows(f"SELECT {key_text}, {described} {frm} ORDER BY ALL"):
                text = "; ".join(f"{v} {_text(x)}" for v, x in zip(values, row[1:], strict=True))
                old, new_text = (None, text) if kind == "added" else (text, None)
                change.rows.append((kind, row[0], old, new_text or None))
    if change.changed:
        both = ", ".join(f"o.{v}, n.{v}" for v in values)
        key_o = key_text.replace("x.", "o.")
        for row in rows(f"SELECT {key_o}, {both} {changed} ORDER BY ALL"):
            olds, news = [], []
            for i, v in enumerate(values):
                before, after = row[1 + 2 * i], row[2 + 2 * i]
                if _text(before) != _text(after):
                    olds.append(f"{v} {_text(before)}")
                    news.append(f"{v} {_text(after)}")
            change.rows.append(("changed", row[0], "; ".join(olds), "; ".join(news)))
    if "month" in keys and change.any:
        months = [
            f"SELECT min(x.month) {added}",
            f"SELECT min(x.month) {removed}",
            f"SELECT min(o.month) {changed}",
        ]
        found = [cur.execute(sql).fetchone()[0] for sql in months]
        found = [m for m in found if m is not None]
        change.first_month = min(found) if found else None
    return change


def audit_change(store, cur, change: TableChange, *, user: str, source: str) -> None:
    """One row per listed row change (action ``import change``: the key, old -> new), then the
    table's summary (action ``import``: row counts; the source and rows added, removed, changed)."""
    for kind, key, old, new in change.rows:
        store.audit(cur, user, "import change", change.table, key, old, new, kind)
    store.audit(
        cur,
        user,
        "import",
        change.table,
        None,
        f"{change.old_rows} rows",
        f"{change.new_rows} rows",
        f"{source}: {change.summary}",
    )


SQL_FORGET_FROM = "DELETE FROM baseline WHERE cycle > ? OR cycle >= ?"
SQL_FORGET_ALL = "DELETE FROM baseline"


def forget_baselines(
    cur: duckdb.DuckDBPyConnection, changes: dict[str, TableChange], current: str | None
) -> None:
    """Delete the stored baselines an import made stale, so they are refitted.

    A cycle's baseline is fitted on the actuals before its first month: new, removed or changed
    actuals in month M make every cycle after M stale. The current cycle (and any later one)
    is fitted up to the plan horizon, which actuals and settings move: it is stale whenever
    either changed. Other changes (new skus, new cycles, more months) leave a baseline
    incomplete, which the refit finds by itself (``sop_core.forecasting.refit``).
    """
    actuals = changes.get("actuals")
    settings = changes.get("settings")
    touched = actuals is not None and actuals.any
    if not touched and not (settings is not None and settings.any):
        return
    if current is None:
        cur.execute(SQL_FORGET_ALL)
        return
    first = actuals.first_month if touched and actuals.first_month else current
    cur.execute(SQL_FORGET_FROM, [first, current])
