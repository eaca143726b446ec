"""Esri bundle and package writers: byte layouts of the reference (§6), layouts of real packages,
and GDAL reading what we write."""
from __future__ import annotations

import json
import re
import struct
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

import pytest

from arcgis_emulator import writers

WEB_MERCATOR = {"wkid": 102100, "latestWkid": 3857}
ORIGIN = 20037508.342787


def raster_doc(fmt: str = "PNG", levels: int = 20) -> dict:
    return {
        "currentVersion": 11.1, "mapName": "Layers", "name": "Test_Map",
        "spatialReference": dict(WEB_MERCATOR), "units": "esriMeters",
        "fullExtent": {"xmin": -ORIGIN, "ymin": -ORIGIN, "xmax": ORIGIN, "ymax": ORIGIN,
                       "spatialReference": dict(WEB_MERCATOR)},
        "tileInfo": {
            "rows": 256, "cols": 256, "dpi": 96, "format": fmt,
            "compressionQuality": 75 if fmt == "JPEG" else 0,
            "origin": {"x": -ORIGIN, "y": ORIGIN}, "spatialReference": dict(WEB_MERCATOR),
            "lods": [{"level": z, "resolution": 156543.03392800014 / 2 ** z, "scale": 591657527.591555 / 2 ** z}
                     for z in range(levels)],
        },
    }


def vector_doc() -> dict:
    doc = raster_doc("pbf")
    doc["tileInfo"].update(rows=512, cols=512)
    for lod in doc["tileInfo"]["lods"]:
        lod["resolution"] /= 2
        lod["scale"] /= 2
    doc.update(name="Test_Vector", type="indexedVector", maxzoom=19)
    return doc


# -- independent little readers (written from the reference text, not from the writer) -------------

def read_v2(buf: bytes) -> dict[tuple[int, int], bytes]:
    assert struct.unpack_from("<I", buf, 0)[0] == 3
    assert struct.unpack_from("<I", buf, 60)[0] == 131072
    out = {}
    for slot in range(16384):
        (entry,) = struct.unpack_from("<Q", buf, 64 + 8 * slot)
        offset, size = entry & ((1 << 40) - 1), entry >> 40
        if size:
            assert struct.unpack_from("<I", buf, offset - 4)[0] == size   # length prefix before data
            out[(slot // 128, slot % 128)] = buf[offset:offset + size]
    return out


def read_v1(bundle: bytes, bundlx: bytes) -> dict[tuple[int, int], bytes]:
    out = {}
    for slot in range(16384):
        offset = int.from_bytes(bundlx[16 + 5 * slot:21 + 5 * slot], "little")
        (size,) = struct.unpack_from("<I", bundle, offset)
        if size:
            out[(slot % 128, slot // 128)] = bundle[offset + 4:offset + 4 + size]   # column-major
    return out


def read_package(path: Path) -> dict[tuple[int, int, int], bytes]:
    tiles = {}
    with zipfile.ZipFile(path) as zf:
        for name in zf.namelist():
            m = re.search(r"/L(\d\d)/R([0-9a-f]{4,})C([0-9a-f]{4,})\.bundle$", "/" + name)
            if not m:
                continue
            level, r0, c0 = int(m[1]), int(m[2], 16), int(m[3], 16)
            if name.replace(".bundle", ".bundlx") in zf.namelist():
                found = read_v1(zf.read(name), zf.read(name.replace(".bundle", ".bundlx")))
            else:
                found = read_v2(zf.read(name))
            for (r, c), data in found.items():
                tiles[(level, r0 + r, c0 + c)] = data
    return tiles


def sample_tiles(n_levels: int = 3) -> list[tuple[int, int, int, bytes]]:
    tiles = []
    for z in range(n_levels):
        for r in range(2 ** z):
            for c in range(2 ** z):
                tiles.append((z, r, c, f"tile {z}/{r}/{c}".encode() * (1 + r + c)))
    return tiles


# -- Compact V2 -----------------------------------------------------------------------------------

def test_v2_header_index_and_records_follow_the_spec():
    tiles = {(6301, 2630): b"A" * 10, (6272, 2560): b"BB", (6399, 2687): b"C" * 300}
    buf = writers.v2_bundle(tiles)
    head = struct.unpack_from("<4I3Q6I", buf, 0)
    assert head == (3, 16384, 300, 5, 0, len(buf), 40, 131092, 3, 16, 16384, 5, 131072)
    # worked example of the reference: row 6301, col 2630 -> slot 3782, entry at byte 30320
    assert writers.bundle_name(6301, 2630) == "R1880C0a00"
    (entry,) = struct.unpack_from("<Q", buf, 30320)
    offset, size = entry & ((1 << 40) - 1), entry >> 40
    assert size == 10 and buf[offset:offset + 10] == b"A" * 10
    assert struct.unpack_from("<I", buf, offset - 4) == (10,)
    # first record starts right after the fixed part; everything else in the index is empty
    assert min(e & ((1 << 40) - 1) for e in struct.unpack_from("<16384Q", buf, 64) if e) == 131136 + 4
    assert sum(1 for e in struct.unpack_from("<16384Q", buf, 64) if e) == 3
    assert read_v2(buf) == {(29, 70): b"A" * 10, (0, 0): b"BB", (127, 127): b"C" * 300}
    assert len(buf) == 131136 + sum(4 + len(d) for d in tiles.values())


def test_v2_empty_bundle_and_bundle_spanning_errors():
    empty = writers.v2_bundle({})
    assert len(empty) == 131136
    assert struct.unpack_from("<4I3Q6I", empty, 0)[2] == 0
    with pytest.raises(ValueError, match="bundles"):
        writers.v2_bundle({(0, 0): b"x", (0, 128): b"y"})


@pytest.mark.parametrize(("row", "col", "name"), [(0, 0, "R0000C0000"), (127, 128, "R0000C0080"),
                                                  (70000, 300, "R11100C0100")])
def test_bundle_name_is_lowercase_hex_of_the_first_row_and_column(row, col, name):
    assert writers.bundle_name(row, col) == name


# -- Compact V1 -----------------------------------------------------------------------------------

def test_v1_bundlx_is_column_major_and_bundle_header_as_observed():
    tiles = {(1, 0): b"row1col0", (0, 1): b"row0col1-longer", (2, 5): b"xyz"}
    bundle, bundlx = writers.v1_bundle(tiles)
    assert len(bundlx) == 81952
    assert struct.unpack_from("<4I", bundlx, 0) == (3, 16, 16384, 5)
    assert struct.unpack_from("<4I", bundlx, 81936) == (0, 16, 16, 0)

    def offset(slot):
        return int.from_bytes(bundlx[16 + 5 * slot:21 + 5 * slot], "little")

    # slot = 128 * (col % 128) + row % 128: (row 1, col 0) -> 1, (row 0, col 1) -> 128
    assert bundle[offset(1) + 4:offset(1) + 12] == b"row1col0"
    assert bundle[offset(128) + 4:offset(128) + 19] == b"row0col1-longer"
    assert bundle[offset(128 * 5 + 2) + 4:][:3] == b"xyz"
    assert offset(0) == 60 and offset(2) == 60 + 8 and offset(16383) == 60 + 4 * 16383
    assert struct.unpack_from("<I", bundle, offset(0)) == (0,)
    assert struct.unpack_from("<15I", bundle, 0) == (3, 16384, 15, 5, 12, 0, len(bundle), 0, 40, 0, 16, 0,
                                                      127, 0, 127)
    assert min(offset(1), offset(128), offset(642)) == 65596    # first record right after placeholders


def test_v1_header_shape_matches_real_arcmap_bundles(real_fixtures):
    with zipfile.ZipFile(real_fixtures / "packages" / "tpkutils_states_filled.tpk") as zf:
        real = zf.read("v101/Layers/_alllayers/L02/R0000C0000.bundle")
        real_x = zf.read("v101/Layers/_alllayers/L02/R0000C0000.bundlx")
    real_tiles = read_v1(real, real_x)
    assert real_tiles, "the test's V1 reader finds the real tiles"
    mine, mine_x = writers.v1_bundle(real_tiles)
    assert read_v1(mine, mine_x) == real_tiles
    assert mine_x[:16] == real_x[:16] and mine_x[-16:] == real_x[-16:]
    assert struct.unpack_from("<15I", mine, 0) == struct.unpack_from("<15I", real, 0)
    assert len(mine) == len(real)


# -- tilemap ---------------------------------------------------------------------------------------

def test_tilemap_index_marks_leaves_children_and_holes():
    # level 0, the NW level-1 tile, and three of its level-2 children
    tiles = {(0, 0, 0), (1, 0, 0), (2, 0, 0), (2, 1, 0), (2, 1, 1)}
    assert writers.tilemap_index(tiles) == [[1, 0, 1, 1], 0, 0, 0]
    assert writers.tilemap_index({(0, 0, 0)}) == [0, 0, 0, 0]
    assert writers.tilemap_index({(0, 0, 0), (1, 0, 1), (1, 1, 0)}) == [0, 1, 1, 0]


def test_tilemap_of_a_real_vtpk_is_reproduced_from_its_tiles(real_fixtures, tmp_path):
    real = real_fixtures / "packages" / "esri_runtime_android_dodge_city.vtpk"
    tiles = read_package(real)
    with zipfile.ZipFile(real) as zf:
        expected = json.loads(zf.read("p12/tilemap/root.json"))
        root = json.loads(zf.read("p12/root.json"))
    assert {"index": writers.tilemap_index(tiles)} == expected
    out = tmp_path / "copy.vtpk"
    summary = writers.write_package("vtpk", out, root, [(*k, v) for k, v in tiles.items()])
    assert summary["tiles"] == 13 and summary["levels"][11] == 2
    with zipfile.ZipFile(out) as zf:
        assert json.loads(zf.read("p12/tilemap/root.json")) == expected
        metadata = json.loads(zf.read("p12/metadata.json"))
    assert {layer["id"] for layer in metadata["vector_layers"]} == {
        "Dodge_city_planet_osm_line_lines", "Dodge_city_planet_osm_point_points",
        "Dodge_city_planet_osm_polygon_polygons"}
    assert read_package(out) == tiles


# -- packages --------------------------------------------------------------------------------------

def _layout(names, kind):
    """Member names with bundle names and cache-root names normalised, fonts and .lyr dropped."""
    out = set()
    for member in names:
        if member.endswith(("/", ".lyr")) or "/fonts/" in member:
            continue
        name = re.sub(r"^[^/]*/(v101/)", r"\1", member)               # geotools' extra top folder
        name = re.sub(r"^v101/[^/]+/", "v101/ROOT/", name)
        out.add(re.sub(r"L\d\d/R[0-9a-f]+C[0-9a-f]+\.", "Lxx/RrrrrCcccc.", name))
    return out


REAL_BY_KIND = {
    "vtpk": ["esri_runtime_android_dodge_city.vtpk"],
    "tpkx": ["esri_tilepackagespec_Usa.tpkx", "spatialillusions_TPK2GPKG_wgs84.tpkx"],
    "tpk": ["tpkutils_states_filled.tpk", "tpkutils_alt_root_name.tpk"],
}


def _write(kind, path):
    doc = vector_doc() if kind == "vtpk" else raster_doc()
    tiles = sample_tiles()
    resources = None
    if kind == "vtpk":
        resources = {"styles/root.json": b'{"version":8,"layers":[]}', "sprites/sprite.json": b"{}",
                     "sprites/sprite.png": b"\x89PNG", "sprites/sprite@2x.json": b"{}",
                     "sprites/sprite@2x.png": b"\x89PNG", "fonts/Arial Regular/0-255.pbf": b"\n\x00"}
    extent = {"xmin": -1e6, "ymin": -2e6, "xmax": 3e6, "ymax": 4e6, "spatialReference": dict(WEB_MERCATOR)}
    summary = writers.write_package(kind, path, doc, tiles, resources=resources, extent=extent, title="Sample")
    return doc, tiles, summary


@pytest.mark.parametrize("kind", ["vtpk", "tpkx", "tpk"])
def test_package_tiles_round_trip_and_summary(kind, tmp_path):
    out = tmp_path / f"p.{kind}"
    _doc, tiles, summary = _write(kind, out)
    assert read_package(out) == {(z, r, c): d for z, r, c, d in tiles}
    assert summary == {"tiles": 21, "levels": {0: 1, 1: 4, 2: 16}, "bytes": out.stat().st_size}
    with zipfile.ZipFile(out) as zf:
        assert all(info.compress_type == zipfile.ZIP_STORED for info in zf.infolist())
        assert zf.testzip() is None


@pytest.mark.parametrize("kind", ["vtpk", "tpkx", "tpk"])
def test_package_layout_matches_real_packages(kind, tmp_path, real_fixtures):
    out = tmp_path / f"p.{kind}"
    _write(kind, out)
    with zipfile.ZipFile(out) as zf:
        mine = _layout(zf.namelist(), kind)
    for real_name in REAL_BY_KIND[kind]:
        with zipfile.ZipFile(real_fixtures / "packages" / real_name) as zf:
            real = _layout(zf.namelist(), kind)
        missing = real - mine
        assert not missing, f"{real_name} has members we do not write: {sorted(missing)}"


def _json_keys_missing(real: dict, mine: dict, where: str = "") -> list[str]:
    missing = []
    for key, value in real.items():
        if key not in mine:
            missing.append(where + key)
        elif isinstance(value, dict) and isinstance(mine[key], dict) and key != "spatialReference":
            missing += _json_keys_missing(value, mine[key], f"{where}{key}.")
    return missing


# members whose keys we compare, and keys real packages carry that a tile export has no source for
JSON_MEMBERS = {"vtpk": ["p12/root.json", "p12/resources/info/root.json"],
                "tpkx": ["root.json", "iteminfo.json"],
                "tpk": ["servicedescriptions/mapserver/mapserver.json"]}
# XML documents compared by their element names: the package item files, and a .tpk's cache
# definition (conf.xml: tiling scheme, conf.cdi: extent) wherever its cache root folder is.
XML_MEMBERS = ("esriinfo/iteminfo.xml", "esriinfo/item.pkinfo", "/conf.xml", "/conf.cdi")
NOT_EXPECTED = {"layers", "tileImageInfo.bandCount", "tileImageInfo.lercError"}


def _xml_member(zf: zipfile.ZipFile, member: str) -> str | None:
    """``member`` itself, or for a ``/name`` suffix the first cache folder's file of that name."""
    if not member.startswith("/"):
        return member if member in zf.namelist() else None
    return next((n for n in sorted(zf.namelist()) if n.startswith("v101/") and n.lower().endswith(member)), None)


@pytest.mark.parametrize("kind", ["vtpk", "tpkx", "tpk"])
def test_package_documents_have_the_keys_of_real_packages(kind, tmp_path, real_fixtures):
    out = tmp_path / f"p.{kind}"
    _write(kind, out)
    mine_zip = zipfile.ZipFile(out)
    for real_name in REAL_BY_KIND[kind]:
        with zipfile.ZipFile(real_fixtures / "packages" / real_name) as real_zip:
            for member in JSON_MEMBERS[kind]:
                real = json.loads(real_zip.read(member))
                mine = json.loads(mine_zip.read(member))
                missing = set(_json_keys_missing(real, mine)) - NOT_EXPECTED
                assert not missing, f"{member}: keys of {real_name} missing: {sorted(missing)}"
            for member in XML_MEMBERS:
                real_member = _xml_member(real_zip, member)
                if real_member is None:
                    continue
                mine_member = _xml_member(mine_zip, member)
                assert mine_member is not None, f"{real_name} has {real_member}, we write no {member}"
                real_tags = {e.tag for e in ET.fromstring(real_zip.read(real_member)).iter()}
                mine_tags = {e.tag for e in ET.fromstring(mine_zip.read(mine_member)).iter()}
                assert not real_tags - mine_tags, f"{real_member}: tags of {real_name} missing: " \
                                                  f"{sorted(real_tags - mine_tags)}"
    mine_zip.close()


def test_vtpk_root_json_is_what_qgis_needs(tmp_path):
    out = tmp_path / "p.vtpk"
    _write("vtpk", out)
    with zipfile.ZipFile(out) as zf:
        root = json.loads(zf.read("p12/root.json"))
        style = json.loads(zf.read("p12/resources/styles/root.json"))
        info = json.loads(zf.read("p12/resources/info/root.json"))
        item = ET.fromstring(zf.read("esriinfo/iteminfo.xml"))
    assert root["tileInfo"]["format"] == "pbf"
    assert root["resourceInfo"]["cacheInfo"]["storageInfo"] == {"packetSize": 128, "storageFormat": "compactV2"}
    assert root["resourceInfo"]["tileCompression"] == "gzip"
    assert root["type"] == "indexedVector" and root["tiles"] == ["tile/{z}/{y}/{x}.pbf"]
    assert (root["minLOD"], root["maxLOD"]) == (0, 2)
    assert any(lod["level"] == 0 for lod in root["tileInfo"]["lods"])
    assert root["fullExtent"]["xmin"] == -1e6 and root["fullExtent"]["spatialReference"]["latestWkid"] == 3857
    assert style == {"version": 8, "layers": []}
    assert "../fonts/Arial Regular/0-255.pbf" in info["resourceInfo"]
    # extent in WGS84 (expected values: PROJ, EPSG:3857 -> EPSG:4326)
    assert float(item.findtext("extent/xmin")) == pytest.approx(-8.983152841195214)
    assert float(item.findtext("extent/ymin")) == pytest.approx(-17.678914238335743)
    assert float(item.findtext("extent/xmax")) == pytest.approx(26.94945852358564)
    assert float(item.findtext("extent/ymax")) == pytest.approx(33.78523007002313)


def test_tpkx_root_json_has_the_reference_keys(tmp_path):
    out = tmp_path / "p.tpkx"
    _write("tpkx", out)
    with zipfile.ZipFile(out) as zf:
        root = json.loads(zf.read("root.json"))
        item = json.loads(zf.read("iteminfo.json"))
        thumb = zf.read("thumbnail.png")
    assert root["tileBundlesPath"] == "./tile"
    assert root["storageInfo"] == {"storageFormat": "esriMapCacheStorageModeCompactV2", "packetSize": 128}
    assert root["tileImageInfo"]["format"] == "PNG" and root["tileImageInfo"]["compressionQuality"] == 0
    assert root["spatialReference"]["latestWkid"] == 3857
    assert (root["minLOD"], root["maxLOD"]) == (0, 2)
    assert len(root["tileInfo"]["lods"]) == 20
    assert item["type"] == "Compact Tile Package"
    assert {"Compact Tile Package", "Tile Package", "tpkx"} <= set(item["typeKeywords"])
    assert item["extent"]["spatialReference"]["wkid"] == 4326
    assert thumb.startswith(b"\x89PNG\r\n\x1a\n")


def test_tpk_conf_xml_describes_a_compact_v1_cache(tmp_path):
    out = tmp_path / "p.tpk"
    _write("tpk", out)
    with zipfile.ZipFile(out) as zf:
        conf_bytes = zf.read("v101/Layers/conf.xml")
        cdi = ET.fromstring(zf.read("v101/Layers/conf.cdi"))
        service = json.loads(zf.read("servicedescriptions/mapserver/mapserver.json"))
    assert len(conf_bytes) >= 512
    conf = ET.fromstring(conf_bytes)
    tci = conf.find("TileCacheInfo")
    assert "Mercator_Auxiliary_Sphere" in tci.findtext("SpatialReference/WKT")
    assert tci.findtext("SpatialReference/WKID") == "102100"
    assert tci.findtext("SpatialReference/LatestWKID") == "3857"
    assert float(tci.findtext("TileOrigin/X")) == -ORIGIN
    assert (tci.findtext("TileCols"), tci.findtext("TileRows"), tci.findtext("DPI")) == ("256", "256", "96")
    assert [int(e.findtext("LevelID")) for e in tci.iter("LODInfo")] == [0, 1, 2]
    assert conf.findtext("TileImageInfo/CacheTileFormat") == "PNG"
    assert conf.findtext("CacheStorageInfo/StorageFormat") == "esriMapCacheStorageModeCompact"
    assert float(cdi.findtext("XMin")) == -1e6
    assert service["resourceInfo"]["geoFullExtent"]["xmin"] == pytest.approx(-8.983152841195214)


def test_geographic_package_keeps_degrees(tmp_path):
    doc = raster_doc()
    wgs = {"wkid": 4326, "latestWkid": 4326}
    doc["spatialReference"] = wgs
    doc["tileInfo"].update(rows=512, cols=512, origin={"x": -180, "y": 90}, spatialReference=wgs,
                           lods=[{"level": z, "resolution": 0.703125 / 2 ** z, "scale": 295829355.45 / 2 ** z}
                                 for z in range(5)])
    doc["fullExtent"] = {"xmin": -180, "ymin": -90, "xmax": 180, "ymax": 90, "spatialReference": wgs}
    del doc["units"]
    out = tmp_path / "g.tpkx"
    writers.write_package("tpkx", out, doc, [(1, 0, 1, b"t")])
    with zipfile.ZipFile(out) as zf:
        root = json.loads(zf.read("root.json"))
        item = json.loads(zf.read("iteminfo.json"))
    # L1 tile (0, 1) covers lon 0..180, lat 90..-90
    assert root["fullExtent"]["xmin"] == 0 and root["fullExtent"]["xmax"] == 180
    assert item["extent"]["xmin"] == 0 and item["extent"]["ymin"] == -90
    assert root["units"] == "esriDecimalDegrees"
    assert root["tileInfo"]["origin"] == {"x": -180, "y": 90}


def test_out_of_order_tiles_from_a_generator_are_refused(tmp_path):
    def gen():
        yield (1, 0, 0, b"a")
        yield (0, 0, 0, b"b")
    with pytest.raises(ValueError, match="ordered"):
        writers.write_package("tpkx", tmp_path / "x.tpkx", raster_doc(), gen())
    assert not (tmp_path / "x.tpkx").exists()
    # a list in any order is fine
    writers.write_package("tpkx", tmp_path / "y.tpkx", raster_doc(), [(1, 0, 0, b"a"), (0, 0, 0, b"b")])
    assert len(read_package(tmp_path / "y.tpkx")) == 2


def test_gdal_reads_a_written_compact_v2_cache_folder(tmp_path):
    gdal = pytest.importorskip("osgeo.gdal")
    gdal.UseExceptions()
    # an independent PNG encoder: GDAL's own, from a known pattern
    tiles = []
    for r in range(2):
        for c in range(2):
            mem = gdal.GetDriverByName("MEM").Create("", 256, 256, 4)
            for band, value in enumerate((40 + 100 * r, 60 + 100 * c, 200, 255), start=1):
                mem.GetRasterBand(band).Fill(value)
            mem.GetRasterBand(1).WriteRaster(10, 20, 5, 5, bytes([7]) * 25)
            gdal.GetDriverByName("PNG").CreateCopy(f"/vsimem/t{r}{c}.png", mem)
            f = gdal.VSIFOpenL(f"/vsimem/t{r}{c}.png", "rb")
            gdal.VSIFSeekL(f, 0, 2)
            size = gdal.VSIFTellL(f)
            gdal.VSIFSeekL(f, 0, 0)
            tiles.append((1, r, c, gdal.VSIFReadL(1, size, f)))
            gdal.VSIFCloseL(f)
            gdal.Unlink(f"/vsimem/t{r}{c}.png")
    writers.write_cache_folder(tmp_path / "Layers", raster_doc("PNG"), tiles, max_level=1)
    ds = gdal.Open(str(tmp_path / "Layers" / "conf.xml"))
    assert ds.GetDriver().ShortName == "ESRIC"
    assert (ds.RasterXSize, ds.RasterYSize, ds.RasterCount) == (512, 512, 4)
    assert "3857" in ds.GetProjectionRef() or "Mercator" in ds.GetProjectionRef()
    gt = ds.GetGeoTransform()
    assert gt[0] == pytest.approx(-ORIGIN) and gt[1] == pytest.approx(156543.03392800014 / 2)
    # tile (row 1, col 0): R = 140, G = 60, B = 200, with a 5×5 patch of R = 7 at (10, 20)
    red = ds.GetRasterBand(1).ReadRaster(0, 256, 256, 256)
    green = ds.GetRasterBand(2).ReadRaster(0, 256, 256, 256)
    assert red[20 * 256 + 10] == 7 and red[0] == 140 and red[-1] == 140
    assert set(green) == {60}
    assert ds.GetRasterBand(2).ReadRaster(256, 0, 1, 1) == bytes([160])


def test_row_major_tiles_across_bundles_and_spilled_to_disk_round_trip(tmp_path):
    # a level 9 band spanning three bundles, fed row by row (bundles interleave)
    tiles = [(9, r, c, f"{r}/{c}".encode() * 50) for r in range(120, 140) for c in range(100, 300)]
    bundler = writers._Bundler(memory_limit=10_000)          # forces the temporary spool file
    out = {}
    for level, r0, c0, btiles in bundler.run(iter(tiles)):
        assert level == 9 and r0 % 128 == 0 and c0 % 128 == 0
        for (r, c), data in btiles.items():
            assert (r // 128 * 128, c // 128 * 128) == (r0, c0)
            assert (r, c) not in out
            out[(r, c)] = data
    assert out == {(r, c): d for _z, r, c, d in tiles}
    assert bundler.count == len(tiles) and bundler.bounds[9] == [120, 100, 139, 299]
    path = tmp_path / "band.tpkx"
    summary = writers.write_package("tpkx", path, raster_doc(), iter(tiles))
    assert summary["tiles"] == 4000
    assert read_package(path) == {(z, r, c): d for z, r, c, d in tiles}
    with zipfile.ZipFile(path) as zf:
        assert sorted(n for n in zf.namelist() if n.endswith(".bundle")) == [
            "tile/L09/R0000C0000.bundle", "tile/L09/R0000C0080.bundle", "tile/L09/R0000C0100.bundle",
            "tile/L09/R0080C0000.bundle", "tile/L09/R0080C0080.bundle", "tile/L09/R0080C0100.bundle"]
