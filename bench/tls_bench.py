"""`make bench-tls`: what TLS costs, as ratios against plain measured in the same run on the same
daemon (`--tlsMode allowTLS` serves both on one port).

- throughput: a 256 MiB GridFS upload and download with pymongo, plain and TLS, alternating; the
  same with libmongoc (bench/c/gridfs_bench.c), whose TLS is OpenSSL in C (pymongo's is bounded by
  Python's ssl reading, see the socket anchor row);
- connection rate: new TCP connections that each do one `hello` and close (plain), and the same
  with a full TLS handshake first (TLS), for a fixed time each, alternating;
- handshake matrix (issue 11): what a driver's new pooled connection costs — `hello` + `ping`, or
  with `--auth` pymongo's one-round-trip login (`speculativeAuthenticate` + one `saslContinue`) —
  plain and over TLS, against a second daemon started with `--auth --tlsMode allowTLS`
  (bench/auth_handshake.py's client; connections per second, 4 client threads, interleaved).

Certificates are made at run time with openssl (IntegrationTests/integration/tls_support.py).
Prints a Markdown table with the load average; writes bench/results/tls.json.

Usage: python bench/tls_bench.py --gridlite BIN [--mib 256] [--runs 3] [--seconds 5]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import socket
import ssl
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import bson
import gridfs
from pymongo import MongoClient

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "IntegrationTests" / "integration"))
from tls_support import make_pki  # noqa: E402

sys.path.insert(0, str(ROOT / "bench"))
import auth_handshake  # noqa: E402
from ceiling_bench import build_c_client, c_roundtrip  # noqa: E402

MiB = 1024 * 1024


def hello_message(request_id: int) -> bytes:
    body = bson.encode({"hello": 1, "$db": "admin"})
    payload = (0).to_bytes(4, "little") + b"\x00" + body
    return ((16 + len(payload)).to_bytes(4, "little") + request_id.to_bytes(4, "little")
            + (0).to_bytes(4, "little") + (2013).to_bytes(4, "little") + payload)


def read_reply(sock) -> None:
    header = b""
    while len(header) < 4:
        chunk = sock.recv(4 - len(header))
        if not chunk:
            raise ConnectionError("closed")
        header += chunk
    remaining = int.from_bytes(header, "little") - 4
    while remaining > 0:
        chunk = sock.recv(remaining)
        if not chunk:
            raise ConnectionError("closed")
        remaining -= len(chunk)


def connection_rate(port: int, context: ssl.SSLContext | None, seconds: float) -> float:
    """Connections per second, each: connect, (TLS handshake), hello, reply, close."""
    message = hello_message(1)
    count = 0
    deadline = time.perf_counter() + seconds
    began = time.perf_counter()
    while time.perf_counter() < deadline:
        raw = socket.create_connection(("127.0.0.1", port), timeout=10)
        raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock = context.wrap_socket(raw, server_hostname="localhost") if context else raw
        sock.sendall(message)
        read_reply(sock)
        sock.close()
        count += 1
    return count / (time.perf_counter() - began)


def daemon_cpu(pid: int) -> float:
    """CPU seconds (user + system, all threads) of process `pid`."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


CPU: dict[str, list[float]] = {}


def throughput(client: MongoClient, data: bytes, name: str, pid: int | None = None, kind: str = "") -> tuple[float, float]:
    """(upload MiB/s, download MiB/s) of one GridFS file. With `pid` and `kind`, also records the
    download's client CPU and daemon CPU as fractions of its wall time (CPU[kind + "_client"|"_daemon"])."""
    db = client["tls_bench"]
    bucket = gridfs.GridFSBucket(db)
    started = time.perf_counter()
    file_id = bucket.upload_from_stream(name, data)
    upload = time.perf_counter() - started
    client_before = time.process_time()
    daemon_before = daemon_cpu(pid) if pid else 0.0
    started = time.perf_counter()
    stream = bucket.open_download_stream(file_id)
    size = 0
    while chunk := stream.read(8 * MiB):
        size += len(chunk)
    download = time.perf_counter() - started
    if pid and kind:
        CPU.setdefault(f"{kind}_client", []).append((time.process_time() - client_before) / download)
        CPU.setdefault(f"{kind}_daemon", []).append((daemon_cpu(pid) - daemon_before) / download)
    assert size == len(data)
    bucket.delete(file_id)
    return len(data) / MiB / upload, len(data) / MiB / download


def _anchor_sender(port: int, certfile: str | None, size: int, ready) -> None:
    """The sending side of the socket anchor: accepts one connection and sends `size` bytes in 8 MiB
    `sendall`s (TLS through Python's ssl module, i.e. OpenSSL, when `certfile` is given)."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", port))
    listener.listen(1)
    ready.set()
    conn, _ = listener.accept()
    if certfile:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(certfile)
        conn = context.wrap_socket(conn, server_side=True)
    block = os.urandom(8 * MiB)
    sent = 0
    while sent < size:
        conn.sendall(block)
        sent += len(block)
    conn.recv(1)
    conn.close()


def socket_anchor(size: int, certfile: str | None, cafile: str | None) -> float:
    """MiB/s a Python client receives over loopback, reading as pymongo reads a reply (`recv_into` a
    preallocated buffer until it is full), from a sender that does nothing else: the most a pymongo
    download can reach on this machine, plain or over TLS."""
    import multiprocessing
    spawn = multiprocessing.get_context("spawn")
    ready = spawn.Event()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    sender = spawn.Process(target=_anchor_sender, args=(port, certfile, size, ready))
    sender.start()
    ready.wait(10)
    sock = socket.create_connection(("127.0.0.1", port))
    if cafile:
        sock = ssl.create_default_context(cafile=cafile).wrap_socket(sock, server_hostname="localhost")
    buffer = bytearray(8 * MiB)
    view = memoryview(buffer)
    got = 0
    started = time.perf_counter()
    while got < size:
        filled = 0
        while filled < len(buffer):
            n = sock.recv_into(view[filled:])
            if not n:
                raise ConnectionError("anchor sender closed early")
            filled += n
        got += filled
    elapsed = time.perf_counter() - started
    sock.sendall(b"x")
    sock.close()
    sender.join(30)
    return size / MiB / elapsed


def handshake_matrix(binary: str, work: Path, pki, plain_port: int, context: ssl.SSLContext, runs: int,
                     seconds: float, threads: int = 4) -> dict[str, list[float]]:
    """Connections per second of a pooled-connection handshake: {plain, TLS} x {no auth, SCRAM-SHA-256}.
    No auth runs against the first daemon (allowTLS); auth against a second one with --auth (allowTLS)."""
    secured_dir = work / "auth"
    secured_dir.mkdir()
    secured, port = auth_handshake.start(binary, str(secured_dir), "--auth", "--tlsMode", "allowTLS",
                                         "--tlsCertificateKeyFile", pki.server)
    try:
        with MongoClient("127.0.0.1", port) as anonymous:  # the localhost exception: the first user
            anonymous.admin.command("createUser", auth_handshake.USER, pwd=auth_handshake.PASSWORD, roles=["root"])
        cells = {"plain": (plain_port, False, None), "plain+auth": (port, True, None),
                 "tls": (plain_port, False, context), "tls+auth": (port, True, context)}
        out: dict[str, list[float]] = {k: [] for k in cells}
        for run in range(runs):
            names = list(cells) if run % 2 == 0 else list(reversed(cells))
            for name in names:
                p, auth, ctx = cells[name]
                out[name].append(auth_handshake.rate(p, auth, seconds, threads, ctx))
        return out
    finally:
        secured.terminate()
        try:
            secured.wait(timeout=15)
        except subprocess.TimeoutExpired:
            secured.kill()


def print_matrix(matrix: dict[str, list[float]]) -> None:
    """The 2 x 2 handshake table: medians and ratios against plain without auth."""
    med = {k: statistics.median(v) for k, v in matrix.items()}
    print("Handshake of a new pooled connection (hello + ping; with auth: speculative SCRAM-SHA-256 + one saslContinue), "
          "connections/s, 4 client threads, median of runs:")
    print()
    print("| | no auth | SCRAM-SHA-256 | auth / no auth |")
    print("| --- | ---: | ---: | ---: |")
    for transport, label in (("plain", "plain"), ("tls", "TLS")):
        a, b = med[transport], med[f"{transport}+auth"]
        print(f"| {label} | {a:.0f} | {b:.0f} | {b / a:.2f}× |")
    print(f"| TLS / plain | {med['tls'] / med['plain']:.2f}× | {med['tls+auth'] / med['plain+auth']:.2f}× | |")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--gridlite", required=True)
    parser.add_argument("--mib", type=int, default=256)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=5.0)
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="gridlite-tls-bench-"))
    process = None
    try:
        pki = make_pki(work / "pki")
        log = work / "gridlite.log"
        with open(log, "wb") as out:
            process = subprocess.Popen(
                [args.gridlite, "serve", "--no-http", "--port", "0", "--data-dir", str(work / "data"), "--log-level", "info",
                 "--tlsMode", "allowTLS", "--tlsCertificateKeyFile", pki.server],
                stdout=out, stderr=subprocess.STDOUT)
        port = 0
        for _ in range(600):
            match = re.search(r"listening on \S+:(\d+)", log.read_text(errors="replace"))
            if match:
                port = int(match.group(1))
                break
            time.sleep(0.05)
        if not port:
            print(log.read_text(), file=sys.stderr)
            return 1

        load_before = os.getloadavg()
        data = os.urandom(args.mib * MiB)
        context = ssl.create_default_context(cafile=pki.ca)
        results: dict[str, list[float]] = {k: [] for k in (
            "plain_up", "plain_down", "tls_up", "tls_down", "plain_conn", "tls_conn", "plain_anchor", "tls_anchor")}
        uri = f"mongodb://127.0.0.1:{port}/"
        with MongoClient(uri, serverSelectionTimeoutMS=10000) as plain, \
                MongoClient(uri, tls=True, tlsCAFile=pki.ca, serverSelectionTimeoutMS=10000) as secure:
            throughput(plain, data[: 8 * MiB], "warm-plain")
            throughput(secure, data[: 8 * MiB], "warm-tls")
            for run in range(args.runs):
                for kind, client in (("plain", plain), ("tls", secure)) if run % 2 == 0 else \
                        (("tls", secure), ("plain", plain)):
                    up, down = throughput(client, data, f"{kind}-{run}", process.pid, kind)
                    results[f"{kind}_up"].append(up)
                    results[f"{kind}_down"].append(down)
        for run in range(args.runs):
            for kind, cert, ca in (("plain", None, None), ("tls", pki.server, pki.ca)):
                results[f"{kind}_anchor"].append(socket_anchor(args.mib * MiB, cert, ca))
        for run in range(args.runs):
            order = (("plain", None), ("tls", context)) if run % 2 == 0 else (("tls", context), ("plain", None))
            for kind, ctx in order:
                results[f"{kind}_conn"].append(connection_rate(port, ctx, args.seconds))
        # The C driver, plain and TLS alternating: a client whose TLS reading is not Python's.
        c_binary = build_c_client(work)
        for key in ("plain_c_up", "plain_c_down", "tls_c_up", "tls_c_down"):
            results[key] = []
        for run in range(args.runs):
            order = (("plain", uri), ("tls", f"{uri}?tls=true&tlsCAFile={pki.ca}"))
            for kind, target in (order if run % 2 == 0 else tuple(reversed(order))):
                found = c_roundtrip(c_binary, target, args.mib)  # SHA-256 checked
                results[f"{kind}_c_up"].append(found["c_up"])
                results[f"{kind}_c_down"].append(found["c_down"])
        matrix = handshake_matrix(args.gridlite, work, pki, port, context, args.runs, args.seconds)
        load_after = os.getloadavg()

        med = {k: statistics.median(v) for k, v in results.items()}
        rows = [
            ("upload (MiB/s)", med["plain_up"], med["tls_up"]),
            ("download (MiB/s)", med["plain_down"], med["tls_down"]),
            ("libmongoc upload (MiB/s)", med["plain_c_up"], med["tls_c_up"]),
            ("libmongoc download (MiB/s)", med["plain_c_down"], med["tls_c_down"]),
            ("connections/s (connect + hello + close)", med["plain_conn"], med["tls_conn"]),
            ("socket anchor: Python recv_into from a bare sender (MiB/s)", med["plain_anchor"], med["tls_anchor"]),
            ("download: pymongo client CPU / wall", statistics.median(CPU["plain_client"]), statistics.median(CPU["tls_client"])),
            ("download: daemon CPU / wall", statistics.median(CPU["plain_daemon"]), statistics.median(CPU["tls_daemon"])),
        ]
        print(f"gridlite TLS bench: {args.mib} MiB file, {args.runs} runs (median), binary {args.gridlite}")
        print(f"load average before {load_before[0]:.1f} {load_before[1]:.1f} {load_before[2]:.1f}, "
              f"after {load_after[0]:.1f} {load_after[1]:.1f} {load_after[2]:.1f} ({os.cpu_count()} cores)")
        print()
        print("| measure | plain | TLS | TLS / plain |")
        print("| --- | ---: | ---: | ---: |")
        for name, p, t in rows:
            print(f"| {name} | {p:.2f} | {t:.2f} | {(f'{t / p:.2f}×') if p else 'n/a'} |")
        print()
        print(f"TLS download / TLS socket anchor: {med['tls_down'] / med['tls_anchor']:.2f}×; "
              f"plain download / plain socket anchor: {med['plain_down'] / med['plain_anchor']:.2f}×")
        print()
        print_matrix(matrix)
        out_dir = ROOT / "bench" / "results"
        out_dir.mkdir(parents=True, exist_ok=True)
        (out_dir / "tls.json").write_text(json.dumps(
            {"runs": results, "median": med, "cpu": CPU, "handshakes": matrix, "load_before": load_before, "load_after": load_after,
             "mib": args.mib, "binary": args.gridlite}, indent=2))
        return 0
    finally:
        if process is not None:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
