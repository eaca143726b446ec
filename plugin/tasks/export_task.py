"""Exports as ``QgsTask``s: submit, wait, download, merge and prepare the layer in ``run()``; add it in
``finished()``.

::

    config = engine.engine_config(request.authcfg)                 # main thread: QGIS settings, auth
    task = ExportTask(job_id, request, config, message_bar=iface.messageBar())
    keeper.start(task)                                               # QgsApplication.taskManager()

The worker builds its own :class:`~..core.export.Exporter` from ``config`` and only calls the engine,
:func:`~..core.packages.merge_packages` and :func:`~..qgis_glue.layers.prepare_layer_source` (the
conversion happens there, off the main thread).  ``finished()`` adds the layer(s) and tells the user.

Every export keeps, next to the core's job records, a *request file*
``<job store>/requests/<job id>.json`` with the :class:`ExportRequest` (merge, add to map, output …), so
an export interrupted by a QGIS restart resumes with the same settings.  The job id is the plan id of
the core's records.

Stopping an export takes one of two ways:

* :meth:`ExportTask.abandon` (the dock's Cancel) gives it up: the server job is cancelled and every file
  the export wrote (finished parts, the merged file) is removed.  Only a download already under way
  is kept (its ``.part`` file and records): the server has built the package, so Resume continues the
  download and Remove deletes it.
* :meth:`ExportTask.cancel` (QGIS's task list, and QGIS itself when it closes: ``QgisApp::fileExit``
  calls ``QgsTaskManager::cancelAll()`` while the application still runs, before the plugins unload)
  and :meth:`ExportTask.pause` (plugin unload) keep the server job, the ``.part`` files and the records
  for an :class:`ExportTask` with ``resume=True``, in this session or the next.  The tasks carry
  ``CancelWithoutPrompt``: nothing is lost, so QGIS closes without asking about them.
"""
from __future__ import annotations

import contextlib
import json
import logging
import shutil
import time
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any, Callable

from qgis.core import Qgis, QgsCoordinateReferenceSystem, QgsGeometry, QgsMapLayer, QgsProject
from qgis.PyQt.QtCore import QCoreApplication

from ..core import names
from ..core.area import Area
from ..core.download import DownloadState
from ..core.errors import ArcGISOfflineTilesError, CancelledError
from ..core.export import JOB_SHARE, Exporter, Progress, is_cache_record, is_vector
from ..core.http import CancelToken
from ..core.jobs import is_safe_id
from ..core.jobstore import (
    CANCELLED,
    DONE,
    DOWNLOADING,
    FAILED,
    NEW,
    PAUSED,
    SUBMITTED,
    TIMED_OUT,
    JobRecord,
    JobStore,
    atomic_write_text,
    plan_records,
    worth_resuming,
)
from ..core.levels import format_levels
from ..core.packages import merge_packages
from ..core.packages.cachefolder import is_cache_folder, merge_caches
from ..core.tilecache import PACKAGE, TILE_CACHE
from ..qgis_glue import crs as crs_glue
from ..qgis_glue.areas import area_from_geometry, geometry_from_area
from ..qgis_glue.engine import EngineConfig, create_exporter
from ..qgis_glue.i18n import error_message, translator
from ..qgis_glue.layers import (
    ConversionNeededError,
    LayerSource,
    converted_source,
    create_layer,
    describe_package,
    human_size,
    prepare_layer_source,
)
from .base import PluginTask, hidden_flags, qgis_announces_end

log = logging.getLogger(__name__)

REQUESTS_FOLDER = "requests"  # inside the job store folder
STATUS_INTERVAL_S = 0.1  # at most ~10 progress/status updates a second reach the main thread
MERGE_SHARE = 0.2  # of the task's progress bar, when the packages are merged
CONVERT_SHARE = 0.2  # when the package is converted for the map
DESCRIBE_SHARE = 0.02  # a merged file needs no conversion, only its facts
SUCCESS_SECONDS = 10
MERGED_SUFFIXES = (".gpkg", ".mbtiles")
# request-file states
RUNNING, PAUSED_STATE, FAILED_STATE = "running", "paused", "failed"
# Records an interrupted export can go on from (NEW parts of a split export included).
CONTINUABLE = frozenset({NEW, SUBMITTED, DOWNLOADING, TIMED_OUT, PAUSED})


tr = translator("ExportTask")  # module strings: pylupdate files them under @default


# --- the request ------------------------------------------------------------------------------
@dataclass(frozen=True)
class ExportRequest:
    """Everything the user chose for one export, as plain values (kept for a retry or a resume)."""

    service_url: str
    authcfg: str  # QGIS auth config id or ""
    area_wkt: str  # the area in the SERVICE CRS (polygon or rectangle), WKT
    area_is_rectangle: bool
    levels: tuple[int, ...]
    fmt: str | None  # None = automatic, "tpkx", "tpk" (vector always vtpk)
    optimize: bool = False
    quality: int | None = None
    split: bool = True
    merge: bool = True  # merge split results into one file (GeoPackage/MBTiles)
    output_path: str = ""  # final package path (.vtpk/.tpkx/.tpk) or a folder
    add_to_map: bool = True
    service_name: str = ""
    area_label: str = ""  # human description ("Drawn polygon, 5 vertices", "Canvas extent")
    # PACKAGE, or TILE_CACHE: a cache folder (map and image services; core.tilecache.supported_output_kinds)
    output_kind: str = PACKAGE

    def __post_init__(self) -> None:
        object.__setattr__(self, "levels", tuple(sorted({int(level) for level in self.levels})))

    @property
    def levels_text(self) -> str:
        return format_levels(self.levels)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> ExportRequest:
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in data.items() if k in known}
        values["levels"] = tuple(values.get("levels") or ())
        return cls(**values)


def area_from_wkt(wkt: str, is_rectangle: bool) -> Area:
    """The core's area from WKT in the service CRS (any thread)."""
    return area_from_geometry(QgsGeometry.fromWkt(wkt or ""), as_rectangle=is_rectangle)


def service_label(url: str) -> str:
    """``World_Map/MapServer`` from a service URL (when the service name is not known yet)."""
    parts = [p for p in url.split("?", 1)[0].rstrip("/").split("/") if p]
    return "/".join(parts[-2:]) if len(parts) >= 2 else url


# --- request files and records (any thread) -----------------------------------------------------
def requests_folder(store_folder: str | Path) -> Path:
    return Path(store_folder) / REQUESTS_FOLDER


def save_request_file(store_folder: str, job_id: str, request: ExportRequest, state: str,
                      created: float | None = None) -> None:
    if not store_folder:
        return
    path = requests_folder(store_folder) / f"{job_id}.json"
    doc = {"job_id": job_id, "state": state, "request": request.to_dict(), "created": created or time.time(),
           "updated": time.time()}
    try:
        atomic_write_text(path, json.dumps(doc, indent=1, sort_keys=True))
    except OSError as exc:  # the export goes on; only a resume after a restart would be affected
        log.warning("The export settings of job %s could not be saved: %s", job_id, exc)


def load_request_files(store_folder: str | Path) -> dict[str, dict]:
    folder = requests_folder(store_folder)
    out: dict[str, dict] = {}
    if not folder.is_dir():
        return out
    for path in sorted(folder.glob("*.json")):
        try:
            doc = json.loads(path.read_text(encoding="utf-8"))
            ExportRequest.from_dict(doc["request"])
            if not is_safe_id(str(doc.get("job_id") or path.stem)):  # it names files to delete later
                raise ValueError("the job id is not a plain name")
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
            log.warning("The export settings file %s is damaged (%s); it is ignored", path.name, exc)
            continue
        out[str(doc.get("job_id") or path.stem)] = doc
    return out


def delete_request_file(store_folder: str, job_id: str) -> None:
    if store_folder and is_safe_id(job_id):
        with contextlib.suppress(OSError):
            (requests_folder(store_folder) / f"{job_id}.json").unlink()


def leaf_records(records: list[JobRecord]) -> list[JobRecord]:
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


def _remove_output(path: Path) -> None:
    """Remove a finished output: a file, or a tile cache folder (never any other folder)."""
    if path.is_dir():
        if is_cache_folder(path) or path.name.endswith(names.CACHE_PART):
            shutil.rmtree(path, ignore_errors=True)
        return
    with contextlib.suppress(OSError):
        path.unlink()


def _part_files(record: JobRecord) -> list[Path]:
    parts = []
    if is_cache_record(record) and record.output_path:  # a tile cache still being downloaded
        parts += list(names.cache_download_paths(record.output_path))
    for entry in record.downloads:
        if isinstance(entry, dict):
            with contextlib.suppress(TypeError, ValueError):
                parts.append(DownloadState.from_dict(entry).part)
    return parts


def partial_bytes(records: list[JobRecord]) -> int:
    total = 0
    for record in records:
        for part in _part_files(record):
            with contextlib.suppress(OSError):
                total += sum(f.stat().st_size for f in part.rglob("*") if f.is_file()) if part.is_dir() \
                    else part.stat().st_size
    return total


def abandon_export(store: JobStore | None, job_id: str, *, exporter: Exporter | None = None,
                   delete_outputs: bool = True, extra_files: tuple[str | Path, ...] = ()) -> None:
    """Forget an export: cancel its server jobs still running (with ``exporter``), remove its
    ``.part`` files, the packages it finished (``delete_outputs``) and ``extra_files``, its records
    and its request file.  Best effort: failures are logged, never raised."""
    for record in plan_records(store, job_id):
        if exporter is not None and record.job and not record.result_urls and record.state in (
                NEW, SUBMITTED, TIMED_OUT, PAUSED):
            try:
                exporter.cancel(record, delete_partial=True)
            except Exception:  # noqa: BLE001 - a server that is gone must not stop the clean-up
                log.warning("The server job of %s could not be cancelled", record.service_url, exc_info=True)
        files = _part_files(record)
        if delete_outputs:
            files += [Path(p) for p in record.output_paths]
        for path in files:
            _remove_output(path)
        if store is not None:
            store.delete(record.id)
    for path in extra_files:
        _remove_output(Path(path))
    if store is not None:
        delete_request_file(str(store.folder), job_id)


# --- layer sources for the outputs (any thread) -----------------------------------------------
@dataclass(frozen=True)
class ExportOutcome:
    """What a finished export produced."""

    main_path: str  # the merged file, else the (first) package
    packages: tuple[str, ...]  # every package downloaded
    merged: bool
    tile_count: int
    job_count: int
    size: int  # bytes of main_path
    merged_tiles: int = 0
    sources: tuple[LayerSource, ...] = ()  # prepared for the map (empty without add to map)
    warnings: tuple[str, ...] = field(default=())

    @property
    def paths(self) -> list[str]:
        """The main file first, then the packages (when merged)."""
        return [self.main_path] + [p for p in self.packages if p != self.main_path]


ProgressFn = Callable[[float, str], None]


def prepare_sources(outcome: ExportOutcome, progress: ProgressFn | None = None,
                    cancel: Callable[[], bool] | None = None) -> tuple[LayerSource, ...]:
    """Layer sources for an outcome: the merged file as it is, else each package (converted when
    the running QGIS cannot read it).  ``progress(fraction, message)`` may raise CancelledError."""
    if outcome.merged and is_cache_folder(outcome.main_path):  # merged tile caches open like any cache
        return (prepare_layer_source(outcome.main_path, progress=progress, cancel=cancel),)
    if outcome.merged:
        facts = [describe_package(p) for p in outcome.packages]
        extents = [f["extent"] for f in facts if f.get("extent")]
        extent = (min(e[0] for e in extents), min(e[1] for e in extents), max(e[2] for e in extents),
                  max(e[3] for e in extents)) if extents else None
        levels = tuple(sorted({lv for f in facts for lv in f["levels"]}))
        size = _size(outcome.main_path)
        return (converted_source(facts[0], outcome.main_path, package=outcome.main_path, extent=extent,
                                 levels=levels, tile_count=outcome.merged_tiles or sum(f["tile_count"] for f in facts),
                                 package_size=size),)
    sources = []
    count = len(outcome.packages)
    for k, path in enumerate(outcome.packages):
        def step(fraction: float, message: str, k: int = k) -> None:
            if progress is not None:
                progress((k + fraction) / count, message)

        sources.append(prepare_layer_source(path, progress=step, cancel=cancel))
    return tuple(sources)


def name_after_export(layers: list[QgsMapLayer], main_path: str) -> None:
    """Layers are named after the export's file ("World_Imagery_Italy_L0-8"), not only after the
    service: three exports of one service were three layers called "World_Imagery"."""
    stem = Path(main_path).stem if main_path else ""
    if not stem:
        return
    for index, layer in enumerate(layers):
        layer.setName(stem if len(layers) == 1 else f"{stem} ({index + 1})")


def build_layers(sources: tuple[LayerSource, ...], what: str = "") -> tuple[list[QgsMapLayer], list]:
    """The styled layers of ``sources``, built in the calling (worker) thread and handed over to the
    main thread, so that ``finished()`` only adds them to the project: opening a GeoPackage or an
    MBTiles file takes tens of milliseconds, too long for the main thread.  Layers QGIS refuses come
    back as ``(package, error)`` pairs; a native source QGIS refuses is converted instead."""
    main = QCoreApplication.instance().thread()
    layers, errors = [], []
    for source in sources:
        try:
            try:
                layer = create_layer(source)
            except ConversionNeededError as exc:
                log.warning("%s; converting it instead", exc)
                layer = create_layer(prepare_layer_source(source.package, native=False))
        except ArcGISOfflineTilesError as exc:
            log.warning("%s: %s (%s)", what or source.package, exc.user_message, exc.details)
            errors.append((source.package, exc))
            continue
        layer.moveToThread(main)
        layers.append(layer)
    return layers, errors


def _size(path: str | Path) -> int:
    try:
        return Path(path).stat().st_size
    except OSError:
        return 0


@dataclass(frozen=True)
class MergedCaches:
    """The merge report of tile caches, shaped as the packages' (output, tiles, warnings)."""

    output: str
    tiles_written: int
    warnings: tuple[str, ...] = ()


# --- message bar helper -----------------------------------------------------------------------
def default_message_bar():
    try:
        from qgis.utils import iface
    except ImportError:  # pragma: no cover - qgis.utils always exists inside QGIS
        return None
    return iface.messageBar() if iface is not None else None


def push(bar, title: str, text: str, level, duration: int) -> None:
    if bar is None:
        return
    try:
        if level == Qgis.MessageLevel.Success:
            bar.pushSuccess(title, text)
        else:
            bar.pushMessage(title, text, level, duration)
    except RuntimeError:  # the bar is gone (QGIS closing)
        log.debug("message bar gone: %s %s", title, text)


# --- the export task --------------------------------------------------------------------------
class ExportTask(PluginTask):
    """One export (or the resume of one), from the server job to the layer on the map.

    ``job_id`` is the plan id of the core's records and names the request file; ``resume=True``
    continues the records of ``job_id`` (a fresh export when there are none).  ``on_success`` adds
    the layer(s) to ``project`` (default: the current project) when the request asks for it and pushes
    a note to ``message_bar`` (default: the QGIS window's); ``on_failure`` pushes what happened and
    what to do next.  :attr:`outcome`, :attr:`layer_ids`, :attr:`can_resume` and :attr:`status_text`
    are read by the jobs manager once the task is done.
    """

    def __init__(self, job_id: str, request: ExportRequest, config: EngineConfig, *, resume: bool = False,
                 project: QgsProject | None = None, message_bar=None, created: float | None = None,
                 exporter_options: dict | None = None) -> None:
        self.title = tr("Export {name}").format(name=request.service_name or service_label(request.service_url))
        super().__init__(self.title, PluginTask.Flag.CanCancel | PluginTask.Flag.CancelWithoutPrompt)
        self.job_id = job_id
        self.request = request
        self.config = config
        self.resume = resume
        self.created = created or time.time()
        self.exporter_options = dict(exporter_options or {})
        self.token = CancelToken()
        self.outcome: ExportOutcome | None = None
        self.layer_ids: list[str] = []
        self.can_resume = False
        self.kept_bytes = 0  # of a download kept when the export was cancelled
        self.status_text = tr("Queued")
        self._project = project
        self._message_bar = message_bar
        self._layers: list[QgsMapLayer] = []  # built in the worker, added to the project in finished()
        self._layer_errors: list[tuple[str, BaseException]] = []
        self._created_files: list[Path] = []
        self._shares = (1.0, 0.0, 0.0)  # export, merge, layer
        self._weights: list[float] = [1.0]
        self._last_emit = 0.0
        self._last_key = ""
        self._last_fraction = 0.0
        self.statusMessage.connect(self._show_status)

    # -- stop (any thread) ---------------------------------------------------------------------
    def cancel(self) -> None:
        """A cancel from outside the plugin (QGIS's task list, QGIS closing): pause (see the module doc)."""
        self.pause()

    def pause(self) -> None:
        """Stop but keep the server job, the partial download and the records for a resume."""
        self.token.pause()
        super().cancel()

    def abandon(self) -> None:
        """Give the export up: its server job is cancelled and its files removed (a started download
        is kept for a resume).  An export already pausing stays paused."""
        if not self.token.paused:
            self.token.cancel()
        super().cancel()

    @property
    def paused(self) -> bool:
        return bool(self.token.paused)

    # QGIS reports a task whose run() returns False as failed ("Task failed"), but a pause (from QGIS's
    # task list, or QGIS closing) is not a failure: the task ends as complete for QGIS, and finished()
    # still handles it as the pause it is (the jobs list says "Paused").
    def run(self) -> bool:
        return super().run() or self._paused_cleanly()

    def finished(self, result: bool) -> None:
        super().finished(result and not self._paused_cleanly())

    def _paused_cleanly(self) -> bool:
        return self.paused and isinstance(self.error, CancelledError)

    # -- worker thread -------------------------------------------------------------------------
    def work(self) -> ExportOutcome:
        store = JobStore(self.config.store_folder) if self.config.store_folder else None
        save_request_file(self.config.store_folder, self.job_id, self.request, RUNNING, self.created)
        exporter = create_exporter(self.config, **self.exporter_options)
        try:
            outcome = self._export(exporter, store)
        except CancelledError:
            if self.token.paused:
                log.info("Export %s paused; its server job and partial download are kept", self.job_id)
                save_request_file(self.config.store_folder, self.job_id, self.request, PAUSED_STATE, self.created)
            elif self._download_started(store):
                self.can_resume = True
                log.info("Export %s cancelled during the download; the part downloaded is kept", self.job_id)
                save_request_file(self.config.store_folder, self.job_id, self.request, PAUSED_STATE, self.created)
            else:
                abandon_export(store, self.job_id, exporter=exporter, extra_files=tuple(self._created_files))
            raise
        except BaseException:
            self._after_failure(store)
            raise
        # Done: nothing is left to resume.
        for record in plan_records(store, self.job_id):
            store.delete(record.id)
        delete_request_file(self.config.store_folder, self.job_id)
        return outcome

    def _download_started(self, store: JobStore | None) -> bool:
        """A package is partly downloaded (its server job is done: there is nothing left to cancel)."""
        self.kept_bytes = partial_bytes(leaf_records(plan_records(store, self.job_id)))
        return self.kept_bytes > 0

    def _after_failure(self, store: JobStore | None) -> None:
        """Keep the records when something can be resumed (a download, a server job, finished parts)."""
        try:
            records = plan_records(store, self.job_id)
            self.can_resume = worth_resuming(records)
            if self.can_resume:
                save_request_file(self.config.store_folder, self.job_id, self.request, FAILED_STATE, self.created)
            else:
                for record in records:
                    store.delete(record.id)
                delete_request_file(self.config.store_folder, self.job_id)
        except Exception:  # noqa: BLE001 - the original error matters more
            log.warning("Could not tidy the records of export %s", self.job_id, exc_info=True)

    def _export(self, exporter: Exporter, store: JobStore | None) -> ExportOutcome:
        request = self.request
        self._publish(0.0, tr("Reading the service"), "fetch", force=True)
        service = exporter.fetch(request.service_url, cancel=self.token)
        records = leaf_records(plan_records(store, self.job_id)) if self.resume else []
        if records:
            packages, tiles, jobs = self._resume_records(exporter, service, records)
        else:
            packages, tiles, jobs = self._run_plan(exporter, service)
        self.token.raise_if_cancelled()
        main, merged, merged_tiles, warnings = packages[0], False, 0, []
        if request.merge and len(packages) > 1:
            report = self._merge(packages, service)
            main, merged, merged_tiles = report.output, True, report.tiles_written
            warnings += report.warnings
        outcome = ExportOutcome(main_path=str(main), packages=tuple(packages), merged=merged, tile_count=tiles,
                                job_count=jobs, size=_size(main), merged_tiles=merged_tiles,
                                warnings=tuple(warnings))
        if request.add_to_map:
            start = self._shares[0] + self._shares[1]

            def progress(fraction: float, message: str) -> None:
                self.token.raise_if_cancelled()
                self._publish(start + self._shares[2] * fraction, message, "layer")

            if not merged:
                self._publish(start, tr("Converting for QGIS"), "layer", force=True)
            outcome = replace(outcome, sources=prepare_sources(outcome, progress, lambda: self.token.cancelled))
            self._publish(1.0, tr("Loading"), "load", force=True)
            self._layers, self._layer_errors = build_layers(outcome.sources, self.title)
        self.token.raise_if_cancelled()  # a cancel that came in the meantime still abandons the export
        return outcome

    def _set_shares(self, merging: bool) -> None:
        merge = MERGE_SHARE if merging else 0.0
        layer = 0.0
        if self.request.add_to_map:
            layer = DESCRIBE_SHARE if merging else CONVERT_SHARE
        self._shares = (1.0 - merge - layer, merge, layer)

    def _run_plan(self, exporter: Exporter, service: Any) -> tuple[list[str], int, int]:
        request = self.request
        area = area_from_wkt(request.area_wkt, request.area_is_rectangle)
        plan = exporter.prepare(service, area, request.levels, fmt=request.fmt, optimize=request.optimize,
                                quality=request.quality, split=request.split, output_kind=request.output_kind)
        plan.id = self.job_id  # the records carry the job id: a restart finds them by it
        for warning in plan.warnings:
            log.warning("%s: %s", self.title, warning)
        log.info("%s: %s", self.title, plan.describe())
        total = sum(max(1, r.tiles) for r in plan.requests) or 1
        self._weights = [max(1, r.tiles) / total for r in plan.requests]
        self._set_shares(request.merge and plan.job_count > 1)
        out = request.output_path or str(Path.home())
        result = exporter.run(plan, out, progress=self._on_engine_progress, cancel=self.token)
        return [str(p) for p in result.paths], result.tile_count, result.job_count

    def _resume_records(self, exporter: Exporter, service: Any,
                        records: list[JobRecord]) -> tuple[list[str], int, int]:
        total = sum(max(1, r.tiles) for r in records) or 1
        weights = [max(1, r.tiles) / total for r in records]
        self._set_shares(self.request.merge and len(records) > 1)
        paths: list[str] = []
        done = 0.0
        for k, record in enumerate(records):
            def progress(p: Progress, k: int = k, base: float = done) -> None:
                part = p.fraction or 0.0
                text = self._stage_text(replace(p, part=k + 1, parts=len(records)), part)
                self._publish(self._shares[0] * (base + weights[k] * part), text, f"{p.stage}{k}")

            result = exporter.resume(record, progress=progress, cancel=self.token, service=service)
            paths += [str(p) for p in result.paths]
            done += weights[k]
        return paths, sum(r.tiles for r in records), len({r.part_index for r in records})

    def _on_engine_progress(self, p: Progress) -> None:
        overall = p.fraction or 0.0
        i = max(0, min(len(self._weights) - 1, p.part - 1))
        before = sum(self._weights[:i])
        part = (overall - before) / self._weights[i] if self._weights[i] else 0.0
        self._publish(self._shares[0] * overall, self._stage_text(p, max(0.0, min(1.0, part))), f"{p.stage}{p.part}")

    def _stage_text(self, p: Progress, part_fraction: float) -> str:
        if p.stage == "submit":
            text = tr("Submitting the export")
        elif p.stage == "wait":
            server = min(1.0, part_fraction / JOB_SHARE) if JOB_SHARE else 0.0
            text = (tr("Server building the package: {percent} %").format(percent=int(server * 100))
                    if server >= 0.01 else tr("Submitted; the server is building the package"))
        elif p.stage == "download":
            if p.bytes_total:
                text = tr("Downloading {done} of {total}").format(done=human_size(p.bytes_done),
                                                                  total=human_size(p.bytes_total))
            else:
                text = tr("Downloading {done}").format(done=human_size(p.bytes_done))
        elif p.stage == "done":
            text = tr("Package downloaded")
        else:
            text = p.message
        if p.parts > 1:
            text = tr("Job {part} of {parts}: {text}").format(part=p.part, parts=p.parts, text=text)
        return text

    def _merge(self, packages: list[str], service: Any):
        if self.request.output_kind == TILE_CACHE:
            return self._merge_caches(packages)
        vector = is_vector(service)
        target = names.merged_path(self.request.output_path, packages[0], vector)
        wkt = None
        if not vector:
            try:
                wkt = crs_glue.qgs_crs(service.spatial_ref).toWkt(QgsCoordinateReferenceSystem.WktVariant.WKT1_GDAL)
            except ArcGISOfflineTilesError:
                wkt = None  # the packages' own WKT is used
        start, share = self._shares[0], self._shares[1]
        text = tr("Merging {count} packages into {name}").format(count=len(packages), name=target.name)
        self._publish(start, text, "merge", force=True)

        def progress(done: int, total: int) -> bool:
            self._publish(start + share * done / max(total, 1), tr("{text}: {done} of {total} tiles").format(
                text=text, done=done, total=total), "merge")
            return not self.token.cancelled

        self._created_files.append(target)
        return merge_packages(packages, target, progress=progress, crs_wkt=wkt)

    def _merge_caches(self, caches: list[str]) -> MergedCaches:
        """Split tile caches into one cache folder (the output path), tile by tile."""
        target = names.merged_cache_folder(self.request.output_path, caches[0])
        start, share = self._shares[0], self._shares[1]
        text = tr("Merging {count} tile caches into {name}").format(count=len(caches), name=target.name)
        self._publish(start, text, "merge", force=True)

        def progress(done: int, total: int) -> bool:
            self._publish(start + share * done / max(total, 1), tr("{text}: {done} of {total} tiles").format(
                text=text, done=done, total=total), "merge")
            return not self.token.cancelled

        area = area_from_wkt(self.request.area_wkt, self.request.area_is_rectangle)
        summary = merge_caches(caches, target, progress=progress, extent=area.bbox)
        self._created_files.append(target)
        return MergedCaches(str(target), summary.tile_count)

    def _publish(self, fraction: float, text: str, key: str, force: bool = False) -> None:
        """Progress and status, throttled: the main thread gets at most ~10 updates a second."""
        fraction = max(self._last_fraction, min(1.0, fraction))
        now = time.monotonic()
        if not force and key == self._last_key and now - self._last_emit < STATUS_INTERVAL_S:
            self._last_fraction = fraction
            return
        self._last_emit, self._last_key, self._last_fraction = now, key, fraction
        self.setProgress(fraction * 100.0)
        if text:
            self.statusMessage.emit(text)

    # -- main thread ---------------------------------------------------------------------------
    def _show_status(self, text: str) -> None:
        self.status_text = text
        self.setDescription(tr("{title}: {status}").format(title=self.title, status=text))

    def on_success(self, result: ExportOutcome) -> None:
        self.outcome = result
        self.setDescription(self.title)
        added = []
        project = self._project or QgsProject.instance()
        name_after_export(self._layers, result.main_path)
        for layer in self._layers:
            project.addMapLayer(layer)
            self.layer_ids.append(layer.id())
            added.append(layer.name())
        self._layers = []
        for package, error in self._layer_errors:  # the export itself succeeded: say so, and why no layer
            push(self._bar(), tr("Could not add {file} to the map").format(file=Path(package).name),
                 tr("{message} Details in the log.").format(message=error_message(error)),
                 Qgis.MessageLevel.Warning, 0)
        name = Path(result.main_path).name
        folder = str(Path(result.main_path).parent)
        text = tr("{file} ({size}) saved in {folder}.").format(file=name, size=human_size(result.size), folder=folder)
        if result.merged:
            text += " " + tr("{count} packages merged.").format(count=len(result.packages))
        if added:
            text += " " + tr("Added to the map as {names}.").format(names=", ".join(added))
        for warning in result.warnings:
            log.warning("%s: %s", name, warning)
        self.status_text = tr("Saved {file} ({size})").format(file=name, size=human_size(result.size))
        if not qgis_announces_end(self):  # one notice per export: QGIS's own "Task complete" when it gives one
            push(self._bar(), tr("Export finished"), text, Qgis.MessageLevel.Success, SUCCESS_SECONDS)
        log.info("%s: %d tiles in %d job(s) → %s", self.title, result.tile_count, result.job_count,
                 ", ".join(result.paths))

    def on_failure(self, error: BaseException) -> None:
        self.setDescription(self.title)
        name = self.request.service_name or service_label(self.request.service_url)
        if isinstance(error, CancelledError):
            if self.token.paused:
                self.status_text = tr("Paused; it can resume later")
                # QGIS announces the end of a long task as "Task complete" with its description
                self.setDescription(tr("{title}: {status}").format(title=self.title, status=self.status_text))
                return
            if self.can_resume:
                size = human_size(self.kept_bytes)
                self.status_text = tr("Cancelled; the {size} downloaded are kept for a resume").format(size=size)
                text = tr("{name}: the export was cancelled during the download; the {size} already downloaded are "
                          "kept. Resume continues it from the jobs list, Remove deletes it.")
                push(self._bar(), tr("Export cancelled"), text.format(name=name, size=size), Qgis.MessageLevel.Info,
                     SUCCESS_SECONDS)
                return
            self.status_text = tr("Cancelled")
            push(self._bar(), tr("Export cancelled"),
                 tr("{name}: the export was cancelled; the server job was stopped and no package was kept.")
                 .format(name=name), Qgis.MessageLevel.Info, SUCCESS_SECONDS)
            return
        message = error_message(error)
        self.status_text = message
        hint = tr("Resume it from the jobs list, or retry it.") if self.can_resume else tr(
            "Retry it from the jobs list; the area and settings are kept.")
        push(self._bar(), tr("Export failed: {name}").format(name=name),
             tr("{message} {hint} Details in the log.").format(message=message, hint=hint),
             Qgis.MessageLevel.Critical, 0)

    def _bar(self):
        return self._message_bar if self._message_bar is not None else default_message_bar()


# --- small tasks of the jobs manager ------------------------------------------------------------
@dataclass(frozen=True)
class ResumableExport:
    """An export an earlier session left unfinished."""

    job_id: str
    request: ExportRequest
    has_request_file: bool
    status: str
    progress: float
    created: float
    tiles: int


def request_from_records(records: list[JobRecord]) -> ExportRequest:
    """A request rebuilt from records alone (exports started by Processing have no request file)."""
    first = records[0]
    geometry = None
    for record in records:
        try:
            part = geometry_from_area(Area.from_esri_json(record.area))
        except (ArcGISOfflineTilesError, ValueError, TypeError, KeyError):
            continue
        geometry = part if geometry is None else geometry.combine(part)
    output = ""
    if first.output_path:
        output = str(names.whole_export_path(first.output_path))
    return ExportRequest(service_url=first.service_url, authcfg="",
                         area_wkt=geometry.asWkt() if geometry is not None else "",
                         area_is_rectangle=False, levels=tuple(lv for r in records for lv in r.levels),
                         fmt=None if first.format == "vtpk" else (first.format or None),
                         merge=len({r.part_index for r in records}) > 1, output_path=output,
                         service_name=first.service_name, area_label=tr("Area of the interrupted export"))


def scan_resumable(store_folder: str | Path) -> list[ResumableExport]:
    """Exports left unfinished in ``store_folder`` (request files and the core's records)."""
    store = JobStore(store_folder)
    groups: dict[str, list[JobRecord]] = {}
    for record in store.records():
        groups.setdefault(record.plan_id or record.id, []).append(record)
    out = []
    for job_id, doc in load_request_files(store_folder).items():
        records = groups.pop(job_id, [])
        if records and all(r.state in (CANCELLED, FAILED) for r in records):
            continue
        out.append(_resumable(job_id, ExportRequest.from_dict(doc["request"]), records, True,
                              float(doc.get("created") or 0)))
    for job_id, records in groups.items():
        if any(r.state in CONTINUABLE for r in records):
            records.sort(key=lambda r: (r.part_index, r.created))
            try:
                request = request_from_records(records)
            except (ValueError, TypeError) as exc:
                log.warning("Unfinished export %s cannot be resumed: %s", job_id, exc)
                continue
            out.append(_resumable(job_id, request, records, False, min(r.created for r in records)))
    out.sort(key=lambda r: r.created, reverse=True)
    return out


def _resumable(job_id: str, request: ExportRequest, records: list[JobRecord], has_file: bool,
               created: float) -> ResumableExport:
    leaves = leaf_records(records)
    tiles = sum(r.tiles for r in leaves)
    done = sum(r.tiles for r in leaves if r.state == DONE)
    kept = partial_bytes(leaves)
    if kept:
        status = tr("Interrupted; {size} of the download is kept").format(size=human_size(kept))
    elif any(r.job and r.state in (SUBMITTED, TIMED_OUT, PAUSED) for r in leaves):
        status = tr("Interrupted; the server job is kept")
    else:
        status = tr("Interrupted before it finished")
    return ResumableExport(job_id, request, has_file, status, (done / tiles) if tiles else 0.0,
                           created or time.time(), tiles)


class ScanTask(PluginTask):
    """Lists the exports an earlier session left unfinished (reads the job store off the main thread)."""

    def __init__(self, store_folder: str) -> None:
        super().__init__(tr("Looking for unfinished exports"), hidden_flags())
        self.store_folder = store_folder

    def work(self) -> list[ResumableExport]:
        return scan_resumable(self.store_folder)


class DiscardTask(PluginTask):
    """Forgets an unfinished export: cancels its server jobs, removes its partial files and records."""

    def __init__(self, job_id: str, config: EngineConfig, exporter_options: dict | None = None) -> None:
        super().__init__(tr("Discarding an unfinished export"))
        self.job_id = job_id
        self.config = config
        self.exporter_options = dict(exporter_options or {})

    def work(self) -> None:
        store = JobStore(self.config.store_folder) if self.config.store_folder else None
        abandon_export(store, self.job_id, exporter=create_exporter(self.config, **self.exporter_options))


class LoadLayerTask(PluginTask):
    """Adds the outputs of a finished export to the map (converting them first when needed)."""

    def __init__(self, outcome: ExportOutcome, *, project: QgsProject | None = None, message_bar=None) -> None:
        super().__init__(tr("Opening {name}").format(name=Path(outcome.main_path).name))
        self.outcome = outcome
        self._project = project
        self._message_bar = message_bar
        self.layer_ids: list[str] = []

    def work(self) -> list[QgsMapLayer]:
        layers, errors = build_layers(prepare_sources(self.outcome, self.report, self.isCanceled))
        if errors and not layers:
            raise errors[0][1]
        return layers

    def on_success(self, result: list[QgsMapLayer]) -> None:
        project = self._project or QgsProject.instance()
        name_after_export(result, self.outcome.main_path)
        for layer in result:
            project.addMapLayer(layer)
            self.layer_ids.append(layer.id())

    def on_failure(self, error: BaseException) -> None:
        if isinstance(error, CancelledError):
            return
        bar = self._message_bar if self._message_bar is not None else default_message_bar()
        push(bar, tr("Could not add {file} to the map").format(file=Path(self.outcome.main_path).name),
             tr("{message} Details in the log.").format(message=error_message(error)),
             Qgis.MessageLevel.Warning, 0)
