"""Catalog, info, service documents, tiles and vector resources of the emulator (over real HTTP)."""
from __future__ import annotations

import gzip
import json

import pytest
import requests

from tests.emulator.server_helpers import TIMEOUT, get_json

SAMPLE_KEYS = ["World_Vector/VectorTileServer", "World_Map/MapServer", "World_Imagery/ImageServer",
               "World_Geographic/MapServer"]
ALL_KEYS = [*SAMPLE_KEYS, "Secured/World_Map/MapServer", "World_Basemap_Export_v2/VectorTileServer"]


def test_catalog_lists_folders_and_services_with_types(emulator):
    body = get_json(emulator.services_url)
    assert body["folders"] == ["Secured"]
    assert isinstance(body["currentVersion"], (int, float))
    listed = {(s["name"], s["type"]) for s in body["services"]}
    assert listed == {("World_Vector", "VectorTileServer"), ("World_Map", "MapServer"),
                      ("World_Imagery", "ImageServer"), ("World_Geographic", "MapServer"),
                      ("World_Basemap_Export_v2", "VectorTileServer")}
    folder = get_json(f"{emulator.services_url}/Secured")
    assert folder["services"] == [{"name": "Secured/World_Map", "type": "MapServer"}]
    assert folder["folders"] == []


def test_pjson_is_pretty_and_equal(emulator):
    compact = requests.get(emulator.services_url, params={"f": "json"}, timeout=TIMEOUT)
    pretty = requests.get(emulator.services_url, params={"f": "pjson"}, timeout=TIMEOUT)
    assert "\n" in pretty.text and "\n" not in compact.text
    assert pretty.json() == compact.json()


def test_info_advertises_token_services(emulator):
    info = get_json(f"{emulator.rest_url}/info")
    auth = info["authInfo"]
    assert auth["isTokenBasedSecurity"] is True
    assert auth["tokenServicesUrl"] == f"{emulator.base_url}/tokens/generateToken"


@pytest.mark.parametrize("path", ["/rest/services", "/rest/info", "/rest/services/World_Map/MapServer",
                                  "/rest/services/Secured"])
def test_html_is_the_default_format(emulator, path):
    response = requests.get(emulator.base_url + path, timeout=TIMEOUT)
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/html")
    assert response.text.lstrip().startswith("<html")
    with pytest.raises(ValueError):
        json.loads(response.text)


def test_unknown_service_is_an_error_body_with_http_200(emulator):
    response = requests.get(f"{emulator.services_url}/Nope/MapServer", params={"f": "json"}, timeout=TIMEOUT)
    assert response.status_code == 200
    assert response.json()["error"]["code"] == 404
    assert "Nope/MapServer" in response.json()["error"]["message"]
    other = requests.get(f"{emulator.services_url}/World_Map/FeatureServer", params={"f": "json"},
                         timeout=TIMEOUT)
    assert other.json()["error"]["code"] == 404
    folder = requests.get(f"{emulator.services_url}/NoFolder", params={"f": "json"}, timeout=TIMEOUT)
    assert folder.json()["error"]["code"] == 404


def test_unknown_paths_can_use_real_status_codes(emulator):
    emulator.configure_server(http_errors_as_status=True)
    response = requests.get(f"{emulator.services_url}/Nope/MapServer", params={"f": "json"}, timeout=TIMEOUT)
    assert response.status_code == 404
    assert response.json()["error"]["code"] == 404
    emulator.configure("World_Map/MapServer", http_errors_as_status=True)
    bad = requests.get(f"{emulator.service_url('World_Map', 'MapServer')}/exportTiles",
                       params={"f": "json", "tilePackage": "true", "levels": "99"}, timeout=TIMEOUT)
    assert bad.status_code == 400 and bad.json()["error"]["code"] == 400


@pytest.mark.parametrize("key", ALL_KEYS)
def test_service_documents_have_the_required_fields(emulator, key):
    name, kind = key.rsplit("/", 1)
    params = {"token": emulator.issue_token()} if key.startswith("Secured/") else {}
    doc = get_json(f"{emulator.services_url}/{key}", **params)
    for field in ("currentVersion", "tileInfo", "fullExtent", "initialExtent", "exportTilesAllowed",
                  "maxExportTilesCount", "capabilities"):
        assert field in doc, field
    tile_info = doc["tileInfo"]
    for field in ("rows", "cols", "dpi", "format", "origin", "spatialReference", "lods"):
        assert field in tile_info, field
    assert {"x", "y"} <= set(tile_info["origin"])
    assert tile_info["lods"][0]["level"] == 0
    assert all({"level", "resolution", "scale"} <= set(lod) for lod in tile_info["lods"])
    resolutions = [lod["resolution"] for lod in tile_info["lods"]]
    assert resolutions == sorted(resolutions, reverse=True)
    assert doc["exportTilesAllowed"] is True
    assert doc["maxExportTilesCount"] > 0
    if kind == "VectorTileServer":
        assert tile_info["format"] == "pbf"
        assert doc["type"] == "indexedVector"
        assert doc["tileMap"] == "tilemap"
        assert doc["defaultStyles"] == "resources/styles"
        assert doc["resourceInfo"]["cacheInfo"]["storageInfo"]["packetSize"] == 128
        assert doc["name"] == name
    else:
        assert doc["singleFusedMapCache"] is True
        assert "spatialReference" in doc


def test_configuration_shows_in_the_document(emulator):
    url = emulator.service_url("World_Imagery", "ImageServer")
    emulator.configure("World_Imagery/ImageServer", max_export_tiles=50, export_allowed=False, version=10.61)
    doc = get_json(url)
    assert (doc["maxExportTilesCount"], doc["exportTilesAllowed"], doc["currentVersion"]) == (50, False, 10.61)
    emulator.reset()
    doc = get_json(url)
    assert doc["maxExportTilesCount"] != 50 and doc["exportTilesAllowed"] is True


def test_configuration_over_http(emulator):
    admin = f"{emulator.root_url}/emulator/configure"
    response = requests.post(admin, json={"service": "World_Map/MapServer",
                                          "options": {"max_export_tiles": 7, "result_shape": "folder"}},
                             timeout=TIMEOUT)
    assert response.status_code == 200
    assert response.json()["services"]["World_Map/MapServer"]["max_export_tiles"] == 7
    assert emulator.config("World_Map/MapServer").result_shape == "folder"
    assert get_json(emulator.service_url("World_Map", "MapServer"))["maxExportTilesCount"] == 7
    bad = requests.post(admin, json={"service": "World_Map/MapServer", "options": {"nonsense": 1}},
                        timeout=TIMEOUT)
    assert bad.status_code == 400
    bad_value = requests.post(admin, json={"service": "World_Map/MapServer",
                                           "options": {"job_protocol": "ftp"}}, timeout=TIMEOUT)
    assert bad_value.status_code == 400
    server = requests.post(admin, json={"server": {"http_errors_as_status": True}}, timeout=TIMEOUT)
    assert server.json()["server"]["http_errors_as_status"] is True
    reset = requests.post(f"{emulator.root_url}/emulator/reset", timeout=TIMEOUT)
    assert reset.status_code == 200
    assert emulator.config("World_Map/MapServer").max_export_tiles != 7
    assert emulator.server_config.http_errors_as_status is False


def test_configure_rejects_unknown_services_and_options(emulator):
    with pytest.raises(KeyError):
        emulator.configure("Nope/MapServer", job_steps=1)
    with pytest.raises(ValueError):
        emulator.configure("World_Map/MapServer", bogus=True)
    with pytest.raises(ValueError):
        emulator.configure("World_Map/MapServer", result_shape="zip")


def _first_tiles(emulator, key, level):
    service = emulator.service(key).sample
    n = 2 ** level
    return [(level, r, c) for r in range(n) for c in range(n) if service.get_tile(level, r, c) is not None]


@pytest.mark.parametrize("key", ["World_Map/MapServer", "World_Imagery/ImageServer", "World_Geographic/MapServer"])
def test_raster_tiles_are_served_and_absent_tiles_are_404(emulator, key):
    name, kind = key.split("/")
    url = emulator.service_url(name, kind)
    sample = emulator.service(key).sample
    level, row, col = _first_tiles(emulator, key, 1)[0]
    response = requests.get(f"{url}/tile/{level}/{row}/{col}", timeout=TIMEOUT)
    assert response.status_code == 200
    assert response.content == sample.get_tile(level, row, col)
    assert response.headers["Content-Type"] in ("image/png", "image/jpeg")
    missing = requests.get(f"{url}/tile/1/9999/9999", timeout=TIMEOUT)
    assert missing.status_code == 404


def test_vector_tiles_tilemap_style_and_sprites(emulator):
    url = emulator.service_url("World_Vector", "VectorTileServer")
    sample = emulator.service("World_Vector/VectorTileServer").sample
    level, row, col = _first_tiles(emulator, "World_Vector/VectorTileServer", 1)[0]
    plain = requests.get(f"{url}/tile/{level}/{row}/{col}", timeout=TIMEOUT)
    pbf = requests.get(f"{url}/tile/{level}/{row}/{col}.pbf", timeout=TIMEOUT)
    assert plain.status_code == pbf.status_code == 200
    assert plain.content == pbf.content == sample.get_tile(level, row, col)
    assert gzip.decompress(plain.content)  # gzip-compressed MVT
    assert requests.get(f"{url}/tile/1/5000/5000.pbf", timeout=TIMEOUT).status_code == 404
    tilemap = requests.get(f"{url}/tilemap", timeout=TIMEOUT).json()
    assert "index" in tilemap
    style = requests.get(f"{url}/resources/styles/root.json", timeout=TIMEOUT)
    assert style.status_code == 200 and style.json()["version"] == 8
    assert requests.get(f"{url}/resources/style", timeout=TIMEOUT).json() == style.json()
    assert requests.get(f"{url}/resources/styles", timeout=TIMEOUT).json() == style.json()
    sprite_names = [k for k in sample.resources if k.startswith("sprites/")]
    for name in sprite_names:
        sprite = requests.get(f"{url}/resources/{name}", timeout=TIMEOUT)
        assert sprite.status_code == 200 and sprite.content == sample.resources[name]
    assert requests.get(f"{url}/resources/fonts/Nope/0-255.pbf", timeout=TIMEOUT).status_code == 404


def test_vector_service_has_no_estimate_operation(emulator):
    url = emulator.service_url("World_Vector", "VectorTileServer")
    body = requests.get(f"{url}/estimateExportTilesSize", params={"f": "json", "levels": "0"},
                        timeout=TIMEOUT).json()
    assert body["error"]["code"] == 404


def test_configure_defaults_survive_reset(emulator):
    key = "World_Geographic/MapServer"
    original = emulator.service(key).defaults.max_export_tiles
    try:
        emulator.configure_defaults(key, max_export_tiles=1234)
        emulator.reset()
        assert get_json(emulator.service_url("World_Geographic", "MapServer"))["maxExportTilesCount"] == 1234
    finally:
        emulator.configure_defaults(key, max_export_tiles=original)
    assert emulator.config(key).max_export_tiles == original
