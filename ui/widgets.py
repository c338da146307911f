"""Small rendering helpers shared by the pages: headline tiles and the disagreement table."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from sop_core import fmt
from sop_core.months import month_label
from sop_core.views.alignment import REVIEW_PAGE, TYPE_LABELS, story_texts
from ui.text import plain

__all__ = [
    "agenda_rows",
    "disagreement_table",
    "headline_metric",
    "headline_metrics",
    "page_link_url",
    "notice",
    "delta",
    "views",
]


def views(label: str, options, key: str):
    """Which of a page's views to draw: a row of buttons, one always chosen (the first at
    first). Not ``st.tabs``: tabs measure themselves after every redraw of the page, which
    doubled the browser's work for each what-if lever change (docs/SCENARIOS.md)."""
    st.session_state.setdefault(key, options[0])
    return st.segmented_control(
        label, options, key=key, required=True, label_visibility="collapsed"
    )


def page_link_url(page: str, family: str | None = None, cycle: str | None = None) -> str:
    """A relative link to a page that keeps the cycle and family in the URL."""
    params = []
    if cycle:
        params.append(f"cycle={cycle}")
    if family:
        params.append(f"family={family.replace(' ', '+').replace('&', '%26')}")
    return f"/{page}" + ("?" + "&".join(params) if params else "")


def disagreement_table(
    dis: pd.DataFrame, currency: str, *, key: str, cycle: str | None = None, height="auto"
) -> None:
    """Disagreements as a readable table: what, where, the two stories, gap, money, severity,
    owner, link. Money in brackets is shown, not counted again (another row carries it)."""
    if dis.empty:
        st.success("No disagreements here: the three stories agree within tolerance.")
        return
    one, other, gap = story_texts(dis, currency)
    # what, where, the money, who and where to resolve it first: in sight at 1280 px; the
    # stories and the gap follow
    view = pd.DataFrame(
        {
            "month": [month_label(m) for m in dis["month"]],
            "what": dis["type"].map(TYPE_LABELS).fillna(dis["type"]),
            "where": dis["entity"],
            "money at stake": [
                _stake(v, counted, status, currency)
                for v, counted, status in zip(
                    dis["money_at_stake"], dis["counted"], dis["status"], strict=True
                )
            ],
            "owner": dis["owner"],
            "resolve in": [
                page_link_url(
                    REVIEW_PAGE.get(r, "alignment"), f if isinstance(f, str) else None, cycle
                )
                for r, f in zip(dis["review"], dis["family"], strict=True)
            ],
            "severity": dis["severity"],
            "one story": one,
            "the other": other,
            "gap": gap,
        }
    )
    st.dataframe(
        view,
        hide_index=True,
        key=key,
        height=height,
        column_config={
            "resolve in": st.column_config.LinkColumn("resolve in", display_text=r"/(\w+)"),
            "severity": st.column_config.TextColumn("severity"),
        },
    )


def _stake(money: float, counted: bool, status: str, currency: str) -> str:
    """Money at stake as a row shows it: in brackets when another row already counts it."""
    if status == "resolved":
        return "resolved"
    text = fmt.money(money, currency)
    return text if counted or money < 0.5 else f"({text})"


# The page a root cause is resolved on: its file and its title in the navigation.
PAGE_FILES = {
    "demand": ("pages/demand.py", "Demand review"),
    "supply": ("pages/supply.py", "Supply review"),
    "finance": ("pages/finance.py", "Finance"),
    "assumptions": ("pages/assumptions.py", "Assumptions"),
    "alignment": ("pages/alignment.py", "Alignment"),
}


def _narrow_to(family: str | None) -> None:
    """Before the page it opens draws the sidebar: the family the root cause is about."""
    if family:
        st.session_state["family"] = family


def agenda_rows(items: pd.DataFrame, currency: str, *, key: str) -> None:
    """The meeting's agenda (``views.agenda``) as rows a projector shows whole: the root cause
    in words (wrapped, never cut), its owner and the scenarios that help, the money at stake, and
    a button to the review that resolves it (narrowed to the root cause's family)."""
    for i, row in enumerate(items.itertuples(index=False)):
        with st.container(border=True, key=f"{key}_{i}"):
            text, money, go = st.columns([6, 1.5, 1.9], vertical_alignment="center")
            text.markdown(f"**{plain(row.title)}**")
            detail = f"Owner: {plain(row.owner)}"
            if row.scenarios:
                detail += f" · scenarios that help: {plain(row.scenarios)}"
            text.caption(detail)
            money.metric("At stake", fmt.money(row.money_at_stake, currency))
            path, title = PAGE_FILES.get(row.page, PAGE_FILES["alignment"])
            family = row.family if isinstance(row.family, str) else None
            if go.button(
                title,
                key=f"{key}_go_{i}",
                icon=":material/arrow_forward:",
                icon_position="right",
                on_click=_narrow_to,
                args=(family,),
                width="stretch",
            ):
                st.switch_page(path)


def notice(message: str) -> None:
    """A panel that cannot compute says so; the rest of the page goes on."""
    st.warning(message, icon=":material/info:")


def delta(text: str | None) -> str | None:
    """A metric delta: st.metric reads the sign from a leading ASCII '-', so the typographic minus becomes one."""
    if text is None:
        return None
    return "-" + text[1:] if text.startswith("−") else text


def headline_metrics(figures, *, columns: int = 4, key: str) -> None:
    """Headline figures (``views.headline``) as metric cards, ``columns`` to a row: the label,
    the value, the line under it (a month, a comparison), the formula in the help."""
    for start in range(0, len(figures), columns):
        row = st.columns(columns)
        for col, h in zip(row, figures[start : start + columns], strict=False):
            headline_metric(col, h)


def headline_metric(box, h) -> None:
    """One headline figure as a metric card in ``box`` (a column or container)."""
    box.metric(
        h.label,
        h.text,
        h.note,
        delta_color="off",
        delta_arrow="off",
        help=h.help or None,
        border=True,
    )
