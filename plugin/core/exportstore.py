"""The store of exports: one record per export with everything needed to resume it after a crash, a
cancel or a restart.

An export's record (:class:`ExportEntry`, ``<store>/<export id>.json``) holds its request (the
``ExportRequest`` as JSON), its :class:`ExportState` and its part records.  A :class:`PartRecord` is one
part: one server export of a split export, with the service, the exact ``exportTiles`` parameters, the
area and levels, the server job (id, protocol, the job URL form that answered), the part's
:class:`PartState`, the result URLs, the download progress (bytes, ETag, ``.part`` path), the output
paths and the last error.  Nothing in it is a credential: tokens travel in headers, never in the
parameters, and ``token`` query parameters are stripped from stored URLs.

:class:`ExportStore` keeps the files in a folder (the QGIS side puts it in the profile folder).  Writes are
atomic (temporary file + ``os.replace``).  Records are validated on load (ids are plain names, every
field has its type, the server job and the downloads are well-formed): a file that cannot be read or
fails that check is moved aside as ``<name>.bad`` with a warning in the log, and never stops the others
from loading.  Earlier versions kept one file per part record and the request in
``requests/<export id>.json``: those files are moved into their export's record when the store is read.
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
FORMAT_VERSION = 1  # of a part record
EXPORT_FORMAT = 2  # of an export's file (1: one file per part record and a request file beside)
LEGACY_REQUESTS_FOLDER = "requests"  # where version 1 kept the request files


def worth_resuming(records: list[PartRecord]) -> bool:
    """Whether the records of a failed export hold something a resume would not do again: a server
    job, a download under way, or finished parts of a split export."""
    return any(r.state in (DOWNLOADING, TIMED_OUT, PAUSED, SUBMITTED) or (r.state == DONE and r.part_count > 1)
               for r in records)


def plan_records(store: ExportStore | None, plan_id: str) -> list[PartRecord]:
    """Every record of the export ``plan_id`` (its parts), in part order."""
    if store is None:
        return []
    records = [r for r in store.records() if r.plan_id == plan_id]
    records.sort(key=lambda r: (r.part_index, r.created))
    return records


@dataclass
class PartRecord:
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
    def from_dict(cls, data: dict[str, Any]) -> PartRecord:
        """A record from its JSON form; ValueError when anything in it is not what we write."""
        if not isinstance(data, dict) or not data.get("service_url"):
            raise ValueError("not a part record (no service_url)")
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
    def from_json(cls, text: str) -> PartRecord:
        return cls.from_dict(json.loads(text))


_NUMBER = (int, float)
_FIELD_TYPES: dict[str, tuple[type, ...]] = {  # the annotations of PartRecord's fields
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


class ExportState(str, Enum):
    """The state of an export: in the exports manager, and (running, paused, failed) in its stored record."""

    QUEUED = "queued"  # waiting for a free thread in the task manager
    RUNNING = "running"
    CANCELLING = "cancelling"
    PAUSED = "paused"  # stopped with its server job / partial download kept (or from an earlier session)
    FINISHED = "finished"
    FAILED = "failed"
    CANCELLED = "cancelled"

    __str__ = str.__str__  # the value, on every Python version
    __format__ = str.__format__

    @property
    def active(self) -> bool:
        """Queued, running or cancelling: work is under way."""
        return self in (ExportState.QUEUED, ExportState.RUNNING, ExportState.CANCELLING)


@dataclass
class ExportEntry:
    """One export in the store: its request (``ExportRequest.to_dict()``; None for records an earlier
    version wrote without one), its state and its parts."""

    export_id: str
    request: dict | None = None
    state: ExportState = ExportState.RUNNING
    created: float = field(default_factory=time.time)
    parts: list[PartRecord] = field(default_factory=list)

    def to_json(self) -> str:
        return json.dumps({"format": EXPORT_FORMAT, "export_id": self.export_id, "request": self.request,
                           "state": self.state.value, "created": self.created,
                           "parts": [p.to_dict() for p in self.parts]}, indent=1, sort_keys=True)

    @classmethod
    def from_dict(cls, doc: dict[str, Any]) -> ExportEntry:
        """ValueError when anything in it is not what we write."""
        export_id = doc.get("export_id")
        if not isinstance(export_id, str) or not is_safe_id(export_id):
            raise ValueError("the export id is not a plain name")
        request = doc.get("request")
        if request is not None and not isinstance(request, dict):
            raise ValueError("the request is not an object")
        parts = doc.get("parts")
        if not isinstance(parts, list):
            raise ValueError("the parts are not a list")
        created = doc.get("created", 0.0)  # an "updated" time earlier versions wrote is not read
        if not isinstance(created, (int, float)) or isinstance(created, bool):
            raise ValueError("a time is not a number")
        entry = cls(export_id, request, ExportState(doc.get("state", "running")), float(created),
                    [PartRecord.from_dict(p) for p in parts])
        if any((p.plan_id or p.id) != export_id for p in entry.parts):
            raise ValueError("a part belongs to another export")
        return entry


class ExportStore:
    """One ``<export id>.json`` per export in ``folder``: its request, state and part records; tolerant of
    damaged files (moved aside as ``<name>.bad``).  The files earlier versions wrote (one per part record,
    and ``requests/<export id>.json``) are moved into their export's file when the store is read."""

    def __init__(self, folder: str | os.PathLike) -> None:
        self.folder = Path(folder)

    def _path(self, export_id: str) -> Path:
        """The export's file; ValueError for an id that is not a plain name (it would leave the folder)."""
        if not is_safe_id(export_id):
            raise ValueError(f"{str(export_id)[:100]!r} is not an export id")
        return self.folder / f"{export_id}.json"

    # -- exports -----------------------------------------------------------------------------------
    def exports(self) -> list[ExportEntry]:
        """Every readable export, oldest first (files of earlier versions moved in first)."""
        if not self.folder.is_dir():
            return []
        entries: dict[str, ExportEntry] = {}
        legacy: list[tuple[Path, PartRecord]] = []
        for path in sorted(self.folder.glob("*.json")):
            try:
                doc = json.loads(path.read_text(encoding="utf-8"))
                if isinstance(doc, dict) and "parts" in doc:
                    entry = ExportEntry.from_dict(doc)
                    if entry.export_id != path.stem:
                        raise ValueError(f"it holds the export {entry.export_id!r}")
                    entries[entry.export_id] = entry
                else:
                    record = PartRecord.from_dict(doc)
                    if record.id != path.stem:
                        raise ValueError(f"it holds the record {record.id!r}")
                    legacy.append((path, record))
            except (OSError, ValueError, TypeError, RecursionError) as exc:
                self._set_aside(path, exc)
        self._migrate(entries, legacy)
        return sorted(entries.values(), key=lambda e: e.created)

    def export(self, export_id: str) -> ExportEntry | None:
        """The record of one export (its own file only: :meth:`exports` moves older files in)."""
        if not is_safe_id(export_id):
            return None
        path = self._path(export_id)
        try:
            doc = json.loads(path.read_text(encoding="utf-8"))
            if not (isinstance(doc, dict) and "parts" in doc):
                return None  # a part record of an earlier version: exports() moves it
            entry = ExportEntry.from_dict(doc)
            if entry.export_id != export_id:
                raise ValueError(f"it holds the export {entry.export_id!r}")
            return entry
        except FileNotFoundError:
            return None
        except (OSError, ValueError, TypeError, RecursionError) as exc:
            self._set_aside(path, exc)
            return None

    def save_export(self, export_id: str, request: dict | None, state: ExportState | str,
                    created: float | None = None) -> None:
        """Keep the request and state of an export (its parts stay as they are)."""
        try:
            entry = self.export(export_id) or ExportEntry(export_id)
            entry.request, entry.state = request, ExportState(state)
            if created:
                entry.created = created
            self._write(entry)
        except (OSError, ValueError) as exc:  # the export goes on; only a resume after a restart would be affected
            LOG.warning("The export %s could not be saved: %s", export_id, exc)

    def delete_export(self, export_id: str) -> None:
        if not is_safe_id(export_id):
            LOG.warning("Not deleting %r: it is not an export id", str(export_id)[:100])
            return
        with contextlib.suppress(FileNotFoundError):
            self._path(export_id).unlink()

    # -- part records ------------------------------------------------------------------------------
    def save(self, record: PartRecord) -> None:
        """Keep ``record`` in its export's file (the export of its plan id)."""
        try:
            export_id = record.plan_id or record.id
            if not is_safe_id(record.id) or not is_safe_id(export_id):
                raise ValueError(f"{str(record.id)[:100]!r} is not a record id")
            entry = self.export(export_id) or ExportEntry(export_id, created=record.created)
            entry.parts = [p for p in entry.parts if p.id != record.id] + [record]
            self._write(entry)
        except (OSError, ValueError) as exc:  # the export goes on; only resuming would be affected
            LOG.warning("The part record %s could not be saved: %s", str(record.id)[:100], exc)

    def load(self, record_id: str) -> PartRecord | None:
        return next((r for r in self.records() if r.id == record_id), None)

    def records(self, states: frozenset[str] | set[str] | None = None) -> list[PartRecord]:
        """All readable part records (oldest first), optionally only those in ``states``."""
        out = [r for e in self.exports() for r in e.parts if states is None or r.state in states]
        out.sort(key=lambda r: (r.created, r.part_index))
        return out

    def resumable(self) -> list[PartRecord]:
        return self.records(RESUMABLE - {CANCELLED, FAILED})

    def delete(self, record_id: str) -> None:
        """Drop a part record; its export goes with its last part unless it holds a request."""
        if not is_safe_id(record_id):
            LOG.warning("Not deleting %r: it is not a record id", str(record_id)[:100])
            return
        for entry in self.exports():
            if any(p.id == record_id for p in entry.parts):
                entry.parts = [p for p in entry.parts if p.id != record_id]
                if entry.parts or entry.request is not None:
                    self._write(entry)
                else:
                    self.delete_export(entry.export_id)

    # -- files ---------------------------------------------------------------------------------------
    def _write(self, entry: ExportEntry) -> None:
        entry.parts.sort(key=lambda r: (r.part_index, r.created))
        atomic_write_text(self._path(entry.export_id), entry.to_json())

    def _set_aside(self, path: Path, exc: BaseException) -> None:
        bad = path.with_name(path.name + ".bad")
        LOG.warning("The export record %s is damaged (%s); it was moved to %s", path.name, exc, bad.name)
        with contextlib.suppress(OSError):
            os.replace(path, bad)

    def _migrate(self, entries: dict[str, ExportEntry], legacy: list[tuple[Path, PartRecord]]) -> None:
        """Move the part records and request files of earlier versions into their exports' files."""
        changed: set[str] = set()
        for _path, record in legacy:
            export_id = record.plan_id or record.id
            entry = entries.setdefault(export_id, ExportEntry(export_id, created=record.created))
            entry.parts = [p for p in entry.parts if p.id != record.id] + [record]
            changed.add(export_id)
        requests = self.folder / LEGACY_REQUESTS_FOLDER
        legacy_requests = sorted(requests.glob("*.json")) if requests.is_dir() else []
        for path in legacy_requests:
            try:
                doc = json.loads(path.read_text(encoding="utf-8"))
                export_id = str(doc.get("job_id") or path.stem)
                if not is_safe_id(export_id) or not isinstance(doc.get("request"), dict):
                    raise ValueError("it is not an export's settings")
            except (OSError, ValueError, TypeError, AttributeError, RecursionError) as exc:
                self._set_aside(path, exc)
                continue
            entry = entries.setdefault(export_id, ExportEntry(export_id))
            entry.request = doc["request"]
            entry.state = ExportState(doc.get("state")) if doc.get("state") in _STORED_STATES else ExportState.RUNNING
            entry.created = float(doc.get("created") or entry.created)
            changed.add(export_id)
        for export_id in changed:
            try:
                self._write(entries[export_id])
            except OSError as exc:
                LOG.warning("The export %s could not be moved to this version's form: %s", export_id, exc)
                return  # the old files stay and are read again next time
        for path, record in legacy:
            if path != self._path(record.plan_id or record.id):
                with contextlib.suppress(OSError):
                    path.unlink()
        for path in legacy_requests:
            with contextlib.suppress(OSError):
                path.unlink()
        if legacy_requests:
            with contextlib.suppress(OSError):
                requests.rmdir()


_STORED_STATES = {ExportState.RUNNING.value, ExportState.PAUSED.value, ExportState.FAILED.value}
