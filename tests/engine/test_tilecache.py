"""Tile-cache exports (``tilePackage=false``) end to end against the emulator: parameters, the result
as a folder of files or a zip, the safe unpack, verification, split parts merged tile by tile."""
from __future__ import annotations

import io
import json
import zipfile

import pytest

from plugin.core.area import Area
from plugin.core.errors import InvalidRequestError, PackageError, ServerError
from plugin.core.export import Exporter
from plugin.core.exportstore import DONE, ExportStore
from plugin.core.jobs import PollPolicy
from plugin.core.packages import open_package
from plugin.core.packages.cachefolder import merge_caches, verify_cache
from plugin.core.tilecache import PACKAGE, TILE_CACHE, cache_result_files, supported_output_kinds
from tests.emulator.server_helpers import read_package_tiles

from .conftest import json_response

SMALL = Area.from_extent(-2e6, -2e6, 2e6, 2e6)
TRIANGLE = Area.from_rings([[(-3e6, -2e6), (0, 3e6), (3.5e6, -1.5e6)]])
STORAGE = {"tpkx": ("compactV2", "esriMapCacheStorageModeCompactV2"),
           "tpk": ("compactV1", "esriMapCacheStorageModeCompact")}


@pytest.fixture
def exporter(fast_session, fake_clock, tmp_path):
    return Exporter(fast_session, store=ExportStore(tmp_path / "jobs"), poll=PollPolicy(timeout=3600), clock=fake_clock)


def cache_tiles(folder) -> dict:
    with open_package(folder) as pkg:
        return {(t.level, t.row, t.col): bytes(t.data) for t in pkg.iter_tiles()}


def test_output_kinds_per_service_type(emu, exporter):
    vector = exporter.fetch(emu.service_url("World_Vector", "VectorTileServer"))
    raster = exporter.fetch(emu.service_url("World_Map", "MapServer"))
    image = exporter.fetch(emu.service_url("World_Imagery", "ImageServer"))
    assert supported_output_kinds(vector) == (PACKAGE,)
    assert supported_output_kinds(raster) == supported_output_kinds(image) == (PACKAGE, TILE_CACHE)
    with pytest.raises(InvalidRequestError, match="vector tile services export tile packages"):
        exporter.prepare(vector, SMALL, range(3), output_kind=TILE_CACHE)
    plan = exporter.prepare(raster, SMALL, range(3), fmt="tpk", output_kind=TILE_CACHE)
    assert plan.requests[0].params["tilePackage"] == "false"
    assert plan.requests[0].params["storageFormatType"] == "esriMapCacheStorageModeCompact"
    assert "tile cache folder (Compact V1)" in plan.describe()
    assert exporter.prepare(raster, SMALL, range(3)).requests[0].params["tilePackage"] == "true"


@pytest.mark.parametrize("cache_result", ["folder", "zip"])
@pytest.mark.parametrize("fmt", ["tpkx", "tpk"])
def test_tile_cache_export_gives_the_same_tiles_as_the_package(emu, exporter, tmp_path, fmt, cache_result):
    emu.configure("World_Imagery/ImageServer", cache_result=cache_result)
    info = exporter.fetch(emu.service_url("World_Imagery", "ImageServer"))
    package = exporter.run(exporter.prepare(info, TRIANGLE, range(5), fmt=fmt), tmp_path / f"p.{fmt}")
    result = exporter.run(exporter.prepare(info, TRIANGLE, range(5), fmt=fmt, output_kind=TILE_CACHE),
                          tmp_path / "out" / "imagery")
    (folder,) = result.paths
    assert folder == tmp_path / "out" / "imagery" and (folder / "conf.xml").is_file()
    assert (folder / "_alllayers").is_dir()
    bundles = sorted(p.suffix for p in folder.rglob("*.bundl*"))
    assert set(bundles) == ({".bundle"} if fmt == "tpkx" else {".bundle", ".bundlx"})
    summary = verify_cache(folder, levels=range(5), storage=STORAGE[fmt][0])
    assert STORAGE[fmt][1] in (folder / "conf.xml").read_text()
    assert cache_tiles(folder) == read_package_tiles(package.paths[0])
    assert summary.tile_count == len(read_package_tiles(package.paths[0]))
    # nothing left over beside the cache: no staging folder, no zip
    assert sorted(p.name for p in folder.parent.iterdir()) == ["imagery"]
    (record,) = result.records
    assert record.state == DONE and record.output_paths == [str(folder)]
    result_doc = emu.requests_to("/results/out_service_url")
    assert result_doc, "the result parameter was read"


def test_folder_result_is_the_arcgisoutput_folder_url_and_is_walked(emu, exporter, fast_session, tmp_path):
    info = exporter.fetch(emu.service_url("World_Map", "MapServer"))
    exporter.run(exporter.prepare(info, SMALL, range(3), output_kind=TILE_CACHE), tmp_path / "c")
    (job,) = emu.jobs.values()
    folder_url = emu.output_folder_url(job, emu.service("World_Map/MapServer"))
    files = cache_result_files(fast_session, info.url, folder_url)
    paths = {f.path for f in files}
    assert {"Layers/conf.xml", "Layers/conf.cdi"} <= paths
    assert any(p.startswith("Layers/_alllayers/L02/") and p.endswith(".bundle") for p in paths)
    assert all(f.size is not None for f in files)


@pytest.mark.parametrize("fmt", ["tpkx", "tpk"])
def test_split_tile_cache_parts_merge_tile_by_tile(emu, exporter, tmp_path, fmt):
    info = exporter.fetch(emu.service_url("World_Map", "MapServer"))
    whole = exporter.run(exporter.prepare(info, TRIANGLE, range(7), fmt=fmt, output_kind=TILE_CACHE),
                         tmp_path / "whole")
    expected = cache_tiles(whole.paths[0])
    emu.configure("World_Map/MapServer", max_export_tiles=40)
    info = exporter.fetch(emu.service_url("World_Map", "MapServer"))
    plan = exporter.prepare(info, TRIANGLE, range(7), fmt=fmt, output_kind=TILE_CACHE)
    assert plan.part_count > 2
    result = exporter.run(plan, tmp_path / "split")
    assert [p.name for p in result.paths] == [f"split_part{i:02d}of{plan.part_count:02d}"
                                             for i in range(1, plan.part_count + 1)]
    # parts share bundle files (the finest level is cut in pieces inside one 128x128 bundle)
    names = [{str(b.relative_to(p)) for b in p.rglob("*.bundle")} for p in result.paths]
    assert any(a & b for i, a in enumerate(names) for b in names[i + 1:])
    merged = merge_caches(result.paths, tmp_path / "merged")
    assert merged.storage == STORAGE[fmt][0]
    assert cache_tiles(tmp_path / "merged") == expected
    assert merged.tile_count == len(expected)


def test_zip_with_path_traversal_or_link_is_refused_and_nothing_lands(emu, exporter, fake_server, fast_session,
                                                                    tmp_path):
    """A hostile server's archive never writes outside the cache and leaves nothing half-done."""
    def zip_bytes(entries) -> bytes:
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as zf:
            for info, data in entries:
                zf.writestr(info, data)
        return buf.getvalue()

    link = zipfile.ZipInfo("Layers/_alllayers/L00/R0000C0000.bundle")
    link.external_attr = (0o120777 << 16)
    archives = {
        "traversal": zip_bytes([(zipfile.ZipInfo("../evil.txt"), b"x"), (zipfile.ZipInfo("Layers/conf.xml"), b"<x/>")]),
        "link": zip_bytes([(link, b"/etc/passwd"), (zipfile.ZipInfo("Layers/conf.xml"), b"<x/>")]),
    }
    from plugin.core.packages.cachefolder import unpack_archive

    for name, data in archives.items():
        archive = tmp_path / f"{name}.zip"
        archive.write_bytes(data)
        with pytest.raises(PackageError):
            unpack_archive(archive, tmp_path / name)
        assert not (tmp_path / name).exists()
        assert not (tmp_path.parent / "evil.txt").exists()


def test_listing_with_a_name_that_leaves_the_folder_is_refused(fake_server, fast_session):
    fake_server.route("/out", {"folders": ["Layers"], "files": []})
    fake_server.route("/out/Layers", {"folders": [".."], "files": [{"name": "conf.xml", "url": "x", "size": 5}]})
    with pytest.raises(ServerError, match="not allowed"):
        cache_result_files(fast_session, fake_server.url("/svc"), fake_server.url("/out"))
    fake_server.route("/bad", {"folders": [], "files": [{"name": "a/../../b", "size": 1}]})
    with pytest.raises(ServerError, match="not allowed"):
        cache_result_files(fast_session, fake_server.url("/svc"), fake_server.url("/bad"))
    fake_server.route("/deep", lambda request: json_response({"folders": ["d"], "files": []}))
    fake_server.routes.update({f"/deep{'/d' * n}": fake_server.routes["/deep"] for n in range(1, 15)})
    with pytest.raises(ServerError, match="nested deeper"):
        cache_result_files(fast_session, fake_server.url("/svc"), fake_server.url("/deep"))


def test_verify_refuses_levels_and_storage_not_asked_for(emu, exporter, tmp_path):
    info = exporter.fetch(emu.service_url("World_Map", "MapServer"))
    (folder,) = exporter.run(exporter.prepare(info, SMALL, range(3), output_kind=TILE_CACHE), tmp_path / "c").paths
    assert verify_cache(folder, levels=range(3), storage="compactV2").levels.keys() == {0, 1, 2}
    with pytest.raises(PackageError, match="not asked for"):
        verify_cache(folder, levels=[0, 1])
    with pytest.raises(PackageError, match="compactV1"):
        verify_cache(folder, storage="compactV1")
    assert json.loads(json.dumps(exporter.store.records()[0].result_files))  # the record keeps the file list


def test_paused_folder_download_resumes_keeping_the_files_already_there(emu, exporter, tmp_path):
    from plugin.core.errors import CancelledError
    from plugin.core.exportstore import PAUSED
    from plugin.core.http import CancelToken

    exporter.chunk_size = 1024
    info = exporter.fetch(emu.service_url("World_Map", "MapServer"))
    plan = exporter.prepare(info, SMALL, range(5), output_kind=TILE_CACHE)
    cancel = CancelToken()
    staging = tmp_path / "c.cache-part"
    finished: list = []

    def progress(p):
        done = [f for f in staging.rglob("*") if f.is_file() and f.suffix != ".part"] if staging.is_dir() else []
        if p.stage == "download" and len([f for f in done if f.suffix == ".bundle"]) >= 2 and p.bytes_done > 0:
            finished[:] = done
            cancel.cancel()

    with pytest.raises(CancelledError):
        exporter.run(plan, tmp_path / "c", progress=progress, cancel=cancel)
    (record,) = exporter.store.records()
    assert record.state == PAUSED and record.result_files and not (tmp_path / "c").exists()
    kept = {f.relative_to(staging / "Layers"): f.stat().st_mtime_ns for f in finished}
    emu.clear_requests()
    result = exporter.resume(exporter.store.load(record.id))
    (folder,) = result.paths
    assert folder == tmp_path / "c" and verify_cache(folder, levels=range(5)).tile_count == plan.total_tiles
    assert not emu.requests_to("/exportTiles")  # the server job's result is reused
    files_fetched = [r for r in emu.requests_to("arcgisoutput") if "." in r.path.rsplit("/", 1)[-1]]
    assert len(files_fetched) == len(record.result_files) - len(kept)  # only what was missing
    assert all((folder / rel).stat().st_mtime_ns == mtime for rel, mtime in kept.items())  # kept as they were
    assert not staging.exists()


def test_server_refusing_a_tile_cache_as_too_big_is_split_again_into_cache_folders(emu, exporter, tmp_path):
    info = exporter.fetch(emu.service_url("World_Map", "MapServer"))
    whole = cache_tiles(exporter.run(exporter.prepare(info, SMALL, range(7), output_kind=TILE_CACHE),
                                     tmp_path / "whole").paths[0])
    optimistic = type(info)(**{**info.__dict__, "max_export_tiles": 1000})
    emu.configure("World_Map/MapServer", max_export_tiles=30)
    plan = exporter.prepare(optimistic, SMALL, range(7), output_kind=TILE_CACHE)
    assert plan.part_count == 1 and plan.total_tiles > 30
    result = exporter.run(plan, tmp_path / "r")
    assert len(result.paths) > 1 and all(p.name.startswith("r_") and p.is_dir() for p in result.paths)
    children = [r for r in exporter.store.records() if r.id != result.records[0].id]
    assert children and all(r.params["tilePackage"] == "false" for r in children)
    merge_caches(result.paths, tmp_path / "merged")
    assert cache_tiles(tmp_path / "merged") == whole


def test_a_zip_of_the_users_beside_the_cache_is_never_touched(emu, exporter, tmp_path):
    """The cache's own download names (…cache-part/, …cache-part.zip) never meet the user's files."""
    emu.configure("World_Map/MapServer", cache_result="zip")
    info = exporter.fetch(emu.service_url("World_Map", "MapServer"))
    (tmp_path / "c.zip").write_bytes(b"the user's own archive")
    (tmp_path / "c.part").mkdir()
    (tmp_path / "c.part" / "notes.txt").write_text("mine")
    (folder,) = exporter.run(exporter.prepare(info, SMALL, range(3), output_kind=TILE_CACHE), tmp_path / "c").paths
    assert verify_cache(folder, levels=range(3)).tile_count
    assert (tmp_path / "c.zip").read_bytes() == b"the user's own archive"
    assert (tmp_path / "c.part" / "notes.txt").read_text() == "mine"
    assert sorted(p.name for p in tmp_path.iterdir() if p.name != "jobs") == ["c", "c.part", "c.zip"]
