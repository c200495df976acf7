"""OP_COMPRESSED cost on large GridFS transfers: one 256 MiB file up and down through pymongo with
no compression, snappy, zlib and zstd, for random (incompressible) and compressible (log-like text)
content. Prints MiB/s per direction and the daemon's peak RSS per row (VmHWM, reset between rows
through /proc/PID/clear_refs). Run by hand; `make bench` does not run it:

    .venv/bin/python bench/compression.py --bin "$(swift build -c release --show-bin-path)/gridlite"
"""

from __future__ import annotations

import argparse
import hashlib
import os
import socket
import subprocess
import tempfile
import time

import gridfs
from pymongo import MongoClient

MiB = 1024 * 1024


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def content(kind: str, size: int) -> bytes:
    if kind == "random":
        return os.urandom(size)
    line = 0
    parts, total = [], 0
    while total < size:
        text = b"2026-12-04T18:%02d:%02d.%03dZ INFO conn%d GET /files/%08d 200 %d bytes\n" % (
            line // 3600 % 60, line // 60 % 60, line % 1000, line % 97, line, line * 7 % 100000)
        parts.append(text)
        total += len(text)
        line += 1
    return b"".join(parts)[:size]


def peak_rss_mib(pid: int) -> float:
    with open(f"/proc/{pid}/status") as status:
        for row in status:
            if row.startswith("VmHWM:"):
                return int(row.split()[1]) / 1024
    return float("nan")


def reset_peak(pid: int) -> None:
    with open(f"/proc/{pid}/clear_refs", "w") as refs:
        refs.write("5")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--bin", required=True)
    parser.add_argument("--size-mib", type=int, default=256)
    args = parser.parse_args()
    size = args.size_mib * MiB
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="gridlite-compression-") as data_dir:
        log = open(os.path.join(data_dir, "daemon.log"), "wb")
        daemon = subprocess.Popen([args.bin, "serve", "--no-http", "--port", str(port), "--data-dir", os.path.join(data_dir, "db")],
                                  stdout=log, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + 30
            while True:
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=1).close()
                    break
                except OSError:
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.1)
            print(f"{'compressor':<10} {'content':<13} {'up MiB/s':>9} {'down MiB/s':>11} {'peak RSS MiB':>13}")
            for kind in ("random", "compressible"):
                data = content(kind, size)
                digest = hashlib.sha256(data).hexdigest()
                for compressor in ("none", "snappy", "zlib", "zstd"):
                    options = {} if compressor == "none" else {"compressors": compressor}
                    with MongoClient(f"mongodb://127.0.0.1:{port}/", socketTimeoutMS=600000, **options) as client:
                        db = client["compression_bench"]
                        client.drop_database(db.name)
                        bucket = gridfs.GridFSBucket(db)
                        reset_peak(daemon.pid)
                        start = time.monotonic()
                        file_id = bucket.upload_from_stream("big.bin", data)
                        up = size / MiB / (time.monotonic() - start)
                        start = time.monotonic()
                        out = bucket.open_download_stream(file_id).read()
                        down = size / MiB / (time.monotonic() - start)
                        assert hashlib.sha256(out).hexdigest() == digest, "download differs"
                        del out
                        rss = peak_rss_mib(daemon.pid)
                        client.drop_database(db.name)
                    print(f"{compressor:<10} {kind:<13} {up:>9.1f} {down:>11.1f} {rss:>13.0f}", flush=True)
        finally:
            daemon.terminate()
            daemon.wait(timeout=60)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
