"""Tile-cache exports in QGIS: Processing's OUTPUT_KIND and the ExportTask give a cache folder in Compact
V2 or V1, split parts merged tile by tile, opened as a layer placed within a pixel; real Esri caches
(Compact V2 folders, the V1 caches inside ArcMap's .tpk) open and merge the same way."""
from __future__ import annotations

import math
import shutil
from dataclasses import replace

import pytest
from osgeo import gdal
from qgis.core import (
    QgsProcessingContext,
    QgsProcessingException,
    QgsProcessingFeedback,
    QgsProcessingOutputLayerDefinition,
    QgsProject,
    QgsRasterLayer,
    QgsRectangle,
)

from arcgis_emulator.writers import write_cache_folder
from plugin.core.packages import open_package
from plugin.core.packages.cachefolder import COMPACT_V1, COMPACT_V2, lay_out_cache, merge_caches, unpack_archive
from plugin.core.tilecache import TILE_CACHE
from plugin.qgis_glue import engine
from plugin.qgis_glue.layers import open_package_layer
from plugin.tasks.base import TaskKeeper
from plugin.tasks.export_task import ExportTask
from tests.conftest import require_shared
from tests.qgis.exports_helpers import FAST_POLL, make_request, painted_pixels, wait_idle
from tests.unit.packages.helpers import wm_doc

gdal.UseExceptions()
BOX = (-3.1e6, -1.7e6, 2.6e6, 3.3e6)  # EPSG:3857, not on the tile grid
FINEST = 4


@pytest.fixture(scope="module")
def provider(processing_provider):
    return processing_provider


def _resolution(layer_or_tile_info, level: int) -> float:
    return next(lod["resolution"] for lod in layer_or_tile_info["lods"] if lod["level"] == level)


def _tile_info(emulator) -> dict:
    return emulator.service("World_Map/MapServer").document()["tileInfo"]


def _grown(box, origin_x, origin_y, step) -> QgsRectangle:
    """``box`` grown outwards to whole pixels of size ``step`` from the grid origin."""
    xmin, ymin, xmax, ymax = box
    return QgsRectangle(origin_x + math.floor((xmin - origin_x) / step) * step,
                        origin_y - math.ceil((origin_y - ymin) / step) * step,
                        origin_x + math.ceil((xmax - origin_x) / step) * step,
                        origin_y - math.floor((origin_y - ymax) / step) * step)


def assert_within_a_pixel(layer, expected: QgsRectangle, resolution: float) -> None:
    got = layer.extent()
    for side in ("xMinimum", "yMinimum", "xMaximum", "yMaximum"):
        assert abs(getattr(got, side)() - getattr(expected, side)()) <= resolution, \
            (side, got.toString(0), expected.toString(0))


def tiles_of(path) -> dict:
    with open_package(path) as pkg:
        return {(t.level, t.row, t.col): bytes(t.data) for t in pkg.iter_tiles()}


@pytest.mark.parametrize(("fmt_index", "v1"), [(1, False), (2, True)])
def test_processing_tile_cache_split_merged_and_opened_in_place(provider, emulator, tmp_path, qgis_new_project,
                                                               fmt_index, v1):
    import processing

    emulator.configure("World_Map/MapServer", max_export_tiles=10)
    context = QgsProcessingContext()
    context.setProject(QgsProject.instance())
    output = QgsProcessingOutputLayerDefinition(str(tmp_path / "basemap.tpkx"), QgsProject.instance())
    extent = ",".join(str(v) for v in (BOX[0], BOX[2], BOX[1], BOX[3])) + " [EPSG:3857]"
    result = processing.run("arcgisofflinetiles:exporttiles", {
        "SERVICE_URL": emulator.service_url("World_Map", "MapServer"), "EXTENT": extent,
        "LEVELS": f"1-{FINEST}", "FORMAT": fmt_index, "OUTPUT_KIND": 1, "MERGE": True, "OUTPUT": output},
        context=context, feedback=QgsProcessingFeedback())
    folder = tmp_path / "basemap"
    assert result["OUTPUT"] == str(folder) and (folder / "conf.xml").is_file()
    assert result["JOB_COUNT"] > 1
    parts = result["OUTPUT_FILES"].split(";")[1:]
    assert len(parts) == result["JOB_COUNT"] and all(p.startswith(str(folder) + "_part") for p in parts)
    assert any(folder.rglob("*.bundlx")) == v1
    storage = COMPACT_V1 if v1 else COMPACT_V2
    assert f"<StorageFormat>{storage}</StorageFormat>" in (folder / "conf.xml").read_text()
    merged = tiles_of(folder)
    assert len(merged) == result["TILE_COUNT"]
    union: dict = {}
    for part in parts:
        union.update(tiles_of(part))
    assert merged == union
    requests = [r for r in emulator.requests if r.path.endswith("/exportTiles")]
    assert all({**r.params, **r.form}["tilePackage"] == "false" for r in requests)
    pending = context.layersToLoadOnCompletion()
    assert len(pending) == 1
    layer = context.getMapLayer(next(iter(pending)))
    assert isinstance(layer, QgsRasterLayer) and layer.isValid()
    assert layer.crs().authid() == "EPSG:3857"
    info = _tile_info(emulator)
    resolution = _resolution(info, FINEST)
    assert_within_a_pixel(layer, _grown(BOX, info["origin"]["x"], info["origin"]["y"], resolution), resolution)
    assert painted_pixels(layer) > 0


def test_processing_refuses_a_tile_cache_of_a_vector_service(provider, emulator, tmp_path):
    import processing

    with pytest.raises(QgsProcessingException, match="(?i)vector tile services export tile packages"):
        processing.run("arcgisofflinetiles:exporttiles", {
            "SERVICE_URL": emulator.service_url("World_Vector", "VectorTileServer"), "LEVELS": "0-1",
            "OUTPUT_KIND": 1, "OUTPUT": str(tmp_path / "v.vtpk")}, feedback=QgsProcessingFeedback())
    assert not emulator.requests_to("/exportTiles")


def test_export_task_tile_cache_split_merged_and_added_to_the_map(emulator, tmp_path, qtbot, qgis_iface,
                                                                 qgis_new_project):
    emulator.configure("World_Imagery/ImageServer", max_export_tiles=10, cache_result="zip")
    url = emulator.service_url("World_Imagery", "ImageServer")
    wkt = f"Polygon(({BOX[0]} {BOX[1]}, {BOX[2]} {BOX[1]}, {BOX[2]} {BOX[3]}, {BOX[0]} {BOX[3]}, {BOX[0]} {BOX[1]}))"
    request = make_request(url, tmp_path / "imagery", wkt=wkt, rectangle=True, levels=range(1, FINEST + 1),
                           fmt="tpk", output_kind=TILE_CACHE, merge=True)
    config = replace(engine.engine_config(""), store_folder=str(tmp_path / "jobs"))
    task = ExportTask("export-cache", request, config, project=QgsProject.instance(),
                      message_bar=qgis_iface.messageBar(), exporter_options=FAST_POLL)
    keeper = TaskKeeper()
    try:
        with qtbot.waitSignal(task.done, timeout=120_000):
            keeper.start(task)
        wait_idle(qtbot)
    finally:
        keeper.cancel_all()
    outcome = task.outcome if hasattr(task, "outcome") else None
    folder = tmp_path / "imagery"
    assert (folder / "conf.xml").is_file() and any(folder.rglob("*.bundlx"))
    assert not list(tmp_path.glob("*.zip")) and not list(tmp_path.glob("*.cache-part"))
    layers = [lyr for lyr in QgsProject.instance().mapLayers().values() if isinstance(lyr, QgsRasterLayer)]
    assert len(layers) == 1, (outcome, [lyr.source() for lyr in layers])
    info = emulator.service("World_Imagery/ImageServer").document()["tileInfo"]
    resolution = _resolution(info, FINEST)
    assert_within_a_pixel(layers[0], _grown(BOX, info["origin"]["x"], info["origin"]["y"], resolution), resolution)
    assert painted_pixels(layers[0]) > 0


# --- real Esri caches -------------------------------------------------------------------------------
REAL = {"esri_raster-tiles-compactcache_sample_cache": COMPACT_V2, "gdal_esric_Layers.tar": COMPACT_V2,
        "tpkutils_states_filled.tpk": COMPACT_V1}


def _real_cache(name, tmp_path):
    src = require_shared() / "packages" / name
    staging = tmp_path / "staging"
    if src.is_dir():
        shutil.copytree(src, staging)
    else:
        unpack_archive(src, staging)
    return lay_out_cache(staging, tmp_path / "cache")


@pytest.mark.parametrize("name", sorted(REAL))
def test_real_cache_split_merged_opens_within_a_pixel_of_its_data(name, tmp_path, qgis_new_project):
    folder = _real_cache(name, tmp_path)
    tiles = tiles_of(folder)
    halves = [{k: v for k, v in tiles.items() if (k[1] + k[2]) % 2 == parity} for parity in (0, 1)]
    parts = []
    for i, half in enumerate(halves):
        part = tmp_path / f"part{i}"
        write_cache_folder(part, wm_doc(), [(lv, r, c, d) for (lv, r, c), d in sorted(half.items())],
                           storage_format=REAL[name])
        for conf in ("conf.xml", "conf.cdi"):
            if (folder / conf).exists():
                shutil.copyfile(folder / conf, part / conf)
        parts.append(part)
    merge_caches(parts, tmp_path / "merged")
    assert tiles_of(tmp_path / "merged") == tiles
    with open_package(folder) as pkg:
        extent = pkg.data_extent() or pkg.coverage()
        finest = max(pkg.levels)
        resolution = pkg.scheme.lod(finest).resolution
        origin = (pkg.scheme.origin_x, pkg.scheme.origin_y)
    cover = tmp_path / "conv"
    cover.mkdir()
    for path in (folder, tmp_path / "merged"):
        layer = open_package_layer(path, cache_dir=cover)
        assert layer.isValid()
        expected = _grown((extent.xmin, extent.ymin, extent.xmax, extent.ymax), *origin, resolution)
        assert_within_a_pixel(layer, expected, resolution)
        assert painted_pixels(layer) > 0


def test_abandoning_a_tile_cache_export_removes_its_folders_and_nothing_else(emulator, tmp_path):
    from plugin.core.area import Area
    from plugin.core.export import Exporter
    from plugin.core.exportstore import ExportStore
    from plugin.core.http import HttpConfig, create_session
    from plugin.core.jobs import PollPolicy
    from plugin.core.records import abandon_export

    store = ExportStore(tmp_path / "jobs")
    exporter = Exporter(create_session(HttpConfig(version="test")), store=store,
                        poll=PollPolicy(first=0.05, max=0.2, timeout=60))
    emulator.configure("World_Map/MapServer", max_export_tiles=10)
    info = exporter.fetch(emulator.service_url("World_Map", "MapServer"))
    plan = exporter.prepare(info, Area.from_extent(*BOX), range(1, FINEST + 1), output_kind=TILE_CACHE)
    plan.id = "export-x"
    result = exporter.run(plan, tmp_path / "out" / "cache")
    assert len(result.paths) > 1 and all((p / "conf.xml").is_file() for p in result.paths)
    mine = tmp_path / "out" / "notes"
    mine.mkdir()
    (mine / "keep.txt").write_text("mine")
    abandon_export(store, "export-x")
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["notes"]
    assert (mine / "keep.txt").read_text() == "mine" and store.records() == []
