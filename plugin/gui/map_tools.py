"""Map tools that let the user draw the export area on the canvas."""
from __future__ import annotations

from qgis.core import QgsGeometry, QgsPointXY
from qgis.gui import QgsMapTool, QgsRubberBand
from qgis.PyQt.QtCore import QEvent, Qt, pyqtSignal
from qgis.PyQt.QtGui import QColor

from ..qgis_glue.enums import polygon_geometry

AREA_COLOR = QColor(27, 111, 168)
AREA_FILL = QColor(27, 111, 168, 40)
# Keys the drawing answers.  QGIS binds some to window shortcuts (Backspace and Delete to *Delete
# Selected*, which deletes features of an editable layer): the tool claims them while it is active.
DRAWING_KEYS = frozenset({Qt.Key.Key_Backspace, Qt.Key.Key_Delete, Qt.Key.Key_Return, Qt.Key.Key_Enter,
                          Qt.Key.Key_Escape})


def area_rubber_band(canvas) -> QgsRubberBand:
    band = QgsRubberBand(canvas, polygon_geometry())
    band.setStrokeColor(AREA_COLOR)
    band.setFillColor(AREA_FILL)
    band.setWidth(2)
    return band


class PolygonMapTool(QgsMapTool):
    """Click vertices; double-click or right-click finishes; Backspace removes the last vertex;
    Esc cancels.  Emits ``polygonDrawn`` with a polygon in the canvas CRS."""

    polygonDrawn = pyqtSignal(QgsGeometry)
    drawingCancelled = pyqtSignal()

    def __init__(self, canvas) -> None:
        super().__init__(canvas)
        self._points: list[QgsPointXY] = []
        self._band: QgsRubberBand | None = None
        self.setCursor(Qt.CursorShape.CrossCursor)

    @property
    def points(self) -> list[QgsPointXY]:
        return list(self._points)

    # --- events ------------------------------------------------------------------------------
    def canvasPressEvent(self, event) -> None:
        if event.button() == Qt.MouseButton.RightButton:
            self._finish()
        elif event.button() == Qt.MouseButton.LeftButton:
            self._points.append(self.toMapCoordinates(event.pos()))
            self._redraw()

    def canvasMoveEvent(self, event) -> None:
        if self._points:
            self._redraw(self.toMapCoordinates(event.pos()))

    def canvasDoubleClickEvent(self, event) -> None:
        # The press of the double click already added its vertex: finish with what we have.
        self._finish()

    def keyPressEvent(self, event) -> None:
        key = event.key()
        if key == Qt.Key.Key_Escape:
            self.cancel()
            event.accept()
        elif key in (Qt.Key.Key_Backspace, Qt.Key.Key_Delete) and self._points:
            self._points.pop()
            self._redraw()
            event.accept()
        elif key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self._finish()
            event.accept()
        else:
            event.ignore()

    def activate(self) -> None:
        super().activate()
        for widget in self._key_targets():
            widget.installEventFilter(self)

    def deactivate(self) -> None:
        for widget in self._key_targets():
            widget.removeEventFilter(self)
        self._reset()
        super().deactivate()

    def eventFilter(self, watched, event) -> bool:
        """Accepting the shortcut override makes Qt deliver the key to the canvas (and so to
        :meth:`keyPressEvent`) instead of firing the window's shortcut for it."""
        if event.type() == QEvent.Type.ShortcutOverride and event.key() in DRAWING_KEYS:
            event.accept()
            return True
        return False

    def _key_targets(self) -> list:
        canvas = self.canvas()
        return [canvas, canvas.viewport()]

    # --- helpers -----------------------------------------------------------------------------
    def cancel(self) -> None:
        self._reset()
        self.drawingCancelled.emit()

    def _finish(self) -> None:
        points = _without_repeats(self._points)
        self._reset()
        if len(points) < 3:
            self.drawingCancelled.emit()
            return
        geometry = QgsGeometry.fromPolygonXY([points + [points[0]]])
        if not geometry.isGeosValid():
            geometry = geometry.makeValid()
        self.polygonDrawn.emit(geometry)

    def _redraw(self, hover: QgsPointXY | None = None) -> None:
        if self._band is None:
            self._band = area_rubber_band(self.canvas())
        self._band.reset(polygon_geometry())
        for point in self._points + ([hover] if hover is not None else []):
            self._band.addPoint(point, False)
        self._band.show()
        self._band.updatePosition()
        self.canvas().refresh()

    def _reset(self) -> None:
        self._points = []
        if self._band is not None:
            self.canvas().scene().removeItem(self._band)
            self._band = None


def _without_repeats(points: list[QgsPointXY]) -> list[QgsPointXY]:
    kept: list[QgsPointXY] = []
    for point in points:
        if not kept or point != kept[-1]:
            kept.append(point)
    if len(kept) > 1 and kept[0] == kept[-1]:
        kept.pop()
    return kept
