"""Build the core's export engine from QGIS's network settings and an auth config.

Read the settings on the main thread (:func:`engine_config`, plain values), then build the
:class:`~..core.export.Exporter` wherever the work runs (:func:`create_exporter`), so tasks and
Processing algorithms never touch QGIS singletons from a worker thread.
"""
from __future__ import annotations

import configparser
from dataclasses import dataclass, field
from pathlib import Path

from ..core.auth import make_auth
from ..core.export import Exporter
from ..core.exportstore import ExportStore
from ..core.http import HttpConfig, create_session
from . import settings
from .network import Credentials, credentials, network_options

PLUGIN_ROOT = Path(__file__).resolve().parents[2]


def plugin_version() -> str:
    meta = configparser.ConfigParser(interpolation=None)
    meta.read(PLUGIN_ROOT / "metadata.txt", encoding="utf-8")
    return meta.get("general", "version", fallback="")


def export_store() -> ExportStore:
    return ExportStore(settings.export_store_folder())


@dataclass(frozen=True)
class EngineConfig:
    http: HttpConfig
    credentials: Credentials = field(default_factory=Credentials)
    authcfg: str = ""
    store_folder: str = ""


def engine_config(authcfg: str = "", *, with_store: bool = True) -> EngineConfig:
    """Everything the engine needs from QGIS, read now (call on the main thread)."""
    options = network_options()
    http = HttpConfig(version=plugin_version(), verify=options.verify, proxies=dict(options.proxies))
    store = str(settings.export_store_folder()) if with_store else ""
    return EngineConfig(http=http, credentials=credentials(authcfg), authcfg=authcfg, store_folder=store)


def create_exporter(config: EngineConfig, **exporter_options) -> Exporter:
    """A fresh session + exporter from plain values (safe in any thread)."""
    creds = config.credentials
    auth = make_auth(username=creds.username, password=creds.password, token=creds.token,
                     headers=creds.headers or None)
    session = create_session(config.http, auth=auth)
    store = ExportStore(config.store_folder) if config.store_folder else None
    return Exporter(session, store=store, **exporter_options)
