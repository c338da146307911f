"""Executive summary: the headline figures of the plan."""

import streamlit as st

from sop_core import fmt
from sop_core.overview import trailing_revenue
from ui import state

store = state.get_store()
data = state.plan_data(store)
cur = data.settings.currency

st.title("Executive summary")
st.caption(
    f"{data.settings.company_name or 'Your company'} · cycle {data.cycle or '—'} · plan {data.months[0]} to {data.months[-1]}"
)

trailing = trailing_revenue(data.products, data.actuals, 12)
delta = None
if trailing["previous"]:
    delta = (
        fmt.pct((trailing["revenue"] / trailing["previous"] - 1) * 100, signed=True)
        + " vs prior 12 months"
    )
st.metric(
    f"Revenue, last 12 months of actuals ({trailing['first_month']} to {trailing['last_month']})",
    fmt.money(trailing["revenue"], cur),
    delta,
)
