"""sop_core.codes: where each value of a long column sits in an index."""

import numpy as np
import pandas as pd
import pytest

from sop_core import codes


@pytest.mark.parametrize("dtype", ["str", object])
def test_positions_place_each_value_and_give_minus_one_for_absent_or_missing(dtype):
    index = pd.Index(["B", "A", "C"], dtype=object)
    column = pd.Series(["A", "C", None, "Z", "A"], dtype=dtype)
    assert codes.positions(index, column, month=False).tolist() == [1, 2, -1, -1, 1]


def test_positions_of_months_place_a_date_by_its_month():
    months = pd.Index(["2026-01", "2026-02"], dtype=object)
    column = pd.Series(["2026-02-01", "2026-01", "2025-12", "2026-02"], dtype="str")
    assert codes.positions(months, column, month=True).tolist() == [1, 0, -1, 1]


def test_rows_in_marks_the_rows_holding_a_wanted_value():
    cycles = pd.Series(["2026-01", "2025-12-01", "2026-01-15", None], dtype="str")
    assert codes.rows_in(cycles, ["2026-01"], month=True).tolist() == [True, False, True, False]
    sources = pd.Series(["sales", "marketing", "consensus"], dtype="str")
    assert codes.rows_in(sources, ["consensus", "sales"]).tolist() == [True, False, True]


def test_a_large_columns_codes_are_kept_while_it_lives(monkeypatch):
    monkeypatch.setattr(codes, "MEMO_ROWS", 3)
    column = pd.Series(["x", "y", "x", "z"], dtype="str")
    first = codes.factorized(column)
    again = codes.factorized(column)
    assert again[0] is first[0]  # the same codes, not worked out again
    assert first[0].tolist() == [0, 1, 0, 2] and list(first[1]) == ["x", "y", "z"]
    small = pd.Series(["x", "y"], dtype="str")  # below MEMO_ROWS: not kept
    assert codes.factorized(small)[0] is not codes.factorized(small)[0]
    assert np.array_equal(codes.factorized(small)[0], [0, 1])


@pytest.mark.parametrize("memo_rows", [3, 1_000])  # through Arrow, and through pandas
def test_take_rows_gives_the_rows_asked_for_numbered_from_zero(monkeypatch, memo_rows):
    monkeypatch.setattr(codes, "MEMO_ROWS", memo_rows)
    frame = pd.DataFrame(
        {"sku": pd.array(["a", "b", None, "d"], dtype="str"), "units": [1.0, np.nan, 3.0, 4.0]},
        index=[10, 11, 12, 13],
    )
    taken = codes.take_rows(frame, np.array([False, True, True, False]), ["sku", "units"])
    assert taken.index.tolist() == [0, 1]
    assert taken["sku"].tolist()[0] == "b" and pd.isna(taken["sku"].tolist()[1])
    assert np.isnan(taken["units"].iloc[0]) and taken["units"].iloc[1] == 3.0
    assert str(taken["sku"].dtype) == str(frame["sku"].dtype)


def test_a_kept_value_lives_as_long_as_its_objects():
    import gc

    class Big:  # any object with weak references
        pass

    kept = codes.Kept()
    a, b = Big(), Big()
    kept.keep((a, b), "value", extra=("2026-01",))
    assert kept.get((a, b), ("2026-01",)) == "value"
    assert kept.get((a, b), ("2026-02",)) is None  # another key
    assert kept.get((b, a), ("2026-01",)) is None
    del b
    gc.collect()
    assert kept._values == {}  # forgotten with one of its objects
    kept.keep((1,), "not kept")  # an int has no weak references
    assert kept.get((1,)) is None
