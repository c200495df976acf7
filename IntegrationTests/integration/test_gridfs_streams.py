"""pymongo GridOut streams (read, readline, readchunk, seek, iteration), bucket find, corrupt files."""

from __future__ import annotations

import io

import pytest
from bson import ObjectId
from gridfs import GridFSBucket
from gridfs.errors import CorruptGridFile

from gridfs_support import pattern_bytes, stored_chunks

CHUNK = 10


@pytest.fixture
def text_file(db):
    """A 5-chunk file of lines (chunk size 10, lines crossing chunk boundaries)."""
    bucket = GridFSBucket(db, chunk_size_bytes=CHUNK)
    data = b"first line\nsecond line\n\nshort\na much longer fourth line\nno newline"
    return bucket, bucket.upload_from_stream("text", data), data


def test_read_in_pieces_across_chunks(text_file) -> None:
    bucket, file_id, data = text_file
    out = bucket.open_download_stream(file_id)
    assert out.length == len(data) and out.chunk_size == CHUNK and out.filename == "text"
    pieces = [out.read(n) for n in (3, 7, 1, 13, 20)]
    assert b"".join(pieces) == data[:44]
    assert out.tell() == 44
    assert out.read() == data[44:]
    assert out.read() == b"" and out.read(5) == b""


def test_readline_and_iteration(text_file) -> None:
    bucket, file_id, data = text_file
    out = bucket.open_download_stream(file_id)
    assert out.readline() == b"first line\n"
    assert out.readline(4) == b"seco"
    assert out.readline() == b"nd line\n"
    assert out.readlines() == [b"\n", b"short\n", b"a much longer fourth line\n", b"no newline"]
    assert list(bucket.open_download_stream(file_id)) == data.splitlines(keepends=True)


def test_readchunk(text_file) -> None:
    bucket, file_id, data = text_file
    out = bucket.open_download_stream(file_id)
    chunks = []
    while chunk := out.readchunk():
        chunks.append(chunk)
    assert chunks == [data[i:i + CHUNK] for i in range(0, len(data), CHUNK)]
    out.seek(15)
    assert out.readchunk() == data[15:20]  # the rest of the current chunk


@pytest.mark.parametrize("offset", [0, 1, 9, 10, 11, 25, 49, 50])
def test_seek_and_tell(text_file, offset: int) -> None:
    bucket, file_id, data = text_file
    out = bucket.open_download_stream(file_id)
    out.read(33)
    assert out.seek(offset) == offset and out.tell() == offset
    assert out.read(12) == data[offset:offset + 12]
    out.seek(-5, io.SEEK_CUR)
    assert out.tell() == offset + 12 - 5
    out.seek(-3, io.SEEK_END)
    assert out.read() == data[-3:]
    out.seek(offset)
    assert out.read() == data[offset:]


def test_seek_backwards_after_reading_to_the_end(db) -> None:
    bucket = GridFSBucket(db, chunk_size_bytes=7)
    data = pattern_bytes(1000)
    file_id = bucket.upload_from_stream("big", data)
    out = bucket.open_download_stream(file_id)
    assert out.read() == data
    for offset in (999, 500, 0, 700, 6, 7, 8):
        out.seek(offset)
        assert out.read(20) == data[offset:offset + 20], offset


@pytest.fixture
def many_files(db):
    bucket = GridFSBucket(db, chunk_size_bytes=4)
    ids = [bucket.upload_from_stream(f"file-{i:03d}", f"content {i}".encode(), metadata={"i": i, "even": i % 2 == 0})
           for i in range(250)]
    return bucket, ids


def test_find_filter_sort_skip_limit(many_files) -> None:
    bucket, ids = many_files
    evens = [f.filename for f in bucket.find({"metadata.even": True}, sort=[("metadata.i", -1)])]
    assert evens == [f"file-{i:03d}" for i in range(248, -1, -2)]
    page = [f.metadata["i"] for f in bucket.find({}, sort=[("filename", 1)], skip=10, limit=5)]
    assert page == [10, 11, 12, 13, 14]
    assert [f._id for f in bucket.find({"_id": ids[7]})] == [ids[7]]
    assert list(bucket.find({"filename": "nope"})) == []
    first = next(iter(bucket.find({"filename": {"$regex": "^file-01"}}, sort=[("filename", 1)])))
    assert first.filename == "file-010" and first.read() == b"content 10"


def test_find_iterates_across_getmore(many_files) -> None:
    bucket, ids = many_files
    cursor = bucket.find({}, batch_size=7, no_cursor_timeout=True)
    found = [f._id for f in cursor]
    cursor.close()
    assert sorted(found) == sorted(ids) and len(found) == 250
    # The default first batch is 101 documents; 250 files need getMore.
    assert len([f for f in bucket.find({})]) == 250


def damaged(db, how: str):
    bucket = GridFSBucket(db, chunk_size_bytes=4)
    file_id = bucket.upload_from_stream("damaged", b"0123456789ab")  # chunks 0, 1, 2 of 4 bytes
    chunks = db["fs.chunks"]
    if how == "missing-middle":
        chunks.delete_one({"files_id": file_id, "n": 1})
    elif how == "missing-last":
        chunks.delete_one({"files_id": file_id, "n": 2})
    elif how == "truncated":
        chunks.update_one({"files_id": file_id, "n": 1}, {"$set": {"data": b"45"}})
    elif how == "oversized":
        chunks.update_one({"files_id": file_id, "n": 2}, {"$set": {"data": b"89abc"}})
    elif how == "wrong-n":
        chunks.update_one({"files_id": file_id, "n": 1}, {"$set": {"n": 7}})
    elif how == "extra-chunk":
        chunks.insert_one({"_id": ObjectId(), "files_id": file_id, "n": 3, "data": b"zz"})
    return bucket, file_id


@pytest.mark.parametrize("how", ["missing-middle", "missing-last", "truncated", "oversized", "wrong-n",
                                 "extra-chunk"])
def test_corrupt_file_raises(db, how: str) -> None:
    bucket, file_id = damaged(db, how)
    with pytest.raises(CorruptGridFile):
        bucket.open_download_stream(file_id).read()
    if how == "extra-chunk":
        return  # download_to_stream stops after `length` bytes and never looks at a chunk beyond them
    with pytest.raises(CorruptGridFile):
        bucket.download_to_stream(file_id, io.BytesIO())


def test_intact_chunks_survive_damage_elsewhere(db) -> None:
    bucket, file_id = damaged(db, "missing-last")
    out = bucket.open_download_stream(file_id)
    assert out.read(8) == b"01234567"
    assert len(stored_chunks(db)) == 2
