"""Everything the plan needs, read from the store once into memory (``PlanData``)."""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass, field, replace

import pandas as pd

from sop_core.contract import TABLE_ORDER, TABLES
from sop_core.errors import PlanError
from sop_core.months import add_months, month_range
from sop_core.settings import Settings, settings_from_frame

__all__ = [
    "PlanData",
    "load_plan_data",
    "list_cycles",
    "current_cycle",
    "horizon",
    "plan_data_from_frames",
    "LINKED_COLUMNS",
]

SQL_CYCLES = """
SELECT cycle FROM (
    SELECT DISTINCT cycle FROM forecasts
    UNION SELECT cycle FROM cycles
    UNION SELECT DISTINCT cycle FROM baseline
) ORDER BY cycle
"""
SQL_CHOICES = """
SELECT cycle, family, method, weights, adjustment_pct, reason, author, updated_at, version
FROM consensus_choices WHERE cycle = ? ORDER BY family
"""
SQL_LINKED = """
SELECT name, value, link, owner, tolerance_pct FROM assumptions
WHERE cycle = ? AND link IS NOT NULL ORDER BY id
"""
LINKED_COLUMNS = ["name", "value", "link", "owner", "tolerance_pct"]
CHOICE_COLUMNS = [
    "cycle",
    "family",
    "method",
    "weights",
    "adjustment_pct",
    "reason",
    "author",
    "updated_at",
    "version",
]
# The plan grids the baseline by sku and month: stored order will do, and saves a sort. The
# band (p10, p90) is the demand ranges' spread where the baseline drives the plan.
SQL_BASELINE_STORED_ORDER = "SELECT sku, month, units, p10, p90 FROM baseline WHERE cycle = ?"


@dataclass(frozen=True)
class PlanData:
    """The contract tables as frames, the chosen cycle, its horizon and its statistical baseline.

    ``baseline`` holds ``sku, month, units`` for the chosen cycle (empty if none is stored), and
    its 80 % band ``p10, p90`` where known.
    """

    tables: dict[str, pd.DataFrame]
    settings: Settings
    cycle: str | None
    months: list[str]
    baseline: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame(columns=["sku", "month", "units"])
    )
    # the consensus choices the team set (with a reason) in this cycle
    consensus_choices: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame(columns=CHOICE_COLUMNS)
    )
    # the cycle's assumptions linked to a setting or lever (meeting.register, plan.links)
    linked: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=LINKED_COLUMNS))

    def __getattr__(self, name: str) -> pd.DataFrame:
        # products, actuals, ... as attributes
        tables = self.__dict__.get("tables", {})
        if name in tables:
            return tables[name]
        raise AttributeError(name)

    def with_baseline(self, baseline: pd.DataFrame) -> PlanData:
        return replace(self, baseline=baseline)

    @property
    def families(self) -> list[str]:
        return sorted(self.tables["products"]["family"].unique().tolist())

    @property
    def resource_names(self) -> list[str]:
        return sorted(self.tables["resources"]["resource"].tolist())


def list_cycles(store) -> list[str]:
    """Every cycle known to the store (from forecasts, cycles, baselines), oldest first."""
    return store.query(SQL_CYCLES)["cycle"].tolist()


def current_cycle(store) -> str | None:
    """The latest cycle in forecasts (PRODUCT.md), else the latest known cycle, else None."""
    latest = store.scalar("SELECT max(cycle) FROM forecasts")
    if latest:
        return latest
    cycles = list_cycles(store)
    return cycles[-1] if cycles else None


def horizon(
    settings: Settings, actuals: pd.DataFrame, cycle: str | None, today: _dt.date | None = None
) -> list[str]:
    """The plan months: from plan_start (default: the month after the last actual) for horizon_months."""
    start = settings.plan_start
    if not start:
        if len(actuals):
            start = add_months(str(actuals["month"].max()), 1)
        elif cycle:
            start = cycle
        else:
            today = today or _dt.date.today()
            start = f"{today.year:04d}-{today.month:02d}"
    return month_range(start, int(settings.horizon_months))


def plan_data_from_frames(
    tables: dict[str, pd.DataFrame], cycle: str | None = None, baseline: pd.DataFrame | None = None
) -> PlanData:
    """PlanData from frames (tests, benchmarks); missing tables are empty."""

    full = {t: tables.get(t, pd.DataFrame(columns=TABLES[t].column_names)) for t in TABLE_ORDER}
    settings = settings_from_frame(full["settings"])
    if cycle is None and len(full["forecasts"]):
        cycle = str(full["forecasts"]["cycle"].max())
    months = horizon(settings, full["actuals"], cycle)
    base = baseline if baseline is not None else pd.DataFrame(columns=["sku", "month", "units"])
    return PlanData(tables=full, settings=settings, cycle=cycle, months=months, baseline=base)


def load_plan_data(store, cycle: str | None = None) -> PlanData:
    """Read the store into memory for one cycle (default: the current cycle).

    Raises:
        PlanError: there are no products, so there is nothing to plan.
    """
    # Stored order (key order after an import): the plan grids every table by its keys, so a
    # sort, most of the read's time for a large company, buys nothing here.
    tables = store.read_tables(list(TABLE_ORDER), ordered=False)
    if tables["products"].empty:
        raise PlanError(
            "No products are loaded: import a products table first (Data page or 'import')."
        )
    cycle = cycle or current_cycle(store)
    settings = settings_from_frame(tables["settings"])
    months = horizon(settings, tables["actuals"], cycle)
    baseline = (
        store.arrow(SQL_BASELINE_STORED_ORDER, [cycle]).to_pandas()
        if cycle
        else pd.DataFrame(columns=["sku", "month", "units"])
    )
    choices = store.query(SQL_CHOICES, [cycle]) if cycle else pd.DataFrame(columns=CHOICE_COLUMNS)
    linked = store.query(SQL_LINKED, [cycle]) if cycle else pd.DataFrame(columns=LINKED_COLUMNS)
    return PlanData(
        tables=tables,
        settings=settings,
        cycle=cycle,
        months=months,
        baseline=baseline,
        consensus_choices=choices,
        linked=linked,
    )
