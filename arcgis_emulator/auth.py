"""Tokens (ArcGIS Server and portal ``generateToken``) and S3-style presigned download URLs."""
from __future__ import annotations

import calendar
import hashlib
import hmac
import secrets
import threading
import time
from dataclasses import dataclass
from urllib.parse import quote

DEFAULT_USERS = {"analyst": "field-work-2026"}
DEFAULT_EXPIRATION_MIN = 60
MAX_EXPIRATION_MIN = 15 * 24 * 60

TOKEN_REQUIRED = {"code": 499, "message": "Token Required", "messageCode": "GWM_0003",
                  "details": ["Token Required"]}
INVALID_TOKEN = {"code": 498, "message": "Invalid token.", "details": ["Invalid token."]}
BAD_CREDENTIALS = {"code": 400, "message": "Unable to generate token.",
                   "details": ["Invalid username or password."]}


@dataclass
class Token:
    value: str
    username: str
    issued: float
    expires: float  # epoch seconds
    referer: str | None = None


class TokenStore:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._tokens: dict[str, Token] = {}

    def issue(self, username: str, lifetime_s: float, referer: str | None = None) -> Token:
        now = time.time()
        value = secrets.token_urlsafe(48).replace("-", "A").replace("_", "B") + "."
        token = Token(value=value, username=username, issued=now, expires=now + lifetime_s, referer=referer)
        with self._lock:
            self._tokens[value] = token
        return token

    def get(self, value: str | None) -> Token | None:
        if not value:
            return None
        with self._lock:
            return self._tokens.get(value)

    def check(self, value: str | None, lifetime_cap_s: float | None = None) -> str:
        """``"ok"``, ``"missing"`` or ``"invalid"`` (unknown or expired).

        ``lifetime_cap_s`` additionally expires the token that long after it was issued (a
        per-service ``token_lifetime_s``)."""
        if not value:
            return "missing"
        token = self.get(value)
        now = time.time()
        if token is None or now >= token.expires:
            return "invalid"
        if lifetime_cap_s is not None and now >= token.issued + lifetime_cap_s:
            return "invalid"
        return "ok"

    def expire_all(self) -> None:
        with self._lock:
            for token in self._tokens.values():
                token.expires = 0.0

    def clear(self) -> None:
        with self._lock:
            self._tokens.clear()

    def values(self) -> list[str]:
        """Every token issued since the last :meth:`clear` (tests check none of them leaked)."""
        with self._lock:
            return list(self._tokens)


def token_from_request(params: dict, headers) -> str | None:
    """The token of a request: ``token`` parameter, ``X-Esri-Authorization: Bearer`` or
    ``Authorization: Bearer`` (first found)."""
    token = params.get("token")
    if token:
        return token
    for name in ("X-Esri-Authorization", "Authorization"):
        value = headers.get(name)
        if value and value.lower().startswith("bearer "):
            value = value[7:].strip()
            if value:
                return value
    return None


class Presigner:
    """Mimics S3 presigned URLs: the signature covers the path and the exact query parameters."""

    SIGNED_PARAMS = ("X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Date", "X-Amz-Expires",
                     "X-Amz-SignedHeaders", "X-Amz-Security-Token")

    def __init__(self) -> None:
        self._secret = secrets.token_bytes(32)

    def _signature(self, path: str, params: dict[str, str]) -> str:
        canonical = path + "?" + "&".join(
            f"{quote(k, safe='')}={quote(params[k], safe='')}" for k in sorted(params))
        return hmac.new(self._secret, canonical.encode(), hashlib.sha256).hexdigest()

    def sign(self, path: str, expires_s: int = 3600) -> str:
        """The query string (without ``?``) of a presigned URL for ``path``."""
        now = time.gmtime()
        params = {
            "X-Amz-Algorithm": "AWS4-HMAC-SHA256",
            "X-Amz-Credential": f"ASIAEMULATOR{secrets.token_hex(4).upper()}/"
                                f"{time.strftime('%Y%m%d', now)}/us-east-1/s3/aws4_request",
            "X-Amz-Date": time.strftime("%Y%m%dT%H%M%SZ", now),
            "X-Amz-Expires": str(int(expires_s)),
            "X-Amz-SignedHeaders": "host",
            "X-Amz-Security-Token": secrets.token_urlsafe(64),
        }
        params["X-Amz-Signature"] = self._signature(path, params)
        return "&".join(f"{quote(k, safe='')}={quote(v, safe='')}" for k, v in params.items())

    def verify(self, path: str, query: list[tuple[str, str]], headers) -> tuple[str, str] | None:
        """None when the request is acceptable, else ``(S3 error code, message)``."""
        if headers.get("Authorization") or headers.get("X-Esri-Authorization"):
            return ("InvalidArgument",
                    "Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, "
                    "Signature query string parameter or the Authorization header should be specified")
        names = [k for k, _ in query]
        if len(names) != len(set(names)):
            return "SignatureDoesNotMatch", "The request signature we calculated does not match the signature."
        params = dict(query)
        signature = params.pop("X-Amz-Signature", None)
        if signature is None:
            return ("AccessDenied", "Query-string authentication requires the Signature, Expires and "
                    "AWSAccessKeyId parameters")
        mismatch = ("SignatureDoesNotMatch", "The request signature we calculated does not match the "
                    "signature you provided. Check your key and signing method.")
        if set(params) != set(self.SIGNED_PARAMS):
            return mismatch
        if not hmac.compare_digest(signature, self._signature(path, params)):
            return mismatch
        try:
            signed_at = calendar.timegm(time.strptime(params["X-Amz-Date"], "%Y%m%dT%H%M%SZ"))
            if time.time() > signed_at + int(params["X-Amz-Expires"]):
                return "AccessDenied", "Request has expired"
        except (ValueError, OverflowError):
            return "AuthorizationQueryParametersError", "X-Amz-Date must be in the ISO8601 Long Format"
        return None


def s3_error_xml(code: str, message: str, resource: str) -> bytes:
    from xml.sax.saxutils import escape

    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f"<Error><Code>{escape(code)}</Code><Message>{escape(message)}</Message>"
        f"<Resource>{escape(resource)}</Resource><RequestId>{secrets.token_hex(8).upper()}</RequestId>"
        f"<HostId>{secrets.token_urlsafe(24)}</HostId></Error>"
    ).encode()
