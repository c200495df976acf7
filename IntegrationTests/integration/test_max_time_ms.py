"""`maxTimeMS` through pymongo: validated as mongod validates it, honoured by reads and writes (50
MaxTimeMSExpired), and an expired write leaves nothing behind. CSOT (`timeoutMS`) sends it on every
command; the conformance runner's related/client-side-operations-timeout files cover that path."""

from __future__ import annotations

from typing import Any

import pymongo
import pytest
from pymongo.errors import ExecutionTimeout, OperationFailure

from gridfs_support import fresh_database

DOCS = 100_000  # scanning or writing this many documents takes far longer than 1 ms


@pytest.fixture(scope="module")
def big(daemon) -> Any:
    """A collection of DOCS small documents (no index but _id) on the session daemon."""
    with daemon.client() as c:
        coll = c.max_time_ms.big
        coll.drop()
        coll.insert_many([{"_id": i, "k": i % 10, "s": f"value {i}"} for i in range(DOCS)])
        yield coll.name
        coll.drop()


@pytest.mark.parametrize("value", [-1, 1.5, 2**31, "100", -0.5])
def test_bad_max_time_ms_is_bad_value(client, value: Any) -> None:
    for command in ({"find": "x"}, {"insert": "x", "documents": [{}]}, {"count": "x"}, {"ping": 1}):
        with pytest.raises(OperationFailure) as info:
            client.max_time_ms_validation.command({**command, "maxTimeMS": value})
        assert info.value.code == 2, (command, value, info.value.details)


def test_zero_and_large_limits_do_not_expire(client, big) -> None:
    coll = client.max_time_ms[big]
    assert coll.count_documents({"k": 3}, maxTimeMS=0) == DOCS // 10
    assert len(list(coll.find({"k": 3}).max_time_ms(600_000))) == DOCS // 10


def test_reads_past_the_limit_fail_with_50(client, big) -> None:
    db = client.max_time_ms
    coll = db[big]
    with pytest.raises(ExecutionTimeout) as info:
        list(coll.find({"s": {"$regex": "nomatch$"}}).max_time_ms(1))
    assert info.value.code == 50
    for command in ({"count": big, "query": {"s": {"$regex": "nomatch$"}}},
                    {"distinct": big, "key": "s"},
                    {"aggregate": big, "pipeline": [{"$match": {"s": {"$regex": "x$"}}}], "cursor": {}}):
        with pytest.raises(ExecutionTimeout) as info:
            db.command({**command, "maxTimeMS": 1})
        assert info.value.details["codeName"] == "MaxTimeMSExpired", command


def test_get_more_honours_its_own_limit(client, big) -> None:
    db = client.max_time_ms
    first = db.command({"find": big, "filter": {"s": {"$regex": "^value"}}, "batchSize": 2})
    cursor_id = first["cursor"]["id"]
    assert cursor_id != 0
    with pytest.raises(ExecutionTimeout):
        db.command({"getMore": cursor_id, "collection": big, "maxTimeMS": 1})
    db.command({"killCursors": big, "cursors": [cursor_id]})


def test_expired_writes_leave_nothing_behind(client, big, request) -> None:
    coll = client.max_time_ms[big]
    with pytest.raises(ExecutionTimeout):
        client.max_time_ms.command({"update": big, "updates": [{"q": {}, "u": {"$set": {"touched": True}}, "multi": True}],
                                    "maxTimeMS": 1})
    assert coll.count_documents({"touched": True}) == 0
    with pytest.raises(ExecutionTimeout):
        client.max_time_ms.command({"delete": big, "deletes": [{"q": {"k": {"$gte": 0}}, "limit": 0}], "maxTimeMS": 1})
    assert coll.count_documents({}) == DOCS
    with pytest.raises(ExecutionTimeout):
        client.max_time_ms.command({"findAndModify": big, "query": {"s": "no such value"}, "update": {"$set": {"t": 1}},
                                    "upsert": True, "maxTimeMS": 1})
    assert coll.count_documents({"s": "no such value"}) == 0
    # A large insert that runs past its limit: none of its documents stay (one transaction).
    db = fresh_database(client, request, "mtm")
    with pytest.raises(ExecutionTimeout):
        db.command({"insert": "c", "documents": [{"_id": i, "p": "x" * 100} for i in range(DOCS)], "maxTimeMS": 5})
    assert db.c.count_documents({}) == 0


def test_client_side_timeout_sends_max_time_ms(client, big, daemon) -> None:
    # pymongo's CSOT: inside pymongo.timeout() every command carries maxTimeMS and the server's 50
    # becomes a timeout error.
    with daemon.client() as c:
        with pytest.raises(pymongo.errors.PyMongoError) as info:
            with pymongo.timeout(0.02):
                list(c.max_time_ms[big].find({"s": {"$regex": "nomatch$"}}))
        assert info.value.timeout


def test_get_more_spends_what_the_find_left(test_commands_daemon) -> None:
    # As on mongod: a non-tailable cursor's getMores run on what its find left of maxTimeMS; time
    # between getMores is not counted; a getMore that runs out of it fails with 50 and kills the cursor.
    import time

    with test_commands_daemon.client() as c:
        db = c.max_time_ms_cursor
        db.c.drop()
        db.c.insert_many([{"_id": i} for i in range(10)])
        first = db.command({"find": "c", "batchSize": 2, "maxTimeMS": 1500})
        cursor_id = first["cursor"]["id"]
        time.sleep(2.0)  # longer than the whole budget, but idle
        more = db.command({"getMore": cursor_id, "collection": "c", "batchSize": 2})
        assert [d["_id"] for d in more["cursor"]["nextBatch"]] == [2, 3]
        # A getMore held 3 s by a fail point before it runs has only the ~1.5 s left: 50.
        c.admin.command({"configureFailPoint": "failCommand", "mode": {"times": 1},
                         "data": {"failCommands": ["getMore"], "blockConnection": True, "blockTimeMS": 3000}})
        started = time.monotonic()
        with pytest.raises(ExecutionTimeout) as info:
            db.command({"getMore": cursor_id, "collection": "c", "batchSize": 2})
        assert info.value.code == 50
        assert time.monotonic() - started < 2.9  # it stopped at the budget, not at the block's end
        with pytest.raises(OperationFailure) as gone:
            db.command({"getMore": cursor_id, "collection": "c", "batchSize": 2})
        assert gone.value.code == 43
        # Without maxTimeMS on the find, getMores have no limit.
        plain = db.command({"find": "c", "batchSize": 2})["cursor"]["id"]
        c.admin.command({"configureFailPoint": "failCommand", "mode": {"times": 1},
                         "data": {"failCommands": ["getMore"], "blockConnection": True, "blockTimeMS": 300}})
        assert len(db.command({"getMore": plain, "collection": "c"})["cursor"]["nextBatch"]) == 8
        db.c.drop()
