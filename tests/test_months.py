"""Month labels: is_month accepts exactly the app's YYYY-MM."""

import pytest

from sop_core.months import is_month


@pytest.mark.parametrize(
    "text, expected",
    [
        ("2026-11", True),
        ("1999-01", True),
        ("2026-13", False),  # no such month
        ("2026-11-01", False),  # parse_month accepts it, but it is not written as a month
        ("Total", False),
        ("", False),
        ("26-11", False),
    ],
)
def test_is_month(text, expected):
    assert is_month(text) is expected
