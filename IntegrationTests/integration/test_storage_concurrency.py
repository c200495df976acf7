"""Two connections: a 200 MB GridFS upload on one must not stall small finds on another by more than
100 ms. The upload runs in its own Python process so that the prober's timings are not skewed by
the uploader's GIL (pymongo encodes 48 MB messages while holding it)."""

from __future__ import annotations

import statistics
import subprocess
import sys
import textwrap
import time

import pytest


UPLOAD_MB = 200
MAX_LATENCY_MS = 100.0

UPLOADER = textwrap.dedent("""
    import os, sys, time
    import gridfs
    from pymongo import MongoClient
    uri, size_mb = sys.argv[1], int(sys.argv[2])
    client = MongoClient(uri, socketTimeoutMS=120000)
    bucket = gridfs.GridFSBucket(client["conc"])
    block = os.urandom(1024 * 1024)
    print("ready", flush=True)
    t0 = time.monotonic()
    with bucket.open_upload_stream("big.bin") as stream:
        for _ in range(size_mb):
            stream.write(block)
    print(f"uploaded {size_mb} MB in {time.monotonic() - t0:.2f}s", flush=True)
""")


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def measure(small, chunks, until) -> list[float]:
    """Latencies (ms) of small finds, one every ~2 ms, until `until()` is true."""
    latencies: list[float] = []
    i = 0
    while not until():
        t0 = time.perf_counter()
        if i % 4 == 3:  # now and then read the collection being written
            list(chunks.find({"n": {"$lt": 2}}, {"n": 1}, limit=2))
        else:
            doc = small.find_one({"_id": i % 100})
            assert doc is not None and doc["v"] == i % 100
        latencies.append((time.perf_counter() - t0) * 1000)
        i += 1
        time.sleep(0.002)
    return latencies


def describe(label: str, latencies: list[float]) -> str:
    return (f"{label}: {len(latencies)} finds, p50 {percentile(latencies, 50):.1f} ms, "
            f"p90 {percentile(latencies, 90):.1f} ms, p99 {percentile(latencies, 99):.1f} ms, "
            f"max {max(latencies):.1f} ms, mean {statistics.fmean(latencies):.1f} ms, "
            f"over {MAX_LATENCY_MS:.0f} ms: {sum(1 for x in latencies if x > MAX_LATENCY_MS)}")


ATTEMPTS = 3


def test_upload_does_not_stall_finds_on_another_connection(daemon_factory):
    """Passes when, in one of ATTEMPTS uploads, no find took 100 ms or more. Several attempts
    because the test machine is shared: with other processes busy, even finds against an idle
    daemon occasionally take ~100 ms (the baseline in the failure message shows it), while an
    upload that really blocked readers would stall finds in every attempt."""
    d = daemon_factory()
    reports: list[str] = []
    with d.client(maxPoolSize=1) as prober:
        small = prober["conc"]["small"]
        small.insert_many([{"_id": i, "v": i} for i in range(100)])
        chunks = prober["conc"]["fs.chunks"]
        # Create the bucket's collections and indexes first, so the measured window is the upload.
        prober["conc"]["fs.files"].create_index([("filename", 1), ("uploadDate", 1)])
        chunks.create_index([("files_id", 1), ("n", 1)], unique=True)
        for i in range(50):  # warm up
            small.find_one({"_id": i})
        for attempt in range(1, ATTEMPTS + 1):
            uploader = subprocess.Popen([sys.executable, "-c", UPLOADER, d.uri, str(UPLOAD_MB)],
                                        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            try:
                assert uploader.stdout.readline().strip() == "ready"
                latencies = measure(small, chunks, lambda: uploader.poll() is not None)
                out, err = uploader.communicate(timeout=10)
            finally:
                if uploader.poll() is None:
                    uploader.kill()
                    uploader.wait()
            assert uploader.returncode == 0, err
            assert len(latencies) >= 20, latencies
            files = list(prober["conc"]["fs.files"].find({}, sort=[("uploadDate", -1)]))
            assert len(files) == attempt and files[0]["length"] == UPLOAD_MB * 1024 * 1024
            reports.append(describe(f"attempt {attempt} ({out.strip()})", latencies))
            print(reports[-1])
            if max(latencies) < MAX_LATENCY_MS:
                return
        deadline = time.monotonic() + 2
        reports.append(describe("baseline without an upload", measure(small, chunks, lambda: time.monotonic() > deadline)))
    pytest.fail("a find took 100 ms or more during every upload:\n" + "\n".join(reports))
