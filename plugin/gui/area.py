"""The export area: where it comes from, how it shows on the canvas, and its shape in the service CRS.

An area is a rectangle (the canvas extent, a layer's extent, one drawn with QGIS's extent tool),
a polygon drawn with :class:`~.map_tools.PolygonMapTool`, or the union of a polygon layer's
(selected) features — parts and holes kept.  It is kept in the CRS it was made in and moved into
the service CRS on demand (:meth:`AreaController.service_area`) by
:func:`..qgis_glue.crs.to_service_geometry`, which cuts it at the antimeridian first when it crosses
±180° (the Processing algorithms use the same function).
"""
from __future__ import annotations

import contextlib
from dataclasses import dataclass

from qgis.core import (
    QgsCoordinateReferenceSystem,
    QgsFeatureRequest,
    QgsGeometry,
    QgsPointXY,
    QgsProject,
    QgsRectangle,
)
from qgis.gui import QgsMapToolExtent, QgsRubberBand
from qgis.PyQt.QtCore import QObject, Qt, pyqtSignal
from qgis.PyQt.QtGui import QColor

from ..core.area import Area
from ..core.errors import ArcGISOfflineTilesError, InvalidRequestError
from ..core.tilecount import iter_tiles
from ..core.tiling import TilingScheme
from ..qgis_glue.areas import POLYGON, area_from_geometry, polygons_only
from ..qgis_glue.crs import to_service_geometry
from ..qgis_glue.i18n import error_message, translator
from .levels_model import plural
from .map_tools import PolygonMapTool, area_rubber_band

PREVIEW_MAX_TILES = 2000  # more tile outlines than this clutter the canvas and slow it down
PREVIEW_COLOR = QColor(214, 98, 22)


tr = translator("AreaController")


# --- tile footprint -----------------------------------------------------------------------------
def tile_footprint(scheme: TilingScheme, area: Area, level: int) -> QgsGeometry:
    """The outlines of the tiles ``area`` touches at ``level``, as one multipolygon (service CRS)."""
    bounds = (scheme.tile_bounds(level, row, col) for row, col in iter_tiles(scheme, area, level))
    boxes = [[[QgsPointXY(x0, y0), QgsPointXY(x0, y1), QgsPointXY(x1, y1), QgsPointXY(x1, y0), QgsPointXY(x0, y0)]]
             for x0, y0, x1, y1 in bounds]
    return QgsGeometry.fromMultiPolygonXY(boxes)


# --- the controller -----------------------------------------------------------------------------
NAME_FIELDS = ("name", "name_en", "nom", "nombre", "admin", "label")  # lower case


def _feature_name(feature) -> str:
    """The value of the feature's name-like field ("Italy"), else ""."""
    fields = feature.fields()
    for wanted in NAME_FIELDS:
        for index in range(fields.count()):
            if fields.at(index).name().lower() == wanted:
                value = feature.attribute(index)
                if isinstance(value, str) and value.strip():
                    return value.strip()
    return ""


@dataclass(frozen=True)
class AreaSelection:
    """An area as the user made it: geometry in ``crs``, and a short description."""

    geometry: QgsGeometry
    crs: QgsCoordinateReferenceSystem
    is_rectangle: bool
    label: str
    name: str = ""  # a place name for file names ("Italy"), when the area has one


class AreaController(QObject):
    """Holds the export area, draws it on the canvas and moves it into a service's CRS.

    ``areaChanged`` fires whenever the area is set or cleared; ``drawingChanged(bool)`` when a drawing
    tool (polygon or rectangle) starts or stops; ``drawingFailed(str)`` when a drawn rectangle has no area.
    """

    areaChanged = pyqtSignal()
    drawingChanged = pyqtSignal(bool)
    drawingFailed = pyqtSignal(str)

    def __init__(self, canvas, project: QgsProject | None = None, parent=None) -> None:
        super().__init__(parent)
        self.canvas = canvas
        self.project = project
        self._selection: AreaSelection | None = None
        self._band: QgsRubberBand | None = None
        self._preview: QgsRubberBand | None = None
        self._tool: PolygonMapTool | None = None
        self._rectangle_tool: QgsMapToolExtent | None = None
        self._previous_tool = None
        self._cache: dict[str, Area] = {}  # the area in a service CRS, keyed by that CRS's WKT
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
        union = polygons_only(QgsGeometry.unaryUnion(geometries))
        if union.isEmpty():
            raise InvalidRequestError(reason=tr("the features of {layer} enclose no area").format(layer=layer.name()))
        n = len(geometries)
        name = _feature_name(features[0]) if selected_only and n == 1 else ""
        if selected_only:
            label = plural(n, tr("{n} selected feature of {layer}"), tr("{n} selected features of {layer}"),
                           layer=layer.name())
        else:
            label = plural(n, tr("{n} feature of {layer}"), tr("{n} features of {layer}"), layer=layer.name())
        self._set(AreaSelection(union, QgsCoordinateReferenceSystem(layer.crs()), False, label,
                                name or layer.name()))
        return n

    def clear(self) -> None:
        self._set(None)

    def _set(self, selection: AreaSelection | None) -> None:
        self._selection = selection
        self._cache.clear()
        self.clear_preview()
        self._redraw()
        self.areaChanged.emit()

    # --- the service CRS -------------------------------------------------------------------
    def service_area(self, target: QgsCoordinateReferenceSystem) -> Area:
        """The core's :class:`Area` in ``target`` (cached until the area changes).

        Raises :class:`InvalidRequestError` when there is no area or nothing of it is left in ``target``.
        """
        if self._selection is None:
            raise InvalidRequestError(reason=tr("there is no area yet; draw one or take the map extent"))
        key = target.toWkt()
        if key not in self._cache:
            selection = self._selection
            moved = to_service_geometry(selection.geometry, selection.crs, target, self.project)
            self._cache = {key: area_from_geometry(moved)}
        return self._cache[key]

    # --- drawing ---------------------------------------------------------------------------
    @property
    def is_drawing(self) -> bool:
        return self.drawing_kind != ""

    @property
    def drawing_kind(self) -> str:
        """"polygon" or "rectangle" while that tool is on the canvas, else ""."""
        current = self.canvas.mapTool()
        if current is not None and current is self._tool:
            return "polygon"
        if current is not None and current is self._rectangle_tool:
            return "rectangle"
        return ""

    def start_drawing(self) -> PolygonMapTool:
        if self._tool is None:
            self._tool = PolygonMapTool(self.canvas)
            self._tool.polygonDrawn.connect(self._on_polygon_drawn)
            self._tool.drawingCancelled.connect(self.stop_drawing)
            self._tool.deactivated.connect(lambda: self.drawingChanged.emit(False))
        self._activate(self._tool)
        return self._tool

    def start_rectangle(self) -> QgsMapToolExtent:
        """QGIS's own rectangle tool; the rectangle becomes the area when the mouse is released."""
        if self._rectangle_tool is None:
            self._rectangle_tool = QgsMapToolExtent(self.canvas)
            self._rectangle_tool.extentChanged.connect(self._on_rectangle_drawn)
            self._rectangle_tool.deactivated.connect(lambda: self.drawingChanged.emit(False))
        self._activate(self._rectangle_tool)
        return self._rectangle_tool

    def _activate(self, tool) -> None:
        current = self.canvas.mapTool()
        if current is not tool:
            if current not in (self._tool, self._rectangle_tool):
                self._previous_tool = current
            self.canvas.setMapTool(tool)
        self.drawingChanged.emit(True)

    def stop_drawing(self) -> None:
        current = self.canvas.mapTool()
        if current is not None and current in (self._tool, self._rectangle_tool):
            previous = self._previous_tool
            self._previous_tool = None
            if previous is not None:
                self.canvas.setMapTool(previous)
            else:
                self.canvas.unsetMapTool(current)
        self.drawingChanged.emit(False)

    def _on_rectangle_drawn(self, rect) -> None:
        crs = self.canvas.mapSettings().destinationCrs()
        self.stop_drawing()
        try:
            self.set_extent(rect, crs, tr("Rectangle drawn on the map"))
        except ArcGISOfflineTilesError as exc:
            self.drawingFailed.emit(error_message(exc))

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
        self.stop_drawing()
        for tool in (self._tool, self._rectangle_tool):
            if tool is not None:
                tool.deleteLater()
        self._tool = self._rectangle_tool = None
        for band in (self._band, self._preview):
            if band is not None:
                self.canvas.scene().removeItem(band)
        self._band = self._preview = None
