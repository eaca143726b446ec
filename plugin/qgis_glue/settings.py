"""Typed accessors over ``QgsSettings`` under one prefix; never a secret (only auth config ids)."""
from __future__ import annotations

from pathlib import Path

from qgis.core import QgsApplication, QgsSettings

PREFIX = "arcgis_offline_tiles/"
MAX_RECENT_SERVICES = 15
PROFILE_SUBFOLDER = "arcgis_offline_tiles"
JOBS_SUBFOLDER = "jobs"  # the export store: the name earlier versions gave it, kept so that their exports resume
RECORD_PATTERN = "*.json"
CACHE_FOLDER_KEY = "conversion_cache_folder"


def profile_folder() -> Path:
    """The plugin's folder inside the active QGIS profile (export records, conversions)."""
    return Path(QgsApplication.qgisSettingsDirPath()) / PROFILE_SUBFOLDER


def export_store_folder() -> Path:
    return profile_folder() / JOBS_SUBFOLDER


def has_export_records() -> bool:
    """Whether the export store holds any record or request file (a directory listing, nothing parsed:
    the plugin asks this at QGIS start-up)."""
    folder = export_store_folder()
    try:
        return any(folder.glob(RECORD_PATTERN)) or any(folder.glob(f"*/{RECORD_PATTERN}"))
    except OSError:
        return False


def _settings() -> QgsSettings:
    return QgsSettings()


def _get_bool(key: str, default: bool) -> bool:
    value = _settings().value(PREFIX + key, default)
    if isinstance(value, str):
        return value.lower() in ("1", "true", "yes")
    return bool(value)


def _get_int(key: str, default: int) -> int:
    try:
        return int(_settings().value(PREFIX + key, default))
    except (TypeError, ValueError):  # a hand-edited or damaged setting
        return default


def _set(key: str, value) -> None:
    _settings().setValue(PREFIX + key, value)


def recent_services() -> list[str]:
    value = _settings().value(PREFIX + "recent_services", [])
    if isinstance(value, str):
        value = [value] if value else []
    return [str(url) for url in value or []]


def remember_service(url: str) -> list[str]:
    """Put ``url`` first in the recent-services history (deduplicated, bounded)."""
    urls = [url] + [u for u in recent_services() if u != url]
    urls = urls[:MAX_RECENT_SERVICES]
    _set("recent_services", urls)
    return urls


def auth_config_for(url: str) -> str:
    """The auth config id last used with ``url`` ("" = none)."""
    return str(_settings().value(PREFIX + "authcfg/" + _key(url), ""))


def set_auth_config_for(url: str, authcfg: str) -> None:
    _set("authcfg/" + _key(url), authcfg or "")


def output_folder() -> str:
    return str(_settings().value(PREFIX + "output_folder", ""))


def set_output_folder(path: str) -> None:
    _set("output_folder", path)


def option(name: str, default: bool) -> bool:
    """Boolean options of the dock: split, merge, add_to_map, optimize …"""
    return _get_bool("options/" + name, default)


def set_option(name: str, value: bool) -> None:
    _set("options/" + name, bool(value))


def quality(default: int) -> int:
    """The JPEG quality last chosen for optimised exports."""
    return _get_int("options/quality", default)


def set_quality(value: int) -> None:
    _set("options/quality", int(value))


def area_source(default: int = 0) -> int:
    """The area source last chosen in the dock (its index: rectangle, drawn polygon, features)."""
    return _get_int("options/area_source", default)


def set_area_source(index: int) -> None:
    _set("options/area_source", int(index))


def cache_folder() -> str:
    """Where converted packages are kept ("" = next to the package); set in QGIS's advanced settings
    (``arcgis_offline_tiles/conversion_cache_folder``), the plugin never writes it."""
    return str(_settings().value(PREFIX + CACHE_FOLDER_KEY, ""))


def _key(url: str) -> str:
    # QSettings treats "/" as a group separator; keep one flat key per service URL.
    return url.replace("://", "_").replace("/", "|")
