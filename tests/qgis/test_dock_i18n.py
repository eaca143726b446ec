"""The dock in German, and keyboard use: every mnemonic of the dock is unique, in both languages."""
from __future__ import annotations

import shutil
import subprocess
from collections import Counter
from pathlib import Path

import pytest
from qgis.PyQt.QtCore import QCoreApplication, Qt
from qgis.PyQt.QtWidgets import QAbstractButton, QLabel

from plugin.qgis_glue import i18n as translation
from plugin.qgis_glue.i18n import error_message
from tests.qgis.conftest import connect

REPO = Path(__file__).resolve().parents[2]
TS = REPO / "i18n" / "arcgis_offline_tiles_de.ts"


def _lrelease() -> str:
    for candidate in (shutil.which("lrelease"), "/usr/lib/qt5/bin/lrelease"):
        if candidate and Path(candidate).exists():
            return candidate
    pytest.skip("lrelease (Qt Linguist tools) is not installed")
    return ""


@pytest.fixture
def german(tmp_path, monkeypatch):
    """The German translation compiled from the .ts and installed the way the plugin does it."""
    folder = tmp_path / "i18n"
    folder.mkdir()
    subprocess.run([_lrelease(), "-silent", str(TS), "-qm", str(folder / "arcgis_offline_tiles_de.qm")], check=True)
    monkeypatch.setattr(translation, "I18N_DIR", folder)
    translator = translation.install_translator("de_DE")
    assert translator is not None, "the German .qm was not found for de_DE"
    yield translator
    translation.remove_translator(translator)


def _mnemonics(dock) -> list[str]:
    texts = [w.text() for w in dock.findChildren(QAbstractButton) if w.text() and w.isVisibleTo(dock.body)]
    texts += [w.text() for w in dock.findChildren(QLabel) if w.buddy() is not None]
    keys = []
    for text in texts:
        at = text.replace("&&", "").find("&")
        if at >= 0:
            keys.append(text.replace("&&", "")[at + 1].lower())
    return keys


def test_dock_mnemonics_are_unique(dock):
    keys = _mnemonics(dock)
    assert len(keys) >= 15
    assert [k for k, n in Counter(keys).items() if n > 1] == []


def test_every_labelled_field_takes_the_focus_from_its_mnemonic(dock):
    ui = dock.ui
    for label in (ui.urlLabel, ui.authLabel, ui.areaSourceLabel, ui.minScaleLabel, ui.maxScaleLabel, ui.formatLabel,
                  ui.qualityLabel, ui.outputLabel):
        assert label.buddy() is not None, label.objectName()
    assert ui.authSelect.focusProxy() is not None
    assert ui.outputWidget.focusProxy() is ui.outputWidget.lineEdit()


def test_the_dock_speaks_german(german, dock, qtbot, emulator):
    ui = dock.ui
    assert ui.connectButton.text() == "&Verbinden"
    assert ui.serviceGroup.title() == "Dienst"
    assert ui.exportButton.text() == "E&xportieren"
    assert ui.totalLabel.text() == "Verbinden Sie sich mit einem Dienst, um seine Stufen zu sehen."
    assert [dock.tabs.tabText(i) for i in range(dock.tabs.count())] == ["Neuer Export", "Exporte"]
    assert ui.splitCheck.text() == "In &mehrere Teile aufteilen"
    assert [k for k, n in Counter(_mnemonics(dock)).items() if n > 1] == []
    connect(dock, qtbot, emulator.service_url("World_Vector", "VectorTileServer"))
    assert "Vektorkacheldienst" in ui.serviceSummaryLabel.text()
    assert "Koordinatenbezugssystem: EPSG:3857" in ui.serviceSummaryLabel.text()
    assert dock.model.headerData(0, Qt.Orientation.Horizontal) == "Stufe"
    assert ui.levelsGroup.title() == "Stufen"


def test_errors_reach_the_dock_in_german(german, dock, qtbot, emulator):
    connect(dock, qtbot, emulator.secured_service_url)
    assert "Der Dienst verlangt eine Anmeldung" in dock.message_text()


def test_translated_templates_keep_their_parameters(german):
    from plugin.core.errors import TooManyTilesError

    text = error_message(TooManyTilesError(count="12,000", limit="10,000"))
    assert text.startswith("Der Export braucht 12,000 Kacheln") and "10,000" in text


def test_no_translation_for_an_unknown_language(monkeypatch, tmp_path):
    monkeypatch.setattr(translation, "I18N_DIR", tmp_path)
    assert translation.install_translator("xx_YY") is None
    assert QCoreApplication.translate("ArcGISOfflineTilesDockWidget", "Level") == "Level"
