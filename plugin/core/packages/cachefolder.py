"""Stand-alone tile cache folders (a *cache raster dataset*): unpack, lay out, verify, merge.

An exported cache is a folder holding ``conf.xml``, ``conf.cdi`` and ``_alllayers/Lnn/*.bundle``
(Compact V2) or ``*.bundle`` + ``*.bundlx`` (Compact V1), as ``conf.xml``'s ``StorageFormat`` says.
ArcGIS Pro opens such a folder as a raster, GDAL's ESRIC driver reads the V2 form, and the plugin's
reader reads both.

* :func:`unpack_archive` turns a downloaded zip (or tar) into a folder with the bounds the package
  readers apply (member count, declared sizes, compression ratio, names that stay inside, no links)
  plus a check of the free disk space, writing regular files only.
* :func:`lay_out_cache` moves the cache (the shallowest ``conf.xml`` and what lies beside it) to
  the top of the final folder, replacing an earlier cache of the same name but never another folder.
* :func:`verify_cache` reads ``conf.xml`` and every bundle index: the storage format and levels are
  what was asked for and at least one tile is there.
* :func:`merge_caches` merges the caches of a split export into one cache tile by tile (parts meet
  inside bundles, so a file-by-file copy would drop tiles), streaming each bundle to disk.
"""
from __future__ import annotations

import contextlib
import logging
import os
import shutil
import stat
import struct
import uuid
from array import array
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from ..errors import CancelledError, DiskError
from ._sources import MAX_MEMBERS, open_source, package_error
from .bundles import PACKET, SLOTS, V1_HEADER, V1_PLACEHOLDERS, V2_FIXED, V2_INDEX
from .reader import open_package
from .schemes import Extent

log = logging.getLogger(__name__)

COMPACT_V2 = "esriMapCacheStorageModeCompactV2"
COMPACT_V1 = "esriMapCacheStorageModeCompact"
COPY_CHUNK = 1 << 20
DISK_MARGIN = 16 << 20  # keep this much free on top of what a cache needs
MAX_FOLDER_DEPTH = 8  # conf.xml of a cache lies at most this deep in what the server sends
_MAX_V2_TILE = (1 << 24) - 1
_MAX_OFFSET = (1 << 40) - 1

Progress = Callable[[int, int], object]  # (done, total) → False to cancel


@dataclass
class CacheSummary:
    """What :func:`verify_cache` found."""

    path: str
    storage: str  # compactV1 / compactV2
    levels: dict[int, int] = field(default_factory=dict)  # level → tiles
    bundles: int = 0
    extent: Extent | None = None

    @property
    def tile_count(self) -> int:
        return sum(self.levels.values())


def storage_name(storage_format: str) -> str:
    """``esriMapCacheStorageModeCompact[V2]`` (or the short forms) → ``compactV1`` / ``compactV2``."""
    return "compactV2" if storage_format.lower().rstrip().endswith("v2") else "compactV1"


# --- unpacking ------------------------------------------------------------------------------------
def _free_bytes(folder: Path) -> int | None:
    try:
        return shutil.disk_usage(folder).free
    except OSError:
        return None


def check_free_space(folder: Path, needed: int) -> None:
    free = _free_bytes(folder)
    if free is not None and free < needed + DISK_MARGIN:
        raise DiskError(reason=f"{needed / 1e6:.1f} MB are needed in {folder} but only {free / 1e6:.1f} MB "
                        "are free")


def _is_link_member(entry: object) -> bool:
    """A zip member whose Unix mode says symbolic link (tar links never reach the member list)."""
    attr = getattr(entry, "external_attr", 0) or 0
    return stat.S_ISLNK(attr >> 16)


def unpack_archive(archive: str | os.PathLike, dest: str | os.PathLike, *,
                   progress: Progress | None = None) -> Path:
    """Unpack ``archive`` (zip or tar) into the new folder ``dest``; returns ``dest``.

    Only regular files are written, each streamed through the package readers' bounded ranges
    (names that leave the archive, impossible compression ratios, truncated or encrypted members end
    in :class:`PackageError`); links are refused; the declared total must fit on the disk.  On any
    failure ``dest`` is removed again.
    """
    archive, dest = Path(archive), Path(dest)
    source, _pointed = open_source(archive)
    try:
        if source.container not in ("zip", "tar"):
            raise package_error(archive, "it is not a zip or tar archive")
        members = sorted(source._files.items())
        if len(members) > MAX_MEMBERS:
            raise package_error(archive, f"it holds more than {MAX_MEMBERS} files")
        for name, entry in members:
            if _is_link_member(entry):
                raise package_error(archive, f"it holds a link ({name}); a tile cache holds regular files only")
        total = sum(source.size(name) for name, _ in members)
        dest.mkdir(parents=True, exist_ok=False)
        check_free_space(dest, total)
        done = 0
        try:
            for name, _entry in members:
                target = dest.joinpath(*name.split("/"))
                target.parent.mkdir(parents=True, exist_ok=True)
                rng = source.open_range(name)
                size = source.size(name)
                with open(target, "xb") as out:
                    offset = 0
                    while offset < size:
                        block = rng.read_at(offset, min(COPY_CHUNK, size - offset))
                        out.write(block)
                        offset += len(block)
                done += size
                if progress is not None and progress(done, total) is False:
                    raise CancelledError(details=f"unpacking {archive.name} cancelled")
        except OSError as exc:
            shutil.rmtree(dest, ignore_errors=True)
            raise DiskError(reason=f"unpacking {archive.name} failed: {exc.strerror or exc}") from None
        except BaseException:
            shutil.rmtree(dest, ignore_errors=True)
            raise
    finally:
        source.close()
    return dest


# --- layout ---------------------------------------------------------------------------------------
def find_conf(folder: Path, max_depth: int = MAX_FOLDER_DEPTH) -> Path | None:
    """The shallowest ``conf.xml`` under ``folder`` (any case), links not followed."""
    level = [folder]
    for _depth in range(max_depth + 1):
        found = []
        deeper = []
        for current in level:
            try:
                entries = sorted(os.scandir(current), key=lambda e: e.name)
            except OSError:
                continue
            for entry in entries:
                if entry.is_symlink():
                    continue
                if entry.is_file() and entry.name.lower() == "conf.xml":
                    found.append(Path(entry.path))
                elif entry.is_dir() and entry.name.lower() != "_alllayers":
                    deeper.append(Path(entry.path))
        if found:
            return found[0]
        level = deeper
        if not level:
            return None
    return None


def is_cache_folder(folder: str | os.PathLike) -> bool:
    """A folder with ``conf.xml`` at its top (what :func:`lay_out_cache` produces)."""
    folder = Path(folder)
    return folder.is_dir() and any(p.name.lower() == "conf.xml" and p.is_file() for p in folder.iterdir())


def lay_out_cache(staging: str | os.PathLike, target: str | os.PathLike) -> Path:
    """Move the cache found in ``staging`` to ``target`` (``conf.xml`` at its top); ``staging`` goes.

    An existing ``target`` is replaced only when it is itself a cache folder (an earlier export of
    the same name); anything else there is left alone and ends in :class:`DiskError`.
    """
    staging, target = Path(staging), Path(target)
    conf = find_conf(staging)
    if conf is None:
        shutil.rmtree(staging, ignore_errors=True)
        raise package_error(target.name, "the server's result holds no conf.xml, so it is not a tile cache")
    root = conf.parent
    if target.exists():
        if not (target.is_dir() and (is_cache_folder(target) or not any(target.iterdir()))):
            shutil.rmtree(staging, ignore_errors=True)
            raise DiskError(reason=f"{target} exists and is not a tile cache; choose another output folder")
        old = target.with_name(f".{target.name}.old-{uuid.uuid4().hex[:8]}")
        os.replace(target, old)
        shutil.rmtree(old, ignore_errors=True)
    target.parent.mkdir(parents=True, exist_ok=True)
    os.replace(root, target)
    if root != staging:
        shutil.rmtree(staging, ignore_errors=True)
    return target


# --- verification ---------------------------------------------------------------------------------
def verify_cache(folder: str | os.PathLike, *, levels: Iterable[int] | None = None,
                 storage: str | None = None) -> CacheSummary:
    """Check a laid-out cache: ``conf.xml`` parses, the bundles' indexes read, the storage format is
    ``storage`` (``compactV1``/``compactV2``) and the tiles lie only at ``levels``; at least one tile."""
    folder = Path(folder)
    if not (folder / "conf.xml").is_file() and not is_cache_folder(folder):
        raise package_error(folder, "it has no conf.xml at its top")
    with open_package(folder) as pkg:
        if pkg.conf is None:
            raise package_error(folder, "its conf.xml is not a tile cache configuration")
        declared = storage_name(pkg.conf.storage_format)
        if declared != pkg.storage and pkg.storage in ("compactV1", "compactV2", "mixed"):
            raise package_error(folder, f"conf.xml says {declared} but the bundles are {pkg.storage}")
        if storage and declared != storage:
            raise package_error(folder, f"it is a {declared} cache, not the {storage} cache that was asked for")
        table = {level: info.tiles for level, info in pkg.levels_info().items()}
        if not table:
            raise package_error(folder, "it holds no tiles")
        if levels is not None:
            wanted = {int(lv) for lv in levels}
            extra = sorted(set(table) - wanted)
            if extra:
                raise package_error(folder, f"it holds level(s) {extra} that were not asked for")
            known = set(pkg.scheme.levels)
            missing = sorted(wanted - known)
            if missing:
                raise package_error(folder, f"its conf.xml lacks the requested level(s) {missing}")
        return CacheSummary(str(folder), declared, table, len(pkg._bundles), pkg.data_extent())


# --- writing bundles ------------------------------------------------------------------------------
def bundle_stem(row0: int, col0: int) -> str:
    return f"R{row0:04x}C{col0:04x}"


class _BundleWriter:
    """Writes one bundle record by record (constant memory), the index when closed."""

    def __init__(self, path: Path, v1: bool) -> None:
        self.path, self.v1 = path, v1
        self.handle = open(path, "wb")  # noqa: SIM115 - closed by close()/abort()
        self.pos = V1_PLACEHOLDERS if v1 else V2_FIXED
        self.handle.write(bytes(self.pos))
        self.offsets = array("Q", bytes(8 * SLOTS))
        self.biggest = self.count = 0

    def add(self, row: int, col: int, data: bytes) -> None:
        n = len(data)
        if n == 0:
            return
        if n > _MAX_V2_TILE or self.pos + 4 + n > _MAX_OFFSET:
            raise package_error(self.path.name, f"tile ({row}, {col}) does not fit into a bundle")
        slot = PACKET * (col % PACKET) + row % PACKET if self.v1 else PACKET * (row % PACKET) + col % PACKET
        if self.offsets[slot]:
            return  # already written by an earlier part: the first copy wins
        self.handle.write(struct.pack("<I", n))
        self.handle.write(data)
        # V1 offsets point at the length prefix, V2 offsets at the first data byte (and carry the size)
        self.offsets[slot] = self.pos if self.v1 else (self.pos + 4) | (n << 40)
        self.pos += 4 + n
        self.biggest = max(self.biggest, n)
        self.count += 1

    def close(self) -> None:
        handle = self.handle
        handle.seek(0)
        if self.v1:
            handle.write(struct.pack("<15I", 3, SLOTS, self.biggest, 5, 4 * self.count, 0, self.pos & 0xFFFFFFFF,
                                     0, 40, 0, 16, 0, 127, 0, 127))
            handle.close()
            offsets = [o if o else V1_HEADER + 4 * i for i, o in enumerate(self.offsets)]
            bundlx = b"".join([struct.pack("<4I", 3, 16, SLOTS, 5),
                               b"".join(o.to_bytes(5, "little") for o in offsets),
                               struct.pack("<4I", 0, 16, 16, 0)])
            self.path.with_suffix(".bundlx").write_bytes(bundlx)
            return
        # the documented header values (GDAL ≤ 3.12 reads record count 16384 only)
        handle.write(struct.pack("<4I3Q6I", 3, SLOTS, self.biggest, 5, 0, self.pos, 40, 20 + V2_INDEX,
                                 3, 16, SLOTS, 5, V2_INDEX))
        index = array("Q", self.offsets)
        if struct.pack("=H", 1) != struct.pack("<H", 1):  # pragma: no cover - big-endian hosts
            index.byteswap()
        handle.write(index.tobytes())
        handle.close()

    def abort(self) -> None:
        with contextlib.suppress(OSError):
            self.handle.close()


# --- merging --------------------------------------------------------------------------------------
def merge_caches(srcs: Iterable[str | os.PathLike], dst: str | os.PathLike, *,
                 progress: Progress | None = None,
                 extent: tuple[float, float, float, float] | None = None) -> CacheSummary:
    """Merge the cache folders ``srcs`` (parts of one split export) into the cache folder ``dst``.

    Tile by tile, bundle by bundle: where parts hold the same tile the first part's copy is kept
    (split parts overlap only at their shared edges, where both hold the same server tile).  The
    storage format and ``conf.xml`` come from the first part; ``conf.cdi`` is the union of the
    parts' extents, clipped to ``extent`` (xmin, ymin, xmax, ymax: the export's area) when given —
    parts of a split level are boxes of whole tiles that reach beyond the area.  Written into a
    hidden staging folder beside ``dst`` and moved into place at the end.
    """
    paths = [Path(p) for p in srcs]
    if not paths:
        raise package_error(dst, "there is no cache to merge")
    dst = Path(dst)
    pkgs = [open_package(p) for p in paths]
    staging = dst.with_name(f".{dst.name}.partial-{uuid.uuid4().hex[:8]}")
    try:
        first = pkgs[0]
        if first.conf is None:
            raise package_error(paths[0], "it is not a tile cache folder")
        v1 = storage_name(first.conf.storage_format) == "compactV1"
        for path, pkg in zip(paths[1:], pkgs[1:]):
            if pkg.conf is None or storage_name(pkg.conf.storage_format) != storage_name(first.conf.storage_format):
                raise package_error(path, "its storage format differs from the first part's; only parts of "
                                    "one export can be merged")
            if not _same_grid(pkg.scheme, first.scheme):
                raise package_error(path, "its tiling scheme differs from the first part's")
        # parts may list LODs only down to their own deepest level: keep the longest list
        conf_src = max(zip(paths, pkgs), key=lambda pp: len(pp[1].scheme.lods))[0]
        keys = sorted({key for pkg in pkgs for key in pkg._bundles})
        total = sum(sum(info.tiles for info in pkg.levels_info().values()) for pkg in pkgs)
        staging.mkdir(parents=True)
        check_free_space(staging, sum(_folder_bytes(p) for p in paths))
        done = 0
        for level, row0, col0 in keys:
            folder = staging / "_alllayers" / f"L{level:02d}"
            folder.mkdir(parents=True, exist_ok=True)
            writer = _BundleWriter(folder / f"{bundle_stem(row0, col0)}.bundle", v1)
            try:
                for pkg in pkgs:
                    if (level, row0, col0) not in pkg._bundles:
                        continue
                    index = pkg._index((level, row0, col0))
                    for row, col, data in index.iter_tiles():
                        writer.add(row, col, bytes(data))
                        done += 1
                writer.close()
            except BaseException:
                writer.abort()
                raise
            if progress is not None and progress(done, total) is False:
                raise CancelledError(details="merging the tile caches was cancelled")
        for name in ("conf.xml", "conf.properties"):
            source = _member(conf_src, name)
            if source is not None:
                shutil.copyfile(source, staging / name)
        extents = [e for e in (pkg.data_extent() for pkg in pkgs) if e is not None]
        if extents:
            (staging / "conf.cdi").write_text(_conf_cdi(extents, paths[0], extent), encoding="utf-8")
    except OSError as exc:
        shutil.rmtree(staging, ignore_errors=True)
        raise DiskError(reason=f"merging into {dst.name} failed: {exc.strerror or exc}") from None
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    finally:
        for pkg in pkgs:
            pkg.close()
    lay_out_cache(staging, dst)
    return verify_cache(dst)


def _member(folder: Path, name: str) -> Path | None:
    """``folder/name`` in any case (caches written on Windows say ``Conf.xml``)."""
    try:
        return next((folder / n for n in sorted(os.listdir(folder)) if n.lower() == name), None)
    except OSError:
        return None


def _same_grid(a, b) -> bool:
    """Same origin, tile size and resolutions at the levels both list."""
    if (a.origin_x, a.origin_y, a.tile_cols, a.tile_rows) != (b.origin_x, b.origin_y, b.tile_cols, b.tile_rows):
        return False
    common = set(a.levels) & set(b.levels)
    return all(abs(a.lod(lv).resolution - b.lod(lv).resolution) <= 1e-9 * a.lod(lv).resolution for lv in common)


def _folder_bytes(folder: Path) -> int:
    total = 0
    for current, _dirs, files in os.walk(folder):
        for name in files:
            with contextlib.suppress(OSError):
                total += os.stat(os.path.join(current, name)).st_size
    return total


def _conf_cdi(extents: list[Extent], first: Path, clip: tuple[float, float, float, float] | None) -> str:
    """conf.cdi of the union (within ``clip``); the spatial reference block is the first part's."""
    xmin = min(e.xmin for e in extents)
    ymin = min(e.ymin for e in extents)
    xmax = max(e.xmax for e in extents)
    ymax = max(e.ymax for e in extents)
    if clip is not None and clip[0] < xmax and clip[2] > xmin and clip[1] < ymax and clip[3] > ymin:
        xmin, ymin, xmax, ymax = max(xmin, clip[0]), max(ymin, clip[1]), min(xmax, clip[2]), min(ymax, clip[3])
    sr_block = ""
    cdi = _member(first, "conf.cdi")
    with contextlib.suppress(OSError, ValueError):
        text = cdi.read_text("utf-8") if cdi is not None else ""
        start, end = text.find("<SpatialReference"), text.rfind("</SpatialReference>")
        if 0 <= start < end:
            sr_block = text[start:end + len("</SpatialReference>")]
    return ('<?xml version="1.0" encoding="utf-8" ?>\n'
            '<EnvelopeN xsi:type="typens:EnvelopeN" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
            'xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:typens="http://www.esri.com/schemas/ArcGIS/10.0">'
            f"<XMin>{xmin!r}</XMin><YMin>{ymin!r}</YMin><XMax>{xmax!r}</XMax><YMax>{ymax!r}</YMax>"
            f"{sr_block}</EnvelopeN>\n")
