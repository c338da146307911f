"""What an import changed, in the audit log (rows added, removed, changed; old -> new), and the
stored baselines it makes stale (only those)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pandas as pd

from sop_core.store.changes import MAX_LOGGED_ROWS

ROOT = Path(__file__).resolve().parent.parent


def _log(store, action: str) -> pd.DataFrame:
    log = store.audit_log().astype(object)
    log = log.where(log.notna(), None)
    return log[log["action"] == action]


def test_a_price_change_is_logged_with_old_and_new_values(loaded_db):
    products = loaded_db.read_table("products")
    products.loc[products["sku"] == "B", "unit_price"] = 21.5
    loaded_db.replace_tables({"products": products}, user="fin", source="products.csv")
    summary = _log(loaded_db, "import").iloc[0]
    assert (summary["entity"], summary["old_value"], summary["new_value"]) == (
        "products", "3 rows", "3 rows",
    )  # fmt: skip
    assert summary["detail"] == "products.csv: 0 added, 0 removed, 1 changed"
    change = _log(loaded_db, "import change").iloc[0]
    assert (change["user_name"], change["item_key"], change["old_value"], change["new_value"]) == (
        "fin", "B", "unit_price 20", "unit_price 21.5",
    )  # fmt: skip
    assert change["detail"] == "changed"


def test_an_unchanged_reimport_logs_no_row_change(loaded_db):
    before = len(_log(loaded_db, "import change"))
    loaded_db.replace_tables(
        {"products": loaded_db.read_table("products")}, user="fin", source="products.csv"
    )
    assert len(_log(loaded_db, "import change")) == before
    assert _log(loaded_db, "import").iloc[0]["detail"] == (
        "products.csv: 0 added, 0 removed, 0 changed"
    )


def test_many_changes_list_the_first_and_count_all(loaded_db):
    n = MAX_LOGGED_ROWS + 15
    actuals = pd.DataFrame(
        {
            "month": [f"2020-{m:02d}" for m in range(1, 13)] * 3,
            "sku": ["A"] * 12 + ["B"] * 12 + ["C"] * 12,
        }
    ).head(n)
    actuals["units"] = 1.0
    old = loaded_db.read_table("actuals")
    actuals = pd.concat([old, actuals], ignore_index=True)
    loaded_db.replace_tables({"actuals": actuals}, user="ops", source="actuals.csv")
    assert _log(loaded_db, "import").iloc[0]["detail"] == (
        f"actuals.csv: {n} added, 0 removed, 0 changed"
    )
    listed = _log(loaded_db, "import change")
    listed = listed[listed["user_name"] == "ops"]
    assert len(listed) == MAX_LOGGED_ROWS
    assert set(listed["detail"]) == {"added"}
    assert listed["new_value"].iloc[-1] == "units 1"  # oldest listed first: the first by key
    assert listed["item_key"].iloc[-1] == "2020-01 · A"


def _baselines(store, cycles: list[str]) -> None:
    with store.transaction() as cur:
        for cycle in cycles:
            cur.execute(
                "INSERT INTO baseline (cycle, month, sku, units, model) "
                "VALUES (?, ?, 'A', 1.0, 'ets')",
                [cycle, cycle],
            )


def _cycles(store) -> list[str]:
    return store.query("SELECT DISTINCT cycle FROM baseline ORDER BY 1")["cycle"].tolist()


def test_changed_actuals_forget_only_the_baselines_fitted_on_them(loaded_db):
    # current cycle 2026-01 (the latest in forecasts); past cycles' baselines use actuals
    # before their own month
    _baselines(loaded_db, ["2025-10", "2025-11", "2025-12", "2026-01"])
    actuals = loaded_db.read_table("actuals")
    actuals.loc[actuals["month"] == "2025-11", "units"] = 999.0
    loaded_db.replace_tables({"actuals": actuals}, user="ops", source="actuals.csv")
    # a change in 2025-11 leaves the baselines made before it (2025-10, 2025-11) as they were
    assert _cycles(loaded_db) == ["2025-10", "2025-11"]


def test_prices_or_identical_actuals_forget_no_baseline(loaded_db):
    _baselines(loaded_db, ["2025-11", "2026-01"])
    products = loaded_db.read_table("products")
    products["unit_price"] = products["unit_price"] * 1.1
    loaded_db.replace_tables(
        {"products": products, "actuals": loaded_db.read_table("actuals")}, user="f", source="x"
    )
    assert _cycles(loaded_db) == ["2025-11", "2026-01"]


def test_changed_settings_forget_the_current_cycles_baseline(loaded_db):
    _baselines(loaded_db, ["2025-11", "2026-01"])
    settings = loaded_db.read_table("settings")
    settings = pd.concat(
        [settings, pd.DataFrame({"key": ["horizon_months"], "value": ["12"]})], ignore_index=True
    )
    loaded_db.replace_tables({"settings": settings}, user="f", source="settings.csv")
    assert _cycles(loaded_db) == ["2025-11"]


def test_cli_forecast_is_logged_as_the_cli_user(loaded_db):
    path = loaded_db.path
    loaded_db.close()
    env = dict(os.environ, SOP_USER="cli:robin")
    done = subprocess.run(
        [sys.executable, "-m", "sop_core", "forecast", "--db", str(path), "--no-progress"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    from sop_core.store.db import Store

    with Store(path) as store:
        row = _log(store, "forecast").iloc[0]
    assert row["user_name"] == "cli:robin"
