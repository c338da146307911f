"""The board pack's charts as PNG images, drawn offline by vl-convert from the app's own Altair charts."""

from __future__ import annotations

import struct

import altair as alt
import vl_convert as vlc

from sop_core.boardpack.model import BoardPack, Progress, step

__all__ = ["CHART_WIDTH", "CHART_HEIGHT", "chart_png", "chart_images", "png_size"]

CHART_WIDTH = 600  # px of plot before scaling: on A4 landscape 14 px labels print at about 11 pt
CHART_HEIGHT = 230


def chart_png(
    chart, *, width: int = CHART_WIDTH, height: int = CHART_HEIGHT, scale: float = 2.0
) -> bytes:
    """An app chart as PNG bytes, rendered offline by vl-convert at the pack's plot size."""
    sized = chart.properties(width=width, height=height)
    legend = getattr(sized, "config", None)
    legend = getattr(legend, "legend", None) if legend is not None else None
    if legend is not None and legend is not alt.Undefined:
        legend.labelLimit = 0  # whole plan and scenario names in the legend
    return vlc.vegalite_to_png(sized.to_json(), scale=scale)


def chart_images(
    pack: BoardPack,
    progress: Progress | None = None,
    start: float = 0.35,
    end: float = 0.8,
    only: tuple | None = None,
    **kwargs,
) -> dict[int, bytes]:
    """Every block's chart as PNG (or those of the blocks ``only``), keyed by ``id(block)``."""
    blocks = [b for s in pack.sections for b in s.blocks if b.chart is not None]
    if only is not None:
        blocks = [b for b in blocks if any(b is o for o in only)]
    size = tuple(sorted(kwargs.items()))
    out = {}
    for i, block in enumerate(blocks):
        step(
            progress,
            f"Drawing chart {i + 1} of {len(blocks)}: {block.title}",
            start + (end - start) * i / max(len(blocks), 1),
        )
        cached = pack.images.get((id(block), size))
        if cached is None:
            cached = pack.images[(id(block), size)] = chart_png(block.chart, **kwargs)
        out[id(block)] = cached
    return out


def png_size(data: bytes) -> tuple[int, int]:
    width, height = struct.unpack(">II", data[16:24])
    return width, height
