"""Every fault kind, the fault admin endpoints and the request log."""
from __future__ import annotations

import http.client
import io
import json
import time
import zipfile
from urllib.parse import urlsplit

import pytest
import requests

from tests.emulator.server_helpers import TIMEOUT, export_gp, get_json, poll, result_value, submit


def _map(emulator) -> str:
    return emulator.service_url("World_Map", "MapServer")


def _export(emulator, **extra):
    url = _map(emulator)
    return export_gp(url, tilePackage="true", levels="0-2", storageFormatType="CompactV2", **extra)


def test_http_error_counts_and_path_filter(emulator):
    url = _map(emulator)
    emulator.inject("http_error", status=503, count=2, path="/exportTiles")
    assert requests.get(url, params={"f": "json"}, timeout=TIMEOUT).status_code == 200  # other path
    for _ in range(2):
        failed = requests.post(f"{url}/exportTiles", data={"f": "json", "tilePackage": "true", "levels": "0"},
                               timeout=TIMEOUT)
        assert failed.status_code == 503
        assert failed.headers["Retry-After"] == "1"
        assert failed.json()["error"]["code"] == 503
    ok = submit(f"{url}/exportTiles", tilePackage="true", levels="0")
    assert "jobId" in ok
    assert len(emulator.jobs) == 1  # the failed requests started nothing


@pytest.mark.parametrize("status", [500, 502, 504])
def test_http_error_statuses(emulator, status):
    emulator.inject("http_error", status=status)
    response = requests.get(emulator.services_url, params={"f": "json"}, timeout=TIMEOUT)
    assert response.status_code == status
    assert "Retry-After" not in response.headers
    assert requests.get(emulator.services_url, params={"f": "json"}, timeout=TIMEOUT).status_code == 200


def test_http_error_429_with_retry_after(emulator):
    emulator.inject("http_error", status=429, retry_after=7)
    response = requests.get(emulator.services_url, params={"f": "json"}, timeout=TIMEOUT)
    assert response.status_code == 429 and response.headers["Retry-After"] == "7"
    assert "Too many requests" in response.json()["error"]["message"]


def test_unlimited_faults_until_cleared(emulator):
    emulator.inject("http_error", status=500, count=None, path="/info")
    for _ in range(3):
        assert requests.get(f"{emulator.rest_url}/info", timeout=TIMEOUT).status_code == 500
    emulator.clear_faults()
    assert requests.get(f"{emulator.rest_url}/info", timeout=TIMEOUT).status_code == 200


def test_slow(emulator):
    emulator.inject("slow", delay=0.4, path="/MapServer")
    start = time.monotonic()
    assert "tileInfo" in get_json(_map(emulator))
    assert time.monotonic() - start >= 0.4  # the delay was applied (a lower bound only: no timed test)
    get_json(_map(emulator))
    (fault,) = emulator.faults.list()
    assert fault.fired == 1 and fault.exhausted  # the second request was not delayed


def test_invalid_json(emulator):
    emulator.inject("invalid_json", path="/jobs/")
    url = _map(emulator)
    answer = submit(f"{url}/exportTiles", tilePackage="true", levels="0")
    response = requests.get(f"{url}/jobs/{answer['jobId']}", params={"f": "json"}, timeout=TIMEOUT)
    assert response.status_code == 200
    with pytest.raises(ValueError):
        response.json()
    assert poll(f"{url}/jobs/{answer['jobId']}")[-1]["jobStatus"] == "esriJobSucceeded"


def test_json_error(emulator):
    emulator.inject("json_error", code=500, message="Error exporting tiles", details=["boom"])
    response = requests.get(_map(emulator), params={"f": "json"}, timeout=TIMEOUT)
    assert response.status_code == 200
    assert response.json() == {"error": {"code": 500, "message": "Error exporting tiles", "details": ["boom"]}}
    emulator.inject("json_error", code=498, message="Invalid token.")
    assert get_json(_map(emulator))["error"]["code"] == 498


def test_job_fail_and_timeout(emulator):
    emulator.inject("job_fail", message="ERROR 000001: disk full")
    answer, statuses = _export(emulator)
    assert statuses[-1]["jobStatus"] == "esriJobFailed"
    assert any("disk full" in m["description"] for m in statuses[-1]["messages"])
    assert emulator.job(answer["jobId"]).package_path is None
    emulator.inject("job_timeout")
    _, statuses = _export(emulator)
    assert statuses[-1]["jobStatus"] == "esriJobTimedOut"
    _, statuses = _export(emulator)
    assert statuses[-1]["jobStatus"] == "esriJobSucceeded"


def test_job_cancelled_by_the_server(emulator):
    emulator.inject("job_cancel", message="Cancelled by the administrator for maintenance.")
    answer, statuses = _export(emulator)
    final = statuses[-1]
    assert final["jobStatus"] == "esriJobCancelled"
    warnings = [m["description"] for m in final["messages"] if m["type"] == "esriJobMessageTypeWarning"]
    assert warnings == ["Cancelled by the administrator for maintenance."]
    job = emulator.job(answer["jobId"])
    assert job.cancel_requested_at is None and job.package_path is None  # not the client's cancel
    assert not emulator.requests_to("/cancel")
    url = emulator.online_service_url
    emulator.inject("job_cancel", path="World_Basemap_Export_v2")
    online = submit(f"{url}/exportTiles", levels="0")
    final = poll(f"{url}/jobs/{online['jobId']}")[-1]
    assert final["jobStatus"] == "esriJobCancelled" and "administrator" in final["message"]
    assert final["numCanceledTasks"] == 1 and final["output"]["outputUrl"] == []


def test_job_fault_on_the_online_protocol(emulator):
    emulator.inject("job_fail", path="World_Basemap_Export_v2")
    url = emulator.online_service_url
    answer = submit(f"{url}/exportTiles", levels="0")
    final = poll(f"{url}/jobs/{answer['jobId']}")[-1]
    assert final["jobStatus"] == "esriJobFailed" and "ERROR 999999" in final["message"]


def _download(emulator, answer) -> bytes:
    value = result_value(_map(emulator), answer["jobId"])
    return requests.get(value["url"], timeout=TIMEOUT).content


def test_truncate_package(emulator):
    normal = _download(emulator, _export(emulator)[0])
    emulator.inject("truncate_package", fraction=0.5)
    truncated = _download(emulator, _export(emulator)[0])
    assert len(truncated) == len(normal) // 2
    with pytest.raises(zipfile.BadZipFile):
        zipfile.ZipFile(io.BytesIO(truncated))
    emulator.inject("truncate_package", keep=100)
    assert len(_download(emulator, _export(emulator)[0])) == 100


def test_corrupt_package(emulator):
    normal = _download(emulator, _export(emulator)[0])
    emulator.inject("corrupt_package", length=32)
    corrupt = _download(emulator, _export(emulator)[0])
    assert len(corrupt) == len(normal)
    differing = [i for i, (a, b) in enumerate(zip(normal, corrupt)) if a != b]
    # every package is built anew (zip timestamps may differ): the flipped run is in the middle
    middle = len(normal) // 2 - 16
    assert set(range(middle, middle + 32)) <= set(differing)
    try:
        bad = zipfile.ZipFile(io.BytesIO(corrupt)).testzip()
    except zipfile.BadZipFile:
        bad = "unreadable"
    assert bad is not None


def test_drop_download(emulator):
    answer, _ = _export(emulator)
    url = result_value(_map(emulator), answer["jobId"])["url"]
    emulator.inject("drop_download", after_bytes=1000)
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=TIMEOUT)
    conn.request("GET", parts.path)
    response = conn.getresponse()
    assert response.status == 200
    declared = int(response.getheader("Content-Length"))
    assert declared > 1000
    with pytest.raises(http.client.IncompleteRead) as caught:
        response.read()
    assert len(caught.value.partial) == 1000
    conn.close()
    # the next download is whole again
    assert len(requests.get(url, timeout=TIMEOUT).content) == declared


def test_drop_download_of_a_range(emulator):
    answer, _ = _export(emulator)
    url = result_value(_map(emulator), answer["jobId"])["url"]
    emulator.inject("drop_download", after_bytes=10)
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=TIMEOUT)
    conn.request("GET", parts.path, headers={"Range": "bytes=100-"})
    response = conn.getresponse()
    assert response.status == 206
    with pytest.raises(http.client.IncompleteRead) as caught:
        response.read()
    assert len(caught.value.partial) == 10
    conn.close()
    # Through requests the body is short too (urllib3 2 would raise unless told to hand over what came)
    emulator.inject("drop_download", after_bytes=10)
    with requests.get(url, headers={"Range": "bytes=100-"}, timeout=TIMEOUT, stream=True) as short:
        short.raw.enforce_content_length = False
        body = b"".join(short.iter_content(4096))
    assert len(body) == 10 < int(short.headers["Content-Length"])


def test_fault_validation(emulator):
    with pytest.raises(ValueError):
        emulator.inject("meteor_strike")
    with pytest.raises(ValueError):
        emulator.inject("http_error", status=200)
    with pytest.raises(ValueError):
        emulator.inject("slow", speed=3)
    with pytest.raises(ValueError):
        emulator.inject("slow", count=0)


def test_faults_over_http(emulator):
    admin = f"{emulator.root_url}/emulator/faults"
    created = requests.post(admin, json={"kind": "http_error", "status": 502, "count": 1, "path": "/info"},
                            timeout=TIMEOUT)
    assert created.status_code == 200
    faults = created.json()["faults"]
    assert [(f["kind"], f["status"], f["path"]) for f in faults] == [("http_error", 502, "/info")]
    assert requests.post(admin, json={"kind": "nope"}, timeout=TIMEOUT).status_code == 400
    assert requests.get(admin, timeout=TIMEOUT).json()["faults"][0]["fired"] == 0
    # admin routes never hit faults
    emulator.inject("http_error", status=500, count=None)
    assert requests.get(admin, timeout=TIMEOUT).status_code == 200
    assert requests.delete(admin, timeout=TIMEOUT).json() == {"faults": []}
    assert requests.get(f"{emulator.rest_url}/info", timeout=TIMEOUT).status_code == 200
    many = requests.post(admin, json=[{"kind": "slow", "delay": 0.01}, {"kind": "etag_change"}], timeout=TIMEOUT)
    assert [f["kind"] for f in many.json()["faults"]] == ["slow", "etag_change"]


# ---------------------------------------------------------------------------------------------- request log

def test_request_log_records_what_clients_sent(emulator):
    url = _map(emulator)
    before = time.time()
    requests.post(f"{url}/exportTiles", params={"f": "json"},
                  data={"tilePackage": "true", "levels": "0", "token": "secret"},
                  headers={"X-Esri-Authorization": "Bearer abc", "User-Agent": "probe/1.0"}, timeout=TIMEOUT)
    requests.get(url, params={"f": "pjson"}, timeout=TIMEOUT)
    log = emulator.requests
    assert [(r.method, r.path) for r in log] == [("POST", urlsplit(url).path + "/exportTiles"),
                                                 ("GET", urlsplit(url).path)]
    post = log[0]
    assert post.args == {"f": "json"}
    assert post.form == {"tilePackage": "true", "levels": "0", "token": "secret"}
    assert post.params["levels"] == "0" and post.params["f"] == "json"
    assert post.header("x-esri-authorization") == "Bearer abc"
    assert post.header("User-Agent") == "probe/1.0"
    assert before <= post.time <= log[1].time <= time.time()
    assert post.status == 200 and log[1].status == 200
    assert emulator.requests_to("/exportTiles", method="POST") == [post]
    over_http = requests.get(f"{emulator.root_url}/emulator/requests", timeout=TIMEOUT).json()["requests"]
    assert [r["path"] for r in over_http] == [r.path for r in log]  # admin requests are not logged
    emulator.clear_requests()
    assert emulator.requests == []


def test_request_log_records_failed_requests_with_their_status(emulator):
    emulator.inject("http_error", status=504)
    requests.get(emulator.services_url, params={"f": "json"}, timeout=TIMEOUT)
    requests.get(f"{emulator.services_url}/Nope/MapServer", params={"f": "json"}, timeout=TIMEOUT)
    assert [r.status for r in emulator.requests] == [504, 200]
    requests.delete(f"{emulator.root_url}/emulator/requests", timeout=TIMEOUT)
    assert emulator.requests == []


def test_reset_clears_faults_and_jobs(emulator):
    emulator.inject("http_error", count=None)
    emulator.reset()
    assert emulator.faults.list() == []
    _export(emulator)
    assert len(emulator.jobs) == 1
    folder = next(iter(emulator.jobs.values())).package_path.parent
    assert folder.exists()
    emulator.reset()
    assert emulator.jobs == {} and not folder.exists()
    assert json.loads(requests.get(f"{emulator.root_url}/emulator", timeout=TIMEOUT).text)["services"]
