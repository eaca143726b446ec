"""Run every benchmark and merge their figures into ``bench/out/results.json``.

Each module in :data:`BENCHMARKS` exposes ``run(out_dir: Path) -> dict`` returning flat figures
(medians, ratios) plus whatever detail it wants under its own key.  ``python -m bench NAME ...``
runs only the named ones and keeps the other figures already in results.json.
"""
from __future__ import annotations

import importlib
import json
import sys
import time
from pathlib import Path

BENCHMARKS = [
    "bench.bench_tilecount",
    "bench.bench_download",
    "bench.bench_convert",
    "bench.bench_ui_stall",
    "bench.bench_startup",
    "bench.bench_render",
    "bench.bench_merge",
]
OUT_DIR = Path(__file__).resolve().parent / "out"


def main(argv: list[str]) -> int:
    wanted = [name for name in BENCHMARKS if not argv or name.rsplit("_", 1)[-1] in argv]
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    results_path = OUT_DIR / "results.json"
    results = json.loads(results_path.read_text()) if results_path.exists() else {}
    failed = []
    for name in wanted:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name == name:
                print(f"bench: {name} is not written yet, skipped")
                continue
            raise
        print(f"bench: running {name}")
        started = time.perf_counter()
        try:
            figures = module.run(OUT_DIR)
        except Exception as exc:  # noqa: BLE001 - report and go on with the other benchmarks
            print(f"bench: {name} FAILED: {exc!r}")
            failed.append(name)
            continue
        results.update(figures)
        print(f"bench: {name} done in {time.perf_counter() - started:.1f} s")
        for key, value in figures.items():
            if not isinstance(value, (dict, list)):
                print(f"    {key} = {value}")
    results_path.write_text(json.dumps(results, indent=2, sort_keys=True))
    print(f"bench: wrote {results_path}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
