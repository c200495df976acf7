"""Malformed and unusual frames over raw sockets, and the OP_QUERY handshake.

For a malformed frame the daemon must log a reason (a line containing "closing", not at debug level),
close that connection promptly, and keep serving everyone else. No test may hang: every socket has a
timeout.
"""

from __future__ import annotations

import socket
import struct

import bson
import pytest

from wire_helpers import (
    HEADER, OP_MSG, OP_QUERY, command, frame, header, next_request_id, op_msg, op_query,
    parse_op_msg_reply, parse_op_reply, read_message, send_ignoring_reset, wait_closed,
)

# A log line that gives a reason for closing, at info level or above.
CLOSING_LINE = r"(?im)^(?!.*\b(debug|trace)\b).*\bclosing\b.*$"


def assert_daemon_healthy(daemon) -> None:
    assert daemon.is_running(), f"daemon exited:\n{daemon.log()[-5000:]}"
    with daemon.client() as c:
        assert c.admin.command("ping")["ok"] == 1.0


def assert_closed_with_reason(daemon, sock, start: int) -> None:
    wait_closed(sock)
    assert daemon.wait_for_log(CLOSING_LINE, since=start), (
        f"daemon closed the connection without logging a reason ('closing'):\n{daemon.log(start)}")


def op_msg_body(flags: int, *sections: bytes) -> bytes:
    return struct.pack("<I", flags) + b"".join(sections)


PING = bson.encode({"ping": 1, "$db": "admin"})

MALFORMED = {
    # messageLength smaller than the header itself.
    "length-0": header(0, 1, OP_MSG),
    "length-8": header(8, 1, OP_MSG),
    "length-15": header(15, 1, OP_MSG),
    "length-negative": header(-1, 1, OP_MSG),
    # HTTP to a MongoDB port: "GET " read as a length is ~542 MB.
    "http-request": b"GET / HTTP/1.1\r\nHost: localhost\r\nAccept: */*\r\n\r\n",
    # A kind-0 section marker with no document after it (length says 21: flags + kind byte).
    "op-msg-truncated-section": frame(OP_MSG, op_msg_body(0, b"\x00"))[1],
    # A section document that claims 1000 bytes in a 40-byte message.
    "op-msg-section-longer-than-message":
        frame(OP_MSG, op_msg_body(0, b"\x00" + struct.pack("<i", 1000) + b"\x10a\x00\x01\x00\x00\x00"))[1],
    # A section document cut short: its length is right but the message ends early.
    "op-msg-document-cut": frame(OP_MSG, op_msg_body(0, b"\x00" + PING[:-6]))[1],
    # Section kind 7 does not exist.
    "op-msg-unknown-section-kind": frame(OP_MSG, op_msg_body(0, b"\x07" + PING))[1],
    # A kind-1 section whose size runs past the end of the message.
    "op-msg-kind1-overrun":
        frame(OP_MSG, op_msg_body(0, b"\x00" + PING, b"\x01" + struct.pack("<i", 500) + b"documents\x00"))[1],
    # Arbitrary bytes behind a plausible header.
    "garbage-body": frame(OP_MSG, bytes((i * 37 + 11) % 256 for i in range(64)))[1],
    # An OP_QUERY whose collection name has no terminating NUL.
    "op-query-unterminated-name": frame(OP_QUERY, struct.pack("<i", 0) + b"admin.$cmd")[1],
}


@pytest.mark.parametrize("data", MALFORMED.values(), ids=MALFORMED.keys())
def test_malformed_frame_closes_connection(daemon, data: bytes) -> None:
    start = daemon.log_offset()
    with daemon.connect_raw() as sock:
        send_ignoring_reset(sock, data)
        assert_closed_with_reason(daemon, sock, start)
    assert_daemon_healthy(daemon)


@pytest.mark.parametrize("declared", [60_000_000, 48_000_001, 0x7FFFFFFF])
def test_oversized_length_closes_without_reading_the_body(daemon, declared: int) -> None:
    start = daemon.log_offset()
    with daemon.connect_raw() as sock:
        send_ignoring_reset(sock, header(declared, next_request_id(), OP_MSG) + b"\x00" * 100)
        # Only 116 bytes were sent: a daemon waiting for the rest would hang here and fail.
        assert_closed_with_reason(daemon, sock, start)
    assert_daemon_healthy(daemon)


def test_malformed_frame_after_a_good_command(daemon) -> None:
    start = daemon.log_offset()
    with daemon.connect_raw() as sock:
        assert command(sock, {"ping": 1, "$db": "admin"})["ok"] == 1.0
        send_ignoring_reset(sock, header(4, next_request_id(), OP_MSG))
        assert_closed_with_reason(daemon, sock, start)
    assert_daemon_healthy(daemon)


def test_lying_length_then_eof(daemon) -> None:
    """Header says 1000 bytes, 100 arrive, then the client shuts down its side: no hang."""
    with daemon.connect_raw() as sock:
        sock.sendall(header(1000, next_request_id(), OP_MSG) + b"\x00" * 84)
        sock.shutdown(socket.SHUT_WR)
        wait_closed(sock)
    assert_daemon_healthy(daemon)


def test_client_disconnect_mid_frame(daemon) -> None:
    with daemon.connect_raw() as sock:
        sock.sendall(header(1000, next_request_id(), OP_MSG) + b"\x00" * 10)
    assert_daemon_healthy(daemon)


# Requests a server may answer with an error reply instead of closing the connection.
ERROR_OR_CLOSE = {
    "unknown-opcode": (9999, b"\x00" * 8),
    "op-msg-without-body-section": (OP_MSG, op_msg_body(0)),
    # Unknown required flag bits (bits 0-15 must be understood).
    "op-msg-unknown-required-flag": (OP_MSG, op_msg_body(1 << 7, b"\x00" + PING)),
    "op-msg-two-body-sections": (OP_MSG, op_msg_body(0, b"\x00" + PING, b"\x00" + PING)),
    # Invalid BSON inside a well-framed section (element type 0x99): mongod answers InvalidBSON
    # (test_input_validation.py checks the reply).
    "op-msg-invalid-bson": (OP_MSG, op_msg_body(0, b"\x00" + struct.pack("<i", 12) + b"\x99a\x00\x00\x00\x00\x00")),
}


@pytest.mark.parametrize("op_code,body", ERROR_OR_CLOSE.values(), ids=ERROR_OR_CLOSE.keys())
def test_bad_request_gets_an_error_or_a_close(daemon, op_code: int, body: bytes) -> None:
    start = daemon.log_offset()
    with daemon.connect_raw() as sock:
        rid, data = frame(op_code, body)
        send_ignoring_reset(sock, data)
        received = wait_closed_or_message(sock)
        if received is None:
            assert daemon.wait_for_log(CLOSING_LINE, since=start), daemon.log(start)
        else:
            assert received.response_to == rid
            if received.op_code == OP_MSG:
                assert parse_op_msg_reply(received)["ok"] == 0.0
    assert_daemon_healthy(daemon)


def wait_closed_or_message(sock):
    """The next message from the daemon, or None if it closed the connection (5 s at most)."""
    try:
        return read_message(sock)
    except (EOFError, ConnectionResetError):
        return None


# --- unusual but valid framing -------------------------------------------------------------------


def test_frame_sent_one_byte_at_a_time(daemon) -> None:
    with daemon.connect_raw() as sock:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        rid, data = op_msg({"ping": 1, "$db": "admin"})
        for i in range(len(data)):
            sock.sendall(data[i:i + 1])
        message = read_message(sock)
        assert message.response_to == rid
        assert parse_op_msg_reply(message)["ok"] == 1.0


def test_pipelined_frames_in_one_write(daemon) -> None:
    with daemon.connect_raw() as sock:
        requests = [op_msg({"ping": 1, "$db": "admin"}) for _ in range(5)]
        sock.sendall(b"".join(data for _, data in requests))
        for rid, _ in requests:
            message = read_message(sock)
            assert message.response_to == rid
            assert parse_op_msg_reply(message)["ok"] == 1.0


def test_more_to_come_gets_no_reply(daemon) -> None:
    with daemon.connect_raw() as sock:
        _, quiet = op_msg({"ping": 1, "$db": "admin"}, flags=1 << 1)
        rid, loud = op_msg({"ping": 1, "$db": "admin"})
        sock.sendall(quiet + loud)
        message = read_message(sock)
        assert message.response_to == rid, "a moreToCome request must not be answered"
        assert parse_op_msg_reply(message)["ok"] == 1.0


def test_op_msg_reply_header(daemon) -> None:
    with daemon.connect_raw() as sock:
        rid, data = op_msg({"hello": 1, "$db": "admin"})
        sock.sendall(data)
        message = read_message(sock)
        assert message.response_to == rid
        assert message.length == HEADER.size + len(message.body)
        reply = parse_op_msg_reply(message)
        assert reply["isWritablePrimary"] is True


# --- OP_QUERY handshake (libmongoc, the Go driver, old drivers) ---------------------------------


def query_reply(sock, query: dict, **kwargs):
    rid, data = op_query(query, **kwargs)
    sock.sendall(data)
    message = read_message(sock)
    assert message.response_to == rid
    assert message.length == HEADER.size + len(message.body)
    reply = parse_op_reply(message)
    assert reply.response_flags == 0
    assert reply.cursor_id == 0
    assert reply.starting_from == 0
    assert reply.number_returned == 1
    assert len(reply.documents) == 1
    return reply.documents[0]


def test_op_query_is_master_gets_op_reply(daemon) -> None:
    with daemon.connect_raw() as sock:
        doc = query_reply(sock, {"isMaster": 1})
        assert doc["ismaster"] is True
        assert doc["maxWireVersion"] == 21
        assert doc["minWireVersion"] == 0
        assert doc["maxBsonObjectSize"] == 16777216
        assert doc["maxMessageSizeBytes"] == 48000000
        assert doc["maxWriteBatchSize"] == 100000
        assert doc["ok"] == 1.0


def test_op_query_wrapped_in_query_like_libmongoc(daemon) -> None:
    with daemon.connect_raw() as sock:
        doc = query_reply(sock, {
            "$query": {"isMaster": 1, "helloOk": True,
                       "client": {"driver": {"name": "mongoc", "version": "1.23.1"},
                                  "os": {"type": "Linux"}}},
            "$readPreference": {"mode": "primaryPreferred"},
        }, flags=4)
        assert doc["ismaster"] is True
        assert doc["helloOk"] is True


@pytest.mark.parametrize("name,key", [("hello", "isWritablePrimary"), ("ismaster", "ismaster")])
def test_op_query_hello_variants(daemon, name: str, key: str) -> None:
    with daemon.connect_raw() as sock:
        assert query_reply(sock, {name: 1})[key] is True


@pytest.mark.parametrize("name", ["buildinfo", "buildInfo"])
def test_op_query_buildinfo(daemon, name: str) -> None:
    with daemon.connect_raw() as sock:
        doc = query_reply(sock, {name: 1})
        assert doc["version"].startswith("7.0.")


def test_op_query_then_op_msg_on_the_same_connection(daemon) -> None:
    with daemon.connect_raw() as sock:
        assert query_reply(sock, {"isMaster": 1}, flags=4)["ismaster"] is True
        assert command(sock, {"ping": 1, "$db": "admin"})["ok"] == 1.0
        assert query_reply(sock, {"hello": 1})["isWritablePrimary"] is True
