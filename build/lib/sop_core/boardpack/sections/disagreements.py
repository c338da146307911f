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
from sop_core.views import charts
from sop_core.views.alignment import (
    TYPE_LABELS,
)

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
    unit = dis["unit"].astype(str)
    shown = pd.DataFrame(
        {
            "Month": dis["month"],
            "Severity": dis["severity"],
            "What": what,
            "Where": dis["entity"],
            "One story": dis["story_a"]
            + ": "
            + [fmt.in_unit(v, u, cur) for v, u in zip(dis["figure_a"], unit, strict=True)],
            "The other": dis["story_b"]
            + ": "
            + [fmt.in_unit(v, u, cur) for v, u in zip(dis["figure_b"], unit, strict=True)],
            "Gap": [fmt.in_unit(v, u, cur, True) for v, u in zip(dis["gap"], unit, strict=True)],
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
            "Unit": unit.replace(cur, fmt.currency_label(cur)),
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
    total = float(dis["money_at_stake"].sum())
    grouped = (
        dis.assign(what=what)
        .groupby(["what", "entity", "owner"], as_index=False, sort=False)
        .agg(
            months=("month", "size"),
            first=("month", "min"),
            last=("month", "max"),
            money=("money_at_stake", "sum"),
            worst=("severity", lambda x: min(x, key=charts.SEVERITY_ORDER.index)),
        )
        .sort_values("money", ascending=False, kind="stable")
        .reset_index(drop=True)
    )
    by_type = pd.DataFrame(
        {
            "What": grouped["what"],
            "Where": grouped["entity"],
            "Months": grouped["months"].astype(float),
            "From": grouped["first"],
            "To": grouped["last"],
            "Money at stake": grouped["money"].astype(float),
            "Worst": grouped["worst"],
            "Owner": grouped["owner"],
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
                    f"{len(dis)} disagreement(s), {fmt.money(total, cur)} at stake in all; the "
                    f"{n} largest, each with its owner. The workbook lists every one.",
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
                "Disagreements by issue and owner",
                text=("The same disagreements grouped by what and where, over the horizon.",),
                table=Table(by_type, by_kinds, title="By issue and owner", limit=12, key_columns=0),
            ),
        ),
        sheet="Disagreements",
    )
