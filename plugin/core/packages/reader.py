"""One reader for every Esri tile package: ``.vtpk``, ``.tpkx``, ``.tpk`` and Compact Cache folders.

>>> with open_package("exports/area.tpkx") as pkg:          # doctest: +SKIP
...     pkg.kind, pkg.scheme.tile_cols, pkg.levels
...     data = pkg.tile(5, 12, 9)                           # bytes or None
...     for tile in pkg.iter_tiles(level=5): ...

Where the package lives does not matter: a zip (``.vtpk``/``.tpkx``/``.tpk``/``.zip``), a tar of a
cache folder, an extracted folder, or the path of its ``conf.xml`` / ``root.json``.  The layout is
found, not assumed (:mod:`.layout`); this module reads the bundles it lists.
Tile bytes are returned exactly as stored (see :mod:`.formats` for the repairs done on conversion).
"""
from __future__ import annotations

import struct
import tarfile
import zipfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

from ..errors import ArcGISOfflineTilesError
from ..tiling import SpatialRef, TilingScheme
from . import formats
from ._sources import MAX_META_BYTES, Source, open_source, package_error
from .bundles import PACKET, V2_FIXED, BundleIndex, BundleRef, load_v1, load_v2
from .layout import PackageLayout, clean_rel, join
from .schemes import ConfInfo, Extent, is_web_mercator, is_wgs84, load_json, mercator_to_lonlat, zoom_for_level


class Tile(NamedTuple):
    level: int
    row: int
    col: int
    data: bytes


@dataclass(frozen=True)
class LevelInfo:
    level: int
    tiles: int
    min_row: int
    max_row: int
    min_col: int
    max_col: int
    bytes: int

    def to_dict(self) -> dict:
        return {"level": self.level, "tiles": self.tiles, "row_range": [self.min_row, self.max_row],
                "col_range": [self.min_col, self.max_col], "bytes": self.bytes}


@contextmanager
def translating(path: object):
    """Turn any unexpected low-level exception into a :class:`PackageError` about ``path``."""
    try:
        yield
    except ArcGISOfflineTilesError:
        raise
    except (OSError, ValueError, LookupError, ArithmeticError, struct.error, zlib.error, EOFError,
            zipfile.BadZipFile, tarfile.TarError, MemoryError, RecursionError, TypeError,
            AttributeError) as exc:
        raise package_error(path, f"its data is damaged ({type(exc).__name__}: {str(exc)[:200]})") from exc


class TilePackage:
    """An opened tile package (use :func:`open_package`)."""

    def __init__(self, path: Path, source: Source, pointed: str | None = None) -> None:
        self.path = path
        self._source = source
        self.container = source.container
        with translating(path):
            layout = PackageLayout(path, source, pointed)
        self.scheme: TilingScheme = layout.scheme
        self.kind = layout.kind
        self.storage = layout.storage
        self.root_json: dict | None = layout.root_json
        self.conf: ConfInfo | None = layout.conf
        self.extent: Extent | None = layout.extent
        self.wgs84_extent: tuple[float, float, float, float] | None = layout.wgs84_extent
        self.title = layout.title
        self.name = layout.name
        self.description = layout.description
        self._base = layout.base
        self._tiles_dir = layout.tiles_dir
        self._tilemap_name: str | None = layout.tilemap_name
        self._bundles: dict[tuple[int, int, int], BundleRef] = layout.bundles
        self.duplicate_bundles = layout.duplicate_bundles
        self._tilemap: Any = None
        self._style: Any = None
        self._indexes: dict[tuple[int, int, int], BundleIndex] = {}
        self._levels: dict[int, LevelInfo] | None = None

    # -- context manager ---------------------------------------------------------------------
    def __enter__(self) -> TilePackage:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._indexes.clear()
        self._source.close()

    def __repr__(self) -> str:
        return f"<TilePackage {self.kind} {self.path}>"

    # -- indexes -----------------------------------------------------------------------------
    def _index(self, key: tuple[int, int, int]) -> BundleIndex:
        index = self._indexes.get(key)
        if index is None:
            ref = self._bundles[key]
            with translating(f"{self.path}!{ref.name}"):
                data = self._source.open_range(ref.name)
                if ref.bundlx:
                    index = load_v1(ref, data, self._source.open_range(ref.bundlx))
                else:
                    index = load_v2(ref, data)
            self._indexes[key] = index
        return index

    def prefetch_indexes(self) -> None:
        """Ask the disk for every V2 bundle index not read yet, all at once (a hint: the reads that
        follow find them in the page cache instead of waiting for each in turn)."""
        with translating(self.path):
            for key, ref in self._bundles.items():
                if key not in self._indexes and not ref.bundlx:
                    self._source.open_range(ref.name).prefetch(0, V2_FIXED)

    def _keys(self, level: int | None = None) -> list[tuple[int, int, int]]:
        return sorted(key for key in self._bundles if level is None or key[0] == level)

    def _level_table(self) -> dict[int, LevelInfo]:
        if self._levels is None:
            table: dict[int, list[int]] = {}
            for key in self._keys():
                index = self._index(key)
                if not len(index):
                    continue
                rows = [index.ref.row0 + slot // PACKET for slot in (index.slots[0], index.slots[-1])]
                cols = index.col_span()
                acc = table.setdefault(key[0], [0, rows[0], rows[1], cols[0], cols[1], 0])
                acc[0] += len(index)
                acc[1], acc[2] = min(acc[1], rows[0]), max(acc[2], rows[1])
                acc[3], acc[4] = min(acc[3], cols[0]), max(acc[4], cols[1])
                acc[5] += sum(index.sizes)
            self._levels = {level: LevelInfo(level, *values) for level, values in sorted(table.items())}
        return self._levels

    # -- public API --------------------------------------------------------------------------
    @property
    def is_vector(self) -> bool:
        return self.kind == "vtpk" or self.scheme.format.lower() == "pbf"

    @property
    def declared_format(self) -> str:
        return self.scheme.format

    @property
    def levels(self) -> list[int]:
        """Levels that hold at least one tile, ascending."""
        return list(self._level_table())

    def level_info(self, level: int) -> LevelInfo | None:
        return self._level_table().get(level)

    def levels_info(self) -> dict[int, LevelInfo]:
        return dict(self._level_table())

    @property
    def tile_count(self) -> int:
        return sum(info.tiles for info in self._level_table().values())

    @property
    def tile_bytes(self) -> int:
        """The bytes of all tile records, as the bundle indexes give them (what a conversion copies)."""
        return sum(info.bytes for info in self._level_table().values())

    def stored_bytes(self) -> int:
        """The size of the package as it lies on disk: the archive file, or a folder's bundle files."""
        if self.container != "dir":
            with translating(self.path):
                return self.path.stat().st_size
        return sum(self._index(key).data.size for key in self._keys())

    def record_sharing(self) -> tuple[int, int]:
        """``(repeated, overlapping)``: index entries that point at the same record as another entry of
        their bundle, and entries whose record overlaps another one (only a damaged or crafted bundle
        has either; Esri writes every tile as its own record)."""
        repeated = overlapping = 0
        for key in self._keys():
            index = self._index(key)
            spans = sorted(set(zip(index.offsets, index.sizes)))
            repeated += len(index) - len(spans)
            end = -1
            for offset, size in spans:
                if offset < end:
                    overlapping += 1
                end = max(end, offset + size)
        return repeated, overlapping

    def empty_reason(self) -> str:
        """Why the package holds no tile, in words for the user (for the error that refuses it)."""
        src = self._source
        tiles_dir = self._tiles_dir
        parent, _, leaf = tiles_dir.rpartition("/")
        bundles_path = (self.root_json or {}).get("tileBundlesPath") if self.kind == "tpkx" else None
        declared = f" (root.json's tileBundlesPath is {bundles_path!r})" if isinstance(bundles_path, str) else ""
        if tiles_dir and not src.child(parent, leaf, want_dir=True):
            if src.child(parent, leaf, want_dir=False):
                reason = (f"its tiles should be in the folder {tiles_dir}{declared}, which is a file or a link "
                          "leading out of the package (such links are not followed)")
            else:
                reason = f"its tiles should be in the folder {tiles_dir}{declared}, and the package has no such folder"
        elif not self._bundles:
            reason = f"its tile folder {tiles_dir}{declared} holds no bundle file (Lnn/RrrrrCcccc.bundle)"
        else:
            reason = f"its {len(self._bundles)} bundle file(s) hold no tile: every index entry is empty"
        if src.duplicates:
            names = ", ".join(sorted(set(src.duplicates))[:3])
            reason += (f"; the archive holds {len(src.duplicates)} member(s) twice ({names}), so it was probably "
                       "zipped twice or from two packages, and only the first copy of each was read")
        return reason

    def zoom_for_level(self, level: int) -> int | None:
        return zoom_for_level(self.scheme, level)

    def tile(self, level: int, row: int, col: int) -> bytes | None:
        """The stored bytes of one tile, ``None`` when the package has no such tile."""
        if row < 0 or col < 0:
            return None
        key = (level, row - row % PACKET, col - col % PACKET)
        if key not in self._bundles:
            return None
        index = self._index(key)
        i = index.find(row, col)
        if i < 0:
            return None
        with translating(f"{self.path}!{index.ref.name}"):
            return index.read(i)

    def has_tile(self, level: int, row: int, col: int) -> bool:
        """Whether the package stores that tile (its bytes are not read)."""
        if row < 0 or col < 0:
            return False
        key = (level, row - row % PACKET, col - col % PACKET)
        return key in self._bundles and self._index(key).find(row, col) >= 0

    def tilemap_leaves(self, below: int) -> Iterator[tuple[int, int, int]]:
        """``(level, row, col)`` of every tile the tile map marks as a leaf above level ``below``:
        clients over-zoom it for every level under it (reference §6.5.3).  Nothing without a tile map."""
        doc = self.tilemap
        root = doc.get("index") if doc else None
        if not isinstance(root, list):
            return
        stack = [(root, 0, 0, 0)]
        while stack:  # bounded: every node is visited once and the tile map's size is capped
            node, level, row, col = stack.pop()
            if len(node) != 4 or level + 1 >= below:
                continue
            for i, child in enumerate(node):
                r, c = 2 * row + (i >> 1), 2 * col + (i & 1)
                if isinstance(child, list):
                    stack.append((child, level + 1, r, c))
                elif child == 1 and not isinstance(child, bool):
                    yield level + 1, r, c

    def iter_index(self, level: int | None = None) -> Iterator[tuple[int, int, int, int]]:
        """``(level, row, col, size)`` of every tile, without reading tile bytes."""
        for key in self._keys(level):
            for row, col, size in self._index(key).iter_addresses():
                yield key[0], row, col, size

    def iter_tiles(self, level: int | None = None) -> Iterator[Tile]:
        """Every tile (of one level), bundle by bundle, each bundle read in file order."""
        for key in self._keys(level):
            index = self._index(key)
            with translating(f"{self.path}!{index.ref.name}"):
                for row, col, data in index.iter_tiles():
                    yield Tile(key[0], row, col, data)

    def iter_level_runs(self, level: int, release: bool = False,
                        ) -> Iterator[tuple[int, int, bytes, list[int], list[int], list[int]]]:
        """``(row0, col0, chunk, slots, offsets, sizes)`` per coalesced read of ``level``'s bundles
        (for the converters, see :meth:`.BundleIndex.iter_runs`, and its ``release``): the tile at row
        ``row0 + slot // 128`` and column ``col0 + slot % 128`` is ``chunk[offset:offset + size]``."""
        keys = self._keys(level)
        for number, key in enumerate(keys):
            index = self._index(key)
            row0, col0 = index.ref.row0, index.ref.col0
            with translating(f"{self.path}!{index.ref.name}"):
                if number + 1 < len(keys):  # the next bundle's first read need not wait for the disk
                    self._index(keys[number + 1]).prefetch_start()
                for run in index.iter_runs(release):
                    yield (row0, col0, *run)

    def prefetch_level_start(self, level: int) -> None:
        """Ask the disk for the start of ``level``'s first bundle (a hint: see
        :meth:`.BundleIndex.prefetch_start`), before :meth:`iter_level_runs` reads it."""
        keys = self._keys(level)
        if keys:
            with translating(self.path):
                self._index(keys[0]).prefetch_start()

    def largest_tile(self, level: int) -> tuple[int, int] | None:
        """``(row, col)`` of the biggest tile of ``level`` (the likeliest to hold every vector layer)."""
        best: tuple[int, int, int] | None = None
        for _lvl, row, col, size in self.iter_index(level):
            if best is None or size > best[0]:
                best = (size, row, col)
        return None if best is None else (best[1], best[2])

    def sniff_formats(self, level: int | None = None, sample: int | None = None) -> dict[str, int]:
        """Count tile formats (see :func:`.formats.sniff`) over all tiles or ``sample`` per level."""
        counts: dict[str, int] = {}
        levels = [level] if level is not None else self.levels
        for lvl in levels:
            seen = 0
            for key in self._keys(lvl):
                index = self._index(key)
                for i in range(len(index)):
                    if sample is not None and seen >= sample:
                        break
                    with translating(f"{self.path}!{index.ref.name}"):
                        head = index.data.read_at(index.offsets[i], min(index.sizes[i], 16))
                    kind = formats.sniff(head)
                    if self.is_vector:
                        kind = {"gzip": "pbf-gzip", "zlib": "pbf-zlib", "unknown": "pbf"}.get(kind, kind)
                    counts[kind] = counts.get(kind, 0) + 1
                    seen += 1
        return counts

    # -- extents -----------------------------------------------------------------------------
    def coverage(self, level: int | None = None) -> Extent | None:
        """The area covered by the tiles (of ``level``, or the union over levels), scheme CRS."""
        table = self._level_table()
        result = None
        for lvl, info in table.items():
            if level is not None and lvl != level:
                continue
            try:
                xmin, _, _, ymax = self.scheme.tile_bounds(lvl, info.min_row, info.min_col)
                _, ymin, xmax, _ = self.scheme.tile_bounds(lvl, info.max_row, info.max_col)
            except KeyError:
                continue
            ext = Extent(xmin, ymin, xmax, ymax, self.scheme.spatial_ref)
            result = ext if result is None else result.union(ext)
        return result

    def data_extent(self) -> Extent | None:
        """The declared data extent clipped to the tiles' coverage (scheme CRS when possible)."""
        cover = self.coverage()
        ext = self.extent
        if ext is not None and not _same_sr(ext.spatial_ref, self.scheme.spatial_ref):
            ext = None
        if ext is None:
            return cover
        if cover is None:
            return ext
        return ext.intersection(cover) or cover

    def wgs84_bounds(self) -> tuple[float, float, float, float] | None:
        """``(west, south, east, north)`` of the data, when it can be computed without a CRS library."""
        ext = self.data_extent()
        sr = self.scheme.spatial_ref
        if ext is not None and is_web_mercator(sr):
            w, s = mercator_to_lonlat(ext.xmin, ext.ymin)
            e, n = mercator_to_lonlat(ext.xmax, ext.ymax)
            return w, s, e, n
        if ext is not None and is_wgs84(sr):
            return (max(-180.0, ext.xmin), max(-90.0, ext.ymin), min(180.0, ext.xmax), min(90.0, ext.ymax))
        return self.wgs84_extent

    # -- vector resources --------------------------------------------------------------------
    def _resources_dir(self) -> str | None:
        return self._source.child(self._base, "resources", want_dir=True) if self.kind == "vtpk" else None

    def resources(self) -> list[str]:
        """Paths (relative to ``p12/resources/``) of the style, sprites, fonts… of a vector package."""
        top = self._resources_dir()
        if not top:
            return []
        out: list[str] = []
        stack = [(top, "")]
        while stack and len(out) < 100000:
            folder, rel = stack.pop()
            for child, is_dir in self._source.listdir(folder):
                if is_dir:
                    stack.append((join(folder, child), join(rel, child)))
                else:
                    out.append(join(rel, child))
        return sorted(out)

    def _resource_member(self, path: str) -> str | None:
        top = self._resources_dir()
        if not top:
            return None
        rel = clean_rel(path, self.path)
        if rel.lower().startswith("p12/resources/"):
            rel = rel[len("p12/resources/"):]
        name = top
        for part in rel.split("/"):
            found = self._source.child(name, part)
            if not found:
                return None
            name = found
        return name if self._source.isfile(name) else None

    def has_resource(self, path: str) -> bool:
        return self._resource_member(path) is not None

    def resource(self, path: str) -> bytes:
        """The bytes of a resource, e.g. ``styles/root.json``, ``sprites/sprite@2x.png``."""
        member = self._resource_member(path)
        if member is None:
            raise package_error(self.path, f"it has no resource {path!r}")
        with translating(self.path):
            return self._source.read(member)

    @property
    def has_style(self) -> bool:
        return self.has_resource("styles/root.json")

    @property
    def style(self) -> dict | None:
        """The Mapbox GL style of a vector package (``resources/styles/root.json``), parsed."""
        if self._style is None and self.has_style:
            doc = load_json(self.resource("styles/root.json"), f"{self.path}!styles/root.json")
            self._style = doc if isinstance(doc, dict) else None
        return self._style

    @property
    def tilemap(self) -> dict | None:
        """The vtpk tile map ``{"index": …}`` (``p12/tilemap/root.json``), parsed; ``None`` if absent."""
        if self._tilemap is None and self._tilemap_name and self._source.isfile(self._tilemap_name):
            doc = load_json(self._source.read(self._tilemap_name, MAX_META_BYTES), f"{self.path}!{self._tilemap_name}")
            self._tilemap = doc if isinstance(doc, dict) and "index" in doc else None
        return self._tilemap

    def tilemap_status(self, level: int, row: int, col: int) -> str:
        """``present``, ``absent``, ``ancestor`` (a leaf above: overzoom it) or ``unknown`` (no tilemap, 2)."""
        doc = self.tilemap
        if doc is None:
            return "unknown"
        node = doc.get("index")
        if level == 0:
            return "present"
        for k in range(1, level + 1):
            if not isinstance(node, list) or len(node) != 4:
                return "unknown"
            shift = level - k
            child = node[((col >> shift) & 1) + 2 * ((row >> shift) & 1)]
            if isinstance(child, list):
                node = child
                continue
            if child == 1:
                return "present" if k == level else "ancestor"
            if child == 0:
                return "absent"
            return "unknown"
        return "present"


def _same_sr(a: SpatialRef, b: SpatialRef) -> bool:
    if a.code is not None and b.code is not None:
        return a.code == b.code
    return a.code is None and b.code is None


def open_package(path: str | Path) -> TilePackage:
    """Open a tile package or cache; use as a context manager.  Raises :class:`PackageError`."""
    path = Path(path)
    with translating(path):
        source, pointed = open_source(path)
    try:
        return TilePackage(path, source, pointed)
    except BaseException:
        source.close()
        raise
