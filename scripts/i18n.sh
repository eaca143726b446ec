#!/usr/bin/env bash
# Maintain translations: `update` regenerates i18n/*.ts from the Python and .ui sources,
# `compile` builds the .qm files QGIS loads.
set -euo pipefail
shopt -s nullglob
cd "$(dirname "$0")/.."
LRELEASE=$(command -v lrelease || echo /usr/lib/qt5/bin/lrelease)
case "${1:-}" in
  update)
    mapfile -t sources < <(find plugin -name '*.py' | sort; find ui -name '*.ui' | sort)
    for ts in i18n/*.ts; do pylupdate5 -noobsolete "${sources[@]}" -ts "$ts"; done ;;
  compile)
    for ts in i18n/*.ts; do "$LRELEASE" -silent "$ts" -qm "${ts%.ts}.qm"; done ;;
  *) echo "usage: i18n.sh update|compile" >&2; exit 2 ;;
esac
