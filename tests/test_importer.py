"""Import: each bad input gets its own message and changes nothing; a good import replaces."""

from __future__ import annotations

import io
import zipfile

import numpy as np
import openpyxl
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sop_core.contract import TABLE_ORDER, TABLES
from sop_core.errors import ImportRejected
from sop_core.intake import sources
from sop_core.intake.importer import import_paths, import_uploads, read_sources, validate
from sop_core.intake.problems import MAX_PROBLEMS_PER_FILE
from sop_core.intake.templates import table_help, template_csv, template_xlsx

PRODUCTS_HEADER = (
    "sku,name,family,unit_price,unit_material_cost,unit_variable_cost,target_cover_days"
)
LIFECYCLE_HEADER = ",launch_month,end_month,like_sku,like_share"


def assert_same(before: dict[str, pd.DataFrame], after: dict[str, pd.DataFrame]) -> None:
    assert before.keys() == after.keys()
    for name in before:
        pd.testing.assert_frame_equal(before[name], after[name], obj=name)


def rejected(store, paths) -> list[str]:
    """Import that must be rejected with the store unchanged; returns the problems."""
    before = store.snapshot()
    with pytest.raises(ImportRejected) as info:
        import_paths(store, paths, user="tester")
    assert_same(before, store.snapshot())
    assert info.value.problems
    return info.value.problems


def has(problems: list[str], expected: str) -> bool:
    return any(expected in p for p in problems)


def workbook(sheets: dict[str, list[list]]) -> bytes:
    book = openpyxl.Workbook()
    book.remove(book.active)
    for name, rows in sheets.items():
        sheet = book.create_sheet(name)
        for row in rows:
            sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def patch_sheet(xlsx: bytes, old: str, new: str) -> bytes:
    """The workbook with one piece of worksheet XML replaced (as another program would write it)."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(xlsx)) as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            data = src.read(info)
            if info.filename.startswith("xl/worksheets/"):
                assert old.encode() in data, data
                data = data.replace(old.encode(), new.encode())
            dst.writestr(info, data)
    return out.getvalue()


def save(folder, xlsx: bytes, name: str = "plan.xlsx"):
    path = folder / name
    path.write_bytes(xlsx)
    return path


def zip_bytes() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr("products.csv", "sku\n")
    return out.getvalue()


P = "products"
A = "actuals"


def edit(table: str, old: str, new: str):
    """A case's file: the valid text of ``table`` with one substring replaced."""
    return lambda valid: {table: valid[table].replace(old, new, 1)}


def text(table: str, content: str | bytes):
    return lambda valid: {table: content}


BAD_CASES = [
    # numbers
    (
        "comma-decimal",
        edit(P, "B,Beta,F1,20", 'B,Beta,F1,"12,5"'),
        'products.csv row 3, column unit_price: "12,5" is not a number',
    ),
    (
        "semicolon-file-comma-decimal",
        lambda v: {P: v[P].replace(",", ";").replace("B;Beta;F1;20", "B;Beta;F1;12,5")},
        'products.csv row 3, column unit_price: "12,5" is not a number',
    ),
    (
        "thousands-separator",
        edit(P, "B,Beta,F1,20", 'B,Beta,F1,"1,000.5"'),
        'products.csv row 3, column unit_price: "1,000.5" is not a number (numbers use a dot '
        "for decimals and no thousands separator)",
    ),
    (
        "currency-sign",
        edit(P, "B,Beta,F1,20", "B,Beta,F1,£20"),
        'products.csv row 3, column unit_price: "£20" is not a number',
    ),
    (
        "negative",
        edit(P, "B,Beta,F1,20,8", "B,Beta,F1,20,-5"),
        'products.csv row 3, column unit_material_cost: "-5" is below the minimum 0',
    ),
    (
        "nan",
        edit(A, "2025-12,B,50", "2025-12,B,NaN"),
        'actuals.csv row 4, column units: "NaN" is not a finite number',
    ),
    (
        "inf",
        edit("inventory", "B,40", "B,inf"),
        'inventory.csv row 3, column on_hand_units: "inf" is not a finite number',
    ),
    (
        "overflow",
        edit(A, "2025-12,B,50", "2025-12,B,1e400"),
        'actuals.csv row 4, column units: "1e400" is not a finite number',
    ),
    (
        "absurd-units",
        edit(A, "2025-12,B,50", "2025-12,B,5e9"),
        'actuals.csv row 4, column units: "5e9" is above the maximum 1,000,000,000',
    ),
    (
        "absurd-hours",
        edit("resources", "L2,Leeds,150", "L2,Leeds,800"),
        'resources.csv row 3, column hours_per_fte: "800" is above the maximum 744',
    ),
    (
        "empty-number",
        edit(P, "B,Beta,F1,20", "B,Beta,F1,"),
        "products.csv row 3, column unit_price: is empty",
    ),
    # text and choices
    ("empty-text", edit(P, "B,Beta,", "B,,"), "products.csv row 3, column name: is empty"),
    (
        "statistical-source",
        edit("forecasts", "A,sales", "A,statistical"),
        'forecasts.csv row 2, column source: "statistical" is computed by the app, not imported '
        "(expected one of sales, marketing, consensus)",
    ),
    (
        "unknown-source",
        edit("forecasts", "B,marketing", "B,guess"),
        'forecasts.csv row 4, column source: "guess" is not one of sales, marketing, consensus',
    ),
    # months
    (
        "month-13",
        edit("budget", "2026-01,F1", "2026-13,F1"),
        'budget.csv row 2, column month: "2026-13" has month 13, which does not exist (expected 01-12)',
    ),
    (
        "mid-month-date",
        edit(A, "2025-12,A", "2025-12-15,A"),
        'actuals.csv row 3, column month: "2025-12-15" is a date that is not the first of a month',
    ),
    (
        "not-a-month",
        edit("capacity", "2026-01,L1", "Jan 2026,L1"),
        'capacity.csv row 2, column month: "Jan 2026" is not a month (expected YYYY-MM',
    ),
    # header
    (
        "missing-columns",
        text(
            P, "sku,name,unit_material_cost,unit_variable_cost,target_cover_days\nA,Alpha,4,1,30\n"
        ),
        "products.csv: missing column(s) family, unit_price",
    ),
    (
        "misspelled-column",
        edit(P, "unit_price", "unit_prise"),
        'products.csv: unknown column "unit_prise" (did you mean "unit_price"?)',
    ),
    (
        "wrong-case-column",
        edit(P, "sku,", "SKU,"),
        'products.csv: unknown column "SKU" (did you mean "sku"?)',
    ),
    (
        "column-twice",
        text("inventory", "sku,on_hand_units,sku\nA,1,A\n"),
        "inventory.csv: column sku appears twice in the header",
    ),
    (
        "value-under-unnamed-column",
        text("inventory", "sku,on_hand_units,\nA,200,\nB,40,x\nC,0,\n"),
        'inventory.csv row 3, column 3 (no name in the header): "x" has no column name',
    ),
    # file names
    (
        "unknown-file-name",
        lambda v: {"prodcts": v[P]},
        'prodcts.csv: file name "prodcts" is not a table name (did you mean "products"?)',
    ),
    # keys
    (
        "duplicate-key",
        lambda v: {A: v[A] + "2025-12,A,7\n"},
        'actuals.csv row 6: duplicate key month "2025-12", sku "A" (already in row 3)',
    ),
    (
        "duplicate-key-after-normalising",
        lambda v: {A: v[A] + "2025-12-01,A,7\n"},
        'actuals.csv row 6: duplicate key month "2025-12", sku "A" (already in row 3)',
    ),
    # references
    (
        "unknown-sku-stored",
        edit(A, "2025-12,B", "2025-12,Z"),
        'actuals.csv row 4, column sku: "Z" is not a sku in the stored products',
    ),
    (
        "unknown-sku-same-import",
        lambda v: {P: v[P], A: v[A] + "2025-12,D,1\n"},
        'actuals.csv row 6, column sku: "D" is not a sku in products.csv',
    ),
    (
        "unknown-resource",
        edit("routings", "A,L1", "A,L9"),
        'routings.csv row 2, column resource: "L9" is not a resource in the stored resources',
    ),
    (
        "unknown-family",
        edit("budget", "2026-01,F2", "2026-01,F9"),
        'budget.csv row 3, column family: "F9" is not a family in the stored products',
    ),
    (
        "products-drop-used-skus",
        edit(P, "C,Gamma,F2,5,2,0.5,0\n", ""),
        'products.csv: drops sku "C", still used by the stored actuals; import actuals too',
    ),
    (
        "resources-drop-used-resource",
        edit("resources", "L2,Leeds,150,2800\n", ""),
        'resources.csv: drops resource "L2", still used by the stored routings',
    ),
    # rows and files
    (
        "ragged-more",
        edit(P, "A,Alpha,F1,10,4,1,30", "A,Alpha,F1,10,4,1,30,99"),
        "products.csv row 2: has 8 fields but the header has 7",
    ),
    (
        "ragged-fewer",
        edit(P, "B,Beta,F1,20,8,2,15", "B,Beta,F1,20"),
        "products.csv row 3: has 4 fields but the header has 7",
    ),
    ("header-only", text(P, PRODUCTS_HEADER + "\n"), "products.csv: has no data rows"),
    (
        "tab-separated",
        lambda v: {P: v[P].replace(",", "\t")},
        "products.csv: columns are separated by tabs; separate them with commas or semicolons",
    ),
    ("empty-file", text(P, b""), "products.csv: is empty"),
    ("blank-lines-only", text(P, b"\r\n  \n\n"), "products.csv: is empty"),
    (
        "png-renamed",
        text(P, b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256))),
        "products.csv: is not a CSV text file (it looks like a PNG image)",
    ),
    (
        "zip-renamed",
        text(P, zip_bytes()),
        "products.csv: is not a CSV text file (it looks like a zip archive",
    ),
    (
        "nul-bytes",
        text(P, b"sku,name\x00\x00\x00\x01\x02"),
        "products.csv: is not a CSV text file (it holds NUL bytes)",
    ),
    (
        "nul-bytes-after-first-block",
        text(
            "cash_items",
            "month,item,amount\n"
            + "".join(f"2026-01,item {i},1\n" for i in range(3000))
            + "2026-02,x,\x00\x00\n",
        ),
        "cash_items.csv row 3002: is not a CSV text file (it holds NUL bytes)",
    ),
    (
        "latin-1",
        lambda v: {P: v[P].replace("Beta", "Bêta").encode("latin-1")},
        "products.csv row 3: is not UTF-8 text (byte 0xea)",
    ),
    (
        "utf-16",
        lambda v: {P: v[P].encode("utf-16")},
        "products.csv: is not UTF-8 text (it is UTF-16)",
    ),
    # settings
    (
        "unknown-setting",
        text("settings", "key,value\ncurency,EUR\n"),
        'settings.csv row 2, column key: "curency" is not a setting (did you mean "currency"?)',
    ),
    (
        "setting-not-a-number",
        text("settings", "key,value\ncurrency,EUR\nhorizon_months,eighteen\n"),
        'settings.csv row 3, column value: "eighteen" is not a number (expected int) for horizon_months',
    ),
    (
        "setting-out-of-range",
        text("settings", "key,value\ntolerance_pct,150\n"),
        'settings.csv row 2, column value: "150" is above the maximum 100',
    ),
    (
        "setting-bad-currency",
        text("settings", "key,value\ncurrency,euro\n"),
        'settings.csv row 2, column value: "euro" is not a 3-letter currency code',
    ),
    (
        "setting-bad-allocation",
        text("settings", "key,value\nallocation,best\n"),
        'settings.csv row 2, column value: "best" is not one of pro_rata, margin for allocation',
    ),
]


@pytest.mark.parametrize(
    ("files", "expected"),
    [pytest.param(files, expected, id=name) for name, files, expected in BAD_CASES],
)
def test_bad_input_is_named_and_changes_nothing(loaded_db, write_csvs, valid_csv, files, expected):
    folder = write_csvs([], **files(valid_csv))
    problems = rejected(loaded_db, [folder])
    assert has(problems, expected), problems


def test_every_problem_of_every_file_is_listed(loaded_db, write_csvs, valid_csv):
    folder = write_csvs(
        [],
        products=valid_csv[P].replace("unit_price", "unit_prise"),
        actuals=valid_csv[A].replace("2025-11", "2025-13").replace("2025-12,B,50", "2025-12,B,-1"),
        settings="key,value\ncurency,EUR\n",
    )
    problems = rejected(loaded_db, [folder])
    for expected in [
        'products.csv: unknown column "unit_prise"',
        "products.csv: missing column(s) unit_price",
        'actuals.csv row 2, column month: "2025-13" has month 13',
        'actuals.csv row 4, column units: "-1" is below the minimum 0',
        'settings.csv row 2, column key: "curency" is not a setting',
    ]:
        assert has(problems, expected), (expected, problems)


def test_one_bad_table_rejects_the_whole_import(loaded_db, write_csvs, valid_csv):
    folder = write_csvs(
        [P, "inventory"],
        products=valid_csv[P].replace("A,Alpha,F1,10", "A,Alpha,F1,11"),
        actuals=valid_csv[A].replace("2025-12,C,0", "2025-12,C,lots"),
    )
    problems = rejected(loaded_db, [folder])
    assert problems == ['actuals.csv row 5, column units: "lots" is not a number']
    assert loaded_db.read_table(P)["unit_price"].tolist() == [10.0, 20.0, 5.0]


def test_row_numbers_count_blank_lines_and_multiline_cells(loaded_db, write_csvs):
    content = (
        "\r\n" + PRODUCTS_HEADER + "\r\n"  # row 1 blank, header row 2
        "A,Alpha,F1,10,4,1,30\r\n"  # row 3
        "\r\n"  # row 4 blank
        'B,"Beta\r\nsecond line",F1,20,8,2,15\r\n'  # row 5, one cell on two lines
        "C,Gamma,F2,x,2,0.5,0\r\n"  # row 6
    )
    problems = rejected(loaded_db, [write_csvs([], products=content)])
    assert problems == ['products.csv row 6, column unit_price: "x" is not a number']


def test_problems_are_capped_per_file_and_counted(loaded_db, write_csvs):
    rows = "".join(f"2024-{1 + i % 12:02d},A,-{i + 1}\n" for i in range(1000))
    problems = rejected(loaded_db, [write_csvs([], actuals="month,sku,units\n" + rows)])
    listed = [p for p in problems if p.startswith("actuals.csv row")]
    assert len(listed) == MAX_PROBLEMS_PER_FILE
    assert problems[-1].startswith("actuals.csv: … and ")
    assert problems[-1].endswith("more problem(s) not listed")


def test_bad_paths_are_named(loaded_db, tmp_path):
    empty = tmp_path / "empty_folder"
    empty.mkdir()
    xls = tmp_path / "products.xls"
    xls.write_bytes(b"\xd0\xcf\x11\xe0")
    fake = tmp_path / "plan.xlsx"
    fake.write_text("sku,name\n")
    missing = tmp_path / "nope.csv"
    problems = rejected(loaded_db, [empty, xls, fake, missing])
    assert has(problems, f"{empty}: folder holds no .csv or .xlsx files")
    assert has(problems, "products.xls: cannot read .xls files; save it as .xlsx")
    assert has(problems, "plan.xlsx: is not an Excel .xlsx workbook")
    assert has(problems, f"{missing}: no such file or folder")


def test_import_into_a_locked_cycle_is_refused_before_reading(loaded_db, write_csvs):
    from sop_core.errors import CycleLocked

    with loaded_db.transaction() as cur:
        cur.execute(
            "INSERT INTO cycles (cycle, status, locked_by, locked_at) "
            "VALUES ('2026-01', 'locked', 'ceo', current_timestamp)"
        )
    before = loaded_db.snapshot()
    with pytest.raises(CycleLocked, match="Cycle 2026-01 is locked"):
        import_paths(loaded_db, [write_csvs([A])], user="x")
    with pytest.raises(CycleLocked):  # not ImportRejected: the files are not even read
        import_paths(loaded_db, [write_csvs([], actuals=b"\x89PNG")], user="x")
    assert_same(before, loaded_db.snapshot())


def test_nothing_to_import_is_refused(loaded_db):
    assert rejected(loaded_db, []) == [
        "nothing to import: give contract CSV files or an .xlsx workbook"
    ]


def test_file_above_the_size_limit_is_refused_unread(loaded_db, write_csvs, monkeypatch):
    monkeypatch.setattr(sources, "MAX_FILE_BYTES", 10)
    problems = rejected(loaded_db, [write_csvs([A])])
    assert problems == ["actuals.csv: is 69 bytes, above the limit of 10 bytes for one file"]


def test_same_table_twice_is_refused(loaded_db, write_csvs, valid_csv):
    folder = write_csvs([P])
    sheet = [PRODUCTS_HEADER.split(","), ["A", "Alpha", "F1", 10, 4, 1, 30]]
    (folder / "plan.xlsx").write_bytes(workbook({"products": sheet}))
    problems = rejected(loaded_db, [folder])
    assert has(
        problems,
        "products.csv: table products is already in this import (plan.xlsx sheet products)",
    )


# --- good imports ---------------------------------------------------------------------------
def test_valid_folder_fills_every_table(fresh_db, write_csvs):
    changes = import_paths(fresh_db, [write_csvs()], user="ana")
    assert changes == {
        "products": (0, 3),
        "actuals": (0, 4),
        "forecasts": (0, 3),
        "inventory": (0, 3),
        "resources": (0, 2),
        "routings": (0, 4),
        "capacity": (0, 2),
        "headcount": (0, 2),
        "supply_limits": (0, 1),
        "budget": (0, 2),
        "cash_items": (0, 1),
        "settings": (0, 3),
    }
    budget = fresh_db.read_table("budget")
    assert budget["gross_margin"].tolist() == [900.0, -20.0]
    assert budget["closing_inventory_value"].isna().tolist() == [False, True]
    assert fresh_db.read_table("cash_items")["amount"].tolist() == [-15000.0]
    settings = fresh_db.settings()
    assert (settings.currency, settings.plan_start, settings.opening_cash) == (
        "EUR",
        "2026-01",
        50000.0,
    )


def test_reimport_replaces_only_its_tables_and_writes_the_audit_log(loaded_db, write_csvs):
    before = loaded_db.snapshot()
    folder = write_csvs(
        [],
        actuals="month,sku,units\n2026-01,A,5\n2026-01,B,6\n",
        inventory="sku,on_hand_units\nA,1\n",
    )
    changes = import_paths(loaded_db, [folder], user="bea")
    assert changes == {"actuals": (4, 2), "inventory": (3, 1)}
    after = loaded_db.snapshot()
    for name in set(before) - {"actuals", "inventory", "audit_log"}:
        pd.testing.assert_frame_equal(before[name], after[name], obj=name)
    assert loaded_db.read_table("actuals").values.tolist() == [
        ["2026-01", "A", 5.0],
        ["2026-01", "B", 6.0],
    ]
    full = loaded_db.audit_log()
    log = full[full["action"] == "import"].head(2).sort_values("entity")
    assert log["user_name"].tolist() == ["bea", "bea"]
    assert log["entity"].tolist() == ["actuals", "inventory"]
    assert log["old_value"].tolist() == ["4 rows", "3 rows"]
    assert log["new_value"].tolist() == ["2 rows", "1 rows"]
    assert log["detail"].tolist() == [
        "actuals.csv, inventory.csv: 2 added, 4 removed, 0 changed",
        "actuals.csv, inventory.csv: 0 added, 2 removed, 1 changed",
    ]
    # each row change, old -> new, by key (every one here: fewer than MAX_LOGGED_ROWS)
    full = full[full["user_name"] == "bea"].astype(object)
    full = full.where(full.notna(), None)
    rows = full[(full["action"] == "import change") & (full["entity"] == "inventory")]
    assert sorted(rows[["item_key", "old_value", "new_value", "detail"]].values.tolist(),
                  key=str) == [
        ["A", "on_hand_units 200", "on_hand_units 1", "changed"],
        ["B", "on_hand_units 40", None, "removed"],
        ["C", "on_hand_units 0", None, "removed"],
    ]  # fmt: skip
    actuals = full[(full["action"] == "import change") & (full["entity"] == "actuals")]
    assert sorted(actuals["item_key"]) == [
        "2025-11 · A", "2025-12 · A", "2025-12 · B", "2025-12 · C", "2026-01 · A", "2026-01 · B",
    ]  # fmt: skip
    assert len(after["audit_log"]) == len(before["audit_log"]) + 2 + 6 + 3


def test_header_only_clears_an_optional_table(loaded_db, write_csvs):
    changes = import_paths(
        loaded_db, [write_csvs([], supply_limits="month,sku,max_units\n")], user="x"
    )
    assert changes == {"supply_limits": (1, 0)}
    assert loaded_db.read_table("supply_limits").empty


def test_allocation_setting_is_stored_and_read(loaded_db, write_csvs):
    assert loaded_db.settings().allocation == "pro_rata"  # the default
    import_paths(loaded_db, [write_csvs([], settings="key,value\nallocation,Margin\n")], user="x")
    assert loaded_db.read_table("settings").values.tolist() == [["allocation", "margin"]]
    assert loaded_db.settings().allocation == "margin"


def test_settings_import_replaces_the_whole_table(loaded_db, write_csvs):
    import_paths(loaded_db, [write_csvs([], settings="key,value\ndso_days,45\n")], user="x")
    assert loaded_db.read_table("settings").values.tolist() == [["dso_days", "45.0"]]
    assert loaded_db.settings().currency == "GBP"  # back to the default


def test_bom_semicolons_dates_spaces_and_case_are_normalised(loaded_db, write_csvs):
    products = (
        "\ufeff sku ; name;family;unit_price;unit_material_cost;unit_variable_cost;target_cover_days\n"
        "A;Alpha;F1;10.5;4;1;30\nB; Beta ;F1;20;8;2;15\nC;Gamma;F2;5;2;0.5;-0\n"
    )
    actuals = "month,sku,units\n2025-11-01,A,100\n2025-12-01 00:00:00,C,1e2\n"
    forecasts = "cycle,month,sku,source,units\n2026-01,2026-02-01,A,Sales,3\n"
    folder = write_csvs([], products=products, actuals=actuals, forecasts=forecasts)
    import_paths(loaded_db, [folder], user="x")
    got = loaded_db.read_table(P)
    assert got["name"].tolist() == ["Alpha", "Beta", "Gamma"]
    assert got["unit_price"].tolist() == [10.5, 20.0, 5.0]
    assert str(got["target_cover_days"].iloc[2]) == "0.0"
    assert loaded_db.read_table(A).values.tolist() == [
        ["2025-11", "A", 100.0],
        ["2025-12", "C", 100.0],
    ]
    assert loaded_db.read_table("forecasts")[["month", "source"]].values.tolist() == [
        ["2026-02", "sales"]
    ]


def test_optional_columns_may_be_absent(loaded_db, write_csvs):
    folder = write_csvs([], budget="month,family,revenue,gross_margin\n2026-02,F1,1,2\n")
    import_paths(loaded_db, [folder], user="x")
    got = loaded_db.read_table("budget")
    assert got[["month", "family", "revenue"]].values.tolist() == [["2026-02", "F1", 1.0]]
    assert got["closing_inventory_value"].isna().all() and got["headcount_fte"].isna().all()


def test_chunk_boundaries_keep_row_numbers_and_find_duplicates(loaded_db, write_csvs, monkeypatch):
    monkeypatch.setattr(sources, "CHUNK_ROWS", 2)
    rows = "2025-01,A,1\n2025-02,A,2\n2025-03,A,3\n2025-04,A,x\n2025-05,A,5\n2025-01,A,9\n"
    problems = rejected(loaded_db, [write_csvs([], actuals="month,sku,units\n" + rows)])
    assert problems == [
        'actuals.csv row 5, column units: "x" is not a number',
        'actuals.csv row 7: duplicate key month "2025-01", sku "A" (already in row 2)',
    ]
    good = rows.replace(",x", ",4").replace("2025-01,A,9\n", "")
    import_paths(loaded_db, [write_csvs([], actuals="month,sku,units\n" + good)], user="x")
    assert loaded_db.read_table(A)["units"].tolist() == [1.0, 2.0, 3.0, 4.0, 5.0]


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.floats(min_value=0, max_value=1e9, allow_nan=False))
def test_numbers_survive_the_csv_exactly(fresh_db, value):
    frame = pd.DataFrame({"sku": ["A"], "on_hand_units": [repr(value)]})
    products = pd.DataFrame([["A", "n", "F", "1", "1", "1", "1"]], columns=TABLES[P].required_names)
    clean = validate(fresh_db, {P: (products, "p"), "inventory": (frame, "inventory.csv")})
    assert clean["inventory"]["on_hand_units"].iloc[0] == value


# --- Excel ----------------------------------------------------------------------------------
def test_workbook_import_reads_cached_values_and_ignores_readme(fresh_db, tmp_path):
    import datetime as dt

    book = workbook(
        {
            "README": [["anything at all"], ["sku", "is", "ignored"]],
            "products": [
                PRODUCTS_HEADER.split(","),
                [1001, "Alpha", "F1", 10.5, 4, 1, 30],
                [None],  # an empty row, skipped but counted
                ["B", "Beta", "F1", 20, 8, 2, 15.0],
            ],
            "actuals": [
                ["month", "sku", "units"],
                [dt.datetime(2025, 12, 1), "1001", 3],
                ["2025-11", "B", 4.25],
            ],
        }
    )
    path = tmp_path / "plan.xlsx"
    path.write_bytes(book)
    assert import_paths(fresh_db, [path], user="x") == {"products": (0, 2), "actuals": (0, 2)}
    assert fresh_db.read_table(P)["sku"].tolist() == ["1001", "B"]
    assert fresh_db.read_table(A).values.tolist() == [
        ["2025-11", "B", 4.25],
        ["2025-12", "1001", 3.0],
    ]
    assert fresh_db.audit_log()["detail"].iloc[0] == (
        "plan.xlsx sheet products, plan.xlsx sheet actuals: 2 added, 0 removed, 0 changed"
    )


def test_workbook_problems_name_the_sheet_and_row(loaded_db, tmp_path):
    import datetime as dt

    book = workbook(
        {
            "prodcts": [["sku"]],
            "budget": [
                ["month", "family", "revenue", "gross_margin"],
                ["2026-13", "F1", 1, 1],
                [dt.datetime(2026, 1, 15), "F1", "#DIV/0!", 1],
                ["2026-02", "F1", 1, 1, None, None, "stray"],
            ],
            "inventory": [],
        }
    )
    path = tmp_path / "plan.xlsx"
    path.write_bytes(book)
    problems = rejected(loaded_db, [path])
    for expected in [
        'plan.xlsx sheet prodcts: sheet name "prodcts" is not a table name (did you mean "products"?)',
        'plan.xlsx sheet budget row 2, column month: "2026-13" has month 13, which does not exist (expected 01-12)',
        'plan.xlsx sheet budget row 3, column month: "2026-01-15" is a date that is not the first of a month',
        'plan.xlsx sheet budget row 3, column revenue: "#DIV/0!" is an Excel error, not a number',
        'plan.xlsx sheet budget row 4, column G: "stray" is in a column with no name in the header row',
        "plan.xlsx sheet inventory: is empty",
    ]:
        assert has(problems, expected), (expected, problems)


def test_formula_without_saved_value_is_refused_never_calculated(loaded_db, tmp_path):
    book = workbook(
        {"inventory": [["sku", "on_hand_units"], ["A", "=2*5"], ["B", '=WEBSERVICE("http://x")']]}
    )
    path = tmp_path / "plan.xlsx"
    path.write_bytes(book)
    problems = rejected(loaded_db, [path])
    assert problems == [
        'plan.xlsx sheet inventory row 2, column on_hand_units: holds the formula "=2*5" with no '
        "saved value (formulas are never calculated on import: open the workbook in Excel and "
        "save it, or paste values)",
        'plan.xlsx sheet inventory row 3, column on_hand_units: holds the formula "=WEBSERVICE("'
        'http://x")" with no saved value (formulas are never calculated on import: open the '
        "workbook in Excel and save it, or paste values)",
    ]


def test_formula_with_an_empty_text_result_is_an_empty_cell(loaded_db, tmp_path):
    header = ["month", "family", "revenue", "gross_margin", "closing_inventory_value"]
    book = workbook({"budget": [header, ["2026-01", "F1", 1, '=IF(TRUE,"",2)', '=IF(TRUE,"",2)']]})
    # Excel saves an empty text result as an empty value typed "str".
    for cell in ("D2", "E2"):
        book = patch_sheet(book, f'<c r="{cell}">', f'<c r="{cell}" t="str">')
    problems = rejected(loaded_db, [save(tmp_path, book)])
    assert problems == [
        "plan.xlsx sheet budget row 2, column gross_margin: is empty (a number is required)"
    ]
    fixed = patch_sheet(
        book,
        '<c r="D2" t="str"><f>IF(TRUE,"",2)</f><v></v>',
        '<c r="D2"><f>IF(TRUE,"",2)</f><v>5</v>',
    )
    import_paths(loaded_db, [save(tmp_path, fixed)], user="x")
    got = loaded_db.read_table("budget")
    assert got[["gross_margin"]].values.tolist() == [[5.0]]
    assert got["closing_inventory_value"].isna().all()


def test_formula_with_saved_value_imports_that_value(loaded_db, tmp_path):
    book = workbook({"inventory": [["sku", "on_hand_units"], ["A", "=2*5"]]})
    saved = patch_sheet(book, "<f>2*5</f><v></v>", "<f>2*5</f><v>7</v>")  # not 2*5
    import_paths(loaded_db, [save(tmp_path, saved)], user="x")
    assert loaded_db.read_table("inventory").values.tolist() == [["A", 7.0]]


TEMPLATE_ROWS = {t: (0, 2 if t == P else 1) for t in TABLE_ORDER}  # a launch like a product


def test_template_workbook_imports_into_a_fresh_store(fresh_db):
    changes = import_uploads(fresh_db, [("sop_template.xlsx", template_xlsx())], user="x")
    assert changes == TEMPLATE_ROWS
    products = fresh_db.read_table(P)
    lifecycle = products[["launch_month", "end_month", "like_sku"]].fillna("")
    assert lifecycle.values.tolist() == [["", "2026-09", ""], ["2026-07", "", "SKU-001"]]
    assert products["like_share"].tolist()[1] == 0.9
    book = openpyxl.load_workbook(io.BytesIO(template_xlsx()), read_only=True)
    assert book.sheetnames == ["README", *TABLE_ORDER]


def test_template_csvs_import_into_a_fresh_store(fresh_db):
    files = [(f"{t}.csv", template_csv(t)) for t in TABLE_ORDER]
    assert import_uploads(fresh_db, files, user="x") == TEMPLATE_ROWS
    assert template_csv(P).decode().splitlines()[0] == PRODUCTS_HEADER + LIFECYCLE_HEADER
    assert template_csv(P).decode().splitlines()[1].endswith(",,2026-09,,")
    with pytest.raises(KeyError):
        template_csv("audit_log")


def test_table_help_lists_every_column_with_its_rule():
    help_frame = table_help()
    assert list(help_frame.columns) == ["table", "column", "kind", "required", "rule"]
    for name in TABLE_ORDER:
        listed = help_frame.loc[help_frame["table"] == name, "column"].tolist()
        assert listed[: len(TABLES[name].columns)] == TABLES[name].column_names
    row = help_frame[(help_frame["table"] == "actuals") & (help_frame["column"] == "units")].iloc[0]
    assert (row["kind"], bool(row["required"])) == ("number", True)
    assert "≥ 0" in row["rule"] and "1,000,000,000" in row["rule"]
    optional = help_frame[help_frame["column"] == "closing_inventory_value"]["required"]
    assert optional.tolist() == [False]
    rules = help_frame[help_frame["table"] == P].set_index("column")
    for column in ("launch_month", "end_month", "like_sku", "like_share"):
        assert not rules.at[column, "required"], column
    assert "YYYY-MM" in rules.at["launch_month", "rule"]
    assert "no end" in rules.at["end_month", "rule"]
    assert "another sku" in rules.at["like_sku", "rule"]
    assert (
        "≤ 100" in rules.at["like_share", "rule"] and "blank = 1" in rules.at["like_share", "rule"]
    )


# --- uploads, read_sources, validate --------------------------------------------------------
def test_uploads_follow_the_same_rules(loaded_db, valid_csv):
    before = loaded_db.snapshot()
    bad = [("folder/actuals.csv", b"month,sku,units\n2026-01,A,1,2\n")]
    with pytest.raises(ImportRejected) as info:
        import_uploads(loaded_db, bad, user="x")
    assert info.value.problems == [
        "actuals.csv row 2: has 4 fields but the header has 3 (a value holding ',' must be in double quotes)"
    ]
    assert_same(before, loaded_db.snapshot())
    good = [("actuals.csv", b"month,sku,units\n2026-01,A,1\n")]
    assert import_uploads(loaded_db, good, user="x") == {"actuals": (4, 1)}


def test_read_sources_gives_raw_text_and_origins(write_csvs, valid_csv):
    raw = read_sources([write_csvs([P, "budget"])])
    assert set(raw) == {P, "budget"}
    frame, origin = raw["budget"]
    assert origin == "budget.csv"
    assert list(frame.columns) == TABLES["budget"].column_names
    assert frame.index.tolist() == [2, 3]  # spreadsheet row numbers
    assert frame.loc[3].tolist() == ["2026-01", "F2", "300", "-20", "", ""]


def test_read_sources_refuses_unreadable_files(write_csvs):
    with pytest.raises(ImportRejected) as info:
        read_sources([write_csvs([], products=b"\x89PNG\r\n")])
    assert info.value.problems == [
        "products.csv: is not a CSV text file (it looks like a PNG image)"
    ]


def test_validate_returns_typed_frames_in_contract_order(loaded_db):
    raw_actuals = pd.DataFrame(
        {"units": ["1", "2.5"], "sku": ["A", "B"], "month": ["2026-01-01", "2026-02"]}
    )
    clean = validate(loaded_db, {A: (raw_actuals, "actuals.csv")})
    frame = clean[A]
    assert list(frame.columns) == ["month", "sku", "units"]
    assert frame.values.tolist() == [["2026-01", "A", 1.0], ["2026-02", "B", 2.5]]
    assert frame["units"].dtype == np.float64
    bad = pd.DataFrame({"month": ["2026-01"], "sku": ["Q"], "units": ["1"]}, index=[14])
    with pytest.raises(ImportRejected) as info:
        validate(loaded_db, {A: (bad, "actuals.csv")})
    assert info.value.problems == [
        'actuals.csv row 14, column sku: "Q" is not a sku in the stored products '
        "(import products too, or add it there)"
    ]


# --- size -----------------------------------------------------------------------------------
@pytest.mark.slow
def test_tens_of_megabytes_import_completely(fresh_db, tmp_path):
    folder = tmp_path / "big"
    folder.mkdir()
    skus = [f"SKU-{i:05d}" for i in range(24_000)]
    months = [f"{y}-{m:02d}" for y in range(2022, 2026) for m in range(1, 13)]
    with (folder / "products.csv").open("w") as f:
        f.write(PRODUCTS_HEADER + "\n")
        f.writelines(f"{s},Product {s},F{i % 9},12.5,4,1,30\n" for i, s in enumerate(skus))
    units = np.random.default_rng(7).integers(0, 100_000, size=len(months) * len(skus))
    with (folder / "actuals.csv").open("w") as f:
        f.write("month,sku,units\n")
        it = iter(units.tolist())
        for m in months:
            f.write("".join(f"{m},{s},{next(it)}\n" for s in skus))
    assert (folder / "actuals.csv").stat().st_size > 20e6
    changes = import_paths(fresh_db, [folder], user="x")
    assert changes == {"products": (0, 24_000), "actuals": (0, len(months) * 24_000)}
    assert fresh_db.scalar("SELECT sum(units) FROM actuals") == float(units.sum())
