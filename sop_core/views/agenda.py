"""What the meeting must decide: the plan's open root causes, largest money first, each with its
owner, the review that resolves it, and the saved scenarios that would reduce it."""

from __future__ import annotations

import pandas as pd

from sop_core import fmt
from sop_core.plan.disagreements import OPEN
from sop_core.views.alignment import REVIEW_PAGE

__all__ = ["AGENDA_COLUMNS", "agenda"]

AGENDA_COLUMNS = [
    "cause",
    "title",
    "owner",
    "money_at_stake",
    "severity",
    "review",
    "page",
    "family",
    "scenarios",
]


def agenda(
    result, scenarios: dict[str, object] | None = None, limit: int | None = 5
) -> pd.DataFrame:
    """The open root causes of a plan (``PlanResult``) as the meeting's agenda.

    Args:
        scenarios: saved scenarios' plans by name (computed on the same model); a scenario
            addresses a root cause when its money at stake for that cause is lower.
        limit: how many root causes (None: all).

    Returns:
        Columns AGENDA_COLUMNS; ``scenarios`` reads e.g. 'Hire 6 welders (−£420k)' or ''.
    """
    causes = result.root_causes
    causes = causes[causes["status"] == OPEN]
    if limit is not None:
        causes = causes.head(limit)
    currency = result.model.settings.currency
    money_in = {
        name: plan.root_causes.set_index("cause")["money_at_stake"].to_dict()
        for name, plan in (scenarios or {}).items()
    }
    rows = []
    for c in causes.itertuples(index=False):
        helped = []
        for name, by_cause in money_in.items():
            change = by_cause.get(c.cause, 0.0) - float(c.money_at_stake)
            if change < -0.5:
                helped.append((change, f"{name} ({fmt.signed_money(change, currency)})"))
        rows.append(
            {
                "cause": c.cause,
                "title": c.title,
                "owner": c.owner,
                "money_at_stake": float(c.money_at_stake),
                "severity": c.severity,
                "review": c.review,
                # an assumption the actuals contradict is changed in the register
                "page": "assumptions"
                if c.kind == "assumption"
                else REVIEW_PAGE.get(c.review, "alignment"),
                "family": c.entity
                if c.kind.startswith(("bias", "budget", "supply_limit", "unmet"))
                else None,
                "scenarios": "; ".join(text for _, text in sorted(helped)),
            }
        )
    return pd.DataFrame(rows, columns=AGENDA_COLUMNS)
