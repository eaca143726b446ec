"""The exports manager: starts exports as tasks, follows them, keeps them for a retry, resumes them.

::

    manager = ExportsController(iface)                      # lists unfinished exports of earlier sessions
    export_id = manager.start_export(request)         # an ExportTask in QGIS' task manager
    manager.exportUpdated.connect(...)                # progress / status text / state of one export
    manager.view(export_id)                           # an ExportView: what the card shows
    manager.cancel(export_id); manager.retry(export_id); manager.resume(export_id)
    manager.resume(export_id, folder)                 # continue in another folder (its files move there)
    manager.scanned.connect(...)                      # the exports of earlier sessions have been read
    manager.shutdown()                                # plugin unload: running exports pause

A cancel from QGIS's task list (or QGIS closing) pauses an export; :meth:`ExportsController.cancel` (the
dock) abandons it (see :mod:`..tasks.export_task`).

An export is one :class:`ExportRequest`, however many parts (one server job each) it is split into.  Its
id is the ``plan_id`` of the core's part records, so an export that a QGIS restart interrupted is found
again by id.  Every method runs on the main thread and returns at once: the network, the disk, the
merge and the conversion run in tasks.
"""
from __future__ import annotations

import contextlib
import logging
import time
import uuid
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path

from qgis.core import QgsProject
from qgis.PyQt.QtCore import QObject, QUrl, pyqtSignal
from qgis.PyQt.QtGui import QDesktopServices

from ..core.errors import CancelledError
from ..core.exportstore import ExportState  # the manager's states are the stored ones
from ..qgis_glue import engine, settings
from ..qgis_glue.i18n import error_message, translator
from ..tasks.base import TaskKeeper
from ..tasks.export_task import (
    DiscardTask,
    ExportOutcome,
    ExportRequest,
    ExportTask,
    LoadLayerTask,
    ResumableExport,
    ScanTask,
    service_label,
)
from . import export_destination as destination
from .resume_elsewhere import ResumeElsewhere

log = logging.getLogger(__name__)


tr = translator("ExportsController")  # module strings: pylupdate files them under @default




@dataclass(frozen=True)
class ExportView:
    """A snapshot of one export for the panel and the dock."""

    id: str
    state: str
    progress: float  # 0..1
    status: str  # status text
    service_name: str
    area_label: str
    levels_text: str
    output_paths: tuple[str, ...]  # main file first (merged file, else the package), then the packages
    error: str  # the user message of the failure ("" otherwise)
    request: ExportRequest
    can_resume: bool = False
    from_earlier_session: bool = False
    created: float = 0.0
    layer_ids: tuple[str, ...] = ()
    note: str = ""  # what the user should know about this export (e.g. the file was renamed)

    @property
    def active(self) -> bool:
        return self.state.active

    @property
    def status_text(self) -> str:
        return self.status

    @property
    def error_message(self) -> str:
        return self.error

    @property
    def levels(self) -> tuple[int, ...]:
        return self.request.levels

    @property
    def can_cancel(self) -> bool:
        return self.state in (ExportState.QUEUED, ExportState.RUNNING) or (self.state == ExportState.PAUSED)

    @property
    def can_retry(self) -> bool:
        return self.state in (ExportState.FAILED, ExportState.CANCELLED)

    @property
    def can_open(self) -> bool:
        return self.state == ExportState.FINISHED and bool(self.output_paths)

    @property
    def can_clear(self) -> bool:
        """Done with (finished, or cancelled without a download kept for a resume)."""
        return self.state == ExportState.FINISHED or (self.state == ExportState.CANCELLED and not self.can_resume)


@dataclass
class _Export:
    id: str
    request: ExportRequest
    state: str
    created: float
    progress: float = 0.0
    status: str = ""
    error: str = ""
    can_resume: bool = False
    from_earlier_session: bool = False
    outcome: ExportOutcome | None = None
    task: ExportTask | None = None
    begun: bool = False
    remove_when_done: bool = False
    layer_ids: tuple[str, ...] = ()
    note: str = ""  # what the user should know about this export (e.g. the file was renamed)

    @classmethod
    def of_earlier_session(cls, found: ResumableExport) -> _Export:
        """A paused export that an earlier QGIS session left unfinished, as the export store holds it."""
        request = found.request
        if not found.has_request_file and not request.authcfg:
            request = replace(request, authcfg=settings.auth_config_for(request.service_url))
        return cls(id=found.export_id, request=request, state=ExportState.PAUSED, created=found.created,
                   progress=found.progress, status=found.status, can_resume=True, from_earlier_session=True)

    def end(self, task: ExportTask, ok: bool) -> None:
        """The state its ended task leaves the export in: finished, paused, cancelled (a download under
        way kept for a resume, or nothing kept) or failed."""
        self.task = None
        error = task.error
        if ok and task.outcome is not None:
            self.state, self.progress, self.outcome = ExportState.FINISHED, 1.0, task.outcome
            self.error, self.can_resume, self.from_earlier_session = "", False, False
            self.layer_ids = tuple(task.layer_ids)
            self.status = task.status_text
        elif isinstance(error, CancelledError) and task.paused:
            self.state, self.can_resume, self.status = ExportState.PAUSED, True, task.status_text
        elif isinstance(error, CancelledError) and task.can_resume:  # cancelled; the download started is kept
            self.state, self.can_resume, self.status = ExportState.CANCELLED, True, task.status_text
        elif isinstance(error, CancelledError) or error is None:
            self.state, self.can_resume, self.status = ExportState.CANCELLED, False, tr("Cancelled")
        else:
            message = error_message(error)
            self.state, self.error, self.can_resume = ExportState.FAILED, message, task.can_resume
            self.status = tr("Failed: {message}").format(message=message)

    def view(self) -> ExportView:
        paths = tuple(self.outcome.paths) if self.outcome is not None else ()
        return ExportView(id=self.id, state=self.state, progress=self.progress, status=self.status,
                       service_name=self.request.service_name or service_label(self.request.service_url),
                       area_label=self.request.area_label, levels_text=self.request.levels_text,
                       output_paths=paths, error=self.error, request=self.request, can_resume=self.can_resume,
                       from_earlier_session=self.from_earlier_session, created=self.created,
                       layer_ids=self.layer_ids, note=self.note)


class ExportsController(QObject, ResumeElsewhere):
    """Runs and remembers exports (see the module docstring).

    ``store_folder`` (default: the export store in the QGIS profile) holds one record per export (request,
    state, parts); ``project`` (default: the current project) gets the layers; ``message_bar`` (default:
    ``iface.messageBar()``) the notes; ``exporter_options`` go to every ``Exporter`` (e.g. a faster
    ``PollPolicy`` in tests).  The unfinished exports of earlier sessions are read in the
    background: :meth:`resumable` lists them once ``exportsChanged`` has been emitted.
    """

    exportsChanged = pyqtSignal()  # list changed (added/removed)
    exportUpdated = pyqtSignal(str)  # record id: state/progress/status text changed
    exportFinished = pyqtSignal(str, list)  # record id, output paths (after merge/load)
    exportFailed = pyqtSignal(str, str)  # record id, user message
    scanned = pyqtSignal()  # the unfinished exports of earlier sessions have been read (see resumable())

    def __init__(self, iface, parent: QObject | None = None, *, store_folder: str | Path | None = None,
                 project: QgsProject | None = None, message_bar=None, scan: bool = True,
                 exporter_options: dict | None = None, keeper: TaskKeeper | None = None) -> None:
        super().__init__(parent)
        self.iface = iface
        self.store_folder = str(store_folder) if store_folder else str(engine.export_store().folder)
        self._project = project
        self._message_bar = message_bar
        self.exporter_options = dict(exporter_options or {})
        self._exports: dict[str, _Export] = {}
        self._keeper = keeper if keeper is not None else TaskKeeper()  # the plugin passes its own
        self._closed = False
        self.scanning = False
        if scan:
            self.refresh_resumable()

    # -- queries -----------------------------------------------------------------------------
    def exports(self) -> list[ExportView]:
        """Running, recent and resumable exports, newest first."""
        return [export.view() for export in sorted(self._exports.values(), key=lambda e: e.created, reverse=True)]

    def view(self, export_id: str) -> ExportView | None:
        export = self._exports.get(export_id)
        return export.view() if export is not None else None

    def resumable(self) -> list[ExportView]:
        """Exports of earlier sessions that can resume (a server job or a ``.part`` download kept)."""
        return [v for v in self.exports() if v.from_earlier_session and v.can_resume and v.state == ExportState.PAUSED]

    def running(self) -> list[ExportView]:
        return [v for v in self.exports() if v.active]

    # -- actions -----------------------------------------------------------------------------
    def start_export(self, request: ExportRequest) -> str:
        """Start an export in the background; returns its export id."""
        wanted = request.output_path
        request = self._resolved(request)
        export = _Export(id=uuid.uuid4().hex, request=request, state=ExportState.QUEUED, created=time.time(),
                   status=tr("Queued"))
        if wanted and request.output_path != wanted:  # never renamed behind the user's back
            export.note = tr("Saved as {new}: {old} exists or is being written").format(
                new=Path(request.output_path).name, old=Path(wanted).name)
        self._exports[export.id] = export
        self._start_task(export, resume=False)
        self.exportsChanged.emit()
        return export.id

    def cancel(self, export_id: str) -> None:
        """Cancel: the server job is cancelled and no partial file is kept under the final name (a
        download under way keeps its ``.part`` file for a resume)."""
        export = self._exports.get(export_id)
        if export is None:
            return
        if export.task is not None and export.state in (ExportState.QUEUED, ExportState.RUNNING):
            export.state, export.status = ExportState.CANCELLING, tr("Cancelling…")
            self._update(export)
            try:
                export.task.abandon()
            except RuntimeError:  # the task object is already gone
                export.task = None
        elif export.can_resume and export.state in (ExportState.PAUSED, ExportState.FAILED, ExportState.CANCELLED):
            self._discard_records(export)
            export.state, export.status, export.can_resume = ExportState.CANCELLED, tr("Cancelled"), False
            self._update(export)

    def retry(self, export_id: str, folder: str | None = None) -> str:
        """The same request again (area and settings kept), as a new export; returns its id ("" when the
        destination cannot take it: the card says why).  ``folder``: write there instead (the user
        changed *Save to* after a failure), under the same file name."""
        export = self._exports.get(export_id)
        if export is None:
            return ""
        if export.state.active:
            return export.id
        request = export.request if not folder else destination.moved_to(export.request, folder)
        if self._destination_problem(export, request):
            return ""
        if export.can_resume:  # a fresh export replaces what the old one kept
            self._discard_records(export)
        del self._exports[export_id]
        return self.start_export(request)

    def resume(self, export_id: str, folder: str | None = None) -> str:
        """Continue a stopped export (in ``folder``: :class:`ResumeElsewhere`); returns why its folder cannot
        take it, as the card says ("" when it resumes or there is nothing to resume)."""
        export = self._exports.get(export_id)
        if export is None or export.state.active or export.state == ExportState.FINISHED:
            return ""
        moving = self._relocate(export, folder) if folder else None
        if moving is not None:
            return moving
        problem = self._destination_problem(export, export.request, resuming=True)
        if not problem:
            export.state, export.status, export.error = ExportState.QUEUED, tr("Queued"), ""
            self._start_task(export, resume=True)
            self._update(export)
        return problem

    def discard(self, export_id: str) -> None:
        """Forget an export: a running one is cancelled first; an unfinished one loses its server jobs and
        partial files; a finished one only leaves the list (its files stay)."""
        export = self._exports.get(export_id)
        if export is None:
            return
        if export.state.active:
            export.remove_when_done = True
            self.cancel(export_id)
            return
        if export.can_resume:
            self._discard_records(export)
        del self._exports[export_id]
        self.exportsChanged.emit()

    def clear_finished(self) -> None:
        """Drop the finished and cancelled exports from the list (a cancelled one that kept its download
        for a resume stays: Remove discards it)."""
        for export_id in [e.id for e in self._exports.values() if e.view().can_clear]:
            del self._exports[export_id]
        self.exportsChanged.emit()

    def add_to_map(self, export_id: str) -> None:
        """Add a finished export's result to the map (prepared in the background)."""
        export = self._exports.get(export_id)
        if export is None or export.outcome is None:
            return
        task = LoadLayerTask(export.outcome, project=self._project, message_bar=self._bar())
        task.done.connect(partial(self._on_layer_loaded, export_id, task))
        self._keeper.start(task)

    def open_folder(self, export_id: str) -> None:
        export = self._exports.get(export_id)
        if export is None:
            return
        path = Path(export.outcome.main_path) if export.outcome is not None else Path(export.request.output_path)
        folder = path if path.is_dir() else path.parent
        QDesktopServices.openUrl(QUrl.fromLocalFile(str(folder)))

    def refresh_resumable(self) -> None:
        """Read the unfinished exports of earlier sessions again (in the background)."""
        if self._closed or self.scanning:
            return
        self.scanning = True
        task = ScanTask(self.store_folder)
        task.done.connect(partial(self._on_scanned, task))
        self._keeper.start(task)

    def shutdown(self) -> None:
        """Plugin unload / QGIS closing: running exports pause (server jobs and ``.part`` files are
        kept for a resume next time); every reference is dropped."""
        self._closed = True
        for export in self._exports.values():
            task, export.task = export.task, None
            if task is None:
                continue
            with contextlib.suppress(RuntimeError):  # already finished and deleted
                task.pause()
        self._exports.clear()

    # -- internals ---------------------------------------------------------------------------
    def _destination_problem(self, export: _Export, request: ExportRequest, *, resuming: bool = False) -> str:
        """Check the folder before the server is asked for work again; a failure stays on the card."""
        problem = destination.folder_problem(request, resuming=resuming)
        if problem:
            self._refuse(export, problem)
        return problem

    def _refuse(self, export: _Export, problem: str) -> None:
        export.error = export.status = problem
        if export.state not in (ExportState.FAILED, ExportState.PAUSED, ExportState.CANCELLED):
            export.state = ExportState.FAILED
        self._update(export)

    def _resolved(self, request: ExportRequest) -> ExportRequest:
        return destination.resolved(request, [export.request.output_path for export in self._exports.values()
                                              if export.state.active])

    def _config(self, authcfg: str) -> engine.EngineConfig:
        return replace(engine.engine_config(authcfg), store_folder=self.store_folder)

    def _bar(self):
        if self._message_bar is not None:
            return self._message_bar
        return self.iface.messageBar() if self.iface is not None else None

    def _start_task(self, export: _Export, *, resume: bool) -> None:
        task = ExportTask(export.id, export.request, self._config(export.request.authcfg), resume=resume,
                          project=self._project, message_bar=self._bar(), created=export.created,
                          exporter_options=self.exporter_options)
        export.task, export.begun = task, False
        task.begun.connect(partial(self._on_begun, export.id, task))
        task.progressChanged.connect(partial(self._on_progress, export.id, task))
        task.statusMessage.connect(partial(self._on_status, export.id, task))
        task.done.connect(partial(self._on_done, export.id, task))
        self._keeper.start(task)

    def _discard_records(self, export: _Export) -> None:
        task = DiscardTask(export.id, self._config(export.request.authcfg), self.exporter_options)
        self._keeper.start(task)

    def _current(self, export_id: str, task) -> _Export | None:
        export = self._exports.get(export_id)
        if self._closed or export is None or export.task is not task:
            return None
        return export

    def _update(self, export: _Export) -> None:
        self.exportUpdated.emit(export.id)

    def _on_begun(self, export_id: str, task: ExportTask) -> None:
        export = self._current(export_id, task)
        if export is not None:
            export.begun = True
            if export.state == ExportState.QUEUED:
                export.state = ExportState.RUNNING
                self._update(export)

    def _on_progress(self, export_id: str, task: ExportTask, value: float) -> None:
        export = self._current(export_id, task)
        if export is not None and export.state != ExportState.CANCELLING:
            export.progress = max(0.0, min(1.0, value / 100.0))
            if export.state == ExportState.QUEUED:
                export.state = ExportState.RUNNING
            self._update(export)

    def _on_status(self, export_id: str, task: ExportTask, text: str) -> None:
        export = self._current(export_id, task)
        if export is not None and export.state != ExportState.CANCELLING:
            export.status = text
            self._update(export)

    def _on_done(self, export_id: str, task: ExportTask, ok: bool) -> None:
        export = self._current(export_id, task)
        if export is None:
            return
        export.end(task, ok)
        if export.state == ExportState.CANCELLED and not export.can_resume and not export.begun and task.resume:
            self._discard_records(export)  # never ran: the records it would resume are still there
        self._update(export)
        if export.remove_when_done:
            self._exports.pop(export_id, None)
            self.exportsChanged.emit()
        if export.state == ExportState.FINISHED:
            self.exportFinished.emit(export_id, list(export.outcome.paths))
        elif export.state == ExportState.FAILED:
            self.exportFailed.emit(export_id, export.error)

    def _on_layer_loaded(self, export_id: str, task: LoadLayerTask, ok: bool) -> None:
        export = self._exports.get(export_id)
        if export is not None and ok:
            export.layer_ids = tuple(export.layer_ids) + tuple(task.layer_ids)
            self._update(export)

    def _on_scanned(self, task: ScanTask, ok: bool) -> None:
        self.scanning = False
        if self._closed or not ok:
            return
        added = False
        for found in task.result or []:
            if found.export_id not in self._exports:
                self._exports[found.export_id] = _Export.of_earlier_session(found)
                added = True
        if added:
            self.exportsChanged.emit()
        self.scanned.emit()
