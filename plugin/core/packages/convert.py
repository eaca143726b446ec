"""Convert tile packages to MBTiles or GeoPackage, merge split exports, describe a package.

* :func:`convert_package` — one package → MBTiles (Web Mercator schemes on the XYZ grid, raster or
  vector) or GeoPackage tiles (any raster scheme: geographic, State Plane, non-halving levels).
* :func:`merge_packages` — several packages of the same scheme (the pieces of a split export) → one
  output; the first copy of a tile wins, later copies are counted as duplicates.
* :func:`package_info` — a JSON-serialisable description (the Processing ``packageinfo`` output).

Tile bytes are copied, never decoded.  The exceptions are exact: Esri's signature-less PNGs are
repaired (:func:`.formats.repair_png`), vector tiles that are zlib-wrapped or raw are re-gzipped
(QGIS draws gzip tiles only) and, only on request, paletted PNGs go through a caller-supplied
codec (``expand_palette`` with ``palette_expander`` or :func:`set_palette_expander`).  That is an
opt-in hook for other callers, unused by default and by the plugin: GDAL < 3.8 draws the PNG8 tiles
of an ESRIC cache wrong (reference §7.2), but the plugin never hands such a GDAL a cache — it
converts raster packages to GeoPackage, where GDAL expands paletted PNG tiles itself (§7.4), and
opens ``.tpkx`` through ESRIC only from GDAL 3.8, which expands them too (§7.1).

GDAL 3.6 and 512-pixel MBTiles (checked in tests/qgis/packages): the raster driver reads the tile
size from the tiles themselves (it decodes one tile of the deepest zoom), so 512-px tiles need no
metadata beyond the standard keys — no ``tilesize`` key is written, none is read.  What matters:
zoom = log2(world / (resolution · 512)) (so a 512-px LOD 0 is zoom 0), ``bounds`` right (GDAL clips
the raster to it and to the tiles of the deepest zoom), ``minzoom``/``maxzoom`` the zooms stored.
QGIS' own WMS-mbtiles provider assumes 256 px: the QGIS side should open raster MBTiles through GDAL.
"""
from __future__ import annotations

import heapq
import json
import logging
import math
import os
import time
from collections.abc import Iterable, Sequence
from contextlib import ExitStack
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable, Optional

from ..errors import CancelledError, DiskError, PackageError
from ..levels import format_levels
from . import formats
from ._sources import package_error
from .bundles import PACKET
from .mvt import MvtError, decode_layers, merge_vector_layers
from .reader import TilePackage, open_package, translating
from .schemes import is_web_mercator, scheme_to_dict, schemes_compatible, zoom_for_level
from .sinks import BUILTIN_WKT, GpkgLayout, GpkgSink, MBTilesSink, TileMatrix, TileSink, estimate_output
from .standins import (
    BACKGROUND_LIMIT,
    STAND_IN_LIMIT,
    BackgroundPlan,
    StandInPlan,
    fill_background,
    fill_sparse,
    plan_background,
)
from .standins import plan as plan_stand_ins
from .style_export import STYLE_METADATA_KEY, style_metadata_value, write_style_folder

log = logging.getLogger(__name__)

ProgressCallback = Callable[[int, int], Optional[bool]]
PaletteExpander = Callable[[bytes], bytes]
BATCH = 1000  # rows per executemany…
BATCH_BYTES = 32 * 1024 * 1024  # …or fewer when the tiles are big (bounded memory)
LAYER_SAMPLES = 4  # vector tiles decoded per level for MBTiles' vector_layers
EMPTY_LAYER_NAME = "background"  # the empty tiles' layer when no layer of the package is known
FORMATS = ("auto", "mbtiles", "gpkg")
# What the tile records of a package may add up to, against the package's size on disk (the archive
# file, or a folder's bundles).  Records are disjoint spans of the bundles, so a package whose index
# entries neither repeat nor overlap stays below 1 (the real packages measure 0.002-0.71; a stored
# zip, as Esri writes them, at most 1).  Above that only repeated records (many slots sharing one
# blank tile) or records compressed inside a re-zipped package can go; 8 leaves room for both,
# while an index whose entries overlap (a 77 KB .tpkx claiming 1 GB of tiles) is refused before a
# byte is written.  The allowance lets a small package share one blank record among all the slots
# of a bundle: 16384 slots × 4 KB.  The bound is on records copied from the package: tiles a
# conversion generates itself are not records and are bounded where they are made.
EXPANSION_RATIO = 8
EXPANSION_ALLOWANCE = 64 * 1024 * 1024
# A merge reading more than this lets the system drop each run of tiles from its page cache once
# copied (never read again): the cache holds a slice of the parts instead of all of them (a merge of
# gigabytes does not push the user's other files out of it), and the memory freed takes the output's
# pages.  At 10^6 tiles (1.8 GB of parts) the merge's kernel time fell from 3-4.8 s to 1.5-1.8 s in
# the merge bench; at 10^5 the hints cost more than they save.
RELEASE_READS_ABOVE = 256 * 1024 * 1024

_palette_expander: PaletteExpander | None = None


def set_palette_expander(expander: PaletteExpander | None) -> None:
    """Install the codec used by ``expand_palette=True`` (an opt-in hook: nothing installs one by default)."""
    global _palette_expander
    _palette_expander = expander


@dataclass
class ConversionReport:
    sources: list[str]
    output: str
    format: str  # mbtiles | gpkg
    tiles_read: int = 0
    tiles_written: int = 0
    per_level: dict[int, int] = field(default_factory=dict)  # source level → tiles written
    zooms: dict[int, int] = field(default_factory=dict)  # source level → output zoom level
    repaired_png: int = 0
    regzipped: int = 0
    palette_expanded: int = 0
    duplicates: int = 0
    skipped_out_of_grid: int = 0
    skipped_no_lod: int = 0
    bytes_read: int = 0
    bytes_written: int = 0  # tile bytes written
    file_size: int = 0
    seconds: float = 0.0
    # sparse vector packages (see .standins): tiles made for the places the tile map over-zooms
    stand_ins: int = 0
    stand_ins_per_level: dict[int, int] = field(default_factory=dict)
    stand_ins_empty: int = 0  # places left empty: the over-zoomed leaf has nothing there
    stand_in_seconds: float = 0.0
    # the empty tiles that make QGIS < 3.32 draw the style's background where no tile is (.standins)
    background_tiles: int = 0
    background_per_level: dict[int, int] = field(default_factory=dict)
    background_seconds: float = 0.0
    distinct_payloads: int = 0  # tile payloads stored (vector MBTiles store each distinct one once)
    warnings: list[str] = field(default_factory=list)
    style: str = ""  # a vector MBTiles' MapLibre style written beside it (style_export), or ""

    def to_dict(self) -> dict:
        out = asdict(self)
        out["per_level"] = {str(k): v for k, v in self.per_level.items()}
        out["zooms"] = {str(k): v for k, v in self.zooms.items()}
        out["stand_ins_per_level"] = {str(k): v for k, v in self.stand_ins_per_level.items()}
        out["background_per_level"] = {str(k): v for k, v in self.background_per_level.items()}
        return out


# -- planning ------------------------------------------------------------------------------------
def _check_fmt(fmt: str) -> str:
    fmt = (fmt or "auto").lower().lstrip(".")
    if fmt == "geopackage":
        fmt = "gpkg"
    if fmt not in FORMATS:
        raise ValueError(f"fmt must be one of {FORMATS}, not {fmt!r}")
    return fmt


def mbtiles_zooms(pkg: TilePackage) -> dict[int, int] | None:
    """Level → XYZ zoom for every level that has tiles, or ``None`` when MBTiles cannot hold them."""
    zooms = {}
    for level in pkg.levels:
        zoom = zoom_for_level(pkg.scheme, level)
        if zoom is None:
            return None
        zooms[level] = zoom
    if len(set(zooms.values())) != len(zooms):
        return None
    return zooms


def _resolve_format(pkgs: Sequence[TilePackage], fmt: str, dst: Path) -> str:
    vector = any(p.is_vector for p in pkgs)
    if vector and not all(p.is_vector for p in pkgs):
        raise package_error(pkgs[0].path, "vector and raster packages cannot be merged into one file")
    mbtiles_ok = all(mbtiles_zooms(p) is not None for p in pkgs)
    if vector and not mbtiles_ok:
        raise package_error(pkgs[0].path, "it holds vector tiles in a tiling scheme other than Web Mercator "
                            "on the XYZ grid: MBTiles needs Web Mercator and GeoPackage cannot hold vector "
                            "tiles for QGIS; open the .vtpk directly in QGIS 3.32 or newer")
    if fmt == "auto":
        suffix = dst.suffix.lower()
        fmt = "mbtiles" if suffix == ".mbtiles" else "gpkg" if suffix == ".gpkg" else (
            "mbtiles" if mbtiles_ok else "gpkg")
    if fmt == "mbtiles" and not mbtiles_ok:
        raise package_error(pkgs[0].path, "its tiling scheme is not Web Mercator on the standard XYZ grid, "
                            "so it cannot become MBTiles; convert it to GeoPackage instead")
    if fmt == "gpkg" and vector:
        raise package_error(pkgs[0].path, "GeoPackage cannot hold vector tiles for QGIS; convert to MBTiles")
    return fmt


def _check_same_scheme(pkgs: Sequence[TilePackage]) -> None:
    first = pkgs[0]
    for other in pkgs[1:]:
        why = schemes_compatible(first.scheme, other.scheme)
        if why is None:
            continue
        raise package_error(other.path, f"it cannot be merged with {first.path.name}: the tiling schemes "
                            f"differ ({why})")


def _check_copyable(pkgs: Sequence[TilePackage]) -> list[str]:
    """Refuse records that would expand past the bound, and packages without tiles (saying why).

    In a merge, a part without tiles is only a warning (returned): a split export's part may cover
    nothing but sea.  A conversion whose every package is empty is an error, never an empty file.
    """
    empty = []
    for pkg in pkgs:
        with translating(pkg.path):
            if not pkg.tile_count:
                empty.append(pkg)
                continue
            claimed, stored = pkg.tile_bytes, pkg.stored_bytes()
            if claimed > EXPANSION_RATIO * stored + EXPANSION_ALLOWANCE:
                repeated, overlapping = pkg.record_sharing()
                raise package_error(pkg.path, f"its bundle indexes claim {claimed / 1e6:.1f} MB of tiles from "
                                    f"{stored / 1e6:.1f} MB of package, more than {EXPANSION_RATIO} times its "
                                    f"size ({repeated} index entries repeat another record, {overlapping} overlap "
                                    "one); the package is damaged or was crafted to fill the disk" + (
                                        "" if pkg.container == "dir" else " (a genuine package you compressed "
                                        "yourself is measured by its files: unpack it and open the folder)"))
    with translating(pkgs[0].path):
        reasons = [(pkg, pkg.empty_reason()) for pkg in empty]
    if len(empty) == len(pkgs):
        raise package_error(empty[0].path, f"it holds no tiles: {reasons[0][1]}")
    return [f"{pkg.path.name} holds no tiles: {reason}" for pkg, reason in reasons]


def _progress(callback: ProgressCallback | None, done: int, total: int) -> None:
    if callback is None:
        return
    if callback(done, total) is False:
        raise CancelledError()


# -- the copy loop -------------------------------------------------------------------------------
class _Copier:
    def __init__(self, report: ConversionReport, sink: TileSink, progress: ProgressCallback | None,
                 total: int, *, vector: bool, expander: PaletteExpander | None, release: bool = False) -> None:
        self.report = report
        self.sink = sink
        self.progress = progress
        self.total = total
        self.vector = vector
        self.expander = expander
        self.release = release  # let the page cache drop what was copied (RELEASE_READS_ABOVE)
        self.done = 0

    def copy_level(self, pkg: TilePackage, level: int, zoom: int, max_row: int, max_col: int,
                   tms_top: int | None) -> None:
        """Copy the tiles of ``level`` as zoom ``zoom``; rows flip to TMS when ``tms_top`` is given.

        Tiles beyond ``max_row``/``max_col`` (outside the output's grid) are skipped and counted.
        """
        report, sink = self.report, self.sink
        headless_first = formats.HEADLESS_PNG[0]
        # a run needs a look at each tile only when some tile may need rewriting or skipping; none is
        # skipped when the level's tiles all lie in the grid (a GeoPackage's grid is made to hold every
        # tile, so its bundles at the edge of the data need no look either)
        plain = not self.vector and self.expander is None
        info = pkg.level_info(level)
        inside = info is not None and info.max_row <= max_row and info.max_col <= max_col
        batch: list[tuple] = []
        extend = batch.extend
        read = attempted = written = nbytes_in = nbytes_out = skipped = pending = 0
        for row0, col0, chunk, slots, offs, sizes in pkg.iter_level_runs(level, self.release):
            view = memoryview(chunk)
            read += len(slots)
            run_bytes = sum(sizes)
            nbytes_in += run_bytes
            if (plain and (inside or (row0 + PACKET - 1 <= max_row and col0 + PACKET - 1 <= max_col))
                    and headless_first not in map(chunk.__getitem__, offs)):
                if tms_top is None:
                    extend([(zoom, col0 + slot % PACKET, row0 + slot // PACKET, view[off:off + size])
                            for slot, off, size in zip(slots, offs, sizes)])
                else:
                    top = tms_top - row0
                    extend([(zoom, col0 + slot % PACKET, top - slot // PACKET, view[off:off + size])
                            for slot, off, size in zip(slots, offs, sizes)])
                nbytes_out += run_bytes
                pending += run_bytes
            else:
                rows, out, off_grid = self._one_by_one(zoom, max_row, max_col, tms_top, row0, col0, view, slots,
                                                       offs, sizes)
                extend(rows)
                nbytes_out += out
                pending += out
                skipped += off_grid
            if len(batch) >= BATCH or pending >= BATCH_BYTES:
                attempted += len(batch)
                written += sink.add(batch)
                batch.clear()
                pending = 0
                _progress(self.progress, self.done + read, self.total)
        if batch:
            attempted += len(batch)
            written += sink.add(batch)
            batch.clear()
        self.done += read
        report.tiles_read += read
        report.bytes_read += nbytes_in
        report.bytes_written += nbytes_out
        report.skipped_out_of_grid += skipped
        report.duplicates += attempted - written
        report.tiles_written += written
        report.per_level[level] = report.per_level.get(level, 0) + written
        _progress(self.progress, self.done, self.total)

    def _one_by_one(self, zoom: int, max_row: int, max_col: int, tms_top: int | None, row0: int, col0: int,
                    view: memoryview, slots: list[int], offs: list[int], sizes: list[int]) -> tuple[list, int, int]:
        """The rows of a run whose tiles need a look each: ``(rows, bytes out, tiles off the grid)``.

        Vector tiles not gzipped are re-gzipped, signature-less PNGs repaired, paletted PNGs expanded
        on request, tiles beyond ``max_row``/``max_col`` skipped.
        """
        report, expander, vector = self.report, self.expander, self.vector
        headless, gzip_magic = formats.HEADLESS_PNG, b"\x1f\x8b"
        rows = []
        out = off_grid = 0
        for slot, off, stored in zip(slots, offs, sizes):
            row, col = row0 + slot // PACKET, col0 + slot % PACKET
            if row > max_row or col > max_col:
                off_grid += 1
                continue
            data = view[off:off + stored]
            size = stored
            if vector:
                if data[:2] != gzip_magic:
                    data, rewritten = formats.ensure_gzip(bytes(data))
                    report.regzipped += rewritten
                    size = len(data)
            elif data[:4] == headless:
                fixed = formats.repair_png(bytes(data))
                if fixed is not None:
                    data = fixed
                    size = len(data)
                    report.repaired_png += 1
            if expander is not None and formats.png_color_type(bytes(data[:26])) == 3:
                data = expander(bytes(data))
                size = len(data)
                report.palette_expanded += 1
            rows.append((zoom, col, row if tms_top is None else tms_top - row, data))
            out += size
        return rows, out, off_grid


def _vector_layers(pkgs: Sequence[TilePackage], zooms: list[dict[int, int]]) -> list[dict]:
    """``vector_layers`` from the :data:`LAYER_SAMPLES` biggest tiles of each level (the likeliest to
    hold every layer; one tile per level can miss layers that only exist elsewhere)."""
    decoded = []
    for pkg, level_zoom in zip(pkgs, zooms):
        for level, zoom in level_zoom.items():
            sizes = [(size, row, col) for _lvl, row, col, size in pkg.iter_index(level)]
            for _size, row, col in heapq.nlargest(LAYER_SAMPLES, sizes):
                data = pkg.tile(level, row, col)
                try:
                    decoded.append((zoom, decode_layers(data or b"")))
                except MvtError as exc:
                    log.warning("%s: tile %s/%s/%s is not a readable vector tile (%s)", pkg.path, level, row,
                                col, exc)
    return merge_vector_layers(decoded)


def _mbtiles_metadata(pkgs: Sequence[TilePackage], zooms: list[dict[int, int]], fmt_name: str,
                      vector_layers: list[dict] | None) -> dict[str, str]:
    first = pkgs[0]
    all_zooms = [z for level_zoom in zooms for z in level_zoom.values()]
    minzoom, maxzoom = (min(all_zooms), max(all_zooms)) if all_zooms else (0, 0)
    bounds = None
    for pkg in pkgs:
        b = pkg.wgs84_bounds()
        if b is None:
            continue
        bounds = b if bounds is None else (min(bounds[0], b[0]), min(bounds[1], b[1]),
                                           max(bounds[2], b[2]), max(bounds[3], b[3]))
    bounds = bounds or (-180.0, -85.0511287798066, 180.0, 85.0511287798066)
    name = first.title if first.title not in ("", "Map", "Layers") else first.name
    meta = {
        "name": name,
        "format": fmt_name,
        "bounds": ",".join(f"{v:.10g}" for v in bounds),
        "center": f"{(bounds[0] + bounds[2]) / 2:.10g},{(bounds[1] + bounds[3]) / 2:.10g},{minzoom}",
        "minzoom": str(minzoom),
        "maxzoom": str(maxzoom),
        "type": "baselayer",
        "version": "1",
        "description": first.description or f"Converted from {first.path.name}",
    }
    if vector_layers is not None:
        meta["json"] = json.dumps({"vector_layers": vector_layers}, separators=(",", ":"))
    levels = sorted({lvl for level_zoom in zooms for lvl in level_zoom})
    meta.update({key.lower(): value for key, value in _package_description(pkgs, levels).items() if value})
    return meta


def _keep_style(pkg: TilePackage, dst: Path, sink, report: ConversionReport) -> None:
    """The package's MapLibre style beside the MBTiles, named in its metadata; a style that cannot be
    copied costs the look, never the tiles (a warning)."""
    try:
        style = write_style_folder(pkg, dst)
    except (PackageError, OSError) as exc:
        report.warnings.append(f"{pkg.path.name}: its style was not kept beside the converted file ({exc})")
        return
    if style is not None:
        sink.metadata[STYLE_METADATA_KEY] = style_metadata_value(dst)
        report.style = str(style)


def _raster_format_name(pkgs: Sequence[TilePackage]) -> str:
    declared = {p.scheme.format.upper() for p in pkgs}
    if declared and all(d.startswith("JPEG") or d == "JPG" for d in declared):
        return "jpg"
    if declared & {"PNG", "PNG8", "PNG24", "PNG32", "MIXED", ""}:
        # MIXED or unknown: look at the bytes (GDAL decodes each tile by its own signature anyway)
        sniffed: dict[str, int] = {}
        for pkg in pkgs:
            for kind, n in pkg.sniff_formats(sample=4).items():
                sniffed[kind] = sniffed.get(kind, 0) + n
        if sniffed and set(sniffed) <= {"jpg"}:
            return "jpg"
        if "webp" in sniffed and len(sniffed) == 1:
            return "webp"
    return "png"


def _srs_for(pkg: TilePackage, crs_wkt: str | None) -> tuple[int, str, str, int, str]:
    """``(srs_id, srs_name, organization, organization_coordsys_id, definition)`` for gpkg_spatial_ref_sys."""
    sr = pkg.scheme.spatial_ref
    code = sr.code
    if code is not None:
        organization = "ESRI" if code > 32767 else "EPSG"
        srs_id, org_id = code, code
    else:
        organization, srs_id, org_id = "NONE", 99999, 99999
    definition = crs_wkt or BUILTIN_WKT.get(code or 0) or sr.wkt or "undefined"
    name = sr.authid() or "custom"
    if sr.wkt and '"' in sr.wkt:
        name = sr.wkt.split('"', 2)[1] or name
    return srs_id, name, organization, org_id, definition


def _gpkg_layout(pkgs: Sequence[TilePackage], table: str, crs_wkt: str | None) -> tuple[GpkgLayout, dict]:
    """The tile matrix set and matrices covering every tile of every package."""
    first = pkgs[0]
    scheme = first.scheme
    res: dict[int, float] = {}
    max_col: dict[int, int] = {}
    max_row: dict[int, int] = {}
    for pkg in pkgs:
        for level, info in pkg.levels_info().items():
            try:
                res[level] = pkg.scheme.lod(level).resolution
            except KeyError:
                continue
            max_col[level] = max(max_col.get(level, 0), info.max_col)
            max_row[level] = max(max_row.get(level, 0), info.max_row)
    if not res:
        raise package_error(first.path, "it has no tiles at the levels its tiling scheme defines")
    by_res = {}
    for level, r in res.items():
        twin = next((lvl for lvl, rr in by_res.items() if math.isclose(rr, r, rel_tol=1e-9)), None)
        if twin is not None:
            raise package_error(first.path, f"levels {twin} and {level} have the same resolution")
        by_res[level] = r
    cols, rows = scheme.tile_cols, scheme.tile_rows
    coarsest = max(res, key=res.__getitem__)
    w0, h0 = res[coarsest] * cols, res[coarsest] * rows
    need_w = max((max_col[lvl] + 1) * res[lvl] * cols for lvl in res)
    need_h = max((max_row[lvl] + 1) * res[lvl] * rows for lvl in res)
    box_w = math.ceil(need_w / w0 - 1e-9) * w0
    box_h = math.ceil(need_h / h0 - 1e-9) * h0
    matrices = []
    for level in sorted(res):
        w, h = res[level] * cols, res[level] * rows
        mw, mh = box_w / w, box_h / h
        matrices.append(TileMatrix(
            level,
            round(mw) if math.isclose(mw, round(mw), rel_tol=1e-9) else math.ceil(mw),
            round(mh) if math.isclose(mh, round(mh), rel_tol=1e-9) else math.ceil(mh),
            cols, rows, res[level], res[level]))
    min_x, max_y = scheme.origin_x, scheme.origin_y
    tms_box = (min_x, max_y - box_h, min_x + box_w, max_y)
    extent = None
    for pkg in pkgs:
        ext = pkg.data_extent()
        if ext is not None:
            extent = ext if extent is None else extent.union(ext)
    contents = tms_box if extent is None else _snap_to_pixels(
        (max(extent.xmin, tms_box[0]), max(extent.ymin, tms_box[1]),
         min(extent.xmax, tms_box[2]), min(extent.ymax, tms_box[3])), min_x, max_y, min(res.values()))
    if contents[0] >= contents[2] or contents[1] >= contents[3]:
        contents = tms_box
    srs_id, srs_name, org, org_id, definition = _srs_for(first, crs_wkt)
    layout = GpkgLayout(table=table, identifier=first.title or table, description=first.description,
                        srs_id=srs_id, srs_name=srs_name, organization=org, organization_coordsys_id=org_id,
                        definition=definition, tms_box=tms_box, contents_box=contents, matrices=matrices,
                        metadata=_package_description(pkgs, sorted(res)))
    return layout, {m.zoom_level: m for m in matrices}


def _package_description(pkgs: Sequence[TilePackage], levels: list[int]) -> dict[str, str]:
    """What describes the source packages, for the output's metadata (GDAL and QGIS show it)."""
    first = pkgs[0]
    extent = first.data_extent()
    return {
        "SOURCE_PACKAGES": ";".join(p.path.name for p in pkgs),
        "PACKAGE_NAME": first.name or "",
        "PACKAGE_TITLE": first.title or "",
        "PACKAGE_DESCRIPTION": first.description or "",
        "PACKAGE_KIND": first.kind,
        "TILE_FORMAT": first.declared_format or "",
        "ESRI_LEVELS": format_levels(levels),
        "EXTENT": "" if extent is None else ",".join(f"{v:.10g}" for v in (extent.xmin, extent.ymin,
                                                                               extent.xmax, extent.ymax)),
    }


def _table_name(pkg: TilePackage) -> str:
    base = "".join(ch if ch.isalnum() or ch == "_" else "_" for ch in (pkg.name or "tiles"))
    if not base or base[0].isdigit() or base.lower().startswith(("gpkg", "sqlite", "rtree")):
        base = f"tiles_{base}"
    return base[:60]


# -- public API ----------------------------------------------------------------------------------
def merge_packages(srcs: Iterable[str | os.PathLike], dst: str | os.PathLike, fmt: str = "auto", *,
                   progress: ProgressCallback | None = None, crs_wkt: str | None = None,
                   expand_palette: bool = False, palette_expander: PaletteExpander | None = None,
                   overwrite: bool = True, fsync: bool = True, stand_ins: bool = True,
                   stand_in_limit: int = STAND_IN_LIMIT, background_limit: int = BACKGROUND_LIMIT) -> ConversionReport:
    """Merge the tiles of several packages of one tiling scheme into one MBTiles or GeoPackage.

    ``fmt``: ``"auto"`` (from ``dst``'s suffix, else MBTiles when the scheme allows it, else
    GeoPackage), ``"mbtiles"`` or ``"gpkg"``.  ``progress(done, total)`` is called every batch;
    returning ``False`` (or raising :class:`CancelledError`) cancels: the partial output is removed
    and :class:`CancelledError` raised.  ``crs_wkt`` is the WKT the GeoPackage's CRS row gets (the QGIS
    side passes ``QgsCoordinateReferenceSystem(...).toWkt()``); without it the built-in WKT of
    EPSG:3857/4326 or the package's own WKT is used.  ``expand_palette`` sends paletted PNG tiles
    through ``palette_expander`` (or the one set with :func:`set_palette_expander`).

    Vector packages whose tile map over-zooms a tile into the levels under it (Esri's sparse caches)
    get stand-ins there (:mod:`.standins`, at most ``stand_in_limit``; ``stand_ins=False`` copies
    the stored tiles only); stored tiles are copied byte for byte either way.  Vector MBTiles also get
    an empty tile (stored once) at every other place of the data extent, from the first stored level
    to the deepest, at most ``background_limit``: QGIS before 3.32 draws the style's background only
    where a tile is.

    Raises :class:`PackageError` (unreadable input, schemes that differ, impossible format),
    :class:`DiskError` (output cannot be written) or :class:`CancelledError`.
    """
    started = time.perf_counter()
    paths = [Path(s) for s in srcs]
    dst = Path(dst)
    fmt = _check_fmt(fmt)
    _check_paths(paths, dst, overwrite)
    expander = _expander(expand_palette, palette_expander)
    with ExitStack() as stack:
        pkgs = []
        for path in paths:
            pkgs.append(stack.enter_context(open_package(path)))
            pkgs[-1].prefetch_indexes()  # fetched while the next package opens
        if pkgs[0].levels:  # the first tiles are fetched while the output is made
            pkgs[0].prefetch_level_start(pkgs[0].levels[0])
        _check_same_scheme(pkgs)
        empty_warnings = _check_copyable(pkgs)
        with translating(paths[0]):
            plan = _plan_merge(pkgs, fmt, dst, stand_ins, stand_in_limit, background_limit)
        report = ConversionReport(sources=[str(p) for p in paths], output=str(dst), format=plan.fmt,
                                  warnings=empty_warnings)
        report.warnings.extend(f"{pkg.path.name}: {pkg.duplicate_bundles} duplicate bundle file(s) ignored"
                               for pkg in pkgs if pkg.duplicate_bundles)
        try:
            dst.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise DiskError(reason=f"{dst.parent}: {exc.strerror or exc}") from exc
        _progress(progress, 0, plan.total)
        output = _open_output(pkgs, plan, dst, crs_wkt, fsync)
        sink = output.sink
        try:
            copier = _Copier(report, sink, progress, plan.total, vector=plan.vector, expander=expander,
                             release=plan.release_reads)
            _copy_stored(pkgs, output, copier)
            _write_generated(pkgs, plan, output, report, progress)
            if report.skipped_out_of_grid:
                report.warnings.append(f"{report.skipped_out_of_grid} tile(s) outside the output's grid were "
                                       "skipped")
            _check_written(report, plan.stored_total, paths[0])
            if plan.vector and plan.fmt == "mbtiles":
                _keep_style(pkgs[0], dst, sink, report)
            sink.finish()
        except BaseException:
            sink.abort()
            raise
    report.file_size = dst.stat().st_size
    report.seconds = time.perf_counter() - started
    if isinstance(sink, MBTilesSink) and sink.shared:
        report.distinct_payloads = sink.images
    log.info("converted %s → %s: %s tiles in %.2f s", ", ".join(p.name for p in paths), dst,
             report.tiles_written, report.seconds)
    return report


def _check_paths(paths: Sequence[Path], dst: Path, overwrite: bool) -> None:
    """Refuse a merge without packages, one that would write over one of its packages, or over a file
    the caller wants kept."""
    if not paths:
        raise ValueError("no package to convert")
    for path in paths:
        if path.exists() and dst.exists() and path.resolve() == dst.resolve():
            raise package_error(path, "it is also the output file")
    if dst.exists() and not overwrite:
        raise package_error(dst, "the output file already exists")


def _expander(expand_palette: bool, palette_expander: PaletteExpander | None) -> PaletteExpander | None:
    """The codec paletted PNG tiles go through, or ``None`` (the default: tiles are copied as stored)."""
    if not expand_palette:
        return None
    expander = palette_expander or _palette_expander
    if expander is None:
        raise ValueError("expand_palette needs a palette_expander (a PNG codec from the caller)")
    return expander


@dataclass
class _MergePlan:
    """What a merge writes, decided before the output file is created."""

    fmt: str  # mbtiles | gpkg
    vector: bool
    stored_total: int  # the tiles the packages store
    stand_ins_total: int  # …plus the stand-ins' bound
    total: int  # …plus the background's bound: what progress counts to
    expected_size: int  # the output's size from the copied records, for the free-space checks
    sparse: StandInPlan | None  # vector MBTiles: the stand-ins of a sparse package
    background: BackgroundPlan | None  # vector MBTiles: the empty tiles where no tile is
    release_reads: bool  # the parts are big enough to drop from the page cache as they are copied


def _plan_merge(pkgs: Sequence[TilePackage], fmt: str, dst: Path, stand_ins: bool, stand_in_limit: int,
                background_limit: int) -> _MergePlan:
    fmt = _resolve_format(pkgs, fmt, dst)
    vector = pkgs[0].is_vector
    stored_total = sum(p.tile_count for p in pkgs)
    # the copied records only: stand-ins are bounded by their own limit, and checked for space as
    # they are written (TileSink.add)
    tile_bytes = sum(p.tile_bytes for p in pkgs)
    expected_size = estimate_output(tile_bytes, stored_total)
    generated = stand_ins and fmt == "mbtiles" and vector
    sparse = plan_stand_ins(pkgs, stand_in_limit) if generated else None
    background = plan_background(pkgs, background_limit) if generated else None
    stand_ins_total = stored_total + (sparse.bound if sparse else 0)
    total = stand_ins_total + (background.bound if background else 0)
    return _MergePlan(fmt, vector, stored_total, stand_ins_total, total, expected_size, sparse, background,
                      tile_bytes > RELEASE_READS_ABOVE)


@dataclass
class _Output:
    """The sink a merge writes into, and where each package's levels go in it."""

    fmt: str  # mbtiles | gpkg
    sink: TileSink
    zooms: list[dict[int, int]]  # per package: level → output zoom (levels missing are skipped)
    matrices: dict[int, TileMatrix]  # GeoPackage: zoom → tile matrix (empty for MBTiles)
    layers: list[dict] | None  # vector MBTiles: the vector_layers of its metadata


def _open_output(pkgs: Sequence[TilePackage], plan: _MergePlan, dst: Path, crs_wkt: str | None,
                 fsync: bool) -> _Output:
    """Create the ``.part`` file of the MBTiles or GeoPackage (with the metadata known up front)."""
    if plan.fmt == "mbtiles":
        zooms = [mbtiles_zooms(p) or {} for p in pkgs]
        with translating(pkgs[0].path):
            layers = _vector_layers(pkgs, zooms) if plan.vector else None
            meta = _mbtiles_metadata(pkgs, zooms, "pbf" if plan.vector else _raster_format_name(pkgs), layers)
        sink = MBTilesSink(dst, fsync=fsync, shared_payloads=plan.vector, expected_size=plan.expected_size)
        sink.metadata.update(meta)
        return _Output(plan.fmt, sink, zooms, {}, layers)
    with translating(pkgs[0].path):
        layout, matrices = _gpkg_layout(pkgs, _table_name(pkgs[0]), crs_wkt)
    zooms = [{lvl: lvl for lvl in p.levels if lvl in matrices} for p in pkgs]
    sink = GpkgSink(dst, layout, fsync=fsync, expected_size=plan.expected_size)
    return _Output(plan.fmt, sink, zooms, matrices, None)


def _copy_stored(pkgs: Sequence[TilePackage], output: _Output, copier: _Copier) -> None:
    """Copy every stored tile, package after package (the first copy of a tile wins)."""
    report = copier.report
    for number, (pkg, level_zoom) in enumerate(zip(pkgs, output.zooms)):
        if number:
            output.sink.dedupe()
        if number + 1 < len(pkgs) and pkgs[number + 1].levels:  # the next part's first read need not wait
            pkgs[number + 1].prefetch_level_start(pkgs[number + 1].levels[0])
        for level in pkg.levels:
            zoom = level_zoom.get(level)
            if zoom is None:
                info = pkg.level_info(level)
                report.skipped_no_lod += info.tiles if info else 0
                copier.done += info.tiles if info else 0
                report.warnings.append(f"{pkg.path.name}: level {level} is not in the tiling scheme; "
                                       "its tiles were skipped")
                continue
            report.zooms[level] = zoom
            if output.fmt == "mbtiles":
                top = (1 << zoom) - 1
                copier.copy_level(pkg, level, zoom, top, top, top)
            else:
                m = output.matrices[level]
                copier.copy_level(pkg, level, zoom, m.matrix_height - 1, m.matrix_width - 1, None)


def _write_generated(pkgs: Sequence[TilePackage], plan: _MergePlan, output: _Output, report: ConversionReport,
                     progress: ProgressCallback | None) -> None:
    """After the stored tiles: the stand-ins and the background tiles a vector MBTiles gets."""
    sparse, background = plan.sparse, plan.background
    if sparse is not None and not sparse.leaves:
        report.warnings.extend(sparse.warnings)
    if sparse is not None and sparse.leaves:
        _write_stand_ins(pkgs, sparse, output.sink, report, progress, plan.stored_total, plan.total)
    if background is not None and background.deepest >= 0 and (report.tiles_written or report.stand_ins):
        _write_background(background, output.layers, output.sink, report, progress, plan.stand_ins_total,
                          plan.total)


def _check_written(report: ConversionReport, stored_total: int, first: Path) -> None:
    """An empty output is no success: say why none of the tiles could be written."""
    if report.tiles_written or report.stand_ins:
        return
    fates = {"are empty records": stored_total - report.tiles_read - report.skipped_no_lod,
             "are at levels its tiling scheme does not define": report.skipped_no_lod,
             "lie outside the output's tile grid": report.skipped_out_of_grid}
    why = ", ".join(f"{n} {fate}" for fate, n in fates.items() if n > 0)
    raise package_error(first, f"none of its {stored_total} tiles can be written ({why})")


def _write_stand_ins(pkgs: Sequence[TilePackage], sparse, sink: TileSink, report: ConversionReport,
                     progress: ProgressCallback | None, done: int, total: int) -> None:
    """After every stored tile: the stand-ins of the sparse places (real tiles win, see .standins)."""
    started = time.perf_counter()
    sink.dedupe()
    with translating(pkgs[0].path):
        result = fill_sparse(pkgs, sparse, sink.add,
                             lambda visited: _progress(progress, done + min(visited, total - done), total))
    report.stand_ins = result.written
    report.stand_ins_per_level = dict(sorted(result.per_level.items()))
    report.stand_ins_empty = result.empty
    report.warnings.extend(result.warnings)
    report.stand_in_seconds = time.perf_counter() - started
    _progress(progress, total, total)


def _write_background(background, layers: list[dict] | None, sink: TileSink, report: ConversionReport,
                      progress: ProgressCallback | None, done: int, total: int) -> None:
    """Last: an empty tile wherever the data extent has no tile yet (stored tiles and stand-ins win)."""
    started = time.perf_counter()
    sink.dedupe()
    name = next((layer.get("id") for layer in layers or () if isinstance(layer.get("id"), str) and layer["id"]),
                EMPTY_LAYER_NAME)
    result = fill_background(background, name, sink.add,
                             lambda visited: _progress(progress, done + min(visited, total - done), total))
    report.background_tiles = result.written
    report.background_per_level = dict(sorted(result.per_level.items()))
    report.warnings.extend(result.warnings)
    report.background_seconds = time.perf_counter() - started
    _progress(progress, total, total)


def _snap_to_pixels(box: tuple[float, float, float, float], origin_x: float, origin_y: float,
                    resolution: float) -> tuple[float, float, float, float]:
    """Grow ``box`` to whole pixels of the finest level: GDAL takes gpkg_contents as the raster's
    origin, and a box off the pixel grid shifts every tile by a fraction of a pixel."""
    eps = 1e-6

    def down(value: float) -> float:
        return math.floor(value / resolution + eps) * resolution

    def up(value: float) -> float:
        return math.ceil(value / resolution - eps) * resolution

    xmin, ymin, xmax, ymax = box
    return (origin_x + down(xmin - origin_x), origin_y - up(origin_y - ymin),
            origin_x + up(xmax - origin_x), origin_y - down(origin_y - ymax))


def convert_package(src: str | os.PathLike, dst: str | os.PathLike, fmt: str = "auto", *,
                    progress: ProgressCallback | None = None, crs_wkt: str | None = None,
                    expand_palette: bool = False, palette_expander: PaletteExpander | None = None,
                    overwrite: bool = True, fsync: bool = True, stand_ins: bool = True,
                    stand_in_limit: int = STAND_IN_LIMIT, background_limit: int = BACKGROUND_LIMIT) -> ConversionReport:
    """Convert one package to MBTiles or GeoPackage (see :func:`merge_packages` for the arguments)."""
    return merge_packages([src], dst, fmt, progress=progress, crs_wkt=crs_wkt, expand_palette=expand_palette,
                          palette_expander=palette_expander, overwrite=overwrite, fsync=fsync,
                          stand_ins=stand_ins, stand_in_limit=stand_in_limit, background_limit=background_limit)


def package_info(path: str | os.PathLike, *, sniff_sample: int | None = None) -> dict:
    """Describe a package as a JSON-serialisable dict (what the ``packageinfo`` algorithm writes).

    Tile formats are counted over every tile (the first 16 bytes of each are enough), so a mixed cache
    shows every PNG among its JPEGs; ``sniff_sample`` limits the count to that many tiles per level, and
    the JSON then says it is a sample (``format.counted``).
    """
    with open_package(path) as pkg, translating(path):
        levels = []
        for level, info in pkg.levels_info().items():
            entry = info.to_dict()
            entry["zoom"] = pkg.zoom_for_level(level)
            try:
                entry["resolution"] = pkg.scheme.lod(level).resolution
            except KeyError:
                entry["resolution"] = None
            entry["formats"] = pkg.sniff_formats(level, sample=sniff_sample)
            levels.append(entry)
        sniffed: dict[str, int] = {}
        for entry in levels:
            for kind, n in entry["formats"].items():
                sniffed[kind] = sniffed.get(kind, 0) + n
        extent = pkg.data_extent()
        mbtiles = mbtiles_zooms(pkg) is not None
        return {
            "path": str(pkg.path),
            "kind": pkg.kind,
            "container": pkg.container,
            "storage": pkg.storage,
            "title": pkg.title,
            "name": pkg.name,
            "description": pkg.description,
            "vector": pkg.is_vector,
            "scheme": scheme_to_dict(pkg.scheme),
            "web_mercator": is_web_mercator(pkg.scheme.spatial_ref),
            "levels": levels,
            "tile_count": pkg.tile_count,
            "extent": None if extent is None else {
                "xmin": extent.xmin, "ymin": extent.ymin, "xmax": extent.xmax, "ymax": extent.ymax,
                "crs": extent.spatial_ref.authid() or None},
            "wgs84_bounds": list(pkg.wgs84_bounds() or []) or None,
            "format": {"declared": pkg.declared_format, "sniffed": sniffed,
                       "counted": "every tile" if sniff_sample is None else "sample",
                       "sniffed_per_level": sniff_sample},
            "has_style": pkg.has_style,
            "has_tilemap": pkg.tilemap is not None,
            "resources": pkg.resources(),
            "convertible_to": (["mbtiles"] if mbtiles else []) + ([] if pkg.is_vector else ["gpkg"]),
        }
