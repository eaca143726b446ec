"""The session factory and the ArcGIS JSON helper against a scriptable local server."""
from __future__ import annotations

import json

import pytest
from werkzeug.wrappers import Response

from plugin.core.errors import (
    AuthFailedError,
    AuthRequiredError,
    CancelledError,
    InvalidRequestError,
    NetworkError,
    ServerError,
    ServiceError,
    ServiceNotFoundError,
)
from plugin.core.http import (
    CancelToken,
    HttpConfig,
    arcgis_error,
    create_session,
    get_json,
    host_key,
    post_json,
    send_params,
)

from .conftest import json_response


@pytest.fixture
def session(fake_clock):
    return create_session(HttpConfig(version="9.9.9", retries=3), clock=fake_clock)


def _sequence(*responses):
    items = list(responses)

    def handler(request):
        return items.pop(0) if len(items) > 1 else items[0]
    return handler


def test_user_agent_timeout_and_tls_defaults(fake_server, session):
    fake_server.route("/ok", {"ok": True})
    assert get_json(session, fake_server.url("/ok")) == {"ok": True}
    rec = fake_server.requests[-1]
    assert rec.headers["User-Agent"].startswith("ArcGIS-Offline-Tiles/9.9.9")
    assert rec.args["f"] == "json"
    assert session.verify is True
    assert session.config.timeout == (15.0, 60.0)


def test_timeout_always_set(monkeypatch, session):
    seen = {}

    def fake_request(self, method, url, *args, **kwargs):
        seen.update(kwargs)
        raise __import__("requests").exceptions.ConnectTimeout("boom")

    monkeypatch.setattr("requests.Session.request", fake_request)
    with pytest.raises(NetworkError):
        session.get("http://127.0.0.1:9/x")
    assert seen["timeout"] == (15.0, 60.0)


@pytest.mark.parametrize("status", [429, 502, 503, 504])
def test_retries_transient_statuses_with_backoff(fake_server, session, fake_clock, status):
    fake_server.route("/svc", _sequence(json_response({}, status=status), json_response({}, status=status),
                                        json_response({"name": "x"})))
    assert get_json(session, fake_server.url("/svc")) == {"name": "x"}
    assert len(fake_server.requests) == 3
    assert len(fake_clock.sleeps) == 2
    assert fake_clock.sleeps[1] > fake_clock.sleeps[0]  # back-off grows


def test_retry_after_is_respected(fake_server, session, fake_clock):
    fake_server.route("/svc", _sequence(json_response({}, status=429, headers={"Retry-After": "7"}),
                                        json_response({"a": 1})))
    assert get_json(session, fake_server.url("/svc")) == {"a": 1}
    assert fake_clock.sleeps == [7.0]


def test_retries_exhausted_is_server_error(fake_server, session):
    fake_server.route("/svc", json_response({}, status=503))
    with pytest.raises(ServerError) as info:
        get_json(session, fake_server.url("/svc"))
    assert len(fake_server.requests) == 4
    assert "503" in str(info.value)


def test_post_is_retried_on_503_too(fake_server, session):
    fake_server.route("/op", _sequence(json_response({}, status=503), json_response({"jobId": "j1"})))
    assert post_json(session, fake_server.url("/op"), {"a": "b"}) == {"jobId": "j1"}
    assert [r.method for r in fake_server.requests] == ["POST", "POST"]


def test_connection_refused_is_network_error(session, fake_clock):
    with pytest.raises(NetworkError) as info:
        get_json(session, "http://127.0.0.1:9/arcgis/rest/services")
    assert "could not be reached" in str(info.value)
    assert len(fake_clock.sleeps) == 3  # connect failures are retried


@pytest.mark.parametrize(("body", "exc_type"), [
    ({"error": {"code": 498, "message": "Invalid token.", "details": []}}, AuthFailedError),
    ({"error": {"code": 499, "message": "Token Required", "details": []}}, AuthRequiredError),
    ({"error": {"code": 403, "message": "You do not have permissions", "messageCode": "GWM_0003"}},
     AuthFailedError),
    ({"error": {"code": 500, "message": "x", "messageCode": "GWM_0003"}}, AuthRequiredError),
    ({"error": {"code": 400, "message": "Unable to generate token.", "details": ["Invalid username or password."]}},
     AuthFailedError),
    ({"error": {"code": 404, "message": "Service Hosted/X/MapServer not found ", "details": []}},
     ServiceNotFoundError),
    ({"error": {"code": 400, "message": "Invalid URL", "details": ["Invalid URL"]}}, InvalidRequestError),
    ({"error": {"code": 500, "message": "boom", "details": []}}, ServerError),
])
def test_http_200_error_bodies_are_typed(fake_server, session, body, exc_type):
    fake_server.route("/svc", body)
    with pytest.raises(exc_type):
        get_json(session, fake_server.url("/svc"))


def test_real_error_fixtures_map(real_fixtures):
    folder = real_fixtures / "json"
    cases = {
        "insidenothing_coronavirus_error_499_TokenRequired_GWM_0003_AGOL.json": AuthRequiredError,
        "insidenothing_coronavirus_error_400_InvalidURL_AGOL.json": InvalidRequestError,
        "insidenothing_coronavirus_error_400_CannotPerformQuery_pretty.json": InvalidRequestError,
        "insidenothing_coronavirus_error_429_quota_exceeded_pretty.json": ServerError,
        "insidenothing_coronavirus_error_503_AGOL.json": ServerError,
        "insidenothing_coronavirus_error_504_timed_out_AGOL.json": ServerError,
    }
    for name, exc_type in cases.items():
        doc = json.loads((folder / name).read_text())
        exc = arcgis_error(doc["error"], "https://example.com/x")
        assert isinstance(exc, exc_type), name
        assert exc.user_message


def test_body_level_503_is_retried(fake_server, session, real_fixtures):
    body = json.loads((real_fixtures / "json" / "insidenothing_coronavirus_error_503_AGOL.json").read_text())
    fake_server.route("/svc", _sequence(json_response(body), json_response({"ok": 1})))
    assert get_json(session, fake_server.url("/svc")) == {"ok": 1}


def test_http_404_without_json(fake_server, session):
    fake_server.route("/nothing", Response("Not here", status=404, mimetype="text/plain"))
    with pytest.raises(ServiceNotFoundError):
        get_json(session, fake_server.url("/nothing"))


def test_html_page_is_a_clear_error(fake_server, session):
    fake_server.route("/home", Response("<!DOCTYPE html><html><body>Sign in</body></html>",
                                        mimetype="text/html"))
    with pytest.raises(ServiceError) as info:
        get_json(session, fake_server.url("/home"))
    assert "web page" in str(info.value)


def test_invalid_json_retried_then_reported(fake_server, session):
    fake_server.route("/bad", Response('{"name": "trunc', mimetype="application/json"))
    with pytest.raises(ServerError) as info:
        get_json(session, fake_server.url("/bad"))
    assert "invalid JSON" in str(info.value)
    assert len(fake_server.requests) == 4


def test_invalid_json_once_recovers(fake_server, session):
    fake_server.route("/bad", _sequence(Response("{oops", mimetype="application/json"),
                                        json_response({"fine": True})))
    assert get_json(session, fake_server.url("/bad")) == {"fine": True}


def test_long_requests_are_posted(fake_server, session):
    fake_server.route("/op", {"jobId": "j"})
    send_params(session, fake_server.url("/op"), {"levels": "1-3"})
    send_params(session, fake_server.url("/op"), {"polygon": "x" * 3000})
    assert [r.method for r in fake_server.requests] == ["GET", "POST"]
    assert fake_server.requests[1].form["polygon"] == "x" * 3000
    assert fake_server.requests[1].form["f"] == "json"


def test_cancel_stops_retry_sleep(fake_server):
    cancel = CancelToken()
    session = create_session(HttpConfig(retries=5, backoff=30))
    fake_server.route("/svc", json_response({}, status=503))
    import threading
    threading.Timer(0.2, cancel.cancel).start()
    import time
    started = time.monotonic()
    with pytest.raises(CancelledError):
        get_json(session, fake_server.url("/svc"), cancel=cancel)
    assert time.monotonic() - started < 5


def test_no_proxy_bypasses_the_proxy(fake_server):
    # a proxy that does not exist: requests to hosts in no_proxy must not try it
    session = create_session(HttpConfig(proxies={"http": "http://127.0.0.1:9", "https": "http://127.0.0.1:9",
                                                 "no_proxy": "localhost,127.0.0.1"}, retries=0))
    fake_server.route("/ok", {"ok": True})
    assert get_json(session, fake_server.url("/ok")) == {"ok": True}
    proxied = create_session(HttpConfig(proxies={"http": "http://127.0.0.1:9"}, retries=0))
    with pytest.raises(NetworkError):
        get_json(proxied, fake_server.url("/ok"))


def test_host_key_normalises_ports():
    assert host_key("https://Example.com/a") == host_key("https://example.com:443/b")
    assert host_key("http://example.com/a") != host_key("https://example.com/a")


def test_utf8_json_without_charset(fake_server, session, real_fixtures):
    raw = (real_fixtures / "json" / "JN_SYSTEM1_Jinnan_JNKG_MapServer_10.4_CGCS2000_4548_compact.json").read_bytes()
    fake_server.route("/arcgis/rest/services/JN/MapServer", Response(raw, content_type="text/plain"))
    doc = get_json(session, fake_server.url("/arcgis/rest/services/JN/MapServer"))
    assert doc["mapName"] == "图层"


def test_a_ca_bundle_reaches_requests_for_json_and_downloads(fake_server, tmp_path, monkeypatch, fake_clock,
                                                              package_bytes):
    """QGIS passes its CA bundle as HttpConfig.verify; an environment bundle must not replace it."""
    from requests.adapters import HTTPAdapter

    from plugin.core.download import download

    from .conftest import ranged_file_response

    bundle = tmp_path / "corporate-ca.pem"
    bundle.write_text("-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n")
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(tmp_path / "some-other-ca.pem"))
    session = create_session(HttpConfig(verify=str(bundle)), clock=fake_clock)
    received = []

    class Recording(HTTPAdapter):  # what requests hands to the transport, then the real send
        def send(self, request, **kwargs):
            received.append(kwargs["verify"])
            return super().send(request, **kwargs)

    session.mount("http://", Recording())
    fake_server.route("/ok", {"ok": True})
    fake_server.route("/p.tpkx", lambda request: ranged_file_response(request, package_bytes))
    assert get_json(session, fake_server.url("/ok")) == {"ok": True}
    assert download(session, fake_server.url("/p.tpkx"), tmp_path / "p.tpkx").read_bytes() == package_bytes
    assert received and set(received) == {str(bundle)}
