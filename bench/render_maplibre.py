"""Render one map with MapLibre Native (``pymgl``), headless: the reference of ``bench_render``.

    EGL_PLATFORM=surfaceless python -m bench.render_maplibre STYLE.json LON LAT ZOOM WIDTH HEIGHT OUT.png

One process per map: MapLibre Native keeps GL state per process, and a crash (no EGL) must not take
the benchmark down with it.  The style's sources, sprite and glyphs are URLs on 127.0.0.1 (the
benchmark's tile server); MapLibre's zoom is the 512 px zoom of vector tile packages.
"""
from __future__ import annotations

import sys
from pathlib import Path


def main(argv: list[str]) -> int:
    style_path, lon, lat, zoom, width, height, out = argv
    import pymgl

    style = Path(style_path).read_text(encoding="utf-8")
    gl_map = pymgl.Map(style, width=int(width), height=int(height), ratio=1,
                       longitude=float(lon), latitude=float(lat), zoom=float(zoom))
    Path(out).write_bytes(gl_map.renderPNG())
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
