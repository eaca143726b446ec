"""Service discovery: URL normalisation, the ?f=json model (every real fixture), errors, twins."""
from __future__ import annotations

import json

import pytest

from plugin.core.area import Area
from plugin.core.errors import (
    AuthFailedError,
    AuthRequiredError,
    NotTiledServiceError,
    ServerError,
    ServiceError,
    ServiceNotFoundError,
)
from plugin.core.levels import validate_levels
from plugin.core.packages.schemes import zoom_for_level
from plugin.core.service import (
    DEFAULT_MAX_EXPORT_TILES,
    EXPORT_ENABLED_TWINS,
    PortalItemUrlError,
    ServiceInfo,
    ServiceKind,
    error_from_json,
    export_enabled_twin,
    is_online_service,
    normalize_service_url,
    parse_service_json,
    parse_service_url,
    parse_version,
    service_url_from_item,
)
from plugin.core.tilecount import count_tiles
from tests.conftest import require_shared

BASE = "https://gis.example.com/arcgis/rest/services"


# --- URLs ------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("url", "expected"), [
    (f"{BASE}/Basemap/MapServer", f"{BASE}/Basemap/MapServer"),
    (f"{BASE}/Basemap/MapServer/", f"{BASE}/Basemap/MapServer"),
    (f"  {BASE}/Basemap/MapServer?f=pjson  ", f"{BASE}/Basemap/MapServer"),
    (f"{BASE}/Basemap/MapServer?f=json&token=SECRET#top", f"{BASE}/Basemap/MapServer"),
    (f"{BASE}/Basemap/MapServer/tile/3/2/1", f"{BASE}/Basemap/MapServer"),
    (f"{BASE}/Basemap/MapServer/0", f"{BASE}/Basemap/MapServer"),
    (f"{BASE}/Basemap/MapServer/0/query?where=1=1", f"{BASE}/Basemap/MapServer"),
    (f"{BASE}/Basemap/MapServer/WMTS/1.0.0/WMTSCapabilities.xml", f"{BASE}/Basemap/MapServer"),
    (f"{BASE}/Basemap/MapServer/exportTiles", f"{BASE}/Basemap/MapServer"),
    (f"{BASE}/Folder/Sub_Name/mapserver", f"{BASE}/Folder/Sub_Name/MapServer"),
    (f"{BASE}/Imagery/ImageServer/tile/0/0/0?blankTile=false", f"{BASE}/Imagery/ImageServer"),
    (f"{BASE}/Roads/VectorTileServer/resources/styles/root.json", f"{BASE}/Roads/VectorTileServer"),
    (f"{BASE}/Roads/VectorTileServer/tile/{{z}}/{{y}}/{{x}}.pbf", f"{BASE}/Roads/VectorTileServer"),
    ("HTTPS://GIS.Example.COM:6443/arcgis/rest/services/A/MapServer", "https://gis.example.com:6443/arcgis/rest/services/A/MapServer"),
    ("gis.example.com/arcgis/rest/services/A/MapServer", "https://gis.example.com/arcgis/rest/services/A/MapServer"),
    ("http://gis.example.com/arcgis/rest/services/A/MapServer", "http://gis.example.com/arcgis/rest/services/A/MapServer"),
    ("https://tiles.arcgis.com/tiles/AbCdEf123/arcgis/rest/services/Hosted/MapServer/tile/1/0/0",
     "https://tiles.arcgis.com/tiles/AbCdEf123/arcgis/rest/services/Hosted/MapServer"),
])
def test_normalize_service_url(url, expected):
    assert normalize_service_url(url) == expected


def test_parse_service_url_names_kind_and_folder():
    parsed = parse_service_url(f"{BASE}/Canvas/World_Light_Gray_Base/MapServer/tile/1/1/1")
    assert parsed.kind is ServiceKind.MAP and parsed.name == "Canvas/World_Light_Gray_Base"
    assert not parsed.is_item
    assert parse_service_url(f"{BASE}/Roads/VectorTileServer").kind is ServiceKind.VECTOR


@pytest.mark.parametrize(("url", "portal"), [
    ("https://www.arcgis.com/home/item.html?id=3E1A00AEAE81496587988075FE529F71", "https://www.arcgis.com"),
    ("https://myorg.maps.arcgis.com/home/item.html?id=3e1a00aeae81496587988075fe529f71#overview",
     "https://myorg.maps.arcgis.com"),
    ("https://gis.example.com/portal/home/item.html?id=3e1a00aeae81496587988075fe529f71", "https://gis.example.com/portal"),
    ("https://www.arcgis.com/sharing/rest/content/items/3e1a00aeae81496587988075fe529f71?f=json",
     "https://www.arcgis.com"),
])
def test_item_pages_are_a_structured_hint(url, portal):
    parsed = parse_service_url(url)
    assert parsed.is_item and parsed.service_url is None
    assert parsed.item_id == "3e1a00aeae81496587988075fe529f71"
    assert parsed.portal_url == portal
    assert parsed.item_url == f"{portal}/sharing/rest/content/items/3e1a00aeae81496587988075fe529f71"
    with pytest.raises(PortalItemUrlError) as info:
        normalize_service_url(url)
    assert info.value.item_url == parsed.item_url
    assert isinstance(info.value, ServiceError)


@pytest.mark.parametrize(("url", "reason"), [
    (f"{BASE}/Parcels/FeatureServer/0", "FeatureServer serves features"),
    (f"{BASE}/Parcels/FeatureServer", "FeatureServer serves features"),
    (f"{BASE}/City/SceneServer/layers/0", "SceneServer"),
    (f"{BASE}/Tools/GPServer/Buffer", "GPServer"),
])
def test_other_service_types_are_not_tiled_with_the_reason(url, reason):
    with pytest.raises(NotTiledServiceError, match=reason) as info:
        parse_service_url(url)
    assert "is not a tiled ArcGIS service" in str(info.value)


@pytest.mark.parametrize("url", [
    "", "   ", "ftp://gis.example.com/arcgis/rest/services/A/MapServer", f"{BASE}", f"{BASE}/Folder",
    "https://www.example.com/", "not a url at all", "https://www.arcgis.com/home/item.html?id=nothex",
    "https:///arcgis/rest/services/A/MapServer",
])
def test_addresses_that_are_no_service(url):
    with pytest.raises(ServiceNotFoundError):
        parse_service_url(url)


def test_tokens_never_reach_messages():
    with pytest.raises(ServiceNotFoundError) as info:
        parse_service_url(f"{BASE}/Folder?token=SECRET123")
    assert "SECRET123" not in str(info.value)


def test_service_url_from_item():
    item = {"id": "x", "type": "Vector Tile Service",
            "url": "https://basemaps.arcgis.com/arcgis/rest/services/World_Basemap_Export_v2/VectorTileServer/"}
    assert service_url_from_item(item) == \
        "https://basemaps.arcgis.com/arcgis/rest/services/World_Basemap_Export_v2/VectorTileServer"
    with pytest.raises(NotTiledServiceError, match="feature layer"):
        service_url_from_item({"type": "Feature Service", "url": f"{BASE}/P/FeatureServer"})
    with pytest.raises(NotTiledServiceError, match="web map"):
        service_url_from_item({"type": "Web Map"})
    with pytest.raises(AuthRequiredError):
        service_url_from_item({"error": {"code": 499, "message": "Token Required"}})


# --- error bodies ----------------------------------------------------------------------------------
@pytest.mark.parametrize(("body", "error_type"), [
    ({"error": {"code": 404, "message": "Service Hosted/X/MapServer not found "}}, ServiceNotFoundError),
    ({"error": {"code": 498, "message": "Invalid token.", "details": []}}, AuthFailedError),
    ({"error": {"code": 499, "message": "Token Required", "messageCode": "GWM_0003"}}, AuthRequiredError),
    ({"error": {"code": 403, "message": "You do not have permissions"}}, AuthFailedError),
    ({"error": {"code": 400, "message": "Unable to generate token.", "details": ["Invalid username or password."]}},
     AuthFailedError),
    ({"error": {"code": 503, "message": "An error occurred.", "details": []}}, ServerError),
    ({"error": {"code": 400, "message": "Invalid URL", "details": ["Invalid URL"]}}, ServiceError),
    ({"error": {"code": "oops"}}, ServiceError),
])
def test_error_documents_map_to_typed_errors(body, error_type):
    error = error_from_json(f"{BASE}/A/MapServer?token=SECRET", body)
    assert type(error) is error_type
    assert "SECRET" not in error.user_message and "SECRET" not in error.details
    with pytest.raises(error_type):
        parse_service_json(f"{BASE}/A/MapServer", body)


def test_error_from_json_ignores_normal_documents():
    assert error_from_json(BASE, {"currentVersion": 11.1}) is None
    assert error_from_json(BASE, ["not", "a", "dict"]) is None


@pytest.mark.parametrize(("value", "expected"), [
    (11, 11.0), (10.81, 10.81), ("10.81", 10.81), ("10.8.1", 10.81), ("11.1.0", 11.1), ("9.3", 9.3),
    (None, 0.0), ("", 0.0), ("abc", 0.0), (True, 0.0),
])
def test_parse_version(value, expected):
    assert parse_version(value) == pytest.approx(expected)


# --- synthetic documents ----------------------------------------------------------------------------
WM_LODS = [{"level": z, "resolution": 156543.03392800014 / 2**z, "scale": 591657527.591555 / 2**z} for z in range(20)]


def tiled_map(**extra):
    doc = {
        "currentVersion": 11.1, "mapName": "Layers", "singleFusedMapCache": True,
        "spatialReference": {"wkid": 102100, "latestWkid": 3857},
        "tileInfo": {"rows": 256, "cols": 256, "dpi": 96, "format": "JPEG", "compressionQuality": 75,
                     "origin": {"x": -20037508.342787, "y": 20037508.342787},
                     "spatialReference": {"wkid": 102100, "latestWkid": 3857}, "lods": WM_LODS},
        "fullExtent": {"xmin": -2e7, "ymin": -2e7, "xmax": 2e7, "ymax": 2e7,
                       "spatialReference": {"wkid": 102100, "latestWkid": 3857}},
        "capabilities": "Map,Query,Data", "exportTilesAllowed": True,
    }
    doc.update(extra)
    return doc


def test_tiled_map_service_defaults():
    info = parse_service_json(f"{BASE}/Basemap/MapServer?f=json", tiled_map())
    assert isinstance(info, ServiceInfo)
    assert info.url == f"{BASE}/Basemap/MapServer" and info.kind is ServiceKind.MAP
    assert info.name == "Basemap"  # the URL's name beats mapName "Layers"
    assert info.max_export_tiles == DEFAULT_MAX_EXPORT_TILES  # exportTilesAllowed, no maxExportTilesCount
    assert info.supports_polygon and info.supports_tpkx
    assert (info.min_lod, info.max_lod) == (0, 19)
    assert info.capabilities == ("Map", "Query", "Data")
    assert info.authid == "EPSG:3857" and info.tiling.spatial_ref.code == 3857
    assert info.full_extent.xmax == 2e7 and info.full_extent.spatial_ref.code == 3857
    assert not info.is_online


def test_export_not_allowed_has_no_tile_limit():
    info = parse_service_json(f"{BASE}/Basemap/MapServer", tiled_map(exportTilesAllowed=False))
    assert info.max_export_tiles is None and not info.export_allowed


def test_integer_version_string_numbers_and_explicit_compact_v2_flag():
    info = parse_service_json(f"{BASE}/B/MapServer", tiled_map(currentVersion=11, maxExportTilesCount="150000",
                                                                exportTilesAllowed="true"))
    assert info.version == 11.0 and info.max_export_tiles == 150000 and info.export_allowed
    old = parse_service_json(f"{BASE}/B/MapServer", tiled_map(currentVersion=10.61))
    assert not old.supports_tpkx and old.supports_polygon
    flagged = parse_service_json(f"{BASE}/B/MapServer", tiled_map(currentVersion=10.61,
                                                                   exportTileCacheCompactV2Allowed=True))
    assert flagged.supports_tpkx
    ancient = parse_service_json(f"{BASE}/B/MapServer", tiled_map(currentVersion=10.2))
    assert not ancient.supports_polygon


def test_vector_polygon_support_needs_10_7_unless_online():
    vector = tiled_map(type="indexedVector", currentVersion=10.61)
    vector.pop("singleFusedMapCache")
    vector["tileInfo"] = dict(vector["tileInfo"], format="pbf", rows=512, cols=512)
    info = parse_service_json(f"{BASE}/Roads/VectorTileServer", vector)
    assert info.kind is ServiceKind.VECTOR and not info.supports_polygon and not info.supports_tpkx
    online = parse_service_json("https://basemaps.arcgis.com/arcgis/rest/services/World_Basemap_Export_v2/"
                                "VectorTileServer", vector)
    assert online.is_online and online.supports_polygon


def test_min_and_max_lod_are_honoured():
    info = parse_service_json(f"{BASE}/B/MapServer", tiled_map(minLOD=3, maxLOD=12))
    assert info.available_levels == list(range(3, 13))
    assert info.available_tiling.levels == list(range(3, 13))
    assert validate_levels(info, [3, 4, 12]) == [3, 4, 12]
    from plugin.core.errors import InvalidRequestError
    with pytest.raises(InvalidRequestError, match=r"levels 0-2 are outside the cached range.*Valid levels: 3-12"):
        validate_levels(info, [0, 1, 2, 5])


def test_lods_starting_at_xyz_zoom_3_and_exponent_numbers():
    text = json.dumps(tiled_map()).replace('"resolution": 156543.03392800014', '"resolution": 1.5654303392800014e5')
    doc = json.loads(text)
    doc["tileInfo"]["lods"] = [dict(lod, level=lod["level"] - 3) for lod in WM_LODS[3:]]
    info = parse_service_json(f"{BASE}/B/MapServer", doc)
    assert info.tiling.levels[0] == 0 and zoom_for_level(info.tiling, 0) == 3


@pytest.mark.parametrize(("doc", "reason"), [
    ({"currentVersion": 10.61, "mapName": "X", "singleFusedMapCache": False, "layers": []}, "dynamic map service"),
    ({"currentVersion": 10.61, "mapName": "X", "layers": []}, "dynamic map service"),
    (tiled_map(singleFusedMapCache=False), "singleFusedMapCache is false"),
    ({"currentVersion": 11.1, "serviceDescription": "", "hasVersionedData": False, "layers": [{"id": 0}],
      "syncEnabled": False}, "feature service"),
    ({"currentVersion": 11.1, "id": 0, "name": "Parcels", "type": "Feature Layer",
      "geometryType": "esriGeometryPolygon"}, "single layer"),
    (tiled_map(tileInfo={"rows": 256, "cols": 256, "origin": {"x": 0, "y": 0}, "lods": []}), "no usable levels"),
    (tiled_map(tileInfo={"rows": 0, "cols": 256, "origin": {"x": 0, "y": 0}, "lods": WM_LODS}), "tile size"),
])
def test_not_tiled_documents_are_refused_with_the_reason(doc, reason):
    with pytest.raises(NotTiledServiceError, match=reason):
        parse_service_json(f"{BASE}/X/MapServer", doc)


def test_not_a_json_object():
    with pytest.raises(ServiceError, match="JSON object"):
        parse_service_json(f"{BASE}/X/MapServer", ["x"])


# --- every real document ---------------------------------------------------------------------------
# file -> ("ok", kind, authid, n_lods, tile_px, (min_lod, max_lod), tile_format, export_allowed, max_export_tiles)
#      or (error type, substring of the message)
REAL = {
    "EsriDE_pbf2compactcache_VTPK_p12_root_VectorTile_11.3_3857.json":
        ("ok", ServiceKind.VECTOR, "EPSG:3857", 20, 512, (0, 15), "pbf", False, None),
    "EsriDE_pbf2compactcache_VTPK_style_root_basemapde.json": (NotTiledServiceError, "vector tile style"),
    "Esri_tile-package-spec_TPKX_root_Usa_3857.json":
        ("ok", ServiceKind.MAP, "EPSG:3857", 24, 256, (0, 5), "PNG", False, None),
    "JN_SYSTEM1_Jinnan_JNKG_MapServer_10.4_CGCS2000_4548_compact.json":
        ("ok", ServiceKind.MAP, "EPSG:4548", 8, 256, (0, 7), "PNG32", False, None),
    "JN_SYSTEM1_Jinnan_JNYX_imagery_MapServer_10.4_CGCS2000_4548_nonhalving.json":
        ("ok", ServiceKind.MAP, "EPSG:4548", 8, 256, (0, 7), "JPEG", False, None),
    "digiroad2_EsriFinland_Harmaasavy_MapServer_10.31_ETRS-TM35FIN_3067.json":
        ("ok", ServiceKind.MAP, "EPSG:3067", 13, 256, (0, 12), "MIXED", False, None),
    "esri-leaflet-vector_OpenStreetMap_v2_style_root.json": (NotTiledServiceError, "vector tile style"),
    "esri_solutions-webappbuilder-widgets_issue89_GPjob_esriJobFailed.json": (ServiceError, "job status"),
    "insidenothing_coronavirus_error_400_CannotPerformQuery_pretty.json": (ServiceError, "Invalid query parameters"),
    "insidenothing_coronavirus_error_400_InvalidURL_AGOL.json": (ServiceError, "Invalid URL (code 400)"),
    "insidenothing_coronavirus_error_429_quota_exceeded_pretty.json": (ServerError, "429"),
    "insidenothing_coronavirus_error_499_TokenRequired_GWM_0003_AGOL.json": (AuthRequiredError, "sign in"),
    "insidenothing_coronavirus_error_503_AGOL.json": (ServerError, "503"),
    "insidenothing_coronavirus_error_504_timed_out_AGOL.json": (ServerError, "timed out"),
    "ol2_examples_arcgiscache_ags_World_Street_Map_MapServer_10.01_102100.json":
        ("ok", ServiceKind.MAP, "EPSG:3857", 18, 256, (0, 17), "JPEG", False, None),
    "ol2_tests_ArcGISCache_World_Topo_Map_MapServer_10.01_102100.json":
        ("ok", ServiceKind.MAP, "EPSG:3857", 20, 256, (0, 19), "JPEG", False, None),
    "pairwinter_CT_StatePlane_2234_MapServer_9.3_tiled_nonhalving.json":
        ("ok", ServiceKind.MAP, "EPSG:2234", 16, 256, (0, 15), "JPEG", False, None),
    "pairwinter_MA_StatePlane_2249_MapServer_512px_PNG24.json":
        ("ok", ServiceKind.MAP, "EPSG:2249", 9, 512, (0, 8), "PNG24", False, None),
    "terriajs_GA_National_Map_Hydrography_MapServer_10.04_dynamic_4283.json":
        (NotTiledServiceError, "dynamic map service"),
    "terriajs_LayerWithTiles_MapServer_11.1_dynamic_with_tileInfo_3857.json":
        (NotTiledServiceError, "singleFusedMapCache is false"),
    "terriajs_Residential_Dwelling_Density_MapServer_dynamic_3112.json": (NotTiledServiceError, "dynamic map service"),
    "terriajs_SingleFusedMapCache_MapServer_AGOL_hosted_tiles_3857.json":
        ("ok", ServiceKind.MAP, "EPSG:3857", 24, 256, (15, 19), "PNG8", False, 100000),
    "terriajs_sampleserver6_911CallsHotspot_MapServer_dynamic_102726.json":
        (NotTiledServiceError, "dynamic map service"),
    "terriajs_tile_ImageServer_cached_3857.json":
        ("ok", ServiceKind.IMAGE, "EPSG:3857", 20, 256, (7, 19), "MIXED", False, None),
    "terriajs_time_ImageServer_uncached_4326.json": (NotTiledServiceError, "dynamic image service"),
}


def _url_for(name: str) -> str:
    kind = "VectorTileServer" if "Vector" in name or "EsriDE" in name or "leaflet-vector" in name \
        else "ImageServer" if "ImageServer" in name else "MapServer"
    return f"https://www.example.com/arcgis/rest/services/Fixture/{kind}"


def test_every_real_document_has_an_expected_outcome(real_fixtures):
    files = sorted(p.name for p in (real_fixtures / "json").glob("*.json"))
    assert files, "no JSON fixtures found"
    assert sorted(REAL) == files, "a fixture was added or removed: give it an expected outcome here"


@pytest.mark.parametrize("name", sorted(REAL))
def test_real_document(name):
    path = require_shared() / "json" / name
    doc = json.loads(path.read_text(encoding="utf-8"))
    expected = REAL[name]
    if expected[0] != "ok":
        error_type, fragment = expected
        with pytest.raises(error_type) as info:
            parse_service_json(_url_for(name), doc)
        assert type(info.value) is error_type
        assert fragment in str(info.value)
        return
    _, kind, authid, n_lods, tile_px, lod_range, tile_format, export_allowed, max_tiles = expected
    info = parse_service_json(_url_for(name), doc)
    assert info.kind is kind
    assert info.authid == authid
    assert len(info.tiling.lods) == n_lods
    assert (info.tiling.tile_cols, info.tiling.tile_rows) == (tile_px, tile_px)
    assert (info.min_lod, info.max_lod) == lod_range
    assert info.tile_format == tile_format
    assert info.export_allowed is export_allowed and info.max_export_tiles == max_tiles
    assert info.raw is doc
    # the model is usable: count the tiles of the full extent at the first available levels
    extent = info.full_extent or info.initial_extent
    assert extent is not None and not extent.is_empty
    area = Area.from_extent(*extent.bounds)
    levels = info.available_levels[:3]
    counts = count_tiles(info.tiling, area, levels)
    assert all(n >= 1 for n in counts.values())


AGOL_HOSTED = "terriajs_SingleFusedMapCache_MapServer_AGOL_hosted_tiles_3857.json"


def test_arcgis_online_is_told_by_host_hosted_path_or_hosting_fields(real_fixtures):
    for name in sorted(REAL):
        doc = json.loads((real_fixtures / "json" / name).read_text(encoding="utf-8"))
        # served from example.com in the fixtures' tests: only the document can tell
        assert is_online_service(_url_for(name), doc) is (name == AGOL_HOSTED), name
    hosted = json.loads((real_fixtures / "json" / AGOL_HOSTED).read_text(encoding="utf-8"))
    assert parse_service_json("https://www.example.com/SingleFusedMapCache/MapServer", hosted).is_online
    assert is_online_service("https://basemaps.arcgis.com/arcgis/rest/services/World_Basemap_v2/VectorTileServer")
    assert is_online_service("https://proxy.example.org/tiles/P3ePLMYs2RVChkJx/arcgis/rest/services/Roads/"
                             "VectorTileServer")
    assert not is_online_service("https://notarcgis.com/arcgis/rest/services/Roads/VectorTileServer")
    assert not is_online_service(f"{BASE}/Roads/VectorTileServer", tiled_map())


def test_real_document_details(real_fixtures):
    def load(name):
        return json.loads((real_fixtures / "json" / name).read_text(encoding="utf-8"))

    finland = parse_service_json(f"{BASE}/Taustakartat/Harmaasavy/MapServer",
                                 load("digiroad2_EsriFinland_Harmaasavy_MapServer_10.31_ETRS-TM35FIN_3067.json"))
    assert finland.spatial_ref.wkid == 102139 and finland.spatial_ref.latest_wkid == 3067
    assert finland.version == pytest.approx(10.31) and finland.name == "Harmaasavy"
    assert finland.tiling.origin_x == -5120900
    # non-halving: 8M -> 4M -> ... 120k -> 80k
    ratios = [a.resolution / b.resolution for a, b in zip(finland.tiling.lods, finland.tiling.lods[1:])]
    assert min(ratios) < 1.5 < 2.05 < max(ratios)

    usa = parse_service_json("", load("Esri_tile-package-spec_TPKX_root_Usa_3857.json"))
    assert usa.version == 0.0 and usa.url == "" and usa.name == "Usa" and usa.tile_format == "PNG"
    assert usa.tiling.origin_x == -20037508.342787001

    hosted = parse_service_json("https://tiles.arcgis.com/tiles/abc/arcgis/rest/services/some-name/MapServer",
                                load("terriajs_SingleFusedMapCache_MapServer_AGOL_hosted_tiles_3857.json"))
    assert hosted.is_online and hosted.capabilities == ("Map", "TilesOnly", "Tilemap")
    assert hosted.storage_format == "esriMapCacheStorageModeCompactV2"

    vector = parse_service_json(f"{BASE}/Map/VectorTileServer",
                                load("EsriDE_pbf2compactcache_VTPK_p12_root_VectorTile_11.3_3857.json"))
    assert vector.spatial_ref.code == 3857  # only tileInfo carries it
    assert vector.supports_polygon and not vector.supports_tpkx and vector.storage_format == "compactV2"
    assert zoom_for_level(vector.tiling, 0) == 0  # 512-px vector LOD 0 is XYZ zoom 0

    image = parse_service_json(f"{BASE}/tile/ImageServer", load("terriajs_tile_ImageServer_cached_3857.json"))
    assert image.available_levels == list(range(7, 20))  # minScale 4622324.434309 = LOD 7

    jn = parse_service_json(f"{BASE}/JN/JNKG/MapServer",
                            load("JN_SYSTEM1_Jinnan_JNKG_MapServer_10.4_CGCS2000_4548_compact.json"))
    assert jn.name == "JNKG" and jn.tiling.lod(2).scale == 64000

    pre10 = parse_service_json(f"{BASE}/CT/MapServer",
                               load("pairwinter_CT_StatePlane_2234_MapServer_9.3_tiled_nonhalving.json"))
    assert pre10.version == 0.0 and not pre10.supports_polygon and pre10.capabilities == ()


# --- twins -------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("url", "twin"), [
    ("https://services.arcgisonline.com/ArcGIS/rest/services/World_Imagery/MapServer",
     "https://tiledbasemaps.arcgis.com/arcgis/rest/services/World_Imagery/MapServer"),
    ("http://server.arcgisonline.com/arcgis/rest/services/World_Street_Map/MapServer/tile/1/0/0",
     "https://tiledbasemaps.arcgis.com/arcgis/rest/services/World_Street_Map/MapServer"),
    ("https://services.arcgisonline.com/ArcGIS/rest/services/Canvas/World_Light_Gray_Base/MapServer",
     "https://tiledbasemaps.arcgis.com/arcgis/rest/services/Canvas/World_Light_Gray_Base/MapServer"),
    ("https://services.arcgisonline.com/arcgis/rest/services/ocean/world_ocean_base/MapServer",
     "https://tiledbasemaps.arcgis.com/arcgis/rest/services/Ocean/World_Ocean_Base/MapServer"),
    ("https://basemaps.arcgis.com/arcgis/rest/services/World_Basemap_v2/VectorTileServer/resources/styles/root.json",
     "https://basemaps.arcgis.com/arcgis/rest/services/World_Basemap_Export_v2/VectorTileServer"),
    ("https://tiledbasemaps.arcgis.com/arcgis/rest/services/World_Imagery/MapServer", None),
    ("https://services.arcgisonline.com/ArcGIS/rest/services/Some_Other/MapServer", None),
    ("https://gis.example.com/arcgis/rest/services/World_Imagery/MapServer", None),
    ("https://services.arcgisonline.com/ArcGIS/rest/services/World_Imagery/FeatureServer", None),
    ("not a url", None),
])
def test_export_enabled_twin(url, twin):
    assert export_enabled_twin(url) == twin


def test_twin_table_values_are_service_urls():
    for key, twin in EXPORT_ENABLED_TWINS.items():
        assert normalize_service_url(twin) == twin
        assert key.endswith(("/mapserver", "/vectortileserver")) and key == key.lower()
