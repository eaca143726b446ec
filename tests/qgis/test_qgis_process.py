"""The algorithms run from the command line through qgis_process after `make deploy`."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def qgis_process() -> str:
    # Debian 12's /usr/bin/qgis_process wrapper adds --noversioncheck, which 3.22 rejects.
    for candidate in ("/usr/bin/qgis_process.bin", shutil.which("qgis_process") or ""):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    pytest.skip("qgis_process is not installed")
    return ""


@pytest.fixture(scope="module")
def deployed_profile(tmp_path_factory):
    """A QGIS settings folder with the packaged plugin installed and enabled, as `make deploy` does."""
    root = tmp_path_factory.mktemp("qgis-config")
    zip_path = root / "plugin.zip"
    subprocess.run(["bash", str(REPO / "scripts/package.sh"), str(zip_path)], check=True, cwd=REPO,
                   capture_output=True)
    subprocess.run(["bash", str(REPO / "scripts/deploy.sh"), str(zip_path), str(root / "profiles/default")],
                   check=True, capture_output=True)
    return root


def run_qgis_process(profile: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "QGIS_CUSTOM_CONFIG_PATH": str(profile), "QT_QPA_PLATFORM": "offscreen"}
    return subprocess.run([qgis_process(), *args], env=env, capture_output=True, text=True, timeout=300, check=False)


def test_package_holds_the_plugin_folder_without_dev_files(deployed_profile):
    names = zipfile.ZipFile(deployed_profile / "plugin.zip").namelist()
    assert all(name.startswith("arcgis_offline_tiles/") for name in names)
    assert "arcgis_offline_tiles/metadata.txt" in names
    assert not [n for n in names if "/tests/" in n or "arcgis_emulator" in n or "__pycache__" in n]


def test_export_and_estimate_through_qgis_process(deployed_profile, emulator, tmp_path):
    listing = run_qgis_process(deployed_profile, "list")
    assert "arcgisofflinetiles:exporttiles" in listing.stdout, listing.stderr[-2000:]
    url = emulator.service_url("World_Map", "MapServer")

    estimate = tmp_path / "estimate.json"
    done = run_qgis_process(deployed_profile, "run", "arcgisofflinetiles:estimatetiles", "--",
                            f"SERVICE_URL={url}", "LEVELS=0-2", f"OUTPUT={estimate}")
    assert done.returncode == 0, done.stderr[-2000:]
    assert json.loads(estimate.read_text())["total"] == 1 + 4 + 16
    values = dict(line.split(":\t", 1) for line in done.stdout.splitlines() if ":\t" in line)
    assert values["TOTAL"] == "21"
    assert json.loads(values["LEVEL_TILES"]) == {"0": 1, "1": 4, "2": 16}

    package = tmp_path / "world.tpkx"
    done = run_qgis_process(deployed_profile, "run", "arcgisofflinetiles:exporttiles", "--",
                            f"SERVICE_URL={url}", "LEVELS=0-2", f"OUTPUT={package}")
    assert done.returncode == 0, done.stderr[-2000:]
    assert package.exists() and zipfile.is_zipfile(package)
    results = dict(line.split(":\t", 1) for line in done.stdout.splitlines() if ":\t" in line)
    assert results["TILE_COUNT"] == "21"
    assert results["JOB_COUNT"] == "1"
    assert results["OUTPUT"] == str(package)
    store = deployed_profile / "profiles" / "default" / "arcgis_offline_tiles" / "jobs"
    assert not list(store.glob("*.json"))  # a finished export leaves no record to resume


def test_bad_url_fails_with_a_message_and_no_output(deployed_profile, emulator, tmp_path):
    done = run_qgis_process(deployed_profile, "run", "arcgisofflinetiles:exporttiles", "--",
                            f"SERVICE_URL={emulator.base_url}/rest/services/Nope/MapServer",
                            f"OUTPUT={tmp_path / 'x.tpkx'}")
    assert done.returncode != 0
    assert "No ArcGIS service was found" in done.stdout + done.stderr
    assert not (tmp_path / "x.tpkx").exists()


def test_an_interrupted_qgis_process_export_resumes_from_the_dock(deployed_profile, emulator, tmp_path, qgis_iface,
                                                                  qtbot):
    """exporttiles keeps its records in the profile's export store as the dock does: when qgis_process is
    killed while the server builds the package, the dock's exports manager offers the export and
    finishes it with the same server job."""
    from plugin.core.exportstore import ExportStore
    from plugin.gui.exports import ExportState
    from tests.qgis.exports_helpers import export_requests, new_manager, wait_idle, wait_state

    emulator.configure("World_Map/MapServer", job_steps=30, job_step_delay_s=0.2)
    url = emulator.service_url("World_Map", "MapServer")
    store = deployed_profile / "profiles" / "default" / "arcgis_offline_tiles" / "jobs"
    out = tmp_path / "field.tpkx"
    env = {**os.environ, "QGIS_CUSTOM_CONFIG_PATH": str(deployed_profile), "QT_QPA_PLATFORM": "offscreen"}
    process = subprocess.Popen([qgis_process(), "run", "arcgisofflinetiles:exporttiles", "--", f"SERVICE_URL={url}",
                                "LEVELS=0-2", f"OUTPUT={out}"], env=env, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    try:
        qtbot.waitUntil(lambda: any(r.job_id for r in ExportStore(store).records()), timeout=120_000)
    finally:
        process.kill()
        process.wait(timeout=60)
    assert not out.exists()

    manager = new_manager(qgis_iface, store)
    try:
        qtbot.waitUntil(lambda: bool(manager.resumable()), timeout=30_000)
        [waiting] = manager.resumable()
        assert waiting.can_resume and Path(waiting.request.output_path) == out
        manager.resume(waiting.id)
        view = wait_state(qtbot, manager, waiting.id)
        assert view.state == ExportState.FINISHED, view.error
    finally:
        manager.shutdown()
        wait_idle(qtbot)
    assert out.exists() and zipfile.is_zipfile(out)
    assert len(export_requests(emulator)) == 1  # the server job qgis_process started
    assert ExportStore(store).records() == []
