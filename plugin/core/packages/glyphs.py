"""Glyph advances of a vector package's fonts, and MapLibre's balanced line breaking (pure Python).

A vector tile package's style names its fonts (``text-font``) and where their glyphs are
(``glyphs``: ``../fonts/{fontstack}/{range}.pbf``): protobuf files of 256 code points each, one
SDF bitmap and its metrics per glyph, ``advance`` in pixels of a 24 px em.  MapLibre measures a
label with these advances and breaks a point label wider than ``text-max-width`` ems into lines of
about equal width (``determineLineBreaks`` in MapLibre Native's ``text/shaping.cpp``): the target
is the total width divided by ``ceil(total / max width)`` and, among every choice of break
positions, the one with the least "badness" (the squared difference of each line from the
target, a last line longer than the target counting four times more than a shorter one, penalties
for breaking beside a parenthesis) wins.  QGIS instead fills the first line greedily
("Bosnia and / Herz." where MapLibre writes "Bosnia / and Herz.").

:func:`read_font_advances` reads the first ranges of a font stack (bounded: a glyph file larger
than :data:`MAX_GLYPH_FILE_BYTES` or malformed is ignored, never raises) and :func:`line_breaks`
/ :func:`wrap_lines` reproduce MapLibre's choice, so the style conversion can make QGIS draw the
same lines.
"""
from __future__ import annotations

import math
import posixpath
from array import array
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from .mvt import MvtError, protobuf_fields

ONE_EM = 24.0  # MapLibre shapes text at 24 px and scales it afterwards (util::ONE_EM)
RANGE_SIZE = 256  # code points per glyph file ("0-255.pbf", "256-511.pbf" …)
# The code points whose advances are read and carried into the style: Latin, Greek, Cyrillic
# (ranges 0-1535, six files per font).  Beyond, a label is measured with the font's median advance
# (ideographs with a full em, as CJK fonts draw them).
TABLE_CODE_POINTS = 6 * RANGE_SIZE
MAX_GLYPH_FILE_BYTES = 4 * 1024 * 1024  # Esri's glyph files are 10-100 KB; a larger one is not read
MAX_GLYPHS_PER_FILE = 4 * RANGE_SIZE  # a file lists each of its 256 code points once
MAX_ADVANCE = 1023  # px at 24 px; anything wider is a broken file
MAX_FONTS_PER_STACK = 8
MAX_FIELDS = 1 << 16  # protobuf fields read per message, whatever the file claims

# MapLibre's word breaking characters (util::i18n::allowsWordBreaking): a line may end after them.
WORD_BREAKS = frozenset({0x0A, 0x20, 0x26, 0x28, 0x29, 0x2B, 0x2D, 0x2F, 0xAD, 0xB7, 0x200B, 0x2010, 0x2013})
# util::i18n::isWhitespace: not counted in a line's width (but in the total the target comes from)
WHITESPACE = frozenset({0x20, 0x09, 0x0A, 0x0B, 0x0C, 0x0D})
ZERO_WIDTH_SPACE = 0x200B
# util::i18n::allowsIdeographicBreaking: U+2027 and these blocks (CJK radicals and symbols, kana,
# bopomofo, ideographs, Yi, compatibility and half/full-width forms), inclusive bounds.
IDEOGRAPHIC_RANGES = (
    (0x2027, 0x2027), (0x2E80, 0x2FDF), (0x2FF0, 0x312F), (0x31A0, 0x4DBF), (0x4E00, 0xA4CF),
    (0xF900, 0xFAFF), (0xFE10, 0xFE1F), (0xFE30, 0xFE4F), (0xFF00, 0xFFEF),
)
OPEN_PARENTHESES = frozenset({0x28, 0xFF08})
CLOSE_PARENTHESES = frozenset({0x29, 0xFF09})
PARENTHESIS_PENALTY = 50.0
IDEOGRAPHIC_PENALTY = 150.0  # only when the text has zero width spaces (suggested breaks)
NEWLINE_PENALTY = -10000.0


def is_ideographic(unit: int) -> bool:
    return any(low <= unit <= high for low, high in IDEOGRAPHIC_RANGES)


# -- reading glyph files -----------------------------------------------------------------------------
class _MalformedError(ValueError):
    pass


def _fields(data: bytes, span: tuple[int, int]):
    """The MVT reader's protobuf walk over ``data[span]``, at most :data:`MAX_FIELDS` fields."""
    for count, item in enumerate(protobuf_fields(data, *span), 1):
        if count > MAX_FIELDS:
            raise _MalformedError("too many fields")
        yield item


def parse_glyph_advances(data: bytes) -> dict[int, int]:
    """Advance (px of a 24 px em) of every glyph of one glyph range file (``glyphs`` → ``stacks``
    → ``glyphs``: ``id`` 1, ``advance`` 7).  Empty when the file is too large or malformed."""
    if not isinstance(data, (bytes, bytearray)) or len(data) > MAX_GLYPH_FILE_BYTES:
        return {}
    advances: dict[int, int] = {}
    try:
        data = bytes(data)
        for number, wire, stack in _fields(data, (0, len(data))):
            if number != 1 or wire != 2:
                continue
            for field, kind, glyph in _fields(data, stack):
                if field != 3 or kind != 2:
                    continue
                if len(advances) >= MAX_GLYPHS_PER_FILE:
                    return advances
                code, advance = None, None
                for key, key_wire, value in _fields(data, glyph):
                    if key == 1 and key_wire == 0:
                        code = value
                    elif key == 7 and key_wire == 0:
                        advance = value
                if code is not None and advance is not None and code <= 0xFFFF and advance <= MAX_ADVANCE:
                    advances[code] = advance
    except (_MalformedError, MvtError):
        return {}
    return advances


def glyph_resource(template: str, font: str, start: int, style_path: str = "styles/root.json") -> str:
    """A glyph file's path among the package's resources, from the style's ``glyphs`` template
    (relative to the style); "" for a template outside the package (a URL, an absolute path)."""
    if not isinstance(template, str) or "{fontstack}" not in template or "{range}" not in template:
        return ""
    if "://" in template or template.startswith("/"):
        return ""
    path = template.replace("{fontstack}", font).replace("{range}", f"{start}-{start + RANGE_SIZE - 1}")
    rel = posixpath.normpath(posixpath.join(posixpath.dirname(style_path), path.split("?", 1)[0]))
    if rel.startswith("..") or rel in (".", ""):
        return ""
    return rel


@dataclass(frozen=True)
class FontAdvances:
    """Advances of a font stack's code points ``0 … len(advances) - 1`` (``None`` where it has no
    glyph: MapLibre gives such a character no width) and what a character beyond is measured with."""

    advances: tuple[int | None, ...]
    fallback: float

    def advance(self, unit: int) -> float | None:
        """The advance of UTF-16 code unit ``unit``; ``None`` when the font has no glyph for it."""
        if 0 <= unit < len(self.advances):
            value = self.advances[unit]
            return None if value is None else float(value)
        return ONE_EM if is_ideographic(unit) else self.fallback


def read_font_advances(read: Callable[[str], bytes | None], stack: Sequence[str], template: str,
                       code_points: int = TABLE_CODE_POINTS) -> FontAdvances | None:
    """The advances of font stack ``stack`` (the style's ``text-font``) for the first ``code_points``
    code points.  ``read(path)`` returns a resource's bytes or ``None``; for every range the first font
    of the stack that has the file gives its glyphs (as a server combines a stack).  ``None`` when no
    font of the stack has a usable glyph."""
    fonts = [font for font in list(stack)[:MAX_FONTS_PER_STACK] if isinstance(font, str) and font]
    table: list[int | None] = [None] * max(0, min(code_points, 0x10000))
    found = False
    for start in range(0, len(table), RANGE_SIZE):
        for font in fonts:
            path = glyph_resource(template, font, start)
            data = read(path) if path else None
            if data is None:
                continue
            advances = parse_glyph_advances(data)
            for code, advance in advances.items():
                if start <= code < min(start + RANGE_SIZE, len(table)):
                    table[code] = advance
                    found = True
            break
    if not found:
        return None
    letters = sorted(a for code, a in enumerate(table) if a and code > 0x20)
    fallback = float(letters[len(letters) // 2]) if letters else ONE_EM / 2
    return FontAdvances(tuple(table), fallback)


# -- MapLibre's line breaking ------------------------------------------------------------------------
def _units(text: str) -> list[int]:
    """UTF-16 code units, which MapLibre shapes one by one."""
    return list(array("H", text.encode("utf-16-le")))


def _badness(width: float, target: float, penalty: float, last: bool) -> float:
    raggedness = (width - target) ** 2
    if last:  # a last line shorter than the others is better than a longer one
        return raggedness / 2 if width < target else raggedness * 2
    return raggedness - penalty ** 2 if penalty < 0 else raggedness + penalty ** 2


def _penalty(unit: int, next_unit: int, ideographic_penalized: bool) -> float:
    penalty = 0.0
    if unit == 0x0A:
        penalty += NEWLINE_PENALTY
    if unit in OPEN_PARENTHESES:
        penalty += PARENTHESIS_PENALTY
    if next_unit in CLOSE_PARENTHESES:
        penalty += PARENTHESIS_PENALTY
    if ideographic_penalized:
        penalty += IDEOGRAPHIC_PENALTY
    return penalty


def line_breaks(text: str, font: FontAdvances, max_width_em: float, spacing_em: float = 0.0) -> list[int]:
    """Where MapLibre starts a new line in ``text`` (UTF-16 code unit indexes, ascending), for a point
    label of ``text-max-width`` ``max_width_em`` and ``text-letter-spacing`` ``spacing_em``."""
    units = _units(text)
    max_width = max_width_em * ONE_EM
    if not units or not max_width > 0:
        return []
    spacing = spacing_em * ONE_EM

    def advance(unit: int) -> float:
        value = font.advance(unit)  # getGlyphAdvance: no glyph, no width (nor spacing)
        return 0.0 if value is None else value + spacing

    total = sum(advance(unit) for unit in units)
    target = total / max(1, math.ceil(total / max_width))
    suggested = ZERO_WIDTH_SPACE in units
    breaks: list[tuple[int, float, int, float]] = []  # index, x, prior (position in breaks or -1), badness

    def evaluate(index: int, x: float, penalty: float, last: bool) -> tuple[int, float, int, float]:
        best_prior, best = -1, _badness(x, target, penalty, last)
        for position, (_index, prior_x, _prior, prior_badness) in enumerate(breaks):
            badness = _badness(x - prior_x, target, penalty, last) + prior_badness
            if badness <= best:  # ties go to the later break, as MapLibre's loop does
                best_prior, best = position, badness
        return index, x, best_prior, best

    x = 0.0
    for i, unit in enumerate(units):
        if unit not in WHITESPACE:
            x += advance(unit)
        if i < len(units) - 1:
            ideographic = is_ideographic(unit)
            if ideographic or unit in WORD_BREAKS:
                penalty = _penalty(unit, units[i + 1], ideographic and suggested)
                breaks.append(evaluate(i + 1, x, penalty, False))
    chosen, prior = [], evaluate(len(units), x, 0.0, True)[2]
    while prior >= 0:
        chosen.append(breaks[prior][0])
        prior = breaks[prior][2]
    return sorted(chosen)


def _trim(units: list[int]) -> list[int]:
    start, end = 0, len(units)
    while start < end and units[start] in WHITESPACE:
        start += 1
    while end > start and units[end - 1] in WHITESPACE:
        end -= 1
    return units[start:end]


def wrap_lines(text: str, font: FontAdvances, max_width_em: float, spacing_em: float = 0.0) -> list[str]:
    """The lines MapLibre draws for a point label (each trimmed of whitespace, as its shaping does)."""
    units = _units(text)
    bounds = [0, *line_breaks(text, font, max_width_em, spacing_em), len(units)]
    return [array("H", _trim(units[a:b])).tobytes().decode("utf-16-le", "replace")
            for a, b in zip(bounds, bounds[1:])]
