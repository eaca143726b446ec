"""Glyph advances read from a package's glyph files, and MapLibre's balanced line breaks."""
from __future__ import annotations

import itertools
import random
from pathlib import Path

import pytest

from plugin.core.packages import glyphs, open_package
from plugin.core.packages.glyphs import (
    MAX_GLYPH_FILE_BYTES,
    FontAdvances,
    glyph_resource,
    line_breaks,
    parse_glyph_advances,
    read_font_advances,
    wrap_lines,
)
from tests.unit.packages.helpers import _field, glyph_pbf

DODGE = (Path(__file__).resolve().parents[3].parent / "shared" / "fixtures" / "real" / "packages"
         / "esri_runtime_android_dodge_city.vtpk")
TEMPLATE = "../fonts/{fontstack}/{range}.pbf"


def uniform(advance: int = 10) -> FontAdvances:
    """Every printable ASCII character ``advance`` px wide (24 px em)."""
    return FontAdvances(tuple(advance if 0x20 <= code < 0x7F else None for code in range(256)), float(advance))


# -- reading ------------------------------------------------------------------------------------------
def test_advances_are_read_from_a_glyph_file():
    data = glyph_pbf({ord("A"): 16, ord("i"): 5, ord(" "): 7})
    assert parse_glyph_advances(data) == {65: 16, 105: 5, 32: 7}


@pytest.mark.skipif(not DODGE.is_file(), reason="../shared/fixtures/real is absent")
def test_advances_of_esris_tahoma_glyphs():
    pkg = open_package(DODGE)
    try:
        font = read_font_advances(lambda p: pkg.resource(p) if pkg.has_resource(p) else None,
                                  ["Tahoma Regular"], TEMPLATE)
    finally:
        pkg.close()
    assert font is not None
    # Tahoma at 24 px: "W" is far wider than "i", a space narrower than an "m"
    assert font.advance(ord("W")) > 2 * font.advance(ord("i")) > 0
    assert font.advance(ord(" ")) < font.advance(ord("m"))
    assert font.advance(0x0416) is not None  # Cyrillic (range 1024-1279) is read too


def test_each_range_comes_from_the_first_font_of_the_stack_that_has_it():
    files = {"fonts/A/0-255.pbf": glyph_pbf({65: 11}), "fonts/B/0-255.pbf": glyph_pbf({65: 22}),
             "fonts/B/256-511.pbf": glyph_pbf({256: 33}, start=256)}
    font = read_font_advances(files.get, ["A", "B"], TEMPLATE)
    assert font.advance(65) == 11 and font.advance(256) == 33
    assert font.advance(66) is None  # A's range has no "B": no width, as in MapLibre


def test_glyph_paths_stay_inside_the_package():
    assert glyph_resource(TEMPLATE, "Arial Regular", 256) == "fonts/Arial Regular/256-511.pbf"
    assert glyph_resource("https://x/{fontstack}/{range}.pbf", "A", 0) == ""
    assert glyph_resource("../../../{fontstack}/{range}.pbf", "A", 0) == ""
    assert glyph_resource("../fonts/{fontstack}.pbf", "A", 0) == ""


@pytest.mark.parametrize("data", [
    b"", b"\x0a", b"\x0a\xff\xff\xff\xff\x0f", b"\xff" * 20, b"\x0b\x00", b"\x0a\x05\x1a\x03\x08",
    _field(1, 2, _field(3, 2, _field(1, 0, 65) + _field(7, 0, 10 ** 9))),  # absurd advance
    _field(1, 2, _field(3, 2, _field(1, 0, 0x1F600) + _field(7, 0, 10))),  # beyond UTF-16 units
])
def test_malformed_glyph_files_give_no_advances(data):
    assert parse_glyph_advances(data) in ({}, {65: 10})
    assert 0x1F600 not in parse_glyph_advances(data)


def test_oversized_glyph_files_are_not_read():
    data = glyph_pbf({65: 10})
    assert parse_glyph_advances(data + b"\x00" * MAX_GLYPH_FILE_BYTES) == {}


def test_random_bytes_never_raise():
    rnd = random.Random(7)
    good = glyph_pbf({code: 10 + code % 7 for code in range(32, 127)})
    for _ in range(300):
        data = bytearray(good)
        for _ in range(rnd.randint(1, 8)):
            data[rnd.randrange(len(data))] = rnd.randrange(256)
        cut = bytes(data[:rnd.randrange(len(data) + 1)])
        assert isinstance(parse_glyph_advances(cut), dict)


def test_a_stack_without_glyph_files_has_no_advances():
    assert read_font_advances(lambda p: None, ["Nope"], TEMPLATE) is None
    assert read_font_advances({"fonts/A/0-255.pbf": b"\xff\xff"}.get, ["A"], TEMPLATE) is None


# -- MapLibre's line breaks ---------------------------------------------------------------------------------
def test_balanced_lines_where_qgis_would_fill_the_first():
    """10 px characters, 5 em (120 px) wide: total 150 px → 2 lines, target 75 px.  Breaks after
    "aaa " (x 30), "bbb " (60), "ccc " (90); the last line from a break at x to 120:
    first lines 30: 2025, 60: 225, 90: 225; last lines 120: 4050, from 30: 90 px (2 × 15²) + 2025 =
    2475, from 60: 60 px (15² / 2) + 225 = 337.5, from 90: 30 px (45² / 2) + 225 = 1237.5.
    MapLibre draws "aaa bbb" / "ccc ddd"; filling the first line would give "aaa bbb ccc" / "ddd"."""
    assert line_breaks("aaa bbb ccc ddd", uniform(), 5) == [8]
    assert wrap_lines("aaa bbb ccc ddd", uniform(), 5) == ["aaa bbb", "ccc ddd"]


def test_breaks_weigh_every_line_against_the_target():
    """16 characters of 10 px (160 px with the spaces), 4 em (96 px): 2 lines, target 80.  Breaks after
    "Bosnia " (x 60: 20² = 400) and "and " (x 90: 10² = 100); the last line ends at x 140 (spaces do not
    count): one line 2 × 60² = 7200, from 60 (80 px, the target) 0 + 400, from 90 (50 px, shorter)
    30² / 2 + 100 = 550.  QGIS, 9 characters a line, would write "Bosnia and" / "Herz."."""
    assert wrap_lines("Bosnia and Herz.", uniform(), 4) == ["Bosnia", "and Herz."]


def test_wide_glyphs_move_the_break():
    """With the glyph widths of a proportional font MapLibre writes "Bosnia / and Herz."."""
    widths = {" ": 7, ".": 7, "B": 16, "H": 17, "a": 13, "d": 13, "e": 13, "i": 5, "n": 13, "o": 13,
              "r": 8, "s": 12, "z": 12}
    font = FontAdvances(tuple(widths.get(chr(code)) for code in range(256)), 13.0)
    # total 169 px > 8 em (192)? no: 169 ≤ 192 stays on one line; at 6 em (144) two lines, target 84.5
    assert wrap_lines("Bosnia and Herz.", font, 8) == ["Bosnia and Herz."]
    assert wrap_lines("Bosnia and Herz.", font, 6) == ["Bosnia", "and Herz."]


def test_newline_forces_a_break_and_lines_are_trimmed():
    assert wrap_lines("ab\ncd", uniform(), 10) == ["ab", "cd"]
    assert wrap_lines("  aaa bbb ccc ddd ", uniform(), 5)[0] == "aaa bbb"


def test_no_break_inside_a_word_or_without_a_width():
    assert line_breaks("abcdefghijklmnop", uniform(), 2) == []
    assert line_breaks("aaa bbb", uniform(), 0) == []
    assert line_breaks("", uniform(), 5) == []


def test_ideographs_break_between_characters():
    font = FontAdvances((None,) * 256, 10.0)  # CJK beyond the table: 24 px each
    lines = wrap_lines("中华人民共和国", font, 3)  # 168 px in 72 px lines: 3 lines, target 56
    assert "".join(lines) == "中华人民共和国" and len(lines) == 3


def _exhaustive(text: str, font: FontAdvances, max_width_em: float) -> list[int]:
    """The same choice found the slow way: every set of breaks, the least total badness, ties to the
    set with the latest breaks (MapLibre's loop keeps a later break on equal badness)."""
    units = [ord(c) for c in text]
    total = sum(font.advance(u) or 0 for u in units)
    target = total / max(1, -(-total // (max_width_em * 24)))
    candidates, x = [], 0.0
    for i, u in enumerate(units):
        if u not in glyphs.WHITESPACE:
            x += font.advance(u) or 0
        if i < len(units) - 1 and (u in glyphs.WORD_BREAKS or glyphs.is_ideographic(u)):
            candidates.append((i + 1, x, glyphs._penalty(u, units[i + 1], False)))
    end = x
    best = None
    for r in range(len(candidates) + 1):
        for chosen in itertools.combinations(range(len(candidates)), r):
            badness, prior = 0.0, 0.0
            for c in chosen:
                badness += glyphs._badness(candidates[c][1] - prior, target, candidates[c][2], False)
                prior = candidates[c][1]
            badness += glyphs._badness(end - prior, target, 0, True)
            key = (badness, [-c for c in reversed(chosen)])
            if best is None or key < best[0]:
                best = (key, chosen)
    return [candidates[c][0] for c in best[1]]


def test_breaks_are_the_least_bad_of_all_choices():
    rnd = random.Random(3)
    font = FontAdvances(tuple(rnd.randint(5, 20) if 0x20 <= c < 0x7F else None for c in range(256)), 12.0)
    words = ["a", "of", "the", "Saint", "Vincent", "Grenadines", "Rep.", "(North)", "x-y", "Herz."]
    for _ in range(300):
        text = " ".join(rnd.choice(words) for _ in range(rnd.randint(1, 7)))
        width = rnd.choice([3, 5, 8, 10])
        assert line_breaks(text, font, width) == _exhaustive(text, font, width), text
