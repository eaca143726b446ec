"""Which tiles of a tiling scheme an extent or a polygon touches (the emulator's own implementation).

Conventions (the same as the plugin's tiling module documents, implemented independently here):

* Esri addressing ``level / row / col``: rows count *down* from the origin (upper-left corner of
  the grid), columns count right.  Tiles outside the nominal ``2^z`` grid are legal.
* Tiles are half-open boxes ``[xmin, xmax) x (ymin, ymax]``.  An area that ends exactly on a tile
  edge does not touch the next tile; a tolerance of :data:`EDGE_EPSILON` tile widths absorbs
  floating-point noise so that it never adds a row or a column.

For a rectangle this gives ``first = floor(a + eps)``, ``last = ceil(b - eps) - 1`` (``last`` at
least ``first``, so a zero-width extent still touches one tile).  For a polygon a tile is selected
when the closed polygon intersects the closed tile box shrunk by ``eps`` tile widths on every side:
for a rectangular polygon that is the same set as for the equivalent extent.  The polygon test is
exact (no rasterisation): polygon vertex in the box, box corner in the polygon (even-odd rule over
all rings, so holes and several parts work), or a polygon edge crossing a box edge.  A quadtree
over blocks of tiles keeps the cost proportional to the polygon's boundary, not to its area.

Coordinates can be converted between EPSG:4326 and Web Mercator (3857 and its Esri aliases); any
other pair raises :class:`UnsupportedSpatialReferenceError`.
"""
from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field

EDGE_EPSILON = 1e-9  # in tile widths
WEB_MERCATOR_CODES = frozenset({3857, 102100, 102113, 900913})
WGS84_CODES = frozenset({4326})
EARTH_RADIUS = 6378137.0
MERCATOR_HALF = 20037508.342787  # Esri's origin of Web Mercator caches; y is clamped to it
MAX_LATITUDE = 85.0511287798066

Point = tuple[float, float]
Ring = list[Point]


class UnsupportedSpatialReferenceError(ValueError):
    """An area came in a CRS the emulator cannot convert exactly to the service CRS."""


class InvalidGeometryError(ValueError):
    """An extent or polygon that cannot be used (wrong shape, not finite, empty)."""


# ----------------------------------------------------------------------------------------------
# spatial references
# ----------------------------------------------------------------------------------------------

def sr_code(spatial_reference: dict | None) -> int | None:
    """``latestWkid`` then ``wkid`` of an Esri spatialReference; Web Mercator aliases become 3857."""
    if not spatial_reference:
        return None
    code = spatial_reference.get("latestWkid") or spatial_reference.get("wkid")
    if code is None:
        if spatial_reference.get("wkt"):
            raise UnsupportedSpatialReferenceError(
                "spatial references given as WKT are not supported by the emulator; use a wkid")
        return None
    try:
        code = int(code)
    except (TypeError, ValueError):
        raise UnsupportedSpatialReferenceError(f"invalid wkid {code!r}") from None
    return 3857 if code in WEB_MERCATOR_CODES else code


def _to_mercator(lon: float, lat: float) -> Point:
    lat = max(-MAX_LATITUDE, min(MAX_LATITUDE, lat))
    x = EARTH_RADIUS * math.radians(lon)
    y = EARTH_RADIUS * math.log(math.tan(math.pi / 4 + math.radians(lat) / 2))
    return x, max(-MERCATOR_HALF, min(MERCATOR_HALF, y))


def _to_geographic(x: float, y: float) -> Point:
    lon = math.degrees(x / EARTH_RADIUS)
    lat = math.degrees(2 * math.atan(math.exp(y / EARTH_RADIUS)) - math.pi / 2)
    return lon, lat


def point_converter(source: int | None, target: int | None):
    """A function ``(x, y) -> (x, y)`` from ``source`` to ``target`` (None = already the target)."""
    if source is None or target is None or source == target:
        return lambda x, y: (x, y)
    if source in WGS84_CODES and target == 3857:
        return _to_mercator
    if source == 3857 and target in WGS84_CODES:
        return _to_geographic
    raise UnsupportedSpatialReferenceError(
        f"spatial reference {source} cannot be used for a service in {target}: "
        f"the emulator accepts the service's own CRS, EPSG:4326 and EPSG:3857 (Web Mercator services "
        f"accept 4326, geographic services accept 3857)")


# ----------------------------------------------------------------------------------------------
# tiling grid
# ----------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Grid:
    """The part of a ``tileInfo`` needed for addressing."""

    origin_x: float
    origin_y: float
    tile_width_px: int
    tile_height_px: int
    resolutions: dict[int, float] = field(hash=False)
    spatial_reference: int | None = None

    @classmethod
    def from_tile_info(cls, tile_info: dict) -> Grid:
        lods = {int(lod["level"]): float(lod["resolution"]) for lod in tile_info["lods"]}
        return cls(
            origin_x=float(tile_info["origin"]["x"]),
            origin_y=float(tile_info["origin"]["y"]),
            tile_width_px=int(tile_info["cols"]),
            tile_height_px=int(tile_info["rows"]),
            resolutions=lods,
            spatial_reference=sr_code(tile_info.get("spatialReference")),
        )

    @property
    def levels(self) -> list[int]:
        return sorted(self.resolutions)

    def tile_size(self, level: int) -> tuple[float, float]:
        res = self.resolutions[level]
        return res * self.tile_width_px, res * self.tile_height_px

    def tile_bounds(self, level: int, row: int, col: int) -> tuple[float, float, float, float]:
        """``(xmin, ymin, xmax, ymax)`` of a tile."""
        w, h = self.tile_size(level)
        xmin = self.origin_x + col * w
        ymax = self.origin_y - row * h
        return xmin, ymax - h, xmin + w, ymax

    def col_range(self, level: int, xmin: float, xmax: float) -> tuple[int, int]:
        w, _ = self.tile_size(level)
        first = math.floor((xmin - self.origin_x) / w + EDGE_EPSILON)
        last = math.ceil((xmax - self.origin_x) / w - EDGE_EPSILON) - 1
        return first, max(first, last)

    def row_range(self, level: int, ymin: float, ymax: float) -> tuple[int, int]:
        _, h = self.tile_size(level)
        first = math.floor((self.origin_y - ymax) / h + EDGE_EPSILON)
        last = math.ceil((self.origin_y - ymin) / h - EDGE_EPSILON) - 1
        return first, max(first, last)


# ----------------------------------------------------------------------------------------------
# areas
# ----------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Extent:
    xmin: float
    ymin: float
    xmax: float
    ymax: float

    def __post_init__(self) -> None:
        values = (self.xmin, self.ymin, self.xmax, self.ymax)
        if not all(math.isfinite(v) for v in values):
            raise InvalidGeometryError("extent values must be finite numbers")
        if self.xmin > self.xmax or self.ymin > self.ymax:
            raise InvalidGeometryError(
                f"extent has xmin > xmax or ymin > ymax: {self.xmin},{self.ymin},{self.xmax},{self.ymax}")

    @property
    def bbox(self) -> Extent:
        return self

    def envelope(self, spatial_reference: dict | None = None) -> dict:
        env = {"xmin": self.xmin, "ymin": self.ymin, "xmax": self.xmax, "ymax": self.ymax}
        if spatial_reference is not None:
            env["spatialReference"] = spatial_reference
        return env

    def converted(self, convert) -> Extent:
        # axis-aligned rectangles stay rectangles between 4326 and Web Mercator: exact
        x0, y0 = convert(self.xmin, self.ymin)
        x1, y1 = convert(self.xmax, self.ymax)
        return Extent(min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1))


@dataclass(frozen=True)
class PolygonArea:
    """One or more polygons; each polygon is a list of rings, combined with the even-odd rule."""

    polygons: tuple[tuple[tuple[Point, ...], ...], ...]

    def __post_init__(self) -> None:
        if not self.polygons or not any(self.polygons):
            raise InvalidGeometryError("polygon has no rings")
        for polygon in self.polygons:
            for ring in polygon:
                if len(ring) < 3:
                    raise InvalidGeometryError("every polygon ring needs at least three points")
                for x, y in ring:
                    if not (math.isfinite(x) and math.isfinite(y)):
                        raise InvalidGeometryError("polygon coordinates must be finite numbers")

    @classmethod
    def from_rings(cls, polygons: Iterable[Iterable[Iterable[Sequence[float]]]]) -> PolygonArea:
        built = []
        for rings in polygons:
            built_rings = []
            for ring in rings:
                points = tuple((float(p[0]), float(p[1])) for p in ring)
                if len(points) > 1 and points[0] == points[-1]:
                    points = points[:-1]  # Esri rings repeat the first point
                built_rings.append(points)
            built.append(tuple(built_rings))
        return cls(tuple(built))

    @property
    def bbox(self) -> Extent:
        xs = [x for polygon in self.polygons for ring in polygon for x, _ in ring]
        ys = [y for polygon in self.polygons for ring in polygon for _, y in ring]
        return Extent(min(xs), min(ys), max(xs), max(ys))

    def envelope(self, spatial_reference: dict | None = None) -> dict:
        return self.bbox.envelope(spatial_reference)

    def converted(self, convert) -> PolygonArea:
        # vertex-wise (as ArcGIS projects geometries); edges stay straight in the target CRS
        return PolygonArea(tuple(
            tuple(tuple(convert(x, y) for x, y in ring) for ring in polygon)
            for polygon in self.polygons))

    def edges(self) -> list[tuple[Point, Point]]:
        out = []
        for polygon in self.polygons:
            for ring in polygon:
                n = len(ring)
                out.extend((ring[i], ring[(i + 1) % n]) for i in range(n))
        return out


Area = "Extent | PolygonArea"


# ----------------------------------------------------------------------------------------------
# exact polygon / rectangle predicates
# ----------------------------------------------------------------------------------------------

def _orient(ax: float, ay: float, bx: float, by: float, cx: float, cy: float) -> float:
    return (bx - ax) * (cy - ay) - (by - ay) * (cx - ax)


def _on_segment(ax, ay, bx, by, cx, cy) -> bool:
    """c (collinear with a-b) lies within the bounding box of a-b."""
    return min(ax, bx) <= cx <= max(ax, bx) and min(ay, by) <= cy <= max(ay, by)


def segments_intersect(p1: Point, p2: Point, q1: Point, q2: Point) -> bool:
    """Closed segments p1-p2 and q1-q2 share at least one point."""
    d1 = _orient(*q1, *q2, *p1)
    d2 = _orient(*q1, *q2, *p2)
    d3 = _orient(*p1, *p2, *q1)
    d4 = _orient(*p1, *p2, *q2)
    if ((d1 > 0 > d2) or (d1 < 0 < d2)) and ((d3 > 0 > d4) or (d3 < 0 < d4)):
        return True
    return ((d1 == 0 and _on_segment(*q1, *q2, *p1)) or (d2 == 0 and _on_segment(*q1, *q2, *p2))
            or (d3 == 0 and _on_segment(*p1, *p2, *q1)) or (d4 == 0 and _on_segment(*p1, *p2, *q2)))


def point_in_polygons(x: float, y: float, area: PolygonArea) -> bool:
    """Even-odd rule per polygon (rings of one polygon: outer + holes); any polygon counts."""
    for polygon in area.polygons:
        inside = False
        for ring in polygon:
            n = len(ring)
            for i in range(n):
                (x1, y1), (x2, y2) = ring[i], ring[(i + 1) % n]
                if (y1 > y) != (y2 > y):
                    xcross = x1 + (y - y1) * (x2 - x1) / (y2 - y1)
                    if x < xcross:
                        inside = not inside
        if inside:
            return True
    return False


def _segment_hits_rect(a: Point, b: Point, xmin: float, ymin: float, xmax: float, ymax: float) -> bool:
    ax, ay = a
    bx, by = b
    if max(ax, bx) < xmin or min(ax, bx) > xmax or max(ay, by) < ymin or min(ay, by) > ymax:
        return False
    if (xmin <= ax <= xmax and ymin <= ay <= ymax) or (xmin <= bx <= xmax and ymin <= by <= ymax):
        return True
    corners = ((xmin, ymin), (xmax, ymin), (xmax, ymax), (xmin, ymax))
    return any(segments_intersect(a, b, corners[i], corners[(i + 1) % 4]) for i in range(4))


OUTSIDE, INSIDE, PARTIAL = 0, 1, 2


def classify_rect(area: PolygonArea, edges: Sequence[tuple[Point, Point]],
                  xmin: float, ymin: float, xmax: float, ymax: float) -> int:
    """OUTSIDE: no common point; INSIDE: the closed rectangle lies in the polygon's interior;
    PARTIAL: the polygon boundary touches the rectangle (so they do intersect)."""
    for a, b in edges:
        if _segment_hits_rect(a, b, xmin, ymin, xmax, ymax):
            return PARTIAL
    # no boundary point in the rectangle: it is entirely inside or entirely outside
    return INSIDE if point_in_polygons(xmin, ymin, area) else OUTSIDE


def rect_intersects_polygon(area: PolygonArea, xmin: float, ymin: float, xmax: float, ymax: float) -> bool:
    return classify_rect(area, area.edges(), xmin, ymin, xmax, ymax) != OUTSIDE


# ----------------------------------------------------------------------------------------------
# tile selection
# ----------------------------------------------------------------------------------------------

def candidate_ranges(grid: Grid, level: int, area) -> tuple[int, int, int, int]:
    """``(row0, row1, col0, col1)`` inclusive: the rectangle rule applied to the area's bbox."""
    box = area.bbox
    r0, r1 = grid.row_range(level, box.ymin, box.ymax)
    c0, c1 = grid.col_range(level, box.xmin, box.xmax)
    return r0, r1, c0, c1


def _block_rect(grid: Grid, level: int, r0: int, r1: int, c0: int, c1: int) -> tuple[float, ...]:
    """The closed box of tiles rows r0..r1, cols c0..c1, shrunk by EDGE_EPSILON tile widths."""
    w, h = grid.tile_size(level)
    xmin = grid.origin_x + c0 * w + EDGE_EPSILON * w
    xmax = grid.origin_x + (c1 + 1) * w - EDGE_EPSILON * w
    ymax = grid.origin_y - r0 * h - EDGE_EPSILON * h
    ymin = grid.origin_y - (r1 + 1) * h + EDGE_EPSILON * h
    return xmin, ymin, xmax, ymax


def _polygon_blocks(grid: Grid, level: int, area: PolygonArea) -> Iterator[tuple[int, int, int, int]]:
    """Blocks (r0, r1, c0, c1) of selected tiles, found by quadtree subdivision."""
    r0, r1, c0, c1 = candidate_ranges(grid, level, area)
    stack = [(r0, r1, c0, c1, area.edges())]
    while stack:
        r0, r1, c0, c1, edges = stack.pop()
        xmin, ymin, xmax, ymax = _block_rect(grid, level, r0, r1, c0, c1)
        near = [e for e in edges
                if not (max(e[0][0], e[1][0]) < xmin or min(e[0][0], e[1][0]) > xmax
                        or max(e[0][1], e[1][1]) < ymin or min(e[0][1], e[1][1]) > ymax)]
        kind = classify_rect(area, near, xmin, ymin, xmax, ymax)
        if kind == OUTSIDE:
            continue
        if kind == INSIDE or (r0 == r1 and c0 == c1):
            yield r0, r1, c0, c1
            continue
        # split the longer side; push in reverse so that blocks come out roughly row-major
        if r1 - r0 >= c1 - c0:
            mid = (r0 + r1) // 2
            stack.append((mid + 1, r1, c0, c1, near))
            stack.append((r0, mid, c0, c1, near))
        else:
            mid = (c0 + c1) // 2
            stack.append((r0, r1, mid + 1, c1, near))
            stack.append((r0, r1, c0, mid, near))


def count_tiles(grid: Grid, level: int, area) -> int:
    """Number of tiles of ``level`` the area touches."""
    if isinstance(area, Extent):
        r0, r1, c0, c1 = candidate_ranges(grid, level, area)
        return (r1 - r0 + 1) * (c1 - c0 + 1)
    return sum((r1 - r0 + 1) * (c1 - c0 + 1) for r0, r1, c0, c1 in _polygon_blocks(grid, level, area))


def select_tiles(grid: Grid, level: int, area) -> list[tuple[int, int]]:
    """``(row, col)`` of every tile of ``level`` the area touches, sorted row-major."""
    if isinstance(area, Extent):
        r0, r1, c0, c1 = candidate_ranges(grid, level, area)
        return [(r, c) for r in range(r0, r1 + 1) for c in range(c0, c1 + 1)]
    tiles = [(r, c) for r0, r1, c0, c1 in _polygon_blocks(grid, level, area)
             for r in range(r0, r1 + 1) for c in range(c0, c1 + 1)]
    tiles.sort()
    return tiles


def tile_intersects(grid: Grid, level: int, row: int, col: int, area) -> bool:
    """The per-tile predicate behind :func:`select_tiles` (useful for checks)."""
    if isinstance(area, Extent):
        r0, r1, c0, c1 = candidate_ranges(grid, level, area)
        return r0 <= row <= r1 and c0 <= col <= c1
    xmin, ymin, xmax, ymax = _block_rect(grid, level, row, row, col, col)
    return rect_intersects_polygon(area, xmin, ymin, xmax, ymax)
