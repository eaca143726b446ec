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
    """The exports manager's *Resume in another folder* (mixed into ExportsController, whose exports,
    keeper and task starter it uses)."""

    def _relocate(self, export, folder: str) -> str | None:
        """Move the stopped ``export`` into ``folder`` in the background, then resume it there;
        returns why it cannot ("" when the move has started; None: ``folder`` is the export's own)."""
        from .exports import ExportState

        if destination.target_folder(destination.moved_to(export.request, folder)) == destination.target_folder(
                export.request):
            return None
        problem = destination.relocation_problem(export.request, folder)
        if problem:
            self._refuse(export, problem)
            return problem
        request = destination.moved_to(export.request, folder)
        task = RelocateTask(self.store_folder, export.id, folder, request.output_path)
        task.done.connect(partial(self._on_relocated, export.id, task, request, export.state))
        export.state, export.error = ExportState.QUEUED, ""
        export.status = tr("Moving to {folder}…").format(folder=destination.target_folder(request))
        self._keeper.start(task)
        self._update(export)
        return ""

    def _on_relocated(self, export_id: str, task: RelocateTask, request: ExportRequest, before, _ok: bool) -> None:
        export = self._exports.get(export_id)
        if self._closed or export is None:
            return
        moved = task.result  # set once the files moved, even if a cancel came in the meantime
        if moved is None:
            export.state = before
            export.error = export.status = error_message(task.error) if task.error is not None else tr("Cancelled")
            self._update(export)
            return
        export.request = request
        if moved.left_behind:
            export.note = tr("copied to {folder}; the old folder keeps {names}, which could not be removed").format(
                folder=destination.target_folder(request), names=", ".join(p.name for p in moved.left_behind))
        if export.remove_when_done:
            export.state = before
            self.discard(export_id)
            return
        export.status = tr("Queued")
        self._start_task(export, resume=True)
        self._update(export)
