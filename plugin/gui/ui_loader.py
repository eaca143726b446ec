"""The one place that turns ``ui/*.ui`` files into form classes (at runtime, never compiled).

``uic.loadUiType`` parses the XML each call, so the result is cached per file.  QGIS widgets in the
forms name ``qgis.gui`` as their header, which PyQt's uic imports directly on Qt 5 and Qt 6.
"""
from __future__ import annotations

from functools import cache
from pathlib import Path

from qgis.PyQt import uic

UI_DIR = Path(__file__).resolve().parents[2] / "ui"


@cache
def load_ui(name: str):
    """``(FormClass, BaseClass)`` of ``ui/<name>.ui``; use ``FormClass().setupUi(widget)``."""
    path = UI_DIR / f"{name}.ui"
    if not path.is_file():
        raise FileNotFoundError(f"the form {path} is missing from the plugin")
    return uic.loadUiType(str(path))


def form_class(name: str):
    """Only the form class of ``ui/<name>.ui`` (the part with ``setupUi`` and ``retranslateUi``)."""
    return load_ui(name)[0]
