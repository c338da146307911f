"""Editing stored rows from a page: the row as this session loaded it, the changed fields, and one
check-write-report step (role checked server-side, conflicts and refusals reported, nothing lost)."""

from __future__ import annotations

from collections.abc import Callable

import streamlit as st

from sop_core.errors import SopError
from sop_core.store.concurrency import show_value
from ui import auth, flash, state
from ui.text import plain

__all__ = ["loaded_row", "forget", "changed_fields", "write"]


def loaded_row(
    page: str, kind: str, row_id: int, getter: Callable[[int], dict | None]
) -> dict | None:
    """The row as this session loaded it: kept until saved or reloaded, so a save is checked
    against the version the person saw (a second editor's save in between is refused, not lost)."""
    key = f"{page}_loaded_{kind}"
    snap = st.session_state.get(key)
    if not snap or snap.get("id") != row_id:
        snap = getter(row_id)
        st.session_state[key] = snap
    return snap


def forget(page: str, kind: str, row_id: int, prefix: str) -> None:
    """Drop the loaded row and its form's inputs (Reload, or after a delete)."""
    st.session_state.pop(f"{page}_loaded_{kind}", None)
    for key in [
        k for k in st.session_state if str(k).startswith(prefix) and str(k).endswith(f"_{row_id}")
    ]:
        del st.session_state[key]


def changed_fields(snap: dict, fields: dict) -> dict:
    """The fields whose value differs from the loaded row's, as a person reads them."""
    return {k: v for k, v in fields.items() if show_value(v) != show_value(snap.get(k))}


def write(
    page: str,
    action: str,
    detail: object,
    do: Callable[[], object],
    done: str,
    *,
    store,
    after: Callable[[], object] | None = None,
) -> bool:
    """Check the role, write, then say what happened; a refusal or a conflict changes nothing.

    Returns True when the write was made.
    """
    try:
        auth.check(action, detail=str(detail), store=store)
        do()
    except SopError as exc:
        flash.say(page, "error", plain(exc))  # names in the message show as typed
        return False
    state.after_write()
    if after is not None:
        after()
    flash.say(page, "success", done)
    return True
