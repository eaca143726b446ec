"""The emulator's tile selection against hand-derived numbers and a brute force over QgsGeometry."""
from __future__ import annotations

import math

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from qgis.core import (
    QgsCoordinateReferenceSystem,
    QgsCoordinateTransform,
    QgsGeometry,
    QgsPointXY,
    QgsProject,
    QgsRectangle,
)

from arcgis_emulator.selection import (
    EDGE_EPSILON,
    Extent,
    Grid,
    PolygonArea,
    UnsupportedSpatialReferenceError,
    count_tiles,
    point_converter,
    select_tiles,
)

MERC = 20037508.342787
MERCATOR_GRID = Grid(-MERC, MERC, 256, 256, {z: 156543.03392800014 / 2 ** z for z in range(20)}, 3857)
UNIT_GRID = Grid(0.0, 100.0, 256, 256, {0: 1 / 256, 1: 1 / 512, 2: 1 / 1024}, None)  # level-0 tile = 1x1


def brute_force(grid: Grid, level: int, geometry: QgsGeometry) -> set[tuple[int, int]]:
    """Every tile whose box (shrunk by EDGE_EPSILON tile widths) intersects ``geometry`` (GEOS)."""
    w, h = grid.tile_size(level)
    box = geometry.boundingBox()
    c0 = math.floor((box.xMinimum() - grid.origin_x) / w) - 1
    c1 = math.floor((box.xMaximum() - grid.origin_x) / w) + 1
    r0 = math.floor((grid.origin_y - box.yMaximum()) / h) - 1
    r1 = math.floor((grid.origin_y - box.yMinimum()) / h) + 1
    out = set()
    for row in range(r0, r1 + 1):
        for col in range(c0, c1 + 1):
            xmin = grid.origin_x + col * w
            ymax = grid.origin_y - row * h
            rect = QgsRectangle(xmin + EDGE_EPSILON * w, ymax - h + EDGE_EPSILON * h,
                                xmin + w - EDGE_EPSILON * w, ymax - EDGE_EPSILON * h)
            if QgsGeometry.fromRect(rect).intersects(geometry):
                out.add((row, col))
    return out


def polygon_geometry(polygons: list[list[list[tuple[float, float]]]]) -> QgsGeometry:
    parts = [[[QgsPointXY(x, y) for x, y in ring] + [QgsPointXY(*ring[0])] for ring in rings]
             for rings in polygons]
    return QgsGeometry.fromMultiPolygonXY(parts)


# ---------------------------------------------------------------------------------------------- hand numbers

@pytest.mark.parametrize("level", [2, 3, 4, 5, 9])
def test_quadrant_extent_ending_on_tile_edges(level):
    # x in [0, MERC/2], y in [0, MERC/2]: at level L >= 2 exactly rows 2^(L-2) .. 2^(L-1)-1 and
    # columns 2^(L-1) .. 2^(L-1) + 2^(L-2) - 1, i.e. 4^(L-2) tiles (edges touch no extra tile).
    area = Extent(0.0, 0.0, MERC / 2, MERC / 2)
    q = 2 ** (level - 2)
    expected = {(r, c) for r in range(q, 2 * q) for c in range(2 * q, 3 * q)}
    assert set(select_tiles(MERCATOR_GRID, level, area)) == expected
    assert count_tiles(MERCATOR_GRID, level, area) == 4 ** (level - 2)


def test_float_noise_does_not_add_a_row_or_column():
    w = MERC / 2  # level 2 tile width
    noisy = Extent(0.0 - 1e-7, 0.0 + 1e-7, MERC / 2 + 1e-7, MERC / 2 - 1e-7)
    assert select_tiles(MERCATOR_GRID, 2, noisy) == [(1, 2)]
    beyond = Extent(0.0, 0.0, MERC / 2 + 1e-6 * w, MERC / 2)
    assert select_tiles(MERCATOR_GRID, 2, beyond) == [(1, 2), (1, 3)]


def test_point_extent_selects_the_tile_it_is_in():
    assert select_tiles(UNIT_GRID, 0, Extent(2.0, 97.5, 2.0, 97.5)) == [(2, 2)]  # on a column edge: right tile
    assert count_tiles(UNIT_GRID, 0, Extent(2.5, 97.5, 2.5, 97.5)) == 1


def test_triangle_hand_count():
    # right triangle (0,100) (4,100) (0,96) in a grid of unit tiles (origin 0,100): rows 0..3,
    # the hypotenuse x + (100 - y) = 4 only touches corners of the tiles beyond it -> 4+3+2+1 tiles
    tri = PolygonArea.from_rings([[[(0, 100), (4, 100), (0, 96), (0, 100)]]])
    assert sorted(select_tiles(UNIT_GRID, 0, tri)) == sorted(
        [(0, 0), (0, 1), (0, 2), (0, 3), (1, 0), (1, 1), (1, 2), (2, 0), (2, 1), (3, 0)])


def test_hole_and_two_parts():
    outer = [(0, 100), (6, 100), (6, 94), (0, 94)]
    hole = [(1.5, 98.5), (4.5, 98.5), (4.5, 95.5), (1.5, 95.5)]  # frees tiles rows 2-3, cols 2-3
    island = [(10.2, 99.8), (10.8, 99.8), (10.8, 99.2)]
    area = PolygonArea.from_rings([[outer, hole], [island]])
    selected = set(select_tiles(UNIT_GRID, 0, area))
    full = {(r, c) for r in range(6) for c in range(6)}
    assert selected == (full - {(2, 2), (2, 3), (3, 2), (3, 3)}) | {(0, 10)}
    assert count_tiles(UNIT_GRID, 0, area) == 33


def test_rectangle_polygon_equals_extent():
    for level in (0, 1, 2):
        for box in [(0.3, 96.2, 3.7, 99.9), (1, 97, 3, 99), (0.5, 97, 0.5, 97.5)]:
            rect = PolygonArea.from_rings([[[(box[0], box[1]), (box[2], box[1]), (box[2], box[3]),
                                              (box[0], box[3])]]])
            if box[0] == box[2]:
                continue  # a zero-area polygon is not an extent
            assert select_tiles(UNIT_GRID, level, rect) == select_tiles(UNIT_GRID, level, Extent(*box))


# ---------------------------------------------------------------------------------------------- brute force

coordinate = st.one_of(
    st.integers(0, 16).map(lambda v: v / 4),  # on tile edges and quarter points
    st.floats(0, 4, allow_nan=False, allow_infinity=False),
)


@st.composite
def star_polygon(draw):
    """A simple (star-shaped) polygon around a centre, vertices sorted by angle."""
    cx = draw(st.floats(1, 3))
    cy = draw(st.floats(97, 99))
    n = draw(st.integers(3, 9))
    angles = sorted(draw(st.lists(st.floats(0, 2 * math.pi, exclude_max=True), min_size=n, max_size=n,
                                  unique=True)))
    radii = draw(st.lists(st.floats(0.05, 2.5), min_size=n, max_size=n))
    return [(cx + r * math.cos(a), cy + r * math.sin(a)) for a, r in zip(angles, radii)]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ring=star_polygon(), level=st.sampled_from([0, 1, 2]))
def test_polygons_match_the_qgis_brute_force(ring, level):
    area = PolygonArea.from_rings([[ring]])
    geometry = polygon_geometry([[ring]])
    if not geometry.isGeosValid():
        return
    expected = brute_force(UNIT_GRID, level, geometry)
    assert set(select_tiles(UNIT_GRID, level, area)) == expected
    assert count_tiles(UNIT_GRID, level, area) == len(expected)


@settings(max_examples=60, deadline=None)
@given(x0=coordinate, x1=coordinate, y0=coordinate, y1=coordinate, level=st.sampled_from([0, 1, 2]))
@example(x0=1.0, x1=3.0, y0=1.0, y1=3.0, level=0)
def test_grid_aligned_rectangles_match_the_brute_force(x0, x1, y0, y1, level):
    xmin, xmax = sorted((x0, x1))
    ymin, ymax = sorted((96 + y0, 96 + y1))
    if xmax - xmin < 1e-6 or ymax - ymin < 1e-6:
        return
    ring = [(xmin, ymin), (xmax, ymin), (xmax, ymax), (xmin, ymax)]
    expected = brute_force(UNIT_GRID, level, polygon_geometry([[ring]]))
    assert set(select_tiles(UNIT_GRID, level, Extent(xmin, ymin, xmax, ymax))) == expected
    assert set(select_tiles(UNIT_GRID, level, PolygonArea.from_rings([[ring]]))) == expected


def test_diamond_with_hole_at_mercator_level_matches_brute_force():
    outer = [(0, 5e6), (5e6, 0), (0, -5e6), (-5e6, 0)]
    hole = [(0, 2e6), (2e6, 0), (0, -2e6), (-2e6, 0)]
    area = PolygonArea.from_rings([[outer, hole]])
    geometry = polygon_geometry([[outer, hole]])
    for level in (3, 5, 6):
        expected = brute_force(MERCATOR_GRID, level, geometry)
        assert set(select_tiles(MERCATOR_GRID, level, area)) == expected


# ---------------------------------------------------------------------------------------------- CRS

def test_geographic_to_mercator_matches_qgis():
    transform = QgsCoordinateTransform(QgsCoordinateReferenceSystem("EPSG:4326"),
                                       QgsCoordinateReferenceSystem("EPSG:3857"), QgsProject.instance())
    forward = point_converter(4326, 3857)
    backward = point_converter(3857, 4326)
    for lon, lat in [(0, 0), (13.4, 52.5), (-122.3, 47.6), (179.9, -80), (-45, 85)]:
        expected = transform.transform(QgsPointXY(lon, lat))
        x, y = forward(lon, lat)
        assert x == pytest.approx(expected.x(), abs=1e-6)
        assert y == pytest.approx(expected.y(), abs=1e-6)
        back = backward(x, y)
        assert back == pytest.approx((lon, lat), abs=1e-9)


def test_unsupported_crs_pairs_are_refused():
    with pytest.raises(UnsupportedSpatialReferenceError):
        point_converter(2263, 3857)
    with pytest.raises(UnsupportedSpatialReferenceError):
        point_converter(4326, 4548)
    assert point_converter(3857, 3857)(1.0, 2.0) == (1.0, 2.0)
