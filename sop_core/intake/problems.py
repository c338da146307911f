"""Import problems, collected per file: at most a bounded number listed, the rest counted; cell values shown safely."""

from __future__ import annotations

import difflib
from collections.abc import Iterable

__all__ = ["MAX_PROBLEMS_PER_FILE", "FATAL", "Problems", "show", "suggest", "size", "bound"]

# Problems listed per file; the rest are counted, so a broken 1-million-row file stays cheap.
MAX_PROBLEMS_PER_FILE = 200


# Sort key of a problem that stops a file being read: listed before that file's row problems.
FATAL = -1


# --- problems -----------------------------------------------------------------------------
class Problems:
    """Problems grouped by origin: at most MAX_PROBLEMS_PER_FILE listed per origin, the rest counted."""

    def __init__(self) -> None:
        self._kept: dict[str, list[tuple[int, str]]] = {}
        self._unlisted: dict[str, int] = {}

    def __bool__(self) -> bool:
        return bool(self._kept) or bool(self._unlisted)

    def room(self, origin: str) -> int:
        return MAX_PROBLEMS_PER_FILE - len(self._kept.get(origin, ()))

    def add(self, origin: str, text: str, row: int = 0) -> None:
        if self.room(origin) > 0:
            self._kept.setdefault(origin, []).append((row, text))
        else:
            self.unlisted(origin, 1)

    def unlisted(self, origin: str, count: int) -> None:
        if count > 0:
            self._kept.setdefault(origin, [])
            self._unlisted[origin] = self._unlisted.get(origin, 0) + count

    def rows(self, origin: str, column: str) -> set[int]:
        """The rows of ``origin`` with a listed problem in ``column``."""
        tag = f", column {column}:"
        return {row for row, text in self._kept.get(origin, ()) if row > 0 and tag in text}

    def has(self, origin: str) -> bool:
        return bool(self._kept.get(origin)) or origin in self._unlisted

    def lines(self) -> list[str]:
        out: list[str] = []
        for origin, kept in self._kept.items():
            out.extend(text for _, text in sorted(kept, key=lambda item: item[0]))
            more = self._unlisted.get(origin, 0)
            if more:
                out.append(f"{origin}: … and {more:,} more problem(s) not listed")
        return out


def show(value: object) -> str:
    """A cell value quoted for a message, shortened and with invisible characters made visible."""
    text = str(value)
    if len(text) > 40:
        text = text[:37] + "…"
    shown = "".join(
        ch if ch.isprintable() else ch.encode("unicode_escape").decode("ascii") for ch in text
    )
    return f'"{shown}"'


def suggest(name: str, candidates: Iterable[str]) -> str | None:
    candidates = list(candidates)
    lowered = {c.lower(): c for c in candidates}
    match = difflib.get_close_matches(name.strip().lower(), list(lowered), n=1, cutoff=0.6)
    return lowered[match[0]] if match else None


def size(n: int) -> str:
    return f"{n / 1e6:,.1f} MB" if n >= 100_000 else f"{n:,} bytes"


def bound(value: float) -> str:
    return f"{int(value):,}" if float(value).is_integer() else f"{value:g}"
