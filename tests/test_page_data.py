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


def test_importing_actuals_refits_the_baseline_with_the_track_record(demo_db):
    store = Store(demo_db)
    actuals = store.read_table("actuals")
    at = _data_page()
    at.file_uploader(key="data_upload").set_value(
        ("actuals.csv", actuals.to_csv(index=False).encode(), "text/csv")
    ).run()
    at.button(key="data_import").click().run()
    assert not at.error and not at.warning, [w.value for w in at.warning]
    cycles = store.query("SELECT cycle, count(*) AS n FROM baseline GROUP BY cycle ORDER BY cycle")
    # the current cycle and the six past ones (for forecast value added) are fitted again
    assert list(cycles["cycle"]) == [
        "2026-05",
        "2026-06",
        "2026-07",
        "2026-08",
        "2026-09",
        "2026-10",
        "2026-11",
    ]
    actions = store.audit_log(limit=20)["action"].tolist()
    assert "import" in actions and "forecast" in actions
