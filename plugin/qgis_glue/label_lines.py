"""Point labels broken into the lines MapLibre draws, as a plain QGIS expression.

MapLibre breaks a label wider than ``text-max-width`` into lines of about equal width, measured
with the package's glyph advances (:mod:`plugin.core.packages.glyphs`); QGIS fills the first line
greedily ("Bosnia and / Herz." where MapLibre draws "Bosnia / and Herz.").  The labels cannot be
broken in advance (their text is in the tiles), so :func:`maplibre_lines_expression` turns the label
expression into one that inserts the line breaks MapLibre chooses: the advances travel in the
expression as a string (one character per code point); a label no wider than ``text-max-width``
is only measured (~0.1 ms), a wider one runs MapLibre's choice in a few stages (every choice of up
to :data:`MASK_BREAKS` possible breaks weighed at once, MapLibre's loop over them beyond; ~5 ms a
label on QGIS 3.22, see the note on parsing below), and a label with more than :data:`MAX_BREAKS`
possible breaks falls back to QGIS's ``wordwrap``.  Only functions QGIS 3.22 has are used, and no
Python function is registered: the style keeps working in a project saved and opened without the
plugin, or copied as a .qml.

The expression equals :func:`plugin.core.packages.glyphs.line_breaks` (the tests compare them),
except that it computes in double precision where MapLibre computes in float (two choices of
exactly equal badness may go the other way).
"""
from __future__ import annotations

from qgis.core import QgsExpression
from qgis.PyQt.QtGui import QFontMetricsF

from ..core.packages.glyphs import (
    CLOSE_PARENTHESES,
    IDEOGRAPHIC_PENALTY,
    IDEOGRAPHIC_RANGES,
    NEWLINE_PENALTY,
    ONE_EM,
    OPEN_PARENTHESES,
    PARENTHESIS_PENALTY,
    TABLE_CODE_POINTS,
    WHITESPACE,
    WORD_BREAKS,
    ZERO_WIDTH_SPACE,
    FontAdvances,
)

MAX_BREAKS = 32  # possible breaks (spaces, hyphens …) of a label the expression weighs; more: wordwrap
# The advances table: code point u's advance a is the character TABLE_BASE + a + 1, TABLE_BASE for
# "no glyph" (characters from U+0100 on: no quote, backslash or control character in the literal).
TABLE_BASE = 0x100
TABLE_MAX_ADVANCE = 0x1F0


def advances_from_font(font) -> FontAdvances:
    """Advances (px of a 24 px em) of a Qt font, for a package without glyph files: QGIS draws its
    labels with that font, so its lines are measured with it."""
    scaled = type(font)(font)
    scaled.setPixelSize(round(ONE_EM))
    metrics = QFontMetricsF(scaled)
    table = tuple(round(metrics.horizontalAdvance(chr(code))) if code >= 0x20 and metrics.inFont(chr(code))
                  else None for code in range(TABLE_CODE_POINTS))
    letters = sorted(a for a in table if a)
    return FontAdvances(table, float(letters[len(letters) // 2]) if letters else ONE_EM / 2)


def _table(font: FontAdvances) -> str:
    return "".join(chr(TABLE_BASE) if a is None else chr(TABLE_BASE + min(a, TABLE_MAX_ADVANCE) + 1)
                   for a in font.advances)


def _in(variable: str, codes) -> str:
    return f"({variable} IN ({', '.join(str(c) for c in sorted(codes))}))"


def _class(ranges) -> str:
    """A quoted regular expression matching one character of ``ranges`` (inclusive code points)."""
    return QgsExpression.quotedString("[" + "".join(
        f"\\x{{{low:x}}}" if low == high else f"\\x{{{low:x}}}-\\x{{{high:x}}}" for low, high in ranges) + "]")


_IDEOGRAPHIC = _class(IDEOGRAPHIC_RANGES)
_BREAKABLE = _class(sorted([(c, c) for c in WORD_BREAKS] + list(IDEOGRAPHIC_RANGES)))


def _ideographic(character: str) -> str:
    return f"regexp_match({character}, {_IDEOGRAPHIC})"


def _number(value: float) -> str:
    return repr(float(value))


# QGIS 3.22 copies a function's arguments each time it builds a function node with a parameter list
# (QgsExpressionNodeFunction's constructor clones them, and a clone is built the same way), so parsing
# costs twice as much for every level of such functions (with_variable, if, array_foreach …): 16
# levels take 50 ms, 20 a second, and a label expression is parsed at every render.  The programme is
# therefore a chain of shallow stages, each binding one variable, kept as strings in one array
# (@aot_code) and running the next with eval(); MapLibre's loop over the possible breaks is the STEP
# stages running themselves again.
_STAGES = ("prepare", "x", "q", "choose", "weigh", "pick", "step", "step_b", "final_o", "final_e")
# Up to this many possible breaks every choice of breaks is weighed in one stage (one parse, 2^n
# choices); with more, MapLibre's loop runs a stage per possible break.
MASK_BREAKS = 6


def _run(stage: str) -> str:
    return f"eval(@aot_code[{_STAGES.index(stage)}])"


def _bind(name: str, value: str, then: str) -> str:
    return f"with_variable('aot_{name}', {value}, {_run(then)})"


def _last_line(width: str) -> str:
    """calculateBadness of the last line: one shorter than the target counts half, longer double."""
    return (f"CASE WHEN ({width}) < @aot_g THEN (({width}) - @aot_g) ^ 2 / 2 "
            f"ELSE (({width}) - @aot_g) ^ 2 * 2 END")


_ARGMIN = "array_last(array_filter(generate_series(0, array_length(@aot_o) - 1), @aot_o[@element] = array_min(@aot_o)))"

# MapLibre trims each line of its whitespace (util::i18n::isWhitespace), not of every Unicode space
# as QGIS's trim() does.
_EDGE_WHITESPACE = QgsExpression.quotedString("^[ \\t\\n\\x0B\\f\\r]+|[ \\t\\n\\x0B\\f\\r]+$")


def _trimmed(text: str) -> str:
    return f"regexp_replace({text}, {_EDGE_WHITESPACE}, '')"


def _advance(code: str, font: FontAdvances, spacing: str) -> str:
    """getGlyphAdvance of the character whose code is ``code`` (no glyph: no width, nor spacing)."""
    table = _table(font)
    glyph = f"ascii(substr('{table}', {code} + 1, 1))"
    return (f"CASE WHEN {code} < {len(table)} THEN "
            f"(CASE WHEN {glyph} = {TABLE_BASE} THEN 0 ELSE {glyph} - {TABLE_BASE + 1} + {spacing} END) "
            f"WHEN {code} >= {IDEOGRAPHIC_RANGES[1][0]} THEN {_number(ONE_EM)} + {spacing} "
            f"ELSE {_number(font.fallback)} + {spacing} END")


def _chosen(bit: str) -> str:
    """Whether possible break ``bit`` is in the choice numbered @aot_mask."""
    return f"floor(@aot_mask / 2 ^ {bit}) % 2 = 1"


def _stages(font: FontAdvances, max_width_em: float, spacing_em: float, fallback_chars: int) -> list[str]:
    max_width = _number(max_width_em * ONE_EM)
    character = "substr(@aot_t, @element + 1, 1)"
    fallback = f"wordwrap(@aot_t, {int(fallback_chars)})" if fallback_chars > 0 else "@aot_t"
    whitespace = QgsExpression.quotedString("".join(chr(c) for c in sorted(WHITESPACE)))
    # calculatePenalty of a break after character @element (signed square: a newline forces a break)
    opening = " OR ".join(f"{character} = {QgsExpression.quotedString(chr(c))}" for c in sorted(OPEN_PARENTHESES))
    following = "substr(@aot_t, @element + 2, 1)"
    closing = " OR ".join(f"{following} = {QgsExpression.quotedString(chr(c))}" for c in sorted(CLOSE_PARENTHESES))
    others = (f"(CASE WHEN {opening} THEN {_number(PARENTHESIS_PENALTY)} ELSE 0 END "
              f"+ CASE WHEN {closing} THEN {_number(PARENTHESIS_PENALTY)} ELSE 0 END "
              f"+ CASE WHEN strpos(@aot_t, {QgsExpression.quotedString(chr(ZERO_WIDTH_SPACE))}) > 0 "
              f"AND {_ideographic(character)} THEN {_number(IDEOGRAPHIC_PENALTY)} ELSE 0 END)")
    j = "array_length(@aot_b)"  # the possible break weighed now
    line = _trimmed("substr(@aot_t, @aot_e[@element] + 1, @aot_e[@element + 1] - @aot_e[@element])")
    lines = f"array_to_string(array_foreach(generate_series(0, array_length(@aot_e) - 2), {line}), '\\n')"
    special = QgsExpression.quotedString("[\n(\uff08)\uff09\u200b]")
    stages = {
        # the target width, widths without whitespace, the possible breaks
        "prepare": (f"with_variable('aot_g', array_sum(@aot_a) / max(1, ceil(array_sum(@aot_a) / {max_width})), "
                    "with_variable('aot_n', array_foreach(generate_series(0, length(@aot_t) - 1), "
                    f"CASE WHEN strpos({whitespace}, {character}) > 0 THEN 0 ELSE @aot_a[@element] END), "
                    "with_variable('aot_k', array_filter(generate_series(0, length(@aot_t) - 2), "
                    f"regexp_match({character}, {_BREAKABLE})), "
                    f"CASE WHEN array_length(@aot_k) > {MAX_BREAKS} THEN {fallback} ELSE {_run('x')} END)))"),
        # where each possible break is (x, without whitespace); penalties only for a text with a
        # newline, a parenthesis or a zero width space
        "x": ("with_variable('aot_x', array_foreach(@aot_k, array_sum(array_slice(@aot_n, 0, @element))), "
              f"CASE WHEN regexp_match(@aot_t, {special}) THEN {_run('q')} "
              f"ELSE with_variable('aot_q', array_foreach(@aot_k, 0), {_run('choose')}) END)"),
        "q": ("with_variable('aot_q', array_foreach(@aot_k, CASE WHEN " + character + " = '\\n' "
              f"THEN -1 * (({_number(NEWLINE_PENALTY)} + {others}) ^ 2) ELSE {others} ^ 2 END), "
              f"{_run('choose')})"),
        # a few possible breaks: the least bad of all choices (a bit per possible break), ties to the
        # choice with the latest breaks, which is the one MapLibre's loop keeps
        "choose": (f"CASE WHEN array_length(@aot_k) <= {MASK_BREAKS} THEN "
                   "with_variable('aot_sels', array_foreach(generate_series(0, 2 ^ array_length(@aot_k) - 1), "
                   "with_variable('aot_mask', @element, array_filter(generate_series(0, array_length(@aot_k) - 1), "
                   f"{_chosen('@element')}))), {_run('weigh')}) "
                   "ELSE with_variable('aot_b', array(), with_variable('aot_s', array(), "
                   f"{_run('step')})) END"),
        "weigh": _bind("o", "array_foreach(@aot_sels, with_variable('aot_sel', @element, "
                       "coalesce(array_sum(array_foreach(generate_series(0, array_length(@aot_sel) - 1), "
                       "(@aot_x[@aot_sel[@element]] - CASE WHEN @element = 0 THEN 0 "
                       "ELSE @aot_x[@aot_sel[@element - 1]] END - @aot_g) ^ 2 + @aot_q[@aot_sel[@element]])), 0) + "
                       + _last_line("array_sum(@aot_n) - CASE WHEN array_length(@aot_sel) = 0 THEN 0 "
                                    "ELSE @aot_x[@aot_sel[-1]] END") + "))", "pick"),
        "pick": ("with_variable('aot_min', array_min(@aot_o), "
                 "with_variable('aot_e', array_cat(array(0), array_foreach(@aot_sels[array_last(array_filter("
                 "generate_series(0, array_length(@aot_o) - 1), @aot_o[@element] = @aot_min))], "
                 "@aot_k[@element] + 1), array(length(@aot_t))), "
                 f"{lines}))"),
        # evaluateBreak for the next possible break: as a first line, or after each earlier break
        # (ties go to the later one); its badness (@aot_b) and chain of breaks (@aot_s, "3,9") are kept
        "step": (f"CASE WHEN {j} >= array_length(@aot_k) THEN {_run('final_o')} ELSE "
                 f"with_variable('aot_o', array_cat(array((@aot_x[{j}] - @aot_g) ^ 2 + @aot_q[{j}]), "
                 f"CASE WHEN {j} = 0 THEN array() ELSE array_foreach(generate_series(0, {j} - 1), "
                 f"(@aot_x[{j}] - @aot_x[@element] - @aot_g) ^ 2 + @aot_q[{j}] + @aot_b[@element]) END), "
                 f"{_run('step_b')}) END"),
        "step_b": (f"with_variable('aot_m', {_ARGMIN}, with_variable('aot_s', array_append(@aot_s, "
                   f"CASE WHEN @aot_m = 0 THEN '' ELSE @aot_s[@aot_m - 1] || ',' END "
                   f"|| to_string(to_int(@aot_k[{j}]) + 1)), "
                   f"with_variable('aot_b', array_append(@aot_b, @aot_o[@aot_m]), {_run('step')})))"),
        # the end of the text, the last line after the least bad break, the lines
        "final_o": _bind("o", f"array_cat(array({_last_line('array_sum(@aot_n)')}), "
                         f"CASE WHEN {j} = 0 THEN array() ELSE array_foreach(generate_series(0, {j} - 1), "
                         f"{_last_line('array_sum(@aot_n) - @aot_x[@element]')} + @aot_b[@element]) END)", "final_e"),
        "final_e": (f"with_variable('aot_m', {_ARGMIN}, "
                    "with_variable('aot_e', array_cat(array(0), CASE WHEN @aot_m = 0 THEN array() ELSE "
                    "array_foreach(string_to_array(@aot_s[@aot_m - 1], ','), to_int(@element)) END, "
                    "array(length(@aot_t))), "
                    f"{lines}))"),
    }
    return [stages[name] for name in _STAGES]


def maplibre_lines_expression(text: str, font: FontAdvances, max_width_em: float, spacing_em: float = 0.0,
                              fallback_chars: int = 0) -> str:
    """A QGIS expression: the label ``text`` (an expression) with line breaks where MapLibre breaks it
    for ``text-max-width`` ``max_width_em`` and ``text-letter-spacing`` ``spacing_em``, measured with
    ``font``; a label with more than :data:`MAX_BREAKS` possible breaks is wrapped at
    ``fallback_chars`` characters (left as it is with 0)."""
    stages = ", ".join(QgsExpression.quotedString(stage) for stage in _stages(font, max_width_em, spacing_em,
                                                                             fallback_chars))
    # a label no wider than text-max-width stays on one line (its only badness is its own); measured
    # here, so that only the labels MapLibre breaks run the stages
    advances = (f"array_foreach(generate_series(1, length(@aot_t)), "
                f"{_advance('ascii(substr(@aot_t, @element, 1))', font, _number(spacing_em * ONE_EM))})")
    return (f"with_variable('aot_t', to_string({text}), CASE WHEN @aot_t IS NULL OR length(@aot_t) < 2 THEN @aot_t "
            f"ELSE with_variable('aot_a', {advances}, CASE WHEN strpos(@aot_t, '\\n') = 0 "
            f"AND array_sum(@aot_a) <= {_number(max_width_em * ONE_EM)} THEN {_trimmed('@aot_t')} "
            f"ELSE with_variable('aot_code', array({stages}), {_run('prepare')}) END) END)")
