"""Where each value of a long column sits in an index: millions of rows hold a few thousand skus
and a few dozen months, so each distinct value is looked up once.

A large column's factorization is kept while the column lives (``MEMO_ROWS``): the baseline
check and ``prepare`` both place the same forecasts' skus and months. The columns are the
store's frames, which nothing changes in place once read.
"""

from __future__ import annotations

import threading
import weakref

import numpy as np
import pandas as pd
import pyarrow as pa

__all__ = [
    "MEMO_ROWS",
    "Kept",
    "factorized",
    "month_labels",
    "positions",
    "rows_in",
    "take_rows",
]

# Columns of at least this many rows keep their factorization (int32 codes: 4 bytes a row).
MEMO_ROWS = 500_000


class Kept:
    """Values worked out from some large objects, kept while every one of them lives: looked up
    by the objects' identity (and ``extra`` keys), forgotten when one of them is collected."""

    def __init__(self) -> None:
        self._values: dict[tuple, tuple[tuple[weakref.ref, ...], object]] = {}
        self._lock = threading.Lock()

    def get(self, objects: tuple, extra: tuple = ()) -> object | None:
        """The value kept for these very objects, or None."""
        with self._lock:
            hit = self._values.get((*map(id, objects), *extra))
        if hit is None or any(ref() is not o for ref, o in zip(hit[0], objects, strict=True)):
            return None
        return hit[1]

    def keep(self, objects: tuple, value: object, extra: tuple = ()) -> None:
        """Keep ``value`` while every one of ``objects`` lives (not kept for an object without
        weak references)."""
        key = (*map(id, objects), *extra)

        def forget(_ref: weakref.ref) -> None:
            with self._lock:
                self._values.pop(key, None)

        try:
            refs = tuple(weakref.ref(o, forget) for o in objects)
        except TypeError:
            return
        with self._lock:
            self._values[key] = (refs, value)


_codes = Kept()  # a large column's array -> its (codes, uniques)


def month_labels(series: pd.Series) -> np.ndarray:
    """Month labels YYYY-MM of a column (a YYYY-MM-DD date counts as its month)."""
    return series.astype(str).str.slice(0, 7).to_numpy(dtype=object)


def factorized(column: pd.Series) -> tuple[np.ndarray, pd.Index]:
    """Each row's code (-1 where missing) and the distinct values the codes index, kept while a
    large column lives."""
    array = column.array
    hit = _codes.get((array,))
    if hit is not None:
        return hit
    codes, uniques = pd.factorize(column, use_na_sentinel=True)
    uniques = pd.Index(uniques)
    if len(column) < MEMO_ROWS:
        return codes, uniques
    codes = codes.astype(np.int32)
    _codes.keep((array,), (codes, uniques))
    return codes, uniques


def positions(index: pd.Index, column: pd.Series, *, month: bool) -> np.ndarray:
    """Each value's position in ``index`` (-1 if absent or missing); ``month``: the values are
    months or dates, placed by their YYYY-MM."""
    codes, uniques = factorized(column)
    labels = pd.Series(uniques)
    labels = month_labels(labels) if month else labels.astype(str).to_numpy(dtype=object)
    found = np.append(index.get_indexer(labels), -1)  # code -1 (missing) -> -1
    return found[codes]


def rows_in(column: pd.Series, wanted: list[str], *, month: bool = False) -> np.ndarray:
    """Which rows hold one of ``wanted`` (by YYYY-MM with ``month``), as a boolean array."""
    return positions(pd.Index(wanted, dtype=object), column, month=month) >= 0


def take_rows(frame: pd.DataFrame, rows: np.ndarray, columns: list[str]) -> pd.DataFrame:
    """``frame.loc[rows, columns]`` (``rows``: a boolean array), numbered from 0.

    A large frame's rows are taken through Arrow, in one piece: pandas takes Arrow strings chunk
    by chunk (the store's frames come in dozens of chunks), 2-6x slower, and what is worked out
    on the result (sums by key) is slower again on chunks.
    """
    if len(frame) < MEMO_ROWS:
        return frame.loc[rows, columns].reset_index(drop=True)
    table = pa.Table.from_pandas(frame[columns], preserve_index=False)
    return table.take(pa.array(np.flatnonzero(rows))).to_pandas()
