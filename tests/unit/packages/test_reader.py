"""The reader on crafted packages: the leniencies real files need and the layouts it must find."""
from __future__ import annotations

import json
import struct
import tarfile
import zipfile

import pytest

from arcgis_emulator.writers import cache_conf_xml, v2_bundle, write_cache_folder, write_package
from plugin.core.errors import PackageError
from plugin.core.packages import open_package, zoom_for_level
from plugin.core.packages.schemes import scheme_from_root_json
from tests.unit.packages.helpers import (
    esri_dialect,
    geo_doc,
    mvt_gz,
    png,
    stateplane_doc,
    tpk_members,
    tpkx_members,
    v1,
    v2_with_gap,
    wm_doc,
    write_zip,
)

TILES = {(0, 0): png(seed=1), (0, 1): png(seed=2), (1, 0): png(seed=3), (1, 1): png(seed=4)}


def _tiles_of(pkg):
    return {(t.level, t.row, t.col): t.data for t in pkg.iter_tiles()}


def test_v2_tiles_of_every_size_byte_are_found_and_the_empty_slots_skipped(tmp_path):
    # sizes whose low byte is zero (256, 65536) and the biggest a slot can name: the index must find
    # each by its size bytes, whichever of the three is set, and nothing else
    sizes = {(0, 0): 1, (0, 1): 256, (3, 7): 65536, (127, 127): 300, (64, 5): 0x01_02_00}
    tiles = {pos: bytes([pos[1] % 251]) * size for pos, size in sizes.items()}
    path = write_zip(tmp_path / "s.tpkx", tpkx_members(wm_doc(), {"L07/R0000C0000.bundle": v2_bundle(tiles)}))
    with open_package(path) as pkg:
        assert _tiles_of(pkg) == {(7, row, col): data for (row, col), data in tiles.items()}
        assert pkg.level_info(7).tiles == len(tiles)



def test_v2_runs_of_tiles_rows_with_gaps_and_full_rows_are_all_found(tmp_path):
    # the shapes a split export's bundles take: a block of rows at the bundle's edge (one run a row),
    # rows with gaps, a full row, the very first and last slots, and empty rows between them
    positions = {(row, col) for row in range(40, 65) for col in range(52, 128)}
    positions |= {(3, col) for col in range(0, 128, 3)} | {(4, col) for col in (1, 2, 60, 61, 62, 126)}
    positions |= {(90, col) for col in range(128)} | {(0, 0), (127, 127)}
    tiles = {pos: bytes([pos[0] % 251, pos[1] % 251]) * (1 + (pos[0] + pos[1]) % 7) for pos in positions}
    path = write_zip(tmp_path / "r.tpkx", tpkx_members(wm_doc(), {"L07/R0000C0000.bundle": v2_bundle(tiles)}))
    with open_package(path) as pkg:
        assert _tiles_of(pkg) == {(7, row, col): data for (row, col), data in tiles.items()}
        info = pkg.level_info(7)
        assert (info.tiles, info.bytes) == (len(tiles), sum(map(len, tiles.values())))
        assert (info.min_row, info.max_row, info.min_col, info.max_col) == (0, 127, 0, 127)



def test_level_extent_takes_the_columns_of_every_row(tmp_path):
    # the narrowest and widest columns are on a middle row, in the second bundle of the level
    first = {(5, 40): png(seed=1), (20, 60): png(seed=2)}
    second = {(130, 140): png(seed=3), (200, 131): png(seed=4), (200, 250): png(seed=5), (255, 200): png(seed=6)}
    path = write_zip(tmp_path / "e.tpkx", tpkx_members(wm_doc(), {"L08/R0000C0000.bundle": v2_bundle(first),
                                                                  "L08/R0080C0080.bundle": v2_bundle(second)}))
    with open_package(path) as pkg:
        info = pkg.level_info(8)
        assert (info.tiles, info.min_row, info.max_row, info.min_col, info.max_col) == (6, 5, 255, 40, 250)


def test_v2_full_bundle_every_slot_read_and_a_record_past_the_end_refused(tmp_path):
    # a bundle whose 16384 slots all hold a tile (the inside of any large export), sizes using all
    # three size bytes; then the same bundle with one entry pointing past the end of the file
    tiles = {(row, col): bytes([row, col]) * (1 + (row * 128 + col) % 5) for row in range(128) for col in range(128)}
    tiles[(77, 3)] = b"x" * 70000
    bundle = v2_bundle(tiles)
    path = write_zip(tmp_path / "f.tpkx", tpkx_members(wm_doc(), {"L07/R0000C0000.bundle": bundle}))
    with open_package(path) as pkg:
        assert _tiles_of(pkg) == {(7, row, col): data for (row, col), data in tiles.items()}
        info = pkg.level_info(7)
        assert info.tiles == 16384 and (info.min_col, info.max_col, info.max_row) == (0, 127, 127)
    cut = bytearray(bundle)
    entry = 64 + 8 * (128 * 100 + 9)  # slot of row 100, column 9
    cut[entry:entry + 8] = ((len(bundle) - 4) | (10 << 40)).to_bytes(8, "little")
    bad = write_zip(tmp_path / "b.tpkx", tpkx_members(wm_doc(), {"L07/R0000C0000.bundle": bytes(cut)}))
    refused = "slot 12809 points at bytes .* outside the bundle"
    with pytest.raises(PackageError, match=refused), open_package(bad) as pkg:
        pkg.tile_count  # noqa: B018 - reading the index is the point


def test_v2_esri_header_dialect_and_gap_before_first_tile(tmp_path):
    members = tpkx_members(wm_doc(), {
        "L01/R0000C0000.bundle": esri_dialect(v2_bundle(TILES)),
        "L02/R0000C0000.bundle": v2_with_gap(TILES, gap=777),
    })
    path = write_zip(tmp_path / "a.tpkx", members)
    with open_package(path) as pkg:
        assert pkg.kind == "tpkx" and pkg.levels == [1, 2]
        got = _tiles_of(pkg)
        for level in (1, 2):
            for (row, col), data in TILES.items():
                assert got[(level, row, col)] == data
                assert pkg.tile(level, row, col) == data


def test_v2_rejects_wrong_version_or_index_size(tmp_path):
    good = v2_bundle(TILES)
    for offset, value in ((0, 2), (12, 4), (32, 41), (60, 1000)):
        bad = bytearray(good)
        struct.pack_into("<I" if offset != 32 else "<Q", bad, offset, value)
        path = write_zip(tmp_path / f"bad{offset}.tpkx", tpkx_members(wm_doc(), {"L01/R0000C0000.bundle": bytes(bad)}))
        with open_package(path) as pkg, pytest.raises(PackageError, match="not a Compact Cache V2 bundle"):
            pkg.levels  # noqa: B018


@pytest.mark.parametrize("footer", [True, False])
def test_v1_bundlx_with_and_without_footer(tmp_path, footer):
    bundle, bundlx = v1(TILES, footer=footer)
    assert len(bundlx) == (81952 if footer else 81936)
    path = write_zip(tmp_path / "a.tpk", tpk_members(wm_doc(), {"L00/R0000C0000.bundle": (bundle, bundlx)}))
    with open_package(path) as pkg:
        assert pkg.kind == "tpk" and pkg.storage == "compactV1"
        assert _tiles_of(pkg) == {(0, r, c): d for (r, c), d in TILES.items()}
        info = pkg.level_info(0)
        assert (info.tiles, info.min_row, info.max_row, info.min_col, info.max_col) == (4, 0, 1, 0, 1)


def test_v1_empty_slots_pointing_at_zero_placeholders_and_shared_records(tmp_path):
    bundle, bundlx = v1(TILES)
    raw = bytearray(bundlx)
    # slot 5 (column 0, row 5) points at another slot's zero placeholder: still empty
    raw[16 + 5 * 5:16 + 6 * 5] = (60 + 4 * 999).to_bytes(5, "little")
    # slot 7 points at the record of slot 0 (two slots share a record): read every prefix, both tiles
    raw[16 + 7 * 5:16 + 8 * 5] = raw[16:21]
    path = write_zip(tmp_path / "a.tpk", tpk_members(wm_doc(), {"L00/R0000C0000.bundle": (bundle, bytes(raw))}))
    with open_package(path) as pkg:
        got = _tiles_of(pkg)
        assert len(got) == 5 and got[(0, 7, 0)] == got[(0, 0, 0)] == TILES[(0, 0)]
        assert pkg.tile(0, 5, 0) is None


def test_v1_gap_between_records_is_trimmed_by_the_length_prefix(tmp_path):
    bundle, bundlx = v1({(0, 0): png(seed=1), (0, 1): png(seed=2)})
    first = int.from_bytes(bundlx[16:21], "little")
    second = int.from_bytes(bundlx[16 + 128 * 5:16 + 128 * 5 + 5], "little")
    # insert 10 junk bytes between the two records and move the second one
    gap = b"\xee" * 10
    bundle2 = bundle[:second] + gap + bundle[second:]
    raw = bytearray(bundlx)
    raw[16 + 128 * 5:16 + 128 * 5 + 5] = (second + 10).to_bytes(5, "little")
    assert first < second
    path = write_zip(tmp_path / "a.tpk", tpk_members(wm_doc(), {"L00/R0000C0000.bundle": (bundle2, bytes(raw))}))
    with open_package(path) as pkg:
        assert pkg.tile(0, 0, 0) == png(seed=1)
        assert _tiles_of(pkg) == {(0, 0, 0): png(seed=1), (0, 0, 1): png(seed=2)}


def test_bundle_names_upper_case_hex_and_far_bundles(tmp_path):
    far = {(128 * 33 + 5, 128 * 10 + 7): png(seed=9)}
    members = tpkx_members(wm_doc(), {"L12/R1080C0500.bundle": v2_bundle(far),
                                      "L12/r0000c0000.BUNDLE": v2_bundle({(3, 4): png(seed=8)})})
    name = "L12/R1080C0500.bundle"
    members[f"tile/{name.replace('R1080C0500', 'R1080C0A00')}"] = v2_bundle({(4224, 2560): png(seed=7)})
    path = write_zip(tmp_path / "a.tpkx", members)
    with open_package(path) as pkg:
        assert pkg.tile(12, 4229, 1287) == png(seed=9)
        assert pkg.tile(12, 3, 4) == png(seed=8)
        assert pkg.tile(12, 4224, 2560) == png(seed=7)
        info = pkg.level_info(12)
        assert info.tiles == 3 and (info.min_row, info.max_row) == (3, 4229)


@pytest.mark.parametrize("kind", ["tpkx", "tpk"])
def test_lower_case_hex_bundle_names_past_0x100(tmp_path, kind):
    """Esri writes bundle names in lower-case hex; letters a–f only appear past row/col 0x100
    (R0a00C0b80.bundle, and its R0a00C0b80.bundlx for V1).  A ``c`` digit reads like the ``C``
    separator: R0f80C0c00 and R0c00C0000 must not become row 0x0f80c0 or col 0xc0000."""
    tiles = {(0xA00 + 5, 0xB80 + 7): png(seed=1), (0xA00 + 127, 0xB80): png(seed=2),
             (0xF80, 0xC00 + 100): png(seed=3), (0x1A, 0xE80 + 1): png(seed=4), (0xC00 + 3, 0x10): png(seed=5)}
    path = tmp_path / f"far.{kind}"
    write_package(kind, path, wm_doc(levels=13), [(12, r, c, d) for (r, c), d in tiles.items()])
    with zipfile.ZipFile(path) as zf:
        names = {name.rsplit("/", 1)[-1] for name in zf.namelist() if "/L12/" in name}
    expected = {"R0a00C0b80", "R0f80C0c00", "R0000C0e80", "R0c00C0000"}
    assert {name.rsplit(".", 1)[0] for name in names} == expected
    assert {name for name in names if name.endswith(".bundlx")} == (
        {f"{stem}.bundlx" for stem in expected} if kind == "tpk" else set())
    with open_package(path) as pkg:
        assert _tiles_of(pkg) == {(12, r, c): d for (r, c), d in tiles.items()}
        for (row, col), data in tiles.items():
            assert pkg.tile(12, row, col) == data
        info = pkg.level_info(12)
        assert (info.tiles, info.min_row, info.max_row, info.min_col, info.max_col) == (
            5, 0x1A, 0xF80, 0x10, 0xE81)


def test_tiles_outside_the_nominal_grid_are_kept(tmp_path):
    tiles = {(0, 0): png(seed=1), (0, 1): png(seed=2), (1, 2): png(seed=3)}  # level 0 of 4326/512: 1×1 nominal
    members = tpkx_members(geo_doc(), {"L00/R0000C0000.bundle": v2_bundle(tiles)})
    with open_package(write_zip(tmp_path / "g.tpkx", members)) as pkg:
        info = pkg.level_info(0)
        assert info.tiles == 3 and info.max_col == 2 and info.max_row == 1
        assert zoom_for_level(pkg.scheme, 0) is None


def test_gbk_and_utf8_member_names_without_the_utf8_flag(tmp_path):
    # real Chinese exports: member names in GBK (or UTF-8) bytes, flag bit 11 not set
    for encoding, placeholder in (("gbk", "QQQQ"), ("utf-8", "QQQQQQ")):
        members = tpk_members(wm_doc(), {"L00/R0000C0000.bundle": v1(TILES)}, root=f"v101/{placeholder}")
        path = write_zip(tmp_path / f"{encoding}.tpk", members,
                         raw_names={f"v101/{placeholder}/": "v101/图层/".encode(encoding)})
        with zipfile.ZipFile(path) as zf:
            assert not any(i.flag_bits & 0x800 for i in zf.infolist())
            assert any("QQQQ" not in i.filename and "conf.xml" in i.filename for i in zf.infolist())
        with open_package(path) as pkg:
            assert pkg.tile_count == 4 and pkg.kind == "tpk"
            assert pkg._base == "v101/图层"


def test_deflated_members_are_read_through_zipfile(tmp_path):
    path = write_zip(tmp_path / "d.tpk", tpk_members(wm_doc(), {"L00/R0000C0000.bundle": v1(TILES)}), deflate=True)
    with zipfile.ZipFile(path) as zf:
        assert all(i.compress_type == zipfile.ZIP_DEFLATED for i in zf.infolist())
    with open_package(path) as pkg:
        assert _tiles_of(pkg) == {(0, r, c): d for (r, c), d in TILES.items()}


def test_levels_not_starting_at_web_zoom_0(tmp_path):
    doc = wm_doc(first_zoom=2)  # LevelID 0 has resolution 39135.76 = web zoom 2
    path = write_zip(tmp_path / "z.tpk", tpk_members(doc, {"L00/R0000C0000.bundle": v1(TILES),
                                                           "L03/R0000C0000.bundle": v1(TILES)}))
    with open_package(path) as pkg:
        assert [pkg.zoom_for_level(level) for level in pkg.levels] == [2, 5]


def test_zoom_for_level_needs_mercator_origin_square_tiles_and_tiny_residual():
    doc = wm_doc()
    scheme = scheme_from_root_json({"tileInfo": doc["tileInfo"]}, "x")
    assert [zoom_for_level(scheme, lvl) for lvl in (0, 5, 19)] == [0, 5, 19]
    assert zoom_for_level(scheme, 25) is None  # not a LOD
    moved = json.loads(json.dumps(doc["tileInfo"]))
    moved["origin"]["x"] = -20000000
    assert zoom_for_level(scheme_from_root_json({"tileInfo": moved}, "x"), 3) is None
    odd = json.loads(json.dumps(doc["tileInfo"]))
    odd["lods"][3]["resolution"] *= 1.01
    assert zoom_for_level(scheme_from_root_json({"tileInfo": odd}, "x"), 3) is None
    vec = json.loads(json.dumps(wm_doc(tile=512)["tileInfo"]))
    assert zoom_for_level(scheme_from_root_json({"tileInfo": vec}, "x"), 0) == 0
    plane = scheme_from_root_json({"tileInfo": stateplane_doc([100.0, 50.0])["tileInfo"]}, "x")
    assert zoom_for_level(plane, 0) is None


def test_conf_xml_at_any_root_name_and_case(tmp_path):
    doc = wm_doc()
    members = tpk_members(doc, {"L00/R0000C0000.bundle": v1(TILES)}, root="deep/er/My Map Root")
    members["deep/er/My Map Root/Conf.xml"] = members.pop("deep/er/My Map Root/conf.xml")
    with open_package(write_zip(tmp_path / "x.zip", members)) as pkg:
        assert pkg.tile_count == 4


def test_exploded_and_tarred_cache_folders(tmp_path):
    tiles = [(1, r, c, d) for (r, c), d in TILES.items()]
    write_cache_folder(tmp_path / "Layers", wm_doc(), tiles)
    for form in (tmp_path / "Layers", tmp_path / "Layers" / "conf.xml", tmp_path):
        with open_package(form) as pkg:
            assert pkg.kind == "cache" and pkg.tile_count == 4 and pkg.extent is not None
    tar_path = tmp_path / "c.tar"
    with tarfile.open(tar_path, "w") as tar:
        tar.add(tmp_path / "Layers", arcname="Layers")
    compressed = []
    for codec in ("gz", "bz2", "xz"):
        compressed.append(tmp_path / f"c.tar.{codec}")
        with tarfile.open(compressed[-1], f"w:{codec}") as tar:
            tar.add(tmp_path / "Layers", arcname="Layers")
    for form in (tar_path, *compressed):
        with open_package(form) as pkg:
            assert pkg.container == "tar" and _tiles_of(pkg) == {(1, r, c): d for (r, c), d in TILES.items()}


def test_extracted_vtpk_and_tpkx_folders(tmp_path):
    vtiles = [(0, 0, 0, mvt_gz({"water": [{"kind": "lake"}]})), (1, 0, 1, mvt_gz({"roads": [{"n": 1}]}))]
    write_package("vtpk", tmp_path / "v.vtpk", wm_doc(tile=512), vtiles)
    write_package("tpkx", tmp_path / "r.tpkx", wm_doc(), [(1, r, c, d) for (r, c), d in TILES.items()])
    for name in ("v.vtpk", "r.tpkx"):
        target = tmp_path / (name + ".d")
        with zipfile.ZipFile(tmp_path / name) as zf:
            zf.extractall(target)
        forms = [target, target / ("p12/root.json" if name.endswith("vtpk") else "root.json")]
        for form in forms:
            with open_package(form) as pkg:
                assert pkg.kind == name.rsplit(".", 1)[1]
                assert pkg.tile_count == (2 if name.endswith("vtpk") else 4)
    with open_package(tmp_path / "v.vtpk.d" / "p12") as pkg:  # the p12 folder itself
        assert pkg.kind == "vtpk" and pkg.has_style


def test_hostile_member_names_are_refused(tmp_path):
    for bad in ("../../evil.bundle", "/etc/passwd", "C:\\x\\conf.xml", "tile/../../x"):
        members = tpkx_members(wm_doc(), {"L00/R0000C0000.bundle": v2_bundle(TILES)})
        members[bad] = b"x"
        path = write_zip(tmp_path / "slip.tpkx", members)
        with pytest.raises(PackageError, match="leaves the package|absolute path"):
            open_package(path)


@pytest.mark.parametrize("content,reason", [
    (b"", "empty"),
    (b"\x89PNG\r\n\x1a\n" + b"\x00" * 100, "PNG image"),
    (b"<html><body>Error 500</body></html>", "HTML"),
    (b'{"error": {"code": 498}}', "JSON"),
    (b"just some text that is not an archive" * 10, "neither a zip nor a tar"),
])
def test_fake_packages(tmp_path, content, reason):
    path = tmp_path / "fake.tpk"
    path.write_bytes(content)
    with pytest.raises(PackageError, match=reason):
        open_package(path)


def test_missing_or_malformed_configuration(tmp_path):
    with pytest.raises(PackageError, match="neither conf.xml nor a root.json"):
        open_package(write_zip(tmp_path / "a.zip", {"readme.txt": b"hi", "tile/L00/R0000C0000.bundle": b"x"}))
    with pytest.raises(PackageError, match="JSON is malformed"):
        open_package(write_zip(tmp_path / "b.tpkx", {"root.json": b"{not json"}))
    with pytest.raises(PackageError, match="XML is malformed"):
        open_package(write_zip(tmp_path / "c.tpk", {"v101/Layers/conf.xml": b"<CacheInfo><TileCacheInfo>"}))
    with pytest.raises(PackageError, match="DOCTYPE"):
        open_package(write_zip(tmp_path / "d.tpk", {"v101/Layers/conf.xml": (
            b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;">]>'
            b"<CacheInfo>&b;</CacheInfo>")}))
    conf = cache_conf_xml(wm_doc()).replace("<Resolution>", "<Resolution>-").encode()
    with pytest.raises(PackageError, match="resolution"):
        open_package(write_zip(tmp_path / "e.tpk", {"v101/Layers/conf.xml": conf}))
    with pytest.raises(PackageError, match="does not exist"):
        open_package(tmp_path / "nope.tpk")


def test_truncated_stored_member_and_bomb_ratio(tmp_path):
    path = write_zip(tmp_path / "t.tpkx", tpkx_members(wm_doc(), {"L00/R0000C0000.bundle": v2_bundle(TILES)}))
    data = path.read_bytes()
    # cut the archive inside the bundle: zipfile cannot even find its central directory
    (tmp_path / "cut.tpkx").write_bytes(data[: len(data) // 2])
    with pytest.raises(PackageError):
        open_package(tmp_path / "cut.tpkx")
    # a deflated member declaring far more bytes than deflate can produce
    bomb = tmp_path / "bomb.tpk"
    write_zip(bomb, tpk_members(wm_doc(), {"L00/R0000C0000.bundle": v1(TILES)}), deflate=True)
    blob = bytearray(bomb.read_bytes())
    pos = blob.find(b"PK\x01\x02")
    while pos >= 0:
        name_len = struct.unpack_from("<H", blob, pos + 28)[0]
        name = bytes(blob[pos + 46:pos + 46 + name_len])
        if name.endswith(b".bundle"):
            struct.pack_into("<I", blob, pos + 24, 0xFFFFFFF0)  # uncompressed size
        pos = blob.find(b"PK\x01\x02", pos + 4)
    bomb.write_bytes(bytes(blob))
    with open_package(bomb) as pkg, pytest.raises(PackageError, match="impossible ratio|zip bomb"):
        pkg.levels  # noqa: B018


def test_non_halving_state_plane_scheme_reads(tmp_path):
    doc = stateplane_doc([1000.0, 333.3333333333333, 100.0])
    members = tpkx_members(doc, {f"L0{i}/R0000C0000.bundle": v2_bundle(TILES) for i in range(3)})
    with open_package(write_zip(tmp_path / "sp.tpkx", members)) as pkg:
        assert pkg.levels == [0, 1, 2] and pkg.scheme.spatial_ref.code == 2234
        assert pkg.wgs84_bounds() is None  # no CRS library in the core


def test_archives_with_absurd_entry_counts_are_refused(tmp_path, monkeypatch):
    from plugin.core.packages import _sources

    monkeypatch.setattr(_sources, "MAX_MEMBERS", 10)
    members = {f"junk/{i}.txt": b"" for i in range(20)}
    with pytest.raises(PackageError, match="entries"):
        open_package(write_zip(tmp_path / "many.zip", members))
    tar_path = tmp_path / "many.tar"
    with tarfile.open(tar_path, "w") as tar:
        for i in range(20):
            tar.addfile(tarfile.TarInfo(f"junk/{i}.txt"))
    with pytest.raises(PackageError, match="entries"):
        open_package(tar_path)
