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

1. the columns overlapping the u-range of every edge piece inside the band (boundary through the tile), and
2. the columns overlapping the inside spans on the band's mid-line (tiles entirely inside the fill),

because a tile meets the closed area iff an edge passes through it or it lies wholly inside.  Each edge is
bucketed into the rows it crosses as it is read, so the work is O(vertices + Σ rows crossed per edge)
plus a sort per row; no row × edge product.  The mid-line crossings use the half-open rule
``v0 <= m < v1`` so the even-odd parity is exact for vertices lying on a mid-line.
"""
from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from .area import Area
from .errors import InvalidRequestError
from .tiling import EDGE_EPSILON, TilingScheme

Span = tuple[int, int]  # inclusive column interval (first, last)


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


def _levels(levels: int | Iterable[int]) -> list[int]:
    if isinstance(levels, int) and not isinstance(levels, bool):
        return [levels]
    return list(levels)


def count_tiles(scheme: TilingScheme, area: Area, levels: int | Iterable[int]) -> dict[int, int]:
    """Exact number of tiles ``area`` touches, per level (keys in the order given, duplicates merged)."""
    out: dict[int, int] = {}
    for level in _levels(levels):
        if level in out:
            continue
        if area.is_rectangle:
            out[level] = tile_ranges(scheme, area, level).count
        else:
            _check_level(scheme, level)
            out[level] = sum(c1 - c0 + 1 for spans in _polygon_spans(scheme, area, level).values()
                             for c0, c1 in spans)
    return out


def total_tiles(scheme: TilingScheme, area: Area, levels: int | Iterable[int]) -> int:
    """Sum of :func:`count_tiles` over ``levels``."""
    return sum(count_tiles(scheme, area, levels).values())


def row_spans(scheme: TilingScheme, area: Area, level: int) -> dict[int, list[Span]]:
    """Per tile row (ascending), the sorted, disjoint, non-adjacent inclusive column intervals touched.

    Adjacent intervals are merged, so ``[(3, 5), (7, 9)]`` means columns 3, 4, 5, 7, 8, 9 and column 6 is
    not touched.  Rows with no tile are absent.
    """
    if area.is_rectangle:
        rng = tile_ranges(scheme, area, level)
        span = [(rng.col_min, rng.col_max)]
        return {row: list(span) for row in range(rng.row_min, rng.row_max + 1)}
    _check_level(scheme, level)
    return _polygon_spans(scheme, area, level)


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
def _polygon_spans(scheme: TilingScheme, area: Area, level: int) -> dict[int, list[Span]]:
    w, h = scheme.tile_size(level)
    ox, oy = scheme.origin_x, scheme.origin_y
    eps = EDGE_EPSILON
    floor, ceil = math.floor, math.ceil
    # row -> [lo + eps, hi - eps, ...]: u-ranges of boundary pieces inside the row band, shifted by the
    # tolerance so that columns floor(lo') .. ceil(hi') - 1 are the ones a piece touches.
    pieces: defaultdict[int, list[float]] = defaultdict(list)
    # row -> [(u, lo, hi), ...]: where the boundary crosses the row's mid-line, and the u-range of the
    # boundary piece around that crossing that is *not* already recorded in ``pieces`` (lo = hi = u when
    # it is).  Paired crossings give the inside spans; a pair's span together with both pieces is the
    # single interval [min(lo), max(hi)] because each piece contains its crossing.
    crossings: defaultdict[int, list[tuple[float, float, float]]] = defaultdict(list)

    for ring in area.rings:
        px, py = ring[-1]
        pu = (px - ox) / w
        pv = (oy - py) / h
        p_first = floor(pv + eps)  # first row band an edge leaving this vertex downwards can touch
        p_last = ceil(pv - eps) - 1  # last row band an edge arriving at this vertex from above can touch
        # A run: consecutive boundary pieces that stay in one row band form a connected path there, so
        # they merge into one u-interval [run_lo, run_hi] of row run_row.
        run_row = None
        run_lo = run_hi = 0.0
        for x, y in ring:
            u = (x - ox) / w
            v = (oy - y) / h
            first = floor(v + eps)
            last = ceil(v - eps) - 1
            if pv <= v:
                r0, r1, u0, v0, u1, v1 = p_first, last, pu, pv, u, v
            else:
                r0, r1, u0, v0, u1, v1 = first, p_last, u, v, pu, pv
            if r0 == r1:  # the edge stays inside one row band (the common case)
                if r0 == run_row:
                    if u < run_lo:
                        run_lo = u
                    elif u > run_hi:
                        run_hi = u
                else:
                    if run_row is not None:
                        lst = pieces[run_row]
                        lst.append(run_lo + eps)
                        lst.append(run_hi - eps)
                    run_row = r0
                    if pu <= u:
                        run_lo, run_hi = pu, u
                    else:
                        run_lo, run_hi = u, pu
                m = r0 + 0.5
                if v0 <= m < v1:
                    c = u0 + (m - v0) * (u1 - u0) / (v1 - v0)
                    crossings[r0].append((c, c, c))
            elif r0 < r1:  # the edge crosses row boundaries
                slope = (u1 - u0) / (v1 - v0)
                # the pieces in rows r0 and r1 hold the edge's end points: they join runs; the pieces of
                # the rows in between are complete crossings of the band, recorded with their crossing
                top = u0 + (r0 + 1 - v0) * slope  # u where the edge leaves row r0
                bottom = u0 + (r1 - v0) * slope  # u where it enters row r1
                if pv <= v:  # walking downwards: the previous vertex is in row r0
                    near_row, near, far_row, far = r0, top, r1, bottom
                else:
                    near_row, near, far_row, far = r1, bottom, r0, top
                if run_row == near_row:
                    if near < run_lo:
                        run_lo = near
                    elif near > run_hi:
                        run_hi = near
                    lst = pieces[run_row]
                    lst.append(run_lo + eps)
                    lst.append(run_hi - eps)
                else:
                    if run_row is not None:
                        lst = pieces[run_row]
                        lst.append(run_lo + eps)
                        lst.append(run_hi - eps)
                    lst = pieces[near_row]
                    if pu <= near:
                        lst.append(pu + eps)
                        lst.append(near - eps)
                    else:
                        lst.append(near + eps)
                        lst.append(pu - eps)
                run_row = far_row
                if u <= far:
                    run_lo, run_hi = u, far
                else:
                    run_lo, run_hi = far, u
                if v0 <= r0 + 0.5:
                    c = u0 + (r0 + 0.5 - v0) * slope
                    crossings[r0].append((c, c, c))
                if r1 + 0.5 < v1:
                    c = u0 + (r1 + 0.5 - v0) * slope
                    crossings[r1].append((c, c, c))
                start = top
                for r in range(r0 + 1, r1):
                    end = u0 + (r + 1 - v0) * slope
                    if start <= end:
                        crossings[r].append(((start + end) * 0.5, start, end))
                    else:
                        crossings[r].append(((start + end) * 0.5, end, start))
                    start = end
            elif run_row is not None:
                lst = pieces[run_row]
                lst.append(run_lo + eps)
                lst.append(run_hi - eps)
                run_row = None
            pu, pv, p_first, p_last = u, v, first, last
        if run_row is not None:
            lst = pieces[run_row]
            lst.append(run_lo + eps)
            lst.append(run_hi - eps)

    out: dict[int, list[Span]] = {}
    for r in sorted(pieces.keys() | crossings.keys()):
        lst = pieces.get(r)
        # half-open column intervals [first, end)
        cols = list(zip(map(floor, lst[0::2]), map(ceil, lst[1::2]))) if lst else []
        cross = crossings.get(r)
        if cross:
            cross.sort()
            append = cols.append
            for i in range(0, len(cross) - 1, 2):
                _, la, ha = cross[i]
                _, lb, hb = cross[i + 1]
                append((floor((la if la < lb else lb) + eps), ceil((ha if ha > hb else hb) - eps)))
        cols.sort()
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
            out[r] = merged
    return out
