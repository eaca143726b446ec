"""Downloads from servers that misbehave end, with back-off and bounded attempts, and never hammer.

Every scenario is a purpose-built server on 127.0.0.1.  The session's clock is the fake one, so the
back-off is recorded rather than slept: each test asserts how many requests reached the server and
that a back-off separated every two of them.
"""
from __future__ import annotations

import itertools
import threading
import time

import pytest
from werkzeug.wrappers import Response

from plugin.core.download import (
    MAX_DOWNLOAD_ATTEMPTS,
    MAX_RESTARTS,
    MAX_STALLED_RECONNECTS,
    DownloadState,
    download,
    part_path,
)
from plugin.core.errors import CancelledError, NetworkError, PackageError, ServerError
from plugin.core.http import CancelToken, HttpConfig, create_session

from .conftest import ranged_file_response

# the most requests any of these servers may see: every attempt bound, plus the first request
MOST_REQUESTS = 1 + MAX_STALLED_RECONNECTS + MAX_RESTARTS + 2


@pytest.fixture
def session(fake_clock):
    return create_session(HttpConfig(retries=2), clock=fake_clock)


def _body(data: bytes, status: int = 200, headers: dict | None = None, cut: int | None = None) -> Response:
    """``data`` with a Content-Length; ``cut`` sends only that many bytes, then closes."""
    sent = data if cut is None else data[:cut]
    resp = Response(iter([sent]), status=status, mimetype="application/zip",
                    headers={"Content-Length": str(len(data)), **(headers or {})})
    resp.automatically_set_content_length = False
    return resp


def _assert_spaced(fake_server, fake_clock):
    """A back-off sleep between every two requests (none of them back to back)."""
    assert len(fake_clock.sleeps) >= len(fake_server.requests) - 1
    assert all(s > 0 for s in fake_clock.sleeps)


def test_416_to_every_range_ends_after_a_bounded_number_of_requests(fake_server, session, fake_clock,
                                                                    tmp_path, package_bytes):
    def handler(request):
        if request.headers.get("Range"):
            return Response(status=416)  # and no Content-Range at all
        return _body(package_bytes, headers={"ETag": '"a"'}, cut=10_000)

    fake_server.route("/pkg", handler)
    with pytest.raises(NetworkError) as info:
        download(session, fake_server.url("/pkg"), tmp_path / "a.tpkx")
    assert "starts over" in str(info.value) or "breaking off" in str(info.value)
    assert 3 <= len(fake_server.requests) <= MOST_REQUESTS
    _assert_spaced(fake_server, fake_clock)
    assert not (tmp_path / "a.tpkx").exists()


def test_416_showing_the_part_is_whole_finishes_it(fake_server, session, fake_clock, tmp_path, package_bytes):
    """The first answer announces more bytes than the file has (a lying Content-Length); the part then
    holds the whole file and the server's 416 ``*/N`` says so."""
    calls = itertools.count()

    def handler(request):
        if next(calls) == 0:
            resp = _body(package_bytes + b"\0" * 100, headers={"ETag": '"v1"'}, cut=len(package_bytes))
            return resp
        return ranged_file_response(request, package_bytes)

    fake_server.route("/pkg", handler)
    state = DownloadState(url=fake_server.url("/pkg"), target=str(tmp_path / "a.tpkx"))
    download(session, fake_server.url("/pkg"), tmp_path / "a.tpkx", state=state)
    assert (tmp_path / "a.tpkx").read_bytes() == package_bytes and state.complete
    assert len(fake_server.requests) == 2
    assert fake_server.requests[1].headers["Range"] == f"bytes={len(package_bytes)}-"


def test_416_to_a_request_without_range_is_a_server_error(fake_server, session, tmp_path):
    fake_server.route("/pkg", Response(status=416, headers={"Content-Range": "bytes */0"}))
    with pytest.raises(ServerError) as info:
        download(session, fake_server.url("/pkg"), tmp_path / "a.tpkx")
    assert "416" in str(info.value)
    assert len(fake_server.requests) == 1


@pytest.mark.parametrize("content_range", [None, "", "bytes */*", "bytes 0-10/xyz", "items 0-9/10", "bytes 5-9/10 x"])
def test_206_without_a_usable_content_range_ends(fake_server, session, fake_clock, tmp_path, package_bytes,
                                                 content_range):
    def handler(request):  # 206 to everything, even to requests that asked for no range
        headers = {"ETag": '"a"'}
        if content_range is not None:
            headers["Content-Range"] = content_range
        return _body(package_bytes, status=206, headers=headers, cut=10_000)

    fake_server.route("/pkg", handler)
    with pytest.raises(NetworkError):
        download(session, fake_server.url("/pkg"), tmp_path / "a.tpkx")
    assert len(fake_server.requests) <= MOST_REQUESTS
    _assert_spaced(fake_server, fake_clock)


def test_206_without_content_range_then_a_correct_restart(fake_server, session, tmp_path, package_bytes):
    """One bad range answer: the part is dropped and the file fetched again from byte 0, once."""
    calls = itertools.count()

    def handler(request):
        n = next(calls)
        if n == 0:
            return ranged_file_response(request, package_bytes, drop_after=30_000)
        if n == 1:
            return _body(package_bytes[30_000:], status=206, headers={"ETag": '"v1"'})  # no Content-Range
        return ranged_file_response(request, package_bytes)

    fake_server.route("/pkg", handler)
    download(session, fake_server.url("/pkg"), tmp_path / "a.tpkx")
    assert (tmp_path / "a.tpkx").read_bytes() == package_bytes
    assert len(fake_server.requests) == 3 and "Range" not in fake_server.requests[2].headers


def test_a_server_that_cuts_and_then_ignores_range_ends(fake_server, session, fake_clock, tmp_path, package_bytes):
    fake_server.route("/pkg", lambda r: ranged_file_response(r, package_bytes, honour_range=False,
                                                             drop_after=70_000))
    with pytest.raises(NetworkError):
        download(session, fake_server.url("/pkg"), tmp_path / "a.tpkx")
    assert len(fake_server.requests) <= MOST_REQUESTS
    _assert_spaced(fake_server, fake_clock)
    assert not (tmp_path / "a.tpkx").exists()


@pytest.mark.parametrize("what", ["etag", "size"])
def test_a_file_that_changes_at_every_attempt_ends(fake_server, session, fake_clock, tmp_path, package_bytes, what):
    calls = itertools.count()

    def handler(request):
        n = next(calls)
        data = package_bytes + b"\0" * n if what == "size" else package_bytes
        return ranged_file_response(request, data, etag=f'"v{n}"' if what == "etag" else '"same"',
                                    drop_after=40_000)

    fake_server.route("/pkg", handler)
    with pytest.raises(NetworkError) as info:
        download(session, fake_server.url("/pkg"), tmp_path / "a.tpkx")
    assert "changes or starts over" in str(info.value)
    assert len(fake_server.requests) <= 2 * (MAX_RESTARTS + 1)  # a restart: the refused range, then byte 0
    _assert_spaced(fake_server, fake_clock)


def test_a_content_length_smaller_than_the_file_is_a_package_error(fake_server, session, tmp_path, package_bytes):
    fake_server.route("/pkg", lambda r: _body(package_bytes[:-5000], headers={"ETag": '"a"'}))
    with pytest.raises(PackageError):
        download(session, fake_server.url("/pkg"), tmp_path / "a.tpkx")
    assert len(fake_server.requests) == 1
    assert not part_path(tmp_path / "a.tpkx").exists()


def test_progress_every_time_still_ends_at_the_attempt_bound(fake_server, session, fake_clock, tmp_path):
    data = bytes(range(256)) * 1000  # 256 KB, 500 bytes per answer: 512 answers would be needed
    fake_server.route("/pkg", lambda r: ranged_file_response(r, data, drop_after=500))
    with pytest.raises(NetworkError) as info:
        download(session, fake_server.url("/pkg"), tmp_path / "a.tpkx")
    assert f"{MAX_DOWNLOAD_ATTEMPTS} requests" in str(info.value)
    assert len(fake_server.requests) == MAX_DOWNLOAD_ATTEMPTS
    _assert_spaced(fake_server, fake_clock)


def _trickle(data: bytes, every: float, step: int = 1):
    """The package, ``step`` bytes every ``every`` seconds."""
    def handler(request):
        resp = ranged_file_response(request, data)
        body = resp.get_data()

        def slowly():
            for i in range(0, len(body), step):
                time.sleep(every)
                yield body[i:i + step]
        out = Response(slowly(), status=resp.status_code, headers=dict(resp.headers))
        out.automatically_set_content_length = False
        return out
    return handler


def test_a_server_sending_a_trickle_ends_as_too_slow(fake_server, fake_clock, tmp_path, package_bytes):
    fake_server.route("/pkg", _trickle(package_bytes, every=0.01))
    session = create_session(HttpConfig(retries=0, download_min_idle=0.2, download_min_rate=1e9), clock=fake_clock)
    with pytest.raises(NetworkError) as info:
        download(session, fake_server.url("/pkg"), tmp_path / "a.tpkx", chunk_size=65536)
    assert "too slowly" in str(info.value)
    assert len(fake_server.requests) == MAX_STALLED_RECONNECTS + 1
    assert fake_server.requests[-1].headers.get("Range")  # each attempt resumed where the last one stopped
    _assert_spaced(fake_server, fake_clock)


def test_the_overall_deadline_ends_a_download(fake_server, fake_clock, tmp_path, package_bytes):
    # 64 bytes every 5 ms: the whole package would take 16 s, and a 1 KB chunk arrives every 80 ms, so
    # the 2 s deadline ends a download that has bytes to keep for a resume (one byte every 5 ms made a
    # chunk take 5 s, and the deadline often came before the first one)
    fake_server.route("/pkg", _trickle(package_bytes, every=0.005, step=64))
    session = create_session(HttpConfig(retries=0, download_deadline=2.0), clock=fake_clock)
    started = time.monotonic()
    state = DownloadState(url=fake_server.url("/pkg"), target=str(tmp_path / "a.tpkx"))
    with pytest.raises(NetworkError) as info:
        download(session, fake_server.url("/pkg"), tmp_path / "a.tpkx", state=state, chunk_size=1024)
    assert "did not finish within" in str(info.value)
    assert time.monotonic() - started < 10  # generous; the trickle alone would take 20 minutes
    assert 0 < state.bytes_done == part_path(tmp_path / "a.tpkx").stat().st_size  # kept for a resume


def test_cancel_during_the_back_off(fake_server, tmp_path, package_bytes):
    fake_server.route("/pkg", lambda r: ranged_file_response(r, package_bytes, drop_after=1000))
    session = create_session(HttpConfig(retries=0, backoff=30))
    cancel = CancelToken()
    threading.Timer(0.3, cancel.cancel).start()
    started = time.monotonic()
    with pytest.raises(CancelledError):
        download(session, fake_server.url("/pkg"), tmp_path / "a.tpkx", cancel=cancel)
    assert time.monotonic() - started < 10
    assert len(fake_server.requests) == 1
