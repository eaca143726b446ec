"""The server's own size estimate (map and image services) in the background.

::

    task = start_estimate(service, area, levels, keeper=keeper, authcfg=...,  # area: the core's Area
                          on_result=lambda total_bytes, total_tiles: ..., on_error=show_message)

The server runs an ``estimateExportTilesSize`` job, which can take a while; cancelling the task
cancels that job.  ``on_result(total_bytes, total_tiles)`` / ``on_error(message)`` run on the main
thread (also as the ``estimateReady(object, object)`` / ``estimateFailed(str)`` signals); a cancelled
task calls neither.  Vector tile services have no server estimate: ``on_error`` says so.
"""
from __future__ import annotations

import logging
from typing import Any, Callable

from qgis.PyQt.QtCore import pyqtSignal

from ..core.area import Area
from ..core.export import Progress
from ..core.jobs import Estimate
from ..core.request import service_label
from ..qgis_glue.engine import EngineConfig, create_exporter, engine_config
from ..qgis_glue.i18n import translator
from .base import TaskKeeper
from .service_task import ServerTask

log = logging.getLogger(__name__)



tr = translator("EstimateTask")  # module strings: pylupdate files them under @default


class EstimateTask(ServerTask):
    """``service`` is a ``ServiceInfo`` (no extra request) or its URL; ``area`` the core's :class:`Area` in the
    service CRS, as the export gets it."""

    estimateReady = pyqtSignal(object, object)  # total bytes, total tiles (Python ints: may pass 2**31)
    estimateFailed = pyqtSignal(str)  # the user message

    def __init__(self, config: EngineConfig, service: Any, area: Area, levels: Any) -> None:
        url = service if isinstance(service, str) else getattr(service, "url", "")
        name = getattr(service, "name", "") if not isinstance(service, str) else ""
        super().__init__(tr("Estimating the export size of {name}").format(name=name or service_label(url)), config)
        self.service = service
        self.area = area
        self.levels = tuple(sorted({int(level) for level in levels}))
        self.estimate: Estimate | None = None

    def work(self) -> Estimate:
        exporter = create_exporter(self.config)
        service = self.service
        if isinstance(service, str):
            service = exporter.fetch(service, cancel=self.token)

        def progress(p: Progress) -> None:
            self.setProgress(100.0 * (p.fraction or 0.0))

        return exporter.estimate(service, self.area, self.levels, cancel=self.token, progress=progress)

    def on_success(self, result: Estimate) -> None:
        self.estimate = result
        self.estimateReady.emit(int(result.total_bytes), int(result.total_tiles))

    def failed(self, message: str) -> None:
        self.estimateFailed.emit(message)


def start_estimate(service: Any, area: Area, levels: Any, *, keeper: TaskKeeper, authcfg: str = "",
                   on_result: Callable[[int, int], None] | None = None,
                   on_error: Callable[[str], None] | None = None) -> EstimateTask:
    """An :class:`EstimateTask` (settings and credentials read now, on the main thread), started by
    ``keeper`` on its own threads."""
    task = EstimateTask(engine_config(authcfg, with_store=False), service, area, levels)
    keeper.start_interactive(task, estimateReady=on_result, estimateFailed=on_error)
    return task
