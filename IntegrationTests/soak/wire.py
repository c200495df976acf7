"""Raw MongoDB wire messages for the soak's hostile and connection-dropping clients.

Unlike the integration tests' wire_helpers, nothing here asserts: every read returns what happened
(a reply, a close, or nothing before a deadline) so the caller can classify it.
"""

from __future__ import annotations

import itertools
import socket
import struct
import time

import bson

OP_REPLY = 1
OP_QUERY = 2004
OP_COMPRESSED = 2012
OP_MSG = 2013
HEADER = struct.Struct("<iiii")  # messageLength, requestID, responseTo, opCode
MAX_REPLY = 48_000_000

_ids = itertools.count(1)


def header(length: int, request_id: int, op_code: int, response_to: int = 0) -> bytes:
    return HEADER.pack(length, request_id, response_to, op_code)


def frame(op_code: int, body: bytes) -> tuple[int, bytes]:
    """A complete message with a correct length; returns (requestID, bytes)."""
    rid = next(_ids) & 0x7FFFFFFF
    return rid, header(HEADER.size + len(body), rid, op_code) + body


def op_msg_raw(document: bytes, flags: int = 0) -> tuple[int, bytes]:
    """An OP_MSG whose one kind-0 section holds `document` (already encoded, possibly hand-built)."""
    return frame(OP_MSG, struct.pack("<I", flags) + b"\x00" + document)


def op_msg(command: dict, flags: int = 0) -> tuple[int, bytes]:
    return op_msg_raw(bson.encode(command), flags)


class Closed(Exception):
    """The daemon closed the connection (EOF or reset)."""


class Silent(Exception):
    """Nothing arrived before the deadline."""


def recv_exactly(sock: socket.socket, n: int, deadline: float) -> bytes:
    data = bytearray()
    while len(data) < n:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise Silent(f"{len(data)} of {n} bytes before the deadline")
        sock.settimeout(remaining)
        try:
            chunk = sock.recv(n - len(data))
        except (ConnectionResetError, BrokenPipeError):
            raise Closed("reset") from None
        except socket.timeout:
            raise Silent(f"{len(data)} of {n} bytes before the deadline") from None
        if not chunk:
            raise Closed(f"EOF after {len(data)} of {n} bytes")
        data += chunk
    return bytes(data)


def read_reply(sock: socket.socket, request_id: int, timeout: float) -> dict:
    """Reads one OP_MSG (or OP_REPLY) answering `request_id` and returns its document.

    Raises Closed, Silent, or ValueError for a reply that is not well formed.
    """
    deadline = time.monotonic() + timeout
    length, _, response_to, op_code = HEADER.unpack(recv_exactly(sock, HEADER.size, deadline))
    if not HEADER.size < length <= MAX_REPLY:
        raise ValueError(f"reply length {length}")
    body = recv_exactly(sock, length - HEADER.size, deadline)
    if response_to != request_id:
        raise ValueError(f"reply answers request {response_to}, not {request_id}")
    if op_code == OP_MSG:
        if len(body) < 10 or body[4] != 0:
            raise ValueError("OP_MSG reply without a kind-0 section")
        return bson.decode(body[5:])
    if op_code == OP_REPLY:
        documents = bson.decode_all(body[20:])
        if len(documents) != 1:
            raise ValueError(f"OP_REPLY with {len(documents)} documents")
        return documents[0]
    raise ValueError(f"reply opCode {op_code}")


def command(sock: socket.socket, doc: dict, timeout: float = 10.0) -> dict:
    rid, data = op_msg(doc)
    sock.sendall(data)
    return read_reply(sock, rid, timeout)


def connect(host: str, port: int, timeout: float = 10.0) -> socket.socket:
    sock = socket.create_connection((host, port), timeout=timeout)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def abort(sock: socket.socket) -> None:
    """Closes with a reset (SO_LINGER 0), as a crashed client or a dropped network would."""
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    except OSError:
        pass
    sock.close()


def nested_document(depth: int, leaf: bytes = b"\x10x\x00\x01\x00\x00\x00") -> bytes:
    """A BSON document `{a: {a: … {x: 1}}}` nested `depth` levels, built without recursion."""
    doc = struct.pack("<i", 5 + len(leaf)) + leaf + b"\x00"
    for _ in range(depth - 1):
        element = b"\x03a\x00" + doc
        doc = struct.pack("<i", 5 + len(element)) + element + b"\x00"
    return doc


def with_field(command: bytes, name: str, value: bytes, type_byte: int = 0x03) -> bytes:
    """Appends a raw element `name: value` to an encoded document."""
    element = bytes([type_byte]) + name.encode() + b"\x00" + value
    body = command[4:-1] + element
    return struct.pack("<i", len(body) + 5) + body + b"\x00"
