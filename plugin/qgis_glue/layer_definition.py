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

from qgis.core import QgsLayerTreeGroup, QgsLayerTreeLayer, QgsMapLayer, QgsPathResolver, QgsReadWriteContext
from qgis.PyQt import sip
from qgis.PyQt.QtXml import QDomDocument

log = logging.getLogger(__name__)

QLR_SUFFIX = ".qlr"
QLR_INDENT = 2  # as QGIS writes its own .qlr


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
    try:
        target.write_text(layer_definition_xml(layer, target), encoding="utf-8")
    except OSError as exc:
        log.warning("The style of %s could not be kept in %s: %s", converted, target, exc)
        return None
    return target


def layer_definition_xml(layer: QgsMapLayer, target: Path) -> str:
    """The ``.qlr`` document of ``layer`` (its tree entry and the layer), sources relative to ``target``.

    Written here rather than by ``QgsLayerDefinition.exportLayerDefinition``: QGIS 3.22 clones the
    tree node there and never deletes the clone, which stays connected to the layer in the thread
    that wrote the file.  Called from a task's thread, each rename of the layer then posted an event
    to that thread; the layer deleted, the next map render on the same pooled thread delivered it
    and QGIS crashed in QgsMapLayer::name().  Our node is deleted before we return.
    """
    context = QgsReadWriteContext()
    context.setPathResolver(QgsPathResolver(str(target)))
    doc = QDomDocument("qgis-layer-definition")
    qlr = doc.createElement("qlr")
    doc.appendChild(qlr)
    root = QgsLayerTreeGroup()
    try:
        root.addChildNode(QgsLayerTreeLayer(layer))
        root.writeXml(qlr, context)
    finally:
        sip.delete(root)  # and its node with it, now, in this thread
    layers = doc.createElement("maplayers")
    element = doc.createElement("maplayer")
    layer.writeLayerXml(element, doc, context)
    layers.appendChild(element)
    qlr.appendChild(layers)
    return doc.toString(QLR_INDENT)
