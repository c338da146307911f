"""The board pack's sections, each built from the engine's figures (``boardpack.pack_content`` calls them)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from sop_core import fmt
from sop_core.boardpack.build import (
    FTE,
    MONEY,
    MONEY_DELTA,
    NUMBER,
    PCT,
    PCT_DELTA,
    TEXT,
    UNITS,
    Block,
    Figure,
    Section,
    Table,
    _missing,
    currency_label,
    describe_levers,
    format_value,
)
from sop_core.errors import SopError
from sop_core.views import charts

__all__ = [
    "PackInputs",
    "summary_section",
    "disagreement_section",
    "decisions_section",
    "demand_section",
    "supply_section",
    "finance_section",
    "scenarios_section",
    "safe",
    "track_bias",
]

SQL_BASELINE_HISTORY = (
    "SELECT cycle, sku, month, units FROM baseline WHERE cycle < ? ORDER BY cycle, sku, month"
)
TOP_DISAGREEMENTS = 10


@dataclass
class PackInputs:
    """What the sections are built from: the plan shown, the cycle's records, the previous cycle."""

    store: object
    cycle: str | None
    model: object  # engine.Model
    result: object  # engine.PlanResult of the plan shown
    label: str
    currency: str
    previous_cycle: str | None
    previous_company: pd.DataFrame | None
    previous_months: tuple[str, ...]
    decisions: pd.DataFrame | None
    decisions_error: str
    register: pd.DataFrame | None
    register_error: str
    bias: pd.DataFrame | None
    bias_error: str
    budget: pd.DataFrame
    warnings: list[str] = field(default_factory=list)


def _money_table_by_month(
    frame: pd.DataFrame, rows: dict[str, str], title: str, *, kind: str = MONEY, total: bool = True
) -> Table:
    """A month-across table: one row per measure (``rows``: column → label), months as columns."""
    months = [str(m) for m in frame["month"]]
    body = {"": list(rows.values())}
    for i, m in enumerate(months):
        body[m] = [float(frame[c].iloc[i]) for c in rows]
    if total:
        body["Total"] = [float(frame[c].sum()) for c in rows]
    table = pd.DataFrame(body)
    kinds = {c: kind for c in table.columns}
    kinds[""] = TEXT
    return Table(table, kinds, title=title)


def summary_section(a: PackInputs) -> Section:
    r, s, cur = a.result, a.result.summary, a.currency
    settings, months = r.model.settings, r.months
    prev_company = a.previous_company
    prev = None
    if prev_company is not None and len(prev_company):
        from sop_core.meeting.versions import plan_totals

        totals = plan_totals(prev_company)
        low = int(prev_company["closing_cash"].to_numpy().argmin())
        prev = {
            **totals,
            "gross_margin_pct": totals["gross_margin"] / totals["revenue"] * 100.0
            if totals["revenue"]
            else None,
            "lowest_cash": float(prev_company["closing_cash"].iloc[low]),
            "inventory_value_end": float(prev_company["inventory_value"].iloc[-1]),
        }

    def p(key: str) -> float | None:
        return None if prev is None else prev.get(key)

    budget_inv = r.budget_gap[r.budget_gap["month"] == months[-1]]["budget_inventory_value"]
    budget_inv_end = None if budget_inv.isna().all() else float(budget_inv.sum())
    budget_gm_pct = (
        s["budget_gross_margin"] / s["budget_revenue"] * 100.0
        if s["budget_revenue"] and s["budget_gross_margin"] is not None
        else None
    )
    peak = s["peak_utilisation"]
    figures = (
        Figure("Revenue", s["revenue"], MONEY, s["budget_revenue"], p("revenue")),
        Figure(
            "Gross margin", s["gross_margin"], MONEY, s["budget_gross_margin"], p("gross_margin")
        ),
        Figure(
            "Gross margin % of revenue",
            s["gross_margin_pct"],
            PCT,
            budget_gm_pct,
            p("gross_margin_pct"),
        ),
        Figure("Operating profit", s["operating_profit"], MONEY, None, p("operating_profit")),
        Figure(
            f"Closing cash, {months[-1]}", s["closing_cash_end"], MONEY, None, p("closing_cash")
        ),
        Figure(
            f"Lowest closing cash ({s['lowest_cash_month']})",
            s["lowest_cash"],
            MONEY,
            None,
            p("lowest_cash"),
            note=f"minimum cash {fmt.money(settings.minimum_cash, cur)}",
        ),
        Figure(
            f"Inventory value, {months[-1]}",
            s["inventory_value_end"],
            MONEY,
            budget_inv_end,
            p("inventory_value_end"),
        ),
        Figure("Unmet demand, units", s["unmet_units"], UNITS),
        Figure("Revenue lost to unmet demand", s["unmet_revenue"], MONEY),
        Figure(
            "Peak utilisation",
            None if peak is None else peak * 100.0,
            PCT,
            note=f"{s['peak_utilisation_resource']}, {s['peak_utilisation_month']}"
            if peak is not None
            else "",
        ),
        Figure(
            "Disagreements, money at stake",
            s["money_at_stake"],
            MONEY,
            note=f"{s['disagreements_count']} disagreement(s)",
        ),
    )
    head = f"Plan: {a.label}, {months[0]} to {months[-1]}; money in {cur}."
    compare = "No previous locked cycle to compare with."
    if a.previous_cycle:
        compare = f"Previous cycle: the locked plan of {a.previous_cycle}"
        prev_months = a.previous_months
        if prev_months and (prev_months[0], prev_months[-1]) != (months[0], months[-1]):
            compare += f", over its own horizon {prev_months[0]} to {prev_months[-1]}"
        compare += "."
    return Section(
        "summary",
        "Executive summary",
        (
            Block(
                "Headline figures",
                text=(head, compare),
                figures=figures,
            ),
            Block("Key messages", text=tuple(_messages(a))),
        ),
        sheet="Summary",
    )


def _messages(a: PackInputs) -> list[str]:
    """Plain sentences for the board, each from the engine's figures."""
    r, s, cur = a.result, a.result.summary, a.currency
    settings, months = r.model.settings, r.months
    out = []
    line = f"Revenue {fmt.money(s['revenue'], cur)} over {months[0]} to {months[-1]}"
    if s["budget_revenue"] is not None:
        line += f", {fmt.signed_money(s['revenue'] - s['budget_revenue'], cur)} against budget"
    line += f"; gross margin {fmt.money(s['gross_margin'], cur)} ({fmt.pct(s['gross_margin_pct'])})"
    if s["budget_gross_margin"] is not None:
        line += f", {fmt.signed_money(s['gross_margin'] - s['budget_gross_margin'], cur)} against budget"
    out.append(line + ".")
    below = s["lowest_cash"] < settings.minimum_cash
    out.append(
        f"Cash is lowest in {s['lowest_cash_month']} at {fmt.money(s['lowest_cash'], cur)}, "
        + (
            f"{fmt.money(settings.minimum_cash - s['lowest_cash'], cur)} below the "
            f"{fmt.money(settings.minimum_cash, cur)} minimum."
            if below
            else f"above the {fmt.money(settings.minimum_cash, cur)} minimum."
        )
    )
    if s["peak_utilisation"] is not None:
        out.append(
            f"Peak load: {s['peak_utilisation_resource']} at {fmt.pct(s['peak_utilisation'] * 100)} "
            f"of capacity in {s['peak_utilisation_month']}."
        )
    if s["unmet_units"] > 0.5:
        out.append(
            f"Demand the plan cannot ship: {fmt.units(s['unmet_units'])} units, "
            f"{fmt.money(s['unmet_revenue'], cur)} of revenue lost."
        )
    else:
        out.append("All demand is shipped.")
    dis = r.disagreements
    if len(dis):
        top = dis.iloc[0]
        from sop_core.views.alignment import TYPE_LABELS

        out.append(
            f"{len(dis)} disagreement(s) between the stories, {fmt.money(s['money_at_stake'], cur)} "
            f"at stake; the largest: {TYPE_LABELS.get(top['type'], top['type'])}, {top['entity']}, "
            f"{top['month']} ({fmt.money(top['money_at_stake'], cur)}, owner {top['owner']})."
        )
    else:
        out.append("No disagreements: the three stories agree within tolerance.")
    decisions = a.decisions
    if decisions is not None and len(decisions):
        waiting = decisions[decisions["status"].isin(["open", "in progress"])]
        overdue = int(waiting["overdue"].fillna(False).astype(bool).sum())
        out.append(
            f"{len(decisions)} decision(s) logged this cycle, {len(waiting)} still open"
            + (f", {overdue} overdue." if overdue else ".")
        )
    for w in a.warnings:
        out.append(w)
    return out


def _high(frame: pd.DataFrame) -> pd.DataFrame:
    """Marks the severity cell of high-severity rows."""
    marks = pd.DataFrame(False, index=frame.index, columns=frame.columns)
    marks["Severity"] = frame["Severity"] == "high"
    return marks


def disagreement_section(a: PackInputs) -> Section:
    from sop_core.views.alignment import TYPE_LABELS

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
            "Unit": unit.replace(cur, currency_label(cur)),
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
                    emphasis=_high(shown),
                ),
                data=(
                    Table(
                        data,
                        data_kinds,
                        title="Every disagreement",
                        key_columns=0,
                        emphasis=_high(data),
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


def _text_frame(frame: pd.DataFrame, columns: dict[str, str]) -> pd.DataFrame:
    out = pd.DataFrame({label: frame[col] for col, label in columns.items()})
    for c in out.columns:
        out[c] = [format_value(v, TEXT, "") for v in out[c]]
    return out


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
            due=[str(d)[:10] if not _missing(d) else "" for d in decisions["due"]],
        )
        shown = _text_frame(
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
                "" if _missing(d) else str(pd.Timestamp(d).date()) for d in register["reviewed_at"]
            ],
        )
        shown = _text_frame(
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


def demand_section(a: PackInputs) -> Section:
    from sop_core.views.alignment import alignment_table, disagreement_marks, stories_by_month

    r, cur, settings = a.result, a.currency, a.result.model.settings
    stories = stories_by_month(r)
    marks = disagreement_marks(r.disagreements, stories)
    table = alignment_table(r, r.disagreements)
    by_month = _money_table_by_month(
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


def supply_section(a: PackInputs) -> Section:
    r, cur = a.result, a.currency
    res = r.resource
    months = r.months
    blocks = []
    if len(r.model.resources):
        util = res.pivot(index="resource", columns="month", values="utilisation").reindex(
            index=list(r.model.resources), columns=months
        )
        util_table = pd.DataFrame({"Resource": util.index})
        for m in months:
            util_table[m] = (util[m] * 100.0).to_numpy()
        emphasis = util_table.copy()
        emphasis["Resource"] = False
        for m in months:
            emphasis[m] = util_table[m].fillna(0) > 100.0
        kinds = {c: PCT for c in util_table.columns} | {"Resource": TEXT}
        s = r.summary
        peak_res = s["peak_utilisation_resource"]
        over = [m for m in r.model.resources if (util.loc[m].fillna(0) > 1.0).any()]
        text = [
            "Load asked by demand against capacity (the lower of line hours and planned FTE × "
            "hours), by resource and month; over 100 % in bold: demand the resource cannot make."
            + (f" Over 100 %: {', '.join(over)}." if over else " No resource over 100 %.")
        ]
        chart = None
        if peak_res is not None:
            one = res[res["resource"] == peak_res][
                ["month", "resource", "load_hours", "capacity_hours", "utilisation"]
            ]
            chart = charts.load_capacity_chart(one)
            text.append(
                f"Chart: load against capacity (dashed line) of {peak_res}, the most loaded resource."
            )
        blocks.append(
            Block(
                "Utilisation by resource",
                text=tuple(text),
                chart=chart,
                chart_alt=f"Load against capacity, {peak_res}" if peak_res else "",
                table=Table(
                    util_table, kinds, title="Utilisation % by resource", emphasis=emphasis
                ),
            )
        )
        total = res.groupby("month", sort=False)[["fte_needed", "fte_planned"]].sum(min_count=1)
        total = total.reindex(months).reset_index()
        fte_rows = []
        sources = [(n, res[res["resource"] == n].set_index("month")) for n in r.model.resources]
        for name, one in [*sources, ("All resources", total.set_index("month"))]:
            one = one.reindex(months)
            for column, what in (("fte_needed", "needed"), ("fte_planned", "planned")):
                values = dict(zip(months, one[column], strict=True))
                fte_rows.append({"Resource": name, "": what, **values})
        fte = pd.DataFrame(fte_rows)
        fte_kinds = {c: FTE for c in fte.columns} | {"Resource": TEXT, "": TEXT}
        fte_emph = fte.copy()
        fte_emph[["Resource", ""]] = False
        for m in months:
            needed = fte[m].where(fte[""] == "needed")
            planned = fte[m].shift(-1)
            fte_emph[m] = (needed > planned + 1e-9).fillna(False)
        labour = r.disagreements
        labour = (
            labour[labour["type"].isin(["labour_shortfall", "labour_surplus"])]
            if len(labour)
            else labour
        )
        blocks.append(
            Block(
                "Labour: FTE needed against planned",
                text=(
                    "FTE needed = load asked by demand / hours per FTE; planned = the recruitment "
                    "plan. Needed above planned in bold."
                    + (
                        f" {len(labour)} labour disagreement(s), "
                        f"{fmt.money(float(labour['money_at_stake'].sum()), cur)} at stake."
                        if len(labour)
                        else ""
                    ),
                ),
                chart=charts.fte_chart(total),
                chart_alt="FTE needed against planned, all resources",
                table=Table(
                    fte, fte_kinds, title="FTE by resource", key_columns=2, emphasis=fte_emph
                ),
            )
        )
    fam = r.family
    unmet = fam[fam["unmet_units"] > 0.5]
    if unmet.empty:
        blocks.append(Block("Unmet demand", text=("All demand is shipped in every month.",)))
    else:
        grouped = (
            unmet.groupby("family", sort=False)
            .agg(
                units=("unmet_units", "sum"),
                revenue=("unmet_revenue", "sum"),
                months=("month", "size"),
                first=("month", "min"),
                last=("month", "max"),
            )
            .reset_index()
            .sort_values("revenue", ascending=False, kind="stable")
        )
        by_family = pd.DataFrame(
            {
                "Family": grouped["family"],
                "Unmet units": grouped["units"].astype(float),
                "Revenue lost": grouped["revenue"].astype(float),
                "Months short": grouped["months"].astype(float),
                "From": grouped["first"],
                "To": grouped["last"],
            }
        ).reset_index(drop=True)
        kinds = {
            "Family": TEXT,
            "Unmet units": UNITS,
            "Revenue lost": MONEY,
            "Months short": UNITS,
            "From": TEXT,
            "To": TEXT,
        }
        grid = fam.pivot(index="family", columns="month", values="unmet_units").reindex(
            index=list(grouped["family"]), columns=months
        )
        by_month = pd.DataFrame({"Family": grid.index})
        for m in months:
            by_month[m] = grid[m].to_numpy()
        s = r.summary
        blocks.append(
            Block(
                "Unmet demand",
                text=(
                    f"Demand the plan cannot ship (capacity, labour or supplier limits): "
                    f"{fmt.units(s['unmet_units'])} units, {fmt.money(s['unmet_revenue'], cur)} "
                    "of revenue lost over the horizon.",
                ),
                table=Table(by_family, kinds, title="Unmet demand by family", key_columns=0),
                data=(
                    Table(by_family, kinds, title="Unmet demand by family", key_columns=0),
                    Table(
                        by_month,
                        {c: UNITS for c in by_month.columns} | {"Family": TEXT},
                        title="Unmet units by family and month",
                    ),
                ),
            )
        )
    # unmet demand (what the customer does not get) comes right after utilisation
    blocks.insert(min(1, len(blocks) - 1), blocks.pop())
    return Section("supply", "Supply", tuple(blocks), sheet="Supply")


def finance_section(a: PackInputs) -> Section:
    from sop_core.views.budget import budget_fte_grid, budget_to_plan_bridge, gap_by_family

    r, cur = a.result, a.currency
    company = r.company
    minimum = r.model.settings.minimum_cash
    pnl = _money_table_by_month(
        company,
        {
            "revenue": "Revenue",
            "variable_cogs": "Variable COGS",
            "labour_cost": "Labour",
            "gross_margin": "Gross margin",
            "fixed_costs": "Fixed costs",
            "operating_profit": "Operating profit",
        },
        "P&L by month",
    )
    cash = _money_table_by_month(
        company,
        {"cash_flow": "Cash flow", "closing_cash": "Closing cash"},
        "Cash by month",
        total=False,
    )
    cash_emph = pd.DataFrame(False, index=cash.frame.index, columns=cash.frame.columns)
    cash_emph.loc[1, list(r.months)] = (company["closing_cash"] < minimum).to_numpy()
    cash = Table(cash.frame, cash.kinds, title=cash.title, emphasis=cash_emph)
    wc = _money_table_by_month(
        company,
        {"receivables": "Receivables", "inventory_value": "Inventory", "payables": "Payables"},
        "Working capital by month (month end)",
        total=False,
    )
    s = r.summary
    below = company[company["closing_cash"] < minimum]
    cash_text = (
        f"Closing cash by month against the minimum of {fmt.money(minimum, cur)} (dashed line). "
        + (
            f"Below the minimum in {len(below)} month(s), lowest {fmt.money(s['lowest_cash'], cur)} "
            f"in {s['lowest_cash_month']}; those months in bold."
            if len(below)
            else f"Never below the minimum; lowest {fmt.money(s['lowest_cash'], cur)} in {s['lowest_cash_month']}."
        ),
    )
    pnl = replace(pnl, chart_rows=("Revenue", "Gross margin", "Operating profit"))
    cash = replace(cash, chart_rows=("Closing cash",), chart_level=("Minimum cash", minimum))
    wc = replace(wc, chart_rows=("Receivables", "Inventory", "Payables"))
    blocks = [
        Block(
            "P&L by month",
            text=(
                f"Revenue {fmt.money(s['revenue'], cur)}, gross margin {fmt.money(s['gross_margin'], cur)}, "
                f"operating profit {fmt.money(s['operating_profit'], cur)} over the horizon.",
            ),
            chart=charts.pnl_chart(company, cur),
            chart_alt="Revenue, gross margin and operating profit by month",
            table=pnl,
        ),
        Block(
            "Cash",
            text=cash_text,
            chart=charts.cash_chart(company, minimum, cur),
            chart_alt="Closing cash by month with the minimum-cash line",
            table=cash,
        ),
        Block(
            "Working capital",
            text=(
                f"Receivables ({r.dso_days:g} days' sales), inventory at cost and payables "
                f"({r.dpo_days:g} days' material purchases) at each month end.",
            ),
            chart=charts.working_capital_chart(company, cur),
            chart_alt="Receivables, inventory and payables by month",
            table=wc,
        ),
    ]
    if r.summary["budget_revenue"] is None:
        blocks.append(
            Block("Budget to plan", text=("No budget is loaded: there is nothing to bridge from.",))
        )
    else:
        bridge = budget_to_plan_bridge(r, budget_fte_grid(a.budget, r.model))
        steps = pd.DataFrame(
            {"Step": bridge["step"], "Gross margin": bridge["amount"].astype(float)}
        )
        gap = gap_by_family(r.budget_gap)
        by_family = pd.DataFrame(
            {
                "Family": gap["family"],
                "Plan revenue": gap["plan_revenue"],
                "Budget revenue": gap["budget_revenue"],
                "Revenue vs budget": gap["revenue_gap"],
                "Plan gross margin": gap["plan_gross_margin"],
                "Budget gross margin": gap["budget_gross_margin"],
                "Margin vs budget": gap["gross_margin_gap"],
            }
        )
        fam_kinds = {c: MONEY for c in by_family.columns} | {
            "Family": TEXT,
            "Revenue vs budget": MONEY_DELTA,
            "Margin vs budget": MONEY_DELTA,
        }
        blocks.append(
            Block(
                "Budget to plan: gross margin bridge",
                text=(
                    "Gross margin from budget to plan by cause over the months with a budget: "
                    "volume (at the budget's margin rate), price and mix, cost, labour.",
                ),
                chart=charts.bridge_chart(bridge, cur),
                chart_alt="Gross margin bridge from budget to plan",
                table=Table(
                    steps,
                    {"Step": TEXT, "Gross margin": MONEY},
                    title="Bridge steps",
                    key_columns=0,
                ),
                data=(
                    Table(steps, {"Step": TEXT, "Gross margin": MONEY}, title="Bridge steps"),
                    Table(by_family, fam_kinds, title="Plan against budget by family, horizon"),
                ),
            )
        )
        blocks.append(
            Block(
                "Plan against budget by family",
                text=("Revenue and gross margin over the horizon, plan against budget.",),
                table=Table(by_family, fam_kinds, title="Plan against budget by family"),
            )
        )
    # the workbook's finance sheet gets the P&L, cash and working capital as numbers too
    return Section("finance", "Finance", tuple(blocks), sheet="Finance")


def scenarios_section(a: PackInputs) -> Section:
    from sop_core.meeting.scenarios import list_scenarios, usable_levers
    from sop_core.plan.engine import compute
    from sop_core.plan.levers import levers_to_strings

    r, cur, model, cycle = a.result, a.currency, a.model, a.cycle
    saved = list_scenarios(a.store, cycle)
    plans = [("Base plan", "no levers", compute(model, {}) if r.levers else r)]
    from sop_core.plan.levers import levers_from_json

    for row in saved.itertuples():
        try:
            items = levers_to_strings(levers_from_json(row.levers))
            levers, dropped = usable_levers(items, model.families, model.resources)
            result = compute(model, levers)
        except SopError as exc:
            a.warnings.append(f'Scenario "{row.name}" could not be computed: {exc}')
            continue
        name = row.name + (" (promoted)" if row.promoted else "")
        text = describe_levers(levers)
        if dropped:
            text += f" (dropped: {'; '.join(dropped)})"
        plans.append((name, text, result))
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


def safe(fn, *args):
    """(value, None) or (None, a one-line notice): a panel that cannot compute degrades."""
    try:
        return fn(*args), None
    except SopError as exc:
        return None, str(exc).splitlines()[0]


def track_bias(store, data, cycle: str | None) -> pd.DataFrame:
    from sop_core.forecasting.trackrecord import source_bias, track_record

    if cycle is None:
        raise SopError("No S&OP cycle: there is no track record to score.")
    history = store.query(SQL_BASELINE_HISTORY, [cycle])
    track = track_record(
        data.tables["actuals"],
        data.tables["forecasts"],
        data.tables["products"],
        current_cycle=cycle,
        baseline_history=history,
    )
    return source_bias(track, data.settings.tolerance_pct)
