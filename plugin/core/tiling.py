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
from typing import Any

EDGE_EPSILON = 1e-9  # in tile widths: float noise below this never adds a row or column
WEB_MERCATOR_HALF = 20037508.342787  # Esri's origin for Web Mercator caches
WEB_MERCATOR_WKIDS = frozenset({3857, 102100, 102113, 900913})
MAX_LEVELS = 64  # a package listing more levels than this is damaged or hostile
MAX_TILE_PIXELS = 8192  # wider tiles are not plausible in a package


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

    @classmethod
    def from_json(cls, doc: Any) -> SpatialRef:
        """Parse an Esri ``spatialReference`` object; anything unusable gives an empty ``SpatialRef``.

        Codes may arrive as numbers or numeric strings; ``vcsWkid``/``latestVcsWkid`` and ``wkt`` are kept.
        """
        if not isinstance(doc, dict):
            return cls()
        wkt = doc.get("wkt")
        return cls(
            wkid=_int_or_none(doc.get("wkid")),
            latest_wkid=_int_or_none(doc.get("latestWkid")),
            vcs_wkid=_int_or_none(doc.get("latestVcsWkid")) or _int_or_none(doc.get("vcsWkid")),
            wkt=wkt if isinstance(wkt, str) and wkt.strip() else None,
        )

    def to_json(self) -> dict[str, Any]:
        """Esri JSON for requests: ``{"wkid": ..., "latestWkid": ...}`` or ``{"wkt": ...}``."""
        out: dict[str, Any] = {}
        if self.wkid is not None:
            out["wkid"] = self.wkid
        if self.latest_wkid is not None:
            out["latestWkid"] = self.latest_wkid
        if not out and self.wkt:
            out["wkt"] = self.wkt
        if self.vcs_wkid is not None:
            out["vcsWkid"] = self.vcs_wkid
        return out


def _int_or_none(value: Any) -> int | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    if not math.isfinite(number) or number != int(number):
        return None
    return int(number)


@dataclass(frozen=True)
class Extent:
    """An envelope in ``spatial_ref`` (Esri ``{xmin, ymin, xmax, ymax, spatialReference}``)."""

    xmin: float
    ymin: float
    xmax: float
    ymax: float
    spatial_ref: SpatialRef = field(default_factory=SpatialRef)

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        return self.xmin, self.ymin, self.xmax, self.ymax

    @property
    def width(self) -> float:
        return self.xmax - self.xmin

    @property
    def height(self) -> float:
        return self.ymax - self.ymin

    @property
    def is_empty(self) -> bool:
        return not (self.width > 0 and self.height > 0)

    def intersection(self, other: Extent) -> Extent | None:
        """The overlap (in this extent's CRS), ``None`` when they do not overlap."""
        xmin, ymin = max(self.xmin, other.xmin), max(self.ymin, other.ymin)
        xmax, ymax = min(self.xmax, other.xmax), min(self.ymax, other.ymax)
        if xmin >= xmax or ymin >= ymax:
            return None
        return Extent(xmin, ymin, xmax, ymax, self.spatial_ref)

    def union(self, other: Extent) -> Extent:
        return Extent(min(self.xmin, other.xmin), min(self.ymin, other.ymin),
                      max(self.xmax, other.xmax), max(self.ymax, other.ymax), self.spatial_ref)

    @classmethod
    def from_json(cls, doc: Any, default_sr: SpatialRef | None = None) -> Extent | None:
        """Parse an Esri envelope; ``None`` when a coordinate is missing, non-numeric or not finite, or
        the envelope is inverted.  ``default_sr`` stands in for a missing or empty ``spatialReference``."""
        if not isinstance(doc, dict):
            return None
        try:
            values = [float(doc[key]) for key in ("xmin", "ymin", "xmax", "ymax")]
        except (KeyError, TypeError, ValueError):
            return None
        if not all(math.isfinite(v) for v in values) or values[0] > values[2] or values[1] > values[3]:
            return None
        sr = SpatialRef.from_json(doc.get("spatialReference"))
        if sr.code is None and not sr.wkt and default_sr is not None:
            sr = default_sr
        return cls(*values, spatial_ref=sr)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"xmin": self.xmin, "ymin": self.ymin, "xmax": self.xmax, "ymax": self.ymax}
        sr = self.spatial_ref.to_json()
        if sr:
            out["spatialReference"] = sr
        return out


def _lod_or_none(raw: Any) -> LOD | None:
    """One ``tileInfo.lods`` entry; ``None`` without a level ≥ 0 and a positive finite resolution."""
    if not isinstance(raw, dict):
        return None
    level = _int_or_none(raw.get("level"))
    try:
        resolution = float(raw.get("resolution"))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    if level is None or level < 0 or not (math.isfinite(resolution) and resolution > 0):
        return None
    scale_raw = raw.get("scale")
    try:
        scale = float(scale_raw) if scale_raw is not None and not isinstance(scale_raw, bool) else 0.0
    except (TypeError, ValueError):
        scale = 0.0
    return LOD(level, resolution, scale if math.isfinite(scale) else 0.0)


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
        if not (math.isfinite(self.origin_x) and math.isfinite(self.origin_y)):
            raise ValueError("the tiling origin must be finite")

    @property
    def levels(self) -> list[int]:
        return [lod.level for lod in self.lods]

    def lod(self, level: int) -> LOD:
        for lod in self.lods:
            if lod.level == level:
                return lod
        raise KeyError(level)

    def has_level(self, level: int) -> bool:
        return any(lod.level == level for lod in self.lods)

    @classmethod
    def from_json(cls, tile_info: dict[str, Any], spatial_ref: SpatialRef | None = None,
                  tile_format: str | None = None, *, strict: bool = False) -> TilingScheme:
        """Build a scheme from an Esri ``tileInfo`` object (service JSON, a package's ``root.json``).

        ``spatial_ref`` is used when ``tileInfo`` has no ``spatialReference``; ``tile_format`` when it has no
        ``format`` (a ``.tpkx`` ``root.json`` keeps the format in ``tileImageInfo``).  LODs are sorted by level.
        A service's document is read leniently: an unusable LOD entry is skipped and a duplicated level keeps
        its first entry.  ``strict`` (a package, which the plugin reads tile by tile) refuses both, more than
        :data:`MAX_LEVELS` levels and tiles over :data:`MAX_TILE_PIXELS` pixels wide.  Raises ``ValueError``
        (with the reason) on unusable input.
        """
        if not isinstance(tile_info, dict):
            raise ValueError("tileInfo is not an object")
        rows = _int_or_none(tile_info.get("rows"))
        cols = _int_or_none(tile_info.get("cols"))
        if rows is None or cols is None or rows <= 0 or cols <= 0:
            raise ValueError("tileInfo has no valid tile size (rows and cols must be positive whole numbers)")
        if strict and (cols > MAX_TILE_PIXELS or rows > MAX_TILE_PIXELS):
            raise ValueError(f"tiles of {cols}×{rows} pixels are not plausible")
        origin = tile_info.get("origin")
        try:
            origin_x, origin_y = float(origin["x"]), float(origin["y"])  # type: ignore[index]
        except (KeyError, TypeError, ValueError):
            raise ValueError("tileInfo has no valid origin") from None
        raw_lods = tile_info.get("lods") or ()
        if strict and (not isinstance(raw_lods, list) or len(raw_lods) > MAX_LEVELS):
            raise ValueError(f"tileInfo.lods is not a list of at most {MAX_LEVELS} levels")
        lods: dict[int, LOD] = {}
        for index, raw in enumerate(raw_lods if isinstance(raw_lods, (list, tuple)) else ()):
            lod = _lod_or_none(raw)
            if lod is None or lod.level in lods:
                if strict:
                    raise ValueError(f"entry {index + 1} of tileInfo.lods has no usable level and resolution, "
                                     "or repeats a level")
                continue
            lods[lod.level] = lod
        if not lods:
            raise ValueError("tileInfo has no usable levels of detail (lods)")
        sr = SpatialRef.from_json(tile_info.get("spatialReference"))
        if sr == SpatialRef() and spatial_ref is not None:
            sr = spatial_ref
        fmt = tile_info.get("format")
        if not isinstance(fmt, str) or not fmt:
            fmt = tile_format or ""
        dpi = _int_or_none(tile_info.get("dpi")) or 96
        quality = _int_or_none(tile_info.get("compressionQuality")) or 0
        return cls(origin_x=origin_x, origin_y=origin_y, tile_cols=cols, tile_rows=rows,
                   lods=tuple(lods[level] for level in sorted(lods)), spatial_ref=sr, dpi=dpi,
                   format=fmt, compression_quality=quality)

    def to_json(self) -> dict[str, Any]:
        """The scheme as an Esri ``tileInfo`` object."""
        return {
            "rows": self.tile_rows, "cols": self.tile_cols, "dpi": self.dpi, "format": self.format,
            "compressionQuality": self.compression_quality,
            "origin": {"x": self.origin_x, "y": self.origin_y},
            "spatialReference": self.spatial_ref.to_json(),
            "lods": [{"level": lod.level, "resolution": lod.resolution, "scale": lod.scale} for lod in self.lods],
        }

    def with_lods(self, lods: tuple[LOD, ...]) -> TilingScheme:
        """The same grid restricted to ``lods`` (e.g. the service's minLOD..maxLOD)."""
        return TilingScheme(self.origin_x, self.origin_y, self.tile_cols, self.tile_rows, tuple(lods),
                            self.spatial_ref, self.dpi, self.format, self.compression_quality)

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
