"""`python -m sop_core plan` and `disagreements` on a store holding the hand case."""

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from test_engine import HAND_COMPANY, hand_tables

from sop_core.cli import main
from sop_core.plan.disagreements import DISAGREEMENT_COLUMNS
from sop_core.plan.result import LEVEL_COLUMNS
from sop_core.store.db import Store

ROOT = Path(__file__).resolve().parent.parent

# PRODUCT.md "Command line", exactly.
PRODUCT_COLUMNS = {
    "family": "month, family, demand_units, production_units, shipped_units, unmet_units, end_inventory_units, revenue, variable_cogs, inventory_value",
    "company": "month, revenue, variable_cogs, labour_cost, gross_margin, fixed_costs, operating_profit, inventory_value, receivables, payables, cash_flow, closing_cash",
    "resource": "month, resource, load_hours, capacity_hours, utilisation, fte_needed, fte_planned, production_hours",
}


@pytest.fixture(scope="module")
def db(tmp_path_factory) -> str:
    path = tmp_path_factory.mktemp("cli") / "plan.duckdb"
    with Store(path) as store:
        store.replace_tables(hand_tables(all_consensus=True), user="test", source="test")
        with store.transaction() as cur:
            cur.execute(
                "INSERT INTO scenarios (cycle, name, levers) VALUES (?, ?, ?)",
                ["2026-01", "Price cut", '["price_change_pct:F1=-10"]'],
            )
    return str(path)


def run(*args) -> int:
    return main([str(a) for a in args])


@pytest.mark.parametrize("level", ["company", "family", "resource"])
def test_plan_columns_exactly_as_product_md(db, tmp_path, level):
    out = tmp_path / f"{level}.csv"
    assert run("plan", "--db", db, "--level", level, "--out", out) == 0
    frame = pd.read_csv(out, dtype={"month": str})
    assert list(frame.columns) == PRODUCT_COLUMNS[level].split(", ") == LEVEL_COLUMNS[level]
    assert sorted(frame["month"].unique()) == ["2026-01", "2026-02", "2026-03"]


def test_plan_company_figures(db, tmp_path):
    out = tmp_path / "company.csv"
    assert run("plan", "--db", db, "--level", "company", "--out", out) == 0
    frame = pd.read_csv(out)
    for name in ("revenue", "gross_margin", "cash_flow", "closing_cash"):
        assert frame[name].tolist() == pytest.approx(HAND_COMPANY[name]), name


@pytest.mark.parametrize(
    "extra, january_revenue",
    [
        ([], 1800),
        (["--scenario", "Price cut"], 1700),  # A 100 × 9 + B 40 × 20
        (["--scenario", "Price cut", "--set", "price_change_pct:F1=0"], 1800),  # --set overrides
        (["--set", "price_change_pct=-50"], 900),  # 100 × 5 + 40 × 10
    ],
)
def test_plan_scenario_and_set(db, tmp_path, extra, january_revenue):
    out = tmp_path / "company.csv"
    assert run("plan", "--db", db, *extra, "--level", "company", "--out", out) == 0
    assert pd.read_csv(out)["revenue"].iloc[0] == pytest.approx(january_revenue)


def test_disagreements_command(db, tmp_path):
    out = tmp_path / "d.csv"
    assert run("disagreements", "--db", db, "--out", out) == 0
    frame = pd.read_csv(out)
    assert list(frame.columns) == DISAGREEMENT_COLUMNS
    assert len(frame) == 11 and frame["money_at_stake"].is_monotonic_decreasing


@pytest.mark.parametrize(
    "args, message",
    [
        (
            ["--set", "price_change_pct:F9=1"],
            'error: Lever "price_change_pct:F9": unknown family "F9". (known families: F1, F2).',
        ),
        (
            ["--set", "dso_days=-4"],
            'error: Lever "dso_days": -4 is below 0 (days cannot be negative).',
        ),
        (
            ["--set", "prise_change_pct=1"],
            'error: Unknown lever "prise_change_pct" in "prise_change_pct=1". Did you mean "price_change_pct"?',
        ),
        (
            ["--scenario", "Nope"],
            'error: No scenario "Nope" in cycle 2026-01; saved scenarios: Price cut.',
        ),
    ],
)
def test_plan_bad_arguments_one_line(db, tmp_path, capsys, args, message):
    assert run("plan", "--db", db, *args, "--level", "company", "--out", tmp_path / "x.csv") == 2
    err = capsys.readouterr().err
    assert err.splitlines()[0].startswith(message), err
    assert len(err.strip().splitlines()) == 1
    assert not (tmp_path / "x.csv").exists()


def test_bad_set_in_a_real_process_prints_no_traceback(db, tmp_path):
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "sop_core",
            "plan",
            "--db",
            db,
            "--set",
            "price_change_pct=abc",
            "--level",
            "family",
            "--out",
            str(tmp_path / "x.csv"),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode != 0
    assert proc.stderr.strip().splitlines() == [
        'error: Lever "price_change_pct": "abc" is not a number (expected %, e.g. price_change_pct=5).'
    ]
    assert "Traceback" not in proc.stderr and proc.stdout == ""


def test_model_for_store_is_what_plan_for_store_computes(db):
    from sop_core.meeting.record import plan_for_store
    from sop_core.plan.engine import compute
    from sop_core.plan.service import model_for_store

    with Store(db) as store:
        model = model_for_store(store)
        direct = compute(model, ["price_change_pct:F1=-10"]).company
        via = plan_for_store(store, scenario="Price cut").company
    assert model.cycle == "2026-01" and model.shape == (3, 2, 2)
    pd.testing.assert_frame_equal(direct, via)


@pytest.mark.parametrize(
    "command",
    [
        ["plan", "--level", "company", "--out", "{out}"],
        ["disagreements", "--out", "{out}"],
        ["forecast"],
        ["boardpack", "--out", "{pdf}"],
    ],
)
@pytest.mark.parametrize(
    ("cycle", "reason"),
    [
        ("banana", "is not a month (expected YYYY-MM, e.g. 2026-01)"),
        ("2026-13", "has month 13, which does not exist (expected 01-12)"),
        ("2026", "is not a month (expected YYYY-MM, e.g. 2026-01)"),
        ("26-01", "is not a month (expected YYYY-MM, e.g. 2026-01)"),
    ],
)
def test_a_cycle_that_is_not_a_month_is_refused_in_one_line(
    db, tmp_path, capsys, command, cycle, reason
):
    args = [a.format(out=tmp_path / "x.csv", pdf=tmp_path / "x.pdf") for a in command]
    with pytest.raises(SystemExit) as exit_:
        run(*args[:1], "--db", db, *args[1:], "--cycle", cycle)
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert f'error: argument --cycle: "{cycle}" {reason}' in err
    assert len(err.strip().splitlines()) == 1
    assert not (tmp_path / "x.csv").exists() and not (tmp_path / "x.pdf").exists()
