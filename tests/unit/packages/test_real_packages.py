"""Every real package in ../shared/fixtures/real/packages against expected.json (pure Python checks).

Decoding images and opening the outputs with GDAL/QGIS lives in tests/qgis/packages.
"""
from __future__ import annotations

import json
import random
import sqlite3
import struct
import tarfile
from pathlib import Path

import pytest

from plugin.core.errors import PackageError
from plugin.core.packages import convert_package, formats, mvt, open_package, package_info, sinks
from tests.conftest import REAL_FIXTURES, require_shared
from tests.unit.packages.helpers import assert_center_in_view

NAMES = sorted(json.loads((REAL_FIXTURES / "expected.json").read_text())) if REAL_FIXTURES.is_dir() else [
    "(../shared absent)"]

# expected.json names formats by sniffing; ours: see formats.sniff and TilePackage.sniff_formats
SNIFF_NAMES = {"png": "png", "jpg": "jpg", "gzip>pbf(raw)": "pbf-gzip", "unknown:0d0a1a0a0000000d": "png-headless"}


@pytest.fixture(scope="module")
def expected() -> dict:
    return json.loads((require_shared() / "expected.json").read_text())


def _path(name: str) -> Path:
    return require_shared() / "packages" / name


@pytest.mark.parametrize("name", NAMES)
def test_levels_counts_and_ranges_match_expected(name, expected):
    exp = expected[name]
    with open_package(_path(name)) as pkg:
        got = {str(level): info.tiles for level, info in pkg.levels_info().items()}
        assert got == exp["tiles_per_level"]
        for level, info in pkg.levels_info().items():
            lexp = exp["levels"][str(level)]
            assert [info.min_row, info.max_row] == lexp["row_range"], level
            assert [info.min_col, info.max_col] == lexp["col_range"], level
            formats_ = {SNIFF_NAMES[k]: v for k, v in lexp["formats"].items()}
            assert pkg.sniff_formats(level) == formats_
        assert pkg.tile_count == sum(exp["tiles_per_level"].values())


@pytest.mark.parametrize("name", NAMES)
def test_scheme_matches_expected(name, expected):
    exp = expected[name]
    with open_package(_path(name)) as pkg:
        sr = pkg.scheme.spatial_ref
        assert sr.wkid == exp["wkid"]
        if exp["latestWkid"] is not None:  # the .tpk conf.xml files add LatestWKID 3857 the ground truth omits
            assert sr.latest_wkid == exp["latestWkid"]
        assert [pkg.scheme.origin_x, pkg.scheme.origin_y] == pytest.approx(exp["origin"])
        assert [pkg.scheme.tile_cols, pkg.scheme.tile_rows] == exp["tile_size"]
        if exp["format"] is not None:
            assert pkg.declared_format == exp["format"]
        else:
            # tpkx: no tileInfo.format; the declared format is root.json's tileImageInfo.format
            assert pkg.kind == "tpkx" and pkg.declared_format == "PNG"
        container = {"dir": "dir", "zip": "zip", "tar": "tar"}[exp["container"]]
        assert pkg.container == container
        assert pkg.storage == ("compactV1" if exp["compact"].startswith("V1") else "compactV2")


# The web zoom of each level with tiles (None: not Web Mercator on the XYZ grid), from the schemes
# MANIFEST.md describes: LOD 0 at 156543.03 m/px (256 px) or 78271.52 (512 px) is zoom 0, levels halve.
ZOOMS = {
    "esri_raster-tiles-compactcache_sample_cache": [0, 1, 2],
    "esri_runtime_android_dodge_city.vtpk": list(range(12)),
    "esri_tilepackagespec_Usa.tpkx": list(range(6)),
    "gdal_esric_Layers.tar": [1],
    "geotools_sample_v1.tpk": [1, 2],
    "spatialillusions_TPK2GPKG_wgs84.tpkx": [None] * 6,  # EPSG:4326
    "tpkutils_alt_root_name.tpk": [0, 1],
    "tpkutils_states_filled.tpk": [0, 1, 2, 3, 4],
}


def _kind(exp: dict) -> str:
    """The package kind expected.json implies: vector, else zip V1 / zip V2, else a cache folder."""
    if exp["format"] == "pbf":
        return "vtpk"
    if exp["container"] == "zip":
        return "tpk" if exp["compact"].startswith("V1") else "tpkx"
    return "cache"


def test_kinds_titles_and_zoom_mapping(expected):
    assert set(ZOOMS) == set(expected)  # every real package, none left out
    for name, exp in expected.items():
        levels = sorted(map(int, exp["tiles_per_level"]))
        with open_package(_path(name)) as pkg:
            assert pkg.kind == _kind(exp), name
            assert pkg.levels == levels, name
            assert [pkg.zoom_for_level(level) for level in levels] == ZOOMS[name], name
            assert pkg.title
    with open_package(_path("esri_tilepackagespec_Usa.tpkx")) as pkg:
        assert pkg.title == "Usa"
        assert [lod.level for lod in pkg.scheme.lods] == list(range(6))  # minLOD/maxLOD honoured
        assert pkg.extent is not None and pkg.extent.spatial_ref.code == 3857
    with open_package(_path("tpkutils_alt_root_name.tpk")) as pkg:
        assert pkg.name == "alt_root_name"
    with open_package(_path("tpkutils_states_filled.tpk")) as pkg:
        assert pkg.title == "states_filled"  # esriinfo/iteminfo.xml
        assert pkg.extent is not None and pkg.extent.spatial_ref.code == 3857  # from conf.cdi


def test_random_tiles_match_iteration():
    rng = random.Random(7)
    for name in NAMES:
        with open_package(_path(name)) as pkg:
            tiles = list(pkg.iter_tiles())
            assert len(tiles) == pkg.tile_count
            for tile in rng.sample(tiles, min(10, len(tiles))):
                assert pkg.tile(tile.level, tile.row, tile.col) == tile.data
            lvl = tiles[0].level
            assert pkg.tile(lvl, 10**6, 10**6) is None
            assert pkg.tile(99, 0, 0) is None
            assert pkg.tile(lvl, -1, 0) is None


def test_usa_headless_pngs_are_repaired_exactly():
    with open_package(_path("esri_tilepackagespec_Usa.tpkx")) as pkg:
        for level in (0, 1):
            (tile,) = list(pkg.iter_tiles(level))
            assert tile.data.startswith(b"\r\n\x1a\n")
            assert not formats.is_valid_png(tile.data)
            fixed = formats.repair_png(tile.data)
            assert fixed is not None and formats.is_valid_png(fixed)
            assert fixed == b"\x89PNG" + tile.data[:-4]  # the 4 surplus trailing bytes dropped
            assert struct.unpack_from(">II", fixed, 16) == (256, 256)  # IHDR's width and height
        for tile in pkg.iter_tiles(2):
            assert formats.repair_png(tile.data) is None  # normal PNGs are left alone
            assert formats.is_valid_png(tile.data)


def test_vtpk_resources_style_tilemap_and_layers():
    with open_package(_path("esri_runtime_android_dodge_city.vtpk")) as pkg:
        assert pkg.is_vector and pkg.has_style
        res = pkg.resources()
        assert "styles/root.json" in res and "sprites/sprite@2x.png" in res
        assert sum(r.startswith("fonts/Tahoma Regular/") for r in res) == 32
        assert pkg.resource("sprites/sprite.png").startswith(b"\x89PNG")
        assert pkg.resource("p12/resources/sprites/sprite.json")  # full path accepted too
        style = pkg.style
        assert style["version"] == 8 and {layer["source-layer"] for layer in style["layers"]} == {
            "Dodge_city_planet_osm_polygon_polygons", "Dodge_city_planet_osm_line_lines",
            "Dodge_city_planet_osm_point_points"}
        with pytest.raises(Exception, match="no resource"):
            pkg.resource("styles/missing.json")
        assert pkg.tilemap is not None
        for level, row, col, _size in pkg.iter_index():
            assert pkg.tilemap_status(level, row, col) == "present"
        assert pkg.tilemap_status(11, 0, 0) == "absent"
        extents = set()
        for tile in pkg.iter_tiles():
            layers = mvt.decode_layers(tile.data)
            assert {layer.name for layer in layers} <= {"Dodge_city_planet_osm_polygon_polygons",
                                                         "Dodge_city_planet_osm_line_lines",
                                                         "Dodge_city_planet_osm_point_points"}
            extents |= {layer.extent for layer in layers}
        assert extents == {4096, 131072}  # variable MVT extents (MANIFEST): nothing assumes 4096


@pytest.mark.parametrize("name", NAMES)
def test_conversion_keeps_every_tile(name, expected, tmp_path):
    exp = expected[name]
    total = sum(exp["tiles_per_level"].values())
    out = tmp_path / "out.auto"
    report = convert_package(_path(name), out)
    assert report.tiles_written == total and report.duplicates == 0
    assert report.skipped_out_of_grid == 0
    assert not list(tmp_path.glob("*.part"))
    con = sqlite3.connect(out)
    try:
        if report.format == "mbtiles":
            assert con.execute("SELECT count(*) FROM tiles").fetchone()[0] == total
            meta = dict(con.execute("SELECT name, value FROM metadata"))
            assert meta["format"] in ("png", "jpg", "pbf")
            assert int(meta["minzoom"]) <= int(meta["maxzoom"])
            west, south, east, north = map(float, meta["bounds"].split(","))
            assert -180 <= west < east <= 180 and -85.06 <= south < north <= 85.06
            assert_center_in_view(meta)
        else:
            table = con.execute("SELECT table_name FROM gpkg_contents").fetchone()[0]
            assert con.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0] == total
            assert con.execute("PRAGMA application_id").fetchone()[0] == 1196444487
            assert con.execute("PRAGMA user_version").fetchone()[0] == 10200
    finally:
        con.close()
    if name == "esri_tilepackagespec_Usa.tpkx":
        assert report.repaired_png == 2
    if name == "esri_runtime_android_dodge_city.vtpk":
        assert report.format == "mbtiles" and report.regzipped == 0
    if name == "spatialillusions_TPK2GPKG_wgs84.tpkx":
        assert report.format == "gpkg"


@pytest.mark.parametrize("name", NAMES)
def test_real_packages_are_far_inside_the_conversion_bounds(name, tmp_path):
    """Esri's packages repeat no record: their tiles add up to less than the package (the expansion
    bound allows 8 times that), and the free space a conversion asks for covers what it writes."""
    with open_package(_path(name)) as pkg:
        assert pkg.record_sharing() == (0, 0)
        assert pkg.tile_bytes <= pkg.stored_bytes()
        estimate = sinks.estimate_output(pkg.tile_bytes, pkg.tile_count)
    for fmt in ("mbtiles", "gpkg"):
        try:
            report = convert_package(_path(name), tmp_path / f"out.{fmt}", fmt)
        except PackageError as exc:  # a scheme the format cannot hold, refused before writing
            assert "cannot" in exc.user_message and not (tmp_path / f"out.{fmt}").exists()
            continue
        assert report.file_size <= estimate, fmt


@pytest.mark.parametrize("name", NAMES)
def test_package_info_is_json(name, expected):
    info = package_info(_path(name))
    text = json.dumps(info)
    again = json.loads(text)
    assert again["tile_count"] == sum(expected[name]["tiles_per_level"].values())
    assert {str(lvl["level"]): lvl["tiles"] for lvl in again["levels"]} == expected[name]["tiles_per_level"]
    assert again["scheme"]["tile_size"] == expected[name]["tile_size"]
    assert again["kind"] in ("vtpk", "tpkx", "tpk", "cache")
    # formats are counted over every tile, level by level, as the ground truth sniffed them
    for level in again["levels"]:
        want = {SNIFF_NAMES[k]: v for k, v in expected[name]["levels"][str(level["level"])]["formats"].items()}
        assert level["formats"] == want, level["level"]
    assert again["format"]["counted"] == "every tile"


def test_folder_forms_open_the_same_cache(tmp_path):
    folder = _path("esri_raster-tiles-compactcache_sample_cache")
    counts = []
    for form in (folder, folder / "conf.xml"):
        with open_package(form) as pkg:
            counts.append(pkg.tile_count)
    with tarfile.open(_path("gdal_esric_Layers.tar")) as tar:
        if hasattr(tarfile, "data_filter"):
            tar.extractall(tmp_path, filter="data")
        else:  # Python < 3.12
            tar.extractall(tmp_path)
    (tmp_path / "Layers" / "conf.xml").rename(tmp_path / "Layers" / "Conf.xml")
    for form in (tmp_path, tmp_path / "Layers", tmp_path / "Layers" / "Conf.xml"):
        with open_package(form) as pkg:
            counts.append(pkg.tile_count)
    assert counts == [21, 21, 4, 4, 4]
