"""Tiling schemes: addressing, ranges on tile edges, JSON round trip, XYZ zoom, extents."""
from __future__ import annotations

import math

import pytest

from plugin.core.packages.schemes import zoom_for_level
from plugin.core.tiling import EDGE_EPSILON, LOD, WEB_MERCATOR_HALF, Extent, SpatialRef, TilingScheme

H = WEB_MERCATOR_HALF
R0 = 156543.03392800014
WM = TilingScheme(-H, H, 256, 256, tuple(LOD(z, R0 / 2**z, 591657527.591555 / 2**z) for z in range(24)),
                  SpatialRef(102100, 3857), format="JPEG", compression_quality=75)


def test_spatial_ref_codes():
    assert SpatialRef(102100, 3857).authid() == "EPSG:3857"
    assert SpatialRef(102100).authid() == "EPSG:3857"
    assert SpatialRef(900913).is_web_mercator and SpatialRef(102113).is_web_mercator
    assert SpatialRef(102139, 3067).authid() == "EPSG:3067"
    assert SpatialRef(102726, 102726).authid() == "ESRI:102726"
    assert SpatialRef(wkt="PROJCS[...]").authid() == ""


def test_spatial_ref_json():
    sr = SpatialRef.from_json({"wkid": 102100, "latestWkid": 3857, "xyTolerance": 0.001, "vcsWkid": 115700})
    assert sr == SpatialRef(102100, 3857, 115700)
    assert sr.to_json() == {"wkid": 102100, "latestWkid": 3857, "vcsWkid": 115700}
    assert SpatialRef.from_json({"wkid": "4326"}).wkid == 4326
    assert SpatialRef.from_json({"wkt": "GEOGCS[]"}).to_json() == {"wkt": "GEOGCS[]"}
    assert SpatialRef.from_json(None) == SpatialRef() and SpatialRef.from_json({"wkid": 1.5}) == SpatialRef()


def test_tile_bounds():
    assert WM.tile_bounds(1, 0, 0) == pytest.approx((-H, 0, 0, H), abs=1e-5)  # Esri's R0 * 256 != 2H exactly


def test_ranges_are_half_open_on_tile_edges():
    w, _ = WM.tile_size(2)
    assert WM.col_range(2, -H, -H + w) == (0, 0)
    assert WM.col_range(2, -H, -H + w + 1e-3) == (0, 0)  # 1 mm = 1e-10 tile widths: below EDGE_EPSILON
    assert WM.col_range(2, -H, -H + w + 1.0) == (0, 1)
    assert WM.col_range(2, -H + w * (1 - EDGE_EPSILON / 10), -H + 2 * w) == (1, 1)  # float noise absorbed
    assert WM.row_range(2, H - w, H) == (0, 0)
    assert WM.row_range(2, -H, H) == (0, 3)


def test_scheme_from_json_round_trip_and_defaults():
    doc = WM.to_json()
    again = TilingScheme.from_json(doc)
    assert again == WM
    tpkx_like = dict(doc)
    del tpkx_like["format"], tpkx_like["spatialReference"]
    tpkx_like["lods"] = list(reversed(doc["lods"])) + [doc["lods"][0]]  # unsorted, a duplicate
    parsed = TilingScheme.from_json(tpkx_like, spatial_ref=SpatialRef(3857), tile_format="PNG")
    assert parsed.levels == list(range(24)) and parsed.format == "PNG" and parsed.spatial_ref == SpatialRef(3857)


@pytest.mark.parametrize(("tile_info", "fragment"), [
    ({"rows": 256, "cols": 256, "origin": {"x": 0, "y": 0}, "lods": []}, "no usable levels"),
    ({"rows": 256, "cols": 256, "origin": {"x": 0, "y": 0},
      "lods": [{"level": 0, "resolution": 0, "scale": 1}]}, "no usable levels"),
    ({"rows": 256, "cols": "x", "origin": {"x": 0, "y": 0}, "lods": []}, "tile size"),
    ({"rows": 256, "cols": 256, "lods": []}, "origin"),
    ("nope", "not an object"),
])
def test_scheme_from_json_reasons(tile_info, fragment):
    with pytest.raises(ValueError, match=fragment):
        TilingScheme.from_json(tile_info)


def test_scheme_validation():
    with pytest.raises(ValueError):
        TilingScheme(0, 0, 0, 256, (LOD(0, 1.0, 1.0),))
    with pytest.raises(ValueError):
        TilingScheme(0, 0, 256, 256, (LOD(0, -1.0, 1.0),))
    with pytest.raises(ValueError):
        TilingScheme(math.nan, 0, 256, 256, (LOD(0, 1.0, 1.0),))


def test_xyz_zoom_is_derived_from_the_resolution():
    assert [zoom_for_level(WM, z) for z in (0, 5, 23)] == [0, 5, 23]
    vector = TilingScheme(-H, H, 512, 512, tuple(LOD(z, R0 / 2 ** (z + 1), 0) for z in range(3)), SpatialRef(3857))
    assert zoom_for_level(vector, 0) == 0
    starts_at_2 = TilingScheme(-H, H, 256, 256, (LOD(0, R0 / 4, 0), LOD(1, R0 / 8, 0)), SpatialRef(102100))
    assert zoom_for_level(starts_at_2, 0) == 2 and zoom_for_level(starts_at_2, 1) == 3
    odd_origin = TilingScheme(-20037700, 30241100, 256, 256, WM.lods, SpatialRef(3857))
    assert zoom_for_level(odd_origin, 3) is None
    non_halving = TilingScheme(-H, H, 256, 256, (LOD(0, R0 / 3, 0),), SpatialRef(3857))
    assert zoom_for_level(non_halving, 0) is None
    geographic = TilingScheme(-180, 90, 256, 256, (LOD(0, 0.7, 0),), SpatialRef(4326))
    assert zoom_for_level(geographic, 0) is None


def test_with_lods_and_has_level():
    small = WM.with_lods(WM.lods[3:6])
    assert small.levels == [3, 4, 5] and small.origin_x == WM.origin_x and small.format == "JPEG"
    assert small.has_level(4) and not small.has_level(6)


def test_extent_json():
    ext = Extent.from_json({"xmin": -1.3873971544712003e7, "ymin": 5151008.6, "xmax": -1.2960958413099812e7,
                            "ymax": 5831188.6, "spatialReference": {"wkid": 102100, "latestWkid": 3857}})
    assert ext.xmin == -13873971.544712003 and ext.spatial_ref.code == 3857 and not ext.is_empty
    assert ext.width > 0 and ext.bounds[2] == ext.xmax
    assert Extent.from_json({"xmin": "NaN", "ymin": 0, "xmax": 1, "ymax": 1}) is None
    assert Extent.from_json({"xmin": 0, "ymin": 0}) is None
    assert Extent.from_json({"xmin": 0, "ymin": 0, "xmax": 1, "ymax": 1}, SpatialRef(4326)).spatial_ref.code == 4326
    assert Extent(0, 0, 0, 1).is_empty
    assert Extent(0, 0, 1, 1, SpatialRef(4326)).to_json() == {
        "xmin": 0, "ymin": 0, "xmax": 1, "ymax": 1, "spatialReference": {"wkid": 4326}}
