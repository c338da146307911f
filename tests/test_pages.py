"""Every page runs on the demo company and shows what the engine computes (AppTest)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from sop_core import fmt
from sop_core.meeting.record import plan_for_store
from sop_core.plan.service import model_for_store
from sop_core.store.db import Store
from sop_core.views.alignment import TYPE_LABELS
from ui.text import plain

APP = str(Path(__file__).resolve().parent.parent / "app.py")

PAGES = {
    "pages/summary.py": "Executive summary",
    "pages/alignment.py": "Alignment",
    "pages/demand.py": "Demand review",
    "pages/supply.py": "Supply review",
    "pages/finance.py": "Finance",
    "pages/data.py": "Data",
}


def _app(page: str | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=120)
    at.run()
    if page:
        at.switch_page(page)
        at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _table(at: AppTest, *columns: str):
    """The first dataframe on the page that has these columns (dataframes carry no key in AppTest)."""
    for frame in at.dataframe:
        value = frame.value
        if all(c in value.columns or c in value.index for c in columns):
            return value
    raise AssertionError(f"no table with columns {columns}")


def _engine(db):
    store = Store(db)
    return store, plan_for_store(store)


@pytest.mark.parametrize(("page", "title"), PAGES.items())
def test_page_runs_and_shows_its_title(demo_db, page, title):
    at = _app(page)
    assert at.title[0].value == title


def test_summary_figures_equal_the_engine(demo_db):
    at = _app()
    _, result = _engine(demo_db)
    s = result.summary
    metrics = {m.label: m for m in at.metric}
    assert metrics["Revenue"].value == fmt.money(s["revenue"], "GBP")
    assert metrics["Gross margin"].value == fmt.money(s["gross_margin"], "GBP")
    assert metrics["Gross margin"].delta == f"{fmt.pct(s['gross_margin_pct'])} of revenue"
    assert metrics["Operating profit"].value == fmt.money(s["operating_profit"], "GBP")
    assert metrics["Lowest cash"].value == fmt.money(s["lowest_cash"], "GBP")
    below = fmt.money(750_000 - s["lowest_cash"], "GBP")
    assert metrics["Lowest cash"].delta == f"{below} short · Oct 2027"
    assert below == "£139k"
    assert metrics["Closing cash"].value == fmt.money(s["closing_cash_end"], "GBP")
    assert metrics["Sales lost to supply"].value == fmt.money(s["unmet_revenue"], "GBP")
    assert (
        metrics["Sales lost to supply"].delta == f"{fmt.units(s['unmet_units'])} units not shipped"
    )
    # the budget delta is the plan minus the budget over the months the budget covers
    assert metrics["Revenue vs budget"].value == fmt.signed_money(s["revenue_vs_budget"], "GBP")
    assert metrics["Revenue vs budget"].delta == "Nov 2026–Apr 2028"  # every month budgeted
    assert metrics["Money at stake"].value == fmt.money(s["money_at_stake"], "GBP")
    assert metrics["Money at stake"].delta == f"{s['root_causes_count']} root causes"


def test_summary_opens_with_the_root_causes_the_meeting_must_decide(demo_db):
    at = _app()
    _, result = _engine(demo_db)
    assert [h.value for h in at.subheader[:3]] == [
        "What the meeting must decide",
        "The plan in figures",
        "Last month against the plan",
    ]
    causes = result.root_causes.head(5)
    # each root cause in words, whole (it wraps), its owner, its money, the review that resolves it
    shown = [m.value for m in at.markdown]
    for title in causes["title"]:
        assert f"**{plain(title)}**" in shown
    owners = [c.value for c in at.caption if c.value.startswith("Owner: ")]
    assert owners[: len(causes)] == [f"Owner: {plain(o)}" for o in causes["owner"]]
    stakes = [m.value for m in at.metric if m.label == "At stake"]
    assert stakes == [fmt.money(v, "GBP") for v in causes["money_at_stake"]]
    press = causes["title"][causes["title"].str.startswith("Press & Weld short of capacity")]
    assert len(press) == 1 and press.iloc[0].endswith(
        f"{fmt.money(result.summary['unmet_revenue'], 'GBP')} of sales lost"
    )
    buttons = [at.button(key=f"summary_agenda_go_{i}").label for i in range(len(causes))]
    assert buttons[0] == "Demand review"  # Smart Controls' inflated forecast


def test_an_agenda_button_opens_its_review_narrowed_to_the_family(demo_db):
    at = _app()
    at.button(key="summary_agenda_go_0").click().run()
    assert not at.exception
    assert at.title[0].value == "Demand review"
    assert at.session_state["family"] == "Smart Controls"


def test_alignment_shows_the_demo_story(demo_db):
    at = _app("pages/alignment.py")
    table = _table(at, "what", "where", "resolve in")
    shown = set(table["what"])
    for kind in (
        "unmet_demand",
        "capacity_overload",
        "labour_shortfall",
        "revenue_vs_budget",
        "cash_below_minimum",
        "forecast_inflated",
        "forecast_sandbagged",
    ):
        assert TYPE_LABELS[kind] in shown, kind
    assert "Press & Weld" in set(table["where"])
    assert len(table) == len(_engine(demo_db)[1].disagreements)


def test_alignment_filters_by_severity_and_type(demo_db):
    at = _app("pages/alignment.py")
    at.multiselect(key="alignment_types").set_value(["cash_below_minimum"]).run()
    table = _table(at, "what", "where", "resolve in")
    assert set(table["what"]) == {"Cash below minimum"}
    assert sorted(table["month"]) == ["Nov 2027", "Oct 2027"]  # months as a person reads them
    # what, where, money, owner and the review first: in sight on a 1280 px projector
    assert list(table.columns[:6]) == [
        "month",
        "what",
        "where",
        "money at stake",
        "owner",
        "resolve in",
    ]


def test_family_filter_in_the_url_narrows_alignment(demo_db):
    at = AppTest.from_file(APP, default_timeout=120)
    at.query_params["family"] = "Smart Controls"
    at.run()
    at.switch_page("pages/alignment.py")
    at.run()
    assert not at.exception
    table = _table(at, "what", "where", "resolve in")
    assert "Panel Radiators" not in set(table["where"])
    assert "Smart Controls" in set(table["where"])


def test_supply_marks_the_overloaded_resource(demo_db):
    at = _app("pages/supply.py")
    metrics = {m.label: m for m in at.metric}
    assert metrics["Months over capacity"].delta == "Press & Weld"
    # the same unmet demand as the Executive summary's (the table below leaves out
    # family-months under half a unit; the total does not)
    s = _engine(demo_db)[1].summary
    assert metrics["Unmet demand (units)"].value == fmt.units(s["unmet_units"])
    assert metrics["Unmet demand (units)"].delta == (
        f"{fmt.money(s['unmet_revenue'], 'GBP')} of sales lost"
    )
    assert at.segmented_control(key="supply_resource").value == "Press & Weld"


def test_finance_pnl_matches_the_engine(demo_db):
    at = _app("pages/finance.py")
    _, result = _engine(demo_db)
    pnl = _table(at, "2026-11")
    company = result.company
    assert pnl.loc["Revenue", company["month"].iloc[0]] == fmt.money(
        company["revenue"].iloc[0], "GBP"
    )
    assert pnl.loc["Closing cash", company["month"].iloc[-1]] == fmt.money(
        company["closing_cash"].iloc[-1], "GBP"
    )


def test_setting_the_consensus_changes_the_plan_and_is_audited(demo_db):
    store = Store(demo_db)
    before = plan_for_store(store)
    model = model_for_store(store)
    cols = model.sku_family == list(model.families).index("Smart Controls")
    demand_before = float(before.demand[:, cols].sum())
    at = _app("pages/demand.py")
    at.selectbox(key="demand_consensus_family").set_value("Smart Controls").run()
    at.radio(key="demand_consensus_method").set_value("statistical")
    at.text_input(key="demand_consensus_reason").set_value(
        "Sales inflates Smart Controls; take the baseline"
    )
    at.form_submit_button[0].click().run()
    assert not at.exception
    assert not at.error, [e.value for e in at.error]
    after = plan_for_store(store)
    demand_after = float(after.demand[:, cols].sum())
    # statistical baseline of the family over the horizon (none before a launch or after an
    # end; the new thermostat's is its predecessor's, like-for-like)
    assert demand_after == pytest.approx(float(np.nansum(model.baseline[:, cols])), rel=1e-9)
    assert demand_after < demand_before
    audit = store.audit_log(limit=5)
    row = audit[audit["action"] == "set consensus"].iloc[0]
    assert row["item_key"] == "2026-11/Smart Controls"
    assert "Statistical baseline" in row["new_value"]


def test_the_consensus_preview_follows_the_choice_before_it_is_set(demo_db):
    from sop_core.forecasting.consensus import get_choice

    store = Store(demo_db)
    model = model_for_store(store)
    cols = model.sku_family == list(model.families).index("Smart Controls")
    at = _app("pages/demand.py")
    at.selectbox(key="demand_consensus_family").set_value("Smart Controls").run()
    at.radio(key="demand_consensus_method").set_value("statistical").run()
    assert not at.exception
    [preview] = [m for m in at.metric if m.label.startswith("Consensus for Smart Controls")]
    # the family's statistical baseline over the horizon, not the sales figure it started on
    assert preview.value == fmt.units(float(np.nansum(model.baseline[:, cols])))
    assert get_choice(store, "2026-11", "Smart Controls") is None  # nothing stored yet
    at.number_input(key="demand_consensus_adjustment").set_value(-10.0).run()
    [preview] = [m for m in at.metric if m.label.startswith("Consensus for Smart Controls")]
    assert preview.value == fmt.units(float(np.nansum(model.baseline[:, cols])) * 0.9)


def test_a_second_consensus_editor_is_refused_not_silently_overwriting(demo_db):
    sessions = {}
    for name in ("Ann", "Bob"):
        at = _app("pages/demand.py")
        at.session_state["user"] = name
        at.selectbox(key="demand_consensus_family").set_value("Smart Controls").run()
        sessions[name] = at
    ann, bob = sessions["Ann"], sessions["Bob"]
    ann.radio(key="demand_consensus_method").set_value("statistical")
    ann.text_input(key="demand_consensus_reason").set_value("Sales inflates; take the baseline")
    ann.form_submit_button[0].click().run()
    assert not ann.error, [e.value for e in ann.error]
    bob.radio(key="demand_consensus_method").set_value("marketing")
    bob.text_input(key="demand_consensus_reason").set_value("Marketing knows the launch dates")
    bob.form_submit_button[0].click().run()
    assert not bob.exception
    [error] = [e.value for e in bob.error]
    assert error.startswith('Ann saved the consensus "Smart Controls" at ')
    assert "since you loaded it: choice is now Statistical baseline" in error
    assert "Your choice Marketing forecast, adjustment +0 % was not saved" in error
    store = Store(demo_db)
    log = store.audit_log()
    assert log.loc[log["action"] == "set consensus", "user_name"].tolist()[0] == "Ann"


def test_consensus_without_reason_is_refused_and_changes_nothing(demo_db):
    store = Store(demo_db)
    at = _app("pages/demand.py")
    before = store.snapshot()  # after the first load, which records the cycle's steps
    at.form_submit_button[0].click().run()
    assert at.error and "reason" in at.error[0].value
    after = store.snapshot()
    for name, frame in before.items():
        assert frame.equals(after[name]), name


def test_the_next_cycle_starts_the_consensus_form_from_the_last_choice(demo_db):
    from sop_core.forecasting.consensus import get_choice, previous_choice, set_consensus
    from sop_core.meeting.cycles import open_next_cycle

    store = Store(demo_db)
    set_consensus(
        store,
        model_for_store(store),
        "Smart Controls",
        "statistical",
        adjustment_pct=-5.0,
        reason="Sales inflates Smart Controls; take the baseline",
        user="Demand Planner",
        expected_version=None,
    )
    assert previous_choice(store, "2026-11", "Smart Controls") is None  # nothing before it
    open_next_cycle(store, user="COO")
    earlier = previous_choice(store, "2026-12", "Smart Controls")
    assert earlier is not None and earlier[0] == "2026-11"
    assert (earlier[1].method, earlier[1].adjustment_pct) == ("statistical", -5.0)
    assert get_choice(store, "2026-12", "Smart Controls") is None  # carried as a suggestion only

    at = _app("pages/demand.py")
    at.selectbox(key="demand_consensus_family").set_value("Smart Controls").run()
    assert not at.exception
    captions = " ".join(c.value for c in at.caption)
    assert "Not set in cycle 2026-12 yet. Last set in cycle 2026-11: Statistical baseline" in (
        captions
    )
    assert at.radio(key="demand_consensus_method").value == "statistical"
    assert at.number_input(key="demand_consensus_adjustment").value == -5.0
    # another family, never set: the form starts from the sales forecast, no adjustment
    at.selectbox(key="demand_consensus_family").set_value("Towel Rails").run()
    assert "Last set in cycle" not in " ".join(c.value for c in at.caption)
    assert at.radio(key="demand_consensus_method").value == "sales"
    assert at.number_input(key="demand_consensus_adjustment").value == 0.0


def _ranges(db):
    from sop_core.meeting.record import plan_of_record
    from sop_core.views.ranges import app_ranges

    return app_ranges(plan_of_record(Store(db)).result)


def test_finance_shows_the_cash_fan_and_the_chance_of_going_below_the_minimum(demo_db):
    from sop_core.views.ranges import cash_risk_sentence, lowest_cash_sentence

    at = _app("pages/finance.py")
    r = _ranges(demo_db)
    text = " ".join(m.value for m in at.markdown)
    assert f"**{cash_risk_sentence(r, 'GBP')}** {lowest_cash_sentence(r, 'GBP')}" in text
    assert "goes below £750k in Oct 2027" in text  # the demo's riskiest month
    horizon = _table(at, "P10", "P50", "P90", "plan of record")
    low = r.horizon.set_index("measure").loc["lowest_cash"]
    assert horizon.set_index("measure").loc["Lowest cash", "P50"] == fmt.money(low["p50"])
    titles = [json.loads(c.spec).get("title") for c in at.get("vega_lite_chart")]
    assert any("Closing cash: the plan and its range" in str(t) for t in titles)


def test_summary_states_the_cash_risk_under_the_figures(demo_db):
    from sop_core.views.ranges import cash_risk_sentence

    at = _app()
    r = _ranges(demo_db)
    assert f"**{cash_risk_sentence(r, 'GBP')}**" in [m.value for m in at.markdown]


@pytest.mark.parametrize(
    ("page", "sentence"),
    [(None, "**{risk}**"), ("pages/finance.py", "**{risk}** {lowest}")],
)
def test_a_large_plans_cash_range_is_drawn_in_the_background_and_shown_when_ready(
    demo_db, monkeypatch, page, sentence
):
    import threading

    from sop_core.views.ranges import cash_risk_sentence, lowest_cash_sentence
    from ui import plan

    monkeypatch.setattr(plan, "BACKGROUND_CELLS", 0)  # the demo's plan counts as large
    release = threading.Event()
    real = plan.app_ranges

    def held(point, **kwargs):  # the drawing waits until the test lets it go
        assert release.wait(60)
        return real(point, **kwargs)

    monkeypatch.setattr(plan, "app_ranges", held)
    r = _ranges(demo_db)
    expected = sentence.format(
        risk=cash_risk_sentence(r, "GBP"), lowest=lowest_cash_sentence(r, "GBP")
    )
    try:
        at = _app(page)
        # the page is there with its figures, and says the range is being drawn
        shown = " ".join(m.value for m in at.markdown)
        assert expected not in shown
        bars = [e.proto for e in at.get("progress")]
        assert len(bars) == 1 and bars[0].value == 0
        assert bars[0].text.startswith("Drawing the cash range over 500 demand paths")
        if page is None:
            assert "Revenue vs budget" in [m.label for m in at.metric]
        assert len(plan._drawing) == 1
        (drawing,) = plan._drawing.values()
    finally:
        release.set()
    drawing.result(timeout=60)
    at.run()
    assert not at.exception
    assert expected in " ".join(m.value for m in at.markdown)  # the same figures as at once
    assert not at.get("progress") and not plan._drawing


def test_a_background_drawing_starts_when_the_page_run_ends(demo_db, monkeypatch):
    # the rest of the page does not share the cores with the drawing
    from ui import plan

    monkeypatch.setattr(plan, "BACKGROUND_CELLS", 0)
    events = []
    real_draw, real_start = plan.app_ranges, plan.start_held

    def drawing(point, **kwargs):
        events.append("drawing")
        return real_draw(point, **kwargs)

    def start_held():
        events.append("page run ended")
        real_start()

    monkeypatch.setattr(plan, "app_ranges", drawing)
    monkeypatch.setattr(plan, "start_held", start_held)
    at = _app()
    for future in list(plan._drawing.values()):
        future.result(timeout=60)
    assert not at.exception
    assert events == ["page run ended", "drawing"]
    assert not plan._held and not plan._drawing


def test_a_background_drawing_that_fails_says_why_on_the_page(demo_db, monkeypatch):
    from sop_core.errors import PlanError
    from ui import plan

    monkeypatch.setattr(plan, "BACKGROUND_CELLS", 0)

    def fails(point, **kwargs):
        raise PlanError("Samples: 0 is not a whole number from 1 to 100,000.")

    monkeypatch.setattr(plan, "app_ranges", fails)
    at = _app()
    for drawing in list(plan._drawing.values()):
        with pytest.raises(PlanError):
            drawing.result(timeout=60)
    at.run()
    warnings = [w.value for w in at.warning]
    assert "Cash ranges unavailable: Samples: 0 is not a whole number from 1 to 100,000." in (
        warnings
    )
    assert not at.get("progress")
    assert "Revenue vs budget" in [m.label for m in at.metric]
    plan._drawing.clear()


def test_demand_review_shades_the_baseline_band(demo_db):
    at = _app("pages/demand.py")
    captions = " ".join(c.value for c in at.caption)
    assert "80 % bands of the skus added up" in captions
    sku = at.selectbox(key="demand_sku").options[1].split(" · ")[0]
    at.selectbox(key="demand_sku").select(sku).run()
    assert not at.exception
    assert "80 % band, where 8 months in 10 should fall" in " ".join(c.value for c in at.caption)


def test_the_demand_reviews_track_record_reads_only_the_scored_months_of_past_baselines(demo_db):
    import pandas as pd

    from sop_core.forecasting.baseline import baseline_history
    from sop_core.forecasting.trackrecord import track_record
    from sop_core.store.plandata import current_cycle, load_plan_data
    from ui import views

    with Store(demo_db) as store:
        cycle = current_cycle(store)
        data = load_plan_data(store, cycle)
        full = baseline_history(store, cycle, compute_missing=False)
        expected = track_record(
            data.actuals, data.forecasts, data.products, current_cycle=cycle, baseline_history=full
        )
        read = store.arrow(views.SQL_BASELINE_HISTORY, [cycle]).to_pandas()
        track, _bias, _fva = views.track_tables(store, cycle)
    assert 0 < len(read) < len(full)  # a past cycle's whole horizon is stored; 3 months scored
    pd.testing.assert_frame_equal(track, expected)
    assert (track.loc[track["source"] == "statistical", "n_points"] > 0).any()


def test_the_summary_starts_the_track_record_that_the_demand_review_shows(demo_db, monkeypatch):
    from ui import views

    scored = []
    real = views._score

    def score(store, cycle, *args):
        scored.append(cycle)
        return real(store, cycle, *args)

    monkeypatch.setattr(views, "_score", score)
    views._tracks.clear()
    at = _app()  # the Executive summary
    assert not at.exception
    (started,) = views._tracks.values()  # scoring from the summary, before any visit
    track, bias, _fva = started.result(timeout=60)
    at.switch_page("pages/demand.py").run()
    assert not at.exception
    assert len(scored) == 1  # the Demand review shows it without scoring again
    shown = _table(at, "Bias, 1 month ahead (%)")
    sales = track[(track["source"] == "sales") & (track["family"] == "All") & (track["lag"] == 1)]
    assert shown.loc["Sales", "Bias, 1 month ahead (%)"] == round(sales["bias_pct"].iloc[0], 1)


def test_a_large_plans_ranges_wait_for_the_track_record_being_scored(demo_db, monkeypatch):
    # the meeting goes from the summary to the Demand review: its scoring has the cores first
    import threading

    from ui import plan, views

    monkeypatch.setattr(plan, "BACKGROUND_CELLS", 0)
    release, events = threading.Event(), []
    real_score, real_draw = views._score, plan.app_ranges

    def score(store, cycle, *args):
        assert release.wait(60)
        events.append("track record scored")
        return real_score(store, cycle, *args)

    def drawing(point, **kwargs):
        events.append("ranges drawn")
        return real_draw(point, **kwargs)

    monkeypatch.setattr(views, "_score", score)
    monkeypatch.setattr(plan, "app_ranges", drawing)
    views._tracks.clear()
    try:
        at = _app()
        assert not at.exception
        (drawing_future,) = plan._drawing.values()
        assert not drawing_future.done() and events == []  # the drawing waits
    finally:
        release.set()
    drawing_future.result(timeout=60)
    assert events == ["track record scored", "ranges drawn"]


def test_the_summarys_history_is_worked_out_when_opened(demo_db):
    from sop_core.store.plandata import load_plan_data
    from sop_core.views.overview import trailing_revenue

    at = _app()
    label = "History: the last 12 months of actuals"
    assert label in [e.label for e in at.expander]
    assert not [m for m in at.metric if m.label.startswith("Revenue at list price")]
    at.session_state["summary_history"] = True  # the leader opens it
    at.run()
    assert not at.exception
    with Store(demo_db, create=False) as store:
        data = load_plan_data(store)
    expected = trailing_revenue(data.products, data.actuals, 12)
    (shown,) = [m for m in at.metric if m.label.startswith("Revenue at list price")]
    assert shown.label.endswith(f"{expected['first_month']} to {expected['last_month']}")
    assert shown.value == fmt.money(expected["revenue"], "GBP")


def test_the_first_page_keeps_its_model_and_a_fresh_server_reads_it(demo_db, monkeypatch):
    import time

    import streamlit as st

    from sop_core.meeting import kept, record

    at = _app()
    figures = [m.value for m in at.metric]
    path = demo_db.with_name(demo_db.name + kept.SUFFIX)
    deadline = time.monotonic() + 60
    while not path.exists() and time.monotonic() < deadline:  # kept when the run has ended
        time.sleep(0.1)
    assert path.exists()

    st.cache_resource.clear()  # a server started afresh: only the file is left
    st.cache_data.clear()

    def not_again(*args, **kwargs):
        raise AssertionError("prepared again although it was kept")

    monkeypatch.setattr(record, "prepared", not_again)
    again = _app()
    assert [m.value for m in again.metric] == figures and figures


def test_a_fresh_server_reads_the_track_record_kept_beside_the_store(demo_db, monkeypatch):
    import pandas as pd

    from sop_core.meeting import kept
    from sop_core.store.plandata import current_cycle
    from ui import views

    views._tracks.clear()
    with Store(demo_db) as store:
        scored, _bias, _fva = views.track_tables(store, current_cycle(store))
        assert demo_db.with_name(demo_db.name + ".track.parquet").exists()
        views._tracks.clear()  # a server started afresh: only the file is left

        def not_again(*args, **kwargs):
            raise AssertionError("scored again although it was kept")

        monkeypatch.setattr(views, "track_record", not_again)
        read, bias, _fva = views.track_tables(store, current_cycle(store))
        pd.testing.assert_frame_equal(read, scored)
        assert len(bias)
        # another data version is not read from the file
        with store.transaction() as cur:
            store.audit(cur, "test", "edit", "settings", "x", None, None, None)
        views._tracks.clear()
        with pytest.raises(AssertionError, match="scored again"):
            views.track_tables(store, current_cycle(store))
    assert kept.read_kept_frame(store, views.TRACK, "another key") is None


def test_a_page_run_counts_as_urgent_and_a_drawing_waits_for_it_between_paths(demo_db, monkeypatch):
    from ui import background, plan

    seen, waits = [], []
    real_record, real_after = plan.record, background.after_urgent

    def record(*args, **kwargs):
        seen.append(background._pending)
        return real_record(*args, **kwargs)

    def after(*args, **kwargs):
        waits.append(1)
        return real_after(*args, **kwargs)

    monkeypatch.setattr(plan, "record", record)
    monkeypatch.setattr(plan, "BACKGROUND_CELLS", 0)
    monkeypatch.setattr(background, "after_urgent", after)
    at = _app()
    for future in list(plan._drawing.values()):
        future.result(timeout=60)
    assert not at.exception
    assert seen and min(seen) >= 1  # the summary's run was counted while it ran
    assert background._pending == 0  # and no longer once it ended
    assert len(waits) >= 2  # before the drawing, and after its paths
