"""`make bench-integrity`: what checksums cost and how fast backups run, in one run.

- CRC-32C anchor: CPU seconds to checksum 256 MiB with gridlite's C code (SSE4.2 path and the
  table fallback), compiled here with -O2 from Sources/CChecksum.
- What checksums cost, measured A/B with the same binary: two daemons side by side, one normal
  and one started with GRIDLITE_BENCH_NO_CHECKSUMS=1 (rows written without a checksum, reads
  verify none: a bench-only switch). 256 MiB GridFS uploads and downloads through pymongo
  alternate between the two, so the machine's load hits both alike; reported as daemon CPU per
  GiB (utime+stime from /proc/<pid>/stat) and MiB/s, medians, and the ratio on/off. The old
  estimate (CRC CPU for 256 MiB / daemon CPU per operation) is printed beside it.
- Backup throughput (MiB/s of bytes copied, from the manifest) of a data directory holding
  --files × 256 MiB: idle, and while a client keeps uploading and downloading; anchored by `cp -r`
  of the same directory in the same run. fsck throughput of the same directory.

Prints a Markdown table with the load average before and after; writes bench/results/integrity.json.

Usage: python bench/integrity_bench.py --gridlite BIN [--files 2] [--runs 3]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import gridfs
from pymongo import MongoClient

ROOT = Path(__file__).resolve().parents[1]
MiB = 1024 * 1024
TICK = os.sysconf("SC_CLK_TCK")

CRC_MAIN = r"""
#include "cchecksum.h"
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
static double cpu(void){struct timespec t;clock_gettime(CLOCK_PROCESS_CPUTIME_ID,&t);return t.tv_sec+t.tv_nsec/1e9;}
int main(void){size_t n=256u<<20;unsigned char*b=malloc(n);for(size_t i=0;i<n;i++)b[i]=(unsigned char)(i*2654435761u>>13);
 volatile unsigned x=0;double best_hw=1e9,best_tab=1e9;
 for(int r=0;r<5;r++){double t=cpu();x^=gridlite_crc32c(0,b,n);double d=cpu()-t;if(d<best_hw)best_hw=d;}
 for(int r=0;r<2;r++){double t=cpu();x^=gridlite_crc32c_portable(0,b,n);double d=cpu()-t;if(d<best_tab)best_tab=d;}
 printf("%f %f %d\n",best_hw,best_tab,gridlite_crc32c_hardware());return (int)(x&0);}
"""


def loadavg() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def crc_anchor(tmp: Path) -> tuple[float, float, bool]:
    src = tmp / "crc_main.c"
    src.write_text(CRC_MAIN)
    exe = tmp / "crc_main"
    subprocess.run(["cc", "-O2", "-I", str(ROOT / "Sources/CChecksum/include"), str(src),
                    str(ROOT / "Sources/CChecksum/crc32c.c"), "-o", str(exe), "-lpthread"], check=True)
    hw, table, has = subprocess.run([str(exe)], capture_output=True, text=True, check=True).stdout.split()
    return float(hw), float(table), has != "0"


class Daemon:
    def __init__(self, binary: str, data: Path, env: dict | None = None) -> None:
        log_path = data.parent / f"{data.name}.log"
        self.log = open(log_path, "ab")
        self.process = subprocess.Popen([binary, "serve", "--no-http", "--port", "0", "--data-dir", str(data), "--log-level", "info"],
                                        stdout=self.log, stderr=subprocess.STDOUT, env={**os.environ, **(env or {})})
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            m = re.search(rb"listening on \S+:(\d+)", log_path.read_bytes())
            if m and m.group(1) != b"0":
                self.port = int(m.group(1))
                return
            time.sleep(0.05)
        raise RuntimeError("daemon did not start")

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=60)


def checksum_ab(binary: str, tmp: Path, runs: int) -> dict:
    """Daemon CPU per GiB and MiB/s of 256 MiB uploads/downloads, checksums on vs off (same binary)."""
    daemons = {}
    for mode, env in (("on", {}), ("off", {"GRIDLITE_BENCH_NO_CHECKSUMS": "1"})):
        (tmp / f"ab-{mode}").mkdir()
        daemons[mode] = Daemon(binary, tmp / f"ab-{mode}", env)
    payload = os.urandom(256 * MiB)
    samples = {m: {"up_cpu": [], "down_cpu": [], "up_wall": [], "down_wall": []} for m in daemons}
    try:
        clients = {m: MongoClient(f"mongodb://127.0.0.1:{d.port}") for m, d in daemons.items()}
        buckets = {m: gridfs.GridFSBucket(c["bench"]) for m, c in clients.items()}
        for m in daemons:  # warm-up: first segment, indexes, page cache
            fid = buckets[m].upload_from_stream("warm", payload)
            buckets[m].open_download_stream(fid).read()
            buckets[m].delete(fid)
        for run in range(runs):
            order = ("on", "off") if run % 2 == 0 else ("off", "on")
            for m in order:
                pid = daemons[m].process.pid
                c0, t0 = cpu_seconds(pid), time.monotonic()
                fid = buckets[m].upload_from_stream("f.bin", payload)
                samples[m]["up_cpu"].append(cpu_seconds(pid) - c0)
                samples[m]["up_wall"].append(time.monotonic() - t0)
                c0, t0 = cpu_seconds(pid), time.monotonic()
                out = buckets[m].open_download_stream(fid).read()
                samples[m]["down_cpu"].append(cpu_seconds(pid) - c0)
                samples[m]["down_wall"].append(time.monotonic() - t0)
                assert out == payload
                buckets[m].delete(fid)
        for c in clients.values():
            c.close()
    finally:
        for d in daemons.values():
            d.stop()
    out = {}
    for m, v in samples.items():
        out[m] = {"up_cpu_s_per_gib": statistics.median(v["up_cpu"]) * 4, "down_cpu_s_per_gib": statistics.median(v["down_cpu"]) * 4,
                  "up_mib_s": 256 / statistics.median(v["up_wall"]), "down_mib_s": 256 / statistics.median(v["down_wall"]),
                  "samples": v}
    return out


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--gridlite", required=True)
    parser.add_argument("--files", type=int, default=2)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--ab-runs", type=int, default=6, help="256 MiB up+down pairs per mode in the checksum A/B")
    parser.add_argument("--ab-only", action="store_true", help="only the CRC anchor and the checksum A/B")
    args = parser.parse_args()
    results: dict = {"load_before": loadavg()}
    tmp = Path(tempfile.mkdtemp(prefix="gridlite-integrity-bench-"))
    try:
        hw, table, has_hw = crc_anchor(tmp)
        results.update(crc_hw_cpu_s=hw, crc_table_cpu_s=table, hardware=has_hw)
        results["ab"] = checksum_ab(args.gridlite, tmp, args.ab_runs)
        results["load_after_ab"] = loadavg()
        if args.ab_only:
            return report(results)
        data = tmp / "data"
        data.mkdir()
        d = Daemon(args.gridlite, data)
        client = MongoClient(f"mongodb://127.0.0.1:{d.port}")
        fs = gridfs.GridFSBucket(client["bench"])
        payload = os.urandom(256 * MiB)
        for _ in range(args.files):
            fs.upload_from_stream("f.bin", payload)
        # Backups: idle, then while serving.
        def backup(name: str) -> dict:
            target = tmp / name
            r = subprocess.run([args.gridlite, "backup", "--data-dir", str(data), "--to", str(target), "--json"],
                               capture_output=True, text=True, check=True)
            m = json.loads(r.stdout)
            shutil.rmtree(target)
            return {"mib": m["bytesCopied"] / MiB, "seconds": m["seconds"], "mib_s": m["bytesCopied"] / MiB / m["seconds"]}
        idle = [backup(f"idle{i}") for i in range(args.runs)]
        t0 = time.monotonic()
        subprocess.run(["cp", "-r", str(data), str(tmp / "cp-anchor")], check=True)
        cp_s = time.monotonic() - t0
        shutil.rmtree(tmp / "cp-anchor")
        t0 = time.monotonic()
        fsck = subprocess.run([args.gridlite, "fsck", "--data-dir", str(data), "--json"], capture_output=True, text=True)
        fsck_s = time.monotonic() - t0
        fsck_report = json.loads(fsck.stdout)
        stop = threading.Event()
        served = {"bytes": 0}

        def serve() -> None:
            small = os.urandom(16 * MiB)
            with MongoClient(f"mongodb://127.0.0.1:{d.port}") as c:
                b = gridfs.GridFSBucket(c["load"])
                while not stop.is_set():
                    fid = b.upload_from_stream("s", small)
                    served["bytes"] += len(b.open_download_stream(fid).read()) + len(small)
                    b.delete(fid)
        worker = threading.Thread(target=serve)
        worker.start()
        time.sleep(1)
        busy = [backup(f"busy{i}") for i in range(args.runs)]
        stop.set()
        worker.join()
        results.update(
            data_mib=idle[0]["mib"], backup_idle_mib_s=statistics.median(b["mib_s"] for b in idle),
            backup_busy_mib_s=statistics.median(b["mib_s"] for b in busy), cp_mib_s=idle[0]["mib"] / cp_s,
            fsck_mib_s=fsck_report["bytesVerified"] / MiB / fsck_s, fsck_exit=fsck.returncode,
            served_mib_during_busy_backups=served["bytes"] / MiB)
        client.close()
        d.stop()
    finally:
        results["load_after"] = loadavg()
        shutil.rmtree(tmp, ignore_errors=True)
    return report(results)


def report(r: dict) -> int:
    r.setdefault("load_after", loadavg())
    out = ROOT / "bench" / "results"
    out.mkdir(exist_ok=True)
    (out / "integrity.json").write_text(json.dumps(r, indent=2))
    on, off = r["ab"]["on"], r["ab"]["off"]
    print(f"load average before {r['load_before']}, after the A/B {r['load_after_ab']}, at the end {r['load_after']}; "
          f"CRC hardware path: {r['hardware']}\n")
    print("| measure | checksums on | off (bench switch) | on/off |\n|---|---|---|---|")
    for key, label in (("up_cpu_s_per_gib", "daemon CPU per GiB uploaded (s)"), ("down_cpu_s_per_gib", "daemon CPU per GiB downloaded (s)")):
        print(f"| {label} | {on[key]:.3f} | {off[key]:.3f} | {on[key] / off[key]:.3f} |")
    for key, label in (("up_mib_s", "upload MiB/s (pymongo, 256 MiB)"), ("down_mib_s", "download MiB/s (pymongo, 256 MiB)")):
        print(f"| {label} | {on[key]:.0f} | {off[key]:.0f} | {on[key] / off[key]:.3f} |")
    print()
    print("| measure | value |\n|---|---|")
    print(f"| CRC-32C of 256 MiB, SSE4.2 path (CPU) | {r['crc_hw_cpu_s'] * 1000:.1f} ms |")
    print(f"| CRC-32C of 256 MiB, table fallback (CPU) | {r['crc_table_cpu_s'] * 1000:.0f} ms |")
    print(f"| CRC CPU / daemon CPU per GiB, checksums off (estimate: upload / download) | "
          f"{r['crc_hw_cpu_s'] * 4 / off['up_cpu_s_per_gib'] * 100:.1f} % / {r['crc_hw_cpu_s'] * 4 / off['down_cpu_s_per_gib'] * 100:.1f} % |")
    if "backup_idle_mib_s" in r:
        print(f"| backup of {r['data_mib']:.0f} MiB, idle | {r['backup_idle_mib_s']:.0f} MiB/s |")
        print(f"| backup while a client uploads+downloads 16 MiB files | {r['backup_busy_mib_s']:.0f} MiB/s |")
        print(f"| `cp -r` of the same data directory (anchor) | {r['cp_mib_s']:.0f} MiB/s |")
        print(f"| fsck (every checksum verified) | {r['fsck_mib_s']:.0f} MiB/s (exit {r['fsck_exit']}) |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
