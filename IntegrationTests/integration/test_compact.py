"""The `compact` command and space reclamation (docs/storage.md, "Compaction"): mongod's command
shape and errors, 1 GiB uploaded and deleted giving its disk space back, and compaction surviving
kill -9 without losing an acknowledged file."""

from __future__ import annotations

import hashlib
import os
import signal
import threading
import time

import gridfs
import pytest
from pymongo.errors import OperationFailure, PyMongoError

from storage_helpers import command_error, unique_name
from test_storage_durability import integrity_check

# Tests the SQLite engine's files (skipped under GRIDLITE_TEST_STORAGE=postgresql).
pytestmark = pytest.mark.sqlite_only

MiB = 1024 * 1024
BIG_FILE = 256 * MiB


def disk_usage(data_dir) -> tuple[int, int]:
    """(apparent bytes, allocated bytes) of every file under the data directory, as
    `du --apparent-size -b` and `du -B1` count them."""
    apparent = allocated = 0
    for root, _, files in os.walk(data_dir):
        for name in files:
            st = os.stat(os.path.join(root, name))
            apparent += st.st_size
            allocated += st.st_blocks * 512
    return apparent, allocated


def stream(bucket, name: str, size: int, seed: int):
    """Uploads `size` bytes made on the fly, 1 MiB at a time (never held in memory)."""
    block = hashlib.sha256(str(seed).encode()).digest() * (MiB // 32)
    with bucket.open_upload_stream(name) as upload:
        for i in range(size // MiB):
            upload.write(i.to_bytes(8, "little") + block[8:])
        return upload._id


def test_compact_command_shape_and_errors(daemon):
    with daemon.client() as c:
        db = c[unique_name("compact")]
        with pytest.raises(OperationFailure) as missing:
            db.command({"compact": "nothing_here"})
        assert missing.value.code == 26
        assert command_error(missing)[1] == "collection does not exist"
        db["plain"].insert_many([{"x": i, "pad": "y" * 1000} for i in range(500)])
        db["plain"].delete_many({})
        reply = db.command({"compact": "plain"})
        assert reply["ok"] == 1.0 and reply["bytesFreed"] >= 0
        assert set(reply) == {"bytesFreed", "ok"}
        assert db.command({"compact": "plain", "force": True})["ok"] == 1.0
        with pytest.raises(OperationFailure) as wrong_type:
            db.command({"compact": "plain", "force": 1})
        assert wrong_type.value.code == 14
        with pytest.raises(OperationFailure) as unknown:
            db.command({"compact": "plain", "paddingFactor": 1.1})
        assert unknown.value.code == 40415
        # The documents survive compaction.
        db["plain"].insert_one({"_id": 1, "kept": True})
        db.command({"compact": "plain"})
        assert db["plain"].find_one({"_id": 1}) == {"_id": 1, "kept": True}


def test_one_gib_uploaded_and_deleted_gives_its_space_back(daemon_factory):
    daemon = daemon_factory()
    with daemon.client(socketTimeoutMS=120_000) as c:
        db = c["space"]
        bucket = gridfs.GridFSBucket(db)
        first = os.urandom(2 * MiB + 123)
        first_id = bucket.upload_from_stream("kept-first", first)
        before = disk_usage(daemon.data_dir)

        big = [stream(bucket, f"big{i}", BIG_FILE, i) for i in range(4)]
        # Shares the last segment with the tail of the big files, so that segment stays partly live.
        last = os.urandom(3 * MiB + 7)
        last_id = bucket.upload_from_stream("kept-last", last)
        peak = disk_usage(daemon.data_dir)
        assert peak[0] >= before[0] + 4 * BIG_FILE

        for fid in big:
            bucket.delete(fid)
        deleted = disk_usage(daemon.data_dir)
        reply = db.command({"compact": "fs.chunks"})
        after = disk_usage(daemon.data_dir)
        print(f"\ndata directory (apparent, allocated) bytes: before {before}, peak {peak}, "
              f"after delete {deleted}, after compact {after}; bytesFreed {reply['bytesFreed']}")

        assert reply["bytesFreed"] > 0
        kept = len(last)
        for measured_after, measured_before in zip(after, before):
            assert measured_after <= measured_before + kept + 4 * MiB, (before, after)
        assert hashlib.sha256(bucket.open_download_stream(first_id).read()).digest() == hashlib.sha256(first).digest()
        assert hashlib.sha256(bucket.open_download_stream(last_id).read()).digest() == hashlib.sha256(last).digest()
        assert db.command({"validate": "fs.chunks", "full": True})["valid"] is True
        # Nothing left to do: a second compact frees (almost) nothing.
        assert db.command({"compact": "fs.chunks"})["bytesFreed"] <= 1 * MiB


class Compactor(threading.Thread):
    """Runs `compact` on the chunks collection until the daemon dies."""

    def __init__(self, client) -> None:
        super().__init__(daemon=True)
        self.db = client["durability_compact"]
        self.runs = 0

    def run(self) -> None:
        try:
            while True:
                self.db.command({"compact": "fs.chunks"})
                self.runs += 1
        except PyMongoError:
            pass


@pytest.mark.parametrize("delay", [0.0, 0.15, 0.4])
def test_sigkill_during_compaction_keeps_every_acknowledged_file(daemon_factory, delay):
    d = daemon_factory()
    kept: list[tuple] = []
    with d.client() as c:
        bucket = gridfs.GridFSBucket(c["durability_compact"])
        # Interleave files to keep with files to delete, so every segment stays partly live and
        # compaction has payloads to move.
        doomed = []
        for i in range(24):
            data = os.urandom(3 * MiB + i * 4099)
            fid = bucket.upload_from_stream(f"f{i}", data)
            if i % 3 == 0:
                kept.append((fid, hashlib.sha256(data).hexdigest(), len(data)))
            else:
                doomed.append(fid)
        for fid in doomed:
            bucket.delete(fid)
    client = d.client(retryWrites=False, socketTimeoutMS=10_000, serverSelectionTimeoutMS=2000)
    compactor = Compactor(client)
    compactor.start()
    time.sleep(delay)
    os.kill(d.pid, signal.SIGKILL)
    d.process.wait(timeout=10)
    compactor.join(timeout=30)
    client.close()

    d.start()
    with d.client() as c:
        db = c["durability_compact"]
        bucket = gridfs.GridFSBucket(db)
        for fid, digest, length in kept:
            data = bucket.open_download_stream(fid).read()
            assert len(data) == length and hashlib.sha256(data).hexdigest() == digest, fid
        assert db.command({"validate": "fs.chunks", "full": True})["valid"] is True
        # Accounting survived: compaction after the restart leaves only the kept payloads.
        db.command({"compact": "fs.chunks"})
        segments = sum(p.stat().st_size for p in (d.data_dir / "blobs").glob("*.seg"))
        assert segments == sum(length for _, _, length in kept)
        for fid, digest, length in kept:
            assert hashlib.sha256(bucket.open_download_stream(fid).read()).hexdigest() == digest
    d.stop()
    assert integrity_check(d.data_dir / "gridlite.sqlite") == ["ok"]


def test_maintenance_compacts_a_mostly_dead_active_segment(daemon_factory):
    """Without any command: the active segment, once the writer is idle and half of it is dead,
    is sealed and its live payloads move to a new segment (logged by the maintenance service)."""
    daemon = daemon_factory()
    with daemon.client() as c:
        bucket = gridfs.GridFSBucket(c["space_active"])
        keep = os.urandom(1 * MiB)
        keep_id = bucket.upload_from_stream("keep", keep)
        doomed = bucket.upload_from_stream("doomed", os.urandom(8 * MiB))
        offset = daemon.log_offset()
        bucket.delete(doomed)
        segments = lambda: sum(p.stat().st_size for p in (daemon.data_dir / "blobs").glob("*.seg"))  # noqa: E731
        assert segments() == 9 * MiB
        # Maintenance runs every 10 s and waits for 5 s without appends.
        assert daemon.wait_for_log(r"compacted segment \d+ \(active\)", since=offset, timeout=40)
        assert segments() == 1 * MiB
        assert bucket.open_download_stream(keep_id).read() == keep
