"""Streaming, resumable package downloads.

The file is written to ``<target>.part`` in fixed-size chunks (constant memory), resumed after a
dropped connection with ``Range`` + ``If-Range`` (restarted cleanly when the server ignores the
range or the file changed), checked against the free disk space before writing, verified (size, and
a zip whose central directory and local headers read) and only then renamed to ``target`` with
``os.replace`` — nothing half-written ever carries the final name.  Cancelling keeps the ``.part``
and its :class:`DownloadState` for a later resume.

Pre-signed URLs (ArcGIS Online's S3 links) get no auth header and no extra query parameter.
"""
from __future__ import annotations

import contextlib
import logging
import os
import re
import shutil
import socket
import struct
import zipfile
import zlib
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Callable

import requests

from .auth import NO_AUTH
from .errors import (
    ArcGISOfflineTilesError,
    CancelledError,
    DiskError,
    NetworkError,
    PackageError,
    redact,
)
from .http import REAL_CLOCK, CancelToken, arcgis_error, check_cancel, host_key

LOG = logging.getLogger(__name__)

CHUNK_SIZE = 1 << 20
DISK_MARGIN = 16 << 20  # keep this much free on top of the download
DEEP_CHECK_MAX = 2 << 30  # CRC-check packages up to this size (about 1 s per GB when cached)
MAX_STALLED_RECONNECTS = 5  # reconnects in a row without a single new byte
PRESIGNED_MARKERS = ("x-amz-signature=", "x-amz-credential=", "signature=", "sig=", "se=", "x-goog-signature=")
ZIP_LOCAL_HEADER = b"PK\x03\x04"
_CONTENT_RANGE = re.compile(r"bytes\s+(\d+)-(\d+)/(\d+|\*)", re.IGNORECASE)
_DROP_ERRORS = (requests.exceptions.ChunkedEncodingError, requests.exceptions.ConnectionError,
                requests.exceptions.Timeout, NetworkError)


def part_path(target: str | os.PathLike) -> Path:
    return Path(f"{os.fspath(target)}.part")


def looks_presigned(url: str) -> bool:
    """True for URLs that carry their own signature (S3/Azure/GCS) and must be sent unchanged."""
    query = url.split("?", 1)[1].lower() if "?" in url else ""
    return any(("&" + query).find("&" + marker) >= 0 for marker in PRESIGNED_MARKERS)


@dataclass
class DownloadState:
    """What a resume needs; stored in the job record (JSON-serialisable)."""

    url: str
    target: str
    bytes_done: int = 0
    total: int | None = None
    etag: str | None = None
    last_modified: str | None = None
    presigned: bool = False
    complete: bool = False

    @property
    def part(self) -> Path:
        return part_path(self.target)

    def to_dict(self) -> dict:
        return {**asdict(self), "part_path": str(self.part)}

    @classmethod
    def from_dict(cls, data: dict) -> DownloadState:
        """From a job record; ValueError when a field has the wrong type (a damaged record)."""
        known = {k: data[k] for k in cls.__dataclass_fields__ if k in data}
        for name, value in known.items():
            allowed = _STATE_TYPES[name]
            if not isinstance(value, allowed) or (isinstance(value, bool) and bool not in allowed):
                raise ValueError(f"download field {name} is a {type(value).__name__}")
        if not known.get("url") or not known.get("target"):
            raise ValueError("a download has no url or target")
        return cls(**known)


_OPTIONAL_TEXT = (str, type(None))
_STATE_TYPES: dict[str, tuple[type, ...]] = {
    "url": (str,), "target": (str,), "bytes_done": (int,), "total": (int, type(None)), "etag": _OPTIONAL_TEXT,
    "last_modified": _OPTIONAL_TEXT, "presigned": (bool,), "complete": (bool,),
}


@dataclass(frozen=True)
class DownloadProgress:
    url: str
    bytes_done: int
    total: int | None

    @property
    def fraction(self) -> float | None:
        return self.bytes_done / self.total if self.total else None


ProgressCb = Callable[[DownloadProgress], None]
StateCb = Callable[[DownloadState], None]


def check_package(path: str | os.PathLike, expected_size: int | None = None,
                  deep_max: int = DEEP_CHECK_MAX) -> None:
    """Integrity check of a downloaded package.

    Always: the size, the zip central directory and each entry's local header.  Files up to
    ``deep_max`` bytes also get their entries' CRC-32 checked (reading STORED entries straight
    through ``zlib.crc32`` — as fast as the disk — instead of ``testzip``'s decompressing reads),
    which catches bytes damaged in the middle of a tile bundle.
    """
    path = Path(path)
    size = path.stat().st_size
    if expected_size is not None and size != expected_size:
        raise PackageError(path=path.name, reason=f"it has {size} bytes instead of {expected_size} "
                           "(the download is incomplete)")
    try:
        with open(path, "rb") as fh:
            if fh.read(4) != ZIP_LOCAL_HEADER:
                raise PackageError(path=path.name, reason="it is not a zip file (the server sent "
                                   "something else than a tile package)")
            with zipfile.ZipFile(fh) as zf:
                infos = zf.infolist()
                if not infos:
                    raise PackageError(path=path.name, reason="the package is empty")
                for info in infos:
                    fh.seek(info.header_offset)
                    if fh.read(4) != ZIP_LOCAL_HEADER:
                        raise PackageError(path=path.name, reason=f"entry {info.filename} is damaged")
                    if info.header_offset + info.compress_size > size:
                        raise PackageError(path=path.name, reason=f"entry {info.filename} is truncated")
                if size <= deep_max:
                    for info in infos:
                        if _entry_crc(fh, zf, info) != info.CRC:
                            raise PackageError(path=path.name, reason=f"entry {info.filename} is "
                                               "damaged (checksum mismatch)")
    except zipfile.BadZipFile as exc:
        raise PackageError(path=path.name, reason=f"the zip directory is damaged ({exc})") from None
    except OSError as exc:
        raise PackageError(path=path.name, reason=str(exc)) from None


def _entry_crc(fh: Any, zf: zipfile.ZipFile, info: zipfile.ZipInfo) -> int:
    if info.compress_type != zipfile.ZIP_STORED:
        crc = 0
        with zf.open(info) as entry:
            while True:
                block = entry.read(CHUNK_SIZE)
                if not block:
                    return crc
                crc = zlib.crc32(block, crc)
    fh.seek(info.header_offset)
    header = fh.read(30)
    name_len, extra_len = struct.unpack("<HH", header[26:30])
    fh.seek(info.header_offset + 30 + name_len + extra_len)
    remaining = info.compress_size
    crc = 0
    while remaining > 0:
        block = fh.read(min(CHUNK_SIZE, remaining))
        if not block:
            break
        crc = zlib.crc32(block, crc)
        remaining -= len(block)
    return crc


def _check_disk(directory: Path, needed: int | None) -> None:
    if not needed:
        return
    try:
        free = shutil.disk_usage(directory).free
    except OSError:
        return
    if free < needed + DISK_MARGIN:
        raise DiskError(reason=f"{needed / 1e6:.1f} MB are needed in {directory} but only "
                        f"{free / 1e6:.1f} MB are free")


def _strong_etag(etag: str | None) -> str | None:
    return etag if etag and not etag.startswith("W/") else None


def download(session: Any, url: str, target: str | os.PathLike, *, state: DownloadState | None = None,
             presigned: bool | None = None, progress: ProgressCb | None = None,
             on_state: StateCb | None = None, cancel: CancelToken | None = None,
             chunk_size: int = CHUNK_SIZE, verify_zip: bool = True, state_every: int = 8 << 20) -> Path:
    """Download ``url`` to ``target`` (resuming ``state`` / an existing ``.part``); return the path.

    Raises :class:`CancelledError` (the ``.part`` is kept), :class:`DiskError`,
    :class:`NetworkError` after repeated failures, :class:`PackageError` when the finished file is
    not a readable package (the ``.part`` is removed so the next attempt starts afresh).
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    if presigned is None:
        presigned = (state.presigned if state else False) or looks_presigned(url)
    if state is None or state.url != url or Path(state.target) != target:
        etag = state.etag if state and state.url == url else None
        state = DownloadState(url=url, target=str(target), presigned=presigned, etag=etag,
                              last_modified=state.last_modified if state and state.url == url else None)
    state.presigned = presigned
    part = state.part
    clock = getattr(session, "clock", REAL_CLOCK)
    backoff = getattr(session, "backoff_delay", lambda attempt: min(30.0, 2.0 ** attempt))
    stalled = 0
    last_saved = 0

    def save_state() -> None:
        if on_state is not None:
            on_state(state)

    handle: int | None = None  # cancel callback of the response being read
    while True:
        check_cancel(cancel)
        offset = part.stat().st_size if part.exists() else 0
        if offset and not (state.etag or state.last_modified or state.total):
            LOG.info("Nothing identifies the partial file of %s: restarting the download", redact(url))
            _remove(part)
            offset = 0
        state.bytes_done = offset
        if state.total is not None and offset == state.total and offset:
            break  # complete already (e.g. cancelled right after the last byte)
        headers = {"Accept-Encoding": "identity"}
        if offset:
            headers["Range"] = f"bytes={offset}-"
            validator = _strong_etag(state.etag) or state.last_modified
            if validator:
                headers["If-Range"] = validator
        kwargs: dict[str, Any] = {"headers": headers, "stream": True}
        if presigned:
            kwargs["auth"] = NO_AUTH  # the session's auth would add nothing to foreign hosts anyway
        if hasattr(session, "clock"):
            kwargs["cancel"] = cancel
        try:
            response = session.get(url, **kwargs)
        except NetworkError:
            save_state()
            raise  # the session has retried already: the server is unreachable
        except _DROP_ERRORS as exc:
            stalled += 1
            if stalled > MAX_STALLED_RECONNECTS:
                raise _as_network_error(exc, url) from None
            save_state()
            clock.sleep(backoff(stalled - 1), cancel)
            continue
        if cancel is not None:  # a stalled read must not delay a cancel: shut the socket down
            if handle is not None:
                cancel.remove_callback(handle)
            handle = cancel.on_cancel(lambda response=response: _abort(response))
        # urllib3 2 (QGIS 3.40's Python) raises on a body cut short and drops the bytes of that last
        # read; we check the length ourselves and resume, so take what arrived (urllib3 1.26 does).
        if hasattr(response.raw, "enforce_content_length"):
            response.raw.enforce_content_length = False
        with response:
            status = response.status_code
            if status == 416:
                LOG.info("Range not satisfiable for %s: restarting", redact(url))
                _remove(part)
                state.total = None
                continue
            if status >= 400:
                raise _http_failure(response, url)
            new_etag = response.headers.get("ETag")
            new_modified = response.headers.get("Last-Modified")
            mode = "ab"
            if status == 206:
                match = _CONTENT_RANGE.match(response.headers.get("Content-Range", ""))
                total = None if not match or match.group(3) == "*" else int(match.group(3))
                changed = bool(
                    (state.etag and new_etag and new_etag != state.etag)
                    or (not state.etag and state.last_modified and new_modified
                        and new_modified != state.last_modified)
                    or (state.total is not None and total is not None and total != state.total))
                if not match or int(match.group(1)) != offset or changed:
                    LOG.info("The server's range answer for %s does not continue the file: restarting",
                             redact(url))
                    _remove(part)
                    state.etag, state.last_modified, state.total = None, None, None
                    continue
            else:  # 200: full body (server ignored the range, or the file changed)
                if offset:
                    LOG.info("The server sent %s from the start (range ignored or file changed)",
                             redact(url))
                offset = 0
                mode = "wb"
                length = response.headers.get("Content-Length")
                total = int(length) if length and length.isdigit() else None
            state.total = total
            state.etag = new_etag or (state.etag if status == 206 else None)
            state.last_modified = new_modified or (state.last_modified if status == 206 else None)
            state.bytes_done = offset
            _check_disk(target.parent, (total - offset) if total is not None else None)
            save_state()
            try:
                with open(part, mode) as fh:
                    for chunk in response.iter_content(chunk_size):
                        if not chunk:
                            continue
                        fh.write(chunk)
                        state.bytes_done += len(chunk)
                        stalled = 0
                        if progress is not None:
                            progress(DownloadProgress(url, state.bytes_done, state.total))
                        if state.bytes_done - last_saved >= state_every:
                            last_saved = state.bytes_done
                            save_state()
                        if cancel is not None and cancel.cancelled:
                            break
            except _DROP_ERRORS as exc:
                if cancel is not None and cancel.cancelled:  # our own abort of a stalled read
                    save_state()
                    raise CancelledError(details=f"download paused at {state.bytes_done} bytes") from None
                stalled += 1
                LOG.info("Download of %s interrupted at %d bytes (%s)", redact(url), state.bytes_done,
                         type(exc).__name__)
                if stalled > MAX_STALLED_RECONNECTS:
                    save_state()
                    raise _as_network_error(exc, url) from None
                save_state()
                clock.sleep(backoff(stalled - 1), cancel)
                continue
            except OSError as exc:  # after _DROP_ERRORS: requests' errors are OSErrors too
                save_state()
                if cancel is not None and cancel.cancelled:
                    raise CancelledError(details=f"download paused at {state.bytes_done} bytes") from None
                raise DiskError(reason=f"writing {part.name} failed: {exc.strerror or exc}") from None
            if cancel is not None and cancel.cancelled:
                save_state()
                raise CancelledError(details=f"download paused at {state.bytes_done} bytes")
            if state.total is not None and state.bytes_done < state.total:
                stalled += 1
                LOG.info("Download of %s ended early at %d of %d bytes; resuming", redact(url),
                         state.bytes_done, state.total)
                if stalled > MAX_STALLED_RECONNECTS:
                    save_state()
                    raise NetworkError(reason=f"the download keeps breaking off at {state.bytes_done} "
                                       f"of {state.total} bytes")
                save_state()
                clock.sleep(backoff(stalled - 1), cancel)
                continue
            break

    if cancel is not None and handle is not None:
        cancel.remove_callback(handle)
    size = part.stat().st_size
    if state.total is not None and size != state.total:
        _remove(part)
        state.bytes_done, state.etag = 0, None
        save_state()
        raise PackageError(path=target.name, reason=f"{size} bytes were received instead of {state.total}")
    if verify_zip:
        try:
            check_package(part, state.total)
        except PackageError:
            _remove(part)
            state.bytes_done, state.etag, state.last_modified = 0, None, None
            save_state()
            raise
    try:
        os.replace(part, target)
    except OSError as exc:  # e.g. the old package is open in another program (Windows)
        save_state()
        raise DiskError(reason=f"{target.name} could not be replaced ({exc.strerror or exc}); close programs "
                        "that use it") from None
    state.bytes_done = size
    state.complete = True
    save_state()
    LOG.info("Downloaded %s (%d bytes)", target.name, size)
    return target


def _abort(response: requests.Response) -> None:
    """Wake a read blocked on ``response`` (called from the cancelling thread)."""
    raw = response.raw
    sock = getattr(getattr(raw, "connection", None), "sock", None)
    if sock is None:  # the connection let go of its socket ("Connection: close"): the reader still has it
        reader = getattr(getattr(raw, "_fp", None), "fp", None)
        sock = getattr(getattr(reader, "raw", None), "_sock", None)
    if sock is not None:  # only shut down: closing from this thread would race the reading thread
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)


def _remove(path: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        path.unlink()


def _as_network_error(exc: BaseException, url: str) -> ArcGISOfflineTilesError:
    if isinstance(exc, ArcGISOfflineTilesError):
        return exc
    return NetworkError(reason=f"the download from {host_key(url)} keeps failing",
                        details=redact(f"{type(exc).__name__}: {exc}"))


def _http_failure(response: requests.Response, url: str) -> ArcGISOfflineTilesError:
    error: dict = {"code": response.status_code, "message": response.reason or ""}
    try:
        doc = response.json()
        if isinstance(doc, dict) and isinstance(doc.get("error"), dict):
            error = doc["error"]
    except ValueError:
        pass
    exc = arcgis_error(error, url, response.status_code)
    exc.details = redact(f"download {url}: HTTP {response.status_code}; {exc.details}")
    return exc
