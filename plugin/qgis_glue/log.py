"""Forward the plugin's ``logging`` records to the QGIS message log (one handler, one tag)."""
from __future__ import annotations

import logging

from qgis.core import Qgis, QgsMessageLog

LOG_TAG = "ArcGIS Offline Tiles"

_LEVELS = (
    (logging.ERROR, Qgis.MessageLevel.Critical),
    (logging.WARNING, Qgis.MessageLevel.Warning),
    (logging.INFO, Qgis.MessageLevel.Info),
)


class QgsMessageLogHandler(logging.Handler):
    """A logging handler that writes to QGIS's Log Messages panel under :data:`LOG_TAG`."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            message = self.format(record)
        except Exception:  # noqa: BLE001 - a broken record must never break the caller
            message = record.getMessage()
        level = next((qgis_level for threshold, qgis_level in _LEVELS if record.levelno >= threshold),
                     Qgis.MessageLevel.Info)
        QgsMessageLog.logMessage(message, LOG_TAG, level, notifyUser=False)


def install_handler(logger_name: str) -> QgsMessageLogHandler:
    """Attach a fresh handler to ``logger_name``; keep the returned handler for :func:`remove_handler`."""
    handler = QgsMessageLogHandler()
    handler.setFormatter(logging.Formatter("%(name)s: %(message)s"))
    logger = logging.getLogger(logger_name)
    logger.addHandler(handler)
    if logger.level == logging.NOTSET or logger.level > logging.INFO:
        logger.setLevel(logging.INFO)
    return handler


def remove_handler(logger_name: str, handler: logging.Handler | None) -> None:
    if handler is not None:
        logging.getLogger(logger_name).removeHandler(handler)
        handler.close()
