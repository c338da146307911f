"""`python -m sop_core ranges` on the demo company: the columns of PRODUCT.md, the horizon rows,
seeded figures, the plan of record or a named scenario, one-line errors."""

from __future__ import annotations

import shutil

import pandas as pd
import pytest

from sop_core.cli import main
from sop_core.meeting.record import plan_of_record
from sop_core.plan.ranges import HORIZON_MEASURES, MEASURES, plan_ranges
from sop_core.store.db import Store

# PRODUCT.md "Command line": columns month, measure, p10, p50, p90
PRODUCT_COLUMNS = ["month", "measure", "p10", "p50", "p90"]


@pytest.fixture(scope="module")
def db(demo_store_file, tmp_path_factory) -> str:
    path = tmp_path_factory.mktemp("ranges") / "demo.duckdb"
    shutil.copy(demo_store_file, path)
    with Store(path) as store, store.transaction() as cur:
        cur.execute(
            "INSERT INTO scenarios (cycle, name, levers) VALUES (?, ?, ?)",
            ["2026-11", "Hold prices", '["volume_change_pct=-10"]'],
        )
    return str(path)


def run(*args) -> int:
    return main([str(a) for a in args])


def read(path) -> pd.DataFrame:
    return pd.read_csv(path, dtype={"month": str})


def test_ranges_columns_and_rows_as_product_md(db, tmp_path):
    out = tmp_path / "r.csv"
    assert run("ranges", "--db", db, "--samples", 200, "--out", out) == 0
    frame = read(out)
    assert list(frame.columns) == PRODUCT_COLUMNS
    monthly = frame[frame["month"] != "horizon"]
    assert monthly["month"].nunique() == 18  # the demo's horizon
    assert set(monthly["measure"]) == set(MEASURES)
    assert len(monthly) == 18 * 4
    horizon = frame[frame["month"] == "horizon"]
    assert horizon["measure"].tolist() == list(HORIZON_MEASURES)
    prob = horizon[horizon["measure"] == "cash_below_minimum_probability"].iloc[0]
    assert prob["p10"] == prob["p50"] == prob["p90"]
    assert 0.0 <= prob["p50"] <= 1.0
    assert (frame["p10"] <= frame["p50"]).all() and (frame["p50"] <= frame["p90"]).all()


def test_the_same_seed_gives_the_same_file_and_the_library_the_same_figures(db, tmp_path):
    a, b, c = tmp_path / "a.csv", tmp_path / "b.csv", tmp_path / "c.csv"
    assert run("ranges", "--db", db, "--samples", 100, "--seed", 5, "--out", a) == 0
    assert run("ranges", "--db", db, "--samples", 100, "--seed", 5, "--out", b) == 0
    assert run("ranges", "--db", db, "--samples", 100, "--seed", 6, "--out", c) == 0
    assert a.read_bytes() == b.read_bytes()
    assert a.read_bytes() != c.read_bytes()
    with Store(db) as store:
        record = plan_of_record(store)
    expected = plan_ranges(record.model, record.levers, samples=100, seed=5).frame()
    got = read(a)
    assert got["p50"].tolist() == pytest.approx(expected["p50"].tolist())


def test_a_named_scenario_ranges_its_own_levers(db, tmp_path):
    base, scenario = tmp_path / "base.csv", tmp_path / "scenario.csv"
    assert run("ranges", "--db", db, "--samples", 50, "--out", base) == 0
    assert (
        run("ranges", "--db", db, "--samples", 50, "--scenario", "Hold prices", "--out", scenario)
        == 0
    )

    def horizon_revenue(path) -> float:
        frame = read(path)
        return frame.query("month == 'horizon' and measure == 'revenue'")["p50"].iloc[0]

    assert horizon_revenue(scenario) < horizon_revenue(base)  # 10 % less volume


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--samples", "0"], 'argument --samples: "0" is not from 1 to 100,000'),
        (["--samples", "100001"], 'argument --samples: "100001" is not from 1 to 100,000'),
        (["--samples", "ten"], 'argument --samples: "ten" is not a whole number'),
        (["--seed", "-3"], 'argument --seed: "-3" is below 0'),
        (["--cycle", "2026-13"], "argument --cycle"),
        (["--scenario", "Nope"], 'No scenario "Nope" in cycle 2026-11; saved scenarios: Hold'),
    ],
)
def test_bad_arguments_exit_with_one_line(db, tmp_path, capsys, args, message):
    out = tmp_path / "r.csv"
    try:
        code = run("ranges", "--db", db, *args, "--out", out)
    except SystemExit as exc:  # argparse's own checks exit
        code = exc.code
    assert code == 2
    err = capsys.readouterr().err
    assert message in err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert not out.exists()
