"""Setting the consensus forecast per family: a source or a blend, an adjustment %, a required reason.

The consensus rows it writes are ordinary ``forecasts`` rows (source ``consensus``) of the cycle, for
every sku of the family over the plan horizon, so the demand plan picks them up like imported ones.
Per cell: the chosen source's units (a blend renormalises its weights over the sources present);
where the chosen source has no figure, the statistical baseline; times ``(1 + adjustment_pct/100)``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np
import pandas as pd

from sop_core.errors import ConflictError, SopError
from sop_core.store.concurrency import conflict_message
from sop_core.store.lock import ensure_unlocked

__all__ = [
    "METHODS",
    "METHOD_LABELS",
    "ConsensusChoice",
    "consensus_units",
    "get_choice",
    "previous_choice",
    "set_consensus",
]

METHODS = ("sales", "marketing", "statistical", "blend")
METHOD_LABELS = {
    "sales": "Sales forecast",
    "marketing": "Marketing forecast",
    "statistical": "Statistical baseline",
    "blend": "Blend of the three",
}
MIN_REASON = 5

SQL_CHOICE = """
SELECT cycle, family, method, weights, adjustment_pct, reason, author, updated_at, version
FROM consensus_choices WHERE cycle = ? AND family = ?
"""
SQL_PREVIOUS = """
SELECT cycle, family, method, weights, adjustment_pct, reason, author, updated_at, version
FROM consensus_choices WHERE cycle < ? AND family = ? ORDER BY cycle DESC LIMIT 1
"""
SQL_DELETE_ROWS = """
DELETE FROM forecasts WHERE cycle = ? AND source = 'consensus'
  AND sku IN (SELECT sku FROM new_consensus) AND month IN (SELECT month FROM new_consensus)
"""
SQL_INSERT_ROWS = """
INSERT INTO forecasts (cycle, month, sku, source, units)
SELECT ?, month, sku, 'consensus', units FROM new_consensus
"""
SQL_OLD_TOTAL = """
SELECT coalesce(sum(units), 0) FROM forecasts WHERE cycle = ? AND source = 'consensus'
  AND sku IN (SELECT sku FROM new_consensus) AND month IN (SELECT month FROM new_consensus)
"""


@dataclass(frozen=True)
class ConsensusChoice:
    """The stored choice for a family in a cycle, with its version for two-editor safety."""

    family: str
    method: str
    weights: dict[str, float]
    adjustment_pct: float
    reason: str
    author: str | None
    updated_at: object
    version: int

    def describe(self) -> str:
        what = METHOD_LABELS[self.method]
        if self.method == "blend":
            what += " (" + ", ".join(f"{k} {v:g}" for k, v in self.weights.items()) + ")"
        return f"{what}, adjustment {self.adjustment_pct:+g} %"


def _check(
    method: str, weights: dict[str, float] | None, adjustment_pct: float
) -> dict[str, float]:
    if method not in METHODS:
        raise SopError(f'Consensus method "{method}" is not one of {", ".join(METHODS)}.')
    if not np.isfinite(adjustment_pct) or adjustment_pct <= -100 or adjustment_pct > 1000:
        raise SopError(
            f"Adjustment {adjustment_pct:g} % is out of range (expected above −100 % and at most 1000 %)."
        )
    if method != "blend":
        return {method: 1.0}
    weights = {
        k: float(v)
        for k, v in (weights or {}).items()
        if k in ("sales", "marketing", "statistical")
    }
    if any(v < 0 or not np.isfinite(v) for v in weights.values()):
        raise SopError("Blend weights must be zero or positive numbers.")
    if sum(weights.values()) <= 0:
        raise SopError(
            "A blend needs at least one positive weight (sales, marketing or statistical)."
        )
    return weights


def consensus_units(
    model,
    family: str,
    method: str,
    weights: dict[str, float] | None = None,
    adjustment_pct: float = 0.0,
) -> pd.DataFrame:
    """The consensus a choice gives, per sku and month of the horizon.

    Returns columns month, sku, units (month-major).

    Raises:
        SopError: unknown family or method, bad weights or adjustment.
    """
    weights = _check(method, weights, adjustment_pct)
    if family not in model.families:
        raise SopError(f'Unknown family "{family}" (known: {", ".join(model.families)}).')
    cols = np.flatnonzero(model.sku_family == model.families.index(family))
    sources = {
        "sales": model.sales[:, cols],
        "marketing": model.marketing[:, cols],
        "statistical": model.baseline[:, cols],
    }
    total = np.zeros((len(model.months), len(cols)))
    weight_sum = np.zeros_like(total)
    for name, w in weights.items():
        values = sources[name]
        present = ~np.isnan(values)
        total += np.where(present, values * w, 0.0)
        weight_sum += np.where(present, w, 0.0)
    baseline = np.nan_to_num(sources["statistical"], nan=0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        units = np.where(
            weight_sum > 0, total / np.where(weight_sum > 0, weight_sum, 1.0), baseline
        )
    units = np.maximum(units, 0.0) * (1.0 + adjustment_pct / 100.0)
    return pd.DataFrame(
        {
            "month": np.repeat(np.asarray(model.months, dtype=object), len(cols)),
            "sku": np.tile(np.asarray(model.skus[cols], dtype=object), len(model.months)),
            "units": units.reshape(-1),
        }
    )


def get_choice(store, cycle: str, family: str) -> ConsensusChoice | None:
    """The stored consensus choice of a family in a cycle, or None if none was set in the app."""
    frame = store.query(SQL_CHOICE, [cycle, family])
    return None if frame.empty else get_choice_from_row(frame.iloc[0])


def previous_choice(store, cycle: str, family: str) -> tuple[str, ConsensusChoice] | None:
    """The family's most recent consensus choice in an earlier cycle, as (that cycle, choice).

    Opening a cycle carries the consensus rows forward but not the choice that made them: the
    Demand review offers the last one as the starting point, to be set again with a reason.
    """
    frame = store.query(SQL_PREVIOUS, [cycle, family])
    if frame.empty:
        return None
    return str(frame["cycle"].iloc[0]), get_choice_from_row(frame.iloc[0])


def set_consensus(
    store,
    model,
    family: str,
    method: str,
    *,
    weights: dict[str, float] | None = None,
    adjustment_pct: float = 0.0,
    reason: str,
    user: str,
    expected_version: int | None,
) -> ConsensusChoice:
    """Write the family's consensus rows for the model's cycle and horizon, record the choice, audit it.

    ``expected_version`` is the choice's version when the user loaded it (None: there was none).

    Raises:
        SopError: no reason, bad method/weights/adjustment, no cycle.
        ConflictError: someone set this family's consensus since it was loaded (both choices shown).
        CycleLocked: the cycle is locked.
    """

    cycle = model.cycle
    if not cycle:
        raise SopError("There is no S&OP cycle yet: import forecasts with their cycle first.")
    reason = (reason or "").strip()
    if len(reason) < MIN_REASON:
        raise SopError(
            "Say why: a reason of at least a few words is required to set the consensus."
        )
    weights = _check(method, weights, adjustment_pct)
    rows = consensus_units(model, family, method, weights, adjustment_pct)
    ensure_unlocked(store, cycle)
    mine = ConsensusChoice(family, method, weights, adjustment_pct, reason, user, None, 0)
    with store.transaction() as cur:
        stored = cur.execute(SQL_CHOICE, [cycle, family]).df()
        stored_version = None if stored.empty else int(stored["version"].iloc[0])
        if stored_version != expected_version:
            theirs = get_choice_from_row(stored.iloc[0]) if not stored.empty else None
            if theirs is None:
                raise ConflictError(
                    f"The {family} consensus was removed since you loaded it. Yours "
                    f"({mine.describe()}) was not saved: reload and re-apply it if it still holds."
                )
            raise ConflictError(
                conflict_message(
                    label="consensus",
                    name=family,
                    who=theirs.author,
                    when=theirs.updated_at,
                    fields=[("choice", theirs.describe(), None, mine.describe())],
                )
            )
        cur.register("new_consensus", rows)
        old_total = float(cur.execute(SQL_OLD_TOTAL, [cycle]).fetchone()[0])
        cur.execute(SQL_DELETE_ROWS, [cycle])
        cur.execute(SQL_INSERT_ROWS, [cycle])
        cur.unregister("new_consensus")
        params = [method, json.dumps(weights), float(adjustment_pct), reason, user, cycle, family]
        if stored_version is None:
            cur.execute(
                "INSERT INTO consensus_choices (method, weights, adjustment_pct, reason, author, cycle, family)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                params,
            )
        else:
            cur.execute(
                "UPDATE consensus_choices SET method = ?, weights = ?, adjustment_pct = ?, reason = ?, author = ?,"
                " updated_at = current_timestamp, version = version + 1 WHERE cycle = ? AND family = ?",
                params,
            )
        store.audit(
            cur,
            user,
            "set consensus",
            "forecasts",
            f"{cycle}/{family}",
            f"{old_total:,.0f} units",
            f"{rows['units'].sum():,.0f} units ({mine.describe()})",
            reason,
        )
    return get_choice(store, cycle, family)


def get_choice_from_row(row: pd.Series) -> ConsensusChoice:
    """A ConsensusChoice from a consensus_choices row."""
    return ConsensusChoice(
        family=row["family"],
        method=row["method"],
        weights=json.loads(row["weights"] or "{}"),
        adjustment_pct=float(row["adjustment_pct"]),
        reason=row["reason"],
        author=row["author"],
        updated_at=row["updated_at"],
        version=int(row["version"]),
    )
