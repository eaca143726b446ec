"""QGIS network settings (proxy, SSL/CA) and auth configs, turned into plain values for the core.

The core's HTTP session factory takes plain values (proxies dict, CA bundle path, credentials);
this module is the only place that reads them from QGIS, so every request the plugin makes honours
the user's QGIS proxy and SSL settings (the Planet plugin's proxy bugs came from bypassing them).
"""
from __future__ import annotations

import logging
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

from qgis.core import QgsApplication, QgsAuthMethodConfig, QgsNetworkAccessManager
from qgis.PyQt.QtNetwork import QNetworkProxy

LOG = logging.getLogger(__name__)


@dataclass(frozen=True)
class NetworkOptions:
    proxies: dict = field(default_factory=dict)  # requests-style {"http": url, "https": url, "no_proxy": …}
    verify: object = True  # True, or a path to a CA bundle that includes QGIS's extra CAs


@dataclass(frozen=True)
class Credentials:
    """What an auth config holds, in the core's terms; never logged."""

    username: str = ""
    password: str = ""
    token: str = ""  # an ESRI token or API key
    headers: dict = field(default_factory=dict)

    @property
    def empty(self) -> bool:
        return not (self.username or self.token or self.headers)

    def __repr__(self) -> str:  # keep secrets out of tracebacks and logs
        return f"Credentials(username={self.username!r}, token={'***' if self.token else ''})"


def network_options() -> NetworkOptions:
    return NetworkOptions(proxies=_proxies(), verify=_ca_bundle())


def _proxies() -> dict:
    manager = QgsNetworkAccessManager.instance()
    proxy = manager.fallbackProxy()
    kind = proxy.type()
    no_proxy_types = (QNetworkProxy.ProxyType.NoProxy, QNetworkProxy.ProxyType.DefaultProxy)
    if kind in no_proxy_types or not proxy.hostName():
        return {}
    scheme = "socks5h" if kind == QNetworkProxy.ProxyType.Socks5Proxy else "http"
    auth = ""
    if proxy.user():
        auth = quote(proxy.user(), safe="") + ":" + quote(proxy.password(), safe="") + "@"
    url = f"{scheme}://{auth}{proxy.hostName()}:{proxy.port()}"
    proxies = {"http": url, "https": url}
    excludes = [e for e in (manager.excludeList() or []) if e]
    no_proxy = [e for e in (manager.noProxyList() or []) if e] if hasattr(manager, "noProxyList") else []
    if excludes or no_proxy:
        proxies["no_proxy"] = ",".join(excludes + no_proxy)
    return proxies


def _ca_bundle() -> object:
    """True (system CAs) unless QGIS's auth database holds extra trusted CAs; then a bundle file."""
    auth = QgsApplication.authManager()
    try:
        extra = list(auth.extraFileCAs()) + list(auth.databaseCAs())
    except AttributeError:  # pragma: no cover - older/newer API
        extra = []
    if not extra:
        return True
    system_bundle = Path("/etc/ssl/certs/ca-certificates.crt")
    pem = system_bundle.read_bytes() if system_bundle.exists() else b""
    pem += b"".join(bytes(cert.toPem()) for cert in extra)
    bundle = Path(tempfile.gettempdir()) / "arcgis_offline_tiles_ca_bundle.pem"
    bundle.write_bytes(pem)
    return str(bundle)


def credentials(authcfg: str) -> Credentials:
    """Read an auth config: Basic → user/password (the core calls generateToken), EsriToken → token,
    APIHeader (QGIS 3.26+) → extra headers.  Unknown methods are reported in the log."""
    if not authcfg:
        return Credentials()
    config = QgsAuthMethodConfig()
    if not QgsApplication.authManager().loadAuthenticationConfig(authcfg, config, True):
        LOG.warning("The authentication configuration %s could not be loaded", authcfg)
        return Credentials()
    method = config.method()
    if method == "Basic":
        return Credentials(username=config.config("username"), password=config.config("password"))
    if method == "EsriToken":
        return Credentials(token=config.config("token"))
    if method == "APIHeader":
        return Credentials(headers=dict(config.configMap()))
    LOG.warning("Authentication method %s is not supported for ArcGIS services; use Basic, "
                "ESRI token or API header", method)
    return Credentials()
