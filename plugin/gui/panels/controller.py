"""The dock's state: the connected service, the area, the levels and what the panels derive from them.

Panels read the state here and never keep a value of their own in a widget: the service the counts
and the export are for is :attr:`DockController.service`, not what the address box shows.  Changes
are announced by signals; a burst of changes (typing an extent, ticking levels) is collapsed by 0 ms
timers into one recount and one refresh.
"""
from __future__ import annotations

import html

from qgis.core import QgsCoordinateReferenceSystem, QgsProject
from qgis.PyQt.QtCore import QObject, QTimer, pyqtSignal

from ...core.service import ServiceInfo
from ...qgis_glue import crs as crs_glue
from ...tasks.base import TaskKeeper
from ..area import AreaController
from ..levels_model import LevelsModel


def escape(text: str) -> str:
    """Text for a rich-text label (apostrophes stay readable in tests and screen readers)."""
    return html.escape(text, quote=False)


class DockController(QObject):
    """What the dock shows and will export; the panels observe it."""

    serviceChanged = pyqtSignal()  # a new service is connected (or none)
    recountRequested = pyqtSignal()  # the area or the service changed: count again
    refreshRequested = pyqtSignal()  # ticks or options changed: totals, plan, preview, buttons
    addressChanged = pyqtSignal(bool)  # whether the address field still names the connected service

    def __init__(self, canvas, project: QgsProject, parent: QObject | None = None, *,
                 keeper: TaskKeeper | None = None) -> None:
        super().__init__(parent)
        self.keeper = keeper if keeper is not None else TaskKeeper()  # the plugin's: it cancels them on unload
        self.canvas = canvas
        self.project = project
        self.service: ServiceInfo | None = None
        self.service_crs: QgsCoordinateReferenceSystem | None = None
        self.authcfg = ""
        self.area_error = ""
        self.address_matches = True
        self.model = LevelsModel(self)
        self.area = AreaController(canvas, project, self)
        self._recount_timer = self._timer(self.recountRequested.emit)
        self._refresh_timer = self._timer(self.refreshRequested.emit)

    def _timer(self, slot) -> QTimer:
        timer = QTimer(self)
        timer.setSingleShot(True)
        timer.setInterval(0)
        timer.timeout.connect(slot)
        return timer

    def set_service(self, info: ServiceInfo, authcfg: str = "") -> None:
        """Make ``info`` the connected service (raises when QGIS does not know its CRS)."""
        service_crs = crs_glue.qgs_crs(info.spatial_ref)
        self.service = info
        self.service_crs = service_crs
        self.authcfg = authcfg
        self.serviceChanged.emit()

    def set_address_matches(self, matches: bool) -> None:
        if matches != self.address_matches:
            self.address_matches = matches
            self.addressChanged.emit(matches)

    def schedule_recount(self) -> None:
        self._recount_timer.start()

    def schedule_refresh(self) -> None:
        self._refresh_timer.start()

    def stop_timers(self) -> None:
        self._recount_timer.stop()
        self._refresh_timer.stop()

    def ready(self) -> bool:
        """A service that allows export and that the address still names, an area it accepts and at least
        one ticked level."""
        return bool(self.service is not None and self.service.export_allowed and self.address_matches
                    and not self.area.is_empty and not self.area_error and self.model.checked_levels())

