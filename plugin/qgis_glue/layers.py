"""How a tile package opens in the running QGIS: natively where it is reliable, else converted once.

The work is split for tasks::

    source = prepare_layer_source(path)      # any thread: reads, may convert, creates no layer
    layer = create_layer(source)             # main thread: the QgsMapLayer, styled, with metadata
    layer = open_package_layer(path)         # both at once, for scripts and tests

Decisions, by what the running versions read reliably:

* ``.vtpk`` → the ``vtpk`` vector tile source on QGIS ≥ 3.32 (3.26–3.30 drop tiles, qgis/QGIS#52872),
  in the package's own CRS, else converted to vector MBTiles — Web Mercator on the XYZ grid only:
  any other scheme is refused (:class:`NativeOnlyVectorPackageError`), since MBTiles holds nothing
  else and GeoPackage no vector tiles for QGIS.
* ``.tpkx`` → GDAL's ESRIC driver on GDAL ≥ 3.8 when GDAL opens it and its tiles are all decodable
  (Esri's own exports may hold PNGs without their signature, which only the conversion repairs),
  else converted to GeoPackage.
* ``.tpk`` (Compact V1: no reader in GDAL or QGIS), cache folders and tars → GeoPackage, any scheme.

A conversion is written once, next to the package (``<stem>.qgis.gpkg`` / ``.qgis.mbtiles``) or in
a cache folder, with a sidecar ``….json`` holding the package's size and mtime and the converter
version; it is reused until one of them changes.
"""
from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import logging
import os
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from qgis.core import (
    Qgis,
    QgsApplication,
    QgsBox3d,
    QgsCoordinateReferenceSystem,
    QgsDataSourceUri,
    QgsLayerMetadata,
    QgsMapLayer,
    QgsRasterLayer,
    QgsRectangle,
    QgsVectorTileLayer,
)

from ..core.errors import QT_TRANSLATE_NOOP, ArcGISOfflineTilesError, CancelledError, DiskError, PackageError
from ..core.packages import convert_package, open_package
from ..core.packages.convert import mbtiles_zooms
from ..core.packages.schemes import is_web_mercator
from ..core.tiling import SpatialRef
from . import settings
from .crs import qgs_crs
from .i18n import translator
from .layer_definition import write_layer_definition
from .style import StyleResources, apply_raster_defaults, apply_vector_style, read_style_resources

log = logging.getLogger(__name__)

CONVERTED_TAG = ".qgis"  # <stem>.qgis.gpkg / <stem>.qgis.mbtiles
SIDECAR_SUFFIX = ".json"
PROFILE_CACHE = ("arcgis_offline_tiles", "converted")
PROPERTY_PREFIX = "arcgis_offline_tiles/"
SOURCE_PROPERTY = PROPERTY_PREFIX + "source_package"
NATIVE_VTPK_QGIS = 33200  # qgis/QGIS#52872: the vtpk source of 3.26–3.30 drops tiles
NATIVE_TPKX_GDAL = 3080000  # GDAL ESRIC reads .tpkx from 3.8
GENERIC_TITLES = ("", "map", "layers", "conf", "root", "p12")
# Modules whose code decides the converted bytes: a change to any of them invalidates conversions.
_CONVERTER_MODULES = ("convert.py", "sinks.py", "formats.py", "bundles.py", "reader.py", "_sources.py",
                      "schemes.py", "mvt.py", "style_export.py", "overzoom.py", "standins.py")
_SNIFF_SAMPLE = 4  # tiles per level checked for formats GDAL cannot decode

Progress = Callable[[float, str], None]
Cancel = Callable[[], bool]


tr = translator("layers")  # module strings: pylupdate files them under @default


class ConversionNeededError(PackageError):
    """Raised by :func:`create_layer` when a native source turned out unusable."""


class NativeOnlyVectorPackageError(PackageError):
    """A vector package off the Web Mercator XYZ grid where QGIS cannot open it natively: no
    conversion could hold it (MBTiles is Web Mercator only, GeoPackage has no vector tiles for QGIS)."""

    template = QT_TRANSLATE_NOOP(
        "errors", "The vector tile package {path} cannot be opened in QGIS {running}: its tiles are laid out "
        "in {crs}, not on the Web Mercator grid, so no conversion can hold them (MBTiles is Web Mercator only, "
        "GeoPackage has no vector tiles) and QGIS reads such packages only natively, from version 3.32 on. "
        "Open it in QGIS 3.32 or newer.")


NATIVE_ONLY_HERE = QT_TRANSLATE_NOOP(
    "errors", "The vector tile package {path} cannot be opened: its tiles are laid out in {crs}, not on the "
    "Web Mercator grid, so QGIS opens it only natively, from the zipped .vtpk file, and {reason}. Open the "
    "original .vtpk file as it was exported.")


@dataclass(frozen=True)
class LayerSource:
    """Everything :func:`create_layer` needs, as plain values (built in any thread)."""

    package: str  # the path that was opened
    kind: str  # package kind: vtpk | tpkx | tpk | cache
    vector: bool
    provider: str  # "vectortile" | "gdal"
    uri: str
    name: str
    native: bool
    converted: str = ""  # the converted file ("" when native)
    reused: bool = False  # an earlier conversion was reused
    crs_authid: str = ""
    crs_wkt: str = ""
    extent: tuple[float, float, float, float] | None = None  # data extent, in the layer CRS
    title: str = ""
    description: str = ""
    levels: tuple[int, ...] = ()
    tile_count: int = 0
    package_size: int = 0
    style: StyleResources | None = None
    seconds: float = 0.0
    warnings: tuple[str, ...] = field(default=())

    def crs(self) -> QgsCoordinateReferenceSystem:
        if self.crs_authid:
            crs = QgsCoordinateReferenceSystem(self.crs_authid)
            if crs.isValid():
                return crs
        return QgsCoordinateReferenceSystem.fromWkt(self.crs_wkt) if self.crs_wkt else QgsCoordinateReferenceSystem()


# -- versions --------------------------------------------------------------------------------------
def native_vtpk_supported() -> bool:
    return Qgis.QGIS_VERSION_INT >= NATIVE_VTPK_QGIS


def gdal_version() -> int:
    try:
        from osgeo import gdal
    except ImportError:  # pragma: no cover - QGIS always ships GDAL's bindings
        return 0
    return int(gdal.VersionInfo("VERSION_NUM"))


def native_tpkx_supported() -> bool:
    return gdal_version() >= NATIVE_TPKX_GDAL


@functools.lru_cache(maxsize=1)
def converter_version() -> str:
    """A fingerprint of the converter's code: conversions made by other code are not reused."""
    digest = hashlib.sha256()
    folder = Path(convert_package.__code__.co_filename).parent
    for name in _CONVERTER_MODULES:
        try:
            digest.update((folder / name).read_bytes())
        except OSError:
            digest.update(name.encode())
    return digest.hexdigest()[:16]


# -- names and places ------------------------------------------------------------------------------
def package_root(path: str | os.PathLike) -> Path:
    """The package a path stands for: a pointed ``conf.xml``/``root.json`` means its folder."""
    path = Path(path)
    if path.name.lower() in ("conf.xml", "root.json") and not path.is_dir():
        path = path.parent
        if path.name.lower() == "p12":
            path = path.parent
    return path


def _stem(root: Path) -> str:
    stem = root.name if root.is_dir() else root.stem
    return stem or "package"


def layer_name(pkg, root: Path) -> str:
    """The package title; a generic one ("Map", "Layers") gives way to its name, then the file stem."""
    for candidate in (pkg.title, pkg.name):
        if candidate and candidate.strip().lower() not in GENERIC_TITLES:
            return candidate.strip()
    return _stem(root)


def profile_cache_dir() -> Path:
    return Path(QgsApplication.qgisSettingsDirPath()).joinpath(*PROFILE_CACHE)


def _writable(folder: Path) -> bool:
    return folder.is_dir() and os.access(folder, os.W_OK)


def conversion_targets(path: str | os.PathLike, suffix: str, cache_dir: str | os.PathLike | None = None) -> list[Path]:
    """Where the conversion of ``path`` goes, best first: the given cache folder, else the plugin's
    cache folder setting, else beside the package (when writable), and the QGIS profile last."""
    root = package_root(path).resolve()
    stem = _stem(root)
    unique = f"{stem}-{hashlib.sha256(str(root).encode('utf-8')).hexdigest()[:8]}{CONVERTED_TAG}{suffix}"
    chosen = cache_dir or settings.cache_folder()
    targets = []
    if chosen:
        targets.append(Path(chosen) / unique)
    elif _writable(root.parent):
        beside = root.parent / f"{stem}{CONVERTED_TAG}{suffix}"
        # area.tpk and area.tpkx side by side must not take turns overwriting one conversion
        targets.append(beside if _converted_from(beside) in (None, str(root)) else root.parent / unique)
    fallback = profile_cache_dir() / unique
    if fallback not in targets:
        targets.append(fallback)
    return targets


def package_fingerprint(path: str | os.PathLike) -> dict:
    """Size and mtime of the package (for a folder: of every file in it, summed / latest)."""
    root = package_root(path).resolve()
    if root.is_dir():
        size = count = latest = 0
        for folder, _dirs, files in os.walk(root):
            for name in files:
                try:
                    st = os.stat(os.path.join(folder, name))
                except OSError:
                    continue
                size += st.st_size
                count += 1
                latest = max(latest, st.st_mtime_ns)
        return {"package": str(root), "size": size, "mtime_ns": latest, "files": count}
    st = root.stat()
    return {"package": str(root), "size": st.st_size, "mtime_ns": st.st_mtime_ns}


def _sidecar(target: Path) -> Path:
    return target.with_name(target.name + SIDECAR_SUFFIX)


def _converted_from(target: Path) -> str | None:
    """The package an existing conversion was made from (``None``: no readable sidecar)."""
    try:
        recorded = json.loads(_sidecar(target).read_text("utf-8"))
    except (OSError, ValueError):
        return None
    return recorded.get("package") if isinstance(recorded, dict) else None


def _reusable(target: Path, expected: dict) -> bool:
    try:
        recorded = json.loads(_sidecar(target).read_text("utf-8"))
        output_size = target.stat().st_size
    except (OSError, ValueError):
        return False
    if not isinstance(recorded, dict) or recorded.get("output_size") != output_size:
        return False
    return all(recorded.get(key) == value for key, value in expected.items())


def _write_sidecar(target: Path, record: dict) -> None:
    sidecar = _sidecar(target)
    fd, tmp = tempfile.mkstemp(prefix=sidecar.name, suffix=".part", dir=str(sidecar.parent))
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(record, handle, indent=1)
        os.replace(tmp, sidecar)
    except OSError:
        Path(tmp).unlink(missing_ok=True)
        raise


_locks_guard = threading.Lock()
_locks: dict[str, threading.Lock] = {}


def _lock_for(target: Path) -> threading.Lock:
    with _locks_guard:
        return _locks.setdefault(str(target), threading.Lock())


# -- preparing (any thread) ------------------------------------------------------------------------
def _uri(kind: str, path: Path) -> str:
    uri = QgsDataSourceUri()
    uri.setParam("type", kind)
    uri.setParam("url", str(path))
    return bytes(uri.encodedUri()).decode("utf-8")


def _crs_values(sr: SpatialRef) -> tuple[str, str]:
    try:
        crs = qgs_crs(sr)
    except ArcGISOfflineTilesError:
        log.warning("QGIS does not know the coordinate system %s; the layer takes the one GDAL reports",
                    sr.authid() or "of the package")
        return "", sr.wkt or ""
    return crs.authid(), crs.toWkt(QgsCoordinateReferenceSystem.WktVariant.WKT1_GDAL)


def _native_vtpk_usable(pkg, root: Path) -> bool:
    """QGIS' vtpk source needs a zipped package with a pbf format and a packet size in root.json."""
    if root.is_dir() or root.suffix.lower() != ".vtpk" or pkg.container != "zip":
        return False
    doc = pkg.root_json or {}
    tile_info = doc.get("tileInfo") if isinstance(doc.get("tileInfo"), dict) else {}
    storage = (((doc.get("resourceInfo") or {}).get("cacheInfo") or {}).get("storageInfo") or {}) \
        if isinstance(doc.get("resourceInfo"), dict) else {}
    return str(tile_info.get("format", "")).lower() == "pbf" and bool(storage.get("packetSize"))


def _native_tpkx_usable(pkg, root: Path) -> bool:
    if root.is_dir() or root.suffix.lower() != ".tpkx" or pkg.kind != "tpkx" or pkg.container != "zip":
        return False
    formats: dict[str, int] = {}
    for level in pkg.levels:
        for kind, count in pkg.sniff_formats(level, sample=_SNIFF_SAMPLE).items():
            formats[kind] = formats.get(kind, 0) + count
    if "png-headless" in formats:  # only the conversion repairs them (formats.repair_png)
        log.info("%s holds PNG tiles without their signature, which GDAL cannot decode; converting it "
                 "instead of opening it natively", root.name)
        return False
    return _gdal_opens(root)


def _gdal_opens(path: Path) -> bool:
    from osgeo import gdal

    manager = getattr(gdal, "ExceptionMgr", None)  # GDAL 3.7+: exceptions here only, no global switch
    try:
        with manager(useExceptions=True) if manager is not None else contextlib.nullcontext():
            dataset = gdal.OpenEx(str(path), gdal.OF_RASTER | gdal.OF_READONLY, allowed_drivers=["ESRIC"])
    except RuntimeError as exc:
        log.info("GDAL cannot open %s natively (%s)", path.name, exc)
        return False
    ok = dataset is not None and dataset.RasterCount >= 3
    dataset = None
    return ok


def prepare_layer_source(path: str | os.PathLike, cache_dir: str | os.PathLike | None = None,
                         progress: Progress | None = None, cancel: Cancel | None = None, *,
                         native: bool | None = None) -> LayerSource:
    """Decide how ``path`` opens and do the heavy part (reading, converting); no QgsMapLayer here.

    ``progress(fraction, message)`` may raise :class:`CancelledError` to cancel; ``cancel()`` returning
    True does the same.  ``native=False`` forces the conversion (``None``: by the running versions).
    Raises :class:`PackageError`, :class:`DiskError` or :class:`CancelledError`.
    """
    started = time.perf_counter()
    src = Path(path)

    def step(fraction: float, message: str) -> None:
        if cancel is not None and cancel():
            raise CancelledError(QT_TRANSLATE_NOOP("errors", "Opening the package was cancelled."))
        if progress is not None:
            progress(fraction, message)

    step(0.0, tr("Reading {name}").format(name=src.name))
    common, use_native, convertible = _read_package(src, native)
    if not use_native and not convertible:
        raise _native_only(common, native)
    if use_native:
        root = package_root(src)
        provider = "vectortile" if common["vector"] else "gdal"
        uri = _uri("vtpk", root) if common["vector"] else str(root)
        return LayerSource(provider=provider, uri=uri, native=True,
                           seconds=time.perf_counter() - started, **common)

    fmt, suffix = ("mbtiles", ".mbtiles") if common["vector"] else ("gpkg", ".gpkg")
    step(0.05, tr("Converting {name}").format(name=src.name))
    fingerprint = dict(package_fingerprint(src), converter=converter_version(), format=fmt)
    target, reused, warnings = _convert_once(src, fmt, conversion_targets(src, suffix, cache_dir), fingerprint,
                                             common["crs_wkt"], step)
    step(1.0, tr("Opening {name}").format(name=target.name))
    return converted_source(common, target, reused=reused, seconds=time.perf_counter() - started,
                            warnings=tuple(warnings))


def _native_only(facts: dict, native: bool | None) -> PackageError:
    """Why a vector package off the XYZ grid does not open here, and where it does."""
    crs = facts["crs_authid"] or tr("a custom coordinate system")
    if not native_vtpk_supported():
        return NativeOnlyVectorPackageError(path=facts["package"], crs=crs,
                                            running=Qgis.QGIS_VERSION.split("-", 1)[0])
    reason = (tr("QGIS could not open it natively") if native is False else
              tr("this one is not a zipped .vtpk whose p12/root.json gives the pbf format and packet size"))
    return PackageError(NATIVE_ONLY_HERE, path=facts["package"], crs=crs, reason=reason)


def _read_package(src: Path, native: bool | None = False) -> tuple[dict, bool, bool]:
    """The facts a LayerSource needs, whether the running QGIS/GDAL should open it natively, and
    whether a conversion QGIS reads can hold it (vector tiles: only Web Mercator on the XYZ grid)."""
    if not src.exists():
        raise PackageError(path=str(src), reason="the file does not exist")
    root = package_root(src)
    with open_package(src) as pkg:
        facts = {
            "package": str(src), "kind": pkg.kind, "vector": pkg.is_vector, "name": layer_name(pkg, root),
            "title": pkg.title, "description": pkg.description, "levels": tuple(pkg.levels),
            "tile_count": pkg.tile_count, "package_size": package_fingerprint(src)["size"],
        }
        if not facts["levels"]:
            raise PackageError(path=str(src), reason=f"it holds no tiles: {pkg.empty_reason()}")
        sr = pkg.scheme.spatial_ref
        extent = pkg.data_extent()
        facts["style"] = read_style_resources(pkg) if pkg.is_vector else None
        use_native = native is not False and (
            (pkg.is_vector and native_vtpk_supported() and _native_vtpk_usable(pkg, root))
            or (not pkg.is_vector and native_tpkx_supported() and _native_tpkx_usable(pkg, root)))
        convertible = not pkg.is_vector or mbtiles_zooms(pkg) is not None
    facts["extent"] = None if extent is None else (extent.xmin, extent.ymin, extent.xmax, extent.ymax)
    # vector MBTiles and Web Mercator vtpks are EPSG:3857 to QGIS whatever alias the package names
    web_mercator = facts["vector"] and is_web_mercator(sr)
    facts["crs_authid"], facts["crs_wkt"] = ("EPSG:3857", "") if web_mercator else _crs_values(sr)
    return facts, use_native, convertible


def describe_package(path: str | os.PathLike) -> dict:
    """The facts about a package that :func:`converted_source` needs (any thread)."""
    return _read_package(Path(path))[0]


def converted_source(facts: dict, output: str | os.PathLike, **extra) -> LayerSource:
    """A LayerSource for a converted file (``.mbtiles`` vector or ``.gpkg``/``.mbtiles`` raster)."""
    output = Path(output)
    if facts["vector"]:
        provider, uri = "vectortile", _uri("mbtiles", output)
    else:
        provider, uri = "gdal", str(output)
    return LayerSource(**dict(facts, provider=provider, uri=uri, native=False, converted=str(output), **extra))


def merged_source(packages: list[str | os.PathLike], merged: str | os.PathLike,
                  tile_count: int | None = None) -> LayerSource:
    """A LayerSource for the file that merged ``packages`` (split exports): named and styled like
    the first package, with the union of their extents and levels (any thread)."""
    facts = [describe_package(p) for p in packages]
    extents = [f["extent"] for f in facts if f.get("extent")]
    extent = (min(e[0] for e in extents), min(e[1] for e in extents), max(e[2] for e in extents),
              max(e[3] for e in extents)) if extents else None
    levels = tuple(sorted({level for f in facts for level in f["levels"]}))
    tiles = tile_count if tile_count is not None else sum(f["tile_count"] for f in facts)
    return converted_source(facts[0], merged, package=str(merged), extent=extent, levels=levels,
                            tile_count=tiles, package_size=Path(merged).stat().st_size)


def _convert_once(src: Path, fmt: str, targets: list[Path], fingerprint: dict, crs_wkt: str,
                  step: Callable[[float, str], None]) -> tuple[Path, bool, list[str]]:
    """Place by place (best first): reuse a valid earlier conversion there, else convert into it;
    only when writing fails does the next place get its turn."""
    last_error: Exception | None = None
    for target in targets:
        with _lock_for(target):
            if _reusable(target, fingerprint):  # made earlier, or by another task just now
                log.info("Reusing %s for %s", target, src.name)
                return target, True, []

            def on_progress(done: int, total: int) -> None:
                step(0.05 + 0.9 * done / max(total, 1), tr("Converting {name}: {done} of {total} tiles").format(
                    name=src.name, done=done, total=total))

            try:
                target.parent.mkdir(parents=True, exist_ok=True)
                report = convert_package(src, target, fmt, progress=on_progress,
                                         crs_wkt=(crs_wkt or None) if fmt == "gpkg" else None)
                _write_sidecar(target, dict(fingerprint, output_size=target.stat().st_size,
                                            tiles=report.tiles_written, created=time.time()))
            except (DiskError, OSError) as exc:
                log.warning("Could not write the conversion of %s to %s (%s); trying the next place",
                            src.name, target, exc)
                last_error = exc
                continue
            for warning in report.warnings:
                log.warning("%s: %s", src.name, warning)
            return target, False, list(report.warnings)
    if isinstance(last_error, DiskError):
        raise last_error
    raise DiskError(reason=f"{targets[-1]}: {last_error}", details=repr(last_error))


# -- the layer (main thread) -----------------------------------------------------------------------
def create_layer(source: LayerSource) -> QgsMapLayer:
    """The styled QgsMapLayer for a prepared source; raises :class:`PackageError` if QGIS refuses it."""
    if source.vector:
        layer: QgsMapLayer = QgsVectorTileLayer(source.uri, source.name)
    else:
        layer = QgsRasterLayer(source.uri, source.name, "gdal")
    if not layer.isValid():
        error = layer.error().summary() if layer.error() else ""
        what = "it" if source.native else Path(source.converted).name
        reason = f"QGIS cannot open {what} ({error or 'invalid layer'})"
        if source.native:
            raise ConversionNeededError(path=source.package, reason=reason)
        raise PackageError(path=source.package, reason=reason)
    crs = source.crs()
    if crs.isValid() and layer.crs() != crs:
        layer.setCrs(crs)
    if source.vector:
        if source.native:
            level_scales_inclusive(layer)
        apply_vector_style(layer, source.style)
        if source.converted and source.style is not None:
            write_layer_definition(layer, source.converted)  # opens styled without the plugin too
    else:
        apply_raster_defaults(layer)
    layer.setMetadata(_metadata(source, layer.crs()))
    layer.setCustomProperty(SOURCE_PROPERTY, source.package)
    if source.converted:
        layer.setCustomProperty(PROPERTY_PREFIX + "converted", source.converted)
    return layer


# Esri's level scales are 2e-6 smaller than the scale QGIS computes for the level's resolution
# (level 0 of 512 px tiles: 295828763.80 against 78271.517 m/px × 96 dpi = 295829355.45), and the
# Esri zoom rule of QGIS's vtpk source floors: at a level's own resolution it would draw the level
# above, coarser (MapLibre and ArcGIS draw the level).  Level scales a little larger take it in.
LEVEL_SCALE_TOLERANCE = 1e-5
# a Qt dynamic property, not a custom property: it must not outlive the layer's tile matrix in a project
SCALES_WIDENED = "arcgisOfflineTilesScalesWidened"


def level_scales_inclusive(layer: QgsVectorTileLayer) -> int:
    """Make a native vtpk layer (QGIS >= 3.26: Esri scale-to-zoom rule) draw level N at level N's
    own scale; returns how many level scales changed (0 where the rule rounds, as for MBTiles)."""
    methods = getattr(Qgis, "ScaleToTileZoomLevelMethod", None)
    matrices = layer.tileMatrixSet() if hasattr(layer, "tileMatrixSet") else None
    if methods is None or matrices is None or matrices.scaleToTileZoomMethod() != methods.Esri:
        return 0
    if layer.property(SCALES_WIDENED):  # once per tile matrix: the plugin's opener, then layersAdded
        return 0
    layer.setProperty(SCALES_WIDENED, True)
    changed = 0
    for zoom in range(matrices.minimumZoom(), matrices.maximumZoom() + 1):
        matrix = matrices.tileMatrix(zoom)  # a copy; addMatrix replaces the level's matrix
        if matrix.zoomLevel() != zoom or matrix.scale() <= 0:
            continue
        matrix.setScale(matrix.scale() * (1 + LEVEL_SCALE_TOLERANCE))
        matrices.addMatrix(matrix)
        changed += 1
    return changed


def _metadata(source: LayerSource, crs: QgsCoordinateReferenceSystem) -> QgsLayerMetadata:
    metadata = QgsLayerMetadata()
    metadata.setIdentifier(source.package)
    metadata.setTitle(source.title or source.name)
    metadata.setType("dataset")
    levels = source.levels
    level_text = f"{levels[0]}–{levels[-1]}" if len(levels) > 1 else (str(levels[0]) if levels else "–")
    lines = [tr("Esri tile package {file} ({kind}), levels {levels}, {tiles} tiles.").format(
        file=Path(source.package).name, kind=source.kind, levels=level_text, tiles=source.tile_count)]
    if source.converted:
        lines.append(tr("Opened from its conversion {file}.").format(file=source.converted))
    if source.description:
        lines.append(source.description)
    metadata.setAbstract("\n\n".join(lines))
    metadata.setKeywords({"levels": [str(level) for level in levels], "tiles": [str(source.tile_count)]})
    metadata.setCrs(crs)
    if source.extent is not None:
        spatial = QgsLayerMetadata.SpatialExtent()
        spatial.extentCrs = crs
        spatial.bounds = QgsBox3d(QgsRectangle(*source.extent))
        extent = QgsLayerMetadata.Extent()
        extent.setSpatialExtents([spatial])
        metadata.setExtent(extent)
    return metadata


def open_package_layer(path: str | os.PathLike, cache_dir: str | os.PathLike | None = None,
                       progress: Progress | None = None, cancel: Cancel | None = None, *,
                       native: bool | None = None) -> QgsMapLayer:
    """Prepare and create in one go (main thread; for scripts and tests)."""
    source = prepare_layer_source(path, cache_dir, progress, cancel, native=native)
    try:
        return create_layer(source)
    except ConversionNeededError as exc:
        log.warning("%s; converting it instead", exc)
        return create_layer(prepare_layer_source(path, cache_dir, progress, cancel, native=False))


def human_size(size: int) -> str:
    value = float(size)
    for unit in ("bytes", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "bytes" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{size} bytes"  # pragma: no cover

