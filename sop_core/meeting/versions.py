"""Locked plan versions: a cycle's inputs, scenario and results, kept so the plan can be recomputed.

A version holds what the plan was computed from (every contract table, the cycle's forecasts, the
statistical baseline, the track record's bias verdicts, the consensus choices), the levers of the
plan (the promoted scenario's, else none) and the results at the lock. ``meeting.record`` builds
versions from the plan of record and recomputes a locked cycle's plan from its version.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass, field

import pandas as pd

from sop_core.contract import TABLE_ORDER, TABLES
from sop_core.plan.levers import Levers, describe_levers, levers_from_json, levers_to_json
from sop_core.settings import Settings, settings_from_frame
from sop_core.store.plandata import CHOICE_COLUMNS, LINKED_COLUMNS, PlanData

__all__ = [
    "PlanVersion",
    "RESULT_FRAMES",
    "BIAS_COLUMNS",
    "save_version",
    "load_version",
    "list_versions",
    "plan_totals",
    "previous_locked_cycle",
]

RESULT_FRAMES = ("company", "family", "resource")
# The band (p10, p90) is kept from this version on, for the locked plan's demand ranges; a
# version locked before has none (its baseline-driven months are then taken as certain).
BASELINE_COLUMNS = ["sku", "month", "units", "p10", "p90"]
BIAS_COLUMNS = ["source", "family", "verdict"]

SQL_INSERT_VERSION = """
INSERT INTO plan_versions (cycle, locked_at, locked_by, scenario_name, levers, months, summary,
    lock_note)
VALUES (?, coalesce(?, current_timestamp), ?, ?, ?, ?, ?, ?)
"""
SQL_INSERT_FRAME = """
INSERT INTO plan_version_frames (cycle, kind, name, n_rows, data) VALUES (?, ?, ?, ?, ?)
"""
SQL_VERSION = """
SELECT cycle, locked_at, locked_by, scenario_name, levers, months, summary, lock_note
FROM plan_versions WHERE cycle = ?
"""
SQL_FRAMES = "SELECT kind, name, data FROM plan_version_frames WHERE cycle = ?"
SQL_LIST = """
SELECT cycle, locked_at, locked_by, scenario_name, summary, lock_note FROM plan_versions ORDER BY cycle
"""
SQL_PREVIOUS = "SELECT max(cycle) FROM plan_versions WHERE cycle < ?"


@dataclass(frozen=True)
class PlanVersion:
    """One cycle's plan: the contract tables it was computed from, its levers and its results.

    ``tables`` holds every contract table (forecasts: only the cycle's rows), ``baseline`` the
    statistical baseline used, ``bias`` the track record's verdicts, ``consensus_choices`` the
    choices the team made, ``months`` the horizon. ``locked_at``/``locked_by`` are None for a
    plan captured from the live store but not locked; ``lock_note`` says why a lock went ahead
    with steps not signed off.
    """

    cycle: str
    months: tuple[str, ...]
    tables: dict[str, pd.DataFrame]
    baseline: pd.DataFrame
    scenario_name: str | None
    levers: Levers
    results: dict[str, pd.DataFrame] = field(default_factory=dict)
    locked_at: object = None
    locked_by: str | None = None
    bias: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=BIAS_COLUMNS))
    consensus_choices: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame(columns=CHOICE_COLUMNS)
    )
    lock_note: str | None = None
    # the register's rows linked to a setting or lever at the lock (their names and owners; the
    # values are already in the settings and levers above)
    linked: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=LINKED_COLUMNS))

    @property
    def settings(self) -> Settings:
        return settings_from_frame(self.tables["settings"])

    @property
    def totals(self) -> dict:
        return plan_totals(self.results["company"])

    @property
    def plan_label(self) -> str:
        """'scenario "Hire" (Headcount +3 FTE on Press & Weld from Sep 2027)' or 'the base plan
        (no levers)': the levers as sentences, windows included."""
        if not self.scenario_name:
            return "the base plan (no levers)"
        levers = "; ".join(describe_levers(self.levers)) or "no levers"
        return f'scenario "{self.scenario_name}" ({levers})'

    def plan_data(self, months: tuple[str, ...] | list[str] | None = None) -> PlanData:
        """The inputs as the engine takes them (optionally over other months)."""
        return PlanData(
            tables=dict(self.tables),
            settings=self.settings,
            cycle=self.cycle,
            months=list(months if months is not None else self.months),
            baseline=self.baseline,
            consensus_choices=self.consensus_choices,
            linked=self.linked,
        )


def plan_totals(company: pd.DataFrame) -> dict:
    """Revenue and gross margin over the horizon, closing cash at its end."""
    if company.empty:
        return {"revenue": 0.0, "gross_margin": 0.0, "operating_profit": 0.0, "closing_cash": 0.0}
    return {
        "revenue": float(company["revenue"].sum()),
        "gross_margin": float(company["gross_margin"].sum()),
        "operating_profit": float(company["operating_profit"].sum()),
        "closing_cash": float(company["closing_cash"].iloc[-1]),
        "first_month": str(company["month"].iloc[0]),
        "last_month": str(company["month"].iloc[-1]),
    }


def _to_parquet(frame: pd.DataFrame) -> bytes:
    buf = io.BytesIO()
    frame.reset_index(drop=True).to_parquet(buf, index=False)
    return buf.getvalue()


def _from_parquet(data: bytes) -> pd.DataFrame:
    return pd.read_parquet(io.BytesIO(bytes(data)))


def save_version(cur, version: PlanVersion, *, user: str, locked_at: object = None) -> None:
    """Store a captured version as the cycle's locked plan (on the caller's transaction);
    ``locked_at`` defaults to now."""
    summary = {**version.totals, "scenario": version.scenario_name}
    cur.execute(
        SQL_INSERT_VERSION,
        [
            version.cycle,
            locked_at,
            user,
            version.scenario_name,
            levers_to_json(version.levers),
            json.dumps(list(version.months)),
            json.dumps(summary),
            version.lock_note,
        ],
    )
    frames = [("input", t, version.tables[t]) for t in TABLE_ORDER]
    frames.append(("input", "baseline", version.baseline))
    frames.append(("input", "bias", version.bias))
    frames.append(("input", "consensus_choices", version.consensus_choices))
    frames.append(("input", "linked", version.linked))
    frames += [("result", name, version.results[name]) for name in RESULT_FRAMES]
    for kind, name, frame in frames:
        cur.execute(SQL_INSERT_FRAME, [version.cycle, kind, name, len(frame), _to_parquet(frame)])


def load_version(store, cycle: str) -> PlanVersion | None:
    """The locked plan of a cycle, or None if the cycle was never locked."""
    head = store.query(SQL_VERSION, [cycle])
    if head.empty:
        return None
    row = head.iloc[0]
    frames = store.query(SQL_FRAMES, [cycle])
    inputs, results = {}, {}
    for kind, name, data in zip(frames["kind"], frames["name"], frames["data"], strict=True):
        (inputs if kind == "input" else results)[name] = _from_parquet(data)
    tables = {
        t: inputs.get(t, pd.DataFrame(columns=TABLES[t].column_names)).reindex(
            columns=TABLES[t].column_names
        )
        for t in TABLE_ORDER
    }
    baseline = inputs.get("baseline", pd.DataFrame(columns=BASELINE_COLUMNS))
    note = row["lock_note"]
    return PlanVersion(
        cycle=cycle,
        months=tuple(json.loads(row["months"])),
        tables=tables,
        baseline=baseline,
        scenario_name=row["scenario_name"] if isinstance(row["scenario_name"], str) else None,
        levers=levers_from_json(row["levers"]),
        results=results,
        locked_at=row["locked_at"],
        locked_by=row["locked_by"],
        bias=inputs.get("bias", pd.DataFrame(columns=BIAS_COLUMNS)),
        consensus_choices=inputs.get("consensus_choices", pd.DataFrame(columns=CHOICE_COLUMNS)),
        lock_note=note if isinstance(note, str) else None,
        linked=inputs.get("linked", pd.DataFrame(columns=LINKED_COLUMNS)),
    )


def list_versions(store) -> pd.DataFrame:
    """Every locked plan: cycle, locked_at, locked_by, plan, revenue, gross_margin, closing_cash."""
    frame = store.query(SQL_LIST)
    cols = [
        "cycle",
        "locked_at",
        "locked_by",
        "plan",
        "revenue",
        "gross_margin",
        "closing_cash",
    ]
    if frame.empty:
        return pd.DataFrame(columns=cols)
    summary = [json.loads(s) for s in frame["summary"]]
    return pd.DataFrame(
        {
            "cycle": frame["cycle"],
            "locked_at": frame["locked_at"],
            "locked_by": frame["locked_by"],
            "plan": [n if isinstance(n, str) else "Base plan" for n in frame["scenario_name"]],
            "revenue": [s.get("revenue") for s in summary],
            "gross_margin": [s.get("gross_margin") for s in summary],
            "closing_cash": [s.get("closing_cash") for s in summary],
        }
    )[cols]


def previous_locked_cycle(store, cycle: str) -> str | None:
    """The latest locked cycle before ``cycle``."""
    return store.scalar(SQL_PREVIOUS, [cycle])
