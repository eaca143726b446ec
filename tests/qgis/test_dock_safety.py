"""The dock never exports something other than what it shows, and never asks a server for work whose
result cannot be written: a stale service, a slow or refused Connect, an output folder that cannot take
the package, a size estimate nobody waits for any more."""
from __future__ import annotations

import logging
import socket
import uuid
from pathlib import Path

import pytest
from qgis.core import QgsRectangle

from plugin.gui.exports import ExportState
from plugin.gui.levels_model import format_int
from tests.qgis.conftest import connect
from tests.qgis.exports_helpers import TIMEOUT_MS, export_requests, wait_state
from tests.qgis.test_dock_area import draw_polygon

READ_ONLY = Path("/sys/kernel")  # a folder even root cannot create files in (sysfs)


@pytest.fixture
def started(exports_manager, monkeypatch):
    """The requests the dock hands to the exports manager (nothing is exported)."""
    requests = []

    def start_export(request):
        requests.append(request)
        return f"export-{len(requests)}"

    monkeypatch.setattr(exports_manager, "start_export", start_export)
    return requests


@pytest.fixture
def read_only_folder():
    probe = READ_ONLY / f"probe-{uuid.uuid4().hex}"
    try:
        probe.touch()
    except OSError:
        return READ_ONLY
    probe.unlink()
    pytest.skip(f"{READ_ONLY} is writable here")


def _ready(dock, qtbot, url: str, output: Path) -> None:
    connect(dock, qtbot, url)
    assert dock.service is not None, dock.message_text()
    dock.use_canvas_extent()
    dock.model.set_checked_levels([0, 1, 2])
    dock.ui.outputWidget.setFilePath(str(output))
    dock.recount_now()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# --- 1. the address and the connected service -----------------------------------------------------
def test_a_failed_connect_to_another_address_leaves_nothing_to_export(dock, qtbot, emulator, shown_canvas, started,
                                                                      tmp_path):
    url = emulator.service_url("World_Map", "MapServer")
    _ready(dock, qtbot, url, tmp_path / "a.tpkx")
    assert dock.ui.exportButton.isEnabled()

    connect(dock, qtbot, emulator.service_url("No_Such_Service", "MapServer"))
    assert dock.message_text()  # the connection error
    assert not dock.ui.exportButton.isEnabled()
    assert "no longer names the connected service World_Map" in dock.ui.serviceSummaryLabel.text()
    assert dock.export() is None and started == []

    dock.ui.urlCombo.setEditText(url)  # the address of the connected service again
    assert dock.ui.exportButton.isEnabled()
    assert "no longer" not in dock.ui.serviceSummaryLabel.text()
    assert dock.export() is not None and started[0].service_url == url


def test_typing_another_address_disables_export_at_once(dock, qtbot, emulator, shown_canvas, tmp_path):
    _ready(dock, qtbot, emulator.service_url("World_Map", "MapServer"), tmp_path / "a.tpkx")
    dock.ui.urlCombo.setEditText(emulator.service_url("World_Imagery", "ImageServer"))
    assert not dock.ui.exportButton.isEnabled()
    assert "press Connect" in dock.ui.exportButton.toolTip()


def test_the_export_button_names_what_it_will_export(dock, qtbot, emulator, shown_canvas, tmp_path):
    assert dock.ui.exportButton.text() == "E&xport"
    _ready(dock, qtbot, emulator.service_url("World_Map", "MapServer"), tmp_path / "a.tpkx")
    total = dock.model.total_tiles()
    assert total > 0
    assert dock.ui.exportButton.text().replace("&", "") == f"Export {format_int(total)} tiles of World_Map"
    dock.model.set_checked_levels([0])
    dock.recount_now()
    assert dock.ui.exportButton.text().replace("&", "") == \
        f"Export {format_int(dock.model.counts()[0])} tiles of World_Map"


# --- 2. Connect answers quickly, and only for the address asked last ---------------------------------
def test_a_refused_connection_fails_without_the_exports_patient_retries(dock, qtbot, caplog):
    url = f"http://127.0.0.1:{_free_port()}/arcgis/rest/services/World_Map/MapServer"
    with caplog.at_level(logging.INFO, logger="plugin.core.http"):
        connect(dock, qtbot, url)
    assert dock.service is None
    assert "127.0.0.1" in dock.message_text()
    retries = [r for r in caplog.records if r.name == "plugin.core.http" and "retry" in r.getMessage()]
    assert len(retries) <= 1, [r.getMessage() for r in retries]  # the export's policy retries 4 times
    assert dock.ui.connectStatusLabel.text() == ""


def test_a_new_connect_cancels_the_one_still_running_and_ignores_its_answer(dock, qtbot, emulator, monkeypatch):
    tasks, finished = [], []
    original = dock.service_panel._start_service_task

    def start(url, authcfg, done):
        task = original(url, authcfg, done)
        task.done.connect(lambda _ok, url=url: finished.append(url))
        tasks.append(task)
        return task

    monkeypatch.setattr(dock.service_panel, "_start_service_task", start)
    silent = socket.socket()  # accepts connections (the kernel's backlog) and never answers
    silent.bind(("127.0.0.1", 0))
    silent.listen(4)
    stalled = f"http://127.0.0.1:{silent.getsockname()[1]}/arcgis/rest/services/Slow/MapServer"
    try:
        dock.ui.urlCombo.setEditText(stalled)
        dock.ui.connectButton.click()
        assert dock.ui.connectStatusLabel.text() == "Connecting…"
        url = emulator.service_url("World_Map", "MapServer")
        dock.ui.urlCombo.setEditText(url)
        dock.ui.connectButton.click()
        assert tasks[0].isCanceled()
        qtbot.waitUntil(lambda: dock.service is not None, timeout=20_000)
    finally:
        silent.close()  # the stalled request ends now (reset): its answer must change nothing
    qtbot.waitUntil(lambda: stalled in finished, timeout=20_000)
    assert dock.service.url == url
    assert dock.message_text() == ""
    assert "no longer" not in dock.ui.serviceSummaryLabel.text()


# --- 3. the output folder is checked before the server works --------------------------------------
def test_a_folder_that_cannot_be_written_is_refused_before_anything_is_submitted(dock, qtbot, emulator, shown_canvas,
                                                                                read_only_folder):
    _ready(dock, qtbot, emulator.service_url("World_Map", "MapServer"), read_only_folder / "a.tpkx")
    assert dock.export() is None
    text = dock.message_text()
    assert str(read_only_folder) in text and "cannot be written to" in text
    assert "Free some disk space" not in text
    assert export_requests(emulator) == [] and dock.manager.exports() == []


def test_a_folder_without_room_for_the_estimate_is_refused_before_anything_is_submitted(dock, qtbot, emulator,
                                                                                       shown_canvas, tmp_path):
    _ready(dock, qtbot, emulator.service_url("World_Map", "MapServer"), tmp_path / "a.tpkx")
    dock.model.set_bytes_per_tile(1e11)  # what a server estimate for enormous tiles would leave
    assert dock.export() is None
    text = dock.message_text()
    assert str(tmp_path) in text and "needs about" in text and "free" in text
    assert export_requests(emulator) == [] and dock.manager.exports() == []


def test_retry_writes_into_the_folder_now_under_save_to(dock, qtbot, emulator, shown_canvas, tmp_path,
                                                        read_only_folder):
    first, second = tmp_path / "first", tmp_path / "second"
    first.mkdir()
    second.mkdir()
    _ready(dock, qtbot, emulator.service_url("World_Map", "MapServer"), first / "basemap.tpkx")
    emulator.inject("job_fail", message="ERROR 999999: the cache is being rebuilt")
    export_id = dock.export()
    view = wait_state(qtbot, dock.manager, export_id)
    assert view.state == ExportState.FAILED
    submitted = len(export_requests(emulator))

    dock.ui.outputWidget.setFilePath(str(read_only_folder / "x.tpkx"))
    card = dock.exports_panel.card(export_id)
    card.buttons["retry"].click()
    assert dock.manager.view(export_id) is not None  # refused: the card stays, saying why
    assert str(read_only_folder) in card.status.text()
    assert len(export_requests(emulator)) == submitted

    dock.ui.outputWidget.setFilePath(str(second / "other.tpkx"))
    card.buttons["retry"].click()
    retried = dock.manager.exports()[0]
    assert retried.id != export_id
    assert retried.request.output_path == str(second / "basemap.tpkx")
    again = wait_state(qtbot, dock.manager, retried.id, timeout=TIMEOUT_MS)
    assert again.state == ExportState.FINISHED, again.error
    assert (second / "basemap.tpkx").exists() and not (first / "basemap.tpkx").exists()


# --- 4. the size estimate shows progress, and stops when nobody waits for it ------------------------
@pytest.fixture
def slow_estimates(emulator):
    emulator.configure("World_Map/MapServer", job_steps=200, job_step_delay_s=0.1)


def _start_estimate(dock, qtbot, emulator, shown_canvas, tmp_path):
    _ready(dock, qtbot, emulator.service_url("World_Map", "MapServer"), tmp_path / "a.tpkx")
    dock.ui.estimateButton.click()
    assert dock.estimate_panel.running
    assert dock.ui.estimateButton.text().replace("&", "") == "Cancel estimate"
    assert dock.ui.estimateButton.isEnabled()
    qtbot.waitUntil(lambda: "%" in dock.ui.estimateLabel.text(), timeout=20_000)


def _server_cancelled(emulator) -> bool:
    return any(r.path.endswith("/cancel") for r in emulator.requests)


def test_the_size_estimate_shows_its_progress_and_can_be_cancelled(dock, qtbot, emulator, shown_canvas, tmp_path,
                                                                   slow_estimates):
    _start_estimate(dock, qtbot, emulator, shown_canvas, tmp_path)
    dock.ui.estimateButton.click()
    assert not dock.estimate_panel.running
    assert dock.ui.estimateButton.text().replace("&", "") == "Estimate size"
    assert dock.ui.estimateLabel.text() == ""
    qtbot.waitUntil(lambda: _server_cancelled(emulator), timeout=20_000)  # the server job is cancelled too
    assert dock.message_text() == ""


def test_the_size_estimate_stops_when_the_area_changes(dock, qtbot, emulator, shown_canvas, tmp_path,
                                                       slow_estimates):
    _start_estimate(dock, qtbot, emulator, shown_canvas, tmp_path)
    dock.area.set_extent(QgsRectangle(-1e5, 4.5e6, 2e5, 4.8e6), shown_canvas.mapSettings().destinationCrs())
    assert not dock.estimate_panel.running
    assert dock.ui.estimateLabel.text() == ""
    qtbot.waitUntil(lambda: _server_cancelled(emulator), timeout=20_000)


def test_the_size_estimate_stops_when_the_service_changes(dock, qtbot, emulator, shown_canvas, tmp_path,
                                                          slow_estimates):
    _start_estimate(dock, qtbot, emulator, shown_canvas, tmp_path)
    connect(dock, qtbot, emulator.service_url("World_Imagery", "ImageServer"))
    assert not dock.estimate_panel.running
    qtbot.waitUntil(lambda: _server_cancelled(emulator), timeout=20_000)


# --- 11. work the user waits for never queues behind exports ----------------------------------------
@pytest.fixture
def smallest_pool():
    """QGIS's task manager runs on Qt's global thread pool: one thread, as on a one-core machine."""
    from qgis.PyQt.QtCore import QThreadPool

    pool = QThreadPool.globalInstance()
    before = pool.maxThreadCount()
    pool.setMaxThreadCount(1)
    yield pool
    pool.setMaxThreadCount(before)


def test_connect_counts_and_estimates_do_not_wait_for_a_running_export(dock, qtbot, emulator, shown_canvas, tmp_path,
                                                                       smallest_pool, monkeypatch):
    from plugin.gui.panels import counts

    emulator.configure("World_Imagery/ImageServer", job_steps=100_000, job_step_delay_s=0.2)  # it runs on
    _ready(dock, qtbot, emulator.service_url("World_Imagery", "ImageServer"), tmp_path / "long.tpkx")
    export_id = dock.export()
    qtbot.waitUntil(lambda: len(export_requests(emulator)) == 1, timeout=TIMEOUT_MS)  # it holds the pool's thread
    assert dock.manager.view(export_id).state == ExportState.RUNNING

    connect(dock, qtbot, emulator.service_url("World_Map", "MapServer"))
    assert dock.service is not None and dock.service.name == "World_Map", dock.message_text()
    monkeypatch.setattr(counts, "MAX_EXACT_ROWS", 4)  # deep levels are counted exactly in the background
    draw_polygon(dock, shown_canvas)
    dock.model.set_checked_levels(dock.model.levels)
    dock.recount_now()
    assert dock.counting
    qtbot.waitUntil(lambda: not dock.counting, timeout=20_000)
    dock.model.set_checked_levels([0, 1, 2])
    dock.ui.estimateButton.click()
    qtbot.waitUntil(lambda: "server estimate" in dock.ui.estimateLabel.text(), timeout=20_000)
    assert dock.manager.view(export_id).state == ExportState.RUNNING  # all of it while the export still ran
    dock.manager.cancel(export_id)
    wait_state(qtbot, dock.manager, export_id)
