"""The monthly cycle: calendar, steps, sign-off, lock, refusals on a locked cycle, next cycle, CLI."""

import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from _rhythm import CYCLE, make_store, small_frames, tables_equal

from sop_core.errors import ConflictError, CycleLocked, SopError
from sop_core.meeting import cycles, decisions, register
from sop_core.meeting.scenarios import promote_scenario, save_scenario
from sop_core.meeting.versions import list_versions, load_version
from sop_core.store import lock

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def store(tmp_path):
    s = make_store(tmp_path / "plan.duckdb")
    yield s
    s.close()


def _audit(store, action: str) -> pd.DataFrame:
    log = store.audit_log()
    return log[log["action"] == action]


# --- calendar ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "cycle, fridays",
    [
        ("2026-11", ["2026-11-06", "2026-11-13", "2026-11-20", "2026-11-27"]),  # 1 Nov: Sunday
        ("2026-01", ["2026-01-02", "2026-01-09", "2026-01-16", "2026-01-23"]),  # 1 Jan: Thursday
        ("2026-05", ["2026-05-01", "2026-05-08", "2026-05-15", "2026-05-22"]),  # 1 May: Friday
    ],
)
def test_steps_are_due_on_the_fridays_of_weeks_one_to_four(cycle, fridays):
    due = cycles.due_dates(cycle)
    assert [d.isoformat() for d in due.values()] == fridays
    assert list(due) == ["demand_review", "supply_review", "reconciliation", "executive"]


def test_first_access_creates_the_four_steps_once(store):
    cycles.ensure_cycle(store, CYCLE)
    cycles.ensure_cycle(store, CYCLE)
    frame = cycles.steps(store, CYCLE)
    assert frame["owner"].tolist() == ["Sales & Marketing", "Operations", "Finance", "CEO"]
    assert frame["status"].tolist() == ["not started"] * 4
    assert store.scalar("SELECT count(*) FROM cycle_steps") == 4
    assert lock.cycle_info(store, CYCLE).status == "open"


@pytest.mark.parametrize(
    "today, overdue",
    [
        ("2026-01-02", [False, False, False, False]),  # due today is not overdue yet
        ("2026-01-03", [True, False, False, False]),
        ("2026-01-12", [True, True, False, False]),
        ("2026-02-01", [True, True, True, True]),
    ],
)
def test_overdue_means_not_signed_off_and_due_before_today(store, today, overdue):
    frame = cycles.steps(store, CYCLE, today=dt.date.fromisoformat(today))
    assert frame["overdue"].tolist() == overdue


@pytest.mark.parametrize(
    "signed, today, line",
    [
        (
            [],
            "2026-01-01",
            "Cycle 2026-01 · step 1 of 4: Demand review (due 2 Jan) · 0 of 4 signed off",
        ),
        (
            ["demand_review"],
            "2026-01-10",
            "Cycle 2026-01 · step 2 of 4: Supply review (due 9 Jan, overdue) · 1 of 4 signed off",
        ),
        (
            ["demand_review"],
            "2026-01-17",
            "Cycle 2026-01 · step 2 of 4: Supply review (due 9 Jan, overdue) · 1 of 4 signed off"
            " · 2 steps overdue",
        ),
        (
            ["demand_review", "supply_review", "reconciliation"],
            "2026-01-20",
            "Cycle 2026-01 · step 4 of 4: Executive S&OP (due 23 Jan) · 3 of 4 signed off",
        ),
    ],
)
def test_rhythm_line_says_where_the_cycle_is(store, signed, today, line):
    for step in signed:
        cycles.sign_off(store, CYCLE, step, user="jane")
    assert cycles.rhythm_line(store, CYCLE, today=dt.date.fromisoformat(today)) == line


def test_rhythm_line_without_any_cycle(tmp_path):
    from sop_core.store.db import Store

    with Store(tmp_path / "empty.duckdb") as empty:
        assert cycles.rhythm_line(empty).startswith("No S&OP cycle yet")


# --- steps ------------------------------------------------------------------------------------


def test_sign_off_records_who_and_when_and_is_audited(store):
    message = cycles.sign_off(store, CYCLE, "supply_review", user="Omar")
    assert message == (
        "Supply review of cycle 2026-01 signed off by Omar. Still open before it: Demand review."
    )
    row = cycles.steps(store, CYCLE).set_index("step").loc["supply_review"]
    assert row["status"] == "signed off" and row["signed_by"] == "Omar"
    assert pd.notna(row["signed_at"])
    audit = _audit(store, "sign off")
    assert audit[["user_name", "entity", "item_key"]].values.tolist() == [
        ["Omar", "cycle step", "2026-01/supply_review"]
    ]
    with pytest.raises(SopError, match="already signed off"):
        cycles.sign_off(store, CYCLE, "supply_review", user="Omar")


def test_update_step_owner_and_status_with_version_check(store):
    frame = cycles.steps(store, CYCLE).set_index("step")
    loaded = int(frame.loc["demand_review", "version"])
    cycles.update_step(
        store, CYCLE, "demand_review", user="ann", expected_version=loaded, owner="Head of Sales"
    )
    with pytest.raises(ConflictError, match="Head of Sales"):
        cycles.update_step(
            store, CYCLE, "demand_review", user="bob", expected_version=loaded, owner="CMO"
        )
    cycles.update_step(
        store, CYCLE, "demand_review", user="ann", expected_version=loaded + 1, status="in progress"
    )
    row = cycles.steps(store, CYCLE).set_index("step").loc["demand_review"]
    assert (row["owner"], row["status"]) == ("Head of Sales", "in progress")
    with pytest.raises(SopError, match="with its sign-off button"):
        cycles.update_step(
            store, CYCLE, "demand_review", user="ann", expected_version=3, status="signed off"
        )


def test_editing_a_signed_off_steps_owner_or_due_keeps_its_sign_off(store):
    cycles.sign_off(store, CYCLE, "demand_review", user="Sam")
    row = cycles.steps(store, CYCLE).set_index("step").loc["demand_review"]
    # the Save of the step's card sends the status it shows with the new owner and due date
    cycles.update_step(
        store,
        CYCLE,
        "demand_review",
        user="ann",
        expected_version=int(row["version"]),
        owner="CMO",
        status="signed off",
        due="2026-01-09",
    )
    row = cycles.steps(store, CYCLE).set_index("step").loc["demand_review"]
    assert (row["owner"], row["status"], row["signed_by"]) == ("CMO", "signed off", "Sam")
    assert str(row["due"]) == "2026-01-09"
    with pytest.raises(SopError, match="reopen it with a reason"):
        cycles.update_step(
            store,
            CYCLE,
            "demand_review",
            user="ann",
            expected_version=int(row["version"]),
            status="in progress",
        )
    assert cycles.steps(store, CYCLE).set_index("step").loc["demand_review", "status"] == (
        "signed off"
    )


def test_reopen_needs_a_reason_and_is_audited(store):
    cycles.sign_off(store, CYCLE, "demand_review", user="Sam")
    with pytest.raises(SopError, match="a reason"):
        cycles.reopen_step(store, CYCLE, "demand_review", user="Kim", reason=" ")
    message = cycles.reopen_step(
        store, CYCLE, "demand_review", user="Kim", reason="Sales sent a new forecast"
    )
    assert message == "Demand review of cycle 2026-01 reopened by Kim: Sales sent a new forecast"
    row = cycles.steps(store, CYCLE).set_index("step").loc["demand_review"]
    assert (row["status"], row["signed_by"]) == ("in progress", None)
    audit = _audit(store, "reopen")
    assert audit[["user_name", "old_value", "new_value", "detail"]].values.tolist() == [
        ["Kim", "signed off", "in progress", "Sales sent a new forecast"]
    ]
    with pytest.raises(SopError, match="not signed off: nothing to reopen"):
        cycles.reopen_step(store, CYCLE, "demand_review", user="Kim", reason="again, why")


# --- lock -------------------------------------------------------------------------------------


def test_lock_needs_every_step_signed_off_or_an_override_with_a_reason(store):
    with pytest.raises(SopError, match="not signed off: Demand review, Supply review, Integrated"):
        cycles.lock_cycle(store, CYCLE, user="CEO Kim")
    with pytest.raises(SopError, match="a reason is required"):
        cycles.lock_cycle(store, CYCLE, user="CEO Kim", override="  ")
    assert not lock.is_locked(store, CYCLE)
    for step in ("demand_review", "supply_review", "reconciliation"):
        cycles.sign_off(store, CYCLE, step, user="jane")
    message = cycles.lock_cycle(store, CYCLE, user="CEO Kim")
    assert "not signed off" not in message
    assert load_version(store, CYCLE).lock_note is None


def test_lock_stores_the_plan_version_and_locks_the_cycle(store):
    message = cycles.lock_cycle(
        store, CYCLE, user="CEO Kim", override="the test locks without sign-offs"
    )
    # A: 3 x 100 x 10 + B: 3 x 100 x 20 = 9,000; margin 9,000 - 3 x 100 x (5 + 10) = 4,500;
    # cash 1,000 + 4,500 (no terms, no fixed costs)
    assert message.startswith(
        "Cycle 2026-01 locked by CEO Kim: the base plan (no levers), 2026-02 to 2026-04: "
        "revenue £9k, gross margin £4k, closing cash £6k."
    )
    info = lock.cycle_info(store, CYCLE)
    assert info.locked and info.locked_by == "CEO Kim"
    version = load_version(store, CYCLE)
    assert version.totals["revenue"] == 9000.0
    assert version.totals["gross_margin"] == 4500.0
    assert version.totals["closing_cash"] == 5500.0
    assert version.months == ("2026-02", "2026-03", "2026-04")
    assert len(version.tables["forecasts"]) == 12 and len(version.tables["products"]) == 2
    assert version.results["company"]["revenue"].tolist() == [3000.0, 3000.0, 3000.0]
    executive = cycles.steps(store, CYCLE).set_index("step").loc["executive"]
    assert (executive["status"], executive["signed_by"]) == ("signed off", "CEO Kim")
    locks = _audit(store, "lock")
    assert locks["user_name"].tolist() == ["CEO Kim"]
    note = (
        "Locked with Demand review, Supply review, Integrated reconciliation not signed off: "
        "the test locks without sign-offs"
    )
    assert note in locks["detail"].iloc[0]
    assert version.lock_note == note
    assert note in message
    assert list_versions(store)["plan"].tolist() == ["Base plan"]
    assert cycles.rhythm_line(store, CYCLE).startswith("Cycle 2026-01 · locked by CEO Kim on ")


def test_lock_keeps_the_promoted_scenario_and_its_results(store):
    save_scenario(store, CYCLE, "Price up", {("price_change_pct", None): 10.0}, author="ann")
    promote_scenario(store, CYCLE, "Price up", user="ann")
    for step in ("demand_review", "supply_review", "reconciliation"):
        cycles.sign_off(store, CYCLE, step, user="jane")
    message = cycles.sign_off(store, CYCLE, "executive", user="kim")  # the sign-off is the lock
    assert 'scenario "Price up" (Price +10 % on all families)' in message
    version = load_version(store, CYCLE)
    assert version.scenario_name == "Price up"
    assert version.levers == {("price_change_pct", None, None): 10.0}
    assert version.totals["revenue"] == pytest.approx(9900.0)


def _refusals():
    """Each change a locked cycle must refuse: (label, action(store, ids))."""
    return [
        ("import", lambda s, ids: s.replace_tables(small_frames(), user="x", source="t")),
        (
            "add assumption",
            lambda s, ids: register.add_assumption(s, CYCLE, name="n", value="1", user="x"),
        ),
        (
            "edit assumption",
            lambda s, ids: register.update_assumption(s, ids["a"], 1, {"value": "9"}, user="x"),
        ),
        ("review assumption", lambda s, ids: register.review_assumption(s, ids["a"], 1, user="x")),
        ("delete assumption", lambda s, ids: register.delete_assumption(s, ids["a"], 1, user="x")),
        (
            "add decision",
            lambda s, ids: decisions.add_decision(
                s, CYCLE, decision="d", owner="o", due="2026-02-01", user="x"
            ),
        ),
        (
            "edit decision",
            lambda s, ids: decisions.update_decision(s, ids["d"], 1, {"status": "done"}, user="x"),
        ),
        ("sign off", lambda s, ids: cycles.sign_off(s, CYCLE, "demand_review", user="x")),
        (
            "edit step",
            lambda s, ids: cycles.update_step(
                s, CYCLE, "demand_review", user="x", expected_version=1, owner="y"
            ),
        ),
        (
            "lock again",
            lambda s, ids: cycles.lock_cycle(
                s, CYCLE, user="x", override="the test locks without sign-offs"
            ),
        ),
        (
            "save scenario",
            lambda s, ids: save_scenario(
                s, CYCLE, "New", {("price_change_pct", None): 1.0}, author="x"
            ),
        ),
        ("guard", lambda s, ids: lock.ensure_unlocked(s)),
    ]


@pytest.mark.parametrize("label, action", _refusals(), ids=[r[0] for r in _refusals()])
def test_a_locked_cycle_refuses_every_change_and_nothing_moves(store, label, action):
    ids = {
        "a": register.add_assumption(store, CYCLE, name="Lead time", value="6", user="ann"),
        "d": decisions.add_decision(
            store, CYCLE, decision="Second shift", owner="Ops", due="2026-02-01", user="ann"
        ),
    }
    cycles.lock_cycle(store, CYCLE, user="Kim", override="the test locks without sign-offs")
    before = store.snapshot()
    with pytest.raises(CycleLocked) as refused:
        action(store, ids)
    assert str(refused.value).startswith("Cycle 2026-01 is locked (by Kim on ")
    assert str(refused.value).endswith("open the next cycle to change the plan.")
    assert tables_equal(before, store.snapshot())


# --- next cycle -------------------------------------------------------------------------------


def test_open_next_cycle_carries_the_plan_forward(store):
    aid = register.add_assumption(
        store, CYCLE, name="Lead time", value="6", unit="weeks", user="ann"
    )
    reviewed = register.get_assumption(store, aid)["reviewed_at"]
    decisions.add_decision(store, CYCLE, decision="Open", owner="o", due="2026-02-01", user="a")
    done = decisions.add_decision(
        store, CYCLE, decision="Closed", owner="o", due="2026-02-01", user="a"
    )
    decisions.update_decision(store, done, 1, {"status": "done"}, user="a")
    save_scenario(store, CYCLE, "Price up", {("price_change_pct", None): 10.0}, author="ann")
    promote_scenario(store, CYCLE, "Price up", user="ann")
    cycles.lock_cycle(store, CYCLE, user="kim", override="the test locks without sign-offs")

    message = cycles.open_next_cycle(store, user="kim")

    assert message == (
        "Opened cycle 2026-02 (steps due 6 Feb, 13 Feb, 20 Feb, 27 Feb): 12 forecast rows, "
        "1 assumptions, 1 scenarios, 1 open decisions carried forward; "
        "plan start 2026-02 → 2026-03."
    )
    from sop_core.store.plandata import current_cycle

    assert current_cycle(store) == "2026-02"
    fc = store.read_table("forecasts")
    assert sorted(fc.loc[fc["cycle"] == "2026-02", "month"].unique()) == [
        "2026-02",
        "2026-03",
        "2026-04",
        "2026-05",
        "2026-06",
        "2026-07",
    ]
    assert store.settings().plan_start == "2026-03"
    carried = store.query("SELECT * FROM assumptions WHERE cycle = '2026-02'")
    assert carried[["name", "value", "unit"]].values.tolist() == [["Lead time", "6", "weeks"]]
    assert carried["reviewed_at"].iloc[0] == reviewed  # it ages until someone reviews it
    assert decisions.list_decisions(store, "2026-02")["decision"].tolist() == ["Open"]
    assert decisions.list_decisions(store, "2026-02")["taken_in"].tolist() == ["2026-01"]
    promoted = store.query("SELECT name FROM scenarios WHERE cycle = '2026-02' AND promoted")
    assert promoted["name"].tolist() == ["Price up"]
    assert cycles.steps(store, "2026-02")["status"].tolist() == ["not started"] * 4
    assert _audit(store, "open")["user_name"].tolist() == ["kim"]
    # the new cycle is open: imports and edits are accepted again
    store.replace_tables({"settings": small_frames()["settings"]}, user="ann", source="t")
    register.update_assumption(store, int(carried["id"].iloc[0]), 1, {"value": "7"}, user="ann")


def test_open_next_cycle_warns_when_the_current_one_was_not_locked(store):
    message = cycles.open_next_cycle(store, user="kim")
    assert message.endswith(
        "Warning: cycle 2026-01 was not locked, so no plan of record was kept for it."
    )


def test_open_next_refuses_when_the_next_cycle_exists_without_forecasts(tmp_path):
    frames = small_frames()
    frames["forecasts"] = frames["forecasts"].assign(month="2025-12")  # nothing to carry
    with make_store(tmp_path / "p.duckdb", frames) as s:
        cycles.open_next_cycle(s, user="kim")
        before = s.snapshot()
        with pytest.raises(SopError, match="Cycle 2026-02 is already open but has no forecasts"):
            cycles.open_next_cycle(s, user="kim")
        assert tables_equal(before, s.snapshot())


# --- command line -----------------------------------------------------------------------------


def _cli(db, *args):
    env = {**os.environ, "SOP_USER": "Kim (CLI)", "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "sop_core", "cycle", *args, "--db", str(db)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_cli_status_lock_open_with_the_same_rules(tmp_path, capsys, monkeypatch):
    from sop_core.cli import main

    db = tmp_path / "cli.duckdb"
    make_store(db).close()

    status = _cli(db, "status")  # the real command line, once for reading
    assert status.returncode == 0, status.stderr
    lines = status.stdout.splitlines()
    assert lines[0].startswith("Cycle 2026-01 · step 1 of 4: Demand review (due 2 Jan")
    assert len(lines) == 5 and "Executive S&OP" in lines[4]

    monkeypatch.setenv("SOP_USER", "Kim (CLI)")
    assert main(["cycle", "lock", "--db", str(db)]) == 2  # steps not signed off
    assert "not signed off: Demand review" in capsys.readouterr().err
    assert main(["cycle", "lock", "--db", str(db), "--override", "board meets tomorrow"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("Cycle 2026-01 locked by Kim (CLI)")
    assert "not signed off: board meets tomorrow" in out

    again = _cli(db, "lock")  # and once for a refusal: one line, non-zero exit
    assert again.returncode != 0
    assert again.stdout == ""
    assert again.stderr.count("\n") == 1
    assert again.stderr.startswith("error: Cycle 2026-01 is locked (by Kim (CLI) on ")

    assert main(["cycle", "open", "--db", str(db)]) == 0
    assert capsys.readouterr().out.startswith("Opened cycle 2026-02")
    assert main(["cycle", "status", "--db", str(db)]) == 0
    assert capsys.readouterr().out.startswith("Cycle 2026-02 · step 1 of 4")
