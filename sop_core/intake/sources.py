"""Reading import files: CSV text and Excel sheets into raw string chunks, with every read problem named."""

from __future__ import annotations

import csv
import datetime as _dt
import io
import re
import zipfile
from collections.abc import Callable, Iterable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from itertools import chain
from pathlib import Path
from typing import BinaryIO

import pandas as pd

from sop_core.contract import TABLE_ORDER, TABLES
from sop_core.intake.problems import FATAL, Problems, show, size, suggest

__all__ = [
    "MAX_FILE_BYTES",
    "CHUNK_ROWS",
    "IGNORED_SHEETS",
    "Loaded",
    "Source",
    "Input",
    "bytes_input",
    "table_for",
    "inputs_from_paths",
    "gather",
    "raw_frame",
]

# One file above this is refused before it is read. A company of 100,000 skus planning 36 months
# has a forecasts.csv of ~330 MB (bench/bench_scale.py); validation reads it in chunks.
MAX_FILE_BYTES = 1_000_000_000


# Rows validated at a time; memory holds the clean typed frame plus one raw chunk.
CHUNK_ROWS = 50_000


# Workbook sheets that are documentation, not tables (the template's first sheet).
IGNORED_SHEETS = ("readme",)


_MAGIC = (
    (
        b"PK\x03\x04",
        "it looks like a zip archive or an Excel workbook; a workbook must end in .xlsx",
    ),
    (b"\x89PNG", "it looks like a PNG image"),
    (b"%PDF", "it looks like a PDF document"),
    (b"\xff\xd8\xff", "it looks like a JPEG image"),
    (b"GIF8", "it looks like a GIF image"),
    (b"\x1f\x8b", "it looks like a gzip archive"),
    (b"\xd0\xcf\x11\xe0", "it looks like an old Excel .xls file; save it as .xlsx or CSV UTF-8"),
)


_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")


_FORMULA_TAG = re.compile(rb"<(?:\w+:)?f[\s>/]")


_SAVE_AS_UTF8 = 'save it as "CSV UTF-8"'


# --- sources --------------------------------------------------------------------------------
# A loader returns (header or None, raw chunks) and records read problems itself.
# Raw chunks are frames of str with integer column positions and the spreadsheet row numbers
# (header = row 1) as index.
Loaded = tuple[list[str] | None, Iterator[pd.DataFrame]]


@dataclass
class Source:
    table: str
    origin: str
    load: Callable[[Problems], Loaded]


@dataclass
class Input:
    """One thing to read: a file on disk or uploaded bytes."""

    name: str
    size: int
    open: Callable[[], BinaryIO]


def _path_input(path: Path) -> Input:
    return Input(path.name, path.stat().st_size, lambda: path.open("rb"))


def bytes_input(name: str, data: bytes) -> Input:
    return Input(Path(name).name, len(data), lambda: io.BytesIO(data))


def table_for(name: str, origin: str, problems: Problems, what: str) -> str | None:
    """The contract table a file stem or sheet name stands for, or None (problem recorded)."""
    key = name.strip()
    if key in TABLES:
        return key
    if key.lower() in TABLES:
        return key.lower()
    hint = suggest(key, TABLE_ORDER)
    expected = f'did you mean "{hint}"?' if hint else "expected one of " + ", ".join(TABLE_ORDER)
    problems.add(origin, f"{origin}: {what} {show(key)} is not a table name ({expected})")
    return None


def _sources_for(item: Input, problems: Problems, stack: ExitStack) -> list[Source]:
    suffix = Path(item.name).suffix.lower()
    if item.size > MAX_FILE_BYTES:
        problems.add(
            item.name,
            f"{item.name}: is {size(item.size)}, above the limit of {size(MAX_FILE_BYTES)} "
            "for one file",
        )
        return []
    if suffix == ".csv":
        table = table_for(Path(item.name).stem, item.name, problems, "file name")
        if table is None:
            return []
        return [Source(table, item.name, lambda p: _load_csv(item, p))]
    if suffix == ".xlsx":
        return _workbook_sources(item, problems, stack)
    if suffix in (".xls", ".xlsm", ".xlsb", ".ods"):
        problems.add(item.name, f"{item.name}: cannot read {suffix} files; save it as .xlsx")
    else:
        problems.add(
            item.name, f"{item.name}: expected a .csv file, an .xlsx workbook or a folder of them"
        )
    return []


def inputs_from_paths(paths: Iterable[Path], problems: Problems) -> list[Input]:
    inputs: list[Input] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found = sorted(
                p
                for p in path.iterdir()
                if p.is_file()
                and p.suffix.lower() in (".csv", ".xlsx")
                and not p.name.startswith((".", "~$"))  # hidden files, Excel's lock files
            )
            if not found:
                problems.add(str(path), f"{path}: folder holds no .csv or .xlsx files")
            inputs.extend(_path_input(p) for p in found)
        elif path.is_file():
            inputs.append(_path_input(path))
        else:
            problems.add(str(path), f"{path}: no such file or folder")
    return inputs


def gather(inputs: list[Input], problems: Problems, stack: ExitStack) -> list[Source]:
    """Sources of every input, each table once."""
    sources: list[Source] = []
    seen: dict[str, str] = {}
    for item in inputs:
        for source in _sources_for(item, problems, stack):
            if source.table in seen:
                problems.add(
                    source.origin,
                    f"{source.origin}: table {source.table} is already in this import "
                    f"({seen[source.table]}); import each table once",
                )
                continue
            seen[source.table] = source.origin
            sources.append(source)
    return sources


# --- CSV ------------------------------------------------------------------------------------
def _binary_reason(head: bytes) -> str | None:
    if head.startswith(_UTF16_BOMS):
        return f"is not UTF-8 text (it is UTF-16); {_SAVE_AS_UTF8}"
    for magic, what in _MAGIC:
        if head.startswith(magic):
            return f"is not a CSV text file ({what})"
    if b"\x00" in head:
        return "is not a CSV text file (it holds NUL bytes)"
    return None


def _text_lines(handle: BinaryIO, origin: str, problems: Problems) -> Iterator[str]:
    """Decoded lines; stops at the first line that is not UTF-8 text (problem recorded)."""
    for number, raw in enumerate(handle, start=1):
        try:
            line = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            byte = raw[exc.start]
            problems.add(
                origin,
                f"{origin} row {number}: is not UTF-8 text (byte 0x{byte:02x}); {_SAVE_AS_UTF8}",
                FATAL,
            )
            return
        if number == 1:
            line = line.removeprefix("\ufeff")
        if "\x00" in line:
            problems.add(
                origin,
                f"{origin} row {number}: is not a CSV text file (it holds NUL bytes)",
                FATAL,
            )
            return
        yield line


def _load_csv(item: Input, problems: Problems) -> Loaded:
    origin = item.name
    handle = item.open()
    head = handle.read(8192)
    reason = _binary_reason(head)
    if reason:
        handle.close()
        problems.add(origin, f"{origin}: {reason}")
        return None, iter(())
    handle.seek(0)
    lines = _text_lines(handle, origin, problems)
    header_row = 1
    for first in lines:
        if first.strip():
            break
        header_row += 1  # blank lines above the header, as a spreadsheet shows them
    else:
        handle.close()
        if not problems.has(origin):
            problems.add(
                origin, f"{origin}: is empty (expected a header row with the column names)"
            )
        return None, iter(())
    # Sniffed from the header line: contract names hold neither character.
    delimiter = ";" if first.count(";") > first.count(",") else ","
    if first.count("\t") > first.count(delimiter):
        handle.close()
        problems.add(
            origin,
            f"{origin}: columns are separated by tabs; separate them with commas or semicolons",
            FATAL,
        )
        return None, iter(())
    reader = csv.reader(chain([first], lines), delimiter=delimiter)
    try:
        header = next(reader)
    except csv.Error as exc:
        handle.close()
        problems.add(origin, f"{origin} row {header_row}: cannot be read as CSV ({exc})", FATAL)
        return None, iter(())
    width = len(header)

    def rows() -> Iterator[tuple[int, list[str]]]:
        number = header_row
        try:
            for fields in reader:
                number += 1
                if not any(fields):
                    continue  # a blank line, as a spreadsheet shows a blank row
                if len(fields) != width:
                    hint = (
                        f" (a value holding {delimiter!r} must be in double quotes)"
                        if len(fields) > width
                        else ""
                    )
                    problems.add(
                        origin,
                        f"{origin} row {number}: has {len(fields)} fields but the header has "
                        f"{width}{hint}",
                        number,
                    )
                    continue
                yield number, fields
        except csv.Error as exc:
            problems.add(origin, f"{origin} row {number + 1}: cannot be read as CSV ({exc})", FATAL)
        finally:
            handle.close()

    return header, _chunks(rows(), width)


def _chunks(rows: Iterator[tuple[int, list[str]]], width: int) -> Iterator[pd.DataFrame]:
    """Rows gathered into raw frames of at most CHUNK_ROWS rows."""
    numbers: list[int] = []
    buffer: list[list[str]] = []
    for number, fields in rows:
        numbers.append(number)
        buffer.append(fields)
        if len(buffer) >= CHUNK_ROWS:
            yield raw_frame(numbers, buffer, width)
            numbers, buffer = [], []
    if buffer:
        yield raw_frame(numbers, buffer, width)


def raw_frame(numbers: list[int], buffer: list[list[str]], width: int) -> pd.DataFrame:
    columns = list(zip(*buffer, strict=True)) if buffer else [()] * width
    return pd.DataFrame(
        {i: pd.array(col, dtype="str") for i, col in enumerate(columns)},
        index=pd.Index(numbers, dtype="int64"),
    )


# --- Excel ----------------------------------------------------------------------------------
def _cell_text(value: object) -> str:
    """A cell's cached value as the text a person sees (dates as ISO, whole numbers without .0)."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return repr(value)
    if isinstance(value, _dt.datetime):
        if value.time() == _dt.time(0, 0):
            return value.date().isoformat()
        return value.isoformat(sep=" ")
    if isinstance(value, _dt.date):
        return value.isoformat()
    return str(value)


def _has_formulas(item: Input) -> bool:
    """Whether any worksheet of the workbook holds a formula (scanned, never evaluated)."""
    with item.open() as handle, zipfile.ZipFile(handle) as archive:
        for info in archive.infolist():
            if not info.filename.startswith("xl/worksheets/"):
                continue
            with archive.open(info) as part:
                tail = b""
                while block := part.read(1 << 20):
                    if _FORMULA_TAG.search(tail + block):
                        return True
                    tail = block[-16:]
    return False


def _open_workbook(item: Input, stack: ExitStack, *, data_only: bool):
    import openpyxl

    handle = stack.enter_context(item.open())
    book = openpyxl.load_workbook(handle, read_only=True, data_only=data_only)
    stack.callback(book.close)
    return book


def _workbook_sources(item: Input, problems: Problems, stack: ExitStack) -> list[Source]:
    label = item.name
    try:
        with item.open() as handle:
            head = handle.read(4)
        if not head.startswith(b"PK"):
            raise zipfile.BadZipFile("not a zip archive")
        book = _open_workbook(item, stack, data_only=True)
        formulas = _open_workbook(item, stack, data_only=False) if _has_formulas(item) else None
    except Exception as exc:  # noqa: BLE001 - openpyxl raises many kinds for a bad file
        problems.add(label, f"{label}: is not an Excel .xlsx workbook ({exc.__class__.__name__})")
        return []
    sources = []
    for sheet in book.worksheets:
        title = sheet.title
        if title.strip().lower() in IGNORED_SHEETS:
            continue
        origin = f"{label} sheet {title}"
        table = table_for(title, origin, problems, "sheet name")
        if table is None:
            continue
        twin = formulas[title] if formulas is not None else None
        sources.append(Source(table, origin, _sheet_loader(sheet, twin, origin)))
    if not sources and not problems.has(label):
        problems.add(label, f"{label}: has no sheet named after a table")
    return sources


def _sheet_loader(sheet, twin, origin: str) -> Callable[[Problems], Loaded]:
    def load(problems: Problems) -> Loaded:
        sheet.reset_dimensions()  # a wrong stored dimension must not cut rows or columns off
        if twin is not None:
            values = map(_saved_values, sheet.iter_rows(min_row=1, min_col=1))
            twin.reset_dimensions()
            cells = twin.iter_rows(min_row=1, min_col=1, values_only=True)
        else:
            values = sheet.iter_rows(min_row=1, min_col=1, values_only=True)
            cells = iter(())
        numbered = zip(
            enumerate(values, start=1), chain(cells, iter(lambda: None, 0)), strict=False
        )
        header: list[str] | None = None
        for (_, row), _ in numbered:
            texts = [_cell_text(v).strip() for v in row]
            if any(texts):
                while texts and not texts[-1]:
                    texts.pop()
                header = texts
                break
        if header is None:
            problems.add(
                origin, f"{origin}: is empty (expected a header row with the column names)"
            )
            return None, iter(())
        width = len(header)

        def rows() -> Iterator[tuple[int, list[str]]]:
            for (number, row), twin_row in numbered:
                texts = [_cell_text(v) for v in row]
                if not any(t.strip() for t in texts):
                    continue
                bad = False
                for pos, text in enumerate(texts[width:], start=width):
                    if text.strip():
                        bad = True
                        problems.add(
                            origin,
                            f"{origin} row {number}, column {_letter(pos)}: {show(text)} "
                            "is in a column with no name in the header row",
                            number,
                        )
                if twin_row is not None:
                    for pos, (value, formula) in enumerate(zip(row, twin_row, strict=False)):
                        if value is None and _is_formula(formula) and pos < width:
                            bad = True
                            name = header[pos] or _letter(pos)
                            problems.add(
                                origin,
                                f"{origin} row {number}, column {name}: holds the formula "
                                f"{show(formula)} with no saved value (formulas are never "
                                "calculated on import: open the workbook in Excel and save it, "
                                "or paste values)",
                                number,
                            )
                if bad:
                    continue
                texts = texts[:width] + [""] * (width - len(texts))
                yield number, texts

        return header, _chunks(rows(), width)

    return load


def _saved_values(cells: tuple) -> tuple:
    """Saved values of a row; a formula's empty text result (=IF(x,"",y)) is "", not missing."""
    return tuple(
        "" if c.value is None and getattr(c, "data_type", "n") in ("s", "str") else c.value
        for c in cells
    )


def _is_formula(value: object) -> bool:
    if isinstance(value, str):
        return value.startswith("=")
    return value is not None and value.__class__.__name__ in ("ArrayFormula", "DataTableFormula")


def _letter(pos: int) -> str:
    from openpyxl.utils import get_column_letter

    return get_column_letter(pos + 1)
