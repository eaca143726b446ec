"""Tokens: generateToken (server and portal), secured services, token expiry in the middle of a job."""
from __future__ import annotations

import time

import pytest
import requests

from tests.emulator.server_helpers import TIMEOUT, get_json, poll, submit

GOOD = {"username": "analyst", "password": "field-work-2026"}


def _token(emulator, url=None, **extra) -> dict:
    response = requests.post(url or emulator.token_url, data={**GOOD, "f": "json", **extra}, timeout=TIMEOUT)
    assert response.status_code == 200
    return response.json()


@pytest.mark.parametrize("which", ["server", "portal"])
def test_generate_token(emulator, which):
    url = emulator.token_url if which == "server" else emulator.portal_token_url
    before = time.time()
    body = _token(emulator, url, expiration="30", client="referer", referer="https://qgis.example")
    assert set(body) == {"token", "expires", "ssl"} and body["ssl"] is False
    assert before * 1000 + 30 * 60_000 - 2000 <= body["expires"] <= time.time() * 1000 + 30 * 60_000 + 2000
    secured = f"{emulator.secured_service_url}"
    assert "tileInfo" in get_json(secured, token=body["token"])


def test_generate_token_without_f_answers_plain_text(emulator):
    response = requests.post(emulator.token_url, data=GOOD, timeout=TIMEOUT)
    assert response.headers["Content-Type"].startswith("text/plain")
    assert "tileInfo" in get_json(emulator.secured_service_url, token=response.text)


def test_generate_token_refuses_get_bad_credentials_and_missing_referer(emulator):
    get = requests.get(emulator.token_url, params={**GOOD, "f": "json"}, timeout=TIMEOUT).json()
    assert "error" in get
    bad = requests.post(emulator.token_url, data={"username": "analyst", "password": "nope", "f": "json"},
                        timeout=TIMEOUT).json()
    assert bad == {"error": {"code": 400, "message": "Unable to generate token.",
                             "details": ["Invalid username or password."]}}
    unknown = requests.post(emulator.portal_token_url, data={"username": "x", "password": "y", "f": "json"},
                            timeout=TIMEOUT).json()
    assert unknown["error"]["message"] == "Unable to generate token."
    referer = requests.post(emulator.token_url, data={**GOOD, "f": "json", "client": "referer"},
                            timeout=TIMEOUT).json()
    assert referer["error"]["code"] == 400


def test_users_are_configurable(emulator):
    emulator.users["surveyor"] = "s3cret"
    body = requests.post(emulator.token_url, data={"username": "surveyor", "password": "s3cret", "f": "json"},
                         timeout=TIMEOUT).json()
    assert "token" in body
    emulator.reset()
    assert "surveyor" not in emulator.users


def test_secured_service_needs_a_valid_token(emulator):
    url = emulator.secured_service_url
    missing = requests.get(url, params={"f": "json"}, timeout=TIMEOUT)
    assert missing.status_code == 200
    assert missing.json()["error"]["code"] == 499 and missing.json()["error"]["message"] == "Token Required"
    invalid = requests.get(url, params={"f": "json", "token": "forged"}, timeout=TIMEOUT)
    assert invalid.status_code == 200
    assert invalid.json()["error"] == {"code": 498, "message": "Invalid token.", "details": ["Invalid token."]}
    tile = requests.get(f"{url}/tile/0/0/0", timeout=TIMEOUT)
    assert tile.json()["error"]["code"] == 499
    token = _token(emulator)["token"]
    for headers in ({"X-Esri-Authorization": f"Bearer {token}"}, {"Authorization": f"Bearer {token}"}):
        response = requests.get(url, params={"f": "json"}, headers=headers, timeout=TIMEOUT)
        assert "tileInfo" in response.json()
    assert requests.get(f"{url}/tile/0/0/0", params={"token": token}, timeout=TIMEOUT).status_code == 200
    # the public copy of the same service needs nothing
    assert "tileInfo" in get_json(emulator.service_url("World_Map", "MapServer"))


def test_auth_errors_as_real_statuses(emulator):
    emulator.configure("Secured/World_Map/MapServer", http_errors_as_status=True)
    url = emulator.secured_service_url
    assert requests.get(url, params={"f": "json"}, timeout=TIMEOUT).status_code == 499
    assert requests.get(url, params={"f": "json", "token": "x"}, timeout=TIMEOUT).status_code == 498


def test_any_service_can_be_secured(emulator):
    emulator.configure("World_Imagery/ImageServer", secured=True)
    url = emulator.service_url("World_Imagery", "ImageServer")
    assert get_json(url)["error"]["code"] == 499
    assert "tileInfo" in get_json(url, token=emulator.issue_token())


def test_server_token_lifetime_caps_expiry(emulator):
    emulator.configure_server(token_lifetime_s=0.6)
    body = _token(emulator, expiration="60")
    assert body["expires"] <= (time.time() + 0.7) * 1000
    assert "tileInfo" in get_json(emulator.secured_service_url, token=body["token"])
    time.sleep(0.7)
    assert get_json(emulator.secured_service_url, token=body["token"])["error"]["code"] == 498


def test_token_expires_in_the_middle_of_a_job(emulator, tmp_path):
    key = "Secured/World_Map/MapServer"
    emulator.configure(key, job_steps=2, token_lifetime_s=1.0, result_shape="file_url")
    url = emulator.secured_service_url
    token = _token(emulator)["token"]
    answer = submit(f"{url}/exportTiles", tilePackage="true", levels="0-1", token=token)
    job_url = f"{url}/jobs/{answer['jobId']}"
    assert get_json(job_url, token=token)["jobStatus"] == "esriJobSubmitted"
    assert get_json(job_url)["error"]["code"] == 499  # job status needs the token too
    time.sleep(1.1)
    assert get_json(job_url, token=token)["error"]["code"] == 498  # expired for this service
    fresh = _token(emulator)["token"]
    statuses = poll(job_url, token=fresh)
    assert statuses[-1]["jobStatus"] == "esriJobSucceeded"
    result = get_json(f"{job_url}/results/out_service_url", token=fresh)
    assert get_json(f"{job_url}/results/out_service_url")["error"]["code"] == 499
    file_url = result["value"]
    assert requests.get(file_url, timeout=TIMEOUT).json()["error"]["code"] == 499  # downloads too
    assert requests.get(file_url, params={"token": token}, timeout=TIMEOUT).json()["error"]["code"] == 498
    ok = requests.get(file_url, headers={"X-Esri-Authorization": f"Bearer {fresh}"}, timeout=TIMEOUT)
    assert ok.status_code == 200 and ok.content[:2] == b"PK"


def test_online_presigned_urls_need_no_token(emulator):
    key = "World_Basemap_Export_v2/VectorTileServer"
    emulator.configure(key, secured=True)
    url = emulator.online_service_url
    token = emulator.issue_token()
    assert get_json(url)["error"]["code"] == 499
    answer = submit(f"{url}/exportTiles", levels="0", token=token)
    statuses = poll(f"{url}/jobs/{answer['jobId']}", token=token)
    output = statuses[-1]["output"]["outputUrl"][0]
    assert requests.get(output, timeout=TIMEOUT).status_code == 200
    with_token = requests.get(output, headers={"X-Esri-Authorization": f"Bearer {token}"}, timeout=TIMEOUT)
    assert with_token.status_code == 403
