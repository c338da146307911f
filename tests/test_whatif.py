"""What-if: lever controls of a model, typed values to levers, scenario figures against base."""

import io

import numpy as np
import pandas as pd
import pytest

from sop_core.plan.engine import compute
from sop_core.plan.levers import normalize_levers
from sop_core.plan.model import prepare
from sop_core.store.plandata import plan_data_from_frames
from sop_core.views import whatif
from tests.conftest import VALID_CSV

P, V, M, COVER = (
    "price_change_pct",
    "volume_change_pct",
    "material_cost_change_pct",
    "target_cover_days",
)


@pytest.fixture(scope="module")
def model():
    """The conftest company: families F1, F2; resources L1, L2; DSO 30, DPO 0 (settings below)."""
    tables = {name: pd.read_csv(io.StringIO(text)) for name, text in VALID_CSV.items()}
    tables["settings"] = pd.concat(
        [tables["settings"], pd.DataFrame({"key": ["dso_days"], "value": ["30"]})],
        ignore_index=True,
    )
    months = ["2026-01", "2026-02", "2026-03"]
    baseline = pd.DataFrame(
        [
            {"sku": s, "month": m, "units": u}
            for s, u in (("A", 100), ("B", 50), ("C", 40))
            for m in months
        ]
    )
    return prepare(plan_data_from_frames(tables, baseline=baseline))


@pytest.fixture(scope="module")
def controls(model):
    return whatif.lever_controls(model)


def by_key(controls):
    return {c.key: c for c in controls}


# --- controls ------------------------------------------------------------------------------


def test_controls_cover_every_lever_per_family_and_resource(model, controls):
    # 5 family levers x (everywhere + 2 families) + 2 resource levers x 3 + 4 company levers
    assert len(controls) == 5 * 3 + 2 * 3 + 4
    keys = by_key(controls)
    assert model.families == ("F1", "F2") and model.resources == ("L1", "L2")
    for lever in (P, "price_elasticity", V, M, COVER):
        assert {(lever, None), (lever, "F1"), (lever, "F2")} <= set(keys)
    for lever in ("capacity_change_pct", "headcount_change_fte"):
        assert {(lever, None), (lever, "L1"), (lever, "L2")} <= set(keys)
    for lever in ("dso_days", "dpo_days", "fixed_costs_change_pct", "allocation"):
        assert (lever, None) in keys


@pytest.mark.parametrize(
    "key, label, current, hint",
    [
        ((P, None), "Price change (%)", 0.0, ""),
        ((P, "F1"), "Price change (%): F1", None, "= everywhere"),
        (("dso_days", None), "Customer payment terms, DSO (days)", 30.0, "30 (data)"),
        (("dpo_days", None), "Supplier payment terms, DPO (days)", 0.0, "0 (data)"),
        ((COVER, None), "Target stock cover (days)", None, "0–30 (data)"),  # 30, 15, 0 days
        ((COVER, "F1"), "Target stock cover (days): F1", None, "= everywhere (15–30)"),
        ((COVER, "F2"), "Target stock cover (days): F2", None, "= everywhere (0)"),
        (("headcount_change_fte", "L2"), "Headcount change (FTE): L2", None, "= everywhere"),
    ],
)
def test_control_labels_units_and_current_values(controls, key, label, current, hint):
    c = by_key(controls)[key]
    assert (c.label, c.current, c.hint) == (label, current, hint)


# --- typed values to levers --------------------------------------------------------------------


@pytest.mark.parametrize(
    "typed, levers",
    [
        ({}, {}),
        ({(P, None): 0.0}, {}),  # neutral: nothing applied
        ({(P, None): -3.0}, {(P, None): -3.0}),
        ({(P, "F1"): -3.0}, {(P, "F1"): -3.0}),
        ({(P, None): 5.0, (P, "F1"): 5.0}, {(P, None): 5.0}),  # same as everywhere: redundant
        ({(P, None): 5.0, (P, "F1"): 0.0}, {(P, None): 5.0, (P, "F1"): 0.0}),  # F1 held at 0
        ({("dso_days", None): 30.0}, {}),  # the data's own figure
        ({("dso_days", None): 45.0}, {("dso_days", None): 45.0}),
        ({(COVER, "F2"): 10.0}, {(COVER, "F2"): 10.0}),
        ({(COVER, None): 20.0, (COVER, "F1"): 20.0}, {(COVER, None): 20.0}),
        ({("headcount_change_fte", "L1"): -1.5}, {("headcount_change_fte", "L1"): -1.5}),
        ({(P, None): None, (P, "F2"): None}, {}),  # emptied inputs
    ],
)
def test_levers_from_inputs(controls, typed, levers):
    values = {c.key: c.current for c in controls} | typed
    got, errors = whatif.levers_from_inputs(controls, values)
    assert errors == {}
    assert got == normalize_levers(levers)


@pytest.mark.parametrize(
    "key, value, message",
    [
        (
            (P, None),
            -150.0,
            "−150 % is impossible (a price cannot fall by more than 100 %): not applied.",
        ),
        ((V, "F1"), -101.0, "−101 % is impossible (demand cannot fall by more than 100 %)"),
        (("dso_days", None), -5.0, "−5 days is impossible (days cannot be negative)"),
        ((COVER, "F2"), -1.0, "−1 days is impossible (days cannot be negative)"),
        (
            ("headcount_change_fte", None),
            -20000.0,
            "−20,000 FTE is impossible (the lowest is −10,000 FTE)",
        ),
        ((P, None), 5000.0, "5,000 % is above 1,000 %, which looks like a typing error"),
        (("dpo_days", None), float("nan"), "is not a number"),
    ],
)
def test_bad_values_are_reported_and_not_applied(controls, key, value, message):
    values = {c.key: c.current for c in controls} | {key: value, (M, None): 2.0}
    levers, errors = whatif.levers_from_inputs(controls, values)
    assert list(errors) == [key]
    assert message in errors[key]
    assert levers == {(M, None, None): 2.0}  # the good lever still applies


def test_inputs_from_levers_round_trip(controls):
    levers = {
        (P, None): -3.0,
        (V, "F2"): 10.0,
        (COVER, "F1"): 20.0,
        ("capacity_change_pct", "L1"): 15.0,
        ("dso_days", None): 60.0,
        ("fixed_costs_change_pct", None): -5.0,
    }
    shown = whatif.inputs_from_levers(controls, levers)
    assert shown[(P, "F1")] is None and shown[("dpo_days", None)] == 0.0
    assert whatif.levers_from_inputs(controls, shown) == (normalize_levers(levers), {})


# --- figures -------------------------------------------------------------------------------


def test_compare_scenario_against_base(model):
    base = compute(model, {})
    scenario = compute(model, {(P, None): 10.0})
    table = whatif.compare(base, scenario)
    assert table["key"].tolist() == [f.key for f in whatif.FIGURES]
    assert list(table.columns) == [
        "key",
        "label",
        "unit",
        "base",
        "scenario",
        "delta",
        "base_note",
        "scenario_note",
        "better",
    ]
    rows = table.set_index("key")
    # price does not change what ships: revenue moves by exactly 10 %
    revenue = rows.loc["revenue"]
    assert revenue["scenario"] == pytest.approx(1.1 * revenue["base"])
    assert revenue["delta"] == pytest.approx(0.1 * revenue["base"])
    assert revenue["unit"] == "EUR"
    for key in ("gross_margin", "operating_profit", "closing_cash_end", "money_at_stake"):
        assert rows.loc[key, "scenario"] == pytest.approx(scenario.summary[key])
        assert rows.loc[key, "delta"] == pytest.approx(scenario.summary[key] - base.summary[key])
    gm = rows.loc["gross_margin_pct"]
    assert gm["unit"] == "%"
    assert gm["delta"] == pytest.approx(
        scenario.summary["gross_margin_pct"] - base.summary["gross_margin_pct"]
    )
    assert rows.loc["lowest_cash", "scenario_note"] == scenario.summary["lowest_cash_month"]
    assert rows.loc["closing_cash_end", "scenario_note"] == model.months[-1]
    peak = rows.loc["peak_utilisation"]
    assert peak["base"] == pytest.approx(base.summary["peak_utilisation"] * 100)
    assert peak["base_note"] == (
        f"{base.summary['peak_utilisation_resource']}, {base.summary['peak_utilisation_month']}"
    )
    assert rows.loc["unmet_units", "delta"] == pytest.approx(0.0)


def test_curves_and_side_by_side(model):
    plans = {
        whatif.BASE: compute(model, {}),
        "Cheaper": compute(model, {(P, None): -5.0}),
        "Slower payers": compute(model, {("dso_days", None): 60.0}),
    }
    frame = whatif.curves(plans)
    assert list(frame.columns) == ["month", "plan", "measure", "amount"]
    assert len(frame) == 3 * 2 * len(model.months)
    cash = frame[(frame["plan"] == "Slower payers") & (frame["measure"] == "Closing cash")]
    np.testing.assert_allclose(cash["amount"], plans["Slower payers"].finance.closing_cash)
    assert cash["month"].tolist() == list(model.months)

    table = whatif.side_by_side(plans)
    assert table.columns[:6].tolist() == [
        "key",
        "label",
        "unit",
        whatif.BASE,
        "Cheaper",
        "Slower payers",
    ]
    shown = whatif.format_side_by_side(table, "EUR").set_index("figure")
    assert shown.columns.tolist() == [whatif.BASE, "Cheaper", "Slower payers"]
    base_rev = plans[whatif.BASE].summary["revenue"]
    assert shown.loc["Revenue", whatif.BASE] == whatif.format_value(base_rev, "EUR", "EUR")
    cheaper = plans["Cheaper"].summary["revenue"]
    assert shown.loc["Revenue", "Cheaper"] == (
        f"{whatif.format_value(cheaper, 'EUR', 'EUR')} "
        f"[{whatif.format_delta(cheaper - base_rev, 'EUR', 'EUR')}]"
    )
    assert shown.loc["Revenue", "Slower payers"] == shown.loc["Revenue", whatif.BASE]
    low = plans["Slower payers"].summary["lowest_cash_month"]
    assert f"({low})" in shown.loc["Lowest cash", "Slower payers"]


def test_curves_table_is_the_curves_frame(model):
    from ui.whatif import curves_table

    base, scenario = compute(model, {}), compute(model, {(V, None): 20.0})
    frame = whatif.curves({whatif.RECORD: base, "Scenario": scenario})
    pd.testing.assert_frame_equal(
        curves_table(base, scenario).to_pandas(), frame, check_dtype=False
    )


@pytest.mark.parametrize(
    "value, unit, text",
    [
        (1_234_567.0, "GBP", "£1.2m"),
        (-45_000.0, "GBP", "−£45k"),
        (34.56, "%", "34.6 %"),
        (6327.6, "units", "6,328"),
        (191, "count", "191"),
        (None, "GBP", "—"),
        (float("nan"), "%", "—"),
    ],
)
def test_format_value(value, unit, text):
    assert whatif.format_value(value, unit, "GBP") == text


@pytest.mark.parametrize(
    "delta, unit, text",
    [
        (1_700_000.0, "GBP", "+£1.7m"),
        (-987_000.0, "GBP", "−£987k"),
        (0.2, "GBP", "no change"),
        (-2.14, "%", "−2.1 pts"),
        (0.04, "%", "no change"),
        (83.0, "count", "+83"),
        (-120.4, "units", "−120"),
        (None, "GBP", None),
    ],
)
def test_format_delta(delta, unit, text):
    assert whatif.format_delta(delta, unit, "GBP") == text


# --- "from" and "to" months, elasticity, levers the inputs cannot show ---------------------------
# The conftest company's horizon: 2026-01 .. 2026-18 months; here the months of the model.


def test_levers_from_inputs_with_months(model, controls):
    months = list(model.months)
    first, last = months[0], months[-1]
    values = {c.key: c.current for c in controls} | {
        (P, None): 2.0,
        ("headcount_change_fte", "L1"): 3.0,
        ("dso_days", None): 45.0,
    }
    windows = {
        (P, None): (months[2], None),  # from the third month on
        ("headcount_change_fte", "L1"): (months[1], months[3]),
        ("dso_days", None): (first, last),  # the whole horizon: no window
    }
    levers, errors = whatif.levers_from_inputs(controls, values, windows)
    assert errors == {}
    assert levers == {
        (P, None, (months[2], None)): 2.0,
        ("headcount_change_fte", "L1", (months[1], months[3])): 3.0,
        ("dso_days", None, None): 45.0,
    }
    # and back: what each input's from/to show for those levers
    shown = whatif.windows_from_levers(controls, levers, months)
    assert shown[(P, None)] == (months[2], None)
    assert shown[("headcount_change_fte", "L1")] == (months[1], months[3])
    assert shown[("dso_days", None)] == (None, None)


def test_a_family_row_like_everywhere_but_for_other_months_applies(model, controls):
    months = list(model.months)
    values = {c.key: c.current for c in controls} | {(P, None): 5.0, (P, "F1"): 5.0}
    same = whatif.levers_from_inputs(controls, values, {})[0]
    assert same == {(P, None, None): 5.0}  # redundant: the same value and months
    later = whatif.levers_from_inputs(controls, values, {(P, "F1"): (months[1], None)})[0]
    assert later == {(P, None, None): 5.0, (P, "F1", (months[1], None)): 5.0}


@pytest.mark.parametrize(
    "start, end, message",
    [
        ("2026-03", "2026-02", "from Mar 2026 is after to Feb 2026: not applied."),
        ("2025-06", None, "from Jun 2025 is outside the plan horizon (Jan 2026 to"),
        (None, "2031-01", "to Jan 2031 is outside the plan horizon"),
    ],
)
def test_bad_months_are_reported_and_not_applied(model, controls, start, end, message):
    values = {c.key: c.current for c in controls} | {(P, None): 2.0, (M, None): 1.0}
    levers, errors = whatif.levers_from_inputs(controls, values, {(P, None): (start, end)})
    assert list(errors) == [(P, None)] and errors[(P, None)].startswith(message)
    assert levers == {(M, None, None): 1.0}  # nothing of the price lever applied


def test_allocation_input_holds_the_choice(controls):
    values = {c.key: c.current for c in controls}
    assert by_key(controls)[("allocation", None)].current == 0.0  # pro_rata, the setting
    assert whatif.levers_from_inputs(controls, values | {("allocation", None): "pro_rata"})[0] == {}
    levers, _ = whatif.levers_from_inputs(controls, values | {("allocation", None): "margin"})
    assert levers == {("allocation", None, None): 1.0}


@pytest.mark.parametrize(
    "items, family, note",
    [
        ([], None, "Elasticity 0: price changes do not move volume."),
        (["price_elasticity=0"], None, "Elasticity 0: price changes do not move volume."),
        (
            ["price_elasticity=-1.5"],
            None,
            # 1.01 ^ −1.5 − 1 = −1.48 %
            "Elasticity −1.5: volume × (1 + price change) ^ elasticity, so +1 % price moves "
            "volume −1.48 %.",
        ),
        (
            ["price_elasticity:F1=-2"],
            None,
            "Elasticity 0: price changes do not move volume (F1: their own).",
        ),
        (
            ["price_elasticity:F1=-2"],
            "F1",
            "Elasticity −2: volume × (1 + price change) ^ elasticity, so +1 % price moves "
            "volume −1.97 %.",
        ),
    ],
)
def test_elasticity_note_says_plainly_when_it_is_zero(items, family, note):
    from sop_core.plan.levers import parse_levers

    assert whatif.elasticity_note(parse_levers(items), family) == note


def test_unplaced_levers_are_named(controls):
    from sop_core.plan.levers import parse_levers

    levers = parse_levers(
        ["dso_days=40", "dso_days@2026-02=60", "price_change_pct:Gone=1", "volume_change_pct=2"]
    )
    assert whatif.unplaced_levers(controls, levers) == [
        "dso_days@2026-02=60",
        "price_change_pct:Gone=1",
    ]
