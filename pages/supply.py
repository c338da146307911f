"""supply page (being built)."""

import streamlit as st

st.title("supply")
st.info("This page is being built.")
