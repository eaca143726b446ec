"""The label expression breaks lines exactly where the core's MapLibre algorithm does (issue 10)."""
from __future__ import annotations

import random
import time

from qgis.core import QgsExpression, QgsExpressionContext, QgsExpressionContextScope

from plugin.core.packages.glyphs import FontAdvances, wrap_lines
from plugin.qgis_glue.label_lines import MASK_BREAKS, maplibre_lines_expression

WORDS = ["a", "of", "the", "Saint", "Vincent", "Grenadines", "Rep.", "(North)", "x-y", "Herz.", "Ü", "中国人",
         "a/b", "\u200b", "Bosnia", "and"]


def _evaluate(source: str, texts: list[str]) -> list:
    expression = QgsExpression(source)
    assert not expression.hasParserError(), expression.parserErrorString()
    context = QgsExpressionContext()
    scope = QgsExpressionContextScope()
    context.appendScope(scope)
    expression.prepare(context)
    out = []
    for text in texts:
        scope.setVariable("name", text)
        out.append(expression.evaluate(context))
        assert not expression.hasEvalError(), (text, expression.evalErrorString())
    return out


def test_expression_breaks_where_maplibre_does():
    rnd = random.Random(11)
    font = FontAdvances(tuple(rnd.randint(4, 22) if c >= 0x20 else None for c in range(512)), 12.0)
    texts = ["Bosnia and Herz.", "United States of America", " trimmed  lines ", "one\nnewline", "(a) (b) (c)"]
    texts += [" ".join(rnd.choice(WORDS) for _ in range(rnd.randint(1, 9))) for _ in range(150)]
    for width in (3, 6, 8):
        source = maplibre_lines_expression("@name", font, width, fallback_chars=1000)
        got = _evaluate(source, texts)
        want = ["\n".join(wrap_lines(text, font, width)) for text in texts]
        assert got == want


def test_letter_spacing_counts_in_the_width():
    font = FontAdvances(tuple(10 if c >= 0x20 else None for c in range(256)), 10.0)
    plain = maplibre_lines_expression("@name", font, 5)
    spaced = maplibre_lines_expression("@name", font, 5, spacing_em=0.5)  # 22 px a character
    assert _evaluate(plain, ["aaa bbb"]) == ["aaa bbb"]  # 70 px ≤ 120
    assert _evaluate(spaced, ["aaa bbb"]) == ["aaa\nbbb"]  # 154 px > 120
    assert wrap_lines("aaa bbb", font, 5, 0.5) == ["aaa", "bbb"]


def test_null_and_short_labels_stay_as_they_are():
    font = FontAdvances(tuple(10 if c >= 0x20 else None for c in range(256)), 10.0)
    assert _evaluate(maplibre_lines_expression("@name", font, 5), [None, "", "x"]) == [None, "", "x"]


def test_a_wrapped_label_costs_milliseconds():
    """QGIS 3.22 parses the stages of a wrapped label each time (eval), so they stay small."""
    font = FontAdvances(tuple(10 if c >= 0x20 else None for c in range(256)), 10.0)
    source = maplibre_lines_expression("@name", font, 5)
    labels = ["Saint Vincent and the Grenadines"[: 10 + i] for i in range(MASK_BREAKS * 3)]
    started = time.perf_counter()
    _evaluate(source, labels)
    assert (time.perf_counter() - started) / len(labels) < 0.05  # ~5 ms on a loaded machine
