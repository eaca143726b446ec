"""Job records: everything needed to resume an export after a crash, a cancel or a restart.

A :class:`JobRecord` is one server export (one part of a split export): the service, the exact
``exportTiles`` parameters, the area and levels, the server job (id, protocol, the job URL form that
answered), the state, the result URLs, the download progress (bytes, ETag, ``.part`` path), the
output paths and the last error.  It contains no credentials: tokens travel in headers, never in
the parameters, and ``token`` query parameters are stripped from stored URLs.

:class:`JobStore` keeps one JSON file per record in a folder (the QGIS side puts it in the profile
folder).  Writes are atomic (temporary file + ``os.replace``).  Records are validated on load (the
id and plan id are plain names, every field has its type, the server job and the downloads are
well-formed): a file that cannot be read or fails that check is moved aside as ``<name>.bad`` with a
warning in the log, and never stops the others from loading.
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
from enum import Enum
from pathlib import Path
from typing import Any

from .download import DownloadState
from .errors import ArcGISOfflineTilesError
from .http import strip_query_params
from .jobs import Job, is_safe_id

LOG = logging.getLogger(__name__)

class PartState(str, Enum):
    """The state of one part's record: its server job and its download (stored as the value)."""

    NEW = "new"  # planned, not submitted
    SUBMITTED = "submitted"  # the server accepted the job
    DOWNLOADING = "downloading"
    DONE = "done"
    FAILED = "failed"
    TIMED_OUT = "timed_out"  # our wait ran out; the server job may still finish
    CANCELLED = "cancelled"
    PAUSED = "paused"  # stopped on purpose, server job and partial download kept

    # the value in logs, messages and JSON, on every Python version (3.11 changed str() of mixed enums)
    __str__ = str.__str__
    __format__ = str.__format__


# the engine's short names for the states
NEW = PartState.NEW
SUBMITTED = PartState.SUBMITTED
DOWNLOADING = PartState.DOWNLOADING
DONE = PartState.DONE
FAILED = PartState.FAILED
TIMED_OUT = PartState.TIMED_OUT
CANCELLED = PartState.CANCELLED
PAUSED = PartState.PAUSED
RESUMABLE = frozenset({NEW, SUBMITTED, DOWNLOADING, TIMED_OUT, PAUSED, CANCELLED, FAILED})
FORMAT_VERSION = 1


def worth_resuming(records: list[JobRecord]) -> bool:
    """Whether the records of a failed export hold something a resume would not do again: a server
    job, a download under way, or finished parts of a split export."""
    return any(r.state in (DOWNLOADING, TIMED_OUT, PAUSED, SUBMITTED) or (r.state == DONE and r.part_count > 1)
               for r in records)


def plan_records(store: JobStore | None, plan_id: str) -> list[JobRecord]:
    """Every record of the export ``plan_id`` (its parts), in part order."""
    if store is None:
        return []
    records = [r for r in store.records() if r.plan_id == plan_id]
    records.sort(key=lambda r: (r.part_index, r.created))
    return records


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
    result_files: list = field(default_factory=list)  # tile-cache results: tilecache.ResultFile dicts
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
        """A record from its JSON form; ValueError when anything in it is not what we write."""
        if not isinstance(data, dict) or not data.get("service_url"):
            raise ValueError("not a job record (no service_url)")
        known = {f.name: f for f in fields(cls)}
        values = {k: v for k, v in data.items() if k in known}
        for name, value in values.items():
            allowed = _FIELD_TYPES[str(known[name].type)]
            if not isinstance(value, allowed) or (isinstance(value, bool) and bool not in allowed):
                raise ValueError(f"field {name} is a {type(value).__name__}")
        _check_contents(values)
        if "state" in values:
            values["state"] = PartState(values["state"])  # ValueError for a state we never write
        return cls(**values)

    @classmethod
    def from_json(cls, text: str) -> JobRecord:
        return cls.from_dict(json.loads(text))


_NUMBER = (int, float)
_FIELD_TYPES: dict[str, tuple[type, ...]] = {  # the annotations of JobRecord's fields
    "str": (str,), "int": (int,), "float": _NUMBER, "dict": (dict,), "list": (list,),
    "dict | None": (dict, type(None)),
}


def _check_contents(values: dict[str, Any]) -> None:
    """What the field types alone do not say: names that become file names, lists' items."""
    if "id" in values and not is_safe_id(values["id"]):
        raise ValueError("the record id is not a plain name")
    if values.get("plan_id") and not is_safe_id(values["plan_id"]):
        raise ValueError("the plan id is not a plain name")
    for name in ("result_urls", "output_paths"):
        if not all(isinstance(v, str) for v in values.get(name, [])):
            raise ValueError(f"{name} holds something else than text")
    if not all(isinstance(v, int) and not isinstance(v, bool) for v in values.get("levels", [])):
        raise ValueError("levels holds something else than level numbers")
    if values.get("job") is not None:
        try:
            Job.from_dict({"service_url": values.get("service_url"), **values["job"]})
        except (ArcGISOfflineTilesError, KeyError, TypeError) as exc:
            raise ValueError(f"the server job is damaged ({exc})") from None
    for entry in values.get("downloads", []):
        if not isinstance(entry, dict):
            raise ValueError("a download entry is not an object")
        DownloadState.from_dict(entry)  # raises ValueError on wrong types


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
        """The record's file; ValueError for an id that is not a plain name (it would leave the folder)."""
        if not is_safe_id(record_id):
            raise ValueError(f"{str(record_id)[:100]!r} is not a job record id")
        return self.folder / f"{record_id}.json"

    def save(self, record: JobRecord) -> None:
        record.updated = time.time()
        try:
            atomic_write_text(self.path(record.id), record.to_json())
        except (OSError, ValueError) as exc:  # the export goes on; only resuming would be affected
            LOG.warning("The job record %s could not be saved: %s", record.id, exc)

    def load(self, record_id: str) -> JobRecord | None:
        if not is_safe_id(record_id):
            return None
        path = self.path(record_id)
        if not path.exists():
            return None
        return self._read(path)

    def _read(self, path: Path) -> JobRecord | None:
        try:
            record = JobRecord.from_json(path.read_text(encoding="utf-8"))
            if record.id != path.stem:
                raise ValueError(f"it holds the record {record.id!r}")
            return record
        except (OSError, ValueError, TypeError, RecursionError) as exc:
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
        if not is_safe_id(record_id):
            LOG.warning("Not deleting %r: it is not a job record id", str(record_id)[:100])
            return
        with contextlib.suppress(FileNotFoundError):
            self.path(record_id).unlink()
