"""Closing QGIS in the middle of an export and starting it again: the dock offers the export and
finishes it, through the plugin as QGIS loads it (initGui over the same QGIS profile)."""
from __future__ import annotations

from qgis.core import Qgis, QgsProject, QgsRasterLayer
from qgis.gui import QgsMessageBarItem
from qgis.PyQt.QtWidgets import QPushButton

from plugin.core.exportstore import PAUSED, ExportStore
from plugin.gui.exports import ExportState
from tests.qgis.conftest import connect
from tests.qgis.exports_helpers import (
    close_qgis,
    export_requests,
    qgis_sessions_fixture,  # noqa: F401 - the qgis_sessions fixture
    wait_state,
)
from tests.qgis.test_dock_end_to_end import _tile_info, assert_placed

TIMEOUT_MS = 120_000


def _notes(bar) -> list[QgsMessageBarItem]:
    return [item for item in bar.items() if "earlier session" in item.text()]


def test_an_export_cut_off_by_closing_qgis_resumes_from_the_dock_next_time(qgis_sessions, emulator, shown_canvas,
                                                                          tmp_path, qtbot, qgis_iface):
    url = emulator.service_url("World_Map", "MapServer")
    first = qgis_sessions()
    assert first.dock is None  # nothing to offer: the dock waits for the user
    dock = first.ensure_dock()
    connect(dock, qtbot, url)
    dock.use_canvas_extent()
    dock.model.set_checked_levels([1, 2, 3])
    out, part = tmp_path / "field.tpkx", tmp_path / "field.tpkx.part"
    emulator.inject("drop_download", after_bytes=4096, count=None)  # a slow line: the download crawls
    dock.ui.outputWidget.setFilePath(str(out))
    dock.recount_now()
    export_id = dock.export()
    assert export_id, dock.message_text()
    qtbot.waitUntil(lambda: part.exists() and part.stat().st_size >= 4096, timeout=TIMEOUT_MS)

    close_qgis(first, qtbot)
    kept = part.stat().st_size
    assert not out.exists()
    assert [r.state for r in ExportStore(tmp_path / "profile" / "jobs").records()] == [PAUSED]
    assert not _notes(qgis_iface.messageBar())
    emulator.clear_faults()

    second = qgis_sessions()  # QGIS starts again
    bar = qgis_iface.messageBar()
    qtbot.waitUntil(lambda: bool(_notes(bar)), timeout=10_000)
    note = _notes(bar)[0]
    assert note.level() == Qgis.MessageLevel.Info and "can resume" in note.text()
    dock = second.dock  # built after start-up to read the records
    assert not dock.isUserVisible()  # hidden at startup, as always
    show = note.widget()
    assert isinstance(show, QPushButton) and show.text() == "Show"
    show.click()
    assert dock.isUserVisible() and dock.tabs.currentWidget() is dock.exports_panel  # the Exports tab
    assert not _notes(bar)  # the note has done its job

    card = dock.exports_panel.card(export_id)
    assert card is not None and card.buttons["resume"].isVisibleTo(card)
    assert "from an earlier session" in card.details.text()
    before = set(QgsProject.instance().mapLayers())
    card.buttons["resume"].click()
    view = wait_state(qtbot, dock.manager, export_id, (ExportState.FINISHED, ExportState.FAILED), timeout=TIMEOUT_MS)
    assert view.state == ExportState.FINISHED, view.error
    assert f"bytes={kept}-" in [r.header("Range") for r in emulator.requests if r.header("Range")]
    assert len(export_requests(emulator)) == 1  # the server job of the first session
    assert out.exists() and not part.exists()
    new = [QgsProject.instance().mapLayer(i) for i in set(QgsProject.instance().mapLayers()) - before]
    assert len(new) == 1 and isinstance(new[0], QgsRasterLayer) and new[0].isValid()
    assert_placed(new[0], shown_canvas.extent(), _tile_info(url), 3, vector=False)


def test_no_note_without_an_interrupted_export(qgis_sessions, qtbot, qgis_iface):
    plugin = qgis_sessions()
    qtbot.wait(100)  # the start-up check runs once QGIS's event loop turns
    assert plugin.dock is None, "an empty export store does not build the dock at start-up"
    dock = plugin.ensure_dock()
    qtbot.waitUntil(lambda: not dock.manager.scanning, timeout=10_000)
    assert not _notes(qgis_iface.messageBar())


def test_a_pause_from_qgis_task_list_is_not_reported_as_a_failure(dock, qtbot, emulator, shown_canvas, tmp_path):
    from qgis.core import QgsApplication, QgsTask

    from plugin.tasks.export_task import ExportTask

    emulator.configure("World_Map/MapServer", job_steps=100, job_step_delay_s=0.2)
    connect(dock, qtbot, emulator.service_url("World_Map", "MapServer"))
    dock.use_canvas_extent()
    dock.model.set_checked_levels([1, 2])
    dock.ui.outputWidget.setFilePath(str(tmp_path / "paused.tpkx"))
    dock.recount_now()
    export_id = dock.export()
    qtbot.waitUntil(lambda: len(export_requests(emulator)) == 1, timeout=TIMEOUT_MS)
    task = next(t for t in QgsApplication.taskManager().activeTasks() if isinstance(t, ExportTask))
    statuses = []
    task.statusChanged.connect(statuses.append)
    task.cancel()  # what QGIS's task list does
    view = wait_state(qtbot, dock.manager, export_id, states=(ExportState.PAUSED, ExportState.FAILED),
                      timeout=TIMEOUT_MS)
    assert view.state == ExportState.PAUSED
    assert QgsTask.TaskStatus.Terminated not in statuses  # QGIS shows "Task failed" for a terminated task
    assert QgsTask.TaskStatus.Complete in statuses
    card = dock.exports_panel.card(export_id)
    assert card.buttons["resume"].isVisibleTo(card)
    dock.manager.discard(export_id)
