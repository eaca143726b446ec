"""Esri tile package writers (pure Python, stdlib only).

Byte layouts follow ``docs/arcgis-export-reference.md`` §6 (shared reference):

* :func:`v2_bundle` — Compact Cache V2 ``.bundle`` (64-byte header with the *spec* values, 16384 × u64
  row-major index, 4-byte LE length prefix before each tile, index offsets point at the data).
* :func:`v1_bundle` — Compact Cache V1 ``.bundle`` + ``.bundlx`` (column-major 5-byte offsets).
* :func:`write_package` — ``.vtpk`` / ``.tpkx`` / ``.tpk`` zip files (entries STORED, like Esri's),
  member layout modelled on real Esri packages.
* :func:`write_cache_folder` — an exploded Compact V2 cache folder (``conf.xml``, ``conf.cdi``,
  ``_alllayers/Lxx/*.bundle``) as GDAL's ESRIC driver reads it.

Tiles are addressed Esri-style: ``(level, row, col)``, rows counting down from the tiling origin.
"""
from __future__ import annotations

import gzip
import json
import math
import struct
import tempfile
import time
import uuid
import zipfile
import zlib
from array import array
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

__all__ = [
    "PACKET_SIZE",
    "bundle_name",
    "cache_conf_xml",
    "envelope_to_wgs84",
    "mvt_layer_info",
    "tilemap_index",
    "v1_bundle",
    "v2_bundle",
    "write_cache_folder",
    "write_package",
]

PACKET_SIZE = 128
_SLOTS = PACKET_SIZE * PACKET_SIZE                # 16384
V2_HEADER_SIZE = 64
V2_INDEX_SIZE = _SLOTS * 8                        # 131072
V2_FIXED_SIZE = V2_HEADER_SIZE + V2_INDEX_SIZE    # 131136
V1_HEADER_SIZE = 60
V1_FIXED_SIZE = V1_HEADER_SIZE + _SLOTS * 4       # 65596
_MAX_V2_OFFSET = (1 << 40) - 1
_MAX_V2_TILE = (1 << 24) - 1

_WEB_MERCATOR_WKIDS = {102100, 102113, 900913, 3857, 3785}
_EARTH_RADIUS = 6378137.0

WKT_WEB_MERCATOR = (
    'PROJCS["WGS_1984_Web_Mercator_Auxiliary_Sphere",GEOGCS["GCS_WGS_1984",DATUM["D_WGS_1984",'
    'SPHEROID["WGS_1984",6378137.0,298.257223563]],PRIMEM["Greenwich",0.0],'
    'UNIT["Degree",0.0174532925199433]],PROJECTION["Mercator_Auxiliary_Sphere"],'
    'PARAMETER["False_Easting",0.0],PARAMETER["False_Northing",0.0],PARAMETER["Central_Meridian",0.0],'
    'PARAMETER["Standard_Parallel_1",0.0],PARAMETER["Auxiliary_Sphere_Type",0.0],UNIT["Meter",1.0],'
    'AUTHORITY["EPSG",3857]]'
)
WKT_WGS84 = (
    'GEOGCS["GCS_WGS_1984",DATUM["D_WGS_1984",SPHEROID["WGS_1984",6378137.0,298.257223563]],'
    'PRIMEM["Greenwich",0.0],UNIT["Degree",0.0174532925199433],AUTHORITY["EPSG",4326]]'
)


# --------------------------------------------------------------------------------------------------
# bundles

def bundle_name(row: int, col: int) -> str:
    """``R{row0:04x}C{col0:04x}`` of the 128×128 bundle holding tile (row, col), lowercase hex."""
    return f"R{row // PACKET_SIZE * PACKET_SIZE:04x}C{col // PACKET_SIZE * PACKET_SIZE:04x}"


def _check_one_bundle(tiles: dict[tuple[int, int], bytes]) -> None:
    blocks = {(r // PACKET_SIZE, c // PACKET_SIZE) for r, c in tiles}
    if len(blocks) > 1:
        raise ValueError(f"tiles span {len(blocks)} bundles; one bundle holds 128×128 tiles")
    for r, c in tiles:
        if r < 0 or c < 0:
            raise ValueError(f"negative tile address ({r}, {c})")


def _v2_parts(tiles: dict[tuple[int, int], bytes]) -> tuple[bytes, list[bytes], int]:
    """Header + index bytes, the record chunks and the total size of a V2 bundle."""
    _check_one_bundle(tiles)
    index = array("Q", bytes(V2_INDEX_SIZE))
    chunks: list[bytes] = []
    pos = V2_FIXED_SIZE
    biggest = 0
    pack_len = struct.Struct("<I").pack
    for (r, c) in sorted(tiles):
        data = tiles[(r, c)]
        n = len(data)
        if n == 0:
            continue                                # size 0 means "no tile" in the index
        if n > _MAX_V2_TILE:
            raise ValueError(f"tile ({r}, {c}) is {n} bytes; a V2 index entry holds at most {_MAX_V2_TILE}")
        chunks.append(pack_len(n))
        chunks.append(data)
        pos += 4
        if pos > _MAX_V2_OFFSET:
            raise ValueError("bundle exceeds the 40-bit offset range")
        index[PACKET_SIZE * (r % PACKET_SIZE) + (c % PACKET_SIZE)] = pos | (n << 40)
        pos += n
        biggest = max(biggest, n)
    if index.itemsize != 8:                         # pragma: no cover - exotic platforms
        raise RuntimeError("array('Q') is not 64-bit here")
    if struct.pack("=H", 1) != struct.pack("<H", 1):  # pragma: no cover - big-endian hosts
        index.byteswap()
    head = struct.pack("<4I3Q6I", 3, _SLOTS, biggest, 5, 0, pos, 40, 20 + V2_INDEX_SIZE,
                       3, 16, _SLOTS, 5, V2_INDEX_SIZE)
    return head + index.tobytes(), chunks, pos


def v2_bundle(tiles: dict[tuple[int, int], bytes]) -> bytes:
    """Compact V2 bundle for tiles keyed by absolute ``(row, col)`` inside one 128×128 bundle.

    Header values are the documented ones (version 3, record count 16384, real max tile size,
    offset size 5, slack 0, file size, user header offset 40, 131092, 3, 16, 16384, 5, 131072).
    Empty byte strings are treated as "no tile".
    """
    head, chunks, _ = _v2_parts(tiles)
    return b"".join([head, *chunks])


def v1_bundle(tiles: dict[tuple[int, int], bytes]) -> tuple[bytes, bytes]:
    """Compact V1 ``(.bundle, .bundlx)`` for tiles keyed by absolute ``(row, col)`` in one bundle.

    ``.bundle``: 60-byte header (3, 16384, max size, 5, 4×tiles, 0, file size, 0, 40, 0, 16, 0, 127,
    0, 127), 16384 zero u32 placeholders (empty slot i ↔ offset 60 + 4i), then records (u32 LE size +
    bytes). ``.bundlx``: 16-byte header (3, 16, 16384, 5), 16384 × 5-byte LE offsets in column-major
    order (slot = 128·(col % 128) + row % 128), 16-byte footer (0, 16, 16, 0).
    """
    _check_one_bundle(tiles)
    offsets = [V1_HEADER_SIZE + 4 * i for i in range(_SLOTS)]
    by_slot = {}
    for (r, c), data in tiles.items():
        if data:
            by_slot[PACKET_SIZE * (c % PACKET_SIZE) + (r % PACKET_SIZE)] = data
    chunks: list[bytes] = []
    pos = V1_FIXED_SIZE
    biggest = 0
    for slot in sorted(by_slot):
        data = by_slot[slot]
        if pos >= 1 << 40:
            raise ValueError("bundle exceeds the 40-bit offset range")
        offsets[slot] = pos
        chunks.append(struct.pack("<I", len(data)))
        chunks.append(data)
        pos += 4 + len(data)
        biggest = max(biggest, len(data))
    head = struct.pack("<15I", 3, _SLOTS, biggest, 5, 4 * len(by_slot), 0, pos & 0xFFFFFFFF,
                       0, 40, 0, 16, 0, 127, 0, 127)
    bundle = b"".join([head, bytes(4 * _SLOTS), *chunks])
    bundlx = b"".join([struct.pack("<4I", 3, 16, _SLOTS, 5),
                       b"".join(o.to_bytes(5, "little") for o in offsets),
                       struct.pack("<4I", 0, 16, 16, 0)])
    return bundle, bundlx


# --------------------------------------------------------------------------------------------------
# small helpers: geometry, XML, PNG, MVT peeking

def _wkid(sr: dict | None) -> int | None:
    if not sr:
        return None
    for key in ("latestWkid", "wkid"):
        value = sr.get(key)
        if value:
            return int(value)
    return None


def _is_web_mercator(sr: dict | None) -> bool:
    return bool(sr) and any(sr.get(k) in _WEB_MERCATOR_WKIDS for k in ("wkid", "latestWkid"))


def _is_wgs84(sr: dict | None) -> bool:
    return bool(sr) and any(sr.get(k) == 4326 for k in ("wkid", "latestWkid"))


def _mercator_to_lonlat(x: float, y: float) -> tuple[float, float]:
    lon = math.degrees(x / _EARTH_RADIUS)
    lat = math.degrees(2.0 * math.atan(math.exp(y / _EARTH_RADIUS)) - math.pi / 2.0)
    return max(-180.0, min(180.0, lon)), lat


def envelope_to_wgs84(env: dict | None, sr: dict | None = None) -> dict | None:
    """WGS84 ``{xmin, ymin, xmax, ymax}`` of an envelope in Web Mercator or EPSG:4326, else None."""
    if not env or any(k not in env for k in ("xmin", "ymin", "xmax", "ymax")):
        return None
    sr = env.get("spatialReference") or sr
    if _is_wgs84(sr):
        return {k: float(env[k]) for k in ("xmin", "ymin", "xmax", "ymax")}
    if _is_web_mercator(sr):
        x0, y0 = _mercator_to_lonlat(float(env["xmin"]), float(env["ymin"]))
        x1, y1 = _mercator_to_lonlat(float(env["xmax"]), float(env["ymax"]))
        return {"xmin": x0, "ymin": y0, "xmax": x1, "ymax": y1}
    return None


def _fmt(value: float) -> str:
    return repr(float(value))


def _png(width: int, height: int, rgb_at) -> bytes:
    """A minimal truecolour PNG; ``rgb_at(x, y) -> (r, g, b)``."""
    raw = bytearray()
    for y in range(height):
        raw.append(0)
        for x in range(width):
            raw.extend(rgb_at(x, y))

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    return (b"\x89PNG\r\n\x1a\n"
            + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(bytes(raw), 9))
            + chunk(b"IEND", b""))


def _thumbnail_png() -> bytes:
    return _png(100, 66, lambda x, y: (40 + x, 90 + y, 160 + (x + y) // 4))


def _varint(buf: bytes, pos: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        b = buf[pos]
        pos += 1
        result |= (b & 0x7F) << shift
        if b < 0x80:
            return result, pos
        shift += 7


def _fields(buf: bytes) -> Iterator[tuple[int, int, Any]]:
    """Protobuf fields ``(number, wire type, value)``; length-delimited values are memoryviews."""
    pos, end, view = 0, len(buf), memoryview(buf)
    while pos < end:
        key, pos = _varint(buf, pos)
        num, wire = key >> 3, key & 7
        if wire == 0:
            value, pos = _varint(buf, pos)
        elif wire == 1:
            value, pos = bytes(view[pos:pos + 8]), pos + 8
        elif wire == 2:
            n, pos = _varint(buf, pos)
            value, pos = view[pos:pos + n], pos + n
        elif wire == 5:
            value, pos = bytes(view[pos:pos + 4]), pos + 4
        else:
            raise ValueError(f"unsupported protobuf wire type {wire}")
        yield num, wire, value


def _packed(buf) -> list[int]:
    out, pos, data = [], 0, bytes(buf)
    while pos < len(data):
        v, pos = _varint(data, pos)
        out.append(v)
    return out


_GEOM_NAMES = {1: "Point", 2: "LineString", 3: "Polygon"}


def mvt_layer_info(tile: bytes) -> dict[str, dict]:
    """Layer names → ``{"fields": {name: "String"|"Number"|"Boolean"}, "geometry": str, "count": n}``
    of one (optionally gzipped) Mapbox Vector Tile."""
    data = gzip.decompress(tile) if tile[:2] == b"\x1f\x8b" else tile
    layers: dict[str, dict] = {}
    for num, wire, value in _fields(data):
        if num != 3 or wire != 2:
            continue
        name, keys, values, features = "", [], [], []
        for lnum, lwire, lval in _fields(bytes(value)):
            if lnum == 1 and lwire == 2:
                name = bytes(lval).decode("utf-8", "replace")
            elif lnum == 3 and lwire == 2:
                keys.append(bytes(lval).decode("utf-8", "replace"))
            elif lnum == 4 and lwire == 2:
                kind = "String"
                for vnum, _w, _v in _fields(bytes(lval)):
                    kind = "String" if vnum == 1 else "Boolean" if vnum == 7 else "Number"
                values.append(kind)
            elif lnum == 2 and lwire == 2:
                features.append(bytes(lval))
        info = layers.setdefault(name, {"fields": {}, "geometry": None, "count": 0})
        for feature in features:
            info["count"] += 1
            for fnum, fwire, fval in _fields(feature):
                if fnum == 2 and fwire == 2:
                    tags = _packed(fval)
                    for k, v in zip(tags[::2], tags[1::2]):
                        if k < len(keys) and v < len(values):
                            info["fields"].setdefault(keys[k], values[v])
                elif fnum == 3 and fwire == 0 and info["geometry"] is None:
                    info["geometry"] = _GEOM_NAMES.get(fval)
    return layers


def mvt_vertex_count(tile: bytes) -> int:
    """Vertices of every feature of one (optionally gzipped) Mapbox Vector Tile (the size of its
    geometry command streams less the commands: two integers per vertex)."""
    data = gzip.decompress(tile) if tile[:2] == b"\x1f\x8b" else tile
    total = 0
    for num, wire, value in _fields(data):
        if num != 3 or wire != 2:
            continue
        for lnum, lwire, lval in _fields(bytes(value)):
            if lnum != 2 or lwire != 2:
                continue
            for fnum, fwire, fval in _fields(bytes(lval)):
                if fnum == 4 and fwire == 2:
                    ints = _packed(fval)
                    i = 0
                    while i < len(ints):
                        command, count = ints[i] & 7, ints[i] >> 3
                        i += 1
                        if command in (1, 2):
                            total += count
                            i += 2 * count
    return total


def sparse_tile_set(vertices: dict[tuple[int, int, int], int], leaf_vertices: int) -> set[tuple[int, int, int]]:
    """The tiles an Esri-like sparse (indexed) cache keeps of a full set ``(level, row, col) → vertices``:
    a tile holding at most ``leaf_vertices`` is not split further — its descendants are dropped and
    clients over-zoom it (its tile map entry becomes a leaf, ``1``)."""
    kept: set[tuple[int, int, int]] = set()
    top = min((key[0] for key in vertices), default=0)
    for key in sorted(vertices):
        level, row, col = key
        parent = (level - 1, row >> 1, col >> 1)
        if level == top or (parent in kept and vertices[parent] > leaf_vertices):
            kept.add(key)
    return kept


# --------------------------------------------------------------------------------------------------
# tilemap

def tilemap_index(tiles: Iterable[tuple[int, int, int]]) -> list:
    """The ``index`` of an Esri vector tilemap (§6.5.3) for the set of ``(level, row, col)`` tiles.

    Each node is the list of its four children NW, NE, SW, SE; a child is a nested list when it has
    descendants in the set, ``1`` when the tile exists without children, ``0`` when it is absent.
    The returned list holds the four level-1 children of the level-0 root.
    """
    present = set(tiles)
    parents: set[tuple[int, int, int]] = set()
    for z, r, c in present:
        for k in range(1, z + 1):
            node = (z - k, r >> k, c >> k)
            if node in parents:
                break
            parents.add(node)

    def node(z: int, r: int, c: int):
        if (z, r, c) in parents:
            return children(z, r, c)
        return 1 if (z, r, c) in present else 0

    def children(z: int, r: int, c: int) -> list:
        return [node(z + 1, 2 * r + dr, 2 * c + dc) for dr, dc in ((0, 0), (0, 1), (1, 0), (1, 1))]

    return children(0, 0, 0)


# --------------------------------------------------------------------------------------------------
# conf.xml / conf.cdi

def _precision_xml(x: str, y: str, xy_scale: str, xy_tolerance: str) -> str:
    return (f"<XOrigin>{x}</XOrigin><YOrigin>{y}</YOrigin><XYScale>{xy_scale}</XYScale>"
            "<ZOrigin>-100000</ZOrigin><ZScale>10000</ZScale><MOrigin>-100000</MOrigin><MScale>10000</MScale>"
            f"<XYTolerance>{xy_tolerance}</XYTolerance><ZTolerance>0.001</ZTolerance>"
            "<MTolerance>0.001</MTolerance><HighPrecision>true</HighPrecision>")


# The coordinate precision ArcGIS writes with a spatial reference: Web Mercator as in real .tpk files,
# ArcGIS' defaults for geographic and (metre-based) projected systems.
_PRECISION_XML = {
    "web": _precision_xml("-21950603.29439573", "-30241100", "144357470.04444832", "0.001"),
    "geographic": _precision_xml("-400", "-400", "999999999.99999988", "8.983152841195215E-09"),
    "projected": _precision_xml("-5120900", "-9998100", "10000", "0.001"),
}
# TileImageInfo's BandCount by tile format (PNG8 is paletted: one band).
_BAND_COUNT = {"PNG8": 1, "JPEG": 3, "JPG": 3, "PNG24": 3}


def _spatial_reference_xml(sr: dict | None) -> str:
    wkid = _wkid(sr)
    sr = sr or {}
    if _is_web_mercator(sr):
        wkt, kind = WKT_WEB_MERCATOR, "ProjectedCoordinateSystem"
    elif _is_wgs84(sr):
        wkt, kind = WKT_WGS84, "GeographicCoordinateSystem"
    else:
        # GDAL's SetFromUserInput understands authority codes; Esri codes above 32767 are ESRI:.
        wkt = f"{'ESRI' if (wkid or 0) > 32767 else 'EPSG'}:{wkid}" if wkid else ""
        kind = "ProjectedCoordinateSystem"
    parts = [f'<SpatialReference xsi:type="typens:{kind}">']
    if wkt:
        parts.append(f"<WKT>{escape(wkt)}</WKT>")
    parts.append(_PRECISION_XML["web" if _is_web_mercator(sr) else "geographic" if _is_wgs84(sr) else "projected"])
    if sr.get("wkid"):
        parts.append(f"<WKID>{int(sr['wkid'])}</WKID>")
    if sr.get("latestWkid"):
        parts.append(f"<LatestWKID>{int(sr['latestWkid'])}</LatestWKID>")
    parts.append("</SpatialReference>")
    return "".join(parts)


_XML_NS = ('xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
           'xmlns:xs="http://www.w3.org/2001/XMLSchema" '
           'xmlns:typens="http://www.esri.com/schemas/ArcGIS/10.3"')


def _lods(service_doc: dict, max_level: int | None = None) -> list[dict]:
    lods = sorted(service_doc["tileInfo"]["lods"], key=lambda lod: lod["level"])
    if max_level is not None:
        lods = [lod for lod in lods if lod["level"] <= max_level]
    return lods


def cache_conf_xml(service_doc: dict, *, storage_format: str = "esriMapCacheStorageModeCompactV2",
                   max_level: int | None = None) -> str:
    """``conf.xml`` of an Esri tile cache for a service's ``?f=json`` document.

    ``max_level`` drops finer LODs (GDAL ≤ 3.12 refuses schemes deeper than level 22).
    """
    ti = service_doc["tileInfo"]
    sr = ti.get("spatialReference") or service_doc.get("spatialReference")
    fmt = ti.get("format") or "PNG"
    lod_xml = "".join(
        '<LODInfo xsi:type="typens:LODInfo">'
        f"<LevelID>{int(lod['level'])}</LevelID><Scale>{_fmt(lod['scale'])}</Scale>"
        f"<Resolution>{_fmt(lod['resolution'])}</Resolution></LODInfo>"
        for lod in _lods(service_doc, max_level))
    return (
        '<?xml version="1.0" encoding="utf-8" ?>\n'
        f'<CacheInfo xsi:type="typens:CacheInfo" {_XML_NS}>'
        '<TileCacheInfo xsi:type="typens:TileCacheInfo">'
        f"{_spatial_reference_xml(sr)}"
        '<TileOrigin xsi:type="typens:PointN">'
        f"<X>{_fmt(ti['origin']['x'])}</X><Y>{_fmt(ti['origin']['y'])}</Y></TileOrigin>"
        f"<TileCols>{int(ti['cols'])}</TileCols><TileRows>{int(ti['rows'])}</TileRows>"
        f"<DPI>{int(ti.get('dpi', 96))}</DPI><PreciseDPI>{int(ti.get('dpi', 96))}</PreciseDPI>"
        f'<LODInfos xsi:type="typens:ArrayOfLODInfo">{lod_xml}</LODInfos>'
        "</TileCacheInfo>"
        '<TileImageInfo xsi:type="typens:TileImageInfo">'
        f"<CacheTileFormat>{escape(str(fmt))}</CacheTileFormat>"
        f"<CompressionQuality>{int(ti.get('compressionQuality') or 0)}</CompressionQuality>"
        f"<Antialiasing>false</Antialiasing><BandCount>{_BAND_COUNT.get(str(fmt).upper(), 4)}</BandCount>"
        "<LERCError>0</LERCError></TileImageInfo>"
        '<CacheStorageInfo xsi:type="typens:CacheStorageInfo">'
        f"<StorageFormat>{storage_format}</StorageFormat><PacketSize>{PACKET_SIZE}</PacketSize>"
        "</CacheStorageInfo></CacheInfo>\n"
    )


def _conf_cdi(extent: dict, sr: dict | None) -> str:
    return (
        '<?xml version="1.0" encoding="utf-8" ?>\n'
        f'<EnvelopeN xsi:type="typens:EnvelopeN" {_XML_NS}>'
        f"<XMin>{_fmt(extent['xmin'])}</XMin><YMin>{_fmt(extent['ymin'])}</YMin>"
        f"<XMax>{_fmt(extent['xmax'])}</XMax><YMax>{_fmt(extent['ymax'])}</YMax>"
        f"{_spatial_reference_xml(sr)}</EnvelopeN>\n"
    )


_CONF_PROPERTIES = (
    '<?xml version="1.0" encoding="utf-8" ?>\n'
    f'<PropertySet xsi:type="typens:PropertySet" {_XML_NS}>'
    '<PropertyArray xsi:type="typens:ArrayOfPropertySetProperty">'
    '<PropertySetProperty xsi:type="typens:PropertySetProperty"><Key>CacheTileContentType</Key>'
    '<Value xsi:type="xs:string">Map</Value></PropertySetProperty></PropertyArray></PropertySet>\n'
)


# --------------------------------------------------------------------------------------------------
# streaming tiles into bundles

class _Bundler:
    """Groups a tile stream into bundles, emitting each bundle once its band is complete.

    Input must be ordered by level, then by bundle row band (``row // 128``); any order inside a band
    (iterating a level row by row gives that). The tiles of the current band are held in memory up
    to ``memory_limit`` bytes, beyond that in a temporary spool file: memory stays bounded by one
    bundle (plus the limit) whatever the width of the band.
    """

    def __init__(self, memory_limit: int = 64 << 20) -> None:
        self.count = 0
        self.levels: dict[int, int] = {}
        self.keys: set[tuple[int, int, int]] = set()
        self.bounds: dict[int, list[int]] = {}       # level -> [rmin, cmin, rmax, cmax]
        self.samples: dict[int, list[bytes]] = {}
        self._limit = memory_limit
        self._held = 0
        self._spool = None

    def _keep(self, data) -> bytes | tuple[int, int]:
        if self._held + len(data) <= self._limit:
            self._held += len(data)
            return bytes(data)
        if self._spool is None:
            self._spool = tempfile.TemporaryFile(prefix="aot-bundle-")  # noqa: SIM115 - closed by run()
        self._spool.seek(0, 2)
        offset = self._spool.tell()
        self._spool.write(data)
        return offset, len(data)

    def _load(self, ref) -> bytes:
        if isinstance(ref, bytes):
            return ref
        self._spool.seek(ref[0])
        return self._spool.read(ref[1])

    def _flush(self, band, open_bundles) -> Iterator[tuple[int, int, int, dict]]:
        for (_br, bc), refs in sorted(open_bundles.items()):
            yield band[0], band[1] * PACKET_SIZE, bc * PACKET_SIZE, {k: self._load(v) for k, v in refs.items()}
        self._held = 0
        if self._spool is not None:
            self._spool.seek(0)
            self._spool.truncate()

    def run(self, tiles: Iterable[tuple[int, int, int, bytes]], *, keep_keys: bool = False,
            samples_per_level: int = 0) -> Iterator[tuple[int, int, int, dict]]:
        try:
            yield from self._run(tiles, keep_keys, samples_per_level)
        finally:
            if self._spool is not None:
                self._spool.close()
                self._spool = None

    def _run(self, tiles, keep_keys: bool, samples_per_level: int) -> Iterator[tuple[int, int, int, dict]]:
        band: tuple[int, int] | None = None
        open_bundles: dict[tuple[int, int], dict[tuple[int, int], Any]] = {}
        done: set[tuple[int, int]] = set()
        for t_level, t_row, t_col, data in tiles:
            level, row, col = int(t_level), int(t_row), int(t_col)
            if row < 0 or col < 0 or level < 0:
                raise ValueError(f"negative tile address {level}/{row}/{col}")
            this = (level, row // PACKET_SIZE)
            if this != band:
                if (band is not None and this < band) or this in done:
                    raise ValueError(
                        f"tile {level}/{row}/{col} arrives after its bundle band was written: "
                        "pass tiles ordered by level, then row")
                if band is not None:
                    yield from self._flush(band, open_bundles)
                    done.add(band)
                open_bundles = {}
                band = this
            if not data:
                continue
            bundle = open_bundles.setdefault((row // PACKET_SIZE, col // PACKET_SIZE), {})
            if (row, col) not in bundle:
                self.count += 1
                self.levels[level] = self.levels.get(level, 0) + 1
                b = self.bounds.setdefault(level, [row, col, row, col])
                b[0], b[1], b[2], b[3] = min(b[0], row), min(b[1], col), max(b[2], row), max(b[3], col)
                if keep_keys:
                    self.keys.add((level, row, col))
                s = self.samples.setdefault(level, [])
                if len(s) < samples_per_level:
                    s.append(bytes(data))
            bundle[(row, col)] = self._keep(data)
        if band is not None:
            yield from self._flush(band, open_bundles)


def _stored_info(name: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=time.localtime(time.time())[:6])
    info.compress_type = zipfile.ZIP_STORED
    info.external_attr = 0o644 << 16
    return info


def _zip_bundle(zf: zipfile.ZipFile, name: str, tiles: dict[tuple[int, int], bytes]) -> int:
    head, chunks, size = _v2_parts(tiles)
    info = _stored_info(name)
    info.file_size = size
    with zf.open(info, "w", force_zip64=size > 0x7FFFFFFF) as out:
        out.write(head)
        for chunk in chunks:
            out.write(chunk)
    return size


def _zip_text(zf: zipfile.ZipFile, name: str, data: str | bytes | dict | list) -> None:
    if isinstance(data, (dict, list)):
        data = json.dumps(data, separators=(",", ":"), ensure_ascii=False)
    if isinstance(data, str):
        data = data.encode("utf-8")
    zf.writestr(_stored_info(name), data)


# --------------------------------------------------------------------------------------------------
# package documents

def _level_envelope(service_doc: dict, bounds: dict[int, list[int]]) -> dict | None:
    """Envelope (service CRS) of the tiles written at the finest level, clipped to fullExtent."""
    if not bounds:
        return None
    ti = service_doc["tileInfo"]
    level = max(bounds)
    res = next((lod["resolution"] for lod in ti["lods"] if lod["level"] == level), None)
    if res is None:
        return None
    rmin, cmin, rmax, cmax = bounds[level]
    ox, oy = ti["origin"]["x"], ti["origin"]["y"]
    w, h = res * ti["cols"], res * ti["rows"]
    env = {"xmin": ox + cmin * w, "ymin": oy - (rmax + 1) * h, "xmax": ox + (cmax + 1) * w, "ymax": oy - rmin * h}
    full = service_doc.get("fullExtent")
    if full and all(k in full for k in env):
        env = {"xmin": max(env["xmin"], full["xmin"]), "ymin": max(env["ymin"], full["ymin"]),
               "xmax": min(env["xmax"], full["xmax"]), "ymax": min(env["ymax"], full["ymax"])}
        if env["xmin"] >= env["xmax"] or env["ymin"] >= env["ymax"]:
            return None
    return env


def _with_sr(env: dict, sr: dict | None) -> dict:
    out = {k: float(env[k]) for k in ("xmin", "ymin", "xmax", "ymax")}
    if sr:
        out["spatialReference"] = dict(sr)
    return out


def _sr_name(sr: dict | None) -> str:
    if _is_web_mercator(sr):
        return "WGS_1984_Web_Mercator_Auxiliary_Sphere"
    if _is_wgs84(sr):
        return "GCS_WGS_1984"
    wkid = _wkid(sr)
    return f"WKID {wkid}" if wkid else ""


def _pkinfo(guid: str, name: str, kind: str, version: str) -> str:
    docs = ("<documenttypes>\n<documenttype>Lyr</documenttype>\n</documenttypes>\n"
            if kind == "Vector Tile Package" else "")
    return (
        '<?xml version="1.0" encoding="utf-8" ?>\n'
        '<?xml-stylesheet type="text/xsl" href="http://www.arcgisonline.com/home/pkinfostylesheet.xsl"?>\n'
        "<pkinfo Culture='en-US'>\n"
        f"<ID>{guid}</ID>\n<name>{escape(name)}</name>\n<version>{version}</version>\n"
        f"<size>-1</size>\n<created></created>\n<type>{kind}</type>\n<servable>false</servable>\n"
        "<packagelocation></packagelocation>\n<pkinfolocation></pkinfolocation>\n"
        f"{docs}</pkinfo>\n"
    )


def _iteminfo_xml(guid: str, name: str, title: str, kind: str, keywords: list[str],
                  wgs84: dict | None, sr: dict | None, service_doc: dict) -> str:
    kw = "".join(f"<typekeyword>{escape(k)}</typekeyword>\n" for k in keywords)
    ext = ("<extent>\n" + "".join(f"<{k}>{_fmt(wgs84[k])}</{k}>\n" for k in ("xmin", "ymin", "xmax", "ymax"))
           + "</extent>\n") if wgs84 else ""
    scales = ""
    if kind == "Vector Tile Package":
        scales = (f"<minScale>{_fmt(service_doc.get('minScale') or 0)}</minScale>\n"
                  f"<maxScale>{_fmt(service_doc.get('maxScale') or 0)}</maxScale>\n")
    summary = escape(f"{kind} of {title}")
    modified_tag = "datalastModifiedTime" if kind == "Vector Tile Package" else "datalastmodifiedtime"
    return (
        '<?xml version="1.0" encoding="utf-8" ?>\n'
        "<ESRI_ItemInformation Culture='en-US'>\n"
        f"<name>{escape(name)}</name>\n<guid>{guid}</guid>\n<version>1.0</version>\n"
        "<created></created>\n<modified></modified>\n<catalogpath></catalogpath>\n"
        f"<snippet>{summary}</snippet>\n<description></description>\n<summary>{summary}</summary>\n"
        f"<title>{escape(title)}</title>\n<tags>{escape(name)}</tags>\n<type>{kind}</type>\n"
        f"<typekeywords>\n{kw}</typekeywords>\n<thumbnail>thumbnail/thumbnail.png</thumbnail>\n"
        "<documentation></documentation>\n<url></url>\n"
        f"{ext}<spatialreference>{escape(_sr_name(sr))}</spatialreference>\n{scales}"
        f"<{modified_tag}></{modified_tag}>\n<accessinformation></accessinformation>\n"
        "<licenseinfo></licenseinfo>\n</ESRI_ItemInformation>\n"
    )


def _scale_range(service_doc: dict, levels: list[int]) -> tuple[float, float]:
    scales = {lod["level"]: lod["scale"] for lod in service_doc["tileInfo"]["lods"]}
    if not levels:
        return float(service_doc.get("minScale") or 0), float(service_doc.get("maxScale") or 0)
    return float(scales.get(min(levels), 0)), float(scales.get(max(levels), 0))


_DEFAULT_SPRITE_JSON = json.dumps({"dot": {"x": 0, "y": 0, "width": 8, "height": 8, "pixelRatio": 1,
                                           "sdf": False}}, separators=(",", ":")).encode()
_DEFAULT_SPRITE2_JSON = json.dumps({"dot": {"x": 0, "y": 0, "width": 16, "height": 16, "pixelRatio": 2,
                                            "sdf": False}}, separators=(",", ":")).encode()


def _default_vector_resources(layer_names: list[str]) -> dict[str, bytes]:
    palette = ["#d9c9a3", "#a3c9d9", "#c9a3d9", "#a3d9b1"]
    layers: list[dict] = [{"id": "background", "type": "background", "paint": {"background-color": "#f2efe9"}}]
    for i, name in enumerate(layer_names):
        layers.append({"id": name, "type": "line", "source": "esri", "source-layer": name,
                       "layout": {}, "paint": {"line-color": palette[i % len(palette)], "line-width": 1}})
    style = {"version": 8, "sprite": "../sprites/sprite", "glyphs": "../fonts/{fontstack}/{range}.pbf",
             "sources": {"esri": {"type": "vector", "url": "../../"}}, "layers": layers}
    return {
        "styles/root.json": json.dumps(style, separators=(",", ":")).encode(),
        "sprites/sprite.json": _DEFAULT_SPRITE_JSON,
        "sprites/sprite.png": _png(8, 8, lambda x, y: (200, 60, 60)),
        "sprites/sprite@2x.json": _DEFAULT_SPRITE2_JSON,
        "sprites/sprite@2x.png": _png(16, 16, lambda x, y: (200, 60, 60)),
    }


# --------------------------------------------------------------------------------------------------
# write_package

def write_package(kind: str, path: str | Path, service_doc: dict,
                  tiles: Iterable[tuple[int, int, int, bytes]], *,
                  resources: dict[str, bytes] | None = None, extent: dict | None = None,
                  title: str | None = None) -> dict:
    """Write a ``.vtpk``, ``.tpkx`` or ``.tpk`` package from ``(level, row, col, bytes)`` tiles.

    ``service_doc`` is the service's ``?f=json`` document; ``extent`` is the export envelope in the
    service CRS (the package's data extent; default: the envelope of the tiles at the finest level,
    clipped to ``fullExtent``). ``resources`` (vtpk only) maps paths relative to ``resources/`` to
    bytes (``styles/root.json``, ``sprites/sprite.png``, ``fonts/<stack>/0-255.pbf``…).

    Tiles are streamed into bundles: pass them ordered by level, then by row (any column order).
    A list is sorted for you. Returns ``{"tiles": n, "levels": {level: n}, "bytes": file size}``.
    """
    kind = kind.lower().lstrip(".")
    if kind not in ("vtpk", "tpkx", "tpk"):
        raise ValueError(f"unknown package kind {kind!r}; expected vtpk, tpkx or tpk")
    if isinstance(tiles, list):
        tiles = sorted(tiles, key=lambda t: (t[0], t[1] // PACKET_SIZE, t[1], t[2]))
    path = Path(path)
    name = str(service_doc.get("name") or service_doc.get("mapName") or path.stem)
    title = title or name
    tmp = path.with_name(path.name + ".part")
    try:
        with zipfile.ZipFile(tmp, "w", zipfile.ZIP_STORED, allowZip64=True) as zf:
            writer = {"vtpk": _write_vtpk, "tpkx": _write_tpkx, "tpk": _write_tpk}[kind]
            bundler = writer(zf, service_doc, tiles, resources=resources, extent=extent, title=title,
                             name=name)
        tmp.replace(path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return {"tiles": bundler.count, "levels": dict(sorted(bundler.levels.items())),
            "bytes": path.stat().st_size}


def _extent_and_wgs84(service_doc: dict, extent: dict | None, bundler: _Bundler):
    sr = (extent or {}).get("spatialReference") or service_doc.get("spatialReference") \
        or service_doc["tileInfo"].get("spatialReference")
    env = extent or _level_envelope(service_doc, bundler.bounds) or service_doc.get("fullExtent")
    if env:
        env = _with_sr(env, sr)
    wgs84 = envelope_to_wgs84(env, sr) if env else None
    if wgs84 is None and not _is_web_mercator(sr) and not _is_wgs84(sr):
        # Other CRSs: the service may know its geographic extent (tpk mapserver.json style).
        geo = (service_doc.get("resourceInfo") or {}).get("geoFullExtent") or service_doc.get("geoFullExtent")
        if geo:
            wgs84 = {k: float(geo[k]) for k in ("xmin", "ymin", "xmax", "ymax")}
    return env, wgs84, sr


def _write_vtpk(zf, service_doc, tiles, *, resources, extent, title, name) -> _Bundler:
    bundler = _Bundler()
    for level, r0, c0, btiles in bundler.run(tiles, keep_keys=True, samples_per_level=2):
        _zip_bundle(zf, f"p12/tile/L{level:02d}/{bundle_name(r0, c0)}.bundle", btiles)
    levels = sorted(bundler.levels)
    env, wgs84, sr = _extent_and_wgs84(service_doc, extent, bundler)

    layer_info: dict[str, dict] = {}
    layer_zooms: dict[str, list[int]] = {}
    for level in levels:
        for sample in bundler.samples.get(level, []):
            try:
                info = mvt_layer_info(sample)
            except (OSError, ValueError, IndexError, EOFError):
                continue
            for lname, linfo in info.items():
                merged = layer_info.setdefault(lname, {"fields": {}, "geometry": linfo["geometry"], "count": 0})
                merged["fields"].update({k: v for k, v in linfo["fields"].items() if k not in merged["fields"]})
                merged["count"] += linfo["count"]
                merged["geometry"] = merged["geometry"] or linfo["geometry"]
                z = layer_zooms.setdefault(lname, [level, level])
                z[0], z[1] = min(z[0], level), max(z[1], level)

    res = dict(resources) if resources else _default_vector_resources(sorted(layer_info))
    keys = sorted(k.lstrip("/") for k in res if not k.lstrip("/").startswith("info/"))
    for key in keys:
        _zip_text(zf, f"p12/resources/{key}", res[key] if key in res else res["/" + key])
    info_list = [f"../{k}" for k in keys if not k.startswith("styles/")]
    _zip_text(zf, "p12/resources/info/root.json", {"resourceInfo": info_list})

    root = {k: v for k, v in service_doc.items()
            if k not in ("tileInfo", "fullExtent", "initialExtent", "resourceInfo")}
    tile_info = dict(service_doc["tileInfo"])
    tile_info["format"] = "pbf"
    min_scale, max_scale = _scale_range(service_doc, levels)
    root.update({
        "currentVersion": service_doc.get("currentVersion", 10.91),
        "name": name,
        "capabilities": "TilesOnly",
        "type": "indexedVector",
        "tileMap": "tilemap",
        "defaultStyles": "resources/styles",
        "tiles": ["tile/{z}/{y}/{x}.pbf"],
        "exportTilesAllowed": False,
        "tileInfo": tile_info,
        "minScale": service_doc.get("minScale", min_scale),
        "maxScale": service_doc.get("maxScale", max_scale),
        "minLOD": min(levels) if levels else 0,
        "maxLOD": max(levels) if levels else 0,
        "resourceInfo": {
            "styleVersion": 8, "tileCompression": "gzip",
            "cacheInfo": {"storageInfo": {"packetSize": PACKET_SIZE, "storageFormat": "compactV2"}},
        },
    })
    root.pop("maxExportTilesCount", None)
    if env:
        root["initialExtent"] = dict(env)
        root["fullExtent"] = dict(env)
    _zip_text(zf, "p12/root.json", root)
    _zip_text(zf, "p12/tilemap/root.json", {"index": tilemap_index(bundler.keys)})
    max_zoom = int(service_doc.get("maxzoom", max((lod["level"] for lod in tile_info["lods"]), default=0)))
    metadata = {
        "vector_layers": [
            {"id": lname, "description": lname, "minzoom": layer_zooms[lname][0], "maxzoom": max_zoom,
             "fields": layer_info[lname]["fields"]} for lname in sorted(layer_info)],
        "tilestats": {"layerCount": len(layer_info), "layers": [
            {"layer": lname, "count": layer_info[lname]["count"], "geometry": layer_info[lname]["geometry"],
             "attributeCount": len(layer_info[lname]["fields"]),
             "attributes": [{"attribute": f, "type": t.lower()} for f, t in layer_info[lname]["fields"].items()]}
            for lname in sorted(layer_info)]},
    }
    _zip_text(zf, "p12/metadata.json", metadata)
    guid = str(uuid.uuid4()).upper()
    _zip_text(zf, "esriinfo/thumbnail/thumbnail.png", _thumbnail_png())
    _zip_text(zf, "esriinfo/item.pkinfo", _pkinfo(guid, name, "Vector Tile Package", "11.2"))
    _zip_text(zf, "esriinfo/iteminfo.xml", _iteminfo_xml(
        guid, name, title, "Vector Tile Package", ["Data", "Vector Tile Package", "vtpk"], wgs84, sr, root))
    return bundler


def _image_info(service_doc: dict) -> dict:
    ti = service_doc["tileInfo"]
    fmt = str(ti.get("format") or "PNG")
    quality = int(ti.get("compressionQuality") or 0) if fmt.upper() in ("JPEG", "JPG", "MIXED") else 0
    return {"format": fmt, "compressionQuality": quality, "bandCount": 1, "lercError": 0}


def _write_tpkx(zf, service_doc, tiles, *, resources, extent, title, name) -> _Bundler:
    del resources
    bundler = _Bundler()
    for level, r0, c0, btiles in bundler.run(tiles):
        _zip_bundle(zf, f"tile/L{level:02d}/{bundle_name(r0, c0)}.bundle", btiles)
    levels = sorted(bundler.levels)
    env, wgs84, sr = _extent_and_wgs84(service_doc, extent, bundler)
    ti = service_doc["tileInfo"]
    min_scale, max_scale = _scale_range(service_doc, levels)
    tile_info = {k: ti[k] for k in ("rows", "cols", "dpi", "origin", "spatialReference", "lods") if k in ti}
    tile_info.setdefault("spatialReference", sr)
    root = {
        "tileImageInfo": _image_info(service_doc),
        "name": name,
        "version": 1.0,
        "serviceDescription": str(service_doc.get("serviceDescription") or ""),
        "tileBundlesPath": "./tile",
        "spatialReference": dict(sr or ti.get("spatialReference") or {}),
        "units": service_doc.get("units") or ("esriDecimalDegrees" if _is_wgs84(sr) else "esriMeters"),
        "minLOD": min(levels) if levels else 0,
        "maxLOD": max(levels) if levels else 0,
        "minScale": min_scale,
        "maxScale": max_scale,
        "resampling": True,
        "tileInfo": tile_info,
        "exportTilesAllowed": False,
        "storageInfo": {"storageFormat": "esriMapCacheStorageModeCompactV2", "packetSize": PACKET_SIZE},
    }
    if env:
        root["initialExtent"] = dict(env)
        root["fullExtent"] = dict(env)
    guid = str(uuid.uuid4()).upper()
    item = {
        "creator": "ExportMapServerCache", "name": name, "guid": guid, "version": 1.0,
        "created": int(time.time() * 1000), "snippet": "", "description": "", "summary": "",
        "title": title, "tags": "", "type": "Compact Tile Package",
        "typeKeywords": ["Compact Tile Package", "Tile Package", "tpkx"], "thumbnail": "./thumbnail.png",
    }
    if wgs84:
        item["extent"] = {**wgs84, "spatialReference": {"wkid": 4326, "latestWkid": 4326}}
    _zip_text(zf, "iteminfo.json", item)
    _zip_text(zf, "root.json", root)
    _zip_text(zf, "thumbnail.png", _thumbnail_png())
    return bundler


_MAPSERVER_CONTENTS = {  # the keys ArcMap writes into a .tpk's mapserver.json, with its default values
    "serviceDescription": "", "description": "", "copyrightText": "", "tables": [],
    "documentInfo": {"Title": "", "Author": "", "Comments": "", "Subject": "", "Category": "",
                     "AntialiasingMode": "Best", "TextAntialiasingMode": "Force", "Keywords": ""},
    "minScale": 0, "maxScale": 0, "maxRecordCount": 1000, "maxImageHeight": 4096, "maxImageWidth": 4096,
    "supportedImageFormatTypes": "PNG32,PNG24,PNG,JPG,DIB,TIFF,EMF,PS,PDF,GIF,SVG,SVGZ,BMP",
    "supportedQueryFormats": "JSON, AMF", "supportsDynamicLayers": False,
}


def _write_tpk(zf, service_doc, tiles, *, resources, extent, title, name) -> _Bundler:
    del resources
    bundler = _Bundler()
    base = "v101/Layers"
    for level, r0, c0, btiles in bundler.run(tiles):
        bundle, bundlx = v1_bundle(btiles)
        stem = f"{base}/_alllayers/L{level:02d}/{bundle_name(r0, c0)}"
        zf.writestr(_stored_info(stem + ".bundle"), bundle)
        zf.writestr(_stored_info(stem + ".bundlx"), bundlx)
    levels = sorted(bundler.levels)
    env, wgs84, sr = _extent_and_wgs84(service_doc, extent, bundler)
    guid = str(uuid.uuid4()).upper()
    max_level = max(levels) if levels else None
    _zip_text(zf, f"{base}/conf.xml",
              cache_conf_xml(service_doc, storage_format="esriMapCacheStorageModeCompact", max_level=max_level))
    if env:
        _zip_text(zf, f"{base}/conf.cdi", _conf_cdi(env, sr))
    _zip_text(zf, f"{base}/conf.properties", _CONF_PROPERTIES)
    # ArcMap's service description: its defaults first, then what the service document says.
    contents = {**_MAPSERVER_CONTENTS, "layers": [{"id": 0, "name": name, "parentLayerId": -1,
                                                   "defaultVisibility": True, "subLayerIds": None,
                                                   "minScale": 0, "maxScale": 0}]}
    contents.update({k: v for k, v in service_doc.items() if k not in ("tileInfo",)})
    contents.update({"mapName": "Layers", "spatialReference": sr, "singleFusedMapCache": False,
                     "exportTilesAllowed": False, "capabilities": "Map,Query,Data"})
    if env:
        contents["initialExtent"] = dict(env)
        contents["fullExtent"] = dict(env)
    resource_info: dict = {}
    if wgs84:
        resource_info = {"geoFullExtent": dict(wgs84), "geoInitialExtent": dict(wgs84)}
    if env:  # the coordinate domain ArcMap stores: the data extent grown by its own size on every side
        width, height = env["xmax"] - env["xmin"], env["ymax"] - env["ymin"]
        resource_info["spatialReferenceDomain"] = {"xmin": env["xmin"] - width, "ymin": env["ymin"] - height,
                                                   "xmax": env["xmax"] + width, "ymax": env["ymax"] + height}
    _zip_text(zf, "servicedescriptions/mapserver/mapserver.json",
              {"name": "MapServer", "contents": contents, "resourceInfo": resource_info,
               "resources": [{"name": "layers", "resources": []}, {"name": "tables", "resources": []},
                             {"name": "legend", "contents": {"layers": []}}]})
    _zip_text(zf, "esriinfo/thumbnail/thumbnail.png", _thumbnail_png())
    _zip_text(zf, "esriinfo/item.pkinfo", _pkinfo(guid, name, "Tile Package", "10.3"))
    _zip_text(zf, "esriinfo/iteminfo.xml", _iteminfo_xml(
        guid, name, title, "Tile Package", ["Data", "Tile Package", "ArcMap", "ArcGlobe", "tpk"], wgs84, sr,
        service_doc))
    return bundler


# --------------------------------------------------------------------------------------------------
# exploded Compact V2 cache folder (GDAL ESRIC's conf.xml input)

def write_cache_folder(path: str | Path, service_doc: dict, tiles: Iterable[tuple[int, int, int, bytes]], *,
                       extent: dict | None = None, max_level: int | None = 22,
                       storage_format: str = "esriMapCacheStorageModeCompactV2") -> dict:
    """Write ``conf.xml``, ``conf.cdi`` and ``_alllayers/Lxx/*.bundle`` into ``path``: Compact V2, or
    ``.bundle`` + ``.bundlx`` pairs (and ``conf.properties``) for ``esriMapCacheStorageModeCompact``.

    ``max_level`` caps the LOD list (GDAL ≤ 3.12 refuses the 24-LOD Web Mercator scheme).
    Returns the same summary as :func:`write_package`.
    """
    v1 = storage_format.lower().endswith("compact")
    root = Path(path)
    root.mkdir(parents=True, exist_ok=True)
    if isinstance(tiles, list):
        tiles = sorted(tiles, key=lambda t: (t[0], t[1] // PACKET_SIZE, t[1], t[2]))
    bundler = _Bundler()
    total = 0
    for level, r0, c0, btiles in bundler.run(tiles):
        folder = root / "_alllayers" / f"L{level:02d}"
        folder.mkdir(parents=True, exist_ok=True)
        if v1:
            data, index = v1_bundle(btiles)
            (folder / f"{bundle_name(r0, c0)}.bundlx").write_bytes(index)
            total += len(index)
        else:
            data = v2_bundle(btiles)
        (folder / f"{bundle_name(r0, c0)}.bundle").write_bytes(data)
        total += len(data)
    conf = cache_conf_xml(service_doc, storage_format=storage_format, max_level=max_level)
    (root / "conf.xml").write_text(conf, encoding="utf-8")
    if v1:
        (root / "conf.properties").write_text(_CONF_PROPERTIES, encoding="utf-8")
    env, _wgs84, sr = _extent_and_wgs84(service_doc, extent, bundler)
    if env:
        (root / "conf.cdi").write_text(_conf_cdi(env, sr), encoding="utf-8")
    return {"tiles": bundler.count, "levels": dict(sorted(bundler.levels.items())), "bytes": total}


def zip_folder(folder: str | Path, archive: str | Path, prefix: str) -> None:
    """Zip ``folder`` (STORED, as Esri's packages are) with its files under ``prefix/``."""
    folder = Path(folder)
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_STORED) as zf:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                zf.write(path, f"{prefix}/{path.relative_to(folder).as_posix()}")
