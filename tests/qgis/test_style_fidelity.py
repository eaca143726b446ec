"""A package's Mapbox GL style draws in QGIS as MapLibre draws it (issue 10, part 2).

Each test builds a small vtpk whose style has the feature under test, opens it through the plugin's
opener (converted on QGIS 3.22, native on 3.32+) and checks both the built style and the picture.
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from qgis.core import (
    QgsExpression,
    QgsExpressionContext,
    QgsExpressionContextUtils,
    QgsFeature,
    QgsFillSymbol,
    QgsMapRendererSequentialJob,
    QgsMapSettings,
    QgsProject,
    QgsRasterFillSymbolLayer,
    QgsRasterMarkerSymbolLayer,
    QgsRectangle,
    QgsVectorLayer,
)
from qgis.PyQt.QtCore import QBuffer, QByteArray, QIODevice, QSize, Qt
from qgis.PyQt.QtGui import QColor, QFont, QFontMetricsF, QImage

from arcgis_emulator.writers import write_package
from plugin.qgis_glue.layers import open_package_layer
from plugin.qgis_glue.style import OUTLINE_SUFFIX, PIXEL_SIZE_MM
from tests.unit.packages.helpers import WM_HALF, _field, _varint, glyph_pbf, wm_doc

EXTENT = 4096  # MVT tile extent
VIEW_PX = 512  # one 512 px level-0 tile drawn 1:1 at 96 dpi
FILL = "#fcecbd"
OUTLINE = "#6e6e6e"
ICON = "#c00000"
ICON_PX = 10  # converted on 3.22 to round(2.65 mm) = 3 mm = 11.3 px
ICON_SCALE = 4  # makes the rounding visible: 40 px exact, 45 px rounded
PATTERN_PX = 8


# -- a tiny MVT writer for points and polygons ----------------------------------------------------------
def _zigzag(value: int) -> int:
    return (value << 1) ^ (value >> 31)


def _geometry(kind: str, coords) -> bytes:
    """MVT commands for a point ``(x, y)`` or a square ring ``(x0, y0, x1, y1)`` (tile units)."""
    if kind == "point":
        x, y = coords
        commands = [9, _zigzag(x), _zigzag(y)]
    else:
        x0, y0, x1, y1 = coords
        ring = [(x0, y0), (x1, y0), (x1, y1), (x0, y1)]  # positive area in tile space: an exterior ring
        commands, (px, py) = [9, _zigzag(x0), _zigzag(y0), (3 << 3) | 2], ring[0]
        for x, y in ring[1:]:
            commands += [_zigzag(x - px), _zigzag(y - py)]
            px, py = x, y
        commands.append(15)  # ClosePath
    return b"".join(_varint(c) for c in commands)


def _mvt(layers: dict[str, list[tuple[str, tuple, dict]]]) -> bytes:
    """``{layer: [(kind, coords, properties), …]}`` as raw MVT bytes (string properties only)."""
    import gzip

    out = b""
    geom_types = {"point": 1, "polygon": 3}
    for name, features in layers.items():
        keys: list[str] = []
        values: list[str] = []
        body = _field(15, 0, 2) + _field(1, 2, name.encode())
        for number, (kind, coords, props) in enumerate(features, 1):
            tags = []
            for key, value in props.items():
                if key not in keys:
                    keys.append(key)
                if value not in values:
                    values.append(value)
                tags += [keys.index(key), values.index(value)]
            feature = _field(1, 0, number) + _field(3, 0, geom_types[kind])
            if tags:
                feature += _field(2, 2, b"".join(_varint(t) for t in tags))
            body += _field(2, 2, feature + _field(4, 2, _geometry(kind, coords)))
        body += b"".join(_field(3, 2, k.encode()) for k in keys)
        body += b"".join(_field(4, 2, _field(1, 2, v.encode())) for v in values)
        out += _field(3, 2, body + _field(5, 0, EXTENT))
    return gzip.compress(out, mtime=0)


def _png(image: QImage) -> bytes:
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    image.save(buffer, "PNG")
    buffer.close()
    return bytes(data)


def _sprites() -> dict[str, bytes]:
    """One ICON_PX square icon and one PATTERN_PX square pattern (1x sprite)."""
    sheet = QImage(ICON_PX + PATTERN_PX, max(ICON_PX, PATTERN_PX), QImage.Format.Format_ARGB32)
    sheet.fill(QColor(ICON))
    index = {"dot": {"x": 0, "y": 0, "width": ICON_PX, "height": ICON_PX, "pixelRatio": 1},
             "hatch": {"x": ICON_PX, "y": 0, "width": PATTERN_PX, "height": PATTERN_PX, "pixelRatio": 1}}
    return {"sprites/sprite.png": _png(sheet), "sprites/sprite.json": json.dumps(index).encode()}


def _vtpk(path: Path, style_layers: list[dict], tile: dict, sprites: dict | None = None,
          fonts: dict[str, bytes] | None = None) -> Path:
    style = {"version": 8, "sprite": "../sprites/sprite", "glyphs": "../fonts/{fontstack}/{range}.pbf",
             "sources": {"esri": {"type": "vector", "url": "../../"}},
             "layers": [{"id": "background", "type": "background", "paint": {"background-color": "#ffffff"}}]
             + style_layers}
    resources = {"styles/root.json": json.dumps(style).encode(), **(sprites or _sprites()), **(fonts or {})}
    write_package("vtpk", path, wm_doc(tile=512, levels=1), [(0, 0, 0, _mvt(tile))], resources=resources)
    return path


def _render(layer, half: float = WM_HALF, shift_px: tuple[float, float] = (0, 0), canvas: bool = False,
            rotation: float = 0) -> QImage:
    """The layer drawn at VIEW_PX square around (0, 0); a smaller ``half`` zooms in, ``shift_px`` moves
    the view right and down by that many pixels, ``canvas`` gives the render the expression scopes the
    map canvas gives it (map scale and extent)."""
    settings = QgsMapSettings()
    settings.setLayers([layer])
    settings.setDestinationCrs(layer.crs())
    pixel = 2 * half / VIEW_PX
    dx, dy = shift_px[0] * pixel, -shift_px[1] * pixel
    settings.setExtent(QgsRectangle(-half + dx, -half + dy, half + dx, half + dy))
    settings.setOutputSize(QSize(VIEW_PX, VIEW_PX))
    settings.setOutputDpi(96)
    settings.setBackgroundColor(QColor(Qt.GlobalColor.white))
    settings.setFlag(QgsMapSettings.Flag.Antialiasing, False)
    settings.setRotation(rotation)
    if canvas:
        context = QgsExpressionContext()
        context.appendScope(QgsExpressionContextUtils.globalScope())
        context.appendScope(QgsExpressionContextUtils.projectScope(QgsProject.instance()))
        context.appendScope(QgsExpressionContextUtils.mapSettingsScope(settings))
        settings.setExpressionContext(context)
    job = QgsMapRendererSequentialJob(settings)
    job.start()
    job.waitForFinished()
    return job.renderedImage().convertToFormat(QImage.Format.Format_ARGB32)


def _px(tile_units: int) -> int:
    return round(tile_units * VIEW_PX / EXTENT)


def _near(image: QImage, x: int, y: int, colour: str, radius: int = 1) -> bool:
    """Whether a pixel within ``radius`` of (x, y) has ``colour`` (±8 per channel)."""
    want = QColor(colour)
    for yy in range(y - radius, y + radius + 1):
        for xx in range(x - radius, x + radius + 1):
            got = QColor.fromRgba(image.pixel(xx, yy))
            if max(abs(got.red() - want.red()), abs(got.green() - want.green()),
                   abs(got.blue() - want.blue())) <= 8:
                return True
    return False


# -- outlines after fills ---------------------------------------------------------------------------------
PITCH = (1800, 1800, 2200, 2200)  # nested in the track and drawn BEFORE it, as in the tile's order
TRACK = (1000, 1000, 3000, 3000)
FILL_LAYER = {"id": "landuse", "type": "fill", "source": "esri", "source-layer": "landuse",
              "paint": {"fill-color": FILL, "fill-outline-color": OUTLINE}}


@pytest.mark.parametrize("native", [None, False], ids=["as-qgis-prefers", "converted"])
def test_outline_rule_comes_after_its_fill_rule(native, tmp_path, qgis_new_project):
    path = _vtpk(tmp_path / "nested.vtpk", [FILL_LAYER],
                 {"landuse": [("polygon", PITCH, {}), ("polygon", TRACK, {})]})
    layer = open_package_layer(path, cache_dir=tmp_path, native=native)
    names = [s.styleName() for s in layer.renderer().styles()]
    assert names == ["background", "landuse", "landuse" + OUTLINE_SUFFIX]
    fill, outline = layer.renderer().styles()[1:]
    for rule in (fill, outline):
        assert isinstance(rule.symbol(), QgsFillSymbol)
        assert (rule.layerName(), rule.minZoomLevel(), rule.maxZoomLevel()) == ("landuse", -1, -1)
    fill_layer, outline_layer = fill.symbol().symbolLayer(0), outline.symbol().symbolLayer(0)
    assert fill_layer.strokeStyle() == Qt.PenStyle.NoPen and fill_layer.color().name() == FILL
    assert outline_layer.brushStyle() == Qt.BrushStyle.NoBrush and outline_layer.strokeColor().name() == OUTLINE


@pytest.mark.parametrize("native", [None, False], ids=["as-qgis-prefers", "converted"])
def test_nested_polygon_keeps_its_outline(native, tmp_path, qgis_new_project):
    path = _vtpk(tmp_path / "nested.vtpk", [FILL_LAYER],
                 {"landuse": [("polygon", PITCH, {}), ("polygon", TRACK, {})]})
    image = _render(open_package_layer(path, cache_dir=tmp_path, native=native))
    middle = _px((PITCH[1] + PITCH[3]) // 2)
    assert _near(image, _px(TRACK[0]), middle, OUTLINE)  # the outer polygon's edge
    assert _near(image, _px(PITCH[0]), middle, OUTLINE)  # the inner one's: lost when fills cover it
    assert _near(image, _px(PITCH[0]) + 8, middle, FILL, radius=0)  # and the fill itself
    assert not _near(image, _px(PITCH[0]) + 8, middle, OUTLINE, radius=3)


def test_outline_in_the_fill_colour_is_not_split(tmp_path, qgis_new_project):
    plain = {"id": "water", "type": "fill", "source": "esri", "source-layer": "landuse",
             "paint": {"fill-color": FILL}}
    path = _vtpk(tmp_path / "plain.vtpk", [plain], {"landuse": [("polygon", TRACK, {})]})
    layer = open_package_layer(path, cache_dir=tmp_path, native=False)
    assert [s.styleName() for s in layer.renderer().styles()] == ["background", "water"]


# -- exact sprite sizes ------------------------------------------------------------------------------------
def _icon_width(image: QImage) -> int:
    """Width in pixels of the icon drawn around the tile centre."""
    y = VIEW_PX // 2
    xs = [x for x in range(VIEW_PX) if _near(image, x, y, ICON, radius=0)]
    return max(xs) - min(xs) + 1 if xs else 0


@pytest.mark.parametrize("image_value", ["dot", "{kind}"], ids=["static", "by-attribute"])
@pytest.mark.parametrize("native", [None, False], ids=["as-qgis-prefers", "converted"])
def test_icon_sizes_are_exact(native, image_value, tmp_path, qgis_new_project):
    icons = {"id": "poi", "type": "symbol", "source": "esri", "source-layer": "poi",
             "layout": {"icon-image": image_value, "icon-size": ICON_SCALE, "icon-allow-overlap": True}}
    path = _vtpk(tmp_path / "icons.vtpk", [icons],
                 {"poi": [("point", (EXTENT // 2, EXTENT // 2), {"kind": "dot"})]})
    layer = open_package_layer(path, cache_dir=tmp_path, native=native)
    styles = layer.renderer().styles()  # kept: a style owns its symbol
    marker = styles[1].symbol().symbolLayer(0)
    assert isinstance(marker, QgsRasterMarkerSymbolLayer)
    exact_mm = ICON_PX * ICON_SCALE * PIXEL_SIZE_MM
    if image_value == "dot":
        assert marker.size() == pytest.approx(exact_mm, rel=1e-6)
    assert abs(_icon_width(_render(layer)) - ICON_PX * ICON_SCALE) <= 1  # 45 px when rounded


ICON_2X = "#0000c0"


def _sprites_1x_and_2x() -> dict[str, bytes]:
    """The 1x sheet's icon in ICON, a @2x sheet whose icon (twice the pixels) is ICON_2X."""
    sheet = QImage(2 * ICON_PX, 2 * ICON_PX, QImage.Format.Format_ARGB32)
    sheet.fill(QColor(ICON_2X))
    index = {"dot": {"x": 0, "y": 0, "width": 2 * ICON_PX, "height": 2 * ICON_PX, "pixelRatio": 2}}
    return {**_sprites(), "sprites/sprite@2x.png": _png(sheet), "sprites/sprite@2x.json": json.dumps(index).encode()}


@pytest.mark.parametrize("native", [None, False], ids=["as-qgis-prefers", "converted"])
def test_icons_come_from_the_sheet_for_the_screen(native, tmp_path, qgis_new_project):
    """A standard screen (device pixel ratio 1, as offscreen) draws the 1x sheet pixel for pixel, as
    MapLibre and ArcGIS do; QGIS's own loader would scale the @2x sheet down."""
    icons = {"id": "poi", "type": "symbol", "source": "esri", "source-layer": "poi",
             "layout": {"icon-image": "dot", "icon-size": ICON_SCALE, "icon-allow-overlap": True}}
    path = _vtpk(tmp_path / "icons.vtpk", [icons], {"poi": [("point", (EXTENT // 2, EXTENT // 2), {})]},
                 sprites=_sprites_1x_and_2x())
    image = _render(open_package_layer(path, cache_dir=tmp_path, native=native))
    assert _near(image, VIEW_PX // 2, VIEW_PX // 2, ICON, radius=0)
    assert not _near(image, VIEW_PX // 2, VIEW_PX // 2, ICON_2X, radius=3)
    assert abs(_icon_width(image) - ICON_PX * ICON_SCALE) <= 1


def test_sheet_choice_follows_the_pixel_ratio():
    from plugin.qgis_glue.style import StyleResources

    sheets = ((2.0, b"2x", "{}", "sprite@2x.png"), (1.0, b"1x", "{}", "sprite.png"))
    resources = StyleResources("{}", b"2x", "{}", "sprite@2x.png", sheets)
    assert resources.for_pixel_ratio(1.0).sprite_png == b"1x"
    assert resources.for_pixel_ratio(1.25).sprite_png == b"2x"  # the sharper sheet, scaled down
    assert resources.for_pixel_ratio(3.0).sprite_png == b"2x"  # the sharpest there is
    only_1x = StyleResources("{}", b"1x", "{}", "sprite.png", sheets[1:])
    assert only_1x.for_pixel_ratio(2.0).sprite_name == "sprite.png"


def _raster_fills(symbol) -> list:
    """The raster fill symbol layers of ``symbol``, in sub-symbols (geometry generators) too."""
    fills = []
    for index in range(symbol.symbolLayerCount()):
        layer = symbol.symbolLayer(index)
        if isinstance(layer, QgsRasterFillSymbolLayer):
            fills.append(layer)
        elif layer.subSymbol() is not None:
            fills += _raster_fills(layer.subSymbol())
    return fills


def test_pattern_size_is_exact(tmp_path, qgis_new_project):
    pattern = {"id": "hatched", "type": "fill", "source": "esri", "source-layer": "landuse",
               "paint": {"fill-pattern": "hatch"}}
    path = _vtpk(tmp_path / "pattern.vtpk", [pattern], {"landuse": [("polygon", TRACK, {})]})
    layer = open_package_layer(path, cache_dir=tmp_path, native=False)
    styles = layer.renderer().styles()
    fills = _raster_fills(styles[1].symbol())
    assert len(fills) == 1
    assert fills[0].width() == pytest.approx(PATTERN_PX * PIXEL_SIZE_MM, rel=1e-6)  # 2 mm when rounded


MARK = "#c00000"


def _mark_sprites() -> dict[str, bytes]:
    """A PATTERN_PX square pattern, transparent but for its top-left pixel (MARK)."""
    sheet = QImage(PATTERN_PX, PATTERN_PX, QImage.Format.Format_ARGB32)
    sheet.fill(Qt.GlobalColor.transparent)
    sheet.setPixelColor(0, 0, QColor(MARK))
    index = {"mark": {"x": 0, "y": 0, "width": PATTERN_PX, "height": PATTERN_PX, "pixelRatio": 1}}
    return {"sprites/sprite.png": _png(sheet), "sprites/sprite.json": json.dumps(index).encode()}


def _solid_sprites() -> dict[str, bytes]:
    sheet = QImage(PATTERN_PX, PATTERN_PX, QImage.Format.Format_ARGB32)
    sheet.fill(QColor(MARK))
    index = {"mark": {"x": 0, "y": 0, "width": PATTERN_PX, "height": PATTERN_PX, "pixelRatio": 1}}
    return {"sprites/sprite.png": _png(sheet), "sprites/sprite.json": json.dumps(index).encode()}


def _marks(image: QImage) -> list[tuple[int, int]]:
    """Where the pattern's marked pixel is drawn, inside the TRACK polygon."""
    inside = range(_px(TRACK[0]) + 2, _px(TRACK[2]) - 2)
    return [(x, y) for y in inside for x in inside if _near(image, x, y, MARK, radius=0)]


@pytest.mark.parametrize("native", [None, False], ids=["as-qgis-prefers", "converted"])
def test_pattern_is_anchored_to_the_tile_grid(native, tmp_path, qgis_new_project):
    """MapLibre starts a fill pattern at each tile's pixel origin, so it stays put on the world while the
    map pans; QGIS's raster fill starts it at the map's top-left corner."""
    pattern = {"id": "hatched", "type": "fill", "source": "esri", "source-layer": "landuse",
               "paint": {"fill-pattern": "mark"}}
    path = _vtpk(tmp_path / "pattern.vtpk", [pattern], {"landuse": [("polygon", TRACK, {})]},
                 sprites=_mark_sprites())
    layer = open_package_layer(path, cache_dir=tmp_path, native=native)
    shift = (3, 5)  # the map's top-left corner is at world pixel (3, 5) of level 0
    marks = _marks(_render(layer, shift_px=shift, canvas=True))
    assert len(marks) > 100
    assert all((x + shift[0]) % PATTERN_PX == 0 and (y + shift[1]) % PATTERN_PX == 0 for x, y in marks), marks[:5]
    # the polygon stays where it is: its first marks lie within one pattern of its corner
    first = min(marks)
    assert _px(TRACK[0]) <= first[0] < _px(TRACK[0]) + PATTERN_PX + 2
    # a render without the canvas's map scope (a script's) still draws the pattern, anchored as QGIS does
    assert len(_marks(_render(layer, shift_px=shift))) > 100


def test_patterned_polygon_stays_in_place_on_a_rotated_map(tmp_path, qgis_new_project):
    """Off the tile grid (here a rotated map) neither the texture nor the polygon moves."""
    pattern = {"id": "hatched", "type": "fill", "source": "esri", "source-layer": "landuse",
               "paint": {"fill-pattern": "mark"}}
    path = _vtpk(tmp_path / "pattern.vtpk", [pattern], {"landuse": [("polygon", TRACK, {})]},
                 sprites=_solid_sprites())
    layer = open_package_layer(path, cache_dir=tmp_path, native=False)

    def filled(canvas: bool) -> tuple[int, int, int, int]:
        image = _render(layer, shift_px=(3, 5), canvas=canvas, rotation=30)
        points = [(x, y) for y in range(VIEW_PX) for x in range(VIEW_PX) if _near(image, x, y, MARK, radius=0)]
        xs, ys = [x for x, _y in points], [y for _x, y in points]
        return min(xs), min(ys), max(xs), max(ys)

    assert filled(canvas=True) == filled(canvas=False)  # where QGIS draws the polygon itself


@pytest.mark.parametrize("native", [None, False], ids=["as-qgis-prefers", "converted"])
def test_pattern_grows_with_the_map_between_levels(native, tmp_path, qgis_new_project):
    """MapLibre draws a pattern in pixels of the map's integer zoom: at zoom 0.5 an 8 px pattern
    repeats every 8 × √2 = 11.3 px (QGIS's image cache makes that 11 whole pixels)."""
    pattern = {"id": "hatched", "type": "fill", "source": "esri", "source-layer": "landuse",
               "paint": {"fill-pattern": "mark"}}
    path = _vtpk(tmp_path / "pattern.vtpk", [pattern], {"landuse": [("polygon", TRACK, {})]},
                 sprites=_mark_sprites())
    layer = open_package_layer(path, cache_dir=tmp_path, native=native)
    marks = _marks(_render(layer, half=WM_HALF / 2 ** 0.5, canvas=True))
    columns = sorted({x for x, _y in marks})
    assert len(columns) > 5
    assert {b - a for a, b in zip(columns, columns[1:])} == {int(PATTERN_PX * 2 ** 0.5)}


# -- labels wrap where MapLibre wraps them --------------------------------------------------------------
def _text_rows(image: QImage, top: int, bottom: int) -> int:
    """How many pixel rows between ``top`` and ``bottom`` hold dark (text) pixels."""
    rows = 0
    for y in range(top, bottom):
        if any(QColor.fromRgba(image.pixel(x, y)).lightness() < 100 for x in range(VIEW_PX)):
            rows += 1
    return rows


# A zoom-dependent text size that is the same at every zoom: the converter still makes it an expression.
ZOOM_SIZE_12 = {"stops": [[0, 12], [24, 12]]}


@pytest.mark.parametrize("text_size", [12, ZOOM_SIZE_12], ids=["static-size", "zoom-size"])
@pytest.mark.parametrize("native", [None, False], ids=["as-qgis-prefers", "converted"])
def test_label_wider_than_text_max_width_wraps(native, text_size, tmp_path, qgis_new_project):
    labels = {"id": "names", "type": "symbol", "source": "esri", "source-layer": "poi",
              "layout": {"text-field": "{name}", "text-font": ["DejaVu Sans Book"], "text-size": text_size,
                         "text-max-width": 8},
              "paint": {"text-color": "#000000"}}
    # 12 px DejaVu Sans: "Switzerland" is ~70 px wide, "Bosnia and Herz." ~102 px; 8 em = 96 px, and
    # the converter's 16 characters would keep the latter on one line
    short, long = (EXTENT // 2, EXTENT // 4), (EXTENT // 2, 3 * EXTENT // 4)
    path = _vtpk(tmp_path / "labels.vtpk", [labels],
                 {"poi": [("point", short, {"name": "Switzerland"}),
                          ("point", long, {"name": "Bosnia and Herz."})]})
    layer = open_package_layer(path, cache_dir=tmp_path, native=native)
    # no glyph files in this package: measured with the label's font; the converter's 16 characters
    # (2 per em) would keep it on one line
    assert _label_text(layer, "Bosnia and Herz.").count("\n") == 1
    image = _render(layer)
    one_line = _text_rows(image, _px(short[1]) - 20, _px(short[1]) + 20)
    two_lines = _text_rows(image, _px(long[1]) - 30, _px(long[1]) + 30)
    assert one_line > 5
    assert two_lines > 1.6 * one_line  # "Bosnia and" / "Herz.", as MapLibre breaks it


def _label_text(layer, name: str) -> str:
    """The text the layer's first label style draws for a feature called ``name``."""
    settings = layer.labeling().styles()[0].labelSettings()
    fields = QgsVectorLayer("Point?field=name:string", "names", "memory").fields()  # no QVariant: Qt 6 too
    feature = QgsFeature(fields)
    feature["name"] = name
    context = QgsExpressionContext()
    context.setFields(fields)
    context.setFeature(feature)
    expression = QgsExpression(settings.fieldName if settings.isExpression
                               else QgsExpression.quotedColumnRef(settings.fieldName))
    text = expression.evaluate(context)
    assert not expression.hasParserError() and not expression.hasEvalError(), expression.evalErrorString()
    return text


# Advances (px of a 24 px em) of a proportional font like Arial's, as a package's glyph file gives them.
PROPORTIONAL = {" ": 7, ".": 7, "B": 16, "H": 17, "a": 13, "d": 13, "e": 13, "i": 5, "n": 13, "o": 13,
                "r": 8, "s": 12, "z": 12, "K": 16, "U": 17, "t": 7, "g": 13, "m": 20}


def _ink_columns(image: QImage, rows: range) -> int:
    """How many pixel columns of ``rows`` hold dark (text) pixels."""
    return sum(1 for x in range(VIEW_PX)
               if any(QColor.fromRgba(image.pixel(x, y)).lightness() < 100 for y in rows))


def _labels_vtpk(tmp_path, size: int):
    """A package with one "Bosnia and Herz." point label (6 ems wide at most) and proportional glyphs."""
    labels = {"id": "names", "type": "symbol", "source": "esri", "source-layer": "poi",
              "layout": {"text-field": "{name}", "text-font": ["Test Regular"], "text-size": size,
                         "text-max-width": 6},
              "paint": {"text-color": "#000000"}}
    font = glyph_pbf({ord(c): advance for c, advance in PROPORTIONAL.items()})
    return _vtpk(tmp_path / "labels.vtpk", [labels],
                 {"poi": [("point", (EXTENT // 2, EXTENT // 2), {"name": "Bosnia and Herz."})]},
                 fonts={"fonts/Test Regular/0-255.pbf": font})


@pytest.mark.parametrize("native", [None, False], ids=["as-qgis-prefers", "converted"])
def test_labels_break_into_even_lines_as_maplibre_does(native, tmp_path, qgis_new_project):
    """MapLibre balances a wrapped label's lines by the package's glyph advances: "Bosnia and Herz."
    (169 px at 24 px) in 6 ems (144 px) is two lines of about 84 px, "Bosnia" / "and Herz.", where
    QGIS fills the first line ("Bosnia and" / "Herz.")."""
    layer = open_package_layer(_labels_vtpk(tmp_path, size=20), cache_dir=tmp_path, native=native)
    assert _label_text(layer, "Bosnia and Herz.") == "Bosnia\nand Herz."
    assert _label_text(layer, "United Kingdom") == "United\nKingdom"
    assert _label_text(layer, "Bosnia") == "Bosnia"  # narrower than 6 ems: one line
    image = _render(layer)
    inked = [y for y in range(VIEW_PX) if _ink_columns(image, range(y, y + 1))]
    assert inked, "the label is drawn"
    gap = next(i for i in range(1, len(inked)) if inked[i] > inked[i - 1] + 1)  # between the two lines
    first, second = range(inked[0], inked[gap - 1] + 1), range(inked[gap], inked[-1] + 1)
    # the upper line ("Bosnia") is the shorter one, as MapLibre draws it
    assert _ink_columns(image, first) < 0.85 * _ink_columns(image, second)


def test_label_lines_survive_saving_the_style(tmp_path, qgis_new_project):
    """The line breaks are a plain expression of the style: a layer style saved and loaded elsewhere
    (or a project opened without the plugin) keeps them."""
    path = _labels_vtpk(tmp_path, size=12)
    layer = open_package_layer(path, cache_dir=tmp_path, native=False)
    qml = str(tmp_path / "style.qml")
    layer.saveNamedStyle(qml)
    other = open_package_layer(path, cache_dir=tmp_path / "other", native=False)
    other.setLabeling(None)
    message, ok = other.loadNamedStyle(qml)
    assert ok, message
    assert _label_text(other, "Bosnia and Herz.") == "Bosnia\nand Herz."


@pytest.mark.parametrize("anchor", ["center", "top"])
def test_label_baseline_sits_where_maplibre_puts_it(anchor, tmp_path, qgis_new_project):
    size = 20
    labels = {"id": "names", "type": "symbol", "source": "esri", "source-layer": "poi",
              "layout": {"text-field": "{name}", "text-font": ["DejaVu Sans Book"], "text-size": size,
                         "text-anchor": anchor},
              "paint": {"text-color": "#000000"}}
    path = _vtpk(tmp_path / "labels.vtpk", [labels],
                 {"poi": [("point", (EXTENT // 2, EXTENT // 2), {"name": "HHHH"})]})
    image = _render(open_package_layer(path, cache_dir=tmp_path, native=False))
    rows = [y for y in range(VIEW_PX) if any(QColor.fromRgba(image.pixel(x, y)).lightness() < 100
                                             for x in range(VIEW_PX // 2 - 40, VIEW_PX // 2 + 40))]
    assert rows, "the label is drawn"
    font = QFont("DejaVu Sans")
    font.setPixelSize(size)
    ascent = QFontMetricsF(font).ascent() / size
    # MapLibre (shaping): baseline = anchor + (ascent - 17/24 em), + 0.6 em (half the line box) for "top"
    baseline = VIEW_PX // 2 + (ascent - 17 / 24 + (0.6 if anchor == "top" else 0)) * size
    assert abs(rows[-1] + 1 - baseline) <= 1.0, (rows[-1] + 1, baseline)  # "H" sits on the baseline


@pytest.mark.parametrize("zoom_size", [False, True], ids=["static-size", "zoom-size"])
def test_wrapped_label_lines_are_text_line_height_apart(zoom_size, tmp_path, qgis_new_project):
    size, line_height = 20, 2.0
    text_size = {"stops": [[0, size], [24, size]]} if zoom_size else size
    labels = {"id": "names", "type": "symbol", "source": "esri", "source-layer": "poi",
              "layout": {"text-field": "{name}", "text-font": ["DejaVu Sans Book"], "text-size": text_size,
                         "text-max-width": 3, "text-line-height": line_height},
              "paint": {"text-color": "#000000"}}
    path = _vtpk(tmp_path / "labels.vtpk", [labels],
                 {"poi": [("point", (EXTENT // 2, EXTENT // 2), {"name": "HHHH HHHH"})]})
    image = _render(open_package_layer(path, cache_dir=tmp_path, native=False))
    inked = [any(QColor.fromRgba(image.pixel(x, y)).lightness() < 100
                 for x in range(VIEW_PX // 2 - 60, VIEW_PX // 2 + 60)) for y in range(VIEW_PX)]
    bottoms = [y for y in range(1, VIEW_PX) if inked[y - 1] and not inked[y]]  # each line's baseline
    assert len(bottoms) == 2, bottoms  # wrapped in two lines
    assert abs(bottoms[1] - bottoms[0] - line_height * size) <= 1  # 40 px, not one font line (23 px)


@pytest.mark.parametrize("native", [None, False], ids=["as-qgis-prefers", "converted"])
def test_zoom_dependent_label_sits_where_maplibre_puts_it(native, tmp_path, qgis_new_project):
    """``text-offset`` is in ems of the size at the map's zoom (QGIS's converter fixes it at the first
    stop's 8 px), and the baseline sits where MapLibre's shaping puts it."""
    size, offset_em = 20, 1.0
    labels = {"id": "names", "type": "symbol", "source": "esri", "source-layer": "poi",
              "layout": {"text-field": "{name}", "text-font": ["DejaVu Sans Book"],
                         "text-size": {"stops": [[0, 8], [0.5, size], [24, size]]},  # 20 px from zoom 0.5
                         "text-anchor": "top", "text-offset": [0, offset_em]},
              "paint": {"text-color": "#000000"}}
    path = _vtpk(tmp_path / "labels.vtpk", [labels],
                 {"poi": [("point", (EXTENT // 2, EXTENT // 2), {"name": "HHHH"})]})
    image = _render(open_package_layer(path, cache_dir=tmp_path, native=native), half=WM_HALF / 4)  # zoom ≥ 2
    rows = [y for y in range(VIEW_PX) if any(QColor.fromRgba(image.pixel(x, y)).lightness() < 100
                                             for x in range(VIEW_PX // 2 - 60, VIEW_PX // 2 + 60))]
    assert rows, "the label is drawn"
    font = QFont("DejaVu Sans")
    font.setPixelSize(size)
    metrics = QFontMetricsF(font)
    assert abs(rows[-1] - rows[0] + 1 - metrics.capHeight()) <= 2  # drawn at 20 px, not 8
    baseline = VIEW_PX // 2 + (metrics.ascent() / size - 17 / 24 + 0.6 + offset_em) * size
    assert abs(rows[-1] + 1 - baseline) <= 1.0, (rows[-1] + 1, baseline)


# -- the level MapLibre draws -----------------------------------------------------------------------------
ESRI_SCALE0_512 = 295828763.7957775  # level 0 of Esri's Web Mercator vector tile scheme


def test_native_vtpk_draws_the_level_at_its_own_scale(tmp_path, qgis_new_project):
    """At level 1's resolution QGIS's map scale comes out 2e-6 above the package's (Esri's) level
    scale; the Esri zoom rule of QGIS's vtpk source floors, so without a tolerance it draws level 0."""
    from plugin.qgis_glue.layers import native_vtpk_supported

    if not native_vtpk_supported():
        pytest.skip("QGIS opens vtpks natively from 3.32; converted MBTiles round the zoom instead")
    fill = {"id": "land", "type": "fill", "source": "esri", "source-layer": "land", "paint": {"fill-color": FILL}}
    style = {"version": 8, "sources": {"esri": {"type": "vector", "url": "../../"}},
             "layers": [{"id": "background", "type": "background", "paint": {"background-color": "#ffffff"}},
                        fill]}
    whole = _mvt({"land": [("polygon", (0, 0, EXTENT, EXTENT), {})]})
    tiles = [(0, 0, 0, _mvt({"other": [("point", (10, 10), {})]}))]  # level 0 has no land
    tiles += [(1, row, col, whole) for row in range(2) for col in range(2)]
    doc = wm_doc(tile=512, levels=2)
    for lod in doc["tileInfo"]["lods"]:  # Esri's own level scales (its inch is not quite 0.0254 m)
        lod["scale"] = ESRI_SCALE0_512 / 2 ** lod["level"]
    path = tmp_path / "levels.vtpk"
    write_package("vtpk", path, doc, tiles,
                  resources={"styles/root.json": json.dumps(style).encode()})
    layer = open_package_layer(path, cache_dir=tmp_path)
    image = _render(layer, half=WM_HALF / 2)  # 512 px of 512 px tiles: level 1's scale exactly
    assert _near(image, VIEW_PX // 2 + 40, VIEW_PX // 2 + 40, FILL, radius=0)  # level 1's land


# -- dashes and zoom functions ----------------------------------------------------------------------------
LINE = "#000000"


def _outline_layer(paint: dict) -> dict:
    return {"id": "edges", "type": "line", "source": "esri", "source-layer": "landuse", "paint": paint}


def _dark_run(image: QImage, x: int, top: int, bottom: int) -> int:
    """How many pixels of column ``x`` between ``top`` and ``bottom`` are drawn dark."""
    return sum(QColor.fromRgba(image.pixel(x, y)).lightness() < 128 for y in range(top, bottom))


@pytest.mark.parametrize("native", [None, False], ids=["as-qgis-prefers", "converted"])
def test_polygon_ring_dashes_start_where_maplibre_starts_them(native, tmp_path, qgis_new_project):
    """MapLibre starts a ring's dash distance at its closing segment's length (it walks in from the
    last vertex): TRACK's ring runs right along its top edge after its 250 px left edge, so with
    4 px wide [3, 2] dashes (20 px) the top edge starts 10 px into the pattern: a 2 px dash end, a gap
    to 10 px, then a dash from 10 to 22 px."""
    dashed = _outline_layer({"line-color": LINE, "line-width": 4, "line-dasharray": [3, 2]})
    path = _vtpk(tmp_path / "dashes.vtpk", [dashed], {"landuse": [("polygon", TRACK, {})]})
    image = _render(open_package_layer(path, cache_dir=tmp_path, native=native), canvas=True)
    left, top = _px(TRACK[0]), _px(TRACK[1])
    assert _dark_run(image, left + 6, top - 4, top + 4) == 0  # in the gap (QGIS alone: a dash to 12 px)
    assert _dark_run(image, left + 16, top - 4, top + 4) >= 3  # in the dash (QGIS alone: a gap from 12 px)


@pytest.mark.parametrize("native", [None, False], ids=["as-qgis-prefers", "converted"])
def test_zoom_functions_see_maplibres_zoom(native, tmp_path, qgis_new_project):
    """A line 1 px wide at zoom 0 and 41 px at zoom 1 is 21 px wide at zoom 0.5: QGIS 3.22 gives the
    style a zoom 0.08 lower (OGC's 0.28 mm pixel, 17.7 px), QGIS 3.40's vtpk source interpolates it
    linearly in scale (0.59, 24.4 px)."""
    widening = _outline_layer({"line-color": LINE, "line-width": {"stops": [[0, 1], [1, 41]]}})
    path = _vtpk(tmp_path / "widths.vtpk", [widening], {"landuse": [("polygon", PITCH, {})]})
    half = WM_HALF / 2 ** 0.5
    image = _render(open_package_layer(path, cache_dir=tmp_path, native=native), half=half, canvas=True)
    top = round(VIEW_PX / 2 - (VIEW_PX / 2 - _px(PITCH[1])) * WM_HALF / half)  # the top edge at zoom 0.5
    assert abs(_dark_run(image, VIEW_PX // 2, top - 20, top + 20) - 21) <= 1


@pytest.mark.parametrize("native", [None, False], ids=["as-qgis-prefers", "converted"])
def test_exponential_zoom_functions_follow_maplibres_curve(native, tmp_path, qgis_new_project):
    """Base 2 from 2 px at zoom 0 to 20 px at zoom 2: MapLibre draws (2^1 - 1) / (2^2 - 1) of the way,
    8 px, at zoom 1; QGIS 3.22's converter writes a power curve, (1/2)^2 of the way (6.5 px)."""
    widening = _outline_layer({"line-color": LINE, "line-width": {"base": 2, "stops": [[0, 2], [2, 20]]}})
    path = _vtpk(tmp_path / "widths.vtpk", [widening], {"landuse": [("polygon", PITCH, {})]})
    image = _render(open_package_layer(path, cache_dir=tmp_path, native=native), half=WM_HALF / 2, canvas=True)
    top = round(VIEW_PX / 2 - (VIEW_PX / 2 - _px(PITCH[1])) * 2)  # the top edge at zoom 1
    assert abs(_dark_run(image, VIEW_PX // 2, top - 20, top + 20) - 8) <= 1
