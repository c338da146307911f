"""The board pack as an Excel workbook: a sheet per section, figures as numbers with number formats."""

from __future__ import annotations

import math
from pathlib import Path

from openpyxl import Workbook
from openpyxl.chart import LineChart, Reference, Series
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from sop_core.boardpack.model import (
    FTE,
    MONEY,
    MONEY_DELTA,
    NUMBER,
    PCT,
    PCT_DELTA,
    TEXT,
    UNITS,
    Block,
    BoardPack,
    Progress,
    Table,
    missing,
    step,
)
from sop_core.fmt import currency_symbol
from sop_core.months import is_month
from sop_core.safetext import neutralise_workbook
from sop_core.views import charts

__all__ = ["render_xlsx", "number_format"]

TITLE = Font(bold=True, size=14)
HEADING = Font(bold=True, size=12)
BOLD = Font(bold=True)
NOTE = Font(italic=True, color="666666")
ACCENT = Font(bold=True, color=charts.SEVERITY_COLORS["high"].lstrip("#"))
HEAD_FILL = PatternFill("solid", fgColor="E8ECF1")
WRAP = Alignment(wrap_text=True, vertical="top")
MAX_WIDTH = 60
# the app's story colours (Okabe-Ito) for the workbook's line charts, in series order
LINE_COLORS = ("0072B2", "009E73", "444444", "E69F00", "CC79A7", "56B4E9")
CHART_ROWS = 16  # sheet rows a native chart takes below its table


def number_format(kind: str, currency: str) -> str | None:
    """The Excel number format of a column kind (None for text)."""
    sym = currency_symbol(currency).replace('"', "")
    money = f'"{sym}"#,##0'
    return {
        MONEY: f"{money};[Red]-{money}",
        MONEY_DELTA: f"+{money};[Red]-{money};{money}",
        PCT: "0.0%",
        PCT_DELTA: "+0.0%;[Red]-0.0%;0.0%",
        UNITS: "#,##0",
        FTE: "#,##0.0",
        NUMBER: "#,##0.0",
    }.get(kind)


def _value(value: object, kind: str):
    """A cell value: numbers stay numbers (percent kinds as fractions), missing is empty."""
    if kind == TEXT:
        return (
            None
            if missing(value) or (isinstance(value, float) and math.isnan(value))
            else str(value)
        )
    if missing(value):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return str(value)
    if math.isnan(number):
        return None
    return number / 100.0 if kind in (PCT, PCT_DELTA) else number


class _Sheet:
    """Writes blocks down a sheet and remembers widths and where the first table's header is."""

    def __init__(self, ws, currency: str):
        self.ws = ws
        self.currency = currency
        self.row = 1
        self.widths: dict[int, float] = {}
        self.freeze: str | None = None

    def _width(self, col: int, text: str) -> None:
        self.widths[col] = min(MAX_WIDTH, max(self.widths.get(col, 8), len(text) + 2))

    def line(self, text: str, font: Font | None = None) -> None:
        cell = self.ws.cell(self.row, 1, text)
        if font is not None:
            cell.font = font
        self.row += 1

    def table(self, table: Table, key_columns: int | None = None) -> None:
        ws, frame = self.ws, table.frame
        columns = list(frame.columns)
        if table.title:
            self.line(table.title, BOLD)
        header_row = self.row
        for j, name in enumerate(columns, start=1):
            cell = ws.cell(header_row, j, str(name))
            cell.font, cell.fill = BOLD, HEAD_FILL
            cell.alignment = Alignment(horizontal="left" if table.kinds[name] == TEXT else "right")
            self._width(j, str(name))
        if self.freeze is None:
            keys = table.key_columns if key_columns is None else key_columns
            self.freeze = f"{get_column_letter(keys + 1)}{header_row + 1}"
        formats = {c: number_format(table.kinds[c], self.currency) for c in columns}
        for i in range(len(frame)):
            r = header_row + 1 + i
            for j, name in enumerate(columns, start=1):
                kind = table.kinds[name]
                value = _value(frame[name].iloc[i], kind)
                cell = ws.cell(r, j, value)
                if formats[name] is not None and isinstance(value, float):
                    cell.number_format = formats[name]
                    self._width(j, f"{value:,.0f}" + "  ")
                elif isinstance(value, str):
                    self._width(j, value)
                    if len(value) > MAX_WIDTH:
                        cell.alignment = WRAP
                if table.emphasised(i, name):
                    cell.font = ACCENT
                elif j == 1 and kind == TEXT and table.key_columns:
                    cell.font = BOLD
        self.row = header_row + len(frame) + 2
        if table.chart_rows:
            self.line_chart(table, header_row)

    def _series(self, row: int, months: list[int], title: str, colour: str, width: int):
        """A chart series over one sheet row's month cells."""
        values = Reference(self.ws, min_col=months[0], max_col=months[-1], min_row=row, max_row=row)
        series = Series(values, title=title)
        series.graphicalProperties.line.solidFill = colour
        series.graphicalProperties.line.width = width
        series.smooth = False
        return series

    def line_chart(self, table: Table, header_row: int) -> None:
        """A native line chart of ``table.chart_rows`` across the month columns, below the table:
        it reads the cells above, so it follows any edit finance makes to them. A
        ``table.chart_level`` (e.g. minimum cash) is written as a row of its own under the table
        and drawn dashed."""
        frame, ws = table.frame, self.ws
        months = [j for j, name in enumerate(frame.columns, start=1) if is_month(str(name))]
        if not months:
            return
        chart = LineChart()
        chart.title = table.title
        chart.height, chart.width = 7.5, 26.0
        sym = currency_symbol(self.currency).replace('"', "")
        chart.y_axis.number_format = f'"{sym}"#,##0.0,,"m"'  # axis in millions: £4.1m
        chart.x_axis.tickLblPos = "low"  # month labels under the plot, also when it dips below 0
        chart.legend.position = "b"
        chart.x_axis.delete = False
        chart.y_axis.delete = False
        labels = [str(v) for v in frame.iloc[:, 0]]
        for k, label in enumerate(table.chart_rows):
            if label in labels:
                row = header_row + 1 + labels.index(label)
                colour = LINE_COLORS[k % len(LINE_COLORS)]
                chart.series.append(self._series(row, months, label, colour, 28575))  # 2.25 pt
        if table.chart_level is not None:
            label, value = table.chart_level
            row = self.row - 1  # the blank row under the table
            ws.cell(row, 1, label).font = NOTE
            for j in months:
                cell = ws.cell(row, j, float(value))
                cell.number_format, cell.font = number_format(MONEY, self.currency), NOTE
            level = self._series(
                row, months, label, charts.SEVERITY_COLORS["high"].lstrip("#"), 19050
            )  # 1.5 pt
            level.graphicalProperties.line.dashStyle = "dash"
            chart.series.append(level)
            self.row += 1
        chart.set_categories(
            Reference(
                ws, min_col=months[0], max_col=months[-1], min_row=header_row, max_row=header_row
            )
        )
        ws.add_chart(chart, f"A{self.row}")
        self.row += CHART_ROWS

    def figures(self, block: Block, pack: BoardPack) -> None:
        ws = self.ws
        prev = f"Previous ({pack.previous_cycle})" if pack.previous_cycle else "Previous cycle"
        header = ["Figure", "Plan", "Budget", "vs budget", prev, "vs previous", "Note"]
        header_row = self.row
        for j, name in enumerate(header, start=1):
            cell = ws.cell(header_row, j, name)
            cell.font, cell.fill = BOLD, HEAD_FILL
            self._width(j, name)
        if self.freeze is None:
            self.freeze = f"B{header_row + 1}"
        for i, f in enumerate(block.figures):
            r = header_row + 1 + i
            ws.cell(r, 1, f.label).font = BOLD
            self._width(1, f.label)
            values = [
                (f.value, f.kind),
                (f.budget, f.kind),
                (f.vs_budget, f.delta_kind),
                (f.previous, f.kind),
                (f.vs_previous, f.delta_kind),
            ]
            for j, (v, kind) in enumerate(values, start=2):
                value = _value(v, kind)
                cell = ws.cell(r, j, value)
                if value is not None:
                    cell.number_format = number_format(kind, self.currency) or "General"
                    self._width(j, f"{value:,.0f}" + "    ")
            ws.cell(r, 7, f.note or None)
            self._width(7, f.note)
        self.row = header_row + len(block.figures) + 2

    def finish(self) -> None:
        for col, width in self.widths.items():
            self.ws.column_dimensions[get_column_letter(col)].width = width
        if self.freeze:
            self.ws.freeze_panes = self.freeze


def _cover(wb: Workbook, pack: BoardPack) -> None:
    ws = wb.active
    ws.title = "Cover"
    ws["A1"] = pack.company
    ws["A1"].font = Font(bold=True, size=16)
    ws["A2"] = f"Board pack · S&OP cycle {pack.cycle or '(none)'}"
    ws["A2"].font = HEADING
    rows = [
        ("Prepared", pack.created.strftime("%Y-%m-%d %H:%M")),
        ("Plan status", pack.status_line),
        ("Plan shown", pack.plan_label),
        ("Horizon", pack.horizon),
        ("Money in", pack.currency),
        ("Previous cycle", pack.previous_line),
    ]
    for i, (label, value) in enumerate(rows, start=4):
        ws.cell(i, 1, label).font = BOLD
        ws.cell(i, 2, value)
    r = 4 + len(rows) + 1
    for w in pack.warnings:
        ws.cell(r, 1, w).font = ACCENT
        r += 1
    ws.cell(r, 1, "Sheets").font = HEADING
    if pack.preread:
        r += 1
        ws.cell(r, 1, PAPER_SHEET)
        ws.cell(r, 2, " · ".join(s.title for s in pack.preread))
    for section in pack.appendix:
        r += 1
        ws.cell(r, 1, section.sheet_name)
        ws.cell(r, 2, section.title)
    ws.column_dimensions["A"].width = 22
    ws.column_dimensions["B"].width = 90


PAPER_SHEET = "Board paper"


def _section(sheet: _Sheet, section, pack: BoardPack) -> None:
    """A section's blocks down the sheet: sentences, commentary (text cells), figures, tables."""
    for k, block in enumerate(section.blocks):
        sheet.line(block.title, HEADING)
        for text in block.lines:
            sheet.line(text, NOTE)
        if k == 0 and section.commentary:
            sheet.line(f"Commentary · {section.commentary_by}", BOLD)
            for paragraph in section.commentary:
                sheet.line(paragraph)
        if block.figures:
            sheet.figures(block, pack)
        for table in block.workbook_tables:
            sheet.table(table)
        sheet.row += 1


def render_xlsx(pack: BoardPack, out: Path, *, progress: Progress | None = None) -> Path:
    """Write the pack as a workbook: a cover sheet, the board paper's sections on one sheet, then
    one sheet per appendix section (every table, every row, numbers as numbers)."""
    wb = Workbook()
    _cover(wb, pack)
    if pack.preread:
        step(progress, f"Writing sheet {PAPER_SHEET}", 0.35)
        sheet = _Sheet(wb.create_sheet(PAPER_SHEET), pack.currency)
        sheet.line(f"{PAPER_SHEET} · S&OP cycle {pack.cycle or '(none)'}", TITLE)
        sheet.row += 1
        for section in pack.preread:
            sheet.line(section.title, TITLE)
            _section(sheet, section, pack)
        sheet.freeze = None  # one long sheet of several tables: no pane to freeze
        sheet.finish()
    appendix = pack.appendix
    for k, section in enumerate(appendix):
        step(progress, f"Writing sheet {section.sheet_name}", 0.4 + 0.5 * k / len(appendix))
        sheet = _Sheet(wb.create_sheet(section.sheet_name), pack.currency)
        sheet.line(f"{section.title} · S&OP cycle {pack.cycle or '(none)'}", TITLE)
        sheet.row += 1
        _section(sheet, section, pack)
        sheet.finish()
    step(progress, "Saving the workbook", 0.95)
    neutralise_workbook(wb)  # names and notes are data: never a live formula (docs/SECURITY.md)
    wb.save(str(out))
    return Path(out)
