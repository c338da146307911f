"""The assumption register: what the plan rests on, kept per cycle, with drift and staleness flags."""

from __future__ import annotations

import datetime as _dt
import re

import pandas as pd

from sop_core.errors import ConflictError, SopError
from sop_core.months import add_months
from sop_core.plan.levers import LEVERS, describe_window, format_value, levers_from_json
from sop_core.plan.links import check_link, link_label
from sop_core.store.concurrency import guarded_update, show_value
from sop_core.store.lock import ensure_unlocked_in

__all__ = [
    "EDITABLE_FIELDS",
    "REGISTER_COLUMNS",
    "numeric_value",
    "add_assumption",
    "get_assumption",
    "update_assumption",
    "review_assumption",
    "delete_assumption",
    "written_rows",
    "lever_rows",
    "all_rows",
    "flag_register",
    "register",
    "assumption_history",
]

EDITABLE_FIELDS = ("value", "unit", "owner", "rationale", "evidence", "tolerance_pct", "link")
ROW_COLUMNS = [
    "cycle",
    "id",
    "kind",
    "name",
    "value",
    "unit",
    "owner",
    "rationale",
    "evidence",
    "reviewed_at",
    "reviewed_by",
    "tolerance_pct",
    "version",
    "link",
]
REGISTER_COLUMNS = [
    *ROW_COLUMNS,
    "previous_cycle",
    "previous_value",
    "change_pct",
    "drift",
    "stale",
    "flag",
]
WRITTEN, LEVER = "written", "scenario lever"

SQL_ALL_WRITTEN = """
SELECT cycle, id, name, value, unit, owner, rationale, evidence, reviewed_at, reviewed_by,
    tolerance_pct, version, link
FROM assumptions ORDER BY cycle, id
"""
SQL_ONE = "SELECT * FROM assumptions WHERE id = ?"
SQL_SAME_NAME = "SELECT id FROM assumptions WHERE cycle = ? AND lower(name) = lower(?)"
SQL_INSERT = """
INSERT INTO assumptions (cycle, name, value, unit, owner, rationale, evidence, reviewed_at,
    reviewed_by, tolerance_pct, created_at, created_by, updated_at, updated_by, link)
VALUES (?, ?, ?, ?, ?, ?, ?, current_timestamp, ?, ?, current_timestamp, ?, current_timestamp, ?, ?)
RETURNING id
"""
SQL_DELETE = "DELETE FROM assumptions WHERE id = ? AND version = ? RETURNING id"
SQL_PROMOTED = """
SELECT cycle, name, levers, author, note, updated_at FROM scenarios WHERE promoted ORDER BY cycle
"""

_NUMBER = re.compile(r"^\s*([-+]?\d[\d,_]*(?:\.\d+)?)\s*([A-Za-z%£$€].*)?$")


def numeric_value(value: object) -> float | None:
    """The number an assumption's value states ('6', '6.5', '1,200', '6 weeks', '-3 %'), else None."""
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return None
    if isinstance(value, int | float):
        return float(value)
    match = _NUMBER.match(str(value))
    if not match:
        return None
    try:
        return float(match.group(1).replace(",", "").replace("_", ""))
    except ValueError:
        return None


# --- writing -----------------------------------------------------------------------------------


def _clean(text: object) -> str:
    return "" if text is None else str(text).strip()


def _tolerance(value: object) -> float | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise SopError(
            f'Tolerance "{value}" is not a number (expected a percentage, e.g. 5).'
        ) from None
    if pd.isna(number):
        return None
    if not 0 <= number <= 1000:
        raise SopError(f"Tolerance {number:g} % is outside 0 to 1000 %.")
    return number


def add_assumption(
    store,
    cycle: str,
    *,
    name: str,
    value: object,
    user: str,
    unit: str = "",
    owner: str = "",
    rationale: str = "",
    evidence: str = "",
    tolerance_pct: float | None = None,
    link: str | None = None,
) -> int:
    """Write a new assumption into the cycle's register (reviewed now, by ``user``).

    ``link``: the setting or lever the assumption stands for (``plan.links``), so its value is
    the plan's input; None keeps it out of the plan's arithmetic.

    Returns:
        Its id.

    Raises:
        CycleLocked: the cycle is locked.
        SopError: no name or value, or the name is already in the cycle's register.
    """

    name, text = _clean(name), _clean(value)
    if not name:
        raise SopError('An assumption needs a name (e.g. "Supplier X lead time").')
    if not text:
        raise SopError(f'The assumption "{name}" needs a value (e.g. 6).')
    tol = _tolerance(tolerance_pct)
    link = check_link(link, text, *_names(store))
    with store.transaction() as cur:
        ensure_unlocked_in(cur, cycle)
        if cur.execute(SQL_SAME_NAME, [cycle, name]).fetchone():
            raise SopError(
                f'"{name}" is already in the register of cycle {cycle}: edit it instead.'
            )
        new_id = cur.execute(
            SQL_INSERT,
            [
                cycle,
                name,
                text,
                _clean(unit),
                _clean(owner),
                _clean(rationale),
                _clean(evidence),
                user,
                tol,
                user,
                user,
                link,
            ],
        ).fetchone()[0]
        shown = f"{text} {_clean(unit)}".strip()
        detail = f"linked to {link_label(link)}" if link else None
        store.audit(cur, user, "add", "assumption", f"{cycle}/{name}", None, shown, detail)
    return int(new_id)


def get_assumption(store, assumption_id: int) -> dict | None:
    """One stored assumption as a dict (what an editor 'loads'), or None."""
    frame = store.query(SQL_ONE, [int(assumption_id)])
    if frame.empty:
        return None
    return {k: (None if _missing(v) else v) for k, v in frame.iloc[0].to_dict().items()}


def _missing(value: object) -> bool:
    return value is None or value is pd.NaT or (isinstance(value, float) and pd.isna(value))


def _formatter(changes: dict):
    def fmt(column: str, value: object, row: dict) -> str:
        if column == "value":
            unit = changes.get("unit", row.get("unit")) if row is not None else None
            text = show_value(value)
            return f"{text} {unit}".strip() if unit and text != "(blank)" else text
        if column == "tolerance_pct":
            return "(settings default)" if _missing(value) else f"{float(value):g} %"
        if column == "link":
            return link_label(None if _missing(value) else value)
        return show_value(value)

    return fmt


def update_assumption(
    store,
    assumption_id: int,
    expected_version: int,
    changes: dict,
    *,
    user: str,
    loaded: dict | None = None,
) -> None:
    """Save an edit of an assumption loaded at ``expected_version``; saving counts as a review.

    Args:
        changes: any of ``EDITABLE_FIELDS``.
        loaded: the row as it was loaded (``get_assumption``), to show in a refusal.

    Raises:
        ConflictError: someone saved it since it was loaded; the message shows both values.
        CycleLocked: its cycle is locked.
    """

    bad = sorted(set(changes) - set(EDITABLE_FIELDS))
    if bad:
        raise SopError(
            f"{', '.join(bad)} cannot be edited (editable: {', '.join(EDITABLE_FIELDS)})."
        )
    clean = {k: (_tolerance(v) if k == "tolerance_pct" else _clean(v)) for k, v in changes.items()}
    if "value" in clean and not clean["value"]:
        raise SopError("An assumption needs a value: write one, or delete the assumption.")
    row = get_assumption(store, assumption_id)
    if row is None:
        raise SopError(f"Assumption {assumption_id} no longer exists (someone deleted it).")
    if "link" in clean or "value" in clean:  # a linked value must stay a plan input
        link = clean.get("link", row.get("link"))
        checked = check_link(link, clean.get("value", row["value"]), *_names(store))
        if "link" in clean:
            clean["link"] = checked
    with store.transaction() as cur:
        ensure_unlocked_in(cur, row["cycle"])
        old = guarded_update(
            cur,
            "assumptions",
            int(assumption_id),
            expected_version,
            {**clean, "reviewed_at": _now(), "reviewed_by": user},
            user=user,
            loaded=loaded,
            fmt=_formatter(clean),
        )
        key = f"{old['cycle']}/{old['name']}"
        changed = [c for c in clean if show_value(clean[c]) != show_value(old[c])]
        for column in changed:
            store.audit(
                cur, user, "edit", "assumption", key, old[column], clean[column], f"field {column}"
            )
        if not changed:
            store.audit(cur, user, "review", "assumption", key, None, None, "saved unchanged")


def review_assumption(
    store, assumption_id: int, expected_version: int, *, user: str, loaded: dict | None = None
) -> None:
    """Record that ``user`` reviewed the assumption and it still holds (value unchanged)."""
    update_assumption(store, assumption_id, expected_version, {}, user=user, loaded=loaded)


def delete_assumption(store, assumption_id: int, expected_version: int, *, user: str) -> None:
    """Remove an assumption from its cycle's register (earlier cycles keep their rows)."""

    row = get_assumption(store, assumption_id)
    if row is None:
        raise SopError(f"Assumption {assumption_id} no longer exists (someone deleted it).")
    with store.transaction() as cur:
        ensure_unlocked_in(cur, row["cycle"])
        if not cur.execute(SQL_DELETE, [int(assumption_id), int(expected_version)]).fetchall():
            raise ConflictError(
                f'{row["updated_by"] or "Someone"} changed the assumption "{row["name"]}" since you '
                "loaded it; it was not deleted — reload and decide again."
            )
        store.audit(
            cur, user, "delete", "assumption", f"{row['cycle']}/{row['name']}", row["value"], None
        )


def _names(store) -> tuple[list[str], list[str]]:
    """The families and resources a link may name."""
    families = store.query("SELECT DISTINCT family FROM products ORDER BY family")["family"]
    resources = store.query("SELECT resource FROM resources ORDER BY resource")["resource"]
    return families.tolist(), resources.tolist()


def _now():
    return _dt.datetime.now().replace(microsecond=0)


# --- reading -----------------------------------------------------------------------------------


def written_rows(store) -> pd.DataFrame:
    """Every written assumption of every cycle (``ROW_COLUMNS``, kind 'written')."""
    frame = store.query(SQL_ALL_WRITTEN)
    frame.insert(2, "kind", WRITTEN)
    return frame.reindex(columns=ROW_COLUMNS)


def lever_rows(store) -> pd.DataFrame:
    """The promoted scenario's levers of every cycle, as read-only register rows."""

    rows = []
    for r in store.query(SQL_PROMOTED).itertuples():
        levers = levers_from_json(r.levers)
        for key in sorted(levers, key=lambda k: (k.name, k.qualifier or "", k.window or ())):
            lever, qualifier, window = key
            value = levers[key]
            spec = LEVERS.get(lever)
            label = spec.label.split(" (")[0] if spec else lever
            name = f"{label} · {qualifier}" if qualifier else label
            rows.append(
                {
                    "cycle": r.cycle,
                    "id": None,
                    "kind": LEVER,
                    "name": name + describe_window(window),
                    "value": format_value(lever, value) if spec and spec.choices else f"{value:g}",
                    "unit": spec.unit if spec else "",
                    "owner": r.author,
                    "rationale": r.note or f'Scenario "{r.name}" is the plan of the cycle.',
                    "evidence": f'Scenario "{r.name}" (promoted)',
                    "reviewed_at": r.updated_at,
                    "reviewed_by": r.author,
                    "tolerance_pct": None,
                    "version": None,
                    "link": f"{lever}:{qualifier}" if qualifier else lever,
                }
            )
    return pd.DataFrame(rows, columns=ROW_COLUMNS)


def all_rows(store) -> pd.DataFrame:
    """Written assumptions and scenario levers of every cycle: the register's history."""
    parts = [f for f in (written_rows(store), lever_rows(store)) if len(f)]
    if not parts:
        return pd.DataFrame(columns=ROW_COLUMNS)
    return pd.concat(parts, ignore_index=True)


def _is_stale(reviewed_at: object, cycle: str) -> bool:
    """Unreviewed for more than one cycle: last reviewed before the previous cycle began."""
    if _missing(reviewed_at):
        return True
    start = pd.Timestamp(f"{add_months(cycle, -1)}-01")
    return pd.Timestamp(reviewed_at) < start


def flag_register(rows: pd.DataFrame, cycle: str, tolerance_pct: float) -> pd.DataFrame:
    """The cycle's register with each row compared to the same name's value in the cycle before.

    Args:
        rows: register rows of any cycles (``ROW_COLUMNS``; at least cycle, name, value,
            reviewed_at; tolerance_pct optional, blank = ``tolerance_pct``).
        cycle: the cycle to flag.
        tolerance_pct: the default tolerance (the settings' tolerance_pct).

    Returns:
        ``REGISTER_COLUMNS``: ``drift`` when both values are numbers and the relative change
        exceeds the tolerance (any change from 0 counts); ``stale`` when last reviewed before
        the previous cycle began; ``flag`` says why in words. Written rows first, by name.
    """
    rows = rows.reindex(columns=ROW_COLUMNS)
    here = rows[rows["cycle"] == cycle].copy()
    earlier = rows[rows["cycle"] < cycle].sort_values("cycle", kind="stable")
    last = earlier.groupby(earlier["name"].str.lower(), sort=False).tail(1)
    prev = {
        n.lower(): (c, v)
        for n, c, v in zip(last["name"], last["cycle"], last["value"], strict=True)
    }
    out = []
    for row in here.to_dict("records"):
        p_cycle, p_value = prev.get(str(row["name"]).lower(), (None, None))
        tol = row["tolerance_pct"]
        tol = float(tolerance_pct) if _missing(tol) else float(tol)
        new, old = numeric_value(row["value"]), numeric_value(p_value)
        change = None
        if new is not None and old is not None:
            change = (
                (new - old) / abs(old) * 100.0 if old != 0 else (0.0 if new == 0 else float("inf"))
            )
        drift = change is not None and abs(change) > tol
        stale = _is_stale(row["reviewed_at"], cycle)
        words = []
        if drift:
            moved = "from 0" if old == 0 else f"{change:+.1f} %"
            words.append(f"drift: {moved} since {p_cycle} (was {p_value}; tolerance {tol:g} %)")
        elif p_cycle is not None and change is None and str(p_value) != str(row["value"]):
            words.append(f"changed since {p_cycle} (was {p_value})")
        if stale:
            when = (
                "never reviewed"
                if _missing(row["reviewed_at"])
                else f"last reviewed {pd.Timestamp(row['reviewed_at']).date()}"
            )
            words.append(f"stale: {when}, more than one cycle ago")
        if p_cycle is None:
            words.append("new this cycle")
        out.append(
            {
                **row,
                "previous_cycle": p_cycle,
                "previous_value": p_value,
                "change_pct": change,
                "drift": drift,
                "stale": stale,
                "flag": "; ".join(words),
            }
        )
    frame = pd.DataFrame(out, columns=REGISTER_COLUMNS)
    if frame.empty:
        return frame
    order = frame["kind"].map({WRITTEN: 0, LEVER: 1})
    frame = frame.assign(_o=order, _n=frame["name"].str.lower())
    return (
        frame.sort_values(["_o", "_n"], kind="stable")
        .drop(columns=["_o", "_n"])
        .reset_index(drop=True)
    )


def register(store, cycle: str, tolerance_pct: float | None = None) -> pd.DataFrame:
    """The cycle's register (written assumptions, then the promoted scenario's levers), flagged.

    ``tolerance_pct`` defaults to the settings' tolerance_pct.
    """
    if tolerance_pct is None:
        tolerance_pct = store.settings().tolerance_pct
    return flag_register(all_rows(store), cycle, tolerance_pct)


def assumption_history(store, name: str) -> pd.DataFrame:
    """One assumption's value in every cycle that has it: cycle, value, number, unit, reviewed_at, kind."""
    rows = all_rows(store)
    rows = rows[rows["name"].str.lower() == str(name).strip().lower()].sort_values("cycle")
    return pd.DataFrame(
        {
            "cycle": rows["cycle"].astype(str),
            "value": rows["value"],
            "number": [numeric_value(v) for v in rows["value"]],
            "unit": rows["unit"],
            "reviewed_at": rows["reviewed_at"],
            "kind": rows["kind"],
        }
    ).reset_index(drop=True)
