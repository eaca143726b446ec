"""The server's size estimate (map and image services): started, followed and cancelled from the levels
panel.  The estimate is a server job that can run for minutes; it shows its progress, its button
cancels it, and it is cancelled when the service, the area or the ticked levels change (its answer
would be for something the dock no longer shows)."""
from __future__ import annotations

import contextlib

from qgis.core import Qgis
from qgis.PyQt.QtCore import QObject

from ...core.area import Area
from ...core.export import is_vector
from ...qgis_glue.i18n import error_message, translator
from ..levels_model import format_bytes, format_int

tr = translator("ArcGISOfflineTilesDockWidget")


class EstimatePanel(QObject):
    """``ui.estimateButton`` (Estimate size / Cancel estimate) and ``ui.estimateLabel``."""

    def __init__(self, ui, controller, messages, ready_for_server, parent=None) -> None:
        super().__init__(parent)
        self.ui = ui
        self.controller = controller
        self.messages = messages
        self.ready_for_server = ready_for_server
        self._token = 0
        self._task = None
        ui.estimateButton.clicked.connect(self._clicked)
        controller.serviceChanged.connect(self._service_changed)
        controller.area.areaChanged.connect(self.cancel)
        controller.model.checkedLevelsChanged.connect(self.cancel)
        self._show_idle()

    @property
    def running(self) -> bool:
        return self._task is not None

    def _service_changed(self) -> None:
        self.cancel()
        self.ui.estimateButton.setVisible(not is_vector(self.controller.service))

    def _clicked(self) -> None:
        if self.running:
            self.cancel()
        else:
            self.estimate_size()

    def estimate_size(self) -> bool:
        c = self.controller
        if not self.ready_for_server():
            return False
        self.cancel()
        area = c.area.service_area(c.service_crs)
        levels = tuple(c.model.checked_levels())
        token = self._token
        self._task = self._start_task(area, levels, lambda result, error: self._done(token, result, error))
        if self._task is not None:
            self._task.progressChanged.connect(lambda value, token=token: self._progress(token, value))
        self.ui.estimateButton.setText(tr("Cancel estimate"))
        self.ui.estimateButton.setToolTip(tr("Stop the server's size estimate"))
        self.ui.estimateLabel.setText(tr("Asking the server…"))
        return True

    def _start_task(self, area: Area, levels: tuple[int, ...], done):
        from ...tasks.estimate_task import start_estimate

        c = self.controller
        task = start_estimate(c.service, area, levels, authcfg=c.authcfg,
                              on_result=lambda total_bytes, total_tiles: done((total_bytes, total_tiles), None),
                              on_error=lambda message: done(None, message), keeper=c.keeper)
        return task

    def _progress(self, token: int, value: float) -> None:
        if token == self._token and self.running:
            self.ui.estimateLabel.setText(tr("Asking the server… {p}%").format(p=int(value)))

    def cancel(self) -> None:
        """Stop a running estimate (its server job too) and forget its answer; clear the last figure."""
        self._token += 1
        task, self._task = self._task, None
        if task is not None:
            with contextlib.suppress(RuntimeError):  # already finished and deleted
                task.cancel()
        self._show_idle()

    def _show_idle(self) -> None:
        self.ui.estimateButton.setText(tr("Estimate si&ze"))
        self.ui.estimateButton.setToolTip(tr("Ask the server how large the export would be (map and "
                                             "image services only; runs in the background)"))
        self.ui.estimateLabel.setText("")

    def _done(self, token: int, result, error) -> None:
        if token != self._token:
            return
        self._task = None
        self._show_idle()
        if result is None:
            text = error if isinstance(error, str) else error_message(error) if error else tr("No estimate.")
            self.messages.show(text, Qgis.MessageLevel.Warning, tr("Size estimate"))
            return
        total_bytes, total_tiles = result
        per_tile = total_bytes / total_tiles if total_tiles else None
        self.controller.model.set_bytes_per_tile(per_tile)
        self.ui.estimateLabel.setText(tr("{size} for {tiles} tiles (server estimate)").format(
            size=format_bytes(total_bytes), tiles=format_int(total_tiles)))
