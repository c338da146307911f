"""Import templates (CSV per table, one Excel workbook) and the column reference the Data page shows."""

from __future__ import annotations

import csv
import io

import pandas as pd

from sop_core.contract import SETTINGS, TABLE_ORDER, TABLES, Column, TableSpec
from sop_core.safetext import csv_cell, neutralise_workbook

__all__ = ["EXAMPLE_ROWS", "template_csv", "template_xlsx", "table_help"]

# One valid example per table, all consistent with each other so the whole template imports.
EXAMPLE_ROWS: dict[str, list[list[object]]] = {
    # the second row launches in 2026-07 like the first, which ends in 2026-09
    "products": [
        ["SKU-001", "Widget, standard", "Widgets", 25.0, 8.0, 3.0, 30, None, "2026-09", None, None],
        ["SKU-002", "Widget, new", "Widgets", 27.0, 8.5, 3.0, 30, "2026-07", None, "SKU-001", 0.9],
    ],
    "actuals": [["2025-12", "SKU-001", 120]],
    "forecasts": [["2026-01", "2026-02", "SKU-001", "sales", 130]],
    "inventory": [["SKU-001", 200]],
    "resources": [["LINE-1", "Leeds", 160, 3500.0]],
    "routings": [["SKU-001", "LINE-1", 0.05]],
    "capacity": [["2026-01", "LINE-1", 320]],
    "headcount": [["2026-01", "LINE-1", 2]],
    "supply_limits": [["2026-01", "SKU-001", 500]],
    "budget": [["2026-01", "Widgets", 3250.0, 1200.0, 5000.0, 2]],
    "cash_items": [["2026-03", "Capex: new mould", -15000.0]],
    "financial_actuals": [["2025-12", 3100.0, 1150.0, 300.0, 52000.0, 5400.0, 1300.0, 4200.0]],
    "settings": [["currency", "GBP"]],
}

README_LINES = [
    "S&OP cockpit import workbook",
    "One sheet per table, named after the table; this README sheet is ignored on import.",
    "Row 1 holds the column names exactly as below; each following row is one record.",
    "Each sheet you keep replaces that table; delete the sheets of tables you do not import.",
    "Replace the example row of each sheet you keep with your own data.",
    "Months are YYYY-MM (a first-of-month date also works); numbers use a dot for decimals.",
    "Formulas are never calculated on import: their last saved values are used.",
    "Any invalid row rejects the whole import, naming the sheet, row, column, value and reason.",
]


def _rule(spec: TableSpec, col: Column) -> str:
    parts = []
    if col.kind == "month":
        parts.append("YYYY-MM")
    if col.choices:
        parts.append("one of " + ", ".join(col.choices))
    if col.kind == "number":
        if col.min is not None:
            parts.append(f"≥ {col.min:,.0f}" if float(col.min).is_integer() else f"≥ {col.min:g}")
        if col.max is not None:
            parts.append(f"≤ {col.max:,.0f}" if float(col.max).is_integer() else f"≤ {col.max:g}")
    if col.name in spec.key:
        parts.append("key: " + " + ".join(spec.key) + " unique")
    if col.name in spec.references:
        parts.append(f"must exist in {spec.references[col.name]}")
    if col.blank_ok:
        parts.append("a cell may be blank (not known)")
    if col.help and col.help != "YYYY-MM":
        parts.append(col.help)
    return "; ".join(parts)


def table_help() -> pd.DataFrame:
    """Every contract column (and settings key) with its kind, whether required, and its rule."""
    rows = []
    for name in TABLE_ORDER:
        spec = TABLES[name]
        for col in spec.columns:
            rows.append((name, col.name, col.kind, col.required, _rule(spec, col)))
    for key, setting in SETTINGS.items():
        rule = []
        default = setting.default
        if isinstance(default, float) and default.is_integer():
            default = int(default)
        if default not in (None, ""):
            rule.append(f"default {default}")
        if setting.min is not None and setting.max is not None:
            rule.append(f"{setting.min:,.0f} to {setting.max:,.0f}")
        if setting.help:
            rule.append(setting.help)
        rows.append(("settings", f"value of {key}", setting.kind, False, "; ".join(rule)))
    return pd.DataFrame(rows, columns=["table", "column", "kind", "required", "rule"])


def template_csv(table: str) -> bytes:
    """A CSV for one table: the header and one valid example row (UTF-8, comma separated)."""
    spec = TABLES[table]  # allow-list: KeyError for anything else
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(spec.column_names)
    writer.writerows([[csv_cell(v) for v in row] for row in EXAMPLE_ROWS[table]])
    return out.getvalue().encode("utf-8")


def template_xlsx() -> bytes:
    """A workbook: a README sheet (how to fill it, every column's rule), then one sheet per table."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    readme = book.active
    readme.title = "README"
    for line in README_LINES:
        readme.append([line])
    readme["A1"].font = Font(bold=True, size=14)
    readme.append([])
    help_frame = table_help()
    readme.append(list(help_frame.columns))
    for cell in readme[readme.max_row]:
        cell.font = Font(bold=True)
    for row in help_frame.itertuples(index=False):
        readme.append(["yes" if v is True else "optional" if v is False else v for v in row])
    for letter, width in zip("ABCDE", (16, 26, 10, 10, 70), strict=True):
        readme.column_dimensions[letter].width = width

    for name in TABLE_ORDER:
        spec = TABLES[name]
        sheet = book.create_sheet(name)
        sheet.append(spec.column_names)
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        for row in EXAMPLE_ROWS[name]:
            sheet.append(row)
        # Months and codes stay text: Excel must not turn 2026-01 into a date.
        for row in sheet.iter_rows(min_row=2):
            for cell in row:
                if isinstance(cell.value, str):
                    cell.number_format = "@"
        for i, col in enumerate(spec.column_names):
            sheet.column_dimensions[chr(ord("A") + i)].width = max(12, len(col) + 4)
        sheet.freeze_panes = "A2"
    neutralise_workbook(book)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
