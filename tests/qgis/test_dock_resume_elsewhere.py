"""Resume into a new folder: an export paused in the middle of its download, whose folder can no
longer take it (or that the user wants elsewhere), continues in a folder the user picks, with the part
already downloaded; the result lands there and nothing is left in the old folder."""
from __future__ import annotations

import errno
import shutil
import tempfile
from pathlib import Path

import pytest
from qgis.core import QgsApplication

from plugin.core import output as output_module
from plugin.core.exportstore import ExportStore
from plugin.gui.exports import ExportState
from plugin.tasks.export_task import ExportTask
from tests.qgis.conftest import connect
from tests.qgis.exports_helpers import export_requests, wait_state

TIMEOUT_MS = 120_000
KEPT_AT_LEAST = 4096  # bytes downloaded before the pause


def _paused_mid_download(dock, qtbot, emulator, out: Path) -> tuple[str, int]:
    """An export to ``out`` paused from QGIS's task list while its download crawls; (export id, bytes kept)."""
    connect(dock, qtbot, emulator.service_url("World_Map", "MapServer"))
    dock.use_canvas_extent()
    dock.model.set_checked_levels([1, 2, 3])
    dock.ui.outputWidget.setFilePath(str(out))
    dock.recount_now()
    emulator.inject("drop_download", after_bytes=KEPT_AT_LEAST, count=None)  # a slow line: the download crawls
    export_id = dock.export()
    assert export_id, dock.message_text()
    part = out.with_name(out.name + ".part")
    qtbot.waitUntil(lambda: part.exists() and part.stat().st_size >= KEPT_AT_LEAST, timeout=TIMEOUT_MS)
    task = next(t for t in QgsApplication.taskManager().activeTasks() if isinstance(t, ExportTask))
    task.cancel()  # QGIS's task list pauses an export
    view = wait_state(qtbot, dock.manager, export_id, (ExportState.PAUSED, ExportState.FAILED), timeout=TIMEOUT_MS)
    assert view.state == ExportState.PAUSED, view.error
    emulator.clear_faults()
    return export_id, part.stat().st_size


@pytest.fixture
def unwritable(monkeypatch):
    """Folders that refuse new files as a read-only one does (the tests run as root, whom chmod
    does not stop): the output check's probe fails there with EACCES."""
    folders: set[Path] = set()
    real = tempfile.mkstemp

    def mkstemp(*args, **kwargs):
        if Path(str(kwargs.get("dir", ""))) in folders:
            raise PermissionError(errno.EACCES, "Permission denied")
        return real(*args, **kwargs)

    monkeypatch.setattr(output_module.tempfile, "mkstemp", mkstemp)
    return folders


def test_resume_offers_a_new_folder_when_the_old_one_cannot_be_written(dock, qtbot, emulator, shown_canvas,
                                                                        tmp_path, unwritable, monkeypatch):
    old, new = tmp_path / "usb", tmp_path / "disk"
    old.mkdir()
    new.mkdir()
    export_id, kept = _paused_mid_download(dock, qtbot, emulator, old / "field.tpkx")
    unwritable.add(old)
    asked = []

    def choose_folder(title, start):
        asked.append((title, start))
        return str(new)

    monkeypatch.setattr(dock.exports_panel, "choose_folder", choose_folder)
    card = dock.exports_panel.card(export_id)
    card.buttons["resume"].click()

    assert asked == [("Resume the Export in the Folder", str(old))]  # offered at once, from the old folder
    view = wait_state(qtbot, dock.manager, export_id, (ExportState.FINISHED, ExportState.FAILED), timeout=TIMEOUT_MS)
    assert view.state == ExportState.FINISHED, view.error
    assert f"bytes={kept}-" in [r.header("Range") for r in emulator.requests if r.header("Range")]  # continued
    assert len(export_requests(emulator)) == 1  # the same server job
    assert (new / "field.tpkx").is_file() and view.output_paths[0].startswith(str(new))
    assert list(old.iterdir()) == []  # the partial download moved; nothing is left behind
    assert ExportStore(dock.manager.store_folder).records() == []


def test_a_refused_resume_says_why_and_changes_nothing_when_no_folder_is_picked(dock, qtbot, emulator, shown_canvas,
                                                                                tmp_path, unwritable, monkeypatch):
    old = tmp_path / "usb"
    old.mkdir()
    export_id, kept = _paused_mid_download(dock, qtbot, emulator, old / "field.tpkx")
    unwritable.add(old)
    monkeypatch.setattr(dock.exports_panel, "choose_folder", lambda title, start: "")
    card = dock.exports_panel.card(export_id)
    card.buttons["resume"].click()
    view = dock.manager.view(export_id)
    assert view.state == ExportState.PAUSED
    assert str(old) in card.status.text() and "Choose another folder to resume it in" in card.status.text()
    assert (old / "field.tpkx.part").stat().st_size == kept
    dock.manager.discard(export_id)


def test_resume_in_another_folder_after_the_old_one_is_gone(dock, qtbot, emulator, shown_canvas, tmp_path,
                                                            monkeypatch):
    old, new = tmp_path / "usb", tmp_path / "disk"
    old.mkdir()
    new.mkdir()
    export_id, _kept = _paused_mid_download(dock, qtbot, emulator, old / "field.tpkx")
    shutil.rmtree(old)  # the drive was unplugged: the partial download is gone with it
    monkeypatch.setattr(dock.exports_panel, "choose_folder", lambda title, start: str(new))
    card = dock.exports_panel.card(export_id)
    card.buttons["resume"].click()
    view = wait_state(qtbot, dock.manager, export_id, (ExportState.FINISHED, ExportState.FAILED), timeout=TIMEOUT_MS)
    assert view.state == ExportState.FINISHED, view.error
    assert len(export_requests(emulator)) == 1  # the server's package is downloaded again, not rebuilt
    assert (new / "field.tpkx").is_file() and not old.exists()


def test_resume_in_another_folder_by_choice_refuses_a_folder_holding_the_name(dock, qtbot, emulator, shown_canvas,
                                                                              tmp_path, monkeypatch):
    old, new = tmp_path / "a", tmp_path / "b"
    old.mkdir()
    new.mkdir()
    (new / "field.tpkx").write_bytes(b"the user's own file")
    export_id, kept = _paused_mid_download(dock, qtbot, emulator, old / "field.tpkx")
    monkeypatch.setattr(dock.exports_panel, "choose_folder", lambda title, start: str(new))
    card = dock.exports_panel.card(export_id)
    card.resume_elsewhere_action.trigger()  # Resume ▸ Resume in Another Folder…
    assert dock.manager.view(export_id).state == ExportState.PAUSED
    assert "field.tpkx already exists in" in card.status.text()
    assert (new / "field.tpkx").read_bytes() == b"the user's own file"
    assert (old / "field.tpkx.part").stat().st_size == kept
    dock.manager.discard(export_id)
