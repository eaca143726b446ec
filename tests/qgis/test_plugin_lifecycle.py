"""The plugin loads in QGIS under its installed name and unloads without leaving anything behind."""
from __future__ import annotations

import importlib
import logging
import sys
from pathlib import Path

import pytest
from qgis.core import QgsApplication
from qgis.PyQt.QtWidgets import QAction, QDockWidget

REPO = Path(__file__).resolve().parents[2]
PACKAGE = "arcgis_offline_tiles"


class RecordingIface:
    """Wraps pytest-qgis's iface and records what a plugin adds and removes."""

    def __init__(self, iface) -> None:
        self._iface = iface
        self.menu_actions: list[QAction] = []
        self.toolbar_actions: list[QAction] = []
        self.docks: list[QDockWidget] = []
        self.drop_handlers: list = []
        self.add_layer_actions: list[QAction] = []

    def __getattr__(self, name):
        return getattr(self._iface, name)

    def addPluginToWebMenu(self, _menu, action):
        self.menu_actions.append(action)

    def removePluginWebMenu(self, _menu, action):
        self.menu_actions.remove(action)

    def addPluginToMenu(self, _menu, action):
        self.menu_actions.append(action)

    def removePluginMenu(self, _menu, action):
        self.menu_actions.remove(action)

    def addWebToolBarIcon(self, action):
        self.toolbar_actions.append(action)

    def removeWebToolBarIcon(self, action):
        self.toolbar_actions.remove(action)

    def addDockWidget(self, _area, dock):
        self.docks.append(dock)

    def removeDockWidget(self, dock):
        self.docks.remove(dock)

    def registerCustomDropHandler(self, handler):
        self.drop_handlers.append(handler)

    def unregisterCustomDropHandler(self, handler):
        self.drop_handlers.remove(handler)

    def insertAddLayerAction(self, action):
        self.add_layer_actions.append(action)

    def removeAddLayerAction(self, action):
        self.add_layer_actions.remove(action)


@pytest.fixture
def installed_package(tmp_path, monkeypatch):
    """Make the checkout importable as `arcgis_offline_tiles`, the way QGIS sees an installed plugin."""
    (tmp_path / PACKAGE).symlink_to(REPO, target_is_directory=True)
    monkeypatch.syspath_prepend(str(tmp_path))
    yield importlib.import_module(PACKAGE)
    for name in [n for n in sys.modules if n == PACKAGE or n.startswith(PACKAGE + ".")]:
        del sys.modules[name]


def _provider_ids():
    return {provider.id() for provider in QgsApplication.processingRegistry().providers()}


def test_load_and_unload_twice_leaves_nothing_behind(qgis_iface, installed_package):
    iface = RecordingIface(qgis_iface)
    plugin_logger = logging.getLogger(f"{PACKAGE}.plugin")
    handlers_before = list(plugin_logger.handlers)
    assert "arcgisofflinetiles" not in _provider_ids()

    for _ in range(2):
        plugin = installed_package.classFactory(iface)
        plugin.initGui()
        assert "arcgisofflinetiles" in _provider_ids()
        assert [a.text() for a in iface.menu_actions] == ["ArcGIS Offline Tiles", "Add Esri tile package…"]
        assert [a.text() for a in iface.toolbar_actions] == ["ArcGIS Offline Tiles"]
        assert iface.add_layer_actions == iface.menu_actions[1:]  # the same action in Layer ▸ Add Layer
        assert len(iface.docks) == 1
        assert len(iface.drop_handlers) == 1
        assert iface.drop_handlers[0].handleFileDrop(str(REPO / "metadata.txt")) is False
        assert len(plugin_logger.handlers) == len(handlers_before) + 1

        plugin.unload()
        assert "arcgisofflinetiles" not in _provider_ids()
        assert iface.menu_actions == []
        assert iface.toolbar_actions == []
        assert iface.docks == []
        assert iface.drop_handlers == []
        assert iface.add_layer_actions == []
        assert plugin_logger.handlers == handlers_before


def test_plugin_logs_reach_the_qgis_message_log(qgis_iface, installed_package):
    from qgis.core import QgsApplication as App

    received = []
    App.messageLog().messageReceived.connect(lambda msg, tag, level: received.append((tag, msg)))
    plugin = installed_package.classFactory(RecordingIface(qgis_iface))
    plugin.initGui()
    try:
        logging.getLogger(f"{PACKAGE}.plugin.core.something").warning("hello from the core")
    finally:
        plugin.unload()
    assert ("ArcGIS Offline Tiles", f"{PACKAGE}.plugin.core.something: hello from the core") in received
