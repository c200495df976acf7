"""pymongo's AsyncGridFSBucket (AsyncMongoClient) against the daemon; each test runs its own event loop."""

from __future__ import annotations

import asyncio
import io
from typing import Any, Awaitable, Callable

import pytest
from bson import ObjectId
from gridfs import AsyncGridFSBucket
from gridfs.errors import CorruptGridFile, FileExists, NoFile
from pymongo import AsyncMongoClient

from gridfs_support import pattern_bytes


def run_async(daemon, request, body: Callable[[Any], Awaitable[None]]) -> None:
    """Runs `body(db)` on a fresh AsyncMongoClient and a database named after the test."""
    name = ("agfs_" + "".join(c if c.isalnum() else "_" for c in request.node.name))[:60]

    async def main() -> None:
        client = AsyncMongoClient(daemon.uri, serverSelectionTimeoutMS=5000)
        try:
            await client.drop_database(name)
            await body(client[name])
            await client.drop_database(name)
        finally:
            await client.close()

    asyncio.run(main())


@pytest.mark.parametrize("size", [0, 1, 7, 8, 9, 1000])
def test_async_round_trip(daemon, request, size: int) -> None:
    async def body(db) -> None:
        bucket = AsyncGridFSBucket(db, chunk_size_bytes=8)
        data = pattern_bytes(size, seed=size)
        file_id = await bucket.upload_from_stream("f", data, metadata={"size": size})
        out = await bucket.open_download_stream(file_id)
        assert await out.read() == data
        assert out.length == size and out.metadata == {"size": size}
        sink = io.BytesIO()
        await bucket.download_to_stream(file_id, sink)
        assert sink.getvalue() == data
        chunks = await db["fs.chunks"].find({"files_id": file_id}, sort=[("n", 1)]).to_list()
        assert [c["n"] for c in chunks] == list(range(-(-size // 8)))
    run_async(daemon, request, body)


def test_async_upload_streams_and_abort(daemon, request) -> None:
    async def body(db) -> None:
        bucket = AsyncGridFSBucket(db, bucket_name="async", chunk_size_bytes=4)
        grid_in = bucket.open_upload_stream_with_id("my-id", "streamed")
        await grid_in.write(b"abcdef")
        await grid_in.write(b"ghij")
        await grid_in.close()
        assert grid_in.length == 10
        out = await bucket.open_download_stream("my-id")
        assert await out.read(3) == b"abc"
        await out.seek(8)
        assert await out.read() == b"ij"
        assert await out.readchunk() == b""
        async with bucket.open_upload_stream("ctx") as grid_in:
            await grid_in.write(b"context")
        assert await (await bucket.open_download_stream_by_name("ctx")).read() == b"context"
        aborted = bucket.open_upload_stream("aborted")
        await aborted.write(b"x" * 10)
        await aborted.abort()
        names = sorted([f["filename"] for f in await db["async.files"].find().to_list()])
        assert names == ["ctx", "streamed"]
        with pytest.raises(FileExists):
            await bucket.upload_from_stream_with_id("my-id", "dup", b"1")
    run_async(daemon, request, body)


def test_async_find_rename_delete(daemon, request) -> None:
    async def body(db) -> None:
        bucket = AsyncGridFSBucket(db, chunk_size_bytes=3)
        ids = [await bucket.upload_from_stream(f"n{i % 3}", f"data-{i}".encode()) for i in range(120)]
        found = [f._id async for f in bucket.find({}, batch_size=10)]
        assert sorted(found) == sorted(ids)
        latest = await bucket.open_download_stream_by_name("n0", revision=-1)
        assert await latest.read() == b"data-117"
        first = await bucket.open_download_stream_by_name("n0", revision=0)
        assert await first.read() == b"data-0"
        with pytest.raises(NoFile):
            await bucket.open_download_stream_by_name("n0", revision=40)
        await bucket.rename(ids[0], "renamed")
        await bucket.rename_by_name("n1", "ones")
        assert len([f async for f in bucket.find({"filename": "ones"})]) == 40
        await bucket.delete(ids[0])
        await bucket.delete_by_name("ones")
        assert len([f async for f in bucket.find({})]) == 79
        with pytest.raises(NoFile):
            await bucket.delete(ObjectId())
        with pytest.raises(NoFile):
            await bucket.rename_by_name("ones", "x")
    run_async(daemon, request, body)


def test_async_corrupt_file(daemon, request) -> None:
    async def body(db) -> None:
        bucket = AsyncGridFSBucket(db, chunk_size_bytes=4)
        file_id = await bucket.upload_from_stream("c", b"0123456789")
        await db["fs.chunks"].delete_one({"files_id": file_id, "n": 1})
        out = await bucket.open_download_stream(file_id)
        with pytest.raises(CorruptGridFile):
            await out.read()
    run_async(daemon, request, body)
