"""Download throughput and memory of ``plugin.core.download`` side by side with ``curl -o``.

One ≥ 512 MiB package (a STORED zip like Esri's, real bytes, not sparse) is written once into
``bench/out/`` and served by one local threaded HTTP server with ``Range`` support (``sendfile``);
both clients fetch it from that server in the same run, alternately, ``RUNS`` times each after
one untimed warm-up.  Times are the transfer only (curl's ``time_total``; our ``download()`` call in
a fresh process), medians are compared.

Figures:

* ``download_ratio_vs_curl`` — the headline: median throughput of our download *as users get it*
  (transfer to ``.part``, the default verification — zip directory, local headers and CRC-32 of every
  entry — and the rename) divided by curl's median; target ≥ 0.8.
* ``download_ratio_vs_curl_unverified`` — secondary: the same with the verification switched off
  (``verify_zip=False``, which no export uses), the transfer alone as curl measures it.
* ``download_peak_rss_growth_mb`` — growth of the downloading process's peak RSS (``VmHWM``) over
  its idle baseline (interpreter, imports and session ready); target < 50 MB.
"""
from __future__ import annotations

import http.server
import json
import os
import statistics
import subprocess
import sys
import threading
import time
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SIZE_MIB = 512
ENTRY_MIB = 64
RUNS = 5
FILE_NAME = "bench_download_source.zip"


def make_source(out_dir: Path, size_mib: int = SIZE_MIB) -> Path:
    """Write the source package once (kept in bench/out, reused while its size matches)."""
    path = out_dir / FILE_NAME
    marker = out_dir / (FILE_NAME + ".ok")
    if path.exists() and marker.exists() and marker.read_text() == str(path.stat().st_size):
        return path
    block = os.urandom(1 << 20)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as zf:
        for entry in range(size_mib // ENTRY_MIB):
            with zf.open(f"p12/tile/L{entry:02d}/R0000C0000.bundle", "w", force_zip64=True) as fh:
                for i in range(ENTRY_MIB):
                    fh.write(block[i:] + block[:i])  # not all identical, nothing compressible matters here
    marker.write_text(str(path.stat().st_size))
    return path


class _RangeHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    source: Path

    def log_message(self, *args: object) -> None:  # quiet
        return

    def do_GET(self) -> None:
        size = self.source.stat().st_size
        start, end, status = 0, size - 1, 200
        rng = self.headers.get("Range")
        if rng and rng.startswith("bytes="):
            first, _, last = rng[6:].partition("-")
            start = int(first or 0)
            end = int(last) if last else size - 1
            status = 206
        length = end - start + 1
        self.send_response(status)
        self.send_header("Content-Type", "application/zip")
        self.send_header("Content-Length", str(length))
        self.send_header("ETag", f'"{size}-{int(self.source.stat().st_mtime)}"')
        self.send_header("Accept-Ranges", "bytes")
        if status == 206:
            self.send_header("Content-Range", f"bytes {start}-{end}/{size}")
        self.end_headers()
        with open(self.source, "rb") as fh:
            offset, remaining = start, length
            while remaining > 0:
                sent = os.sendfile(self.connection.fileno(), fh.fileno(), offset, remaining)
                if sent <= 0:
                    break
                offset += sent
                remaining -= sent


def serve(source: Path) -> tuple[http.server.ThreadingHTTPServer, str]:
    handler = type("Handler", (_RangeHandler,), {"source": source})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_port}/{source.name}"


# the downloading process: baseline VmHWM once idle, then download, then VmHWM again
_CHILD = r"""
import json, sys, time
sys.path.insert(0, sys.argv[1])
from plugin.core.http import HttpConfig, create_session
from plugin.core.download import download

def hwm_kb():
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0

url, target, verify = sys.argv[2], sys.argv[3], sys.argv[4] == "1"
session = create_session(HttpConfig(version="bench"))
session.get(url, headers={"Range": "bytes=0-0"}).close()  # connection pool and TLS-free warm-up
before = hwm_kb()
started = time.perf_counter()
path = download(session, url, target, verify_zip=verify)
seconds = time.perf_counter() - started
print(json.dumps({"seconds": seconds, "bytes": path.stat().st_size, "hwm_before_kb": before,
                  "hwm_after_kb": hwm_kb()}))
"""


def _ours(url: str, target: Path, verify: bool) -> dict:
    target.unlink(missing_ok=True)
    out = subprocess.run([sys.executable, "-c", _CHILD, str(REPO), url, str(target), "1" if verify else "0"],
                         check=True, capture_output=True, text=True, timeout=600)
    result = json.loads(out.stdout.strip().splitlines()[-1])
    target.unlink(missing_ok=True)
    return result


def _curl(url: str, target: Path) -> float:
    target.unlink(missing_ok=True)
    out = subprocess.run(["curl", "-s", "-S", "-o", str(target), "-w", "%{time_total}", url],
                         check=True, capture_output=True, text=True, timeout=600)
    target.unlink(missing_ok=True)
    return float(out.stdout.strip().replace(",", "."))


def run(out_dir: Path) -> dict:
    out_dir.mkdir(parents=True, exist_ok=True)
    source = make_source(out_dir)
    size = source.stat().st_size
    server, url = serve(source)
    ours_verified, ours_unverified, curl_runs, growth = [], [], [], []
    try:
        _curl(url, out_dir / "bench_download_curl.zip")  # warm-up: source in the page cache, server up
        for _ in range(RUNS):
            checked = _ours(url, out_dir / "bench_download_ours.zip", verify=True)  # what users get
            ours_verified.append(checked["seconds"])
            growth.append((checked["hwm_after_kb"] - checked["hwm_before_kb"]) / 1024)
            curl_runs.append(_curl(url, out_dir / "bench_download_curl.zip"))
            plain = _ours(url, out_dir / "bench_download_ours.zip", verify=False)
            ours_unverified.append(plain["seconds"])
            growth.append((plain["hwm_after_kb"] - plain["hwm_before_kb"]) / 1024)
    finally:
        server.shutdown()
        server.server_close()
    mb = size / 1e6
    verified_med, unverified_med, curl_med = (statistics.median(v)
                                              for v in (ours_verified, ours_unverified, curl_runs))
    return {
        "download_ratio_vs_curl": round(curl_med / verified_med, 3),
        "download_ratio_vs_curl_unverified": round(curl_med / unverified_med, 3),
        "download_peak_rss_growth_mb": round(max(growth), 1),
        "download_ours_mb_s": round(mb / verified_med, 1),
        "download_ours_unverified_mb_s": round(mb / unverified_med, 1),
        "download_curl_mb_s": round(mb / curl_med, 1),
        "download_bench": {
            "file_mb": round(mb, 1), "runs": RUNS, "ours_verified_s": ours_verified,
            "ours_unverified_s": ours_unverified, "curl_s": curl_runs, "rss_growth_mb": growth,
            "measured_at": time.strftime("%Y-%m-%d %H:%M:%S"),
        },
    }


if __name__ == "__main__":
    print(json.dumps(run(REPO / "bench" / "out"), indent=2))
