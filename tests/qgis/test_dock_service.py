"""The dock's service section, driven like a user: type an address, press Connect, read the summary."""
from __future__ import annotations

import pytest
from qgis.core import Qgis, QgsProject, QgsRasterLayer, QgsSettings, QgsVectorTileLayer
from qgis.PyQt.QtCore import Qt

from plugin.core.service import parse_service_json
from plugin.gui import service_picker
from plugin.qgis_glue import settings
from tests.qgis.conftest import basic_auth_config, connect


def test_connect_shows_type_crs_and_levels(dock, qtbot, emulator):
    connect(dock, qtbot, emulator.service_url("World_Vector", "VectorTileServer"))
    summary = dock.ui.serviceSummaryLabel.text()
    assert dock.service is not None, dock.message_text()
    assert "World_Vector" in summary
    assert "vector tile service" in summary
    assert "EPSG:3857" in summary
    assert "512×512 px, pbf" in summary
    assert "Levels 0–6 (1:295,828,768 to 1:4,622,324)" in summary  # QGIS's spelling of scales
    assert "Export allowed, up to 100,000 tiles per server job" in summary
    assert "version 11.1" in summary
    assert dock.model.rowCount() == len(dock.service.available_lods)
    assert dock.message_text() == ""
    assert not dock.ui.estimateButton.isVisible()  # vector services have no server estimate
    assert [dock.ui.formatCombo.itemData(i) for i in range(dock.ui.formatCombo.count())] == ["vtpk"]


def test_map_service_summary_and_formats(dock, qtbot, emulator):
    connect(dock, qtbot, emulator.service_url("World_Map", "MapServer"))
    assert "tiled map service" in dock.ui.serviceSummaryLabel.text()
    assert "256×256 px, PNG32" in dock.ui.serviceSummaryLabel.text()
    assert [dock.ui.formatCombo.itemData(i) for i in range(dock.ui.formatCombo.count())] == ["tpkx", "tpk"]
    assert dock.ui.formatCombo.currentData() == "tpkx"
    assert dock.ui.optimizeCheck.isHidden()  # PNG tiles: nothing to optimise


@pytest.mark.parametrize(("address", "expected"), [
    ("not an address", "No ArcGIS service was found"),
    ("https://example.com/arcgis/rest/services/Parcels/FeatureServer", "is not a tiled ArcGIS service"),
])
def test_bad_addresses_are_explained_in_the_dock(dock, qtbot, address, expected):
    dock.ui.urlCombo.setEditText(address)
    qtbot.mouseClick(dock.ui.connectButton, Qt.MouseButton.LeftButton)
    assert expected in dock.message_text()
    assert dock.service is None
    assert dock.ui.connectButton.isEnabled()


def test_missing_service_is_explained_in_the_dock(dock, qtbot, emulator):
    connect(dock, qtbot, emulator.service_url("No_Such_Map", "MapServer"))
    assert dock.service is None
    assert "No ArcGIS service was found" in dock.message_text()
    assert "No_Such_Map" in dock.message_text()
    assert "Not connected" in dock.ui.serviceSummaryLabel.text()


def test_feature_server_on_the_server_is_refused_with_the_reason(dock, qtbot, emulator):
    connect(dock, qtbot, emulator.services_url + "/World_Map/FeatureServer/0")
    assert "FeatureServer serves features, not map tiles" in dock.message_text()


def test_secured_service_asks_for_an_auth_config_then_connects_with_one(dock_factory, qtbot, emulator):
    dock = dock_factory()
    url = emulator.secured_service_url
    connect(dock, qtbot, url)
    assert dock.service is None
    assert "Choose an authentication configuration" in dock.message_text()

    authcfg = basic_auth_config()
    connect(dock, qtbot, url, authcfg=authcfg)
    assert dock.service is not None, dock.message_text()
    assert dock.message_text() == ""
    assert dock.authcfg == authcfg
    assert settings.auth_config_for(dock.service.url) == authcfg  # only the id is stored
    assert "field-work-2026" not in str([QgsSettings().value(k) for k in QgsSettings().allKeys()
                                         if k.startswith("arcgis_offline_tiles")])

    again = dock_factory()  # a new dock (next QGIS session) offers the service with its sign-in
    assert again.ui.urlCombo.currentText() == dock.service.url
    assert again.ui.authSelect.configId() == authcfg


def test_export_not_allowed_is_said_and_blocks_export(dock, qtbot, emulator):
    emulator.configure("World_Map/MapServer", export_allowed=False)
    connect(dock, qtbot, emulator.service_url("World_Map", "MapServer"))
    assert dock.service is not None
    assert "Export: not allowed by the service" in dock.ui.serviceSummaryLabel.text()
    assert "does not allow tile export" in dock.message_text()
    assert dock.ui.twinButton.isHidden()  # no export-enabled copy of a private service
    dock.use_canvas_extent()
    dock.recount_now()
    assert not dock.ui.exportButton.isEnabled()


def test_public_basemap_offers_its_export_enabled_copy(dock, emulator, monkeypatch):
    doc = dict(emulator.service("World_Map/MapServer").document())
    doc["exportTilesAllowed"] = False
    public = parse_service_json("https://services.arcgisonline.com/arcgis/rest/services/World_Street_Map/MapServer",
                                doc)
    dock.set_service(public)
    assert not dock.ui.twinButton.isHidden()
    assert "export-enabled copy" in dock.message_text()
    started = []
    monkeypatch.setattr(dock.service_panel, "_start_service_task", lambda url, authcfg, done: started.append(url))
    dock.ui.twinButton.click()
    assert started == ["https://tiledbasemaps.arcgis.com/arcgis/rest/services/World_Street_Map/MapServer"]


def test_recent_services_are_offered_in_a_new_dock(dock_factory, qtbot, emulator):
    first = dock_factory()
    vector = emulator.service_url("World_Vector", "VectorTileServer")
    raster = emulator.service_url("World_Map", "MapServer")
    connect(first, qtbot, vector + "/?f=pjson")  # what users paste: normalised before it is remembered
    connect(first, qtbot, raster)
    second = dock_factory()
    combo = second.ui.urlCombo
    assert [combo.itemText(i) for i in range(combo.count())][:2] == [raster, vector]
    assert combo.currentText() == raster
    combo.setCurrentIndex(1)
    combo.activated.emit(1)
    assert second.picker.url() == vector


@pytest.fixture
def saved_connections(emulator):
    """Connections saved the way the running QGIS saves them (its settings layout changed in 3.30)."""
    authcfg = basic_auth_config(name="saved connection")
    vector = emulator.service_url("World_Vector", "VectorTileServer")
    if Qgis.QGIS_VERSION_INT >= 33000:
        keys = {
            "connections/arcgisfeatureserver/items/Emulator server/url": emulator.services_url,
            "connections/arcgisfeatureserver/items/Emulator map/url": emulator.service_url("World_Map", "MapServer"),
            "connections/arcgisfeatureserver/items/Emulator map/authcfg": authcfg,
            "connections/vector-tile/items/Emulator vector/url": vector,
            "connections/vector-tile/items/Emulator vector/service-type": "arcgis",
            "connections/vector-tile/items/Plain XYZ/url": "https://tiles.example.com/{z}/{x}/{y}.pbf",
        }
    else:
        keys = {
            "qgis/connections-arcgisfeatureserver/Emulator server/url": emulator.services_url,
            "qgis/connections-arcgisfeatureserver/Emulator map/url": emulator.service_url("World_Map", "MapServer"),
            "qgis/ARCGISFEATURESERVER/Emulator map/authcfg": authcfg,
            "qgis/connections-vector-tile/Emulator vector/url": vector,
            "qgis/connections-vector-tile/Emulator vector/serviceType": "arcgis",
            "qgis/connections-vector-tile/Plain XYZ/url": "https://tiles.example.com/{z}/{x}/{y}.pbf",
        }
    qsettings = QgsSettings()
    for key, value in keys.items():
        qsettings.setValue(key, value)
    yield authcfg
    for key in keys:
        qsettings.remove(key.rsplit("/", 1)[0])


@pytest.fixture
def connections_saved_later(request):
    """Save the connections of ``saved_connections`` only when the test asks (QGIS is running)."""
    return lambda: request.getfixturevalue("saved_connections")


def test_connections_saved_while_qgis_runs_are_offered_without_a_restart(dock, qtbot, connections_saved_later):
    combo = dock.ui.connectionsCombo
    assert not any(combo.itemText(i).startswith("Emulator map") for i in range(combo.count()))
    assert combo.isEnabled()  # the user can open it to look again
    connections_saved_later()  # the user adds a connection in the Data Source Manager
    qtbot.mouseClick(combo, Qt.MouseButton.LeftButton)  # and opens the dock's list
    combo.hidePopup()
    assert any(combo.itemText(i).startswith("Emulator map") for i in range(combo.count()))


def test_saved_arcgis_connections_are_listed_and_used(saved_connections, dock, qtbot, emulator):
    names = [c.name for c in service_picker.saved_connections()]
    assert {"Emulator server", "Emulator map", "Emulator vector"} <= set(names)
    assert "Plain XYZ" not in names  # not an ArcGIS vector tile connection
    combo = dock.ui.connectionsCombo
    entries = [combo.itemText(i) for i in range(combo.count())]
    index = next(i for i, text in enumerate(entries) if text.startswith("Emulator map"))
    combo.setCurrentIndex(index)
    combo.activated.emit(index)
    assert dock.picker.url() == emulator.service_url("World_Map", "MapServer")
    assert dock.ui.authSelect.configId() == saved_connections

    index = next(i for i, text in enumerate(entries) if text.startswith("Emulator vector"))
    combo.activated.emit(index)
    assert dock.picker.url() == emulator.service_url("World_Vector", "VectorTileServer")
    connect(dock, qtbot, dock.picker.url(), authcfg="")
    assert dock.service is not None and dock.service.name == "World_Vector"

    index = next(i for i, text in enumerate(entries) if text.startswith("Emulator server"))
    combo.activated.emit(index)  # a server, not a service: the user is told to complete the address
    assert dock.picker.url().endswith("/rest/services/")
    assert "points at a server, not at one service" in dock.message_text()


def test_service_of_the_current_layer(dock, qtbot, qgis_iface, qgis_canvas, emulator):
    url = emulator.service_url("World_Vector", "VectorTileServer")
    authcfg = basic_auth_config(name="layer sign-in")
    layer = QgsVectorTileLayer(f"serviceType=arcgis&type=xyz&url={url}&authcfg={authcfg}", "vector basemap")
    QgsProject.instance().addMapLayer(layer, False)
    assert not dock.ui.layerButton.isEnabled()
    qgis_iface.setActiveLayer(layer)
    qgis_iface.currentLayerChanged.emit(qgis_canvas)
    assert dock.ui.layerButton.isEnabled()
    qtbot.mouseClick(dock.ui.layerButton, Qt.MouseButton.LeftButton)
    assert dock.picker.url() == url
    assert dock.ui.authSelect.configId() == authcfg


def test_service_urls_are_extracted_from_arcgis_layers(emulator):
    map_url = emulator.service_url("World_Map", "MapServer")
    ams = QgsRasterLayer(f"crs='EPSG:3857' format='PNG32' layer='0' url='{map_url}'", "ams", "arcgismapserver")
    xyz = QgsRasterLayer(f"type=xyz&url={map_url}/tile/%7Bz%7D/%7By%7D/%7Bx%7D&zmax=10&zmin=0", "xyz", "wms")
    osm = QgsRasterLayer("type=xyz&url=https://tile.openstreetmap.org/%7Bz%7D/%7Bx%7D/%7By%7D.png", "osm", "wms")
    plain_vt = QgsVectorTileLayer("type=xyz&url=https://tiles.example.com/%7Bz%7D/%7Bx%7D/%7By%7D.pbf", "vt")
    assert service_picker.service_from_layer(ams) == (map_url, "")
    assert service_picker.service_from_layer(xyz) == (map_url, "")
    assert service_picker.service_from_layer(osm) is None
    assert service_picker.service_from_layer(plain_vt) is None
    assert service_picker.service_from_layer(None) is None


def test_sign_in_messages_are_recognised_to_focus_the_auth_selector():
    from plugin.core.errors import AuthFailedError, AuthRequiredError, ServiceNotFoundError
    from plugin.gui.panels.service_panel import is_sign_in_message as _is_sign_in_message
    from plugin.qgis_glue.i18n import error_message

    assert _is_sign_in_message(error_message(AuthRequiredError()))
    assert _is_sign_in_message(error_message(AuthFailedError(reason="invalid token")))
    assert not _is_sign_in_message(error_message(ServiceNotFoundError(url="https://example.com")))
