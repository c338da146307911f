"""Month labels (``YYYY-MM``): parsing, arithmetic and ranges."""

from __future__ import annotations

import re

__all__ = [
    "parse_month",
    "is_month",
    "add_months",
    "month_range",
    "month_diff",
    "month_label",
    "span_label",
    "MONTH_RE",
]

MONTH_RE = re.compile(r"^(\d{4})-(\d{2})(?:-01)?(?:[ T]00:00(?::00)?)?$")
MIN_YEAR, MAX_YEAR = 1900, 2200
_NAMES = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def parse_month(value: object) -> str:
    """Normalise ``YYYY-MM`` or a first-of-month ``YYYY-MM-DD`` to ``YYYY-MM``.

    Raises:
        ValueError: with the reason, if it is not such a month.
    """
    if hasattr(value, "year") and hasattr(value, "month") and hasattr(value, "day"):
        if value.day != 1:
            raise ValueError("is a date that is not the first of a month (expected YYYY-MM)")
        y, m = int(value.year), int(value.month)
    else:
        text = str(value).strip()
        match = MONTH_RE.match(text)
        if not match:
            if re.match(r"^\d{4}-\d{2}-\d{2}", text):
                raise ValueError("is a date that is not the first of a month (expected YYYY-MM)")
            raise ValueError("is not a month (expected YYYY-MM, e.g. 2026-01)")
        y, m = int(match.group(1)), int(match.group(2))
    if not 1 <= m <= 12:
        raise ValueError(f"has month {m:02d}, which does not exist (expected 01-12)")
    if not MIN_YEAR <= y <= MAX_YEAR:
        raise ValueError(f"has year {y}, outside {MIN_YEAR}-{MAX_YEAR}")
    return f"{y:04d}-{m:02d}"


def is_month(text: str) -> bool:
    """True for a month label exactly as the app writes it: ``YYYY-MM`` (e.g. a table's month
    column header)."""
    try:
        return parse_month(text) == text
    except ValueError:
        return False


def _index(month: str) -> int:
    return int(month[:4]) * 12 + int(month[5:7]) - 1


def add_months(month: str, n: int) -> str:
    """The month ``n`` months after ``month`` (n may be negative)."""
    i = _index(month) + n
    return f"{i // 12:04d}-{i % 12 + 1:02d}"


def month_diff(a: str, b: str) -> int:
    """Whole months from ``b`` to ``a`` (a - b)."""
    return _index(a) - _index(b)


def month_range(start: str, n: int) -> list[str]:
    """``n`` consecutive months from ``start``."""
    return [add_months(start, k) for k in range(n)]


def month_label(month: str) -> str:
    """``2027-10`` as a person says it: ``Oct 2027``."""
    return f"{_NAMES[int(month[5:7]) - 1]} {month[:4]}"


def span_label(first: str, last: str) -> str:
    """A run of months as a person says it: ``Oct 2027–Mar 2028``, or ``Oct 2027`` for one."""
    a, b = month_label(first), month_label(last)
    return a if a == b else f"{a}–{b}"
