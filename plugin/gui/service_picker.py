"""Where a service address comes from: typed (with a history), a saved QGIS connection, or a layer.

Saved connections, in each QGIS version's own settings layout:

* ArcGIS REST connections (QGIS 3.16+ keeps map and feature servers in one list): up to QGIS 3.28
  ``qgis/connections-arcgisfeatureserver/<name>/url`` with the auth config under
  ``qgis/ARCGISFEATURESERVER/<name>/authcfg``, read through ``QgsOwsConnection`` (the older
  ``ARCGISMAPSERVER`` list too); from QGIS 3.30 the settings tree's
  ``connections/arcgisfeatureserver/items/<name>/url`` and ``…/authcfg``, read directly (no Python
  API lists them).
* Vector tile connections whose service type is ``arcgis`` (``qgis/connections-vector-tile/<name>/``
  ``url`` + ``serviceType`` up to 3.28, ``connections/vector-tile/items/<name>/url`` + ``service-type``
  later), read through the ``vectortile`` provider's connections in every version.
"""
from __future__ import annotations

import contextlib
import logging
from dataclasses import dataclass
from urllib.parse import unquote

from qgis.core import QgsOwsConnection, QgsProviderRegistry, QgsSettings, QgsVectorTileLayer
from qgis.PyQt.QtCore import QEvent, QObject, Qt, pyqtSignal
from qgis.PyQt.QtWidgets import QComboBox

from ..core.errors import ArcGISOfflineTilesError
from ..core.service import parse_service_url
from ..qgis_glue import settings
from ..qgis_glue.i18n import translator

LOG = logging.getLogger(__name__)

ARCGIS_REST_SERVICES = ("ARCGISFEATURESERVER", "ARCGISMAPSERVER")
ARCGIS_REST_TREE = "connections/arcgisfeatureserver/items"  # QGIS 3.30+ settings tree
TILE_PATH = "/MapServer/tile/"
URL_ROLE = int(getattr(Qt.ItemDataRole.UserRole, "value", Qt.ItemDataRole.UserRole))
AUTH_ROLE = URL_ROLE + 1


tr = translator("ServicePicker")


@dataclass(frozen=True)
class SavedConnection:
    name: str
    url: str
    authcfg: str
    kind: str  # "ArcGIS REST" or "Vector tiles"

    @property
    def is_service(self) -> bool:
        """True when the URL names a tiled service (not only a server or folder)."""
        return service_url_or_none(self.url) is not None


def service_url_or_none(url: str) -> str | None:
    try:
        return parse_service_url(url).service_url
    except ArcGISOfflineTilesError:
        return None


def saved_connections() -> list[SavedConnection]:
    """QGIS's saved ArcGIS REST and ArcGIS vector tile connections, sorted by name."""
    found: dict[tuple[str, str], SavedConnection] = {}
    qsettings = QgsSettings()
    qsettings.beginGroup(ARCGIS_REST_TREE)
    tree_names = qsettings.childGroups()
    qsettings.endGroup()
    for name in tree_names:
        url = str(qsettings.value(f"{ARCGIS_REST_TREE}/{name}/url", "") or "")
        if url:
            authcfg = str(qsettings.value(f"{ARCGIS_REST_TREE}/{name}/authcfg", "") or "")
            found.setdefault((name, url), SavedConnection(name, url, authcfg, tr("ArcGIS REST")))
    for service in ARCGIS_REST_SERVICES:
        try:
            names = QgsOwsConnection.connectionList(service)
        except Exception:  # noqa: BLE001 - a settings layout QGIS cannot read must not break the dock
            LOG.debug("No %s connections could be read", service, exc_info=True)
            continue
        for name in names:
            uri = QgsOwsConnection(service, name).uri()
            url = uri.param("url")
            if url:
                found.setdefault((name, url), SavedConnection(name, url, uri.authConfigId() or "",
                                                              tr("ArcGIS REST")))
    metadata = QgsProviderRegistry.instance().providerMetadata("vectortile")
    if metadata is not None:
        try:
            connections = metadata.connections()
        except Exception:  # noqa: BLE001 - same reason as above
            LOG.debug("No vector tile connections could be read", exc_info=True)
            connections = {}
        for name, connection in connections.items():
            parts = QgsProviderRegistry.instance().decodeUri("vectortile", connection.uri())
            if str(parts.get("serviceType", "")).lower() != "arcgis" or not parts.get("url"):
                continue
            url = unquote(str(parts["url"]))
            found.setdefault((name, url), SavedConnection(name, url, str(parts.get("authcfg") or ""),
                                                          tr("Vector tiles")))
    return sorted(found.values(), key=lambda c: (c.name.lower(), c.kind))


def service_from_layer(layer) -> tuple[str, str] | None:
    """``(service URL, auth config id)`` of an ArcGIS map/image/vector tile service layer, else ``None``."""
    if layer is None:
        return None
    registry = QgsProviderRegistry.instance()
    provider = layer.providerType() if hasattr(layer, "providerType") else ""
    source = layer.source()
    if isinstance(layer, QgsVectorTileLayer):
        parts = registry.decodeUri("vectortile", source)
        if str(parts.get("serviceType", "")).lower() != "arcgis":
            return None
    elif provider == "arcgismapserver":
        parts = registry.decodeUri("arcgismapserver", source)
    elif provider == "wms":
        parts = registry.decodeUri("wms", source)
        if TILE_PATH.lower() not in unquote(str(parts.get("url", ""))).lower():
            return None
    else:
        return None
    url = service_url_or_none(unquote(str(parts.get("url", ""))))
    if url is None:
        return None
    return url, str(parts.get("authcfg") or "")


OPENING_EVENTS = (QEvent.Type.MouseButtonPress, QEvent.Type.KeyPress)  # before the combo's popup opens


class ServicePicker(QObject):
    """Wires the service widgets: the URL combo (history), saved connections, “from layer”, auth.

    ``urlChosen(url)`` fires when a history entry, a connection or a layer puts an address in the field
    (typing does not); the auth selector then shows the auth config remembered for that address.
    ``message(text)`` carries hints for the user (e.g. a connection that names a server, not a service).
    """

    urlChosen = pyqtSignal(str)
    message = pyqtSignal(str)

    def __init__(self, url_combo, connections_combo, layer_button, auth_select, iface=None, parent=None) -> None:
        super().__init__(parent)
        self.url_combo = url_combo
        self.connections_combo = connections_combo
        self.layer_button = layer_button
        self.auth_select = auth_select
        self.iface = iface
        self._connections: list[SavedConnection] = []
        url_combo.setEditable(True)
        url_combo.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        url_combo.lineEdit().setPlaceholderText(tr("https://…/rest/services/…/MapServer"))
        url_combo.lineEdit().setClearButtonEnabled(True)
        url_combo.activated.connect(self._history_chosen)
        connections_combo.activated.connect(self._connection_chosen)
        # Connections saved in the Data Source Manager while QGIS runs send no signal the dock could
        # follow: the list is read again whenever the user is about to open it (and when the dock shows).
        connections_combo.installEventFilter(self)
        layer_button.clicked.connect(self.use_current_layer)
        self.reload_history()
        self.reload_connections()
        if iface is not None:
            iface.currentLayerChanged.connect(self._update_layer_button)
        self._update_layer_button()

    # --- the address -----------------------------------------------------------------------
    def url(self) -> str:
        return self.url_combo.currentText().strip()

    def authcfg(self) -> str:
        return self.auth_select.configId() or ""

    def set_url(self, url: str, authcfg: str | None = None) -> None:
        """Put ``url`` in the field and select its auth config (given, else the remembered one)."""
        self.url_combo.setEditText(url)
        remembered = authcfg if authcfg is not None else settings.auth_config_for(url)
        if authcfg is not None or remembered:
            self.auth_select.setConfigId(remembered or "")
        self.urlChosen.emit(url)

    def remember(self, url: str, authcfg: str) -> None:
        """After a successful connection: first in the history, auth config remembered (id only)."""
        settings.remember_service(url)
        settings.set_auth_config_for(url, authcfg)
        self.reload_history(current=url)

    def reload_history(self, current: str | None = None) -> None:
        text = current if current is not None else self.url_combo.currentText()
        self.url_combo.blockSignals(True)
        self.url_combo.clear()
        self.url_combo.addItems(settings.recent_services())
        self.url_combo.setEditText(text)
        self.url_combo.blockSignals(False)

    def _history_chosen(self, index: int) -> None:
        url = self.url_combo.itemText(index)
        if url:
            self.set_url(url)

    # --- saved connections -----------------------------------------------------------------
    def reload_connections(self) -> None:
        self._connections = saved_connections()
        combo = self.connections_combo
        combo.blockSignals(True)
        combo.clear()
        combo.addItem(tr("Saved connections…") if self._connections else tr(
            "No saved connections (add one in the Data Source Manager)"))
        for connection in self._connections:
            combo.addItem(f"{connection.name} ({connection.kind})")
            combo.setItemData(combo.count() - 1, connection.url, URL_ROLE)
            combo.setItemData(combo.count() - 1, connection.url, Qt.ItemDataRole.ToolTipRole)
            combo.setItemData(combo.count() - 1, connection.authcfg, AUTH_ROLE)
        combo.setCurrentIndex(0)
        combo.blockSignals(False)

    def eventFilter(self, watched, event) -> bool:
        if watched is self.connections_combo and event.type() in OPENING_EVENTS:
            self.reload_connections()
        return False

    @property
    def connections(self) -> list[SavedConnection]:
        return list(self._connections)

    def _connection_chosen(self, index: int) -> None:
        if index <= 0 or index > len(self._connections):
            return
        connection = self._connections[index - 1]
        self.connections_combo.setCurrentIndex(0)
        self.use_connection(connection)

    def use_connection(self, connection: SavedConnection) -> None:
        service = service_url_or_none(connection.url)
        if service is None:
            # QGIS's ArcGIS REST connections usually name the server; the service path must be added.
            base = connection.url.rstrip("/")
            if "/rest/services" not in base.lower():
                base += "/rest/services"
            self.set_url(base + "/", connection.authcfg)
            self.message.emit(tr("The connection “{name}” points at a server, not at one service: complete the "
                                 "address with the service, e.g. …/rest/services/World_Topo_Map/MapServer, "
                                 "then connect.").format(name=connection.name))
            self.url_combo.setFocus()
            return
        self.set_url(service, connection.authcfg)

    # --- the current layer -----------------------------------------------------------------
    def refresh_layer_button(self) -> None:
        """Enable “from layer” when the current layer is an ArcGIS tiled service layer."""
        self._update_layer_button()

    def refresh(self) -> None:
        """What may have changed while the dock was hidden: saved connections, the current layer."""
        self.reload_connections()
        self._update_layer_button()

    def _current_layer(self):
        return self.iface.activeLayer() if self.iface is not None else None

    def _update_layer_button(self, *_args) -> None:
        found = service_from_layer(self._current_layer())
        self.layer_button.setEnabled(found is not None)
        self.layer_button.setToolTip(
            tr("Use the service of the current layer: {url}").format(url=found[0]) if found else
            tr("Select an ArcGIS map, image or vector tile service layer in the Layers panel to use its service"))

    def close(self) -> None:
        """Stop following the current layer (the dock is going away)."""
        if self.iface is not None:
            with contextlib.suppress(TypeError, RuntimeError):
                self.iface.currentLayerChanged.disconnect(self._update_layer_button)

    def use_current_layer(self) -> bool:
        found = service_from_layer(self._current_layer())
        if found is None:
            self.message.emit(tr("The current layer is not an ArcGIS tiled service layer."))
            return False
        url, authcfg = found
        self.set_url(url, authcfg or None)
        return True
