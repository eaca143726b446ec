"""The provider's algorithms and what they share: group, translation, inputs, error mapping.

Each algorithm is a thin caller of :mod:`plugin.core.packages`; known errors become a
``QgsProcessingException`` carrying the core's user message.
"""
from __future__ import annotations

from pathlib import Path

from qgis.core import QgsProcessingAlgorithm, QgsProcessingException
from qgis.PyQt.QtCore import QCoreApplication

from ...core.errors import ArcGISOfflineTilesError
from ...qgis_glue.enums import qgis_enum
from ...qgis_glue.i18n import error_message

__all__ = ["PACKAGE_FILTER", "PackageAlgorithm", "error_message", "file_source_type", "processing_error"]

GROUP_ID = "packages"
PACKAGE_FILTER = "Esri tile packages (*.vtpk *.tpkx *.tpk conf.xml *.tar);;All files (*)"


def file_source_type():
    """``QgsProcessing.TypeFile``, spelled the way the running QGIS wants it (Qt 6 ready)."""
    return qgis_enum("Qgis.ProcessingSourceType.File", "QgsProcessing.SourceType.TypeFile")


def processing_error(error: ArcGISOfflineTilesError) -> QgsProcessingException:
    return QgsProcessingException(error_message(error))


class PackageAlgorithm(QgsProcessingAlgorithm):
    """Common parts of the tile package algorithms."""

    def tr(self, text: str) -> str:
        return QCoreApplication.translate(type(self).__name__, text)

    def group(self) -> str:
        return self.tr("Tile packages")

    def groupId(self) -> str:
        return GROUP_ID

    def createInstance(self):
        return type(self)()

    def existing_package(self, path: str) -> str:
        """``path`` if it names an existing file or folder, else a QgsProcessingException."""
        if not path:
            raise QgsProcessingException(self.tr("No tile package was given."))
        if not Path(path).exists():
            raise QgsProcessingException(self.tr("The tile package {path} does not exist.").format(path=path))
        return path
