"""The export area: where it comes from, how it shows on the canvas, and its shape in the service CRS.

An area is a rectangle (the canvas extent, a layer's extent, one drawn with QGIS's extent tool),
a polygon drawn with :class:`~.map_tools.PolygonMapTool`, or the union of a polygon layer's
(selected) features — parts and holes kept.  It is kept in the CRS it was made in and moved into
the service CRS on demand (:meth:`AreaController.service_area`), cut at the antimeridian first when
it crosses ±180° (an area drawn in a geographic or Pacific-centred project would otherwise wrap
around the world when its vertices are moved one by one).
"""
from __future__ import annotations

import contextlib
import math
from dataclasses import dataclass

from qgis.core import (
    Qgis,
    QgsCoordinateReferenceSystem,
    QgsCoordinateTransform,
    QgsCsException,
    QgsFeatureRequest,
    QgsGeometry,
    QgsPointXY,
    QgsProject,
    QgsRectangle,
    QgsWkbTypes,
)
from qgis.gui import QgsRubberBand
from qgis.PyQt.QtCore import QObject, Qt, pyqtSignal
from qgis.PyQt.QtGui import QColor

from ..core.area import Area
from ..core.errors import InvalidRequestError
from ..core.tilecount import iter_tiles
from ..core.tiling import TilingScheme
from ..qgis_glue import crs as crs_glue
from ..qgis_glue.areas import area_from_geometry
from ..qgis_glue.i18n import translator
from .levels_model import plural
from .map_tools import PolygonMapTool, area_rubber_band

WGS84 = QgsCoordinateReferenceSystem("EPSG:4326")
# QGIS 3.30+ names geometry types in Qgis.GeometryType; 3.22 in QgsWkbTypes.GeometryType (scoped for Qt 6).
POLYGON = Qgis.GeometryType.Polygon if hasattr(Qgis, "GeometryType") else QgsWkbTypes.GeometryType.PolygonGeometry
DENSIFY_PARTS = 64  # segments per bounding-box side when an area is checked for the antimeridian
PREVIEW_MAX_TILES = 2000  # more tile outlines than this clutter the canvas and slow it down
PREVIEW_COLOR = QColor(214, 98, 22)


tr = translator("AreaController")


# --- the antimeridian ---------------------------------------------------------------------------
def _polygons(geometry: QgsGeometry) -> list[list[list[QgsPointXY]]]:
    if geometry.isMultipart():
        return [list(polygon) for polygon in geometry.asMultiPolygon()]
    polygon = geometry.asPolygon()
    return [list(polygon)] if polygon else []


def _may_cross(geometry_wgs84: QgsGeometry) -> bool:
    """Vertices beyond ±180° or an edge longer than half the world: the area may cross the antimeridian."""
    for polygon in _polygons(geometry_wgs84):
        for ring in polygon:
            previous = None
            for point in ring:
                if abs(point.x()) > 180:
                    return True
                if previous is not None and abs(point.x() - previous) > 180:
                    return True
                previous = point.x()
    return False


def _unwrap(ring: list[QgsPointXY]) -> list[QgsPointXY] | None:
    """The ring with longitudes made continuous (no jump over 180°); ``None`` for a ring around a pole."""
    out: list[QgsPointXY] = []
    offset = 0.0
    previous = None
    for point in ring:
        x = point.x()
        if previous is not None:
            step = x + offset - previous
            if step > 180:
                offset -= 360 * math.ceil((step - 180) / 360)
            elif step < -180:
                offset += 360 * math.ceil((-step - 180) / 360)
        out.append(QgsPointXY(x + offset, point.y()))
        previous = x + offset
    if out and abs(out[0].x() - out[-1].x()) > 1e-6:
        return None  # the ring goes once around the pole: there is no consistent way to cut it
    return out


def _shift(ring: list[QgsPointXY], dx: float) -> list[QgsPointXY]:
    return [QgsPointXY(p.x() + dx, p.y()) for p in ring] if dx else ring


def split_at_antimeridian(geometry: QgsGeometry, source: QgsCoordinateReferenceSystem,
                          project: QgsProject | None = None) -> QgsGeometry | None:
    """The area in WGS84 cut into pieces within ±180° when it crosses the antimeridian, else ``None``.

    The area's edges are densified in its own CRS, moved to WGS84 and unwrapped (longitudes kept
    continuous along each ring, e.g. 170° → 190° rather than 170° → -170°); the pieces beyond ±180°
    are cut off and shifted back by 360°.  An area that does not cross gives ``None``: callers then
    transform it as it is, so nothing changes for ordinary areas.
    """
    context = (project or QgsProject.instance()).transformContext()
    to_wgs84 = QgsCoordinateTransform(source, WGS84, context)
    try:
        probe = QgsGeometry(geometry)
        probe.transform(to_wgs84)
        if not _may_cross(probe):
            return None
        box = geometry.boundingBox()
        step = max(box.width(), box.height()) / DENSIFY_PARTS
        dense = geometry.densifyByDistance(step) if step > 0 else QgsGeometry(geometry)
        dense.transform(to_wgs84)
    except QgsCsException:
        return None
    polygons = []
    for polygon in _polygons(dense):
        rings = [_unwrap(ring) for ring in polygon if ring]
        if not rings or any(ring is None for ring in rings):
            return None
        anchor = rings[0][0].x()
        # holes next to their shell, the shell's first vertex within [-180°, 180°)
        rings = [rings[0]] + [_shift(ring, 360 * round((anchor - ring[0].x()) / 360)) for ring in rings[1:]]
        shift = -360 * math.floor((anchor + 180) / 360)
        polygons.append([_shift(ring, shift) for ring in rings])
    xs = [p.x() for polygon in polygons for p in polygon[0]]
    if not xs or (min(xs) >= -180 and max(xs) <= 180):
        return None
    unwrapped = QgsGeometry.fromMultiPolygonXY(polygons)
    if not unwrapped.isGeosValid():
        unwrapped = unwrapped.makeValid()
    pieces = []
    for k in range(math.floor((min(xs) + 180) / 360), math.ceil((max(xs) - 180) / 360) + 1):
        window = QgsGeometry.fromRect(QgsRectangle(-180 + 360 * k, -90, 180 + 360 * k, 90))
        piece = unwrapped.intersection(window)
        if piece.isEmpty():
            continue
        piece.translate(-360 * k, 0)
        pieces.append(piece)
    if not pieces:
        return None
    return _polygons_only(QgsGeometry.unaryUnion(pieces))


def _polygons_only(geometry: QgsGeometry) -> QgsGeometry:
    """Drop the lines and points an intersection or union may leave next to the polygons."""
    if QgsWkbTypes.geometryType(geometry.wkbType()) == POLYGON:
        return geometry
    converted = geometry.convertToType(POLYGON, True)
    return geometry if converted is None or converted.isNull() else converted


def to_service_geometry(geometry: QgsGeometry, source: QgsCoordinateReferenceSystem,
                        target: QgsCoordinateReferenceSystem, project: QgsProject | None = None) -> QgsGeometry:
    """The area in the service CRS: cut at the antimeridian when needed, clipped to the CRS's valid area.

    Raises :class:`InvalidRequestError` (from :func:`..qgis_glue.crs.to_service_crs`) when nothing is left.
    """
    if source != target or source.isGeographic():
        cut = split_at_antimeridian(geometry, source, project)
        if cut is not None:
            return crs_glue.to_service_crs(cut, WGS84, target, project)
    return crs_glue.to_service_crs(geometry, source, target, project)


# --- tile footprint -----------------------------------------------------------------------------
def tile_footprint(scheme: TilingScheme, area: Area, level: int) -> QgsGeometry:
    """The outlines of the tiles ``area`` touches at ``level``, as one multipolygon (service CRS)."""
    bounds = (scheme.tile_bounds(level, row, col) for row, col in iter_tiles(scheme, area, level))
    boxes = [[[QgsPointXY(x0, y0), QgsPointXY(x0, y1), QgsPointXY(x1, y1), QgsPointXY(x1, y0), QgsPointXY(x0, y0)]]
             for x0, y0, x1, y1 in bounds]
    return QgsGeometry.fromMultiPolygonXY(boxes)


# --- the controller -----------------------------------------------------------------------------
@dataclass(frozen=True)
class AreaSelection:
    """An area as the user made it: geometry in ``crs``, and a short description."""

    geometry: QgsGeometry
    crs: QgsCoordinateReferenceSystem
    is_rectangle: bool
    label: str


class AreaController(QObject):
    """Holds the export area, draws it on the canvas and moves it into a service's CRS.

    ``areaChanged`` fires whenever the area is set or cleared; ``drawingChanged(bool)`` when the polygon
    tool starts or stops.
    """

    areaChanged = pyqtSignal()
    drawingChanged = pyqtSignal(bool)

    def __init__(self, canvas, project: QgsProject | None = None, parent=None) -> None:
        super().__init__(parent)
        self.canvas = canvas
        self.project = project
        self._selection: AreaSelection | None = None
        self._band: QgsRubberBand | None = None
        self._preview: QgsRubberBand | None = None
        self._tool: PolygonMapTool | None = None
        self._previous_tool = None
        self._cache: dict[str, tuple[QgsGeometry, Area]] = {}
        canvas.destinationCrsChanged.connect(self._redraw)

    # --- the area --------------------------------------------------------------------------
    @property
    def selection(self) -> AreaSelection | None:
        return self._selection

    @property
    def is_empty(self) -> bool:
        return self._selection is None

    def set_extent(self, rect: QgsRectangle, crs: QgsCoordinateReferenceSystem, label: str = "") -> None:
        if rect is None or rect.isNull() or rect.isEmpty() or rect.width() <= 0 or rect.height() <= 0:
            raise InvalidRequestError(reason=tr("the rectangle has no area; draw a larger one"))
        self._set(AreaSelection(QgsGeometry.fromRect(rect), QgsCoordinateReferenceSystem(crs), True,
                                label or tr("Rectangle")))

    def set_polygon(self, geometry: QgsGeometry, crs: QgsCoordinateReferenceSystem, label: str = "") -> None:
        if geometry is None or geometry.isNull() or geometry.isEmpty():
            raise InvalidRequestError(reason=tr("the polygon is empty; draw it again"))
        self._set(AreaSelection(QgsGeometry(geometry), QgsCoordinateReferenceSystem(crs), False,
                                label or tr("Polygon drawn on the map")))

    def set_from_features(self, layer, selected_only: bool) -> int:
        """The union of the layer's (selected) polygons; returns how many features it took."""
        if layer is None:
            raise InvalidRequestError(reason=tr("choose a polygon layer"))
        if selected_only:
            features = layer.selectedFeatures()
            if not features:
                raise InvalidRequestError(reason=tr("no feature of {layer} is selected; select the polygons "
                                                    "to export or untick “Selected features only”").format(
                                                        layer=layer.name()))
        else:
            features = layer.getFeatures(QgsFeatureRequest().setNoAttributes())
        geometries = [f.geometry() for f in features if f.hasGeometry() and not f.geometry().isEmpty()]
        geometries = [g if g.isGeosValid() else g.makeValid() for g in geometries]
        if not geometries:
            raise InvalidRequestError(reason=tr("{layer} has no polygon to use as the area").format(
                layer=layer.name()))
        union = _polygons_only(QgsGeometry.unaryUnion(geometries))
        if union.isEmpty():
            raise InvalidRequestError(reason=tr("the features of {layer} enclose no area").format(layer=layer.name()))
        n = len(geometries)
        if selected_only:
            label = plural(n, tr("{n} selected feature of {layer}"), tr("{n} selected features of {layer}"),
                           layer=layer.name())
        else:
            label = plural(n, tr("{n} feature of {layer}"), tr("{n} features of {layer}"), layer=layer.name())
        self._set(AreaSelection(union, QgsCoordinateReferenceSystem(layer.crs()), False, label))
        return n

    def clear(self) -> None:
        self._selection = None
        self._cache.clear()
        self.clear_preview()
        self._redraw()
        self.areaChanged.emit()

    def _set(self, selection: AreaSelection) -> None:
        self._selection = selection
        self._cache.clear()
        self.clear_preview()
        self._redraw()
        self.areaChanged.emit()

    # --- the service CRS -------------------------------------------------------------------
    def service_geometry(self, target: QgsCoordinateReferenceSystem) -> QgsGeometry:
        return QgsGeometry(self._moved(target)[0])

    def service_area(self, target: QgsCoordinateReferenceSystem) -> Area:
        """The core's :class:`Area` in ``target`` (cached until the area changes).

        Raises :class:`InvalidRequestError` when there is no area or nothing of it is left in ``target``.
        """
        return self._moved(target)[1]

    def _moved(self, target: QgsCoordinateReferenceSystem) -> tuple[QgsGeometry, Area]:
        if self._selection is None:
            raise InvalidRequestError(reason=tr("there is no area yet; draw one or take the map extent"))
        key = target.toWkt()
        if key not in self._cache:
            selection = self._selection
            moved = to_service_geometry(selection.geometry, selection.crs, target, self.project)
            area = area_from_geometry(moved)
            self._cache = {key: (moved, area)}
        return self._cache[key]

    # --- drawing ---------------------------------------------------------------------------
    @property
    def is_drawing(self) -> bool:
        return self._tool is not None and self.canvas.mapTool() is self._tool

    def start_drawing(self) -> PolygonMapTool:
        if self._tool is None:
            self._tool = PolygonMapTool(self.canvas)
            self._tool.polygonDrawn.connect(self._on_polygon_drawn)
            self._tool.drawingCancelled.connect(self.stop_drawing)
            self._tool.deactivated.connect(lambda: self.drawingChanged.emit(False))
        current = self.canvas.mapTool()
        if current is not self._tool:
            self._previous_tool = current
            self.canvas.setMapTool(self._tool)
        self.drawingChanged.emit(True)
        return self._tool

    def stop_drawing(self) -> None:
        if self._tool is not None and self.canvas.mapTool() is self._tool:
            previous = self._previous_tool
            self._previous_tool = None
            if previous is not None:
                self.canvas.setMapTool(previous)
            else:
                self.canvas.unsetMapTool(self._tool)
        self.drawingChanged.emit(False)

    def _on_polygon_drawn(self, geometry: QgsGeometry) -> None:
        crs = self.canvas.mapSettings().destinationCrs()
        self.stop_drawing()
        self.set_polygon(geometry, crs)

    # --- canvas items ----------------------------------------------------------------------
    @property
    def rubber_band(self) -> QgsRubberBand | None:
        return self._band

    @property
    def preview_band(self) -> QgsRubberBand | None:
        return self._preview

    def _redraw(self, *_args) -> None:
        if self._selection is None:
            if self._band is not None:
                self._band.reset(POLYGON)
                self._band.hide()
            return
        if self._band is None:
            self._band = area_rubber_band(self.canvas)
        self._band.setToGeometry(self._selection.geometry, self._selection.crs)
        self._band.show()

    def show_preview(self, geometry: QgsGeometry, crs: QgsCoordinateReferenceSystem) -> None:
        if self._preview is None:
            self._preview = QgsRubberBand(self.canvas, POLYGON)
            self._preview.setStrokeColor(PREVIEW_COLOR)
            self._preview.setFillColor(QColor(0, 0, 0, 0))
            self._preview.setWidth(1)
            self._preview.setLineStyle(Qt.PenStyle.DashLine)
        self._preview.setToGeometry(geometry, crs)
        self._preview.show()

    def clear_preview(self) -> None:
        if self._preview is not None:
            self._preview.reset(POLYGON)
            self._preview.hide()

    def close(self) -> None:
        """Remove everything from the canvas (the dock is going away)."""
        with contextlib.suppress(TypeError, RuntimeError):
            self.canvas.destinationCrsChanged.disconnect(self._redraw)
        if self._tool is not None:
            self.stop_drawing()
            self._tool.deleteLater()
            self._tool = None
        for band in (self._band, self._preview):
            if band is not None:
                self.canvas.scene().removeItem(band)
        self._band = self._preview = None
