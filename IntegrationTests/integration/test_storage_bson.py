"""Every BSON type and every _id type round-trips byte-exactly through insert and find."""

from __future__ import annotations

import datetime
import struct
import uuid

import bson
import pytest
from bson import (Binary, Code, DBRef, Decimal128, Int64, MaxKey, MinKey, ObjectId, Regex, Timestamp)
from bson.codec_options import CodecOptions
from bson.raw_bson import RawBSONDocument

from storage_helpers import op_msg_kind1, raw_command

RAW = CodecOptions(document_class=RawBSONDocument)


def every_type_document(_id) -> dict:
    return {
        "_id": _id,
        "double": 3.25, "neg_zero": -0.0, "nan": float("nan"), "inf": float("inf"),
        "string": "héllo\u0000 wörld", "empty": "",
        "doc": {"z": 1, "a": {"deep": [1, {"x": None}]}},
        "array": [1, "two", 3.0, [4], {"five": 5}],
        "bin0": Binary(b"\x00\x01\xff", 0), "func": Binary(b"f", 1), "old": Binary(b"\x01\x02", 2),
        "uuid3": Binary(b"0" * 16, 3), "uuid4": Binary(uuid.uuid4().bytes, 4), "md5": Binary(b"m" * 16, 5),
        "user": Binary(b"u", 128),
        "oid": ObjectId(), "false": False, "true": True,
        "date": datetime.datetime(2024, 2, 29, 12, 34, 56, 789000),
        "date_old": datetime.datetime(1900, 1, 1),
        "null": None, "regex": Regex("^a.*b$", "imsx"),
        "dbref": DBRef("coll", ObjectId(), "db"),
        "code": Code("function() { return 1; }"),
        "code_scope": Code("function() { return x; }", {"x": 1}),
        "int32": -2147483648, "ts": Timestamp(1700000000, 7), "int64": Int64(9223372036854775807),
        "dec": Decimal128("-1.234567890123456789012345678901234E-6000"), "dec_nan": Decimal128("NaN"),
        "minkey": MinKey(), "maxkey": MaxKey(),
        "nested_order": {"b": 1, "a": 2, "c": {"y": 1, "x": 2}},
    }


def raw_elements_with_legacy_types() -> bytes:
    """A document with deprecated types pymongo cannot build from Python values (undefined,
    dbPointer, symbol), assembled by hand."""
    def cstr(s: str) -> bytes:
        return s.encode() + b"\x00"

    def string(s: str) -> bytes:
        b = s.encode() + b"\x00"
        return struct.pack("<i", len(b)) + b

    elements = (
        b"\x07" + cstr("_id") + ObjectId().binary
        + b"\x06" + cstr("undef")
        + b"\x0c" + cstr("dbptr") + string("db.coll") + ObjectId().binary
        + b"\x0e" + cstr("symbol") + string("sym")
        + b"\x10" + cstr("after") + struct.pack("<i", 1)
    )
    return struct.pack("<i", 4 + len(elements) + 1) + elements + b"\x00"


def test_every_type_round_trips_byte_exactly(db):
    original = RawBSONDocument(bson.encode(every_type_document(1)))
    db.c.insert_one(original)
    raw = db.get_collection("c", codec_options=RAW)
    stored = raw.find_one({"_id": 1})
    assert bytes(stored.raw) == bytes(original.raw)
    # Also through a cursor that spans getMore.
    db.c.insert_many([RawBSONDocument(bson.encode(every_type_document(i))) for i in range(2, 12)])
    for doc in raw.find({"_id": {"$gte": 2}}, batch_size=3):
        assert bson.decode(doc.raw, codec_options=CodecOptions(document_class=dict))["_id"] >= 2
    assert bytes(raw.find_one({"_id": 1}).raw) == bytes(original.raw)


def test_legacy_types_round_trip_byte_exactly(daemon, db):
    doc = raw_elements_with_legacy_types()
    bson.decode(doc)  # valid BSON
    with daemon.connect_raw() as sock:
        reply = raw_command(sock, op_msg_kind1({"insert": "legacy", "$db": db.name}, "documents", [doc]))
    assert reply["n"] == 1, reply
    stored = db.get_collection("legacy", codec_options=RAW).find_one()
    assert bytes(stored.raw) == doc


@pytest.mark.parametrize("_id", [
    ObjectId(), "a string id", "", 42, Int64(1 << 40), 2.5, {"a": 1, "b": [1, 2]},
    Binary(b"\x00\x01", 0), Binary(uuid.uuid4().bytes, 4), datetime.datetime(2020, 1, 1), True, None,
    Decimal128("1.5"), MinKey(), MaxKey(), Timestamp(1, 2),
], ids=lambda v: type(v).__name__)
def test_any_id_type_round_trips(db, _id):
    original = RawBSONDocument(bson.encode({"_id": _id, "v": 1}))
    db.ids.insert_one(original)
    raw = db.get_collection("ids", codec_options=RAW)
    stored = raw.find_one({"_id": _id})
    assert stored is not None and bytes(stored.raw) == bytes(original.raw)
    # Lookup by equal value of another numeric type finds it too.
    if type(_id) is int:
        assert raw.find_one({"_id": float(_id)}) is not None
    # And the same _id again is a duplicate.
    reply = db.command({"insert": "ids", "documents": [{"_id": _id}]})
    assert reply["n"] == 0 and reply["writeErrors"][0]["code"] == 11000


def test_numerically_equal_ids_of_different_types_are_duplicates(db):
    db.ids.insert_one({"_id": 1})
    for dup in (Int64(1), 1.0, Decimal128("1")):
        reply = db.command({"insert": "ids", "documents": [{"_id": dup}]})
        assert reply["n"] == 0 and reply["writeErrors"][0]["code"] == 11000, dup


def test_document_without_id_gets_objectid_first(daemon, db):
    doc = bson.encode({"b": 1, "a": 2})
    with daemon.connect_raw() as sock:
        reply = raw_command(sock, op_msg_kind1({"insert": "noid", "$db": db.name}, "documents", [doc]))
    assert reply["n"] == 1
    stored = db.get_collection("noid", codec_options=RAW).find_one()
    decoded = bson.decode(bytes(stored.raw))
    assert list(decoded) == ["_id", "b", "a"]
    assert isinstance(decoded["_id"], ObjectId)
    assert bytes(stored.raw)[-len(doc) + 4:] == doc[4:]  # the original elements follow unchanged


def test_update_preserves_untouched_bytes_and_field_order(db):
    doc = every_type_document(1)
    db.c.insert_one(RawBSONDocument(bson.encode(doc)))
    db.c.update_one({"_id": 1}, {"$set": {"int32": 5}})
    doc["int32"] = 5
    stored = db.get_collection("c", codec_options=RAW).find_one({"_id": 1})
    assert bytes(stored.raw) == bson.encode(doc)


def test_gridfs_chunk_types_stay_int32(db):
    db.fs.chunks.insert_one({"files_id": ObjectId(), "n": 0, "data": Binary(b"abc")})
    db.fs.files.insert_one({"_id": 1, "length": Int64(3), "chunkSize": 261120,
                            "uploadDate": datetime.datetime(2024, 1, 1), "filename": "f"})
    raw = db.get_collection("fs.chunks", codec_options=RAW).find_one()
    assert bytes(raw.raw).find(b"\x10n\x00\x00\x00\x00\x00") >= 0
    files = bytes(db.get_collection("fs.files", codec_options=RAW).find_one().raw)
    assert files.find(b"\x12length\x00") >= 0 and files.find(b"\x10chunkSize\x00") >= 0
