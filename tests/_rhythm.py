"""A small hand-made company for the rhythm tests (cycles, register, decisions, bridge, pages).

One product family per sku, no stock cover, no payment terms: every figure can be worked out
by hand. Cycle 2026-01 forecasts 100 units a month of each sku for 2026-02 to 2026-07; the
plan starts 2026-02 and runs three months.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

import pandas as pd
import pytest

from sop_core.store.db import Store

MONTHS = ["2026-02", "2026-03", "2026-04", "2026-05", "2026-06", "2026-07"]
CYCLE = "2026-01"


def small_frames(cycle: str = CYCLE, units: float = 100.0) -> dict[str, pd.DataFrame]:
    """Products A (F1, price 10, cost 4 + 1) and B (F2, price 20, cost 8 + 2); no capacity limit."""
    return {
        "products": pd.DataFrame(
            {
                "sku": ["A", "B"],
                "name": ["Alpha", "Beta"],
                "family": ["F1", "F2"],
                "unit_price": [10.0, 20.0],
                "unit_material_cost": [4.0, 8.0],
                "unit_variable_cost": [1.0, 2.0],
                "target_cover_days": [0.0, 0.0],
            }
        ),
        "forecasts": pd.DataFrame(
            [(cycle, m, sku, "consensus", units) for m in MONTHS for sku in ("A", "B")],
            columns=["cycle", "month", "sku", "source", "units"],
        ),
        "settings": pd.DataFrame(
            {
                "key": ["plan_start", "horizon_months", "opening_cash"],
                "value": ["2026-02", "3", "1000"],
            }
        ),
    }


_TEMPLATE: list[Path] = []


def make_store(path, frames: dict[str, pd.DataFrame] | None = None) -> Store:
    """A migrated store at ``path`` holding ``frames`` (default: ``small_frames()``).

    The default store is built once per test run and copied (building costs a migration and
    an import; copying a closed DuckDB file is a tenth of that).
    """
    if frames is not None:
        store = Store(path)
        store.replace_tables(frames, user="setup", source="tests")
        return store
    if not _TEMPLATE:
        template = Path(tempfile.mkdtemp(prefix="rhythm_")) / "template.duckdb"
        make_store(template, small_frames()).close()
        _TEMPLATE.append(template)
    shutil.copyfile(_TEMPLATE[0], path)
    return Store(path)


def tables_equal(before: dict[str, pd.DataFrame], after: dict[str, pd.DataFrame]) -> bool:
    """Every table of two ``Store.snapshot()``s holds the same rows."""
    if set(before) != set(after):
        return False
    for name in before:
        a, b = before[name], after[name]
        if a.shape != b.shape:
            return False
        if len(a) and not a.astype(str).equals(b.astype(str)):
            return False
    return True


@pytest.fixture(autouse=True)
def restore_main():
    """Put back ``sys.modules['__main__']`` after a test that ran a page with AppTest.

    AppTest runs a page as ``__main__`` and leaves it there; a process pool started later in the
    same test run (the demo's forecast) would then re-run that page in every worker.
    """
    main = sys.modules.get("__main__")
    yield
    if main is not None:
        sys.modules["__main__"] = main
