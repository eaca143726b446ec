"""Tiling schemes of Esri tile caches: levels (LODs), origin, tile size, and tile addressing.

Addressing is Esri's everywhere: ``level / row / col``, rows counting *down* from the origin
(the upper-left corner of the grid) and columns counting right.  Tiles are half-open boxes
``[xmin, xmax) x (ymin, ymax]`` so an area that ends exactly on a tile edge does not touch the
next tile; a tolerance of :data:`EDGE_EPSILON` tile widths absorbs floating-point noise.
Tiles outside the nominal ``2^z`` grid are legal (real packages have them) and never clipped.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

EDGE_EPSILON = 1e-9  # in tile widths: float noise below this never adds a row or column
WEB_MERCATOR_HALF = 20037508.342787  # Esri's origin for Web Mercator caches
WEB_MERCATOR_WKIDS = frozenset({3857, 102100, 102113, 900913})


@dataclass(frozen=True)
class LOD:
    """One level of detail: ``resolution`` (CRS units per pixel) is authoritative; scale is advisory."""

    level: int
    resolution: float
    scale: float


@dataclass(frozen=True)
class SpatialRef:
    wkid: int | None = None
    latest_wkid: int | None = None
    vcs_wkid: int | None = None
    wkt: str | None = None

    @property
    def code(self) -> int | None:
        """The code to use: ``latestWkid`` first, then ``wkid``; Web Mercator aliases become 3857."""
        code = self.latest_wkid or self.wkid
        if code in WEB_MERCATOR_WKIDS:
            return 3857
        return code

    def authid(self) -> str:
        """``EPSG:n`` for EPSG codes, ``ESRI:n`` for Esri-only codes (> 32767), ``""`` when WKT only."""
        code = self.code
        if code is None:
            return ""
        return f"ESRI:{code}" if code > 32767 else f"EPSG:{code}"

    @property
    def is_web_mercator(self) -> bool:
        return self.code == 3857


@dataclass(frozen=True)
class TilingScheme:
    origin_x: float
    origin_y: float
    tile_cols: int  # tile width in pixels
    tile_rows: int  # tile height in pixels
    lods: tuple[LOD, ...]
    spatial_ref: SpatialRef = field(default_factory=SpatialRef)
    dpi: int = 96
    format: str = ""  # PNG, PNG8, PNG24, PNG32, JPEG, MIXED, LERC, pbf
    compression_quality: int = 0

    def __post_init__(self) -> None:
        if self.tile_cols <= 0 or self.tile_rows <= 0:
            raise ValueError("tile size must be positive")
        if any(lod.resolution <= 0 or not math.isfinite(lod.resolution) for lod in self.lods):
            raise ValueError("every LOD needs a positive resolution")

    @property
    def levels(self) -> list[int]:
        return [lod.level for lod in self.lods]

    def lod(self, level: int) -> LOD:
        for lod in self.lods:
            if lod.level == level:
                return lod
        raise KeyError(level)

    def tile_size(self, level: int) -> tuple[float, float]:
        """Width and height of one tile at ``level`` in CRS units."""
        res = self.lod(level).resolution
        return res * self.tile_cols, res * self.tile_rows

    def tile_bounds(self, level: int, row: int, col: int) -> tuple[float, float, float, float]:
        w, h = self.tile_size(level)
        xmin = self.origin_x + col * w
        ymax = self.origin_y - row * h
        return xmin, ymax - h, xmin + w, ymax

    def col_range(self, level: int, xmin: float, xmax: float) -> tuple[int, int]:
        """Columns touched by ``[xmin, xmax]`` (half-open on the far side, see module doc)."""
        w, _ = self.tile_size(level)
        first = math.floor((xmin - self.origin_x) / w + EDGE_EPSILON)
        last = math.ceil((xmax - self.origin_x) / w - EDGE_EPSILON) - 1
        return first, max(first, last)

    def row_range(self, level: int, ymin: float, ymax: float) -> tuple[int, int]:
        """Rows touched by ``[ymin, ymax]`` (rows grow downwards from the origin)."""
        _, h = self.tile_size(level)
        first = math.floor((self.origin_y - ymax) / h + EDGE_EPSILON)
        last = math.ceil((self.origin_y - ymin) / h - EDGE_EPSILON) - 1
        return first, max(first, last)
