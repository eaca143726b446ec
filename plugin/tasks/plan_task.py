"""The split plan of an export above the server's limit, computed off the main thread.

Planning cuts every level that is over the limit into tile-aligned parts and counts each part exactly
(:func:`~..core.split.plan_split`); for a country-sized polygon with tens of thousands of vertices
that takes a few hundred milliseconds, too long for the dock to wait on the main thread.

::

    task = start_plan(scheme, area, levels, limit, counts, on_result=dock.show_plan)

``on_result(SplitPlan)`` / ``on_error(message)`` run on the main thread; a cancelled task calls neither.
"""
from __future__ import annotations

from typing import Any, Callable

from qgis.PyQt.QtCore import pyqtSignal

from ..core.errors import CancelledError
from ..core.split import plan_split
from ..qgis_glue.i18n import error_message, translator
from .base import PluginTask, TaskKeeper, hidden_flags

tr = translator("SplitPlanTask")  # module strings: pylupdate files them under @default


class SplitPlanTask(PluginTask):
    """Inputs are immutable values: the tiling scheme, the area (service CRS), levels, limit, counts."""

    planReady = pyqtSignal(object)  # SplitPlan
    planFailed = pyqtSignal(str)

    def __init__(self, scheme: Any, area: Any, levels: Any, limit: int, counts: dict[int, int]) -> None:
        super().__init__(tr("Planning the export"), hidden_flags())
        self.scheme = scheme
        self.area = area
        self.levels = tuple(sorted({int(level) for level in levels}))
        self.limit = int(limit)
        self.counts = dict(counts)

    def work(self) -> Any:
        return plan_split(self.scheme, self.area, self.levels, self.limit, counts=self.counts)

    def on_success(self, result: Any) -> None:
        self.planReady.emit(result)

    def on_failure(self, error: BaseException) -> None:
        if not isinstance(error, CancelledError):
            self.planFailed.emit(error_message(error))


def start_plan(scheme: Any, area: Any, levels: Any, limit: int, counts: dict[int, int], *, keeper: TaskKeeper,
               on_result: Callable[[Any], None] | None = None,
               on_error: Callable[[str], None] | None = None) -> SplitPlanTask:
    task = SplitPlanTask(scheme, area, levels, limit, counts)
    keeper.start_interactive(task, planReady=on_result, planFailed=on_error)
    return task
