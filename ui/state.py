"""Shared state of the app: the store connection, cached reads, and the sidebar (cycle, family, user)."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import streamlit as st

from sop_core.errors import SopError, StoreBusy
from sop_core.store import audit
from sop_core.store.db import Store, default_db_path
from sop_core.store.plandata import current_cycle, list_cycles, load_plan_data
from ui import auth
from ui.connection import open_store

__all__ = [
    "ALL_FAMILIES",
    "get_store",
    "data_version",
    "plan_data",
    "selected_cycle",
    "selected_family",
    "user_name",
    "sidebar",
    "after_write",
    "settings",
    "freeze_gc_once",
    "store_busy_notice",
]

ALL_FAMILIES = "All families"

_GC_FROZEN = False


def freeze_gc_once() -> None:
    """Take the app's long-lived objects out of the garbage collector's sight, once per process.

    Streamlit runs ``gc.collect(2)`` after every script run (``runner.postScriptGC``). With
    pandas, Altair's schema, DuckDB and the cached plans in memory that is over 100 ms of
    holding the GIL after each run, during which the server cannot send what the run drew (a
    what-if lever change took ~400 ms with it). ``gc.freeze()`` after a full collection moves
    everything alive now (modules, caches) to a permanent generation; objects created later are
    still collected. ``app.py`` calls it after its first run, for every page.
    """
    global _GC_FROZEN
    if not _GC_FROZEN:
        _GC_FROZEN = True
        gc.collect()
        gc.freeze()


@contextmanager
def store_busy_notice() -> Iterator[None]:
    """Show a busy store (another program held it longer than the wait) as a notice, not a traceback."""
    try:
        yield
    except StoreBusy as exc:
        st.error(str(exc), icon=":material/hourglass_top:")


def _run_through_the_router(router: bool) -> None:
    """Make every page run inside app.py's navigation, even on a server's very first request.

    With a ``pages/`` folder, Streamlit starts in its old multipage mode: until some run has
    called ``st.navigation``, a deep link (``/alignment?family=…``) runs the page file alone,
    without the router, its page config and its sidebar. On a session's first run, a page that
    finds itself in that mode leaves it and reruns: the rerun goes through app.py, which opens
    the page the URL names. Only the first run: later runs may carry a click, which a rerun
    would drop.
    """
    if st.session_state.get("_router_checked"):
        return
    st.session_state["_router_checked"] = True
    if router:
        return
    try:
        from streamlit.runtime.pages_manager import PagesManager
    except ImportError:  # another Streamlit: nothing to undo
        return
    if PagesManager.uses_pages_directory:
        PagesManager.uses_pages_directory = False
        st.rerun()


OPENING_STORE = "sop_opening_store"  # the key of the box shown while the demo store is built


def get_store(*, router: bool = False) -> Store:
    """The process-wide store; on the very first start it is built from the demo company.

    Pages call it first thing; app.py calls it with ``router=True`` and then ``auth.gate``.
    A page run outside the router passes the same gate here, so with sign-in configured no
    page renders before sign-in and a role, however it was reached.
    """
    _run_through_the_router(router)
    path = default_db_path()
    if not Path(path).exists():
        # Until app.py calls st.navigation, Streamlit lists the files of pages/ in the sidebar:
        # app.py's style hides that list while this keyed box is on the page (the whole build)
        building = st.empty()
        with (
            building.container(key=OPENING_STORE),
            st.spinner(
                "First start: building the demo company's plan store (fitting forecasts, about 30 s)…"
            ),
        ):
            store = open_store(str(path))
        building.empty()
    else:
        store = open_store(str(path))
    if not router:
        auth.gate(store)
    return store


def data_version(store: Store) -> int:
    """Grows with every import or edit (each writes the audit log): the key of every cached read."""
    return audit.data_version(store)


@st.cache_resource(show_spinner="Reading the plan store…", max_entries=8)
def plan_data_at(path: str, version: int, cycle: str | None):
    """``load_plan_data`` of the store at ``path`` as of data ``version`` (cached: the pages
    and the cycle's model share its frames)."""
    return load_plan_data(open_store(path), cycle)


def plan_data(store: Store, cycle: str | None = None):
    """The store's tables in memory for a cycle, cached until the next import or edit."""
    return plan_data_at(str(store.path), data_version(store), cycle or selected_cycle(store))


@st.cache_data(show_spinner=False, max_entries=8)
def _cycles(path: str, version: int) -> tuple[list[str], str | None]:
    store = open_store(path)
    return list_cycles(store), current_cycle(store)


def settings(store: Store):
    return _plan_settings(str(store.path), data_version(store))


@st.cache_resource(show_spinner=False, max_entries=4)
def _plan_settings(path: str, version: int):
    return open_store(path).settings()


def selected_cycle(store: Store) -> str | None:
    cycles, current = _cycles(str(store.path), data_version(store))
    chosen = st.session_state.get("cycle")
    return chosen if chosen in cycles else current


def selected_family() -> str | None:
    """The family filter, or None for all families."""
    fam = st.session_state.get("family")
    return None if not fam or fam == ALL_FAMILIES else fam


def user_name() -> str:
    """Who the audit log names: the signed-in email, or in local mode the sidebar's name."""
    return auth.current_user()


def after_write() -> None:
    """Drop cached reads after an import or edit (the version key also changes)."""
    st.cache_data.clear()


def sidebar(store: Store) -> None:
    """Cycle and family selectors (kept across pages and in the URL) and who you are."""
    version = data_version(store)
    cycles, current = _cycles(str(store.path), version)
    with st.sidebar:
        if cycles:
            options = list(reversed(cycles))
            st.selectbox(
                "S&OP cycle",
                options,
                index=options.index(current) if current in options else 0,
                key="cycle",
                bind="query-params",
                help="The monthly cycle whose forecasts drive the plan; older cycles are the track record.",
            )
        try:
            families = sorted(
                store.query("SELECT DISTINCT family FROM products")["family"].tolist()
            )
        except SopError:
            families = []
        st.selectbox(
            "Family",
            [ALL_FAMILIES, *families],
            key="family",
            bind="query-params",
            help="Filter the pages to one product family.",
        )
        if auth.auth_configured():
            auth.sidebar_identity(store)
        else:
            st.text_input(
                "Your name",
                key="user",
                persist_state="session",
                placeholder="e.g. Jane Smith (CFO)",
                help="Written to the audit log with every edit and import you make. "
                "Served locally, you act as the administrator.",
            )
