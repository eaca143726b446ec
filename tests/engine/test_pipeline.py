"""The one export pipeline (plugin.core.pipeline) against the emulator, without QGIS: the names it
gives, the merge it decides, and what the export store keeps when an export ends."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from plugin.core.area import Area
from plugin.core.errors import CancelledError, InvalidRequestError
from plugin.core.export import Exporter
from plugin.core.exportstore import PAUSED, ExportStore
from plugin.core.http import CancelToken
from plugin.core.jobs import PollPolicy
from plugin.core.pipeline import ExportPipeline, PipelineListener
from plugin.core.records import load_requests
from plugin.core.request import ExportRequest
from plugin.core.tilecache import TILE_CACHE

SMALL = Area.from_extent(-2e6, -2e6, 2e6, 2e6)
LEVELS = (0, 1, 2, 3)


class Recorder(PipelineListener):
    def __init__(self) -> None:
        self.renames: list[tuple[str, str]] = []
        self.fractions: list[float] = []
        self.merges: list[str] = []

    def renamed(self, wanted, chosen) -> None:
        self.renames.append((wanted.name, chosen.name))

    def part_progress(self, progress, fraction, part_fraction) -> None:
        self.fractions.append(fraction)

    def merging(self, target, count, caches, fraction) -> None:
        self.merges.append(target.name)

    def merge_progress(self, done, total, fraction) -> None:
        self.fractions.append(fraction)


@pytest.fixture
def exporter(fast_session, fake_clock, tmp_path):
    return Exporter(fast_session, store=ExportStore(tmp_path / "jobs"), poll=PollPolicy(timeout=3600), clock=fake_clock)


def _request(emu, out: Path, kind: str = "MapServer", name: str = "World_Map", levels=LEVELS,
             **options) -> ExportRequest:
    return ExportRequest(emu.service_url(name, kind), "", SMALL, levels, None, output_path=str(out),
                         service_name=name, **options)


def _names(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name != "jobs")


def test_an_export_never_overwrites_one_and_says_so(emu, exporter, tmp_path):
    out = tmp_path / "field.tpkx"
    first = ExportPipeline(exporter, _request(emu, out), "a1").run()
    listener = Recorder()
    second = ExportPipeline(exporter, _request(emu, out), "a2", listener=listener).run()
    assert Path(first.main_path) == out and Path(second.main_path) == tmp_path / "field (2).tpkx"
    assert listener.renames == [("field.tpkx", "field (2).tpkx")]
    assert _names(tmp_path) == ["field (2).tpkx", "field.tpkx"]
    assert listener.fractions == sorted(listener.fractions) and listener.fractions[-1] == pytest.approx(1.0)


def test_split_parts_merge_into_the_outputs_gpkg_and_a_gpkg_output_converts_one_package(emu, exporter, tmp_path):
    emu.configure("World_Map/MapServer", max_export_tiles=8)
    listener = Recorder()
    split = ExportPipeline(exporter, _request(emu, tmp_path / "field.tpkx"), "s1", listener=listener).run()
    assert split.merged and Path(split.main_path) == tmp_path / "field.gpkg" and split.part_count > 1
    assert listener.merges == ["field.gpkg"] and all(Path(p).name.startswith("field_part") for p in split.packages)
    emu.configure("World_Map/MapServer", max_export_tiles=100_000)
    one = ExportPipeline(exporter, _request(emu, tmp_path / "one.gpkg", merge=False), "s2").run()
    assert one.merged and Path(one.main_path) == tmp_path / "one.gpkg" and one.packages == (str(tmp_path / "one.tpkx"),)
    assert (tmp_path / "one.gpkg").stat().st_size == one.size > 0


def test_a_folder_output_is_named_after_the_service_and_split_caches_merge_into_one_folder(emu, exporter, tmp_path):
    emu.configure("World_Map/MapServer", max_export_tiles=8)
    outcome = ExportPipeline(exporter, _request(emu, tmp_path / "caches", output_kind=TILE_CACHE), "c1").run()
    assert outcome.merged and Path(outcome.main_path) == tmp_path / "caches"
    assert (tmp_path / "caches" / "conf.xml").is_file()
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "notes.txt").write_text("the user's")
    packaged = ExportPipeline(exporter, _request(emu, tmp_path / "out", merge=False), "c2").run()
    assert Path(packaged.packages[0]).parent == tmp_path / "out"
    assert all(Path(p).name.startswith("World_Map_part") for p in packaged.packages)


def test_done_forgets_the_records_and_the_request_file(emu, exporter, tmp_path):
    pipeline = ExportPipeline(exporter, _request(emu, tmp_path / "f.tpkx"), "d1")
    pipeline.run()
    assert exporter.store.records() == [] and load_requests(exporter.store.folder) == {}
    assert not pipeline.settled.can_resume


def test_a_failure_with_nothing_to_resume_leaves_no_record(emu, exporter, tmp_path):
    pipeline = ExportPipeline(exporter, _request(emu, tmp_path / "f.tpkx", levels=()), "f1")
    with pytest.raises(InvalidRequestError):
        pipeline.run()
    assert exporter.store.records() == [] and load_requests(exporter.store.folder) == {}
    assert not pipeline.settled.can_resume


def test_a_cancel_before_the_download_gives_the_export_up(emu, exporter, fake_clock, tmp_path):
    emu.configure("World_Map/MapServer", job_steps=50)
    cancel = CancelToken()
    fake_clock.on_sleep = lambda s: cancel.cancel() if len(fake_clock.sleeps) == 2 else None
    pipeline = ExportPipeline(exporter, _request(emu, tmp_path / "f.tpkx"), "x1", cancel=cancel)
    with pytest.raises(CancelledError):
        pipeline.run()
    assert emu.requests_to("/cancel") and not pipeline.settled.can_resume
    assert exporter.store.records() == [] and load_requests(exporter.store.folder) == {}
    assert _names(tmp_path) == []


def test_a_pause_keeps_everything_and_a_resume_finishes_under_the_chosen_name(emu, exporter, fake_clock, tmp_path):
    (tmp_path / "f.tpkx").write_bytes(b"an earlier export")
    emu.configure("World_Map/MapServer", job_steps=4)
    cancel = CancelToken()
    fake_clock.on_sleep = lambda s: cancel.pause() if len(fake_clock.sleeps) == 2 else None
    request = _request(emu, tmp_path / "f.tpkx")
    pipeline = ExportPipeline(exporter, request, "p1", cancel=cancel)
    with pytest.raises(CancelledError):
        pipeline.run()
    assert pipeline.settled.can_resume and [r.state for r in exporter.store.records()] == [PAUSED]
    doc = json.loads((exporter.store.folder / "p1.json").read_text())  # one record per export
    assert doc["state"] == "paused" and doc["request"]["output_path"] == str(tmp_path / "f (2).tpkx")
    assert [part["state"] for part in doc["parts"]] == ["paused"]
    fake_clock.on_sleep = None
    saved = load_requests(exporter.store.folder)["p1"]["export_request"]
    outcome = ExportPipeline(exporter, saved, "p1", resume=True).run()
    assert Path(outcome.main_path) == tmp_path / "f (2).tpkx"
    assert (tmp_path / "f.tpkx").read_bytes() == b"an earlier export"
    assert len(emu.requests_to("/exportTiles")) == 1  # the paused server job went on
    assert exporter.store.records() == []


def test_the_files_of_an_earlier_version_are_found_and_resumed(emu, exporter, fake_clock, tmp_path):
    """Earlier versions kept one file per part record and the request beside, its area as WKT: such an
    export is moved into one record when the store is read, and it finishes."""
    emu.configure("World_Map/MapServer", job_steps=4)
    cancel = CancelToken()
    fake_clock.on_sleep = lambda s: cancel.pause() if len(fake_clock.sleeps) == 2 else None
    with pytest.raises(CancelledError):
        ExportPipeline(exporter, _request(emu, tmp_path / "old.tpkx"), "o1", cancel=cancel).run()
    folder = exporter.store.folder
    doc = json.loads((folder / "o1.json").read_text())
    (folder / "o1.json").unlink()
    for part in doc["parts"]:  # the form of version 1
        (folder / f"{part['id']}.json").write_text(json.dumps(part))
    request = {k: v for k, v in doc["request"].items() if k != "area"}
    request.update(area_wkt="Polygon ((-2000000 -2000000, 2000000 -2000000, 2000000 2000000, "
                            "-2000000 2000000, -2000000 -2000000))", area_is_rectangle=True)
    (folder / "requests").mkdir()
    (folder / "requests" / "o1.json").write_text(json.dumps({"job_id": "o1", "state": "paused", "request": request,
                                                             "created": 1.0}))
    fake_clock.on_sleep = None
    saved = load_requests(folder)["o1"]
    assert saved["state"] == "paused" and saved["export_request"].area == SMALL
    assert sorted(p.name for p in folder.iterdir()) == ["o1.json"]  # one record now, the old files gone
    outcome = ExportPipeline(exporter, saved["export_request"], "o1", resume=True).run()
    assert Path(outcome.main_path) == tmp_path / "old.tpkx" and outcome.tile_count > 0
    assert len(emu.requests_to("/exportTiles")) == 1 and exporter.store.records() == []
    assert list(folder.iterdir()) == []


def test_a_damaged_export_record_is_set_aside_and_the_others_load(emu, exporter, tmp_path):
    folder = exporter.store.folder
    exporter.store.save_export("good1", _request(emu, tmp_path / "a.tpkx").to_dict(), "paused")
    folder.joinpath("bad1.json").write_text(json.dumps({"format": 2, "export_id": "bad1", "parts": "x"}))
    folder.joinpath("bad2.json").write_text(json.dumps({"format": 2, "export_id": "../../x", "parts": []}))
    folder.joinpath("bad3.json").write_text(json.dumps({"format": 2, "export_id": "good1", "parts": []}))
    assert list(load_requests(folder)) == ["good1"]
    assert sorted(p.name for p in folder.iterdir()) == ["bad1.json.bad", "bad2.json.bad", "bad3.json.bad",
                                                        "good1.json"]
