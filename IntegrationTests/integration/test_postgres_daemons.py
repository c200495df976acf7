"""Several stateless gridlite daemons on one PostgreSQL database (the PostgreSQL engine, issue #15).

Needs a cluster: ``GRIDLITE_TEST_POSTGRES_URL`` (``make test`` starts one with
IntegrationTests/postgres/pgcluster.sh; without it these tests are skipped). Each test gets a fresh
database; the daemons are started with ``--storage <its URL>``.
"""

from __future__ import annotations

import hashlib
import io
import os
import signal
import subprocess
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import gridfs
import pytest
from pymongo import MongoClient, ReturnDocument
from pymongo.errors import DuplicateKeyError, OperationFailure, PyMongoError

import postgres_support
from gridfs_support import pattern_bytes

pytestmark = pytest.mark.skipif(postgres_support.base_url() is None,
                                reason="needs GRIDLITE_TEST_POSTGRES_URL (make test starts a cluster)")

PGCLUSTER = Path(__file__).resolve().parents[1] / "postgres" / "pgcluster.sh"


@pytest.fixture
def pg_url() -> str:
    return postgres_support.fresh_database_url("two")


@pytest.fixture
def two(daemon_factory, pg_url):
    """Two daemons on one PostgreSQL database."""
    a = daemon_factory("--storage", pg_url)
    b = daemon_factory("--storage", pg_url)
    return a, b


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_upload_through_one_download_and_delete_through_the_other(two):
    a, b = two
    with a.client() as ca, b.client() as cb:
        bucket_a = gridfs.GridFSBucket(ca.files)
        bucket_b = gridfs.GridFSBucket(cb.files)
        data = pattern_bytes(3 * 255 * 1024 + 1234, seed=3)
        file_id = bucket_a.upload_from_stream("shared.bin", io.BytesIO(data))
        assert bucket_b.open_download_stream(file_id).read() == data
        assert [f.filename for f in bucket_b.find({"_id": file_id})] == ["shared.bin"]
        # And the other way round: B's upload is visible to A by name.
        other = pattern_bytes(1000, seed=4)
        bucket_b.upload_from_stream("from-b.bin", io.BytesIO(other))
        assert bucket_a.open_download_stream_by_name("from-b.bin").read() == other
        bucket_b.delete(file_id)
        with pytest.raises(gridfs.errors.NoFile):
            bucket_a.open_download_stream(file_id).read()
        assert ca.files.fs.chunks.count_documents({"files_id": file_id}) == 0
        assert sorted(ca.list_database_names()) == sorted(cb.list_database_names())


def test_eight_clients_over_two_daemons_upload_and_download_at_once(two):
    a, b = two
    daemons = [a, b]
    sizes = [0, 1, 255 * 1024, 255 * 1024 + 1, 2 * 1024 * 1024 + 17, 700_000, 5_000_000, 123_456]
    expected: dict[str, str] = {}
    lock = threading.Lock()

    def worker(i: int) -> None:
        d = daemons[i % 2]
        with d.client() as c:
            bucket = gridfs.GridFSBucket(c.par)
            for round_no in range(3):
                data = pattern_bytes(sizes[(i + round_no) % len(sizes)], seed=i * 10 + round_no)
                name = f"w{i}-r{round_no}"
                bucket.upload_from_stream(name, io.BytesIO(data))
                with lock:
                    expected[name] = sha(data)
                # Read back a file another worker wrote through the other daemon, when there is one.
                with lock:
                    names = sorted(expected)
                peer = names[(i * 7 + round_no) % len(names)]
                got = bucket.open_download_stream_by_name(peer).read()
                with lock:
                    assert sha(got) == expected[peer], peer

    with ThreadPoolExecutor(8) as pool:
        for f in [pool.submit(worker, i) for i in range(8)]:
            f.result()
    # Every file, through both daemons, byte-exact.
    for d in daemons:
        with d.client() as c:
            bucket = gridfs.GridFSBucket(c.par)
            assert len(list(bucket.find())) == len(expected)
            for name, digest in expected.items():
                assert sha(bucket.open_download_stream_by_name(name).read()) == digest


def test_unique_index_races_between_daemons(two):
    a, b = two
    with a.client() as ca, b.client() as cb:
        ca.race.u.create_index("k", unique=True)
        results: list[str] = []
        lock = threading.Lock()

        def insert(c: MongoClient, n: int) -> None:
            for key in range(40):
                try:
                    c.race.u.insert_one({"k": key, "by": n})
                    outcome = "ok"
                except DuplicateKeyError as e:
                    assert e.code == 11000 and e.details.get("keyPattern") == {"k": 1}, e.details
                    outcome = "dup"
                with lock:
                    results.append(outcome)

        threads = [threading.Thread(target=insert, args=(c, n)) for n, c in enumerate([ca, cb, ca, cb])]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        # Each key was inserted exactly once, whoever won.
        assert results.count("ok") == 40 and results.count("dup") == 120
        assert sorted(d["k"] for d in cb.race.u.find()) == list(range(40))
        # The same for _id across daemons.
        ids = {"ok": 0, "dup": 0}

        def insert_ids(c: MongoClient) -> None:
            for i in range(40):
                try:
                    c.race.ids.insert_one({"_id": i})
                    key = "ok"
                except DuplicateKeyError:
                    key = "dup"
                with lock:
                    ids[key] += 1

        threads = [threading.Thread(target=insert_ids, args=(c,)) for c in (ca, cb)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert ids == {"ok": 40, "dup": 40}


def test_inc_and_find_and_modify_from_two_daemons_lose_nothing(two):
    a, b = two
    with a.client() as ca, b.client() as cb:
        ca.counters.c.insert_one({"_id": "n", "v": 0, "fam": 0})

        def bump(c: MongoClient) -> None:
            for _ in range(50):
                c.counters.c.update_one({"_id": "n"}, {"$inc": {"v": 1}})
                c.counters.c.find_one_and_update({"_id": "n"}, {"$inc": {"fam": 1}},
                                                 return_document=ReturnDocument.AFTER)

        threads = [threading.Thread(target=bump, args=(c,)) for c in (ca, cb, ca, cb)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert cb.counters.c.find_one({"_id": "n"}) == {"_id": "n", "v": 200, "fam": 200}


def test_cursor_pages_through_the_other_daemon_after_kill_9(two):
    """Cursors hold no PostgreSQL state: a query paged through daemon A is intact after A dies;
    and a kill -9 of A in the middle of uploads leaves B serving and every finished file whole."""
    a, b = two
    with b.client() as cb:
        cb.k9.docs.insert_many([{"_id": i, "pad": "x" * 100} for i in range(500)])
    finished: dict[str, str] = {}
    stop = threading.Event()

    def uploader() -> None:
        try:
            with a.client(retryWrites=False) as ca:
                bucket = gridfs.GridFSBucket(ca.k9)
                n = 0
                while not stop.is_set():
                    data = pattern_bytes(600_000 + n, seed=n % 250)
                    name = f"f{n}"
                    bucket.upload_from_stream(name, io.BytesIO(data))
                    finished[name] = sha(data)
                    n += 1
        except PyMongoError:
            pass  # the daemon died under us

    t = threading.Thread(target=uploader)
    t.start()
    deadline = time.monotonic() + 30
    while len(finished) < 3 and time.monotonic() < deadline:
        time.sleep(0.05)
    os.kill(a.pid, signal.SIGKILL)
    stop.set()
    t.join(timeout=30)
    assert len(finished) >= 3
    with b.client() as cb:
        # B keeps serving: reads, writes, and every acknowledged file is whole.
        bucket = gridfs.GridFSBucket(cb.k9)
        for name, digest in finished.items():
            assert sha(bucket.open_download_stream_by_name(name).read()) == digest
        assert [d["_id"] for d in cb.k9.docs.find(batch_size=7).sort("_id", 1)] == list(range(500))
        cb.k9.docs.insert_one({"_id": "after"})
        assert cb.k9.docs.count_documents({}) == 501


@pytest.mark.skipif(not os.environ.get("GRIDLITE_TEST_PGDIR"), reason="needs the pgcluster.sh cluster to stop it")
def test_postgres_outage_gives_code_6_then_recovers(daemon_factory, pg_url):
    d = daemon_factory("--storage", pg_url)
    pgdir = os.environ["GRIDLITE_TEST_PGDIR"]
    with d.client(retryWrites=False, retryReads=False, serverSelectionTimeoutMS=20000, socketTimeoutMS=30000) as c:
        c.outage.c.insert_one({"_id": 1})
        subprocess.run([str(PGCLUSTER), "pause", pgdir], check=True, timeout=60)
        try:
            with pytest.raises(OperationFailure) as write_error:
                c.outage.c.insert_one({"_id": 2})
            assert write_error.value.code == 6, write_error.value.details
            assert write_error.value.details["codeName"] == "HostUnreachable"
            with pytest.raises(OperationFailure) as read_error:
                c.outage.c.find_one({"_id": 1})
            assert read_error.value.code == 6
            # A retryable write (txnNumber) carries the label drivers retry on.
            reply = c.outage.command({"insert": "c", "documents": [{"_id": 3}], "lsid": {"id": __import__("bson").Binary(os.urandom(16), 4)},
                                      "txnNumber": 1}, check=False)
            assert reply["code"] == 6 and "RetryableWriteError" in reply.get("errorLabels", []), reply
            assert d.is_running()
        finally:
            subprocess.run([str(PGCLUSTER), "resume", pgdir], check=True, timeout=120)
        # The daemon reconnects by itself.
        deadline = time.monotonic() + 30
        while True:
            try:
                c.outage.c.insert_one({"_id": 2})
                break
            except OperationFailure as e:
                assert e.code == 6
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.5)
        assert sorted(x["_id"] for x in c.outage.c.find()) == [1, 2]
    assert d.is_running()


@pytest.mark.skipif(not os.environ.get("GRIDLITE_TEST_PGDIR"), reason="needs the pgcluster.sh cluster to restart it")
def test_postgres_restart_during_a_download_loop_loses_nothing(two):
    a, b = two
    pgdir = os.environ["GRIDLITE_TEST_PGDIR"]
    data = pattern_bytes(4 * 255 * 1024 + 99, seed=9)
    with a.client() as ca:
        file_id = gridfs.GridFSBucket(ca.loop).upload_from_stream("loop.bin", io.BytesIO(data))
    downloads = {"ok": 0, "retried": 0}
    stop = threading.Event()
    failures: list[str] = []

    def loop(d) -> None:
        with d.client(serverSelectionTimeoutMS=20000) as c:
            bucket = gridfs.GridFSBucket(c.loop)
            while not stop.is_set():
                try:
                    got = bucket.open_download_stream(file_id).read()
                except PyMongoError:
                    downloads["retried"] += 1  # the driver's own retry did not cover the outage: retry
                    time.sleep(0.2)
                    continue
                if got != data:
                    failures.append("wrong bytes")
                downloads["ok"] += 1

    threads = [threading.Thread(target=loop, args=(d,)) for d in (a, b)]
    for t in threads:
        t.start()
    time.sleep(1.0)
    subprocess.run([str(PGCLUSTER), "pause", pgdir], check=True, timeout=60)
    time.sleep(1.0)
    subprocess.run([str(PGCLUSTER), "resume", pgdir], check=True, timeout=120)
    before = downloads["ok"]
    deadline = time.monotonic() + 30
    while downloads["ok"] < before + 4 and time.monotonic() < deadline:
        time.sleep(0.1)
    stop.set()
    for t in threads:
        t.join(timeout=60)
    assert not failures
    assert downloads["ok"] >= before + 4, downloads
    assert a.is_running() and b.is_running()


def test_load_balanced_pymongo_through_haproxy_to_two_postgres_daemons(two, tmp_path):
    """HAProxy (docs/haproxy.cfg's settings) in front of two daemons on one PostgreSQL database: a
    pymongo client with loadBalanced=true spreads its pooled connections over both, and every file
    is whole whichever daemon wrote it and whichever reads it."""
    from test_load_balanced import HAPROXY, HAProxy, hello_over, lb_client

    if not Path(HAPROXY).exists():
        pytest.fail("haproxy is not installed (it is in the Makefile's APT_PACKAGES: run `make deps`)")
    a, b = two
    proxy = HAProxy(tmp_path, [(a.host, a.port), (b.host, b.port)], balance="roundrobin").start()
    try:
        service_ids = {hello_over(d.host, d.port, loadBalanced=True)["serviceId"] for d in (a, b)}
        assert len(service_ids) == 2
        seen = {hello_over("127.0.0.1", proxy.port, loadBalanced=True)["serviceId"] for _ in range(4)}
        assert seen == service_ids, "round robin reaches both daemons"
        expected: dict[str, str] = {}
        lock = threading.Lock()
        with lb_client("127.0.0.1", proxy.port, maxPoolSize=8) as c:
            assert c.topology_description.topology_type_name == "LoadBalanced"

            def work(i: int) -> None:
                bucket = gridfs.GridFSBucket(c.lbpg)
                data = pattern_bytes(300_000 + 4099 * i, seed=i)
                bucket.upload_from_stream(f"lb-{i}", io.BytesIO(data))
                with lock:
                    expected[f"lb-{i}"] = sha(data)

            with ThreadPoolExecutor(8) as pool:
                for f in [pool.submit(work, i) for i in range(16)]:
                    f.result()
            bucket = gridfs.GridFSBucket(c.lbpg)
            for name, digest in expected.items():
                assert sha(bucket.open_download_stream_by_name(name).read()) == digest
            # A cursor through the balancer stays on its pinned connection across getMores.
            c.lbpg.docs.insert_many([{"_id": i} for i in range(300)])
            assert [d["_id"] for d in c.lbpg.docs.find(batch_size=9).sort("_id", 1)] == list(range(300))
        # Both daemons, asked directly, see every file.
        for d in (a, b):
            with d.client() as direct:
                names = {f.filename for f in gridfs.GridFSBucket(direct.lbpg).find()}
                assert names == set(expected)
    finally:
        proxy.stop()
