"""``python -m arcgis_emulator serve [--host H] [--port N] [--max-export-tiles N]``

Starts the emulator, prints the base URL, every service URL and the admin endpoints, and runs until
Ctrl-C or SIGTERM.
"""
from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading


def _serve(args: argparse.Namespace) -> int:
    from .emulator import Emulator

    emu = Emulator(host=args.host, port=args.port, cache_dir=args.cache_dir, work_dir=args.work_dir)
    stop = threading.Event()

    def _stop(signum, frame) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    out = sys.stdout
    out.write("Starting the ArcGIS Server emulator (the sample tile cache is built on the first run)...\n")
    out.flush()
    emu.start()
    try:
        if args.max_export_tiles is not None:
            emu.configure_defaults(max_export_tiles=args.max_export_tiles)
        out.write(f"ArcGIS emulator: {emu.base_url}\n")
        out.write(f"  catalog   {emu.services_url}?f=pjson\n")
        out.write(f"  tokens    {emu.token_url} (POST; user analyst / field-work-2026)\n")
        for key, url in sorted(emu.service_urls().items()):
            cfg = emu.config(key)
            notes = []
            if cfg.secured:
                notes.append("token required")
            if cfg.job_protocol == "online":
                notes.append("ArcGIS Online job protocol")
            notes.append(f"maxExportTilesCount {cfg.max_export_tiles}")
            out.write(f"  service   {url}  ({', '.join(notes)})\n")
        out.write(f"  admin     {emu.root_url}/emulator  (configure, faults, reset, requests, jobs)\n")
        out.write("Press Ctrl-C to stop.\n")
        out.flush()
        while not stop.wait(0.5):
            pass
    finally:
        emu.stop()
        out.write("Emulator stopped.\n")
        out.flush()
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m arcgis_emulator",
                                     description="Local ArcGIS Server / ArcGIS Online emulator")
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="run the emulator until Ctrl-C / SIGTERM")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=0, help="0 = any free port (default)")
    serve.add_argument("--max-export-tiles", type=int, default=None,
                       help="maxExportTilesCount of every service")
    serve.add_argument("--cache-dir", default=None, help="sample tile cache directory")
    serve.add_argument("--work-dir", default=None, help="where job packages are written (a temp dir inside)")
    serve.add_argument("-v", "--verbose", action="store_true")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if args.command == "serve":
        return _serve(args)
    return 2  # pragma: no cover - argparse rejects other commands


if __name__ == "__main__":
    sys.exit(main())
