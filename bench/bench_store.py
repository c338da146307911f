"""What holding the store only while it is used costs, against the old way, in one run.

Run: ``.venv/bin/python bench/bench_store.py [--db DEMO.duckdb] [--rounds 30]``

The old way (before the CLI could work beside the app): one DuckDB connection open for the
life of the process, a cursor per query. The new way (``Store``): the file is attached when an
operation starts and detached ``linger`` seconds after the last one ends. Measured on the demo
store (built in a temp folder when ``--db`` is not given), the two ways alternating round by
round so that a noisy machine weighs on both alike:

- ``page run``: the reads one page run makes outside the cached ones (data version ×5, the
  families, the settings table, the last audit rows), back to back;
- ``first query after idle``: one read after more than ``linger`` idle (the new way attaches);
- ``plan data``: every contract table and the baseline into frames (the old way row by row and
  sorted; the new way ``load_plan_data``: Arrow, stored order);
- ``transaction``: one audited write.

With ``--skus N`` it also times the store read of a synthetic company of N skus
(``bench_whatif.synthetic_store``: 18 months, 20 resources, consensus and sales forecasts):
the old read (each table through ``.df()``, Python objects, sorted by key) against
``load_plan_data`` now (Arrow, stored order), median of 7, alternating.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import duckdb

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sop_core.contract import TABLE_ORDER, TABLES  # noqa: E402
from sop_core.store.access import DEFAULT_LINGER  # noqa: E402
from sop_core.store.db import Store  # noqa: E402
from sop_core.store.plandata import load_plan_data  # noqa: E402

SQL_VERSION = "SELECT coalesce(max(id), 0) FROM audit_log WHERE action <> 'refused'"
PAGE_READS = [SQL_VERSION] * 5 + [
    "SELECT DISTINCT family FROM products",
    "SELECT key, value FROM settings ORDER BY key",
    "SELECT * FROM audit_log ORDER BY id DESC LIMIT 20",
]
SQL_WRITE = "INSERT INTO audit_log (user_name, action, entity) VALUES ('bench', 'bench', 'bench')"


class OldStore:
    """The old Store's reads and writes: one connection per process, a cursor per query."""

    def __init__(self, path: Path):
        self.con = duckdb.connect(str(path))

    def query(self, sql, params=None):
        cur = self.con.cursor()
        try:
            return cur.execute(sql, params or []).df()
        finally:
            cur.close()

    def scalar(self, sql, params=None):
        cur = self.con.cursor()
        try:
            return cur.execute(sql, params or []).fetchone()[0]
        finally:
            cur.close()

    def read_table(self, table):
        spec = TABLES[table]
        cols, keys = ", ".join(spec.column_names), ", ".join(spec.key)
        return self.query(f"SELECT {cols} FROM {spec.name} ORDER BY {keys}")

    def write(self):
        cur = self.con.cursor()
        cur.execute("BEGIN TRANSACTION")
        cur.execute(SQL_WRITE)
        cur.execute("COMMIT")
        cur.close()

    def settings(self):
        from sop_core.settings import settings_from_frame

        return settings_from_frame(self.read_table("settings"))

    def close(self):
        self.con.close()


def _new_write(store: Store) -> None:
    with store.transaction() as cur:
        cur.execute(SQL_WRITE)


def _ms(fn) -> float:
    t0 = time.perf_counter()
    fn()
    return (time.perf_counter() - t0) * 1000


def measure(path: Path, rounds: int) -> dict[str, dict[str, list[float]]]:
    out: dict[str, dict[str, list[float]]] = {}

    def add(way: str, what: str, ms: float) -> None:
        out.setdefault(what, {}).setdefault(way, []).append(ms)

    for _ in range(rounds):
        for way in ("old", "new"):
            store = OldStore(path) if way == "old" else Store(path, create=False)
            try:
                store.scalar(SQL_VERSION)  # warm: the old way's connection is open now
                add(way, "page run", _ms(lambda s=store: [s.query(q) for q in PAGE_READS]))
                time.sleep(DEFAULT_LINGER + 0.1)
                add(way, "first query after idle", _ms(lambda s=store: s.scalar(SQL_VERSION)))
                read = old_plan_read if way == "old" else load_plan_data
                add(way, "plan data", _ms(lambda s=store, r=read: r(s)))
                write = store.write if way == "old" else (lambda s=store: _new_write(s))
                add(way, "transaction", _ms(write))
            finally:
                store.close()
    return out


def old_plan_read(store: Store):
    """The store read as it was: every contract table row by row, sorted, then the baseline."""
    tables = {}
    for table in TABLE_ORDER:
        spec = TABLES[table]
        cols, keys = ", ".join(spec.column_names), ", ".join(spec.key)
        tables[table] = store.query(f"SELECT {cols} FROM {spec.name} ORDER BY {keys}")
    cycle = store.scalar("SELECT max(cycle) FROM forecasts")
    store.query(
        "SELECT sku, month, units FROM baseline WHERE cycle = ? ORDER BY sku, month", [cycle]
    )
    return tables


def big_read(work: Path, n_skus: int, rounds: int = 7) -> tuple[list[float], list[float]]:
    from bench.bench_whatif import synthetic_store

    path = work / f"synthetic_{n_skus}.duckdb"
    synthetic_store(path, n_skus)
    old, new = [], []
    with Store(path, create=False) as store:
        for _ in range(rounds):
            old.append(_ms(lambda: old_plan_read(store)))
            new.append(_ms(lambda: load_plan_data(store)))
    return old, new


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--db", help="a demo store to copy (default: build one)")
    ap.add_argument("--rounds", type=int, default=30)
    ap.add_argument("--skus", type=int, default=0, help="also time a synthetic store's read")
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench_store_"))
    db = work / "demo.duckdb"
    try:
        if args.db:
            shutil.copy(args.db, db)
        else:
            from sop_core.bootstrap import init_store

            print("building the demo store…", file=sys.stderr)
            init_store(db, demo=True, user="bench").close()
        results = measure(db, args.rounds)
        big = big_read(work, args.skus) if args.skus else None
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"demo store, {len(TABLE_ORDER)} contract tables; median (min–max) ms of {args.rounds}")
    print("| operation | old: one connection | new: attach per use | difference |")
    print("|---|---|---|---|")
    for what, ways in results.items():
        old, new = ways["old"], ways["new"]
        mo, mn = statistics.median(old), statistics.median(new)
        print(
            f"| {what} | {mo:.1f} ({min(old):.1f}–{max(old):.1f}) "
            f"| {mn:.1f} ({min(new):.1f}–{max(new):.1f}) | {mn - mo:+.1f} |"
        )
    if big:
        old, new = big
        print(
            f"\n{args.skus:,}-sku store read: old (row by row, sorted) median "
            f"{statistics.median(old):.0f} ms, now (Arrow, stored order) median "
            f"{statistics.median(new):.0f} ms (min {min(old):.0f} / {min(new):.0f})"
        )


if __name__ == "__main__":
    main()
