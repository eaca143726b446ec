"""Shared helpers of the exports tests (the exports manager against the emulator)."""
from __future__ import annotations

import pytest
from qgis.core import (
    QgsApplication,
    QgsMapRendererParallelJob,
    QgsMapSettings,
    QgsProject,
    QgsTask,
)
from qgis.PyQt.QtCore import QObject, QSize, QUrl, pyqtSlot
from qgis.PyQt.QtGui import QDesktopServices

from plugin.core.jobs import PollPolicy
from plugin.core.request import ExportRequest, area_from_wkt
from plugin.gui.exports import ExportsController, ExportState

TIMEOUT_MS = 60_000
FAST_POLL = {"poll": PollPolicy(first=0.05, factor=1.3, max=0.25, timeout=120)}
TRIANGLE = "Polygon((-8000000 -2000000, 4000000 -3000000, -1000000 6000000, -8000000 -2000000))"
SQUARE = "Polygon((-2000000 -2000000, 2000000 -2000000, 2000000 2000000, -2000000 2000000, -2000000 -2000000))"
FINAL = (ExportState.FINISHED, ExportState.FAILED, ExportState.CANCELLED, ExportState.PAUSED)


def make_request(url: str, output, *, wkt: str = TRIANGLE, rectangle: bool = False, levels=(0, 1, 2),
                 **options) -> ExportRequest:
    values = {"authcfg": "", "fmt": None, "service_name": url.rstrip("/").split("/")[-2],
              "area_label": "Test area", **options}
    return ExportRequest(service_url=url, area=area_from_wkt(wkt, rectangle), levels=tuple(levels),
                         output_path=str(output), **values)


def new_manager(iface, store, **kwargs) -> ExportsController:
    return ExportsController(iface, store_folder=store, project=QgsProject.instance(), exporter_options=FAST_POLL,
                      **kwargs)


def wait_state(qtbot, manager: ExportsController, export_id: str, states=FINAL, timeout: int = TIMEOUT_MS):
    qtbot.waitUntil(lambda: manager.view(export_id) is not None and manager.view(export_id).state in states,
                    timeout=timeout)
    return manager.view(export_id)


def wait_idle(qtbot, timeout: int = TIMEOUT_MS) -> None:
    """Every task of the task manager has finished (and its finished() has run)."""
    qtbot.waitUntil(lambda: QgsApplication.taskManager().countActiveTasks() == 0, timeout=timeout)
    qtbot.wait(50)


def messages(iface, level) -> list[str]:
    return list(iface.messageBar().get_messages(level))


def layers_named_after(view) -> list:
    project = QgsProject.instance()
    return [project.mapLayer(layer_id) for layer_id in view.layer_ids if project.mapLayer(layer_id) is not None]


def export_requests(emulator) -> list:
    return [r for r in emulator.requests if r.path.endswith("/exportTiles")]


def painted_pixels(layer) -> int:
    """Draw the layer over its extent (as the canvas would) and count the non-transparent pixels."""
    settings = QgsMapSettings()
    settings.setLayers([layer])
    settings.setDestinationCrs(layer.crs())
    settings.setExtent(layer.extent())
    settings.setOutputSize(QSize(128, 128))
    job = QgsMapRendererParallelJob(settings)
    job.start()
    job.waitForFinished()
    image = job.renderedImage()
    return sum(1 for x in range(0, 128, 4) for y in range(0, 128, 4) if image.pixelColor(x, y).alpha() > 0)


@pytest.fixture(name="exports_env")
def jobs_env_fixture(qgis_iface, qgis_new_project, tmp_path, qtbot):
    """A manager on a private export store; leftovers are paused and waited for at the end."""
    qgis_iface.messageBar().clear_messages()
    store = tmp_path / "jobs"
    managers: list[ExportsController] = []

    def factory(**kwargs) -> ExportsController:
        manager = new_manager(qgis_iface, store, **kwargs)
        managers.append(manager)
        return manager

    yield factory, store
    for manager in managers:
        manager.shutdown()
    wait_idle(qtbot)


class _UrlCatcher(QObject):
    def __init__(self) -> None:
        super().__init__()
        self.urls: list[QUrl] = []

    @pyqtSlot(QUrl)
    def open(self, url: QUrl) -> None:
        self.urls.append(QUrl(url))


@pytest.fixture(name="opened_files")
def opened_files_fixture():
    """The file URLs the plugin asks the desktop to open (folders, help), caught by a real
    ``QDesktopServices`` URL handler for the file scheme instead of a file manager."""
    catcher = _UrlCatcher()
    QDesktopServices.setUrlHandler("file", catcher, "open")
    yield catcher.urls
    QDesktopServices.unsetUrlHandler("file")


@pytest.fixture(name="qgis_sessions")
def qgis_sessions_fixture(qgis_iface, qgis_new_project, clean_plugin_settings, tmp_path, monkeypatch, qtbot):
    """``start()`` loads the plugin the way QGIS does at startup (``initGui``), over one QGIS profile
    folder of the test's own (export store, conversions): each call is the next QGIS session."""
    from plugin.plugin import ArcGISOfflineTilesPlugin
    from plugin.qgis_glue import settings

    profile = tmp_path / "profile"
    monkeypatch.setattr(settings, "profile_folder", lambda: profile)
    qgis_iface.messageBar().clearWidgets()
    started: list = []

    def start():
        plugin = ArcGISOfflineTilesPlugin(qgis_iface)
        plugin.initGui()
        started.append(plugin)
        return plugin

    yield start
    for plugin in started:
        if plugin.dock_action is not None:  # not unloaded by the test (close_qgis)
            plugin.unload()
    qgis_iface.messageBar().clearWidgets()
    wait_idle(qtbot)


def close_qgis(plugin, qtbot, *, events_before_unload: bool = False) -> None:
    """QGIS closing while exports run, in the order of QGIS 3.22 (src/app/qgisapp.cpp, main.cpp):

    1. ``QgisApp::fileExit()``: running tasks without ``CancelWithoutPrompt`` are listed in a prompt;
       with none, ``QgsTaskManager::cancelAll()`` cancels every task, while the application still runs
       (``QCoreApplication::closingDown()`` is false);
    2. the project is closed (``events_before_unload``: the "save the project?" dialog lets the tasks'
       ends be delivered first) and the event loop quits; ``~QgisApp`` unloads the plugins;
    3. ``QgsApplication::exitQgis()``: ``~QgsTaskManager`` cancels what is left and waits for it.
    """
    manager = QgsApplication.taskManager()
    asked = [t.description() for t in manager.activeTasks() if not t.flags() & QgsTask.Flag.CancelWithoutPrompt]
    assert asked == [], f"QGIS would ask about {asked} before closing"
    manager.cancelAll()
    if events_before_unload:
        wait_idle(qtbot)
    plugin.unload()
    manager.cancelAll()
    wait_idle(qtbot)
