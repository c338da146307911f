"""Shared fixtures: a fresh plan store, and small valid contract CSVs to import."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from sop_core.store.db import Store

# A tiny company that satisfies the whole contract: three skus in two families, two resources.
VALID_CSV: dict[str, str] = {
    "products": (
        "sku,name,family,unit_price,unit_material_cost,unit_variable_cost,target_cover_days\n"
        "A,Alpha,F1,10,4,1,30\n"
        "B,Beta,F1,20,8,2,15\n"
        "C,Gamma,F2,5,2,0.5,0\n"
    ),
    "actuals": "month,sku,units\n2025-11,A,100\n2025-12,A,110\n2025-12,B,50\n2025-12,C,0\n",
    "forecasts": (
        "cycle,month,sku,source,units\n"
        "2026-01,2026-01,A,sales,120\n"
        "2026-01,2026-01,A,consensus,115\n"
        "2026-01,2026-01,B,marketing,60\n"
    ),
    "inventory": "sku,on_hand_units\nA,200\nB,40\nC,0\n",
    "resources": "resource,site,hours_per_fte,cost_per_fte\nL1,Leeds,160,3000\nL2,Leeds,150,2800\n",
    "routings": "sku,resource,hours_per_unit\nA,L1,0.5\nB,L1,0.25\nB,L2,1\nC,L2,0.1\n",
    "capacity": "month,resource,available_hours\n2026-01,L1,300\n2026-01,L2,200\n",
    "headcount": "month,resource,planned_fte\n2026-01,L1,2\n2026-01,L2,1.5\n",
    "supply_limits": "month,sku,max_units\n2026-01,C,500\n",
    "budget": (
        "month,family,revenue,gross_margin,closing_inventory_value,headcount_fte\n"
        "2026-01,F1,2500,900,4000,3\n"
        "2026-01,F2,300,-20,,\n"
    ),
    "cash_items": "month,item,amount\n2026-03,Capex: new mould,-15000\n",
    "settings": "key,value\ncurrency,EUR\nplan_start,2026-01\nopening_cash,50000\n",
}


@pytest.fixture
def fresh_db(tmp_path: Path) -> Iterator[Store]:
    """A new DuckDB plan store in tmp_path with every migration applied; closed afterwards."""
    store = Store(tmp_path / "plan.duckdb")
    yield store
    store.close()


@pytest.fixture
def write_csvs(tmp_path: Path) -> Callable[..., Path]:
    """A function writing contract CSVs into a new folder under tmp_path; returns the folder.

    ``write_csvs()`` writes every table of VALID_CSV; ``write_csvs(["products"])`` only those;
    keyword arguments replace a table's text (str) or raw bytes, e.g. ``products="sku\\n"``.
    """
    count = 0

    def write(tables: list[str] | None = None, **texts: str | bytes) -> Path:
        nonlocal count
        count += 1
        folder = tmp_path / f"import_{count}"
        folder.mkdir()
        names = list(VALID_CSV) if tables is None else list(tables)
        for name in [*names, *(t for t in texts if t not in names)]:
            content = texts.get(name, VALID_CSV.get(name, ""))
            data = content if isinstance(content, bytes) else content.encode("utf-8")
            (folder / f"{name}.csv").write_bytes(data)
        return folder

    return write


@pytest.fixture
def valid_csv() -> dict[str, str]:
    """The text of every valid contract CSV, by table (a copy: change it freely)."""
    return dict(VALID_CSV)


@pytest.fixture
def loaded_db(fresh_db: Store, write_csvs: Callable[..., Path]) -> Store:
    """``fresh_db`` with every table of VALID_CSV imported (so it has rows and an audit log)."""
    from sop_core.intake.importer import import_paths

    import_paths(fresh_db, [write_csvs()], user="setup")
    return fresh_db


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "slow: takes seconds (big files); runs by default")


@pytest.fixture(scope="session")
def demo_store_file(tmp_path_factory) -> Path:
    """The demo company's store, built once per test session (import + baselines); do not write to it."""
    from sop_core.bootstrap import init_store

    path = tmp_path_factory.mktemp("demo") / "demo.duckdb"
    init_store(path, demo=True, user="tests").close()
    return path


@pytest.fixture
def demo_db(demo_store_file: Path, tmp_path: Path, monkeypatch) -> Path:
    """A private copy of the demo store, set as $SOP_DB for the app under test."""
    import shutil

    path = tmp_path / "demo.duckdb"
    shutil.copy(demo_store_file, path)
    monkeypatch.setenv("SOP_DB", str(path))
    return path


@pytest.fixture
def demo_store(demo_db: Path) -> Iterator[Store]:
    """``demo_db``, the demo store's private copy, open; closed afterwards."""
    with Store(demo_db) as store:
        yield store


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    """Each phase's report kept on the test (``item.report_call``): a fixture's teardown can then
    tell whether the test failed (the browser tests print the app server's threads then)."""
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report
