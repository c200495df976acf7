"""Limits that keep the daemon alive under load: --maxConns, the request-byte budget, the read
deadline of a started frame (docs/reliability.md, "Limits")."""

from __future__ import annotations

import os
import socket
import struct
import threading

import bson
from bson import Binary

from wire_helpers import OP_MSG, command, header, next_request_id, parse_op_msg_reply, read_message, wait_closed


def ping(sock: socket.socket) -> None:
    assert command(sock, {"ping": 1, "$db": "admin"})["ok"] == 1.0


def test_connections_beyond_max_conns_are_closed_at_once_and_logged(daemon_factory) -> None:
    d = daemon_factory("--maxConns", "3")
    admitted = [d.connect_raw() for _ in range(3)]
    try:
        for sock in admitted:
            ping(sock)
        offset = d.log_offset()
        extra = d.connect_raw()
        assert wait_closed(extra, timeout=10) == b""
        line = d.wait_for_log(r".*connection refused because too many open connections.*", since=offset, timeout=10)
        assert line and "maxConns=3" in line.group(0), d.log(offset)
        for sock in admitted:  # the admitted ones are unaffected
            ping(sock)
        admitted.pop().close()
        # A slot is free again once the closed connection's task has ended.
        for _ in range(50):
            replacement = d.connect_raw()
            try:
                ping(replacement)
                break
            except (EOFError, ConnectionError):
                replacement.close()
                threading.Event().wait(0.1)
        else:
            raise AssertionError("no connection admitted after one closed")
        replacement.close()
    finally:
        for sock in admitted:
            sock.close()
    with d.client() as c:
        opts = c.admin.command("getCmdLineOpts")["parsed"]["net"]
        assert opts["maxIncomingConnections"] == 3


def test_byte_budget_makes_readers_wait_and_never_fails(daemon_factory) -> None:
    # A 2 MB budget and four clients each sending 8 MB batches: each batch is larger than the whole
    # budget, so they go through one at a time; all must succeed with their bytes intact.
    d = daemon_factory("--maxIncomingBytesInFlight", str(2 << 20))
    payload = os.urandom(255 * 1024)
    errors: list[BaseException] = []

    def insert(i: int) -> None:
        try:
            with d.client(socketTimeoutMS=120000) as c:
                coll = c.test[f"budget{i}"]
                for batch in range(2):
                    coll.insert_many([{"_id": batch * 100 + k, "data": Binary(payload)} for k in range(32)])
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=insert, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    with d.client() as c:
        for i in range(4):
            coll = c.test[f"budget{i}"]
            assert coll.count_documents({}) == 64
            assert all(doc["data"] == payload for doc in coll.find({}, {"data": 1}))
        assert c.admin.command("getCmdLineOpts")["parsed"]["net"]["maxIncomingBytesInFlight"] == 2 << 20


def test_a_started_frame_that_stalls_is_closed_after_the_read_deadline(daemon_factory) -> None:
    d = daemon_factory("--frameReadTimeoutSecs", "1")
    stalled = d.connect_raw()
    offset = d.log_offset()
    # A header declaring 1,000,000 bytes, then only 10 of them.
    stalled.sendall(header(1_000_000, next_request_id(), OP_MSG) + b"\x00" * 10)
    idle = d.connect_raw()  # a connection with no frame started is not subject to the deadline
    assert wait_closed(stalled, timeout=30) == b""
    assert d.wait_for_log(r"no bytes of a 1000000-byte message for 1 s", since=offset, timeout=10), d.log(offset)
    ping(idle)
    idle.close()
    with d.client() as c:
        assert c.admin.command("ping")["ok"] == 1.0


def test_a_frame_sent_slowly_but_steadily_is_not_cut(daemon_factory) -> None:
    d = daemon_factory("--frameReadTimeoutSecs", "2")
    sock = d.connect_raw(timeout=30)
    rid = next_request_id()
    body = struct.pack("<I", 0) + b"\x00" + bson.encode({"ping": 1, "$db": "admin"})
    data = header(16 + len(body), rid, OP_MSG) + body
    # Every piece arrives well within the deadline, the whole frame takes longer than it.
    for i in range(0, len(data), 8):
        sock.sendall(data[i:i + 8])
        threading.Event().wait(0.5)
    assert parse_op_msg_reply(read_message(sock))["ok"] == 1.0
    sock.close()
