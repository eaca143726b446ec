"""Export end to end against the emulator: fetch, validate, parameters, run, split, faults, resume."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from werkzeug.wrappers import Response

from plugin.core.area import Area
from plugin.core.download import part_path
from plugin.core.errors import (
    CancelledError,
    ExportNotAllowedError,
    InvalidRequestError,
    JobCancelledError,
    JobFailedError,
    JobTimedOutError,
    JobTimedOutOnServerError,
    NotTiledServiceError,
    PackageError,
    ServiceError,
    ServiceNotFoundError,
    TooManyTilesError,
)
from plugin.core.export import Exporter, build_export_params, package_format
from plugin.core.exportstore import CANCELLED, DONE, DOWNLOADING, FAILED, PAUSED, TIMED_OUT, ExportStore
from plugin.core.http import CancelToken
from plugin.core.jobs import PollPolicy
from plugin.core.service import ServiceKind
from tests.emulator.server_helpers import read_package_tiles

SMALL = Area.from_extent(-2e6, -2e6, 2e6, 2e6)
TRIANGLE = Area.from_rings([[(-3e6, -2e6), (0, 3e6), (3.5e6, -1.5e6)]])


@pytest.fixture
def exporter(fast_session, fake_clock, tmp_path):
    return Exporter(fast_session, store=ExportStore(tmp_path / "jobs"), poll=PollPolicy(timeout=3600), clock=fake_clock)


def fetch(exporter, emu, name, kind, folder=None):
    return exporter.fetch(emu.service_url(name, kind, folder=folder))


# --- fetching ------------------------------------------------------------------------------------
def test_fetch_every_emulator_service(emu, exporter):
    for name, kind, expected in (("World_Vector", "VectorTileServer", ServiceKind.VECTOR),
                                 ("World_Map", "MapServer", ServiceKind.MAP),
                                 ("World_Imagery", "ImageServer", ServiceKind.IMAGE),
                                 ("World_Geographic", "MapServer", ServiceKind.MAP)):
        info = fetch(exporter, emu, name, kind)
        assert info.kind is expected and info.export_allowed and info.tiling.levels


def test_fetch_rejects_missing_html_and_feature_services(emu, exporter, fake_server):
    with pytest.raises(ServiceNotFoundError):
        exporter.fetch(emu.service_url("Nope", "MapServer"))
    with pytest.raises(NotTiledServiceError):
        exporter.fetch("https://gis.example.com/arcgis/rest/services/Parcels/FeatureServer/0")
    fake_server.route("/arcgis/rest/services/Web/MapServer",
                      Response("<html><body>Portal sign in</body></html>", mimetype="text/html"))
    with pytest.raises(ServiceError) as info:
        exporter.fetch(fake_server.url("/arcgis/rest/services/Web/MapServer"))
    assert "web page" in str(info.value)


def test_fetch_resolves_portal_item_pages(emu, exporter, fake_server):
    item_id = "a" * 32
    fake_server.route(f"/portal/sharing/rest/content/items/{item_id}",
                      {"id": item_id, "type": "Map Service", "url": emu.service_url("World_Map", "MapServer")})
    info = exporter.fetch(fake_server.url(f"/portal/home/item.html?id={item_id}"))
    assert info.kind is ServiceKind.MAP and info.url == emu.service_url("World_Map", "MapServer")
    fake_server.route(f"/portal/sharing/rest/content/items/{'b' * 32}",
                      {"id": "b" * 32, "type": "Feature Service", "url": "https://x/FeatureServer"})
    with pytest.raises(NotTiledServiceError):
        exporter.fetch(fake_server.url(f"/portal/home/item.html?id={'b' * 32}"))


# --- parameters ----------------------------------------------------------------------------------
def test_parameters_per_service_type(emu, exporter):
    vector = fetch(exporter, emu, "World_Vector", "VectorTileServer")
    p = build_export_params(vector, SMALL, [0, 1, 2, 5], fmt="vtpk")
    assert p["levels"] == "0-2,5" and p["exportBy"] == "LevelID"
    assert json.loads(p["exportExtent"])["spatialReference"]["wkid"] == 102100
    assert "polygon" not in p and "tilePackage" not in p and "storageFormatType" not in p
    p = build_export_params(vector, TRIANGLE, [3], fmt="vtpk")
    assert json.loads(p["polygon"])["rings"] and "extent" not in p
    online = fetch(exporter, emu, "World_Basemap_Export_v2", "VectorTileServer")
    p = build_export_params(online, SMALL, [1], fmt="vtpk")
    assert p["extent"] == p["exportExtent"]  # Online's documented name, and the Enterprise one

    map_info = fetch(exporter, emu, "World_Map", "MapServer")
    p = build_export_params(map_info, TRIANGLE, [3], fmt=package_format(map_info))
    assert p["tilePackage"] == "true" and p["storageFormatType"] == "esriMapCacheStorageModeCompactV2"
    aoi = json.loads(p["areaOfInterest"])
    assert aoi["features"][0]["geometry"]["rings"] and "polygon" not in p
    assert package_format(map_info, "tpk") == "tpk"
    old = type(map_info)(**{**map_info.__dict__, "version": 10.61, "supports_tpkx": False})
    assert package_format(old) == "tpk"
    assert build_export_params(old, SMALL, [1], fmt="tpk")["storageFormatType"] == "esriMapCacheStorageModeCompact"


def test_optimize_only_for_jpeg_and_never_above_the_cache_quality(emu, exporter):
    imagery = fetch(exporter, emu, "World_Imagery", "ImageServer")
    own = imagery.tiling.compression_quality
    warnings: list[str] = []
    p = build_export_params(imagery, SMALL, [1], fmt="tpkx", optimize=True, quality=own + 10, warnings=warnings)
    assert p["optimizeTilesForSize"] == "true" and p["compressionQuality"] == str(own)
    assert warnings and "quality" in warnings[0]
    png = fetch(exporter, emu, "World_Map", "MapServer")
    assert png.tile_format == "PNG32"
    warnings = []
    p = build_export_params(png, SMALL, [1], fmt="tpkx", optimize=True, quality=50, warnings=warnings)
    assert p["optimizeTilesForSize"] == "false" and "compressionQuality" not in p
    assert warnings == ["The tiles are PNG32: optimising for size only applies to JPEG tiles and is skipped."]


# --- validation ----------------------------------------------------------------------------------
def test_validation_before_sending(emu, exporter):
    info = fetch(exporter, emu, "World_Map", "MapServer")
    emu.clear_requests()
    with pytest.raises(InvalidRequestError) as e:
        exporter.prepare(info, SMALL, [0, 99])
    assert "99" in str(e.value)
    narrowed = type(info)(**{**info.__dict__, "min_lod": 2, "max_lod": 5})
    with pytest.raises(InvalidRequestError) as e:
        exporter.prepare(narrowed, SMALL, [0, 1, 2])
    assert "not cached" in str(e.value)
    with pytest.raises(InvalidRequestError) as e:
        exporter.prepare(info, Area.from_extent(3e7, 3e7, 3.1e7, 3.1e7), [1])
    assert "outside" in str(e.value)
    with pytest.raises(InvalidRequestError):
        exporter.prepare(info, SMALL, [])
    with pytest.raises(InvalidRequestError):
        Area.from_rings([[(0, 0), (1, 1), (2, 2)]])
    bow_tie = Area.from_rings([[(-2e6, -2e6), (2e6, 2e6), (2e6, -2e6), (-2e6, 2e6)]])
    with pytest.raises(InvalidRequestError) as e:
        exporter.prepare(info, bow_tie, [1])
    assert "crosses itself" in str(e.value) and "Fix geometries" in str(e.value)
    assert "(0, 0)" in e.value.details  # where, for the log
    limited = type(info)(**{**info.__dict__, "max_export_tiles": 10})
    with pytest.raises(TooManyTilesError) as e:
        exporter.prepare(limited, SMALL, range(6), split=False)
    assert "10" in str(e.value)
    assert emu.requests == []  # nothing was sent


def test_a_real_10000_vertex_country_validates(emu, exporter):
    from bench import bench_tilecount as bench

    if not bench.GPKG.is_file():
        pytest.skip(f"{bench.GPKG} (QGIS' world map) is not installed")
    rings = bench.to_web_mercator(bench.resample(bench.read_country(bench.COUNTRY), bench.TARGET_VERTICES))
    area = Area.from_rings(rings)
    info = fetch(exporter, emu, "World_Map", "MapServer")
    plan = exporter.prepare(info, area, [3, 4, 5])
    assert area.vertex_count >= 10_000 and plan.requested_tiles > 0


def test_export_not_allowed(emu, exporter):
    emu.configure("World_Map/MapServer", export_allowed=False)
    info = fetch(exporter, emu, "World_Map", "MapServer")
    with pytest.raises(ExportNotAllowedError):
        exporter.prepare(info, SMALL, [1])


# --- running -------------------------------------------------------------------------------------
@pytest.mark.parametrize(("name", "kind", "suffix"), [
    ("World_Map", "MapServer", ".tpkx"),
    ("World_Vector", "VectorTileServer", ".vtpk"),
    ("World_Imagery", "ImageServer", ".tpkx"),
    ("World_Basemap_Export_v2", "VectorTileServer", ".vtpk"),
])
def test_run_single_export(emu, exporter, tmp_path, name, kind, suffix):
    info = fetch(exporter, emu, name, kind)
    plan = exporter.prepare(info, TRIANGLE, range(4))
    assert plan.part_count == 1
    progress = []
    result = exporter.run(plan, tmp_path / "out" / "basemap.tpkx", progress=progress.append)
    assert [p.suffix for p in result.paths] == [suffix]
    assert result.paths[0].name == f"basemap{suffix}"
    assert read_package_tiles(result.paths[0])
    fractions = [p.fraction for p in progress if p.fraction is not None]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    assert all(p.message for p in progress)
    assert result.records[0].state == DONE and exporter.store.load(result.records[0].id).state == DONE
    submit = emu.requests_to("/exportTiles", method="POST")
    assert submit, "polygon exports are POSTed"


def test_online_vector_export_sends_extent_and_the_package_covers_the_area(emu, exporter, tmp_path):
    online = fetch(exporter, emu, "World_Basemap_Export_v2", "VectorTileServer")
    enterprise = fetch(exporter, emu, "World_Vector", "VectorTileServer")  # the same tiles, ArcGIS Server style
    assert online.is_online and not enterprise.is_online  # told by the description: both are on 127.0.0.1
    levels = range(5)
    result = exporter.run(exporter.prepare(online, SMALL, levels), tmp_path / "online.vtpk")
    (submit,) = emu.requests_to("/exportTiles")
    assert json.loads(submit.params["extent"])["xmin"] == SMALL.bbox[0]
    reference = exporter.run(exporter.prepare(enterprise, SMALL, levels), tmp_path / "enterprise.vtpk")
    tiles = set(read_package_tiles(result.paths[0]))
    assert tiles and tiles == set(read_package_tiles(reference.paths[0]))  # the area, not the whole world


def test_online_result_in_several_files_all_arrive(emu, exporter, tmp_path):
    info = fetch(exporter, emu, "World_Basemap_Export_v2", "VectorTileServer")
    single = exporter.run(exporter.prepare(info, SMALL, range(4)), tmp_path / "one" / "basemap.vtpk")
    emu.configure("World_Basemap_Export_v2/VectorTileServer", output_urls=3)
    result = exporter.run(exporter.prepare(info, SMALL, range(4)), tmp_path / "three" / "basemap.vtpk")
    assert [p.name for p in result.paths] == ["basemap_1.vtpk", "basemap_2.vtpk", "basemap_3.vtpk"]
    parts = [set(read_package_tiles(p)) for p in result.paths]
    assert all(parts) and sum(len(t) for t in parts) == len(set().union(*parts))  # each tile once
    assert set().union(*parts) == set(read_package_tiles(single.paths[0]))
    (record,) = result.records
    assert len(record.result_urls) == 3 and record.output_paths == [str(p) for p in result.paths]
    assert record.state == DONE and exporter.store.load(record.id).output_paths == record.output_paths


def test_split_export_covers_exactly_what_one_export_would(emu, exporter, tmp_path):
    info = fetch(exporter, emu, "World_Map", "MapServer")
    levels = range(7)
    whole = exporter.run(exporter.prepare(info, TRIANGLE, levels), tmp_path / "whole.tpkx")
    expected = set(read_package_tiles(whole.paths[0]))
    limit = 40
    emu.configure("World_Map/MapServer", max_export_tiles=limit)
    info = fetch(exporter, emu, "World_Map", "MapServer")
    plan = exporter.prepare(info, TRIANGLE, levels)
    assert plan.part_count > 2 and all(r.tiles <= limit for r in plan.requests)
    assert plan.duplicate_tiles == 0 and "part 1" in plan.describe()
    result = exporter.run(plan, tmp_path / "split.tpkx")
    assert result.part_count == plan.part_count == len(result.paths)
    assert result.paths[0].name == f"split_part01of{plan.part_count:02d}.tpkx"
    seen: list = []
    for path in result.paths:
        seen += list(read_package_tiles(path))
    assert len(seen) == len(set(seen))  # no tile twice
    assert set(seen) == expected
    assert all(r.state == DONE for r in result.records)


@pytest.mark.parametrize("parallel", [3, 1])
def test_split_export_runs_at_most_max_parallel_jobs_at_once(emu, fast_session, fake_clock, tmp_path, parallel):
    # each job needs 9 polls before its end shows: jobs started together are under way together
    emu.configure("World_Vector/VectorTileServer", max_export_tiles=8, job_steps=8)
    exporter = Exporter(fast_session, poll=PollPolicy(timeout=3600), clock=fake_clock, max_parallel=parallel)
    info = exporter.fetch(emu.service_url("World_Vector", "VectorTileServer"))
    plan = exporter.prepare(info, SMALL, range(6))
    assert plan.part_count > 3
    result = exporter.run(plan, tmp_path / "v.vtpk")
    assert len(result.paths) == plan.part_count and all(read_package_tiles(p) for p in result.paths)
    assert len(emu.jobs) == plan.part_count
    assert emu.max_concurrent_jobs() == parallel  # the bound, reached and never passed


def test_server_counting_more_tiles_than_us_triggers_a_resplit(emu, exporter, tmp_path):
    info = fetch(exporter, emu, "World_Map", "MapServer")
    optimistic = type(info)(**{**info.__dict__, "max_export_tiles": 1000})
    emu.configure("World_Map/MapServer", max_export_tiles=30)
    plan = exporter.prepare(optimistic, SMALL, range(7))
    assert plan.part_count == 1 and plan.total_tiles > 30
    result = exporter.run(plan, tmp_path / "r.tpkx")
    assert len(result.paths) > 1
    assert result.records[0].state == DONE and "split" in result.records[0].error


def test_estimate(emu, exporter):
    info = fetch(exporter, emu, "World_Imagery", "ImageServer")
    estimate = exporter.estimate(info, SMALL, range(4))
    assert estimate.total_tiles == sum(exporter.prepare(info, SMALL, range(4)).counts.values())
    assert estimate.total_bytes > 0
    with pytest.raises(InvalidRequestError):
        exporter.estimate(fetch(exporter, emu, "World_Vector", "VectorTileServer"), SMALL, [1])


# --- faults: each ends in the right outcome with nothing lost --------------------------------------
def _run(exporter, emu, tmp_path, name="World_Map", kind="MapServer", area=SMALL, levels=(0, 1, 2, 3), **kw):
    info = fetch(exporter, emu, name, kind)
    plan = exporter.prepare(info, area, levels)
    return plan, exporter.run(plan, tmp_path / "f.tpkx", **kw)


@pytest.mark.parametrize("fault", [
    {"kind": "http_error", "status": 503, "count": 3},
    {"kind": "http_error", "status": 429, "count": 2, "retry_after": 2},
    {"kind": "http_error", "status": 502, "count": 2},
    {"kind": "http_error", "status": 504, "count": 2},
    {"kind": "slow", "delay": 0.3, "count": 2},
    {"kind": "invalid_json", "count": 2, "path": "/jobs/"},
    {"kind": "json_error", "code": 503, "count": 2},
])
def test_transient_faults_are_survived(emu, exporter, tmp_path, fault):
    emu.inject(**fault)
    _, result = _run(exporter, emu, tmp_path)
    assert result.paths[0].exists() and result.records[0].state == DONE


def test_response_slower_than_the_read_timeout_is_retried(emu, fake_clock, tmp_path):
    from plugin.core.http import HttpConfig, create_session

    session = create_session(HttpConfig(read_timeout=0.3, retries=2), clock=fake_clock)
    exporter = Exporter(session, poll=PollPolicy(timeout=3600), clock=fake_clock)
    emu.inject("slow", delay=1.0, count=1, path="/jobs/")
    _, result = _run(exporter, emu, tmp_path)
    assert result.paths[0].exists()
    assert any(s > 0 for s in fake_clock.sleeps)


def test_dropped_download_is_resumed_with_range(emu, exporter, tmp_path):
    emu.inject("drop_download", after_bytes=3000, count=2)
    _, result = _run(exporter, emu, tmp_path)
    assert read_package_tiles(result.paths[0])
    ranges = [r.header("Range") for r in emu.requests_to("arcgisoutput") if r.header("Range")]
    assert ranges and ranges[0] == "bytes=3000-"


def test_changed_file_during_resume_restarts(emu, exporter, tmp_path):
    emu.inject("drop_download", after_bytes=3000, count=1)
    emu.inject("etag_change", count=2)
    _, result = _run(exporter, emu, tmp_path)
    assert read_package_tiles(result.paths[0])


@pytest.mark.parametrize("kind", ["truncate_package", "corrupt_package"])
def test_damaged_package_is_detected_and_nothing_is_lost(emu, exporter, tmp_path, kind):
    emu.inject(kind)
    info = fetch(exporter, emu, "World_Map", "MapServer")
    plan = exporter.prepare(info, SMALL, range(5))
    with pytest.raises(PackageError):
        exporter.run(plan, tmp_path / "d.tpkx")
    assert not (tmp_path / "d.tpkx").exists() and not part_path(tmp_path / "d.tpkx").exists()
    (record,) = exporter.store.records()
    assert record.state == DOWNLOADING and record.job_id and record.result_urls and record.error
    assert record.params == plan.requests[0].params and record.area and record.levels == list(range(5))
    # resuming downloads the damaged package again, sees it is damaged and exports it again
    result = exporter.resume(record)
    assert read_package_tiles(result.paths[0]) and result.records[0].job_id != record.job
    assert len([r for r in emu.requests if r.path.endswith("/exportTiles")]) == 2


@pytest.mark.parametrize(("fault", "error", "message"), [
    ("job_fail", JobFailedError, "999999"),
    ("job_timeout", JobTimedOutOnServerError, "The job timed out"),  # the server's own messages
    ("job_cancel", JobCancelledError, "cancelled by the server administrator"),
])
def test_jobs_the_server_ends_keep_the_record_and_resume_submits_again(emu, exporter, tmp_path, fault, error,
                                                                         message):
    emu.inject(fault)
    with pytest.raises(error) as info:
        _run(exporter, emu, tmp_path)
    assert message in str(info.value)
    (record,) = exporter.store.records()
    assert record.state == FAILED and record.job_id and message in record.error
    # the server job is over: resuming submits the same request again and finishes
    result = exporter.resume(exporter.store.load(record.id))
    assert read_package_tiles(result.paths[0]) and result.records[0].job_id != record.job_id
    assert len([r for r in emu.requests if r.path.endswith("/exportTiles")]) == 2


def test_too_many_tiles_without_splitting_is_typed(emu, fast_session, fake_clock, tmp_path):
    emu.configure("World_Map/MapServer", max_export_tiles=5)
    exporter = Exporter(fast_session, poll=PollPolicy(timeout=3600), clock=fake_clock, resplit=False)
    info = exporter.fetch(emu.service_url("World_Map", "MapServer"))
    optimistic = type(info)(**{**info.__dict__, "max_export_tiles": 1000})
    with pytest.raises(TooManyTilesError) as e:
        exporter.run(exporter.prepare(optimistic, SMALL, range(4)), tmp_path / "x.tpkx")
    assert e.value.params["limit"] == 5


def test_token_expiring_mid_export(emu, fake_clock, tmp_path):
    from plugin.core.auth import PasswordAuth
    from plugin.core.http import HttpConfig, create_session

    session = create_session(HttpConfig(retries=1), auth=PasswordAuth("analyst", "field-work-2026"), clock=fake_clock)
    exporter = Exporter(session, poll=PollPolicy(timeout=3600), clock=fake_clock)
    emu.configure("Secured/World_Map/MapServer", job_steps=4)
    info = exporter.fetch(emu.service_url("World_Map", "MapServer", folder="Secured"))
    fake_clock.on_sleep = lambda s: emu.expire_tokens() if len(fake_clock.sleeps) == 2 else None
    result = exporter.run(exporter.prepare(info, SMALL, range(3)), tmp_path / "s.tpkx")
    assert read_package_tiles(result.paths[0])
    assert len(emu.requests_to("generateToken")) == 2


# --- cancel, pause, timeout and resume ------------------------------------------------------------
def test_cancel_while_the_server_works_cancels_the_server_job(emu, exporter, fake_clock, tmp_path):
    emu.configure("World_Map/MapServer", job_steps=50)
    cancel = CancelToken()
    fake_clock.on_sleep = lambda s: cancel.cancel() if len(fake_clock.sleeps) == 2 else None
    with pytest.raises(CancelledError):
        _run(exporter, emu, tmp_path, cancel=cancel)
    (record,) = exporter.store.records()
    assert record.state == CANCELLED and record.job_id
    assert emu.job(record.job_id).status in ("esriJobCancelling", "esriJobCancelled")
    assert emu.requests_to("/cancel")


def test_pause_keeps_the_server_job_and_resume_finishes(emu, exporter, fake_clock, tmp_path):
    emu.configure("World_Map/MapServer", job_steps=4)
    cancel = CancelToken()
    fake_clock.on_sleep = lambda s: cancel.pause() if len(fake_clock.sleeps) == 2 else None
    with pytest.raises(CancelledError):
        _run(exporter, emu, tmp_path, cancel=cancel)
    assert not emu.requests_to("/cancel")
    (record,) = exporter.store.records()
    assert record.state == PAUSED and record.job_id
    fake_clock.on_sleep = None
    job_id = record.job_id
    result = exporter.resume(exporter.store.load(record.id))
    assert result.paths[0].exists() and result.records[0].job_id == job_id  # same server job
    assert len([r for r in emu.requests if r.path.endswith("/exportTiles")]) == 1  # not resubmitted


def test_cancelled_download_resumes_from_the_part(emu, exporter, tmp_path):
    exporter.chunk_size = 1024
    info = fetch(exporter, emu, "World_Map", "MapServer")
    plan = exporter.prepare(info, SMALL, range(6))
    cancel = CancelToken()

    def progress(p):
        if p.stage == "download" and p.bytes_done > 0:
            cancel.cancel()

    with pytest.raises(CancelledError):
        exporter.run(plan, tmp_path / "c.tpkx", progress=progress, cancel=cancel)
    (record,) = exporter.store.records()
    assert record.state == PAUSED and record.downloads
    done = record.downloads[0]["bytes_done"]
    assert part_path(tmp_path / "c.tpkx").exists() and done > 0
    emu.clear_requests()
    result = exporter.resume(exporter.store.load(record.id))
    assert read_package_tiles(result.paths[0])
    downloads = emu.requests_to("arcgisoutput")
    assert downloads and not emu.requests_to("/exportTiles")
    assert done < Path(result.paths[0]).stat().st_size
    assert downloads[0].header("Range") == f"bytes={done}-"


def test_timeout_keeps_the_job_and_resume_polls_it_again(emu, fast_session, fake_clock, tmp_path):
    emu.configure("World_Map/MapServer", job_steps=6)
    store = ExportStore(tmp_path / "jobs")
    exporter = Exporter(fast_session, store=store, poll=PollPolicy(timeout=3), clock=fake_clock)
    with pytest.raises(JobTimedOutError):
        _run(exporter, emu, tmp_path)
    (record,) = store.records()
    assert record.state == TIMED_OUT and record.job_id
    patient = Exporter(fast_session, store=store, poll=PollPolicy(timeout=3600), clock=fake_clock)
    result = patient.resume(record)
    assert result.paths[0].exists() and result.records[0].job_id == record.job_id
    assert len(emu.requests_to("/exportTiles")) == 1


def test_resume_resubmits_when_the_server_forgot_the_job(emu, fast_session, fake_clock, tmp_path, caplog):
    emu.configure("World_Map/MapServer", job_steps=6)
    store = ExportStore(tmp_path / "jobs")
    with pytest.raises(JobTimedOutError):
        _run(Exporter(fast_session, store=store, poll=PollPolicy(timeout=3), clock=fake_clock), emu, tmp_path)
    (record,) = store.records()
    old_job = record.job_id
    emu.reset()  # the server restarted: its jobs are gone
    result = Exporter(fast_session, store=store, poll=PollPolicy(timeout=3600), clock=fake_clock).resume(record)
    assert result.paths[0].exists()
    assert result.records[0].job_id != old_job
    assert "no longer knows" in caplog.text


def test_resume_of_a_done_record_returns_its_files(emu, exporter, tmp_path):
    _, result = _run(exporter, emu, tmp_path)
    again = exporter.resume(result.records[0])
    assert again.paths == result.paths


def test_exporter_cancel_discards_partial_work(emu, exporter, tmp_path):
    info = fetch(exporter, emu, "World_Map", "MapServer")
    cancel = CancelToken()
    with pytest.raises(CancelledError):
        exporter.run(exporter.prepare(info, SMALL, range(6)), tmp_path / "z.tpkx", cancel=cancel,
                     progress=lambda p: cancel.pause() if p.bytes_done else None)
    (record,) = exporter.store.records()
    exporter.cancel(record)
    assert not part_path(tmp_path / "z.tpkx").exists()
    assert exporter.store.load(record.id).state == CANCELLED


def test_html_error_page_from_a_proxy_on_submit_is_retried(emu, exporter, tmp_path):
    emu.inject("invalid_json", count=1, path="/exportTiles")
    _, result = _run(exporter, emu, tmp_path)
    assert result.paths[0].exists()


def test_export_enabled_twin_is_used_on_request(emu, exporter, monkeypatch):
    emu.configure("World_Imagery/ImageServer", export_allowed=False)
    twin = emu.service_url("World_Map", "MapServer")
    monkeypatch.setattr("plugin.core.client.export_enabled_twin", lambda url: twin)
    url = emu.service_url("World_Imagery", "ImageServer")
    assert not exporter.fetch(url).export_allowed
    info = exporter.fetch(url, use_export_twin=True)
    assert info.url == twin and info.export_allowed


def test_errors_sent_with_real_http_statuses(emu, exporter, fake_clock, tmp_path):
    from plugin.core import jobs as jobs_mod
    from plugin.core.auth import PasswordAuth
    from plugin.core.errors import JobNotFoundError
    from plugin.core.http import HttpConfig, create_session

    emu.configure("World_Map/MapServer", http_errors_as_status=True)
    emu.configure("Secured/World_Map/MapServer", http_errors_as_status=True, job_steps=3)
    emu.configure_server(http_errors_as_status=True)
    with pytest.raises(JobNotFoundError):
        jobs_mod.fetch_status(exporter.session, jobs_mod.Job(emu.service_url("World_Map", "MapServer"), "jnope_et"))
    with pytest.raises(InvalidRequestError):
        jobs_mod.submit(exporter.session, emu.service_url("World_Map", "MapServer"), {"levels": "0-99"})
    with pytest.raises(ServiceNotFoundError):
        exporter.fetch(emu.service_url("Nope", "MapServer"))
    session = create_session(HttpConfig(retries=1), auth=PasswordAuth("analyst", "field-work-2026"), clock=fake_clock)
    secured = Exporter(session, poll=PollPolicy(timeout=3600), clock=fake_clock)
    info = secured.fetch(emu.service_url("World_Map", "MapServer", folder="Secured"))
    fake_clock.on_sleep = lambda s: emu.expire_tokens() if len(fake_clock.sleeps) == 1 else None
    result = secured.run(secured.prepare(info, SMALL, range(3)), tmp_path / "h.tpkx")
    assert result.paths[0].exists()
    assert any(r.status == 498 for r in emu.requests)
