"""Trust under hostile servers and proxies: credentials stay on their host, secrets stay out of
messages and logs, JSON answers are bounded in size and time, a proxy's 407 says what to do."""
from __future__ import annotations

import gzip
import http.server
import logging
import threading
import time

import pytest
from werkzeug.wrappers import Response

from plugin.core import jobs
from plugin.core.auth import HeaderAuth, TokenAuth, make_auth
from plugin.core.errors import (
    CancelledError,
    InvalidRequestError,
    NetworkError,
    ProxyAuthError,
    ResponseTooLargeError,
    ServerError,
)
from plugin.core.http import CancelToken, HttpConfig, create_session, get_json, post_json

from .conftest import json_response

API_KEY = "API-KEY-SECRET-123"
TOKEN = "TOKEN-SECRET-456"


def _other(fake_server) -> str:
    """The same server under another host name: credentials bound to 127.0.0.1 must not go there."""
    return fake_server.base_url.replace("127.0.0.1", "localhost")


def _host(rec) -> str:
    return rec.url.split("/")[2].split(":")[0]


@pytest.fixture
def debug_logs(caplog):
    caplog.set_level(logging.DEBUG)
    for name in ("urllib3", "urllib3.connectionpool", "requests", "plugin"):
        logging.getLogger(name).setLevel(logging.DEBUG)
    return caplog


def _log_text(caplog) -> str:
    return "\n".join(f"{r.getMessage()} {r.exc_text or ''}" for r in caplog.records
                     if not r.name.startswith("werkzeug"))


# --- credentials never reach another host ------------------------------------------------------
def test_api_header_goes_to_its_host_only(fake_server, fake_clock):
    fake_server.route("/svc", {"ok": True})
    session = create_session(HttpConfig(), auth=HeaderAuth({"X-Api-Key": API_KEY}, hosts=[fake_server.base_url]),
                             clock=fake_clock)
    get_json(session, fake_server.url("/svc"))
    get_json(session, _other(fake_server) + "/svc")
    assert fake_server.requests[0].headers.get("X-Api-Key") == API_KEY
    assert _host(fake_server.requests[1]) == "localhost" and "X-Api-Key" not in fake_server.requests[1].headers


def test_api_header_kept_on_a_same_host_redirect(fake_server, fake_clock):
    fake_server.route("/svc", {"ok": True})
    fake_server.route("/moved", Response(status=302, headers={"Location": fake_server.url("/svc")}))
    session = create_session(HttpConfig(), auth=make_auth(headers={"X-Api-Key": API_KEY},
                                                          hosts=[fake_server.base_url]), clock=fake_clock)
    assert get_json(session, fake_server.url("/moved")) == {"ok": True}
    assert [r.headers.get("X-Api-Key") for r in fake_server.requests] == [API_KEY, API_KEY]


def test_api_header_not_forwarded_on_302_get_to_another_host(fake_server, fake_clock):
    fake_server.route("/svc", {"ok": True})
    fake_server.route("/moved", Response(status=302, headers={"Location": _other(fake_server) + "/svc"}))
    session = create_session(HttpConfig(), auth=HeaderAuth({"X-Api-Key": API_KEY}, hosts=[fake_server.base_url]),
                             clock=fake_clock)
    assert get_json(session, fake_server.url("/moved")) == {"ok": True}
    first, second = fake_server.requests
    assert first.headers.get("X-Api-Key") == API_KEY
    assert _host(second) == "localhost" and "X-Api-Key" not in second.headers


@pytest.mark.parametrize("status", [307, 308])
def test_api_header_not_forwarded_on_a_post_redirect_to_another_host(fake_server, fake_clock, status):
    fake_server.route("/svc", {"ok": True})
    fake_server.route("/moved", Response(status=status, headers={"Location": _other(fake_server) + "/svc"}))
    session = create_session(HttpConfig(), auth=HeaderAuth({"X-Api-Key": API_KEY}, hosts=[fake_server.base_url]),
                             clock=fake_clock)
    assert post_json(session, fake_server.url("/moved"), {"levels": "1-2"}) == {"ok": True}
    first, second = fake_server.requests
    assert first.headers.get("X-Api-Key") == API_KEY
    assert second.method == "POST" and _host(second) == "localhost"
    assert "X-Api-Key" not in second.headers and second.form["levels"] == "1-2"  # the body went, the key not


@pytest.mark.parametrize("status", [307, 308])
def test_form_token_not_resent_in_the_body_to_another_host(fake_server, fake_clock, debug_logs, status):
    """A 499 switches the host to form-field tokens; a 307/308 to a foreign host must not carry it."""
    def svc(request):
        if request.values.get("token") != TOKEN:
            return json_response({"error": {"code": 499, "message": "Token Required", "details": []}})
        return json_response({"ok": request.method})

    fake_server.route("/svc", svc)
    fake_server.route("/other", lambda request: json_response({"foreign": dict(request.values)}))
    fake_server.route("/moved", Response(status=status, headers={"Location": _other(fake_server) + "/other"}))
    session = create_session(HttpConfig(), auth=TokenAuth(TOKEN, hosts=[fake_server.base_url]), clock=fake_clock)
    assert post_json(session, fake_server.url("/svc"), {"levels": "1"}) == {"ok": "POST"}  # now in param mode
    answer = post_json(session, fake_server.url("/moved"), {"levels": "3"})
    moved, foreign = fake_server.requests[-2:]
    assert moved.form["token"] == TOKEN  # the bound host gets it in the body ...
    assert _host(foreign) == "localhost" and foreign.method == "POST"
    assert "token" not in foreign.form and "token" not in foreign.args  # ... the other host not at all
    assert "X-Esri-Authorization" not in foreign.headers
    assert answer == {"foreign": {"levels": "3", "f": "json"}}
    assert TOKEN not in _log_text(debug_logs)


def test_token_in_the_query_not_forwarded_to_another_host(fake_server, fake_clock):
    def svc(request):
        if request.values.get("token") != TOKEN:
            return json_response({"error": {"code": 499, "message": "Token Required", "details": []}})
        return json_response({"ok": True})

    fake_server.route("/svc", svc)
    fake_server.route("/other", {"ok": "other"})
    fake_server.route("/moved", Response(status=302, headers={"Location": _other(fake_server) + "/other"}))
    session = create_session(HttpConfig(), auth=TokenAuth(TOKEN, hosts=[fake_server.base_url]), clock=fake_clock)
    get_json(session, fake_server.url("/svc"))  # 499 → the host gets its token in the query from now on
    assert get_json(session, fake_server.url("/moved")) == {"ok": "other"}
    assert fake_server.requests[-2].args.get("token") == TOKEN
    assert "token" not in fake_server.requests[-1].args and _host(fake_server.requests[-1]) == "localhost"


# --- secrets never reach a message, a log or the export store -----------------------------------
def test_server_echoes_of_tokens_are_redacted_in_errors(fake_server):
    echoed = (f"Invalid request token={TOKEN} from header X-Esri-Authorization: Bearer {TOKEN}; "
              f'{{"token": "{TOKEN}"}}')
    fake_server.route("/svc", {"error": {"code": 400, "message": echoed, "details": [f"apikey={API_KEY}"]}})
    session = create_session(HttpConfig(retries=0))
    with pytest.raises(InvalidRequestError) as info:
        get_json(session, fake_server.url("/svc"))
    everything = f"{info.value} {info.value.details} {getattr(info.value, 'server_message', '')}"
    assert "Invalid request" in everything
    assert TOKEN not in everything and API_KEY not in everything


def test_server_echoes_of_tokens_are_redacted_in_job_messages(fake_server):
    status_doc = {"jobId": "j1", "jobStatus": "esriJobExecuting", "messages": [
        {"type": "esriJobMessageTypeInformative", "description": f"Checking token={TOKEN}"},
    ], "progress": {"type": "default", "message": f"Authorization: Bearer {TOKEN}", "percent": 10}}
    failed_doc = {"jobId": "j2", "jobStatus": "esriJobFailed", "messages": [
        {"type": "esriJobMessageTypeError", "description": f"Failed for token={TOKEN}"}]}
    fake_server.route("/svc/jobs/j1", status_doc)
    fake_server.route("/svc/jobs/j2", failed_doc)
    session = create_session(HttpConfig(retries=0))
    status = jobs.fetch_status(session, jobs.Job(fake_server.url("/svc"), "j1"))
    assert status.fraction == 0.1 and "Bearer" in status.message
    assert TOKEN not in status.message + " ".join(status.errors)
    failed = jobs.fetch_status(session, jobs.Job(fake_server.url("/svc"), "j2"))
    assert TOKEN not in " ".join(failed.errors)
    with pytest.raises(Exception) as info:
        jobs.raise_for_failure(failed, jobs.Job(fake_server.url("/svc"), "j2"))
    assert "Failed for token=***" in str(info.value)


@pytest.mark.parametrize("query", [
    "sv=2021-08-06&se=2030-01-01T00%3A00%3AZ&sr=b&sp=r&sig=AzureSIGNATURE%2Bsecret%3D",
    "X-Goog-Algorithm=GOOG4-RSA-SHA256&X-Goog-Credential=robot%40proj.iam.gserviceaccount.com%2F20300101"
    "&X-Goog-Date=20300101T000000Z&X-Goog-Expires=900&X-Goog-SignedHeaders=host&X-Goog-Signature=GoogleSIGNATUREsecret",
    "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAEXAMPLE%2F20300101&X-Amz-Signature=AmazonSIGNATUREsecret",
], ids=["azure", "google", "amazon"])
def test_presigned_signatures_never_logged(fake_server, tmp_path, debug_logs, package_bytes, query):
    from plugin.core.download import download, looks_presigned

    from .conftest import ranged_file_response

    calls = {"n": 0}

    def handler(request):  # a dropped connection and an error: the URL is logged on several paths
        calls["n"] += 1
        if calls["n"] == 1:
            return json_response({}, status=503)
        return ranged_file_response(request, package_bytes, drop_after=10_000 if calls["n"] == 2 else None)

    fake_server.route("/blob/out.vtpk", handler)
    url = fake_server.url(f"/blob/out.vtpk?{query}")
    assert looks_presigned(url)
    download(create_session(HttpConfig(retries=2, backoff=0.001)), url, tmp_path / "out.vtpk")
    text = _log_text(debug_logs)
    assert "/blob/out.vtpk" in text  # the URL was logged ...
    for secret in ("AzureSIGNATURE", "GoogleSIGNATURE", "robot%40proj", "AmazonSIGNATURE", "AKIAEXAMPLE"):
        assert secret not in text  # ... without its signature


# --- JSON answers are bounded in size and time ----------------------------------------------
def test_an_oversized_json_answer_is_refused_once(fake_server):
    body = b'{"name": "' + b"x" * (3 << 20) + b'"}'
    fake_server.route("/svc", Response(body, mimetype="application/json"))
    session = create_session(HttpConfig(retries=3, backoff=0.001, max_json_bytes=1 << 20))
    with pytest.raises(ResponseTooLargeError) as info:
        get_json(session, fake_server.url("/svc"))
    assert "1 MB" in str(info.value) and "127.0.0.1" in str(info.value)
    assert len(fake_server.requests) == 1  # not retried: it would be as big again


def test_a_gzip_bomb_is_refused_with_a_typed_error(fake_server):
    inflated = b'{"name": "' + b"0" * (64 << 20) + b'"}'  # 64 MB that travel as about 64 KB
    bomb = gzip.compress(inflated, compresslevel=9)
    assert len(bomb) < 200_000
    fake_server.route("/svc", Response(bomb, mimetype="application/json", headers={"Content-Encoding": "gzip"}))
    session = create_session(HttpConfig(retries=3, backoff=0.001))  # the default limit
    with pytest.raises(ResponseTooLargeError):
        get_json(session, fake_server.url("/svc"))
    assert len(fake_server.requests) == 1


def test_a_normal_gzip_answer_still_reads(fake_server):
    fake_server.route("/svc", Response(gzip.compress(b'{"currentVersion": 10.91}'), mimetype="application/json",
                                       headers={"Content-Encoding": "gzip"}))
    assert get_json(create_session(HttpConfig()), fake_server.url("/svc")) == {"currentVersion": 10.91}


def _trickle(request):
    def body():
        yield b'{"name": "'
        for _ in range(600):  # one byte every 50 ms: half a minute for 600 bytes
            time.sleep(0.05)
            yield b"x"
        yield b'"}'
    return Response(body(), mimetype="application/json")


def test_a_slow_loris_json_answer_ends_at_the_deadline(fake_server):
    fake_server.route("/svc", _trickle)
    session = create_session(HttpConfig(retries=2, backoff=0.001, json_deadline=0.5))
    started = time.monotonic()
    with pytest.raises(NetworkError) as info:
        get_json(session, fake_server.url("/svc"))
    assert not isinstance(info.value, ServerError)
    assert "in the time allowed" in str(info.value)
    assert time.monotonic() - started < 10  # generous: the trickle alone would last 30 s
    assert len(fake_server.requests) == 1


def test_cancel_stops_a_json_answer_mid_body(fake_server):
    fake_server.route("/svc", _trickle)
    session = create_session(HttpConfig(json_deadline=120))
    cancel = CancelToken()
    threading.Timer(0.3, cancel.cancel).start()
    started = time.monotonic()
    with pytest.raises(CancelledError):
        get_json(session, fake_server.url("/svc"), cancel=cancel)
    assert time.monotonic() - started < 10


# --- a proxy that wants credentials ----------------------------------------------------------
class _Proxy407(http.server.BaseHTTPRequestHandler):
    def _refuse(self) -> None:
        self.send_response(407, "Proxy Authentication Required")
        self.send_header("Proxy-Authenticate", 'Basic realm="corp"')
        self.send_header("Content-Type", "text/html")
        body = b"<html><body><h1>407 Proxy Authentication Required</h1></body></html>"
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = do_CONNECT = _refuse

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def proxy_407():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Proxy407)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(5)


@pytest.mark.parametrize("scheme", ["http", "https"])
def test_a_proxy_asking_for_credentials_says_where_to_set_them(proxy_407, scheme, monkeypatch):
    for name in ("no_proxy", "NO_PROXY"):
        monkeypatch.delenv(name, raising=False)
    session = create_session(HttpConfig(retries=2, backoff=0.001, proxies={"http": proxy_407, "https": proxy_407}))
    with pytest.raises(ProxyAuthError) as info:
        get_json(session, f"{scheme}://127.0.0.2:9/arcgis/rest/services/X/MapServer")
    message = str(info.value)
    assert "proxy" in message and "Settings > Options > Network" in message
    assert "service" not in message.split("(")[0]  # not reported as the service's fault


def test_cancel_during_a_submit_answer_keeps_the_new_job(fake_server):
    """The job exists on the server once the submit arrived: its id must not be dropped on cancel,
    or nobody could cancel that server job any more."""
    def slow_submit(request):
        def body():
            yield b'{"jobId": "j1", '
            time.sleep(0.6)
            yield b'"jobStatus": "esriJobSubmitted"}'
        return Response(body(), mimetype="application/json")

    fake_server.route("/svc/exportTiles", slow_submit)
    cancel = CancelToken()
    threading.Timer(0.2, cancel.cancel).start()
    job = jobs.submit(create_session(HttpConfig()), fake_server.url("/svc"), {"levels": "1"}, cancel=cancel)
    assert job.job_id == "j1" and cancel.cancelled
    assert fake_server.requests[0].method == "GET"  # a short submit goes as a GET, yet creates a job


class _HeaderTrickle:
    """A raw server on 127.0.0.1 that reads a request, then sends its status line and headers one byte
    every 50 ms for ever (``silent``: sends nothing at all); counts the connections it got."""

    def __init__(self, silent: bool = False) -> None:
        import socket

        self.silent = silent
        self.connections = 0
        self.stop = threading.Event()
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.sock.settimeout(0.1)
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self.connections += 1
            threading.Thread(target=self._answer, args=(conn,), daemon=True).start()

    def _answer(self, conn) -> None:
        with conn:
            try:
                conn.recv(65536)
                if self.silent:
                    self.stop.wait(30)
                    return
                conn.sendall(b"HTTP/1.1 200 OK\r\nX-Slow: ")
                while not self.stop.wait(0.05):
                    conn.sendall(b"a")
            except OSError:
                return

    def close(self) -> None:
        self.stop.set()
        self.sock.close()


@pytest.fixture
def header_trickle():
    server = _HeaderTrickle()
    yield server
    server.close()


@pytest.fixture
def silent_server():
    server = _HeaderTrickle(silent=True)
    yield server
    server.close()


def test_a_server_trickling_its_headers_ends_at_the_json_deadline(header_trickle):
    session = create_session(HttpConfig(retries=3, backoff=0.001, json_deadline=0.5))
    started = time.monotonic()
    with pytest.raises(NetworkError) as info:
        get_json(session, header_trickle.url + "/arcgis/rest/services")
    assert "in the time allowed" in str(info.value)
    assert time.monotonic() - started < 10  # generous: the read timeout (60 s) restarts with every byte
    assert header_trickle.connections == 1  # not retried past the deadline


def test_cancel_ends_a_request_waiting_for_its_headers(silent_server):
    session = create_session(HttpConfig(retries=3, json_deadline=120))
    cancel = CancelToken()
    threading.Timer(0.3, cancel.cancel).start()
    started = time.monotonic()
    with pytest.raises(CancelledError):
        get_json(session, silent_server.url + "/arcgis/rest/services", cancel=cancel)
    assert time.monotonic() - started < 10  # the read timeout alone would wait 60 s
    assert silent_server.connections == 1


def test_cancel_ends_a_download_waiting_for_its_headers(silent_server, tmp_path):
    from plugin.core.download import download

    cancel = CancelToken()
    threading.Timer(0.3, cancel.cancel).start()
    started = time.monotonic()
    with pytest.raises(CancelledError):
        download(create_session(HttpConfig(retries=3)), silent_server.url + "/out.tpkx", tmp_path / "a.tpkx",
                 cancel=cancel)
    assert time.monotonic() - started < 10


def test_https_and_proxied_connections_are_watched_too():
    """The in-flight watchdog finds its socket through the session's own connection classes."""
    session = create_session(HttpConfig(proxies={"http": "http://127.0.0.1:9", "https": "http://127.0.0.1:9"}))
    adapter = session.get_adapter("https://127.0.0.2/")
    direct = adapter.poolmanager.connection_from_url("https://127.0.0.2/")
    proxied = adapter.proxy_manager_for("http://127.0.0.1:9").connection_from_url("https://127.0.0.2/")
    for pool in (direct, proxied):
        assert hasattr(pool.ConnectionCls, "request_chunked") and pool.ConnectionCls.__mro__[1].__name__ == "_Tracked"
