"""The plugin's dock widget (service, area, levels, export, jobs)."""
from __future__ import annotations

from qgis.gui import QgsDockWidget
from qgis.PyQt.QtCore import QCoreApplication
from qgis.PyQt.QtWidgets import QLabel, QVBoxLayout, QWidget

DOCK_OBJECT_NAME = "ArcGISOfflineTilesDock"


def tr(text: str) -> str:
    return QCoreApplication.translate("ArcGISOfflineTilesDockWidget", text)


class ArcGISOfflineTilesDockWidget(QgsDockWidget):
    def __init__(self, iface, parent=None) -> None:
        super().__init__(tr("ArcGIS Offline Tiles"), parent)
        self.iface = iface
        self.setObjectName(DOCK_OBJECT_NAME)
        body = QWidget(self)
        layout = QVBoxLayout(body)
        layout.addWidget(QLabel(tr("Export tiles from an ArcGIS service."), body))
        layout.addStretch(1)
        self.setWidget(body)
