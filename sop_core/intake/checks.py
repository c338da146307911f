"""Checking imported rows against the data contract: each cell, the header, keys, settings and references."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from sop_core.contract import SETTINGS, TABLE_ORDER, TABLES, Column, TableSpec
from sop_core.errors import ImportRejected
from sop_core.intake.problems import Problems, bound, show, suggest
from sop_core.intake.sources import Loaded, Source
from sop_core.months import parse_month
from sop_core.settings import parse_setting

__all__ = ["validate_sources", "frame_source"]

_NAN_WORDS = frozenset({"nan", "+nan", "-nan"})


# --- validation -----------------------------------------------------------------------------
@dataclass
class _Checked:
    """One source after validation: its clean rows (with ``_row``) and whether it had problems."""

    source: Source
    frame: pd.DataFrame
    complete: bool  # every key and referencing column was present


class _CellCheck:
    """Vectorised checks of one raw chunk; messages only for the bad cells (capped)."""

    def __init__(self, origin: str, rows: np.ndarray, problems: Problems):
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
            shown = "" if value == "" else show(value) + " "
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
    # Each distinct text parsed once (a table of 8 million rows holds a few dozen months).
    codes, distinct = pd.factorize(s.fillna(""))
    parsed = np.empty(len(distinct), dtype=object)
    reasons: dict[str, str] = {}
    for i, value in enumerate(distinct):
        if value == "":
            continue
        try:
            parsed[i] = parse_month(value)
        except ValueError as exc:
            reasons[value] = str(exc)
    months = pd.Series(pd.array(parsed, dtype="str").take(codes), index=s.index)
    bad = ~empty & months.isna().to_numpy()
    check.report(col.name, bad, s, reasons.__getitem__)
    return months.where(~empty & ~bad)


def _number_reason(value: str) -> str:
    if value.startswith("#") and (value.endswith(("!", "?")) or value == "#N/A"):
        return "is an Excel error, not a number"
    if re.fullmatch(r"[-+]?\d+(,\d+)+(\.\d*)?", value):
        return "is not a number (numbers use a dot for decimals and no thousands separator)"
    return "is not a number"


def _numbers(s: pd.Series) -> pd.Series:
    """Text as numbers (NaN where empty or not a number). Arrow's parse when every cell reads
    (the same values as pandas', ~10 times faster); else pandas', which leaves NaN where a cell
    does not read, for the checks to name."""
    try:
        parsed = pc.cast(pa.array(s, type=pa.string(), from_pandas=True), pa.float64())
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return pd.to_numeric(s, errors="coerce").astype("float64")
    return pd.Series(parsed.to_numpy(zero_copy_only=False), index=s.index, dtype="float64")


def _check_number(col: Column, s: pd.Series, check: _CellCheck) -> pd.Series:
    empty = (s == "").to_numpy()
    if col.required and not col.blank_ok:
        check.report(col.name, empty, s, "is empty (a number is required)")
    nums = _numbers(s.where(~empty))
    values = nums.to_numpy()
    unread = ~empty & np.isnan(values)  # not a number, or a typed "nan"
    nan_word = np.zeros(len(s), dtype=bool)
    if unread.any():
        nan_word[unread] = s[unread].str.lower().isin(_NAN_WORDS).to_numpy()
    not_number = unread & ~nan_word
    check.report(col.name, not_number, s, _number_reason)
    not_finite = ~empty & (nan_word | np.isinf(values))
    check.report(col.name, not_finite, s, "is not a finite number")
    finite = np.isfinite(values)
    bad = not_number | not_finite
    if col.min is not None:
        low = finite & (values < col.min)
        check.report(col.name, low, s, f"is below the minimum {bound(col.min)}")
        bad |= low
    if col.max is not None:
        high = finite & (values > col.max)
        check.report(
            col.name,
            high,
            s,
            f"is above the maximum {bound(col.max)} (taken as a typing or unit error)",
        )
        bad |= high
    # + 0.0 turns a typed "-0" into 0.
    return (nums + 0.0).where(~bad & ~empty)


def _check_header(source: Source, spec: TableSpec, header: list[str], problems: Problems):
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
            hint = suggest(name, [c for c in spec.column_names if c not in positions])
            if hint is None:
                hint = suggest(name, spec.column_names)
            expected = (
                f'did you mean "{hint}"?'
                if hint
                else "expected columns: " + ", ".join(spec.column_names)
            )
            problems.add(origin, f"{origin}: unknown column {show(name)} ({expected})")
    missing = [c for c in spec.required_names if c not in positions]
    if missing:
        problems.add(origin, f"{origin}: missing column(s) {', '.join(missing)}")
    return positions, unnamed


def _check_chunk(
    source: Source,
    spec: TableSpec,
    positions: dict[str, int],
    unnamed: list[int],
    chunk: pd.DataFrame,
    problems: Problems,
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


def _check_source(source: Source, problems: Problems) -> _Checked | None:
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
    if spec.name == "financial_actuals" and {"revenue", "receivables"} <= set(positions):
        _check_receivables(source, frame, problems)
    if spec.name == "products" and complete:
        _check_lifecycle(source, frame, problems)
    return _Checked(source, frame, complete)


def _check_receivables(source: Source, frame: pd.DataFrame, problems: Problems) -> None:
    """A month's receivables need its revenue: DSO is measured from both (docs/METHOD.md §11).

    A revenue cell already reported as bad (not a number, out of bounds) is not reported again.
    """
    origin = source.origin
    bad_rows = problems.rows(origin, "revenue")
    orphan = frame["revenue"].isna() & frame["receivables"].notna()
    for row, value in zip(frame.loc[orphan, "_row"], frame.loc[orphan, "receivables"], strict=True):
        if int(row) in bad_rows:
            continue
        problems.add(
            origin,
            f"{origin} row {int(row)}, column revenue: is empty while receivables is {value:,.0f}: "
            "receivables need the month's revenue (DSO is measured from both); give the revenue "
            "or leave receivables blank",
            int(row),
        )


def _check_keys(source: Source, spec: TableSpec, frame: pd.DataFrame, problems: Problems) -> None:
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
        values = ", ".join(f"{k} {show(keyed.at[i, k])}" for k in key)
        row = int(keyed.at[i, "_row"])
        problems.add(
            origin,
            f"{origin} row {row}: duplicate key {values} (already in row {int(first.at[i])})",
            row,
        )
    problems.unlisted(origin, int(dup.sum()) - len(shown))


def _check_settings(source: Source, frame: pd.DataFrame, problems: Problems) -> pd.DataFrame:
    origin = source.origin
    values = []
    for key, value, row in zip(frame["key"], frame["value"], frame["_row"], strict=True):
        if pd.isna(key) or pd.isna(value):
            values.append(None)
            continue
        if key not in SETTINGS:
            hint = suggest(key, SETTINGS)
            expected = (
                f'did you mean "{hint}"?' if hint else "expected one of " + ", ".join(SETTINGS)
            )
            problems.add(
                origin,
                f"{origin} row {row}, column key: {show(key)} is not a setting ({expected})",
                row,
            )
            values.append(None)
            continue
        try:
            parsed = parse_setting(key, value)
        except ValueError as exc:
            problems.add(
                origin,
                f"{origin} row {row}, column value: {show(value)} {exc} for {key}",
                row,
            )
            values.append(None)
            continue
        values.append(str(parsed))
    out = frame.copy()
    out["value"] = pd.Series(values, index=frame.index, dtype="str")
    return out


def _check_lifecycle(source: Source, frame: pd.DataFrame, problems: Problems) -> None:
    """Launch and end of each product: ``like_sku`` another sku of this file (products are
    replaced as a whole, so the like sku is in the same file), ``end_month`` not before
    ``launch_month``, ``like_share`` only beside a ``like_sku``."""
    origin = source.origin
    check = _CellCheck(origin, frame["_row"].to_numpy(), problems)
    sku, like = frame["sku"], frame["like_sku"]
    has_like = like.notna()
    itself = (has_like & (like == sku)).to_numpy()
    check.report(
        "like_sku", itself, like, "is the product itself (expected another sku of this file)"
    )
    unknown = has_like.to_numpy() & ~itself & ~_within(like, set(sku.dropna()))
    check.report(
        "like_sku", unknown, like, f"is not a sku in {origin} (expected another sku of this file)"
    )
    share = frame["like_share"]
    alone = (share.notna() & ~has_like).to_numpy()
    check.report(
        "like_share",
        alone,
        share.map(bound),
        "is given without a like_sku (a share of which sku's baseline? add the like_sku)",
    )
    launch, end = frame["launch_month"], frame["end_month"]
    early = np.flatnonzero((launch.notna() & end.notna() & (end < launch)).to_numpy())
    room = max(problems.room(origin), 0)
    for i in early[:room]:
        row = int(frame["_row"].iat[i])
        problems.add(
            origin,
            f"{origin} row {row}, column end_month: {show(end.iat[i])} is before launch_month "
            f"{launch.iat[i]} (a product ends after it launches)",
            row,
        )
    problems.unlisted(origin, len(early) - min(room, len(early)))


def _within(values: pd.Series, known: set[str]) -> np.ndarray:
    """Which text ``values`` are in ``known`` (False where empty), in Arrow: pandas' ``isin`` on
    Arrow strings turns every known value into a Python object, per call."""
    found = pc.is_in(
        pa.array(values, type=pa.string(), from_pandas=True),
        value_set=pa.array(list(known), type=pa.string()),
    )
    return pc.fill_null(found, False).to_numpy(zero_copy_only=False)


def _stored_values(store, table: str, column: str) -> set[str]:
    spec = TABLES[table]  # allow-list: names below come from the contract, never from a user
    spec.column(column)
    frame = store.query(f"SELECT DISTINCT {column} FROM {table} WHERE {column} IS NOT NULL")
    return set(frame[column].astype("str"))


def _check_references(store, checked: dict[str, _Checked], problems: Problems) -> None:
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
            bad = values.notna().to_numpy() & ~_within(values, known)
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
                    listed = ", ".join(show(v) for v in lost[:5])
                    more = f" and {len(lost) - 5:,} more" if len(lost) > 5 else ""
                    problems.add(
                        origin,
                        f"{origin}: drops {ref_column} {listed}{more}, still used by the stored "
                        f"{other}; import {other} too, or keep them",
                    )


def validate_sources(store, sources: list[Source], problems: Problems) -> dict[str, pd.DataFrame]:
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


def frame_source(table: str, frame: pd.DataFrame, origin: str) -> Source:
    """A source over an in-memory raw frame (index = spreadsheet row numbers, or 0.. for rows 2..)."""

    def load(problems: Problems) -> Loaded:
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

    return Source(table, origin, load)


_CHECKS = {"text": _check_text, "month": _check_month, "number": _check_number}
