"""What the files and layers of an export are called, and what a merged export becomes: said before
the export starts, never changed behind the user's back."""
from __future__ import annotations

from pathlib import Path

import pytest
from qgis.core import QgsProject

from plugin.gui.exports import ExportState
from plugin.qgis_glue import settings
from tests.qgis.conftest import connect
from tests.qgis.exports_helpers import TIMEOUT_MS, export_requests, wait_state


@pytest.fixture
def out(tmp_path):
    folder = tmp_path / "out"
    folder.mkdir()
    settings.set_output_folder(str(folder))
    return folder


def _italy(dock, countries) -> None:
    countries.selectByExpression("\"NAME\" = 'Italy'")
    dock.ui.layerCombo.setLayer(countries)
    assert dock.use_features()


def test_save_to_proposes_a_fresh_name_from_the_service_the_area_and_the_levels(dock, qtbot, emulator, countries,
                                                                                out):
    connect(dock, qtbot, emulator.service_url("World_Map", "MapServer"))
    _italy(dock, countries)
    dock.model.set_checked_levels(range(5))
    assert dock.output_path() == str(out / "World_Map_Italy_L0-4.tpkx")
    dock.recount_now()
    emulator.configure("World_Map/MapServer", job_steps=1000, job_step_delay_s=0.2)
    export_id = dock.export()
    assert dock.manager.view(export_id).request.output_path == str(out / "World_Map_Italy_L0-4.tpkx")
    assert dock.output_path() == str(out / "World_Map_Italy_L0-4 (2).tpkx")  # the next export's own name
    dock.manager.cancel(export_id)
    wait_state(qtbot, dock.manager, export_id)

    connect(dock, qtbot, emulator.service_url("World_Imagery", "ImageServer"))
    assert Path(dock.output_path()).name.startswith("World_Imagery_Italy_L")  # not the previous service's


def test_a_name_the_user_typed_is_kept_and_a_rename_is_said_on_the_card(dock, qtbot, emulator, shown_canvas, out):
    connect(dock, qtbot, emulator.service_url("World_Map", "MapServer"))
    dock.use_canvas_extent()
    dock.model.set_checked_levels([0, 1])
    (out / "italy_map.tpkx").write_bytes(b"an earlier export")
    dock.ui.outputWidget.setFilePath(str(out / "italy_map.tpkx"))
    dock.recount_now()
    dock.ui.areaSourceCombo.setCurrentIndex(0)
    emulator.configure("World_Map/MapServer", job_steps=1000, job_step_delay_s=0.2)
    export_id = dock.export()
    view = dock.manager.view(export_id)
    assert view.request.output_path == str(out / "italy_map (2).tpkx")
    card = dock.exports_panel.card(export_id)
    assert "italy_map (2).tpkx" in card.details.text() and "italy_map.tpkx exists" in card.details.text()
    dock.manager.cancel(export_id)
    wait_state(qtbot, dock.manager, export_id)


def test_layers_are_named_after_their_export(dock, qtbot, emulator, shown_canvas, out):
    connect(dock, qtbot, emulator.service_url("World_Map", "MapServer"))
    dock.use_canvas_extent()
    names = []
    for levels in ([0], [0, 1]):
        dock.model.set_checked_levels(levels)
        dock.recount_now()
        before = set(QgsProject.instance().mapLayers())
        export_id = dock.export()
        view = wait_state(qtbot, dock.manager, export_id, timeout=TIMEOUT_MS)
        assert view.state == ExportState.FINISHED, view.error
        [layer_id] = set(QgsProject.instance().mapLayers()) - before
        names.append(QgsProject.instance().mapLayer(layer_id).name())
    assert names == ["World_Map_L0", "World_Map_L0-1"]


def test_what_a_merged_split_export_becomes_is_said_before_it_starts(dock, qtbot, emulator, shown_canvas, out):
    emulator.configure("World_Map/MapServer", max_export_tiles=12)
    connect(dock, qtbot, emulator.service_url("World_Map", "MapServer"))
    dock.use_canvas_extent()
    dock.model.set_checked_levels([2, 3, 4, 5])
    dock.ui.outputWidget.setFilePath(str(out / "europe.tpkx"))
    dock.recount_now()
    qtbot.waitUntil(lambda: not dock.planning, timeout=20_000)
    assert dock.ui.splitCheck.isChecked() and dock.ui.mergeCheck.isChecked()
    text = dock.ui.planLabel.text()
    assert "europe.gpkg" in text and "GeoPackage" in text and "Field Maps" in text
    dock.ui.mergeCheck.setChecked(False)
    dock._update_totals()
    qtbot.waitUntil(lambda: not dock.planning, timeout=20_000)
    assert "europe.gpkg" not in dock.ui.planLabel.text()
    assert "separate packages" in dock.ui.planLabel.text()
    assert export_requests(emulator) == []  # all of it before anything was asked of the server
