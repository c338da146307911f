"""Company settings: typed values with the contract's defaults."""

from __future__ import annotations

import math
from dataclasses import dataclass, fields

import pandas as pd

from sop_core.contract import SETTINGS
from sop_core.months import parse_month

__all__ = ["Settings", "parse_setting", "settings_from_frame"]


@dataclass(frozen=True)
class Settings:
    """The settings the plan uses; ``plan_start`` None means: the month after the last actual."""

    company_name: str = ""
    currency: str = "GBP"
    plan_start: str | None = None
    horizon_months: int = 18
    opening_cash: float = 0.0
    opening_receivables: float = 0.0
    opening_payables: float = 0.0
    dso_days: float = 0.0
    dpo_days: float = 0.0
    fixed_costs_per_month: float = 0.0
    minimum_cash: float = 0.0
    tolerance_pct: float = 5.0
    allocation: str = "pro_rata"

    def as_dict(self) -> dict:
        return {f.name: getattr(self, f.name) for f in fields(self)}


def parse_setting(key: str, raw: object) -> object:
    """Parse one settings value by its key.

    Raises:
        KeyError: unknown key.
        ValueError: the value does not fit the key (the message says what is expected).
    """
    s = SETTINGS[key]
    text = "" if raw is None else str(raw).strip()
    if s.kind == "text":
        if key == "currency":
            if len(text) != 3 or not text.isalpha():
                raise ValueError("is not a 3-letter currency code (expected e.g. GBP, EUR, USD)")
            return text.upper()
        return text
    if s.kind == "month":
        return parse_month(text)
    if s.kind == "choice":
        choice = text.lower().replace("-", "_").replace(" ", "_")
        if choice not in s.choices:
            raise ValueError(f"is not one of {', '.join(s.choices)}")
        return choice
    try:
        number = float(text.replace("_", ""))
    except ValueError:
        raise ValueError(f"is not a number (expected {s.kind})") from None
    if not math.isfinite(number):
        raise ValueError("is not a finite number")
    if s.kind == "int":
        if number != int(number):
            raise ValueError("is not a whole number")
        number = int(number)
    if s.min is not None and number < s.min:
        raise ValueError(f"is below the minimum {s.min:g}")
    if s.max is not None and number > s.max:
        raise ValueError(f"is above the maximum {s.max:g}")
    return number


def settings_from_frame(frame: pd.DataFrame | None) -> Settings:
    """Settings from a ``key, value`` frame (stored values are already validated)."""
    values = {}
    if frame is not None:
        for key, raw in zip(frame["key"], frame["value"], strict=True):
            if key in SETTINGS and raw is not None and str(raw).strip() != "":
                values[key] = parse_setting(key, raw)
    return Settings(**values)
