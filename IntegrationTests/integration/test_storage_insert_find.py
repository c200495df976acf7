"""insert, find, getMore and killCursors against the real daemon (pymongo)."""

from __future__ import annotations

import bson
from bson.raw_bson import RawBSONDocument
import pytest
from bson import Int64, ObjectId
from pymongo import ASCENDING, DESCENDING
from pymongo.errors import BulkWriteError, OperationFailure

from storage_helpers import op_msg_kind1, raw_command


# --- insert ------------------------------------------------------------------------------------


def test_insert_kind1_sets_n_and_generates_objectid_first(db):
    result = db.c.insert_many([{"a": 1}, {"b": 2}, {"_id": "x", "c": 3}])
    assert len(result.inserted_ids) == 3
    docs = list(db.c.find({}, sort=[("_id", ASCENDING)]))
    assert len(docs) == 3
    raw = db.c.with_options(codec_options=bson.CodecOptions(document_class=RawBSONDocument))
    for doc in raw.find({"_id": {"$type": "objectId"}}):
        assert list(doc.keys())[0] == "_id"
    assert db.c.find_one({"a": 1})["_id"] == result.inserted_ids[0]


def test_insert_body_form_via_command(db):
    reply = db.command({"insert": "c", "documents": [{"_id": 1}, {"_id": 2}, {"_id": 3}]})
    assert reply["n"] == 3 and reply["ok"] == 1
    assert "writeErrors" not in reply
    assert len(list(db.c.find())) == 3


def test_insert_document_without_id_in_body_gets_objectid(db):
    db.command({"insert": "c", "documents": [{"v": 1}]})
    doc = db.c.find_one({"v": 1})
    assert isinstance(doc["_id"], ObjectId)
    assert list(doc.keys()) == ["_id", "v"]


def test_ordered_insert_stops_at_first_duplicate(db):
    reply = db.command({"insert": "c", "documents": [{"_id": 1}, {"_id": 2}, {"_id": 1}, {"_id": 3}],
                        "ordered": True})
    assert reply["n"] == 2
    assert len(reply["writeErrors"]) == 1
    err = reply["writeErrors"][0]
    assert err["index"] == 2 and err["code"] == 11000
    assert err["keyPattern"] == {"_id": 1} and err["keyValue"] == {"_id": 1}
    assert "E11000" in err["errmsg"]
    assert sorted(d["_id"] for d in db.c.find()) == [1, 2]


def test_unordered_insert_continues_past_duplicates(db):
    reply = db.command({"insert": "c", "documents": [{"_id": 1}, {"_id": 1}, {"_id": 2}, {"_id": 2}, {"_id": 3}],
                        "ordered": False})
    assert reply["n"] == 3
    assert [e["index"] for e in reply["writeErrors"]] == [1, 3]
    assert all(e["code"] == 11000 for e in reply["writeErrors"])
    assert sorted(d["_id"] for d in db.c.find()) == [1, 2, 3]


@pytest.mark.parametrize("ordered", [True, False])
def test_duplicate_deep_inside_a_multi_megabyte_insert(db, ordered):
    """An 8 MiB insert (several of the PostgreSQL engine's 2 MiB statements, sent back to back) with
    a duplicate `_id` in a later statement and one against a stored document: MongoDB's answer as
    for a small insert (ordered stops at the first, unordered reports both), nothing else lost."""
    db.c.insert_one({"_id": 30, "pad": b""})
    pad = b"\x01" * (256 * 1024)
    docs = [{"_id": i, "pad": pad} for i in range(32)]
    docs[20] = {"_id": 3, "pad": pad}
    reply = db.command({"insert": "c", "documents": docs, "ordered": ordered})
    if ordered:
        assert reply["n"] == 20
        assert [(e["index"], e["code"]) for e in reply["writeErrors"]] == [(20, 11000)]
        assert sorted(d["_id"] for d in db.c.find({}, {"pad": 0})) == list(range(20)) + [30]
    else:
        assert reply["n"] == 30
        assert [(e["index"], e["code"]) for e in reply["writeErrors"]] == [(20, 11000), (30, 11000)]
        assert sorted(d["_id"] for d in db.c.find({}, {"pad": 0})) == [i for i in range(32) if i != 20]
    assert all(d["pad"] == pad for d in db.c.find({"_id": {"$ne": 30}}))


def test_insert_many_pymongo_raises_bulk_write_error(db):
    db.c.insert_one({"_id": 5})
    with pytest.raises(BulkWriteError) as excinfo:
        db.c.insert_many([{"_id": 4}, {"_id": 5}, {"_id": 6}], ordered=False)
    details = excinfo.value.details
    assert details["nInserted"] == 2
    assert [e["index"] for e in details["writeErrors"]] == [1]
    assert len(list(db.c.find())) == 3


def test_duplicate_on_unique_secondary_index_reports_key_pattern(db):
    db.c.create_index([("email", ASCENDING)], unique=True)
    db.c.insert_one({"_id": 1, "email": "a@x"})
    reply = db.command({"insert": "c", "documents": [{"_id": 2, "email": "b@x"}, {"_id": 3, "email": "a@x"}],
                        "ordered": False})
    assert reply["n"] == 1
    (err,) = reply["writeErrors"]
    assert err["index"] == 1 and err["code"] == 11000
    assert err["keyPattern"] == {"email": 1}
    assert err["keyValue"] == {"email": "a@x"}
    assert "email_1" in err["errmsg"]


def test_duplicate_in_compound_unique_index(db):
    db.c.create_index([("files_id", ASCENDING), ("n", ASCENDING)], unique=True)
    db.c.insert_one({"files_id": 1, "n": 0})
    reply = db.command({"insert": "c", "documents": [{"files_id": 1, "n": 1}, {"files_id": 1, "n": 0}]})
    assert reply["n"] == 1
    (err,) = reply["writeErrors"]
    assert err["keyPattern"] == {"files_id": 1, "n": 1}
    assert err["keyValue"] == {"files_id": 1, "n": 0}


def test_insert_array_or_regex_id_rejected(db):
    reply = db.command({"insert": "c", "documents": [{"_id": [1, 2]}, {"_id": 7}], "ordered": False})
    assert reply["n"] == 1
    assert reply["writeErrors"][0]["index"] == 0
    # mongod 5.0 through 8.x: 53 InvalidIdField (older servers said 2 "can't use an array for _id").
    assert reply["writeErrors"][0]["code"] == 53
    assert reply["writeErrors"][0]["errmsg"] == "The '_id' value cannot be of type array"


def test_oversized_document_rejected_with_bad_value(daemon, db):
    """mongod's fixDocumentForInsert answers 2 BadValue "object to insert too large"."""
    big = b"\x00" * (16 * 1024 * 1024)  # the document is a little over 16 MiB with its framing
    doc = bson.encode({"_id": 1, "data": bson.Binary(big)})
    small = bson.encode({"_id": 2})
    with daemon.connect_raw(timeout=30) as sock:
        reply = raw_command(sock, op_msg_kind1({"insert": "c", "$db": db.name, "ordered": False},
                                               "documents", [doc, small]))
    assert reply["ok"] == 1, reply
    assert reply["n"] == 1
    (err,) = reply["writeErrors"]
    assert err["index"] == 0 and err["code"] == 2
    assert db.c.find_one({"_id": 2}) is not None
    assert db.c.find_one({"_id": 1}) is None


def test_document_of_exactly_16mib_accepted(daemon, db):
    overhead = len(bson.encode({"_id": 1, "data": bson.Binary(b"")}))
    doc = bson.encode({"_id": 1, "data": bson.Binary(b"\x01" * (16 * 1024 * 1024 - overhead))})
    assert len(doc) == 16 * 1024 * 1024
    with daemon.connect_raw(timeout=30) as sock:
        reply = raw_command(sock, op_msg_kind1({"insert": "c", "$db": db.name}, "documents", [doc]))
    assert reply["ok"] == 1 and reply["n"] == 1, reply
    assert len(db.c.find_one({"_id": 1})["data"]) == len(b"\x01" * (16 * 1024 * 1024 - overhead))


# --- find --------------------------------------------------------------------------------------


@pytest.fixture
def people(db):
    db.p.insert_many([
        {"_id": i, "name": f"n{i:03d}", "age": i % 7, "addr": {"city": f"c{i % 3}", "zip": i}, "tags": ["x", f"t{i % 2}"]}
        for i in range(250)
    ])
    return db.p


def test_find_default_first_batch_is_101_and_cursor_id_int64(db, people):
    reply = db.command({"find": "p"}, codec_options=bson.CodecOptions(document_class=RawBSONDocument))
    raw = reply.raw
    decoded = bson.decode(raw)
    assert len(decoded["cursor"]["firstBatch"]) == 101
    assert decoded["cursor"]["ns"] == f"{db.name}.p"
    # The cursor id must be a BSON int64 (type 0x12) on the wire.
    cursor_raw = bytes(reply["cursor"].raw)
    idx = cursor_raw.find(b"\x12id\x00")
    assert idx >= 0, "cursor.id is not int64"
    assert isinstance(decoded["cursor"]["id"], Int64) or decoded["cursor"]["id"] != 0


def test_cursor_across_getmore_returns_everything_once(people):
    ids = [d["_id"] for d in people.find({}, batch_size=30)]
    assert sorted(ids) == list(range(250))


def test_getmore_batch_size(db, people):
    first = db.command({"find": "p", "batchSize": 10})
    cid = first["cursor"]["id"]
    assert len(first["cursor"]["firstBatch"]) == 10 and cid != 0
    more = db.command({"getMore": cid, "collection": "p", "batchSize": 25})
    assert len(more["cursor"]["nextBatch"]) == 25
    assert more["cursor"]["id"] == cid
    rest = db.command({"getMore": cid, "collection": "p"})
    assert len(rest["cursor"]["nextBatch"]) == 215
    assert rest["cursor"]["id"] == 0
    with pytest.raises(OperationFailure) as excinfo:
        db.command({"getMore": cid, "collection": "p"})
    assert excinfo.value.code == 43


def test_getmore_unknown_cursor_is_43(db, people):
    with pytest.raises(OperationFailure) as excinfo:
        db.command({"getMore": Int64(123456789), "collection": "p"})
    assert excinfo.value.code == 43


def test_kill_cursors_reports_killed_and_not_found(db, people):
    first = db.command({"find": "p", "batchSize": 5})
    cid = first["cursor"]["id"]
    reply = db.command({"killCursors": "p", "cursors": [cid, Int64(987654321)]})
    assert reply["cursorsKilled"] == [cid]
    assert reply["cursorsNotFound"] == [987654321]
    with pytest.raises(OperationFailure) as excinfo:
        db.command({"getMore": cid, "collection": "p"})
    assert excinfo.value.code == 43


def test_find_filter_and_projection_inclusion(people):
    docs = list(people.find({"age": 3}, {"name": 1}))
    assert docs and all(set(d) == {"_id", "name"} for d in docs)
    assert all(d["_id"] % 7 == 3 for d in docs)


def test_projection_exclusion_and_id_zero_and_dotted(people):
    d = people.find_one({"_id": 4}, {"tags": 0, "addr": 0})
    assert d == {"_id": 4, "name": "n004", "age": 4}
    d = people.find_one({"_id": 4}, {"_id": 0, "name": 1})
    assert d == {"name": "n004"}
    d = people.find_one({"_id": 4}, {"addr.city": 1})
    assert d == {"_id": 4, "addr": {"city": "c1"}}
    d = people.find_one({"_id": 4}, {"addr.zip": 0, "tags": 0})
    assert d == {"_id": 4, "name": "n004", "age": 4, "addr": {"city": "c1"}}


def test_projection_slice_and_elem_match(db):
    db.c.insert_one({"_id": 1, "arr": [{"a": 1, "b": 2}, {"a": 2}], "x": 5})
    assert db.c.find_one({}, {"arr": {"$slice": 1}}) == {"_id": 1, "arr": [{"a": 1, "b": 2}], "x": 5}
    assert db.c.find_one({}, {"arr": {"$slice": -1}, "x": 0}) == {"_id": 1, "arr": [{"a": 2}]}
    assert db.c.find_one({}, {"arr": {"$elemMatch": {"a": 2}}, "x": 1}) == {"_id": 1, "arr": [{"a": 2}], "x": 5}


def test_positional_projection_is_not_silently_wrong(db):
    db.c.insert_one({"_id": 1, "arr": [{"a": 1, "b": 2}, {"a": 2}]})
    try:
        doc = db.c.find_one({"arr.a": 2}, {"arr.$": 1})
    except OperationFailure:
        return  # not implemented: an error is fine
    assert doc == {"_id": 1, "arr": [{"a": 2}]}


def test_projection_mixing_inclusion_and_exclusion_is_error(people):
    with pytest.raises(OperationFailure):
        people.find_one({}, {"name": 1, "age": 0})


def test_sort_multiple_keys_and_directions(people):
    docs = list(people.find({}, {"age": 1}, sort=[("age", DESCENDING), ("_id", ASCENDING)]))
    keys = [(d["age"], d["_id"]) for d in docs]
    assert keys == sorted(keys, key=lambda k: (-k[0], k[1]))


def test_sort_dotted_key(people):
    docs = list(people.find({}, sort=[("addr.city", ASCENDING), ("addr.zip", DESCENDING)], limit=5))
    assert [d["_id"] for d in docs] == [249, 246, 243, 240, 237]


def test_sort_cross_type_order(db):
    values = [bson.MaxKey(), True, "str", 3.5, None, bson.MinKey(), {"a": 1}, ObjectId("0" * 24), 2,
              bson.datetime.datetime(2020, 1, 1), b"bin", bson.Regex("^a")]
    db.x.insert_many([{"_id": i, "v": v} for i, v in enumerate(values)])
    db.x.insert_one({"_id": 100})  # missing field sorts as null
    order = [d["_id"] for d in db.x.find({}, sort=[("v", ASCENDING), ("_id", ASCENDING)])]
    # MinKey < null/missing < numbers < string < object < binData < ObjectId < bool < date < regex < MaxKey
    assert order == [5, 4, 100, 8, 3, 2, 6, 10, 7, 1, 9, 11, 0]
    rev = [d["_id"] for d in db.x.find({}, sort=[("v", DESCENDING), ("_id", ASCENDING)])]
    assert rev == [0, 11, 9, 1, 7, 10, 6, 2, 3, 8, 4, 100, 5]


def test_sort_arrays_use_min_or_max_element(db):
    db.x.insert_many([{"_id": 1, "v": [5, 1]}, {"_id": 2, "v": [3]}, {"_id": 3, "v": [2, 9]}])
    assert [d["_id"] for d in db.x.find(sort=[("v", 1)])] == [1, 3, 2]
    assert [d["_id"] for d in db.x.find(sort=[("v", -1)])] == [3, 1, 2]


def test_sort_is_stable_in_insertion_order_for_ties(db):
    db.x.insert_many([{"_id": i, "k": i % 2} for i in range(40)])
    docs = list(db.x.find({}, sort=[("k", ASCENDING)]))
    assert [d["_id"] for d in docs] == [i for i in range(40) if i % 2 == 0] + [i for i in range(40) if i % 2 == 1]


def test_skip_and_limit(people):
    docs = list(people.find({}, sort=[("_id", 1)], skip=10, limit=5))
    assert [d["_id"] for d in docs] == [10, 11, 12, 13, 14]
    assert list(people.find({}, skip=300)) == []


def test_negative_limit_means_single_batch(db, people):
    # Drivers send a negative limit as {limit: 3, singleBatch: true}; the find command itself
    # refuses negative values, as mongod's IDL does (51024).
    assert [d["_id"] for d in db.p.find().sort("_id", 1).limit(-3)] == [0, 1, 2]
    reply = db.command({"find": "p", "limit": 3, "singleBatch": True, "sort": {"_id": 1}})
    assert [d["_id"] for d in reply["cursor"]["firstBatch"]] == [0, 1, 2]
    assert reply["cursor"]["id"] == 0
    with pytest.raises(OperationFailure) as raised:
        db.command({"find": "p", "limit": -3})
    assert raised.value.code == 51024


def test_limit_with_batch_size_closes_cursor_at_limit(db, people):
    reply = db.command({"find": "p", "limit": 12, "batchSize": 5})
    cid = reply["cursor"]["id"]
    got = len(reply["cursor"]["firstBatch"])
    while cid:
        more = db.command({"getMore": cid, "collection": "p", "batchSize": 5})
        got += len(more["cursor"]["nextBatch"])
        cid = more["cursor"]["id"]
    assert got == 12


def test_single_batch_closes_cursor(db, people):
    reply = db.command({"find": "p", "batchSize": 7, "singleBatch": True})
    assert len(reply["cursor"]["firstBatch"]) == 7
    assert reply["cursor"]["id"] == 0


def test_batch_size_zero_returns_empty_first_batch_with_cursor(db, people):
    reply = db.command({"find": "p", "batchSize": 0})
    assert reply["cursor"]["firstBatch"] == []
    assert reply["cursor"]["id"] != 0
    more = db.command({"getMore": reply["cursor"]["id"], "collection": "p"})
    assert len(more["cursor"]["nextBatch"]) == 250


def test_find_accepts_common_options(db, people):
    people.create_index([("age", 1)])
    reply = db.command({"find": "p", "filter": {"age": 2}, "noCursorTimeout": True, "hint": {"age": 1},
                        "maxTimeMS": 5000, "comment": "hello", "let": {"x": 1},
                        "readConcern": {"level": "local"}, "batchSize": 2})
    assert len(reply["cursor"]["firstBatch"]) == 2
    db.command({"killCursors": "p", "cursors": [reply["cursor"]["id"]]})
    reply = db.command({"find": "p", "filter": {"age": 2}, "hint": "age_1"})
    assert all(d["age"] == 2 for d in reply["cursor"]["firstBatch"])
    docs = list(people.find({"age": 2}).hint([("age", 1)]).comment("c").max_time_ms(1000))
    assert len(docs) == len([i for i in range(250) if i % 7 == 2])


def test_find_on_missing_collection_is_empty(db):
    reply = db.command({"find": "nothing_here"})
    assert reply["cursor"]["firstBatch"] == [] and reply["cursor"]["id"] == 0


def test_find_negative_skip_is_error(db, people):
    with pytest.raises(OperationFailure):
        db.command({"find": "p", "skip": -1})


def test_find_with_large_documents_spans_batches_by_size(daemon, db):
    """40 MiB of 1 MiB documents: the first batch stops near 16 MiB and getMore brings the rest.
    A client of its own with a generous socket timeout: moving 40 MiB several times can take
    longer than the shared client's 10 s on a loaded machine, and this test is about batching,
    not speed."""
    payload = "x" * (1024 * 1024)
    with daemon.client(socketTimeoutMS=600000) as patient:
        big = patient[db.name].big
        big.insert_many([{"_id": i, "s": payload} for i in range(40)])
        reply = patient[db.name].command({"find": "big"})
        batch = reply["cursor"]["firstBatch"]
        assert 0 < len(batch) < 40 and reply["cursor"]["id"] != 0  # a batch stops near 16 MiB
        assert sum(len(d["s"]) for d in batch) <= 16 * 1024 * 1024
        rest = patient[db.name].command({"getMore": reply["cursor"]["id"], "collection": "big"})
        assert len(rest["cursor"]["nextBatch"]) > 0
        assert sorted(d["_id"] for d in big.find({}, {"s": 0})) == list(range(40))
        assert sum(1 for d in big.find() if d["s"] == payload) == 40
