"""Checksummed payloads, `gridlite fsck` and `--repair` (issue 14).

Damage is injected the way disks and people do it — a flipped bit in a segment file, a truncated
segment, a deleted chunk row (offline, with sqlite3), a duplicated chunk, orphan chunks and a files
document with a wrong length (through pymongo) — and each must be found by fsck (exit 1, the right
kind and file id), refused on download (never wrong bytes), fixed by --repair, after which fsck is
clean; undamaged files in the same bucket download byte-exact throughout."""

from __future__ import annotations

import hashlib
import os
import sqlite3

import gridfs
import pymongo
import pytest
from bson import ObjectId
from pymongo.errors import OperationFailure

from gridfs_support import pattern_bytes
from integrity_support import (chunk_rows, flip_byte, fsck_json, gridlite, open_catalog, problems_of,
                               segment_path, table_of)

# gridlite fsck checks the SQLite engine's data directory (skipped under GRIDLITE_TEST_STORAGE=postgresql).
pytestmark = pytest.mark.sqlite_only

CHUNK = 64 * 1024


def upload(bucket: gridfs.GridFSBucket, name: str, size: int, seed: int) -> tuple[ObjectId, bytes]:
    data = pattern_bytes(size, seed)
    return bucket.upload_from_stream(name, data, chunk_size_bytes=CHUNK), data


def download(bucket: gridfs.GridFSBucket, file_id) -> bytes:
    return bucket.open_download_stream(file_id).read()


def corruption_code(excinfo) -> int | None:
    error = excinfo.value
    while error is not None:
        if isinstance(error, OperationFailure):
            return error.code
        error = error.__cause__ or error.__context__
    return None


def test_every_kind_of_damage_is_found_refused_and_repaired(daemon_factory, gridlite_binary) -> None:
    d = daemon_factory()
    with d.client() as client:
        db = client["integrity"]
        fs = gridfs.GridFSBucket(db)
        files = {}
        for seed, (name, size) in enumerate([("flipped.bin", 3 * CHUNK), ("deleted-chunk.bin", 2 * CHUNK + 5),
                                             ("duplicated.bin", 2 * CHUNK), ("orphaned.bin", CHUNK + 7),
                                             ("wrong-length.bin", 3 * CHUNK), ("intact-1.bin", 5 * CHUNK + 123),
                                             ("intact-2.bin", 2000)]):
            files[name] = upload(fs, name, size, seed)
        # A buggy client: drops the unique index, adds a second chunk n=0 (same bytes), deletes a
        # files document (its chunks become orphans), and writes a wrong length.
        db.fs.chunks.drop_index("files_id_1_n_1")
        dup_id, dup_data = files["duplicated.bin"]
        first = db.fs.chunks.find_one({"files_id": dup_id, "n": 0})
        db.fs.chunks.insert_one({"files_id": dup_id, "n": 0, "data": first["data"]})
        orphan_id = files["orphaned.bin"][0]
        db.fs.files.delete_one({"_id": orphan_id})
        wrong_id = files["wrong-length.bin"][0]
        db.fs.files.update_one({"_id": wrong_id}, {"$set": {"length": 3 * CHUNK + 1}})
        # Uploaded last, so its last chunk ends the active segment (truncated below).
        files["truncated.bin"] = upload(fs, "truncated.bin", 2 * CHUNK + CHUNK // 2, 99)
    assert d.stop() == 0

    # Offline damage: a flipped bit, a truncated segment, a deleted chunk row.
    conn = open_catalog(d.data_dir)
    rows = chunk_rows(conn, "integrity")
    by_file = lambda name: [r for r in rows if r["files_id"] == files[name][0]]
    flip_byte(d.data_dir, next(r for r in by_file("flipped.bin") if r["n"] == 1))
    last = max(by_file("truncated.bin"), key=lambda r: r["n"])
    seg_file = segment_path(d.data_dir, last["seg"])
    assert os.path.getsize(seg_file) == last["off"] + last["len"]
    os.truncate(seg_file, last["off"] + last["len"] - 1000)
    gone = next(r for r in by_file("deleted-chunk.bin") if r["n"] == 1)
    conn.execute(f"DELETE FROM {gone['table']} WHERE rid = ?", (gone["rid"],))
    conn.commit()
    conn.close()

    d.start()
    with d.client() as client:
        db = client["integrity"]
        fs = gridfs.GridFSBucket(db)
        # Damaged payloads are refused with 301, never served.
        for name in ("flipped.bin", "truncated.bin"):
            with pytest.raises(Exception) as excinfo:
                download(fs, files[name][0])
            assert corruption_code(excinfo) == 301, f"{name}: {excinfo.value!r}"
            assert "files_id" in str(excinfo.value) and "n=" in str(excinfo.value)
        with pytest.raises(OperationFailure) as excinfo:
            list(db.fs.chunks.find({"files_id": files["flipped.bin"][0]}))
        assert excinfo.value.code == 301 and excinfo.value.details["codeName"] == "DataCorruptionDetected"
        with pytest.raises(gridfs.errors.CorruptGridFile):
            download(fs, files["deleted-chunk.bin"][0])
        for name in ("intact-1.bin", "intact-2.bin"):
            assert download(fs, files[name][0]) == files[name][1], name
        with pytest.raises(gridfs.errors.CorruptGridFile):  # pymongo itself refuses a second n=0
            download(fs, files["duplicated.bin"][0])
        status = db.command("serverStatus")
        assert status["integrity"]["corruptionsDetected"] >= 3
        assert "data corruption detected" in d.log()
        validate = db.command("validate", "fs.chunks")
        assert not validate["valid"] and any("checksum" in e for e in validate["errors"]), validate

        # Online fsck (the daemon holds the lock): finds everything, exit 1; repair is refused.
        code, online = fsck_json(gridlite_binary, d.data_dir)
        assert code == 1, online
        assert online["mode"] == "online"
        assert {p["filesId"] for p in problems_of(online, "checksum_mismatch")} == {f"ObjectId('{files['flipped.bin'][0]}')"}
        mismatch = problems_of(online, "checksum_mismatch")[0]
        assert mismatch["n"] == 1 and mismatch["filename"] == "flipped.bin"
        unreadable = problems_of(online, "payload_unreadable")
        assert [p["n"] for p in unreadable] == [2] and unreadable[0]["filename"] == "truncated.bin"
        missing = problems_of(online, "missing_chunk")
        assert sorted((p["filename"], p["n"]) for p in missing) == [("deleted-chunk.bin", 1), ("wrong-length.bin", 3)]
        dups = problems_of(online, "duplicate_chunk")
        assert [(p["filename"], p["n"]) for p in dups] == [("duplicated.bin", 0)]
        orphans = problems_of(online, "orphan_chunks")
        assert [p["filesId"] for p in orphans] == [f"ObjectId('{orphan_id}')"]
        wrong = [p for p in online["problems"] if p.get("filename") == "wrong-length.bin"]
        assert {p["kind"] for p in wrong} >= {"missing_chunk", "length_mismatch"}, wrong
        assert problems_of(online, "segment_bounds"), online["problems"]
        for name in ("intact-1.bin", "intact-2.bin"):
            assert not [p for p in online["problems"] if p.get("filename") == name]
        refused = gridlite(gridlite_binary, "fsck", "--data-dir", str(d.data_dir), "--repair")
        assert refused.returncode == 2 and "stop it" in refused.stderr, refused.stderr
        # The daemon is unaffected.
        assert download(fs, files["intact-1.bin"][0]) == files["intact-1.bin"][1]
    assert d.stop() == 0

    # Offline: the same findings; --repair with the default grace keeps the young orphans.
    code, offline = fsck_json(gridlite_binary, d.data_dir)
    assert code == 1 and offline["mode"] == "offline"
    assert offline["problemCounts"].keys() >= {"checksum_mismatch", "payload_unreadable", "missing_chunk",
                                                "duplicate_chunk", "orphan_chunks"}
    code, repaired = fsck_json(gridlite_binary, d.data_dir, "--repair")
    assert code == 1, repaired  # the orphans are younger than the 1h grace period
    assert list(repaired["problemCounts"]) == ["orphan_chunks"], repaired["problemCounts"]
    assert any("younger than the grace period" in line for line in repaired["repairs"])
    code, repaired = fsck_json(gridlite_binary, d.data_dir, "--repair", "--grace", "0")
    assert code == 0, repaired
    assert any("orphan" in line for line in repaired["repairs"]), repaired["repairs"]
    quarantined = {q["filename"] for q in repaired["quarantined"]}
    assert quarantined == {"flipped.bin", "truncated.bin", "deleted-chunk.bin", "wrong-length.bin"}
    code, after = fsck_json(gridlite_binary, d.data_dir)
    assert code == 0 and after["clean"], after
    assert {q["filename"] for q in after["quarantined"]} == quarantined
    text = gridlite(gridlite_binary, "fsck", "--data-dir", str(d.data_dir))
    assert text.returncode == 0 and "fsck: clean (4 file(s) in quarantine)" in text.stdout, text.stdout

    d.start()
    with d.client() as client:
        db = client["integrity"]
        fs = gridfs.GridFSBucket(db)
        names = sorted(f.filename for f in fs.find())
        assert names == ["duplicated.bin", "intact-1.bin", "intact-2.bin"]
        for name in names:
            assert download(fs, files[name][0]) == files[name][1], name
        assert db.fs.chunks.count_documents({"files_id": orphan_id}) == 0
        kept = list(db["fs.quarantine.files"].find())
        assert {f["filename"] for f in kept} == quarantined
        assert all(f["quarantine"]["fromBucket"] == "fs" and f["quarantine"]["reason"] for f in kept)
        # A quarantined but undamaged chunk is still there, byte-exact: nothing was thrown away.
        wrong_chunks = list(db["fs.quarantine.chunks"].find({"files_id": wrong_id}).sort("n", 1))
        assert b"".join(c["data"] for c in wrong_chunks) == files["wrong-length.bin"][1]


def test_clean_directory_text_and_json(daemon_factory, gridlite_binary, tmp_path) -> None:
    d = daemon_factory()
    with d.client() as client:
        fs = gridfs.GridFSBucket(client["clean"], bucket_name="photos")
        fid, data = upload(fs, "a.jpg", 300_000, 3)
        client["clean"]["plain"].insert_many([{"x": i} for i in range(50)])
    code, report = fsck_json(gridlite_binary, d.data_dir)
    assert code == 0 and report["clean"] and report["mode"] == "online"
    bucket = next(b for b in report["buckets"] if b["bucket"] == "photos")
    assert bucket["files"] == 1 and bucket["chunks"] == 5 and bucket["bytesVerified"] >= 300_000
    assert report["documentsChecked"] >= 56
    text = gridlite(gridlite_binary, "fsck", "--data-dir", str(d.data_dir), "--db", "clean", "--bucket", "photos")
    assert text.returncode == 0, text.stderr
    assert "photos" in text.stdout and "fsck: clean" in text.stdout
    assert "\r" not in text.stderr  # no progress bar drawn into a pipe
    missing = gridlite(gridlite_binary, "fsck", "--data-dir", str(tmp_path / "nowhere"))
    assert missing.returncode == 2 and "not a gridlite data directory" in missing.stderr
    bad = gridlite(gridlite_binary, "fsck", "--data-dir", str(d.data_dir), "--grace", "soon")
    assert bad.returncode == 2


def test_old_data_directory_is_upgraded_with_checksums(daemon_factory, gridlite_binary) -> None:
    d = daemon_factory()
    with d.client() as client:
        fs = gridfs.GridFSBucket(client["old"])
        fid, data = upload(fs, "old.bin", 4 * CHUNK, 5)
    assert d.stop() == 0
    # Make it a schema-version-2 directory: no crc column anywhere.
    conn = open_catalog(d.data_dir)
    tables = [f"c{r[0]}" for r in conn.execute("SELECT id FROM gl_collections")]
    for table in tables:
        conn.execute(f"ALTER TABLE {table} DROP COLUMN crc")
    conn.execute("UPDATE gl_meta SET value = '2' WHERE key = 'schema_version'")
    conn.commit()
    conn.close()
    code, report = fsck_json(gridlite_binary, d.data_dir)
    assert code == 2 and "schema version 2" in report["_stderr"]
    since = d.log_offset()
    d.start()
    assert d.wait_for_log(r"schema upgrade finished: \d+ checksums computed", since=since), d.log(since)
    with d.client() as client:
        assert download(gridfs.GridFSBucket(client["old"]), fid) == data
    assert d.stop() == 0
    conn = open_catalog(d.data_dir)
    assert conn.execute("SELECT value FROM gl_meta WHERE key = 'schema_version'").fetchone()[0] == "3"
    chunks = table_of(conn, "old", "fs.chunks")
    assert conn.execute(f"SELECT count(*) FROM {chunks} WHERE crc IS NULL").fetchone()[0] == 0
    conn.close()
    code, report = fsck_json(gridlite_binary, d.data_dir)
    assert code == 0, report
    # The computed checksums catch damage like any other.
    flip_byte(d.data_dir, chunk_rows(open_catalog(d.data_dir), "old")[2], at=100)
    code, report = fsck_json(gridlite_binary, d.data_dir)
    assert code == 1 and [p["n"] for p in problems_of(report, "checksum_mismatch")] == [2]
