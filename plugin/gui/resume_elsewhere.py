"""Resume a stopped export in another folder: its files move there in a task
(:mod:`..tasks.relocate_task`, :mod:`..core.relocate`), then it resumes with its request writing there,
so the merged result lands there too.  A part of :class:`~.exports.ExportsController`."""
from __future__ import annotations

from functools import partial

from ..qgis_glue.i18n import error_message, translator
from ..tasks.export_task import ExportRequest
from ..tasks.relocate_task import RelocateTask
from . import export_destination as destination

tr = translator("ExportsController")  # module strings: pylupdate files them under @default


class ResumeElsewhere:
    """The exports manager's *Resume in another folder* (mixed into ExportsController, whose jobs,
    keeper and task starter it uses)."""

    def _relocate(self, job, folder: str) -> str | None:
        """Move the stopped export ``job`` into ``folder`` in the background, then resume it there;
        returns why it cannot ("" when the move has started; None: ``folder`` is the export's own)."""
        from .exports import ExportState

        if destination.target_folder(destination.moved_to(job.request, folder)) == destination.target_folder(
                job.request):
            return None
        problem = destination.relocation_problem(job.request, folder)
        if problem:
            self._refuse(job, problem)
            return problem
        request = destination.moved_to(job.request, folder)
        task = RelocateTask(self.store_folder, job.id, folder, request.output_path)
        task.done.connect(partial(self._on_relocated, job.id, task, request, job.state))
        job.state, job.error = ExportState.QUEUED, ""
        job.status = tr("Moving to {folder}…").format(folder=destination.target_folder(request))
        self._keeper.start(task)
        self._update(job)
        return ""

    def _on_relocated(self, job_id: str, task: RelocateTask, request: ExportRequest, before, _ok: bool) -> None:
        job = self._jobs.get(job_id)
        if self._closed or job is None:
            return
        moved = task.result  # set once the files moved, even if a cancel came in the meantime
        if moved is None:
            job.state = before
            job.error = job.status = error_message(task.error) if task.error is not None else tr("Cancelled")
            self._update(job)
            return
        job.request = request
        if moved.left_behind:
            job.note = tr("copied to {folder}; the old folder keeps {names}, which could not be removed").format(
                folder=destination.target_folder(request), names=", ".join(p.name for p in moved.left_behind))
        if job.remove_when_done:
            job.state = before
            self.discard(job_id)
            return
        job.status = tr("Queued")
        self._start_task(job, resume=True)
        self._update(job)
