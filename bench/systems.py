"""The systems under test: how to start each one, open a GridFS bucket on it, and read its peak RSS.

Every system is described by a picklable ``spec`` dict so that worker processes (the concurrent
workload) can open their own buckets: ``{"kind": "wire", "uri": ...}`` for the three wire servers and
``{"kind": "neo", "file": ...}`` for NeoSQLite in-process.
"""

from __future__ import annotations

import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

LISTENING = re.compile(r"listening on (\S+):(\d+)")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


DATABASE = "bench"


def open_bucket(spec: dict, bucket: str):
    """Returns (GridFSBucket named `bucket`, close) on the system described by `spec`. All buckets live
    in one database: NX-27017 keeps every logical database in one SQLite file by default, so buckets
    (not databases) are what keeps workloads apart on every system alike."""
    if spec["kind"] == "wire":
        import gridfs
        from pymongo import MongoClient
        client = MongoClient(spec["uri"], serverSelectionTimeoutMS=10000, socketTimeoutMS=600000)
        return gridfs.GridFSBucket(client[DATABASE], bucket_name=bucket), client.close
    import neosqlite
    from neosqlite.gridfs import GridFSBucket
    conn = neosqlite.Connection(spec["file"])
    return GridFSBucket(conn, bucket_name=bucket), conn.close


def drop_bucket(spec: dict, bucket: str) -> None:
    """Removes everything a workload wrote to `bucket`."""
    if spec["kind"] == "wire":
        from pymongo import MongoClient
        with MongoClient(spec["uri"], serverSelectionTimeoutMS=10000, socketTimeoutMS=600000) as client:
            client[DATABASE].drop_collection(f"{bucket}.files")
            client[DATABASE].drop_collection(f"{bucket}.chunks")
        return
    opened, close = open_bucket(spec, bucket)
    try:
        opened.drop()
    finally:
        close()


def peak_rss_kib(pid: int) -> int | None:
    """VmHWM of process `pid` in KiB."""
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


class System:
    """One system under test. Subclasses start a daemon or nothing (in-process)."""

    name = "?"
    daemon = True

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.process: subprocess.Popen | None = None
        self.port = 0

    @property
    def spec(self) -> dict:
        return {"kind": "wire", "uri": f"mongodb://127.0.0.1:{self.port}/"}

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process else None

    def command(self) -> list[str]:
        raise NotImplementedError

    def start(self) -> "System":
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        log = open(self.workdir / "server.log", "ab")
        self.process = subprocess.Popen(self.command(), stdin=subprocess.DEVNULL, stdout=log,
                                        stderr=subprocess.STDOUT, cwd=self.workdir, start_new_session=True)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited: {(self.workdir / 'server.log').read_text()[-2000:]}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return self
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"{self.name} did not listen on port {self.port} within 30 s")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def peak_rss_kib(self) -> int | None:
        return peak_rss_kib(self.pid) if self.pid else None


class Gridlite(System):
    name = "gridlite"

    def __init__(self, workdir: Path, binary: Path) -> None:
        super().__init__(workdir)
        self.binary = binary

    def command(self) -> list[str]:
        data = self.workdir / "data"
        shutil.rmtree(data, ignore_errors=True)
        return [str(self.binary), "serve", "--no-http", "--host", "127.0.0.1", "--port", str(self.port),
                "--data-dir", str(data)]


class Ceiling(System):
    name = "ceiling"

    def __init__(self, workdir: Path, binary: Path) -> None:
        super().__init__(workdir)
        self.binary = binary

    def command(self) -> list[str]:
        return [str(self.binary), "--host", "127.0.0.1", "--port", str(self.port)]


class NX27017(System):
    name = "NX-27017"

    @property
    def spec(self) -> dict:
        # "file": its SQLite database, which NeoSQLite's own GridFSBucket can fill directly (used only
        # to build the 100k-file bucket quickly; see workloads.build_bucket).
        return {"kind": "wire", "uri": f"mongodb://127.0.0.1:{self.port}/",
                "file": str(self.workdir / "nx-27017.db")}

    def command(self) -> list[str]:
        # Its defaults (WAL, asyncio server, one SQLite file), in a fresh directory of its own.
        exe = Path(sys.executable).with_name("nx-27017")
        return [str(exe), "--db", str(self.workdir / "nx-27017.db"), "--host", "127.0.0.1",
                "--port", str(self.port), "--log-file", str(self.workdir / "nx.log"),
                "--pid-file", str(self.workdir / "nx.pid")]


class NeoSQLite(System):
    name = "NeoSQLite"
    daemon = False

    @property
    def spec(self) -> dict:
        return {"kind": "neo", "file": str(self.workdir / "neosqlite.db")}

    def start(self) -> "System":
        shutil.rmtree(self.workdir, ignore_errors=True)
        self.workdir.mkdir(parents=True, exist_ok=True)
        return self

    def stop(self) -> None:
        pass

    def peak_rss_kib(self) -> int | None:
        return None
