"""OP_COMPRESSED (opcode 2012): pymongo with snappy/zlib/zstd, raw frames, refusals of bad frames."""

from __future__ import annotations

import hashlib
import os
import socket
import struct
import subprocess
import zlib

import bson
import gridfs
import pymongo.message
import pymongo.network_layer
import pytest
import snappy
from backports import zstd

from wire_helpers import (HEADER, OP_COMPRESSED, OP_MSG, OP_QUERY, OP_REPLY, frame, op_msg, op_query,
                          parse_op_msg_reply, parse_op_reply, read_message, send_ignoring_reset, wait_closed)

COMPRESSOR_IDS = {"noop": 0, "snappy": 1, "zlib": 2, "zstd": 3}
CODECS = {
    "noop": lambda data: data,
    "snappy": snappy.compress,
    "zlib": zlib.compress,
    "zstd": zstd.compress,
}
DECODERS = {
    0: lambda data, size: data,
    1: lambda data, size: snappy.uncompress(data),
    2: lambda data, size: zlib.decompress(data),
    3: lambda data, size: zstd.decompress(data),
}


def compressed(message: bytes, compressor: str, declared: int | None = None, compressor_id: int | None = None,
               payload: bytes | None = None) -> tuple[int, bytes]:
    """Wraps an encoded message (header + body) in an OP_COMPRESSED with the same requestID."""
    _, request_id, _, op_code = HEADER.unpack_from(message)
    body = message[HEADER.size:]
    data = CODECS[compressor](body) if payload is None else payload
    size = len(body) if declared is None else declared
    cid = COMPRESSOR_IDS[compressor] if compressor_id is None else compressor_id
    return frame(OP_COMPRESSED, struct.pack("<iiB", op_code, size, cid) + data, request_id)


def inflate_reply(message) -> tuple[int, int, bytes]:
    """(compressorId, originalOpcode, inflated body) of an OP_COMPRESSED reply."""
    assert message.op_code == OP_COMPRESSED, f"expected OP_COMPRESSED, got {message.op_code}"
    original, size, cid = struct.unpack_from("<iiB", message.body)
    body = DECODERS[cid](message.body[9:], size)
    assert len(body) == size
    return cid, original, body


def unwrapped(message):
    """The OP_MSG inside a compressed reply, as a message parse_op_msg_reply accepts."""
    _, original, body = inflate_reply(message)
    message.op_code, message.body = original, body
    return message


# --- negotiation --------------------------------------------------------------------------------

def test_hello_answers_the_intersection_in_the_clients_order(daemon) -> None:
    with daemon.connect_raw() as sock:
        for asked, agreed in ((["zlib", "lz4", "snappy"], ["zlib", "snappy"]),
                              (["zstd", "zlib"], ["zstd", "zlib"])):
            rid, data = op_msg({"hello": 1, "compression": asked, "$db": "admin"})
            sock.sendall(data)
            reply = parse_op_msg_reply(read_message(sock))
            assert reply["compression"] == agreed
        rid, data = op_msg({"hello": 1, "compression": ["lz4"], "$db": "admin"})
        sock.sendall(data)
        assert "compression" not in parse_op_msg_reply(read_message(sock))


def test_get_cmd_line_opts_reports_the_compressors(daemon_factory) -> None:
    d = daemon_factory("--networkMessageCompressors", "zstd,zlib")
    with d.client() as c:
        assert c.admin.command("getCmdLineOpts")["parsed"]["net"]["compression"] == {"compressors": "zstd,zlib"}
        assert c.admin.command({"hello": 1, "compression": ["snappy", "zlib", "zstd"]})["compression"] == ["zlib", "zstd"]


def test_unknown_compressor_name_is_a_startup_error(gridlite_binary, tmp_path) -> None:
    result = subprocess.run([str(gridlite_binary), "serve", "--no-http", "--port", "0", "--data-dir", str(tmp_path),
                             "--networkMessageCompressors", "snappy,lz4"],
                            capture_output=True, text=True, timeout=30, stdin=subprocess.DEVNULL)
    assert result.returncode == 1
    assert "Invalid network message compressor specified in configuration: lz4" in result.stderr


# --- raw frames -----------------------------------------------------------------------------------

@pytest.mark.parametrize("compressor", ["noop", "snappy", "zlib", "zstd"])
def test_compressed_request_gets_a_reply_compressed_the_same_way(daemon, compressor: str) -> None:
    with daemon.connect_raw() as sock:
        rid, data = compressed(op_msg({"ping": 1, "$db": "admin"})[1], compressor)
        sock.sendall(data)
        message = read_message(sock)
        assert message.response_to == rid
        cid, original, _ = inflate_reply(message)
        assert (cid, original) == (COMPRESSOR_IDS[compressor], OP_MSG)
        assert parse_op_msg_reply(unwrapped(message)) == {"ok": 1.0}

        # An uncompressed request on the same connection is answered uncompressed.
        rid, data = op_msg({"ping": 1, "$db": "admin"})
        sock.sendall(data)
        assert parse_op_msg_reply(read_message(sock)) == {"ok": 1.0}


@pytest.mark.parametrize("command", ["hello", "isMaster", "saslStart", "getnonce"])
def test_handshake_and_auth_replies_are_never_compressed(daemon, command: str) -> None:
    with daemon.connect_raw() as sock:
        rid, data = compressed(op_msg({command: 1, "compression": ["zlib"], "$db": "admin"})[1], "zlib")
        sock.sendall(data)
        message = read_message(sock)
        assert message.response_to == rid
        assert message.op_code == OP_MSG
        parse_op_msg_reply(message)


def test_compressed_op_query_handshake_is_answered_with_a_plain_op_reply(daemon) -> None:
    with daemon.connect_raw() as sock:
        rid, data = compressed(op_query({"isMaster": 1, "compression": ["snappy"]})[1], "snappy")
        sock.sendall(data)
        message = read_message(sock)
        assert message.op_code == OP_REPLY
        assert parse_op_reply(message).documents[0]["compression"] == ["snappy"]


def test_large_insert_and_find_compressed(daemon, client) -> None:
    client.drop_database("compression_raw")
    document = {"_id": 1, "text": "gridlite " * 400_000}
    with daemon.connect_raw(timeout=30) as sock:
        for compressor in ("snappy", "zlib", "zstd"):
            rid, data = compressed(op_msg({"insert": compressor, "documents": [document],
                                           "$db": "compression_raw"})[1], compressor)
            assert len(data) < 200_000  # 3.6 MB of text
            sock.sendall(data)
            assert parse_op_msg_reply(unwrapped(read_message(sock)))["n"] == 1
            rid, data = compressed(op_msg({"find": compressor, "$db": "compression_raw"})[1], compressor)
            sock.sendall(data)
            message = read_message(sock)
            assert message.length < 200_000
            reply = parse_op_msg_reply(unwrapped(message))
            assert reply["cursor"]["firstBatch"] == [document]
    client.drop_database("compression_raw")


# --- refusals: the connection closes, the reason is logged, the daemon carries on ---------------

def assert_refused(daemon, data: bytes, reason: str) -> None:
    since = daemon.log_offset()
    with daemon.connect_raw() as sock:
        send_ignoring_reset(sock, data)
        assert wait_closed(sock) == b""
    assert daemon.wait_for_log(reason, since=since), daemon.log(since)
    with daemon.client() as c:
        assert c.admin.command("ping")["ok"] == 1.0


def ping_message() -> bytes:
    return op_msg({"ping": 1, "$db": "admin"})[1]


def test_declared_size_above_the_limit_is_refused_before_inflating(daemon) -> None:
    # 48 MB of zeros as zstd is a few kB; the size is refused before a byte is inflated.
    bomb = zstd.compress(bytes(48_000_000))
    assert len(bomb) < 100_000
    _, data = compressed(ping_message(), "zstd", declared=48_000_000, payload=bomb)
    assert_refused(daemon, data, r"uncompressedSize 48000000 would make a message larger than the maximum")


@pytest.mark.parametrize("compressor", ["snappy", "zlib", "zstd"])
def test_decompression_bomb_closes_the_connection(daemon, compressor: str) -> None:
    # 64 MiB of zeros declared as 1000 bytes: inflation stops at 1000 and the frame is refused.
    bomb = CODECS[compressor](bytes(64 << 20))
    _, data = compressed(ping_message(), compressor, declared=1000, payload=bomb)
    assert_refused(daemon, data, rf"{compressor} (data|frame) .*uncompressedSize")


@pytest.mark.parametrize("compressor", ["snappy", "zlib", "zstd"])
def test_data_shorter_than_declared_is_refused(daemon, compressor: str) -> None:
    body = ping_message()[HEADER.size:]
    _, data = compressed(ping_message(), compressor, declared=len(body) + 1)
    assert_refused(daemon, data, rf"{compressor} (data|frame) .*uncompressedSize")


def test_negative_size_is_refused(daemon) -> None:
    _, data = compressed(ping_message(), "zlib", declared=-5)
    assert_refused(daemon, data, r"uncompressedSize is negative")


def test_unknown_compressor_id_is_refused(daemon) -> None:
    _, data = compressed(ping_message(), "noop", compressor_id=9)
    assert_refused(daemon, data, r"compressor id 9 is unknown or not enabled")


def test_truncated_and_corrupt_data_are_refused(daemon) -> None:
    body = ping_message()[HEADER.size:]
    _, data = compressed(ping_message(), "zlib", payload=zlib.compress(body)[:-4])
    assert_refused(daemon, data, r"zlib data is corrupt or truncated")
    _, data = compressed(ping_message(), "zstd", payload=os.urandom(64))
    assert_refused(daemon, data, r"zstd data")


def test_disabled_compression(daemon_factory) -> None:
    d = daemon_factory("--networkMessageCompressors", "disabled")
    with d.connect_raw() as sock:
        sock.sendall(op_msg({"hello": 1, "compression": ["snappy", "zlib", "zstd"], "$db": "admin"})[1])
        assert "compression" not in parse_op_msg_reply(read_message(sock))
    assert_refused(d, compressed(ping_message(), "zlib")[1], r"compressor id 2 is unknown or not enabled")
    with d.client(compressors="zlib") as c:  # the driver falls back to plain messages
        assert c.admin.command("ping")["ok"] == 1.0


# --- pymongo ----------------------------------------------------------------------------------------

@pytest.fixture
def wire_log(monkeypatch):
    """Counts the compressor ids of requests pymongo compresses and of replies it inflates."""
    seen = {"sent": [], "received": []}
    original_compress = pymongo.message._compress
    original_decompress = pymongo.network_layer.decompress

    def compress(operation, data, ctx):
        seen["sent"].append(ctx.compressor_id)
        return original_compress(operation, data, ctx)

    def decompress(data, compressor_id, max_size):
        seen["received"].append(compressor_id)
        return original_decompress(data, compressor_id, max_size)

    monkeypatch.setattr(pymongo.message, "_compress", compress)
    monkeypatch.setattr(pymongo.network_layer, "decompress", decompress)
    return seen


@pytest.mark.parametrize("compressor", ["snappy", "zlib", "zstd"])
def test_pymongo_gridfs_round_trip(daemon, wire_log, compressor: str) -> None:
    random_part = os.urandom(3 << 20)
    text_part = b"".join(b"line %08d of a compressible GridFS file\n" % i for i in range(100_000))
    payload = random_part + text_part
    with daemon.client(compressors=compressor) as c:
        db = c[f"compression_{compressor}"]
        c.drop_database(db.name)
        bucket = gridfs.GridFSBucket(db)
        file_id = bucket.upload_from_stream("mixed.bin", payload)
        data = bucket.open_download_stream(file_id).read()
        assert hashlib.sha256(data).hexdigest() == hashlib.sha256(payload).hexdigest()
        assert db.fs.files.find_one({"_id": file_id})["length"] == len(payload)
        c.drop_database(db.name)
    expected = COMPRESSOR_IDS[compressor]
    assert wire_log["sent"] and set(wire_log["sent"]) == {expected}
    assert wire_log["received"] and set(wire_log["received"]) == {expected}
    # Every chunk travelled compressed both ways.
    assert len(wire_log["received"]) >= 5


# --- libmongoc ------------------------------------------------------------------------------------

@pytest.mark.parametrize("compressor", ["zstd", "snappy"])
def test_libmongoc_gridfs_with_compression(daemon, c_program, compressor: str) -> None:
    since = daemon.log_offset()
    uri = daemon.uri_with(f"serverSelectionTimeoutMS=5000&connectTimeoutMS=5000&compressors={compressor}")
    result = subprocess.run([str(c_program("gridfs_bucket")), uri, f"c_compressed_{compressor}"],
                            capture_output=True, text=True, timeout=120)
    output = f"stdout:\n{result.stdout}\nstderr:\n{result.stderr}"
    assert result.returncode == 0, output
    assert result.stdout.strip().endswith("0 failed"), output
    # The daemon saw libmongoc's requests arrive compressed with the chosen compressor.
    assert daemon.wait_for_log(rf"OP_COMPRESSED request with {compressor}", since=since), daemon.log(since)


def test_server_status_counts_logical_and_physical_bytes(daemon) -> None:
    """network.bytesIn/Out count messages as if uncompressed, physicalBytesIn/Out what crossed the socket."""
    document = {"_id": 1, "text": "compressible " * 50_000}  # 650 kB of text
    with daemon.connect_raw(timeout=30) as sock:
        def status() -> dict:
            sock.sendall(op_msg({"serverStatus": 1, "$db": "admin"})[1])
            return parse_op_msg_reply(read_message(sock))["network"]

        before = status()
        rid, data = compressed(op_msg({"insert": "status_bytes", "documents": [document], "$db": "compression_status"})[1],
                               "zstd")
        sock.sendall(data)
        assert parse_op_msg_reply(unwrapped(read_message(sock)))["n"] == 1
        after = status()
        logical_in = after["bytesIn"] - before["bytesIn"]
        physical_in = after["physicalBytesIn"] - before["physicalBytesIn"]
        # The insert counts ~650 kB as a message but only its compressed size on the socket
        # (the serverStatus request in between is uncompressed and counted alike in both).
        assert logical_in > 600_000
        assert physical_in < 100_000
        sock.sendall(op_msg({"dropDatabase": 1, "$db": "compression_status"})[1])
        read_message(sock)


@pytest.mark.parametrize("compressor", ["snappy", "zstd", "zlib"])
def test_server_status_counts_bytes_per_compressor(daemon, compressor) -> None:
    """network.compression.<name>: decompressor bytes of each compressed request (compressed payload in,
    message body out) and compressor bytes of each compressed reply (body in, payload out), as mongod."""
    document = {"_id": 1, "text": "compressible " * 20_000}
    with daemon.connect_raw(timeout=30) as sock:
        def status() -> dict:
            sock.sendall(op_msg({"serverStatus": 1, "$db": "admin"})[1])
            return parse_op_msg_reply(read_message(sock))["network"]["compression"]

        before = status()
        assert set(before) == {"snappy", "zstd", "zlib"}
        message = op_msg({"insert": f"bytes_{compressor}", "documents": [document], "$db": "compression_counts"})[1]
        _, data = compressed(message, compressor)
        sock.sendall(data)
        reply = read_message(sock)
        assert parse_op_msg_reply(unwrapped(reply))["n"] == 1
        find = op_msg({"find": f"bytes_{compressor}", "filter": {}, "$db": "compression_counts"})[1]
        sock.sendall(compressed(find, compressor)[1])
        found = read_message(sock)
        found_body = inflate_reply(found)[2]
        assert parse_op_msg_reply(unwrapped(found))["cursor"]["firstBatch"][0]["text"] == document["text"]
        after = status()
        for name in ("snappy", "zstd", "zlib"):
            delta = {side: {k: after[name][side][k] - before[name][side][k] for k in ("bytesIn", "bytesOut")}
                     for side in ("compressor", "decompressor")}
            if name != compressor:
                assert delta == {"compressor": {"bytesIn": 0, "bytesOut": 0},
                                 "decompressor": {"bytesIn": 0, "bytesOut": 0}}, name
                continue
            # two requests in: their compressed payloads, and their bodies after inflating
            assert delta["decompressor"]["bytesIn"] == len(data) - 25 + len(compressed(find, compressor)[1]) - 25
            assert delta["decompressor"]["bytesOut"] == len(message) - 16 + len(find) - 16
            # two replies out: the find reply's body is the largest part of what went in
            assert delta["compressor"]["bytesIn"] >= len(found_body) > 260_000
            assert 0 < delta["compressor"]["bytesOut"] < delta["compressor"]["bytesIn"] // 4
            assert delta["compressor"]["bytesOut"] >= found.length - 25
        sock.sendall(op_msg({"dropDatabase": 1, "$db": "compression_counts"})[1])
        read_message(sock)


def test_inflated_bytes_wait_for_the_incoming_budget(daemon_factory) -> None:
    """Compressed frames of a few kilobytes that inflate to 6 MB each, from six connections at once,
    under --maxIncomingBytesInFlight 4 MB: the inflations take turns (each is larger than the whole
    budget, so one at a time) and every insert succeeds with its bytes intact; nothing deadlocks."""
    import threading

    d = daemon_factory("--maxIncomingBytesInFlight", str(4 << 20))
    text = "z" * (6 << 20)
    errors: list[BaseException] = []

    def send(i: int) -> None:
        try:
            with d.connect_raw(timeout=60) as sock:
                message = op_msg({"insert": f"bomb{i}", "documents": [{"_id": i, "t": text}], "$db": "inflate_budget"})[1]
                _, data = compressed(message, "zlib")
                assert len(data) < 64 * 1024
                sock.sendall(data)
                assert parse_op_msg_reply(unwrapped(read_message(sock)))["n"] == 1
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=send, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not errors, errors
    with d.client() as c:
        for i in range(6):
            assert c.inflate_budget[f"bomb{i}"].find_one({"_id": i})["t"] == text
        c.drop_database("inflate_budget")
