"""User text is shown as text: escaped for Markdown (ui/text.py), checked on every page with names,
reasons and authors that are Markdown images and links."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from sop_core.forecasting.consensus import set_consensus
from sop_core.meeting.decisions import add_decision
from sop_core.meeting.register import add_assumption, review_assumption
from sop_core.meeting.scenarios import save_scenario
from sop_core.plan.levers import parse_levers
from sop_core.plan.service import model_for_store
from sop_core.store.db import Store
from ui.text import escape_markdown

ROOT = Path(__file__).resolve().parent.parent
APP = str(ROOT / "app.py")
IMG = "![x](http://evil.example/{}.png)"
PAGES = [
    "pages/summary.py",
    "pages/assumptions.py",
    "pages/decisions.py",
    "pages/alignment.py",
    "pages/scenarios.py",
    "pages/demand.py",
    "pages/supply.py",
    "pages/finance.py",
    "pages/cycle.py",
    "pages/boardpack.py",
    "pages/data.py",
    "pages/audit.py",
]
# a Markdown image or link whose brackets are not escaped
LIVE = re.compile(r"(?<!\\)\]\((?:http|//)")


@pytest.mark.parametrize(
    "text, shown",
    [
        ("![x](http://e/x.png)", r"\!\[x\](http\://e/x.png)"),
        ("*bold* _it_ `code`", r"\*bold\* \_it\_ \`code\`"),
        (":red[alarm] $x$ :smile:", r"\:red\[alarm\] \$x\$ \:smile:"),
        ("line\n# heading", "line # heading"),
        ("# heading", r"\# heading"),
        ("- item", r"\- item"),
        ("12. item", r"12\. item"),
        ("<http://e>", r"\<http\://e\>"),
        ("see www.e.com", r"see www\.e.com"),
        # ordinary text stays as it is
        ("Press & Weld (North): 3.5 % less", "Press & Weld (North): 3.5 % less"),
        ("price_change_pct=-3", "price_change_pct=-3"),
        (None, ""),
    ],
)
def test_escape_markdown(text, shown):
    assert escape_markdown(text) == shown


@pytest.fixture(scope="module")
def hostile(demo_store_file, tmp_path_factory):
    """The demo company with a family, a product, the company name, a scenario, a consensus
    reason and author, an assumption and its reviewer, a decision, each a Markdown image."""
    path = tmp_path_factory.mktemp("markdown") / "demo.duckdb"
    shutil.copy(demo_store_file, path)
    family = IMG.format("family")
    with Store(path) as store:
        products = store.read_table("products")
        budget = store.read_table("budget")
        old = products["family"].iloc[0]
        products.loc[products["family"] == old, "family"] = family
        products.loc[products.index[0], "name"] = IMG.format("product")
        budget.loc[budget["family"] == old, "family"] = family
        settings = store.read_table("settings")
        settings = settings[settings["key"] != "company_name"]
        settings.loc[len(settings)] = ["company_name", IMG.format("company")]
        store.replace_tables(
            {"products": products, "budget": budget, "settings": settings},
            user=IMG.format("importer"),
            source="products.csv",
        )
        cycle = "2026-11"
        save_scenario(store, cycle, IMG.format("scenario"), parse_levers(["price_change_pct=-3"]),
                      author=IMG.format("author"), note=IMG.format("note"))  # fmt: skip
        set_consensus(store, model_for_store(store), family, "statistical",
                      reason=IMG.format("reason"), user=IMG.format("consensus"),
                      expected_version=None)  # fmt: skip
        aid = add_assumption(store, cycle, name=IMG.format("assumption"), value="5",
                             owner=IMG.format("owner"), user=IMG.format("adder"))  # fmt: skip
        review_assumption(store, aid, 1, user=IMG.format("reviewer"))
        add_decision(store, cycle, decision=IMG.format("decision"), owner=IMG.format("downer"),
                     due="2026-12-01", user=IMG.format("decider"))  # fmt: skip
    return path


def _texts(at: AppTest) -> list[str]:
    """Every string on the page that Streamlit renders as Markdown."""
    out: list[str] = []
    for kind in ("markdown", "caption", "info", "warning", "error", "success", "title",
                 "header", "subheader", "exception", "toast"):  # fmt: skip
        out += [str(e.value) for e in getattr(at, kind, [])]
    for kind in ("metric", "expander", "tabs", "button", "checkbox", "radio", "selectbox",
                 "multiselect", "text_input", "number_input", "toggle", "text_area"):  # fmt: skip
        out += [str(getattr(e, "label", "")) for e in getattr(at, kind, [])]
    out += [str(getattr(e, "help", "") or "") for e in at.metric]
    return out


@pytest.mark.parametrize("page", PAGES)
def test_no_stored_text_is_rendered_as_markdown(hostile, page, monkeypatch):
    monkeypatch.setenv("SOP_DB", str(hostile))
    at = AppTest.from_file(APP, default_timeout=180)
    at.session_state["user"] = IMG.format("visitor")
    at.run()
    at.switch_page(page)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    live = [t for t in _texts(at) if LIVE.search(t)]
    assert live == [], f"{page}: {live[:5]}"
