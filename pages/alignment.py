"""alignment page (being built)."""

import streamlit as st

st.title("alignment")
st.info("This page is being built.")
