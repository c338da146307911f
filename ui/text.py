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

# CommonMark lets a backslash escape any ASCII punctuation. Escaped are the characters that can
# start markup on one line: images and links ([ ] ! < >), code and emphasis (` * ~, and _ at a
# word's edge: inside a word it is plain), LaTeX ($), Streamlit's shortcodes and colour directives
# and URL schemes (a colon followed by a character, as in :red[, :smile:, http://), bare-link
# starts (www.), and at the start of the text a heading, quote or list marker. Line breaks become
# spaces, so no block markup can start later in the text. Ordinary punctuation stays readable.
_ALWAYS = re.compile(r"([\\`*\[\]<>~$|!])")
_EDGE_UNDERSCORE = re.compile(r"(?<![A-Za-z0-9])_|_(?![A-Za-z0-9])")
_COLON = re.compile(r":(?=\S)")
_WWW = re.compile(r"(?i)\b(www)\.")
_LEADING = re.compile(r"^(\s*)([#>+\-=])")
_LEADING_NUMBER = re.compile(r"^(\s*\d+)([.)])")
_BREAKS = re.compile(r"[\r\n\t\f\v\u2028\u2029]+")


def escape_markdown(text: object) -> str:
    """``text`` with what could start Markdown escaped and line breaks made spaces."""
    out = _BREAKS.sub(" ", "" if text is None else str(text))
    out = _ALWAYS.sub(r"\\\1", out)
    out = _EDGE_UNDERSCORE.sub(r"\\_", out)
    out = _COLON.sub(r"\\:", out)
    out = _WWW.sub(r"\1\\.", out)
    out = _LEADING_NUMBER.sub(r"\1\\\2", out)
    return _LEADING.sub(r"\1\\\2", out)


def plain(text: object) -> str:
    """Short name for :func:`escape_markdown`, for f-strings: ``st.caption(f"by {plain(who)}")``."""
    return escape_markdown(text)
