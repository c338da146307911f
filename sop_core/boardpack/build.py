"""Building a board pack file: the content of a cycle's plan, rendered by the format its name ends in."""

from __future__ import annotations

import os
from pathlib import Path

from sop_core.boardpack.content import pack_content
from sop_core.boardpack.model import FORMATS, BoardPack, Progress, step
from sop_core.boardpack.pdf import render_pdf
from sop_core.boardpack.pptx import render_pptx
from sop_core.boardpack.xlsx import render_xlsx
from sop_core.errors import SopError

__all__ = ["build_boardpack", "render_pack"]


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
    renderers = {".pdf": render_pdf, ".pptx": render_pptx, ".xlsx": render_xlsx}
    if suffix not in renderers:
        raise SopError(f"{out.name}: expected a file ending in .pdf, .pptx or .xlsx")
    # Written beside the target, then renamed over it: a build that is killed or fails leaves
    # the previous pack as it was (a rename within a folder is atomic).
    partial = out.with_name(f".{out.stem}.partial-{os.getpid()}{out.suffix}")
    try:
        renderers[suffix](pack, partial, progress=progress)
        os.replace(partial, out)
    finally:
        partial.unlink(missing_ok=True)
    step(progress, f"{out.name} written", 1.0)
    return out
