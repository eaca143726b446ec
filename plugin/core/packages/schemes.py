"""Tiling schemes and extents from a package's ``root.json`` / ``conf.xml`` / ``conf.cdi``.

Also the level → XYZ zoom mapping (:func:`zoom_for_level`): zoom comes from the resolution,
never from the LevelID (a ``.tpk`` can number its levels from 0 at web zoom 2), and only when the
residual is tiny and the grid origin is the Web Mercator corner.
"""
from __future__ import annotations

import json
import math
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, replace
from typing import Any

from ..tiling import WEB_MERCATOR_HALF, Extent, SpatialRef, TilingScheme
from ._sources import package_error

WEB_MERCATOR_WORLD = 40075016.68557849  # 2π·6378137: the world's width in EPSG:3857 metres
EARTH_RADIUS = 6378137.0
ZOOM_RESIDUAL = 1e-3
ORIGIN_TOLERANCE = 1.0  # metres: Esri's 20037508.342787 vs the exact 20037508.342789244
DEFAULT_TILE_PIXELS = 256
_MERCATOR_WKT = re.compile(r"Mercator_Auxiliary_Sphere|Pseudo[-_ ]Mercator|Popular Visualisation", re.I)


# -- helpers ---------------------------------------------------------------------------------------
def is_web_mercator(sr: SpatialRef) -> bool:
    if sr.is_web_mercator:
        return True
    return sr.code is None and bool(sr.wkt and _MERCATOR_WKT.search(sr.wkt))


def is_wgs84(sr: SpatialRef) -> bool:
    return sr.code == 4326


def same_crs(a: SpatialRef, b: SpatialRef) -> bool:
    if a.code is not None or b.code is not None:
        return a.code == b.code
    return (a.wkt or "") == (b.wkt or "")


def mercator_to_lonlat(x: float, y: float) -> tuple[float, float]:
    lon = math.degrees(x / EARTH_RADIUS)
    lat = math.degrees(math.atan(math.sinh(y / EARTH_RADIUS)))
    return max(-180.0, min(180.0, lon)), max(-85.0511287798066, min(85.0511287798066, lat))


def zoom_for_level(scheme: TilingScheme, level: int) -> int | None:
    """The XYZ zoom of ``level`` when the scheme is Web Mercator on the XYZ grid, else ``None``.

    ``z = round(log2(world / (resolution · tile size)))`` accepted only when ``|z − exact| < 1e-3``,
    the tiles are square, and the origin is the Web Mercator upper-left corner (±1 m).
    """
    if not is_web_mercator(scheme.spatial_ref) or scheme.tile_cols != scheme.tile_rows:
        return None
    if abs(scheme.origin_x + WEB_MERCATOR_HALF) > ORIGIN_TOLERANCE:
        return None
    if abs(scheme.origin_y - WEB_MERCATOR_HALF) > ORIGIN_TOLERANCE:
        return None
    try:
        resolution = scheme.lod(level).resolution
    except KeyError:
        return None
    exact = math.log2(WEB_MERCATOR_WORLD / (resolution * scheme.tile_cols))
    zoom = round(exact)
    if abs(zoom - exact) >= ZOOM_RESIDUAL or not 0 <= zoom <= 30:
        return None
    return zoom


# -- JSON ------------------------------------------------------------------------------------------
def load_json(data: bytes, where: str) -> Any:
    from ._sources import read_text

    try:
        return json.loads(read_text(data))
    except (ValueError, RecursionError) as exc:
        raise package_error(where, f"its JSON is malformed ({str(exc)[:200]})") from exc


def _num(value: Any, what: str, where: str, positive: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise package_error(where, f"{what} is missing or not a number")
    try:
        number = float(value)
    except ValueError:
        raise package_error(where, f"{what} is not a number ({value!r:.40})") from None
    if not math.isfinite(number) or (positive and number <= 0):
        raise package_error(where, f"{what} is not a valid number ({value!r:.40})")
    return number


def _int(value: Any, what: str, where: str, positive: bool = False) -> int:
    number = _num(value, what, where, positive)
    if number != int(number) or abs(number) > 2**31:
        raise package_error(where, f"{what} is not an integer ({value!r:.40})")
    return int(number)


def _opt_int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value.strip())
    return None


def scheme_from_root_json(doc: Any, where: str) -> TilingScheme:
    """A tpkx ``root.json`` or a vtpk ``p12/root.json`` (VectorTileServer-like), read strictly by the one
    ``tileInfo`` parser (:meth:`TilingScheme.from_json`); ``minLOD``/``maxLOD`` narrow its levels."""
    if not isinstance(doc, dict):
        raise package_error(where, "root.json is not a JSON object")
    info = doc.get("tileInfo")
    if not isinstance(info, dict):
        raise package_error(where, "root.json has no tileInfo")
    cols = info.get("cols", DEFAULT_TILE_PIXELS)
    info = {**info, "cols": cols, "rows": info.get("rows", cols)}  # packages may leave the size out
    image_info = doc.get("tileImageInfo") if isinstance(doc.get("tileImageInfo"), dict) else {}
    image_format = image_info.get("format") if isinstance(image_info.get("format"), str) else ""
    try:
        scheme = TilingScheme.from_json(info, SpatialRef.from_json(doc.get("spatialReference")), image_format,
                                        strict=True)
    except ValueError as exc:
        raise package_error(where, f"its tiling scheme is invalid ({exc})") from exc
    lo, hi = _opt_int(doc.get("minLOD")), _opt_int(doc.get("maxLOD"))
    if lo is not None or hi is not None:
        kept = [lod for lod in scheme.lods if (lo is None or lod.level >= lo) and (hi is None or lod.level <= hi)]
        scheme = scheme.with_lods(tuple(kept or scheme.lods))
    quality = _opt_int(image_info.get("compressionQuality"))
    if quality is not None:
        scheme = replace(scheme, compression_quality=quality)
    return scheme


# -- XML -------------------------------------------------------------------------------------------
def parse_xml(data: bytes, where: str) -> ET.Element:
    head = data[:4096].lower()
    if b"<!doctype" in head or b"<!entity" in data.lower():
        raise package_error(where, "its XML declares a DOCTYPE or entities, which packages never do")
    try:
        return ET.fromstring(data)  # noqa: S314 - no DTD/entities (checked above), size capped by the caller
    except (ET.ParseError, ValueError) as exc:
        raise package_error(where, f"its XML is malformed ({exc})") from exc


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def xml_child(node: ET.Element | None, *names: str) -> ET.Element | None:
    """Descend through children named ``names`` (namespace-free, case-insensitive)."""
    for name in names:
        if node is None:
            return None
        wanted = name.lower()
        node = next((child for child in node if _local(child.tag).lower() == wanted), None)
    return node


def xml_text(node: ET.Element | None, *names: str) -> str | None:
    found = xml_child(node, *names)
    if found is None or found.text is None:
        return None
    return found.text.strip()


def spatial_ref_from_xml(node: ET.Element | None) -> SpatialRef:
    if node is None:
        return SpatialRef()
    return SpatialRef(wkid=_opt_int(xml_text(node, "WKID")), latest_wkid=_opt_int(xml_text(node, "LatestWKID")),
                      vcs_wkid=_opt_int(xml_text(node, "VCSWKID")), wkt=xml_text(node, "WKT") or None)


@dataclass(frozen=True)
class ConfInfo:
    scheme: TilingScheme
    storage_format: str  # esriMapCacheStorageModeCompact | …CompactV2 | …
    packet_size: int
    tile_end: tuple[float, float] | None


def scheme_from_conf_xml(data: bytes, where: str) -> ConfInfo:
    root = parse_xml(data, where)
    if _local(root.tag).lower() != "cacheinfo":
        raise package_error(where, "conf.xml has no CacheInfo root element")
    tci = xml_child(root, "TileCacheInfo")
    if tci is None:
        raise package_error(where, "conf.xml has no TileCacheInfo")
    sr = spatial_ref_from_xml(xml_child(tci, "SpatialReference"))
    ox = _num(xml_text(tci, "TileOrigin", "X"), "TileOrigin/X", where)
    oy = _num(xml_text(tci, "TileOrigin", "Y"), "TileOrigin/Y", where)
    cols = _int(xml_text(tci, "TileCols") or 256, "TileCols", where, positive=True)
    rows = _int(xml_text(tci, "TileRows") or cols, "TileRows", where, positive=True)
    dpi = _opt_int(xml_text(tci, "DPI")) or 96
    infos = xml_child(tci, "LODInfos")
    raw = []
    for node in (infos if infos is not None else []):
        if _local(node.tag).lower() != "lodinfo":
            continue
        raw.append({"level": xml_text(node, "LevelID"), "resolution": xml_text(node, "Resolution"),
                    "scale": xml_text(node, "Scale")})
    tii = xml_child(root, "TileImageInfo")
    fmt = xml_text(tii, "CacheTileFormat") or ""
    quality = _opt_int(xml_text(tii, "CompressionQuality")) or 0
    csi = xml_child(root, "CacheStorageInfo")
    storage = xml_text(csi, "StorageFormat") or ""
    packet = _opt_int(xml_text(csi, "PacketSize")) or 128
    end = None
    end_x, end_y = xml_text(tci, "TileEnd", "X"), xml_text(tci, "TileEnd", "Y")
    if end_x and end_y:
        end = (_num(end_x, "TileEnd/X", where), _num(end_y, "TileEnd/Y", where))
    info = {"origin": {"x": ox, "y": oy}, "cols": cols, "rows": rows, "dpi": dpi, "format": fmt,
            "compressionQuality": quality, "lods": raw}  # conf.xml's TileCacheInfo as a tileInfo
    try:
        scheme = TilingScheme.from_json(info, sr, strict=True)
    except ValueError as exc:
        raise package_error(where, f"its tiling scheme is invalid ({exc})") from exc
    return ConfInfo(scheme, storage, packet, end)


def extent_from_conf_cdi(data: bytes, where: str, default_sr: SpatialRef) -> Extent | None:
    try:
        root = parse_xml(data, where)
    except Exception:  # noqa: BLE001 - conf.cdi is optional: a broken one only loses the extent
        return None
    try:
        values = [float(xml_text(root, key) or "nan") for key in ("XMin", "YMin", "XMax", "YMax")]
    except ValueError:
        return None
    if not all(math.isfinite(v) for v in values) or values[0] > values[2] or values[1] > values[3]:
        return None
    sr = spatial_ref_from_xml(xml_child(root, "SpatialReference"))
    if sr.code is None and not sr.wkt:
        sr = default_sr
    return Extent(*values, spatial_ref=sr)


def scheme_to_dict(scheme: TilingScheme) -> dict:
    sr = scheme.spatial_ref
    return {
        "crs": {"code": sr.code, "authid": sr.authid(), "wkid": sr.wkid, "latest_wkid": sr.latest_wkid,
                "wkt": sr.wkt},
        "origin": [scheme.origin_x, scheme.origin_y],
        "tile_size": [scheme.tile_cols, scheme.tile_rows],
        "dpi": scheme.dpi,
        "format": scheme.format,
        "compression_quality": scheme.compression_quality,
        "lods": [{"level": lod.level, "resolution": lod.resolution, "scale": lod.scale,
                  "zoom": zoom_for_level(scheme, lod.level)} for lod in scheme.lods],
    }


def schemes_compatible(a: TilingScheme, b: TilingScheme) -> str | None:
    """``None`` when tiles of ``a`` and ``b`` with the same level/row/col are the same place, else why not."""
    if not same_crs(a.spatial_ref, b.spatial_ref):
        return f"different coordinate systems ({a.spatial_ref.authid() or 'WKT'} and " \
               f"{b.spatial_ref.authid() or 'WKT'})"
    if (a.tile_cols, a.tile_rows) != (b.tile_cols, b.tile_rows):
        return f"different tile sizes ({a.tile_cols}×{a.tile_rows} and {b.tile_cols}×{b.tile_rows})"
    tol = max(abs(a.origin_x), abs(a.origin_y), 1.0) * 1e-9 + 1e-6
    if abs(a.origin_x - b.origin_x) > tol or abs(a.origin_y - b.origin_y) > tol:
        return "different tiling origins"
    for lod in a.lods:
        try:
            other = b.lod(lod.level)
        except KeyError:
            continue
        if abs(lod.resolution - other.resolution) > lod.resolution * 1e-9:
            return f"level {lod.level} has different resolutions ({lod.resolution} and {other.resolution})"
    return None
