"""aggregate and findAndModify against the real daemon."""

from __future__ import annotations

import pytest
from bson import ObjectId
from pymongo import ReturnDocument
from pymongo.errors import DuplicateKeyError, OperationFailure

from storage_helpers import unique_name


@pytest.fixture
def agg_db(daemon, client):
    name = unique_name("agg")
    yield client[name]
    client.drop_database(name)


@pytest.fixture
def fam_db(daemon, client):
    name = unique_name("fam")
    yield client[name]
    client.drop_database(name)


# --- aggregate ---------------------------------------------------------------------------------


def test_count_documents_pipeline(agg_db):
    agg_db.c.insert_many([{"_id": i, "g": i % 3} for i in range(30)])
    assert agg_db.c.count_documents({}) == 30
    assert agg_db.c.count_documents({"g": 1}) == 10
    assert agg_db.c.count_documents({"g": 1}, skip=3, limit=4) == 4
    assert agg_db.missing.count_documents({}) == 0


def test_match_sort_skip_limit_project(agg_db):
    agg_db.c.insert_many([{"_id": i, "g": i % 3, "v": i} for i in range(20)])
    docs = list(agg_db.c.aggregate([{"$match": {"g": 0}}, {"$sort": {"v": -1}}, {"$skip": 1}, {"$limit": 3},
                                    {"$project": {"v": 1, "_id": 0}}]))
    assert docs == [{"v": 15}, {"v": 12}, {"v": 9}]


def test_group_sum(agg_db):
    agg_db.c.insert_many([{"_id": i, "g": i % 3, "v": i} for i in range(9)])
    docs = list(agg_db.c.aggregate([{"$group": {"_id": "$g", "total": {"$sum": "$v"}, "n": {"$sum": 1}}},
                                    {"$sort": {"_id": 1}}]))
    assert docs == [{"_id": 0, "total": 9, "n": 3}, {"_id": 1, "total": 12, "n": 3}, {"_id": 2, "total": 15, "n": 3}]


def test_aggregate_cursor_across_getmore(agg_db):
    agg_db.c.insert_many([{"_id": i} for i in range(300)])
    docs = list(agg_db.c.aggregate([{"$match": {}}], batchSize=50))
    assert sorted(d["_id"] for d in docs) == list(range(300))


def test_aggregate_unknown_stage_is_error(agg_db):
    agg_db.c.insert_one({})
    with pytest.raises(OperationFailure):
        list(agg_db.c.aggregate([{"$frobnicate": {}}]))


# --- findAndModify -----------------------------------------------------------------------------


def test_find_one_and_update_before_and_after(fam_db):
    fam_db.c.insert_one({"_id": 1, "v": 1})
    before = fam_db.c.find_one_and_update({"_id": 1}, {"$inc": {"v": 1}})
    assert before == {"_id": 1, "v": 1}
    after = fam_db.c.find_one_and_update({"_id": 1}, {"$inc": {"v": 1}}, return_document=ReturnDocument.AFTER)
    assert after == {"_id": 1, "v": 3}


def test_find_one_and_update_sort_and_projection(fam_db):
    fam_db.c.insert_many([{"_id": i, "v": i} for i in range(5)])
    doc = fam_db.c.find_one_and_update({}, {"$set": {"picked": True}}, sort=[("v", -1)], projection={"_id": 1},
                                       return_document=ReturnDocument.AFTER)
    assert doc == {"_id": 4}
    assert fam_db.c.find_one({"picked": True})["_id"] == 4


def test_find_one_and_update_upsert(fam_db):
    doc = fam_db.c.find_one_and_update({"k": "x"}, {"$set": {"v": 1}}, upsert=True,
                                       return_document=ReturnDocument.AFTER)
    assert doc["k"] == "x" and doc["v"] == 1 and isinstance(doc["_id"], ObjectId)
    assert fam_db.c.find_one_and_update({"k": "y"}, {"$set": {"v": 1}}, upsert=True) is None
    reply = fam_db.command({"findAndModify": "c", "query": {"k": "z"}, "update": {"$set": {"v": 2}},
                            "upsert": True, "new": True})
    assert reply["lastErrorObject"]["updatedExisting"] is False
    assert "upserted" in reply["lastErrorObject"] and reply["value"]["k"] == "z"


def test_find_one_and_replace_and_delete(fam_db):
    fam_db.c.insert_many([{"_id": 1, "a": 1}, {"_id": 2, "a": 2}])
    old = fam_db.c.find_one_and_replace({"_id": 1}, {"b": 1})
    assert old == {"_id": 1, "a": 1}
    assert fam_db.c.find_one({"_id": 1}) == {"_id": 1, "b": 1}
    gone = fam_db.c.find_one_and_delete({"a": 2})
    assert gone == {"_id": 2, "a": 2}
    assert fam_db.c.find_one({"_id": 2}) is None
    assert fam_db.c.find_one_and_delete({"a": 99}) is None


def test_find_and_modify_errors(fam_db):
    fam_db.c.create_index("k", unique=True)
    fam_db.c.insert_many([{"_id": 1, "k": 1}, {"_id": 2, "k": 2}])
    with pytest.raises(DuplicateKeyError):
        fam_db.c.find_one_and_update({"_id": 2}, {"$set": {"k": 1}})
    with pytest.raises(OperationFailure) as excinfo:
        fam_db.c.find_one_and_update({"_id": 1}, {"$set": {"_id": 5}})
    assert excinfo.value.code == 66
