"""Large GridFS files through pymongo: 100 MiB, and 2 GiB (marked slow; `make test` runs it).

Content is generated while it is uploaded and hashed while it is downloaded, so the test process never
holds a whole file; the 2 GiB test runs on a daemon of its own and checks that daemon's peak memory.
"""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from bson import Int64
from gridfs import GridFSBucket

from gridfs_support import PatternStream, fresh_database, pattern_bytes, sha256_of_stream

MIB = 1024 * 1024
GIB = 1024 * MIB


def peak_rss_bytes(pid: int) -> int:
    """The process's peak resident set size (VmHWM) from /proc."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError("no VmHWM in /proc status")


def upload_and_verify(db, size: int, seed: int) -> object:
    bucket = GridFSBucket(db)
    source = PatternStream(size, seed=seed)
    file_id = bucket.upload_from_stream(f"large-{size}", source)
    assert source.offset == size
    files = db["fs.files"].find_one({"_id": file_id})
    assert isinstance(files["length"], Int64) and files["length"] == size
    count, digest = sha256_of_stream(bucket.open_download_stream(file_id))
    assert count == size and digest == source.sha256.hexdigest()
    return file_id


def test_100_mib(client, request) -> None:
    db = fresh_database(client, request)
    try:
        bucket = GridFSBucket(db)
        file_id = upload_and_verify(db, 100 * MIB, seed=1)
        out = bucket.open_download_stream(file_id)
        reference = pattern_bytes(64 * MIB + 1000, seed=1)
        for offset in (64 * MIB - 5, 255 * 1024 * 200 + 3, 17):
            out.seek(offset)
            assert out.read(1000) == reference[offset:offset + 1000]
        sink = io.BytesIO()
        GridFSBucket(db).download_to_stream_by_name(f"large-{100 * MIB}", sink)
        assert len(sink.getvalue()) == 100 * MIB
    finally:
        client.drop_database(db.name)


@pytest.mark.slow
def test_2_gib(daemon_factory) -> None:
    daemon = daemon_factory()
    with daemon.client(socketTimeoutMS=120_000) as client:
        bucket = GridFSBucket(client["large"])
        size = 2 * GIB  # length above the int32 range
        file_id = upload_and_verify(client["large"], size, seed=2)
        out = bucket.open_download_stream(file_id)
        out.seek(size - 10)
        tail = out.read()
        period = pattern_bytes(251, seed=2)
        assert tail == bytes(period[(size - 10 + i) % 251] for i in range(10))
        chunks = client["large"]["fs.chunks"]
        last_n = -(-size // (255 * 1024)) - 1
        last = chunks.find_one({"files_id": file_id, "n": last_n})
        assert type(last["n"]) is int and len(last["data"]) == size - last_n * 255 * 1024
        bucket.delete(file_id)
        assert chunks.find_one({"files_id": file_id}) is None
    peak = peak_rss_bytes(daemon.pid)
    print(f"daemon peak RSS after a 2 GiB upload and download: {peak / MIB:.0f} MiB")
    assert peak < 1 * GIB, f"the daemon's peak RSS was {peak / MIB:.0f} MiB"
