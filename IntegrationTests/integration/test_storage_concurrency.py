"""Two connections: while a 200 MB GridFS upload runs on one, small finds on another keep
completing. The upload runs in its own Python process so the prober is not held up by the
uploader's GIL (pymongo encodes 48 MB messages while holding it).

This is an ordering check, not a timing one (speed is measured by `make bench` only): the
prober asserts that many finds completed *while the upload was in progress*, as the server
itself shows it (the file's first chunks are stored but its `fs.files` document is not), and
that those finds ran between different insert batches of the upload rather than all at one
point. A server that made readers wait for the upload to finish fails it however fast it is;
every timeout here is generous, so a loaded machine cannot."""

from __future__ import annotations

import subprocess
import sys
import textwrap

from bson import ObjectId


UPLOAD_MB = 200
MIN_FINDS_DURING_UPLOAD = 5
UPLOAD_TIMEOUT_S = 900

UPLOADER = textwrap.dedent("""
    import os, sys
    import gridfs
    from pymongo import MongoClient
    uri, size_mb = sys.argv[1], int(sys.argv[2])
    client = MongoClient(uri, socketTimeoutMS=600000, serverSelectionTimeoutMS=60000)
    bucket = gridfs.GridFSBucket(client["conc"])
    block = os.urandom(1024 * 1024)
    with bucket.open_upload_stream("big.bin") as stream:
        print("ready", stream._id, flush=True)
        for _ in range(size_mb):
            stream.write(block)
    print("uploaded", flush=True)
""")


def probe(small, chunks, files, file_id, i: int) -> int | None:
    """One small find (checked), then where the upload stands: the number of the file's chunks
    stored so far while its upload is in progress, or None before it starts or after it ends."""
    doc = small.find_one({"_id": i % 100})
    assert doc is not None and doc["v"] == i % 100
    stored = chunks.count_documents({"files_id": file_id})
    if stored == 0 or files.find_one({"_id": file_id}, {"_id": 1}) is not None:
        return None
    return stored


def test_upload_does_not_stall_finds_on_another_connection(daemon_factory):
    d = daemon_factory()
    with d.client(maxPoolSize=1, socketTimeoutMS=600000, serverSelectionTimeoutMS=60000) as prober:
        small = prober["conc"]["small"]
        small.insert_many([{"_id": i, "v": i} for i in range(100)])
        chunks, files = prober["conc"]["fs.chunks"], prober["conc"]["fs.files"]
        # Create the bucket's collections and indexes first, so the upload is only inserts.
        files.create_index([("filename", 1), ("uploadDate", 1)])
        chunks.create_index([("files_id", 1), ("n", 1)], unique=True)
        uploader = subprocess.Popen([sys.executable, "-c", UPLOADER, d.uri, str(UPLOAD_MB)],
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            word, oid = uploader.stdout.readline().split()
            assert word == "ready"
            file_id = ObjectId(oid)
            progress: list[int] = []  # chunks stored, as seen by each find during the upload
            i = 0
            while uploader.poll() is None:
                stored = probe(small, chunks, files, file_id, i)
                if stored is not None:
                    progress.append(stored)
                i += 1
            out, err = uploader.communicate(timeout=UPLOAD_TIMEOUT_S)
        finally:
            if uploader.poll() is None:
                uploader.kill()
                uploader.wait()
        assert uploader.returncode == 0, err
        assert out.strip().endswith("uploaded"), out
        stored = files.find_one({"_id": file_id})
        assert stored is not None and stored["length"] == UPLOAD_MB * 1024 * 1024
        summary = f"{len(progress)} finds during the upload, at chunk counts {sorted(set(progress))}"
        print(summary)
        assert len(progress) >= MIN_FINDS_DURING_UPLOAD, summary
        assert len(set(progress)) >= 2, summary  # finds ran between insert batches, not at one point
        assert progress == sorted(progress), summary  # and saw the upload only ever grow
