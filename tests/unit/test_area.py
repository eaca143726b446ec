"""Export areas: construction, validation, even-odd semantics, Esri JSON."""
from __future__ import annotations

import math

import pytest

from plugin.core.area import Area
from plugin.core.errors import InvalidRequestError
from plugin.core.tiling import Extent, SpatialRef


def _signed_area(ring):
    return sum(x0 * y1 - x1 * y0 for (x0, y0), (x1, y1) in zip(ring, ring[1:])) / 2


def test_from_extent_normalises_corner_order():
    area = Area.from_extent(10, 20, 0, 5)
    assert area.bbox == (0, 5, 10, 20)
    assert area.is_rectangle and area.area == 150
    assert Area.from_bounds(Extent(0, 5, 10, 20)) == area


@pytest.mark.parametrize(("args", "fragment"), [
    ((0, 0, 0, 10), "has no area"),
    ((0, 5, 10, 5), "has no area"),
    ((0, 0, math.inf, 1), "not a finite number"),
    ((0, 0, math.nan, 1), "not a finite number"),
    ((0, 0, "x", 1), "not a number"),
    ((0, 0, True, 1), "not a number"),
])
def test_from_extent_refuses_degenerate_and_non_finite(args, fragment):
    with pytest.raises(InvalidRequestError, match=fragment):
        Area.from_extent(*args)


def test_from_rings_closing_point_is_optional_and_duplicates_are_dropped():
    open_ring = Area.from_rings([[(0, 0), (0, 10), (5, 12), (10, 0)]])
    closed = Area.from_rings([[(0, 0), (0, 10), (0, 10), (5, 12), (10, 0), (0, 0)]])
    assert open_ring == closed
    assert open_ring.rings == (((0, 0), (0, 10), (5, 12), (10, 0)),)
    assert not open_ring.is_rectangle
    assert open_ring.bbox == (0, 0, 10, 12)


def test_from_rings_accepts_lists_and_ignores_z_and_m():
    area = Area.from_rings([[[0, 0, 5, 1], [0, 1, 5, 1], [1, 1, 5, 1], [1, 0, 5, 1], [0, 0, 5, 1]]])
    assert area.is_rectangle and area.bbox == (0, 0, 1, 1)


def test_axis_aligned_four_corner_ring_is_a_rectangle():
    assert Area.from_rings([[(0, 0), (2, 0), (2, 1), (0, 1)]]).is_rectangle
    assert not Area.from_rings([[(0, 0), (2, 0), (2, 1), (0, 1)], [(5, 5), (6, 5), (6, 6)]]).is_rectangle


def test_degenerate_rings_are_dropped_and_an_empty_result_refused():
    area = Area.from_rings([[(0, 0), (1, 1), (2, 2)], [(0, 0), (4, 0), (4, 4)], [(9, 9), (9, 9), (9, 9)]])
    assert len(area.rings) == 1
    for rings in ([], [[]], [[(0, 0), (1, 1)]], [[(0, 0), (1, 1), (3, 3), (0, 0)]]):
        with pytest.raises(InvalidRequestError, match="empty or degenerate"):
            Area.from_rings(rings)


@pytest.mark.parametrize(("rings", "fragment"), [
    ([[(0, 0), (1, math.nan), (1, 1)]], "y of point 1 of ring 0 is not a finite number"),
    ([[(0, 0), (1, "a"), (1, 1)]], "not a number"),
    ([[(0, 0), (1,), (1, 1)]], "not an (x, y) pair"),
    ([(0, 0), (1, 0), (1, 1)], "list of rings"),
    ([[0, 0, 1, 0, 1, 1]], "list of rings"),
    ("POLYGON((0 0, 1 0, 1 1))", "list of rings"),
    ([5], "ring 0 is not a list of points"),
])
def test_from_rings_refuses_malformed_input_clearly(rings, fragment):
    with pytest.raises(InvalidRequestError) as info:
        Area.from_rings(rings)
    assert fragment in str(info.value)


def test_even_odd_fill_holes_parts_and_bow_ties():
    square = [(0, 0), (0, 10), (10, 10), (10, 0)]
    hole = [(2, 2), (8, 2), (8, 8), (2, 8)]
    island = [(4, 4), (4, 6), (6, 6), (6, 4)]
    area = Area.from_rings([square, hole, island])
    assert area.contains_point(1, 1) and not area.contains_point(3, 3) and area.contains_point(5, 5)
    assert area.area == pytest.approx(100 - 36 + 4)
    assert area.is_simple
    # orientation does not matter for the fill
    assert Area.from_rings([list(reversed(square)), hole]).contains_point(1, 1)
    bow_tie = Area.from_rings([[(0, 0), (2, 2), (2, 0), (0, 2)]])
    assert bow_tie.contains_point(0.2, 1) and bow_tie.contains_point(1.8, 1) and not bow_tie.contains_point(1, 0.2)
    assert not bow_tie.is_simple
    assert bow_tie.find_crossing() == pytest.approx((1, 1))


def test_self_intersection_detection():
    assert Area.from_rings([[(0, 0), (0, 4), (4, 4), (4, 0)]]).is_simple
    # rings touching at one vertex are fine (Esri allows it)
    assert Area.from_rings([[(0, 0), (0, 2), (2, 2), (2, 0)], [(2, 2), (2, 4), (4, 4), (4, 2)]]).is_simple
    # overlapping parts cross
    assert not Area.from_rings([[(0, 0), (0, 3), (3, 3), (3, 0)], [(2, 2), (2, 5), (5, 5), (5, 2)]]).is_simple
    # a shared edge overlaps
    assert not Area.from_rings([[(0, 0), (0, 2), (2, 2), (2, 0)], [(2, 0), (2, 2), (4, 2), (4, 0)]]).is_simple
    # a zero-width spike overlaps itself
    assert not Area.from_rings([[(0, 0), (0, 2), (1, 2), (1, 5), (1, 2), (2, 2), (2, 0)]]).is_simple
    # a long thin polygon (many grid cells per edge) without crossings
    ring = [(i, 0.0) for i in range(200)] + [(199.0, 1.0), (0.0, 1.0)]
    assert Area.from_rings([ring]).is_simple


def test_to_esri_polygon_orients_outer_rings_clockwise_and_holes_counter_clockwise():
    ccw_outer = [(0, 0), (10, 0), (10, 10), (0, 10)]
    cw_hole = [(2, 2), (2, 8), (8, 8), (8, 2)]
    island = [(4, 4), (6, 4), (6, 6), (4, 6)]
    far = [(20, 0), (25, 0), (25, 5)]
    geometry = Area.from_rings([ccw_outer, cw_hole, island, far]).to_esri_polygon(3857)
    assert geometry["spatialReference"] == {"wkid": 3857}
    rings = geometry["rings"]
    assert all(ring[0] == ring[-1] for ring in rings)
    signs = [_signed_area(ring) for ring in rings]
    assert signs[0] < 0 and signs[1] > 0 and signs[2] < 0 and signs[3] < 0  # y up: negative = clockwise
    assert {tuple(p) for p in rings[0]} == {tuple(p) for p in ccw_outer}


def test_to_esri_envelope_and_feature_set():
    area = Area.from_rings([[(0, 0), (0, 10), (5, 12), (10, 0)]])
    assert area.to_esri_envelope(SpatialRef(102100, 3857)) == {
        "xmin": 0, "ymin": 0, "xmax": 10, "ymax": 12, "spatialReference": {"wkid": 102100, "latestWkid": 3857}}
    assert "spatialReference" not in area.to_esri_envelope()
    wkt_sr = area.to_esri_polygon(SpatialRef(wkt='PROJCS["x"]'))["spatialReference"]
    assert wkt_sr == {"wkt": 'PROJCS["x"]'}
    fs = area.to_feature_set({"wkid": 4326})
    assert fs["geometryType"] == "esriGeometryPolygon" and fs["spatialReference"] == {"wkid": 4326}
    assert fs["features"][0]["geometry"]["rings"][0][0] == fs["features"][0]["geometry"]["rings"][0][-1]
    with pytest.raises(TypeError):
        area.to_esri_envelope("3857")  # type: ignore[arg-type]


def test_from_esri_json_round_trip():
    area = Area.from_rings([[(0, 0), (0, 10), (5, 12), (10, 0)], [(2, 2), (4, 2), (3, 4)]])
    again = Area.from_esri_json(area.to_esri_polygon(3857))
    assert again.contains_point(1, 1) and not again.contains_point(3, 2.5)
    assert Area.from_esri_json({"xmin": 0, "ymin": 0, "xmax": 1, "ymax": 2}).is_rectangle
    with pytest.raises(InvalidRequestError, match="neither"):
        Area.from_esri_json({"x": 1, "y": 2})


def test_from_polygons_knows_ring_nesting_from_its_place_and_orients_for_esri():
    outer = [(0, 0), (10, 0), (10, 10), (0, 10)]  # counter-clockwise as given
    hole = [(2, 2), (2, 8), (8, 8), (8, 2)]  # clockwise as given
    island = [(20, 0), (30, 0), (30, 10), (20, 10)]
    area = Area.from_polygons([[outer, hole], [island]])
    assert area._depths() == [0, 1, 0]
    assert area._depths() == Area.from_rings([outer, hole, island])._depths()
    rings = area.to_esri_polygon()["rings"]

    def signed(ring):
        return sum(x0 * y1 - x1 * y0 for (x0, y0), (x1, y1) in zip(ring, ring[1:]))

    assert signed(rings[0]) < 0 and signed(rings[2]) < 0  # exteriors clockwise
    assert signed(rings[1]) > 0  # the hole counter-clockwise
