"""Load-balanced mode: `hello {loadBalanced: true}` answered with a per-process `serviceId`, pymongo
with `loadBalanced=true` (directly and through HAProxy in TCP mode, the config of docs/haproxy.cfg
with this test's ports), GridFS through the balancer, and round-robin over two daemons."""

from __future__ import annotations

import hashlib
import io
import shutil
import socket
import subprocess
import time
from pathlib import Path
from typing import Iterator

import gridfs
import pytest
from bson import ObjectId
from pymongo import MongoClient

from conftest import REPO_ROOT, credentials, free_port, tls_options, tls_wrap
from wire_helpers import command

HAPROXY = shutil.which("haproxy") or "/usr/sbin/haproxy"


def lb_client(host: str, port: int, **kwargs) -> MongoClient:
    return MongoClient(host, port, loadBalanced=True, serverSelectionTimeoutMS=5000, connectTimeoutMS=5000,
                       socketTimeoutMS=30000, **credentials(), **tls_options(), **kwargs)


def hello_over(host: str, port: int, **fields) -> dict:
    with tls_wrap(socket.create_connection((host, port), timeout=5)) as sock:
        sock.settimeout(5)
        return command(sock, {"hello": 1, "$db": "admin", **fields})


class HAProxy:
    """haproxy in the foreground with docs/haproxy.cfg's settings, on a free port, over `servers`."""

    def __init__(self, workdir: Path, servers: list[tuple[str, int]], balance: str = "roundrobin") -> None:
        self.port = free_port()
        lines = (REPO_ROOT / "docs" / "haproxy.cfg").read_text().splitlines()
        config: list[str] = []
        for line in lines:
            stripped = line.strip()
            if stripped.startswith("bind "):
                line = f"    bind 127.0.0.1:{self.port}"
            elif stripped.startswith("balance "):
                line = f"    balance {balance}"
            elif stripped.startswith("server "):
                continue
            config.append(line)
            if stripped.startswith("balance "):
                config += [f"    server gridlite{i} {h}:{p} check inter 500ms" for i, (h, p) in enumerate(servers, 1)]
        self.config = workdir / "haproxy.cfg"
        self.config.write_text("\n".join(config) + "\n")
        self.log = workdir / "haproxy.log"
        self.process: subprocess.Popen | None = None

    def start(self) -> "HAProxy":
        check = subprocess.run([HAPROXY, "-c", "-f", str(self.config)], capture_output=True, text=True)
        assert check.returncode == 0, check.stdout + check.stderr
        with open(self.log, "wb") as log:
            self.process = subprocess.Popen([HAPROXY, "-db", "-f", str(self.config)], stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return self
            except OSError:
                assert self.process.poll() is None, self.log.read_text()
                time.sleep(0.1)
        raise AssertionError(f"haproxy did not listen:\n{self.log.read_text()}")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@pytest.fixture
def haproxy_factory(tmp_path: Path) -> Iterator:
    if not Path(HAPROXY).exists():
        pytest.fail("haproxy is not installed (it is in the Makefile's APT_PACKAGES: run `make deps`)")
    started: list[HAProxy] = []

    def start(servers: list[tuple[str, int]], balance: str = "roundrobin") -> HAProxy:
        proxy = HAProxy(Path(tmp_path), servers, balance)
        started.append(proxy)
        return proxy.start()

    yield start
    for proxy in started:
        proxy.stop()
        print(proxy.log.read_text()[-5000:])


def test_hello_load_balanced_has_a_stable_service_id(daemon) -> None:
    first = hello_over(daemon.host, daemon.port, loadBalanced=True)
    second = hello_over(daemon.host, daemon.port, loadBalanced=True)
    assert isinstance(first["serviceId"], ObjectId)
    assert first["serviceId"] == second["serviceId"], "one serviceId for the life of the process"
    assert first["maxWireVersion"] >= 13
    assert "serviceId" not in hello_over(daemon.host, daemon.port)


def test_pymongo_load_balanced_direct_gridfs_and_cursors(daemon) -> None:
    with lb_client(daemon.host, daemon.port) as c:
        assert c.topology_description.topology_type_name == "LoadBalanced"
        db = c.lb_direct
        db.c.drop()
        db.c.insert_many([{"_id": i} for i in range(500)])
        # A cursor with several getMores stays on its (pinned) connection.
        assert [d["_id"] for d in db.c.find(batch_size=7).sort("_id", 1)] == list(range(500))
        bucket = gridfs.GridFSBucket(db)
        data = bytes(range(256)) * 4096
        file_id = bucket.upload_from_stream("one-mib", data, chunk_size_bytes=64 * 1024)
        out = io.BytesIO()
        bucket.download_to_stream(file_id, out)
        assert hashlib.sha256(out.getvalue()).digest() == hashlib.sha256(data).digest()


def test_gridfs_through_haproxy_with_two_server_lines(daemon, haproxy_factory) -> None:
    # Both server lines reach the same daemon (same data): every pooled connection sees one store.
    proxy = haproxy_factory([(daemon.host, daemon.port), ("localhost", daemon.port)])
    with lb_client("127.0.0.1", proxy.port, maxPoolSize=8) as c:
        db = c.lb_haproxy
        bucket = gridfs.GridFSBucket(db)
        for name in list(bucket.find({})):
            bucket.delete(name._id)
        payloads = {f"file-{i}": hashlib.sha256(str(i).encode()).digest() * (4096 * (i + 1)) for i in range(4)}
        ids = {name: bucket.upload_from_stream(name, data, chunk_size_bytes=255 * 1024) for name, data in payloads.items()}
        for name, data in payloads.items():
            out = io.BytesIO()
            bucket.download_to_stream(ids[name], out)
            assert out.getvalue() == data, name
            assert bucket.open_download_stream_by_name(name).read() == data
        assert sorted(f.filename for f in bucket.find({})) == sorted(payloads)
        served = c.admin.command("hello", loadBalanced=True)
        assert served["serviceId"] == hello_over(daemon.host, daemon.port, loadBalanced=True)["serviceId"]


def test_round_robin_over_two_daemons(daemon_factory, haproxy_factory) -> None:
    first, second = daemon_factory(), daemon_factory()
    ids = {hello_over(d.host, d.port, loadBalanced=True)["serviceId"] for d in (first, second)}
    assert len(ids) == 2, "each process has its own serviceId"
    proxy = haproxy_factory([(first.host, first.port), (second.host, second.port)])
    seen = [hello_over("127.0.0.1", proxy.port, loadBalanced=True)["serviceId"] for _ in range(4)]
    assert set(seen) == ids, f"round robin reached {seen}"
    # A load-balanced pymongo client works through it (each connection stays on one daemon).
    with lb_client("127.0.0.1", proxy.port) as c:
        assert c.admin.command("ping")["ok"] == 1
        assert c.admin.command("hello", loadBalanced=True)["serviceId"] in ids
    # With one daemon down, haproxy's health check sends every new connection to the other.
    first.stop()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            seen = [hello_over("127.0.0.1", proxy.port, loadBalanced=True)["serviceId"] for _ in range(4)]
            if len(set(seen)) == 1:
                break
        except (OSError, EOFError):
            pass
        time.sleep(0.5)
    survivor = hello_over(second.host, second.port, loadBalanced=True)["serviceId"]
    assert seen == [survivor] * 4


def test_retryable_writes_run_once_per_txn_number(daemon) -> None:
    # What a driver in load-balanced mode does after losing a reply: resend the write with the same
    # lsid and txnNumber. The resend gets the first reply and the write is not applied twice.
    from bson import Int64
    from pymongo.errors import OperationFailure
    with lb_client(daemon.host, daemon.port) as c:
        db = c.lb_retryable
        db.c.drop()
        with c.start_session() as session:
            insert = {"insert": "c", "documents": [{"_id": 1}, {"_id": 2}], "txnNumber": Int64(5)}
            first = db.command(insert, session=session)
            again = db.command(insert, session=session)
            assert first["n"] == again["n"] == 2
            assert "writeErrors" not in again  # not two duplicate-key errors
            update = {"update": "c", "updates": [{"q": {"_id": 1}, "u": {"$inc": {"x": 1}}}], "txnNumber": Int64(6)}
            db.command(update, session=session)
            db.command(update, session=session)
            assert db.c.find_one({"_id": 1}) == {"_id": 1, "x": 1}
            with pytest.raises(OperationFailure) as info:
                db.command({**insert, "txnNumber": Int64(4)}, session=session)
            assert info.value.code == 225
    # Another client (other lsids, pymongo's own txnNumber per write): its retryable inserts insert
    # once each. (A client must not reuse an lsid's txnNumber for a different command: like mongod,
    # gridlite would take it for a retry.)
    with lb_client(daemon.host, daemon.port) as c:
        db = c.lb_retryable
        db.c.insert_many([{"_id": i} for i in range(10, 20)])
        db.c.insert_one({"_id": 20})
        assert db.c.count_documents({}) == 13
