"""The plan store: numbered migrations, transactional replace, allow-listed reads, clear errors."""

from __future__ import annotations

import duckdb
import pandas as pd
import pytest

from sop_core.contract import TABLE_ORDER
from sop_core.errors import StoreError
from sop_core.store.db import Store
from sop_core.store.migrations import MIGRATIONS


def assert_same(before: dict[str, pd.DataFrame], after: dict[str, pd.DataFrame]) -> None:
    assert before.keys() == after.keys()
    for name in before:
        pd.testing.assert_frame_equal(before[name], after[name], obj=name)


def test_migrations_are_recorded_and_not_reapplied(tmp_path):
    path = tmp_path / "plan.duckdb"
    with Store(path) as store:
        recorded = store.query("SELECT version, name FROM schema_migrations ORDER BY version")
        assert recorded["version"].tolist() == [number for number, _, _ in MIGRATIONS]
        assert recorded["name"].tolist() == [name for _, name, _ in MIGRATIONS]
        assert store.schema_version() == MIGRATIONS[-1][0]
        assert store.row_counts() == dict.fromkeys(TABLE_ORDER, 0)
    with Store(path, create=False) as again:
        assert again.migrate() == []
        count = again.scalar("SELECT count(*) FROM schema_migrations")
        assert count == len(MIGRATIONS)


def test_a_failed_migration_leaves_no_record(tmp_path, monkeypatch):
    from sop_core.store import db as store_module

    path = tmp_path / "plan.duckdb"
    Store(path).close()
    broken = [*MIGRATIONS, (999, "broken", "CREATE TABLE half_done (x INTEGER); SELECT nope")]
    monkeypatch.setattr(store_module, "MIGRATIONS", broken)
    with pytest.raises(duckdb.Error):
        Store(path)
    monkeypatch.setattr(store_module, "MIGRATIONS", MIGRATIONS)
    with Store(path) as store:
        assert store.schema_version() == MIGRATIONS[-1][0]
        tables = store.query("SELECT table_name FROM information_schema.tables")["table_name"]
        assert "half_done" not in set(tables)


def test_replace_tables_is_all_or_nothing(loaded_db):
    before = loaded_db.snapshot()
    products = loaded_db.read_table("products").assign(unit_price=1.0)
    bad_actuals = pd.DataFrame({"month": ["2026-01"], "sku": ["A"], "units": ["not a number"]})
    with pytest.raises(duckdb.ConversionException):
        loaded_db.replace_tables(
            {"products": products, "actuals": bad_actuals}, user="x", source="test"
        )
    assert_same(before, loaded_db.snapshot())


def test_replace_tables_replaces_audits_and_drops_the_stale_baseline(loaded_db):
    with loaded_db.transaction() as cur:
        cur.execute(
            "INSERT INTO baseline (cycle, month, sku, units, model) "
            "VALUES ('2026-01', '2026-01', 'A', 1.0, 'ets')"
        )
    actuals = pd.DataFrame({"month": ["2026-01"], "sku": ["A"], "units": [3.0]})
    changes = loaded_db.replace_tables({"actuals": actuals}, user="dee", source="a.csv")
    assert changes == {"actuals": (4, 1)}
    assert loaded_db.read_table("actuals").values.tolist() == [["2026-01", "A", 3.0]]
    assert loaded_db.scalar("SELECT count(*) FROM baseline") == 0
    last = loaded_db.audit_log(limit=1).iloc[0]
    assert (last["user_name"], last["entity"], last["old_value"], last["new_value"]) == (
        "dee",
        "actuals",
        "4 rows",
        "1 rows",
    )
    assert last["detail"] == "a.csv: 1 added, 4 removed, 0 changed"


def test_transaction_rolls_back_on_error(loaded_db):
    before = loaded_db.snapshot()
    with pytest.raises(RuntimeError), loaded_db.transaction() as cur:
        cur.execute("DELETE FROM products")
        raise RuntimeError("stop")
    assert_same(before, loaded_db.snapshot())


@pytest.mark.parametrize(
    "name", ["audit_log", "schema_migrations", "nope", "products; DROP TABLE products", ""]
)
def test_read_table_only_reads_contract_tables(fresh_db, name):
    with pytest.raises(KeyError):
        fresh_db.read_table(name)
    assert fresh_db.read_table("products").empty


def test_read_table_orders_by_key_in_contract_columns(loaded_db):
    frame = loaded_db.read_table("actuals")
    assert list(frame.columns) == ["month", "sku", "units"]
    assert frame[["month", "sku"]].values.tolist() == [
        ["2025-11", "A"],
        ["2025-12", "A"],
        ["2025-12", "B"],
        ["2025-12", "C"],
    ]


def test_a_file_that_is_not_duckdb_gives_a_store_error(tmp_path):
    path = tmp_path / "notes.duckdb"
    path.write_text("these are my notes, not a database\n" * 100)
    with pytest.raises(StoreError) as info:
        Store(path)
    assert str(path) in str(info.value)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize(
    ("relative", "create", "expected"),
    [
        ("missing/plan.duckdb", True, "does not exist; cannot create the plan store there"),
        ("absent.duckdb", False, "No plan store at"),
    ],
)
def test_unusable_paths_give_a_store_error(tmp_path, relative, create, expected):
    with pytest.raises(StoreError, match=expected):
        Store(tmp_path / relative, create=create)
    assert not (tmp_path / relative).exists()
