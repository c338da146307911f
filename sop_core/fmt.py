"""Formatting for people: money in the company currency (£1.2m, £340k), percentages, dates."""

from __future__ import annotations

import math

import pandas as pd

__all__ = [
    "currency_symbol",
    "currency_label",
    "money",
    "money_full",
    "pct",
    "units",
    "signed_money",
    "in_unit",
    "day",
    "moment",
    "duration",
]

_SYMBOLS = {"GBP": "£", "EUR": "€", "USD": "$", "JPY": "¥", "CHF": "CHF ", "AUD": "A$", "CAD": "C$"}


def currency_symbol(currency: str) -> str:
    """The symbol for an ISO code (GBP → £); unknown codes are written as the code and a space."""
    return _SYMBOLS.get((currency or "").upper(), f"{(currency or '').upper()} ")


def currency_label(currency: str) -> str:
    """The currency as a unit label (£ for GBP, EUR for an unknown code)."""
    return currency_symbol(currency).strip()


def money(value: float | None, currency: str = "GBP", *, digits: int = 1) -> str:
    """Compact money: £1.2m, £340k, £950, −£45k; '—' for missing."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "—"
    sign = "−" if value < 0 else ""
    v = abs(float(value))
    sym = currency_symbol(currency)
    if v >= 1e9:
        body = f"{v / 1e9:.{digits}f}bn"
    elif v >= 1e6:
        body = f"{v / 1e6:.{digits}f}m"
    elif v >= 1e3:
        body = f"{v / 1e3:.0f}k"
    else:
        body = f"{v:.0f}"
    return f"{sign}{sym}{body}"


def signed_money(value: float | None, currency: str = "GBP") -> str:
    """Compact money with an explicit sign for deltas: +£1.2m, −£340k."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "—"
    text = money(value, currency)
    return text if value < 0 else f"+{text}"


def money_full(value: float | None, currency: str = "GBP") -> str:
    """Full money with thousands separators: £1,234,567."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "—"
    sign = "−" if value < 0 else ""
    return f"{sign}{currency_symbol(currency)}{abs(value):,.0f}"


def pct(value: float | None, *, signed: bool = False) -> str:
    """A percentage with one decimal: 34.5 %; the input is already in percent."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "—"
    sign = "+" if signed and value > 0 else ("−" if value < 0 else "")
    return f"{sign}{abs(value):.1f} %"


def units(value: float | None, *, signed: bool = False) -> str:
    """Whole units with thousands separators; ``signed`` puts + before a positive number."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "—"
    sign = "−" if value < 0 else ("+" if signed and round(value) > 0 else "")
    return f"{sign}{abs(value):,.0f}"


def in_unit(value: float, unit: str, currency: str, signed: bool = False) -> str:
    """A figure in its own unit, as a disagreement states it: money compact, % with one decimal, else 1,234 hours."""
    if unit == currency:
        return signed_money(value, currency) if signed else money(value, currency)
    if unit == "%":
        return pct(value, signed=signed)
    size = abs(value)
    text = f"{size:,.0f}" if size >= 10 else f"{size:,.1f}"
    sign = "−" if value < 0 else ("+" if signed and value > 0 else "")
    return f"{sign}{text} {unit}"


def day(value: object) -> str:
    """A date as '13 Nov'."""
    d = pd.Timestamp(value)
    return f"{d.day} {d.strftime('%b')}"


def moment(value: object) -> str:
    """A time as '13 Nov 2026 14:05'."""
    d = pd.Timestamp(value)
    return f"{d.day} {d.strftime('%b %Y %H:%M')}"


def duration(seconds: float | None) -> str:
    """A time left, rounded as a person says it: "about 40 s", "about 3 min", "about 1 h 20 min"."""
    if seconds is None or not math.isfinite(seconds):
        return "—"
    s = max(0, round(seconds))
    if s < 60:
        return f"about {max(5, round(s / 5) * 5)} s"
    m = round(s / 60)
    if m < 60:
        return f"about {m} min"
    return f"about {m // 60} h {m % 60} min" if m % 60 else f"about {m // 60} h"
