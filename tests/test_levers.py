"""Scenario levers: parsing, validation messages, storage round trip, per-family vectors."""

import numpy as np
import pytest

from sop_core.errors import LeverError
from sop_core.plan.levers import (
    LEVERS,
    describe_levers,
    lever_vector,
    levers_from_json,
    levers_to_json,
    levers_to_strings,
    parse_lever,
    parse_levers,
    validate_levers,
)

FAMILIES = ["Gadgets", "Widgets"]
RESOURCES = ["Assembly", "Packing"]


@pytest.mark.parametrize(
    "item, expected",
    [
        ("price_change_pct=-3", (("price_change_pct", None), -3.0)),
        ("price_change_pct:Widgets=-3", (("price_change_pct", "Widgets"), -3.0)),
        (" volume_change_pct : Gadgets = 2.5 ", (("volume_change_pct", "Gadgets"), 2.5)),
        ("material_cost_change_pct=4%", (("material_cost_change_pct", None), 4.0)),
        ("capacity_change_pct:Assembly=20", (("capacity_change_pct", "Assembly"), 20.0)),
        ("headcount_change_fte:Packing=-2", (("headcount_change_fte", "Packing"), -2.0)),
        ("target_cover_days:Widgets=0", (("target_cover_days", "Widgets"), 0.0)),
        ("dso_days=45", (("dso_days", None), 45.0)),
        ("dpo_days=60", (("dpo_days", None), 60.0)),
        ("fixed_costs_change_pct=-100", (("fixed_costs_change_pct", None), -100.0)),
        ("fixed_costs_change_pct=1_000", (("fixed_costs_change_pct", None), 1000.0)),
    ],
)
def test_parse_lever(item, expected):
    assert parse_lever(item) == expected


@pytest.mark.parametrize(
    "item, message",
    [
        ("price_change_pct", 'Lever "price_change_pct" is not KEY[:QUALIFIER]=VALUE'),
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
    assert levers == {("price_change_pct", None): -5.0, ("dso_days", None): 40.0}
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
        "volume_change_pct",
        "material_cost_change_pct",
        "target_cover_days",
        "capacity_change_pct",
        "headcount_change_fte",
        "dso_days",
        "dpo_days",
        "fixed_costs_change_pct",
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
