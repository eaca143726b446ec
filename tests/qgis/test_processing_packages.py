"""Processing: packageinfo and convertpackage on real packages, merges, bad input, cancel, open output."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from osgeo import gdal
from qgis.core import (
    QgsApplication,
    QgsProcessingException,
    QgsProcessingFeedback,
    QgsProcessingOutputLayerDefinition,
    QgsProject,
    QgsRasterLayer,
    QgsVectorTileLayer,
)

from arcgis_emulator.writers import write_package
from plugin.processing.algorithms.convert_package import ConvertPackageAlgorithm
from plugin.processing.algorithms.package_info import PackageInfoAlgorithm
from plugin.processing.provider import algorithm_classes
from tests.conftest import REAL_FIXTURES, require_shared
from tests.qgis.test_qgis_process import deployed_profile, run_qgis_process  # noqa: F401 - fixture
from tests.unit.packages.helpers import png, wm_doc

EXPECTED = json.loads((REAL_FIXTURES / "expected.json").read_text()) if REAL_FIXTURES.is_dir() else {}
NAMES = sorted(EXPECTED) or ["(../shared absent)"]
USA = "esri_tilepackagespec_Usa.tpkx"
DODGE = "esri_runtime_android_dodge_city.vtpk"


@pytest.fixture(scope="module")
def provider(processing_provider):
    return processing_provider


def _package(name: str) -> Path:
    return require_shared() / "packages" / name


def run(name: str, params: dict, feedback: QgsProcessingFeedback | None = None) -> dict:
    import processing

    return processing.run(f"arcgisofflinetiles:{name}", params, feedback=feedback or QgsProcessingFeedback())


def test_provider_offers_both_package_algorithms(provider):
    assert {PackageInfoAlgorithm, ConvertPackageAlgorithm} <= set(algorithm_classes())
    for algorithm_id in ("arcgisofflinetiles:packageinfo", "arcgisofflinetiles:convertpackage"):
        algorithm = QgsApplication.processingRegistry().algorithmById(algorithm_id)
        assert algorithm is not None
        assert algorithm.shortHelpString() and algorithm.group() == "Tile packages"
        copy = algorithm.createInstance()
        assert type(copy) is type(algorithm) and copy is not algorithm


# -- packageinfo -------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", NAMES)
def test_packageinfo_json_matches_the_ground_truth(name, provider, tmp_path):
    package = _package(name)  # first: skips when ../shared is absent (EXPECTED is empty then)
    expected = EXPECTED[name]
    out = tmp_path / "info.json"
    result = run("packageinfo", {"INPUT": str(package), "OUTPUT": str(out)})
    doc = json.loads(out.read_text(encoding="utf-8"))

    levels = {str(entry["level"]): entry for entry in doc["levels"]}
    assert set(levels) == set(expected["levels"])
    for level, truth in expected["levels"].items():
        assert levels[level]["tiles"] == truth["tiles"]
        assert levels[level]["row_range"] == truth["row_range"]
        assert levels[level]["col_range"] == truth["col_range"]
    total = sum(expected["tiles_per_level"].values())
    assert doc["tile_count"] == total == result["TILE_COUNT"]
    assert result["LEVEL_COUNT"] == len(expected["levels"])
    assert result["MIN_LEVEL"] == min(map(int, expected["levels"]))
    assert result["MAX_LEVEL"] == max(map(int, expected["levels"]))
    assert doc["scheme"] and doc["extent"] and doc["format"]["declared"] is not None
    assert result["VECTOR"] is name.endswith(".vtpk")
    assert result["HAS_STYLE"] is name.endswith(".vtpk")  # only the vtpk carries a style
    assert result["CRS"] == {3857: "EPSG:3857", 102100: "EPSG:3857", 4326: "EPSG:4326"}[expected["wkid"]]
    assert result["OUTPUT"] == str(out)


def test_packageinfo_without_an_output_file_still_returns_the_numbers(provider):
    result = run("packageinfo", {"INPUT": str(_package(USA))})
    assert result["TILE_COUNT"] == 144 and result["KIND"] == "tpkx"


# -- convertpackage ----------------------------------------------------------------------------------
def test_convert_one_raster_package_to_geopackage(provider, tmp_path):
    out = tmp_path / "usa.gpkg"
    result = run("convertpackage", {"INPUT": str(_package(USA)), "FORMAT": 2, "OUTPUT": str(out)})
    assert result["OUTPUT"] == str(out) and out.is_file()
    assert result["TILE_COUNT"] == 144 and result["DUPLICATES"] == 0 and result["FORMAT_USED"] == "gpkg"
    dataset = gdal.OpenEx(str(out))
    assert dataset.GetDriver().ShortName == "GPKG" and dataset.RasterCount == 4
    dataset = None
    assert QgsRasterLayer(str(out), "usa", "gdal").isValid()


def test_convert_raster_package_to_mbtiles_on_request(provider, tmp_path):
    out = tmp_path / "states.mbtiles"
    result = run("convertpackage", {"INPUT": str(_package("tpkutils_states_filled.tpk")), "FORMAT": 1,
                                    "OUTPUT": str(out)})
    assert result["FORMAT_USED"] == "mbtiles" and result["TILE_COUNT"] == 24
    assert gdal.OpenEx(str(out)).GetDriver().ShortName == "MBTiles"


def test_automatic_format_writes_vector_packages_as_mbtiles_whatever_the_extension(provider, tmp_path):
    result = run("convertpackage", {"INPUT": str(_package(DODGE)), "FORMAT": 2, "OUTPUT": str(tmp_path / "dodge.gpkg")})
    assert result["FORMAT_USED"] == "mbtiles"
    assert result["OUTPUT"] == str(tmp_path / "dodge.mbtiles")
    assert not (tmp_path / "dodge.gpkg").exists()
    assert QgsVectorTileLayer(f"type=mbtiles&url={result['OUTPUT']}", "dodge").isValid()


def test_merging_copies_of_one_package_keeps_each_tile_once(provider, tmp_path):
    copy = tmp_path / "usa_again.tpkx"
    shutil.copy(_package(USA), copy)
    out = tmp_path / "merged.gpkg"
    result = run("convertpackage", {"INPUT": str(_package(USA)), "ADDITIONAL_INPUTS": [str(copy)], "FORMAT": 0,
                                    "OUTPUT": str(out)})
    assert result["TILE_COUNT"] == 144 and result["DUPLICATES"] == 144


def test_merging_the_pieces_of_a_split_export(provider, tmp_path):
    """Three pieces of one export, overlapping on some rows: every tile once, first copy wins."""
    doc = wm_doc(levels=4)
    pieces = {"west": [(3, r, c) for r in range(8) for c in range(4)],
              "east": [(3, r, c) for r in range(8) for c in range(3, 8)],  # column 3 overlaps
              "low": [(2, r, c) for r in range(4) for c in range(4)]}
    paths = []
    for number, (name, addresses) in enumerate(pieces.items()):
        path = tmp_path / f"{name}.tpkx"
        write_package("tpkx", path, doc, [(z, r, c, png(256, 256, seed=number)) for z, r, c in addresses])
        paths.append(path)
    out = tmp_path / "whole.gpkg"
    result = run("convertpackage", {"INPUT": str(paths[0]), "ADDITIONAL_INPUTS": [str(p) for p in paths[1:]],
                                    "OUTPUT": str(out)})
    union = {a for addresses in pieces.values() for a in addresses}
    assert result["TILE_COUNT"] == len(union) == 32 + 40 - 8 + 16
    assert result["DUPLICATES"] == 8
    import sqlite3

    with sqlite3.connect(out) as db:
        table = db.execute("SELECT table_name FROM gpkg_contents").fetchone()[0]
        seeds = db.execute(f'SELECT tile_data FROM "{table}" WHERE zoom_level = 3 AND tile_column = 3').fetchall()
    assert len(seeds) == 8 and all(bytes(blob) == png(256, 256, seed=0) for (blob,) in seeds)  # west won


def test_merging_packages_of_different_schemes_is_refused(provider, tmp_path):
    with pytest.raises(QgsProcessingException, match="tiling schemes differ|cannot be merged"):
        run("convertpackage", {"INPUT": str(_package(USA)),
                               "ADDITIONAL_INPUTS": [str(_package("spatialillusions_TPK2GPKG_wgs84.tpkx"))],
                               "OUTPUT": str(tmp_path / "nope.gpkg")})
    assert not (tmp_path / "nope.gpkg").exists()


@pytest.mark.parametrize("algorithm", ["packageinfo", "convertpackage"])
def test_a_text_file_renamed_tpk_is_refused_with_a_clear_message(algorithm, provider, tmp_path):
    fake = tmp_path / "field notes.tpk"
    fake.write_text("Monday: rain. Tuesday: more rain.\n")
    with pytest.raises(QgsProcessingException) as caught:
        run(algorithm, {"INPUT": str(fake), "OUTPUT": str(tmp_path / "out.gpkg")})
    message = str(caught.value)
    assert "field notes.tpk" in message and "cannot be read" in message
    assert not (tmp_path / "out.gpkg").exists()


class RecordingFeedback(QgsProcessingFeedback):
    def __init__(self) -> None:
        super().__init__()
        self.errors: list[str] = []

    def reportError(self, error, fatalError=False):  # QGIS API names
        self.errors.append(error)
        super().reportError(error, fatalError)


def test_a_missing_input_is_refused(provider, tmp_path):
    feedback = RecordingFeedback()
    with pytest.raises(QgsProcessingException):
        run("convertpackage", {"INPUT": str(tmp_path / "gone.vtpk"), "OUTPUT": str(tmp_path / "x.mbtiles")},
            feedback)
    assert any("gone.vtpk does not exist" in error for error in feedback.errors)  # prepareAlgorithm's message


def test_cancelling_a_conversion_writes_nothing(provider, tmp_path):
    feedback = QgsProcessingFeedback()
    feedback.progressChanged.connect(lambda progress: progress > 0 and feedback.cancel())
    out = tmp_path / "world.gpkg"
    with pytest.raises(QgsProcessingException, match="cancelled"):
        run("convertpackage", {"INPUT": str(_package("spatialillusions_TPK2GPKG_wgs84.tpkx")),
                               "OUTPUT": str(out)}, feedback)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("name, kind", [(DODGE, QgsVectorTileLayer), ("tpkutils_alt_root_name.tpk", QgsRasterLayer)])
def test_open_output_adds_the_styled_result_to_the_project(name, kind, provider, tmp_path, qgis_new_project,
                                                           qgis_iface, monkeypatch):
    import processing
    from qgis.core import QgsLayerTreeModel
    from qgis.gui import QgsLayerTreeView

    # QGIS >= 3.42 hands iface.layerTreeView() to C++ when it loads results: the test iface gets a
    # real Layers panel (its default stand-in is a MagicMock, which C++ refuses).
    view = QgsLayerTreeView()
    view.setModel(QgsLayerTreeModel(QgsProject.instance().layerTreeRoot(), view))
    monkeypatch.setattr(qgis_iface, "layerTreeView", lambda: view, raising=False)
    out = tmp_path / f"result{'.mbtiles' if kind is QgsVectorTileLayer else '.gpkg'}"
    destination = QgsProcessingOutputLayerDefinition(str(out), QgsProject.instance())
    results = processing.runAndLoadResults("arcgisofflinetiles:convertpackage",
                                           {"INPUT": str(_package(name)), "OUTPUT": destination},
                                           feedback=QgsProcessingFeedback())
    assert results["TILE_COUNT"] > 0 and results["FORMAT_USED"]  # loading the layer keeps every output
    (layer,) = QgsProject.instance().mapLayers().values()
    assert isinstance(layer, kind) and layer.isValid()
    assert layer.name() == {DODGE: "dodge_city"}.get(name, "alt_root_name")
    assert str(out) in layer.source()
    assert QgsProject.instance().layerTreeRoot().findLayer(layer.id()) is not None  # in the Layers panel
    if kind is QgsVectorTileLayer:
        # the package's style (3 style layers, the fill's outlines in a rule of their own), not QGIS' default
        assert len(layer.renderer().styles()) == 4


def test_without_open_output_nothing_is_added(provider, tmp_path, qgis_new_project):
    run("convertpackage", {"INPUT": str(_package("geotools_sample_v1.tpk")), "OUTPUT": str(tmp_path / "g.gpkg")})
    assert QgsProject.instance().mapLayers() == {}


# -- qgis_process (the deployed plugin, as `make deploy` installs it) ---------------------------------
def test_info_and_merge_through_qgis_process(tmp_path, deployed_profile):  # noqa: F811 - the fixture
    info = tmp_path / "info.json"
    done = run_qgis_process(deployed_profile, "run", "arcgisofflinetiles:packageinfo", "--",
                            f"INPUT={_package(DODGE)}", f"OUTPUT={info}")
    assert done.returncode == 0, done.stderr[-2000:]
    assert json.loads(info.read_text())["tile_count"] == 13

    copy = tmp_path / "again.tpkx"
    shutil.copy(_package(USA), copy)
    merged = tmp_path / "merged.gpkg"
    # a merge from the command line: ADDITIONAL_INPUTS repeated once per extra package
    done = run_qgis_process(deployed_profile, "run", "arcgisofflinetiles:convertpackage", f"--INPUT={_package(USA)}",
                            f"--ADDITIONAL_INPUTS={copy}", f"--ADDITIONAL_INPUTS={copy}", "--FORMAT=0",
                            f"--OUTPUT={merged}")
    assert done.returncode == 0, done.stderr[-2000:]
    results = dict(line.split(":\t", 1) for line in done.stdout.splitlines() if ":\t" in line)
    assert results["TILE_COUNT"] == "144" and results["DUPLICATES"] == "144"
    assert results["OUTPUT"] == str(merged) and merged.is_file()
