"""Random access to the files of a package: a folder, a zip archive or a tar archive.

A package is a little file system (``root.json``, ``conf.xml``, ``_alllayers/L00/*.bundle`` …).
:class:`Source` gives the readers one view of it whatever the container: member names are
``/``-separated and relative to the container, and :meth:`Source.open_range` returns a
:class:`Range` that reads any byte span of one member **in place**:

* folder: the file itself (``os.pread`` where the platform has it, otherwise seek + read);
* zip, STORED member: the span of the archive file that holds the member's bytes, computed from
  the member's *local* header (its name and extra field lengths may differ from the central
  directory's);
* zip, DEFLATED (or another codec zipfile knows): zipfile's own stream; small members are inflated
  once into memory, big ones are read through the stream's forward seeks;
* tar: the span of the archive holding the member (uncompressed tar); compressed tars go through
  tarfile's stream like deflated zip members, and may unpack to :data:`COMPRESSED_TAR_MAX` at most
  (listing one decompresses all of it, so a small gzip of zeros would otherwise run for minutes).

Nothing is extracted to disk.  Hostile containers end in :class:`PackageError`: member names that
climb out of the package (``../x``, ``/etc/x``, ``C:\\x``), encrypted members, declared sizes that do
not fit in the archive or are impossible for the codec (zip bombs), compressed tars that unpack to
more than :data:`COMPRESSED_TAR_MAX`, truncated members.  Links are never followed out of the
package: a tar's link members are ignored, and a folder's symbolic links (or junctions) whose target
lies outside the folder are listed as plain names that cannot be read (:class:`DirSource`).
"""
from __future__ import annotations

import bz2
import contextlib
import gzip
import logging
import lzma
import os
import re
import struct
import tarfile
import threading
import zipfile
import zlib
from collections import OrderedDict
from pathlib import Path
from typing import Any

from ..errors import PackageError

log = logging.getLogger(__name__)

MAX_TILE_BYTES = 64 * 1024 * 1024  # one tile, one record: never read more than this in one go
MAX_META_BYTES = 64 * 1024 * 1024  # one JSON/XML/resource member
INFLATE_IN_MEMORY = 128 * 1024 * 1024  # compressed members up to this size are inflated in memory…
INFLATED_BUDGET = 256 * 1024 * 1024  # …and at most this much of them is kept at a time (LRU)
DEFLATE_MAX_RATIO = 1100  # deflate cannot expand more than ~1032:1; more is a lie (a bomb)
MAX_MEMBERS = 500_000  # archive entries: a real package has a few thousand at most
# A compressed tar has no index: listing it decompresses everything, and so does each backward seek.
# No ratio tells a bomb from a real archive (zeros reach deflate's own ~1032:1 ceiling; bzip2 and xz
# have no useful one), so the bound is on the unpacked bytes themselves.
COMPRESSED_TAR_MAX = 1024 * 1024 * 1024
_CODEC_ERRORS = (OSError, EOFError, zlib.error, lzma.LZMAError, ValueError)
_TAR_CODECS = {b"\x1f\x8b": gzip.open, b"BZh": bz2.open, b"\xfd7zXZ\x00": lzma.open}
_DRIVE = re.compile(r"^[A-Za-z]:")
_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08")  # local header, empty archive, spanned
_OPEN_FILES = 32
_REPARSE_POINT = 0x400  # FILE_ATTRIBUTE_REPARSE_POINT: Windows junctions and symbolic links


def package_error(path: object, reason: str, details: str = "") -> PackageError:
    return PackageError(path=str(path), reason=reason, details=details)


def _normalise(name: str, container: Path) -> str | None:
    """``a\\b/./c`` → ``a/b/c``; ``None`` for the root; raise on names that leave the package."""
    name = name.replace("\\", "/")
    if name.startswith("/") or _DRIVE.match(name):
        raise package_error(container, f"it holds a member with an absolute path ({name!r})")
    parts = [part for part in name.split("/") if part not in ("", ".")]
    if any(part == ".." for part in parts):
        raise package_error(container, f"it holds a member whose path leaves the package ({name!r})")
    if not parts:
        return None
    return "/".join(parts)


def _decode_zip_name(info: zipfile.ZipInfo) -> str:
    """Member names without the UTF-8 flag were decoded as cp437; real ones are often GBK or UTF-8."""
    if info.flag_bits & 0x800:
        return info.filename
    try:
        raw = info.filename.encode("cp437")
    except UnicodeEncodeError:
        return info.filename
    for encoding in ("utf-8", "gbk"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    return info.filename


class Range:
    """Read byte spans of one member."""

    size: int
    name: str

    def read_at(self, offset: int, length: int) -> bytes:  # pragma: no cover - interface
        raise NotImplementedError

    def prefetch(self, offset: int, length: int) -> None:
        """Hint that ``[offset, offset + length)`` is read next (the disk can fetch it meanwhile)."""

    def release(self, offset: int, length: int) -> None:
        """Hint that ``[offset, offset + length)`` is not read again: the system may drop it from its
        page cache (a big merge then holds a bounded amount of it, instead of the whole input, and
        recycles that memory for the output it writes)."""

    def _check(self, offset: int, length: int) -> None:
        if offset < 0 or length < 0 or offset + length > self.size:
            raise package_error(
                self.name, f"a record at byte {offset} (+{length}) lies past the end of the file "
                f"({self.size} bytes): the file is truncated or corrupted")


class _FileRange(Range):
    """A span ``[base, base + size)`` of a plain file (a folder's file, a STORED zip member…)."""

    def __init__(self, handle: _Handle, base: int, size: int, name: str) -> None:
        self._handle = handle
        self._base = base
        self.size = size
        self.name = name

    def read_at(self, offset: int, length: int) -> bytes:
        self._check(offset, length)
        if length == 0:
            return b""
        data = self._handle.pread(self._base + offset, length)
        if len(data) != length:
            raise package_error(self.name, "the file is shorter than its header says (truncated)")
        return data

    def prefetch(self, offset: int, length: int) -> None:
        self._handle.willneed(self._base + offset, length)

    def release(self, offset: int, length: int) -> None:
        self._handle.dontneed(self._base + offset, length)


class _Inflated:
    """A least-recently-used set of inflated members, bounded by :data:`INFLATED_BUDGET` bytes."""

    def __init__(self) -> None:
        self._data: OrderedDict[str, bytes] = OrderedDict()
        self._total = 0
        self._lock = threading.Lock()

    def get(self, key: str, inflate) -> bytes:
        with self._lock:
            data = self._data.pop(key, None)
            if data is not None:
                self._data[key] = data
                return data
        data = inflate()
        with self._lock:
            if key not in self._data:
                self._data[key] = data
                self._total += len(data)
            while self._total > INFLATED_BUDGET and len(self._data) > 1:
                _, old = self._data.popitem(last=False)
                self._total -= len(old)
        return data

    def clear(self) -> None:
        with self._lock:
            self._data.clear()
            self._total = 0


class _InflatedRange(Range):
    """A compressed member read from its inflated bytes (inflated again if evicted meanwhile)."""

    def __init__(self, cache: _Inflated, opener, size: int, path: Path, member: str, name: str) -> None:
        self._cache = cache
        self._opener = opener
        self._path = path
        self._member = member
        self.size = size
        self.name = name

    def read_at(self, offset: int, length: int) -> bytes:
        self._check(offset, length)
        data = self._cache.get(self.name, lambda: _inflate(self._opener, self.size, self._path, self._member))
        return data[offset:offset + length]


class _StreamRange(Range):
    """A compressed member too big to inflate in memory: forward seeks in zipfile/tarfile's stream."""

    def __init__(self, opener, size: int, name: str) -> None:
        self._opener = opener
        self._stream = None
        self._lock = threading.Lock()
        self.size = size
        self.name = name

    def read_at(self, offset: int, length: int) -> bytes:
        self._check(offset, length)
        with self._lock:
            if self._stream is None:
                self._stream = self._opener()
            self._stream.seek(offset)
            data = self._stream.read(length)
        if len(data) != length:
            raise package_error(self.name, "the compressed member is shorter than declared (truncated)")
        return data

    def close(self) -> None:
        if self._stream is not None:
            self._stream.close()
            self._stream = None


class _Handle:
    """One open file shared by the ranges reading it."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._file = open(path, "rb")  # noqa: SIM115 - closed by close()
        self._fd = self._file.fileno()
        self._lock = threading.Lock()
        self.size = os.fstat(self._fd).st_size

    def pread(self, offset: int, length: int) -> bytes:
        if hasattr(os, "pread"):
            chunks = []
            while length > 0:
                chunk = os.pread(self._fd, length, offset)
                if not chunk:
                    break
                chunks.append(chunk)
                offset += len(chunk)
                length -= len(chunk)
            return chunks[0] if len(chunks) == 1 else b"".join(chunks)
        with self._lock:  # Windows: no pread
            self._file.seek(offset)
            return self._file.read(length)

    def willneed(self, offset: int, length: int) -> None:
        """Start reading ``[offset, offset + length)`` into the page cache without waiting for it."""
        if hasattr(os, "posix_fadvise") and length > 0:
            with contextlib.suppress(OSError):  # only a hint
                os.posix_fadvise(self._fd, offset, length, os.POSIX_FADV_WILLNEED)

    def dontneed(self, offset: int, length: int) -> None:
        """Let the page cache drop ``[offset, offset + length)`` (read already, not needed again)."""
        if hasattr(os, "posix_fadvise") and length > 0:
            with contextlib.suppress(OSError):  # only a hint
                os.posix_fadvise(self._fd, offset, length, os.POSIX_FADV_DONTNEED)

    def close(self) -> None:
        self._file.close()


class Source:
    """The files of a package, whatever holds them."""

    container = ""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.duplicates: list[str] = []  # member names an archive holds more than once (the first is used)

    # -- names -------------------------------------------------------------------------------
    def listdir(self, dirname: str) -> list[tuple[str, bool]]:
        """``(child name, is_dir)`` directly under ``dirname`` (``""`` = the top)."""
        raise NotImplementedError

    def isfile(self, name: str) -> bool:
        raise NotImplementedError

    def size(self, name: str) -> int:
        raise NotImplementedError

    def child(self, dirname: str, wanted: str, want_dir: bool | None = None) -> str | None:
        """The child of ``dirname`` called ``wanted``, compared case-insensitively."""
        wanted = wanted.lower()
        exact = None
        for child, is_dir in self.listdir(dirname):
            if want_dir is not None and is_dir != want_dir:
                continue
            if child.lower() == wanted:
                full = f"{dirname}/{child}" if dirname else child
                if child == wanted:
                    return full
                exact = exact or full
        return exact

    def find(self, basename: str, max_depth: int = 6, skip: tuple[str, ...] = ("_alllayers",)) -> list[str]:
        """Members called ``basename`` (case-insensitive), shallowest first."""
        found: list[str] = []
        level = [""]
        basename = basename.lower()
        visited = 0
        for _depth in range(max_depth + 1):
            next_level = []
            for dirname in level:
                visited += 1
                if visited > 5000:  # a folder that is not a package (a home directory…): stop looking
                    return sorted(found)
                for child, is_dir in self.listdir(dirname):
                    full = f"{dirname}/{child}" if dirname else child
                    if is_dir:
                        if child.lower() not in skip:
                            next_level.append(full)
                    elif child.lower() == basename:
                        found.append(full)
            if found or not next_level:
                break
            level = sorted(next_level)
        return sorted(found)

    # -- bytes -------------------------------------------------------------------------------
    def open_range(self, name: str) -> Range:
        raise NotImplementedError

    def read(self, name: str, limit: int = MAX_META_BYTES) -> bytes:
        size = self.size(name)
        if size > limit:
            raise package_error(self.path, f"{name} is {size} bytes, more than the {limit} allowed")
        return self.open_range(name).read_at(0, size)

    def close(self) -> None:
        pass


class DirSource(Source):
    """A package folder.  Links are followed only while they stay inside the folder.

    A package that arrives as a folder (unpacked from someone else's zip or tar) may hold symbolic
    links; one named like a bundle but pointing at ``/etc/passwd`` or a user's file must not be read.
    Links (and Windows junctions) whose real target is outside :attr:`root` are listed as plain names
    (never as folders, so no search walks into them), and reading one raises :class:`PackageError`.
    """

    container = "dir"

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.root = os.path.normcase(os.path.realpath(path))
        self._root_prefix = self.root.rstrip(os.sep) + os.sep
        self._handles: OrderedDict[str, _Handle] = OrderedDict()
        self._lock = threading.Lock()

    def _fs(self, name: str) -> Path:
        norm = _normalise(name, self.path) if name else None
        return self.path if norm is None else self.path.joinpath(*norm.split("/"))

    def _leaves(self, fs_path: Path | str) -> str | None:
        """The real target of ``fs_path`` when a link takes it out of the package, else ``None``."""
        real = os.path.normcase(os.path.realpath(fs_path))
        return None if real == self.root or real.startswith(self._root_prefix) else real

    def _inside(self, name: str) -> Path:
        """The file of ``name``, refused when a link on the way leads out of the package."""
        fs_path = self._fs(name)
        target = self._leaves(fs_path)
        if target is not None:
            raise package_error(self.path, f"{name or '.'} is a link to {target}, outside the package; links "
                                "that leave a package folder are not followed (copy the file into the folder "
                                "if it belongs to the package)")
        return fs_path

    def listdir(self, dirname: str) -> list[tuple[str, bool]]:
        folder = self._inside(dirname)
        try:
            with os.scandir(folder) as entries:
                return sorted((entry.name, entry.is_dir() and not (_is_link(entry) and self._leaves(entry.path)))
                              for entry in entries)
        except OSError:
            return []

    def isfile(self, name: str) -> bool:
        fs_path = self._fs(name)
        return fs_path.is_file() and self._leaves(fs_path) is None

    def size(self, name: str) -> int:
        try:
            return self._inside(name).stat().st_size
        except OSError as exc:
            raise package_error(self.path, f"{name} cannot be read ({exc.strerror or exc})") from exc

    def open_range(self, name: str) -> Range:
        return _DirRange(self, name, self.size(name), str(self._fs(name)))

    def pread(self, name: str, offset: int, length: int) -> bytes:
        with self._lock:  # a bounded set of open files, least recently used closed first
            handle = self._handles.pop(name, None)
            if handle is None:
                try:
                    handle = _Handle(self._inside(name))
                except OSError as exc:
                    raise package_error(self.path, f"{name} cannot be opened ({exc.strerror or exc})") from exc
                while len(self._handles) >= _OPEN_FILES:
                    self._handles.popitem(last=False)[1].close()
            self._handles[name] = handle
            return handle.pread(offset, length)

    def close(self) -> None:
        with self._lock:
            for handle in self._handles.values():
                handle.close()
            self._handles.clear()


def _is_link(entry: os.DirEntry) -> bool:
    """A symbolic link, or on Windows any reparse point (a junction is not ``is_symlink()`` before 3.12)."""
    if entry.is_symlink():
        return True
    if os.name != "nt":
        return False
    return bool(getattr(entry.stat(follow_symlinks=False), "st_file_attributes", 0) & _REPARSE_POINT)


class _DirRange(Range):
    def __init__(self, source: DirSource, member: str, size: int, name: str) -> None:
        self._source = source
        self._member = member
        self.size = size
        self.name = name

    def read_at(self, offset: int, length: int) -> bytes:
        self._check(offset, length)
        if length == 0:
            return b""
        data = self._source.pread(self._member, offset, length)
        if len(data) != length:
            raise package_error(self.name, "the file is shorter than it was when opened (truncated)")
        return data


class _TreeSource(Source):
    """Zip and tar: the member list is known up front and kept as a tree of names."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self._children: dict[str, dict[str, bool]] = {"": {}}
        self._files: dict[str, object] = {}
        self._inflated = _Inflated()
        self._ranges: dict[str, Range] = {}  # one per member, made on first use
        self._lock = threading.Lock()

    def _add(self, name: str, is_dir: bool, entry: object) -> None:
        norm = _normalise(name, self.path)
        if norm is None:
            return
        parts = norm.split("/")
        for depth in range(len(parts)):
            parent = "/".join(parts[:depth])
            child_is_dir = is_dir or depth < len(parts) - 1
            siblings = self._children.setdefault(parent, {})
            siblings[parts[depth]] = siblings.get(parts[depth], False) or child_is_dir
            if child_is_dir:
                self._children.setdefault("/".join(parts[:depth + 1]), {})
        if not is_dir:
            if norm not in self._files:
                self._files[norm] = entry
            else:  # the first copy is read; the others are named when the package turns out empty
                self.duplicates.append(norm)

    def listdir(self, dirname: str) -> list[tuple[str, bool]]:
        return sorted(self._children.get(dirname, {}).items())

    def isfile(self, name: str) -> bool:
        return name in self._files

    def _entry(self, name: str) -> object:
        try:
            return self._files[name]
        except KeyError:
            raise package_error(self.path, f"it has no member {name}") from None

    def open_range(self, name: str) -> Range:
        with self._lock:
            rng = self._ranges.get(name)
            if rng is None:
                rng = self._ranges[name] = self._make_range(name, self._entry(name))
            return rng

    def _make_range(self, name: str, entry: Any) -> Range:
        raise NotImplementedError

    def _close_ranges(self) -> None:
        for rng in self._ranges.values():
            if isinstance(rng, _StreamRange):
                rng.close()
        self._inflated.clear()


class ZipSource(_TreeSource):
    container = "zip"

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        entries = _zip_entry_count(path)
        if entries > MAX_MEMBERS:
            raise package_error(path, f"its zip directory declares {entries} entries, more than any tile "
                                f"package has ({MAX_MEMBERS} at most)")
        try:
            self._zip = zipfile.ZipFile(path)
        except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError,
                struct.error, UnicodeDecodeError) as exc:
            raise package_error(path, f"it is a damaged or truncated zip archive ({exc})") from exc
        try:
            self._handle = _Handle(path)
            for info in self._zip.infolist():
                self._add(_decode_zip_name(info), info.is_dir(), info)
        except BaseException:
            self.close()
            raise

    def size(self, name: str) -> int:
        return self._entry(name).file_size  # type: ignore[attr-defined]

    def _make_range(self, name: str, info: zipfile.ZipInfo) -> Range:
        label = f"{self.path}!{name}"
        if info.flag_bits & 0x1:
            raise package_error(self.path, f"{name} is encrypted")
        if info.compress_type == zipfile.ZIP_STORED:
            if info.compress_size != info.file_size:
                raise package_error(self.path, f"{name} is stored uncompressed but its two declared "
                                    f"sizes differ ({info.compress_size} and {info.file_size})")
            head = self._handle.pread(info.header_offset, 30)
            if len(head) != 30 or head[:4] != b"PK\x03\x04":
                raise package_error(self.path, f"the local header of {name} is missing or damaged")
            name_len, extra_len = struct.unpack_from("<HH", head, 26)
            start = info.header_offset + 30 + name_len + extra_len
            if start + info.file_size > self._handle.size:
                raise package_error(self.path, f"{name} claims {info.file_size} bytes but the archive "
                                    "ends before that (truncated download?)")
            return _FileRange(self._handle, start, info.file_size, label)
        # compressed: check the declared sizes before inflating anything
        if info.header_offset + info.compress_size > self._handle.size:
            raise package_error(self.path, f"{name} claims {info.compress_size} compressed bytes but "
                                "the archive ends before that (truncated download?)")
        if info.file_size > max(info.compress_size, 1) * DEFLATE_MAX_RATIO + 1024:
            raise package_error(self.path, f"{name} declares {info.file_size} bytes from "
                                f"{info.compress_size} compressed bytes, an impossible ratio (zip bomb?)")

        def opener():
            return self._zip.open(info)

        if info.file_size <= INFLATE_IN_MEMORY:
            return _InflatedRange(self._inflated, opener, info.file_size, self.path, name, label)
        return _StreamRange(opener, info.file_size, label)

    def close(self) -> None:
        self._close_ranges()
        self._zip.close()
        handle = getattr(self, "_handle", None)
        if handle is not None:
            handle.close()


def _zip_entry_count(path: Path) -> int:
    """Entries declared by the end-of-central-directory record (0 when it cannot be found)."""
    try:
        with open(path, "rb") as handle:
            handle.seek(0, os.SEEK_END)
            size = handle.tell()
            tail_len = min(size, 65536 + 22)
            handle.seek(size - tail_len)
            tail = handle.read(tail_len)
            pos = tail.rfind(b"PK\x05\x06")
            if pos < 0 or pos + 22 > len(tail):
                return 0
            (count,) = struct.unpack_from("<H", tail, pos + 10)
            if count != 0xFFFF or pos < 20 or tail[pos - 20:pos - 16] != b"PK\x06\x07":
                return count
            (z64,) = struct.unpack_from("<Q", tail, pos - 12)
            handle.seek(z64)
            record = handle.read(56)
            if len(record) < 56 or record[:4] != b"PK\x06\x06":
                return count
            return struct.unpack_from("<Q", record, 32)[0]
    except (OSError, ValueError, struct.error):
        return 0


def _inflate(opener, size: int, path: Path, name: str) -> bytes:
    try:
        with opener() as stream:
            data = stream.read(size + 1)
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, NotImplementedError, RuntimeError,
            ValueError, tarfile.TarError) as exc:
        raise package_error(path, f"{name} cannot be decompressed ({exc})") from exc
    if len(data) != size:
        raise package_error(path, f"{name} decompresses to {len(data)} bytes, not the {size} declared")
    return data


class _BoundedStream:
    """The unpacked bytes of a compressed tar for tarfile, never running past ``limit``.

    Reads are capped too: tarfile reads a GNU long-name or pax header whole, and one that claims
    gigabytes must not become an allocation.  Codec errors become :class:`PackageError`.
    """

    def __init__(self, path: Path, opener, limit: int, max_read: int) -> None:
        self._path = path
        self._limit = limit
        self._max_read = max_read
        self._stream = opener(path, "rb")

    def _too_big(self) -> PackageError:
        return package_error(self._path, f"it is a compressed tar that unpacks to more than "
                             f"{self._limit // (1024 * 1024)} MB (or a decompression bomb); compressed "
                             "archives are read from the start again and again, so unpack it (for example "
                             "with tar -xf) and open the unpacked folder or its conf.xml")

    def _codec(self, call, *args):
        try:
            return call(*args)
        except _CODEC_ERRORS as exc:
            raise package_error(self._path, f"it cannot be decompressed ({exc})") from exc

    def tell(self) -> int:
        return self._stream.tell()

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        target = offset if whence == os.SEEK_SET else self.tell() + offset if whence == os.SEEK_CUR else -1
        if target < 0 or target > self._limit:  # SEEK_END would unpack everything: tarfile never asks
            raise self._too_big()
        return self._codec(self._stream.seek, target)

    def read(self, size: int | None = -1) -> bytes:
        room = self._limit - self.tell()
        if size is None or size < 0 or size > room:
            size = room + 1  # one byte more tells an archive that ends in time from one that does not
        if size > self._max_read:
            raise package_error(self._path, f"a tar header claims {size} bytes (a damaged or hostile "
                                "archive); unpack it with tar -xf and open the folder if it is genuine")
        data = self._codec(self._stream.read, size)
        if len(data) > room:
            raise self._too_big()
        return data

    def close(self) -> None:
        self._stream.close()


class TarSource(_TreeSource):
    container = "tar"

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self._handle = _Handle(path)
        head = self._handle.pread(0, 6)
        codec = next((open_ for magic, open_ in _TAR_CODECS.items() if head.startswith(magic)), None)
        self._compressed = codec is not None
        self._stream: _BoundedStream | None = None
        try:
            if codec is None:
                self._tar = tarfile.open(path, mode="r:")  # noqa: SIM115 - closed by close()
            else:
                # members are read whole up to INFLATE_IN_MEMORY; tarfile reads nothing bigger
                self._stream = _BoundedStream(path, codec, COMPRESSED_TAR_MAX, INFLATE_IN_MEMORY + 1)
                self._tar = tarfile.open(fileobj=self._stream, mode="r:")  # type: ignore[arg-type]  # noqa: SIM115
            for count, member in enumerate(self._tar, 1):
                if count > MAX_MEMBERS:
                    raise package_error(path, f"it has more than {MAX_MEMBERS} entries, more than any "
                                        "tile package has")
                if member.isdir():
                    self._add(member.name, True, member)
                elif member.isreg():
                    if member.sparse:
                        continue
                    self._add(member.name, False, member)
        except (tarfile.TarError, OSError, EOFError, ValueError, zlib.error, lzma.LZMAError, UnicodeError) as exc:
            self.close()
            raise package_error(path, f"it is not a readable tar archive ({exc})") from exc
        except BaseException:
            self.close()
            raise

    def size(self, name: str) -> int:
        return self._entry(name).size  # type: ignore[attr-defined]

    def _make_range(self, name: str, member: tarfile.TarInfo) -> Range:
        label = f"{self.path}!{name}"
        if not self._compressed:
            if member.offset_data + member.size > self._handle.size:
                raise package_error(self.path, f"{name} claims {member.size} bytes but the archive ends "
                                    "before that (truncated)")
            return _FileRange(self._handle, member.offset_data, member.size, label)

        def opener():
            stream = self._tar.extractfile(member)
            if stream is None:
                raise package_error(self.path, f"{name} is not a regular file")
            return stream

        if member.size <= INFLATE_IN_MEMORY:
            return _InflatedRange(self._inflated, opener, member.size, self.path, name, label)
        return _StreamRange(opener, member.size, label)

    def close(self) -> None:
        self._close_ranges()
        tar = getattr(self, "_tar", None)
        if tar is not None:
            tar.close()
        if self._stream is not None:  # tarfile leaves a stream it was given open
            self._stream.close()
        self._handle.close()


def open_source(path: Path) -> tuple[Source, str | None]:
    """Open ``path`` as a container; also return the member the caller pointed at, if any.

    ``path`` may be a folder, a zip (``.vtpk``, ``.tpkx``, ``.tpk``, ``.zip``), a tar, or a
    ``conf.xml`` / ``root.json`` file inside an extracted folder.
    """
    if path.is_dir():
        return DirSource(path), None
    if not path.is_file():
        raise package_error(path, "the file does not exist")
    lower = path.name.lower()
    if lower in ("conf.xml", "root.json"):
        return DirSource(path.parent), path.name
    try:
        with open(path, "rb") as handle:
            head = handle.read(512)
    except OSError as exc:
        raise package_error(path, f"it cannot be opened ({exc.strerror or exc})") from exc
    if not head:
        raise package_error(path, "the file is empty")
    if zipfile.is_zipfile(path):
        return ZipSource(path), None
    if head.startswith(_ZIP_MAGIC):
        # a zip's directory is its last bytes: a zip without one was cut short (or damaged there)
        raise package_error(path, "it is a zip archive whose end is missing or damaged (its directory, at "
                            "the end of the file, was not found): the file is truncated, for example by an "
                            "interrupted download or copy")
    if _looks_like_tar(head, path):
        return TarSource(path), None
    kind = "a PNG image" if head.startswith(b"\x89PNG") else (
        "a JPEG image" if head.startswith(b"\xff\xd8") else
        "an HTML or XML page (an error page from a server?)" if head.lstrip()[:1] == b"<" else
        "JSON text (a server's error message?)" if head.lstrip()[:1] in (b"{", b"[") else
        "neither a zip nor a tar archive")
    raise package_error(path, f"it is not a tile package: the file is {kind}")


def _looks_like_tar(head: bytes, path: Path) -> bool:
    if head[:2] == b"\x1f\x8b" or head[:3] == b"BZh" or head[:6] == b"\xfd7zXZ\x00":
        return True
    if len(head) >= 263 and head[257:262] == b"ustar":
        return True
    try:
        return tarfile.is_tarfile(path)
    except (OSError, tarfile.TarError, ValueError, EOFError):
        return False


def read_text(data: bytes) -> str:
    """Decode JSON/XML bytes: UTF-8 (with or without BOM), UTF-16 with BOM, else latin-1."""
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", errors="replace")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16", errors="replace")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("latin-1")


