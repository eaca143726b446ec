"""The dock's background count of deep levels: exact figures, and a stale count stops promptly."""
from __future__ import annotations

import pytest
from qgis.core import QgsCoordinateReferenceSystem, QgsCoordinateTransform, QgsProject

from plugin.core.errors import CancelledError
from plugin.core.tilecount import count_tiles
from plugin.core.tiling import LOD, SpatialRef, TilingScheme
from plugin.qgis_glue.areas import area_from_geometry
from plugin.tasks.base import TaskKeeper
from plugin.tasks.count_task import start_count

H = 20037508.342787
WEB_MERCATOR = TilingScheme(-H, H, 256, 256, tuple(LOD(z, 156543.03392800014 / 2**z, 0.0) for z in range(24)),
                            SpatialRef(102100, 3857))


def _country(countries, name: str):
    [feature] = [f for f in countries.getFeatures() if f["name"] == name]
    geometry = feature.geometry()
    geometry.transform(QgsCoordinateTransform(countries.crs(), QgsCoordinateReferenceSystem("EPSG:3857"),
                                              QgsProject.instance()))
    return area_from_geometry(geometry)


@pytest.fixture
def keeper():
    keeper = TaskKeeper()
    yield keeper
    keeper.cancel_all()


def test_levels_are_counted_exactly_in_the_background(countries, qtbot, keeper):
    area = _country(countries, "Italy")
    got = {}
    task = start_count(WEB_MERCATOR, area, [9, 10], keeper=keeper,
                       on_level=lambda level, tiles: got.__setitem__(level, tiles))
    with qtbot.waitSignal(task.done, timeout=60_000):
        pass
    assert got == count_tiles(WEB_MERCATOR, area, [9, 10])


def test_a_cancelled_count_stops_inside_a_deep_level(countries, qtbot, keeper):
    """Canada at level 20 takes seconds: a cancel (the area changed) ends it within a chunk of rows."""
    area = _country(countries, "Canada")
    got = {}
    task = start_count(WEB_MERCATOR, area, [20], keeper=keeper,
                       on_level=lambda level, tiles: got.__setitem__(level, tiles))
    qtbot.waitUntil(lambda: task.started, timeout=30_000)
    qtbot.wait(200)  # well inside the level
    with qtbot.waitSignal(task.done, timeout=5_000) as done:  # the whole level takes longer than this
        task.cancel()
    assert done.args == [False]
    assert isinstance(task.error, CancelledError) and "level 20" in task.error.details
    assert got == {}  # nothing half-counted reaches the dock
