"""Money and percentage formatting as a leadership team reads it."""

import math

import pytest

from sop_core import fmt


@pytest.mark.parametrize(
    ("value", "currency", "expected"),
    [
        (1_234_567, "GBP", "£1.2m"),
        (340_000, "GBP", "£340k"),
        (340_499, "GBP", "£340k"),
        (950, "GBP", "£950"),
        (-45_000, "GBP", "−£45k"),
        (2_500_000_000, "EUR", "€2.5bn"),
        (12_000, "USD", "$12k"),
        (12_000, "SEK", "SEK 12k"),
        (None, "GBP", "—"),
        (math.nan, "GBP", "—"),
    ],
)
def test_money(value, currency, expected):
    assert fmt.money(value, currency) == expected


@pytest.mark.parametrize(
    ("value", "expected"), [(250_000, "+£250k"), (-1_500_000, "−£1.5m"), (0, "+£0")]
)
def test_signed_money(value, expected):
    assert fmt.signed_money(value) == expected


@pytest.mark.parametrize(
    ("value", "signed", "expected"),
    [(34.56, False, "34.6 %"), (-3.04, True, "−3.0 %"), (2.0, True, "+2.0 %"), (None, False, "—")],
)
def test_pct(value, signed, expected):
    assert fmt.pct(value, signed=signed) == expected


def test_money_full_and_units():
    assert fmt.money_full(1234567.4) == "£1,234,567"
    assert fmt.money_full(-1000, "EUR") == "−€1,000"
    assert fmt.units(12345.6) == "12,346"
    assert fmt.units(1234.4, signed=True) == "+1,234" and fmt.units(-5, signed=True) == "−5"
    assert fmt.units(0.2, signed=True) == "0"  # rounds to nothing: no sign


@pytest.mark.parametrize(
    ("value", "unit", "signed", "expected"),
    [
        (345551.1, "GBP", True, "+£346k"),
        (-345551.1, "GBP", True, "−£346k"),
        (12.34, "%", False, "12.3 %"),
        (3861.76, "hours", True, "+3,862 hours"),
        (4.25, "FTE", False, "4.2 FTE"),
        (-2.5, "FTE", True, "−2.5 FTE"),
    ],
)
def test_in_unit(value, unit, signed, expected):
    assert fmt.in_unit(value, unit, "GBP", signed=signed) == expected
