"""Hostile or malformed numbers and fields get mongod's error reply, never a crash or a closed
connection (issue 9, items 2, 6 and 7). Every case checks the exact code and code name mongod
answers, that the same connection still serves a command afterwards, and that the daemon lives."""

from __future__ import annotations

import struct

import bson
import pytest
from bson.codec_options import CodecOptions, DatetimeConversion
from bson.datetime_ms import DatetimeMS
from bson.int64 import Int64
from bson.raw_bson import RawBSONDocument
from bson.timestamp import Timestamp

from storage_helpers import op_msg_kind1, raw_command
from wire_helpers import OP_MSG, OP_QUERY, command, frame, op_msg, parse_op_msg_reply, parse_op_reply, read_message

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


# --- dates (issue 9 item 2: dates near the int64 ends, date arithmetic) -------------------------

INT64_MAX = Int64(2**63 - 1)
MS = CodecOptions(datetime_conversion=DatetimeConversion.DATETIME_MS)


def command_ms(sock, doc: dict) -> dict:
    """`command`, with dates decoded as DatetimeMS (the int64 ends have no Python datetime)."""
    rid, data = op_msg(doc)
    sock.sendall(data)
    message = read_message(sock)
    assert message.response_to == rid and message.op_code == OP_MSG
    return bson.decode(message.body[5:], codec_options=MS)


def project(daemon, db, expr, doc: dict) -> dict:
    """Runs `{$project: {r: expr}}` over one document on a raw socket; returns the reply."""
    with daemon.connect_raw() as sock:
        command(sock, {"delete": "d", "deletes": [{"q": {}, "limit": 0}], "$db": db.name})
        assert command(sock, {"insert": "d", "documents": [doc], "$db": db.name})["n"] == 1
        reply = command_ms(sock, {"aggregate": "d", "pipeline": [{"$project": {"_id": 0, "r": expr}}],
                                  "cursor": {}, "$db": db.name})
        assert_alive(daemon, sock)
    return reply


DATE_OVERFLOW_CASES = {
    "add-int64-past-max": ({"$add": ["$d", INT64_MAX]}, DatetimeMS(10), "date overflow in $add"),
    "add-int32-past-max": ({"$add": ["$d", 5]}, DatetimeMS(2**63 - 2), "date overflow in $add"),
    "add-huge-double": ({"$add": ["$d", 1e300]}, DatetimeMS(0), "date overflow in $add"),
    "add-nan": ({"$add": ["$d", float("nan")]}, DatetimeMS(0), "date overflow in $add"),
    "add-infinity": ({"$add": [float("-inf"), "$d"]}, DatetimeMS(0), "date overflow in $add"),
    "subtract-int64-min": ({"$subtract": ["$d", INT64_MIN]}, DatetimeMS(10), "date overflow in $subtract"),
    "subtract-double-past-min": ({"$subtract": ["$d", 9.3e18]}, DatetimeMS(-10), "date overflow in $subtract"),
    "subtract-nan": ({"$subtract": ["$d", float("nan")]}, DatetimeMS(-1), "date overflow in $subtract"),
    "date-minus-date-past-min": ({"$subtract": ["$d", DatetimeMS(1)]}, DatetimeMS(-(2**63)), "date overflow in $subtract"),
    "date-minus-date-past-max": ({"$subtract": ["$d", DatetimeMS(-1)]}, DatetimeMS(2**63 - 1), "date overflow in $subtract"),
}


@pytest.mark.parametrize("expr,date,message", DATE_OVERFLOW_CASES.values(), ids=DATE_OVERFLOW_CASES.keys())
def test_date_arithmetic_overflow_is_an_error(daemon, db, expr, date, message) -> None:
    reply = project(daemon, db, expr, {"d": date})
    assert_error(reply, 15, "Overflow")
    assert reply["errmsg"] == message


def test_date_arithmetic_in_range(daemon, db) -> None:
    def result(expr, doc):
        reply = project(daemon, db, expr, doc)
        assert reply["ok"] == 1.0, reply
        return reply["cursor"]["firstBatch"][0]["r"]
    base = DatetimeMS(1683794065002)
    # Numbers are rounded before they move a date: a double half away from zero, as mongod.
    assert result({"$subtract": ["$d", 0.5]}, {"d": base}) == DatetimeMS(1683794065001)
    assert result({"$subtract": ["$d", 1.5]}, {"d": base}) == DatetimeMS(1683794065000)
    assert result({"$add": ["$d", 1.4, Int64(10)]}, {"d": base}) == DatetimeMS(1683794065013)
    assert result({"$subtract": ["$d", "$e"]}, {"d": base, "e": DatetimeMS(1683794065000)}) == 2
    # The ends of the range are reachable exactly.
    assert result({"$add": ["$d", 1]}, {"d": DatetimeMS(2**63 - 2)}) == DatetimeMS(2**63 - 1)
    assert result({"$subtract": ["$d", 1]}, {"d": DatetimeMS(-(2**63) + 1)}) == DatetimeMS(-(2**63))
    reply = project(daemon, db, {"$add": ["$d", 1, "$d"]}, {"d": base})
    assert_error(reply, 16612, "Location16612")


def test_dates_at_the_int64_ends_are_stored_sorted_and_updated(daemon, db) -> None:
    coll = db.get_collection("ends", codec_options=MS)
    coll.insert_many([{"_id": 1, "d": DatetimeMS(2**63 - 1)}, {"_id": 2, "d": DatetimeMS(-(2**63))},
                      {"_id": 3, "d": DatetimeMS(0)}])
    assert [d["_id"] for d in coll.find({}, sort=[("d", 1)])] == [2, 3, 1]
    assert coll.find_one({"d": {"$lt": DatetimeMS(-(2**62))}})["_id"] == 2
    coll.update_many({}, {"$currentDate": {"t": {"$type": "timestamp"}, "now": True}})
    docs = list(coll.find({}, sort=[("_id", 1)]))
    assert docs[0]["d"] == DatetimeMS(2**63 - 1) and docs[1]["d"] == DatetimeMS(-(2**63))
    stamps = [d["t"] for d in docs]
    assert all(t.time > 0 for t in stamps) and len(set(stamps)) == 3  # one cluster tick each
    assert all(int(d["now"]) > 0 for d in docs)


def test_current_date_type_must_be_date_or_timestamp(daemon, db) -> None:
    db.c.insert_one({"_id": 1})
    for spec in ({"$type": "datetime"}, 5, {"$type": "date", "x": 1}):
        reply = db.command({"update": "c", "updates": [{"q": {"_id": 1}, "u": {"$currentDate": {"a": spec}}}]})
        (err,) = reply["writeErrors"]
        assert (err["code"], err["codeName"]) == (2, "BadValue"), spec
    assert db.c.find_one({"_id": 1}) == {"_id": 1}


# --- regex options and patterns ------------------------------------------------------------------

def raw_regex_filter(field: str, pattern: str, flags: str, wrap_in: bool = False) -> RawBSONDocument:
    """{field: /pattern/flags} with the flags as sent (bson.Regex drops letters it does not know)."""
    regex = b"\x0b" + (b"1" if wrap_in else field.encode()) + b"\x00" + pattern.encode() + b"\x00" + flags.encode() + b"\x00"
    def doc(elements: bytes) -> bytes:
        return struct.pack("<i", 4 + len(elements) + 1) + elements + b"\x00"
    if wrap_in:  # {field: {$in: [0, /pattern/flags]}}
        array = doc(b"\x100\x00" + struct.pack("<i", 0) + regex)
        return RawBSONDocument(doc(b"\x03" + field.encode() + b"\x00" + doc(b"\x04$in\x00" + array)))
    return RawBSONDocument(doc(regex))


REGEX_CASES = {
    "options-bad-letter": ({"a": {"$regex": "x", "$options": "iz"}}, 51108, " invalid flag in regex options: z"),
    "bson-regex-bad-flag": (raw_regex_filter("a", "x", "q"), 51108, " invalid flag in regex options: q"),
    "in-bson-regex-bad-flag": (raw_regex_filter("a", "x", "w", wrap_in=True), 51108, " invalid flag in regex options: w"),
    "options-nul": ({"a": {"$regex": "x", "$options": "i\x00"}}, 51108, " invalid flag in regex options: \x00"),
    "options-without-regex": ({"a": {"$options": "i"}}, 2, "$options needs a $regex"),
    "options-twice": ({"a": {"$regex": bson.Regex("x", "i"), "$options": "m"}}, 51075, "options set in both $regex and $options"),
    "pattern-nul": ({"a": {"$regex": "a\x00b"}}, 2, "Regular expression cannot contain an embedded null byte"),
    "pattern-invalid": ({"a": {"$regex": "(["}}, 51091, None),
    "regex-not-string": ({"a": {"$regex": 5}}, 2, "$regex has to be a string"),
    "options-not-string": ({"a": {"$regex": "x", "$options": 1}}, 2, "$options has to be a string"),
}


@pytest.mark.parametrize("flt,code,message", REGEX_CASES.values(), ids=REGEX_CASES.keys())
def test_regex_options_and_patterns(daemon, db, flt, code, message) -> None:
    db.c.insert_one({"a": "x"})
    name = "BadValue" if code == 2 else f"Location{code}"
    reply = run(daemon, db, {"find": "c", "filter": flt}, code, name)
    if message is not None:
        assert reply["errmsg"] == message


def test_regex_options_that_mongod_accepts(daemon, db) -> None:
    db.c.insert_many([{"a": "Ab\nc"}, {"a": "zzz"}])
    assert db.c.count_documents({"a": {"$regex": "^c", "$options": "m"}}) == 1
    assert db.c.count_documents({"a": {"$regex": "a b . c", "$options": "isxu"}}) == 1
    assert db.c.count_documents({"a": bson.Regex("^AB", "i")}) == 1


# --- _id values mongod refuses ------------------------------------------------------------------

UNDEFINED_ID = struct.pack("<i", 4 + 5 + 1) + b"\x06_id\x00" + b"\x00"  # {_id: undefined}


@pytest.mark.parametrize("doc,kind", [
    (bson.encode({"_id": [1, 2]}), "array"),
    (bson.encode({"_id": bson.Regex("^a", "i")}), "regex"),
    (UNDEFINED_ID, "undefined"),
], ids=["array", "regex", "undefined"])
def test_invalid_id_on_insert(daemon, db, doc, kind) -> None:
    with daemon.connect_raw() as sock:
        reply = raw_command(sock, op_msg_kind1({"insert": "c", "$db": db.name, "ordered": False},
                                               "documents", [doc, bson.encode({"_id": 1})]))
        assert reply["ok"] == 1.0 and reply["n"] == 1, reply
        (err,) = reply["writeErrors"]
        assert (err["index"], err["code"], err["codeName"]) == (0, 53, "InvalidIdField")
        assert err["errmsg"] == f"The '_id' value cannot be of type {kind}"
        assert_alive(daemon, sock)
    assert [d["_id"] for d in db.c.find()] == [1]


@pytest.mark.parametrize("statement", [
    {"q": {"_id": [1, 2]}, "u": {"$set": {"x": 1}}, "upsert": True},
    {"q": {"x": 1}, "u": {"_id": bson.Regex("a"), "y": 1}, "upsert": True},
    {"q": {"x": 1}, "u": {"$setOnInsert": {"_id": [3]}}, "upsert": True},
], ids=["query-array", "replacement-regex", "setoninsert-array"])
def test_invalid_id_on_upsert(daemon, db, statement) -> None:
    reply = db.command({"update": "c", "updates": [statement]})
    (err,) = reply["writeErrors"]
    assert (err["code"], err["codeName"]) == (53, "InvalidIdField"), err
    assert err["errmsg"].startswith("The '_id' value cannot be of type ")
    assert db.c.count_documents({}) == 0


def test_invalid_id_on_find_and_modify_upsert(daemon, db) -> None:
    reply = run(daemon, db, {"findAndModify": "c", "query": {"x": 1}, "update": {"_id": [1], "x": 1},
                             "upsert": True}, 53, "InvalidIdField")
    assert reply["errmsg"] == "The '_id' value cannot be of type array"
    assert db.c.count_documents({}) == 0


# --- the empty timestamp -------------------------------------------------------------------------

EMPTY = Timestamp(0, 0)


def test_empty_timestamp_replaced_at_top_level_on_insert(daemon, db) -> None:
    db.c.insert_one(bson.SON([("a", EMPTY), ("_id", 1), ("b", {"c": EMPTY}), ("e", [EMPTY]), ("f", EMPTY)]))
    doc = db.c.find_one({"_id": 1})
    assert list(doc.keys()) == ["_id", "a", "b", "e", "f"]
    assert doc["a"].time > 0 and doc["f"].time > 0 and doc["a"] != doc["f"]  # one tick each
    assert doc["b"] == {"c": EMPTY} and doc["e"] == [EMPTY]  # nested ones are kept
    db.c.insert_one({"_id": EMPTY, "a": 9})  # _id is never replaced
    assert db.c.find_one({"_id": EMPTY})["a"] == 9


def test_empty_timestamp_kept_with_bypass(daemon, db) -> None:
    db.command({"insert": "c", "documents": [{"_id": 1, "a": EMPTY}], "bypassEmptyTsReplacement": True})
    assert db.c.find_one({"_id": 1})["a"] == EMPTY


def test_empty_timestamp_in_updates_follows_mongod(daemon, db) -> None:
    db.c.insert_many([{"_id": i, "a": 0} for i in range(1, 4)])
    db.c.replace_one({"_id": 1}, {"a": EMPTY})                       # replacement: replaced
    db.c.update_one({"_id": 2}, {"$set": {"a": EMPTY}})              # operator: kept
    db.c.find_one_and_replace({"_id": 3}, {"a": EMPTY})              # replacement: replaced
    db.c.replace_one({"_id": 4}, {"a": EMPTY}, upsert=True)          # replacement upsert: replaced
    db.c.update_one({"_id": 5}, {"$set": {"a": EMPTY}}, upsert=True)  # operator upsert: kept
    db.command({"update": "c", "updates": [{"q": {"_id": 6}, "u": {"a": EMPTY}, "upsert": True}],
                "bypassEmptyTsReplacement": True})                   # bypass: kept
    got = {d["_id"]: d["a"] for d in db.c.find()}
    assert {i for i, a in got.items() if a == EMPTY} == {2, 5, 6}
    assert all(got[i].time > 0 for i in (1, 3, 4))


# --- listing cursors honour batchSize ------------------------------------------------------------

def test_list_collections_batch_size_gives_a_real_cursor(daemon, db) -> None:
    names = [f"c{i}" for i in range(5)]
    for n in names:
        db[n].insert_one({})
    with daemon.connect_raw() as sock:
        first = command(sock, {"listCollections": 1, "nameOnly": True, "cursor": {"batchSize": 2}, "$db": db.name})
        cursor = first["cursor"]
        assert cursor["ns"] == f"{db.name}.$cmd.listCollections" and cursor["id"] != 0
        seen = [c["name"] for c in cursor["firstBatch"]]
        assert len(seen) == 2
        while cursor["id"] != 0:
            cursor = command(sock, {"getMore": cursor["id"], "collection": "$cmd.listCollections",
                                    "batchSize": 2, "$db": db.name})["cursor"]
            assert len(cursor["nextBatch"]) <= 2
            seen += [c["name"] for c in cursor["nextBatch"]]
        assert sorted(seen) == names
        # batchSize 0: an empty first batch and a cursor; killCursors closes it.
        zero = command(sock, {"listCollections": 1, "cursor": {"batchSize": 0}, "$db": db.name})["cursor"]
        assert zero["firstBatch"] == [] and zero["id"] != 0
        killed = command(sock, {"killCursors": "$cmd.listCollections", "cursors": [zero["id"]], "$db": db.name})
        assert killed["cursorsKilled"] == [zero["id"]]
        # Without batchSize everything comes in the first batch, as mongod.
        whole = command(sock, {"listCollections": 1, "$db": db.name})["cursor"]
        assert whole["id"] == 0 and len(whole["firstBatch"]) == 5
        assert_alive(daemon, sock)
    # pymongo follows the cursor with getMore.
    assert sorted(db.list_collection_names(batchSize=1)) == names


def test_list_indexes_batch_size_gives_a_real_cursor(daemon, db) -> None:
    for field in ("a", "b", "c"):
        db.c.create_index(field)
    with daemon.connect_raw() as sock:
        cursor = command(sock, {"listIndexes": "c", "cursor": {"batchSize": 1}, "$db": db.name})["cursor"]
        assert cursor["ns"] == f"{db.name}.$cmd.listIndexes.c" and cursor["id"] != 0
        seen = [ix["name"] for ix in cursor["firstBatch"]]
        while cursor["id"] != 0:
            cursor = command(sock, {"getMore": cursor["id"], "collection": "$cmd.listIndexes.c",
                                    "batchSize": 1, "$db": db.name})["cursor"]
            seen += [ix["name"] for ix in cursor["nextBatch"]]
        assert sorted(seen) == ["_id_", "a_1", "b_1", "c_1"]
        # A getMore naming another collection's listing does not find the cursor.
        other = command(sock, {"listIndexes": "c", "cursor": {"batchSize": 1}, "$db": db.name})["cursor"]
        reply = command(sock, {"getMore": other["id"], "collection": "$cmd.listIndexes.d", "$db": db.name})
        assert_error(reply, 43, "CursorNotFound")
        assert_alive(daemon, sock)
