"""The plugin loads in QGIS under its installed name and unloads without leaving anything behind."""
from __future__ import annotations

import importlib
import json
import logging
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from qgis.core import QgsApplication, QgsSettings
from qgis.PyQt.QtCore import QUrl
from qgis.PyQt.QtWidgets import QAction, QDockWidget

from tests.qgis.exports_helpers import opened_files_fixture  # noqa: F401 - the opened_files fixture

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
    _forget_package()


def _forget_package() -> None:
    for name in [n for n in sys.modules if n == PACKAGE or n.startswith(PACKAGE + ".")]:
        del sys.modules[name]


def build_zip(zip_path: Path, **env: str) -> subprocess.CompletedProcess:
    """``make package`` into ``zip_path`` (``env`` adds variables such as LRELEASE)."""
    if shutil.which("zip") is None:
        pytest.skip("zip is not installed (make deps)")
    return subprocess.run(["bash", str(REPO / "scripts/package.sh"), str(zip_path)], cwd=REPO, capture_output=True,
                          text=True, env={**os.environ, **env}, check=False)


@pytest.fixture
def packaged_plugin(tmp_path, monkeypatch):
    """The zip of ``make package``, unpacked into a plugins folder and imported the way QGIS does."""
    zip_path = tmp_path / "plugin.zip"
    done = build_zip(zip_path)
    assert done.returncode == 0, done.stderr
    plugins = tmp_path / "plugins"
    with zipfile.ZipFile(zip_path) as archive:
        names = archive.namelist()
        archive.extractall(plugins)
    monkeypatch.syspath_prepend(str(plugins))
    _forget_package()
    yield plugins / PACKAGE, names, importlib.import_module(PACKAGE)
    _forget_package()


@pytest.fixture
def german_user_interface():
    """QGIS's user interface language set to German (what the plugin's translator follows)."""
    settings = QgsSettings()
    before = settings.value("locale/userLocale", None)
    settings.setValue("locale/userLocale", "de_DE")
    yield
    if before is None:
        settings.remove("locale/userLocale")
    else:
        settings.setValue("locale/userLocale", before)


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
        assert iface.docks == []  # built on first use
        iface.toolbar_actions[0].trigger()  # the user opens it
        assert len(iface.docks) == 1 and plugin.dock is iface.docks[0]
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

    def on_message(msg, tag, _level):
        received.append((tag, msg))

    App.messageLog().messageReceived.connect(on_message)
    plugin = installed_package.classFactory(RecordingIface(qgis_iface))
    plugin.initGui()
    try:
        logging.getLogger(f"{PACKAGE}.plugin.core.something").warning("hello from the core")
    finally:
        plugin.unload()
        App.messageLog().messageReceived.disconnect(on_message)
    assert ("ArcGIS Offline Tiles", f"{PACKAGE}.plugin.core.something: hello from the core") in received


def test_the_plugin_zip_speaks_german_and_opens_its_own_help(qgis_iface, packaged_plugin, german_user_interface,
                                                            opened_files):
    root, names, package = packaged_plugin
    assert f"{PACKAGE}/i18n/arcgis_offline_tiles_de.qm" in names
    assert f"{PACKAGE}/help/index.html" in names and f"{PACKAGE}/help/images/dock_levels.png" in names
    page = (root / "help" / "index.html").read_text(encoding="utf-8")
    assert "Point at the service" in page and "make deploy" not in page  # the analysts' guide, not the README

    plugin = package.classFactory(RecordingIface(qgis_iface))
    plugin.initGui()
    try:
        plugin.dock_action.trigger()
        assert plugin.dock.ui.connectButton.text() == "&Verbinden"  # the .qm compiled into the zip
        assert plugin.dock.ui.helpButton.text() == "&Hilfe"
        plugin.dock.ui.helpButton.click()
    finally:
        plugin.unload()
    # the page on disk, for analysts work offline
    assert opened_files == [QUrl.fromLocalFile(str(root / "help" / "index.html"))]


def test_packaging_stops_with_a_clear_message_when_translations_cannot_be_compiled(tmp_path):
    broken = tmp_path / "lrelease"
    broken.write_text("#!/bin/sh\necho 'lrelease error: Parse error' >&2\nexit 1\n")
    broken.chmod(0o755)
    zip_path = tmp_path / "plugin.zip"
    done = build_zip(zip_path, LRELEASE=str(broken))
    assert done.returncode != 0
    assert "lrelease could not compile i18n/arcgis_offline_tiles_de.ts" in done.stderr
    assert not zip_path.exists()

    done = build_zip(zip_path, LRELEASE=str(tmp_path / "not-installed"))
    assert done.returncode != 0
    assert "lrelease (Qt Linguist tools) was not found" in done.stderr and "qttools5-dev-tools" in done.stderr
    assert not zip_path.exists()


LOAD_AND_LIST_MODULES = """
import json, sys
from unittest.mock import MagicMock
from qgis.core import QgsApplication
from qgis.gui import QgsMapCanvas, QgsMessageBar
from qgis.PyQt.QtWidgets import QMainWindow

app = QgsApplication([], True)
app.initQgis()


class Iface:  # what initGui calls on QGIS's interface; the rest answers with mocks
    def __init__(self):
        self.window = QMainWindow()
        self.canvas = QgsMapCanvas(self.window)
        self.bar = QgsMessageBar(self.window)

    def mainWindow(self):
        return self.window

    def mapCanvas(self):
        return self.canvas

    def messageBar(self):
        return self.bar

    def __getattr__(self, name):
        return MagicMock()


iface = Iface()
sys.path.insert(0, sys.argv[1])
before = set(sys.modules)
import arcgis_offline_tiles

plugin = arcgis_offline_tiles.classFactory(iface)
plugin.initGui()
loaded = sorted(set(sys.modules) - before)
app.processEvents()  # the start-up check for exports of earlier sessions (an empty profile here)
print(json.dumps({"init_gui": loaded, "dock": plugin.dock is not None}))
plugin.unload()
"""


def test_starting_qgis_imports_neither_the_engine_nor_the_dock(tmp_path):
    """initGui runs at every QGIS start: requests, the network engine, the package code and the dock
    are imported when first used, not then."""
    (tmp_path / PACKAGE).symlink_to(REPO, target_is_directory=True)
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "HOME": str(tmp_path)}
    done = subprocess.run([sys.executable, "-c", LOAD_AND_LIST_MODULES, str(tmp_path)], capture_output=True,
                          text=True, env=env, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout.strip().splitlines()[-1])
    loaded = report["init_gui"]
    plugin_modules = {name.split(".plugin.", 1)[1] for name in loaded if ".plugin." in name}
    assert "requests" not in loaded and "urllib3" not in loaded
    heavy = {"core.http", "core.export", "core.jobs", "core.download", "core.service", "core.area",
             "core.packages", "core.tilecache", "qgis_glue.engine", "qgis_glue.layers", "gui.dock",
             "tasks.export_task"}
    assert plugin_modules & heavy == set(), sorted(plugin_modules)
    assert {"plugin", "processing.provider", "gui.drop_handler"} <= plugin_modules  # it did load
    assert report["dock"] is False  # no export to offer: the dock waits for the user
