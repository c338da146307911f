"""demand page (being built)."""

import streamlit as st

st.title("demand")
st.info("This page is being built.")
