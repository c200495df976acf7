"""update, delete, distinct and count against the real daemon (pymongo)."""

from __future__ import annotations

import datetime

import bson
import pytest
from bson import Int64, ObjectId
from pymongo.errors import WriteError


def one(db, _id):
    return db.c.find_one({"_id": _id})


# --- update ------------------------------------------------------------------------------------


def test_replacement_keeps_id_and_replaces_fields(db):
    db.c.insert_one({"_id": 1, "a": 1, "b": 2})
    r = db.c.replace_one({"_id": 1}, {"z": 9})
    assert (r.matched_count, r.modified_count) == (1, 1)
    doc = one(db, 1)
    assert doc == {"_id": 1, "z": 9} and list(doc) == ["_id", "z"]


def test_set_unset_inc_mul_min_max(db):
    db.c.insert_one({"_id": 1, "a": 5, "b": 2, "c": 10, "d": 10, "e": 3, "gone": True, "s": {"x": 1}})
    db.c.update_one({"_id": 1}, {"$set": {"s.y": 2, "new": "v"}, "$unset": {"gone": ""},
                                 "$inc": {"a": 2, "fresh": 1}, "$mul": {"b": 3}, "$min": {"c": 4},
                                 "$max": {"d": 20}})
    doc = one(db, 1)
    assert doc["s"] == {"x": 1, "y": 2} and doc["new"] == "v" and "gone" not in doc
    assert doc["a"] == 7 and doc["fresh"] == 1 and doc["b"] == 6 and doc["c"] == 4 and doc["d"] == 20
    db.c.update_one({"_id": 1}, {"$min": {"c": 9}, "$max": {"d": 1}})
    doc = one(db, 1)
    assert doc["c"] == 4 and doc["d"] == 20


def test_inc_keeps_integer_types(db):
    db.c.insert_one({"_id": 1, "i": 1, "l": Int64(1), "f": 1.5})
    db.c.update_one({"_id": 1}, {"$inc": {"i": 1, "l": 1, "f": 1}})
    raw = db.c.with_options(codec_options=bson.CodecOptions(document_class=bson.raw_bson.RawBSONDocument))
    doc = bson.decode(raw.find_one({"_id": 1}).raw)
    assert doc["i"] == 2 and type(doc["i"]) is int
    assert isinstance(doc["l"], Int64) and doc["l"] == 2
    assert doc["f"] == 2.5


def test_inc_on_non_number_is_error(db):
    db.c.insert_one({"_id": 1, "s": "x"})
    with pytest.raises(WriteError) as excinfo:
        db.c.update_one({"_id": 1}, {"$inc": {"s": 1}})
    assert excinfo.value.code == 14


def test_rename_and_current_date(db):
    db.c.insert_one({"_id": 1, "old": 5})
    before = datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None) - datetime.timedelta(seconds=5)
    db.c.update_one({"_id": 1}, {"$rename": {"old": "new"}, "$currentDate": {"when": True, "ts": {"$type": "timestamp"}}})
    doc = one(db, 1)
    assert "old" not in doc and doc["new"] == 5
    assert isinstance(doc["when"], datetime.datetime) and doc["when"] >= before
    assert isinstance(doc["ts"], bson.Timestamp)


def test_push_each_add_to_set_pull(db):
    db.c.insert_one({"_id": 1, "a": [1], "s": ["x"], "p": [1, 2, 3, 2, 4]})
    db.c.update_one({"_id": 1}, {"$push": {"a": {"$each": [2, 3]}}, "$addToSet": {"s": {"$each": ["x", "y"]}},
                                 "$pull": {"p": 2}})
    doc = one(db, 1)
    assert doc["a"] == [1, 2, 3] and doc["s"] == ["x", "y"] and doc["p"] == [1, 3, 4]
    db.c.update_one({"_id": 1}, {"$push": {"a": 4, "fresh": "f"}, "$addToSet": {"s": "y"}, "$pull": {"p": {"$gte": 3}}})
    doc = one(db, 1)
    assert doc["a"] == [1, 2, 3, 4] and doc["fresh"] == ["f"] and doc["s"] == ["x", "y"] and doc["p"] == [1]


def test_push_each_with_slice_and_position(db):
    db.c.insert_one({"_id": 1, "a": [1, 2, 3]})
    db.c.update_one({"_id": 1}, {"$push": {"a": {"$each": [0], "$position": 0, "$slice": 3}}})
    assert one(db, 1)["a"] == [0, 1, 2]


def test_multi_update_counts(db):
    db.c.insert_many([{"_id": i, "g": i % 2, "v": 0} for i in range(10)])
    r = db.c.update_many({"g": 1}, {"$set": {"v": 1}})
    assert (r.matched_count, r.modified_count) == (5, 5)
    r = db.c.update_many({"g": 1}, {"$set": {"v": 1}})
    assert (r.matched_count, r.modified_count) == (5, 0)
    r = db.c.update_one({"g": 0}, {"$set": {"v": 2}})
    assert (r.matched_count, r.modified_count) == (1, 1)
    assert len(list(db.c.find({"v": 2}))) == 1


def test_update_raw_reply_has_n_and_nmodified(db):
    db.c.insert_many([{"_id": i} for i in range(3)])
    reply = db.command({"update": "c", "updates": [
        {"q": {}, "u": {"$set": {"x": 1}}, "multi": True},
        {"q": {"_id": 99}, "u": {"$set": {"x": 1}}},
    ]})
    assert reply["n"] == 3 and reply["nModified"] == 3 and "upserted" not in reply


def test_upsert_with_operators_copies_equality_fields(db):
    reply = db.command({"update": "c", "updates": [
        {"q": {"files_id": 7, "n": 0, "size": {"$gt": 1}}, "u": {"$set": {"data": "d"}, "$setOnInsert": {"created": True}},
         "upsert": True},
    ]})
    assert reply["n"] == 1 and reply["nModified"] == 0
    (up,) = reply["upserted"]
    assert up["index"] == 0 and isinstance(up["_id"], ObjectId)
    doc = one(db, up["_id"])
    assert doc == {"_id": up["_id"], "files_id": 7, "n": 0, "data": "d", "created": True}
    # A second run matches and does not apply $setOnInsert.
    db.c.update_one({"files_id": 7, "n": 0}, {"$set": {"data": "e"}, "$setOnInsert": {"other": 1}}, upsert=True)
    doc = one(db, up["_id"])
    assert doc["data"] == "e" and "other" not in doc


def test_upsert_replacement_without_id_generates_one(db):
    r = db.c.replace_one({"files_id": 1, "n": 3}, {"files_id": 1, "n": 3, "data": b"x"}, upsert=True)
    assert isinstance(r.upserted_id, ObjectId)
    assert one(db, r.upserted_id)["data"] == b"x"


def test_upsert_with_id_in_query(db):
    r = db.c.update_one({"_id": "name"}, {"$set": {"v": 1}}, upsert=True)
    assert r.upserted_id == "name"
    assert one(db, "name") == {"_id": "name", "v": 1}


def test_upsert_dotted_equality_fields(db):
    db.c.update_one({"a.b": 1, "c": {"$eq": 2}}, {"$set": {"x": 1}}, upsert=True)
    doc = db.c.find_one({"x": 1}, {"_id": 0})
    assert doc == {"a": {"b": 1}, "c": 2, "x": 1}


def test_changing_id_is_66(db):
    db.c.insert_one({"_id": 1, "a": 1})
    with pytest.raises(WriteError) as excinfo:
        db.c.update_one({"_id": 1}, {"$set": {"_id": 2}})
    assert excinfo.value.code == 66
    with pytest.raises(WriteError) as excinfo:
        db.c.replace_one({"_id": 1}, {"_id": 3, "a": 2})
    assert excinfo.value.code == 66
    assert one(db, 1) == {"_id": 1, "a": 1}
    # Setting _id to the same value is fine.
    db.c.replace_one({"_id": 1}, {"_id": 1, "a": 5})
    assert one(db, 1)["a"] == 5


def test_update_creating_duplicate_unique_key_is_11000(db):
    db.c.create_index("k", unique=True)
    db.c.insert_many([{"_id": 1, "k": 1}, {"_id": 2, "k": 2}])
    with pytest.raises(WriteError) as excinfo:
        db.c.update_one({"_id": 2}, {"$set": {"k": 1}})
    assert excinfo.value.code == 11000
    assert one(db, 2)["k"] == 2
    reply = db.command({"update": "c", "updates": [{"q": {"_id": 2}, "u": {"$set": {"k": 1}}}]})
    (err,) = reply["writeErrors"]
    assert err["code"] == 11000 and err["keyPattern"] == {"k": 1}
    assert err["keyValue"] == {"k": 1}, err  # the value of the updated document, not of the filter
    reply = db.command({"update": "c", "updates": [{"q": {"_id": 9}, "u": {"$set": {"k": 2}}, "upsert": True}]})
    (err,) = reply["writeErrors"]
    assert err["code"] == 11000 and err["keyValue"] == {"k": 2}, err
    assert reply["n"] == 0 and "upserted" not in reply


def test_update_unknown_operator_is_error(db):
    db.c.insert_one({"_id": 1})
    with pytest.raises(WriteError) as excinfo:
        db.c.update_one({"_id": 1}, {"$frobnicate": {"a": 1}})
    assert excinfo.value.code in (9, 2)


def test_ordered_update_stops_after_error(db):
    db.c.insert_many([{"_id": 1, "s": "x"}, {"_id": 2, "v": 0}])
    reply = db.command({"update": "c", "updates": [
        {"q": {"_id": 1}, "u": {"$inc": {"s": 1}}},
        {"q": {"_id": 2}, "u": {"$set": {"v": 1}}},
    ]})
    assert reply["writeErrors"][0]["index"] == 0 and reply["n"] == 0
    assert one(db, 2)["v"] == 0
    reply = db.command({"update": "c", "ordered": False, "updates": [
        {"q": {"_id": 1}, "u": {"$inc": {"s": 1}}},
        {"q": {"_id": 2}, "u": {"$set": {"v": 1}}},
    ]})
    assert reply["writeErrors"][0]["index"] == 0 and reply["n"] == 1 and reply["nModified"] == 1
    assert one(db, 2)["v"] == 1


# --- delete ------------------------------------------------------------------------------------


def test_delete_limit_zero_and_one(db):
    db.c.insert_many([{"_id": i, "g": i % 2} for i in range(10)])
    reply = db.command({"delete": "c", "deletes": [{"q": {"g": 0}, "limit": 1}]})
    assert reply["n"] == 1
    reply = db.command({"delete": "c", "deletes": [{"q": {"g": 0}, "limit": 0}]})
    assert reply["n"] == 4
    assert db.c.delete_many({}).deleted_count == 5
    assert db.c.delete_one({}).deleted_count == 0


def test_delete_with_in_unordered(db):
    db.c.insert_many([{"_id": i} for i in range(5)])
    reply = db.command({"delete": "c", "ordered": False,
                        "deletes": [{"q": {"_id": {"$in": [1, 3]}}, "limit": 0}, {"q": {"_id": 4}, "limit": 1}]})
    assert reply["n"] == 3
    assert [d["_id"] for d in db.c.find(sort=[("_id", 1)])] == [0, 2]


# --- distinct / count -------------------------------------------------------------------------


def test_distinct_flattens_arrays_and_filters(db):
    db.c.insert_many([{"_id": 1, "f": "a", "t": [1, 2]}, {"_id": 2, "f": "b", "t": [2, 3]},
                      {"_id": 3, "f": "a", "t": 4}, {"_id": 4}])
    assert sorted(db.c.distinct("f")) == ["a", "b"]
    assert sorted(db.c.distinct("t")) == [1, 2, 3, 4]
    assert sorted(db.c.distinct("t", {"f": "a"})) == [1, 2, 4]
    assert db.c.distinct("nothing") == []
    assert db.missing.distinct("f") == []


def test_distinct_dotted(db):
    db.c.insert_many([{"m": {"ct": "text"}}, {"m": {"ct": "bin"}}, {"m": {"ct": "text"}}])
    assert sorted(db.c.distinct("m.ct")) == ["bin", "text"]


def test_count_with_query_skip_limit(db):
    db.c.insert_many([{"_id": i, "g": i % 3} for i in range(30)])
    assert db.command({"count": "c"})["n"] == 30
    assert db.command({"count": "c", "query": {"g": 1}})["n"] == 10
    assert db.command({"count": "c", "query": {"g": 1}, "skip": 4})["n"] == 6
    assert db.command({"count": "c", "query": {"g": 1}, "limit": 3})["n"] == 3
    assert db.command({"count": "missing"})["n"] == 0
    assert db.c.estimated_document_count() == 30
