"""Processing: exporttiles and estimatetiles against the local ArcGIS emulator."""
from __future__ import annotations

import json
import zipfile

import pytest
from qgis.core import (
    QgsApplication,
    QgsCoordinateReferenceSystem,
    QgsFeature,
    QgsGeometry,
    QgsProcessingException,
    QgsProcessingFeedback,
    QgsVectorLayer,
)

from plugin.core.area import Area
from plugin.core.tilecount import count_tiles
from tests.qgis.conftest import basic_auth_config

MERCATOR = QgsCoordinateReferenceSystem("EPSG:3857")


@pytest.fixture(scope="module")
def provider(processing_provider):
    return processing_provider


def run(name, params, feedback=None):
    import processing

    return processing.run(f"arcgisofflinetiles:{name}", params, feedback=feedback or QgsProcessingFeedback())


def polygon_layer(rings_wkt, crs="EPSG:3857", selected=None):
    layer = QgsVectorLayer(f"Polygon?crs={crs}", "area", "memory")
    features = []
    for wkt in rings_wkt:
        feature = QgsFeature()
        feature.setGeometry(QgsGeometry.fromWkt(wkt))
        features.append(feature)
    layer.dataProvider().addFeatures(features)
    if selected is not None:
        layer.selectByIds([f.id() for f in layer.getFeatures()][:selected])
    return layer


TRIANGLE = "Polygon((-8e6 -2e6, 4e6 -3e6, -1e6 6e6, -8e6 -2e6))"


def test_estimate_counts_a_polygon_exactly_and_writes_json(provider, emulator, tmp_path):
    url = emulator.service_url("World_Map", "MapServer")
    out = tmp_path / "estimate.json"
    result = run("estimatetiles", {"SERVICE_URL": url, "AREA": polygon_layer([TRIANGLE]), "LEVELS": "0-4",
                                   "OUTPUT": str(out)})
    doc = json.loads(out.read_text())
    from plugin.core.client import fetch_service
    from plugin.core.http import create_session

    service = fetch_service(create_session(), url)
    area = Area.from_rings([[(-8e6, -2e6), (4e6, -3e6), (-1e6, 6e6)]])
    expected = count_tiles(service.tiling, area, range(5))
    assert [entry["tiles"] for entry in doc["levels"]] == [expected[level] for level in range(5)]
    assert doc["total"] == result["TOTAL"] == sum(expected.values())
    assert doc["service"]["url"] == url
    assert doc["max_export_tiles"] == result["MAX_EXPORT_TILES"]
    assert doc["jobs_needed"] == result["JOBS_NEEDED"] == 1
    assert {"level", "scale", "resolution", "tiles"} <= set(doc["levels"][0])
    assert json.loads(result["LEVEL_TILES"]) == {str(level): expected[level] for level in range(5)}


def test_help_strings_name_every_json_key_parameter_and_output(provider, emulator, tmp_path):
    registry = QgsApplication.processingRegistry()
    estimate = registry.algorithmById("arcgisofflinetiles:estimatetiles")
    run("estimatetiles", {"SERVICE_URL": emulator.service_url("World_Map", "MapServer"), "LEVELS": "0-1",
                          "OUTPUT": str(tmp_path / "e.json")})
    doc = json.loads((tmp_path / "e.json").read_text())
    keys = set(doc) | set(doc["levels"][0])
    assert [key for key in sorted(keys) if key not in estimate.shortHelpString()] == []
    for alg in (estimate, registry.algorithmById("arcgisofflinetiles:exporttiles")):
        names = [p.name() for p in alg.parameterDefinitions()] + [o.name() for o in alg.outputDefinitions()]
        assert [name for name in names if name not in alg.shortHelpString()] == [], alg.id()
    export_help = registry.algorithmById("arcgisofflinetiles:exporttiles").shortHelpString()
    assert ".gpkg or .mbtiles always gives that converted file, even for a single package" in export_help


def test_estimate_with_server_estimate_and_limits(provider, emulator, tmp_path):
    emulator.configure("World_Map/MapServer", max_export_tiles=20)
    url = emulator.service_url("World_Map", "MapServer")
    result = run("estimatetiles", {"SERVICE_URL": url, "LEVELS": "0-3", "SERVER_ESTIMATE": True,
                                   "OUTPUT": str(tmp_path / "e.json")})
    assert result["TOTAL"] == 1 + 4 + 16 + 64
    assert result["MAX_EXPORT_TILES"] == 20
    assert result["JOBS_NEEDED"] > 1
    assert result["SERVER_TOTAL_TILES"] == 85
    assert result["SERVER_TOTAL_BYTES"] > 0


def test_export_extent_in_another_crs_gives_a_tpk_with_the_counted_tiles(provider, emulator, tmp_path):
    url = emulator.service_url("World_Map", "MapServer")
    extent = "-20,-10,30,40 [EPSG:4326]"
    out = tmp_path / "africa.tpk"
    result = run("exporttiles", {"SERVICE_URL": url, "EXTENT": extent, "LEVELS": "1-3", "FORMAT": 2,
                                 "OUTPUT": str(out)})
    assert result["OUTPUT"] == str(out) and out.exists()
    assert result["JOB_COUNT"] == 1
    names = zipfile.ZipFile(out).namelist()
    assert any(n.endswith("conf.xml") for n in names) and any(n.endswith(".bundlx") for n in names)
    from plugin.core.packages import open_package

    with open_package(out) as pkg:
        assert pkg.tile_count == result["TILE_COUNT"]
        assert pkg.levels == [1, 2, 3]


def test_export_selected_polygons_only_on_the_vector_service(provider, emulator, tmp_path):
    layer = polygon_layer([TRIANGLE, "Polygon((1e7 1e7, 1.2e7 1e7, 1.2e7 1.2e7, 1e7 1e7))"], selected=1)
    from qgis.core import QgsProcessingFeatureSourceDefinition

    source = QgsProcessingFeatureSourceDefinition(layer.id(), selectedFeaturesOnly=True)
    from qgis.core import QgsProject

    QgsProject.instance().addMapLayer(layer)
    try:
        out = tmp_path / "vector.vtpk"
        result = run("exporttiles", {"SERVICE_URL": emulator.service_url("World_Vector", "VectorTileServer"),
                                     "AREA": source, "LEVELS": "0-3", "OUTPUT": str(out)})
    finally:
        QgsProject.instance().removeMapLayer(layer.id())
    assert out.exists() and result["JOB_COUNT"] == 1
    polygon_requests = [r for r in emulator.requests if r.path.endswith("/exportTiles")]
    assert polygon_requests and "polygon" in {**polygon_requests[-1].params, **polygon_requests[-1].form}
    sent = json.loads({**polygon_requests[-1].params, **polygon_requests[-1].form}["polygon"])
    assert len(sent["rings"]) == 1  # only the selected feature went to the server


def test_export_over_the_limit_is_split_and_merged(provider, emulator, tmp_path):
    emulator.configure("World_Map/MapServer", max_export_tiles=30)
    out = tmp_path / "split.tpkx"
    result = run("exporttiles", {"SERVICE_URL": emulator.service_url("World_Map", "MapServer"),
                                 "EXTENT": "-2e7,2e7,-2e7,2e7 [EPSG:3857]", "LEVELS": "0-3",
                                 "MERGE": True, "OUTPUT": str(out)})
    assert result["JOB_COUNT"] > 1
    assert result["TILE_COUNT"] == 85
    merged = tmp_path / "split.gpkg"
    assert result["OUTPUT"] == str(merged) and merged.exists()
    assert len(result["OUTPUT_FILES"].split(";")) == result["JOB_COUNT"] + 1
    import sqlite3

    with sqlite3.connect(merged) as db:
        table = db.execute("select table_name from gpkg_contents where data_type='tiles'").fetchone()[0]
        assert db.execute(f'select count(*) from "{table}"').fetchone()[0] == 85


def test_export_over_the_limit_without_split_is_refused_with_the_numbers(provider, emulator, tmp_path):
    emulator.configure("World_Map/MapServer", max_export_tiles=30)
    with pytest.raises(QgsProcessingException, match="85.*30|30.*85"):
        run("exporttiles", {"SERVICE_URL": emulator.service_url("World_Map", "MapServer"), "LEVELS": "0-3",
                            "SPLIT": False, "OUTPUT": str(tmp_path / "x.tpkx")})
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize(("params", "message"), [
    ({"SERVICE_URL": ""}, "URL"),
    ({"LEVELS": "0-99"}, "level"),
    ({"LEVELS": "zero"}, "level"),
])
def test_bad_parameters_give_clear_messages(provider, emulator, tmp_path, params, message):
    full = {"SERVICE_URL": emulator.service_url("World_Map", "MapServer"), "LEVELS": "0-1",
            "OUTPUT": str(tmp_path / "x.tpkx"), **params}
    with pytest.raises(QgsProcessingException, match=f"(?i){message}"):
        run("exporttiles", full)


def test_not_a_service_is_refused_clearly(provider, emulator, tmp_path):
    with pytest.raises(QgsProcessingException, match="(?i)no arcgis service|not found"):
        run("exporttiles", {"SERVICE_URL": emulator.base_url + "/rest/services/Nope/MapServer",
                            "OUTPUT": str(tmp_path / "x.tpkx")})


def test_cancel_stops_the_export_and_cancels_the_server_job(provider, emulator, tmp_path):
    emulator.configure("World_Map/MapServer", job_steps=50, job_step_delay_s=0.2)
    feedback = QgsProcessingFeedback()
    seen = []

    def cancel_once_running(_progress):
        if any("/jobs/" in r.path for r in emulator.requests) and not seen:
            seen.append(True)
            feedback.cancel()

    feedback.progressChanged.connect(cancel_once_running)
    with pytest.raises(QgsProcessingException, match="(?i)cancel"):
        run("exporttiles", {"SERVICE_URL": emulator.service_url("World_Map", "MapServer"), "LEVELS": "0-2",
                            "OUTPUT": str(tmp_path / "c.tpkx")}, feedback)
    assert any(r.path.endswith("/cancel") for r in emulator.requests)
    assert not (tmp_path / "c.tpkx").exists()


def test_open_output_after_running_loads_the_merged_layer(provider, emulator, tmp_path, qgis_new_project):
    import processing
    from qgis.core import QgsProcessingContext, QgsProcessingOutputLayerDefinition, QgsProject

    emulator.configure("World_Map/MapServer", max_export_tiles=30)
    context = QgsProcessingContext()
    context.setProject(QgsProject.instance())
    output = QgsProcessingOutputLayerDefinition(str(tmp_path / "split.tpkx"), QgsProject.instance())
    result = processing.run("arcgisofflinetiles:exporttiles", {
        "SERVICE_URL": emulator.service_url("World_Map", "MapServer"), "LEVELS": "0-3", "MERGE": True,
        "EXTENT": "-2e7,2e7,-2e7,2e7 [EPSG:3857]", "OUTPUT": output}, context=context,
        feedback=QgsProcessingFeedback())
    assert result["JOB_COUNT"] > 1
    pending = context.layersToLoadOnCompletion()
    assert len(pending) == 1
    layer = context.getMapLayer(next(iter(pending)))
    assert layer is not None and layer.isValid()
    assert layer.crs().authid() == "EPSG:3857"
    assert layer.source().endswith("split.gpkg")
    assert layer.extent().width() == pytest.approx(2 * 20037508.342787, rel=1e-3)


def test_levels_from_scales_take_the_coarser_and_the_finer_level(provider, emulator, tmp_path):
    url = emulator.service_url("World_Map", "MapServer")
    # 1:100,000,000 lies between levels 2 (1:147.9M) and 3 (1:73.9M): the minimum takes level 2;
    # 1:20,000,000 lies between levels 4 (1:36.9M) and 5 (1:18.5M): the maximum takes level 5.
    result = run("estimatetiles", {"SERVICE_URL": url, "MIN_SCALE": 100_000_000, "MAX_SCALE": 20_000_000,
                                   "EXTENT": "-1e6,1e6,-1e6,1e6 [EPSG:3857]", "OUTPUT": str(tmp_path / "s.json")})
    doc = json.loads((tmp_path / "s.json").read_text())
    assert [entry["level"] for entry in doc["levels"]] == [2, 3, 4, 5]
    assert result["TOTAL"] == sum(entry["tiles"] for entry in doc["levels"])


def test_automatic_format_gives_tpk_on_a_server_older_than_10_7(provider, emulator, tmp_path):
    emulator.configure("World_Map/MapServer", version=10.6)
    out = tmp_path / "old.tpkx"
    result = run("exporttiles", {"SERVICE_URL": emulator.service_url("World_Map", "MapServer"), "LEVELS": "0-1",
                                 "OUTPUT": str(out)})
    assert result["OUTPUT"].endswith(".tpk")
    names = zipfile.ZipFile(result["OUTPUT"]).namelist()
    assert any(n.endswith(".bundlx") for n in names)
    submitted = [r for r in emulator.requests if r.path.endswith("/exportTiles")][-1]
    assert submitted.params["storageFormatType"] == "esriMapCacheStorageModeCompact"


def test_optimize_for_size_sends_the_quality_capped_at_the_service_own(provider, emulator, tmp_path):
    url = emulator.service_url("World_Imagery", "ImageServer")
    feedback = QgsProcessingFeedback()
    notes = []
    feedback.pushInfo = notes.append
    run("exporttiles", {"SERVICE_URL": url, "LEVELS": "0-1", "OPTIMIZE_FOR_SIZE": True,
                        "COMPRESSION_QUALITY": 90, "OUTPUT": str(tmp_path / "high.tpkx")}, feedback)
    submitted = [r for r in emulator.requests if r.path.endswith("/exportTiles")][-1]
    assert submitted.params["compressionQuality"] == "75"  # the cache's own JPEG quality
    assert any("above the cache's own quality 75" in note for note in notes)
    result = run("exporttiles", {"SERVICE_URL": url, "LEVELS": "0-1", "OPTIMIZE_FOR_SIZE": True,
                                 "COMPRESSION_QUALITY": 40, "OUTPUT": str(tmp_path / "q.tpkx")})
    submitted = [r for r in emulator.requests if r.path.endswith("/exportTiles")][-1]
    assert submitted.params["optimizeTilesForSize"] == "true"
    assert submitted.params["compressionQuality"] == "40"
    assert result["TILE_COUNT"] == 5


def test_secured_service_needs_and_takes_an_auth_config(provider, emulator, tmp_path):
    url = emulator.service_url("World_Map", "MapServer", folder="Secured")
    with pytest.raises(QgsProcessingException, match="(?i)sign in"):
        run("estimatetiles", {"SERVICE_URL": url, "LEVELS": "0-1", "OUTPUT": str(tmp_path / "e.json")})
    authcfg = basic_auth_config("analyst", "field-work-2026")
    out = tmp_path / "secured.tpkx"
    result = run("exporttiles", {"SERVICE_URL": url, "AUTHCFG": authcfg, "LEVELS": "0-1", "OUTPUT": str(out)})
    assert out.exists() and result["TILE_COUNT"] == 5


def test_online_vector_service_exports_through_its_own_job_protocol(provider, emulator, tmp_path):
    url = emulator.service_url("World_Basemap_Export_v2", "VectorTileServer")
    out = tmp_path / "online.vtpk"
    result = run("exporttiles", {"SERVICE_URL": url, "EXTENT": "-10,30,30,60 [EPSG:4326]", "LEVELS": "0-3",
                                 "OUTPUT": str(out)})
    assert out.exists() and zipfile.is_zipfile(out)
    assert result["JOB_COUNT"] == 1
    downloads = [r for r in emulator.requests if r.path.startswith("/s3/")]
    assert downloads and not any(r.header("X-Esri-Authorization") for r in downloads)


# --- the antimeridian, area vs extent, full extent ---------------------------------------------
HALF_WORLD = 20037508.342787


def mercator_strip_count(url, lon_ranges, lat_range, levels):
    """Tiles of the Web Mercator boxes of WGS84 strips, each counted on its own and summed."""
    from qgis.core import QgsRectangle

    from plugin.core.client import fetch_service
    from plugin.core.http import create_session
    from plugin.qgis_glue import crs as crs_glue
    from plugin.qgis_glue.areas import area_from_geometry

    service = fetch_service(create_session(), url)
    total = 0
    for x0, x1 in lon_ranges:
        strip = crs_glue.to_service_crs(QgsGeometry.fromRect(QgsRectangle(x0, lat_range[0], x1, lat_range[1])),
                                        QgsCoordinateReferenceSystem("EPSG:4326"), MERCATOR)
        total += sum(count_tiles(service.tiling, area_from_geometry(strip, as_rectangle=True), levels).values())
    return total


def test_extent_across_the_antimeridian_exports_both_sides(provider, emulator, tmp_path):
    url = emulator.service_url("World_Map", "MapServer")
    out = tmp_path / "pacific.tpkx"
    # 170°E to 190°E (= 170°W): the dock's rule — two strips, one on each side of ±180°
    result = run("exporttiles", {"SERVICE_URL": url, "EXTENT": "170,190,-20,-10 [EPSG:4326]", "LEVELS": "2-4",
                                 "OUTPUT": str(out)})
    expected = mercator_strip_count(url, [(170, 180), (-180, -170)], (-20, -10), range(2, 5))
    assert result["TILE_COUNT"] == expected
    from plugin.core.packages import open_package

    with open_package(out) as pkg:
        assert pkg.tile_count == expected
        columns = {col for _level, _row, col, _size in pkg.iter_index(4)}
    assert columns == {0, 15}  # the first and the last column of level 4, nothing in between
    estimate = run("estimatetiles", {"SERVICE_URL": url, "EXTENT": "170,190,-20,-10 [EPSG:4326]",
                                     "LEVELS": "2-4", "OUTPUT": str(tmp_path / "e.json")})
    assert estimate["TOTAL"] == expected


def test_area_supersedes_the_extent(provider, emulator, tmp_path):
    url = emulator.service_url("World_Map", "MapServer")
    triangle = polygon_layer([TRIANGLE])
    area_only = run("estimatetiles", {"SERVICE_URL": url, "AREA": triangle, "LEVELS": "2-4",
                                      "OUTPUT": str(tmp_path / "a.json")})
    extent_only = run("estimatetiles", {"SERVICE_URL": url, "EXTENT": "1e7,1.2e7,1e7,1.2e7 [EPSG:3857]",
                                        "LEVELS": "2-4", "OUTPUT": str(tmp_path / "e.json")})
    assert area_only["TOTAL"] != extent_only["TOTAL"]
    out = tmp_path / "both.tpkx"
    result = run("exporttiles", {"SERVICE_URL": url, "AREA": triangle, "EXTENT": "1e7,1.2e7,1e7,1.2e7 [EPSG:3857]",
                                 "LEVELS": "2-4", "OUTPUT": str(out)})
    assert result["TILE_COUNT"] == area_only["TOTAL"]
    submitted = [r for r in emulator.requests if r.path.endswith("/exportTiles")][-1]
    sent = json.loads({**submitted.params, **submitted.form}["areaOfInterest"])  # map services: a feature set
    ring = sent["features"][0]["geometry"]["rings"][0]
    assert sorted({x for x, _y in ring}) == [-8e6, -1e6, 4e6]  # the triangle went to the server


def test_full_extent_export_without_extent_or_area(provider, emulator, tmp_path):
    out = tmp_path / "world.tpkx"
    feedback = QgsProcessingFeedback()
    notes = []
    feedback.pushInfo = notes.append
    result = run("exporttiles", {"SERVICE_URL": emulator.service_url("World_Map", "MapServer"), "LEVELS": "0-2",
                                 "OUTPUT": str(out)}, feedback)
    assert result["OUTPUT"] == str(out) and result["TILE_COUNT"] == 1 + 4 + 16
    from plugin.core.packages import open_package

    with open_package(out) as pkg:
        assert pkg.tile_count == 21 and pkg.levels == [0, 1, 2]
    assert any("full extent" in note for note in notes)


# --- more parameter combinations -----------------------------------------------------------------
def test_split_without_merge_gives_every_package(provider, emulator, tmp_path):
    emulator.configure("World_Map/MapServer", max_export_tiles=30)
    out = tmp_path / "parts.tpkx"
    result = run("exporttiles", {"SERVICE_URL": emulator.service_url("World_Map", "MapServer"), "LEVELS": "0-3",
                                 "EXTENT": "-2e7,2e7,-2e7,2e7 [EPSG:3857]", "OUTPUT": str(out)})
    files = result["OUTPUT_FILES"].split(";")
    assert result["JOB_COUNT"] > 1 and len(files) == result["JOB_COUNT"]
    assert result["OUTPUT"] == files[0]  # documented: the first package when split without MERGE
    from plugin.core.packages import open_package

    tiles = 0
    for path in files:
        assert path.endswith(".tpkx") and "_part" in path
        with open_package(path) as pkg:
            tiles += pkg.tile_count
    assert tiles == result["TILE_COUNT"] == 85
    assert not list(tmp_path.glob("*.gpkg"))


def test_format_tpkx_gives_a_compact_v2_package(provider, emulator, tmp_path):
    out = tmp_path / "v2.tpkx"
    result = run("exporttiles", {"SERVICE_URL": emulator.service_url("World_Map", "MapServer"), "LEVELS": "0-1",
                                 "FORMAT": 1, "OUTPUT": str(out)})
    submitted = [r for r in emulator.requests if r.path.endswith("/exportTiles")][-1]
    assert submitted.params["storageFormatType"] == "esriMapCacheStorageModeCompactV2"
    from plugin.core.packages import open_package

    with open_package(result["OUTPUT"]) as pkg:
        assert pkg.kind == "tpkx" and pkg.tile_count == 5


def test_export_levels_from_scales(provider, emulator, tmp_path):
    out = tmp_path / "scales.tpkx"
    # 1:100,000,000 → level 2 (the coarser neighbour), 1:40,000,000 → level 4 (1:36.9M, the finer one)
    result = run("exporttiles", {"SERVICE_URL": emulator.service_url("World_Map", "MapServer"),
                                 "MIN_SCALE": 100_000_000, "MAX_SCALE": 40_000_000,
                                 "EXTENT": "-1e6,1e6,-1e6,1e6 [EPSG:3857]", "OUTPUT": str(out)})
    submitted = [r for r in emulator.requests if r.path.endswith("/exportTiles")][-1]
    assert submitted.params["levels"] == "2-4"
    from plugin.core.packages import open_package

    with open_package(out) as pkg:
        assert pkg.levels == [2, 3, 4] and pkg.tile_count == result["TILE_COUNT"]


def test_scales_the_wrong_way_round_are_swapped(provider, emulator, tmp_path):
    url = emulator.service_url("World_Map", "MapServer")
    extent = "-1e6,1e6,-1e6,1e6 [EPSG:3857]"
    swapped = run("estimatetiles", {"SERVICE_URL": url, "MIN_SCALE": 20_000_000, "MAX_SCALE": 100_000_000,
                                    "EXTENT": extent, "OUTPUT": str(tmp_path / "swapped.json")})
    assert json.loads(swapped["LEVEL_TILES"]).keys() == {"2", "3", "4", "5"}


def test_gpkg_output_converts_a_single_package(provider, emulator, tmp_path):
    out = tmp_path / "one.gpkg"
    result = run("exporttiles", {"SERVICE_URL": emulator.service_url("World_Map", "MapServer"), "LEVELS": "0-2",
                                 "OUTPUT": str(out)})
    assert result["JOB_COUNT"] == 1
    assert result["OUTPUT"] == str(out)
    files = result["OUTPUT_FILES"].split(";")
    assert files[0] == str(out) and len(files) == 2 and files[1].endswith(".tpkx")  # the converted file first
    import sqlite3

    with sqlite3.connect(out) as db:
        table = db.execute("select table_name from gpkg_contents where data_type='tiles'").fetchone()[0]
        assert db.execute(f'select count(*) from "{table}"').fetchone()[0] == result["TILE_COUNT"] == 21
    from qgis.core import QgsRasterLayer

    assert QgsRasterLayer(str(out), "one", "gdal").isValid()


def test_service_that_does_not_allow_export_is_refused_clearly(provider, emulator, tmp_path):
    emulator.configure("World_Map/MapServer", export_allowed=False)
    with pytest.raises(QgsProcessingException, match="does not allow tile export.*administrator"):
        run("exporttiles", {"SERVICE_URL": emulator.service_url("World_Map", "MapServer"), "LEVELS": "0-1",
                            "OUTPUT": str(tmp_path / "x.tpkx")})
    assert not [r for r in emulator.requests if r.path.endswith("/exportTiles")]
    assert not list(tmp_path.iterdir())


def test_selected_features_only_without_a_selection_says_what_to_do(provider, emulator, tmp_path):
    from qgis.core import QgsProcessingFeatureSourceDefinition, QgsProject

    layer = polygon_layer([TRIANGLE], selected=0)
    QgsProject.instance().addMapLayer(layer)
    try:
        with pytest.raises(QgsProcessingException, match="(?i)no feature .* is selected.*select"):
            run("exporttiles", {"SERVICE_URL": emulator.service_url("World_Map", "MapServer"), "LEVELS": "0-1",
                                "AREA": QgsProcessingFeatureSourceDefinition(layer.id(), selectedFeaturesOnly=True),
                                "OUTPUT": str(tmp_path / "x.tpkx")})
    finally:
        QgsProject.instance().removeMapLayer(layer.id())
    assert not [r for r in emulator.requests if r.path.endswith("/exportTiles")]


def test_cancel_while_the_server_estimates_cancels_its_job(provider, emulator, tmp_path):
    emulator.configure("World_Map/MapServer", job_steps=50, job_step_delay_s=0.2)
    texts = []

    class Feedback(QgsProcessingFeedback):
        def setProgressText(self, text):
            texts.append(text)
            super().setProgressText(text)

    feedback = Feedback()

    def estimate_jobs():
        return [job for job in emulator.jobs.values() if job.operation == "estimate"]

    def cancel_once_polled(_progress):
        if any(job.requests for job in estimate_jobs()) and not feedback.isCanceled():
            feedback.cancel()

    feedback.progressChanged.connect(cancel_once_polled)
    with pytest.raises(QgsProcessingException, match="(?i)cancel"):
        run("estimatetiles", {"SERVICE_URL": emulator.service_url("World_Map", "MapServer"), "LEVELS": "0-2",
                              "SERVER_ESTIMATE": True, "OUTPUT": str(tmp_path / "e.json")}, feedback)
    [job] = estimate_jobs()
    assert any(r.path.endswith(f"/jobs/{job.id}/cancel") for r in emulator.requests)
    assert job.status in ("esriJobCancelling", "esriJobCancelled")
    assert any("Estimating the export size" in text for text in texts)  # the wait shows on the progress bar
    assert not (tmp_path / "e.json").exists()


# --- the graphical modeler and batch mode --------------------------------------------------------
def estimate_and_export_model():
    """What a user builds in the modeler: inputs for the service, extent and levels; estimatetiles, then
    exporttiles (as a .tpk) with its package as the model's output."""
    from qgis.core import (
        QgsProcessingModelAlgorithm,
        QgsProcessingModelChildAlgorithm,
        QgsProcessingModelChildDependency,
        QgsProcessingModelChildParameterSource,
        QgsProcessingModelOutput,
        QgsProcessingModelParameter,
        QgsProcessingParameterExtent,
        QgsProcessingParameterString,
    )

    model = QgsProcessingModelAlgorithm("Estimate and export", "tests")
    for definition in (QgsProcessingParameterString("service_url", "Service URL"),
                       QgsProcessingParameterExtent("extent", "Extent"),
                       QgsProcessingParameterString("levels", "Levels")):
        model.addModelParameter(definition, QgsProcessingModelParameter(definition.name()))
    inputs = {"SERVICE_URL": "service_url", "EXTENT": "extent", "LEVELS": "levels"}
    children = []
    for child_id, algorithm in (("estimate", "estimatetiles"), ("export", "exporttiles")):
        child = QgsProcessingModelChildAlgorithm(f"arcgisofflinetiles:{algorithm}")
        assert child.algorithm() is not None, f"{algorithm} is not in the registry"
        child.setChildId(child_id)
        for name, source in inputs.items():
            child.addParameterSources(name, [QgsProcessingModelChildParameterSource.fromModelParameter(source)])
        children.append(child)
    estimate, export = children
    estimate_output = QgsProcessingModelOutput("estimate", "Estimate")
    estimate_output.setChildId("estimate")
    estimate_output.setChildOutputName("OUTPUT")
    estimate.setModelOutputs({"estimate": estimate_output})
    export.addParameterSources("FORMAT", [QgsProcessingModelChildParameterSource.fromStaticValue(2)])
    package = QgsProcessingModelOutput("package", "Package")
    package.setChildId("export")
    package.setChildOutputName("OUTPUT")
    export.setModelOutputs({"package": package})
    export.setDependencies([QgsProcessingModelChildDependency("estimate")])  # estimate first
    model.addChildAlgorithm(estimate)
    model.addChildAlgorithm(export)
    return model


def model_output(model, output: str) -> str:
    """The name of a model output's parameter: ``child:output`` on QGIS 3.22, ``output`` on 3.40."""
    return next(d.name() for d in model.destinationParameterDefinitions() if d.name().split(":")[-1] == output)


def run_model(model, url, extent, tmp_path, stem):
    """Run the model; the result is keyed by the model outputs' plain names (``package``)."""
    import processing

    package, estimate = model_output(model, "package"), model_output(model, "estimate")
    result = processing.run(model, {"service_url": url, "extent": extent, "levels": "0-2",
                                    estimate: str(tmp_path / f"{stem}.json"),
                                    package: str(tmp_path / f"{stem}.tpk")}, feedback=QgsProcessingFeedback())
    return {"package": result[package], "estimate": result[estimate]}


def test_model_with_both_algorithms_produces_the_package(provider, emulator, tmp_path):
    model = estimate_and_export_model()
    result = run_model(model, emulator.service_url("World_Map", "MapServer"), "-2e7,0,0,2e7 [EPSG:3857]",
                       tmp_path, "model")
    package = tmp_path / "model.tpk"
    assert result["package"] == str(package)
    estimate = json.loads((tmp_path / "model.json").read_text())
    assert estimate["levels"] and [entry["level"] for entry in estimate["levels"]] == [0, 1, 2]
    names = zipfile.ZipFile(package).namelist()
    assert any(n.endswith(".bundlx") for n in names)  # FORMAT=2 (tpk) set inside the model
    from plugin.core.packages import open_package

    with open_package(package) as pkg:
        assert pkg.tile_count == estimate["total"] == 1 + 1 + 4  # the north-west quarter of the world


def test_model_survives_saving_and_loading(provider, emulator, tmp_path):
    from qgis.core import QgsProcessingModelAlgorithm

    saved = estimate_and_export_model().toVariant()
    loaded = QgsProcessingModelAlgorithm()
    assert loaded.loadVariant(saved)
    export = loaded.childAlgorithm("export")
    assert export.algorithm() is not None and export.algorithmId() == "arcgisofflinetiles:exporttiles"
    assert {name: [s.staticValue() for s in sources] for name, sources in export.parameterSources().items()
            if name == "FORMAT"} == {"FORMAT": [2]}
    assert [s.parameterName() for s in export.parameterSources()["LEVELS"]] == ["levels"]
    result = run_model(loaded, emulator.service_url("World_Map", "MapServer"), "0,2e7,-2e7,0 [EPSG:3857]",
                       tmp_path, "loaded")
    from plugin.core.packages import open_package

    with open_package(result["package"]) as pkg:
        assert pkg.tile_count == 1 + 1 + 4 and pkg.kind == "tpk"


def test_batch_runs_each_row_with_its_own_parameters(provider, emulator, tmp_path):
    """What the batch dialog does: one algorithm instance, run once per row with a new context."""
    from processing.tools import dataobjects
    from qgis.core import QgsProcessingMultiStepFeedback

    algorithm = QgsApplication.processingRegistry().algorithmById("arcgisofflinetiles:exporttiles").create()
    url = emulator.service_url("World_Map", "MapServer")
    rows = [{"SERVICE_URL": url, "EXTENT": "-2e7,0,0,2e7 [EPSG:3857]", "LEVELS": "0-2",
             "OUTPUT": str(tmp_path / "north-west.tpkx")},
            {"SERVICE_URL": url, "AREA": polygon_layer([TRIANGLE]), "LEVELS": "1-3", "FORMAT": 2,
             "OUTPUT": str(tmp_path / "triangle.tpkx")}]
    feedback = QgsProcessingFeedback()
    results = []
    for step, parameters in enumerate(rows):
        step_feedback = QgsProcessingMultiStepFeedback(len(rows), feedback)
        step_feedback.setCurrentStep(step)
        context = dataobjects.createContext(step_feedback)
        result, ok = algorithm.run(algorithm.preprocessParameters(parameters), context, step_feedback)
        assert ok, result
        results.append(dict(result))
    first, second = results
    assert first["OUTPUT"] == str(tmp_path / "north-west.tpkx") and first["TILE_COUNT"] == 1 + 1 + 4
    assert second["OUTPUT"] == str(tmp_path / "triangle.tpk")  # this row's FORMAT only
    expected = run("estimatetiles", {"SERVICE_URL": url, "AREA": polygon_layer([TRIANGLE]), "LEVELS": "1-3",
                                     "OUTPUT": str(tmp_path / "t.json")})["TOTAL"]
    assert second["TILE_COUNT"] == expected != first["TILE_COUNT"]
    from plugin.core.packages import open_package

    with open_package(first["OUTPUT"]) as pkg:  # the first row's package untouched by the second
        assert pkg.kind == "tpkx" and pkg.levels == [0, 1, 2] and pkg.tile_count == first["TILE_COUNT"]
    with open_package(second["OUTPUT"]) as pkg:
        assert pkg.kind == "tpk" and pkg.levels == [1, 2, 3]


class _Feedback(QgsProcessingFeedback):
    def __init__(self):
        super().__init__()
        self.infos = []

    def pushInfo(self, info):
        self.infos.append(info)
        super().pushInfo(info)


def test_levels_by_ground_resolution_in_both_algorithms(provider, emulator, tmp_path):
    # Web Mercator: L2 39,136 m, L3 19,568 m, L4 9,784 m, L5 4,892 m per pixel. "Down to 5,000 m" must
    # reach L5 (the bound lies between L4 and L5: the finer level covers it), "from 30,000 m" starts at L2.
    url = emulator.service_url("World_Imagery", "ImageServer")
    extent = "-1e6,1e6,-1e6,1e6 [EPSG:3857]"
    by_resolution = {"SERVICE_URL": url, "COARSEST_RESOLUTION": 30_000, "FINEST_RESOLUTION": 5_000,
                     "EXTENT": extent}
    estimate = run("estimatetiles", {**by_resolution, "OUTPUT": str(tmp_path / "res.json")})
    assert json.loads(estimate["LEVEL_TILES"]).keys() == {"2", "3", "4", "5"}

    feedback = _Feedback()
    out = tmp_path / "res.tpkx"
    result = run("exporttiles", {**by_resolution, "FINEST_RESOLUTION": 30_000, "COARSEST_RESOLUTION": 5_000,
                                 "OUTPUT": str(out)}, feedback)  # the wrong way round: swapped
    submitted = [r for r in emulator.requests if r.path.endswith("/exportTiles")][-1]
    assert submitted.params["levels"] == "2-5"
    assert any("2-5" in info and "m per pixel" in info for info in feedback.infos), feedback.infos
    from plugin.core.packages import open_package

    with open_package(out) as pkg:
        assert pkg.levels == [2, 3, 4, 5] and pkg.tile_count == result["TILE_COUNT"]


def test_levels_by_scale_and_by_resolution_together_are_refused(provider, emulator, tmp_path):
    url = emulator.service_url("World_Imagery", "ImageServer")
    with pytest.raises(QgsProcessingException, match="not both"):
        run("estimatetiles", {"SERVICE_URL": url, "MIN_SCALE": 100_000_000, "FINEST_RESOLUTION": 5_000,
                              "EXTENT": "-1e6,1e6,-1e6,1e6 [EPSG:3857]", "OUTPUT": str(tmp_path / "x.json")})
    assert not [r for r in emulator.requests if r.path.endswith("/exportTiles")]


# --- sparse vector exports: split or not, the converted map has the same places ------------------
AMERICAS = "-1.9e7,-4.75e6,-7e6,9e6 [EPSG:3857]"


def _positions(path) -> dict:
    import sqlite3

    with sqlite3.connect(path) as db:
        return {(z, x, y): bytes(d) for z, x, y, d in db.execute("SELECT * FROM tiles")}


@pytest.mark.parametrize("split", ["by area (tile limit)", "by levels (Online output files)"])
def test_a_split_sparse_vector_export_merges_without_holes(provider, emulator, tmp_path, split):
    """The sample vector service is sparse like Esri's: a split export merged into MBTiles draws
    every place the unsplit export draws (stand-ins included), and keeps every stored tile."""
    from plugin.core.packages import convert_package

    online = split.startswith("by levels")
    name = "World_Basemap_Export_v2" if online else "World_Vector"
    url = emulator.service_url(name, "VectorTileServer")
    single = tmp_path / "single.vtpk"
    run("exporttiles", {"SERVICE_URL": url, "EXTENT": AMERICAS, "LEVELS": "0-6", "OUTPUT": str(single)})
    reference = convert_package(single, tmp_path / "single.mbtiles")
    assert reference.stand_ins > 50
    if online:
        emulator.configure(f"{name}/VectorTileServer", output_urls=2)
    else:
        emulator.configure(f"{name}/VectorTileServer", max_export_tiles=300)
    result = run("exporttiles", {"SERVICE_URL": url, "EXTENT": AMERICAS, "LEVELS": "0-6", "MERGE": True,
                                 "OUTPUT": str(tmp_path / "split.mbtiles")})
    assert len(result["OUTPUT_FILES"].split(";")) > 2  # the parts and the merged file
    merged, expected = _positions(tmp_path / "split.mbtiles"), _positions(tmp_path / "single.mbtiles")
    missing = set(expected) - set(merged)
    assert not missing, sorted(missing)[:5]
    with zipfile.ZipFile(single) as zf:
        stored = len([n for n in zf.namelist() if n.endswith(".bundle")])
    assert stored
    from plugin.core.packages import open_package

    with open_package(single) as pkg:
        for tile in pkg.iter_tiles():
            key = (tile.level, tile.col, (1 << tile.level) - 1 - tile.row)
            assert merged[key] == tile.data  # a stored tile, byte for byte, never a stand-in
