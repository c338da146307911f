"""Import of contract tables from CSV files or an Excel workbook: all-or-nothing, every problem named."""

from __future__ import annotations

import csv
import datetime as _dt
import difflib
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

from sop_core.contract import SETTINGS, TABLE_ORDER, TABLES, Column, TableSpec
from sop_core.errors import ImportRejected
from sop_core.months import parse_month
from sop_core.settings import parse_setting

__all__ = [
    "MAX_FILE_BYTES",
    "MAX_PROBLEMS_PER_FILE",
    "CHUNK_ROWS",
    "IGNORED_SHEETS",
    "read_sources",
    "validate",
    "import_paths",
    "import_uploads",
]

# One file above this is refused before it is read: a plan's tables are far smaller.
MAX_FILE_BYTES = 200_000_000
# Problems listed per file; the rest are counted, so a broken 1-million-row file stays cheap.
MAX_PROBLEMS_PER_FILE = 200
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
_NAN_WORDS = frozenset({"nan", "+nan", "-nan"})
_FORMULA_TAG = re.compile(rb"<(?:\w+:)?f[\s>/]")
_SAVE_AS_UTF8 = 'save it as "CSV UTF-8"'
# Sort key of a problem that stops a file being read: listed before that file's row problems.
_FATAL = -1


# --- problems -----------------------------------------------------------------------------
class _Problems:
    """Problems grouped by origin: at most MAX_PROBLEMS_PER_FILE listed per origin, the rest counted."""

    def __init__(self) -> None:
        self._kept: dict[str, list[tuple[int, str]]] = {}
        self._unlisted: dict[str, int] = {}

    def __bool__(self) -> bool:
        return bool(self._kept) or bool(self._unlisted)

    def room(self, origin: str) -> int:
        return MAX_PROBLEMS_PER_FILE - len(self._kept.get(origin, ()))

    def add(self, origin: str, text: str, row: int = 0) -> None:
        if self.room(origin) > 0:
            self._kept.setdefault(origin, []).append((row, text))
        else:
            self.unlisted(origin, 1)

    def unlisted(self, origin: str, count: int) -> None:
        if count > 0:
            self._kept.setdefault(origin, [])
            self._unlisted[origin] = self._unlisted.get(origin, 0) + count

    def has(self, origin: str) -> bool:
        return bool(self._kept.get(origin)) or origin in self._unlisted

    def lines(self) -> list[str]:
        out: list[str] = []
        for origin, kept in self._kept.items():
            out.extend(text for _, text in sorted(kept, key=lambda item: item[0]))
            more = self._unlisted.get(origin, 0)
            if more:
                out.append(f"{origin}: … and {more:,} more problem(s) not listed")
        return out


def _show(value: object) -> str:
    """A cell value quoted for a message, shortened and with invisible characters made visible."""
    text = str(value)
    if len(text) > 40:
        text = text[:37] + "…"
    shown = "".join(
        ch if ch.isprintable() else ch.encode("unicode_escape").decode("ascii") for ch in text
    )
    return f'"{shown}"'


def _suggest(name: str, candidates: Iterable[str]) -> str | None:
    candidates = list(candidates)
    lowered = {c.lower(): c for c in candidates}
    match = difflib.get_close_matches(name.strip().lower(), list(lowered), n=1, cutoff=0.6)
    return lowered[match[0]] if match else None


def _size(n: int) -> str:
    return f"{n / 1e6:,.1f} MB" if n >= 100_000 else f"{n:,} bytes"


def _bound(value: float) -> str:
    return f"{int(value):,}" if float(value).is_integer() else f"{value:g}"


# --- sources --------------------------------------------------------------------------------
# A loader returns (header or None, raw chunks) and records read problems itself.
# Raw chunks are frames of str with integer column positions and the spreadsheet row numbers
# (header = row 1) as index.
_Loaded = tuple[list[str] | None, Iterator[pd.DataFrame]]


@dataclass
class _Source:
    table: str
    origin: str
    load: Callable[[_Problems], _Loaded]


@dataclass
class _Input:
    """One thing to read: a file on disk or uploaded bytes."""

    name: str
    size: int
    open: Callable[[], BinaryIO]


def _path_input(path: Path) -> _Input:
    return _Input(path.name, path.stat().st_size, lambda: path.open("rb"))


def _bytes_input(name: str, data: bytes) -> _Input:
    return _Input(Path(name).name, len(data), lambda: io.BytesIO(data))


def _table_for(name: str, origin: str, problems: _Problems, what: str) -> str | None:
    """The contract table a file stem or sheet name stands for, or None (problem recorded)."""
    key = name.strip()
    if key in TABLES:
        return key
    if key.lower() in TABLES:
        return key.lower()
    hint = _suggest(key, TABLE_ORDER)
    expected = f'did you mean "{hint}"?' if hint else "expected one of " + ", ".join(TABLE_ORDER)
    problems.add(origin, f"{origin}: {what} {_show(key)} is not a table name ({expected})")
    return None


def _sources_for(item: _Input, problems: _Problems, stack: ExitStack) -> list[_Source]:
    suffix = Path(item.name).suffix.lower()
    if item.size > MAX_FILE_BYTES:
        problems.add(
            item.name,
            f"{item.name}: is {_size(item.size)}, above the limit of {_size(MAX_FILE_BYTES)} "
            "for one file",
        )
        return []
    if suffix == ".csv":
        table = _table_for(Path(item.name).stem, item.name, problems, "file name")
        if table is None:
            return []
        return [_Source(table, item.name, lambda p: _load_csv(item, p))]
    if suffix == ".xlsx":
        return _workbook_sources(item, problems, stack)
    if suffix in (".xls", ".xlsm", ".xlsb", ".ods"):
        problems.add(item.name, f"{item.name}: cannot read {suffix} files; save it as .xlsx")
    else:
        problems.add(
            item.name, f"{item.name}: expected a .csv file, an .xlsx workbook or a folder of them"
        )
    return []


def _inputs_from_paths(paths: Iterable[Path], problems: _Problems) -> list[_Input]:
    inputs: list[_Input] = []
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


def _gather(inputs: list[_Input], problems: _Problems, stack: ExitStack) -> list[_Source]:
    """Sources of every input, each table once."""
    sources: list[_Source] = []
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


def _text_lines(handle: BinaryIO, origin: str, problems: _Problems) -> Iterator[str]:
    """Decoded lines; stops at the first line that is not UTF-8 text (problem recorded)."""
    for number, raw in enumerate(handle, start=1):
        try:
            line = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            byte = raw[exc.start]
            problems.add(
                origin,
                f"{origin} row {number}: is not UTF-8 text (byte 0x{byte:02x}); {_SAVE_AS_UTF8}",
                _FATAL,
            )
            return
        if number == 1:
            line = line.removeprefix("\ufeff")
        if "\x00" in line:
            problems.add(
                origin,
                f"{origin} row {number}: is not a CSV text file (it holds NUL bytes)",
                _FATAL,
            )
            return
        yield line


def _load_csv(item: _Input, problems: _Problems) -> _Loaded:
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
            _FATAL,
        )
        return None, iter(())
    reader = csv.reader(chain([first], lines), delimiter=delimiter)
    try:
        header = next(reader)
    except csv.Error as exc:
        handle.close()
        problems.add(origin, f"{origin} row {header_row}: cannot be read as CSV ({exc})", _FATAL)
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
            problems.add(
                origin, f"{origin} row {number + 1}: cannot be read as CSV ({exc})", _FATAL
            )
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
            yield _raw_frame(numbers, buffer, width)
            numbers, buffer = [], []
    if buffer:
        yield _raw_frame(numbers, buffer, width)


def _raw_frame(numbers: list[int], buffer: list[list[str]], width: int) -> pd.DataFrame:
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


def _has_formulas(item: _Input) -> bool:
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


def _open_workbook(item: _Input, stack: ExitStack, *, data_only: bool):
    import openpyxl

    handle = stack.enter_context(item.open())
    book = openpyxl.load_workbook(handle, read_only=True, data_only=data_only)
    stack.callback(book.close)
    return book


def _workbook_sources(item: _Input, problems: _Problems, stack: ExitStack) -> list[_Source]:
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
        table = _table_for(title, origin, problems, "sheet name")
        if table is None:
            continue
        twin = formulas[title] if formulas is not None else None
        sources.append(_Source(table, origin, _sheet_loader(sheet, twin, origin)))
    if not sources and not problems.has(label):
        problems.add(label, f"{label}: has no sheet named after a table")
    return sources


def _sheet_loader(sheet, twin, origin: str) -> Callable[[_Problems], _Loaded]:
    def load(problems: _Problems) -> _Loaded:
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
                            f"{origin} row {number}, column {_letter(pos)}: {_show(text)} "
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
                                f"{_show(formula)} with no saved value (formulas are never "
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


# --- validation -----------------------------------------------------------------------------
@dataclass
class _Checked:
    """One source after validation: its clean rows (with ``_row``) and whether it had problems."""

    source: _Source
    frame: pd.DataFrame
    complete: bool  # every key and referencing column was present


class _CellCheck:
    """Vectorised checks of one raw chunk; messages only for the bad cells (capped)."""

    def __init__(self, origin: str, rows: np.ndarray, problems: _Problems):
        self.origin = origin
        self.rows = rows
        self.problems = problems

    def report(
        self, column: str, mask: np.ndarray, values: pd.Series, reason: str | Callable[[str], str]
    ) -> None:
        bad = np.flatnonzero(mask)
        if not len(bad):
            return
        room = max(self.problems.room(self.origin), 0)
        for i in bad[:room]:
            row = int(self.rows[i])
            value = values.iat[i]
            why = reason if isinstance(reason, str) else reason(value)
            shown = "" if value == "" else _show(value) + " "
            self.problems.add(
                self.origin, f"{self.origin} row {row}, column {column}: {shown}{why}", row
            )
        self.problems.unlisted(self.origin, len(bad) - min(room, len(bad)))


def _check_text(col: Column, s: pd.Series, check: _CellCheck) -> pd.Series:
    empty = (s == "").to_numpy()
    if col.required:
        check.report(col.name, empty, s, "is empty")
    if not col.choices:
        return s.where(~empty)
    lowered = s.str.lower()
    bad = ~empty & ~lowered.isin(col.choices).to_numpy()
    allowed = ", ".join(col.choices)

    def why(value: str) -> str:
        if value.lower() == "statistical":
            return f"is computed by the app, not imported (expected one of {allowed})"
        return f"is not one of {allowed}"

    check.report(col.name, bad, s, why)
    return lowered.where(~empty & ~bad)


def _check_month(col: Column, s: pd.Series, check: _CellCheck) -> pd.Series:
    empty = (s == "").to_numpy()
    if col.required:
        check.report(col.name, empty, s, "is empty")
    parsed: dict[str, str | None] = {}
    reasons: dict[str, str] = {}
    for value in s[~empty].unique():
        try:
            parsed[value] = parse_month(value)
        except ValueError as exc:
            parsed[value] = None
            reasons[value] = str(exc)
    months = s.map(parsed)
    bad = ~empty & months.isna().to_numpy()
    check.report(col.name, bad, s, reasons.__getitem__)
    return months.astype("str").where(~empty & ~bad)


def _number_reason(value: str) -> str:
    if value.startswith("#") and (value.endswith(("!", "?")) or value == "#N/A"):
        return "is an Excel error, not a number"
    if re.fullmatch(r"[-+]?\d+(,\d+)+(\.\d*)?", value):
        return "is not a number (numbers use a dot for decimals and no thousands separator)"
    return "is not a number"


def _check_number(col: Column, s: pd.Series, check: _CellCheck) -> pd.Series:
    empty = (s == "").to_numpy()
    if col.required:
        check.report(col.name, empty, s, "is empty (a number is required)")
    nums = pd.to_numeric(s.where(~empty), errors="coerce").astype("float64")
    values = nums.to_numpy()
    nan_word = s.str.lower().isin(_NAN_WORDS).to_numpy()
    not_number = ~empty & np.isnan(values) & ~nan_word
    check.report(col.name, not_number, s, _number_reason)
    not_finite = ~empty & (nan_word | np.isinf(values))
    check.report(col.name, not_finite, s, "is not a finite number")
    finite = np.isfinite(values)
    bad = not_number | not_finite
    if col.min is not None:
        low = finite & (values < col.min)
        check.report(col.name, low, s, f"is below the minimum {_bound(col.min)}")
        bad |= low
    if col.max is not None:
        high = finite & (values > col.max)
        check.report(
            col.name,
            high,
            s,
            f"is above the maximum {_bound(col.max)} (taken as a typing or unit error)",
        )
        bad |= high
    # + 0.0 turns a typed "-0" into 0.
    return (nums + 0.0).where(~bad & ~empty)


_CHECKS = {"text": _check_text, "month": _check_month, "number": _check_number}


def _check_header(source: _Source, spec: TableSpec, header: list[str], problems: _Problems):
    """Map contract column -> position; record missing, unknown and duplicate columns."""
    origin = source.origin
    positions: dict[str, int] = {}
    unnamed: list[int] = []
    for pos, raw in enumerate(header):
        name = str(raw).strip().removeprefix("\ufeff").strip()
        if not name:
            unnamed.append(pos)
        elif name in positions:
            problems.add(origin, f"{origin}: column {name} appears twice in the header")
        elif name in spec.column_names:
            positions[name] = pos
        else:
            hint = _suggest(name, [c for c in spec.column_names if c not in positions])
            if hint is None:
                hint = _suggest(name, spec.column_names)
            expected = (
                f'did you mean "{hint}"?'
                if hint
                else "expected columns: " + ", ".join(spec.column_names)
            )
            problems.add(origin, f"{origin}: unknown column {_show(name)} ({expected})")
    missing = [c for c in spec.required_names if c not in positions]
    if missing:
        problems.add(origin, f"{origin}: missing column(s) {', '.join(missing)}")
    return positions, unnamed


def _check_chunk(
    source: _Source,
    spec: TableSpec,
    positions: dict[str, int],
    unnamed: list[int],
    chunk: pd.DataFrame,
    problems: _Problems,
) -> pd.DataFrame:
    rows = chunk.index.to_numpy()
    check = _CellCheck(source.origin, rows, problems)
    for pos in unnamed:
        s = chunk[pos].fillna("").str.strip()
        check.report(
            f"{pos + 1} (no name in the header)", (s != "").to_numpy(), s, "has no column name"
        )
    out: dict[str, pd.Series] = {}
    for col in spec.columns:
        if col.name not in positions:
            dtype = "float64" if col.kind == "number" else "str"
            out[col.name] = pd.Series(np.nan, index=chunk.index, dtype=dtype)
            continue
        raw = chunk[positions[col.name]].fillna("").astype("str").str.strip()
        out[col.name] = _CHECKS[col.kind](col, raw, check)
    frame = pd.DataFrame(out, index=chunk.index)
    frame["_row"] = rows
    return frame.reset_index(drop=True)


def _empty_clean(spec: TableSpec) -> pd.DataFrame:
    frame = pd.DataFrame(
        {
            c.name: pd.Series([], dtype="float64" if c.kind == "number" else "str")
            for c in spec.columns
        }
    )
    frame["_row"] = pd.Series([], dtype="int64")
    return frame


def _check_source(source: _Source, problems: _Problems) -> _Checked | None:
    spec = TABLES[source.table]
    header, chunks = source.load(problems)
    if header is None:
        return None
    positions, unnamed = _check_header(source, spec, header, problems)
    parts = [_check_chunk(source, spec, positions, unnamed, c, problems) for c in chunks]
    frame = pd.concat(parts, ignore_index=True) if parts else _empty_clean(spec)
    # Rows rejected while reading (ragged, formulas) are not "no rows": they are reported.
    if frame.empty and spec.rows_required and not problems.has(source.origin):
        optional = ", ".join(t.name for t in TABLES.values() if not t.rows_required)
        problems.add(
            source.origin,
            f"{source.origin}: has no data rows (only {optional} may be imported empty, "
            "which clears them)",
        )
    needed = set(spec.key) | set(spec.references)
    complete = needed <= set(positions)
    if complete:
        _check_keys(source, spec, frame, problems)
    if spec.name == "settings" and complete and "value" in positions:
        frame = _check_settings(source, frame, problems)
    return _Checked(source, frame, complete)


def _check_keys(source: _Source, spec: TableSpec, frame: pd.DataFrame, problems: _Problems) -> None:
    key = list(spec.key)
    usable = frame[key].notna().all(axis=1)
    keyed = frame[usable]
    dup = keyed.duplicated(subset=key, keep="first")
    if not dup.any():
        return
    first = keyed.groupby(key, sort=False)["_row"].transform("first")
    origin = source.origin
    shown = dup[dup].index[: max(problems.room(origin), 0)]
    for i in shown:
        values = ", ".join(f"{k} {_show(keyed.at[i, k])}" for k in key)
        row = int(keyed.at[i, "_row"])
        problems.add(
            origin,
            f"{origin} row {row}: duplicate key {values} (already in row {int(first.at[i])})",
            row,
        )
    problems.unlisted(origin, int(dup.sum()) - len(shown))


def _check_settings(source: _Source, frame: pd.DataFrame, problems: _Problems) -> pd.DataFrame:
    origin = source.origin
    values = []
    for key, value, row in zip(frame["key"], frame["value"], frame["_row"], strict=True):
        if pd.isna(key) or pd.isna(value):
            values.append(None)
            continue
        if key not in SETTINGS:
            hint = _suggest(key, SETTINGS)
            expected = (
                f'did you mean "{hint}"?' if hint else "expected one of " + ", ".join(SETTINGS)
            )
            problems.add(
                origin,
                f"{origin} row {row}, column key: {_show(key)} is not a setting ({expected})",
                row,
            )
            values.append(None)
            continue
        try:
            parsed = parse_setting(key, value)
        except ValueError as exc:
            problems.add(
                origin,
                f"{origin} row {row}, column value: {_show(value)} {exc} for {key}",
                row,
            )
            values.append(None)
            continue
        values.append(str(parsed))
    out = frame.copy()
    out["value"] = pd.Series(values, index=frame.index, dtype="str")
    return out


def _stored_values(store, table: str, column: str) -> set[str]:
    spec = TABLES[table]  # allow-list: names below come from the contract, never from a user
    spec.column(column)
    frame = store.query(f"SELECT DISTINCT {column} FROM {table} WHERE {column} IS NOT NULL")
    return set(frame[column].astype("str"))


def _check_references(store, checked: dict[str, _Checked], problems: _Problems) -> None:
    """Every reference resolves, in this import's version of a table or else the stored one."""
    cache: dict[tuple[str, str], set[str] | None] = {}

    def allowed(table: str, column: str) -> set[str] | None:
        if (table, column) not in cache:
            if table in checked:
                ref = checked[table]
                ok = ref.complete and not problems.has(ref.source.origin)
                cache[table, column] = set(ref.frame[column].dropna()) if ok else None
            else:
                cache[table, column] = _stored_values(store, table, column)
        return cache[table, column]

    for name, item in checked.items():
        spec = TABLES[name]
        if not item.complete:
            continue
        for column, target in spec.references.items():
            ref_table, ref_column = target.split(".")
            known = allowed(ref_table, ref_column)
            if known is None:
                continue  # the referenced table in this import is itself rejected
            values = item.frame[column]
            bad = (values.notna() & ~values.isin(known)).to_numpy()
            if ref_table in checked:
                where = checked[ref_table].source.origin
            elif known:
                where = f"the stored {ref_table} (import {ref_table} too, or add it there)"
            else:
                where = f"{ref_table}: none are stored (import {ref_table} too)"
            check = _CellCheck(item.source.origin, item.frame["_row"].to_numpy(), problems)
            check.report(column, bad, values, f"is not a {ref_column} in {where}")

    # A table replaced here must keep what the stored tables not in this import still use.
    for name, item in checked.items():
        origin = item.source.origin
        if not item.complete or problems.has(origin):
            continue
        for other in TABLE_ORDER:
            if other in checked:
                continue
            for column, target in TABLES[other].references.items():
                ref_table, ref_column = target.split(".")
                if ref_table != name:
                    continue
                kept = set(item.frame[ref_column].dropna())
                lost = sorted(_stored_values(store, other, column) - kept)
                if lost:
                    listed = ", ".join(_show(v) for v in lost[:5])
                    more = f" and {len(lost) - 5:,} more" if len(lost) > 5 else ""
                    problems.add(
                        origin,
                        f"{origin}: drops {ref_column} {listed}{more}, still used by the stored "
                        f"{other}; import {other} too, or keep them",
                    )


def _validate_sources(
    store, sources: list[_Source], problems: _Problems
) -> dict[str, pd.DataFrame]:
    checked: dict[str, _Checked] = {}
    for source in sources:
        item = _check_source(source, problems)
        if item is not None:
            checked[source.table] = item
    _check_references(store, checked, problems)
    if problems:
        raise ImportRejected(problems.lines())
    return {
        name: checked[name].frame[TABLES[name].column_names].reset_index(drop=True)
        for name in TABLE_ORDER
        if name in checked
    }


def _frame_source(table: str, frame: pd.DataFrame, origin: str) -> _Source:
    """A source over an in-memory raw frame (index = spreadsheet row numbers, or 0.. for rows 2..)."""

    def load(problems: _Problems) -> _Loaded:
        raw = pd.DataFrame(
            {
                i: frame.iloc[:, i].astype("str").where(frame.iloc[:, i].notna().to_numpy(), "")
                for i in range(frame.shape[1])
            }
        )
        if isinstance(frame.index, pd.RangeIndex) and frame.index.start == 0:
            raw.index = pd.Index(np.arange(2, len(frame) + 2), dtype="int64")
        else:
            raw.index = pd.Index(frame.index.astype("int64"))
        header = [str(c) for c in frame.columns]
        return header, iter([raw] if len(raw) else [])

    return _Source(table, origin, load)


# --- public API -----------------------------------------------------------------------------
def read_sources(paths: list[Path]) -> dict[str, tuple[pd.DataFrame, str]]:
    """Read CSV files, folders of them and .xlsx workbooks into raw frames of text.

    Returns:
        ``{table: (frame, origin)}``: the frame holds each cell as text under the header's
        names, indexed by the row number a spreadsheet shows (header = row 1); the origin is
        ``"products.csv"`` or ``"plan.xlsx sheet products"``.

    Raises:
        ImportRejected: a file cannot be read (unknown name, not UTF-8, binary, ragged rows, …).
    """
    problems = _Problems()
    out: dict[str, tuple[pd.DataFrame, str]] = {}
    with ExitStack() as stack:
        sources = _gather(_inputs_from_paths(paths, problems), problems, stack)
        for source in sources:
            header, chunks = source.load(problems)
            if header is None:
                continue
            parts = list(chunks)
            frame = pd.concat(parts) if parts else _raw_frame([], [], len(header))
            frame.columns = [str(h).strip().removeprefix("\ufeff").strip() for h in header]
            out[source.table] = (frame, source.origin)
    if problems:
        raise ImportRejected(problems.lines())
    return out


def validate(store, raw: dict[str, tuple[pd.DataFrame, str]]) -> dict[str, pd.DataFrame]:
    """Check raw frames against the contract and the store.

    Args:
        store: the plan store, for references to tables not in ``raw``.
        raw: ``{table: (frame of text, origin)}`` as :func:`read_sources` returns.

    Returns:
        ``{table: clean frame}``: typed, in contract column order, months as ``YYYY-MM``.

    Raises:
        ImportRejected: with every problem found (listing capped per file).
    """
    problems = _Problems()
    sources = []
    for table, (frame, origin) in raw.items():
        name = _table_for(table, origin, problems, "table")
        if name is not None:
            sources.append(_frame_source(name, frame, origin))
    return _validate_sources(store, sources, problems)


def _import(
    store,
    inputs_of: Callable[[_Problems], list[_Input]],
    user: str,
    authorize: Callable[[list[str]], None] | None = None,
):
    from sop_core.meeting.cycles import ensure_unlocked

    problems = _Problems()
    # Serialise with other writers: what is validated against is what gets replaced.
    with store._write_lock, ExitStack() as stack:
        # Fail fast, before any file is read; replace_tables checks again in its transaction.
        ensure_unlocked(store)
        sources = _gather(inputs_of(problems), problems, stack)
        if authorize is not None:
            # The tables this import would replace, known from file and sheet names alone:
            # refused before a row is read.
            authorize([t for t in TABLE_ORDER if any(s.table == t for s in sources)])
        if not sources and not problems:
            raise ImportRejected(
                ["nothing to import: give contract CSV files or an .xlsx workbook"]
            )
        frames = _validate_sources(store, sources, problems)
        origins = ", ".join(s.origin for s in sources)
        return store.replace_tables(frames, user=user, source=origins)


def import_paths(store, paths: list[Path], *, user: str) -> dict[str, tuple[int, int]]:
    """Import CSV files, folders and .xlsx workbooks: all tables or none.

    Rules beyond docs/DATA.md: a CSV is named after its table (``products.csv``), a sheet
    likewise (a sheet named README is ignored); a folder contributes its .csv and .xlsx files.
    CSVs are UTF-8 with or without BOM, comma or semicolon separated (sniffed from the header),
    numbers with a dot. Names and cells are trimmed; ``source`` is matched ignoring case. A
    header-only file clears an optional table (supply_limits, cash_items, settings); settings
    are replaced as a whole table. Workbook formulas are never calculated: their saved values
    are used, and a formula without one is a problem.

    Returns:
        ``{table: (old_rows, new_rows)}`` for each table replaced.

    Raises:
        ImportRejected: with every problem found; the store is then unchanged.
    """
    return _import(store, lambda problems: _inputs_from_paths(paths, problems), user)


def import_uploads(
    store,
    files: list[tuple[str, bytes]],
    *,
    user: str,
    authorize: Callable[[list[str]], None] | None = None,
) -> dict[str, tuple[int, int]]:
    """Import uploaded files (name and bytes; .csv or .xlsx) with the same rules as :func:`import_paths`.

    Args:
        authorize: called with the tables the files would replace, before any row is read;
            it raises (e.g. PermissionDenied) to refuse the whole import.
    """
    return _import(
        store, lambda _: [_bytes_input(name, data) for name, data in files], user, authorize
    )
