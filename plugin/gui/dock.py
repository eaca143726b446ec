"""The plugin's dock: a shell of panels over a controller that holds the state.

The form is ``ui/dock.ui``.  Each group of the form has a panel class in :mod:`.panels` (service, area,
levels with the size estimate, export options, the Export button, the exports list); the
:class:`~.panels.controller.DockController` holds the connected service, the area and the levels and
announces their changes; this class builds the pieces, wires them and offers the few entry points
the plugin and the tests use.
"""
from __future__ import annotations

import contextlib
from pathlib import Path

from qgis.core import Qgis, QgsProject
from qgis.gui import QgsDockWidget
from qgis.PyQt.QtCore import QUrl
from qgis.PyQt.QtGui import QDesktopServices
from qgis.PyQt.QtWidgets import QTabWidget, QWidget

from ..core.output import output_folder
from ..qgis_glue.i18n import translator
from ..tasks.base import TaskKeeper
from .exports import ExportsController
from .exports_panel import ExportsPanel
from .panels.area_panel import AreaPanel
from .panels.controller import DockController
from .panels.estimate_panel import EstimatePanel
from .panels.export_panel import ExportPanel
from .panels.levels_panel import LevelsPanel
from .panels.messages import DockMessages, MessageLine
from .panels.options_panel import OptionsPanel
from .panels.resume_offer import ResumeOffer
from .panels.service_panel import ServicePanel
from .ui_loader import form_class

DOCK_OBJECT_NAME = "ArcGISOfflineTilesDock"
PLUGIN_ROOT = Path(__file__).resolve().parents[2]
HELP_PAGE = Path("help") / "index.html"  # written for analysts, with pictures; shipped in the zip


tr = translator("ArcGISOfflineTilesDockWidget")


def help_url(root: Path = PLUGIN_ROOT) -> QUrl:
    """The usage guide shipped with the plugin, opened in the browser (it works offline)."""
    return QUrl.fromLocalFile(str(root / HELP_PAGE))


class ArcGISOfflineTilesDockWidget(QgsDockWidget):
    """The dock.  ``manager`` (a :class:`~.exports.ExportsController`) is made here unless a test passes one."""

    def __init__(self, iface, parent=None, *, manager=None, project: QgsProject | None = None,
                 keeper: TaskKeeper | None = None) -> None:
        super().__init__(tr("ArcGIS Offline Tiles"), parent)
        self.iface = iface
        self.setObjectName(DOCK_OBJECT_NAME)
        self.project = project or QgsProject.instance()
        self.canvas = iface.mapCanvas()
        self.body = QWidget(self)
        self.ui = form_class("dock")()
        self.ui.setupUi(self.body)
        self.setWidget(self.body)
        self.keeper = keeper if keeper is not None else TaskKeeper()  # the plugin passes its own
        self.manager = manager if manager is not None else ExportsController(iface, self, keeper=self.keeper)

        ui = self.ui
        ui.messageBar.hide()  # QGIS's message bar cuts a message to two lines in a narrow dock
        self.message_line = MessageLine(self.body)
        ui.bodyLayout.insertWidget(0, self.message_line)
        self.messages = DockMessages(self.message_line)
        self.controller = DockController(self.canvas, self.project, self, keeper=self.keeper)
        # Order matters: on a new service the levels are set before the options and the buttons follow.
        self.levels_panel = LevelsPanel(ui, self.controller, self.messages, lambda: self.area_panel.description(),
                                        self)
        self.options_panel = OptionsPanel(ui, self.controller, self)
        self.export_panel = ExportPanel(ui, self.controller, self.options_panel, self.messages, self.manager, self)
        self.estimate_panel = EstimatePanel(ui, self.controller, self.messages, self.export_panel.ready_for_server,
                                            self)
        self.service_panel = ServicePanel(ui, self.controller, self.messages, iface, self)
        self.area_panel = AreaPanel(ui, self.controller, self.messages, self)
        self.exports_panel = ExportsPanel(self.manager)
        self._make_tabs()
        self.exports_panel.destination_folder = self._destination_folder
        self.resume_offer = ResumeOffer(iface, self.manager, self.show_exports, self)

        self.controller.serviceChanged.connect(self.update_enabled)
        self.controller.addressChanged.connect(lambda _matches: self.update_enabled())
        self.controller.refreshRequested.connect(self._update_totals)
        self.options_panel.outputChanged.connect(self.update_enabled)
        self.export_panel.started = self._export_started
        ui.helpButton.clicked.connect(self.open_help)
        self.visibilityChanged.connect(self._on_visibility)
        self.controller.model.clear()
        ui.twinButton.hide()
        ui.estimateButton.hide()
        self.options_panel.setup_formats(None)
        self._update_totals()

    def _make_tabs(self) -> None:
        """The form in one tab, the exports in another: below a long form the exports list was one card
        tall and out of sight."""
        ui = self.ui
        self.tabs = QTabWidget(self.body)
        self.tabs.setObjectName("dockTabs")
        self.tabs.setDocumentMode(True)
        index = ui.bodyLayout.indexOf(ui.scrollArea)
        ui.bodyLayout.removeWidget(ui.scrollArea)
        self.tabs.addTab(ui.scrollArea, tr("New export"))
        self.tabs.addTab(self.exports_panel, tr("Exports"))
        self.tabs.setTabToolTip(0, tr("Choose the service, the area and the levels, then export"))
        self.tabs.setTabToolTip(1, tr("Every export: its progress, and Cancel, Resume, Retry, Add to map"))
        ui.bodyLayout.insertWidget(index, self.tabs, 1)
        self.manager.exportsChanged.connect(self._update_exports_tab)
        self.manager.exportUpdated.connect(self._update_exports_tab)
        self._update_exports_tab()

    def _update_exports_tab(self, *_export_id) -> None:
        running = len(self.manager.running())
        total = len(self.manager.exports())
        self.tabs.setTabText(1, tr("Exports ({n})").format(n=total) if total else tr("Exports"))
        self.tabs.setTabToolTip(1, tr("{running} running of {n} exports: their progress, and Cancel, Resume, "
                                      "Retry, Add to map").format(running=running, n=total))

    # --- the state, for the plugin and the tests -------------------------------------------------
    @property
    def service(self):
        return self.controller.service

    @property
    def service_crs(self):
        return self.controller.service_crs

    @property
    def authcfg(self) -> str:
        return self.controller.authcfg

    @property
    def model(self):
        return self.controller.model

    @property
    def area(self):
        return self.controller.area

    @property
    def picker(self):
        return self.service_panel.picker

    @property
    def counting(self) -> bool:
        """Levels shown with ≈ are being counted exactly in the background."""
        return self.levels_panel.counter.counting

    @property
    def planning(self) -> bool:
        """A split plan is being computed in the background."""
        return self.levels_panel.plan_view.planning

    # --- actions ---------------------------------------------------------------------------------
    def connect_service(self, url: str | None = None) -> bool:
        return self.service_panel.connect_service(url)

    def set_service(self, info, authcfg: str = "") -> None:
        self.service_panel.set_service(info, authcfg)

    def use_canvas_extent(self) -> bool:
        return self.area_panel.use_canvas_extent()

    def use_features(self) -> bool:
        return self.area_panel.use_features()

    def start_drawing(self):
        return self.area_panel.start_drawing()

    def start_rectangle(self):
        return self.area_panel.start_rectangle()

    def select_levels_by_scale(self, min_scale: float, max_scale: float) -> list[int]:
        return self.levels_panel.select_levels_by_scale(min_scale, max_scale)

    def recount_now(self) -> None:
        """Count at once (tests, and callers that need the numbers synchronously)."""
        self.controller.stop_timers()
        self.levels_panel.recount()

    def estimate_size(self) -> bool:
        return self.estimate_panel.estimate_size()

    def output_path(self) -> str:
        return self.options_panel.output_path()

    def build_request(self):
        return self.export_panel.build_request()

    def export(self):
        """Start the export through the exports manager; returns its export id (``None`` when refused)."""
        return self.export_panel.export()

    def _destination_folder(self) -> str:
        """The folder under Save to, for a Retry of an earlier export ("" when none is chosen)."""
        path = self.output_path()
        return str(output_folder(path)) if path else ""

    def _export_started(self, _export_id: str) -> None:
        self.show_message(tr("Export started: follow it in the Exports tab."), Qgis.MessageLevel.Info)

    def _update_totals(self) -> None:
        self.controller.stop_timers()
        self.levels_panel.update_totals()
        self.update_enabled()

    def update_enabled(self) -> None:
        self.export_panel.update_enabled()
        self.ui.estimateButton.setEnabled(self.controller.ready() or self.estimate_panel.running)

    # --- messages --------------------------------------------------------------------------------
    def show_message(self, text: str, level=Qgis.MessageLevel.Warning, title: str = "", topic: str = "") -> None:
        self.messages.show(text, level, title, topic)

    def show_error(self, text: str, title: str = "") -> None:
        self.messages.error(text, title)

    def clear_message(self, topic: str | None = None) -> None:
        self.messages.clear(topic)

    def message_text(self) -> str:
        """The text of the message shown in the dock ("" when none)."""
        return self.messages.text()

    # --- exports list, help, teardown ------------------------------------------------------------
    def show_exports(self) -> None:
        """Open the dock and bring its list of exports into view."""
        self.setUserVisible(True)
        self.raise_()
        self.tabs.setCurrentWidget(self.exports_panel)
        self.exports_panel.setFocus()

    def open_help(self) -> None:
        url = help_url()
        if not QDesktopServices.openUrl(url):
            self.show_message(tr("No application could open the usage guide {path}; open it in a web browser or a "
                                 "text editor.").format(path=url.toLocalFile()), Qgis.MessageLevel.Warning)

    def _on_visibility(self, visible: bool) -> None:
        if visible:
            self.picker.refresh()
        self.area_panel.on_visibility(visible)

    def unload(self) -> None:
        """Stop background work and take the dock's items off the canvas (the plugin is unloading)."""
        self.controller.stop_timers()
        self.estimate_panel.cancel()
        self.levels_panel.close()
        self.area.close()
        self.resume_offer.close()
        if self.manager is not None:
            # the manager may outlive this dock: a bound slot (not a lambda) is dropped with it, and here
            for signal in (self.manager.exportsChanged, self.manager.exportUpdated):
                with contextlib.suppress(TypeError, RuntimeError):
                    signal.disconnect(self._update_exports_tab)
            self.manager.shutdown()  # exports pause first (their server jobs and downloads are kept)
        self.keeper.cancel_all()
        self.service_panel.close()
