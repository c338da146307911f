"""The board pack's disagreements: where the stories differ, what each costs, who owns it."""

from __future__ import annotations

import pandas as pd

from sop_core import fmt
from sop_core.boardpack.model import (
    MONEY,
    NUMBER,
    TEXT,
    UNITS,
    Block,
    Section,
    Table,
)
from sop_core.boardpack.sections.common import (
    TOP_DISAGREEMENTS,
    PackInputs,
    high_rows,
)
from sop_core.views.alignment import TYPE_LABELS, story_texts

__all__ = ["disagreement_section"]


def disagreement_section(a: PackInputs) -> Section:

    dis, cur = a.result.disagreements, a.currency
    if dis.empty:
        return Section(
            "disagreements",
            "Top disagreements",
            (Block("Top disagreements", text=("No disagreements: the three stories agree.",)),),
            sheet="Disagreements",
        )
    what = dis["type"].map(TYPE_LABELS).fillna(dis["type"])
    one, other, gap = story_texts(dis, cur)
    shown = pd.DataFrame(
        {
            "Month": dis["month"],
            "Severity": dis["severity"],
            "What": what,
            "Where": dis["entity"],
            "One story": one,
            "The other": other,
            "Gap": gap,
            "Money at stake": dis["money_at_stake"].astype(float),
            "Owner": dis["owner"],
        }
    )
    kinds = {c: TEXT for c in shown.columns} | {"Money at stake": MONEY}
    data = pd.DataFrame(
        {
            "Month": dis["month"],
            "Severity": dis["severity"],
            "What": what,
            "Where": dis["entity"],
            "One story": dis["story_a"],
            "Its figure": dis["figure_a"].astype(float),
            "The other story": dis["story_b"],
            "Its figure ": dis["figure_b"].astype(float),
            "Gap": dis["gap"].astype(float),
            "Unit": dis["unit"].astype(str).replace(cur, fmt.currency_label(cur)),
            "Money at stake": dis["money_at_stake"].astype(float),
            "Owner": dis["owner"],
            "Resolved in": dis["review"],
        }
    )
    data_kinds = {c: TEXT for c in data.columns} | {
        "Its figure": NUMBER,
        "Its figure ": NUMBER,
        "Gap": NUMBER,
        "Money at stake": MONEY,
    }
    s = a.result.summary
    total = s["money_at_stake"]
    causes = a.result.root_causes
    by_type = pd.DataFrame(
        {
            "Root cause": causes["title"],
            "Owner": causes["owner"],
            "Months": causes["months"].astype(float),
            "Money at stake": causes["money_at_stake"].astype(float),
            "Measure": causes["measure"],
            "Status": causes["status"],
        }
    )
    by_kinds = {c: TEXT for c in by_type.columns} | {"Months": UNITS, "Money at stake": MONEY}
    n = min(TOP_DISAGREEMENTS, len(dis))
    return Section(
        "disagreements",
        "Top disagreements",
        (
            Block(
                "Top disagreements by money at stake",
                text=(
                    f"{s['root_causes_count']} root cause(s) and {len(dis)} month rows; "
                    f"{fmt.money(total, cur)} at stake, each pound counted once (a lost sale is "
                    "not counted again as overload or gap to budget). The "
                    f"{n} largest rows, each with its owner; the workbook lists every one.",
                ),
                table=Table(
                    shown,
                    kinds,
                    title="Top disagreements",
                    limit=TOP_DISAGREEMENTS,
                    key_columns=0,
                    emphasis=high_rows(shown),
                ),
                data=(
                    Table(
                        data,
                        data_kinds,
                        title="Every disagreement",
                        key_columns=0,
                        emphasis=high_rows(data),
                    ),
                ),
            ),
            Block(
                "Root causes",
                text=(
                    "The disagreements grouped by root cause (what and where, across months), "
                    "largest money first.",
                ),
                table=Table(by_type, by_kinds, title="Root causes", limit=12, key_columns=0),
            ),
        ),
        sheet="Disagreements",
    )
