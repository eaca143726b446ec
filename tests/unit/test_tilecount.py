"""Exact tile counts: hand-checked cases and a brute force over random polygons (Hypothesis)."""
from __future__ import annotations

import math
from fractions import Fraction

import pytest
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from plugin.core import tilecount
from plugin.core.area import Area
from plugin.core.errors import CancelledError, InvalidRequestError
from plugin.core.tilecount import (
    box_bounds,
    count_tiles,
    iter_tiles,
    row_spans,
    span_boxes,
    tile_ranges,
    total_tiles,
)
from plugin.core.tiling import LOD, SpatialRef, TilingScheme

H = 20037508.342787
WEB_MERCATOR = TilingScheme(-H, H, 256, 256, tuple(LOD(z, 156543.03392800014 / 2**z, 0.0) for z in range(24)),
                            SpatialRef(102100, 3857))

# A scheme where tile units are exact binary fractions: tiles are 64 x 32 CRS units.
OX, OY, TW, TH = -1000.0, 2000.0, 64.0, 32.0
EXACT = TilingScheme(OX, OY, 256, 128, (LOD(0, 0.25, 1000.0),))
# Same grid shape but with a resolution that is not a binary fraction: float noise at every tile edge.
NOISY_RES = 0.1 + 0.2  # 0.30000000000000004
NOISY = TilingScheme(OX, OY, 256, 256, (LOD(3, NOISY_RES, 1000.0),))


def rings_in_tile_units(scheme: TilingScheme, level: int, rings_uv):
    """Tile-unit rings (u right, v down, from the origin) to CRS rings."""
    w, h = scheme.tile_size(level)
    return [[(scheme.origin_x + u * w, scheme.origin_y - v * h) for u, v in ring] for ring in rings_uv]


# --- brute force (exact integer arithmetic, independent of the scanline) ----------------------------
def _segment_meets_open_box(a, b, box) -> bool:
    """Does the closed segment ab meet the open box (x0, x1) x (y0, y1)?  Separating axes, exact on ints."""
    x0, y0, x1, y1 = box
    (ax, ay), (bx, by) = a, b
    if max(ax, bx) <= x0 or min(ax, bx) >= x1 or max(ay, by) <= y0 or min(ay, by) >= y1:
        return False
    dx, dy = bx - ax, by - ay
    sides = [dx * (cy - ay) - dy * (cx - ax) for cx, cy in ((x0, y0), (x1, y0), (x1, y1), (x0, y1))]
    return min(sides) < 0 < max(sides)  # the segment's line passes through the open box


def _inside_even_odd(x, y, rings) -> bool:
    inside = False
    for ring in rings:
        for i in range(len(ring)):
            (xa, ya), (xb, yb) = ring[i - 1], ring[i]
            if (ya > y) != (yb > y):
                # x < xa + (y - ya) * (xb - xa) / (yb - ya), multiplied out
                left, right = (x - xa) * (yb - ya), (y - ya) * (xb - xa)
                if (left < right) if yb > ya else (left > right):
                    inside = not inside
    return inside


def brute_force_tiles(rings_uv) -> set[tuple[int, int]]:
    """Tiles (row, col) whose open square meets the closed even-odd area, in exact tile units."""
    fractions = [[(Fraction(u), Fraction(v)) for u, v in ring] for ring in rings_uv]
    scale = math.lcm(2, *(f.denominator for ring in fractions for p in ring for f in p))
    rings = [[(int(u * scale), int(v * scale)) for u, v in ring] for ring in fractions]
    us = [u for ring in fractions for u, _ in ring]
    vs = [v for ring in fractions for _, v in ring]
    edges = [(ring[i - 1], ring[i]) for ring in rings for i in range(len(ring))]
    tiles = set()
    for row in range(math.floor(min(vs)) - 1, math.ceil(max(vs)) + 1):
        for col in range(math.floor(min(us)) - 1, math.ceil(max(us)) + 1):
            box = (col * scale, row * scale, (col + 1) * scale, (row + 1) * scale)
            if any(_segment_meets_open_box(a, b, box) for a, b in edges) or \
                    _inside_even_odd((2 * col + 1) * scale // 2, (2 * row + 1) * scale // 2, rings):
                tiles.add((row, col))
    return tiles


def fast_tiles(scheme, level, area) -> set[tuple[int, int]]:
    return {(row, col) for row, spans in row_spans(scheme, area, level).items()
            for c0, c1 in spans for col in range(c0, c1 + 1)}


def check_spans_shape(spans):
    assert list(spans) == sorted(spans)
    for intervals in spans.values():
        assert intervals, "rows without tiles must be absent"
        for (a0, a1), (b0, b1) in zip(intervals, intervals[1:]):
            assert a0 <= a1 < b0 - 1 <= b1 - 1, intervals
        assert intervals[-1][0] <= intervals[-1][1]


# quarter-tile grid, so vertices and edges land exactly on tile edges and corners often
coord = st.integers(min_value=-6, max_value=22).map(lambda k: Fraction(k, 4))
ring_st = st.lists(st.tuples(coord, coord), min_size=3, max_size=9)
rings_st = st.lists(ring_st, min_size=1, max_size=4)


def _axis_rect(u0, v0, u1, v1):
    return [(u0, v0), (u1, v0), (u1, v1), (u0, v1)]


rect_ring_st = st.builds(lambda a, b, c, d: _axis_rect(min(a, c), min(b, d), max(a, c), max(b, d)),
                         coord, coord, coord, coord)
mixed_rings_st = st.lists(st.one_of(ring_st, rect_ring_st), min_size=1, max_size=4)


def _area_or_skip(scheme, level, rings_uv) -> Area:
    crs_rings = rings_in_tile_units(scheme, level, [[(float(u), float(v)) for u, v in r] for r in rings_uv])
    try:
        return Area.from_rings(crs_rings)
    except InvalidRequestError:
        assume(False)
        raise


def _kept_rings(rings_uv):
    """The input rings minus those that enclose nothing (what Area drops), computed independently."""
    kept = []
    for ring in rings_uv:
        pts = [(Fraction(u), Fraction(v)) for u, v in ring]
        (ax, ay) = pts[0]
        collinear = all((bx - ax) * (cy - ay) == (by - ay) * (cx - ax) for (bx, by) in pts for (cx, cy) in pts)
        if len(set(pts)) >= 3 and not collinear:
            kept.append(pts)
    return kept


def _area_rings_in_units(scheme, level, area):
    """The normalised rings of ``area`` back in exact tile units (they are exact quarters by design)."""
    w, h = scheme.tile_size(level)
    return [[(Fraction((x - scheme.origin_x) / w).limit_denominator(64),
              Fraction((scheme.origin_y - y) / h).limit_denominator(64)) for x, y in ring] for ring in area.rings]


@settings(max_examples=800, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mixed_rings_st)
@example([[(0, 0), (4, 0), (0, 4)]])
@example([_axis_rect(0, 0, 3, 3), _axis_rect(1, 1, 2, 2)])  # a hole that is exactly one tile
@example([[(0, 0), (2, 2), (2, 0), (0, 2)]])  # bow tie through a tile corner
@example([[(0, 0), (4, 4), (4, 0), (0, 4)]])  # bow tie on its bounding box's corners: not a rectangle
@example([[(Fraction(1, 2), 0), (Fraction(1, 2), 3), (Fraction(5, 2), 3), (Fraction(5, 2), 0)],
          [(Fraction(1, 2), 0), (Fraction(1, 2), 3), (Fraction(5, 2), 3)]])
@example([[(0, Fraction(1, 2)), (3, Fraction(1, 2)), (1, Fraction(3, 4)), (3, Fraction(3, 2)), (0, 2)]])
def test_scanline_matches_brute_force_exact_grid(rings_uv):
    area = _area_or_skip(EXACT, 0, rings_uv)
    expected = brute_force_tiles(_kept_rings(rings_uv))  # from the input, not from Area's normalised rings
    assert brute_force_tiles(_area_rings_in_units(EXACT, 0, area)) == expected
    spans = row_spans(EXACT, area, 0)
    check_spans_shape(spans)
    assert fast_tiles(EXACT, 0, area) == expected
    assert count_tiles(EXACT, area, [0]) == {0: len(expected)}
    rng = tile_ranges(EXACT, area, 0)
    assert all(rng.row_min <= r <= rng.row_max and rng.col_min <= c <= rng.col_max for r, c in expected)
    if expected and area.area > 0 and area.is_simple:
        # tight for regular areas (a zero-width spike along a tile edge may widen the box, nothing else)
        spikes = any(len(set(ring)) < len(ring) for ring in area.rings)
        if not spikes:
            assert min(r for r, _ in expected) == rng.row_min and max(r for r, _ in expected) == rng.row_max
            assert min(c for _, c in expected) == rng.col_min and max(c for _, c in expected) == rng.col_max


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mixed_rings_st, st.integers(1, 4))
def test_row_chunks_do_not_change_the_result(rings_uv, chunk_rows):
    """Deep levels are scanned in chunks of rows; chunk borders must be invisible."""
    area = _area_or_skip(EXACT, 0, rings_uv)
    expected = row_spans(EXACT, area, 0)
    saved = tilecount.CHUNK_ROWS
    tilecount.CHUNK_ROWS = chunk_rows
    try:
        assert row_spans(EXACT, area, 0) == expected
        assert count_tiles(EXACT, area, 0)[0] == sum(c1 - c0 + 1 for s in expected.values() for c0, c1 in s)
    finally:
        tilecount.CHUNK_ROWS = saved


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rings_st)
def test_scanline_absorbs_float_noise_on_tile_edges(rings_uv):
    """With a non-binary resolution every on-edge vertex is off by an ulp: EDGE_EPSILON absorbs it."""
    area = _area_or_skip(NOISY, 3, rings_uv)
    expected = brute_force_tiles(_kept_rings(rings_uv))
    assert fast_tiles(NOISY, 3, area) == expected


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.floats(-50, 50), st.floats(-50, 50)), min_size=3, max_size=30))
def test_scanline_matches_brute_force_on_arbitrary_floats(points):
    """Arbitrary float vertices (no exact tile-edge contact by construction)."""
    scheme = TilingScheme(0.0, 0.0, 256, 256, (LOD(0, 10.0 / 256, 1.0),))  # tiles 10 x 10 units
    try:
        area = Area.from_rings([points])
    except InvalidRequestError:
        assume(False)
        return
    rings_uv = [[(Fraction(x) / 10, -Fraction(y) / 10) for x, y in ring] for ring in area.rings]
    expected = brute_force_tiles(rings_uv)
    # tolerance: a true overlap thinner than EDGE_EPSILON is ignored by design; avoid those cases
    got = fast_tiles(scheme, 0, area)
    if got != expected:
        near = [v for ring in rings_uv for p in ring for v in p if abs(v - round(v)) < Fraction(1, 10**6)]
        assume(not near)
    assert got == expected


# --- hand-checked cases ---------------------------------------------------------------------------
def units(rings_uv, scheme=EXACT, level=0):
    return Area.from_rings(rings_in_tile_units(scheme, level, rings_uv))


def test_rectangle_aligned_on_tile_edges_touches_no_neighbour():
    area = Area.from_extent(OX, OY - 2 * TH, OX + 2 * TW, OY)  # exactly tiles (0..1, 0..1)
    assert count_tiles(EXACT, area, [0]) == {0: 4}
    assert row_spans(EXACT, area, 0) == {0: [(0, 1)], 1: [(0, 1)]}
    assert area.is_rectangle


def test_rectangle_counts_agree_with_polygon_path():
    rect = Area.from_extent(OX + 10, OY - 100, OX + 300, OY - 5)
    poly = Area.from_rings([[(OX + 10, OY - 100), (OX + 10, OY - 5), (OX + 155, OY - 5), (OX + 300, OY - 5),
                             (OX + 300, OY - 100)]])  # a fifth, collinear vertex: not a rectangle any more
    assert not poly.is_rectangle
    assert count_tiles(EXACT, rect, 0) == count_tiles(EXACT, poly, 0) == {0: 5 * 4}
    assert row_spans(EXACT, rect, 0) == row_spans(EXACT, poly, 0)


def test_triangle_counts_the_diagonal_tiles_once():
    # u >= 0, v >= 0, u + v <= 4: tile (r, c) is touched iff r + c <= 3
    assert count_tiles(EXACT, units([[(0, 0), (4, 0), (0, 4)]]), 0) == {0: 10}


def test_hole_of_exactly_one_tile_removes_it_and_a_smaller_hole_does_not():
    outer = _axis_rect(0, 0, 3, 3)
    assert count_tiles(EXACT, units([outer, _axis_rect(1, 1, 2, 2)]), 0) == {0: 8}
    assert row_spans(EXACT, units([outer, _axis_rect(1, 1, 2, 2)]), 0)[1] == [(0, 0), (2, 2)]
    smaller = _axis_rect(1.25, 1.25, 1.75, 1.75)
    assert count_tiles(EXACT, units([outer, smaller]), 0) == {0: 9}


def test_vertex_on_a_tile_corner_does_not_touch_the_diagonal_neighbour():
    # a diamond whose corners sit on tile corners: the 4 tiles around its centre, nothing else
    diamond = [(1, 0), (2, 1), (1, 2), (0, 1)]
    assert fast_tiles(EXACT, 0, units([diamond])) == {(0, 0), (0, 1), (1, 0), (1, 1)}


def test_spike_into_a_tile_counts_that_tile():
    # a zero-width spike is boundary: the closed area meets the open tile (1, 3)
    shape = [(0, 0), (2, 0), (2, 1.5), (3.5, 1.5), (2, 1.5), (2, 2), (0, 2)]
    assert (1, 3) in fast_tiles(EXACT, 0, units([shape]))


def test_tiles_beyond_the_nominal_grid_are_counted_not_clipped():
    area = Area.from_extent(-2.5 * H, -0.5 * H, -0.5 * H, 1.5 * H)  # left of and above the world
    rng = tile_ranges(WEB_MERCATOR, area, 1)
    assert (rng.col_min, rng.col_max, rng.row_min, rng.row_max) == (-2, 0, -1, 1)
    assert count_tiles(WEB_MERCATOR, area, [1]) == {1: 9}


def test_world_extent_at_web_mercator_levels():
    world = Area.from_extent(-H, -H, H, H)
    assert count_tiles(WEB_MERCATOR, world, range(5)) == {z: 4**z for z in range(5)}
    assert total_tiles(WEB_MERCATOR, world, [0, 1, 2]) == 21


def test_geographic_scheme_with_512_px_tiles():
    scheme = TilingScheme(-180.0, 90.0, 512, 512,
                          tuple(LOD(z, 0.703125 / 2**z, 0.0) for z in range(6)), SpatialRef(4326, 4326))
    world = Area.from_extent(-180, -90, 180.00000000000006, 90)  # xmax noise as in a real package
    assert count_tiles(scheme, world, range(4)) == {0: 1, 1: 2, 2: 8, 3: 32}


def test_non_halving_levels_and_far_origin():
    # Jinnan CGCS2000 scheme: origin (450000, 4500000), non-halving scales
    lods = (LOD(0, 66.1459656252646, 250000), LOD(1, 33.0729828126323, 125000),
            LOD(2, 16.933367200067735, 64000), LOD(3, 8.466683600033868, 32000))
    scheme = TilingScheme(450000, 4500000, 256, 256, lods, SpatialRef(4548, 4548))
    area = Area.from_rings([[(522236.77, 4302924.94), (547978.50, 4302924.94), (535000, 4326264.56)]])
    counts = count_tiles(scheme, area, [0, 1, 2, 3])
    for level, n in counts.items():
        assert 0 < n <= tile_ranges(scheme, area, level).count
    # brute force in CRS units with exact fractions of the float inputs
    for level in (2, 3):
        w, h = scheme.tile_size(level)
        rings_uv = [[((Fraction(x) - Fraction(scheme.origin_x)) / Fraction(w),
                      (Fraction(scheme.origin_y) - Fraction(y)) / Fraction(h)) for x, y in ring] for ring in area.rings]
        assert counts[level] == len(brute_force_tiles(rings_uv))


def test_polygon_thinner_than_the_tolerance_counts_like_its_bounding_box():
    tiny = Area.from_rings([[(0.0, 0.0), (1e-3, 0.0), (0.0, 1e-3)]])  # 1 mm: < 1e-9 tiles at level 0
    assert count_tiles(WEB_MERCATOR, tiny, [0, 1, 5]) == {0: 1, 1: 1, 5: 1}
    assert row_spans(WEB_MERCATOR, tiny, 0) == {0: [(0, 0)]}
    on_edge = Area.from_rings([[(-H, 0.0), (-H + 1e-3, 0.0), (-H, 1e-3)]])  # on the world's left edge
    assert count_tiles(WEB_MERCATOR, on_edge, [0]) == count_tiles(WEB_MERCATOR, Area.from_extent(*on_edge.bbox), [0])


def test_levels_zoom_3_start_and_unknown_level():
    scheme = TilingScheme(-H, H, 256, 256, tuple(LOD(z - 3, 156543.03392800014 / 2**z, 0.0) for z in range(3, 8)))
    area = Area.from_extent(-H, -H, H, H)
    assert count_tiles(scheme, area, [0]) == {0: 64}
    with pytest.raises(InvalidRequestError, match="level 7 is not in the tiling scheme"):
        count_tiles(scheme, area, [7])


def test_iter_tiles_and_span_boxes_cover_the_same_tiles():
    area = units([[(0, 0), (5, 0), (5, 1.5), (2.5, 1.5), (2.5, 4), (0, 4)], _axis_rect(0.5, 0.5, 1.5, 3.5)])
    tiles = set(iter_tiles(EXACT, area, 0))
    spans = row_spans(EXACT, area, 0)
    boxes = span_boxes(spans)
    covered = {(r, c) for r0, r1, c0, c1 in boxes for r in range(r0, r1 + 1) for c in range(c0, c1 + 1)}
    assert covered == tiles
    assert sum((r1 - r0 + 1) * (c1 - c0 + 1) for r0, r1, c0, c1 in boxes) == len(tiles)
    xmin, ymin, xmax, ymax = box_bounds(EXACT, 0, boxes[0])
    assert xmax - xmin == TW * (boxes[0][3] - boxes[0][2] + 1)
    assert ymax - ymin == TH * (boxes[0][1] - boxes[0][0] + 1)


def _wavy_star(n: int = 10_000) -> Area:
    cx, cy = 1_000_000.0, 5_000_000.0
    ring = []
    for i in range(n):
        angle = 2 * math.pi * i / n
        radius = 300_000 * (1.0 + 0.3 * math.sin(37 * angle) + 0.05 * math.sin(997 * angle))
        ring.append((cx + radius * math.cos(angle), cy + radius * math.sin(angle)))
    return Area.from_rings([ring])


def test_10000_vertex_polygon_matches_a_per_tile_reference():
    """The scanline against the benchmark's per-tile baseline (another algorithm) at a level it can afford;
    how fast the deep levels are is bench/bench_tilecount.py's business, not a test's."""
    from bench.bench_tilecount import naive_count

    area = _wavy_star()
    level = 14
    assert tile_ranges(WEB_MERCATOR, area, level).count >= 50_000
    assert count_tiles(WEB_MERCATOR, area, [level])[level] == naive_count(WEB_MERCATOR, area, level)


def test_deep_level_count_lies_between_the_area_and_its_tile_wide_margin():
    """At a level with > 10^7 candidate tiles: the touched tiles cover the polygon, and lie within one
    tile diagonal of it (so their total area is at most the polygon grown by that distance)."""
    area = _wavy_star()
    level = 18
    assert tile_ranges(WEB_MERCATOR, area, level).count >= 10**7
    count = count_tiles(WEB_MERCATOR, area, [level])[level]
    side = WEB_MERCATOR.tile_size(level)[0]
    diagonal = math.sqrt(2) * side
    (ring,) = area.rings
    perimeter = sum(math.dist(ring[i - 1], ring[i]) for i in range(len(ring)))
    assert area.area <= count * side**2 <= area.area + perimeter * diagonal + math.pi * diagonal**2


def test_a_count_asked_to_stop_ends_between_row_chunks(monkeypatch):
    """A stale count (the dock's area changed) stops within a chunk of rows instead of finishing the level."""
    monkeypatch.setattr(tilecount, "CHUNK_ROWS", 1000)
    area = Area.from_rings([[(-1.5e7, -1e7), (1.5e7, -1e7), (0.0, 1.5e7)]])  # a triangle over the world
    level = 14  # the triangle spans about 10,000 of the 16,384 rows: a dozen chunks
    asked = []

    def stop_after(n):
        def stop():
            asked.append(1)
            return len(asked) > n
        return stop

    full = count_tiles(WEB_MERCATOR, area, [level], stop=stop_after(10**9))
    chunks = len(asked)
    assert chunks == -(-tile_ranges(WEB_MERCATOR, area, level).rows // 1000)  # asked once per chunk
    assert full == count_tiles(WEB_MERCATOR, area, [level])  # asking changes nothing
    asked.clear()
    with pytest.raises(CancelledError):
        count_tiles(WEB_MERCATOR, area, [level], stop=stop_after(3))
    assert len(asked) == 4  # it stopped at the fourth chunk, not at the end of the level
