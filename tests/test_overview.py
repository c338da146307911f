"""Actuals valued at list price, and the gaps between the stories: hand-computed."""

import pandas as pd
import pytest

from sop_core.views.overview import actuals_by_family, trailing_revenue

PRODUCTS = pd.DataFrame(
    {"sku": ["A", "B", "C"], "family": ["F1", "F1", "F2"], "unit_price": [10.0, 20.0, 5.0]}
)


def _actuals(n_months: int) -> pd.DataFrame:
    months = [f"2025-{m:02d}" for m in range(1, 13)] + [f"2026-{m:02d}" for m in range(1, 13)]
    rows = []
    for i, month in enumerate(months[:n_months]):
        rows += [(month, "A", 1.0 + i), (month, "B", 2.0), (month, "C", 4.0)]
    return pd.DataFrame(rows, columns=["month", "sku", "units"])


def test_actuals_by_family_values_at_list_price():
    out = actuals_by_family(PRODUCTS, _actuals(1))
    # F1: A 1 x 10 + B 2 x 20 = 50 ; F2: C 4 x 5 = 20
    assert out.to_dict("records") == [
        {"month": "2025-01", "family": "F1", "units": 3.0, "revenue": 50.0},
        {"month": "2025-01", "family": "F2", "units": 4.0, "revenue": 20.0},
    ]


def test_trailing_revenue_last_12_against_previous_12():
    out = trailing_revenue(PRODUCTS, _actuals(24), 12)
    # month i: A (1+i) x 10 + 40 + 20 = 70 + 10 i ; last 12: i = 12..23 -> 12*70 + 10*(12+...+23) = 840 + 2100
    assert out["revenue"] == 2940.0
    # previous 12: i = 0..11 -> 840 + 10*66 = 1500
    assert out["previous"] == 1500.0
    assert (out["first_month"], out["last_month"]) == ("2026-01", "2026-12")


def test_trailing_revenue_short_history_has_no_previous():
    out = trailing_revenue(PRODUCTS, _actuals(5), 12)
    assert out["previous"] is None
    assert out["revenue"] == sum(70 + 10 * i for i in range(5))


def test_trailing_revenue_counts_what_the_family_table_counts():
    products = pd.DataFrame(
        {
            "sku": ["A", "B", "C", "D"],
            "family": ["F1", "F1", "F2", None],  # D has no family: left out, as by family
            "unit_price": [10.0, 20.0, 5.0, 1000.0],
        }
    )
    actuals = pd.DataFrame(
        [
            ("2025-02", "A", 1.0),
            ("2025-02", "Z", 50.0),  # not a product: left out
            ("2025-02", "D", 3.0),
            ("2025-01", "B", 2.0),
            ("2025-01", "C", float("nan")),  # a missing figure adds nothing
            ("2025-03", "Z", 9.0),  # a month of only unknown skus is no month
        ],
        columns=["month", "sku", "units"],
    )
    out = trailing_revenue(products, actuals, 1)
    # months 2025-01 (B 2 x 20 = 40) and 2025-02 (A 1 x 10 = 10): the last is 2025-02
    assert out == {
        "revenue": 10.0,
        "previous": 40.0,
        "first_month": "2025-02",
        "last_month": "2025-02",
    }
    by_family = actuals_by_family(products, actuals).groupby("month")["revenue"].sum()
    assert by_family.to_dict() == {"2025-01": 40.0, "2025-02": 10.0}


def test_trailing_revenue_empty():
    empty = pd.DataFrame(columns=["month", "sku", "units"])
    assert trailing_revenue(PRODUCTS, empty)["revenue"] == 0.0


def test_story_gaps_of_the_hand_case():
    # test_engine's hand case: budget F1 Jan 1000, F1 Feb 1000, F2 Mar 820; no forecast bias.
    from test_engine import hand_plan

    from sop_core.views.alignment import story_gaps

    gaps = story_gaps(hand_plan())
    by = {p: g["value"].tolist() for p, g in gaps.groupby("panel")}
    # demand at plan prices against the budget's cells: F1 Jan 100 × 10 − 1000; F1 Feb 80 × 10
    # − 1000; F2 Mar 40 × 20 − 820
    assert by["Demand against the budget"] == pytest.approx([0, -200, -20])
    assert by["Sales lost to supply"] == pytest.approx([-200, 0, -40])  # B 10 × 20; A 4 × 10
    assert by["Hours asked beyond capacity"] == pytest.approx(
        [46, 24, 0]
    )  # Line 230 − 184; Team 96 − 72
    assert by["Cash against the minimum"] == pytest.approx([216, -102, 260])  # closing − 5,500
    assert by["Forecast against the baseline"] == pytest.approx([0, 0, 0])
    first = gaps.groupby("panel").head(1).set_index("panel")["note"]
    assert first["Sales lost to supply"] == "Line short of capacity Jan 2026: €200 of sales lost"
    assert first["Cash against the minimum"].startswith("Cash below the minimum Feb 2026")
