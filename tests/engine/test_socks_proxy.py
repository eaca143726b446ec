"""Through a SOCKS5 proxy (QGIS's *Socks5Proxy* setting becomes ``socks5h://``): requests get through,
the deadline and cancel still end a request waiting for its headers, and without the PySocks module
(`make deps` and the chroots install Debian's python3-socks; a QGIS elsewhere may lack it) the message
says what to install instead of calling the address invalid.

The proxy is a small SOCKS5 server on 127.0.0.1 (no authentication, CONNECT only), written here.
"""
from __future__ import annotations

import contextlib
import importlib.util
import socket
import struct
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from plugin.core.errors import NetworkError
from plugin.core.http import CancelledError, CancelToken, HttpConfig, create_session, get_json

HAS_PYSOCKS = importlib.util.find_spec("socks") is not None
REPO = Path(__file__).resolve().parents[2]
MAX_RELAY_BYTES = 1 << 20  # the tests' answers are tiny: a bound for the relay loop


class Socks5Proxy:
    """SOCKS5 CONNECT to 127.0.0.1 only (a name is resolved to loopback), relaying both ways."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.sock.settimeout(0.2)
        self.stop = threading.Event()
        self.connects: list[tuple[str, int]] = []
        self.url = f"socks5h://127.0.0.1:{self.sock.getsockname()[1]}"
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while not self.stop.is_set():
            try:
                client, _ = self.sock.accept()
            except OSError:
                continue
            threading.Thread(target=self._handle, args=(client,), daemon=True).start()

    @staticmethod
    def _read(conn: socket.socket, n: int) -> bytes:
        data = b""
        while len(data) < n:
            chunk = conn.recv(n - len(data))
            if not chunk:
                raise OSError("closed")
            data += chunk
        return data

    def _handle(self, client: socket.socket) -> None:
        with client:
            try:
                client.settimeout(30)
                _, n_methods = self._read(client, 2)
                self._read(client, n_methods)
                client.sendall(b"\x05\x00")  # no authentication
                _, cmd, _, atyp = self._read(client, 4)
                if atyp == 3:
                    host = self._read(client, self._read(client, 1)[0]).decode()
                elif atyp == 1:
                    host = socket.inet_ntoa(self._read(client, 4))
                else:
                    raise OSError("address type not supported here")
                (port,) = struct.unpack("!H", self._read(client, 2))
                self.connects.append((host, port))
                if cmd != 1 or host not in ("127.0.0.1", "localhost"):
                    client.sendall(b"\x05\x02\x00\x01" + bytes(6))  # not allowed
                    return
                upstream = socket.create_connection(("127.0.0.1", port), timeout=30)
            except OSError:
                return
            with upstream:
                client.sendall(b"\x05\x00\x00\x01" + bytes(6))
                pump = threading.Thread(target=self._relay, args=(upstream, client), daemon=True)
                pump.start()
                self._relay(client, upstream)
                pump.join(30)

    def _relay(self, src: socket.socket, dst: socket.socket) -> None:
        sent = 0
        try:
            while sent < MAX_RELAY_BYTES and not self.stop.is_set():
                data = src.recv(65536)
                if not data:
                    break
                dst.sendall(data)
                sent += len(data)
        except OSError:
            pass
        for s in (src, dst):
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)

    def close(self) -> None:
        self.stop.set()
        self.sock.close()


class SilentServer:
    """Accepts, reads the request and never answers (until closed)."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.sock.settimeout(0.2)
        self.stop = threading.Event()
        self.port = self.sock.getsockname()[1]
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            threading.Thread(target=self._hold, args=(conn,), daemon=True).start()

    def _hold(self, conn: socket.socket) -> None:
        with conn:
            try:
                conn.recv(65536)
            except OSError:
                return
            self.stop.wait(60)

    def close(self) -> None:
        self.stop.set()
        self.sock.close()


@pytest.fixture
def socks_proxy():
    proxy = Socks5Proxy()
    yield proxy
    proxy.close()


@pytest.fixture
def silent_server():
    server = SilentServer()
    yield server
    server.close()


def _session(proxy_url: str, **config) -> object:
    return create_session(HttpConfig(proxies={"http": proxy_url, "https": proxy_url}, **config))


@pytest.mark.skipif(not HAS_PYSOCKS, reason="PySocks (python3-socks) is not installed")
def test_a_request_goes_through_the_socks_proxy(socks_proxy, fake_server):
    fake_server.route("/arcgis/rest/services", {"currentVersion": 11.1, "services": []})
    port = int(fake_server.base_url.rsplit(":", 1)[1])
    answer = get_json(_session(socks_proxy.url, retries=0), f"http://localhost:{port}/arcgis/rest/services")
    assert answer["currentVersion"] == 11.1
    assert socks_proxy.connects == [("localhost", port)]  # socks5h: the proxy resolved the name


@pytest.mark.skipif(not HAS_PYSOCKS, reason="PySocks (python3-socks) is not installed")
def test_the_deadline_ends_a_request_through_socks_waiting_for_its_headers(socks_proxy, silent_server):
    # the read timeout (60 s) alone would keep the request waiting; the JSON deadline is 0.5 s
    session = _session(socks_proxy.url, retries=2, backoff=0.001, json_deadline=0.5)
    started = time.monotonic()
    with pytest.raises(NetworkError) as info:
        get_json(session, f"http://127.0.0.1:{silent_server.port}/arcgis/rest/services")
    assert "in the time allowed" in str(info.value)
    assert time.monotonic() - started < 20


@pytest.mark.skipif(not HAS_PYSOCKS, reason="PySocks (python3-socks) is not installed")
def test_cancel_ends_a_request_through_socks_waiting_for_its_headers(socks_proxy, silent_server):
    session = _session(socks_proxy.url, retries=0, json_deadline=120)
    cancel = CancelToken()
    threading.Timer(0.3, cancel.cancel).start()
    started = time.monotonic()
    with pytest.raises(CancelledError):
        get_json(session, f"http://127.0.0.1:{silent_server.port}/arcgis/rest/services", cancel=cancel)
    assert time.monotonic() - started < 20


# Run without PySocks, as in a QGIS whose Python lacks it: the import of ``socks`` fails in that process.
WITHOUT_PYSOCKS = r"""
import sys
sys.modules["socks"] = None
from plugin.core.errors import NetworkError
from plugin.core.http import HttpConfig, create_session, get_json
proxy = sys.argv[1]
session = create_session(HttpConfig(retries=0, proxies={"http": proxy, "https": proxy}))
try:
    get_json(session, "http://127.0.0.1:9/arcgis/rest/services")
except NetworkError as exc:
    print(type(exc).__name__, str(exc))
"""


def test_without_pysocks_the_message_says_what_to_install(socks_proxy):
    done = subprocess.run([sys.executable, "-c", WITHOUT_PYSOCKS, socks_proxy.url], cwd=REPO, capture_output=True,
                          text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    text = done.stdout.strip()
    assert text.startswith("SocksSupportError")
    assert "SOCKS" in text and "PySocks" in text and "HTTP proxy" in text
    assert "not a valid" not in text
    assert socks_proxy.connects == []  # nothing was sent
