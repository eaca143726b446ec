"""ExportTask, EstimateTask and ServiceTask on their own, in QGIS' task manager, against the emulator."""
from __future__ import annotations

import json
from dataclasses import replace

import pytest
from qgis.core import Qgis, QgsApplication, QgsProject, QgsTask
from qgis.PyQt.QtCore import QCoreApplication, QThread

from plugin.core.exportstore import PAUSED, ExportStore
from plugin.core.request import ExportRequest, area_from_wkt
from plugin.qgis_glue import engine
from plugin.qgis_glue.layers import native_tpkx_supported
from plugin.tasks.base import TaskKeeper
from plugin.tasks.estimate_task import start_estimate
from plugin.tasks.export_task import ExportTask
from plugin.tasks.service_task import fetch_service_task
from tests.qgis.exports_helpers import (
    FAST_POLL,
    SQUARE,
    TRIANGLE,
    export_requests,
    make_request,
    messages,
    painted_pixels,
    wait_idle,
)

WORLD = "Polygon((-2e7 -2e7, 2e7 -2e7, 2e7 2e7, -2e7 2e7, -2e7 -2e7))"


@pytest.fixture
def keeper(qgis_iface, qgis_new_project, qtbot):
    qgis_iface.messageBar().clear_messages()
    keeper = TaskKeeper()
    yield keeper
    keeper.cancel_all()
    wait_idle(qtbot)


def _task(emulator, tmp_path, qgis_iface, request: ExportRequest) -> ExportTask:
    config = replace(engine.engine_config(request.authcfg), store_folder=str(tmp_path / "jobs"))
    return ExportTask("export-1", request, config, project=QgsProject.instance(), message_bar=qgis_iface.messageBar(),
                      exporter_options=FAST_POLL)


def test_request_round_trips_and_sorts_its_levels():
    request = ExportRequest("http://h/arcgis/rest/services/A/MapServer", "", area_from_wkt(SQUARE, True),
                            (3, 1, 2, 1), "tpk", merge=False, area_label="Canvas extent")
    assert request.levels == (1, 2, 3) and request.levels_text == "1-3"
    assert ExportRequest.from_dict(json.loads(json.dumps(request.to_dict()))) == request


def test_export_task_shows_its_stages_and_adds_the_layer_on_the_main_thread(keeper, emulator, tmp_path, qtbot,
                                                                            qgis_iface):
    emulator.configure("World_Map/MapServer", job_steps=4, job_step_delay_s=0.05)
    out = tmp_path / "stages.tpkx"
    task = _task(emulator, tmp_path, qgis_iface,
                 make_request(emulator.service_url("World_Map", "MapServer"), out, levels=(0, 1, 2, 3)))
    statuses, descriptions, progress, in_manager, on_main = [], [], [], [], []

    def on_status(text):
        statuses.append(text)
        descriptions.append(task.description())
        in_manager.append(task in QgsApplication.taskManager().tasks())

    task.statusMessage.connect(on_status)
    task.progressChanged.connect(progress.append)
    main = QCoreApplication.instance().thread()
    def on_layers_added(_layers):
        on_main.append(QThread.currentThread() == main)

    # connected to the project for this test only: a slot left on a global signal is called by later
    # tests, after this test's objects are gone
    QgsProject.instance().layersAdded.connect(on_layers_added)
    try:
        with qtbot.waitSignal(task.done, timeout=60_000) as done:
            keeper.start(task)
    finally:
        QgsProject.instance().layersAdded.disconnect(on_layers_added)
    assert done.args == [True]
    joined = " | ".join(statuses)
    for stage in ("Reading the service", "Submitting", "Server building", "Downloading", "Loading"):
        assert stage in joined, joined
    if not native_tpkx_supported():
        assert "Converting" in joined, joined
    assert all(in_manager) and any(": Downloading" in d for d in descriptions)
    assert progress == sorted(progress) and progress[-1] == 100.0
    assert on_main == [True] and len(task.layer_ids) == 1
    layer = QgsProject.instance().mapLayer(task.layer_ids[0])
    assert layer.thread() == main  # built in the worker, handed over to the main thread
    assert painted_pixels(layer) > 0
    assert task.outcome.main_path == str(out) and task.outcome.size == out.stat().st_size
    success = messages(qgis_iface, Qgis.MessageLevel.Success)
    assert any("stages.tpkx" in m and ("MB" in m or "KB" in m) for m in success), success


def test_the_export_record_lives_as_long_as_the_export(keeper, emulator, tmp_path, qtbot, qgis_iface):
    emulator.configure("World_Map/MapServer", job_steps=10, job_step_delay_s=0.1)
    task = _task(emulator, tmp_path, qgis_iface,
                 make_request(emulator.service_url("World_Map", "MapServer"), tmp_path / "file.tpkx", levels=(0, 1)))
    record = tmp_path / "jobs" / "export-1.json"
    keeper.start(task)
    qtbot.waitUntil(lambda: "Server" in task.status_text, timeout=30_000)
    doc = json.loads(record.read_text())  # one record: the request, the state and the parts
    assert doc["state"] == "running" and doc["request"]["output_path"] == str(tmp_path / "file.tpkx")
    assert [part["plan_id"] for part in doc["parts"]] == ["export-1"]
    assert [r.plan_id for r in ExportStore(tmp_path / "jobs").records()] == ["export-1"]
    with qtbot.waitSignal(task.done, timeout=60_000):
        pass
    assert not record.exists() and ExportStore(tmp_path / "jobs").records() == []


def test_a_cancel_from_qgis_pauses_the_export_and_abandon_gives_it_up(keeper, emulator, tmp_path, qtbot,
                                                                       qgis_iface):
    emulator.configure("World_Map/MapServer", job_steps=40, job_step_delay_s=0.1)
    out = tmp_path / "tm.tpkx"
    request = make_request(emulator.service_url("World_Map", "MapServer"), out, levels=(0, 1))
    task = _task(emulator, tmp_path, qgis_iface, request)
    assert task.flags() & QgsTask.Flag.CancelWithoutPrompt  # nothing is lost: QGIS need not ask at exit
    keeper.start(task)
    qtbot.waitUntil(lambda: "Server" in task.status_text, timeout=30_000)
    with qtbot.waitSignal(task.done, timeout=60_000) as done:
        task.cancel()  # what the cancel button of QGIS's task list (and QGIS's exit) calls
    assert done.args == [False] and task.paused
    records = ExportStore(tmp_path / "jobs").records()
    assert [r.state for r in records] == [PAUSED] and records[0].job_id
    assert not any(r.path.endswith("/cancel") for r in emulator.requests), "the server job is kept"
    assert json.loads((tmp_path / "jobs" / "export-1.json").read_text())["state"] == "paused"
    assert not out.exists()

    again = ExportTask("export-1", request, task.config, resume=True, project=QgsProject.instance(),
                       message_bar=qgis_iface.messageBar(), exporter_options=FAST_POLL)
    keeper.start(again)
    qtbot.waitUntil(lambda: "Server" in again.status_text, timeout=30_000)
    with qtbot.waitSignal(again.done, timeout=60_000):
        again.abandon()  # the dock's Cancel
    assert any(r.path.endswith("/cancel") for r in emulator.requests)
    assert len(export_requests(emulator)) == 1  # the resume went on with the paused server job
    assert not out.exists() and not list(tmp_path.glob("tm.tpkx*"))
    assert ExportStore(tmp_path / "jobs").records() == [] and not (tmp_path / "jobs" / "export-1.json").exists()


def test_server_estimate_in_the_background(keeper, emulator, qtbot):
    results, errors = [], []
    task = start_estimate(emulator.service_url("World_Map", "MapServer"), area_from_wkt(WORLD, True), [0, 1, 2, 3],
                          on_result=lambda size, tiles: results.append((size, tiles)), on_error=errors.append,
                          keeper=keeper)
    qtbot.waitUntil(lambda: bool(results or errors), timeout=60_000)
    assert errors == [] and results[0][1] == 85 and results[0][0] > 0
    assert task.estimate.total_tiles == 85


def test_vector_services_have_no_server_estimate(keeper, emulator, qtbot):
    errors = []
    start_estimate(emulator.service_url("World_Vector", "VectorTileServer"), area_from_wkt(TRIANGLE), [0, 1],
                   on_result=lambda *_: pytest.fail("no estimate expected"), on_error=errors.append, keeper=keeper)
    qtbot.waitUntil(lambda: bool(errors), timeout=30_000)
    assert "vector" in errors[0].lower()


def test_cancelled_estimate_cancels_the_server_job_and_calls_nothing(keeper, emulator, qtbot):
    emulator.configure("World_Map/MapServer", job_steps=40, job_step_delay_s=0.1)
    calls = []
    task = start_estimate(emulator.service_url("World_Map", "MapServer"), area_from_wkt(WORLD, True), [0, 1],
                          on_result=lambda *a: calls.append(a), on_error=calls.append, keeper=keeper)
    qtbot.waitUntil(lambda: any("estimateExportTilesSize" in r.path for r in emulator.requests), timeout=30_000)
    with qtbot.waitSignal(task.done, timeout=30_000):
        task.cancel()
    # the server job is cancelled (its cancel may land a moment after the task reports done on a busy machine)
    qtbot.waitUntil(lambda: any(r.path.endswith("/cancel") for r in emulator.requests), timeout=10_000)
    qtbot.wait(50)
    assert calls == []


def test_service_task_reads_the_service_or_says_what_is_wrong(keeper, emulator, qtbot):
    found, errors = [], []
    fetch_service_task(emulator.service_url("World_Imagery", "ImageServer"), on_result=found.append,
                       on_error=errors.append, keeper=keeper)
    fetch_service_task(emulator.services_url + "/Nowhere/MapServer", on_result=found.append, on_error=errors.append,
                       keeper=keeper)
    qtbot.waitUntil(lambda: len(found) + len(errors) == 2, timeout=30_000)
    assert [s.name for s in found] == ["World_Imagery"]
    assert len(errors) == 1 and "No ArcGIS service" in errors[0]


def test_a_request_file_naming_another_folder_is_ignored_and_never_deleted(tmp_path):
    """The export records are read back at start-up: an export id in one (or in a request file of an
    earlier version) must not name a file outside the store (it is used to delete the file later)."""
    from plugin.core.records import load_requests, save_request

    store = tmp_path / "jobs"
    request = ExportRequest("http://h/arcgis/rest/services/A/MapServer", "", area_from_wkt(SQUARE), (1,), "tpk")
    save_request(str(store), "0123abcd", request, "running")
    outside = tmp_path / "x.json"
    outside.write_text("precious")
    doc = json.loads((store / "0123abcd.json").read_text())
    (store / "tampered.json").write_text(json.dumps({**doc, "export_id": "../../x"}))
    (store / "requests").mkdir()
    (store / "requests" / "old.json").write_text(json.dumps({"job_id": "../../x", "request": doc["request"]}))
    assert list(load_requests(str(store))) == ["0123abcd"]
    ExportStore(store).delete_export("../../x")
    assert outside.read_text() == "precious"
