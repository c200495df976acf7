"""Edge cases: indexes vs. collection scans, cursors across concurrent writes, unique nulls."""

from __future__ import annotations

import pytest
from bson import Decimal128, Int64
from pymongo.errors import DuplicateKeyError, OperationFailure


MIXED = [
    {"_id": 1, "a": 1}, {"_id": 2, "a": Int64(1)}, {"_id": 3, "a": 1.0}, {"_id": 4, "a": Decimal128("1")},
    {"_id": 5, "a": None}, {"_id": 6}, {"_id": 7, "a": [1, 5]}, {"_id": 8, "a": [[1]]}, {"_id": 9, "a": "1"},
    {"_id": 10, "a": {"b": 1}}, {"_id": 11, "a": [{"b": 2}, {"b": None}]}, {"_id": 12, "a": []},
    {"_id": 13, "a": [None]}, {"_id": 14, "a": 2.5}, {"_id": 15, "a": -0.0}, {"_id": 16, "a": float("nan")},
    {"_id": 17, "a": [{"b": [3, 4]}]},
]

FILTERS = [
    {"a": 1}, {"a": 1.0}, {"a": Decimal128("1")}, {"a": None}, {"a": {"$ne": None}}, {"a": {"$exists": False}},
    {"a": {"$exists": True}}, {"a": []}, {"a": [1]}, {"a": {"$gt": 0}}, {"a": {"$gte": 1, "$lt": 3}},
    {"a": {"$lt": 1}}, {"a": {"$in": [1, None]}}, {"a": {"$nin": [1, None]}}, {"a": {"$type": "array"}},
    {"a.b": None}, {"a.b": 2}, {"a.b": {"$exists": True}}, {"a.b": 4}, {"a.b": {"$gt": 3}},
    {"a": 0}, {"a": float("nan")}, {"a": {"$gt": float("nan")}}, {"a": {"$gte": float("nan")}},
    {"a": {"$size": 1}}, {"a": {"$all": []}}, {"a": {"$elemMatch": {"$gte": 5}}}, {"a": {"$lte": "1"}},
    {"a": {"$in": [[1]]}}, {"a": {"$not": {"$gt": 1}}}, {"a": {"$eq": [1, 5]}}, {"a.0": 1}, {"a.0": None},
]


def ids(coll, filt, **kw):
    return sorted(d["_id"] for d in coll.find(filt, **kw))


@pytest.mark.parametrize("index", [[("a", 1)], [("a", -1), ("_id", 1)], [("a.b", 1)]], ids=str)
def test_index_does_not_change_results(db, index):
    db.scan.insert_many([dict(d) for d in MIXED])
    db.idx.insert_many([dict(d) for d in MIXED])
    db.idx.create_index(index)
    for f in FILTERS:
        assert ids(db.idx, f) == ids(db.scan, f), f
        assert ids(db.idx, f, sort=index) == ids(db.scan, f, sort=index), f
        assert ([d["_id"] for d in db.idx.find(f, sort=[("a", 1), ("_id", 1)])]
                == [d["_id"] for d in db.scan.find(f, sort=[("a", 1), ("_id", 1)])]), f


def test_expected_mixed_results(db):
    db.c.insert_many([dict(d) for d in MIXED])
    assert ids(db.c, {"a": 1}) == [1, 2, 3, 4, 7]
    assert ids(db.c, {"a": None}) == [5, 6, 13]
    assert ids(db.c, {"a": 0}) == [15]
    assert ids(db.c, {"a": float("nan")}) == [16]
    assert ids(db.c, {"a": {"$gt": 0}}) == [1, 2, 3, 4, 7, 14]
    assert ids(db.c, {"a": {"$size": 1}}) == [8, 13, 17]
    assert ids(db.c, {"a": {"$all": []}}) == []


def test_sort_with_index_and_skip_limit(db):
    db.c.insert_many([{"_id": i, "k": (i * 7) % 50} for i in range(50)])
    expected = [d["_id"] for d in db.c.find({}, sort=[("k", -1)], skip=5, limit=10)]
    db.c.create_index([("k", -1)])
    assert [d["_id"] for d in db.c.find({}, sort=[("k", -1)], skip=5, limit=10)] == expected
    assert [d["_id"] for d in db.c.find({"k": {"$gt": 10}}, sort=[("k", 1)], limit=3)] == \
        sorted([i for i in range(50) if (i * 7) % 50 > 10], key=lambda i: (i * 7) % 50)[:3]


def test_unique_index_treats_missing_as_null(db):
    db.c.create_index("k", unique=True)
    db.c.insert_one({"_id": 1})
    with pytest.raises(DuplicateKeyError):
        db.c.insert_one({"_id": 2})
    with pytest.raises(DuplicateKeyError):
        db.c.insert_one({"_id": 3, "k": None})


def test_unique_index_numeric_types_collide(db):
    db.c.create_index("k", unique=True)
    db.c.insert_one({"k": 1})
    for v in (Int64(1), 1.0, Decimal128("1.0")):
        with pytest.raises(DuplicateKeyError):
            db.c.insert_one({"k": v})


def test_unique_multikey_index(db):
    db.c.create_index("tags", unique=True)
    db.c.insert_one({"_id": 1, "tags": ["a", "b"]})
    with pytest.raises(DuplicateKeyError):
        db.c.insert_one({"_id": 2, "tags": ["c", "b"]})
    db.c.insert_one({"_id": 3, "tags": ["c", "c"]})  # repeats inside one document are fine
    assert ids(db.c, {"tags": "c"}) == [3]


def test_cursor_survives_concurrent_inserts_and_deletes(db):
    db.c.insert_many([{"_id": i} for i in range(500)])
    cursor = db.c.find({}, batch_size=50, sort=[("_id", 1)])
    seen = [next(cursor)["_id"] for _ in range(60)]
    db.c.delete_many({"_id": {"$gte": 100, "$lt": 200}})
    db.c.insert_many([{"_id": 1000 + i} for i in range(10)])
    seen += [d["_id"] for d in cursor]
    assert len(seen) == len(set(seen)), "a document came back twice"
    assert set(range(60)) <= set(seen)
    assert set(range(200, 500)) <= set(seen)


def getmore_after_change(db, cid: int, collection: str = "c"):
    """getMore on a cursor whose collection or index went away: an error (mongod: QueryPlanKilled)."""
    with pytest.raises(OperationFailure) as excinfo:
        db.command({"getMore": cid, "collection": collection})
    assert excinfo.value.code in (43, 175, 237), excinfo.value  # CursorNotFound/QueryPlanKilled/CursorKilled


def test_cursor_after_drop_is_killed(db):
    db.c.insert_many([{"_id": i} for i in range(300)])
    cid = db.command({"find": "c", "batchSize": 10})["cursor"]["id"]
    db.c.drop()
    getmore_after_change(db, cid)


def test_cursor_after_drop_never_reads_another_collection(db):
    # The dropped collection is the newest one, so a new collection may take over its storage.
    db.c.insert_many([{"_id": i, "from": "c"} for i in range(300)])
    cid = db.command({"find": "c", "batchSize": 10})["cursor"]["id"]
    db.c.drop()
    db.other.insert_many([{"_id": 1000 + i, "from": "other"} for i in range(300)])
    try:
        more = db.command({"getMore": cid, "collection": "c"})
    except OperationFailure as error:
        assert error.code in (43, 175, 237), error
    else:
        leaked = [d for d in more["cursor"]["nextBatch"] if d.get("from") != "c"]
        assert not leaked, f"getMore on a dropped collection returned another collection's documents: {leaked[:3]}"


def test_index_cursor_after_index_drop_never_reads_another_index(db):
    db.c.insert_many([{"_id": i, "k": i} for i in range(300)])
    db.c.create_index("k")
    cid = db.command({"find": "c", "filter": {"k": {"$gte": 0}}, "hint": "k_1", "batchSize": 10})["cursor"]["id"]
    db.c.drop_index("k_1")
    db.d.insert_many([{"_id": 5000 + i, "k": i} for i in range(300)])
    db.d.create_index("k")
    try:
        more = db.command({"getMore": cid, "collection": "c"})
    except OperationFailure as error:
        assert error.code in (43, 175, 237), error
    else:
        assert all(d["_id"] < 300 for d in more["cursor"]["nextBatch"]), more["cursor"]["nextBatch"][:3]


def test_hint_to_missing_index_is_error(db):
    db.c.insert_one({})
    with pytest.raises(OperationFailure) as excinfo:
        list(db.c.find({}).hint("nope_1"))
    assert excinfo.value.code == 2


def test_projection_into_array_of_documents(db):
    db.c.insert_one({"_id": 1, "arr": [{"k": 1, "v": 2}, {"k": 3}, 5], "x": 1})
    assert db.c.find_one({}, {"arr.k": 1, "_id": 0}) == {"arr": [{"k": 1}, {"k": 3}]}
    assert db.c.find_one({}, {"arr.k": 0, "_id": 0}) == {"arr": [{"v": 2}, {}, 5], "x": 1}


def test_upsert_does_not_copy_operator_fields(db):
    db.c.update_one({"_id": {"$in": [1]}, "a": {"$gt": 1}, "b": 2, "$and": [{"c": 3}]}, {"$set": {"x": 1}}, upsert=True)
    doc = db.c.find_one({"x": 1})
    assert doc["b"] == 2 and doc["c"] == 3 and "a" not in doc
    assert doc["_id"] != [1]


def test_many_collections_and_database_listing(client, db):
    for i in range(30):
        db[f"c{i}"].insert_one({"i": i})
    assert len(db.list_collection_names()) == 30
    db.c7.drop()
    assert "c7" not in db.list_collection_names()
    assert db.c8.find_one()["i"] == 8


def test_system_collections_refuse_writes(db):
    for write in (lambda c: c.insert_one({}), lambda c: c.update_one({}, {"$set": {"a": 1}}, upsert=True),
                  lambda c: c.delete_many({}), lambda c: c.find_one_and_delete({})):
        with pytest.raises(OperationFailure) as excinfo:
            write(db["system.custom"])
        assert excinfo.value.code == 73
        assert "system.custom" in str(excinfo.value)
    assert list(db["system.custom"].find()) == []
