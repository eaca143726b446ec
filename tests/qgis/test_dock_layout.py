"""The dock as a QGIS user meets it: the total always in view, tooltips everywhere, a narrow dock."""
from __future__ import annotations

from qgis.PyQt.QtCore import QPoint, Qt
from qgis.PyQt.QtWidgets import (
    QAbstractButton,
    QAbstractItemView,
    QAbstractSlider,
    QAbstractSpinBox,
    QComboBox,
    QLineEdit,
    QWidget,
)

from tests.qgis.conftest import connect
from tests.qgis.exports_helpers import make_request, wait_state

INTERACTIVE = (QAbstractButton, QComboBox, QAbstractSpinBox, QLineEdit, QAbstractSlider, QAbstractItemView)
# QGIS's composite widgets: their own tooltip shows over their inner buttons and fields
COMPOSITES = ("QgsExtentWidget", "QgsFileWidget", "QgsScaleWidget", "QgsAuthConfigSelect", "QgsMapLayerComboBox")
NARROW_DOCK_PX = 300


def _form_widgets(dock) -> dict[str, QWidget]:
    """The widgets of ``ui/dock.ui`` by object name."""
    return {name: value for name, value in vars(dock.ui).items() if isinstance(value, QWidget)}


def _inside(dock, widget) -> bool:
    top_left = widget.mapTo(dock, QPoint(0, 0))
    bottom_right = widget.mapTo(dock, QPoint(widget.width() - 1, widget.height() - 1))
    return dock.rect().contains(top_left) and dock.rect().contains(bottom_right)


def test_the_total_stays_in_view_when_the_form_scrolls(dock, qtbot, emulator, shown_canvas):
    connect(dock, qtbot, emulator.service_url("World_Map", "MapServer"))
    dock.use_canvas_extent()
    dock.recount_now()
    dock.resize(NARROW_DOCK_PX, 420)
    dock.show()
    qtbot.waitExposed(dock)
    bar = dock.ui.scrollArea.verticalScrollBar()
    assert bar.maximum() > 0, "the form must be taller than the dock for this test to mean anything"
    for position in (bar.minimum(), bar.maximum()):
        bar.setValue(position)
        for widget in (dock.ui.totalLabel, dock.ui.exportButton):
            assert widget.isVisible(), widget.objectName()
            assert not widget.visibleRegion().isEmpty(), (widget.objectName(), position)
            assert _inside(dock, widget), widget.objectName()
    assert "tiles in" in dock.ui.totalLabel.text()


def test_every_control_of_the_dock_has_a_tooltip(dock, qtbot, emulator, exports_manager, tmp_path):
    # an export card too: its buttons are part of the dock
    export_id = exports_manager.start_export(make_request(emulator.service_url("World_Map", "MapServer"),
                                                    tmp_path / "a.tpkx", levels=(0,), add_to_map=False))
    wait_state(qtbot, exports_manager, export_id)
    assert dock.exports_panel.card(export_id) is not None
    controls = [w for w in _form_widgets(dock).values() if isinstance(w, INTERACTIVE)]
    controls += [w for w in _form_widgets(dock).values() if type(w).__name__ in COMPOSITES]
    controls += list(dock.exports_panel.findChildren(QAbstractButton))
    names = {w.objectName() for w in controls}
    assert {"areaSourceCombo", "selectedOnlyCheck", "addToMapCheck", "exportButton", "helpButton",
            "qualitySlider", "outputWidget", "cancelButton", "clearFinishedButton"} <= names
    missing = sorted(w.objectName() or type(w).__name__ for w in controls if not w.toolTip().strip())
    assert missing == []


def test_the_dock_fits_a_narrow_dock_area(dock, qtbot, emulator, shown_canvas):
    connect(dock, qtbot, emulator.service_url("World_Imagery", "ImageServer"))  # the widest form: quality slider
    dock.use_canvas_extent()
    dock.recount_now()
    assert dock.minimumSizeHint().width() <= NARROW_DOCK_PX
    dock.resize(NARROW_DOCK_PX, 700)
    dock.show()
    qtbot.waitExposed(dock)
    assert dock.body.width() <= NARROW_DOCK_PX
    # nothing is cut off at the right of the scrolled form (it has no horizontal scroll bar)
    assert dock.ui.scrollContents.minimumSizeHint().width() <= dock.ui.scrollArea.viewport().width()


def _narrow(dock, qtbot, height: int = 900) -> None:
    dock.resize(NARROW_DOCK_PX, height)
    dock.show()
    qtbot.waitExposed(dock)
    qtbot.wait(20)


def test_a_long_message_is_shown_in_full_in_a_narrow_dock(dock, qtbot):
    _narrow(dock, qtbot)
    text = ("The folder /home/analyst/field work/2026/basemaps cannot be written to (no permission to write in it). "
            "Choose a folder you can write to under Save to; nothing was sent to the server.")
    dock.show_message(text)
    qtbot.wait(20)
    label = dock.message_line.label
    assert label.isVisible() and label.text() == text
    lines = label.heightForWidth(label.width()) // label.fontMetrics().lineSpacing()
    assert lines >= 3  # it needs several lines at 300 px …
    assert label.height() >= label.heightForWidth(label.width())  # … and has all of them
    dock.clear_message()
    assert not dock.message_line.isVisible()


def test_the_levels_table_shows_tiles_and_size_without_scrolling_sideways(dock, qtbot, emulator, shown_canvas):
    from plugin.gui.levels_model import LEVEL, SIZE, TILES

    connect(dock, qtbot, emulator.service_url("World_Imagery", "ImageServer"))
    dock.use_canvas_extent()
    dock.recount_now()
    _narrow(dock, qtbot)
    view = dock.ui.levelsView
    header = view.horizontalHeader()
    width = view.viewport().width()
    for column in (LEVEL, TILES, SIZE):
        assert header.sectionViewportPosition(column) + header.sectionSize(column) <= width, column


def _readable_columns(view) -> dict[int, str]:
    """The shown columns, each as wide as its widest cell and its header, all inside the viewport, with
    no horizontal scroll bar; their header texts."""
    header = view.horizontalHeader()
    shown = [c for c in range(view.model().columnCount()) if not view.isColumnHidden(c)]
    for column in shown:
        title = view.model().headerData(column, Qt.Orientation.Horizontal)
        assert header.sectionSize(column) >= max(view.sizeHintForColumn(column), header.sectionSizeHint(column),
                                                 header.fontMetrics().horizontalAdvance(title)), title
        assert header.sectionViewportPosition(column) + header.sectionSize(column) <= view.viewport().width()
    assert view.horizontalScrollBar().maximum() == 0
    return {c: view.model().headerData(c, Qt.Orientation.Horizontal) for c in shown}


def test_every_column_of_the_levels_table_is_readable_at_300_and_600_px(dock, qtbot, emulator, shown_canvas):
    from plugin.gui.levels_model import LEVEL, SCALE, SIZE, TILES, format_scale

    connect(dock, qtbot, emulator.service_url("World_Imagery", "ImageServer"))
    dock.use_canvas_extent()
    dock.model.set_checked_levels(range(10))
    dock.recount_now()
    view = dock.ui.levelsView
    coarsest = dock.model.index(0, SCALE)

    _narrow(dock, qtbot)
    dock.levels_panel.columns.fit()
    before_estimate = _readable_columns(view)
    assert {LEVEL, TILES} <= set(before_estimate) and SIZE not in before_estimate  # no column of "–" only

    dock.model.set_bytes_per_tile(23_456)  # what the server's estimate gives: the Size column filled
    dock.levels_panel.columns.fit()
    narrow = _readable_columns(view)
    assert {LEVEL, TILES, SIZE} <= set(narrow)
    full = format_scale(dock.model.lod(0).scale)
    tip = view.model().data(coarsest, Qt.ItemDataRole.ToolTipRole)
    assert full in tip and "156,543.03 m a pixel" in tip  # what a narrow table leaves out is in the row's tooltip
    assert "200 MB" in [view.model().data(view.model().index(row, SIZE)) for row in range(10)]  # an estimate's digits

    dock.resize(2 * NARROW_DOCK_PX, 900)
    qtbot.wait(20)
    dock.levels_panel.columns.fit()
    wide = _readable_columns(view)
    assert len(wide) == view.model().columnCount()  # every column again
    assert view.model().data(coarsest) == full  # QGIS's spelling, as everywhere


def test_the_exports_list_shows_two_cards_whose_buttons_say_what_they_do(dock, qtbot, emulator, exports_manager,
                                                                        tmp_path):
    from qgis.PyQt.QtCore import Qt

    url = emulator.service_url("World_Map", "MapServer")
    first = exports_manager.start_export(make_request(url, tmp_path / "a.tpkx", levels=(0,), add_to_map=False))
    second = exports_manager.start_export(make_request(url, tmp_path / "b.tpkx", levels=(0,), add_to_map=False))
    for export_id in (first, second):
        wait_state(qtbot, exports_manager, export_id)
    _narrow(dock, qtbot, 1400)
    dock.show_exports()
    qtbot.wait(50)
    panel = dock.exports_panel
    cards = [panel.card(first), panel.card(second)]
    assert panel.scroll.viewport().height() >= sum(card.height() for card in cards)
    for card in cards:
        for name, button in card.buttons.items():
            if button.isVisibleTo(card):
                assert button.toolButtonStyle() != Qt.ToolButtonStyle.ToolButtonIconOnly, name
                assert button.text() and button.width() >= button.sizeHint().width() - 1, name  # not cut
    icons = {name: cards[0].buttons[name].icon().cacheKey() for name in ("cancel", "remove")}
    assert icons["cancel"] != icons["remove"]
