#!/usr/bin/env bash
# Build the plugin zip: a single folder arcgis_offline_tiles/ with the runtime files only.
# The translations (.qm) are build outputs made here, never taken from the checkout, so a stale or
# missing one cannot slip into the zip. LRELEASE=/path/to/lrelease overrides
# the Qt Linguist tool.
set -euo pipefail
shopt -s nullglob
cd "$(dirname "$0")/.."
zip_path=${1:?usage: package.sh dist/NAME.zip}
fail() { echo "package.sh: $*" >&2; exit 1; }

LRELEASE=${LRELEASE:-$(command -v lrelease || echo /usr/lib/qt5/bin/lrelease)}
[ -x "$LRELEASE" ] || fail "lrelease (Qt Linguist tools) was not found at $LRELEASE; it compiles the" \
    "translations. Install it (Debian: apt-get install qttools5-dev-tools, or make deps) or set LRELEASE."

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
dest="$stage/arcgis_offline_tiles"
mkdir -p "$dest/i18n"
cp metadata.txt __init__.py LICENSE README.md "$dest/"
cp -r plugin ui icons "$dest/"

translations=(i18n/*.ts)
[ ${#translations[@]} -gt 0 ] || fail "no translation sources (i18n/*.ts) to compile"
for ts in "${translations[@]}"; do
    qm="$dest/i18n/$(basename "${ts%.ts}").qm"
    if ! "$LRELEASE" -silent "$ts" -qm "$qm" || [ ! -s "$qm" ]; then
        fail "lrelease could not compile $ts into a translation; open it in Qt Linguist (or run" \
            "make transup) to repair it, then run make package again."
    fi
done

# The help page the dock's Help button opens: help/index.html and its pictures, written for analysts.
[ -f help/index.html ] || fail "help/index.html (the usage guide the Help button opens) is missing"
cp -r help "$dest/"

find "$dest" -name __pycache__ -type d -prune -exec rm -rf {} +
find "$dest" -name '*.py[co]' -delete
mkdir -p "$(dirname "$zip_path")"
rm -f "$zip_path"
(cd "$stage" && zip -qr -X - arcgis_offline_tiles) > "$zip_path"
echo "package: $zip_path ($(du -h "$zip_path" | cut -f1))"
