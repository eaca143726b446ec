"""One export, one completion notice.

Inside the QGIS application, QgisApp::onTaskCompleteShowNotify announces the end of every task of the
task manager that ran at least ``minTaskLengthForSystemNotification`` seconds (default 5) with a system
notification, "Task complete" and the task's description (QGIS 3.22: every such task; QGIS 3.26+/3.34+:
unless the task is Hidden or Silent).  The plugin's own note ("Export finished" in the message bar) was
the second notice of the same export: it is given only when QGIS gives none.

QgisApp does not exist under pytest-qgis (no main window, no desktop notification service), so its
notification cannot be observed here: the tests let the test process play the QGIS application
(``QgsApplication.platform()``) and count the notices the plugin gives.
"""
from __future__ import annotations

import pytest
from qgis.core import Qgis, QgsApplication, QgsSettings

from plugin.gui.exports import ExportState
from plugin.tasks import base
from tests.qgis.conftest import connect
from tests.qgis.exports_helpers import TIMEOUT_MS, messages, wait_state

SECONDS_KEY = base.SYSTEM_NOTIFICATION_KEY
NEVER_S = 24 * 3600  # a threshold no test export reaches


@pytest.fixture
def qgis_application(monkeypatch):
    """This process stands for the QGIS desktop application (the platform QgisApp runs in)."""
    monkeypatch.setattr(base, "QGIS_DESKTOP", QgsApplication.platform())


@pytest.fixture
def notify_after():
    """Set QGIS's ``minTaskLengthForSystemNotification`` (seconds) in the test profile; restored after."""
    settings = QgsSettings()
    had = settings.contains(SECONDS_KEY, QgsSettings.Section.App)
    old = settings.value(SECONDS_KEY, None, section=QgsSettings.Section.App)

    def set_seconds(seconds: float) -> None:
        QgsSettings().setValue(SECONDS_KEY, seconds, QgsSettings.Section.App)

    yield set_seconds
    if had:
        settings.setValue(SECONDS_KEY, old, QgsSettings.Section.App)
    else:
        settings.remove(SECONDS_KEY, QgsSettings.Section.App)


def _finished_export(dock, qtbot, emulator, qgis_iface, tmp_path):
    qgis_iface.messageBar().clear_messages()
    connect(dock, qtbot, emulator.service_url("World_Map", "MapServer"))
    dock.use_canvas_extent()
    dock.model.set_checked_levels([0, 1])
    dock.ui.outputWidget.setFilePath(str(tmp_path / "notice.tpkx"))
    dock.recount_now()
    export_id = dock.export()
    assert export_id, dock.message_text()
    view = wait_state(qtbot, dock.manager, export_id, timeout=TIMEOUT_MS)
    assert view.state == ExportState.FINISHED, view.error
    return view


def _finished_notes(qgis_iface) -> list[str]:
    return [m for m in messages(qgis_iface, Qgis.MessageLevel.Success) if "notice.tpkx" in m]


def test_no_plugin_note_when_qgis_announces_the_export_itself(dock, qtbot, emulator, shown_canvas, tmp_path,
                                                             qgis_iface, qgis_application, notify_after):
    notify_after(0)  # QGIS announces every task that ends
    view = _finished_export(dock, qtbot, emulator, qgis_iface, tmp_path)
    assert _finished_notes(qgis_iface) == []
    card = dock.exports_panel.card(view.id)  # the export's own card still says what it made
    assert "notice.tpkx" in card.status.text()


def test_the_plugin_note_is_the_one_notice_when_qgis_gives_none(dock, qtbot, emulator, shown_canvas, tmp_path,
                                                                qgis_iface, qgis_application, notify_after):
    notify_after(NEVER_S)  # QGIS announces only tasks longer than this one
    _finished_export(dock, qtbot, emulator, qgis_iface, tmp_path)
    notes = _finished_notes(qgis_iface)
    assert len(notes) == 1 and "saved in" in notes[0], notes


def test_outside_the_qgis_application_the_plugin_gives_its_note(dock, qtbot, emulator, shown_canvas, tmp_path,
                                                                qgis_iface, notify_after):
    notify_after(0)  # no QgisApp here (like qgis_process): nobody else announces the export
    _finished_export(dock, qtbot, emulator, qgis_iface, tmp_path)
    assert len(_finished_notes(qgis_iface)) == 1


def test_the_users_notification_setting_is_read_never_written(dock, qtbot, emulator, shown_canvas, tmp_path,
                                                             qgis_iface, qgis_application, notify_after):
    notify_after(7)
    _finished_export(dock, qtbot, emulator, qgis_iface, tmp_path)
    assert float(QgsSettings().value(SECONDS_KEY, section=QgsSettings.Section.App)) == 7
