"""The exports manager end to end against the emulator: every service type, auth, split + merge, cancel,
failure + retry, and the panel."""
from __future__ import annotations

import json
import sqlite3

from qgis.core import Qgis, QgsProject, QgsRasterLayer, QgsRectangle, QgsVectorTileLayer
from qgis.PyQt.QtCore import Qt

from plugin.core.exportstore import ExportStore
from plugin.gui.exports import ExportState
from plugin.gui.exports_panel import ExportsPanel
from tests.qgis.conftest import basic_auth_config
from tests.qgis.exports_helpers import (
    SQUARE,
    export_requests,
    jobs_env_fixture,  # noqa: F401 - the exports_env fixture
    make_request,
    messages,
    painted_pixels,
    wait_idle,
    wait_state,
)

MERCATOR = "EPSG:3857"


def _single_layer(view):
    project = QgsProject.instance()
    layers = [project.mapLayer(i) for i in view.layer_ids]
    assert len(layers) == 1 and layers[0] is not None
    return layers[0]


def _assert_extent_overlaps(layer, xmin, ymin, xmax, ymax):
    extent = layer.extent()
    assert extent.intersects(QgsRectangle(xmin, ymin, xmax, ymax)), extent.toString()


def test_vector_service_polygon_export_is_added_as_a_vector_tile_layer(exports_env, emulator, tmp_path, qtbot,
                                                                       qgis_iface):
    factory, store = exports_env
    manager = factory()
    out = tmp_path / "vector.vtpk"
    url = emulator.service_url("World_Vector", "VectorTileServer")
    with qtbot.waitSignal(manager.exportFinished, timeout=60_000) as finished:
        export_id = manager.start_export(make_request(url, out, levels=(0, 1, 2, 3)))
    view = manager.view(export_id)
    assert view.state == ExportState.FINISHED and view.progress == 1.0
    assert finished.args[0] == export_id and finished.args[1][0] == str(out)
    assert out.exists() and not (tmp_path / "vector.vtpk.part").exists()
    sent = export_requests(emulator)[-1].params
    assert len(json.loads(sent["polygon"])["rings"][0]) == 4  # the polygon went to the server
    layer = _single_layer(view)
    assert isinstance(layer, QgsVectorTileLayer) and layer.isValid()
    assert layer.crs().authid() == MERCATOR
    _assert_extent_overlaps(layer, -8e6, -3e6, 4e6, 6e6)
    assert painted_pixels(layer) > 0  # styled and drawable
    success = messages(qgis_iface, Qgis.MessageLevel.Success)
    assert any("vector.vtpk" in m and ("MB" in m or "KB" in m) for m in success), success
    assert ExportStore(store).records() == [] and not list(store.glob("*.json"))  # nothing left to resume


def test_map_service_rectangle_as_tpk(exports_env, emulator, tmp_path, qtbot):
    factory, _store = exports_env
    manager = factory()
    out = tmp_path / "map.tpk"
    export_id = manager.start_export(make_request(emulator.service_url("World_Map", "MapServer"), out, wkt=SQUARE,
                                               rectangle=True, levels=(1, 2, 3), fmt="tpk"))
    view = wait_state(qtbot, manager, export_id)
    assert view.state == ExportState.FINISHED, view.error
    assert out.exists() and view.output_paths[0] == str(out)
    params = export_requests(emulator)[-1].params
    assert params["storageFormatType"] == "esriMapCacheStorageModeCompact"
    assert "areaOfInterest" not in params  # a rectangle is an extent
    layer = _single_layer(view)
    assert isinstance(layer, QgsRasterLayer) and layer.isValid()
    assert layer.crs().authid() == MERCATOR
    _assert_extent_overlaps(layer, -2e6, -2e6, 2e6, 2e6)
    assert painted_pixels(layer) > 0
    assert layer.extent().width() < 2 * 20037508.34  # not the whole world: the tiles of the square


def test_image_service_export(exports_env, emulator, tmp_path, qtbot):
    factory, _store = exports_env
    manager = factory()
    out = tmp_path / "imagery.tpkx"
    export_id = manager.start_export(make_request(emulator.service_url("World_Imagery", "ImageServer"), out,
                                               levels=(0, 1, 2)))
    view = wait_state(qtbot, manager, export_id)
    assert view.state == ExportState.FINISHED, view.error
    assert out.exists()
    assert "areaOfInterest" in export_requests(emulator)[-1].params
    layer = _single_layer(view)
    assert isinstance(layer, QgsRasterLayer) and layer.isValid() and layer.crs().authid() == MERCATOR


def test_arcgis_online_vector_service(exports_env, emulator, tmp_path, qtbot):
    factory, _store = exports_env
    manager = factory()
    out = tmp_path / "online.vtpk"
    export_id = manager.start_export(make_request(emulator.online_service_url, out, levels=(0, 1, 2)))
    view = wait_state(qtbot, manager, export_id)
    assert view.state == ExportState.FINISHED, view.error
    assert out.exists()
    assert any(r.path.startswith("/s3/") for r in emulator.requests)  # Online's presigned package URL
    layer = _single_layer(view)
    assert isinstance(layer, QgsVectorTileLayer) and layer.isValid()


def test_secured_service_with_a_basic_auth_config(exports_env, emulator, tmp_path, qtbot):
    factory, _store = exports_env
    manager = factory()
    authcfg = basic_auth_config("analyst", "field-work-2026")
    out = tmp_path / "secured.tpkx"
    export_id = manager.start_export(make_request(emulator.secured_service_url, out, levels=(0, 1), authcfg=authcfg))
    view = wait_state(qtbot, manager, export_id)
    assert view.state == ExportState.FINISHED, view.error
    assert out.exists()
    assert any("generateToken" in r.path for r in emulator.requests)
    assert all("field-work-2026" not in json.dumps(r.params) for r in emulator.requests
               if "generateToken" not in r.path)
    assert _single_layer(view).isValid()


def test_secured_service_without_credentials_says_how_to_sign_in(exports_env, emulator, tmp_path, qtbot, qgis_iface):
    factory, _store = exports_env
    manager = factory()
    export_id = manager.start_export(make_request(emulator.secured_service_url, tmp_path / "x.tpkx", levels=(0,)))
    view = wait_state(qtbot, manager, export_id)
    assert view.state == ExportState.FAILED
    assert "sign in" in view.error.lower() or "authentication" in view.error.lower()
    assert any("authentication configuration" in m for m in messages(qgis_iface, Qgis.MessageLevel.Critical))


def test_export_over_the_limit_is_split_and_merged_into_one_geopackage(exports_env, emulator, tmp_path, qtbot):
    emulator.configure("World_Map/MapServer", max_export_tiles=30)
    factory, store = exports_env
    manager = factory()
    out = tmp_path / "split.tpkx"
    whole_world = "Polygon((-2e7 -2e7, 2e7 -2e7, 2e7 2e7, -2e7 2e7, -2e7 -2e7))"
    export_id = manager.start_export(make_request(emulator.service_url("World_Map", "MapServer"), out,
                                               wkt=whole_world, rectangle=True, levels=(0, 1, 2, 3)))
    view = wait_state(qtbot, manager, export_id)
    assert view.state == ExportState.FINISHED, view.error
    merged = tmp_path / "split.gpkg"
    assert view.output_paths[0] == str(merged) and merged.exists()
    parts = view.output_paths[1:]
    assert len(parts) > 1 and all(p.endswith(".tpkx") for p in parts)
    assert len(export_requests(emulator)) == len(parts)
    with sqlite3.connect(merged) as db:
        table = db.execute("select table_name from gpkg_contents where data_type='tiles'").fetchone()[0]
        assert db.execute(f'select count(*) from "{table}"').fetchone()[0] == 85
    layer = _single_layer(view)
    assert isinstance(layer, QgsRasterLayer) and layer.isValid()
    assert layer.source() == str(merged)
    assert layer.crs().authid() == MERCATOR
    assert layer.extent().width() > 3.9e7  # the whole world
    assert ExportStore(store).records() == []


def test_vector_export_over_the_limit_is_merged_into_one_mbtiles(exports_env, emulator, tmp_path, qtbot):
    emulator.configure("World_Vector/VectorTileServer", max_export_tiles=12)
    factory, _store = exports_env
    manager = factory()
    out = tmp_path / "vsplit.vtpk"
    export_id = manager.start_export(make_request(emulator.service_url("World_Vector", "VectorTileServer"), out,
                                               levels=(0, 1, 2, 3)))
    view = wait_state(qtbot, manager, export_id)
    assert view.state == ExportState.FINISHED, view.error
    merged = tmp_path / "vsplit.mbtiles"
    assert view.output_paths[0] == str(merged) and merged.exists()
    assert len(view.output_paths[1:]) == len(export_requests(emulator)) > 1
    layer = _single_layer(view)
    assert isinstance(layer, QgsVectorTileLayer) and layer.isValid()
    assert "mbtiles" in layer.source() and painted_pixels(layer) > 0


def test_cancel_in_the_middle_cancels_the_server_job_and_keeps_no_file(exports_env, emulator, tmp_path, qtbot,
                                                                      qgis_iface):
    emulator.configure("World_Map/MapServer", job_steps=40, job_step_delay_s=0.1)
    factory, store = exports_env
    manager = factory()
    out = tmp_path / "cancelled.tpkx"
    export_id = manager.start_export(make_request(emulator.service_url("World_Map", "MapServer"), out,
                                               levels=(0, 1, 2, 3)))
    qtbot.waitUntil(lambda: manager.view(export_id).state == ExportState.RUNNING and "server" in
                    manager.view(export_id).status.lower(), timeout=30_000)
    manager.cancel(export_id)
    assert manager.view(export_id).state == ExportState.CANCELLING
    view = wait_state(qtbot, manager, export_id, (ExportState.CANCELLED, ExportState.FINISHED, ExportState.FAILED))
    assert view.state == ExportState.CANCELLED
    assert any(r.path.endswith("/cancel") for r in emulator.requests), "the server job was cancelled"
    assert not out.exists() and not list(tmp_path.glob("cancelled*"))
    assert ExportStore(store).records() == []
    assert any("cancelled" in m for m in messages(qgis_iface, Qgis.MessageLevel.Info))
    assert view.can_retry and not view.layer_ids


def test_failure_is_reported_and_retry_keeps_the_area_and_levels(exports_env, emulator, tmp_path, qtbot, qgis_iface):
    emulator.inject("job_fail", message="ERROR 001: The cache is being rebuilt.")
    factory, store = exports_env
    manager = factory()
    out = tmp_path / "retry.tpkx"
    request = make_request(emulator.service_url("World_Map", "MapServer"), out, levels=(0, 1, 2))
    with qtbot.waitSignal(manager.exportFailed, timeout=60_000) as failed:
        export_id = manager.start_export(request)
    view = manager.view(export_id)
    assert view.state == ExportState.FAILED and failed.args[0] == export_id
    assert "cache is being rebuilt" in view.error and failed.args[1] == view.error
    critical = messages(qgis_iface, Qgis.MessageLevel.Critical)
    assert any("cache is being rebuilt" in m and "Retry" in m for m in critical), critical
    assert not out.exists() and view.can_retry and not view.can_resume
    assert ExportStore(store).records() == []

    new_id = manager.retry(export_id)
    assert new_id != export_id and manager.view(export_id) is None
    retried = manager.view(new_id)
    assert retried.request == request  # area, levels and settings kept
    view = wait_state(qtbot, manager, new_id)
    assert view.state == ExportState.FINISHED, view.error
    assert out.exists() and _single_layer(view).isValid()
    first, second = export_requests(emulator)[-2:]
    assert first.params["areaOfInterest"] == second.params["areaOfInterest"]
    assert first.params["levels"] == second.params["levels"] == "0-2"


def test_several_exports_run_at_once(exports_env, emulator, tmp_path, qtbot):
    emulator.configure("World_Map/MapServer", job_steps=6, job_step_delay_s=0.1)
    factory, _store = exports_env
    manager = factory()
    url = emulator.service_url("World_Map", "MapServer")
    ids = [manager.start_export(make_request(url, tmp_path / f"many{i}.tpkx", levels=(0, 1))) for i in range(3)]
    qtbot.waitUntil(lambda: sum(manager.view(i).state == ExportState.RUNNING for i in ids) >= 2, timeout=30_000)
    for export_id in ids:
        assert wait_state(qtbot, manager, export_id).state == ExportState.FINISHED
    assert [v.id for v in manager.exports()] == ids[::-1]  # newest first


def test_panel_shows_jobs_and_their_actions(exports_env, emulator, tmp_path, qtbot):
    factory, _store = exports_env
    manager = factory()
    panel = ExportsPanel(manager)
    qtbot.addWidget(panel)
    panel.resize(260, 400)
    panel.show()
    emulator.inject("job_fail")
    failed_id = manager.start_export(make_request(emulator.service_url("World_Map", "MapServer"),
                                                  tmp_path / "panel_fail.tpkx", levels=(0,)))
    wait_state(qtbot, manager, failed_id)
    done_id = manager.start_export(make_request(emulator.service_url("World_Map", "MapServer"),
                                                tmp_path / "panel_ok.tpkx", levels=(0,), add_to_map=False))
    card = panel.card(done_id)
    assert card is not None and card.buttons["cancel"].isVisibleTo(card)
    view = wait_state(qtbot, manager, done_id)
    assert view.state == ExportState.FINISHED and not view.layer_ids
    shown = [panel.list_layout.itemAt(i).widget() for i in range(panel.list_layout.count())]
    assert [w.export_id for w in shown if hasattr(w, "export_id")] == [done_id, failed_id]  # newest first
    assert card.buttons["add"].isVisibleTo(card) and card.buttons["folder"].isVisibleTo(card)
    assert not card.buttons["cancel"].isVisibleTo(card)
    assert "panel_ok.tpkx" in card.status.text()
    failed_card = panel.card(failed_id)
    assert failed_card.buttons["retry"].isVisibleTo(failed_card)
    assert not failed_card.buttons["add"].isVisibleTo(failed_card)
    assert card.buttons["add"].toolButtonStyle() == Qt.ToolButtonStyle.ToolButtonTextBesideIcon  # words, even narrow

    card.buttons["add"].click()  # the layer is prepared in the background and added
    qtbot.waitUntil(lambda: bool(manager.view(done_id).layer_ids), timeout=30_000)
    assert _single_layer(manager.view(done_id)).isValid()

    failed_card.buttons["remove"].click()
    assert manager.view(failed_id) is None and failed_id not in panel.cards
    wait_idle(qtbot)


def test_exporting_again_to_the_same_file_never_overwrites_earlier_work(exports_env, emulator, tmp_path, qtbot):
    emulator.configure("World_Map/MapServer", job_steps=4, job_step_delay_s=0.1)
    factory, _store = exports_env
    manager = factory()
    url = emulator.service_url("World_Map", "MapServer")
    earlier = tmp_path / "basemap.tpkx"
    earlier.write_bytes(b"an export from yesterday")
    first = manager.start_export(make_request(url, earlier, levels=(0, 1)))
    second = manager.start_export(make_request(url, earlier, levels=(0, 1)))  # same name, while running
    outputs = []
    for export_id in (first, second):
        view = wait_state(qtbot, manager, export_id)
        assert view.state == ExportState.FINISHED
        outputs.append(view.output_paths[0])
    assert earlier.read_bytes() == b"an export from yesterday"
    assert sorted(outputs) == [str(tmp_path / "basemap (2).tpkx"), str(tmp_path / "basemap (3).tpkx")]


def test_card_status_shows_one_percentage(exports_env, tmp_path, qtbot):
    """The export's overall share is added to a step's text only when the step gives none of its own."""
    from plugin.gui.exports import ExportView
    from plugin.gui.exports_panel import ExportCard

    factory, _store = exports_env
    card = ExportCard(factory(), "export-1")
    qtbot.addWidget(card)
    request = make_request("http://127.0.0.1:1/arcgis/rest/services/World_Map/MapServer", tmp_path / "a.tpkx")

    def shown(status: str, progress: float) -> str:
        card.set_view(ExportView(id="export-1", state=ExportState.RUNNING, progress=progress, status=status,
                              service_name="World_Map", area_label="", levels_text="0-2", output_paths=(),
                              error="", request=request))
        return card.status.text()

    assert shown("Server building the package: 12 %", 0.05) == "Server building the package: 12 %"
    assert shown("Downloading 40.3 MB of 80.6 MB", 0.5) == "Downloading 40.3 MB of 80.6 MB (50 %)"
