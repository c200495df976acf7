"""What a monitoring tool sees: serverStatus network/opcounters/metrics as mongod shapes them,
currentOp with each client's metadata, and the slow query log (``--slowms``)."""

from __future__ import annotations

from pymongo import MongoClient

from conftest import Daemon


def status(client: MongoClient) -> dict:
    return client.admin.command("serverStatus")


def test_network_counters_move_with_traffic(client: MongoClient) -> None:
    before = status(client)["network"]
    client.admin.command("ping")
    after = status(client)["network"]
    # At least the ping and the second serverStatus: a request and a reply each.
    assert after["numRequests"] >= before["numRequests"] + 2
    assert after["bytesIn"] > before["bytesIn"]
    assert after["bytesOut"] > before["bytesOut"]


def test_opcounters_count_each_operation_once(daemon_factory) -> None:
    d: Daemon = daemon_factory()
    with d.client() as c:
        coll = c["obs"]["items"]
        coll.insert_many([{"_id": i} for i in range(5)])
        base = status(c)["opcounters"]
        docs = list(coll.find({}, batch_size=2))  # one find and two getMores
        assert len(docs) == 5
        coll.insert_many([{"_id": 10 + i} for i in range(3)])
        coll.update_one({"_id": 1}, {"$set": {"x": 1}})
        coll.delete_many({"_id": {"$gte": 10}})
        now = status(c)["opcounters"]
        assert now["query"] - base["query"] == 1
        assert now["getmore"] - base["getmore"] == 2
        assert now["insert"] - base["insert"] == 3
        assert now["update"] - base["update"] == 1
        assert now["delete"] - base["delete"] == 1
        documents = status(c)["metrics"]["document"]
        assert documents["returned"] >= 5
        assert documents["inserted"] == 8
        assert documents["updated"] == 1
        assert documents["deleted"] == 3


def test_current_op_names_each_client(daemon: Daemon) -> None:
    with daemon.client(appName="obs-uploader") as app, daemon.client(appName="obs-watcher") as watcher:
        app.admin.command("ping")
        idle = watcher.admin.command({"currentOp": 1, "$all": True, "appName": "obs-uploader"})["inprog"]
        assert idle, "the uploader's connections should be listed"
        for entry in idle:
            assert entry["appName"] == "obs-uploader"
            assert entry["clientMetadata"]["driver"]["name"].startswith("PyMongo")
            assert entry["client"].startswith("127.0.0.1:")
            assert entry["desc"] == f"conn{entry['connectionId']}"
        mine = watcher.admin.command("currentOp")["inprog"]
        me = [e for e in mine if e.get("command", {}).get("currentOp") == 1]
        assert len(me) == 1
        assert me[0]["active"] is True
        assert me[0]["appName"] == "obs-watcher"
        assert me[0]["op"] == "command"
        assert me[0]["ns"] == "admin.$cmd"
        assert me[0]["microsecs_running"] >= 0


def test_slow_commands_are_logged_with_plan_and_app(daemon_factory) -> None:
    d: Daemon = daemon_factory("--slowms", "0")
    assert d.client().admin.command("getCmdLineOpts")["parsed"]["operationProfiling"]["slowOpThresholdMs"] == 0
    since = d.log_offset()
    with d.client(appName="obs-slow") as c:
        coll = c["obs"]["slow"]
        coll.insert_one({"_id": 1, "name": "a"})
        assert coll.find_one({"_id": 1}) is not None
        assert coll.find_one({"name": "a"}) is not None
    line = d.wait_for_log(r"Slow query.*", since=since)
    assert line is not None
    log = d.log(since)
    slow = [l for l in log.splitlines() if "Slow query" in l and "command=find" in l]
    assert any("planSummary=IXSCAN { _id: 1 }" in l and "ns=obs.slow" in l and "appName=obs-slow" in l for l in slow), slow
    assert any("planSummary=COLLSCAN" in l for l in slow), slow
    assert all("durationMillis=" in l for l in slow)
