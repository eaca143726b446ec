"""What the export store keeps of an export, and the one rule of when it is kept.

An export is one record in the store of :mod:`.exportstore`, ``<store>/<export id>.json``: its
:class:`~.request.ExportRequest` (merge, add to map, output …), its state and its part records, so that
an export interrupted by a QGIS restart resumes with the same settings, whoever started it (the dock or
Processing).

:func:`settle` is the one rule :class:`~.pipeline.ExportPipeline` applies when an export ends:

* done: its record is forgotten (nothing is left to resume);
* paused: everything is kept (the server job, the ``.part`` files);
* cancelled: given up (server job cancelled, every file it wrote removed), except a download already
  under way, which is kept for a resume;
* failed: kept when a resume would not redo it all (a server job, a download, finished parts of a split
  export), else forgotten.
"""
from __future__ import annotations

import contextlib
import logging
import shutil
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import names
from .download import DownloadState
from .errors import ArcGISOfflineTilesError
from .exportstore import (
    CANCELLED,
    DOWNLOADING,
    FAILED,
    NEW,
    PAUSED,
    SUBMITTED,
    TIMED_OUT,
    ExportEntry,
    ExportState,
    ExportStore,
    PartRecord,
    plan_records,
    worth_resuming,
)
from .packages.cachefolder import is_cache_folder
from .request import ExportRequest

LOG = logging.getLogger(__name__)

# Records an interrupted export can go on from (NEW parts of a split export included).
CONTINUABLE = frozenset({NEW, SUBMITTED, DOWNLOADING, TIMED_OUT, PAUSED})


def is_cache_record(record: PartRecord) -> bool:
    """Whether a part record is a tile-cache export (``tilePackage=false``)."""
    return str(record.params.get("tilePackage", "")).lower() == "false"


# --- the export's request and state (any thread) ---------------------------------------------------------
def save_request(store_folder: str | Path, export_id: str, request: ExportRequest, state: ExportState,
                 created: float | None = None) -> None:
    """Keep the request and state of an export in its record (the export goes on when that fails)."""
    if store_folder:
        ExportStore(store_folder).save_export(export_id, request.to_dict(), state, created or time.time())


def load_requests(store_folder: str | Path) -> dict[str, dict]:
    """The exports of ``store_folder`` that hold a request, by export id: ``{"state", "created", "request"
    (its JSON), "export_request"}`` (requests of earlier versions, with the area as WKT, included)."""
    return {entry.export_id: doc for entry, doc in _with_requests(ExportStore(store_folder).exports())
            if doc is not None}


def _with_requests(entries: list[ExportEntry]) -> list[tuple[ExportEntry, dict | None]]:
    out = []
    for entry in entries:
        doc = None
        if entry.request is not None:
            try:
                doc = {"export_id": entry.export_id, "state": entry.state.value, "created": entry.created,
                       "request": entry.request, "export_request": ExportRequest.from_dict(entry.request)}
            except (ArcGISOfflineTilesError, ValueError, KeyError, TypeError, AttributeError, RecursionError) as exc:
                LOG.warning("The settings of export %s are damaged (%s); they are ignored", entry.export_id, exc)
        out.append((entry, doc))
    return out


# --- records ---------------------------------------------------------------------------------------------
def leaf_records(records: list[PartRecord]) -> list[PartRecord]:
    """The records that carry work: a record the server refused as too big was split again into
    later records of the same part, which replace it."""
    out = []
    for record in records:
        replaced = record.error_type == "TooManyTilesError" and any(
            other is not record and other.part_index == record.part_index and other.created >= record.created
            for other in records)
        if not replaced and record.state != CANCELLED:
            out.append(record)
    return out


def remove_output(path: Path) -> None:
    """Remove a finished output: a file, or a tile cache folder (never any other folder)."""
    if path.is_dir():
        if is_cache_folder(path) or path.name.endswith(names.CACHE_PART):
            shutil.rmtree(path, ignore_errors=True)
        return
    with contextlib.suppress(OSError):
        path.unlink()


def part_files(record: PartRecord) -> list[Path]:
    """The partial downloads of a record (``.part`` files, a tile cache's staging folder and zip)."""
    parts = []
    if is_cache_record(record) and record.output_path:  # a tile cache still being downloaded
        parts += list(names.cache_download_paths(record.output_path))
    for entry in record.downloads:
        if isinstance(entry, dict):
            with contextlib.suppress(TypeError, ValueError):
                parts.append(DownloadState.from_dict(entry).part)
    return parts


def partial_bytes(records: list[PartRecord]) -> int:
    total = 0
    for record in records:
        for part in part_files(record):
            with contextlib.suppress(OSError):
                total += sum(f.stat().st_size for f in part.rglob("*") if f.is_file()) if part.is_dir() \
                    else part.stat().st_size
    return total


def abandon_export(store: ExportStore | None, export_id: str, *, exporter: Any = None,
                   delete_outputs: bool = True, extra_files: Iterable[str | Path] = ()) -> None:
    """Forget an export: cancel its server jobs still running (with ``exporter``), remove its
    ``.part`` files, the packages it finished (``delete_outputs``) and ``extra_files``, and its record.
    Best effort: failures are logged, never raised."""
    for record in plan_records(store, export_id):
        if exporter is not None and record.job and not record.result_urls and record.state in (
                NEW, SUBMITTED, TIMED_OUT, PAUSED):
            try:
                exporter.cancel(record, delete_partial=True)
            except Exception:  # noqa: BLE001 - a server that is gone must not stop the clean-up
                LOG.warning("The server job of %s could not be cancelled", record.service_url, exc_info=True)
        files = part_files(record)
        if delete_outputs:
            files += [Path(p) for p in record.output_paths]
        for path in files:
            remove_output(path)
        if store is not None:
            store.delete(record.id)
    for path in extra_files:
        remove_output(Path(path))
    if store is not None:
        store.delete_export(export_id)


def forget_export(store: ExportStore | None, export_id: str) -> None:
    """Drop an export's record: its request and its parts (its files stay)."""
    if store is not None:
        store.delete_export(export_id)


# --- the rule ---------------------------------------------------------------------------------------------
@dataclass
class Settled:
    """What :func:`settle` kept of an export."""

    can_resume: bool = False
    kept_bytes: int = 0  # of a download kept when the export was cancelled


def settle(store: ExportStore | None, export_id: str, request: ExportRequest, outcome: str, *,
           created: float, exporter: Any = None, extra_files: Iterable[str | Path] = ()) -> Settled:
    """Apply the rule of the module doc; ``outcome`` is ``"done"``, ``"paused"``, ``"cancelled"`` or
    ``"failed"``.  Never raises: a store that cannot be tidied must not hide the export's own result."""
    folder = store.folder if store is not None else ""
    try:
        if outcome == "done":
            forget_export(store, export_id)
            return Settled()
        if outcome == "paused":
            save_request(folder, export_id, request, ExportState.PAUSED, created)
            return Settled(can_resume=True)
        records = plan_records(store, export_id)
        if outcome == "cancelled":
            kept = partial_bytes(leaf_records(records))  # the server job is done: nothing left to cancel
            if kept:
                save_request(folder, export_id, request, ExportState.PAUSED, created)
                return Settled(can_resume=True, kept_bytes=kept)
            abandon_export(store, export_id, exporter=exporter, extra_files=extra_files)
            return Settled()
        if worth_resuming(records):
            save_request(folder, export_id, request, ExportState.FAILED, created)
            return Settled(can_resume=True)
        forget_export(store, export_id)
    except Exception:  # noqa: BLE001 - the original error matters more
        LOG.warning("Could not tidy the records of export %s", export_id, exc_info=True)
    return Settled()


def scan_records(store_folder: str | Path) -> list[tuple[str, dict | None, list[PartRecord]]]:
    """The exports left unfinished in ``store_folder``: ``(export id, request doc or None, part records)``,
    records in part order.  Exports with a request whose parts all failed or were cancelled, and exports
    without one (records of an earlier version) that hold nothing to go on from, are left out."""
    out: list[tuple[str, dict | None, list[PartRecord]]] = []
    for entry, doc in _with_requests(ExportStore(store_folder).exports()):
        records = entry.parts
        if doc is not None:
            if not (records and all(r.state in (CANCELLED, FAILED) for r in records)):
                out.append((entry.export_id, doc, records))
        elif any(r.state in CONTINUABLE for r in records):
            out.append((entry.export_id, None, records))
    return out
