"""Tile format sniffing, the exact PNG repair, gzip handling and the tiny MVT reader."""
from __future__ import annotations

import contextlib
import gzip
import zlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from plugin.core.packages import formats
from plugin.core.packages.mvt import MvtError, decode_layers, merge_vector_layers
from tests.unit.packages.helpers import mvt, mvt_gz, png


def test_sniff():
    assert formats.sniff(png()) == "png"
    assert formats.sniff(b"\xff\xd8\xff\xe0...") == "jpg"
    assert formats.sniff(gzip.compress(b"x")) == "gzip"
    assert formats.sniff(zlib.compress(b"x")) == "zlib"
    assert formats.sniff(png()[4:]) == "png-headless"
    assert formats.sniff(b"RIFF\x00\x00\x00\x00WEBPVP8 ") == "webp"
    assert formats.sniff(b"CntZImage ") == "lerc"
    assert formats.sniff(b"") == "empty"
    assert formats.sniff(mvt({"a": [{}]})) == "unknown"  # raw protobuf starts with 0x1a


def test_png_repair_only_when_exact():
    good = png(seed=9)
    assert formats.repair_png(good) is None
    assert formats.repair_png(good[4:]) == good  # signature only
    assert formats.repair_png(good[4:] + b"\xae\x42\x60\x82") == good  # + 4 surplus bytes (Usa.tpkx)
    assert formats.repair_png(good[4:] + b"12345") is None  # 5 surplus bytes: not what Esri did
    damaged = bytearray(good[4:])
    damaged[30] ^= 0xFF  # CRC mismatch inside: not a PNG even with its signature back
    assert formats.repair_png(bytes(damaged)) is None
    assert formats.is_valid_png(good) and not formats.is_valid_png(good + b"x")


def test_png_palette():
    assert formats.png_color_type(png(palette=True)) == 3 and formats.png_color_type(png()) == 2


def test_inflate_caps_and_errors():
    data = gzip.compress(b"a" * 1000) + gzip.compress(b"b" * 10)  # two gzip members
    assert formats.inflate(data) == b"a" * 1000 + b"b" * 10
    assert formats.inflate(zlib.compress(b"z" * 50)) == b"z" * 50
    with pytest.raises(ValueError, match="more than"):
        formats.inflate(gzip.compress(bytes(10**6)), limit=1000)
    with pytest.raises(ValueError, match="truncated"):
        formats.inflate(gzip.compress(b"hello world" * 100)[:20])
    with pytest.raises(ValueError, match="not gzip"):
        formats.inflate(b"plain")


def test_ensure_gzip():
    raw = mvt({"a": [{"k": 1}]})
    gz = gzip.compress(raw)
    assert formats.ensure_gzip(gz) == (gz, False)
    out, changed = formats.ensure_gzip(zlib.compress(raw))
    assert changed and gzip.decompress(out) == raw
    out, changed = formats.ensure_gzip(raw)
    assert changed and gzip.decompress(out) == raw


def test_mvt_layers_fields_and_extent():
    data = mvt_gz({"roads": [{"name": "A", "lanes": 2}, {"name": "B", "toll": False}],
                   "pois": [{"height": 1.5}, {"height": "tall"}]}, extent=131072)
    layers = {layer.name: layer for layer in decode_layers(data)}
    assert layers["roads"].fields == {"name": "String", "lanes": "Number", "toll": "Boolean"}
    assert layers["roads"].features == 2 and layers["roads"].extent == 131072
    assert layers["pois"].fields == {"height": "String"}  # mixed types → String
    assert layers["roads"].geometry_types == {"Point"}
    merged = merge_vector_layers([(3, list(layers.values())), (5, decode_layers(mvt({"roads": [{"x": 1}]})))])
    roads = next(v for v in merged if v["id"] == "roads")
    assert (roads["minzoom"], roads["maxzoom"]) == (3, 5) and roads["fields"]["x"] == "Number"


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=300))
def test_mvt_reader_never_crashes(data):
    with contextlib.suppress(MvtError):
        decode_layers(data)


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_mvt_reader_on_mutated_tiles(data):
    blob = bytearray(mvt({"roads": [{"name": "A", "n": 3}], "water": [{"deep": True}]}))
    for _ in range(data.draw(st.integers(1, 6))):
        blob[data.draw(st.integers(0, len(blob) - 1))] = data.draw(st.integers(0, 255))
    with contextlib.suppress(MvtError):
        decode_layers(bytes(blob))
