"""Once per session, QGIS's message bar says that exports of an earlier session can resume (the dock is
usually hidden at startup, its exports list out of sight)."""
from __future__ import annotations

import contextlib

from qgis.core import Qgis
from qgis.gui import QgsMessageBarItem
from qgis.PyQt.QtCore import QObject
from qgis.PyQt.QtWidgets import QPushButton

from ...qgis_glue.i18n import translator
from ..levels_model import plural

tr = translator("ArcGISOfflineTilesDockWidget")


class ResumeOffer(QObject):
    """Listens to the manager's scan of the export store; ``show_exports`` opens the dock at its exports."""

    def __init__(self, iface, manager, show_exports, parent=None) -> None:
        super().__init__(parent)
        self.iface = iface
        self.manager = manager
        self.show_exports = show_exports
        self._note: QgsMessageBarItem | None = None
        self._offered = False
        manager.scanned.connect(self._offer)

    def _offer(self) -> None:
        waiting = self.manager.resumable()
        bar = self.iface.messageBar() if self.iface is not None else None
        if self._offered or not waiting or bar is None:
            return
        self._offered = True
        text = plural(len(waiting), tr("{n} export of an earlier session was interrupted; it can resume where it "
                                       "stopped."),
                      tr("{n} exports of an earlier session were interrupted; they can resume where they stopped."))
        note = QgsMessageBarItem(tr("ArcGIS Offline Tiles"), text, Qgis.MessageLevel.Info, 0)
        button = QPushButton(tr("Show"), note)  # owned by the note (and deleted with it)
        button.setToolTip(tr("Open the dock at its exports: resume or discard each one"))
        button.clicked.connect(self._show)
        note.setWidget(button)
        self._note = note
        bar.pushItem(note)

    def _show(self) -> None:
        self.close()
        self.show_exports()

    def close(self) -> None:
        note, self._note = self._note, None
        if note is not None and self.iface is not None:
            with contextlib.suppress(RuntimeError):  # the user closed it already (the item is deleted)
                self.iface.messageBar().popWidget(note)
