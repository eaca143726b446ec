"""The levels table fits its width: every column it shows is readable without scrolling sideways.

At the dock's default width (about 300 px) all six columns cannot fit.  The table drops, in this
order, the columns whose figures are said elsewhere: *Resolution* (in the row's tooltip and the
resolution fields below), *Total* (in the row's tooltip and the total under the table) and *Scale*
(in the row's tooltip and the scale fields below; never rounded: one spelling per scale, QGIS's), so
Level, Tiles and Size always stay whole.  Before an estimate gives the sizes, *Size* (all "–") goes
before *Scale*.  A wider dock shows the others again.

The columns are sized here, from the font's metrics, once the counts settle: Qt's ResizeToContents
asked every cell for every role on each change of a count, each a call into Python that, with an
export's threads holding the interpreter, waited its turn on the main thread.
"""
from __future__ import annotations

from qgis.PyQt.QtCore import QEvent, QObject, Qt, QTimer
from qgis.PyQt.QtWidgets import QHeaderView, QStyle

from ..levels_model import COLUMN_COUNT, CUMULATIVE, LEVEL, RESOLUTION, SCALE, SIZE

DROPPED_FIRST = (RESOLUTION, CUMULATIVE, SCALE)  # their figures are in the row's tooltip and under the table
DROPPED_FIRST_WITHOUT_SIZES = (RESOLUTION, CUMULATIVE, SIZE, SCALE)  # no estimate yet: Size says only "–"
SAFETY_PX = 4  # on top of the style's margins: a column is never estimated narrower than Qt draws it
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
            widths = self._content_widths()
            shown = list(range(COLUMN_COUNT))
            order = DROPPED_FIRST if self.model.bytes_per_tile else DROPPED_FIRST_WITHOUT_SIZES
            for column in order:
                if sum(widths[c] for c in shown) <= available:
                    break
                shown.remove(column)
            header = self.view.horizontalHeader()
            for column in range(COLUMN_COUNT):
                # the last column shown takes the room left (Qt stretches the last one even when hidden)
                mode = QHeaderView.ResizeMode.Stretch if column == shown[-1] else QHeaderView.ResizeMode.Fixed
                if self.view.isColumnHidden(column) != (column not in shown):  # unchanged: no new layout
                    self.view.setColumnHidden(column, column not in shown)
                if header.sectionResizeMode(column) != mode:
                    header.setSectionResizeMode(column, mode)
                if mode == QHeaderView.ResizeMode.Fixed and header.sectionSize(column) != widths[column]:
                    header.resizeSection(column, widths[column])
        finally:
            self._fitting = False

    def _content_widths(self) -> dict[int, int]:
        """Each column's width at its contents (the widest cell text or the header), from the font's
        metrics: the view's own size hints ask every cell for every role, which cost milliseconds on
        the main thread each time the counts change."""
        view, model = self.view, self.model
        metrics = view.fontMetrics()
        style = view.style()
        padding = 2 * (style.pixelMetric(QStyle.PixelMetric.PM_FocusFrameHMargin, None, view) + 1) + SAFETY_PX
        check = style.pixelMetric(QStyle.PixelMetric.PM_IndicatorWidth, None, view) + \
            style.pixelMetric(QStyle.PixelMetric.PM_CheckBoxLabelSpacing, None, view)
        header = view.horizontalHeader()
        header_padding = 2 * style.pixelMetric(QStyle.PixelMetric.PM_HeaderMargin, None, header) + SAFETY_PX
        widths = {}
        for column in range(COLUMN_COUNT):
            texts = (model.data(model.index(row, column)) or "" for row in range(model.rowCount()))
            cell = max((metrics.horizontalAdvance(text) for text in texts), default=0) + padding
            title = model.headerData(column, Qt.Orientation.Horizontal) or ""
            widths[column] = max(cell + (check if column == LEVEL else 0), header.sectionSizeHint(column),
                                 header.fontMetrics().horizontalAdvance(title) + header_padding)
        return widths
