"""Main-thread stalls during a whole export driven by the exports manager (the QGIS window never freezes).

A local emulator serves ``World_Map/MapServer``; the :class:`~plugin.gui.exports.ExportsController` exports a
polygon at levels 0-9 (≥ 5,000 tiles) with everything a user gets: the server job, the download,
the conversion for QGIS (GDAL < 3.8 cannot read ``.tpkx``), the layer added to the project and drawn
on a shown map canvas, the message bar note, and the dock open at its exports, its area adjusted
every RECOUNT_MS during the export so that it counts again (quickly on the main thread, deep levels
exactly in the background).  Meanwhile a
10 ms ``QTimer`` on the main thread records how late each tick is: a late tick is a moment the
window could not repaint or react.

Figures: ``ui_max_stall_ms`` (target < 50), ``ui_p99_stall_ms``, ``ui_stall_tiles`` (tiles exported),
``ui_stall_seconds`` (wall time of the export, from the click to the layer on the map), and under
``ui_stall`` the worst ticks with the export's status at that moment.

The emulator (``arcgis_emulator.emulator.Emulator``) runs in a child process at a lower CPU priority,
as a real server runs on another machine: in this process its threads would share the interpreter's
GIL with QGIS, and on a small machine its package building would take the CPU from the main thread,
and either would be counted as the plugin's stall.  The same export with the emulator in this process
is measured too and reported under ``ui_stall.emulator_in_process`` for comparison.  The emulator cuts
the deep levels' tiles on first use and caches them, so one unmeasured export warms it up first.
Other processes on the machine add noise of their own: compare runs, not single ticks.
"""
from __future__ import annotations

import atexit
import contextlib
import multiprocessing
import os
import shutil
import statistics
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

TICK_MS = 10
DOCK_EXACT_ROWS = 4  # the dock counts levels deeper than this many tile rows in the background
RECOUNT_MS = 250  # the area changes this often during the export (the user adjusting it): counts restart
LEVELS = tuple(range(10))
# A polygon over Europe and North Africa (Web Mercator): 5,652 tiles at levels 0-9.
POLYGON = ("Polygon((-1000000 4000000, 3500000 3600000, 4000000 8000000, 1000000 9500000, "
           "-1500000 7500000, -1000000 4000000))")
TIMEOUT_S = 600
EMULATOR_START_S = 300  # the first start on a machine renders the sample cache
SETTLE_S = 1.0  # keep measuring after the layer is added: the canvas draws it
WORST = 10

_APP = None  # the QgsApplication this module created (kept alive)


def _application():
    global _APP
    from qgis.core import QgsApplication

    app = QgsApplication.instance()
    if app is None:
        profile = Path(tempfile.mkdtemp(prefix="aot-bench-profile-"))
        atexit.register(shutil.rmtree, profile, ignore_errors=True)
        os.environ.setdefault("QGIS_CUSTOM_CONFIG_PATH", str(profile))
        app = QgsApplication([], True, str(profile))
        app.initQgis()
        _APP = app
    return app


class _Iface:
    """What the exports controller and the dock need from QGIS' interface: a message bar, a map canvas,
    the current layer."""

    def __init__(self) -> None:
        from qgis.gui import QgsMapCanvas, QgsMessageBar
        from qgis.PyQt.QtCore import QObject, pyqtSignal
        from qgis.PyQt.QtWidgets import QMainWindow, QVBoxLayout, QWidget

        class Signals(QObject):
            currentLayerChanged = pyqtSignal(object)

        self._signals = Signals()
        self.currentLayerChanged = self._signals.currentLayerChanged

        self.window = QMainWindow()
        central = QWidget()
        layout = QVBoxLayout(central)
        self.bar = QgsMessageBar()
        self.canvas = QgsMapCanvas()
        layout.addWidget(self.bar)
        layout.addWidget(self.canvas)
        self.window.setCentralWidget(central)
        self.window.resize(1000, 700)

    def messageBar(self):
        return self.bar

    def mapCanvas(self):
        return self.canvas

    def mainWindow(self):
        return self.window

    def activeLayer(self):
        return None


class _StallMeter:
    """A 10 ms timer on the main thread; records how late every tick is."""

    def __init__(self, status) -> None:
        from qgis.PyQt.QtCore import Qt, QTimer

        self.status = status
        self.timer = QTimer()
        self.timer.setTimerType(Qt.TimerType.PreciseTimer)
        self.timer.setInterval(TICK_MS)
        self.timer.timeout.connect(self._tick)
        self.late: list[float] = []
        self.worst: list[tuple[float, float, str]] = []
        self._last = 0.0
        self._started = 0.0

    def start(self) -> None:
        self._started = self._last = time.perf_counter()
        self.timer.start()

    def stop(self) -> None:
        self.timer.stop()

    def _tick(self) -> None:
        now = time.perf_counter()
        late = max(0.0, (now - self._last) * 1000.0 - TICK_MS)
        self._last = now
        self.late.append(late)
        if late > 5.0:
            self.worst.append((late, now - self._started, self.status()))
            self.worst.sort(reverse=True)
            del self.worst[WORST:]


def _serve_emulator(conn, work_dir: str) -> None:
    """Child process: an :class:`Emulator` answering ``("configure", key, options)`` / ``("stop",)``."""
    from arcgis_emulator.emulator import Emulator

    # A real server is another machine: on a small CI box the emulator's package building must not
    # take the CPU from QGIS' main thread, or the scheduler's delays would be measured as stalls.
    with contextlib.suppress(OSError, AttributeError):
        os.nice(10)
    emulator = Emulator(work_dir=work_dir)
    emulator.start()
    conn.send(emulator.service_url("World_Map", "MapServer"))
    try:
        while True:
            command = conn.recv()
            if command[0] == "configure":
                emulator.configure(command[1], **command[2])
                conn.send(True)
            else:
                break
    finally:
        emulator.stop()


class _ChildEmulator:
    """The emulator in a child process (spawned: no fork of a running Qt application)."""

    def __init__(self, work_dir: Path) -> None:
        context = multiprocessing.get_context("spawn")
        self.conn, child = context.Pipe()
        self.process = context.Process(target=_serve_emulator, args=(child, str(work_dir)), daemon=True)
        self.process.start()
        if not self.conn.poll(EMULATOR_START_S):
            raise RuntimeError("the emulator process did not start")
        self.url = self.conn.recv()

    def configure(self, key: str, **options) -> None:
        self.conn.send(("configure", key, options))
        self.conn.recv()

    def stop(self) -> None:
        with contextlib.suppress(OSError):
            self.conn.send(("stop",))
        self.process.join(10)
        if self.process.is_alive():
            self.process.terminate()


class _LocalEmulator:
    def __init__(self, work_dir: Path) -> None:
        from arcgis_emulator.emulator import Emulator

        self.emulator = Emulator(work_dir=work_dir)
        self.emulator.start()
        self.url = self.emulator.service_url("World_Map", "MapServer")

    def configure(self, key: str, **options) -> None:
        self.emulator.configure(key, **options)

    def stop(self) -> None:
        self.emulator.stop()


def _p99(values: list[float]) -> float:
    if len(values) < 2:
        return values[0] if values else 0.0
    return statistics.quantiles(values, n=100, method="inclusive")[98]


def run(out_dir: Path) -> dict:
    _application()
    work = Path(tempfile.mkdtemp(prefix="bench_ui_stall-", dir=out_dir))
    try:
        figures = _measure(work / "child", _ChildEmulator)
        local = _measure(work / "local", _LocalEmulator)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    figures["ui_stall"]["emulator_in_process"] = {
        "max_ms": local["ui_max_stall_ms"], "p99_ms": local["ui_p99_stall_ms"],
        "seconds": local["ui_stall_seconds"], "worst": local["ui_stall"]["worst"][:3]}
    return figures


def _measure(work: Path, emulator_class) -> dict:
    """One export of POLYGON at LEVELS through the exports manager, timed on the main thread."""
    app = _application()
    from qgis.core import QgsCoordinateReferenceSystem, QgsGeometry, QgsProject, QgsRectangle
    from qgis.PyQt.QtCore import QEventLoop, QTimer

    from plugin.core.export import Exporter
    from plugin.core.http import create_session
    from plugin.core.request import ExportRequest, area_from_wkt
    from plugin.core.tilecount import count_tiles
    from plugin.gui.dock import ArcGISOfflineTilesDockWidget
    from plugin.gui.exports import ExportsController, ExportState
    from plugin.gui.panels import counts

    work.mkdir(parents=True)
    emulator = emulator_class(work / "emulator")
    manager = None
    try:
        url = emulator.url
        area = area_from_wkt(POLYGON, False)
        exporter = Exporter(create_session())
        service = exporter.fetch(url)
        tiles = sum(count_tiles(service.tiling, area, LEVELS).values())
        emulator.configure("World_Map/MapServer", max_export_tiles=max(tiles, 100_000))
        # warm-up (not measured): the emulator cuts and caches the deep tiles on first use
        exporter.run(exporter.prepare(service, area, LEVELS), work / "warmup.tpkx")
        (work / "warmup.tpkx").unlink()

        iface = _Iface()
        project = QgsProject.instance()
        project.removeAllMapLayers()
        canvas = iface.canvas
        canvas.setDestinationCrs(QgsCoordinateReferenceSystem("EPSG:3857"))
        canvas.setExtent(QgsRectangle(*area.bbox))

        def show_layers(layers) -> None:  # what QGIS' layer tree bridge does: draw what is added
            canvas.setLayers(list(layers) + canvas.layers())
            canvas.refresh()

        project.layersAdded.connect(show_layers)
        iface.window.show()
        manager = ExportsController(iface, store_folder=work / "jobs", project=project, scan=False)
        # The dock is open beside the export, as the user has it: the service connected, the polygon
        # drawn, every level ticked, the deep levels being counted exactly in the background while the
        # export runs (DOCK_EXACT_ROWS makes them deep enough to last).
        counts.MAX_EXACT_ROWS = DOCK_EXACT_ROWS
        dock = ArcGISOfflineTilesDockWidget(iface, manager=manager, project=project)
        dock.resize(300, 900)
        dock.show()
        dock.set_service(service)
        dock.area.set_polygon(QgsGeometry.fromWkt(POLYGON), QgsCoordinateReferenceSystem("EPSG:3857"))
        dock.model.set_checked_levels(dock.model.levels)
        dock.recount_now()
        dock.show_exports()
        app.processEvents()
        # The user's map was drawn before they clicked Export: the canvas' first render (PROJ and the
        # renderer set up once per application) is not part of the export.
        canvas.refresh()
        canvas.waitWhileRendering()
        app.processEvents()
        export_id = ""

        def status() -> str:
            view = manager.view(export_id) if export_id else None
            return f"{view.state}: {view.status}" if view is not None else "starting"

        meter = _StallMeter(status)
        loop = QEventLoop()
        finished_at: list[float] = []

        def on_finished(*_args) -> None:
            finished_at.append(time.perf_counter())
            QTimer.singleShot(int(SETTLE_S * 1000), loop.quit)

        manager.exportFinished.connect(on_finished)
        manager.exportFailed.connect(lambda *_: loop.quit())
        QTimer.singleShot(TIMEOUT_S * 1000, loop.quit)
        request = ExportRequest(service_url=url, authcfg="", area=area_from_wkt(POLYGON),
                                levels=LEVELS, fmt=None, output_path=str(work / "europe.tpkx"),
                                service_name="World_Map", area_label="Drawn polygon, 5 vertices")
        meter.start()
        started = time.perf_counter()
        export_id = manager.start_export(request)
        counting_seen: list[bool] = []

        def adjust_area() -> None:  # the dock recounts on the main thread, then exactly in the background
            counting_seen.append(dock.counting)
            dock.area.set_polygon(QgsGeometry.fromWkt(POLYGON), QgsCoordinateReferenceSystem("EPSG:3857"))

        recount = QTimer()
        recount.setInterval(RECOUNT_MS)
        recount.timeout.connect(adjust_area)
        recount.start()
        loop.exec()
        recount.stop()
        meter.stop()
        view = manager.view(export_id)
        if view is None or view.state != ExportState.FINISHED or not finished_at:
            raise RuntimeError(f"the export did not finish: {view}")
        layer = project.mapLayer(view.layer_ids[0]) if view.layer_ids else None
        if layer is None or not layer.isValid():
            raise RuntimeError("the exported layer was not added to the map")
        figures = {
            "ui_max_stall_ms": round(max(meter.late), 1),
            "ui_p99_stall_ms": round(_p99(meter.late), 1),
            "ui_stall_tiles": tiles,
            "ui_stall_seconds": round(finished_at[0] - started, 2),
            "ui_stall": {
                "dock_recounts": len(counting_seen),
                "dock_counting_when_recounting": sum(counting_seen),
                "ticks": len(meter.late),
                "median_late_ms": round(statistics.median(meter.late), 2),
                "worst": [{"late_ms": round(late, 1), "at_s": round(at, 2), "status": text}
                          for late, at, text in meter.worst],
                "package_bytes": Path(view.output_paths[0]).stat().st_size,
                "outputs": [Path(p).name for p in view.output_paths],
                "layer": Path(layer.source()).name,
                "target_max_stall_ms": 50,
            },
        }
        project.layersAdded.disconnect(show_layers)
        project.removeAllMapLayers()
        dock.unload()
        dock.close()
        iface.window.close()
        app.processEvents()
        return figures
    finally:
        if manager is not None:
            manager.shutdown()
        emulator.stop()
