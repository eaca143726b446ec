"""Helpers of the emulator's HTTP tests: an independent package reader, small ``requests`` wrappers
and expected tile sets computed with QgsGeometry (no plugin code, no arcgis_emulator.selection)."""
from __future__ import annotations

import json
import struct
import time
import zipfile
from pathlib import Path

import requests

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
