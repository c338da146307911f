"""The board pack's decisions and assumptions: the decision log and the assumption register of the cycle."""

from __future__ import annotations

import pandas as pd

from sop_core.boardpack.model import (
    NUMBER,
    TEXT,
    Block,
    Section,
    Table,
    format_value,
    missing,
)
from sop_core.boardpack.sections.common import (
    PackInputs,
    safe,
    text_frame,
)
from sop_core.views.review import decision_outcomes, outcomes_table

__all__ = ["decisions_section"]


def decisions_section(a: PackInputs) -> Section:
    cycle = a.cycle
    blocks = []
    decisions = a.decisions
    if decisions is None:
        blocks.append(Block("Decisions", text=(a.decisions_error,)))
    elif decisions.empty:
        blocks.append(Block("Decisions", text=(f"No decisions logged in cycle {cycle}.",)))
    else:
        frame = decisions.assign(
            overdue=["overdue" if bool(o) else "" for o in decisions["overdue"].fillna(False)],
            due=[str(d)[:10] if not missing(d) else "" for d in decisions["due"]],
        )
        shown = text_frame(
            frame,
            {
                "decision": "Decision",
                "owner": "Owner",
                "due": "Due",
                "status": "Status",
                "overdue": "Overdue",
                "answers": "Answers",
            },
        )
        waiting = int(decisions["status"].isin(["open", "in progress"]).sum())
        blocks.append(
            Block(
                "Decisions",
                text=(f"{len(decisions)} decision(s) in cycle {cycle}, {waiting} still open.",),
                table=Table(
                    shown,
                    {c: TEXT for c in shown.columns},
                    title="Decisions",
                    limit=14,
                    key_columns=0,
                ),
            )
        )
    # the actuals used for the paper (a locked cycle's: those frozen with its plan)
    outcomes, error = safe(
        lambda: decision_outcomes(
            a.store,
            upto=a.cycle,
            actuals=a.frozen.get("actuals"),
            financial=a.frozen.get("financial_actuals"),
            settings=a.model.settings,
        )
    )
    if error:
        blocks.append(Block("Decisions against outcomes", text=(error,)))
    elif outcomes is not None and len(outcomes):
        shown = outcomes_table(outcomes, a.currency).drop(columns=["judged"])
        for column in ("plan", "expected", "actual"):  # numbers, in the measure's own unit
            shown[column] = outcomes[column].astype(float)
        kinds = {c: NUMBER if c in ("plan", "expected", "actual") else TEXT for c in shown}
        judged = int((outcomes["verdict"] != "").sum())
        blocks.append(
            Block(
                "Decisions against outcomes",
                text=(
                    f"{len(outcomes)} decision(s) with an expected effect, {judged} judged against "
                    "the actuals (delivered: reached the expected figure; partly: at least half "
                    "the way from the plan).",
                ),
                table=Table(
                    shown,
                    kinds,
                    title="Decisions against outcomes",
                    limit=10,
                    key_columns=0,
                ),
            )
        )
    register = a.register
    if register is None:
        blocks.append(Block("Assumptions", text=(a.register_error,)))
    elif register.empty:
        blocks.append(Block("Assumptions", text=(f"No assumptions recorded in cycle {cycle}.",)))
    else:
        frame = register.assign(
            value=[
                f"{format_value(v, TEXT, '')} {format_value(u, TEXT, '')}".strip()
                for v, u in zip(register["value"], register["unit"], strict=True)
            ],
            reviewed=[
                "" if missing(d) else str(pd.Timestamp(d).date()) for d in register["reviewed_at"]
            ],
        )
        shown = text_frame(
            frame,
            {
                "name": "Assumption",
                "value": "Value",
                "owner": "Owner",
                "kind": "Kind",
                "reviewed": "Last reviewed",
                "flag": "Flag",
            },
        )
        flagged = int((register["drift"].fillna(False) | register["stale"].fillna(False)).sum())
        blocks.append(
            Block(
                "Assumptions",
                text=(
                    f"{len(register)} assumption(s) the plan rests on, {flagged} flagged "
                    "(drifted beyond tolerance since the last cycle, or not reviewed for more than a cycle).",
                ),
                table=Table(
                    shown,
                    {c: TEXT for c in shown.columns},
                    title="Assumptions",
                    limit=14,
                    key_columns=0,
                ),
            )
        )
    return Section("decisions", "Decisions and assumptions", tuple(blocks), sheet="Decisions")
