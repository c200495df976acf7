"""pymongo's GridFSBucket against the daemon: uploads, downloads, stored layout, ids of every kind."""

from __future__ import annotations

import datetime
import io
import math

import pytest
from bson import Int64, ObjectId
from gridfs import GridFSBucket
from gridfs.errors import FileExists, NoFile

from gridfs_support import DEFAULT_CHUNK_SIZE, pattern_bytes, stored_chunks, stored_files

SMALL_CHUNK = 1000
IDS = [ObjectId("5f0000000000000000000001"), "a string id", 42, Int64(2**40), {"kind": "doc", "n": 1}]


def check_layout(db, file_id, data: bytes, chunk_size: int, bucket: str = "fs", filename: str = "f") -> None:
    """The files document and chunks have the types and contents GridFS clients rely on."""
    files = [f for f in stored_files(db, bucket) if f["_id"] == file_id]
    assert len(files) == 1
    doc = files[0]
    assert set(doc) == {"_id", "filename", "chunkSize", "length", "uploadDate"} | ({"metadata"} & set(doc))
    assert doc["filename"] == filename
    assert isinstance(doc["length"], Int64) and doc["length"] == len(data)
    assert type(doc["chunkSize"]) is int and doc["chunkSize"] == chunk_size
    assert isinstance(doc["uploadDate"], datetime.datetime)
    chunks = [c for c in stored_chunks(db, bucket) if c["files_id"] == file_id]
    assert len(chunks) == math.ceil(len(data) / chunk_size)
    for n, chunk in enumerate(chunks):
        assert list(chunk) == ["_id", "files_id", "n", "data"]
        assert isinstance(chunk["_id"], ObjectId)
        assert type(chunk["n"]) is int and chunk["n"] == n
        assert type(chunk["data"]) is bytes
        assert chunk["data"] == data[n * chunk_size:(n + 1) * chunk_size]


@pytest.mark.parametrize("size", [0, 1, SMALL_CHUNK - 1, SMALL_CHUNK, SMALL_CHUNK + 1, 3 * SMALL_CHUNK + 7])
def test_round_trip_custom_chunk_size(db, size: int) -> None:
    bucket = GridFSBucket(db, chunk_size_bytes=SMALL_CHUNK)
    data = pattern_bytes(size, seed=size)
    file_id = bucket.upload_from_stream("f", io.BytesIO(data))
    check_layout(db, file_id, data, SMALL_CHUNK)
    assert bucket.open_download_stream(file_id).read() == data
    sink = io.BytesIO()
    bucket.download_to_stream(file_id, sink)
    assert sink.getvalue() == data


@pytest.mark.parametrize("size", [0, 1, DEFAULT_CHUNK_SIZE, DEFAULT_CHUNK_SIZE + 1])
def test_round_trip_default_chunk_size(db, size: int) -> None:
    bucket = GridFSBucket(db)
    data = pattern_bytes(size, seed=3)
    file_id = bucket.upload_from_stream("f", data)
    check_layout(db, file_id, data, DEFAULT_CHUNK_SIZE)
    assert bucket.open_download_stream(file_id).read() == data


def test_custom_bucket_name(db) -> None:
    bucket = GridFSBucket(db, bucket_name="images", chunk_size_bytes=4)
    file_id = bucket.upload_from_stream("f", b"0123456789", metadata={"kind": "png"})
    assert {"images.files", "images.chunks"} <= set(db.list_collection_names())
    assert "fs.files" not in db.list_collection_names()
    check_layout(db, file_id, b"0123456789", 4, bucket="images")
    assert stored_files(db, "images")[0]["metadata"] == {"kind": "png"}
    assert bucket.open_download_stream_by_name("f").read() == b"0123456789"
    indexes = {ix["name"]: ix for ix in db["images.chunks"].list_indexes()}
    assert indexes["files_id_1_n_1"]["unique"] is True
    assert "filename_1_uploadDate_1" in {ix["name"] for ix in db["images.files"].list_indexes()}
    with pytest.raises(NoFile):
        GridFSBucket(db).open_download_stream(file_id)


@pytest.mark.parametrize("file_id", IDS, ids=["objectid", "string", "int", "int64", "document"])
def test_ids_of_every_kind(db, file_id) -> None:
    bucket = GridFSBucket(db, chunk_size_bytes=5)
    data = b"hello, gridfs!"
    bucket.upload_from_stream_with_id(file_id, "named", data)
    bucket.upload_from_stream_with_id(ObjectId(), "other", b"noise")
    check_layout(db, file_id, data, 5, filename="named")
    assert bucket.open_download_stream(file_id).read() == data
    assert [f._id for f in bucket.find({"_id": file_id})] == [file_id]
    with pytest.raises(FileExists):
        bucket.upload_from_stream_with_id(file_id, "again", b"x")
    assert bucket.open_download_stream(file_id).read() == data  # the failed upload left nothing behind
    bucket.rename(file_id, "renamed")
    assert bucket.open_download_stream_by_name("renamed").read() == data
    bucket.delete(file_id)
    with pytest.raises(NoFile):
        bucket.open_download_stream(file_id)
    assert [c["files_id"] for c in stored_chunks(db)] == [stored_files(db)[0]["_id"]]


def test_open_upload_stream_writes_and_attributes(db) -> None:
    bucket = GridFSBucket(db, chunk_size_bytes=8)
    with bucket.open_upload_stream("streamed", metadata={"a": 1}) as grid_in:
        grid_in.write(b"abc")
        grid_in.write(b"defghijkl")
        grid_in.writelines([b"mn", b"op"])
        file_id = grid_in._id
    assert grid_in.closed
    assert grid_in.length == 16 and grid_in.chunk_size == 8 and grid_in.filename == "streamed"
    assert isinstance(grid_in.upload_date, datetime.datetime)
    check_layout(db, file_id, b"abcdefghijklmnop", 8, filename="streamed")
    # Setting an attribute after close updates the stored files document.
    grid_in.note = "added later"
    assert stored_files(db)[0]["note"] == "added later"
    out = bucket.open_download_stream(file_id)
    assert out.note == "added later" and out.metadata == {"a": 1}


def test_open_upload_stream_with_id(db) -> None:
    bucket = GridFSBucket(db, chunk_size_bytes=4)
    grid_in = bucket.open_upload_stream_with_id("custom-id", "name")
    grid_in.write(b"123456789")
    grid_in.close()
    check_layout(db, "custom-id", b"123456789", 4, filename="name")


def test_abort_removes_chunks_and_file(db) -> None:
    bucket = GridFSBucket(db, chunk_size_bytes=1024 * 1024)
    keep = bucket.upload_from_stream("keep", b"kept data")
    grid_in = bucket.open_upload_stream("aborted")
    # pymongo buffers chunks up to 48 MB before inserting them: write past that so some are stored.
    grid_in.write(pattern_bytes(50 * 1024 * 1024))
    assert len(stored_chunks(db)) > 40
    grid_in.abort()
    assert [f["_id"] for f in stored_files(db)] == [keep]
    assert {c["files_id"] for c in stored_chunks(db)} == {keep}


def test_context_manager_error_aborts(db) -> None:
    bucket = GridFSBucket(db, chunk_size_bytes=4)
    with pytest.raises(RuntimeError):
        with bucket.open_upload_stream("broken") as grid_in:
            grid_in.write(b"0123456789")
            raise RuntimeError("stop")
    assert stored_files(db) == [] and stored_chunks(db) == []


def test_revisions(db) -> None:
    bucket = GridFSBucket(db, chunk_size_bytes=3)
    for i in range(3):
        bucket.upload_from_stream("rev", f"version {i}".encode())
    expected = {0: b"version 0", 1: b"version 1", 2: b"version 2", -1: b"version 2", -2: b"version 1",
                -3: b"version 0"}
    for revision, data in expected.items():
        sink = io.BytesIO()
        bucket.download_to_stream_by_name("rev", sink, revision=revision)
        assert sink.getvalue() == data, revision
        assert bucket.open_download_stream_by_name("rev", revision=revision).read() == data
    sink = io.BytesIO()
    bucket.download_to_stream_by_name("rev", sink)
    assert sink.getvalue() == b"version 2"
    for revision in (3, -4, 999):
        with pytest.raises(NoFile):
            bucket.open_download_stream_by_name("rev", revision=revision)
    with pytest.raises(NoFile):
        bucket.download_to_stream_by_name("missing", io.BytesIO())


def test_missing_files_raise_nofile(db) -> None:
    bucket = GridFSBucket(db)
    bucket.upload_from_stream("present", b"x")
    for call in (lambda: bucket.open_download_stream(ObjectId()),
                 lambda: bucket.download_to_stream("nope", io.BytesIO()),
                 lambda: bucket.open_download_stream_by_name("absent"),
                 lambda: bucket.delete(ObjectId()),
                 lambda: bucket.delete_by_name("absent"),
                 lambda: bucket.rename(12345, "x"),
                 lambda: bucket.rename_by_name("absent", "x")):
        with pytest.raises(NoFile):
            call()
    assert len(stored_files(db)) == 1


def test_delete_and_rename_by_name(db) -> None:
    bucket = GridFSBucket(db, chunk_size_bytes=2)
    for i in range(3):
        bucket.upload_from_stream("many", b"abcde")
    other = bucket.upload_from_stream("other", b"xyz")
    bucket.rename_by_name("many", "renamed")
    assert sorted(f["filename"] for f in stored_files(db)) == ["other", "renamed", "renamed", "renamed"]
    bucket.delete_by_name("renamed")
    assert [f["_id"] for f in stored_files(db)] == [other]
    assert {c["files_id"] for c in stored_chunks(db)} == {other}


def test_drop_bucket_by_dropping_collections(db) -> None:
    bucket = GridFSBucket(db)
    bucket.upload_from_stream("f", b"data")
    db.drop_collection("fs.files")
    db.drop_collection("fs.chunks")
    assert not {"fs.files", "fs.chunks"} & set(db.list_collection_names())
    with pytest.raises(NoFile):
        bucket.open_download_stream_by_name("f")
    # The bucket is usable again: the indexes are created anew.
    file_id = bucket.upload_from_stream("f", b"again")
    assert bucket.open_download_stream(file_id).read() == b"again"
    assert "files_id_1_n_1" in {ix["name"] for ix in db["fs.chunks"].list_indexes()}
