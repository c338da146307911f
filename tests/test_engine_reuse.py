"""Plans under levers that leave the supply plan's inputs alone share the supply plan, and the
figures built on it, with the plan they came from: the same figures as plans worked out afresh."""

from __future__ import annotations

import shutil
from dataclasses import replace

import numpy as np
import pytest

from sop_core.plan import engine
from sop_core.plan.disagreements import disagreement_totals
from sop_core.plan.service import model_for_store
from sop_core.store.db import Store


@pytest.fixture(scope="module")
def model(demo_store_file, tmp_path_factory):
    db = tmp_path_factory.mktemp("reuse") / "demo.duckdb"
    shutil.copy(demo_store_file, db)
    with Store(db) as store:
        return model_for_store(store)


def _fresh(model, levers):
    """The plan worked out on a copy of the model: nothing reused."""
    return engine.compute(replace(model), levers)


def _same_figures(a, b):
    for name in ("revenue", "gross_margin", "closing_cash", "inventory_value", "payables"):
        np.testing.assert_array_equal(getattr(a.finance, name), getattr(b.finance, name))
    np.testing.assert_array_equal(a.finance.labour_sku, b.finance.labour_sku)
    np.testing.assert_array_equal(a.supply.unmet, b.supply.unmet)
    ta = disagreement_totals(a.model, a)
    tb = disagreement_totals(b.model, b)
    assert (ta.rows, ta.root_causes) == (tb.rows, tb.root_causes)
    assert ta.money == pytest.approx(tb.money, rel=1e-12)


@pytest.mark.parametrize(
    "levers",
    [
        ["price_change_pct=-7"],
        ["dso_days=55", "dpo_days=20"],
        ["fixed_costs_change_pct=10"],
    ],
)
def test_a_lever_the_supply_plan_does_not_read_reuses_it(model, levers):
    base = engine.compute(model, [])
    changed = engine.compute(model, levers)
    assert changed.supply is base.supply
    assert base.supply.unmet.sum() > 0  # the demo loses sales: the causes are there to share
    _same_figures(changed, _fresh(model, levers))
    assert not np.array_equal(changed.finance.closing_cash, base.finance.closing_cash)


@pytest.mark.parametrize(
    "levers",
    [
        ["volume_change_pct=5"],
        ["headcount_change_fte:Press & Weld=3"],
        ["price_change_pct=-7", "price_elasticity=-1.5"],  # price moves demand
    ],
)
def test_a_lever_that_moves_supply_plans_it_again(model, levers):
    base = engine.compute(model, [])
    changed = engine.compute(model, levers)
    assert changed.supply is not base.supply
    assert not np.array_equal(changed.supply.production, base.supply.production)
    _same_figures(changed, _fresh(model, levers))


def test_the_labour_shared_by_load_follows_the_headcount_on_a_shared_supply_plan(model):
    """More people on a resource whose hours are capped by the capacity table cost more labour
    but leave its capacity, so the supply plan, as it was."""
    staffed = np.isfinite(model.planned_fte).all(axis=0) & (model.cost_per_fte > 0)
    r = int(np.flatnonzero(staffed)[0])
    available = model.available_hours.copy()
    available[:, r] = model.planned_fte[:, r] * model.hours_per_fte[r] * 0.5  # hours cap it
    own = replace(model, available_hours=available)
    levers = [f"headcount_change_fte:{model.resources[r]}=2"]
    base = engine.compute(own, [])
    changed = engine.compute(own, levers)
    assert changed.supply is base.supply
    # 2 FTE more on resource r each month: its labour cost, shared over its skus by load
    extra = 2 * model.cost_per_fte[r] * len(model.months)
    assert changed.finance.labour_sku.sum() - base.finance.labour_sku.sum() == pytest.approx(extra)
    _same_figures(changed, _fresh(own, levers))


def test_the_model_prepared_while_the_track_record_is_scored_is_the_one_prepared_in_turn(
    demo_store_file, tmp_path
):
    """``service.prepared`` scores the track record in a second thread: the same model, array for
    array, as the baseline checked, the verdicts scored and ``prepare`` run one after another."""
    from sop_core.plan.model import prepare
    from sop_core.plan.service import bias_verdicts, prepared, with_baseline
    from sop_core.store.plandata import load_plan_data

    db = tmp_path / "demo.duckdb"
    shutil.copy(demo_store_file, db)
    with Store(db) as store:
        data = load_plan_data(store)
        live, bias, model = prepared(store, data)
        in_turn = with_baseline(store, data)
        expected_bias = bias_verdicts(in_turn)
        expected = prepare(in_turn, bias=expected_bias)
    assert bias is not None and bias.equals(expected_bias)
    assert (model.bias_verdict != 0).any()  # the demo has biased sources: the verdicts count
    for name, value in vars(expected).items():
        if isinstance(value, np.ndarray) and value.dtype.kind in "fiub":
            np.testing.assert_array_equal(getattr(model, name), value, err_msg=name)
    assert live.baseline.equals(in_turn.baseline)
