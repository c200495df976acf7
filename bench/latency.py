"""Per-call latency of single, sequential operations against a running server (one client, one
connection): what each command costs end to end, thread switches included.

    python bench/latency.py --port 27017            # against a server already running
    python bench/latency.py --binary .build/release/gridlite --runs 3
                                                     # starts `gridlite serve --port 0` per run

Prints, per workload, the median latency in microseconds of every run and the median of those runs:
  find_one   3000 x find_one({"_id": x}) on a 1000-document collection
  insert_one 3000 x insert_one of a tiny document
  gridfs     300 x GridFSBucket upload + download of a 10 KiB file (one sample per pair)
"""

from __future__ import annotations

import argparse
import os
import random
import re
import shutil
import statistics
import subprocess
import tempfile
import threading
import time

import gridfs
from pymongo import MongoClient

LISTENING = re.compile(r"listening on (\S+):(\d+)")


def median_us(samples: list[float]) -> float:
    return statistics.median(samples) * 1e6


def run_workloads(port: int, scale: float = 1.0) -> dict[str, float]:
    client = MongoClient("127.0.0.1", port, serverSelectionTimeoutMS=10000)
    db = client["latency"]
    db.drop_collection("docs")
    db.drop_collection("tiny")
    docs = db["docs"]
    docs.insert_many([{"_id": i, "name": f"doc{i}", "n": i * 3} for i in range(1000)])
    n_find = int(3000 * scale)
    n_grid = int(300 * scale)
    results: dict[str, float] = {}

    keys = [random.randrange(1000) for _ in range(n_find)]
    for k in keys[:100]:  # warm-up
        docs.find_one({"_id": k})
    samples = []
    for k in keys:
        start = time.perf_counter()
        docs.find_one({"_id": k})
        samples.append(time.perf_counter() - start)
    results["find_one"] = median_us(samples)

    tiny = db["tiny"]
    samples = []
    for i in range(n_find):
        start = time.perf_counter()
        tiny.insert_one({"i": i})
        samples.append(time.perf_counter() - start)
    results["insert_one"] = median_us(samples)

    bucket = gridfs.GridFSBucket(db, bucket_name="lat")
    payload = os.urandom(10 * 1024)
    samples = []
    for i in range(n_grid):
        start = time.perf_counter()
        file_id = bucket.upload_from_stream(f"f{i}", payload)
        data = bucket.open_download_stream(file_id).read()
        samples.append(time.perf_counter() - start)
        if data != payload:
            raise SystemExit("gridfs round trip returned different bytes")
    results["gridfs"] = median_us(samples)
    client.close()
    return results


def start_server(binary: str) -> tuple[subprocess.Popen, int, str]:
    data_dir = tempfile.mkdtemp(prefix="gridlite-latency-")
    proc = subprocess.Popen([binary, "serve", "--no-http", "--port", "0", "--data-dir", data_dir],
                            stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True)
    deadline = time.monotonic() + 30
    assert proc.stderr is not None
    while time.monotonic() < deadline:
        line = proc.stderr.readline()
        if not line:
            break
        match = LISTENING.search(line)
        if match:
            # Keep draining stderr so the server never blocks on a full pipe.
            threading.Thread(target=proc.stderr.read, daemon=True).start()
            return proc, int(match.group(2)), data_dir
    proc.kill()
    raise SystemExit(f"{binary} did not report a listening port")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    target = parser.add_mutually_exclusive_group(required=True)
    target.add_argument("--port", type=int, help="port of a running server")
    target.add_argument("--binary", help="gridlite binary to start afresh for every run")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--scale", type=float, default=1.0, help="multiply the operation counts")
    args = parser.parse_args()

    runs: list[dict[str, float]] = []
    for run in range(args.runs):
        if args.binary:
            proc, port, data_dir = start_server(args.binary)
            try:
                runs.append(run_workloads(port, args.scale))
            finally:
                proc.terminate()
                proc.wait(timeout=30)
                shutil.rmtree(data_dir, ignore_errors=True)
        else:
            runs.append(run_workloads(args.port, args.scale))
        print(f"run {run + 1}: " + ", ".join(f"{k} {v:.0f} us" for k, v in runs[-1].items()), flush=True)
    for key in runs[0]:
        values = [r[key] for r in runs]
        print(f"{key:<10} median {statistics.median(values):7.0f} us   runs: "
              + " ".join(f"{v:.0f}" for v in values))


if __name__ == "__main__":
    main()
