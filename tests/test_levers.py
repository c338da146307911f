"""Scenario levers: parsing, validation messages, storage round trip, per-family vectors."""

import numpy as np
import pytest

from sop_core.errors import LeverError
from sop_core.plan.levers import (
    LEVERS,
    Window,
    describe_levers,
    fit_windows,
    lever_series,
    lever_values,
    lever_vector,
    levers_from_json,
    levers_to_json,
    levers_to_strings,
    parse_lever,
    parse_levers,
    validate_levers,
    window_slice,
)

FAMILIES = ["Gadgets", "Widgets"]
RESOURCES = ["Assembly", "Packing"]


@pytest.mark.parametrize(
    "item, expected",
    [
        ("price_change_pct=-3", (("price_change_pct", None, None), -3.0)),
        ("price_change_pct:Widgets=-3", (("price_change_pct", "Widgets", None), -3.0)),
        (" volume_change_pct : Gadgets = 2.5 ", (("volume_change_pct", "Gadgets", None), 2.5)),
        ("material_cost_change_pct=4%", (("material_cost_change_pct", None, None), 4.0)),
        ("capacity_change_pct:Assembly=20", (("capacity_change_pct", "Assembly", None), 20.0)),
        ("headcount_change_fte:Packing=-2", (("headcount_change_fte", "Packing", None), -2.0)),
        ("target_cover_days:Widgets=0", (("target_cover_days", "Widgets", None), 0.0)),
        ("dso_days=45", (("dso_days", None, None), 45.0)),
        ("dpo_days=60", (("dpo_days", None, None), 60.0)),
        ("fixed_costs_change_pct=-100", (("fixed_costs_change_pct", None, None), -100.0)),
        ("fixed_costs_change_pct=1_000", (("fixed_costs_change_pct", None, None), 1000.0)),
    ],
)
def test_parse_lever(item, expected):
    assert parse_lever(item) == expected


@pytest.mark.parametrize(
    "item, message",
    [
        ("price_change_pct", 'Lever "price_change_pct" is not KEY[:QUALIFIER][@FROM[..TO]]=VALUE'),
        (
            "prise_change_pct=3",
            'Unknown lever "prise_change_pct" in "prise_change_pct=3". Did you mean "price_change_pct"?',
        ),
        ("colour=3", 'Unknown lever "colour" in "colour=3". Known levers: price_change_pct,'),
        (
            "dso_days:Widgets=40",
            'Lever "dso_days" takes no qualifier (got ":Widgets" in "dso_days:Widgets=40"); use dso_days=VALUE.',
        ),
        ("fixed_costs_change_pct:Assembly=5", 'Lever "fixed_costs_change_pct" takes no qualifier'),
        ("price_change_pct:=3", 'Lever "price_change_pct:=3": the family after ":" is empty.'),
        (
            "price_change_pct=abc",
            'Lever "price_change_pct": "abc" is not a number (expected %, e.g. price_change_pct=5).',
        ),
        ("dso_days=", 'Lever "dso_days": "" is not a number (expected days, e.g. dso_days=5).'),
        ("dso_days=nan", 'Lever "dso_days": "nan" is not a finite number.'),
        (
            "price_change_pct=-120",
            'Lever "price_change_pct": -120 is below -100 (a price cannot fall by more than 100 %).',
        ),
        (
            "volume_change_pct=-101",
            'Lever "volume_change_pct": -101 is below -100 (demand cannot fall by more than 100 %).',
        ),
        (
            "material_cost_change_pct=-150",
            'Lever "material_cost_change_pct": -150 is below -100 (a cost cannot fall',
        ),
        (
            "capacity_change_pct:Assembly=-100.5",
            'Lever "capacity_change_pct:Assembly": -100.5 is below -100 (capacity cannot fall',
        ),
        ("fixed_costs_change_pct=-200", 'Lever "fixed_costs_change_pct": -200 is below -100'),
        ("dso_days=-5", 'Lever "dso_days": -5 is below 0 (days cannot be negative).'),
        ("dpo_days=-1", 'Lever "dpo_days": -1 is below 0 (days cannot be negative).'),
        (
            "target_cover_days=-3",
            'Lever "target_cover_days": -3 is below 0 (days cannot be negative).',
        ),
        (
            "price_change_pct=5000",
            'Lever "price_change_pct": 5000 is above 1000 %, which looks like a typing error.',
        ),
        (
            "dso_days=400",
            'Lever "dso_days": 400 is above 365 days, which looks like a typing error.',
        ),
        ("headcount_change_fte=20000", 'Lever "headcount_change_fte": 20000 is above 10000 FTE'),
    ],
)
def test_parse_lever_errors(item, message):
    with pytest.raises(LeverError) as err:
        parse_lever(item)
    assert str(err.value).startswith(message), str(err.value)
    assert "\n" not in str(err.value)


def test_parse_levers_later_item_wins_and_keeps_others():
    levers = parse_levers(["price_change_pct=-3", "dso_days=40", "price_change_pct=-5"])
    assert levers == {("price_change_pct", None, None): -5.0, ("dso_days", None, None): 40.0}
    assert parse_levers([]) == {} and parse_levers(None) == {}


@pytest.mark.parametrize(
    "item, message",
    [
        (
            "price_change_pct:Gizmos=-3",
            'Lever "price_change_pct:Gizmos": unknown family "Gizmos". (known families',
        ),
        (
            "price_change_pct:widgets=-3",
            'Lever "price_change_pct:widgets": unknown family "widgets". Did you mean "Widgets"?',
        ),
        (
            "capacity_change_pct:Widgets=10",
            'Lever "capacity_change_pct:Widgets": unknown resource "Widgets". (known resources: Assembly, Packing).',
        ),
        (
            "headcount_change_fte:Paint=1",
            'Lever "headcount_change_fte:Paint": unknown resource "Paint".',
        ),
    ],
)
def test_validate_levers_unknown_qualifier(item, message):
    with pytest.raises(LeverError) as err:
        validate_levers(parse_levers([item]), FAMILIES, RESOURCES)
    assert str(err.value).startswith(message), str(err.value)


def test_validate_levers_lists_known_families():
    with pytest.raises(LeverError, match=r"known families: Gadgets, Widgets"):
        validate_levers(parse_levers(["volume_change_pct:X=1"]), FAMILIES, RESOURCES)


def test_validate_levers_no_resources_in_data():
    with pytest.raises(LeverError, match="there are no resources in the data"):
        validate_levers(parse_levers(["capacity_change_pct:A=1"]), FAMILIES, [])


def test_validate_levers_checks_hand_built_dicts():
    with pytest.raises(LeverError, match="is below -100"):
        validate_levers({("price_change_pct", None): -150.0}, FAMILIES, RESOURCES)
    with pytest.raises(LeverError, match='Unknown lever "nope"'):
        validate_levers({("nope", None): 1.0}, FAMILIES, RESOURCES)
    ok = parse_levers(["price_change_pct:Widgets=-3", "dso_days=30"])
    assert validate_levers(ok, FAMILIES, RESOURCES) is ok


def test_strings_and_json_round_trip():
    levers = parse_levers(
        [
            "dso_days=45",
            "price_change_pct:Widgets=-2.5",
            "price_change_pct=-3",
            "capacity_change_pct:Assembly=20",
        ]
    )
    strings = levers_to_strings(levers)
    assert strings == [
        "price_change_pct=-3",
        "price_change_pct:Widgets=-2.5",
        "capacity_change_pct:Assembly=20",
        "dso_days=45",
    ]
    assert levers_from_json(levers_to_json(levers)) == levers
    assert levers_from_json("") == {} and levers_from_json(None) == {}


@pytest.mark.parametrize(
    "text, message",
    [
        ("{not json", "are not a JSON list"),
        ('{"a": 1}', "are not a JSON list of strings"),
        ("[1, 2]", "are not a JSON list of strings"),
        ('["bogus=1"]', 'Unknown lever "bogus"'),
    ],
)
def test_levers_from_json_errors(text, message):
    with pytest.raises(LeverError, match=message):
        levers_from_json(text)


def test_lever_vector_qualified_overrides_unqualified():
    levers = parse_levers(["price_change_pct=-3", "price_change_pct:Widgets=5"])
    assert lever_vector(levers, "price_change_pct", ["Gadgets", "Widgets", "Toys"]).tolist() == [
        -3.0,
        5.0,
        -3.0,
    ]
    only = parse_levers(["price_change_pct:Widgets=5"])
    assert lever_vector(only, "price_change_pct", FAMILIES).tolist() == [0.0, 5.0]
    cover = lever_vector(
        parse_levers(["target_cover_days:Gadgets=10"]), "target_cover_days", FAMILIES, np.nan
    )
    assert cover[0] == 10.0 and np.isnan(cover[1])
    assert lever_vector(None, "price_change_pct", FAMILIES).tolist() == [0.0, 0.0]


def test_spec_table_is_complete():
    assert list(LEVERS) == [
        "price_change_pct",
        "price_elasticity",
        "volume_change_pct",
        "material_cost_change_pct",
        "target_cover_days",
        "capacity_change_pct",
        "headcount_change_fte",
        "dso_days",
        "dpo_days",
        "fixed_costs_change_pct",
        "allocation",
    ]
    qualifiers = {n: s.qualifier for n, s in LEVERS.items()}
    assert (
        qualifiers["price_change_pct"] == "family"
        and qualifiers["capacity_change_pct"] == "resource"
    )
    assert qualifiers["dso_days"] is None
    for spec in LEVERS.values():
        assert spec.label.endswith(")") and spec.min < spec.max


@pytest.mark.parametrize(
    ("items", "sentences"),
    [
        ([], []),
        (["price_change_pct=-3"], ["Price −3 % on all families"]),
        (["headcount_change_fte:Press & Weld=6"], ["Headcount +6 FTE on Press & Weld"]),
        (
            ["dso_days=45", "volume_change_pct:Towel Rails=5", "price_change_pct:F1=-2.5"],
            [
                "Price −2.5 % on F1",
                "Volume +5 % on Towel Rails",
                "Customer payment terms (DSO) 45 days",
            ],
        ),
        (
            ["target_cover_days:F1=30", "fixed_costs_change_pct=0"],
            ["Target stock cover 30 days on F1", "Fixed costs 0 %"],
        ),
    ],
)
def test_levers_read_as_sentences_in_the_app_and_the_board_pack(items, sentences):
    assert describe_levers(parse_levers(items)) == sentences


# --- time windows, elasticity, allocation --------------------------------------------------------

MONTHS = ["2027-01", "2027-02", "2027-03", "2027-04", "2027-05"]


@pytest.mark.parametrize(
    "item, key, value",
    [
        (
            "headcount_change_fte:Press & Weld@2027-09=3",
            ("headcount_change_fte", "Press & Weld", ("2027-09", None)),
            3.0,
        ),
        (
            "price_change_pct:Widgets@2027-03..2027-06=2",
            ("price_change_pct", "Widgets", ("2027-03", "2027-06")),
            2.0,
        ),
        ("dso_days@2027-02=60", ("dso_days", None, ("2027-02", None)), 60.0),
        ("dso_days @ 2027-02 .. 2027-02 = 60", ("dso_days", None, ("2027-02", "2027-02")), 60.0),
        ("price_change_pct@2027-03-01=1", ("price_change_pct", None, ("2027-03", None)), 1.0),
        # an "@" that does not start a month belongs to the family's name
        ("volume_change_pct:Parts@Home=5", ("volume_change_pct", "Parts@Home", None), 5.0),
        ("price_elasticity:Widgets=-1.5", ("price_elasticity", "Widgets", None), -1.5),
        ("allocation=margin", ("allocation", None, None), 1.0),
        ("allocation=pro_rata", ("allocation", None, None), 0.0),
        ("allocation@2027-02=Margin", ("allocation", None, ("2027-02", None)), 1.0),
    ],
)
def test_parse_windows_elasticity_allocation(item, key, value):
    parsed_key, parsed_value = parse_lever(item)
    assert parsed_key == key and parsed_value == value
    # and back to the same text (stored in saved scenarios as such strings)
    assert parse_lever(levers_to_strings({parsed_key: parsed_value})[0]) == (parsed_key, value)


@pytest.mark.parametrize(
    "item, message",
    [
        (
            "price_change_pct@2027-06..2027-03=2",
            'Lever "price_change_pct@2027-06..2027-03": the window starts 2027-06, after it ends '
            "2027-03 (FROM..TO).",
        ),
        ("dso_days@2027-13=5", 'Lever "dso_days@2027-13": window month "2027-13" has month 13'),
        (
            "dso_days@soon=5",
            'Lever "dso_days@soon": window month "soon" is not a month (expected YYYY-MM',
        ),
        ("dso_days@2027-01..=5", 'Lever "dso_days@2027-01..": window "2027-01.." is not FROM'),
        (
            "price_elasticity=-12",
            'Lever "price_elasticity": -12 is below -10 (an elasticity beyond ±10 is not a demand '
            "response).",
        ),
        (
            "price_elasticity:Widgets=10.5",
            'Lever "price_elasticity:Widgets": 10.5 is above 10 (an elasticity beyond ±10',
        ),
        ("allocation=best", 'Lever "allocation": "best" is not one of pro_rata, margin'),
        ("allocation:Widgets=margin", 'Lever "allocation" takes no qualifier'),
    ],
)
def test_bad_windows_elasticity_allocation(item, message):
    with pytest.raises(LeverError) as err:
        parse_lever(item)
    assert str(err.value).startswith(message), str(err.value)
    assert "\n" not in str(err.value)


@pytest.mark.parametrize(
    "items, message",
    [
        (
            ["dso_days@2026-12=40"],
            'Lever "dso_days@2026-12": the window starts 2026-12, outside the plan horizon '
            "2027-01..2027-05.",
        ),
        (
            ["price_change_pct:Widgets@2027-02..2027-08=1"],
            "the window ends 2027-08, outside the plan horizon 2027-01..2027-05",
        ),
        (
            ["dso_days@2027-01..2027-03=40", "dso_days@2027-03=50"],
            'Levers "dso_days@2027-01..2027-03" and "dso_days@2027-03" overlap',
        ),
    ],
)
def test_validate_windows_against_the_horizon(items, message):
    with pytest.raises(LeverError) as err:
        validate_levers(parse_levers(items), FAMILIES, RESOURCES, MONTHS)
    assert message in str(err.value)


def test_windows_of_one_lever_may_follow_each_other_and_sit_on_an_unwindowed_one():
    levers = parse_levers(["dso_days=45", "dso_days@2027-01..2027-02=40", "dso_days@2027-03=60"])
    assert validate_levers(levers, FAMILIES, RESOURCES, MONTHS) is levers


def test_lever_values_month_by_month():
    # everywhere −3 all months; everywhere −5 from Mar; Widgets +5 all months; Widgets +8 in Apr
    levers = parse_levers(
        [
            "price_change_pct=-3",
            "price_change_pct@2027-03=-5",
            "price_change_pct:Widgets=5",
            "price_change_pct:Widgets@2027-04..2027-04=8",
        ]
    )
    values = lever_values(levers, "price_change_pct", ["Gadgets", "Widgets"], MONTHS)
    assert values.tolist() == [[-3, 5], [-3, 5], [-5, 5], [-5, 8], [-5, 5]]
    # the qualified lever beats the unqualified one in a month, windowed or not
    only_window = parse_levers(["capacity_change_pct:Assembly@2027-02..2027-03=10"])
    assert lever_values(only_window, "capacity_change_pct", RESOURCES, MONTHS).tolist() == [
        [0, 0],
        [10, 0],
        [10, 0],
        [0, 0],
        [0, 0],
    ]
    # no window: one row, as before (the fast path)
    flat = lever_values(parse_levers(["price_change_pct=2"]), "price_change_pct", FAMILIES, MONTHS)
    assert flat.shape == (2,) and flat.tolist() == [2, 2]
    assert lever_series(parse_levers(["dso_days@2027-04=60"]), "dso_days", MONTHS, 45).tolist() == [
        45,
        45,
        45,
        60,
        60,
    ]
    assert lever_series({}, "dso_days", MONTHS, 45) == 45


def test_window_slice_clips_to_the_months():
    assert window_slice(Window("2027-02", "2027-03"), MONTHS) == slice(1, 3)
    assert window_slice(Window("2027-04"), MONTHS) == slice(3, 5)
    assert window_slice(Window("2026-06", "2027-01"), MONTHS) == slice(0, 1)
    assert window_slice(None, MONTHS) == slice(0, 5)


def test_fit_windows_clips_or_drops_and_says_so():
    levers = parse_levers(
        ["dso_days@2026-11..2027-02=40", "price_change_pct@2027-08=3", "volume_change_pct=5"]
    )
    kept, notes = fit_windows(levers, MONTHS)
    assert kept == {
        ("dso_days", None, ("2027-01", "2027-02")): 40.0,
        ("volume_change_pct", None, None): 5.0,
    }
    assert notes == [
        "dso_days@2026-11..2027-02=40 (window clipped to the horizon: dso_days@2027-01..2027-02)",
        "price_change_pct@2027-08=3 (its window is outside the horizon 2027-01..2027-05)",
    ]


@pytest.mark.parametrize(
    ("items", "sentences"),
    [
        (
            ["headcount_change_fte:Press & Weld@2027-09=3"],
            ["Headcount +3 FTE on Press & Weld from Sep 2027"],
        ),
        (
            ["price_change_pct:Panel Radiators@2027-03..2027-06=2"],
            ["Price +2 % on Panel Radiators from Mar 2027 to Jun 2027"],
        ),
        (["dso_days@2027-04..2027-04=60"], ["Customer payment terms (DSO) 60 days in Apr 2027"]),
        (["price_elasticity:Towel Rails=-1.2"], ["Price elasticity −1.2 on Towel Rails"]),
        (["allocation=margin"], ["Capacity allocation by margin"]),
        (["allocation@2027-02=pro_rata"], ["Capacity allocation pro rata from Feb 2027"]),
    ],
)
def test_windowed_and_new_levers_read_as_sentences(items, sentences):
    assert describe_levers(parse_levers(items)) == sentences


def test_saved_json_with_windows_round_trips():
    levers = parse_levers(
        ["headcount_change_fte:Press & Weld@2027-09=3", "allocation=margin", "dso_days=40"]
    )
    text = levers_to_json(levers)
    assert text == (
        '["headcount_change_fte:Press & Weld@2027-09=3", "dso_days=40", "allocation=margin"]'
    )
    assert levers_from_json(text) == levers
