"""The Qt 6 readiness check (scripts/qt6_check.py, `make check-qt6`) finds Qt 5-only spellings.

The static part needs neither Qt nor QGIS; the PyQt6 part runs where PyQt6 is installed (the
check's own virtual environment) and the QGIS-enum part where QGIS is.
"""
from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
# QGIS >= 3.40 ships a PyQt6 stand-in that raises ImportError in its Qt 5 builds
NO_PYQT6 = "PyQt6 is only in the check's own environment (make check-qt6)"


def _load_checker():
    spec = importlib.util.spec_from_file_location("qt6_check", REPO / "scripts" / "qt6_check.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is built
    spec.loader.exec_module(module)
    return module


qt6_check = _load_checker()

SAMPLE = '''\
from qgis.PyQt.QtCore import Qt, QRegExp, pyqtSignal
from qgis.PyQt.QtWidgets import QAction, QDialog, QSizePolicy
from qgis.PyQt import QtGui
from PyQt5.QtWidgets import QLabel


def show(dialog, label):
    label.setAlignment(Qt.AlignLeft | Qt.AlignmentFlag.AlignTop)
    label.setSizePolicy(QSizePolicy.Expanding, QSizePolicy.Policy.Fixed)
    image = QtGui.QImage(4, 4, QtGui.QImage.Format_ARGB32)
    pattern = QRegExp("a+")
    QDialog.exec_(dialog)
    return dialog.exec_(), image, pattern, QAction


class Qt5Only:
    Qt = None
    changed = pyqtSignal(int, str)

    def not_a_qt_name(self):
        return self.Qt.AlignLeft
'''


def _scan(source: str = SAMPLE):
    return qt6_check.scan_source(source, "sample.py")


def test_chains_rooted_at_qt_imports_are_collected_with_their_line():
    uses = {(use.line, use.spelled) for use in _scan().uses}
    assert (8, "Qt.AlignLeft") in uses
    assert (8, "Qt.AlignmentFlag.AlignTop") in uses
    assert (9, "QSizePolicy.Expanding") in uses
    assert (10, "QImage.Format_ARGB32") in uses          # through the module: QtGui.QImage...
    assert (12, "QDialog.exec_") in uses
    # an attribute that merely shares a Qt name is not a Qt name
    assert not any(spelled.startswith("Qt.") and line == 21 for line, spelled in uses)


def test_spellings_pyqt6_dropped_are_reported_without_qt():
    messages = [str(finding) for finding in _scan().findings]
    assert any(m.startswith("sample.py:12:") and ".exec_" in m for m in messages)
    assert any(m.startswith("sample.py:13:") and ".exec_" in m for m in messages)  # on any receiver
    assert any(m.startswith("sample.py:11:") and "QRegExp" in m and "QRegularExpression" in m for m in messages)
    assert any(m.startswith("sample.py:4:") and "PyQt5.QtWidgets" in m for m in messages)


def test_a_clean_source_has_nothing_to_report():
    clean = ("from qgis.PyQt.QtCore import Qt\n"
             "def f(label, dialog):\n"
             "    label.setAlignment(Qt.AlignmentFlag.AlignLeft)\n"
             "    return dialog.exec()\n")
    assert _scan(clean).findings == []


def test_the_project_passes_the_static_part():
    files = qt6_check.python_files([REPO / name for name in qt6_check.DEFAULT_SOURCES])
    assert len(files) > 50
    findings = [str(f) for path in files
                for f in _scan_file(path).findings]
    assert findings == []


def _scan_file(path: Path):
    return qt6_check.scan_source(path.read_text(encoding="utf-8"), str(path.relative_to(REPO)))


def test_pyqt6_rejects_unscoped_enums_and_accepts_scoped_ones():
    pytest.importorskip("PyQt6.QtCore", reason=NO_PYQT6, exc_type=ImportError)
    problems = {use.spelled: qt6_check.resolve_pyqt6(use) for use in _scan().uses}
    assert "Qt.AlignmentFlag.AlignLeft" in problems["Qt.AlignLeft"]
    assert "QSizePolicy.Policy.Expanding" in problems["QSizePolicy.Expanding"]
    assert "QImage.Format.Format_ARGB32" in problems["QImage.Format_ARGB32"]
    assert problems["QDialog.exec_"]
    assert problems["Qt.AlignmentFlag.AlignTop"] is None
    assert problems["QSizePolicy.Policy.Fixed"] is None
    assert problems["QAction"] is None                    # qgis.PyQt.QtWidgets maps it from QtGui on Qt 6
    direct = qt6_check.scan_source("from PyQt5.QtWidgets import QAction\n", "direct.py").uses
    assert "QtGui" in qt6_check.resolve_pyqt6(direct[0])


def test_pyqt6_declares_the_signals():
    pytest.importorskip("PyQt6.QtCore", reason=NO_PYQT6, exc_type=ImportError)
    scan = _scan()
    assert [qt6_check.check_signal(s, scan.bindings) for s in scan.signals] == [None]
    bad = qt6_check.scan_source("from qgis.PyQt.QtCore import pyqtSignal\nsig = pyqtSignal('NoSuchType*')\n", "s.py")
    assert "fails on PyQt6" in qt6_check.check_signal(bad.signals[0], bad.bindings)


def test_unscoped_qgis_enums_are_reported_with_their_scoped_spelling():
    pytest.importorskip("qgis.core", reason="needs QGIS")
    source = ("from qgis.core import Qgis, QgsWkbTypes\n"
              "levels = (Qgis.Info, Qgis.MessageLevel.Warning)\n"
              "kind = QgsWkbTypes.PolygonGeometry\n"
              "version = Qgis.QGIS_VERSION\n")
    problems = {use.spelled: qt6_check.check_qgis_enum(use) for use in qt6_check.scan_source(source, "q.py").uses}
    assert "Qgis.MessageLevel.Info" in problems["Qgis.Info"]
    assert "GeometryType" in problems["QgsWkbTypes.PolygonGeometry"]
    assert problems["Qgis.MessageLevel.Warning"] is None
    assert problems["Qgis.QGIS_VERSION"] is None


def test_a_qgis_name_this_qgis_lacks_is_reported_unless_it_is_a_version_fallback():
    pytest.importorskip("qgis.core", reason="needs QGIS")
    source = ("from qgis.core import Qgis\n"
              "missing = Qgis.NoSuchEnum.Member\n"
              "try:\n"
              "    fallback = Qgis.NoSuchEnum.Member\n"
              "except AttributeError:\n"
              "    fallback = Qgis.AlsoMissing.Member\n"
              "probed = Qgis.NoSuchEnum.Member if hasattr(Qgis, 'NoSuchEnum') else None\n")
    problems = {use.line: qt6_check.check_qgis_enum(use) for use in qt6_check.scan_source(source, "q.py").uses}
    assert "has no 'NoSuchEnum'" in problems[2]
    assert problems[4] is None and problems[6] is None and problems[7] is None


def test_the_project_spells_qgis_enums_the_way_this_qgis_and_qgis_4_want():
    # Runs in every QGIS leg: an enum that moved (QgsMapToPixelSimplifier.SimplifyAlgorithm is gone
    # from 3.40) fails here before it fails in a test that needs the emulator's tiles.
    pytest.importorskip("qgis.core", reason="needs QGIS")
    findings = qt6_check.run([REPO / name for name in qt6_check.DEFAULT_SOURCES],
                             pyqt6=False, qgis_enums=True, ui_root=None)
    assert [str(f) for f in findings] == []
