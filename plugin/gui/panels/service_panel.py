"""The service panel: the address, a saved connection or a layer, the sign-in, Connect and the summary."""
from __future__ import annotations

from qgis.core import Qgis, QgsCoordinateReferenceSystem
from qgis.PyQt.QtCore import QObject

from ...core.errors import ArcGISOfflineTilesError, AuthFailedError, AuthRequiredError
from ...core.service import ServiceInfo, ServiceKind, parse_service_url
from ...qgis_glue import settings
from ...qgis_glue.i18n import error_message, translator
from ..levels_model import format_int, format_scale
from ..service_picker import ServicePicker
from .controller import escape

tr = translator("ArcGISOfflineTilesDockWidget")


def kind_label(kind: ServiceKind) -> str:
    return {ServiceKind.VECTOR: tr("vector tile service"), ServiceKind.MAP: tr("tiled map service"),
            ServiceKind.IMAGE: tr("tiled image service")}.get(kind, str(kind))


def is_sign_in_message(text: str) -> bool:
    """Whether a (translated) error message asks for, or rejects, the sign-in."""
    required = error_message(AuthRequiredError())
    refused = error_message(AuthFailedError(reason="\x00")).split("\x00")[0]
    return text == required or (bool(refused) and text.startswith(refused))


def summary_html(info: ServiceInfo, crs: QgsCoordinateReferenceSystem) -> str:
    lods = info.available_lods
    scheme = info.tiling
    first, last = lods[0], lods[-1]
    lines = [
        f"<b>{escape(info.name or info.url)}</b> — {escape(kind_label(info.kind))}",
        escape(tr("Coordinate system: {crs}").format(crs=crs.authid() or crs.description())),
        escape(tr("Tiles: {w}×{h} px, {format}").format(w=scheme.tile_cols, h=scheme.tile_rows,
                                                         format=info.tile_format or "?")),
        escape(tr("Levels {first}–{last} ({coarse} to {fine})").format(
            first=first.level, last=last.level, coarse=format_scale(first.scale), fine=format_scale(last.scale))),
    ]
    if info.export_allowed:
        lines.append(escape(tr("Export allowed, up to {n} tiles per export").format(
            n=format_int(info.max_export_tiles or 0))))
    else:
        reason = tr("not allowed by the service (exportTilesAllowed is false)")
        lines.append("<span style='color:#a61e14'>{}</span>".format(escape(tr("Export: {reason}").format(
            reason=reason))))
    version = f"{info.version:g}" if info.version else tr("unknown")
    lines.append(escape(tr("ArcGIS Server version {version}").format(version=version)))
    return "<br>".join(lines)


class ServicePanel(QObject):
    """Connects to the service the user points at and hands it to the controller."""

    def __init__(self, ui, controller, messages, iface, parent=None) -> None:
        super().__init__(parent)
        self.ui = ui
        self.controller = controller
        self.messages = messages
        self._token = 0
        self.picker = ServicePicker(ui.urlCombo, ui.connectionsCombo, ui.layerButton, ui.authSelect, iface, self)
        ui.connectButton.clicked.connect(lambda: self.connect_service())
        ui.urlCombo.lineEdit().returnPressed.connect(lambda: self.connect_service())
        ui.twinButton.clicked.connect(self.use_export_twin)
        ui.twinButton.hide()
        ui.authSelect.setFocusProxy(ui.authSelect.findChild(type(ui.connectionsCombo)) or ui.authSelect)
        self.picker.message.connect(lambda text: messages.show(text, Qgis.MessageLevel.Info))
        recent = settings.recent_services()
        if recent:
            self.picker.set_url(recent[0])

    def connect_service(self, url: str | None = None) -> bool:
        """Fetch the service description in the background; ``False`` when nothing was started."""
        if url is not None:
            self.picker.set_url(url)
        text = self.picker.url()
        if not text:
            self.messages.error(tr("Type the address of an ArcGIS tiled service first (…/MapServer, …/ImageServer "
                                   "or …/VectorTileServer), or choose a saved connection."))
            self.ui.urlCombo.setFocus()
            return False
        try:
            parse_service_url(text)  # obvious mistakes (FeatureServer, not an address) need no network
        except ArcGISOfflineTilesError as exc:
            self._connect_failed(error_message(exc))
            return False
        authcfg = self.picker.authcfg()
        self._token += 1
        token = self._token
        self.messages.clear()
        self.ui.connectButton.setEnabled(False)
        self.ui.connectStatusLabel.setText(tr("Connecting…"))
        self._start_service_task(text, authcfg, lambda info, error: self._service_done(token, authcfg, info, error))
        return True

    def _start_service_task(self, url: str, authcfg: str, done) -> None:
        from ...tasks.service_task import fetch_service_task

        task = fetch_service_task(url, authcfg, on_result=lambda info: done(info, None),
                                  on_error=lambda message: done(None, message))
        self.controller.track(task)

    def _service_done(self, token: int, authcfg: str, info, error) -> None:
        if token != self._token:
            return  # the user connected again meanwhile
        self.ui.connectButton.setEnabled(True)
        self.ui.connectStatusLabel.setText("")
        if info is None:
            text = error if isinstance(error, str) else error_message(error) if error else tr("Connection failed.")
            self._connect_failed(text)
            return
        try:
            self.set_service(info, authcfg)
        except ArcGISOfflineTilesError as exc:
            self._connect_failed(error_message(exc))
            return
        self.picker.remember(info.url, authcfg)
        self.picker.url_combo.setEditText(info.url)

    def _connect_failed(self, text: str) -> None:
        self.ui.connectButton.setEnabled(True)
        self.ui.connectStatusLabel.setText("")
        self.messages.error(text, tr("Cannot use the service"))
        if self.controller.service is None:
            self.ui.serviceSummaryLabel.setText(escape(tr("Not connected.")))
        if is_sign_in_message(text):
            self.ui.authSelect.setFocus()  # where the user fixes it

    def set_service(self, info: ServiceInfo, authcfg: str = "") -> None:
        """Show a fetched service: the controller tells the other panels; the summary is shown here."""
        self.controller.set_service(info, authcfg)
        self.ui.serviceSummaryLabel.setText(summary_html(info, self.controller.service_crs))
        self.ui.twinButton.setVisible(not info.export_allowed and bool(info.export_twin))
        if not info.export_allowed:
            self.messages.show(tr("This service does not allow tile export.") + " " + (
                tr("Esri publishes an export-enabled copy: use the button below.") if info.export_twin
                else tr("Ask its administrator to enable export (exportTilesAllowed), or use another service.")),
                Qgis.MessageLevel.Warning)
        else:
            self.messages.clear()
        self.controller.schedule_refresh()
        self.controller.schedule_recount()

    def use_export_twin(self) -> None:
        service = self.controller.service
        if service is not None and service.export_twin:
            self.connect_service(service.export_twin)

    def close(self) -> None:
        self._token += 1
        self.picker.close()
