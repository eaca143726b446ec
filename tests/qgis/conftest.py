"""Options and fixtures of the QGIS tests: ``--screenshots-dir``, and the dock driven like a user."""
from __future__ import annotations

from pathlib import Path

import pytest

WORLD_MAP = Path("/usr/share/qgis/resources/data/world_map.gpkg")


def pytest_addoption(parser):
    parser.addoption("--screenshots-dir", action="store", default=None, metavar="DIR",
                     help="render the dock and the canvas offscreen into DIR as PNG files (make screenshots)")


@pytest.fixture
def screenshots_dir(request) -> Path:
    """The folder given with ``--screenshots-dir`` (created); skips the test without it."""
    value = request.config.getoption("--screenshots-dir")
    if not value:
        pytest.skip("screenshots are rendered only with --screenshots-dir DIR (make screenshots)")
    folder = Path(value)
    if not folder.is_absolute():
        folder = Path(request.config.rootpath) / folder
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture
def clean_plugin_settings():
    """The plugin's QgsSettings emptied before and after the test (pytest-qgis keeps a settings folder)."""
    from qgis.core import QgsSettings

    QgsSettings().remove("arcgis_offline_tiles")
    yield
    QgsSettings().remove("arcgis_offline_tiles")


@pytest.fixture
def exports_manager(qgis_iface, qgis_new_project, tmp_path):
    """An exports manager on an export store of its own (no exports of earlier test runs)."""
    from qgis.core import QgsProject

    from plugin.gui.exports import ExportsController

    manager = ExportsController(qgis_iface, store_folder=tmp_path / "jobs", project=QgsProject.instance(), scan=False)
    yield manager
    manager.shutdown()


CANVAS_SIZE = (600, 400)


@pytest.fixture
def shown_canvas(qgis_canvas, qgis_parent, qgis_new_project, qtbot):
    """The test canvas on screen (offscreen platform) at 600×400 px, so pixels map to known coordinates."""
    from qgis.core import QgsCoordinateReferenceSystem, QgsProject, QgsRectangle

    QgsProject.instance().setCrs(QgsCoordinateReferenceSystem("EPSG:3857"))
    qgis_canvas.setDestinationCrs(QgsCoordinateReferenceSystem("EPSG:3857"))
    qgis_parent.resize(*CANVAS_SIZE)
    qgis_parent.show()
    qgis_canvas.resize(*CANVAS_SIZE)
    qtbot.waitUntil(lambda: qgis_canvas.mapSettings().outputSize().width() > CANVAS_SIZE[0] // 2)
    qgis_canvas.setExtent(QgsRectangle(-2e6, -1e6, 4e6, 5e6))
    yield qgis_canvas
    qgis_parent.hide()


@pytest.fixture
def dock_factory(qgis_iface, shown_canvas, qgis_new_project, clean_plugin_settings, exports_manager, qtbot):
    """Build docks on the test canvas (``make()``); every dock is unloaded and deleted afterwards."""
    from qgis.core import QgsProject

    from plugin.gui.dock import ArcGISOfflineTilesDockWidget

    qgis_canvas = shown_canvas
    made = []

    def make(manager=exports_manager):
        dock = ArcGISOfflineTilesDockWidget(qgis_iface, manager=manager, project=QgsProject.instance())
        dock.resize(340, 900)
        made.append(dock)
        return dock

    yield make
    if qgis_canvas.mapTool() is not None:  # before the docks go: the tool may be one of theirs
        qgis_canvas.unsetMapTool(qgis_canvas.mapTool())
    for dock in made:
        dock.unload()
        dock.deleteLater()
    # Delete the docks here, at the top level, as QTest::qWait does: left pending, the deletions ran
    # inside whatever event loop came next (a provider's blocking request in a later test), where
    # QGIS 3.22 crashed now and then.
    from qgis.PyQt.QtCore import QCoreApplication, QEvent

    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    QCoreApplication.processEvents()


@pytest.fixture
def dock(dock_factory):
    return dock_factory()


def connect(dock, qtbot, url: str, authcfg: str | None = None, timeout: int = 20000) -> None:
    """Type ``url`` (and pick ``authcfg``), press Connect, wait for the summary or a message."""
    from qgis.PyQt.QtCore import Qt

    dock.ui.urlCombo.setEditText(url)
    if authcfg is not None:
        dock.ui.authSelect.setConfigId(authcfg)
    before = dock.service
    qtbot.mouseClick(dock.ui.connectButton, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dock.ui.connectButton.isEnabled() and (dock.service is not before
                                                                    or bool(dock.message_text())), timeout=timeout)


def basic_auth_config(username: str = "analyst", password: str = "field-work-2026", name: str = "emulator analyst"):
    """A Basic auth config in QGIS's authentication database; returns its id."""
    from qgis.core import QgsApplication, QgsAuthMethodConfig

    manager = QgsApplication.authManager()
    if not manager.masterPasswordIsSet():
        manager.setMasterPassword("tests-master-password", True)
    config = QgsAuthMethodConfig("Basic")
    config.setName(name)
    config.setConfig("username", username)
    config.setConfig("password", password)
    result = manager.storeAuthenticationConfig(config)
    assert result[0] if isinstance(result, tuple) else result
    return config.id()


@pytest.fixture
def countries(qgis_new_project):
    """The countries of QGIS's world map, in the project."""
    from qgis.core import QgsProject, QgsVectorLayer

    if not WORLD_MAP.exists():
        pytest.skip(f"{WORLD_MAP} is not installed")
    layer = QgsVectorLayer(f"{WORLD_MAP}|layername=countries", "countries", "ogr")
    assert layer.isValid()
    QgsProject.instance().addMapLayer(layer)
    return layer


@pytest.fixture(scope="module")
def processing_provider(qgis_processing):
    """The plugin's Processing provider, registered for the module and removed afterwards (the plugin
    lifecycle test checks the registry holds no provider of ours)."""
    from qgis.core import QgsApplication

    from plugin.processing.provider import ArcGISOfflineTilesProvider

    registry = QgsApplication.processingRegistry()
    provider = registry.providerById("arcgisofflinetiles")
    added = provider is None
    if added:
        provider = ArcGISOfflineTilesProvider()
        registry.addProvider(provider)
    yield provider
    if added:
        registry.removeProvider(provider)
