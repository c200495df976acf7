"""Shared helpers for the storage integration tests (IntegrationTests/integration/test_storage_*.py)."""

from __future__ import annotations

import itertools
import os
import socket
import struct
import uuid

import bson

import wire_helpers

_counter = itertools.count()


def unique_name(prefix: str = "t") -> str:
    """A database or collection name no other test uses."""
    return f"{prefix}_{os.getpid()}_{next(_counter)}_{uuid.uuid4().hex[:6]}"


def command_error(excinfo) -> tuple[int, str]:
    """(code, errmsg) of a pymongo OperationFailure caught by pytest.raises."""
    err = excinfo.value
    return err.code, str(err.details.get("errmsg", "")) if err.details else str(err)


def op_msg_kind1(command: dict, identifier: str, documents: list[bytes]) -> tuple[int, bytes]:
    """An OP_MSG with a kind-0 body and one kind-1 section of already-encoded documents."""
    payload = identifier.encode() + b"\x00" + b"".join(documents)
    section1 = b"\x01" + struct.pack("<i", 4 + len(payload)) + payload
    body = struct.pack("<I", 0) + b"\x00" + bson.encode(command) + section1
    return wire_helpers.frame(wire_helpers.OP_MSG, body)


def raw_command(sock: socket.socket, message: tuple[int, bytes]) -> dict:
    """Sends a prepared message and returns the OP_MSG reply document."""
    rid, data = message
    sock.sendall(data)
    reply = wire_helpers.read_message(sock)
    assert reply.response_to == rid
    return wire_helpers.parse_op_msg_reply(reply)
