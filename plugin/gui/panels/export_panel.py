"""The Export button: checks what the user must fix, builds the :class:`ExportRequest` from the
controller's state and the options, and hands it to the exports manager."""
from __future__ import annotations

from qgis.PyQt.QtCore import QEvent, QObject, Qt

from ...core.errors import ArcGISOfflineTilesError, InvalidRequestError
from ...core.output import check_output_folder, needed_bytes
from ...core.request import ExportRequest
from ...qgis_glue import settings
from ...qgis_glue.i18n import error_message, translator
from ..export_destination import target_folder
from ..levels_model import format_bytes, format_int

tr = translator("ArcGISOfflineTilesDockWidget")

BUTTON_PADDING_PX = 24  # a push button's frame and margins around its text


class ExportPanel(QObject):
    """``ui.exportButton`` over the controller, the options panel and the exports manager."""

    def __init__(self, ui, controller, options, messages, manager, parent=None) -> None:
        super().__init__(parent)
        self.ui = ui
        self.controller = controller
        self.options = options
        self.messages = messages
        self.manager = manager
        self._idle_text = ui.exportButton.text()  # the form's own (translated) "Export"
        self._full_text = self._idle_text
        ui.exportButton.installEventFilter(self)  # the service's name is shortened to the button's width
        self.started = None  # called with the export id of each export started (the dock shows the list)
        ui.exportButton.clicked.connect(self.export)

    def ready_for_server(self) -> bool:
        """Check what the user must fix before anything is sent; tell them in the dock."""
        c = self.controller
        if c.service is None:
            self.messages.error(tr("Connect to a service first."))
            return False
        if not c.address_matches:
            self.messages.error(tr("The address no longer names the connected service {name}: press Connect, or "
                                   "put its address back.").format(name=c.service.name or c.service.url))
            return False
        if not c.service.export_allowed:
            self.messages.error(tr("This service does not allow tile export; use an export-enabled service."))
            return False
        if c.area.is_empty:
            self.messages.error(tr("Choose the area first: the map extent, a rectangle, a polygon or polygon "
                                   "features."))
            return False
        if c.area_error:
            self.messages.error(c.area_error)
            return False
        if not c.model.checked_levels():
            self.messages.error(tr("Tick at least one level."))
            return False
        try:
            c.area.service_area(c.service_crs)
        except ArcGISOfflineTilesError as exc:
            self.messages.error(error_message(exc))
            return False
        return True

    def build_request(self) -> ExportRequest:
        """The :class:`ExportRequest` for what the dock shows (raises :class:`InvalidRequestError`)."""
        if not self.ready_for_server():
            raise InvalidRequestError(reason=self.messages.text() or "incomplete")
        output = self.options.output_path()
        if not output:
            raise InvalidRequestError(reason=tr("choose where to save the package"))
        c = self.controller
        area = c.area.service_area(c.service_crs)
        selection = c.area.selection
        ui = self.ui
        return ExportRequest(
            service_url=c.service.url, authcfg=c.authcfg, area=area, levels=tuple(c.model.checked_levels()),
            fmt=self.options.chosen_format(), optimize=self.options.optimize(), quality=self.options.quality(),
            split=ui.splitCheck.isChecked(), merge=ui.mergeCheck.isChecked(),
            output_path=output, add_to_map=ui.addToMapCheck.isChecked(), service_name=c.service.name,
            area_label=selection.label if selection is not None else "", output_kind=self.options.output_kind())

    def export(self):
        """Start the export through the exports manager; returns its export id (``None`` when refused)."""
        try:
            request = self.build_request()
        except ArcGISOfflineTilesError as exc:
            if not self.messages.text():
                self.messages.error(error_message(exc))
            return None
        total = self.controller.model.total_tiles()
        limit = self.controller.service.max_export_tiles or 0
        if not request.split and limit and total > limit:
            self.messages.error(tr("The export needs {n} tiles but the server allows {limit} per server job. Tick "
                                   "fewer levels, choose a smaller area or turn on splitting.").format(
                                       n=format_int(total), limit=format_int(limit)))
            return None
        folder = target_folder(request)
        try:
            check_output_folder(folder, self.needed_bytes(request), format_size=format_bytes)
        except ArcGISOfflineTilesError as exc:
            self.messages.error(error_message(exc))
            return None
        settings.set_output_folder(str(folder))
        export_id = self.manager.start_export(request)
        self.options.export_started(request.output_path)
        if self.started is not None:
            self.started(export_id)
        return export_id

    def needed_bytes(self, request: ExportRequest) -> int:
        """Room the export needs: the server's estimate, else a per-tile floor; a split export that is
        merged holds its parts and the merged file at once."""
        model = self.controller.model
        limit = self.controller.service.max_export_tiles or 0
        split_and_merged = request.split and request.merge and limit and model.total_tiles() > limit
        return needed_bytes(model.total_tiles(), model.estimated_bytes(), copies=2 if split_and_merged else 1)

    def update_enabled(self) -> None:
        c = self.controller
        has_service = c.service is not None
        ready = c.ready()
        for widget in (self.ui.levelsView, self.ui.minScaleWidget, self.ui.maxScaleWidget):
            widget.setEnabled(has_service)
        button = self.ui.exportButton
        button.setEnabled(bool(ready and self.options.output_path()))
        what = self.export_text() if ready else ""
        self._full_text = what or self._idle_text
        self._fit_text()
        if ready:
            button.setToolTip(tr("Start the export in the background; follow it under Exports"))
        elif has_service and not c.address_matches:
            button.setToolTip(tr("The address names another service than the connected one: press Connect"))
        else:
            button.setToolTip(tr("Connect to a service that allows export, choose an area and tick levels first"))

    def export_text(self, name: str | None = None) -> str:
        """What Export will do: "Export 1,234 tiles of World_Imagery" ("" before the counts are in)."""
        model = self.controller.model
        if not model.has_counts():
            return ""
        name = name if name is not None else (self.controller.service.name or tr("the service"))
        tiles = ("≈ " if model.total_is_approximate() else "") + format_int(model.total_tiles())
        return tr("E&xport {tiles} tiles of {name}").format(tiles=tiles, name=name)

    def eventFilter(self, watched, event) -> bool:
        if watched is self.ui.exportButton and event.type() == QEvent.Type.Resize:
            self._fit_text()
        return False

    def _fit_text(self) -> None:
        """The whole text when it fits, else the service's name elided (the button never widens the dock)."""
        button = self.ui.exportButton
        text = self._full_text
        room = button.width() - BUTTON_PADDING_PX
        metrics = button.fontMetrics()
        service = self.controller.service
        if (text != self._idle_text and service is not None and button.isVisible()
                and metrics.horizontalAdvance(text) > room > 0):
            name = service.name or ""
            rest = metrics.horizontalAdvance(self.export_text(""))
            text = self.export_text(metrics.elidedText(name, Qt.TextElideMode.ElideMiddle, max(0, room - rest)))
        button.setText(text)
