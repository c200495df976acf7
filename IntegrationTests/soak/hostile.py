"""Hostile inputs: malformed frames and commands with wrong or extreme values, each on its own socket.

Every case says which outcomes a correct server may produce:
- ``closed``: the daemon closes the connection (mongod's answer to a broken frame);
- ``error``: an ``ok: 0`` reply or a write error, after which the same connection still answers ``ping``;
- ``ok``: an ``ok: 1`` reply (for edge values mongod accepts);
- ``silent``: nothing within the wait (only for frames the client leaves unfinished).
Outside that set the case *misbehaved*. Whatever the outcome, the daemon must still be running and
answer a ``ping`` on a fresh connection afterwards; if it is not, the case *killed* it, and if it is
running but does not answer, the case *hung* it.
"""

from __future__ import annotations

import socket
import struct
import time
from dataclasses import dataclass, field

import bson
from bson.int64 import Int64

import wire
from wire import OP_COMPRESSED, OP_MSG, OP_QUERY, Closed, Silent, frame, header

INT64_MIN = Int64(-(2**63))
INT64_MAX = Int64(2**63 - 1)
INT32_MIN = -(2**31)
DB = "soak_hostile"
COLL = "h"
REPLY_TIMEOUT = 15.0


@dataclass
class Case:
    """One hostile input: raw bytes, or commands whose last reply is judged (earlier ones set up)."""

    name: str
    expect: frozenset[str]
    data: bytes | None = None
    commands: list[bytes] = field(default_factory=list)
    hold: float = 0.0          # seconds to keep an unfinished frame open before closing
    half_close: bool = False   # shut down our sending side after the bytes (EOF mid-frame)


def _cmd(doc: dict) -> bytes:
    return bson.encode({**doc, "$db": doc.get("$db", DB)})


def _case(name: str, expect: str, *docs: dict | bytes) -> Case:
    commands = [d if isinstance(d, bytes) else _cmd(d) for d in docs]
    return Case(name, frozenset(expect.split("|")), commands=commands)


def _raw(name: str, expect: str, data: bytes, **options) -> Case:
    return Case(name, frozenset(expect.split("|")), data=data, **options)


def _msg_body(flags: int, *sections: bytes) -> bytes:
    return struct.pack("<I", flags) + b"".join(sections)


PING = bson.encode({"ping": 1, "$db": "admin"})
SEED = {"insert": COLL, "documents": [{"_id": i, "a": i, "s": "a" * 30, "big": INT64_MIN} for i in range(5)]}


def cases() -> list[Case]:
    """Every hostile case, in a fixed order."""
    garbage = bytes((i * 131 + 7) % 251 for i in range(4096))
    return [
        # --- frames: the daemon must close the connection ---
        _raw("http-request", "closed", b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n"),
        _raw("garbage-4KiB", "closed", b"\xff\xff\xff\x7f" + garbage),
        _raw("length-8", "closed", header(8, 1, OP_MSG)),
        _raw("length-negative", "closed", header(-5, 1, OP_MSG) + b"\x00" * 32),
        _raw("declared-2GiB", "closed", header(0x7FFFFFFF, 1, OP_MSG)),
        _raw("declared-48MB+1", "closed", header(48_000_001, 1, OP_MSG)),
        _raw("bad-opcode", "closed|error", frame(4242, b"\x00" * 24)[1]),
        _raw("op-compressed-unknown-compressor", "closed|error",
             frame(OP_COMPRESSED, struct.pack("<iiB", OP_MSG, len(PING) + 5, 200) + b"\x00" * 40)[1]),
        _raw("op-msg-no-sections", "closed", frame(OP_MSG, _msg_body(0))[1]),
        _raw("op-msg-section-kind-9", "closed", frame(OP_MSG, _msg_body(0, b"\x09" + PING))[1]),
        _raw("op-msg-two-bodies", "closed", frame(OP_MSG, _msg_body(0, b"\x00" + PING, b"\x00" + PING))[1]),
        _raw("op-msg-bad-checksum", "closed", frame(OP_MSG, _msg_body(1, b"\x00" + PING) + b"\x00\x00\x00\x00")[1]),
        _raw("op-msg-unknown-required-flag", "closed", frame(OP_MSG, _msg_body(1 << 5, b"\x00" + PING))[1]),
        _raw("op-msg-doc-longer-than-frame", "closed",
             frame(OP_MSG, _msg_body(0, b"\x00" + struct.pack("<i", 5000) + PING[4:]))[1]),
        _raw("op-query-unterminated-name", "closed", frame(OP_QUERY, struct.pack("<i", 0) + b"admin.$cmd")[1]),
        _raw("truncated-frame-eof", "closed", header(400, 1, OP_MSG) + b"\x00" * 50, half_close=True),
        _raw("truncated-frame-held", "silent|closed", header(400, 1, OP_MSG) + b"\x00" * 20, hold=1.0),
        _raw("header-only-held", "silent|closed", header(1_000_000, 1, OP_MSG), hold=1.0),
        # --- BSON bodies that frame correctly: mongod answers ok: 0 and keeps the connection ---
        # An unknown element type leaves the rest of the section unreadable: a reply or a close.
        _case("invalid-bson-element-type", "error|closed", struct.pack("<i", 12) + b"\x99a\x00\x00\x00\x00\x00"),
        _case("find-filter-nested-120", "error|ok",
              wire.with_field(_cmd({"find": COLL}), "filter", wire.nested_document(120))),
        _case("find-filter-nested-1000", "error",
              wire.with_field(_cmd({"find": COLL}), "filter", wire.nested_document(1000))),
        _case("insert-document-nested-190", "error",  # mongod stores at most 180 levels
              wire.with_field(_cmd({"insert": COLL}), "documents",
                              wire.with_field(bson.encode({}), "0", wire.nested_document(190)), 0x04)),
        _case("key-invalid-utf8", "error", struct.pack("<i", 13) + b"\x10\xff\xfe\x00\x01\x00\x00\x00\x00"),
        # --- commands with wrong types or extreme numbers: an error, or a clamped ok, never a crash ---
        _case("find-name-is-number", "error", {"find": 5}),
        _case("find-filter-is-string", "error", {"find": COLL, "filter": "x"}),
        _case("find-limit-is-string", "error", {"find": COLL, "limit": "x"}),
        _case("find-limit-int64-min", "error", SEED, {"find": COLL, "limit": INT64_MIN}),
        _case("find-limit-int64-max", "ok|error", {"find": COLL, "limit": INT64_MAX}),
        _case("find-skip-int64-max", "ok|error", {"find": COLL, "skip": INT64_MAX}),
        _case("find-skip-negative", "error", {"find": COLL, "skip": -1}),
        _case("find-batchsize-negative", "error", {"find": COLL, "batchSize": -1}),
        _case("find-batchsize-int64-max", "ok|error", {"find": COLL, "batchSize": INT64_MAX}),
        _case("find-limit-nan", "ok|error", {"find": COLL, "limit": float("nan")}),
        _case("find-limit-1e300", "ok|error", {"find": COLL, "limit": 1e300}),
        _case("count-limit-int64-min", "error|ok", {"count": COLL, "limit": INT64_MIN}),
        _case("count-skip-int64-min", "error", {"count": COLL, "skip": INT64_MIN}),
        _case("aggregate-limit-int64-min", "error",
              {"aggregate": COLL, "pipeline": [{"$limit": INT64_MIN}], "cursor": {}}),
        _case("aggregate-skip-int64-max", "ok|error",
              {"aggregate": COLL, "pipeline": [{"$skip": INT64_MAX}], "cursor": {}}),
        _case("aggregate-pipeline-is-object", "error", {"aggregate": COLL, "pipeline": {}, "cursor": {}}),
        _case("mod-by-minus-one-on-int64-min", "ok|error", {"find": COLL, "filter": {"big": {"$mod": [-1, 0]}}}),
        _case("mod-by-zero", "error", {"find": COLL, "filter": {"a": {"$mod": [0, 0]}}}),
        _case("mod-int64-min-divisor", "ok|error", {"find": COLL, "filter": {"a": {"$mod": [INT64_MIN, 0]}}}),
        _case("slice-int32-min", "ok|error", {"find": COLL, "projection": {"s": {"$slice": INT32_MIN}}}),
        _case("slice-int64-min-pair", "ok|error", {"find": COLL, "projection": {"s": {"$slice": [INT64_MIN, 2]}}}),
        _case("inc-int64-overflow", "ok|error",
              {"update": COLL, "updates": [{"q": {"_id": 0}, "u": {"$set": {"n": INT64_MAX}}}]},
              {"update": COLL, "updates": [{"q": {"_id": 0}, "u": {"$inc": {"n": Int64(1)}}}]}),
        _case("mul-int64-overflow", "ok|error",
              {"update": COLL, "updates": [{"q": {"_id": 1}, "u": {"$set": {"n": INT64_MIN}}}]},
              {"update": COLL, "updates": [{"q": {"_id": 1}, "u": {"$mul": {"n": Int64(-1)}}}]}),
        _case("sort-value-zero", "error", {"find": COLL, "sort": {"a": 0}}),
        _case("getmore-cursor-int64-min", "error", {"getMore": INT64_MIN, "collection": COLL}),
        _case("getmore-collection-is-number", "error", {"getMore": Int64(1), "collection": 7}),
        _case("getmore-batchsize-int64-min", "error", {"getMore": Int64(12345), "collection": COLL,
                                                        "batchSize": INT64_MIN}),
        _case("killcursors-cursors-is-string", "error", {"killCursors": COLL, "cursors": "x"}),
        _case("insert-documents-is-string", "error", {"insert": COLL, "documents": "x"}),
        _case("insert-documents-empty", "error", {"insert": COLL, "documents": []}),
        _case("insert-id-is-operator", "error", {"insert": COLL, "documents": [{"_id": {"$gt": 1}}]}),
        _case("maxtimems-is-string", "error", {"find": COLL, "maxTimeMS": "x"}),
        _case("maxtimems-negative", "error", {"find": COLL, "maxTimeMS": -1}),
        _case("writeconcern-w-minus-1", "error", {"insert": COLL, "documents": [{"x": 1}], "writeConcern": {"w": -1}}),
        _case("db-is-number", "error", {"ping": 1, "$db": 5}),
        _case("createindexes-40-keys", "error",
              {"createIndexes": COLL, "indexes": [{"key": {f"k{i}": 1 for i in range(40)}, "name": "wide"}]}),
        _case("regex-catastrophic", "ok|error",
              {"insert": COLL, "documents": [{"_id": "re", "r": "a" * 28 + "!"}]},
              {"find": COLL, "filter": {"r": {"$regex": "^(a+)+$"}}}),
        _case("regex-options-bogus", "error", {"find": COLL, "filter": {"s": {"$regex": "a", "$options": "\u00e9z"}}}),
        _case("distinct-key-is-number", "error", {"distinct": COLL, "key": 5}),
        _case("unknown-command", "error", {"frobnicate": 1}),
    ]


@dataclass
class Outcome:
    case: str
    outcome: str            # closed | error | ok | silent | bad-reply
    detail: str
    expected: bool
    connection_usable: bool = True  # after an error/ok reply, the same socket still answered ping


def run_case(case: Case, host: str, port: int) -> Outcome:
    """Sends one case on a fresh socket and classifies what came back."""
    sock = wire.connect(host, port)
    try:
        if case.data is not None:
            return _run_raw(case, sock)
        reply: dict = {}
        for document in case.commands:
            rid, data = wire.op_msg_raw(document)
            sock.sendall(data)
            reply = wire.read_reply(sock, rid, REPLY_TIMEOUT)
        failure = reply if reply.get("ok") != 1 else next(iter(reply.get("writeErrors") or []), None)
        outcome = "error" if failure is not None else "ok"  # a write error counts as a refusal
        detail = f"code {failure.get('code')}: {str(failure.get('errmsg', ''))[:120]}" if failure else "ok: 1"
        result = Outcome(case.name, outcome, detail, outcome in case.expect)
        try:
            result.connection_usable = wire.command(sock, {"ping": 1, "$db": "admin"}, REPLY_TIMEOUT).get("ok") == 1
        except (Closed, Silent, ValueError, OSError) as error:
            result.connection_usable = False
            result.detail += f"; then ping on the same connection failed: {error}"
        return result
    except Closed as error:
        return Outcome(case.name, "closed", str(error), "closed" in case.expect)
    except Silent as error:
        return Outcome(case.name, "silent", str(error), "silent" in case.expect)
    except (ValueError, bson.errors.BSONError) as error:
        return Outcome(case.name, "bad-reply", str(error), False)
    except OSError as error:  # reset while sending
        return Outcome(case.name, "closed", f"{type(error).__name__}: {error}", "closed" in case.expect)
    finally:
        wire.abort(sock)


def _run_raw(case: Case, sock: socket.socket) -> Outcome:
    try:
        sock.sendall(case.data)
        if case.half_close:
            sock.shutdown(socket.SHUT_WR)
    except OSError as error:
        return Outcome(case.name, "closed", f"while sending: {error}", "closed" in case.expect)
    wait = case.hold if case.hold else REPLY_TIMEOUT
    deadline = time.monotonic() + wait
    try:
        data = wire.recv_exactly(sock, 1, deadline)
        return Outcome(case.name, "bad-reply", f"daemon sent {data!r}", False)
    except Closed as error:
        return Outcome(case.name, "closed", str(error), "closed" in case.expect)
    except Silent:
        return Outcome(case.name, "silent", f"nothing within {wait}s", "silent" in case.expect)


def daemon_answers(host: str, port: int, timeout: float = 10.0) -> str | None:
    """None if a fresh connection gets `ping` answered; otherwise what went wrong."""
    try:
        sock = wire.connect(host, port, timeout)
    except OSError as error:
        return f"connect: {error}"
    try:
        reply = wire.command(sock, {"ping": 1, "$db": "admin"}, timeout)
        return None if reply.get("ok") == 1 else f"ping answered {reply}"
    except (Closed, Silent, ValueError, OSError) as error:
        return f"ping: {type(error).__name__}: {error}"
    finally:
        sock.close()


