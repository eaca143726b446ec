"""Entry points that open tile packages: drag and drop onto QGIS, and the "Add Esri tile package…" action.

Both hand the path to an ``opener`` (the plugin passes one that starts an ``OpenPackageTask`` in the
task manager and keeps it referenced), so the work never blocks the QGIS window.
"""
from __future__ import annotations

import logging
from pathlib import Path
from typing import Callable

from qgis.gui import QgsCustomDropHandler
from qgis.PyQt.QtWidgets import QFileDialog, QWidget

from ..core.names import is_package_file
from ..qgis_glue import settings
from ..qgis_glue.i18n import translator

log = logging.getLogger(__name__)

Opener = Callable[[str], object]


tr = translator("PackageDropHandler")  # module strings: pylupdate files them under @default


def file_filter() -> str:
    return ";;".join((
        tr("Esri tile packages (*.vtpk *.tpkx *.tpk conf.xml)"),
        tr("Vector tile packages (*.vtpk)"),
        tr("Tile packages (*.tpkx *.tpk)"),
        tr("Esri cache folder configuration (conf.xml)"),
        tr("All files (*)"),
    ))


class PackageDropHandler(QgsCustomDropHandler):
    """Claims dropped ``.vtpk``/``.tpkx``/``.tpk`` files and leaves every other file to QGIS.

    QGIS asks custom handlers with ``handleFileDrop`` for each dropped file before opening it
    itself, so a package opens with its style and metadata even where QGIS could read it natively.
    """

    def __init__(self, opener: Opener) -> None:
        super().__init__()
        self._opener = opener

    def handleFileDrop(self, file: str) -> bool:  # QGIS API name
        if not file or not is_package_file(file) or not Path(file).is_file():
            return False
        log.info("Opening the dropped package %s", file)
        self._opener(file)
        return True


def ask_for_packages(parent: QWidget | None = None) -> list[str]:
    """Let the user pick packages (several at once) or a cache folder's ``conf.xml``."""
    paths, _chosen_filter = QFileDialog.getOpenFileNames(
        parent, tr("Add Esri tile package"), settings.output_folder(), file_filter())
    return [path for path in paths if path]


def open_chosen_packages(opener: Opener, parent: QWidget | None = None) -> list[str]:
    """The action: ask, then open each chosen package."""
    paths = ask_for_packages(parent)
    for path in paths:
        opener(path)
    return paths
