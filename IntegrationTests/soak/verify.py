"""Seeding before the load, and the read-back of every acknowledged file after it."""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass, field

import gridfs
from bson.objectid import ObjectId
from pymongo import MongoClient

from workload import BUCKETS, CURSOR_SOURCE, CURSOR_SOURCE_DOCS, DB, Ledger, StoredFile


def seed(uri: str, ledger: Ledger) -> None:
    """The cursor source collection and one shared file per bucket (so downloads start at once)."""
    with MongoClient(uri, serverSelectionTimeoutMS=30_000) as client:
        db = client[DB]
        db[CURSOR_SOURCE].insert_many([{"_id": i, "n": i, "pad": "x" * 100} for i in range(CURSOR_SOURCE_DOCS)])
        for name, chunk, _ in BUCKETS:
            data = bytes(range(256)) * (chunk // 256 + 3)
            file_id = gridfs.GridFSBucket(db, name, chunk_size_bytes=chunk).upload_from_stream("seed", data)
            ledger.files[file_id] = StoredFile(name, hashlib.sha256(data).hexdigest(), len(data))
            ledger.shared.append(file_id)


@dataclass
class Verification:
    files: int = 0
    bytes: int = 0
    bad: list[str] = field(default_factory=list)


def verify_files(uri: str, files: dict[ObjectId, StoredFile], threads: int = 8) -> Verification:
    """Reads every file back (`threads` at a time) and compares sizes and SHA-256 digests."""
    result = Verification()
    lock = threading.Lock()
    items = list(files.items())
    with MongoClient(uri, maxPoolSize=threads, serverSelectionTimeoutMS=30_000, socketTimeoutMS=180_000) as client:
        buckets = {name: gridfs.GridFSBucket(client[DB], name) for name, _, _ in BUCKETS}

        def check(part: list[tuple[ObjectId, StoredFile]]) -> None:
            for file_id, stored in part:
                try:
                    data = buckets[stored.bucket].open_download_stream(file_id).read()
                    problem = None
                    if len(data) != stored.size:
                        problem = f"{len(data)} bytes, expected {stored.size}"
                    elif hashlib.sha256(data).hexdigest() != stored.sha256:
                        problem = "SHA-256 differs"
                except Exception as error:
                    problem = f"{type(error).__name__}: {error}"
                with lock:
                    result.files += 1
                    if problem:
                        result.bad.append(f"{stored.bucket} {file_id}: {problem}"[:300])
                    else:
                        result.bytes += stored.size

        workers = [threading.Thread(target=check, args=(items[i::threads],)) for i in range(threads)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
    return result
