#!/usr/bin/env bash
# Build the plugin zip: a single folder arcgis_offline_tiles/ with the runtime files only.
# The translations (.qm) and the offline help page are build outputs made here, never taken from the
# checkout, so a stale or missing one cannot slip into the zip. LRELEASE=/path/to/lrelease overrides
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
mkdir -p "$dest/i18n" "$dest/help"
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

# The help page the dock's Help button opens: the README's usage section, readable offline in any
# browser (the text as written, escaped into a wrapped <pre>).
usage=$(awk '/^## /{inside = ($0 == "## Usage")} inside' README.md | sed -e 's/&/\&amp;/g' -e 's/</\&lt;/g' -e 's/>/\&gt;/g')
[ -n "$usage" ] || fail "README.md has no '## Usage' section for the help page"
{
    echo '<!DOCTYPE html>'
    echo '<html lang="en"><head><meta charset="utf-8"><title>ArcGIS Offline Tiles: usage</title>'
    echo '<style>body{margin:2em auto;max-width:52em;padding:0 1em}'
    echo 'pre{white-space:pre-wrap;font:1rem/1.45 sans-serif}</style></head>'
    echo '<body><pre id="usage">'
    printf '%s\n' "$usage"
    echo '</pre></body></html>'
} > "$dest/help/usage.html"

find "$dest" -name __pycache__ -type d -prune -exec rm -rf {} +
find "$dest" -name '*.py[co]' -delete
mkdir -p "$(dirname "$zip_path")"
rm -f "$zip_path"
(cd "$stage" && zip -qr -X - arcgis_offline_tiles) > "$zip_path"
echo "package: $zip_path ($(du -h "$zip_path" | cut -f1))"
