"""The levels panel: the service's levels with their tiles for the area, the scale range, the totals
against the server's limit, the split plan and the tile preview."""
from __future__ import annotations

import math

from qgis.core import QgsUnitTypes
from qgis.PyQt.QtCore import QObject

from ...core.errors import ArcGISOfflineTilesError
from ...core.levels import levels_between_scales, levels_by_resolution
from ...core.service import ServiceInfo
from ...qgis_glue.i18n import error_message, translator
from ..area import PREVIEW_MAX_TILES, tile_footprint
from ..levels_model import format_int, plural
from .controller import escape
from .counts import TileCounter
from .levels_columns import LevelsColumns
from .plan_view import SplitPlanView

tr = translator("ArcGISOfflineTilesDockWidget")

ERROR_COLOUR = "#a61e14"


def default_levels(service: ServiceInfo, canvas_scale: float) -> list[int]:
    """From the coarsest available level down to two levels finer than the map's current scale."""
    lods = list(service.available_lods)
    if not lods:
        return []
    if canvas_scale > 0 and all(lod.scale > 0 for lod in lods):
        nearest = min(range(len(lods)), key=lambda i: abs(math.log(lods[i].scale / canvas_scale)))
    else:
        nearest = min(len(lods) - 1, 5)
    last = min(nearest + 2, len(lods) - 1)
    return [lod.level for lod in lods[:last + 1] if lod.level <= service.max_lod]


class LevelsPanel(QObject):
    """Shows the controller's levels model; counts the area and sums the ticked levels."""

    def __init__(self, ui, controller, messages, describe_area, parent=None) -> None:
        super().__init__(parent)
        self.ui = ui
        self.controller = controller
        self.messages = messages
        self.model = controller.model
        self.describe_area = describe_area
        self.counter = TileCounter(controller, self)
        self.plan_view = SplitPlanView(ui, controller, self)
        view = ui.levelsView
        view.setModel(self.model)
        view.verticalHeader().setDefaultSectionSize(view.fontMetrics().height() + 6)
        self.model.checkedLevelsChanged.connect(self._levels_changed)
        self.columns = LevelsColumns(view, self.model, self)  # sizes the columns
        for widget in (ui.minScaleWidget, ui.maxScaleWidget):
            widget.setMapCanvas(controller.canvas)
            widget.setShowCurrentScaleButton(True)
            widget.setAllowNull(False)
            widget.scaleChanged.connect(self._scales_changed)
        for spin in self._resolution_spins():
            spin.editingFinished.connect(self._resolutions_changed)  # not while the user types
        self.counter.exactCounted.connect(controller.schedule_refresh)
        self.plan_view.planned.connect(lambda: ui.totalLabel.setText(self.total_html()))
        controller.serviceChanged.connect(self._service_changed)
        controller.recountRequested.connect(self.recount)

    def _service_changed(self) -> None:
        info = self.controller.service
        self.counter.stop()
        self.counter.approximate = set()
        self.plan_view.stop()
        units = QgsUnitTypes.toAbbreviatedString(self.controller.service_crs.mapUnits())
        self.model.set_levels(info.available_lods, units, info.max_export_tiles)
        self.model.set_split(self.ui.splitCheck.isChecked())
        for widget in (self.ui.minScaleWidget, self.ui.maxScaleWidget):
            widget.blockSignals(True)
        self.ui.minScaleWidget.setScale(info.available_lods[0].scale)
        self.ui.maxScaleWidget.setScale(info.available_lods[-1].scale)
        for widget in (self.ui.minScaleWidget, self.ui.maxScaleWidget):
            widget.blockSignals(False)
        for spin in self._resolution_spins():
            spin.setSuffix(f" {units}" if units else "")
        self._show_resolutions(info.available_lods[0].level, info.available_lods[-1].level)
        self.model.set_checked_levels(default_levels(info, self.controller.canvas.scale()))

    def _resolution_spins(self) -> tuple:
        return self.ui.coarsestResolutionSpin, self.ui.finestResolutionSpin

    def _show_resolutions(self, coarsest_level: int, finest_level: int) -> None:
        for spin, level in zip(self._resolution_spins(), (coarsest_level, finest_level)):
            spin.blockSignals(True)
            spin.setValue(self.model.lod(level).resolution)
            spin.blockSignals(False)

    def _resolutions_changed(self) -> None:
        if self.controller.service is not None:
            self.select_levels_by_resolution(self.ui.coarsestResolutionSpin.value(),
                                             self.ui.finestResolutionSpin.value())

    def select_levels_by_resolution(self, coarsest: float, finest: float) -> list[int]:
        """Tick the levels covering the ground resolution range (service CRS units per pixel), by the
        same rule as scales: a bound between two levels takes the level beyond it."""
        if self.controller.service is None:
            return []
        try:
            levels = levels_by_resolution(self.controller.service, coarsest or None, finest or None)
        except ArcGISOfflineTilesError as exc:
            self.messages.show(error_message(exc))
            return []
        self.model.set_checked_levels(levels)
        if levels:  # the fields snap to the chosen levels' own resolutions, as the scale fields do
            self._show_resolutions(levels[0], levels[-1])
        return levels

    def _scales_changed(self, _scale: float = 0.0) -> None:
        if self.controller.service is not None:
            self.select_levels_by_scale(self.ui.minScaleWidget.scale(), self.ui.maxScaleWidget.scale())

    def select_levels_by_scale(self, min_scale: float, max_scale: float) -> list[int]:
        """Tick the levels covering ``min_scale`` (coarse) .. ``max_scale`` (fine), the SDK's rule."""
        if self.controller.service is None:
            return []
        try:
            levels = levels_between_scales(self.controller.service, min_scale or None, max_scale or None)
        except ArcGISOfflineTilesError as exc:
            self.messages.show(error_message(exc))
            return []
        self.model.set_checked_levels(levels)
        return levels

    def _levels_changed(self) -> None:
        levels = self.model.checked_levels()
        if levels and self.controller.service is not None:
            for widget, level in ((self.ui.minScaleWidget, levels[0]), (self.ui.maxScaleWidget, levels[-1])):
                widget.blockSignals(True)
                widget.setScale(self.model.lod(level).scale)
                widget.blockSignals(False)
            self._show_resolutions(levels[0], levels[-1])
        self.controller.schedule_refresh()

    def recount(self) -> None:
        c = self.controller
        self.counter.stop()
        self.counter.approximate = set()
        c.area_error = ""
        self.ui.areaLabel.setText(escape(self.describe_area()))
        if c.service is None or c.area.is_empty:
            self.counter.clear()
        else:
            try:
                area = c.area.service_area(c.service_crs)
            except ArcGISOfflineTilesError as exc:
                c.area_error = error_message(exc)
                self.counter.clear()
                self.ui.areaLabel.setText(f"{escape(self.describe_area())}<br>"
                                          f"<span style='color:{ERROR_COLOUR}'>{escape(c.area_error)}</span>")
            else:
                self.counter.count(area)
        c.refreshRequested.emit()

    def update_totals(self) -> None:
        self.model.set_split(self.ui.splitCheck.isChecked())
        self.plan_view.update()
        self.ui.totalLabel.setText(self.total_html())
        self._update_preview()

    def total_html(self) -> str:
        c = self.controller
        if c.service is None:
            return escape(tr("Connect to a service to see its levels."))
        levels = self.model.checked_levels()
        if not levels:
            return escape(tr("Tick the levels to export."))
        if c.area_error or c.area.is_empty or not self.model.has_counts():
            return escape(plural(len(levels), tr("{n} level ticked; choose an area to count the tiles."),
                                 tr("{n} levels ticked; choose an area to count the tiles.")))
        total = self.model.total_tiles()
        limit = c.service.max_export_tiles or 0
        about = "≈ " if self.model.total_is_approximate() else ""
        text = about + plural(len(levels), tr("{tiles} tiles in {n} level"), tr("{tiles} tiles in {n} levels"),
                              tiles=format_int(total))
        if not limit:
            return escape(text)
        text += " — " + tr("the server allows {limit} per server job").format(limit=format_int(limit))
        if total <= limit:
            return escape(text + "; " + tr("1 part"))
        if self.ui.splitCheck.isChecked():
            plan = self.plan_view.plan
            parts = plan.part_count if plan is not None else self.plan_view.rough_part_count()
            prefix = "" if plan is not None else "≈ "
            return escape(text + "; " + prefix + plural(parts, tr("{n} part"), tr("{n} parts")))
        return "{}<br><span style='color:{}'>{}</span>".format(escape(text), ERROR_COLOUR, escape(
            tr("Over the limit: tick fewer levels, choose a smaller area or turn on splitting.")))

    def _update_preview(self) -> None:
        c = self.controller
        label = self.ui.previewLabel
        if not self.ui.previewCheck.isChecked():
            c.area.clear_preview()
            label.setText("")
            label.hide()
            return
        label.show()
        levels = self.model.checked_levels()
        if c.service is None or c.area.is_empty or c.area_error or not levels or not self.model.has_counts():
            c.area.clear_preview()
            label.setText(tr("Connect, choose an area and tick levels to see their tiles."))
            return
        level = levels[-1]
        count = self.model.counts().get(level, 0)
        if count > PREVIEW_MAX_TILES or level in self.counter.approximate:
            c.area.clear_preview()
            label.setText(tr("Too many tiles to preview ({n} at level {level}); the preview shows up to {max}.")
                          .format(n=format_int(count), level=level, max=format_int(PREVIEW_MAX_TILES)))
            return
        footprint = tile_footprint(c.service.tiling, c.area.service_area(c.service_crs), level)
        c.area.show_preview(footprint, c.service_crs)
        label.setText(plural(count, tr("{n} tile of level {level} outlined on the map."),
                             tr("{n} tiles of level {level} outlined on the map."), level=level))

    def close(self) -> None:
        self.counter.stop()
        self.plan_view.stop()
