"""Sentences that carry their numbers: each figure a sentence states is kept beside the text, with
where it came from, so a test (or a reader) can trace every number back to the engine.

A sentence is written with a :class:`Say`: ``s.money("summary.revenue", v)`` returns the figure
as the app formats it (£61.5m) and records it as a :class:`Fact`; ``s.quote(text)`` inserts a
name or a person's words (a family, a root cause's title, a decision) that are not figures of the
plan; ``s.done(text)`` makes the :class:`Sentence`. Nothing here computes a figure: the callers
pass the engine's and the views' values.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from sop_core import fmt
from sop_core.months import month_label, span_label
from sop_core.plan.ranges import odds
from sop_core.views.ranges import cash_risk_sentence

__all__ = [
    "MONEY",
    "SIGNED",
    "PCT",
    "SIGNED_PCT",
    "UNITS",
    "COUNT",
    "SHOWN",
    "Fact",
    "Sentence",
    "Say",
    "plan_paragraph",
    "bridge_sentences",
    "risk_sentences",
    "range_sentence",
    "ask_sentences",
    "story_sentences",
    "cash_sentences",
    "scenario_sentences",
    "decision_sentences",
    "test_sentences",
]

MONEY, SIGNED, PCT, SIGNED_PCT, UNITS, COUNT, SHOWN = (
    "money",
    "signed_money",
    "pct",
    "signed_pct",
    "units",
    "count",
    "shown",  # formatted by the caller (e.g. the review's £3.51m), the value kept beside it
)


@dataclass(frozen=True)
class Fact:
    """One figure a sentence states: where it comes from (``key``), its value, how it is shown."""

    key: str
    value: float
    kind: str
    text: str


@dataclass(frozen=True)
class Sentence:
    """A sentence of the narrative, its facts, and the quoted names in it (not figures)."""

    text: str
    facts: tuple[Fact, ...] = ()
    quoted: tuple[str, ...] = ()

    def __str__(self) -> str:
        return self.text


@dataclass
class Say:
    """Builds one sentence: each figure goes through a method that formats and records it."""

    currency: str = "GBP"
    facts: list[Fact] = field(default_factory=list)
    quoted: list[str] = field(default_factory=list)

    def _fact(self, key: str, value: float, kind: str, text: str) -> str:
        self.facts.append(Fact(key, float(value), kind, text))
        return text

    def money(self, key: str, value: float, *, abs_value: bool = False) -> str:
        """£1.2m, £340k (``abs_value``: the size, for 'down £1.9m')."""
        v = abs(float(value)) if abs_value else float(value)
        return self._fact(key, v, MONEY, fmt.money(v, self.currency))

    def signed(self, key: str, value: float) -> str:
        """+£1.2m, −£340k."""
        return self._fact(key, value, SIGNED, fmt.signed_money(float(value), self.currency))

    def pct(self, key: str, value: float, *, signed: bool = False, abs_value: bool = False) -> str:
        """34.5 %, +2.1 % (the value already in percent)."""
        v = abs(float(value)) if abs_value else float(value)
        return self._fact(key, v, SIGNED_PCT if signed else PCT, fmt.pct(v, signed=signed))

    def units(self, key: str, value: float) -> str:
        """1,234 (whole units)."""
        return self._fact(key, value, UNITS, fmt.units(float(value)))

    def count(self, key: str, value: int) -> str:
        """A count, as a whole number."""
        return self._fact(key, value, COUNT, f"{int(value):,}")

    def shown(self, key: str, value: float, text: str) -> str:
        """A figure the caller has formatted its own way (the review's £3.51m, £3,250)."""
        return self._fact(key, value, SHOWN, text)

    def quote(self, text: object) -> str:
        """A name or a person's words, shown as written (not a figure of the plan)."""
        text = "" if text is None else str(text)
        if text:
            self.quoted.append(text)
        return text

    def done(self, text: str) -> Sentence:
        """The sentence, with the facts and quotes recorded since the last ``done``."""
        sentence = Sentence(text, tuple(self.facts), tuple(self.quoted))
        self.facts, self.quoted = [], []
        return sentence


# --- the board paper's sentences ----------------------------------------------------------------
# Fact keys say where each figure comes from, so tests/test_boardpaper.py recomputes it:
#   summary.K        the plan's summary (PlanResult.summary[K])
#   settings.K       the model's settings
#   company.M.K      the plan's company frame, month M, column K
#   bridge.S.K       the bridge's step S (a cause, or "change" = last plan − first), metric K
#   bridge.family.S.F  the bridge's step S for family F, revenue
#   cause.C          root cause C's money at stake
#   causes.review.R  the open root causes' money at stake for review R
#   ranges.K.Q       the ranges' horizon measure K, quantile Q (p10, p50, p90, point)
#   ranges.below.*   the chance cash goes below the minimum (in the riskiest month / some month)
#   scenario.N.K     scenario N's summary K minus the base plan's
#   scenario.N.cause.C  scenario N's money at stake for cause C minus the plan's
#   decisions.*, tests.*, outcomes.*  counts of the frames given


def _word(value: float, up: str = "up", down: str = "down") -> str:
    return up if value >= 0 else down


def plan_paragraph(result, label: str) -> tuple[Sentence, ...]:
    """The plan in one paragraph: revenue, margin, profit; against budget; supply; cash; stakes."""
    s, months = result.summary, result.months
    settings = result.model.settings
    say = Say(settings.currency)
    out = [
        say.done(
            f"The plan of record, {say.quote(label)}, for {span_label(months[0], months[-1])}: "
            f"revenue {say.money('summary.revenue', s['revenue'])}, gross margin "
            f"{say.money('summary.gross_margin', s['gross_margin'])} "
            f"({say.pct('summary.gross_margin_pct', s['gross_margin_pct'])}), operating profit "
            f"{say.money('summary.operating_profit', s['operating_profit'])}."
        )
    ]
    if s["revenue_vs_budget"] is not None:
        scope = span_label(s["budget_first_month"], s["budget_last_month"])
        out.append(
            say.done(
                f"Against the budget over {scope}: revenue "
                f"{say.signed('summary.revenue_vs_budget', s['revenue_vs_budget'])}, gross margin "
                f"{say.signed('summary.gross_margin_vs_budget', s['gross_margin_vs_budget'])}."
            )
        )
    peak = ""
    if s["peak_utilisation"] is not None:
        peak = (
            f"; the peak load is {say.quote(s['peak_utilisation_resource'])} at "
            f"{say.pct('summary.peak_utilisation_pct', s['peak_utilisation'] * 100.0)} of capacity "
            f"in {month_label(s['peak_utilisation_month'])}"
        )
    if s["unmet_units"] > 0.5:
        out.append(
            say.done(
                f"Supply cannot ship {say.units('summary.unmet_units', s['unmet_units'])} units "
                f"of demand, {say.money('summary.unmet_revenue', s['unmet_revenue'])} of revenue "
                f"lost{peak}."
            )
        )
    else:
        out.append(say.done(f"Supply ships all demand{peak}."))
    below = s["lowest_cash"] < settings.minimum_cash
    out.append(
        say.done(
            f"Cash is lowest in {month_label(s['lowest_cash_month'])} at "
            f"{say.money('summary.lowest_cash', s['lowest_cash'])}, "
            f"{'below' if below else 'above'} the "
            f"{say.money('settings.minimum_cash', settings.minimum_cash)} minimum."
        )
    )
    return tuple(out)


def bridge_sentences(bridge, *, steps: int = 3) -> tuple[Sentence, ...]:
    """What changed since the last locked plan, in words: 'Revenue down £1.9m since the plan locked
    in cycle 2026-10: demand change −£1.4m (largest Smart Controls −£1.2m), price −£0.5m.'

    ``bridge`` is a ``views.bridge.Bridge`` (or None: no locked plan before)."""
    if bridge is None:
        return (Sentence("There is no locked plan before this cycle: nothing to bridge from."),)
    frame = bridge.frame
    say = Say(bridge.currency)
    start, end = frame.iloc[0], frame.iloc[-1]
    change = {
        m: float(end[m]) - float(start[m]) for m in ("revenue", "gross_margin", "closing_cash")
    }
    deltas = frame[frame["kind"] == "delta"]
    deltas = deltas.assign(_size=deltas["revenue"].abs()).sort_values(
        "_size", ascending=False, kind="stable"
    )
    deltas = deltas[deltas["_size"] >= 500.0].head(steps)
    parts = []
    by_family = bridge.by_family
    for row in deltas.itertuples(index=False):
        part = f"{row.step} {say.signed(f'bridge.{row.step}.revenue', row.revenue)}"
        if by_family is not None and len(by_family):
            fam = by_family[by_family["step"] == row.step]
            if len(fam) > 1:
                top = fam.loc[fam["revenue"].abs().idxmax()]
                if abs(float(top["revenue"])) >= 500.0:
                    part += (
                        f" (largest {say.quote(top['family'])} "
                        f"{say.signed(f'bridge.family.{row.step}.{top.family}', top['revenue'])})"
                    )
        parts.append(part)
    head = (
        f"Revenue {_word(change['revenue'])} "
        f"{say.money('bridge.change.revenue', change['revenue'], abs_value=True)} since the plan "
        f"locked in cycle {bridge.from_cycle}"
    )
    out = [say.done(head + (": " + ", ".join(parts) if parts else "") + ".")]
    out.append(
        say.done(
            f"Gross margin {say.signed('bridge.change.gross_margin', change['gross_margin'])} and "
            f"closing cash at the horizon's end "
            f"{say.signed('bridge.change.closing_cash', change['closing_cash'])}; each plan over its "
            "own horizon."
        )
    )
    return tuple(out)


def range_sentence(ranges, currency: str) -> Sentence:
    """The plan's range over the sampled demand paths: revenue and lowest cash P10–P90, and the
    chance cash goes below the minimum (the Finance page's figures)."""
    say = Say(currency)
    h = ranges.horizon.set_index("measure")
    text = (
        f"Across {say.count('ranges.samples', ranges.samples)} demand paths, revenue "
        f"{say.money('ranges.revenue.p10', h.loc['revenue', 'p10'])} to "
        f"{say.money('ranges.revenue.p90', h.loc['revenue', 'p90'])} (P10–P90) and lowest cash "
        f"{say.money('ranges.lowest_cash.p10', h.loc['lowest_cash', 'p10'])} to "
        f"{say.money('ranges.lowest_cash.p90', h.loc['lowest_cash', 'p90'])}"
    )
    # then the Finance page's and the Executive summary's own sentence (one figure, one
    # wording), each figure it states recorded as this sentence's
    p, some = ranges.riskiest_month[1], ranges.probability
    say.money("settings.minimum_cash", ranges.minimum_cash)
    if some == 0.0 or p == 1.0:  # these two wordings name the paths again
        say.count("ranges.samples", ranges.samples)
    if some > 0.0:
        say.shown("ranges.below.riskiest_month", p, odds(p) if p < 1.0 else "every one")
        if some != p and p < 1.0:
            say.shown("ranges.below.some_month", some, odds(some) if some < 1.0 else "every path")
    text += ". " + cash_risk_sentence(ranges, currency)
    return say.done(text)


def risk_sentences(result, ranges=None, *, n: int = 3) -> tuple[Sentence, ...]:
    """The ``n`` largest open root causes, each with its money at stake and owner; a cash risk
    with the lowest cash's P10–P90 when ``ranges`` are given; then the plan's range."""
    currency = result.model.settings.currency
    causes = result.root_causes
    causes = causes[causes["status"] == "open"].head(n)
    say = Say(currency)
    out = []
    for i, c in enumerate(causes.itertuples(index=False), start=1):
        # the root cause's title states its money at stake already
        text = f"{i}. {say.quote(c.title)} (owner {say.quote(c.owner)}, {say.quote(c.review)})"
        if c.kind == "cash" and ranges is not None:
            h = ranges.horizon.set_index("measure")
            text += (
                f"; lowest cash {say.money('ranges.lowest_cash.p10', h.loc['lowest_cash', 'p10'])}"
                f" to {say.money('ranges.lowest_cash.p90', h.loc['lowest_cash', 'p90'])} (P10–P90)"
            )
        out.append(say.done(text + "."))
    if not out:
        out.append(Sentence("No open root cause: the three stories agree within tolerance."))
    if ranges is not None:
        out.append(range_sentence(ranges, currency))
    return tuple(out)


def ask_sentences(
    result,
    decisions: pd.DataFrame | None,
    scenario_plans: dict | None,
    *,
    label: str,
    locked: bool,
    n: int = 3,
) -> tuple[Sentence, ...]:
    """The decisions asked of the board: the open decisions of the cycle (first ``n``), the saved
    scenarios that would reduce the largest root causes, and the plan itself."""
    currency = result.model.settings.currency
    say = Say(currency)
    out = []
    if locked:
        out.append(say.done(f"Note the plan of record, locked: {say.quote(label)}."))
    else:
        out.append(say.done(f"Approve the plan of record: {say.quote(label)}."))
    if decisions is not None and len(decisions):
        waiting = decisions[decisions["status"].isin(["open", "in progress"])]
        for d in waiting.head(n).itertuples(index=False):
            due = "" if d.due is None or pd.isna(d.due) else f", due {str(d.due)[:10]}"
            out.append(
                say.done(f"Decide: {say.quote(d.decision)} (owner {say.quote(d.owner)}{due}).")
            )
        if len(waiting) > n:
            more = say.count("decisions.open_beyond", len(waiting) - n)
            out.append(say.done(f"And {more} more open decisions (see Decisions)."))
    causes = result.root_causes
    causes = causes[causes["status"] == "open"].head(n)
    for name, plan in (scenario_plans or {}).items():
        other = plan.root_causes.set_index("cause")["money_at_stake"].to_dict()
        changes = [other.get(c.cause, 0.0) - float(c.money_at_stake) for c in causes.itertuples()]
        lower = [v for v in changes if v < -0.5]
        if lower:
            out.append(
                say.done(
                    f"Consider the scenario “{say.quote(name)}”: it lowers the money at stake of "
                    f"{say.count(f'scenario.{name}.top_causes_count', len(lower))} of the "
                    f"{say.count('causes.top', len(changes))} largest root causes, by "
                    f"{say.money(f'scenario.{name}.top_causes', sum(lower), abs_value=True)} in all."
                )
            )
    return tuple(out)


def story_sentences(result, stories: pd.DataFrame) -> tuple[Sentence, ...]:
    """The three stories over the horizon: what demand asks, what supply ships, what finance
    budgets (``stories``: ``views.alignment.stories_by_month``), then the root causes by review."""
    s = result.summary
    currency = result.model.settings.currency
    say = Say(currency)
    total = stories.groupby("story")["value"].sum()
    out = [
        say.done(
            f"Demand asks for {say.money('stories.Demand', total.get('Demand', 0.0))} of revenue "
            f"at plan prices; supply ships {say.money('stories.Supply', total.get('Supply', 0.0))}"
            f", {say.money('summary.unmet_revenue', s['unmet_revenue'])} short."
        )
    ]
    if "Finance" in total.index:
        out.append(
            say.done(
                f"Finance budgets {say.money('stories.Finance', total['Finance'])} over "
                f"{span_label(s['budget_first_month'], s['budget_last_month'])}; the plan is "
                f"{say.signed('summary.revenue_vs_budget', s['revenue_vs_budget'])} against it."
            )
        )
    else:
        out.append(Sentence("No budget is loaded: the finance story is missing."))
    causes = result.root_causes
    causes = causes[causes["status"] == "open"]
    if len(causes):
        by_review = causes.groupby("review", sort=False)["money_at_stake"].sum()
        by_review = by_review.sort_values(ascending=False, kind="stable")
        parts = ", ".join(
            f"{say.quote(review)} {say.money(f'causes.review.{review}', value)}"
            for review, value in by_review.items()
        )
        out.append(
            say.done(
                f"{say.count('causes.open', len(causes))} open root causes of disagreement put "
                f"{say.money('summary.money_at_stake', s['money_at_stake'])} at stake, each pound "
                f"counted once; by review: {parts}."
            )
        )
    return tuple(out)


def cash_sentences(result) -> tuple[Sentence, ...]:
    """Cash against the minimum and working capital at the horizon's end."""
    s, company = result.summary, result.company
    settings = result.model.settings
    say = Say(settings.currency)
    last = company.iloc[-1]
    m = str(last["month"])
    below = company[company["closing_cash"] < settings.minimum_cash]
    text = (
        f"Closing cash {say.money(f'company.{m}.closing_cash', last['closing_cash'])} in "
        f"{month_label(m)}; lowest {say.money('summary.lowest_cash', s['lowest_cash'])} in "
        f"{month_label(s['lowest_cash_month'])}"
    )
    if len(below):
        text += (
            f", below the {say.money('settings.minimum_cash', settings.minimum_cash)} minimum in "
            f"{say.count('cash.months_below', len(below))} month(s)."
        )
    else:
        text += f", never below the {say.money('settings.minimum_cash', settings.minimum_cash)} minimum."
    out = [say.done(text)]
    out.append(
        say.done(
            f"Working capital at the end of {month_label(m)}: receivables "
            f"{say.money(f'company.{m}.receivables', last['receivables'])}, inventory "
            f"{say.money(f'company.{m}.inventory_value', last['inventory_value'])}, payables "
            f"{say.money(f'company.{m}.payables', last['payables'])}."
        )
    )
    return tuple(out)


def scenario_sentences(base, plans: dict, currency: str) -> tuple[Sentence, ...]:
    """Each saved scenario against the base plan (``plans``: name → PlanResult on the same model):
    revenue, gross margin, lowest cash and money at stake, as differences."""
    b = base.summary
    out = []
    for name, plan in plans.items():
        p = plan.summary
        say = Say(currency)
        parts = [
            f"{label} {say.signed(f'scenario.{name}.{key}', p[key] - b[key])}"
            for key, label in (
                ("revenue", "revenue"),
                ("gross_margin", "gross margin"),
                ("lowest_cash", "lowest cash"),
                ("money_at_stake", "money at stake"),
            )
        ]
        out.append(say.done(f"“{say.quote(name)}” against the base plan: {', '.join(parts)}."))
    if not out:
        out.append(Sentence("No saved scenario in this cycle: the base plan alone."))
    return tuple(out)


def decision_sentences(
    decisions: pd.DataFrame | None, outcomes: pd.DataFrame | None, cycle: str | None
) -> tuple[Sentence, ...]:
    """How many decisions are logged, open and overdue; how the earlier ones turned out."""
    say = Say()
    out = []
    if decisions is not None:
        waiting = decisions[decisions["status"].isin(["open", "in progress"])]
        overdue = int(waiting["overdue"].fillna(False).astype(bool).sum()) if len(waiting) else 0
        out.append(
            say.done(
                f"{say.count('decisions.logged', len(decisions))} decision(s) logged in cycle "
                f"{cycle}, {say.count('decisions.open', len(waiting))} still open, "
                f"{say.count('decisions.overdue', overdue)} overdue."
            )
        )
    if outcomes is not None and len(outcomes):
        verdicts = outcomes["verdict"].fillna("")
        out.append(
            say.done(
                f"Of {say.count('outcomes.count', len(outcomes))} decision(s) with an expected "
                f"effect, {say.count('outcomes.delivered', int((verdicts == 'delivered').sum()))}"
                f" delivered, {say.count('outcomes.partly', int((verdicts == 'partly').sum()))} "
                f"partly, {say.count('outcomes.not', int((verdicts == 'not').sum()))} not "
                f"delivered, {say.count('outcomes.waiting', int((verdicts == '').sum()))} waiting "
                "for actuals."
            )
        )
    return tuple(out)


def test_sentences(
    tests: pd.DataFrame | None, register: pd.DataFrame | None
) -> tuple[Sentence, ...]:
    """The assumptions the plan rests on, and what the actuals say of them."""
    say = Say()
    out = []
    if register is not None:
        flagged = int((register["drift"].fillna(False) | register["stale"].fillna(False)).sum())
        out.append(
            say.done(
                f"{say.count('register.count', len(register))} assumption(s) in the register, "
                f"{say.count('register.flagged', flagged)} flagged (drifted or not reviewed)."
            )
        )
    if tests is not None and len(tests):
        beyond = tests[tests["flagged"].astype(bool)]
        names = ", ".join(say.quote(a) for a in beyond["assumption"].head(4))
        text = (
            f"{say.count('tests.count', len(tests))} assumption(s) tested against the actuals, "
            f"{say.count('tests.flagged', len(beyond))} beyond tolerance"
        )
        out.append(say.done(text + (f": {names}." if names else ".")))
    return tuple(out)
