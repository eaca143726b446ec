"""Screenshots of the dock and the canvas (``make screenshots``); skipped without ``--screenshots-dir``.

The dock is rendered at its default width (300 px) and at 600 px in each state an analyst meets:
connected, area drawn, levels ticked, exporting, finished, failed.  ``dock_<state>_<width>.png``.
"""
from __future__ import annotations

from qgis.core import QgsMapRendererSequentialJob, QgsProject, QgsRectangle
from qgis.gui import QgsMapMouseEvent
from qgis.PyQt.QtCore import QEvent, QPoint, Qt
from qgis.PyQt.QtGui import QColor, QPainter

from plugin.gui.exports import ExportState
from tests.qgis.conftest import connect
from tests.qgis.exports_helpers import TIMEOUT_MS, wait_state

WIDTHS = (300, 600)
DOCK_HEIGHT = 1500
CANVAS_SIZE = (800, 560)
POLYGON_PIXELS = ((250, 120), (520, 100), (600, 330), (420, 460), (230, 380))


def _click(tool, canvas, x, y, button=Qt.MouseButton.LeftButton):
    event = QgsMapMouseEvent(canvas, QEvent.Type.MouseButtonPress, QPoint(x, y), button, button,
                             Qt.KeyboardModifier.NoModifier)
    tool.canvasPressEvent(event)


def _render_canvas(canvas, path) -> None:
    """The layers rendered like the canvas would, then the canvas items (rubber bands) on top."""
    job = QgsMapRendererSequentialJob(canvas.mapSettings())
    job.start()
    job.waitForFinished()
    image = job.renderedImage()
    painter = QPainter(image)
    canvas.scene().render(painter)
    painter.end()
    assert image.save(str(path))


def _shoot(dock, qtbot, folder, state: str, exports_tab: bool = False) -> None:
    dock.tabs.setCurrentIndex(1 if exports_tab else 0)
    for width in WIDTHS:
        dock.resize(width, DOCK_HEIGHT)
        qtbot.wait(80)
        assert dock.grab().save(str(folder / f"dock_{state}_{width}.png"))


def test_screenshots_of_the_dock_in_each_state(screenshots_dir, dock, qtbot, qgis_canvas, emulator, countries,
                                                tmp_path):
    qgis_canvas.resize(*CANVAS_SIZE)
    qgis_canvas.setCanvasColor(QColor(220, 235, 245))
    qgis_canvas.setLayers([countries])
    qgis_canvas.setExtent(QgsRectangle(-1.5e6, 4.0e6, 3.5e6, 7.5e6))  # western Europe
    qgis_canvas.refresh()
    dock.show()
    connect(dock, qtbot, emulator.service_url("World_Imagery", "ImageServer"))
    assert dock.service is not None, dock.message_text()
    _shoot(dock, qtbot, screenshots_dir, "connected")

    tool = dock.start_drawing()
    for x, y in POLYGON_PIXELS:
        _click(tool, qgis_canvas, x, y)
    _click(tool, qgis_canvas, 0, 0, button=Qt.MouseButton.RightButton)
    dock.recount_now()
    assert not dock.area.is_empty
    _shoot(dock, qtbot, screenshots_dir, "area_drawn")

    dock.model.set_checked_levels(range(8))
    dock.ui.previewCheck.setChecked(True)
    dock.ui.outputWidget.setFilePath(str(tmp_path / "europe.tpkx"))
    dock._update_totals()
    _shoot(dock, qtbot, screenshots_dir, "levels_ticked")
    _render_canvas(qgis_canvas, screenshots_dir / "canvas_with_polygon.png")
    assert QgsProject.instance().mapLayersByName("countries")

    emulator.configure("World_Imagery/ImageServer", job_steps=30, job_step_delay_s=0.0)  # a step per poll
    running = dock.export()
    qtbot.waitUntil(lambda: dock.manager.view(running).progress > 0.01, timeout=60000)
    _shoot(dock, qtbot, screenshots_dir, "exporting", exports_tab=True)
    dock.manager.cancel(running)
    wait_state(qtbot, dock.manager, running)

    emulator.configure("World_Imagery/ImageServer", job_steps=1, job_step_delay_s=0.0)
    dock.model.set_checked_levels(range(5))
    dock.recount_now()
    finished = dock.export()
    assert wait_state(qtbot, dock.manager, finished, timeout=TIMEOUT_MS).state == ExportState.FINISHED
    dock.manager.discard(running)
    _shoot(dock, qtbot, screenshots_dir, "finished", exports_tab=True)

    emulator.inject("job_fail", message="ERROR 001117: the cache is being rebuilt")
    failed = dock.export()
    assert wait_state(qtbot, dock.manager, failed, timeout=TIMEOUT_MS).state == ExportState.FAILED
    dock.show_message(dock.manager.view(failed).error)
    _shoot(dock, qtbot, screenshots_dir, "failed", exports_tab=True)
