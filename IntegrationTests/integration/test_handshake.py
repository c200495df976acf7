"""Handshake and administrative commands, as pymongo sends them (OP_MSG)."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from pymongo import MongoClient
from pymongo.errors import OperationFailure

NOW_TOLERANCE = dt.timedelta(seconds=60)


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def assert_near_now(value: object) -> None:
    assert isinstance(value, dt.datetime), f"expected a BSON date, got {value!r}"
    if value.tzinfo is None:  # pymongo decodes dates as naive UTC unless tz_aware
        value = value.replace(tzinfo=dt.timezone.utc)
    assert abs(value - utcnow()) < NOW_TOLERANCE, f"{value} is not near now ({utcnow()})"


@pytest.fixture
def admin(client: MongoClient):
    return client.admin


def test_ping(admin) -> None:
    assert admin.command("ping") == {"ok": 1.0}


@pytest.mark.parametrize("name", ["hello", "isMaster", "ismaster"])
def test_hello_fields(admin, name: str) -> None:
    reply = admin.command(name)
    primary_key = "isWritablePrimary" if name == "hello" else "ismaster"
    assert reply[primary_key] is True
    assert reply["maxBsonObjectSize"] == 16777216
    assert reply["maxMessageSizeBytes"] == 48000000
    assert reply["maxWriteBatchSize"] == 100000
    assert reply["minWireVersion"] == 0
    assert reply["maxWireVersion"] == 21
    assert reply["logicalSessionTimeoutMinutes"] == 30
    assert reply["readOnly"] is False
    assert isinstance(reply["connectionId"], int) and reply["connectionId"] > 0
    assert_near_now(reply["localTime"])
    assert reply["ok"] == 1.0


@pytest.mark.parametrize("name", ["hello", "isMaster"])
def test_hello_leaves_out_replica_set_and_streaming_fields(admin, name: str) -> None:
    reply = admin.command(name)
    for field in ("topologyVersion", "setName", "hosts", "msg", "$clusterTime", "compression"):
        assert field not in reply, f"{name} reply should not contain {field}: {reply}"


def test_ismaster_with_hello_ok(admin) -> None:
    reply = admin.command({"ismaster": 1, "helloOk": True})
    assert reply["ismaster"] is True
    assert reply["helloOk"] is True


def test_hello_ignores_unknown_fields(admin) -> None:
    reply = admin.command({"hello": 1, "compression": [], "saslSupportedMechs": "admin.user"})
    assert reply["isWritablePrimary"] is True


def test_client_metadata_only_in_the_first_hello(admin) -> None:
    # pymongo's connection already sent its metadata in the handshake: mongod refuses a second one.
    with pytest.raises(OperationFailure) as error:
        admin.command({"hello": 1, "client": {"application": {"name": "x"}}})
    assert error.value.code == 186
    assert error.value.details["codeName"] == "ClientMetadataCannotBeMutated"


def test_connection_id_increases_across_clients(daemon) -> None:
    ids = []
    for _ in range(3):
        with daemon.client() as c:
            ids.append(c.admin.command("hello")["connectionId"])
    assert ids == sorted(ids) and len(set(ids)) == 3, ids


@pytest.mark.parametrize("name", ["buildInfo", "buildinfo"])
def test_build_info(admin, name: str) -> None:
    reply = admin.command(name)
    version = reply["version"]
    assert re.fullmatch(r"7\.0\.\d+", version), version
    parts = [int(p) for p in version.split(".")]
    array = reply["versionArray"]
    assert 3 <= len(array) <= 4
    assert list(array[:3]) == parts
    assert reply["ok"] == 1.0


def test_server_info(client: MongoClient) -> None:
    info = client.server_info()
    assert re.fullmatch(r"7\.0\.\d+", info["version"])


def test_get_cmd_line_opts(admin, daemon) -> None:
    reply = admin.command("getCmdLineOpts")
    argv = reply["argv"]
    assert isinstance(argv, list) and all(isinstance(a, str) for a in argv)
    assert argv[1:] == daemon.args
    assert argv[0].endswith("gridlite")
    assert isinstance(reply["parsed"], dict)


def test_server_status(admin, daemon) -> None:
    buildinfo = admin.command("buildInfo")
    reply = admin.command("serverStatus")
    assert isinstance(reply["host"], str) and reply["host"]
    assert reply["version"] == buildinfo["version"]
    assert isinstance(reply["process"], str) and reply["process"]
    assert reply["pid"] == daemon.pid
    assert reply["uptime"] >= 0
    assert_near_now(reply["localTime"])
    connections = reply["connections"]
    assert connections["current"] >= 1
    assert connections["available"] >= 0
    assert connections["totalCreated"] >= connections["current"]
    counters = reply["opcounters"]
    for key in ("insert", "query", "update", "delete", "getmore", "command"):
        assert isinstance(counters[key], int) and counters[key] >= 0, key
    assert isinstance(reply["storageEngine"]["name"], str) and reply["storageEngine"]["name"]
    assert reply["ok"] == 1.0


def test_server_status_counts_commands(admin) -> None:
    before = admin.command("serverStatus")["opcounters"]["command"]
    for _ in range(3):
        admin.command("ping")
    after = admin.command("serverStatus")["opcounters"]["command"]
    assert after >= before + 3


def test_server_status_counts_connections(admin, daemon) -> None:
    before = admin.command("serverStatus")["connections"]["totalCreated"]
    with daemon.client() as other:
        other.admin.command("ping")
    after = admin.command("serverStatus")["connections"]["totalCreated"]
    assert after > before


def test_get_parameter_star(admin) -> None:
    reply = admin.command("getParameter", "*")
    assert reply["ok"] == 1.0
    assert "featureCompatibilityVersion" in reply
    assert "enableTestCommands" in reply


def test_get_parameter_named(admin) -> None:
    reply = admin.command({"getParameter": 1, "featureCompatibilityVersion": 1})
    assert reply["featureCompatibilityVersion"]["version"] == "7.0"
    reply = admin.command({"getParameter": 1, "enableTestCommands": 1})
    assert "enableTestCommands" in reply
    assert reply["ok"] == 1.0


def test_host_info(admin) -> None:
    reply = admin.command("hostInfo")
    assert isinstance(reply["system"], dict)
    assert isinstance(reply["system"]["hostname"], str)
    assert isinstance(reply["os"], dict)
    assert reply["ok"] == 1.0


def test_whatsmyuri(admin) -> None:
    you = admin.command("whatsmyuri")["you"]
    host, _, port = you.rpartition(":")
    assert host == "127.0.0.1"
    assert 0 < int(port) < 65536


def test_connection_status(admin, daemon) -> None:
    reply = admin.command("connectionStatus")
    if daemon.test_auth:  # GRIDLITE_TEST_AUTH=1: the fixtures' root user
        from conftest import TEST_USER
        assert reply["authInfo"]["authenticatedUsers"] == [{"user": TEST_USER, "db": "admin"}]
        assert reply["authInfo"]["authenticatedUserRoles"] == [{"role": "root", "db": "admin"}]
    else:
        assert reply["authInfo"]["authenticatedUsers"] == []
        assert reply["authInfo"]["authenticatedUserRoles"] == []
    assert reply["ok"] == 1.0


def test_list_commands(admin) -> None:
    commands = admin.command("listCommands")["commands"]
    for name in ("ping", "hello", "isMaster", "buildInfo", "serverStatus", "listCommands"):
        assert name in commands, f"{name} missing from listCommands"


def test_end_sessions(admin) -> None:
    assert admin.command("endSessions", [])["ok"] == 1.0


def test_kill_all_sessions(admin) -> None:
    assert admin.command("killAllSessions", [])["ok"] == 1.0


def test_get_last_error(admin) -> None:
    reply = admin.command("getLastError")
    assert reply["ok"] == 1.0
    assert reply.get("err") is None


def test_commands_on_another_database(client: MongoClient) -> None:
    assert client["gridlite_test"].command("ping")["ok"] == 1.0


def test_unknown_command(admin) -> None:
    with pytest.raises(OperationFailure) as failure:
        admin.command("gridliteNoSuchCommand")
    assert failure.value.code == 59
    assert "gridliteNoSuchCommand" in failure.value.details["errmsg"]
    assert failure.value.details.get("codeName", "CommandNotFound") == "CommandNotFound"


def test_unknown_command_keeps_the_connection_usable(admin) -> None:
    with pytest.raises(OperationFailure):
        admin.command("gridliteNoSuchCommand")
    assert admin.command("ping")["ok"] == 1.0


def test_debug_log_names_connection_and_command(daemon) -> None:
    with daemon.client(maxPoolSize=1) as c:
        connection_id = c.admin.command("hello")["connectionId"]
        start = daemon.log_offset()
        c.admin.command("whatsmyuri")
    cid = rf"(?<!\d){connection_id}(?!\d)"
    pattern = rf"(?m)^.*(whatsmyuri.*{cid}|{cid}.*whatsmyuri).*$"
    assert daemon.wait_for_log(pattern, since=start), (
        f"no debug log line names connection {connection_id} and whatsmyuri:\n{daemon.log(start)}")
