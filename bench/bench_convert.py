"""Package conversion speed: ours vs ``cp`` (the physical floor) vs tpkutils.

A Web Mercator package of ≥ 50,000 small PNG tiles (varied synthetic map-like tiles, 1–12 KB, each
made distinct by a ``tEXt`` chunk, plus ~10 % shared blank tiles) is written once with the
emulator's writers, as ``.tpkx`` (Compact V2) and ``.tpk`` (Compact V1) with
the same tiles, into ``bench/out/bench_convert/``.  Then, interleaved, a few runs of:

* ``cp`` of the ``.tpkx`` (then ``fsync`` of the copy);
* our :func:`convert_package` of the ``.tpkx`` to MBTiles (it ``fsync``\\ s before its rename);
* our :func:`convert_package` of the ``.tpk``;
* ``tpkutils`` (PyPI) ``TPK(path).to_mbtiles(out)`` on the ``.tpk`` (then ``fsync``).

Every run starts the same way: the input is dropped from the page cache with
``posix_fadvise(DONTNEED)`` where the platform has it (a hint; clean pages usually go), the output
is deleted.  Figures are medians.  ``convert_ratio_vs_cp`` = ours / cp (target ≤ 4);
``convert_speedup_vs_tpkutils`` = tpkutils / ours on the ``.tpk`` (target ≥ 3).
"""
from __future__ import annotations

import json
import math
import os
import random
import statistics
import struct
import subprocess
import sys
import time
import zlib
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from plugin.core.packages import convert_package  # noqa: E402
from plugin.core.packages.standins import BACKGROUND_LIMIT  # noqa: E402

CACHE_VERSION = 3
RUNS = 5
POOL = 320
# levels 4..12 over one area: ~53,000 tiles
AREA_Z12 = (1300, 2000, 200, 200)  # row0, col0, rows, cols at zoom 12
LEVELS = range(4, 13)

SERVICE_DOC = {
    "name": "BenchTiles",
    "spatialReference": {"wkid": 102100, "latestWkid": 3857},
    "tileInfo": {
        "rows": 256, "cols": 256, "dpi": 96, "format": "PNG", "compressionQuality": 0,
        "origin": {"x": -20037508.342787, "y": 20037508.342787},
        "spatialReference": {"wkid": 102100, "latestWkid": 3857},
        "lods": [{"level": z, "resolution": 156543.03392800014 / 2 ** z, "scale": 591657527.591555 / 2 ** z}
                 for z in range(20)],
    },
    "fullExtent": {"xmin": -20037508.342787, "ymin": -20037508.342787, "xmax": 20037508.342787,
                   "ymax": 20037508.342787, "spatialReference": {"wkid": 102100, "latestWkid": 3857}},
}


# -- synthetic tiles ------------------------------------------------------------------------------
def _png(raw_rows: list[bytes], width: int, height: int) -> bytes:
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    raw = b"".join(b"\x00" + row for row in raw_rows)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw, 6)) + chunk(b"IEND", b""))


def _tile(rng: random.Random) -> bytes:
    """A 256×256 RGB map-like tile: flat land/water areas, a few roads, some textured patches."""
    size = 256
    base = bytes(rng.choice([(242, 239, 233), (170, 211, 223), (205, 235, 176), (224, 224, 224)]))
    rows = [bytearray(base * size) for _ in range(size)]
    for _ in range(rng.randint(1, 6)):  # areas
        colour = bytes((rng.randrange(150, 256), rng.randrange(150, 256), rng.randrange(150, 256)))
        x0, y0 = rng.randrange(size), rng.randrange(size)
        w, h = rng.randint(10, 160), rng.randint(10, 160)
        for y in range(y0, min(size, y0 + h)):
            x1 = min(size, x0 + w)
            rows[y][3 * x0:3 * x1] = colour * (x1 - x0)
    for _ in range(rng.randint(0, 8)):  # roads
        colour = bytes(rng.choice([(255, 255, 255), (250, 200, 120), (120, 120, 120)]))
        if rng.random() < 0.5:
            y, width = rng.randrange(size), rng.randint(1, 4)
            for yy in range(y, min(size, y + width)):
                rows[yy][:] = colour * size
        else:
            x, width = rng.randrange(size - 4), rng.randint(1, 4)
            for yy in range(size):
                rows[yy][3 * x:3 * (x + width)] = colour * width
    for _ in range(rng.randint(0, 3)):  # texture (buildings, forest): what makes tiles a few KB
        x0, y0 = rng.randrange(size - 32), rng.randrange(size - 32)
        w, h = rng.randint(8, 48), rng.randint(8, 48)
        for y in range(y0, min(size, y0 + h)):
            x1 = min(size, x0 + w)
            rows[y][3 * x0:3 * x1] = bytes(rng.randrange(100, 200) for _ in range(3 * (x1 - x0)))
    return _png([bytes(r) for r in rows], size, size)


def _unique(tile: bytes, key: str) -> bytes:
    """``tile`` made unique by a ``tEXt`` chunk naming its address (still a valid PNG, same pixels).

    Real packages hold mostly distinct tiles; without this, tools that de-duplicate tile bytes
    (tpkutils stores each distinct image once) would be measured on a fraction of the data.
    """
    body = b"tile\x00" + key.encode()
    chunk = struct.pack(">I", len(body)) + b"tEXt" + body + struct.pack(">I", zlib.crc32(b"tEXt" + body))
    return tile[:33] + chunk + tile[33:]  # after the signature and IHDR


def _tiles(pool: list[bytes], blanks: list[bytes]):
    """Tiles of :data:`LEVELS` over :data:`AREA_Z12`: ~10 % blank (shared bytes, like ocean tiles
    in real caches), the others distinct."""
    row0, col0, nrows, ncols = AREA_Z12
    for z in LEVELS:
        shift = 12 - z
        r_first, r_last = row0 >> shift, (row0 + nrows - 1) >> shift
        c_first, c_last = col0 >> shift, (col0 + ncols - 1) >> shift
        for row in range(r_first, r_last + 1):
            for col in range(c_first, c_last + 1):
                h = z * 7919 + row * 104729 + col * 1299709
                if h % 10 == 0:
                    yield z, row, col, blanks[h % len(blanks)]
                else:
                    yield z, row, col, _unique(pool[h % len(pool)], f"{z}/{row}/{col}")


def _blank(colour: tuple[int, int, int]) -> bytes:
    return _png([bytes(colour) * 256] * 256, 256, 256)


def build(cache: Path) -> dict:
    """Write bench.tpkx and bench.tpk once (kept between runs; rebuilt when CACHE_VERSION changes)."""
    from arcgis_emulator.writers import write_package

    cache.mkdir(parents=True, exist_ok=True)
    manifest_path = cache / "manifest.json"
    if manifest_path.exists():
        manifest = json.loads(manifest_path.read_text())
        if manifest.get("version") == CACHE_VERSION and all((cache / n).exists() for n in ("bench.tpkx", "bench.tpk")):
            return manifest
    rng = random.Random(20240611)
    started = time.perf_counter()
    pool = [_tile(rng) for _ in range(POOL)]
    blanks = [_blank(c) for c in ((170, 211, 223), (242, 239, 233), (205, 235, 176), (255, 255, 255))]
    sizes = sorted(len(t) for t in pool)
    summary = {}
    for kind in ("tpkx", "tpk"):
        summary[kind] = write_package(kind, cache / f"bench.{kind}", SERVICE_DOC, _tiles(pool, blanks),
                                      title="Bench tiles")
    manifest = {
        "version": CACHE_VERSION, "tiles": summary["tpkx"]["tiles"], "levels": summary["tpkx"]["levels"],
        "tpkx_bytes": summary["tpkx"]["bytes"], "tpk_bytes": summary["tpk"]["bytes"],
        "tile_bytes_median": sizes[len(sizes) // 2], "tile_bytes_min": sizes[0], "tile_bytes_max": sizes[-1],
        "build_seconds": round(time.perf_counter() - started, 1),
    }
    manifest_path.write_text(json.dumps(manifest, indent=2))
    return manifest


# -- timing ---------------------------------------------------------------------------------------
def _drop_cache(path: Path) -> None:
    if not hasattr(os, "posix_fadvise"):
        return
    fd = os.open(path, os.O_RDONLY)
    try:
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    finally:
        os.close(fd)


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _clean(path: Path) -> None:
    for p in (path, path.with_name(path.name + ".part")):
        if p.exists():
            p.unlink()


def _time(fn, src: Path, dst: Path) -> float:
    _clean(dst)
    _drop_cache(src)
    started = time.perf_counter()
    fn(src, dst)
    elapsed = time.perf_counter() - started
    _clean(dst)
    return elapsed


def _cp(src: Path, dst: Path) -> None:
    subprocess.run(["cp", str(src), str(dst)], check=True)
    _fsync(dst)


def _ours(src: Path, dst: Path) -> None:
    convert_package(src, dst, "mbtiles")


def _tpkutils(src: Path, dst: Path) -> None:
    from tpkutils import TPK

    tpk = TPK(str(src))
    try:
        tpk.to_mbtiles(str(dst))
    finally:
        tpk.close()
    _fsync(dst)


def _tpkutils_version() -> str | None:
    try:
        from importlib.metadata import version

        return version("tpkutils")
    except Exception:  # noqa: BLE001 - missing package or metadata
        return None


def run(out_dir: Path) -> dict:
    cache = out_dir / "bench_convert"
    manifest = build(cache)
    tpkx, tpk = cache / "bench.tpkx", cache / "bench.tpk"
    work = cache / "work"
    work.mkdir(exist_ok=True)
    # one check run: the conversion is complete and right
    check = work / "check.mbtiles"
    _clean(check)
    report = convert_package(tpkx, check, "mbtiles")
    assert report.tiles_written == manifest["tiles"], (report.tiles_written, manifest["tiles"])
    _clean(check)
    have_tpkutils = _tpkutils_version() is not None
    series: dict[str, list[float]] = {"cp_tpkx": [], "ours_tpkx": [], "cp_tpk": [], "ours_tpk": []}
    if have_tpkutils:
        series["tpkutils_tpk"] = []
    for _ in range(RUNS):
        series["cp_tpkx"].append(_time(_cp, tpkx, work / "copy.tpkx"))
        series["ours_tpkx"].append(_time(_ours, tpkx, work / "ours_tpkx.mbtiles"))
        series["cp_tpk"].append(_time(_cp, tpk, work / "copy.tpk"))
        series["ours_tpk"].append(_time(_ours, tpk, work / "ours_tpk.mbtiles"))
        if have_tpkutils:
            series["tpkutils_tpk"].append(_time(_tpkutils, tpk, work / "tpkutils.mbtiles"))
    med = {name: statistics.median(values) for name, values in series.items()}
    figures: dict = {
        "convert_cp_seconds": round(med["cp_tpkx"], 4),
        "convert_seconds": round(med["ours_tpkx"], 4),
        "convert_ratio_vs_cp": round(med["ours_tpkx"] / med["cp_tpkx"], 3),
        "convert_tpk_seconds": round(med["ours_tpk"], 4),
        "convert_tiles_per_second": round(manifest["tiles"] / med["ours_tpkx"]),
    }
    if have_tpkutils:
        figures["convert_tpkutils_seconds"] = round(med["tpkutils_tpk"], 4)
        figures["convert_speedup_vs_tpkutils"] = round(med["tpkutils_tpk"] / med["ours_tpk"], 2)
    else:
        figures["convert_speedup_vs_tpkutils"] = None
    figures["convert_detail"] = {
        "tiles": manifest["tiles"], "levels": manifest["levels"],
        "tpkx_bytes": manifest["tpkx_bytes"], "tpk_bytes": manifest["tpk_bytes"],
        "tile_bytes": {k: manifest[k] for k in ("tile_bytes_min", "tile_bytes_median", "tile_bytes_max")},
        "runs": RUNS, "series_seconds": {k: [round(v, 4) for v in vals] for k, vals in series.items()},
        "medians_seconds": {k: round(v, 4) for k, v in med.items()},
        "cp_tpk_ratio": round(med["ours_tpk"] / med["cp_tpk"], 3),
        "tpkutils_version": _tpkutils_version(),
        "page_cache": "dropped with posix_fadvise(DONTNEED) before every run" if hasattr(os, "posix_fadvise")
        else "not dropped (no posix_fadvise)",
        "fsync": "every output is fsync'ed (cp and tpkutils after, ours before its atomic rename)",
        "targets": {"convert_ratio_vs_cp": "<= 4", "convert_speedup_vs_tpkutils": ">= 3"},
    }
    if not math.isfinite(figures["convert_ratio_vs_cp"]):
        raise RuntimeError("cp time was zero")
    figures.update(sparse_figures(work))
    return figures


# -- sparse vector packages: what the stand-ins cost ------------------------------------------------
SPARSE_RUNS = 5
REAL_VTPK = REPO.parent / "shared" / "fixtures" / "real" / "packages" / "esri_runtime_android_dodge_city.vtpk"


def _emulator_world_vtpk(work: Path) -> Path | None:
    """The emulator's sparse Natural Earth service exported whole (levels 0-6), as its jobs do."""
    try:
        from arcgis_emulator.samples import load_sample_services
        from arcgis_emulator.writers import write_package
    except ImportError:
        return None
    service = load_sample_services()["World_Vector/VectorTileServer"]
    tiles = [(z, r, c, service.get_tile(z, r, c)) for z in range(7) for r in range(2 ** z) for c in range(2 ** z)]
    path = work / "world_sparse.vtpk"
    write_package("vtpk", path, service.document, [t for t in tiles if t[3] is not None],
                  resources=service.resources, extent=service.document["fullExtent"])
    return path


def _ocean_vtpk(work: Path) -> Path:
    """A worst case: a level-2 leaf of open sea (one polygon over the whole tile) over a package
    whose deepest level is 9 (another branch goes that deep): 4 + 16 + … + 4^7 places under it."""
    from arcgis_emulator.writers import write_package
    from tests.unit.packages.helpers import mvt_shapes, wm_doc

    sea = mvt_shapes({"water": [("Polygon", [[(0, 0), (4096, 0), (4096, 4096), (0, 4096)]], {"name": "Sea"})]})
    import gzip

    tile = gzip.compress(sea, mtime=0)
    tiles = [(0, 0, 0, tile), (1, 0, 0, tile), (2, 0, 0, tile)] + [(z, 0, 0, tile) for z in range(2, 10)]
    tiles.append((2, 1, 1, tile))  # the leaf
    path = work / "ocean.vtpk"
    world = SERVICE_DOC["fullExtent"]
    write_package("vtpk", path, wm_doc(tile=512, levels=12), sorted(set(tiles)), extent=world)
    return path


def _sparse_case(src: Path, work: Path) -> dict:
    dst = work / "sparse.mbtiles"
    runs: dict[str, list[float]] = {"with": [], "no_background": [], "without": []}
    reports = {}
    for _ in range(SPARSE_RUNS):
        for mode, seconds in runs.items():
            _clean(dst)
            started = time.perf_counter()
            report = convert_package(src, dst, "mbtiles", stand_ins=mode != "without",
                                     background_limit=0 if mode == "no_background" else BACKGROUND_LIMIT)
            seconds.append(time.perf_counter() - started)
            reports[mode] = report
    _clean(dst)
    full, bare, no_background = reports["with"], reports["without"], reports["no_background"]
    return {
        "stored_tiles": full.tiles_written, "stand_ins": full.stand_ins,
        "stand_ins_per_level": {str(k): v for k, v in full.stand_ins_per_level.items()},
        "places_left_empty": full.stand_ins_empty, "distinct_payloads": full.distinct_payloads,
        "file_bytes": full.file_size, "file_bytes_without_stand_ins": bare.file_size,
        "seconds": round(statistics.median(runs["with"]), 4),
        "seconds_without_stand_ins": round(statistics.median(runs["without"]), 4),
        "stand_in_seconds_last_run": round(full.stand_in_seconds, 4), "package_bytes": src.stat().st_size,
        # the empty background tiles (QGIS < 3.32 draws the style's background only where a tile is)
        "background_tiles": full.background_tiles,
        "background_per_level": {str(k): v for k, v in full.background_per_level.items()},
        "file_bytes_without_background": no_background.file_size,
        "seconds_without_background": round(statistics.median(runs["no_background"]), 4),
        "background_seconds_last_run": round(full.background_seconds, 4),
        "warnings": full.warnings,
    }


def sparse_figures(work: Path) -> dict:
    cases = {}
    if REAL_VTPK.is_file():
        cases["real_dodge_city_vtpk"] = _sparse_case(REAL_VTPK, work)
    world = _emulator_world_vtpk(work)
    if world is not None:
        cases["emulator_natural_earth_world_0_6"] = _sparse_case(world, work)
    cases["synthetic_ocean_leaf_to_level_9"] = _sparse_case(_ocean_vtpk(work), work)
    out = {"convert_sparse_detail": {"runs": SPARSE_RUNS, "medians": "seconds", "cases": cases}}
    if "emulator_natural_earth_world_0_6" in cases:
        case = cases["emulator_natural_earth_world_0_6"]
        out["convert_sparse_stand_ins"] = case["stand_ins"]
        out["convert_sparse_seconds"] = case["seconds"]
        out["convert_sparse_size_ratio"] = round(case["file_bytes"] / case["file_bytes_without_stand_ins"], 3)
    return out


if __name__ == "__main__":
    print(json.dumps(run(REPO / "bench" / "out"), indent=2))
