"""Drawing the export polygon on the canvas, as a user does it with mouse and keyboard."""
from __future__ import annotations

import pytest
from qgis.core import QgsRectangle
from qgis.gui import QgsMapMouseEvent
from qgis.PyQt.QtCore import QEvent, QPoint, Qt
from qgis.PyQt.QtGui import QKeyEvent

from plugin.gui.map_tools import PolygonMapTool


@pytest.fixture
def tool(qgis_canvas):
    qgis_canvas.setExtent(QgsRectangle(0, 0, 1000, 1000))
    tool = PolygonMapTool(qgis_canvas)
    qgis_canvas.setMapTool(tool)
    yield tool
    qgis_canvas.unsetMapTool(tool)


def _click(tool, canvas, x, y, button=Qt.MouseButton.LeftButton, kind=QEvent.Type.MouseButtonPress):
    event = QgsMapMouseEvent(canvas, kind, QPoint(x, y), button, button, Qt.KeyboardModifier.NoModifier)
    if kind == QEvent.Type.MouseButtonDblClick:
        tool.canvasDoubleClickEvent(event)
    else:
        tool.canvasPressEvent(event)


def _key(tool, key):
    tool.keyPressEvent(QKeyEvent(QEvent.Type.KeyPress, key, Qt.KeyboardModifier.NoModifier))


def test_clicks_then_double_click_give_a_polygon(tool, qgis_canvas):
    drawn = []
    tool.polygonDrawn.connect(drawn.append)
    for x, y in ((10, 10), (200, 10), (200, 200)):
        _click(tool, qgis_canvas, x, y)
    _click(tool, qgis_canvas, 10, 200)
    _click(tool, qgis_canvas, 10, 200, kind=QEvent.Type.MouseButtonDblClick)
    assert len(drawn) == 1
    polygon = drawn[0].asPolygon()
    assert len(polygon[0]) == 5  # four corners + closing vertex (the double click adds none)
    assert drawn[0].area() > 0
    assert tool.points == []


def test_right_click_finishes_and_backspace_removes_the_last_vertex(tool, qgis_canvas):
    drawn = []
    tool.polygonDrawn.connect(drawn.append)
    for x, y in ((10, 10), (300, 10), (999, 999)):
        _click(tool, qgis_canvas, x, y)
    _key(tool, Qt.Key.Key_Backspace)
    assert len(tool.points) == 2
    _click(tool, qgis_canvas, 300, 300)
    _click(tool, qgis_canvas, 0, 0, button=Qt.MouseButton.RightButton)
    assert len(drawn) == 1
    assert len(drawn[0].asPolygon()[0]) == 4


def test_escape_cancels_without_a_polygon(tool, qgis_canvas):
    drawn, cancelled = [], []
    tool.polygonDrawn.connect(drawn.append)
    tool.drawingCancelled.connect(lambda: cancelled.append(True))
    for x, y in ((10, 10), (300, 10), (300, 300)):
        _click(tool, qgis_canvas, x, y)
    _key(tool, Qt.Key.Key_Escape)
    assert drawn == [] and cancelled == [True]
    assert tool.points == []


def test_fewer_than_three_vertices_is_not_a_polygon(tool, qgis_canvas):
    drawn, cancelled = [], []
    tool.polygonDrawn.connect(drawn.append)
    tool.drawingCancelled.connect(lambda: cancelled.append(True))
    _click(tool, qgis_canvas, 10, 10)
    _click(tool, qgis_canvas, 20, 20, kind=QEvent.Type.MouseButtonDblClick)
    assert drawn == [] and cancelled == [True]


def test_a_self_intersecting_bow_tie_is_repaired_into_a_valid_area(tool, qgis_canvas):
    drawn = []
    tool.polygonDrawn.connect(drawn.append)
    for x, y in ((10, 10), (300, 300), (300, 10), (10, 300)):
        _click(tool, qgis_canvas, x, y)
    _click(tool, qgis_canvas, 0, 0, button=Qt.MouseButton.RightButton)
    assert drawn and drawn[0].isGeosValid() and drawn[0].area() > 0


@pytest.fixture
def delete_selected(qgis_parent, qgis_canvas, qtbot):
    """A window shortcut on Backspace and Delete, as QGIS's *Delete Selected* has."""
    from qgis.PyQt.QtGui import QKeySequence
    from qgis.PyQt.QtWidgets import QAction, QApplication

    fired = []
    action = QAction("Delete Selected", qgis_parent)
    action.setShortcuts([QKeySequence(Qt.Key.Key_Backspace), QKeySequence(Qt.Key.Key_Delete)])
    action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
    action.triggered.connect(lambda: fired.append(True))
    qgis_parent.addAction(action)
    qgis_parent.show()
    qgis_parent.activateWindow()
    QApplication.setActiveWindow(qgis_parent)  # offscreen: a window shown again is not activated on its own
    qtbot.waitUntil(lambda: qgis_parent.isActiveWindow())
    qgis_canvas.setFocus()
    yield fired
    qgis_parent.removeAction(action)
    qgis_parent.hide()


def test_the_window_shortcut_fires_when_no_drawing_is_under_way(qgis_canvas, delete_selected, qtbot):
    qtbot.keyClick(qgis_canvas, Qt.Key.Key_Backspace)
    assert delete_selected == [True]  # the shortcut the drawing must not trigger is really there


def test_drawing_keys_go_to_the_drawing_not_to_qgis_shortcuts(tool, qgis_canvas, delete_selected, qtbot):
    drawn = []
    tool.polygonDrawn.connect(drawn.append)
    for x, y in ((10, 10), (300, 10), (300, 300), (999, 999)):
        _click(tool, qgis_canvas, x, y)
    qtbot.keyClick(qgis_canvas, Qt.Key.Key_Backspace)
    qtbot.keyClick(qgis_canvas, Qt.Key.Key_Delete)
    assert delete_selected == []
    assert len(tool.points) == 2
    _click(tool, qgis_canvas, 10, 300)
    qtbot.keyClick(qgis_canvas, Qt.Key.Key_Return)
    assert len(drawn) == 1 and len(drawn[0].asPolygon()[0]) == 4
    _click(tool, qgis_canvas, 10, 10)
    qtbot.keyClick(qgis_canvas, Qt.Key.Key_Escape)
    assert tool.points == [] and delete_selected == []
