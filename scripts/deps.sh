#!/usr/bin/env bash
# Install what the tests, the demo and the tooling need; idempotent (a second run takes seconds).
#   1. QGIS and friends from Debian's packages (apt, as root; sudo when not root)
#   2. a virtual environment in .venv built from /usr/bin/python3 with --system-site-packages,
#      because the `python3` first on PATH may be another interpreter that has no QGIS
#   3. the pinned dev requirements, reinstalled only when requirements-dev.txt changes
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(python3-qgis qgis-providers qgis python3-venv python3-pip python3-requests python3-pil python3-socks
              xvfb xauth qttools5-dev-tools pyqt5-dev-tools gdal-bin zip unzip curl)
# `deps.sh bench` also needs Mesa's EGL and DRI drivers (MapLibre Native, pymgl, renders headless)
# and numpy/scipy for the render comparison.
if [ "${1:-}" = bench ]; then APT_PACKAGES+=(libegl-mesa0 libgl1-mesa-dri python3-numpy python3-scipy); fi
VENV=${VENV:-.venv}
SYS_PY=/usr/bin/python3

missing=()
for pkg in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if ((${#missing[@]})); then
    echo "deps: installing Debian packages: ${missing[*]}"
    SUDO=""
    if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi
    $SUDO apt-get update -q
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

if [ ! -x "$VENV/bin/python" ]; then
    echo "deps: creating $VENV from $SYS_PY (with system site packages, for QGIS)"
    "$SYS_PY" -m venv --system-site-packages "$VENV"
fi

# `deps.sh bench` also installs the benchmarks' baselines (requirements-bench.txt).
requirement_files=(requirements-dev.txt)
if [ "${1:-}" = bench ]; then requirement_files+=(requirements-bench.txt); fi
for req in "${requirement_files[@]}"; do
    want=$(sha256sum "$req" | cut -d' ' -f1)
    stamp="$VENV/.${req%.txt}.sha256"
    if [ "$want" != "$(cat "$stamp" 2>/dev/null || true)" ]; then
        echo "deps: installing pinned $req"
        "$VENV/bin/python" -m pip install -q --disable-pip-version-check -r "$req"
        echo "$want" > "$stamp"
    fi
done
"$VENV/bin/python" -c "import qgis.core, pytest, pytestqt, werkzeug" \
    || { echo "deps: the environment is incomplete; delete $VENV and run 'make deps' again" >&2; exit 1; }
echo "deps: ready ($("$VENV/bin/python" -c 'from qgis.core import Qgis; print("QGIS", Qgis.QGIS_VERSION)'))"
