"""Screenshots of the dock and the canvas (``make screenshots``); skipped without ``--screenshots-dir``."""
from __future__ import annotations

from qgis.core import QgsMapRendererSequentialJob, QgsProject, QgsRectangle
from qgis.gui import QgsMapMouseEvent
from qgis.PyQt.QtCore import QEvent, QPoint, Qt
from qgis.PyQt.QtGui import QColor, QPainter

from tests.qgis.conftest import connect

DOCK_SIZE = (360, 1400)
CANVAS_SIZE = (800, 560)


def _click(tool, canvas, x, y, button=Qt.MouseButton.LeftButton):
    event = QgsMapMouseEvent(canvas, QEvent.Type.MouseButtonPress, QPoint(x, y), button, button,
                             Qt.KeyboardModifier.NoModifier)
    tool.canvasPressEvent(event)


def _render_canvas(canvas, path) -> None:
    """The layers rendered like the canvas would, then the canvas items (rubber bands) on top."""
    settings = canvas.mapSettings()
    job = QgsMapRendererSequentialJob(settings)
    job.start()
    job.waitForFinished()
    image = job.renderedImage()
    painter = QPainter(image)
    canvas.scene().render(painter)
    painter.end()
    assert image.save(str(path))


def test_screenshot_dock_with_polygon(screenshots_dir, dock, qtbot, qgis_canvas, emulator, countries):
    qgis_canvas.resize(*CANVAS_SIZE)
    qgis_canvas.setCanvasColor(QColor(220, 235, 245))
    qgis_canvas.setLayers([countries])
    qgis_canvas.setExtent(QgsRectangle(-1.5e6, 4.0e6, 3.5e6, 7.5e6))  # western Europe
    qgis_canvas.refresh()
    connect(dock, qtbot, emulator.service_url("World_Map", "MapServer"))
    assert dock.service is not None, dock.message_text()
    tool = dock.start_drawing()
    for x, y in ((250, 120), (520, 100), (600, 330), (420, 460), (230, 380)):
        _click(tool, qgis_canvas, x, y)
    _click(tool, qgis_canvas, 0, 0, button=Qt.MouseButton.RightButton)
    dock.ui.previewCheck.setChecked(True)
    dock.recount_now()
    qtbot.wait(50)
    assert not dock.area.is_empty

    dock.resize(*DOCK_SIZE)
    dock.show()
    qtbot.wait(100)
    assert dock.grab().save(str(screenshots_dir / "dock_with_polygon.png"))
    dock.resize(DOCK_SIZE[0], 700)
    qtbot.wait(50)
    assert dock.grab().save(str(screenshots_dir / "dock_narrow_scrolled.png"))
    _render_canvas(qgis_canvas, screenshots_dir / "canvas_with_polygon.png")
    assert QgsProject.instance().mapLayersByName("countries")
