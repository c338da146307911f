"""The board pack's content model: figures, tables, blocks and sections, and how each kind of figure is shown.

Every figure comes from the engine or another ``sop_core`` function; the pack only picks,
arranges and labels them. ``content.pack_content`` fills this model; ``pdf``, ``pptx`` and
``xlsx`` render it.
"""

from __future__ import annotations

import datetime as _dt
import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from sop_core import fmt

__all__ = [
    "MONEY",
    "MONEY_DELTA",
    "PCT",
    "PCT_DELTA",
    "UNITS",
    "FTE",
    "NUMBER",
    "TEXT",
    "KINDS",
    "FORMATS",
    "Figure",
    "Series",
    "Table",
    "Block",
    "Section",
    "BoardPack",
    "PREREAD",
    "APPENDIX",
    "Progress",
    "format_value",
    "missing",
    "step",
]

# Column kinds: how a figure is shown (and which number format it gets in the workbook).
MONEY = "money"  # compact in print (£1.2m), full in the workbook
MONEY_DELTA = "money_delta"  # signed: +£1.2m, −£340k
PCT = "pct"  # the value is in percent (34.5 → 34.5 %)
PCT_DELTA = "pct_delta"
UNITS = "units"  # whole units, thousands separators
FTE = "fte"  # one decimal
NUMBER = "number"  # a figure in mixed units (the disagreement's own unit column says which)
TEXT = "text"
KINDS = (MONEY, MONEY_DELTA, PCT, PCT_DELTA, UNITS, FTE, NUMBER, TEXT)
FORMATS = (".pdf", ".pptx", ".xlsx")

Progress = Callable[[str, float], None]


def missing(value: object) -> bool:
    if value is None or value is pd.NaT:
        return True
    try:
        return isinstance(value, float | np.floating) and not math.isfinite(float(value))
    except (TypeError, ValueError):
        return False


def format_value(value: object, kind: str, currency: str) -> str:
    """A figure as the app shows it (``sop_core.fmt``): £1.2m, +£340k, 34.5 %, 1,234; '—' if missing."""
    if kind == TEXT:
        return "" if missing(value) or (isinstance(value, float) and pd.isna(value)) else str(value)
    if missing(value) or (isinstance(value, float) and pd.isna(value)):
        return "—"
    v = float(value)
    if kind == MONEY:
        return fmt.money(v, currency)
    if kind == MONEY_DELTA:
        return fmt.signed_money(v, currency)
    if kind == PCT:
        return fmt.pct(v)
    if kind == PCT_DELTA:
        return fmt.pct(v, signed=True)
    if kind == UNITS:
        return fmt.units(v)
    if kind == FTE:
        return ("−" if v < 0 else "") + f"{abs(v):,.1f}"
    if kind == NUMBER:
        text = f"{abs(v):,.0f}" if abs(v) >= 10 else f"{abs(v):,.1f}"
        return ("−" if v < 0 else "") + text
    raise ValueError(f"unknown kind {kind!r}")


# --- the content model -----------------------------------------------------------------------


@dataclass(frozen=True)
class Figure:
    """A headline figure of the plan, with budget and previous cycle where there are any.

    ``budget_gap`` is the plan against budget over the months the budget covers (the summary's
    ``revenue_vs_budget``): when given it is the "vs budget" figure, so the pack says what every
    page says even when the budget stops before the horizon ends.
    """

    label: str
    value: float | None
    kind: str = MONEY
    budget: float | None = None
    previous: float | None = None
    note: str = ""
    budget_gap: float | None = None

    @property
    def vs_budget(self) -> float | None:
        if not missing(self.budget_gap):
            return float(self.budget_gap)
        if missing(self.value) or missing(self.budget):
            return None
        return float(self.value) - float(self.budget)

    @property
    def vs_previous(self) -> float | None:
        if missing(self.value) or missing(self.previous):
            return None
        return float(self.value) - float(self.previous)

    @property
    def delta_kind(self) -> str:
        return {MONEY: MONEY_DELTA, PCT: PCT_DELTA}.get(self.kind, self.kind)


@dataclass(frozen=True)
class Table:
    """A table of the pack: a frame and each column's kind.

    ``limit`` rows are shown on paper and slides (the workbook gets them all); ``key_columns``
    leading columns name a row and are repeated when a wide table is split; ``emphasis`` (same
    shape as ``frame``, True = mark the cell) flags what needs the board's eye.
    """

    frame: pd.DataFrame
    kinds: dict[str, str]
    title: str = ""
    limit: int | None = None
    key_columns: int = 1
    emphasis: pd.DataFrame | None = None
    note: str = ""
    # rows (named by the first column) the workbook draws as a native line chart across the
    # month columns, for finance to restyle or copy
    chart_rows: tuple[str, ...] = ()
    # a level drawn on that chart as a dashed line, e.g. ("Minimum cash", 750000.0); the
    # workbook writes it as a row of its own under the table
    chart_level: tuple[str, float] | None = None

    def __post_init__(self) -> None:
        missing = [c for c in self.frame.columns if c not in self.kinds]
        bad = [k for k in self.kinds.values() if k not in KINDS]
        if missing or bad:
            raise ValueError(f"table {self.title!r}: no kind for {missing}, unknown kinds {bad}")

    @property
    def shown(self) -> pd.DataFrame:
        """The rows for paper and slides."""
        return self.frame if self.limit is None else self.frame.head(self.limit)

    @property
    def hidden_rows(self) -> int:
        return len(self.frame) - len(self.shown)

    def emphasised(self, row: int, column: str) -> bool:
        if self.emphasis is None or column not in self.emphasis.columns:
            return False
        return bool(self.emphasis[column].iloc[row])

    def text(self, currency: str) -> list[list[str]]:
        """The shown rows as formatted text, row by row (without the header)."""
        shown = self.shown
        columns = list(shown.columns)
        return [
            [format_value(shown[c].iloc[i], self.kinds[c], currency) for c in columns]
            for i in range(len(shown))
        ]


@dataclass(frozen=True)
class Series:
    """A chart's data, for a native chart (PowerPoint draws it; finance can restyle it).

    ``kind`` is "line" or "column"; ``series`` holds (name, values) with one value per category;
    ``dashed`` names the series drawn dashed (a level such as the minimum cash).
    """

    kind: str
    categories: tuple[str, ...]
    series: tuple[tuple[str, tuple[float, ...]], ...]
    value_kind: str = MONEY
    dashed: tuple[str, ...] = ()
    title: str = ""

    def __post_init__(self) -> None:
        if self.kind not in ("line", "column"):
            raise ValueError(f"unknown chart kind {self.kind!r}")
        for name, values in self.series:
            if len(values) != len(self.categories):
                raise ValueError(
                    f"series {name!r}: {len(values)} values for {len(self.categories)} categories"
                )


@dataclass(frozen=True)
class Block:
    """One topic: a slide in the deck, a heading on paper, a table block in the workbook.

    ``table`` is shown on paper and slides (and written to the workbook unless ``data`` is
    given); ``data`` holds the numbers for the workbook when they differ from what is printed
    (e.g. a disagreement's figures as numbers rather than sentences).
    """

    title: str
    text: tuple[str, ...] = ()
    figures: tuple[Figure, ...] = ()
    chart: object | None = None  # an Altair chart from sop_core.views.charts
    chart_alt: str = ""
    table: Table | None = None
    data: tuple[Table, ...] = ()
    # the generated narrative (``views.narrative``): sentences that carry the figures they state,
    # printed before ``text``
    sentences: tuple = ()
    # the chart's data for a native PowerPoint chart (the PDF prints ``chart`` as a picture)
    series: Series | None = None

    @property
    def lines(self) -> tuple[str, ...]:
        """What is printed as text: the narrative's sentences, then the other lines."""
        return tuple(str(s) for s in self.sentences) + tuple(self.text)

    @property
    def workbook_tables(self) -> tuple[Table, ...]:
        if self.data:
            return self.data
        return (self.table,) if self.table is not None else ()


PREREAD, APPENDIX = "preread", "appendix"


@dataclass(frozen=True)
class Section:
    """A section: a page (or a few) of the pre-read, or a part of the appendix.

    ``commentary`` is a person's text (paragraphs, printed as plain text beneath the section's
    generated sentences) and ``commentary_by`` who wrote it and when.
    """

    key: str
    title: str
    blocks: tuple[Block, ...]
    sheet: str = ""  # the workbook sheet's name (≤ 31 characters)
    part: str = APPENDIX
    commentary: tuple[str, ...] = ()
    commentary_by: str = ""

    @property
    def sheet_name(self) -> str:
        return (self.sheet or self.title)[:31]


@dataclass(frozen=True)
class BoardPack:
    """The board pack's content: who, which cycle and plan, and the sections in order."""

    company: str
    cycle: str | None
    currency: str
    created: _dt.datetime
    status: str  # "draft" or "locked"
    status_line: str
    plan_label: str
    months: tuple[str, ...]
    previous_cycle: str | None
    previous_line: str
    sections: tuple[Section, ...] = field(default_factory=tuple)
    warnings: tuple[str, ...] = ()
    # chart PNGs by (block id, size): drawn once when one pack is written to several formats
    images: dict = field(default_factory=dict, compare=False, repr=False)

    @property
    def title(self) -> str:
        return f"Board pack · S&OP cycle {self.cycle or '(none)'}"

    @property
    def horizon(self) -> str:
        return f"{self.months[0]} to {self.months[-1]} ({len(self.months)} months)"

    @property
    def footer(self) -> str:
        return f"{self.company} · S&OP cycle {self.cycle or '(none)'} · {self.status_word}"

    @property
    def status_word(self) -> str:
        return "Locked plan" if self.status == "locked" else "Draft plan"

    @property
    def preread(self) -> tuple[Section, ...]:
        return tuple(s for s in self.sections if s.part == PREREAD)

    @property
    def appendix(self) -> tuple[Section, ...]:
        return tuple(s for s in self.sections if s.part == APPENDIX)

    def section(self, key: str) -> Section:
        for s in self.sections:
            if s.key == key:
                return s
        raise KeyError(key)


# --- progress ---------------------------------------------------------------------------------


def step(progress: Progress | None, text: str, fraction: float) -> None:
    """Report progress (what is happening, fraction done in 0..1) if someone listens."""
    if progress is not None:
        progress(text, min(max(fraction, 0.0), 1.0))
