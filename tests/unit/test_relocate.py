"""Moving a stopped export into another folder (core.relocate): its partial downloads, finished parts
and tile-cache staging move with it, its records follow, and nothing of the user's is overwritten."""
from __future__ import annotations

import errno
import os
import shutil
import uuid
from pathlib import Path

import pytest

from plugin.core import relocate as relocate_module
from plugin.core.download import DownloadState
from plugin.core.errors import ExportMoveError
from plugin.core.exportstore import DONE, DOWNLOADING, ExportStore, PartRecord
from plugin.core.names import cache_download_paths
from plugin.core.relocate import relocate_export

URL = "https://gis.example.com/arcgis/rest/services/World_Map/MapServer"
PLAN = "plan1"


def _split_export(store: ExportStore, folder: Path) -> tuple[PartRecord, PartRecord]:
    """A split export in ``folder``: part 1 finished, part 2 half downloaded."""
    first = folder / "field_part01of02.tpkx"
    first.write_bytes(b"finished part" * 100)
    second = folder / "field_part02of02.tpkx"
    second.with_name(second.name + ".part").write_bytes(b"half" * 1000)
    done = PartRecord(service_url=URL, plan_id=PLAN, part_index=0, part_count=2, state=DONE, format="tpkx",
                     output_path=str(first), output_paths=[str(first)])
    state = DownloadState(url="https://gis.example.com/out/b.tpkx", target=str(second), bytes_done=4000, total=9000)
    running = PartRecord(service_url=URL, plan_id=PLAN, part_index=1, part_count=2, state=DOWNLOADING, format="tpkx",
                        output_path=str(second), result_urls=[state.url], downloads=[state.to_dict()])
    store.save(done)
    store.save(running)
    return done, running


def test_the_parts_and_the_partial_download_move_and_the_records_follow(tmp_path):
    old, new = tmp_path / "old", tmp_path / "new"
    old.mkdir()
    new.mkdir()
    store = ExportStore(tmp_path / "jobs")
    done, running = _split_export(store, old)
    finished = (old / "field_part01of02.tpkx").read_bytes()

    moved = relocate_export(store, PLAN, new)

    assert list(old.iterdir()) == []
    assert (new / "field_part01of02.tpkx").read_bytes() == finished
    assert (new / "field_part02of02.tpkx.part").read_bytes() == b"half" * 1000
    assert moved.left_behind == ()
    first, second = store.load(done.id), store.load(running.id)
    assert first.output_paths == [str(new / "field_part01of02.tpkx")]
    assert second.output_path == str(new / "field_part02of02.tpkx")
    state = DownloadState.from_dict(second.downloads[0])
    assert state.part == new / "field_part02of02.tpkx.part" and state.bytes_done == 4000


def test_a_name_already_in_the_new_folder_is_refused_and_nothing_moves(tmp_path):
    old, new = tmp_path / "old", tmp_path / "new"
    old.mkdir()
    new.mkdir()
    store = ExportStore(tmp_path / "jobs")
    done, running = _split_export(store, old)
    (new / "field_part02of02.tpkx").write_bytes(b"the user's file")
    before = sorted(p.name for p in old.iterdir())

    with pytest.raises(ExportMoveError) as caught:
        relocate_export(store, PLAN, new)

    assert "field_part02of02.tpkx already exists" in caught.value.user_message
    assert sorted(p.name for p in old.iterdir()) == before
    assert [p.name for p in new.iterdir()] == ["field_part02of02.tpkx"]
    assert (new / "field_part02of02.tpkx").read_bytes() == b"the user's file"
    assert store.load(running.id).output_path == running.output_path


def test_a_failed_move_puts_back_what_that_record_had_moved(tmp_path, monkeypatch):
    old, new = tmp_path / "old", tmp_path / "new"
    old.mkdir()
    new.mkdir()
    store = ExportStore(tmp_path / "jobs")
    first = old / "one.tpkx"
    first.with_name("one.tpkx.part").write_bytes(b"a" * 10)
    (old / "one_2.tpkx").write_bytes(b"b" * 10)
    states = [DownloadState(url="https://gis.example.com/1", target=str(first), bytes_done=10),
              DownloadState(url="https://gis.example.com/2", target=str(old / "one_2.tpkx"), complete=True)]
    record = PartRecord(service_url=URL, plan_id=PLAN, state=DOWNLOADING, output_path=str(first),
                       downloads=[s.to_dict() for s in states])
    store.save(record)
    real = os.rename
    calls = []

    def rename(src, dst):  # the second file cannot be written: a disk error (cannot be staged for real)
        calls.append(src)
        if len(calls) == 2:
            raise OSError(errno.EIO, "Input/output error")
        return real(src, dst)

    monkeypatch.setattr(relocate_module.os, "rename", rename)
    with pytest.raises(ExportMoveError) as caught:
        relocate_export(store, PLAN, new)
    assert "Input/output error" in caught.value.user_message
    assert sorted(p.name for p in old.iterdir()) == ["one.tpkx.part", "one_2.tpkx"]
    assert list(new.iterdir()) == []
    assert store.load(record.id).output_path == str(first)


def test_a_tile_cache_being_downloaded_moves_with_its_staging_folder(tmp_path):
    old, new = tmp_path / "old", tmp_path / "new"
    old.mkdir()
    new.mkdir()
    store = ExportStore(tmp_path / "jobs")
    cache = old / "field"
    staging, _zip = cache_download_paths(cache)
    bundle = staging / "Layers" / "_alllayers" / "L01" / "R0000C0000.bundle"
    bundle.parent.mkdir(parents=True)
    bundle.write_bytes(b"bundle")
    (staging / "Layers" / "conf.xml").write_text("<CacheInfo/>")
    state = DownloadState(url="https://gis.example.com/R0000C0001.bundle",
                          target=str(bundle.with_name("R0000C0001.bundle")), bytes_done=3)
    bundle.with_name("R0000C0001.bundle.part").write_bytes(b"bun")
    record = PartRecord(service_url=URL, plan_id=PLAN, state=DOWNLOADING, output_path=str(cache),
                       downloads=[state.to_dict()])
    store.save(record)

    relocate_export(store, PLAN, new)

    moved_staging, _ = cache_download_paths(new / "field")
    assert (moved_staging / "Layers" / "_alllayers" / "L01" / "R0000C0000.bundle").read_bytes() == b"bundle"
    assert (moved_staging / "Layers" / "_alllayers" / "L01" / "R0000C0001.bundle.part").read_bytes() == b"bun"
    assert list(old.iterdir()) == []
    saved = store.load(record.id)
    assert saved.output_path == str(new / "field")
    assert DownloadState.from_dict(saved.downloads[0]).part == \
        moved_staging / "Layers" / "_alllayers" / "L01" / "R0000C0001.bundle.part"


def test_records_whose_files_are_gone_point_to_the_new_folder(tmp_path):
    old, new = tmp_path / "old", tmp_path / "new"
    old.mkdir()
    new.mkdir()
    store = ExportStore(tmp_path / "jobs")
    _done, running = _split_export(store, old)
    shutil.rmtree(old)  # an unplugged drive
    moved = relocate_export(store, PLAN, new)
    assert moved.moved == () and list(new.iterdir()) == []
    assert store.load(running.id).output_path == str(new / "field_part02of02.tpkx")


@pytest.fixture
def other_file_system(tmp_path):
    """A folder on another file system than ``tmp_path`` (tmpfs), where a rename cannot move files."""
    shm = Path("/dev/shm")
    if not shm.is_dir() or not os.access(shm, os.W_OK) or shm.stat().st_dev == tmp_path.stat().st_dev:
        pytest.skip("no second file system to move to")
    folder = shm / f"aot-relocate-{uuid.uuid4().hex}"
    folder.mkdir()
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def test_across_file_systems_the_files_are_copied_verified_and_removed(tmp_path, other_file_system):
    old = tmp_path / "old"
    old.mkdir()
    store = ExportStore(tmp_path / "jobs")
    done, running = _split_export(store, old)
    relocate_export(store, PLAN, other_file_system)
    assert list(old.iterdir()) == []
    assert sorted(p.name for p in other_file_system.iterdir()) == ["field_part01of02.tpkx",
                                                                  "field_part02of02.tpkx.part"]
    assert (other_file_system / "field_part02of02.tpkx.part").read_bytes() == b"half" * 1000
    assert store.load(running.id).output_path == str(other_file_system / "field_part02of02.tpkx")


def test_the_requests_destination_is_kept_in_the_export_record_once_the_files_moved(tmp_path):
    old, new = tmp_path / "old", tmp_path / "new"
    old.mkdir()
    new.mkdir()
    store = ExportStore(tmp_path / "jobs")
    _split_export(store, old)
    store.save_export(PLAN, {"service_url": URL, "output_path": str(old / "field.tpkx")}, "paused")
    relocate_export(store, PLAN, new, str(new / "field.tpkx"))
    entry = store.export(PLAN)
    assert entry.request == {"service_url": URL, "output_path": str(new / "field.tpkx")}
    assert entry.state == "paused" and len(entry.parts) == 2
