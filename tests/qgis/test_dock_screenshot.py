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


def test_screenshot_dock_with_polygon(screenshots_dir, dock, qtbot, qgis_canvas, emulator, countries, tmp_path):
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

    # an export under way, as the Exports section shows it
    emulator.configure("World_Map/MapServer", job_steps=40, job_step_delay_s=0.25)
    dock.ui.outputWidget.setFilePath(str(tmp_path / "europe.tpkx"))
    job_id = dock.export()
    assert job_id
    qtbot.waitUntil(lambda: dock.manager.job(job_id).progress > 0.05, timeout=30000)
    dock.resize(DOCK_SIZE[0], 1900)
    qtbot.wait(100)
    assert dock.grab().save(str(screenshots_dir / "dock_export_running.png"))
    assert dock.ui.jobsGroup.grab().save(str(screenshots_dir / "dock_exports_section.png"))
    dock.manager.cancel(job_id)
