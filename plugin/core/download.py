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
import struct
import time
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
    ServerError,
    redact,
)
from .http import REAL_CLOCK, CancelToken, HttpConfig, ReadWatchdog, arcgis_error, check_cancel, host_key

LOG = logging.getLogger(__name__)

CHUNK_SIZE = 1 << 20
DISK_MARGIN = 16 << 20  # keep this much free on top of the download
DEEP_CHECK_MAX = 2 << 30  # CRC-check packages up to this size (about 1 s per GB when cached)
MAX_STALLED_RECONNECTS = 5  # attempts in a row without a single new byte (or too slow)
MAX_RESTARTS = 2  # restarts from byte 0 (file changed, range not honoured): once is legitimate
MAX_DOWNLOAD_ATTEMPTS = 50  # requests per download() call: a 10 GB file over a link dropping every 200 MB
PRESIGNED_MARKERS = ("x-amz-signature=", "x-amz-credential=", "signature=", "sig=", "se=", "x-goog-signature=")
ZIP_LOCAL_HEADER = b"PK\x03\x04"
_CONTENT_RANGE = re.compile(r"bytes\s+(\d+)-(\d+)/(\d+|\*)\Z", re.IGNORECASE)
_UNSATISFIED_RANGE = re.compile(r"bytes\s+\*/(\d+)\Z", re.IGNORECASE)
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
    """What a resume needs; stored in the part record (JSON-serialisable)."""

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
        """From a part record; ValueError when a field has the wrong type (a damaged record)."""
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
    :class:`NetworkError` when the server keeps failing (bounded attempts, back-off between them, an
    overall deadline and a minimum speed: see :class:`_Downloader`), :class:`PackageError` when the
    finished file is not a readable package (the ``.part`` is removed so the next attempt starts afresh).
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    if presigned is None:
        presigned = (state.presigned if state else False) or looks_presigned(url)
    if state is None or state.url != url or Path(state.target) != target:
        same_url = state is not None and state.url == url
        state = DownloadState(url=url, target=str(target), presigned=presigned,
                              etag=state.etag if same_url else None,
                              last_modified=state.last_modified if same_url else None)
    state.presigned = presigned
    loader = _Downloader(session, state, progress=progress, on_state=on_state, cancel=cancel,
                         chunk_size=chunk_size, state_every=state_every)
    loader.fetch()
    return loader.finish(verify_zip)


# What one request brought: the whole file, or a reason to ask again (keeping or dropping the part).
DONE, RESUME, RESTART = "done", "resume", "restart"


class _Downloader:
    """One :func:`download` call, step by step: each request is one *attempt*.

    Bounds (see DESIGN.md, "Security model"): at most :data:`MAX_DOWNLOAD_ATTEMPTS` requests; at most
    :data:`MAX_STALLED_RECONNECTS` attempts in a row that bring no new byte (or end too slow); at most
    :data:`MAX_RESTARTS` restarts from byte 0; the session's back-off before every new attempt; the
    whole call within ``HttpConfig.download_deadline`` and every chunk within
    ``max(download_min_idle, chunk_size / download_min_rate)`` seconds.
    """

    def __init__(self, session: Any, state: DownloadState, *, progress: ProgressCb | None,
                 on_state: StateCb | None, cancel: CancelToken | None, chunk_size: int, state_every: int) -> None:
        self.session = session
        self.state = state
        self.url = state.url
        self.target = Path(state.target)
        self.part = state.part
        self.progress = progress
        self.on_state = on_state
        self.cancel = cancel
        self.chunk_size = chunk_size
        self.state_every = state_every
        config = getattr(session, "config", None) or HttpConfig()
        self.clock = getattr(session, "clock", REAL_CLOCK)
        self.backoff = getattr(session, "backoff_delay", lambda attempt: min(30.0, 2.0 ** attempt))
        self.deadline = time.monotonic() + config.download_deadline
        self.deadline_s = config.download_deadline
        self.idle = max(config.download_min_idle, chunk_size / max(1.0, config.download_min_rate))
        self.attempts = 0
        self.stalls = 0  # attempts in a row without a new byte, or too slow
        self.restarts = 0
        self.best = 0  # the most bytes the part file ever held in this call
        self.last_saved = 0
        self.too_slow = False

    def save_state(self) -> None:
        if self.on_state is not None:
            self.on_state(self.state)

    # -- the loop ---------------------------------------------------------------------------
    def fetch(self) -> None:
        """Request until the part file holds the whole download."""
        while True:
            check_cancel(self.cancel)
            if time.monotonic() > self.deadline:
                self.save_state()
                raise NetworkError(reason=f"the download from {host_key(self.url)} did not finish within "
                                   f"{self.deadline_s / 3600:.3g} h", details=f"{self.state.bytes_done} bytes received")
            offset = self._current_offset()
            if self.state.total is not None and offset == self.state.total and offset:
                return  # complete already (e.g. cancelled right after the last byte)
            if not self.attempts:
                self.best = offset  # a resumed part: only bytes beyond it are progress
            self.attempts += 1
            outcome, exc = self._attempt(offset)
            if outcome == DONE:
                return
            self.save_state()
            self._account(outcome, exc)
            self.clock.sleep(self.backoff(max(0, self.stalls - 1)), self.cancel)

    def _current_offset(self) -> int:
        offset = self.part.stat().st_size if self.part.exists() else 0
        if offset and not (self.state.etag or self.state.last_modified or self.state.total):
            LOG.info("Nothing identifies the partial file of %s: restarting the download", redact(self.url))
            _remove(self.part)
            offset = 0
        self.state.bytes_done = offset
        return offset

    def _account(self, outcome: str, exc: BaseException | None) -> None:
        """Count the attempt that did not finish; raise once a bound is reached."""
        done = self.state.bytes_done
        progressed = done > self.best and not self.too_slow
        self.best = max(self.best, done)
        self.stalls = 0 if progressed else self.stalls + 1
        if outcome == RESTART:
            self.restarts += 1
        where = host_key(self.url)
        if self.restarts > MAX_RESTARTS:
            raise NetworkError(reason=f"the file at {where} changes or starts over at every attempt, so it "
                               "cannot be downloaded", details=f"{self.restarts} restarts from byte 0")
        if self.stalls > MAX_STALLED_RECONNECTS:
            if self.too_slow:
                raise NetworkError(reason=f"{where} sends the download too slowly (less than "
                                   f"{self.chunk_size} bytes in {self.idle:.0f} s, {self.stalls} times)",
                                   details=f"{done} bytes received")
            if exc is not None:
                raise _as_network_error(exc, self.url)
            raise NetworkError(reason=f"the download keeps breaking off at {done} of "
                               f"{self.state.total if self.state.total is not None else '?'} bytes",
                               details=f"{self.attempts} requests to {where}")
        if self.attempts >= MAX_DOWNLOAD_ATTEMPTS:
            raise NetworkError(reason=f"the download from {where} did not complete in {self.attempts} requests",
                               details=f"{done} bytes received")

    # -- one attempt ------------------------------------------------------------------------
    def _attempt(self, offset: int) -> tuple[str, BaseException | None]:
        self.too_slow = False
        try:
            response = self.session.get(self.url, **self._request_kwargs(offset))
        except NetworkError:
            self.save_state()
            raise  # the session has retried already: the server is unreachable
        except _DROP_ERRORS as exc:
            return RESUME, exc
        # urllib3 2 (QGIS 3.40's Python) raises on a body cut short and drops the bytes of that last
        # read; we check the length ourselves and resume, so take what arrived (urllib3 1.26 does).
        if hasattr(response.raw, "enforce_content_length"):
            response.raw.enforce_content_length = False
        with response:
            plan = self._read_status(response, offset)
            if plan is None:
                return RESTART, None
            if plan == DONE:
                return DONE, None
            mode, offset = plan
            return self._receive(response, mode, offset)

    def _request_kwargs(self, offset: int) -> dict[str, Any]:
        headers = {"Accept-Encoding": "identity"}
        if offset:
            headers["Range"] = f"bytes={offset}-"
            validator = _strong_etag(self.state.etag) or self.state.last_modified
            if validator:
                headers["If-Range"] = validator
        kwargs: dict[str, Any] = {"headers": headers, "stream": True}
        if self.state.presigned:
            kwargs["auth"] = NO_AUTH  # the session's auth would add nothing to foreign hosts anyway
        if hasattr(self.session, "clock"):  # our Session: cancel and the deadline reach a request in flight
            kwargs.update(cancel=self.cancel, deadline=self.deadline, abort_on_cancel=True)
        return kwargs

    def _read_status(self, response: requests.Response, offset: int) -> tuple[str, int] | str | None:
        """How to use this answer: ``(file mode, offset)`` to write its body, :data:`DONE` when the
        part is already whole, None to restart from byte 0; raises the typed error of a failure."""
        status = response.status_code
        state = self.state
        if status == 416:
            return self._range_not_satisfiable(response, offset)
        if status >= 400:
            raise _http_failure(response, self.url)
        new_etag = response.headers.get("ETag")
        new_modified = response.headers.get("Last-Modified")
        if status == 206:
            match = _CONTENT_RANGE.match(response.headers.get("Content-Range", "").strip())
            total = None if not match or match.group(3) == "*" else int(match.group(3))
            if not match or int(match.group(1)) != offset or self._changed(new_etag, new_modified, total):
                LOG.info("The server's range answer for %s does not continue the file: restarting",
                         redact(self.url))
                self._drop_part()
                return None
            mode = "ab"
        else:  # 200: the whole body (the server ignored the range, or the file changed)
            if offset:
                LOG.info("The server sent %s from the start (range ignored or file changed)", redact(self.url))
                self.restarts += 1
            offset, mode = 0, "wb"
            length = response.headers.get("Content-Length", "")
            total = int(length) if length.isdigit() else None
        state.total = total
        state.etag = new_etag or (state.etag if status == 206 else None)
        state.last_modified = new_modified or (state.last_modified if status == 206 else None)
        state.bytes_done = offset
        _check_disk(self.target.parent, (total - offset) if total is not None else None)
        self.save_state()
        return mode, offset

    def _range_not_satisfiable(self, response: requests.Response, offset: int) -> str | None:
        """416: finished when ``Content-Range: */N`` shows the part is the whole file; else restart."""
        match = _UNSATISFIED_RANGE.match(response.headers.get("Content-Range", "").strip())
        if offset and match and int(match.group(1)) == offset:
            LOG.info("The partial file of %s is already complete (%d bytes)", redact(self.url), offset)
            self.state.total = offset
            return DONE
        if not offset:  # no range was asked for
            raise ServerError(reason=f"{host_key(self.url)} refused to send the file (HTTP 416)",
                              details=redact(f"download {self.url}"))
        LOG.info("Range not satisfiable for %s: restarting", redact(self.url))
        self._drop_part()
        return None

    def _changed(self, new_etag: str | None, new_modified: str | None, total: int | None) -> bool:
        state = self.state
        return bool((state.etag and new_etag and new_etag != state.etag)
                    or (not state.etag and state.last_modified and new_modified
                        and new_modified != state.last_modified)
                    or (state.total is not None and total is not None and total != state.total))

    def _drop_part(self) -> None:
        _remove(self.part)
        self.state.etag, self.state.last_modified, self.state.total = None, None, None
        self.state.bytes_done = 0

    def _receive(self, response: requests.Response, mode: str, offset: int) -> tuple[str, BaseException | None]:
        """Stream the body into the part file; DONE when it holds ``total`` bytes (or all there was)."""
        state = self.state
        with ReadWatchdog(response, deadline=self.deadline, idle=self.idle, cancel=self.cancel) as watchdog:
            try:
                self._write_body(response, mode, watchdog)
            except _DROP_ERRORS as exc:
                self._raise_if_stopped(watchdog)
                LOG.info("Download of %s interrupted at %d bytes (%s)", redact(self.url), state.bytes_done,
                         type(exc).__name__)
                return RESUME, exc
            except OSError as exc:  # after _DROP_ERRORS: requests' errors are OSErrors too
                self.save_state()
                if self.cancel is not None and self.cancel.cancelled:
                    raise CancelledError(details=f"download paused at {state.bytes_done} bytes") from None
                raise DiskError(reason=f"writing {self.part.name} failed: {exc.strerror or exc}") from None
            self._raise_if_stopped(watchdog)
        if self.too_slow:  # an aborted body can look like the end of one without a length
            return RESUME, None
        if state.total is not None and state.bytes_done < state.total:
            LOG.info("Download of %s ended early at %d of %d bytes; resuming", redact(self.url),
                     state.bytes_done, state.total)
            return RESUME, None
        return DONE, None

    def _write_body(self, response: requests.Response, mode: str, watchdog: ReadWatchdog) -> None:
        state = self.state
        with open(self.part, mode) as fh:
            for chunk in response.iter_content(self.chunk_size):
                watchdog.touch()
                if not chunk:
                    continue
                fh.write(chunk)
                state.bytes_done += len(chunk)
                if self.progress is not None:
                    self.progress(DownloadProgress(self.url, state.bytes_done, state.total))
                if state.bytes_done - self.last_saved >= self.state_every:
                    self.last_saved = state.bytes_done
                    self.save_state()
                if self.cancel is not None and self.cancel.cancelled:
                    return

    def _raise_if_stopped(self, watchdog: ReadWatchdog) -> None:
        """After a read ended: cancel and the deadline end the download; too slow ends this attempt."""
        if self.cancel is not None and self.cancel.cancelled:  # our own abort of a stalled read
            self.save_state()
            raise CancelledError(details=f"download paused at {self.state.bytes_done} bytes")
        if watchdog.expired == "deadline":
            self.save_state()
            raise NetworkError(reason=f"the download from {host_key(self.url)} did not finish within "
                               f"{self.deadline_s / 3600:.3g} h", details=f"{self.state.bytes_done} bytes received")
        if watchdog.expired == "idle":
            LOG.info("Download of %s is too slow (no %d bytes in %.0f s); reconnecting", redact(self.url),
                     self.chunk_size, self.idle)
            self.too_slow = True

    # -- the end ----------------------------------------------------------------------------
    def finish(self, verify_zip: bool) -> Path:
        """Check the part file and give it the final name."""
        state, part, target = self.state, self.part, self.target
        size = part.stat().st_size
        if state.total is not None and size != state.total:
            _remove(part)
            state.bytes_done, state.etag = 0, None
            self.save_state()
            raise PackageError(path=target.name, reason=f"{size} bytes were received instead of {state.total}")
        if verify_zip:
            try:
                check_package(part, state.total)
            except PackageError:
                _remove(part)
                state.bytes_done, state.etag, state.last_modified = 0, None, None
                self.save_state()
                raise
        try:
            os.replace(part, target)
        except OSError as exc:  # e.g. the old package is open in another program (Windows)
            self.save_state()
            raise DiskError(reason=f"{target.name} could not be replaced ({exc.strerror or exc}); close "
                            "programs that use it") from None
        state.bytes_done = size
        state.complete = True
        self.save_state()
        LOG.info("Downloaded %s (%d bytes)", target.name, size)
        return target


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
