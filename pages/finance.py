"""finance page (being built)."""

import streamlit as st

st.title("finance")
st.info("This page is being built.")
