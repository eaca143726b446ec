"""Over-zoom Mapbox Vector Tiles: cut a parent tile's geometry into its four children, by hand.

Esri vector tile packages are sparse: where a tile adds no detail the package stores none, and
its tile map marks the nearest stored ancestor as a leaf that clients over-zoom.  MBTiles cannot
say "use the parent here", so the converter writes *stand-ins*: the leaf's features scaled by 2
per level, offset to the child, and clipped to the child tile plus a buffer.

Only the geometry command streams are decoded.  Every other byte of a feature (id, tags, type)
and of a layer (name, keys, values, extent, version, unknown fields) is copied as it is, so
attributes stay exactly what the package stored.  Coordinates are integers in each layer's own
extent (4096 usually; Esri writes 131072 at the deepest level of some packages).

* Polygons: Sutherland–Hodgman per ring against the buffered square (the square is convex, so
  every ring stays one ring); rings that vanish or collapse to no area are dropped, with the holes
  of a dropped exterior ring.
* Lines: clipped per segment (Liang–Barsky) into pieces.
* Points: kept when inside the child's own square (half-open, so a point lands in one tile only).

Malformed input raises :class:`.mvt.MvtError`; every loop is bounded by the input's size.
"""
from __future__ import annotations

from dataclasses import dataclass

from .formats import inflate, sniff
from .mvt import MvtError, _packed, _varint, protobuf_fields

# Clip buffer as a fraction of the extent: 1/64 of the tile (64 units at extent 4096), the
# default of geojson-vt, which MapLibre uses to cut GeoJSON into tiles.
BUFFER_DIVISOR = 64
MAX_GEOMETRY_INTS = 4_000_000  # one feature's command stream; real ones are far smaller

POINT, LINESTRING, POLYGON = 1, 2, 3
_MOVE_TO, _LINE_TO, _CLOSE_PATH = 1, 2, 7

Point = tuple  # (x, y) ints
Parts = list  # points: [pt]; lines: [[pt, ...]]; polygons: [[pt, ...] rings]


@dataclass
class Feature:
    head: bytes  # the feature's fields other than its geometry, as stored
    kind: int
    parts: Parts


@dataclass
class Layer:
    extent: int
    before: bytes  # raw fields that preceded the first feature (name, usually)
    after: bytes  # raw fields after it (keys, values, extent, version…)
    features: list


# -- protobuf writing ----------------------------------------------------------------------------
def _enc_varint(value: int, out: bytearray) -> None:
    while value > 0x7F:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)


def _enc_field_bytes(number: int, payload: bytes | bytearray, out: bytearray) -> None:
    _enc_varint(number << 3 | 2, out)
    _enc_varint(len(payload), out)
    out += payload


def _zigzag(value: int) -> int:
    return (value << 1) ^ (value >> 63)


def _unzigzag(value: int) -> int:
    return (value >> 1) ^ -(value & 1)


# -- decoding --------------------------------------------------------------------------------------
def _geometry(ints: list[int], kind: int) -> Parts:
    """Absolute coordinates of a command stream, grouped by MoveTo (rings, lines, points)."""
    parts: list[list[Point]] = []
    x = y = 0
    i, n = 0, len(ints)
    while i < n:
        command, count = ints[i] & 7, ints[i] >> 3
        i += 1
        if command == _CLOSE_PATH:
            continue
        if command not in (_MOVE_TO, _LINE_TO) or i + 2 * count > n:
            raise MvtError("malformed geometry command stream")
        for _ in range(count):
            x += _unzigzag(ints[i])
            y += _unzigzag(ints[i + 1])
            i += 2
            if command == _MOVE_TO and kind != POINT:
                parts.append([])
            if command == _MOVE_TO and kind == POINT:
                parts.append([(x, y)])
            elif parts:
                parts[-1].append((x, y))
            else:
                raise MvtError("LineTo before MoveTo")
    if kind == POINT:
        return [p[0] for p in parts]
    return parts


def _decode_feature(buf: bytes, start: int, stop: int) -> Feature | None:
    head = bytearray()
    kind = 0
    span = None
    pos = start
    while pos < stop:
        field_start = pos
        key, pos = _varint(buf, pos, stop)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, pos = _varint(buf, pos, stop)
            if number == 3:
                kind = value
        elif wire == 2:
            length, pos = _varint(buf, pos, stop)
            if length > stop - pos:
                raise MvtError("length-delimited field runs past its message")
            if number == 4:
                span = (pos, pos + length)
                pos += length
                continue
            pos += length
        elif wire == 1:
            pos += 8
        elif wire == 5:
            pos += 4
        else:
            raise MvtError(f"unsupported wire type {wire}")
        if pos > stop:
            raise MvtError("field runs past its message")
        head += buf[field_start:pos]
    if kind not in (POINT, LINESTRING, POLYGON) or span is None:
        return None  # unknown geometry type: no renderer draws it
    if span[1] - span[0] > MAX_GEOMETRY_INTS:
        raise MvtError("geometry command stream too long")
    return Feature(bytes(head), kind, _geometry(_packed(buf, span[0], span[1]), kind))


def decode_tile(data: bytes) -> list[Layer]:
    """Layers of a vector tile (gzip, zlib or raw) with their features' geometry decoded."""
    if sniff(data) in ("gzip", "zlib"):
        try:
            data = inflate(data)
        except ValueError as exc:
            raise MvtError(str(exc)) from exc
    data = bytes(data)
    layers = []
    for number, wire, value in protobuf_fields(data, 0, len(data)):
        if number == 3 and wire == 2:
            layers.append(_decode_layer(data, value[0], value[1]))
    return layers


def _decode_layer(buf: bytes, start: int, stop: int) -> Layer:
    before, after = bytearray(), bytearray()
    features = []
    extent = 4096
    pos = start
    while pos < stop:
        field_start = pos
        key, pos = _varint(buf, pos, stop)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, pos = _varint(buf, pos, stop)
            if number == 5:
                extent = value
        elif wire == 2:
            length, pos = _varint(buf, pos, stop)
            if length > stop - pos:
                raise MvtError("length-delimited field runs past its message")
            if number == 2:
                feature = _decode_feature(buf, pos, pos + length)
                pos += length
                if feature is not None:
                    features.append(feature)
                continue
            pos += length
        elif wire == 1:
            pos += 8
        elif wire == 5:
            pos += 4
        else:
            raise MvtError(f"unsupported wire type {wire}")
        if pos > stop:
            raise MvtError("field runs past its message")
        (after if features else before).extend(buf[field_start:pos])
    if extent <= 0:
        raise MvtError("layer extent must be positive")
    return Layer(extent, bytes(before), bytes(after), features)


# -- clipping ------------------------------------------------------------------------------------
def _clip_ring(ring: list[Point], lo: int, hi: int) -> list[Point]:
    """Sutherland–Hodgman against the square ``[lo, hi]²``; intersections rounded to integers."""
    out = ring
    for axis, bound, keep_above in ((0, lo, True), (0, hi, False), (1, lo, True), (1, hi, False)):
        if not out:
            return out
        src, out = out, []
        prev = src[-1]
        prev_in = prev[axis] >= bound if keep_above else prev[axis] <= bound
        for cur in src:
            cur_in = cur[axis] >= bound if keep_above else cur[axis] <= bound
            if cur_in != prev_in:
                out.append(_cut(prev, cur, axis, bound))
            if cur_in:
                out.append(cur)
            prev, prev_in = cur, cur_in
    return out


def _cut(a: Point, b: Point, axis: int, bound: int) -> Point:
    t = (bound - a[axis]) / (b[axis] - a[axis])
    other = 1 - axis
    value = round(a[other] + t * (b[other] - a[other]))
    return (bound, value) if axis == 0 else (value, bound)


def _dedupe(points: list[Point]) -> list[Point]:
    out: list[Point] = []
    for pt in points:
        if not out or pt != out[-1]:
            out.append(pt)
    return out


def _area2(ring: list[Point]) -> int:
    total = 0
    px, py = ring[-1]
    for x, y in ring:
        total += px * y - x * py
        px, py = x, y
    return total


def _clip_polygon(rings: list[list[Point]], lo: int, hi: int) -> list[list[Point]]:
    """Clip every ring; a ring with the winding of the first one is an exterior ring, the others
    are its holes (MVT 2: exterior rings and holes wind opposite ways)."""
    out: list[list[Point]] = []
    exterior_sign = 0
    keep_holes = False
    for stored in rings:
        ring = stored[:-1] if len(stored) > 1 and stored[0] == stored[-1] else stored
        if len(ring) < 3:
            continue
        area = _area2(ring)
        if area == 0:
            continue
        sign = 1 if area > 0 else -1
        if exterior_sign == 0:
            exterior_sign = sign
        exterior = sign == exterior_sign
        if not exterior and not keep_holes:
            continue
        inside = _inside(ring, lo, hi)
        if inside is False:
            clipped = []
        elif inside is True:
            clipped = ring
        else:
            clipped = _dedupe(_clip_ring(ring, lo, hi))
        if len(clipped) > 1 and clipped[0] == clipped[-1]:
            clipped.pop()
        valid = len(clipped) >= 3 and _area2(clipped) * sign > 0
        if exterior:
            keep_holes = valid
        if valid:
            out.append(clipped)
    return out


def _inside(points: list[Point], lo: int, hi: int) -> bool | None:
    """``True`` when every point is inside the square, ``False`` when the bounding box misses it,
    ``None`` otherwise (the cheap test that spares most features the clipping)."""
    xs = [p[0] for p in points]
    ys = [p[1] for p in points]
    xmin, xmax, ymin, ymax = min(xs), max(xs), min(ys), max(ys)
    if xmin >= lo and xmax <= hi and ymin >= lo and ymax <= hi:
        return True
    if xmax < lo or xmin > hi or ymax < lo or ymin > hi:
        return False
    return None


def _clip_line(line: list[Point], lo: int, hi: int) -> list[list[Point]]:
    inside = _inside(line, lo, hi) if line else False
    if inside is True:
        return [line] if len(line) >= 2 else []
    if inside is False:
        return []
    pieces: list[list[Point]] = []
    current: list[Point] = []
    for a, b in zip(line, line[1:]):
        seg = _clip_segment(a, b, lo, hi)
        if seg is None:
            if len(current) >= 2:
                pieces.append(current)
            current = []
            continue
        p, q = seg
        if current and current[-1] == p:
            current.append(q)
        else:
            if len(current) >= 2:
                pieces.append(current)
            current = [p, q]
        if q != b:  # the segment leaves the square: the piece ends here
            pieces.append(current)
            current = []
    if len(current) >= 2:
        pieces.append(current)
    return [d for d in (_dedupe(piece) for piece in pieces) if len(d) >= 2]


def _clip_segment(a: Point, b: Point, lo: int, hi: int) -> tuple[Point, Point] | None:
    """Liang–Barsky; ``None`` when the segment misses the square."""
    x0, y0 = a
    dx, dy = b[0] - x0, b[1] - y0
    t0, t1 = 0.0, 1.0
    for p, q in ((-dx, x0 - lo), (dx, hi - x0), (-dy, y0 - lo), (dy, hi - y0)):
        if p == 0:
            if q < 0:
                return None
            continue
        t = q / p
        if p < 0:
            if t > t1:
                return None
            t0 = max(t0, t)
        else:
            if t < t0:
                return None
            t1 = min(t1, t)
    start = a if t0 == 0.0 else (round(x0 + t0 * dx), round(y0 + t0 * dy))
    end = b if t1 == 1.0 else (round(x0 + t1 * dx), round(y0 + t1 * dy))
    return start, end


# -- children ------------------------------------------------------------------------------------
def child_layers(layers: list[Layer], quadrant_col: int, quadrant_row: int) -> list[Layer]:
    """The layers of one child tile (``quadrant_col``/``quadrant_row`` 0 or 1) of ``layers``.

    Layers and features that fall outside the child (plus buffer) are dropped.
    """
    out = []
    for layer in layers:
        extent = layer.extent
        buffer = max(1, extent // BUFFER_DIVISOR)
        lo, hi = -buffer, extent + buffer
        ox, oy = quadrant_col * extent, quadrant_row * extent
        features = []
        for feature in layer.features:
            kind = feature.kind
            if kind == POINT:
                parts = [(2 * x - ox, 2 * y - oy) for x, y in feature.parts]
                parts = [(x, y) for x, y in parts if 0 <= x < extent and 0 <= y < extent]
            elif kind == LINESTRING:
                parts = []
                for line in feature.parts:
                    scaled = [(2 * x - ox, 2 * y - oy) for x, y in line]
                    parts.extend(_clip_line(scaled, lo, hi))
            else:
                scaled_rings = [[(2 * x - ox, 2 * y - oy) for x, y in ring] for ring in feature.parts]
                parts = _clip_polygon(scaled_rings, lo, hi)
            if parts:
                features.append(Feature(feature.head, kind, parts))
        if features:
            out.append(Layer(extent, layer.before, layer.after, features))
    return out


# -- encoding ------------------------------------------------------------------------------------
def _encode_geometry(kind: int, parts: Parts) -> bytearray:
    ints: list[int] = []
    cx = cy = 0
    if kind == POINT:
        ints.append(_MOVE_TO | (len(parts) << 3))
        for x, y in parts:
            ints += (_zigzag(x - cx), _zigzag(y - cy))
            cx, cy = x, y
    else:
        for part in parts:
            x, y = part[0]
            ints += (_MOVE_TO | (1 << 3), _zigzag(x - cx), _zigzag(y - cy))
            cx, cy = x, y
            ints.append(_LINE_TO | ((len(part) - 1) << 3))
            for x, y in part[1:]:
                ints += (_zigzag(x - cx), _zigzag(y - cy))
                cx, cy = x, y
            if kind == POLYGON:
                ints.append(_CLOSE_PATH | (1 << 3))
    out = bytearray()
    for value in ints:
        _enc_varint(value, out)
    return out


def encode_tile(layers: list[Layer]) -> bytes:
    """Raw (uncompressed) MVT bytes of ``layers``; ``b""`` when there is nothing left."""
    tile = bytearray()
    for layer in layers:
        body = bytearray(layer.before)
        for feature in layer.features:
            fbody = bytearray(feature.head)
            _enc_field_bytes(4, _encode_geometry(feature.kind, feature.parts), fbody)
            _enc_field_bytes(2, fbody, body)
        body += layer.after
        _enc_field_bytes(3, body, tile)
    return bytes(tile)
