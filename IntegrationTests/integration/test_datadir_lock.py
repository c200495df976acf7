"""The data-directory lock: one daemon per directory (gridlite.lock, an flock holding the pid)."""

from __future__ import annotations

import hashlib
import os
import subprocess
import threading

import gridfs
import pytest

from conftest import Daemon

# Tests the SQLite engine's data directory (skipped under GRIDLITE_TEST_STORAGE=postgresql).
pytestmark = pytest.mark.sqlite_only


def second_daemon(daemon: Daemon) -> subprocess.CompletedProcess[str]:
    """Starts another daemon on `daemon`'s data directory and waits for it to exit."""
    return subprocess.run(
        [str(daemon.binary), "serve", "--no-http", "--host", "127.0.0.1", "--port", "0", "--data-dir", str(daemon.data_dir)],
        capture_output=True, text=True, timeout=30, stdin=subprocess.DEVNULL)


def test_second_daemon_on_same_directory_exits_naming_the_holder(daemon_factory) -> None:
    first = daemon_factory()
    lock = first.data_dir / "gridlite.lock"
    assert lock.read_text().strip() == str(first.pid)
    result = second_daemon(first)
    assert result.returncode == 1, result.stdout + result.stderr
    lines = (result.stdout + result.stderr).strip().splitlines()
    assert len(lines) == 1, lines
    assert f"pid {first.pid}" in lines[0] and str(lock) in lines[0], lines[0]
    # The first daemon is untouched and still serves.
    with first.client() as c:
        assert c.admin.command("ping")["ok"] == 1.0


def test_clean_shutdown_empties_the_lock_file(daemon_factory) -> None:
    d = daemon_factory()
    lock = d.data_dir / "gridlite.lock"
    assert d.stop() == 0
    assert lock.exists() and lock.read_text() == ""


def test_kill_9_leaves_a_stale_lock_that_the_next_daemon_takes_over(daemon_factory) -> None:
    d = daemon_factory()
    with d.client() as c:
        c.test.kept.insert_one({"_id": 1, "v": "acknowledged before kill -9"})
    dead_pid = d.pid
    d.process.kill()
    d.process.wait(timeout=10)
    lock = d.data_dir / "gridlite.lock"
    assert lock.read_text().strip() == str(dead_pid)  # stale text; the kernel dropped the flock
    offset = d.log_offset()
    d.start()
    assert lock.read_text().strip() == str(d.pid)
    log = d.log(offset)
    assert f"took over the data directory lock from pid {dead_pid}" in log, log
    assert "crash recovery performed" in log, log
    with d.client() as c:
        assert c.test.kept.find_one({"_id": 1})["v"] == "acknowledged before kill -9"
    # And the restarted daemon holds the lock in turn.
    assert second_daemon(d).returncode == 1


def test_concurrent_uploads_through_one_daemon_are_intact(daemon_factory) -> None:
    d = daemon_factory()
    payloads = {f"file-{i}": os.urandom(300_000 + i * 77_777) for i in range(16)}
    errors: list[BaseException] = []

    def upload(names: list[str]) -> None:
        try:
            with d.client() as c:
                bucket = gridfs.GridFSBucket(c.test)
                for name in names:
                    bucket.upload_from_stream(name, payloads[name], chunk_size_bytes=64 * 1024)
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)

    names = sorted(payloads)
    threads = [threading.Thread(target=upload, args=(names[i::8],)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    with d.client() as c:
        bucket = gridfs.GridFSBucket(c.test)
        for name, data in payloads.items():
            got = bucket.open_download_stream_by_name(name).read()
            assert hashlib.sha256(got).digest() == hashlib.sha256(data).digest(), name
        assert c.test.command("validate", "fs.chunks")["valid"] is True
