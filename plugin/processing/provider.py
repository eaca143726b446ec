"""The Processing provider ``arcgisofflinetiles``."""
from __future__ import annotations

from pathlib import Path

from qgis.core import QgsProcessingProvider
from qgis.PyQt.QtGui import QIcon

PROVIDER_ID = "arcgisofflinetiles"
ICON_PATH = Path(__file__).resolve().parents[2] / "icons" / "icon.svg"


class ArcGISOfflineTilesProvider(QgsProcessingProvider):
    """Holds the plugin's algorithms; each algorithm is a thin caller of ``plugin.core``."""

    def id(self) -> str:
        return PROVIDER_ID

    def name(self) -> str:
        return self.tr("ArcGIS Offline Tiles")

    def longName(self) -> str:
        return self.name()

    def icon(self) -> QIcon:
        return QIcon(str(ICON_PATH))

    def loadAlgorithms(self) -> None:
        for algorithm_class in algorithm_classes():
            self.addAlgorithm(algorithm_class())


def algorithm_classes() -> list:
    """The algorithm classes this provider offers."""
    from .algorithms.convert_package import ConvertPackageAlgorithm
    from .algorithms.estimate_tiles import EstimateTilesAlgorithm
    from .algorithms.export_tiles import ExportTilesAlgorithm
    from .algorithms.package_info import PackageInfoAlgorithm

    return [ExportTilesAlgorithm, EstimateTilesAlgorithm, PackageInfoAlgorithm, ConvertPackageAlgorithm]
