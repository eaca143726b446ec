"""The suite's own guards work: no traffic beyond loopback, no secret in the logs."""
from __future__ import annotations

import logging
import socket

import pytest
import requests

from tests.conftest import leaked_secrets


def test_requests_beyond_loopback_are_refused_and_recorded(outside_attempts):
    with pytest.raises(requests.ConnectionError):
        requests.get("http://gis.example.com/arcgis/rest/services?f=json", timeout=2)
    with pytest.raises(OSError):
        socket.create_connection(("192.0.2.1", 80), timeout=1)
    assert any("gis.example.com" in attempt for attempt in outside_attempts)
    assert any("192.0.2.1" in attempt for attempt in outside_attempts)
    outside_attempts.clear()  # seen: the guard's autouse check must not fail this test


def test_loopback_stays_reachable(emulator, outside_attempts):
    response = requests.get(f"{emulator.base_url}/rest/info", params={"f": "json"}, timeout=10)
    assert response.ok and "authInfo" in response.json()
    assert outside_attempts == []


def test_a_token_written_to_a_plugin_log_is_caught(emulator, log_texts):
    token = emulator.issue_token("analyst")
    logging.getLogger("plugin.guard_test").debug("sending token=%s", token)  # a logger without redaction
    assert leaked_secrets(log_texts, emulator.tokens.values()) == [f"sending token={token}"]
    log_texts.clear()  # seen: the emulator fixture's leak check must not fail this test
