"""boardpack page (being built)."""

import streamlit as st

st.title("boardpack")
st.info("This page is being built.")
