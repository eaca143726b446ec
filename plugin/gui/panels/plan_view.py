"""The split plan under the levels: how an export above the server's tile limit becomes parts,
one server job each.

Nothing is planned for an export within the limit (one server job); above it the plan is computed in
the background (:mod:`...tasks.plan_task`, hundreds of milliseconds for a country) and shown when it
is ready: the export follows the same plan.
"""
from __future__ import annotations

import math
from pathlib import Path

from qgis.PyQt.QtCore import QObject, pyqtSignal

from ...core.errors import ArcGISOfflineTilesError, TooManyTilesError
from ...core.export import is_vector, validate_export
from ...core.levels import format_levels
from ...qgis_glue.i18n import error_message, translator
from ..levels_model import format_int

tr = translator("ArcGISOfflineTilesDockWidget")

PLAN_MAX_PARTS = 200  # beyond this the plan is not worth computing on every change: say "about n parts"
PLAN_LINES = 8


class SplitPlanView(QObject):
    """Keeps :attr:`plan` for the current choice and shows it in ``ui.planLabel``."""

    planned = pyqtSignal()  # a background plan arrived

    def __init__(self, ui, controller, parent=None) -> None:
        super().__init__(parent)
        self.ui = ui
        self.controller = controller
        self.model = controller.model
        self.plan = None
        self._token = 0

    @property
    def planning(self) -> bool:
        return bool(self.ui.planLabel.property("planning"))

    def rough_part_count(self) -> int:
        limit = self.controller.service.max_export_tiles or 1
        return max(1, math.ceil(self.model.total_tiles() / limit))

    def stop(self) -> None:
        self._token += 1
        self.plan = None

    def update(self) -> None:
        """The split plan for the current choice (the plan the export will follow), or why there is none."""
        self.stop()
        c = self.controller
        levels = self.model.checked_levels()
        if (c.service is None or not levels or c.area.is_empty or c.area_error
                or not self.model.has_counts() or not c.service.export_allowed):
            self._show("")
            return
        area = c.area.service_area(c.service_crs)
        try:
            validate_export(c.service, area, levels[:1])  # the area against the service's extent
        except ArcGISOfflineTilesError as exc:
            self._show(error_message(exc))
            return
        warnings = self._warnings(area)
        total = self.model.total_tiles()
        limit = c.service.max_export_tiles or 0
        if not limit or total <= limit:
            self._show("\n".join(warnings))
            return
        if not self.ui.splitCheck.isChecked():
            self._show(error_message(TooManyTilesError(count=format_int(total), limit=format_int(limit))))
            return
        warnings = [*warnings, *self._merge_note()]
        if self.model.total_is_approximate():
            self._show("\n".join([tr("About {n} parts; the exact plan is made when the export "
                                     "starts.").format(n=format_int(self.rough_part_count()))] + warnings))
            return
        if total > PLAN_MAX_PARTS * limit:
            self._show("\n".join([tr("About {n} parts: that is a lot; consider fewer levels or a "
                                     "smaller area.").format(n=format_int(self.rough_part_count()))] + warnings))
            return
        token = self._token
        self._show(tr("Planning the split into parts…"))
        self.ui.planLabel.setProperty("planning", True)
        from ...tasks.plan_task import start_plan

        counts = {level: self.model.counts()[level] for level in levels}
        start_plan(c.service.tiling, area, levels, limit, counts, keeper=c.keeper,
                   on_result=lambda plan: self._done(token, plan, warnings),
                   on_error=lambda message: self._done(token, None, [message]))

    def _done(self, token: int, plan, warnings: list[str]) -> None:
        if token != self._token:
            return  # the choice changed meanwhile; a newer plan is on its way
        self.ui.planLabel.setProperty("planning", False)
        self.plan = plan
        self._show(self._text(plan, warnings) if plan is not None else "\n".join(warnings))
        self.planned.emit()

    def _merge_note(self) -> list[str]:
        """What a merged split export becomes, said before it starts: Esri's formats cannot be merged,
        so the parts become one GeoPackage (raster) or MBTiles (vector), which ArcGIS Field Maps cannot
        open."""
        if not self.ui.mergeCheck.isChecked():
            return [tr("The parts are kept as separate packages (Merge into one file is off).")]
        vector = is_vector(self.controller.service)
        output = Path(self.ui.outputWidget.filePath().strip() or "export")
        target = output.with_suffix(".mbtiles" if vector else ".gpkg").name
        if vector:
            return [tr("The parts are merged into one MBTiles file, {name}, not a .vtpk: QGIS opens it, ArcGIS "
                       "Field Maps does not. Untick Merge into one file to keep .vtpk parts.").format(name=target)]
        return [tr("The parts are merged into one GeoPackage, {name}, not a {ext}: QGIS opens it, ArcGIS Field "
                   "Maps does not. Untick Merge into one file to keep {ext} parts.").format(
                       name=target, ext=output.suffix or ".tpkx")]

    def _warnings(self, area) -> list[str]:
        if not area.is_rectangle and not self.controller.service.supports_polygon:
            return [tr("This server cannot export a polygon: its bounding box is exported instead.")]
        return []

    def _show(self, text: str) -> None:
        self.ui.planLabel.setProperty("planning", False)
        self.ui.planLabel.setText(text)
        self.ui.planLabel.setVisible(bool(text))

    def _text(self, plan, warnings: list[str]) -> str:
        lines = []
        if plan.part_count > 1:
            lines.append(tr("{n} parts of at most {limit} tiles, {total} tiles in all:").format(
                n=format_int(plan.part_count), limit=format_int(plan.limit), total=format_int(plan.total_tiles)))
            for part in plan.parts[:PLAN_LINES]:
                what = (tr("level {levels}") if len(part.levels) == 1 else tr("levels {levels}")).format(
                    levels=format_levels(part.levels))
                piece = "" if part.whole_area else " " + tr("(part of the area)")
                lines.append("  " + tr("part {n}: {what}, {tiles} tiles{piece}").format(
                    n=part.index + 1, what=what, tiles=format_int(part.tiles), piece=piece))
            if plan.part_count > PLAN_LINES:
                lines.append("  " + tr("… and {n} more").format(n=format_int(plan.part_count - PLAN_LINES)))
        return "\n".join(lines + warnings)
