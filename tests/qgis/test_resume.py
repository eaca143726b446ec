"""Exports survive QGIS: paused on unload, found again by a new manager, resumed to the end."""
from __future__ import annotations

import json
from dataclasses import replace

import pytest
from qgis.core import Qgis, QgsProject, QgsRasterLayer

from plugin.core.exportstore import DOWNLOADING, PAUSED, ExportStore
from plugin.gui.exports import ExportState
from tests.qgis.exports_helpers import (
    close_qgis,
    export_requests,
    jobs_env_fixture,  # noqa: F401 - the exports_env fixture
    make_request,
    messages,
    qgis_sessions_fixture,  # noqa: F401 - the qgis_sessions fixture
    wait_idle,
    wait_state,
)


def _slow_map_service(emulator) -> str:
    emulator.configure("World_Map/MapServer", job_steps=12, job_step_delay_s=0.1)
    return emulator.service_url("World_Map", "MapServer")


def _start_and_pause(qtbot, factory, url, out, **options):
    manager = factory()
    request = make_request(url, out, levels=(0, 1, 2), **options)
    export_id = manager.start_export(request)
    qtbot.waitUntil(lambda: "server" in manager.view(export_id).status.lower(), timeout=30_000)
    manager.shutdown()  # plugin unload / QGIS closing
    wait_idle(qtbot)
    return export_id, request


def _layer(view):
    layers = [QgsProject.instance().mapLayer(i) for i in view.layer_ids]
    assert len(layers) == 1 and layers[0] is not None
    return layers[0]


def test_unload_pauses_and_a_new_session_resumes_the_same_server_job(exports_env, emulator, tmp_path, qtbot,
                                                                    qgis_iface):
    factory, store = exports_env
    out = tmp_path / "resumed.tpkx"
    export_id, request = _start_and_pause(qtbot, factory, _slow_map_service(emulator), out)

    records = ExportStore(store).records()
    assert [r.state for r in records] == [PAUSED] and records[0].plan_id == export_id
    assert records[0].job_id, "the server job is remembered"
    assert not any(r.path.endswith("/cancel") for r in emulator.requests), "pausing keeps the server job"
    saved = json.loads((store / f"{export_id}.json").read_text())  # one record per export: request, state, parts
    assert saved["state"] == "paused" and saved["request"]["levels"] == [0, 1, 2] and len(saved["parts"]) == 1
    assert not out.exists()
    assert not messages(qgis_iface, Qgis.MessageLevel.Critical)

    manager = factory()  # the next QGIS session
    qtbot.waitUntil(lambda: bool(manager.resumable()), timeout=10_000)
    view = manager.resumable()[0]
    assert view.id == export_id and view.state == ExportState.PAUSED and view.can_resume
    assert view.request == request and view.from_earlier_session
    assert "server job" in view.status

    manager.resume(export_id)
    view = wait_state(qtbot, manager, export_id, (ExportState.FINISHED, ExportState.FAILED, ExportState.CANCELLED))
    assert view.state == ExportState.FINISHED, view.error
    assert len(export_requests(emulator)) == 1, "the server job was resumed, not submitted again"
    assert out.exists()
    layer = _layer(view)
    assert isinstance(layer, QgsRasterLayer) and layer.isValid() and layer.crs().authid() == "EPSG:3857"
    assert ExportStore(store).records() == [] and not list(store.glob("*.json"))
    assert manager.resumable() == []


@pytest.mark.parametrize("events_before_unload", [False, True], ids=["quit-at-once", "save-dialog-first"])
def test_closing_qgis_while_the_server_builds_keeps_the_server_job(qgis_sessions, emulator, tmp_path, qtbot,
                                                                   qgis_iface, events_before_unload):
    """QGIS's own order of events at exit (see close_qgis): the export pauses, nothing is cancelled."""
    out = tmp_path / "closing.tpkx"
    first = qgis_sessions()  # the plugin's own manager polls at QGIS's pace (1 s, then slower)
    emulator.configure("World_Map/MapServer", job_steps=3, job_step_delay_s=0.1)
    request = make_request(emulator.service_url("World_Map", "MapServer"), out, levels=(0, 1, 2))
    export_id = first.ensure_dock().manager.start_export(request)
    qtbot.waitUntil(lambda: "server" in first.dock.manager.view(export_id).status.lower(), timeout=30_000)

    close_qgis(first, qtbot, events_before_unload=events_before_unload)
    store = tmp_path / "profile" / "jobs"
    records = ExportStore(store).records()
    assert [r.state for r in records] == [PAUSED] and records[0].job_id, "the server job is remembered"
    assert not any(r.path.endswith("/cancel") for r in emulator.requests), "the server job is kept"
    assert json.loads((store / f"{export_id}.json").read_text())["state"] == "paused"
    assert not out.exists()
    assert not messages(qgis_iface, Qgis.MessageLevel.Critical)

    second = qgis_sessions()
    qtbot.waitUntil(lambda: second.dock is not None, timeout=10_000)  # a paused export: built at start-up
    manager = second.dock.manager
    qtbot.waitUntil(lambda: bool(manager.resumable()), timeout=10_000)
    assert manager.resumable()[0].id == export_id
    manager.resume(export_id)
    view = wait_state(qtbot, manager, export_id, (ExportState.FINISHED, ExportState.FAILED, ExportState.CANCELLED))
    assert view.state == ExportState.FINISHED, view.error
    assert len(export_requests(emulator)) == 1 and out.exists()
    assert _layer(view).isValid()


def _quick_reconnects(monkeypatch) -> None:
    """Back-offs of milliseconds instead of seconds (the engine's real reconnect logic runs)."""
    from plugin.gui import exports

    real = exports.engine.engine_config

    def fast(authcfg="", **kwargs):
        config = real(authcfg, **kwargs)
        return replace(config, http=replace(config.http, backoff=0.01, max_backoff=0.05))

    monkeypatch.setattr(exports.engine, "engine_config", fast)


def test_interrupted_download_resumes_from_its_part_file(exports_env, emulator, tmp_path, qtbot, qgis_iface,
                                                         monkeypatch):
    _quick_reconnects(monkeypatch)
    factory, store = exports_env
    manager = factory()
    out = tmp_path / "dropped.tpkx"
    emulator.inject("drop_download", after_bytes=4096, count=1)
    emulator.inject("drop_download", after_bytes=0, count=None)  # then the line stays dead
    export_id = manager.start_export(make_request(emulator.service_url("World_Map", "MapServer"), out,
                                               levels=(0, 1, 2, 3)))
    view = wait_state(qtbot, manager, export_id)
    assert view.state == ExportState.FAILED and view.can_resume
    assert any("Resume" in m for m in messages(qgis_iface, Qgis.MessageLevel.Critical))
    records = ExportStore(store).records()
    assert [r.state for r in records] == [DOWNLOADING]
    part = tmp_path / "dropped.tpkx.part"
    assert part.exists() and part.stat().st_size == 4096 and not out.exists()
    manager.shutdown()
    wait_idle(qtbot)
    emulator.clear_faults()

    manager = factory()  # after a restart the failed download is offered for resuming
    qtbot.waitUntil(lambda: bool(manager.resumable()), timeout=10_000)
    assert manager.resumable()[0].id == export_id
    assert "4.0 KB" in manager.resumable()[0].status
    manager.resume(export_id)
    view = wait_state(qtbot, manager, export_id, (ExportState.FINISHED, ExportState.FAILED))
    assert view.state == ExportState.FINISHED, view.error
    ranges = [r.header("Range") for r in emulator.requests if r.header("Range")]
    assert "bytes=4096-" in ranges, ranges
    assert len(export_requests(emulator)) == 1
    assert out.exists() and not part.exists()
    assert _layer(view).isValid()


def test_records_without_a_request_file_are_resumed_too(exports_env, emulator, tmp_path, qtbot):
    """Exports an earlier version of Processing started left only part records, one file each."""
    factory, store = exports_env
    out = tmp_path / "bare.tpkx"
    export_id, request = _start_and_pause(qtbot, factory, _slow_map_service(emulator), out)
    saved = json.loads((store / f"{export_id}.json").read_text())
    (store / f"{export_id}.json").unlink()
    for part in saved["parts"]:  # the form of version 1, without its request file
        (store / f"{part['id']}.json").write_text(json.dumps(part))

    manager = factory()
    qtbot.waitUntil(lambda: bool(manager.resumable()), timeout=10_000)
    view = manager.resumable()[0]
    assert view.id == export_id
    assert view.request.levels == request.levels and view.request.output_path == str(out)
    assert view.request.service_url == request.service_url
    manager.resume(export_id)
    view = wait_state(qtbot, manager, export_id, (ExportState.FINISHED, ExportState.FAILED))
    assert view.state == ExportState.FINISHED, view.error
    assert out.exists() and _layer(view).isValid()


def test_discarding_an_unfinished_export_cancels_its_server_job(exports_env, emulator, tmp_path, qtbot):
    factory, store = exports_env
    out = tmp_path / "discarded.tpkx"
    export_id, _request = _start_and_pause(qtbot, factory, _slow_map_service(emulator), out)

    manager = factory()
    qtbot.waitUntil(lambda: bool(manager.resumable()), timeout=10_000)
    manager.discard(export_id)
    assert manager.view(export_id) is None
    wait_idle(qtbot)
    assert any(r.path.endswith("/cancel") for r in emulator.requests)
    assert ExportStore(store).records() == [] and not list(store.glob("*.json"))
    assert not list(tmp_path.glob("discarded*"))
