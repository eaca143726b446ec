"""The export options panel: package format, JPEG optimisation, splitting and merging, where to save."""
from __future__ import annotations

from pathlib import Path

from qgis.gui import QgsFileWidget
from qgis.PyQt.QtCore import QObject, pyqtSignal
from qgis.PyQt.QtWidgets import QCheckBox, QSizePolicy, QVBoxLayout, QWidget

from ...core import names
from ...core.export import JPEG_FORMATS, TPK, TPKX, VTPK, is_vector, package_format
from ...core.service import ServiceInfo
from ...core.tilecache import PACKAGE, TILE_CACHE, supported_output_kinds
from ...qgis_glue import settings
from ...qgis_glue.i18n import translator

tr = translator("ArcGISOfflineTilesDockWidget")

DEFAULT_QUALITY = 75
OPTION_DEFAULTS = {"split": True, "merge": True, "add_to_map": True, "optimize": False, "prefer_tpk": False}


class OptionsPanel(QObject):
    """The options of the next export; the values are read from here when the export starts."""

    outputChanged = pyqtSignal()  # the Save to path changed

    def __init__(self, ui, controller, parent=None) -> None:
        super().__init__(parent)
        self.ui = ui
        self.controller = controller
        self._output_is_default = True
        self._updating_output = False
        self._taken: set[str] = set()  # the files of exports started in this session
        self._kind = PACKAGE  # what Save to names: a package file, or a tile cache's folder
        ui.outputWidget.setStorageMode(QgsFileWidget.StorageMode.SaveFile)
        ui.outputWidget.setConfirmOverwrite(True)
        ui.outputWidget.setDialogTitle(tr("Save the tile package as"))
        ui.outputWidget.fileChanged.connect(self._output_changed)
        line = ui.outputWidget.lineEdit()
        if line is not None:
            ui.outputWidget.setFocusProxy(line)
        ui.formatCombo.currentIndexChanged.connect(self._format_changed)
        self.cache_check = self._add_cache_check()
        ui.qualitySlider.valueChanged.connect(lambda value: ui.qualityValueLabel.setText(str(value)))
        ui.qualitySlider.valueChanged.connect(settings.set_quality)  # only the user's moves: see setup_formats
        ui.optimizeCheck.toggled.connect(self._optimize_toggled)
        for check, name in ((ui.splitCheck, "split"), (ui.mergeCheck, "merge"), (ui.addToMapCheck, "add_to_map"),
                            (ui.optimizeCheck, "optimize")):
            check.setChecked(settings.option(name, OPTION_DEFAULTS[name]))
            check.toggled.connect(lambda on, name=name: settings.set_option(name, on))
        ui.splitCheck.toggled.connect(self._split_toggled)
        ui.mergeCheck.toggled.connect(lambda _on: controller.schedule_refresh())  # the plan says what merging makes
        self._split_toggled(ui.splitCheck.isChecked())
        self._optimize_toggled(ui.optimizeCheck.isChecked())
        controller.serviceChanged.connect(self._service_changed)
        # a fresh name for each export, from the service, the area and the levels (until the user types one)
        controller.area.areaChanged.connect(self._propose_name)
        controller.model.checkedLevelsChanged.connect(self._propose_name)

    def _service_changed(self) -> None:
        self.setup_formats(self.controller.service)
        self._update_default_output()

    def setup_formats(self, info: ServiceInfo | None) -> None:
        combo = self.ui.formatCombo
        combo.blockSignals(True)
        combo.clear()
        if info is None:
            combo.setEnabled(False)
        elif is_vector(info):
            combo.addItem(tr(".vtpk — vector tile package"), VTPK)
            combo.setEnabled(False)
        else:
            if package_format(info) == TPKX:
                combo.addItem(tr(".tpkx — Compact Cache V2 (recommended)"), TPKX)
            combo.addItem(tr(".tpk — Compact Cache V1 (older readers)"), TPK)
            combo.setEnabled(combo.count() > 1)
            prefer_tpk = settings.option("prefer_tpk", OPTION_DEFAULTS["prefer_tpk"])
            combo.setCurrentIndex(combo.findData(TPK) if prefer_tpk else 0)
        combo.blockSignals(False)
        cache = info is not None and TILE_CACHE in supported_output_kinds(info)
        self.cache_check.setVisible(cache)
        if not cache:
            self.cache_check.setChecked(False)
        jpeg = self._jpeg_service()
        for widget in (self.ui.optimizeCheck, self.ui.qualityLabel, self.ui.qualitySlider, self.ui.qualityValueLabel):
            widget.setVisible(jpeg)
        if jpeg:
            own = info.tiling.compression_quality or 100
            slider = self.ui.qualitySlider
            # the remembered quality, capped by this service's own: the cap is not saved as the choice
            slider.blockSignals(True)
            slider.setMaximum(max(slider.minimum(), own))
            slider.setValue(min(settings.quality(DEFAULT_QUALITY), own))
            slider.blockSignals(False)
            self.ui.qualityValueLabel.setText(str(slider.value()))
            slider.setToolTip(tr("JPEG quality of the optimised tiles, at most the service's own "
                                 "quality ({q})").format(q=own))
        self._optimize_toggled(self.ui.optimizeCheck.isChecked())

    def chosen_format(self) -> str | None:
        data = self.ui.formatCombo.currentData()
        return data if data in (TPKX, TPK) else None

    def output_kind(self) -> str:
        """TILE_CACHE when the user chose a tile cache (a folder of bundles, for map and image services)."""
        return TILE_CACHE if self.cache_check.isVisibleTo(self.ui.exportGroup) and self.cache_check.isChecked() \
            else PACKAGE

    def _add_cache_check(self) -> QCheckBox:
        """*Tile cache (folder)* under the package format, which then picks the cache's storage (Compact V2
        or V1): the format's cell of the form holds both."""
        layout, combo = self.ui.exportLayout, self.ui.formatCombo
        row, column, rows, columns = layout.getItemPosition(layout.indexOf(combo))
        layout.removeWidget(combo)
        cell = QWidget(self.ui.exportGroup)
        cell.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)  # never widens the dock
        stack = QVBoxLayout(cell)
        stack.setContentsMargins(0, 0, 0, 0)
        stack.addWidget(combo)
        check = QCheckBox(tr("Tile cache (folder)"), cell)
        check.setObjectName("tileCacheCheck")
        check.setToolTip(tr("Save the tiles as an ArcGIS tile cache: a folder of bundles that QGIS, GDAL and "
                            "ArcGIS open in place (map and image services)"))
        stack.addWidget(check)
        layout.addWidget(cell, row, column, rows, columns)
        check.hide()
        check.toggled.connect(lambda _on: self._format_changed(-1))
        return check

    def format_extension(self) -> str:
        service = self.controller.service
        return TPKX if service is None else package_format(service, self.chosen_format())

    def _format_changed(self, _index: int) -> None:
        service = self.controller.service
        if service is not None and not is_vector(service) and self.ui.formatCombo.count() > 1:
            settings.set_option("prefer_tpk", self.chosen_format() == TPK)
        self._update_output_extension()
        self.controller.schedule_refresh()

    def _jpeg_service(self) -> bool:
        info = self.controller.service
        return info is not None and not is_vector(info) and (info.tile_format or "").upper() in JPEG_FORMATS

    def _optimize_toggled(self, on: bool) -> None:
        enabled = bool(on) and self._jpeg_service()
        for widget in (self.ui.qualitySlider, self.ui.qualityLabel, self.ui.qualityValueLabel):
            widget.setEnabled(enabled)
        self.controller.schedule_refresh()

    def optimize(self) -> bool:
        return self._jpeg_service() and self.ui.optimizeCheck.isChecked()

    def quality(self) -> int | None:
        return self.ui.qualitySlider.value() if self.optimize() else None

    def _split_toggled(self, on: bool) -> None:
        self.ui.mergeCheck.setEnabled(bool(on))
        self.controller.schedule_refresh()

    def output_path(self) -> str:
        return self.ui.outputWidget.filePath().strip()

    def _output_changed(self, _path: str) -> None:
        if not self._updating_output:
            self._output_is_default = False
        self.outputChanged.emit()

    def _set_output(self, path: str) -> None:
        self._updating_output = True
        self.ui.outputWidget.setFilePath(path)
        self._updating_output = False

    def _update_default_output(self) -> None:
        service = self.controller.service
        if service is None:
            return
        if self._output_is_default or not self.output_path():
            self._propose_name(force=True)
        self._update_output_extension()

    def _propose_name(self, force: bool = False) -> None:
        service = self.controller.service
        if service is None or not (force is True or self._output_is_default):
            return
        current = self.output_path()
        folder = Path(current).parent if current and self._output_is_default else \
            Path(settings.output_folder() or str(Path.home()))
        selection = self.controller.area.selection
        name = names.default_output_name(service.name, self.format_extension(),
                                         selection.name if selection else "", self.controller.model.checked_levels())
        target = folder / name
        if self.output_kind() == TILE_CACHE:
            target = names.cache_output_path(target)
        busy = {names.cache_output_path(path) for path in self._taken}
        self._set_output(str(names.free_output_path(target, busy)))
        self._output_is_default = True

    def export_started(self, output_path: str) -> None:
        """The next export gets a name of its own (the last one is taken now)."""
        self._taken.add(output_path)
        self._output_is_default = True
        self._propose_name()

    def _update_output_extension(self) -> None:
        """Save to follows the format: the package's suffix, or a folder for a tile cache."""
        if self.controller.service is None:
            return
        kind, was = self.output_kind(), self._kind
        self._kind = kind
        widget = self.ui.outputWidget
        cache = kind == TILE_CACHE
        widget.setStorageMode(QgsFileWidget.StorageMode.GetDirectory if cache else QgsFileWidget.StorageMode.SaveFile)
        widget.setDialogTitle(tr("Save the tile cache in the folder") if cache else tr("Save the tile package as"))
        fmt = self.format_extension()
        widget.setFilter("" if cache else tr("Tile package (*.{ext})").format(ext=fmt))
        path = self.output_path()
        if not path:
            return
        keep_default = self._output_is_default
        if keep_default and kind != was:
            self._propose_name(force=True)
            return
        if cache:
            new = names.cache_output_path(path)
        elif Path(path).suffix.lower() in names.PACKAGE_SUFFIXES or was == TILE_CACHE:
            new = Path(path).with_suffix("." + fmt)
        else:
            return
        self._set_output(str(new))
        self._output_is_default = keep_default
