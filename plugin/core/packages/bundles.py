"""Compact Cache bundle indexes (V2 ``.bundle``; V1 ``.bundlx`` + ``.bundle``).

A bundle holds up to 128 × 128 tiles.  Only its index is read up front (V2: 64-byte header plus
16384 × 8-byte entries, row-major; V1: the 81936/81952-byte ``.bundlx`` of 5-byte offsets,
column-major, whose targets carry a 4-byte length prefix).  Tile bytes are read on demand, one
record at a time or coalesced runs of neighbouring records when iterating.

Lenient where Esri's own files need it (V2 record count 0 and junk legacy fields, gaps, empty V1
slots pointing at zero placeholders, ``.bundlx`` with or without its footer), strict where safety
needs it (offsets past the end, records larger than :data:`MAX_TILE_BYTES`).
"""
from __future__ import annotations

import re
import struct
import sys
from array import array
from bisect import bisect_left
from collections.abc import Iterator
from dataclasses import dataclass

from ._sources import MAX_TILE_BYTES, Range, package_error

PACKET = 128
SLOTS = PACKET * PACKET
V2_HEADER = 64
V2_INDEX = SLOTS * 8  # 131072
V2_FIXED = V2_HEADER + V2_INDEX  # 131136
V1_BUNDLX_MIN = 16 + SLOTS * 5  # 81936 (no footer); Esri writes 81952
V1_HEADER = 60
V1_PLACEHOLDERS = V1_HEADER + SLOTS * 4  # 65596: first byte after the empty-slot placeholders
_OFFSET_MASK = (1 << 40) - 1
_COALESCE_GAP = 64 * 1024
_COALESCE_SPAN = 8 * 1024 * 1024

BUNDLE_NAME = re.compile(r"^R([0-9a-fA-F]{1,8})C([0-9a-fA-F]{1,8})\.bundle$", re.IGNORECASE)
LEVEL_NAME = re.compile(r"^L(\d{1,3})$", re.IGNORECASE)


@dataclass
class BundleRef:
    """A bundle found by name; its index is read on first use."""

    level: int
    row0: int
    col0: int
    name: str  # member name of the .bundle
    bundlx: str | None  # member name of the .bundlx (V1) or None (V2)

    @property
    def version(self) -> int:
        return 1 if self.bundlx else 2


class BundleIndex:
    """The non-empty slots of one bundle: ``slot = 128·(row % 128) + col % 128`` ascending."""

    __slots__ = ("data", "offsets", "ref", "sizes", "slots")

    def __init__(self, ref: BundleRef, data: Range, slots: array, offsets: array, sizes: array) -> None:
        self.ref = ref
        self.data = data
        self.slots = slots
        self.offsets = offsets  # offset of the first tile byte in the .bundle
        self.sizes = sizes

    def __len__(self) -> int:
        return len(self.slots)

    def find(self, row: int, col: int) -> int:
        slot = PACKET * (row - self.ref.row0) + (col - self.ref.col0)
        i = bisect_left(self.slots, slot)
        if i < len(self.slots) and self.slots[i] == slot:
            return i
        return -1

    def read(self, i: int) -> bytes:
        return self.data.read_at(self.offsets[i], self.sizes[i])

    def address(self, i: int) -> tuple[int, int]:
        slot = self.slots[i]
        return self.ref.row0 + slot // PACKET, self.ref.col0 + slot % PACKET

    def iter_addresses(self) -> Iterator[tuple[int, int, int]]:
        """``(row, col, size)`` of every tile, in slot order."""
        row0, col0 = self.ref.row0, self.ref.col0
        for slot, size in zip(self.slots, self.sizes):
            yield row0 + slot // PACKET, col0 + slot % PACKET, size

    def iter_tiles(self) -> Iterator[tuple[int, int, bytes]]:
        """``(row, col, bytes)`` of every tile, read in file order with coalesced reads."""
        order = sorted(range(len(self.slots)), key=self.offsets.__getitem__)
        offsets, sizes, slots = self.offsets, self.sizes, self.slots
        row0, col0 = self.ref.row0, self.ref.col0
        n = len(order)
        i = 0
        while i < n:
            start = offsets[order[i]]
            end = start + sizes[order[i]]
            j = i + 1
            while j < n:
                nxt = offsets[order[j]]
                nxt_end = nxt + sizes[order[j]]
                if nxt - end > _COALESCE_GAP or max(end, nxt_end) - start > _COALESCE_SPAN:
                    break
                end = max(end, nxt_end)
                j += 1
            chunk = self.data.read_at(start, end - start)
            view = memoryview(chunk)
            for k in range(i, j):
                idx = order[k]
                off = offsets[idx] - start
                slot = slots[idx]
                yield row0 + slot // PACKET, col0 + slot % PACKET, bytes(view[off:off + sizes[idx]])
            i = j


def load_v2(ref: BundleRef, data: Range) -> BundleIndex:
    if data.size < V2_FIXED:
        raise package_error(data.name, f"the bundle is {data.size} bytes, shorter than its "
                            f"{V2_FIXED}-byte header and index (truncated)")
    head = data.read_at(0, V2_FIXED)
    version, _count, _maxsize, offset_bytes = struct.unpack_from("<4I", head, 0)
    (user_header_offset,) = struct.unpack_from("<Q", head, 32)
    (index_size,) = struct.unpack_from("<I", head, 60)
    if version != 3 or offset_bytes != 5 or user_header_offset != 40 or index_size != V2_INDEX:
        raise package_error(data.name, "it is not a Compact Cache V2 bundle (header: version "
                            f"{version}, offset size {offset_bytes}, user header at {user_header_offset}, "
                            f"index size {index_size})")
    entries = array("Q", head[V2_HEADER:V2_FIXED])
    if sys.byteorder != "little":
        entries.byteswap()
    slots, offsets, sizes = array("H"), array("Q"), array("L")
    limit = data.size
    for slot, entry in enumerate(entries):
        if entry >> 40:
            size = entry >> 40
            offset = entry & _OFFSET_MASK
            if offset < V2_FIXED or offset + size > limit:
                raise package_error(data.name, f"the index entry of slot {slot} points at bytes "
                                    f"{offset}..{offset + size}, outside the bundle's {limit} bytes "
                                    "(truncated or corrupted)")
            slots.append(slot)
            offsets.append(offset)
            sizes.append(size)
    return BundleIndex(ref, data, slots, offsets, sizes)


def load_v1(ref: BundleRef, data: Range, bundlx: Range) -> BundleIndex:
    if bundlx.size < V1_BUNDLX_MIN or bundlx.size > V1_BUNDLX_MIN + 1024:
        raise package_error(bundlx.name, f"the .bundlx is {bundlx.size} bytes; a Compact Cache V1 "
                            f"index has {V1_BUNDLX_MIN} or {V1_BUNDLX_MIN + 16}")
    raw = bundlx.read_at(16, SLOTS * 5)
    pairs = struct.unpack("<" + "IB" * SLOTS, raw)
    limit = data.size
    head_len = min(limit, V1_PLACEHOLDERS)
    head = data.read_at(0, head_len)
    found: list[tuple[int, int, int]] = []
    for i in range(SLOTS):
        offset = pairs[2 * i] | (pairs[2 * i + 1] << 32)
        if offset + 4 <= head_len:
            (size,) = struct.unpack_from("<I", head, offset)
        elif offset + 4 <= limit:
            (size,) = struct.unpack("<I", data.read_at(offset, 4))
        else:
            raise package_error(data.name, f"the .bundlx entry {i} points at byte {offset}, past the "
                                f"end of the bundle ({limit} bytes; truncated or corrupted)")
        if size == 0:
            continue
        if size > MAX_TILE_BYTES or offset + 4 + size > limit:
            raise package_error(data.name, f"the tile record at byte {offset} claims {size} bytes, "
                                f"beyond the bundle's {limit} bytes (truncated or corrupted)")
        row, col = i % PACKET, i // PACKET  # column-major
        found.append((PACKET * row + col, offset + 4, size))
    found.sort()
    slots = array("H", (slot for slot, _, _ in found))
    offsets = array("Q", (off for _, off, _ in found))
    sizes = array("L", (size for _, _, size in found))
    return BundleIndex(ref, data, slots, offsets, sizes)
