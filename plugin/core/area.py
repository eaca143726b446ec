"""Export areas: a rectangle, or a polygon with several parts and holes, in the service CRS.

An :class:`Area` is a set of rings (Esri style: lists of ``(x, y)``; the closing point is optional).
Its *fill* is the **even-odd rule over all rings**: a point is inside when a ray from it crosses the
rings an odd number of times.  For a valid Esri polygon (clockwise outer rings, counter-clockwise holes,
no crossings) this is exactly the polygon; for anything else it is still a well-defined region, and it is
the rule Esri's geometry engine applies when it simplifies a polygon (its default fill rule is
odd-even).  So self-intersecting rings still have a consistent meaning in the core (a bow tie is two
triangles, a ring drawn twice cancels out), but an *export* of such an area is refused
(:func:`~.export.validate_export` checks :attr:`Area.is_simple`): the server's reading of a crossing
outline cannot be relied on to match the tile count.  The QGIS side repairs geometries (``makeValid``)
before it builds an area.  The crossing search compares only segments that share a grid cell about a
segment long, so its work grows with the vertex count for real outlines, and its orientation test is
exact, so rings that merely touch (as valid geometries may) never count as crossing.

Normalisation on construction: coordinates must be finite numbers; the closing point and consecutive
duplicate points are dropped; rings with fewer than three distinct points or whose points are all on
one line are dropped (they enclose nothing).  No ring left, or a bounding box without width or height,
raises :class:`~.errors.InvalidRequestError`.

The *closed* area (fill plus ring edges) is what touches tiles: see :mod:`.tilecount`.
"""
from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any, Union

from .errors import InvalidRequestError
from .tiling import SpatialRef

Point = tuple[float, float]
Ring = tuple[Point, ...]
SpatialRefLike = Union[int, SpatialRef, dict, None]


def _sr_json(spatial_ref: SpatialRefLike) -> dict[str, Any] | None:
    if spatial_ref is None:
        return None
    if isinstance(spatial_ref, SpatialRef):
        return spatial_ref.to_json() or None
    if isinstance(spatial_ref, dict):
        return dict(spatial_ref)
    if isinstance(spatial_ref, bool) or not isinstance(spatial_ref, int):
        raise TypeError("spatial_ref must be a wkid, a SpatialRef, an Esri spatialReference dict or None")
    return {"wkid": spatial_ref}


def _invalid(reason: str) -> InvalidRequestError:
    return InvalidRequestError(reason=reason)


def _coord(value: Any, where: str) -> float:
    if isinstance(value, bool):
        raise _invalid(f"{where} is not a number ({value!r})")
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise _invalid(f"{where} is not a number ({value!r})") from None
    if not math.isfinite(number):
        raise _invalid(f"{where} is not a finite number ({value!r}); check the area's coordinate transformation")
    return number


def _signed_area2(ring: Sequence[Point]) -> float:
    """Twice the signed area (shoelace), positive for counter-clockwise rings (y up)."""
    total = 0.0
    n = len(ring)
    for i in range(n):
        x0, y0 = ring[i - 1]
        x1, y1 = ring[i]
        total += x0 * y1 - x1 * y0
    return total


def _collinear(ring: Sequence[Point]) -> bool:
    """All points on one line (within a relative tolerance): the ring encloses nothing."""
    x0, y0 = ring[0]
    # farthest point from the first one gives a stable direction
    far = max(ring, key=lambda p: abs(p[0] - x0) + abs(p[1] - y0))
    dx, dy = far[0] - x0, far[1] - y0
    length = math.hypot(dx, dy)
    if length == 0.0:
        return True
    tolerance = 1e-12 * length * length
    return all(abs(dx * (y - y0) - dy * (x - x0)) <= tolerance for x, y in ring)


def _point_in_ring(x: float, y: float, ring: Sequence[Point]) -> bool:
    """Even-odd ray test against one ring (points on the ring give an unspecified answer)."""
    inside = False
    n = len(ring)
    xj, yj = ring[n - 1]
    for i in range(n):
        xi, yi = ring[i]
        if (yi > y) != (yj > y) and x < xj + (y - yj) * (xi - xj) / (yi - yj):
            inside = not inside
        xj, yj = xi, yi
    return inside


def _on_segment(px: float, py: float, ax: float, ay: float, bx: float, by: float) -> bool:
    cross = (bx - ax) * (py - ay) - (by - ay) * (px - ax)
    scale = max(abs(bx - ax), abs(by - ay), 1e-300)
    if abs(cross) > 1e-12 * scale * scale:
        return False
    return min(ax, bx) <= px <= max(ax, bx) and min(ay, by) <= py <= max(ay, by)


def _on_ring(x: float, y: float, ring: Sequence[Point]) -> bool:
    n = len(ring)
    return any(_on_segment(x, y, *ring[i - 1], *ring[i]) for i in range(n))


@dataclass(frozen=True, eq=True)
class Area:
    """A rectangle or an even-odd filled set of rings in the service CRS (see the module doc)."""

    rings: tuple[Ring, ...]
    _rectangle: bool = field(default=False, repr=False)
    _bbox: tuple[float, float, float, float] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # Build areas with the factories (they validate and normalise); this only derives the box.
        xs = [x for ring in self.rings for x, _ in ring]
        ys = [y for ring in self.rings for _, y in ring]
        if not xs:
            raise _invalid("the area has no rings")
        object.__setattr__(self, "_bbox", (min(xs), min(ys), max(xs), max(ys)))

    # --- construction -------------------------------------------------------------------------
    @classmethod
    def from_extent(cls, xmin: float, ymin: float, xmax: float, ymax: float) -> Area:
        """A rectangle; corners may come in any order.  Zero width or height is refused."""
        x0, y0 = _coord(xmin, "xmin"), _coord(ymin, "ymin")
        x1, y1 = _coord(xmax, "xmax"), _coord(ymax, "ymax")
        x0, x1 = min(x0, x1), max(x0, x1)
        y0, y1 = min(y0, y1), max(y0, y1)
        if not (x1 > x0 and y1 > y0):
            raise _invalid(f"the rectangle ({x0}, {y0}, {x1}, {y1}) has no area; draw a larger one")
        ring = ((x0, y0), (x0, y1), (x1, y1), (x1, y0))  # clockwise, as Esri wants outer rings
        return cls((ring,), True)

    @classmethod
    def from_rings(cls, rings: Iterable[Iterable[Sequence[float]]]) -> Area:
        """A polygon from Esri-style rings ``[[(x, y), ...], ...]`` (z/m values after x, y are ignored).

        A single axis-aligned four-corner ring becomes a rectangle (``is_rectangle``), counted in O(1).
        """
        if isinstance(rings, (str, bytes)) or not isinstance(rings, Iterable):
            raise _invalid("the polygon must be a list of rings, each a list of (x, y) points")
        clean: list[Ring] = []
        for r_index, raw_ring in enumerate(rings):
            if isinstance(raw_ring, (str, bytes)) or not isinstance(raw_ring, Iterable):
                raise _invalid(f"ring {r_index} is not a list of points")
            points: list[Point] = []
            for p_index, raw_point in enumerate(raw_ring):
                if isinstance(raw_point, (int, float)):
                    raise _invalid("the polygon must be a list of rings, each a list of (x, y) points "
                                   "(got a list of numbers)")
                try:
                    rx, ry = raw_point[0], raw_point[1]
                except (TypeError, IndexError, KeyError):
                    raise _invalid(f"point {p_index} of ring {r_index} is not an (x, y) pair") from None
                x = _coord(rx, f"x of point {p_index} of ring {r_index}")
                y = _coord(ry, f"y of point {p_index} of ring {r_index}")
                if not points or points[-1] != (x, y):
                    points.append((x, y))
            while len(points) > 1 and points[-1] == points[0]:
                points.pop()
            if len(set(points)) < 3 or _collinear(points):
                continue  # encloses nothing
            clean.append(tuple(points))
        if not clean:
            raise _invalid("the polygon is empty or degenerate (no ring encloses any area); draw a larger one")
        xs = [x for ring in clean for x, _ in ring]
        ys = [y for ring in clean for _, y in ring]
        bbox = (min(xs), min(ys), max(xs), max(ys))
        rectangle = False
        if len(clean) == 1 and len(clean[0]) == 4:
            ring = clean[0]
            x0, y0, x1, y1 = bbox
            # the four bbox corners, walked along axis-aligned edges (not a bow tie through them)
            rectangle = set(ring) == {(x0, y0), (x0, y1), (x1, y1), (x1, y0)} and all(
                (ring[i - 1][0] == ring[i][0]) != (ring[i - 1][1] == ring[i][1]) for i in range(4))
        if rectangle:
            return cls.from_extent(*bbox)
        return cls(tuple(clean), False)

    @classmethod
    def from_polygons(cls, polygons: Iterable[Iterable[Iterable[Sequence[float]]]]) -> Area:
        """A multi-polygon as GIS libraries give it: each part is ``[exterior, hole, hole, ...]``.

        For valid geometry (parts that do not overlap, holes inside their exterior) the nesting of
        every ring is known from its place, so orienting the rings for Esri costs nothing; finding it
        from the coordinates (:meth:`_depths`) grows with the square of the ring count.
        """
        rings: list = []
        depths: list[int] = []
        for part in polygons:
            for k, ring in enumerate(part):
                rings.append(ring)
                depths.append(0 if k == 0 else 1)
        area = cls.from_rings(rings)
        if not area.is_rectangle and len(area.rings) == len(depths):  # no ring was dropped as degenerate
            object.__setattr__(area, "_depth_cache", depths)
        return area

    @classmethod
    def from_esri_json(cls, geometry: dict[str, Any]) -> Area:
        """From an Esri envelope ``{xmin, ymin, xmax, ymax}`` or polygon ``{"rings": [...]}`` (SR ignored)."""
        if not isinstance(geometry, dict):
            raise _invalid("the area must be an Esri envelope or polygon object")
        if "rings" in geometry:
            return cls.from_rings(geometry["rings"])
        if all(key in geometry for key in ("xmin", "ymin", "xmax", "ymax")):
            return cls.from_extent(geometry["xmin"], geometry["ymin"], geometry["xmax"], geometry["ymax"])
        raise _invalid("the area is neither an Esri envelope (xmin, ymin, xmax, ymax) nor a polygon (rings)")

    # --- properties -----------------------------------------------------------------------------
    @property
    def bbox(self) -> tuple[float, float, float, float]:
        """``(xmin, ymin, xmax, ymax)``."""
        return self._bbox

    @property
    def is_rectangle(self) -> bool:
        return self._rectangle

    @property
    def vertex_count(self) -> int:
        return sum(len(ring) for ring in self.rings)

    @property
    def area(self) -> float:
        """The even-odd filled area, exact for rings that do not cross each other or themselves."""
        if self._rectangle:
            x0, y0, x1, y1 = self._bbox
            return (x1 - x0) * (y1 - y0)
        total = 0.0
        for ring, depth in zip(self.rings, self._depths()):
            a = abs(_signed_area2(ring)) / 2
            total += -a if depth % 2 else a
        return total

    @property
    def is_simple(self) -> bool:
        """True when no two edges cross or overlap (rings may still touch at single points)."""
        return self.find_crossing() is None

    def find_crossing(self) -> Point | None:
        """A point where two edges cross or overlap, or ``None`` (grid search, see the module doc)."""
        cached = self.__dict__.get("_crossing_cache", False)
        if cached is not False:
            return cached
        result = _find_crossing(self.rings)
        object.__setattr__(self, "_crossing_cache", result)
        return result

    # --- Esri JSON ------------------------------------------------------------------------------
    def to_esri_envelope(self, spatial_ref: SpatialRefLike = None) -> dict[str, Any]:
        """The bounding box as an Esri envelope (``exportExtent``)."""
        x0, y0, x1, y1 = self._bbox
        out: dict[str, Any] = {"xmin": x0, "ymin": y0, "xmax": x1, "ymax": y1}
        sr = _sr_json(spatial_ref)
        if sr:
            out["spatialReference"] = sr
        return out

    def to_esri_polygon(self, spatial_ref: SpatialRefLike = None) -> dict[str, Any]:
        """An Esri polygon (``polygon`` / ``areaOfInterest`` geometry) with closed rings.

        Rings are oriented by their even-odd nesting depth: depth 0, 2, ... (outer boundaries) clockwise,
        depth 1, 3, ... (holes) counter-clockwise, which is what Esri expects of a valid polygon.
        """
        rings_out = []
        for ring, depth in zip(self.rings, self._depths()):
            clockwise = _signed_area2(ring) < 0
            want_clockwise = depth % 2 == 0
            points = list(ring) if clockwise == want_clockwise else list(reversed(ring))
            points.append(points[0])
            rings_out.append([[x, y] for x, y in points])
        out: dict[str, Any] = {"rings": rings_out}
        sr = _sr_json(spatial_ref)
        if sr:
            out["spatialReference"] = sr
        return out

    def to_feature_set(self, spatial_ref: SpatialRefLike = None) -> dict[str, Any]:
        """``areaOfInterest`` for Map/Image ``exportTiles``: a FeatureSet holding the polygon."""
        geometry = self.to_esri_polygon(spatial_ref)
        out: dict[str, Any] = {"geometryType": "esriGeometryPolygon", "features": [{"geometry": geometry}]}
        if "spatialReference" in geometry:
            out["spatialReference"] = geometry["spatialReference"]
        return out

    def _depths(self) -> list[int]:
        """For each ring, how many other rings contain it (even-odd nesting; used for orientation)."""
        cached = self.__dict__.get("_depth_cache")
        if cached is not None:
            return cached
        boxes = []
        for ring in self.rings:
            xs = [p[0] for p in ring]
            ys = [p[1] for p in ring]
            boxes.append((min(xs), min(ys), max(xs), max(ys)))
        depths = []
        for i, ring in enumerate(self.rings):
            bx0, by0, bx1, by1 = boxes[i]
            depth = 0
            for j, other in enumerate(self.rings):
                if i == j:
                    continue
                ox0, oy0, ox1, oy1 = boxes[j]
                if bx0 < ox0 or by0 < oy0 or bx1 > ox1 or by1 > oy1:
                    continue  # not inside other's box: cannot be nested in it
                probe = next((p for p in ring if not _on_ring(p[0], p[1], other)), None)
                if probe is None:
                    # every vertex lies on the other ring: use an edge midpoint
                    probe = ((ring[0][0] + ring[1][0]) / 2, (ring[0][1] + ring[1][1]) / 2)
                if _point_in_ring(probe[0], probe[1], other):
                    depth += 1
            depths.append(depth)
        object.__setattr__(self, "_depth_cache", depths)
        return depths

    def contains_point(self, x: float, y: float) -> bool:
        """Even-odd point test over all rings (boundary points give an unspecified answer)."""
        inside = False
        for ring in self.rings:
            if _point_in_ring(x, y, ring):
                inside = not inside
        return inside


# --- self-intersection search --------------------------------------------------------------------
# Shewchuk's error bound for the floating-point orientation determinant: beyond it the sign is exact.
_ORIENT_BOUND = (3.0 + 16.0 * 2.0 ** -53) * 2.0 ** -53


def _orient(ax: float, ay: float, bx: float, by: float, cx: float, cy: float) -> float:
    """Twice the signed area of (a, b, c), with an exact sign (so touching is never taken for crossing:
    GEOS, which made the area valid, decides exactly too)."""
    left = (bx - ax) * (cy - ay)
    right = (by - ay) * (cx - ax)
    det = left - right
    if abs(det) > _ORIENT_BOUND * (abs(left) + abs(right)):
        return det
    if ((bx == ax or cy == ay) and (by == ay or cx == ax)) or (cx == bx and cy == by):
        return 0.0  # exactly zero: both products are, or c is b (segments sharing an end point)
    fa, fb, fc = (Fraction(ax), Fraction(ay)), (Fraction(bx), Fraction(by)), (Fraction(cx), Fraction(cy))
    exact = (fb[0] - fa[0]) * (fc[1] - fa[1]) - (fb[1] - fa[1]) * (fc[0] - fa[0])
    if exact == 0:
        return 0.0
    return float(exact) or math.copysign(5e-324, exact)


Segment = tuple[float, float, float, float]


def _segments_conflict(a: Segment, b: Segment) -> Point | None:
    """A point where two segments cross or overlap; touching at a single point is allowed."""
    ax, ay, bx, by = a
    cx, cy, dx, dy = b
    if (ax == cx and ay == cy) or (ax == dx and ay == dy) or (bx == cx and by == cy) or (bx == dx and by == dy):
        # neighbours along a ring: they meet at the shared end point and nowhere else unless collinear
        if _orient(ax, ay, bx, by, cx, cy) != 0 or _orient(ax, ay, bx, by, dx, dy) != 0:
            return None
        return _overlap(a, b)
    d1 = _orient(cx, cy, dx, dy, ax, ay)
    d2 = _orient(cx, cy, dx, dy, bx, by)
    d3 = _orient(ax, ay, bx, by, cx, cy)
    d4 = _orient(ax, ay, bx, by, dx, dy)
    if ((d1 > 0 > d2) or (d1 < 0 < d2)) and ((d3 > 0 > d4) or (d3 < 0 < d4)):
        t = d1 / (d1 - d2)
        return ax + t * (bx - ax), ay + t * (by - ay)
    if d1 == 0 and d2 == 0:
        return _overlap(a, b)
    return None


def _overlap(a: Segment, b: Segment) -> Point | None:
    """For collinear segments: the middle of their common part when it has a positive length."""
    ax, ay, bx, by = a
    cx, cy, dx, dy = b
    horizontal = abs(bx - ax) >= abs(by - ay)
    lo1, hi1 = sorted((ax, bx) if horizontal else (ay, by))
    lo2, hi2 = sorted((cx, dx) if horizontal else (cy, dy))
    lo, hi = max(lo1, lo2), min(hi1, hi2)
    if hi <= lo:
        return None
    mid = (lo + hi) / 2
    if horizontal:
        return mid, ay + (mid - ax) / (bx - ax) * (by - ay)
    return ax + (mid - ay) / (by - ay) * (bx - ax), mid


# Grid search: segments go into the square cells they pass through (not their whole bounding box), and
# only segments sharing a cell are compared.  The cell is about a typical segment long, so a segment
# covers a couple of cells and a cell a few segments: the work grows with the vertex count for real
# outlines (``stats`` tells how many pairs were compared).  A cell that still holds many segments
# (vertices crowded in one spot) gets a finer grid of its own, a few times over.  Cell membership is
# a superset, padded beyond rounding errors: two segments that meet always share some cell.
_CROWDED = 32  # segments in a cell above which it is split again
_SPLIT = 4  # a crowded cell becomes _SPLIT x _SPLIT cells
_MAX_DEPTH = 6
_CELL = 2.0  # cell side, in median segment spans (fewer cells; the box test keeps the pairs few)


def _find_crossing(rings: tuple[Ring, ...], stats: dict | None = None) -> Point | None:
    segments: list[Segment] = []
    for ring in rings:
        for i in range(len(ring)):
            x0, y0 = ring[i - 1]
            x1, y1 = ring[i]
            segments.append((x0, y0, x1, y1) if x0 <= x1 else (x1, y1, x0, y0))  # left to right
    stats = stats if stats is not None else {}
    stats.update(pairs=0, cells=0)
    if len(segments) < 2:
        return None
    spans = sorted(max(x1 - x0, abs(y1 - y0)) for x0, y0, x1, y1 in segments)
    xmin = min(s[0] for s in segments)
    ymin = min(min(s[1], s[3]) for s in segments)
    xmax = max(s[2] for s in segments)
    ymax = max(max(s[1], s[3]) for s in segments)
    extent = max(xmax - xmin, ymax - ymin)
    # rounding errors of the cell arithmetic stay below ``slack`` (a few units in the last place)
    slack = max(abs(xmin), abs(ymin), abs(xmax), abs(ymax), extent) * 2.0 ** -48
    # a typical segment long, but never so small that long segments cover too many cells in all
    cell = max(_CELL * spans[len(spans) // 2], sum(spans) / (4 * len(segments)), slack * 2.0 ** 12)
    grid = _Grid(segments, slack, stats)
    return grid.search(list(range(len(segments))), xmin, ymin, cell, 0)


class _Grid:
    def __init__(self, segments: list[Segment], slack: float, stats: dict) -> None:
        self.segments = segments
        self.slack = slack
        self.stats = stats
        self.seen: set[int] = set()

    def search(self, members: list[int], ox: float, oy: float, cell: float, depth: int,
               box: tuple[float, float, float, float] | None = None) -> Point | None:
        segments, n = self.segments, len(self.segments)
        grid = self.bucket(members, ox, oy, cell, box)
        self.stats["cells"] += len(grid)
        finer = cell / _SPLIT
        for (col, row), found in grid.items():
            if len(found) < 2:
                continue
            if len(found) > _CROWDED and depth < _MAX_DEPTH and finer > self.slack * 2.0 ** 10:
                x0, y0 = ox + col * cell, oy + row * cell
                hit = self.search(found, x0, y0, finer, depth + 1, (x0, y0, x0 + cell, y0 + cell))
                if hit is not None:
                    return hit
                continue
            for i, a in enumerate(found):
                ax0, ay0, ax1, ay1 = sa = segments[a]
                a_lo, a_hi = (ay0, ay1) if ay0 <= ay1 else (ay1, ay0)
                for b in found[i + 1:]:
                    sb = segments[b]
                    if ax1 < sb[0] or sb[2] < ax0 or a_hi < min(sb[1], sb[3]) or max(sb[1], sb[3]) < a_lo:
                        continue
                    key = a * n + b if a < b else b * n + a
                    if key in self.seen:
                        continue
                    self.seen.add(key)
                    self.stats["pairs"] += 1
                    hit = _segments_conflict(sa, sb)
                    if hit is not None:
                        return hit
        return None

    def bucket(self, members: list[int], ox: float, oy: float, cell: float,
               box: tuple[float, float, float, float] | None) -> dict[tuple[int, int], list[int]]:
        """The segments by cell (column, row) of the grid of ``cell``-sized squares from ``(ox, oy)``,
        within ``box`` (padded); a segment is put in every cell it may pass through."""
        grid: dict[tuple[int, int], list[int]] = defaultdict(list)
        pad = self.slack + cell * 1e-9
        inf = math.inf
        bx0, by0, bx1, by1 = (box[0] - pad, box[1] - pad, box[2] + pad, box[3] + pad) if box else (
            -inf, -inf, inf, inf)
        floor = math.floor
        for k in members:
            x0, y0, x1, y1 = self.segments[k]
            lo_x, hi_x = max(x0, bx0), min(x1, bx1)
            lo_y, hi_y = (y0, y1) if y0 <= y1 else (y1, y0)
            lo_y, hi_y = max(lo_y, by0), min(hi_y, by1)
            if lo_x > hi_x or lo_y > hi_y:
                continue
            c0, c1 = floor((lo_x - pad - ox) / cell), floor((hi_x + pad - ox) / cell)
            r0, r1 = floor((lo_y - pad - oy) / cell), floor((hi_y + pad - oy) / cell)
            if c0 == c1 or r0 == r1 or x0 == x1:  # one column or one row: its box is what it passes through
                for col in range(c0, c1 + 1):
                    for row in range(r0, r1 + 1):
                        grid[(col, row)].append(k)
                continue
            slope = (y1 - y0) / (x1 - x0)
            y_pad = pad * (1.0 + abs(slope))  # an x off by pad moves y by slope * pad
            for col in range(c0, c1 + 1):
                ya = y0 + (max(lo_x, ox + col * cell) - x0) * slope
                yb = y0 + (min(hi_x, ox + (col + 1) * cell) - x0) * slope
                lo, hi = (ya, yb) if ya <= yb else (yb, ya)
                lo, hi = max(lo - y_pad, lo_y), min(hi + y_pad, hi_y)
                if lo > hi:
                    continue
                for row in range(floor((lo - pad - oy) / cell), floor((hi + pad - oy) / cell) + 1):
                    grid[(col, row)].append(k)
        return grid
