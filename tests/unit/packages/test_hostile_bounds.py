"""Hostile packages that used to *succeed*: each attack, on a real file, now ends in a clear error.

Beside test_hostile.py (which asserts that damaged input never crashes or hangs), these reproduce
what an attacker tried with a package someone was emailed: an index whose entries overlap or repeat
(a 67 KB .tpkx that became a 1 GB GeoPackage), a conversion that fills the disk, a package folder
whose links lead out of it, a conversion that finds no tiles and "succeeds" with an empty file, and
a truncated zip reported as something it is not.
"""
from __future__ import annotations

import json
import os
import shutil
import sqlite3
import struct
import warnings
import zipfile
from collections import namedtuple
from pathlib import Path

import pytest

from arcgis_emulator.writers import v2_bundle, write_cache_folder, write_package
from plugin.core.errors import DiskError, PackageError
from plugin.core.packages import convert, convert_package, open_package, package_info, sinks
from tests.unit.packages.helpers import png, tpkx_members, wm_doc, write_zip

TILES = [(2, r, c, png(seed=r * 3 + c)) for r in range(3) for c in range(3)]
V2_INDEX_AT = 64
SLOTS = 128 * 128


def _no_output(folder: Path, stem: str) -> bool:
    return not list(folder.glob(f"{stem}*"))


# -- overlapping or repeated index entries --------------------------------------------------------
def _every_slot_at(record: bytes, spans) -> bytes:
    """A V2 bundle holding ``record`` once, whose first index entries are ``spans(first_offset)``."""
    bundle = bytearray(v2_bundle({(0, 0): record}))
    first = struct.unpack_from("<Q", bundle, V2_INDEX_AT)[0] & ((1 << 40) - 1)
    entries = [offset | size << 40 for offset, size in spans(first)]
    struct.pack_into(f"<{SLOTS}Q", bundle, V2_INDEX_AT, *entries, *[0] * (SLOTS - len(entries)))
    return bytes(bundle)


def _tpkx(path: Path, bundle: bytes, level: int = 7) -> Path:
    return write_zip(path, tpkx_members(wm_doc(), {f"L{level:02d}/R0000C0000.bundle": bundle}), deflate=True)


@pytest.mark.parametrize("fmt", ["gpkg", "mbtiles"])
def test_index_entries_repeating_one_record_are_refused_before_anything_is_written(tmp_path, fmt):
    """The reported attack: every slot points at one 65 KB record; 67 KB of .tpkx claims 1 GB of tiles."""
    record = os.urandom(65000)
    package = _tpkx(tmp_path / "overlap.tpkx", _every_slot_at(record, lambda first: [(first, len(record))] * SLOTS))
    assert package.stat().st_size < 80_000
    with pytest.raises(PackageError) as caught:
        convert_package(package, tmp_path / f"out.{fmt}")
    message = caught.value.user_message
    assert "claim 1065.0 MB of tiles from 0.1 MB of package" in message
    assert f"more than {convert.EXPANSION_RATIO} times its size" in message
    assert "16383 index entries repeat another record" in message
    assert "damaged or was crafted" in message
    assert _no_output(tmp_path, "out")
    # the advice for genuine compressed packages is safe: unpacked, the same index is still refused
    with zipfile.ZipFile(package) as zf:
        zf.extractall(tmp_path / "unpacked")
    with pytest.raises(PackageError, match="16383 index entries repeat another record") as caught:
        convert_package(tmp_path / "unpacked", tmp_path / f"out.{fmt}")
    assert "unpack it" not in caught.value.user_message
    assert _no_output(tmp_path, "out")


def test_index_entries_overlapping_each_other_are_refused(tmp_path):
    """Entries that start 4 bytes apart and each claim 60 KB: no two share a record, all overlap."""
    record = os.urandom(4 * SLOTS + 60000)
    bundle = _every_slot_at(record, lambda first: [(first + 4 * slot, 60000) for slot in range(SLOTS)])
    package = _tpkx(tmp_path / "overlap.tpkx", bundle)
    with pytest.raises(PackageError, match=r"0 index entries repeat another record, 16383 overlap one"):
        convert_package(package, tmp_path / "out.gpkg")
    assert _no_output(tmp_path, "out")


def test_a_blank_tile_shared_by_every_slot_of_a_bundle_still_converts(tmp_path):
    """Repeats stay legal within the allowance: a writer may store one blank tile for a whole bundle."""
    blank = png(seed=99)
    package = _tpkx(tmp_path / "blank.tpkx", _every_slot_at(blank, lambda first: [(first, len(blank))] * SLOTS))
    report = convert_package(package, tmp_path / "blank.gpkg")
    assert report.tiles_written == SLOTS
    with sqlite3.connect(tmp_path / "blank.gpkg") as db:
        (table,) = db.execute("SELECT table_name FROM gpkg_contents").fetchone()
        assert db.execute(f'SELECT count(DISTINCT tile_data), count(*) FROM "{table}"').fetchone() == (1, SLOTS)


def test_the_expansion_bound_counts_records_not_what_the_package_declares(tmp_path):
    """The bound is against the bytes on disk: a deflated zip's inflated bundle sizes do not raise it."""
    record = bytes(65000)  # zeros: deflate makes the bundle member tiny, its inflated size stays 196 KB
    package = _tpkx(tmp_path / "zeros.tpkx", _every_slot_at(record, lambda first: [(first, len(record))] * 2000))
    with open_package(package) as pkg:
        assert pkg.stored_bytes() == package.stat().st_size < 5000
        assert pkg.tile_bytes == 2000 * 65000 > convert.EXPANSION_RATIO * pkg.stored_bytes() + \
            convert.EXPANSION_ALLOWANCE
    with pytest.raises(PackageError, match="1999 index entries repeat another record"):
        convert_package(package, tmp_path / "out.mbtiles")


# -- free disk space ------------------------------------------------------------------------------
Usage = namedtuple("Usage", "total used free")


def _many_tiles(path: Path, count: int = 2500) -> Path:
    """A .tpkx of ``count`` small tiles at level 7 (several batches of rows)."""
    side = int(count ** 0.5)
    write_package("tpkx", path, wm_doc(), [(7, r, c, png(seed=r * side + c)) for r in range(side) for c in range(side)])
    return path


def test_a_conversion_that_cannot_fit_is_refused_before_it_starts(tmp_path, monkeypatch):
    package = _many_tiles(tmp_path / "many.tpkx")
    with open_package(package) as pkg:
        needed = sinks.estimate_output(pkg.tile_bytes, pkg.tile_count) + sinks.DISK_MARGIN
    calls = []

    def disk_usage(folder):  # a disk with 1 MB less free than the conversion needs
        calls.append(Path(folder))
        return Usage(10 << 30, 10 << 30, needed - (1 << 20))

    out = tmp_path / "out" / "many.mbtiles"
    monkeypatch.setattr(shutil, "disk_usage", disk_usage)
    with pytest.raises(DiskError) as caught:
        convert_package(package, out)
    message = caught.value.user_message
    assert f"needs about {needed / 1e6:.1f} MB free in {out.parent}" in message
    assert f"only {(needed - (1 << 20)) / 1e6:.1f} MB are free" in message
    assert "Free some disk space or choose another folder" in message
    assert calls == [out.parent]  # asked once, before the first byte
    assert _no_output(out.parent, "many")


def test_a_disk_filling_up_during_a_conversion_stops_it_with_the_margin_still_free(tmp_path, monkeypatch):
    """Another program fills the disk while the conversion runs: it stops at the next batch of rows."""
    package = _many_tiles(tmp_path / "many.tpkx")
    real = shutil.disk_usage
    calls = []

    def disk_usage(folder):
        calls.append(folder)
        free = real(folder).free if len(calls) == 1 else sinks.DISK_MARGIN - (8 << 20)
        return Usage(10 << 30, 10 << 30, free)

    monkeypatch.setattr(shutil, "disk_usage", disk_usage)
    out = tmp_path / "many.gpkg"
    with pytest.raises(DiskError) as caught:
        convert_package(package, out)
    message = caught.value.user_message
    assert f"the disk of {tmp_path} is almost full ({(sinks.DISK_MARGIN - (8 << 20)) / 1e6:.1f} MB free)" in message
    assert "stopped before filling the disk" in message
    assert len(calls) == 2  # before, then after the first batch of convert.BATCH rows (of 2500)
    assert _no_output(tmp_path, "many.gpkg")


def test_the_space_asked_for_covers_what_a_conversion_writes(tmp_path):
    """The estimate behind the check is not an under-estimate (a check that asks too little is no check)."""
    package = _many_tiles(tmp_path / "many.tpkx")
    with open_package(package) as pkg:
        estimate = sinks.estimate_output(pkg.tile_bytes, pkg.tile_count)
    for fmt in ("mbtiles", "gpkg"):
        report = convert_package(package, tmp_path / f"many.{fmt}")
        assert report.file_size <= estimate, fmt


# -- links leaving a package folder -------------------------------------------------------------------
def _symlink(link: Path, target: Path) -> None:
    try:
        link.symlink_to(target, target_is_directory=target.is_dir())
    except (OSError, NotImplementedError) as exc:  # Windows without the privilege to make links
        pytest.skip(f"cannot create symbolic links here: {exc}")


@pytest.fixture()
def folder_package(tmp_path) -> Path:
    write_cache_folder(tmp_path / "pkg" / "Layers", wm_doc(), TILES)
    return tmp_path / "pkg" / "Layers"


def test_a_bundle_linked_to_a_file_outside_the_package_is_not_read(folder_package, tmp_path):
    bundle = next(folder_package.rglob("*.bundle"))
    outside = tmp_path / "elsewhere" / "private.bundle"
    outside.parent.mkdir()
    shutil.move(str(bundle), outside)  # a valid bundle: before, its tiles were read and converted
    _symlink(bundle, outside)
    for use in (lambda: convert_package(folder_package, tmp_path / "out.mbtiles"),
                lambda: package_info(folder_package)):
        with pytest.raises(PackageError) as caught:
            use()
        message = caught.value.user_message
        assert f"_alllayers/L02/{bundle.name} is a link to {outside}, outside the package" in message
        assert "links that leave a package folder are not followed" in message
    assert _no_output(tmp_path, "out")


def test_links_to_secrets_are_refused_without_reading_them(folder_package, tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text('{"tileInfo": "S3CR3T"}')
    conf = folder_package / "conf.xml"
    conf.unlink()
    _symlink(conf, secret)
    with pytest.raises(PackageError, match="conf.xml is a link to .*, outside the package") as caught:
        open_package(folder_package)
    assert "S3CR3T" not in caught.value.user_message + caught.value.details


def test_a_tile_folder_linked_outside_the_package_is_not_followed(folder_package, tmp_path):
    alllayers = folder_package / "_alllayers"
    outside = tmp_path / "elsewhere"
    shutil.move(str(alllayers), outside)
    _symlink(alllayers, outside)
    with pytest.raises(PackageError, match=f"_alllayers is a link to {outside}, outside the package"):
        convert_package(folder_package, tmp_path / "out.gpkg")
    assert _no_output(tmp_path, "out")


def test_links_that_stay_inside_the_package_are_followed(folder_package, tmp_path):
    alllayers = folder_package / "_alllayers"
    shutil.move(str(alllayers), folder_package / "tiles_v2")
    _symlink(alllayers, Path("tiles_v2"))  # relative, inside the package
    assert convert_package(folder_package, tmp_path / "out.mbtiles").tiles_written == len(TILES)


def test_a_package_reached_through_a_link_is_still_inside_itself(folder_package, tmp_path):
    alias = tmp_path / "alias"
    _symlink(alias, folder_package)
    assert convert_package(alias, tmp_path / "out.mbtiles").tiles_written == len(TILES)


# -- no tiles is an error that says why --------------------------------------------------------------
@pytest.mark.parametrize("fmt", ["mbtiles", "gpkg"])
def test_a_wrong_tile_bundles_path_is_an_error_naming_it(tmp_path, fmt):
    members = tpkx_members(wm_doc(), {"L02/R0000C0000.bundle": v2_bundle({(0, 0): png()})},
                           root_extra={"tileBundlesPath": "./tiles"})
    package = write_zip(tmp_path / "wrong.tpkx", members)
    with pytest.raises(PackageError) as caught:
        convert_package(package, tmp_path / f"out.{fmt}")
    message = caught.value.user_message
    assert "it holds no tiles: its tiles should be in the folder tiles (root.json's tileBundlesPath is " \
           "'./tiles'), and the package has no such folder" in message
    assert _no_output(tmp_path, "out")


def test_a_zip_with_two_root_json_is_an_error_naming_the_duplicate(tmp_path):
    good = tpkx_members(wm_doc(), {"L02/R0000C0000.bundle": v2_bundle({(0, 0): png()})})
    stale = dict(json.loads(good["root.json"]), tileBundlesPath="./old")
    package = tmp_path / "twice.tpkx"
    with warnings.catch_warnings(), zipfile.ZipFile(package, "w") as zf:
        warnings.simplefilter("ignore")  # zipfile warns about the duplicate name, as intended
        zf.writestr("root.json", json.dumps(stale))
        for name, data in good.items():
            zf.writestr(name, data)
    with pytest.raises(PackageError) as caught:
        convert_package(package, tmp_path / "out.mbtiles")
    message = caught.value.user_message
    assert "it holds no tiles: its tiles should be in the folder old" in message
    assert "the archive holds 1 member(s) twice (root.json)" in message
    assert "only the first copy of each was read" in message
    assert _no_output(tmp_path, "out")


def test_bundles_without_a_tile_are_an_error(tmp_path):
    package = write_zip(tmp_path / "empty.tpkx", tpkx_members(wm_doc(), {"L02/R0000C0000.bundle": v2_bundle({})}))
    with pytest.raises(PackageError, match=r"holds no tiles: its 1 bundle file\(s\) hold no tile"):
        convert_package(package, tmp_path / "out.mbtiles")
    assert _no_output(tmp_path, "out")


# -- messages that say what happened ------------------------------------------------------------------
def test_a_zip_one_byte_short_is_reported_as_truncated(tmp_path):
    whole = tmp_path / "whole.tpkx"
    write_package("tpkx", whole, wm_doc(), TILES)
    data = whole.read_bytes()
    for cut in (1, 22, len(data) // 2, len(data) - 30):
        short = tmp_path / "short.tpkx"
        short.write_bytes(data[:-cut])
        with pytest.raises(PackageError) as caught:
            open_package(short)
        message = caught.value.user_message
        assert "neither a zip nor a tar" not in message, cut
        assert "it is a zip archive whose end is missing or damaged" in message, cut
        assert "the file is truncated, for example by an interrupted download or copy" in message
        assert "download it again" in message


def test_a_merge_keeps_its_parts_with_tiles_and_names_the_empty_one(tmp_path):
    """A split export's part may cover only sea; the merge warns about it instead of failing."""
    one_tile = {"L02/R0000C0000.bundle": v2_bundle({(0, 0): png()})}
    full = write_zip(tmp_path / "full.tpkx", tpkx_members(wm_doc(), one_tile))
    empty = write_zip(tmp_path / "empty.tpkx", tpkx_members(wm_doc(), {"L02/R0000C0000.bundle": v2_bundle({})}))
    report = convert.merge_packages([full, empty], tmp_path / "merged.mbtiles")
    assert report.tiles_written == 1
    assert "empty.tpkx holds no tiles: its 1 bundle file(s) hold no tile: every index entry is empty" in report.warnings
    with pytest.raises(PackageError, match="holds no tiles"):
        convert.merge_packages([empty, empty], tmp_path / "none.mbtiles")
    assert _no_output(tmp_path, "none")


def test_the_expansion_bound_counts_copied_records_not_the_stand_ins_a_conversion_makes(tmp_path, monkeypatch):
    """Stand-ins of a sparse vector package (standins.py) legitimately make the output bigger than the
    package; they have their own bound.  Squeezed to just above the package's records, the expansion
    bound still lets the stand-ins through, and squeezed below them it refuses the records."""
    from tests.unit.packages.test_sparse import SQUARE, _gz, _vtpk

    country = _gz({"countries": [("Polygon", [SQUARE], {"name": "Everywhere"})]})
    detail = _gz({"countries": [("Polygon", [[(0, 0), (2000, 0), (2000, 2000), (0, 2000)]], {"name": "Corner"})]})
    tiles = {(0, 0, 0): country, (1, 0, 0): country, (1, 0, 1): country, (1, 1, 0): country, (1, 1, 1): country}
    tiles.update({(z, 0, 0): detail for z in range(2, 5)})
    src = _vtpk(tmp_path / "sparse.vtpk", tiles, levels=6)
    with open_package(src) as pkg:
        records, stored = pkg.tile_bytes, pkg.stored_bytes()
    monkeypatch.setattr(convert, "EXPANSION_ALLOWANCE", 0)
    monkeypatch.setattr(convert, "EXPANSION_RATIO", records / stored)
    report = convert_package(src, tmp_path / "sparse.mbtiles")
    with sqlite3.connect(tmp_path / "sparse.mbtiles") as db:
        (written,) = db.execute("SELECT sum(length(tile_data)) FROM tiles").fetchone()
    assert report.stand_ins == 3 * (4 + 16 + 64) and written > 10 * records
    monkeypatch.setattr(convert, "EXPANSION_RATIO", records / stored * 0.99)
    with pytest.raises(PackageError, match=r"0 index entries repeat another record, 0 overlap one"):
        convert_package(src, tmp_path / "refused.mbtiles")
