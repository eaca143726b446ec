"""A tiny Mapbox Vector Tile reader: layer names, extents, field names and types.

Only what MBTiles' ``json.vector_layers`` needs; geometries are not decoded.  Pure protobuf
wire-format walking with bounds checks: malformed input raises :class:`MvtError` (a
``ValueError``), never reads past the buffer and never loops without progress.

Tile ``{ repeated Layer layers = 3; }``; Layer ``{ name = 1; features = 2; keys = 3; values = 4;
extent = 5; version = 15 }``; Feature ``{ id = 1; tags = 2 (packed); type = 3; geometry = 4 }``;
Value ``{ string = 1; float = 2; double = 3; int = 4; uint = 5; sint = 6; bool = 7 }``.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from .formats import inflate, sniff

GEOMETRY_TYPES = {0: "Unknown", 1: "Point", 2: "LineString", 3: "Polygon"}
_MAX_FEATURES_FOR_FIELDS = 20000


class MvtError(ValueError):
    pass


def _varint(buf: bytes, pos: int, end: int) -> tuple[int, int]:
    result = 0
    shift = 0
    while True:
        if pos >= end:
            raise MvtError("truncated varint")
        byte = buf[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result, pos
        shift += 7
        if shift >= 70:
            raise MvtError("varint longer than 10 bytes")


def protobuf_fields(buf: bytes, pos: int, end: int):
    """Yield ``(field number, wire type, value)``; length-delimited values come as ``(start, stop)``."""
    while pos < end:
        key, pos = _varint(buf, pos, end)
        number, wire = key >> 3, key & 7
        if number == 0:
            raise MvtError("field number 0")
        if wire == 0:
            value, pos = _varint(buf, pos, end)
            yield number, wire, value
        elif wire == 1:
            if pos + 8 > end:
                raise MvtError("truncated fixed64")
            yield number, wire, buf[pos:pos + 8]
            pos += 8
        elif wire == 2:
            length, pos = _varint(buf, pos, end)
            if length > end - pos:
                raise MvtError("length-delimited field runs past its message")
            yield number, wire, (pos, pos + length)
            pos += length
        elif wire == 5:
            if pos + 4 > end:
                raise MvtError("truncated fixed32")
            yield number, wire, buf[pos:pos + 4]
            pos += 4
        else:
            raise MvtError(f"unsupported wire type {wire}")


def _packed(buf: bytes, start: int, stop: int) -> list[int]:
    out = []
    pos = start
    while pos < stop:
        value, pos = _varint(buf, pos, stop)
        out.append(value)
    return out


def _string(buf: bytes, span: tuple[int, int]) -> str:
    return bytes(buf[span[0]:span[1]]).decode("utf-8", errors="replace")


@dataclass
class MvtLayer:
    name: str
    version: int = 1
    extent: int = 4096
    features: int = 0
    fields: dict[str, str] = field(default_factory=dict)  # name → Number | Boolean | String
    geometry_types: set[str] = field(default_factory=set)


def _value_type(buf: bytes, span: tuple[int, int]) -> str:
    kind = "String"
    for number, _wire, _value in protobuf_fields(buf, span[0], span[1]):
        if number == 1:
            kind = "String"
        elif number == 7:
            kind = "Boolean"
        elif 2 <= number <= 6:
            kind = "Number"
    return kind


def _layer(buf: bytes, start: int, stop: int) -> MvtLayer:
    layer = MvtLayer(name="")
    keys: list[str] = []
    values: list[tuple[int, int]] = []
    features: list[tuple[int, int]] = []
    for number, wire, value in protobuf_fields(buf, start, stop):
        if number == 1 and wire == 2:
            layer.name = _string(buf, value)
        elif number == 2 and wire == 2:
            features.append(value)
        elif number == 3 and wire == 2:
            keys.append(_string(buf, value))
        elif number == 4 and wire == 2:
            values.append(value)
        elif number == 5 and wire == 0:
            layer.extent = value
        elif number == 15 and wire == 0:
            layer.version = value
    layer.features = len(features)
    value_types: dict[int, str] = {}
    for fstart, fstop in features[:_MAX_FEATURES_FOR_FIELDS]:
        tags: list[int] = []
        for number, wire, value in protobuf_fields(buf, fstart, fstop):
            if number == 2 and wire == 2:
                tags.extend(_packed(buf, value[0], value[1]))
            elif number == 3 and wire == 0:
                layer.geometry_types.add(GEOMETRY_TYPES.get(value, "Unknown"))
        for i in range(0, len(tags) - 1, 2):
            k, v = tags[i], tags[i + 1]
            if k >= len(keys) or v >= len(values):
                raise MvtError("feature tag points past the layer's keys or values")
            kind = value_types.get(v)
            if kind is None:
                kind = value_types[v] = _value_type(buf, values[v])
            name = keys[k]
            previous = layer.fields.get(name)
            layer.fields[name] = kind if previous in (None, kind) else "String"
    return layer


def decode_layers(data: bytes) -> list[MvtLayer]:
    """Layers of an MVT tile (gzip/zlib-compressed or raw protobuf bytes)."""
    if sniff(data) in ("gzip", "zlib"):
        try:
            data = inflate(data)
        except ValueError as exc:
            raise MvtError(str(exc)) from exc
    layers = []
    for number, wire, value in protobuf_fields(data, 0, len(data)):
        if number == 3 and wire == 2:
            layers.append(_layer(data, value[0], value[1]))
    return layers


def merge_vector_layers(layer_lists: list[tuple[int, list[MvtLayer]]]) -> list[dict]:
    """``vector_layers`` for MBTiles' ``json`` from ``(zoom, layers decoded at that zoom)`` pairs."""
    merged: dict[str, dict] = {}
    for zoom, layers in layer_lists:
        for layer in layers:
            entry = merged.setdefault(layer.name, {"id": layer.name, "description": "", "fields": {},
                                                   "minzoom": zoom, "maxzoom": zoom})
            entry["minzoom"] = min(entry["minzoom"], zoom)
            entry["maxzoom"] = max(entry["maxzoom"], zoom)
            for name, kind in layer.fields.items():
                previous = entry["fields"].get(name)
                entry["fields"][name] = kind if previous in (None, kind) else "String"
    return [merged[name] for name in sorted(merged)]
