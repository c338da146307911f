"""One figure, one value: every headline figure is the same on every page and in the three board-pack
formats, in four states of the demo — as shipped, a promoted scenario, the next cycle opened, and a
locked cycle viewed after the next one opened."""

import shutil
from pathlib import Path

import openpyxl
import pytest
from pptx import Presentation
from pypdf import PdfReader
from streamlit.testing.v1 import AppTest

from sop_core.boardpack.build import build_boardpack
from sop_core.meeting import cycles
from sop_core.meeting.record import plan_of_record
from sop_core.meeting.scenarios import promote_scenario, save_scenario
from sop_core.plan.levers import parse_levers
from sop_core.store.db import Store
from sop_core.views.headline import headline_by_key, headline_figures

ROOT = Path(__file__).resolve().parent.parent
APP = str(ROOT / "app.py")
OVERRIDE = "the test locks without the reconciliation sign-off"
# each page and the headline figures it must show
PAGE_FIGURES = {
    "pages/summary.py": (
        "revenue",
        "revenue_vs_budget",
        "gross_margin",
        "operating_profit",
        "lowest_cash",
        "closing_cash",
        "sales_lost",
        "money_at_stake",
    ),
    "pages/finance.py": ("revenue_vs_budget", "operating_profit", "lowest_cash", "closing_cash"),
    "pages/alignment.py": ("revenue_vs_budget",),
}
PACK_FIGURES = ("revenue", "gross_margin", "operating_profit", "closing_cash", "money_at_stake")


def _state(name: str, store) -> str:
    """Bring the store into a state; returns the cycle to look at."""
    if name == "promoted":
        save_scenario(
            store,
            "2026-11",
            "Hire 6",
            parse_levers(["headcount_change_fte:Press & Weld=6"]),
            author="Ops",
        )
        promote_scenario(store, "2026-11", "Hire 6", user="Kim")
    if name in ("next_open", "locked_viewed_later"):
        cycles.lock_cycle(store, "2026-11", user="Kim", override=OVERRIDE)
        cycles.open_next_cycle(store, user="Kim")
    return "2026-11" if name in ("as_shipped", "promoted", "locked_viewed_later") else "2026-12"


@pytest.fixture(
    scope="module", params=["as_shipped", "promoted", "next_open", "locked_viewed_later"]
)
def state(request, demo_store_file, tmp_path_factory):
    folder = tmp_path_factory.mktemp(request.param)
    db = folder / "demo.duckdb"
    shutil.copy(demo_store_file, db)
    with Store(db) as store:
        cycle = _state(request.param, store)
        record = plan_of_record(store, cycle)
        for suffix in (".pdf", ".pptx", ".xlsx"):
            build_boardpack(store, folder / f"pack{suffix}", cycle=cycle)
    return {
        "name": request.param,
        "db": db,
        "folder": folder,
        "cycle": cycle,
        "record": record,
        "figures": headline_by_key(headline_figures(record.result)),
    }


def test_the_states_are_what_they_say(state):
    kinds = {
        "as_shipped": "base",
        "promoted": "promoted",
        "next_open": "base",
        "locked_viewed_later": "locked",
    }
    assert state["record"].kind == kinds[state["name"]]
    assert state["record"].cycle == state["cycle"]


def _page(state, page: str, monkeypatch) -> AppTest:
    """The app on the state's store and cycle, switched to ``page`` and run (no exception)."""
    monkeypatch.setenv("SOP_DB", str(state["db"]))
    at = AppTest.from_file(APP, default_timeout=120)
    at.session_state["cycle"] = state["cycle"]
    at.run()
    at.switch_page(page)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


@pytest.mark.parametrize("page", list(PAGE_FIGURES))
def test_every_page_shows_the_same_headline_figures(state, page, monkeypatch):
    at = _page(state, page, monkeypatch)
    shown = {m.label: (m.value, m.delta) for m in at.metric}
    for key in PAGE_FIGURES[page]:
        figure = state["figures"][key]
        assert shown.get(figure.label) == (figure.text, figure.note), (page, key, shown)


def test_the_pdf_states_the_same_figures(state):
    text = " ".join(page.extract_text() for page in PdfReader(state["folder"] / "pack.pdf").pages)
    text = " ".join(text.split())
    for key in PACK_FIGURES:
        assert state["figures"][key].text in text, key
    assert state["figures"]["revenue_vs_budget"].text in text
    if state["record"].locked:
        assert OVERRIDE in text  # the lock record says the lock was forced, and why


def test_the_deck_states_the_same_figures(state):
    deck = Presentation(str(state["folder"] / "pack.pptx"))
    parts = []
    for slide in deck.slides:
        for shape in slide.shapes:
            if shape.has_text_frame:
                parts.append(shape.text_frame.text)
            if shape.has_table:
                parts += [cell.text for row in shape.table.rows for cell in row.cells]
    text = " ".join(" ".join(parts).split())
    for key in PACK_FIGURES:
        assert state["figures"][key].text in text, key
    assert state["figures"]["revenue_vs_budget"].text in text


def test_the_workbook_holds_the_same_numbers(state):
    book = openpyxl.load_workbook(state["folder"] / "pack.xlsx", data_only=True)
    numbers = {}
    for row in book["Board paper"].iter_rows(values_only=True):  # the plan in figures first
        if row and isinstance(row[0], str) and len(row) > 1 and isinstance(row[1], int | float):
            numbers.setdefault(row[0], (row[1], row[3] if len(row) > 3 else None))
    s = state["record"].result.summary
    assert numbers["Revenue"][0] == pytest.approx(s["revenue"])
    assert numbers["Revenue"][1] == pytest.approx(s["revenue_vs_budget"])
    assert numbers["Gross margin"][0] == pytest.approx(s["gross_margin"])
    assert numbers["Operating profit"][0] == pytest.approx(s["operating_profit"])
    assert numbers["Money at stake"][0] == pytest.approx(s["money_at_stake"])


def test_the_cash_risk_sentence_is_the_same_on_the_pages_and_in_the_deck(state, monkeypatch):
    from sop_core.views.ranges import app_ranges, cash_risk_sentence

    record = state["record"]
    sentence = cash_risk_sentence(app_ranges(record.result), record.model.settings.currency)
    for page in ("pages/summary.py", "pages/finance.py"):
        at = _page(state, page, monkeypatch)
        assert any(sentence in m.value for m in at.markdown), (page, sentence)
    deck = Presentation(str(state["folder"] / "pack.pptx"))
    text = " ".join(
        shape.text_frame.text for s in deck.slides for shape in s.shapes if shape.has_text_frame
    )
    assert sentence in " ".join(text.split())
