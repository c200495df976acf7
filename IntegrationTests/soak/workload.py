"""The well-behaved clients of the soak: GridFS uploads and downloads checked by SHA-256, small CRUD,
cursors left open, and raw connections dropped with their cursors still open.

Every failure of a well-behaved operation is recorded as an error; the run passes only with none.
"""

from __future__ import annotations

import collections
import hashlib
import random
import threading
import time
from dataclasses import dataclass, field

import gridfs
from bson.objectid import ObjectId
from pymongo import MongoClient

import wire

DB = "soak"
# (bucket name, chunk size, largest file): the default chunk size and three odd ones.
BUCKETS = [("fs", 255 * 1024, 3 << 20), ("odd1000", 1000, 96 << 10),
           ("odd4093", 4093, 512 << 10), ("odd65537", 65537, 2 << 20)]
CURSOR_SOURCE = "cursor_source"
CURSOR_SOURCE_DOCS = 200


@dataclass(frozen=True)
class StoredFile:
    bucket: str
    sha256: str
    size: int


@dataclass
class Ledger:
    """What the daemon acknowledged, and what the clients did; shared by every worker thread."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    files: dict[ObjectId, StoredFile] = field(default_factory=dict)     # acknowledged, not deleted
    shared: list[ObjectId] = field(default_factory=list)                # any worker may download these
    ops: collections.Counter = field(default_factory=collections.Counter)
    bytes_up: int = 0
    bytes_down: int = 0
    errors: list[str] = field(default_factory=list)

    def count(self, kind: str, n: int = 1) -> None:
        with self.lock:
            self.ops[kind] += n

    def error(self, message: str) -> None:
        with self.lock:
            self.ops["errors"] += 1
            if len(self.errors) < 50:
                self.errors.append(message)


def file_size(rng: random.Random, chunk: int, largest: int) -> int:
    """Sizes from 0 bytes to a few MiB, with every chunk boundary case represented."""
    roll = rng.random()
    if roll < 0.15:
        return rng.choice([0, 1, chunk - 1, chunk, chunk + 1, 2 * chunk, 2 * chunk + 1])
    if roll < 0.55:
        return rng.randint(0, 4096)
    if roll < 0.90:
        return rng.randint(4096, min(largest, 256 << 10))
    if roll < 0.98:
        return rng.randint(0, min(largest, 1 << 20))
    return rng.randint(0, largest)


class Worker(threading.Thread):
    """One pymongo-driven client thread (its operations share the run's connection pool)."""

    def __init__(self, index: int, client: MongoClient, ledger: Ledger, deadline: float, seed: int) -> None:
        super().__init__(name=f"soak-worker-{index}", daemon=True)
        self.index = index
        self.db = client[DB]
        self.ledger = ledger
        self.deadline = deadline
        self.rng = random.Random(seed * 1_000_003 + index)
        self.buckets = {name: gridfs.GridFSBucket(self.db, name, chunk_size_bytes=chunk)
                        for name, chunk, _ in BUCKETS}
        self.crud = self.db[f"crud{index % 8}"]
        self.crud_expected: dict[str, int] = {}
        self.open_cursors: collections.deque = collections.deque(maxlen=4)
        self.serial = 0

    def run(self) -> None:
        operations = [(self.upload, 25), (self.download, 30), (self.crud_step, 25),
                      (self.leave_cursor_open, 10), (self.read_whole_cursor, 10)]
        choices = [op for op, weight in operations for _ in range(weight)]
        while time.monotonic() < self.deadline:
            op = self.rng.choice(choices)
            try:
                op()
            except Exception as error:  # every failure of a well-behaved client is a finding
                self.ledger.error(f"{self.name} {op.__name__}: {type(error).__name__}: {error}"[:400])
                time.sleep(0.05)
        self.open_cursors.clear()

    def upload(self) -> None:
        name, chunk, largest = self.rng.choice(BUCKETS)
        size = file_size(self.rng, chunk, largest)
        data = self.rng.randbytes(size)
        self.serial += 1
        file_id = self.buckets[name].upload_from_stream(f"w{self.index}-{self.serial}", data)
        stored = StoredFile(name, hashlib.sha256(data).hexdigest(), size)
        private = self.rng.random() < 0.2
        with self.ledger.lock:
            self.ledger.files[file_id] = stored
            if not private:
                self.ledger.shared.append(file_id)
            self.ledger.ops["gridfs upload"] += 1
            self.ledger.bytes_up += size
        if private:  # a file only this worker knows: read it back at once, then delete it
            self.check(file_id, stored)
            self.buckets[name].delete(file_id)
            with self.ledger.lock:
                del self.ledger.files[file_id]
                self.ledger.ops["gridfs delete"] += 1

    def download(self) -> None:
        with self.ledger.lock:
            if not self.ledger.shared:
                return
            file_id = self.rng.choice(self.ledger.shared)
            stored = self.ledger.files[file_id]
        self.check(file_id, stored)

    def check(self, file_id: ObjectId, stored: StoredFile) -> None:
        """Downloads a file (whole, or in random-sized reads) and compares its SHA-256."""
        digest = hashlib.sha256()
        with self.buckets[stored.bucket].open_download_stream(file_id) as stream:
            if self.rng.random() < 0.5:
                digest.update(stream.read())
            else:
                while piece := stream.read(self.rng.randint(1, 300_000)):
                    digest.update(piece)
        if digest.hexdigest() != stored.sha256:
            raise AssertionError(f"file {file_id} in {stored.bucket} ({stored.size} bytes): SHA-256 differs")
        with self.ledger.lock:
            self.ledger.ops["gridfs download"] += 1
            self.ledger.bytes_down += stored.size

    def crud_step(self) -> None:
        """insert → find → $inc → find → sometimes delete, each result checked."""
        self.serial += 1
        key = f"{self.index}:{self.serial}"
        self.crud.insert_one({"_id": key, "v": 0, "tag": self.rng.randbytes(self.rng.randint(0, 200))})
        self.crud_expected[key] = 0
        key = self.rng.choice(list(self.crud_expected))
        doc = self.crud.find_one({"_id": key})
        if doc is None or doc["v"] != self.crud_expected[key]:
            raise AssertionError(f"crud {key}: expected v={self.crud_expected[key]}, found {doc}")
        result = self.crud.update_one({"_id": key}, {"$inc": {"v": 1}})
        if result.matched_count != 1:
            raise AssertionError(f"crud {key}: update matched {result.matched_count}")
        self.crud_expected[key] += 1
        if len(self.crud_expected) > 20:
            victim = next(iter(self.crud_expected))
            if self.crud.delete_one({"_id": victim}).deleted_count != 1:
                raise AssertionError(f"crud {victim}: delete removed nothing")
            del self.crud_expected[victim]
        self.ledger.count("crud (4-5 commands)")

    def leave_cursor_open(self) -> None:
        """A find with a small batch, one document read, the cursor kept (never exhausted)."""
        cursor = self.db[CURSOR_SOURCE].find({}, batch_size=self.rng.randint(1, 5))
        if next(cursor, None) is None:
            raise AssertionError("cursor source is empty")
        self.open_cursors.append(cursor)  # the oldest falls out; pymongo kills it when collected
        self.ledger.count("cursor left open")

    def read_whole_cursor(self) -> None:
        n = sum(1 for _ in self.db[CURSOR_SOURCE].find({}, batch_size=self.rng.randint(2, 40)))
        if n != CURSOR_SOURCE_DOCS:
            raise AssertionError(f"cursor returned {n} of {CURSOR_SOURCE_DOCS} documents")
        self.ledger.count("cursor read to the end")


class Dropper(threading.Thread):
    """A raw-socket client that opens a cursor and then drops the connection (reset or close)."""

    def __init__(self, index: int, host: str, port: int, ledger: Ledger, deadline: float, seed: int) -> None:
        super().__init__(name=f"soak-dropper-{index}", daemon=True)
        self.host, self.port = host, port
        self.ledger = ledger
        self.deadline = deadline
        self.rng = random.Random(seed * 7_000_003 + index)

    def run(self) -> None:
        while time.monotonic() < self.deadline:
            try:
                self.once()
            except Exception as error:
                self.ledger.error(f"{self.name}: {type(error).__name__}: {error}"[:400])
                time.sleep(0.05)

    def once(self) -> None:
        sock = wire.connect(self.host, self.port)
        try:
            hello = wire.command(sock, {"hello": 1, "$db": "admin"})
            if hello.get("ok") != 1:
                raise AssertionError(f"hello: {hello}")
            reply = wire.command(sock, {"find": CURSOR_SOURCE, "batchSize": 1, "$db": DB})
            cursor = reply.get("cursor", {})
            if reply.get("ok") != 1 or cursor.get("id", 0) == 0 or len(cursor.get("firstBatch", [])) != 1:
                raise AssertionError(f"find batchSize 1: {reply}")
            if self.rng.random() < 0.5:
                more = wire.command(sock, {"getMore": cursor["id"], "collection": CURSOR_SOURCE,
                                           "batchSize": 2, "$db": DB})
                if more.get("ok") != 1 or len(more["cursor"]["nextBatch"]) != 2:
                    raise AssertionError(f"getMore: {more}")
        finally:
            if self.rng.random() < 0.5:
                wire.abort(sock)
            else:
                sock.close()
        self.ledger.count("connection dropped with a cursor open")
        time.sleep(self.rng.uniform(0.0, 0.2))
