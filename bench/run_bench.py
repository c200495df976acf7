"""`make bench`: gridlite against an in-memory ceiling server, NX-27017 and NeoSQLite, through the
same pymongo GridFS code. Writes docs/benchmarks.md, a PNG chart, and the raw results as JSON.

Usage: python bench/run_bench.py --gridlite BIN --ceiling BIN [--runs N] [--quick] ...
"""

from __future__ import annotations

import argparse
import hashlib
import json
import multiprocessing
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import report  # noqa: E402
import workloads  # noqa: E402
from systems import Ceiling, Gridlite, NeoSQLite, NX27017  # noqa: E402

MiB = 1024 * 1024


def machine_description(gridlite_bin: Path) -> list[str]:
    def sh(cmd: str) -> str:
        try:
            return subprocess.run(cmd, shell=True, capture_output=True, text=True, timeout=20).stdout.strip()
        except Exception:  # noqa: BLE001
            return "?"
    import pymongo
    cpu = sh("lscpu | sed -n 's/^Model name: *//p' | head -1") or platform.processor()
    mem = sh("free -g | awk '/Mem:/ {print $2}'")
    versions = {}
    for package in ("neosqlite", "nx-27017", "pymongo"):
        versions[package] = sh(f"'{sys.executable}' -m pip show {package} 2>/dev/null | sed -n 's/^Version: //p'")
    return [
        f"CPU: {cpu}, {os.cpu_count()} logical cores available; RAM {mem} GiB",
        f"OS: {platform.platform()}",
        f"Python {platform.python_version()}, pymongo {pymongo.version}, neosqlite {versions['neosqlite']}, "
        f"nx-27017 {versions['nx-27017']}",
        f"Swift: {sh('swift --version 2>&1 | head -1')}",
        f"gridlite binary: {gridlite_bin} ({sh('git rev-parse --short HEAD')}), release build",
        f"Date: {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}",
    ]


def log(message: str, started: float) -> None:
    print(f"[bench {time.monotonic() - started:6.1f}s] {message}", flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--gridlite", type=Path, required=True)
    parser.add_argument("--ceiling", type=Path, required=True)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--large-mib", type=int, default=256)
    parser.add_argument("--small-count", type=int, default=1000)
    parser.add_argument("--small-kib", type=int, default=10)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--client-mib", type=int, default=32)
    parser.add_argument("--bucket-files", type=int, default=100_000)
    parser.add_argument("--lookup-repeats", type=int, default=60)
    parser.add_argument("--rss-mib", type=int, default=1024)
    parser.add_argument("--systems", default="gridlite,ceiling,NX-27017,NeoSQLite")
    parser.add_argument("--out", type=Path, default=Path("docs/benchmarks.md"))
    parser.add_argument("--chart", type=Path, default=Path("docs/benchmarks-throughput.png"))
    parser.add_argument("--json", type=Path, default=Path("bench/results/last-run.json"))
    parser.add_argument("--workdir", type=Path, default=None,
                        help="keep the servers' data here (default: a temporary directory, removed at the end)")
    parser.add_argument("--compression-runs", type=int, default=1,
                        help="runs (of the first ones) that also move the large file with each OP_COMPRESSED "
                             "compressor, on gridlite only (0: none)")
    parser.add_argument("--quick", action="store_true", help="tiny sizes, for checking the harness")
    args = parser.parse_args()
    if args.quick:
        args.large_mib, args.small_count, args.client_mib = 16, 100, 4
        args.bucket_files, args.rss_mib, args.lookup_repeats = 5000, 64, 6

    started = time.monotonic()
    multiprocessing.get_context("forkserver").set_forkserver_preload(["pymongo", "gridfs", "neosqlite"])
    workdir = Path(args.workdir or tempfile.mkdtemp(prefix="gridlite-bench-"))
    wanted = args.systems.split(",")
    all_systems = {
        "gridlite": lambda: Gridlite(workdir / "gridlite", args.gridlite.resolve()),
        "ceiling": lambda: Ceiling(workdir / "ceiling", args.ceiling.resolve()),
        "NX-27017": lambda: NX27017(workdir / "nx-27017"),
        "NeoSQLite": lambda: NeoSQLite(workdir / "neosqlite"),
    }
    names = [n for n in all_systems if n in wanted]
    config = {"compression_runs": args.compression_runs, "large_mib": args.large_mib, "small_count": args.small_count, "small_kib": args.small_kib,
              "clients": args.clients, "client_mib": args.client_mib, "bucket_files": args.bucket_files,
              "rss_mib": args.rss_mib, "runs": args.runs}

    log("generating content", started)
    large = os.urandom(args.large_mib * MiB)
    large_digest = hashlib.sha256(large).hexdigest()
    small = [os.urandom(args.small_kib * 1024) for _ in range(args.small_count)]
    small_digests = [hashlib.sha256(d).hexdigest() for d in small]
    text = workloads.compressible_content(args.large_mib * MiB)
    compression_contents = {"random": (large, large_digest), "text": (text, hashlib.sha256(text).hexdigest())}

    # Peak RSS through a 1 GiB upload and download, on a fresh daemon of its own.
    rss: dict = {}
    if "gridlite" in names:
        log(f"gridlite peak-RSS check: {args.rss_mib} MiB up and down", started)
        probe = Gridlite(workdir / "gridlite-rss", args.gridlite.resolve()).start()
        try:
            rss = workloads.rss_gigabyte(probe.spec, probe.pid, args.rss_mib * MiB, large[:8 * MiB])
        finally:
            probe.stop()
        log(f"  {rss}", started)

    systems = {n: all_systems[n]().start() for n in names}
    runs: list[dict] = [dict() for _ in range(args.runs)]
    builds: dict = {}
    try:
        for name, system in systems.items():
            log(f"building the {args.bucket_files:,}-file bucket on {name}", started)
            try:
                builds[name] = workloads.build_bucket(system.spec, "big", args.bucket_files)
                workloads.build_bucket(system.spec, "empty", workloads.TARGETS)
            except Exception as error:  # noqa: BLE001
                builds[name] = workloads._err(error)
            log(f"  {builds[name]}", started)
        for run in range(args.runs):
            order = names[run % len(names):] + names[:run % len(names)]
            for name in order:
                spec = systems[name].spec
                result: dict = {}
                result.update(workloads.large_file(spec, large, large_digest))
                if name == "gridlite" and run < args.compression_runs:
                    text_result = workloads.large_file(spec, text, compression_contents["text"][1])
                    result["z_none_text_up"] = text_result.get("large_up", "not run")
                    result["z_none_text_down"] = text_result.get("large_down", "not run")
                    result.update(workloads.compressed_large_files(spec, compression_contents))
                result.update(workloads.small_files(spec, small, small_digests))
                try:
                    result.update(workloads.concurrent(spec, args.clients, args.client_mib * MiB))
                except Exception as error:  # noqa: BLE001
                    for key in ("single_up", "single_down", "single_total", "conc_total"):
                        result[key] = workloads._err(error)
                if isinstance(builds.get(name), float):
                    found = workloads.lookups(spec, ["big", "empty"], args.lookup_repeats)
                    for (bucket, what), value in found.items():
                        result[f"{bucket}_{what}"] = value
                else:
                    for key in ("big_by_name", "big_prefix", "empty_by_name", "empty_prefix"):
                        result[key] = f"bucket build failed: {builds[name]}"
                runs[run][name] = result
                short = {k: (round(v, 1) if isinstance(v, float) else "ERR") for k, v in result.items()}
                log(f"run {run + 1}/{args.runs} {name}: {short}", started)
        peaks = {name: s.peak_rss_kib() for name, s in systems.items()}
    finally:
        for system in systems.values():
            system.stop()
        if args.workdir is None:
            shutil.rmtree(workdir, ignore_errors=True)

    elapsed = time.monotonic() - started
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps({"config": config, "runs": runs, "rss": rss, "peaks_kib": peaks,
                                     "builds": builds}, indent=1, default=str))
    args.chart.parent.mkdir(parents=True, exist_ok=True)
    report.chart(runs, names, args.chart)
    text = report.markdown(runs, names, rss, peaks, builds, machine_description(args.gridlite), config,
                           os.path.relpath(args.chart, args.out.parent), elapsed)
    args.out.write_text(text)
    log(f"wrote {args.out}, {args.chart} and {args.json}", started)
    print()
    print("\n".join(line for line in text.splitlines() if line.startswith("|")))
    return 0


if __name__ == "__main__":
    sys.exit(main())
