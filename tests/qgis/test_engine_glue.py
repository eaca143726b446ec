"""The engine built from QGIS settings reaches the emulator, signs in through an auth config."""
from __future__ import annotations

from qgis.core import QgsApplication

from plugin.core.area import Area
from plugin.qgis_glue import engine
from tests.qgis.conftest import basic_auth_config


def test_version_comes_from_metadata():
    assert engine.plugin_version().count(".") == 2


def test_job_records_live_in_the_qgis_profile():
    config = engine.engine_config("")
    assert config.store_folder.startswith(QgsApplication.qgisSettingsDirPath())
    assert config.http.version == engine.plugin_version()


def test_secured_service_is_read_with_the_auth_config(emulator):
    authcfg = basic_auth_config("analyst", "field-work-2026")
    exporter = engine.create_exporter(engine.engine_config(authcfg, with_store=False))
    service = exporter.fetch(emulator.service_url("World_Map", "MapServer", folder="Secured"))
    assert service.name
    plan = exporter.prepare(service, Area.from_extent(-2e6, -2e6, 2e6, 2e6), levels=[0, 1, 2])
    assert plan.requested_tiles > 0
    sent = [r for r in emulator.requests if "generateToken" in r.path]
    assert sent, "the password was exchanged for a token"
    assert all("field-work-2026" not in str(r.params) for r in emulator.requests if "generateToken" not in r.path)
