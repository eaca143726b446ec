"""The export request as a core value: its area travels as Esri JSON, and files of earlier versions,
which stored the area as WKT, still read."""
from __future__ import annotations

import json

import pytest

from plugin.core.area import Area
from plugin.core.errors import InvalidRequestError
from plugin.core.request import ExportRequest, area_from_wkt

URL = "http://h/arcgis/rest/services/A/MapServer"
HOLED = Area.from_polygons([[[(0, 0), (10, 0), (10, 10), (0, 10)], [(2, 2), (2, 4), (4, 4), (4, 2)]],
                            [[(20, 0), (30, 0), (25, 8)]]])


def _round_trip(request: ExportRequest) -> ExportRequest:
    return ExportRequest.from_dict(json.loads(json.dumps(request.to_dict())))


@pytest.mark.parametrize("area", [Area.from_extent(-5, -6, 7, 8), HOLED], ids=["rectangle", "polygons"])
def test_a_request_round_trips_through_json_with_its_area(area):
    request = ExportRequest(URL, "cfg", area, (3, 1, 2), "tpkx", merge=False, output_path="/d/x.tpkx")
    doc = request.to_dict()
    assert "area_wkt" not in doc and ("rings" in doc["area"] or "xmin" in doc["area"])  # Esri JSON
    again = _round_trip(request)
    assert again == request and again.area.is_rectangle == area.is_rectangle and again.area.area == area.area


def test_a_request_file_of_an_earlier_version_reads_its_wkt_area():
    old = {"service_url": URL, "authcfg": "", "levels": [2, 1], "fmt": None, "output_path": "/d/x.tpkx",
           "area_wkt": "MultiPolygon (((0 0, 10 0, 10 10, 0 10, 0 0),(2 2, 2 4, 4 4, 4 2, 2 2)),"
                       "((20 0, 30 0, 25 8, 20 0)))", "area_is_rectangle": False, "retired_option": 1}
    request = ExportRequest.from_dict(old)
    assert request.levels == (1, 2) and request.area.area == pytest.approx(HOLED.area)
    assert request.area.contains_point(25, 3) and not request.area.contains_point(3, 3)  # the hole stays
    assert _round_trip(request) == request  # written again in the new form


def test_a_wkt_extent_is_its_box_and_a_cut_extent_two_boxes():
    assert area_from_wkt("Polygon ((1 2, 5 2, 5 9, 1 9, 1 2))", True) == Area.from_extent(1, 2, 5, 9)
    cut = area_from_wkt("MultiPolygon (((170 0, 180 0, 180 5, 170 5, 170 0)),((-180 0, -175 0, -175 5, -180 5,"
                        " -180 0)))", True)
    assert cut.bbox == (-180, 0, 180, 5) and cut.area == pytest.approx(75)


@pytest.mark.parametrize("wkt", ["PolygonZ ((0 0 1, 4 0 1, 0 4 1, 0 0 1))", "POLYGON((0 0,4 0,0 4,0 0))",
                                 "polygon m ((0 0 9, 4 0 9, 0 4 9, 0 0 9))", "Polygon ((0 0, 4e0 0, 0 4.0, 0 0))"])
def test_wkt_spellings_qgis_writes_are_read(wkt):
    assert area_from_wkt(wkt).area == pytest.approx(8)


@pytest.mark.parametrize("wkt", ["", "LineString (0 0, 1 1)", "Polygon EMPTY", "Polygon ((0 0, 1 1, 0 1, 0 0)",
                                 "Polygon ((0 0, 1 1, 0 1, 0 0)))", "Polygon ((0 0, 1 x, 0 1, 0 0))",
                                 "Polygon ((0 0, 1 0, 2 0, 0 0))", "Polygon (0 0, 1 0, 0 1, 0 0)",
                                 "Polygon ((0 0, 1 0, 0 1, 0 0)) trailing", "(" * 100_000])
def test_damaged_wkt_is_refused_clearly(wkt):
    with pytest.raises(InvalidRequestError, match="stored area|polygon|area"):
        area_from_wkt(wkt)


def test_a_request_without_an_area_is_refused():
    with pytest.raises(ValueError):
        ExportRequest.from_dict({"service_url": URL, "authcfg": "", "levels": [1], "fmt": None})
