"""Audit: every import, edit, sign-off and lock, with who and when; filtered, newest first."""

import streamlit as st

from sop_core.safetext import csv_bytes
from sop_core.store.audit import audit_entries, audit_facets
from ui import state

store = state.get_store()

st.title("Audit log")
st.caption(
    "Every import, edit, sign-off and lock is written here with the name given in the sidebar "
    "(with sign-in: the signed-in email), and so is every refused action. Newest first."
)

facets = audit_facets(store)
if facets["last"] is None:
    st.info(
        "Nothing has been recorded yet. Imports (Data page), assumption and decision edits, "
        "step sign-offs and the lock all appear here with the name of the person who made them."
    )
    st.stop()

c1, c2, c3 = st.columns(3)
users = c1.multiselect("Who", facets["users"], key="audit_users", placeholder="Anyone")
actions = c2.multiselect("Action", facets["actions"], key="audit_actions", placeholder="Any action")
entities = c3.multiselect("What", facets["entities"], key="audit_entities", placeholder="Anything")
c4, c5 = st.columns([1, 2])
dates = c4.date_input(
    "Between",
    value=(facets["first"], facets["last"]),
    key="audit_dates",
    format="YYYY-MM-DD",
)
text = c5.text_input(
    "Containing", key="audit_text", placeholder="e.g. lead time, 2026-11, products"
)
start, end = (tuple(dates) + (None, None))[:2] if isinstance(dates, list | tuple) else (dates, None)

entries = audit_entries(
    store,
    users=users,
    actions=actions,
    entities=entities,
    start=start,
    end=end,
    text=text,
    limit=5000,
)
st.caption(f"{len(entries):,} entries" + (" (the newest 5,000)" if len(entries) == 5000 else ""))
if entries.empty:
    st.info("No entries match these filters: widen the dates or clear a filter.")
else:
    st.dataframe(
        entries.drop(columns=["id"]),
        hide_index=True,
        column_config={
            "logged_at": st.column_config.DatetimeColumn("when", format="YYYY-MM-DD HH:mm:ss"),
            "user_name": "who",
            "action": "action",
            "entity": "what",
            "item_key": "item",
            "old_value": "before",
            "new_value": "after",
            "detail": st.column_config.TextColumn("detail", width="large"),
        },
        key="audit_table",
    )
    st.download_button(
        "Download as CSV",
        csv_bytes(entries),  # text that starts like a formula is quoted (docs/SECURITY.md)
        file_name="audit_log.csv",
        mime="text/csv",
        key="audit_download",
        icon=":material/download:",
    )
