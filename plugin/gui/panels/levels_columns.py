"""The levels table fits its width: every column it shows is readable without scrolling sideways.

At the dock's default width (about 300 px) all six columns cannot fit.  The table drops, in this
order, the columns whose figures are said elsewhere: *Resolution* (in the row's tooltip and the
resolution fields below), *Total* (in the row's tooltip and the total under the table) and *Scale*
(in the row's tooltip and the scale fields below; never rounded: one spelling per scale, QGIS's), so
Level, Tiles and Size always stay whole.  Before an estimate gives the sizes, *Size* (all "–") goes
before *Scale*.  A wider dock shows the others again.
"""
from __future__ import annotations

from qgis.PyQt.QtCore import QEvent, QObject, QTimer
from qgis.PyQt.QtWidgets import QHeaderView

from ..levels_model import COLUMN_COUNT, CUMULATIVE, RESOLUTION, SCALE, SIZE

DROPPED_FIRST = (RESOLUTION, CUMULATIVE, SCALE)  # their figures are in the row's tooltip and under the table
DROPPED_FIRST_WITHOUT_SIZES = (RESOLUTION, CUMULATIVE, SIZE, SCALE)  # no estimate yet: Size says only "–"
FIT_DELAY_MS = 50  # counts arrive in bursts: fit once they settle, not on every number


class LevelsColumns(QObject):
    """Keeps ``view``'s columns readable at its width (see the module docstring)."""

    def __init__(self, view, model, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.view = view
        self.model = model
        self._fitting = False
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(FIT_DELAY_MS)
        self._timer.timeout.connect(self.fit)
        view.viewport().installEventFilter(self)
        model.modelReset.connect(self.fit)
        model.dataChanged.connect(self._later)

    def eventFilter(self, watched, event) -> bool:
        if event.type() == QEvent.Type.Resize:
            self._later()
        return False

    def _later(self, *_args) -> None:
        if not self._fitting:
            self._timer.start()

    def fit(self) -> None:
        """Show the columns that fit the viewport's width (see the module docstring)."""
        if self._fitting:
            return
        self._fitting = True
        try:
            available = self.view.viewport().width()
            shown = list(range(COLUMN_COUNT))
            order = DROPPED_FIRST if self.model.bytes_per_tile else DROPPED_FIRST_WITHOUT_SIZES
            for column in order:
                if self._needed(shown) <= available:
                    break
                shown.remove(column)
            header = self.view.horizontalHeader()
            for column in range(COLUMN_COUNT):
                self.view.setColumnHidden(column, column not in shown)
                # the last column shown takes the room left (Qt stretches the last one even when hidden)
                header.setSectionResizeMode(column, QHeaderView.ResizeMode.Stretch if column == shown[-1]
                                            else QHeaderView.ResizeMode.ResizeToContents)
        finally:
            self._fitting = False

    def _needed(self, columns: list[int]) -> int:
        """Width of ``columns`` at their contents' size (the widest cell or the header)."""
        header = self.view.horizontalHeader()
        return sum(max(self.view.sizeHintForColumn(c), header.sectionSizeHint(c)) for c in columns)
