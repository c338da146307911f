"""Create a plan store, and fill it with the bundled demo company when asked."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pandas as pd

from sop_core.forecasting.baseline import run_forecast
from sop_core.intake.importer import import_paths
from sop_core.meeting.cycles import sign_off
from sop_core.meeting.decisions import add_decision
from sop_core.meeting.register import add_assumption
from sop_core.store.db import Store
from sop_core.store.plandata import current_cycle

__all__ = ["DEMO_DIR", "init_store", "load_demo", "load_meeting", "ensure_store"]

# The demo company ships inside the package, so an installed cockpit has it too.
DEMO_DIR = Path(__file__).resolve().parent / "demo"
# What the demo's leadership team has written down so far this cycle (not contract tables).
MEETING_DIR = DEMO_DIR / "meeting"


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


def load_demo(
    store: Store, *, user: str = "demo", progress: Callable[[str, float], None] | None = None
) -> None:
    """Import the demo company (``sop_core/demo/``) and compute the statistical baselines (current and past cycles)."""

    if progress:
        progress("Importing the demo company", 0.05)
    import_paths(store, [DEMO_DIR], user=user)
    if progress:
        progress("Fitting the statistical baseline", 0.3)
    run_forecast(store, progress=False, history=True)
    load_meeting(store, user=user)
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
