"""`make demo` runs the whole mission headless and leaves its outputs and no process behind."""
from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from qgis.PyQt.QtGui import QImage

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_demo_exports_opens_and_renders_everything(tmp_path):
    out = tmp_path / "demo"
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    done = subprocess.run([sys.executable, "-m", "arcgis_emulator.demo", "--out", str(out)], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    table = done.stdout[done.stdout.index("service "):]
    for name in ("italy.vtpk", "alps.tpkx", "alps.tpk", "europe.gpkg"):
        assert name in table
        assert (out / name).stat().st_size > 10_000
    split_row = next(line for line in table.splitlines() if "europe.gpkg" in line)
    assert int(split_row.split()[split_row.split().index("2-7") + 2]) > 1, "the Europe export was split"
    for package in ("italy.vtpk", "alps.tpkx", "alps.tpk"):
        assert zipfile.is_zipfile(out / package)
    assert (out / "demo.qgz").exists()
    for picture in ("overview.png", "italy-vtpk.png", "alps-tpkx.png", "alps-tpk.png", "europe-gpkg.png"):
        image = QImage(str(out / picture))
        assert not image.isNull()
        colours = {image.pixel(x, y) for x in range(0, image.width(), 37) for y in range(0, image.height(), 37)}
        assert len(colours) > 20, f"{picture} looks empty"
    assert not (out / ".server").exists(), "the demo server cleaned up after itself"
