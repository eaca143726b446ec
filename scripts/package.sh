#!/usr/bin/env bash
# Build the plugin zip: a single folder arcgis_offline_tiles/ with the runtime files only.
set -euo pipefail
cd "$(dirname "$0")/.."
zip_path=${1:?usage: package.sh dist/NAME.zip}
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
dest="$stage/arcgis_offline_tiles"
mkdir -p "$dest"
# Compile translations when the tools are there; the .qm files are build outputs, not sources.
if command -v lrelease >/dev/null 2>&1 || [ -x /usr/lib/qt5/bin/lrelease ]; then
    bash scripts/i18n.sh compile >/dev/null
fi
cp metadata.txt __init__.py LICENSE README.md "$dest/"
cp -r plugin ui icons "$dest/"
mkdir -p "$dest/i18n"
cp i18n/*.qm "$dest/i18n/" 2>/dev/null || true
find "$dest" -name __pycache__ -type d -prune -exec rm -rf {} +
find "$dest" -name '*.py[co]' -delete
mkdir -p "$(dirname "$zip_path")"
rm -f "$zip_path"
(cd "$stage" && zip -qr -X - arcgis_offline_tiles) > "$zip_path"
echo "package: $zip_path ($(du -h "$zip_path" | cut -f1))"
