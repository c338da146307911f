"""What a workbook may expand to: each bound refuses a hostile file with a message naming the limit,
before the workbook is opened; a role check refuses before any cell or shared string is read.

The files are built part by part (as another program could write them) and the bounds lowered
with monkeypatch, so each file stays small; bench/bench_import_bounds.py runs the full-size ones.
"""

from __future__ import annotations

import io
import zipfile

import openpyxl
import pytest

from sop_core.errors import ImportRejected, PermissionDenied
from sop_core.intake import sources
from sop_core.intake.importer import import_uploads

CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
    '<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>'
    "</Types>"
)
PACKAGE_RELS = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>'
    "</Relationships>"
)
WORKBOOK = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
    'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
    '<sheets><sheet name="inventory" sheetId="1" r:id="rId1"/></sheets></workbook>'
)
WORKBOOK_RELS = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>'
    '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/>'
    "</Relationships>"
)
SHEET_HEAD = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
    '<row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v></c></row>'
)
SHEET_TAIL = "</sheetData></worksheet>"


def strings_xml(values: list[str]) -> str:
    items = "".join(f"<si><t>{v}</t></si>" for v in values)
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        f"{items}</sst>"
    )


def xlsx(rows: str = "", strings: list[str] | None = None, *, sheet: str | None = None) -> bytes:
    """An inventory workbook: header sku, on_hand_units (shared strings 0 and 1), then ``rows``."""
    strings = ["sku", "on_hand_units"] if strings is None else strings
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", CONTENT_TYPES)
        z.writestr("_rels/.rels", PACKAGE_RELS)
        z.writestr("xl/workbook.xml", WORKBOOK)
        z.writestr("xl/_rels/workbook.xml.rels", WORKBOOK_RELS)
        z.writestr("xl/worksheets/sheet1.xml", sheet or SHEET_HEAD + rows + SHEET_TAIL)
        z.writestr("xl/sharedStrings.xml", strings_xml(strings))
    return out.getvalue()


def row(n: int, sku: str, units: int) -> str:
    return (
        f'<row r="{n}"><c r="A{n}" t="inlineStr"><is><t>{sku}</t></is></c>'
        f'<c r="B{n}"><v>{units}</v></c></row>'
    )


@pytest.fixture
def store(loaded_db):
    return loaded_db


@pytest.fixture
def never_opened(monkeypatch):
    """Fails the test if the workbook is handed to openpyxl."""

    def refuse(*args, **kwargs):
        raise AssertionError("the workbook was opened")

    monkeypatch.setattr(openpyxl, "load_workbook", refuse)


def refused(store, data: bytes) -> list[str]:
    before = store.read_table("inventory")
    with pytest.raises(ImportRejected) as info:
        import_uploads(store, [("plan.xlsx", data)], user="tester")
    assert store.read_table("inventory").equals(before)
    return info.value.problems


def test_a_well_formed_workbook_built_by_hand_imports(store):
    data = xlsx(row(2, "A", 7) + row(3, "B", 0) + row(4, "C", 5))
    changes = import_uploads(store, [("plan.xlsx", data)], user="tester")
    assert changes == {"inventory": (3, 3)}
    inv = store.read_table("inventory")
    assert inv.set_index("sku")["on_hand_units"].to_dict() == {"A": 7.0, "B": 0.0, "C": 5.0}


def test_too_many_shared_strings_are_refused_while_streaming(store, monkeypatch, never_opened):
    monkeypatch.setattr(sources, "XLSX_MAX_SHARED_STRINGS", 1_000)
    data = xlsx(row(2, "A", 1), ["sku", "on_hand_units"] + [f"s{i}" for i in range(5_000)])
    assert refused(store, data) == [
        "plan.xlsx: part xl/sharedStrings.xml holds more than 1,000 shared strings, above the limit"
    ]


def test_a_part_too_big_is_refused_from_the_zip_directory_alone(store, monkeypatch, never_opened):
    def no_scan(*args, **kwargs):
        raise AssertionError("a part was inflated")

    monkeypatch.setattr(sources, "_scan_part", no_scan)
    monkeypatch.setattr(sources, "XLSX_MAX_STRINGS_BYTES", 10_000)
    data = xlsx(row(2, "A", 1), ["sku", "on_hand_units"] + [f"s{i}" for i in range(2_000)])
    [problem] = refused(store, data)
    assert problem.startswith("plan.xlsx: part xl/sharedStrings.xml expands to ")
    assert problem.endswith("above the limit of 10,000 bytes for the shared strings")


def test_a_highly_compressed_part_is_refused_by_its_ratio(store, never_opened):
    padding = " " * 3_000_000  # 3 MB of blanks compress about 1,000 times
    data = xlsx(sheet=SHEET_HEAD + row(2, "A", 1) + padding + SHEET_TAIL)
    [problem] = refused(store, data)
    assert problem.startswith("plan.xlsx: part xl/worksheets/sheet1.xml expands ")
    assert "above the limit of 100 times for one part of a workbook" in problem


def test_one_huge_value_is_refused_before_it_is_parsed(store, never_opened):
    huge = "x" * 600_000  # under the ratio rule's 1 MB, over twice the 262,144-byte window
    [problem] = refused(store, xlsx(row(2, huge, 1)))
    assert problem == (
        "plan.xlsx: part xl/worksheets/sheet1.xml holds a value longer than 262,144 bytes "
        "(a cell holds at most 32,767 characters)"
    )


def test_a_row_beyond_excels_last_row_is_refused(store, never_opened):
    [problem] = refused(store, xlsx(row(2, "A", 1) + row(99_999_999, "B", 2)))
    assert problem == (
        "plan.xlsx: part xl/worksheets/sheet1.xml has a row numbered 99,999,999, beyond the "
        "limit of 1,048,576 rows (Excel's last row)"
    )


def test_a_cell_beyond_column_zz_is_refused(store, never_opened):
    far = '<row r="2"><c r="XFD2"><v>1</v></c></row>'
    [problem] = refused(store, xlsx(far))
    assert problem == (
        "plan.xlsx: part xl/worksheets/sheet1.xml has a cell in column XFD, beyond the limit "
        "of 702 columns (column ZZ)"
    )


def test_too_many_rows_are_refused(store, monkeypatch, never_opened):
    monkeypatch.setattr(sources, "XLSX_MAX_ROWS", 50)
    rows = "".join(row(n, f"S{n}", 1) for n in range(2, 100))
    assert refused(store, xlsx(rows)) == [
        "plan.xlsx: part xl/worksheets/sheet1.xml holds more than 50 rows, above the limit"
    ]


def test_a_cell_longer_than_excel_allows_is_named(store):
    long = "y" * 40_000
    problems = refused(store, xlsx(row(2, "A", 1) + row(3, long, 2)))
    assert problems == [
        "plan.xlsx sheet inventory row 3, column sku: holds 40,000 characters, above the "
        "limit of 32,767 for a cell"
    ]


def test_a_role_that_may_not_import_is_refused_before_any_part_is_inflated(
    store, monkeypatch, never_opened
):
    def no_scan(*args, **kwargs):
        raise AssertionError("a part was inflated")

    monkeypatch.setattr(sources, "_scan_part", no_scan)
    asked: list[list[str]] = []

    def authorize(tables: list[str]) -> None:
        asked.append(tables)
        raise PermissionDenied("Only operations or admin may import inventory")

    big = xlsx(row(2, "A", 1), ["sku", "on_hand_units"] + [f"s{i}" for i in range(50_000)])
    with pytest.raises(PermissionDenied):
        import_uploads(store, [("plan.xlsx", big)], user="viewer", authorize=authorize)
    assert asked == [["inventory"]]


def test_far_right_padding_is_read_fast_and_a_stray_value_still_named(store):
    # A value in column ZZ pads the row to 702 cells; it is reported, not silently dropped.
    stray = '<row r="3"><c r="A3" t="inlineStr"><is><t>B</t></is></c><c r="ZZ3"><v>9</v></c></row>'
    problems = refused(store, xlsx(row(2, "A", 1) + stray))
    assert problems == [
        'plan.xlsx sheet inventory row 3, column ZZ: "9" is in a column with no name in the '
        "header row"
    ]


def _offset_book(stray: str = "note") -> bytes:
    """A products sheet whose table starts at B3, with a date, a whole number and a stray value."""
    import datetime as dt

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "actuals"
    sheet["B3"], sheet["C3"], sheet["D3"] = "month", "sku", "units"
    sheet["B4"], sheet["C4"], sheet["D4"] = dt.datetime(2025, 12, 1), "A", 110
    sheet["B5"], sheet["C5"], sheet["D5"] = "2025-11", "B", 12.5
    sheet["B6"], sheet["C6"], sheet["D6"], sheet["F6"] = "2025-11", "C", 1, stray or None
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


@pytest.mark.parametrize("reader", ["calamine", "openpyxl"])
def test_both_readers_give_the_same_text_rows_and_places(reader, monkeypatch, tmp_path):
    from sop_core.intake.importer import read_sources

    if reader == "openpyxl":
        monkeypatch.setattr(sources, "XLSX_MAX_DENSE_CELLS", 0)
    else:
        monkeypatch.setattr(openpyxl, "load_workbook", lambda *a, **k: pytest.fail("openpyxl"))
    path = tmp_path / "plan.xlsx"
    path.write_bytes(_offset_book())
    with pytest.raises(ImportRejected) as info:
        read_sources([path])
    assert info.value.problems == [
        'plan.xlsx sheet actuals row 6, column F: "note" is in a column with no name in the '
        "header row"
    ]
    path.write_bytes(_offset_book(stray=""))
    [(frame, origin)] = read_sources([path]).values()
    assert origin == "plan.xlsx sheet actuals"
    assert list(frame.columns) == ["", "month", "sku", "units"]
    assert frame.index.tolist() == [4, 5, 6]
    assert frame.iloc[:, 1:].values.tolist() == [
        ["2025-12-01", "A", "110"],
        ["2025-11", "B", "12.5"],
        ["2025-11", "C", "1"],
    ]


@pytest.mark.parametrize(
    "rows, width, dense",
    [
        (row(2, "A", 1) + row(3, "B", 2), 2, 3 * 2),
        ('<row r="5"><c r="C5"><v>1</v></c></row>', 3, 5 * 3),
        ('<row r="2"><c r="AB2"><v>1</v></c></row>', 28, 2 * 28),
        ('<row><c r="A2"><v>1</v></c></row>', 2, 1 << 62),  # a row without its number: unknown
        ('<row r="2"><c><v>1</v></c></row>', 2, 1 << 62),  # a cell without its reference
    ],
)
def test_the_scan_measures_the_rectangle_python_calamine_would_hold(rows, width, dense):
    with zipfile.ZipFile(io.BytesIO(xlsx(rows))) as archive:
        shape = sources._scan_part(archive, "xl/worksheets/sheet1.xml", "sheet", "plan.xlsx")
    assert shape.width == width and shape.dense_cells == dense
