"""The export area: drawn, from the map extent, from features; on the canvas; in the service CRS."""
from __future__ import annotations

import pytest
from qgis.core import (
    QgsCoordinateReferenceSystem,
    QgsFeatureRequest,
    QgsGeometry,
    QgsPointXY,
    QgsProject,
    QgsRectangle,
    QgsWkbTypes,
)
from qgis.gui import QgsMapMouseEvent
from qgis.PyQt.QtCore import QEvent, QPoint, Qt

from plugin.core.area import Area
from plugin.core.tilecount import count_tiles
from plugin.gui.levels_model import TILES, ValueRole
from plugin.qgis_glue import crs as crs_glue
from plugin.qgis_glue.areas import area_from_geometry
from plugin.qgis_glue.crs import split_at_antimeridian, to_service_geometry
from tests.qgis.conftest import connect

WEB_MERCATOR = QgsCoordinateReferenceSystem("EPSG:3857")
WGS84 = QgsCoordinateReferenceSystem("EPSG:4326")
HALF_WORLD = 20037508.342787
PIXELS = ((100, 80), (420, 60), (520, 300), (260, 360), (120, 260))


def click(tool, canvas, x, y, button=Qt.MouseButton.LeftButton):
    event = QgsMapMouseEvent(canvas, QEvent.Type.MouseButtonPress, QPoint(x, y), button, button,
                             Qt.KeyboardModifier.NoModifier)
    tool.canvasPressEvent(event)


def draw_polygon(dock, canvas, pixels=PIXELS) -> QgsGeometry:
    """Click the corners with the dock's polygon tool and finish with a right click; returns the
    polygon the canvas coordinates give, in the canvas CRS."""
    tool = dock.start_drawing()
    assert canvas.mapTool() is tool
    points = [canvas.getCoordinateTransform().toMapCoordinates(x, y) for x, y in pixels]
    for x, y in pixels:
        click(tool, canvas, x, y)
    click(tool, canvas, 0, 0, button=Qt.MouseButton.RightButton)
    return QgsGeometry.fromPolygonXY([points + [points[0]]])


def table_counts(dock) -> dict[int, int]:
    model = dock.model
    return {model.levels[row]: model.data(model.index(row, TILES), ValueRole) for row in range(model.rowCount())}


@pytest.fixture
def map_dock(dock, qtbot, emulator):
    connect(dock, qtbot, emulator.service_url("World_Map", "MapServer"))
    assert dock.service is not None, dock.message_text()
    return dock


def test_drawn_polygon_is_shown_and_counted_exactly(map_dock, shown_canvas, qtbot):
    dock = map_dock
    expected_polygon = draw_polygon(dock, shown_canvas)
    assert not dock.ui.drawButton.isChecked()  # the tool is put away after the polygon
    assert shown_canvas.mapTool() is not dock.area._tool
    band = dock.area.rubber_band
    assert band is not None and band.isVisible() and band.numberOfVertices() >= 5
    qtbot.waitUntil(lambda: dock.model.has_counts())
    area = area_from_geometry(crs_glue.to_service_crs(expected_polygon, WEB_MERCATOR, WEB_MERCATOR))
    assert table_counts(dock) == count_tiles(dock.service.tiling, area, dock.model.levels)
    assert not area.is_rectangle
    assert dock.ui.areaLabel.text().startswith("Polygon drawn on the map — ")


def test_geographic_project_is_transformed_to_web_mercator(map_dock, shown_canvas, qtbot):
    dock = map_dock
    QgsProject.instance().setCrs(WGS84)
    shown_canvas.setDestinationCrs(WGS84)
    shown_canvas.setExtent(QgsRectangle(-20, 30, 40, 70))
    drawn = draw_polygon(dock, shown_canvas)
    assert drawn.boundingBox().xMinimum() > -30 and drawn.boundingBox().xMaximum() < 50  # degrees
    dock.recount_now()
    xmin, ymin, xmax, ymax = dock.area.service_area(WEB_MERCATOR).bbox
    assert -4e6 < xmin < xmax < 6e6 and 3e6 < ymin < ymax < 1.2e7
    assert xmin == pytest.approx(drawn.boundingBox().xMinimum() * HALF_WORLD / 180, rel=1e-9)
    assert xmax == pytest.approx(drawn.boundingBox().xMaximum() * HALF_WORLD / 180, rel=1e-9)
    expected = area_from_geometry(crs_glue.to_service_crs(drawn, WGS84, WEB_MERCATOR))
    assert table_counts(dock) == count_tiles(dock.service.tiling, expected, dock.model.levels)
    assert dock.area.rubber_band.numberOfVertices() >= 5


def test_selected_countries_make_a_multipart_area(map_dock, countries, qtbot):
    dock = map_dock
    ids = [f.id() for f in countries.getFeatures(QgsFeatureRequest().setFilterExpression(
        "\"NAME\" IN ('Spain', 'Sweden')"))]
    assert len(ids) == 2
    countries.selectByIds(ids)
    dock.ui.areaSourceCombo.setCurrentIndex(2)
    dock.ui.layerCombo.setLayer(countries)
    assert dock.ui.selectedOnlyCheck.isChecked()
    qtbot.mouseClick(dock.ui.useFeaturesButton, Qt.MouseButton.LeftButton)
    dock.recount_now()
    selection = dock.area.selection
    assert selection.label == "2 selected features of countries"
    assert selection.geometry.isMultipart()
    assert selection.geometry.constGet().numGeometries() >= 2
    area = dock.area.service_area(WEB_MERCATOR)
    union = QgsGeometry.unaryUnion([f.geometry() for f in countries.getFeatures(ids)])
    expected = area_from_geometry(crs_glue.to_service_crs(union, countries.crs(), WEB_MERCATOR))
    assert area == expected
    assert table_counts(dock) == count_tiles(dock.service.tiling, expected, dock.model.levels)
    spain = QgsGeometry(countries.getFeature(ids[0]).geometry())
    spain.transform(crs_glue.QgsCoordinateTransform(countries.crs(), WEB_MERCATOR, QgsProject.instance()))
    point = spain.pointOnSurface().asPoint()
    assert area.contains_point(point.x(), point.y())
    assert "2 parts" in dock.ui.areaLabel.text() or "parts" in dock.ui.areaLabel.text()


def test_holes_of_features_are_kept(map_dock, countries):
    dock = map_dock
    south_africa = next(countries.getFeatures(QgsFeatureRequest().setFilterExpression("\"NAME\" = 'South Africa'")))
    lesotho = next(countries.getFeatures(QgsFeatureRequest().setFilterExpression("\"NAME\" = 'Lesotho'")))
    countries.selectByIds([south_africa.id()])
    dock.ui.layerCombo.setLayer(countries)
    assert dock.use_features()
    area = dock.area.service_area(WEB_MERCATOR)
    inside = QgsGeometry(lesotho.geometry()).pointOnSurface()
    inside.transform(crs_glue.QgsCoordinateTransform(countries.crs(), WEB_MERCATOR, QgsProject.instance()))
    assert not area.contains_point(inside.asPoint().x(), inside.asPoint().y())  # Lesotho is a hole


def test_no_selection_is_explained(map_dock, countries):
    countries.removeSelection()
    map_dock.ui.layerCombo.setLayer(countries)
    assert not map_dock.use_features()
    assert "no feature of countries is selected" in map_dock.message_text()
    assert map_dock.area.is_empty


def test_map_extent_is_a_rectangle(map_dock, shown_canvas):
    dock = map_dock
    dock.use_canvas_extent()
    dock.recount_now()
    selection = dock.area.selection
    assert selection.is_rectangle and selection.label == "Map extent"
    area = dock.area.service_area(WEB_MERCATOR)
    assert area.is_rectangle
    extent = shown_canvas.extent()
    assert area.bbox == pytest.approx((extent.xMinimum(), extent.yMinimum(), extent.xMaximum(), extent.yMaximum()))
    assert table_counts(dock) == count_tiles(dock.service.tiling, area, dock.model.levels)


def test_layer_extent(map_dock, countries):
    dock = map_dock
    dock.ui.extentWidget.setOutputExtentFromLayer(countries)
    dock.recount_now()
    assert dock.area.selection.label == "Extent of countries"
    assert dock.area.selection.crs == countries.crs()


def test_area_outside_the_service_crs_is_refused_clearly(map_dock, shown_canvas):
    dock = map_dock
    polar = QgsGeometry.fromRect(QgsRectangle(-40, 86, 40, 89.5))  # beyond Web Mercator's 85.06°
    dock.area.set_polygon(polar, WGS84)
    dock.recount_now()
    assert "outside the region the service's coordinate system covers" in dock.ui.areaLabel.text()
    assert not dock.model.has_counts()
    assert not dock.ui.exportButton.isEnabled()


def test_polygon_across_the_antimeridian_in_a_geographic_project(map_dock):
    dock = map_dock
    pacific = QgsGeometry.fromPolygonXY([[QgsPointXY(170, -20), QgsPointXY(190, -20), QgsPointXY(190, -10),
                                          QgsPointXY(170, -10), QgsPointXY(170, -20)]])
    dock.area.set_polygon(pacific, WGS84)
    dock.recount_now()
    area = dock.area.service_area(WEB_MERCATOR)
    assert len(area.rings) == 2  # a strip each side of the antimeridian
    west, east = sorted(Area.from_rings([ring]).bbox for ring in area.rings)
    assert west[0] == pytest.approx(-HALF_WORLD) and west[2] == pytest.approx(-170 * HALF_WORLD / 180)
    assert east[0] == pytest.approx(170 * HALF_WORLD / 180) and east[2] == pytest.approx(HALF_WORLD)
    # the two strips, not the whole world between them
    assert not area.contains_point(0, -1.7e6)
    assert area.contains_point(175 * HALF_WORLD / 180, -1.7e6) and area.contains_point(-175 * HALF_WORLD / 180, -1.7e6)
    level = 5
    counts = table_counts(dock)
    whole_world_rows = count_tiles(dock.service.tiling, area_from_geometry(QgsGeometry.fromRect(
        QgsRectangle(-HALF_WORLD, area.bbox[1], HALF_WORLD, area.bbox[3]))),
        [level])[level]
    assert 0 < counts[level] < whole_world_rows / 4


def test_pacific_centred_projection_is_cut_at_the_antimeridian():
    pacific_mercator = QgsCoordinateReferenceSystem("EPSG:3832")  # WGS 84 / PDC Mercator, centred on 150°E
    assert pacific_mercator.isValid()
    # a rectangle from 170°E to 170°W (190°E) drawn in the Pacific-centred map
    to_pdc = crs_glue.QgsCoordinateTransform(WGS84, pacific_mercator, QgsProject.instance())
    west = to_pdc.transform(QgsPointXY(170, -25))
    east = to_pdc.transform(QgsPointXY(-170, -15))
    rect = QgsGeometry.fromRect(QgsRectangle(west.x(), west.y(), east.x(), east.y()))
    assert east.x() > west.x()  # continuous in the Pacific projection
    cut = split_at_antimeridian(rect, pacific_mercator)
    assert cut is not None and cut.constGet().numGeometries() == 2
    moved = to_service_geometry(rect, pacific_mercator, WEB_MERCATOR)
    assert moved.boundingBox().width() == pytest.approx(2 * HALF_WORLD, rel=1e-6)
    strips = [crs_glue.to_service_crs(QgsGeometry.fromRect(QgsRectangle(x0, -25, x1, -15)), WGS84, WEB_MERCATOR)
              for x0, x1 in ((170, 180), (-180, -170))]
    assert moved.area() == pytest.approx(sum(strip.area() for strip in strips), rel=1e-3)


def test_areas_not_crossing_the_antimeridian_are_left_alone():
    europe = QgsGeometry.fromRect(QgsRectangle(-10, 35, 30, 60))
    assert split_at_antimeridian(europe, WGS84) is None
    wide = QgsGeometry.fromRect(QgsRectangle(-170, -10, 170, 10))  # wide, but within ±180°
    assert split_at_antimeridian(wide, WGS84) is None


def test_tile_preview_and_its_limit(map_dock, shown_canvas):
    dock = map_dock
    draw_polygon(dock, shown_canvas)
    dock.model.set_checked_levels([0, 1, 2, 3])
    dock.ui.previewCheck.setChecked(True)
    dock.recount_now()
    dock._update_totals()
    count = dock.model.counts()[3]
    preview = dock.area.preview_band
    assert preview is not None and preview.isVisible()
    assert preview.asGeometry().constGet().numGeometries() == count
    assert f"{count} tiles of level 3 outlined on the map" in dock.ui.previewLabel.text()

    dock.model.set_checked_levels(list(range(11)))
    dock._update_totals()
    assert dock.model.counts()[10] > 2000
    assert "Too many tiles to preview" in dock.ui.previewLabel.text()
    assert preview.asGeometry().isEmpty()


def test_clear_removes_the_area(map_dock, shown_canvas):
    dock = map_dock
    draw_polygon(dock, shown_canvas)
    dock.recount_now()
    assert dock.model.has_counts()
    dock.ui.clearAreaButton.click()
    dock.recount_now()
    assert dock.area.is_empty
    assert not dock.model.has_counts()
    assert dock.area.rubber_band.numberOfVertices() == 0
    assert "choose an area to count the tiles" in dock.ui.totalLabel.text()


def test_escape_cancels_drawing_and_keeps_the_previous_area(map_dock, shown_canvas):
    dock = map_dock
    dock.use_canvas_extent()
    tool = dock.start_drawing()
    click(tool, shown_canvas, 10, 10)
    from qgis.PyQt.QtGui import QKeyEvent

    tool.keyPressEvent(QKeyEvent(QEvent.Type.KeyPress, Qt.Key.Key_Escape, Qt.KeyboardModifier.NoModifier))
    assert not dock.ui.drawButton.isChecked()
    assert dock.area.selection.is_rectangle
    assert QgsWkbTypes.geometryType(dock.area.selection.geometry.wkbType()) == QgsWkbTypes.GeometryType.PolygonGeometry


def test_fixing_the_area_takes_its_message_away_and_only_that(map_dock, countries, shown_canvas):
    dock = map_dock
    countries.removeSelection()
    dock.ui.layerCombo.setLayer(countries)
    assert not dock.use_features()
    assert "no feature of countries is selected" in dock.message_text()
    dock.use_canvas_extent()
    assert dock.message_text() == ""
    dock.show_message("This service does not allow tile export.")
    draw_polygon(dock, shown_canvas)
    assert dock.message_text() == "This service does not allow tile export."


def test_rectangle_drawn_with_the_extent_tool(map_dock, shown_canvas):
    from qgis.gui import QgsMapToolExtent

    dock = map_dock
    dock.ui.extentWidget.setOutputExtentFromDrawOnCanvas()
    tool = shown_canvas.mapTool()
    assert isinstance(tool, QgsMapToolExtent)
    start, end = QPoint(100, 100), QPoint(300, 250)
    for kind, pos, handler in ((QEvent.Type.MouseButtonPress, start, tool.canvasPressEvent),
                               (QEvent.Type.MouseMove, end, tool.canvasMoveEvent),
                               (QEvent.Type.MouseButtonRelease, end, tool.canvasReleaseEvent)):
        button = Qt.MouseButton.NoButton if kind == QEvent.Type.MouseMove else Qt.MouseButton.LeftButton
        handler(QgsMapMouseEvent(shown_canvas, kind, pos, button, Qt.MouseButton.LeftButton,
                                 Qt.KeyboardModifier.NoModifier))
    dock.recount_now()
    selection = dock.area.selection
    assert selection is not None and selection.is_rectangle
    assert selection.label == "Rectangle drawn on the map"
    to_map = shown_canvas.getCoordinateTransform()
    corner = to_map.toMapCoordinates(start.x(), start.y())
    assert selection.geometry.boundingBox().xMinimum() == pytest.approx(corner.x(), rel=1e-6)
    assert dock.model.has_counts()


def _mouse(tool, canvas, kind, x, y):
    button = Qt.MouseButton.LeftButton
    buttons = Qt.MouseButton.NoButton if kind == QEvent.Type.MouseButtonRelease else button
    event = QgsMapMouseEvent(canvas, kind, QPoint(x, y), button, buttons, Qt.KeyboardModifier.NoModifier)
    {QEvent.Type.MouseButtonPress: tool.canvasPressEvent, QEvent.Type.MouseMove: tool.canvasMoveEvent,
     QEvent.Type.MouseButtonRelease: tool.canvasReleaseEvent}[kind](event)


def test_a_rectangle_is_one_click_then_a_drag_on_the_map(map_dock, shown_canvas, qtbot):
    dock = map_dock
    assert dock.ui.drawRectangleButton.isVisibleTo(dock)
    qtbot.mouseClick(dock.ui.drawRectangleButton, Qt.MouseButton.LeftButton)
    tool = shown_canvas.mapTool()
    assert tool is not None and type(tool).__name__ == "QgsMapToolExtent"
    to_map = shown_canvas.getCoordinateTransform().toMapCoordinates
    _mouse(tool, shown_canvas, QEvent.Type.MouseButtonPress, 100, 100)
    _mouse(tool, shown_canvas, QEvent.Type.MouseMove, 300, 250)
    _mouse(tool, shown_canvas, QEvent.Type.MouseButtonRelease, 300, 250)
    selection = dock.area.selection
    assert selection is not None and selection.is_rectangle
    assert selection.label == "Rectangle drawn on the map"
    expected = QgsRectangle(to_map(100, 100), to_map(300, 250))
    assert selection.geometry.boundingBox().toString(0) == expected.toString(0)
    assert not dock.ui.drawRectangleButton.isChecked() and shown_canvas.mapTool() is not tool
    dock.recount_now()
    assert dock.model.has_counts()


def test_a_polygon_is_one_click_away_from_the_first_view(map_dock, shown_canvas, qtbot):
    dock = map_dock
    dock.ui.areaSourceCombo.setCurrentIndex(0)  # the rectangle page, the default
    assert dock.ui.drawButton.isVisibleTo(dock)
    qtbot.mouseClick(dock.ui.drawButton, Qt.MouseButton.LeftButton)
    assert shown_canvas.mapTool() is dock.area._tool
    assert dock.ui.areaSourceCombo.currentIndex() == 1  # the polygon page, with its hint
    qtbot.mouseClick(dock.ui.drawRectangleButton, Qt.MouseButton.LeftButton)  # changing one's mind
    assert type(shown_canvas.mapTool()).__name__ == "QgsMapToolExtent"
    assert not dock.ui.drawButton.isChecked() and dock.ui.drawRectangleButton.isChecked()
    dock.ui.drawRectangleButton.click()
    assert not dock.area.is_drawing


def test_the_map_extent_of_an_empty_map_says_the_map_is_empty(map_dock, qtbot, qgis_iface):
    from qgis.gui import QgsMapCanvas

    dock = map_dock
    empty = QgsMapCanvas()  # a new project's canvas before any layer: no extent at all
    dock.area_panel.canvas = empty
    try:
        assert dock.use_canvas_extent() is False
        text = dock.message_text()
        assert "The map is empty" in text and "not valid" not in text
        assert dock.area.is_empty
    finally:
        dock.area_panel.canvas = qgis_iface.mapCanvas()
        empty.deleteLater()
