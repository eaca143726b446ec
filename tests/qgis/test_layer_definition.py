"""The ``.qlr`` written beside a converted vector package leaves nothing attached to the layer."""
from __future__ import annotations

from qgis.core import QgsLayerDefinition, QgsVectorTileLayer

from plugin.qgis_glue.layer_definition import write_layer_definition


def test_writing_a_layer_definition_leaves_no_node_listening_to_the_layer(tmp_path, qgis_new_project):
    # QGIS's own exportLayerDefinition kept a clone of the tree node connected to the layer: written from
    # a task's thread, a later rename queued an event there that crashed QGIS once the layer was gone.
    converted = tmp_path / "basemap.mbtiles"
    converted.write_bytes(b"")
    layer = QgsVectorTileLayer(f"type=mbtiles&url={converted}", "basemap")
    listening = layer.receivers(layer.nameChanged)
    qlr = write_layer_definition(layer, str(converted))
    assert qlr == tmp_path / "basemap.qlr"
    assert layer.receivers(layer.nameChanged) == listening

    loaded = QgsLayerDefinition.loadLayerDefinitionLayers(str(qlr))
    assert [(found.name(), found.source()) for found in loaded] == [("basemap", layer.source())]
    text = qlr.read_text(encoding="utf-8")
    assert "<layer-tree-layer" in text and "./basemap.mbtiles" in text  # in the legend, source relative
