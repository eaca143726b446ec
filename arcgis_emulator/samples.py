"""Sample services of the emulator, built once from QGIS's ``world_map.gpkg`` into a tile cache.

``load_sample_services()`` returns ``{"World_Vector/VectorTileServer": SampleService, ...}``. The first
call on a machine generates the cache with QGIS (:mod:`arcgis_emulator.tilegen`, main thread only,
about half a minute); later calls only read small files. ``SampleService.get_tile`` is thread-safe and
needs no QGIS map rendering: deeper raster levels than the pre-rendered ones are cut from the nearest
rendered ancestor with ``QImage`` and cached on disk on first use.

Services:

* ``World_Vector/VectorTileServer`` — Web Mercator, 512 px, Esri vector LODs 0..6, gzip MVT written by
  ``QgsVectorTileWriter`` (layers ``countries`` [name, iso_a3, _symbol], ``states`` [name, admin] from
  level 3, ``disputed`` [name] from level 2, ``country_labels`` points [name, iso_a3] from the level
  where the label fits), Mapbox GL style, sprites (1x, 2x), glyphs ``fonts/Arial Regular/0-255.pbf``.
  Ocean-only tiles do not exist (``get_tile`` → None); ``tilemap`` describes exactly the tiles served.
  The cache is sparse like Esri's: a tile with at most :data:`LEAF_VERTICES` vertices is a leaf (no
  tiles under it; the tile map says ``1`` and clients over-zoom it), so exports are sparse too.
* ``World_Map/MapServer`` — Web Mercator, 256 px PNG32, LODs 0..10 (0..5 rendered).
* ``World_Imagery/ImageServer`` — Web Mercator, 256 px JPEG q75, LODs 0..10 (0..5 rendered).
* ``World_Geographic/MapServer`` — EPSG:4326, origin (-180, 90), 512 px PNG, L0 = 0.703125°/px,
  LODs 0..10 (0..4 rendered).
"""
from __future__ import annotations

import contextlib
import json
import logging
import math
import os
import shutil
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from . import writers

LOG = logging.getLogger(__name__)

GENERATOR_VERSION = "3"  # 3: the vector service is sparse (leaves over-zoomed, like Esri's caches)
MANIFEST = "manifest.json"

WEB_MERCATOR_SR = {"wkid": 102100, "latestWkid": 3857}
WGS84_SR = {"wkid": 4326, "latestWkid": 4326}
HALF = 20037508.342787

RASTER_RES0 = 156543.03392800014
RASTER_SCALE0 = 591657527.591555
VECTOR_RES0 = 78271.516964
VECTOR_SCALE0 = 295828763.7957775
GEO_RES0 = 0.703125
GEO_SCALE0 = 295829355.45456553

VECTOR_MAX_LEVEL = 6
RASTER_RENDERED = 5
RASTER_MAX_LEVEL = 10
GEO_RENDERED = 4
GEO_MAX_LEVEL = 10
FONT_STACK = "Arial Regular"
# Esri's indexed vector caches stop splitting a tile where it holds little data (the tile map then
# marks it as a leaf, which clients over-zoom); the emulator's rule: at most this many vertices.
LEAF_VERTICES = 500


def default_cache_dir() -> Path:
    """``$AOT_EMULATOR_CACHE`` or ``~/.cache/arcgis_offline_tiles/emulator/<GENERATOR_VERSION>``."""
    env = os.environ.get("AOT_EMULATOR_CACHE")
    if env:
        return Path(env).expanduser()
    return Path.home() / ".cache" / "arcgis_offline_tiles" / "emulator" / GENERATOR_VERSION


# --------------------------------------------------------------------------------------------------
# service definitions

@dataclass(frozen=True)
class _Def:
    name: str
    kind: str
    folder: str          # cache sub-folder
    fmt: str             # PNG32 | PNG | JPEG | pbf
    quality: int
    tile_size: int
    res0: float
    scale0: float
    origin: tuple[float, float]
    sr: dict
    max_level: int       # deepest LOD listed
    rendered: int        # deepest level generated up front
    world: tuple[float, float, float, float]
    style: str = "map"

    @property
    def key(self) -> str:
        return f"{self.name}/{self.kind}"

    @property
    def ext(self) -> str:
        return {"pbf": "pbf", "JPEG": "jpg"}.get(self.fmt, "png")

    def span(self, level: int) -> float:
        return self.res0 * self.tile_size / 2 ** level

    def grid(self, level: int) -> tuple[int, int]:
        span = self.span(level)
        cols = math.ceil((self.world[2] - self.origin[0]) / span - 1e-9)
        rows = math.ceil((self.origin[1] - self.world[1]) / span - 1e-9)
        return max(rows, 1), max(cols, 1)


MERCATOR_WORLD = (-HALF, -HALF, HALF, HALF)
DEFS = (
    _Def("World_Vector", "VectorTileServer", "World_Vector_VectorTileServer", "pbf", 0, 512, VECTOR_RES0,
         VECTOR_SCALE0, (-HALF, HALF), WEB_MERCATOR_SR, VECTOR_MAX_LEVEL, VECTOR_MAX_LEVEL, MERCATOR_WORLD),
    _Def("World_Map", "MapServer", "World_Map_MapServer", "PNG32", 0, 256, RASTER_RES0, RASTER_SCALE0,
         (-HALF, HALF), WEB_MERCATOR_SR, RASTER_MAX_LEVEL, RASTER_RENDERED, MERCATOR_WORLD, "map"),
    _Def("World_Imagery", "ImageServer", "World_Imagery_ImageServer", "JPEG", 75, 256, RASTER_RES0,
         RASTER_SCALE0, (-HALF, HALF), WEB_MERCATOR_SR, RASTER_MAX_LEVEL, RASTER_RENDERED, MERCATOR_WORLD,
         "imagery"),
    _Def("World_Geographic", "MapServer", "World_Geographic_MapServer", "PNG", 0, 512, GEO_RES0, GEO_SCALE0,
         (-180.0, 90.0), WGS84_SR, GEO_MAX_LEVEL, GEO_RENDERED, (-180.0, -90.0, 180.0, 90.0), "map"),
)


def _lods(d: _Def) -> list[dict]:
    return [{"level": z, "resolution": d.res0 / 2 ** z, "scale": d.scale0 / 2 ** z}
            for z in range(d.max_level + 1)]


def _envelope(xmin: float, ymin: float, xmax: float, ymax: float, sr: dict) -> dict:
    return {"xmin": xmin, "ymin": ymin, "xmax": xmax, "ymax": ymax, "spatialReference": dict(sr)}


def _document(d: _Def) -> dict:
    """The ``?f=json`` body of a service as an ArcGIS Server 11.1 would give it."""
    lods = _lods(d)
    tile_info = {
        "rows": d.tile_size, "cols": d.tile_size, "dpi": 96, "format": d.fmt,
        "compressionQuality": d.quality,
        "origin": {"x": d.origin[0], "y": d.origin[1]},
        "spatialReference": dict(d.sr), "lods": lods,
    }
    if d.sr is WGS84_SR:
        full = _envelope(-180.0, -90.0, 180.0, 90.0, d.sr)
        initial = _envelope(-180.0, -90.0, 180.0, 90.0, d.sr)
        units = "esriDecimalDegrees"
    else:
        full = _envelope(-HALF, -HALF, HALF, HALF, d.sr)
        initial = _envelope(-HALF, -HALF * 0.6, HALF, HALF * 0.8, d.sr)
        units = "esriMeters"
    common = {
        "currentVersion": 11.1,
        "serviceDescription": f"{d.name.replace('_', ' ')} sample service of the ArcGIS Offline Tiles emulator "
                              "(data: world_map.gpkg shipped with QGIS)",
        "copyrightText": "Natural Earth via QGIS world_map.gpkg",
        "spatialReference": dict(d.sr),
        "tileInfo": tile_info,
        "initialExtent": initial,
        "fullExtent": full,
        "minScale": lods[0]["scale"],
        "maxScale": lods[-1]["scale"],
        "minLOD": 0,
        "maxLOD": d.max_level,
        "exportTilesAllowed": True,
        "maxExportTilesCount": 100000,
        "units": units,
    }
    if d.kind == "VectorTileServer":
        tile_info.pop("compressionQuality")
        doc = {"currentVersion": 11.1, "name": d.name, "capabilities": "TilesOnly,Tilemap",
               "type": "indexedVector", "tileMap": "tilemap", "defaultStyles": "resources/styles",
               "tiles": ["tile/{z}/{y}/{x}.pbf"]}
        doc.update(common)
        doc.update({
            "maxzoom": d.max_level,
            "resourceInfo": {"styleVersion": 8, "tileCompression": "gzip",
                             "cacheInfo": {"storageInfo": {"packetSize": 128, "storageFormat": "compactV2"}}},
        })
        return doc
    storage = {"storageFormat": "esriMapCacheStorageModeCompactV2", "packetSize": 128}
    if d.kind == "ImageServer":
        doc = {"currentVersion": 11.1, "name": d.name, "description": common["serviceDescription"],
               "capabilities": "Catalog,Mensuration,Image,Metadata", "singleFusedMapCache": True,
               "cacheType": "Map", "serviceDataType": "esriImageServiceDataTypeRGB", "bandCount": 3,
               "pixelType": "U8", "pixelSizeX": lods[-1]["resolution"], "pixelSizeY": lods[-1]["resolution"],
               "extent": dict(full), "storageInfo": storage}
        doc.update(common)
        return doc
    doc = {"currentVersion": 11.1, "mapName": "Layers", "name": d.name, "description": "",
           "capabilities": "Map,Query,Data", "singleFusedMapCache": True, "supportsDynamicLayers": False,
           "layers": [
               {"id": 0, "name": "countries", "parentLayerId": -1, "defaultVisibility": True,
                "subLayerIds": None, "minScale": 0, "maxScale": 0, "type": "Feature Layer",
                "geometryType": "esriGeometryPolygon"},
               {"id": 1, "name": "states_provinces", "parentLayerId": -1, "defaultVisibility": True,
                "subLayerIds": None, "minScale": 40000000, "maxScale": 0, "type": "Feature Layer",
                "geometryType": "esriGeometryPolygon"},
               {"id": 2, "name": "disputed_borders", "parentLayerId": -1, "defaultVisibility": True,
                "subLayerIds": None, "minScale": 0, "maxScale": 0, "type": "Feature Layer",
                "geometryType": "esriGeometryPolyline"}],
           "tables": [], "supportedImageFormatTypes": "PNG32,PNG24,PNG,JPG,DIB,TIFF,EMF,PS,PDF,GIF,SVG,SVGZ,BMP",
           "storageInfo": storage, "maxImageHeight": 4096, "maxImageWidth": 4096,
           "documentInfo": {"Title": d.name, "Author": "", "Comments": "", "Subject": "", "Category": "",
                            "Keywords": ""}}
    doc.update(common)
    return doc


def vector_style() -> dict:
    """The Mapbox GL v8 default style of ``World_Vector`` (Esri-like ids and ``_symbol`` filters)."""
    from .tilegen import COUNTRY_COLORS

    layers: list[dict] = [{"id": "background", "type": "background", "paint": {"background-color": "#aad3df"}}]
    for i, color in enumerate(COUNTRY_COLORS):
        layers.append({"id": f"countries/{i}", "type": "fill", "source": "esri", "source-layer": "countries",
                       "filter": ["==", "_symbol", i], "layout": {},
                       "paint": {"fill-color": color}})
    layers += [
        {"id": "states", "type": "line", "source": "esri", "source-layer": "states", "minzoom": 3,
         "layout": {"line-join": "round"}, "paint": {"line-color": "#b5a58f", "line-width": 0.6}},
        {"id": "countries/outline", "type": "line", "source": "esri", "source-layer": "countries",
         "layout": {"line-join": "round"}, "paint": {"line-color": "#7a6a5a", "line-width": 1}},
        {"id": "disputed", "type": "line", "source": "esri", "source-layer": "disputed",
         "layout": {}, "paint": {"line-color": "#9b3a3a", "line-width": 1.2, "line-dasharray": [4, 2]}},
        {"id": "country_labels", "type": "symbol", "source": "esri", "source-layer": "country_labels",
         "minzoom": 2,
         "layout": {"text-field": "{name}", "text-font": [FONT_STACK], "text-size": 12,
                    "text-max-width": 8, "symbol-placement": "point"},
         "paint": {"text-color": "#3d3326", "text-halo-color": "#ffffff", "text-halo-width": 1.2}},
    ]
    return {"version": 8, "sprite": "../sprites/sprite", "glyphs": "../fonts/{fontstack}/{range}.pbf",
            "sources": {"esri": {"type": "vector", "url": "../../"}}, "layers": layers}


# --------------------------------------------------------------------------------------------------
# the service object

@dataclass
class SampleService:
    """One sample service: its ``?f=json`` document and its tiles (thread-safe :meth:`get_tile`)."""
    name: str
    kind: str
    document: dict
    resources: dict[str, bytes] = field(default_factory=dict)
    tilemap: dict | None = None
    tile_dir: Path | None = field(default=None, repr=False)
    _def: _Def | None = field(default=None, repr=False)

    @property
    def key(self) -> str:
        return f"{self.name}/{self.kind}"

    @property
    def tile_format(self) -> str:
        return self.document["tileInfo"]["format"]

    def get_tile(self, level: int, row: int, col: int) -> bytes | None:
        """Tile bytes (PNG/JPEG, or gzip MVT) or ``None`` when the service has no tile there."""
        d = self._def
        if d is None or self.tile_dir is None:
            return None
        level, row, col = int(level), int(row), int(col)
        if not 0 <= level <= d.max_level or row < 0 or col < 0:
            return None
        rows, cols = d.grid(level)
        if row >= rows or col >= cols:
            return None
        if level <= d.rendered:
            return _read(self.tile_dir / "tiles" / str(level) / str(row) / f"{col}.{d.ext}")
        if d.kind == "VectorTileServer":
            return None
        path = self.tile_dir / "derived" / str(level) / str(row) / f"{col}.{d.ext}"
        data = _read(path)
        if data is None:
            data = self._derive(level, row, col)
            if data is not None:
                with contextlib.suppress(OSError):        # a read-only cache still serves tiles
                    _write_atomic(path, data)
        return data

    def _derive(self, level: int, row: int, col: int) -> bytes | None:
        from qgis.PyQt.QtCore import Qt
        from qgis.PyQt.QtGui import QImage

        d = self._def
        factor = 2 ** (level - d.rendered)
        parent = _read(self.tile_dir / "tiles" / str(d.rendered) / str(row // factor) / f"{col // factor}.{d.ext}")
        if parent is None:
            return None
        image = QImage.fromData(parent)
        if image.isNull():
            return None
        ts = d.tile_size
        sub = ts / factor
        x, y = (col % factor) * sub, (row % factor) * sub
        w = max(1, round(x + sub) - int(x))
        h = max(1, round(y + sub) - int(y))
        piece = image.copy(int(x), int(y), w, h).scaled(ts, ts, Qt.AspectRatioMode.IgnoreAspectRatio,
                                                        Qt.TransformationMode.SmoothTransformation)
        return _encode(piece, "JPEG" if d.fmt == "JPEG" else "PNG", d.quality or 75)


def _encode(image, fmt: str, quality: int) -> bytes:
    from qgis.PyQt.QtCore import QBuffer, QByteArray, QIODevice
    from qgis.PyQt.QtGui import QImage

    data = QByteArray()
    buf = QBuffer(data)
    buf.open(QIODevice.OpenModeFlag.WriteOnly)
    if fmt == "JPEG":
        ok = image.convertToFormat(QImage.Format.Format_RGB32).save(buf, "JPG", quality)
    else:
        ok = image.convertToFormat(QImage.Format.Format_ARGB32).save(buf, "PNG", 80)
    buf.close()
    if not ok:
        raise RuntimeError(f"could not encode a {fmt} tile")
    return bytes(data)


def _read(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return None


def _write_atomic(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


# --------------------------------------------------------------------------------------------------
# cache building

def _manifest(root: Path) -> dict | None:
    try:
        manifest = json.loads((root / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return manifest if manifest.get("generator") == GENERATOR_VERSION else None


@contextlib.contextmanager
def _file_lock(path: Path):
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+b") as handle:
        try:
            import fcntl
        except ImportError:                                   # pragma: no cover - Windows
            import msvcrt

            handle.seek(0)
            while True:
                try:
                    msvcrt.locking(handle.fileno(), msvcrt.LK_LOCK, 1)
                    break
                except OSError:
                    time.sleep(0.5)
            try:
                yield
            finally:
                handle.seek(0)
                msvcrt.locking(handle.fileno(), msvcrt.LK_UNLCK, 1)
            return
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def _sparse(folder: Path, written: list[tuple[int, int, int]]) -> list[tuple[int, int, int]]:
    """Drop the tiles under every leaf (:data:`LEAF_VERTICES`), as an Esri sparse cache has none."""
    vertices = {}
    for z, r, c in written:
        vertices[(z, r, c)] = writers.mvt_vertex_count((folder / str(z) / str(r) / f"{c}.pbf").read_bytes())
    kept = writers.sparse_tile_set(vertices, LEAF_VERTICES)
    for z, r, c in written:
        if (z, r, c) not in kept:
            (folder / str(z) / str(r) / f"{c}.pbf").unlink()
    return sorted(kept)


def _build(root: Path) -> dict:
    """Generate every service into a temporary sibling folder, then rename it to ``root``."""
    from . import tilegen

    if threading.current_thread() is not threading.main_thread():
        raise RuntimeError("the emulator's sample tile cache must be generated on the main thread "
                           "(QGIS map rendering); call load_sample_services() there first")
    tilegen.ensure_qgis()
    started = time.monotonic()
    for stale in root.parent.glob(f".{root.name}.build-*"):      # left by a killed build (we hold the lock)
        shutil.rmtree(stale, ignore_errors=True)
    tmp = root.with_name(f".{root.name}.build-{os.getpid()}")
    tmp.mkdir(parents=True)
    seconds: dict[str, float] = {}
    cpu_seconds: dict[str, float] = {}
    cpu_started = time.process_time()
    services: dict[str, dict] = {}
    try:
        for d in DEFS:
            t0, c0 = time.monotonic(), time.process_time()
            base = tmp / d.folder
            if d.kind == "VectorTileServer":
                written = _sparse(base / "tiles", tilegen.write_vector_tiles(base / "tiles", d.max_level))
                counts: dict[int, int] = {}
                for z, _r, _c in written:
                    counts[z] = counts.get(z, 0) + 1
                (base / "tilemap.json").write_text(
                    json.dumps({"index": writers.tilemap_index(written)}, separators=(",", ":")), encoding="utf-8")
                res = base / "resources"
                _write_atomic(res / "styles" / "root.json", json.dumps(vector_style(), indent=1).encode())
                for ratio, suffix in ((1, ""), (2, "@2x")):
                    png, index = tilegen.sprite_sheet(ratio)
                    _write_atomic(res / "sprites" / f"sprite{suffix}.png", png)
                    _write_atomic(res / "sprites" / f"sprite{suffix}.json", json.dumps(index).encode())
                _write_atomic(res / "fonts" / FONT_STACK / "0-255.pbf", tilegen.glyph_range_pbf(FONT_STACK, 0, 255))
            else:
                scheme = tilegen.RasterScheme(
                    authid=f"EPSG:{d.sr['latestWkid']}", origin_x=d.origin[0], origin_y=d.origin[1], res0=d.res0,
                    tile_size=d.tile_size, world=d.world)
                counts = tilegen.render_raster_tiles(base / "tiles", scheme, d.style,
                                                     "JPEG" if d.fmt == "JPEG" else "PNG", d.quality, d.rendered)
            services[d.key] = {"levels": {str(k): v for k, v in sorted(counts.items())}}
            seconds[d.key] = round(time.monotonic() - t0, 2)
            cpu_seconds[d.key] = round(time.process_time() - c0, 2)
            LOG.info("emulator sample %s generated in %.1f s (%.1f s CPU)", d.key, seconds[d.key],
                     cpu_seconds[d.key])
        manifest = {"generator": GENERATOR_VERSION, "built": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                    "seconds": {**seconds, "total": round(time.monotonic() - started, 2)},
                    "cpu_seconds": {**cpu_seconds, "total": round(time.process_time() - cpu_started, 2)},
                    "services": services}
        (tmp / MANIFEST).write_text(json.dumps(manifest, indent=1), encoding="utf-8")
        if root.exists():                                   # stale or from another generator version
            old = root.with_name(f".{root.name}.old-{os.getpid()}")
            os.replace(root, old)
            shutil.rmtree(old, ignore_errors=True)
        os.replace(tmp, root)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return manifest


def ensure_cache(cache_dir: str | Path | None = None) -> tuple[Path, dict]:
    """Build the sample tile cache if needed (locked, atomic); returns its folder and manifest."""
    root = Path(cache_dir).expanduser() if cache_dir else default_cache_dir()
    manifest = _manifest(root)
    if manifest is not None:
        return root, manifest
    with _file_lock(root.with_name(root.name + ".lock")):
        manifest = _manifest(root)                         # built by another process meanwhile?
        if manifest is None:
            LOG.info("building the emulator sample tile cache in %s (first run)", root)
            manifest = _build(root)
    return root, manifest


def load_sample_services(cache_dir: str | Path | None = None) -> dict[str, SampleService]:
    """The sample services keyed ``"<name>/<kind>"``; generates the tile cache on the first call."""
    root, _manifest_ = ensure_cache(cache_dir)
    out: dict[str, SampleService] = {}
    for d in DEFS:
        base = root / d.folder
        resources: dict[str, bytes] = {}
        tilemap = None
        if d.kind == "VectorTileServer":
            res = base / "resources"
            for path in sorted(res.rglob("*")):
                if path.is_file():
                    resources[path.relative_to(res).as_posix()] = path.read_bytes()
            tilemap = json.loads((base / "tilemap.json").read_text(encoding="utf-8"))
        out[d.key] = SampleService(name=d.name, kind=d.kind, document=_document(d), resources=resources,
                                   tilemap=tilemap, tile_dir=base, _def=d)
    return out
