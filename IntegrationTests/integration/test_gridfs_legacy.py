"""pymongo's legacy gridfs.GridFS API against the daemon."""

from __future__ import annotations

import datetime
import warnings

import pytest
from bson import Int64, ObjectId
from gridfs import GridFS
from gridfs.errors import FileExists, NoFile

from gridfs_support import pattern_bytes, stored_chunks, stored_files


def test_put_get_and_gridout_attributes(db) -> None:
    fs = GridFS(db)
    data = pattern_bytes(300_000)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # contentType and aliases are deprecated
        file_id = fs.put(data, filename="report.bin", contentType="application/x-test",
                         aliases=["r", "rep"], author="gridlite", tags=["a", "b"], chunkSize=100_000)
        out = fs.get(file_id)
        assert out.content_type == "application/x-test"
        assert out.aliases == ["r", "rep"]
    assert out._id == file_id and isinstance(file_id, ObjectId)
    assert out.filename == out.name == "report.bin"
    assert out.length == 300_000 and out.chunk_size == 100_000
    assert isinstance(out.upload_date, datetime.datetime)
    assert out.author == "gridlite" and out.tags == ["a", "b"]
    assert out.read() == data
    doc = stored_files(db)[0]
    assert doc["contentType"] == "application/x-test" and doc["author"] == "gridlite"
    assert isinstance(doc["length"], Int64) and type(doc["chunkSize"]) is int
    assert [c["n"] for c in stored_chunks(db)] == [0, 1, 2]


@pytest.mark.parametrize("file_id", ["legacy-id", 7, {"a": [1, 2]}, ObjectId()], ids=["str", "int", "doc", "oid"])
def test_put_with_id_and_duplicates(db, file_id) -> None:
    fs = GridFS(db)
    assert fs.put(b"payload", _id=file_id, filename="x") == file_id
    assert fs.get(file_id).read() == b"payload"
    assert fs.exists(_id=file_id) and fs.exists({"filename": "x"})
    if not isinstance(file_id, dict):  # a document argument is a filter, not an id
        assert fs.exists(file_id)
    with pytest.raises(FileExists):
        fs.put(b"other", _id=file_id)
    fs.delete(file_id)
    assert not fs.exists(_id=file_id)
    with pytest.raises(NoFile):
        fs.get(file_id)


def test_versions(db) -> None:
    fs = GridFS(db)
    for i in range(3):
        fs.put(f"v{i}".encode(), filename="doc.txt")
    fs.put(b"else", filename="other.txt")
    assert fs.get_last_version("doc.txt").read() == b"v2"
    assert fs.get_version("doc.txt").read() == b"v2"
    assert fs.get_version("doc.txt", 0).read() == b"v0"
    assert fs.get_version("doc.txt", 1).read() == b"v1"
    assert fs.get_version("doc.txt", -2).read() == b"v1"
    assert fs.get_version("doc.txt", -3).read() == b"v0"
    for version in (3, -4):
        with pytest.raises(NoFile):
            fs.get_version("doc.txt", version)
    with pytest.raises(NoFile):
        fs.get_last_version("missing.txt")
    assert sorted(fs.list()) == ["doc.txt", "other.txt"]


def test_find_and_find_one(db) -> None:
    fs = GridFS(db, collection="legacybucket")
    for i in range(12):
        fs.put(f"content {i}".encode(), filename=f"f{i:02d}", group=i % 3)
    group0 = [g.filename for g in fs.find({"group": 0}).sort("filename", -1)]
    assert group0 == ["f09", "f06", "f03", "f00"]
    assert [g.filename for g in fs.find({}).sort("filename", 1).skip(2).limit(3)] == ["f02", "f03", "f04"]
    assert fs.find_one({"filename": "f05"}).read() == b"content 5"
    assert fs.find_one({"filename": "none"}) is None
    assert fs.find_one().filename.startswith("f")
    cursor = fs.find({}, no_cursor_timeout=True, batch_size=2)
    assert len(list(cursor)) == 12
    cursor.close()
    assert {"legacybucket.files", "legacybucket.chunks"} <= set(db.list_collection_names())


def test_new_file_and_attributes_after_close(db) -> None:
    fs = GridFS(db)
    with fs.new_file(filename="new.txt", chunkSize=4, color="blue") as grid_in:
        grid_in.write(b"hello ")
        grid_in.write("world".encode())
    assert grid_in.closed and grid_in.length == 11
    grid_in.color = "red"  # updates the stored document
    out = fs.get_last_version("new.txt")
    assert out.read() == b"hello world" and out.color == "red"
    assert [c["n"] for c in stored_chunks(db)] == [0, 1, 2]
    empty = fs.new_file(filename="empty")
    empty.close()
    assert fs.get(empty._id).read() == b"" and stored_files(db)[-1]["length"] == 0


def test_delete_removes_chunks(db) -> None:
    fs = GridFS(db)
    keep = fs.put(b"keep me", filename="k", chunkSize=2)
    gone = fs.put(b"remove me", filename="g", chunkSize=2)
    fs.delete(gone)
    fs.delete(ObjectId())  # deleting a missing file is not an error in the legacy API
    assert [f["_id"] for f in stored_files(db)] == [keep]
    assert {c["files_id"] for c in stored_chunks(db)} == {keep}
    assert fs.list() == ["k"]


def test_count_documents_on_bucket_collections(db) -> None:
    fs = GridFS(db)
    for i in range(5):
        fs.put(b"x" * 10, filename=f"c{i}", chunkSize=3)
    assert db["fs.files"].count_documents({}) == 5
    assert db["fs.chunks"].count_documents({"n": {"$gte": 2}}) == 10
    assert db["fs.files"].count_documents({}, skip=1, limit=3) == 3
