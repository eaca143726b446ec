"""A converted vector package keeps its MapLibre style, sprites and glyphs beside the MBTiles file."""
from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from urllib.parse import unquote, urlparse

import pytest

from arcgis_emulator.writers import write_package
from plugin.core.packages import convert_package, merge_packages
from plugin.core.packages.style_export import style_folder_for
from tests.conftest import require_shared
from tests.unit.packages.helpers import mvt_gz, png, wm_doc

SPRITE_INDEX = {"pin": {"x": 0, "y": 0, "width": 8, "height": 8, "pixelRatio": 1}}


def _styled_vtpk(path: Path, *, sprite: bool = True) -> Path:
    tiles = [(z, 0, 0, mvt_gz({"places": [{"name": f"p{i}"} for i in range(3)]})) for z in range(3)]
    style = {"version": 8, "sprite": "../sprites/sprite", "glyphs": "../fonts/{fontstack}/{range}.pbf",
             "sources": {"esri": {"type": "vector", "url": "../../"}},
             "layers": [{"id": "background", "type": "background", "paint": {"background-color": "#ffffff"}},
                        {"id": "places/label", "type": "symbol", "source": "esri", "source-layer": "places",
                         "layout": {"text-field": "{name}", "text-font": ["Noto Sans Regular"],
                                    "icon-image": "pin"}}]}
    resources = {"styles/root.json": json.dumps(style).encode(),
                 "fonts/Noto Sans Regular/0-255.pbf": b"\x0a\x00",
                 "fonts/Noto Sans Regular/256-511.pbf": b"\x0a\x00"}
    if sprite:
        for variant in ("", "@2x"):
            resources[f"sprites/sprite{variant}.json"] = json.dumps(SPRITE_INDEX).encode()
            resources[f"sprites/sprite{variant}.png"] = png()
    write_package("vtpk", path, wm_doc(tile=512, levels=3), tiles, resources=resources)
    return path


def _local(url: str) -> Path:
    parsed = urlparse(url)
    assert parsed.scheme == "file", url
    return Path(unquote(parsed.path))


def assert_style_is_complete(style_path: Path, mbtiles: Path) -> dict:
    """The style validates as JSON and every file it refers to is present beside it."""
    style = json.loads(style_path.read_text(encoding="utf-8"))
    assert style["version"] == 8 and style["layers"]
    sprite = style.get("sprite")
    if sprite:
        base = _local(sprite)
        assert base.parent.parent == style_path.parent
        for suffix in (".json", ".png"):
            assert base.with_name(base.name + suffix).is_file(), suffix
        json.loads(base.with_name(base.name + ".json").read_text())
    stacks = set()
    for layer in style["layers"]:
        font = (layer.get("layout") or {}).get("text-font")
        if isinstance(font, list) and all(isinstance(f, str) for f in font):
            stacks.add(",".join(font))
    glyphs = style.get("glyphs")
    if stacks:
        assert glyphs and "{fontstack}" in glyphs and "{range}" in glyphs
        for stack in stacks:  # the first range holds Latin: a renderer asks for it first
            first = glyphs.replace("{fontstack}", stack).replace("{range}", "0-255")
            assert _local(first).is_file(), first
    for source in style["sources"].values():
        if source.get("type") == "vector":
            assert source["url"] == "mbtiles://" + mbtiles.resolve().as_posix()
    meta = dict(sqlite3.connect(mbtiles).execute("SELECT name, value FROM metadata").fetchall())
    assert (mbtiles.parent / meta["style"]).resolve() == style_path.resolve()
    return style


def test_converted_vtpk_keeps_its_style_sprites_and_glyphs(tmp_path):
    src = _styled_vtpk(tmp_path / "styled.vtpk")
    out = tmp_path / "out" / "basemap.mbtiles"
    report = convert_package(src, out)
    assert report.style == str(style_folder_for(out) / "style.json") and not report.warnings
    style = assert_style_is_complete(Path(report.style), out)
    assert [layer["id"] for layer in style["layers"]] == ["background", "places/label"]  # nothing lost
    for variant in ("", "@2x"):
        assert (style_folder_for(out) / "sprites" / f"sprite{variant}.png").read_bytes() == png()


def test_a_merged_vector_export_keeps_the_style_of_its_parts(tmp_path):
    a = _styled_vtpk(tmp_path / "a.vtpk")
    b = _styled_vtpk(tmp_path / "b.vtpk")
    report = merge_packages([a, b], tmp_path / "merged.mbtiles")
    assert_style_is_complete(Path(report.style), tmp_path / "merged.mbtiles")


def test_a_second_conversion_replaces_the_style_folder(tmp_path):
    src = _styled_vtpk(tmp_path / "styled.vtpk")
    out = tmp_path / "basemap.mbtiles"
    convert_package(src, out)
    (style_folder_for(out) / "stale.txt").write_text("from an earlier run")
    convert_package(src, out)
    assert not (style_folder_for(out) / "stale.txt").exists()
    assert not list(tmp_path.glob("*.part"))


def test_a_style_without_sprites_still_travels(tmp_path):
    report = convert_package(_styled_vtpk(tmp_path / "plain.vtpk", sprite=False), tmp_path / "plain.mbtiles")
    style = json.loads(Path(report.style).read_text())
    assert style["layers"] and report.tiles_written == 3


def test_real_vtpk_style_travels(tmp_path):
    real = require_shared() / "packages" / "esri_runtime_android_dodge_city.vtpk"
    out = tmp_path / "dodge.mbtiles"
    report = convert_package(real, out)
    style = assert_style_is_complete(Path(report.style), out)
    assert len(style["layers"]) == 3


def test_raster_conversions_describe_their_package(tmp_path):
    src = tmp_path / "r.tpkx"
    write_package("tpkx", src, wm_doc(fmt="JPEG"), [(z, 0, 0, png(seed=z)) for z in range(3)])
    convert_package(src, tmp_path / "r.gpkg")
    db = sqlite3.connect(tmp_path / "r.gpkg")
    (document,) = db.execute("SELECT metadata FROM gpkg_metadata m JOIN gpkg_metadata_reference r "
                             "ON r.md_file_id = m.id WHERE r.table_name IS NOT NULL").fetchone()
    for item in ('key="ESRI_LEVELS">0-2<', 'key="TILE_FORMAT">JPEG<', 'key="SOURCE_PACKAGES">r.tpkx<',
                 'key="PACKAGE_NAME">Test<'):
        assert item in document
    gdal = pytest.importorskip("osgeo.gdal")
    dataset = gdal.Open(str(tmp_path / "r.gpkg"))
    assert dataset.GetMetadataItem("ESRI_LEVELS") == "0-2" and dataset.GetMetadataItem("TILE_FORMAT") == "JPEG"
    convert_package(src, tmp_path / "r.mbtiles")
    meta = dict(sqlite3.connect(tmp_path / "r.mbtiles").execute("SELECT name, value FROM metadata").fetchall())
    assert meta["esri_levels"] == "0-2" and meta["tile_format"] == "JPEG" and meta["name"] == "Test"
    assert "style" not in meta
