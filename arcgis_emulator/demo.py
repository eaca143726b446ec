"""`make demo`: the whole mission, headless, on the embedded sample ArcGIS server.

1. estimate and export a vector package for a polygon (Italy, with its islands, from world_map.gpkg);
2. export a raster .tpkx and a .tpk for a rectangle (the Alps) from the map service, and the same area
   as a tile cache folder (conf.xml + _alllayers, what ArcGIS Pro and GDAL open as a raster);
3. export an area above the service's tile limit (the demo sets a low limit) — split and merged;
4. open every result as a layer in a QGIS project saved to the output folder, render a PNG of each
   result and an overview, and print a table.

Everything goes through the plugin's Processing algorithms, exactly as a user's script or
``qgis_process`` would call them.  Point the same calls at your own service by changing SERVICE_URL
(and AUTHCFG for a secured one).
"""
from __future__ import annotations

import argparse
import os
import shutil
import sys
import time
from dataclasses import dataclass
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

REPO = Path(__file__).resolve().parents[1]
WORLD_MAP = "/usr/share/qgis/resources/data/world_map.gpkg"
DEMO_LIMIT = 150  # maxExportTilesCount the demo gives the imagery service, so step 3 must split
# Written into the output folder: marks it as the demo's and lists the files the last run wrote —
# the only files a later run deletes.
MARKER = ".arcgis-offline-tiles-demo"
MARKER_HEADER = "# Written by `make demo` (arcgis_emulator/demo.py): the files its last run wrote here.\n"


@dataclass
class Row:
    service: str
    parts: list
    area: str
    levels: str
    tiles: int
    part_count: int
    file: Path
    seconds: float


def _start_qgis():
    from qgis.core import QgsApplication

    app = QgsApplication([], False)
    app.initQgis()
    sys.path.insert(0, "/usr/share/qgis/python/plugins")
    import processing
    from processing.core.Processing import Processing

    Processing.initialize()
    from plugin.processing.provider import ArcGISOfflineTilesProvider

    provider = ArcGISOfflineTilesProvider()
    QgsApplication.processingRegistry().addProvider(provider)
    return app, processing, provider


def _country_layer(name: str):
    from qgis.core import QgsVectorLayer

    layer = QgsVectorLayer(f"{WORLD_MAP}|layername=countries", "countries", "ogr")
    layer.setSubsetString(f"\"NAME\" = '{name}'")
    if not layer.isValid() or layer.featureCount() != 1:
        raise SystemExit(f"demo: the country {name} was not found in {WORLD_MAP}")
    return layer


def _render(layers, extent, crs, path: Path, size=(900, 600)) -> None:
    from qgis.core import QgsMapRendererParallelJob, QgsMapSettings
    from qgis.PyQt.QtCore import QSize
    from qgis.PyQt.QtGui import QColor

    settings = QgsMapSettings()
    settings.setLayers(layers)
    settings.setDestinationCrs(crs)
    settings.setOutputSize(QSize(*size))
    settings.setBackgroundColor(QColor(255, 255, 255))
    settings.setExtent(extent)
    job = QgsMapRendererParallelJob(settings)
    job.start()
    job.waitForFinished()
    job.renderedImage().save(str(path))


def _size(path: Path) -> str:
    size = sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) if path.is_dir() else path.stat().st_size
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return ""


# --- the output folder ----------------------------------------------------------------------------
def _recorded(out_dir: Path) -> list[str]:
    lines = (out_dir / MARKER).read_text(encoding="utf-8").splitlines()
    return [line for line in lines if line and not line.startswith("#")]


def prepare_out_dir(out_dir: Path) -> set[str]:
    """Make ``out_dir`` ready: new, empty, or the demo's own (then the last run's files are deleted).

    Refuses (SystemExit, nothing deleted) a folder with files the demo did not write.  Returns the
    names already there, so :func:`record_outputs` lists only what this run writes.
    """
    if out_dir.exists() and not out_dir.is_dir():
        raise SystemExit(f"demo: {out_dir} is a file, not a folder; choose another output folder with --out DIR.")
    out_dir.mkdir(parents=True, exist_ok=True)
    if (out_dir / MARKER).is_file():
        for name in _recorded(out_dir):
            path = out_dir / name
            if path.parent != out_dir or path.is_symlink():  # a bare name, never a path or link elsewhere
                continue
            if path.is_file():
                path.unlink()
            elif path.is_dir():  # a converted package's style folder, a tile cache
                shutil.rmtree(path)
    elif any(out_dir.iterdir()):
        raise SystemExit(f"demo: {out_dir} is not empty and was not made by the demo, so nothing in it was "
                         "deleted. Choose a new or empty folder with --out DIR (or DEMO_OUTPUT=DIR).")
    before = {path.name for path in out_dir.iterdir()}
    record_outputs(out_dir, before)  # claim the folder before anything is written into it
    return before


def record_outputs(out_dir: Path, before: set[str]) -> None:
    """Write the marker: every file and folder in ``out_dir`` that was not there before this run."""
    names = sorted(path.name for path in out_dir.iterdir()
                   if (path.is_file() or path.is_dir()) and not path.is_symlink()
                   and path.name not in before and path.name != MARKER)
    (out_dir / MARKER).write_text(MARKER_HEADER + "".join(f"{name}\n" for name in names), encoding="utf-8")


def run_demo(out_dir: Path) -> list[Row]:
    before = prepare_out_dir(out_dir)
    try:
        return _run_mission(out_dir)
    finally:
        record_outputs(out_dir, before)


def _run_mission(out_dir: Path) -> list[Row]:
    from arcgis_emulator.emulator import Emulator

    print("demo: starting the sample ArcGIS server (the first run renders its tiles, about 30 s)…")
    app, processing, _provider = _start_qgis()
    rows: list[Row] = []
    with Emulator() as emu:  # its jobs and packages live in a temporary folder, removed on exit
        print(f"demo: sample server at {emu.base_url}")
        emu.configure("World_Imagery/ImageServer", max_export_tiles=DEMO_LIMIT)
        vector_url = emu.service_url("World_Vector", "VectorTileServer")
        map_url = emu.service_url("World_Map", "MapServer")
        imagery_url = emu.service_url("World_Imagery", "ImageServer")

        def export(label, url, area_label, params, out_name):
            started = time.perf_counter()
            result = processing.run("arcgisofflinetiles:exporttiles",
                                    {"SERVICE_URL": url, "OUTPUT": str(out_dir / out_name), **params})
            seconds = time.perf_counter() - started
            parts = [p for p in result["OUTPUT_FILES"].split(";") if p != result["OUTPUT"]]
            rows.append(Row(label, parts, area_label, params.get("LEVELS", ""), int(result["TILE_COUNT"]),
                            int(result["JOB_COUNT"]), Path(result["OUTPUT"]), seconds))
            print(f"demo: {label}: {result['TILE_COUNT']} tiles in {result['JOB_COUNT']} part(s) → "
                  f"{Path(result['OUTPUT']).name}")

        # 1. vector package for a real country outline: estimate first, then export
        italy = _country_layer("Italy")
        estimate = processing.run("arcgisofflinetiles:estimatetiles", {
            "SERVICE_URL": vector_url, "AREA": italy, "LEVELS": "2-6",
            "OUTPUT": str(out_dir / "italy-estimate.json")})
        print(f"demo: estimate for Italy, levels 2-6: {estimate['TOTAL']} tiles, "
              f"{estimate['JOBS_NEEDED']} part(s)")
        export("World_Vector (VectorTileServer)", vector_url, "polygon: Italy", {"AREA": italy, "LEVELS": "2-6"},
               "italy.vtpk")

        # 2. raster packages for a rectangle, in both formats
        alps = "5.5,16.5,43.5,48.5 [EPSG:4326]"
        export("World_Map (MapServer)", map_url, "rectangle: the Alps", {"EXTENT": alps, "LEVELS": "3-7",
                                                                           "FORMAT": 1}, "alps.tpkx")
        export("World_Map (MapServer)", map_url, "rectangle: the Alps", {"EXTENT": alps, "LEVELS": "3-7",
                                                                           "FORMAT": 2}, "alps.tpk")
        export("World_Map (MapServer)", map_url, "rectangle: the Alps", {"EXTENT": alps, "LEVELS": "3-7",
                                                                           "FORMAT": 1, "OUTPUT_KIND": 1},
               "alps-cache")

        # 3. above the server's limit: split into parts (a server job each) and merged into one file
        europe = "-11,32,34,62 [EPSG:4326]"
        export(f"World_Imagery (ImageServer, limit {DEMO_LIMIT})", imagery_url, "rectangle: Europe",
               {"EXTENT": europe, "LEVELS": "2-7", "SPLIT": True, "MERGE": True}, "europe.tpkx")

    # 4. open everything in a project, render pictures
    _open_and_render(rows, out_dir)
    _print_table(rows, out_dir)
    del app
    return rows


def _open_and_render(rows: list[Row], out_dir: Path) -> None:
    from qgis.core import QgsCoordinateReferenceSystem, QgsProject, QgsRectangle, QgsVectorLayer

    from plugin.qgis_glue.layers import create_layer, merged_source, open_package_layer

    project = QgsProject.instance()
    project.clear()
    mercator = QgsCoordinateReferenceSystem("EPSG:3857")
    project.setCrs(mercator)
    layers = []
    for row in rows:
        if row.parts:  # split exports merged into one GeoPackage/MBTiles
            layer = create_layer(merged_source(row.parts, row.file, row.tiles))
        else:
            layer = open_package_layer(row.file)
        layer.setName(f"{row.file.name} ({row.levels})")
        project.addMapLayer(layer)
        layers.append(layer)
        picture = out_dir / (f"{row.file.name}.png" if row.file.is_dir() else  # a tile cache folder
                             f"{row.file.stem}-{row.file.suffix.lstrip('.')}.png")
        _render([layer], layer.extent(), layer.crs(), picture)
        print(f"demo: rendered {picture.name}")
    outlines = QgsVectorLayer(f"{WORLD_MAP}|layername=countries", "countries", "ogr")
    outlines.renderer().symbol().symbolLayer(0).setBrushStyle(0)  # Qt.NoBrush: outlines only
    project.addMapLayer(outlines)
    overview = QgsRectangle(-1.5e6, 3.6e6, 4.2e6, 8.9e6)  # Europe in Web Mercator
    # Overview: outlines on top, then the Alps raster over the Italy vector export, imagery below.
    by_name = {row.file.name: layer for row, layer in zip(rows, layers)}
    stack = [by_name[n] for n in ("alps.tpkx", "italy.vtpk", "europe.gpkg") if n in by_name]
    _render([outlines, *stack], overview, mercator, out_dir / "overview.png", size=(1000, 900))
    project.write(str(out_dir / "demo.qgz"))
    print(f"demo: project saved to {out_dir / 'demo.qgz'}")


def _print_table(rows: list[Row], out_dir: Path) -> None:
    header = ("service", "area", "levels", "tiles", "parts", "file", "size", "seconds")
    table = [header] + [(r.service, r.area, r.levels, f"{r.tiles:,}", str(r.part_count), r.file.name, _size(r.file),
                         f"{r.seconds:.1f}") for r in rows]
    widths = [max(len(line[i]) for line in table) for i in range(len(header))]
    print()
    for i, line in enumerate(table):
        print("  ".join(cell.ljust(width) for cell, width in zip(line, widths)))
        if i == 0:
            print("  ".join("-" * width for width in widths))
    print(f"\ndemo: outputs in {out_dir} (packages, demo.qgz, *.png)")


def write_docs_images(out_dir: Path, docs_dir: Path, width: int = 480) -> None:
    """Small copies of the demo's pictures for the README (`make docs-images`)."""
    from qgis.PyQt.QtCore import Qt
    from qgis.PyQt.QtGui import QImage

    docs_dir.mkdir(parents=True, exist_ok=True)
    for name in ("overview.png", "italy-vtpk.png", "alps-tpk.png", "europe-gpkg.png"):
        image = QImage(str(out_dir / name))
        if image.isNull():
            continue
        small = image.scaledToWidth(width, Qt.TransformationMode.SmoothTransformation)
        small.save(str(docs_dir / f"demo-{name}"), "PNG", 9)
        print(f"demo: wrote {docs_dir / f'demo-{name}'}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=os.environ.get("DEMO_OUTPUT", str(REPO / "demo-output")),
                        help="output folder (default: demo-output/ in the checkout)")
    parser.add_argument("--docs", help="also write small copies of the pictures into this folder")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(REPO))
    out_dir = Path(args.out).resolve()
    run_demo(out_dir)
    if args.docs:
        write_docs_images(out_dir, Path(args.docs))
    return 0


if __name__ == "__main__":
    sys.exit(main())
