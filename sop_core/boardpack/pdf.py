"""The board pack as a PDF: A4 landscape, paginated, page numbers and the cycle in the footer (fpdf2)."""

from __future__ import annotations

import math
from io import BytesIO
from pathlib import Path

from fpdf import FPDF

from sop_core.boardpack.images import chart_images, png_size
from sop_core.boardpack.model import (
    MONEY,
    PCT,
    TEXT,
    Block,
    BoardPack,
    Progress,
    Section,
    Table,
    format_value,
    step,
)
from sop_core.views import charts

__all__ = ["render_pdf", "FONT_CANDIDATES", "APPENDIX_TITLE"]

APPENDIX_TITLE = "Appendix: the detail tables"

# Fonts that carry "£" and "−": Liberation Sans (Arial's metrics), else DejaVu Sans; failing
# both, the core Helvetica (latin-1: "£" yes, "−" no, so the text is transliterated).
FONT_CANDIDATES = (
    (
        "/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf",
        "/usr/share/fonts/truetype/liberation/LiberationSans-Bold.ttf",
    ),
    (
        "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
        "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf",
    ),
)
LATIN1 = str.maketrans(
    {"−": "-", "–": "-", "—": "-", "“": '"', "”": '"', "‘": "'", "’": "'", "…": "...", "→": "->"}
)

PAGE_W, PAGE_H = 297.0, 210.0
MARGIN = 14.0
TOP = 12.0
BOTTOM = 16.0  # the footer lives in here
WIDTH = PAGE_W - 2 * MARGIN
CHART_MAX_H = 96.0  # mm
PAPER_CHART_H = 68.0  # mm: a pre-read chart, leaving room for its table on the page
TITLE_PT, BLOCK_PT, BODY_PT, TABLE_PT, FOOTER_PT = 20, 14, 11, 9.5, 9
PAD = 1.4  # mm inside a table cell, left and right
INK = (34, 34, 34)
GREY = (100, 100, 100)
RULE = (190, 190, 190)
HEAD_FILL = (232, 236, 241)
ZEBRA = (247, 248, 250)
ACCENT = tuple(int(charts.SEVERITY_COLORS["high"][i : i + 2], 16) for i in (1, 3, 5))
LOCKED = (0, 114, 178)
DRAFT = (213, 94, 0)


class _PDF(FPDF):
    def __init__(self, pack: BoardPack):
        super().__init__(orientation="L", unit="mm", format="A4")
        self.pack = pack
        self.family, self.unicode = _fonts(self)
        self.replaced: set[str] = set()
        self.set_margins(MARGIN, TOP, MARGIN)
        self.set_auto_page_break(True, margin=BOTTOM)
        self.alias_nb_pages()
        self.set_title(f"{pack.company}: {pack.title}")
        self.set_author(pack.company)
        self.set_creator("S&OP cockpit")

    def t(self, text: str) -> str:
        """Text the font can draw: a character it has no glyph for becomes "?" and is
        remembered (:attr:`replaced`), so the pack can say which ones were replaced."""
        text = str(text)
        if self.unicode:
            cmap = self.fonts[self.family.lower()].cmap
            missing = {ch for ch in text if ord(ch) not in cmap and not ch.isspace()}
        else:
            text = text.translate(LATIN1)
            missing = {ch for ch in text if ord(ch) > 255}
        if not missing:
            return text
        self.replaced |= missing
        return "".join("?" if ch in missing else ch for ch in text)

    def font(self, size: float, bold: bool = False) -> None:
        self.set_font(self.family, "B" if bold else "", size)

    def footer(self) -> None:
        self.set_y(-11)
        self.font(FOOTER_PT)
        self.set_text_color(*GREY)
        self.set_draw_color(*RULE)
        self.line(MARGIN, self.get_y() - 1.5, PAGE_W - MARGIN, self.get_y() - 1.5)
        self.cell(WIDTH * 0.75, 5, self.t(self.pack.footer), align="L")
        self.cell(WIDTH * 0.25, 5, f"Page {self.page_no()} of {{nb}}", align="R")
        self.set_text_color(*INK)

    @property
    def room(self) -> float:
        """mm left on the page above the footer."""
        return PAGE_H - BOTTOM - self.get_y()


def _fonts(pdf: FPDF) -> tuple[str, bool]:
    for regular, bold in FONT_CANDIDATES:
        if Path(regular).exists() and Path(bold).exists():
            pdf.add_font("Sans", "", regular)
            pdf.add_font("Sans", "B", bold)
            return "Sans", True
    return "Helvetica", False


# --- pieces -------------------------------------------------------------------------------------


def _paragraph(pdf: _PDF, text: str, size: float = BODY_PT, *, bullet: bool = False) -> None:
    pdf.font(size)
    pdf.set_text_color(*INK)
    if bullet:
        pdf.set_x(MARGIN + 2)
        pdf.multi_cell(
            WIDTH - 2, size * 0.46, pdf.t("•  " + text), align="L", new_x="LMARGIN", new_y="NEXT"
        )
    else:
        pdf.multi_cell(WIDTH, size * 0.46, pdf.t(text), align="L", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(1.2)


def _text_height(pdf: _PDF, lines: tuple[str, ...], size: float = BODY_PT) -> float:
    pdf.font(size)
    total = 0.0
    for line in lines:
        rows = pdf.multi_cell(WIDTH, size * 0.46, pdf.t(line), dry_run=True, output="LINES")
        total += len(rows) * size * 0.46 + 1.2
    return total


def _block_title(pdf: _PDF, title: str) -> None:
    pdf.font(BLOCK_PT, bold=True)
    pdf.set_text_color(*INK)
    pdf.cell(WIDTH, 8, pdf.t(title), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(0.5)


def _section_title(pdf: _PDF, title: str, *, new_page: bool = True, level: int = 0) -> None:
    if new_page:
        pdf.add_page()
    pdf.start_section(pdf.t(title), level=level)
    pdf.font(TITLE_PT, bold=True)
    pdf.set_text_color(*INK)
    pdf.cell(WIDTH, 10, pdf.t(title), new_x="LMARGIN", new_y="NEXT")
    pdf.set_draw_color(*LOCKED)
    pdf.set_line_width(0.6)
    pdf.line(MARGIN, pdf.get_y() + 0.5, MARGIN + 40, pdf.get_y() + 0.5)
    pdf.set_line_width(0.2)
    pdf.ln(4)


def _chart(pdf: _PDF, png: bytes, alt: str, max_h: float = CHART_MAX_H) -> None:
    w_px, h_px = png_size(png)
    w = WIDTH
    h = w * h_px / w_px
    if h > max_h:
        h = max_h
        w = h * w_px / h_px
    if pdf.room < h + 2:
        pdf.add_page()
    x = MARGIN + (WIDTH - w) / 2
    pdf.image(BytesIO(png), x=x, y=pdf.get_y(), w=w, h=h, alt_text=pdf.t(alt))
    pdf.set_y(pdf.get_y() + h + 3)


def _chart_height(png: bytes, max_h: float = CHART_MAX_H) -> float:
    w_px, h_px = png_size(png)
    return min(WIDTH * h_px / w_px, max_h)


def _widths(
    pdf: _PDF, header: list[str], rows: list[list[str]], size: float, bold: int = 0
) -> list[float]:
    """Each column's natural width: its widest cell (the first ``bold`` columns set in bold)."""
    natural = []
    for j, head in enumerate(header):
        pdf.font(size, bold=True)
        w = pdf.get_string_width(pdf.t(head))
        pdf.font(size, bold=j < bold)
        for row in rows:
            w = max(w, pdf.get_string_width(pdf.t(row[j])))
        natural.append(w + 2 * PAD + 0.6)
    return natural


def _chunks(widths: list[float], keys: int) -> list[list[int]]:
    """Column indices per printed part, repeating the ``keys`` leading columns, each part ≤ WIDTH."""
    if sum(widths) <= WIDTH or keys == 0 or keys >= len(widths):
        return [list(range(len(widths)))]
    key_w = sum(widths[:keys])
    values = list(range(keys, len(widths)))
    space = WIDTH - key_w
    parts = max(1, math.ceil(sum(widths[keys:]) / space))
    while True:
        size = math.ceil(len(values) / parts)
        groups = [values[i : i + size] for i in range(0, len(values), size)]
        if all(sum(widths[j] for j in g) <= space for g in groups) or size == 1:
            return [list(range(keys)) + g for g in groups]
        parts += 1


def _fit(widths: list[float], kinds: list[str]) -> list[float]:
    """Fit the page width: cap the widest text columns (they wrap), then stretch wide tables."""
    widths = list(widths)
    if sum(widths) > WIDTH:
        text = [j for j, k in enumerate(kinds) if k == TEXT]
        room = WIDTH - sum(w for j, w in enumerate(widths) if j not in text)
        if text and room > 0:
            # water-filling: the largest cap c with sum(min(w, c)) <= room
            lo, hi = 0.0, max(widths[j] for j in text)
            for _ in range(40):
                cap = (lo + hi) / 2
                if sum(min(widths[j], cap) for j in text) <= room:
                    lo = cap
                else:
                    hi = cap
            for j in text:
                widths[j] = max(min(widths[j], lo), 14.0)
    total = sum(widths)
    if total > WIDTH * 0.6:
        widths = [w * WIDTH / total for w in widths]
    return widths


def _wrap(pdf: _PDF, text: str, width: float) -> list[str]:
    """Greedy word wrap to ``width`` mm in the current font; a word too long is cut."""
    if pdf.get_string_width(text) <= width:
        return [text]
    lines, line = [], ""
    for word in text.split(" "):
        while pdf.get_string_width(word) > width and len(word) > 1:
            # a long word (e.g. a lever name): cut it where it stops fitting
            cut = max(
                1,
                next(
                    (k for k in range(1, len(word) + 1) if pdf.get_string_width(word[:k]) > width),
                    len(word),
                )
                - 1,
            )
            if line:
                lines.append(line)
                line = ""
            lines.append(word[:cut])
            word = word[cut:]
        trial = f"{line} {word}" if line else word
        if pdf.get_string_width(trial) <= width or not line:
            line = trial
        else:
            lines.append(line)
            line = word
    lines.append(line)
    return lines


def _grid(
    pdf: _PDF,
    header: list[str],
    rows: list[list[str]],
    widths: list[float],
    aligns: list[str],
    style,
    size: float,
) -> None:
    """Draw a table row by row: header repeated on each page, zebra rows, wrapped text cells.

    ``style(i, j)`` gives (bold, colour or None) for body cell i, j.
    """
    line_h = size * 0.42
    pad_v = 1.1
    x0 = MARGIN
    total_w = sum(widths)

    def lines_of(cells: list[str], bold_flags: list[bool]) -> list[list[str]]:
        out = []
        for j, text in enumerate(cells):
            pdf.font(size, bold=bold_flags[j])
            out.append(_wrap(pdf, pdf.t(text), widths[j] - 2 * PAD))
        return out

    def draw_row(cells: list[list[str]], y: float, h: float, fmt: list[tuple[bool, tuple | None]]):
        x = x0
        for j, lines in enumerate(cells):
            bold, colour = fmt[j]
            pdf.font(size, bold=bold)
            pdf.set_text_color(*(colour or INK))
            for k, line in enumerate(lines):
                pdf.set_xy(x + PAD, y + pad_v + k * line_h)
                pdf.cell(widths[j] - 2 * PAD, line_h, line, align=aligns[j])
            x += widths[j]
        pdf.set_text_color(*INK)

    head_cells = lines_of(header, [True] * len(header))
    head_h = max(len(c) for c in head_cells) * line_h + 2 * pad_v
    body = []
    for i, cells in enumerate(rows):
        fmt = [style(i, j) for j in range(len(cells))]
        wrapped = lines_of(cells, [f[0] for f in fmt])
        body.append((wrapped, fmt, max(len(c) for c in wrapped) * line_h + 2 * pad_v))
    total_h = head_h + sum(b[2] for b in body)

    def draw_header() -> None:
        y = pdf.get_y()
        pdf.set_fill_color(*HEAD_FILL)
        pdf.rect(x0, y, total_w, head_h, style="F")
        draw_row(head_cells, y, head_h, [(True, INK)] * len(header))
        pdf.set_draw_color(*GREY)
        pdf.line(x0, y + head_h, x0 + total_w, y + head_h)
        pdf.set_y(y + head_h)

    # a table that fits on one page is not split; a longer one starts with a few rows at least
    fits_a_page = total_h <= PAGE_H - TOP - BOTTOM - 12
    if (fits_a_page and pdf.room < total_h) or pdf.room < head_h + 3 * (line_h + 2 * pad_v):
        pdf.add_page()
    draw_header()
    for i, (wrapped, fmt, h) in enumerate(body):
        if pdf.room < h:
            pdf.add_page()
            draw_header()
        y = pdf.get_y()
        if i % 2 == 0:
            pdf.set_fill_color(*ZEBRA)
            pdf.rect(x0, y, total_w, h, style="F")
        draw_row(wrapped, y, h, fmt)
        pdf.set_draw_color(*RULE)
        pdf.line(x0, y + h, x0 + total_w, y + h)
        pdf.set_y(y + h)
    pdf.set_x(MARGIN)


def _table(pdf: _PDF, table: Table, currency: str, size: float = TABLE_PT) -> None:
    shown = table.shown
    columns = list(shown.columns)
    header = [str(c) for c in columns]
    rows = table.text(currency)
    kinds = [table.kinds[c] for c in columns]
    first_bold = table.key_columns > 0
    natural = _widths(pdf, header, rows, size, bold=max(table.key_columns, int(first_bold)))

    for part_no, part in enumerate(_chunks(natural, table.key_columns)):
        widths = _fit([natural[j] for j in part], [kinds[j] for j in part])
        if part_no:
            pdf.ln(2.5)

        def style(i: int, jj: int, part=part) -> tuple[bool, tuple | None]:
            j = part[jj]
            if table.emphasised(i, columns[j]):
                return True, ACCENT
            return (j < table.key_columns or (j == 0 and first_bold)), None

        _grid(
            pdf,
            [header[j] for j in part],
            [[r[j] for j in part] for r in rows],
            widths,
            ["L" if kinds[j] == TEXT else "R" for j in part],
            style,
            size,
        )
    if table.hidden_rows:
        pdf.ln(1)
        pdf.font(FOOTER_PT)
        pdf.set_text_color(*GREY)
        pdf.cell(
            WIDTH,
            5,
            pdf.t(f"{len(shown)} of {len(table.frame)} rows shown; the Excel pack has every row."),
            new_x="LMARGIN",
            new_y="NEXT",
        )
        pdf.set_text_color(*INK)
    pdf.ln(3)


def _figures(pdf: _PDF, block: Block, pack: BoardPack) -> None:
    cur = pack.currency
    prev = f"Previous ({pack.previous_cycle})" if pack.previous_cycle else "Previous cycle"
    header = ["Figure", "Plan", "Budget", "vs budget", prev, "vs previous", "Note"]
    rows = []
    for f in block.figures:
        rows.append(
            [
                f.label,
                format_value(f.value, f.kind, cur),
                format_value(f.budget, f.kind, cur),
                format_value(f.vs_budget, f.delta_kind, cur),
                format_value(f.previous, f.kind, cur),
                format_value(f.vs_previous, f.delta_kind, cur),
                f.note,
            ]
        )
    kinds = [TEXT, MONEY, MONEY, MONEY, MONEY, MONEY, TEXT]
    widths = _fit(_widths(pdf, header, rows, BODY_PT, bold=2), kinds)

    def style(i: int, j: int) -> tuple[bool, tuple | None]:
        f = block.figures[i]
        delta = f.vs_budget if j == 3 else f.vs_previous if j == 5 else None
        if delta is not None and delta < 0 and f.kind in (MONEY, PCT):
            return False, ACCENT
        return j in (0, 1), None

    _grid(pdf, header, rows, widths, ["L", "R", "R", "R", "R", "R", "L"], style, BODY_PT)
    pdf.ln(3)


def _commentary(pdf: _PDF, section: Section) -> None:
    """The section's commentary beneath its generated text: plain text, who wrote it and when."""
    if not section.commentary:
        return
    pdf.ln(1)
    pdf.font(FOOTER_PT, bold=True)
    pdf.set_text_color(*LOCKED)
    pdf.cell(
        WIDTH, 5, pdf.t(f"Commentary · {section.commentary_by}"), new_x="LMARGIN", new_y="NEXT"
    )
    pdf.set_text_color(*INK)
    top = pdf.get_y()
    for paragraph in section.commentary:
        pdf.font(BODY_PT)
        pdf.set_x(MARGIN + 3)
        pdf.multi_cell(
            WIDTH - 3, BODY_PT * 0.46, pdf.t(paragraph), align="L", new_x="LMARGIN", new_y="NEXT"
        )
        pdf.ln(1)
    pdf.set_draw_color(*LOCKED)
    pdf.set_line_width(0.6)
    pdf.line(MARGIN + 0.5, top, MARGIN + 0.5, pdf.get_y() - 1)
    pdf.set_line_width(0.2)
    pdf.ln(2)


def _block(
    pdf: _PDF,
    block: Block,
    pack: BoardPack,
    images: dict[int, bytes],
    section: Section | None = None,
) -> None:
    png = images.get(id(block))
    lines = block.lines
    # a pre-read page holds its chart and the table under it
    max_h = PAPER_CHART_H if block.series is not None else CHART_MAX_H
    need = 10 + _text_height(pdf, lines)
    if section is not None and section.commentary:
        need += 8 + _text_height(pdf, section.commentary)
    if png is not None:
        need += _chart_height(png, max_h)
    elif block.table is not None:
        # a table that fits a page stays with its title; a longer one starts under it
        row_h = TABLE_PT * 0.42 + 2.2
        rows = len(block.table.shown) + 1
        table_h = rows * row_h
        need += table_h if table_h + need <= PAGE_H - TOP - BOTTOM - 12 else 4 * row_h
    elif block.figures:
        need += 8 * (len(block.figures) + 1)
    if pdf.room < need and pdf.get_y() > TOP + 25:
        pdf.add_page()
    _block_title(pdf, block.title)
    for line in lines:
        _paragraph(pdf, line)
    if section is not None:
        _commentary(pdf, section)
    if block.figures:
        pdf.ln(1)
        _figures(pdf, block, pack)
    if png is not None:
        _chart(pdf, png, block.chart_alt or block.title, max_h)
    if block.table is not None:
        _table(pdf, block.table, pack.currency)
    pdf.ln(3)


def _cover(pdf: _PDF, pack: BoardPack) -> None:
    pdf.add_page()
    pdf.set_fill_color(*LOCKED)
    pdf.rect(0, 0, PAGE_W, 7, style="F")
    pdf.set_y(26)
    pdf.font(28, bold=True)
    pdf.cell(WIDTH, 13, pdf.t(pack.company), new_x="LMARGIN", new_y="NEXT")
    pdf.font(20)
    pdf.cell(
        WIDTH,
        11,
        pdf.t(f"Board pack · S&OP cycle {pack.cycle or '(none)'}"),
        new_x="LMARGIN",
        new_y="NEXT",
    )
    pdf.font(13)
    pdf.set_text_color(*GREY)
    made = pack.created
    pdf.cell(
        WIDTH,
        8,
        pdf.t(f"Prepared {made.day} {made.strftime('%B %Y, %H:%M')}"),
        new_x="LMARGIN",
        new_y="NEXT",
    )
    pdf.set_text_color(*INK)
    pdf.ln(6)
    colour = LOCKED if pack.status == "locked" else DRAFT
    pdf.set_fill_color(*colour)
    pdf.set_text_color(255, 255, 255)
    pdf.font(13, bold=True)
    tag = "LOCKED" if pack.status == "locked" else "DRAFT"
    pdf.cell(28, 9, tag, align="C", fill=True)
    pdf.set_text_color(*INK)
    pdf.font(13)
    pdf.cell(WIDTH - 28, 9, pdf.t("  " + pack.status_line), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    rows = [
        ("Plan shown", pack.plan_label),
        ("Horizon", pack.horizon),
        ("Money in", pack.currency),
        ("Previous cycle", pack.previous_line),
    ]
    for label, value in rows:
        pdf.font(BODY_PT + 1, bold=True)
        pdf.cell(38, 7, pdf.t(label))
        pdf.font(BODY_PT + 1)
        pdf.multi_cell(WIDTH - 38, 7, pdf.t(value), new_x="LMARGIN", new_y="NEXT")
    for w in pack.warnings:
        pdf.set_text_color(*ACCENT)
        _paragraph(pdf, w)
        pdf.set_text_color(*INK)
    pdf.ln(6)
    pdf.font(BLOCK_PT, bold=True)
    pdf.cell(WIDTH, 8, "Contents", new_x="LMARGIN", new_y="NEXT")
    pdf.insert_toc_placeholder(_contents, pages=1)


def _contents(pdf: _PDF, outline) -> None:
    """The pre-read's sections on the left, the appendix's on the right, each with its page."""
    top = pdf.get_y()
    column = WIDTH / 2 - 4
    for level, x in ((0, MARGIN), (1, MARGIN + WIDTH / 2)):
        pdf.set_y(top)
        for entry in outline:
            if entry.level != level:
                continue
            appendix = level == 0 and entry.name.startswith("Appendix")
            pdf.set_x(x)
            pdf.set_text_color(*(GREY if appendix else INK))
            pdf.font(BODY_PT, bold=appendix)
            link = pdf.add_link(page=entry.page_number)
            pdf.cell(column - 14, 6, entry.name, link=link)
            pdf.cell(
                14, 6, str(entry.page_number), align="R", link=link, new_x="LMARGIN", new_y="NEXT"
            )
    pdf.set_text_color(*INK)


def _appendix(pdf: _PDF, pack: BoardPack, preread_pages: int) -> None:
    """The appendix's first page: what it holds and where the pre-read ends."""
    _section_title(pdf, APPENDIX_TITLE)
    _paragraph(
        pdf,
        f"The pre-read ends on page {preread_pages}. What follows are the detail tables behind it, "
        "section by section; the Excel workbook holds every table with every row, as numbers.",
    )


def render_pdf(pack: BoardPack, out: Path, *, progress: Progress | None = None) -> Path:
    """Write the pack as an A4 landscape PDF."""
    images = chart_images(pack, progress)
    step(progress, "Laying out the PDF", 0.82)
    pdf = _PDF(pack)
    _cover(pdf, pack)
    for i, section in enumerate(pack.preread):
        # the contents placeholder has already opened the first section's page
        _section_title(pdf, section.title, new_page=i > 0)
        for k, block in enumerate(section.blocks):
            _block(pdf, block, pack, images, section if k == 0 else None)
    if pack.appendix:
        _appendix(pdf, pack, pdf.page_no())
        for section in pack.appendix:
            _section_title(pdf, section.title, level=1)
            for block in section.blocks:
                _block(pdf, block, pack, images)
    if pdf.replaced:
        _replaced_note(pdf)
    step(progress, "Writing the PDF", 0.95)
    pdf.output(str(out))
    return Path(out)


def _replaced_note(pdf: _PDF) -> None:
    """Say which characters the PDF's font could not show (by code point: it cannot draw them)."""
    shown = sorted(pdf.replaced)
    points = ", ".join(f"U+{ord(ch):04X}" for ch in shown[:40])
    more = f" and {len(shown) - 40} more" if len(shown) > 40 else ""
    pdf.ln(4)
    pdf.set_text_color(*GREY)
    _paragraph(
        pdf,
        'Characters this PDF\'s font has no glyph for were printed as "?": '
        f"{points}{more}. "
        "The PowerPoint and Excel packs show them as written.",
        size=FOOTER_PT,
    )
    pdf.set_text_color(*INK)
