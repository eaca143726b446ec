"""Exact tile counts, tile ranges and per-row column spans of an :class:`~.area.Area`.

Which tiles an area touches
---------------------------
A tile counts when its **open** box meets the **closed** area (the even-odd fill of the rings plus the
ring edges themselves), with tiles widened/narrowed by nothing but the float tolerance of
:data:`~.tiling.EDGE_EPSILON` tile widths.  So:

* a tile overlapped by the fill, or crossed by an edge, counts;
* contact exactly on a tile edge or corner does not (an area ending at x = 1000 m on a tile boundary does
  not touch the next column), which is the half-open convention of :mod:`.tiling`;
* overlaps thinner than ``EDGE_EPSILON`` tile widths (float noise) are ignored.

For a rectangle this is exactly :meth:`TilingScheme.col_range` × :meth:`TilingScheme.row_range` and is
computed in O(1) per level.  Nothing is clipped to the nominal ``2^z`` grid: any origin, any resolution,
negative rows/columns and tiles beyond the world are legal.

Algorithm for polygons (scanline over tile rows)
------------------------------------------------
Coordinates are converted to tile units (u to the right, v downwards, tile (row, col) = the open square
``(col, col+1) × (row, row+1)``).  For a row band, the covered columns are

1. the columns overlapping the u-range of every edge piece inside the open band (boundary through the
   tile), and
2. the columns overlapping the inside spans just below the band's top line (tiles wholly inside the fill:
   a tile no edge passes through is all inside or all outside, and it is inside iff the points just below
   its top edge are).

The inside spans come from the edges crossing the row's top line, counted with the half-open rule
``v0 <= line < v1`` on vertices snapped to a line when within ``EDGE_EPSILON``: that is exactly the
even-odd parity just below the line, so vertices and horizontal edges on row lines are handled exactly.
The u of those crossings is also an end of the edge's piece in the row, so each pair of crossings and the
two pieces around them merge into one interval.  Each edge is bucketed into the rows it crosses as it is
read (consecutive edges inside one band merge into one piece), so the work is O(vertices + Σ rows crossed
per edge) plus a sort per row: no row × edge product.  Very deep levels are scanned in chunks of
:data:`CHUNK_ROWS` rows to bound memory.
"""
from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from .area import Area
from .errors import CancelledError, InvalidRequestError
from .tiling import EDGE_EPSILON, TilingScheme

Span = tuple[int, int]  # inclusive column interval (first, last)
Ring = tuple[list[float], list[float], list[int], list[int]]  # us, vs, first and last row band per vertex


@dataclass(frozen=True)
class TileRange:
    """Bounding range of the tiles an area touches at one level (inclusive rows and columns)."""

    level: int
    row_min: int
    row_max: int
    col_min: int
    col_max: int

    @property
    def rows(self) -> int:
        return self.row_max - self.row_min + 1

    @property
    def cols(self) -> int:
        return self.col_max - self.col_min + 1

    @property
    def count(self) -> int:
        """Tiles in the bounding range (the candidate tiles; equals the exact count for rectangles)."""
        return self.rows * self.cols


def _check_level(scheme: TilingScheme, level: int) -> None:
    if isinstance(level, bool) or not isinstance(level, int) or not scheme.has_level(level):
        levels = scheme.levels
        valid = f"{min(levels)}-{max(levels)}" if levels else "none"
        raise InvalidRequestError(reason=f"level {level!r} is not in the tiling scheme (levels {valid})")


def tile_ranges(scheme: TilingScheme, area: Area, level: int) -> TileRange:
    """Row/column bounding range of the tiles ``area`` touches at ``level`` (O(1); from the bounding box).

    The bounding box's extremes are attained by vertices, so for a simple polygon this is also the
    bounding range of the tiles :func:`row_spans` reports; it can be one row or column wider when the
    extreme point is only reached by a degenerate part (an edge lying on a tile edge, a zero-width spike).
    """
    _check_level(scheme, level)
    xmin, ymin, xmax, ymax = area.bbox
    c0, c1 = scheme.col_range(level, xmin, xmax)
    r0, r1 = scheme.row_range(level, ymin, ymax)
    return TileRange(level, r0, r1, c0, c1)


def _as_rectangle(scheme: TilingScheme, area: Area, level: int) -> bool:
    """Count by the bounding box: rectangles, and polygons thinner than ``EDGE_EPSILON`` tiles.

    At a level where the whole polygon is thinner than the tolerance it cannot be told from its bounding
    box, and like a rectangle (:meth:`TilingScheme.col_range`) it then touches at least one tile.
    """
    _check_level(scheme, level)
    if area.is_rectangle:
        return True
    w, h = scheme.tile_size(level)
    xmin, ymin, xmax, ymax = area.bbox
    return (xmax - xmin) / w <= 2 * EDGE_EPSILON or (ymax - ymin) / h <= 2 * EDGE_EPSILON


def _levels(levels: int | Iterable[int]) -> list[int]:
    if isinstance(levels, int) and not isinstance(levels, bool):
        return [levels]
    return list(levels)


def count_tiles(scheme: TilingScheme, area: Area, levels: int | Iterable[int], *,
                stop: Callable[[], bool] | None = None) -> dict[int, int]:
    """Exact number of tiles ``area`` touches, per level (keys in the order given, duplicates merged).

    ``stop`` is asked between chunks of :data:`CHUNK_ROWS` rows (a deep level of a country takes
    seconds); when it answers True the count ends with :class:`CancelledError`.
    """
    out: dict[int, int] = {}
    for level in _levels(levels):
        if level in out:
            continue
        if _as_rectangle(scheme, area, level):
            out[level] = tile_ranges(scheme, area, level).count
        else:
            out[level] = _polygon_count(scheme, area, level, stop)
    return out


def total_tiles(scheme: TilingScheme, area: Area, levels: int | Iterable[int]) -> int:
    """Sum of :func:`count_tiles` over ``levels``."""
    return sum(count_tiles(scheme, area, levels).values())


def row_spans(scheme: TilingScheme, area: Area, level: int) -> dict[int, list[Span]]:
    """Per tile row (ascending), the sorted, disjoint, non-adjacent inclusive column intervals touched.

    Adjacent intervals are merged, so ``[(3, 5), (7, 9)]`` means columns 3, 4, 5, 7, 8, 9 and column 6 is
    not touched.  Rows with no tile are absent.
    """
    if _as_rectangle(scheme, area, level):
        rng = tile_ranges(scheme, area, level)
        span = [(rng.col_min, rng.col_max)]
        return {row: list(span) for row in range(rng.row_min, rng.row_max + 1)}
    return dict(_polygon_rows(scheme, area, level))


def iter_tiles(scheme: TilingScheme, area: Area, level: int) -> Iterator[tuple[int, int]]:
    """``(row, col)`` of every touched tile, row by row (meant for small areas)."""
    for row, spans in row_spans(scheme, area, level).items():
        for c0, c1 in spans:
            for col in range(c0, c1 + 1):
                yield row, col


def span_boxes(spans: dict[int, list[Span]]) -> list[tuple[int, int, int, int]]:
    """Merge row spans into tile-aligned boxes ``(row_min, row_max, col_min, col_max)`` (inclusive).

    Consecutive rows with the same column interval become one box; the boxes are disjoint and cover
    exactly the tiles of ``spans`` (handy for a footprint preview or for tile-aligned export parts).
    """
    boxes: list[tuple[int, int, int, int]] = []
    open_boxes: dict[Span, int] = {}  # interval -> first row of the box still growing
    previous_row: int | None = None
    for row in sorted(spans):
        current = set(spans[row])
        if previous_row is None or row != previous_row + 1:
            for interval, start in open_boxes.items():
                boxes.append((start, previous_row, interval[0], interval[1]))  # type: ignore[arg-type]
            open_boxes = {}
        for interval in list(open_boxes):
            if interval not in current:
                boxes.append((open_boxes.pop(interval), row - 1, interval[0], interval[1]))
        for interval in spans[row]:
            open_boxes.setdefault(interval, row)
        previous_row = row
    for interval, start in open_boxes.items():
        boxes.append((start, previous_row, interval[0], interval[1]))  # type: ignore[arg-type]
    boxes.sort()
    return boxes


def box_bounds(scheme: TilingScheme, level: int, box: tuple[int, int, int, int]) -> tuple[float, float, float, float]:
    """CRS bounds ``(xmin, ymin, xmax, ymax)`` of a tile box from :func:`span_boxes`."""
    row_min, row_max, col_min, col_max = box
    xmin, _, _, ymax = scheme.tile_bounds(level, row_min, col_min)
    _, ymin, xmax, _ = scheme.tile_bounds(level, row_max, col_max)
    return xmin, ymin, xmax, ymax


# --- the scanline ---------------------------------------------------------------------------------
CHUNK_ROWS = 1 << 14  # rows per pass: bounds the memory of very deep levels (a pass re-reads the vertices)


def _polygon_rows(scheme: TilingScheme, area: Area, level: int) -> Iterator[tuple[int, list[Span]]]:
    """``(row, spans)`` for every touched row, ascending (see the module doc for the algorithm)."""
    rings, row_min, row_max = _tile_unit_rings(scheme, area, level)
    for lo in range(row_min, row_max + 1, CHUNK_ROWS):
        yield from _scan_rows(rings, lo, min(lo + CHUNK_ROWS - 1, row_max))


def _polygon_count(scheme: TilingScheme, area: Area, level: int, stop: Callable[[], bool] | None = None) -> int:
    """The number of tiles :func:`_polygon_rows` lists (what ``count_tiles`` needs, without the spans)."""
    rings, row_min, row_max = _tile_unit_rings(scheme, area, level)
    total = 0
    for lo in range(row_min, row_max + 1, CHUNK_ROWS):
        if stop is not None and stop():
            raise CancelledError(details=f"tile count stopped at level {level}")
        total += _count_rows(rings, lo, min(lo + CHUNK_ROWS - 1, row_max))
    return total


def _tile_unit_rings(scheme: TilingScheme, area: Area, level: int):
    """The rings in tile units with each vertex's first/last row band, and the rows they span."""
    w, h = scheme.tile_size(level)
    ox, oy = scheme.origin_x, scheme.origin_y
    eps = EDGE_EPSILON
    floor, ceil = math.floor, math.ceil
    xmin, ymin, xmax, ymax = area.bbox
    row_min = floor((oy - ymax) / h + eps)
    row_max = ceil((oy - ymin) / h - eps) - 1
    # Vertices in tile units (u right, v down) and the first/last row band an edge can reach from them:
    # an edge going down from vertex a to b touches the open bands first(a) .. last(b).
    rings = []
    for ring in area.rings:
        us = [(x - ox) / w for x, _ in ring]
        vs = [(oy - y) / h for _, y in ring]
        rings.append((us, vs, [floor(v + eps) for v in vs], [ceil(v - eps) - 1 for v in vs]))
    return rings, row_min, row_max


def _scan_rows(rings: list[Ring], lo: int, hi: int,
               ) -> Iterator[tuple[int, list[Span]]]:
    pieces, crossings = _bucket(rings, lo, hi)
    for i in range(hi - lo + 1):
        cols = _row_columns(crossings[i], pieces[i])
        if not cols:
            continue
        merged: list[Span] = []
        cur0 = cur1 = None
        for c0, c1 in cols:
            if c1 <= c0:
                continue  # a piece on a column boundary, or thinner than the tolerance
            if cur1 is not None and c0 <= cur1:
                cur1 = max(cur1, c1)
            else:
                if cur1 is not None:
                    merged.append((cur0, cur1 - 1))
                cur0, cur1 = c0, c1
        if cur1 is not None:
            merged.append((cur0, cur1 - 1))
            yield lo + i, merged


def _count_rows(rings: list[Ring], lo: int, hi: int) -> int:
    """The number of tiles :func:`_scan_rows` would list, without building the spans."""
    pieces, crossings = _bucket(rings, lo, hi)
    total = 0
    for i in range(hi - lo + 1):
        cols = _row_columns(crossings[i], pieces[i])
        if not cols:
            continue
        cur0 = cur1 = None
        for c0, c1 in cols:
            if c1 <= c0:
                continue
            if cur1 is not None and c0 <= cur1:
                if c1 > cur1:  # noqa: PLR1730 - the hot loop: a comparison costs less than max()
                    cur1 = c1
            else:
                if cur1 is not None:
                    total += cur1 - cur0
                cur0, cur1 = c0, c1
        if cur1 is not None:
            total += cur1 - cur0
    return total


def _row_columns(cross: list[tuple[float, float, float]], piece: list[float]) -> list[tuple[int, int]] | None:
    """A row's half-open column intervals ``[first, end)``, sorted, not yet merged (None: no tile)."""
    floor, ceil = math.floor, math.ceil
    if cross:
        cross.sort()
        pairs = iter(cross)
        cols = [(floor(la if la < lb else lb), ceil(ha if ha > hb else hb))
                for (_, la, ha), (_, lb, hb) in zip(pairs, pairs)]
        if piece:
            cols += zip(map(floor, piece[0::2]), map(ceil, piece[1::2]))
    elif piece:
        cols = list(zip(map(floor, piece[0::2]), map(ceil, piece[1::2])))
    else:
        return None
    if len(cols) > 1:
        cols.sort()
    return cols


def _bucket(rings: list[Ring], lo: int, hi: int) -> tuple[list[list[float]], list[list[tuple[float, float, float]]]]:
    """Per row of ``lo .. hi``: the boundary pieces' u-ranges and the top-line crossings."""
    n = hi - lo + 1
    # pieces[i]: [lo + eps, hi - eps, ...] u-ranges of boundary pieces in row lo + i, shifted by the
    # tolerance so that columns floor(lo') .. ceil(hi') - 1 are the ones a piece touches.
    pieces: list[list[float]] = [[] for _ in range(n)]
    # crossings[i]: (u, lo + eps, hi - eps) where the boundary crosses the top line v = lo + i of the row,
    # counted with the half-open rule v0 <= line < v1 (so: the parity just below the line), with the
    # u-range of the boundary piece below the crossing that is not already in ``pieces`` (an empty range
    # u+eps .. u-eps when it is).  Paired crossings bound the inside spans; a pair's span together with
    # both pieces is the one interval [min lo, max hi] because each piece contains its crossing.
    crossings: list[list[tuple[float, float, float]]] = [[] for _ in range(n)]
    for ring in rings:
        _bucket_ring(ring, lo, hi, pieces, crossings)
    return pieces, crossings


def _bucket_ring(ring: Ring, lo: int, hi: int, pieces: list[list[float]],
                 crossings: list[list[tuple[float, float, float]]]) -> None:
    """Add one ring's boundary pieces and top-line crossings in rows ``lo .. hi`` (see :func:`_bucket`)."""
    eps = EDGE_EPSILON
    us, vs, firsts, lasts = ring
    pu, pv, p_first, p_last = us[-1], vs[-1], firsts[-1], lasts[-1]
    # A run: consecutive boundary pieces inside one row band form a connected path there, so they
    # merge into one u-interval [run_lo, run_hi] of row run_row (always a row of this chunk).
    run_row = None
    run_lo = run_hi = 0.0
    for u, v, first, last in zip(us, vs, firsts, lasts):
        # orient the edge downwards; on_line: its top vertex lies on a row line (within the tolerance,
        # i.e. snapped to it: then first = last + 1), so the edge crosses that line by the half-open rule
        if pv <= v:
            r0, r1, u0, v0, u1, v1, on_line = p_first, last, pu, pv, u, v, p_first != p_last
        else:
            r0, r1, u0, v0, u1, v1, on_line = first, p_last, u, v, pu, pv, first != last
        if r0 == r1:  # the edge stays inside one row band (the common case)
            if r0 == run_row:
                if u < run_lo:
                    run_lo = u
                elif u > run_hi:
                    run_hi = u
            else:
                if run_row is not None:
                    lst = pieces[run_row - lo]
                    lst.append(run_lo + eps)
                    lst.append(run_hi - eps)
                if lo <= r0 <= hi:
                    run_row = r0
                    if pu <= u:
                        run_lo, run_hi = pu, u
                    else:
                        run_lo, run_hi = u, pu
                else:
                    run_row = None
            if on_line and run_row is not None:  # starts on the row's top line
                c = u0 + (r0 - v0) * (u1 - u0) / (v1 - v0)
                crossings[r0 - lo].append((c, c + eps, c - eps))
        elif r0 < r1:  # the edge crosses row boundaries
            slope = (u1 - u0) / (v1 - v0)
            top = u0 + (r0 + 1 - v0) * slope  # u where the edge leaves row r0
            bottom = u0 + (r1 - v0) * slope  # u where it enters row r1
            # the pieces in rows r0 and r1 hold the edge's end points, so they join runs
            if pv <= v:  # walking down: the previous vertex is in row r0
                near_row, near, far_row, far = r0, top, r1, bottom
            else:
                near_row, near, far_row, far = r1, bottom, r0, top
            if run_row == near_row:
                if near < run_lo:
                    run_lo = near
                elif near > run_hi:
                    run_hi = near
                lst = pieces[run_row - lo]
                lst.append(run_lo + eps)
                lst.append(run_hi - eps)
            else:
                if run_row is not None:
                    lst = pieces[run_row - lo]
                    lst.append(run_lo + eps)
                    lst.append(run_hi - eps)
                if lo <= near_row <= hi:
                    lst = pieces[near_row - lo]
                    if pu <= near:
                        lst.append(pu + eps)
                        lst.append(near - eps)
                    else:
                        lst.append(near + eps)
                        lst.append(pu - eps)
            if lo <= far_row <= hi:
                run_row = far_row
                if u <= far:
                    run_lo, run_hi = u, far
                else:
                    run_lo, run_hi = far, u
            else:
                run_row = None
            _edge_crossings(crossings, lo, hi, r0, r1, u0, v0, slope, on_line)
        elif run_row is not None:  # r1 < r0: flat on a row boundary, touches no open tile
            lst = pieces[run_row - lo]
            lst.append(run_lo + eps)
            lst.append(run_hi - eps)
            run_row = None
        pu, pv, p_first, p_last = u, v, first, last
    if run_row is not None:
        lst = pieces[run_row - lo]
        lst.append(run_lo + eps)
        lst.append(run_hi - eps)


def _edge_crossings(crossings: list[list[tuple[float, float, float]]], lo: int, hi: int, r0: int, r1: int,
                    u0: float, v0: float, slope: float, on_line: bool) -> None:
    """The top-line crossings, in rows ``lo .. hi``, of a downward edge from row band ``r0`` to ``r1 > r0``
    (``u = u0 + (v - v0) · slope``; ``on_line``: it starts on the top line of row ``r0``)."""
    eps = EDGE_EPSILON
    if on_line and lo <= r0 <= hi:  # starts on the top line of row r0
        c = u0 + (r0 - v0) * slope
        crossings[r0 - lo].append((c, c + eps, c - eps))
    if lo <= r1 <= hi:  # it always crosses the top line of row r1
        bottom = u0 + (r1 - v0) * slope
        crossings[r1 - lo].append((bottom, bottom + eps, bottom - eps))
    # rows crossed from top to bottom: the crossing is the top end of the piece
    a = r0 + 1 if r0 + 1 > lo else lo
    b = r1 - 1 if r1 - 1 < hi else hi
    if a <= b:
        start = u0 + (a - v0) * slope
        for r in range(a, b + 1):
            end = u0 + (r + 1 - v0) * slope
            if start <= end:
                crossings[r - lo].append((start, start + eps, end - eps))
            else:
                crossings[r - lo].append((start, end + eps, start - eps))
            start = end
