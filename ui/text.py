"""Text a user typed or imported, shown as text: escaped for Streamlit's Markdown.

``st.markdown``, ``st.caption``, ``st.info``/``warning``/``error``/``success``, titles, metric and
widget labels all read Markdown: a company name ``![](http://…/x.png)`` would load a remote image
for every viewer, ``[x](http://…)`` would be a link, ``:red[…]`` a colour, ``$…$`` LaTeX. Every
piece of stored or typed text goes through :func:`plain` before it is put in such a string
(tables, ``st.dataframe``, do not interpret Markdown and need nothing).
"""

from __future__ import annotations

import re

__all__ = ["plain", "escape_markdown"]

# CommonMark lets a backslash escape any ASCII punctuation; these are the ones Markdown, GitHub
# extensions, Streamlit's directives (:red[…], :material/…:) and LaTeX ($) give a meaning to.
_SPECIAL = re.compile(r"([\\`*_{}\[\]()<>#+\-.!|~$:=&\"'])")
_BREAKS = re.compile(r"[\r\n\t\f\v\u2028\u2029]+")


def escape_markdown(text: object) -> str:
    """``text`` with every Markdown-significant character escaped and line breaks made spaces."""
    return _SPECIAL.sub(r"\\\1", _BREAKS.sub(" ", "" if text is None else str(text)))


def plain(text: object) -> str:
    """Short name for :func:`escape_markdown`, for f-strings: ``st.caption(f"by {plain(who)}")``."""
    return escape_markdown(text)
