"""The service panel: the address, a saved connection or a layer, the sign-in, Connect and the summary."""
from __future__ import annotations

import contextlib

from qgis.core import Qgis, QgsCoordinateReferenceSystem
from qgis.PyQt.QtCore import QObject

from ...core.errors import ArcGISOfflineTilesError, AuthFailedError, AuthRequiredError
from ...core.service import ServiceInfo, ServiceKind, parse_service_url
from ...qgis_glue import settings
from ...qgis_glue.i18n import error_message, translator
from ..levels_model import format_int, format_scale
from ..service_picker import ServicePicker, service_url_or_none
from .controller import escape

tr = translator("ArcGISOfflineTilesDockWidget")


def kind_label(kind: ServiceKind) -> str:
    return {ServiceKind.VECTOR: tr("vector tile service"), ServiceKind.MAP: tr("tiled map service"),
            ServiceKind.IMAGE: tr("tiled image service")}.get(kind, str(kind))


def is_sign_in_message(text: str) -> bool:
    """Whether a (translated) error message asks for, or rejects, the sign-in."""
    required = error_message(AuthRequiredError())
    mark = "\ue000"  # a private-use character: kept as it is by the errors' parameter clean-up
    refused = error_message(AuthFailedError(reason=mark)).split(mark)[0]
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
        lines.append(escape(tr("Export allowed, up to {n} tiles per server job").format(
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
        self._task = None
        self._summary = ""
        self._addresses: set[str] = set()  # what was typed for the connected service, and its own URL
        self.picker = ServicePicker(ui.urlCombo, ui.connectionsCombo, ui.layerButton, ui.authSelect, iface, self)
        ui.connectButton.clicked.connect(lambda: self.connect_service())
        ui.urlCombo.lineEdit().returnPressed.connect(lambda: self.connect_service())
        ui.urlCombo.editTextChanged.connect(lambda _text: self._address_edited())
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
        self._stop()  # a new Connect replaces the one still running; its answer would be for another address
        token = self._token
        self.messages.clear()
        # Connect stays available: pressing it again (after fixing a typo) replaces this connection
        self.ui.connectStatusLabel.setText(tr("Connecting…"))
        self._task = self._start_service_task(
            text, authcfg, lambda info, error: self._service_done(token, text, authcfg, info, error))
        return True

    def _start_service_task(self, url: str, authcfg: str, done):
        from ...tasks.service_task import fetch_service_task

        task = fetch_service_task(url, authcfg, on_result=lambda info: done(info, None),
                                  on_error=lambda message: done(None, message), keeper=self.controller.keeper)
        return task

    def _stop(self) -> None:
        self._token += 1
        task, self._task = self._task, None
        if task is not None:
            with contextlib.suppress(RuntimeError):  # already finished and deleted
                task.cancel()

    def _service_done(self, token: int, typed: str, authcfg: str, info, error) -> None:
        if token != self._token:
            return  # the user connected again meanwhile: a late answer for an old address
        self._task = None
        self.ui.connectStatusLabel.setText("")
        if info is None:
            text = error if isinstance(error, str) else error_message(error) if error else tr("Connection failed.")
            self._connect_failed(text)
            return
        try:
            self.set_service(info, authcfg, typed)
        except ArcGISOfflineTilesError as exc:
            self._connect_failed(error_message(exc))
            return
        self.picker.remember(info.url, authcfg)
        self.picker.url_combo.setEditText(info.url)

    def _connect_failed(self, text: str) -> None:
        self.ui.connectStatusLabel.setText("")
        self.messages.error(text, tr("Cannot use the service"))
        if self.controller.service is None:
            self.ui.serviceSummaryLabel.setText(escape(tr("Not connected.")))
        self._address_edited()
        if is_sign_in_message(text):
            self.ui.authSelect.setFocus()  # where the user fixes it

    def set_service(self, info: ServiceInfo, authcfg: str = "", typed: str = "") -> None:
        """Show a fetched service: the controller tells the other panels; the summary is shown here."""
        self.controller.set_service(info, authcfg)
        self._addresses = {a for a in (_normal(info.url), _normal(typed)) if a}
        self._summary = summary_html(info, self.controller.service_crs)
        self.controller.set_address_matches(True)
        self.ui.serviceSummaryLabel.setText(self._summary)
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

    def address_matches(self) -> bool:
        """Whether the address field still names the connected service (True when none is connected)."""
        return self.controller.service is None or _normal(self.picker.url()) in self._addresses

    def _address_edited(self) -> None:
        """The levels, counts and Export are for the connected service: once the address names another
        one, say so and let nothing be exported until Connect succeeds (or the address is put back)."""
        service = self.controller.service
        if service is None:
            return
        matches = self.address_matches()
        self.controller.set_address_matches(matches)
        if matches:
            self.ui.serviceSummaryLabel.setText(self._summary)
            return
        note = tr("The address no longer names the connected service {name}: press Connect to use it. The "
                  "levels and counts below are still those of {name}; nothing is exported until the address "
                  "and the connected service match.").format(name=service.name or service.url)
        self.ui.serviceSummaryLabel.setText(f"<span style='color:#a61e14'><b>{escape(note)}</b></span><br>"
                                            + self._summary)

    def use_export_twin(self) -> None:
        service = self.controller.service
        if service is not None and service.export_twin:
            self.connect_service(service.export_twin)

    def close(self) -> None:
        self._stop()
        self.picker.close()


def _normal(url: str) -> str:
    """An address as the service URL it names (case and trailing parts aside), else as typed."""
    text = (url or "").strip()
    return (service_url_or_none(text) or text) if text else ""
