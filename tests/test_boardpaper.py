"""The board paper: a 10–15 page pre-read, sentences whose every figure is the engine's, native
PowerPoint charts holding the plan's series, commentary beneath the generated text, a locked
cycle's paper that says the same after a new import."""

from __future__ import annotations

import re
import shutil

import numpy as np
import pytest
from openpyxl import load_workbook
from pptx import Presentation
from pptx.enum.chart import XL_CHART_TYPE
from pypdf import PdfReader

from sop_core import fmt
from sop_core.boardpack.build import render_pack
from sop_core.boardpack.content import pack_content
from sop_core.boardpack.model import PREREAD
from sop_core.boardpack.pdf import APPENDIX_TITLE
from sop_core.errors import CycleLocked
from sop_core.intake.importer import import_paths
from sop_core.meeting.commentary import save_commentary
from sop_core.meeting.cycles import lock_cycle, open_next_cycle
from sop_core.meeting.decisions import add_decision, list_decisions
from sop_core.meeting.record import model_of_record, plan_of_record
from sop_core.meeting.register import register
from sop_core.meeting.scenarios import save_scenario
from sop_core.meeting.versions import load_version, plan_totals
from sop_core.plan.engine import compute
from sop_core.plan.levers import parse_levers
from sop_core.store.db import Store
from sop_core.views.alignment import stories_by_month
from sop_core.views.bridge import bridge_for_cycle
from sop_core.views.ranges import app_ranges
from sop_core.views.review import assumption_tests_for, decision_outcomes, review

CYCLE = "2026-11"
SCENARIO = "Price -3%"
SCENARIO_LEVERS = ["price_change_pct=-3"]
# what a person typed: shown as text, never as a formula, HTML or Markdown
COMMENT = "=SUM(A1) <b>The dip</b> is **seasonal**; the facility covers it.\nSecond paragraph."
MONTH_WORDS = re.compile(
    r"\b(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4}\b|\b\d{4}-\d{2}(-\d{2})?\b"
)


@pytest.fixture(scope="module")
def paper(demo_store_file, tmp_path_factory):
    """The demo (cycle 2026-10 locked) with a saved scenario, a decision and a commentary on the
    cash page; its paper in the three formats."""
    folder = tmp_path_factory.mktemp("paper")
    db = folder / "paper.duckdb"
    shutil.copy(demo_store_file, db)
    with Store(db) as store:
        save_scenario(store, CYCLE, SCENARIO, parse_levers(SCENARIO_LEVERS), author="CFO")
        add_decision(
            store,
            CYCLE,
            decision="Draw the revolving credit facility in September 2027",
            owner="Finance Director",
            due="2027-08-31",
            user="Jane",
        )
        save_commentary(store, CYCLE, "cash", COMMENT, expected_version=0, user="Jane Smith")
        pack = pack_content(store)
        for ext in ("pdf", "pptx", "xlsx"):
            render_pack(pack, folder / f"paper.{ext}")
    return {"db": db, "pack": pack, "folder": folder}


def _preread_pages(pdf) -> int:
    reader = PdfReader(pdf)
    for entry in reader.outline:
        if not isinstance(entry, list) and entry.title == APPENDIX_TITLE:
            return reader.get_destination_page_number(entry)  # 0-based: pages before it
    raise AssertionError("no appendix in the outline")


def test_the_preread_is_10_to_15_pages_and_the_brief_is_one_page(paper):
    pdf = paper["folder"] / "paper.pdf"
    n = _preread_pages(pdf)
    assert 10 <= n <= 15, n
    reader = PdfReader(pdf)
    titles = {
        e.title: reader.get_destination_page_number(e)
        for e in reader.outline
        if not isinstance(e, list)
    }
    # the cover, then the plan in brief alone on page 2, the figures on page 3
    assert titles["The plan in brief"] == 1 and titles["The plan in figures"] == 2
    brief = reader.pages[1].extract_text()
    for heading in (
        "The plan",
        "What changed since the last locked plan",
        "The three biggest risks",
        "Decisions asked of the board",
    ):
        assert heading in brief
    assert "P10–P90" in brief and "since the plan locked in cycle 2026-10" in brief
    assert len(reader.pages) - n <= 25  # the appendix stays a sensible size


def _resolver(store, pack):
    """Every fact key of the paper, recomputed from the engine and the store (not from the pack)."""
    record = plan_of_record(store, CYCLE)
    result = record.result
    s = result.summary
    company = result.company.set_index("month")
    settings = result.model.settings
    bridge = bridge_for_cycle(store, CYCLE)
    previous = load_version(store, bridge.from_cycle)
    ranges = app_ranges(result)
    h = ranges.horizon.set_index("measure")
    causes = result.root_causes
    open_causes = causes[causes["status"] == "open"]
    stories = stories_by_month(result).groupby("story")["value"].sum()
    base = compute(model_of_record(store), {})
    scenario = compute(result.model, parse_levers(SCENARIO_LEVERS))
    decisions = list_decisions(store, CYCLE)
    waiting = decisions[decisions["status"].isin(["open", "in progress"])]
    outcomes = decision_outcomes(store, upto=CYCLE)
    tests = assumption_tests_for(store, record)
    reg = register(store, CYCLE)

    def value(key: str) -> float:
        head, _, rest = key.partition(".")
        if head == "summary":
            if rest == "peak_utilisation_pct":
                return s["peak_utilisation"] * 100.0
            return s[rest]
        if head == "settings":
            return getattr(settings, rest)
        if head == "company":
            month, column = rest.split(".")
            return company.loc[month, column]
        if head == "bridge":
            step, _, metric = rest.rpartition(".")
            if step == "change":  # the plan's totals against the previous locked plan's
                return plan_totals(result.company)[metric] - previous.totals[metric]
            if step.startswith("family."):
                cause, family = step[len("family.") :], metric
                rows = bridge.by_family
                return rows[(rows["step"] == cause) & (rows["family"] == family)]["revenue"].sum()
            return bridge.frame.set_index("step").loc[step, metric]
        if head == "ranges":
            if rest == "samples":
                return ranges.samples
            if rest == "below.riskiest_month":
                return ranges.riskiest_month[1]
            if rest == "below.some_month":
                return ranges.probability
            measure, q = rest.split(".")
            return h.loc[measure, q]
        if head == "cause":
            return causes.set_index("cause").loc[rest, "money_at_stake"]
        if head == "causes":
            if rest == "open":
                return len(open_causes)
            if rest == "top":
                return min(len(open_causes), 3)
            return open_causes[open_causes["review"] == rest[len("review.") :]][
                "money_at_stake"
            ].sum()
        if head == "stories":
            return stories[rest]
        if head == "scenario":
            name, _, measure = rest.partition(".")
            assert name == SCENARIO
            if measure.startswith("top_causes"):
                other = scenario.root_causes.set_index("cause")["money_at_stake"]
                top = open_causes.head(3)
                lower = [
                    other.get(c, 0.0) - m
                    for c, m in zip(top["cause"], top["money_at_stake"], strict=True)
                    if other.get(c, 0.0) - m < -0.5
                ]
                return len(lower) if measure.endswith("count") else abs(sum(lower))
            return scenario.summary[measure] - base.summary[measure]
        if head == "cash" and rest == "months_below":
            return int((result.company["closing_cash"] < settings.minimum_cash).sum())
        if head == "decisions":
            return {
                "logged": len(decisions),
                "open": len(waiting),
                "overdue": int(waiting["overdue"].sum()),
                "open_beyond": len(waiting) - 3,
            }[rest]
        if head == "outcomes":
            verdicts = outcomes["verdict"].fillna("")
            return {
                "count": len(outcomes),
                "delivered": int((verdicts == "delivered").sum()),
                "partly": int((verdicts == "partly").sum()),
                "not": int((verdicts == "not").sum()),
                "waiting": int((verdicts == "").sum()),
            }[rest]
        if head == "tests":
            return {"count": len(tests), "flagged": int(tests["flagged"].sum())}[rest]
        if head == "register":
            flagged = reg["drift"].fillna(False) | reg["stale"].fillna(False)
            return {"count": len(reg), "flagged": int(flagged.sum())}[rest]
        if head == "review":
            month, measure, column = rest.split(".")
            cycle = pack_review_cycle(month)
            rows = review(store, cycle)
            row = rows[(rows["month"] == month) & (rows["measure"] == measure)].iloc[0]
            if column == "abs_variance":
                return abs(row["variance"])
            if column == "variance_pct":
                return abs(row["variance"] / row["plan"] * 100.0)
            return row[column]
        raise AssertionError(f"no way to recompute {key}")

    def pack_review_cycle(month: str) -> str:
        # the plan locked closest before the month: cycle 2026-10 for Oct 2026
        locked = [c for c in ("2026-08", "2026-09", "2026-10") if c <= month]
        return locked[-1]

    return value


def test_every_figure_in_the_narrative_equals_the_engines(paper):
    pack = paper["pack"]
    checked = 0
    with Store(paper["db"]) as store:
        value = _resolver(store, pack)
        for section in pack.preread:
            for block in section.blocks:
                for sentence in block.sentences:
                    rest = sentence.text
                    for quoted in sentence.quoted:  # names first: "Price -3%" holds a 3
                        rest = rest.replace(quoted, " ", 1)
                    rest = MONTH_WORDS.sub(" ", rest)  # months and cycles are not figures
                    for fact in sentence.facts:
                        expected = float(value(fact.key))
                        assert fact.value == pytest.approx(expected, rel=1e-9, abs=1e-6), fact
                        if fact.kind == "money":
                            assert fact.text == fmt.money(expected), fact
                        elif fact.kind == "signed_money":
                            assert fact.text == fmt.signed_money(expected), fact
                        elif fact.kind == "count":
                            assert fact.text == f"{int(expected):,}", fact
                        assert fact.text in rest
                        rest = rest.replace(fact.text, " ", 1)
                        checked += 1
                    rest = re.sub(r"P(10|50|90)", " ", rest)
                    rest = re.sub(r"^\d\. ", " ", rest)  # the risks' numbering
                    # no figure in a sentence that is not one of its facts (or a quoted name)
                    assert not re.search(r"\d", rest), (sentence.text, rest)
    assert checked >= 40


def test_the_bridge_in_words_adds_up(paper):
    with Store(paper["db"]) as store:
        bridge = bridge_for_cycle(store, CYCLE)
    frame = bridge.frame
    deltas = frame[frame["kind"] == "delta"]
    assert frame["revenue"].iloc[0] + deltas["revenue"].sum() == pytest.approx(
        frame["revenue"].iloc[-1]
    )
    by_step = bridge.by_family.groupby("step")["revenue"].sum()
    for step, amount in by_step.items():
        assert amount == pytest.approx(frame.set_index("step").loc[step, "revenue"], abs=1e-3)


def test_pptx_is_the_preread_with_native_charts_holding_the_plans_series(paper):
    prs = Presentation(paper["folder"] / "paper.pptx")
    titles = [s.shapes.title.text for s in prs.slides]
    assert "The plan in brief" in titles
    assert not any(t.startswith(("Supply", "Demand ·", "Finance ·")) for t in titles)  # appendix
    assert len(prs.slides) <= 20
    pictures = [sh for s in prs.slides for sh in s.shapes if sh.shape_type == 13]
    assert pictures == []  # charts are chart objects, not images
    charts = {
        sh.chart.chart_title.text_frame.text: sh.chart
        for s in prs.slides
        for sh in s.shapes
        if sh.has_chart
    }
    assert len(charts) >= 4
    pack = paper["pack"]
    with Store(paper["db"]) as store:
        result = plan_of_record(store, CYCLE).result
    cash = charts["Closing cash: the plan and its P10–P90 range"]
    assert cash.chart_type == XL_CHART_TYPE.LINE
    series = {s.name: list(s.values) for s in cash.plots[0].series}
    np.testing.assert_allclose(series["Plan of record"], result.company["closing_cash"])
    assert series["Minimum cash"] == [result.model.settings.minimum_cash] * len(result.months)
    assert list(cash.plots[0].categories) == list(result.months)
    stories = charts["The three stories: revenue by month"]
    supply = {s.name: list(s.values) for s in stories.plots[0].series}["Supply"]
    np.testing.assert_allclose(supply, result.company["revenue"])
    scen = {s.name: list(s.values) for s in charts["Closing cash by plan"].plots[0].series}
    np.testing.assert_allclose(
        scen[SCENARIO],
        compute(result.model, parse_levers(SCENARIO_LEVERS)).company["closing_cash"],
    )
    assert pack.section("cash").part == PREREAD


def test_commentary_prints_beneath_the_generated_text_as_plain_text(paper):
    folder = paper["folder"]
    reader = PdfReader(folder / "paper.pdf")
    text = "\n".join(p.extract_text() for p in reader.pages[:16])
    first = paper["pack"].section("cash").blocks[0].lines[0]
    at_sentence = text.index(first[:40])
    at_comment = text.index("Commentary · Jane Smith")
    assert at_sentence < at_comment < text.index("=SUM(A1) <b>The dip</b> is **seasonal**")
    prs = Presentation(folder / "paper.pptx")
    slide_text = [
        "\n".join(sh.text_frame.text for sh in s.shapes if sh.has_text_frame) for s in prs.slides
    ]
    cash = next(t for t in slide_text if "Commentary · Jane Smith" in t)
    assert "=SUM(A1) <b>The dip</b> is **seasonal**; the facility covers it." in cash
    assert cash.index(first[:40]) < cash.index("Commentary · Jane Smith")
    ws = load_workbook(folder / "paper.xlsx")["Board paper"]
    cells = [c for row in ws.iter_rows() for c in row if c.value and "SUM(A1)" in str(c.value)]
    assert len(cells) == 1 and cells[0].data_type == "s"  # text, never a live formula
    assert cells[0].value.startswith("=SUM(A1) <b>")


def test_a_locked_paper_is_identical_in_its_figures_after_a_new_import(paper, tmp_path):
    db = tmp_path / "locked.duckdb"
    shutil.copy(paper["db"], db)
    with Store(db) as store:
        lock_cycle(store, CYCLE, user="Jane", override="tests: steps not signed off")
        before = pack_content(store, CYCLE)
        with pytest.raises(CycleLocked):  # the commentary is frozen with the lock
            save_commentary(store, CYCLE, "cash", "changed", expected_version=1, user="Jane")
        open_next_cycle(store, user="Jane")
        (tmp_path / "actuals.csv").write_text(
            "month,sku,units\n2026-11,VLV-ZN-22,99999\n", encoding="utf-8"
        )
        (tmp_path / "financial_actuals.csv").write_text(
            "month,revenue,closing_cash\n2026-11,1000000,123456\n", encoding="utf-8"
        )
        import_paths(
            store, [tmp_path / "actuals.csv", tmp_path / "financial_actuals.csv"], user="Jane"
        )
        assert store.read_table("financial_actuals")["month"].max() == "2026-11"
        after = pack_content(store, CYCLE)

    def figures(pack):
        out = []
        for section in pack.sections:
            out.append((section.key, section.commentary))
            for block in section.blocks:
                out.append((block.title, block.lines))
                out += [(f.label, f.value, f.budget, f.previous) for f in block.figures]
                for table in block.workbook_tables:
                    out.append((table.title, table.frame.to_csv(index=False)))
                if block.series is not None:
                    out.append(block.series)
        return out

    assert before.status == "locked"
    assert figures(after) == figures(before)
    assert "Commentary" not in str(before.section("cash").commentary)
    assert before.section("cash").commentary[0].startswith("=SUM(A1)")
