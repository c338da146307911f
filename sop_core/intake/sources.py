"""Reading import files: CSV text and Excel sheets into raw string chunks, with every read problem named."""

from __future__ import annotations

import csv
import datetime as _dt
import functools
import io
import re
import zipfile
from collections.abc import Callable, Iterable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from itertools import chain
from pathlib import Path
from typing import BinaryIO

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv

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
    "XLSX_MAX_PARTS",
    "XLSX_MAX_SHEET_BYTES",
    "XLSX_MAX_STRINGS_BYTES",
    "XLSX_MAX_OTHER_BYTES",
    "XLSX_MAX_TOTAL_BYTES",
    "XLSX_MAX_RATIO",
    "XLSX_MAX_SHARED_STRINGS",
    "XLSX_MAX_ROWS",
    "XLSX_MAX_COLUMNS",
    "XLSX_MAX_CELL_CHARS",
    "XLSX_MAX_DENSE_CELLS",
]

# One file above this is refused before it is read. A company of 100,000 skus planning 36 months
# has a forecasts.csv of ~330 MB (bench/bench_scale.py); validation reads it in chunks.
MAX_FILE_BYTES = 1_000_000_000


# Rows validated at a time; memory holds the clean typed frame plus one raw chunk.
CHUNK_ROWS = 50_000

# A plain CSV (no quotes, no NUL, no lone carriage return, UTF-8, every row as wide as the
# header, no blank line above the header) up to this size is parsed by Arrow's CSV reader in one
# go (~20 times faster than row by row); any other file, or one Arrow refuses, is read row by row,
# which names each problem's row. Both give the same rows, numbered the same way.
FAST_CSV_MAX_BYTES = 512_000_000


# Workbook sheets that are documentation, not tables (the template's first sheet).
IGNORED_SHEETS = ("readme",)


# What a workbook may expand to (docs/SECURITY.md). An .xlsx is a zip of XML parts: a file under
# 1 MB can unpack to gigabytes. Sizes come from the zip's directory (zipfile never inflates a part
# beyond the size it declares), counts from one streamed pass over the raw XML; both before the
# workbook is opened. A worksheet of Excel's 1,048,576 rows by ten columns is about 250 MB of XML.
XLSX_MAX_PARTS = 10_000
XLSX_MAX_SHEET_BYTES = 300_000_000
XLSX_MAX_STRINGS_BYTES = 100_000_000
XLSX_MAX_OTHER_BYTES = 20_000_000  # parts parsed whole: styles, theme, properties, chart sheets
XLSX_MAX_TOTAL_BYTES = 1_000_000_000
XLSX_MAX_RATIO = 100  # for parts above 1 MB; workbooks written by Excel stay near 10
XLSX_MAX_SHARED_STRINGS = 1_000_000
XLSX_MAX_ROWS = 1_048_576  # Excel's own
XLSX_MAX_COLUMNS = 702  # column ZZ: a contract table has at most ten
XLSX_MAX_CELL_CHARS = 32_767  # Excel's own
# python-calamine holds a sheet's whole rectangle (32 bytes a cell); larger sheets are streamed.
XLSX_MAX_DENSE_CELLS = 8_000_000
_RUN_WINDOW = 262_144  # raw bytes with no tag: above 2x this, one value is refused unparsed


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
    fast = _plain_csv(handle, item.size)
    if fast is not None:
        handle.close()
        return fast
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
    delimiter = _delimiter(first)
    if delimiter is None:
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


def _plain_csv(handle: BinaryIO, size: int) -> Loaded | None:
    """A plain CSV read by Arrow (see ``FAST_CSV_MAX_BYTES``), or None: read it row by row.

    Rows are numbered as the row-by-row reader numbers them: the header is row 1 and each CSV
    record after it one more; rows whose cells are all empty are skipped but counted.
    """
    if size > FAST_CSV_MAX_BYTES:
        return None
    data = handle.read()
    if b'"' in data or b"\x00" in data or data.count(b"\r") != data.count(b"\r\n"):
        return None  # quoting, binary bytes or old Mac line ends: the row-by-row reader decides
    data = data.rstrip(b"\r\n")  # blank lines at the end number nothing
    end = data.find(b"\n")
    try:
        first = (data if end < 0 else data[:end]).decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError:
        return None
    first = first.removesuffix("\r")
    if not first.strip():
        return None  # blank lines above the header
    delimiter = _delimiter(first)
    if delimiter is None:
        return None  # tabs: the row-by-row reader refuses them
    header = first.split(delimiter)
    width = len(header)
    if end < 0:
        return header, iter(())
    names = [f"c{i}" for i in range(width)]
    try:
        table = pa_csv.read_csv(
            pa.BufferReader(data),
            read_options=pa_csv.ReadOptions(skip_rows=1, column_names=names),
            parse_options=pa_csv.ParseOptions(delimiter=delimiter, ignore_empty_lines=False),
            convert_options=pa_csv.ConvertOptions(
                column_types=dict.fromkeys(names, pa.string()),
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return None  # a ragged row, text that is not UTF-8, …: the row-by-row reader names it
    del data
    numbers = np.arange(2, table.num_rows + 2, dtype="int64")
    blank = None
    for column in table.columns:
        empty = pc.equal(column, "")
        blank = empty if blank is None else pc.and_(blank, empty)
    if blank is not None and pc.any(blank).as_py():
        keep = pc.invert(blank)
        table = table.filter(keep)
        numbers = numbers[keep.to_numpy(zero_copy_only=False)]
    return header, _table_chunks(table, numbers)


def _delimiter(header_line: str) -> str | None:
    """The delimiter sniffed from the header line (contract names hold neither character), or
    None when the columns are separated by tabs."""
    delimiter = ";" if header_line.count(";") > header_line.count(",") else ","
    return None if header_line.count("\t") > header_line.count(delimiter) else delimiter


def _table_chunks(table: pa.Table, numbers: np.ndarray) -> Iterator[pd.DataFrame]:
    for start in range(0, table.num_rows, CHUNK_ROWS):
        part = table.slice(start, CHUNK_ROWS)
        yield _frame(part.columns, numbers[start : start + CHUNK_ROWS])


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
    return _frame(columns, numbers)


def _frame(columns, numbers) -> pd.DataFrame:
    """A raw chunk: text columns by position, the spreadsheet row numbers as index."""
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


class _TooBig(Exception):
    """A workbook part would expand beyond a bound (the message names the part and the limit)."""


@dataclass
class _Plan:
    """What the zip's directory and the workbook's small index parts say, before a cell is read."""

    sheets: dict[str, str]  # worksheet title -> its part, in workbook order
    strings: str | None  # the shared strings part


def _refuse(label: str, text: str) -> _TooBig:
    return _TooBig(f"{label}: {text}")


def _central_directory(handle: BinaryIO, label: str) -> zipfile.ZipFile:
    """The zip's directory, refused before it is read when it lists too many parts."""
    end = zipfile._EndRecData(handle)  # the entry count, without reading the entries
    if end is None:
        raise zipfile.BadZipFile("no end of central directory")
    entries = end[zipfile._ECD_ENTRIES_TOTAL]
    if entries > XLSX_MAX_PARTS:
        raise _refuse(label, f"holds {entries:,} parts, above the limit of {XLSX_MAX_PARTS:,}")
    handle.seek(0)
    return zipfile.ZipFile(handle)


def _too_big(name: str, expanded: int, limit: int, what: str) -> str:
    return f"part {name} expands to {size(expanded)}, above the limit of {size(limit)} for {what}"


def _plan_workbook(archive: zipfile.ZipFile, label: str) -> _Plan:
    """Check every part's expanded size, then read the sheet list from the small index parts
    (with openpyxl's own readers, so the sheets are the ones it would open)."""
    from openpyxl.packaging.manifest import Manifest
    from openpyxl.packaging.relationship import get_dependents, get_rels_path
    from openpyxl.packaging.workbook import WorkbookPackage
    from openpyxl.reader.excel import _find_workbook_part
    from openpyxl.xml.constants import ARC_CONTENT_TYPES, SHARED_STRINGS
    from openpyxl.xml.functions import fromstring

    infos = {info.filename: info for info in archive.infolist()}
    total = 0
    for name, info in infos.items():
        total += info.file_size
        if info.file_size > XLSX_MAX_SHEET_BYTES:
            raise _refuse(
                label,
                _too_big(name, info.file_size, XLSX_MAX_SHEET_BYTES, "one part of a workbook"),
            )
        ratio = info.file_size / max(info.compress_size, 1)
        if info.file_size > 1_000_000 and ratio > XLSX_MAX_RATIO:
            raise _refuse(
                label,
                f"part {name} expands {ratio:,.0f} times (to {size(info.file_size)}), "
                f"above the limit of {XLSX_MAX_RATIO} times for one part of a workbook",
            )
    if total > XLSX_MAX_TOTAL_BYTES:
        raise _refuse(
            label,
            f"expands to {size(total)}, above the limit of {size(XLSX_MAX_TOTAL_BYTES)} "
            "for a workbook",
        )
    other = "a part other than a sheet (styles, pivot caches, images: save a copy with values only)"

    def small(name: str) -> bytes:
        if infos[name].file_size > XLSX_MAX_OTHER_BYTES:
            raise _refuse(label, _too_big(name, infos[name].file_size, XLSX_MAX_OTHER_BYTES, other))
        return archive.read(name)

    manifest = Manifest.from_tree(fromstring(small(ARC_CONTENT_TYPES)))
    book_part = _find_workbook_part(manifest).PartName[1:]
    package = WorkbookPackage.from_tree(fromstring(small(book_part)))
    rels_path = get_rels_path(book_part)
    small(rels_path)
    rels = get_dependents(archive, rels_path).to_dict()
    sheets: dict[str, str] = {}
    for sheet in package.sheets:
        rel = rels.get(sheet.id)
        if rel is not None and rel.target in infos and rel.Type.endswith("/worksheet"):
            sheets[sheet.name] = rel.target
            if infos[rel.target].file_size > XLSX_MAX_SHEET_BYTES:
                size_ = infos[rel.target].file_size
                raise _refuse(label, _too_big(rel.target, size_, XLSX_MAX_SHEET_BYTES, "a sheet"))
    found = manifest.find(SHARED_STRINGS)
    strings = found.PartName[1:] if found is not None and found.PartName[1:] in infos else None
    if strings is not None and infos[strings].file_size > XLSX_MAX_STRINGS_BYTES:
        what = "the shared strings"
        raise _refuse(
            label, _too_big(strings, infos[strings].file_size, XLSX_MAX_STRINGS_BYTES, what)
        )
    # Every other part openpyxl may read is parsed whole: styles, theme, properties, chart sheets.
    for name, info in infos.items():
        if (
            name not in sheets.values()
            and name != strings
            and info.file_size > XLSX_MAX_OTHER_BYTES
        ):
            raise _refuse(label, _too_big(name, info.file_size, XLSX_MAX_OTHER_BYTES, other))
    return _Plan(sheets, strings)


# Tags counted in the raw XML, by patterns that start with a literal (the regex engine skips
# to it), in the spelling Excel and openpyxl write (`<row r=`, `<c r=`). A block with a
# namespace-prefixed tag (`<x:row`) is counted with slower patterns. A row or cell without its r
# attribute first leaves the sheet to openpyxl, which streams it.
_PREFIXED = re.compile(rb":(?:row|c|f|si)[\s>/]")
_ROW_TAG = (re.compile(rb"<row[\s>/]"), re.compile(rb"<(?:\w+:)?row[\s>/]"))
_ROW_REF = (re.compile(rb'<row r="(\d+)"'), re.compile(rb'<(?:\w+:)?row\s+r="(\d+)"'))
_CELL_TAG = (re.compile(rb"<c[\s>/]"), re.compile(rb"<(?:\w+:)?c[\s>/]"))
_CELL_REF = (re.compile(rb'<c r="[A-Za-z]'), re.compile(rb'<(?:\w+:)?c\s+r="[A-Za-z]'))
_WIDE_REF = (
    re.compile(rb'<c r="([A-Za-z]{2})\d'),
    re.compile(rb'<(?:\w+:)?c\s+r="([A-Za-z]{2})\d'),
)
_F_TAG = (re.compile(rb"<f[\s>/]"), _FORMULA_TAG)
_STRING_TAG = (re.compile(rb"<si[\s>/]"), re.compile(rb"<(?:\w+:)?si[\s>/]"))
# a column of three letters (cells' r starts with letters), or a row number of seven digits
_OUT_OF_BOUNDS = re.compile(rb'r="(?:([A-Za-z]{3,})\d|(\d{7,})")')
_SCAN_BLOCK = 1 << 20


@dataclass
class _Shape:
    """What one streamed pass over a sheet's XML found."""

    rows: int = 0
    last_row: int = 0
    cells: int = 0
    cells_with_ref: int = 0
    rows_with_ref: int = 0
    width: int = 0  # the rightmost column, when every cell has its reference
    formulas: bool = False
    errors: bool = False

    @property
    def dense_cells(self) -> int:
        """Cells of the rectangle python-calamine holds in memory; unknown (huge) if any row or
        cell lacks its reference."""
        if self.rows != self.rows_with_ref or self.cells != self.cells_with_ref:
            return 1 << 62
        return max(self.last_row, self.rows) * self.width


@functools.cache
def _beyond(width: int, slow: int) -> re.Pattern:
    """A cell reference whose one-letter column lies right of column ``width``."""
    letters = "".join(chr(65 + i) for i in range(width, 26))
    cell = rb"<(?:\w+:)?c\s+r=" if slow else rb"<c r="
    return re.compile(cell + rb'"([' + letters.encode() + rb"])\d")


def _column_number(letters: bytes) -> int:
    number = 0
    for ch in letters.upper():
        number = number * 26 + ch - 64
    return number


def _scan_part(archive: zipfile.ZipFile, name: str, kind: str, label: str) -> _Shape:
    """Stream one part once (nothing parsed), refusing it beyond a bound.

    Blocks are cut after their last ``<``, so no tag straddles two. A value of more than
    ``2 * _RUN_WINDOW`` bytes always leaves an aligned window with no ``<`` in it.
    """
    shape = _Shape()
    limit = XLSX_MAX_ROWS if kind == "sheet" else XLSX_MAX_SHARED_STRINGS
    what = "rows" if kind == "sheet" else "shared strings"
    carry = b""
    with archive.open(name) as part:
        while True:
            block = part.read(_SCAN_BLOCK)
            for at in range(0, len(block) - _RUN_WINDOW + 1, _RUN_WINDOW):
                if block.find(b"<", at, at + _RUN_WINDOW) < 0:
                    raise _refuse(
                        label,
                        f"part {name} holds a value longer than {_RUN_WINDOW:,} bytes (a cell "
                        f"holds at most {XLSX_MAX_CELL_CHARS:,} characters)",
                    )
            data = carry + block
            cut = data.rfind(b"<") if block else len(data)
            data, carry = (data[:cut], data[cut:]) if cut > 0 else (b"", data)
            slow = int(bool(_PREFIXED.search(data)))
            tag = _ROW_TAG if kind == "sheet" else _STRING_TAG
            shape.rows += len(tag[slow].findall(data))
            if shape.rows > limit:
                raise _refuse(
                    label, f"part {name} holds more than {limit:,} {what}, above the limit"
                )
            if kind == "sheet":
                _shape_of(data, slow, shape, name, label)
            if not block:
                return shape


def _shape_of(data: bytes, slow: int, shape: _Shape, name: str, label: str) -> None:
    for m in _OUT_OF_BOUNDS.finditer(data):
        if m.group(1):
            raise _refuse(
                label,
                f"part {name} has a cell in column {m.group(1).decode().upper()}, beyond the "
                f"limit of {XLSX_MAX_COLUMNS} columns (column ZZ)",
            )
        if int(m.group(2)) > XLSX_MAX_ROWS:
            raise _refuse(
                label,
                f"part {name} has a row numbered {int(m.group(2)):,}, beyond the limit of "
                f"{XLSX_MAX_ROWS:,} rows (Excel's last row)",
            )
    refs = _ROW_REF[slow].findall(data)
    shape.rows_with_ref += len(refs)
    if refs:
        shape.last_row = max(shape.last_row, max(map(int, refs)))
    shape.cells += len(_CELL_TAG[slow].findall(data))
    shape.cells_with_ref += len(_CELL_REF[slow].findall(data))
    wide = _WIDE_REF[slow].findall(data)
    if wide:
        shape.width = max(shape.width, max(map(_column_number, wide)))
    while shape.width < 26:  # a one-letter column right of the widest so far (usually none)
        beyond = _beyond(shape.width, slow).search(data)
        if beyond is None:
            break
        shape.width = max(shape.width, _column_number(beyond.group(1)))
    shape.formulas = shape.formulas or bool(_F_TAG[slow].search(data))
    shape.errors = shape.errors or b't="e"' in data


class _Book:
    """A workbook whose parts passed the directory bounds; each sheet is streamed once (bounds on
    rows, columns, values) and then read, with python-calamine when that is safe and exact."""

    def __init__(self, item: Input, archive: zipfile.ZipFile, plan: _Plan, stack: ExitStack):
        self.item, self.archive, self.plan, self.stack = item, archive, plan, stack
        self.shapes: dict[str, _Shape] | None = None
        self.failed = False
        self._books: dict[str, object] = {}

    def _check(self, problems: Problems) -> bool:
        if self.shapes is None and not self.failed:
            label = self.item.name
            try:
                if self.plan.strings is not None:
                    _scan_part(self.archive, self.plan.strings, "strings", label)
                self.shapes = {
                    title: _scan_part(self.archive, part, "sheet", label)
                    for title, part in self.plan.sheets.items()
                }
            except _TooBig as exc:
                self.failed = True
                problems.add(label, str(exc), FATAL)
        return self.shapes is not None

    def _open(self, kind: str):
        if kind not in self._books:
            handle = self.stack.enter_context(self.item.open())
            if kind == "calamine":
                import python_calamine

                book = python_calamine.CalamineWorkbook.from_filelike(handle)
                self.stack.callback(book.close)
            else:
                import openpyxl

                # keep_links=False: external links hold cached copies of other workbooks.
                book = openpyxl.load_workbook(
                    handle, read_only=True, data_only=kind == "values", keep_links=False
                )
                self.stack.callback(book.close)
            self._books[kind] = book
        return self._books[kind]

    def rows(self, title: str, problems: Problems):
        """``(rows of values from column A, rows of formulas or None)``, or None if refused."""
        if not self._check(problems):
            return None
        shape = self.shapes[title]
        label = self.item.name
        try:
            # python-calamine gives saved values only, shows an error cell as empty and holds
            # the sheet's whole rectangle: it reads sheets with no formula, no error cell and a
            # bounded rectangle; openpyxl streams the others.
            if not (shape.formulas or shape.errors) and shape.dense_cells <= XLSX_MAX_DENSE_CELLS:
                sheet = self._open("calamine").get_sheet_by_name(title)
                pad = [""] * sheet.start[1] if sheet.start else []
                values = (pad + row for row in sheet.iter_rows())
                return values, iter(lambda: None, 0)
            sheet = self._open("values")[title]
            sheet.reset_dimensions()  # a wrong stored dimension must not cut rows off
            if not shape.formulas:
                return sheet.iter_rows(min_row=1, min_col=1, values_only=True), iter(
                    lambda: None, 0
                )
            twin = self._open("formulas")[title]
            twin.reset_dimensions()
            values = map(_saved_values, sheet.iter_rows(min_row=1, min_col=1))
            formulas = twin.iter_rows(min_row=1, min_col=1, values_only=True)
            return values, chain(formulas, iter(lambda: None, 0))
        except Exception as exc:  # noqa: BLE001 - readers raise many kinds for a bad file
            self.failed = True
            problems.add(
                label, f"{label}: is not an Excel .xlsx workbook ({exc.__class__.__name__})"
            )
            return None


def _workbook_sources(item: Input, problems: Problems, stack: ExitStack) -> list[Source]:
    """One source per sheet named after a table, from the workbook's index parts alone: no cell
    and no shared string is read here, so a role check can refuse the import first."""
    label = item.name
    try:
        handle = stack.enter_context(item.open())
        if not handle.read(4).startswith(b"PK"):
            raise zipfile.BadZipFile("not a zip archive")
        archive = stack.enter_context(_central_directory(handle, label))
        plan = _plan_workbook(archive, label)
    except _TooBig as exc:
        problems.add(label, str(exc), FATAL)
        return []
    except Exception as exc:  # noqa: BLE001 - a bad zip or index part raises many kinds
        problems.add(label, f"{label}: is not an Excel .xlsx workbook ({exc.__class__.__name__})")
        return []
    book = _Book(item, archive, plan, stack)
    sources = []
    for title in plan.sheets:
        if title.strip().lower() in IGNORED_SHEETS:
            continue
        origin = f"{label} sheet {title}"
        table = table_for(title, origin, problems, "sheet name")
        if table is None:
            continue
        sources.append(Source(table, origin, _sheet_loader(book, title, origin)))
    if not sources and not problems.has(label):
        problems.add(label, f"{label}: has no sheet named after a table")
    return sources


def _blank(values) -> int:
    """How many of ``values`` are empty (None from openpyxl, "" from python-calamine), at C speed."""
    return values.count(None) + values.count("")


def _sheet_loader(book: _Book, title: str, origin: str) -> Callable[[Problems], Loaded]:
    def load(problems: Problems) -> Loaded:
        opened = book.rows(title, problems)
        if opened is None:
            return None, iter(())
        values, formulas = opened
        numbered = zip(enumerate(values, start=1), formulas, strict=False)
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
                # Only the header's columns become text; the rest are checked at C speed (a
                # far-right cell pads every row up to it).
                texts = [_cell_text(v) for v in row[:width]]
                extra = row[width:]
                stray = len(extra) != _blank(extra)
                if not stray and not any(t.strip() for t in texts):
                    continue
                bad = False
                if stray:
                    for pos, value in enumerate(extra, start=width):
                        text = _cell_text(value)
                        if text.strip():
                            bad = True
                            problems.add(
                                origin,
                                f"{origin} row {number}, column {_letter(pos)}: {show(text)} "
                                "is in a column with no name in the header row",
                                number,
                            )
                for pos, text in enumerate(texts):
                    if len(text) > XLSX_MAX_CELL_CHARS:
                        bad = True
                        problems.add(
                            origin,
                            f"{origin} row {number}, column {header[pos] or _letter(pos)}: holds "
                            f"{len(text):,} characters, above the limit of "
                            f"{XLSX_MAX_CELL_CHARS:,} for a cell",
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
                yield number, texts + [""] * (width - len(texts))

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
