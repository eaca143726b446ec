"""The dock's service section, driven like a user: type an address, press Connect, read the summary."""
from __future__ import annotations

from tests.qgis.conftest import connect


def test_connect_shows_type_crs_and_levels(dock, qtbot, emulator):
    connect(dock, qtbot, emulator.service_url("World_Vector", "VectorTileServer"))
    summary = dock.ui.serviceSummaryLabel.text()
    assert dock.service is not None, dock.message_text()
    assert "World_Vector" in summary
    assert "vector tile service" in summary
    assert "EPSG:3857" in summary
    assert "Levels 0–" in summary
    assert "Export allowed, up to 100,000 tiles per export" in summary
    assert dock.model.rowCount() == len(dock.service.available_lods)
