"""Durability: SIGKILL the daemon during a stream of acknowledged inserts, restart it on the same
data directory, and check that every acknowledged document survived and the file is intact."""

from __future__ import annotations

import hashlib
import os
import signal
import sqlite3
import threading
import time

import gridfs
import pytest
from bson import Binary, ObjectId
from pymongo.errors import PyMongoError

# Opens the SQLite engine's files after kill -9; the PostgreSQL engine's kill -9 test is in test_postgres_daemons.py (skipped under GRIDLITE_TEST_STORAGE=postgresql).
pytestmark = pytest.mark.sqlite_only

DATA_FILE = "gridlite.sqlite"


def integrity_check(path) -> list[str]:
    """PRAGMA integrity_check on the data file, read-only (the daemon may be running)."""
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10)
    try:
        return [row[0] for row in con.execute("PRAGMA integrity_check")]
    finally:
        con.close()


class Writer(threading.Thread):
    """Inserts documents one at a time (w: 1) and records each acknowledged _id in order."""

    def __init__(self, client, round_no: int) -> None:
        super().__init__(daemon=True)
        self.coll = client["durability"]["docs"]
        self.chunks = client["durability"]["fs.chunks"]
        self.round_no = round_no
        self.acknowledged: list = []
        self.acknowledged_chunks: list = []
        self.error: BaseException | None = None
        self.stop = threading.Event()

    def run(self) -> None:
        i = 0
        try:
            while not self.stop.is_set():
                _id = ObjectId()
                if i % 10 == 9:  # now and then a GridFS-sized chunk (chunk payloads are stored apart)
                    self.chunks.insert_one({"_id": _id, "files_id": self.round_no, "n": i,
                                            "data": Binary(os.urandom(255 * 1024))})
                    self.acknowledged_chunks.append(_id)
                else:
                    self.coll.insert_one({"_id": _id, "round": self.round_no, "i": i, "pad": "p" * (i % 500)})
                    self.acknowledged.append(_id)
                i += 1
        except PyMongoError as error:  # the daemon died under us: expected
            self.error = error


@pytest.mark.parametrize("round_no", [1, 2, 3])
def test_sigkill_keeps_every_acknowledged_insert(daemon_factory, round_no):
    d = daemon_factory()
    # A few documents and an index before the stream, so that restart has a catalog to recover.
    with d.client() as c:
        c["durability"]["docs"].create_index("i")
        c["durability"]["fs.chunks"].create_index([("files_id", 1), ("n", 1)], unique=True)

    client = d.client(retryWrites=False, socketTimeoutMS=5000, serverSelectionTimeoutMS=2000)
    writer = Writer(client, round_no)
    writer.start()
    deadline = time.monotonic() + 10
    # Let it write for a while (varying per round), then kill -9 mid-stream.
    while len(writer.acknowledged) < 150 * round_no and time.monotonic() < deadline and writer.is_alive():
        time.sleep(0.01)
    assert writer.is_alive(), f"writer stopped early: {writer.error!r}"
    os.kill(d.pid, signal.SIGKILL)
    d.process.wait(timeout=10)
    writer.stop.set()
    writer.join(timeout=30)
    client.close()
    assert not writer.is_alive()
    acknowledged = list(writer.acknowledged)
    print(f"round {round_no}: killed after {len(acknowledged)} acknowledged documents "
          f"and {len(writer.acknowledged_chunks)} chunks")
    acknowledged_chunks = list(writer.acknowledged_chunks)
    assert len(acknowledged) >= 150 * round_no or len(acknowledged) > 50

    d.start()  # same data directory
    with d.client() as c:
        docs = c["durability"]["docs"]
        present = {doc["_id"] for doc in docs.find({}, {"_id": 1})}
        missing = [i for i in acknowledged if i not in present]
        assert not missing, f"{len(missing)} of {len(acknowledged)} acknowledged documents lost"
        # At most the one unacknowledged in-flight insert may have landed in addition.
        assert len(present) - len(acknowledged) <= 1
        chunk_ids = {doc["_id"] for doc in c["durability"]["fs.chunks"].find({}, {"_id": 1})}
        assert all(i in chunk_ids for i in acknowledged_chunks)
        for _id in acknowledged_chunks[-3:]:
            assert len(c["durability"]["fs.chunks"].find_one({"_id": _id})["data"]) == 255 * 1024
        # The indexes survived and agree with the data.
        assert len(list(docs.find({"i": {"$gte": 0}}))) == len(present)
        assert sorted(i["name"] for i in docs.list_indexes()) == ["_id_", "i_1"]
        # And the daemon still writes after recovery.
        docs.insert_one({"after": True})
        assert docs.find_one({"after": True}) is not None
        validate = c["durability"].command({"validate": "docs"})
        assert validate["valid"] is True, validate

    assert integrity_check(d.data_dir / DATA_FILE) == ["ok"]
    d.stop()
    assert integrity_check(d.data_dir / DATA_FILE) == ["ok"]


class Uploader(threading.Thread):
    """Uploads GridFS files one after another; records (id, sha256) of each finished upload."""

    def __init__(self, client) -> None:
        super().__init__(daemon=True)
        self.bucket = gridfs.GridFSBucket(client["durability"], chunk_size_bytes=255 * 1024)
        self.finished: list[tuple] = []
        self.stop = threading.Event()

    def run(self) -> None:
        i = 0
        try:
            while not self.stop.is_set():
                data = os.urandom(1024 * 1024 + i * 4099)
                fid = self.bucket.upload_from_stream(f"f{i}", data)
                self.finished.append((fid, hashlib.sha256(data).hexdigest(), len(data)))
                i += 1
        except PyMongoError:
            pass


def test_sigkill_during_gridfs_uploads_keeps_finished_files(daemon_factory):
    d = daemon_factory()
    client = d.client(retryWrites=False, socketTimeoutMS=5000, serverSelectionTimeoutMS=2000)
    uploader = Uploader(client)
    uploader.start()
    deadline = time.monotonic() + 20
    while len(uploader.finished) < 8 and time.monotonic() < deadline and uploader.is_alive():
        time.sleep(0.005)
    time.sleep(0.05)  # most likely in the middle of the next upload
    os.kill(d.pid, signal.SIGKILL)
    d.process.wait(timeout=10)
    uploader.stop.set()
    uploader.join(timeout=30)
    client.close()
    finished = list(uploader.finished)
    assert len(finished) >= 8

    # Chunk payloads live in segment files beside the database (docs/storage.md).
    assert list((d.data_dir / "blobs").glob("*.seg"))
    d.start()
    with d.client() as c:
        bucket = gridfs.GridFSBucket(c["durability"])
        for fid, digest, length in finished:
            data = bucket.open_download_stream(fid).read()
            assert len(data) == length and hashlib.sha256(data).hexdigest() == digest, fid
        report = c["durability"].command({"validate": "fs.files"})
        finished_ids = {str(fid) for fid, _, _ in finished}
        # Only the upload cut short may show up (as orphaned chunks); no finished file may.
        for warning in report["warnings"] + report["errors"]:
            assert not any(fid in warning for fid in finished_ids), warning
        # Space accounting survived the kill: once every file and the cut-short upload's chunks are
        # deleted, no segment file is left (bytes the killed insert appended were counted at start-up).
        for fid, _, _ in finished:
            bucket.delete(fid)
        c["durability"]["fs.chunks"].delete_many({})
        assert list((d.data_dir / "blobs").glob("*.seg")) == []
    assert integrity_check(d.data_dir / DATA_FILE) == ["ok"]
