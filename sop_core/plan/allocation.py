"""Margin-optimal allocation of short capacity: one linear programme per month (scipy's HiGHS).

When a month's resources cannot make everything the supply plan asks for, ``allocation=margin``
makes what earns the most contribution margin instead of sharing capacity pro rata:

    maximise   Σ_s (unit_price − unit_material_cost − unit_variable_cost) × P(s)
    subject to Σ_s P(s) × hours_per_unit(s, r) ≤ cap(r)   for every resource r
               0 ≤ P(s) ≤ min(req(s), max_units(s))

Only the resources that are short (asked for more than their capacity) and the skus routed on
them enter the programme: a resource with room binds nothing, and a sku using none of the short
resources is made in full. The duals of the capacity rows are the shadow prices: what one more
hour of a short resource is worth in that month's contribution.
"""

from __future__ import annotations

import numpy as np
from scipy.sparse import csc_matrix

from sop_core.errors import PlanError

__all__ = ["margin_month"]


def margin_month(
    upper: np.ndarray, contribution: np.ndarray, routing, capacity: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """One month's production under ``allocation=margin``.

    Args:
        upper: ``(S,)`` the most each sku may make: ``min(req, max_units)``.
        contribution: ``(S,)`` unit contribution: price − material − variable cost.
        routing: ``supply.Routing``.
        capacity: ``(R,)`` hours, ``inf`` = unlimited.

    Returns:
        ``(P, shadow)``: ``(S,)`` production and ``(R,)`` shadow prices (money per hour; 0 where
        a resource has room). ``Σ_s P × hours_per_unit ≤ capacity`` for every resource.

    Raises:
        PlanError: the solver fails (it should not: making nothing is always feasible).
    """
    # imported on first use: a fifth of a second of every start of the app otherwise
    from scipy.optimize import linprog

    n_resources = routing.n_resources
    shadow = np.zeros(n_resources)
    upper = np.maximum(np.asarray(upper, dtype=float), 0.0)
    short = routing.load(upper) > capacity
    if not short.any():
        return upper.copy(), shadow
    on_short = short[routing.resource] & (upper[routing.sku] > 0)
    pair_sku = routing.sku[on_short]
    in_programme = np.zeros(len(upper), dtype=bool)
    in_programme[pair_sku] = True
    skus = np.flatnonzero(in_programme)
    column_of = np.cumsum(in_programme) - 1  # sku index -> column of the programme
    rows_of = np.cumsum(short) - 1  # resource index -> row of the programme
    short_index = np.flatnonzero(short)
    a_ub = csc_matrix(
        (routing.hours[on_short], (rows_of[routing.resource[on_short]], column_of[pair_sku])),
        shape=(len(short_index), len(skus)),
    )
    bounds = np.column_stack((np.zeros(len(skus)), upper[skus]))
    res = linprog(
        -np.asarray(contribution, dtype=float)[skus],
        A_ub=a_ub,
        b_ub=capacity[short_index],
        bounds=bounds,
        method="highs-ds",
        # HiGHS' presolve costs more than it saves on a programme of a few rows: measured in
        # bench/bench_plan.py (about half the time of a month at 10,000 skus)
        options={"presolve": False},
    )
    if res.status != 0 or res.x is None:
        raise PlanError(f"The margin allocation could not be solved: {res.message}")
    production = upper.copy()
    production[skus] = np.clip(res.x, 0.0, upper[skus])
    # the solver's tolerance may leave a resource a hair over capacity: scale its skus back
    used = routing.load(production)
    over = used > capacity
    if over.any():
        ratio = np.ones(n_resources)
        ratio[over] = capacity[over] / used[over]
        production = production * routing.min_over_resources(ratio)
    # a minimisation's marginals are ≤ 0: an hour more lowers −contribution
    shadow[short_index] = np.maximum(-np.asarray(res.ineqlin.marginals, dtype=float), 0.0)
    return production, shadow
