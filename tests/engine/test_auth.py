"""Tokens: generateToken discovery, refresh, 498/499 handling, host binding, no secret in logs."""
from __future__ import annotations

import logging

import pytest
from werkzeug.wrappers import Response

from plugin.core import jobs
from plugin.core.auth import PasswordAuth, TokenAuth, make_auth
from plugin.core.errors import AuthError, AuthFailedError, AuthRequiredError
from plugin.core.http import HttpConfig, create_session, get_json, post_json
from plugin.core.jobs import PollPolicy

from .conftest import json_response
from .test_jobs import map_params

PASSWORD = "field-work-2026"


def secured_url(emu):
    return emu.service_url("World_Map", "MapServer", folder="Secured")


def _all_text(caplog) -> str:
    return "\n".join(f"{r.name} {r.getMessage()} {r.exc_text or ''}" for r in caplog.records
                     if not r.name.startswith("werkzeug"))


@pytest.fixture
def debug_logs(caplog):
    caplog.set_level(logging.DEBUG)
    for name in ("urllib3", "urllib3.connectionpool", "requests", "plugin"):
        logging.getLogger(name).setLevel(logging.DEBUG)
    return caplog


def test_password_auth_discovers_token_url_and_uses_header(emu, fake_clock, debug_logs):
    auth = PasswordAuth("analyst", PASSWORD)
    session = create_session(HttpConfig(retries=1), auth=auth, clock=fake_clock)
    url = secured_url(emu)
    auth.bind(url)
    doc = get_json(session, url)
    assert doc["tileInfo"]
    token = auth.current_token()
    paths = [r.path for r in emu.requests]
    assert paths[:2] == ["/arcgis/rest/info", "/arcgis/tokens/generateToken"]
    gen = emu.requests_to("generateToken")[0]
    assert gen.method == "POST" and gen.form["username"] == "analyst" and "password" not in gen.args
    service_req = emu.requests[-1]
    assert service_req.header("X-Esri-Authorization") == f"Bearer {token}"
    assert "token" not in service_req.params
    text = _all_text(debug_logs)
    assert "urllib3" in text  # the debug lines were captured ...
    assert token not in text and PASSWORD not in text  # ... and hold no secret


def test_full_secured_export_and_token_expiring_mid_job(emu, fake_clock, tmp_path, debug_logs):
    auth = PasswordAuth("analyst", PASSWORD)
    session = create_session(HttpConfig(retries=1), auth=auth, clock=fake_clock)
    url = secured_url(emu)
    auth.bind(url)
    emu.configure("Secured/World_Map/MapServer", job_steps=4)
    job = jobs.submit(session, url, map_params())
    first = auth.current_token()
    fake_clock.on_sleep = lambda s: emu.expire_tokens() if len(fake_clock.sleeps) == 2 else None
    status = jobs.wait(session, job, policy=PollPolicy(timeout=3600), clock=fake_clock)
    assert status.state == jobs.SUCCEEDED
    second = auth.current_token()
    assert second != first
    assert len(emu.requests_to("generateToken")) == 2
    assert any(r.status == 200 and r.header("X-Esri-Authorization") == f"Bearer {second}"
               for r in emu.requests_to("/jobs/"))
    from plugin.core.download import download

    urls = jobs.package_urls(session, job, status)
    download(session, urls[0], tmp_path / "s.tpkx")
    text = _all_text(debug_logs)
    for secret in (first, second, PASSWORD):
        assert secret not in text


def test_token_refreshed_before_expiry(emu, fake_clock):
    now = [1_000_000.0]
    auth = PasswordAuth("analyst", PASSWORD, wall_clock=lambda: now[0])
    create_session(HttpConfig(), auth=auth, clock=fake_clock)  # attaches the session to the auth
    auth.bind(secured_url(emu))
    emu.configure_server(token_lifetime_s=120)
    import time as _time

    now[0] = _time.time()
    first = auth.current_token()
    assert auth.current_token() == first  # still fresh
    now[0] += 100  # inside the refresh margin (20% of 120 s)
    assert auth.current_token() != first
    assert len(emu.requests_to("generateToken")) == 2


def test_wrong_password(emu, fast_session):
    auth = PasswordAuth("analyst", "nope")
    session = create_session(HttpConfig(retries=0), auth=auth)
    auth.bind(secured_url(emu))
    with pytest.raises(AuthFailedError) as info:
        get_json(session, secured_url(emu))
    assert "user name or password" in str(info.value)
    assert "nope" not in str(info.value) + info.value.details


def test_no_credentials_is_auth_required(emu, fast_session):
    with pytest.raises(AuthRequiredError):
        get_json(fast_session, secured_url(emu))


def test_static_token_and_invalid_token(emu, fake_clock):
    token = emu.issue_token()
    session = create_session(HttpConfig(), auth=TokenAuth(token, hosts=[emu.base_url]), clock=fake_clock)
    assert get_json(session, secured_url(emu))["tileInfo"]
    emu.expire_tokens()
    with pytest.raises(AuthFailedError) as info:
        get_json(session, secured_url(emu))
    assert "expired" in str(info.value)
    assert token not in str(info.value)


def test_portal_style_generate_token(emu, fake_clock):
    auth = PasswordAuth("analyst", PASSWORD, portal_url=emu.base_url)
    session = create_session(HttpConfig(), auth=auth, clock=fake_clock)
    auth.bind(secured_url(emu))
    assert get_json(session, secured_url(emu))["tileInfo"]
    assert emu.requests_to("/sharing/rest/generateToken")
    assert not emu.requests_to("/rest/info")


def test_password_never_sent_over_plain_http_to_remote_hosts():
    auth = PasswordAuth("analyst", PASSWORD, token_url="http://gis.example.com/arcgis/tokens/generateToken")
    auth.attach(create_session(HttpConfig(retries=0)))
    with pytest.raises(AuthError) as info:
        auth.current_token()
    assert "not secure" in str(info.value)


def test_token_not_sent_to_other_hosts_or_after_redirects(fake_server, fake_clock):
    other = fake_server.base_url.replace("127.0.0.1", "localhost")
    fake_server.route("/svc", {"ok": True})
    fake_server.route("/redirect", Response(status=302, headers={"Location": other + "/svc"}))
    session = create_session(HttpConfig(), auth=TokenAuth("SECRET", hosts=[fake_server.base_url]), clock=fake_clock)
    get_json(session, fake_server.url("/svc"))
    get_json(session, other + "/svc")
    get_json(session, fake_server.url("/redirect"))
    sent = [(r.url.split("/")[2], r.headers.get("X-Esri-Authorization")) for r in fake_server.requests]
    assert sent[0][1] == "Bearer SECRET"
    assert sent[1] == (other.split("/")[2], None)
    assert sent[2][1] == "Bearer SECRET"  # the redirecting request itself
    assert sent[3] == (other.split("/")[2], None)  # followed to another host: stripped


def test_falls_back_to_token_parameter_when_header_is_ignored(fake_server, fake_clock, debug_logs):
    def svc(request):
        if request.values.get("token") != "SECRET":
            return json_response({"error": {"code": 499, "message": "Token Required", "details": []}})
        return json_response({"ok": request.method})

    fake_server.route("/svc", svc)
    session = create_session(HttpConfig(), auth=TokenAuth("SECRET", hosts=[fake_server.base_url]), clock=fake_clock)
    assert get_json(session, fake_server.url("/svc")) == {"ok": "GET"}
    assert post_json(session, fake_server.url("/svc"), {"levels": "1"}) == {"ok": "POST"}
    post = fake_server.requests[-1]
    assert post.form["token"] == "SECRET" and "token" not in post.args  # in the body, not the URL
    assert "SECRET" not in _all_text(debug_logs)


def test_make_auth_variants():
    assert make_auth() is None
    assert isinstance(make_auth(token="t"), TokenAuth)
    assert isinstance(make_auth(username="u", password="p"), PasswordAuth)
    header = make_auth(headers={"X-Api-Key": "api-secret"}, hosts=["https://a.example.com"])
    assert "api-secret" not in repr(header)
    assert "pass-secret" not in repr(make_auth(username="u", password="pass-secret"))
    assert "tok-secret" not in repr(make_auth(token="tok-secret"))
