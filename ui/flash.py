"""Messages after an action: shown until dismissed or until the page's next action replaces them."""

from __future__ import annotations

import streamlit as st

__all__ = ["say", "show", "clear", "KINDS"]

KINDS = ("success", "info", "warning", "error")


def _key(page: str) -> str:
    return f"{page}_flash"


def say(page: str, kind: str, text: str) -> None:
    """Report what an action did (replaces the page's earlier message: it was another action).

    Call from a widget's callback: the message shows on the rerun the action causes and stays on
    later reruns (other widgets, page changes and back) until dismissed or replaced.
    """
    if kind not in KINDS:
        raise ValueError(f"kind {kind!r} is not one of {KINDS}")
    st.session_state[_key(page)] = (kind, str(text))


def clear(page: str) -> None:
    """Forget the page's message (the Dismiss button)."""
    st.session_state.pop(_key(page), None)


def show(page: str) -> None:
    """Draw the page's message, if any, with a Dismiss button beside it."""
    message = st.session_state.get(_key(page))
    if not message:
        return
    kind, text = message
    box, button = st.columns([20, 1], vertical_alignment="center")
    with box:
        getattr(st, kind)(text)
    button.button(
        "",
        icon=":material/close:",
        key=f"{page}_flash_dismiss",
        help="Dismiss this message",
        on_click=clear,
        args=(page,),
    )
