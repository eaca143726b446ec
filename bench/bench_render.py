"""Render fidelity: QGIS through the plugin's opener vs MapLibre Native on real vector tile packages.

Packages (copied or built into ``bench/out/render/packages/``):

* ``dodge`` — Esri's ``dodge_city.vtpk`` (ArcGIS Pro, OSM data: nested polygons with outlines, lines,
  icons) from ``../shared/fixtures/real`` (left out when that folder is absent);
* ``ne`` — the emulator's Natural Earth ``World_Vector`` service exported whole (levels 0-6); sparse
  like Esri's caches: simple tiles are leaves the tile map over-zooms, sea-only tiles absent (labels,
  fonts, dashes);
* ``showcase`` — the same tiles with a style that has what the other two lack: fill patterns, zoom
  interpolated colours and widths, dashes, icons with labels, zoom-dependent text size.

Every view (several zooms over dense and sparse areas, :data:`VIEWS`) is rendered

* by MapLibre Native (``pymgl``, headless EGL, one process per map; :mod:`bench.render_maplibre`)
  from the package's own style, its tiles, sprites and glyphs served on 127.0.0.1.  The server applies
  the tile map as ArcGIS does (plain MapLibre does not): a tile the package lacks is cut from its
  deepest ancestor (clipped and rescaled), a tile the map marks absent is not served;
* by QGIS 3.22 (this machine) through ``open_package_layer`` (:mod:`bench.render_qgis`);
* by QGIS 3.40 in the chroot of ``scripts/qgis-chroot.sh 340`` (its native vtpk path), when that root is built.

Per view, on white: SSIM (grey levels, Gaussian window σ 1.5); ``diff30`` the share of pixels whose
colour differs by more than 30 (Euclidean RGB distance); ``struct`` the share of pixels where
one image has a colour that no pixel within 1 px of the other image matches within 60 — missing,
extra or recoloured content, forgiving the renderers' different anti-aliasing.  ``struct`` is the gate:
goal every view ≤ 0.5 % and SSIM ≥ 0.97.  Side-by-side pictures: ``bench/out/render/<view>.png``
(MapLibre | QGIS 3.22 | QGIS 3.40 | where ``struct`` counts, red).
"""
from __future__ import annotations

import gzip
import http.server
import json
import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import unquote

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

DODGE = REPO.parent / "shared" / "fixtures" / "real" / "packages" / "esri_runtime_android_dodge_city.vtpk"
QGIS340_ROOT = Path(os.environ.get("QGIS340_ROOT", "/var/tmp/arcgis_offline_tiles-qgis340"))
WIDTH, HEIGHT = 640, 400
MAPLIBRE_TIMEOUT_S = 60
QGIS_TIMEOUT_S = 900
GOAL_STRUCT = 0.005
GOAL_SSIM = 0.97
DIFF_THRESHOLD = 30  # "colour differs": Euclidean RGB distance above this
MATCH_THRESHOLD = 60  # "structural": no pixel within 1 px of the other image within this
PACKAGES_VERSION = "2"  # bump when the built packages change (their styles, levels, area)
NE_LEVELS = range(7)  # the whole service, as an export of the world makes it

# id, package, lon, lat, zoom, what it shows
VIEWS = [
    ("dodge_z10_sparse", "dodge", -100.016, 37.766, 10, "the town small in empty land"),
    ("dodge_z12_town", "dodge", -100.016, 37.766, 12, "the whole town (dense)"),
    ("dodge_z14_centre", "dodge", -100.020, 37.757, 14, "the centre, overzoomed past level 11 (dense)"),
    ("dodge_z15_park", "dodge", -100.005, 37.770, 15, "nested polygons up close"),
    ("dodge_z13_edge", "dodge", -99.965, 37.765, 13, "the data's east edge (sparse)"),
    ("dodge_z13.4_town", "dodge", -100.010, 37.760, 13.4, "between two levels (dense)"),
    ("ne_z2_world", "ne", 10.0, 30.0, 2, "North Africa and Europe at level 2, labels"),
    ("ne_z4_europe", "ne", 12.0, 48.0, 4, "Europe, labels (dense)"),
    ("ne_z4.5_europe", "ne", 14.0, 47.0, 4.5, "between two levels, labels (dense)"),
    ("ne_z6_alps", "ne", 9.5, 46.5, 6, "the Alps at the deepest level, states, labels (dense)"),
    ("ne_z5_arctic", "ne", 34.0, 79.0, 5, "islands drawn from leaves a level or more up (sparse)"),
    ("ne_z6_sargasso", "ne", -50.0, 32.0, 6, "open sea: leaves and absent tiles (sparse)"),
    ("ne_z5_america", "ne", -95.0, 38.0, 5, "the United States and their states (dense)"),
    ("ne_z5_atlantic", "ne", -20.0, 45.0, 5, "mostly ocean, absent tiles (sparse)"),
    ("showcase_z3", "showcase", 10.0, 45.0, 3, "patterns, zoom-dependent colours, icons, labels"),
    ("showcase_z3.6", "showcase", 10.0, 45.0, 3.6, "between two levels: interpolated sizes and colours"),
    ("showcase_z5", "showcase", 12.0, 46.0, 5, "the same, deeper: wider dashed lines, bigger text"),
    ("showcase_z6", "showcase", 9.5, 46.5, 6, "the deepest level"),
]


# -- packages ---------------------------------------------------------------------------------------------
def _lonlat_to_tile(lon: float, lat: float, z: int) -> tuple[int, int]:
    import math
    n = 2 ** z
    x = int((lon + 180.0) / 360.0 * n)
    y = int((1 - math.log(math.tan(math.radians(lat)) + 1 / math.cos(math.radians(lat))) / math.pi) / 2 * n)
    return min(max(y, 0), n - 1), min(max(x, 0), n - 1)


def showcase_style(base: dict) -> dict:
    """A style over the Natural Earth layers with patterns, zoom functions, dashes, icons and labels."""
    font = base["layers"][-1]["layout"]["text-font"]
    colours = [gl["paint"]["fill-color"] for gl in base["layers"] if gl["type"] == "fill"]
    layers = [{"id": "background", "type": "background", "paint": {"background-color": "#d7e9ef"}}]
    for i, colour in enumerate(colours):
        layer = {"id": f"countries/{i}", "type": "fill", "source": "esri", "source-layer": "countries",
                 "filter": ["==", "_symbol", i], "layout": {}}
        if i % 3 == 0:
            layer["paint"] = {"fill-pattern": "hatch"}
        else:
            layer["paint"] = {"fill-color": {"base": 1, "stops": [[2, colour], [6, "#f2efe9"]]},
                              "fill-outline-color": "#8a7a6a"}
        layers.append(layer)
    layers += [
        {"id": "states", "type": "line", "source": "esri", "source-layer": "states", "minzoom": 3,
         "layout": {"line-join": "round"},
         "paint": {"line-color": "#8f7f6a", "line-dasharray": [3, 2],
                   "line-width": {"base": 1.5, "stops": [[3, 0.5], [6, 2]]}}},
        {"id": "countries/outline", "type": "line", "source": "esri", "source-layer": "countries",
         "layout": {"line-join": "round", "line-cap": "round"},
         "paint": {"line-color": {"stops": [[2, "#7a6a5a"], [6, "#3d3326"]]},
                   "line-width": {"stops": [[2, 0.8], [6, 2.5]]}}},
        {"id": "disputed", "type": "line", "source": "esri", "source-layer": "disputed",
         "paint": {"line-color": "#9b3a3a", "line-width": 1.5, "line-dasharray": [2, 2]}},
        {"id": "country_labels", "type": "symbol", "source": "esri", "source-layer": "country_labels",
         "minzoom": 2,
         "layout": {"icon-image": "capital", "icon-allow-overlap": True, "text-field": "{name}",
                    "text-font": font, "text-size": {"stops": [[2, 10], [6, 16]]},
                    "text-anchor": "top", "text-offset": [0, 0.8], "text-transform": "uppercase",
                    "text-max-width": 8},
         "paint": {"text-color": "#3d3326", "text-halo-color": "#ffffff", "text-halo-width": 1.5}},
    ]
    return {**base, "layers": layers}


def build_packages(folder: Path) -> dict[str, Path]:
    """The benchmark's packages (built once, reused while their builder's version is unchanged)."""
    from arcgis_emulator.samples import GENERATOR_VERSION, load_sample_services
    from arcgis_emulator.writers import write_package

    folder.mkdir(parents=True, exist_ok=True)
    packages: dict[str, Path] = {}
    if DODGE.is_file():
        packages["dodge"] = folder / DODGE.name
        if not packages["dodge"].is_file():
            shutil.copyfile(DODGE, packages["dodge"])
    ne, showcase = folder / "natural_earth.vtpk", folder / "showcase.vtpk"
    stamp = folder / "version"
    version = f"{PACKAGES_VERSION}/{GENERATOR_VERSION}"  # the emulator's tiles may change too
    built = stamp.is_file() and stamp.read_text() == version and ne.is_file() and showcase.is_file()
    if not built:
        service = load_sample_services()["World_Vector/VectorTileServer"]
        tiles = [(z, r, c, service.get_tile(z, r, c)) for z in NE_LEVELS for r in range(2 ** z) for c in range(2 ** z)]
        tiles = [t for t in tiles if t[3] is not None]
        base_style = json.loads(service.resources["styles/root.json"])
        for path, style in ((ne, base_style), (showcase, showcase_style(base_style))):
            resources = dict(service.resources)
            resources["styles/root.json"] = json.dumps(style).encode()
            write_package("vtpk", path.with_suffix(".partial"), service.document, tiles, resources=resources,
                          extent=service.document["fullExtent"])
            path.with_suffix(".partial").replace(path)
        stamp.write_text(version)
    packages["ne"], packages["showcase"] = ne, showcase
    return packages


# -- the reference's tile server --------------------------------------------------------------------------
def overzoom(data: bytes, depth: int, row_in: int, col_in: int) -> bytes:
    """The part of an ancestor tile ``data`` (raw MVT) that child (``row_in``, ``col_in``) ``depth``
    levels below covers: geometry clipped to the child with a small buffer and rescaled; names, keys,
    values, tags and ids copied as they are."""
    scale = 2 ** depth
    out = bytearray()
    for number, wire, start, value, end in _message(data):
        if number != 3 or wire != 2:
            out += data[start:end]
            continue
        layer = data[value:end]
        fields = list(_message(layer))
        extent = next((_varint(layer, v)[0] for n, _w, _s, v, _e in fields if n == 5), 4096)
        span = extent / scale
        x0, y0, buffer = col_in * span, row_in * span, span / 16
        box = (x0 - buffer, y0 - buffer, x0 + span + buffer, y0 + span + buffer)
        body = bytearray()
        for n, w, s, v, e in fields:
            if n == 2 and w == 2:
                feature = _overzoom_feature(layer[v:e], box, scale, x0, y0)
                if feature is not None:
                    body += bytes([2 << 3 | 2]) + _encode_varint(len(feature)) + feature
            else:
                body += layer[s:e]
        out += bytes([3 << 3 | 2]) + _encode_varint(len(body)) + body
    return bytes(out)


def _overzoom_feature(feature: bytes, box, scale: int, x0: float, y0: float) -> bytes | None:
    kind, geometry, rest = 0, b"", bytearray()
    for n, _w, s, v, e in _message(feature):
        if n == 3:
            kind = _varint(feature, v)[0]
        if n == 4:
            geometry = feature[v:e]
        else:
            rest += feature[s:e]
    parts = _decode_geometry(geometry, kind)
    if kind == 1:
        clipped = [[p for p in part if box[0] <= p[0] <= box[2] and box[1] <= p[1] <= box[3]] for part in parts]
    elif kind == 2:
        clipped = [piece for part in parts for piece in _clip_line(part, box)]
    elif kind == 3:
        clipped, exterior_kept, sign = [], False, 0.0
        for ring in parts:
            area = _ring_area(ring)
            sign = sign or area  # the first ring is an exterior one; others of its sign too
            exterior = area * sign > 0
            if not (exterior or exterior_kept):
                continue  # a hole of a clipped-away polygon
            piece = _clip_ring(ring, box)
            kept = len(piece) >= 3 and _ring_area(piece) != 0
            exterior_kept = kept if exterior else exterior_kept
            if kept:
                clipped.append(piece)
    else:
        return None
    moved = [[(round((x - x0) * scale), round((y - y0) * scale)) for x, y in part] for part in clipped if part]
    encoded = _encode_geometry(moved, kind)
    if not encoded:
        return None
    return bytes(rest) + bytes([4 << 3 | 2]) + _encode_varint(len(encoded)) + encoded


def _decode_geometry(data: bytes, kind: int) -> list[list[tuple[int, int]]]:
    """Points (one part), line strings or rings of an MVT geometry (rings without their closing point)."""
    values, pos = [], 0
    while pos < len(data):
        value, pos = _varint(data, pos)
        values.append(value)
    parts: list[list[tuple[int, int]]] = []
    x = y = i = 0
    while i < len(values):
        command, count = values[i] & 7, values[i] >> 3
        i += 1
        if command == 7 or count * 2 > len(values) - i:
            continue
        if command == 1 and (kind != 1 or not parts):
            parts.append([])
        for _ in range(count):
            x += (values[i] >> 1) ^ -(values[i] & 1)
            y += (values[i + 1] >> 1) ^ -(values[i + 1] & 1)
            i += 2
            if parts:
                parts[-1].append((x, y))
    return parts


def _encode_geometry(parts: list[list[tuple[int, int]]], kind: int) -> bytes:
    def zigzag(v: int) -> int:
        return (v << 1) ^ (v >> 63)

    commands: list[int] = []
    cx = cy = 0
    if kind == 1:
        points = [p for part in parts for p in part]
        if points:
            commands.append(len(points) << 3 | 1)
            for x, y in points:
                commands += [zigzag(x - cx), zigzag(y - cy)]
                cx, cy = x, y
    for whole in parts if kind != 1 else []:
        part = whole[:-1] if kind == 3 and len(whole) > 1 and whole[0] == whole[-1] else whole
        if len(part) < (3 if kind == 3 else 2):
            continue
        commands += [1 << 3 | 1, zigzag(part[0][0] - cx), zigzag(part[0][1] - cy)]
        cx, cy = part[0]
        commands.append((len(part) - 1) << 3 | 2)
        for x, y in part[1:]:
            commands += [zigzag(x - cx), zigzag(y - cy)]
            cx, cy = x, y
        if kind == 3:
            commands.append(1 << 3 | 7)
    return b"".join(_encode_varint(c) for c in commands)


def _ring_area(ring) -> float:
    return sum(x1 * y2 - x2 * y1 for (x1, y1), (x2, y2) in zip(ring, ring[1:] + ring[:1])) / 2


def _clip_ring(ring, box):
    """Sutherland-Hodgman: ``ring`` clipped to ``box`` (orientation kept)."""
    edges = ((0, box[0], True), (1, box[1], True), (0, box[2], False), (1, box[3], False))
    for axis, limit, keep_above in edges:
        if not ring:
            break
        side = 1 if keep_above else -1
        result = []
        for i, current in enumerate(ring):
            previous = ring[i - 1]
            if (current[axis] - limit) * side >= 0:
                if (previous[axis] - limit) * side < 0:
                    result.append(_cross(previous, current, axis, limit))
                result.append(current)
            elif (previous[axis] - limit) * side >= 0:
                result.append(_cross(previous, current, axis, limit))
        ring = result
    return ring


def _cross(a, b, axis: int, limit: float):
    t = (limit - a[axis]) / (b[axis] - a[axis])
    return (a[0] + t * (b[0] - a[0]), a[1] + t * (b[1] - a[1]))


def _clip_line(line, box):
    """Liang-Barsky per segment: the pieces of ``line`` inside ``box``."""
    pieces, current = [], []
    for a, b in zip(line, line[1:]):
        segment = _clip_segment(a, b, box)
        if segment is None:
            if len(current) > 1:
                pieces.append(current)
            current = []
            continue
        start, stop = segment
        if not current or current[-1] != start:
            if len(current) > 1:
                pieces.append(current)
            current = [start]
        current.append(stop)
        if stop != b:
            pieces.append(current)
            current = []
    if len(current) > 1:
        pieces.append(current)
    return pieces


def _clip_segment(a, b, box):
    t0, t1 = 0.0, 1.0
    dx, dy = b[0] - a[0], b[1] - a[1]
    for p, q in ((-dx, a[0] - box[0]), (dx, box[2] - a[0]), (-dy, a[1] - box[1]), (dy, box[3] - a[1])):
        if p == 0:
            if q < 0:
                return None
            continue
        t = q / p
        if p < 0:
            t0 = max(t0, t)
        else:
            t1 = min(t1, t)
        if t0 > t1:
            return None
    start = a if t0 == 0 else (a[0] + t0 * dx, a[1] + t0 * dy)
    stop = b if t1 == 1 else (a[0] + t1 * dx, a[1] + t1 * dy)
    return start, stop


class ReferenceTiles:
    """Tiles and resources of the opened packages, with ArcGIS's tile map rule (thread-safe)."""

    def __init__(self, paths: dict[str, Path]):
        from plugin.core.packages import open_package

        self.packages = {name: open_package(path) for name, path in paths.items()}
        self._lock = threading.Lock()
        self._cache: dict = {}
        self.overzoomed = 0

    def close(self) -> None:
        for pkg in self.packages.values():
            pkg.close()

    def tile(self, name: str, z: int, y: int, x: int) -> bytes | None:
        key = (name, z, y, x)
        with self._lock:
            if key in self._cache:
                return self._cache[key]
            pkg = self.packages[name]
            data = _gunzip(pkg.tile(z, y, x))
            if data is None and pkg.tilemap_status(z, y, x) != "absent":
                for depth in range(1, z + 1):
                    ancestor = _gunzip(pkg.tile(z - depth, y >> depth, x >> depth))
                    if ancestor is not None:
                        data = overzoom(ancestor, depth, y - ((y >> depth) << depth), x - ((x >> depth) << depth))
                        self.overzoomed += 1
                        break
            self._cache[key] = data
            return data

    def resource(self, name: str, path: str) -> bytes | None:
        pkg = self.packages[name]
        with self._lock:
            if path.startswith("fonts/"):  # a font stack "A,B": the first font the package has
                _fonts, stack, rng = path.split("/", 2)
                for font in stack.split(","):
                    if pkg.has_resource(f"fonts/{font}/{rng}"):
                        return pkg.resource(f"fonts/{font}/{rng}")
                return None
            return pkg.resource(path) if pkg.has_resource(path) else None

    def maxzoom(self, name: str) -> int:
        return max(self.packages[name].levels)


def _gunzip(data: bytes | None) -> bytes | None:
    if data is not None and data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    return None if data is None else without_empty_features(data)


def _varint(buf: bytes, pos: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        byte = buf[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        if byte < 0x80:
            return value, pos
        shift += 7


def _message(buf: bytes):
    """(field number, wire type, start, value start, end) of each field of a protobuf message."""
    pos = 0
    while pos < len(buf):
        start = pos
        key, pos = _varint(buf, pos)
        wire = key & 7
        if wire == 0:
            _value, end = _varint(buf, pos)
            yield key >> 3, wire, start, pos, end
        elif wire == 2:
            size, pos = _varint(buf, pos)
            yield key >> 3, wire, start, pos, pos + size
            end = pos + size
        else:
            end = pos + (8 if wire == 1 else 4)
            yield key >> 3, wire, start, pos, end
        pos = end


def without_empty_features(tile: bytes) -> bytes:
    """``tile`` without features that have no geometry (type UNKNOWN or no commands).

    QGIS's vector tile writer (the emulator's tiles) leaves one such feature in some tiles; MapLibre
    Native's line layers crash on it (MapLibre GL JS skips it), so the reference drops it."""
    out = bytearray()
    for number, wire, start, value, end in _message(tile):
        if number != 3 or wire != 2:
            out += tile[start:end]
            continue
        layer = tile[value:end]
        kept = bytearray()
        for n, w, s, v, e in _message(layer):
            if n == 2 and w == 2:
                fields = {fn: (fv, fe) for fn, fw, _fs, fv, fe in _message(layer[v:e])}
                kind = _varint(layer[v:e], fields[3][0])[0] if 3 in fields else 0
                if kind == 0 or 4 not in fields or fields[4][0] == fields[4][1]:
                    continue
            kept += layer[s:e]
        out += bytes([3 << 3 | 2]) + _encode_varint(len(kept)) + kept
    return bytes(out)


def _encode_varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def serve(tiles: ReferenceTiles) -> http.server.ThreadingHTTPServer:
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            parts = unquote(self.path.split("?", 1)[0]).strip("/").split("/")
            body = None
            try:
                if len(parts) == 5 and parts[1] == "tile" and parts[0] in tiles.packages:
                    body = tiles.tile(parts[0], int(parts[2]), int(parts[3]), int(parts[4].split(".")[0]))
                elif len(parts) > 2 and parts[1] == "res" and parts[0] in tiles.packages:
                    body = tiles.resource(parts[0], "/".join(parts[2:]))
            except (ValueError, KeyError) as exc:
                self.send_error(400, str(exc))
                return
            if body is None:
                self.send_response(404 if parts[1:2] == ["res"] else 204)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def reference_style(style: dict, base_url: str, name: str, maxzoom: int) -> dict:
    """The package's style with its source, sprite and glyphs on the reference server."""
    style = json.loads(json.dumps(style))
    for source in style.get("sources", {}).values():
        if source.get("type") == "vector":
            source.pop("url", None)
            source.update({"tiles": [f"{base_url}/{name}/tile/{{z}}/{{y}}/{{x}}.pbf"], "minzoom": 0,
                           "maxzoom": maxzoom})
    if isinstance(style.get("sprite"), str):
        style["sprite"] = f"{base_url}/{name}/res/sprites/sprite"
    if isinstance(style.get("glyphs"), str):
        style["glyphs"] = f"{base_url}/{name}/res/fonts/{{fontstack}}/{{range}}.pbf"
    return style


# -- metrics --------------------------------------------------------------------------------------------
def load_rgb(path: Path):
    """An image as H×W×3 int16, composited on white (opaque background)."""
    import numpy as np
    from PIL import Image

    image = Image.open(path).convert("RGBA")
    white = Image.new("RGBA", image.size, (255, 255, 255, 255))
    return np.asarray(Image.alpha_composite(white, image).convert("RGB"), dtype=np.int16)


def ssim(a, b) -> float:
    import numpy as np
    from scipy.ndimage import gaussian_filter

    weights = np.array([0.299, 0.587, 0.114])
    x, y = (img.astype(np.float64) @ weights for img in (a, b))
    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2

    def blur(v):
        return gaussian_filter(v, 1.5, truncate=3.5)

    mx, my = blur(x), blur(y)
    vx, vy, cov = blur(x * x) - mx * mx, blur(y * y) - my * my, blur(x * y) - mx * my
    index = ((2 * mx * my + c1) * (2 * cov + c2)) / ((mx * mx + my * my + c1) * (vx + vy + c2))
    return float(index.mean())


def unmatched(src, other):
    """Pixels of ``src`` that no pixel within 1 px of ``other`` matches within MATCH_THRESHOLD."""
    import numpy as np

    height, width, _ = src.shape
    padded = np.pad(other, ((1, 1), (1, 1), (0, 0)), mode="edge")
    matched = np.zeros((height, width), dtype=bool)
    for dy in range(3):
        for dx in range(3):
            window = padded[dy:dy + height, dx:dx + width]
            matched |= _distance(src, window) <= MATCH_THRESHOLD
    return ~matched


def _distance(a, b):
    """Euclidean RGB distance per pixel (a pale fill missing on white is ~75 away, not 57)."""
    import numpy as np

    delta = (a - b).astype(np.int32)
    return np.sqrt((delta * delta).sum(axis=2))


def compare(reference, candidate) -> tuple[dict, object]:
    diff = _distance(reference, candidate)
    structural = unmatched(reference, candidate) | unmatched(candidate, reference)
    figures = {"ssim": round(ssim(reference, candidate), 4),
               "diff30": round(float((diff > DIFF_THRESHOLD).mean()), 4),
               "struct": round(float(structural.mean()), 4)}
    return figures, structural


def side_by_side(path: Path, rows: list[list[tuple[str, object]]]) -> None:
    """A picture of ``rows`` of titled images (RGB arrays, or masks drawn red on light grey)."""
    import numpy as np
    from PIL import Image, ImageDraw

    gap, head = 6, 16
    height, width = rows[0][0][1].shape[:2]
    columns = max(len(row) for row in rows)
    sheet = Image.new("RGB", (columns * (width + gap) - gap, len(rows) * (height + head + gap)), "white")
    draw = ImageDraw.Draw(sheet)
    for r, row in enumerate(rows):
        top = r * (height + head + gap)
        for c, (title, pixels) in enumerate(row):
            if pixels.ndim == 2:
                rgb = np.full((height, width, 3), 230, dtype=np.uint8)
                rgb[pixels] = (220, 0, 0)
            else:
                rgb = pixels.astype(np.uint8)
            sheet.paste(Image.fromarray(rgb), (c * (width + gap), top + head))
            draw.text((c * (width + gap) + 2, top + 2), title, fill="black")
    sheet.save(path)


# -- running ---------------------------------------------------------------------------------------------
def _maplibre_available() -> str | None:
    """``None`` when pymgl renders here, else why not."""
    try:
        import pymgl  # noqa: F401
    except ImportError:
        return "pymgl is not installed (make bench installs it from requirements-bench.txt)"
    try:
        probe = subprocess.run([sys.executable, "-c", "import pymgl, json; pymgl.Map(json.dumps({'version': 8, "
                                "'sources': {}, 'layers': []}), 8, 8).renderPNG()"],
                               env={**os.environ, "EGL_PLATFORM": "surfaceless"}, capture_output=True,
                               timeout=MAPLIBRE_TIMEOUT_S, check=False)
    except subprocess.TimeoutExpired:
        return f"MapLibre Native did not render a test map within {MAPLIBRE_TIMEOUT_S} s"
    if probe.returncode != 0:
        last = (probe.stderr.decode(errors="replace").strip().splitlines() or [f"exit status {probe.returncode}"])[-1]
        return ("MapLibre Native cannot render headless here (it needs Debian's libegl-mesa0 and "
                f"libgl1-mesa-dri): {last[:200]}")
    return None


def _render_maplibre(style_path: Path, view: tuple, out: Path) -> None:
    _id, _pkg, lon, lat, zoom, _what = view
    subprocess.run([sys.executable, "-m", "bench.render_maplibre", str(style_path), str(lon), str(lat),
                    str(zoom), str(WIDTH), str(HEIGHT), str(out)], cwd=REPO, check=True, capture_output=True,
                   env={**os.environ, "EGL_PLATFORM": "surfaceless"}, timeout=MAPLIBRE_TIMEOUT_S)


def _plan(work: Path, packages: dict[str, Path]) -> Path:
    views = [{"id": v[0], "package": v[1], "lon": v[2], "lat": v[3], "zoom": v[4], "width": WIDTH,
              "height": HEIGHT} for v in VIEWS if v[1] in packages]
    plan = work / "plan.json"
    plan.write_text(json.dumps({"packages": {k: str(p) for k, p in packages.items()}, "views": views}, indent=1))
    return plan


def _qgis340_available() -> str | None:
    if os.geteuid() != 0:
        return "the QGIS 3.40 chroot needs root"
    if not (QGIS340_ROOT / ".aot-venv.stamp").is_file():
        return f"the QGIS 3.40 chroot is not built (bash scripts/qgis-chroot.sh 340 build; root {QGIS340_ROOT})"
    return None


def run(out_dir: Path) -> dict:
    started = time.perf_counter()
    work = out_dir / "render"
    figures: dict = {}
    reason = _maplibre_available()
    if reason is not None:
        print(f"bench: render skipped: {reason}")
        return {"render_skipped": reason}
    packages = build_packages(work / "packages")
    if "dodge" not in packages:
        figures["render_real_package_skipped"] = f"{DODGE} is absent: only the emulator's packages are drawn"
    plan = _plan(work, packages)

    # QGIS renders: 3.22 here, 3.40 in the chroot (its native vtpk path)
    legs = {"qgis322": None}
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    subprocess.run([sys.executable, "-m", "bench.render_qgis", str(plan), str(work / "qgis322")], cwd=REPO,
                   check=True, env=env, timeout=QGIS_TIMEOUT_S, capture_output=True)
    legs["qgis322"] = json.loads((work / "qgis322" / "qgis.json").read_text())
    skip340 = _qgis340_available()
    if skip340 is None:
        done = subprocess.run(["bash", "scripts/qgis-chroot.sh", "340", "shell", "/opt/aot-venv/bin/python", "-m",
                               "bench.render_qgis", str(plan), str(work / "qgis340")], cwd=REPO, env=env,
                              timeout=QGIS_TIMEOUT_S, capture_output=True, check=False)
        if done.returncode == 0:
            legs["qgis340"] = json.loads((work / "qgis340" / "qgis.json").read_text())
        else:
            skip340 = "the QGIS 3.40 render failed: " + done.stderr.decode(errors="replace")[-300:]
    if skip340 is not None:
        figures["render_qgis340_skipped"] = skip340
        print(f"bench: render on QGIS 3.40 skipped: {skip340}")

    # MapLibre reference renders, one process per map
    tiles = ReferenceTiles(packages)
    server = serve(tiles)
    base_url = f"http://127.0.0.1:{server.server_address[1]}"
    reference_dir = work / "maplibre"
    reference_dir.mkdir(parents=True, exist_ok=True)
    try:
        for name in packages:
            style = reference_style(tiles.packages[name].style, base_url, name, tiles.maxzoom(name))
            (reference_dir / f"{name}.style.json").write_text(json.dumps(style))
        for view in VIEWS:
            if view[1] in packages:
                _render_maplibre(reference_dir / f"{view[1]}.style.json", view, reference_dir / f"{view[0]}.png")
    finally:
        server.shutdown()
        server.server_close()
        tiles.close()

    per_view: dict = {}
    for view in VIEWS:
        if view[1] not in packages:
            continue
        reference = load_rgb(reference_dir / f"{view[0]}.png")
        row = {"package": view[1], "zoom": view[4], "what": view[5]}
        rows = []
        for leg in legs:
            candidate = load_rgb(work / leg / f"{view[0]}.png")
            scores, mask = compare(reference, candidate)
            row.update({f"{key}_{leg}": value for key, value in scores.items()})
            version = legs[leg]["qgis"].split("-")[0]
            rows.append([(f"{view[0]}: MapLibre Native", reference), (f"QGIS {version}", candidate),
                         (f"struct {scores['struct'] * 100:.2f} %, SSIM {scores['ssim']:.3f}", mask)])
        side_by_side(work / f"{view[0]}.png", rows)
        per_view[view[0]] = row
    figures["render_views"] = per_view
    for leg in legs:
        structs = [row[f"struct_{leg}"] for row in per_view.values()]
        ssims = [row[f"ssim_{leg}"] for row in per_view.values()]
        figures[f"render_worst_struct_{leg}"] = max(structs)
        figures[f"render_min_ssim_{leg}"] = min(ssims)
        figures[f"render_goal_met_{leg}"] = all(s <= GOAL_STRUCT for s in structs) and all(
            s >= GOAL_SSIM for s in ssims)
        figures[f"render_layers_{leg}"] = {k: v["provider"] for k, v in legs[leg]["layers"].items()}
    figures["render_reference_overzoomed_tiles"] = tiles.overzoomed
    figures["render_seconds"] = round(time.perf_counter() - started, 1)
    _print_table(per_view, list(legs))
    return figures


def _print_table(per_view: dict, legs: list[str]) -> None:
    head = "view".ljust(20) + "".join(f"{leg + ' ' + k:>20}" for leg in legs for k in ("ssim", "diff30", "struct"))
    print(head)
    for view, row in per_view.items():
        cells = []
        for leg in legs:
            cells += [f"{row[f'ssim_{leg}']:>20.4f}", f"{row[f'diff30_{leg}'] * 100:>19.2f}%",
                      f"{row[f'struct_{leg}'] * 100:>19.2f}%"]
        print(view.ljust(20) + "".join(cells))


if __name__ == "__main__":
    print(json.dumps(run(REPO / "bench" / "out"), indent=1))
