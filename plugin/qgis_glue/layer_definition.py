"""A converted vector package opens styled in any QGIS, with or without this plugin: a ``.qlr`` beside it.

QGIS does not apply a ``.qml`` beside an ``.mbtiles`` (a vector tile layer's source is a URI, not a
file path, so QGIS never looks for one), but a QGIS layer definition (``.qlr``) carries the layer's
source and its whole style — renderer rules, label rules, sprite icons embedded — and opens the same
on QGIS 3.22 and 3.40 (drag it onto the map, or *Layer ▸ Add from Layer Definition File*).  Its
source path is written relative to the ``.qlr``, so the pair can be moved together.
"""
from __future__ import annotations

import logging
from pathlib import Path

from qgis.core import QgsLayerDefinition, QgsLayerTreeLayer, QgsMapLayer

log = logging.getLogger(__name__)

QLR_SUFFIX = ".qlr"


def layer_definition_path(converted: str) -> Path:
    """``basemap.mbtiles`` → ``basemap.qlr``."""
    return Path(converted).with_suffix(QLR_SUFFIX)


def write_layer_definition(layer: QgsMapLayer, converted: str) -> Path | None:
    """Write ``layer`` (styled) as a ``.qlr`` beside ``converted`` unless an up-to-date one is there.

    Main thread (it reads the layer's style).  A definition that cannot be written costs only the
    look elsewhere, so it is logged, never raised.
    """
    target = layer_definition_path(converted)
    try:
        if target.is_file() and target.stat().st_mtime >= Path(converted).stat().st_mtime:
            return target
    except OSError:
        pass
    ok, error = QgsLayerDefinition.exportLayerDefinition(str(target), [QgsLayerTreeLayer(layer)])
    if not ok:
        log.warning("The style of %s could not be kept in %s: %s", converted, target, error)
        return None
    return target
