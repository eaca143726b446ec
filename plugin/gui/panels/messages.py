"""The dock's message line: one message at a time, wrapped in full however narrow the dock is."""
from __future__ import annotations

from qgis.core import Qgis, QgsApplication
from qgis.PyQt.QtCore import Qt, QTimer
from qgis.PyQt.QtWidgets import QFrame, QHBoxLayout, QLabel, QSizePolicy, QToolButton

from ...qgis_glue.i18n import translator

tr = translator("ArcGISOfflineTilesDockWidget")

LEVEL_STYLE = {  # background, border: QGIS's message bar colours
    Qgis.MessageLevel.Info: ("#e7f1fb", "#7aa6d6"),
    Qgis.MessageLevel.Success: ("#e5f4e0", "#79b26a"),
    Qgis.MessageLevel.Warning: ("#fff3d6", "#d9a43c"),
    Qgis.MessageLevel.Critical: ("#fbe3e0", "#d2574b"),
}
LEVEL_ICON = {Qgis.MessageLevel.Info: "/mMessageLogInfo.svg", Qgis.MessageLevel.Success: "/mIconSuccess.svg",
              Qgis.MessageLevel.Warning: "/mIconWarning.svg", Qgis.MessageLevel.Critical: "/mIconCritical.svg"}
INFO_SECONDS = 8
ICON_PX = 16


class MessageLine(QFrame):
    """One message, wrapped in full however narrow the dock (QGIS's message bar cuts it to two lines)."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("dockMessage")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(6, 4, 2, 4)
        self.icon = QLabel()
        self.icon.setFixedSize(ICON_PX, ICON_PX)
        self.label = QLabel()
        self.label.setWordWrap(True)
        self.label.setTextFormat(Qt.TextFormat.PlainText)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.close_button = QToolButton()
        self.close_button.setAutoRaise(True)
        self.close_button.setIcon(QgsApplication.getThemeIcon("/mIconClose.svg"))
        self.close_button.setToolTip(tr("Close this message"))
        layout.addWidget(self.icon, 0, Qt.AlignmentFlag.AlignTop)
        layout.addWidget(self.label, 1)
        layout.addWidget(self.close_button, 0, Qt.AlignmentFlag.AlignTop)
        self.hide()

    def show_text(self, text: str, level) -> None:
        background, border = LEVEL_STYLE.get(level, LEVEL_STYLE[Qgis.MessageLevel.Info])
        self.setStyleSheet(f"QFrame#dockMessage {{ background: {background}; border: 1px solid {border}; "
                           f"border-radius: 3px; }}")
        icon = QgsApplication.getThemeIcon(LEVEL_ICON.get(level, LEVEL_ICON[Qgis.MessageLevel.Info]))
        self.icon.setPixmap(icon.pixmap(ICON_PX, ICON_PX))
        self.label.setText(text)
        self.show()


class DockMessages:
    """The one message inside the dock (replacing the previous one); errors and warnings stay until
    closed, information goes after a few seconds.

    ``topic`` ("area", …) lets a later fix of that topic take its own message away.
    """

    def __init__(self, line: MessageLine) -> None:
        self.line = line
        self.topic = ""
        self._text = ""
        self._timer = QTimer(line)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self.clear)
        line.close_button.clicked.connect(self.clear)

    def show(self, text: str, level=Qgis.MessageLevel.Warning, title: str = "", topic: str = "") -> None:
        self._text = " ".join(part for part in (title, text) if part)
        shown = f"{title}: {text}" if title else text
        self.line.show_text(shown, level)
        self.topic = topic
        self._timer.stop()
        if level not in (Qgis.MessageLevel.Critical, Qgis.MessageLevel.Warning):
            self._timer.start(INFO_SECONDS * 1000)

    def error(self, text: str, title: str = "") -> None:
        self.show(text, Qgis.MessageLevel.Critical, title)

    def clear(self, topic: str | None = None) -> None:
        if topic is None or topic == self.topic:
            self._timer.stop()
            self.line.hide()
            self._text = ""
            self.topic = ""

    def text(self) -> str:
        return self._text
