"""Render views of vector packages with QGIS through the plugin's opener (``bench_render``'s QGIS side).

    QT_QPA_PLATFORM=offscreen python -m bench.render_qgis PLAN.json OUT_DIR

``PLAN.json``: ``{"packages": {name: path}, "views": [{"id", "package", "lon", "lat", "zoom",
"width", "height"}]}``.  Each package is opened once with ``open_package_layer`` exactly as a user's
drop does (QGIS 3.22: converted to MBTiles; QGIS >= 3.32: the native vtpk source), each view is drawn
at 96 dpi in EPSG:3857 on white into ``OUT_DIR/<id>.png``; ``OUT_DIR/qgis.json`` tells the QGIS
version and each layer's provider.  Runs on the host (3.22) and in the QGIS 3.40 chroot alike.
"""
from __future__ import annotations

import json
import math
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

EARTH_RADIUS = 6378137.0
WM_HALF = math.pi * EARTH_RADIUS
TILE_PX = 512  # MapLibre's zoom is the zoom of 512 px tiles (vector tile packages' LOD 0)
DPI = 96


def view_rect(lon: float, lat: float, zoom: float, width: int, height: int) -> tuple[float, float, float, float]:
    """The EPSG:3857 rectangle MapLibre shows at (lon, lat, zoom) in a width × height map."""
    x = math.radians(lon) * EARTH_RADIUS
    y = math.log(math.tan(math.pi / 4 + math.radians(lat) / 2)) * EARTH_RADIUS
    resolution = 2 * WM_HALF / (TILE_PX * 2 ** zoom)
    half_w, half_h = width / 2 * resolution, height / 2 * resolution
    return x - half_w, y - half_h, x + half_w, y + half_h


def main(argv: list[str]) -> int:
    plan = json.loads(Path(argv[0]).read_text(encoding="utf-8"))
    out_dir = Path(argv[1])
    out_dir.mkdir(parents=True, exist_ok=True)

    from qgis.core import (
        Qgis,
        QgsApplication,
        QgsCoordinateReferenceSystem,
        QgsExpressionContext,
        QgsExpressionContextUtils,
        QgsMapRendererSequentialJob,
        QgsMapSettings,
        QgsProject,
        QgsRectangle,
    )
    from qgis.PyQt.QtCore import QSize, Qt
    from qgis.PyQt.QtGui import QColor

    app = QgsApplication([], False)
    app.initQgis()
    from plugin.qgis_glue.layers import open_package_layer

    meta: dict = {"qgis": Qgis.QGIS_VERSION, "layers": {}, "views": {}}
    layers = {}
    for name, path in plan["packages"].items():
        started = time.perf_counter()
        layer = open_package_layer(path, cache_dir=out_dir / "cache")
        layers[name] = layer
        meta["layers"][name] = {"provider": layer.providerType(), "source": layer.source(),
                                "open_seconds": round(time.perf_counter() - started, 2)}
    for view in plan["views"]:
        settings = QgsMapSettings()
        settings.setLayers([layers[view["package"]]])
        settings.setDestinationCrs(QgsCoordinateReferenceSystem("EPSG:3857"))
        settings.setExtent(QgsRectangle(*view_rect(view["lon"], view["lat"], view["zoom"],
                                                   view["width"], view["height"])))
        settings.setOutputSize(QSize(view["width"], view["height"]))
        settings.setOutputDpi(DPI)
        settings.setBackgroundColor(QColor(Qt.GlobalColor.white))
        settings.setFlag(QgsMapSettings.Flag.Antialiasing, True)
        # the scopes the map canvas gives its renders (map scale and extent for expressions)
        context = QgsExpressionContext()
        context.appendScope(QgsExpressionContextUtils.globalScope())
        context.appendScope(QgsExpressionContextUtils.projectScope(QgsProject.instance()))
        context.appendScope(QgsExpressionContextUtils.mapSettingsScope(settings))
        settings.setExpressionContext(context)
        started = time.perf_counter()
        job = QgsMapRendererSequentialJob(settings)
        job.start()
        job.waitForFinished()
        job.renderedImage().save(str(out_dir / f"{view['id']}.png"), "PNG")
        meta["views"][view["id"]] = {"seconds": round(time.perf_counter() - started, 3),
                                     "errors": [e.message for e in job.errors()]}
    (out_dir / "qgis.json").write_text(json.dumps(meta, indent=1), encoding="utf-8")
    layers.clear()
    app.exitQgis()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
