"""The plugin class: wires actions, the dock, the Processing provider and the log handler.

``unload()`` is the exact mirror of ``initGui()``; tests load and unload twice and check that
nothing is left behind.

QGIS runs ``initGui`` at every start, so it imports nothing heavy: the dock (and with it the engine,
``requests`` and the package code) is built the first time the user opens it, or after start-up when
the export store holds an export of an earlier session to offer; the provider registers its algorithms
without the engine; the drop handler checks file names only.
"""
from __future__ import annotations

from contextlib import suppress
from pathlib import Path
from typing import TYPE_CHECKING

from qgis.core import QgsApplication, QgsProject, QgsVectorTileLayer
from qgis.PyQt.QtCore import Qt, QTimer
from qgis.PyQt.QtGui import QIcon
from qgis.PyQt.QtWidgets import QAction

from .gui.drop_handler import PackageDropHandler, open_chosen_packages
from .processing.provider import ArcGISOfflineTilesProvider
from .qgis_glue import log, settings
from .qgis_glue.i18n import install_translator, remove_translator, translator
from .tasks.base import TaskKeeper

if TYPE_CHECKING:
    from .gui.dock import ArcGISOfflineTilesDockWidget
    from .tasks.open_package import OpenPackageTask

PLUGIN_NAME = "ArcGIS Offline Tiles"
LOGGER_NAME = __package__  # "plugin" in a checkout, "arcgis_offline_tiles.plugin" when installed
ICON = Path(__file__).resolve().parents[1] / "icons" / "icon.svg"
# the layer properties of qgis_glue.layers, spelled here so that start-up need not import it
SOURCE_PROPERTY = "arcgis_offline_tiles/source_package"
CONVERTED_PROPERTY = "arcgis_offline_tiles/converted"


tr = translator("ArcGISOfflineTilesPlugin")  # module strings: pylupdate files them under @default


class ArcGISOfflineTilesPlugin:
    def __init__(self, iface) -> None:
        self.iface = iface
        self.provider: ArcGISOfflineTilesProvider | None = None
        self.dock: ArcGISOfflineTilesDockWidget | None = None
        self.dock_action: QAction | None = None
        self.open_action: QAction | None = None
        self.drop_handler: PackageDropHandler | None = None
        self.tasks = TaskKeeper()
        self._log_handler = None
        self._translator = None
        self._watched_project: QgsProject | None = None

    # --- Processing (also called by QGIS without a GUI, e.g. qgis_process) -------------------
    def initProcessing(self) -> None:
        if self.provider is None:
            self.provider = ArcGISOfflineTilesProvider()
            QgsApplication.processingRegistry().addProvider(self.provider)

    # --- GUI ---------------------------------------------------------------------------------
    def initGui(self) -> None:
        self._log_handler = log.install_handler(LOGGER_NAME)
        self._translator = install_translator()  # before any widget is built: their texts are translated
        self.initProcessing()

        self.dock_action = QAction(QIcon(str(ICON)), tr("ArcGIS Offline Tiles"), self.iface.mainWindow())
        self.dock_action.setObjectName("ArcGISOfflineTilesShowDock")
        self.dock_action.setToolTip(tr("Export offline tiles from an ArcGIS service"))
        self.dock_action.setCheckable(True)
        self.dock_action.toggled.connect(self._dock_toggled)
        self.iface.addPluginToWebMenu(PLUGIN_NAME, self.dock_action)
        self.iface.addWebToolBarIcon(self.dock_action)

        self.open_action = QAction(QIcon(str(ICON)), tr("Add Esri tile package…"), self.iface.mainWindow())
        self.open_action.setObjectName("ArcGISOfflineTilesAddPackage")
        self.open_action.setToolTip(tr("Open an Esri tile package (.vtpk, .tpkx, .tpk) or cache folder"))
        self.open_action.triggered.connect(lambda: open_chosen_packages(self.open_package, self.iface.mainWindow()))
        self.iface.addPluginToWebMenu(PLUGIN_NAME, self.open_action)
        self.iface.insertAddLayerAction(self.open_action)

        self.drop_handler = PackageDropHandler(self.open_package)
        self.iface.registerCustomDropHandler(self.drop_handler)
        if self._watched_project is None:  # once, whatever initGui/unload order QGIS or a test follows
            self._watched_project = QgsProject.instance()
            self._watched_project.layersAdded.connect(self._layers_added)
        # after start-up, outside QGIS's "Load plugins" time
        QTimer.singleShot(0, self._offer_earlier_exports)

    def ensure_dock(self) -> ArcGISOfflineTilesDockWidget:
        """The dock, built (hidden) on first use."""
        if self.dock is None:
            from .gui.dock import ArcGISOfflineTilesDockWidget

            self.dock = ArcGISOfflineTilesDockWidget(self.iface, self.iface.mainWindow(), keeper=self.tasks)
            self.dock.hide()
            self.iface.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, self.dock)
            if self.dock_action is not None:
                self.dock.visibilityChanged.connect(self.dock_action.setChecked)
        return self.dock

    def _dock_toggled(self, visible: bool) -> None:
        if visible or self.dock is not None:
            self.ensure_dock().setUserVisible(visible)

    def _offer_earlier_exports(self) -> None:
        """An export of an earlier session waits in the export store: build the dock, which reads the
        records in the background and offers them in QGIS's message bar."""
        if self.dock_action is not None and self.dock is None and settings.has_export_records():
            self.ensure_dock()

    @staticmethod
    def _layers_added(layers) -> None:
        """A native vtpk layer this plugin opened, read back from a project: QGIS rebuilt its tile
        matrix from the package, so its level scales get the plugin's correction again."""
        for layer in layers:
            if isinstance(layer, QgsVectorTileLayer) and layer.customProperty(SOURCE_PROPERTY) \
                    and not layer.customProperty(CONVERTED_PROPERTY):
                from .qgis_glue.layers import level_scales_inclusive

                level_scales_inclusive(layer)

    def open_package(self, path: str) -> OpenPackageTask:
        """Open a package in the background (drops, the Add action); the task adds the layer."""
        from .tasks.open_package import OpenPackageTask

        return self.tasks.start(OpenPackageTask(path, message_bar=self.iface.messageBar()))

    def unload(self) -> None:
        if self._watched_project is not None:
            with suppress(TypeError, RuntimeError):  # already disconnected, or the project is gone
                self._watched_project.layersAdded.disconnect(self._layers_added)
            self._watched_project = None
        if self.drop_handler is not None:
            self.iface.unregisterCustomDropHandler(self.drop_handler)
            self.drop_handler = None
        if self.open_action is not None:
            self.iface.removeAddLayerAction(self.open_action)
            self.iface.removePluginWebMenu(PLUGIN_NAME, self.open_action)
            self.open_action.deleteLater()
            self.open_action = None
        if self.dock_action is not None:
            self.iface.removeWebToolBarIcon(self.dock_action)
            self.iface.removePluginWebMenu(PLUGIN_NAME, self.dock_action)
            self.dock_action.deleteLater()
            self.dock_action = None
        if self.dock is not None:
            self.dock.unload()
            self.iface.removeDockWidget(self.dock)
            self.dock.deleteLater()
            self.dock = None
        self.tasks.cancel_all()  # after the dock: its exports have paused, the rest (opening packages …) stop
        if self.provider is not None:
            QgsApplication.processingRegistry().removeProvider(self.provider)
            self.provider = None
        remove_translator(self._translator)
        self._translator = None
        log.remove_handler(LOGGER_NAME, self._log_handler)
        self._log_handler = None
