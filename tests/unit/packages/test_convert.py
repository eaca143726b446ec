"""Converters and merge: MBTiles and GeoPackage layout, repairs, progress, cancel, atomicity."""
from __future__ import annotations

import gzip
import json
import math
import os
import sqlite3
import zlib
from pathlib import Path

import pytest

from arcgis_emulator.writers import v2_bundle, write_package
from plugin.core.errors import CancelledError, PackageError
from plugin.core.packages import (
    convert,
    convert_package,
    formats,
    merge_packages,
    open_package,
    package_info,
    set_palette_expander,
)
from plugin.core.packages.sinks import WKT_3857, WKT_4326
from tests.unit.packages.helpers import (
    assert_center_in_view,
    geo_doc,
    mvt,
    mvt_gz,
    png,
    stateplane_doc,
    tpk_members,
    tpkx_members,
    v1,
    wm_doc,
    write_zip,
)


def _rows(path, sql):
    con = sqlite3.connect(path)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def _meta(path):
    return dict(_rows(path, "SELECT name, value FROM metadata"))


def _raster_tpkx(tmp_path, name="r.tpkx", tiles=None, doc=None):
    tiles = tiles if tiles is not None else [(z, r, c, png(seed=z * 100 + r * 10 + c))
                                             for z in range(3) for r in range(2 ** z) for c in range(2 ** z)]
    write_package("tpkx", tmp_path / name, doc or wm_doc(), tiles)
    return tmp_path / name, tiles


def test_raster_mbtiles_layout_tms_rows_and_metadata(tmp_path):
    src, tiles = _raster_tpkx(tmp_path)
    out = tmp_path / "r.mbtiles"
    report = convert_package(src, out)
    assert report.format == "mbtiles" and report.tiles_written == len(tiles) == 21
    assert report.per_level == {0: 1, 1: 4, 2: 16} and report.zooms == {0: 0, 1: 1, 2: 2}
    stored = {(z, x, y): bytes(d) for z, x, y, d in _rows(out, "SELECT * FROM tiles")}
    for z, r, c, data in tiles:
        assert stored[(z, c, 2 ** z - 1 - r)] == data  # bytes copied, TMS row flip
    meta = _meta(out)
    assert meta["format"] == "png" and meta["minzoom"] == "0" and meta["maxzoom"] == "2"
    assert meta["name"] and meta["type"] == "baselayer" and "json" not in meta
    assert "scheme" not in meta
    assert [round(float(v), 4) for v in meta["bounds"].split(",")] == [-180, -85.0511, 180, 85.0511]
    assert assert_center_in_view(meta) == (pytest.approx(0, abs=1e-9), pytest.approx(0, abs=1e-9), 0)
    indexes = {row[1] for row in _rows(out, "PRAGMA index_list(tiles)")}
    assert "tile_index" in indexes
    assert _rows(out, "PRAGMA journal_mode")[0][0] == "delete"


def test_jpeg_and_512px_raster(tmp_path):
    jpeg = b"\xff\xd8\xff\xe0" + b"\x00" * 20
    src = tmp_path / "j.tpkx"
    write_package("tpkx", src, wm_doc(tile=512, fmt="JPEG"), [(0, 0, 0, jpeg), (1, 1, 1, jpeg)])
    report = convert_package(src, tmp_path / "j.mbtiles")
    meta = _meta(tmp_path / "j.mbtiles")
    assert meta["format"] == "jpg" and "tilesize" not in meta  # GDAL reads the size from the tiles
    assert report.zooms == {0: 0, 1: 1}


def test_vector_mbtiles_keeps_gzip_and_regzips_zlib_and_raw(tmp_path):
    gz = mvt_gz({"roads": [{"name": "A1", "lanes": 2}], "water": [{"kind": "lake"}]})
    raw = mvt({"roads": [{"name": "B2", "oneway": True}]})
    zl = zlib.compress(mvt({"places": [{"pop": 1.5}]}))
    src = tmp_path / "v.vtpk"
    write_package("vtpk", src, wm_doc(tile=512), [(0, 0, 0, gz), (1, 0, 0, raw), (1, 1, 1, zl)])
    out = tmp_path / "v.mbtiles"
    report = convert_package(src, out)
    assert report.format == "mbtiles" and report.tiles_written == 3 and report.regzipped == 2
    stored = {(z, x, y): bytes(d) for z, x, y, d in _rows(out, "SELECT * FROM tiles")}
    assert stored[(0, 0, 0)] == gz  # gzip copied byte for byte
    assert gzip.decompress(stored[(1, 0, 1)]) == raw
    assert stored[(1, 1, 0)][:2] == b"\x1f\x8b" and gzip.decompress(stored[(1, 1, 0)]) == zlib.decompress(zl)
    meta = _meta(out)
    assert meta["format"] == "pbf"
    layers = {layer["id"]: layer for layer in json.loads(meta["json"])["vector_layers"]}
    assert set(layers) == {"roads", "water", "places"}
    assert layers["roads"]["fields"] == {"name": "String", "lanes": "Number", "oneway": "Boolean"}
    assert layers["places"]["fields"] == {"pop": "Number"}
    assert (layers["roads"]["minzoom"], layers["roads"]["maxzoom"]) == (0, 1)
    assert_center_in_view(meta)


def test_vector_cannot_go_to_geopackage(tmp_path):
    src = tmp_path / "v.vtpk"
    write_package("vtpk", src, wm_doc(tile=512), [(0, 0, 0, mvt_gz({"a": [{}]}))])
    with pytest.raises(PackageError, match="GeoPackage cannot hold vector tiles"):
        convert_package(src, tmp_path / "v.gpkg")
    assert not list(tmp_path.glob("v.gpkg*"))


def test_non_mercator_goes_to_geopackage_with_tiles_beyond_the_grid(tmp_path):
    tiles = {(0, 0): png(seed=1), (0, 1): png(seed=2)}
    level1 = {(0, 0): png(seed=3), (1, 2): png(seed=4)}
    members = tpkx_members(geo_doc(), {"L00/R0000C0000.bundle": v2_bundle(tiles),
                                       "L01/R0000C0000.bundle": v2_bundle(level1)})
    src = write_zip(tmp_path / "g.tpkx", members)
    with pytest.raises(PackageError, match="not Web Mercator"):
        convert_package(src, tmp_path / "g.mbtiles")
    out = tmp_path / "g.out"
    report = convert_package(src, out)
    assert report.format == "gpkg" and report.tiles_written == 4
    assert _rows(out, "PRAGMA application_id")[0][0] == 1196444487
    assert _rows(out, "PRAGMA user_version")[0][0] == 10200
    (tms,) = _rows(out, "SELECT * FROM gpkg_tile_matrix_set")
    assert tms[1] == 4326 and tms[2:] == (-180.0, -270.0, 540.0, 90.0)  # 2×1 tiles of 360° at level 0
    matrices = _rows(out, "SELECT zoom_level, matrix_width, matrix_height, tile_width, pixel_x_size "
                          "FROM gpkg_tile_matrix ORDER BY zoom_level")
    assert matrices == [(0, 2, 1, 512, 0.703125), (1, 4, 2, 512, 0.3515625)]
    srs = {r[1]: r for r in _rows(out, "SELECT * FROM gpkg_spatial_ref_sys")}
    assert set(srs) == {-1, 0, 4326} and srs[4326][4] == WKT_4326
    (contents,) = _rows(out, "SELECT table_name, data_type, srs_id, min_x, max_x FROM gpkg_contents")
    assert contents[1] == "tiles" and contents[2] == 4326 and contents[3] == -180 and contents[4] == 180
    table = contents[0]
    sql = f'SELECT zoom_level, tile_column, tile_row, tile_data FROM "{table}"'
    got = {(z, c, r): bytes(d) for z, c, r, d in _rows(out, sql)}
    assert got[(1, 2, 1)] == png(seed=4)  # rows copied straight (top-left origin)
    assert _rows(out, "SELECT count(*) FROM gpkg_extensions WHERE extension_name = 'gpkg_zoom_other'")[0][0] == 0


def test_state_plane_non_halving_levels_use_zoom_other(tmp_path):
    resolutions = [1000.0, 333.3333333333333, 100.0]
    doc = stateplane_doc(resolutions)
    tiles = {(0, 0): png(seed=1), (5, 7): png(seed=2)}
    members = tpkx_members(doc, {f"L0{i}/R0000C0000.bundle": v2_bundle(tiles) for i in range(3)})
    src = write_zip(tmp_path / "sp.tpkx", members)
    out = tmp_path / "sp.gpkg"
    report = convert_package(src, out, crs_wkt='PROJCS["NAD83 / Connecticut (ftUS)",...]')
    assert report.tiles_written == 6
    (ext,) = _rows(out, "SELECT extension_name, table_name, column_name, scope FROM gpkg_extensions "
                       "WHERE extension_name != 'gpkg_metadata'")
    assert ext[0] == "gpkg_zoom_other" and ext[2] == "tile_data" and ext[3] == "read-write"
    srs = {r[1]: r for r in _rows(out, "SELECT * FROM gpkg_spatial_ref_sys")}
    assert srs[2234][2:5] == ("EPSG", 2234, 'PROJCS["NAD83 / Connecticut (ftUS)",...]')
    matrices = _rows(out, "SELECT zoom_level, matrix_width, pixel_x_size FROM gpkg_tile_matrix ORDER BY zoom_level")
    assert [m[2] for m in matrices] == resolutions
    (tms,) = _rows(out, "SELECT min_x, max_y, max_x FROM gpkg_tile_matrix_set")
    assert tms[:2] == (-1.21e8, 1.21e8)
    for _zoom, width, res in matrices:  # every matrix covers the tiles
        assert width * 256 * res >= 8 * 256 * 100.0 - 1e-6


def test_crs_row_fallbacks(tmp_path):
    src, _ = _raster_tpkx(tmp_path)
    convert_package(src, tmp_path / "a.gpkg")
    srs = {r[1]: r for r in _rows(tmp_path / "a.gpkg", "SELECT * FROM gpkg_spatial_ref_sys")}
    assert srs[3857][4] == WKT_3857 and srs[3857][2] == "EPSG"
    # a code the core does not know and no crs_wkt: the package's own WKT (conf.xml has one)
    doc = stateplane_doc([100.0, 50.0])
    doc["tileInfo"]["spatialReference"] = {"wkid": 102726, "latestWkid": 102726}
    members = tpk_members(doc, {"L00/R0000C0000.bundle": v1({(0, 0): png()})})
    src2 = write_zip(tmp_path / "e.tpk", members)
    convert_package(src2, tmp_path / "e.gpkg")
    srs = {r[1]: r for r in _rows(tmp_path / "e.gpkg", "SELECT * FROM gpkg_spatial_ref_sys")}
    assert srs[102726][2] == "ESRI" and srs[102726][4]  # WKT or 'undefined', never empty


def test_headless_png_repair_on_conversion(tmp_path):
    good = png(seed=5)
    broken = good[4:] + good[-4:]  # Esri Usa.tpkx: no \x89PNG, IEND CRC repeated
    unrepairable = b"\r\n\x1a\n" + b"garbage" * 5
    src, _ = _raster_tpkx(tmp_path, tiles=[(0, 0, 0, broken), (1, 0, 0, good), (1, 0, 1, unrepairable)])
    out = tmp_path / "r.mbtiles"
    report = convert_package(src, out)
    assert report.repaired_png == 1
    stored = {(z, x, y): bytes(d) for z, x, y, d in _rows(out, "SELECT * FROM tiles")}
    assert stored[(0, 0, 0)] == good and formats.is_valid_png(stored[(0, 0, 0)])
    assert stored[(1, 1, 1)] == unrepairable  # not a PNG once repaired either: left as it was



@pytest.mark.parametrize("fmt", ["mbtiles", "gpkg"])
def test_tiles_of_a_whole_bundle_at_a_deep_level_are_copied_and_repaired(tmp_path, fmt):
    """Bundles wholly inside the grid (level 8: 256 × 256 tiles) go in a run at a time: every tile
    lands at its place, and a signature-less PNG among them is still repaired."""
    good = [png(seed=seed) for seed in range(3)]
    broken = good[0][4:]
    tiles = [(8, 128 + r, c, good[(r + c) % 3]) for r in range(0, 128, 9) for c in range(0, 256, 7)]
    tiles.append((8, 255, 255, good[1]))  # the last corner: both bundles inside the GeoPackage's grid too
    tiles[-2] = (*tiles[-2][:3], broken)  # in the second bundle; the first has none
    src, _ = _raster_tpkx(tmp_path, tiles=tiles)
    out = tmp_path / f"deep.{fmt}"
    report = convert_package(src, out, fmt)
    assert report.tiles_written == len(tiles) and report.repaired_png == 1
    table = "tiles" if fmt == "mbtiles" else _rows(out, "SELECT table_name FROM gpkg_contents")[0][0]
    stored = {(z, x, y): bytes(d) for z, x, y, d in _rows(
        out, f"SELECT zoom_level, tile_column, tile_row, tile_data FROM {table}")}
    for z, r, c, data in tiles:
        y = 255 - r if fmt == "mbtiles" else r
        assert stored[(z, c, y)] == (good[0] if data is broken else data)



def test_a_conversion_past_a_full_bundle_of_tiles_keeps_every_tile(tmp_path):
    # more tiles than one full bundle: the writer changes its cache size on the way, no tile is lost
    tiles = [(8, r, c, b"\x89PNG-%d-%d" % (r, c)) for r in range(129) for c in range(128)]
    src, _ = _raster_tpkx(tmp_path, tiles=tiles)
    for fmt in ("mbtiles", "gpkg"):
        out = tmp_path / f"big.{fmt}"
        report = convert_package(src, out, fmt)
        assert report.tiles_written == len(tiles) == 16512
        table = "tiles" if fmt == "mbtiles" else _rows(out, "SELECT table_name FROM gpkg_contents")[0][0]
        assert _rows(out, f"SELECT count(DISTINCT tile_data) FROM {table}") == [(16512,)]


def test_palette_expansion_hook(tmp_path):
    src, _ = _raster_tpkx(tmp_path, tiles=[(0, 0, 0, png(palette=True)), (1, 0, 0, png())])
    with pytest.raises(ValueError, match="palette_expander"):
        convert_package(src, tmp_path / "x.mbtiles", expand_palette=True)
    seen = []

    def expander(data: bytes) -> bytes:
        seen.append(data)
        return png(seed=42)

    report = convert_package(src, tmp_path / "y.mbtiles", expand_palette=True, palette_expander=expander)
    assert report.palette_expanded == 1 and len(seen) == 1 and formats.png_color_type(seen[0]) == 3
    set_palette_expander(expander)
    try:
        report = convert_package(src, tmp_path / "z.mbtiles", expand_palette=True)
        assert report.palette_expanded == 1
    finally:
        set_palette_expander(None)
    report = convert_package(src, tmp_path / "w.mbtiles")
    assert report.palette_expanded == 0


def test_merge_deduplicates_and_keeps_the_first(tmp_path):
    a, _ = _raster_tpkx(tmp_path, "a.tpkx", [(2, 0, 0, png(seed=1)), (2, 0, 1, png(seed=2))])
    b, _ = _raster_tpkx(tmp_path, "b.tpkx", [(2, 0, 1, png(seed=3)), (2, 1, 1, png(seed=4)), (3, 2, 2, png(seed=5))])
    out = tmp_path / "m.mbtiles"
    report = merge_packages([a, b], out)
    assert report.tiles_written == 4 and report.duplicates == 1 and report.tiles_read == 5
    stored = {(z, x, y): bytes(d) for z, x, y, d in _rows(out, "SELECT * FROM tiles")}
    assert stored[(2, 1, 3)] == png(seed=2)  # first package wins
    assert _meta(out)["maxzoom"] == "3"
    gp = tmp_path / "m.gpkg"
    report = merge_packages([a, b], gp, "gpkg")
    assert report.tiles_written == 4 and report.duplicates == 1



@pytest.mark.parametrize("fmt", ["mbtiles", "gpkg"])
def test_merge_of_overlapping_parts_counts_every_duplicate_and_keeps_the_first(tmp_path, fmt):
    # hundreds of tiles per part, so rows go in many to a statement: the duplicates among a
    # statement's rows are left out and counted one by one
    first = {(5, r, c): png(seed=r * 32 + c) for r in range(12) for c in range(32)}  # rows 0-11
    second = {(5, r, c): png(seed=1000 + r * 32 + c) for r in range(8, 20) for c in range(32)}  # rows 8-19
    a, _ = _raster_tpkx(tmp_path, "a.tpkx", [(*key, data) for key, data in first.items()])
    b, _ = _raster_tpkx(tmp_path, "b.tpkx", [(*key, data) for key, data in second.items()])
    out = tmp_path / f"m.{fmt}"
    report = merge_packages([a, b], out, fmt)
    assert report.tiles_read == 768 and report.duplicates == 128 and report.tiles_written == 640
    table = "tiles" if fmt == "mbtiles" else _rows(out, "SELECT table_name FROM gpkg_contents")[0][0]
    stored = {(z, x, y): bytes(d) for z, x, y, d in _rows(
        out, f"SELECT zoom_level, tile_column, tile_row, tile_data FROM {table}")}
    assert len(stored) == 640
    for (z, r, c), data in {**second, **first}.items():  # the first part's tile wins where both have one
        assert stored[(z, c, 31 - r if fmt == "mbtiles" else r)] == data


def _spy_on_page_cache_hints(monkeypatch) -> list[tuple[str, int, int, int]]:
    """Every ``posix_fadvise`` hint the code under test gives: ``(file name, offset, length, advice)``
    (the hints still reach the system)."""
    hints = []
    real = os.posix_fadvise

    def spy(fd, offset, length, advice):
        hints.append((Path(os.readlink(f"/proc/self/fd/{fd}")).name, offset, length, advice))
        return real(fd, offset, length, advice)

    monkeypatch.setattr(os, "posix_fadvise", spy)
    return hints


def _overlapping_parts(tmp_path):
    first = [(5, r, c, png(seed=r * 32 + c)) for r in range(12) for c in range(32)]
    second = [(5, r, c, png(seed=1000 + r * 32 + c)) for r in range(8, 20) for c in range(32)]
    return [_raster_tpkx(tmp_path, "a.tpkx", first)[0], _raster_tpkx(tmp_path, "b.tpkx", second)[0]]


@pytest.mark.skipif(not (hasattr(os, "posix_fadvise") and Path("/proc/self/fd").is_dir()),
                    reason="page cache hints: POSIX systems with /proc")
@pytest.mark.parametrize("fmt", ["mbtiles", "gpkg"])
def test_a_big_merge_lets_the_system_drop_what_it_copied_and_writes_the_same_tiles(tmp_path, monkeypatch, fmt):
    parts = _overlapping_parts(tmp_path)
    hints = _spy_on_page_cache_hints(monkeypatch)
    merge_packages(parts, tmp_path / f"small.{fmt}", fmt)
    # a merge under RELEASE_READS_ABOVE leaves the page cache to the system: the user's files stay cached
    assert hints and not [h for h in hints if h[3] == os.POSIX_FADV_DONTNEED]
    hints.clear()
    monkeypatch.setattr(convert, "RELEASE_READS_ABOVE", 0)  # what a merge of gigabytes does
    report = merge_packages(parts, tmp_path / f"big.{fmt}", fmt)
    assert report.tiles_written == 640 and report.duplicates == 128
    big = tmp_path / f"big.{fmt}"
    table = "tiles" if fmt == "mbtiles" else _rows(big, "SELECT table_name FROM gpkg_contents")[0][0]
    query = f"SELECT zoom_level, tile_column, tile_row, tile_data FROM {table} ORDER BY 1, 2, 3"
    assert _rows(big, query) == _rows(tmp_path / f"small.{fmt}", query)
    for part in parts:  # every tile byte read was handed back, and nothing but the part's own bytes
        released = [(offset, length) for name, offset, length, advice in hints
                    if name == part.name and advice == os.POSIX_FADV_DONTNEED]
        assert all(offset + length <= part.stat().st_size for offset, length in released)
        with open_package(part) as pkg:
            assert sum(length for _offset, length in released) >= pkg.tile_bytes > 0


def test_merge_refuses_different_schemes(tmp_path):
    a, _ = _raster_tpkx(tmp_path, "a.tpkx", [(0, 0, 0, png())])
    b, _ = _raster_tpkx(tmp_path, "b.tpkx", [(0, 0, 0, png())], doc=wm_doc(tile=512))
    with pytest.raises(PackageError, match="tiling schemes differ"):
        merge_packages([a, b], tmp_path / "m.mbtiles")
    c = write_zip(tmp_path / "c.tpkx", tpkx_members(geo_doc(), {"L00/R0000C0000.bundle": v2_bundle({(0, 0): png()})}))
    with pytest.raises(PackageError, match="coordinate systems"):
        merge_packages([a, c], tmp_path / "m2.gpkg")
    assert not list(tmp_path.glob("m*"))


def test_merge_tpk_and_tpkx_of_one_scheme(tmp_path):
    a, _ = _raster_tpkx(tmp_path, "a.tpkx", [(1, 0, 0, png(seed=1))])
    b = tmp_path / "b.tpk"
    write_package("tpk", b, wm_doc(), [(1, 1, 1, png(seed=2))])
    report = merge_packages([a, b], tmp_path / "m.mbtiles")
    assert report.tiles_written == 2


def test_progress_and_cancel_leave_nothing_behind(tmp_path, monkeypatch):
    from plugin.core.packages import convert as convert_mod

    monkeypatch.setattr(convert_mod, "BATCH", 5)
    src, tiles = _raster_tpkx(tmp_path)
    calls = []
    convert_package(src, tmp_path / "ok.mbtiles", progress=lambda done, total: calls.append((done, total)))
    assert calls[0] == (0, 21) and calls[-1] == (21, 21)
    assert all(a[0] <= b[0] for a, b in zip(calls, calls[1:]))
    out = tmp_path / "c.mbtiles"
    out.write_bytes(b"previous result")

    def stop(done, total):
        return done < 10

    with pytest.raises(CancelledError):
        convert_package(src, out, progress=stop)
    assert out.read_bytes() == b"previous result"  # the old file is untouched
    assert not list(tmp_path.glob("*.part"))

    def boom(done, total):
        if done:
            raise CancelledError()

    with pytest.raises(CancelledError):
        convert_package(src, tmp_path / "d.mbtiles", progress=boom)
    assert not (tmp_path / "d.mbtiles").exists() and not list(tmp_path.glob("*.part"))


def test_errors_remove_the_part_file(tmp_path):
    bundle = v2_bundle({(0, 0): png(), (0, 1): png(seed=3)})
    cut = bytearray(bundle)
    struct_offset = 64 + 8  # slot 1: point past the end
    cut[struct_offset:struct_offset + 8] = ((len(bundle) + 10) | (100 << 40)).to_bytes(8, "little")
    src = write_zip(tmp_path / "bad.tpkx", tpkx_members(wm_doc(), {"L00/R0000C0000.bundle": bytes(cut)}))
    with pytest.raises(PackageError, match="outside the bundle"):
        convert_package(src, tmp_path / "bad.mbtiles")
    assert not list(tmp_path.glob("bad.mbtiles*"))


def test_output_must_differ_from_input_and_overwrite_flag(tmp_path):
    src, _ = _raster_tpkx(tmp_path)
    with pytest.raises(PackageError, match="also the output"):
        convert_package(src, src)
    out = tmp_path / "o.mbtiles"
    out.write_bytes(b"x")
    with pytest.raises(PackageError, match="already exists"):
        convert_package(src, out, overwrite=False)
    with pytest.raises(ValueError, match="fmt"):
        convert_package(src, out, fmt="png")


def test_levels_not_starting_at_zoom_0_go_to_the_right_zoom(tmp_path):
    doc = wm_doc(first_zoom=2)
    src = write_zip(tmp_path / "z.tpk", tpk_members(doc, {"L00/R0000C0000.bundle": v1({(1, 2): png(seed=1)}),
                                                          "L01/R0000C0000.bundle": v1({(3, 5): png(seed=2)})}))
    out = tmp_path / "z.mbtiles"
    report = convert_package(src, out)
    assert report.zooms == {0: 2, 1: 3}
    stored = {(z, x, y) for z, x, y, _ in _rows(out, "SELECT * FROM tiles")}
    assert stored == {(2, 2, 3 - 1), (3, 5, 7 - 3)}
    meta = _meta(out)
    assert (meta["minzoom"], meta["maxzoom"]) == ("2", "3")
    # the data: zoom 2 tile x=2 y=1 (lon 0..90, lat 0..66.51): the view is its middle, not (0, 0)
    top = math.degrees(math.atan(math.sinh(math.pi / 2)))
    assert assert_center_in_view(meta) == (pytest.approx(45), pytest.approx(top / 2), 2)


def test_out_of_grid_tiles_are_skipped_for_mbtiles_only(tmp_path):
    members = tpkx_members(wm_doc(), {"L01/R0000C0000.bundle": v2_bundle({(0, 0): png(), (0, 5): png(seed=2)})})
    src = write_zip(tmp_path / "o.tpkx", members)
    report = convert_package(src, tmp_path / "o.mbtiles")
    assert report.tiles_written == 1 and report.skipped_out_of_grid == 1 and report.warnings
    report = convert_package(src, tmp_path / "o.gpkg")
    assert report.tiles_written == 2 and report.skipped_out_of_grid == 0


def test_report_and_info_are_json(tmp_path):
    src, _ = _raster_tpkx(tmp_path)
    report = convert_package(src, tmp_path / "x.mbtiles")
    data = json.loads(json.dumps(report.to_dict()))
    assert data["tiles_written"] == 21 and data["per_level"] == {"0": 1, "1": 4, "2": 16}
    assert data["seconds"] >= 0 and data["file_size"] > 0
    info = package_info(src)
    json.dumps(info)
    assert info["convertible_to"] == ["mbtiles", "gpkg"] and info["web_mercator"]


def test_error_in_the_middle_of_the_copy_removes_the_part_file(tmp_path):
    tiles = {(r, c): png(seed=r * 10 + c) for r in range(4) for c in range(4)}
    bundle, bundlx = v1(tiles)
    # corrupt the length prefix of one record: the index infers sizes from record spacing, the copy
    # checks every prefix and stops
    offset = int.from_bytes(bundlx[16 + 5 * (128 * 2 + 3):16 + 5 * (128 * 2 + 4)], "little")
    broken = bytearray(bundle)
    broken[offset:offset + 4] = (10**6).to_bytes(4, "little")
    src = write_zip(tmp_path / "b.tpk", tpk_members(wm_doc(), {"L02/R0000C0000.bundle": (bytes(broken), bundlx)}))
    with pytest.raises(PackageError, match="overlaps the next record"):
        convert_package(src, tmp_path / "b.mbtiles")
    assert not list(tmp_path.glob("b.mbtiles*"))


def test_package_info_counts_every_tiles_format_in_a_mixed_cache(tmp_path):
    # a MIXED cache: 30 JPEG tiles, then 6 PNG tiles (transparent edges) at the end of the same level;
    # a sample of the first 8 tiles per level would report {'jpg': 8} and hide every PNG
    jpeg = b"\xff\xd8\xff\xe0" + bytes(60)
    tiles = [(5, 0, c, jpeg) for c in range(30)] + [(5, 1, c, png(seed=c)) for c in range(6)]
    write_package("tpkx", tmp_path / "mixed.tpkx", wm_doc(fmt="MIXED"), tiles)
    info = package_info(tmp_path / "mixed.tpkx")
    (level,) = info["levels"]
    assert level["formats"] == {"jpg": 30, "png": 6}
    assert info["format"]["sniffed"] == {"jpg": 30, "png": 6} and info["format"]["counted"] == "every tile"
    sample = package_info(tmp_path / "mixed.tpkx", sniff_sample=8)
    assert sample["format"]["counted"] == "sample" and sum(sample["format"]["sniffed"].values()) == 8
