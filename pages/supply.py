"""Supply review: what the business can deliver — load against capacity, labour, supplier limits, inventory, unmet demand."""

import pandas as pd
import streamlit as st

from sop_core import fmt
from sop_core.months import month_label
from sop_core.views.alignment import resources_of_family
from sop_core.views.charts import (
    fte_chart,
    inventory_cover_chart,
    load_capacity_chart,
    run_down_chart,
    utilisation_heatmap,
)
from sop_core.views.lifecycle import run_down, stock_left_table
from sop_core.views.supply import inventory_cover, supplier_limits, unmet_by_family, unmet_totals
from ui import plan, state
from ui.text import plain

store = state.get_store()
cycle = state.selected_cycle(store)
family = state.selected_family()
result, plan_label, _ = plan.cycle_plan(store, cycle)
model = result.model
cur = state.settings(store).currency

st.title("Supply review")
st.caption(
    f"What the business can deliver · cycle {cycle} · {plain(family or 'all families')} · "
    f"{plain(plan_label)}. "
    "Load and FTE needed are what demand asks for, so a shortfall shows instead of hiding behind a scaled-down plan."
)

resources = list(model.resources) if family is None else resources_of_family(model, family)
res = result.resource
res = res[res["resource"].isin(resources)]
if res.empty:
    st.info(
        "No resources are loaded, so there is no capacity limit: import resources, routings and capacity on the Data page."
    )
else:
    over = res[res["utilisation"] > 1.0]
    fte_gap = (res["fte_needed"] - res["fte_planned"]).where(res["fte_planned"].notna())
    peak_row = res.loc[res["utilisation"].fillna(-1).idxmax()]
    m1, m2, m3, m4 = st.columns(4)
    m1.metric(
        "Peak utilisation",
        fmt.pct(peak_row["utilisation"] * 100) if pd.notna(peak_row["utilisation"]) else "—",
        f"{peak_row['resource']}, {month_label(peak_row['month'])}",
        delta_color="off",
        delta_arrow="off",
        border=True,
    )
    m2.metric(
        "Months over capacity",
        f"{len(over)}",
        ", ".join(sorted(over["resource"].unique())) or "none",
        delta_color="off",
        delta_arrow="off",
        help="Resource-months whose load (hours demand needs) exceeds the capacity available.",
        border=True,
    )
    short = fte_gap[fte_gap > 0]
    m3.metric(
        "Largest FTE shortfall",
        f"{short.max():.1f} FTE" if len(short) else "none",
        f"{res.loc[short.idxmax(), 'resource']}, {month_label(res.loc[short.idxmax(), 'month'])}"
        if len(short)
        else None,
        delta_color="off",
        delta_arrow="off",
        border=True,
    )
    unmet_units, unmet_revenue = unmet_totals(result, family)
    m4.metric(
        "Unmet demand (units)",
        fmt.units(unmet_units),
        f"{fmt.money(unmet_revenue, cur)} of sales lost",
        delta_color="inverse" if unmet_units >= 0.5 else "off",
        delta_arrow="off",
        border=True,
    )

    if family:
        st.caption(
            f"The {len(resources)} resource(s) {plain(family)} is made on. Their load, capacity "
            "and FTE are the whole resource's: other families share them."
        )
    st.altair_chart(
        utilisation_heatmap(res, title="Utilisation by resource and month (%)"), width="stretch"
    )
    chosen = (
        st.segmented_control(
            "Resource", resources, default=peak_row["resource"], key="supply_resource"
        )
        or peak_row["resource"]
    )
    one = res[res["resource"] == chosen]
    left, right = st.columns(2, gap="large")
    with left:
        st.altair_chart(
            load_capacity_chart(one, title=f"{chosen}: load against capacity (hours)"),
            width="stretch",
        )
    with right:
        if one["fte_planned"].notna().any():
            st.altair_chart(
                fte_chart(one, title=f"{chosen}: FTE needed against planned"), width="stretch"
            )
        else:
            st.info(
                f"{plain(chosen)} has no headcount plan: import headcount rows to compare labour needed "
                "with planned."
            )

st.subheader("Projected inventory and days of cover")
cover = inventory_cover(result, family)
st.altair_chart(
    inventory_cover_chart(cover, title="End inventory (units) and days of cover"), width="stretch"
)

stock_left = stock_left_table(result, family)
if len(stock_left):
    st.subheader("Stock left at end of life")
    st.caption(
        "Products that end in the plan with stock still on hand: it stays in inventory, valued at "
        "cost, until it is sold off or written off."
    )
    st.dataframe(
        pd.DataFrame(
            {
                "what": stock_left["title"],
                "end": stock_left["month"],
                "units left": [fmt.units(v) for v in stock_left["units"]],
                "value at cost": [fmt.money(v, cur) for v in stock_left["value"]],
                "severity": stock_left["severity"],
            }
        ),
        hide_index=True,
        key="supply_stock_left",
    )
    ended = st.selectbox(
        "Run-down of",
        list(stock_left["sku"]),
        format_func=dict(zip(stock_left["sku"], stock_left["name"], strict=True)).get,
        key="supply_run_down",
    )
    st.altair_chart(
        run_down_chart(run_down(result, ended), title=f"{ended}: end inventory and demand (units)"),
        width="stretch",
    )

left, right = st.columns(2, gap="large")
with left:
    st.subheader("Unmet demand")
    unmet = unmet_by_family(result, family)
    if unmet.empty:
        st.success("Every unit of demand ships in the horizon.")
    else:
        st.dataframe(
            pd.DataFrame(
                {
                    "month": unmet["month"],
                    "family": unmet["family"],
                    "demand (units)": [fmt.units(v) for v in unmet["demand_units"]],
                    "unmet (units)": [fmt.units(v) for v in unmet["unmet_units"]],
                    "revenue lost": [fmt.money(v, cur) for v in unmet["unmet_revenue"]],
                }
            ),
            hide_index=True,
            key="supply_unmet",
        )
with right:
    st.subheader("Supplier limits")
    limits = supplier_limits(result, family)
    if limits.empty:
        st.caption(
            "No supplier or material limits in the horizon (import supply_limits to add them)."
        )
    else:
        binding = int(limits["binding"].sum())
        costly = int((limits["unshipped_units"] >= 0.5).sum())
        st.caption(
            f"{len(limits)} limit(s) in the horizon; {binding} hold production below what capacity "
            f"allows, {costly} of them leave demand unshipped. A limit that holds production back "
            "without leaving demand unshipped only slows the stock built up for cover."
        )
        st.dataframe(
            pd.DataFrame(
                {
                    "month": [month_label(m) for m in limits["month"]],
                    "sku": limits["sku"],
                    "limit (units)": [fmt.units(v) for v in limits["max_units"]],
                    "capacity allows": [fmt.units(v) for v in limits["wanted_units"]],
                    "held back (units)": [
                        fmt.units(v) if v else "—" for v in limits["short_units"]
                    ],
                    "demand unshipped (units)": [
                        fmt.units(v) if v >= 0.5 else "—" for v in limits["unshipped_units"]
                    ],
                }
            ),
            hide_index=True,
            key="supply_limits",
        )
