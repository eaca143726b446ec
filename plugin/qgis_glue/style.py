"""The look of an opened package: a vector package's own Mapbox GL style, sensible raster defaults.

Vector tile packages carry their style (``p12/resources/styles/root.json``) and sprites.  The style
is converted with ``QgsMapBoxGlStyleConverter`` exactly the way QGIS' own vtpk loader does it
(target unit millimetres, 25.4/96 mm per pixel, ``sprite@2x`` before ``sprite``), so a package
converted to MBTiles on QGIS 3.22 looks like the natively opened one on QGIS 3.32+.

After the conversion these corrections make QGIS draw what MapLibre draws (:func:`draw_as_maplibre`):

* MapLibre draws all fills of a fill layer, then all their outlines; QGIS fills and outlines feature
  by feature, so a polygon nested in another (a pitch inside a running track) hides the outline of
  the one drawn before it.  A fill rule with a visible outline becomes a fill-only rule followed by
  an outline-only rule.
* MapLibre takes the sprite sheet made for the screen's pixel ratio (the 1x sheet on a standard
  screen, drawn pixel for pixel); QGIS's own loader takes sprite@2x first and scales it down, which
  blurs thin lines and changes hatches.  The plugin takes the sheet for the primary screen.
* The converter rounds sprite sizes to whole millimetres (a 10 px icon becomes 3 mm = 11.3 px, a
  8 px pattern 2 mm); icon and pattern sizes are recomputed exactly from the sprite index.
* MapLibre draws a fill pattern in pixels of the map's integer zoom (it grows with the map between
  two levels), starting at each tile's pixel origin; QGIS's raster fill draws it at a fixed size from
  the map's top-left corner, so the same hatch lay a few pixels apart.  The pattern's width follows
  the zoom and its texture is moved onto the tile grid (see :func:`_anchor_patterns`); this needs the
  map scale and extent the canvas and layouts give a render, and without them stays as QGIS draws it.
* MapLibre evaluates zoom functions at the map's zoom; QGIS 3.22 hands the style a zoom 0.08 lower
  (its scale-to-zoom rule assumes OGC's 0.28 mm pixel) and writes exponential interpolation as a
  power curve, QGIS 3.40's vtpk source interpolates the zoom linearly in scale between levels.  The
  style's expressions compute MapLibre's zoom from the map scale instead (:func:`zoom_as_maplibre`).
* MapLibre starts a polygon ring's dashes one closing segment into the pattern and never clips a
  line to the view; the dash offset and an unclipped symbol do the same (:func:`_dashes_from_ring_start`).
* MapLibre breaks a label wider than ``text-max-width`` ems into lines of about equal width,
  measured with the package's glyph advances ("Bosnia / and Herz."); QGIS fills the first line by
  characters, and the converter allows 2 per em (8 em → 16 characters, where a 12 px "United States
  of" is already wider than 96 px).  The label becomes an expression that inserts MapLibre's breaks
  (:mod:`.label_lines`, measured with the package's glyphs, or the label's font without them);
  QGIS's wrap, its character count recomputed from the font's average letter width, is kept only
  for a label with very many words.
* MapLibre puts a point label's baseline ``ascent - 17/24`` em below its anchor (plus half its
  line box for a top or bottom anchor) and its lines ``text-line-height`` (1.2) ems apart; QGIS
  centres the font's ascent + descent box there, about 0.13 em lower, with lines one font line
  spacing apart.  The label's line height and offset take the difference.  Wrap length and line
  height in ems do not depend on the size; with a zoom-dependent ``text-size`` the offset becomes
  an expression of the converter's size expression (the converter fixes ``text-offset`` at the
  size of its first stop).

Reading the resources (:func:`read_style_resources`) is pure and thread-safe; the conversion and
everything that touches a layer run on the main thread.
"""
from __future__ import annotations

import json
import logging
import posixpath
import re
from dataclasses import dataclass, replace

from qgis.core import (
    Qgis,
    QgsContrastEnhancement,
    QgsExpression,
    QgsFillSymbol,
    QgsGeometryGeneratorSymbolLayer,
    QgsMapBoxGlStyleConversionContext,
    QgsMapBoxGlStyleConverter,
    QgsMultiBandColorRenderer,
    QgsPalLayerSettings,
    QgsProperty,
    QgsRaster,
    QgsRasterFillSymbolLayer,
    QgsRasterLayer,
    QgsRasterMarkerSymbolLayer,
    QgsSimpleFillSymbolLayer,
    QgsSimpleLineSymbolLayer,
    QgsSingleBandGrayRenderer,
    QgsSymbolLayer,
    QgsUnitTypes,
    QgsVectorTileBasicRenderer,
    QgsVectorTileLayer,
)
from qgis.PyQt.QtCore import QByteArray, Qt
from qgis.PyQt.QtGui import QFontDatabase, QFontMetricsF, QGuiApplication, QImage

from ..core.errors import PackageError
from ..core.packages.glyphs import FontAdvances, read_font_advances
from .label_lines import advances_from_font, maplibre_lines_expression

log = logging.getLogger(__name__)

STYLE_RESOURCE = "styles/root.json"
# Screen pixels of Mapbox GL styles → millimetres, as QGIS' vtpk loader does (96 dpi).
PIXEL_SIZE_MM = 25.4 / 96.0
# Sprite sheets by pixel ratio.  QGIS's own loader takes sprite@2x first; like MapLibre, the plugin
# takes the sheet made for the screen (see StyleResources.for_pixel_ratio), sprite@2x when unsure.
SPRITE_VARIANTS = ("@2x", "")
SPRITE_RATIOS = {"@2x": 2.0, "": 1.0}
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
    # every usable sheet as (pixel ratio, png, index json, name), in SPRITE_VARIANTS order
    sprite_sheets: tuple[tuple[float, bytes, str, str], ...] = ()
    # glyph advances of the font stacks of the style's labels, as (stack joined by ",", advances)
    fonts: tuple[tuple[str, FontAdvances], ...] = ()

    @property
    def style(self) -> dict:
        return json.loads(self.style_json)

    def for_pixel_ratio(self, ratio: float) -> StyleResources:
        """These resources with the sprite sheet MapLibre would take on a screen of device pixel
        ``ratio``: the smallest sheet at least that sharp, else the sharpest.  At ratio 1 the 1x sheet
        draws pixel for pixel as ArcGIS draws it; a @2x sheet scaled down blurs thin lines and
        changes the colour of hatches."""
        if not self.sprite_sheets:
            return self
        sharp_enough = [sheet for sheet in self.sprite_sheets if sheet[0] >= ratio - 1e-6]
        best = (min(sharp_enough, key=lambda sheet: sheet[0]) if sharp_enough
                else max(self.sprite_sheets, key=lambda sheet: sheet[0]))
        return replace(self, sprite_png=best[1], sprite_json=best[2], sprite_name=best[3])


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
    sheets = []
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
                    continue
                sheets.append((SPRITE_RATIOS[variant], png, sprite_json, png_rel))
    first = sheets[0] if sheets else (0.0, None, None, "")
    return StyleResources(json.dumps(style), first[1], first[2], first[3], tuple(sheets), _read_fonts(pkg, style))


def _read_fonts(pkg, style: dict) -> tuple[tuple[str, FontAdvances], ...]:
    """The glyph advances of every static ``text-font`` stack of the style's point labels (at most
    MAX_FONT_STACKS; a missing or unusable glyph file leaves its characters out)."""
    template = style.get("glyphs")

    def read(path: str) -> bytes | None:
        try:
            return pkg.resource(path) if pkg.has_resource(path) else None
        except PackageError as exc:
            log.info("%s: glyph file %s is unusable (%s)", pkg.path, path, exc)
            return None

    fonts: dict[str, FontAdvances] = {}
    for gl in style.get("layers") or []:
        layout = gl.get("layout") if isinstance(gl, dict) else None
        if not isinstance(layout, dict) or layout.get("symbol-placement", "point") != "point":
            continue
        stack = _static_stack(layout.get("text-font"))
        if stack is None or ",".join(stack) in fonts or len(fonts) >= MAX_FONT_STACKS:
            continue
        advances = read_font_advances(read, stack, template) if isinstance(template, str) else None
        if advances is not None:
            fonts[",".join(stack)] = advances
    return tuple(fonts.items())


def _static_stack(value) -> list[str] | None:
    if value is None:
        value = DEFAULT_TEXT_FONT
    if isinstance(value, list) and value and all(isinstance(name, str) for name in value):
        return value if not any(name in _EXPRESSION_WORDS for name in value) else None
    return None


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


def _map_units():
    render_unit = getattr(Qgis, "RenderUnit", None)  # QGIS >= 3.30
    if render_unit is not None:
        return render_unit.MapUnits
    return QgsUnitTypes.RenderUnit.RenderMapUnits


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


def _screen_pixel_ratio() -> float:
    """The device pixel ratio of the primary screen (1 without one, as headless)."""
    screen = QGuiApplication.primaryScreen() if QGuiApplication.instance() is not None else None
    return float(screen.devicePixelRatio()) if screen is not None else 1.0


def apply_vector_style(layer: QgsVectorTileLayer, resources: StyleResources | None) -> None:
    """Give ``layer`` the package's own style; missing fonts are logged once, by name.

    Natively opened vtpks get the same conversion: QGIS 3.40's vtpk layer starts with a generic
    three-rule renderer (random colours), so "a renderer with styles exists" proves nothing, and one
    code path makes a package look the same in every QGIS version.  A package without a usable style
    falls back to QGIS' own default style loading.
    """
    style = resources.style if resources is not None else None
    if resources is not None:
        resources = resources.for_pixel_ratio(_screen_pixel_ratio())
    if style is None:
        _qgis_default_style(layer)
        return
    converter = QgsMapBoxGlStyleConverter()
    outcome = converter.convert(style, _conversion_context(resources))
    if outcome != QgsMapBoxGlStyleConverter.Result.Success:
        log.warning("The style of %s could not be converted (%s); QGIS' default style is used",
                    layer.name(), converter.errorMessage())
        _qgis_default_style(layer)
    else:
        renderer, labeling = converter.renderer(), converter.labeling()
        draw_as_maplibre(renderer, style, resources)
        labels_as_maplibre(labeling, style, dict(resources.fonts))
        zoom_as_maplibre(renderer, labeling)
        layer.setRenderer(renderer)
        layer.setLabeling(labeling)
    # QGIS warns once per style layer about a missing font; we report fonts once ourselves.
    warnings = [w for w in converter.warnings() if "font" not in w.lower()]
    if warnings:
        log.info("Converting the style of %s: %s", layer.name(), "; ".join(warnings))
    missing = missing_fonts(style)
    if missing:
        log.warning("%s: the fonts %s are not installed; its labels use a substitute font. Install "
                    "them and reopen the package to see the labels as designed.", layer.name(), ", ".join(missing))


# -- the zoom MapLibre sees -------------------------------------------------------------------------------
EARTH_HALF_CIRCUMFERENCE = 20037508.342789244  # EPSG:3857, metres
TILE_PX = 512  # MapLibre's zoom is the zoom of 512 px tiles
ZOOM_VARIABLE = "@vector_tile_zoom"
# Map units per millimetre on the page and the map's zoom as MapLibre computes it (512 px tiles of
# 25.4/96 mm), from the scale QGIS derives from the extent.  Null without a map settings scope (a
# bare QgsMapSettings).
_MAP_MM = "(@map_scale / 1000.0)"
_ZOOM = f"log(2, {2 * EARTH_HALF_CIRCUMFERENCE!r} / ({TILE_PX} * {PIXEL_SIZE_MM!r} * {_MAP_MM}))"
_STYLE_ZOOM = f"coalesce({_ZOOM}, {ZOOM_VARIABLE})"
_ZOOM_WORD = re.compile(re.escape(ZOOM_VARIABLE) + r"\b")
# QGIS 3.22's converter writes MapLibre's exponential interpolation ``base^(z - z0)`` as
# ``scale_exp(zoom, z0, z1, v0, v1, base)``, a power curve ((z - z0) / (z1 - z0))^base (3.28's
# converter uses scale_exponential, which is MapLibre's): at zoom 5 a line going from 0.5 to 2 px
# between zooms 3 and 6 with base 1.5 is 1.32 px instead of 1.29, and its dashes drift apart.
_NUMBER = r"\s*(-?[0-9.]+(?:[eE][-+]?[0-9]+)?)\s*"
_POWER_CURVE = re.compile(r"scale_exp\(\s*" + re.escape(ZOOM_VARIABLE) + "," + ",".join([_NUMBER] * 5) + r"\)")


def _exponential(match) -> str:
    z0, z1, v0, v1, base = match.groups()
    return (f"scale_linear(({base} ^ (@aot_zoom - {z0}) - 1) / ({base} ^ ({z1} - {z0}) - 1), 0, 1, {v0}, {v1})"
            if float(base) != 1 else f"scale_linear(@aot_zoom, {z0}, {z1}, {v0}, {v1})")


def zoom_as_maplibre(renderer, labeling) -> int:
    """Let the converted style's zoom functions see the zoom MapLibre would show the map at.

    The converter writes them over ``@vector_tile_zoom``, which is not that zoom: QGIS 3.22 derives
    it from OGC's 0.28 mm pixel (``QgsVectorTileUtils::scaleToZoom``: log2(559082264 / scale) - 1),
    0.08 below MapLibre's 1/96 inch pixel at every scale, and QGIS 3.40's vtpk source interpolates it
    linearly in scale between two levels (3.68 where MapLibre shows 3.6).  Every expression computes
    MapLibre's zoom once from ``@map_scale`` instead, and keeps ``@vector_tile_zoom`` where the map
    scale is unknown; 3.22's power curves become MapLibre's exponential interpolation (see
    ``_POWER_CURVE``).  Returns how many expressions changed."""
    changed = 0

    def fix(properties) -> bool:
        nonlocal changed
        touched = False
        for key in properties.propertyKeys():
            prop = properties.property(key)
            expression = prop.expressionString() if prop.isActive() else ""
            if ZOOM_VARIABLE not in expression or "@aot_zoom" in expression:
                continue
            expression = _ZOOM_WORD.sub("@aot_zoom", _POWER_CURVE.sub(_exponential, expression))
            prop.setExpressionString(f"with_variable('aot_zoom', {_STYLE_ZOOM}, {expression})")
            properties.setProperty(key, prop)
            changed += 1
            touched = True
        return touched

    def fix_symbol(symbol) -> None:
        for index in range(symbol.symbolLayerCount()):
            layer = symbol.symbolLayer(index)
            properties = layer.dataDefinedProperties()
            if fix(properties):
                layer.setDataDefinedProperties(properties)
            if layer.subSymbol() is not None:
                fix_symbol(layer.subSymbol())

    if isinstance(renderer, QgsVectorTileBasicRenderer):
        styles = renderer.styles()
        for rule in styles:
            if rule.symbol() is not None:
                fix_symbol(rule.symbol())
        renderer.setStyles(styles)
    if labeling is not None and hasattr(labeling, "styles"):
        styles = labeling.styles()
        for label_style in styles:
            settings = label_style.labelSettings()
            properties = settings.dataDefinedProperties()
            if fix(properties):
                settings.setDataDefinedProperties(properties)
                label_style.setLabelSettings(settings)
        labeling.setStyles(styles)
    return changed


# -- drawing as MapLibre draws (main thread) --------------------------------------------------------
OUTLINE_SUFFIX = " (outline)"
# A converter size expression: ``WHEN "field" = 'sprite name' THEN 3`` (one branch per sprite).
_SIZE_BRANCH = re.compile(r"(=\s*'((?:[^']|'')*)'\s+THEN\s+)(-?[0-9.]+)")


def _property_key(name: str):
    """A ``QgsSymbolLayer`` data-defined property key (scoped enum on QGIS >= 3.30)."""
    scoped = getattr(QgsSymbolLayer, "Property", None)
    if scoped is not None and hasattr(scoped, name):
        return getattr(scoped, name)
    return getattr(QgsSymbolLayer, f"Property{name}")


def draw_as_maplibre(renderer, style: dict, resources: StyleResources | None) -> tuple[int, int]:
    """Correct the converter's ``renderer`` in place to draw as MapLibre does (see the module notes).

    Returns (outline rules added, sizes made exact).  Anything it does not recognise stays as the
    converter made it.
    """
    if not isinstance(renderer, QgsVectorTileBasicRenderer):
        return 0, 0
    gl_layers = {gl.get("id"): gl for gl in style.get("layers") or [] if isinstance(gl, dict)}
    sprites = _sprite_index(resources)
    styles, outlines, exact, dashed = [], 0, 0, 0
    for rule in renderer.styles():
        gl = gl_layers.get(rule.styleName())
        if gl is not None and sprites:
            exact += _exact_sprite_sizes(rule.symbol(), gl, sprites)
            _anchor_patterns(rule.symbol(), gl, sprites)
        if gl is not None:
            dashed += _dashes_from_ring_start(rule.symbol(), gl)
        styles.append(rule)
        outline = _split_outline(rule)
        if outline is not None:
            styles.append(outline)
            outlines += 1
    if outlines or exact or dashed:
        renderer.setStyles(styles)
    return outlines, exact


def _split_outline(rule):
    """Turn a fill-and-outline ``rule`` into fill only (in place) and return its outline-only twin.

    Outlines in the fill's own colour (MapLibre's antialiasing edge) are left alone: splitting them
    would cost a second pass and change nothing visible."""
    symbol = rule.symbol()
    if not isinstance(symbol, QgsFillSymbol):
        return None
    fill_color, stroke_color, stroke_width = (_property_key(n) for n in ("FillColor", "StrokeColor", "StrokeWidth"))
    stroked = []
    for index in range(symbol.symbolLayerCount()):
        layer = symbol.symbolLayer(index)
        if not isinstance(layer, QgsSimpleFillSymbolLayer) or layer.strokeStyle() == Qt.PenStyle.NoPen:
            continue
        properties = layer.dataDefinedProperties()
        dynamic = properties.isActive(stroke_color) or properties.isActive(fill_color)
        if layer.strokeColor().alpha() == 0 and not properties.isActive(stroke_color):
            continue
        if dynamic or layer.strokeColor() != layer.color() or layer.brushStyle() == Qt.BrushStyle.NoBrush:
            stroked.append(index)
    if not stroked:
        return None
    outline_symbol = symbol.clone()
    for index in reversed(range(outline_symbol.symbolLayerCount())):
        if index not in stroked:
            outline_symbol.deleteSymbolLayer(index)
            continue
        layer = outline_symbol.symbolLayer(index)
        layer.setBrushStyle(Qt.BrushStyle.NoBrush)
        layer.setDataDefinedProperty(fill_color, QgsProperty())
    for index in stroked:
        layer = symbol.symbolLayer(index)
        layer.setStrokeStyle(Qt.PenStyle.NoPen)
        layer.setDataDefinedProperty(stroke_color, QgsProperty())
        layer.setDataDefinedProperty(stroke_width, QgsProperty())
    outline = type(rule)(rule)
    outline.setStyleName(rule.styleName() + OUTLINE_SUFFIX)
    outline.setSymbol(outline_symbol)
    return outline


def _sprite_index(resources: StyleResources | None) -> dict:
    if resources is None or not resources.sprite_json or not resources.sprite_png:
        return {}
    try:
        index = json.loads(resources.sprite_json)
    except ValueError:
        return {}
    return index if isinstance(index, dict) else {}


def _sprite_mm(sprites: dict, name: str) -> float | None:
    """The width of sprite ``name`` in millimetres at the style's pixel size, unrounded."""
    entry = sprites.get(name)
    if not isinstance(entry, dict):
        return None
    try:
        width = float(entry["width"])
        ratio = float(entry.get("pixelRatio") or 1)
    except (KeyError, TypeError, ValueError):
        return None
    if width <= 0 or ratio <= 0:
        return None
    return width / ratio * PIXEL_SIZE_MM


def _static_number(value, default: float) -> float | None:
    if value is None:
        return default
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    return None  # zoom- or data-dependent: left as the converter made it


def _exact_sprite_sizes(symbol, gl: dict, sprites: dict) -> int:
    """Recompute the icon / pattern sizes of ``symbol`` (converted from style layer ``gl``)."""
    layout = gl.get("layout") if isinstance(gl.get("layout"), dict) else {}
    paint = gl.get("paint") if isinstance(gl.get("paint"), dict) else {}
    width_key = _property_key("Width")
    changed = 0
    for index in range(symbol.symbolLayerCount()):
        layer = symbol.symbolLayer(index)
        if isinstance(layer, QgsRasterMarkerSymbolLayer):
            scale, image = _static_number(layout.get("icon-size"), 1.0), layout.get("icon-image")
            set_size = layer.setSize
        elif isinstance(layer, QgsRasterFillSymbolLayer):
            scale, image, set_size = 1.0, paint.get("fill-pattern"), layer.setWidth
        else:
            continue
        if scale is None or not isinstance(image, str):
            continue
        properties = layer.dataDefinedProperties()
        if properties.isActive(width_key):
            # "{field}" images: a CASE of sprite sizes, the converter applies icon-size around it
            expression = properties.property(width_key).expressionString()
            exact = _SIZE_BRANCH.sub(lambda m: _exact_branch(m, sprites), expression)
            if exact != expression:
                properties.setProperty(width_key, QgsProperty.fromExpression(exact))
                layer.setDataDefinedProperties(properties)
                changed += 1
        elif "{" not in image:
            size = _sprite_mm(sprites, image)
            if size is not None:
                set_size(size * scale)
                changed += 1
    return changed


# MapLibre draws a fill pattern in pixels of the map's integer zoom (floor of the zoom: it grows with
# the map between two levels) anchored to the world's pixel grid there: a tile's pattern starts at the
# tile's pixel origin at that zoom.  QGIS's raster fill anchors its texture at the painter's origin
# (the map's top-left corner) and its offset moves the polygon with it.  A geometry generator that
# moves the polygon back by the offset leaves only the texture moved, onto the world grid.
ZOOM_EPSILON = 1e-6  # a scale a hair off an integer zoom is that zoom (floor() would drop a level)
# Without a map settings scope (a bare QgsMapSettings) the pattern stays as QGIS draws it.
_ZOOM_GROWTH = (f"with_variable('aot_f', {_ZOOM} - floor({_ZOOM} + {ZOOM_EPSILON}), "
                f"if(abs(@aot_f) < {ZOOM_EPSILON}, 1.0, 2 ^ @aot_f))")
# The tile grid is Web Mercator's, on an unrotated map: elsewhere the pattern stays as QGIS draws it.
_ON_THE_GRID = ("(@map_crs = 'EPSG:3857' AND coalesce(@layer_crs, 'EPSG:3857') = 'EPSG:3857' "
                "AND coalesce(@map_rotation, 0) = 0)")


def _pattern_phase(axis: str, size_mm: str) -> str:
    """How far (mm, ≥ 0) the map's top-left corner lies past the last pattern start of the world grid
    (null off the grid)."""
    world = (f"(x_min(@map_extent) + {EARTH_HALF_CIRCUMFERENCE!r})" if axis == "x"
             else f"({EARTH_HALF_CIRCUMFERENCE!r} - y_max(@map_extent))")
    return (f"if({_ON_THE_GRID}, with_variable('aot_p', {size_mm}, with_variable('aot_w', {world} / {_MAP_MM}, "
            f"@aot_w - @aot_p * floor(@aot_w / @aot_p))), NULL)")


# MapLibre measures a polygon ring's dash distance from its last vertex: at the first vertex the
# distance is already the closing segment's length (the generator starts "before" the first vertex,
# at the ring's last distinct one).  QGIS starts every part's dashes at 0, so its dash pattern is
# advanced by that length.  A line style on polygons draws their rings (QGIS's vector tile renderer:
# the polygon's boundary, one part per ring, evaluated part by part).
_RING_DASH_START = (
    "if(geometry_type($geometry) = 'Polygon', with_variable('aot_rings', boundary($geometry), "
    "with_variable('aot_ring', if(num_geometries(@aot_rings) > 1, "
    "geometry_n(@aot_rings, coalesce(@geometry_part_num, 1)), @aot_rings), "
    "distance(point_n(@aot_ring, 1), point_n(@aot_ring, num_points(@aot_ring) - 1)))), 0)")


def _dashes_from_ring_start(symbol, gl: dict) -> int:
    """Start the dashes of a dashed line style where MapLibre starts them (see the notes above), and
    keep lines whole: QGIS clips a line to the map's extent first, restarting its dashes at the cut."""
    paint = gl.get("paint") if isinstance(gl.get("paint"), dict) else {}
    if gl.get("type") != "line" or "line-dasharray" not in paint or symbol is None:
        return 0
    changed = 0
    for index in range(symbol.symbolLayerCount()):
        layer = symbol.symbolLayer(index)
        if isinstance(layer, QgsSimpleLineSymbolLayer):
            layer.setDataDefinedProperty(_property_key("DashPatternOffset"),
                                         QgsProperty.fromExpression(_RING_DASH_START))
            layer.setDashPatternOffsetUnit(_map_units())
            changed += 1
    if changed:
        symbol.setClipFeaturesToExtent(False)
    return changed


def _pattern_unit(layer):
    """The unit of a raster fill's width (``sizeUnit`` from QGIS 3.40, ``widthUnit`` before)."""
    return layer.sizeUnit() if hasattr(layer, "sizeUnit") else layer.widthUnit()


def _anchor_patterns(symbol, gl: dict, sprites: dict) -> int:
    """Anchor the static fill patterns of ``symbol`` to the tile grid and grow them with the zoom as
    MapLibre does (see the notes above); returns how many."""
    paint = gl.get("paint") if isinstance(gl.get("paint"), dict) else {}
    image = paint.get("fill-pattern")
    entry = sprites.get(image) if isinstance(image, str) and "{" not in image else None
    if not isinstance(entry, dict):
        return 0
    try:
        aspect = float(entry["height"]) / float(entry["width"])
    except (KeyError, TypeError, ValueError, ZeroDivisionError):
        return 0
    width_key, offset_key = _property_key("Width"), _property_key("Offset")
    anchored = 0
    for index in range(symbol.symbolLayerCount()):
        layer = symbol.symbolLayer(index)
        if (not isinstance(layer, QgsRasterFillSymbolLayer) or layer.width() <= 0
                or _pattern_unit(layer) != _millimeters() or layer.offsetUnit() != _millimeters()
                or layer.dataDefinedProperties().isActive(width_key)):
            continue
        fill = layer.clone()
        width = f"({layer.width()!r} * {_ZOOM_GROWTH})"
        dx, dy = _pattern_phase("x", width), _pattern_phase("y", f"({width} * {aspect!r})")
        properties = fill.dataDefinedProperties()
        properties.setProperty(width_key, QgsProperty.fromExpression(f"coalesce({width}, {layer.width()!r})"))
        properties.setProperty(offset_key, QgsProperty.fromExpression(
            f"coalesce(array(-({dx}), -({dy})), array(0, 0))"))
        fill.setDataDefinedProperties(properties)
        generator = QgsGeometryGeneratorSymbolLayer.create({
            "SymbolType": "Fill",
            # the offset's inverse in map units (y up): the polygon stays, only the texture moves
            "geometryModifier": (f"coalesce(translate($geometry, ({dx}) * {_MAP_MM}, -({dy}) * {_MAP_MM}), "
                                 "$geometry)")})
        generator.subSymbol().changeSymbolLayer(0, fill)
        symbol.changeSymbolLayer(index, generator)
        anchored += 1
    return anchored


def _exact_branch(match, sprites: dict) -> str:
    size = _sprite_mm(sprites, match.group(2).replace("''", "'"))
    return match.group(0) if size is None else f"{match.group(1)}{size:.6g}"


# MapLibre's defaults (style specification) for what a symbol layer may leave out.
DEFAULT_TEXT_SIZE_PX = 16.0
DEFAULT_TEXT_MAX_WIDTH_EM = 10.0
DEFAULT_TEXT_LINE_HEIGHT_EM = 1.2
DEFAULT_TEXT_FONT = ["Open Sans Regular", "Arial Unicode MS Regular"]
MAX_FONT_STACKS = 32  # font stacks whose glyph advances are read (six small files each)
_LOWER_CASE = "abcdefghijklmnopqrstuvwxyz"


# MapLibre shapes glyphs 17/24 em up (SHAPING_DEFAULT_OFFSET at ONE_EM = 24); glyph PBFs give the
# glyph tops relative to the font's ascent.
MAPLIBRE_GLYPH_OFFSET_EM = 17.0 / 24.0


def labels_as_maplibre(labeling, style: dict, fonts: dict[str, FontAdvances] | None = None) -> int:
    """Wrap and place point labels as MapLibre does (see the module notes).

    ``text-max-width`` and ``text-line-height`` must be static; a zoom-dependent ``text-size`` keeps
    the converter's size expression, and the offset (``text-offset`` and the baseline shift, both in
    ems) becomes an expression of it.  A label wider than ``text-max-width`` breaks into the lines
    MapLibre draws, measured with the package's glyphs (``fonts``, by font stack joined with ",") or,
    without them, with the label's own font (:mod:`.label_lines`).  Returns how many label styles
    changed."""
    if labeling is None or not hasattr(labeling, "styles"):
        return 0
    gl_layers = {gl.get("id"): gl for gl in style.get("layers") or [] if isinstance(gl, dict)}
    styles, changed = labeling.styles(), 0
    for label_style in styles:
        gl = gl_layers.get(label_style.styleName())
        layout = gl.get("layout") if isinstance(gl, dict) and isinstance(gl.get("layout"), dict) else {}
        if layout.get("symbol-placement", "point") != "point":
            continue
        settings = label_style.labelSettings()
        size = _static_number(layout.get("text-size"), DEFAULT_TEXT_SIZE_PX)
        size_mm = None  # the converter's zoom-dependent size expression (millimetres), when dynamic
        if size is None:
            size, size_mm = _zoom_text_size(layout.get("text-size"), settings)
        if size is None or size <= 0:
            continue
        font = settings.format().font()
        font.setPixelSize(max(1, round(size)))
        metrics = QFontMetricsF(font)
        max_width = _static_number(layout.get("text-max-width"), DEFAULT_TEXT_MAX_WIDTH_EM)
        if max_width is not None and settings.autoWrapLength > 0:
            sample = _LOWER_CASE.upper() if layout.get("text-transform") == "uppercase" else _LOWER_CASE
            letter = metrics.horizontalAdvance(sample) / len(sample)
            if letter > 0:
                settings.autoWrapLength = max(1, int(max_width * size / letter))
                settings.useMaxLineLengthForAutoWrap = True
            _lines_as_maplibre(settings, layout, max_width, (fonts or {}).get(
                ",".join(_static_stack(layout.get("text-font")) or [])))
        line_height = _static_number(layout.get("text-line-height"), DEFAULT_TEXT_LINE_HEIGHT_EM)
        if line_height is not None and line_height > 0 and metrics.height() > 0:
            text_format = settings.format()
            text_format.setLineHeight(line_height * size / metrics.height())  # QGIS spaces lines by height
            settings.setFormat(text_format)
            shift = _baseline_shift_em(settings, metrics.ascent() / size, metrics.descent() / size, line_height)
            if size_mm is not None:
                _zoom_offset(settings, layout, shift, size_mm)
            elif shift and settings.offsetUnits == _millimeters():
                settings.yOffset += shift * size * PIXEL_SIZE_MM
        label_style.setLabelSettings(settings)
        changed += 1
    if changed:
        labeling.setStyles(styles)
    return changed


def _lines_as_maplibre(settings, layout: dict, max_width: float, font: FontAdvances | None) -> None:
    """The label text breaks where MapLibre breaks it; QGIS's own wrapping (kept as the fallback of a
    label with very many words) is switched off."""
    spacing = _static_number(layout.get("text-letter-spacing"), 0.0)
    if spacing is None or not settings.fieldName:
        return
    text = settings.fieldName if settings.isExpression else QgsExpression.quotedColumnRef(settings.fieldName)
    if font is None:
        font = advances_from_font(settings.format().font())
    settings.fieldName = maplibre_lines_expression(text, font, max_width, spacing, settings.autoWrapLength)
    settings.isExpression = True
    settings.autoWrapLength = 0


def _label_property(name: str):
    """A ``QgsPalLayerSettings`` data-defined property key (scoped enum on newer QGIS)."""
    scoped = getattr(QgsPalLayerSettings, "Property", None)
    if scoped is not None and hasattr(scoped, name):
        return getattr(scoped, name)
    return getattr(QgsPalLayerSettings, name)


def _zoom_values(value) -> list[float]:
    """The sizes a zoom function (``{"stops": …}``, ``["interpolate", …, ["zoom"], …]`` or
    ``["step", ["zoom"], …]``) takes at its stops; empty for anything else."""
    if isinstance(value, dict) and "property" not in value:
        pairs = [stop for stop in value.get("stops") or [] if isinstance(stop, list) and len(stop) == 2]
        outputs = [stop[1] for stop in pairs]
    elif isinstance(value, list) and len(value) >= 5 and value[0] == "interpolate" and value[2] == ["zoom"]:
        outputs = value[4::2]
    elif isinstance(value, list) and len(value) >= 3 and value[0] == "step" and value[1] == ["zoom"]:
        outputs = value[2::2]
    else:
        return []
    numbers = [_static_number(v, 0.0) for v in outputs]
    return [] if any(n is None or n <= 0 for n in numbers) else numbers


def _zoom_text_size(value, settings) -> tuple[float | None, str | None]:
    """For a zoom-dependent ``text-size``: a representative size in pixels (wrap length and line
    height in ems do not depend on it) and the converter's size expression; (None, None) otherwise."""
    sizes = _zoom_values(value)
    properties = settings.dataDefinedProperties()
    key = _label_property("Size")
    if not sizes or not properties.isActive(key):
        return None, None
    expression = properties.property(key).expressionString()
    if not expression:
        return None, None
    sizes.sort()
    return sizes[len(sizes) // 2], expression


def _zoom_offset(settings, layout: dict, shift_em: float, size_mm: str) -> None:
    """``text-offset`` (ems) and the baseline shift follow a zoom-dependent text size: the converter
    fixed the offset at its first stop's size, MapLibre scales it with the size at the map's zoom."""
    offset = layout.get("text-offset", [0, 0])
    if (not isinstance(offset, list) or len(offset) != 2 or "text-radial-offset" in layout
            or any(_static_number(v, 0.0) is None for v in offset) or settings.offsetUnits != _millimeters()):
        return
    x_em, y_em = float(offset[0]), float(offset[1]) + shift_em
    properties = settings.dataDefinedProperties()
    properties.setProperty(_label_property("OffsetXY"), QgsProperty.fromExpression(
        f"array({x_em:.6g} * ({size_mm}), {y_em:.6g} * ({size_mm}))"))
    settings.setDataDefinedProperties(properties)


def _baseline_shift_em(settings, ascent: float, descent: float, line_height: float) -> float:
    """How far (ems, down) QGIS must move a point label to put its first baseline where MapLibre does
    (the same for any number of lines once both space them ``line_height`` apart)."""
    if settings.placement != QgsPalLayerSettings.Placement.OverPoint:
        return 0.0
    row = int(settings.quadOffset) // 3  # quadrants: 0-2 above the point, 3-5 level with it, 6-8 below
    maplibre = ascent - MAPLIBRE_GLYPH_OFFSET_EM + line_height / 2 * (row - 1)
    qgis = (-descent, (ascent - descent) / 2, ascent)[row]
    return maplibre - qgis


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
