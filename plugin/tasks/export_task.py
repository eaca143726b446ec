"""Exports as ``QgsTask``s: submit, wait, download, merge and prepare the layer in ``run()``; add it in
``finished()``.

::

    config = engine.engine_config(request.authcfg)                 # main thread: QGIS settings, auth
    task = ExportTask(export_id, request, config, message_bar=iface.messageBar())
    keeper.start(task)                                               # QgsApplication.taskManager()

The worker builds its own :class:`~..core.export.Exporter` from ``config`` and drives the core's
:class:`~..core.pipeline.ExportPipeline` (the same sequence, names and record keeping as Processing's
``exporttiles``), then :func:`~..qgis_glue.layers.prepare_layer_source` (the conversion happens there, off
the main thread).  ``finished()`` adds the layer(s) and tells the user.  What the export store keeps of an
export (its request, state and part records, in one record) is :mod:`..core.records`'.

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

import logging
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable

from qgis.core import Qgis, QgsMapLayer, QgsProject
from qgis.PyQt.QtCore import QCoreApplication

from ..core import names
from ..core.area import Area
from ..core.errors import ArcGISOfflineTilesError, CancelledError
from ..core.export import JOB_SHARE, ExportPlan, Progress
from ..core.exportstore import DONE, PAUSED, SUBMITTED, TIMED_OUT, ExportStore, PartRecord
from ..core.http import CancelToken
from ..core.packages.cachefolder import is_cache_folder
from ..core.pipeline import ExportOutcome, ExportPipeline, PipelineListener
from ..core.records import abandon_export, leaf_records, partial_bytes, scan_records
from ..core.request import ExportRequest, service_label
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

STATUS_INTERVAL_S = 0.1  # at most ~10 progress/status updates a second reach the main thread
CONVERT_SHARE = 0.2  # of the task's progress bar, when the package is converted for the map
DESCRIBE_SHARE = 0.02  # a merged file needs no conversion, only its facts
SUCCESS_SECONDS = 10


tr = translator("ExportTask")  # module strings: pylupdate files them under @default


# --- layer sources for the outputs (any thread) -----------------------------------------------
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

    ``export_id`` is the export's id in the store (the plan id of its part records); ``resume=True``
    continues the records of ``export_id`` (a fresh export when there are none).  ``on_success`` adds
    the layer(s) to ``project`` (default: the current project) when the request asks for it and pushes
    a note to ``message_bar`` (default: the QGIS window's); ``on_failure`` pushes what happened and
    what to do next.  :attr:`outcome`, :attr:`layer_ids`, :attr:`can_resume` and :attr:`status_text`
    are read by the exports manager once the task is done.
    """

    def __init__(self, export_id: str, request: ExportRequest, config: EngineConfig, *, resume: bool = False,
                 project: QgsProject | None = None, message_bar=None, created: float | None = None,
                 exporter_options: dict | None = None) -> None:
        self.title = tr("Export {name}").format(name=request.service_name or service_label(request.service_url))
        super().__init__(self.title, PluginTask.Flag.CanCancel | PluginTask.Flag.CancelWithoutPrompt)
        self.export_id = export_id
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
        self._layer_share = CONVERT_SHARE if request.add_to_map else 0.0  # of the bar: preparing the layers
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
    # still handles it as the pause it is (the exports list says "Paused").
    def run(self) -> bool:
        return super().run() or self._paused_cleanly()

    def finished(self, result: bool) -> None:
        super().finished(result and not self._paused_cleanly())

    def _paused_cleanly(self) -> bool:
        return self.paused and isinstance(self.error, CancelledError)

    # -- worker thread -------------------------------------------------------------------------
    def work(self) -> ExportOutcome:
        exporter = create_exporter(self.config, **self.exporter_options)
        pipeline = ExportPipeline(exporter, self.request, self.export_id, resume=self.resume,
                                  listener=_TaskListener(self), cancel=self.token, crs_wkt=crs_glue.service_crs_wkt,
                                  created=self.created, finish=self._prepare_layers)
        try:
            return pipeline.run()
        finally:
            self.can_resume = pipeline.settled.can_resume
            self.kept_bytes = pipeline.settled.kept_bytes

    def _prepare_layers(self, outcome: ExportOutcome) -> ExportOutcome:
        """The layer sources (converted when needed) and the layers, still in the worker thread."""
        if not self.request.add_to_map:
            return outcome
        start = 1.0 - self._layer_share

        def progress(fraction: float, message: str) -> None:
            self.token.raise_if_cancelled()
            self._publish(start + self._layer_share * fraction, message, "layer")

        if not outcome.merged:
            self._publish(start, tr("Converting for QGIS"), "layer", force=True)
        outcome = replace(outcome, sources=prepare_sources(outcome, progress, lambda: self.token.cancelled))
        self._publish(1.0, tr("Loading"), "load", force=True)
        self._layers, self._layer_errors = build_layers(outcome.sources, self.title)
        return outcome

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
            text = tr("Part {part} of {parts}: {text}").format(part=p.part, parts=p.parts, text=text)
        return text

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
        log.info("%s: %d tiles in %d part(s) → %s", self.title, result.tile_count, result.part_count,
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
                          "kept. Resume continues it from the exports list, Remove deletes it.")
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
        hint = tr("Resume it from the exports list, or retry it.") if self.can_resume else tr(
            "Retry it from the exports list; the area and settings are kept.")
        push(self._bar(), tr("Export failed: {name}").format(name=name),
             tr("{message} {hint} Details in the log.").format(message=message, hint=hint),
             Qgis.MessageLevel.Critical, 0)

    def _bar(self):
        return self._message_bar if self._message_bar is not None else default_message_bar()


class _TaskListener(PipelineListener):
    """The pipeline's progress as the task's bar and status texts (throttled by ``_publish``)."""

    def __init__(self, task: ExportTask) -> None:
        self.task = task

    def _bar(self, fraction: float) -> float:
        return (1.0 - self.task._layer_share) * fraction

    def fetching(self, url: str) -> None:
        self.task._publish(0.0, tr("Reading the service"), "fetch", force=True)

    def planned(self, plan: ExportPlan | None, parts: int, merging: bool) -> None:
        task = self.task
        if task.request.add_to_map:
            task._layer_share = DESCRIBE_SHARE if merging else CONVERT_SHARE
        if plan is not None:
            for warning in plan.warnings:
                log.warning("%s: %s", task.title, warning)
            log.info("%s: %s", task.title, plan.describe())

    def renamed(self, wanted: Path, chosen: Path) -> None:
        log.info("%s: %s exists; exporting to %s", self.task.title, wanted.name, chosen.name)

    def part_progress(self, progress: Progress, fraction: float, part_fraction: float) -> None:
        self.task._publish(self._bar(fraction), self.task._stage_text(progress, part_fraction),
                           f"{progress.stage}{progress.part}")

    def merging(self, target: Path, count: int, caches: bool, fraction: float) -> None:
        text = tr("Merging {count} tile caches into {name}") if caches else tr("Merging {count} packages into {name}")
        self._merge_text = text.format(count=count, name=target.name)
        self.task._publish(self._bar(fraction), self._merge_text, "merge", force=True)

    def merge_progress(self, done: int, total: int, fraction: float) -> None:
        self.task._publish(self._bar(fraction), tr("{text}: {done} of {total} tiles").format(
            text=self._merge_text, done=done, total=total), "merge")


# --- small tasks of the exports manager ---------------------------------------------------------
@dataclass(frozen=True)
class ResumableExport:
    """An export an earlier session left unfinished."""

    export_id: str
    request: ExportRequest
    has_request_file: bool
    status: str
    progress: float
    created: float
    tiles: int


def request_from_records(records: list[PartRecord]) -> ExportRequest:
    """A request rebuilt from part records alone (records an earlier version of Processing wrote hold no
    request).  The area is the union of the parts' areas, which QGIS computes: the parts of a split
    share their edges, so their rings side by side would not make a valid outline."""
    first = records[0]
    geometry = None
    for record in records:
        try:
            part = geometry_from_area(Area.from_esri_json(record.area))
        except (ArcGISOfflineTilesError, ValueError, TypeError, KeyError):
            continue
        geometry = part if geometry is None else geometry.combine(part)
    if geometry is None:
        raise ValueError("no part holds a readable area")
    output = ""
    if first.output_path:
        output = str(names.whole_export_path(first.output_path))
    return ExportRequest(service_url=first.service_url, authcfg="", area=area_from_geometry(geometry),
                         levels=tuple(lv for r in records for lv in r.levels),
                         fmt=None if first.format == "vtpk" else (first.format or None),
                         merge=len({r.part_index for r in records}) > 1, output_path=output,
                         service_name=first.service_name, area_label=tr("Area of the interrupted export"))


def scan_resumable(store_folder: str | Path) -> list[ResumableExport]:
    """Exports left unfinished in ``store_folder`` (the store's records)."""
    out = []
    for export_id, doc, records in scan_records(store_folder):
        if doc is not None:
            out.append(_resumable(export_id, doc["export_request"], records, True, float(doc.get("created") or 0)))
            continue
        try:
            request = request_from_records(records)
        except (ArcGISOfflineTilesError, ValueError, TypeError) as exc:
            log.warning("Unfinished export %s cannot be resumed: %s", export_id, exc)
            continue
        out.append(_resumable(export_id, request, records, False, min(r.created for r in records)))
    out.sort(key=lambda r: r.created, reverse=True)
    return out


def _resumable(export_id: str, request: ExportRequest, records: list[PartRecord], has_file: bool,
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
    return ResumableExport(export_id, request, has_file, status, (done / tiles) if tiles else 0.0,
                           created or time.time(), tiles)


class ScanTask(PluginTask):
    """Lists the exports an earlier session left unfinished (reads the export store off the main thread)."""

    def __init__(self, store_folder: str) -> None:
        super().__init__(tr("Looking for unfinished exports"), hidden_flags())
        self.store_folder = store_folder

    def work(self) -> list[ResumableExport]:
        return scan_resumable(self.store_folder)


class DiscardTask(PluginTask):
    """Forgets an unfinished export: cancels its server jobs, removes its partial files and records."""

    def __init__(self, export_id: str, config: EngineConfig, exporter_options: dict | None = None) -> None:
        super().__init__(tr("Discarding an unfinished export"))
        self.export_id = export_id
        self.config = config
        self.exporter_options = dict(exporter_options or {})

    def work(self) -> None:
        store = ExportStore(self.config.store_folder) if self.config.store_folder else None
        abandon_export(store, self.export_id, exporter=create_exporter(self.config, **self.exporter_options))


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
