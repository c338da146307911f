"""Import of contract tables from CSV files or an Excel workbook: all-or-nothing, every problem named."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path

import pandas as pd

from sop_core.contract import TABLE_ORDER
from sop_core.errors import ImportRejected
from sop_core.forecasting.baseline import FitProgress
from sop_core.forecasting.refit import refit_stale
from sop_core.intake.checks import frame_source, validate_sources
from sop_core.intake.problems import Problems
from sop_core.intake.sources import (
    Input,
    bytes_input,
    gather,
    inputs_from_paths,
    raw_frame,
    table_for,
)
from sop_core.store.audit import data_version
from sop_core.store.lock import ensure_unlocked

SQL_WRITES_SINCE = """
SELECT action, entity, user_name FROM audit_log
WHERE id > ? AND action <> 'refused' ORDER BY id DESC LIMIT 1
"""

__all__ = [
    "read_sources",
    "validate",
    "import_paths",
    "import_uploads",
    "REFIT_TABLES",
    "refit_after_import",
]

# Tables whose import can leave a cycle's statistical baseline stale or incomplete: history,
# cycles and their months, the skus, the horizon.
REFIT_TABLES = frozenset({"actuals", "forecasts", "products", "settings"})


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
    problems = Problems()
    out: dict[str, tuple[pd.DataFrame, str]] = {}
    with ExitStack() as stack:
        sources = gather(inputs_from_paths(paths, problems), problems, stack)
        for source in sources:
            header, chunks = source.load(problems)
            if header is None:
                continue
            parts = list(chunks)
            frame = pd.concat(parts) if parts else raw_frame([], [], len(header))
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
    problems = Problems()
    sources = []
    for table, (frame, origin) in raw.items():
        name = table_for(table, origin, problems, "table")
        if name is not None:
            sources.append(frame_source(name, frame, origin))
    return validate_sources(store, sources, problems)


def _import(
    store,
    inputs_of: Callable[[Problems], list[Input]],
    user: str,
    authorize: Callable[[list[str]], None] | None = None,
):

    problems = Problems()
    # Checked without holding the store (a large import checks for minutes, and the app and
    # other programs keep working meanwhile), then written only if nothing was written since
    # the check began: what is validated against is what gets replaced.
    with ExitStack() as stack:
        # Fail fast, before any file is read; replace_tables checks again in its transaction.
        ensure_unlocked(store)
        version = data_version(store)
        sources = gather(inputs_of(problems), problems, stack)
        if authorize is not None:
            # The tables this import would replace, known from file and sheet names alone:
            # refused before a row is read.
            authorize([t for t in TABLE_ORDER if any(s.table == t for s in sources)])
        if not sources and not problems:
            raise ImportRejected(
                ["nothing to import: give contract CSV files or an .xlsx workbook"]
            )
        frames = validate_sources(store, sources, problems)
        origins = ", ".join(s.origin for s in sources)
    with store.exclusive():  # other writers wait from here to the commit
        changed = store.query(SQL_WRITES_SINCE, [version])
        if len(changed):
            last = changed.iloc[0]
            raise ImportRejected(
                [
                    f"the store changed while this import was being checked ({last['action']} "
                    f"of {last['entity']} by {last['user_name']}); nothing was imported: run the "
                    "import again"
                ]
            )
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
    return _import(store, lambda problems: inputs_from_paths(paths, problems), user)


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
        store, lambda _: [bytes_input(name, data) for name, data in files], user, authorize
    )


def refit_after_import(
    store,
    changes: dict[str, tuple[int, int]],
    *,
    user: str,
    on_progress: Callable[[FitProgress], None] | None = None,
) -> list[str]:
    """Refit the statistical baselines an import left stale, and only those.

    New history makes the cycles after it stale (the import forgets their baselines: see
    ``sop_core.store.changes.forget_baselines``); new cycles, skus or horizon months leave
    baselines incomplete. Anything else (prices, capacity, an unchanged re-import) refits
    nothing.

    Args:
        changes: what :func:`import_uploads` or :func:`import_paths` returned.
        on_progress: called as series are fitted; an exception it raises cancels the refit
            (the workers stop at once; the baselines not stored are fitted when next needed).

    Returns:
        The cycles refitted.

    Raises:
        PlanError: no products are loaded.
    """
    if not REFIT_TABLES & set(changes):
        return []
    return refit_stale(store, user=user, on_progress=on_progress)
