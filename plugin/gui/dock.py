"""The plugin's dock: service, area, levels, options and the exports, top to bottom.

The form is ``ui/dock.ui``; this module wires it.  Work that needs the network runs in tasks (service
description, size estimate, exports through the jobs manager), and so does the split plan of an
export above the server's limit (hundreds of milliseconds for a country).  The exact tile counts and
the tile preview run on the main thread once per change, after a 0 ms debounce so that a burst of
changes costs one count; deep levels of big polygons, whose exact count would take seconds, are
extrapolated within a time budget (shown with ≈) and counted exactly in the background
(:mod:`..tasks.count_task`), the exact figures replacing the ≈ ones as they arrive.
"""
from __future__ import annotations

import contextlib
import html
import logging
import math
import re
import time
from datetime import date
from pathlib import Path

from qgis.core import (
    Qgis,
    QgsCoordinateReferenceSystem,
    QgsDistanceArea,
    QgsMapLayerProxyModel,
    QgsProject,
    QgsUnitTypes,
)
from qgis.gui import QgsDockWidget, QgsExtentWidget, QgsFileWidget, QgsMessageBarItem
from qgis.PyQt.QtCore import QTimer, QUrl
from qgis.PyQt.QtGui import QDesktopServices
from qgis.PyQt.QtWidgets import QHeaderView, QPushButton, QSizePolicy, QWidget

from ..core.errors import (
    ArcGISOfflineTilesError,
    AuthFailedError,
    AuthRequiredError,
    InvalidRequestError,
    TooManyTilesError,
)
from ..core.export import JPEG_FORMATS, TPK, TPKX, VTPK, is_vector, package_format, validate_export
from ..core.levels import format_levels, levels_between_scales
from ..core.service import ServiceInfo, ServiceKind, parse_service_url
from ..core.tilecount import count_tiles, tile_ranges
from ..qgis_glue import crs as crs_glue
from ..qgis_glue import settings
from ..qgis_glue.i18n import translator
from ..tasks.base import error_message
from .area import PREVIEW_MAX_TILES, AreaController, tile_footprint
from .jobs import ExportRequest, JobManager, JobsPanel
from .levels_model import LevelsModel, format_bytes, format_int, format_scale, plural
from .service_picker import ServicePicker
from .ui_loader import form_class

LOG = logging.getLogger(__name__)

DOCK_OBJECT_NAME = "ArcGISOfflineTilesDock"
PLUGIN_ROOT = Path(__file__).resolve().parents[2]
HELP_PAGE = Path("help") / "usage.html"  # the README's usage section, built into the zip by scripts/package.sh
# Exact counts for a polygon cost time in proportion to the tile rows it spans; deeper levels than this
# are extrapolated from the deepest exact one at once, then counted exactly in the background.
MAX_EXACT_ROWS = 20_000
COUNT_BUDGET_S = 0.15
PLAN_MAX_JOBS = 200  # beyond this the plan is not worth computing on every change: say "about n jobs"
PLAN_LINES = 8
DEFAULT_QUALITY = 75
OPTION_DEFAULTS = {"split": True, "merge": True, "add_to_map": True, "optimize": False, "prefer_tpk": False}

AREA_EXTENT, AREA_POLYGON, AREA_FEATURES = range(3)
AREA_TOPIC = "area"
# QGIS 3.34+ has Qgis.LayerFilter; 3.22 the filter enum of the proxy model (scoped for Qt 6).
POLYGON_LAYERS = (Qgis.LayerFilter.PolygonLayer if hasattr(Qgis, "LayerFilter")
                  else QgsMapLayerProxyModel.Filter.PolygonLayer)
WGS84_ELLIPSOID = "EPSG:7030"  # for the area's size when the project measures nothing (ellipsoid NONE)


tr = translator("ArcGISOfflineTilesDockWidget")


def _escape(text: str) -> str:
    """Text for a rich-text label (apostrophes stay readable in tests and screen readers)."""
    return html.escape(text, quote=False)


def kind_label(kind: ServiceKind) -> str:
    return {ServiceKind.VECTOR: tr("vector tile service"), ServiceKind.MAP: tr("tiled map service"),
            ServiceKind.IMAGE: tr("tiled image service")}.get(kind, str(kind))


def _is_sign_in_message(text: str) -> bool:
    """Whether a (translated) error message asks for, or rejects, the sign-in."""
    required = error_message(AuthRequiredError())
    refused = error_message(AuthFailedError(reason="\x00")).split("\x00")[0]
    return text == required or (bool(refused) and text.startswith(refused))


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


def default_output_name(service: ServiceInfo, fmt: str, today: date | None = None) -> str:
    name = re.sub(r"[^\w.-]+", "_", service.name or "export").strip("._") or "export"
    return f"{name}_{(today or date.today()).isoformat()}.{fmt}"


def help_url(root: Path = PLUGIN_ROOT) -> QUrl:
    """The usage guide on disk, for analysts work offline: the help page the plugin zip ships, else
    (a checkout) the README.  The page holds only the usage section, so the URL needs no ``#usage``
    fragment, which xdg-open and Windows may drop or take for part of the file name."""
    page = root / HELP_PAGE
    return QUrl.fromLocalFile(str(page if page.is_file() else root / "README.md"))


def _extrapolate(scheme, counts: dict[int, int], exact: list[int], level: int) -> int:
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


class ArcGISOfflineTilesDockWidget(QgsDockWidget):
    """The dock.  ``manager`` (a :class:`~.jobs.JobManager`) is made here unless a test passes one."""

    def __init__(self, iface, parent=None, *, manager=None, project: QgsProject | None = None) -> None:
        super().__init__(tr("ArcGIS Offline Tiles"), parent)
        self.iface = iface
        self.setObjectName(DOCK_OBJECT_NAME)
        self.project = project or QgsProject.instance()
        self.canvas = iface.mapCanvas()
        self.body = QWidget(self)
        self.ui = form_class("dock")()
        self.ui.setupUi(self.body)
        self.setWidget(self.body)

        self.service: ServiceInfo | None = None
        self.service_crs: QgsCoordinateReferenceSystem | None = None
        self.authcfg = ""
        self._tasks: list = []
        self._service_token = 0
        self._estimate_token = 0
        self._approximate: set[int] = set()
        self._area_error = ""
        self._plan = None
        self._plan_token = 0
        self._count_token = 0
        self._count_task = None
        self._message_topic = ""
        self._output_is_default = True
        self._updating_output = False

        self.model = LevelsModel(self)
        self.area = AreaController(self.canvas, self.project, self)
        self.picker = ServicePicker(self.ui.urlCombo, self.ui.connectionsCombo, self.ui.layerButton,
                                    self.ui.authSelect, iface, self)
        self._recount_timer = QTimer(self)
        self._recount_timer.setSingleShot(True)
        self._recount_timer.setInterval(0)
        self._recount_timer.timeout.connect(self._recount)
        self._totals_timer = QTimer(self)
        self._totals_timer.setSingleShot(True)
        self._totals_timer.setInterval(0)
        self._totals_timer.timeout.connect(self._update_totals)

        self._setup_service()
        self._setup_area()
        self._setup_levels()
        self._setup_export()
        self.manager = manager if manager is not None else self._make_manager()
        self._setup_jobs()
        self.ui.helpButton.clicked.connect(self.open_help)
        self.visibilityChanged.connect(self._on_visibility)
        self._show_no_service()

    # ==========================================================================================
    # setup
    # ==========================================================================================
    def _setup_service(self) -> None:
        ui = self.ui
        ui.connectButton.clicked.connect(lambda: self.connect_service())
        ui.urlCombo.lineEdit().returnPressed.connect(lambda: self.connect_service())
        ui.twinButton.clicked.connect(self.use_export_twin)
        ui.twinButton.hide()
        ui.authSelect.setFocusProxy(ui.authSelect.findChild(type(ui.connectionsCombo)) or ui.authSelect)
        self.picker.message.connect(lambda text: self.show_message(text, Qgis.MessageLevel.Info))
        recent = settings.recent_services()
        if recent:
            self.picker.set_url(recent[0])

    def _setup_area(self) -> None:
        ui = self.ui
        saved = settings.area_source(AREA_EXTENT)
        ui.areaSourceCombo.setCurrentIndex(saved if 0 <= saved < ui.areaSourceCombo.count() else AREA_EXTENT)
        ui.areaSourceCombo.currentIndexChanged.connect(self._area_source_changed)
        ui.areaSourceCombo.currentIndexChanged.connect(settings.set_area_source)
        self._area_source_changed(ui.areaSourceCombo.currentIndex())
        ui.extentWidget.setMapCanvas(self.canvas)
        ui.extentWidget.extentChanged.connect(self._extent_changed)
        ui.canvasExtentButton.clicked.connect(self.use_canvas_extent)
        ui.drawButton.toggled.connect(self._draw_toggled)
        ui.layerCombo.setFilters(POLYGON_LAYERS)
        ui.layerCombo.setAllowEmptyLayer(False)
        ui.useFeaturesButton.clicked.connect(self.use_features)
        ui.clearAreaButton.clicked.connect(self.area.clear)
        ui.previewCheck.toggled.connect(lambda _on: self._schedule_totals())
        self.area.areaChanged.connect(self._area_changed)
        self.area.drawingChanged.connect(self._drawing_changed)

    def _setup_levels(self) -> None:
        ui = self.ui
        view = ui.levelsView
        view.setModel(self.model)
        header = view.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        view.verticalHeader().setDefaultSectionSize(view.fontMetrics().height() + 6)
        self.model.checkedLevelsChanged.connect(self._levels_changed)
        self.model.modelReset.connect(view.resizeColumnsToContents)
        for widget in (ui.minScaleWidget, ui.maxScaleWidget):
            widget.setMapCanvas(self.canvas)
            widget.setShowCurrentScaleButton(True)
            widget.setAllowNull(False)
            widget.scaleChanged.connect(self._scales_changed)
        ui.estimateButton.clicked.connect(self.estimate_size)

    def _setup_export(self) -> None:
        ui = self.ui
        ui.outputWidget.setStorageMode(QgsFileWidget.StorageMode.SaveFile)
        ui.outputWidget.setConfirmOverwrite(True)
        ui.outputWidget.setDialogTitle(tr("Save the tile package as"))
        ui.outputWidget.fileChanged.connect(self._output_changed)
        line = ui.outputWidget.lineEdit()
        if line is not None:
            ui.outputWidget.setFocusProxy(line)
        ui.formatCombo.currentIndexChanged.connect(self._format_changed)
        ui.qualitySlider.valueChanged.connect(lambda value: ui.qualityValueLabel.setText(str(value)))
        ui.qualitySlider.valueChanged.connect(settings.set_quality)  # only the user's moves: see _setup_formats
        ui.optimizeCheck.toggled.connect(self._optimize_toggled)
        for check, name in ((ui.splitCheck, "split"), (ui.mergeCheck, "merge"), (ui.addToMapCheck, "add_to_map"),
                            (ui.optimizeCheck, "optimize")):
            check.setChecked(settings.option(name, OPTION_DEFAULTS[name]))
            check.toggled.connect(lambda on, name=name: settings.set_option(name, on))
        ui.splitCheck.toggled.connect(self._split_toggled)
        ui.exportButton.clicked.connect(self.export)
        self._split_toggled(ui.splitCheck.isChecked())
        self._optimize_toggled(ui.optimizeCheck.isChecked())

    def _make_manager(self) -> JobManager:
        return JobManager(self.iface, self)

    def _setup_jobs(self) -> None:
        self.jobs_panel = JobsPanel(self.manager, self.ui.jobsGroup)
        self.ui.jobsLayout.addWidget(self.jobs_panel)
        self._resume_note: QgsMessageBarItem | None = None
        self._resume_offered = False
        # the manager reads the job store in the background; its answer decides whether to say anything
        self.manager.scanned.connect(self._offer_resume)

    # ==========================================================================================
    # messages
    # ==========================================================================================
    @property
    def message_bar(self):
        return self.ui.messageBar

    def show_message(self, text: str, level=Qgis.MessageLevel.Warning, title: str = "", topic: str = "") -> None:
        """A message inside the dock (replacing the previous one); errors stay until closed.

        ``topic`` ("area", …) lets a later fix of that topic take its own message away.
        """
        bar = self.ui.messageBar
        bar.clearWidgets()
        duration = 0 if level in (Qgis.MessageLevel.Critical, Qgis.MessageLevel.Warning) else 8
        bar.pushMessage(title, text, level, duration)
        self._message_topic = topic

    def show_error(self, text: str, title: str = "") -> None:
        self.show_message(text, Qgis.MessageLevel.Critical, title)

    def clear_message(self, topic: str | None = None) -> None:
        """Remove the dock's message (only when it is about ``topic``, if given)."""
        if topic is None or topic == self._message_topic:
            self.ui.messageBar.clearWidgets()
            self._message_topic = ""

    def message_text(self) -> str:
        """The text of the message shown in the dock ("" when none)."""
        item = self.ui.messageBar.currentItem()
        if item is None:
            return ""
        return " ".join(part for part in (item.title(), item.text()) if part)

    # ==========================================================================================
    # service
    # ==========================================================================================
    def connect_service(self, url: str | None = None) -> bool:
        """Fetch the service description in the background; ``False`` when nothing was started."""
        if url is not None:
            self.picker.set_url(url)
        text = self.picker.url()
        if not text:
            self.show_error(tr("Type the address of an ArcGIS tiled service first (…/MapServer, …/ImageServer or "
                               "…/VectorTileServer), or choose a saved connection."))
            self.ui.urlCombo.setFocus()
            return False
        try:
            parse_service_url(text)  # obvious mistakes (FeatureServer, not an address) need no network
        except ArcGISOfflineTilesError as exc:
            self._connect_failed(error_message(exc))
            return False
        authcfg = self.picker.authcfg()
        self._service_token += 1
        token = self._service_token
        self.clear_message()
        self.ui.connectButton.setEnabled(False)
        self.ui.connectStatusLabel.setText(tr("Connecting…"))
        self._start_service_task(text, authcfg, lambda info, error: self._service_done(token, text, authcfg,
                                                                                          info, error))
        return True

    def _start_service_task(self, url: str, authcfg: str, done) -> None:
        from ..tasks.service_task import fetch_service_task

        task = fetch_service_task(url, authcfg, on_result=lambda info: done(info, None),
                                  on_error=lambda message: done(None, message))
        self._track(task)

    def _service_done(self, token: int, url: str, authcfg: str, info, error) -> None:
        if token != self._service_token:
            return  # the user connected again meanwhile
        self.ui.connectButton.setEnabled(True)
        self.ui.connectStatusLabel.setText("")
        if info is None:
            text = error if isinstance(error, str) else error_message(error) if error else tr("Connection failed.")
            self._connect_failed(text)
            return
        try:
            self.set_service(info, authcfg)
        except ArcGISOfflineTilesError as exc:
            self._connect_failed(error_message(exc))
            return
        self.picker.remember(info.url, authcfg)
        self.picker.url_combo.setEditText(info.url)

    def _connect_failed(self, text: str) -> None:
        self.ui.connectButton.setEnabled(True)
        self.ui.connectStatusLabel.setText("")
        self.show_error(text, tr("Cannot use the service"))
        if self.service is None:
            self.ui.serviceSummaryLabel.setText(_escape(tr("Not connected.")))
        if _is_sign_in_message(text):
            self.ui.authSelect.setFocus()  # where the user fixes it

    def set_service(self, info: ServiceInfo, authcfg: str = "") -> None:
        """Show a fetched service: summary, levels, formats; the area and counts follow."""
        service_crs = crs_glue.qgs_crs(info.spatial_ref)  # raises when QGIS does not know the CRS
        self.service = info
        self.service_crs = service_crs
        self.authcfg = authcfg
        self._stop_exact_counts()
        self._approximate = set()
        self._plan = None
        units = QgsUnitTypes.toAbbreviatedString(service_crs.mapUnits())
        self.model.set_levels(info.available_lods, units, info.max_export_tiles)
        self.model.set_split(self.ui.splitCheck.isChecked())
        self.ui.serviceSummaryLabel.setText(self._summary_html(info, service_crs))
        self.ui.twinButton.setVisible(not info.export_allowed and bool(info.export_twin))
        self._setup_formats(info)
        self.ui.estimateButton.setVisible(not is_vector(info))
        self.ui.estimateLabel.setText("")
        self._set_scale_ranges(info)
        self.model.set_checked_levels(default_levels(info, self.canvas.scale()))
        self._update_default_output()
        if not info.export_allowed:
            self.show_message(tr("This service does not allow tile export.") + " " + (
                tr("Esri publishes an export-enabled copy: use the button below.") if info.export_twin
                else tr("Ask its administrator to enable export (exportTilesAllowed), or use another service.")),
                Qgis.MessageLevel.Warning)
        else:
            self.clear_message()
        self._update_enabled()
        self._schedule_recount()

    def _summary_html(self, info: ServiceInfo, crs: QgsCoordinateReferenceSystem) -> str:
        lods = info.available_lods
        scheme = info.tiling
        first, last = lods[0], lods[-1]
        esc = _escape
        lines = [
            f"<b>{esc(info.name or info.url)}</b> — {esc(kind_label(info.kind))}",
            esc(tr("Coordinate system: {crs}").format(crs=crs.authid() or crs.description())),
            esc(tr("Tiles: {w}×{h} px, {format}").format(w=scheme.tile_cols, h=scheme.tile_rows,
                                                          format=info.tile_format or "?")),
            esc(tr("Levels {first}–{last} ({coarse} to {fine})").format(
                first=first.level, last=last.level, coarse=format_scale(first.scale), fine=format_scale(last.scale))),
        ]
        if info.export_allowed:
            lines.append(esc(tr("Export allowed, up to {n} tiles per export").format(
                n=format_int(info.max_export_tiles or 0))))
        else:
            reason = tr("not allowed by the service (exportTilesAllowed is false)")
            lines.append("<span style='color:#a61e14'>{}</span>".format(esc(tr("Export: {reason}").format(
                reason=reason))))
        version = f"{info.version:g}" if info.version else tr("unknown")
        lines.append(esc(tr("ArcGIS Server version {version}").format(version=version)))
        return "<br>".join(lines)

    def _show_no_service(self) -> None:
        self.model.clear()
        self.ui.twinButton.hide()
        self.ui.estimateButton.hide()
        self._setup_formats(None)
        self._update_enabled()
        self._update_totals()

    def use_export_twin(self) -> None:
        if self.service is not None and self.service.export_twin:
            self.connect_service(self.service.export_twin)

    # ==========================================================================================
    # area
    # ==========================================================================================
    def _area_source_changed(self, index: int) -> None:
        pages = self.ui.areaPages
        # A stacked widget is as tall as its tallest page: let only the current page count.
        for i in range(pages.count()):
            policy = QSizePolicy.Policy.Preferred if i == index else QSizePolicy.Policy.Ignored
            pages.widget(i).setSizePolicy(policy, policy)
        pages.setCurrentIndex(index)
        pages.adjustSize()
        if index != AREA_POLYGON and self.area.is_drawing:
            self.area.stop_drawing()

    def use_canvas_extent(self) -> None:
        self.ui.areaSourceCombo.setCurrentIndex(AREA_EXTENT)
        self.ui.extentWidget.setOutputExtentFromCurrent()

    def _extent_changed(self, rect) -> None:
        widget = self.ui.extentWidget
        state = widget.extentState()
        if state == QgsExtentWidget.ExtentState.CurrentExtent:
            label = tr("Map extent")
        elif state == QgsExtentWidget.ExtentState.ProjectLayerExtent:
            label = tr("Extent of {layer}").format(layer=widget.extentLayerName())
        elif state == QgsExtentWidget.ExtentState.DrawOnCanvas:
            label = tr("Rectangle drawn on the map")
        else:
            label = tr("Rectangle")
        crs = widget.outputCrs()
        if not crs.isValid():
            crs = self.canvas.mapSettings().destinationCrs()
        try:
            self.area.set_extent(rect, crs, label)
        except ArcGISOfflineTilesError as exc:
            self._set_area_error(error_message(exc))

    def _draw_toggled(self, on: bool) -> None:
        if on and not self.area.is_drawing:
            self.area.start_drawing()
            self.canvas.setFocus()
        elif not on and self.area.is_drawing:
            self.area.stop_drawing()

    def _drawing_changed(self, drawing: bool) -> None:
        self.ui.drawButton.blockSignals(True)
        self.ui.drawButton.setChecked(drawing)
        self.ui.drawButton.blockSignals(False)

    def start_drawing(self):
        """Switch to the polygon page and activate the polygon tool (returns the tool)."""
        self.ui.areaSourceCombo.setCurrentIndex(AREA_POLYGON)
        self.ui.drawButton.setChecked(True)
        return self.area.start_drawing()

    def use_features(self) -> bool:
        layer = self.ui.layerCombo.currentLayer()
        try:
            self.area.set_from_features(layer, self.ui.selectedOnlyCheck.isChecked())
        except ArcGISOfflineTilesError as exc:
            self._set_area_error(error_message(exc))
            return False
        return True

    def _set_area_error(self, text: str) -> None:
        self.show_message(text, Qgis.MessageLevel.Warning, tr("Area"), topic=AREA_TOPIC)

    def _area_changed(self) -> None:
        self._area_error = ""
        if self.area.selection is not None:
            self.clear_message(AREA_TOPIC)
        self._schedule_recount()

    def _area_description(self) -> str:
        selection = self.area.selection
        if selection is None:
            return tr("No area yet: use the map extent, draw a rectangle or a polygon, or take polygon features.")
        measure = QgsDistanceArea()
        measure.setSourceCrs(selection.crs, self.project.transformContext())
        ellipsoid = self.project.ellipsoid()
        measure.setEllipsoid(ellipsoid if ellipsoid and ellipsoid.upper() != "NONE" else WGS84_ELLIPSOID)
        try:
            km2 = measure.measureArea(selection.geometry) / 1e6
        except Exception:  # noqa: BLE001 - a measurement problem must not hide the area
            km2 = float("nan")
        parts = selection.geometry.constGet().numGeometries() if selection.geometry.isMultipart() else 1
        text = selection.label
        if math.isfinite(km2) and km2 > 0:
            size = format_int(round(km2)) if km2 >= 10 else f"{km2:.2g}"
            text += " — " + tr("{size} km²").format(size=size)
        if parts > 1:
            text += ", " + plural(parts, tr("{n} part"), tr("{n} parts"))
        return text

    # ==========================================================================================
    # levels and counts
    # ==========================================================================================
    def _set_scale_ranges(self, info: ServiceInfo) -> None:
        for widget in (self.ui.minScaleWidget, self.ui.maxScaleWidget):
            widget.blockSignals(True)
        lods = info.available_lods
        self.ui.minScaleWidget.setScale(lods[0].scale)
        self.ui.maxScaleWidget.setScale(lods[-1].scale)
        for widget in (self.ui.minScaleWidget, self.ui.maxScaleWidget):
            widget.blockSignals(False)

    def _scales_changed(self, _scale: float = 0.0) -> None:
        if self.service is None:
            return
        self.select_levels_by_scale(self.ui.minScaleWidget.scale(), self.ui.maxScaleWidget.scale())

    def select_levels_by_scale(self, min_scale: float, max_scale: float) -> list[int]:
        """Tick the levels covering ``min_scale`` (coarse) .. ``max_scale`` (fine), the SDK's rule."""
        if self.service is None:
            return []
        try:
            levels = levels_between_scales(self.service, min_scale or None, max_scale or None)
        except ArcGISOfflineTilesError as exc:
            self.show_message(error_message(exc))
            return []
        self.model.set_checked_levels(levels)
        return levels

    def _sync_scale_widgets(self) -> None:
        levels = self.model.checked_levels()
        if not levels or self.service is None:
            return
        for widget, level in ((self.ui.minScaleWidget, levels[0]), (self.ui.maxScaleWidget, levels[-1])):
            widget.blockSignals(True)
            widget.setScale(self.model.lod(level).scale)
            widget.blockSignals(False)

    def _levels_changed(self) -> None:
        self._sync_scale_widgets()
        self.ui.estimateLabel.setText("")
        self._schedule_totals()

    def _schedule_recount(self) -> None:
        self._recount_timer.start()

    def _schedule_totals(self) -> None:
        self._totals_timer.start()

    def recount_now(self) -> None:
        """Count at once (tests, and callers that need the numbers synchronously)."""
        self._recount_timer.stop()
        self._recount()

    def _recount(self) -> None:
        self._stop_exact_counts()
        self._approximate = set()
        self._area_error = ""
        self.ui.areaLabel.setText(_escape(self._area_description()))
        if self.service is None or self.area.is_empty:
            self.model.set_counts(None)
            self._update_totals()
            return
        try:
            area = self.area.service_area(self.service_crs)
        except ArcGISOfflineTilesError as exc:
            self._area_error = error_message(exc)
            self.model.set_counts(None)
            self.ui.areaLabel.setText(f"{_escape(self._area_description())}<br>"
                                      f"<span style='color:#a61e14'>{_escape(self._area_error)}</span>")
            self._update_totals()
            return
        counts, self._approximate = self._count(area)
        self.model.set_counts(counts, self._approximate)
        if self._approximate:
            self._start_exact_counts(area, self._approximate)
        self._update_totals()

    @property
    def counting(self) -> bool:
        """Levels shown with ≈ are being counted exactly in the background."""
        return self._count_task is not None

    def _start_exact_counts(self, area, levels) -> None:
        from ..tasks.count_task import start_count

        token = self._count_token
        self._count_task = start_count(self.service.tiling, area, levels,
                                       on_level=lambda level, tiles: self._exact_count(token, level, tiles))
        self._count_task.done.connect(lambda _ok, token=token: self._exact_counts_done(token))
        self._track(self._count_task)

    def _stop_exact_counts(self) -> None:
        self._count_token += 1  # what a running count still reports is for an earlier area
        task, self._count_task = self._count_task, None
        if task is not None:
            with contextlib.suppress(RuntimeError):  # already finished and deleted
                task.cancel()

    def _exact_count(self, token: int, level: int, tiles: int) -> None:
        if token != self._count_token or level not in self._approximate:
            return
        self._approximate.discard(level)
        counts = self.model.counts()
        counts[level] = tiles
        self.model.set_counts(counts, self._approximate)
        self._schedule_totals()

    def _exact_counts_done(self, token: int) -> None:
        if token == self._count_token:
            self._count_task = None

    def _count(self, area) -> tuple[dict[int, int], set[int]]:
        """Exact counts level by level; levels too deep for the time budget are extrapolated (≈)."""
        scheme = self.service.tiling
        counts: dict[int, int] = {}
        approximate: set[int] = set()
        exact: list[int] = []
        started = time.perf_counter()
        for level in self.model.levels:
            rows = tile_ranges(scheme, area, level).rows
            too_slow = not area.is_rectangle and (rows > MAX_EXACT_ROWS or
                                                  time.perf_counter() - started > COUNT_BUDGET_S)
            if too_slow and exact:
                counts[level] = _extrapolate(scheme, counts, exact, level)
                approximate.add(level)
                continue
            counts[level] = count_tiles(scheme, area, [level])[level]
            exact.append(level)
        return counts, approximate

    def _update_totals(self) -> None:
        self._totals_timer.stop()
        self.model.set_split(self.ui.splitCheck.isChecked())
        self._update_plan()
        self.ui.totalLabel.setText(self._total_html())
        self._update_preview()
        self._update_enabled()

    def _total_html(self) -> str:
        esc = _escape
        if self.service is None:
            return esc(tr("Connect to a service to see its levels."))
        levels = self.model.checked_levels()
        if not levels:
            return esc(tr("Tick the levels to export."))
        if self._area_error or self.area.is_empty or not self.model.has_counts():
            return esc(plural(len(levels), tr("{n} level ticked; choose an area to count the tiles."),
                              tr("{n} levels ticked; choose an area to count the tiles.")))
        total = self.model.total_tiles()
        limit = self.service.max_export_tiles or 0
        about = "≈ " if self.model.total_is_approximate() else ""
        text = about + plural(len(levels), tr("{tiles} tiles in {n} level"), tr("{tiles} tiles in {n} levels"),
                              tiles=format_int(total))
        if not limit:
            return esc(text)
        text += " — " + tr("the server allows {limit} per export").format(limit=format_int(limit))
        if total <= limit:
            return esc(text + "; " + tr("1 export job"))
        if self.ui.splitCheck.isChecked():
            jobs = self._plan.job_count if self._plan is not None else self._rough_job_count()
            prefix = "" if self._plan is not None else "≈ "
            return esc(text + "; " + prefix + plural(jobs, tr("{n} export job"), tr("{n} export jobs")))
        return "{}<br><span style='color:#a61e14'>{}</span>".format(esc(text), esc(
            tr("Over the limit: tick fewer levels, choose a smaller area or turn on splitting.")))

    def _rough_job_count(self) -> int:
        limit = self.service.max_export_tiles or 1
        return max(1, math.ceil(self.model.total_tiles() / limit))

    def _update_plan(self) -> None:
        """The split plan for the current choice (the plan the export will follow), or why there is none.

        Nothing is planned for an export within the limit (one job); above it the plan is computed in
        the background (:mod:`..tasks.plan_task`) and shown when it is ready.
        """
        self._plan = None
        self._plan_token += 1
        levels = self.model.checked_levels()
        if (self.service is None or not levels or self.area.is_empty or self._area_error
                or not self.model.has_counts() or not self.service.export_allowed):
            self._show_plan_text("")
            return
        area = self.area.service_area(self.service_crs)
        try:
            validate_export(self.service, area, levels[:1])  # the area against the service's extent
        except ArcGISOfflineTilesError as exc:
            self._show_plan_text(error_message(exc))
            return
        warnings = self._plan_warnings(area)
        total = self.model.total_tiles()
        limit = self.service.max_export_tiles or 0
        if not limit or total <= limit:
            self._show_plan_text("\n".join(warnings))
            return
        if not self.ui.splitCheck.isChecked():
            self._show_plan_text(error_message(TooManyTilesError(count=format_int(total), limit=format_int(limit))))
            return
        if self.model.total_is_approximate():
            self._show_plan_text("\n".join([tr("About {n} export jobs; the exact plan is made when the export "
                                               "starts.").format(n=format_int(self._rough_job_count()))] + warnings))
            return
        if total > PLAN_MAX_JOBS * limit:
            self._show_plan_text("\n".join([tr("About {n} export jobs: that is a lot; consider fewer levels or a "
                                               "smaller area.").format(n=format_int(self._rough_job_count()))]
                                           + warnings))
            return
        token = self._plan_token
        self._show_plan_text(tr("Planning the split into export jobs…"))
        self.ui.planLabel.setProperty("planning", True)
        from ..tasks.plan_task import start_plan

        counts = {level: self.model.counts()[level] for level in levels}
        task = start_plan(self.service.tiling, area, levels, limit, counts,
                          on_result=lambda plan: self._plan_done(token, plan, warnings),
                          on_error=lambda message: self._plan_done(token, None, [message]))
        self._track(task)

    def _plan_done(self, token: int, plan, warnings: list[str]) -> None:
        if token != self._plan_token:
            return  # the choice changed meanwhile; a newer plan is on its way
        self.ui.planLabel.setProperty("planning", False)
        self._plan = plan
        self._show_plan_text(self._plan_text(plan, warnings) if plan is not None else "\n".join(warnings))
        self.ui.totalLabel.setText(self._total_html())

    @property
    def planning(self) -> bool:
        """A split plan is being computed in the background."""
        return bool(self.ui.planLabel.property("planning"))

    def _plan_warnings(self, area) -> list[str]:
        if not area.is_rectangle and not self.service.supports_polygon:
            return [tr("This server cannot export a polygon: its bounding box is exported instead.")]
        return []

    def _show_plan_text(self, text: str) -> None:
        self.ui.planLabel.setProperty("planning", False)
        self.ui.planLabel.setText(text)
        self.ui.planLabel.setVisible(bool(text))

    def _plan_text(self, plan, warnings: list[str]) -> str:
        lines = []
        if plan.job_count > 1:
            lines.append(tr("{n} export jobs of at most {limit} tiles, {total} tiles in all:").format(
                n=format_int(plan.job_count), limit=format_int(plan.limit), total=format_int(plan.total_tiles)))
            for part in plan.parts[:PLAN_LINES]:
                what = (tr("level {levels}") if len(part.levels) == 1 else tr("levels {levels}")).format(
                    levels=format_levels(part.levels))
                piece = "" if part.whole_area else " " + tr("(part of the area)")
                lines.append("  " + tr("job {n}: {what}, {tiles} tiles{piece}").format(
                    n=part.index + 1, what=what, tiles=format_int(part.tiles), piece=piece))
            if plan.job_count > PLAN_LINES:
                lines.append("  " + tr("… and {n} more").format(n=format_int(plan.job_count - PLAN_LINES)))
        return "\n".join(lines + warnings)

    def _update_preview(self) -> None:
        label = self.ui.previewLabel
        if not self.ui.previewCheck.isChecked():
            self.area.clear_preview()
            label.setText("")
            label.hide()
            return
        label.show()
        levels = self.model.checked_levels()
        if self.service is None or self.area.is_empty or self._area_error or not levels or \
                not self.model.has_counts():
            self.area.clear_preview()
            label.setText(tr("Connect, choose an area and tick levels to see their tiles."))
            return
        level = levels[-1]
        count = self.model.counts().get(level, 0)
        if count > PREVIEW_MAX_TILES or level in self._approximate:
            self.area.clear_preview()
            label.setText(tr("Too many tiles to preview ({n} at level {level}); the preview shows up to {max}.")
                          .format(n=format_int(count), level=level, max=format_int(PREVIEW_MAX_TILES)))
            return
        footprint = tile_footprint(self.service.tiling, self.area.service_area(self.service_crs), level)
        self.area.show_preview(footprint, self.service_crs)
        label.setText(plural(count, tr("{n} tile of level {level} outlined on the map."),
                             tr("{n} tiles of level {level} outlined on the map."), level=level))

    # ==========================================================================================
    # size estimate
    # ==========================================================================================
    def estimate_size(self) -> bool:
        if not self._ready_for_server():
            return False
        area_geometry = self.area.service_geometry(self.service_crs)
        area = self.area.service_area(self.service_crs)
        levels = tuple(self.model.checked_levels())
        self._estimate_token += 1
        token = self._estimate_token
        self.ui.estimateButton.setEnabled(False)
        self.ui.estimateLabel.setText(tr("Asking the server…"))
        self._start_estimate_task(area_geometry.asWkt(), area.is_rectangle, levels,
                                  lambda result, error: self._estimate_done(token, result, error))
        return True

    def _start_estimate_task(self, area_wkt: str, is_rectangle: bool, levels: tuple[int, ...], done) -> None:
        from ..tasks.estimate_task import start_estimate

        task = start_estimate(self.service, area_wkt, is_rectangle, levels, authcfg=self.authcfg,
                              on_result=lambda total_bytes, total_tiles: done((total_bytes, total_tiles), None),
                              on_error=lambda message: done(None, message))
        self._track(task)

    def _estimate_done(self, token: int, result, error) -> None:
        if token != self._estimate_token:
            return
        self.ui.estimateButton.setEnabled(True)
        if result is None:
            text = error if isinstance(error, str) else error_message(error) if error else tr("No estimate.")
            self.ui.estimateLabel.setText("")
            self.show_message(text, Qgis.MessageLevel.Warning, tr("Size estimate"))
            return
        total_bytes, total_tiles = result
        per_tile = total_bytes / total_tiles if total_tiles else None
        self.model.set_bytes_per_tile(per_tile)
        self.ui.estimateLabel.setText(tr("{size} for {tiles} tiles (server estimate)").format(
            size=format_bytes(total_bytes), tiles=format_int(total_tiles)))

    # ==========================================================================================
    # options and output
    # ==========================================================================================
    def _setup_formats(self, info: ServiceInfo | None) -> None:
        combo = self.ui.formatCombo
        combo.blockSignals(True)
        combo.clear()
        if info is None:
            combo.setEnabled(False)
        elif is_vector(info):
            combo.addItem(tr(".vtpk — vector tile package"), VTPK)
            combo.setEnabled(False)
        else:
            if package_format(info) == TPKX:
                combo.addItem(tr(".tpkx — Compact Cache V2 (recommended)"), TPKX)
            combo.addItem(tr(".tpk — Compact Cache V1 (older readers)"), TPK)
            combo.setEnabled(combo.count() > 1)
            prefer_tpk = settings.option("prefer_tpk", OPTION_DEFAULTS["prefer_tpk"])
            combo.setCurrentIndex(combo.findData(TPK) if prefer_tpk else 0)
        combo.blockSignals(False)
        jpeg = info is not None and not is_vector(info) and (info.tile_format or "").upper() in JPEG_FORMATS
        for widget in (self.ui.optimizeCheck, self.ui.qualityLabel, self.ui.qualitySlider, self.ui.qualityValueLabel):
            widget.setVisible(jpeg)
        if jpeg:
            own = info.tiling.compression_quality or 100
            slider = self.ui.qualitySlider
            # the remembered quality, capped by this service's own: the cap is not saved as the choice
            slider.blockSignals(True)
            slider.setMaximum(max(slider.minimum(), own))
            slider.setValue(min(settings.quality(DEFAULT_QUALITY), own))
            slider.blockSignals(False)
            self.ui.qualityValueLabel.setText(str(slider.value()))
            self.ui.qualitySlider.setToolTip(tr("JPEG quality of the optimised tiles, at most the service's own "
                                                "quality ({q})").format(q=own))
        self._optimize_toggled(self.ui.optimizeCheck.isChecked())

    def _chosen_format(self) -> str | None:
        data = self.ui.formatCombo.currentData()
        return data if data in (TPKX, TPK) else None

    def _format_extension(self) -> str:
        if self.service is None:
            return TPKX
        return package_format(self.service, self._chosen_format())

    def _format_changed(self, _index: int) -> None:
        if self.service is not None and not is_vector(self.service) and self.ui.formatCombo.count() > 1:
            settings.set_option("prefer_tpk", self._chosen_format() == TPK)
        self._update_output_extension()
        self._schedule_totals()

    def _optimize(self) -> bool:
        return self.ui.optimizeCheck.isVisible() and self.ui.optimizeCheck.isChecked() if self.service else False

    def _jpeg_service(self) -> bool:
        info = self.service
        return info is not None and not is_vector(info) and (info.tile_format or "").upper() in JPEG_FORMATS

    def _optimize_toggled(self, on: bool) -> None:
        enabled = bool(on) and self._jpeg_service()
        self.ui.qualitySlider.setEnabled(enabled)
        self.ui.qualityLabel.setEnabled(enabled)
        self.ui.qualityValueLabel.setEnabled(enabled)
        self._schedule_totals()

    def _quality(self) -> int | None:
        return self.ui.qualitySlider.value() if self._optimize_enabled() else None

    def _optimize_enabled(self) -> bool:
        return self._jpeg_service() and self.ui.optimizeCheck.isChecked()

    def _split_toggled(self, on: bool) -> None:
        self.ui.mergeCheck.setEnabled(bool(on))
        self._schedule_totals()

    def output_path(self) -> str:
        return self.ui.outputWidget.filePath().strip()

    def _output_changed(self, _path: str) -> None:
        if not self._updating_output:
            self._output_is_default = False
        self._update_enabled()

    def _set_output(self, path: str) -> None:
        self._updating_output = True
        self.ui.outputWidget.setFilePath(path)
        self._updating_output = False

    def _update_default_output(self) -> None:
        if self.service is None:
            return
        fmt = self._format_extension()
        self.ui.outputWidget.setFilter(tr("Tile package (*.{ext})").format(ext=fmt))
        if self._output_is_default or not self.output_path():
            folder = settings.output_folder() or str(Path.home())
            self._set_output(str(Path(folder) / default_output_name(self.service, fmt)))
            self._output_is_default = True
        else:
            self._update_output_extension()

    def _update_output_extension(self) -> None:
        if self.service is None:
            return
        fmt = self._format_extension()
        self.ui.outputWidget.setFilter(tr("Tile package (*.{ext})").format(ext=fmt))
        path = self.output_path()
        if path and Path(path).suffix.lower() in (".vtpk", ".tpkx", ".tpk"):
            keep_default = self._output_is_default
            self._set_output(str(Path(path).with_suffix("." + fmt)))
            self._output_is_default = keep_default

    # ==========================================================================================
    # export
    # ==========================================================================================
    def _ready_for_server(self) -> bool:
        """Check what the user must fix before anything is sent; tell them in the dock."""
        if self.service is None:
            self.show_error(tr("Connect to a service first."))
            return False
        if not self.service.export_allowed:
            self.show_error(tr("This service does not allow tile export; use an export-enabled service."))
            return False
        if self.area.is_empty:
            self.show_error(tr("Choose the area first: the map extent, a rectangle, a polygon or polygon features."))
            return False
        if self._area_error:
            self.show_error(self._area_error)
            return False
        if not self.model.checked_levels():
            self.show_error(tr("Tick at least one level."))
            return False
        try:
            self.area.service_area(self.service_crs)
        except ArcGISOfflineTilesError as exc:
            self.show_error(error_message(exc))
            return False
        return True

    def build_request(self) -> ExportRequest:
        """The :class:`ExportRequest` for what the dock shows (raises :class:`InvalidRequestError`)."""
        if not self._ready_for_server():
            raise InvalidRequestError(reason=self.message_text() or "incomplete")
        output = self.output_path()
        if not output:
            raise InvalidRequestError(reason=tr("choose where to save the package"))
        geometry = self.area.service_geometry(self.service_crs)
        area = self.area.service_area(self.service_crs)
        selection = self.area.selection
        return ExportRequest(
            service_url=self.service.url, authcfg=self.authcfg, area_wkt=geometry.asWkt(),
            area_is_rectangle=area.is_rectangle, levels=tuple(self.model.checked_levels()),
            fmt=self._chosen_format(), optimize=self._optimize_enabled(), quality=self._quality(),
            split=self.ui.splitCheck.isChecked(), merge=self.ui.mergeCheck.isChecked(),
            output_path=output, add_to_map=self.ui.addToMapCheck.isChecked(), service_name=self.service.name,
            area_label=selection.label if selection is not None else "")

    def export(self):
        """Start the export through the jobs manager; returns the job id (``None`` when refused)."""
        try:
            request = self.build_request()
        except ArcGISOfflineTilesError as exc:
            if not self.message_text():
                self.show_error(error_message(exc))
            return None
        total = self.model.total_tiles()
        limit = self.service.max_export_tiles or 0
        if not request.split and limit and total > limit:
            self.show_error(tr("The export needs {n} tiles but the server allows {limit} per export. Tick fewer "
                               "levels, choose a smaller area or turn on splitting.").format(
                                   n=format_int(total), limit=format_int(limit)))
            return None
        output = Path(request.output_path)
        folder = output if output.is_dir() else output.parent
        if not folder.is_dir():
            self.show_error(tr("The folder {folder} does not exist; choose another place to save the package.")
                            .format(folder=str(folder)))
            return None
        settings.set_output_folder(str(folder))
        job_id = self.manager.start_export(request)
        self.show_message(tr("Export started: follow it under Exports."), Qgis.MessageLevel.Info)
        self.ui.jobsGroup.setCollapsed(False)
        return job_id

    def _update_enabled(self) -> None:
        has_service = self.service is not None
        allowed = has_service and self.service.export_allowed
        ready = allowed and not self.area.is_empty and not self._area_error and bool(self.model.checked_levels())
        for widget in (self.ui.levelsView, self.ui.minScaleWidget, self.ui.maxScaleWidget):
            widget.setEnabled(has_service)
        self.ui.exportButton.setEnabled(bool(ready and self.output_path()))
        self.ui.estimateButton.setEnabled(bool(ready) and self._estimate_token_idle())
        self.ui.exportButton.setToolTip(tr("Start the export in the background; follow it under Exports") if ready
                                        else tr("Connect to a service that allows export, choose an area and "
                                                "tick levels first"))

    def _estimate_token_idle(self) -> bool:
        return self.ui.estimateLabel.text() != tr("Asking the server…")

    # ==========================================================================================
    # exports of earlier sessions
    # ==========================================================================================
    def _offer_resume(self) -> None:
        """Once per session: say in QGIS's message bar that exports of an earlier session can resume
        (the dock is usually hidden at startup, its jobs list out of sight)."""
        waiting = self.manager.resumable()
        bar = self.iface.messageBar() if self.iface is not None else None
        if self._resume_offered or not waiting or bar is None:
            return
        self._resume_offered = True
        text = plural(len(waiting), tr("{n} export of an earlier session was interrupted; it can resume where it "
                                       "stopped."),
                      tr("{n} exports of an earlier session were interrupted; they can resume where they stopped."))
        note = QgsMessageBarItem(tr("ArcGIS Offline Tiles"), text, Qgis.MessageLevel.Info, 0)
        button = QPushButton(tr("Show"), note)  # owned by the note (and deleted with it)
        button.setToolTip(tr("Open the dock at its exports: resume or discard each one"))
        button.clicked.connect(self._show_resumable)
        note.setWidget(button)
        self._resume_note = note
        bar.pushItem(note)

    def _show_resumable(self) -> None:
        self._close_resume_note()
        self.show_exports()

    def _close_resume_note(self) -> None:
        note, self._resume_note = self._resume_note, None
        if note is not None and self.iface is not None:
            with contextlib.suppress(RuntimeError):  # the user closed it already (the item is deleted)
                self.iface.messageBar().popWidget(note)

    def show_exports(self) -> None:
        """Open the dock and bring its list of exports into view."""
        self.setUserVisible(True)
        self.raise_()
        self.ui.jobsGroup.setCollapsed(False)
        self.ui.scrollArea.ensureWidgetVisible(self.ui.jobsGroup)
        self.jobs_panel.setFocus()

    # ==========================================================================================
    # help, tasks, teardown
    # ==========================================================================================
    def open_help(self) -> None:
        url = help_url()
        if not QDesktopServices.openUrl(url):
            self.show_message(tr("No application could open the usage guide {path}; open it in a web browser or a "
                                 "text editor.").format(path=url.toLocalFile()), Qgis.MessageLevel.Warning)

    def _track(self, task) -> None:
        """Remember a running task until it is done, to cancel it when the plugin unloads."""
        self._tasks.append(task)
        task.done.connect(lambda _ok, task=task: self._tasks.remove(task) if task in self._tasks else None)

    def _on_visibility(self, visible: bool) -> None:
        if visible:
            self.picker.refresh_layer_button()
        for band in (self.area.rubber_band, self.area.preview_band):
            if band is not None:
                band.setVisible(visible and not self.area.is_empty)
        if not visible and self.area.is_drawing:
            self.area.stop_drawing()

    def unload(self) -> None:
        """Stop background work and take the dock's items off the canvas (the plugin is unloading)."""
        self._recount_timer.stop()
        self._totals_timer.stop()
        self._service_token += 1
        self._estimate_token += 1
        self._plan_token += 1
        self._stop_exact_counts()
        for task in list(self._tasks):
            with contextlib.suppress(RuntimeError):
                task.cancel()
        self._tasks.clear()
        self.area.close()
        self._close_resume_note()
        if self.manager is not None:
            self.manager.shutdown()
        self.picker.close()
