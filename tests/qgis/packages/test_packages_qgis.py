"""Packages with the real consumers: tiles decode in Qt, outputs open in GDAL 3.6 and QGIS 3.22.

Every real package of ../shared/fixtures/real/packages is converted and opened; synthetic packages
cover what the real ones do not (512-px raster MBTiles, State Plane with non-halving levels, PNG8).
"""
from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
from osgeo import gdal
from qgis.core import QgsCoordinateReferenceSystem, QgsVectorTileLayer
from qgis.PyQt.QtCore import QBuffer, QByteArray, QIODevice
from qgis.PyQt.QtGui import QImage

from arcgis_emulator.writers import v2_bundle, write_package
from plugin.core.packages import convert_package, formats, mvt, open_package
from tests.conftest import REAL_FIXTURES, require_shared
from tests.unit.packages.helpers import png, stateplane_doc, tpkx_members, wm_doc, write_zip

gdal.UseExceptions()

NAMES = sorted(json.loads((REAL_FIXTURES / "expected.json").read_text())) if REAL_FIXTURES.is_dir() else [
    "(../shared absent)"]


def _path(name: str) -> Path:
    return require_shared() / "packages" / name


def _qimage(data: bytes) -> QImage:
    return QImage.fromData(QByteArray(data))


@pytest.mark.parametrize("name", NAMES)
def test_random_tiles_decode(name):
    rng = random.Random(name)
    with open_package(_path(name)) as pkg:
        tiles = list(pkg.iter_tiles())
        for tile in rng.sample(tiles, min(12, len(tiles))):
            if pkg.is_vector:
                layers = mvt.decode_layers(formats.inflate(tile.data))
                assert layers and all(layer.name for layer in layers)
                continue
            data = tile.data
            if formats.sniff(data) == "png-headless":
                assert _qimage(data).isNull()  # as stored, Qt cannot read it…
                data = formats.repair_png(data)  # …repaired, it can
            image = _qimage(data)
            assert not image.isNull(), (tile.level, tile.row, tile.col)
            assert (image.width(), image.height()) == (pkg.scheme.tile_cols, pkg.scheme.tile_rows)


def test_usa_repaired_pngs_decode_in_qt_and_gdal():
    with open_package(_path("esri_tilepackagespec_Usa.tpkx")) as pkg:
        for level in (0, 1):
            (tile,) = list(pkg.iter_tiles(level))
            fixed = formats.repair_png(tile.data)
            assert fixed == b"\x89PNG" + tile.data[:-4]
            with_surplus = b"\x89PNG" + tile.data  # signature only, surplus kept: strict decoders may balk
            image = _qimage(fixed)
            assert not image.isNull() and image.width() == 256
            gdal.FileFromMemBuffer("/vsimem/usa.png", fixed)
            try:
                ds = gdal.Open("/vsimem/usa.png")
                assert (ds.RasterXSize, ds.RasterYSize) == (256, 256)
                assert max(ds.GetRasterBand(b).ComputeRasterMinMax(False)[1] for b in range(1, ds.RasterCount + 1)) > 0
                ds = None
            finally:
                gdal.Unlink("/vsimem/usa.png")
            assert formats.is_valid_png(fixed) and not formats.is_valid_png(with_surplus)


def _tile_window(ds, bounds) -> tuple[int, int, int, int]:
    gt = ds.GetGeoTransform()
    xmin, ymin, xmax, ymax = bounds
    x0 = max(0, int((xmin - gt[0]) / gt[1]))
    y0 = max(0, int((ymax - gt[3]) / gt[5]))
    x1 = min(ds.RasterXSize, round((xmax - gt[0]) / gt[1]))
    y1 = min(ds.RasterYSize, round((ymin - gt[3]) / gt[5]))
    return x0, y0, max(1, x1 - x0), max(1, y1 - y0)


def _has_pixels(ds, window) -> bool:
    x, y, w, h = window
    for band in range(1, ds.RasterCount + 1):
        data = ds.GetRasterBand(band).ReadRaster(x, y, w, h)
        if any(data):
            return True
    return False


@pytest.mark.parametrize("name", NAMES)
def test_conversion_opens_in_gdal_and_qgis(name, tmp_path):
    src = _path(name)
    with open_package(src) as pkg:
        vector = pkg.is_vector
        top = max(pkg.levels)
        row, col = pkg.largest_tile(top)  # the one most surely not blank
        bounds = pkg.scheme.tile_bounds(top, row, col)
        code = pkg.scheme.spatial_ref.code
        total = pkg.tile_count
    crs_wkt = QgsCoordinateReferenceSystem(f"EPSG:{code}").toWkt() if code else None
    out = tmp_path / "out.auto"
    report = convert_package(src, out, crs_wkt=crs_wkt)
    assert report.tiles_written == total
    final = out.with_suffix(".mbtiles" if report.format == "mbtiles" else ".gpkg")
    out.rename(final)  # GDAL's drivers go by extension
    if vector:
        ds = gdal.OpenEx(str(final), gdal.OF_VECTOR)
        names = {ds.GetLayer(i).GetName() for i in range(ds.GetLayerCount())}
        assert names == {"Dodge_city_planet_osm_polygon_polygons", "Dodge_city_planet_osm_line_lines",
                         "Dodge_city_planet_osm_point_points"}
        assert sum(ds.GetLayer(i).GetFeatureCount() for i in range(ds.GetLayerCount())) > 0
        ds = None
        layer = QgsVectorTileLayer(f"type=mbtiles&url={final}", "converted")
        assert layer.isValid()
        assert layer.sourceMinZoom() == 0 and layer.sourceMaxZoom() == 11
        assert layer.crs().authid() == "EPSG:3857"
        return
    ds = gdal.OpenEx(str(final), gdal.OF_RASTER)
    assert ds is not None and ds.RasterCount in (3, 4)
    srs = ds.GetSpatialRef()
    assert srs is not None and srs.GetAuthorityCode(None) == str(code)
    gt = ds.GetGeoTransform()
    res = None
    with open_package(src) as pkg:
        res = pkg.scheme.lod(top).resolution
    assert gt[1] == pytest.approx(res, rel=1e-6)
    with open_package(src) as pkg:
        cover = pkg.coverage()
    # raster size: the data extent at the finest level, never more than the tiles' coverage
    assert 0 < ds.RasterXSize <= (cover.xmax - cover.xmin) / res + 2
    assert 0 < ds.RasterYSize <= (cover.ymax - cover.ymin) / res + 2
    assert _has_pixels(ds, _tile_window(ds, bounds)), "no pixels where the package has a tile"
    ds = None


def test_512px_raster_mbtiles_in_gdal(tmp_path):
    tiles = [(0, 0, 0, png(512, 512, seed=1)), (1, 0, 1, png(512, 512, seed=2)), (1, 1, 0, png(512, 512, seed=3))]
    src = tmp_path / "big.tpkx"
    write_package("tpkx", src, wm_doc(tile=512), tiles)
    out = tmp_path / "big.mbtiles"
    report = convert_package(src, out)
    assert report.zooms == {0: 0, 1: 1}
    ds = gdal.Open(str(out))
    assert ds.GetRasterBand(1).GetBlockSize() == [512, 512]
    assert ds.GetGeoTransform()[1] == pytest.approx(78271.516964 / 2, rel=1e-6)
    assert ds.RasterXSize == ds.RasterYSize == 1024
    assert _has_pixels(ds, (512, 0, 512, 512))


def test_state_plane_geopackage_with_non_halving_levels(tmp_path):
    doc = stateplane_doc([1000.0, 333.3333333333333, 100.0])
    tiles = {(0, 0): png(256, 256, seed=1), (3, 4): png(256, 256, seed=2)}
    members = tpkx_members(doc, {f"L0{i}/R0000C0000.bundle": v2_bundle(tiles) for i in range(3)})
    src = write_zip(tmp_path / "sp.tpkx", members)
    out = tmp_path / "sp.gpkg"
    convert_package(src, out, crs_wkt=QgsCoordinateReferenceSystem("EPSG:2234").toWkt())
    ds = gdal.Open(str(out))
    assert ds.GetSpatialRef().GetAuthorityCode(None) == "2234"
    assert ds.GetGeoTransform()[1] == pytest.approx(100.0)
    assert ds.GetRasterBand(1).GetOverviewCount() == 2


def _qt_palette_expander(data: bytes) -> bytes:
    image = _qimage(data).convertToFormat(QImage.Format.Format_ARGB32)
    buffer = QBuffer()
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    image.save(buffer, "PNG")
    return bytes(buffer.data())


def test_png8_expansion_hook_with_qt(tmp_path):
    with open_package(_path("tpkutils_states_filled.tpk")) as pkg:
        paletted = sum(formats.png_color_type(t.data) == 3 for t in pkg.iter_tiles())
    out = tmp_path / "states.mbtiles"
    report = convert_package(_path("tpkutils_states_filled.tpk"), out, expand_palette=True,
                             palette_expander=_qt_palette_expander)
    assert report.palette_expanded == paletted
    ds = gdal.Open(str(out))
    assert ds.RasterCount == 4


def test_geopackages_pass_gdal_validator(tmp_path):
    """GDAL's own GeoPackage validator (strict, extra checks, warnings as errors)."""
    validate = pytest.importorskip("osgeo_utils.samples.validate_gpkg", reason="GDAL's validate_gpkg sample absent")
    doc = stateplane_doc([1000.0, 333.3333333333333, 100.0])
    tiles = {(0, 0): png(256, 256, seed=1), (3, 4): png(256, 256, seed=2)}
    members = tpkx_members(doc, {f"L0{i}/R0000C0000.bundle": v2_bundle(tiles) for i in range(3)})
    outputs = [tmp_path / "sp.gpkg"]
    convert_package(write_zip(tmp_path / "sp.tpkx", members), outputs[0])
    if REAL_FIXTURES.is_dir():
        for name in ("spatialillusions_TPK2GPKG_wgs84.tpkx", "tpkutils_states_filled.tpk"):
            outputs.append(tmp_path / f"{name}.gpkg")
            convert_package(REAL_FIXTURES / "packages" / name, outputs[-1], "gpkg")
    for path in outputs:
        validate.check(str(path), extra_checks=True, warning_as_error=True)  # raises on any finding


# -- sparse vector packages ------------------------------------------------------------------------
def _sparse_world_export(tmp_path: Path) -> Path:
    """A vtpk as the emulator exports its sparse Natural Earth service: levels 0-6, the Americas."""
    from arcgis_emulator.samples import load_sample_services

    service = load_sample_services()["World_Vector/VectorTileServer"]
    half = 20037508.342787
    box = (-half * 0.95, -half * 0.35, -half * 0.25, half * 0.45)  # the Americas, Caribbean included
    extent = {"xmin": box[0], "ymin": box[1], "xmax": box[2], "ymax": box[3],
              "spatialReference": {"wkid": 102100, "latestWkid": 3857}}
    tiles = []
    for z in range(7):
        span = 2 * half / 2 ** z
        for r in range(int((half - box[3]) // span), int((half - box[1]) // span) + 1):
            for c in range(int((box[0] + half) // span), int((box[2] + half) // span) + 1):
                data = service.get_tile(z, r, c)
                if data is not None:
                    tiles.append((z, r, c, data))
    src = tmp_path / "americas.vtpk"
    write_package("vtpk", src, service.document, tiles, resources=service.resources, extent=extent)
    return src


def _render_tile(path: Path, zoom: int, row: int, col: int) -> QImage:
    from qgis.core import (
        QgsFillSymbol,
        QgsMapRendererSequentialJob,
        QgsMapSettings,
        QgsRectangle,
        QgsVectorTileBasicRenderer,
        QgsVectorTileBasicRendererStyle,
        QgsWkbTypes,
    )
    from qgis.PyQt.QtCore import QSize
    from qgis.PyQt.QtGui import QColor

    layer = QgsVectorTileLayer(f"type=mbtiles&url={path}", "sparse")
    assert layer.isValid()
    style = QgsVectorTileBasicRendererStyle("land", "countries", QgsWkbTypes.GeometryType.PolygonGeometry)
    style.setSymbol(QgsFillSymbol.createSimple({"color": "255,0,0", "outline_style": "no"}))
    renderer = QgsVectorTileBasicRenderer()
    renderer.setStyles([style])
    layer.setRenderer(renderer)
    half = 20037508.342787
    span = 2 * half / 2 ** zoom
    settings = QgsMapSettings()
    settings.setLayers([layer])
    settings.setDestinationCrs(layer.crs())
    # one 512-px tile of the package over 512 px: QGIS reads that tile's zoom
    settings.setExtent(QgsRectangle(-half + col * span, half - (row + 1) * span, -half + (col + 1) * span,
                                    half - row * span))
    settings.setOutputSize(QSize(512, 512))
    settings.setOutputDpi(96)
    settings.setBackgroundColor(QColor(255, 255, 255))
    job = QgsMapRendererSequentialJob(settings)
    job.start()
    job.waitForFinished()
    return job.renderedImage()


def _red_share(image: QImage) -> float:
    red = total = 0
    for y in range(0, image.height(), 8):
        for x in range(0, image.width(), 8):
            colour = image.pixelColor(x, y)
            total += 1
            red += colour.red() > 200 and colour.green() < 60 and colour.blue() < 60
    return red / total


def test_sparse_export_has_no_holes_in_qgis_and_gdal(tmp_path):
    """The emulator's sparse Natural Earth export: converted, QGIS 3.22 draws land where only a
    stand-in is (the places a converted file used to leave empty), through the MBTiles tiles view."""
    from plugin.core.packages.overzoom import decode_tile
    from tests.unit.packages.helpers import ancestor_places, assert_no_holes, must_draw

    src = _sparse_world_export(tmp_path)
    out = tmp_path / "americas.mbtiles"
    report = convert_package(src, out)
    counts = assert_no_holes(src, out)
    assert report.stand_ins == counts["filled"] > 100
    holes = tmp_path / "holes.mbtiles"
    convert_package(src, holes, stand_ins=False)
    # a stand-in fully inside a country (a leaf's polygon covers it): QGIS draws it red all over
    with open_package(src) as pkg:
        places = ancestor_places(pkg)
        target = None
        for place, leaf in sorted(places.items(), key=lambda item: -item[0][0]):
            layers = [layer for layer in decode_tile(pkg.tile(*leaf)) if layer.before.find(b"countries") >= 0]
            if must_draw(layers, leaf, place):
                target = place
                break
    assert target is not None
    filled = _red_share(_render_tile(out, *target))
    empty = _red_share(_render_tile(holes, *target))
    assert filled > 0.2 and empty == 0.0, (target, filled, empty)
    # GDAL's own MVT decoder reads the stand-ins at that zoom: features there, within the tile + buffer
    zoom, row, col = target
    half = 20037508.342787
    span = 2 * half / 2 ** zoom
    x0, y1 = -half + col * span, half - row * span
    ds = gdal.OpenEx(str(out), gdal.OF_VECTOR, open_options=[f"ZOOM_LEVEL={zoom}"])
    layer = ds.GetLayerByName("countries")
    layer.SetSpatialFilterRect(x0 + span / 4, y1 - 3 * span / 4, x0 + 3 * span / 4, y1 - span / 4)
    envelopes = [feature.GetGeometryRef().GetEnvelope() for feature in layer]
    assert envelopes
    slack = span / 64 + span / 512  # the stand-in's buffer and a little rounding
    for xmin, xmax, ymin, ymax in envelopes:
        assert x0 - slack <= xmin and xmax <= x0 + span + slack and y1 - span - slack <= ymin and ymax <= y1 + slack
    ds = None


def _render_styled(path: Path, resources, zoom: int, row: int, col: int) -> QImage:
    """One tile of ``path`` drawn with the package's own style, over white, as a user sees it."""
    from qgis.core import QgsMapRendererSequentialJob, QgsMapSettings, QgsRectangle
    from qgis.PyQt.QtCore import QSize
    from qgis.PyQt.QtGui import QColor

    from plugin.qgis_glue.style import apply_vector_style

    layer = QgsVectorTileLayer(f"type=mbtiles&url={path}", "styled")
    assert layer.isValid()
    apply_vector_style(layer, resources)
    half = 20037508.342787
    span = 2 * half / 2 ** zoom
    settings = QgsMapSettings()
    settings.setLayers([layer])
    settings.setDestinationCrs(layer.crs())
    settings.setExtent(QgsRectangle(-half + col * span, half - (row + 1) * span, -half + (col + 1) * span,
                                    half - row * span))
    settings.setOutputSize(QSize(512, 512))
    settings.setOutputDpi(96)
    settings.setBackgroundColor(QColor(255, 255, 255))
    job = QgsMapRendererSequentialJob(settings)
    job.start()
    job.waitForFinished()
    return job.renderedImage()


def _share_of(image: QImage, colour) -> float:
    hits = total = 0
    for y in range(0, image.height(), 8):
        for x in range(0, image.width(), 8):
            pixel = image.pixelColor(x, y)
            total += 1
            hits += abs(pixel.red() - colour.red()) + abs(pixel.green() - colour.green()) + \
                abs(pixel.blue() - colour.blue()) < 12
    return hits / total


def test_sparse_export_draws_the_background_over_the_sea_in_qgis(tmp_path):
    """QGIS 3.22 draws a style's background layer only where the MBTiles has a tile: over open sea
    (places the tile map marks absent, and places under a leaf that has nothing there) the converted
    sparse export draws the background colour, as ArcGIS and MapLibre do, and not white."""
    from qgis.core import Qgis
    from qgis.PyQt.QtGui import QColor

    from plugin.core.packages.overzoom import decode_tile
    from plugin.qgis_glue.style import read_style_resources
    from tests.unit.packages.helpers import ancestor_places, must_draw

    src = _sparse_world_export(tmp_path)
    out, bare = tmp_path / "americas.mbtiles", tmp_path / "no_background.mbtiles"
    report = convert_package(src, out)
    convert_package(src, bare, background_limit=0)
    assert report.background_tiles > 0
    with open_package(src) as pkg:
        resources = read_style_resources(pkg)
        background = next(gl for gl in resources.style["layers"] if gl["type"] == "background")
        colour = QColor(background["paint"]["background-color"])
        ext = pkg.data_extent()
        half = 20037508.342787

        def inside(zoom, row, col):  # the whole tile inside the export's area
            span = 2 * half / 2 ** zoom
            return ext.xmin <= -half + col * span and -half + (col + 1) * span <= ext.xmax and \
                ext.ymin <= half - (row + 1) * span and half - row * span <= ext.ymax

        deepest = max(pkg.levels)
        absent = next((z, r, c) for z in range(deepest, 2, -1) for r in range(2 ** z) for c in range(2 ** z)
                      if inside(z, r, c) and pkg.tilemap_status(z, r, c) == "absent")
        under_empty_leaf = None
        for place, leaf in sorted(ancestor_places(pkg).items(), key=lambda item: -item[0][0]):
            if inside(*place) and not must_draw(decode_tile(pkg.tile(*leaf)), leaf, place):
                under_empty_leaf = place
                break
    assert under_empty_leaf is not None
    for place in (absent, under_empty_leaf):
        drawn = _share_of(_render_styled(out, resources, *place), colour)
        assert drawn > 0.95, (place, drawn)
        if Qgis.QGIS_VERSION_INT < 33200:  # 3.32+ draws the background over the whole map by itself
            missing = _share_of(_render_styled(bare, resources, *place), colour)
            assert missing == 0.0, (place, missing)
