"""Hand-built MongoDB wire messages for tests that talk to the daemon over a raw socket."""

from __future__ import annotations

import itertools
import socket
import struct
import time
from dataclasses import dataclass

import bson

OP_REPLY = 1
OP_QUERY = 2004
OP_COMPRESSED = 2012
OP_MSG = 2013

HEADER = struct.Struct("<iiii")  # messageLength, requestID, responseTo, opCode

_request_ids = itertools.count(1000)


def next_request_id() -> int:
    return next(_request_ids)


def header(length: int, request_id: int, op_code: int, response_to: int = 0) -> bytes:
    return HEADER.pack(length, request_id, response_to, op_code)


def frame(op_code: int, body: bytes, request_id: int | None = None) -> tuple[int, bytes]:
    """A complete message (header + body) with a correct length; returns (requestID, bytes)."""
    rid = next_request_id() if request_id is None else request_id
    return rid, header(HEADER.size + len(body), rid, op_code) + body


def op_msg(command: dict, flags: int = 0, request_id: int | None = None) -> tuple[int, bytes]:
    """An OP_MSG with one kind-0 section holding `command`."""
    body = struct.pack("<I", flags) + b"\x00" + bson.encode(command)
    return frame(OP_MSG, body, request_id)


def op_query(query: dict, collection: str = "admin.$cmd", flags: int = 0,
             number_to_return: int = -1, request_id: int | None = None) -> tuple[int, bytes]:
    """An OP_QUERY (as libmongoc and the Go driver send their handshake)."""
    body = (struct.pack("<i", flags) + collection.encode() + b"\x00"
            + struct.pack("<ii", 0, number_to_return) + bson.encode(query))
    return frame(OP_QUERY, body, request_id)


def recv_exactly(sock: socket.socket, n: int) -> bytes:
    """Reads exactly n bytes; raises EOFError if the peer closes first (socket timeout applies)."""
    chunks = bytearray()
    while len(chunks) < n:
        chunk = sock.recv(n - len(chunks))
        if not chunk:
            raise EOFError(f"connection closed after {len(chunks)} of {n} bytes")
        chunks += chunk
    return bytes(chunks)


@dataclass
class Message:
    """A message read from the daemon."""

    length: int
    request_id: int
    response_to: int
    op_code: int
    body: bytes


def read_message(sock: socket.socket) -> Message:
    raw = recv_exactly(sock, HEADER.size)
    length, request_id, response_to, op_code = HEADER.unpack(raw)
    assert HEADER.size <= length <= 48_000_000, f"bad reply length {length}"
    return Message(length, request_id, response_to, op_code, recv_exactly(sock, length - HEADER.size))


def parse_op_msg_reply(message: Message) -> dict:
    """The single body document of an OP_MSG reply, checked the way pymongo checks it."""
    assert message.op_code == OP_MSG, f"expected OP_MSG, got opCode {message.op_code}"
    (flags,) = struct.unpack_from("<I", message.body, 0)
    assert flags == 0, f"reply flagBits {flags:#x} (pymongo requires 0)"
    assert message.body[4] == 0, f"reply section kind {message.body[4]} (expected 0)"
    (doc_len,) = struct.unpack_from("<i", message.body, 5)
    assert 5 + doc_len == len(message.body), "reply must hold exactly one section and no checksum"
    return bson.decode(message.body[5:])


@dataclass
class Reply:
    """A decoded OP_REPLY."""

    response_flags: int
    cursor_id: int
    starting_from: int
    number_returned: int
    documents: list[dict]


def parse_op_reply(message: Message) -> Reply:
    assert message.op_code == OP_REPLY, f"expected OP_REPLY, got opCode {message.op_code}"
    flags, cursor_id, starting_from, number_returned = struct.unpack_from("<iqii", message.body, 0)
    documents = bson.decode_all(message.body[20:])
    return Reply(flags, cursor_id, starting_from, number_returned, documents)


def command(sock: socket.socket, doc: dict) -> dict:
    """Sends one OP_MSG command and returns its reply document."""
    rid, data = op_msg(doc)
    sock.sendall(data)
    message = read_message(sock)
    assert message.response_to == rid
    return parse_op_msg_reply(message)


def send_ignoring_reset(sock: socket.socket, data: bytes) -> None:
    """Sends data; the daemon may already have closed the connection, which is fine here."""
    try:
        sock.sendall(data)
    except (BrokenPipeError, ConnectionResetError):
        pass


def wait_closed(sock: socket.socket, timeout: float = 5.0) -> bytes:
    """Reads until the daemon closes the connection; returns what it sent before closing.

    Fails (AssertionError) if the connection is still open after `timeout` seconds.
    """
    received = bytearray()
    deadline = time.monotonic() + timeout
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise AssertionError(f"connection still open after {timeout}s (received {len(received)} bytes)")
        sock.settimeout(remaining)
        try:
            chunk = sock.recv(65536)
        except ConnectionResetError:
            return bytes(received)
        except socket.timeout:
            raise AssertionError(f"connection still open after {timeout}s "
                                 f"(received {len(received)} bytes)") from None
        if not chunk:
            return bytes(received)
        received += chunk


def scram_sha256_authenticate(sock: socket.socket, user: str, password: str, db: str = "admin") -> None:
    """Authenticates a raw connection with SCRAM-SHA-256 (saslStart + saslContinue, skipEmptyExchange)."""
    import base64
    import hashlib
    import hmac
    import os

    from bson import Binary

    nonce = base64.b64encode(os.urandom(24)).decode()
    first_bare = f"n={user},r={nonce}"
    r1 = command(sock, {"saslStart": 1, "mechanism": "SCRAM-SHA-256", "payload": Binary(f"n,,{first_bare}".encode()),
                        "options": {"skipEmptyExchange": True}, "$db": db})
    assert r1.get("ok") == 1, r1
    server_first = bytes(r1["payload"]).decode()
    fields = dict(part.split("=", 1) for part in server_first.split(","))
    salted = hashlib.pbkdf2_hmac("sha256", password.encode(), base64.b64decode(fields["s"]), int(fields["i"]))
    client_key = hmac.new(salted, b"Client Key", "sha256").digest()
    stored_key = hashlib.sha256(client_key).digest()
    without_proof = f"c=biws,r={fields['r']}"
    auth_message = f"{first_bare},{server_first},{without_proof}".encode()
    signature = hmac.new(stored_key, auth_message, "sha256").digest()
    proof = base64.b64encode(bytes(a ^ b for a, b in zip(client_key, signature))).decode()
    r2 = command(sock, {"saslContinue": 1, "conversationId": r1["conversationId"],
                        "payload": Binary(f"{without_proof},p={proof}".encode()), "$db": db})
    assert r2.get("ok") == 1 and r2.get("done") is True, r2
