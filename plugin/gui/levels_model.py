"""The table of a service's levels: scale, resolution, tiles for the area, running total, size.

The user ticks the levels to export.  Counts come from the dock (exact, from the core); the model
only keeps them, sums the running total over the ticked levels (coarse to fine) and marks the levels
that push an export over the server's tile limit.
"""
from __future__ import annotations

from qgis.core import QgsFileUtils
from qgis.gui import QgsScaleWidget
from qgis.PyQt.QtCore import QAbstractTableModel, QCoreApplication, QLocale, QModelIndex, Qt, pyqtSignal
from qgis.PyQt.QtGui import QBrush, QColor

from ..core.tiling import LOD
from ..qgis_glue.i18n import translator

OVER_LIMIT_BACKGROUND = QColor(250, 215, 205)  # light red: readable with the default text colour
OVER_LIMIT_TEXT = QColor(170, 30, 20)
EMPTY = "–"
BYTES_STEP = 1024.0  # QgsFileUtils.representFileSize's step between units

# The numbers that matter most come first: a 300 px dock shows the tiles and the size without scrolling.
LEVEL, TILES, SIZE, SCALE, CUMULATIVE, RESOLUTION = range(6)
COLUMN_COUNT = 6

# Raw values for callers and tests (numbers instead of display text).
ValueRole = int(getattr(Qt.ItemDataRole.UserRole, "value", Qt.ItemDataRole.UserRole)) + 1


tr = translator("LevelsModel")


def format_int(value: int) -> str:
    """Digits grouped in the user's locale (``12,345`` in English, ``12.345`` in German)."""
    locale = QLocale()
    if locale.language() == QLocale.Language.C:
        return f"{int(value):,}"
    return locale.toString(int(value))


def format_scale(scale: float) -> str:
    """A scale as QGIS writes it everywhere (its scale widgets, the status bar): one spelling per scale."""
    return QgsScaleWidget.toString(scale) if scale > 0 else EMPTY


def format_resolution(resolution: float, units: str) -> str:
    text = f"{resolution:.6g}" if resolution < 1 else f"{resolution:,.2f}"
    return f"{text} {units}".strip()


def plural(n: int, one: str, many: str, **params) -> str:
    """``one`` or ``many`` (both already translated, with ``{n}``) filled with ``n`` and ``params``."""
    return (one if n == 1 else many).format(n=format_int(n), **params)


def format_bytes(size: float) -> str:
    return QgsFileUtils.representFileSize(round(size))


def format_bytes_short(size: float) -> str:
    """An estimated size to about three digits, in QGIS's units (those of ``representFileSize``, 1024
    based): ``200 MB``, ``23 KB``, ``1.2 GB`` — an estimate has no two decimals to show."""
    unit, value = QCoreApplication.translate("QObject", "B"), float(size)
    for bigger in ("KB", "MB", "GB", "TB"):
        if value < BYTES_STEP:
            break
        value /= BYTES_STEP
        unit = QCoreApplication.translate("QObject", bigger)
    digits = 1 if value < 10 and unit != QCoreApplication.translate("QObject", "B") else 0
    return f"{value:.{digits}f} {unit}"


class LevelsModel(QAbstractTableModel):
    """One row per available level of the service (coarse first); column 0 is checkable."""

    checkedLevelsChanged = pyqtSignal()

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self._lods: list[LOD] = []
        self._units = ""
        self._checked: set[int] = set()
        self._counts: dict[int, int] = {}
        self._approximate: set[int] = set()
        self._limit: int | None = None
        self._bytes_per_tile: float | None = None
        self._split = True
        self._cumulative: dict[int, int] = {}

    # --- content ---------------------------------------------------------------------------
    def set_levels(self, lods, units: str = "", limit: int | None = None) -> None:
        """New service: its available LODs, the CRS units of the resolution, the server's tile limit."""
        self.beginResetModel()
        self._lods = sorted(lods, key=lambda lod: lod.level)
        self._units = units
        self._limit = limit
        self._checked = set()
        self._counts = {}
        self._approximate = set()
        self._bytes_per_tile = None
        self._cumulative = {}
        self.endResetModel()
        self.checkedLevelsChanged.emit()

    def clear(self) -> None:
        self.set_levels([])

    @property
    def levels(self) -> list[int]:
        return [lod.level for lod in self._lods]

    def lod(self, level: int) -> LOD:
        return next(lod for lod in self._lods if lod.level == level)

    @property
    def limit(self) -> int | None:
        return self._limit

    def set_counts(self, counts: dict[int, int] | None, approximate=()) -> None:
        """Tiles per level for the current area (``None``: no area); ``approximate``: levels whose count
        is extrapolated rather than exact (shown with ≈)."""
        self._counts = dict(counts or {})
        self._approximate = set(approximate) & set(self._counts)
        self._refresh_numbers()

    def is_approximate(self, level: int) -> bool:
        return level in self._approximate

    def total_is_approximate(self) -> bool:
        return any(level in self._approximate for level in self._checked)

    def counts(self) -> dict[int, int]:
        return dict(self._counts)

    def set_bytes_per_tile(self, value: float | None) -> None:
        self._bytes_per_tile = value if value and value > 0 else None
        self._refresh_numbers()

    @property
    def bytes_per_tile(self) -> float | None:
        return self._bytes_per_tile

    def set_split(self, split: bool) -> None:
        """Whether exports over the limit are split (only changes the tooltips)."""
        self._split = bool(split)
        self._refresh_numbers()

    # --- selection -------------------------------------------------------------------------
    def checked_levels(self) -> list[int]:
        return sorted(self._checked)

    def set_checked_levels(self, levels) -> None:
        wanted = {level for level in levels if level in set(self.levels)}
        if wanted == self._checked:
            return
        self._checked = wanted
        self._refresh_numbers()
        self.checkedLevelsChanged.emit()

    # --- totals ----------------------------------------------------------------------------
    def total_tiles(self) -> int:
        return sum(self._counts.get(level, 0) for level in self._checked)

    def has_counts(self) -> bool:
        return bool(self._counts)

    def cumulative(self, level: int) -> int | None:
        return self._cumulative.get(level)

    def estimated_bytes(self) -> float | None:
        if self._bytes_per_tile is None or not self._counts:
            return None
        return self._bytes_per_tile * self.total_tiles()

    def _is_over(self, level: int) -> bool:
        if not self._limit:
            return False
        alone = self._counts.get(level, 0) > self._limit
        running = self._cumulative.get(level)
        return alone or (running is not None and running > self._limit)

    def _refresh_numbers(self) -> None:
        running = 0
        self._cumulative = {}
        if self._counts:
            for level in sorted(self._checked):
                running += self._counts.get(level, 0)
                self._cumulative[level] = running
        if self._lods:  # the over-limit colours cover whole rows
            self.dataChanged.emit(self.index(0, LEVEL), self.index(len(self._lods) - 1, COLUMN_COUNT - 1))

    # --- Qt model --------------------------------------------------------------------------
    def rowCount(self, parent=QModelIndex()) -> int:  # noqa: B008 - Qt's signature
        return 0 if parent.isValid() else len(self._lods)

    def columnCount(self, parent=QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else COLUMN_COUNT

    def headerData(self, section: int, orientation, role=Qt.ItemDataRole.DisplayRole):
        if orientation != Qt.Orientation.Horizontal:
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return {LEVEL: tr("Level"), SCALE: tr("Scale"), TILES: tr("Tiles"), CUMULATIVE: tr("Total"),
                    SIZE: tr("Size"), RESOLUTION: tr("Resolution")}.get(section)
        if role == Qt.ItemDataRole.ToolTipRole:
            return {LEVEL: tr("Tick the levels to export"),
                    SCALE: tr("Map scale of the level (1:n); in a narrow dock, in the row's tooltip"),
                    TILES: tr("Exact number of tiles the area touches at this level (≈: extrapolated for very "
                              "deep levels)"),
                    CUMULATIVE: tr("Running total of the ticked levels, coarse to fine"),
                    SIZE: tr("Estimated size from the server's estimate (bytes per tile × tiles)"),
                    RESOLUTION: tr("Size of one pixel in the units of the service's coordinate system")}.get(section)
        return None

    def flags(self, index):
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        flags = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
        if index.column() == LEVEL:
            flags |= Qt.ItemFlag.ItemIsUserCheckable
        return flags

    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        if not index.isValid() or not 0 <= index.row() < len(self._lods):
            return None
        lod = self._lods[index.row()]
        column = index.column()
        if role == Qt.ItemDataRole.CheckStateRole and column == LEVEL:
            return Qt.CheckState.Checked if lod.level in self._checked else Qt.CheckState.Unchecked
        if role == Qt.ItemDataRole.DisplayRole:
            return self._display(lod, column)
        if role == ValueRole:
            return self._value(lod, column)
        if role == Qt.ItemDataRole.TextAlignmentRole and column != LEVEL:
            return Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
        if role == Qt.ItemDataRole.ToolTipRole:
            return self._tooltip(lod)
        over = self._is_over(lod.level)
        if role == Qt.ItemDataRole.BackgroundRole and over:
            return QBrush(OVER_LIMIT_BACKGROUND)
        if role == Qt.ItemDataRole.ForegroundRole and over:
            return QBrush(OVER_LIMIT_TEXT)
        return None

    def setData(self, index, value, role=Qt.ItemDataRole.EditRole) -> bool:
        if not index.isValid() or index.column() != LEVEL or role != Qt.ItemDataRole.CheckStateRole:
            return False
        level = self._lods[index.row()].level
        checked = _as_check_state(value) == Qt.CheckState.Checked
        wanted = set(self._checked)
        if checked:
            wanted.add(level)
        else:
            wanted.discard(level)
        self.set_checked_levels(wanted)
        return True

    # --- cells -----------------------------------------------------------------------------
    def _value(self, lod: LOD, column: int):
        if column == LEVEL:
            return lod.level
        if column == SCALE:
            return lod.scale
        if column == RESOLUTION:
            return lod.resolution
        if column == TILES:
            return self._counts.get(lod.level) if self._counts else None
        if column == CUMULATIVE:
            return self._cumulative.get(lod.level)
        if column == SIZE:
            count = self._counts.get(lod.level)
            if self._bytes_per_tile is None or count is None:
                return None
            return self._bytes_per_tile * count
        return None

    def _display(self, lod: LOD, column: int) -> str:
        value = self._value(lod, column)
        if column == LEVEL:
            return str(lod.level)
        if column == SCALE:
            return format_scale(lod.scale)
        if column == RESOLUTION:
            return format_resolution(lod.resolution, self._units)
        if value is None:
            return EMPTY if column != CUMULATIVE else ""
        extrapolated = (column == TILES and lod.level in self._approximate) or (
            column == CUMULATIVE and any(lv in self._approximate for lv in self._checked if lv <= lod.level))
        about = "≈ " if extrapolated else ""
        if column == SIZE:
            return ("≈ " if lod.level in self._approximate else "") + format_bytes_short(value)
        return about + format_int(value)

    def _tooltip(self, lod: LOD) -> str:
        lines = [tr("Level {level}, scale {scale}, {resolution} a pixel").format(
            level=lod.level, scale=format_scale(lod.scale), resolution=format_resolution(lod.resolution, self._units))]
        count = self._counts.get(lod.level)
        if count is not None:
            lines.append(tr("{n} tiles for the area").format(n=format_int(count)))
        if lod.level in self._checked and self._cumulative.get(lod.level) is not None:
            lines.append(tr("{n} tiles with the ticked levels down to this one").format(
                n=format_int(self._cumulative[lod.level])))
        if self._limit and count is not None and count > self._limit:
            if self._split:
                lines.append(tr("This level alone needs more tiles than the server allows per server job "
                                "({limit}); it will be exported in several parts.").format(
                                    limit=format_int(self._limit)))
            else:
                lines.append(tr("This level alone needs more tiles than the server allows per server job "
                                "({limit}). Choose a smaller area or turn on splitting.").format(
                                    limit=format_int(self._limit)))
        elif self._limit and self._is_over(lod.level):
            running = self._cumulative.get(lod.level, 0)
            if self._split:
                lines.append(tr("With this level the export needs {n} tiles, more than the server allows "
                                "per server job ({limit}); it will be split into parts.").format(
                                    n=format_int(running), limit=format_int(self._limit)))
            else:
                lines.append(tr("With this level the export needs {n} tiles, more than the server allows "
                                "per server job ({limit}). Untick levels or turn on splitting.").format(
                                    n=format_int(running), limit=format_int(self._limit)))
        return "\n".join(lines)


def _as_check_state(value) -> Qt.CheckState:
    if isinstance(value, Qt.CheckState):
        return value
    try:
        return Qt.CheckState(int(value))
    except (TypeError, ValueError):
        return Qt.CheckState.Checked if value else Qt.CheckState.Unchecked
