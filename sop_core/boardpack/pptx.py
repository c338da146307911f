"""The board paper as a PowerPoint deck: 16:9, the pre-read only, one topic a slide, real tables,
native charts holding the plan's series (a finance lead can restyle them)."""

from __future__ import annotations

import math
from io import BytesIO
from pathlib import Path

from pptx import Presentation
from pptx.chart.data import CategoryChartData
from pptx.dml.color import RGBColor
from pptx.enum.chart import XL_CHART_TYPE, XL_LEGEND_POSITION
from pptx.enum.dml import MSO_LINE_DASH_STYLE
from pptx.enum.text import MSO_ANCHOR, PP_ALIGN
from pptx.util import Emu, Inches, Pt

from sop_core.boardpack.images import chart_images, png_size
from sop_core.boardpack.model import (
    MONEY,
    PCT,
    TEXT,
    Block,
    BoardPack,
    Progress,
    Section,
    Series,
    Table,
    format_value,
    step,
)
from sop_core.fmt import currency_symbol
from sop_core.views import charts

__all__ = ["render_pptx", "native_chart"]

SLIDE_W, SLIDE_H = Inches(13.333), Inches(7.5)
LEFT = Inches(0.5)
WIDTH = SLIDE_W - 2 * LEFT
TITLE_TOP, TITLE_H = Inches(0.3), Inches(0.8)
BODY_TOP = Inches(1.15)
FOOTER_TOP = SLIDE_H - Inches(0.42)
BODY_BOTTOM = FOOTER_TOP - Inches(0.1)
ROW_H = Inches(0.3)
TABLE_PT, BODY_PT, TITLE_PT, FOOTER_PT = 11, 14, 26, 10
TITLE_CHARS = 52  # a bold 26 pt line across the slide holds about this many characters
MAX_VALUE_COLUMNS = 10  # month columns per table part: 18 months go in two parts
INK = RGBColor(0x22, 0x22, 0x22)
GREY = RGBColor(0x66, 0x66, 0x66)
BLUE = RGBColor(0x00, 0x72, 0xB2)
ACCENT = RGBColor.from_string(charts.SEVERITY_COLORS["high"].lstrip("#"))
DRAFT = RGBColor(0xD5, 0x5E, 0x00)
HEAD_FILL = RGBColor(0xE8, 0xEC, 0xF1)
ZEBRA = RGBColor(0xF7, 0xF8, 0xFA)
WHITE = RGBColor(0xFF, 0xFF, 0xFF)


def title_size(title: str) -> int:
    """The title's font size: 26 pt, or 22 pt for a title too long to hold one line at 26."""
    return TITLE_PT if len(title) <= TITLE_CHARS else TITLE_PT - 4


class _Deck:
    def __init__(self, pack: BoardPack):
        self.pack = pack
        self.prs = Presentation()
        self.prs.slide_width, self.prs.slide_height = SLIDE_W, SLIDE_H
        self.layout = self.prs.slide_layouts[5]  # Title Only: a real title for each slide

    def slide(self, title: str):
        slide = self.prs.slides.add_slide(self.layout)
        shape = slide.shapes.title
        shape.left, shape.top, shape.width, shape.height = LEFT, TITLE_TOP, WIDTH, TITLE_H
        shape.text = title
        frame = shape.text_frame
        frame.vertical_anchor = MSO_ANCHOR.MIDDLE
        for p in frame.paragraphs:
            p.alignment = PP_ALIGN.LEFT
            for run in p.runs:
                run.font.size = Pt(title_size(title))
                run.font.bold = True
                run.font.color.rgb = INK
        self._footer(slide)
        return slide

    def _footer(self, slide) -> None:
        number = len(self.prs.slides)
        box = slide.shapes.add_textbox(LEFT, FOOTER_TOP, WIDTH, Inches(0.32))
        p = box.text_frame.paragraphs[0]
        run = p.add_run()
        run.text = f"{self.pack.footer}    ·    {number}"
        run.font.size = Pt(FOOTER_PT)
        run.font.color.rgb = GREY


def _text(slide, lines, top, *, size=BODY_PT, bullets=False, height=None, colour=INK) -> Emu:
    """Paragraphs in a text box from ``top``; returns the y below it (an estimate of its height)."""
    lines = [line for line in lines if line]
    if not lines:
        return top
    # characters a line holds across the slide: an average glyph is about half the font size wide
    per_line = int(WIDTH / Pt(size * 0.52))
    n_lines = sum(max(1, math.ceil(len(line) / per_line)) for line in lines)
    est = Emu(int(n_lines * Pt(size) * 1.35 + Inches(0.15)))
    box = slide.shapes.add_textbox(LEFT, top, WIDTH, height or est)
    frame = box.text_frame
    frame.word_wrap = True
    for i, line in enumerate(lines):
        p = frame.paragraphs[0] if i == 0 else frame.add_paragraph()
        run = p.add_run()
        run.text = ("•  " if bullets else "") + line
        run.font.size = Pt(size)
        run.font.color.rgb = colour
        if bullets:
            p.space_after = Pt(8)
    return top + (height or est)


def _picture(slide, png: bytes, top: Emu) -> None:

    w_px, h_px = png_size(png)
    room = BODY_BOTTOM - top
    width = WIDTH
    height = int(width * h_px / w_px)
    if height > room:
        height = room
        width = int(height * w_px / h_px)
    left = LEFT + (WIDTH - width) // 2
    slide.shapes.add_picture(BytesIO(png), left, top, width=width, height=height)


def _chars(text: str) -> int:
    return max(3, len(text))


def _parts(table: Table, columns: list[str]) -> list[list[int]]:
    keys = table.key_columns
    if keys == 0 or len(columns) - keys <= MAX_VALUE_COLUMNS:
        return [list(range(len(columns)))]
    values = list(range(keys, len(columns)))
    n = math.ceil(len(values) / MAX_VALUE_COLUMNS)
    size = math.ceil(len(values) / n)
    return [list(range(keys)) + values[i : i + size] for i in range(0, len(values), size)]


def _style_cell(
    cell, text: str, *, size: int, bold=False, colour=INK, align=PP_ALIGN.LEFT, fill=None
):
    cell.text = text
    cell.margin_left = cell.margin_right = Inches(0.05)
    cell.margin_top = cell.margin_bottom = Inches(0.02)
    cell.vertical_anchor = MSO_ANCHOR.MIDDLE
    if fill is None:
        cell.fill.background()
    else:
        cell.fill.solid()
        cell.fill.fore_color.rgb = fill
    for p in cell.text_frame.paragraphs:
        p.alignment = align
        for run in p.runs:
            run.font.size = Pt(size)
            run.font.bold = bold
            run.font.color.rgb = colour


# An average glyph is about 0.55 of the font size wide; 0.68 leaves room for bold headers and
# for wider fonts than the deck's Calibri where a viewer substitutes one.
GLYPH_EM, CELL_MARGIN = 0.68, 2 * Inches(0.05) + Inches(0.04)


def column_widths(header: list[str], rows: list[list[str]], width: int, size: int) -> list[int]:
    """Column widths (EMU) adding up to ``width``: shares by each column's longest text, but never
    narrower than its longest word (a month, "Severity", "Operations"), which would otherwise
    break in the middle of the word."""
    n_cols = len(header)
    natural = _natural(header, rows)
    words = [
        max(len(w) for text in [header[j], *(r[j] for r in rows)] for w in (text.split() or [""]))
        for j in range(n_cols)
    ]
    glyph = Pt(size) * GLYPH_EM
    floor = [int(w * glyph + CELL_MARGIN) for w in words]
    total = sum(natural)
    shares = [int(width * n / total) for n in natural]
    if all(s >= f for s, f in zip(shares, floor, strict=True)) or sum(floor) >= width:
        return _fill(shares, width)
    # every column gets its floor; what is left goes by how much more each would like
    want = [max(s - f, 0) for s, f in zip(shares, floor, strict=True)]
    spare = width - sum(floor)
    extra = [int(spare * w / sum(want)) if sum(want) else spare // n_cols for w in want]
    return _fill([f + e for f, e in zip(floor, extra, strict=True)], width)


def _natural(header: list[str], rows: list[list[str]]) -> list[int]:
    """Each column's natural width in characters: its longest text, plus two."""
    return [max([_chars(header[j])] + [_chars(r[j]) for r in rows]) + 2 for j in range(len(header))]


def _fill(widths: list[int], width: int) -> list[int]:
    """The rounding remainder to the widest column, so the widths add up exactly."""
    out = list(widths)
    out[out.index(max(out))] += width - sum(out)
    return out


def _add_table(slide, header, rows, aligns, styles, top, size=TABLE_PT):
    """A real (editable) table; column widths from the text of each column (``column_widths``)."""
    n_rows, n_cols = len(rows) + 1, len(header)
    total = sum(_natural(header, rows))
    width = WIDTH if total > 60 else int(WIDTH * max(total / 60, 0.45))
    height = ROW_H * n_rows
    shape = slide.shapes.add_table(n_rows, n_cols, LEFT, top, width, height)
    table = shape.table
    table.first_row = True
    table.horz_banding = False
    widths = column_widths(header, rows, width, size)
    for j, w in enumerate(widths):
        table.columns[j].width = w
    for i in range(n_rows):
        table.rows[i].height = ROW_H
    for j, text in enumerate(header):
        _style_cell(table.cell(0, j), text, size=size, bold=True, align=aligns[j], fill=HEAD_FILL)
    for i, row in enumerate(rows):
        for j, text in enumerate(row):
            bold, colour = styles(i, j)
            _style_cell(
                table.cell(i + 1, j),
                text,
                size=size,
                bold=bold,
                colour=colour or INK,
                align=aligns[j],
                fill=ZEBRA if i % 2 == 0 else WHITE,
            )
    return top + height


def _table_slides(
    deck: _Deck, title: str, lines, table: Table, currency: str, section: Section | None = None
) -> None:
    """The table on as few slides as fit: wide tables in column parts, long ones in row pages;
    ``section``'s commentary beneath the text when given."""
    shown = table.shown
    columns = list(shown.columns)
    text = table.text(currency)
    kinds = [table.kinds[c] for c in columns]
    first_bold = table.key_columns > 0
    slide = deck.slide(title)
    top = _text(slide, lines, BODY_TOP, size=13)
    if section is not None:
        top = _commentary(slide, section, top)
    if table.hidden_rows:
        top = _text(
            slide,
            [f"{len(shown)} of {len(table.frame)} rows shown; the Excel pack has every row."],
            top,
            size=11,
            colour=GREY,
        )
    for part in _parts(table, columns):
        start = 0
        while start < len(text) or start == 0:
            room_rows = int((BODY_BOTTOM - top) / ROW_H) - 1
            if room_rows < 3:
                slide = deck.slide(f"{title} (continued)")
                top = BODY_TOP
                room_rows = int((BODY_BOTTOM - top) / ROW_H) - 1
            chunk = text[start : start + room_rows]

            def style(i, jj, part=part, start=start):
                j = part[jj]
                if table.emphasised(start + i, columns[j]):
                    return True, ACCENT
                return (j < table.key_columns or (j == 0 and first_bold)), None

            top = _add_table(
                slide,
                [str(columns[j]) for j in part],
                [[r[j] for j in part] for r in chunk],
                [PP_ALIGN.LEFT if kinds[j] == TEXT else PP_ALIGN.RIGHT for j in part],
                style,
                top,
            )
            top += Inches(0.2)
            start += len(chunk)
            if not chunk:
                break


def _figures_slide(deck: _Deck, title: str, block: Block) -> None:
    pack, cur = deck.pack, deck.pack.currency
    slide = deck.slide(title)
    top = _text(slide, block.lines, BODY_TOP)
    prev = f"Previous ({pack.previous_cycle})" if pack.previous_cycle else "Previous cycle"
    header = ["Figure", "Plan", "Budget", "vs budget", prev, "vs previous", "Note"]
    rows = [
        [
            f.label,
            format_value(f.value, f.kind, cur),
            format_value(f.budget, f.kind, cur),
            format_value(f.vs_budget, f.delta_kind, cur),
            format_value(f.previous, f.kind, cur),
            format_value(f.vs_previous, f.delta_kind, cur),
            f.note,
        ]
        for f in block.figures
    ]

    def style(i, j):
        f = block.figures[i]
        delta = f.vs_budget if j == 3 else f.vs_previous if j == 5 else None
        if delta is not None and delta < 0 and f.kind in (MONEY, PCT):
            return False, ACCENT
        return j in (0, 1), None

    aligns = [PP_ALIGN.LEFT] + [PP_ALIGN.RIGHT] * 5 + [PP_ALIGN.LEFT]
    _add_table(slide, header, rows, aligns, style, top + Inches(0.05), size=13)


def _cover(deck: _Deck) -> None:
    pack = deck.pack
    slide = deck.slide(pack.company)
    title = slide.shapes.title
    title.top, title.height = Inches(1.0), Inches(1.0)
    for run in title.text_frame.paragraphs[0].runs:
        run.font.size = Pt(40)
    made = pack.created
    top = _text(
        slide,
        [f"Board pack · S&OP cycle {pack.cycle or '(none)'}"],
        Inches(2.0),
        size=28,
    )
    top = _text(
        slide, [f"Prepared {made.day} {made.strftime('%B %Y, %H:%M')}"], top, size=16, colour=GREY
    )
    tag = slide.shapes.add_textbox(LEFT, top + Inches(0.2), Inches(1.4), Inches(0.45))
    tag.fill.solid()
    tag.fill.fore_color.rgb = BLUE if pack.status == "locked" else DRAFT
    p = tag.text_frame.paragraphs[0]
    p.alignment = PP_ALIGN.CENTER
    run = p.add_run()
    run.text = "LOCKED" if pack.status == "locked" else "DRAFT"
    run.font.size, run.font.bold, run.font.color.rgb = Pt(16), True, WHITE
    box = slide.shapes.add_textbox(
        LEFT + Inches(1.6), top + Inches(0.2), WIDTH - Inches(1.6), Inches(0.45)
    )
    run = box.text_frame.paragraphs[0].add_run()
    run.text = pack.status_line
    run.font.size = Pt(16)
    top += Inches(0.9)
    lines = [
        f"Plan shown: {pack.plan_label}",
        f"Horizon: {pack.horizon} · money in {pack.currency}",
        pack.previous_line,
        *pack.warnings,
        "Contents: " + " · ".join(s.title for s in pack.preread),
        "The appendix of detail tables is in the PDF; the Excel workbook holds every table.",
    ]
    _text(slide, lines, top, size=16)


CHART_COLOURS = ("0072B2", "E69F00", "009E73", "444444", "CC79A7", "56B4E9", "D55E00")


def native_chart(slide, series: Series, left, top, width, height, currency: str):
    """A native chart of ``series`` (python-pptx chart object, its data in the embedded sheet)."""
    data = CategoryChartData()
    data.categories = list(series.categories)
    for name, values in series.series:
        data.add_series(name, [float(v) for v in values])
    kind = XL_CHART_TYPE.LINE if series.kind == "line" else XL_CHART_TYPE.COLUMN_CLUSTERED
    chart = slide.shapes.add_chart(kind, left, top, width, height, data).chart
    chart.font.size = Pt(11)
    chart.has_title = bool(series.title)
    if series.title:
        chart.chart_title.text_frame.text = series.title
        for p in chart.chart_title.text_frame.paragraphs:
            for run in p.runs:
                run.font.size, run.font.bold = Pt(13), True
    chart.has_legend = len(series.series) > 1
    if chart.has_legend:
        chart.legend.position = XL_LEGEND_POSITION.BOTTOM
        chart.legend.include_in_layout = False
    sym = currency_symbol(currency).replace('"', "")
    if series.value_kind in (MONEY,):
        labels = chart.value_axis.tick_labels
        labels.number_format = f'"{sym}"#,##0.0,,"m"'
        labels.number_format_is_linked = False
    for k, s in enumerate(chart.plots[0].series):
        name = series.series[k][0]
        colour = RGBColor.from_string(CHART_COLOURS[k % len(CHART_COLOURS)])
        if series.kind == "line":
            s.smooth = False
            s.format.line.width = Pt(2.25)
            s.format.line.color.rgb = ACCENT if name == "Minimum cash" else colour
            if name in series.dashed:
                s.format.line.dash_style = MSO_LINE_DASH_STYLE.DASH
        else:
            s.format.fill.solid()
            s.format.fill.fore_color.rgb = colour
    return chart


def _commentary(slide, section: Section, top: Emu, size: int = 12) -> Emu:
    """The section's commentary beneath the generated text, as plain text with its byline."""
    if not section.commentary:
        return top
    top = _text(slide, [f"Commentary · {section.commentary_by}"], top, size=size - 1, colour=BLUE)
    return _text(slide, list(section.commentary), top - Inches(0.1), size=size)


def _text_slide(deck: _Deck, section: Section) -> None:
    """A section of sentences only (the plan in brief): every block on one slide, titles bold."""
    slide = deck.slide(section.title)
    lines = sum((len(b.lines) + 1 for b in section.blocks), 0) + len(section.commentary)
    size = 14 if lines <= 12 else 12
    box = slide.shapes.add_textbox(LEFT, BODY_TOP, WIDTH, BODY_BOTTOM - BODY_TOP)
    frame = box.text_frame
    frame.word_wrap = True
    first = True
    for k, block in enumerate(section.blocks):
        rows = [(block.title, True, INK)] + [(line, False, INK) for line in block.lines]
        if k == 0 and section.commentary:
            rows.append((f"Commentary · {section.commentary_by}", True, BLUE))
            rows += [(p, False, INK) for p in section.commentary]
        for text, bold, colour in rows:
            p = frame.paragraphs[0] if first else frame.add_paragraph()
            first = False
            run = p.add_run()
            run.text = text
            run.font.size = Pt(size + 1 if bold and colour == INK else size)
            run.font.bold = bold
            run.font.color.rgb = colour
            p.space_before = Pt(8 if bold and colour == INK else 0)
            p.space_after = Pt(3)


def _block_slide(deck: _Deck, section: Section, block: Block, first: bool, images) -> None:
    pack = deck.pack
    title = (
        section.title
        if len(section.blocks) == 1 or block.title.lower().startswith(section.title.lower())
        else f"{section.title} · {block.title}"
    )
    if block.figures:
        _figures_slide(deck, title, block)
        return
    lines = list(block.lines)
    if block.table is not None and block.series is None and block.chart is None:
        _table_slides(deck, title, lines, block.table, pack.currency, section if first else None)
        return
    slide = deck.slide(title)
    top = _text(slide, lines, BODY_TOP, size=13)
    if first:
        top = _commentary(slide, section, top)
    room = BODY_BOTTOM - top - Inches(0.05)
    if block.series is not None:
        table_h = ROW_H * (len(block.table.shown) + 1) if block.table is not None else 0
        if block.table is not None and len(block.table.shown) <= 6 and room - table_h > Inches(2.5):
            # the chart and its short table under it: one slide for the topic
            chart_h = room - table_h - Inches(0.1)
            native_chart(slide, block.series, LEFT, top, WIDTH, chart_h, pack.currency)
            _side_table(slide, block.table, pack.currency, LEFT, top + chart_h + Inches(0.1))
        else:
            native_chart(slide, block.series, LEFT, top, WIDTH, room, pack.currency)
            if block.table is not None:
                _table_slides(deck, f"{title} (figures)", (), block.table, pack.currency)
    elif images.get(id(block)) is not None:
        _picture(slide, images[id(block)], top + Inches(0.05))
        if block.table is not None:
            _table_slides(deck, f"{title} (figures)", (), block.table, pack.currency)


def _side_table(slide, table: Table, currency: str, left: Emu, top: Emu) -> None:
    """A short table beneath a chart, across the slide."""
    shown = table.shown
    columns = list(shown.columns)
    text = table.text(currency)
    kinds = [table.kinds[c] for c in columns]
    width = WIDTH
    n_rows = len(text) + 1
    shape = slide.shapes.add_table(n_rows, len(columns), left, top, width, ROW_H * n_rows)
    grid = shape.table
    for j, w in enumerate(column_widths([str(c) for c in columns], text, width, TABLE_PT)):
        grid.columns[j].width = w
    for i in range(n_rows):
        grid.rows[i].height = ROW_H
    aligns = [PP_ALIGN.LEFT if k == TEXT else PP_ALIGN.RIGHT for k in kinds]
    for j, c in enumerate(columns):
        _style_cell(
            grid.cell(0, j), str(c), size=TABLE_PT, bold=True, align=aligns[j], fill=HEAD_FILL
        )
    for i, row in enumerate(text):
        for j, value in enumerate(row):
            _style_cell(
                grid.cell(i + 1, j),
                value,
                size=TABLE_PT,
                bold=j == 0,
                align=aligns[j],
                fill=ZEBRA if i % 2 == 0 else WHITE,
            )


def render_pptx(pack: BoardPack, out: Path, *, progress: Progress | None = None) -> Path:
    """Write the board paper's pre-read as a 16:9 deck: a cover, then a slide (or a few) per
    section; charts are native chart objects. The appendix lives in the PDF and the workbook."""
    # a chart without native data (none in the pre-read today) falls back to its picture
    pictures = tuple(
        b for s in pack.preread for b in s.blocks if b.chart is not None and b.series is None
    )
    images = chart_images(pack, progress, only=pictures) if pictures else {}
    step(progress, "Making the slides", 0.85)
    deck = _Deck(pack)
    _cover(deck)
    for section in pack.preread:
        plain = all(
            b.table is None and not b.figures and b.chart is None and b.series is None
            for b in section.blocks
        )
        if plain:
            _text_slide(deck, section)
            continue
        for k, block in enumerate(section.blocks):
            _block_slide(deck, section, block, k == 0, images)
    step(progress, "Writing the deck", 0.95)
    deck.prs.save(str(out))
    return Path(out)
