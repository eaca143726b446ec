"""Options, output and the Export button: the request the dock hands to the exports manager."""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from qgis.core import QgsProject, QgsRectangle, QgsVectorTileLayer
from qgis.PyQt.QtCore import Qt, QUrl

from plugin.core.request import ExportRequest
from plugin.qgis_glue import settings
from plugin.qgis_glue.areas import geometry_from_area
from tests.qgis.conftest import connect
from tests.qgis.exports_helpers import opened_files_fixture  # noqa: F401 - the opened_files fixture
from tests.qgis.test_dock_area import draw_polygon


def _levels_tag(dock) -> str:
    levels = dock.model.checked_levels()
    return f"L{levels[0]}" if len(levels) == 1 else f"L{levels[0]}-{levels[-1]}"
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def started(exports_manager, monkeypatch):
    """The requests the dock hands to the exports manager (nothing is exported)."""
    requests = []

    def start_export(request):
        requests.append(request)
        return f"export-{len(requests)}"

    monkeypatch.setattr(exports_manager, "start_export", start_export)
    return requests


@pytest.fixture
def output_folder(tmp_path):
    folder = tmp_path / "out"
    folder.mkdir()
    settings.set_output_folder(str(folder))
    return folder


def test_export_button_sends_the_request_the_dock_shows(dock, qtbot, emulator, shown_canvas, started, output_folder):
    url = emulator.service_url("World_Map", "MapServer")
    connect(dock, qtbot, url)
    drawn = draw_polygon(dock, shown_canvas)
    dock.model.set_checked_levels([2, 3, 4])
    dock.recount_now()
    assert dock.output_path() == str(output_folder / "World_Map_L2-4.tpkx")  # service, levels
    assert dock.ui.exportButton.isEnabled()
    qtbot.mouseClick(dock.ui.exportButton, Qt.MouseButton.LeftButton)
    assert len(started) == 1
    request = started[0]
    assert isinstance(request, ExportRequest)
    assert request.service_url == url
    assert request.authcfg == ""
    assert request.levels == (2, 3, 4)
    assert request.fmt == "tpkx"
    assert request.area.is_rectangle is False
    sent = geometry_from_area(request.area)
    assert sent.equals(drawn) or sent.symDifference(drawn).area() < 1e-6 * drawn.area()
    assert (request.optimize, request.quality) == (False, None)
    assert (request.split, request.merge, request.add_to_map) == (True, True, True)
    assert request.output_path == str(output_folder / "World_Map_L2-4.tpkx")
    assert request.service_name == "World_Map"
    assert request.area_label == "Polygon drawn on the map"
    assert "Export started" in dock.message_text()


def test_format_choice_changes_the_file_name_and_is_remembered(dock_factory, qtbot, emulator, shown_canvas, started,
                                                                output_folder):
    dock = dock_factory()
    connect(dock, qtbot, emulator.service_url("World_Map", "MapServer"))
    dock.use_canvas_extent()
    dock.ui.formatCombo.setCurrentIndex(dock.ui.formatCombo.findData("tpk"))
    assert dock.output_path().endswith(f"World_Map_{_levels_tag(dock)}.tpk")
    dock.recount_now()
    dock.export()
    assert started[-1].fmt == "tpk" and started[-1].area.is_rectangle
    assert started[-1].area_label == "Map extent"

    again = dock_factory()
    connect(again, qtbot, emulator.service_url("World_Map", "MapServer"))
    assert again.ui.formatCombo.currentData() == "tpk"


def test_vector_export_has_no_format_choice(dock, qtbot, emulator, shown_canvas, started, output_folder):
    connect(dock, qtbot, emulator.service_url("World_Vector", "VectorTileServer"))
    assert not dock.ui.formatCombo.isEnabled()
    assert dock.output_path().endswith(f"World_Vector_{_levels_tag(dock)}.vtpk")
    dock.use_canvas_extent()
    dock.recount_now()
    dock.export()
    assert started[-1].fmt is None
    assert started[-1].output_path.endswith(".vtpk")


def test_optimise_is_offered_for_jpeg_tiles_only_and_bounded_by_the_service_quality(dock, qtbot, emulator,
                                                                                    shown_canvas, started,
                                                                                    output_folder):
    connect(dock, qtbot, emulator.service_url("World_Imagery", "ImageServer"))
    assert "tiled image service" in dock.ui.serviceSummaryLabel.text()
    assert not dock.ui.optimizeCheck.isHidden()
    assert dock.ui.qualitySlider.maximum() == 75  # the cache's own compressionQuality
    dock.ui.optimizeCheck.setChecked(True)
    dock.ui.qualitySlider.setValue(60)
    dock.use_canvas_extent()
    dock.recount_now()
    dock.export()
    assert (started[-1].optimize, started[-1].quality) == (True, 60)

    connect(dock, qtbot, emulator.service_url("World_Map", "MapServer"))  # PNG32
    assert dock.ui.optimizeCheck.isHidden() and dock.ui.qualitySlider.isHidden()
    dock.export()
    assert (started[-1].optimize, started[-1].quality) == (False, None)


def test_options_and_output_folder_are_remembered(dock_factory, qtbot, emulator, shown_canvas, started, tmp_path):
    dock = dock_factory()
    connect(dock, qtbot, emulator.service_url("World_Map", "MapServer"))
    dock.ui.splitCheck.setChecked(False)
    dock.ui.addToMapCheck.setChecked(False)
    assert not dock.ui.mergeCheck.isEnabled()  # merging only applies to split exports
    folder = tmp_path / "field work"
    folder.mkdir()
    dock.ui.outputWidget.setFilePath(str(folder / "basemap.tpkx"))
    dock.use_canvas_extent()
    dock.model.set_checked_levels([0, 1, 2])
    dock.recount_now()
    dock.export()
    assert started[-1].output_path == str(folder / "basemap.tpkx")
    assert (started[-1].split, started[-1].add_to_map) == (False, False)

    again = dock_factory()
    assert not again.ui.splitCheck.isChecked() and not again.ui.addToMapCheck.isChecked()
    assert again.ui.mergeCheck.isChecked()
    connect(again, qtbot, emulator.service_url("World_Map", "MapServer"))
    assert again.output_path() == str(folder / f"World_Map_{_levels_tag(again)}.tpkx")


def test_quality_and_area_source_are_remembered(dock_factory, qtbot, emulator, shown_canvas, started,
                                                 output_folder):
    dock = dock_factory()
    assert dock.ui.areaSourceCombo.currentIndex() == 0  # first use: a rectangle
    connect(dock, qtbot, emulator.service_url("World_Imagery", "ImageServer"))  # JPEG, its own quality 75
    dock.ui.optimizeCheck.setChecked(True)
    dock.ui.qualitySlider.setValue(55)
    dock.ui.areaSourceCombo.setCurrentIndex(2)  # features of a polygon layer

    again = dock_factory()
    assert again.ui.areaSourceCombo.currentIndex() == 2
    assert again.ui.areaPages.currentWidget() is again.ui.featuresPage
    connect(again, qtbot, emulator.service_url("World_Imagery", "ImageServer"))
    assert again.ui.qualitySlider.value() == 55 and again.ui.qualityValueLabel.text() == "55"
    again.use_canvas_extent()
    again.recount_now()
    again.export()
    assert (started[-1].optimize, started[-1].quality) == (True, 55)

    # a service whose own quality is lower caps the slider, without forgetting the user's choice
    info = again.service
    again.set_service(replace(info, tiling=replace(info.tiling, compression_quality=40)))
    assert (again.ui.qualitySlider.maximum(), again.ui.qualitySlider.value()) == (40, 40)
    third = dock_factory()
    connect(third, qtbot, emulator.service_url("World_Imagery", "ImageServer"))
    assert third.ui.qualitySlider.value() == 55


def test_over_the_limit_without_splitting_is_refused_in_the_dock(dock, qtbot, emulator, shown_canvas, started,
                                                                 output_folder):
    emulator.configure("World_Map/MapServer", max_export_tiles=10)
    connect(dock, qtbot, emulator.service_url("World_Map", "MapServer"))
    dock.area.set_extent(QgsRectangle(-1e6, 4.5e6, 2e6, 7e6), shown_canvas.mapSettings().destinationCrs())
    dock.model.set_checked_levels([0, 1, 2, 3, 4, 5])
    dock.ui.splitCheck.setChecked(False)
    dock.recount_now()
    assert "allows at most 10 per server job" in dock.ui.planLabel.text()
    assert dock.export() is None
    assert started == []
    assert "the server allows 10 per server job" in dock.message_text()

    dock.ui.splitCheck.setChecked(True)
    dock._update_totals()
    qtbot.waitUntil(lambda: not dock.planning, timeout=10000)
    assert "parts of at most 10 tiles" in dock.ui.planLabel.text()
    assert dock.export() == "export-1"
    assert started[-1].split


def test_export_explains_what_is_missing(dock, qtbot, emulator, started, output_folder):
    assert not dock.ui.exportButton.isEnabled()
    assert dock.export() is None
    assert "Connect to a service first" in dock.message_text()
    connect(dock, qtbot, emulator.service_url("World_Map", "MapServer"))
    assert dock.export() is None
    assert "Choose the area first" in dock.message_text()
    dock.use_canvas_extent()
    dock.model.set_checked_levels([])
    assert dock.export() is None
    assert "Tick at least one level" in dock.message_text()
    dock.model.set_checked_levels([0])
    dock.ui.outputWidget.setFilePath(str(output_folder / "missing" / "basemap.tpkx"))
    assert dock.export() is None
    assert "does not exist" in dock.message_text()
    assert started == []


def test_help_opens_a_guide_for_analysts_shipped_with_the_plugin(dock, opened_files):
    import re

    dock.ui.helpButton.click()
    page = REPO / "help" / "index.html"
    assert opened_files == [QUrl.fromLocalFile(str(page))]  # the browser opens HTML, not raw Markdown
    text = page.read_text(encoding="utf-8")
    assert "make deploy" not in text and "## " not in text  # not the README
    for step in ("Point at the service", "Choose the area", "Tick the levels", "Export and follow it"):
        assert step in text
    pictures = re.findall(r'<img src="([^"]+)"', text)
    assert len(pictures) >= 3 and all((page.parent / src).is_file() for src in pictures)
    assert dock.message_text() == ""


@pytest.mark.slow
def test_export_end_to_end_adds_the_layer(dock, qtbot, emulator, shown_canvas, tmp_path):
    """Connect to the vector service, draw a polygon, export, and find the layer in the project, in place."""
    from tests.qgis.test_dock_end_to_end import _tile_info, assert_placed

    url = emulator.service_url("World_Vector", "VectorTileServer")
    connect(dock, qtbot, url)
    drawn = draw_polygon(dock, shown_canvas)
    dock.model.set_checked_levels([0, 1, 2])
    dock.ui.outputWidget.setFilePath(str(tmp_path / "vector.vtpk"))
    dock.recount_now()
    layers_before = set(QgsProject.instance().mapLayers())
    export_id = dock.export()
    assert export_id, dock.message_text()
    assert dock.manager.view(export_id) is not None
    qtbot.waitUntil(lambda: bool(set(QgsProject.instance().mapLayers()) - layers_before), timeout=120000)
    new = [QgsProject.instance().mapLayer(i) for i in set(QgsProject.instance().mapLayers()) - layers_before]
    assert len(new) == 1 and new[0].isValid()
    assert isinstance(new[0], QgsVectorTileLayer)
    assert_placed(new[0], drawn.boundingBox(), _tile_info(url), 2, vector=True)  # CRS and extent
    assert (tmp_path / "vector.vtpk").exists()
    assert dock.exports_panel is not None


def test_old_server_is_said_to_export_the_bounding_box(dock, qtbot, emulator, shown_canvas, started, output_folder):
    emulator.configure("World_Vector/VectorTileServer", version=10.6)  # polygons need 10.7
    connect(dock, qtbot, emulator.service_url("World_Vector", "VectorTileServer"))
    draw_polygon(dock, shown_canvas)
    dock.recount_now()
    assert "cannot export a polygon: its bounding box is exported instead" in dock.ui.planLabel.text()



def test_tile_cache_is_offered_for_map_and_image_services_and_saved_to_a_folder(dock, qtbot, emulator, started,
                                                                                  output_folder):
    from plugin.core.tilecache import TILE_CACHE

    connect(dock, qtbot, emulator.service_url("World_Vector", "VectorTileServer"))
    check = dock.options_panel.cache_check
    assert not check.isVisibleTo(dock)  # vector tile services give packages only
    connect(dock, qtbot, emulator.service_url("World_Map", "MapServer"))
    assert check.isVisibleTo(dock) and check.text() == "Tile cache (folder)"
    dock.use_canvas_extent()
    package = Path(dock.output_path())
    assert package.suffix == ".tpkx"
    check.setChecked(True)
    assert dock.output_path() == str(package.with_suffix(""))  # the same name, as a folder
    (output_folder / "World_Map_L0-1").mkdir()  # an earlier cache of that name is never written into
    dock.model.set_checked_levels([0, 1])
    assert dock.output_path() == str(output_folder / "World_Map_L0-1 (2)")
    dock.recount_now()
    assert dock.export(), dock.message_text()
    assert started[-1].output_kind == TILE_CACHE
    assert started[-1].output_path == str(output_folder / "World_Map_L0-1 (2)")

    dock.ui.formatCombo.setCurrentIndex(dock.ui.formatCombo.findData("tpk"))  # Compact Cache V1
    assert dock.output_path() == str(output_folder / "World_Map_L0-1 (3)")  # still a folder, the next free name
    dock.recount_now()
    dock.export()
    assert (started[-1].output_kind, started[-1].fmt) == (TILE_CACHE, "tpk")
    check.setChecked(False)
    assert Path(dock.output_path()).suffix == ".tpk"
    dock.recount_now()
    dock.export()
    assert started[-1].output_kind == "package"


def test_tile_cache_exported_from_the_dock_is_added_to_the_map(dock, qtbot, emulator, shown_canvas, tmp_path):
    from qgis.core import QgsRasterLayer


    emulator.configure("World_Imagery/ImageServer", cache_result="zip")
    connect(dock, qtbot, emulator.service_url("World_Imagery", "ImageServer"))
    dock.use_canvas_extent()
    dock.model.set_checked_levels([0, 1, 2])
    dock.options_panel.cache_check.setChecked(True)
    dock.ui.outputWidget.setFilePath(str(tmp_path / "imagery"))
    dock.recount_now()
    layers_before = set(QgsProject.instance().mapLayers())
    export_id = dock.export()
    assert export_id, dock.message_text()
    qtbot.waitUntil(lambda: dock.manager.view(export_id).state in ("finished", "failed"), timeout=120000)
    assert dock.manager.view(export_id).state == "finished", dock.manager.view(export_id).error
    folder = tmp_path / "imagery"
    assert (folder / "conf.xml").is_file() and any(folder.rglob("*.bundle"))  # Compact Cache V2 (.tpkx)
    qtbot.waitUntil(lambda: bool(set(QgsProject.instance().mapLayers()) - layers_before), timeout=60000)
    new = [QgsProject.instance().mapLayer(i) for i in set(QgsProject.instance().mapLayers()) - layers_before]
    assert len(new) == 1 and isinstance(new[0], QgsRasterLayer) and new[0].isValid()
