"""Splitting an export above the server's tile limit into parts that each fit in one server job.

Strategy (exact counts from :mod:`.tilecount`):

1. Levels are grouped, coarse to fine, as long as a group's total stays within the limit.
2. A level that alone exceeds the limit is cut into tile-aligned parts at that level: tile rows are
   taken greedily while they fit (a row wider than the limit is cut into column chunks), and each
   part's area is the union of the tile boxes (:func:`~.tilecount.span_boxes`) it covers, shrunk by
   a hair (``INSET`` tile widths) so that no server can see it touch the neighbouring tiles.  Parts of
   one level are therefore disjoint and together hold exactly the tiles of the original request.

Parts never overlap in this scheme, but the plan still counts every part's tiles exactly and reports
``duplicate_tiles`` (sum of the parts minus the original), so a caller sees the true cost.
The plan is computed before anything is submitted.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from .area import Area
from .errors import InvalidRequestError
from .levels import format_levels
from .tilecount import box_bounds, count_tiles, row_spans, span_boxes, tile_ranges
from .tiling import TilingScheme

INSET = 1e-6  # tile widths: part boundaries sit this far inside the tile edges


@dataclass(frozen=True)
class Part:
    """One sub-export: its levels, its area and its exact tile counts."""

    index: int
    levels: tuple[int, ...]
    area: Area
    tiles_by_level: dict[int, int] = field(hash=False, compare=False)
    whole_area: bool = True  # False when the area is a tile-aligned piece of the original

    @property
    def tiles(self) -> int:
        return sum(self.tiles_by_level.values())

    def describe(self) -> str:
        piece = "" if self.whole_area else ", part of the area"
        word = "level" if len(self.levels) == 1 else "levels"
        return f"{word} {format_levels(self.levels)}: {self.tiles:,} tiles{piece}"


@dataclass(frozen=True)
class SplitPlan:
    parts: tuple[Part, ...]
    limit: int
    requested_tiles: int  # the original request, counted once

    @property
    def part_count(self) -> int:
        return len(self.parts)

    @property
    def total_tiles(self) -> int:
        """Tiles the jobs will export together, duplicates included."""
        return sum(p.tiles for p in self.parts)

    @property
    def duplicate_tiles(self) -> int:
        return self.total_tiles - self.requested_tiles

    def describe(self) -> str:
        lines = [f"{self.part_count} part(s) of at most {self.limit:,} tiles, "
                 f"{self.total_tiles:,} tiles in all ({self.duplicate_tiles:,} duplicates):"]
        lines += [f"  part {p.index + 1}: {p.describe()}" for p in self.parts]
        return "\n".join(lines)


def plan_split(scheme: TilingScheme, area: Area, levels: Iterable[int], limit: int, *,
               counts: dict[int, int] | None = None) -> SplitPlan:
    """Plan sub-exports of at most ``limit`` tiles each covering ``area`` at ``levels``."""
    levels = sorted(set(levels))
    if not levels:
        raise InvalidRequestError(reason="no level is selected")
    if limit < 1:
        raise InvalidRequestError(reason=f"the server's tile limit is {limit}: it allows no export")
    counts = dict(counts) if counts is not None else count_tiles(scheme, area, levels)
    requested = sum(counts[lv] for lv in levels)
    specs: list[tuple[tuple[int, ...], Area, bool]] = []
    group: list[int] = []
    group_sum = 0

    def flush() -> None:
        nonlocal group, group_sum
        if group:
            specs.append((tuple(group), area, True))
        group, group_sum = [], 0

    for level in levels:
        n = counts[level]
        if n > limit:
            flush()
            specs.extend(((level,), piece, False) for piece in _split_level(scheme, area, level, limit))
        elif group_sum + n > limit:
            flush()
            group, group_sum = [level], n
        else:
            group.append(level)
            group_sum += n
    flush()
    parts = []
    for index, (part_levels, part_area, whole) in enumerate(specs):
        by_level = ({lv: counts[lv] for lv in part_levels} if whole
                    else count_tiles(scheme, part_area, part_levels))
        parts.append(Part(index, part_levels, part_area, by_level, whole))
    return SplitPlan(tuple(parts), limit, requested)


def _split_level(scheme: TilingScheme, area: Area, level: int, limit: int) -> list[Area]:
    """Tile-aligned pieces of ``area`` holding at most ``limit`` tiles each at ``level``."""
    if area.is_rectangle:
        rng = tile_ranges(scheme, area, level)
        cols_per = min(rng.cols, limit)
        rows_per = max(1, limit // cols_per)
        pieces = []
        for r0 in range(rng.row_min, rng.row_max + 1, rows_per):
            r1 = min(rng.row_max, r0 + rows_per - 1)
            for c0 in range(rng.col_min, rng.col_max + 1, cols_per):
                c1 = min(rng.col_max, c0 + cols_per - 1)
                pieces.append(_boxes_area(scheme, level, [(r0, r1, c0, c1)]))
        return pieces
    spans = row_spans(scheme, area, level)
    chunks: list[dict[int, list[tuple[int, int]]]] = []
    current: dict[int, list[tuple[int, int]]] = {}
    current_n = 0
    for row in sorted(spans):
        row_n = sum(c1 - c0 + 1 for c0, c1 in spans[row])
        if row_n > limit:  # a row wider than the limit: cut it into column chunks
            if current:
                chunks.append(current)
                current, current_n = {}, 0
            for piece in _cut_row(spans[row], limit):
                chunks.append({row: piece})
            continue
        if current_n + row_n > limit:
            chunks.append(current)
            current, current_n = {}, 0
        current[row] = list(spans[row])
        current_n += row_n
    if current:
        chunks.append(current)
    return [_boxes_area(scheme, level, span_boxes(chunk)) for chunk in chunks]


def _cut_row(intervals: list[tuple[int, int]], limit: int) -> list[list[tuple[int, int]]]:
    pieces: list[list[tuple[int, int]]] = []
    current: list[tuple[int, int]] = []
    room = limit
    for c0, c1 in intervals:
        start = c0
        while start <= c1:
            take = min(room, c1 - start + 1)
            current.append((start, start + take - 1))
            start += take
            room -= take
            if room == 0:
                pieces.append(current)
                current, room = [], limit
    if current:
        pieces.append(current)
    return pieces


def _boxes_area(scheme: TilingScheme, level: int, boxes: list[tuple[int, int, int, int]]) -> Area:
    w, h = scheme.tile_size(level)
    dx, dy = INSET * w, INSET * h
    rects = []
    for box in boxes:
        xmin, ymin, xmax, ymax = box_bounds(scheme, level, box)
        rects.append((xmin + dx, ymin + dy, xmax - dx, ymax - dy))
    if len(rects) == 1:
        return Area.from_extent(*rects[0])
    return Area.from_rings([[(x0, y0), (x0, y1), (x1, y1), (x1, y0)] for x0, y0, x1, y1 in rects])
