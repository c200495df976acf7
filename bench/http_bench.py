"""HTTP gateway benchmark (`make bench-http`): gridlite's gateway against Debian's nginx serving
the same bytes from a plain file (sendfile on), in one run on one machine, reported as ratios
with the load average beside every row (the machine is shared; absolute numbers move with load).

Rows:
- download: a BIG file (default 256 MiB) fetched whole with curl, best of RUNS, MiB/s per server;
- upload: the same bytes PUT over HTTP (curl -T) against the wire protocol (pymongo's
  GridFSBucket.upload_from_stream), MiB/s;
- range latency: 1 MiB ranges from the middle third of a RANGE file (default 4 GiB) over one
  keep-alive connection, median and p99 per server;
- concurrency: 64 clients fetching random ranges (4 KiB-1 MiB) for SECONDS (default 30) per server:
  requests, errors, p50/p99 latency.

    .venv/bin/python bench/http_bench.py --gridlite .build/release/gridlite [--big-mib 256] [--range-mib 4096]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import re
import shutil
import socket
import statistics
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import gridfs
from pymongo import MongoClient

MiB = 1 << 20


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def load() -> str:
    return "%.2f %.2f %.2f" % os.getloadavg()


def write_random_file(path: Path, size: int) -> None:
    block = os.urandom(8 * MiB)
    with open(path, "wb") as f:
        written = 0
        i = 0
        while written < size:
            n = min(len(block), size - written)
            # rotate the block so no 8 MiB stretch repeats exactly
            k = (i * 4099) % len(block)
            piece = (block[k:] + block[:k])[:n]
            f.write(piece)
            written += n
            i += 1


class Gridlite:
    def __init__(self, binary: str, workdir: Path) -> None:
        self.workdir = workdir
        workdir.mkdir(parents=True, exist_ok=True)
        self.log = workdir / "gridlite.log"
        port = free_port()
        self.proc = subprocess.Popen(
            [binary, "serve", "--port", str(port), "--http-port", "0", "--data-dir", str(workdir / "data")],
            stdout=open(self.log, "wb"), stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            m = re.search(r"HTTP gateway on http://(\S+):(\d+)", self.log.read_text(errors="replace"))
            if m:
                self.http_port = int(m.group(2))
                break
            if self.proc.poll() is not None:
                raise RuntimeError(self.log.read_text())
            time.sleep(0.05)
        else:
            raise RuntimeError("gridlite did not start: " + self.log.read_text())
        self.uri = f"mongodb://127.0.0.1:{port}/"

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()


class Nginx:
    def __init__(self, root: Path, workdir: Path) -> None:
        binary = shutil.which("nginx") or "/usr/sbin/nginx"
        workdir.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        conf = workdir / "nginx.conf"
        for d in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"):
            (workdir / d).mkdir(exist_ok=True)
        user = "user root;" if os.geteuid() == 0 else ""
        conf.write_text(f"""
{user}
worker_processes 2;
pid {workdir}/nginx.pid;
error_log {workdir}/error.log;
events {{ worker_connections 1024; }}
http {{
  access_log off;
  sendfile on; tcp_nopush on;
  client_body_temp_path {workdir}/client_body; proxy_temp_path {workdir}/proxy;
  fastcgi_temp_path {workdir}/fastcgi; uwsgi_temp_path {workdir}/uwsgi; scgi_temp_path {workdir}/scgi;
  keepalive_requests 100000;
  server {{ listen 127.0.0.1:{self.port}; root {root}; }}
}}
""")
        self.proc = subprocess.Popen([binary, "-p", str(workdir), "-c", str(conf), "-g", "daemon off;"],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                if self.proc.poll() is not None:
                    raise RuntimeError((workdir / "error.log").read_text())
                time.sleep(0.05)
        raise RuntimeError("nginx did not start")

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def curl_download(url: str) -> float:
    out = subprocess.run(["curl", "-sf", "-o", "/dev/null", "-w", "%{speed_download} %{size_download}", url],
                         capture_output=True, text=True, check=True).stdout.split()
    return float(out[0]) / MiB


def curl_upload(url: str, path: Path) -> float:
    out = subprocess.run(["curl", "-sf", "-o", "/dev/null", "-T", str(path), "-w", "%{speed_upload}", url],
                         capture_output=True, text=True, check=True).stdout
    return float(out) / MiB


def range_latencies(port: int, path: str, size: int, count: int, seed: int) -> list[float]:
    rnd = random.Random(seed)
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    out = []
    for _ in range(count):
        start = rnd.randrange(size // 3, 2 * size // 3)
        t = time.perf_counter()
        conn.request("GET", path, headers={"Range": f"bytes={start}-{start + MiB - 1}"})
        r = conn.getresponse()
        body = r.read()
        out.append(time.perf_counter() - t)
        if r.status != 206 or len(body) != MiB:
            raise RuntimeError(f"range answer {r.status} {len(body)}")
    conn.close()
    return out


def concurrent(port: int, path: str, size: int, clients: int, seconds: float) -> dict:
    stop = time.monotonic() + seconds
    lat: list[float] = []
    errors = [0]
    lock = threading.Lock()

    def worker(seed: int) -> None:
        rnd = random.Random(seed)
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        mine = []
        while time.monotonic() < stop:
            a = rnd.randrange(size)
            b = min(size - 1, a + rnd.randrange(4096, MiB))
            t = time.perf_counter()
            try:
                conn.request("GET", path, headers={"Range": f"bytes={a}-{b}"})
                r = conn.getresponse()
                body = r.read()
                if r.status != 206 or len(body) != b - a + 1:
                    raise RuntimeError(r.status)
                mine.append(time.perf_counter() - t)
            except Exception:
                with lock:
                    errors[0] += 1
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        conn.close()
        with lock:
            lat.extend(mine)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    lat.sort()
    pick = lambda q: lat[min(len(lat) - 1, int(q * len(lat)))] * 1000 if lat else float("nan")
    return {"requests": len(lat), "errors": errors[0], "p50_ms": pick(0.5), "p99_ms": pick(0.99)}


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--gridlite", required=True)
    ap.add_argument("--big-mib", type=int, default=256)
    ap.add_argument("--range-mib", type=int, default=4096)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--range-count", type=int, default=100)
    ap.add_argument("--clients", type=int, default=64)
    ap.add_argument("--seconds", type=float, default=30)
    ap.add_argument("--out", default="bench/results/http-last-run.json")
    ap.add_argument("--rows", default="upload,download,range,concurrent",
                    help="which rows to measure (comma-separated; the files are always loaded)")
    args = ap.parse_args()

    work = Path(tempfile.mkdtemp(prefix="gridlite-http-bench-"))
    root = work / "www"
    root.mkdir()
    results: dict = {"machine": {"cpus": os.cpu_count()}, "rows": []}
    g = nginx = None
    try:
        big = root / "big.bin"
        write_random_file(big, args.big_mib * MiB)
        rng = root / "range.bin"
        write_random_file(rng, args.range_mib * MiB)
        g = Gridlite(args.gridlite, work / "g")
        nginx = Nginx(root, work / "nginx")
        gbase = f"http://127.0.0.1:{g.http_port}"

        rows = set(args.rows.split(","))
        # upload: wire (pymongo) vs HTTP PUT (curl -T), same bytes
        wire, put = [], []
        with MongoClient(g.uri) as c:
            bucket = gridfs.GridFSBucket(c.bench)
            for i in range(args.runs if "upload" in rows else 1):
                with open(big, "rb") as f:
                    t = time.perf_counter()
                    bucket.upload_from_stream(f"wire-{i}.bin", f)
                    wire.append(args.big_mib / (time.perf_counter() - t))
                put.append(curl_upload(f"{gbase}/bench/fs/name/big.bin", big))
        if "upload" in rows:
            results["rows"].append({"row": f"upload {args.big_mib} MiB (MiB/s, best of {args.runs})",
                                    "gridlite_http": max(put), "anchor_wire": max(wire),
                                    "ratio": max(put) / max(wire), "load": load()})
        # range file through HTTP PUT too
        curl_upload(f"{gbase}/bench/fs/name/range.bin", rng)

        # download throughput (alternating servers, so a change in the machine's load hits both)
        if "download" in rows:
            gd, nd = [], []
            for _ in range(args.runs):
                gd.append(curl_download(f"{gbase}/bench/fs/name/big.bin"))
                nd.append(curl_download(f"http://127.0.0.1:{nginx.port}/big.bin"))
            results["rows"].append({"row": f"download {args.big_mib} MiB (MiB/s, best of {args.runs})",
                                    "gridlite_http": max(gd), "anchor_nginx": max(nd), "ratio": max(gd) / max(nd),
                                    "load": load()})

        size = args.range_mib * MiB
        if "range" in rows:
            # in rounds, alternating servers (same offsets for both), after a warm-up round each
            range_latencies(g.http_port, "/bench/fs/name/range.bin", size, 5, 99)
            range_latencies(nginx.port, "/range.bin", size, 5, 99)
            gl, nl = [], []
            rounds = 5
            for r in range(rounds):
                n = max(1, args.range_count // rounds)
                gl += range_latencies(g.http_port, "/bench/fs/name/range.bin", size, n, r + 1)
                nl += range_latencies(nginx.port, "/range.bin", size, n, r + 1)
            med = lambda xs: statistics.median(xs) * 1000
            p99 = lambda xs: sorted(xs)[min(len(xs) - 1, int(0.99 * len(xs)))] * 1000
            results["rows"].append({"row": f"1 MiB range in the middle of {args.range_mib} MiB (median ms)",
                                    "gridlite_http": med(gl), "anchor_nginx": med(nl), "ratio": med(gl) / med(nl),
                                    "p99_gridlite": p99(gl), "p99_nginx": p99(nl), "load": load()})

        if "concurrent" in rows:
            gc = concurrent(g.http_port, "/bench/fs/name/range.bin", size, args.clients, args.seconds)
            gc_load = load()
            nc = concurrent(nginx.port, "/range.bin", size, args.clients, args.seconds)
            results["rows"].append({"row": f"{args.clients} clients, random ranges, {args.seconds:.0f} s",
                                    "gridlite_http": gc, "anchor_nginx": nc, "load_gridlite": gc_load, "load": load()})
    finally:
        if g:
            g.stop()
        if nginx:
            nginx.stop()
        shutil.rmtree(work, ignore_errors=True)

    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(results, indent=2))
    print("| row | gridlite HTTP | anchor | ratio | load (1/5/15 min) |")
    print("| --- | --- | --- | --- | --- |")
    for r in results["rows"]:
        if "ratio" in r:
            anchor = r.get("anchor_nginx", r.get("anchor_wire"))
            name = "nginx" if "anchor_nginx" in r else "wire"
            extra = f" (p99 {r['p99_gridlite']:.1f} vs {r['p99_nginx']:.1f})" if "p99_gridlite" in r else ""
            print(f"| {r['row']} | {r['gridlite_http']:.1f}{extra} | {name} {anchor:.1f} | {r['ratio']:.2f} | {r['load']} |")
        else:
            gcr, ncr = r["gridlite_http"], r["anchor_nginx"]
            print(f"| {r['row']} | {gcr['requests']} req, {gcr['errors']} errors, p50 {gcr['p50_ms']:.1f} ms, "
                  f"p99 {gcr['p99_ms']:.1f} ms | nginx {ncr['requests']} req, {ncr['errors']} errors, "
                  f"p99 {ncr['p99_ms']:.1f} ms | p99 {gcr['p99_ms'] / ncr['p99_ms']:.2f} | {r['load_gridlite']} / {r['load']} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
