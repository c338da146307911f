"""What every section of the board pack is built from (``PackInputs``) and the helpers they share."""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from sop_core.boardpack.model import (
    MONEY,
    TEXT,
    Table,
    format_value,
)
from sop_core.errors import SopError
from sop_core.forecasting.trackrecord import source_bias, track_record

__all__ = [
    "PackInputs",
    "SQL_BASELINE_HISTORY",
    "TOP_DISAGREEMENTS",
    "money_table_by_month",
    "text_frame",
    "high_rows",
    "safe",
    "track_bias",
]

SQL_BASELINE_HISTORY = (
    "SELECT cycle, sku, month, units FROM baseline WHERE cycle < ? ORDER BY cycle, sku, month"
)
TOP_DISAGREEMENTS = 10


@dataclass
class PackInputs:
    """What the sections are built from: the plan shown, the cycle's records, the previous cycle."""

    store: object
    cycle: str | None
    model: object  # engine.Model
    result: object  # engine.PlanResult of the plan shown
    label: str
    currency: str
    previous_cycle: str | None
    previous_company: pd.DataFrame | None
    previous_months: tuple[str, ...]
    decisions: pd.DataFrame | None
    decisions_error: str
    register: pd.DataFrame | None
    register_error: str
    bias: pd.DataFrame | None
    bias_error: str
    budget: pd.DataFrame
    warnings: list[str] = field(default_factory=list)
    # the board paper's inputs (content.pack_content computes each once)
    record: object = None  # meeting.record.PlanOfRecord
    locked: bool = False
    frozen: dict = field(default_factory=dict)  # actuals, financial_actuals, forecasts used
    ranges: object = None  # plan.ranges.PlanRanges of the plan shown, or None
    ranges_error: str = ""
    bridge: object = None  # views.bridge.Bridge from the last locked plan, or None
    bridge_note: str = ""
    base_plan: object = None  # the base plan (no levers)
    scenario_plans: dict = field(default_factory=dict)  # saved scenario name → PlanResult
    scenario_levers: dict = field(default_factory=dict)  # name → (levers' text, promoted)
    commentary: dict = field(default_factory=dict)  # section key → meeting.commentary.Commentary


def money_table_by_month(
    frame: pd.DataFrame, rows: dict[str, str], title: str, *, kind: str = MONEY, total: bool = True
) -> Table:
    """A month-across table: one row per measure (``rows``: column → label), months as columns."""
    months = [str(m) for m in frame["month"]]
    body = {"": list(rows.values())}
    for i, m in enumerate(months):
        body[m] = [float(frame[c].iloc[i]) for c in rows]
    if total:
        body["Total"] = [float(frame[c].sum()) for c in rows]
    table = pd.DataFrame(body)
    kinds = {c: kind for c in table.columns}
    kinds[""] = TEXT
    return Table(table, kinds, title=title)


def high_rows(frame: pd.DataFrame) -> pd.DataFrame:
    """Marks the severity cell of high-severity rows."""
    marks = pd.DataFrame(False, index=frame.index, columns=frame.columns)
    marks["Severity"] = frame["Severity"] == "high"
    return marks


def text_frame(frame: pd.DataFrame, columns: dict[str, str]) -> pd.DataFrame:
    out = pd.DataFrame({label: frame[col] for col, label in columns.items()})
    for c in out.columns:
        out[c] = [format_value(v, TEXT, "") for v in out[c]]
    return out


def safe(fn, *args):
    """(value, None) or (None, a one-line notice): a panel that cannot compute degrades."""
    try:
        return fn(*args), None
    except SopError as exc:
        return None, str(exc).splitlines()[0]


def track_bias(store, data, cycle: str | None) -> pd.DataFrame:

    if cycle is None:
        raise SopError("No S&OP cycle: there is no track record to score.")
    history = store.query(SQL_BASELINE_HISTORY, [cycle])
    track = track_record(
        data.tables["actuals"],
        data.tables["forecasts"],
        data.tables["products"],
        current_cycle=cycle,
        baseline_history=history,
    )
    return source_bias(track, data.settings.tolerance_pct)
