"""Export areas: construction, validation, even-odd semantics, Esri JSON."""
from __future__ import annotations

import math
from fractions import Fraction
from itertools import combinations
from unittest import mock

import pytest
from hypothesis import assume, example, given
from hypothesis import strategies as st

from plugin.core import area as area_module
from plugin.core.area import Area, _find_crossing
from plugin.core.errors import InvalidRequestError
from plugin.core.tiling import SpatialRef


def _signed_area(ring):
    return sum(x0 * y1 - x1 * y0 for (x0, y0), (x1, y1) in zip(ring, ring[1:])) / 2


def test_from_extent_normalises_corner_order():
    area = Area.from_extent(10, 20, 0, 5)
    assert area.bbox == (0, 5, 10, 20)
    assert area.is_rectangle and area.area == 150


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


# --- the crossing search against an exact all-pairs reference ------------------------------------
def _exact_conflict(p, q, r, t) -> bool:
    """Segments pq and rt cross at one inner point, or overlap along a positive length (Fractions)."""
    p, q, r, t = ((Fraction(x), Fraction(y)) for x, y in (p, q, r, t))

    def orient(a, b, c):
        return (b[0] - a[0]) * (c[1] - a[1]) - (b[1] - a[1]) * (c[0] - a[0])

    d1, d2, d3, d4 = orient(r, t, p), orient(r, t, q), orient(p, q, r), orient(p, q, t)
    if d1 * d2 < 0 and d3 * d4 < 0:
        return True
    if d1 == d2 == 0:  # collinear: project on the longer axis
        axis = 0 if abs(q[0] - p[0]) >= abs(q[1] - p[1]) else 1
        lo = max(min(p[axis], q[axis]), min(r[axis], t[axis]))
        hi = min(max(p[axis], q[axis]), max(r[axis], t[axis]))
        return hi > lo
    return False


def _reference_is_simple(area: Area) -> bool:
    edges = [(ring[i - 1], ring[i]) for ring in area.rings for i in range(len(ring))]
    return not any(_exact_conflict(*a, *b) for a, b in combinations(edges, 2))


GRID_POINT = st.tuples(st.integers(0, 6), st.integers(0, 6))  # small integers: touching, collinear, shared


@given(st.lists(st.lists(GRID_POINT, min_size=3, max_size=9), min_size=1, max_size=3),
       st.sampled_from([(1.0, 0.0), (0.1, 1e6), (1e-7, -3.3)]))
@example([[(0, 0), (0, 2), (2, 2), (2, 0)], [(2, 1), (3, 0), (3, 2)]], (0.1, 1e6))  # vertex on an edge: touching
@example([[(0, 0), (4, 0), (4, 4), (0, 4)], [(4, 1), (4, 3), (6, 2)]], (1.0, 0.0))  # shared part of an edge
def test_crossing_search_agrees_with_all_pairs(rings, transform):
    scale, offset = transform
    try:
        area = Area.from_rings([[(x * scale + offset, y * scale + offset) for x, y in ring] for ring in rings])
    except InvalidRequestError:
        assume(False)
    expected = _reference_is_simple(area)
    assert area.is_simple == expected
    # every cell with two segments split again, three times: the finer grids must miss nothing either
    with mock.patch.object(area_module, "_CROWDED", 1), mock.patch.object(area_module, "_MAX_DEPTH", 3):
        assert (_find_crossing(area.rings) is None) == expected


def _star(n: int, wiggle: float = 0.0, cx: float = 1_000_000.0, cy: float = 5_000_000.0):
    ring = []
    for i in range(n):
        angle = 2 * math.pi * i / n
        radius = 300_000 * (1.0 + 0.3 * math.sin(37 * angle) + wiggle * math.sin(997 * angle))
        ring.append((cx + radius * math.cos(angle), cy + radius * math.sin(angle)))
    return ring


def test_crossing_search_work_grows_with_the_vertices_not_their_square():
    for n in (1_000, 10_000, 30_000):  # the same outline, ever finer: all pairs would be n²/2
        stats: dict = {}
        assert _find_crossing(Area.from_rings([_star(n)]).rings, stats) is None
        assert stats["pairs"] <= 1.5 * n and stats["cells"] <= 3 * n
    # a comb: 997 narrow teeth of ~10 near-parallel edges each
    stats = {}
    assert _find_crossing(Area.from_rings([_star(10_000, wiggle=0.05)]).rings, stats) is None
    assert stats["pairs"] <= 3 * 10_000
    # 10,000 short edges next to two very long ones (a densified coast and straight borders)
    coast = [(x * 10.0, 1000.0 + 3.0 * math.sin(x)) for x in range(10_000)]
    stats = {}
    assert _find_crossing(Area.from_rings([coast + [(99_990.0, 0.0), (0.0, 0.0)]]).rings, stats) is None
    assert stats["pairs"] <= 1.5 * 10_002 and stats["cells"] <= 5 * 10_002


def test_crossing_search_finds_one_small_crossing_among_many_edges():
    ring = _star(10_000)
    (x0, y0), (x1, y1) = ring[5000], ring[5001]
    ex, ey = x1 - x0, y1 - y0

    def local(u, v):  # u along the edge 5000 -> 5001, v across it
        return x0 + u * ex - v * ey, y0 + u * ey + v * ex

    ring[5001:5001] = [local(0.7, 0.5), local(0.3, 0.5)]  # 5000 -> a -> b -> 5001: the first and last cross
    area = Area.from_rings([ring])
    assert not area.is_simple
    assert area.find_crossing() == pytest.approx(local(0.5, 0.5 / 1.4), rel=1e-9)


def test_the_benchmark_country_outline_is_simple():
    """bench/bench_tilecount.py exports nothing, but its input must be an area an export accepts."""
    from bench import bench_tilecount as bench

    if not bench.GPKG.is_file():
        pytest.skip(f"{bench.GPKG} (QGIS' world map) is not installed")
    rings = bench.to_web_mercator(bench.resample(bench.read_country(bench.COUNTRY), bench.TARGET_VERTICES))
    area = Area.from_rings(rings)
    stats: dict = {}
    assert area.vertex_count >= 10_000 and _find_crossing(area.rings, stats) is None
    assert stats["pairs"] <= 2 * area.vertex_count


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
