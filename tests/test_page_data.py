"""The Data page: uploads are all-or-nothing, with the importer's messages; templates download."""

from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

from sop_core.store.db import Store

APP = str(Path(__file__).resolve().parent.parent / "app.py")


def _data_page() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=120)
    at.run()
    at.switch_page("pages/data.py")
    at.run()
    assert not at.exception
    return at


def test_bad_upload_shows_the_problem_and_changes_nothing(demo_db):
    store = Store(demo_db)
    at = _data_page()
    before = store.snapshot()
    bad = b"sku,name,family,unit_price,unit_material_cost,unit_variable_cost,target_cover_days\nX1,Widget,Panel Radiators,12;5,1,1,30\n"
    at.file_uploader(key="data_upload").set_value(("products.csv", bad, "text/csv")).run()
    at.button(key="data_import").click().run()
    assert at.error, "a rejected import must say so"
    assert "Nothing was changed" in at.error[0].value
    problems = at.code[0].value
    assert "products.csv row 2, column unit_price" in problems and '"12;5"' in problems
    after = store.snapshot()
    for name, frame in before.items():
        assert frame.equals(after[name]), name


def test_good_upload_replaces_the_table_and_is_audited(demo_db):
    store = Store(demo_db)
    at = _data_page()
    at.session_state["user"] = "Jane CFO"
    rows = "month,item,amount\n2027-01,Capex: new press,-250000\n2027-06,Grant,40000\n"
    at.file_uploader(key="data_upload").set_value(
        ("cash_items.csv", rows.encode(), "text/csv")
    ).run()
    at.button(key="data_import").click().run()
    assert not at.error
    assert "cash_items" in at.success[0].value and "→ 2 rows" in at.success[0].value
    stored = store.read_table("cash_items")
    assert list(stored["item"]) == ["Capex: new press", "Grant"]
    audit = store.audit_log(limit=1).iloc[0]
    assert (audit["user_name"], audit["action"], audit["entity"], audit["new_value"]) == (
        "Jane CFO",
        "import",
        "cash_items",
        "2 rows",
    )
    assert len(store.read_table("products")) == 42  # other tables stay as they were


def test_templates_offered_for_download(demo_db):
    at = _data_page()
    labels = [b.label for b in at.get("download_button")]
    assert "Excel workbook (all tables)" in labels
    assert "products.csv" in labels


def _refitted_since(store, last_id: int) -> list[str]:
    log = store.audit_log()
    rows = log[(log["action"] == "forecast") & (log["id"] > last_id)]
    return sorted(rows["item_key"])


def _last_id(store) -> int:
    return int(store.scalar("SELECT max(id) FROM audit_log"))


def test_importing_actuals_refits_only_the_baselines_after_the_change(demo_db):
    store = Store(demo_db)
    actuals = store.read_table("actuals")
    fitted = store.query("SELECT cycle, count(*) AS n FROM baseline GROUP BY cycle ORDER BY 1")
    assert list(fitted["cycle"]) == [f"2026-{m:02d}" for m in range(5, 12)]
    last = _last_id(store)
    # August's shipments corrected: only the baselines made as of September on used them
    actuals.loc[actuals["month"] == "2026-08", "units"] += 1
    at = _data_page()
    at.file_uploader(key="data_upload").set_value(
        ("actuals.csv", actuals.to_csv(index=False).encode(), "text/csv")
    ).run()
    at.button(key="data_import").click().run()
    assert not at.error and not at.warning, [w.value for w in at.warning]
    assert "Statistical baseline refitted for 3 cycle(s): 2026-09, 2026-10, 2026-11." in [
        c.value for c in at.caption
    ]
    assert _refitted_since(store, last) == ["2026-09", "2026-10", "2026-11"]
    after = store.query("SELECT cycle, count(*) AS n FROM baseline GROUP BY cycle ORDER BY 1")
    assert after.equals(fitted)  # every cycle still has its whole baseline


def test_a_price_change_refits_nothing(demo_db):
    store = Store(demo_db)
    products = store.read_table("products")
    products["unit_price"] = products["unit_price"] * 1.05
    last = _last_id(store)
    at = _data_page()
    at.file_uploader(key="data_upload").set_value(
        ("products.csv", products.to_csv(index=False).encode(), "text/csv")
    ).run()
    at.button(key="data_import").click().run()
    assert not at.error and not at.warning
    n = len(products)
    assert f"products ({n} → {n} rows)" in at.success[0].value
    assert _refitted_since(store, last) == []
    assert not [c.value for c in at.caption if "refitted" in c.value]


def test_a_full_disk_is_said_without_a_traceback(demo_db, monkeypatch):
    import duckdb

    from sop_core.intake import importer

    def full(*args, **kwargs):
        raise duckdb.IOException('IO Error: Could not write file "demo.duckdb.wal": No space left')

    monkeypatch.setattr(importer, "import_uploads", full)
    at = _data_page()
    at.file_uploader(key="data_upload").set_value(
        ("cash_items.csv", b"month,item,amount\n2027-01,Grant,1\n", "text/csv")
    ).run()
    at.button(key="data_import").click().run()
    assert not at.exception
    [error] = at.error
    assert "No space left" in error.value and "Nothing was changed" in error.value
    assert "Free disk space" in error.value
