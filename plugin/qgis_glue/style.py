"""The look of an opened package: a vector package's own Mapbox GL style, sensible raster defaults.

Vector tile packages carry their style (``p12/resources/styles/root.json``) and sprites.  The style
is converted with ``QgsMapBoxGlStyleConverter`` exactly the way QGIS' own vtpk loader does it
(target unit millimetres, 25.4/96 mm per pixel, ``sprite@2x`` before ``sprite``), so a package
converted to MBTiles on QGIS 3.22 looks like the natively opened one on QGIS 3.32+.

Reading the resources (:func:`read_style_resources`) is pure and thread-safe; the conversion and
everything that touches a layer run on the main thread.
"""
from __future__ import annotations

import json
import logging
import posixpath
from dataclasses import dataclass

from qgis.core import (
    Qgis,
    QgsContrastEnhancement,
    QgsMapBoxGlStyleConversionContext,
    QgsMapBoxGlStyleConverter,
    QgsMultiBandColorRenderer,
    QgsRaster,
    QgsRasterLayer,
    QgsSingleBandGrayRenderer,
    QgsUnitTypes,
    QgsVectorTileBasicRenderer,
    QgsVectorTileLayer,
)
from qgis.PyQt.QtCore import QByteArray
from qgis.PyQt.QtGui import QFontDatabase, QImage

from ..core.errors import PackageError

log = logging.getLogger(__name__)

STYLE_RESOURCE = "styles/root.json"
# Screen pixels of Mapbox GL styles → millimetres, as QGIS' vtpk loader does (96 dpi).
PIXEL_SIZE_MM = 25.4 / 96.0
# QGIS looks for sprite@2x first, then sprite (QgsVtpkTiles / QgsVectorTileLayer::loadDefaultStyle).
SPRITE_VARIANTS = ("@2x", "")
# Mapbox GL expression operators that can appear inside a ``text-font`` value, never font names.
_EXPRESSION_WORDS = frozenset({
    "literal", "step", "zoom", "get", "interpolate", "linear", "exponential", "match", "case",
    "coalesce", "to-string", "concat", "array", "string", "has", "==", "!=", "all", "any",
})


@dataclass(frozen=True)
class StyleResources:
    """What a vector package holds for its look, as immutable values (safe to pass between threads)."""

    style_json: str
    sprite_png: bytes | None = None
    sprite_json: str | None = None
    sprite_name: str = ""

    @property
    def style(self) -> dict:
        return json.loads(self.style_json)


@dataclass
class StyleResult:
    """What applying a style did: style rules, label rules, missing fonts, converter warnings."""

    renderer_styles: int = 0
    labeling_styles: int = 0
    missing_fonts: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    source: str = ""  # "package" (our conversion) or "qgis" (the vtpk provider's own default style)


# -- reading (worker-thread safe) ----------------------------------------------------------------
def read_style_resources(pkg) -> StyleResources | None:
    """The style and sprites of an opened vector package, ``None`` when it has no usable style."""
    if not pkg.has_style:
        return None
    try:
        style = pkg.style
    except PackageError as exc:
        log.warning("%s", exc)
        return None
    if not isinstance(style, dict):
        return None
    png = sprite_json = None
    name = ""
    base = _sprite_base(style.get("sprite"))
    if base:
        for variant in SPRITE_VARIANTS:
            png_rel, json_rel = f"{base}{variant}.png", f"{base}{variant}.json"
            if pkg.has_resource(png_rel) and pkg.has_resource(json_rel):
                try:
                    png = pkg.resource(png_rel)
                    sprite_json = pkg.resource(json_rel).decode("utf-8-sig")
                    json.loads(sprite_json)
                except (PackageError, UnicodeDecodeError, ValueError) as exc:
                    log.warning("%s: sprite %s is unusable (%s); icons are left out", pkg.path, png_rel, exc)
                    png = sprite_json = None
                    continue
                name = png_rel
                break
    return StyleResources(json.dumps(style), png, sprite_json, name)


def _sprite_base(sprite) -> str:
    """The sprite path relative to ``resources/`` (the style lives in ``resources/styles/``)."""
    if isinstance(sprite, list) and sprite and isinstance(sprite[0], dict):
        sprite = sprite[0].get("url")
    if not isinstance(sprite, str) or not sprite or "://" in sprite or sprite.startswith("/"):
        return ""
    rel = posixpath.normpath(posixpath.join(posixpath.dirname(STYLE_RESOURCE), sprite.split("?", 1)[0]))
    if rel.startswith("..") or rel in (".", ""):
        return ""
    return rel


# -- fonts -----------------------------------------------------------------------------------------
def style_fonts(style: dict) -> list[str]:
    """Every font name a style's ``text-font`` values mention, in order of first use."""
    names: list[str] = []

    def collect(value) -> None:
        if isinstance(value, str):
            if value not in _EXPRESSION_WORDS and value not in names:
                names.append(value)
        elif isinstance(value, list):
            for item in value:
                collect(item)
        elif isinstance(value, dict):
            for stop in value.get("stops") or []:
                if isinstance(stop, list) and len(stop) == 2:
                    collect(stop[1])

    for layer in style.get("layers") or []:
        if isinstance(layer, dict) and isinstance(layer.get("layout"), dict):
            value = layer["layout"].get("text-font")
            if value is not None:
                collect(value)
    return names


def _system_families() -> list[str]:
    try:
        return list(QFontDatabase.families())  # Qt 6: static
    except TypeError:
        return list(QFontDatabase().families())  # Qt 5


def missing_fonts(style: dict, families: list[str] | None = None) -> list[str]:
    """The style's fonts that no installed family provides ("Tahoma Regular" needs family "Tahoma")."""
    installed = [f.lower() for f in (families if families is not None else _system_families())]
    missing = []
    for name in style_fonts(style):
        lowered = name.lower()
        if not any(lowered == family or lowered.startswith(family + " ") for family in installed):
            missing.append(name)
    return missing


# -- vector styles (main thread) -------------------------------------------------------------------
def _millimeters():
    render_unit = getattr(Qgis, "RenderUnit", None)  # QGIS >= 3.30
    if render_unit is not None:
        return render_unit.Millimeters
    return QgsUnitTypes.RenderUnit.RenderMillimeters


def _conversion_context(resources: StyleResources) -> QgsMapBoxGlStyleConversionContext:
    context = QgsMapBoxGlStyleConversionContext()
    context.setTargetUnit(_millimeters())
    context.setPixelSizeConversionFactor(PIXEL_SIZE_MM)
    if resources.sprite_png and resources.sprite_json:
        image = QImage.fromData(QByteArray(resources.sprite_png))
        if image.isNull():
            log.warning("The sprite image %s cannot be decoded; icons are left out", resources.sprite_name)
        else:
            context.setSprites(image, json.loads(resources.sprite_json))
    return context


def renderer_style_count(layer: QgsVectorTileLayer) -> int:
    renderer = layer.renderer()
    return len(renderer.styles()) if isinstance(renderer, QgsVectorTileBasicRenderer) else 0


def apply_vector_style(layer: QgsVectorTileLayer, resources: StyleResources | None) -> StyleResult:
    """Give ``layer`` the package's own style; missing fonts are logged once, by name.

    Natively opened vtpks get the same conversion: QGIS 3.40's vtpk layer starts with a generic
    three-rule renderer (random colours), so "a renderer with styles exists" proves nothing, and one
    code path makes a package look the same in every QGIS version.  A package without a usable style
    falls back to QGIS' own default style loading.
    """
    result = StyleResult()
    style = resources.style if resources is not None else None
    if style is None:
        _qgis_default_style(layer)
        result.source = "qgis"
    else:
        converter = QgsMapBoxGlStyleConverter()
        outcome = converter.convert(style, _conversion_context(resources))
        if outcome != QgsMapBoxGlStyleConverter.Result.Success:
            log.warning("The style of %s could not be converted (%s); QGIS' default style is used",
                        layer.name(), converter.errorMessage())
            _qgis_default_style(layer)
            result.source = "qgis"
        else:
            layer.setRenderer(converter.renderer())
            layer.setLabeling(converter.labeling())
            result.source = "package"
        # QGIS warns once per style layer about a missing font; we report fonts once ourselves.
        result.warnings = tuple(w for w in converter.warnings() if "font" not in w.lower())
        if result.warnings:
            log.info("Converting the style of %s: %s", layer.name(), "; ".join(result.warnings))
    result.renderer_styles = renderer_style_count(layer)
    labeling = layer.labeling()
    result.labeling_styles = len(labeling.styles()) if labeling is not None and hasattr(labeling, "styles") else 0
    if style is not None:
        result.missing_fonts = tuple(missing_fonts(style))
        if result.missing_fonts:
            log.warning("%s: the fonts %s are not installed; its labels use a substitute font. Install "
                        "them and reopen the package to see the labels as designed.", layer.name(),
                        ", ".join(result.missing_fonts))
    return result


def _qgis_default_style(layer: QgsVectorTileLayer) -> None:
    message, ok = layer.loadDefaultStyle()  # vtpk (3.26+): the package's style via QGIS; else a .qml
    if not ok:
        log.info("QGIS has no default style for %s (%s)", layer.name(), message)


# -- raster defaults (main thread) -----------------------------------------------------------------
def _no_stretch(provider, band: int) -> QgsContrastEnhancement:
    enhancement = QgsContrastEnhancement(provider.dataType(band))
    enhancement.setContrastEnhancementAlgorithm(
        QgsContrastEnhancement.ContrastEnhancementAlgorithm.NoEnhancement)
    return enhancement


def _is_alpha(provider, band: int) -> bool:
    return provider.colorInterpretation(band) == QgsRaster.ColorInterpretation.AlphaBand


def apply_raster_defaults(layer: QgsRasterLayer) -> None:
    """Tiles are finished pictures: show their colours as stored (no contrast stretch), with the
    alpha band as transparency."""
    provider = layer.dataProvider()
    bands = layer.bandCount()
    if bands >= 3:
        renderer = QgsMultiBandColorRenderer(provider, 1, 2, 3)
        renderer.setRedContrastEnhancement(_no_stretch(provider, 1))
        renderer.setGreenContrastEnhancement(_no_stretch(provider, 2))
        renderer.setBlueContrastEnhancement(_no_stretch(provider, 3))
        if bands >= 4 and (bands == 4 or _is_alpha(provider, 4)):
            renderer.setAlphaBand(4)
    elif bands >= 1:
        renderer = QgsSingleBandGrayRenderer(provider, 1)
        renderer.setContrastEnhancement(_no_stretch(provider, 1))
        if bands == 2:
            renderer.setAlphaBand(2)
    else:
        return
    layer.setRenderer(renderer)
