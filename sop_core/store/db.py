"""The plan store: one DuckDB file, created and upgraded by numbered migrations."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow as pa

from sop_core.contract import TABLE_ORDER, TABLES
from sop_core.errors import StoreError
from sop_core.settings import Settings, settings_from_frame
from sop_core.store.access import HeldCursor, access_for, give_back
from sop_core.store.changes import TableChange, audit_change, forget_baselines, table_change
from sop_core.store.lock import ensure_unlocked_in
from sop_core.store.migrations import MIGRATIONS
from sop_core.store.plandata import current_cycle

__all__ = ["Store", "default_db_path", "resolve_db_path", "DB_ENV"]

DB_ENV = "SOP_DB"

SQL_MIGRATIONS_TABLE = """
CREATE TABLE IF NOT EXISTS schema_migrations (
    version INTEGER PRIMARY KEY,
    name VARCHAR NOT NULL,
    applied_at TIMESTAMP NOT NULL DEFAULT current_timestamp
)
"""
SQL_RECORDED_MIGRATIONS = "SELECT count(*) FROM schema_migrations"
SQL_AUDIT_INSERT = """
INSERT INTO audit_log (user_name, action, entity, item_key, old_value, new_value, detail)
VALUES (?, ?, ?, ?, ?, ?, ?)
"""


def default_db_path() -> Path:
    """``$SOP_DB`` if set, else ``data/sop.duckdb`` under the current folder (run.sh starts in the
    repository, so the app's store is the repository's ``data/sop.duckdb``)."""
    env = os.environ.get(DB_ENV)
    return Path(env) if env else Path("data") / "sop.duckdb"


def resolve_db_path(arg: str | os.PathLike | None) -> Path:
    """The ``--db`` argument if given, else the default."""
    return Path(arg) if arg else default_db_path()


class Store:
    """The plan store at ``path``: every read and transaction holds the file only while it runs.

    Streamlit sessions are threads sharing the process; the command line and the app are two
    processes. Each query runs on its own cursor; transactions of this process are serialised;
    between operations the file is free for another program (see :mod:`sop_core.store.access`).
    """

    def __init__(self, path: str | os.PathLike, *, create: bool = True):
        self.path = Path(path)
        if not create and not self.path.exists():
            raise StoreError(
                f"No plan store at {self.path}: create it with 'python -m sop_core init --db {self.path}'."
            )
        if self.path.suffix and self.path.parent and not self.path.parent.exists():
            raise StoreError(
                f"Folder {self.path.parent} does not exist; cannot create the plan store there."
            )
        self._access = access_for(self.path)
        self._closed = False
        # Serialises this process's writers: what a transaction checked is what it writes.
        self._write_lock = threading.RLock()
        try:
            self.migrate()
        except BaseException:
            self.close()
            raise

    # --- connection -------------------------------------------------------------------
    def close(self) -> None:
        """Let go of the file (other Stores of this process on the same file keep it)."""
        if not self._closed:
            self._closed = True
            give_back(self._access)

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def cursor(self) -> HeldCursor:
        """A read-write cursor holding the file until ``close()`` (for older callers: prefer
        :meth:`query`, :meth:`scalar` and :meth:`transaction`, which let go at once)."""
        return HeldCursor(self._access)

    @contextmanager
    def reading(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A cursor for reads; the file is held (shared with other readers) while the block runs."""
        with self._access.cursor(write=False) as cur:
            yield cur

    @contextmanager
    def exclusive(self) -> Iterator[None]:
        """Hold the file read-write for several operations (check, then write) of this thread.

        Other threads of the process still read; other programs wait until the block ends.
        """
        with self._write_lock:
            self._access.acquire(write=True)
            try:
                yield
            finally:
                self._access.release()

    def query(self, sql: str, params: list | dict | None = None) -> pd.DataFrame:
        """Run a read query on a fresh cursor and return a frame."""
        with self._access.cursor(write=False) as cur:
            return cur.execute(sql, params or []).df()

    def arrow(self, sql: str, params: list | dict | None = None) -> pa.Table:
        """Run a read query and return an Arrow table (no Python object per row or value)."""
        with self._access.cursor(write=False) as cur:
            return cur.sql(sql, params=params or None).to_arrow_table()

    def scalar(self, sql: str, params: list | dict | None = None):
        with self._access.cursor(write=False) as cur:
            row = cur.execute(sql, params or []).fetchone()
            return None if row is None else row[0]

    @contextmanager
    def transaction(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A cursor inside one transaction: committed on success, rolled back on any error."""
        with self._write_lock, self._access.cursor(write=True) as cur:
            cur.execute("BEGIN TRANSACTION")
            try:
                yield cur
            except BaseException:
                cur.execute("ROLLBACK")
                raise
            cur.execute("COMMIT")

    # --- schema -------------------------------------------------------------------------
    def migrate(self) -> list[int]:
        """Apply every migration not yet recorded; return the numbers applied."""
        if self._up_to_date():
            return []  # a read, so opening a store beside a running app takes no write turn
        applied = []
        with self.exclusive():
            with self._access.cursor(write=True) as cur:
                cur.execute(SQL_MIGRATIONS_TABLE)
                done = {
                    r[0] for r in cur.execute("SELECT version FROM schema_migrations").fetchall()
                }
            for number, name, sql in MIGRATIONS:
                if number in done:
                    continue
                with self.transaction() as cur:
                    cur.execute(sql)
                    cur.execute(
                        "INSERT INTO schema_migrations (version, name) VALUES (?, ?)",
                        [number, name],
                    )
                applied.append(number)
        return applied

    def _up_to_date(self) -> bool:
        if not self.path.exists():
            return False
        try:
            recorded = self.scalar(SQL_RECORDED_MIGRATIONS)
        except duckdb.CatalogException:
            return False  # a new, empty file
        return int(recorded or 0) == len(MIGRATIONS) and int(
            self.scalar("SELECT coalesce(max(version), 0) FROM schema_migrations")
        ) == max(number for number, _, _ in MIGRATIONS)

    def schema_version(self) -> int:
        return int(self.scalar("SELECT coalesce(max(version), 0) FROM schema_migrations"))

    # --- contract tables ----------------------------------------------------------------
    def read_table(self, table: str) -> pd.DataFrame:
        """A contract table, columns in contract order, rows sorted by key."""
        return self.read_tables([table])[table]

    def read_tables(self, tables: list[str], *, ordered: bool = True) -> dict[str, pd.DataFrame]:
        """Contract tables in one read, through Arrow (10x faster than row by row for big tables).

        Args:
            ordered: rows sorted by key; without it, rows come in stored order, which is key
                order after an import (``replace_tables`` writes them sorted) but not after
                edits. Sorting is most of the read's time for a large table.
        """
        specs = [TABLES[t] for t in tables]  # allow-list: KeyError for anything else
        out = {}
        with self._access.cursor(write=False) as cur:
            for spec in specs:
                sql = f"SELECT {', '.join(spec.column_names)} FROM {spec.name}"
                if ordered:
                    sql += f" ORDER BY {', '.join(spec.key)}"
                out[spec.name] = cur.sql(sql).to_arrow_table().to_pandas()
        return out

    def row_counts(self) -> dict[str, int]:
        return {t: int(self.scalar(f"SELECT count(*) FROM {t}")) for t in TABLE_ORDER}

    def replace_tables(
        self, frames: dict[str, pd.DataFrame], *, user: str, source: str
    ) -> dict[str, tuple[int, int]]:
        """Replace whole contract tables with already-validated frames, in one transaction.

        Writes one audit row per table (row counts; rows added, removed and changed) and one
        per row changed, up to ``changes.MAX_LOGGED_ROWS`` of each kind, with old -> new values.
        Returns ``{table: (old_rows, new_rows)}``.
        """
        # Lock guard (sop_core.meeting.cycles): every import into a locked current cycle is refused,
        # checked inside the write transaction so a lock cannot slip in between.

        changes: dict[str, tuple[int, int]] = {}
        diffs: dict[str, TableChange] = {}
        with self.transaction() as cur:
            current = current_cycle(self)
            ensure_unlocked_in(cur, current)
            for table in TABLE_ORDER:
                if table not in frames:
                    continue
                spec = TABLES[table]
                frame = frames[table].reindex(columns=spec.column_names)
                cols = ", ".join(spec.column_names)
                casts = ", ".join(
                    f"CAST({c.name} AS {c.sql_type}) AS {c.name}" for c in spec.columns
                )
                # The frame cast to the table's types once (a temporary table of this
                # connection), then compared and inserted from there: each query over the
                # pandas frame itself would convert its columns again.
                cur.register("incoming_frame", frame)
                cur.execute(
                    f"CREATE TEMP TABLE incoming_rows AS SELECT {casts} FROM incoming_frame"
                )
                cur.unregister("incoming_frame")
                # rows added, removed and changed, for the audit log and the stale baselines
                diffs[table] = diff = table_change(cur, table, "incoming_rows")
                cur.execute(f"DELETE FROM {table}")
                # Stored in key order, so that reads in stored order need no sort.
                keys = ", ".join(spec.key)
                cur.execute(
                    f"INSERT INTO {table} ({cols}) SELECT {cols} FROM incoming_rows ORDER BY {keys}"
                )
                cur.execute("DROP TABLE incoming_rows")
                changes[table] = (diff.old_rows, diff.new_rows)
                audit_change(self, cur, diff, user=user, source=source)
            # The statistical baselines fitted on history this import changed.
            forget_baselines(cur, diffs, current)
        return changes

    # --- audit ----------------------------------------------------------------------------
    @staticmethod
    def audit(
        cur: duckdb.DuckDBPyConnection,
        user: str,
        action: str,
        entity: str,
        item_key: str | None = None,
        old_value: object = None,
        new_value: object = None,
        detail: str | None = None,
    ) -> None:
        """Write one audit row on the given cursor (inside the caller's transaction)."""
        cur.execute(
            SQL_AUDIT_INSERT,
            [
                user or "unknown",
                action,
                entity,
                item_key,
                None if old_value is None else str(old_value),
                None if new_value is None else str(new_value),
                detail,
            ],
        )

    def audit_log(self, limit: int | None = None) -> pd.DataFrame:
        sql = "SELECT id, logged_at, user_name, action, entity, item_key, old_value, new_value, detail FROM audit_log ORDER BY id DESC"
        if limit:
            return self.query(sql + " LIMIT ?", [int(limit)])
        return self.query(sql)

    # --- settings ---------------------------------------------------------------------
    def settings(self) -> Settings:
        return settings_from_frame(self.read_table("settings"))

    def snapshot(self) -> dict[str, pd.DataFrame]:
        """Every table's full contents (contract, audit, and the rest), for comparisons."""
        names = self.query(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main' ORDER BY 1"
        )
        return {n: self.query(f'SELECT * FROM "{n}"') for n in names["table_name"]}
