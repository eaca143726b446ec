"""The one HTTP session every request of the plugin goes through, and the ArcGIS JSON helper.

* :func:`create_session` builds a :class:`Session` (a ``requests.Session``) with timeouts on every
  request, retries with back-off (connection failures; 429/502/503/504 honouring ``Retry-After``),
  TLS verification on (or a CA bundle), the caller's proxies (including ``no_proxy``) and a clear
  User-Agent.  Authentication (``auth.py``) plugs in as ``session.auth`` and only ever reaches the
  hosts it was bound to.
* :func:`request_json` sends a request and *always* inspects the body for ArcGIS's
  ``{"error": ...}`` envelope (servers answer HTTP 200 with it), maps HTML and invalid JSON to clear
  errors, refreshes the token once on 498/499 and maps everything else to the typed errors of
  ``errors.py``.
* :class:`CancelToken` and :class:`Clock` are shared by the jobs and downloads: sleeping always
  goes through the clock (fast fake clocks in tests) and wakes up at once on cancel.

Nothing here logs a token: URLs are passed through :func:`errors.redact` and urllib3's own debug
log lines are redacted by a logging filter installed at import time.
"""
from __future__ import annotations

import contextlib
import email.utils
import functools
import json
import logging
import random
import re
import socket
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import requests
import urllib3.connection
import urllib3.connectionpool
from requests.adapters import HTTPAdapter

from .errors import (
    QT_TRANSLATE_NOOP,
    ArcGISOfflineTilesError,
    AuthError,
    AuthFailedError,
    AuthRequiredError,
    CancelledError,
    InvalidRequestError,
    NetworkError,
    ProxyAuthError,
    ResponseTooLargeError,
    ServerError,
    ServiceError,
    ServiceNotFoundError,
    SocksSupportError,
    redact,
)

LOG = logging.getLogger(__name__)

PRODUCT = "ArcGIS-Offline-Tiles"
RETRY_STATUSES = frozenset({429, 502, 503, 504})
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
AUTH_HEADERS = ("X-Esri-Authorization", "Authorization")
CREDENTIAL_FIELDS = frozenset({"token", "password"})  # form fields never re-sent to another host
MAX_JSON_BYTES = 32 << 20  # decoded; real service documents are KB (the largest we know: 0.55 MB)
JSON_CHUNK = 8 << 10  # raw bytes read at a time: a gzip bomb inflates one chunk to 8 MB at most
JSON_DEADLINE_S = 120.0
DOWNLOAD_DEADLINE_S = 24 * 3600.0  # a 10 GB package at 1 Mbit/s
DOWNLOAD_MIN_RATE = 1024.0  # bytes/s; slower than this a package never finishes
DOWNLOAD_MIN_IDLE_S = 60.0  # a chunk may always take this long, whatever its size
LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1", "[::1]"})


# --- logging hygiene ---------------------------------------------------------------------------
class RedactingFilter(logging.Filter):
    """Redact secrets in a record's final text (urllib3 logs URLs; a format string's ``%s`` right after
    ``Bearer`` or ``token=`` must not be eaten, so the record is formatted first)."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            text = record.getMessage()
        except (TypeError, ValueError):  # a broken format string: redact what there is
            text = f"{record.msg} {record.args!r}"
        redacted = redact(text)
        if redacted != text or record.args:
            record.msg, record.args = redacted, None
        return True


_REDACTOR = RedactingFilter()
for _name in ("urllib3", "urllib3.connectionpool", "urllib3.util.retry", "requests", __name__):
    _logger = logging.getLogger(_name)
    if _REDACTOR not in _logger.filters:
        _logger.addFilter(_REDACTOR)


# --- cancel and clock --------------------------------------------------------------------------
class CancelToken:
    """A thread-safe cancel flag; :meth:`wait` sleeps but wakes up at once when cancelled."""

    def __init__(self) -> None:
        self._event = threading.Event()
        self._callbacks: dict[int, Callable[[], None]] = {}
        self._lock = threading.Lock()
        self._next = 0
        self.paused = False

    def cancel(self) -> None:
        """Stop now; server jobs that are still running are cancelled too."""
        self._event.set()
        self._fire()

    def pause(self) -> None:
        """Stop now but keep the server job and the partial download for a later resume."""
        self.paused = True
        self._event.set()
        self._fire()

    def on_cancel(self, callback: Callable[[], None]) -> int:
        """Call ``callback`` (from the cancelling thread) when cancelled; returns a handle."""
        with self._lock:
            self._next += 1
            self._callbacks[self._next] = callback
            handle = self._next
        if self._event.is_set():
            self._fire()
        return handle

    def remove_callback(self, handle: int) -> None:
        with self._lock:
            self._callbacks.pop(handle, None)

    def _fire(self) -> None:
        with self._lock:
            callbacks = list(self._callbacks.values())
            self._callbacks.clear()
        for callback in callbacks:
            try:
                callback()
            except Exception:  # noqa: BLE001 - a failing abort must not break cancelling
                LOG.debug("cancel callback failed", exc_info=True)

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()

    def raise_if_cancelled(self) -> None:
        if self._event.is_set():
            raise CancelledError()

    def wait(self, seconds: float) -> bool:
        """Sleep up to ``seconds``; True when cancelled meanwhile."""
        return self._event.wait(max(0.0, seconds))


def check_cancel(cancel: CancelToken | None) -> None:
    if cancel is not None:
        cancel.raise_if_cancelled()


class Clock:
    """Real time.  Tests pass a fake with the same two methods to make polling instant."""

    def now(self) -> float:
        return time.monotonic()

    def sleep(self, seconds: float, cancel: CancelToken | None = None) -> None:
        """Sleep ``seconds``; raise :class:`CancelledError` as soon as ``cancel`` is set."""
        if cancel is None:
            time.sleep(max(0.0, seconds))
        elif cancel.wait(seconds):
            raise CancelledError()


REAL_CLOCK = Clock()


def abort_response(response: requests.Response) -> None:
    """Wake a read blocked on ``response`` (called from another thread: a cancel, a watchdog)."""
    raw = response.raw
    sock = getattr(getattr(raw, "connection", None), "sock", None)
    if sock is None:  # the connection let go of its socket ("Connection: close"): the reader still has it
        reader = getattr(getattr(raw, "_fp", None), "fp", None)
        sock = getattr(getattr(reader, "raw", None), "_sock", None)
    if sock is not None:  # only shut down: closing from this thread would race the reading thread
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)


class ReadWatchdog:
    """Ends the reading of a streamed response when a limit passes or on cancel.

    ``deadline`` is an instant of ``time.monotonic()``; ``idle`` the longest wait for the next chunk
    (the reader calls :meth:`touch` after each).  The socket is shut down from the watchdog's thread,
    so a read blocked on a trickling server returns at once; :attr:`expired` then says why
    (``"deadline"`` or ``"idle"``).  Real time on purpose: it bounds real transfers.
    """

    def __init__(self, response: requests.Response, *, deadline: float | None = None,
                 idle: float | None = None, cancel: CancelToken | None = None) -> None:
        self.response = response
        self.deadline = deadline
        self.idle = idle
        self.expired: str | None = None
        self._last = time.monotonic()
        self._stop = threading.Event()
        self._cancel = cancel
        self._handle = cancel.on_cancel(lambda: abort_response(response)) if cancel is not None else None
        if deadline is not None or idle is not None:
            threading.Thread(target=self._watch, name="aot-read-watchdog", daemon=True).start()

    def touch(self) -> None:
        self._last = time.monotonic()

    def _watch(self) -> None:
        while True:
            limits = []
            if self.deadline is not None:
                limits.append((self.deadline, "deadline"))
            if self.idle is not None:
                limits.append((self._last + self.idle, "idle"))
            when, why = min(limits)
            now = time.monotonic()
            if now >= when:
                self.expired = why
                abort_response(self.response)
                return
            if self._stop.wait(when - now):
                return

    def stop(self) -> None:
        self._stop.set()
        if self._cancel is not None and self._handle is not None:
            self._cancel.remove_callback(self._handle)

    def __enter__(self) -> ReadWatchdog:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()


# --- requests in flight ------------------------------------------------------------------------
# Until its headers have arrived a request has no response object whose socket could be shut down; the
# connection registers itself here (per thread) when it sends, so a deadline or a cancel can end a
# server that trickles its headers or never answers (the read timeout restarts with every byte).
_SENDING: dict[int, Any] = {}


class _Tracked:
    """Mixed into urllib3's connection classes: record which connection this thread is sending on."""

    def request(self, *args: Any, **kwargs: Any) -> Any:
        _SENDING[threading.get_ident()] = self
        return super().request(*args, **kwargs)  # type: ignore[misc]

    def request_chunked(self, *args: Any, **kwargs: Any) -> Any:  # urllib3 1.26 only
        _SENDING[threading.get_ident()] = self
        return super().request_chunked(*args, **kwargs)  # type: ignore[misc]


class _TrackedHTTPConnection(_Tracked, urllib3.connection.HTTPConnection):
    pass


class _TrackedHTTPSConnection(_Tracked, urllib3.connection.HTTPSConnection):
    pass


class _TrackedHTTPPool(urllib3.connectionpool.HTTPConnectionPool):
    ConnectionCls = _TrackedHTTPConnection


class _TrackedHTTPSPool(urllib3.connectionpool.HTTPSConnectionPool):
    ConnectionCls = _TrackedHTTPSConnection


_TRACKED_POOLS = {"http": _TrackedHTTPPool, "https": _TrackedHTTPSPool}


class _TrackingAdapter(HTTPAdapter):
    """requests' adapter whose connections register in :data:`_SENDING` (direct and via http proxies)."""

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = _TRACKED_POOLS

    def proxy_manager_for(self, proxy: str, **proxy_kwargs: Any) -> Any:
        # requests raises InvalidSchema here for a SOCKS proxy without PySocks (see _network_error)
        manager = super().proxy_manager_for(proxy, **proxy_kwargs)
        manager.pool_classes_by_scheme = _socks_pools() if proxy.lower().startswith("socks") else _TRACKED_POOLS
        return manager


@functools.lru_cache(maxsize=1)
def _socks_pools() -> dict:
    """Pool classes whose SOCKS connections register in :data:`_SENDING` like the others, so the
    deadline and cancel also end a request sent through a SOCKS proxy.  Only called once requests
    has made a SOCKS manager, so PySocks is there."""
    from urllib3.contrib import socks as urllib3_socks

    class TrackedSocksConnection(_Tracked, urllib3_socks.SOCKSConnection):
        pass

    class TrackedSocksHTTPSConnection(_Tracked, urllib3_socks.SOCKSHTTPSConnection):
        pass

    class TrackedSocksPool(urllib3_socks.SOCKSHTTPConnectionPool):
        ConnectionCls = TrackedSocksConnection

    class TrackedSocksHTTPSPool(urllib3_socks.SOCKSHTTPSConnectionPool):
        ConnectionCls = TrackedSocksHTTPSConnection

    return {"http": TrackedSocksPool, "https": TrackedSocksHTTPSPool}


class _SendWatchdog:
    """Shuts the socket of this thread's request down at ``deadline`` or on ``cancel`` while it is
    being sent and its headers awaited; :attr:`fired` then says why (``"deadline"``/``"cancel"``)."""

    def __init__(self, deadline: float | None, cancel: CancelToken | None) -> None:
        self.ident = threading.get_ident()
        self.deadline = deadline
        self.fired: str | None = None
        self._stop = threading.Event()
        self._cancel = cancel
        self._handle = cancel.on_cancel(lambda: self._fire("cancel")) if cancel is not None else None
        if deadline is not None:
            threading.Thread(target=self._watch, name="aot-send-watchdog", daemon=True).start()

    def _watch(self) -> None:
        if not self._stop.wait(max(0.0, (self.deadline or 0.0) - time.monotonic())):
            self._fire("deadline")

    def _fire(self, why: str) -> None:
        if self._stop.is_set():
            return
        self.fired = self.fired or why
        conn = _SENDING.get(self.ident)
        sock = getattr(conn, "sock", None)
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    def __enter__(self) -> _SendWatchdog:
        return self

    def __exit__(self, *exc: Any) -> None:
        self._stop.set()
        if self._cancel is not None and self._handle is not None:
            self._cancel.remove_callback(self._handle)
        _SENDING.pop(self.ident, None)


# --- configuration -----------------------------------------------------------------------------
def user_agent(version: str = "") -> str:
    """``ArcGIS-Offline-Tiles/<version> python-requests/<v>``; the caller passes the plugin version."""
    product = f"{PRODUCT}/{version}" if version else PRODUCT
    return f"{product} python-requests/{requests.__version__}"


@dataclass
class HttpConfig:
    """Plain values the QGIS side fills from its settings (proxy, CA bundle) and the plugin version."""

    version: str = ""  # plugin version for the User-Agent
    connect_timeout: float = 15.0
    read_timeout: float = 60.0
    retries: int = 4  # extra attempts after the first, for connection failures and 429/5xx
    backoff: float = 1.0  # first back-off in seconds; doubles each attempt
    max_backoff: float = 30.0
    max_retry_after: float = 300.0  # a longer Retry-After is reported instead of waited for
    verify: bool | str = True  # False only on explicit user request; a str is a CA bundle path
    proxies: dict = field(default_factory=dict)  # requests style, may hold "no_proxy"
    pool_size: int = 8
    json_deadline: float = JSON_DEADLINE_S  # total time of one JSON request (headers and body)
    max_json_bytes: int = MAX_JSON_BYTES
    download_deadline: float = DOWNLOAD_DEADLINE_S  # total time of one download() call
    download_min_rate: float = DOWNLOAD_MIN_RATE  # each chunk within max(min idle, chunk / rate)
    download_min_idle: float = DOWNLOAD_MIN_IDLE_S

    @property
    def timeout(self) -> tuple[float, float]:
        return (self.connect_timeout, self.read_timeout)


def host_key(url: str) -> str:
    """``scheme://host:port`` (explicit default port) used to decide where credentials may go."""
    parts = urlsplit(url)
    scheme = (parts.scheme or "http").lower()
    port = parts.port or (443 if scheme == "https" else 80)
    return f"{scheme}://{(parts.hostname or '').lower()}:{port}"


def is_loopback(url: str) -> bool:
    host = (urlsplit(url).hostname or "").lower()
    return host in LOOPBACK_HOSTS or host.startswith("127.")


def _no_proxy_match(url: str, no_proxy: list[str]) -> bool:
    host = (urlsplit(url).hostname or "").lower()
    port = urlsplit(url).port
    for raw in no_proxy:
        entry = raw.strip().lower()
        if not entry:
            continue
        if entry == "*":
            return True
        name, _, entry_port = entry.partition(":")
        if entry_port and str(port) != entry_port:
            continue
        name = name.lstrip(".").lstrip("*").lstrip(".")
        if host == name or host.endswith("." + name):
            return True
    return False


def strip_query_params(url: str, names: tuple[str, ...] = ("token",)) -> str:
    parts = urlsplit(url)
    if not parts.query:
        return url
    lowered = {n.lower() for n in names}
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k.lower() not in lowered]
    return urlunsplit(parts._replace(query=urlencode(query)))


def _retry_after(response: requests.Response) -> float | None:
    value = response.headers.get("Retry-After")
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def _is_connect_failure(exc: BaseException) -> bool:
    """True when the request certainly never reached the server (safe to retry any method)."""
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return True
    if isinstance(exc, requests.exceptions.ConnectionError):
        text = repr(exc.args[0]) if exc.args else repr(exc)
        return any(marker in text for marker in ("NewConnectionError", "ConnectTimeoutError",
                                                  "Failed to establish", "Name or service not known"))
    return False


def _network_error(exc: BaseException, url: str) -> ArcGISOfflineTilesError:
    """A typed error for a requests exception, without the (possibly token-bearing) original text."""
    host = urlsplit(url).netloc or url
    if isinstance(exc, requests.exceptions.SSLError):
        return NetworkError(
            QT_TRANSLATE_NOOP("errors", "The secure connection to {host} could not be verified "
                              "({reason}). If your organisation uses its own certificate authority, "
                              "add it in QGIS (Settings > Options > Authentication > Certificate "
                              "Manager), then retry."),
            details=redact(str(exc)), host=host, reason="TLS certificate check failed")
    if isinstance(exc, requests.exceptions.ProxyError) and "407" in str(exc):
        return ProxyAuthError(reason=f"HTTP 407 from the proxy on the way to {host}", details=redact(str(exc)))
    if isinstance(exc, requests.exceptions.ProxyError):
        return NetworkError(reason=f"the proxy refused the connection to {host}", details=redact(str(exc)))
    if isinstance(exc, requests.exceptions.Timeout):
        return NetworkError(reason=f"{host} did not answer in time", details=redact(str(exc)))
    if isinstance(exc, requests.exceptions.InvalidSchema) and "SOCKS" in str(exc):
        return SocksSupportError(host=host, reason="PySocks is missing")
    if isinstance(exc, (requests.exceptions.InvalidURL, requests.exceptions.MissingSchema,
                        requests.exceptions.InvalidSchema)):
        return ServiceError(reason=f"the address {redact(url)} is not a valid http(s) URL")
    return NetworkError(reason=f"connection to {host} failed", details=redact(str(exc)))


# --- the session -------------------------------------------------------------------------------
class Session(requests.Session):
    """``requests.Session`` with the plugin's defaults and retry policy.

    Extra keyword arguments of :meth:`request`: ``cancel`` (a :class:`CancelToken`, checked before
    every attempt and during back-off) and ``retry`` (False disables retries for this call).
    Transport failures come out as :class:`NetworkError` (never a raw ``requests`` exception).
    """

    def __init__(self, config: HttpConfig | None = None, auth: Any = None, clock: Clock | None = None) -> None:
        super().__init__()
        self.config = config or HttpConfig()
        self.clock = clock or REAL_CLOCK
        self.headers["User-Agent"] = user_agent(self.config.version)
        self.headers["Accept-Encoding"] = "gzip, deflate"
        self.verify = self.config.verify
        proxies = dict(self.config.proxies or {})
        no_proxy = proxies.pop("no_proxy", "") or proxies.pop("NO_PROXY", "")
        self._no_proxy = [p for p in str(no_proxy).replace(";", ",").split(",") if p.strip()]
        self.proxies.update(proxies)
        adapter = _TrackingAdapter(pool_connections=self.config.pool_size, pool_maxsize=self.config.pool_size,
                                   max_retries=0)
        self.mount("https://", adapter)
        self.mount("http://", adapter)
        self.auth = None
        if auth is not None:
            self.set_auth(auth)

    def set_auth(self, auth: Any) -> None:
        self.auth = auth
        if hasattr(auth, "attach"):
            auth.attach(self)

    def credential_headers(self) -> tuple[str, ...]:
        """Every header name through which this session may send a credential."""
        names = getattr(self.auth, "credential_headers", None)
        return (*AUTH_HEADERS, *(names() if callable(names) else ()))

    # requests calls this while following redirects: credentials never follow to another host.
    def rebuild_auth(self, prepared_request: requests.PreparedRequest, response: requests.Response) -> None:
        names = self.credential_headers()
        had_auth = any(h in response.request.headers for h in names)
        for header in (*names, "Referer"):
            prepared_request.headers.pop(header, None)
        if host_key(prepared_request.url) != host_key(response.request.url):
            prepared_request.prepare_url(strip_query_params(prepared_request.url, tuple(CREDENTIAL_FIELDS)),
                                         None)
            _strip_form_fields(prepared_request, CREDENTIAL_FIELDS)  # a 307/308 re-sends the body
        if had_auth and self.auth is not None:
            self.auth(prepared_request)  # re-applied only if the new host is one the auth is bound to

    def request(self, method: str, url: str, *args: Any, cancel: CancelToken | None = None,
                retry: bool = True, deadline: float | None = None, abort_on_cancel: bool = False,
                **kwargs: Any) -> requests.Response:
        """``deadline`` (``time.monotonic()``) ends the sending and the wait for the headers, and no
        retry starts after it; with ``abort_on_cancel`` a cancel ends them at once too (only for
        requests that may be lost: a submit's answer must arrive)."""
        method = method.upper()
        kwargs.setdefault("timeout", self.config.timeout)
        # explicit, so that REQUESTS_CA_BUNDLE / CURL_CA_BUNDLE in the environment cannot replace the CA
        # bundle (or the False) the caller configured: requests only consults them for verify=True/None
        kwargs.setdefault("verify", self.verify)
        if self._no_proxy and _no_proxy_match(url, self._no_proxy):
            kwargs["proxies"] = {"http": None, "https": None, **(kwargs.get("proxies") or {})}
        attempts = 1 + (self.config.retries if retry else 0)
        for attempt in range(attempts):
            check_cancel(cancel)
            last = attempt == attempts - 1 or (deadline is not None and time.monotonic() >= deadline)
            watchdog = _SendWatchdog(deadline, cancel if abort_on_cancel else None)
            try:
                with watchdog:
                    response = super().request(method, url, *args, **kwargs)
            except requests.exceptions.RequestException as exc:
                if watchdog.fired == "cancel":
                    raise CancelledError() from None
                if watchdog.fired == "deadline":
                    raise NetworkError(reason=f"{urlsplit(url).netloc} did not finish its answer in the time "
                                       "allowed", details=f"{method} {redact(url)}: no headers by the deadline"
                                       ) from None
                retryable = (_is_connect_failure(exc) or (
                    method in IDEMPOTENT_METHODS
                    and isinstance(exc, (requests.exceptions.ConnectionError, requests.exceptions.Timeout,
                                         requests.exceptions.ChunkedEncodingError))
                    and not isinstance(exc, (requests.exceptions.SSLError, requests.exceptions.ProxyError))))
                if not retryable or last:
                    raise _network_error(exc, url) from None
                delay = self.backoff_delay(attempt)
                LOG.info("%s %s failed (%s); retry %d/%d in %.1f s", method, redact(url),
                         type(exc).__name__, attempt + 1, attempts - 1, delay)
                self.clock.sleep(delay, cancel)
                continue
            LOG.debug("%s %s -> HTTP %s", method, redact(url), response.status_code)
            if response.status_code in RETRY_STATUSES and not last:
                delay = _retry_after(response)
                if delay is not None and delay > self.config.max_retry_after:
                    return response  # the caller reports "retry later"; waiting that long is not ours
                delay = self.backoff_delay(attempt) if delay is None else delay
                LOG.info("%s %s answered HTTP %s; retry %d/%d in %.1f s", method, redact(url),
                         response.status_code, attempt + 1, attempts - 1, delay)
                response.close()
                self.clock.sleep(delay, cancel)
                continue
            return response
        raise AssertionError("unreachable")  # pragma: no cover

    def backoff_delay(self, attempt: int) -> float:
        base = min(self.config.max_backoff, self.config.backoff * (2 ** attempt))
        return base * (1.0 + 0.25 * random.random())  # noqa: S311 - jitter, not crypto


def _strip_form_fields(request: requests.PreparedRequest, names: frozenset[str]) -> None:
    """Remove ``names`` from a form-encoded body (a body of any other type is dropped whole)."""
    body = request.body
    if not body:
        return
    ctype = request.headers.get("Content-Type", "")
    if "x-www-form-urlencoded" not in ctype:
        request.body = None  # we never send other bodies; whatever it is, it does not go elsewhere
        request.headers.pop("Content-Length", None)
        return
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else str(body)
    pairs = parse_qsl(text, keep_blank_values=True)
    kept = [(k, v) for k, v in pairs if k.lower() not in names]
    if len(kept) != len(pairs):
        encoded = urlencode(kept)
        request.body = encoded
        request.headers["Content-Length"] = str(len(encoded.encode()))


def create_session(config: HttpConfig | None = None, auth: Any = None, clock: Clock | None = None) -> Session:
    """The session factory: every request of the plugin goes through a session made here."""
    return Session(config, auth=auth, clock=clock)


# --- ArcGIS JSON -------------------------------------------------------------------------------
AUTH_MESSAGE_CODES = frozenset({"GWM_0003", "SB_0006"})
BODY_RETRY_CODES = frozenset({429, 500, 502, 503, 504})


def _error_text(error: dict) -> str:
    message = str(error.get("message") or "").strip()
    details = [str(d).strip() for d in (error.get("details") or []) if str(d).strip()]
    details = [d for d in details if d != message]
    text = "; ".join([message, *details]) if message else "; ".join(details)
    return text or "no message"


def arcgis_error(error: Any, url: str, http_status: int = 200) -> ArcGISOfflineTilesError:
    """Map an ArcGIS ``{"error": {...}}`` body (or a bare HTTP status) to a typed error."""
    if not isinstance(error, dict):
        error = {"message": str(error)}
    try:
        code = int(error.get("code") or http_status or 0)
    except (TypeError, ValueError):
        code = http_status
    text = redact(_error_text(error))
    message_code = str(error.get("messageCode") or "")
    safe_url = redact(url)
    details = f"{safe_url}: code {code} {message_code} {text}".strip()
    if code == 407:
        exc: ArcGISOfflineTilesError = ProxyAuthError(reason=f"HTTP 407 for {safe_url}", details=details)
    elif code == 498:
        exc = AuthFailedError(reason=f"invalid or expired token: {text}",
                                                       details=details)
    elif code == 499 or (message_code in AUTH_MESSAGE_CODES and code != 403):
        exc = AuthRequiredError(details=details)
    elif "unable to generate token" in text.lower():
        exc = AuthFailedError(reason="wrong user name or password", details=details)
    elif code in (401, 403):
        exc = AuthFailedError(reason=f"access denied: {text}", details=details)
    elif code == 404:
        exc = ServiceNotFoundError(url=safe_url, details=details)
    elif code in (400, 422):
        exc = InvalidRequestError(reason=text, details=details)
    elif code == 429:
        exc = ServerError(reason=f"too many requests, the server asks to slow down: {text}", details=details)
    elif code >= 500:
        exc = ServerError(reason=f"HTTP {code}: {text}", details=details)
    else:
        exc = ServiceError(reason=f"error {code}: {text}" if code else text, details=details)
    exc.code = code  # type: ignore[attr-defined]
    exc.server_message = text  # type: ignore[attr-defined]
    return exc


_TRANSIENT_PAGE = re.compile(r"bad gateway|service unavailable|gateway time-?out|too many requests|"
                             r"\b50[234]\b")


def _looks_like_html(response: requests.Response, head: bytes) -> bool:
    ctype = response.headers.get("Content-Type", "").lower()
    start = head.lstrip()[:15].lower()
    return "html" in ctype or start.startswith((b"<!doctype", b"<html", b"<head", b"<?xml"))


def parse_json_response(response: requests.Response, url: str) -> Any:
    """Decode an ArcGIS JSON response or raise a clear typed error; ``{"error"}`` is returned as is."""
    body = response.content
    status = response.status_code
    doc = None
    if body.strip():
        try:
            doc = json.loads(body)  # bytes: UTF-8/16/32 detected (servers often omit the charset)
        except ValueError:
            try:
                doc = json.loads(body.decode(response.encoding or "utf-8"))
            except (ValueError, LookupError):
                doc = None
    if isinstance(doc, dict) and "error" in doc:
        return doc
    if status >= 400 or (status >= 300 and doc is None):
        if status == 404:
            raise ServiceNotFoundError(url=redact(url), details=f"HTTP 404 from {redact(url)}")
        raise arcgis_error({"code": status, "message": response.reason or f"HTTP {status}"}, url, status)
    if doc is None:
        head = body[:2000].decode("utf-8", errors="replace").lower()
        transient = _TRANSIENT_PAGE.search(head)
        if transient and _looks_like_html(response, body[:200]):
            # a proxy's or load balancer's error page with HTTP 200: as retryable as the real status
            err = ServerError(reason=f"a proxy answered with an error page ({transient.group(0)})",
                              details=f"{redact(url)}: {head[:200]!r}")
            err.code = 502  # type: ignore[attr-defined]
            raise err
        if _looks_like_html(response, body[:200]):
            err = ServiceError(
                QT_TRANSLATE_NOOP("errors", "{url} answered with a web page instead of ArcGIS REST "
                                  "JSON. Use the address of the service's REST endpoint (…/rest/services/"
                                  "…/MapServer); if it is a sign-in page, choose an authentication "
                                  "configuration."),
                url=redact(url), details=f"HTTP {status}, Content-Type "
                f"{response.headers.get('Content-Type', '')}")
        else:
            err = ServerError(reason=f"the server sent an invalid JSON answer for {redact(url)}",
                              details=repr(body[:200]))
        err.code = status  # type: ignore[attr-defined]
        raise err
    return doc


def read_json_body(response: requests.Response, url: str, *, limit: int = MAX_JSON_BYTES,
                   deadline: float | None = None, cancel: CancelToken | None = None) -> bytes:
    """Read a streamed answer into ``response.content``, decoded size at most ``limit`` bytes.

    Raises :class:`ResponseTooLargeError` past the limit (nothing more is read), :class:`NetworkError`
    when ``deadline`` (``time.monotonic()``) passes or the connection breaks, :class:`CancelledError`
    at once on cancel, even while a trickling server blocks the read.
    """
    host = urlsplit(url).netloc or url
    chunks: list[bytes] = []
    size = 0
    with ReadWatchdog(response, deadline=deadline, cancel=cancel) as watchdog:
        try:
            for chunk in response.iter_content(JSON_CHUNK):
                size += len(chunk)
                if size > limit:
                    raise ResponseTooLargeError(host=host, limit=f"{limit >> 20} MB",
                                                reason=f"more than {size} bytes",
                                                details=f"{response.request.method} {redact(url)}")
                chunks.append(chunk)
        except requests.exceptions.RequestException as exc:
            check_cancel(cancel)
            if watchdog.expired is None:
                raise _network_error(exc, url) from None
        check_cancel(cancel)
        if watchdog.expired is not None:
            raise NetworkError(reason=f"{host} did not finish its answer in the time allowed",
                               details=f"{redact(url)}: {size} bytes received before the deadline")
    body = b"".join(chunks)
    response._content = body  # what requests' .content/.json() read from now on
    response._content_consumed = True
    return body


def request_json(session: requests.Session, url: str, params: dict | None = None, *,
                 method: str = "GET", data: dict | None = None, cancel: CancelToken | None = None,
                 auth: Any = None, creates_job: bool = False) -> Any:
    """Send a request and return the decoded JSON, raising typed errors for every failure mode.

    ``f=json`` is added.  Errors in the body are honoured whatever the HTTP status; 498/499 make
    the session's auth refresh (or fall back to the ``token`` parameter) and retry once; 429/5xx
    error bodies and invalid JSON on idempotent requests are retried with the session's back-off.
    Every attempt ends within ``config.json_deadline``; a cancel aborts a GET's answer mid-body, but
    the answer of a POST or of a request that ``creates_job`` is read to its end (the job id).
    """
    params = dict(params or {})
    method = method.upper()
    if data is not None:
        data = dict(data)
        data.setdefault("f", "json")
    else:
        params.setdefault("f", "json")
    config = getattr(session, "config", HttpConfig())
    clock = getattr(session, "clock", REAL_CLOCK)
    auth_obj = auth if auth is not None else getattr(session, "auth", None)
    auth_retried = False
    body_retries = 0
    kwargs: dict[str, Any] = {"params": params or None, "data": data, "stream": True,
                              "timeout": (config.connect_timeout, min(config.read_timeout, config.json_deadline))}
    if auth is not None:
        kwargs["auth"] = auth
    abortable = not creates_job and method in IDEMPOTENT_METHODS
    while True:
        check_cancel(cancel)
        deadline = time.monotonic() + config.json_deadline
        if isinstance(session, Session):
            kwargs.update(cancel=cancel, deadline=deadline, abort_on_cancel=abortable)
        response = session.request(method, url, **kwargs)
        http_status = response.status_code
        try:
            # the answer to a submit (GET or POST) is read to its end, within the deadline: dropping the
            # new job's id on cancel would leave a server job running that nobody can cancel any more
            read_json_body(response, url, limit=config.max_json_bytes, deadline=deadline,
                           cancel=cancel if abortable else None)
            doc = parse_json_response(response, url)
            error = doc.get("error") if isinstance(doc, dict) else None
            exc = arcgis_error(error, url, response.status_code) if error is not None else None
        except ServerError as invalid:
            exc = invalid
        finally:
            response.close()
        if exc is None:
            return doc
        code = getattr(exc, "code", 0)
        if isinstance(exc, AuthError) and not auth_retried and auth_obj is not None \
                and hasattr(auth_obj, "handle_auth_error") and auth_obj.handle_auth_error(code, url):
            auth_retried = True
            LOG.info("Retrying %s after refreshing the sign-in", redact(url))
            continue
        # HTTP 429/5xx were retried by the session already; here: errors inside HTTP 200 bodies
        if isinstance(exc, ServerError) and not isinstance(exc, ResponseTooLargeError) \
                and body_retries < config.retries and http_status < 300 and (
                code in BODY_RETRY_CODES or (code < 300 and method in IDEMPOTENT_METHODS)):
            delay = session.backoff_delay(body_retries) if hasattr(session, "backoff_delay") else 1.0
            LOG.info("%s answered %s; retry %d/%d in %.1f s", redact(url), exc.details or code,
                     body_retries + 1, config.retries, delay)
            body_retries += 1
            clock.sleep(delay, cancel)
            continue
        raise exc


def get_json(session: requests.Session, url: str, params: dict | None = None, **kwargs: Any) -> Any:
    return request_json(session, url, params, method="GET", **kwargs)


def post_json(session: requests.Session, url: str, data: dict | None = None, **kwargs: Any) -> Any:
    return request_json(session, url, None, method="POST", data=data or {}, **kwargs)


def send_params(session: requests.Session, url: str, params: dict, *, max_get_length: int = 1800,
                force_post: bool = False, **kwargs: Any) -> Any:
    """GET when the encoded query is short, else POST form-encoded (ArcGIS clients' rule)."""
    query = urlencode({**params, "f": "json"})
    if force_post or len(url) + 1 + len(query) > max_get_length:
        return post_json(session, url, params, **kwargs)
    return get_json(session, url, params, **kwargs)

