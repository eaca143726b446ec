"""Moves a stopped export into another folder before it resumes there (see :mod:`..core.relocate`):
the partial downloads may be large and another disk slow, so the files move off the main thread."""
from __future__ import annotations

from pathlib import Path

from ..core.exportstore import ExportStore
from ..core.relocate import Relocation, relocate_export
from ..qgis_glue.i18n import translator
from .base import PluginTask, hidden_flags

tr = translator("RelocateTask")  # module strings: pylupdate files them under @default


class RelocateTask(PluginTask):
    """``result`` is the :class:`~..core.relocate.Relocation`; ``error`` says why nothing moved."""

    def __init__(self, store_folder: str, export_id: str, folder: str, output_path: str = "") -> None:
        super().__init__(tr("Moving an export to {folder}").format(folder=Path(folder).name), hidden_flags())
        self.store_folder = store_folder
        self.export_id = export_id
        self.folder = folder
        self.output_path = output_path  # the request's destination in the new folder

    def work(self) -> Relocation:
        return relocate_export(ExportStore(self.store_folder), self.export_id, self.folder, self.output_path or None)
