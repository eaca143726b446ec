"""ArcGIS authentication: static tokens / API keys, extra headers, and user name + password tokens.

Every auth object is a ``requests`` auth callable that the :class:`~.http.Session` applies to each
request, but it only adds anything when the request goes to a host it was *bound* to (the service,
its portal, the token service).  Pre-signed download URLs are fetched with :data:`NO_AUTH`, so they
never carry a token.

Decisions:

* The token travels in ``X-Esri-Authorization: Bearer <token>`` (kept out of URLs, proxies' logs and
  urllib3's debug log).  Only when a host answers 499 "token required" although the header was sent
  (old servers, proxies that drop the header) does that host switch to the ``token`` parameter
  (form body for POST) — once, remembered for the session.
* Passwords go only over HTTPS, except to loopback hosts (the local emulator); anything else is
  refused with an :class:`AuthError` before a byte is sent.
* Generated tokens are refreshed shortly before ``expires`` and once when a server answers 498/499.
"""
from __future__ import annotations

import logging
import threading
import time
from typing import Any, Callable
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import requests

from .errors import QT_TRANSLATE_NOOP, ArcGISOfflineTilesError, AuthError, AuthFailedError, redact
from .http import create_session, get_json, host_key, is_loopback, post_json

LOG = logging.getLogger(__name__)

TOKEN_HEADER = "X-Esri-Authorization"  # noqa: S105 - a header name, not a secret
REFERER = "https://github.com/arcgis-offline-tiles/arcgis_offline_tiles"
DEFAULT_EXPIRATION_MINUTES = 60


def server_root(url: str) -> str | None:
    """``https://host/arcgis`` for ``https://host/arcgis/rest/services/...``; None when not found."""
    lower = url.lower()
    for marker in ("/rest/services", "/rest/info", "/tokens/", "/sharing/"):
        idx = lower.find(marker)
        if idx > 0:
            return url[:idx]
    return None


class NoAuth(requests.auth.AuthBase):
    """Send nothing (pre-signed URLs, token requests); overrides the session's auth for one call."""

    def __call__(self, r: requests.PreparedRequest) -> requests.PreparedRequest:
        for header in (TOKEN_HEADER, "Authorization"):
            r.headers.pop(header, None)
        return r

    def __repr__(self) -> str:
        return "NoAuth()"


NO_AUTH = NoAuth()


class ArcGISAuth(requests.auth.AuthBase):
    """Base: host binding, header/param placement, retry decision on 498/499."""

    def __init__(self, hosts: list[str] | tuple[str, ...] = ()) -> None:
        self._hosts: set[str] = set()
        self._param_hosts: set[str] = set()
        self._lock = threading.RLock()
        self.session: requests.Session | None = None
        for url in hosts:
            self.bind(url)

    # -- binding --------------------------------------------------------------------------------
    def attach(self, session: requests.Session) -> None:
        self.session = session

    def bind(self, url: str) -> None:
        """Allow credentials to go to ``url``'s scheme+host+port (the service or its portal)."""
        if url:
            with self._lock:
                self._hosts.add(host_key(url))

    def applies_to(self, url: str) -> bool:
        return host_key(url) in self._hosts

    # -- what to send ---------------------------------------------------------------------------
    def current_token(self) -> str | None:
        return None

    def extra_headers(self) -> dict[str, str]:
        return {}

    def credential_headers(self) -> tuple[str, ...]:
        """Every header this auth may add: the session strips them all on a redirect to another host."""
        return (TOKEN_HEADER, "Authorization", *self.extra_headers())

    def __call__(self, r: requests.PreparedRequest) -> requests.PreparedRequest:
        if not r.url or not self.applies_to(r.url):
            return r
        for name, value in self.extra_headers().items():
            r.headers[name] = value
        token = self.current_token()
        if not token:
            return r
        r.headers[TOKEN_HEADER] = f"Bearer {token}"
        r.headers.setdefault("Referer", REFERER)
        if host_key(r.url) in self._param_hosts:
            _add_token_param(r, token)
        return r

    # -- reacting to 498/499 --------------------------------------------------------------------
    def handle_auth_error(self, code: int, url: str) -> bool:
        """Called by ``request_json`` on an auth error; True = retry the request once."""
        if code == 499 and self.current_token() and self.applies_to(url):
            key = host_key(url)
            with self._lock:
                if key not in self._param_hosts:
                    LOG.info("%s ignored the token header; sending the token as a parameter", key)
                    self._param_hosts.add(key)
                    return True
        return False

    def __repr__(self) -> str:
        return f"{type(self).__name__}(hosts={sorted(self._hosts)})"


def _add_token_param(r: requests.PreparedRequest, token: str) -> None:
    body = r.body
    ctype = r.headers.get("Content-Type", "")
    if r.method == "POST" and (body is None or "x-www-form-urlencoded" in ctype):
        text = body.decode() if isinstance(body, bytes) else (body or "")
        pairs = [(k, v) for k, v in parse_qsl(text, keep_blank_values=True) if k != "token"]
        pairs.append(("token", token))
        encoded = urlencode(pairs)
        r.body = encoded
        r.headers["Content-Type"] = "application/x-www-form-urlencoded"
        r.headers["Content-Length"] = str(len(encoded.encode()))
        return
    parts = urlsplit(r.url)
    pairs = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != "token"]
    pairs.append(("token", token))
    r.url = urlunsplit(parts._replace(query=urlencode(pairs)))


class TokenAuth(ArcGISAuth):
    """A static ArcGIS token or an API key (never refreshed: 498 means "get a new one")."""

    def __init__(self, token: str, hosts: list[str] | tuple[str, ...] = ()) -> None:
        super().__init__(hosts)
        self._token = token.strip()

    def current_token(self) -> str | None:
        return self._token or None


class HeaderAuth(ArcGISAuth):
    """Extra headers from a QGIS "API header" configuration, sent only to the bound hosts."""

    def __init__(self, headers: dict[str, str], hosts: list[str] | tuple[str, ...] = ()) -> None:
        super().__init__(hosts)
        self._headers = {str(k): str(v) for k, v in headers.items()}

    def extra_headers(self) -> dict[str, str]:
        return dict(self._headers)

    def __repr__(self) -> str:
        return f"HeaderAuth(names={sorted(self._headers)}, hosts={sorted(self._hosts)})"


class PasswordAuth(ArcGISAuth):
    """User name + password exchanged for a token with ``generateToken``.

    The token service is ``token_url`` when given, else ``<portal>/sharing/rest/generateToken``
    when ``portal_url`` is given, else the ``authInfo.tokenServicesUrl`` advertised by
    ``<server>/rest/info`` of the first bound service (falling back to ``<server>/tokens/generateToken``).
    """

    def __init__(self, username: str, password: str, *, portal_url: str | None = None,
                 token_url: str | None = None, hosts: list[str] | tuple[str, ...] = (),
                 expiration_minutes: int = DEFAULT_EXPIRATION_MINUTES,
                 wall_clock: Callable[[], float] = time.time) -> None:
        self._service_urls: list[str] = []
        super().__init__(hosts)
        self.username = username
        self._password = password
        self.portal_url = portal_url.rstrip("/") if portal_url else None
        self._token_url = token_url
        self.expiration_minutes = expiration_minutes
        self._wall = wall_clock
        self._token: str | None = None
        self._expires: float = 0.0  # epoch seconds
        self._issued: float = 0.0
        if self.portal_url:
            self.bind(self.portal_url)

    def bind(self, url: str) -> None:
        super().bind(url)
        if url and server_root(url) and url not in self._service_urls:
            self._service_urls.append(url)

    def __repr__(self) -> str:
        return f"PasswordAuth(username={self.username!r}, hosts={sorted(self._hosts)})"

    # -- token lifecycle ------------------------------------------------------------------------
    def current_token(self) -> str | None:
        with self._lock:
            if self._token and self._wall() < self._expires - self._margin():
                return self._token
            self._token = self._generate()
            return self._token

    def _margin(self) -> float:
        lifetime = max(0.0, self._expires - self._issued)
        return min(60.0, 0.2 * lifetime)

    def invalidate(self) -> None:
        with self._lock:
            self._token = None

    def handle_auth_error(self, code: int, url: str) -> bool:
        """498 (invalid/expired token) → get a new token; 499 (token required although one was sent)
        → the host ignores the header: send the token as a parameter."""
        if not self.applies_to(url):
            return False
        if code == 499:
            return super().handle_auth_error(code, url)
        if code == 498:
            self.invalidate()
            return True
        return False

    def token_url(self) -> str:
        if self._token_url:
            return self._token_url
        if self.portal_url:
            self._token_url = f"{self.portal_url}/sharing/rest/generateToken"
            return self._token_url
        if not self._service_urls:
            raise AuthError(reason="no service address is known to sign in to")
        root = server_root(self._service_urls[0]) or ""
        url = f"{root}/tokens/generateToken"
        session = self._require_session()
        try:
            info = get_json(session, f"{root}/rest/info", auth=NO_AUTH)
            auth_info = info.get("authInfo") or {} if isinstance(info, dict) else {}
            advertised = auth_info.get("tokenServicesUrl")
            if advertised:
                url = advertised
            elif auth_info.get("isTokenBasedSecurity") is False:
                LOG.info("%s does not advertise token-based security", redact(root))
        except ArcGISOfflineTilesError as exc:
            LOG.info("No server info at %s (%s); trying %s", redact(root), exc, url)
        self._token_url = url
        return url

    def _require_session(self) -> requests.Session:
        if self.session is None:
            self.session = create_session()
        return self.session

    def _generate(self) -> str:
        url = self.token_url()
        if urlsplit(url).scheme.lower() != "https" and not is_loopback(url):
            raise AuthError(
                QT_TRANSLATE_NOOP("errors", "The sign-in address {url} is not secure (http). The "
                                  "password was not sent. Use the https:// address of the server."),
                url=redact(url))
        self.bind(url)
        form = {"username": self.username, "password": self._password, "client": "referer",
                "referer": REFERER, "expiration": str(self.expiration_minutes), "f": "json"}
        LOG.info("Requesting a token for %s from %s", self.username, redact(url))
        try:
            doc = post_json(self._require_session(), url, form, auth=NO_AUTH)
        except AuthError:
            raise
        except ArcGISOfflineTilesError as exc:
            if getattr(exc, "code", 0) == 400:
                raise AuthFailedError(reason="wrong user name or password",
                                      details=exc.details) from None
            raise
        token = doc.get("token") if isinstance(doc, dict) else None
        if not token:
            raise AuthFailedError(reason="the server returned no token", details=redact(str(url)))
        now = self._wall()
        expires = doc.get("expires")
        try:
            expires_s = float(expires) / 1000.0 if expires is not None else 0.0
        except (TypeError, ValueError):
            expires_s = 0.0
        if expires_s <= now:  # missing or nonsense: assume the requested lifetime
            expires_s = now + 60.0 * self.expiration_minutes
        self._issued = now
        self._expires = expires_s
        if doc.get("ssl") and any(urlsplit(h).scheme == "http" and not is_loopback(h) for h in self._hosts):
            LOG.warning("The server requires HTTPS for its tokens; use https:// addresses")
        return str(token)


def make_auth(*, username: str = "", password: str = "", token: str = "", headers: dict | None = None,
              portal_url: str | None = None, token_url: str | None = None,
              hosts: list[str] | tuple[str, ...] = ()) -> ArcGISAuth | None:
    """Build the auth object for what a QGIS auth configuration holds (None = anonymous)."""
    if token:
        return TokenAuth(token, hosts=hosts)
    if username:
        return PasswordAuth(username, password, portal_url=portal_url, token_url=token_url, hosts=hosts)
    if headers:
        return HeaderAuth(headers, hosts=hosts)
    return None


def bind_auth(session: Any, *urls: str) -> None:
    """Allow the session's credentials to go to ``urls`` (no-op for anonymous sessions)."""
    auth = getattr(session, "auth", None)
    if auth is not None and hasattr(auth, "bind"):
        for url in urls:
            if url:
                auth.bind(url)
