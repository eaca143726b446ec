"""Builders for package tests: small valid tiles, MVT bytes, service documents, crafted zips.

Bundle bytes come from the emulator's writers (``arcgis_emulator.writers``); the helpers here add
what real files do and writers do not (Esri's header dialect, gaps, GBK names, deflate…).
"""
from __future__ import annotations

import gzip
import json
import struct
import zipfile
import zlib
from pathlib import Path

from arcgis_emulator.writers import cache_conf_xml, v1_bundle, v2_bundle

WM_HALF = 20037508.342787
WM_RES0_256 = 156543.03392800014
WM_RES0_512 = 78271.51696400007


def png(width: int = 8, height: int = 8, seed: int = 0, palette: bool = False) -> bytes:
    """A valid PNG (truecolour, or paletted when ``palette``) with content depending on ``seed``."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    if palette:
        raw = b"".join(b"\x00" + bytes((x + y + seed) % 4 for x in range(width)) for y in range(height))
        plte = bytes([seed % 256, 40, 80, 200, 10, 10, 10, 200, 30, 90, 90, 90])
        return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 3, 0, 0, 0))
                + chunk(b"PLTE", plte) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))
    raw = b"".join(
        b"\x00" + b"".join(bytes(((x * 7 + seed) % 256, (y * 11 + seed) % 256, (seed * 13) % 256))
                           for x in range(width))
        for y in range(height))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


# -- a tiny protobuf / MVT encoder ---------------------------------------------------------------
def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _field(number: int, wire: int, payload: bytes | int) -> bytes:
    key = _varint(number << 3 | wire)
    if wire == 0:
        return key + _varint(payload)  # type: ignore[arg-type]
    if wire == 2:
        return key + _varint(len(payload)) + payload  # type: ignore[arg-type]
    return key + payload  # type: ignore[operator]


def _value(v) -> bytes:
    if isinstance(v, bool):
        return _field(7, 0, int(v))
    if isinstance(v, int):
        return _field(6, 0, (v << 1) ^ (v >> 63))
    if isinstance(v, float):
        return _field(3, 1, struct.pack("<d", v))
    return _field(1, 2, str(v).encode())


def mvt(layers: dict[str, list[dict]], extent: int = 4096) -> bytes:
    """Raw MVT bytes: ``{layer name: [feature properties, …]}``; every feature is a point."""
    out = b""
    for name, features in layers.items():
        keys: list[str] = []
        values: list = []
        body = _field(15, 0, 2) + _field(1, 2, name.encode())
        for i, props in enumerate(features):
            tags = []
            for k, v in props.items():
                if k not in keys:
                    keys.append(k)
                if (type(v), v) not in [(type(x), x) for x in values]:
                    values.append(v)
                tags += [keys.index(k), [(type(x), x) for x in values].index((type(v), v))]
            geom = [9, 2 * (i % 100), 2 * (i % 50)]  # MoveTo(1) zigzag x, y
            feat = _field(1, 0, i + 1) + _field(3, 0, 1)
            if tags:
                feat += _field(2, 2, b"".join(_varint(t) for t in tags))
            feat += _field(4, 2, b"".join(_varint(g) for g in geom))
            body += _field(2, 2, feat)
        for k in keys:
            body += _field(3, 2, k.encode())
        for v in values:
            body += _field(4, 2, _value(v))
        body += _field(5, 0, extent)
        out += _field(3, 2, body)
    return out


def _zz(v: int) -> int:
    return (v << 1) ^ (v >> 63)


def _geometry_ints(kind: str, parts: list) -> list[int]:
    """Command stream of a Point (``[(x, y), …]``), LineString (``[[(x, y), …], …]``) or Polygon
    (``[[ring], …]``, exterior rings clockwise in tile coordinates, holes anticlockwise)."""
    out: list[int] = []
    cx = cy = 0
    if kind == "Point":
        out.append(1 | len(parts) << 3)
        for x, y in parts:
            out += [_zz(x - cx), _zz(y - cy)]
            cx, cy = x, y
        return out
    for part in parts:
        x, y = part[0]
        out += [1 | 1 << 3, _zz(x - cx), _zz(y - cy)]
        cx, cy = x, y
        out.append(2 | (len(part) - 1) << 3)
        for x, y in part[1:]:
            out += [_zz(x - cx), _zz(y - cy)]
            cx, cy = x, y
        if kind == "Polygon":
            out.append(7 | 1 << 3)
    return out


GEOM_TYPE = {"Point": 1, "LineString": 2, "Polygon": 3}


def mvt_shapes(layers: dict[str, list[tuple[str, list, dict]]], extent: int = 4096) -> bytes:
    """Raw MVT bytes: ``{layer: [(kind, parts, properties), …]}`` with real geometry (see
    :func:`_geometry_ints`); string properties only."""
    out = b""
    for name, features in layers.items():
        keys: list[str] = []
        values: list[str] = []
        body = _field(15, 0, 2) + _field(1, 2, name.encode())
        for i, (kind, parts, props) in enumerate(features):
            tags = []
            for k, v in props.items():
                if k not in keys:
                    keys.append(k)
                if v not in values:
                    values.append(v)
                tags += [keys.index(k), values.index(v)]
            feat = _field(1, 0, i + 1) + _field(3, 0, GEOM_TYPE[kind])
            if tags:
                feat += _field(2, 2, b"".join(_varint(t) for t in tags))
            feat += _field(4, 2, b"".join(_varint(g) for g in _geometry_ints(kind, parts)))
            body += _field(2, 2, feat)
        for k in keys:
            body += _field(3, 2, k.encode())
        for v in values:
            body += _field(4, 2, _value(v))
        body += _field(5, 0, extent)
        out += _field(3, 2, body)
    return out


def mvt_gz(layers: dict[str, list[dict]], extent: int = 4096) -> bytes:
    return gzip.compress(mvt(layers, extent), mtime=0)


# -- service documents ---------------------------------------------------------------------------
def wm_doc(name: str = "Test", tile: int = 256, levels: int = 20, fmt: str = "PNG", first_zoom: int = 0) -> dict:
    """A Web Mercator ``?f=json`` document; LevelID 0 is web zoom ``first_zoom``."""
    res0 = (WM_RES0_256 if tile == 256 else WM_RES0_512) / 2 ** first_zoom
    sr = {"wkid": 102100, "latestWkid": 3857}
    return {
        "name": name, "spatialReference": sr,
        "tileInfo": {"rows": tile, "cols": tile, "dpi": 96, "format": fmt, "compressionQuality": 0,
                     "origin": {"x": -WM_HALF, "y": WM_HALF}, "spatialReference": sr,
                     "lods": [{"level": i, "resolution": res0 / 2 ** i,
                               "scale": 591657527.591555 / 2 ** (i + first_zoom)} for i in range(levels)]},
        "fullExtent": {"xmin": -WM_HALF, "ymin": -WM_HALF, "xmax": WM_HALF, "ymax": WM_HALF, "spatialReference": sr},
    }


def geo_doc(name: str = "Geo", tile: int = 512, levels: int = 6) -> dict:
    sr = {"wkid": 4326, "latestWkid": 4326}
    return {
        "name": name, "spatialReference": sr,
        "tileInfo": {"rows": tile, "cols": tile, "dpi": 96, "format": "PNG", "compressionQuality": 0,
                     "origin": {"x": -180, "y": 90}, "spatialReference": sr,
                     "lods": [{"level": i, "resolution": 0.703125 / 2 ** i, "scale": 295829355.45 / 2 ** i}
                              for i in range(levels)]},
        "fullExtent": {"xmin": -180, "ymin": -90, "xmax": 180, "ymax": 90, "spatialReference": sr},
    }


def stateplane_doc(resolutions: list[float]) -> dict:
    """A State Plane (EPSG:2234, feet) scheme with non-halving levels (like the pairwinter CT service)."""
    sr = {"wkid": 2234, "latestWkid": 2234}
    return {
        "name": "CT", "spatialReference": sr,
        "tileInfo": {"rows": 256, "cols": 256, "dpi": 96, "format": "PNG", "compressionQuality": 0,
                     "origin": {"x": -1.21e8, "y": 1.21e8}, "spatialReference": sr,
                     "lods": [{"level": i, "resolution": r, "scale": r * 96 / 0.0254 / 3.28}
                              for i, r in enumerate(resolutions)]},
        "fullExtent": {"xmin": 700000, "ymin": 500000, "xmax": 1300000, "ymax": 1000000, "spatialReference": sr},
    }


# -- checks on outputs ----------------------------------------------------------------------------
def assert_center_in_view(meta: dict) -> tuple[float, float, int]:
    """MBTiles ``center`` is ``lon,lat,zoom``: a default view inside ``bounds`` at a zoom it stores."""
    west, south, east, north = map(float, meta["bounds"].split(","))
    lon, lat, zoom = meta["center"].split(",")
    assert west < float(lon) < east and south < float(lat) < north, (meta["center"], meta["bounds"])
    assert int(meta["minzoom"]) <= int(zoom) <= int(meta["maxzoom"]), (meta["center"], meta["minzoom"])
    return float(lon), float(lat), int(zoom)


# -- crafted packages -----------------------------------------------------------------------------
def esri_dialect(bundle: bytes) -> bytes:
    """Rewrite a spec V2 header the way ArcGIS Server does (record count 0, junk max size, legacy 0)."""
    head = bytearray(bundle[:64])
    struct.pack_into("<I", head, 4, 0)
    struct.pack_into("<I", head, 8, 131092)
    struct.pack_into("<I", head, 48, 0)
    return bytes(head) + bundle[64:]


def v2_with_gap(tiles: dict[tuple[int, int], bytes], gap: int = 1000) -> bytes:
    """A V2 bundle whose records start ``gap`` junk bytes after the index (offsets shifted)."""
    plain = v2_bundle(tiles)
    index = list(struct.unpack_from("<16384Q", plain, 64))
    shifted = [(v & ((1 << 40) - 1)) + gap | (v >> 40) << 40 if v >> 40 else v for v in index]
    return plain[:64] + struct.pack("<16384Q", *shifted) + b"\xAB" * gap + plain[131136:]


def write_zip(path: Path, members: dict[str, bytes], *, deflate: bool = False,
              raw_names: dict[str, bytes] | None = None) -> Path:
    """A zip with ``members``; ``raw_names`` maps a member to the raw bytes of its name (no UTF-8 flag)."""
    compression = zipfile.ZIP_DEFLATED if deflate else zipfile.ZIP_STORED
    with zipfile.ZipFile(path, "w", compression) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    if raw_names:
        blob = path.read_bytes()
        for name, raw in raw_names.items():
            encoded = name.encode("utf-8")
            assert len(encoded) == len(raw), "raw name must have the same length"
            blob = blob.replace(encoded, raw)
        # clear the UTF-8 flag (bit 11) zipfile sets for non-ASCII names
        blob = bytearray(blob)
        for sig, flag_at in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
            start = 0
            while (pos := blob.find(sig, start)) >= 0:
                (flags,) = struct.unpack_from("<H", blob, pos + flag_at)
                struct.pack_into("<H", blob, pos + flag_at, flags & ~0x800)
                start = pos + 4
        path.write_bytes(bytes(blob))
    return path


def tpkx_members(doc: dict, bundles: dict[str, bytes], *, root_extra: dict | None = None) -> dict[str, bytes]:
    """Members of a minimal tpkx: ``bundles`` maps ``Lxx/RrrrrCcccc.bundle`` to bytes."""
    ti = doc["tileInfo"]
    root = {"name": doc["name"], "tileBundlesPath": "./tile", "spatialReference": doc["spatialReference"],
            "tileInfo": {k: ti[k] for k in ("rows", "cols", "dpi", "origin", "spatialReference", "lods")},
            "tileImageInfo": {"format": ti.get("format", "PNG"), "compressionQuality": 0},
            "storageInfo": {"storageFormat": "esriMapCacheStorageModeCompactV2", "packetSize": 128},
            "fullExtent": doc["fullExtent"]}
    root.update(root_extra or {})
    members = {"root.json": json.dumps(root).encode(),
               "iteminfo.json": json.dumps({"name": doc["name"], "title": doc["name"] + " title"}).encode()}
    for name, data in bundles.items():
        members[f"tile/{name}"] = data
    return members


def tpk_members(doc: dict, bundles: dict[str, tuple[bytes, bytes]], root: str = "v101/Layers") -> dict[str, bytes]:
    members = {f"{root}/conf.xml": cache_conf_xml(doc, storage_format="esriMapCacheStorageModeCompact").encode()}
    for name, (bundle, bundlx) in bundles.items():
        members[f"{root}/_alllayers/{name}"] = bundle
        members[f"{root}/_alllayers/{name[:-7]}.bundlx"] = bundlx
    return members


def one_bundle_tiles(level_tiles: dict[tuple[int, int], bytes]) -> bytes:
    return v2_bundle(level_tiles)


def v1(tiles: dict[tuple[int, int], bytes], footer: bool = True) -> tuple[bytes, bytes]:
    bundle, bundlx = v1_bundle(tiles)
    return bundle, bundlx if footer else bundlx[:-16]


# -- sparse vector packages -----------------------------------------------------------------------
def _tile_ranges(pkg, level: int) -> tuple[int, int, int, int]:
    """Rows and columns of ``level`` touching the package's data extent (on the XYZ grid)."""
    top = (1 << level) - 1
    ext = pkg.data_extent()
    if ext is None:
        return 0, top, 0, top
    r0, r1 = pkg.scheme.row_range(level, ext.ymin, ext.ymax)
    c0, c1 = pkg.scheme.col_range(level, ext.xmin, ext.xmax)
    return max(r0, 0), min(r1, top), max(c0, 0), min(c1, top)


def ancestor_places(pkg, max_places: int = 200_000) -> dict[tuple[int, int, int], tuple[int, int, int]]:
    """Every place (level, row, col) of the stored levels' range, inside the data extent, where the
    tile map says a stored ancestor is drawn, → that ancestor (found by walking up)."""
    levels = pkg.levels
    places = {}
    for level in range(min(levels), max(levels) + 1):
        r0, r1, c0, c1 = _tile_ranges(pkg, level)
        assert (r1 - r0 + 1) * (c1 - c0 + 1) + len(places) <= max_places, "test package too big to walk"
        for row in range(r0, r1 + 1):
            for col in range(c0, c1 + 1):
                if pkg.tilemap_status(level, row, col) != "ancestor":
                    continue
                up = 1
                while not pkg.has_tile(level - up, row >> up, col >> up):
                    up += 1
                places[(level, row, col)] = (level - up, row >> up, col >> up)
    return places


def _inside_ring(x: float, y: float, ring: list) -> bool:
    inside = False
    for (x1, y1), (x2, y2) in zip(ring, ring[1:] + ring[:1]):
        if (y1 > y) != (y2 > y) and x < x1 + (y - y1) * (x2 - x1) / (y2 - y1):
            inside = not inside
    return inside


def must_draw(leaf_layers, leaf: tuple[int, int, int], place: tuple[int, int, int]) -> bool:
    """Whether the over-zoomed leaf certainly has something at ``place``: a vertex strictly inside
    the place's square, or the square's centre inside a polygon (even-odd over its rings)."""
    d = place[0] - leaf[0]
    for layer in leaf_layers:
        size = layer.extent / (1 << d)  # the place's square in the leaf's coordinates
        x0 = (place[2] - (leaf[2] << d)) * size
        y0 = (place[1] - (leaf[1] << d)) * size
        cx, cy = x0 + size / 2, y0 + size / 2
        for feature in layer.features:
            if feature.kind == 1:
                points = feature.parts
            else:
                points = [pt for part in feature.parts for pt in part]
            if any(x0 < x < x0 + size and y0 < y < y0 + size for x, y in points):
                return True
            if feature.kind == 3 and sum(_inside_ring(cx, cy, ring) for ring in feature.parts) % 2:
                return True
    return False


def assert_no_holes(src, mbtiles, background_layer: str | None = None) -> dict:
    """A converted sparse vector package: every stored tile byte for byte, a tile wherever the tile
    map points to an ancestor that has something there, and nothing but the empty background tile
    (standins.empty_tile) anywhere else (``empty``: places under a leaf that has nothing there;
    ``background``: the other places with the empty tile).  Returns counts."""
    import sqlite3

    from plugin.core.packages import open_package
    from plugin.core.packages.formats import inflate
    from plugin.core.packages.overzoom import decode_tile
    from plugin.core.packages.standins import empty_tile

    con = sqlite3.connect(mbtiles)
    try:
        if background_layer is None:  # the first of the package's layers names the empty tile's layer
            meta = dict(con.execute("SELECT name, value FROM metadata"))
            layers = json.loads(meta.get("json", "{}")).get("vector_layers") or [{"id": "background"}]
            background_layer = layers[0]["id"]
        rows = {(z, (1 << z) - 1 - y, x): bytes(d) for z, x, y, d in con.execute("SELECT * FROM tiles")}
    finally:
        con.close()
    background = empty_tile(background_layer)
    counts = {"stored": 0, "places": 0, "filled": 0, "empty": 0}
    with open_package(src) as pkg:
        for tile in pkg.iter_tiles():
            key = (tile.level, tile.row, tile.col)
            if tile.data[:2] == b"\x1f\x8b":
                assert rows.get(key) == tile.data, key  # byte for byte
            else:
                assert gzip.decompress(rows[key]) == inflate(tile.data), key
            counts["stored"] += 1
        places = ancestor_places(pkg)
        decoded = {}
        for place, leaf in places.items():
            counts["places"] += 1
            if place in rows and rows[place] != background:
                counts["filled"] += 1
                assert gzip.decompress(rows[place]), place
                continue
            if leaf not in decoded:
                decoded[leaf] = decode_tile(pkg.tile(*leaf))
            assert not must_draw(decoded[leaf], leaf, place), f"hole at {place} (ancestor {leaf})"
            counts["empty"] += 1
        extra = set(rows) - set(places) - {t[:3] for t in pkg.iter_index()}
        drawn = [key for key in extra if rows[key] != background]
        counts["background"] = len(extra) - len(drawn)
        assert not drawn, f"tiles where the package has none and draws no ancestor: {sorted(drawn)[:5]}"
    return counts


def glyph_pbf(advances: dict[int, int], name: str = "Test Regular", start: int = 0) -> bytes:
    """A glyph range file (fontnik's protobuf: glyphs → stacks → glyphs with id, bitmap, metrics and
    advance) with the given advance per code point; bitmaps are 1×1 placeholders."""
    glyphs = b"".join(
        _field(3, 2, _field(1, 0, code) + _field(2, 2, b"\x00" * 49) + _field(3, 0, 1) + _field(4, 0, 1)
               + _field(5, 0, 0) + _field(6, 0, _zz(-20)) + _field(7, 0, advance))
        for code, advance in sorted(advances.items()))
    stack = _field(1, 2, name.encode()) + _field(2, 2, f"{start}-{start + 255}".encode()) + glyphs
    return _field(1, 2, stack)
