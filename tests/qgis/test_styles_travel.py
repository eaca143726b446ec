"""A converted vector package opens with its full style in a QGIS that does not have this plugin."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from plugin.core.packages.style_export import style_folder_for
from plugin.qgis_glue.layer_definition import layer_definition_path
from plugin.qgis_glue.layers import open_package_layer
from tests.conftest import require_shared
from tests.unit.packages.test_style_export import _styled_vtpk, assert_style_is_complete

# Run by a plain interpreter: QGIS only, nothing of this plugin is imported or on sys.path.
PLAIN_QGIS = r"""
import json, sys
from qgis.core import QgsApplication, QgsLayerDefinition, QgsProject
app = QgsApplication([], False)
app.initQgis()
project = QgsProject()
ok, error = QgsLayerDefinition.loadLayerDefinition(sys.argv[1], project, project.layerTreeRoot())
layer = next(iter(project.mapLayers().values()), None)
labeling = layer.labeling() if layer is not None else None
print(json.dumps({"ok": ok, "error": error, "valid": bool(layer and layer.isValid()),
                  "source": layer.source() if layer else "",
                  "renderer_rules": len(layer.renderer().styles()) if layer else 0,
                  "label_rules": len(labeling.styles()) if labeling is not None else 0,
                  "plugin_loaded": any(m.startswith(("plugin", "arcgis_offline_tiles")) for m in sys.modules)}))
app.exitQgis()
"""


def open_without_the_plugin(qlr: Path, cwd: Path) -> dict:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "PYTHONPATH": ""}
    done = subprocess.run([sys.executable, "-c", PLAIN_QGIS, str(qlr)], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def _labelled_vtpk(tmp_path: Path) -> Path:
    return _styled_vtpk(tmp_path / "labelled.vtpk")


@pytest.mark.parametrize("which", ["synthetic", "real"])
def test_converted_vtpk_opens_styled_without_the_plugin(which, tmp_path, qgis_new_project):
    if which == "real":
        src = tmp_path / "dodge.vtpk"
        shutil.copy(require_shared() / "packages" / "esri_runtime_android_dodge_city.vtpk", src)
    else:
        src = _labelled_vtpk(tmp_path)
    layer = open_package_layer(src, native=False)  # the plugin's opener: converts and styles
    converted = Path(layer.customProperty("arcgis_offline_tiles/converted"))
    rules = len(layer.renderer().styles())
    labels = len(layer.labeling().styles()) if layer.labeling() is not None else 0
    assert rules >= 1 and (which == "real" or labels >= 1)

    # the pair moves together: the .qlr names its MBTiles relative to itself
    moved = tmp_path / "field"
    moved.mkdir()
    for item in (converted, layer_definition_path(str(converted))):
        shutil.move(str(item), moved / item.name)
    seen = open_without_the_plugin(moved / layer_definition_path(str(converted)).name, cwd=tmp_path)
    assert seen["ok"] and seen["valid"] and not seen["plugin_loaded"], seen
    assert str(moved / converted.name) in seen["source"]
    assert (seen["renderer_rules"], seen["label_rules"]) == (rules, labels)


def test_the_maplibre_style_beside_the_conversion_is_complete(tmp_path, qgis_new_project):
    layer = open_package_layer(_labelled_vtpk(tmp_path), native=False)
    converted = Path(layer.customProperty("arcgis_offline_tiles/converted"))
    assert_style_is_complete(style_folder_for(converted) / "style.json", converted)
