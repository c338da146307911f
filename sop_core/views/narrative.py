"""Sentences that carry their numbers: each figure a sentence states is kept beside the text, with
where it came from, so a test (or a reader) can trace every number back to the engine.

A sentence is written with a :class:`Say`: ``s.money("summary.revenue", v)`` returns the figure
as the app formats it (£61.5m) and records it as a :class:`Fact`; ``s.quote(text)`` inserts a
name or a person's words (a family, a root cause's title, a decision) that are not figures of the
plan; ``s.done(text)`` makes the :class:`Sentence`. Nothing here computes a figure: the callers
pass the engine's and the views' values.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sop_core import fmt

__all__ = [
    "MONEY",
    "SIGNED",
    "PCT",
    "SIGNED_PCT",
    "UNITS",
    "COUNT",
    "SHOWN",
    "Fact",
    "Sentence",
    "Say",
]

MONEY, SIGNED, PCT, SIGNED_PCT, UNITS, COUNT, SHOWN = (
    "money",
    "signed_money",
    "pct",
    "signed_pct",
    "units",
    "count",
    "shown",  # formatted by the caller (e.g. the review's £3.51m), the value kept beside it
)


@dataclass(frozen=True)
class Fact:
    """One figure a sentence states: where it comes from (``key``), its value, how it is shown."""

    key: str
    value: float
    kind: str
    text: str


@dataclass(frozen=True)
class Sentence:
    """A sentence of the narrative, its facts, and the quoted names in it (not figures)."""

    text: str
    facts: tuple[Fact, ...] = ()
    quoted: tuple[str, ...] = ()

    def __str__(self) -> str:
        return self.text


@dataclass
class Say:
    """Builds one sentence: each figure goes through a method that formats and records it."""

    currency: str = "GBP"
    facts: list[Fact] = field(default_factory=list)
    quoted: list[str] = field(default_factory=list)

    def _fact(self, key: str, value: float, kind: str, text: str) -> str:
        self.facts.append(Fact(key, float(value), kind, text))
        return text

    def money(self, key: str, value: float, *, abs_value: bool = False) -> str:
        """£1.2m, £340k (``abs_value``: the size, for 'down £1.9m')."""
        v = abs(float(value)) if abs_value else float(value)
        return self._fact(key, v, MONEY, fmt.money(v, self.currency))

    def signed(self, key: str, value: float) -> str:
        """+£1.2m, −£340k."""
        return self._fact(key, value, SIGNED, fmt.signed_money(float(value), self.currency))

    def pct(self, key: str, value: float, *, signed: bool = False, abs_value: bool = False) -> str:
        """34.5 %, +2.1 % (the value already in percent)."""
        v = abs(float(value)) if abs_value else float(value)
        return self._fact(key, v, SIGNED_PCT if signed else PCT, fmt.pct(v, signed=signed))

    def units(self, key: str, value: float) -> str:
        """1,234 (whole units)."""
        return self._fact(key, value, UNITS, fmt.units(float(value)))

    def count(self, key: str, value: int) -> str:
        """A count, as a whole number."""
        return self._fact(key, value, COUNT, f"{int(value):,}")

    def shown(self, key: str, value: float, text: str) -> str:
        """A figure the caller has formatted its own way (the review's £3.51m, £3,250)."""
        return self._fact(key, value, SHOWN, text)

    def quote(self, text: object) -> str:
        """A name or a person's words, shown as written (not a figure of the plan)."""
        text = "" if text is None else str(text)
        if text:
            self.quoted.append(text)
        return text

    def done(self, text: str) -> Sentence:
        """The sentence, with the facts and quotes recorded since the last ``done``."""
        sentence = Sentence(text, tuple(self.facts), tuple(self.quoted))
        self.facts, self.quoted = [], []
        return sentence
