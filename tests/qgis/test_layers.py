"""Opening packages in QGIS: every real package opens placed, named, described, styled and drawn.

On QGIS 3.22 / GDAL 3.6 every package goes through a conversion; on QGIS ≥ 3.32 vtpks open through
the vtpk source and on GDAL ≥ 3.8 decodable tpkx files through ESRIC (run the suite in the 3.40
chroot to exercise those branches).
"""
from __future__ import annotations

import json
import logging
import os
import shutil
import sqlite3
import tarfile
import zipfile
from pathlib import Path
from xml.etree import ElementTree

import pytest
from qgis.core import (
    Qgis,
    QgsMapRendererSequentialJob,
    QgsMapSettings,
    QgsRasterLayer,
    QgsRectangle,
    QgsSettings,
    QgsVectorTileLayer,
)
from qgis.PyQt.QtCore import QByteArray, QSize
from qgis.PyQt.QtGui import QColor, QImage

from arcgis_emulator.writers import write_package
from plugin.core.errors import PackageError
from plugin.core.packages import formats, open_package
from plugin.qgis_glue import layers, settings
from plugin.qgis_glue.i18n import error_message
from plugin.qgis_glue.layers import (
    SOURCE_PROPERTY,
    create_layer,
    open_package_layer,
    prepare_layer_source,
)
from plugin.qgis_glue.style import OUTLINE_SUFFIX, missing_fonts, style_fonts
from tests.conftest import REAL_FIXTURES, require_shared
from tests.unit.packages.helpers import mvt_gz, png, wm_doc

EXPECTED = json.loads((REAL_FIXTURES / "expected.json").read_text()) if REAL_FIXTURES.is_dir() else {}
NAMES = sorted(EXPECTED) or ["(../shared absent)"]
AUTHIDS = {3857: "EPSG:3857", 102100: "EPSG:3857", 4326: "EPSG:4326"}
LAYER_NAMES = {
    "esri_raster-tiles-compactcache_sample_cache": "esri_raster-tiles-compactcache_sample_cache",
    "esri_runtime_android_dodge_city.vtpk": "dodge_city",
    "esri_tilepackagespec_Usa.tpkx": "Usa",
    "gdal_esric_Layers.tar": "gdal_esric_Layers",
    "geotools_sample_v1.tpk": "geotools_sample_v1",
    "spatialillusions_TPK2GPKG_wgs84.tpkx": "wgs84",
    "tpkutils_alt_root_name.tpk": "alt_root_name",
    "tpkutils_states_filled.tpk": "states_filled",
}
DODGE = "esri_runtime_android_dodge_city.vtpk"
USA = "esri_tilepackagespec_Usa.tpkx"
MAX_RENDER_PX = 1024
TRANSPARENT = QColor(0, 0, 0, 0)


def _package(name: str) -> Path:
    return require_shared() / "packages" / name


def _expected_native(name: str) -> bool:
    if name.endswith(".vtpk"):
        return Qgis.QGIS_VERSION_INT >= 33200
    # Usa.tpkx holds signature-less PNGs (see MANIFEST): only the conversion repairs them.
    return name == "spatialillusions_TPK2GPKG_wgs84.tpkx" and layers.gdal_version() >= 3080000


def render(layer, rect: QgsRectangle, width: int, height: int) -> QImage:
    """``layer`` drawn over ``rect`` into a transparent ARGB32 image, no antialiasing."""
    settings_ = QgsMapSettings()
    settings_.setLayers([layer])
    settings_.setDestinationCrs(layer.crs())
    settings_.setExtent(rect)
    settings_.setOutputSize(QSize(width, height))
    settings_.setOutputDpi(96)
    settings_.setBackgroundColor(TRANSPARENT)
    settings_.setFlag(QgsMapSettings.Flag.Antialiasing, False)
    job = QgsMapRendererSequentialJob(settings_)
    job.start()
    job.waitForFinished()
    assert not job.errors(), [error.message for error in job.errors()]
    return job.renderedImage().convertToFormat(QImage.Format.Format_ARGB32)


def pixels(image: QImage, step: int = 1):
    for y in range(0, image.height(), step):
        for x in range(0, image.width(), step):
            yield x, y, QColor.fromRgba(image.pixel(x, y))


def coverage(image: QImage) -> tuple[float, int]:
    """Share of non-transparent pixels and the number of distinct colours (sampled every 2nd pixel)."""
    opaque, colours, total = 0, set(), 0
    for _x, _y, colour in pixels(image, 2):
        total += 1
        if colour.alpha():
            opaque += 1
            colours.add(colour.rgba())
    return opaque / max(total, 1), len(colours)


def _render_level(pkg, rect: QgsRectangle) -> tuple[int, float]:
    """The finest level whose image over ``rect`` fits in MAX_RENDER_PX, and its resolution."""
    for level in reversed(pkg.levels):
        res = pkg.scheme.lod(level).resolution
        if rect.width() / res <= MAX_RENDER_PX and rect.height() / res <= MAX_RENDER_PX:
            return level, res
    level = pkg.levels[0]
    return level, max(rect.width(), rect.height()) / MAX_RENDER_PX


def _config_file(path: Path, basename: str) -> bytes | None:
    """The shallowest file called ``basename`` in a package (folder, zip or tar), read without the plugin."""
    def depth(name: str) -> tuple[int, str]:
        return name.count("/"), name

    if path.is_dir():
        found = sorted((str(p.relative_to(path)) for p in path.rglob("*") if p.name.lower() == basename), key=depth)
        return (path / found[0]).read_bytes() if found else None
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as zf:
            found = sorted((n for n in zf.namelist() if n.rsplit("/", 1)[-1].lower() == basename), key=depth)
            return zf.read(found[0]) if found else None
    with tarfile.open(path) as tar:
        found = sorted((n for n in tar.getnames() if n.rsplit("/", 1)[-1].lower() == basename), key=depth)
        return tar.extractfile(found[0]).read() if found else None


def declared_extent(path: Path, level: int) -> tuple[tuple[float, float, float, float], float]:
    """The package's own extent and the resolution of ``level``, straight from its files: fullExtent
    and tileInfo.lods of (p12/)root.json (vtpk, tpkx), else the conf.cdi envelope and conf.xml LODs."""
    root = _config_file(path, "root.json")  # p12/root.json is the shallowest in a vtpk
    doc = json.loads(root) if root else {}
    if "tileInfo" in doc:
        box = tuple(float(doc["fullExtent"][key]) for key in ("xmin", "ymin", "xmax", "ymax"))
        resolution = next(lod["resolution"] for lod in doc["tileInfo"]["lods"] if lod["level"] == level)
        return box, float(resolution)
    envelope = ElementTree.fromstring(_config_file(path, "conf.cdi"))
    box = tuple(float(envelope.find(key).text) for key in ("XMin", "YMin", "XMax", "YMax"))
    conf = ElementTree.fromstring(_config_file(path, "conf.xml"))
    resolution = next(float(lod.find("Resolution").text) for lod in conf.iter("LODInfo")
                      if int(lod.find("LevelID").text) == level)
    return box, resolution


def _set_cache_folder(path: str) -> None:
    """What a user does in QGIS's advanced settings (the plugin never writes it)."""
    QgsSettings().setValue(settings.PREFIX + settings.CACHE_FOLDER_KEY, path)


@pytest.fixture
def no_cache_setting():
    before = settings.cache_folder()
    _set_cache_folder("")
    yield
    _set_cache_folder(before)


# -- every real package ----------------------------------------------------------------------------
@pytest.mark.parametrize("name", NAMES)
def test_real_package_opens_placed_named_and_described(name, tmp_path, qgis_new_project):
    path = _package(name)
    expected = EXPECTED[name]
    source = prepare_layer_source(path, cache_dir=tmp_path)
    layer = create_layer(source)

    assert layer.isValid()
    assert isinstance(layer, QgsVectorTileLayer if name.endswith(".vtpk") else QgsRasterLayer)
    assert source.native is _expected_native(name)
    assert layer.name() == LAYER_NAMES[name]
    assert layer.crs().authid() == AUTHIDS[expected["wkid"]]
    with open_package(path) as pkg:
        tile_count = pkg.tile_count
    assert tile_count == sum(expected["tiles_per_level"].values())
    # placed where the package itself says its data is (read here, not by the plugin)
    box, finest = declared_extent(path, max(map(int, expected["tiles_per_level"])))
    extent = layer.extent()
    outward = (box[0] - extent.xMinimum(), box[1] - extent.yMinimum(), extent.xMaximum() - box[2],
               extent.yMaximum() - box[3])
    # GDAL snaps a raster outward to whole pixels of the finest level: never inward, less than a pixel
    # out; 1 % of a pixel covers float noise (MBTiles bounds are WGS84 degrees to 10 digits)
    slack = 0.01 * finest
    for side, grown in zip(("xmin", "ymin", "xmax", "ymax"), outward):
        assert -slack <= grown < finest + slack, (side, grown / finest, extent.toString(), box)

    metadata = layer.metadata()
    assert metadata.title()
    assert path.name in metadata.abstract()
    assert f"{tile_count} tiles" in metadata.abstract()
    assert metadata.keywords()["levels"] == [str(level) for level in sorted(map(int, expected["tiles_per_level"]))]
    assert layer.customProperty(SOURCE_PROPERTY) == str(path)
    if not source.native:
        assert Path(source.converted).parent == tmp_path


@pytest.mark.parametrize("name", NAMES)
def test_real_package_draws_its_data_over_its_extent(name, tmp_path, qgis_new_project):
    path = _package(name)
    layer = open_package_layer(path, cache_dir=tmp_path)
    with open_package(path) as pkg:
        data = pkg.data_extent()
        rect = QgsRectangle(data.xmin, data.ymin, data.xmax, data.ymax)
        _level, res = _render_level(pkg, rect)
    width, height = max(1, round(rect.width() / res)), max(1, round(rect.height() / res))
    image = render(layer, rect, width, height)
    opaque, colours = coverage(image)
    assert opaque > 0.05, f"only {opaque:.0%} of the data area is drawn"
    assert colours > 1, "the data area is one flat colour"


@pytest.mark.parametrize("name", [n for n in NAMES if not n.endswith(".vtpk")])
def test_real_raster_package_shows_its_tiles_where_they_belong(name, tmp_path, qgis_new_project):
    """The biggest tile of the finest level, drawn at its own resolution over its own bounds, comes
    out as stored: same colours (no contrast stretch), same transparency, same place (±1 px)."""
    path = _package(name)
    layer = open_package_layer(path, cache_dir=tmp_path)
    with open_package(path) as pkg:
        level = pkg.levels[-1]
        row, col = pkg.largest_tile(level)
        data = pkg.tile(level, row, col)
        bounds = pkg.scheme.tile_bounds(level, row, col)
    if formats.sniff(data) == "png-headless":
        data = formats.repair_png(data)
    tile = QImage.fromData(QByteArray(data)).convertToFormat(QImage.Format.Format_ARGB32)
    image = render(layer, QgsRectangle(*bounds), tile.width(), tile.height())

    def near(x: int, y: int):
        for dy in (-1, 0, 1):
            for dx in (-1, 0, 1):
                if 0 <= x + dx < image.width() and 0 <= y + dy < image.height():
                    yield QColor.fromRgba(image.pixel(x + dx, y + dy))

    checked = matched = 0
    for x, y, want in pixels(tile, 4):
        if 0 < want.alpha() < 255:
            continue  # partly transparent: premultiplication rounds differently in GDAL and Qt
        checked += 1
        if want.alpha() == 0:
            matched += any(got.alpha() == 0 for got in near(x, y))
        else:
            matched += any(got.alpha() == 255 and max(abs(got.red() - want.red()), abs(got.green() - want.green()),
                                                      abs(got.blue() - want.blue())) <= 8 for got in near(x, y))
    assert checked > 100
    assert matched / checked > 0.98, f"{matched} of {checked} sampled pixels match the stored tile"


def test_paletted_tiles_are_converted_as_they_are(tmp_path, qgis_new_project):
    """No PNG8 → RGBA expansion by default (an opt-in hook in convert.py): the GeoPackage holds the
    package's own paletted tiles, byte for byte, and GDAL draws their colours (checked pixel by pixel in
    test_real_raster_package_shows_its_tiles_where_they_belong)."""
    path = _package("tpkutils_states_filled.tpk")
    with open_package(path) as pkg:
        stored = {(tile.level, tile.row, tile.col): tile.data for tile in pkg.iter_tiles()}
    assert {formats.png_color_type(data) for data in stored.values()} == {3}  # all paletted
    source = prepare_layer_source(path, cache_dir=tmp_path, native=False)
    con = sqlite3.connect(source.converted)
    try:
        (table,) = con.execute("SELECT table_name FROM gpkg_contents").fetchone()
        converted = {(z, row, col): bytes(data) for z, col, row, data in con.execute(
            f'SELECT zoom_level, tile_column, tile_row, tile_data FROM "{table}"')}
    finally:
        con.close()
    assert converted == stored


# -- vector styles ----------------------------------------------------------------------------------
@pytest.mark.parametrize("native", [None, False], ids=["as-qgis-prefers", "converted"])
def test_vector_package_gets_its_own_style_with_sprites(native, tmp_path, qgis_new_project):
    path = _package(DODGE)
    with open_package(path) as pkg:
        style = pkg.style
        data = pkg.data_extent()
    layer = open_package_layer(path, cache_dir=tmp_path, native=native)
    styles = layer.renderer().styles()
    assert len(styles) > 1
    # every style layer in order; a fill with its own outline colour draws its outlines after it
    assert [s.styleName() for s in styles if not s.styleName().endswith(OUTLINE_SUFFIX)] == [
        gl["id"] for gl in style["layers"]]
    assert [s.styleName() for s in styles].index("Dodge_city_planet_osm_polygon_polygons" + OUTLINE_SUFFIX) == 1
    by_name = {s.styleName(): s for s in styles}
    fill = by_name["Dodge_city_planet_osm_polygon_polygons"].symbol()
    assert fill.color().name() == "#fcecbd"  # the style's fill-color, not a random default
    points = by_name["Dodge_city_planet_osm_point_points"].symbol()
    assert points.symbolLayer(0).layerType() == "RasterMarker"  # the icon comes from the sprite

    rect = QgsRectangle(data.xmin, data.ymin, data.xmax, data.ymax)
    image = render(layer, rect, 600, round(600 * rect.height() / rect.width()))
    drawn = {colour.name() for _x, _y, colour in pixels(image, 2) if colour.alpha() == 255}
    assert "#fcecbd" in drawn


def _vtpk_with_style(path: Path, style_layers: list[dict]) -> Path:
    tiles = [(z, 0, 0, mvt_gz({"places": [{"name": f"p{i}"} for i in range(5)]})) for z in range(3)]
    style = {"version": 8, "sprite": "../sprites/sprite", "glyphs": "../fonts/{fontstack}/{range}.pbf",
             "sources": {"esri": {"type": "vector", "url": "../../"}},
             "layers": [{"id": "background", "type": "background", "paint": {"background-color": "#ffffff"}},
                        {"id": "places/dots", "type": "circle", "source": "esri", "source-layer": "places",
                         "paint": {"circle-color": "#ff0000", "circle-radius": 4}}] + style_layers}
    write_package("vtpk", path, wm_doc(tile=512, levels=3), tiles,
                  resources={"styles/root.json": json.dumps(style).encode()})
    return path


def test_missing_fonts_are_logged_once_by_name(tmp_path, qgis_new_project, caplog):
    labels = [{"id": f"places/label{i}", "type": "symbol", "source": "esri", "source-layer": "places",
               "layout": {"text-field": "{name}", "text-font": ["Nonexistent Grotesk Bold", "DejaVu Sans Book"]}}
              for i in range(3)]
    labels.append({"id": "places/label-stops", "type": "symbol", "source": "esri", "source-layer": "places",
                   "layout": {"text-field": "{name}",
                              "text-font": {"stops": [[0, ["Imaginary Serif Italic"]], [5, ["DejaVu Sans Book"]]]}}})
    path = _vtpk_with_style(tmp_path / "labels.vtpk", labels)
    with caplog.at_level(logging.WARNING):
        layer = open_package_layer(path, cache_dir=tmp_path)
    assert layer.isValid()
    assert len(layer.renderer().styles()) == 2  # background + dots; the symbol layers are labels
    assert layer.labeling() is not None and len(layer.labeling().styles()) == 4
    font_records = [r for r in caplog.records if "font" in r.getMessage().lower()]
    assert len(font_records) == 1, [r.getMessage() for r in font_records]
    message = font_records[0].getMessage()
    assert "Nonexistent Grotesk Bold" in message and "Imaginary Serif Italic" in message
    assert "DejaVu Sans Book" not in message  # installed with QGIS on Debian


def test_font_names_are_read_from_every_text_font_form():
    style = {"layers": [
        {"layout": {"text-font": ["A Regular", "B Bold"]}},
        {"layout": {"text-font": {"stops": [[1, ["C Italic"]], [9, ["A Regular"]]]}}},
        {"layout": {"text-font": ["literal", ["D Light"]]}},
        {"layout": {"text-field": "x"}},
    ]}
    assert style_fonts(style) == ["A Regular", "B Bold", "C Italic", "D Light"]
    assert missing_fonts(style, families=["A", "C"]) == ["B Bold", "D Light"]


def test_vector_package_without_a_style_still_opens(tmp_path, qgis_new_project):
    path = tmp_path / "plain.vtpk"
    write_package("vtpk", path, wm_doc(tile=512, levels=2), [(0, 0, 0, mvt_gz({"roads": [{"k": 1}]}))],
                  resources={"sprites/sprite.json": b"{}"})
    layer = open_package_layer(path, cache_dir=tmp_path)
    assert layer.isValid() and layer.renderer() is not None


# -- conversions: once, reused, redone ----------------------------------------------------------------
def test_conversion_is_made_beside_the_package_and_reused_until_it_changes(tmp_path, no_cache_setting, monkeypatch,
                                                                              qgis_new_project):
    package = tmp_path / "states.tpk"
    shutil.copy(_package("tpkutils_states_filled.tpk"), package)
    conversions = []
    convert = layers.convert_package
    monkeypatch.setattr(layers, "convert_package", lambda *args, **kwargs: conversions.append(args[0]) or
                        convert(*args, **kwargs))

    first = prepare_layer_source(package)
    output = Path(first.converted)
    assert output == tmp_path / "states.qgis.gpkg" and not first.reused and conversions == [package]
    written = output.stat()
    sidecar = (tmp_path / "states.qgis.gpkg.json").read_bytes()

    second = prepare_layer_source(package)
    assert second.reused and second.converted == first.converted
    assert conversions == [package]  # no second conversion…
    again = output.stat()  # …and the very same file: a rewrite goes through a new file (new inode)
    assert (again.st_ino, again.st_mtime_ns, again.st_size) == (written.st_ino, written.st_mtime_ns, written.st_size)
    assert (tmp_path / "states.qgis.gpkg.json").read_bytes() == sidecar
    assert create_layer(second).isValid()

    later = package.stat().st_mtime_ns + 5_000_000_000
    os.utime(package, ns=(later, later))  # the package was replaced by a newer export
    third = prepare_layer_source(package)
    assert not third.reused and conversions == [package, package]
    assert output.stat().st_ino != written.st_ino


def test_packages_with_the_same_stem_get_their_own_conversion(tmp_path, no_cache_setting, qgis_new_project):
    tpk, tpkx = tmp_path / "area.tpk", tmp_path / "area.tpkx"
    shutil.copy(_package("tpkutils_states_filled.tpk"), tpk)
    shutil.copy(_package(USA), tpkx)
    first = prepare_layer_source(tpk, native=False)
    second = prepare_layer_source(tpkx, native=False)
    assert Path(first.converted) == tmp_path / "area.qgis.gpkg"
    assert Path(second.converted).parent == tmp_path and second.converted != first.converted
    assert prepare_layer_source(tpk, native=False).reused and prepare_layer_source(tpkx, native=False).reused
    assert create_layer(first).extent() != create_layer(second).extent()


def test_conversion_is_redone_when_the_converter_changes(tmp_path, monkeypatch, qgis_new_project):
    first = prepare_layer_source(_package("geotools_sample_v1.tpk"), cache_dir=tmp_path)
    assert prepare_layer_source(_package("geotools_sample_v1.tpk"), cache_dir=tmp_path).reused
    monkeypatch.setattr(layers, "converter_version", lambda: "a newer converter")
    again = prepare_layer_source(_package("geotools_sample_v1.tpk"), cache_dir=tmp_path)
    assert not again.reused and again.converted == first.converted


def test_cache_folder_setting_is_used(tmp_path, qgis_new_project):
    before = settings.cache_folder()
    _set_cache_folder(str(tmp_path / "cache"))
    try:
        source = prepare_layer_source(_package("tpkutils_alt_root_name.tpk"))
    finally:
        _set_cache_folder(before)
    output = Path(source.converted)
    assert output.parent == tmp_path / "cache"
    assert output.name.startswith("tpkutils_alt_root_name-") and output.name.endswith(".qgis.gpkg")
    assert (tmp_path / "cache" / (output.name + ".json")).is_file()


def test_unwritable_package_folder_falls_back_to_the_qgis_profile(tmp_path, monkeypatch, no_cache_setting,
                                                                   qgis_new_project):
    package = tmp_path / "readonly" / "alt.tpk"
    package.parent.mkdir()
    shutil.copy(_package("tpkutils_alt_root_name.tpk"), package)
    monkeypatch.setattr(layers, "_writable", lambda folder: False)  # root ignores chmod; say it
    monkeypatch.setattr(layers, "profile_cache_dir", lambda: tmp_path / "profile" / "converted")
    source = prepare_layer_source(package)
    assert Path(source.converted).parent == tmp_path / "profile" / "converted"
    assert list(package.parent.iterdir()) == [package]
    assert create_layer(source).isValid()


def test_an_explicit_cache_folder_wins_over_an_earlier_conversion_elsewhere(tmp_path, monkeypatch,
                                                                           no_cache_setting, qgis_new_project):
    monkeypatch.setattr(layers, "_writable", lambda folder: False)
    monkeypatch.setattr(layers, "profile_cache_dir", lambda: tmp_path / "profile")
    in_profile = prepare_layer_source(_package("geotools_sample_v1.tpk"))
    assert Path(in_profile.converted).parent == tmp_path / "profile"
    chosen = prepare_layer_source(_package("geotools_sample_v1.tpk"), cache_dir=tmp_path / "chosen")
    assert Path(chosen.converted).parent == tmp_path / "chosen" and not chosen.reused


def test_default_profile_cache_is_inside_the_qgis_profile():
    from qgis.core import QgsApplication

    profile = Path(QgsApplication.qgisSettingsDirPath())
    assert layers.profile_cache_dir() == profile / "arcgis_offline_tiles" / "converted"


# -- other schemes and bad input ---------------------------------------------------------------------
def test_esri_only_coordinate_system_is_kept(tmp_path, qgis_new_project):
    """NAD 1983 StatePlane New York Long Island FIPS 3104 (US feet) has only an ESRI code."""
    sr = {"wkid": 102718}
    res0 = 4000.0
    doc = {"name": "LongIsland", "spatialReference": sr,
           "tileInfo": {"rows": 256, "cols": 256, "dpi": 96, "format": "PNG", "compressionQuality": 0,
                        "origin": {"x": 900000.0, "y": 400000.0}, "spatialReference": sr,
                        "lods": [{"level": i, "resolution": res0 / 2 ** i, "scale": res0 / 2 ** i * 96 * 12}
                                 for i in range(4)]},
           "fullExtent": {"xmin": 900000.0, "ymin": -624000.0, "xmax": 1924000.0, "ymax": 400000.0,
                          "spatialReference": sr}}
    tiles = [(level, r, c, png(256, 256, seed=level * 16 + r * 4 + c)) for level in range(3)
             for r in range(2 ** level) for c in range(2 ** level)]
    path = tmp_path / "li.tpk"
    write_package("tpk", path, doc, tiles, title="Long Island")
    layer = open_package_layer(path, cache_dir=tmp_path)
    assert layer.isValid()
    assert layer.crs().authid() == "ESRI:102718"
    assert layer.name() == "Long Island"
    extent = layer.extent()
    assert abs(extent.xMinimum() - 900000.0) < 2 * 1000 and abs(extent.yMaximum() - 400000.0) < 2 * 1000
    image = render(layer, QgsRectangle(900000.0, -624000.0, 1924000.0, 400000.0), 256, 256)
    assert coverage(image)[0] > 0.9


# A vector package in ETRS-TM35FIN (EPSG:3067, like Esri Finland's vector basemaps): 512-px tiles from
# an origin of its own, nothing like the Web Mercator XYZ grid.  ESRI:102718 (US feet) has no EPSG code.
HELSINKI = {"xmin": 370000.0, "ymin": 6660000.0, "xmax": 400000.0, "ymax": 6690000.0}
OFF_GRID_CRS = {3067: "EPSG:3067", 102718: "ESRI:102718"}


def _off_grid_vtpk(path: Path, wkid: int = 3067) -> Path:
    sr = {"wkid": wkid, "latestWkid": wkid}
    origin_x, origin_y, res0 = -548576.0, 8388608.0, 8192.0
    doc = {"name": "Helsinki", "spatialReference": sr,
           "tileInfo": {"rows": 512, "cols": 512, "dpi": 96, "format": "pbf", "spatialReference": sr,
                        "origin": {"x": origin_x, "y": origin_y},
                        "lods": [{"level": z, "resolution": res0 / 2 ** z, "scale": res0 / 2 ** z * 96 / 0.0254}
                                 for z in range(8)]}}
    x, y = (HELSINKI["xmin"] + HELSINKI["xmax"]) / 2, (HELSINKI["ymin"] + HELSINKI["ymax"]) / 2
    tiles = []
    for z in range(6):
        span = 512 * res0 / 2 ** z
        tiles.append((z, int((origin_y - y) // span), int((x - origin_x) // span),
                      mvt_gz({"buildings": [{"id": i} for i in range(8)]})))
    write_package("vtpk", path, doc, tiles, extent=dict(HELSINKI, spatialReference=sr), title="Helsinki")
    return path


@pytest.mark.parametrize("wkid", sorted(OFF_GRID_CRS))
def test_vector_package_crs_comes_from_its_tiling_scheme(wkid, tmp_path):
    facts = layers.describe_package(_off_grid_vtpk(tmp_path / "helsinki.vtpk", wkid))
    assert facts["vector"] and facts["crs_authid"] == OFF_GRID_CRS[wkid]
    assert facts["extent"] == (HELSINKI["xmin"], HELSINKI["ymin"], HELSINKI["xmax"], HELSINKI["ymax"])


@pytest.mark.skipif(layers.native_vtpk_supported(),
                    reason="QGIS >= 3.32 opens the package natively (test_off_grid_vtpk_opens_natively_in_its_crs)")
def test_off_grid_vtpk_is_refused_where_qgis_cannot_open_it(tmp_path):
    path = _off_grid_vtpk(tmp_path / "helsinki.vtpk")
    with pytest.raises(PackageError) as caught:
        prepare_layer_source(path, cache_dir=tmp_path)
    message = error_message(caught.value)  # as the user reads it
    running = Qgis.QGIS_VERSION.split("-", 1)[0]
    assert message.startswith(f"The vector tile package {path} cannot be opened in QGIS {running}: ")
    assert "EPSG:3067" in message and message.endswith("Open it in QGIS 3.32 or newer.")
    assert list(tmp_path.iterdir()) == [path]  # no conversion attempted beside it


def test_off_grid_vtpk_is_refused_when_it_cannot_open_natively(tmp_path):
    """A conversion asked for, or an extracted folder: refused, with where it opens instead."""
    path = _off_grid_vtpk(tmp_path / "helsinki.vtpk")
    folder = _extracted(path, tmp_path / "helsinki")
    next_step = ("Open the original .vtpk file as it was exported." if layers.native_vtpk_supported()
                 else "Open it in QGIS 3.32 or newer.")
    for call in (lambda: prepare_layer_source(path, cache_dir=tmp_path, native=False),
                 lambda: prepare_layer_source(folder, cache_dir=tmp_path)):
        with pytest.raises(PackageError) as caught:
            call()
        message = error_message(caught.value)
        assert "EPSG:3067" in message and message.endswith(next_step), message
    assert sorted(p.name for p in tmp_path.iterdir()) == ["helsinki", "helsinki.vtpk"]


def _extracted(package: Path, folder: Path) -> Path:
    with zipfile.ZipFile(package) as zf:
        zf.extractall(folder)
    return folder


@pytest.mark.skipif(not layers.native_vtpk_supported(),
                    reason="only QGIS >= 3.32 opens a vtpk natively (3.26-3.30 drop tiles, qgis/QGIS#52872); "
                           "run it on QGIS 3.40 (make test-qgis340)")
@pytest.mark.parametrize("wkid", sorted(OFF_GRID_CRS))
def test_off_grid_vtpk_opens_natively_in_its_crs(wkid, tmp_path, qgis_new_project):
    source = prepare_layer_source(_off_grid_vtpk(tmp_path / "helsinki.vtpk", wkid), cache_dir=tmp_path)
    layer = create_layer(source)
    assert source.native and layer.isValid() and isinstance(layer, QgsVectorTileLayer)
    assert layer.crs().authid() == OFF_GRID_CRS[wkid]  # was forced to EPSG:3857: drawn in the wrong place
    extent = layer.extent()
    got = (extent.xMinimum(), extent.yMinimum(), extent.xMaximum(), extent.yMaximum())
    assert got == pytest.approx(tuple(HELSINKI.values()), abs=1.0)  # the package's fullExtent, in metres
    assert layer.metadata().crs().authid() == OFF_GRID_CRS[wkid]


def test_text_file_renamed_tpk_is_refused_with_a_clear_message(tmp_path):
    fake = tmp_path / "notes.tpk"
    fake.write_text("just some notes, not a tile package\n")
    with pytest.raises(PackageError) as caught:
        prepare_layer_source(fake, cache_dir=tmp_path)
    assert "notes.tpk" in caught.value.user_message
    assert list(tmp_path.iterdir()) == [fake]  # nothing half-written beside it


def test_missing_file_is_refused(tmp_path):
    with pytest.raises(PackageError, match="does not exist"):
        prepare_layer_source(tmp_path / "gone.vtpk", cache_dir=tmp_path)


def test_cancel_stops_the_conversion_and_leaves_nothing(tmp_path):
    from plugin.core.errors import CancelledError

    calls = []

    def cancel() -> bool:
        calls.append(1)
        return len(calls) > 2  # let it start converting, then cancel

    with pytest.raises(CancelledError):
        prepare_layer_source(_package("spatialillusions_TPK2GPKG_wgs84.tpkx"), cache_dir=tmp_path,
                             cancel=cancel, native=False)
    assert list(tmp_path.iterdir()) == []


def test_progress_goes_from_zero_to_one(tmp_path):
    seen: list[float] = []
    prepare_layer_source(_package("tpkutils_states_filled.tpk"), cache_dir=tmp_path,
                         progress=lambda fraction, _message: seen.append(fraction))
    assert seen[0] == 0.0 and seen[-1] == 1.0 and seen == sorted(seen)
