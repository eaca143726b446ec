"""Merging the parts of a split export at scale: seconds per tile and peak memory vs ``cp``.

A split export of about 10^4, 10^5 and 10^6 tiles is made of :data:`PARTS` ``.tpkx`` parts (the
emulator's writers, strips of rows of one block of a Web Mercator level, as the split plan cuts
them).  Each tile is a valid PNG of about 1 KB, made distinct by a ``tEXt`` chunk (its address and
random filler), so neither side can de-duplicate.  The parts are written once into
``bench/out/bench_merge/`` and kept between runs.

At each size, interleaved: ``cp`` of the parts' bytes (then ``fsync``), and :func:`merge_packages`
of the parts into one GeoPackage and into one MBTiles (it ``fsync``\\ s before its rename), each in
a fresh child process whose peak resident memory (``VmHWM``) is compared with its resident memory
just before the merge (``VmRSS``, after the imports).  Inputs are dropped from the page cache first
(``posix_fadvise``, a hint).  The small sizes take the median of :data:`RUNS` runs, 10^6 one run.

Figures: ``merge_us_per_tile_{gpkg,mbtiles}_{1e4,1e5,1e6}``, ``merge_per_tile_spread_{gpkg,mbtiles}``
(slowest / fastest per-tile time across the sizes, minus 1; target ≤ 0.25),
``merge_peak_growth_mb_{gpkg,mbtiles}_1e6`` (target < 100) and
``merge_ratio_vs_cp_{gpkg,mbtiles}_1e6`` (target ≤ 1.5); everything per size under ``merge_scale``.

The clock is wall time on a machine others share, so three figures say what the machine did meanwhile:
``cp_us_per_tile_{size}`` / ``cp_per_tile_spread`` (the same spread for ``cp``: the storage's own
departure from flat, which no merge can do better than) and ``merge_cpu_us_per_tile_{fmt}_{size}`` /
``merge_cpu_per_tile_spread_{fmt}`` (the merging process's user + system CPU time, which other
programs' load does not inflate the way it does the wall clock) and ``sqlite_floor_us_per_tile_{size}`` /
``sqlite_floor_per_tile_spread`` (sqlite alone, in C, writing as many rows of the tiles' mean size into a
table like the GeoPackage's, one ``INSERT … SELECT``, then ``fsync``: what any merge through sqlite pays
before it reads a byte of the parts, measured beside ``cp`` in the same run).
"""
from __future__ import annotations

import json
import math
import os
import random
import resource
import statistics
import struct
import subprocess
import sys
import time
import zlib
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CACHE_VERSION = 1
PARTS = 4
LEVEL = 12
ORIGIN = (1000, 1000)  # first row and column of the block at LEVEL
SIZES = {"1e4": 10_000, "1e5": 100_000, "1e6": 1_000_000}
RUNS = {"1e4": 3, "1e5": 3, "1e6": 1}
FILLER_BYTES = (600, 1400)  # random bytes in each tile's tEXt chunk: ~1 KB tiles
COLOURS = 64
CHILD_TIMEOUT_S = 3600
FLOOR_POOL = 64  # distinct payloads the sqlite floor's rows cycle through (sqlite cannot share them)

SERVICE_DOC = {
    "name": "MergeBench",
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


# -- synthetic parts ------------------------------------------------------------------------------
def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def _flat_png(colour: tuple[int, int, int]) -> bytes:
    raw = b"".join(b"\x00" + bytes(colour) * 256 for _ in range(256))
    return (b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", struct.pack(">IIBBBBB", 256, 256, 8, 2, 0, 0, 0))
            + _chunk(b"IDAT", zlib.compress(raw, 6)) + _chunk(b"IEND", b""))


def _block(tiles: int) -> tuple[int, int]:
    """Rows × columns of the square-ish block of ``tiles`` tiles (at least that many)."""
    cols = math.isqrt(tiles)
    return math.ceil(tiles / cols), cols


def _part_tiles(pool: list[bytes], rng: random.Random, rows: range, cols: int):
    for row in rows:
        for col in range(cols):
            r, c = ORIGIN[0] + row, ORIGIN[1] + col
            body = b"tile\x00" + f"{LEVEL}/{r}/{c} ".encode() + rng.randbytes(rng.randint(*FILLER_BYTES))
            base = pool[(r * 31 + c) % len(pool)]
            yield LEVEL, r, c, base[:33] + _chunk(b"tEXt", body) + base[33:]  # after signature + IHDR


def build(cache: Path, label: str, tiles: int) -> dict:
    """The parts of one size (kept between runs; rebuilt when CACHE_VERSION changes)."""
    from arcgis_emulator.writers import write_package

    folder = cache / label
    manifest_path = folder / "manifest.json"
    if manifest_path.exists():
        manifest = json.loads(manifest_path.read_text())
        if manifest.get("version") == CACHE_VERSION and all(Path(p).exists() for p in manifest["parts"]):
            return manifest
    folder.mkdir(parents=True, exist_ok=True)
    rng = random.Random(tiles)
    pool = [_flat_png((rng.randrange(256), rng.randrange(256), rng.randrange(256))) for _ in range(COLOURS)]
    nrows, ncols = _block(tiles)
    step = math.ceil(nrows / PARTS)
    parts, count = [], 0
    started = time.perf_counter()
    for index in range(PARTS):
        rows = range(index * step, min(nrows, (index + 1) * step))
        path = folder / f"merge_part{index + 1:02d}of{PARTS:02d}.tpkx"
        count += write_package("tpkx", path, SERVICE_DOC, _part_tiles(pool, rng, rows, ncols),
                               title=f"Merge bench part {index + 1}")["tiles"]
        parts.append(str(path))
    manifest = {"version": CACHE_VERSION, "tiles": count, "parts": parts,
                "bytes": sum(Path(p).stat().st_size for p in parts),
                "build_seconds": round(time.perf_counter() - started, 1)}
    manifest_path.write_text(json.dumps(manifest, indent=2))
    return manifest


# -- measuring ------------------------------------------------------------------------------------
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


def _status_kb(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def _child(fmt: str, dst: str, parts: list[str]) -> None:
    """In a fresh process: merge, print seconds, tiles and the memory it took."""
    sys.path.insert(0, str(REPO))
    from plugin.core.packages import merge_packages

    before = _status_kb("VmRSS")
    cpu_before = _cpu_seconds(resource.getrusage(resource.RUSAGE_SELF))
    started = time.perf_counter()
    report = merge_packages(parts, dst, fmt)
    seconds = time.perf_counter() - started
    cpu = _cpu_seconds(resource.getrusage(resource.RUSAGE_SELF)) - cpu_before
    print(json.dumps({"seconds": seconds, "cpu_seconds": cpu, "tiles": report.tiles_written,
                      "rss_before_kb": before, "peak_kb": _status_kb("VmHWM")}))


def _floor_child(tiles: int, tile_bytes: int, dst: str) -> None:
    """In a fresh process: sqlite alone writes ``tiles`` rows of ``tile_bytes`` into a GeoPackage-like
    tile table (the merge's pragmas, its table and unique index) in one statement run in C; print the
    seconds, ``fsync`` included."""
    import sqlite3

    side = _block(tiles)[1]
    started = time.perf_counter()
    con = sqlite3.connect(dst, isolation_level=None)
    for pragma in ("page_size=65536", "journal_mode=OFF", "synchronous=OFF", "locking_mode=EXCLUSIVE",
                   "temp_store=MEMORY", "cache_size=-8192"):
        con.execute(f"PRAGMA {pragma}")
    con.execute("BEGIN")
    con.execute("CREATE TABLE tiles (id INTEGER PRIMARY KEY AUTOINCREMENT, zoom_level INTEGER NOT NULL, "
                "tile_column INTEGER NOT NULL, tile_row INTEGER NOT NULL, tile_data BLOB NOT NULL, "
                "UNIQUE (zoom_level, tile_column, tile_row))")
    con.execute("CREATE TEMP TABLE pool (k INTEGER PRIMARY KEY, b BLOB)")
    con.execute(f"WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < {FLOOR_POOL - 1}) "
                f"INSERT INTO pool SELECT i, randomblob({tile_bytes}) FROM n")
    con.execute(f"WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < {tiles - 1}) "
                "INSERT INTO tiles (zoom_level, tile_column, tile_row, tile_data) "
                f"SELECT {LEVEL}, {ORIGIN[1]} + i % {side}, {ORIGIN[0]} + i / {side}, "
                f"(SELECT b FROM pool WHERE k = i % {FLOOR_POOL}) FROM n")
    con.execute("COMMIT")
    con.close()
    _fsync(Path(dst))
    print(json.dumps({"seconds": time.perf_counter() - started}))


def _floor(tiles: int, tile_bytes: int, dst: Path) -> float:
    dst.unlink(missing_ok=True)
    done = subprocess.run([sys.executable, "-m", "bench.bench_merge", "--floor", str(tiles), str(tile_bytes),
                           str(dst)], cwd=REPO, capture_output=True, text=True, timeout=CHILD_TIMEOUT_S, check=True)
    dst.unlink(missing_ok=True)
    return json.loads(done.stdout.strip().splitlines()[-1])["seconds"]


def _cpu_seconds(usage) -> float:
    return usage.ru_utime + usage.ru_stime


def _merge(fmt: str, parts: list[str], dst: Path) -> dict:
    dst.unlink(missing_ok=True)
    for part in parts:
        _drop_cache(Path(part))
    done = subprocess.run([sys.executable, "-m", "bench.bench_merge", "--child", fmt, str(dst), *parts],
                          cwd=REPO, capture_output=True, text=True, timeout=CHILD_TIMEOUT_S, check=True)
    dst.unlink(missing_ok=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def _cp(parts: list[str], folder: Path) -> float:
    folder.mkdir(exist_ok=True)
    copies = [folder / Path(p).name for p in parts]
    for part, copy in zip(parts, copies):
        _drop_cache(Path(part))
        copy.unlink(missing_ok=True)
    started = time.perf_counter()
    subprocess.run(["cp", *parts, str(folder)], check=True)
    for copy in copies:
        _fsync(copy)
    seconds = time.perf_counter() - started
    for copy in copies:
        copy.unlink()
    return seconds


def run(out_dir: Path) -> dict:
    cache = out_dir / "bench_merge"
    work = cache / "work"
    work.mkdir(parents=True, exist_ok=True)
    detail: dict = {}
    figures: dict = {}
    for label, size in SIZES.items():
        manifest = build(cache, label, size)
        parts, tiles = manifest["parts"], manifest["tiles"]
        series: dict[str, list] = {"cp": [], "gpkg": [], "mbtiles": [], "floor": []}
        for _ in range(RUNS[label]):
            series["cp"].append(_cp(parts, work / "cp"))
            for fmt in ("gpkg", "mbtiles"):
                result = _merge(fmt, parts, work / f"merged.{fmt}")
                assert result["tiles"] == tiles, (result["tiles"], tiles)
                series[fmt].append(result)
            series["floor"].append(_floor(tiles, manifest["bytes"] // tiles, work / "floor.gpkg"))
        cp_s = statistics.median(series["cp"])
        row = {"tiles": tiles, "parts": len(parts), "part_bytes": manifest["bytes"], "cp_seconds": round(cp_s, 3),
               "runs": RUNS[label]}
        figures[f"cp_us_per_tile_{label}"] = round(cp_s / tiles * 1e6, 2)
        floor_s = statistics.median(series["floor"])
        row["sqlite_floor_seconds"] = round(floor_s, 3)
        figures[f"sqlite_floor_us_per_tile_{label}"] = round(floor_s / tiles * 1e6, 2)
        for fmt in ("gpkg", "mbtiles"):
            seconds = statistics.median(r["seconds"] for r in series[fmt])
            cpu = statistics.median(r["cpu_seconds"] for r in series[fmt])
            growth_mb = max((r["peak_kb"] - r["rss_before_kb"]) / 1024 for r in series[fmt])
            row[fmt] = {"seconds": round(seconds, 3), "us_per_tile": round(seconds / tiles * 1e6, 2),
                        "cpu_us_per_tile": round(cpu / tiles * 1e6, 2),
                        "peak_growth_mb": round(growth_mb, 1), "ratio_vs_cp": round(seconds / cp_s, 2)}
            figures[f"merge_us_per_tile_{fmt}_{label}"] = row[fmt]["us_per_tile"]
            figures[f"merge_peak_growth_mb_{fmt}_{label}"] = row[fmt]["peak_growth_mb"]
            figures[f"merge_ratio_vs_cp_{fmt}_{label}"] = row[fmt]["ratio_vs_cp"]
            figures[f"merge_cpu_us_per_tile_{fmt}_{label}"] = row[fmt]["cpu_us_per_tile"]
        detail[label] = row
        print(f"    {label}: {json.dumps(row)}")
    for fmt in ("gpkg", "mbtiles"):
        figures[f"merge_per_tile_spread_{fmt}"] = _spread([detail[label][fmt]["us_per_tile"] for label in SIZES])
        figures[f"merge_cpu_per_tile_spread_{fmt}"] = _spread([detail[label][fmt]["cpu_us_per_tile"]
                                                               for label in SIZES])
    figures["cp_per_tile_spread"] = _spread([figures[f"cp_us_per_tile_{label}"] for label in SIZES])
    figures["sqlite_floor_per_tile_spread"] = _spread([figures[f"sqlite_floor_us_per_tile_{label}"]
                                                       for label in SIZES])
    figures["merge_scale"] = detail
    return figures


def _spread(per_tile: list[float]) -> float:
    """Slowest / fastest, minus 1: 0 is perfectly flat."""
    return round(max(per_tile) / min(per_tile) - 1, 3)


if __name__ == "__main__" and len(sys.argv) > 3 and sys.argv[1] == "--child":
    _child(sys.argv[2], sys.argv[3], sys.argv[4:])
elif __name__ == "__main__" and len(sys.argv) == 5 and sys.argv[1] == "--floor":
    _floor_child(int(sys.argv[2]), int(sys.argv[3]), sys.argv[4])
