"""Hostile or malformed numbers and fields get mongod's error reply, never a crash or a closed
connection (issue 9, items 2, 6 and 7). Every case checks the exact code and code name mongod
answers, that the same connection still serves a command afterwards, and that the daemon lives."""

from __future__ import annotations

import struct

import bson
import pytest
from bson.int64 import Int64

from storage_helpers import op_msg_kind1, raw_command
from wire_helpers import OP_MSG, OP_QUERY, command, frame, parse_op_msg_reply, parse_op_reply, read_message

INT64_MIN = Int64(-(2**63))


def assert_error(reply: dict, code: int, code_name: str) -> None:
    assert reply["ok"] == 0.0, reply
    assert (reply["code"], reply["codeName"]) == (code, code_name), reply


def assert_alive(daemon, sock) -> None:
    """The connection that got the error still works, and so does the daemon."""
    assert command(sock, {"ping": 1, "$db": "admin"})["ok"] == 1.0
    assert daemon.is_running(), daemon.log()[-5000:]


def run(daemon, db, cmd: dict, code: int, code_name: str) -> dict:
    with daemon.connect_raw() as sock:
        reply = command(sock, {**cmd, "$db": db.name})
        assert_error(reply, code, code_name)
        assert_alive(daemon, sock)
    return reply


def nested(levels: int) -> dict:
    """A document `levels` deep, the top level included: {a: {a: ... {a: 1}}}."""
    doc: dict = {"a": 1}
    for _ in range(levels - 1):
        doc = {"a": doc}
    return doc


# --- numbers -------------------------------------------------------------------------------------

NUMBER_CASES = {
    "find-limit-int64-min": ({"find": "c", "limit": INT64_MIN}, 51024, "Location51024"),
    "find-limit-negative": ({"find": "c", "limit": -1}, 51024, "Location51024"),
    "find-skip-negative": ({"find": "c", "skip": Int64(-5)}, 51024, "Location51024"),
    "find-batchsize-negative": ({"find": "c", "batchSize": -1.5}, 51024, "Location51024"),
    "find-limit-string": ({"find": "c", "limit": "ten"}, 14, "TypeMismatch"),
    "count-limit-int64-min": ({"count": "c", "limit": INT64_MIN}, 2, "BadValue"),
    "count-skip-negative": ({"count": "c", "skip": -1}, 2, "BadValue"),
    "getmore-batchsize-negative": ({"getMore": Int64(1), "collection": "c", "batchSize": -1}, 51024, "Location51024"),
    "aggregate-batchsize-negative": ({"aggregate": "c", "pipeline": [], "cursor": {"batchSize": -1}}, 51024, "Location51024"),
    "aggregate-skip-negative": ({"aggregate": "c", "pipeline": [{"$skip": -1}], "cursor": {}}, 5107200, "Location5107200"),
    "aggregate-limit-zero": ({"aggregate": "c", "pipeline": [{"$limit": 0}], "cursor": {}}, 15958, "Location15958"),
    "index-33-fields": ({"createIndexes": "c", "indexes": [
        {"key": {f"f{i}": 1 for i in range(33)}, "name": "wide"}]}, 67, "CannotCreateIndex"),
}


@pytest.mark.parametrize("cmd,code,name", NUMBER_CASES.values(), ids=NUMBER_CASES.keys())
def test_client_numbers_are_errors_not_traps(daemon, db, cmd, code, name) -> None:
    db.c.insert_one({"x": 1})
    run(daemon, db, cmd, code, name)


def test_count_negative_limit_means_its_magnitude(daemon, db) -> None:
    db.c.insert_many([{"i": i} for i in range(5)])
    assert db.command({"count": "c", "limit": -3})["n"] == 3
    assert db.command({"count": "c", "limit": Int64(2**63 - 1)})["n"] == 5


def test_inc_overflow_is_bad_value(daemon, db) -> None:
    db.c.insert_one({"_id": 1, "v": Int64(2**63 - 1)})
    reply = db.command({"update": "c", "updates": [{"q": {"_id": 1}, "u": {"$inc": {"v": 1}}}]})
    (err,) = reply["writeErrors"]
    assert (err["code"], err["codeName"]) == (2, "BadValue")
    assert err["errmsg"] == ("Failed to apply $inc operations to current value "
                             "((NumberLong)9223372036854775807) for document {_id: 1}")
    assert db.c.find_one({"_id": 1})["v"] == 2**63 - 1
    # int32 overflow still widens to int64, as mongod does.
    db.c.insert_one({"_id": 2, "v": 2**31 - 1})
    db.c.update_one({"_id": 2}, {"$inc": {"v": 1}})
    assert db.c.find_one({"_id": 2})["v"] == 2**31


# --- generic fields ------------------------------------------------------------------------------

FIELD_CASES = {
    "maxtimems-string": ({"find": "c", "maxTimeMS": "1"}, 2, "BadValue"),
    "maxtimems-document": ({"find": "c", "maxTimeMS": {"a": 1}}, 2, "BadValue"),
    "maxtimems-negative": ({"find": "c", "maxTimeMS": -1}, 2, "BadValue"),
    "maxtimems-fraction": ({"ping": 1, "maxTimeMS": 1.5}, 2, "BadValue"),
    "maxtimems-too-large": ({"count": "c", "maxTimeMS": Int64(2**31)}, 2, "BadValue"),
    "writeconcern-int": ({"insert": "c", "documents": [{}], "writeConcern": 1}, 14, "TypeMismatch"),
    "writeconcern-w-negative": ({"insert": "c", "documents": [{}], "writeConcern": {"w": -1}}, 9, "FailedToParse"),
    "writeconcern-w-51": ({"delete": "c", "deletes": [{"q": {}, "limit": 0}], "writeConcern": {"w": 51}}, 9, "FailedToParse"),
    "listindexes-cursor-string": ({"listIndexes": "c", "cursor": "x"}, 14, "TypeMismatch"),
    "listindexes-cursor-unknown": ({"listIndexes": "c", "cursor": {"size": 1}}, 40415, "Location40415"),
    "listcollections-cursor-negative": ({"listCollections": 1, "cursor": {"batchSize": -1}}, 51024, "Location51024"),
    "aggregate-cursor-string": ({"aggregate": "c", "pipeline": [], "cursor": "x"}, 14, "TypeMismatch"),
    "insert-empty-batch": ({"insert": "c", "documents": []}, 16, "InvalidLength"),
    "update-empty-batch": ({"update": "c", "updates": []}, 16, "InvalidLength"),
    "delete-empty-batch": ({"delete": "c", "deletes": []}, 16, "InvalidLength"),
    "insert-namespace-256-bytes": ({"insert": "n" * 250, "documents": [{}]}, 73, "InvalidNamespace"),
    "create-system": ({"create": "system.mine"}, 73, "InvalidNamespace"),
    "createindexes-system": ({"createIndexes": "system.mine", "indexes": [{"key": {"a": 1}, "name": "a_1"}]},
                             73, "InvalidNamespace"),
}


@pytest.mark.parametrize("cmd,code,name", FIELD_CASES.values(), ids=FIELD_CASES.keys())
def test_malformed_fields_are_refused(daemon, db, cmd, code, name) -> None:
    db.c.insert_one({"x": 1})
    run(daemon, db, cmd, code, name)
    assert db.c.count_documents({}) == 1  # nothing was written


def test_maxtimems_and_writeconcern_in_range_are_accepted(daemon, db) -> None:
    db.command({"insert": "c", "documents": [{}], "writeConcern": {"w": 1}, "maxTimeMS": 1000})
    db.command({"find": "c", "maxTimeMS": 0.0})
    assert db.c.count_documents({}) == 1


def test_namespace_of_255_bytes_is_accepted(daemon, db) -> None:
    name = "n" * (255 - len(db.name) - 1)
    db[name].insert_one({"x": 1})
    assert db[name].count_documents({}) == 1


def test_db_missing_or_not_a_string(daemon) -> None:
    with daemon.connect_raw() as sock:
        assert_error(command(sock, {"ping": 1}), 40571, "Location40571")
        assert_error(command(sock, {"ping": 1, "$db": 5}), 13111, "Location13111")
        assert_alive(daemon, sock)


# --- insert semantics ----------------------------------------------------------------------------

def test_id_moved_first_on_insert(daemon, db) -> None:
    db.c.insert_one(bson.SON([("z", 1), ("_id", 5), ("a", 2)]))
    raw = db.c.find_one({"_id": 5})
    assert list(raw.keys()) == ["_id", "z", "a"]


def test_duplicate_top_level_id_is_a_write_error(daemon, db) -> None:
    # bson.encode cannot repeat a key; build {_id: 9, x: 1, _id: 10} by hand.
    elements = b"\x10_id\x00" + struct.pack("<i", 9) + b"\x10x\x00" + struct.pack("<i", 1) \
        + b"\x10_id\x00" + struct.pack("<i", 10)
    dup = struct.pack("<i", 4 + len(elements) + 1) + elements + b"\x00"
    ok = bson.encode({"_id": 11})
    with daemon.connect_raw() as sock:
        reply = raw_command(sock, op_msg_kind1({"insert": "c", "$db": db.name, "ordered": False},
                                               "documents", [dup, ok]))
        assert reply["ok"] == 1.0 and reply["n"] == 1, reply
        (err,) = reply["writeErrors"]
        assert (err["index"], err["code"], err["codeName"]) == (0, 2, "BadValue")
        assert err["errmsg"] == "can't have multiple _id fields in one document"
        assert_alive(daemon, sock)
    assert db.c.find_one({"_id": 9}) is None and db.c.find_one({"_id": 10}) is None


def test_dollar_field_in_id_is_a_write_error(daemon, db) -> None:
    reply = db.command({"insert": "c", "documents": [{"_id": {"$gt": 1}}]})
    (err,) = reply["writeErrors"]
    assert (err["code"], err["codeName"]) == (52, "DollarPrefixedFieldName")
    assert db.c.count_documents({}) == 0


def test_nesting_limit_for_stored_documents(daemon, db) -> None:
    db.c.insert_one({"_id": 1, **nested(180)})  # 180 levels, the top one included: accepted
    reply = db.command({"insert": "c", "documents": [{"_id": 2, **nested(181)}]})
    (err,) = reply["writeErrors"]
    assert (err["code"], err["codeName"]) == (15, "Overflow")
    # Empty documents do not count, as in mongod: 180 levels plus an empty one at the bottom.
    deep_empty: dict = {"a": {}}
    for _ in range(179):
        deep_empty = {"a": deep_empty}
    db.c.insert_one({"_id": 3, **deep_empty})
    # Filling the empty document would make it level 181: an update may not do that either.
    path = ".".join(["a"] * 180)
    reply = db.command({"update": "c", "updates": [{"q": {"_id": 3}, "u": {"$set": {path: {"c": 1}}}}]})
    (err,) = reply["writeErrors"]
    assert (err["code"], err["codeName"]) == (15, "Overflow")
    assert db.c.count_documents({}) == 2


def test_get_parameter_reports_the_enforced_depth(daemon, client) -> None:
    assert client.admin.command({"getParameter": 1, "maxBSONDepth": 1})["maxBSONDepth"] == 200


# --- BSON the wire accepts as a frame but not as BSON --------------------------------------------

def body_frame(body: bytes, flags: int = 0) -> tuple[int, bytes]:
    return frame(OP_MSG, struct.pack("<I", flags) + b"\x00" + body)


def bad_utf8_body() -> bytes:
    good = bson.encode({"insert": "c", "$db": "test", "documents": [{"s": "ab"}]})
    return good.replace(b"ab\x00", b"\xff\xfe\x00")


def bad_old_binary_body() -> bytes:
    # Binary subtype 2 whose inner length (99) disagrees with its payload (4 bytes).
    payload = struct.pack("<i", 99)
    element = b"\x05b\x00" + struct.pack("<i", len(payload)) + b"\x02" + payload
    inner = b"\x02ping\x00" + struct.pack("<i", 2) + b"x\x00" + element
    return struct.pack("<i", 4 + len(inner) + 1) + inner + b"\x00"


INVALID_BODIES = {
    "nested-past-200": lambda: bson.encode({"ping": 1, "$db": "admin", **nested(201)}),
    "invalid-utf8-string": bad_utf8_body,
    "bad-old-binary": bad_old_binary_body,
}


@pytest.mark.parametrize("make", INVALID_BODIES.values(), ids=INVALID_BODIES.keys())
def test_invalid_bson_body_gets_an_error_reply(daemon, make) -> None:
    with daemon.connect_raw() as sock:
        rid, data = body_frame(make())
        sock.sendall(data)
        reply = read_message(sock)
        assert reply.response_to == rid
        assert_error(parse_op_msg_reply(reply), 22, "InvalidBSON")
        assert_alive(daemon, sock)


def test_invalid_bson_in_a_document_sequence_gets_an_error_reply(daemon, db) -> None:
    bad = bson.encode({"s": "ab"}).replace(b"ab\x00", b"\xc3\x28\x00")
    with daemon.connect_raw() as sock:
        reply = raw_command(sock, op_msg_kind1({"insert": "c", "$db": db.name}, "documents", [bad]))
        assert_error(reply, 22, "InvalidBSON")
        assert_alive(daemon, sock)
    assert db.c.count_documents({}) == 0


def test_invalid_bson_with_more_to_come_gets_no_reply(daemon) -> None:
    with daemon.connect_raw() as sock:
        _, data = body_frame(bad_utf8_body(), flags=1 << 1)
        sock.sendall(data)
        assert_alive(daemon, sock)  # the next reply is the ping's


def test_op_query_with_invalid_bson_gets_an_op_reply(daemon) -> None:
    query = bson.encode({"ping": 1, "s": "ab"}).replace(b"ab\x00", b"\xff\xff\x00")
    with daemon.connect_raw() as sock:
        rid, data = frame(OP_QUERY, struct.pack("<i", 0) + b"admin.$cmd\x00" + struct.pack("<ii", 0, -1) + query)
        sock.sendall(data)
        message = read_message(sock)
        assert message.response_to == rid
        (doc,) = parse_op_reply(message).documents
        assert_error(doc, 22, "InvalidBSON")
        assert_alive(daemon, sock)
