"""Create a plan store, and fill it with the bundled demo company when asked."""

from __future__ import annotations

import datetime as _dt
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from sop_core.contract import TABLE_ORDER
from sop_core.forecasting.baseline import run_forecast
from sop_core.intake.importer import import_paths, read_sources, validate
from sop_core.meeting.cycles import STEPS, due_dates, ensure_cycle, lock_version, sign_off
from sop_core.meeting.decisions import add_decision
from sop_core.meeting.record import version_from_data
from sop_core.meeting.register import add_assumption
from sop_core.plan.service import bias_verdicts
from sop_core.settings import settings_from_frame
from sop_core.store.db import Store
from sop_core.store.plandata import PlanData, current_cycle, horizon
from sop_core.views.review import decision_outcomes

__all__ = [
    "DEMO_DIR",
    "HISTORY_DIR",
    "init_store",
    "load_demo",
    "load_meeting",
    "load_history",
    "ensure_store",
]

# The demo company ships inside the package, so an installed cockpit has it too.
DEMO_DIR = Path(__file__).resolve().parent / "demo"
# What the demo's leadership team has written down so far this cycle (not contract tables).
MEETING_DIR = DEMO_DIR / "meeting"
# The three cycles locked before this one: each one's opening position, who locked it, when,
# and the decisions taken in it with their expected effects.
HISTORY_DIR = DEMO_DIR / "history"
SQL_BASELINE_OF = "SELECT sku, month, units FROM baseline WHERE cycle = ? ORDER BY sku, month"
# who signed each step off in the earlier cycles
HISTORY_SIGNERS = {
    "demand_review": "Priya Shah (Sales & Marketing Director)",
    "supply_review": "Tom Hargreaves (Operations Director)",
    "reconciliation": "Aisha Okafor (Finance Director)",
}


def load_meeting(store: Store, folder: Path = MEETING_DIR, *, user: str = "demo") -> None:
    """The demo cycle's state: its assumption register, open decisions and the steps signed off."""
    cycle = current_cycle(store)
    if cycle is None:
        return
    for row in pd.read_csv(
        folder / "assumptions.csv", dtype=str, keep_default_na=False
    ).itertuples():
        add_assumption(
            store,
            cycle,
            name=row.name,
            value=row.value,
            unit=row.unit,
            owner=row.owner,
            rationale=row.rationale,
            evidence=row.evidence,
            tolerance_pct=float(row.tolerance_pct) if row.tolerance_pct else None,
            link=row.link or None,
            user=row.owner,
        )
    for row in pd.read_csv(folder / "decisions.csv", dtype=str, keep_default_na=False).itertuples():
        add_decision(
            store,
            cycle,
            decision=row.decision,
            owner=row.owner,
            due=row.due,
            answers=row.answers,
            status=row.status,
            note=row.note,
            user=row.owner,
        )
    for row in pd.read_csv(folder / "signoffs.csv", dtype=str).itertuples():
        sign_off(store, cycle, row.step, user=row.user)


def _history_tables(store: Store, folder: Path) -> dict[str, pd.DataFrame]:
    """A locked cycle's own contract tables (its settings and opening inventory), checked as an
    import is (against the store's products)."""
    return validate(store, read_sources([folder]))


def history_data(store: Store, cycle: str, folder: Path) -> PlanData:
    """What the team knew in ``cycle``: the store's tables with the actuals (units and money)
    before the cycle's month, the forecasts made up to it, the cycle's own settings and opening
    inventory (``folder``) and the baseline fitted on the history before it."""
    tables = {t: store.read_table(t) for t in TABLE_ORDER}
    tables["actuals"] = tables["actuals"][tables["actuals"]["month"] < cycle]
    fa = tables["financial_actuals"]
    tables["financial_actuals"] = fa[fa["month"] < cycle]
    tables["forecasts"] = tables["forecasts"][tables["forecasts"]["cycle"] <= cycle]
    tables.update(_history_tables(store, folder))
    tables = {t: f.reset_index(drop=True) for t, f in tables.items()}
    settings = settings_from_frame(tables["settings"])
    months = horizon(settings, tables["actuals"], cycle)
    baseline = store.query(SQL_BASELINE_OF, [cycle])
    baseline = baseline[baseline["month"].isin(months)].reset_index(drop=True)
    return PlanData(tables=tables, settings=settings, cycle=cycle, months=months, baseline=baseline)


def load_history(store: Store, folder: Path = HISTORY_DIR) -> list[str]:
    """The demo's three earlier cycles, each locked with the plan it had then (``history_data``,
    the base plan), its steps signed off on their due days, and its decisions with their expected
    effects; audited as the demo's history. Returns the cycles locked."""
    if not (folder / "cycles.csv").exists():
        return []
    cycles = pd.read_csv(folder / "cycles.csv", dtype=str)
    decisions = pd.read_csv(folder / "decisions.csv", dtype=str, keep_default_na=False)
    locked = []
    for row in cycles.itertuples(index=False):
        cycle, who = row.cycle, row.locked_by
        at = pd.Timestamp(row.locked_at).to_pydatetime()
        data = history_data(store, cycle, folder / cycle)
        version = version_from_data(data, bias=bias_verdicts(data))
        ensure_cycle(store, cycle, user=who)
        for d in decisions[decisions["cycle"] == cycle].itertuples(index=False):
            add_decision(
                store,
                cycle,
                decision=d.decision,
                owner=d.owner,
                due=d.due,
                answers=d.answers,
                status=d.status,
                note=d.note,
                expected_measure=d.expected_measure or None,
                expected_value=float(d.expected_value) if d.expected_value else None,
                expected_month=d.expected_month or None,
                user=who,
            )
        due = due_dates(cycle)
        for step in STEPS[:-1]:
            when = _dt.datetime.combine(due[step.step], _dt.time(12, 0))
            sign_off(store, cycle, step.step, user=HISTORY_SIGNERS[step.step], at=when)
        lock_version(store, version, user=who, at=at, detail="demo history")
        locked.append(cycle)
    return locked


def load_demo(
    store: Store, *, user: str = "demo", progress: Callable[[str, float], None] | None = None
) -> None:
    """Import the demo company (``sop_core/demo/``), compute the statistical baselines (current and
    past cycles), lock the three earlier cycles with the plans they had, and write this cycle's
    meeting so far."""

    if progress:
        progress("Importing the demo company", 0.05)
    import_paths(store, [DEMO_DIR], user=user)
    if progress:
        progress("Fitting the statistical baseline", 0.3)
    run_forecast(store, progress=False, history=True)
    if progress:
        progress("Locking the earlier cycles", 0.85)
    load_history(store)
    load_meeting(store, user=user)
    decision_outcomes(store, record=True)  # the earlier cycles' decisions judged
    if progress:
        progress("Ready", 1.0)


def init_store(path: str | Path, *, demo: bool = False, user: str = "cli") -> Store:
    """Create or upgrade the store at ``path``; with ``demo`` load the demo company into it."""
    store = Store(path, create=True)
    if demo:
        try:
            load_demo(store, user=user)
        except BaseException:
            store.close()
            raise
    return store


def ensure_store(
    path: str | Path, *, progress: Callable[[str, float], None] | None = None
) -> Store:
    """Open the store; a store that does not exist yet is built from the demo company."""
    path = Path(path)
    fresh = not path.exists()
    if fresh:
        path.parent.mkdir(parents=True, exist_ok=True)
    store = Store(path, create=True)
    if fresh:
        try:
            load_demo(store, user="demo", progress=progress)
        except BaseException:
            store.close()
            path.unlink(missing_ok=True)
            Path(str(path) + ".wal").unlink(missing_ok=True)
            raise
    return store
