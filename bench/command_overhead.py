#!/usr/bin/env python3
"""Per-command round-trip cost of one or more gridlite binaries: N pings and N find_one by _id
through one pymongo client, several alternating rounds, medians in µs per call.

    bench/command_overhead.py [--calls 20000] [--rounds 3] BINARY [BINARY...]

Used to measure what the dispatcher's observation point costs (docs/performance.md): run it with
the binary before and after a change. Not part of `make bench`.
"""

from __future__ import annotations

import argparse
import re
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from pymongo import MongoClient


def start(binary: str, workdir: Path) -> tuple[subprocess.Popen, int]:
    log = open(workdir / "log", "wb")
    proc = subprocess.Popen([binary, "serve", "--no-http", "--port", "0", "--data-dir", str(workdir / "data")],
                            stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        m = re.search(r"listening on \S+:(\d+)", (workdir / "log").read_text(errors="replace"))
        if m:
            return proc, int(m.group(1))
        time.sleep(0.05)
    proc.kill()
    raise RuntimeError(f"{binary} did not start")


def per_call(n: int, fn) -> float:
    start_ns = time.perf_counter_ns()
    for i in range(n):
        fn(i)
    return (time.perf_counter_ns() - start_ns) / n / 1000


def measure(binary: str, calls: int) -> dict[str, float]:
    workdir = Path(tempfile.mkdtemp(prefix="gridlite-overhead-"))
    proc, port = start(binary, workdir)
    try:
        with MongoClient(port=port, directConnection=True) as client:
            coll = client["overhead"]["items"]
            coll.insert_many([{"_id": i, "name": f"f{i}"} for i in range(1000)])
            admin = client.admin
            per_call(1000, lambda i: admin.command("ping"))  # warm up
            return {
                "ping": per_call(calls, lambda i: admin.command("ping")),
                "find_one": per_call(calls, lambda i: coll.find_one({"_id": i % 1000})),
            }
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        shutil.rmtree(workdir, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=20000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("binaries", nargs="+")
    args = parser.parse_args()
    results: dict[str, dict[str, list[float]]] = {b: {"ping": [], "find_one": []} for b in args.binaries}
    for r in range(args.rounds):
        for b in args.binaries:
            for k, v in measure(b, args.calls).items():
                results[b][k].append(v)
            print(f"round {r + 1} {b}: " + ", ".join(f"{k} {v[-1]:.1f} µs" for k, v in results[b].items()), flush=True)
    for b in args.binaries:
        print(f"median {b}: " + ", ".join(f"{k} {statistics.median(v):.1f} µs" for k, v in results[b].items()))


if __name__ == "__main__":
    main()
