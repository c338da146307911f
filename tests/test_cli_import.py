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
