"""Exact tile count of a real ~10,000-vertex country outline: scanline vs a per-tile baseline.

The outline comes from QGIS' own ``world_map.gpkg`` (read with ``sqlite3`` and a small GeoPackage WKB
parser, so no GDAL is needed), is densified (or thinned) to ~10,000 vertices in lon/lat, and projected to
Web Mercator with the closed-form formula.  Figures (medians of several runs, wall clock):

* ``tilecount_deep_ms``: :func:`plugin.core.tilecount.count_tiles` at the first level whose bounding box
  holds >= 10^7 candidate tiles;
* ``tilecount_naive_ms`` / ``tilecount_fast_ms``: the per-tile baseline and the scanline at a level where
  the baseline takes a few seconds (the deepest level with at most
  ``NAIVE_MAX_CANDIDATES`` candidate tiles, about 2 µs each); the counts are asserted equal;
* ``tilecount_speedup_vs_naive``: their ratio;
* ``tilecount_deep_cpu_ms``: the deep count in process CPU time (the wall clock suffers on a shared machine).

The baseline is not a strawman: edges are indexed in a tile-sized grid (an edge bounding-box index), each
candidate tile is tested against the edges of its own cell only (exact segment / open-box test), and the
point-in-polygon test for tiles no edge crosses only looks at the edges crossing that tile row's
mid-line.  What it cannot avoid is visiting every candidate tile.
"""
from __future__ import annotations

import math
import os
import sqlite3
import statistics
import struct
import sys
import time
from pathlib import Path

from plugin.core.area import Area
from plugin.core.tilecount import count_tiles, row_spans, tile_ranges
from plugin.core.tiling import EDGE_EPSILON, LOD, SpatialRef, TilingScheme

GPKG = Path(os.environ.get("AOT_WORLD_MAP", "/usr/share/qgis/resources/data/world_map.gpkg"))
COUNTRY = os.environ.get("AOT_BENCH_COUNTRY", "Greenland")
TARGET_VERTICES = 10_000
DEEP_CANDIDATES = 10**7
NAIVE_MAX_CANDIDATES = 3_000_000  # the baseline runs at the deepest level with at most this many candidates
RUNS_FAST = 9
RUNS_NAIVE = 3

R = 6378137.0
H = 20037508.342787
WEB_MERCATOR = TilingScheme(-H, H, 256, 256,
                            tuple(LOD(z, 156543.03392800014 / 2**z, 591657527.591555 / 2**z) for z in range(24)),
                            SpatialRef(102100, 3857))


# --- reading the outline ---------------------------------------------------------------------------
def _parse_wkb(data: bytes, offset: int = 0) -> tuple[list[list[list[tuple[float, float]]]], int]:
    """(Multi)polygon WKB -> list of polygons, each a list of rings; returns (polygons, end offset)."""
    order = "<" if data[offset] == 1 else ">"
    (gtype,) = struct.unpack_from(order + "I", data, offset + 1)
    offset += 5
    gtype %= 1000  # ISO Z/M variants
    if gtype == 6:  # MultiPolygon
        (count,) = struct.unpack_from(order + "I", data, offset)
        offset += 4
        polygons = []
        for _ in range(count):
            parts, offset = _parse_wkb(data, offset)
            polygons.extend(parts)
        return polygons, offset
    if gtype != 3:
        raise ValueError(f"unsupported WKB geometry type {gtype}")
    (n_rings,) = struct.unpack_from(order + "I", data, offset)
    offset += 4
    rings = []
    for _ in range(n_rings):
        (n_points,) = struct.unpack_from(order + "I", data, offset)
        offset += 4
        coords = struct.unpack_from(order + f"{2 * n_points}d", data, offset)
        offset += 16 * n_points
        rings.append(list(zip(coords[0::2], coords[1::2])))
    return [rings], offset


def read_country(name: str) -> list[list[tuple[float, float]]]:
    """All rings (lon, lat) of a country of world_map.gpkg, without closing points."""
    with sqlite3.connect(f"file:{GPKG}?mode=ro", uri=True) as con:
        row = con.execute("SELECT geom FROM countries WHERE NAME = ?", (name,)).fetchone()
    if row is None:
        raise LookupError(f"{name} is not in {GPKG}")
    blob: bytes = row[0]
    if blob[:2] != b"GP":
        raise ValueError("not a GeoPackage geometry")
    envelope = (blob[3] >> 1) & 0x07
    header = 8 + (0, 32, 48, 48, 64)[envelope]
    polygons, _ = _parse_wkb(blob, header)
    rings = []
    for polygon in polygons:
        for ring in polygon:
            rings.append(ring[:-1] if len(ring) > 1 and ring[0] == ring[-1] else ring)
    return rings


def resample(rings: list[list[tuple[float, float]]], target: int) -> list[list[tuple[float, float]]]:
    """Densify (points along the longest edges, in lon/lat) or thin (keep every k-th) to ~target vertices."""
    total = sum(len(ring) for ring in rings)
    if total > target:
        step = total / target
        out = []
        for ring in rings:
            keep = max(4, round(len(ring) / step))
            out.append([ring[int(i * len(ring) / keep)] for i in range(keep)] if keep < len(ring) else ring)
        return out
    extra = target - total
    lengths = [[math.dist(ring[i - 1], ring[i]) for i in range(len(ring))] for ring in rings]
    lo, hi = 1e-9, max(max(ls) for ls in lengths)
    for _ in range(60):  # longest sub-edge length L so that the inserted points number ~extra
        mid = (lo + hi) / 2
        inserted = sum(math.ceil(length / mid) - 1 for ls in lengths for length in ls)
        lo, hi = (mid, hi) if inserted > extra else (lo, mid)
    out = []
    for ring, ls in zip(rings, lengths):
        dense = []
        for i, length in enumerate(ls):
            (x0, y0), (x1, y1) = ring[i - 1], ring[i]
            pieces = max(1, math.ceil(length / hi))
            dense.extend((x0 + (x1 - x0) * k / pieces, y0 + (y1 - y0) * k / pieces) for k in range(1, pieces + 1))
        out.append(dense[-1:] + dense[:-1])  # keep the original first vertex first
    return out


def to_web_mercator(rings):
    limit = 85.0511287798066
    out = []
    for ring in rings:
        out.append([(R * math.radians(lon),
                     R * math.log(math.tan(math.pi / 4 + math.radians(max(-limit, min(limit, lat))) / 2)))
                    for lon, lat in ring])
    return out


# --- the baseline ------------------------------------------------------------------------------------
def naive_count(scheme: TilingScheme, area: Area, level: int) -> int:
    """Visit every candidate tile of the bounding box; exact open-tile / closed-area test per tile."""
    w, h = scheme.tile_size(level)
    ox, oy = scheme.origin_x, scheme.origin_y
    eps = EDGE_EPSILON
    edges = []  # in tile units (u right, v down)
    for ring in area.rings:
        px, py = ring[-1]
        for x, y in ring:
            edges.append(((px - ox) / w, (oy - py) / h, (x - ox) / w, (oy - y) / h))
            px, py = x, y
    rng = tile_ranges(scheme, area, level)
    # edge bounding-box index: every tile-sized cell its bounding box overlaps
    cells: dict[tuple[int, int], list[int]] = {}
    rows_mid: dict[int, list[int]] = {}  # edges crossing each row's mid-line (for the ray test)
    for k, (u0, v0, u1, v1) in enumerate(edges):
        c0, c1 = math.floor(min(u0, u1)), math.floor(max(u0, u1))
        r0, r1 = math.floor(min(v0, v1)), math.floor(max(v0, v1))
        for r in range(r0, r1 + 1):
            for c in range(c0, c1 + 1):
                cells.setdefault((r, c), []).append(k)
            lo, hi = min(v0, v1), max(v0, v1)
            if lo <= r + 0.5 < hi:
                rows_mid.setdefault(r, []).append(k)

    def segment_meets_open_tile(edge, c, r) -> bool:
        u0, v0, u1, v1 = edge
        t0, t1 = 0.0, 1.0
        du, dv = u1 - u0, v1 - v0
        for p, q in ((-du, u0 - (c + eps)), (du, (c + 1 - eps) - u0), (-dv, v0 - (r + eps)), (dv, (r + 1 - eps) - v0)):
            if p == 0:
                if q < 0:
                    return False
                continue
            t = q / p
            if p < 0:
                t0 = max(t0, t)
            else:
                t1 = min(t1, t)
            if t0 > t1:
                return False
        return True

    count = 0
    for r in range(rng.row_min, rng.row_max + 1):
        mid_edges = [edges[k] for k in rows_mid.get(r, ())]
        vm = r + 0.5
        for c in range(rng.col_min, rng.col_max + 1):
            if any(segment_meets_open_tile(edges[k], c, r) for k in cells.get((r, c), ())):
                count += 1
                continue
            um = c + 0.5
            inside = False
            for u0, v0, u1, v1 in mid_edges:
                if um < u0 + (vm - v0) * (u1 - u0) / (v1 - v0):
                    inside = not inside
            if inside:
                count += 1
    return count


# --- the benchmark -------------------------------------------------------------------------------------
def _median_ms(fn, runs: int) -> tuple[float, float, list[float]]:
    wall, cpu = [], []
    for _ in range(runs):
        t0, c0 = time.perf_counter(), time.process_time()
        fn()
        wall.append((time.perf_counter() - t0) * 1000)
        cpu.append((time.process_time() - c0) * 1000)
    return statistics.median(wall), statistics.median(cpu), [round(t, 2) for t in wall]


def run(out_dir: Path) -> dict:
    rings_lonlat = resample(read_country(COUNTRY), TARGET_VERTICES)
    area = Area.from_rings(to_web_mercator(rings_lonlat))
    scheme = WEB_MERCATOR
    deep = next(z for z in scheme.levels if tile_ranges(scheme, area, z).count >= DEEP_CANDIDATES)
    naive_level = max(z for z in scheme.levels if tile_ranges(scheme, area, z).count <= NAIVE_MAX_CANDIDATES)

    deep_count = count_tiles(scheme, area, [deep])[deep]
    deep_ms, deep_cpu_ms, deep_runs = _median_ms(lambda: count_tiles(scheme, area, [deep]), RUNS_FAST)
    fast_count = count_tiles(scheme, area, [naive_level])[naive_level]
    fast_ms, fast_cpu_ms, fast_runs = _median_ms(lambda: count_tiles(scheme, area, [naive_level]), RUNS_FAST)
    naive_results: list[int] = []
    naive_ms, naive_cpu_ms, naive_runs = _median_ms(
        lambda: naive_results.append(naive_count(scheme, area, naive_level)), RUNS_NAIVE)
    naive_result = naive_results[0]
    if set(naive_results) != {fast_count}:
        raise AssertionError(f"baseline {naive_results} != scanline {fast_count} at level {naive_level}")
    all_levels = list(range(deep + 1))
    all_ms, _, _ = _median_ms(lambda: count_tiles(scheme, area, all_levels), 3)
    spans_ms, _, _ = _median_ms(lambda: row_spans(scheme, area, deep), 3)

    detail = {
        "country": COUNTRY,
        "source": str(GPKG),
        "vertices": area.vertex_count,
        "rings": len(area.rings),
        "deep_level": deep,
        "deep_candidates": tile_ranges(scheme, area, deep).count,
        "deep_rows": tile_ranges(scheme, area, deep).rows,
        "deep_count": deep_count,
        "deep_runs_ms": deep_runs,
        "deep_cpu_ms": round(deep_cpu_ms, 2),
        "naive_level": naive_level,
        "naive_candidates": tile_ranges(scheme, area, naive_level).count,
        "naive_count": naive_result,
        "naive_runs_ms": naive_runs,
        "naive_cpu_ms": round(naive_cpu_ms, 2),
        "fast_runs_ms": fast_runs,
        "fast_cpu_ms": round(fast_cpu_ms, 3),
        "levels_0_to_deep_ms": round(all_ms, 2),
        "row_spans_deep_ms": round(spans_ms, 2),
        "runs": {"fast": RUNS_FAST, "naive": RUNS_NAIVE},
        "python": sys.version.split()[0],
    }
    return {
        "tilecount_deep_ms": round(deep_ms, 2),
        "tilecount_deep_cpu_ms": round(deep_cpu_ms, 2),  # process CPU time: robust to a busy machine
        "tilecount_naive_ms": round(naive_ms, 1),
        "tilecount_fast_ms": round(fast_ms, 3),
        "tilecount_speedup_vs_naive": round(naive_ms / fast_ms, 1),
        "tilecount_detail": detail,
    }


if __name__ == "__main__":
    import json

    print(json.dumps(run(Path(__file__).resolve().parent / "out"), indent=2))
