"""The Board pack page: build with progress, then download; a store that cannot plan says why (AppTest)."""

from __future__ import annotations

from io import BytesIO
from pathlib import Path

from openpyxl import load_workbook
from streamlit.testing.v1 import AppTest

from sop_core.meeting.record import plan_for_store
from sop_core.store.db import Store

PAGE = str(Path(__file__).resolve().parent.parent / "pages" / "boardpack.py")


def _page() -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=120)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_page_builds_the_pack_and_offers_the_download(demo_db):
    at = _page()
    assert at.title[0].value == "Board pack"
    assert "Harlow & Finch Heating Ltd · S&OP cycle 2026-11" in at.caption[0].value
    assert at.selectbox(key="boardpack_scenario").value == "The cycle's plan"
    assert at.multiselect(key="boardpack_formats").value == [".pdf", ".pptx", ".xlsx"]

    # the Excel file alone keeps the test quick; the three formats share one code path
    at.multiselect(key="boardpack_formats").set_value([".xlsx"]).run()
    at.button(key="boardpack_build").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert [s.value for s in at.success] == [
        "Board pack of cycle 2026-11 built: download each file below."
    ]
    _, built = at.session_state["boardpack_built"]
    name, payload = built[".xlsx"]
    assert name == "board-pack-2026-11.xlsx"
    wb = load_workbook(BytesIO(payload))
    with Store(demo_db) as store:
        revenue = plan_for_store(store).summary["revenue"]
    summary = wb["Board paper"]
    row = next(r for r in summary.iter_rows() if r[0].value == "Revenue")
    assert row[1].value == revenue


def test_a_store_without_products_shows_the_reason(tmp_path, monkeypatch):
    path = tmp_path / "empty.duckdb"
    Store(path).close()
    monkeypatch.setenv("SOP_DB", str(path))
    at = _page()
    assert len(at.error) == 1 and "No products are loaded" in at.error[0].value
    assert not at.button  # nothing to build


def test_the_commentary_editor_saves_a_section_and_a_locked_cycle_is_read_only(demo_db):
    from sop_core.meeting.commentary import get_commentary
    from sop_core.meeting.cycles import lock_cycle

    at = _page()
    at.selectbox(key="boardpack_commentary_section").set_value("cash").run()
    text = "=SUM(A1) <b>The autumn dip</b> is covered by the facility."
    at.text_area(key="boardpack_commentary_text_cash").input(text)
    at.button(key="boardpack_commentary_save").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert any("Commentary saved" in s.value for s in at.success)
    with Store(demo_db) as store:
        stored = get_commentary(store, "2026-11", "cash")
        assert stored.body == text and stored.version == 1
        lock_cycle(store, "2026-11", user="Jane", override="tests")
    at = _page()
    at.selectbox(key="boardpack_commentary_section").set_value("cash").run()
    area = at.text_area(key="boardpack_commentary_text_cash")
    assert area.value == text and area.disabled
    assert at.button(key="boardpack_commentary_save").disabled
    assert any("frozen with its plan" in c.value for c in at.caption)
    assert any("Written by" in c.value for c in at.caption)
