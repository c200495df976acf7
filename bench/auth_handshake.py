"""Handshake cost of authentication: connections per second against one gridlite binary started
without and with `--auth`. Each connection is a raw socket that sends what pymongo sends on a new
pooled connection and closes:

- plain: `hello` + `ping`;
- auth:  `hello` with `speculativeAuthenticate` (SCRAM-SHA-256 client-first) + one `saslContinue`
         (the proof, `skipEmptyExchange`) + `ping` — pymongo's one-round-trip login.

The client's PBKDF2 is done once (drivers cache the salted password per salt), so what is measured
is the server's side: nonce, lookup, two HMACs and a hash per login, and the extra round trip.
Runs are interleaved (plain, auth, plain, auth, ...) so load drifts hit both; the load average is
printed with the result. `bench/tls_bench.py` (part of `make bench`) runs the same handshakes
over plain and TLS connections (the 2 x 2 matrix); this script compares plain ones only:

    .venv/bin/python bench/auth_handshake.py --bin "$(swift build -c release --show-bin-path)/gridlite"
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import hmac
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import bson
from bson import Binary
from pymongo import MongoClient

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "IntegrationTests" / "integration"))
from wire_helpers import command  # noqa: E402

USER, PASSWORD = "bench", "bench-Passw0rd"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(binary: str, workdir: str, *extra: str) -> tuple[subprocess.Popen, int]:
    port = free_port()
    log = open(os.path.join(workdir, "log"), "ab")
    process = subprocess.Popen([binary, "serve", "--port", str(port), "--data-dir", os.path.join(workdir, "data"),
                                "--log-level", "warning", "--no-http", *extra], stdout=log, stderr=log)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return process, port
        except OSError:
            time.sleep(0.05)
    process.kill()
    raise SystemExit(f"gridlite did not start: {open(os.path.join(workdir, 'log')).read()}")


class Scram:
    """Client side of SCRAM-SHA-256 with the salted password cached per salt, as drivers do."""

    def __init__(self) -> None:
        self.keys: dict[tuple[str, int], tuple[bytes, bytes]] = {}

    def first(self) -> tuple[str, str]:
        nonce = base64.b64encode(os.urandom(24)).decode()
        return nonce, f"n={USER},r={nonce}"

    def final(self, first_bare: str, server_first: str) -> str:
        fields = dict(part.split("=", 1) for part in server_first.split(","))
        key = (fields["s"], int(fields["i"]))
        if key not in self.keys:
            salted = hashlib.pbkdf2_hmac("sha256", PASSWORD.encode(), base64.b64decode(key[0]), key[1])
            client_key = hmac.new(salted, b"Client Key", "sha256").digest()
            self.keys[key] = (client_key, hashlib.sha256(client_key).digest())
        client_key, stored_key = self.keys[key]
        without_proof = f"c=biws,r={fields['r']}"
        message = f"{first_bare},{server_first},{without_proof}".encode()
        signature = hmac.new(stored_key, message, "sha256").digest()
        return f"{without_proof},p=" + base64.b64encode(bytes(a ^ b for a, b in zip(client_key, signature))).decode()


def one_connection(port: int, auth: bool, scram: Scram, context=None) -> None:
    """One pooled-connection handshake; over TLS (a full handshake first) when `context` is an SSLContext."""
    raw = socket.create_connection(("127.0.0.1", port), timeout=10)
    raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    with (context.wrap_socket(raw, server_hostname="localhost") if context else raw) as sock:
        hello = {"hello": 1, "helloOk": True, "client": {"driver": {"name": "bench", "version": "1"},
                                                         "os": {"type": "Linux"}}, "$db": "admin"}
        if auth:
            _, first_bare = scram.first()
            hello["speculativeAuthenticate"] = {
                "saslStart": 1, "mechanism": "SCRAM-SHA-256", "payload": Binary(f"n,,{first_bare}".encode()),
                "options": {"skipEmptyExchange": True}, "db": "admin"}
        reply = command(sock, hello)
        if auth:
            spec = reply["speculativeAuthenticate"]
            final = scram.final(first_bare, bytes(spec["payload"]).decode())
            done = command(sock, {"saslContinue": 1, "conversationId": spec["conversationId"],
                                  "payload": Binary(final.encode()), "$db": "admin"})
            assert done.get("done") is True, done
        assert command(sock, {"ping": 1, "$db": "admin"}).get("ok") == 1


def rate(port: int, auth: bool, seconds: float, threads: int, context=None) -> float:
    """Connections per second over `threads` client threads for `seconds` (TLS when `context` is set)."""
    count = [0] * threads
    stop = time.monotonic() + seconds

    def worker(i: int) -> None:
        scram = Scram()
        one_connection(port, auth, scram, context)  # warm the salted-password cache outside the count
        while time.monotonic() < stop:
            one_connection(port, auth, scram, context)
            count[i] += 1

    started = time.monotonic()
    pool = [threading.Thread(target=worker, args=(i,)) for i in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    return sum(count) / (time.monotonic() - started)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--bin", required=True)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--threads", type=int, default=4)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as plain_dir, tempfile.TemporaryDirectory() as auth_dir:
        plain, plain_port = start(args.bin, plain_dir)
        secured, auth_port = start(args.bin, auth_dir, "--auth")
        try:
            with MongoClient("127.0.0.1", auth_port) as anonymous:   # the localhost exception
                anonymous.admin.command("createUser", USER, pwd=PASSWORD, roles=["root"])
            rows = {"plain": [], "auth": []}
            for _ in range(args.rounds):
                rows["plain"].append(rate(plain_port, False, args.seconds, args.threads))
                rows["auth"].append(rate(auth_port, True, args.seconds, args.threads))
        finally:
            for p in (plain, secured):
                p.terminate()
                p.wait(timeout=20)
    load = os.getloadavg()
    print(f"# handshake rate, {args.threads} client threads, {args.rounds} x {args.seconds:.0f} s interleaved, "
          f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}, {os.cpu_count()} CPUs")
    for name, values in rows.items():
        print(f"{name:6s} connections/s: median {statistics.median(values):8.1f}  runs " +
              " ".join(f"{v:.1f}" for v in values))
    ratio = statistics.median(rows["auth"]) / statistics.median(rows["plain"])
    print(f"auth / plain ratio: {ratio:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
