"""The process-wide store, opened once (a missing store is built from the demo company).

The Store holds the DuckDB file only while it reads or writes (sop_core.store.access), so the
command line and other programs use the same store while the app runs.
"""

from __future__ import annotations

import streamlit as st

from sop_core.bootstrap import ensure_store
from sop_core.store.db import Store, default_db_path

__all__ = ["open_store", "default_store"]


@st.cache_resource(show_spinner=False)
def open_store(path: str) -> Store:
    """The store at ``path``, opened once per process (built from the demo company if missing)."""
    return ensure_store(path)


def default_store() -> Store:
    """The store the app serves (``$SOP_DB`` or the default path)."""
    return open_store(str(default_db_path()))
