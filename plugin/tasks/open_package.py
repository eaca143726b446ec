"""Open a tile package in the background: read/convert in ``run()``, add the layer in ``finished()``."""
from __future__ import annotations

import logging
from pathlib import Path

from qgis.core import Qgis, QgsMapLayer, QgsProject

from ..core.errors import CancelledError
from ..qgis_glue.i18n import error_message, translator
from ..qgis_glue.layers import (
    ConversionNeededError,
    LayerSource,
    create_layer,
    human_size,
    package_root,
    prepare_layer_source,
)
from .base import PluginTask

log = logging.getLogger(__name__)

MESSAGE_SECONDS = 6


tr = translator("OpenPackageTask")  # module strings: pylupdate files them under @default


def _default_message_bar():
    try:
        from qgis.utils import iface
    except ImportError:  # pragma: no cover - qgis.utils always exists inside QGIS
        return None
    return iface.messageBar() if iface is not None else None


class OpenPackageTask(PluginTask):
    """Opens ``path`` as a layer of ``project`` (default: the current project).

    ``message_bar`` gets the success or error note (default: the QGIS window's, when there is one).
    """

    def __init__(self, path: str | Path, cache_dir: str | Path | None = None, *, project: QgsProject | None = None,
                 message_bar=None, native: bool | None = None) -> None:
        self.path = str(path)
        self.file_name = package_root(path).name or self.path
        super().__init__(tr("Opening {name}").format(name=self.file_name))
        self.cache_dir = None if cache_dir is None else str(cache_dir)
        self.native = native
        self._project = project
        self._message_bar = message_bar
        self.layer: QgsMapLayer | None = None
        self.source: LayerSource | None = None

    def work(self) -> LayerSource:
        return prepare_layer_source(self.path, self.cache_dir, progress=self.report, native=self.native)

    def on_success(self, result: LayerSource) -> None:
        source = result
        try:
            layer = create_layer(source)
        except ConversionNeededError as exc:
            # Rare: the native source passed its checks but QGIS refused it; convert now (blocking).
            log.warning("%s; converting it instead", exc)
            source = prepare_layer_source(self.path, self.cache_dir, native=False)
            layer = create_layer(source)
        self.source = source
        project = self._project or QgsProject.instance()
        project.addMapLayer(layer)
        self.layer = layer
        how = tr("opened natively") if source.native else (
            tr("reusing its conversion {file}") if source.reused else tr("converted to {file}")).format(
            file=Path(source.converted).name)
        self._push(tr("Tile package opened"),
                   tr("{name}: {file} ({size}), {how}.").format(name=layer.name(), file=self.file_name,
                                                               size=human_size(source.package_size), how=how),
                   Qgis.MessageLevel.Success)
        log.info("Opened %s as %s (%s) in %.2f s", self.path, layer.name(), source.uri, source.seconds)

    def on_failure(self, error: BaseException) -> None:
        if isinstance(error, CancelledError):
            self._push(tr("Tile package"), tr("Opening {file} was cancelled.").format(file=self.file_name),
                       Qgis.MessageLevel.Info)
            return
        self._push(tr("Could not open {file}").format(file=self.file_name),
                   tr("{message} Details in the log.").format(message=error_message(error)),
                   Qgis.MessageLevel.Warning)

    def _push(self, title: str, text: str, level) -> None:
        bar = self._message_bar if self._message_bar is not None else _default_message_bar()
        if bar is not None:
            bar.pushMessage(title, text, level, MESSAGE_SECONDS if level != Qgis.MessageLevel.Warning else 0)
