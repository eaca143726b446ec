"""The list of exports in the dock: one compact card per export with its progress, status and actions.

Cards stack vertically and wrap their text, so the panel stays usable in a narrow dock; when the
panel is narrower than :data:`NARROW_WIDTH` the action buttons go on two columns, each with its icon
and its word.
"""
from __future__ import annotations

from qgis.core import QgsApplication
from qgis.PyQt.QtCore import Qt
from qgis.PyQt.QtWidgets import (
    QFileDialog,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QMenu,
    QProgressBar,
    QScrollArea,
    QSizePolicy,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from ..qgis_glue.i18n import translator
from .export_destination import target_folder
from .exports import ExportsController, ExportState, ExportView

NARROW_WIDTH = 340  # px: below this the buttons go on two columns
COMPACT_COLUMNS = 2
MIN_CARDS_SHOWN = 2  # the exports list is at least this many cards tall (when it has them)
STATE_ICONS = {
    ExportState.QUEUED: "/mTaskQueued.svg",
    ExportState.RUNNING: "/mTaskRunning.svg",
    ExportState.CANCELLING: "/mTaskRunning.svg",
    ExportState.PAUSED: "/mTaskOnHold.svg",
    ExportState.FINISHED: "/mTaskComplete.svg",
    ExportState.FAILED: "/mIconWarning.svg",
    ExportState.CANCELLED: "/mTaskTerminated.svg",
}
ICON_SIZE = 16


tr = translator("ExportsPanel")  # module strings: pylupdate files them under @default


class ExportCard(QFrame):
    """One export: title, area and levels, progress bar, status line, action buttons."""

    def __init__(self, manager: ExportsController, export_id: str, parent: QWidget | None = None, *,
                 retry=None, resume=None, resume_elsewhere=None) -> None:
        super().__init__(parent)
        self.manager = manager
        self.export_id = export_id
        self.view: ExportView | None = None
        self.setObjectName("exportCard")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Minimum)  # wrapped text needs room

        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 4, 6, 4)
        layout.setSpacing(2)
        header = QHBoxLayout()
        header.setSpacing(4)
        self.icon = QLabel()
        self.icon.setFixedSize(ICON_SIZE, ICON_SIZE)
        self.title = QLabel()
        self.title.setWordWrap(True)
        font = self.title.font()
        font.setBold(True)
        self.title.setFont(font)
        header.addWidget(self.icon, 0, Qt.AlignmentFlag.AlignTop)
        header.addWidget(self.title, 1)
        layout.addLayout(header)
        self.details = QLabel()
        self.details.setWordWrap(True)
        layout.addWidget(self.details)
        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.progress.setTextVisible(False)
        self.progress.setMaximumHeight(8)
        layout.addWidget(self.progress)
        self.status = QLabel()
        self.status.setObjectName("status")
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.status)

        self.button_grid = QGridLayout()
        self.button_grid.setSpacing(2)
        self.buttons: dict[str, QToolButton] = {}
        for name, icon, text, tip, slot in (
            ("cancel", "/mTaskCancel.svg", tr("Cancel"),
             cancel_tip(), manager.cancel),
            ("resume", "/mActionPlay.svg", tr("Resume"),
             tr("Continue the export where it stopped (server job and partial download are kept); the arrow "
                "offers another folder"), resume or manager.resume),
            ("retry", "/mActionRefresh.svg", tr("Retry"),
             tr("Start the same export again, with the same area and settings, into the folder under "
                "Save to"), retry or manager.retry),
            ("add", "/mActionAddLayer.svg", tr("Add to map"), tr("Add the exported tiles to the map"),
             manager.add_to_map),
            ("folder", "/mIconFolderOpen.svg", tr("Open folder"), tr("Show the folder that holds the files"),
             manager.open_folder),
            ("remove", "/mActionDeleteSelected.svg", tr("Remove"),
             tr("Remove from the list (files of a finished export are kept; an unfinished one is discarded)"),
             manager.discard),
        ):
            button = QToolButton()
            button.setObjectName(f"{name}Button")
            button.setIcon(QgsApplication.getThemeIcon(icon))
            button.setText(text)
            button.setToolTip(tip)
            button.setAutoRaise(True)
            button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
            button.clicked.connect(lambda _checked=False, slot=slot: slot(self.export_id))
            self.buttons[name] = button
        if resume_elsewhere is not None:
            menu = QMenu(self)
            self.resume_elsewhere_action = menu.addAction(tr("Resume in Another Folder…"))
            self.resume_elsewhere_action.setToolTip(tr("Continue the export in another folder: what it has "
                                                       "downloaded moves there, and the result lands there"))
            self.resume_elsewhere_action.triggered.connect(lambda _checked=False: resume_elsewhere(self.export_id))
            self.buttons["resume"].setMenu(menu)
            self.buttons["resume"].setPopupMode(QToolButton.ToolButtonPopupMode.MenuButtonPopup)
        layout.addLayout(self.button_grid)
        self._compact: bool | None = None
        self.set_compact(False)

    def set_view(self, view: ExportView) -> None:
        self.view = view
        icon = QgsApplication.getThemeIcon(STATE_ICONS.get(view.state, "/mTaskQueued.svg"))
        self.icon.setPixmap(icon.pixmap(ICON_SIZE, ICON_SIZE))
        self.icon.setToolTip(state_text(view.state))
        self.title.setText(view.service_name)
        parts = [p for p in (view.area_label, tr("levels {levels}").format(levels=view.levels_text)) if p]
        if view.from_earlier_session:
            parts.append(tr("from an earlier session"))
        if view.note:
            parts.append(view.note)
        self.details.setText(" · ".join(parts))
        show_progress = view.state.active or (view.state == ExportState.PAUSED and view.progress > 0)
        self.progress.setVisible(show_progress)
        self.progress.setValue(round(view.progress * 1000))
        status = view.status or state_text(view.state)
        if view.state.active and view.progress > 0 and "%" not in status:
            # the whole export's share; a step that gives its own (the server's "12 %") keeps only that,
            # as two percentages on one line read as a contradiction
            status = tr("{status} ({percent} %)").format(status=status, percent=int(view.progress * 100))
        self.status.setText(status)
        self.status.setToolTip("\n".join(view.output_paths) if view.output_paths else view.error)
        visible = {
            "cancel": view.state in (ExportState.QUEUED, ExportState.RUNNING, ExportState.PAUSED),
            "resume": view.state == ExportState.PAUSED or (view.state in (ExportState.FAILED, ExportState.CANCELLED)
                                                        and view.can_resume),
            "retry": view.can_retry,
            "add": view.state == ExportState.FINISHED and bool(view.output_paths),
            "folder": view.state == ExportState.FINISHED,
            "remove": not view.state.active and view.state != ExportState.PAUSED,
        }
        for name, button in self.buttons.items():
            button.setVisible(visible[name])
        self._layout_buttons()
        cancel = self.buttons["cancel"]
        if view.state == ExportState.PAUSED:
            cancel.setText(tr("Discard"))
            cancel.setToolTip(tr("Give up this export: its server job is cancelled and its partial download "
                                 "deleted"))
        else:
            cancel.setText(tr("Cancel"))
            cancel.setToolTip(cancel_tip())

    def set_compact(self, compact: bool) -> None:
        """A narrow dock puts the buttons on two columns; each keeps its icon and its word (icons alone
        were ambiguous: Cancel and Remove looked alike)."""
        if compact == self._compact:
            return
        self._compact = compact
        self._layout_buttons()

    def _layout_buttons(self) -> None:
        columns = COMPACT_COLUMNS if self._compact else len(self.buttons)
        for button in self.buttons.values():
            self.button_grid.removeWidget(button)
        shown = [b for b in self.buttons.values() if not b.isHidden()]
        for index, button in enumerate(shown):
            self.button_grid.addWidget(button, index // columns, index % columns, Qt.AlignmentFlag.AlignLeft)
        for button in self.buttons.values():
            if button.isHidden():  # kept in the card's layout so that it stays owned by the card
                self.button_grid.addWidget(button, 0, len(self.buttons))
        for column in range(len(self.buttons) + 1):
            self.button_grid.setColumnStretch(column, 1 if column == columns else 0)


def cancel_tip() -> str:
    return tr("Cancel the export: its server job is cancelled and nothing is kept, except a download under way, "
              "which can resume")


def state_text(state: str) -> str:
    return {
        ExportState.QUEUED: tr("Queued"),
        ExportState.RUNNING: tr("Running"),
        ExportState.CANCELLING: tr("Cancelling…"),
        ExportState.PAUSED: tr("Paused"),
        ExportState.FINISHED: tr("Finished"),
        ExportState.FAILED: tr("Failed"),
        ExportState.CANCELLED: tr("Cancelled"),
    }.get(state, state)


class ExportsPanel(QWidget):
    """Every export of ``manager``, newest first (see :class:`ExportCard`)."""

    def __init__(self, manager: ExportsController, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.manager = manager
        self.cards: dict[str, ExportCard] = {}
        # the folder a Retry writes into (the dock's Save to: the user may have changed it after the
        # failure); None keeps each export's own folder
        self.destination_folder = None
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        self.scroll = QScrollArea()
        self.scroll.setWidgetResizable(True)
        self.scroll.setFrameShape(QFrame.Shape.NoFrame)
        self.scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        container = QWidget()
        self.list_layout = QVBoxLayout(container)
        self.list_layout.setContentsMargins(0, 0, 0, 0)
        self.list_layout.setSpacing(4)
        self.empty = QLabel(tr("No exports yet. Exports you start appear here, with their progress."))
        self.empty.setWordWrap(True)
        self.empty.setEnabled(False)
        self.list_layout.addWidget(self.empty)
        self.list_layout.addStretch(1)
        self.scroll.setWidget(container)
        outer.addWidget(self.scroll)
        footer = QHBoxLayout()
        footer.addStretch(1)
        self.clear_button = QToolButton()
        self.clear_button.setObjectName("clearFinishedButton")
        self.clear_button.setText(tr("Clear finished"))
        self.clear_button.setToolTip(tr("Remove finished and cancelled exports from the list (files are kept)"))
        self.clear_button.setAutoRaise(True)
        self.clear_button.clicked.connect(manager.clear_finished)
        footer.addWidget(self.clear_button)
        outer.addLayout(footer)
        self._compact = False
        manager.exportsChanged.connect(self.refresh)
        manager.exportUpdated.connect(self.update_export)
        self.refresh()

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        compact = event.size().width() < NARROW_WIDTH
        if compact != self._compact:
            self._compact = compact
            for card in self.cards.values():
                card.set_compact(compact)
            self._fit_height()

    def retry(self, export_id: str) -> str:
        folder = self.destination_folder() if self.destination_folder is not None else None
        return self.manager.retry(export_id, folder or None)

    def resume(self, export_id: str) -> None:
        """Resume; when the export's folder cannot take it any more, offer another folder at once."""
        if self.manager.resume(export_id):
            self.resume_elsewhere(export_id)

    def resume_elsewhere(self, export_id: str) -> None:
        """Ask for a folder and resume the export there (its files move with it)."""
        view = self.manager.view(export_id)
        if view is None:
            return
        folder = self.choose_folder(tr("Resume the Export in the Folder"), str(target_folder(view.request)))
        if folder:
            self.manager.resume(export_id, folder)

    def choose_folder(self, title: str, start: str) -> str:
        """The folder the user picks ("" when they cancel)."""
        return QFileDialog.getExistingDirectory(self, title, start)

    def card(self, export_id: str) -> ExportCard | None:
        return self.cards.get(export_id)

    def refresh(self) -> None:
        """Cards for the manager's exports, in its order (newest first); cards are reused."""
        views = self.manager.exports()
        wanted = {v.id for v in views}
        for export_id in [i for i in self.cards if i not in wanted]:
            card = self.cards.pop(export_id)
            self.list_layout.removeWidget(card)
            card.deleteLater()
        for index, view in enumerate(views):
            card = self.cards.get(view.id)
            if card is None:
                card = ExportCard(self.manager, view.id, retry=self.retry, resume=self.resume,
                                  resume_elsewhere=self.resume_elsewhere)
                card.set_compact(self._compact)
                self.cards[view.id] = card
            else:
                self.list_layout.removeWidget(card)
            self.list_layout.insertWidget(index, card)
            card.set_view(view)
        self.empty.setVisible(not views)
        self._update_footer()
        self._fit_height()

    def update_export(self, export_id: str) -> None:
        card = self.cards.get(export_id)
        view = self.manager.view(export_id)
        if card is None or view is None:
            if view is not None:
                self.refresh()
            return
        card.set_view(view)
        self._update_footer()
        self._fit_height()

    def _fit_height(self) -> None:
        """Tall enough for the first :data:`MIN_CARDS_SHOWN` cards (one card tall, a second export was
        out of sight below a scroll bar)."""
        cards = [self.cards[v.id] for v in self.manager.exports()[:MIN_CARDS_SHOWN] if v.id in self.cards]
        spacing = self.list_layout.spacing()
        height = sum(card.sizeHint().height() + spacing for card in cards) if cards else \
            self.empty.sizeHint().height()
        self.scroll.setMinimumHeight(height + 2 * self.scroll.frameWidth())

    def _update_footer(self) -> None:
        self.clear_button.setVisible(any(c.view is not None and c.view.can_clear for c in self.cards.values()))
