"""Choosing levels: the table, ticks, scales, the limit marking, the total line, the server estimate."""
from __future__ import annotations

import pytest
from qgis.core import QgsRectangle
from qgis.PyQt.QtCore import Qt

from plugin.core.levels import levels_between_scales
from plugin.core.tilecount import count_tiles
from plugin.gui.levels_model import CUMULATIVE, LEVEL, OVER_LIMIT_BACKGROUND, SCALE, SIZE, TILES, ValueRole
from plugin.gui.panels.levels_panel import default_levels
from tests.qgis.conftest import connect
from tests.qgis.exports_helpers import wait_idle


@pytest.fixture
def map_dock(dock, qtbot, emulator, shown_canvas):
    connect(dock, qtbot, emulator.service_url("World_Map", "MapServer"))
    assert dock.service is not None, dock.message_text()
    # a rectangle over western Europe, in the project's Web Mercator
    dock.area.set_extent(QgsRectangle(-1e6, 4.5e6, 2e6, 7e6), shown_canvas.mapSettings().destinationCrs())
    dock.recount_now()
    return dock


def _row(dock, level: int) -> int:
    return dock.model.levels.index(level)


def _cell(dock, level: int, column: int, role=Qt.ItemDataRole.DisplayRole):
    model = dock.model
    return model.data(model.index(_row(dock, level), column), role)


def _marked(dock, level: int) -> bool:
    """The level's row shows the over-the-limit colour."""
    background = _cell(dock, level, TILES, Qt.ItemDataRole.BackgroundRole)
    return background is not None and background.color() == OVER_LIMIT_BACKGROUND


def test_table_lists_every_available_level_with_scale_and_exact_tiles(map_dock):
    dock = map_dock
    service = dock.service
    assert dock.model.levels == service.available_levels
    assert _cell(dock, 0, SCALE) == "1:591,657,536"  # QGIS's own spelling (its scale box rounds through a float)
    area = dock.area.service_area(dock.service_crs)
    expected = count_tiles(service.tiling, area, service.available_levels)
    for level, count in expected.items():
        assert _cell(dock, level, TILES, ValueRole) == count
    assert dock.ui.levelsView.model() is dock.model


def test_default_levels_follow_the_map_scale(map_dock):
    service = map_dock.service
    # 1:1,000,000 is nearest to level 9 (1:1,155,581): levels 0 to 9 + 2, capped by the service's last level 10
    assert default_levels(service, 1_000_000) == list(range(11))
    assert default_levels(service, 40_000_000) == [0, 1, 2, 3, 4, 5, 6]  # level 4 (1:36,978,595) + 2
    assert default_levels(service, 0) == list(range(8))  # unknown scale: a middle default
    assert map_dock.model.checked_levels() == default_levels(service, map_dock.canvas.scale())


def test_ticking_levels_with_the_keyboard_updates_the_totals(map_dock, qtbot):
    dock = map_dock
    dock.model.set_checked_levels([0, 1])
    view = dock.ui.levelsView
    view.setFocus()
    view.setCurrentIndex(dock.model.index(_row(dock, 3), LEVEL))
    qtbot.keyClick(view, Qt.Key.Key_Space)
    assert dock.model.checked_levels() == [0, 1, 3]
    dock._update_totals()
    counts = dock.model.counts()
    total = counts[0] + counts[1] + counts[3]
    assert _cell(dock, 3, CUMULATIVE, ValueRole) == total
    assert _cell(dock, 2, CUMULATIVE, ValueRole) is None  # not ticked
    assert dock.ui.totalLabel.text() == (f"{total:,} tiles in 3 levels — the server allows 100,000 per server job; "
                                         "1 part")
    # the scale widgets follow the ticks
    assert dock.ui.minScaleWidget.scale() == pytest.approx(dock.model.lod(0).scale, rel=1e-6)
    assert dock.ui.maxScaleWidget.scale() == pytest.approx(dock.model.lod(3).scale, rel=1e-6)
    qtbot.keyClick(view, Qt.Key.Key_Space)
    assert dock.model.checked_levels() == [0, 1]


def test_levels_by_scales(map_dock):
    dock = map_dock
    dock.ui.maxScaleWidget.setScale(2_000_000)  # finer bound between levels 8 and 9: level 9 is included
    dock.ui.minScaleWidget.setScale(20_000_000)  # coarser bound between levels 4 and 5: level 4 is included
    expected = levels_between_scales(dock.service, 20_000_000, 2_000_000)
    assert expected == [4, 5, 6, 7, 8, 9]
    assert dock.model.checked_levels() == expected


def test_levels_by_ground_resolution(map_dock, qtbot):
    dock = map_dock
    coarsest, finest = dock.ui.coarsestResolutionSpin, dock.ui.finestResolutionSpin
    assert coarsest.suffix() == " m" and finest.suffix() == " m"  # the service CRS's unit is shown
    # "from 30 km down to 5 km per pixel": L2 (39,136 m) covers 30 km, L5 (4,892 m) covers 5 km
    for spin, value in ((coarsest, 30_000), (finest, 5_000)):
        spin.setFocus()
        spin.selectAll()
        qtbot.keyClicks(spin, f"{value}")
        qtbot.keyClick(spin, Qt.Key.Key_Return)
    assert dock.model.checked_levels() == [2, 3, 4, 5]
    # the fields then show the chosen levels' own resolutions, as the scale fields show their scales
    assert round(coarsest.value()) == round(dock.service.tiling.lod(2).resolution)
    assert round(finest.value()) == round(dock.service.tiling.lod(5).resolution)
    dock.model.set_checked_levels([6, 7])
    assert round(finest.value()) == round(dock.service.tiling.lod(7).resolution)


def test_levels_over_the_limit_are_marked_and_the_total_says_how_many_parts(dock, qtbot, emulator, shown_canvas):
    emulator.configure("World_Map/MapServer", max_export_tiles=50)
    connect(dock, qtbot, emulator.service_url("World_Map", "MapServer"))
    dock.area.set_extent(QgsRectangle(-1e6, 4.5e6, 2e6, 7e6), shown_canvas.mapSettings().destinationCrs())
    dock.recount_now()
    counts = dock.model.counts()
    levels = [lv for lv in dock.model.levels if sum(counts[x] for x in range(lv + 1)) <= 50]
    first_over = levels[-1] + 1
    dock.model.set_checked_levels(range(first_over + 1))
    dock._update_totals()
    assert [lv for lv in range(first_over + 1) if _marked(dock, lv)] == [first_over]  # of the ticked levels
    tooltip = _cell(dock, first_over, LEVEL, Qt.ItemDataRole.ToolTipRole)
    assert "more than the server allows per server job (50)" in tooltip and "split" in tooltip
    total = sum(counts[lv] for lv in range(first_over + 1))
    assert dock.planning  # computed in the background
    qtbot.waitUntil(lambda: not dock.planning, timeout=10000)
    parts = dock.levels_panel.plan_view.plan.part_count
    assert parts > 1
    assert dock.ui.totalLabel.text() == (f"{total:,} tiles in {first_over + 1} levels — the server allows 50 per "
                                         f"server job; {parts} parts")
    assert f"{parts} parts of at most 50 tiles" in dock.ui.planLabel.text()

    dock.ui.splitCheck.setChecked(False)
    dock._update_totals()
    assert "Over the limit: tick fewer levels, choose a smaller area or turn on splitting." in \
        dock.ui.totalLabel.text()
    assert "Untick levels or turn on splitting" in _cell(dock, first_over, LEVEL, Qt.ItemDataRole.ToolTipRole)


def test_a_level_over_the_limit_on_its_own(dock, qtbot, emulator, shown_canvas):
    emulator.configure("World_Map/MapServer", max_export_tiles=20)
    connect(dock, qtbot, emulator.service_url("World_Map", "MapServer"))
    dock.area.set_extent(QgsRectangle(-1e6, 4.5e6, 2e6, 7e6), shown_canvas.mapSettings().destinationCrs())
    dock.model.set_checked_levels([])
    dock.recount_now()
    big = next(lv for lv in dock.model.levels if dock.model.counts()[lv] > 20)
    assert _marked(dock, big)  # marked even when not ticked
    assert "alone needs more tiles" in _cell(dock, big, TILES, Qt.ItemDataRole.ToolTipRole)


def test_total_without_area_or_levels(dock, qtbot, emulator):
    assert dock.ui.totalLabel.text() == "Connect to a service to see its levels."
    connect(dock, qtbot, emulator.service_url("World_Map", "MapServer"))
    dock.recount_now()
    n = len(dock.model.checked_levels())
    assert dock.ui.totalLabel.text() == f"{n} levels ticked; choose an area to count the tiles."
    dock.model.set_checked_levels([])
    dock._update_totals()
    assert dock.ui.totalLabel.text() == "Tick the levels to export."


def test_counts_follow_the_area_at_once(map_dock, qtbot, shown_canvas):
    dock = map_dock
    before = dock.model.counts()[10]
    dock.area.set_extent(QgsRectangle(-1e5, 4.5e6, 2e5, 4.8e6), shown_canvas.mapSettings().destinationCrs())
    qtbot.waitUntil(lambda: dock.model.counts().get(10) != before, timeout=1000)
    assert dock.model.counts()[10] < before


def test_server_estimate_fills_the_size_column(map_dock, qtbot):
    dock = map_dock
    dock.model.set_checked_levels([0, 1, 2, 3])
    assert not dock.ui.estimateButton.isHidden() and dock.ui.estimateButton.isEnabled()
    qtbot.mouseClick(dock.ui.estimateButton, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "server estimate" in dock.ui.estimateLabel.text() or bool(dock.message_text()),
                    timeout=20000)
    assert "server estimate" in dock.ui.estimateLabel.text(), dock.message_text()
    assert dock.model.bytes_per_tile and dock.model.bytes_per_tile > 0
    size = _cell(dock, 2, SIZE, ValueRole)
    assert size == pytest.approx(dock.model.bytes_per_tile * dock.model.counts()[2])
    assert _cell(dock, 2, SIZE) not in ("", "–")


def test_deep_levels_of_a_complex_polygon_are_extrapolated(map_dock, countries, qtbot, monkeypatch):
    from plugin.gui.panels import counts

    monkeypatch.setattr(counts, "MAX_EXACT_ROWS", 40)
    dock = map_dock
    countries.selectByExpression("\"NAME\" = 'France'")
    dock.ui.layerCombo.setLayer(countries)
    assert dock.use_features()
    dock.recount_now()
    approximate = [lv for lv in dock.model.levels if dock.model.is_approximate(lv)]
    assert approximate and approximate == dock.model.levels[dock.model.levels.index(approximate[0]):]
    assert _cell(dock, approximate[0], TILES).startswith("≈ ")
    exact = count_tiles(dock.service.tiling, dock.area.service_area(dock.service_crs), [approximate[0]])
    assert _cell(dock, approximate[0], TILES, ValueRole) == pytest.approx(exact[approximate[0]], rel=0.35)


def _france(dock, countries, monkeypatch):
    from plugin.gui.panels import counts

    monkeypatch.setattr(counts, "MAX_EXACT_ROWS", 40)  # levels deeper than 40 tile rows: ≈ at first
    countries.selectByExpression("\"NAME\" = 'France'")
    dock.ui.layerCombo.setLayer(countries)
    assert dock.use_features()
    dock.recount_now()


def test_exact_counts_replace_the_extrapolated_ones_in_the_background(map_dock, countries, qtbot, monkeypatch):
    dock = map_dock
    _france(dock, countries, monkeypatch)
    dock.model.set_checked_levels(dock.model.levels)
    dock._update_totals()
    approximate = [lv for lv in dock.model.levels if dock.model.is_approximate(lv)]
    assert approximate and dock.counting  # ≈ figures at once, the exact ones on their way
    assert dock.ui.totalLabel.text().startswith("≈ ")

    qtbot.waitUntil(lambda: not dock.counting, timeout=30_000)
    assert not any(dock.model.is_approximate(lv) for lv in dock.model.levels)
    exact = count_tiles(dock.service.tiling, dock.area.service_area(dock.service_crs), dock.model.levels)
    assert {lv: _cell(dock, lv, TILES, ValueRole) for lv in dock.model.levels} == exact
    assert not _cell(dock, approximate[-1], TILES).startswith("≈")
    qtbot.waitUntil(lambda: not dock.ui.totalLabel.text().startswith("≈"), timeout=5_000)
    assert dock.ui.totalLabel.text().startswith(f"{sum(exact.values()):,} tiles in {len(exact)} levels")


def test_exact_counts_of_an_earlier_area_are_dropped(map_dock, countries, qtbot, monkeypatch, shown_canvas):
    dock = map_dock
    _france(dock, countries, monkeypatch)
    assert dock.counting
    dock.area.set_extent(QgsRectangle(-1e5, 4.5e6, 2e5, 4.8e6), shown_canvas.mapSettings().destinationCrs())
    dock.recount_now()  # a rectangle: exact at once, nothing counted in the background
    assert not dock.counting
    wait_idle(qtbot)  # the earlier count ends and its last reports are delivered (and ignored)
    rectangle = count_tiles(dock.service.tiling, dock.area.service_area(dock.service_crs), dock.model.levels)
    assert dock.model.counts() == rectangle


def test_scales_are_written_the_way_qgis_writes_them(map_dock):
    from qgis.gui import QgsScaleWidget

    dock = map_dock
    for level in dock.model.levels:
        assert _cell(dock, level, SCALE) == QgsScaleWidget.toString(dock.model.lod(level).scale)
    coarse, fine = dock.model.lod(dock.model.levels[0]), dock.model.lod(dock.model.levels[-1])
    summary = dock.ui.serviceSummaryLabel.text()
    assert QgsScaleWidget.toString(coarse.scale) in summary and QgsScaleWidget.toString(fine.scale) in summary
    dock.model.set_checked_levels([0])
    assert dock.ui.minScaleWidget.scaleString() == _cell(dock, 0, SCALE)  # the scale box beside the table
