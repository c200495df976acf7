"""Disk space of GridFS payloads: they go to segment files under <data-dir>/blobs, are counted by
collStats/dbStats/listDatabases, and deleting the files gives the space back."""

import hashlib
import os

import gridfs
import pytest


def segment_bytes(daemon) -> int:
    return sum(p.stat().st_size for p in (daemon.data_dir / "blobs").glob("*.seg"))


@pytest.mark.sqlite_only
def test_payloads_go_to_segments_and_deletes_give_space_back(daemon_factory):
    daemon = daemon_factory()  # a fresh data directory: no other test's chunks share the segment
    with daemon.client() as c:
        db = c["space"]
        bucket = gridfs.GridFSBucket(db)
        assert segment_bytes(daemon) == 0
        blobs = [os.urandom(8 * 1024 * 1024 + i * 1000) for i in range(3)]
        ids = [bucket.upload_from_stream(f"s{i}", data) for i, data in enumerate(blobs)]
        assert segment_bytes(daemon) == sum(len(b) for b in blobs)
        stats = db.command({"collStats": "fs.chunks"})
        assert stats["count"] == sum(-(-len(b) // (255 * 1024)) for b in blobs)
        assert stats["size"] >= sum(len(b) for b in blobs)
        assert stats["storageSize"] >= sum(len(b) for b in blobs)
        assert db.command({"dbStats": 1})["storageSize"] >= sum(len(b) for b in blobs)
        sizes = {d["name"]: d["sizeOnDisk"] for d in c.list_databases()}
        assert sizes["space"] >= sum(len(b) for b in blobs)
        for fid, data in zip(ids, blobs):
            assert hashlib.sha256(bucket.open_download_stream(fid).read()).digest() == hashlib.sha256(data).digest()
        assert db.command({"validate": "fs.chunks", "full": True})["valid"] is True
        for fid in ids:
            bucket.delete(fid)
        # The active segment held only these files: once all are deleted it is removed at once.
        assert segment_bytes(daemon) == 0
        assert list((daemon.data_dir / "blobs").glob("*.seg")) == []
        assert db.command({"collStats": "fs.chunks"})["count"] == 0


def test_small_chunks_stay_inside_the_database(daemon):
    with daemon.client() as c:
        bucket = gridfs.GridFSBucket(c["space_small"], chunk_size_bytes=512)
        before = segment_bytes(daemon)
        data = os.urandom(10_000)
        fid = bucket.upload_from_stream("small", data)
        assert segment_bytes(daemon) == before
        assert bucket.open_download_stream(fid).read() == data
