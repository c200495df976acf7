"""`--setParameter enableTestCommands=1` and the `failCommand` fail point, driven by pymongo the way
driver test suites drive mongod: modes, filters, errors with labels, closed and blocked connections,
write concern errors, and pymongo's retryable reads on top of them."""

from __future__ import annotations

import io
import time
from typing import Any, Iterator

import gridfs
import pytest
from pymongo import MongoClient, monitoring
from pymongo.errors import AutoReconnect, NotPrimaryError, OperationFailure, WriteConcernError


class Finds(monitoring.CommandListener):
    """Counts the find commands a client starts."""

    def __init__(self) -> None:
        self.names: list[str] = []

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        self.names.append(event.command_name)

    def succeeded(self, event: Any) -> None:
        pass

    def failed(self, event: Any) -> None:
        pass


@pytest.fixture
def admin(test_commands_daemon) -> Iterator[Any]:
    """The admin database of the test-commands daemon; the fail point is off again afterwards."""
    with test_commands_daemon.client() as c:
        yield c.admin
        c.admin.command({"configureFailPoint": "failCommand", "mode": "off"})


def fail_command(admin: Any, mode: Any, **data: Any) -> dict:
    return admin.command({"configureFailPoint": "failCommand", "mode": mode, "data": data})


def test_test_commands_are_reported_where_driver_harnesses_look(test_commands_daemon, daemon) -> None:
    with test_commands_daemon.client() as c:
        assert c.admin.command("getParameter", 1, enableTestCommands=1)["enableTestCommands"] is True
        assert c.admin.command({"getParameter": "*"})["enableTestCommands"] is True
        opts = c.admin.command("getCmdLineOpts")
        assert opts["parsed"]["setParameter"] == {"enableTestCommands": "1"}
        assert opts["argv"][-2:] == ["--setParameter", "enableTestCommands=1"]
        assert "configureFailPoint" in c.admin.command("listCommands")["commands"]
    with daemon.client() as plain:
        assert plain.admin.command("getParameter", 1, enableTestCommands=1)["enableTestCommands"] is False
        assert "setParameter" not in plain.admin.command("getCmdLineOpts")["parsed"]
        with pytest.raises(OperationFailure) as info:
            fail_command(plain.admin, "alwaysOn", failCommands=["find"], errorCode=2)
        assert info.value.code == 59
        assert "configureFailPoint" not in plain.admin.command("listCommands")["commands"]


@pytest.mark.parametrize("argument, message", [
    ("enableTestCommands", "Illegal option assignment"),
    ("noSuchParameter=1", "Unknown --setParameter 'noSuchParameter'"),
    ("enableTestCommands=maybe", "Invalid value for --setParameter 'enableTestCommands'"),
])
def test_bad_set_parameter_is_one_line_and_exit_1(gridlite_binary, tmp_path, argument: str, message: str) -> None:
    import subprocess
    result = subprocess.run([str(gridlite_binary), "serve", "--no-http", "--port", "0", "--data-dir", str(tmp_path / "d"),
                             "--setParameter", argument], capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], result.stderr


def test_validation_as_mongod(admin) -> None:
    cases = [
        ({"configureFailPoint": "noSuchFailPoint", "mode": "alwaysOn"}, 266),
        ({"configureFailPoint": "failCommand"}, 20),
        ({"configureFailPoint": "failCommand", "mode": "often"}, 2),
        ({"configureFailPoint": "failCommand", "mode": {"times": -1}}, 2),
        ({"configureFailPoint": "failCommand", "mode": {"skip": 2**31}}, 2),
        ({"configureFailPoint": "failCommand", "mode": {"activationProbability": 2}}, 2),
        ({"configureFailPoint": "failCommand", "mode": [1]}, 14),
        ({"configureFailPoint": "failCommand", "mode": "alwaysOn", "data": "x"}, 14),
    ]
    for command, code in cases:
        with pytest.raises(OperationFailure) as info:
            admin.command(command)
        assert info.value.code == code, (command, info.value.details)
    with pytest.raises(OperationFailure) as info:
        admin.client.test.command({"configureFailPoint": "failCommand", "mode": "off"})
    assert info.value.code == 13


def test_times_counts_matches_only_and_error_carries_labels(admin, test_commands_daemon) -> None:
    assert fail_command(admin, {"times": 2}, failCommands=["count"], errorCode=112,
                        errorLabels=["RetryableWriteError", "Custom"])["count"] >= 0
    with test_commands_daemon.client(retryReads=False) as c:
        coll = c.fp_times.c
        coll.insert_one({"x": 1})  # not a count: passes, consumes nothing
        for _ in range(2):
            with pytest.raises(OperationFailure) as info:
                c.fp_times.command("count", "c")
            details = info.value.details
            assert details["code"] == 112 and details["codeName"] == "WriteConflict"
            assert details["errmsg"] == "Failing command via 'failCommand' failpoint"
            assert details["errorLabels"] == ["RetryableWriteError", "Custom"]
            assert info.value.has_error_label("Custom")
        assert c.fp_times.command("count", "c")["n"] == 1
    before = fail_command(admin, "off")["count"]
    assert fail_command(admin, "off")["count"] == before  # nothing fired in between


def test_app_name_and_namespace_filters(admin, test_commands_daemon) -> None:
    fail_command(admin, "alwaysOn", failCommands=["find"], errorCode=2, appName="victim", namespace="fp_ns.target")
    with test_commands_daemon.client(appname="bystander") as other, test_commands_daemon.client(appname="victim") as victim:
        assert other.fp_ns.target.find_one() is None
        assert victim.fp_ns.other.find_one() is None
        with pytest.raises(OperationFailure) as info:
            victim.fp_ns.target.find_one()
        assert info.value.code == 2


def test_close_connection_then_retryable_read_succeeds(admin, test_commands_daemon) -> None:
    listener = Finds()
    with test_commands_daemon.client(event_listeners=[listener]) as c:
        c.fp_close.c.insert_one({"_id": 1})
        fail_command(admin, {"times": 1}, failCommands=["find"], closeConnection=True)
        # The first find loses its connection; pymongo retries the read once, on a new connection.
        assert c.fp_close.c.find_one({"_id": 1}) == {"_id": 1}
        assert listener.names.count("find") == 2
    with test_commands_daemon.client(retryReads=False) as c:
        fail_command(admin, {"times": 1}, failCommands=["find"], closeConnection=True)
        with pytest.raises(AutoReconnect):
            c.fp_close.c.find_one({"_id": 1})
        assert c.fp_close.c.find_one({"_id": 1}) == {"_id": 1}


def test_not_primary_error_is_retried_for_gridfs_download(admin, test_commands_daemon) -> None:
    listener = Finds()
    with test_commands_daemon.client(event_listeners=[listener]) as c:
        bucket = gridfs.GridFSBucket(c.fp_gridfs)
        file_id = bucket.upload_from_stream("f", b"0123456789" * 1000, chunk_size_bytes=1024)
        listener.names.clear()
        fail_command(admin, {"times": 1}, failCommands=["find"], errorCode=10107)
        sink = io.BytesIO()
        bucket.download_to_stream(file_id, sink)
        assert sink.getvalue() == b"0123456789" * 1000
        assert listener.names[:2] == ["find", "find"]
        fail_command(admin, {"times": 2}, failCommands=["find"], errorCode=10107)
        with pytest.raises(NotPrimaryError):
            bucket.download_to_stream(file_id, io.BytesIO())


def test_block_connection_and_block_without_time(admin, test_commands_daemon) -> None:
    with test_commands_daemon.client() as c:
        fail_command(admin, {"times": 1}, failCommands=["ping"], blockConnection=True, blockTimeMS=300)
        started = time.monotonic()
        assert c.admin.command("ping")["ok"] == 1
        assert time.monotonic() - started >= 0.3  # held for blockTimeMS, then answered
        fail_command(admin, {"times": 1}, failCommands=["ping"], blockConnection=True)
        with pytest.raises(OperationFailure) as info:
            c.admin.command("ping")
        assert info.value.code == 72
        # A block longer than maxTimeMS ends at the deadline with 50 MaxTimeMSExpired.
        fail_command(admin, {"times": 1}, failCommands=["ping"], blockConnection=True, blockTimeMS=5000)
        with pytest.raises(OperationFailure) as info:
            c.admin.command("ping", maxTimeMS=100)
        assert info.value.code == 50


def test_write_concern_error_is_added_to_a_successful_write(admin, test_commands_daemon) -> None:
    fail_command(admin, {"times": 1}, failCommands=["insert"],
                 writeConcernError={"code": 100, "codeName": "UnsatisfiableWriteConcern", "errmsg": "Not enough data-bearing nodes"})
    with test_commands_daemon.client() as c:
        with pytest.raises(WriteConcernError) as info:
            c.fp_wce.c.insert_one({"_id": 1})
        assert info.value.code == 100
        assert c.fp_wce.c.find_one({"_id": 1}) == {"_id": 1}  # the write itself happened


def test_skip_mode_and_configure_fail_point_never_matches(admin, test_commands_daemon) -> None:
    fail_command(admin, {"skip": 1}, failCommands=["ping", "configureFailPoint"], errorCode=2)
    with test_commands_daemon.client() as c:
        assert c.admin.command("ping")["ok"] == 1
        for _ in range(2):
            with pytest.raises(OperationFailure):
                c.admin.command("ping")
    assert fail_command(admin, "off")["count"] >= 2


def test_retryable_write_error_label_in_load_balanced_mode(admin, test_commands_daemon) -> None:
    # In load-balanced mode pymongo sends txnNumber on writes; a retryable code then carries
    # RetryableWriteError (as mongod 4.4+ adds it) and pymongo retries the write once.
    listener = Finds()
    d = test_commands_daemon
    with MongoClient(d.uri, loadBalanced=True, event_listeners=[listener]) as c:
        c.fp_rw.c.drop()
        fail_command(admin, {"times": 1}, failCommands=["insert"], errorCode=91)
        c.fp_rw.c.insert_one({"_id": 1})
        assert listener.names.count("insert") == 2
        assert c.fp_rw.c.count_documents({}) == 1
        # With retryWrites=false no txnNumber is sent: no label, no retry.
    with MongoClient(d.uri, loadBalanced=True, retryWrites=False) as c:
        fail_command(admin, {"times": 1}, failCommands=["insert"], errorCode=91)
        with pytest.raises(NotPrimaryError) as info:
            c.fp_rw.c.insert_one({"_id": 2})
        assert not info.value.has_error_label("RetryableWriteError")
        assert c.fp_rw.c.count_documents({}) == 1
