"""Fetching a service's description: URL or portal item page → :class:`~.service.ServiceInfo`.

``fetch_service`` accepts what users paste: a service URL (with or without ``?f=json``, a layer
suffix or a trailing ``/``), or a portal item page (``…/home/item.html?id=<id>``) which is resolved
through ``<portal>/sharing/rest/content/items/<id>``.  It refuses, with a message saying what to do,
pages that are not REST JSON (HTML), services that do not exist (404) and services that cannot
export tiles (FeatureServer, dynamic map services, …).
"""
from __future__ import annotations

import logging
from typing import Any

from .auth import bind_auth
from .errors import ArcGISOfflineTilesError, ServiceNotFoundError, redact
from .http import CancelToken, get_json
from .service import ServiceInfo, export_enabled_twin, parse_service_json, parse_service_url, service_url_from_item

LOG = logging.getLogger(__name__)

def resolve_item(session: Any, item_url: str, cancel: CancelToken | None = None) -> str:
    """The service URL of a portal item (``<portal>/sharing/rest/content/items/<id>``)."""
    bind_auth(session, item_url)
    item = get_json(session, item_url, cancel=cancel)
    url = service_url_from_item(item, item_url)
    LOG.info("Portal item %s is %s", redact(item_url), redact(url))
    return url


def fetch_service(session: Any, url: str, cancel: CancelToken | None = None) -> ServiceInfo:
    """Read a tiled service's ``?f=json`` and parse it (typed errors for everything else).

    Raises :class:`ServiceNotFoundError` (404, not a service address), :class:`NotTiledServiceError`
    (FeatureServer, dynamic services, styles ...), :class:`ServiceError` (an HTML page), the auth
    errors, and the transport errors of :mod:`.http`.
    """
    parsed = parse_service_url(url)
    if parsed.is_item:
        service_url = resolve_item(session, parsed.item_url or "", cancel)
    else:
        service_url = parsed.service_url or ""
    bind_auth(session, service_url)
    try:
        doc = get_json(session, service_url, cancel=cancel)
    except ServiceNotFoundError:
        raise
    except ArcGISOfflineTilesError as exc:
        if getattr(exc, "code", 0) == 400 and "not found" in str(getattr(exc, "server_message", "")).lower():
            raise ServiceNotFoundError(url=redact(service_url), details=exc.details) from None
        raise
    return parse_service_json(service_url, doc)


def fetch_exportable_service(session: Any, url: str, cancel: CancelToken | None = None) -> ServiceInfo:
    """Like :func:`fetch_service`, but switch to Esri's export-enabled twin when the service itself
    does not allow export (e.g. ``services.arcgisonline.com`` → ``tiledbasemaps.arcgis.com``)."""
    info = fetch_service(session, url, cancel)
    if info.export_allowed:
        return info
    twin = export_enabled_twin(info.url)
    if not twin:
        return info
    LOG.info("%s does not allow export; using its export-enabled copy %s", redact(info.url), redact(twin))
    try:
        return fetch_service(session, twin, cancel)
    except ArcGISOfflineTilesError as exc:
        LOG.info("The export-enabled copy %s is not usable: %s", redact(twin), exc)
        return info
