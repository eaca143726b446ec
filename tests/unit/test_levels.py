"""Level helpers: parse/format level lists, the SDK scale rule, validation."""
from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from plugin.core.errors import InvalidRequestError
from plugin.core.levels import (
    format_levels,
    levels_between_scales,
    levels_by_resolution,
    parse_levels,
    validate_levels,
)
from plugin.core.tiling import LOD, TilingScheme

S0 = 591657527.591555
R0 = 156543.03392800014
WM = TilingScheme(-20037508.342787, 20037508.342787, 256, 256,
                  tuple(LOD(z, R0 / 2**z, S0 / 2**z) for z in range(20)))


@pytest.mark.parametrize(("text", "expected"), [
    ("0-5,7, 9 - 11", [0, 1, 2, 3, 4, 5, 7, 9, 10, 11]),
    ("3", [3]),
    ("5-3", [3, 4, 5]),
    ("1 2  3", [1, 2, 3]),
    ("1;2,,3", [1, 2, 3]),
    ("0\u20132", [0, 1, 2]),
    ("2,1,2,0-1", [0, 1, 2]),
    (" 7 ", [7]),
])
def test_parse_levels(text, expected):
    assert parse_levels(text) == expected


@pytest.mark.parametrize(("text", "fragment"), [
    ("", "no levels"), (" , ", "no levels"), ("a", "'a'"), ("1-", "'1-'"), ("-1", "'-1'"), ("1.5", "'1.5'"),
    ("0-5,x7", "'x7'"), ("3-4-5", "'3-4-5'"), ("0-999", "level 999 is out of range"),
])
def test_parse_levels_rejects_garbage_with_the_offending_part(text, fragment):
    with pytest.raises(InvalidRequestError, match="is not a level or a range|no levels|out of range") as info:
        parse_levels(text)
    assert fragment in str(info.value)


def test_parse_levels_needs_text():
    with pytest.raises(InvalidRequestError):
        parse_levels([1, 2])  # type: ignore[arg-type]


@pytest.mark.parametrize(("levels", "text"), [
    ([0, 1, 2, 3, 4, 5, 7, 9, 10, 11], "0-5,7,9-11"), ([], ""), ([4], "4"), ([2, 1], "1-2"), ([5, 5, 3], "3,5"),
    ([5, 0, 1, 2, 7, 8], "0-2,5,7-8"),
])
def test_format_levels(levels, text):
    assert format_levels(levels) == text


@given(st.sets(st.integers(0, 40)))
def test_format_then_parse_round_trips(levels):
    if levels:
        assert parse_levels(format_levels(levels)) == sorted(levels)


@pytest.mark.parametrize(("min_scale", "max_scale", "expected"), [
    (0, 0, list(range(20))),
    (None, None, list(range(20))),
    (1_000_000, 5_000, list(range(9, 18))),  # between 9|10 -> coarser 9; between 16|17 -> finer 17
    (S0 / 2**5, S0 / 2**8, [5, 6, 7, 8]),  # exact scales
    (577790, 0, list(range(10, 20))),  # 1:577790 is Esri's 577790.554289 (level 10) within tolerance
    (1e12, 0, list(range(20))),  # coarser than level 0
    (0, 1.0, list(range(20))),  # finer than the last level
    (5_000, 1_000_000, list(range(9, 18))),  # swapped bounds
    (300_000, 300_000, [10, 11]),  # a single scale between two levels takes both neighbours
])
def test_levels_between_scales_sdk_rule(min_scale, max_scale, expected):
    assert levels_between_scales(WM, min_scale, max_scale) == expected
    assert levels_between_scales(WM.lods, min_scale, max_scale) == expected


def test_levels_between_scales_non_halving():
    lods = [LOD(i, s / 3779.527559055118, s) for i, s in enumerate([8e6, 4e6, 2e6, 1e6, 5e5, 2.5e5, 1.2e5, 8e4])]
    assert levels_between_scales(lods, 150_000, 100_000) == [5, 6, 7]


def test_levels_between_scales_needs_scales_and_valid_bounds():
    with pytest.raises(InvalidRequestError, match="no scales"):
        levels_between_scales([LOD(0, 1.0, 0.0), LOD(1, 0.5, 0.0)], 1000, 0)
    with pytest.raises(InvalidRequestError, match="minimum scale"):
        levels_between_scales(WM, -5, 0)
    with pytest.raises(InvalidRequestError, match="maximum scale"):
        levels_between_scales(WM, 0, float("nan"))
    assert levels_between_scales([], 1, 0) == []


def test_levels_by_resolution():
    assert levels_by_resolution(WM, 0, 0) == list(range(20))
    assert levels_by_resolution(WM, 1000.0, 10.0) == list(range(7, 15))  # 1222.99|611.5 -> 7; 19.1|9.55 -> 14
    assert levels_by_resolution(WM, 10.0, 1000.0) == list(range(7, 15))
    assert levels_by_resolution(WM, R0 / 4, R0 / 4) == [2]


def test_validate_levels_against_a_scheme():
    assert validate_levels(WM, [3, 1, 3]) == [1, 3]
    assert validate_levels(WM, "0-2") == [0, 1, 2]
    with pytest.raises(InvalidRequestError, match=r"levels 20-21 are not in the tiling scheme\. Valid levels: 0-19"):
        validate_levels(WM, [5, 20, 21])
    with pytest.raises(InvalidRequestError, match="level 25 is not in the tiling scheme"):
        validate_levels(WM, [25])
    with pytest.raises(InvalidRequestError, match="at least one level"):
        validate_levels(WM, [])


def test_validate_levels_of_a_scheme_with_gaps():
    scheme = TilingScheme(0, 0, 256, 256, (LOD(3, 8.0, 0), LOD(4, 4.0, 0), LOD(6, 1.0, 0)))
    with pytest.raises(InvalidRequestError, match=r"level 5 is not in the tiling scheme\. Valid levels: 3-4,6"):
        validate_levels(scheme, [3, 5])
