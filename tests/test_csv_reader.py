"""The two CSV readers: Arrow's for a plain file, row by row for any other; the same rows and
row numbers from both, and a problem named by the row-by-row reader whatever the file."""

from __future__ import annotations

import pandas as pd
import pytest

from sop_core.intake import checks, sources
from sop_core.intake.problems import Problems

# (file bytes, the rows read: (row number, cells))
PLAIN = [
    # header = row 1; a row of empty cells is skipped but counted; blank lines at the end ignored
    (b"sku,month,qty\n,,\nA,2027-01,5\n\n\n", [(3, ["A", "2027-01", "5"])]),
    # a byte order mark, semicolons, Windows line ends, spaces kept for the checks to strip
    (
        b"\xef\xbb\xbfsku;month;qty\r\nA;2027-01;5\r\nB; 2027-02 ;\r\n",
        [(2, ["A", "2027-01", "5"]), (3, ["B", " 2027-02 ", ""])],
    ),
    # one column: an empty line is a row of empty cells
    (b"sku\na\n\nb\n", [(2, ["a"]), (4, ["b"])]),
    (b"sku,month,qty\n", []),
    ("sku,month,qty\nÄ é,2027-01,1e3\n".encode(), [(2, ["Ä é", "2027-01", "1e3"])]),
]

# Files the row-by-row reader takes (each parses the same either way, or is refused alike).
OTHER = [
    b'sku,month,qty\n"A, the first",2027-01,5\n',  # quoting
    b"sku,month,qty\nA,2027-01,5\n\nB,2027-02,6\n",  # a blank line inside a table of 3 columns
    b"\nsku,month,qty\nA,2027-01,5\n",  # a blank line above the header (rows numbered from 2)
    b"sku,month,qty\nA,2027-01\nB,2027-02,2\n",  # a ragged row
    b"sku,month,qty\nA,2027-01,\xff\n",  # not UTF-8
    b"sku,month,qty\rA,2027-01,5\r",  # old Mac line ends
]


def _read(data: bytes, monkeypatch, *, fast: bool) -> tuple[list, list[tuple[int, list]], list]:
    if not fast:
        monkeypatch.setattr(sources, "FAST_CSV_MAX_BYTES", -1)
    problems = Problems()
    header, chunks = sources._load_csv(sources.bytes_input("forecasts.csv", data), problems)
    rows = [
        (int(n), [str(v) for v in r])
        for chunk in chunks
        for n, r in zip(chunk.index, chunk.values.tolist(), strict=True)
    ]
    monkeypatch.undo()
    return header, rows, problems.lines()


@pytest.mark.parametrize(("data", "want"), PLAIN)
def test_a_plain_file_is_read_by_arrow_with_the_rows_numbered_as_a_spreadsheet_shows(
    data, want, monkeypatch
):
    def row_by_row(*_args):
        raise AssertionError("a plain CSV is read by Arrow, not row by row")

    monkeypatch.setattr(sources, "_text_lines", row_by_row)
    header, rows, problems = _read(data, monkeypatch, fast=True)
    assert header == ["sku", "month", "qty"][: len(header)] and rows == want and problems == []
    assert _read(data, monkeypatch, fast=False)[:2] == (header, rows)


@pytest.mark.parametrize("data", OTHER)
def test_any_other_file_reads_and_is_refused_as_the_row_by_row_reader_says(data, monkeypatch):
    assert _read(data, monkeypatch, fast=True) == _read(data, monkeypatch, fast=False)


def test_the_row_by_row_reader_names_the_row_of_a_problem_arrow_found(monkeypatch):
    _, rows, problems = _read(b"sku,month,qty\nA,2027-01,5\nB,2027-02\n", monkeypatch, fast=True)
    assert rows == [(2, ["A", "2027-01", "5"])]
    assert problems == ["forecasts.csv row 3: has 2 fields but the header has 3"]
    _, rows, problems = _read(b'sku,month,qty\nA,"2027-01",5\n', monkeypatch, fast=True)
    assert rows == [(2, ["A", "2027-01", "5"])] and problems == []


# Cell texts as a spreadsheet exports them (trimmed before the check), and what each reads as.
NUMBER_TEXTS = {
    "12": 12.0,
    "+1.5": 1.5,
    "-0": -0.0,  # the check adds 0.0, which makes it 0
    "1.": 1.0,
    ".5": 0.5,
    "1E3": 1000.0,
    "1e-400": 0.0,
    "0001": 1.0,
}


def test_numbers_read_by_arrow_are_the_numbers_pandas_reads():
    texts = pd.Series(list(NUMBER_TEXTS), dtype="str")
    assert checks._numbers(texts).tolist() == list(NUMBER_TEXTS.values())
    assert checks._numbers(texts).tolist() == pd.to_numeric(texts).astype(float).tolist()


def test_a_cell_arrow_cannot_read_leaves_the_whole_chunk_to_pandas_and_only_it_empty():
    texts = pd.Series(["3", "1,5", "0x10", "7", None], dtype="str")
    assert checks._numbers(texts).fillna(-1).tolist() == [3.0, -1, -1, 7.0, -1]
    assert checks._numbers(pd.Series(["inf", "nan"], dtype="str")).tolist()[0] == float("inf")
