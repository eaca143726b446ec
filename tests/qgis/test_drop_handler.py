"""Entry points: dropping a package onto QGIS and "Add Esri tile package…" open it as a layer."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from qgis.core import QgsProject
from qgis.PyQt.QtWidgets import QFileDialog

from plugin.gui import drop_handler
from plugin.gui.drop_handler import PackageDropHandler, file_filter, open_chosen_packages
from plugin.plugin import ArcGISOfflineTilesPlugin
from tests.conftest import require_shared

WAIT_MS = 30000


def _copy(name: str, folder: Path, as_name: str | None = None) -> Path:
    """A copy of a real package: the conversion is written beside it, never into ../shared."""
    target = folder / (as_name or name)
    shutil.copy(require_shared() / "packages" / name, target)
    return target


@pytest.fixture
def plugin(qgis_iface, qgis_new_project):
    instance = ArcGISOfflineTilesPlugin(qgis_iface)
    instance.initGui()
    yield instance
    instance.unload()


def _wait_for_tasks(qtbot, plugin) -> None:
    assert plugin.tasks.running, "no task was started"
    qtbot.waitUntil(lambda: plugin.tasks.running == [], timeout=WAIT_MS)


@pytest.mark.parametrize("name, as_name", [
    ("tpkutils_states_filled.tpk", None),
    ("esri_runtime_android_dodge_city.vtpk", None),
    ("spatialillusions_TPK2GPKG_wgs84.tpkx", "WORLD.TPKX"),  # the suffix in any case
])
def test_dropping_a_package_opens_it_as_a_layer(name, as_name, tmp_path, qtbot, plugin):
    package = _copy(name, tmp_path, as_name)
    assert plugin.drop_handler.handleFileDrop(str(package)) is True
    _wait_for_tasks(qtbot, plugin)
    (layer,) = QgsProject.instance().mapLayers().values()
    assert layer.isValid()
    assert layer.customProperty("arcgis_offline_tiles/source_package") == str(package)


@pytest.mark.parametrize("name", ["notes.txt", "tiles.gpkg", "basemap.mbtiles", "conf.xml", "archive.zip"])
def test_other_files_are_left_to_qgis(name, tmp_path, plugin):
    other = tmp_path / name
    other.write_bytes(b"whatever")
    assert plugin.drop_handler.handleFileDrop(str(other)) is False
    assert plugin.tasks.running == []


def test_a_folder_or_a_missing_file_named_like_a_package_is_not_claimed(tmp_path):
    opened: list[str] = []
    handler = PackageDropHandler(opened.append)
    folder = tmp_path / "looks_like.vtpk"
    folder.mkdir()
    assert handler.handleFileDrop(str(folder)) is False
    assert handler.handleFileDrop(str(tmp_path / "gone.tpk")) is False
    assert handler.handleFileDrop("") is False
    assert opened == []


def test_dropping_a_broken_package_claims_it_and_reports_the_error(tmp_path, qtbot, plugin, qgis_iface):
    fake = tmp_path / "broken.tpkx"
    fake.write_text("no zip here")
    bar = qgis_iface.messageBar()
    bar.clear_messages()
    assert plugin.drop_handler.handleFileDrop(str(fake)) is True
    _wait_for_tasks(qtbot, plugin)
    assert QgsProject.instance().mapLayers() == {}
    from qgis.core import Qgis

    assert any("broken.tpkx" in note for note in bar.get_messages(Qgis.MessageLevel.Warning))


def test_add_action_opens_every_chosen_package(tmp_path, qtbot, plugin, monkeypatch):
    first = _copy("tpkutils_alt_root_name.tpk", tmp_path)
    second = _copy("geotools_sample_v1.tpk", tmp_path)
    asked = []

    def fake_dialog(parent, caption, folder, filters):
        asked.append(filters)
        return [str(first), str(second)], filters.split(";;")[0]

    monkeypatch.setattr(QFileDialog, "getOpenFileNames", staticmethod(fake_dialog))
    plugin.open_action.trigger()
    _wait_for_tasks(qtbot, plugin)
    assert sorted(layer.name() for layer in QgsProject.instance().mapLayers().values()) == [
        "alt_root_name", "geotools_sample_v1"]
    assert asked and asked[0].startswith("Esri tile packages (*.vtpk *.tpkx *.tpk conf.xml)")


def test_add_action_does_nothing_when_the_dialog_is_cancelled(monkeypatch):
    opened: list[str] = []
    monkeypatch.setattr(QFileDialog, "getOpenFileNames", staticmethod(lambda *args: ([], "")))
    assert open_chosen_packages(opened.append) == [] and opened == []


def test_file_filter_offers_packages_and_cache_folders():
    filters = file_filter().split(";;")
    assert "*.vtpk" in filters[0] and "*.tpkx" in filters[0] and "*.tpk" in filters[0]
    assert any("conf.xml" in f for f in filters)
    assert drop_handler.is_package_file("a/b/c.VTPK") and not drop_handler.is_package_file("c.vtpk.part")
