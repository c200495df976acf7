"""Online backup and restore (issue 14): `gridlite backup` while clients upload and delete,
`gridlite restore` into a fresh directory, the daemon on the restored copy; incremental backups;
kill -9 of the backup (no half-valid backup) and of the daemon (the source stays intact)."""

from __future__ import annotations

import datetime
import hashlib
import json
import os
import random
import signal
import subprocess
import threading
import time
from pathlib import Path

import gridfs
import pytest
from bson import ObjectId

from conftest import Daemon
from gridfs_support import PatternStream, pattern_bytes, sha256_of_stream
from integrity_support import fsck_json, gridlite, open_catalog, segment_path

# These tests read and damage the SQLite engine's own files.
pytestmark = pytest.mark.sqlite_only

MiB = 1024 * 1024


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def backup(binary: Path, data_dir: Path, target: Path, *args: str) -> tuple[int, dict, str]:
    result = gridlite(binary, "backup", "--data-dir", str(data_dir), "--to", str(target), "--json", *args, timeout=600)
    report = json.loads(result.stdout) if result.stdout.strip() else {}
    return result.returncode, report, result.stderr


def restored_daemon(binary: Path, workdir: Path, backup_dir: Path) -> Daemon:
    d = Daemon(binary, workdir)
    result = gridlite(binary, "restore", "--from", str(backup_dir), "--data-dir", str(d.data_dir), timeout=600)
    assert result.returncode == 0, result.stderr
    assert "restored the backup" in result.stdout
    return d


def test_backup_under_load_then_restore_is_complete_and_byte_exact(daemon_factory, gridlite_binary, tmp_path) -> None:
    d = daemon_factory()
    contents: dict = {}          # file id -> sha256 of what was uploaded (acknowledged)
    acked_at: dict = {}          # file id -> monotonic time of the acknowledgement
    deleted_at: dict = {}        # file id -> monotonic time the delete was sent
    lock = threading.Lock()
    with d.client() as client:
        fs = gridfs.GridFSBucket(client["load"])
        for i in range(12):
            data = pattern_bytes(random.Random(i).randrange(1, 3 * MiB), i)
            fid = fs.upload_from_stream(f"before-{i}", data)
            contents[fid] = sha(data)
            acked_at[fid] = time.monotonic()

    stop = threading.Event()
    errors: list[BaseException] = []

    def worker(k: int) -> None:
        rng = random.Random(100 + k)
        mine = []
        try:
            with d.client() as c:
                bucket = gridfs.GridFSBucket(c["load"])
                n = 0
                while not stop.is_set():
                    data = pattern_bytes(rng.randrange(10_000, 2 * MiB), 1000 * k + n)
                    fid = bucket.upload_from_stream(f"w{k}-{n}", data)
                    with lock:
                        contents[fid] = sha(data)
                        acked_at[fid] = time.monotonic()
                    mine.append(fid)
                    n += 1
                    if len(mine) > 3 and rng.random() < 0.4:
                        victim = mine.pop(rng.randrange(len(mine) - 1))
                        with lock:
                            deleted_at[victim] = time.monotonic()
                        bucket.delete(victim)
        except BaseException as error:  # noqa: BLE001 - reported by the test
            errors.append(error)

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    time.sleep(1.5)
    started = time.monotonic()
    code, manifest, stderr = backup(gridlite_binary, d.data_dir, tmp_path / "backup")
    finished = time.monotonic()
    time.sleep(0.5)
    stop.set()
    for t in threads:
        t.join(timeout=120)
    assert not errors, errors
    assert code == 0, stderr
    assert manifest["mode"] == "online" and manifest["verified"] and manifest["problems"] == 0
    assert (tmp_path / "backup" / "manifest.json").is_file()
    assert not (tmp_path / "backup" / "backup-in-progress").exists()
    # The backup is one consistent point in time: clean for a plain fsck (uploads caught half-way
    # were left out, counted in inFlightChunks).
    code, report = fsck_json(gridlite_binary, tmp_path / "backup")
    assert code == 0 and report["clean"], (report, manifest)
    uploads_during = [f for f, t in acked_at.items() if started < t < finished]
    print(f"backup took {finished - started:.2f}s; {len(uploads_during)} uploads acknowledged meanwhile")

    # The source is untouched by the backup.
    code, report = fsck_json(gridlite_binary, d.data_dir)
    assert code == 0, report

    r = restored_daemon(gridlite_binary, tmp_path / "restored", tmp_path / "backup")
    code, report = fsck_json(gridlite_binary, r.data_dir)
    assert code == 0 and report["clean"], report
    r.start()
    try:
        with r.client() as client:
            fs = gridfs.GridFSBucket(client["load"])
            present = {f._id: f for f in fs.find()}
            must_have = [f for f, t in acked_at.items() if t < started and f not in deleted_at]
            assert must_have and set(must_have) <= set(present), set(must_have) - set(present)
            # Every file the restored daemon lists is complete and byte-exact (nothing half-written).
            for fid in present:
                assert fid in contents, f"unknown file {fid} in the restore"
                size, digest = sha256_of_stream(fs.open_download_stream(fid))
                assert digest == contents[fid], fid
            # No chunk without its files document either (an upload caught half-way).
            assert set(client["load"]["fs.chunks"].distinct("files_id")) <= set(present)
            # The restored daemon takes writes.
            fs.upload_from_stream("after-restore", b"x" * 5000)
    finally:
        r.stop()
    # restore refuses a non-empty directory without --force, and an incomplete backup.
    again = gridlite(gridlite_binary, "restore", "--from", str(tmp_path / "backup"), "--data-dir", str(r.data_dir))
    assert again.returncode == 2 and "not empty" in again.stderr
    forced = gridlite(gridlite_binary, "restore", "--from", str(tmp_path / "backup"), "--data-dir", str(r.data_dir), "--force")
    assert forced.returncode == 0, forced.stderr


def test_backup_leaves_out_an_upload_stopped_mid_file(daemon_factory, gridlite_binary, tmp_path) -> None:
    """The race behind the old flaky restore, made deterministic: a writer stops mid-file (its
    chunks committed, its files document not yet) while the backup runs. The backup leaves those
    chunks out and says so; a plain fsck of the backup and of the restored directory is clean."""
    d = daemon_factory()
    with d.client() as client:
        fs = gridfs.GridFSBucket(client["mid"])
        done = {fs.upload_from_stream(f"done-{i}", pattern_bytes(600_000 + i, i)): sha(pattern_bytes(600_000 + i, i))
                for i in range(3)}
        # The writer's chunks as a driver sends them, in two inserts; then it stops.
        half = ObjectId()
        payload = pattern_bytes(4 * 261_120 + 77, 42)
        chunks = [{"_id": ObjectId(), "files_id": half, "n": n, "data": payload[n * 261_120:(n + 1) * 261_120]}
                  for n in range(5)]
        client["mid"]["fs.chunks"].insert_many(chunks[:3])
        client["mid"]["fs.chunks"].insert_many(chunks[3:])
        code, manifest, stderr = backup(gridlite_binary, d.data_dir, tmp_path / "backup")
        assert code == 0, stderr
        assert manifest["verified"] and manifest["problems"] == 0, manifest
        assert manifest["inFlightChunks"] == 5, manifest
        # The writer finishes after the backup: the source has the whole file, the backup none of it.
        client["mid"]["fs.files"].insert_one({"_id": half, "length": len(payload), "chunkSize": 261_120,
                                               "uploadDate": datetime.datetime.now(datetime.timezone.utc),
                                               "filename": "half"})
        assert fs.open_download_stream(half).read() == payload
    code, report = fsck_json(gridlite_binary, tmp_path / "backup")
    assert code == 0 and report["clean"], report
    r = restored_daemon(gridlite_binary, tmp_path / "restored", tmp_path / "backup")
    code, report = fsck_json(gridlite_binary, r.data_dir)
    assert code == 0 and report["clean"], report
    r.start()
    try:
        with r.client() as client:
            fs = gridfs.GridFSBucket(client["mid"])
            assert {f._id for f in fs.find()} == set(done)
            for fid, digest in done.items():
                assert sha(fs.open_download_stream(fid).read()) == digest
            assert client["mid"]["fs.chunks"].count_documents({"files_id": half}) == 0
    finally:
        r.stop()


def test_backup_cuts_bytes_no_committed_row_accounts_for(daemon_factory, gridlite_binary, tmp_path) -> None:
    """The other half of the race: the active segment ends with bytes that no committed row of the
    snapshot accounts for (an append whose COMMIT never came; online, also a commit after the
    snapshot began). Here the daemon is killed and the test appends those bytes itself; the backup
    copies the segment only up to its committed end, and the restore is clean for a plain fsck."""
    d = daemon_factory()
    with d.client() as client:
        fs = gridfs.GridFSBucket(client["tail"])
        files = {fs.upload_from_stream(f"t{i}", pattern_bytes(300_000 + i, i)): sha(pattern_bytes(300_000 + i, i))
                 for i in range(4)}
    os.kill(d.pid, signal.SIGKILL)
    d.process.wait()
    conn = open_catalog(d.data_dir)
    (active,) = conn.execute("SELECT id FROM gl_segments WHERE sealed_size IS NULL").fetchone()
    conn.close()
    path = segment_path(d.data_dir, active)
    committed = path.stat().st_size
    with open(path, "ab") as f:
        f.write(b"\xee" * 200_000)
    code, manifest, stderr = backup(gridlite_binary, d.data_dir, tmp_path / "backup")
    assert code == 0, stderr
    assert manifest["mode"] == "offline" and manifest["verified"], manifest
    assert [s["bytes"] for s in manifest["segments"] if s["id"] == active] == [committed]
    assert (tmp_path / "backup" / "blobs" / f"{active}.seg").stat().st_size == committed
    code, report = fsck_json(gridlite_binary, tmp_path / "backup")
    assert code == 0 and report["clean"], report
    r = restored_daemon(gridlite_binary, tmp_path / "restored", tmp_path / "backup")
    code, report = fsck_json(gridlite_binary, r.data_dir)
    assert code == 0 and report["clean"], report
    r.start()
    try:
        with r.client() as client:
            fs = gridfs.GridFSBucket(client["tail"])
            for fid, digest in files.items():
                assert sha(fs.open_download_stream(fid).read()) == digest
    finally:
        r.stop()


@pytest.mark.slow
def test_incremental_backup_and_kill_9_during_backups(daemon_factory, gridlite_binary, tmp_path) -> None:
    d = daemon_factory()
    with d.client() as client:
        fs = gridfs.GridFSBucket(client["big"])
        stream = PatternStream(260 * MiB, 7)  # more than a segment: segment 1 is sealed
        big = fs.upload_from_stream("big.bin", stream)
        big_sha = stream.sha256.hexdigest()
        small = {fs.upload_from_stream(f"s{i}", pattern_bytes(300_000, i)): sha(pattern_bytes(300_000, i)) for i in range(5)}
    target = tmp_path / "b"
    code, full, stderr = backup(gridlite_binary, d.data_dir, target)
    assert code == 0 and full["verified"], stderr
    assert all(s["copied"] for s in full["segments"])
    assert any(s["sealed"] for s in full["segments"])
    with d.client() as client:
        fs = gridfs.GridFSBucket(client["big"])
        extra = fs.upload_from_stream("extra.bin", pattern_bytes(1_000_000, 9))
    code, inc, stderr = backup(gridlite_binary, d.data_dir, target, "--incremental")
    assert code == 0 and inc["verified"], stderr
    sealed = [s for s in inc["segments"] if s["sealed"]]
    assert sealed and not any(s["copied"] for s in sealed), inc["segments"]
    assert inc["bytesCopied"] < full["bytesCopied"] - 200 * MiB

    # kill -9 of the backup itself: no manifest, restore refuses, the next backup works.
    partial = tmp_path / "killed"
    process = subprocess.Popen([str(gridlite_binary), "backup", "--data-dir", str(d.data_dir), "--to", str(partial)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while not (partial / "backup-in-progress").exists() and time.monotonic() < deadline:
        time.sleep(0.001)
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert not (partial / "manifest.json").exists()
    refused = gridlite(gridlite_binary, "restore", "--from", str(partial), "--data-dir", str(tmp_path / "nope"))
    assert refused.returncode == 2 and "no complete backup" in refused.stderr, refused.stderr
    code, redo, stderr = backup(gridlite_binary, d.data_dir, partial)
    assert code == 0 and redo["verified"], stderr

    # kill -9 of the daemon while a backup runs: the source stays intact.
    process = subprocess.Popen([str(gridlite_binary), "backup", "--data-dir", str(d.data_dir), "--to", str(tmp_path / "during")],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    while not (tmp_path / "during" / "backup-in-progress").exists() and time.monotonic() < deadline + 30:
        time.sleep(0.001)
    os.kill(d.pid, signal.SIGKILL)
    d.process.wait()
    out, err = process.communicate(timeout=300)
    # The backup holds its own snapshot: it either completes and verifies, or leaves no manifest.
    manifest = tmp_path / "during" / "manifest.json"
    assert (process.returncode == 0 and manifest.is_file()) or (process.returncode != 0 and not manifest.exists()), err
    d.start()
    with d.client() as client:
        fs = gridfs.GridFSBucket(client["big"])
        assert sha256_of_stream(fs.open_download_stream(big))[1] == big_sha
        for fid, digest in small.items():
            assert sha(fs.open_download_stream(fid).read()) == digest
        assert fs.open_download_stream(extra).read() == pattern_bytes(1_000_000, 9)
    code, report = fsck_json(gridlite_binary, d.data_dir)
    assert code == 0, report

    # The incremental backup restores like a full one.
    r = restored_daemon(gridlite_binary, tmp_path / "restored", target)
    r.start()
    try:
        with r.client() as client:
            fs = gridfs.GridFSBucket(client["big"])
            assert sha256_of_stream(fs.open_download_stream(big))[1] == big_sha
            assert fs.open_download_stream(extra).read() == pattern_bytes(1_000_000, 9)
    finally:
        r.stop()
