"""QGIS-based generation of the emulator's sample tiles from ``world_map.gpkg`` (shipped with QGIS).

Everything here runs on the main thread of the calling process and needs QGIS; :func:`ensure_qgis`
creates (and keeps) a ``QgsApplication`` when none exists. The results are plain files; serving them
(:mod:`arcgis_emulator.samples`) needs no QGIS map rendering and is thread-safe.

* :func:`write_vector_tiles` — gzip MVT written by ``QgsVectorTileWriter`` (one MBTiles per level,
  then copied out with ``sqlite3``; rows flipped from TMS to Esri/XYZ).
* :func:`render_raster_tiles` — map tiles rendered in chunks of up to 8×8 tiles with
  ``QgsMapRendererCustomPainterJob`` and sliced with ``QImage.copy``.
* :func:`sprite_sheet`, :func:`glyph_range_pbf` — small real sprite sheets and SDF glyph PBFs.
"""
from __future__ import annotations

import gzip
import logging
import math
import os
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

LOG = logging.getLogger(__name__)

WORLD_GPKG_CANDIDATES = (
    "/usr/share/qgis/resources/data/world_map.gpkg",
    "/usr/local/share/qgis/resources/data/world_map.gpkg",
)
WEB_MERCATOR_HALF = 20037508.342787
MERCATOR_MAX_LAT = 85.0511287798066

_QGS_APP = None   # keeps a QgsApplication created here alive


def ensure_qgis():
    """Return the running ``QgsApplication``, creating and initialising one (kept) if none exists."""
    global _QGS_APP
    from qgis.core import QgsApplication, QgsProviderRegistry
    from qgis.PyQt.QtCore import QCoreApplication

    app = QgsApplication.instance()
    if app is None and QCoreApplication.instance() is not None:
        # a plain Qt application (e.g. pytest-qt's): Qt allows only one, so initialise QGIS around it
        app = QCoreApplication.instance()
        if "ogr" not in QgsProviderRegistry.instance().providerList():
            QgsApplication.initQgis()
    if app is None:
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
        app = QgsApplication([], False)
        app.initQgis()
        _QGS_APP = app
    return app


def world_gpkg() -> Path:
    """Path of QGIS's ``world_map.gpkg`` (from the QGIS install, or ``$AOT_WORLD_GPKG``)."""
    env = os.environ.get("AOT_WORLD_GPKG")
    candidates = [env] if env else []
    try:
        from qgis.core import QgsApplication

        candidates.append(os.path.join(QgsApplication.pkgDataPath(), "resources", "data", "world_map.gpkg"))
    except ImportError:                                   # pragma: no cover - QGIS is required anyway
        pass
    candidates += list(WORLD_GPKG_CANDIDATES)
    for candidate in candidates:
        if candidate and os.path.isfile(candidate):
            return Path(candidate)
    raise FileNotFoundError("world_map.gpkg (shipped with QGIS) not found; set AOT_WORLD_GPKG")


def world_layer(name: str):
    """A ``QgsVectorLayer`` of ``world_map.gpkg`` (countries, states_provinces, disputed_borders)."""
    from qgis.core import QgsVectorLayer

    layer = QgsVectorLayer(f"{world_gpkg()}|layername={name}", name, "ogr")
    if not layer.isValid():
        raise RuntimeError(f"cannot open layer {name} of {world_gpkg()}")
    return layer


def _stable_class(text: str, classes: int) -> int:
    return zlib.crc32((text or "").encode("utf-8")) % classes


def _write_atomic(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


# --------------------------------------------------------------------------------------------------
# vector tiles

# MVT layers: name -> (source layer, {MVT attribute: source field}, geometry type, first zoom)
VECTOR_LAYERS = {
    "countries": ("countries", {"name": "NAME", "iso_a3": "ISO_A3"}, "Polygon", 0),
    "states": ("states_provinces", {"name": "name", "admin": "admin"}, "Polygon", 3),
    "disputed": ("disputed_borders", {"name": "name"}, "LineString", 2),
    # one anchor per country, present from the zoom at which its label fits (see maxres)
    "country_labels": ("countries", {"name": "NAME", "iso_a3": "ISO_A3"}, "Point", 1),
}
COUNTRY_CLASSES = 6
VECTOR_RES0 = 2 * WEB_MERCATOR_HALF / 512


def _vector_sources() -> dict[str, tuple[list, list[str]]]:
    """Per MVT layer: single-part geometries in EPSG:3857 (clipped at ±85.05°) with attributes.

    Multi-part features are exploded: a part's bounding box is small, so each tile only clips the
    parts it touches (the writer works per tile). Label points carry ``maxres`` as a last attribute.
    """
    from qgis.core import (
        QgsCoordinateReferenceSystem,
        QgsCoordinateTransform,
        QgsFeatureRequest,
        QgsProject,
        QgsRectangle,
    )

    merc = QgsCoordinateReferenceSystem("EPSG:3857")
    clip = QgsRectangle(-180.0, -MERCATOR_MAX_LAT, 180.0, MERCATOR_MAX_LAT)
    out = {}
    for mvt_name, (source, fields, _geom, _z) in VECTOR_LAYERS.items():
        layer = world_layer(source)
        xform = QgsCoordinateTransform(layer.crs(), merc, QgsProject.instance())
        request = QgsFeatureRequest().setSubsetOfAttributes(list(fields.values()), layer.fields())
        names = [*fields, "_symbol"] if mvt_name == "countries" else list(fields)
        parts = []
        for feature in layer.getFeatures(request):
            geom = feature.geometry()
            if geom.isNull():
                continue
            geom = geom.clipped(clip)
            if geom.isEmpty():
                continue
            geom.transform(xform)
            attrs = [str(feature[f] or "") for f in fields.values()]
            if mvt_name == "countries":
                attrs.append(_stable_class(attrs[0], COUNTRY_CLASSES))
            pieces = [p for p in geom.asGeometryCollection() if not p.isEmpty()]
            if mvt_name == "country_labels":
                if not pieces:
                    continue
                part = max(pieces, key=lambda g: g.area())
                size = math.sqrt(max(part.area(), 0.0))
                if size > 0:
                    anchor, _dist = part.poleOfInaccessibility(size / 100.0)
                    parts.append((anchor, [*attrs, size / 60.0]))
                continue
            parts.extend((p, attrs) for p in pieces)
        out[mvt_name] = (parts, names)
    return out


def _memory_layer(name: str, geom_type: str, fields: list[str], features: list):
    """A memory layer (EPSG:3857, with a spatial index) of ``(geometry, attributes)`` pairs."""
    from qgis.core import QgsFeature, QgsVectorLayer

    spec = "&".join(f"field={f}:{'integer' if f == '_symbol' else 'string'}" for f in fields)
    layer = QgsVectorLayer(f"{geom_type}?crs=EPSG:3857&{spec}", name, "memory")
    qfields = layer.fields()
    out = []
    for geom, attrs in features:
        feature = QgsFeature(qfields)
        feature.setGeometry(geom)
        feature.setAttributes(attrs[:len(fields)])
        out.append(feature)
    provider = layer.dataProvider()
    provider.addFeatures(out)
    provider.createSpatialIndex()
    return layer


def write_vector_tiles(dest: Path, max_zoom: int = 6, *, on_tile: Callable | None = None) -> list[tuple[int, int, int]]:
    """Write gzip MVT tiles for zoom 0..``max_zoom`` to ``dest/{z}/{row}/{col}.pbf`` (Esri rows).

    Returns the written ``(level, row, col)`` list. Ocean-only tiles are not written (QGIS's writer
    skips tiles without features).
    """
    from qgis.core import Qgis, QgsMapToPixelSimplifier, QgsRectangle, QgsVectorTileWriter

    try:  # newer QGIS (and QGIS 4) name it in Qgis; 3.22 only in the simplifier
        distance_simplification = Qgis.VectorSimplificationAlgorithm.Distance
    except AttributeError:
        distance_simplification = QgsMapToPixelSimplifier.SimplifyAlgorithm.Distance
    from qgis.PyQt.QtCore import QUrl

    ensure_qgis()
    sources = _vector_sources()
    # simplified copies per zoom: coarser levels derive from the finer result (fast, non-topological)
    per_zoom: dict[tuple[str, int], list] = {}
    for name, (parts, _fields) in sources.items():
        current = parts
        for z in range(max_zoom, -1, -1):
            resolution = VECTOR_RES0 / 2 ** z
            if VECTOR_LAYERS[name][2] == "Point":
                per_zoom[(name, z)] = [(g, a) for g, a in parts if a[-1] >= resolution]
                continue
            simplifier = QgsMapToPixelSimplifier(QgsMapToPixelSimplifier.SimplifyFlag.SimplifyGeometry, resolution,
                                                 distance_simplification)   # one pixel
            simplified = []
            for geom, attrs in current:
                s = simplifier.simplify(geom)
                if not s.isNull() and not s.isEmpty():
                    simplified.append((s, attrs))
            per_zoom[(name, z)] = simplified
            current = simplified
    written: list[tuple[int, int, int]] = []
    dest.mkdir(parents=True, exist_ok=True)
    # The "xyz" destination writes plain files (MBTiles would cost one synced transaction per tile);
    # QGIS 3.22 writes them uncompressed there, newer versions may gzip: normalise to gzip below.
    template = QUrl.fromLocalFile(str(dest)).toString() + "/{z}/{y}/{x}.pbf"
    for z in range(max_zoom + 1):
        layers, keep = [], []
        for mvt_name, (_source, _fields, geom_type, first_zoom) in VECTOR_LAYERS.items():
            if z < first_zoom or not per_zoom[(mvt_name, z)]:
                continue
            mem = _memory_layer(mvt_name, geom_type, sources[mvt_name][1], per_zoom[(mvt_name, z)])
            keep.append(mem)
            entry = QgsVectorTileWriter.Layer(mem)
            entry.setLayerName(mvt_name)
            layers.append(entry)
        writer = QgsVectorTileWriter()
        writer.setLayers(layers)
        writer.setMinZoom(z)
        writer.setMaxZoom(z)
        writer.setExtent(QgsRectangle(-WEB_MERCATOR_HALF, -WEB_MERCATOR_HALF, WEB_MERCATOR_HALF, WEB_MERCATOR_HALF))
        writer.setDestinationUri(f"type=xyz&url={QUrl.toPercentEncoding(template, b'/:{}').data().decode()}")
        ok, error = writer.writeTiles(), writer.errorMessage()
        # the writer and its layer entries point at the memory layers: release them first
        del writer
        layers.clear()
        entry = mem = None
        keep.clear()
        if not ok:
            raise RuntimeError(f"QgsVectorTileWriter failed at zoom {z}: {error}")
        level_dir = dest / str(z)
        if not level_dir.is_dir():
            continue
        for row_dir in level_dir.iterdir():
            for path in row_dir.glob("*.pbf"):
                data = path.read_bytes()
                if not data:
                    path.unlink()
                    continue
                if data[:2] != b"\x1f\x8b":
                    path.write_bytes(gzip.compress(data, 6, mtime=0))
                row, col = int(row_dir.name), int(path.stem)
                written.append((z, row, col))
                if on_tile:
                    on_tile(z, row, col)
    return sorted(written)


# --------------------------------------------------------------------------------------------------
# raster tiles

@dataclass(frozen=True)
class RasterScheme:
    """An Esri tiling scheme as needed for rendering: CRS, origin, tile size, level-0 resolution."""
    authid: str               # "EPSG:3857"
    origin_x: float
    origin_y: float
    res0: float               # CRS units per pixel at level 0
    tile_size: int
    world: tuple[float, float, float, float]   # xmin, ymin, xmax, ymax of valid data

    def span(self, level: int) -> float:
        return self.res0 * self.tile_size / 2 ** level

    def grid(self, level: int) -> tuple[int, int]:
        """(rows, cols) of tiles covering ``world`` at ``level``."""
        span = self.span(level)
        cols = math.ceil((self.world[2] - self.origin_x) / span - 1e-9)
        rows = math.ceil((self.origin_y - self.world[1]) / span - 1e-9)
        return max(rows, 1), max(cols, 1)


def _fill_symbol(color: str, outline: str | None = None, width: float = 0.0):
    from qgis.core import QgsFillSymbol

    props = {"color": color, "style": "solid"}
    if outline:
        props.update({"outline_color": outline, "outline_width": str(width), "outline_width_unit": "Pixel",
                      "outline_style": "solid"})
    else:
        props["outline_style"] = "no"
    return QgsFillSymbol.createSimple(props)


def _line_symbol(color: str, width: float, dash: bool = False):
    from qgis.core import QgsLineSymbol

    return QgsLineSymbol.createSimple({"line_color": color, "line_width": str(width), "line_width_unit": "Pixel",
                                       "line_style": "dash" if dash else "solid"})


def _categorized(field_name: str, values: list, colors: list[str], outline: str | None, width: float):
    """Categories ``value -> colors[crc32(value) % n]`` (the same classes as the vector ``_symbol``)."""
    from qgis.core import QgsCategorizedSymbolRenderer, QgsRendererCategory

    cats = [QgsRendererCategory(v, _fill_symbol(colors[_stable_class(str(v), len(colors))], outline, width), str(v))
            for v in sorted(set(values), key=str)]
    return QgsCategorizedSymbolRenderer(field_name, cats)


def _modulo_classes(expression: str, colors: list[str]):
    from qgis.core import QgsCategorizedSymbolRenderer, QgsRendererCategory

    cats = [QgsRendererCategory(i, _fill_symbol(c), str(i)) for i, c in enumerate(colors)]
    return QgsCategorizedSymbolRenderer(expression, cats)


def _label_layer(authid: str):
    """Label anchors of the countries in ``authid``: one point per country (pole of inaccessibility of
    its largest part) with ``maxres``, the coarsest resolution (CRS units/px) at which the label fits."""
    from qgis.core import (
        QgsCoordinateReferenceSystem,
        QgsCoordinateTransform,
        QgsFeature,
        QgsNullSymbolRenderer,
        QgsProject,
        QgsRectangle,
        QgsVectorLayer,
    )

    countries = world_layer("countries")
    crs = QgsCoordinateReferenceSystem(authid)
    xform = QgsCoordinateTransform(countries.crs(), crs, QgsProject.instance())
    clip = None if crs.isGeographic() else QgsRectangle(-180.0, -MERCATOR_MAX_LAT, 180.0, MERCATOR_MAX_LAT)
    layer = QgsVectorLayer(f"Point?crs={authid}&field=name:string&field=maxres:double", "labels", "memory")
    out = []
    for feature in countries.getFeatures():
        geom = feature.geometry()
        if geom.isNull():
            continue
        if clip is not None:
            geom = geom.clipped(clip)
        if geom.isEmpty():
            continue
        geom.transform(xform)
        parts = geom.asGeometryCollection()
        if not parts:
            continue
        part = max(parts, key=lambda g: g.area())
        size = math.sqrt(max(part.area(), 0.0))
        if size <= 0:
            continue
        anchor, _dist = part.poleOfInaccessibility(size / 100.0)
        f = QgsFeature(layer.fields())
        f.setGeometry(anchor)
        f.setAttributes([feature["NAME"], size / 60.0])
        out.append(f)
    layer.dataProvider().addFeatures(out)
    layer.setRenderer(QgsNullSymbolRenderer())
    return layer


def _labels(field: str, size_pt: float, color: str, show_expression: str):
    """Deterministic labels (centred on the point, all shown): identical on both sides of a render
    chunk border, so labels are never cut at chunk edges."""
    from qgis.core import (
        QgsPalLayerSettings,
        QgsProperty,
        QgsTextBufferSettings,
        QgsTextFormat,
        QgsVectorLayerSimpleLabeling,
    )
    from qgis.PyQt.QtGui import QColor, QFont

    fmt = QgsTextFormat()
    fmt.setFont(QFont("DejaVu Sans"))
    fmt.setSize(size_pt)
    fmt.setColor(QColor(color))
    buffer = QgsTextBufferSettings()
    buffer.setEnabled(True)
    buffer.setSize(0.6)
    buffer.setColor(QColor("#ffffff"))
    fmt.setBuffer(buffer)
    settings = QgsPalLayerSettings()
    settings.fieldName = field
    settings.setFormat(fmt)
    try:                                         # QGIS >= 3.26 (the old alias is ambiguous on 3.40)
        from qgis.core import Qgis

        settings.placement = Qgis.LabelPlacement.OverPoint
    except AttributeError:
        settings.placement = QgsPalLayerSettings.Placement.OverPoint
    settings.displayAll = True
    settings.dataDefinedProperties().setProperty(QgsPalLayerSettings.Property.Show,
                                                 QgsProperty.fromExpression(show_expression))
    return QgsVectorLayerSimpleLabeling(settings)


COUNTRY_COLORS = ["#f3e5b8", "#e9d3c4", "#d9e7c1", "#f2d0a4", "#e3dcec", "#cfe3d8"]
IMAGERY_COLORS = ["#3f5f2f", "#56703a", "#6f6a43", "#8a7a52", "#4b6b3a", "#7d8a56", "#a39470", "#5d7f48"]
ICE = "#e6edf0"
METERS_PER_DEGREE = 111319.49079327357


class MapStyle:
    """Layers and background of a raster style ("map" or "imagery") for one CRS. What is drawn depends
    only on the level's resolution, never on the map scale (which varies per chunk in degrees)."""

    def __init__(self, style: str, authid: str) -> None:
        from qgis.core import QgsCoordinateReferenceSystem, QgsSingleSymbolRenderer
        from qgis.PyQt.QtCore import Qt

        self.geographic = QgsCoordinateReferenceSystem(authid).isGeographic()
        countries = world_layer("countries")
        names = [f["NAME"] for f in countries.getFeatures()]
        self.labels = None
        if style == "imagery":
            states = world_layer("states_provinces")
            n = len(IMAGERY_COLORS)
            states.setRenderer(_modulo_classes(
                f"CASE WHEN \"admin\" IN ('Antarctica', 'Greenland') THEN {n} ELSE $id % {n} END",
                [*IMAGERY_COLORS, ICE]))
            base = _categorized("NAME", names, ["#5a6b3c"], None, 0)
            for i, cat in enumerate(base.categories()):
                if cat.value() in ("Antarctica", "Greenland"):
                    base.updateCategorySymbol(i, _fill_symbol(ICE))
            countries.setRenderer(base)
            self.background = "#0d2f4f"
            self._layers = [(states, 0.0), (countries, 0.0)]     # (layer, coarsest m/px drawn; 0 = all)
            return
        states = world_layer("states_provinces")
        borders = world_layer("disputed_borders")
        countries.setRenderer(_categorized("NAME", names, COUNTRY_COLORS, "#7a6a5a", 0.8))
        state_lines = _fill_symbol("#b5a58f", "#b5a58f", 0.5)
        state_lines.symbolLayer(0).setBrushStyle(Qt.BrushStyle.NoBrush)  # polygons drawn as lines only
        states.setRenderer(QgsSingleSymbolRenderer(state_lines))
        borders.setRenderer(QgsSingleSymbolRenderer(_line_symbol("#9b3a3a", 1.0, dash=True)))
        self.labels = _label_layer(authid)
        self.background = "#aad3df"
        self._layers = [(self.labels, 10_000.0), (borders, 0.0), (states, 5_000.0), (countries, 0.0)]

    def layers_for(self, resolution: float) -> list:
        """Layers (top first) to draw at ``resolution`` (CRS units per pixel)."""
        meters = resolution * (METERS_PER_DEGREE if self.geographic else 1.0)
        if self.labels is not None:
            self.labels.setLabeling(_labels("name", 8.0, "#3d3326", f'"maxres" >= {resolution!r}'))
            self.labels.setLabelsEnabled(True)
        return [layer for layer, coarsest in self._layers if not coarsest or meters <= coarsest]


PNG_QUALITY = 80      # Qt's PNG "quality" picks the zlib level: 80 is ~40% faster than the default, +15% size


def _encode(image, fmt: str, quality: int) -> bytes:
    from qgis.PyQt.QtCore import QBuffer, QByteArray, QIODevice
    from qgis.PyQt.QtGui import QImage

    data = QByteArray()
    buf = QBuffer(data)
    buf.open(QIODevice.OpenModeFlag.WriteOnly)
    if fmt == "JPEG":
        image = image.convertToFormat(QImage.Format.Format_RGB32)
        ok = image.save(buf, "JPG", quality)
    else:
        image = image.convertToFormat(QImage.Format.Format_ARGB32)
        ok = image.save(buf, "PNG", PNG_QUALITY)
    buf.close()
    if not ok:
        raise RuntimeError(f"could not encode a {fmt} tile")
    return bytes(data)


def render_raster_tiles(dest: Path, scheme: RasterScheme, style: str, fmt: str, quality: int,
                        max_level: int, *, chunk: int = 8) -> dict[int, int]:
    """Render levels 0..``max_level`` into ``dest/{level}/{row}/{col}.{png|jpg}``; returns tiles per level."""
    from qgis.core import (
        Qgis,
        QgsCoordinateReferenceSystem,
        QgsMapRendererCustomPainterJob,
        QgsMapSettings,
        QgsRectangle,
    )
    from qgis.PyQt.QtCore import QSize
    from qgis.PyQt.QtGui import QColor, QImage, QPainter

    ensure_qgis()
    look = MapStyle(style, scheme.authid)
    ext = "jpg" if fmt == "JPEG" else "png"
    settings = QgsMapSettings()
    settings.setDestinationCrs(QgsCoordinateReferenceSystem(scheme.authid))
    settings.setBackgroundColor(QColor(look.background))
    settings.setOutputDpi(96)
    settings.setFlag(Qgis.MapSettingsFlag.Antialiasing, True)
    settings.setFlag(Qgis.MapSettingsFlag.DrawLabeling, look.labels is not None)
    settings.setFlag(Qgis.MapSettingsFlag.UseAdvancedEffects, False)
    # a margin around each chunk so that labels anchored just outside it are drawn too
    margin = 128 if look.labels is not None else 0
    counts: dict[int, int] = {}
    ts = scheme.tile_size
    for level in range(max_level + 1):
        rows, cols = scheme.grid(level)
        span = scheme.span(level)
        res = span / ts
        settings.setLayers(look.layers_for(res))
        for r0 in range(0, rows, chunk):
            for c0 in range(0, cols, chunk):
                nr, nc = min(chunk, rows - r0), min(chunk, cols - c0)
                x0 = scheme.origin_x + c0 * span - margin * res
                y1 = scheme.origin_y - r0 * span + margin * res
                width, height = nc * ts + 2 * margin, nr * ts + 2 * margin
                settings.setOutputSize(QSize(width, height))
                settings.setExtent(QgsRectangle(x0, y1 - height * res, x0 + width * res, y1))
                image = QImage(width, height, QImage.Format.Format_ARGB32_Premultiplied)
                image.fill(QColor(look.background))
                painter = QPainter(image)
                job = QgsMapRendererCustomPainterJob(settings, painter)
                job.renderSynchronously()
                del job                  # the job points at the painter: destroy it first
                painter.end()
                del painter
                for dr in range(nr):
                    for dc in range(nc):
                        tile = image.copy(margin + dc * ts, margin + dr * ts, ts, ts)
                        _write_atomic(dest / str(level) / str(r0 + dr) / f"{c0 + dc}.{ext}",
                                      _encode(tile, fmt, quality))
                        counts[level] = counts.get(level, 0) + 1
    return counts


# --------------------------------------------------------------------------------------------------
# sprites and glyphs

def sprite_sheet(pixel_ratio: int) -> tuple[bytes, dict]:
    """A small real sprite sheet (PNG bytes, index JSON): a capital marker, a dot and a hatch pattern."""
    from qgis.PyQt.QtCore import QPointF, QRectF, Qt
    from qgis.PyQt.QtGui import QColor, QImage, QPainter, QPen

    size = 16 * pixel_ratio
    image = QImage(size * 3, size, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(Qt.GlobalColor.transparent)
    p = QPainter(image)
    p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
    # capital: white ring with a dark centre
    p.setPen(QPen(QColor("#3d3326"), 1.5 * pixel_ratio))
    p.setBrush(QColor("#ffffff"))
    p.drawEllipse(QRectF(2 * pixel_ratio, 2 * pixel_ratio, size - 4 * pixel_ratio, size - 4 * pixel_ratio))
    p.setBrush(QColor("#3d3326"))
    p.drawEllipse(QPointF(size / 2, size / 2), 2.5 * pixel_ratio, 2.5 * pixel_ratio)
    # dot
    p.setPen(Qt.PenStyle.NoPen)
    p.setBrush(QColor("#9b3a3a"))
    p.drawEllipse(QPointF(size * 1.5, size / 2), 4 * pixel_ratio, 4 * pixel_ratio)
    # hatch pattern
    p.setPen(QPen(QColor("#b5a58f"), pixel_ratio))
    for k in range(-size, size, 4 * pixel_ratio):
        p.drawLine(QPointF(2 * size + k, size), QPointF(2 * size + k + size, 0))
    p.end()
    sheet = image.copy(0, 0, size * 3, size)
    index = {name: {"x": i * size, "y": 0, "width": size, "height": size, "pixelRatio": pixel_ratio, "sdf": False}
             for i, name in enumerate(("capital", "dot", "hatch"))}
    return _encode(sheet, "PNG", -1), index


def _pb_varint(value: int) -> bytes:
    out = bytearray()
    while True:
        b = value & 0x7F
        value >>= 7
        if value:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def _pb_field(num: int, value) -> bytes:
    if isinstance(value, (bytes, bytearray)):
        return _pb_varint(num << 3 | 2) + _pb_varint(len(value)) + bytes(value)
    if isinstance(value, str):
        return _pb_field(num, value.encode("utf-8"))
    return _pb_varint(num << 3) + _pb_varint(value)


def _zigzag(v: int) -> int:
    return (v << 1) ^ (v >> 31)


def glyph_range_pbf(fontstack: str, start: int, end: int, *, family: str = "DejaVu Sans",
                    size_px: int = 24, buffer: int = 3, radius: float = 8.0, cutoff: float = 0.25) -> bytes:
    """A Mapbox GL glyph PBF (SDF, fontnik conventions) for code points ``start..end`` rendered from a
    system font. ``fontstack`` is the name clients ask for (e.g. "Arial Regular")."""
    import numpy as np
    from qgis.PyQt.QtCore import QPointF, Qt
    from qgis.PyQt.QtGui import QColor, QFont, QFontMetricsF, QImage, QPainter, QRawFont

    font = QFont(family)
    font.setPixelSize(size_px)
    metrics = QFontMetricsF(font)
    raw = QRawFont.fromFont(font)
    glyphs = []
    for cp in range(start, end + 1):
        ch = chr(cp)
        if cp < 32 or not raw.supportsCharacter(cp):
            continue
        advance = round(metrics.horizontalAdvance(ch))
        rect = metrics.tightBoundingRect(ch) if ch.strip() else None
        if rect is None or rect.width() <= 0 or rect.height() <= 0:
            glyphs.append(_pb_field(1, cp) + _pb_field(3, 0) + _pb_field(4, 0) + _pb_field(5, 0)
                          + _pb_field(6, _zigzag(-26)) + _pb_field(7, advance))
            continue
        left, top = math.floor(rect.left()), math.floor(rect.top())
        w, h = math.ceil(rect.right()) - left, math.ceil(rect.bottom()) - top
        bw, bh = w + 2 * buffer, h + 2 * buffer
        image = QImage(bw, bh, QImage.Format.Format_Grayscale8)
        image.fill(0)
        p = QPainter(image)
        p.setFont(font)
        p.setPen(QColor(Qt.GlobalColor.white))
        p.setRenderHint(QPainter.RenderHint.TextAntialiasing, True)
        p.drawText(QPointF(buffer - left, buffer - top), ch)
        p.end()
        ptr = image.constBits()
        ptr.setsize(image.bytesPerLine() * bh)
        arr = np.frombuffer(ptr, np.uint8).reshape(bh, image.bytesPerLine())[:, :bw].astype(np.float32)
        inside = arr >= 128
        ys, xs = np.mgrid[0:bh, 0:bw]
        pts = np.stack([ys.ravel(), xs.ravel()], axis=1).astype(np.float32)
        # nearest opposite pixels are always on the border: only border pixels are candidates
        padded = np.pad(inside, 1, constant_values=False)
        neighbours_out = ~(padded[:-2, 1:-1] & padded[2:, 1:-1] & padded[1:-1, :-2] & padded[1:-1, 2:])
        neighbours_in = padded[:-2, 1:-1] | padded[2:, 1:-1] | padded[1:-1, :-2] | padded[1:-1, 2:]
        ins = pts[(inside & neighbours_out).ravel()]
        outs = pts[(~inside & neighbours_in).ravel()]
        if len(ins) == 0:
            dist = np.full(bh * bw, radius, np.float32)
        else:
            d_out = np.sqrt(((pts[:, None, :] - ins[None, :, :]) ** 2).sum(-1)).min(1) if len(ins) else None
            d_in = (np.sqrt(((pts[:, None, :] - outs[None, :, :]) ** 2).sum(-1)).min(1)
                    if len(outs) else np.full(len(pts), radius, np.float32))
            dist = np.where(inside.ravel(), -(d_in - 0.5), d_out - 0.5)
        sdf = np.clip(255 - 255 * (dist / radius + cutoff), 0, 255).astype(np.uint8)
        glyphs.append(_pb_field(1, cp) + _pb_field(2, sdf.tobytes()) + _pb_field(3, w) + _pb_field(4, h)
                      + _pb_field(5, _zigzag(left)) + _pb_field(6, _zigzag(-top - round(metrics.ascent())))
                      + _pb_field(7, advance))
    stack = _pb_field(1, fontstack) + _pb_field(2, f"{start}-{end}") + b"".join(_pb_field(3, g) for g in glyphs)
    return _pb_field(1, stack)
