"""Exact tile counts of deep levels, off the main thread.

The dock counts every level at once, but the exact count of a big polygon costs time in proportion to
the tile rows its boundary crosses: a country at level 16 and deeper takes from tenths of a second to
tens of seconds per level.  The dock shows an extrapolated ``≈`` figure for those levels at once and
asks this task for the exact ones, which replace the ``≈`` figures level by level as they arrive.

::

    task = start_count(scheme, area, [15, 16, 17], on_level=lambda level, tiles: ...)

``on_level(level, tiles)`` runs on the main thread, shallow levels first; a cancelled task stops
between two levels and reports nothing more.
"""
from __future__ import annotations

from typing import Any, Callable

from qgis.PyQt.QtCore import pyqtSignal

from ..core.tilecount import count_tiles
from ..qgis_glue.i18n import translator
from .base import PluginTask, TaskKeeper, hidden_flags

tr = translator("TileCountTask")  # module strings: pylupdate files them under @default


class TileCountTask(PluginTask):
    """Inputs are immutable values: the tiling scheme, the area (service CRS) and the levels."""

    levelCounted = pyqtSignal(int, object)  # level, tiles (object: counts exceed a C int)

    def __init__(self, scheme: Any, area: Any, levels: Any) -> None:
        super().__init__(tr("Counting tiles"), hidden_flags())
        self.scheme = scheme
        self.area = area
        self.levels = tuple(sorted({int(level) for level in levels}))

    def work(self) -> dict[int, int]:
        counts: dict[int, int] = {}
        for k, level in enumerate(self.levels):
            self.report(k / len(self.levels))  # stops here once cancelled
            # a stale count (the area changed) stops within a chunk of rows, not at the end of the level
            counts[level] = count_tiles(self.scheme, self.area, [level], stop=self.isCanceled)[level]
            self.levelCounted.emit(level, counts[level])  # queued to the main thread
        return counts


def start_count(scheme: Any, area: Any, levels: Any, *, keeper: TaskKeeper,
                on_level: Callable[[int, int], None] | None = None) -> TileCountTask:
    task = TileCountTask(scheme, area, levels)
    keeper.start_interactive(task, levelCounted=on_level)
    return task
