"""Typed errors of the export engine and the package code.

Every error carries a *user message* (English text that says what happened and what to do next)
built from a template and parameters, and optional *details* for the log.  The template is kept
apart from its parameters so the QGIS side can translate it (``QCoreApplication.translate`` with
the context ``"errors"``); the core itself must not import Qt.  Secrets never go into either part:
callers pass URLs through :func:`redact` before building an error.
"""
from __future__ import annotations

import functools
import re
from typing import Any


# pylupdate extracts strings wrapped in QT_TRANSLATE_NOOP; in the pure core it is the identity.
def QT_TRANSLATE_NOOP(context: str, text: str) -> str:
    return text


# Secret values wherever they appear, not only after ``?``/``&`` (servers echo requests back in
# their messages): query/form parameters, pre-signed URL signatures (Amazon, Azure ``sig``, Google),
# JSON members and bearer tokens.  The patterns are compiled on first use (:func:`_compiled`):
# compiling them all at import cost ~1 ms of every QGIS start, which imports this module.
_REDACTED_KEYS = (
    r"token|password|passwd|api_?key|apikey|sig|signature|X-Amz-Signature|X-Amz-Security-Token|"
    r"X-Amz-Credential|X-Goog-Signature|X-Goog-Credential|client_secret")
_SECRET_PARAMS = rf"(?i)((?<![A-Za-z0-9])(?:{_REDACTED_KEYS})=)[^&#\s\"'<>]*"
_SECRET_MEMBERS = rf"(?i)([\"'](?:{_REDACTED_KEYS})[\"']\s*:\s*[\"'])[^\"']*"
_BEARER = r"(?i)(\bBearer\s+)[^\s,;\"'<>]+"


_TRAILING_STOP = r"\.+$"  # the templates put their own full stop after {reason}
# A parameter may echo a server's or a file's bytes (a zip header, a member name): shown without
# control characters and at most this long, so a hostile file cannot flood or garble a message.
_BREAKS = r"[\t\n\r]+"
_CONTROL = r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]"
MAX_PARAM_CHARS = 500


@functools.cache
def _compiled(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


def _one_line(text: str) -> str:
    text = _compiled(_CONTROL).sub("?", _compiled(_BREAKS).sub(" ", text))
    return text if len(text) <= MAX_PARAM_CHARS else text[:MAX_PARAM_CHARS - 1] + "…"


def redact(text: str) -> str:
    """Replace the values of token-like parameters, JSON members and bearer tokens with ``***``."""
    text = _compiled(_SECRET_PARAMS).sub(r"\1***", text or "")
    text = _compiled(_SECRET_MEMBERS).sub(r"\1***", text)
    return _compiled(_BEARER).sub(r"\1***", text)


class ArcGISOfflineTilesError(Exception):
    """Base of every error this plugin raises on purpose."""

    template: str = QT_TRANSLATE_NOOP(
        "errors", "Something went wrong. Try again; if it happens again, report it with the details from the log.")

    def __init__(self, template: str | None = None, details: str = "", **params: Any) -> None:
        if template is not None:
            self.template = template
        params = {key: _one_line(value) if isinstance(value, str) else value for key, value in params.items()}
        reason = params.get("reason")
        if isinstance(reason, str):
            params["reason"] = _compiled(_TRAILING_STOP).sub("", reason.strip())
        self.params = params
        self.details = redact(details)
        super().__init__(self.user_message)

    @property
    def user_message(self) -> str:
        try:
            return redact(self.template.format(**self.params))
        except (KeyError, IndexError, ValueError):
            return redact(self.template)

    def __str__(self) -> str:
        return self.user_message


# --- services ---------------------------------------------------------------------------------
class ServiceError(ArcGISOfflineTilesError):
    template = QT_TRANSLATE_NOOP(
        "errors", "The service could not be used: {reason}. Check the service address, then try again; "
        "if it keeps failing, ask the service's administrator.")


class ServiceNotFoundError(ServiceError):
    template = QT_TRANSLATE_NOOP(
        "errors", "No ArcGIS service was found at {url}. Check the address (it should end in "
        "/MapServer, /ImageServer or /VectorTileServer).")


class NotTiledServiceError(ServiceError):
    template = QT_TRANSLATE_NOOP(
        "errors", "{url} is not a tiled ArcGIS service ({reason}). Only cached map services, "
        "tiled image services and vector tile services can export tiles; use the address of one of those.")


class ExportNotAllowedError(ServiceError):
    template = QT_TRANSLATE_NOOP(
        "errors", "The service {name} does not allow tile export (exportTilesAllowed is false). "
        "Ask its administrator to enable it, or use an export-enabled copy of the service.")


# --- authentication ---------------------------------------------------------------------------
class AuthError(ArcGISOfflineTilesError):
    template = QT_TRANSLATE_NOOP(
        "errors", "Signing in failed: {reason}. Check the authentication configuration (user name and "
        "password, token or API key), then try again.")


class AuthRequiredError(AuthError):
    template = QT_TRANSLATE_NOOP(
        "errors", "The service needs you to sign in. Choose an authentication configuration "
        "with your ArcGIS user name and password, token or API key, then try again.")


class AuthFailedError(AuthError):
    template = QT_TRANSLATE_NOOP(
        "errors", "The server refused the credentials ({reason}). Check the user name and "
        "password or the token in your authentication configuration, then try again.")


# --- requests and jobs ------------------------------------------------------------------------
class InvalidRequestError(ArcGISOfflineTilesError):
    template = QT_TRANSLATE_NOOP(
        "errors", "The export request is not valid: {reason}. Change the area, levels or options "
        "accordingly, then try again.")


class TooManyTilesError(ArcGISOfflineTilesError):
    template = QT_TRANSLATE_NOOP(
        "errors", "The export needs {count} tiles but the server allows at most {limit} per "
        "server job. Choose fewer levels or a smaller area, or let the plugin split the export.")


class JobError(ArcGISOfflineTilesError):
    template = QT_TRANSLATE_NOOP(
        "errors", "The export job failed on the server: {reason}. Try again later; if it fails again, "
        "export fewer levels or a smaller area, or ask the service's administrator.")


class JobFailedError(JobError):
    pass


class JobCancelledError(JobError):
    """The server cancelled the job.  Not a :class:`CancelledError`: the user did not ask for it, so
    the caller reports it as a failure instead of treating it as the user's own cancel."""

    template = QT_TRANSLATE_NOOP(
        "errors", "The server cancelled the export job ({reason}), perhaps because it was restarted or "
        "an administrator stopped it. Start the export again; the area and settings are kept.")


class JobNotFoundError(JobError):
    template = QT_TRANSLATE_NOOP(
        "errors", "The server no longer knows the export job {job_id} (jobs are deleted after a "
        "while). Start the export again; the area and settings are kept.")


class JobTimedOutError(JobError):
    template = QT_TRANSLATE_NOOP(
        "errors", "The export job did not finish in time ({reason}). The server job is kept; "
        "you can resume it later or retry with fewer tiles.")


class JobTimedOutOnServerError(JobTimedOutError):
    """``esriJobTimedOut``: the server gave up, so (unlike our own polling timeout) the job is gone."""

    template = QT_TRANSLATE_NOOP(
        "errors", "The server gave up on the export job because it ran too long ({reason}). Export fewer "
        "levels or a smaller area per job, or retry later when the server is less busy.")


class CancelledError(ArcGISOfflineTilesError):
    template = QT_TRANSLATE_NOOP("errors", "The export was cancelled. Start it again when you need the tiles.")


# --- transport and disk -----------------------------------------------------------------------
class NetworkError(ArcGISOfflineTilesError):
    template = QT_TRANSLATE_NOOP(
        "errors", "The server could not be reached ({reason}). Check the network connection "
        "and proxy settings, then retry; finished work is kept.")


class ServerError(NetworkError):
    template = QT_TRANSLATE_NOOP(
        "errors", "The server answered with an error ({reason}). Retry later; finished work is kept.")


class ProxyAuthError(NetworkError):
    """HTTP 407 from a proxy: the proxy, not the ArcGIS server, wants credentials."""

    template = QT_TRANSLATE_NOOP(
        "errors", "The proxy server needs a user name and password ({reason}). Enter them in QGIS under "
        "Settings > Options > Network > Proxy (or ask your IT department for them), then retry.")


class SocksSupportError(NetworkError):
    """QGIS is set to use a SOCKS proxy, and requests cannot speak SOCKS without the PySocks module."""

    template = QT_TRANSLATE_NOOP(
        "errors", "QGIS is set to use a SOCKS proxy, and reaching {host} through it needs the Python module "
        "PySocks, which this QGIS lacks. Install it (on Debian and Ubuntu the python3-socks package, "
        "elsewhere pip install PySocks in QGIS's Python), or choose an HTTP proxy in Settings > Options > "
        "Network, then retry.")


class ResponseTooLargeError(ServerError):
    """An answer bigger than any ArcGIS document: refused before it fills the memory, never retried."""

    template = QT_TRANSLATE_NOOP(
        "errors", "The server at {host} sent an answer larger than {limit} ({reason}), which no ArcGIS "
        "service document is. Check that the address is an ArcGIS REST endpoint; if it is, ask the "
        "service's administrator.")


class DiskError(ArcGISOfflineTilesError):
    template = QT_TRANSLATE_NOOP(
        "errors", "The file could not be written ({reason}). Free some disk space or choose "
        "another folder, then retry; what was already downloaded is kept.")


class PackageError(ArcGISOfflineTilesError):
    template = QT_TRANSLATE_NOOP(
        "errors", "The tile package {path} cannot be read: {reason}. Export or download it again, or "
        "choose another package.")


# --- the output folder, checked before anything is sent to a server ---------------------------
class OutputFolderError(DiskError):
    template = QT_TRANSLATE_NOOP(
        "errors", "The folder {folder} cannot take the package ({reason}). Choose another folder under "
        "Save to; nothing was sent to the server.")


class OutputFolderMissingError(OutputFolderError):
    template = QT_TRANSLATE_NOOP(
        "errors", "The folder {folder} does not exist. Choose another folder under Save to; nothing was "
        "sent to the server.")


class OutputFolderReadOnlyError(OutputFolderError):
    template = QT_TRANSLATE_NOOP(
        "errors", "The folder {folder} cannot be written to ({reason}). Choose a folder you can write to "
        "under Save to; nothing was sent to the server.")


class OutputFolderFullError(OutputFolderError):
    template = QT_TRANSLATE_NOOP(
        "errors", "The folder {folder} has {free} free, but the export needs about {need}. Free some disk "
        "space there or choose another folder under Save to; nothing was sent to the server.")


class ExportMoveError(DiskError):
    """A paused export could not move into another folder (core.relocate); nothing was lost."""

    template = QT_TRANSLATE_NOOP(
        "errors", "The export could not move to {folder} ({reason}). What it had downloaded is where it was; "
        "choose another folder, or resume it where it is.")
