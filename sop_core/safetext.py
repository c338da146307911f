"""Text a spreadsheet will not evaluate: every CSV and workbook cell the product writes from data.

A name such as ``=HYPERLINK("http://…?"&A1,"x")`` typed into the cockpit or imported must reach
Excel or LibreOffice as that text, never as a formula (OWASP, "CSV Injection"):

- CSV: a text field that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return
  (after any leading spaces; also their full-width forms) gets a leading ``'``, which the
  spreadsheet shows and does not evaluate. Numbers stay numbers, and so does text that is a plain
  number such as ``-15000`` (it cannot call anything).
- Workbooks (openpyxl): openpyxl stores any ``str`` starting with ``=`` as a formula; such a cell is
  turned back into a string cell and marked with Excel's quote prefix, so the sheet shows the text
  as typed and keeps it text when someone edits the cell.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

__all__ = [
    "FORMULA_STARTS",
    "is_risky",
    "csv_cell",
    "csv_frame",
    "csv_bytes",
    "write_csv",
    "neutralise_workbook",
]

# OWASP's list, plus the full-width forms some spreadsheets read as the same operators.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\uff1d", "\uff0b", "\uff0d", "\uff20")
_PLAIN_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")


def is_risky(value: object) -> bool:
    """Whether ``value`` is text a spreadsheet could read as a formula."""
    if not isinstance(value, str) or not value:
        return False
    if value.startswith(("\t", "\r")):
        return True
    head = value.lstrip(" \u00a0")
    return head.startswith(FORMULA_STARTS) and not _PLAIN_NUMBER.fullmatch(head)


def csv_cell(value: object) -> object:
    """A CSV field: risky text gets a leading ``'``; anything else is returned unchanged."""
    return "'" + value if is_risky(value) else value


def csv_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` with every risky text cell (and column name) quoted; numbers untouched."""
    out = frame.copy()
    for column in out.columns:
        series = out[column]
        if pd.api.types.is_numeric_dtype(series) or pd.api.types.is_bool_dtype(series):
            continue
        if pd.api.types.is_datetime64_any_dtype(series):
            continue
        if series.map(is_risky, na_action="ignore").fillna(False).astype(bool).any():
            out[column] = series.map(csv_cell, na_action="ignore")
    out.columns = [csv_cell(c) for c in out.columns]
    return out


def csv_bytes(frame: pd.DataFrame) -> bytes:
    """``frame`` as UTF-8 CSV text (no index), safe to open in a spreadsheet."""
    return csv_frame(frame).to_csv(index=False).encode("utf-8")


def write_csv(frame: pd.DataFrame, path: str | Path) -> None:
    """Write ``frame`` as a CSV file (no index), safe to open in a spreadsheet."""
    csv_frame(frame).to_csv(path, index=False)


def neutralise_workbook(book) -> int:
    """Turn every formula cell of an openpyxl workbook into a text cell; returns how many.

    The product writes no formula of its own, so any cell openpyxl typed as a formula holds text
    that started with ``=``. Risky text cells also get Excel's quote prefix.
    """
    count = 0
    for sheet in book.worksheets:
        # _cells holds only the cells written; iter_rows() would create every empty one.
        for cell in list(sheet._cells.values()):
            if cell.data_type == "f":
                cell.data_type = "s"
                count += 1
            if cell.data_type == "s" and is_risky(cell.value):
                cell.quotePrefix = True
    return count
