"""The area panel: a rectangle (the map extent, a layer's extent, typed or drawn), a drawn polygon or the
features of a polygon layer; the area's description and the tile preview switch."""
from __future__ import annotations

import math

from qgis.core import Qgis, QgsDistanceArea, QgsMapLayerProxyModel
from qgis.gui import QgsExtentWidget
from qgis.PyQt.QtCore import QObject
from qgis.PyQt.QtWidgets import QSizePolicy

from ...core.errors import ArcGISOfflineTilesError
from ...qgis_glue import settings
from ...qgis_glue.i18n import error_message, translator
from ..levels_model import format_int, plural

tr = translator("ArcGISOfflineTilesDockWidget")

AREA_EXTENT, AREA_POLYGON, AREA_FEATURES = range(3)
AREA_TOPIC = "area"
# QGIS 3.34+ has Qgis.LayerFilter; 3.22 the filter enum of the proxy model (scoped for Qt 6).
POLYGON_LAYERS = (Qgis.LayerFilter.PolygonLayer if hasattr(Qgis, "LayerFilter")
                  else QgsMapLayerProxyModel.Filter.PolygonLayer)
WGS84_ELLIPSOID = "EPSG:7030"  # for the area's size when the project measures nothing (ellipsoid NONE)


class AreaPanel(QObject):
    """Turns the user's choice of area into the controller's :class:`~..area.AreaController` selection."""

    def __init__(self, ui, controller, messages, parent=None) -> None:
        super().__init__(parent)
        self.ui = ui
        self.controller = controller
        self.messages = messages
        self.area = controller.area
        self.canvas = controller.canvas
        saved = settings.area_source(AREA_EXTENT)
        ui.areaSourceCombo.setCurrentIndex(saved if 0 <= saved < ui.areaSourceCombo.count() else AREA_EXTENT)
        ui.areaSourceCombo.currentIndexChanged.connect(self._source_changed)
        ui.areaSourceCombo.currentIndexChanged.connect(settings.set_area_source)
        self._source_changed(ui.areaSourceCombo.currentIndex())
        ui.extentWidget.setMapCanvas(self.canvas)
        ui.extentWidget.extentChanged.connect(self._extent_changed)
        ui.canvasExtentButton.clicked.connect(self.use_canvas_extent)
        ui.drawButton.toggled.connect(self._draw_toggled)
        ui.drawRectangleButton.toggled.connect(self._rectangle_toggled)
        ui.layerCombo.setFilters(POLYGON_LAYERS)
        ui.layerCombo.setAllowEmptyLayer(False)
        ui.useFeaturesButton.clicked.connect(self.use_features)
        ui.clearAreaButton.clicked.connect(self.area.clear)
        ui.previewCheck.toggled.connect(lambda _on: controller.schedule_refresh())
        self.area.areaChanged.connect(self._area_changed)
        self.area.drawingChanged.connect(self._drawing_changed)
        self.area.drawingFailed.connect(self.set_error)

    def _source_changed(self, index: int) -> None:
        pages = self.ui.areaPages
        # A stacked widget is as tall as its tallest page: let only the current page count.
        for i in range(pages.count()):
            policy = QSizePolicy.Policy.Preferred if i == index else QSizePolicy.Policy.Ignored
            pages.widget(i).setSizePolicy(policy, policy)
        pages.setCurrentIndex(index)
        pages.adjustSize()
        kind = self.area.drawing_kind
        if (kind == "polygon" and index != AREA_POLYGON) or (kind == "rectangle" and index != AREA_EXTENT):
            self.area.stop_drawing()

    def use_canvas_extent(self) -> bool:
        self.ui.areaSourceCombo.setCurrentIndex(AREA_EXTENT)
        if self.canvas.extent().isEmpty():
            self.set_error(tr("The map is empty, so it has no extent to use: add a layer or zoom to where you "
                              "work, or draw a rectangle or a polygon."))
            return False
        self.ui.extentWidget.setOutputExtentFromCurrent()
        return True

    def _extent_changed(self, rect) -> None:
        widget = self.ui.extentWidget
        state = widget.extentState()
        if state == QgsExtentWidget.ExtentState.CurrentExtent:
            label = tr("Map extent")
        elif state == QgsExtentWidget.ExtentState.ProjectLayerExtent:
            label = tr("Extent of {layer}").format(layer=widget.extentLayerName())
        elif state == QgsExtentWidget.ExtentState.DrawOnCanvas:
            label = tr("Rectangle drawn on the map")
        else:
            label = tr("Rectangle")
        crs = widget.outputCrs()
        if not crs.isValid():
            crs = self.canvas.mapSettings().destinationCrs()
        try:
            self.area.set_extent(rect, crs, label)
        except ArcGISOfflineTilesError as exc:
            self.set_error(error_message(exc))

    def _draw_toggled(self, on: bool) -> None:
        if on and self.area.drawing_kind != "polygon":
            self.ui.areaSourceCombo.setCurrentIndex(AREA_POLYGON)
            self.area.start_drawing()
            self.canvas.setFocus()
        elif not on and self.area.drawing_kind == "polygon":
            self.area.stop_drawing()

    def _rectangle_toggled(self, on: bool) -> None:
        if on and self.area.drawing_kind != "rectangle":
            self.ui.areaSourceCombo.setCurrentIndex(AREA_EXTENT)
            self.area.start_rectangle()
            self.canvas.setFocus()
        elif not on and self.area.drawing_kind == "rectangle":
            self.area.stop_drawing()

    def _drawing_changed(self, _drawing: bool) -> None:
        kind = self.area.drawing_kind
        for button, own in ((self.ui.drawButton, "polygon"), (self.ui.drawRectangleButton, "rectangle")):
            button.blockSignals(True)
            button.setChecked(kind == own)
            button.blockSignals(False)

    def start_drawing(self):
        """Switch to the polygon page and activate the polygon tool (returns the tool)."""
        self.ui.drawButton.setChecked(True)
        return self.area.start_drawing()

    def start_rectangle(self):
        """Activate QGIS's rectangle tool (returns it): the dragged rectangle becomes the area."""
        self.ui.drawRectangleButton.setChecked(True)
        return self.area.start_rectangle()

    def use_features(self) -> bool:
        layer = self.ui.layerCombo.currentLayer()
        try:
            self.area.set_from_features(layer, self.ui.selectedOnlyCheck.isChecked())
        except ArcGISOfflineTilesError as exc:
            self.set_error(error_message(exc))
            return False
        return True

    def set_error(self, text: str) -> None:
        self.messages.show(text, Qgis.MessageLevel.Warning, tr("Area"), topic=AREA_TOPIC)

    def _area_changed(self) -> None:
        self.controller.area_error = ""
        if self.area.selection is not None:
            self.messages.clear(AREA_TOPIC)
        self.controller.schedule_recount()

    def description(self) -> str:
        selection = self.area.selection
        if selection is None:
            return tr("No area yet: use the map extent, draw a rectangle or a polygon, or take polygon features.")
        project = self.controller.project
        measure = QgsDistanceArea()
        measure.setSourceCrs(selection.crs, project.transformContext())
        ellipsoid = project.ellipsoid()
        measure.setEllipsoid(ellipsoid if ellipsoid and ellipsoid.upper() != "NONE" else WGS84_ELLIPSOID)
        try:
            km2 = measure.measureArea(selection.geometry) / 1e6
        except Exception:  # noqa: BLE001 - a measurement problem must not hide the area
            km2 = float("nan")
        parts = selection.geometry.constGet().numGeometries() if selection.geometry.isMultipart() else 1
        text = selection.label
        if math.isfinite(km2) and km2 > 0:
            size = format_int(round(km2)) if km2 >= 10 else f"{km2:.2g}"
            text += " — " + tr("{size} km²").format(size=size)
        if parts > 1:
            text += ", " + plural(parts, tr("{n} part"), tr("{n} parts"))
        return text

    def on_visibility(self, visible: bool) -> None:
        for band in (self.area.rubber_band, self.area.preview_band):
            if band is not None:
                band.setVisible(visible and not self.area.is_empty)
        if not visible and self.area.is_drawing:
            self.area.stop_drawing()
