"""Service discovery model: service URLs, the ``?f=json`` description, export-enabled twins.

Pure functions over text and parsed JSON; the network engine fetches, this module interprets.

Decisions where Esri's documentation is silent (see also the docstrings of :class:`ServiceInfo`):

* ``max_export_tiles``: ``maxExportTilesCount`` when the service sends it; otherwise the documented server
  default **100000** when ``exportTilesAllowed`` is true, and ``None`` when export is not allowed.
* ``min_lod`` / ``max_lod``: ``minLOD`` / ``maxLOD`` when sent (clamped to the scheme); otherwise the levels
  covering ``minScale`` .. ``maxScale`` (visibility range, SDK rule of :mod:`.levels`) when either is
  non-zero; otherwise the whole scheme.  A cache never holds tiles outside its visible range.
* ``supports_polygon``: VectorTileServer ``polygon`` needs 10.7+; Map/Image ``areaOfInterest`` needs
  10.2.2+ (``currentVersion`` 10.22), the release that made ``exportTiles`` a service operation.  ArcGIS
  Online services (:func:`is_online_service`: host, hosted-layer path or hosting fields) always support
  it.  A service without ``currentVersion`` (9.x) does not.
* ``supports_tpkx``: the ``exportTileCacheCompactV2Allowed`` key when present (reference §9: not confirmed
  as a JSON key, honoured if it appears); otherwise Map/Image at ``currentVersion`` >= 10.7, where
  ``storageFormatType`` was introduced.  Vector services export ``.vtpk`` only.
* ``version``: ``currentVersion`` as a float (``11`` -> 11.0, ``"10.81"`` -> 10.81, ``"10.8.1"`` -> 10.81);
  **0.0** when absent (pre-10.0 servers).
* ``{"error": ...}`` documents: 404 -> :class:`ServiceNotFoundError`; 498 and 403 and "Unable to generate
  token" -> :class:`AuthFailedError`; 499 -> :class:`AuthRequiredError`; 429/500/502/503/504 ->
  :class:`ServerError` (transient: retry later); anything else -> :class:`ServiceError`.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from enum import Enum
from typing import Any
from urllib.parse import parse_qs, urlsplit

from .errors import (
    QT_TRANSLATE_NOOP,
    ArcGISOfflineTilesError,
    AuthFailedError,
    AuthRequiredError,
    NotTiledServiceError,
    ServerError,
    ServiceError,
    ServiceNotFoundError,
    redact,
)
from .levels import levels_between_scales
from .tiling import LOD, Extent, SpatialRef, TilingScheme

DEFAULT_MAX_EXPORT_TILES = 100_000  # Esri's documented server default for maxExportTilesCount


class ServiceKind(str, Enum):
    VECTOR = "VectorTileServer"
    MAP = "MapServer"
    IMAGE = "ImageServer"


_KINDS = {kind.value.lower(): kind for kind in ServiceKind}

# Other ArcGIS REST service types and why they cannot export tiles.
_NOT_TILED_TYPES = {
    "featureserver": "a FeatureServer serves features, not map tiles",
    "sceneserver": "a SceneServer serves 3D scene layers, not map tiles",
    "gpserver": "a GPServer runs geoprocessing tools, it has no tiles",
    "geometryserver": "a GeometryServer is a geometry utility, it has no tiles",
    "geocodeserver": "a GeocodeServer finds addresses, it has no tiles",
    "naserver": "an NAServer solves network routes, it has no tiles",
    "globeserver": "a GlobeServer is an ArcGlobe service, not a tile cache this plugin can export",
    "streamserver": "a StreamServer streams features, it has no tiles",
    "schematicsserver": "a SchematicsServer has no tiles",
    "mobileserver": "a MobileServer has no tiles",
    "wfsserver": "a WFS service serves features, not map tiles",
}


class PortalItemUrlError(ServiceError):
    """Raised by :func:`normalize_service_url` for a portal item address: resolve it first.

    Carries ``item_id``, ``portal_url`` and ``item_url`` (``<portal>/sharing/rest/content/items/<id>``):
    GET it with ``f=json`` and pass the answer to :func:`service_url_from_item`.
    """

    template = QT_TRANSLATE_NOOP(
        "errors", "{url} is an ArcGIS item page, not a service address; the service address must be looked "
        "up from the item first.")

    def __init__(self, url: str, item_id: str, portal_url: str) -> None:
        self.item_id = item_id
        self.portal_url = portal_url
        self.item_url = f"{portal_url}/sharing/rest/content/items/{item_id}"
        super().__init__(url=url)


@dataclass(frozen=True)
class ServiceUrl:
    """What an address typed by the user points at: a service, or a portal item to resolve."""

    service_url: str | None = None
    item_id: str | None = None
    portal_url: str | None = None
    kind: ServiceKind | None = None

    @property
    def is_item(self) -> bool:
        return self.item_id is not None

    @property
    def item_url(self) -> str | None:
        """``<portal>/sharing/rest/content/items/<id>`` (GET with ``f=json``; its ``url`` is the service)."""
        if self.item_id is None or self.portal_url is None:
            return None
        return f"{self.portal_url}/sharing/rest/content/items/{self.item_id}"

    @property
    def name(self) -> str:
        """The service name with its folder, e.g. ``Canvas/World_Light_Gray_Base`` ("" for items)."""
        if not self.service_url:
            return ""
        path = urlsplit(self.service_url).path
        marker = path.lower().find("/rest/services/")
        inner = path[marker + len("/rest/services/"):] if marker >= 0 else path.lstrip("/")
        return inner.rsplit("/", 1)[0]


_ITEM_ID = re.compile(r"^[0-9a-fA-F]{32}$")


def parse_service_url(url: str) -> ServiceUrl:
    """Interpret an address: return the bare service URL, or the portal item to resolve.

    Accepts trailing slashes, query strings (``?f=pjson``, tokens: dropped), fragments, ``/tile/...``,
    layer ids (``/MapServer/0``), any sub-resource (``/VectorTileServer/resources/styles/root.json``,
    ``/MapServer/WMTS/...``, ``/exportTiles``), any letter case of the service type, and a missing
    ``https://``.  Returns ``https://host/.../rest/services/[folder/]Name/MapServer`` (host lower-cased,
    type in Esri's spelling, everything else as given).  Item pages (``.../home/item.html?id=<32 hex>``)
    and ``.../sharing/rest/content/items/<id>`` return ``ServiceUrl(item_id=..., portal_url=...)``.

    Raises :class:`NotTiledServiceError` for other service types (FeatureServer, SceneServer, ...) with
    the reason, and :class:`ServiceNotFoundError` for anything that is not a service address.
    """
    raw = (url or "").strip()
    shown = redact(raw) or "(empty address)"
    if not raw:
        raise ServiceNotFoundError(url=shown)
    if "://" not in raw:
        raw = "https://" + raw.lstrip("/")
    try:
        parts = urlsplit(raw)
    except ValueError:
        raise ServiceNotFoundError(url=shown) from None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not parts.hostname:
        raise ServiceNotFoundError(url=shown)
    netloc = parts.hostname.lower()
    try:
        port = parts.port
    except ValueError:
        raise ServiceNotFoundError(url=shown) from None
    if port:
        netloc = f"{netloc}:{port}"
    segments = [segment for segment in parts.path.split("/") if segment]
    lowered = [segment.lower() for segment in segments]

    # portal items
    if "home" in lowered:
        at = lowered.index("home")
        ids = parse_qs(parts.query).get("id") or parse_qs(parts.fragment).get("id") or []
        if ids and _ITEM_ID.match(ids[0].strip()):
            portal = f"{scheme}://{netloc}" + "".join("/" + s for s in segments[:at])
            return ServiceUrl(item_id=ids[0].strip().lower(), portal_url=portal)
    for at in range(len(lowered) - 4):
        if lowered[at:at + 4] == ["sharing", "rest", "content", "items"] and _ITEM_ID.match(segments[at + 4]):
            portal = f"{scheme}://{netloc}" + "".join("/" + s for s in segments[:at])
            return ServiceUrl(item_id=segments[at + 4].lower(), portal_url=portal)

    for at, segment in enumerate(lowered):
        kind = _KINDS.get(segment)
        if kind is not None:
            if at == 0:
                break  # a type without a service name
            path = "".join("/" + s for s in segments[:at])
            return ServiceUrl(service_url=f"{scheme}://{netloc}{path}/{kind.value}", kind=kind)
        reason = _NOT_TILED_TYPES.get(segment)
        if reason is not None:
            bare = f"{scheme}://{netloc}" + "".join("/" + s for s in segments[:at + 1])
            raise NotTiledServiceError(url=redact(bare), reason=reason)
    raise ServiceNotFoundError(url=shown)


def normalize_service_url(url: str) -> str:
    """The bare service URL of ``url`` (see :func:`parse_service_url`).

    Raises :class:`PortalItemUrlError` (a :class:`ServiceError` carrying ``item_id``, ``portal_url`` and
    ``item_url``) for portal item addresses.
    """
    parsed = parse_service_url(url)
    if parsed.service_url is None:
        raise PortalItemUrlError(redact(url.strip()), parsed.item_id or "", parsed.portal_url or "")
    return parsed.service_url


_ITEM_TYPES_TILED = {"map service", "image service", "vector tile service"}
_ITEM_TYPES_NOT_TILED = {
    "feature service": "the item is a feature layer (FeatureServer): it serves features, not tiles",
    "web map": "the item is a web map; open the tiled service of one of its layers instead",
    "web mapping application": "the item is an app; open the tiled service it shows instead",
    "scene service": "the item is a scene layer, not a tile cache",
    "vector tile style": "the item is a vector tile style; open the vector tile service it uses instead",
}


def service_url_from_item(item: dict[str, Any], item_url: str = "") -> str:
    """The service URL of a portal item (``<portal>/sharing/rest/content/items/<id>?f=json``)."""
    shown = redact(item_url) or "the portal item"
    if not isinstance(item, dict):
        raise ServiceError(reason=f"{shown} did not answer with a JSON object")
    error = error_from_json(shown, item)
    if error is not None:
        raise error
    item_type = str(item.get("type") or "").strip()
    reason = _ITEM_TYPES_NOT_TILED.get(item_type.lower())
    if reason is not None:
        raise NotTiledServiceError(url=shown, reason=reason)
    service = item.get("url")
    if not isinstance(service, str) or not service.strip():
        raise NotTiledServiceError(url=shown, reason=f"the item ({item_type or 'unknown type'}) has no service URL")
    return normalize_service_url(service)


# --- error documents -----------------------------------------------------------------------------
def error_from_json(url: str, doc: Any) -> ArcGISOfflineTilesError | None:
    """The typed error for an ``{"error": {...}}`` body (usually sent with HTTP 200), else ``None``."""
    if not isinstance(doc, dict) or not isinstance(doc.get("error"), dict):
        return None
    err = doc["error"]
    try:
        code = int(err.get("code"))
    except (TypeError, ValueError):
        code = 0
    message = str(err.get("message") or "").strip()
    raw_details = err.get("details")
    details_list = raw_details if isinstance(raw_details, list) else []
    details = "; ".join(str(d) for d in details_list if str(d).strip() and str(d).strip() != message)
    text = message + (f" ({details})" if details else "")
    shown = redact(url)
    log = f"{shown}: code {code} {text} messageCode={err.get('messageCode')}"
    if code == 404:
        return ServiceNotFoundError(url=shown, details=log)
    if code == 499:
        return AuthRequiredError(details=log)
    if code == 498:
        return AuthFailedError(reason=message or "invalid or expired token", details=log)
    if code == 403:
        return AuthFailedError(reason=f"you are signed in but not allowed to use this service: "
                                      f"{message or 'access denied'}", details=log)
    if code == 400 and "unable to generate token" in message.lower():
        return AuthFailedError(reason=message, details=log)
    if code in (429, 500, 502, 503, 504):
        return ServerError(reason=f"{code} {text}".strip(), details=log)
    return ServiceError(reason=f"{text or 'error'} (code {code})", details=log)


# --- the service description ---------------------------------------------------------------------
def _float(value: Any) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _int(value: Any) -> int | None:
    number = _float(value)
    if number is None or number != int(number):
        return None
    return int(number)


def _bool(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() == "true"
    return value is True


def parse_version(value: Any) -> float:
    """``currentVersion`` as a float: 11 -> 11.0, "10.81" -> 10.81, "10.8.1" -> 10.81; 0.0 if unknown."""
    if isinstance(value, bool) or value is None:
        return 0.0
    if isinstance(value, (int, float)):
        return float(value) if math.isfinite(value) else 0.0
    text = str(value).strip()
    match = re.match(r"^(\d+)(?:\.(\d+))?(?:\.(\d+))?", text)
    if not match:
        return 0.0
    major, minor, patch = match.group(1), match.group(2) or "0", match.group(3) or ""
    if patch.strip("0") == "":
        patch = ""
    return float(f"{major}.{minor}{patch}")


_ONLINE_HOSTED_PATH = re.compile(r"^/tiles/[^/]+/arcgis/rest/services/", re.IGNORECASE)
_ONLINE_HOSTING_KEYS = ("server", "access", "status")


def is_online_service(url: str, doc: dict[str, Any] | None = None) -> bool:
    """Whether a service is hosted by ArcGIS Online (its vector export takes ``extent``, reference §2.3).

    Recognised by any of: an ``arcgis.com`` host; the path of Online's hosted tile layers
    (``/tiles/<orgId>/arcgis/rest/services/…``, whatever host or proxy serves it); or the hosting fields
    Online's tile servers add to a hosted layer's description — ``server`` (the organisation's hosting
    server id), ``access`` and ``status`` — which ArcGIS Server and Enterprise documents do not have
    (see the real hosted tile layer ``terriajs_SingleFusedMapCache_MapServer_AGOL_hosted_tiles_3857.json``).
    """
    parts = urlsplit(url or "")
    host = (parts.hostname or "").lower()
    if host == "arcgis.com" or host.endswith(".arcgis.com") or _ONLINE_HOSTED_PATH.match(parts.path or ""):
        return True
    return isinstance(doc, dict) and all(isinstance(doc.get(k), str) and doc[k] for k in _ONLINE_HOSTING_KEYS)


@dataclass(frozen=True)
class ServiceInfo:
    """A tiled ArcGIS service as described by its ``?f=json`` document (see the module doc for choices)."""

    url: str
    kind: ServiceKind
    name: str
    version: float
    tiling: TilingScheme  # every LOD of the scheme; see available_lods for the cached ones
    spatial_ref: SpatialRef
    full_extent: Extent | None
    initial_extent: Extent | None
    export_allowed: bool
    max_export_tiles: int | None
    min_lod: int
    max_lod: int
    capabilities: tuple[str, ...]
    supports_polygon: bool
    supports_tpkx: bool
    tile_format: str
    is_online: bool
    min_scale: float = 0.0
    max_scale: float = 0.0
    storage_format: str = ""
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def available_lods(self) -> tuple[LOD, ...]:
        """The LODs within ``min_lod`` .. ``max_lod`` (what the cache holds)."""
        return tuple(lod for lod in self.tiling.lods if self.min_lod <= lod.level <= self.max_lod)

    @property
    def available_levels(self) -> list[int]:
        return [lod.level for lod in self.available_lods]

    @property
    def available_tiling(self) -> TilingScheme:
        """The tiling scheme restricted to :attr:`available_lods`."""
        return self.tiling.with_lods(self.available_lods)

    @property
    def authid(self) -> str:
        """``EPSG:n`` / ``ESRI:n`` of the service CRS, ``""`` when only WKT is known."""
        return self.spatial_ref.authid()

    @property
    def export_twin(self) -> str | None:
        """Esri's export-enabled copy of this service, if it has one (:func:`export_enabled_twin`)."""
        return export_enabled_twin(self.url)


def _looks_like_style(doc: dict[str, Any]) -> bool:
    return isinstance(doc.get("sources"), dict) and isinstance(doc.get("layers"), list) and "tileInfo" not in doc


def _looks_like_feature_service(doc: dict[str, Any]) -> bool:
    feature_keys = ("hasVersionedData", "syncEnabled", "allowGeometryUpdates", "supportsApplyEditsWithGlobalIds",
                    "editorTrackingInfo", "syncCapabilities", "enableZDefaults")
    return "tileInfo" not in doc and "singleFusedMapCache" not in doc and any(k in doc for k in feature_keys)


_LAYER_TYPES = {"feature layer", "table", "group layer", "raster layer", "annotation layer",
                "raster catalog layer", "mosaic layer", "network analysis layer"}


def _kind_from_doc(doc: dict[str, Any]) -> ServiceKind:
    tile_info = doc.get("tileInfo") if isinstance(doc.get("tileInfo"), dict) else {}
    if str(doc.get("type", "")).lower() == "indexedvector" or str(tile_info.get("format", "")).lower() == "pbf":
        return ServiceKind.VECTOR
    if "pixelType" in doc or "serviceDataType" in doc or ("bandCount" in doc and "mapName" not in doc):
        return ServiceKind.IMAGE
    return ServiceKind.MAP


def parse_service_json(url: str, doc: Any) -> ServiceInfo:
    """Parse a service's ``?f=json`` answer.

    Raises the error of an ``{"error": ...}`` body (:func:`error_from_json`); :class:`NotTiledServiceError`
    with the reason for a dynamic map/image service (no ``tileInfo``, or ``singleFusedMapCache`` false), a
    feature service, a layer, a style document or a description without usable ``tileInfo``; and
    :class:`ServiceError` for anything that is not a service description.  ``url`` may be any address
    :func:`parse_service_url` accepts, or ``""`` for a document without one (a package ``root.json``).
    """
    parsed: ServiceUrl | None = parse_service_url(url) if url else None
    service_url = parsed.service_url if parsed and parsed.service_url else (url or "")
    shown = redact(service_url) or redact(url or "") or "the service"
    _refuse_what_is_not_a_service(doc, service_url, shown)

    doc_kind = _kind_from_doc(doc)
    kind = parsed.kind if parsed and parsed.kind else doc_kind
    if doc_kind is ServiceKind.VECTOR:
        kind = ServiceKind.VECTOR
    tiling, spatial_ref = _tiling(doc, kind, shown)

    version = parse_version(doc.get("currentVersion"))
    online = is_online_service(service_url, doc)
    export_allowed = _bool(doc.get("exportTilesAllowed"))
    max_tiles = _int(doc.get("maxExportTilesCount"))
    if max_tiles is None or max_tiles <= 0:
        max_tiles = DEFAULT_MAX_EXPORT_TILES if export_allowed else None
    min_scale = _float(doc.get("minScale")) or 0.0
    max_scale = _float(doc.get("maxScale")) or 0.0
    min_lod, max_lod = _lod_range(doc, tiling, min_scale, max_scale)
    capabilities_raw = doc.get("capabilities")
    capabilities = tuple(c.strip() for c in capabilities_raw.split(",") if c.strip()) \
        if isinstance(capabilities_raw, str) else ()
    supports_polygon, supports_tpkx = _export_support(doc, kind, version, online)

    full = Extent.from_json(doc.get("fullExtent"), spatial_ref) or Extent.from_json(doc.get("extent"), spatial_ref)
    initial = Extent.from_json(doc.get("initialExtent"), spatial_ref)
    return ServiceInfo(
        url=service_url, kind=kind, name=_service_name(doc, parsed), version=version, tiling=tiling,
        spatial_ref=spatial_ref, full_extent=full, initial_extent=initial, export_allowed=export_allowed,
        max_export_tiles=max_tiles, min_lod=min_lod, max_lod=max_lod, capabilities=capabilities,
        supports_polygon=supports_polygon, supports_tpkx=supports_tpkx, tile_format=tiling.format,
        is_online=online, min_scale=min_scale, max_scale=max_scale, storage_format=_storage_format(doc),
        raw=doc)


def _refuse_what_is_not_a_service(doc: Any, service_url: str, shown: str) -> None:
    """An error body, a job status, a style, a feature service or a layer: each with its own error."""
    if not isinstance(doc, dict):
        raise ServiceError(reason=f"{shown} did not answer with a JSON object")
    error = error_from_json(service_url, doc)
    if error is not None:
        raise error
    if "jobId" in doc and "jobStatus" in doc:
        raise ServiceError(reason=f"{shown} answered with a job status, not a service description")
    if _looks_like_style(doc):
        raise NotTiledServiceError(url=shown, reason="this is a vector tile style (root.json), not the service "
                                   "description; use the VectorTileServer address")
    if _looks_like_feature_service(doc):
        raise NotTiledServiceError(url=shown, reason="it is a feature service (FeatureServer): it serves "
                                   "features, not tiles")
    if str(doc.get("type", "")).lower() in _LAYER_TYPES and "tileInfo" not in doc:
        raise NotTiledServiceError(url=shown, reason=f"it describes a single layer ({doc.get('type')}), not a "
                                   "tiled service; use the address of the service itself")


def _tiling(doc: dict, kind: ServiceKind, shown: str) -> tuple[TilingScheme, SpatialRef]:
    """The tiling scheme and the service CRS; :class:`NotTiledServiceError` for a service without a cache."""
    tile_info = doc.get("tileInfo")
    fused = doc.get("singleFusedMapCache")
    if not isinstance(tile_info, dict):
        if kind is ServiceKind.VECTOR:
            reason = "its description has no tileInfo"
        elif fused is False or fused is None:
            what = "map" if kind is ServiceKind.MAP else "image"
            reason = (f"it is a dynamic {what} service: it has no tile cache (singleFusedMapCache is "
                      f"{'false' if fused is False else 'absent'} and there is no tileInfo)")
        else:
            reason = "singleFusedMapCache is true but the description has no tileInfo"
        raise NotTiledServiceError(url=shown, reason=reason)
    if kind is not ServiceKind.VECTOR and _bool(fused) is False and fused is not None:
        raise NotTiledServiceError(url=shown, reason="singleFusedMapCache is false: the map is drawn on demand; "
                                   "its tileInfo describes a tiling scheme but there is no cache to export")
    service_sr = SpatialRef.from_json(doc.get("spatialReference"))
    image_info = doc.get("tileImageInfo") if isinstance(doc.get("tileImageInfo"), dict) else {}
    try:
        default_format = str(image_info.get("format") or ("pbf" if kind is ServiceKind.VECTOR else ""))
        tiling = TilingScheme.from_json(tile_info, spatial_ref=service_sr, tile_format=default_format)
    except ValueError as exc:
        raise NotTiledServiceError(url=shown, reason=f"its tileInfo cannot be used: {exc}") from None
    return tiling, service_sr if service_sr != SpatialRef() else tiling.spatial_ref


def _lod_range(doc: dict, tiling: TilingScheme, min_scale: float, max_scale: float) -> tuple[int, int]:
    """The levels the service serves: ``minLOD``/``maxLOD``, else its visible scale range, else all."""
    levels = tiling.levels
    min_lod, max_lod = levels[0], levels[-1]
    doc_min, doc_max = _int(doc.get("minLOD")), _int(doc.get("maxLOD"))
    if doc_min is not None or doc_max is not None:
        if doc_min is not None:
            min_lod = max(min_lod, doc_min)
        if doc_max is not None:
            max_lod = min(max_lod, doc_max)
        if min_lod > max_lod:  # inconsistent document: fall back to the whole scheme
            min_lod, max_lod = levels[0], levels[-1]
    elif (min_scale or max_scale) and all(lod.scale > 0 for lod in tiling.lods):
        visible = levels_between_scales(tiling, min_scale, max_scale)
        if visible:
            min_lod, max_lod = visible[0], visible[-1]
    return min_lod, max_lod


def _export_support(doc: dict, kind: ServiceKind, version: float, online: bool) -> tuple[bool, bool]:
    """Whether exportTiles takes a polygon, and whether it writes Compact V2 (``.tpkx``)."""
    if kind is ServiceKind.VECTOR:
        supports_polygon = online or version >= 10.7
    else:
        supports_polygon = online or version >= 10.22
    if "exportTileCacheCompactV2Allowed" in doc:
        supports_tpkx = _bool(doc.get("exportTileCacheCompactV2Allowed"))
    else:
        supports_tpkx = kind is not ServiceKind.VECTOR and version >= 10.7
    return supports_polygon, supports_tpkx


def _storage_format(doc: dict) -> str:
    resource_info = doc.get("resourceInfo")
    cache_info = (resource_info.get("cacheInfo") or {}) if isinstance(resource_info, dict) else {}
    nested = cache_info.get("storageInfo") if isinstance(cache_info, dict) else None
    for holder in (doc.get("storageInfo"), doc.get("tileInfo"), nested):
        if isinstance(holder, dict) and isinstance(holder.get("storageFormat"), str):
            return holder["storageFormat"]
    return ""


def _service_name(doc: dict, parsed: ServiceUrl | None) -> str:
    name = doc.get("name") if isinstance(doc.get("name"), str) and doc.get("name").strip() else ""
    if not name and parsed is not None:
        name = parsed.name.rsplit("/", 1)[-1]
    if not name and isinstance(doc.get("mapName"), str):
        name = doc["mapName"]
    return name


# --- export-enabled twins of Esri's public basemaps ----------------------------------------------
TILED_BASEMAPS = "https://tiledbasemaps.arcgis.com/arcgis/rest/services"
VECTOR_BASEMAPS = "https://basemaps.arcgis.com/arcgis/rest/services"

#: Esri's public basemaps that cannot export tiles, keyed by ``<path under rest/services>/<type>``
#: (lower case), and their export-enabled copies (ArcGIS Online sign-in required).  Raster basemaps on
#: services.arcgisonline.com / server.arcgisonline.com have the same path on tiledbasemaps.arcgis.com;
#: vector basemaps on basemaps.arcgis.com have an ``_Export_`` sibling.
EXPORT_ENABLED_TWINS: dict[str, str] = {
    **{f"{path.lower()}/mapserver": f"{TILED_BASEMAPS}/{path}/MapServer" for path in (
        "World_Imagery",
        "World_Street_Map",
        "World_Topo_Map",
        "World_Terrain_Base",
        "World_Shaded_Relief",
        "World_Physical_Map",
        "NatGeo_World_Map",
        "Ocean/World_Ocean_Base",
        "Ocean/World_Ocean_Reference",
        "Canvas/World_Light_Gray_Base",
        "Canvas/World_Light_Gray_Reference",
        "Canvas/World_Dark_Gray_Base",
        "Canvas/World_Dark_Gray_Reference",
        "Reference/World_Boundaries_and_Places",
        "Reference/World_Transportation",
        "Elevation/World_Hillshade",
    )},
    "world_basemap_v2/vectortileserver": f"{VECTOR_BASEMAPS}/World_Basemap_Export_v2/VectorTileServer",
    "openstreetmap_v2/vectortileserver": f"{VECTOR_BASEMAPS}/OpenStreetMap_Export_v2/VectorTileServer",
}
_TWIN_HOSTS = {
    ServiceKind.MAP: ("services.arcgisonline.com", "server.arcgisonline.com"),
    ServiceKind.VECTOR: ("basemaps.arcgis.com", "basemaps-api.arcgis.com"),
}


def export_enabled_twin(url: str) -> str | None:
    """The export-enabled copy of one of Esri's public basemaps (:data:`EXPORT_ENABLED_TWINS`), or None."""
    try:
        parsed = parse_service_url(url)
    except ArcGISOfflineTilesError:
        return None
    if parsed.service_url is None or parsed.kind is None:
        return None
    host = (urlsplit(parsed.service_url).hostname or "").lower()
    if host not in _TWIN_HOSTS.get(parsed.kind, ()):
        return None
    return EXPORT_ENABLED_TWINS.get(f"{parsed.name.lower()}/{parsed.kind.value.lower()}")
