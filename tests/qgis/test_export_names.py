"""The dock and Processing name an export's files alike: the same request through the exports
manager (what the dock's Export button starts) and through ``exporttiles`` leaves the same file names."""
from __future__ import annotations

from pathlib import Path

import pytest
from qgis.core import QgsFeature, QgsGeometry, QgsProcessingFeedback, QgsVectorLayer

from tests.qgis.exports_helpers import (
    TRIANGLE,
    jobs_env_fixture,  # noqa: F401 - the exports_env fixture
    make_request,
    wait_state,
)

LEVELS = (0, 1, 2, 3)


@pytest.fixture(scope="module")
def provider(processing_provider):
    return processing_provider


def _area_layer() -> QgsVectorLayer:
    layer = QgsVectorLayer("Polygon?crs=EPSG:3857", "area", "memory")
    feature = QgsFeature()
    feature.setGeometry(QgsGeometry.fromWkt(TRIANGLE))
    layer.dataProvider().addFeatures([feature])
    return layer


def _through_processing(url: str, out: Path, merge: bool, cache: bool) -> None:
    import processing

    processing.run("arcgisofflinetiles:exporttiles", {
        "SERVICE_URL": url, "AREA": _area_layer(), "LEVELS": ",".join(map(str, LEVELS)), "SPLIT": True,
        "MERGE": merge, "OUTPUT_KIND": 1 if cache else 0, "OUTPUT": str(out)}, feedback=QgsProcessingFeedback())


def _through_the_dock(exports_env, qtbot, url: str, out: Path, merge: bool, cache: bool) -> None:
    from plugin.core.tilecache import PACKAGE, TILE_CACHE
    from plugin.gui.exports import ExportState

    factory, _store = exports_env
    manager = factory()
    export_id = manager.start_export(make_request(url, out, levels=LEVELS, merge=merge, add_to_map=False,
                                               output_kind=TILE_CACHE if cache else PACKAGE))
    view = wait_state(qtbot, manager, export_id)
    assert view.state == ExportState.FINISHED, view.error


def _names(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


@pytest.mark.parametrize("service, limit, merge, cache", [
    (("World_Map", "MapServer"), None, False, False),  # one package
    (("World_Map", "MapServer"), 8, False, False),  # split: parts
    (("World_Map", "MapServer"), 8, True, False),  # split and merged into a GeoPackage
    (("World_Vector", "VectorTileServer"), 8, True, False),  # split and merged into MBTiles
    (("World_Map", "MapServer"), 8, True, True),  # split tile caches merged into one cache folder
], ids=["single", "parts", "merged-gpkg", "merged-mbtiles", "merged-cache"])
def test_dock_and_processing_give_the_same_file_names(provider, exports_env, emulator, qtbot, tmp_path, service,
                                                      limit, merge, cache):
    if limit is not None:
        emulator.configure("/".join(service), max_export_tiles=limit)
    url = emulator.service_url(*service)
    suffix = ".vtpk" if service[1] == "VectorTileServer" else ".tpkx"
    by_processing, by_dock = tmp_path / "processing", tmp_path / "dock"
    by_processing.mkdir()
    by_dock.mkdir()

    _through_processing(url, by_processing / f"field{suffix}", merge, cache)
    _through_the_dock(exports_env, qtbot, url, by_dock / f"field{suffix}", merge, cache)

    names = _names(by_dock)
    assert names == _names(by_processing)
    if cache:
        assert "field" in names and (by_dock / "field" / "conf.xml").is_file()  # the merged cache folder
        return
    if limit is None:
        assert names == [f"field{suffix}"]
    else:
        parts = [n for n in names if "_part" in n]
        assert len(parts) > 1 and all(n.startswith("field_part") and n.endswith(suffix) for n in parts)
    if merge:
        assert ("field.mbtiles" if suffix == ".vtpk" else "field.gpkg") in names


def test_neither_overwrites_an_earlier_export_and_processing_says_so(provider, exports_env, emulator, qtbot, tmp_path):
    """The rule both follow: a file of the export's name exists → ``name (2)``; never a silent overwrite."""
    import processing

    url = emulator.service_url("World_Map", "MapServer")
    by_processing, by_dock = tmp_path / "processing", tmp_path / "dock"
    for folder in (by_processing, by_dock):
        folder.mkdir()
        (folder / "field.tpkx").write_bytes(b"an earlier export")

    feedback = _WarningsFeedback()
    result = processing.run("arcgisofflinetiles:exporttiles", {
        "SERVICE_URL": url, "AREA": _area_layer(), "LEVELS": "0,1", "OUTPUT": str(by_processing / "field.tpkx")},
        feedback=feedback)
    _through_the_dock(exports_env, qtbot, url, by_dock / "field.tpkx", False, False)

    assert _names(by_dock) == _names(by_processing) == ["field (2).tpkx", "field.tpkx"]
    assert result["OUTPUT"] == str(by_processing / "field (2).tpkx")
    assert all((folder / "field.tpkx").read_bytes() == b"an earlier export" for folder in (by_processing, by_dock))
    assert any("field (2).tpkx" in w and "field.tpkx" in w for w in feedback.warnings), feedback.warnings


class _WarningsFeedback(QgsProcessingFeedback):
    def __init__(self) -> None:
        super().__init__()
        self.warnings: list[str] = []

    def pushWarning(self, warning: str) -> None:
        self.warnings.append(warning)
        super().pushWarning(warning)
