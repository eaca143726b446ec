"""Fixtures of the engine tests: a tiny scriptable HTTP server, a fake clock, packages on disk.

The real ArcGIS emulator (``arcgis_emulator``) is used by the integration tests; this small server
covers transport corner cases the emulator does not script (redirects to other hosts, servers that
ignore ``Range``, chunked answers ...).
"""
from __future__ import annotations

import io
import json
import threading
import time
import zipfile
from dataclasses import dataclass, field
from typing import Any, Callable

import pytest
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from plugin.core.errors import CancelledError


@dataclass
class Recorded:
    method: str
    path: str
    args: dict
    form: dict
    headers: dict
    url: str


@dataclass
class FakeServer:
    """A threaded werkzeug server; tests register ``route(path, handler)`` with ``handler(request)``."""

    routes: dict[str, Callable[[Request], Response]] = field(default_factory=dict)
    requests: list[Recorded] = field(default_factory=list)
    base_url: str = ""

    def route(self, path: str, handler: Callable[[Request], Response] | dict | Response) -> None:
        if isinstance(handler, (dict, list)):
            body = handler
            self.routes[path] = lambda request: json_response(body)
        elif isinstance(handler, Response):
            resp = handler
            self.routes[path] = lambda request: resp
        else:
            self.routes[path] = handler

    def url(self, path: str) -> str:
        return self.base_url + path

    def __call__(self, environ: dict, start_response: Any) -> Any:
        request = Request(environ)
        self.requests.append(Recorded(request.method, request.path, dict(request.args),
                                      dict(request.form), dict(request.headers), request.url))
        handler = self.routes.get(request.path)
        response = handler(request) if handler else json_response(
            {"error": {"code": 404, "message": "not found", "details": []}}, status=404)
        return response(environ, start_response)


def json_response(doc: Any, status: int = 200, headers: dict | None = None) -> Response:
    return Response(json.dumps(doc), status=status, mimetype="application/json", headers=headers)


def ranged_file_response(request: Request, data: bytes, etag: str | None = '"v1"',
                         honour_range: bool = True, drop_after: int | None = None) -> Response:
    """Serve ``data`` like a static file server: ETag, Range/If-Range, optional early close."""
    start = 0
    status = 200
    rng = request.headers.get("Range")
    if_range = request.headers.get("If-Range")
    if rng and honour_range and (if_range is None or if_range == etag):
        start = int(rng.split("=")[1].split("-")[0])
        if start >= len(data):
            return Response(status=416, headers={"Content-Range": f"bytes */{len(data)}"})
        status = 206
    body = data[start:]
    headers = {"Content-Length": str(len(body)), "Accept-Ranges": "bytes"}
    if etag:
        headers["ETag"] = etag
    if status == 206:
        headers["Content-Range"] = f"bytes {start}-{len(data) - 1}/{len(data)}"
    if drop_after is not None:
        body = body[:drop_after]  # Content-Length still announces the whole: the client sees a short read
    # an iterable body: werkzeug keeps our Content-Length even when fewer bytes follow
    resp = Response(iter([body]), status=status, mimetype="application/zip", headers=headers)
    resp.automatically_set_content_length = False
    return resp


@pytest.fixture
def fake_server():
    server = FakeServer()
    httpd = make_server("127.0.0.1", 0, server, threaded=True)
    server.base_url = f"http://127.0.0.1:{httpd.server_port}"
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        httpd.shutdown()
        thread.join(5)


class FakeClock:
    """Fast sleeps on a virtual timeline (records every sleep); honours cancel.

    Each sleep of ``s`` virtual seconds really waits ``s * real_per_second`` (1 ms per second by
    default): polling stays fast, yet the emulator's job threads (same process, same GIL) get time
    to build packages even on a loaded machine, so a generous virtual timeout never fires spuriously.
    """

    def __init__(self, real_per_second: float = 0.001) -> None:
        self.t = 1000.0
        self.sleeps: list[float] = []
        self.real_per_second = real_per_second
        self.on_sleep: Callable[[float], None] | None = None

    def now(self) -> float:
        return self.t

    def sleep(self, seconds: float, cancel: Any = None) -> None:
        self.sleeps.append(seconds)
        self.t += max(0.0, seconds)
        if self.on_sleep is not None:
            self.on_sleep(seconds)
        pause = max(0.0, seconds) * self.real_per_second
        if cancel is not None:
            if cancel.wait(pause):
                raise CancelledError()
        elif pause:
            time.sleep(pause)


@pytest.fixture
def fake_clock():
    return FakeClock()


def make_package(entries: int = 3, size: int = 2000, name_prefix: str = "tile/L00/R0000C0000") -> bytes:
    """A small valid zip (STORED entries, like Esri's packages)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as zf:
        zf.writestr("root.json", json.dumps({"name": "test"}))
        for i in range(entries):
            zf.writestr(f"{name_prefix}_{i}.bundle", bytes((i + j) % 251 for j in range(size)))
    return buf.getvalue()


@pytest.fixture
def package_bytes() -> bytes:
    return make_package(entries=4, size=50_000)


# --- the ArcGIS emulator ---------------------------------------------------------------------------
@pytest.fixture
def emu(emulator):
    """The shared emulator of tests/conftest.py (reset around every test), under the engine tests' name."""
    return emulator


@pytest.fixture
def fast_session(fake_clock):
    from plugin.core.http import HttpConfig, create_session

    return create_session(HttpConfig(version="test", retries=3), clock=fake_clock)
