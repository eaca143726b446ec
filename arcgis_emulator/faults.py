"""Fault injection: make the emulator misbehave a given number of times.

``emu.inject(kind, count=1, path=None, **options)`` (or ``POST /emulator/faults`` with the same
fields as JSON) arms a fault.  Each fault fires for at most ``count`` matching requests
(``count=None`` = every matching request until cleared) and only for requests whose path contains
``path`` (when given).  Faults are checked at the stage where they apply:

request stage (any ArcGIS request, not the ``/emulator`` admin routes):
  ``http_error``   ``status`` (default 500; e.g. 429, 502, 503, 504), ``retry_after`` seconds
                   (default 1 for 429 and 503, sent as ``Retry-After``), ``message``
  ``slow``         ``delay`` seconds (default 1.0) before the request is handled normally
  ``invalid_json`` ``body`` (default an HTML proxy error page), ``content_type``: a 200 answer
                   that is not JSON
  ``json_error``   ``code`` (default 500), ``message``, ``details``: an ArcGIS error body, HTTP 200

download stage (package files: ``arcgisoutput`` files and presigned ``/s3/`` URLs):
  ``drop_download`` ``after_bytes`` (default 1024): send the headers (full ``Content-Length``),
                   then that many body bytes, then close the connection
  ``etag_change``  the file "changes": its ETag gets a new generation, so ``If-Range`` fails

job stage (matched against the ``exportTiles`` / ``estimateExportTilesSize`` submit request):
  ``job_fail``     ``message`` (default ``ERROR 999999: ...``): the job ends esriJobFailed
  ``job_timeout``  the job ends esriJobTimedOut
  ``job_cancel``   ``message``: the server (an administrator) cancels the job: it ends esriJobCancelled
                   without any cancel request from the client
  ``truncate_package`` ``keep`` bytes or ``fraction`` (default 0.5) of the built package is kept
  ``corrupt_package``  ``offset`` (default: middle of the file), ``length`` (default 64): those
                   bytes are inverted in the built package
"""
from __future__ import annotations

import itertools
import threading
from dataclasses import dataclass, field
from typing import Any

REQUEST_KINDS = frozenset({"http_error", "slow", "invalid_json", "json_error"})
DOWNLOAD_KINDS = frozenset({"drop_download", "etag_change"})
JOB_KINDS = frozenset({"job_fail", "job_timeout", "job_cancel", "truncate_package", "corrupt_package"})
ALL_KINDS = REQUEST_KINDS | DOWNLOAD_KINDS | JOB_KINDS

_OPTIONS: dict[str, dict[str, Any]] = {
    "http_error": {"status": 500, "retry_after": None, "message": None},
    "slow": {"delay": 1.0},
    "invalid_json": {"body": "<html><head><title>502 Bad Gateway</title></head>"
                             "<body><h1>Bad Gateway</h1></body></html>",
                     "content_type": "text/html"},
    "json_error": {"code": 500, "message": "Error performing export tiles operation.",
                   "details": None},
    "drop_download": {"after_bytes": 1024},
    "etag_change": {},
    "job_fail": {"message": "ERROR 999999: Something unexpected caused the tool to fail."},
    "job_timeout": {"message": "The job timed out."},
    "job_cancel": {"message": "The job was cancelled by the server administrator."},
    "truncate_package": {"keep": None, "fraction": 0.5},
    "corrupt_package": {"offset": None, "length": 64},
}

HTTP_ERROR_STATUSES = frozenset({400, 401, 403, 404, 429, 500, 502, 503, 504})

_ids = itertools.count(1)


@dataclass
class Fault:
    kind: str
    count: int | None = 1
    path: str | None = None
    options: dict[str, Any] = field(default_factory=dict)
    id: int = field(default_factory=lambda: next(_ids))
    fired: int = 0

    def matches(self, path: str) -> bool:
        if self.count is not None and self.fired >= self.count:
            return False
        return self.path is None or self.path in path

    @property
    def exhausted(self) -> bool:
        return self.count is not None and self.fired >= self.count

    def to_json(self) -> dict:
        return {"id": self.id, "kind": self.kind, "count": self.count, "path": self.path,
                "fired": self.fired, **self.options}


def make_fault(kind: str, count: int | None = 1, path: str | None = None, **options: Any) -> Fault:
    """Validate and build a fault (``ValueError`` on an unknown kind or option)."""
    if kind not in ALL_KINDS:
        raise ValueError(f"unknown fault kind {kind!r}; known: {', '.join(sorted(ALL_KINDS))}")
    allowed = _OPTIONS[kind]
    unknown = set(options) - set(allowed)
    if unknown:
        raise ValueError(f"fault {kind!r} has no option(s) {sorted(unknown)}; options: {sorted(allowed)}")
    if count is not None:
        count = int(count)
        if count < 1:
            raise ValueError("count must be >= 1 (or None for unlimited)")
    merged = {**allowed, **options}
    if kind == "http_error":
        merged["status"] = int(merged["status"])
        if merged["status"] not in HTTP_ERROR_STATUSES:
            raise ValueError(f"http_error status must be one of {sorted(HTTP_ERROR_STATUSES)}")
        if merged["retry_after"] is None and merged["status"] in (429, 503):
            merged["retry_after"] = 1
    elif kind == "slow":
        merged["delay"] = float(merged["delay"])
    elif kind == "drop_download":
        merged["after_bytes"] = int(merged["after_bytes"])
        if merged["after_bytes"] < 0:
            raise ValueError("after_bytes must be >= 0")
    elif kind == "truncate_package":
        if merged["keep"] is not None:
            merged["keep"] = int(merged["keep"])
        merged["fraction"] = float(merged["fraction"])
    elif kind == "corrupt_package":
        if merged["offset"] is not None:
            merged["offset"] = int(merged["offset"])
        merged["length"] = int(merged["length"])
    return Fault(kind=kind, count=count, path=path, options=merged)


class FaultSet:
    """Thread-safe list of armed faults."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: list[Fault] = []

    def add(self, fault: Fault) -> Fault:
        with self._lock:
            self._faults.append(fault)
        return fault

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()

    def remove(self, fault_id: int) -> bool:
        with self._lock:
            before = len(self._faults)
            self._faults = [f for f in self._faults if f.id != fault_id]
            return len(self._faults) != before

    def list(self) -> list[Fault]:
        with self._lock:
            return list(self._faults)

    def take(self, kinds: frozenset[str] | set[str], path: str) -> list[Fault]:
        """Fire every armed fault of ``kinds`` matching ``path`` (at most one per kind)."""
        fired: list[Fault] = []
        with self._lock:
            seen: set[str] = set()
            for fault in self._faults:
                if fault.kind in kinds and fault.kind not in seen and fault.matches(path):
                    fault.fired += 1
                    seen.add(fault.kind)
                    fired.append(fault)
        return fired


def apply_package_faults(path, faults: list[Fault]) -> None:
    """Damage a built package file in place (truncate_package / corrupt_package)."""
    for fault in faults:
        if fault.kind == "truncate_package":
            size = path.stat().st_size
            keep = fault.options["keep"]
            if keep is None:
                keep = int(size * fault.options["fraction"])
            with open(path, "r+b") as fh:
                fh.truncate(max(0, min(size, keep)))
        elif fault.kind == "corrupt_package":
            data = bytearray(path.read_bytes())
            if not data:
                continue
            length = max(1, fault.options["length"])
            offset = fault.options["offset"]
            if offset is None:
                offset = max(0, len(data) // 2 - length // 2)
            offset = max(0, min(len(data) - 1, offset))
            for i in range(offset, min(len(data), offset + length)):
                data[i] ^= 0xFF
            path.write_bytes(bytes(data))
