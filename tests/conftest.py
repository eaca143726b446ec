"""Shared test configuration: paths, the ../shared fixtures, headless Qt, the loopback-only network
guard and the check that no test leaks a token or password into the logs."""
from __future__ import annotations

import ipaddress
import logging
import os
import socket
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

# Property tests: no per-example deadline (the machine may be busy); in CI the same examples every
# run, so a red CI is reproducible and never a roll of the dice.
settings.register_profile("default", deadline=None,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
settings.register_profile("ci", parent=settings.get_profile("default"), derandomize=True)
settings.load_profile("ci" if os.environ.get("CI") else "default")

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("AOT_SHARED_DIR", REPO.parent / "shared"))
REAL_FIXTURES = SHARED / "fixtures" / "real"


def require_shared() -> Path:
    """Return ``../shared/fixtures/real`` or skip the calling test with a clear reason."""
    if not REAL_FIXTURES.is_dir():
        pytest.skip(f"../shared is absent ({REAL_FIXTURES} not found): real-fixture tests need it")
    return REAL_FIXTURES


@pytest.fixture
def real_fixtures() -> Path:
    return require_shared()


@pytest.fixture(scope="session")
def _shared_emulator(tmp_path_factory):
    pytest.importorskip("qgis.PyQt", reason="the emulator draws its sample tiles with Qt (QGIS's PyQt)")
    from arcgis_emulator.emulator import Emulator
    from arcgis_emulator.samples import load_sample_services

    # The samples are rendered by QGIS once into a cache (about 30 s the first time), reused after.
    emu = Emulator(work_dir=tmp_path_factory.mktemp("emulator"), samples=load_sample_services())
    emu.start()
    yield emu
    emu.stop()


# --- no network beyond loopback ----------------------------------------------------------------
# Every connection and name lookup made from the test process (requests, urllib3, the engine) is
# checked: anything but loopback is refused at once and fails the test, even if the code under test
# swallows the error.  (QGIS's own C++ networking and child processes are outside this guard.)
_REAL_CONNECT = socket.socket.connect
_REAL_CONNECT_EX = socket.socket.connect_ex
_REAL_GETADDRINFO = socket.getaddrinfo
_OUTSIDE_ATTEMPTS: list[str] = []


def _is_loopback(host) -> bool:
    if host in (None, "", "localhost") or (isinstance(host, str) and host.endswith(".localhost")):
        return True
    try:
        return ipaddress.ip_address(str(host).split("%")[0]).is_loopback
    except ValueError:
        return False


def _refuse(what: str, host) -> None:
    _OUTSIDE_ATTEMPTS.append(f"{what} {host!r}")
    raise socket.gaierror(socket.EAI_NONAME, f"tests reach only loopback, not {host!r}")


def _guarded_connect(sock, address):
    if sock.family in (socket.AF_INET, socket.AF_INET6) and not _is_loopback(address[0]):
        _refuse("connect to", address[0])
    return _REAL_CONNECT(sock, address)


def _guarded_connect_ex(sock, address):
    if sock.family in (socket.AF_INET, socket.AF_INET6) and not _is_loopback(address[0]):
        _refuse("connect to", address[0])
    return _REAL_CONNECT_EX(sock, address)


def _guarded_getaddrinfo(host, *args, **kwargs):
    if isinstance(host, bytes):
        host = host.decode("ascii", "replace")
    if not _is_loopback(host):
        _refuse("name lookup of", host)
    return _REAL_GETADDRINFO(host, *args, **kwargs)


socket.socket.connect = _guarded_connect
socket.socket.connect_ex = _guarded_connect_ex
socket.getaddrinfo = _guarded_getaddrinfo


@pytest.fixture(autouse=True)
def outside_attempts():
    """What the test tried to reach beyond loopback (must stay empty; the guard's own test clears it)."""
    _OUTSIDE_ATTEMPTS.clear()
    yield _OUTSIDE_ATTEMPTS
    assert not _OUTSIDE_ATTEMPTS, f"the test tried to reach beyond loopback: {_OUTSIDE_ATTEMPTS}"


# --- secrets never reach a log -------------------------------------------------------------------
# The plugin's loggers record at DEBUG during every test that uses the emulator, and QGIS's message
# log is listened to; at the end of the test no token the emulator issued and no user's password may
# appear in any of it.
PLUGIN_LOGGERS = ("plugin", "arcgis_offline_tiles")


class _RecordingHandler(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.texts: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        text = record.getMessage()
        if record.exc_info:
            text += "\n" + logging.Formatter().formatException(record.exc_info)
        self.texts.append(text)


def leaked_secrets(texts: list[str], secrets: list[str]) -> list[str]:
    return [text for text in texts for secret in secrets if secret and secret in text]


@pytest.fixture
def log_texts():
    """Everything the plugin logged (DEBUG up) and QGIS's message log received during the test."""
    handler = _RecordingHandler()
    levels = {}
    for name in PLUGIN_LOGGERS:
        logger = logging.getLogger(name)
        levels[name] = logger.level
        logger.setLevel(logging.DEBUG)
        logger.addHandler(handler)
    message_log = None
    try:
        from qgis.core import QgsApplication

        if QgsApplication.instance() is not None:
            message_log = QgsApplication.messageLog()
    except ImportError:  # the unit tier runs without QGIS
        pass

    def on_message(message, tag, _level):
        handler.texts.append(f"[{tag}] {message}")

    if message_log is not None:
        message_log.messageReceived.connect(on_message)
    yield handler.texts
    if message_log is not None:
        message_log.messageReceived.disconnect(on_message)
    for name in PLUGIN_LOGGERS:
        logging.getLogger(name).removeHandler(handler)
        logging.getLogger(name).setLevel(levels[name])


@pytest.fixture
def emulator(_shared_emulator, log_texts):
    """The local ArcGIS Server emulator, reset (configuration, faults, request log, jobs, tokens) around
    every test; afterwards no token it issued and no password of its users may be in any log."""
    _shared_emulator.reset()
    yield _shared_emulator
    secrets = [*_shared_emulator.tokens.values(), *_shared_emulator.users.values()]
    leaks = leaked_secrets(log_texts, secrets)
    _shared_emulator.reset()
    assert not leaks, f"a token or password reached the log: {leaks[:3]}"
