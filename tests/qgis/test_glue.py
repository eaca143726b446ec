"""QGIS glue: settings, CRS mapping, areas moved into the service CRS, auth configs."""
from __future__ import annotations

import pytest
from qgis.core import (
    QgsApplication,
    QgsAuthMethodConfig,
    QgsCoordinateReferenceSystem,
    QgsGeometry,
    QgsRectangle,
)

from plugin.core.errors import InvalidRequestError
from plugin.core.tiling import SpatialRef
from plugin.qgis_glue import crs, network, settings


def test_recent_services_are_deduplicated_newest_first_and_bounded():
    for i in range(settings.MAX_RECENT_SERVICES + 5):
        settings.remember_service(f"https://example.com/arcgis/rest/services/S{i}/MapServer")
    settings.remember_service("https://example.com/arcgis/rest/services/S3/MapServer")
    recent = settings.recent_services()
    assert recent[0].endswith("/S3/MapServer")
    assert len(recent) == settings.MAX_RECENT_SERVICES
    assert len(set(recent)) == len(recent)


def test_auth_config_id_is_remembered_per_service_and_nothing_else():
    url = "https://example.com/arcgis/rest/services/Secured/World/MapServer"
    settings.set_auth_config_for(url, "abc1234")
    assert settings.auth_config_for(url) == "abc1234"
    assert settings.auth_config_for(url.replace("World", "Other")) == ""


@pytest.mark.parametrize(("sr", "authid"), [
    (SpatialRef(wkid=102100, latest_wkid=3857), "EPSG:3857"),
    (SpatialRef(wkid=102100), "EPSG:3857"),
    (SpatialRef(wkid=4326, latest_wkid=4326), "EPSG:4326"),
    (SpatialRef(wkid=102718, latest_wkid=2263), "EPSG:2263"),
    (SpatialRef(wkid=102718), "ESRI:102718"),
    (SpatialRef(wkid=4548, latest_wkid=4548), "EPSG:4548"),
])
def test_esri_spatial_references_map_to_qgis_crs(sr, authid):
    assert crs.qgs_crs(sr).authid() == authid


def test_wkt_only_spatial_reference_is_understood():
    wkt = QgsCoordinateReferenceSystem("EPSG:3067").toWkt()
    result = crs.qgs_crs(SpatialRef(wkt=wkt))
    assert result.isValid()
    assert result.mapUnits() == QgsCoordinateReferenceSystem("EPSG:3067").mapUnits()


def test_unknown_spatial_reference_is_refused_clearly():
    with pytest.raises(InvalidRequestError, match="coordinate system"):
        crs.qgs_crs(SpatialRef(wkid=999999))


def test_area_in_wgs84_is_moved_to_web_mercator_and_clipped_at_the_poles():
    area = QgsGeometry.fromRect(QgsRectangle(10, 60, 20, 89.9))
    result = crs.to_service_crs(area, QgsCoordinateReferenceSystem("EPSG:4326"),
                                QgsCoordinateReferenceSystem("EPSG:3857"))
    box = result.boundingBox()
    assert box.xMinimum() == pytest.approx(1113194.9, rel=1e-6)
    assert box.xMaximum() == pytest.approx(2226389.8, rel=1e-6)
    assert box.yMaximum() <= 20048966.2  # cut at Web Mercator's area of use (85.06°)
    assert box.yMinimum() == pytest.approx(8399737.9, rel=1e-6)


def test_area_outside_the_target_crs_is_refused_with_a_message():
    area = QgsGeometry.fromRect(QgsRectangle(-170, -80, -160, -70))  # Antarctic sea, far from New York
    with pytest.raises(InvalidRequestError, match="outside the region"):
        crs.to_service_crs(area, QgsCoordinateReferenceSystem("EPSG:4326"),
                           QgsCoordinateReferenceSystem("EPSG:2263"))


@pytest.fixture
def auth_manager():
    manager = QgsApplication.authManager()
    if not manager.masterPasswordIsSet():
        manager.setMasterPassword("tests-master-password", True)
    return manager


def _store(manager, config):
    result = manager.storeAuthenticationConfig(config)
    assert result[0] if isinstance(result, tuple) else result  # (ok, config) on 3.22, ok on newer
    return config


def test_basic_auth_config_gives_user_and_password(auth_manager):
    config = QgsAuthMethodConfig("Basic")
    config.setName("ArcGIS analyst")
    config.setConfig("username", "analyst")
    config.setConfig("password", "field-work-2026")
    _store(auth_manager, config)
    creds = network.credentials(config.id())
    assert (creds.username, creds.password, creds.token) == ("analyst", "field-work-2026", "")
    assert "field-work-2026" not in repr(creds)


def test_esri_token_auth_config_gives_a_token(auth_manager):
    config = QgsAuthMethodConfig("EsriToken")
    config.setName("ArcGIS token")
    config.setConfig("token", "secret-token-value")
    _store(auth_manager, config)
    creds = network.credentials(config.id())
    assert creds.token == "secret-token-value"
    assert "secret-token-value" not in repr(creds)


def test_missing_auth_config_means_anonymous():
    assert network.credentials("").empty
    assert network.credentials("nosuchid").empty


def test_no_proxy_configured_means_direct_connections():
    assert network.network_options().proxies == {}


def test_extent_across_the_antimeridian_becomes_two_boxes_not_the_whole_world():
    from plugin.qgis_glue.areas import area_from_geometry

    wgs84, mercator = QgsCoordinateReferenceSystem("EPSG:4326"), QgsCoordinateReferenceSystem("EPSG:3857")
    moved = crs.to_service_geometry(QgsGeometry.fromRect(QgsRectangle(170, -20, 190, -10)), wgs84, mercator)
    area = area_from_geometry(moved, as_rectangle=True)
    east = 175 * 20037508.342787 / 180
    assert area.contains_point(east, -1.7e6) and area.contains_point(-east, -1.7e6)
    assert not area.contains_point(0, -1.7e6)  # the box of both strips would cover the whole world
    single = area_from_geometry(crs.to_service_geometry(QgsGeometry.fromRect(QgsRectangle(10, 40, 20, 50)),
                                                        wgs84, mercator), as_rectangle=True)
    assert single.is_rectangle
