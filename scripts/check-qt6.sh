#!/usr/bin/env bash
# Qt 6 readiness check (`make check-qt6`): what can be checked for QGIS 4 before a Qt 6 build of
# QGIS can be installed. scripts/qt6_check.py does the work, in two environments:
#   1. a throwaway virtual environment with PyQt6 from PyPI (requirements-qt6.txt), cached in
#      $QT6_VENV (default /var/tmp/arcgis_offline_tiles-pyqt6-<hash of requirements-qt6.txt>) and
#      rebuilt only when the pins change: every Qt name the plugin, its tests, the emulator and the
#      benchmarks use is resolved against PyQt6, every pyqtSignal is declared on PyQt6 and every
#      .ui file is loaded with PyQt6.uic;
#   2. the project's .venv (QGIS 3.22): QGIS enums reached without their scope are reported.
# Exit status 1 with file:line for every problem.
set -euo pipefail
cd "$(dirname "$0")/.."

REQ=requirements-qt6.txt
KEY=$(sha256sum "$REQ" | cut -c1-12)
QT6_VENV=${QT6_VENV:-/var/tmp/arcgis_offline_tiles-pyqt6-$KEY}
SYS_PY=/usr/bin/python3   # the `python3` first on PATH may be another interpreter

if [ "$(cat "$QT6_VENV/.aot-ready" 2>/dev/null)" != "$KEY" ]; then
    echo "check-qt6: installing PyQt6 ($(grep -E '^PyQt6==' "$REQ")) into $QT6_VENV"
    rm -rf "$QT6_VENV"
    "$SYS_PY" -m venv "$QT6_VENV"
    "$QT6_VENV/bin/python" -m pip install -q --disable-pip-version-check -r "$REQ"
    echo "$KEY" >"$QT6_VENV/.aot-ready"    # last: an interrupted install is redone
fi

rc=0
# the checker's own tests, PyQt6 part included (elsewhere it skips: no PyQt6 beside QGIS 3)
QT_QPA_PLATFORM=offscreen "$QT6_VENV/bin/python" -m pytest -q --noconftest -W ignore::pytest.PytestConfigWarning \
    tests/unit/test_qt6_check.py || rc=1
QT_QPA_PLATFORM=offscreen "$QT6_VENV/bin/python" scripts/qt6_check.py --pyqt6 || rc=1
QT_QPA_PLATFORM=offscreen "${VENV:-.venv}/bin/python" scripts/qt6_check.py --qgis-enums || rc=1
exit "$rc"
