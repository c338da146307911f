"""The board paper's commentary: a few sentences per section and cycle, written by a person, printed
beneath the figures' own sentences; who wrote it and when, audited, frozen with the lock."""

from __future__ import annotations

import re
from dataclasses import dataclass

import pandas as pd

from sop_core.errors import ConflictError, SopError
from sop_core.store.concurrency import conflict_message, guarded_update
from sop_core.store.lock import ensure_unlocked_in

__all__ = [
    "PAPER_SECTIONS",
    "MAX_CHARS",
    "Commentary",
    "clean_body",
    "commentary_for",
    "get_commentary",
    "save_commentary",
]

# The board paper's sections in print order (key → title): each is a page of the pre-read and
# may carry a commentary. The board pack (``boardpack.sections``) titles its pages from here.
PAPER_SECTIONS: dict[str, str] = {
    "chair": "The plan in brief",
    "figures": "The plan in figures",
    "last_month": "Last month against plan",
    "changed": "What changed since the last locked plan",
    "risks": "The biggest risks and their range",
    "stories": "The three stories",
    "disagreements": "Where the stories disagree",
    "cash": "Cash and working capital",
    "scenarios": "Scenarios compared",
    "decisions": "Decisions",
    "assumptions": "Assumptions and their tests",
}
# About 120 words: what fits beneath a page's figures on paper and on a slide at a readable size.
MAX_CHARS = 800
MAX_PARAGRAPHS = 4

SQL_FOR_CYCLE = """
SELECT cycle, section, body, written_by, written_at, version
FROM board_commentary WHERE cycle = ? ORDER BY section
"""
SQL_ONE = """
SELECT cycle, section, body, written_by, written_at, version
FROM board_commentary WHERE cycle = ? AND section = ?
"""
SQL_INSERT = """
INSERT INTO board_commentary (cycle, section, body, written_by, written_at, version)
VALUES (?, ?, ?, ?, current_timestamp, 1)
"""
# Control characters other than a line break would print as boxes (or not at all).
_CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f\x7f\u2028\u2029]")
_BLANK_LINES = re.compile(r"\n\s*\n+")


@dataclass(frozen=True)
class Commentary:
    """One section's commentary in a cycle: the text, who wrote it, when, and its version."""

    cycle: str
    section: str
    body: str
    written_by: str
    written_at: object
    version: int

    @property
    def byline(self) -> str:
        """'Jane Smith, 27 Nov 2026 14:05'."""
        when = pd.Timestamp(self.written_at)
        return f"{self.written_by}, {when.day} {when.strftime('%b %Y %H:%M')}"

    @property
    def paragraphs(self) -> tuple[str, ...]:
        return tuple(p for p in self.body.split("\n") if p.strip())


def _row(values) -> Commentary:
    cycle, section, body, who, when, version = values
    return Commentary(str(cycle), str(section), str(body), str(who), when, int(version))


def clean_body(text: object) -> str:
    """The text as it is kept: line breaks made ``\\n``, blank lines between paragraphs made one,
    other control characters and spaces at either end removed.

    Raises:
        SopError: longer than ``MAX_CHARS`` or more than ``MAX_PARAGRAPHS`` paragraphs.
    """
    body = "" if text is None else str(text)
    body = body.replace("\r\n", "\n").replace("\r", "\n")
    body = _CONTROL.sub(" ", body)
    body = _BLANK_LINES.sub("\n", body)
    body = "\n".join(line.strip() for line in body.split("\n")).strip()
    if len(body) > MAX_CHARS:
        raise SopError(
            f"The commentary is {len(body):,} characters long: at most {MAX_CHARS} fit beneath a "
            "page's figures (about 120 words). Shorten it; nothing was saved."
        )
    paragraphs = [p for p in body.split("\n") if p]
    if len(paragraphs) > MAX_PARAGRAPHS:
        raise SopError(
            f"The commentary has {len(paragraphs)} paragraphs: at most {MAX_PARAGRAPHS} fit "
            "beneath a page's figures. Join some; nothing was saved."
        )
    return body


def _conflict(stored: Commentary, loaded: str | None, mine: str) -> ConflictError:
    """The refusal: who saved the section's commentary and when, their text, and yours."""
    return ConflictError(
        conflict_message(
            label="commentary on",
            name=PAPER_SECTIONS[stored.section],
            who=stored.written_by,
            when=stored.written_at,
            fields=[("text", stored.body or "(blank)", loaded or "(none)", mine or "(blank)")],
        )
    )


def _check_section(section: str) -> None:
    if section not in PAPER_SECTIONS:
        raise SopError(
            f'Unknown section "{section}" of the board paper (expected one of '
            f"{', '.join(PAPER_SECTIONS)})."
        )


def get_commentary(store, cycle: str, section: str) -> Commentary | None:
    """One section's commentary in a cycle, or None when nobody has written one."""
    _check_section(section)
    rows = store.query(SQL_ONE, [cycle, section])
    return None if rows.empty else _row(rows.iloc[0].tolist())


def commentary_for(store, cycle: str | None) -> dict[str, Commentary]:
    """Every section's commentary in a cycle (sections with an empty text left out)."""
    if not cycle:
        return {}
    rows = store.query(SQL_FOR_CYCLE, [cycle])
    out = {}
    for values in rows.itertuples(index=False):
        c = _row(values)
        if c.body.strip() and c.section in PAPER_SECTIONS:
            out[c.section] = c
    return out


def save_commentary(
    store,
    cycle: str,
    section: str,
    body: object,
    *,
    expected_version: int,
    user: str,
    loaded: str | None = None,
) -> Commentary | None:
    """Write a section's commentary for a cycle, if nobody saved it since it was loaded.

    Args:
        expected_version: the version loaded (0: there was none yet).
        loaded: the text as it was loaded, to show in a refusal what changed since.

    Returns:
        The commentary as stored, or None when the text is what is stored already (nothing
        written, nothing audited).

    Raises:
        CycleLocked: the cycle is locked (its commentary is frozen with its plan).
        ConflictError: someone saved it since it was loaded; the message shows their text.
        SopError: an unknown section, or a text too long.
    """
    _check_section(section)
    text = clean_body(body)
    key = f"{cycle}/{section}"
    with store.transaction() as cur:
        ensure_unlocked_in(cur, cycle)
        found = cur.execute(SQL_ONE, [cycle, section]).fetchall()
        if not found:
            if int(expected_version) != 0:
                raise SopError(f"The commentary on {section} of cycle {cycle} no longer exists.")
            if not text:
                return None
            cur.execute(SQL_INSERT, [cycle, section, text, user])
            store.audit(cur, user, "add", "commentary", key, None, text, None)
        else:
            stored = _row(found[0])
            if int(expected_version) == 0:  # written by someone else since this person loaded it
                raise _conflict(stored, None, text)
            if stored.body == text and stored.version == int(expected_version):
                return None
            try:
                old = guarded_update(
                    cur,
                    "board_commentary",
                    (cycle, section),
                    int(expected_version),
                    {"body": text},
                    user=user,
                )
            except ConflictError:
                now = cur.execute(SQL_ONE, [cycle, section]).fetchall()
                raise _conflict(_row(now[0]) if now else stored, loaded, text) from None
            store.audit(cur, user, "edit", "commentary", key, old["body"], text, None)
        row = cur.execute(SQL_ONE, [cycle, section]).fetchall()[0]
    return _row(row)
