"""Tile cache folders with real Esri caches: the safe unpack, the layout, verification and the
tile-by-tile merge of parts, in Compact V2 (Esri's sample cache, GDAL's Layers.tar) and Compact V1
(the caches inside ArcMap's .tpk packages)."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from arcgis_emulator.writers import write_cache_folder
from plugin.core.errors import DiskError, PackageError
from plugin.core.packages import open_package
from plugin.core.packages.cachefolder import (
    COMPACT_V1,
    COMPACT_V2,
    is_cache_folder,
    lay_out_cache,
    merge_caches,
    unpack_archive,
    verify_cache,
)
from tests.conftest import require_shared

from .helpers import png, wm_doc

# name → (storage, how the cache is reached: "folder" copied, or an archive unpacked)
REAL = {
    "esri_raster-tiles-compactcache_sample_cache": "compactV2",
    "gdal_esric_Layers.tar": "compactV2",
    "tpkutils_states_filled.tpk": "compactV1",
    "tpkutils_alt_root_name.tpk": "compactV1",
}


def tiles_of(path) -> dict:
    with open_package(path) as pkg:
        return {(t.level, t.row, t.col): bytes(t.data) for t in pkg.iter_tiles()}


def real_cache(name: str, tmp_path: Path) -> Path:
    """The real cache laid out as a cache folder (conf.xml at the top)."""
    src = require_shared() / "packages" / name
    staging = tmp_path / f"{name}.staging"
    if src.is_dir():
        shutil.copytree(src, staging)
    else:
        unpack_archive(src, staging)
    return lay_out_cache(staging, tmp_path / "cache")


@pytest.mark.parametrize("name", sorted(REAL))
def test_real_cache_unpacks_lays_out_and_verifies(name, tmp_path):
    src = require_shared() / "packages" / name
    folder = real_cache(name, tmp_path)
    assert (folder / "conf.xml").is_file() and (folder / "_alllayers").is_dir()
    assert not (tmp_path / f"{name}.staging").exists()
    summary = verify_cache(folder, storage=REAL[name])
    with open_package(src) as original:
        expected = {level: info.tiles for level, info in original.levels_info().items()}
    assert summary.levels == expected
    assert tiles_of(folder) == tiles_of(src)
    with pytest.raises(PackageError, match="not asked for"):
        verify_cache(folder, levels=[min(expected)] if len(expected) > 1 else [max(expected) + 1])


def _write_part(path: Path, conf_dir: Path, tiles: dict, storage: str) -> Path:
    write_cache_folder(path, wm_doc(), [(lv, r, c, d) for (lv, r, c), d in sorted(tiles.items())],
                       storage_format=storage)
    for name in ("conf.xml", "conf.cdi"):  # the real cache's own configuration
        if (conf_dir / name).exists():
            shutil.copyfile(conf_dir / name, path / name)
    return path


@pytest.mark.parametrize("name", sorted(REAL))
def test_real_cache_split_tile_by_tile_merges_back_byte_for_byte(name, tmp_path):
    folder = real_cache(name, tmp_path)
    tiles = tiles_of(folder)
    storage = COMPACT_V1 if REAL[name] == "compactV1" else COMPACT_V2
    # a checkerboard split: every bundle of the cache is shared by both parts
    even = {k: v for k, v in tiles.items() if (k[1] + k[2]) % 2 == 0}
    odd = {k: v for k, v in tiles.items() if (k[1] + k[2]) % 2 == 1}
    parts = [_write_part(tmp_path / "a", folder, even, storage), _write_part(tmp_path / "b", folder, odd, storage)]
    progress = []
    summary = merge_caches(parts, tmp_path / "merged", progress=lambda d, t: progress.append((d, t)))
    assert summary.storage == REAL[name]
    assert tiles_of(tmp_path / "merged") == tiles
    assert progress[-1] == (len(tiles), len(tiles))
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".merged")]  # no staging left
    # merging a part with itself keeps one copy of each tile
    again = merge_caches([parts[0], parts[0]], tmp_path / "twice")
    assert tiles_of(tmp_path / "twice") == even and again.tile_count == len(even)


def test_merge_refuses_mixed_storage_and_keeps_an_existing_non_cache_folder(tmp_path):
    tiles = {(1, 0, 0): png(seed=1), (1, 0, 1): png(seed=2)}
    v2 = tmp_path / "v2"
    v1 = tmp_path / "v1"
    write_cache_folder(v2, wm_doc(), [(lv, r, c, d) for (lv, r, c), d in tiles.items()])
    write_cache_folder(v1, wm_doc(), [(lv, r, c, d) for (lv, r, c), d in tiles.items()], storage_format=COMPACT_V1)
    with pytest.raises(PackageError, match="storage format differs"):
        merge_caches([v2, v1], tmp_path / "m")
    assert not (tmp_path / "m").exists()
    precious = tmp_path / "precious"
    precious.mkdir()
    (precious / "notes.txt").write_text("mine")
    with pytest.raises(DiskError, match="not a tile cache"):
        merge_caches([v2], precious)
    assert (precious / "notes.txt").read_text() == "mine"
    merge_caches([v2], tmp_path / "again")
    merge_caches([v2], tmp_path / "again")  # an earlier cache of the same name is replaced
    assert is_cache_folder(tmp_path / "again") and tiles_of(tmp_path / "again") == tiles


def test_layout_without_conf_xml_is_refused(tmp_path):
    staging = tmp_path / "s"
    (staging / "x" / "_alllayers" / "L00").mkdir(parents=True)
    with pytest.raises(PackageError, match="no conf.xml"):
        lay_out_cache(staging, tmp_path / "t")
    assert not staging.exists() and not (tmp_path / "t").exists()
