"""The board pack: one content model of the plan (``pack_content``), rendered to PDF, PPTX or XLSX.

Every figure comes from the engine or another ``sop_core`` function; this module only picks,
arranges and labels them (sums over the horizon and differences against budget or the
previous cycle are the only arithmetic, as on the Executive summary). The renderers live in
``boardpack_pdf``, ``boardpack_pptx`` and ``boardpack_xlsx``; charts are the app's own Altair
charts (``sop_core.views.charts``), rendered offline with vl-convert.
"""

from __future__ import annotations

import datetime as _dt
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from sop_core import fmt
from sop_core.errors import SopError

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
    "Table",
    "Block",
    "Section",
    "BoardPack",
    "Progress",
    "pack_content",
    "build_boardpack",
    "render_pack",
    "chart_images",
    "currency_label",
    "describe_levers",
    "format_value",
    "chart_png",
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


def _missing(value: object) -> bool:
    if value is None or value is pd.NaT:
        return True
    try:
        return isinstance(value, float | np.floating) and not math.isfinite(float(value))
    except (TypeError, ValueError):
        return False


def format_value(value: object, kind: str, currency: str) -> str:
    """A figure as the app shows it (``sop_core.fmt``): £1.2m, +£340k, 34.5 %, 1,234; '—' if missing."""
    if kind == TEXT:
        return (
            "" if _missing(value) or (isinstance(value, float) and pd.isna(value)) else str(value)
        )
    if _missing(value) or (isinstance(value, float) and pd.isna(value)):
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
    """A headline figure of the plan, with budget and previous cycle where there are any."""

    label: str
    value: float | None
    kind: str = MONEY
    budget: float | None = None
    previous: float | None = None
    note: str = ""

    @property
    def vs_budget(self) -> float | None:
        if _missing(self.value) or _missing(self.budget):
            return None
        return float(self.value) - float(self.budget)

    @property
    def vs_previous(self) -> float | None:
        if _missing(self.value) or _missing(self.previous):
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

    @property
    def workbook_tables(self) -> tuple[Table, ...]:
        if self.data:
            return self.data
        return (self.table,) if self.table is not None else ()


@dataclass(frozen=True)
class Section:
    key: str
    title: str
    blocks: tuple[Block, ...]
    sheet: str = ""  # the workbook sheet's name (≤ 31 characters)

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

    def section(self, key: str) -> Section:
        for s in self.sections:
            if s.key == key:
                return s
        raise KeyError(key)


# --- building the content ----------------------------------------------------------------------


def _step(progress: Progress | None, text: str, fraction: float) -> None:
    if progress is not None:
        progress(text, min(max(fraction, 0.0), 1.0))


def _plan(store, cycle: str | None, scenario: str | None):
    """(model, result, label, dropped levers) of the plan the pack shows."""
    from sop_core.meeting.scenarios import get_scenario, promoted_scenario, usable_levers
    from sop_core.plan.engine import compute, model_for_store
    from sop_core.plan.levers import scenario_names

    model = model_for_store(store, cycle)
    cycle = model.cycle
    chosen, how = None, ""
    if scenario:
        chosen = get_scenario(store, cycle, scenario)
        if chosen is None:
            names = scenario_names(store, cycle)
            raise SopError(
                f'No scenario "{scenario}" in cycle {cycle}; saved scenarios: '
                f"{', '.join(names) if names else 'none'}."
            )
        how = "promoted" if chosen.promoted else "chosen for this pack, not promoted"
    else:
        chosen = promoted_scenario(store, cycle)
        how = "promoted"
    if chosen is None:
        return model, compute(model, {}), "Base plan (no scenario promoted)", []
    levers, dropped = usable_levers(chosen.levers, model.families, model.resources)
    label = f"Scenario “{chosen.name}” ({how})"
    return model, compute(model, levers), label, dropped


def _status(store, cycle: str | None) -> tuple[str, str]:
    from sop_core.meeting.cycles import cycle_info

    info = cycle_info(store, cycle) if cycle else None
    if info is not None and info.locked:
        when = pd.Timestamp(info.locked_at)
        return "locked", f"Locked by {info.locked_by} on {when.day} {when.strftime('%b %Y')}"
    return "draft", "Draft: the cycle is open, the plan is not locked yet"


def _previous(store, cycle: str | None):
    """(cycle, its locked company frame) of the latest locked cycle before this one, or (None, None)."""
    if not cycle:
        return None, None
    from sop_core.meeting.versions import load_version, previous_locked_cycle

    previous = previous_locked_cycle(store, cycle)
    if previous is None:
        return None, None
    version = load_version(store, previous)
    if version is None or "company" not in version.results:
        return None, None
    return previous, version


def describe_levers(levers) -> str:
    """Levers in words for the board: 'Price change −3 % · Headcount change, Press & Weld +6 FTE'."""
    from sop_core.plan.levers import LEVERS

    parts = []
    for (name, qualifier), value in sorted(
        levers.items(), key=lambda kv: (kv[0][0], kv[0][1] or "")
    ):
        spec = LEVERS.get(name)
        label = spec.label.split(" (")[0] if spec else name
        unit = spec.unit if spec else ""
        where = f", {qualifier}" if qualifier else ""
        sign = "" if spec is not None and spec.kind == "replace" else ("+" if value > 0 else "")
        number = f"{value:g}".replace("-", "−")
        parts.append(f"{label}{where} {sign}{number} {unit}".strip())
    return " · ".join(parts) or "no levers"


def currency_label(currency: str) -> str:
    """The currency as a unit label (£ for GBP)."""
    return fmt.currency_symbol(currency).strip()


def pack_content(
    store,
    cycle: str | None = None,
    scenario: str | None = None,
    *,
    progress: Progress | None = None,
    today: _dt.date | None = None,
) -> BoardPack:
    """The board pack's content for a cycle (default: the current cycle).

    The plan shown is the named scenario, else the cycle's promoted scenario, else the base plan.

    Raises:
        PlanError: nothing to plan (no products).
        SopError: an unknown scenario (the saved names are listed).
    """
    from sop_core.boardpack import sections as bs
    from sop_core.boardpack.sections import PackInputs, safe, track_bias
    from sop_core.meeting.decisions import list_decisions
    from sop_core.meeting.register import register
    from sop_core.store.plandata import load_plan_data

    _step(progress, "Computing the plan", 0.02)
    model, result, label, dropped = _plan(store, cycle, scenario)
    cycle = model.cycle
    data = load_plan_data(store, cycle)
    settings = model.settings
    currency = settings.currency
    _step(progress, "Reading the cycle, decisions and assumptions", 0.12)
    status, status_line = _status(store, cycle)
    previous_cycle, version = _previous(store, cycle)
    previous_line = (
        f"The locked plan of cycle {previous_cycle}: {version.plan_label}"
        if previous_cycle
        else "No previous locked cycle to compare with"
    )
    decisions, decisions_error = safe(
        lambda: list_decisions(store, cycle, today=today) if cycle else None
    )
    reg, register_error = safe(lambda: register(store, cycle) if cycle else None)
    bias, bias_error = safe(track_bias, store, data, cycle)
    warnings = []
    if dropped:
        warnings.append(
            "Levers of the scenario that no longer fit the data were dropped: " + "; ".join(dropped)
        )
    a = PackInputs(
        store=store,
        cycle=cycle,
        model=model,
        result=result,
        label=label,
        currency=currency,
        previous_cycle=previous_cycle,
        previous_company=version.results["company"] if version is not None else None,
        previous_months=tuple(version.months) if version is not None else (),
        decisions=decisions,
        decisions_error=decisions_error or f"No decision log for cycle {cycle}.",
        register=reg,
        register_error=register_error or f"No assumption register for cycle {cycle}.",
        bias=bias,
        bias_error=f"Track record unavailable: {bias_error}",
        budget=data.tables["budget"],
        warnings=warnings,
    )
    _step(progress, "Comparing the saved scenarios", 0.2)
    scenarios = bs.scenarios_section(a)
    _step(progress, "Arranging the sections", 0.3)
    sections = (
        bs.summary_section(a),
        bs.disagreement_section(a),
        bs.decisions_section(a),
        bs.demand_section(a),
        bs.supply_section(a),
        bs.finance_section(a),
        scenarios,
    )
    return BoardPack(
        company=settings.company_name or "Your company",
        cycle=cycle,
        currency=currency,
        created=_dt.datetime.now().replace(microsecond=0),
        status=status,
        status_line=status_line,
        plan_label=label,
        months=tuple(model.months),
        previous_cycle=previous_cycle,
        previous_line=previous_line,
        sections=sections,
        warnings=tuple(warnings),
    )


# --- charts as images ---------------------------------------------------------------------------

CHART_WIDTH = 600  # px of plot before scaling: on A4 landscape 14 px labels print at about 11 pt
CHART_HEIGHT = 230


def alt_undefined():
    import altair as alt

    return alt.Undefined


def chart_png(
    chart, *, width: int = CHART_WIDTH, height: int = CHART_HEIGHT, scale: float = 2.0
) -> bytes:
    """An app chart as PNG bytes, rendered offline by vl-convert at the pack's plot size."""
    import vl_convert as vlc

    sized = chart.properties(width=width, height=height)
    legend = getattr(sized, "config", None)
    legend = getattr(legend, "legend", None) if legend is not None else None
    if legend is not None and legend is not alt_undefined():
        legend.labelLimit = 0  # whole plan and scenario names in the legend
    return vlc.vegalite_to_png(sized.to_json(), scale=scale)


def chart_images(
    pack: BoardPack,
    progress: Progress | None = None,
    start: float = 0.35,
    end: float = 0.8,
    **kwargs,
) -> dict[int, bytes]:
    """Every block's chart as PNG, keyed by ``id(block)``."""
    blocks = [b for s in pack.sections for b in s.blocks if b.chart is not None]
    size = tuple(sorted(kwargs.items()))
    out = {}
    for i, block in enumerate(blocks):
        _step(
            progress,
            f"Drawing chart {i + 1} of {len(blocks)}: {block.title}",
            start + (end - start) * i / max(len(blocks), 1),
        )
        cached = pack.images.get((id(block), size))
        if cached is None:
            cached = pack.images[(id(block), size)] = chart_png(block.chart, **kwargs)
        out[id(block)] = cached
    return out


# --- building a file ----------------------------------------------------------------------------


def build_boardpack(
    store,
    out: Path,
    *,
    cycle: str | None = None,
    scenario: str | None = None,
    progress: Progress | None = None,
) -> Path:
    """Build the board pack of a cycle into ``out``; its suffix (.pdf, .pptx, .xlsx) picks the format.

    Args:
        progress: called with (what is happening, fraction done) while it builds.

    Raises:
        SopError: an unknown suffix, a missing folder, an unknown scenario, nothing to plan.
    """
    out = Path(out)
    suffix = out.suffix.lower()
    if suffix not in FORMATS:
        raise SopError(f"{out.name}: expected a file ending in .pdf, .pptx or .xlsx")
    if not out.parent.exists():
        raise SopError(f"Folder {out.parent} does not exist; cannot write {out.name}.")
    pack = pack_content(store, cycle, scenario, progress=progress)
    render_pack(pack, out, progress=progress)
    return out


def render_pack(pack: BoardPack, out: Path, *, progress: Progress | None = None) -> Path:
    """Write an already built pack to ``out`` (the page builds the content once for three files)."""
    out = Path(out)
    suffix = out.suffix.lower()
    if suffix == ".pdf":
        from sop_core.boardpack.pdf import render_pdf as render
    elif suffix == ".pptx":
        from sop_core.boardpack.pptx import render_pptx as render
    elif suffix == ".xlsx":
        from sop_core.boardpack.xlsx import render_xlsx as render
    else:
        raise SopError(f"{out.name}: expected a file ending in .pdf, .pptx or .xlsx")
    render(pack, out, progress=progress)
    _step(progress, f"{out.name} written", 1.0)
    return out
