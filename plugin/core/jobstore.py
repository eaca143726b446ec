"""Job records: everything needed to resume an export after a crash, a cancel or a restart.

A :class:`JobRecord` is one server export (one part of a split export): the service, the exact
``exportTiles`` parameters, the area and levels, the server job (id, protocol, the job URL form that
answered), the state, the result URLs, the download progress (bytes, ETag, ``.part`` path), the
output paths and the last error.  It contains no credentials: tokens travel in headers, never in
the parameters, and ``token`` query parameters are stripped from stored URLs.

:class:`JobStore` keeps one JSON file per record in a folder (the QGIS side puts it in the profile
folder).  Writes are atomic (temporary file + ``os.replace``); a file that cannot be read is moved
aside as ``<name>.bad`` with a warning in the log, and never stops the others from loading.
"""
from __future__ import annotations

import contextlib
import json
import logging
import os
import tempfile
import time
import uuid
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from .http import strip_query_params

LOG = logging.getLogger(__name__)

# states
NEW = "new"  # planned, not submitted
SUBMITTED = "submitted"  # the server accepted the job
DOWNLOADING = "downloading"
DONE = "done"
FAILED = "failed"
TIMED_OUT = "timed_out"  # our wait ran out; the server job may still finish
CANCELLED = "cancelled"
PAUSED = "paused"  # stopped on purpose, server job and partial download kept
RESUMABLE = frozenset({NEW, SUBMITTED, DOWNLOADING, TIMED_OUT, PAUSED, CANCELLED, FAILED})
FORMAT_VERSION = 1


@dataclass
class JobRecord:
    service_url: str
    service_kind: str = ""  # VectorTileServer / MapServer / ImageServer
    service_name: str = ""
    params: dict = field(default_factory=dict)  # exportTiles parameters as sent (no token)
    area: dict = field(default_factory=dict)  # Esri polygon JSON of this job's area
    levels: list = field(default_factory=list)
    format: str = ""  # vtpk / tpkx / tpk
    tiles: int = 0
    id: str = field(default_factory=lambda: uuid.uuid4().hex)
    plan_id: str = ""
    part_index: int = 0
    part_count: int = 1
    job: dict | None = None  # jobs.Job.to_dict(): job_id, protocol, job_url, operation
    state: str = NEW
    result_urls: list = field(default_factory=list)
    downloads: list = field(default_factory=list)  # download.DownloadState.to_dict() per URL
    output_path: str = ""  # wanted final path (first package; others get _2, _3 ...)
    output_paths: list = field(default_factory=list)  # finished packages
    error: str = ""
    error_type: str = ""
    created: float = field(default_factory=time.time)
    updated: float = field(default_factory=time.time)
    version: int = FORMAT_VERSION

    @property
    def job_id(self) -> str | None:
        return (self.job or {}).get("job_id")

    @property
    def resumable(self) -> bool:
        return self.state in RESUMABLE

    def set_error(self, exc: BaseException | None) -> None:
        if exc is None:
            self.error, self.error_type = "", ""
            return
        self.error = str(getattr(exc, "user_message", None) or exc)
        self.error_type = type(exc).__name__

    def set_result_urls(self, urls: list[str]) -> None:
        self.result_urls = [strip_query_params(u) if "token=" in u.lower() else u for u in urls]

    def to_dict(self) -> dict:
        return asdict(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=1, sort_keys=True)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> JobRecord:
        if not isinstance(data, dict) or not data.get("service_url"):
            raise ValueError("not a job record (no service_url)")
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})

    @classmethod
    def from_json(cls, text: str) -> JobRecord:
        return cls.from_dict(json.loads(text))


def atomic_write_text(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` so that readers see the old or the new file, never half of one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=str(path.parent))
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


class JobStore:
    """One ``<id>.json`` per record in ``folder``; tolerant of damaged files."""

    def __init__(self, folder: str | os.PathLike) -> None:
        self.folder = Path(folder)

    def path(self, record_id: str) -> Path:
        return self.folder / f"{record_id}.json"

    def save(self, record: JobRecord) -> None:
        record.updated = time.time()
        try:
            atomic_write_text(self.path(record.id), record.to_json())
        except OSError as exc:  # the export goes on; only resuming would be affected
            LOG.warning("The job record %s could not be saved: %s", record.id, exc)

    def load(self, record_id: str) -> JobRecord | None:
        path = self.path(record_id)
        if not path.exists():
            return None
        return self._read(path)

    def _read(self, path: Path) -> JobRecord | None:
        try:
            return JobRecord.from_json(path.read_text(encoding="utf-8"))
        except (OSError, ValueError, TypeError) as exc:
            bad = path.with_name(path.name + ".bad")
            LOG.warning("The job record %s is damaged (%s); it was moved to %s", path.name, exc, bad.name)
            with contextlib.suppress(OSError):
                os.replace(path, bad)
            return None

    def records(self, states: frozenset[str] | set[str] | None = None) -> list[JobRecord]:
        """All readable records (oldest first), optionally only those in ``states``."""
        if not self.folder.is_dir():
            return []
        out = []
        for path in sorted(self.folder.glob("*.json")):
            record = self._read(path)
            if record is not None and (states is None or record.state in states):
                out.append(record)
        out.sort(key=lambda r: (r.created, r.part_index))
        return out

    def resumable(self) -> list[JobRecord]:
        return self.records(RESUMABLE - {CANCELLED, FAILED})

    def delete(self, record_id: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.path(record_id).unlink()

    def to_dicts(self) -> list[dict]:
        return [asdict(r) for r in self.records()]
