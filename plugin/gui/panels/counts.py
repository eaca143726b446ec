"""Exact tile counts per level for the dock, within a time budget.

The counts run on the main thread once per change; deep levels of big polygons, whose exact count
would take seconds, are extrapolated at once (shown with ≈) and counted exactly in the background
(:mod:`...tasks.count_task`), the exact figures replacing the ≈ ones as they arrive.
"""
from __future__ import annotations

import contextlib
import time

from qgis.PyQt.QtCore import QObject, pyqtSignal

from ...core.tilecount import count_tiles, tile_ranges

# Exact counts for a polygon cost time in proportion to the tile rows it spans; deeper levels than this
# are extrapolated from the deepest exact one at once, then counted exactly in the background.
MAX_EXACT_ROWS = 20_000
COUNT_BUDGET_S = 0.15


def extrapolate(scheme, counts: dict[int, int], exact: list[int], level: int) -> int:
    """Tiles at ``level`` from the two finest exact counts: an area term (grows with the square of the
    resolution ratio) plus a boundary term (grows with the ratio), fitted to both counts."""
    finest = exact[-1]
    r = scheme.lod(finest).resolution / scheme.lod(level).resolution
    if len(exact) >= 2:
        coarser = exact[-2]
        q = scheme.lod(coarser).resolution / scheme.lod(finest).resolution  # usually 2
        c1, c2 = counts[coarser], counts[finest]
        if q > 1:
            inside = (c1 - c2 / q) / (1 / q ** 2 - 1 / q)  # tiles of the fill at the finest exact level
            edge = c2 - inside
            if inside >= 0 and edge >= 0:
                return max(1, round(inside * r * r + edge * r))
    return max(1, round(counts[finest] * r * r))


def quick_counts(scheme, area, levels) -> tuple[dict[int, int], set[int]]:
    """Exact counts level by level; levels too deep for the time budget are extrapolated (≈)."""
    counts: dict[int, int] = {}
    approximate: set[int] = set()
    exact: list[int] = []
    started = time.perf_counter()
    for level in levels:
        rows = tile_ranges(scheme, area, level).rows
        too_slow = not area.is_rectangle and (rows > MAX_EXACT_ROWS or
                                              time.perf_counter() - started > COUNT_BUDGET_S)
        if too_slow and exact:
            counts[level] = extrapolate(scheme, counts, exact, level)
            approximate.add(level)
            continue
        counts[level] = count_tiles(scheme, area, [level])[level]
        exact.append(level)
    return counts, approximate


class TileCounter(QObject):
    """Counts the controller's area for its service into the levels model."""

    exactCounted = pyqtSignal()  # a ≈ figure was replaced by the exact one

    def __init__(self, controller, parent=None) -> None:
        super().__init__(parent)
        self.controller = controller
        self.model = controller.model
        self.approximate: set[int] = set()
        self._token = 0
        self._task = None

    @property
    def counting(self) -> bool:
        """Levels shown with ≈ are being counted exactly in the background."""
        return self._task is not None

    def count(self, area) -> None:
        """Counts for ``area`` (in the service's CRS) at once, the ≈ ones followed up in the background."""
        self.stop()
        scheme = self.controller.service.tiling
        counts, self.approximate = quick_counts(scheme, area, self.model.levels)
        self.model.set_counts(counts, self.approximate)
        if self.approximate:
            self._start_exact(area, set(self.approximate))

    def clear(self) -> None:
        self.stop()
        self.approximate = set()
        self.model.set_counts(None)

    def _start_exact(self, area, levels) -> None:
        from ...tasks.count_task import start_count

        token = self._token
        self._task = start_count(self.controller.service.tiling, area, levels, keeper=self.controller.keeper,
                                 on_level=lambda level, tiles: self._exact(token, level, tiles))
        self._task.done.connect(lambda _ok, token=token: self._done(token))

    def stop(self) -> None:
        self._token += 1  # what a running count still reports is for an earlier area
        task, self._task = self._task, None
        if task is not None:
            with contextlib.suppress(RuntimeError):  # already finished and deleted
                task.cancel()

    def _exact(self, token: int, level: int, tiles: int) -> None:
        if token != self._token or level not in self.approximate:
            return
        self.approximate.discard(level)
        counts = self.model.counts()
        counts[level] = tiles
        self.model.set_counts(counts, self.approximate)
        self.exactCounted.emit()

    def _done(self, token: int) -> None:
        if token == self._token:
            self._task = None
