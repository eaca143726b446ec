"""What the plugin costs at every QGIS start, in QGIS's own start-up profiler.

QGIS (``/usr/bin/qgis``) is started under ``xvfb-run`` with a throwaway profile in which the plugin
(a copy of this checkout's plugin files) is enabled.  A ``--code`` script reads
``QgsApplication.profiler()`` once the window is up, writes the *Load plugins* entries as JSON and
quits.  One start compiles the plugin's ``.pyc`` files and is not counted; the figures are medians
of :data:`STARTS` starts after it.

Figures: ``startup_ms`` (the plugin's *Load plugins* entry: import, ``classFactory``, ``initGui``),
``startup_processing_ms`` (Processing's own entry in the same starts) and
``startup_ratio_vs_processing``; per start under ``startup``.
"""
from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PLUGIN = "arcgis_offline_tiles"
PLUGIN_FILES = ("__init__.py", "metadata.txt", "plugin", "icons", "i18n", "ui")
QGIS = Path("/usr/bin/qgis")
STARTS = 5
START_TIMEOUT_S = 180
SYSTEM_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"  # QGIS's Python, not a pyenv one

DUMP_SCRIPT = """
import json, os
from qgis.core import QgsApplication
from qgis.PyQt.QtCore import QTimer

profiler = QgsApplication.profiler()
entries = {}
for name in profiler.childGroups("Load plugins", "startup"):
    entries[name] = profiler.profileTime("Load plugins/" + name, "startup")
entries["Load plugins"] = profiler.profileTime("Load plugins", "startup")
with open(os.environ["AOT_STARTUP_OUT"], "w") as out:
    json.dump(entries, out)
QTimer.singleShot(0, QgsApplication.instance().quit)
"""


def _profile(root: Path) -> Path:
    """A profile folder with this checkout's plugin installed and enabled (what ``make deploy`` does)."""
    profiles = root / "profiles"
    profile = profiles / "bench"
    plugin = profile / "python" / "plugins" / PLUGIN
    plugin.mkdir(parents=True)
    for name in PLUGIN_FILES:
        source = REPO / name
        if source.is_dir():
            shutil.copytree(source, plugin / name, ignore=shutil.ignore_patterns("__pycache__"))
        elif source.exists():
            shutil.copy2(source, plugin / name)
    ini = profile / "QGIS" / "QGIS3.ini"
    ini.parent.mkdir(parents=True)
    ini.write_text(f"[PythonPlugins]\n{PLUGIN}=true\n", encoding="utf-8")
    return root


def _start(root: Path, script: Path) -> dict:
    out = root / "profiler.json"
    out.unlink(missing_ok=True)
    env = {**os.environ, "PATH": SYSTEM_PATH, "AOT_STARTUP_OUT": str(out)}
    env.pop("QT_QPA_PLATFORM", None)  # a real (virtual) display, as a user's QGIS has
    subprocess.run(["xvfb-run", "-a", str(QGIS), "--profiles-path", str(root), "--profile", "bench",
                    "--noversioncheck", "--nologo", "--code", str(script)],
                   env=env, capture_output=True, timeout=START_TIMEOUT_S, check=False)
    if not out.exists():
        raise RuntimeError("QGIS did not write its start-up profile")
    return json.loads(out.read_text())


def run(out_dir: Path) -> dict:
    if not QGIS.exists() or shutil.which("xvfb-run") is None:
        print("bench startup: /usr/bin/qgis or xvfb-run is missing (make deps), skipped")
        return {}
    root = Path(tempfile.mkdtemp(prefix="bench_startup-", dir=out_dir))
    try:
        _profile(root)
        script = root / "dump_profiler.py"
        script.write_text(DUMP_SCRIPT, encoding="utf-8")
        _start(root, script)  # compiles the plugin's .pyc files, as QGIS's first start after an install does
        starts = [_start(root, script) for _ in range(STARTS)]
    finally:
        shutil.rmtree(root, ignore_errors=True)
    if any(PLUGIN not in s for s in starts):
        raise RuntimeError(f"the plugin was not loaded: {starts[0]}")
    plugin_ms = statistics.median(s[PLUGIN] * 1000 for s in starts)
    processing_ms = statistics.median(s.get("processing", 0.0) * 1000 for s in starts)
    return {
        "startup_ms": round(plugin_ms, 1),
        "startup_processing_ms": round(processing_ms, 1),
        "startup_ratio_vs_processing": round(plugin_ms / processing_ms, 3) if processing_ms else None,
        "startup": {"starts": [{k: round(v * 1000, 1) for k, v in s.items()} for s in starts],
                    "how": "QGIS start-up profiler, 'Load plugins' entries, xvfb-run, median of "
                           f"{STARTS} starts after one that compiles .pyc files"},
    }
