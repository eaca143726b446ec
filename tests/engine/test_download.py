"""Streaming, resumable downloads against a scriptable local server."""
from __future__ import annotations

import threading

import pytest
from werkzeug.wrappers import Response

from plugin.core.auth import TokenAuth
from plugin.core.download import DownloadState, check_package, download, looks_presigned, part_path
from plugin.core.errors import AuthFailedError, CancelledError, DiskError, NetworkError, PackageError
from plugin.core.http import CancelToken, HttpConfig, create_session

from .conftest import make_package, ranged_file_response


@pytest.fixture
def session(fake_clock):
    return create_session(HttpConfig(retries=2), clock=fake_clock)


def test_plain_download_is_verified_and_renamed(fake_server, session, tmp_path, package_bytes):
    fake_server.route("/pkg.tpkx", lambda r: ranged_file_response(r, package_bytes))
    seen = []
    target = tmp_path / "out" / "x.tpkx"
    path = download(session, fake_server.url("/pkg.tpkx"), target, chunk_size=8192,
                    progress=lambda p: seen.append((p.bytes_done, p.total)))
    assert path == target and target.read_bytes() == package_bytes
    assert not part_path(target).exists()
    assert seen[-1] == (len(package_bytes), len(package_bytes))
    assert len(seen) > 5  # chunked, not in one piece
    assert fake_server.requests[0].headers.get("Accept-Encoding") == "identity"


def test_dropped_connection_resumes_with_range_and_if_range(fake_server, session, tmp_path, package_bytes):
    calls = {"n": 0}

    def handler(request):
        calls["n"] += 1
        return ranged_file_response(request, package_bytes, drop_after=70_000 if calls["n"] == 1 else None)

    fake_server.route("/pkg", handler)
    states = []
    download(session, fake_server.url("/pkg"), tmp_path / "a.tpkx", on_state=lambda s: states.append(s.bytes_done))
    assert (tmp_path / "a.tpkx").read_bytes() == package_bytes
    second = fake_server.requests[1]
    assert second.headers["Range"] == "bytes=70000-"
    assert second.headers["If-Range"] == '"v1"'


def test_server_ignoring_range_restarts_cleanly(fake_server, session, tmp_path, package_bytes):
    calls = {"n": 0}

    def handler(request):
        calls["n"] += 1
        return ranged_file_response(request, package_bytes, honour_range=False,
                                    drop_after=70_000 if calls["n"] == 1 else None)

    fake_server.route("/pkg", handler)
    download(session, fake_server.url("/pkg"), tmp_path / "a.tpkx")
    assert (tmp_path / "a.tpkx").read_bytes() == package_bytes


def test_changed_file_restarts(fake_server, session, tmp_path):
    old = make_package(entries=3, size=40_000)
    new = make_package(entries=4, size=40_000)
    part = part_path(tmp_path / "a.tpkx")
    part.write_bytes(old[:30_000])
    state = DownloadState(url=fake_server.url("/pkg"), target=str(tmp_path / "a.tpkx"), bytes_done=30_000,
                          total=len(old), etag='"v1"')
    fake_server.route("/pkg", lambda r: ranged_file_response(r, new, etag='"v2"'))
    download(session, fake_server.url("/pkg"), tmp_path / "a.tpkx", state=state)
    assert (tmp_path / "a.tpkx").read_bytes() == new


def test_resume_from_saved_state(fake_server, session, tmp_path, package_bytes):
    part = part_path(tmp_path / "a.tpkx")
    part.write_bytes(package_bytes[:12_345])
    state = DownloadState(url=fake_server.url("/pkg"), target=str(tmp_path / "a.tpkx"), bytes_done=12_345,
                          total=len(package_bytes), etag='"v1"')
    fake_server.route("/pkg", lambda r: ranged_file_response(r, package_bytes))
    download(session, fake_server.url("/pkg"), tmp_path / "a.tpkx", state=state)
    assert fake_server.requests[0].headers["Range"] == "bytes=12345-"
    assert (tmp_path / "a.tpkx").read_bytes() == package_bytes
    assert state.complete


def test_cancel_keeps_the_part_for_a_resume(fake_server, session, tmp_path, package_bytes):
    fake_server.route("/pkg", lambda r: ranged_file_response(r, package_bytes))
    cancel = CancelToken()
    target = tmp_path / "a.tpkx"

    def progress(p):
        if p.bytes_done >= 50_000:
            cancel.cancel()

    state = DownloadState(url=fake_server.url("/pkg"), target=str(target))
    with pytest.raises(CancelledError):
        download(session, fake_server.url("/pkg"), target, state=state, progress=progress, cancel=cancel,
                 chunk_size=10_000)
    assert not target.exists()
    assert part_path(target).stat().st_size == state.bytes_done >= 50_000
    assert state.etag == '"v1"'
    paused = state.bytes_done
    download(session, fake_server.url("/pkg"), target, state=state)
    assert target.read_bytes() == package_bytes
    assert fake_server.requests[-1].headers["Range"] == f"bytes={paused}-"


def test_truncated_package_is_detected(fake_server, session, tmp_path, package_bytes):
    short = package_bytes[: len(package_bytes) // 2]
    fake_server.route("/pkg", lambda r: ranged_file_response(r, short))
    with pytest.raises(PackageError):
        download(session, fake_server.url("/pkg"), tmp_path / "a.tpkx")
    assert not (tmp_path / "a.tpkx").exists()
    assert not part_path(tmp_path / "a.tpkx").exists()


def test_corrupted_package_is_detected(fake_server, session, tmp_path, package_bytes):
    data = bytearray(package_bytes)
    middle = len(data) // 2
    for i in range(middle, middle + 64):
        data[i] ^= 0xFF
    fake_server.route("/pkg", lambda r: ranged_file_response(r, bytes(data)))
    with pytest.raises(PackageError) as info:
        download(session, fake_server.url("/pkg"), tmp_path / "a.tpkx")
    assert "damaged" in str(info.value)
    assert not (tmp_path / "a.tpkx").exists()


def test_html_instead_of_package(fake_server, session, tmp_path):
    fake_server.route("/pkg", Response("<html>login</html>", mimetype="text/html"))
    with pytest.raises(PackageError):
        download(session, fake_server.url("/pkg"), tmp_path / "a.tpkx")


def test_disk_space_checked_before_writing(fake_server, session, tmp_path, monkeypatch, package_bytes):
    import shutil
    from collections import namedtuple

    usage = namedtuple("usage", "total used free")
    monkeypatch.setattr(shutil, "disk_usage", lambda p: usage(10**9, 10**9, 1000))
    fake_server.route("/pkg", lambda r: ranged_file_response(r, package_bytes))
    with pytest.raises(DiskError) as info:
        download(session, fake_server.url("/pkg"), tmp_path / "a.tpkx")
    assert "MB" in str(info.value)
    assert not (tmp_path / "a.tpkx").exists()


def test_presigned_urls_get_no_token_and_no_params(fake_server, tmp_path, package_bytes):
    auth = TokenAuth("SECRET-TOKEN", hosts=[fake_server.base_url])
    session = create_session(HttpConfig(retries=0), auth=auth)
    fake_server.route("/s3/pkg", lambda r: ranged_file_response(r, package_bytes))
    url = fake_server.url("/s3/pkg?X-Amz-Algorithm=AWS4&X-Amz-Signature=abc")
    assert looks_presigned(url)
    download(session, url, tmp_path / "a.vtpk")
    rec = fake_server.requests[0]
    assert "X-Esri-Authorization" not in rec.headers and "Authorization" not in rec.headers
    assert set(rec.args) == {"X-Amz-Algorithm", "X-Amz-Signature"}
    # same host without a signature: the token is sent (arcgisoutput on a secured server)
    fake_server.route("/out/pkg", lambda r: ranged_file_response(r, package_bytes))
    download(session, fake_server.url("/out/pkg"), tmp_path / "b.tpkx")
    assert fake_server.requests[-1].headers["X-Esri-Authorization"] == "Bearer SECRET-TOKEN"


def test_http_errors_are_typed(fake_server, session, tmp_path):
    fake_server.route("/pkg", Response("<Error><Code>AccessDenied</Code></Error>", status=403,
                                       mimetype="application/xml"))
    with pytest.raises(AuthFailedError):
        download(session, fake_server.url("/pkg"), tmp_path / "a.tpkx")


def test_connection_keeps_dropping_is_network_error(fake_server, session, tmp_path, package_bytes):
    fake_server.route("/pkg", lambda r: ranged_file_response(r, package_bytes, drop_after=0))
    state = DownloadState(url=fake_server.url("/pkg"), target=str(tmp_path / "a.tpkx"))
    with pytest.raises(NetworkError):
        download(session, fake_server.url("/pkg"), tmp_path / "a.tpkx", state=state)


def test_check_package_structural_only_above_threshold(tmp_path, package_bytes):
    data = bytearray(package_bytes)
    for i in range(len(data) // 2, len(data) // 2 + 16):
        data[i] ^= 0xFF
    path = tmp_path / "x.zip"
    path.write_bytes(bytes(data))
    check_package(path, deep_max=0)  # central directory + headers only: passes
    with pytest.raises(PackageError):
        check_package(path)


def test_download_in_a_thread_can_be_cancelled_quickly(fake_server, tmp_path):
    big = make_package(entries=2, size=3_000_000)

    def slow(request):
        resp = ranged_file_response(request, big)
        data = resp.get_data()

        def gen():
            import time
            for i in range(0, len(data), 65536):
                time.sleep(0.01)
                yield data[i:i + 65536]
        out = Response(gen(), status=resp.status_code, headers=dict(resp.headers))
        return out

    fake_server.route("/pkg", slow)
    session = create_session(HttpConfig(retries=0))
    cancel = CancelToken()
    errors = []

    def run():
        try:
            download(session, fake_server.url("/pkg"), tmp_path / "a.tpkx", cancel=cancel, chunk_size=65536)
        except CancelledError as exc:
            errors.append(exc)

    thread = threading.Thread(target=run)
    thread.start()
    import time
    time.sleep(0.2)
    cancel.cancel()
    thread.join(3)
    assert not thread.is_alive() and errors
    assert part_path(tmp_path / "a.tpkx").exists()


def test_cancel_wakes_a_stalled_read(fake_server, tmp_path):
    import time

    data = make_package(entries=2, size=200_000)
    release = threading.Event()

    def stalled(request):
        def body():
            yield data[:50_000]
            release.wait(20)  # the server stops sending without closing
            yield data[50_000:]
        resp = Response(body(), status=200, mimetype="application/zip",
                        headers={"Content-Length": str(len(data)), "ETag": '"s"'})
        resp.automatically_set_content_length = False
        return resp

    fake_server.route("/pkg", stalled)
    session = create_session(HttpConfig(retries=0, read_timeout=60))
    cancel = CancelToken()
    outcome = []
    state = DownloadState(url=fake_server.url("/pkg"), target=str(tmp_path / "a.tpkx"))

    def run():
        try:
            download(session, fake_server.url("/pkg"), tmp_path / "a.tpkx", state=state, cancel=cancel,
                     chunk_size=10_000)
        except CancelledError as exc:
            outcome.append(exc)

    thread = threading.Thread(target=run)
    thread.start()
    time.sleep(0.5)
    started = time.monotonic()
    cancel.pause()
    thread.join(5)
    release.set()
    assert not thread.is_alive() and outcome
    assert time.monotonic() - started < 2
    assert part_path(tmp_path / "a.tpkx").stat().st_size == state.bytes_done == 50_000
