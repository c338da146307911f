"""``python -m sop_core init/import`` as a person runs them: one-line errors, never a traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def run(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "SOP_USER": "cli-test"}
    return subprocess.run(
        [sys.executable, "-m", "sop_core", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "plan.duckdb"
    proc = run("init", "--db", str(path))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith(f"Plan store ready at {path}")
    return path


def test_good_import_exits_zero_and_reports_row_counts(db, write_csvs):
    proc = run("import", "--db", str(db), str(write_csvs(["products", "actuals"])))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "Imported: products 0 -> 3 rows, actuals 0 -> 4 rows"
    assert proc.stderr == ""


def test_bad_import_exits_non_zero_with_a_reason_first(db, write_csvs, valid_csv):
    products = valid_csv["products"].replace("B,Beta,F1,20", 'B,Beta,F1,"12,5"')
    proc = run("import", "--db", str(db), str(write_csvs([], products=products)))
    assert proc.returncode != 0
    lines = proc.stderr.splitlines()
    assert lines[0].startswith("error: Import rejected, nothing was changed: 1 problem(s).")
    assert 'products.csv row 3, column unit_price: "12,5" is not a number' in lines[1]
    assert "Traceback" not in proc.stderr
    check = run("import", "--db", str(db), str(write_csvs(["products"])))
    assert check.stdout.strip() == "Imported: products 0 -> 3 rows"  # nothing was stored before


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["import", "--db", "{tmp}/none.duckdb", "{tmp}"], "error: No plan store at"),
        (["import", "--db", "{db}", "{tmp}/missing.csv"], "missing.csv: no such file or folder"),
        (["init", "--db", "{tmp}/no/such/folder/plan.duckdb"], "error: Folder"),
    ],
)
def test_unusable_paths_exit_non_zero_without_traceback(db, tmp_path, args, expected):
    proc = run(*(a.format(tmp=tmp_path, db=db) for a in args))
    assert proc.returncode != 0
    assert proc.stderr.startswith("error:")
    assert expected in proc.stderr
    assert "Traceback" not in proc.stderr
    if args[0] == "init":
        assert len(proc.stderr.strip().splitlines()) == 1


def test_an_import_that_leaves_the_baseline_whole_keeps_the_plan_it_had_kept(
    demo_store_file, tmp_path, monkeypatch
):
    import shutil

    import pandas as pd

    from sop_core.meeting import kept, record
    from sop_core.store.db import Store

    path = tmp_path / "plan.duckdb"
    shutil.copy(demo_store_file, path)
    with Store(path) as store:
        model = record.model_of_record(store)  # kept for the data now
        before, months = model.cash_items.sum(), set(model.months)
        cash = store.read_table("cash_items")
    in_horizon = int(cash["month"].astype(str).str[:7].isin(months).sum())
    assert 0 < in_horizon < len(cash)
    cash["amount"] = cash["amount"].astype(float) + 1000.0
    folder = tmp_path / "cash"
    folder.mkdir()
    cash.to_csv(folder / "cash_items.csv", index=False)
    proc = run("import", "--db", str(path), str(folder))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.rstrip().endswith("; the plan prepared on it is kept beside the store")

    def not_again(*args, **kwargs):
        raise AssertionError("prepared again although the import kept it")

    monkeypatch.setattr(record, "prepared", not_again)
    with Store(path) as store:
        assert kept.is_kept(store, record.current_cycle(store))
        after = record.model_of_record(store).cash_items.sum()
    assert after == pytest.approx(before + 1000.0 * in_horizon)  # the items of the horizon

    # a table that can leave the baseline stale: nothing prepared, nothing said
    products = tmp_path / "products"
    products.mkdir()
    pd.read_csv(ROOT / "sop_core/demo/products.csv").to_csv(products / "products.csv", index=False)
    proc = run("import", "--db", str(path), str(products))
    assert proc.returncode == 0, proc.stderr
    assert "kept beside the store" not in proc.stdout
