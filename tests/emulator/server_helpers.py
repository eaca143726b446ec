"""Helpers of the emulator's HTTP tests: a stand-in sample set, an independent package reader and
small ``requests`` wrappers (no plugin code)."""
from __future__ import annotations

import gzip
import json
import struct
import time
import zipfile
import zlib
from pathlib import Path

import requests

MERC = 20037508.342787
WEB_MERCATOR = {"wkid": 102100, "latestWkid": 3857}
WGS84 = {"wkid": 4326, "latestWkid": 4326}


# ----------------------------------------------------------------------------------------------
# stand-in sample services (only used while arcgis_emulator.samples is not available)
# ----------------------------------------------------------------------------------------------

def _tiny_png(level: int, row: int, col: int) -> bytes:
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
    raw = bytes([0, (level * 37) % 256, (row * 11) % 256, (col * 7) % 256])
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def _tiny_jpeg(level: int, row: int, col: int) -> bytes:
    return b"\xff\xd8\xff\xe0" + f"{level}/{row}/{col}".encode() + b"\xff\xd9"


def _lods(res0: float, scale0: float, n: int) -> list[dict]:
    return [{"level": z, "resolution": res0 / 2 ** z, "scale": scale0 / 2 ** z} for z in range(n)]


def _doc(kind: str, *, sr: dict, origin: tuple[float, float], size: int, fmt: str, quality: int,
         lods: list[dict], full: tuple[float, float, float, float], name: str) -> dict:
    extent = {"xmin": full[0], "ymin": full[1], "xmax": full[2], "ymax": full[3], "spatialReference": dict(sr)}
    doc = {
        "currentVersion": 11.1,
        "serviceDescription": f"stand-in {name}",
        "spatialReference": dict(sr),
        "initialExtent": dict(extent), "fullExtent": dict(extent),
        "tileInfo": {"rows": size, "cols": size, "dpi": 96, "format": fmt, "compressionQuality": quality,
                     "origin": {"x": origin[0], "y": origin[1]}, "spatialReference": dict(sr), "lods": lods},
        "minScale": lods[0]["scale"], "maxScale": lods[-1]["scale"],
        "exportTilesAllowed": True, "maxExportTilesCount": 100000,
    }
    if kind == "VectorTileServer":
        doc.update(name=name, capabilities="TilesOnly,Tilemap", type="indexedVector", tileMap="tilemap",
                   defaultStyles="resources/styles", tiles=["tile/{z}/{y}/{x}.pbf"],
                   resourceInfo={"styleVersion": 8, "tileCompression": "gzip",
                                 "cacheInfo": {"storageInfo": {"packetSize": 128, "storageFormat": "compactV2"}}},
                   minLOD=0, maxLOD=len(lods) - 1, maxzoom=len(lods) - 1)
    else:
        doc.update(mapName="Layers", singleFusedMapCache=True, capabilities="Map,Query,Data",
                   units="esriMeters" if sr is WEB_MERCATOR else "esriDecimalDegrees",
                   storageInfo={"storageFormat": "esriMapCacheStorageModeCompactV2", "packetSize": 128},
                   minLOD=0, maxLOD=len(lods) - 1)
        if kind == "ImageServer":
            doc.update(name=name, capabilities="Catalog,Mensuration,Image,Metadata", cacheType="Map",
                       bandCount=3, pixelType="U8", serviceDataType="esriImageServiceDataTypeRGB")
    return doc


class StandInService:
    """Same attributes as arcgis_emulator.samples.SampleService, synthetic tiles."""

    def __init__(self, name: str, kind: str, document: dict, tile_fn, resources=None, tilemap=None):
        self.name, self.kind, self.document = name, kind, document
        self._tile_fn = tile_fn
        self.resources = resources or {}
        self.tilemap = tilemap

    def get_tile(self, level: int, row: int, col: int) -> bytes | None:
        lods = self.document["tileInfo"]["lods"]
        if not 0 <= level < len(lods) or row < 0 or col < 0:
            return None
        n = 2 ** level
        width = n * (2 if self.document["tileInfo"]["spatialReference"]["wkid"] == 4326 else 1)
        if self.kind != "VectorTileServer" and (row >= n or col >= width):
            return None
        if self.kind == "VectorTileServer" and (row >= n or col >= n):
            return None
        return self._tile_fn(level, row, col)


def vector_tile_exists(level: int, row: int, col: int) -> bool:
    """The stand-in vector service has holes: a tile is absent when (row + 2*col) % 5 == 3 at z >= 3."""
    return level < 3 or (row + 2 * col) % 5 != 3


def _vector_tile(level: int, row: int, col: int) -> bytes | None:
    if not vector_tile_exists(level, row, col):
        return None
    return gzip.compress(b"\x1a\x05stand" + f"{level}/{row}/{col}".encode(), mtime=0)


def stand_in_services() -> dict[str, StandInService]:
    merc_full = (-MERC, -MERC, MERC, MERC)
    style = b'{"version":8,"sprite":"../sprites/sprite","glyphs":"../fonts/{fontstack}/{range}.pbf",' \
            b'"sources":{"esri":{"type":"vector","url":"../../"}},"layers":[]}'
    return {
        "World_Vector/VectorTileServer": StandInService(
            "World_Vector", "VectorTileServer",
            _doc("VectorTileServer", sr=WEB_MERCATOR, origin=(-MERC, MERC), size=512, fmt="pbf", quality=0,
                 lods=_lods(78271.516964, 295828763.7957775, 15), full=merc_full, name="World_Vector"),
            _vector_tile, resources={"styles/root.json": style, "sprites/sprite.json": b"{}"},
            tilemap={"index": [1, 1, 1, 1]}),
        "World_Map/MapServer": StandInService(
            "World_Map", "MapServer",
            _doc("MapServer", sr=WEB_MERCATOR, origin=(-MERC, MERC), size=256, fmt="PNG", quality=0,
                 lods=_lods(156543.03392800014, 591657527.591555, 20), full=merc_full, name="World_Map"),
            _tiny_png),
        "World_Imagery/ImageServer": StandInService(
            "World_Imagery", "ImageServer",
            _doc("ImageServer", sr=WEB_MERCATOR, origin=(-MERC, MERC), size=256, fmt="JPEG", quality=75,
                 lods=_lods(156543.03392800014, 591657527.591555, 20), full=merc_full, name="World_Imagery"),
            _tiny_jpeg),
        "World_Geographic/MapServer": StandInService(
            "World_Geographic", "MapServer",
            _doc("MapServer", sr=WGS84, origin=(-180.0, 90.0), size=512, fmt="PNG", quality=0,
                 lods=_lods(180 / 512, 147748796.52937502, 12), full=(-180, -90, 180, 90), name="World_Geographic"),
            _tiny_png),
    }


# ----------------------------------------------------------------------------------------------
# an independent package reader (from the reference §6, not from the writers)
# ----------------------------------------------------------------------------------------------

def _bundle_origin(name: str) -> tuple[int, int]:
    stem = Path(name).stem  # R0080C0100
    r = stem.index("R")
    c = stem.index("C")
    return int(stem[r + 1:c], 16), int(stem[c + 1:], 16)


def read_package_tiles(path: str | Path) -> dict[tuple[int, int, int], bytes]:
    """``{(level, row, col): bytes}`` of a .vtpk/.tpkx (CompactV2) or .tpk (Compact V1) package."""
    out: dict[tuple[int, int, int], bytes] = {}
    with zipfile.ZipFile(path) as zf:
        names = zf.namelist()
        for name in names:
            parts = name.split("/")
            if len(parts) < 2 or not parts[-2].startswith("L") or not parts[-1].endswith(".bundle"):
                continue
            level = int(parts[-2][1:])
            row0, col0 = _bundle_origin(parts[-1])
            buf = zf.read(name)
            bundlx = name[:-len(".bundle")] + ".bundlx"
            if bundlx in names:  # Compact V1: 16-byte header, 5-byte offsets, column-major
                index = zf.read(bundlx)
                for slot in range(16384):
                    offset = int.from_bytes(index[16 + 5 * slot:21 + 5 * slot], "little")
                    size = struct.unpack_from("<I", buf, offset)[0] if offset + 4 <= len(buf) else 0
                    if size:
                        col, row = divmod(slot, 128)
                        out[(level, row0 + row, col0 + col)] = buf[offset + 4:offset + 4 + size]
                continue
            assert struct.unpack_from("<I", buf, 0)[0] == 3, name
            for slot in range(16384):
                (entry,) = struct.unpack_from("<Q", buf, 64 + 8 * slot)
                offset, size = entry & ((1 << 40) - 1), entry >> 40
                if size:
                    row, col = divmod(slot, 128)
                    out[(level, row0 + row, col0 + col)] = buf[offset:offset + size]
    return out


# ----------------------------------------------------------------------------------------------
# HTTP helpers
# ----------------------------------------------------------------------------------------------

TIMEOUT = 30


def get_json(url: str, **params) -> dict:
    params.setdefault("f", "json")
    response = requests.get(url, params=params, timeout=TIMEOUT)
    assert response.status_code == 200, (url, response.status_code, response.text[:300])
    return response.json()


def submit(url: str, method: str = "POST", **params) -> dict:
    params.setdefault("f", "json")
    if method == "POST":
        response = requests.post(url, data=params, timeout=TIMEOUT)
    else:
        response = requests.get(url, params=params, timeout=TIMEOUT)
    assert response.status_code == 200, response.text[:300]
    return response.json()


def poll(job_url: str, *, token: str | None = None, timeout: float = 60.0, key: str = "jobStatus",
         done=("esriJobSucceeded", "esriJobFailed", "esriJobTimedOut", "esriJobCancelled")) -> list[dict]:
    """Poll a job until a terminal status; return every status body seen."""
    seen = []
    deadline = time.time() + timeout
    while time.time() < deadline:
        params = {"f": "json"}
        if token:
            params["token"] = token
        body = requests.get(job_url, params=params, timeout=TIMEOUT).json()
        seen.append(body)
        if body.get(key) in done or "error" in body:
            return seen
        time.sleep(0.05)
    raise AssertionError(f"job did not finish: last {seen[-1] if seen else None}")


def export_gp(service_url: str, token: str | None = None, method: str = "POST",
              **params) -> tuple[dict, list[dict]]:
    """Submit exportTiles (GP protocol), poll to the end; returns (submit answer, statuses)."""
    if token:
        params["token"] = token
    answer = submit(f"{service_url}/exportTiles", method=method, **params)
    assert "jobId" in answer, answer
    statuses = poll(f"{service_url}/jobs/{answer['jobId']}", token=token)
    return answer, statuses


def result_value(service_url: str, job_id: str, token: str | None = None):
    params = {"f": "json"}
    if token:
        params["token"] = token
    body = requests.get(f"{service_url}/jobs/{job_id}/results/out_service_url", params=params,
                        timeout=TIMEOUT).json()
    assert body.get("paramName") == "out_service_url", body
    return body["value"]


def download(url: str, dest: Path, token: str | None = None) -> Path:
    params = {"token": token} if token else None
    response = requests.get(url, params=params, timeout=TIMEOUT)
    assert response.status_code == 200, response.text[:300]
    assert len(response.content) == int(response.headers["Content-Length"])
    dest.write_bytes(response.content)
    return dest


def envelope(xmin, ymin, xmax, ymax, wkid=None) -> str:
    env = {"xmin": xmin, "ymin": ymin, "xmax": xmax, "ymax": ymax}
    if wkid:
        env["spatialReference"] = {"wkid": wkid}
    return json.dumps(env)


# ----------------------------------------------------------------------------------------------
# expected tiles, computed independently of arcgis_emulator.selection (GEOS via QgsGeometry)
# ----------------------------------------------------------------------------------------------

EPS = 1e-9  # tile widths, the documented edge tolerance


def geometry_from_rings(polygons):
    from qgis.core import QgsGeometry, QgsPointXY

    parts = [[[QgsPointXY(x, y) for x, y in ring] + [QgsPointXY(*ring[0])] for ring in rings]
             for rings in polygons]
    return QgsGeometry.fromMultiPolygonXY(parts)


def geometry_from_box(xmin, ymin, xmax, ymax):
    from qgis.core import QgsGeometry, QgsRectangle

    return QgsGeometry.fromRect(QgsRectangle(xmin, ymin, xmax, ymax))


def transformed(geometry, source: str, target: str):
    from qgis.core import QgsCoordinateReferenceSystem, QgsCoordinateTransform, QgsGeometry, QgsProject

    copy = QgsGeometry(geometry)
    copy.transform(QgsCoordinateTransform(QgsCoordinateReferenceSystem(source),
                                          QgsCoordinateReferenceSystem(target), QgsProject.instance()))
    return copy


def expected_tiles(sample, levels, geometry, only_existing: bool = True) -> dict[tuple[int, int, int], bytes]:
    """Tiles of ``levels`` whose box, shrunk by EPS tile widths, intersects ``geometry`` and that exist
    (``only_existing=False``: also the absent ones, with ``None``)."""
    from qgis.core import QgsGeometry, QgsRectangle

    tile_info = sample.document["tileInfo"]
    ox, oy = tile_info["origin"]["x"], tile_info["origin"]["y"]
    resolutions = {lod["level"]: lod["resolution"] for lod in tile_info["lods"]}
    box = geometry.boundingBox()
    out = {}
    for level in levels:
        w = resolutions[level] * tile_info["cols"]
        h = resolutions[level] * tile_info["rows"]
        for row in range(max(0, int((oy - box.yMaximum()) // h) - 1), int((oy - box.yMinimum()) // h) + 2):
            for col in range(max(0, int((box.xMinimum() - ox) // w) - 1), int((box.xMaximum() - ox) // w) + 2):
                x0, y1 = ox + col * w, oy - row * h
                rect = QgsRectangle(x0 + EPS * w, y1 - h + EPS * h, x0 + w - EPS * w, y1 - EPS * h)
                if QgsGeometry.fromRect(rect).intersects(geometry):
                    data = sample.get_tile(level, row, col)
                    if data is not None or not only_existing:
                        out[(level, row, col)] = data
    return out
