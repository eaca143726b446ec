"""The dock driven like a user, through the real jobs manager, against the emulator: connect, choose
the area and levels, press Export, and find the result on the map (or the right message)."""
from __future__ import annotations

import pytest
from qgis.core import Qgis, QgsProject, QgsRasterLayer, QgsVectorTileLayer

from plugin.gui.jobs import JobState
from tests.qgis.conftest import connect
from tests.qgis.jobs_helpers import basic_auth_config, export_requests, messages, wait_state
from tests.qgis.test_dock_area import draw_polygon

TIMEOUT_MS = 120_000


def _export_and_wait(dock, qtbot, output):
    dock.ui.outputWidget.setFilePath(str(output))
    dock.recount_now()
    job_id = dock.export()
    assert job_id, dock.message_text()
    return wait_state(qtbot, dock.manager, job_id, timeout=TIMEOUT_MS)


def _new_layer(before):
    new = [QgsProject.instance().mapLayer(i) for i in set(QgsProject.instance().mapLayers()) - before]
    assert len(new) == 1, new
    assert new[0].isValid()
    return new[0]


@pytest.mark.parametrize(("name", "kind", "folder", "area", "fmt", "layer_type"), [
    ("World_Map", "MapServer", None, "extent", "tpk", QgsRasterLayer),
    ("World_Imagery", "ImageServer", None, "polygon", "tpkx", QgsRasterLayer),
    ("World_Basemap_Export_v2", "VectorTileServer", None, "polygon", None, QgsVectorTileLayer),
    ("World_Map", "MapServer", "Secured", "extent", "tpkx", QgsRasterLayer),
])
def test_export_from_the_dock_adds_a_correctly_placed_layer(dock, qtbot, emulator, shown_canvas, tmp_path,
                                                           name, kind, folder, area, fmt, layer_type):
    authcfg = basic_auth_config("analyst", "field-work-2026") if folder == "Secured" else None
    connect(dock, qtbot, emulator.service_url(name, kind, folder=folder), authcfg=authcfg)
    assert dock.service is not None, dock.message_text()
    if area == "extent":
        dock.use_canvas_extent()
    else:
        draw_polygon(dock, shown_canvas)
    dock.model.set_checked_levels([1, 2, 3])
    if fmt is not None:
        dock.ui.formatCombo.setCurrentIndex(dock.ui.formatCombo.findData(fmt))
    before = set(QgsProject.instance().mapLayers())
    suffix = {"tpk": "tpk", "tpkx": "tpkx", None: "vtpk"}[fmt]
    view = _export_and_wait(dock, qtbot, tmp_path / f"{name}.{suffix}")
    assert view.state == JobState.FINISHED, view.error
    layer = _new_layer(before)
    assert isinstance(layer, layer_type)
    assert layer.crs().authid() == "EPSG:3857"
    assert layer.extent().intersects(shown_canvas.extent())
    assert (tmp_path / f"{name}.{suffix}").exists()
    if folder == "Secured":
        assert all(r.header("X-Esri-Authorization") or r.params.get("token") for r in export_requests(emulator))


def test_export_over_the_limit_from_the_dock_is_split_and_merged(dock, qtbot, emulator, shown_canvas, tmp_path):
    emulator.configure("World_Map/MapServer", max_export_tiles=12)
    connect(dock, qtbot, emulator.service_url("World_Map", "MapServer"))
    dock.use_canvas_extent()
    dock.model.set_checked_levels([2, 3, 4, 5])
    assert dock.ui.splitCheck.isChecked() and dock.ui.mergeCheck.isChecked()
    before = set(QgsProject.instance().mapLayers())
    view = _export_and_wait(dock, qtbot, tmp_path / "split.tpkx")
    assert view.state == JobState.FINISHED, view.error
    assert len(export_requests(emulator)) > 1
    layer = _new_layer(before)
    assert layer.source().endswith("split.gpkg")


def test_failure_shows_a_message_and_retry_keeps_the_area(dock, qtbot, emulator, shown_canvas, tmp_path,
                                                          qgis_iface):
    connect(dock, qtbot, emulator.service_url("World_Map", "MapServer"))
    draw_polygon(dock, shown_canvas)
    dock.model.set_checked_levels([1, 2])
    emulator.inject("job_fail", message="ERROR 999999: the cache is being rebuilt")
    view = _export_and_wait(dock, qtbot, tmp_path / "retry.tpkx")
    assert view.state == JobState.FAILED
    assert any("cache is being rebuilt" in m for m in messages(qgis_iface, Qgis.Critical))
    first_area = view.request.area_wkt
    new_id = dock.manager.retry(view.id)
    again = wait_state(qtbot, dock.manager, new_id, timeout=TIMEOUT_MS)
    assert again.state == JobState.FINISHED
    assert again.request.area_wkt == first_area and again.request.levels == (1, 2)


def test_cancel_from_the_dock_cancels_the_server_job(dock, qtbot, emulator, shown_canvas, tmp_path):
    emulator.configure("World_Map/MapServer", job_steps=100, job_step_delay_s=0.2)
    connect(dock, qtbot, emulator.service_url("World_Map", "MapServer"))
    dock.use_canvas_extent()
    dock.model.set_checked_levels([1, 2])
    dock.ui.outputWidget.setFilePath(str(tmp_path / "cancelled.tpkx"))
    dock.recount_now()
    job_id = dock.export()
    qtbot.waitUntil(lambda: any("/jobs/" in r.path for r in emulator.requests), timeout=TIMEOUT_MS)
    dock.manager.cancel(job_id)
    view = wait_state(qtbot, dock.manager, job_id, timeout=TIMEOUT_MS)
    assert view.state == JobState.CANCELLED
    qtbot.waitUntil(lambda: any(r.path.endswith("/cancel") for r in emulator.requests), timeout=10_000)
    assert not (tmp_path / "cancelled.tpkx").exists()
    assert not list(tmp_path.glob("cancelled*.part"))
