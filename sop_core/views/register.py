"""The assumption register and the decision log as a person reads them (the page and the board pack)."""

from __future__ import annotations

import pandas as pd

from sop_core.meeting.decisions import OPEN_STATUSES, expected_text
from sop_core.plan.links import link_label

__all__ = ["register_view", "register_counts", "decision_log_view", "decision_counts"]


def _text(value: object) -> str:
    return "" if value is None or (isinstance(value, float) and pd.isna(value)) else str(value)


def register_view(table: pd.DataFrame) -> pd.DataFrame:
    """One row per assumption: flag, assumption, value with its unit, what the plan reads it as
    (or "not in the plan's arithmetic"), owner, last reviewed (a timestamp or NaT), by, previous
    cycle's value, why flagged, rationale, evidence, source."""
    return pd.DataFrame(
        {
            "flag": [
                " ".join(word for word, on in (("⚠ drift", d), ("⏱ stale", s)) if on)
                for d, s in zip(table["drift"], table["stale"], strict=True)
            ],
            "assumption": table["name"].map(_text),
            "value": [
                f"{_text(v)} {_text(u)}".strip()
                for v, u in zip(table["value"], table["unit"], strict=True)
            ],
            "in the plan": [
                link_label(link if isinstance(link, str) else None)
                + (" (promoted scenario)" if kind == "scenario lever" else "")
                for link, kind in zip(table["link"], table["kind"], strict=True)
            ],
            "owner": table["owner"].map(_text),
            "last reviewed": pd.to_datetime(table["reviewed_at"]),
            "by": table["reviewed_by"].map(_text),
            "previous": [
                f"{c}: {_text(v)}" if isinstance(c, str) else ""
                for c, v in zip(table["previous_cycle"], table["previous_value"], strict=True)
            ],
            "why flagged": table["flag"].map(_text),
            "rationale": table["rationale"].map(_text),
            "evidence": table["evidence"].map(_text),
            "source": table["kind"].map(_text),
        }
    )


def register_counts(table: pd.DataFrame) -> dict[str, int]:
    """In force, drifted beyond tolerance, unreviewed for over a cycle."""
    return {
        "in_force": len(table),
        "drifted": int(table["drift"].fillna(False).sum()),
        "stale": int(table["stale"].fillna(False).sum()),
    }


def decision_log_view(log: pd.DataFrame) -> pd.DataFrame:
    """One row per decision: decision, owner, due (YYYY-MM-DD), status, overdue, answers, note,
    taken in (the cycle it was first logged in), expected effect (what it should achieve, by
    when; judged on the Performance review page)."""
    expected = [
        expected_text(*values)
        for values in zip(
            log.get("expected_measure", pd.Series(None, index=log.index)),
            log.get("expected_value", pd.Series(None, index=log.index)),
            log.get("expected_month", pd.Series(None, index=log.index)),
            log.get("expected_scenario", pd.Series(None, index=log.index)),
            strict=True,
        )
    ]
    return pd.DataFrame(
        {
            "decision": log["decision"].map(_text),
            "owner": log["owner"].map(_text),
            "due": [_text(d)[:10] for d in log["due"]],
            "status": log["status"].map(_text),
            "overdue": ["overdue" if bool(o) else "" for o in log["overdue"].fillna(False)],
            "answers": log["answers"].map(_text),
            "note": log["note"].map(_text),
            "taken in": log["taken_in"].map(_text),
            "expected effect": expected,
        }
    )


def decision_counts(log: pd.DataFrame) -> dict[str, int]:
    """Open, overdue (of the open ones), closed."""
    open_ = log["status"].isin(OPEN_STATUSES)
    return {
        "open": int(open_.sum()),
        "overdue": int((open_ & log["overdue"].fillna(False).astype(bool)).sum()),
        "closed": int((~open_).sum()),
    }
