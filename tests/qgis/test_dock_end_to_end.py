"""The dock driven like a user, through the real exports manager, against the emulator: connect, choose
the area and levels, press Export, and find the result on the map (or the right message).

Where a layer lands is checked against the service's own tiling scheme, read here from its
``?f=json`` (not through the plugin): a raster layer covers the area grown to whole pixels of the
finest level, a vector layer the area itself, and neither reaches past the area's whole tiles at that
level."""
from __future__ import annotations

import math
import sqlite3

import pytest
import requests
from qgis.core import Qgis, QgsProject, QgsRasterLayer, QgsRectangle, QgsVectorTileLayer
from qgis.PyQt.QtCore import QUrl

from plugin.core.area import Area
from plugin.core.tilecount import count_tiles
from plugin.core.tiling import TilingScheme
from plugin.gui.exports import ExportState
from tests.qgis.conftest import basic_auth_config, connect
from tests.qgis.exports_helpers import (
    export_requests,
    messages,
    opened_files_fixture,  # noqa: F401 - the opened_files fixture
    wait_idle,
    wait_state,
)
from tests.qgis.test_dock_area import draw_polygon

TIMEOUT_MS = 120_000
WEB_MERCATOR = "EPSG:3857"


def _export_and_wait(dock, qtbot, output):
    dock.ui.outputWidget.setFilePath(str(output))
    dock.recount_now()
    export_id = dock.export()
    assert export_id, dock.message_text()
    return wait_state(qtbot, dock.manager, export_id, timeout=TIMEOUT_MS)


def _new_layer(before):
    new = [QgsProject.instance().mapLayer(i) for i in set(QgsProject.instance().mapLayers()) - before]
    assert len(new) == 1, new
    assert new[0].isValid()
    return new[0]


def _tile_info(url: str, **params) -> dict:
    return requests.get(url, params={"f": "json", **params}, timeout=10).json()["tileInfo"]


def _grow(rect: QgsRectangle, origin_x: float, origin_y: float, step_x: float, step_y: float) -> QgsRectangle:
    """``rect`` grown outwards to a grid of ``step`` anchored at the origin (rows run down from it)."""
    return QgsRectangle(origin_x + math.floor((rect.xMinimum() - origin_x) / step_x) * step_x,
                        origin_y - math.ceil((origin_y - rect.yMinimum()) / step_y) * step_y,
                        origin_x + math.ceil((rect.xMaximum() - origin_x) / step_x) * step_x,
                        origin_y - math.floor((origin_y - rect.yMaximum()) / step_y) * step_y)


def _resolution(tile_info: dict, level: int) -> float:
    return next(lod["resolution"] for lod in tile_info["lods"] if lod["level"] == level)


def _tiles_of(area: QgsRectangle, tile_info: dict, level: int) -> QgsRectangle:
    """The box of the whole tiles of ``level`` that ``area`` touches."""
    resolution = _resolution(tile_info, level)
    return _grow(area, tile_info["origin"]["x"], tile_info["origin"]["y"], resolution * tile_info["cols"],
                 resolution * tile_info["rows"])


def assert_placed(layer, area: QgsRectangle, tile_info: dict, finest: int, *, vector: bool,
                  expected: QgsRectangle | None = None) -> None:
    """The layer's extent (EPSG:3857 here: area, service and layer share it) where the area says:
    ``expected`` if given, else the area (vector) or the area grown to whole pixels of ``finest``.

    A ``.tpkx`` that GDAL reads natively (ESRIC, GDAL 3.8+) is placed by GDAL, which snaps the package's
    extent to whole pixels but rounds its width and height: each side lies within one pixel of
    ``finest`` of the area there (our conversions grow outwards, to the exact grown box)."""
    assert layer.crs().authid() == WEB_MERCATOR
    resolution = _resolution(tile_info, finest)
    tiles = _tiles_of(area, tile_info, finest) if expected is None else QgsRectangle(expected)
    tolerance = resolution / 100
    if expected is None and layer.source().split("|")[0].endswith(".tpkx"):
        expected, tolerance = QgsRectangle(area), resolution * 1.01
    elif expected is None:
        expected = QgsRectangle(area) if vector else _grow(area, tile_info["origin"]["x"], tile_info["origin"]["y"],
                                                           resolution, resolution)
    got = layer.extent()
    for side in ("xMinimum", "yMinimum", "xMaximum", "yMaximum"):
        assert getattr(got, side)() == pytest.approx(getattr(expected, side)(), abs=tolerance), \
            (side, got.toString(0), expected.toString(0))
    assert tiles.buffered(tolerance).contains(got), (got.toString(0), tiles.toString(0))


def _gpkg_tile_count(path) -> int:
    with sqlite3.connect(str(path)) as db:
        tables = [row[0] for row in db.execute("SELECT table_name FROM gpkg_contents WHERE data_type = 'tiles'")]
        return sum(db.execute(f'SELECT COUNT(*) FROM "{table}"').fetchone()[0] for table in tables)


@pytest.mark.parametrize(("name", "kind", "folder", "area", "fmt", "layer_type"), [
    ("World_Map", "MapServer", None, "extent", "tpk", QgsRasterLayer),
    ("World_Imagery", "ImageServer", None, "polygon", "tpkx", QgsRasterLayer),
    ("World_Basemap_Export_v2", "VectorTileServer", None, "polygon", None, QgsVectorTileLayer),
    ("World_Map", "MapServer", "Secured", "extent", "tpkx", QgsRasterLayer),
])
def test_export_from_the_dock_adds_a_correctly_placed_layer(dock, qtbot, emulator, shown_canvas, tmp_path,
                                                           name, kind, folder, area, fmt, layer_type):
    authcfg = basic_auth_config("analyst", "field-work-2026") if folder == "Secured" else None
    url = emulator.service_url(name, kind, folder=folder)
    connect(dock, qtbot, url, authcfg=authcfg)
    assert dock.service is not None, dock.message_text()
    if area == "extent":
        dock.use_canvas_extent()
        area_rect = shown_canvas.extent()
    else:
        area_rect = draw_polygon(dock, shown_canvas).boundingBox()
    dock.model.set_checked_levels([1, 2, 3])
    if fmt is not None:
        dock.ui.formatCombo.setCurrentIndex(dock.ui.formatCombo.findData(fmt))
    before = set(QgsProject.instance().mapLayers())
    suffix = {"tpk": "tpk", "tpkx": "tpkx", None: "vtpk"}[fmt]
    view = _export_and_wait(dock, qtbot, tmp_path / f"{name}.{suffix}")
    assert view.state == ExportState.FINISHED, view.error
    layer = _new_layer(before)
    assert isinstance(layer, layer_type)
    tile_info = _tile_info(emulator.service_url(name, kind))  # the secured copy shares the public one's tiling
    assert_placed(layer, area_rect, tile_info, 3, vector=layer_type is QgsVectorTileLayer)
    assert (tmp_path / f"{name}.{suffix}").exists()
    if folder == "Secured":
        assert all(r.header("X-Esri-Authorization") or r.params.get("token") for r in export_requests(emulator))


def test_export_over_the_limit_from_the_dock_is_split_and_merged(dock, qtbot, emulator, shown_canvas, tmp_path):
    emulator.configure("World_Map/MapServer", max_export_tiles=12)
    url = emulator.service_url("World_Map", "MapServer")
    connect(dock, qtbot, url)
    dock.use_canvas_extent()
    levels = [2, 3, 4, 5]
    dock.model.set_checked_levels(levels)
    assert dock.ui.splitCheck.isChecked() and dock.ui.mergeCheck.isChecked()
    before = set(QgsProject.instance().mapLayers())
    view = _export_and_wait(dock, qtbot, tmp_path / "split.tpkx")
    assert view.state == ExportState.FINISHED, view.error
    assert len(export_requests(emulator)) > 1
    layer = _new_layer(before)
    assert layer.source().endswith("split.gpkg")
    area = shown_canvas.extent()
    tile_info = _tile_info(url)
    exact = count_tiles(TilingScheme.from_json(tile_info),
                        Area.from_extent(area.xMinimum(), area.yMinimum(), area.xMaximum(), area.yMaximum()), levels)
    # A level over the limit on its own is cut into boxes of whole tiles, so the merged layer reaches
    # out to the whole tiles of the coarsest such level (the other levels lie within them).
    coarsest_cut = min(level for level in levels if exact[level] > 12)
    assert_placed(layer, area, tile_info, levels[-1], vector=False,
                  expected=_tiles_of(area, tile_info, coarsest_cut))
    # every tile of the area, once
    assert _gpkg_tile_count(tmp_path / "split.gpkg") == sum(exact.values())


def test_failure_shows_a_message_and_the_cards_retry_exports_again(dock, qtbot, emulator, shown_canvas, tmp_path,
                                                                   qgis_iface, opened_files):
    url = emulator.service_url("World_Map", "MapServer")
    connect(dock, qtbot, url)
    drawn = draw_polygon(dock, shown_canvas)
    dock.model.set_checked_levels([1, 2])
    emulator.inject("job_fail", message="ERROR 999999: the cache is being rebuilt")
    view = _export_and_wait(dock, qtbot, tmp_path / "retry.tpkx")
    assert view.state == ExportState.FAILED
    assert any("cache is being rebuilt" in m for m in messages(qgis_iface, Qgis.MessageLevel.Critical))
    card = dock.exports_panel.card(view.id)
    assert card.buttons["retry"].isVisibleTo(card) and not card.buttons["folder"].isVisibleTo(card)

    before = set(QgsProject.instance().mapLayers())
    card.buttons["retry"].click()
    retried = dock.manager.exports()[0]
    assert retried.id != view.id and dock.manager.view(view.id) is None  # the retry replaces the failed export
    again = wait_state(qtbot, dock.manager, retried.id, timeout=TIMEOUT_MS)
    assert again.state == ExportState.FINISHED, again.error
    assert again.request.area == view.request.area and again.request.levels == (1, 2)
    layer = _new_layer(before)
    assert_placed(layer, drawn.boundingBox(), _tile_info(url), 2, vector=False)

    card = dock.exports_panel.card(retried.id)
    assert card.buttons["folder"].isVisibleTo(card)
    card.buttons["folder"].click()
    assert opened_files == [QUrl.fromLocalFile(str(tmp_path))]


def test_cancel_from_the_dock_cancels_the_server_job(dock, qtbot, emulator, shown_canvas, tmp_path):
    emulator.configure("World_Map/MapServer", job_steps=100, job_step_delay_s=0.2)
    connect(dock, qtbot, emulator.service_url("World_Map", "MapServer"))
    dock.use_canvas_extent()
    dock.model.set_checked_levels([1, 2])
    dock.ui.outputWidget.setFilePath(str(tmp_path / "cancelled.tpkx"))
    dock.recount_now()
    export_id = dock.export()
    qtbot.waitUntil(lambda: any("/jobs/" in r.path for r in emulator.requests), timeout=TIMEOUT_MS)
    card = dock.exports_panel.card(export_id)
    card.buttons["cancel"].click()
    view = wait_state(qtbot, dock.manager, export_id, timeout=TIMEOUT_MS)
    assert view.state == ExportState.CANCELLED and not view.can_resume
    qtbot.waitUntil(lambda: any(r.path.endswith("/cancel") for r in emulator.requests), timeout=10_000)
    assert not (tmp_path / "cancelled.tpkx").exists()
    assert not list(tmp_path.glob("cancelled*.part"))


def test_cancel_during_the_download_keeps_the_part_and_resume_completes_it(dock, qtbot, emulator, shown_canvas,
                                                                           tmp_path, qgis_iface):
    url = emulator.service_url("World_Map", "MapServer")
    connect(dock, qtbot, url)
    dock.use_canvas_extent()
    dock.model.set_checked_levels([1, 2, 3])
    out, part = tmp_path / "halfway.tpkx", tmp_path / "halfway.tpkx.part"
    # the line breaks after every 4 KB: the download crawls on, reconnecting with back-off
    emulator.inject("drop_download", after_bytes=4096, count=None)
    dock.ui.outputWidget.setFilePath(str(out))
    dock.recount_now()
    export_id = dock.export()
    qtbot.waitUntil(lambda: part.exists() and part.stat().st_size >= 4096, timeout=TIMEOUT_MS)
    assert dock.manager.view(export_id).state == ExportState.RUNNING  # the download is under way

    dock.exports_panel.card(export_id).buttons["cancel"].click()
    view = wait_state(qtbot, dock.manager, export_id, timeout=TIMEOUT_MS)
    wait_idle(qtbot)
    assert view.state == ExportState.CANCELLED and view.can_resume
    kept = part.stat().st_size
    assert kept >= 4096 and not out.exists()  # nothing under the final name
    downloads = [r for r in emulator.requests if "arcgisoutput" in r.path and r.path.endswith(".tpkx")]
    wait_idle(qtbot)
    assert part.stat().st_size == kept  # the download stopped
    assert [r for r in emulator.requests if "arcgisoutput" in r.path and r.path.endswith(".tpkx")] == downloads
    assert not any(r.path.endswith("/cancel") for r in emulator.requests)  # the package was built already
    assert any("downloaded are kept" in m for m in messages(qgis_iface, Qgis.MessageLevel.Info))

    emulator.clear_faults()
    card = dock.exports_panel.card(export_id)
    assert card.buttons["resume"].isVisibleTo(card) and card.buttons["remove"].isVisibleTo(card)
    before = set(QgsProject.instance().mapLayers())
    card.buttons["resume"].click()
    done = wait_state(qtbot, dock.manager, export_id, (ExportState.FINISHED, ExportState.FAILED), timeout=TIMEOUT_MS)
    assert done.state == ExportState.FINISHED, done.error
    assert f"bytes={kept}-" in [r.header("Range") for r in emulator.requests if r.header("Range")]
    assert len(export_requests(emulator)) == 1  # the same server job, not a new one
    assert out.exists() and not part.exists()
    assert_placed(_new_layer(before), shown_canvas.extent(), _tile_info(url), 3, vector=False)

