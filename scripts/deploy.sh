#!/usr/bin/env bash
# Install a packaged plugin zip into a QGIS profile and mark it enabled (for manual use and qgis_process).
set -euo pipefail
zip_path=${1:?usage: deploy.sh ZIP PROFILE_DIR}
profile=${2:?usage: deploy.sh ZIP PROFILE_DIR}
plugins="$profile/python/plugins"
mkdir -p "$plugins"
rm -rf "$plugins/arcgis_offline_tiles"
unzip -q -o "$zip_path" -d "$plugins"
ini="$profile/QGIS/QGIS3.ini"
mkdir -p "$(dirname "$ini")"
touch "$ini"
if ! grep -q '^\[PythonPlugins\]' "$ini"; then printf '\n[PythonPlugins]\n' >> "$ini"; fi
if grep -q '^arcgis_offline_tiles=' "$ini"; then
    sed -i 's/^arcgis_offline_tiles=.*/arcgis_offline_tiles=true/' "$ini"
else
    sed -i '/^\[PythonPlugins\]/a arcgis_offline_tiles=true' "$ini"
fi
echo "deploy: installed into $plugins/arcgis_offline_tiles and enabled in $ini"
