"""Index, collection, database, stats and validate commands against the real daemon (pymongo)."""

from __future__ import annotations

import gridfs
import pytest
from bson import Binary, ObjectId
from pymongo import ASCENDING, DESCENDING
from pymongo.errors import DuplicateKeyError, OperationFailure


# --- indexes -----------------------------------------------------------------------------------


def index_names(coll):
    return sorted(i["name"] for i in coll.list_indexes())


def test_create_compound_unique_named_index(db):
    name = db.c.create_index([("a", ASCENDING), ("b", DESCENDING)], unique=True, name="my_ab")
    assert name == "my_ab"
    specs = {i["name"]: i for i in db.c.list_indexes()}
    assert set(specs) == {"_id_", "my_ab"}
    assert dict(specs["my_ab"]["key"]) == {"a": 1, "b": -1}
    assert specs["my_ab"]["unique"] is True
    assert dict(specs["_id_"]["key"]) == {"_id": 1}
    db.c.insert_one({"a": 1, "b": 1})
    db.c.insert_one({"a": 1, "b": 2})
    with pytest.raises(DuplicateKeyError):
        db.c.insert_one({"a": 1, "b": 1})


def test_create_indexes_reply_and_same_spec_twice(db):
    reply = db.command({"createIndexes": "c", "indexes": [{"key": {"x": 1}, "name": "x_1"}]})
    assert reply["ok"] == 1 and reply["createdCollectionAutomatically"] is True
    assert reply["numIndexesBefore"] == 1 and reply["numIndexesAfter"] == 2
    reply = db.command({"createIndexes": "c", "indexes": [{"key": {"x": 1}, "name": "x_1"}]})
    assert reply["numIndexesBefore"] == reply["numIndexesAfter"] == 2
    assert reply["createdCollectionAutomatically"] is False


def test_different_spec_same_name_is_86_and_same_key_other_name_is_85(db):
    db.c.create_index([("x", 1)], name="idx")
    with pytest.raises(OperationFailure) as excinfo:
        db.c.create_index([("y", 1)], name="idx")
    assert excinfo.value.code == 86
    with pytest.raises(OperationFailure) as excinfo:
        db.c.create_index([("x", 1)], name="other")
    assert excinfo.value.code == 85
    with pytest.raises(OperationFailure) as excinfo:
        db.c.create_index([("x", 1)], name="idx", unique=True)
    assert excinfo.value.code in (85, 86)
    assert index_names(db.c) == ["_id_", "idx"]


def test_unique_index_over_duplicates_is_11000(db):
    db.c.insert_many([{"k": 1}, {"k": 2}, {"k": 1}])
    with pytest.raises(OperationFailure) as excinfo:
        db.c.create_index("k", unique=True)
    assert excinfo.value.code == 11000
    assert index_names(db.c) == ["_id_"]


def test_index_is_maintained_by_writes(db):
    db.c.create_index("k", unique=True)
    db.c.insert_one({"_id": 1, "k": 1})
    db.c.update_one({"_id": 1}, {"$set": {"k": 2}})
    db.c.insert_one({"_id": 2, "k": 1})  # 1 is free again
    db.c.delete_one({"_id": 1})
    db.c.insert_one({"_id": 3, "k": 2})  # 2 is free again
    assert sorted(d["k"] for d in db.c.find({"k": {"$gte": 1}})) == [1, 2]


def test_list_indexes_on_missing_collection_is_26(db):
    with pytest.raises(OperationFailure) as excinfo:
        db.command({"listIndexes": "nothing"})
    assert excinfo.value.code == 26


def test_list_indexes_has_id_index_for_new_collection(db):
    db.c.insert_one({})
    reply = db.command({"listIndexes": "c"})
    assert reply["cursor"]["id"] == 0
    assert [i["name"] for i in reply["cursor"]["firstBatch"]] == ["_id_"]


def test_drop_indexes_star_name_and_key(db):
    db.c.create_index("a")
    db.c.create_index("b")
    db.c.create_index([("c", 1), ("d", -1)])
    db.c.drop_index("a_1")
    assert index_names(db.c) == ["_id_", "b_1", "c_1_d_-1"]
    db.command({"dropIndexes": "c", "index": {"c": 1, "d": -1}})
    assert index_names(db.c) == ["_id_", "b_1"]
    db.c.create_index("e")
    db.command({"dropIndexes": "c", "index": "*"})
    assert index_names(db.c) == ["_id_"]
    with pytest.raises(OperationFailure) as excinfo:
        db.c.drop_index("_id_")
    assert excinfo.value.code == 72
    with pytest.raises(OperationFailure) as excinfo:
        db.c.drop_index("nope_1")
    assert excinfo.value.code == 27


# --- collections and databases -----------------------------------------------------------------


def test_create_and_48_if_exists(db):
    db.create_collection("made")
    with pytest.raises(OperationFailure) as excinfo:
        db.command({"create": "made"})
    assert excinfo.value.code == 48
    assert "made" in db.list_collection_names()


def test_drop_ok_on_missing_and_existing(db):
    assert db.command({"drop": "nothing"})["ok"] == 1
    db.c.insert_one({})
    db.c.create_index("a")
    assert db.command({"drop": "c"})["ok"] == 1
    assert "c" not in db.list_collection_names()
    with pytest.raises(OperationFailure):
        db.command({"listIndexes": "c"})


def test_drop_database(client, db):
    db.a.insert_one({})
    db.b.insert_one({})
    reply = db.command({"dropDatabase": 1})
    assert reply["ok"] == 1
    assert db.list_collection_names() == []
    assert db.name not in client.list_database_names()


def test_list_collections_filter_name_only_authorized_cursor(db):
    db.a.insert_one({})
    db.fs.files.insert_one({})
    db.fs.chunks.insert_one({})
    reply = db.command({"listCollections": 1})
    assert reply["cursor"]["id"] == 0 and reply["cursor"]["ns"] == f"{db.name}.$cmd.listCollections"
    assert sorted(c["name"] for c in reply["cursor"]["firstBatch"]) == ["a", "fs.chunks", "fs.files"]
    full = reply["cursor"]["firstBatch"][0]
    assert full["type"] == "collection" and "options" in full and "info" in full
    reply = db.command({"listCollections": 1, "filter": {"name": "fs.files"}})
    assert [c["name"] for c in reply["cursor"]["firstBatch"]] == ["fs.files"]
    reply = db.command({"listCollections": 1, "filter": {"name": {"$regex": "^fs\\."}}, "nameOnly": True,
                        "authorizedCollections": True})
    batch = reply["cursor"]["firstBatch"]
    assert sorted(c["name"] for c in batch) == ["fs.chunks", "fs.files"]
    assert all(set(c) == {"name", "type"} for c in batch)
    assert sorted(db.list_collection_names(filter={"name": "a"})) == ["a"]


def test_list_databases_name_only_and_sizes(client, db):
    db.c.insert_many([{"x": "y" * 1000} for _ in range(50)])
    reply = client.admin.command({"listDatabases": 1})
    mine = [d for d in reply["databases"] if d["name"] == db.name]
    assert len(mine) == 1 and mine[0]["sizeOnDisk"] > 0 and mine[0]["empty"] is False
    assert reply["totalSize"] >= mine[0]["sizeOnDisk"]
    reply = client.admin.command({"listDatabases": 1, "nameOnly": True})
    assert all(set(d) == {"name"} for d in reply["databases"])
    assert db.name in [d["name"] for d in reply["databases"]]
    reply = client.admin.command({"listDatabases": 1, "filter": {"name": db.name}})
    assert [d["name"] for d in reply["databases"]] == [db.name]


def test_rename_collection(client, db):
    db.src.insert_many([{"_id": i} for i in range(5)])
    db.src.create_index("k")
    client.admin.command({"renameCollection": f"{db.name}.src", "to": f"{db.name}.dst"})
    assert "src" not in db.list_collection_names()
    assert sorted(d["_id"] for d in db.dst.find()) == list(range(5))
    assert index_names(db.dst) == ["_id_", "k_1"]
    db.other.insert_one({"_id": "o"})
    with pytest.raises(OperationFailure) as excinfo:
        db.dst.rename("other")
    assert excinfo.value.code == 48
    db.dst.rename("other", dropTarget=True)
    assert sorted(d["_id"] for d in db.other.find()) == list(range(5))
    with pytest.raises(OperationFailure) as excinfo:
        client.admin.command({"renameCollection": f"{db.name}.missing", "to": f"{db.name}.x"})
    assert excinfo.value.code == 26


def test_coll_stats_and_db_stats_real_sizes(db):
    db.c.insert_many([{"_id": i, "x": "y" * 500} for i in range(100)])
    db.c.create_index("x")
    stats = db.command({"collStats": "c"})
    assert stats["count"] == 100
    assert stats["size"] >= 100 * 500 and stats["storageSize"] > 0
    assert stats["avgObjSize"] >= 500
    assert stats["nindexes"] == 2 and set(stats["indexSizes"]) == {"_id_", "x_1"}
    assert stats["totalIndexSize"] > 0
    dbs = db.command({"dbStats": 1})
    assert dbs["collections"] == 1 and dbs["objects"] == 100
    assert dbs["dataSize"] >= 100 * 500 and dbs["storageSize"] > 0 and dbs["indexes"] == 2
    assert dbs["indexSize"] > 0
    scaled = db.command({"collStats": "c", "scale": 1024})
    assert scaled["size"] == stats["size"] // 1024
    missing = db.command({"collStats": "missing"})
    assert missing["count"] == 0


# --- validate and GridFS ------------------------------------------------------------------------


def test_validate_clean_bucket_has_no_warnings(db):
    bucket = gridfs.GridFSBucket(db, chunk_size_bytes=1000)
    bucket.upload_from_stream("ok.bin", b"x" * 2500)
    for coll in ("fs.files", "fs.chunks"):
        reply = db.command({"validate": coll})
        assert reply["valid"] is True and reply["warnings"] == [] and reply["errors"] == [], reply


def test_validate_reports_gridfs_problems(db):
    bucket = gridfs.GridFSBucket(db, chunk_size_bytes=1000)
    missing = bucket.upload_from_stream("missing.bin", b"m" * 2500)
    wrong = bucket.upload_from_stream("wrong.bin", b"w" * 1500)
    db.fs.chunks.delete_one({"files_id": missing, "n": 1})
    db.fs.chunks.update_one({"files_id": wrong, "n": 1}, {"$set": {"data": Binary(b"short")}})
    orphan = ObjectId()
    db.fs.chunks.insert_one({"files_id": orphan, "n": 0, "data": Binary(b"o")})
    reply = db.command({"validate": "fs.files"})
    text = "\n".join(reply["warnings"] + reply["errors"])
    assert str(missing) in text and "missing chunk 1" in text, reply
    assert str(wrong) in text and "chunk 1" in text, reply
    assert str(orphan) in text and "orphan" in text, reply
    assert reply["nrecords"] == 2


def test_validate_missing_collection_is_error(db):
    with pytest.raises(OperationFailure) as excinfo:
        db.command({"validate": "missing"})
    assert excinfo.value.code == 26


def test_gridfs_bucket_round_trip(db):
    bucket = gridfs.GridFSBucket(db, chunk_size_bytes=4096)
    data = bytes(range(256)) * 100
    fid = bucket.upload_from_stream("f.bin", data, metadata={"contentType": "x"})
    assert bucket.open_download_stream(fid).read() == data
    assert bucket.open_download_stream_by_name("f.bin").read() == data
    stream = bucket.open_download_stream(fid)
    stream.seek(20000)
    assert stream.read(10) == data[20000:20010]
    bucket.rename(fid, "g.bin")
    assert [f.filename for f in bucket.find({})] == ["g.bin"]
    bucket.delete(fid)
    assert list(bucket.find({})) == []
    assert list(db.fs.chunks.find()) == []
    with pytest.raises(gridfs.errors.NoFile):
        bucket.delete(fid)
