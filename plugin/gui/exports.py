"""The jobs manager: starts exports as tasks, follows them, keeps them for a retry, resumes them.

::

    manager = ExportsController(iface)                      # lists unfinished exports of earlier sessions
    job_id = manager.start_export(request)           # an ExportTask in QGIS' task manager
    manager.jobUpdated.connect(...)                   # progress / status text / state of one job
    manager.cancel(job_id); manager.retry(job_id); manager.resume(job_id)
    manager.resume(job_id, folder)                    # continue in another folder (its files move there)
    manager.scanned.connect(...)                      # the exports of earlier sessions have been read
    manager.shutdown()                               # plugin unload: running exports pause

A cancel from QGIS's task list (or QGIS closing) pauses an export; :meth:`ExportsController.cancel` (the
dock) abandons it (see :mod:`..tasks.export_task`).

A job is one :class:`ExportRequest` (one export, however many server jobs it is split into).  Its id
is the plan id of the core's part records, so an export that a QGIS restart interrupted is found
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
    """A snapshot of one job for the panel and the dock."""

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
class _Job:
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
    def of_earlier_session(cls, found: ResumableExport) -> _Job:
        """A paused export that an earlier QGIS session left unfinished, as the export store holds it."""
        request = found.request
        if not found.has_request_file and not request.authcfg:
            request = replace(request, authcfg=settings.auth_config_for(request.service_url))
        return cls(id=found.export_id, request=request, state=ExportState.PAUSED, created=found.created,
                   progress=found.progress, status=found.status, can_resume=True, from_earlier_session=True)

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
    background: :meth:`resumable` lists them once ``jobsChanged`` has been emitted.
    """

    jobsChanged = pyqtSignal()  # list changed (added/removed)
    jobUpdated = pyqtSignal(str)  # record id: state/progress/status text changed
    exportFinished = pyqtSignal(str, list)  # record id, output paths (after merge/load)
    exportFailed = pyqtSignal(str, str)  # record id, user message
    scanned = pyqtSignal()  # the unfinished exports of earlier sessions have been read (see resumable())

    def __init__(self, iface, parent: QObject | None = None, *, store_folder: str | Path | None = None,
                 project: QgsProject | None = None, message_bar=None, scan: bool = True,
                 exporter_options: dict | None = None, keeper: TaskKeeper | None = None) -> None:
        super().__init__(parent)
        self.iface = iface
        self.store_folder = str(store_folder) if store_folder else str(engine.job_store().folder)
        self._project = project
        self._message_bar = message_bar
        self.exporter_options = dict(exporter_options or {})
        self._jobs: dict[str, _Job] = {}
        self._keeper = keeper if keeper is not None else TaskKeeper()  # the plugin passes its own
        self._closed = False
        self.scanning = False
        if scan:
            self.refresh_resumable()

    # -- queries -----------------------------------------------------------------------------
    def jobs(self) -> list[ExportView]:
        """Running, recent and resumable jobs, newest first."""
        return [job.view() for job in sorted(self._jobs.values(), key=lambda j: j.created, reverse=True)]

    def job(self, job_id: str) -> ExportView | None:
        job = self._jobs.get(job_id)
        return job.view() if job is not None else None

    def resumable(self) -> list[ExportView]:
        """Jobs of earlier sessions that can resume (a server job or a ``.part`` download kept)."""
        return [v for v in self.jobs() if v.from_earlier_session and v.can_resume and v.state == ExportState.PAUSED]

    def running(self) -> list[ExportView]:
        return [v for v in self.jobs() if v.active]

    # -- actions -----------------------------------------------------------------------------
    def start_export(self, request: ExportRequest) -> str:
        """Start an export in the background; returns its job id."""
        wanted = request.output_path
        request = self._resolved(request)
        job = _Job(id=uuid.uuid4().hex, request=request, state=ExportState.QUEUED, created=time.time(),
                   status=tr("Queued"))
        if wanted and request.output_path != wanted:  # never renamed behind the user's back
            job.note = tr("Saved as {new}: {old} exists or is being written").format(
                new=Path(request.output_path).name, old=Path(wanted).name)
        self._jobs[job.id] = job
        self._start_task(job, resume=False)
        self.jobsChanged.emit()
        return job.id

    def cancel(self, job_id: str) -> None:
        """Cancel: the server job is cancelled and no partial file is kept under the final name (a
        download under way keeps its ``.part`` file for a resume)."""
        job = self._jobs.get(job_id)
        if job is None:
            return
        if job.task is not None and job.state in (ExportState.QUEUED, ExportState.RUNNING):
            job.state, job.status = ExportState.CANCELLING, tr("Cancelling…")
            self._update(job)
            try:
                job.task.abandon()
            except RuntimeError:  # the task object is already gone
                job.task = None
        elif job.can_resume and job.state in (ExportState.PAUSED, ExportState.FAILED, ExportState.CANCELLED):
            self._discard_records(job)
            job.state, job.status, job.can_resume = ExportState.CANCELLED, tr("Cancelled"), False
            self._update(job)

    def retry(self, job_id: str, folder: str | None = None) -> str:
        """The same request again (area and settings kept), as a new job; returns its id ("" when the
        destination cannot take it: the card says why).  ``folder``: write there instead (the user
        changed *Save to* after a failure), under the same file name."""
        job = self._jobs.get(job_id)
        if job is None:
            return ""
        if job.state.active:
            return job.id
        request = job.request if not folder else destination.moved_to(job.request, folder)
        if self._destination_problem(job, request):
            return ""
        if job.can_resume:  # a fresh export replaces what the old one kept
            self._discard_records(job)
        del self._jobs[job_id]
        return self.start_export(request)

    def resume(self, job_id: str, folder: str | None = None) -> str:
        """Continue a stopped export (in ``folder``: :class:`ResumeElsewhere`); returns why its folder cannot
        take it, as the card says ("" when it resumes or there is nothing to resume)."""
        job = self._jobs.get(job_id)
        if job is None or job.state.active or job.state == ExportState.FINISHED:
            return ""
        moving = self._relocate(job, folder) if folder else None
        if moving is not None:
            return moving
        problem = self._destination_problem(job, job.request, resuming=True)
        if not problem:
            job.state, job.status, job.error = ExportState.QUEUED, tr("Queued"), ""
            self._start_task(job, resume=True)
            self._update(job)
        return problem

    def discard(self, job_id: str) -> None:
        """Forget a job: a running one is cancelled first; an unfinished one loses its server job and
        partial files; a finished one only leaves the list (its files stay)."""
        job = self._jobs.get(job_id)
        if job is None:
            return
        if job.state.active:
            job.remove_when_done = True
            self.cancel(job_id)
            return
        if job.can_resume:
            self._discard_records(job)
        del self._jobs[job_id]
        self.jobsChanged.emit()

    def clear_finished(self) -> None:
        """Drop the finished and cancelled jobs from the list (a cancelled one that kept its download
        for a resume stays: Remove discards it)."""
        for job_id in [j.id for j in self._jobs.values() if j.view().can_clear]:
            del self._jobs[job_id]
        self.jobsChanged.emit()

    def add_to_map(self, job_id: str) -> None:
        """Add a finished job's result to the map (prepared in the background)."""
        job = self._jobs.get(job_id)
        if job is None or job.outcome is None:
            return
        task = LoadLayerTask(job.outcome, project=self._project, message_bar=self._bar())
        task.done.connect(partial(self._on_layer_loaded, job_id, task))
        self._keeper.start(task)

    def open_folder(self, job_id: str) -> None:
        job = self._jobs.get(job_id)
        if job is None:
            return
        path = Path(job.outcome.main_path) if job.outcome is not None else Path(job.request.output_path)
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
        for job in self._jobs.values():
            task, job.task = job.task, None
            if task is None:
                continue
            with contextlib.suppress(RuntimeError):  # already finished and deleted
                task.pause()
        self._jobs.clear()

    # -- internals ---------------------------------------------------------------------------
    def _destination_problem(self, job: _Job, request: ExportRequest, *, resuming: bool = False) -> str:
        """Check the folder before the server is asked for work again; a failure stays on the card."""
        problem = destination.folder_problem(request, resuming=resuming)
        if problem:
            self._refuse(job, problem)
        return problem

    def _refuse(self, job: _Job, problem: str) -> None:
        job.error = job.status = problem
        if job.state not in (ExportState.FAILED, ExportState.PAUSED, ExportState.CANCELLED):
            job.state = ExportState.FAILED
        self._update(job)

    def _resolved(self, request: ExportRequest) -> ExportRequest:
        return destination.resolved(request, [job.request.output_path for job in self._jobs.values()
                                              if job.state.active])

    def _config(self, authcfg: str) -> engine.EngineConfig:
        return replace(engine.engine_config(authcfg), store_folder=self.store_folder)

    def _bar(self):
        if self._message_bar is not None:
            return self._message_bar
        return self.iface.messageBar() if self.iface is not None else None

    def _start_task(self, job: _Job, *, resume: bool) -> None:
        task = ExportTask(job.id, job.request, self._config(job.request.authcfg), resume=resume,
                          project=self._project, message_bar=self._bar(), created=job.created,
                          exporter_options=self.exporter_options)
        job.task, job.begun = task, False
        task.begun.connect(partial(self._on_begun, job.id, task))
        task.progressChanged.connect(partial(self._on_progress, job.id, task))
        task.statusMessage.connect(partial(self._on_status, job.id, task))
        task.done.connect(partial(self._on_done, job.id, task))
        self._keeper.start(task)

    def _discard_records(self, job: _Job) -> None:
        task = DiscardTask(job.id, self._config(job.request.authcfg), self.exporter_options)
        self._keeper.start(task)

    def _current(self, job_id: str, task) -> _Job | None:
        job = self._jobs.get(job_id)
        if self._closed or job is None or job.task is not task:
            return None
        return job

    def _update(self, job: _Job) -> None:
        self.jobUpdated.emit(job.id)

    def _on_begun(self, job_id: str, task: ExportTask) -> None:
        job = self._current(job_id, task)
        if job is not None:
            job.begun = True
            if job.state == ExportState.QUEUED:
                job.state = ExportState.RUNNING
                self._update(job)

    def _on_progress(self, job_id: str, task: ExportTask, value: float) -> None:
        job = self._current(job_id, task)
        if job is not None and job.state != ExportState.CANCELLING:
            job.progress = max(0.0, min(1.0, value / 100.0))
            if job.state == ExportState.QUEUED:
                job.state = ExportState.RUNNING
            self._update(job)

    def _on_status(self, job_id: str, task: ExportTask, text: str) -> None:
        job = self._current(job_id, task)
        if job is not None and job.state != ExportState.CANCELLING:
            job.status = text
            self._update(job)

    def _on_done(self, job_id: str, task: ExportTask, ok: bool) -> None:
        job = self._current(job_id, task)
        if job is None:
            return
        job.task = None
        error = task.error
        paths: list[str] = []
        failed_message = ""
        if ok and task.outcome is not None:
            job.state, job.progress, job.outcome = ExportState.FINISHED, 1.0, task.outcome
            job.error, job.can_resume, job.from_earlier_session = "", False, False
            job.layer_ids = tuple(task.layer_ids)
            job.status = task.status_text
            paths = list(task.outcome.paths)
        elif isinstance(error, CancelledError) and task.paused:
            job.state, job.can_resume, job.status = ExportState.PAUSED, True, task.status_text
        elif isinstance(error, CancelledError) and task.can_resume:  # cancelled; the download started is kept
            job.state, job.can_resume, job.status = ExportState.CANCELLED, True, task.status_text
        elif isinstance(error, CancelledError) or error is None:
            job.state, job.can_resume, job.status = ExportState.CANCELLED, False, tr("Cancelled")
            if not job.begun and task.resume:  # never ran: the records it would resume are still there
                self._discard_records(job)
        else:
            failed_message = error_message(error)
            job.state, job.error, job.can_resume = ExportState.FAILED, failed_message, task.can_resume
            job.status = tr("Failed: {message}").format(message=failed_message)
        self._update(job)
        if job.remove_when_done:
            self._jobs.pop(job_id, None)
            self.jobsChanged.emit()
        if job.state == ExportState.FINISHED:
            self.exportFinished.emit(job_id, paths)
        elif job.state == ExportState.FAILED:
            self.exportFailed.emit(job_id, failed_message)

    def _on_layer_loaded(self, job_id: str, task: LoadLayerTask, ok: bool) -> None:
        job = self._jobs.get(job_id)
        if job is not None and ok:
            job.layer_ids = tuple(job.layer_ids) + tuple(task.layer_ids)
            self._update(job)

    def _on_scanned(self, task: ScanTask, ok: bool) -> None:
        self.scanning = False
        if self._closed or not ok:
            return
        added = False
        for found in task.result or []:
            if found.export_id not in self._jobs:
                self._jobs[found.export_id] = _Job.of_earlier_session(found)
                added = True
        if added:
            self.jobsChanged.emit()
        self.scanned.emit()
