"""The file names an export gets, decided in one place (plugin.core.names)."""
from __future__ import annotations

from pathlib import Path

from plugin.core import names


def test_split_parts_and_multi_file_results_are_numbered(tmp_path):
    out = tmp_path / "field.tpkx"
    assert names.part_path(out, "tpkx", 1, 1) == out
    assert names.part_path(out, "tpkx", 2, 12).name == "field_part02of12.tpkx"
    assert names.part_path(out, "tpk", 1, 1, 2, 3).name == "field_2.tpk"  # a result in several files
    assert names.part_path(tmp_path / "notes", "vtpk", 1, 2).name == "notes_part01of02.vtpk"


def test_the_merged_file_sits_beside_the_packages(tmp_path):
    first = tmp_path / "field_part01of03.tpkx"
    assert names.merged_path(tmp_path / "field.tpkx", first, vector=False) == tmp_path / "field.gpkg"
    assert names.merged_path(tmp_path / "field.vtpk", first, vector=True) == tmp_path / "field.mbtiles"
    assert names.merged_path(tmp_path / "wanted.mbtiles", first, vector=False) == tmp_path / "wanted.mbtiles"
    assert names.merged_path(tmp_path, first, vector=False) == tmp_path / "field.gpkg"  # a folder output
    assert names.package_path(tmp_path / "wanted.gpkg", "tpkx") == tmp_path / "wanted.tpkx"
    assert names.package_path(tmp_path / "wanted.tpkx", "tpkx") == tmp_path / "wanted.tpkx"


def test_a_resumed_part_names_its_whole_export():
    assert names.whole_export_path("/data/field_part02of03.tpkx") == Path("/data/field.tpkx")
    assert names.whole_export_path("/data/field.tpkx") == Path("/data/field.tpkx")


def test_an_export_never_overwrites_an_earlier_one_or_one_under_way(tmp_path):
    target = tmp_path / "field.tpkx"
    assert names.free_output_path(target) == target
    (tmp_path / "field.gpkg").write_bytes(b"")  # the merged file of an earlier export counts too
    assert names.free_output_path(target).name == "field (2).tpkx"
    busy = {tmp_path / "field (2)"}
    assert names.free_output_path(target, busy).name == "field (3).tpkx"


def test_a_name_is_taken_by_the_files_the_export_would_write(tmp_path):
    (tmp_path / "alps.tpkx").write_bytes(b"")
    assert names.free_output_path(tmp_path / "alps.tpk").name == "alps.tpk"  # another package format
    assert names.free_output_path(tmp_path / "alps.gpkg").name == "alps (2).gpkg"  # the package goes beside it
    assert names.free_output_path(tmp_path / "alps.tpkx").name == "alps (2).tpkx"
    (tmp_path / "cache").mkdir()
    assert names.free_output_path(tmp_path / "cache").name == "cache (2)"  # a tile cache's folder


def test_default_name_and_cache_folders(tmp_path):
    assert names.default_output_name("World Map/Topo", "tpkx") == "World_Map_Topo.tpkx"
    assert names.default_output_name("World_Imagery", "tpkx", "Italy", range(9)) == "World_Imagery_Italy_L0-8.tpkx"
    assert names.default_output_name("", "vtpk", "", [5]) == "export_L5.vtpk"
    assert names.cache_folder(tmp_path / "alps.tpkx", 2, 3) == tmp_path / "alps_part02of03"
    assert names.cache_output_path(tmp_path / "alps.gpkg") == tmp_path / "alps"
    assert names.merged_cache_folder(tmp_path / "alps.tpkx", tmp_path / "alps_part01of02") == tmp_path / "alps"
    other = tmp_path / "stuff"
    other.mkdir()
    (other / "notes.txt").write_text("x")
    assert names.merged_cache_folder(other, other / "alps_part01of02") == other / "alps"
