"""File names the plugin recognises and gives: the one place that decides them.

Light on purpose (stdlib only): the drop handler asks :func:`is_package_file` at QGIS start-up.
"""
from __future__ import annotations

import os
from pathlib import Path

PACKAGE_SUFFIXES = (".vtpk", ".tpkx", ".tpk")  # the Esri tile packages a user opens


def is_package_file(path: str | os.PathLike) -> bool:
    return Path(path).suffix.lower() in PACKAGE_SUFFIXES
