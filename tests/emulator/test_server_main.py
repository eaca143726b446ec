"""``python -m arcgis_emulator serve``: prints its URLs, serves, stops cleanly on SIGTERM."""
from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import requests

REPO = Path(__file__).resolve().parents[2]


def test_serve_prints_urls_and_stops_on_sigterm():
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "arcgis_emulator", "serve", "--port", "0",
                             "--max-export-tiles", "77"], cwd=REPO, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    lines: list[str] = []
    try:
        deadline = time.time() + 240  # the first run builds the sample tile cache
        while time.time() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            lines.append(line.rstrip())
            if line.startswith("Press Ctrl-C"):
                break
        output = "\n".join(lines)
        base = re.search(r"ArcGIS emulator: (http://127\.0\.0\.1:\d+/arcgis)", output)
        assert base, output
        services = re.findall(r"service\s+(http://\S+)", output)
        assert len(services) == 6, output
        assert any(s.endswith("/Secured/World_Map/MapServer") for s in services)
        catalog = requests.get(f"{base.group(1)}/rest/services", params={"f": "json"}, timeout=10).json()
        assert len(catalog["services"]) == 5
        doc = requests.get(f"{base.group(1)}/rest/services/World_Map/MapServer", params={"f": "json"},
                           timeout=10).json()
        assert doc["maxExportTilesCount"] == 77
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0
        assert "Emulator stopped." in proc.stdout.read()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
