"""The Performance review page, the summary's "Last month against the plan" and the Decisions page's
expected effects (AppTest)."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest
from _rhythm import CYCLE, make_store, restore_main  # noqa: F401 - autouse
from streamlit.testing.v1 import AppTest

from sop_core import fmt
from sop_core.intake.importer import import_paths
from sop_core.meeting import cycles, decisions
from sop_core.store.db import Store
from sop_core.views import review as rv
from ui.text import plain

ROOT = Path(__file__).resolve().parent.parent
APP = str(ROOT / "app.py")
REVIEW = str(ROOT / "pages" / "review.py")
SUMMARY = str(ROOT / "pages" / "summary.py")
DECISIONS = str(ROOT / "pages" / "decisions.py")


def _run(page: str, user: str | None = None) -> AppTest:
    at = AppTest.from_file(page, default_timeout=120)
    if user:
        at.session_state["user"] = user
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _table(at: AppTest, *columns: str) -> pd.DataFrame:
    for frame in at.dataframe:
        if all(c in frame.value.columns for c in columns):
            return frame.value
    raise AssertionError(f"no table with columns {columns}")


def _text(markdown: str) -> str:
    """What a person reads of a Markdown string the page escaped."""
    return re.sub(r"\\(.)", r"\1", markdown)


def _texts(elements) -> list[str]:
    return [_text(e.value) for e in elements]


# --- the demo ---------------------------------------------------------------------------------


def test_the_review_page_shows_each_locked_plan_against_the_actuals(demo_db):
    at = _run(REVIEW)
    assert at.title[0].value == "Performance review"
    assert at.selectbox(key="review_cycle").options == [
        "Cycle 2026-10",
        "Cycle 2026-09",
        "Cycle 2026-08",
    ]
    with Store(demo_db) as store:
        frame = rv.review(store, "2026-10")
        expected = rv.review_table(frame, "GBP")
        outcomes = rv.decision_outcomes(store)
        tests = rv.assumption_tests_for(store, rv.plan_of_record(store))
    table = _table(at, "month", "measure", "plan", "actual", "variance")
    pd.testing.assert_frame_equal(table.reset_index(drop=True), expected)
    revenue = frame.set_index("measure").loc["revenue"]
    metrics = {m.label: m for m in at.metric}
    assert metrics["Revenue, Oct 2026"].value == fmt.money(revenue["actual"], "GBP", digits=2)
    # st.metric reads the sign from an ASCII minus (ui.widgets.delta)
    shown = rv.show_measure("revenue", revenue["variance"], "GBP", signed=True)
    assert metrics["Revenue, Oct 2026"].delta == "-" + shown[1:] + " against plan"
    # the DSO drift, in words, and the two decisions judged
    [warning] = _texts(at.warning)
    assert warning == tests.loc[tests["flagged"], "text"].iloc[0]
    assert "assumed 52 days; measured 61 days over Aug 2026–Oct 2026" in warning
    judged = _table(at, "decision", "verdict")
    assert judged["verdict"].tolist() == ["delivered", "not delivered"]
    assert len(judged) == len(outcomes)
    # the history across the three locked cycles
    accuracy = _table(at, "cycle", "own month")
    assert accuracy["cycle"].tolist() == ["2026-08", "2026-09", "2026-10"]
    assert len(at.get("vega_lite_chart")) == 1
    # the months before any locked plan are kept: "no plan to compare"
    outside = _table(at, "month", "status")
    assert set(outside["status"]) == {"no plan to compare"} and len(outside) == 9

    at.selectbox(key="review_cycle").select("2026-08").run()
    assert not at.exception
    table = _table(at, "month", "measure", "plan", "actual", "variance")
    assert set(table["month"]) == {"Aug 2026", "Sep 2026", "Oct 2026"}


def test_the_assumptions_page_tests_the_plan_against_the_actuals_once_per_data_version(
    demo_db, monkeypatch
):
    with Store(demo_db) as store:
        expected = rv.tests_table(rv.assumption_tests_for(store, rv.plan_of_record(store)), "GBP")
    from ui import views

    calls = []
    real = views.assumption_tests_for
    monkeypatch.setattr(
        views, "assumption_tests_for", lambda *a, **k: calls.append(1) or real(*a, **k)
    )
    views._assumption_tests.clear()
    at = _run(str(ROOT / "pages" / "assumptions.py"))
    table = _table(at, "assumption", "assumed", "measured")
    pd.testing.assert_frame_equal(table.reset_index(drop=True), expected)
    at.run()  # the next visit: the same table, not tested again
    assert not at.exception and len(calls) == 1
    pd.testing.assert_frame_equal(
        _table(at, "assumption", "assumed", "measured").reset_index(drop=True), expected
    )


def test_the_summary_opens_with_last_month_against_the_plan(demo_db):
    at = AppTest.from_file(APP, default_timeout=120)
    at.run()
    assert not at.exception
    with Store(demo_db) as store:
        last = rv.last_month_against_plan(store)
    # the meeting opens with last month in one line, then what it must decide (#15), then the
    # figures; last month's own figures follow
    assert at.info[0].value == f"**Last month.** {plain(last.sentence)}"
    heads = [h.value for h in at.subheader]
    assert heads[0] == "What the meeting must decide" and "Last month against the plan" in heads
    metrics = {m.label: m for m in at.metric}
    plan, actual, variance = last.figure("revenue")
    tile = metrics["Revenue, Oct 2026"]
    assert tile.value == rv.show_measure("revenue", actual, "GBP")
    assert (
        tile.delta
        == "-" + rv.show_measure("revenue", variance, "GBP", signed=True)[1:] + " vs plan"
    )
    assert metrics["Closing cash, Oct 2026"].value == rv.show_measure(
        "closing_cash", last.figure("closing_cash")[1], "GBP"
    )
    assert last.sentence.startswith("Oct 2026 against the plan")
    assert "locked in cycle 2026-10" in last.sentence and "price and mix" in last.sentence


# --- empty states and the decisions page -------------------------------------------------------


@pytest.fixture
def small_db(tmp_path, monkeypatch):
    path = tmp_path / "plan.duckdb"
    make_store(path).close()
    monkeypatch.setenv("SOP_DB", str(path))
    return path


def test_empty_states_say_what_to_do(small_db):
    at = _run(REVIEW)
    infos = " ".join(_texts(at.info))
    assert "No cycle is locked yet" in infos
    at = _run(SUMMARY)
    assert any(t.startswith("**Last month.** No plan has been locked yet") for t in _texts(at.info))
    with Store(small_db) as store:
        cycles.lock_cycle(store, CYCLE, user="Kim", override="locked for the test")
    at = _run(REVIEW)
    infos = " ".join(_texts(at.info))
    assert "No financial actuals yet: import the financial_actuals table on the Data page" in infos
    assert "No actuals yet for the months of cycle 2026-01's plan" in infos


def test_an_expected_effect_is_set_on_the_decisions_page_and_judged(small_db, tmp_path):
    with Store(small_db) as store:
        did = decisions.add_decision(
            store, CYCLE, decision="Promotion on B", owner="Sales", due="2026-02-28", user="Kim"
        )
    at = _run(DECISIONS, user="Kim")
    at.selectbox(key=f"decisions_e_measure_{did}").select("revenue")
    at.selectbox(key=f"decisions_e_month_{did}").select("2026-02")
    at.number_input(key=f"decisions_e_value_{did}").set_value(3300.0)
    at.button(key=f"decisions_e_save_{did}").click().run()
    assert not at.exception
    assert _texts(at.success) == ["Expected effect saved."]
    log = _table(at, "decision", "expected effect")
    assert log["expected effect"].tolist() == ["Revenue 3,300 in 2026-02"]
    waiting = _table(at, "decision", "verdict")
    assert waiting["verdict"].tolist() == ["waiting for actuals"]

    with Store(small_db) as store:
        cycles.lock_cycle(store, CYCLE, user="Kim", override="locked for the test")
        cycles.open_next_cycle(store, user="Kim")
        folder = tmp_path / "fin"
        folder.mkdir()
        (folder / "financial_actuals.csv").write_text("month,revenue\n2026-02,3250\n")
        import_paths(store, [folder], user="Finance")
    at = _run(DECISIONS, user="Kim")
    judged = _table(at, "decision", "verdict")
    # plan 3,000, expected 3,300, actual 3,250: 250 / 300 of the way
    assert judged[["plan", "expected", "actual", "verdict"]].values.tolist() == [
        ["£3,000", "£3,300", "£3,250", "partly delivered"]
    ]
    with Store(small_db) as store:
        audit = store.query("SELECT user_name, new_value FROM audit_log WHERE action = 'judge'")
    assert audit.values.tolist() == [["system", "partly delivered"]]
