"""Authentication (SCRAM-SHA-256 / SCRAM-SHA-1), users and built-in roles under `gridlite serve --auth`.

Every test starts its own daemon with `--auth` (daemon_factory) and creates the first user through the
localhost exception; clients are real pymongo clients and libmongoc programs.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import subprocess
from pathlib import Path

import gridfs
import pytest
from bson import Binary
from pymongo import MongoClient
from pymongo.errors import OperationFailure

ROOT_USER, ROOT_PASSWORD = "root", "r00t-Secret!"


def connect(daemon, user=None, password=None, **kwargs) -> MongoClient:
    options = {"serverSelectionTimeoutMS": 5000, "connectTimeoutMS": 5000, "socketTimeoutMS": 15000}
    if user is not None:
        options.update(username=user, password=password)
    options.update(daemon.tls_client_options())
    options.update(kwargs)
    return MongoClient(daemon.host, daemon.port, **options)


@pytest.fixture
def secured(daemon_factory):
    """A daemon with --auth and a root user (created through the localhost exception)."""
    d = daemon_factory("--auth", "--slowms", "0")
    with connect(d) as anonymous:
        anonymous.admin.command("createUser", ROOT_USER, pwd=ROOT_PASSWORD, roles=["root"])
    return d


@pytest.fixture
def root(secured):
    with connect(secured, ROOT_USER, ROOT_PASSWORD) as c:
        yield c


def code_of(call) -> int:
    with pytest.raises(OperationFailure) as info:
        call()
    return info.value.code


# --- the localhost exception and unauthenticated clients ------------------------------------------

def test_localhost_exception_allows_only_the_first_user(daemon_factory):
    d = daemon_factory("--auth")
    with connect(d) as anonymous:
        # Before any user: data commands are refused, the handshake commands run.
        assert code_of(lambda: anonymous.media.fs.files.find_one()) == 13
        assert anonymous.admin.command("ping")["ok"] == 1
        assert anonymous.admin.command("connectionStatus")["authInfo"]["authenticatedUsers"] == []
        # createUser only on admin, then only once.
        assert code_of(lambda: anonymous.media.command("createUser", "x", pwd="p", roles=["read"])) == 13
        anonymous.admin.command("createUser", "first", pwd="pw1", roles=["root"])
        assert code_of(lambda: anonymous.admin.command("createUser", "second", pwd="pw2", roles=["root"])) == 13
        error = pytest.raises(OperationFailure, anonymous.media.fs.files.find_one).value
        assert error.code == 13 and error.details["codeName"] == "Unauthorized"
        assert "requires authentication" in error.details["errmsg"]
    assert "localhost exception" in d.log()


def test_unauthenticated_commands_are_13_and_handshake_commands_run(secured):
    with connect(secured) as anonymous:
        for name in ["ping", "buildInfo", "whatsmyuri", "connectionStatus", "hello", "isMaster"]:
            assert anonymous.admin.command(name)["ok"] == 1, name
        for call in [lambda: anonymous.media.fs.files.find_one(),
                     lambda: anonymous.media.fs.files.insert_one({"x": 1}),
                     lambda: anonymous.admin.command("serverStatus"),
                     lambda: anonymous.admin.command("listDatabases"),
                     lambda: anonymous.admin.command("usersInfo", 1)]:
            assert code_of(call) == 13


# --- SCRAM as drivers speak it -----------------------------------------------------------------------

@pytest.mark.parametrize("mechanism", ["SCRAM-SHA-256", "SCRAM-SHA-1", None])
def test_scram_mechanisms_and_default_negotiation(secured, mechanism):
    kwargs = {"authMechanism": mechanism} if mechanism else {}
    with connect(secured, ROOT_USER, ROOT_PASSWORD, **kwargs) as c:
        status = c.admin.command("connectionStatus", showPrivileges=True)["authInfo"]
        assert status["authenticatedUsers"] == [{"user": ROOT_USER, "db": "admin"}]
        assert status["authenticatedUserRoles"] == [{"role": "root", "db": "admin"}]
        assert any(p["resource"] == {"cluster": True} for p in status["authenticatedUserPrivileges"])
        c.media.items.insert_one({"n": 1})
        assert c.media.items.find_one({"n": 1})["n"] == 1
    assert f"mechanism={mechanism or 'SCRAM-SHA-256'}" in secured.log()


def test_speculative_authentication_needs_no_sasl_start(secured):
    # pymongo does not report handshake commands to listeners: the daemon's log (--slowms 0 logs every
    # command) shows what the connection ran.
    since = secured.log_offset()
    with connect(secured, ROOT_USER, ROOT_PASSWORD) as c:
        c.admin.command("ping")
    log = secured.log(since)
    assert '"speculativeAuthenticate" : "###"' in log
    assert "command=saslStart" not in log
    assert log.count("command=saslContinue") >= 1
    assert "Successfully authenticated" in log
    # A user that only has SCRAM-SHA-1 cannot start speculatively with SHA-256: fallback to saslStart works.
    with connect(secured, ROOT_USER, ROOT_PASSWORD) as c:
        c.admin.command("createUser", "old", pwd="oldpw", roles=["root"], mechanisms=["SCRAM-SHA-1"])
        assert c.admin.command("hello", saslSupportedMechs="admin.old")["saslSupportedMechs"] == ["SCRAM-SHA-1"]
        assert "saslSupportedMechs" not in c.admin.command("hello", saslSupportedMechs="admin.nobody")
    with connect(secured, "old", "oldpw") as c:
        assert c.admin.command("connectionStatus")["authInfo"]["authenticatedUsers"] == [{"user": "old", "db": "admin"}]


def test_wrong_password_and_unknown_user_fail_the_same_way(secured):
    errors = []
    for user, password in [(ROOT_USER, "wrong"), ("nobody", "wrong"), (ROOT_USER, "")]:
        if not password:
            continue
        for mechanism in ["SCRAM-SHA-256", "SCRAM-SHA-1"]:
            with connect(secured, user, password, authMechanism=mechanism) as c:
                with pytest.raises(OperationFailure) as info:
                    c.admin.command("ping")
                errors.append((info.value.code, info.value.details.get("errmsg"), info.value.details.get("codeName")))
    assert errors == [(18, "Authentication failed.", "AuthenticationFailed")] * 4
    log = secured.log()
    assert "Authentication failed" in log and "remote=127.0.0.1:" in log


def test_failed_logins_are_counted_per_address(secured):
    for _ in range(7):
        with connect(secured, ROOT_USER, "wrong", authMechanism="SCRAM-SHA-256") as c:
            assert code_of(lambda: c.admin.command("ping")) == 18
    # The throttle counts consecutive failures of the address (the replies after the 5th are delayed).
    assert "failures=7" in secured.log()
    with connect(secured, ROOT_USER, ROOT_PASSWORD) as c:
        c.admin.command("ping")   # a good login still works (and resets the count)
    with connect(secured, ROOT_USER, "wrong", authMechanism="SCRAM-SHA-256") as c:
        assert code_of(lambda: c.admin.command("ping")) == 18
    assert secured.log().rstrip().count("failures=1") >= 2


def test_saslprep_users(root, secured):
    root.admin.command("createUser", "IX", pwd="IX", roles=["root"], mechanisms=["SCRAM-SHA-256"])
    root.admin.command("createUser", "\u2168", pwd="\u2163", roles=["root"], mechanisms=["SCRAM-SHA-256"])
    for user, password in [("IX", "IX"), ("IX", "I\u00ADX"), ("\u2168", "IV"), ("\u2168", "I\u00ADV")]:
        with connect(secured, user, password, authMechanism="SCRAM-SHA-256") as c:
            users = c.admin.command("connectionStatus")["authInfo"]["authenticatedUsers"]
            assert users == [{"user": user, "db": "admin"}]
    with connect(secured, "IX", "IV", authMechanism="SCRAM-SHA-256") as c:
        assert code_of(lambda: c.admin.command("ping")) == 18


# --- the SASL conversation by hand ---------------------------------------------------------------------

def scram_conversation(client: MongoClient, user: str, password: str, mechanism: str, skip_empty: bool):
    """Runs saslStart/saslContinue on one pooled connection (maxPoolSize=1); returns the replies."""
    digest = "sha256" if mechanism == "SCRAM-SHA-256" else "sha1"
    secret = password if digest == "sha256" else hashlib.md5(f"{user}:mongo:{password}".encode()).hexdigest()
    nonce = base64.b64encode(os.urandom(24)).decode()
    first_bare = f"n={user},r={nonce}"
    start = {"saslStart": 1, "mechanism": mechanism, "payload": Binary(f"n,,{first_bare}".encode())}
    if skip_empty:
        start["options"] = {"skipEmptyExchange": True}
    r1 = client.admin.command(start)
    server_first = bytes(r1["payload"]).decode()
    fields = dict(part.split("=", 1) for part in server_first.split(","))
    assert fields["r"].startswith(nonce) and int(fields["i"]) == (15000 if digest == "sha256" else 10000)
    salted = hashlib.pbkdf2_hmac(digest, secret.encode(), base64.b64decode(fields["s"]), int(fields["i"]))
    client_key = hmac.new(salted, b"Client Key", digest).digest()
    stored_key = hashlib.new(digest, client_key).digest()
    without_proof = f"c=biws,r={fields['r']}"
    auth_message = f"{first_bare},{server_first},{without_proof}".encode()
    signature = hmac.new(stored_key, auth_message, digest).digest()
    proof = base64.b64encode(bytes(a ^ b for a, b in zip(client_key, signature))).decode()
    r2 = client.admin.command({"saslContinue": 1, "conversationId": r1["conversationId"],
                               "payload": Binary(f"{without_proof},p={proof}".encode())})
    server_key = hmac.new(salted, b"Server Key", digest).digest()
    expected_v = base64.b64encode(hmac.new(server_key, auth_message, digest).digest()).decode()
    assert bytes(r2["payload"]).decode() == f"v={expected_v}"
    replies = [r1, r2]
    if not r2["done"]:
        replies.append(client.admin.command({"saslContinue": 1, "conversationId": r1["conversationId"],
                                             "payload": Binary(b"")}))
    return replies


@pytest.mark.parametrize("skip_empty", [True, False])
@pytest.mark.parametrize("mechanism", ["SCRAM-SHA-256", "SCRAM-SHA-1"])
def test_sasl_conversation_by_hand(secured, mechanism, skip_empty):
    with connect(secured, maxPoolSize=1) as c:
        replies = scram_conversation(c, ROOT_USER, ROOT_PASSWORD, mechanism, skip_empty)
        assert [r["done"] for r in replies] == ([False, True] if skip_empty else [False, False, True])
        assert all(r["conversationId"] == 1 for r in replies)
        if not skip_empty:
            assert bytes(replies[-1]["payload"]) == b""
        assert c.admin.command("connectionStatus")["authInfo"]["authenticatedUsers"] == [
            {"user": ROOT_USER, "db": "admin"}]
        assert c.media.things.insert_one({"a": 1}).acknowledged
        c.admin.command("logout")
        assert c.admin.command("connectionStatus")["authInfo"]["authenticatedUsers"] == []
        assert code_of(lambda: c.media.things.find_one()) == 13


def test_sasl_protocol_errors(secured):
    with connect(secured, maxPoolSize=1) as c:
        assert code_of(lambda: c.admin.command({"saslContinue": 1, "conversationId": 1, "payload": Binary(b"x")})) == 17
        assert code_of(lambda: c.admin.command({"saslStart": 1, "mechanism": "PLAIN", "payload": Binary(b"x")})) == 334
        assert code_of(lambda: c.admin.command({"saslStart": 1, "mechanism": "SCRAM-SHA-256",
                                                 "payload": Binary(b"p=tls-unique,,n=root,r=abc")})) == 18
        assert code_of(lambda: c.admin.command({"saslStart": 1, "mechanism": "SCRAM-SHA-256",
                                                 "payload": Binary(b"\xff\xfe")})) == 18
        assert c.admin.command("ping")["ok"] == 1


# --- users -------------------------------------------------------------------------------------------------

def test_user_management(root, secured):
    root.media.command("createUser", "ann", pwd="annpw", roles=["read", {"role": "readWrite", "db": "other"}],
                       customData={"team": "video"})
    assert code_of(lambda: root.media.command("createUser", "ann", pwd="x", roles=[])) == 51003
    assert code_of(lambda: root.media.command("createUser", "bob", pwd="x", roles=["superuser"])) == 31
    assert code_of(lambda: root.media.command("createUser", "bob", pwd="x", roles=["root"])) == 31
    assert code_of(lambda: root.media.command("createUser", "bob", pwd="", roles=[])) == 2

    info = root.media.command("usersInfo", "ann")["users"]
    assert len(info) == 1 and info[0]["_id"] == "media.ann" and info[0]["customData"] == {"team": "video"}
    assert info[0]["roles"] == [{"role": "read", "db": "media"}, {"role": "readWrite", "db": "other"}]
    assert info[0]["mechanisms"] == ["SCRAM-SHA-1", "SCRAM-SHA-256"]
    assert "credentials" not in info[0]
    shown = root.media.command("usersInfo", {"user": "ann", "db": "media"}, showCredentials=True)["users"][0]
    sha256 = shown["credentials"]["SCRAM-SHA-256"]
    assert sha256["iterationCount"] == 15000 and len(base64.b64decode(sha256["salt"])) == 28
    assert shown["credentials"]["SCRAM-SHA-1"]["iterationCount"] == 10000

    # Stored as mongod stores it, never the password.
    stored = root.admin["system.users"].find_one({"_id": "media.ann"})
    assert set(stored) >= {"_id", "userId", "user", "db", "credentials", "roles"}
    assert "annpw" not in repr(stored)

    all_users = root.admin.command("usersInfo", {"forAllDBs": True})["users"]
    assert {u["_id"] for u in all_users} == {"admin.root", "media.ann"}

    root.media.command("updateUser", "ann", pwd="newpw", mechanisms=["SCRAM-SHA-256"])
    with connect(secured, "ann", "annpw", authSource="media") as c:
        assert code_of(lambda: c.media.command("ping") and c.media.items.find_one()) == 18
    with connect(secured, "ann", "newpw", authSource="media") as c:
        assert c.media.command("usersInfo", "ann")["users"][0]["mechanisms"] == ["SCRAM-SHA-256"]

    root.media.command("grantRolesToUser", "ann", roles=["dbAdmin"])
    root.media.command("revokeRolesFromUser", "ann", roles=[{"role": "readWrite", "db": "other"}])
    assert root.media.command("usersInfo", "ann")["users"][0]["roles"] == [
        {"role": "read", "db": "media"}, {"role": "dbAdmin", "db": "media"}]
    roles = root.admin.command("rolesInfo", "readWrite", showPrivileges=True)["roles"]
    assert roles[0]["role"] == "readWrite" and roles[0]["isBuiltin"] is True and roles[0]["privileges"]

    root.media.command("dropUser", "ann")
    assert code_of(lambda: root.media.command("dropUser", "ann")) == 11
    root.media.command("createUser", "u1", pwd="p", roles=["read"])
    root.media.command("createUser", "u2", pwd="p", roles=["read"])
    assert root.media.command("dropAllUsersFromDatabase")["n"] == 2
    assert root.media.command("usersInfo", 1)["users"] == []


def test_dropped_user_loses_access_at_once(root, secured):
    root.media.command("createUser", "temp", pwd="tpw", roles=["readWrite"])
    with connect(secured, "temp", "tpw", authSource="media", maxPoolSize=1) as c:
        c.media.items.insert_one({"a": 1})
        root.media.command("revokeRolesFromUser", "temp", roles=["readWrite"])
        assert code_of(lambda: c.media.items.insert_one({"a": 2})) == 13
        root.media.command("dropUser", "temp")
        assert code_of(lambda: c.media.items.find_one()) == 13


# --- roles on GridFS operations ----------------------------------------------------------------------

def gridfs_operations(db):
    """Each GridFS operation as a callable, on bucket `fs` of `db` (a file "seed.bin" exists)."""
    bucket = gridfs.GridFSBucket(db)

    def upload():
        bucket.upload_from_stream("new.bin", b"new data")

    def download():
        seed = db.fs.files.find_one({"filename": "seed.bin"})
        assert bucket.open_download_stream(seed["_id"]).read() == b"seed data" * 1000

    def find():
        assert [f.filename for f in bucket.find({"filename": "seed.bin"})] == ["seed.bin"]

    def rename():
        seed = db.fs.files.find_one({"filename": "seed.bin"})
        bucket.rename(seed["_id"], "seed.bin")

    def delete():
        fid = gridfs.GridFSBucket(db).upload_from_stream("victim.bin", b"x")
        bucket.delete(fid)

    return {"upload": upload, "download": download, "find": find, "rename": rename, "delete": delete}


ROLE_CASES = {
    # role grant → GridFS operations allowed on database "media" (the rest must be 13)
    "read": ({"role": "read", "db": "media"}, {"download", "find"}),
    "readWrite": ({"role": "readWrite", "db": "media"}, {"upload", "download", "find", "rename", "delete"}),
    "dbOwner": ({"role": "dbOwner", "db": "media"}, {"upload", "download", "find", "rename", "delete"}),
    "dbAdmin": ({"role": "dbAdmin", "db": "media"}, set()),
    "userAdmin": ({"role": "userAdmin", "db": "media"}, set()),
    "readOther": ({"role": "read", "db": "other"}, set()),
    "readAnyDatabase": ({"role": "readAnyDatabase", "db": "admin"}, {"download", "find"}),
    "readWriteAnyDatabase": ({"role": "readWriteAnyDatabase", "db": "admin"},
                             {"upload", "download", "find", "rename", "delete"}),
    "userAdminAnyDatabase": ({"role": "userAdminAnyDatabase", "db": "admin"}, set()),
    "dbAdminAnyDatabase": ({"role": "dbAdminAnyDatabase", "db": "admin"}, set()),
    "clusterMonitor": ({"role": "clusterMonitor", "db": "admin"}, set()),
    "backup": ({"role": "backup", "db": "admin"}, {"download", "find"}),
    "restore": ({"role": "restore", "db": "admin"}, {"upload", "download", "find", "rename", "delete"}),
    "root": ({"role": "root", "db": "admin"}, {"upload", "download", "find", "rename", "delete"}),
}


def test_each_builtin_role_on_every_gridfs_operation(root, secured):
    gridfs.GridFSBucket(root.media).upload_from_stream("seed.bin", b"seed data" * 1000)
    outcomes = {}
    for name, (grant, allowed) in ROLE_CASES.items():
        root.admin.command("createUser", f"u_{name}", pwd="pw", roles=[grant])
        with connect(secured, f"u_{name}", "pw") as c:
            for op, call in gridfs_operations(c.media).items():
                try:
                    call()
                    outcomes[(name, op)] = "ok"
                except OperationFailure as error:
                    outcomes[(name, op)] = error.code
    expected = {(name, op): ("ok" if op in allowed else 13)
                for name, (_, allowed) in ROLE_CASES.items() for op in gridfs_operations(root.media)}
    assert outcomes == expected


def test_role_specific_commands(root, secured):
    root.media.items.insert_one({"a": 1})
    root.admin.command("createUser", "mon", pwd="pw", roles=["clusterMonitor"])
    root.admin.command("createUser", "dba", pwd="pw", roles=[{"role": "dbAdmin", "db": "media"}])
    root.admin.command("createUser", "ua", pwd="pw", roles=[{"role": "userAdmin", "db": "media"}])
    root.admin.command("createUser", "rw", pwd="pw", roles=[{"role": "readWrite", "db": "media"}])
    with connect(secured, "mon", "pw") as c:
        assert c.admin.command("serverStatus")["ok"] == 1
        assert c.admin.command("currentOp")["ok"] == 1
        assert code_of(lambda: c.media.items.find_one()) == 13
    with connect(secured, "dba", "pw") as c:
        assert "items" in c.media.list_collection_names()
        assert c.media.command("collStats", "items")["ok"] == 1
        assert code_of(lambda: c.media.items.find_one()) == 13
        assert code_of(lambda: c.admin.command("serverStatus")) == 13
    with connect(secured, "ua", "pw") as c:
        c.media.command("createUser", "made_by_ua", pwd="pw", roles=["read"])
        assert code_of(lambda: c.other.command("createUser", "x", pwd="pw", roles=["read"])) == 13
        assert code_of(lambda: c.media.items.find_one()) == 13
    with connect(secured, "rw", "pw") as c:
        error = pytest.raises(OperationFailure, lambda: c.media.command("dropDatabase")).value
        assert error.code == 13 and "not authorized on media" in error.details["errmsg"]
        assert code_of(lambda: c.admin["system.users"].find_one()) == 13
        assert code_of(lambda: c.media.command("createUser", "x", pwd="pw", roles=["read"])) == 13
        # listDatabases shows only what the roles touch; usersInfo of oneself needs no role.
        root.other.items.insert_one({"b": 1})
        assert set(c.list_database_names()) <= {"media"}
        assert c.admin.command("usersInfo", "rw")["users"][0]["user"] == "rw"
        # listCollections: 13 on a database without roles, unless authorizedCollections + nameOnly.
        assert code_of(lambda: c.other.list_collection_names()) == 13
        listed = c.other.command("listCollections", 1, nameOnly=True, authorizedCollections=True)
        assert listed["cursor"]["firstBatch"] == []
        assert "items" in [x["name"] for x in c.media.command(
            "listCollections", 1, nameOnly=True, authorizedCollections=True)["cursor"]["firstBatch"]]
        assert code_of(lambda: c.admin.command("usersInfo", "mon")) == 13


# --- secrets stay out of logs and currentOp ------------------------------------------------------------

def test_passwords_and_payloads_are_redacted(secured):
    secret = "Very-Secret-Passw0rd"
    with connect(secured, ROOT_USER, ROOT_PASSWORD) as c:
        c.admin.command("createUser", "redact", pwd=secret, roles=["read"])
        c.admin.command("updateUser", "redact", pwd=secret + "2")
        ops = c.admin.command("currentOp")["inprog"]
        assert secret not in repr(ops)
    with connect(secured, "redact", secret + "2") as c:
        c.admin.command("connectionStatus")
    log = secured.log()
    # --slowms 0 logs every command with its body: the secrets and SASL payloads are "###".
    assert "Slow query" in log and "createUser" in log
    assert secret not in log
    assert '"pwd" : "###"' in log or '"pwd":"###"' in log
    assert "saslContinue" in log and "biws" not in log and "$binary" not in log.split("saslContinue", 1)[1][:400]


# --- the offline `gridlite users` command ------------------------------------------------------------------

@pytest.mark.sqlite_only
def test_users_cli_creates_the_first_user_offline(gridlite_binary, daemon_factory, tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    password_file = tmp_path / "pw"
    password_file.write_text("cli-Secret\n")
    run = lambda *args, **kw: subprocess.run([str(gridlite_binary), "users", *args, "--data-dir", str(data)],
                                             capture_output=True, text=True, timeout=60, **kw)
    added = run("add", "--user", "admin", "--password-file", str(password_file), "--role", "root")
    assert added.returncode == 0, added.stderr
    from_stdin = run("add", "--user", "viewer", "--db", "media", "--role", "read", input="view-pw\n")
    assert from_stdin.returncode == 0, from_stdin.stderr
    listed = run("list")
    assert listed.returncode == 0 and "admin.admin\troles=root@admin" in listed.stdout
    assert "media.viewer\troles=read@media" in listed.stdout and "cli-Secret" not in listed.stdout
    assert run("add", "--user", "admin", "--password-file", str(password_file), "--role", "root").returncode == 1
    assert run("add", "--user", "bad", "--role", "superuser", input="x\n").returncode == 1

    # Start a daemon on that directory: the users log in; the CLI refuses while the daemon holds it.
    from conftest import Daemon
    d = Daemon(gridlite_binary, tmp_path, ("--auth",))
    d.start()
    try:
        with connect(d, "admin", "cli-Secret") as c:
            assert c.admin.command("connectionStatus")["authInfo"]["authenticatedUsers"] == [
                {"user": "admin", "db": "admin"}]
        with connect(d, "viewer", "view-pw", authSource="media") as c:
            assert c.media.command("ping")["ok"] == 1
        held = run("list")
        assert held.returncode == 1 and "locked" in held.stderr
    finally:
        d.stop()
    removed = run("remove", "--user", "viewer", "--db", "media")
    assert removed.returncode == 0, removed.stderr
    assert "viewer" not in run("list").stdout
    assert run("remove", "--user", "viewer", "--db", "media").returncode == 1


# --- libmongoc ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("mechanism", ["SCRAM-SHA-256", "SCRAM-SHA-1"])
def test_libmongoc_gridfs_with_credentials(root, secured, c_program, mechanism):
    database = f"c_auth_{mechanism[-3:].replace('-', '')}"
    root.admin.command("createUser", "cuser", pwd="c-pw", roles=[{"role": "dbOwner", "db": database}]) \
        if mechanism == "SCRAM-SHA-256" else None
    if mechanism == "SCRAM-SHA-1":
        root.admin.command("createUser", "cuser", pwd="c-pw", roles=[{"role": "dbOwner", "db": database}])
    uri = (f"mongodb://cuser:c-pw@{secured.host}:{secured.port}/?authSource=admin&authMechanism={mechanism}"
           f"&serverSelectionTimeoutMS=5000&connectTimeoutMS=5000{secured.uri_options}")
    result = subprocess.run([str(c_program("gridfs_bucket")), uri, database], capture_output=True, text=True,
                            timeout=120)
    output = f"stdout:\n{result.stdout}\nstderr:\n{result.stderr}"
    assert result.returncode == 0, output
    assert "FAIL" not in result.stdout and result.stdout.strip().endswith("0 failed"), output
    assert f"mechanism={mechanism}" in secured.log()
    # Wrong password: the program cannot even start.
    bad = uri.replace("c-pw", "wrong")
    failed = subprocess.run([str(c_program("gridfs_bucket")), bad, database], capture_output=True, text=True,
                            timeout=120)
    assert failed.returncode != 0
    assert "Authentication failed" in failed.stdout + failed.stderr


# --- the HTTP gateway under --auth (Basic credentials against the same users) ------------------------

def test_http_gateway_uses_the_same_users_and_roles(tmp_path):
    import requests
    from http_support import start_gateway

    gw = start_gateway(tmp_path, "--auth")
    try:
        d = gw.daemon
        with connect(d) as anonymous:
            anonymous.admin.command("createUser", ROOT_USER, pwd=ROOT_PASSWORD, roles=["root"])
        with connect(d, ROOT_USER, ROOT_PASSWORD) as root:
            root.media.command("createUser", "viewer", pwd="view-pw", roles=["read"])
            root.admin.command("createUser", "editor", pwd="edit-pw", roles=[{"role": "readWrite", "db": "media"}])
            fid = gridfs.GridFSBucket(root.media).upload_from_stream("clip.bin", b"video bytes" * 100)
        url = f"{gw.base}/media/fs/id/{fid}"
        anonymous = {"Authorization": ""}  # explicit: no credentials (also under GRIDLITE_TEST_AUTH=1)
        assert requests.get(url, headers=anonymous).status_code == 401
        assert "Basic" in requests.get(url, headers=anonymous).headers.get("WWW-Authenticate", "")
        assert requests.get(url, auth=("viewer@media", "wrong")).status_code == 401
        assert requests.get(url, auth=("nobody", "x")).status_code == 401
        ok = requests.get(url, auth=("viewer@media", "view-pw"))
        assert ok.status_code == 200 and ok.content == b"video bytes" * 100
        ranged = requests.get(url, auth=("viewer@media", "view-pw"), headers={"Range": "bytes=0-4"})
        assert ranged.status_code == 206 and ranged.content == b"video"
        assert requests.put(f"{gw.base}/media/fs/name/new.bin", data=b"x",
                            auth=("viewer@media", "view-pw")).status_code == 403
        assert requests.put(f"{gw.base}/media/fs/name/new.bin", data=b"new",
                            auth=("editor", "edit-pw")).status_code == 201
        assert requests.get(f"{gw.base}/other/fs/", auth=("editor", "edit-pw")).status_code == 403
        assert requests.get(f"{gw.base}/media/fs/name/new.bin", auth=(ROOT_USER, ROOT_PASSWORD)).content == b"new"
        assert "view-pw" not in d.log() and "edit-pw" not in d.log()
    finally:
        gw.stop()


def test_http_basic_failures_are_throttled_like_the_wire(tmp_path):
    # Wrong HTTP Basic passwords count in the same per-address throttle as SCRAM failures: after 5 free
    # failures each 401 waits 100 ms more per failure; a good login resets the count.
    import time

    import requests
    from http_support import start_gateway

    gw = start_gateway(tmp_path, "--auth")
    try:
        d = gw.daemon
        with connect(d) as anonymous:
            anonymous.admin.command("createUser", ROOT_USER, pwd=ROOT_PASSWORD, roles=["root"])
        url = f"{gw.base}/"
        waits = []
        for _ in range(8):
            started = time.monotonic()
            assert requests.get(url, auth=(ROOT_USER, "guess")).status_code == 401
            waits.append(time.monotonic() - started)
        # failures 6, 7, 8 wait at least 100, 200, 300 ms (lower bounds only: a slow machine adds time)
        assert waits[5] >= 0.1 and waits[6] >= 0.2 and waits[7] >= 0.3, waits
        log = d.log()
        assert log.count("HTTP authentication failed") == 8 and "remote=127.0.0.1" in log
        assert "guess" not in log
        # the wire sees the same count: its next failure is the 9th of this address
        with connect(d, ROOT_USER, "wrong", authMechanism="SCRAM-SHA-256") as c:
            assert code_of(lambda: c.admin.command("ping")) == 18
        assert "failures=9" in d.log()
        # a good Basic login answers at once and resets the address
        assert requests.get(url, auth=(ROOT_USER, ROOT_PASSWORD)).status_code == 200
        started = time.monotonic()
        assert requests.get(url, auth=(ROOT_USER, "guess")).status_code == 401
        assert time.monotonic() - started < 5
        with connect(d, ROOT_USER, "wrong", authMechanism="SCRAM-SHA-256") as c:
            assert code_of(lambda: c.admin.command("ping")) == 18
        assert "failures=2" in d.log()
    finally:
        gw.stop()
