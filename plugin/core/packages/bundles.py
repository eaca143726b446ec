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
from itertools import compress
from operator import add, ne

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
# Reads of at most 120 KB, under glibc's 128 KB mmap threshold: their buffers come from the heap and
# are reused.  Bigger ones are mapped for each read, faulted in and handed back to the system when
# freed: with 8 MB reads that was a third of the kernel time of the merge bench at 10^6 tiles, with
# 1 MB reads still 2,800 page faults (~3 ms) of a 10^4-tile merge (1,070 now) and 151,000 at 10^6
# (35,000 now, 3 % faster)
_COALESCE_SPAN = 120 * 1024
_PREFETCH_SPAN = 8 * 1024 * 1024  # asked of the disk ahead of the reads (page cache, not our memory)
_PREFIX_SPAN = 1024 * 1024  # V1 index scan: small reads stay cheap (no fresh pages to fault in)
_PLACEHOLDERS = range(60, 60 + 4 * 128 * 128, 4)

BUNDLE_NAME = re.compile(r"^R([0-9a-f]{1,8}C[0-9a-f]{1,8})\.bundle$", re.IGNORECASE)
LEVEL_NAME = re.compile(r"^L(\d{1,3})$", re.IGNORECASE)
_USED_RUN = re.compile(rb"[^\x00]+")  # a run of used slots in a V2 index's mask
_EMPTY_ROW = bytes(PACKET)
_SLOT_BYTES = array("H", range(SLOTS)).tobytes()  # every slot number, for byte-slice copies of runs


def bundle_origin(name: str) -> tuple[int, int] | None:
    """``(row0, col0)`` of a bundle called ``R<row hex>C<col hex>.bundle``, ``None`` for other names.

    ``c`` is a hex digit, so ``R0f80C0c00`` splits two ways; Esri pads both numbers to the same
    width (four digits, more past 0xffff), names bundles on the 128-tile grid and writes an upper-case
    ``C``: the split that fits best wins (on the grid, then equal widths, then an upper-case ``C``).
    """
    match = BUNDLE_NAME.match(name)
    if not match:
        return None
    digits = match.group(1)
    best: tuple[tuple[bool, int, bool], tuple[int, int]] | None = None
    for at, char in enumerate(digits):
        row, col = digits[:at], digits[at + 1:]
        if char not in "cC" or not 0 < len(row) <= 8 or not 0 < len(col) <= 8:
            continue
        origin = int(row, 16), int(col, 16)
        score = (bool(origin[0] % PACKET or origin[1] % PACKET), abs(len(row) - len(col)), char != "C")
        if best is None or score < best[0]:
            best = (score, origin)
    return None if best is None else best[1]


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

    __slots__ = ("data", "offsets", "prefixed", "ref", "sizes", "slots")

    def __init__(self, ref: BundleRef, data: Range, slots: array, offsets: array, sizes: array,
                 prefixed: bool = False) -> None:
        self.ref = ref
        self.data = data
        self.slots = slots
        self.offsets = offsets  # offset of the first tile byte in the .bundle
        self.sizes = sizes
        # V1 sizes inferred from the distance to the next record: each read checks the record's own
        # 4-byte length prefix (just before the data) and trusts it when it is smaller
        self.prefixed = prefixed

    def _checked(self, prefix: int, size: int, offset: int) -> int:
        if prefix == size:
            return size
        if prefix > size or prefix > MAX_TILE_BYTES:
            raise package_error(self.data.name, f"the tile record at byte {offset - 4} claims {prefix} "
                                "bytes and overlaps the next record (corrupted bundle)")
        return prefix

    def __len__(self) -> int:
        return len(self.slots)

    def col_span(self) -> tuple[int, int]:
        """The first and last column holding a tile (the bundle must hold one): the first and last
        used slot of each row of slots, found by bisection."""
        slots = self.slots
        first, last = PACKET, -1
        for row in range(slots[0] // PACKET, slots[-1] // PACKET + 1):
            i = bisect_left(slots, row * PACKET)
            j = bisect_left(slots, (row + 1) * PACKET, i)
            if i < j:
                first = min(first, slots[i] - row * PACKET)
                last = max(last, slots[j - 1] - row * PACKET)
        return self.ref.col0 + first, self.ref.col0 + last

    def find(self, row: int, col: int) -> int:
        slot = PACKET * (row - self.ref.row0) + (col - self.ref.col0)
        i = bisect_left(self.slots, slot)
        if i < len(self.slots) and self.slots[i] == slot:
            return i
        return -1

    def read(self, i: int) -> bytes | None:
        offset, size = self.offsets[i], self.sizes[i]
        if not self.prefixed:
            return self.data.read_at(offset, size)
        record = self.data.read_at(offset - 4, size + 4)
        size = self._checked(struct.unpack_from("<I", record)[0], size, offset)
        return record[4:4 + size] if size else None

    def iter_addresses(self) -> Iterator[tuple[int, int, int]]:
        """``(row, col, size)`` of every tile, in slot order."""
        row0, col0 = self.ref.row0, self.ref.col0
        for slot, size in zip(self.slots, self.sizes):
            yield row0 + slot // PACKET, col0 + slot % PACKET, size

    def iter_tiles(self, views: bool = False) -> Iterator[tuple[int, int, bytes]]:
        """``(row, col, bytes)`` of every tile, read in file order with coalesced reads.

        ``views=True`` yields ``memoryview`` slices of the read buffer instead of copies.
        """
        row0, col0 = self.ref.row0, self.ref.col0
        for chunk, slots, offs, sizes in self.iter_runs():
            data = memoryview(chunk) if views else chunk
            for slot, off, size in zip(slots, offs, sizes):
                yield row0 + slot // PACKET, col0 + slot % PACKET, data[off:off + size]

    def prefetch_start(self) -> None:
        """Ask the disk for the bundle's first :data:`_PREFETCH_SPAN` bytes (a hint, before its turn
        comes: :meth:`iter_runs` keeps the disk ahead of its own reads, but its first read waits)."""
        self.data.prefetch(0, min(self.data.size, _PREFETCH_SPAN))

    def iter_runs(self, release: bool = False) -> Iterator[tuple[bytes, list[int], list[int], list[int]]]:
        """``(chunk, slots, offsets, sizes)`` per coalesced read, in file order: the tile of slot
        ``slots[k]`` is ``chunk[offsets[k]:offsets[k] + sizes[k]]`` (empty V1 records are left out).

        The converters take a run at a time: a tile costs them a list entry, not a generator step.
        ``release=True`` tells the system each run's bytes are not read again once the caller asks for
        the next (see :meth:`.Range.release`).
        """
        order = sorted(range(len(self.slots)), key=self.offsets.__getitem__)
        offsets, sizes, slots = self.offsets, self.sizes, self.slots
        n = len(order)
        lead = 4 if self.prefixed else 0
        unpack = struct.unpack_from
        i = 0
        ahead = 0  # the end of what the disk was asked to fetch already
        while i < n:
            start = offsets[order[i]] - lead
            end = start + lead + sizes[order[i]]
            j = i + 1
            while j < n:
                nxt = offsets[order[j]]
                nxt_end = nxt + sizes[order[j]]
                if nxt - end > _COALESCE_GAP or max(end, nxt_end) - start > _COALESCE_SPAN:
                    break
                end = max(end, nxt_end)
                j += 1
            if ahead < end + _PREFETCH_SPAN // 2:  # keep half a window fetched ahead of the reads
                begin = max(start, ahead)
                ahead = start + _PREFETCH_SPAN
                self.data.prefetch(begin, ahead - begin)
            chunk = self.data.read_at(start, end - start)
            run = order[i:j]
            run_offs = [offsets[k] - start for k in run]
            run_sizes = [sizes[k] for k in run]
            run_slots = [slots[k] for k in run]
            if lead:
                checked = [self._checked(unpack("<I", chunk, off - 4)[0], size, off + start)
                           for off, size in zip(run_offs, run_sizes)]
                if not all(checked):
                    kept = [k for k, size in enumerate(checked) if size]
                    run_offs = [run_offs[k] for k in kept]
                    run_slots = [run_slots[k] for k in kept]
                    checked = [checked[k] for k in kept]
                run_sizes = checked
            yield chunk, run_slots, run_offs, run_sizes
            if release:
                self.data.release(start, end - start)
            i = j


def _used_spans(mask: bytes) -> list[tuple[int, int]]:
    """``(start, end)`` of each run of non-zero bytes of a V2 index's slot mask, row by row of slots:
    an empty row is one comparison, a row without gaps two strips (a regex over the whole mask is
    slower, a byte at a time)."""
    spans = []
    for start in range(0, SLOTS, PACKET):
        row = mask[start:start + PACKET]
        if row == _EMPTY_ROW:
            continue
        first = PACKET - len(row.lstrip(b"\0"))
        last = len(row.rstrip(b"\0"))
        if row.count(0, first, last):
            spans.extend((start + match.start(), start + match.end())
                         for match in _USED_RUN.finditer(row, first, last))
        else:
            spans.append((start + first, start + last))
    return spans


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
    index = head[V2_HEADER:V2_FIXED]
    # the non-empty slots: an entry's size is in its top 3 bytes; OR-ing those bytes of every entry
    # (as three big integers) leaves a non-zero byte exactly at the used slots.  Their runs (a row of
    # a block of tiles is one) are found by one scan of that mask, and the used entries split into
    # offsets and sizes by byte-slice copies: no Python-level step per slot, used or not
    sized = 0
    for byte in (5, 6, 7):
        sized |= int.from_bytes(index[byte::8], "little")
    used_mask = sized.to_bytes(SLOTS, "little")
    if used_mask.count(0):
        spans = _used_spans(used_mask)
        used = array("H")
        used.frombytes(b"".join([_SLOT_BYTES[2 * start:2 * end] for start, end in spans]))
        entries = b"".join([index[8 * start:8 * end] for start, end in spans])
    else:  # a full bundle
        used = array("H", range(SLOTS))
        entries = index
    count = len(used)
    sizes_raw = bytearray(count * 4)  # array "I": 4 bytes wherever QGIS runs
    offsets_raw = bytearray(entries)
    for byte in range(3):
        sizes_raw[byte::4] = entries[5 + byte::8]
        offsets_raw[5 + byte::8] = bytes(count)
    offsets, sizes = array("Q", offsets_raw), array("I", sizes_raw)
    if sys.byteorder != "little":
        offsets.byteswap()
        sizes.byteswap()
    limit = data.size
    # the largest offset plus the largest size bounds every record's end: exact only when it fails
    if used and (min(offsets) < V2_FIXED or (max(offsets) + max(sizes) > limit
                                            and max(map(add, offsets, sizes)) > limit)):
        slot, offset, size = next((slot, offset, size) for slot, offset, size in zip(used, offsets, sizes)
                                  if offset < V2_FIXED or offset + size > limit)
        raise package_error(data.name, f"the index entry of slot {slot} points at bytes "
                            f"{offset}..{offset + size}, outside the bundle's {limit} bytes "
                            "(truncated or corrupted)")
    return BundleIndex(ref, data, used, offsets, sizes)


def load_v1(ref: BundleRef, data: Range, bundlx: Range) -> BundleIndex:
    if bundlx.size < V1_BUNDLX_MIN or bundlx.size > V1_BUNDLX_MIN + 1024:
        raise package_error(bundlx.name, f"the .bundlx is {bundlx.size} bytes; a Compact Cache V1 "
                            f"index has {V1_BUNDLX_MIN} or {V1_BUNDLX_MIN + 16}")
    raw = bundlx.read_at(16, SLOTS * 5)
    pairs = struct.unpack("<" + "IB" * SLOTS, raw)
    low, high = pairs[0::2], pairs[1::2]
    offsets_all = [lo | (hi << 32) for lo, hi in zip(low, high)] if any(high) else low
    limit = data.size
    # Esri points empty slot i at its own zero placeholder 60 + 4·i: skip those without reading
    used = list(compress(range(SLOTS), map(ne, offsets_all, _PLACEHOLDERS)))
    candidates = sorted(zip([offsets_all[i] for i in used], used))
    entries: list[tuple[int, int, int]] = []
    # slots pointing inside the placeholder area (not their own placeholder): their size is read
    # there (normally 0 = empty); Esri's files have none, so the area is only read when needed
    k = 0
    n = len(candidates)
    if n and candidates[0][0] < V1_PLACEHOLDERS:
        head = data.read_at(0, min(limit, V1_PLACEHOLDERS))
        while k < n and candidates[k][0] + 4 <= len(head):
            off, i = candidates[k]
            (size,) = struct.unpack_from("<I", head, off)
            if size:
                entries.append(((i % PACKET) * PACKET + i // PACKET, off + 4, size))
            k += 1
    records = candidates[k:]
    if records:
        offs = [off for off, _ in records]
        if offs[-1] + 4 > limit or offs[0] < V1_HEADER:
            bad = offs[-1] if offs[-1] + 4 > limit else offs[0]
            raise package_error(data.name, f"the .bundlx points at byte {bad}, outside the bundle "
                                f"({limit} bytes; truncated or corrupted)")
        # records are contiguous: size = distance to the next record (or the end of the bundle)
        # minus the 4-byte prefix.  Reads check each record's own prefix (BundleIndex.prefixed).
        inferred = [b - a - 4 for a, b in zip(offs, offs[1:])]
        inferred.append(limit - offs[-1] - 4)
        if min(inferred) < 0:  # two slots share a record, or records overlap: read every prefix
            return _load_v1_slow(ref, data, candidates, limit)
        if max(inferred) > MAX_TILE_BYTES:
            inferred = [min(size, MAX_TILE_BYTES) for size in inferred]
        # column-major slot i → row-major slot (i % 128)·128 + i // 128
        entries.extend(((i & 127) << 7 | i >> 7, off + 4, size)
                       for (off, i), size in zip(records, inferred) if size)
    entries.sort()
    slots = array("H", [e[0] for e in entries])
    offsets = array("Q", [e[1] for e in entries])
    sizes = array("L", [e[2] for e in entries])
    return BundleIndex(ref, data, slots, offsets, sizes, prefixed=True)


def _load_v1_slow(ref: BundleRef, data: Range, candidates: list[tuple[int, int]], limit: int) -> BundleIndex:
    """V1 index with every record's length prefix read (odd files: shared or overlapping records)."""
    entries: list[tuple[int, int, int]] = []
    n = len(candidates)
    k = 0
    unpack = struct.unpack_from
    while k < n:
        # read the length prefixes of neighbouring records in one go (records are usually contiguous)
        start = candidates[k][0]
        j = k + 1
        while j < n and candidates[j][0] - candidates[j - 1][0] <= _COALESCE_GAP \
                and candidates[j][0] + 4 - start <= _PREFIX_SPAN:
            j += 1
        group = candidates[k:j]
        last = group[-1][0]
        if last + 4 > limit:
            raise package_error(data.name, f"the .bundlx entry {group[-1][1]} points at byte {last}, "
                                f"past the end of the bundle ({limit} bytes; truncated or corrupted)")
        chunk = data.read_at(start, last + 4 - start)
        sizes_ = [unpack("<I", chunk, off - start)[0] for off, _ in group]
        for (off, i), size in zip(group, sizes_):
            if size:
                # column-major slot i → row-major slot
                entries.append(((i % PACKET) * PACKET + i // PACKET, off + 4, size))
        k = j
    if entries:
        worst = max(entries, key=lambda e: e[1] + e[2])
        if worst[1] + worst[2] > limit or max(e[2] for e in entries) > MAX_TILE_BYTES:
            raise package_error(data.name, f"a tile record at byte {worst[1] - 4} claims {worst[2]} bytes, "
                                f"beyond the bundle's {limit} bytes or the {MAX_TILE_BYTES}-byte limit "
                                "(truncated or corrupted)")
    entries.sort()
    slots = array("H", [e[0] for e in entries])
    offsets = array("Q", [e[1] for e in entries])
    sizes = array("L", [e[2] for e in entries])
    return BundleIndex(ref, data, slots, offsets, sizes)
