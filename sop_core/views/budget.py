"""The bridge from budget to plan gross margin: volume, price and mix, cost, labour.

Budget gross margin of family f: ``GM_b,f`` on revenue ``R_b,f`` (margin rate ``m_f = GM_b,f / R_b,f``).
Plan: revenue ``R_p,f``, variable COGS ``VC_p,f``, labour ``L_p,f`` (allocated as in the engine).

- Volume: ``(ΣR_p − ΣR_b) × ΣGM_b / ΣR_b`` — the revenue change at the budget's overall margin rate.
- Price and mix: ``Σ_f (R_p,f − R_b,f) × m_f − Volume`` — what the revenue change brings beyond that,
  because it falls in families (and at prices) with higher or lower budget margins.
- Labour: ``−(ΣL_p − L_b)`` where the budget's labour ``L_b = Σ budget headcount_fte × the plan's
  average cost per planned FTE`` when the budget carries ``headcount_fte``; else 0.
- Cost: the rest, ``ΣGM_p − ΣGM_b − Volume − Price and mix − Labour`` — the plan's material,
  variable and labour cost rate against the budget's margin rate.

The steps add up exactly to the plan's gross margin. Families or months without a budget row are
left out of both ends (the bridge compares like with like).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["budget_to_plan_bridge", "budget_fte_grid", "gap_by_family", "BRIDGE_STEPS"]

BRIDGE_STEPS = (
    "Budget gross margin",
    "Volume",
    "Price and mix",
    "Cost",
    "Labour",
    "Plan gross margin",
)


def budget_to_plan_bridge(result, budget_fte: np.ndarray | None = None) -> pd.DataFrame:
    """Gross margin from budget to plan by cause, over the horizon.

    Args:
        result: a PlanResult.
        budget_fte: ``(M, F)`` budget headcount FTE (NaN where none), or None.

    Returns:
        columns step, amount, kind ('total' for the two ends, 'delta' between), in BRIDGE_STEPS order.
    """
    m = result.model
    a = result.family_arrays
    has = ~np.isnan(m.budget_revenue) & ~np.isnan(m.budget_gross_margin)
    r_b = np.where(has, m.budget_revenue, 0.0)
    gm_b = np.where(has, m.budget_gross_margin, 0.0)
    r_p = np.where(has, a["revenue"], 0.0)
    gm_p = np.where(has, a["gross_margin"], 0.0)
    l_p = np.where(has, a["labour_cost"], 0.0)
    total_rb, total_gmb = float(r_b.sum()), float(gm_b.sum())
    rate = total_gmb / total_rb if total_rb else 0.0
    volume = (float(r_p.sum()) - total_rb) * rate
    with np.errstate(divide="ignore", invalid="ignore"):
        m_f = np.where(r_b != 0, gm_b / np.where(r_b != 0, r_b, 1.0), 0.0)
    price_mix = float(((r_p - r_b) * m_f).sum()) - volume
    labour = 0.0
    if budget_fte is not None and np.isfinite(budget_fte).any():
        planned = np.nansum(result.planned_fte)
        cost_per = (
            float(np.nansum(result.planned_fte * result.model.cost_per_fte[None, :]) / planned)
            if planned
            else 0.0
        )
        l_b = float(np.nansum(np.where(has, budget_fte, np.nan))) * cost_per
        labour = -(float(l_p.sum()) - l_b)
    total_gmp = float(gm_p.sum())
    cost = total_gmp - total_gmb - volume - price_mix - labour
    return pd.DataFrame(
        {
            "step": list(BRIDGE_STEPS),
            "amount": [total_gmb, volume, price_mix, cost, labour, total_gmp],
            "kind": ["total", "delta", "delta", "delta", "delta", "total"],
        }
    )


def budget_fte_grid(budget: pd.DataFrame, model) -> np.ndarray | None:
    """The budget's headcount_fte as ``(M, F)`` in the model's order; None if the column is empty."""
    if "headcount_fte" not in budget or budget["headcount_fte"].isna().all():
        return None
    grid = budget.pivot_table(
        index="month", columns="family", values="headcount_fte", aggfunc="sum"
    )
    grid = grid.reindex(index=list(model.months), columns=list(model.families))
    return grid.to_numpy(dtype=float)


GAP_COLUMNS = [
    "plan_revenue",
    "budget_revenue",
    "revenue_gap",
    "plan_gross_margin",
    "budget_gross_margin",
    "gross_margin_gap",
]


def gap_by_family(budget_gap: pd.DataFrame) -> pd.DataFrame:
    """Plan against budget summed per family over the months that have a budget row
    (``PlanResult.budget_gap`` in): the plan columns add up the same family-months as the budget,
    so the gaps add up to the summary's ``revenue_vs_budget`` and ``gross_margin_vs_budget``.

    Returns columns family and GAP_COLUMNS, families in the order given; a family with no budget
    row keeps NaN figures (not 0).
    """
    same_cells = budget_gap.assign(
        plan_revenue=budget_gap["plan_revenue"].where(budget_gap["budget_revenue"].notna()),
        plan_gross_margin=budget_gap["plan_gross_margin"].where(
            budget_gap["budget_gross_margin"].notna()
        ),
    )
    return same_cells.groupby("family", sort=False, as_index=False)[GAP_COLUMNS].sum(min_count=1)
