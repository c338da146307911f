"""The Streamlit layer: caching, shared sidebar state and page helpers (all Streamlit code lives here and in pages/)."""
