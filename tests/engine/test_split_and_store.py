"""The split planner (exact cover, every part within the limit) and the export store."""
from __future__ import annotations

import json
import logging
import math
import random

import pytest

from plugin.core.area import Area
from plugin.core.exportstore import DONE, DOWNLOADING, ExportStore, PartRecord, atomic_write_text
from plugin.core.split import plan_split
from plugin.core.tilecount import count_tiles, iter_tiles
from plugin.core.tiling import LOD, SpatialRef, TilingScheme

MERC = 20037508.342787
WEB = TilingScheme(-MERC, MERC, 256, 256, tuple(LOD(z, 156543.03392800014 / 2 ** z, 0) for z in range(20)),
                   SpatialRef(102100, 3857))
# a non-halving scheme with a foreign origin (like the Connecticut State Plane cache)
ODD = TilingScheme(-119756300.0, 145170100.0, 256, 256,
                   tuple(LOD(i, r, 0) for i, r in enumerate((125.0, 50.0, 33.3333, 25.0, 16.6667, 13.3333, 8.3333))),
                   SpatialRef(2234))


def _assert_exact_cover(scheme, area, levels, plan):
    for level in levels:
        wanted = sorted(iter_tiles(scheme, area, level))
        got = sorted(t for part in plan.parts if level in part.levels for t in iter_tiles(scheme, part.area, level))
        assert got == wanted, f"level {level}"
    for part in plan.parts:
        assert part.tiles <= plan.limit
        assert part.tiles_by_level == count_tiles(scheme, part.area, part.levels)
    assert plan.requested_tiles == sum(count_tiles(scheme, area, levels).values())
    assert plan.duplicate_tiles == plan.total_tiles - plan.requested_tiles == 0


def test_under_the_limit_is_one_job():
    area = Area.from_extent(-1e6, -1e6, 1e6, 1e6)
    plan = plan_split(WEB, area, range(6), 100_000)
    assert plan.part_count == 1
    assert plan.parts[0].area is area and plan.parts[0].levels == tuple(range(6))


def test_rectangle_split_groups_levels_then_cuts_the_finest():
    area = Area.from_extent(-1e6, -1e6, 1.3e6, 0.8e6)
    plan = plan_split(WEB, area, range(12), 500)
    _assert_exact_cover(WEB, area, range(12), plan)
    assert plan.parts[0].levels == tuple(range(9))  # coarse levels together
    assert all(len(p.levels) == 1 for p in plan.parts[1:])
    assert "part 1: levels 0-8" in plan.describe()


@pytest.mark.parametrize("seed", range(6))
def test_random_polygons_are_covered_exactly(seed):
    rnd = random.Random(seed)
    cx, cy = rnd.uniform(-5e6, 5e6), rnd.uniform(-5e6, 5e6)
    points = []
    for i in range(rnd.randint(5, 12)):
        angle = 6.283185 * i / 12 + rnd.uniform(0, 0.4)
        radius = rnd.uniform(2e5, 1.5e6)
        points.append((cx + radius * math.cos(angle), cy + radius * math.sin(angle)))
    area = Area.from_rings([points])
    levels = range(3, 11)
    limit = rnd.choice([50, 200, 1000])
    plan = plan_split(WEB, area, levels, limit)
    _assert_exact_cover(WEB, area, levels, plan)


def test_polygon_with_hole_and_non_halving_scheme():
    outer = [(0, 0), (0, 60000), (60000, 60000), (60000, 0)]
    hole = [(20000, 20000), (40000, 20000), (40000, 40000), (20000, 40000)]
    area = Area.from_rings([outer, hole])
    levels = range(7)
    plan = plan_split(ODD, area, levels, 300)
    assert plan.part_count > 1
    _assert_exact_cover(ODD, area, levels, plan)


def test_very_wide_row_is_cut_into_column_chunks():
    area = Area.from_extent(-1.9e7, 0, 1.9e7, 10_000)  # one row, thousands of columns at level 12
    plan = plan_split(WEB, area, [12], 1000)
    _assert_exact_cover(WEB, area, [12], plan)
    assert plan.part_count == -(-plan.requested_tiles // 1000)


# --- export store -----------------------------------------------------------------------------------
def _record(**kw) -> PartRecord:
    base = {"service_url": "https://gis.example.com/arcgis/rest/services/A/MapServer",
            "service_kind": "MapServer", "params": {"levels": "0-3"},
            "area": {"rings": [[[0, 0], [0, 1], [1, 1], [0, 0]]]}, "levels": [0, 1, 2, 3], "format": "tpkx",
            "tiles": 85, **kw}
    return PartRecord(**base)


def test_record_round_trip_and_store(tmp_path):
    store = ExportStore(tmp_path / "jobs")
    record = _record(job={"job_id": "j1", "protocol": "gp", "job_url": None, "operation": "exportTiles"},
                     state=DOWNLOADING, downloads=[{"url": "u", "target": "/x.tpkx", "bytes_done": 10, "etag": '"e"'}])
    store.save(record)
    loaded = store.load(record.id)
    assert loaded == record
    assert loaded.job_id == "j1"
    assert [r.id for r in store.resumable()] == [record.id]
    record.state = DONE
    store.save(record)
    assert store.resumable() == []
    store.delete(record.id)
    assert store.load(record.id) is None


def test_corrupt_record_is_moved_aside_without_crashing(tmp_path, caplog):
    store = ExportStore(tmp_path)
    good = _record()
    store.save(good)
    (tmp_path / "broken.json").write_text('{"service_url": "x", "state": ')
    (tmp_path / "other.json").write_text(json.dumps([1, 2, 3]))
    with caplog.at_level(logging.WARNING):
        records = store.records()
    assert [r.id for r in records] == [good.id]
    assert (tmp_path / "broken.json.bad").exists() and (tmp_path / "other.json.bad").exists()
    assert "damaged" in caplog.text


def test_atomic_write_leaves_no_temp_files(tmp_path):
    target = tmp_path / "a.json"
    atomic_write_text(target, "one")
    atomic_write_text(target, "two")
    assert target.read_text() == "two"
    assert [p.name for p in tmp_path.iterdir()] == ["a.json"]


def test_record_strips_tokens_from_urls():
    record = _record()
    record.set_result_urls(["https://gis.example.com/out/a.tpkx?token=SECRET", "https://s3/x.vtpk?X-Amz-Signature=s"])
    assert "SECRET" not in json.dumps(record.to_dict())
    assert record.result_urls[1].endswith("X-Amz-Signature=s")


def test_unknown_keys_are_ignored_for_forward_compatibility():
    data = _record().to_dict()
    data["future_field"] = 1
    assert PartRecord.from_dict(data).service_url == data["service_url"]
