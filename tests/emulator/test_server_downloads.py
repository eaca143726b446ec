"""Package downloads: Content-Length, ETag, Range / If-Range / 416, and the presigned Online URLs."""
from __future__ import annotations

import time
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import pytest
import requests

from tests.emulator.server_helpers import TIMEOUT, export_gp, poll, result_value, submit


@pytest.fixture
def package_url(emulator) -> str:
    url = emulator.service_url("World_Map", "MapServer")
    answer, statuses = export_gp(url, tilePackage="true", levels="0-2", storageFormatType="CompactV2")
    assert statuses[-1]["jobStatus"] == "esriJobSucceeded"
    return result_value(url, answer["jobId"])["url"]


def test_full_download_headers(package_url, emulator):
    response = requests.get(package_url, timeout=TIMEOUT)
    assert response.status_code == 200
    assert int(response.headers["Content-Length"]) == len(response.content) > 1000
    assert response.headers["Accept-Ranges"] == "bytes"
    assert response.headers["ETag"].startswith('"')
    assert response.content[:4] == b"PK\x03\x04"
    head = requests.head(package_url, timeout=TIMEOUT)
    assert head.status_code == 200 and head.content == b""
    assert head.headers["Content-Length"] == response.headers["Content-Length"]
    assert head.headers["ETag"] == response.headers["ETag"]


def test_ranges(package_url):
    full = requests.get(package_url, timeout=TIMEOUT).content
    size = len(full)
    cases = {"bytes=100-199": (100, 199), "bytes=1000-": (1000, size - 1), "bytes=-50": (size - 50, size - 1),
             f"bytes={size - 10}-{size + 500}": (size - 10, size - 1)}
    for header, (start, end) in cases.items():
        response = requests.get(package_url, headers={"Range": header}, timeout=TIMEOUT)
        assert response.status_code == 206, header
        assert response.headers["Content-Range"] == f"bytes {start}-{end}/{size}"
        assert int(response.headers["Content-Length"]) == end - start + 1
        assert response.content == full[start:end + 1]


def test_unsatisfiable_range_is_416(package_url):
    size = int(requests.head(package_url, timeout=TIMEOUT).headers["Content-Length"])
    response = requests.get(package_url, headers={"Range": f"bytes={size}-"}, timeout=TIMEOUT)
    assert response.status_code == 416
    assert response.headers["Content-Range"] == f"bytes */{size}"


def test_if_range(package_url):
    full = requests.get(package_url, timeout=TIMEOUT)
    etag = full.headers["ETag"]
    same = requests.get(package_url, headers={"Range": "bytes=10-", "If-Range": etag}, timeout=TIMEOUT)
    assert same.status_code == 206 and same.content == full.content[10:]
    stale = requests.get(package_url, headers={"Range": "bytes=10-", "If-Range": '"something-else"'},
                         timeout=TIMEOUT)
    assert stale.status_code == 200 and stale.content == full.content
    assert "Content-Range" not in stale.headers


def test_etag_change_fault_makes_if_range_fail(package_url, emulator):
    first = requests.get(package_url, headers={"Range": "bytes=0-99"}, timeout=TIMEOUT)
    etag = first.headers["ETag"]
    emulator.inject("etag_change")
    resumed = requests.get(package_url, headers={"Range": "bytes=100-", "If-Range": etag}, timeout=TIMEOUT)
    assert resumed.status_code == 200  # the file "changed": the whole body comes again
    assert resumed.headers["ETag"] != etag
    again = requests.get(package_url, headers={"Range": "bytes=100-", "If-Range": resumed.headers["ETag"]},
                         timeout=TIMEOUT)
    assert again.status_code == 206  # the new ETag stays


def test_unknown_output_files_are_404(package_url, emulator):
    base, _ = package_url.rsplit("/", 1)
    assert requests.get(f"{base}/other.tpkx", timeout=TIMEOUT).status_code == 404
    job_folder = base.rsplit("/", 1)[1]
    wrong_service = f"{emulator.rest_url}/directories/arcgisoutput/World_Imagery_ImageServer/{job_folder}"
    assert requests.get(wrong_service, params={"f": "json"}, timeout=TIMEOUT).status_code == 404


# ---------------------------------------------------------------------------------------------- presigned

@pytest.fixture
def presigned_url(emulator) -> str:
    url = emulator.online_service_url
    answer = submit(f"{url}/exportTiles", levels="0-1")
    statuses = poll(f"{url}/jobs/{answer['jobId']}")
    return statuses[-1]["output"]["outputUrl"][0]


def _with_query(url: str, extra: dict | None = None, drop: str | None = None, change: tuple | None = None) -> str:
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != drop]
    if change:
        query = [(k, change[1] if k == change[0] else v) for k, v in query]
    query += list((extra or {}).items())
    return urlunsplit(parts._replace(query=urlencode(query)))


def _assert_s3_denied(response, code: str) -> None:
    assert response.status_code == 403
    assert response.headers["Content-Type"].startswith("application/xml")
    assert f"<Code>{code}</Code>" in response.text


def test_presigned_url_works_as_given_with_ranges(presigned_url):
    full = requests.get(presigned_url, timeout=TIMEOUT)
    assert full.status_code == 200 and full.content[:2] == b"PK"
    part = requests.get(presigned_url, headers={"Range": "bytes=5-9"}, timeout=TIMEOUT)
    assert part.status_code == 206 and part.content == full.content[5:10]


def test_presigned_url_rejects_extra_parameters_and_auth_headers(presigned_url):
    _assert_s3_denied(requests.get(_with_query(presigned_url, {"token": "abc"}), timeout=TIMEOUT),
                      "SignatureDoesNotMatch")
    _assert_s3_denied(requests.get(_with_query(presigned_url, {"f": "json"}), timeout=TIMEOUT),
                      "SignatureDoesNotMatch")
    for header in ("Authorization", "X-Esri-Authorization"):
        _assert_s3_denied(requests.get(presigned_url, headers={header: "Bearer abc"}, timeout=TIMEOUT),
                          "InvalidArgument")
    _assert_s3_denied(requests.get(_with_query(presigned_url, change=("X-Amz-Signature", "0" * 64)),
                                   timeout=TIMEOUT), "SignatureDoesNotMatch")
    _assert_s3_denied(requests.get(_with_query(presigned_url, drop="X-Amz-Signature"), timeout=TIMEOUT),
                      "AccessDenied")
    _assert_s3_denied(requests.get(_with_query(presigned_url, drop="X-Amz-Security-Token"), timeout=TIMEOUT),
                      "SignatureDoesNotMatch")


def test_presigned_url_expires(emulator):
    emulator.configure_server(presigned_expires_s=0)  # expired as soon as it is signed
    url = emulator.online_service_url
    answer = submit(f"{url}/exportTiles", levels="0")
    output = poll(f"{url}/jobs/{answer['jobId']}")[-1]["output"]["outputUrl"][0]
    assert "X-Amz-Expires=0" in output
    time.sleep(0.01)
    response = requests.get(output, timeout=TIMEOUT)
    _assert_s3_denied(response, "AccessDenied")
    assert "expired" in response.text
