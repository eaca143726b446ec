"""GeoPackage output: the contents box lies on the finest level's pixel grid (no sub-pixel shift)."""
from __future__ import annotations

import sqlite3

from plugin.core.packages import convert_package
from plugin.core.packages.convert import _snap_to_pixels
from tests.conftest import require_shared


def test_snap_grows_the_box_to_whole_pixels_from_the_origin():
    box = _snap_to_pixels((10.4, -20.6, 30.2, 40.7), origin_x=0.0, origin_y=100.0, resolution=1.0)
    assert box == (10.0, -21.0, 31.0, 41.0)
    exact = _snap_to_pixels((10.0, -21.0, 31.0, 41.0), origin_x=0.0, origin_y=100.0, resolution=1.0)
    assert exact == (10.0, -21.0, 31.0, 41.0)


def test_real_tpk_converts_to_a_gpkg_whose_contents_are_pixel_aligned(tmp_path):
    package = require_shared() / "packages" / "tpkutils_states_filled.tpk"
    out = tmp_path / "states.gpkg"
    convert_package(package, out, "gpkg")
    with sqlite3.connect(out) as db:
        xmin, ymin, xmax, ymax = db.execute("select min_x, min_y, max_x, max_y from gpkg_contents").fetchone()
        tms_xmin, _, _, tms_ymax = db.execute("select min_x, min_y, max_x, max_y from gpkg_tile_matrix_set").fetchone()
        finest = db.execute("select min(pixel_x_size) from gpkg_tile_matrix").fetchone()[0]
    for offset in ((xmin - tms_xmin) / finest, (xmax - tms_xmin) / finest,
                   (tms_ymax - ymin) / finest, (tms_ymax - ymax) / finest):
        assert abs(offset - round(offset)) < 1e-6
