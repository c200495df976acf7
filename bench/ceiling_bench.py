"""`make bench`, part 2: gridlite against the in-memory ceiling on the download-side targets of issue 16,
with the daemon's CPU, context switches and peak RSS per workload read from /proc, a libmongoc (C) 1 GiB
round trip against both servers, and the machine's own limits (durable sequential write, loopback TCP)
measured in the same run. Writes docs/benchmarks-downloads.md and bench/results/downloads-last-run.json.

Usage: python bench/ceiling_bench.py --gridlite BIN --ceiling BIN [--runs 3] [--profile] [--quick]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import multiprocessing
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from systems import Ceiling, Gridlite, drop_bucket, open_bucket  # noqa: E402
import workloads  # noqa: E402

MiB = 1024 * 1024
ROOT = Path(__file__).resolve().parents[1]


# --- /proc ------------------------------------------------------------------------------------------

def proc_counters(pid: int) -> dict:
    """CPU seconds (user + system, all threads) and context switches (summed over live threads)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    tick = os.sysconf("SC_CLK_TCK")
    cpu = (int(fields[11]) + int(fields[12])) / tick
    switches = 0
    for task in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{task}/status") as status:
                for line in status:
                    if line.startswith(("voluntary_ctxt_switches", "nonvoluntary_ctxt_switches")):
                        switches += int(line.split()[1])
        except OSError:
            pass
    return {"cpu": cpu, "switches": switches}


def reset_peak_rss(pid: int) -> None:
    try:
        with open(f"/proc/{pid}/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        pass


def peak_rss_mib(pid: int) -> float:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return float("nan")


class Measured:
    """Daemon CPU, context switches and peak RSS over a `with` block."""

    def __init__(self, pid: int) -> None:
        self.pid = pid

    def __enter__(self) -> "Measured":
        reset_peak_rss(self.pid)
        self.before = proc_counters(self.pid)
        self.started = time.monotonic()
        return self

    def __exit__(self, *exc) -> None:
        self.wall = time.monotonic() - self.started
        after = proc_counters(self.pid)
        self.cpu = after["cpu"] - self.before["cpu"]
        self.switches = after["switches"] - self.before["switches"]
        self.peak = peak_rss_mib(self.pid)


from pymongo import monitoring  # noqa: E402


class CommandCounter(monitoring.CommandListener):
    """Counts the commands a pymongo client sends (requests, for context switches per request)."""

    def __init__(self) -> None:
        self.count = 0

    def started(self, event) -> None:
        self.count += 1

    def succeeded(self, event) -> None:
        pass

    def failed(self, event) -> None:
        pass


# --- workloads -----------------------------------------------------------------------------------------

def large_download(uri: str, pid: int, file_id, size: int, digest: str) -> dict:
    from pymongo import MongoClient
    import gridfs
    with MongoClient(uri) as client:
        bucket = gridfs.GridFSBucket(client.bench, bucket_name="large16")
        bucket.open_download_stream(file_id).read(MiB)  # connection and plan warm
        with Measured(pid) as m:
            out = bucket.open_download_stream(file_id).read()
    if hashlib.sha256(out).hexdigest() != digest:
        raise ValueError("256 MiB download differs (SHA-256)")
    return {"large_down": size / MiB / m.wall, "large_cpu_per_gib": m.cpu / (size / (1024 * MiB)),
            "large_peak": m.peak}


def _downloader(uri: str, file_id, digest: str, barrier, queue) -> None:
    from pymongo import MongoClient
    import gridfs
    error = None
    with MongoClient(uri) as client:
        bucket = gridfs.GridFSBucket(client.bench, bucket_name="conc16")
        bucket.open_download_stream(file_id).read(1024)
        barrier.wait()
        try:
            out = bucket.open_download_stream(file_id).read()
            if hashlib.sha256(out).hexdigest() != digest:
                error = "content differs"
        except Exception as e:  # noqa: BLE001
            error = f"{type(e).__name__}: {e}"
    queue.put((time.monotonic(), error))


def concurrent_download(uri: str, pid: int, files: list, size: int) -> dict:
    context = multiprocessing.get_context("forkserver")
    barrier = context.Barrier(len(files) + 1)
    queue = context.Queue()
    workers = [context.Process(target=_downloader, args=(uri, fid, digest, barrier, queue)) for fid, digest in files]
    for w in workers:
        w.start()
    barrier.wait(timeout=300)
    with Measured(pid) as m:
        start = time.monotonic()
        reports = [queue.get(timeout=900) for _ in workers]
    for w in workers:
        w.join(timeout=30)
    errors = [e for _, e in reports if e]
    if errors:
        raise ValueError(f"{len(errors)} concurrent downloads failed: {errors[0]}")
    wall = max(end for end, _ in reports) - start
    return {"conc_down": len(files) * size / MiB / wall, "conc_peak": m.peak,
            "conc_cpu_per_gib": m.cpu / (len(files) * size / (1024 * MiB))}


def small_files(uri: str, pid: int, files: list[bytes]) -> dict:
    from pymongo import MongoClient
    import gridfs
    counter = CommandCounter()
    result = {}
    drop_bucket({"kind": "wire", "uri": uri}, "small16")
    with MongoClient(uri, event_listeners=[counter]) as client:
        bucket = gridfs.GridFSBucket(client.bench, bucket_name="small16")
        for phase in ("up", "down", "find"):
            counter.count = 0
            with Measured(pid) as m:
                if phase == "up":
                    ids = [bucket.upload_from_stream(f"small-{i:05d}", data) for i, data in enumerate(files)]
                elif phase == "down":
                    outs = [bucket.open_download_stream(i).read() for i in ids]
                else:
                    listed = [f.filename for f in bucket.find({})]
            result[f"small_{phase}"] = len(files) / m.wall
            result[f"small_{phase}_switches_per_request"] = m.switches / max(1, counter.count)
            result[f"small_{phase}_cpu_us_per_request"] = m.cpu * 1e6 / max(1, counter.count)
        if outs != files or len(listed) != len(files):
            raise ValueError("small files: downloaded content or listing differs")
    drop_bucket({"kind": "wire", "uri": uri}, "small16")
    return result


def build_c_client(workdir: Path) -> Path:
    """bench/c/gridfs_bench.c compiled into `workdir` (libmongoc's GridFS bucket API; also tls_bench.py)."""
    binary = workdir / "gridfs_bench"
    cflags = subprocess.run(["pkg-config", "--cflags", "--libs", "libmongoc-1.0", "libcrypto"],
                            capture_output=True, text=True, check=True).stdout.split()
    subprocess.run([os.environ.get("CC", "cc"), "-O2", "-std=gnu11", "-o", str(binary),
                    str(ROOT / "bench" / "c" / "gridfs_bench.c"), *cflags], check=True)
    return binary


def c_roundtrip(binary: Path, uri: str, mib: int) -> dict:
    # Dirty pages left by the workloads before (hundreds of MiB) would otherwise be written back
    # during this upload on one server and not the other: every 1 GiB round trip starts clean.
    os.sync()
    out = subprocess.run([str(binary), "gridfs", uri, str(mib)], capture_output=True, text=True, timeout=1800)
    if out.returncode != 0:
        raise RuntimeError(f"gridfs_bench failed: {out.stderr.strip()[-300:]}")
    found = json.loads(out.stdout)
    if not found.get("sha256_ok"):
        raise ValueError("libmongoc round trip: SHA-256 differs")
    return {"c_up": found["up_mibs"], "c_down": found["down_mibs"]}


def machine_limits(binary: Path, workdir: Path, mib: int) -> dict:
    target = workdir / "dd.bin"
    os.sync()
    out = subprocess.run(["dd", "if=/dev/zero", f"of={target}", "bs=1M", f"count={mib}", "conv=fsync"],
                         capture_output=True, text=True)
    target.unlink(missing_ok=True)
    match = re.search(r"copied, ([\d.]+) s", out.stderr)
    durable = mib / float(match.group(1)) if match else float("nan")
    loop = subprocess.run([str(binary), "loopback", str(mib)], capture_output=True, text=True, timeout=600)
    return {"durable_write": durable, "loopback": json.loads(loop.stdout)["mibs"]}


def profile(pid: int, seconds_hint: str, run, out: Path) -> list[str]:
    """Samples the daemon with `perf record` while `run()` runs; returns the top self-time symbols."""
    data = out.with_suffix(".perf")
    recorder = subprocess.Popen(["perf", "record", "-F", "499", "-g", "-p", str(pid), "-o", str(data)],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(0.3)
    try:
        run()
    finally:
        recorder.send_signal(2)
        recorder.wait(timeout=60)
    report = subprocess.run(["perf", "report", "-i", str(data), "--stdio", "--no-children", "--percent-limit", "2",
                             "--sort", "dso,symbol", "-g", "none"], capture_output=True, text=True)
    lines = [line.strip() for line in report.stdout.splitlines() if line.strip() and not line.startswith("#")]
    data.unlink(missing_ok=True)
    return lines[:12]


# --- report -------------------------------------------------------------------------------------------

def med(values: list) -> float:
    numbers = [v for v in values if isinstance(v, (int, float))]
    return statistics.median(numbers) if numbers else float("nan")


def spread(values: list) -> str:
    numbers = [v for v in values if isinstance(v, (int, float))]
    return f"{min(numbers):.0f}–{max(numbers):.0f}" if numbers else "n/a"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--gridlite", type=Path, required=True)
    parser.add_argument("--ceiling", type=Path, required=True)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--large-mib", type=int, default=256)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--client-mib", type=int, default=32)
    parser.add_argument("--small-count", type=int, default=1000)
    parser.add_argument("--small-kib", type=int, default=10)
    parser.add_argument("--c-mib", type=int, default=1024)
    parser.add_argument("--rss-mib", type=int, default=1024)
    parser.add_argument("--profile", action="store_true", help="also sample each gridlite workload with perf")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "benchmarks-downloads.md")
    parser.add_argument("--json", type=Path, default=ROOT / "bench" / "results" / "downloads-last-run.json")
    parser.add_argument("--label", default="", help="a name for this binary in the report (e.g. 'before')")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--only", default="large,conc,small,c",
                        help="comma-separated workloads to run (large, conc, small, c; e.g. --only small while "
                             "iterating); the peak-RSS probe runs only with all four")
    args = parser.parse_args()
    if args.quick:
        args.large_mib, args.client_mib, args.small_count, args.c_mib, args.rss_mib = 32, 4, 100, 64, 64

    multiprocessing.get_context("forkserver").set_forkserver_preload(["pymongo", "gridfs"])
    workdir = Path(tempfile.mkdtemp(prefix="gridlite-bench16-"))
    c_binary = build_c_client(workdir)
    load_before = os.getloadavg()
    started = time.monotonic()
    large = os.urandom(args.large_mib * MiB)
    large_digest = hashlib.sha256(large).hexdigest()
    small = [os.urandom(args.small_kib * 1024) for _ in range(args.small_count)]
    client_files = [os.urandom(args.client_mib * MiB) for _ in range(args.clients)]

    results: dict = {"gridlite": [], "ceiling": []}
    machine: list[dict] = []
    profiles: dict = {}
    rss: dict = {}
    systems = {"gridlite": Gridlite(workdir / "gridlite", args.gridlite.resolve()).start(),
               "ceiling": Ceiling(workdir / "ceiling", args.ceiling.resolve()).start()}
    try:
        prepared = {}
        only = set(args.only.split(","))
        for name, system in systems.items():
            if not only & {"large", "conc"}:
                break
            import gridfs
            from pymongo import MongoClient
            with MongoClient(system.spec["uri"]) as client:
                large_id = gridfs.GridFSBucket(client.bench, bucket_name="large16").upload_from_stream("large", large)
                conc = gridfs.GridFSBucket(client.bench, bucket_name="conc16")
                files = [(conc.upload_from_stream(f"c{i}", data), hashlib.sha256(data).hexdigest())
                         for i, data in enumerate(client_files)]
            prepared[name] = (large_id, files)
        for run in range(args.runs):
            machine.append(machine_limits(c_binary, workdir, args.c_mib))
            order = list(systems) if run % 2 == 0 else list(reversed(systems))
            for name in order:
                system = systems[name]
                uri, pid = system.spec["uri"], system.pid
                row: dict = {}
                for label, work in (
                    ("large", lambda: large_download(uri, pid, prepared[name][0], len(large), large_digest)),
                    ("conc", lambda: concurrent_download(uri, pid, prepared[name][1], args.client_mib * MiB)),
                    ("small", lambda: small_files(uri, pid, small)),
                    ("c", lambda: c_roundtrip(c_binary, uri, args.c_mib)),
                ):
                    if label not in args.only.split(","):
                        continue
                    try:
                        row.update(work())
                    except Exception as error:  # noqa: BLE001
                        row[f"{label}_error"] = f"{type(error).__name__}: {error}"[:200]
                results[name].append(row)
                print(f"[bench16 {time.monotonic() - started:6.1f}s] run {run + 1} {name}: "
                      + ", ".join(f"{k}={v:.1f}" if isinstance(v, float) else f"{k}={v}" for k, v in row.items()),
                      flush=True)
        if args.profile:
            g = systems["gridlite"]
            uri, pid = g.spec["uri"], g.pid
            for label, work in (
                ("256 MiB download", lambda: large_download(uri, pid, prepared["gridlite"][0], len(large), large_digest)),
                (f"{args.clients} × {args.client_mib} MiB downloads",
                 lambda: concurrent_download(uri, pid, prepared["gridlite"][1], args.client_mib * MiB)),
                ("small files up/down/list", lambda: small_files(uri, pid, small)),
                ("libmongoc 1 GiB up + down", lambda: c_roundtrip(c_binary, uri, args.c_mib)),
            ):
                profiles[label] = profile(pid, label, work, workdir / "profile")
    finally:
        for system in systems.values():
            system.stop()
    # Peak RSS through 1 GiB up and down, on a fresh daemon of its own.
    if set(args.only.split(",")) >= {"large", "conc", "small", "c"}:
        probe = Gridlite(workdir / "gridlite-rss", args.gridlite.resolve()).start()
        try:
            rss = workloads.rss_gigabyte(probe.spec, probe.pid, args.rss_mib * MiB, large[:8 * MiB])
        finally:
            probe.stop()
    shutil.rmtree(workdir, ignore_errors=True)
    load_after = os.getloadavg()

    g, c = results["gridlite"], results["ceiling"]

    def ratio(key: str) -> list:
        return [a[key] / b[key] for a, b in zip(g, c) if isinstance(a.get(key), float) and isinstance(b.get(key), float)]

    rows = []
    targets = [
        ("256 MiB download (MiB/s)", "large_down", 0.90),
        (f"{args.clients} × {args.client_mib} MiB concurrent downloads, aggregate (MiB/s)", "conc_down", 0.90),
        (f"{args.small_count:,} × {args.small_kib} KiB downloads (files/s)", "small_down", 0.85),
        (f"{args.small_count:,} × {args.small_kib} KiB uploads (files/s)", "small_up", 0.85),
        (f"{args.small_count:,} × {args.small_kib} KiB find({{}}) listing (files/s)", "small_find", 0.95),
    ]
    for title, key, goal in targets:
        r = ratio(key)
        verdict = "met" if r and med(r) >= goal else "not met"
        rows.append(f"| {title} | {med([x.get(key) for x in g]):.1f} ({spread([x.get(key) for x in g])}) | "
                    f"{med([x.get(key) for x in c]):.1f} ({spread([x.get(key) for x in c])}) | "
                    f"×{med(r):.2f} (≥ {goal:.2f}: {verdict}) |")
    detail = []
    for title, key, unit in (
        ("daemon CPU per downloaded GiB, 256 MiB file", "large_cpu_per_gib", "s"),
        ("daemon CPU per downloaded GiB, concurrent", "conc_cpu_per_gib", "s"),
        ("peak RSS during the 256 MiB download", "large_peak", "MiB"),
        (f"peak RSS during {args.clients} concurrent downloads", "conc_peak", "MiB"),
        ("context switches per request, small downloads", "small_down_switches_per_request", ""),
        ("context switches per request, small uploads", "small_up_switches_per_request", ""),
        ("daemon CPU per request, small downloads", "small_down_cpu_us_per_request", "µs"),
        ("daemon CPU per request, small uploads", "small_up_cpu_us_per_request", "µs"),
        ("libmongoc 1 GiB upload (MiB/s)", "c_up", ""),
        ("libmongoc 1 GiB download (MiB/s)", "c_down", ""),
    ):
        detail.append(f"| {title} | {med([x.get(key) for x in g]):.2f} {unit} | {med([x.get(key) for x in c]):.2f} {unit} |")
    durable = med([m["durable_write"] for m in machine])
    loopback = med([m["loopback"] for m in machine])
    c_up = med([x.get("c_up") for x in g])
    c_down_ratio = med(ratio("c_down"))
    errors = [f"- {name} run {i + 1}: {k} = {v}" for name in results for i, row in enumerate(results[name])
              for k, v in row.items() if k.endswith("_error")]
    lines = [
        "# Downloads against the ceiling (issue 16)",
        "",
        "Generated by `make bench` (bench/ceiling_bench.py); do not edit by hand — rerun instead.",
        "",
        f"gridlite {args.label or args.gridlite} against the in-memory ceiling (Sources/gridlite-ceiling), "
        f"{args.runs} runs, systems alternating; median (min–max). pymongo 4.20 GridFSBucket unless noted. "
        f"Load average before {load_before[0]:.1f}, after {load_after[0]:.1f} on {os.cpu_count()} cores: "
        "absolute numbers swing with the other work on the machine, the ratios are what to compare.",
        "",
        "| workload | gridlite | ceiling | gridlite / ceiling |",
        "| --- | ---: | ---: | ---: |",
        *rows,
        "",
        "| measure (from /proc) | gridlite | ceiling |",
        "| --- | ---: | ---: |",
        *detail,
        "",
        f"- Daemon peak RSS through {args.rss_mib} MiB up and down (fresh daemon): "
        f"{rss.get('rss_peak_mib', float('nan')):.0f} MiB (target ≤ 150; content verified: {rss.get('rss_verified')}).",
        f"- Machine, same run: durable sequential write (`dd bs=1M conv=fsync`) {durable:.0f} MiB/s; "
        f"loopback TCP (C, 1 MiB sends) {loopback:.0f} MiB/s.",
        f"- libmongoc (bench/c/gridfs_bench.c, {args.c_mib} MiB, SHA-256 checked outside the timed parts): "
        f"upload {c_up:.0f} MiB/s = ×{c_up / durable:.2f} of the durable write speed (target ≥ 0.6); "
        f"download ×{c_down_ratio:.2f} of the ceiling's (target ≥ 0.6).",
        *(["", "Errors:", *errors] if errors else []),
    ]
    if profiles:
        lines += ["", "## Profiles (gridlite, `perf record -F 499`, self time by library and symbol, ≥ 2 %)", ""]
        for label, top in profiles.items():
            lines += [f"**{label}**", "", "```", *top, "```", ""]
    text = "\n".join(lines) + "\n"
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps({"results": results, "machine": machine, "rss": rss, "profiles": profiles,
                                     "load": [load_before, load_after], "label": args.label}, indent=1, default=str))
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
