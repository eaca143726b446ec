"""A native vtpk layer draws level N at level N's own resolution, as MapLibre and ArcGIS draw it, also
after its project is saved and opened again.

QGIS >= 3.26 reads a .vtpk with Esri's scale-to-zoom rule, which floors, and Esri's level scales lie
2e-6 below the scale QGIS computes for the level's resolution: uncorrected, the layer draws level N-1
there (coarser tiles, the style at the wrong zoom).  QGIS 3.22 has no such rule (and no native vtpk):
these tests run in the 3.40 and 3.44 legs.
"""
from __future__ import annotations

import math
import shutil

import pytest
from qgis.core import Qgis, QgsCoordinateReferenceSystem, QgsMapSettings, QgsProject, QgsRectangle, QgsVectorTileLayer
from qgis.PyQt.QtCore import QSize

from plugin.plugin import ArcGISOfflineTilesPlugin
from plugin.qgis_glue.layers import level_scales_inclusive, native_vtpk_supported, open_package_layer
from tests.conftest import require_shared

pytestmark = pytest.mark.skipif(
    not hasattr(Qgis, "ScaleToTileZoomLevelMethod") or not native_vtpk_supported(),
    reason="QGIS before 3.26 has no Esri zoom rule (and opens a .vtpk converted)")

WEB_MERCATOR_WIDTH = 2 * math.pi * 6378137.0
TILE_PX = 512  # Esri's vector tiles, and MapLibre's zoom
LEVELS = (3, 6, 9, 12)


def map_scale_at_level(zoom: int) -> float:
    """The scale of a 96 dpi map whose pixels are level ``zoom``'s pixels (MapLibre's zoom ``zoom``)."""
    resolution = WEB_MERCATOR_WIDTH / (TILE_PX * 2 ** zoom)
    settings = QgsMapSettings()
    settings.setOutputSize(QSize(640, 400))
    settings.setOutputDpi(96)
    settings.setDestinationCrs(QgsCoordinateReferenceSystem("EPSG:3857"))
    settings.setExtent(QgsRectangle(-320 * resolution, -200 * resolution, 320 * resolution, 200 * resolution))
    return settings.scale()


def drawn_levels(layer: QgsVectorTileLayer) -> list[int]:
    matrices = layer.tileMatrixSet()
    return [matrices.scaleToZoomLevel(map_scale_at_level(zoom)) for zoom in LEVELS]


@pytest.fixture
def dodge_vtpk(tmp_path):
    target = tmp_path / "dodge.vtpk"
    shutil.copy(require_shared() / "packages" / "esri_runtime_android_dodge_city.vtpk", target)
    return target


def test_the_opener_draws_each_level_at_its_own_resolution(dodge_vtpk, qgis_new_project):
    plain = QgsVectorTileLayer(f"type=vtpk&url={dodge_vtpk}", "plain")
    assert plain.isValid()
    assert drawn_levels(plain) == [zoom - 1 for zoom in LEVELS]  # what QGIS alone draws
    layer = open_package_layer(dodge_vtpk, native=True)
    assert drawn_levels(layer) == list(LEVELS)
    assert level_scales_inclusive(layer) == 0  # once: a second call does not widen them again
    assert drawn_levels(layer) == list(LEVELS)


def test_a_saved_project_reopens_drawing_the_same_levels(dodge_vtpk, tmp_path, qgis_iface, qgis_new_project):
    plugin = ArcGISOfflineTilesPlugin(qgis_iface)
    plugin.initGui()
    try:
        project = QgsProject.instance()
        project.addMapLayer(open_package_layer(dodge_vtpk, native=True))
        path = tmp_path / "field.qgz"
        assert project.write(str(path))
        project.clear()
        assert project.read(str(path))
        (layer,) = project.mapLayers().values()
        assert drawn_levels(layer) == list(LEVELS)
    finally:
        plugin.unload()
    # without the plugin QGIS rebuilds the tile matrix from the package and the correction is gone
    QgsProject.instance().clear()
    assert QgsProject.instance().read(str(path))
    (layer,) = QgsProject.instance().mapLayers().values()
    assert drawn_levels(layer) == [zoom - 1 for zoom in LEVELS]
