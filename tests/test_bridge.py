"""The bridge between two plans by cause: hand-computed single causes, and the steps add up."""

import copy

import pandas as pd
import pytest
from _rhythm import CYCLE, MONTHS, make_store, small_frames

from sop_core.errors import SopError
from sop_core.meeting import cycles
from sop_core.meeting.versions import PlanVersion, list_versions, plan_totals
from sop_core.plan.engine import compute
from sop_core.plan.model import prepare
from sop_core.store.plandata import plan_data_from_frames
from sop_core.views.bridge import (
    CAUSES,
    METRICS,
    bridge_between,
    bridge_for_cycle,
    bridge_versions,
    waterfall_steps,
)

NEXT = "2026-02"


def _version(frames, cycle, levers=None) -> PlanVersion:
    data = plan_data_from_frames(frames, cycle=cycle)
    forecasts = data.tables["forecasts"]
    tables = {**data.tables, "forecasts": forecasts[forecasts["cycle"] == cycle]}
    return PlanVersion(
        cycle=cycle,
        months=tuple(data.months),
        tables=tables,
        baseline=data.baseline,
        scenario_name="s" if levers else None,
        levers=levers or {},
    )


def _new_frames():
    """The old company, re-forecast in the next cycle with the same numbers."""
    frames = copy.deepcopy(small_frames())
    frames["forecasts"] = frames["forecasts"].assign(cycle=NEXT)
    return frames


def _set(frame, where: dict, **values):
    mask = pd.Series(True, index=frame.index)
    for col, val in where.items():
        mask &= frame[col] == val
    for col, val in values.items():
        frame.loc[mask, col] = val


def _demand(f):
    _set(f["forecasts"], {"sku": "A"}, units=120.0)


def _price(f):
    _set(f["products"], {"sku": "A"}, unit_price=11.0)


def _cost(f):
    _set(f["products"], {"sku": "B"}, unit_material_cost=9.0)


def _capacity(f):
    f["resources"] = pd.DataFrame(
        {"resource": ["R"], "site": ["S"], "hours_per_fte": [100.0], "cost_per_fte": [0.0]}
    )
    f["routings"] = pd.DataFrame({"sku": ["A"], "resource": ["R"], "hours_per_unit": [1.0]})
    f["capacity"] = pd.DataFrame(
        {"month": MONTHS, "resource": ["R"] * 6, "available_hours": [80.0] * 6}
    )


def _opening_cash(f):
    _set(f["settings"], {"key": "opening_cash"}, value="2000")


def _horizon_roll(f):
    _set(f["settings"], {"key": "plan_start"}, value="2026-03")
    _set(f["forecasts"], {"sku": "A", "month": "2026-05"}, units=200.0)
    # as after 'cycle open': the new cycle has no forecast for the month that rolled out
    f["forecasts"] = f["forecasts"][f["forecasts"]["month"] != "2026-02"]


def _new_sku(f):
    f["products"] = pd.concat(
        [
            f["products"],
            pd.DataFrame(
                {
                    "sku": ["C"],
                    "name": ["Gamma"],
                    "family": ["F3"],
                    "unit_price": [5.0],
                    "unit_material_cost": [2.0],
                    "unit_variable_cost": [1.0],
                    "target_cover_days": [0.0],
                }
            ),
        ],
        ignore_index=True,
    )
    f["forecasts"] = pd.concat(
        [
            f["forecasts"],
            pd.DataFrame(
                {
                    "cycle": NEXT,
                    "month": MONTHS,
                    "sku": "C",
                    "source": "consensus",
                    "units": 100.0,
                }
            ),
        ],
        ignore_index=True,
    )


def _fixed_costs(f):
    f["settings"] = pd.concat(
        [f["settings"], pd.DataFrame({"key": ["fixed_costs_per_month"], "value": ["100"]})],
        ignore_index=True,
    )


# Old plan: A 100/month at 10 (cost 5), B 100/month at 20 (cost 10), three months, no terms:
# revenue 9,000, gross margin 4,500, closing cash 1,000 + 4,500 = 5,500.
CASES = [
    # change, old levers, new levers, {cause: (revenue, gross margin, closing cash)}
    ("demand: A 120 a month", _demand, {}, {}, {"demand change": (600, 300, 300)}),
    ("price: A at 11", _price, {}, {}, {"price": (300, 300, 300)}),
    ("cost: B material 9", _cost, {}, {}, {"cost": (0, -300, -300)}),
    ("capacity: A limited to 80", _capacity, {}, {}, {"capacity": (-600, -300, -300)}),
    ("timing: opening cash", _opening_cash, {}, {}, {"timing": (0, 0, 1000)}),
    # months 03-05; May has A at 200: +100 x 10 revenue, +100 x 5 margin and cash
    ("timing: horizon roll", _horizon_roll, {}, {}, {"timing": (1000, 500, 500)}),
    # C: 300 units x 5 = 1,500 revenue, 300 x (5 - 3) = 600 margin
    ("demand: new sku", _new_sku, {}, {}, {"demand change": (1500, 600, 600)}),
    ("cost: fixed costs", _fixed_costs, {}, {}, {"cost": (0, 0, -300)}),
    (
        "lever: price on F1",
        None,
        {},
        {("price_change_pct", "F1"): 10.0},
        {"price": (300, 300, 300)},
    ),
    (
        "lever: volume",
        None,
        {},
        {("volume_change_pct", None): 10.0},
        {"demand change": (900, 450, 450)},
    ),
    (
        "lever dropped: price",
        None,
        {("price_change_pct", None): 10.0},
        {},
        {"price": (-900, -900, -900)},
    ),
]


@pytest.mark.parametrize(
    "label, change, old_levers, new_levers, expected", CASES, ids=[c[0] for c in CASES]
)
def test_one_change_shows_under_its_cause_only(label, change, old_levers, new_levers, expected):
    new_frames = _new_frames()
    if change:
        change(new_frames)
    old = _version(small_frames(), CYCLE, old_levers)
    new = _version(new_frames, NEXT, new_levers)
    frame = bridge_versions(old, new).set_index("step")
    assert list(frame.index) == ["Plan 2026-01", *CAUSES, "Plan 2026-02"]
    for cause in CAUSES:
        want = expected.get(cause, (0, 0, 0))
        got = tuple(frame.loc[cause, m] for m in METRICS)
        assert got == pytest.approx(want, abs=1e-6), cause


def _everything(f):
    for change in (_demand, _price, _cost, _capacity, _opening_cash, _horizon_roll, _new_sku):
        change(f)
    _fixed_costs(f)
    _set(f["products"], {"sku": "B"}, target_cover_days=15.0)


def test_all_changes_at_once_add_up_to_the_difference():
    new_frames = _new_frames()
    _everything(new_frames)
    old = _version(small_frames(), CYCLE, {("price_change_pct", None): 5.0})
    new = _version(
        new_frames, NEXT, {("volume_change_pct", "F2"): -10.0, ("capacity_change_pct", "R"): 20.0}
    )
    frame = bridge_versions(old, new)
    start, end = frame.iloc[0], frame.iloc[-1]
    direct = plan_totals(compute(prepare(new.plan_data()), new.levers).company)
    for m in METRICS:
        assert end[m] == pytest.approx(direct[m], abs=1e-9)
        assert frame.loc[frame["kind"] == "delta", m].sum() == pytest.approx(
            end[m] - start[m], abs=1e-6
        )
    assert "recalculation" not in set(frame["step"])


def test_stored_results_that_no_longer_recompute_show_as_recalculation():
    old = _version(small_frames(), CYCLE)
    company = compute(prepare(old.plan_data()), {}).company
    stale = company.assign(revenue=company["revenue"] + 100.0)  # as if locked by an older engine
    old = PlanVersion(**{**old.__dict__, "results": {"company": stale}})
    new = _version(_new_frames(), NEXT)
    frame = bridge_versions(old, new).set_index("step")
    assert frame.loc["recalculation", "revenue"] == pytest.approx(-300.0)
    assert frame.loc["Plan 2026-01", "revenue"] == pytest.approx(9300.0)
    assert frame.loc[frame["kind"] == "delta", "revenue"].sum() == pytest.approx(-300.0)


def test_waterfall_steps_for_the_chart():
    old = _version(small_frames(), CYCLE)
    new_frames = _new_frames()
    _price(new_frames)
    steps = waterfall_steps(bridge_versions(old, _version(new_frames, NEXT)), "revenue")
    assert steps.columns.tolist() == ["step", "amount", "kind"]
    assert steps["amount"].tolist() == pytest.approx([9000, 0, 300, 0, 0, 0, 9300])
    with pytest.raises(SopError, match="Unknown measure"):
        waterfall_steps(steps, "ebitda")


def test_bridge_between_two_locked_cycles_of_a_store(tmp_path):
    with make_store(tmp_path / "p.duckdb") as store:
        assert bridge_for_cycle(store, CYCLE) is None  # nothing locked before it
        cycles.lock_cycle(store, CYCLE, user="kim", override="the test locks without sign-offs")
        cycles.open_next_cycle(store, user="kim")
        products = store.read_table("products")
        _set(products, {"sku": "A"}, unit_price=12.0)
        forecasts = store.read_table("forecasts")
        _set(forecasts, {"cycle": NEXT, "sku": "B"}, units=90.0)
        store.replace_tables({"products": products, "forecasts": forecasts}, user="a", source="t")

        live = bridge_for_cycle(store, NEXT)  # before the lock: the plan as it stands
        assert (live.from_cycle, live.to_cycle, live.to_locked) == (CYCLE, NEXT, False)
        with pytest.raises(SopError, match="Cycle 2026-02 has no locked plan"):
            bridge_between(store, CYCLE, NEXT)

        cycles.lock_cycle(store, NEXT, user="kim", override="the test locks without sign-offs")
        result = bridge_between(store, CYCLE, NEXT)
        locked = list_versions(store).set_index("cycle")
        frame = result.frame
        for m in METRICS:
            difference = locked.loc[NEXT, m] - locked.loc[CYCLE, m]
            assert frame.loc[frame["kind"] == "delta", m].sum() == pytest.approx(
                difference, abs=1e-6
            )
        by = frame.set_index("step")
        # over the old months 02-04: B 10 fewer units x 2 months (03, 04) x 20 = -400 (February
        # rolled out of the new horizon: timing); A: +2 x 300 units = +600
        assert by.loc["demand change", "revenue"] == pytest.approx(-400.0)
        assert by.loc["price", "revenue"] == pytest.approx(600.0)
        # the roll: February out (A 100 x 12 + B 100 x 20), May in (A 100 x 12 + B 90 x 20)
        assert by.loc["timing", "revenue"] == pytest.approx(-200.0)
        assert bridge_for_cycle(store, NEXT).to_locked
