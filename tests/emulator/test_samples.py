"""The emulator's sample services: documents, tiles (decoded independently), style resources, deep
raster tiles derived on demand, and the reuse of the generated tile cache."""
from __future__ import annotations

import json
import math
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from arcgis_emulator import samples as samples_mod
from arcgis_emulator.samples import GENERATOR_VERSION, default_cache_dir, load_sample_services

KEYS = ["World_Vector/VectorTileServer", "World_Map/MapServer", "World_Imagery/ImageServer",
        "World_Geographic/MapServer"]
RASTER_KEYS = KEYS[1:]


@pytest.fixture(scope="module")
def services():
    return load_sample_services()


def _image(data: bytes):
    from qgis.PyQt.QtGui import QImage

    image = QImage.fromData(data)
    assert not image.isNull(), "tile bytes do not decode as an image"
    return image


def _mvt_layers(data: bytes, tmp_path) -> dict[str, list[dict]]:
    """Decode a (gzipped) MVT with GDAL's MVT driver: {layer: [attributes]}."""
    from osgeo import gdal

    gdal.UseExceptions()
    path = tmp_path / "tile.pbf"
    path.write_bytes(data)
    ds = gdal.OpenEx(str(path), gdal.OF_VECTOR, allowed_drivers=["MVT"])
    out = {}
    for i in range(ds.GetLayerCount()):
        layer = ds.GetLayer(i)
        out[layer.GetName()] = [feature.items() for feature in layer]
    return out


def _mercator_tile(lon: float, lat: float, level: int) -> tuple[int, int]:
    n = 2 ** level
    col = int((lon + 180.0) / 360.0 * n)
    y = math.log(math.tan(math.radians(lat)) + 1 / math.cos(math.radians(lat)))
    return int((1 - y / math.pi) / 2 * n), col


# -- documents -------------------------------------------------------------------------------------

def test_all_sample_services_are_there(services):
    assert sorted(services) == sorted(KEYS)
    for key, service in services.items():
        assert f"{service.name}/{service.kind}" == key


@pytest.mark.parametrize("key", KEYS)
def test_documents_carry_what_a_real_server_sends(services, key):
    doc = services[key].document
    for field in ("currentVersion", "capabilities", "tileInfo", "fullExtent", "initialExtent", "spatialReference",
                  "minLOD", "maxLOD", "minScale", "maxScale", "units"):
        assert field in doc, field
    assert doc["exportTilesAllowed"] is True and doc["maxExportTilesCount"] == 100000
    ti = doc["tileInfo"]
    for field in ("rows", "cols", "dpi", "format", "origin", "spatialReference", "lods"):
        assert field in ti, field
    assert set(ti["spatialReference"]) == {"wkid", "latestWkid"}
    lods = ti["lods"]
    assert [lod["level"] for lod in lods] == list(range(len(lods)))
    assert (doc["minLOD"], doc["maxLOD"]) == (0, lods[-1]["level"])
    for a, b in zip(lods, lods[1:]):
        assert b["resolution"] == pytest.approx(a["resolution"] / 2)
        assert b["scale"] == pytest.approx(a["scale"] / 2)
    assert doc["minScale"] == lods[0]["scale"] and doc["maxScale"] == lods[-1]["scale"]
    for env in (doc["fullExtent"], doc["initialExtent"]):
        assert env["xmin"] < env["xmax"] and env["ymin"] < env["ymax"]
        assert env["spatialReference"]["wkid"] == ti["spatialReference"]["wkid"]
    if key.endswith("VectorTileServer"):
        assert doc["type"] == "indexedVector" and doc["tileMap"] == "tilemap"
        assert doc["defaultStyles"] == "resources/styles" and doc["tiles"] == ["tile/{z}/{y}/{x}.pbf"]
        assert doc["resourceInfo"]["styleVersion"] == 8 and doc["resourceInfo"]["tileCompression"] == "gzip"
        assert doc["resourceInfo"]["cacheInfo"]["storageInfo"] == {"packetSize": 128, "storageFormat": "compactV2"}
        assert ti["format"] == "pbf"
    else:
        assert doc["singleFusedMapCache"] is True
        assert doc["storageInfo"] == {"storageFormat": "esriMapCacheStorageModeCompactV2", "packetSize": 128}
        assert "compressionQuality" in ti


def test_tiling_schemes_are_the_esri_ones(services):
    vector = services["World_Vector/VectorTileServer"].document["tileInfo"]
    assert (vector["rows"], vector["origin"]) == (512, {"x": -20037508.342787, "y": 20037508.342787})
    assert vector["spatialReference"] == {"wkid": 102100, "latestWkid": 3857}
    assert vector["lods"][0]["resolution"] == 78271.516964
    assert len(vector["lods"]) >= 7
    for key in ("World_Map/MapServer", "World_Imagery/ImageServer"):
        ti = services[key].document["tileInfo"]
        assert ti["rows"] == ti["cols"] == 256
        assert ti["lods"][0] == {"level": 0, "resolution": 156543.03392800014, "scale": 591657527.591555}
        assert ti["lods"][-1]["level"] == 10
    assert services["World_Imagery/ImageServer"].document["tileInfo"]["format"] == "JPEG"
    assert services["World_Imagery/ImageServer"].document["tileInfo"]["compressionQuality"] == 75
    geo = services["World_Geographic/MapServer"].document["tileInfo"]
    assert geo["spatialReference"]["wkid"] == 4326 and geo["origin"] == {"x": -180.0, "y": 90.0}
    assert (geo["rows"], geo["lods"][0]["resolution"]) == (512, 0.703125)
    assert geo["lods"][-1]["level"] == 10


# -- raster tiles ----------------------------------------------------------------------------------

@pytest.mark.parametrize("key", RASTER_KEYS)
def test_raster_tiles_decode_at_every_kind_of_level(services, key):
    service = services[key]
    ti = service.document["tileInfo"]
    size = ti["rows"]
    magic = b"\xff\xd8\xff" if ti["format"] == "JPEG" else b"\x89PNG\r\n\x1a\n"
    for level in (0, 2, len(ti["lods"]) - 1):
        data = service.get_tile(level, 0, 0)
        assert data is not None and data.startswith(magic), (key, level)
        image = _image(data)
        assert (image.width(), image.height()) == (size, size)


def test_rendered_map_shows_land_and_sea(services):
    # level 3 tile over central Europe vs a tile over the open South Pacific
    from qgis.PyQt.QtGui import QColor

    service = services["World_Map/MapServer"]
    water = QColor("#aad3df").rgb()
    land = _image(service.get_tile(3, *_mercator_tile(10.0, 48.0, 3)))
    sea = _image(service.get_tile(3, *_mercator_tile(-130.0, -45.0, 3)))
    land_px = [land.pixel(x, y) for x in range(0, 256, 4) for y in range(0, 256, 4)]
    sea_px = [sea.pixel(x, y) for x in range(0, 256, 4) for y in range(0, 256, 4)]
    assert len(set(land_px)) > 5, "country fills, borders and labels"
    assert land_px.count(water) < 0.5 * len(land_px)
    assert sea_px.count(water) > 0.95 * len(sea_px)


def test_geographic_grid_has_two_columns_per_row_of_the_world(services):
    service = services["World_Geographic/MapServer"]
    assert service.get_tile(0, 0, 0) is not None
    assert service.get_tile(0, 0, 1) is None             # one L0 tile is 360° wide
    assert service.get_tile(1, 0, 0) is not None and service.get_tile(1, 0, 1) is not None
    assert service.get_tile(1, 1, 0) is None             # L1: 2 × 1 tiles of 180°
    assert service.get_tile(4, 7, 15) is not None and service.get_tile(4, 8, 0) is None
    assert (_image(service.get_tile(1, 0, 1)).width()) == 512


@pytest.mark.parametrize("key", RASTER_KEYS)
def test_addresses_outside_the_grid_have_no_tile(services, key):
    service = services[key]
    deepest = service.document["tileInfo"]["lods"][-1]["level"]
    assert service.get_tile(deepest + 1, 0, 0) is None
    assert service.get_tile(0, -1, 0) is None
    assert service.get_tile(2, 0, 4) is None


def test_deep_raster_tiles_are_fast_valid_and_consistent_across_threads(services):
    jobs = []
    for key, level in (("World_Map/MapServer", 10), ("World_Imagery/ImageServer", 9),
                       ("World_Geographic/MapServer", 10)):
        for i in range(8):
            jobs.append((key, level, 60 + 7 * i, 100 + 5 * i))     # inside every grid (geographic: 128 rows)
    start = time.monotonic()
    with ThreadPoolExecutor(8) as pool:
        parallel = list(pool.map(lambda j: services[j[0]].get_tile(*j[1:]), jobs))
    elapsed = time.monotonic() - start
    assert all(p is not None for p in parallel)
    assert elapsed < 0.5 * len(jobs), f"{len(jobs)} deep tiles took {elapsed:.1f} s"
    again = [services[j[0]].get_tile(*j[1:]) for j in jobs]      # now from the on-disk cache
    assert again == parallel
    for (key, *_rest), data in zip(jobs, parallel):
        image = _image(data)
        assert image.width() == services[key].document["tileInfo"]["cols"]


def test_a_derived_tile_is_the_enlarged_quarter_of_its_parent(services):
    from qgis.PyQt.QtCore import Qt

    service = services["World_Map/MapServer"]
    row, col = _mercator_tile(10.0, 48.0, 6)
    child = _image(service.get_tile(6, row, col))
    parent = _image(service.get_tile(5, row // 2, col // 2))
    quarter = parent.copy((col % 2) * 128, (row % 2) * 128, 128, 128)
    small_child = child.scaled(128, 128, Qt.AspectRatioMode.IgnoreAspectRatio,
                               Qt.TransformationMode.SmoothTransformation)

    def mean(image):
        px = [image.pixelColor(x, y) for x in range(0, 128, 4) for y in range(0, 128, 4)]
        return [sum(getattr(c, ch)() for c in px) / len(px) for ch in ("red", "green", "blue")]

    assert mean(small_child) == pytest.approx(mean(quarter), abs=6)
    other = parent.copy((1 - col % 2) * 128, (1 - row % 2) * 128, 128, 128)
    assert mean(other) != pytest.approx(mean(quarter), abs=1)     # the comparison can tell quarters apart


# -- vector tiles ----------------------------------------------------------------------------------

def test_vector_tile_over_land_has_countries_with_names(services, tmp_path):
    service = services["World_Vector/VectorTileServer"]
    row, col = _mercator_tile(10.0, 50.0, 4)
    data = service.get_tile(4, row, col)
    assert data is not None and data[:2] == b"\x1f\x8b"
    layers = _mvt_layers(data, tmp_path)
    assert {"countries", "states"} <= set(layers)
    names = {f["name"] for f in layers["countries"]}
    assert {"Germany", "France", "Italy"} <= names
    assert all(isinstance(f["_symbol"], int) for f in layers["countries"])
    assert "Germany" in {f["name"] for f in layers["country_labels"]}


def test_vector_ocean_tile_is_absent(services):
    service = services["World_Vector/VectorTileServer"]
    assert service.get_tile(4, *_mercator_tile(-130.0, -45.0, 4)) is None       # South Pacific
    assert service.get_tile(6, *_mercator_tile(-30.0, -40.0, 6)) is None        # South Atlantic
    deepest = service.document["tileInfo"]["lods"][-1]["level"]
    assert service.get_tile(deepest + 1, 0, 0) is None


def test_tilemap_matches_the_tiles_served(services):
    service = services["World_Vector/VectorTileServer"]
    index = service.tilemap["index"]

    def state(level, row, col):
        node = index
        for k in range(1, level + 1):
            shift = level - k
            node = node[((col >> shift) & 1) + 2 * ((row >> shift) & 1)]
            if not isinstance(node, list):
                return "leaf" if (node == 1 and k == level) else ("absent" if node == 0 else "overzoom")
        return "parent"

    seen = {"leaf": 0, "parent": 0, "absent": 0, "overzoom": 0}
    deepest = service.document["tileInfo"]["lods"][-1]["level"]
    for level in range(1, 5):
        for row in range(2 ** level):
            for col in range(2 ** level):
                s = state(level, row, col)
                exists = service.get_tile(level, row, col) is not None
                assert exists == (s in ("leaf", "parent")), (level, row, col, s)
                seen[s] += 1
    assert seen["parent"] and seen["absent"]
    # sparse like Esri's caches: leaves above the deepest level, over-zoomed below them
    assert seen["leaf"] and seen["overzoom"]
    row, col = _mercator_tile(10.0, 50.0, deepest)  # central Europe: detailed down to the deepest level
    assert state(deepest, row, col) == "leaf"


def test_the_vector_service_is_sparse_where_a_tile_holds_little(services):
    from arcgis_emulator.writers import mvt_vertex_count

    service = services["World_Vector/VectorTileServer"]
    deepest = service.document["tileInfo"]["lods"][-1]["level"]
    leaves = 0
    for level in range(deepest):
        for row in range(2 ** level):
            for col in range(2 ** level):
                data = service.get_tile(level, row, col)
                if data is None:
                    continue
                children = [service.get_tile(level + 1, 2 * row + dr, 2 * col + dc) for dr in (0, 1) for dc in (0, 1)]
                if mvt_vertex_count(data) <= samples_mod.LEAF_VERTICES:
                    assert children == [None] * 4, (level, row, col)  # a leaf: nothing under it
                    leaves += 1
    assert leaves > 50


def test_style_sprites_and_glyphs_are_usable(services, tmp_path):
    from qgis.core import QgsMapBoxGlStyleConversionContext, QgsMapBoxGlStyleConverter

    service = services["World_Vector/VectorTileServer"]
    res = service.resources
    for key in ("styles/root.json", "sprites/sprite.json", "sprites/sprite.png", "sprites/sprite@2x.json",
                "sprites/sprite@2x.png"):
        assert key in res, key
    style = json.loads(res["styles/root.json"])
    assert style["version"] == 8 and style["sprite"] == "../sprites/sprite"
    assert style["glyphs"] == "../fonts/{fontstack}/{range}.pbf"
    assert style["sources"] == {"esri": {"type": "vector", "url": "../../"}}
    kinds = {layer["type"] for layer in style["layers"]}
    assert {"background", "fill", "line", "symbol"} <= kinds
    # every source-layer of the style exists in the tiles
    row, col = _mercator_tile(10.0, 50.0, 4)
    tile_layers = set(_mvt_layers(service.get_tile(4, row, col), tmp_path))
    assert {layer["source-layer"] for layer in style["layers"] if "source-layer" in layer} <= tile_layers | {"disputed"}
    # the glyph ranges of every font the style uses are there
    fonts = {f for layer in style["layers"] for f in layer.get("layout", {}).get("text-font", [])}
    assert fonts and all(f"fonts/{font}/0-255.pbf" in res for font in fonts)
    # QGIS converts the style
    ctx = QgsMapBoxGlStyleConversionContext()
    converter = QgsMapBoxGlStyleConverter()
    assert converter.convert(style, ctx) == QgsMapBoxGlStyleConverter.Result.Success
    assert converter.renderer() is not None and len(converter.renderer().styles()) >= 8
    # sprites: index entries lie inside the sheet, @2x is twice as large
    for suffix, ratio in (("", 1), ("@2x", 2)):
        sheet = _image(res[f"sprites/sprite{suffix}.png"])
        index = json.loads(res[f"sprites/sprite{suffix}.json"])
        assert index
        for entry in index.values():
            assert entry["pixelRatio"] == ratio
            assert entry["x"] + entry["width"] <= sheet.width() and entry["y"] + entry["height"] <= sheet.height()
    assert _image(res["sprites/sprite@2x.png"]).width() == 2 * _image(res["sprites/sprite.png"]).width()


def test_glyph_range_is_a_valid_sdf_protobuf(services):
    from arcgis_emulator.writers import _fields

    service = services["World_Vector/VectorTileServer"]
    (key,) = [k for k in service.resources if k.startswith("fonts/")]
    font = key.split("/")[1]
    stacks = [bytes(v) for num, _w, v in _fields(service.resources[key]) if num == 1]
    assert len(stacks) == 1
    fields = list(_fields(stacks[0]))
    assert bytes(next(v for n, _w, v in fields if n == 1)).decode() == font
    assert bytes(next(v for n, _w, v in fields if n == 2)).decode() == "0-255"
    glyphs = {}
    for n, _w, v in fields:
        if n == 3:
            g = {num: val for num, _wt, val in _fields(bytes(v))}
            glyphs[g[1]] = g
    assert {ord(c) for c in "AZaz09 éü"} <= set(glyphs)
    a = glyphs[ord("A")]
    assert len(bytes(a[2])) == (a[3] + 6) * (a[4] + 6)                      # 3-px buffer around the glyph
    assert max(bytes(a[2])) > 191 and min(bytes(a[2])) < 100       # edge = 191: inside higher, outside lower


# -- the cache -------------------------------------------------------------------------------------

def test_second_load_reuses_the_cache(services):
    root = default_cache_dir()
    manifest = root / samples_mod.MANIFEST
    before = (manifest.stat().st_mtime_ns, manifest.read_bytes())
    tile = services["World_Map/MapServer"].get_tile(3, 2, 4)
    start = time.monotonic()
    again = load_sample_services()
    elapsed = time.monotonic() - start
    assert elapsed < 1.0, f"loading an existing cache took {elapsed:.2f} s"
    assert (manifest.stat().st_mtime_ns, manifest.read_bytes()) == before
    assert again["World_Map/MapServer"].get_tile(3, 2, 4) == tile
    assert json.loads(before[1])["generator"] == GENERATOR_VERSION


def test_default_cache_dir_is_versioned_and_overridable(monkeypatch, tmp_path):
    monkeypatch.delenv("AOT_EMULATOR_CACHE", raising=False)
    path = default_cache_dir()
    assert path.name == GENERATOR_VERSION and path.parent.name == "emulator"
    monkeypatch.setenv("AOT_EMULATOR_CACHE", str(tmp_path / "c"))
    assert default_cache_dir() == tmp_path / "c"


def test_a_cache_from_another_generator_version_is_not_used(tmp_path):
    (tmp_path / samples_mod.MANIFEST).write_text(json.dumps({"generator": "0"}))
    assert samples_mod._manifest(tmp_path) is None
    (tmp_path / samples_mod.MANIFEST).write_text(json.dumps({"generator": GENERATOR_VERSION}))
    assert samples_mod._manifest(tmp_path) is not None


def test_building_off_the_main_thread_is_refused(tmp_path):
    errors = []

    def run():
        try:
            load_sample_services(tmp_path / "never-built")
        except RuntimeError as exc:
            errors.append(str(exc))

    worker = threading.Thread(target=run)
    worker.start()
    worker.join(60)
    assert errors and "main thread" in errors[0]
    assert not (tmp_path / "never-built").exists()


# -- packages written from the samples ---------------------------------------------------------------

def test_vtpk_from_the_vector_service_keeps_tiles_tilemap_and_resources(services, tmp_path):
    import zipfile

    from arcgis_emulator.writers import write_package

    service = services["World_Vector/VectorTileServer"]
    tiles = [(z, r, c, service.get_tile(z, r, c)) for z in range(4) for r in range(2 ** z) for c in range(2 ** z)]
    tiles = [t for t in tiles if t[3] is not None]
    out = tmp_path / "world.vtpk"
    summary = write_package("vtpk", out, service.document, iter(tiles), resources=service.resources)
    assert summary["tiles"] == len(tiles) and summary["levels"][3] == sum(1 for t in tiles if t[0] == 3)
    with zipfile.ZipFile(out) as zf:
        for key, data in service.resources.items():
            assert zf.read(f"p12/resources/{key}") == data
        index = json.loads(zf.read("p12/tilemap/root.json"))["index"]
        root = json.loads(zf.read("p12/root.json"))
        layers = {layer["id"] for layer in json.loads(zf.read("p12/metadata.json"))["vector_layers"]}
    assert (root["minLOD"], root["maxLOD"]) == (0, 3)
    assert {"countries", "states", "country_labels"} <= layers
    present = {(z, r, c) for z, r, c, _ in tiles}

    def lookup(z, r, c):
        node = index
        for k in range(1, z + 1):
            if not isinstance(node, list):
                return "overzoom" if node == 1 else "absent"
            node = node[((c >> (z - k)) & 1) + 2 * ((r >> (z - k)) & 1)]
        return "absent" if node == 0 else "present"

    for z in range(1, 4):
        for r in range(2 ** z):
            for c in range(2 ** z):
                assert (lookup(z, r, c) == "present") == ((z, r, c) in present), (z, r, c)
    # the service is sparse: some places of level 3 are drawn from a level-2 leaf
    assert any(lookup(3, r, c) == "overzoom" for r in range(8) for c in range(8))


def test_gdal_reads_a_cache_folder_of_rendered_map_tiles(services, tmp_path):
    gdal = pytest.importorskip("osgeo.gdal")
    from qgis.PyQt.QtGui import QImage

    from arcgis_emulator.writers import write_cache_folder

    gdal.UseExceptions()
    service = services["World_Map/MapServer"]
    tiles = [(z, r, c, service.get_tile(z, r, c)) for z in range(3) for r in range(2 ** z) for c in range(2 ** z)]
    write_cache_folder(tmp_path / "Layers", service.document, tiles, max_level=2)
    ds = gdal.Open(str(tmp_path / "Layers" / "conf.xml"))
    assert (ds.RasterXSize, ds.RasterYSize, ds.RasterCount) == (1024, 1024, 4)
    row, col = 1, 2
    image = QImage.fromData(service.get_tile(2, row, col)).convertToFormat(QImage.Format.Format_RGBA8888)
    ptr = image.constBits()
    ptr.setsize(image.sizeInBytes())
    expected = bytes(ptr)
    for band in range(1, 5):
        got = ds.GetRasterBand(band).ReadRaster(col * 256, row * 256, 256, 256)
        assert got == expected[band - 1::4], f"band {band}"
