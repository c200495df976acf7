#!/usr/bin/env python3
"""Writes wire seeds for the wave-2 commands (Fuzz/seeds/wire/admin-<name>): SASL/SCRAM logins with
--auth off and on, user administration, the failCommand fail point, maxTimeMS, and the integrity
commands (validate, compact, currentOp), as OP_MSG frames a driver would send, each also wrapped
in OP_COMPRESSED (one compressor per seed, rotating).

The server's set-up is the low byte of the first frame's responseTo (FuzzMode in
Sources/FuzzSupport/FuzzMode.swift): 0x80 --auth, 0x40 the user fuzzroot exists, 0x20 the
connection starts logged in as it, 0x10 test commands (configureFailPoint) enabled.

    .venv/bin/python Fuzz/make_admin_seeds.py
"""
import base64
import os
import struct

import bson
from bson import Binary, Int64

from make_compressed_seeds import CODECS, compress

AUTH, ROOT, LOGGED_IN, TEST = 0x80, 0x40, 0x20, 0x10
USER, PASSWORD = "fuzzroot", "fuzz-password"
here = os.path.dirname(os.path.abspath(__file__))
wire = os.path.join(here, "seeds", "wire")


def op_msg(request_id, body, response_to=0):
    """One OP_MSG frame with a kind-0 body (a SON, so the command name comes first)."""
    payload = struct.pack("<I", 0) + b"\x00" + bson.encode(body)
    return struct.pack("<iiii", 16 + len(payload), request_id, response_to, 2013) + payload


def cmd(*pairs, db="admin"):
    doc = bson.SON(pairs)
    doc["$db"] = db
    return doc


def scram_start(mechanism, user=USER, nonce="fyko+d2lbbFgONRv9qkxdawL"):
    return cmd(("saslStart", 1), ("mechanism", mechanism),
               ("payload", Binary(f"n,,n={user},r={nonce}".encode())), ("autoAuthorize", 1),
               ("options", {"skipEmptyExchange": True}))


def scram_continue(conversation=1, nonce="fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j"):
    # The server's nonce is random, so the proof cannot be right: this reaches the final step's checks.
    proof = base64.b64encode(bytes(32)).decode()
    return cmd(("saslContinue", 1), ("conversationId", conversation),
               ("payload", Binary(f"c=biws,r={nonce},p={proof}".encode())))


HELLO = cmd(("hello", 1), ("client", {"driver": {"name": "fuzz", "version": "1"}, "os": {"type": "Linux"}}),
            ("compression", ["snappy", "zstd", "zlib"]), ("saslSupportedMechs", f"admin.{USER}"))

SEEDS = {
    # SCRAM with --auth off: the user missing, then present.
    "sasl-noauth": (0, [HELLO, scram_start("SCRAM-SHA-256"), scram_continue(), scram_start("SCRAM-SHA-1"),
                        scram_continue(), scram_start("PLAIN")]),
    "sasl-noauth-user": (ROOT, [HELLO, scram_start("SCRAM-SHA-256"), scram_continue(), scram_start("SCRAM-SHA-1"),
                                scram_continue(2), cmd(("saslContinue", 1), ("conversationId", 9), ("payload", b""))]),
    # --auth on: a failed login, then commands that need one.
    "sasl-auth": (AUTH | ROOT, [HELLO, scram_start("SCRAM-SHA-256"), scram_continue(), scram_start("SCRAM-SHA-1", user="nobody"),
                                cmd(("find", "c"), ("filter", {}), db="fuzz"), cmd(("listDatabases", 1)),
                                cmd(("connectionStatus", 1), ("showPrivileges", True)), cmd(("ping", 1))]),
    # --auth on with no users: the localhost exception creates the first one, then it logs in.
    "auth-localhost-exception": (AUTH, [HELLO, cmd(("createUser", USER), ("pwd", PASSWORD), ("roles", ["root"])),
                                        scram_start("SCRAM-SHA-256"), scram_continue(),
                                        cmd(("createUser", "second"), ("pwd", "x"), ("roles", []))]),
    # Logged in as root: user administration.
    "auth-users": (AUTH | ROOT | LOGGED_IN, [
        HELLO,
        cmd(("createUser", "app"), ("pwd", "secret"), ("roles", [{"role": "readWrite", "db": "fuzz"}]),
            ("mechanisms", ["SCRAM-SHA-256"]), ("customData", {"k": 1}), db="fuzz"),
        cmd(("usersInfo", {"user": "app", "db": "fuzz"}), ("showCredentials", True), db="fuzz"),
        cmd(("grantRolesToUser", "app"), ("roles", ["read", {"role": "dbAdmin", "db": "fuzz"}]), db="fuzz"),
        cmd(("revokeRolesFromUser", "app"), ("roles", ["read"]), db="fuzz"),
        cmd(("updateUser", "app"), ("pwd", "secret2"), ("customData", {"k": 2}), db="fuzz"),
        cmd(("rolesInfo", 1), ("showBuiltinRoles", True), ("showPrivileges", True), db="fuzz"),
        cmd(("dropUser", "app"), db="fuzz"), cmd(("dropAllUsersFromDatabase", 1), db="fuzz"),
        cmd(("logout", 1)), cmd(("find", "c"), db="fuzz")]),
    # Test commands: the failCommand fail point (error, close, short block cut by maxTimeMS).
    "failpoint": (TEST, [
        HELLO,
        cmd(("configureFailPoint", "failCommand"), ("mode", {"times": 1}),
            ("data", {"failCommands": ["ping"], "errorCode": 91, "errorLabels": ["RetryableWriteError"]})),
        cmd(("ping", 1)), cmd(("ping", 1)),
        cmd(("configureFailPoint", "failCommand"), ("mode", "alwaysOn"),
            ("data", {"failCommands": ["insert"], "writeConcernError": {"code": 91, "errmsg": "x"}})),
        cmd(("insert", "c"), ("documents", [{"_id": 1}]), db="fuzz"),
        cmd(("configureFailPoint", "failCommand"), ("mode", {"skip": 1}),
            ("data", {"failCommands": ["find"], "blockConnection": True, "blockTimeMS": 30})),
        cmd(("find", "c"), ("maxTimeMS", 5), db="fuzz"), cmd(("find", "c"), ("maxTimeMS", 5), db="fuzz"),
        cmd(("configureFailPoint", "failCommand"), ("mode", "off")),
        cmd(("configureFailPoint", "failCommand"), ("mode", {"activationProbability": 1.0}),
            ("data", {"failCommands": ["find"], "closeConnection": True})),
        cmd(("find", "c"), db="fuzz")]),
    # The fail point refused without test commands, and under --auth.
    "failpoint-refused": (AUTH | ROOT | LOGGED_IN, [
        cmd(("configureFailPoint", "failCommand"), ("mode", "alwaysOn"), ("data", {"failCommands": ["ping"], "errorCode": 2})),
        cmd(("ping", 1))]),
    # maxTimeMS on reads, writes and aggregation, including edge values.
    "maxtimems": (0, [
        cmd(("insert", "c"), ("documents", [{"_id": i, "a": i} for i in range(50)]), ("maxTimeMS", 1000), db="fuzz"),
        cmd(("find", "c"), ("filter", {"a": {"$gte": 0}}), ("batchSize", 2), ("maxTimeMS", 1), db="fuzz"),
        cmd(("getMore", Int64(1)), ("collection", "c"), ("maxTimeMS", 1), db="fuzz"),
        cmd(("aggregate", "c"), ("pipeline", [{"$group": {"_id": "$a"}}]), ("cursor", {}), ("maxTimeMS", 2), db="fuzz"),
        cmd(("count", "c"), ("maxTimeMS", Int64(2 ** 31)), db="fuzz"),
        cmd(("find", "c"), ("maxTimeMS", -1), db="fuzz"), cmd(("find", "c"), ("maxTimeMS", 1.5), db="fuzz"),
        cmd(("update", "c"), ("updates", [{"q": {}, "u": {"$inc": {"a": 1}}, "multi": True}]), ("maxTimeMS", 1), db="fuzz"),
        cmd(("delete", "c"), ("deletes", [{"q": {}, "limit": 0}]), ("maxTimeMS", 0), db="fuzz")]),
    # Integrity and space: a GridFS bucket, validate (full), compact, stats, currentOp.
    "integrity": (0, [
        cmd(("insert", "fs.files"), ("documents", [{"_id": 1, "length": Int64(5), "chunkSize": 2, "uploadDate": 0, "filename": "f"}]), db="fuzz"),
        cmd(("insert", "fs.chunks"), ("documents", [{"_id": i, "files_id": 1, "n": i, "data": Binary(b"ab")} for i in range(2)]), db="fuzz"),
        cmd(("validate", "fs.files"), ("full", True), db="fuzz"), cmd(("validate", "fs.chunks"), db="fuzz"),
        cmd(("delete", "fs.chunks"), ("deletes", [{"q": {"n": 0}, "limit": 1}]), db="fuzz"),
        cmd(("compact", "fs.chunks"), ("force", True), db="fuzz"),
        cmd(("collStats", "fs.chunks"), ("scale", 1024), db="fuzz"), cmd(("dbStats", 1), ("scale", 1), db="fuzz"),
        cmd(("currentOp", 1), ("$all", True)), cmd(("validate", "fs.files"), ("full", True), db="fuzz")]),
}


def main():
    codecs = list(CODECS)
    for index, (name, (mode, commands)) in enumerate(sorted(SEEDS.items())):
        frames = [op_msg(i + 1, body, response_to=mode if i == 0 else 0) for i, body in enumerate(commands)]
        stream = b"".join(frames)
        with open(os.path.join(wire, f"admin-{name}"), "wb") as f:
            f.write(stream)
        codec = codecs[index % len(codecs)]
        with open(os.path.join(wire, f"admin-{name}-{codec}"), "wb") as f:
            f.write(b"".join(compress(frame, codec) for frame in frames))
    print(f"{2 * len(SEEDS)} seeds in {wire}")


if __name__ == "__main__":
    main()
