"""QGIS's proxy settings reach the engine: every request goes through the proxy QGIS is set to use."""
from __future__ import annotations

import socket
from dataclasses import replace

import pytest
from qgis.core import QgsNetworkAccessManager
from qgis.PyQt.QtNetwork import QNetworkProxy

from plugin.core.errors import NetworkError
from plugin.qgis_glue.engine import create_exporter, engine_config

UNREACHABLE_HOST = "gis.behind-the-proxy.example"  # only the proxy can reach it (the suite refuses DNS)


@pytest.fixture
def qgis_proxy(emulator):
    """QGIS told to use an HTTP proxy: the emulator, which answers absolute-URI requests as a proxy does."""
    manager = QgsNetworkAccessManager.instance()
    before = manager.fallbackProxy(), list(manager.excludeList())
    port = int(emulator.base_url.split(":")[2].split("/")[0])
    manager.setFallbackProxyAndExcludes(QNetworkProxy(QNetworkProxy.ProxyType.HttpProxy, "127.0.0.1", port), [], [])
    yield port
    manager.setFallbackProxyAndExcludes(before[0], before[1], [])


def test_service_requests_go_through_the_qgis_proxy(emulator, qgis_proxy, outside_attempts):
    config = engine_config(with_store=False)
    assert config.http.proxies["http"] == f"http://127.0.0.1:{qgis_proxy}"
    exporter = create_exporter(config)
    info = exporter.fetch(f"http://{UNREACHABLE_HOST}/arcgis/rest/services/World_Map/MapServer")
    assert info.name == "World_Map"  # the answer came through the proxy: the host itself has no address
    [request] = [r for r in emulator.requests if r.path.endswith("/World_Map/MapServer")]
    assert request.header("Host") == UNREACHABLE_HOST
    assert outside_attempts == []  # nothing tried to resolve or reach the host directly


def test_hosts_excluded_in_qgis_bypass_the_proxy(emulator):
    """A proxy nobody answers: the emulator is reachable only when QGIS excludes its host from the proxy."""
    with socket.socket() as probe:  # a loopback port nothing listens on
        probe.bind(("127.0.0.1", 0))
        dead_port = probe.getsockname()[1]
    manager = QgsNetworkAccessManager.instance()
    before = manager.fallbackProxy(), list(manager.excludeList())
    dead_proxy = QNetworkProxy(QNetworkProxy.ProxyType.HttpProxy, "127.0.0.1", dead_port)
    url = emulator.service_url("World_Map", "MapServer")
    try:
        manager.setFallbackProxyAndExcludes(dead_proxy, [], [])
        config = engine_config(with_store=False)
        quick = replace(config, http=replace(config.http, retries=0))  # a dead proxy fails at once
        with pytest.raises(NetworkError):
            create_exporter(quick).fetch(url)
        manager.setFallbackProxyAndExcludes(dead_proxy, ["127.0.0.1"], [])
        config = engine_config(with_store=False)
        assert "127.0.0.1" in config.http.proxies["no_proxy"]
        assert create_exporter(config).fetch(url).name == "World_Map"
    finally:
        manager.setFallbackProxyAndExcludes(before[0], before[1], [])
