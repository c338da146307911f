"""S&OP cockpit: the router. Page config, shared sidebar state, navigation; the pages do the rest."""

import streamlit as st

from ui import auth, background, plan, state

st.set_page_config(page_title="S&OP cockpit", page_icon=":material/insights:", layout="wide")
# On a 1280 × 720 projector the default 6rem above the title costs a tenth of the screen; a
# style-only st.html takes no space on the page.
# Until st.navigation below is called, Streamlit lists the files of pages/ in the sidebar
# (pages/summary.py as "summary"): on the first start that lasts the whole demo build. That list
# is hidden while the build's box (state.OPENING_STORE) is on the page.
st.html(
    "<style>[data-testid='stMainBlockContainer']{padding-top:2.5rem}"
    f"body:has(.st-key-{state.OPENING_STORE}) [data-testid='stSidebarNav']{{display:none}}</style>"
)

# Another program (the command line, an import job) may hold the store for a moment: a page
# that waited too long says so instead of showing a traceback; the next interaction retries.
with state.store_busy_notice():
    store = state.get_store(router=True)
    # With sign-in configured, nothing below runs before sign-in and a role (ui/auth.py).
    auth.gate(store)

    PAGES = {
        "Executive S&OP": [
            st.Page(
                "pages/summary.py",
                title="Executive summary",
                icon=":material/dashboard:",
                default=True,
            ),
            st.Page(
                "pages/alignment.py",
                title="Alignment",
                icon=":material/compare_arrows:",
                url_path="alignment",
            ),
            st.Page(
                "pages/scenarios.py",
                title="Scenarios",
                icon=":material/tune:",
                url_path="scenarios",
            ),
        ],
        "Reviews": [
            st.Page(
                "pages/demand.py",
                title="Demand review",
                icon=":material/trending_up:",
                url_path="demand",
            ),
            st.Page(
                "pages/supply.py",
                title="Supply review",
                icon=":material/factory:",
                url_path="supply",
            ),
            st.Page(
                "pages/finance.py", title="Finance", icon=":material/payments:", url_path="finance"
            ),
            st.Page(
                "pages/review.py",
                title="Performance review",
                icon=":material/query_stats:",
                url_path="review",
            ),
        ],
        "Governance": [
            st.Page(
                "pages/cycle.py",
                title="S&OP cycle",
                icon=":material/event_repeat:",
                url_path="cycle",
            ),
            st.Page(
                "pages/assumptions.py",
                title="Assumptions",
                icon=":material/fact_check:",
                url_path="assumptions",
            ),
            st.Page(
                "pages/decisions.py",
                title="Decisions",
                icon=":material/gavel:",
                url_path="decisions",
            ),
            st.Page(
                "pages/boardpack.py",
                title="Board pack",
                icon=":material/picture_as_pdf:",
                url_path="boardpack",
            ),
            st.Page("pages/data.py", title="Data", icon=":material/database:", url_path="data"),
            st.Page(
                "pages/audit.py", title="Audit log", icon=":material/history:", url_path="audit"
            ),
        ],
    }

    if auth.can("roles:manage", store):
        PAGES["Governance"].append(
            st.Page(
                "pages/admin.py",
                title="Users and roles",
                icon=":material/admin_panel_settings:",
                url_path="admin",
            )
        )

    page = st.navigation(PAGES, expanded=True)  # every page in view: the meeting moves between them
    state.sidebar(store)
    try:
        with background.page_run():  # a large plan's drawing of ranges pauses meanwhile
            page.run()
    finally:  # a large plan's ranges, asked for by the page, are drawn from now on
        plan.start_held()
state.freeze_gc_once()  # after the first run, so the modules the pages import are in it
