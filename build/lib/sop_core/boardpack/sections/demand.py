"""The board pack's demand section: the three stories by month, each source's track record."""

from __future__ import annotations

import numpy as np
import pandas as pd

from sop_core.boardpack.model import (
    MONEY,
    MONEY_DELTA,
    PCT,
    PCT_DELTA,
    TEXT,
    UNITS,
    Block,
    Section,
    Table,
)
from sop_core.boardpack.sections.common import (
    PackInputs,
    money_table_by_month,
)
from sop_core.views import charts
from sop_core.views.alignment import (
    alignment_table,
    disagreement_marks,
    stories_by_month,
)

__all__ = ["demand_section"]


def demand_section(a: PackInputs) -> Section:

    r, cur, settings = a.result, a.currency, a.result.model.settings
    stories = stories_by_month(r)
    marks = disagreement_marks(r.disagreements, stories)
    table = alignment_table(r, r.disagreements)
    by_month = money_table_by_month(
        table,
        {
            "demand": "Forecast (demand × price)",
            "supply": "Plan (what supply ships)",
            "finance": "Budget",
            "supply_vs_demand": "Plan vs forecast",
            "supply_vs_budget": "Plan vs budget",
        },
        "Forecast, plan and budget revenue by month",
    )
    fam_rows = []
    for family in r.model.families:
        st = stories_by_month(r, family)
        sums = st.groupby("story")["value"].sum()
        has_budget = "Finance" in sums.index
        fam_rows.append(
            {
                "Family": family,
                "Forecast": float(sums.get("Demand", 0.0)),
                "Plan": float(sums.get("Supply", 0.0)),
                "Budget": float(sums["Finance"]) if has_budget else np.nan,
                "Forecast vs budget": float(sums.get("Demand", 0.0) - sums["Finance"])
                if has_budget
                else np.nan,
                "Plan vs budget": float(sums.get("Supply", 0.0) - sums["Finance"])
                if has_budget
                else np.nan,
            }
        )
    fam = pd.DataFrame(fam_rows)
    fam_kinds = {
        "Family": TEXT,
        "Forecast": MONEY,
        "Plan": MONEY,
        "Budget": MONEY,
        "Forecast vs budget": MONEY_DELTA,
        "Plan vs budget": MONEY_DELTA,
    }
    blocks = [
        Block(
            "Forecast against budget",
            text=(
                "Revenue by month: what demand asks for (the forecast at the plan's prices), "
                "what supply can ship (the plan) and the budget; diamonds mark disagreements, "
                "sized by money at stake.",
            ),
            chart=charts.stories_chart(stories, marks, cur),
            chart_alt="Forecast, plan and budget revenue by month",
            table=Table(fam, fam_kinds, title="Forecast against budget by family, horizon"),
            data=(
                Table(fam, fam_kinds, title="Forecast against budget by family, horizon"),
                by_month,
            ),
        )
    ]
    bias = a.bias
    if bias is None:
        blocks.append(Block("Forecast bias by source", text=(a.bias_error,)))
    else:
        scored = bias[bias["n_points"] > 0]
        if scored.empty:
            blocks.append(
                Block(
                    "Forecast bias by source",
                    text=("No track record yet: no earlier cycle's forecast can be scored.",),
                )
            )
        else:
            chart_frame = scored[scored["family"] != "All"][
                ["source", "family", "bias_pct", "verdict"]
            ]
            full = pd.DataFrame(
                {
                    "Source": scored["source"],
                    "Family": scored["family"],
                    "Points": scored["n_points"].astype(float),
                    "Bias %": scored["bias_pct"].astype(float),
                    "WMAPE %": scored["wmape_pct"].astype(float),
                    "Verdict": scored["verdict"],
                }
            ).reset_index(drop=True)
            kinds = {
                "Source": TEXT,
                "Family": TEXT,
                "Points": UNITS,
                "Bias %": PCT_DELTA,
                "WMAPE %": PCT,
                "Verdict": TEXT,
            }
            human = full["Source"] != "statistical"
            print_rows = full[
                human
                & ((full["Family"] == "All") | full["Verdict"].isin(["inflating", "sandbagging"]))
            ].reset_index(drop=True)
            flagged = int(
                (
                    full["Source"].isin(["sales", "marketing"])
                    & (full["Family"] != "All")
                    & full["Verdict"].isin(["inflating", "sandbagging"])
                ).sum()
            )
            blocks.append(
                Block(
                    "Forecast bias by source",
                    text=(
                        f"Track record of earlier cycles, lags 1–3: bias % = (forecast − actual) / "
                        f"actual; beyond ±{settings.tolerance_pct:g} % a source is inflating or "
                        f"sandbagging. {flagged} sales or marketing family forecast(s) biased. The table shows the "
                        "human forecasts, all families pooled and each biased family; the "
                        "workbook has every row, the statistical baseline too.",
                    ),
                    chart=charts.bias_chart(chart_frame, settings.tolerance_pct),
                    chart_alt="Forecast bias % by family and source",
                    table=Table(print_rows, kinds, title="Bias by source", key_columns=0),
                    data=(Table(full, kinds, title="Bias by source and family", key_columns=0),),
                )
            )
    return Section("demand", "Demand", tuple(blocks), sheet="Demand")
