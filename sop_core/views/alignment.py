"""The three stories side by side: demand, supply and finance in money by month, with the disagreements."""

from __future__ import annotations

import numpy as np
import pandas as pd

from sop_core import fmt

__all__ = [
    "STORIES",
    "REVIEW_STORY",
    "REVIEW_PAGE",
    "TYPE_LABELS",
    "stories_by_month",
    "alignment_table",
    "filter_disagreements",
    "disagreement_marks",
    "resources_of_family",
    "story_gaps",
    "story_texts",
    "GAP_PANELS",
]

STORIES = ("Demand", "Supply", "Finance")
# Which story a disagreement is drawn on, and which review resolves it (and its page).
REVIEW_STORY = {
    "Demand review": "Demand",
    "Supply review": "Supply",
    "Integrated reconciliation": "Finance",
}
REVIEW_PAGE = {
    "Demand review": "demand",
    "Supply review": "supply",
    "Integrated reconciliation": "finance",
}
TYPE_LABELS = {
    "unmet_demand": "Unmet demand",
    "capacity_overload": "Capacity overload",
    "capacity_warning": "Capacity above 90 %",
    "labour_shortfall": "Under-recruitment",
    "labour_surplus": "Over-recruitment",
    "stock_left_end_of_life": "Stock left at end of life",
    "revenue_vs_budget": "Revenue vs budget",
    "margin_vs_budget": "Margin vs budget",
    "inventory_vs_budget": "Inventory vs budget",
    "cash_below_minimum": "Cash below minimum",
    "forecast_inflated": "Forecast inflated",
    "forecast_sandbagged": "Forecast sandbagged",
    "assumption_drift": "Assumption contradicted by actuals",
}
_SEVERITY_RANK = {"high": 0, "medium": 1, "low": 2}


def _family_index(model, family: str | None) -> np.ndarray:
    if family is None:
        return np.arange(len(model.families))
    return np.array([i for i, f in enumerate(model.families) if f == family], dtype=int)


def stories_by_month(result, family: str | None = None) -> pd.DataFrame:
    """Each story's revenue by month: what demand asks for, what supply can ship, what finance budgets.

    Demand = demand plan units × unit price; Supply = shipped units × unit price (the plan's
    revenue); Finance = budget revenue (missing budget months are left out).

    Returns columns month, story, value (long, in STORIES order within a month).
    """
    m = result.model
    demand_rev = m.family_sum(result.demand * result.unit_price)
    supply_rev = result.family_arrays["revenue"]
    fi = _family_index(m, family)
    budget = m.budget_revenue[:, fi]
    budget_total = np.where(np.isnan(budget).all(axis=1), np.nan, np.nansum(budget, axis=1))
    frame = pd.DataFrame(
        {
            "month": list(m.months),
            "Demand": demand_rev[:, fi].sum(axis=1),
            "Supply": supply_rev[:, fi].sum(axis=1),
            "Finance": budget_total,
        }
    )
    long = frame.melt(
        id_vars="month", value_vars=list(STORIES), var_name="story", value_name="value"
    )
    return long.dropna(subset=["value"]).reset_index(drop=True)


def resources_of_family(model, family: str) -> list[str]:
    """Resources that the family's skus are routed through."""
    rows = model.sku_family == model.families.index(family)
    used = (model.hours_per_unit[rows] > 0).any(axis=0)
    return [r for r, u in zip(model.resources, used, strict=True) if u]


def story_texts(dis: pd.DataFrame, currency: str) -> tuple[pd.Series, pd.Series, list[str]]:
    """Each disagreement's two stories with their figures ("Demand plan: 1,200 units") and the
    gap between them, signed, each in its own unit: the same words on the pages and in the pack."""
    unit = dis["unit"].astype(str)

    def figures(column: str, signed: bool = False) -> list[str]:
        return [
            fmt.in_unit(v, u, currency, signed=signed)
            for v, u in zip(dis[column], unit, strict=True)
        ]

    return (
        dis["story_a"] + ": " + figures("figure_a"),
        dis["story_b"] + ": " + figures("figure_b"),
        figures("gap", signed=True),
    )


def filter_disagreements(
    dis: pd.DataFrame,
    model,
    *,
    family: str | None = None,
    resource: str | None = None,
    types: list[str] | None = None,
    severities: list[str] | None = None,
) -> pd.DataFrame:
    """Disagreements narrowed by family (its own rows, its resources' rows, company rows), resource, type, severity."""
    out = dis
    if family:
        fam_resources = set(resources_of_family(model, family))
        is_family = out["family"] == family
        is_resource = out["family"].isna() & out["resource"].isin(fam_resources)
        is_company = out["family"].isna() & out["resource"].isna()
        out = out[is_family | is_resource | is_company]
    if resource:
        out = out[out["resource"] == resource]
    if types:
        out = out[out["type"].isin(types)]
    if severities:
        out = out[out["severity"].isin(severities)]
    return out.reset_index(drop=True)


def disagreement_marks(dis: pd.DataFrame, stories: pd.DataFrame) -> pd.DataFrame:
    """One mark per month and story: how many disagreements, their money, the worst severity, drawn on that story's line.

    Returns columns month, story, y, count, money_at_stake, severity, type (the types, joined), entity.
    """
    cols = ["month", "story", "y", "count", "money_at_stake", "severity", "type", "entity"]
    if dis.empty:
        return pd.DataFrame(columns=cols)
    d = dis.assign(
        story=dis["review"].map(REVIEW_STORY).fillna("Finance"),
        rank=dis["severity"].map(_SEVERITY_RANK).fillna(2),
        label=dis["type"].map(TYPE_LABELS).fillna(dis["type"]),
    )
    grouped = d.groupby(["month", "story"], as_index=False).agg(
        count=("type", "size"),
        money_at_stake=("money_at_stake", "sum"),
        rank=("rank", "min"),
        type=("label", lambda s: ", ".join(dict.fromkeys(s))),
        entity=("entity", lambda s: ", ".join(dict.fromkeys(s.astype(str)))),
    )
    grouped["severity"] = grouped["rank"].map({0: "high", 1: "medium", 2: "low"})
    y = stories.pivot_table(index="month", columns="story", values="value", aggfunc="sum")
    fallback = y.max(axis=1)

    def y_of(row) -> float:
        if (
            row["story"] in y.columns
            and row["month"] in y.index
            and pd.notna(y.at[row["month"], row["story"]])
        ):
            return float(y.at[row["month"], row["story"]])
        return float(fallback.get(row["month"], 0.0))

    grouped["y"] = grouped.apply(y_of, axis=1) if len(grouped) else []
    return grouped[cols]


def alignment_table(result, dis: pd.DataFrame, family: str | None = None) -> pd.DataFrame:
    """Per month: the three stories in money, the gaps between them, and the disagreements there.

    Returns columns month, demand, supply, finance, supply_vs_demand, supply_vs_budget,
    disagreements, money_at_stake, worst (severity), issues (type labels).
    """
    wide = stories_by_month(result, family).pivot_table(
        index="month", columns="story", values="value", aggfunc="sum"
    )
    wide = wide.reindex(index=list(result.model.months), columns=list(STORIES))
    out = pd.DataFrame(
        {
            "month": wide.index,
            "demand": wide["Demand"].to_numpy(),
            "supply": wide["Supply"].to_numpy(),
            "finance": wide["Finance"].to_numpy(),
        }
    )
    out["supply_vs_demand"] = out["supply"] - out["demand"]
    out["supply_vs_budget"] = out["supply"] - out["finance"]
    if dis.empty:
        out["disagreements"], out["money_at_stake"], out["worst"], out["issues"] = 0, 0.0, "", ""
        return out
    counted = dis["counted"].astype(bool) & (dis["status"] == "open")
    d = dis.assign(
        rank=dis["severity"].map(_SEVERITY_RANK).fillna(2),
        label=dis["type"].map(TYPE_LABELS).fillna(dis["type"]),
        counted_money=dis["money_at_stake"].where(counted, 0.0),
    )
    per = d.groupby("month").agg(
        disagreements=("type", "size"),
        money_at_stake=("counted_money", "sum"),
        rank=("rank", "min"),
        issues=("label", lambda s: ", ".join(dict.fromkeys(s))),
    )
    per["worst"] = per["rank"].map({0: "high", 1: "medium", 2: "low"})
    out = out.merge(per.drop(columns="rank"), left_on="month", right_index=True, how="left")
    out["disagreements"] = out["disagreements"].fillna(0).astype(int)
    out["money_at_stake"] = out["money_at_stake"].fillna(0.0)
    out["worst"] = out["worst"].fillna("")
    out["issues"] = out["issues"].fillna("")
    return out


GAP_PANELS = (
    "Demand against the budget",
    "Sales lost to supply",
    "Forecast against the baseline",
    "Hours asked beyond capacity",
    "Cash against the minimum",
)
GAP_COLUMNS = ["panel", "month", "value", "unit", "note"]


def story_gaps(result, family: str | None = None) -> pd.DataFrame:
    """The gaps between the stories, month by month, one panel each, in the panel's own unit.

    - Demand against the budget: demand at plan prices − budget revenue (months with a budget);
    - Sales lost to supply: − unmet demand × price (what supply cannot ship);
    - Forecast against the baseline: the revenue a biased sales or marketing forecast moves in the
      plan, + inflated, − sandbagged (the disagreement rows' money);
    - Hours asked beyond capacity: Σ over overloaded resources of load − capacity (the family's
      resources when a family is chosen);
    - Cash against the minimum: closing cash − minimum cash (company only).

    ``note`` on each panel's first row names its largest open root cause (empty if none).

    Returns columns GAP_COLUMNS.
    """
    m = result.model
    fi = _family_index(m, family)
    months = list(m.months)
    cur = m.settings.currency
    causes = result.root_causes
    causes = causes[(causes["status"] == "open") & (causes["money_at_stake"] > 0)]
    if family is not None:
        causes = causes[(causes["entity"] == family) | causes["kind"].isin(["capacity", "cash"])]
    rows: list[tuple] = []

    def add(panel: str, values, unit: str, kinds: tuple[str, ...]) -> None:
        top = causes[causes["kind"].isin(kinds)]
        note = top["title"].iloc[0] if len(top) else ""
        for k, (month, value) in enumerate(zip(months, values, strict=True)):
            if value is not None and not (isinstance(value, float) and np.isnan(value)):
                rows.append((panel, month, float(value), unit, note if k == 0 else ""))

    demand = m.family_sum(result.demand * result.unit_price)[:, fi]
    budget = m.budget_revenue[:, fi]
    has = ~np.isnan(budget)
    vs_budget = np.where(
        has.any(axis=1), (demand * has).sum(axis=1) - np.nansum(budget, axis=1), np.nan
    )
    add(GAP_PANELS[0], vs_budget, cur, ("budget_revenue",))
    lost = result.family_arrays["unmet_revenue"][:, fi].sum(axis=1)
    add(GAP_PANELS[1], -lost, cur, ("capacity", "supply_limit", "unmet"))
    dis = result.disagreements
    bias = dis[
        dis["type"].isin(["forecast_inflated", "forecast_sandbagged"]) & (dis["status"] == "open")
    ]
    if family is not None:
        bias = bias[bias["family"] == family]
    signed = bias["money_at_stake"].where(
        bias["type"] == "forecast_inflated", -bias["money_at_stake"]
    )
    by_month = signed.groupby(bias["month"]).sum().reindex(months, fill_value=0.0)
    add(GAP_PANELS[2], by_month.to_numpy(), cur, ("bias",))
    load, cap = result.supply.load, result.supply.capacity
    keep = np.ones(len(m.resources), dtype=bool)
    if family is not None:
        keep = np.isin(np.asarray(m.resources, dtype=object), resources_of_family(m, family))
    over = np.where(np.isfinite(cap) & (load > cap), load - cap, 0.0)[:, keep].sum(axis=1)
    add(GAP_PANELS[3], over, "hours", ("capacity",))
    if family is None:
        minimum = float(m.settings.minimum_cash)
        add(GAP_PANELS[4], result.finance.closing_cash - minimum, cur, ("cash",))
    return pd.DataFrame(rows, columns=GAP_COLUMNS)
