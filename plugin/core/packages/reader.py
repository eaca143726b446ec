"""One reader for every Esri tile package: ``.vtpk``, ``.tpkx``, ``.tpk`` and Compact Cache folders.

>>> with open_package("exports/area.tpkx") as pkg:          # doctest: +SKIP
...     pkg.kind, pkg.scheme.tile_cols, pkg.levels
...     data = pkg.tile(5, 12, 9)                           # bytes or None
...     for tile in pkg.iter_tiles(level=5): ...

Where the package lives does not matter: a zip (``.vtpk``/``.tpkx``/``.tpk``/``.zip``), a tar of a
cache folder, an extracted folder, or the path of its ``conf.xml`` / ``root.json``.  The layout is
found, not assumed: ``p12/root.json`` (vector tile package), a ``root.json`` with ``tileInfo``
(tpkx), or the shallowest ``conf.xml`` (any root folder name, any case) with ``_alllayers`` beside it.
Tile bytes are returned exactly as stored (see :mod:`.formats` for the repairs done on conversion).
"""
from __future__ import annotations

import logging
import math
import struct
import tarfile
import zipfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

from ..errors import ArcGISOfflineTilesError, PackageError
from ..tiling import SpatialRef, TilingScheme
from . import formats
from ._sources import MAX_META_BYTES, Source, open_source, package_error
from .bundles import LEVEL_NAME, PACKET, BundleIndex, BundleRef, bundle_origin, load_v1, load_v2
from .schemes import (
    ConfInfo,
    Extent,
    extent_from_conf_cdi,
    is_web_mercator,
    is_wgs84,
    load_json,
    mercator_to_lonlat,
    parse_xml,
    scheme_from_conf_xml,
    scheme_from_root_json,
    xml_text,
    zoom_for_level,
)

log = logging.getLogger(__name__)

MAX_CONFIG_BYTES = 8 * 1024 * 1024  # root.json, conf.xml, iteminfo: real ones are a few KB

KINDS = ("vtpk", "tpkx", "tpk", "cache")


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


def _join(base: str, *names: str) -> str:
    return "/".join(part for part in (base, *names) if part)


def _parent(name: str) -> str:
    return name.rsplit("/", 1)[0] if "/" in name else ""


def _clean_rel(rel: str, where: object) -> str:
    parts = [part for part in rel.replace("\\", "/").split("/") if part not in ("", ".")]
    if any(part == ".." for part in parts):
        raise package_error(where, f"the path {rel!r} leaves the package")
    return "/".join(parts)


class TilePackage:
    """An opened tile package (use :func:`open_package`)."""

    def __init__(self, path: Path, source: Source, pointed: str | None = None) -> None:
        self.path = path
        self._source = source
        self.container = source.container
        self.kind = ""
        self.storage = ""
        self.root_json: dict | None = None
        self.conf: ConfInfo | None = None
        self.extent: Extent | None = None
        self.wgs84_extent: tuple[float, float, float, float] | None = None
        self.title = ""
        self.name = ""
        self.description = ""
        self._base = ""
        self._tiles_dir = ""
        self._tilemap_name: str | None = None
        self._tilemap: Any = None
        self._style: Any = None
        self._bundles: dict[tuple[int, int, int], BundleRef] = {}
        self._indexes: dict[tuple[int, int, int], BundleIndex] = {}
        self._levels: dict[int, LevelInfo] | None = None
        self.duplicate_bundles = 0
        with translating(path):
            self._locate(pointed)
            self._read_item_info()
            self._catalogue()

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

    # -- layout ------------------------------------------------------------------------------
    def _json(self, name: str, limit: int = MAX_CONFIG_BYTES) -> Any:
        return load_json(self._source.read(name, limit), f"{self.path}!{name}")

    def _locate(self, pointed: str | None) -> None:
        src = self._source
        if pointed is not None:
            if pointed.lower() == "conf.xml":
                return self._use_conf(pointed)
            return self._use_root_json(pointed)
        p12 = src.child("", "p12", want_dir=True)
        if p12 and src.child(p12, "root.json", want_dir=False):
            return self._use_root_json(_join(p12, src.child(p12, "root.json").rsplit("/", 1)[-1]))
        top = src.child("", "root.json", want_dir=False)
        if top and self._has_tile_info(top, strict=True):
            return self._use_root_json(top)
        confs = src.find("conf.xml")
        if confs:
            return self._use_conf(min(confs, key=lambda name: (name.count("/"), name)))
        for p12_root in sorted(src.find("root.json", max_depth=3), key=lambda n: (n.count("/"), n)):
            if self._has_tile_info(p12_root):
                return self._use_root_json(p12_root)
        raise package_error(self.path, "it contains neither conf.xml nor a root.json with a tiling "
                            "scheme, so it is not an Esri tile package or cache")

    def _has_tile_info(self, name: str, strict: bool = False) -> bool:
        """Whether ``name`` is a root.json with a tiling scheme; ``strict``: malformed JSON raises."""
        if self._source.size(name) > MAX_CONFIG_BYTES and not strict:
            return False
        try:
            doc = self._json(name)
        except PackageError:
            if strict:
                raise
            return False
        return isinstance(doc, dict) and isinstance(doc.get("tileInfo"), dict)

    def _use_root_json(self, name: str) -> None:
        where = f"{self.path}!{name}"
        doc = self._json(name)
        self.scheme = scheme_from_root_json(doc, where)
        self.root_json = doc
        self._base = _parent(name)
        vector = self.scheme.format.lower() == "pbf" or ("tiles" in doc and "tileBundlesPath" not in doc)
        if vector:
            self.kind = "vtpk"
            template = doc.get("tiles")
            first = template[0] if isinstance(template, list) and template and isinstance(template[0], str) \
                else "tile/{z}/{y}/{x}.pbf"
            tiles_dir = first.split("{", 1)[0].rstrip("/") or "tile"
            tilemap = doc.get("tileMap")
            if isinstance(tilemap, str) and tilemap:
                self._tilemap_name = _join(self._base, _clean_rel(tilemap, where), "root.json")
        else:
            self.kind = "tpkx"
            tiles_dir = doc.get("tileBundlesPath") if isinstance(doc.get("tileBundlesPath"), str) else "./tile"
        if "://" in tiles_dir:
            tiles_dir = "tile"
        self._tiles_dir = _join(self._base, _clean_rel(tiles_dir, where))
        self.extent = Extent.from_json(doc.get("fullExtent"), self.scheme.spatial_ref) or \
            Extent.from_json(doc.get("initialExtent"), self.scheme.spatial_ref)
        name_value = doc.get("name")
        self.name = name_value if isinstance(name_value, str) else ""
        self.storage = "compactV2"

    def _use_conf(self, name: str) -> None:
        where = f"{self.path}!{name}"
        self.conf = scheme_from_conf_xml(self._source.read(name, MAX_CONFIG_BYTES), where)
        self.scheme = self.conf.scheme
        self._base = _parent(name)
        alllayers = self._source.child(self._base, "_alllayers", want_dir=True)
        self._tiles_dir = alllayers or _join(self._base, "_alllayers")
        cdi = self._source.child(self._base, "conf.cdi", want_dir=False)
        if cdi:
            self.extent = extent_from_conf_cdi(self._source.read(cdi, MAX_CONFIG_BYTES),
                                               f"{self.path}!{cdi}", self.scheme.spatial_ref)
        self.storage = "compactV1" if self.conf.storage_format.lower().endswith("compact") else "compactV2"
        if self.container == "zip":
            self.kind = "tpk" if self.storage == "compactV1" else "tpkx"
        else:
            self.kind = "tpk" if self._source.child("", "esriinfo", want_dir=True) and \
                self.storage == "compactV1" else "cache"

    def _read_item_info(self) -> None:
        src = self._source
        title = description = name = ""
        # tpkx: iteminfo.json beside root.json; vtpk/tpk: esriinfo/iteminfo.xml at the top
        info_json = src.child(self._base, "iteminfo.json", want_dir=False)
        if info_json:
            try:
                doc = self._json(info_json)
            except PackageError as exc:
                log.warning("%s", exc)
                doc = None
            if isinstance(doc, dict):
                title = doc.get("title") if isinstance(doc.get("title"), str) else ""
                name = doc.get("name") if isinstance(doc.get("name"), str) else ""
                description = next((doc[k] for k in ("description", "summary", "snippet")
                                    if isinstance(doc.get(k), str) and doc[k]), "")
                ext = Extent.from_json(doc.get("extent"), SpatialRef(wkid=4326))
                if ext is not None and is_wgs84(ext.spatial_ref):
                    self.wgs84_extent = (ext.xmin, ext.ymin, ext.xmax, ext.ymax)
        candidates = []
        base = self._base
        while True:
            candidates.append(_join(base, "esriinfo"))
            if not base:
                break
            base = _parent(base)
        for folder in candidates:
            esriinfo = src.child(_parent(folder), folder.rsplit("/", 1)[-1], want_dir=True)
            member = esriinfo and src.child(esriinfo, "iteminfo.xml", want_dir=False)
            if not member:
                continue
            try:
                root = parse_xml(src.read(member, MAX_CONFIG_BYTES), f"{self.path}!{member}")
            except PackageError as exc:
                log.warning("%s", exc)
                break
            title = title or xml_text(root, "title") or ""
            name = name or xml_text(root, "name") or ""
            description = description or xml_text(root, "summary") or xml_text(root, "snippet") or ""
            try:
                values = [float(xml_text(root, "extent", key) or "nan") for key in ("xmin", "ymin", "xmax", "ymax")]
            except ValueError:
                values = []
            if len(values) == 4 and all(map(math.isfinite, values)) and self.wgs84_extent is None:
                self.wgs84_extent = tuple(values)  # type: ignore[assignment]
            break
        stem = self.path.stem if self.path.suffix else self.path.name
        if self.container == "dir" and self.path.name.lower() in ("layers", "p12", "") and self.path.parent.name:
            stem = self.path.parent.name
        self.name = name or self.name or stem
        self.title = title or self.name
        self.description = description

    def _catalogue(self) -> None:
        src = self._source
        for level_dir, is_dir in src.listdir(self._tiles_dir):
            match = LEVEL_NAME.match(level_dir)
            if not is_dir or not match:
                continue
            level = int(match.group(1))
            folder = _join(self._tiles_dir, level_dir)
            files = [child for child, child_is_dir in src.listdir(folder) if not child_is_dir]
            index_files = {child[:-7].lower(): child for child in files if child.lower().endswith(".bundlx")}
            for child in files:
                origin = bundle_origin(child)
                if origin is None:
                    continue
                row0, col0 = origin
                if row0 % PACKET or col0 % PACKET:
                    log.warning("%s: bundle %s/%s is not on the 128-tile grid; ignored", self.path, folder, child)
                    continue
                key = (level, row0, col0)
                if key in self._bundles:
                    self.duplicate_bundles += 1
                    log.warning("%s: two bundles for level %s row %s col %s; keeping %s", self.path, level,
                                row0, col0, self._bundles[key].name)
                    continue
                bundlx = index_files.get(child[:-7].lower())
                self._bundles[key] = BundleRef(level, row0, col0, _join(folder, child),
                                               _join(folder, bundlx) if bundlx else None)
        versions = {ref.version for ref in self._bundles.values()}
        if versions == {1}:
            self.storage = "compactV1"
        elif versions == {2}:
            self.storage = "compactV2"
        elif versions:
            self.storage = "mixed"

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
                cols = [index.ref.col0 + slot % PACKET for slot in index.slots]
                acc = table.setdefault(key[0], [0, rows[0], rows[1], min(cols), max(cols), 0])
                acc[0] += len(index)
                acc[1], acc[2] = min(acc[1], rows[0]), max(acc[2], rows[1])
                acc[3], acc[4] = min(acc[3], *cols), max(acc[4], *cols)
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

    def iter_level_views(self, level: int) -> Iterator[tuple[int, int, memoryview]]:
        """``(row, col, memoryview)`` of every tile of ``level``, zero-copy (for the converters)."""
        for key in self._keys(level):
            index = self._index(key)
            with translating(f"{self.path}!{index.ref.name}"):
                yield from index.iter_tiles(views=True)

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
                    stack.append((_join(folder, child), _join(rel, child)))
                else:
                    out.append(_join(rel, child))
        return sorted(out)

    def _resource_member(self, path: str) -> str | None:
        top = self._resources_dir()
        if not top:
            return None
        rel = _clean_rel(path, self.path)
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
            doc = self._json(self._tilemap_name, MAX_META_BYTES)
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


def scheme_summary(scheme: TilingScheme) -> str:
    return f"{scheme.spatial_ref.authid() or 'custom CRS'}, {scheme.tile_cols}×{scheme.tile_rows} px"

