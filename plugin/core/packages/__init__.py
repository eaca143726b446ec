"""Readers, converters and merge for Esri tile packages (pure Python).

Public API::

    open_package(path) -> TilePackage          # .vtpk/.tpkx/.tpk, cache folders, zips, tars
    convert_package(src, dst, fmt="auto", ...) -> ConversionReport
    merge_packages([src, ...], dst, fmt="auto", ...) -> ConversionReport
    package_info(path) -> dict                 # JSON-serialisable
    zoom_for_level(scheme, level) -> int | None
    repair_png(data) -> bytes | None
    set_palette_expander(callable | None)      # opt-in PNG8 → RGBA codec (none by default)
"""
from __future__ import annotations

from .convert import (
    ConversionReport,
    convert_package,
    merge_packages,
    package_info,
    set_palette_expander,
)
from .formats import repair_png, sniff
from .mvt import MvtLayer, decode_layers
from .reader import LevelInfo, Tile, TilePackage, open_package
from .schemes import Extent, zoom_for_level

__all__ = [
    "ConversionReport",
    "Extent",
    "LevelInfo",
    "MvtLayer",
    "Tile",
    "TilePackage",
    "convert_package",
    "decode_layers",
    "merge_packages",
    "open_package",
    "package_info",
    "repair_png",
    "set_palette_expander",
    "sniff",
    "zoom_for_level",
]
