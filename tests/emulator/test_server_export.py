"""exportTiles and estimateExportTilesSize end to end over HTTP: packages hold exactly the expected
tiles (computed independently with QgsGeometry and read back with an independent bundle reader)."""
from __future__ import annotations

import json
import threading
import time
import zipfile

import pytest
import requests

from tests.emulator.server_helpers import (
    TIMEOUT,
    download,
    envelope,
    expected_tiles,
    export_gp,
    geometry_from_box,
    geometry_from_rings,
    get_json,
    poll,
    read_package_tiles,
    result_value,
    submit,
    transformed,
)

MERC = 20037508.342787


def _package(emulator, url, job_id, tmp_path, name="package"):
    value = result_value(url, job_id)
    file_url = value["url"] if isinstance(value, dict) else value
    path = download(file_url, tmp_path / f"{name}{file_url[file_url.rfind('.'):]}")
    return path, read_package_tiles(path)


def test_map_extent_several_levels_tpkx(emulator, tmp_path):
    url = emulator.service_url("World_Map", "MapServer")
    sample = emulator.service("World_Map/MapServer").sample
    box = (-2.1e6, 3.3e6, 4.4e6, 7.9e6)  # Europe-ish, Web Mercator
    answer, statuses = export_gp(url, tilePackage="true", storageFormatType="esriMapCacheStorageModeCompactV2",
                                 exportBy="LevelID", levels="2-4", exportExtent=",".join(map(str, box)))
    assert answer["jobStatus"] == "esriJobSubmitted"
    assert answer["jobId"].startswith("j") and answer["jobId"].endswith("_et") and len(answer["jobId"]) == 36
    assert statuses[-1]["jobStatus"] == "esriJobSucceeded", statuses[-1]
    path, tiles = _package(emulator, url, answer["jobId"], tmp_path)
    assert path.suffix == ".tpkx"
    expected = expected_tiles(sample, [2, 3, 4], geometry_from_box(*box))
    assert len(expected) == 2 + 4 + 9  # by hand: 2x1, 2x2 and 3x3 tiles
    assert set(tiles) == set(expected)
    assert all(tiles[key] == data for key, data in expected.items())
    assert {level for level, _, _ in tiles} == {2, 3, 4}
    with zipfile.ZipFile(path) as zf:
        assert "root.json" in zf.namelist()


def test_map_compact_short_form_gives_tpk_and_level_lists(emulator, tmp_path):
    url = emulator.service_url("World_Map", "MapServer")
    sample = emulator.service("World_Map/MapServer").sample
    env = envelope(-1e6, -1e6, 1e6, 1e6, wkid=102100)
    answer, statuses = export_gp(url, method="GET", tilePackage="true", storageFormatType="Compact",
                                 levels=" 1 - 2 , 4", exportExtent=env)
    assert statuses[-1]["jobStatus"] == "esriJobSucceeded"
    path, tiles = _package(emulator, url, answer["jobId"], tmp_path)
    assert path.suffix == ".tpk"
    expected = expected_tiles(sample, [1, 2, 4], geometry_from_box(-1e6, -1e6, 1e6, 1e6))
    assert len(expected) == 4 + 4 + 4  # the box straddles the origin: 2x2 tiles at every level
    assert set(tiles) == set(expected)
    assert {level for level, _, _ in tiles} == {1, 2, 4}
    assert all(tiles[key] == data for key, data in expected.items())


def _walk_output(folder_url: str, rel: str = "") -> dict[str, dict]:
    """Every file of an arcgisoutput folder, by walking its listings (path → listing entry)."""
    listing = get_json(folder_url)
    out = {f"{rel}{f['name']}": f for f in listing["files"]}
    for name in listing["folders"]:
        out.update(_walk_output(f"{folder_url}/{name}", f"{rel}{name}/"))
    return out


@pytest.mark.parametrize(("storage", "suffixes"), [("esriMapCacheStorageModeCompactV2", {".bundle"}),
                                                   ("esriMapCacheStorageModeCompact", {".bundle", ".bundlx"}),
                                                   (None, {".bundle", ".bundlx"})])
def test_tile_package_false_gives_a_cache_dataset_folder(emulator, tmp_path, storage, suffixes):
    """tilePackage=false (and no tilePackage at all: the server's default) → the arcgisoutput folder of a
    cache raster dataset: Layers/conf.xml, conf.cdi, _alllayers/Lnn bundles in the storage asked for."""
    url = emulator.service_url("World_Map", "MapServer")
    sample = emulator.service("World_Map/MapServer").sample
    params = {"levels": "1-2", "exportExtent": envelope(-1e6, -1e6, 1e6, 1e6, wkid=102100)}
    if storage:
        params.update(tilePackage="false", storageFormatType=storage)
    answer, statuses = export_gp(url, **params)
    assert statuses[-1]["jobStatus"] == "esriJobSucceeded", statuses[-1]
    value = result_value(url, answer["jobId"])
    assert isinstance(value, str) and "/rest/directories/arcgisoutput/World_Map_MapServer/_ags" in value
    files = _walk_output(value)
    assert {"Layers/conf.xml", "Layers/conf.cdi"} <= set(files)
    bundles = {p for p in files if "/_alllayers/" in p}
    assert {p[p.rfind("."):] for p in bundles} == suffixes
    assert {p.split("/")[2] for p in bundles} == {"L01", "L02"}
    conf = requests.get(files["Layers/conf.xml"]["url"], timeout=TIMEOUT).text
    assert f"<StorageFormat>{storage or 'esriMapCacheStorageModeCompact'}</StorageFormat>" in conf
    archive = tmp_path / "cache.zip"  # the files, fetched one by one, read as a package
    with zipfile.ZipFile(archive, "w") as zf:
        for path, entry in files.items():
            data = requests.get(entry["url"], timeout=TIMEOUT).content
            assert len(data) == entry["size"]
            zf.writestr(path, data)
    tiles = read_package_tiles(archive)
    expected = expected_tiles(sample, [1, 2], geometry_from_box(-1e6, -1e6, 1e6, 1e6))
    assert set(tiles) == set(expected) and all(tiles[k] == d for k, d in expected.items())
    assert requests.get(f"{value}/Layers/..%2F..%2Fsecret", timeout=TIMEOUT).status_code == 404


def test_tile_package_false_with_cache_result_zip(emulator, tmp_path):
    emulator.configure("World_Imagery/ImageServer", cache_result="zip", result_shape="folder")
    url = emulator.service_url("World_Imagery", "ImageServer")
    answer, statuses = export_gp(url, tilePackage="false", storageFormatType="CompactV2", levels="0-1")
    assert statuses[-1]["jobStatus"] == "esriJobSucceeded"
    listing = get_json(result_value(url, answer["jobId"]))
    (entry,) = listing["files"]
    assert entry["name"] == "World_Imagery.zip"
    archive = tmp_path / "c.zip"
    archive.write_bytes(requests.get(entry["url"], timeout=TIMEOUT).content)
    with zipfile.ZipFile(archive) as zf:
        names = zf.namelist()
    assert "Layers/conf.xml" in names and any(n.startswith("Layers/_alllayers/L01/") for n in names)
    assert {level for level, _, _ in read_package_tiles(archive)} == {0, 1}


def test_storage_format_long_compact_and_short_compactv2(emulator):
    url = emulator.service_url("World_Map", "MapServer")
    for value, suffix in [("esriMapCacheStorageModeCompact", ".tpk"), ("CompactV2", ".tpkx")]:
        answer, statuses = export_gp(url, tilePackage="true", storageFormatType=value, levels="0")
        assert statuses[-1]["jobStatus"] == "esriJobSucceeded"
        assert emulator.job(answer["jobId"]).package_path.suffix == suffix


def test_image_area_of_interest_with_hole_and_two_parts_in_4326(emulator, tmp_path):
    url = emulator.service_url("World_Imagery", "ImageServer")
    sample = emulator.service("World_Imagery/ImageServer").sample
    outer = [[-20, 30], [-20, 60], [30, 60], [30, 30], [-20, 30]]  # clockwise
    hole = [[-5, 40], [15, 40], [15, 52], [-5, 52], [-5, 40]]
    island = [[100, -40], [120, -40], [110, -25], [100, -40]]
    aoi = {"geometryType": "esriGeometryPolygon", "spatialReference": {"wkid": 4326},
           "features": [{"geometry": {"rings": [outer, hole], "spatialReference": {"wkid": 4326}}},
                        {"geometry": {"rings": [island]}}]}
    answer, statuses = export_gp(url, tilePackage="true", storageFormatType="esriMapCacheStorageModeCompactV2",
                                 levels="3,4,5", exportBy="levelId", areaOfInterest=json.dumps(aoi))
    assert statuses[-1]["jobStatus"] == "esriJobSucceeded", statuses[-1]
    _, tiles = _package(emulator, url, answer["jobId"], tmp_path)
    geometry = transformed(geometry_from_rings([[[tuple(p) for p in outer[:-1]], [tuple(p) for p in hole[:-1]]],
                                                [[tuple(p) for p in island[:-1]]]]), "EPSG:4326", "EPSG:3857")
    expected = expected_tiles(sample, [3, 4, 5], geometry)
    assert len(expected) > 30
    assert set(tiles) == set(expected)
    # the hole really removes tiles at level 5 and the island adds some in the southern hemisphere
    without_hole = expected_tiles(sample, [5], transformed(
        geometry_from_rings([[[tuple(p) for p in outer[:-1]]]]), "EPSG:4326", "EPSG:3857"))
    assert set(without_hole) - set(tiles)
    assert any(row >= 2 ** level // 2 for level, row, _ in tiles)


def test_vector_polygon_gp_package_holds_existing_tiles_only(emulator, tmp_path):
    url = emulator.service_url("World_Vector", "VectorTileServer")
    sample = emulator.service("World_Vector/VectorTileServer").sample
    ring = [(-4.5e6, 5e6), (3e6, 7.5e6), (5e6, 2e6), (-3e6, -1e6)]  # Europe, Africa and some Atlantic
    polygon = {"rings": [[list(p) for p in [*ring, ring[0]]]], "spatialReference": {"wkid": 102100,
                                                                                    "latestWkid": 3857}}
    answer, statuses = export_gp(url, levels="0-4", exportBy="levelId", polygon=json.dumps(polygon),
                                 storageFormatType="Compact", tilePackage="false", optimizeTilesForSize="false",
                                 compressionQuality="", areaOfInterest="")
    assert statuses[-1]["jobStatus"] == "esriJobSucceeded", statuses[-1]
    path, tiles = _package(emulator, url, answer["jobId"], tmp_path)
    assert path.suffix == ".vtpk"
    expected = expected_tiles(sample, range(5), geometry_from_rings([[ring]]))
    touched = expected_tiles(sample, range(5), geometry_from_rings([[ring]]), only_existing=False)
    assert len(expected) > 15
    assert len(touched) > len(expected)  # the vector service has no tiles over (some of) the sea
    assert set(tiles) == set(expected)
    assert all(tiles[key] == data for key, data in expected.items())
    with zipfile.ZipFile(path) as zf:
        assert "p12/root.json" in zf.namelist()
        assert "p12/resources/styles/root.json" in zf.namelist()


def test_geographic_service_accepts_a_mercator_envelope(emulator, tmp_path):
    url = emulator.service_url("World_Geographic", "MapServer")
    sample = emulator.service("World_Geographic/MapServer").sample
    merc = (1.0e6, 4.0e6, 2.5e6, 6.0e6)
    answer, statuses = export_gp(url, tilePackage="true", storageFormatType="esriMapCacheStorageModeCompactV2",
                                 levels="2-3", exportExtent=envelope(*merc, wkid=3857))
    assert statuses[-1]["jobStatus"] == "esriJobSucceeded", statuses[-1]
    _, tiles = _package(emulator, url, answer["jobId"], tmp_path)
    geographic = transformed(geometry_from_box(*merc), "EPSG:3857", "EPSG:4326").boundingBox()
    expected = expected_tiles(sample, [2, 3], geometry_from_box(
        geographic.xMinimum(), geographic.yMinimum(), geographic.xMaximum(), geographic.yMaximum()))
    assert set(tiles) == set(expected) and expected


def test_export_by_scale_and_resolution_pick_the_same_levels(emulator):
    url = emulator.service_url("World_Map", "MapServer")
    lods = get_json(url)["tileInfo"]["lods"]
    by_level = {}
    for export_by, levels in [("LevelID", "1-2"),
                              ("Scale", f"{lods[1]['scale']}-{lods[2]['scale']}"),
                              ("RESOLUTION", f"{lods[2]['resolution']},{lods[1]['resolution']}")]:
        answer = submit(f"{url}/exportTiles", tilePackage="true", exportBy=export_by, levels=levels)
        assert "jobId" in answer, answer
        by_level[export_by] = emulator.job(answer["jobId"]).request.levels
    assert by_level == {"LevelID": [1, 2], "Scale": [1, 2], "RESOLUTION": [1, 2]}


@pytest.mark.parametrize(("params", "needle"), [
    ({"levels": "0-99"}, "is not a level of the service"),
    ({"levels": ""}, "levels"),
    ({"levels": "a-b"}, "Invalid levels"),
    ({"levels": "1", "exportBy": "zoom"}, "exportBy"),
    ({"levels": "1", "exportBy": "Scale"}, "scale"),
    ({"levels": "1", "exportExtent": envelope(0, 0, 1, 1, wkid=2263)}, "2263"),
    ({"levels": "1", "exportExtent": "1,2,3"}, "exportExtent"),
    ({"levels": "1", "exportExtent": "{not json"}, "JSON"),
    ({"levels": "1", "exportExtent": "5,5,1,1"}, "xmin > xmax"),
    ({"levels": "1", "areaOfInterest": '{"features": []}'}, "no features"),
    ({"levels": "1", "areaOfInterest": '{"features": [{"geometry": {"x": 1, "y": 2}}]}'}, "rings"),
    ({"levels": "1", "tilePackage": "maybe"}, "tilePackage"),
    ({"levels": "1", "storageFormatType": "Exploded"}, "storageFormatType"),
    ({"levels": "1", "optimizeTilesForSize": "true", "compressionQuality": "90"}, "75"),
    ({"levels": "1", "optimizeTilesForSize": "true", "compressionQuality": "101"}, "between 0 and 100"),
])
def test_bad_parameters_are_refused_up_front(emulator, params, needle):
    url = emulator.service_url("World_Imagery", "ImageServer")
    if "tilePackage" not in params:
        params = {"tilePackage": "true", **params}
    body = submit(f"{url}/exportTiles", **params)
    assert body["error"]["code"] == 400
    assert needle.lower() in json.dumps(body["error"]).lower(), body
    assert emulator.jobs == {}


def test_optimize_recompresses_jpeg_tiles(emulator, tmp_path):
    url = emulator.service_url("World_Imagery", "ImageServer")
    sample = emulator.service("World_Imagery/ImageServer").sample
    answer, statuses = export_gp(url, tilePackage="true", levels="2", optimizeTilesForSize="true",
                                 compressionQuality="30", storageFormatType="CompactV2")
    assert statuses[-1]["jobStatus"] == "esriJobSucceeded"
    job = emulator.job(answer["jobId"])
    assert job.request.optimize and job.request.quality == 30
    _, tiles = _package(emulator, url, answer["jobId"], tmp_path)
    originals = {(2, r, c): sample.get_tile(2, r, c) for r in range(4) for c in range(4)}
    assert set(tiles) == set(originals)
    assert all(data[:2] == b"\xff\xd8" for data in tiles.values())
    assert sum(map(len, tiles.values())) < sum(map(len, originals.values()))


def test_compact_v2_needs_version_10_7(emulator):
    url = emulator.service_url("World_Map", "MapServer")
    emulator.configure("World_Map/MapServer", version=10.6)
    body = submit(f"{url}/exportTiles", tilePackage="true", levels="1",
                  storageFormatType="esriMapCacheStorageModeCompactV2")
    assert body["error"]["code"] == 400 and "10.7" in json.dumps(body)
    _, statuses = export_gp(url, tilePackage="true", levels="1", storageFormatType="esriMapCacheStorageModeCompact")
    assert statuses[-1]["jobStatus"] == "esriJobSucceeded"


def test_disallowed_export_fails_up_front(emulator):
    emulator.configure("World_Map/MapServer", export_allowed=False)
    url = emulator.service_url("World_Map", "MapServer")
    body = submit(f"{url}/exportTiles", tilePackage="true", levels="1")
    assert body["error"]["code"] == 400 and "not allowed" in json.dumps(body)
    assert emulator.jobs == {}


def test_too_many_tiles_fail_the_job_with_error_001564(emulator):
    emulator.configure("World_Map/MapServer", max_export_tiles=20)
    url = emulator.service_url("World_Map", "MapServer")
    answer, statuses = export_gp(url, tilePackage="true", levels="0-2")  # 1 + 4 + 16 = 21 tiles
    final = statuses[-1]
    assert final["jobStatus"] == "esriJobFailed"
    text = " ".join(m["description"] for m in final["messages"])
    assert "ERROR 001564" in text and "(21)" in text and "(20)" in text
    job = emulator.job(answer["jobId"])
    assert job.package_path is None and job.tiles_written == []
    assert list(emulator.work_dir.glob(f"_ags_{job.id}*")) == []
    result = requests.get(f"{url}/jobs/{job.id}/results/out_service_url", params={"f": "json"},
                          timeout=TIMEOUT).json()
    assert result["error"]["code"] == 400
    # exactly at the limit is fine
    emulator.configure("World_Map/MapServer", max_export_tiles=21)
    _, statuses = export_gp(url, tilePackage="true", levels="0-2")
    assert statuses[-1]["jobStatus"] == "esriJobSucceeded"


@pytest.mark.parametrize("shape", ["url_dict", "file_url", "folder"])
def test_result_shapes(emulator, tmp_path, shape):
    emulator.configure("World_Map/MapServer", result_shape=shape)
    url = emulator.service_url("World_Map", "MapServer")
    answer, _ = export_gp(url, tilePackage="true", levels="0-1", storageFormatType="CompactV2")
    value = result_value(url, answer["jobId"])
    if shape == "url_dict":
        assert isinstance(value, dict) and value["url"].endswith("/World_Map.tpkx")
        file_url = value["url"]
    elif shape == "file_url":
        assert isinstance(value, str) and value.endswith("/World_Map.tpkx")
        file_url = value
    else:
        assert isinstance(value, str) and "/arcgisoutput/World_Map_MapServer/_ags_" in value
        listing = get_json(value)
        assert [f["name"] for f in listing["files"]] == ["World_Map.tpkx"]
        file_url = listing["files"][0]["url"]
        assert listing["files"][0]["size"] == emulator.job(answer["jobId"]).package_path.stat().st_size
        assert requests.get(value, timeout=TIMEOUT).headers["Content-Type"].startswith("text/html")
    tiles = read_package_tiles(download(file_url, tmp_path / "p.tpkx"))
    assert len(tiles) == 5


def test_legacy_job_urls_and_inputs(emulator):
    url = emulator.service_url("World_Map", "MapServer")
    answer = submit(f"{url}/exportTiles", tilePackage="true", levels="0", exportBy="LevelID")
    job_id = answer["jobId"]
    statuses = poll(f"{url}/exportTiles/jobs/{job_id}")
    assert statuses[-1]["jobStatus"] == "esriJobSucceeded"
    assert statuses[-1]["results"]["out_service_url"]["paramUrl"] == "results/out_service_url"
    legacy_result = get_json(f"{url}/exportTiles/jobs/{job_id}/results/out_service_url")
    assert legacy_result["value"] == result_value(url, job_id)
    levels = get_json(f"{url}/jobs/{job_id}/inputs/levels")
    assert levels == {"paramName": "levels", "dataType": "GPString", "value": "0"}
    other = get_json(f"{emulator.service_url('World_Imagery', 'ImageServer')}/jobs/{job_id}")
    assert other["error"]["code"] == 404  # a job belongs to its service
    assert get_json(f"{url}/jobs/jdeadbeef_et")["error"]["code"] == 404


def test_status_sequence_progress_and_messages(emulator):
    emulator.configure("World_Map/MapServer", job_steps=3)
    url = emulator.service_url("World_Map", "MapServer")
    answer = submit(f"{url}/exportTiles", tilePackage="true", levels="0-1")
    emulator.wait_for_job(answer['jobId'])  # exact sequence: the build is done first
    statuses = poll(f"{url}/jobs/{answer['jobId']}")
    assert [s["jobStatus"] for s in statuses] == ["esriJobSubmitted", "esriJobExecuting", "esriJobExecuting",
                                                  "esriJobSucceeded"]
    for status in statuses:
        assert ("progress" in status) == (status["jobStatus"] == "esriJobExecuting")
    progress = statuses[1]["progress"]
    assert set(progress) == {"type", "message", "percent"} and 0 <= progress["percent"] <= 100
    final_messages = [m["description"] for m in statuses[-1]["messages"]]
    assert final_messages[0] == "Submitted." and final_messages[-1].startswith("Succeeded at")


def test_gp_status_without_progress_like_servers_before_10_8_1(emulator):
    emulator.configure("World_Map/MapServer", job_steps=3, gp_progress=False)
    url = emulator.service_url("World_Map", "MapServer")
    answer = submit(f"{url}/exportTiles", tilePackage="true", levels="0-1")
    emulator.wait_for_job(answer['jobId'])
    statuses = poll(f"{url}/jobs/{answer['jobId']}")
    executing = [s for s in statuses if s["jobStatus"] == "esriJobExecuting"]
    assert len(executing) == 2 and all("progress" not in s for s in statuses)
    assert [m["description"] for m in executing[0]["messages"]][:2] == ["Submitted.", "Executing..."]


def test_submit_status_new_then_submitted(emulator):
    emulator.configure("World_Map/MapServer", job_steps=2, submit_status="esriJobNew")
    url = emulator.service_url("World_Map", "MapServer")
    answer = submit(f"{url}/exportTiles", tilePackage="true", levels="0")
    assert answer["jobStatus"] == "esriJobNew"
    emulator.wait_for_job(answer['jobId'])  # exact sequence: the build is done first
    statuses = [s["jobStatus"] for s in poll(f"{url}/jobs/{answer['jobId']}")]
    assert statuses == ["esriJobSubmitted", "esriJobExecuting", "esriJobSucceeded"]


def test_zero_steps_and_step_delay(emulator):
    url = emulator.service_url("World_Map", "MapServer")
    emulator.configure("World_Map/MapServer", job_steps=0)
    answer = submit(f"{url}/exportTiles", tilePackage="true", levels="0")
    emulator.wait_for_job(answer["jobId"])
    assert get_json(f"{url}/jobs/{answer['jobId']}")["jobStatus"] == "esriJobSucceeded"

    emulator.configure("World_Map/MapServer", job_steps=1, job_step_delay_s=0.4)
    answer = submit(f"{url}/exportTiles", tilePackage="true", levels="0")
    emulator.wait_for_job(answer["jobId"])
    job_url = f"{url}/jobs/{answer['jobId']}"
    quick = [get_json(job_url)["jobStatus"] for _ in range(3)]
    assert quick == ["esriJobSubmitted"] * 3  # polls faster than the delay take no step
    time.sleep(0.45)
    assert get_json(job_url)["jobStatus"] == "esriJobExecuting"
    time.sleep(0.45)
    assert get_json(job_url)["jobStatus"] == "esriJobSucceeded"


def test_query_and_form_parameters_are_merged(emulator):
    url = emulator.service_url("World_Map", "MapServer")
    response = requests.post(f"{url}/exportTiles", params={"f": "json", "levels": "1"},
                             data={"tilePackage": "true", "exportExtent": "DEFAULT"}, timeout=TIMEOUT)
    body = response.json()
    assert "jobId" in body, body
    assert emulator.job(body["jobId"]).request.levels == [1]


class _SlowSample:
    """Wraps a sample so that every tile takes a while (to cancel a job in the middle)."""

    def __init__(self, sample, delay: float):
        self._sample = sample
        self._delay = delay
        self.calls = 0
        self.lock = threading.Lock()

    def __getattr__(self, name):
        return getattr(self._sample, name)

    def get_tile(self, level, row, col):
        with self.lock:
            self.calls += 1
        time.sleep(self._delay)
        return self._sample.get_tile(level, row, col)


def test_cancel_stops_the_build(emulator, monkeypatch):
    entry = emulator.service("World_Map/MapServer")
    slow = _SlowSample(entry.sample, 0.02)
    monkeypatch.setattr(entry, "sample", slow)
    emulator.configure("World_Map/MapServer", job_steps=1000)
    url = emulator.service_url("World_Map", "MapServer")
    answer = submit(f"{url}/exportTiles", tilePackage="true", levels="0-4")  # 341 tiles, ~7 s
    job_url = f"{url}/jobs/{answer['jobId']}"
    deadline = time.time() + 10
    while slow.calls < 5 and time.time() < deadline:
        time.sleep(0.02)
    cancel = get_json(f"{job_url}/cancel")
    assert cancel == {"jobId": answer["jobId"], "jobStatus": "esriJobCancelling"}
    job = emulator.wait_for_job(answer["jobId"], timeout=5)
    assert job.outcome == "esriJobCancelled"
    calls = slow.calls
    assert calls < 341
    assert get_json(job_url)["jobStatus"] == "esriJobCancelled"
    time.sleep(0.1)
    assert slow.calls == calls  # nothing more is built
    assert list(emulator.work_dir.glob(f"_ags_{job.id}/*")) == []
    assert get_json(f"{job_url}/results/out_service_url")["error"]["code"] == 400


def test_cancel_of_a_finished_job_reports_its_status(emulator):
    url = emulator.service_url("World_Map", "MapServer")
    answer, statuses = export_gp(url, tilePackage="true", levels="0")
    assert get_json(f"{url}/jobs/{answer['jobId']}/cancel")["jobStatus"] == "esriJobSucceeded"


def test_estimate_job(emulator):
    url = emulator.service_url("World_Map", "MapServer")
    sample = emulator.service("World_Map/MapServer").sample
    box = (-3e6, -1e6, 2e6, 4e6)
    answer = submit(f"{url}/estimateExportTilesSize", tilePackage="true", levels="1-2",
                    exportExtent=",".join(map(str, box)))
    assert answer["jobId"].endswith("_et")
    statuses = poll(f"{url}/estimateExportTilesSize/jobs/{answer['jobId']}")
    assert statuses[-1]["jobStatus"] == "esriJobSucceeded"
    value = result_value(url, answer["jobId"])
    expected = expected_tiles(sample, [1, 2], geometry_from_box(*box))
    assert value["totalTilesToExport"] == len(expected)
    assert value["totalSize"] == sum(len(d) for d in expected.values())  # small: every tile measured


def test_estimate_has_no_limit_and_counts_big_areas(emulator):
    emulator.configure("World_Imagery/ImageServer", max_export_tiles=10)
    url = emulator.service_url("World_Imagery", "ImageServer")
    answer = submit(f"{url}/estimateExportTilesSize", levels="0-9", exportExtent="DEFAULT")
    statuses = poll(f"{url}/jobs/{answer['jobId']}")
    assert statuses[-1]["jobStatus"] == "esriJobSucceeded"
    value = result_value(url, answer["jobId"])
    assert value["totalTilesToExport"] == sum(4 ** z for z in range(10))
    assert value["totalSize"] > 0


# ---------------------------------------------------------------------------------------------- Online

def test_online_protocol_end_to_end(emulator, tmp_path):
    url = emulator.online_service_url
    sample = emulator.service("World_Basemap_Export_v2/VectorTileServer").sample
    box = (-1.5e6, 4.0e6, 2.5e6, 7.0e6)
    answer = submit(f"{url}/exportTiles", method="GET", levels="1-3",
                    extent=envelope(*box, wkid=102100), exportBy="levelId")
    assert answer["status"] == "success" and answer["type"] == "Vector Tile Service"
    assert answer["name"] == "World_Basemap_Export_v2" and answer["url"] is None
    assert len(answer["jobId"]) == 16 and answer["id"] == answer["jobId"]
    emulator.wait_for_job(answer['jobId'])  # exact sequence: the build is done first
    statuses = poll(f"{url}/jobs/{answer['jobId']}")
    final = statuses[-1]
    assert [s["jobStatus"] for s in statuses] == ["esriJobSubmitted", "esriJobExecuting", "esriJobSucceeded"]
    expected = expected_tiles(sample, [1, 2, 3], geometry_from_box(*box))
    assert len(expected) > 6
    for key in ("numTasks", "numDoneTasks", "estimatedNumTiles", "levelStats", "extent", "startTime", "lastTime"):
        assert key in final
    assert final["numDoneTasks"] == final["numTasks"] == 1
    assert [s["level"] for s in final["levelStats"]] == [1, 2, 3]
    assert final["numTiles"] == len(expected)
    assert statuses[0]["output"]["outputUrl"] == []
    output_urls = final["output"]["outputUrl"]
    assert len(output_urls) == 1 and "/s3/export/" in output_urls[0] and "X-Amz-Signature=" in output_urls[0]
    response = requests.get(output_urls[0], timeout=TIMEOUT)
    assert response.status_code == 200
    (tmp_path / "x.vtpk").write_bytes(response.content)
    tiles = read_package_tiles(tmp_path / "x.vtpk")
    assert set(tiles) == set(expected)
    # the same URL on every later poll
    assert get_json(f"{url}/jobs/{answer['jobId']}")["output"]["outputUrl"] == output_urls


def test_online_service_honours_extent_and_ignores_export_extent(emulator):
    url = emulator.online_service_url
    doc = get_json(url)
    # ArcGIS Online's hosting fields (as in a real hosted tile layer's description); ArcGIS Server has none
    assert doc["server"] and doc["access"] == "PUBLIC" and doc["status"] == "created" and doc["serviceItemId"]
    enterprise_url = emulator.service_url("World_Vector", "VectorTileServer")
    assert not {"server", "access", "status"} & set(get_json(enterprise_url))
    box = envelope(-1.5e6, 4.0e6, 2.5e6, 7.0e6, wkid=102100)  # 2 tiles at level 2 (4 x 4 world tiles)

    def tiles(service_url, **params):
        answer = submit(f"{service_url}/exportTiles", levels="2", **params)
        final = poll(f"{service_url}/jobs/{answer['jobId']}")[-1]
        assert final["jobStatus"] == "esriJobSucceeded"
        return emulator.job(answer["jobId"]).total_tiles

    assert tiles(url, extent=box) == 2
    assert tiles(url, exportExtent=box) == tiles(url) == 16  # ignored: the whole service extent
    assert tiles(enterprise_url, exportExtent=box) == 2
    assert tiles(enterprise_url, extent=box) == 16  # ArcGIS Server does not know ``extent``


def test_online_result_split_into_several_files(emulator, tmp_path):
    emulator.configure("World_Basemap_Export_v2/VectorTileServer", output_urls=3)
    url = emulator.online_service_url
    sample = emulator.service("World_Basemap_Export_v2/VectorTileServer").sample
    box = (-1.5e6, 4.0e6, 2.5e6, 7.0e6)
    answer = submit(f"{url}/exportTiles", levels="1-4", extent=envelope(*box, wkid=102100))
    final = poll(f"{url}/jobs/{answer['jobId']}")[-1]
    urls = final["output"]["outputUrl"]
    assert len(set(urls)) == 3 and all("X-Amz-Signature=" in u for u in urls)
    seen: dict = {}
    levels = []
    for number, file_url in enumerate(urls):
        response = requests.get(file_url, timeout=TIMEOUT)
        assert response.status_code == 200
        (tmp_path / f"{number}.vtpk").write_bytes(response.content)
        tiles = read_package_tiles(tmp_path / f"{number}.vtpk")
        assert not set(tiles) & set(seen)
        seen.update(tiles)
        levels.append(sorted({level for level, _, _ in tiles}))
    assert levels == [[1, 2], [3], [4]]  # split by level
    assert set(seen) == set(expected_tiles(sample, [1, 2, 3, 4], geometry_from_box(*box)))


def test_online_style_statuses_and_failure(emulator):
    emulator.configure("World_Basemap_Export_v2/VectorTileServer", online_status_style="stats",
                       max_export_tiles=3)
    url = emulator.online_service_url
    ok = submit(f"{url}/exportTiles", levels="0")
    emulator.wait_for_job(ok['jobId'])  # exact sequence: the build is done first
    statuses = poll(f"{url}/jobs/{ok['jobId']}", key="status", done=("DONE", "FAILED", "CANCELED"))
    assert [s["status"] for s in statuses] == ["SUBMITTED", "INPROGRESS", "DONE"]
    assert "jobStatus" not in statuses[-1] and statuses[-1]["output"]["outputUrl"]
    too_big = submit(f"{url}/exportTiles", levels="0-1")
    final = poll(f"{url}/jobs/{too_big['jobId']}", key="status", done=("DONE", "FAILED"))[-1]
    assert final["status"] == "FAILED" and "ERROR 001564" in final["message"]
    assert final["numErrorTasks"] == 1 and final["output"]["outputUrl"] == []


def test_gp_service_can_use_the_online_protocol(emulator):
    emulator.configure("World_Vector/VectorTileServer", job_protocol="online")
    url = emulator.service_url("World_Vector", "VectorTileServer")
    answer = submit(f"{url}/exportTiles", levels="0")
    assert answer["status"] == "success" and len(answer["jobId"]) == 16
    assert poll(f"{url}/jobs/{answer['jobId']}")[-1]["jobStatus"] == "esriJobSucceeded"
    body = get_json(f"{url}/jobs/{answer['jobId']}/results/out_service_url")
    assert body["error"]["code"] == 404  # Online jobs have no GP results


def test_max_concurrent_jobs_counts_jobs_from_submit_to_their_reported_end(emulator):
    url = emulator.service_url("World_Map", "MapServer")
    first = submit(f"{url}/exportTiles", tilePackage="true", levels="0")
    second = submit(f"{url}/exportTiles", tilePackage="true", levels="0")
    assert emulator.max_concurrent_jobs() == 2  # neither end was shown yet
    for answer in (first, second):
        poll(f"{url}/jobs/{answer['jobId']}")
    export_gp(url, tilePackage="true", levels="0")  # after both: never a third at once
    assert emulator.max_concurrent_jobs() == 2


def test_admin_jobs_listing(emulator):
    url = emulator.service_url("World_Map", "MapServer")
    answer, _ = export_gp(url, tilePackage="true", levels="0")
    jobs = requests.get(f"{emulator.root_url}/emulator/jobs", timeout=TIMEOUT).json()["jobs"]
    assert [j["id"] for j in jobs] == [answer["jobId"]]
    assert jobs[0]["outcome"] == "esriJobSucceeded" and jobs[0]["tiles_written"] == 1
