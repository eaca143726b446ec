"""Sparse vector packages converted to MBTiles: stand-ins where the tile map over-zooms a leaf.

The over-zoom itself (overzoom.py) is checked on hand-made tiles; conversions are checked with
``assert_no_holes`` (helpers): every stored tile byte for byte, a tile wherever the tile map points
to an ancestor that has something there, nothing anywhere else.
"""
from __future__ import annotations

import gzip
import json
import sqlite3
import zipfile

import pytest

from arcgis_emulator.writers import write_package
from plugin.core.packages import convert_package, merge_packages, mvt, open_package
from plugin.core.packages.mvt import MvtError
from plugin.core.packages.overzoom import child_layers, decode_tile, encode_tile
from plugin.core.packages.standins import empty_tile, plan_background
from tests.conftest import REAL_FIXTURES
from tests.unit.packages.helpers import WM_HALF, assert_no_holes, mvt_shapes, wm_doc

E = 4096
SQUARE = [(0, 0), (E, 0), (E, E), (0, E)]  # clockwise on screen (y down): an exterior ring
WORLD = {"xmin": -WM_HALF, "ymin": -WM_HALF, "xmax": WM_HALF, "ymax": WM_HALF,
         "spatialReference": {"wkid": 102100, "latestWkid": 3857}}


def _gz(layers: dict, extent: int = E) -> bytes:
    return gzip.compress(mvt_shapes(layers, extent), mtime=0)


def _rows(path) -> dict:
    con = sqlite3.connect(path)
    try:
        return {(z, x, y): bytes(d) for z, x, y, d in con.execute("SELECT * FROM tiles")}
    finally:
        con.close()


def _background(mbtiles) -> bytes:
    """The empty tile a conversion writes where the package has no tile (its first layer's name)."""
    con = sqlite3.connect(mbtiles)
    try:
        meta = json.loads(con.execute("SELECT value FROM metadata WHERE name = 'json'").fetchone()[0])
    finally:
        con.close()
    return empty_tile(meta["vector_layers"][0]["id"])


def _vtpk(path, tiles: dict, levels: int = 6):
    write_package("vtpk", path, wm_doc(tile=512, levels=levels), [(z, r, c, d) for (z, r, c), d in tiles.items()],
                  extent=WORLD)
    return path


# -- the over-zoom ---------------------------------------------------------------------------------
def test_children_clip_polygons_lines_and_points_and_keep_attributes():
    hole = [(1000, 1000), (1000, 3000), (3000, 3000), (3000, 1000)]
    tile = mvt_shapes({
        "land": [("Polygon", [SQUARE, hole], {"name": "Atlantis"})],
        "roads": [("LineString", [[(0, 0), (E, E)]], {"ref": "A1"}), ("LineString", [[(0, 3900), (E, 3900)]], {})],
        "pois": [("Point", [(100, 100), (3000, 3000)], {"kind": "well"})],
    })
    layers = decode_tile(tile)
    se = child_layers(layers, 1, 1)  # the south-east child
    by_name = {layer.before: layer for layer in se}
    raw = encode_tile(se)
    names = [layer.name for layer in mvt.decode_layers(raw)]
    assert names == ["land", "roads", "pois"]
    fields = {layer.name: layer.fields for layer in mvt.decode_layers(raw)}
    assert fields["land"] == {"name": "String"} and fields["roads"] == {"ref": "String"}
    land = decode_tile(raw)[0].features[0]
    # the square fills the child plus its buffer; the hole's corner (3000, 3000) → (1904, 1904)
    assert land.parts[0] == [(-64, -64), (E + 64, -64), (E + 64, E + 64), (-64, E + 64)] or \
        sorted(land.parts[0]) == sorted([(-64, -64), (E, -64), (E, E), (-64, E)])
    assert sorted(land.parts[1]) == [(-64, -64), (-64, 1904), (1904, -64), (1904, 1904)]
    roads = decode_tile(raw)[1].features
    assert [f.parts for f in roads] == [[[(-64, -64), (E, E)]], [[(-64, 3704), (E, 3704)]]]
    assert decode_tile(raw)[2].features[0].parts == [(1904, 1904)]  # (100, 100) is in the NW child
    assert len(by_name) == 3
    nw = decode_tile(encode_tile(child_layers(layers, 0, 0)))
    assert nw[2].features[0].parts == [(200, 200)]
    assert [f.parts for f in nw[1].features] == [[[(0, 0), (E + 64, E + 64)]]]  # the A1 diagonal only


def test_children_of_a_corner_feature_drop_what_falls_outside():
    tile = mvt_shapes({"land": [("Polygon", [[(0, 0), (500, 0), (500, 500), (0, 500)]], {"name": "Isle"})],
                       "sea": [("Point", [(4000, 4000)], {"name": "buoy"})]})
    layers = decode_tile(tile)
    assert encode_tile(child_layers(layers, 1, 0)) == b""  # the NE child: nothing there
    nw = decode_tile(encode_tile(child_layers(layers, 0, 0)))
    assert [layer.features[0].parts for layer in nw] == [[[(0, 0), (1000, 0), (1000, 1000), (0, 1000)]]]


def test_a_layer_extent_of_131072_is_kept_and_used():
    big = 131072  # Esri's deepest level in the Dodge City package
    tile = mvt_shapes({"l": [("LineString", [[(0, big // 2), (big, big // 2)]], {})]}, extent=big)
    (layer,) = decode_tile(encode_tile(child_layers(decode_tile(tile), 0, 1)))  # SW child
    assert layer.extent == big
    assert layer.features[0].parts == [[(0, 0), (big + big // 64, 0)]]


def test_ring_inside_out_keeps_orientation_and_drops_degenerate_rings():
    sliver = [(0, 0), (1, 0), (1, 0), (0, 0)]  # no area
    tile = mvt_shapes({"l": [("Polygon", [SQUARE], {}), ("Polygon", [sliver], {})]})
    (layer,) = decode_tile(encode_tile(child_layers(decode_tile(tile), 0, 0)))
    assert len(layer.features) == 1


@pytest.mark.parametrize("geometry", [
    b"\x0a",                      # MoveTo(1) without its coordinates
    b"\x12\x02\x02",              # LineTo before any MoveTo
    b"\x0d\x02\x02",              # command 5 does not exist
])
def test_malformed_geometry_is_an_mvt_error(geometry):
    feature = b"\x18\x03" + b"\x22" + bytes([len(geometry)]) + geometry  # type polygon, geometry
    layer = b"\x0a\x01l" + b"\x12" + bytes([len(feature)]) + feature
    tile = b"\x1a" + bytes([len(layer)]) + layer
    with pytest.raises(MvtError):
        decode_tile(tile)


# -- conversions -----------------------------------------------------------------------------------
def test_a_leaf_fills_every_level_under_it_and_identical_stand_ins_are_stored_once(tmp_path):
    country = _gz({"countries": [("Polygon", [SQUARE], {"name": "Everywhere"})]})
    detail = _gz({"countries": [("Polygon", [[(0, 0), (2000, 0), (2000, 2000), (0, 2000)]], {"name": "Corner"})]})
    # level 1: NW tile has children down to level 3 (a small corner of them), the three others are leaves
    tiles = {(0, 0, 0): country, (1, 0, 0): country, (1, 0, 1): country, (1, 1, 0): country, (1, 1, 1): country,
             (2, 0, 0): detail, (3, 0, 0): detail}
    src = _vtpk(tmp_path / "sparse.vtpk", tiles, levels=6)
    out = tmp_path / "sparse.mbtiles"
    report = convert_package(src, out)
    assert report.tiles_written == len(tiles) and report.duplicates == 0
    counts = assert_no_holes(src, out)
    # three level-1 leaves fill levels 2 and 3 under them (nothing deeper is stored): 3 · (4 + 16);
    # the other children of (1,0,0) and (2,0,0) are marked "no data" and stay empty
    assert counts["filled"] == report.stand_ins == 3 * (4 + 16)
    assert report.stand_ins_per_level == {2: 12, 3: 48}
    rows = _rows(out)
    # every other place of levels 0-3 (the world) gets the empty background tile
    assert len(rows) == len(tiles) + report.stand_ins + report.background_tiles == 1 + 4 + 16 + 64
    con = sqlite3.connect(out)
    try:
        images = con.execute("SELECT count(*) FROM images").fetchone()[0]
    finally:
        con.close()
    # stand-ins repeat (the full square, cut at the leaf's edges or not): stored once each
    assert images == report.distinct_payloads and images - 1 < report.stand_ins // 4  # 1: the background


def test_places_the_leaf_leaves_empty_get_only_the_background_tile(tmp_path):
    isle = _gz({"land": [("Polygon", [[(100, 100), (600, 100), (600, 600), (100, 600)]], {"name": "Isle"})]})
    # (1,0,0) is a leaf; another branch goes down to level 3
    tiles = {(0, 0, 0): isle, (1, 0, 0): isle, (1, 1, 1): isle, (2, 3, 3): isle, (3, 7, 7): isle}
    src = _vtpk(tmp_path / "isle.vtpk", tiles, levels=5)
    out = tmp_path / "isle.mbtiles"
    report = convert_package(src, out)
    counts = assert_no_holes(src, out)
    assert counts["empty"] >= report.stand_ins_empty > 0  # the count of the helper goes deeper
    assert counts["filled"] == report.stand_ins > 0
    rows = _rows(out)
    # (2, 1, 1) lies under the leaf (1, 0, 0) away from its isle: the empty tile, so QGIS 3.22 draws
    # the background there
    assert rows[(2, 2, 1)] == _background(out)


def test_stand_ins_never_replace_a_stored_tile_of_another_part(tmp_path):
    sea = _gz({"water": [("Polygon", [SQUARE], {"name": "Sea"})]})
    coast = _gz({"water": [("Polygon", [[(0, 0), (E, 0), (0, E)]], {"name": "Bay"})]})
    # part A stops at level 1 (a leaf for levels 2-3); part B stores level 2-3 tiles under it
    part_a = _vtpk(tmp_path / "a.vtpk", {(0, 0, 0): sea, (1, 0, 0): sea, (3, 7, 7): coast}, levels=5)
    part_b = _vtpk(tmp_path / "b.vtpk", {(0, 0, 0): sea, (1, 0, 0): sea, (2, 0, 0): coast, (3, 0, 0): coast},
                   levels=5)
    out = tmp_path / "merged.mbtiles"
    report = merge_packages([part_a, part_b], out)
    rows = _rows(out)
    assert rows[(2, 0, 3)] == coast and rows[(3, 0, 7)] == coast  # B's stored tiles, byte for byte
    assert rows[(3, 7, 0)] == coast  # A's stored tile at level 3 (TMS row 0)
    stored = {(z, r, c) for part in (part_a, part_b) for z, r, c, _ in open_package(part).iter_index()}
    for part in (part_a, part_b):
        with open_package(part) as pkg:
            for (level, row, col), leaf in _ancestors(pkg).items():
                # under another part's stored tile, that part's tile map says what is there
                if any((level - up, row >> up, col >> up) in stored for up in range(level - leaf[0])):
                    continue
                assert (level, col, (1 << level) - 1 - row) in rows, ((level, row, col), leaf)
    # B's (2,0,0) has no child there: B says "no data", A's leaf is not used (only the background)
    assert rows[(3, 1, 7)] == _background(out)
    assert report.stand_ins_per_level == {2: 3, 3: 12} and report.tiles_written == 5 and report.duplicates == 2


def _ancestors(pkg):
    from tests.unit.packages.helpers import ancestor_places
    return ancestor_places(pkg)


def test_the_limit_leaves_out_the_deepest_levels_and_says_so(tmp_path):
    land = _gz({"land": [("Polygon", [SQUARE], {"name": "Land"})]})
    tiles = {(0, 0, 0): land, (1, 0, 0): land, (1, 1, 1): land, (5, 0, 0): land}
    src = _vtpk(tmp_path / "deep.vtpk", tiles, levels=7)
    out = tmp_path / "deep.mbtiles"
    report = convert_package(src, out, stand_in_limit=100)
    # levels 2, 3 under the level-1 leaf (1,1,1) and the others: 4 + 16 + 64 > 100 at level 4
    assert max(report.stand_ins_per_level) < 5
    assert any("stop at level" in w for w in report.warnings)
    full = convert_package(src, tmp_path / "full.mbtiles")
    assert max(full.stand_ins_per_level) == 5 and not any("stop at level" in w for w in full.warnings)
    assert_no_holes(src, tmp_path / "full.mbtiles")


def test_stand_ins_can_be_turned_off(tmp_path):
    land = _gz({"land": [("Polygon", [SQUARE], {"name": "Land"})]})
    src = _vtpk(tmp_path / "p.vtpk", {(0, 0, 0): land, (1, 0, 0): land, (2, 0, 0): land})
    report = convert_package(src, tmp_path / "p.mbtiles", stand_ins=False)
    assert report.stand_ins == 0 and len(_rows(tmp_path / "p.mbtiles")) == 3


def test_an_unreadable_tile_map_keeps_the_stored_tiles(tmp_path):
    land = _gz({"land": [("Polygon", [SQUARE], {"name": "Land"})]})
    src = _vtpk(tmp_path / "p.vtpk", {(0, 0, 0): land, (1, 0, 0): land, (2, 0, 0): land})
    broken = tmp_path / "broken.vtpk"
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(broken, "w") as zout:
        for item in zin.infolist():
            data = zin.read(item)
            zout.writestr(item, b"{\"index\": [[[" if item.filename == "p12/tilemap/root.json" else data)
    report = convert_package(broken, tmp_path / "b.mbtiles")
    assert report.tiles_written == 3 and report.stand_ins == 0
    assert any("tile map is unreadable" in w for w in report.warnings)


# -- real packages ---------------------------------------------------------------------------------
REAL_VTPK = REAL_FIXTURES / "packages" / "esri_runtime_android_dodge_city.vtpk"
needs_real = pytest.mark.skipif(not REAL_VTPK.is_file(), reason="../shared fixtures absent")


@needs_real
def test_real_vtpk_converts_without_holes(tmp_path):
    out = tmp_path / "dodge.mbtiles"
    report = convert_package(REAL_VTPK, out)
    counts = assert_no_holes(REAL_VTPK, out)
    # Dodge City's tile map has no leaf above its deepest level: nothing to stand in
    assert counts == {"stored": 13, "places": 0, "filled": 0, "empty": 0, "background": report.background_tiles}
    # each level stores the tiles that cover the town's data extent: no place for the background either
    assert report.stand_ins == 0 and report.background_tiles == 0


@needs_real
def test_real_esri_tiles_made_sparse_are_over_zoomed_without_holes(tmp_path):
    """Esri's own tiles of levels 0-8 with level 8 a leaf (another branch goes to level 11), as in a
    sparse Esri cache: levels 9-11 over Dodge City are Esri's level-8 tile over-zoomed."""
    src = tmp_path / "dodge_sparse.vtpk"
    with zipfile.ZipFile(REAL_VTPK) as zin, open_package(REAL_VTPK) as pkg:
        root = json.loads(zin.read("p12/root.json"))
        tiles = {(t.level, t.row, t.col): t.data for t in pkg.iter_tiles() if t.level <= 8}
        extent = root["fullExtent"]
    far = _gz({"land": [("Polygon", [SQUARE], {"name": "Elsewhere"})]})
    tiles[(11, 0, 0)] = far  # the north-west corner of the world: another branch, deeper
    write_package("vtpk", src, root, [(z, r, c, d) for (z, r, c), d in tiles.items()], extent=extent)
    with open_package(src) as pkg:
        (leaf,) = [(z, r, c) for (z, r, c) in tiles if z == 8]
        assert pkg.tilemap_status(9, 2 * leaf[1], 2 * leaf[2]) == "ancestor"
    out = tmp_path / "dodge_sparse.mbtiles"
    report = convert_package(src, out)
    counts = assert_no_holes(src, out)
    assert report.tiles_written == len(tiles)
    assert counts["filled"] > 0 and report.stand_ins == counts["filled"]
    assert set(report.stand_ins_per_level) == {9, 10, 11}
    names = {layer.name for layer in mvt.decode_layers(tiles[leaf])}
    rows = _rows(out)
    for (z, x, y), data in rows.items():
        if z >= 9 and (z, (1 << z) - 1 - y, x) not in tiles:  # a stand-in keeps Esri's layers
            assert {layer.name for layer in mvt.decode_layers(gzip.decompress(data))} <= names


def test_cancel_while_making_stand_ins_leaves_nothing_behind(tmp_path):
    from plugin.core.errors import CancelledError

    land = _gz({"land": [("Polygon", [SQUARE], {"name": "Land"})]})
    tiles = {(0, 0, 0): land, (1, 0, 0): land, (1, 1, 1): land, (6, 0, 0): land}
    src = _vtpk(tmp_path / "deep.vtpk", tiles, levels=8)
    out = tmp_path / "deep.mbtiles"
    calls = []

    def progress(done, total):
        calls.append((done, total))
        return done <= len(tiles)  # cancel once the stand-ins are under way

    with pytest.raises(CancelledError):
        convert_package(src, out, progress=progress)
    assert not out.exists() and not list(tmp_path.glob("*.part"))
    assert calls[-1][0] > len(tiles) and calls[-1][1] > 1000  # the planned stand-ins count in the total


def test_a_leaf_of_the_first_part_of_a_level_split_export_fills_the_later_parts_levels(tmp_path):
    """ArcGIS Online splits a big result by levels: part 1 holds levels 0-2, part 2 levels 3-4.  A
    leaf of part 1 (at level 1, or at its last level 2 where part 2 stores nothing) must still be
    drawn at levels 3-4 of the merged file."""
    land = _gz({"land": [("Polygon", [SQUARE], {"name": "Land"})]})
    coast = _gz({"land": [("Polygon", [[(0, 0), (E, 0), (0, E)]], {"name": "Coast"})]})
    part1 = {(0, 0, 0): land, (1, 0, 0): land, (1, 0, 1): land, (2, 1, 2): coast, (2, 0, 2): coast}
    part2 = {(3, 2, 4): coast, (4, 4, 8): coast}
    a = _vtpk(tmp_path / "export_1.vtpk", part1, levels=5)
    b = _vtpk(tmp_path / "export_2.vtpk", part2, levels=5)
    out = tmp_path / "export.mbtiles"
    report = merge_packages([a, b], out)
    rows = _rows(out)
    assert report.tiles_written == 7
    for (z, r, c), data in {**part1, **part2}.items():
        assert rows[(z, c, (1 << z) - 1 - r)] == data  # stored tiles byte for byte, never replaced
    # (1,0,0) is a leaf: every place under it down to level 4 has a tile (a full square of land)
    for z in (2, 3, 4):
        for r in range(1 << (z - 1)):
            for c in range(1 << (z - 1)):
                assert (z, c, (1 << z) - 1 - r) in rows, (z, r, c)
    # under (2,1,2), part 2 stores (3,2,4): it wins; its siblings over-zoom the coast tile where it has land
    assert (3, 5, (1 << 3) - 1 - 2) in rows  # (3,2,5): inside the coast triangle's over-zoomed half
    assert report.stand_ins_per_level[3] > 0 and report.stand_ins_per_level[4] > 0


# -- the background: an empty tile wherever the data extent has no tile (QGIS < 3.32) ------------------
def test_background_tile_goes_where_the_package_has_none_and_never_over_a_tile(tmp_path):
    land = _gz({"countries": [("Polygon", [[(0, 0), (2000, 0), (2000, 2000), (0, 2000)]], {"name": "Corner"})]})
    # (1,0,0) a leaf whose corner island covers only its NW child; (1,1,1) stored down to level 3;
    # (1,0,1) and (1,1,0) absent in the tile map
    tiles = {(0, 0, 0): land, (1, 0, 0): land, (1, 1, 1): land, (2, 3, 3): land, (3, 7, 7): land}
    src = _vtpk(tmp_path / "sea.vtpk", tiles, levels=6)
    out = tmp_path / "sea.mbtiles"
    report = convert_package(src, out)
    rows = _rows(out)
    empty = _background(out)
    assert [layer.features for layer in decode_tile(empty)] == [[]]  # one layer, no feature
    counts = assert_no_holes(src, out)  # stored tiles byte for byte, stand-ins where the leaf draws
    # every place of levels 0-3 has a tile: stored, stand-in or the background
    assert len(rows) == 1 + 4 + 16 + 64
    # keys (zoom, column, TMS row)
    assert rows[(1, 0, 0)] == empty and rows[(1, 1, 1)] == empty  # absent in the tile map
    assert rows[(2, 1, 2)] == empty  # under the leaf, away from its island
    assert empty not in (rows[(2, 0, 3)], rows[(3, 1, 6)])  # the island's stand-ins win
    assert rows[(3, 7, 0)] == land  # a stored tile wins
    assert report.background_tiles == counts["background"] + counts["empty"] == len(rows) - len(tiles) - \
        report.stand_ins
    assert report.background_per_level == {1: 2, 2: 16 - 1 - report.stand_ins_per_level[2],
                                           3: 64 - 1 - report.stand_ins_per_level[3]}
    con = sqlite3.connect(out)
    try:  # the empty tile is stored once, referenced from every place
        assert con.execute("SELECT count(*) FROM images WHERE tile_data = ?", (empty,)).fetchone()[0] == 1
    finally:
        con.close()


def test_background_stays_inside_the_data_extent(tmp_path):
    land = _gz({"countries": [("Polygon", [SQUARE], {"name": "Land"})]})
    # the north-west quarter of the world; levels 0-3 stored only at its corner
    extent = {**WORLD, "xmax": 0.0, "ymin": 0.0}
    src = tmp_path / "quarter.vtpk"
    write_package("vtpk", src, wm_doc(tile=512, levels=6),
                  [(0, 0, 0, land), (1, 0, 0, land), (2, 0, 0, land), (3, 0, 0, land)], extent=extent)
    with open_package(src) as pkg:
        planned = plan_background([pkg])
    assert planned.upper_bound == {0: 1, 1: 1, 2: 4, 3: 16}
    out = tmp_path / "quarter.mbtiles"
    report = convert_package(src, out)
    rows = _rows(out)
    assert report.background_per_level == {2: 3, 3: 15}
    assert all(x < (1 << (z - 1)) and y >= (1 << (z - 1)) for z, x, y in rows if z > 0)  # NW quarter (TMS)


def test_background_limit_fills_the_coarse_levels_and_says_which_are_left(tmp_path):
    land = _gz({"countries": [("Polygon", [SQUARE], {"name": "Land"})]})
    tiles = {(0, 0, 0): land, (5, 0, 0): land}
    src = _vtpk(tmp_path / "deep.vtpk", tiles, levels=7)
    with open_package(src) as pkg:
        planned = plan_background([pkg], limit=100)
    # 1 + 4 + 16 + 64 places fit in 100; level 4's 256 do not
    assert planned.upper_bound == {level: 4 ** level for level in range(6)}
    assert planned.deepest == 3 and planned.capped_from == 4 and planned.bound == 85
    out = tmp_path / "deep.mbtiles"
    report = convert_package(src, out, background_limit=100)
    assert report.background_per_level == {1: 4, 2: 16, 3: 64} and report.tiles_written == 2
    assert any("background is drawn down to level 3" in w and "100 tiles" in w for w in report.warnings)
    full = convert_package(src, tmp_path / "full.mbtiles")
    assert sum(full.background_per_level.values()) == sum(4 ** level for level in range(6)) - 2
    assert not any("background" in w for w in full.warnings)
    assert _rows(tmp_path / "full.mbtiles")[(5, 0, 31)] == land


def test_background_follows_the_stand_in_switch(tmp_path):
    land = _gz({"countries": [("Polygon", [SQUARE], {"name": "Land"})]})
    src = _vtpk(tmp_path / "p.vtpk", {(0, 0, 0): land, (2, 0, 0): land})
    report = convert_package(src, tmp_path / "p.mbtiles", stand_ins=False)
    assert report.background_tiles == 0 and len(_rows(tmp_path / "p.mbtiles")) == 2
