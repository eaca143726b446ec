"""Round trip with the emulator's writers: write vtpk/tpkx/tpk/cache from known tiles, read back, convert."""
from __future__ import annotations

import sqlite3

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from arcgis_emulator.writers import v1_bundle, v2_bundle, write_cache_folder, write_package
from plugin.core.packages import convert_package, open_package
from plugin.core.packages.bundles import PACKET
from tests.unit.packages.helpers import assert_no_holes, geo_doc, mvt_gz, png, wm_doc

pytestmark = pytest.mark.timeout(300)
# Random tiles spread over the world make a world-wide data extent: the empty background tiles
# (standins.plan_background) are capped low here to keep each example fast; test_sparse checks them.
BACKGROUND_SAMPLE = 5_000


def _tile_set(draw_addresses, vector: bool) -> dict[tuple[int, int, int], bytes]:
    tiles = {}
    for level, row, col in draw_addresses:
        seed = level * 1000 + row * 37 + col
        tiles[(level, row, col)] = (mvt_gz({f"layer{seed % 3}": [{"id": seed}]}) if vector
                                    else png(4, 4, seed=seed % 251))
    return tiles


ADDRESSES = st.lists(
    st.integers(0, 9).flatmap(lambda z: st.tuples(st.just(z), st.integers(0, min(2 ** z - 1, 300)),
                                                  st.integers(0, min(2 ** z - 1, 300)))),
    min_size=1, max_size=40, unique=True)


def _check(path, tiles, tmp_path, vector=False):
    with open_package(path) as pkg:
        got = {(t.level, t.row, t.col): t.data for t in pkg.iter_tiles()}
        assert got == tiles
        for key, data in list(tiles.items())[:10]:
            assert pkg.tile(*key) == data
        per_level: dict[int, int] = {}
        for level, _, _ in tiles:
            per_level[level] = per_level.get(level, 0) + 1
        assert {lvl: info.tiles for lvl, info in pkg.levels_info().items()} == per_level
        assert pkg.is_vector == vector
    out = tmp_path / "rt.mbtiles"
    report = convert_package(path, out, background_limit=BACKGROUND_SAMPLE)
    assert report.tiles_written == len(tiles)
    con = sqlite3.connect(out)
    try:
        rows = {(z, x, y): bytes(d) for z, x, y, d in con.execute("SELECT * FROM tiles")}
    finally:
        con.close()
    if vector:  # sparse: stand-ins where the tile map leaves a place to a stored ancestor
        counts = assert_no_holes(path, out)
        assert counts["stored"] == len(tiles) and report.stand_ins == counts["filled"]
    else:
        assert rows == {(z, c, 2 ** z - 1 - r): d for (z, r, c), d in tiles.items()}
    out.unlink()


SETTINGS = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@SETTINGS
@given(addresses=ADDRESSES, kind=st.sampled_from(["tpkx", "tpk"]))
def test_raster_packages_round_trip(tmp_path, addresses, kind):
    tiles = _tile_set(addresses, vector=False)
    path = tmp_path / f"p.{kind}"
    summary = write_package(kind, path, wm_doc(), [(z, r, c, d) for (z, r, c), d in tiles.items()])
    assert summary["tiles"] == len(tiles)
    _check(path, tiles, tmp_path)


@SETTINGS
@given(addresses=ADDRESSES)
def test_vector_package_round_trip(tmp_path, addresses):
    tiles = _tile_set(addresses, vector=True)
    path = tmp_path / "p.vtpk"
    write_package("vtpk", path, wm_doc(tile=512), [(z, r, c, d) for (z, r, c), d in tiles.items()])
    _check(path, tiles, tmp_path, vector=True)
    with open_package(path) as pkg:
        for level, row, col in tiles:
            assert pkg.tilemap_status(level, row, col) == "present"


@SETTINGS
@given(addresses=ADDRESSES)
def test_cache_folder_round_trip(tmp_path_factory, addresses):
    tiles = _tile_set(addresses, vector=False)
    folder = tmp_path_factory.mktemp("cache") / "Layers"
    write_cache_folder(folder, wm_doc(), [(z, r, c, d) for (z, r, c), d in tiles.items()])
    _check(folder, tiles, folder.parent)


@settings(max_examples=40, deadline=None)
@given(cells=st.dictionaries(st.tuples(st.integers(0, PACKET - 1), st.integers(0, PACKET - 1)),
                             st.binary(min_size=1, max_size=64), max_size=60),
       row0=st.integers(0, 40).map(lambda k: k * PACKET), col0=st.integers(0, 40).map(lambda k: k * PACKET))
def test_bundle_writers_and_readers_agree(cells, row0, col0):
    """v2_bundle / v1_bundle bytes read back through our bundle index, any slots, any bundle position."""
    from plugin.core.packages._sources import Range
    from plugin.core.packages.bundles import BundleRef, load_v1, load_v2

    class Mem(Range):
        def __init__(self, data, name):
            self.data, self.size, self.name = data, len(data), name

        def read_at(self, offset, length):
            self._check(offset, length)
            return self.data[offset:offset + length]

    tiles = {(row0 + r, col0 + c): d for (r, c), d in cells.items()}
    v2 = load_v2(BundleRef(3, row0, col0, "b", None), Mem(v2_bundle(tiles), "b"))
    bundle, bundlx = v1_bundle(tiles)
    v1 = load_v1(BundleRef(3, row0, col0, "b", "x"), Mem(bundle, "b"), Mem(bundlx, "x"))
    for index in (v2, v1):
        assert {(r, c): d for r, c, d in index.iter_tiles()} == tiles
        for (r, c), d in tiles.items():
            assert index.read(index.find(r, c)) == d
        assert index.find(row0 + PACKET - 1, col0 + PACKET - 1) == (-1 if (row0 + 127, col0 + 127) not in tiles
                                                                      else index.find(row0 + 127, col0 + 127))


def test_geographic_tpkx_round_trip_to_geopackage(tmp_path):
    tiles = {(0, 0, 0): png(seed=1), (0, 0, 1): png(seed=2), (2, 3, 7): png(seed=3)}
    path = tmp_path / "g.tpkx"
    write_package("tpkx", path, geo_doc(), [(z, r, c, d) for (z, r, c), d in tiles.items()])
    with open_package(path) as pkg:
        assert {(t.level, t.row, t.col): t.data for t in pkg.iter_tiles()} == tiles
    report = convert_package(path, tmp_path / "g.gpkg")
    assert report.format == "gpkg" and report.tiles_written == 3
