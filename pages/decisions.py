"""decisions page (being built)."""

import streamlit as st

st.title("decisions")
st.info("This page is being built.")
