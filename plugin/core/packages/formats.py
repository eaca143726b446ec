"""Tile byte formats: sniffing, the PNG signature repair, gzip for vector tiles.

Tile bytes are never decoded here (no image codec in the pure core).  The only rewrites are
exact ones: the headless-PNG repair (Esri's ``Usa.tpkx`` L00/L01 tiles start at ``\\r\\n\\x1a\\n``,
the signature minus its first four bytes, and carry four surplus bytes after ``IEND``) and
re-gzipping vector tiles that are zlib-wrapped or raw (QGIS only draws gzip tiles).
"""
from __future__ import annotations

import gzip
import struct
import zlib

from ._sources import MAX_TILE_BYTES

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
HEADLESS_PNG = b"\r\n\x1a\n"  # the signature without its first 4 bytes
_LERC = (b"CntZImage ", b"Lerc2 ")

# MBTiles / file-extension names of the formats we can meet


def sniff(data: bytes) -> str:
    """Name the format of tile bytes from their first bytes.

    ``png``, ``jpg``, ``gif``, ``webp``, ``tiff``, ``lerc``, ``gzip`` (a gzip member, e.g. a vector
    tile), ``zlib``, ``png-headless`` (Esri's signature-less PNG), ``empty`` or ``unknown``.
    """
    if not data:
        return "empty"
    if data.startswith(PNG_SIGNATURE):
        return "png"
    if data.startswith(b"\xff\xd8\xff"):
        return "jpg"
    if data.startswith(b"\x1f\x8b"):
        return "gzip"
    if data.startswith(HEADLESS_PNG + b"\x00\x00\x00\x0dIHDR"):
        return "png-headless"
    if data.startswith((b"GIF87a", b"GIF89a")):
        return "gif"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    if data.startswith((b"II*\x00", b"MM\x00*")):
        return "tiff"
    if data.startswith(_LERC):
        return "lerc"
    if len(data) >= 2 and data[0] & 0x0F == 8 and data[0] >> 4 <= 7 and (data[0] << 8 | data[1]) % 31 == 0:
        return "zlib"
    return "unknown"


def png_end(data: bytes, verify_crc: bool = True) -> int:
    """Offset just after the ``IEND`` chunk of a PNG, or -1 if the chunk structure is broken."""
    if not data.startswith(PNG_SIGNATURE):
        return -1
    pos, end = 8, len(data)
    first = True
    while pos + 12 <= end:
        length, ctype = struct.unpack_from(">I4s", data, pos)
        if length > end - pos - 12:
            return -1
        if first and ctype != b"IHDR":
            return -1
        first = False
        body_end = pos + 8 + length
        if verify_crc:
            (crc,) = struct.unpack_from(">I", data, body_end)
            if zlib.crc32(memoryview(data)[pos + 4:body_end]) != crc:
                return -1
        pos = body_end + 4
        if ctype == b"IEND":
            return pos
    return -1


def is_valid_png(data: bytes) -> bool:
    """A PNG whose chunks (with CRCs) run from the signature exactly to the end of ``IEND``."""
    return png_end(data) == len(data)


def repair_png(data: bytes) -> bytes | None:
    """Repair a PNG that lost its first 4 signature bytes; ``None`` when ``data`` is not one.

    ``\\x89PNG`` is put back; the 4 bytes after ``IEND`` are dropped only when that is exactly what
    makes the chunk structure end at the end of the data (Esri's Usa.tpkx repeats the IEND CRC).
    """
    if not data.startswith(HEADLESS_PNG):
        return None
    fixed = b"\x89PNG" + data
    end = png_end(fixed)
    if end == len(fixed):
        return fixed
    if end == len(fixed) - 4:
        return fixed[:end]
    return None


def png_color_type(data: bytes) -> int | None:
    """The IHDR colour type (3 = paletted/PNG8) of a PNG, ``None`` when not a PNG."""
    if len(data) >= 26 and data.startswith(PNG_SIGNATURE) and data[12:16] == b"IHDR":
        return data[25]
    return None


def inflate(data: bytes, limit: int = MAX_TILE_BYTES) -> bytes:
    """Gunzip / inflate (zlib or raw deflate) ``data``, at most ``limit`` bytes out.

    Raises :class:`ValueError` for bytes that are not compressed or decompress to more than
    ``limit`` bytes (a bomb); callers turn that into their own error.
    """
    kind = sniff(data)
    if kind == "gzip":
        wbits = 16 + zlib.MAX_WBITS
    elif kind == "zlib":
        wbits = zlib.MAX_WBITS
    else:
        raise ValueError("not gzip or zlib data")
    out = bytearray()
    while data:
        decomp = zlib.decompressobj(wbits)
        try:
            out += decomp.decompress(data, limit + 1 - len(out))
        except zlib.error as exc:
            raise ValueError(f"corrupt compressed data ({exc})") from exc
        if len(out) > limit:
            raise ValueError(f"decompresses to more than {limit} bytes")
        if decomp.unconsumed_tail:
            raise ValueError(f"decompresses to more than {limit} bytes")
        if not decomp.eof:
            raise ValueError("truncated compressed data")
        data = decomp.unused_data  # concatenated gzip members
        if kind != "gzip" or not data.startswith(b"\x1f\x8b"):
            break
    return bytes(out)


def ensure_gzip(data: bytes) -> tuple[bytes, bool]:
    """Vector tile bytes as gzip (what QGIS draws): ``(bytes, rewritten?)``.

    gzip stays byte-for-byte; zlib-wrapped tiles are inflated and re-gzipped; raw protobuf is gzipped.
    """
    kind = sniff(data)
    if kind == "gzip":
        return data, False
    if kind == "zlib":
        try:
            data = inflate(data)
        except ValueError:
            return data, False
    return gzip.compress(data, compresslevel=6, mtime=0), True
