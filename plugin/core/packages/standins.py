"""Stand-in tiles for the holes of a sparse vector package converted to MBTiles.

An Esri vector tile package stores a tile only where it adds detail; its tile map marks a stored
tile as a *leaf* when every tile under it is drawn from it (clients over-zoom it).  MBTiles cannot
say "use the parent here", and QGIS before 3.32 reads the converted MBTiles without looking up, so
every such place would be empty.  :func:`fill_sparse` writes the missing tiles: each is the leaf's
content over-zoomed into that tile (:mod:`.overzoom`), gzip-compressed like the package's tiles.

Bounds:

* levels: from the leaf down to the deepest level stored (of all the packages merged: the parts of
  an export split by levels each end above the next part's levels, and a leaf of the first part
  stands in down to the last part's deepest level), never deeper;
* area: only tiles that touch the package's data extent (an export covers its area, not the
  whole footprint of a coarse leaf);
* emptiness: a stand-in with no feature left is not written, and nothing under it is visited;
  such places get the empty background tile instead (:func:`fill_background`, below);
* real tiles win: no stand-in is made where any package of the conversion stores a tile (that
  package's own tile map governs below it), and stand-ins go in after every stored tile with
  ``INSERT OR IGNORE``;
* count: at most ``limit`` stand-ins.  The count is planned before any work; when the planned
  upper bound is over the limit, the deepest levels are left out (a warning says from which level)
  rather than filling some places and not others.

Identical stand-ins (a square of one country or of sea, repeated) are stored once by the sink's
shared-payload layout (:class:`.sinks.MBTilesSink`).
"""
from __future__ import annotations

import gzip
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from ..errors import PackageError
from .mvt import MvtError
from .overzoom import _enc_field_bytes, _enc_varint, child_layers, decode_tile, encode_tile
from .reader import TilePackage
from .schemes import zoom_for_level

log = logging.getLogger(__name__)

STAND_IN_LIMIT = 1_000_000  # per conversion; planned before any work (see the module doc)
GZIP_LEVEL = 6  # what ArcGIS and QGIS's writer use; mtime 0 keeps identical stand-ins identical
BATCH = 1000
_GZIP_CACHE = 256  # recent raw → gzip results: repeated squares are compressed once

Progress = Callable[[int], None]


@dataclass
class Leaf:
    pkg: int  # index into the packages
    level: int
    row: int
    col: int


@dataclass
class StandInPlan:
    leaves: list[Leaf] = field(default_factory=list)
    upper_bound: dict[int, int] = field(default_factory=dict)  # level → most stand-ins possible
    deepest: int = -1  # deepest level filled (after the cap)
    capped_from: int | None = None  # first level left out by the cap
    limit: int = STAND_IN_LIMIT
    warnings: list[str] = field(default_factory=list)

    @property
    def bound(self) -> int:
        return sum(n for level, n in self.upper_bound.items() if level <= self.deepest)


@dataclass
class StandInResult:
    written: int = 0  # map rows added
    empty: int = 0  # places left empty because the leaf has nothing there
    per_level: dict[int, int] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)


def _level_ranges(pkg: TilePackage, first: int, last: int,
                  pkgs: Sequence[TilePackage]) -> dict[int, tuple[int, int, int, int, int] | None]:
    """Per level: ``(first row, last row, first col, last col, zoom)`` touching ``pkg``'s data extent
    (within the XYZ grid), or ``None`` where the level has no XYZ zoom.  A level ``pkg``'s own scheme
    lacks (each part of an export split by levels lists only its levels) is taken from another
    package (same scheme, checked)."""
    ext = pkg.data_extent()
    ranges: dict[int, tuple[int, int, int, int, int] | None] = {}
    for level in range(first, last + 1):
        ranges[level] = None
        scheme = next((p.scheme for p in (pkg, *pkgs) if p.scheme.has_level(level)), None)
        zoom = None if scheme is None else zoom_for_level(scheme, level)
        if zoom is None:
            continue
        top = (1 << zoom) - 1
        if ext is None:
            ranges[level] = (0, top, 0, top, zoom)
            continue
        r0, r1 = scheme.row_range(level, ext.ymin, ext.ymax)
        c0, c1 = scheme.col_range(level, ext.xmin, ext.xmax)
        ranges[level] = (max(r0, 0), min(r1, top), max(c0, 0), min(c1, top), zoom)
    return ranges


def plan(pkgs: Sequence[TilePackage], limit: int = STAND_IN_LIMIT) -> StandInPlan:
    """Find the leaves of every package's tile map and bound the stand-ins they need."""
    result = StandInPlan(limit=limit)
    deepest = max((max(pkg.levels) for pkg in pkgs if pkg.levels), default=-1)
    for number, pkg in enumerate(pkgs):
        levels = pkg.levels
        try:
            tilemap = pkg.tilemap
        except (PackageError, RecursionError, ValueError) as exc:
            result.warnings.append(f"{pkg.path.name}: its tile map is unreadable, so the places it leaves to "
                                   f"a coarser tile stay empty ({exc})")
            continue
        if not levels or tilemap is None:
            continue
        ranges = _level_ranges(pkg, min(levels), deepest, pkgs)
        for level, row, col in pkg.tilemap_leaves(deepest):
            if ranges.get(level) is None:
                continue
            leaf = Leaf(number, level, row, col)
            counted = False
            for deeper in range(level + 1, deepest + 1):
                box = ranges.get(deeper)
                if box is None:
                    break
                d = deeper - level
                rows = min(box[1], ((row + 1) << d) - 1) - max(box[0], row << d) + 1
                cols = min(box[3], ((col + 1) << d) - 1) - max(box[2], col << d) + 1
                if rows <= 0 or cols <= 0:
                    break
                result.upper_bound[deeper] = result.upper_bound.get(deeper, 0) + rows * cols
                counted = True
            if counted:
                result.leaves.append(leaf)
    total = 0
    for level in sorted(result.upper_bound):
        if total + result.upper_bound[level] > limit:
            result.capped_from = level
            break
        total += result.upper_bound[level]
        result.deepest = level
    return result


def fill_sparse(pkgs: Sequence[TilePackage], stand_in_plan: StandInPlan, add: Callable[[list[tuple]], int],
                progress: Progress | None = None) -> StandInResult:
    """Write the planned stand-ins through ``add(rows)`` (rows ``(zoom, col, tms_row, bytes)``,
    returns how many were new); ``progress(n)`` after each batch with the places visited so far
    (it cancels by raising :class:`.errors.CancelledError`)."""
    result = StandInResult(warnings=list(stand_in_plan.warnings))
    if stand_in_plan.capped_from is not None:
        result.warnings.append(
            f"stand-ins for the package's sparse areas stop at level {stand_in_plan.capped_from - 1}: "
            f"filling every level would take more than {stand_in_plan.limit:,} tiles; deeper levels "
            "there stay empty")
    if stand_in_plan.deepest < 0:
        return result
    batch: list[tuple] = []
    gz_cache: dict[bytes, bytes] = {}
    ranges_of: dict[int, dict] = {}
    visited = 0
    skipped_leaves = 0

    def flush() -> None:
        if batch:
            result.written += add(batch)
            batch.clear()
        if progress is not None:
            progress(visited)

    for leaf in stand_in_plan.leaves:
        pkg = pkgs[leaf.pkg]
        data = pkg.tile(leaf.level, leaf.row, leaf.col)
        try:
            layers = decode_tile(data) if data else None
        except MvtError as exc:
            log.warning("%s: tile %s/%s/%s cannot be over-zoomed (%s)", pkg.path, leaf.level, leaf.row,
                        leaf.col, exc)
            layers = None
        if not layers:
            skipped_leaves += data is None or layers is None
            continue
        deepest = stand_in_plan.deepest
        if leaf.pkg not in ranges_of:
            ranges_of[leaf.pkg] = _level_ranges(pkg, min(pkg.levels), deepest, pkgs)
        ranges = ranges_of[leaf.pkg]
        stack = [(layers, leaf.level, leaf.row, leaf.col)]
        while stack:  # bounded by the plan: each place under the leaf is visited at most once
            parent, level, row, col = stack.pop()
            child_level = level + 1
            box = ranges.get(child_level)
            if box is None:
                continue
            zoom = box[4]
            top = (1 << zoom) - 1
            for dr in (0, 1):
                r = 2 * row + dr
                if not box[0] <= r <= box[1]:
                    continue
                for dc in (0, 1):
                    c = 2 * col + dc
                    if not box[2] <= c <= box[3]:
                        continue
                    visited += 1
                    if any(other.has_tile(child_level, r, c) for other in pkgs):
                        continue  # a stored tile: its package's tile map says what lies under it
                    layers_here = child_layers(parent, dc, dr)
                    if not layers_here:
                        result.empty += 1
                        continue
                    raw = encode_tile(layers_here)
                    gz = gz_cache.get(raw)
                    if gz is None:
                        gz = gzip.compress(raw, GZIP_LEVEL, mtime=0)
                        if len(gz_cache) >= _GZIP_CACHE:
                            gz_cache.clear()
                        gz_cache[raw] = gz
                    batch.append((zoom, c, top - r, gz))
                    result.per_level[child_level] = result.per_level.get(child_level, 0) + 1
                    if child_level < deepest:
                        stack.append((layers_here, child_level, r, c))
                    if len(batch) >= BATCH:
                        flush()
    flush()
    if skipped_leaves:
        result.warnings.append(f"{skipped_leaves} tile(s) the tile map marks for over-zooming are missing or "
                               "unreadable; the places under them stay empty")
    return result


# -- the background ------------------------------------------------------------------------------
# QGIS before 3.32 draws a style's background layer tile by tile, and only for a tile that decodes
# to at least one layer: where the converted MBTiles has no tile, or a tile with no layer, it draws
# nothing, while ArcGIS and MapLibre draw the background colour everywhere.  So every place inside
# the package's data extent, from its first stored level to the deepest, that has neither a stored
# tile nor a stand-in gets an empty vector tile: one layer with no feature.  The sink stores that
# payload once and references it from each place (``map``/``images``).
BACKGROUND_LIMIT = 400_000  # empty tiles per conversion (a world export through level 9), planned first;
# each costs ~65 bytes and ~7 µs (measured: 349,523 in 23 MB and 2.6 s)
EMPTY_TILE_EXTENT = 4096
MVT_VERSION = 2


def empty_tile(layer_name: str) -> bytes:
    """A gzip'd vector tile with one layer ``layer_name`` and no feature (name, extent, version)."""
    body = bytearray()
    name = layer_name.encode("utf-8")
    _enc_field_bytes(1, name, body)  # Layer.name
    body.append(5 << 3)  # Layer.extent, varint
    _enc_varint(EMPTY_TILE_EXTENT, body)
    body.append(15 << 3)  # Layer.version, varint
    _enc_varint(MVT_VERSION, body)
    raw = bytearray()
    _enc_field_bytes(3, bytes(body), raw)  # Tile.layers
    return gzip.compress(bytes(raw), GZIP_LEVEL, mtime=0)


@dataclass
class BackgroundPlan:
    boxes: list[tuple[int, int, int, int, int, int]] = field(default_factory=list)  # level, r0, r1, c0, c1, zoom
    upper_bound: dict[int, int] = field(default_factory=dict)  # level → places in the data extent
    deepest: int = -1  # deepest level filled (after the cap)
    capped_from: int | None = None  # first level left out by the cap
    limit: int = BACKGROUND_LIMIT

    @property
    def bound(self) -> int:
        return sum(n for level, n in self.upper_bound.items() if level <= self.deepest)


@dataclass
class BackgroundResult:
    written: int = 0  # map rows added (places that had neither a stored tile nor a stand-in)
    per_level: dict[int, int] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)


def plan_background(pkgs: Sequence[TilePackage], limit: int = BACKGROUND_LIMIT) -> BackgroundPlan:
    """The grid places of every package's data extent, per level from its first stored level to the
    deepest level stored; when they add up to more than ``limit``, the deepest levels are left out."""
    result = BackgroundPlan(limit=limit)
    deepest = max((max(pkg.levels) for pkg in pkgs if pkg.levels), default=-1)
    for pkg in pkgs:
        if not pkg.levels:
            continue
        for level, box in _level_ranges(pkg, min(pkg.levels), deepest, pkgs).items():
            if box is None or box[1] < box[0] or box[3] < box[2]:
                continue
            result.boxes.append((level, *box))
            count = (box[1] - box[0] + 1) * (box[3] - box[2] + 1)
            result.upper_bound[level] = result.upper_bound.get(level, 0) + count
    total = 0
    for level in sorted(result.upper_bound):
        if total + result.upper_bound[level] > limit:
            result.capped_from = level
            break
        total += result.upper_bound[level]
        result.deepest = level
    result.boxes.sort()  # coarse levels first
    return result


def fill_background(background: BackgroundPlan, layer_name: str, add: Callable[[list[tuple]], int],
                    progress: Progress | None = None) -> BackgroundResult:
    """Write the empty tile at every planned place through ``add(rows)``, which must ignore a place
    already taken (a stored tile or a stand-in wins: the sink's ``INSERT OR IGNORE`` after
    ``dedupe()``) and return how many rows were new; ``progress(n)`` after each batch."""
    result = BackgroundResult()
    if background.capped_from is not None:
        result.warnings.append(
            f"the background is drawn down to level {background.capped_from - 1} only on QGIS before 3.32: "
            f"filling every level would take more than {background.limit:,} tiles; deeper levels show no "
            "background where the package stores no tile")
    data = empty_tile(layer_name)
    batch: list[tuple] = []
    visited = 0
    batch_level = -1

    def flush() -> None:
        if batch:
            new = add(batch)
            result.written += new
            if new:
                result.per_level[batch_level] = result.per_level.get(batch_level, 0) + new
            batch.clear()
        if progress is not None:
            progress(visited)

    for level, r0, r1, c0, c1, zoom in background.boxes:  # bounded by the plan's cap
        if level > background.deepest:
            continue
        if level != batch_level:
            flush()
            batch_level = level
        top = (1 << zoom) - 1
        for r in range(r0, r1 + 1):
            for c in range(c0, c1 + 1):
                visited += 1
                batch.append((zoom, c, top - r, data))
                if len(batch) >= BATCH:
                    flush()
    flush()
    return result
