"""`make demo` runs the whole mission headless, keeps what it promises, and leaves no process behind."""
from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from qgis.PyQt.QtGui import QImage

from arcgis_emulator import demo

REPO = Path(__file__).resolve().parents[2]
PACKAGES = ("italy.vtpk", "alps.tpkx", "alps.tpk")
PICTURES = ("overview.png", "italy-vtpk.png", "alps-tpkx.png", "alps-tpk.png", "alps-cache.png", "europe-gpkg.png")
HEADER = ("service", "area", "levels", "tiles", "parts", "file", "size", "seconds")


def run_demo(out: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    return subprocess.run([sys.executable, "-m", "arcgis_emulator.demo", "--out", str(out)], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=600, check=False)


def processes_left(out: Path) -> list[str]:
    """Children of this test process, and any process whose command line names the demo's folder."""
    left = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            ppid = int(stat.read_text().rsplit(")", 1)[1].split()[1])
            cmdline = (stat.parent / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except (OSError, IndexError, ValueError):
            continue  # the process ended while we looked
        if ppid == os.getpid() or str(out) in cmdline:
            left.append(f"{stat.parent.name}: {cmdline}")
    return left


def table_rows(stdout: str) -> dict[str, dict[str, str]]:
    """The printed table, by file name: header, a dashed rule, one row per export (columns split on 2+ spaces)."""
    lines = stdout.splitlines()
    start = next(i for i, line in enumerate(lines) if line.split() == list(HEADER))
    assert set(lines[start + 1].replace(" ", "")) == {"-"}
    rows = {}
    for line in lines[start + 2:]:
        if not line.strip():
            break
        cells = re.split(r"\s{2,}", line.strip())
        assert len(cells) == len(HEADER), line
        rows[cells[5]] = dict(zip(HEADER, cells))
    return rows


@pytest.mark.slow
def test_demo_exports_opens_and_renders_everything(tmp_path, qgis_app):
    from qgis.core import QgsProject, QgsRasterLayer

    from plugin.core.packages import open_package

    out = tmp_path / "demo"
    done = run_demo(out)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]

    # step 1: the estimate is printed and written, and matches the export
    estimate = re.search(r"demo: estimate for Italy, levels 2-6: (\d+) tiles, (\d+) part\(s\)", done.stdout)
    assert estimate, done.stdout[-3000:]
    written = json.loads((out / "italy-estimate.json").read_text())
    assert written["total"] == int(estimate.group(1)) and written["jobs_needed"] == int(estimate.group(2))
    assert [entry["level"] for entry in written["levels"]] == [2, 3, 4, 5, 6]

    rows = table_rows(done.stdout)
    assert sorted(rows) == sorted([*PACKAGES, "alps-cache", "europe.gpkg"])
    assert int(rows["italy.vtpk"]["tiles"].replace(",", "")) == written["total"]
    for name in PACKAGES:  # every package opens and holds the tiles the table reports
        with open_package(out / name) as pkg:
            assert pkg.tile_count == int(rows[name]["tiles"].replace(",", ""))
            first, last = map(int, rows[name]["levels"].split("-"))
            assert pkg.levels == list(range(first, last + 1))
    assert rows["alps.tpkx"]["service"] == rows["alps.tpk"]["service"] == "World_Map (MapServer)"
    # step 2b: the same area as a tile cache folder (Compact V2): the package's tiles, laid out as a cache
    cache = out / "alps-cache"
    assert (cache / "conf.xml").is_file() and (cache / "conf.cdi").is_file() and (cache / "_alllayers").is_dir()
    assert "esriMapCacheStorageModeCompactV2" in (cache / "conf.xml").read_text()
    with open_package(cache) as pkg, open_package(out / "alps.tpkx") as package:
        assert pkg.kind == "cache" and pkg.tile_count == int(rows["alps-cache"]["tiles"].replace(",", ""))
        assert {(t.level, t.row, t.col) for t in pkg.iter_tiles()} == {(t.level, t.row, t.col)
                                                                       for t in package.iter_tiles()}
    # step 3: above the limit, split into parts, merged into one GeoPackage
    europe = rows["europe.gpkg"]
    assert int(europe["parts"]) > 1 and europe["levels"] == "2-7"
    parts = sorted(out.glob("europe_part*.tpkx"))
    assert len(parts) == int(europe["parts"])
    merged = QgsRasterLayer(str(out / "europe.gpkg"), "europe", "gdal")
    assert merged.isValid()

    # step 4: the project opens with every layer valid; every picture has content
    project = QgsProject()
    assert project.read(str(out / "demo.qgz"))
    layers = list(project.mapLayers().values())
    assert len(layers) == len(rows) + 1  # every export and the country outlines
    assert [layer.name() for layer in layers if not layer.isValid()] == []
    project.clear()
    for picture in PICTURES:
        image = QImage(str(out / picture))
        assert not image.isNull() and image.width() > 100, picture
        colours = {image.pixel(x, y) for x in range(0, image.width(), 37) for y in range(0, image.height(), 37)}
        assert len(colours) > 20, f"{picture} looks empty"
    assert done.stdout.rstrip().splitlines()[-1] == f"demo: outputs in {out} (packages, demo.qgz, *.png)"

    # nothing left running: no process of ours, and the sample server's port is closed
    assert processes_left(out) == []
    port = int(re.search(r"demo: sample server at http://127\.0\.0\.1:(\d+)/", done.stdout).group(1))
    with pytest.raises(OSError), socket.create_connection(("127.0.0.1", port), timeout=5):
        pass

    # a second run deletes only what the first one wrote: a file the user put there stays
    recorded = set(demo._recorded(out))
    assert {*PACKAGES, *PICTURES, "alps-cache", "europe.gpkg", "demo.qgz", "italy-estimate.json"} <= recorded
    (out / "notes.txt").write_text("mine")
    before = demo.prepare_out_dir(out)
    assert sorted(p.name for p in out.iterdir()) == sorted([demo.MARKER, "notes.txt"])
    assert before == {demo.MARKER, "notes.txt"}


def test_demo_refuses_a_folder_it_did_not_make_and_deletes_nothing(tmp_path):
    folder = tmp_path / "my-maps"
    folder.mkdir()
    (folder / "field-survey.gpkg").write_bytes(b"precious")
    done = run_demo(folder)
    assert done.returncode != 0
    assert f"demo: {folder} is not empty and was not made by the demo" in done.stderr
    assert "--out" in done.stderr
    assert sorted(p.name for p in folder.iterdir()) == ["field-survey.gpkg"]
    assert (folder / "field-survey.gpkg").read_bytes() == b"precious"


def test_demo_folder_marker_deletes_only_recorded_bare_names(tmp_path):
    folder = tmp_path / "demo"
    assert demo.prepare_out_dir(folder) == set()  # a new folder is claimed at once
    (folder / "alps.tpkx").write_bytes(b"old export")
    outside = tmp_path / "outside.txt"
    outside.write_text("not the demo's")
    demo.record_outputs(folder, set())
    with (folder / demo.MARKER).open("a") as marker:  # a hand-edited marker cannot reach outside the folder
        marker.write("../outside.txt\n")
    (folder / "later.txt").write_text("added after the run")
    demo.prepare_out_dir(folder)
    assert sorted(p.name for p in folder.iterdir()) == sorted([demo.MARKER, "later.txt"])
    assert outside.read_text() == "not the demo's"
    empty = tmp_path / "empty"
    empty.mkdir()
    assert demo.prepare_out_dir(empty) == set()
    with pytest.raises(SystemExit, match="is a file"):
        demo.prepare_out_dir(outside)
