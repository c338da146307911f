"""The board pack: built for the demo in PDF, PPTX and XLSX, opened with libraries, checked against the engine."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from openpyxl import load_workbook
from pptx import Presentation
from pypdf import PdfReader

from sop_core import fmt
from sop_core.boardpack.build import build_boardpack, render_pack
from sop_core.boardpack.content import pack_content
from sop_core.boardpack.model import MONEY, MONEY_DELTA, PCT, PCT_DELTA, UNITS, format_value
from sop_core.errors import SopError
from sop_core.meeting.commentary import PAPER_SECTIONS
from sop_core.meeting.cycles import lock_cycle
from sop_core.meeting.decisions import add_decision
from sop_core.meeting.record import model_of_record, plan_for_store
from sop_core.meeting.register import add_assumption
from sop_core.meeting.scenarios import promote_scenario, save_scenario
from sop_core.plan.engine import compute
from sop_core.plan.levers import parse_levers
from sop_core.store.db import Store

ROOT = Path(__file__).resolve().parent.parent
COMPANY = "Harlow & Finch Heating Ltd"
CYCLE = "2026-11"
PROMOTED = "Press & Weld +6 FTE"
SECTIONS = [
    *PAPER_SECTIONS.values(),
    "Top disagreements",
    "Decisions and assumptions",
    "Demand",
    "Supply",
    "Finance",
    "Scenarios compared",
]
SHEETS = [
    "Cover",
    "Board paper",
    "Disagreements",
    "Decisions",
    "Demand",
    "Supply",
    "Finance",
    "Scenarios",
]
MONEY_TEXT = re.compile(r"^[−-]?[+]?[£$€][\d.,]+(k|m|bn)?$")


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "sop_core", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture(scope="module")
def built(demo_store_file, tmp_path_factory):
    """The demo with a locked previous cycle, two saved scenarios (one promoted), decisions and an
    assumption; its pack in the three formats (the PDF through the command line)."""
    folder = tmp_path_factory.mktemp("boardpack")
    db = folder / "bp.duckdb"
    shutil.copy(demo_store_file, db)
    with Store(db) as store:  # the demo's cycle 2026-10 is locked already
        save_scenario(
            store, CYCLE, "Price -3%", parse_levers(["price_change_pct=-3"]), author="CFO"
        )
        save_scenario(
            store,
            CYCLE,
            PROMOTED,
            parse_levers(["headcount_change_fte:Press & Weld@2027-01=6"]),
            author="Ops",
        )
        promote_scenario(store, CYCLE, PROMOTED, user="Jane Smith (CEO)")
        add_decision(
            store,
            CYCLE,
            decision="Recruit 6 FTE for Press & Weld from January",
            owner="Tom Reid (Operations)",
            due="2026-12-15",
            user="Jane",
        )
        add_assumption(
            store, CYCLE, name="Steel price", value="+4", unit="%", owner="Finance", user="Jane"
        )
        expected = plan_for_store(store, scenario=PROMOTED)
        base = compute(model_of_record(store), {})  # the data as imported, no lever
        pack = pack_content(store)
        render_pack(pack, folder / "pack.pptx")
        render_pack(pack, folder / "pack.xlsx")
    proc = _cli("boardpack", "--db", str(db), "--out", str(folder / "pack.pdf"))
    return {
        "db": db,
        "folder": folder,
        "pack": pack,
        "expected": expected,
        "base": base,
        "cli": proc,
        "pdf": folder / "pack.pdf",
        "pptx": folder / "pack.pptx",
        "xlsx": folder / "pack.xlsx",
    }


# --- the content model ---------------------------------------------------------------------------


def test_content_shows_the_promoted_scenario_against_budget_and_the_previous_cycle(built):
    pack, s = built["pack"], built["expected"].summary
    assert pack.company == COMPANY and pack.cycle == CYCLE and pack.status == "draft"
    assert pack.plan_label == f"Scenario “{PROMOTED}” (promoted)"
    assert pack.previous_cycle == "2026-10"
    assert [sec.title for sec in pack.sections] == SECTIONS
    figures = {f.label: f for f in pack.section("figures").blocks[0].figures}
    revenue = figures["Revenue"]
    assert revenue.value == s["revenue"] and revenue.budget == s["budget_revenue"]
    assert revenue.vs_budget == pytest.approx(s["revenue"] - s["budget_revenue"])
    assert revenue.previous is not None  # the locked plan of 2026-10
    assert figures["Gross margin"].value == s["gross_margin"]


def test_scenarios_compared_are_each_computed_by_the_engine(built):
    block = built["pack"].section("appendix.scenarios").blocks[0]
    table = block.table.frame.set_index("Plan")
    assert list(table.index) == ["Base plan", f"{PROMOTED} (promoted)", "Price -3%"]
    assert table.loc["Base plan", "Revenue"] == built["base"].summary["revenue"]
    assert table.loc[f"{PROMOTED} (promoted)", "Revenue"] == built["expected"].summary["revenue"]
    assert table.loc["Price -3%", "Levers"] == "Price −3 % on all families"
    # a lever with a time window reads with its months
    assert table.loc[f"{PROMOTED} (promoted)", "Levers"] == (
        "Headcount +6 FTE on Press & Weld from Jan 2027"
    )


@pytest.mark.parametrize(
    ("value", "kind", "text"),
    [
        (1_234_567, MONEY, "£1.2m"),
        (-45_000, MONEY, "−£45k"),
        (340_000, MONEY_DELTA, "+£340k"),
        (34.5, PCT, "34.5 %"),
        (-2.25, PCT_DELTA, "−2.2 %"),
        (12_345.4, UNITS, "12,345"),
        (None, MONEY, "—"),
        (float("nan"), PCT, "—"),
    ],
)
def test_format_value_is_the_apps_format(value, kind, text):
    assert format_value(value, kind, "GBP") == text


def test_a_locked_cycle_and_a_chosen_scenario_are_said_on_the_cover(built, tmp_path):
    db = tmp_path / "locked.duckdb"
    shutil.copy(built["db"], db)
    with Store(db) as store:
        lock_cycle(
            store, CYCLE, user="Jane Smith (CEO)", override="the test locks without sign-offs"
        )
        pack = pack_content(store, scenario="Price -3%")
    assert pack.status == "locked" and pack.status_line.startswith("Locked by Jane Smith (CEO) on")
    assert pack.plan_label == "Scenario “Price -3%” (chosen for this pack, not promoted)"
    assert pack.footer.endswith("Locked plan")


# --- PDF ---------------------------------------------------------------------------------------------


def test_cli_builds_the_pdf(built):
    proc = built["cli"]
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == f"Board pack written to {built['pdf']}"


def test_pdf_is_a4_landscape_with_every_section_and_numbered_pages(built):
    reader = PdfReader(built["pdf"])
    n = len(reader.pages)
    box = reader.pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) == (842, 595)
    pages = [p.extract_text() for p in reader.pages]
    text = "\n".join(pages)
    for title in SECTIONS:
        assert title in text, title
    assert COMPANY in pages[0] and f"S&OP cycle {CYCLE}" in pages[0] and "DRAFT" in pages[0]
    assert f"Scenario “{PROMOTED}” (promoted)" in pages[0]
    for i, page in enumerate(pages, start=1):
        assert f"Page {i} of {n}" in page
        assert f"S&OP cycle {CYCLE}" in page  # the footer
    assert reader.outline  # bookmarks per section


def test_pdf_figures_equal_the_plan_output(built):
    company = built["expected"].level("company")
    text = "\n".join(p.extract_text() for p in PdfReader(built["pdf"]).pages)

    def row(label: str) -> list[str]:
        """The cells of a month-across table row (in parts of 9 or 10 months)."""
        cells = []
        for line in text.splitlines():
            match = re.fullmatch(rf"{label}((?: [−+]?£[\d.]+(?:k|m|bn)?)+)", line)
            if match and len(match.group(1).split()) >= 9:
                cells += match.group(1).split()
        return cells

    assert row("Revenue") == [fmt.money(v) for v in company["revenue"]] + [
        fmt.money(company["revenue"].sum())
    ]
    assert row("Operating profit")[: len(company)] == [
        fmt.money(v) for v in company["operating_profit"]
    ]
    assert row("Closing cash") == [fmt.money(v) for v in company["closing_cash"]]
    s = built["expected"].summary
    assert f"Revenue {fmt.money(s['revenue'])} {fmt.money(s['budget_revenue'])}" in text


# --- PowerPoint -------------------------------------------------------------------------------------


def test_pptx_is_16_9_one_topic_a_slide_with_real_tables(built):
    prs = Presentation(built["pptx"])
    assert prs.slide_width / prs.slide_height == pytest.approx(16 / 9, rel=1e-3)
    titles = [s.shapes.title.text for s in prs.slides]
    assert titles[0] == COMPANY
    for title in ("The plan in brief", "The plan in figures", "Where the stories disagree"):
        assert title in titles
    causes = built["expected"].root_causes
    causes = causes[causes["status"] == "open"]
    top = prs.slides[titles.index("Where the stories disagree")]
    tables = [sh.table for sh in top.shapes if sh.has_table]
    assert len(tables) == 1
    header = [c.text for c in tables[0].rows[0].cells]
    assert header == ["Root cause", "Owner", "Review", "Severity", "At stake"]
    first = [c.text for c in tables[0].rows[1].cells]
    assert first[0] == causes["title"].iloc[0]
    assert first[-1] == fmt.money(causes["money_at_stake"].iloc[0])
    for slide in prs.slides:  # nothing off the slide
        for shape in slide.shapes:
            assert shape.left + shape.width <= prs.slide_width
            assert shape.top + shape.height <= prs.slide_height
    assert sum(sh.has_chart for s in prs.slides for sh in s.shapes) >= 4  # native charts


# --- Excel --------------------------------------------------------------------------------------------


def _find(ws, value):
    for row in ws.iter_rows():
        for cell in row:
            if cell.value == value:
                return cell
    raise AssertionError(f"{value!r} not in sheet {ws.title}")


def test_xlsx_has_a_sheet_per_section_and_numbers_as_numbers(built):
    wb = load_workbook(built["xlsx"])
    assert wb.sheetnames == SHEETS
    company = built["expected"].level("company")
    finance = wb["Finance"]
    label = _find(finance, "Revenue")
    month = str(company["month"].iloc[3])
    header = next(c for c in finance[label.row - 1] if c.value == month)
    cell = finance.cell(label.row, header.column)
    assert isinstance(cell.value, int | float)
    assert cell.value == pytest.approx(float(company["revenue"].iloc[3]))
    assert "£" in cell.number_format and "#,##0" in cell.number_format
    assert finance.freeze_panes is not None

    summary = wb["Board paper"]
    revenue = _find(summary, "Revenue")
    plan = summary.cell(revenue.row, 2)
    assert plan.value == pytest.approx(built["expected"].summary["revenue"])
    assert "£" in plan.number_format

    supply = wb["Supply"]
    util = built["expected"].resource.set_index(["resource", "month"])["utilisation"]
    press = _find(supply, "Press & Weld")  # the utilisation table comes first
    column = next(c.column for c in supply[_find(supply, "Resource").row] if c.value == month)
    cell = supply.cell(press.row, column)
    assert cell.value == pytest.approx(util[("Press & Weld", month)])
    assert cell.number_format == "0.0%"

    for ws in wb:  # no figure written as text
        for row in ws.iter_rows():
            for c in row:
                assert not (isinstance(c.value, str) and MONEY_TEXT.match(c.value)), (ws.title, c)


def _cells(ws, ref: str) -> list:
    """The values of a one-row range like 'Finance'!$B$7:$S$7."""
    from openpyxl.utils.cell import range_boundaries

    min_col, min_row, max_col, max_row = range_boundaries(ref.split("!")[1].replace("$", ""))
    return [ws.cell(min_row, c).value for c in range(min_col, max_col + 1)]


def _title(series) -> str:
    return series.tx.v if series.tx.v is not None else series.tx.strRef.f


def test_xlsx_finance_has_native_line_charts_over_the_table_cells(built):
    ws = load_workbook(built["xlsx"])["Finance"]
    company = built["expected"].level("company")
    months = [str(m) for m in company["month"]]
    pnl, cash, wc = ws._charts
    assert [_title(s) for s in pnl.series] == ["Revenue", "Gross margin", "Operating profit"]
    revenue = pnl.series[0]
    assert _cells(ws, revenue.val.numRef.f) == pytest.approx(list(company["revenue"]))
    assert _cells(ws, revenue.cat.strRef.f if revenue.cat.strRef else revenue.cat.numRef.f) == (
        months
    )
    # closing cash, and the minimum as a dashed level written as a row of its own
    assert [_title(s) for s in cash.series] == ["Closing cash", "Minimum cash"]
    assert _cells(ws, cash.series[0].val.numRef.f) == pytest.approx(list(company["closing_cash"]))
    minimum = float(built["expected"].model.settings.minimum_cash)
    assert _cells(ws, cash.series[1].val.numRef.f) == [minimum] * len(months)
    assert cash.series[1].graphicalProperties.line.prstDash == "dash"
    assert [_title(s) for s in wc.series] == ["Receivables", "Inventory", "Payables"]
    assert _cells(ws, wc.series[2].val.numRef.f) == pytest.approx(list(company["payables"]))


def test_xlsx_lists_every_disagreement_with_money_as_numbers(built):
    ws = load_workbook(built["xlsx"])["Disagreements"]
    dis = built["expected"].disagreements
    head = _find(ws, "Money at stake")
    values = [ws.cell(r, head.column).value for r in range(head.row + 1, head.row + 1 + len(dis))]
    assert all(isinstance(v, int | float) for v in values)
    assert values == pytest.approx(dis["money_at_stake"].tolist())


# --- refusals -----------------------------------------------------------------------------------------


def test_cli_refuses_a_bad_suffix_in_one_line(tmp_path):
    proc = _cli("boardpack", "--db", str(tmp_path / "x.duckdb"), "--out", str(tmp_path / "x.docx"))
    assert proc.returncode != 0
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:") and ".pdf, .pptx or .xlsx" in lines[0]
    assert "Traceback" not in proc.stderr


def test_build_refuses_bad_suffix_missing_folder_and_unknown_scenario(built, tmp_path):
    with Store(built["db"]) as store:
        with pytest.raises(SopError, match="pdf, .pptx or .xlsx"):
            build_boardpack(store, tmp_path / "pack.docx")
        with pytest.raises(SopError, match="does not exist"):
            build_boardpack(store, tmp_path / "nowhere" / "pack.pdf")
        with pytest.raises(SopError, match='No scenario "Nope".*Price -3%'):
            build_boardpack(store, tmp_path / "pack.xlsx", scenario="Nope")


# --- PowerPoint table columns and titles ------------------------------------------------------


def test_pptx_columns_never_narrower_than_their_longest_word():
    from pptx.util import Pt

    from sop_core.boardpack.pptx import CELL_MARGIN, GLYPH_EM, column_widths

    header = ["Month", "Severity", "What", "One story", "Owner"]
    rows = [
        [
            "2028-01",
            "high",
            "Capacity overload",
            "Load asked by demand: 13,762 hours",
            "Operations",
        ],
        ["2027-11", "high", "Forecast inflated", "Sales forecast: 27,352 units", "Sales"],
    ]
    width = 6_000_000  # EMU, narrow enough that the long "One story" column must give way
    widths = column_widths(header, rows, width, 11)
    assert sum(widths) == width
    glyph = Pt(11) * GLYPH_EM
    # longest words: "2028-01" (7), "Severity" (8), "Capacity" and the like (8), "forecast:" (9),
    # "Operations" (10); by shares of the text alone "2028-01" would get about 0.63m EMU of the
    # 0.79m it needs at 11 pt
    for j, longest in enumerate([7, 8, 8, 9, 10]):
        assert widths[j] >= int(longest * glyph + CELL_MARGIN), (header[j], widths[j])
    # what is left over goes to the columns with the most text
    assert widths[3] == max(widths)


def test_pptx_columns_share_the_width_by_text_when_every_word_fits():
    from sop_core.boardpack.pptx import column_widths

    # natural widths (longest text + 2): 6, 10, 22 → shares of 38
    widths = column_widths(["a", "b", "c"], [["abcd", "abcdefgh", "x" * 20]], 38_000_000, 11)
    assert widths == [6_000_000, 10_000_000, 22_000_000]


def test_pptx_titles_too_long_for_one_line_are_set_smaller():
    from sop_core.boardpack.pptx import TITLE_PT, title_size

    assert title_size("Executive summary · Headline figures") == TITLE_PT
    long = "Scenarios compared · Closing cash and gross margin by plan"  # 58 characters
    assert title_size(long) == TITLE_PT - 4


# --- a build that fails or is killed; characters the PDF's font lacks ---------------------------


@pytest.fixture
def small_store(write_csvs, valid_csv, tmp_path):
    csvs = dict(valid_csv)
    csvs["settings"] += "company_name,日本 Heating 🙂 مرحبا\n"
    with Store(tmp_path / "small.duckdb") as store:
        from sop_core.intake.importer import import_paths

        import_paths(store, [write_csvs(**csvs)], user="setup")
        yield store


def test_a_failed_build_leaves_the_previous_pack_in_place(small_store, tmp_path, monkeypatch):
    from sop_core.boardpack import build

    out = tmp_path / "pack.xlsx"
    build_boardpack(small_store, out)
    good = out.read_bytes()

    def killed(pack, path, *, progress=None):
        Path(path).write_bytes(b"PK\x03\x04 half a workbook")
        raise KeyboardInterrupt  # as if the process were stopped mid-write

    monkeypatch.setattr(build, "render_xlsx", killed)
    with pytest.raises(KeyboardInterrupt):
        build_boardpack(small_store, out)
    assert out.read_bytes() == good
    assert sorted(p.name for p in tmp_path.iterdir() if "pack" in p.name) == ["pack.xlsx"]


def test_the_pdf_says_which_characters_its_font_could_not_show(small_store, tmp_path):
    out = tmp_path / "pack.pdf"
    build_boardpack(small_store, out)
    text = " ".join(page.extract_text() for page in PdfReader(out).pages)
    assert "Heating" in text
    assert "has no glyph for were printed as" in text
    for point in ("U+65E5", "U+672C", "U+1F642"):  # 日, 本, 🙂
        assert point in text


def test_the_supply_section_lists_the_stock_left_at_end_of_life(built):
    dis = built["expected"].disagreements
    row = dis[dis["type"] == "stock_left_end_of_life"].iloc[0]
    block = next(
        b for b in built["pack"].section("appendix.supply").blocks if "end of life" in b.title
    )
    table = block.table.frame
    assert table[["Sku", "Ends", "Units left", "Value at cost"]].values.tolist() == [
        ["TWR-ST-1250A", "2026-12", row["figure_a"], row["money_at_stake"]]
    ]
    assert block.text[1].startswith("Straight Towel Rail 1200x500 Anthracite ends Dec 2026 with")
    sheet = load_workbook(built["xlsx"], data_only=True)["Supply"]
    cells = [c.value for r in sheet.iter_rows() for c in r if isinstance(c.value, str)]
    assert "Stock left at end of life" in cells


def test_finance_shows_the_cash_ranges_of_the_plan_shown(built):
    from sop_core.views.ranges import app_ranges, cash_risk_sentence, lowest_cash_sentence

    block = next(
        b for b in built["pack"].section("appendix.finance").blocks if b.title == "Cash ranges"
    )
    r = app_ranges(built["expected"])  # the promoted scenario: the plan the pack shows
    assert block.text[0] == cash_risk_sentence(r, "GBP")
    assert block.text[1].startswith(lowest_cash_sentence(r, "GBP"))
    rows = block.table.frame.set_index("")
    cash = r.monthly[r.monthly["measure"] == "closing_cash"]
    for label, column in (
        ("P10", "p10"),
        ("P50", "p50"),
        ("P90", "p90"),
        ("Plan of record", "point"),
    ):
        assert [rows.loc[label, m] for m in r.months] == pytest.approx(cash[column].tolist())
    assert rows.loc["Plan of record", r.months[-1]] == pytest.approx(
        built["expected"].company["closing_cash"].iloc[-1]
    )
    assert block.chart is not None
    titles = [s.shapes.title.text for s in Presentation(built["pptx"]).slides]
    assert "Cash and working capital · Cash against the minimum" in titles
