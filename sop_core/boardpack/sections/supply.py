"""The board pack's supply section: utilisation, labour, inventory cover, unmet demand."""

from __future__ import annotations

import pandas as pd

from sop_core import fmt
from sop_core.boardpack.model import (
    FTE,
    MONEY,
    PCT,
    TEXT,
    UNITS,
    Block,
    Section,
    Table,
)
from sop_core.boardpack.sections.common import (
    PackInputs,
)
from sop_core.plan.disagreements import totals_of_table
from sop_core.views import charts
from sop_core.views.lifecycle import stock_left_table

__all__ = ["supply_section"]


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
                        f" {len(labour)} labour disagreement(s) by month, "
                        f"{fmt.money(totals_of_table(labour).money, cur)} at stake (labour cost "
                        "without work; sales lost to a labour shortfall are counted under the "
                        "resource's root cause)."
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
    left = stock_left_table(r)
    if len(left):
        table = Table(
            pd.DataFrame(
                {
                    "Product": left["name"],
                    "Sku": left["sku"],
                    "Family": left["family"],
                    "Ends": left["month"],
                    "Units left": left["units"],
                    "Value at cost": left["value"],
                }
            ),
            {
                "Product": TEXT,
                "Sku": TEXT,
                "Family": TEXT,
                "Ends": TEXT,
                "Units left": UNITS,
                "Value at cost": MONEY,
            },
            title="Stock left at end of life",
            key_columns=1,
        )
        blocks.append(
            Block(
                "Stock left at end of life",
                text=(
                    f"{len(left)} product(s) end in the plan with stock on hand: "
                    f"{fmt.money(float(left['value'].sum()), cur)} at cost, in inventory until "
                    "sold off or written off.",
                    *left["title"],
                ),
                table=table,
            )
        )
    return Section("supply", "Supply", tuple(blocks), sheet="Supply")
