"""The board pack's scenarios: every saved scenario of the cycle computed and compared with the plan."""

from __future__ import annotations

import pandas as pd

from sop_core.boardpack.model import (
    MONEY,
    PCT,
    TEXT,
    Block,
    Section,
    Table,
)
from sop_core.boardpack.sections.common import (
    PackInputs,
)
from sop_core.errors import SopError
from sop_core.meeting.scenarios import list_scenarios, usable_levers
from sop_core.plan.engine import compute
from sop_core.plan.levers import describe_levers, levers_from_json, levers_to_strings
from sop_core.views import charts

__all__ = ["scenarios_section", "scenario_plans"]


def scenario_plans(a: PackInputs) -> tuple[dict, dict]:
    """Every saved scenario of the cycle computed on the plan's model: (name → PlanResult,
    name → (its levers in words, promoted)); one that cannot be computed is a warning."""
    model = a.model
    plans, levers_text = {}, {}
    for row in list_scenarios(a.store, a.cycle).itertuples():
        try:
            items = levers_to_strings(levers_from_json(row.levers))
            levers, dropped = usable_levers(items, model.families, model.resources, model.months)
            result = compute(model, levers)
        except SopError as exc:
            a.warnings.append(f'Scenario "{row.name}" could not be computed: {exc}')
            continue
        text = " · ".join(describe_levers(levers)) or "no levers"
        if dropped:
            text += f" (dropped: {'; '.join(dropped)})"
        plans[row.name] = result
        levers_text[row.name] = (text, bool(row.promoted))
    return plans, levers_text


def scenarios_section(a: PackInputs) -> Section:

    cur, cycle = a.currency, a.cycle
    plans = [("Base plan", "no levers", a.base_plan)]
    for name, result in a.scenario_plans.items():
        text, promoted = a.scenario_levers[name]
        plans.append((name + (" (promoted)" if promoted else ""), text, result))
    rows = []
    for name, text, result in plans:
        s = result.summary
        rows.append(
            {
                "Plan": name,
                "Levers": text,
                "Revenue": s["revenue"],
                "Gross margin": s["gross_margin"],
                "GM %": s["gross_margin_pct"],
                "Operating profit": s["operating_profit"],
                "Closing cash": s["closing_cash_end"],
                "Lowest cash": s["lowest_cash"],
                "Revenue lost": s["unmet_revenue"],
                "Peak utilisation": None
                if s["peak_utilisation"] is None
                else s["peak_utilisation"] * 100.0,
                "At stake": s["money_at_stake"],
            }
        )
    frame = pd.DataFrame(rows)
    for c in frame.columns[2:]:
        frame[c] = frame[c].astype(float)
    kinds = {c: MONEY for c in frame.columns} | {
        "Plan": TEXT,
        "Levers": TEXT,
        "GM %": PCT,
        "Peak utilisation": PCT,
    }
    curves = []
    for name, _text, result in plans:
        c = result.company
        curves.append(
            pd.DataFrame(
                {
                    "month": c["month"],
                    "plan": name,
                    "measure": "Closing cash",
                    "amount": c["closing_cash"],
                }
            )
        )
        curves.append(
            pd.DataFrame(
                {
                    "month": c["month"],
                    "plan": name,
                    "measure": "Gross margin",
                    "amount": c["gross_margin"],
                }
            )
        )
    curve_frame = pd.concat(curves, ignore_index=True)
    n = len(plans) - 1
    intro = (
        f"{n} saved scenario(s) in cycle {cycle} against the base plan; each computed by the "
        "engine with its own levers."
        if n
        else f"No saved scenarios in cycle {cycle}: the base plan alone."
    )
    return Section(
        "scenarios",
        "Scenarios compared",
        (
            Block(
                "Horizon totals by plan",
                text=(intro, f"Plan of this pack: {a.label}."),
                table=Table(frame, kinds, title="Scenarios, horizon totals", key_columns=0),
            ),
            Block(
                "Closing cash and gross margin by plan",
                text=("Closing cash (solid) and gross margin (dashed) of each plan by month.",),
                chart=charts.scenario_curves_chart(curve_frame, cur),
                chart_alt="Closing cash and gross margin by month, per plan",
                data=(
                    Table(
                        curve_frame.rename(
                            columns={
                                "month": "Month",
                                "plan": "Plan",
                                "measure": "Measure",
                                "amount": "Amount",
                            }
                        ),
                        {"Month": TEXT, "Plan": TEXT, "Measure": TEXT, "Amount": MONEY},
                        title="Closing cash and gross margin by month, per plan",
                        key_columns=0,
                    ),
                ),
            ),
        ),
        sheet="Scenarios",
    )
