"""The board paper's pre-read: the plan in brief on one page, then last month, what changed, the
risks, the three stories, cash, scenarios, decisions and assumptions; sentences from the figures
(``views.narrative``), each section's commentary beneath them."""

from __future__ import annotations

import pandas as pd

from sop_core.boardpack.model import (
    MONEY,
    MONEY_DELTA,
    NUMBER,
    PCT_DELTA,
    PREREAD,
    TEXT,
    Block,
    Section,
    Series,
    Table,
)
from sop_core.boardpack.sections.common import PackInputs, safe
from sop_core.meeting.commentary import PAPER_SECTIONS
from sop_core.months import month_label
from sop_core.views import charts
from sop_core.views.alignment import stories_by_month
from sop_core.views.bridge import waterfall_steps
from sop_core.views.narrative import (
    ask_sentences,
    bridge_sentences,
    cash_sentences,
    decision_sentences,
    plan_paragraph,
    range_sentence,
    risk_sentences,
    scenario_sentences,
    story_sentences,
    test_sentences,
)
from sop_core.views.ranges import assumptions_note, fan_frame
from sop_core.views.review import (
    assumption_tests_for,
    decision_outcomes,
    last_month_against_plan,
    review_table,
    tests_table,
)

__all__ = ["paper_sections", "AGENDA_ROWS"]

AGENDA_ROWS = 8  # root causes on the pre-read's page; the appendix and the workbook have all


def _section(a: PackInputs, key: str, blocks: list[Block]) -> Section:
    """A pre-read section titled from ``PAPER_SECTIONS``, with the cycle's commentary on it."""
    note = a.commentary.get(key)
    return Section(
        key,
        PAPER_SECTIONS[key],
        tuple(blocks),
        sheet=PAPER_SECTIONS[key][:31],
        part=PREREAD,
        commentary=note.paragraphs if note is not None else (),
        commentary_by=note.byline if note is not None else "",
    )


def _months(frame: pd.DataFrame) -> tuple[str, ...]:
    return tuple(str(m) for m in frame["month"])


def _brief(a: PackInputs) -> Section:
    r = a.result
    return _section(
        a,
        "chair",
        [
            Block("The plan", sentences=plan_paragraph(r, a.label)),
            Block(
                "What changed since the last locked plan",
                sentences=bridge_sentences(a.bridge),
                text=(a.bridge_note,) if a.bridge_note else (),
            ),
            Block("The three biggest risks", sentences=risk_sentences(r, a.ranges)),
            Block(
                "Decisions asked of the board",
                sentences=ask_sentences(
                    r, a.decisions, a.scenario_plans, label=a.label, locked=a.locked
                ),
            ),
        ],
    )


def _figures(a: PackInputs, headline: Block) -> Section:
    return _section(a, "figures", [headline])


def _last_month(a: PackInputs) -> Section:
    last, error = safe(
        lambda: last_month_against_plan(
            a.store,
            before=a.cycle,
            actuals=a.frozen["actuals"],
            financial=a.frozen["financial_actuals"],
        )
    )
    if last is None:
        return _section(a, "last_month", [Block("Last month", text=(error,))])
    if not last.ready:
        return _section(a, "last_month", [Block("Last month", text=(last.sentence,))])
    shown = review_table(last.rows, a.currency)
    table = Table(
        shown.rename(columns=str.capitalize),
        {c.capitalize(): TEXT for c in shown.columns},
        title=f"{month_label(last.month)} against the plan locked in cycle {last.cycle}",
        key_columns=0,
    )
    rows = last.rows
    numbers = pd.DataFrame(
        {
            "Month": rows["month"].astype(str),
            "Measure": rows["measure"].astype(str),
            "Plan": rows["plan"].astype(float),
            "Actual": rows["actual"].astype(float),
            "Variance": rows["variance"].astype(float),
        }
    )
    kinds = {c: NUMBER for c in numbers.columns} | {"Month": TEXT, "Measure": TEXT}
    return _section(
        a,
        "last_month",
        [
            Block(
                table.title,
                sentences=(last.says,) if last.says else (),
                table=table,
                # the workbook gets the figures as numbers (each in its measure's own unit)
                data=(Table(numbers, kinds, title=table.title, key_columns=0),),
            )
        ],
    )


def _changed(a: PackInputs) -> Section:
    bridge = a.bridge
    if bridge is None:
        return _section(
            a, "changed", [Block("The bridge", sentences=bridge_sentences(None), text=())]
        )
    frame = bridge.frame
    steps = pd.DataFrame(
        {
            "Step": frame["step"],
            "Revenue": frame["revenue"].astype(float),
            "Gross margin": frame["gross_margin"].astype(float),
            "Closing cash": frame["closing_cash"].astype(float),
        }
    )
    kinds = {"Step": TEXT, "Revenue": MONEY, "Gross margin": MONEY, "Closing cash": MONEY}
    deltas = frame[frame["kind"] == "delta"]
    series = Series(
        "column",
        tuple(str(s) for s in deltas["step"]),
        (("Revenue", tuple(float(v) for v in deltas["revenue"])),),
        value_kind=MONEY,
        title="Revenue change by cause",
    )
    blocks = [
        Block(
            f"From the plan locked in {bridge.from_cycle} to this plan",
            sentences=bridge_sentences(bridge),
            text=(a.bridge_note,) if a.bridge_note else (),
            chart=charts.bridge_chart(waterfall_steps(frame, "revenue"), a.currency),
            chart_alt="Revenue from the last locked plan to this plan, by cause",
            series=series,
            # the waterfall prints each step's amount; the workbook gets the steps as numbers
            data=(Table(steps, kinds, title="The bridge", key_columns=0),),
        )
    ]
    fam = bridge.by_family
    if fam is not None and len(fam):
        wide = fam.pivot_table(index="family", columns="step", values="revenue", sort=False)
        wide = wide.reindex(columns=[c for c in dict.fromkeys(fam["step"])])
        wide = wide.loc[:, (wide.abs() > 0.5).any()]
        if wide.shape[1]:
            wide = wide.assign(Total=wide.sum(axis=1)).reset_index()
            wide = wide.rename(columns={"family": "Family"})
            wide.columns = [str(c) for c in wide.columns]
            fam_kinds = {c: MONEY_DELTA for c in wide.columns} | {"Family": TEXT}
            blocks.append(
                Block(
                    "Revenue change by family and cause",
                    table=Table(wide, fam_kinds, title="Revenue change by family and cause"),
                )
            )
    return _section(a, "changed", blocks)


def _risks(a: PackInputs) -> Section:
    ranges = a.ranges
    blocks = [Block("The largest root causes", sentences=risk_sentences(a.result, None, n=5))]
    if ranges is None:
        blocks.append(Block("Ranges", text=(a.ranges_error,)))
    else:
        h = ranges.horizon.set_index("measure")
        labels = {
            "revenue": "Revenue",
            "gross_margin": "Gross margin",
            "lowest_cash": "Lowest cash",
        }
        frame = pd.DataFrame(
            {
                "Measure": list(labels.values()),
                "P10": [float(h.loc[k, "p10"]) for k in labels],
                "P50": [float(h.loc[k, "p50"]) for k in labels],
                "P90": [float(h.loc[k, "p90"]) for k in labels],
                "Plan of record": [float(h.loc[k, "point"]) for k in labels],
            }
        )
        kinds = {c: MONEY for c in frame.columns} | {"Measure": TEXT}
        blocks.append(
            Block(
                "The plan's range over sampled demand",
                sentences=(range_sentence(ranges, a.currency),),
                text=(assumptions_note(ranges),),
                table=Table(frame, kinds, title="Horizon ranges", key_columns=0),
            )
        )
    return _section(a, "risks", blocks)


def _stories(a: PackInputs) -> Section:
    stories = stories_by_month(a.result)
    wide = stories.pivot_table(index="month", columns="story", values="value", sort=False)
    wide = wide.reindex(index=list(a.result.months)).reset_index()
    names = [k for k in ("Demand", "Supply", "Finance") if k in wide.columns]
    series = Series(
        "line",
        _months(wide),
        tuple((k, tuple(float(v) for v in wide[k].fillna(0.0))) for k in names),
        value_kind=MONEY,
        title="The three stories: revenue by month",
    )
    return _section(
        a,
        "stories",
        [
            Block(
                "Demand, supply and finance",
                sentences=story_sentences(a.result, stories),
                chart=charts.story_lines_chart(wide, a.currency),
                chart_alt="Revenue by month: what demand asks, what supply ships, the budget",
                series=series,
            )
        ],
    )


def _disagreements(a: PackInputs) -> Section:
    causes = a.result.root_causes
    causes = causes[causes["status"] == "open"]
    if causes.empty:
        return _section(
            a,
            "disagreements",
            [Block("Root causes", text=("No disagreements: the three stories agree.",))],
        )
    frame = pd.DataFrame(
        {
            "Root cause": causes["title"],
            "Owner": causes["owner"],
            "Review": causes["review"],
            "Severity": causes["severity"],
            "At stake": causes["money_at_stake"].astype(float),
        }
    ).reset_index(drop=True)
    kinds = {c: TEXT for c in frame.columns} | {"At stake": MONEY}
    marks = pd.DataFrame(False, index=frame.index, columns=frame.columns)
    marks["Severity"] = frame["Severity"] == "high"
    return _section(
        a,
        "disagreements",
        [
            Block(
                "Root causes, largest money first",
                text=(
                    "Each root cause groups the disagreement rows it explains; its money is counted "
                    "once. The appendix and the workbook list every row.",
                ),
                table=Table(
                    frame,
                    kinds,
                    title="Open root causes",
                    limit=AGENDA_ROWS,
                    key_columns=0,
                    emphasis=marks,
                ),
            )
        ],
    )


def _cash(a: PackInputs) -> Section:
    r, cur = a.result, a.currency
    minimum = r.model.settings.minimum_cash
    company = r.company
    sentences = list(cash_sentences(r))
    if a.ranges is not None:
        sentences.append(range_sentence(a.ranges, cur))
        fan = fan_frame(a.ranges)
        chart = charts.fan_chart(fan, cur, minimum=minimum)
        series = Series(
            "line",
            _months(fan),
            (
                ("P10", tuple(float(v) for v in fan["p10"])),
                ("P50", tuple(float(v) for v in fan["p50"])),
                ("P90", tuple(float(v) for v in fan["p90"])),
                ("Plan of record", tuple(float(v) for v in fan["point"])),
                ("Minimum cash", (float(minimum),) * len(fan)),
            ),
            value_kind=MONEY,
            dashed=("P10", "P90", "Minimum cash"),
            title="Closing cash: the plan and its P10–P90 range",
        )
    else:
        chart = charts.cash_chart(company, minimum, cur)
        series = Series(
            "line",
            _months(company),
            (
                ("Closing cash", tuple(float(v) for v in company["closing_cash"])),
                ("Minimum cash", (float(minimum),) * len(company)),
            ),
            value_kind=MONEY,
            dashed=("Minimum cash",),
            title="Closing cash by month",
        )
    s = r.summary
    picks = list(dict.fromkeys([r.months[0], s["lowest_cash_month"], r.months[-1]]))
    at = company.set_index("month").loc[picks]
    wc = pd.DataFrame(
        {
            "": ["Closing cash", "Receivables", "Inventory", "Payables"],
            **{
                month_label(m): [
                    float(at.loc[m, "closing_cash"]),
                    float(at.loc[m, "receivables"]),
                    float(at.loc[m, "inventory_value"]),
                    float(at.loc[m, "payables"]),
                ]
                for m in picks
            },
        }
    )
    wc_kinds = {c: MONEY for c in wc.columns} | {"": TEXT}
    return _section(
        a,
        "cash",
        [
            Block(
                "Cash against the minimum",
                sentences=tuple(sentences),
                chart=chart,
                chart_alt="Closing cash by month: the plan, its P10–P90 range and the minimum",
                series=series,
            ),
            Block(
                "Working capital",
                table=Table(
                    wc,
                    wc_kinds,
                    title="At the horizon's start, the lowest cash month and the end",
                ),
            ),
        ],
    )


def _scenarios(a: PackInputs) -> Section:
    base = a.base_plan
    plans = a.scenario_plans
    rows = [("Base plan", base)] + list(plans.items())
    frame = pd.DataFrame(
        {
            "Plan": [n + (" (plan shown)" if p is a.result else "") for n, p in rows],
            "Revenue": [float(p.summary["revenue"]) for _, p in rows],
            "Gross margin": [float(p.summary["gross_margin"]) for _, p in rows],
            "Operating profit": [float(p.summary["operating_profit"]) for _, p in rows],
            "Lowest cash": [float(p.summary["lowest_cash"]) for _, p in rows],
            "Revenue lost": [float(p.summary["unmet_revenue"]) for _, p in rows],
            "At stake": [float(p.summary["money_at_stake"]) for _, p in rows],
        }
    )
    kinds = {c: MONEY for c in frame.columns} | {"Plan": TEXT}
    months = tuple(str(m) for m in base.months)
    series = Series(
        "line",
        months,
        tuple((n, tuple(float(v) for v in p.company["closing_cash"])) for n, p in rows),
        value_kind=MONEY,
        title="Closing cash by plan",
    )
    curves = pd.concat(
        [
            pd.DataFrame(
                {
                    "month": p.company["month"],
                    "plan": n,
                    "measure": "Closing cash",
                    "amount": p.company["closing_cash"],
                }
            )
            for n, p in rows
        ],
        ignore_index=True,
    )
    return _section(
        a,
        "scenarios",
        [
            Block(
                "Scenarios against the base plan",
                sentences=scenario_sentences(base, plans, a.currency),
                table=Table(frame, kinds, title="Horizon totals by plan", key_columns=0),
                chart=charts.scenario_curves_chart(
                    curves, a.currency, minimum=base.model.settings.minimum_cash
                ),
                chart_alt="Closing cash by month, per plan, with the minimum cash",
                series=series,
            )
        ],
    )


def _decisions(a: PackInputs) -> Section:
    outcomes, error = safe(
        lambda: decision_outcomes(
            a.store,
            upto=a.cycle,
            actuals=a.frozen["actuals"],
            financial=a.frozen["financial_actuals"],
            settings=a.model.settings,
        )
    )
    blocks = [
        Block(
            "Decisions asked of the board",
            sentences=ask_sentences(
                a.result, a.decisions, a.scenario_plans, label=a.label, locked=a.locked
            ),
        )
    ]
    decisions = a.decisions
    text = (a.decisions_error,) if decisions is None else ()
    table = None
    if decisions is not None and len(decisions):
        frame = pd.DataFrame(
            {
                "Decision": decisions["decision"].astype(str),
                "Owner": decisions["owner"].astype(str),
                "Due": [str(d)[:10] if isinstance(d, str) else "" for d in decisions["due"]],
                "Status": decisions["status"].astype(str),
                "Overdue": [
                    "overdue" if bool(o) else "" for o in decisions["overdue"].fillna(False)
                ],
            }
        )
        table = Table(
            frame, {c: TEXT for c in frame.columns}, title="Decision log", limit=8, key_columns=0
        )
    blocks.append(
        Block(
            "The decision log",
            sentences=decision_sentences(decisions, outcomes, a.cycle),
            text=text + ((error,) if error else ()),
            table=table,
        )
    )
    return _section(a, "decisions", blocks)


def _assumptions(a: PackInputs) -> Section:
    tests, error = safe(
        lambda: assumption_tests_for(
            a.store, a.record, actuals=a.frozen["actuals"], forecasts=a.frozen["forecasts"]
        )
    )
    table, data = None, ()
    if tests is not None and len(tests):
        shown = tests_table(tests, a.currency)
        shown = shown[["flag", "assumption", "owner", "assumed", "measured", "over", "gap"]]
        shown = shown.rename(columns=str.capitalize)
        marks = pd.DataFrame(False, index=shown.index, columns=shown.columns)
        marks["Flag"] = tests["flagged"].astype(bool).to_numpy()
        table = Table(
            shown,
            {c: TEXT for c in shown.columns},
            title="Assumptions tested against the actuals",
            limit=10,
            key_columns=0,
            emphasis=marks,
        )
        numbers = pd.DataFrame(
            {
                "Assumption": tests["assumption"].astype(str),
                "Owner": tests["owner"].astype(str),
                "Unit": tests["unit"].astype(str),
                "Assumed": tests["assumed"].astype(float),
                "Measured": tests["measured"].astype(float),
                "Gap %": tests["gap_pct"].astype(float),
                "Beyond tolerance": ["yes" if f else "" for f in tests["flagged"]],
            }
        )
        kinds = {c: TEXT for c in numbers.columns} | {
            "Assumed": NUMBER,
            "Measured": NUMBER,
            "Gap %": PCT_DELTA,
        }
        data = (Table(numbers, kinds, title=table.title, key_columns=0),)
    return _section(
        a,
        "assumptions",
        [
            Block(
                "The assumptions the plan rests on",
                sentences=test_sentences(tests, a.register),
                text=((error,) if error else ())
                + ((a.register_error,) if a.register is None else ()),
                table=table,
                data=data,
            )
        ],
    )


def paper_sections(a: PackInputs, headline: Block) -> tuple[Section, ...]:
    """The pre-read's sections in print order (``PAPER_SECTIONS``); ``headline`` is the summary's
    table of headline figures against budget and the previous locked plan."""
    return (
        _brief(a),
        _figures(a, headline),
        _last_month(a),
        _changed(a),
        _risks(a),
        _stories(a),
        _disagreements(a),
        _cash(a),
        _scenarios(a),
        _decisions(a),
        _assumptions(a),
    )
