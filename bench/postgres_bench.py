"""The PostgreSQL engine against the SQLite engine, in one run, through the same pymongo GridFS code
as `make bench` (bench/workloads.py): one 256 MiB file up and down, 1,000 × 10 KiB files up and
down, and 8 clients (one 32 MiB file up and down each) on one PostgreSQL daemon vs two daemons on
the same database. Reports medians of N runs, the PostgreSQL/SQLite ratios and the load average
(the machine is shared, so ratios measured in the same run are what count).

    make bench-postgres            # or:
    IntegrationTests/postgres/pgcluster.sh run .venv/bin/python bench/postgres_bench.py \
        --gridlite "$(swift build -c release --show-bin-path)/gridlite"

pgcluster.sh starts its clusters with fsync=off (tests); `make bench-postgres` passes
PGCLUSTER_OPTS="-c fsync=on" so the measurement uses PostgreSQL's durable defaults (fsync on,
synchronous_commit on). The settings in force are printed with the results.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import multiprocessing
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "IntegrationTests" / "integration"))

import postgres_support  # noqa: E402
import workloads  # noqa: E402
from systems import drop_bucket  # noqa: E402

MiB = 1024 * 1024
LISTENING = re.compile(r"listening on (\S+):(\d+)")


class Daemon:
    """One gridlite process (SQLite in its own data directory, or on a PostgreSQL URL)."""

    def __init__(self, binary: str, workdir: Path, storage: str | None) -> None:
        self.workdir = workdir
        workdir.mkdir(parents=True, exist_ok=True)
        args = [binary, "serve", "--no-http", "--port", "0", "--data-dir", str(workdir / "data"), "--log-level", "info"]
        if storage:
            args += ["--storage", storage]
        self.log_path = workdir / "log"
        self.log = open(self.log_path, "wb")
        self.process = subprocess.Popen(args, stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while True:
            match = LISTENING.search(self.log_path.read_text(errors="replace"))
            if match:
                self.port = int(match.group(2))
                break
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"gridlite did not start: {self.log_path.read_text(errors='replace')}")
            time.sleep(0.05)

    @property
    def spec(self) -> dict:
        return {"kind": "wire", "uri": f"mongodb://127.0.0.1:{self.port}/"}

    def cpu_seconds(self) -> float:
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self.log.close()


def postgres_cpu_seconds() -> float:
    """CPU time of this run's cluster: its postmaster (from GRIDLITE_TEST_PGDIR/data/postmaster.pid)
    and the processes it started (backends, WAL writer, checkpointer), not other clusters'. Ended
    backends are counted through the postmaster's cumulative children time."""
    try:
        master = int(Path(os.environ["GRIDLITE_TEST_PGDIR"], "data", "postmaster.pid").read_text().split()[0])
    except (KeyError, OSError, ValueError, IndexError):
        return float("nan")
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        ppid = int(fields[1])
        if int(pid) == master:
            # own time plus waited-for children (backends that exited)
            total += (int(fields[11]) + int(fields[12]) + int(fields[13]) + int(fields[14])) / tick
        elif ppid == master:
            total += (int(fields[11]) + int(fields[12])) / tick
    return total


def two_daemon_clients(specs: list[dict], clients: int, size: int) -> dict:
    """`clients` processes, spread over `specs` round-robin, each uploading and downloading one file."""
    context = multiprocessing.get_context("forkserver")
    db = "conc"
    drop_bucket(specs[0], db)
    barrier = context.Barrier(clients + 1)
    queue = context.Queue()
    workers = [context.Process(target=workloads._client, args=(specs[i % len(specs)], db, i, size, barrier, queue))
               for i in range(clients)]
    for worker in workers:
        worker.start()
    barrier.wait(timeout=120)
    start = time.monotonic()
    reports = [queue.get(timeout=1800) for _ in workers]
    for worker in workers:
        worker.join(timeout=30)
    wall = max(end for _, end, _, _, _ in reports) - start
    errors = [e for *_, e in reports if e]
    drop_bucket(specs[0], db)
    if errors:
        return {"conc_total": f"{len(errors)} failed: {errors[0]}"}
    return {"conc_total": 2 * clients * size / MiB / wall, "conc_wall": wall}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--gridlite", required=True)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--large-mib", type=int, default=256)
    parser.add_argument("--small-count", type=int, default=1000)
    parser.add_argument("--small-kib", type=int, default=10)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--client-mib", type=int, default=32)
    parser.add_argument("--json", type=Path, default=Path("bench/results/postgres-last-run.json"))
    args = parser.parse_args()
    if postgres_support.base_url() is None:
        print("needs GRIDLITE_TEST_POSTGRES_URL (run through IntegrationTests/postgres/pgcluster.sh run ...)", file=sys.stderr)
        return 2
    settings = postgres_support.psql("SELECT string_agg(name || '=' || setting, ', ') FROM pg_settings WHERE name IN "
                                     "('fsync', 'synchronous_commit', 'wal_level', 'shared_buffers', 'max_wal_size')").strip()
    large = os.urandom(args.large_mib * MiB)
    large_digest = hashlib.sha256(large).hexdigest()
    small = [os.urandom(args.small_kib * 1024) for _ in range(args.small_count)]
    small_digests = [hashlib.sha256(f).hexdigest() for f in small]
    results: dict[str, list[dict]] = {"sqlite": [], "postgresql": [], "pg-1-daemon-8-clients": [], "pg-2-daemons-8-clients": []}
    loads: list[str] = []
    with tempfile.TemporaryDirectory(prefix="gridlite-pgbench-") as tmp:
        for run in range(args.runs):
            for engine in ("sqlite", "postgresql"):
                storage = postgres_support.fresh_database_url("bench") if engine == "postgresql" else None
                d = Daemon(args.gridlite, Path(tmp) / f"{engine}-{run}", storage)
                try:
                    cpu_before, pg_before = d.cpu_seconds(), postgres_cpu_seconds()
                    row = workloads.large_file(d.spec, large, large_digest)
                    row.update(workloads.small_files(d.spec, small, small_digests))
                    row["daemon_cpu_s"] = d.cpu_seconds() - cpu_before
                    row["postgres_cpu_s"] = postgres_cpu_seconds() - pg_before
                    results[engine].append(row)
                finally:
                    d.stop()
                print(f"run {run + 1} {engine}: {json.dumps(row)}  load {os.getloadavg()}", flush=True)
            url = postgres_support.fresh_database_url("bench")
            a = Daemon(args.gridlite, Path(tmp) / f"pg-a-{run}", url)
            b = Daemon(args.gridlite, Path(tmp) / f"pg-b-{run}", url)
            try:
                for label, specs, daemons in (("pg-1-daemon-8-clients", [a.spec], [a]),
                                              ("pg-2-daemons-8-clients", [a.spec, b.spec], [a, b])):
                    cpu_before = [x.cpu_seconds() for x in daemons]
                    pg_before = postgres_cpu_seconds()
                    row = two_daemon_clients(specs, args.clients, args.client_mib * MiB)
                    row["daemon_cpu_s"] = sum(x.cpu_seconds() - c for x, c in zip(daemons, cpu_before))
                    row["postgres_cpu_s"] = postgres_cpu_seconds() - pg_before
                    results[label].append(row)
                    print(f"run {run + 1} {label}: {json.dumps(row)}  load {os.getloadavg()}", flush=True)
            finally:
                a.stop()
                b.stop()
            loads.append("%.1f %.1f %.1f" % os.getloadavg())

    def median(engine: str, key: str) -> float | None:
        values = [r[key] for r in results[engine] if isinstance(r.get(key), float)]
        return statistics.median(values) if values else None

    lines = [f"PostgreSQL settings: {settings}", f"load average after each run: {'; '.join(loads)}", "",
             "| workload | SQLite engine | PostgreSQL engine | PostgreSQL / SQLite |", "|---|---|---|---|"]
    for key, label, unit in (("large_up", f"{args.large_mib} MiB upload", "MiB/s"),
                             ("large_down", f"{args.large_mib} MiB download", "MiB/s"),
                             ("small_up", f"{args.small_count} × {args.small_kib} KiB upload", "files/s"),
                             ("small_down", f"{args.small_count} × {args.small_kib} KiB download", "files/s")):
        s, p = median("sqlite", key), median("postgresql", key)
        ratio = f"{p / s:.2f}×" if s and p else "n/a"
        lines.append(f"| {label} | {s or 0:,.1f} {unit} | {p or 0:,.1f} {unit} | {ratio} |")
    one, two = median("pg-1-daemon-8-clients", "conc_total"), median("pg-2-daemons-8-clients", "conc_total")
    lines += ["", "| 8 clients × 32 MiB up+down, one PostgreSQL database | aggregate MiB/s | daemon CPU s | postgres CPU s |",
              "|---|---|---|---|"]
    for label, value in (("1 daemon", "pg-1-daemon-8-clients"), ("2 daemons", "pg-2-daemons-8-clients")):
        lines.append(f"| {label} | {median(value, 'conc_total') or 0:,.1f} | {median(value, 'daemon_cpu_s') or 0:.1f} | "
                     f"{median(value, 'postgres_cpu_s') or 0:.1f} |")
    if one and two:
        lines.append(f"\ntwo daemons / one daemon: {two / one:.2f}×")
    for engine in ("sqlite", "postgresql"):
        lines.append(f"{engine}: daemon CPU {median(engine, 'daemon_cpu_s') or 0:.1f} s, "
                     f"postgres CPU {median(engine, 'postgres_cpu_s') or 0:.1f} s per run (large + small workloads)")
    print("\n".join(lines))
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps({"results": results, "loads": loads, "settings": settings, "summary": lines}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
