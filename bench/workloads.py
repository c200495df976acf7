"""The workloads. Each takes a system's spec (see systems.py) and returns {metric: value}, where a
value is a float (MiB/s, files/s or ms) or a string: the error that made that measurement fail.
Timings cover only the client calls; content is generated before and verified (SHA-256) after.
"""

from __future__ import annotations

import datetime
import hashlib
import multiprocessing
import os
import statistics
import time

from systems import drop_bucket, open_bucket

MiB = 1024 * 1024


def _err(error: BaseException) -> str:
    text = f"{type(error).__name__}: {error}".replace("\n", " ")
    return text[:160]


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _fail_all(metrics: list[str], error: BaseException) -> dict:
    return {metric: _err(error) for metric in metrics}


# --- one large file -------------------------------------------------------------------------------

def large_file(spec: dict, data: bytes, digest: str) -> dict:
    """Uploads `data` as one file, downloads it, verifies it."""
    db = "large"
    drop_bucket(spec, db)
    result: dict = {}
    bucket, close = open_bucket(spec, db)
    try:
        try:
            start = time.monotonic()
            file_id = bucket.upload_from_stream("large.bin", data)
            result["large_up"] = len(data) / MiB / (time.monotonic() - start)
        except Exception as error:
            return _fail_all(["large_up", "large_down"], error)
        try:
            start = time.monotonic()
            out = bucket.open_download_stream(file_id).read()
            elapsed = time.monotonic() - start
            if _sha(out) != digest:
                raise ValueError(f"downloaded content differs (SHA-256, {len(out)} of {len(data)} bytes)")
            result["large_down"] = len(data) / MiB / elapsed
        except Exception as error:
            result["large_down"] = _err(error)
    finally:
        close()
        drop_bucket(spec, db)
    return result


# --- many small files -----------------------------------------------------------------------------

def small_files(spec: dict, files: list[bytes], digests: list[str]) -> dict:
    """Uploads every file, downloads each by id, then lists the bucket with find({})."""
    db = "small"
    drop_bucket(spec, db)
    metrics = ["small_up", "small_down", "small_find"]
    result: dict = {}
    bucket, close = open_bucket(spec, db)
    try:
        try:
            start = time.monotonic()
            ids = [bucket.upload_from_stream(f"small-{i:05d}", data) for i, data in enumerate(files)]
            result["small_up"] = len(files) / (time.monotonic() - start)
        except Exception as error:
            return _fail_all(metrics, error)
        try:
            start = time.monotonic()
            outs = [bucket.open_download_stream(file_id).read() for file_id in ids]
            elapsed = time.monotonic() - start
            bad = sum(1 for out, digest in zip(outs, digests) if _sha(out) != digest)
            if bad:
                raise ValueError(f"{bad} downloaded files differ (SHA-256)")
            result["small_down"] = len(files) / elapsed
        except Exception as error:
            result["small_down"] = _err(error)
        try:
            start = time.monotonic()
            listed = [f.filename for f in bucket.find({})]
            elapsed = time.monotonic() - start
            if len(listed) != len(files):
                raise ValueError(f"find({{}}) listed {len(listed)} of {len(files)} files")
            result["small_find"] = len(files) / elapsed
        except Exception as error:
            result["small_find"] = _err(error)
    finally:
        close()
        drop_bucket(spec, db)
    return result


# --- concurrent clients ---------------------------------------------------------------------------

def _client(spec: dict, db: str, index: int, size: int, barrier, queue) -> None:
    """One worker process: upload a file of `size` random bytes, download it, verify it."""
    data = os.urandom(size)
    digest = _sha(data)
    up = down = None
    error = None
    try:
        bucket, close = open_bucket(spec, db)
    except Exception as e:  # noqa: BLE001
        bucket, close, error = None, (lambda: None), _err(e)
    barrier.wait()
    start = time.monotonic()
    try:
        if bucket is not None:
            file_id = bucket.upload_from_stream(f"client-{index}.bin", data)
            up = time.monotonic() - start
            out = bucket.open_download_stream(file_id).read()
            down = time.monotonic() - start - up
            if _sha(out) != digest:
                raise ValueError("downloaded content differs (SHA-256)")
    except Exception as e:  # noqa: BLE001
        error = _err(e)
    end = time.monotonic()
    close()
    queue.put((index, end, up, down, error))


def concurrent(spec: dict, clients: int, size: int) -> dict:
    """`clients` processes upload and download a file each at the same time; also one client alone."""
    context = multiprocessing.get_context("forkserver")
    result: dict = {}
    for label, count in (("single", 1), ("conc", clients)):
        db = label
        drop_bucket(spec, db)
        barrier = context.Barrier(count + 1)
        queue = context.Queue()
        workers = [context.Process(target=_client, args=(spec, db, i, size, barrier, queue))
                   for i in range(count)]
        for worker in workers:
            worker.start()
        barrier.wait(timeout=120)
        start = time.monotonic()
        reports = [queue.get(timeout=900) for _ in workers]
        for worker in workers:
            worker.join(timeout=30)
        wall = max(end for _, end, _, _, _ in reports) - start
        errors = [e for *_, e in reports if e]
        if label == "single":
            _, _, up, down, error = reports[0]
            result["single_up"] = size / MiB / up if up else (error or "failed")
            result["single_down"] = size / MiB / down if down and not error else (error or "failed")
            result["single_total"] = 2 * size / MiB / wall if not error else error
        else:
            result["conc_errors"] = float(len(errors))
            result["conc_total"] = (2 * count * size / MiB / wall) if not errors else \
                f"{len(errors)} of {count} clients failed; first: {errors[0]}"
        drop_bucket(spec, db)
    return result


# --- lookups in a large bucket --------------------------------------------------------------------

TARGETS = 100          # files named abc-NNN, present in both buckets


def _target_name(i: int) -> str:
    return f"abc-{i:03d}"


def _target_data(i: int) -> bytes:
    return hashlib.sha256(f"target {i}".encode()).digest() * 8


def build_bucket(spec: dict, db: str, total: int) -> float:
    """Builds a bucket of `total` small files (TARGETS of them named abc-*). Wire servers get the
    files and chunks documents GridFS writes through insert_many in large batches, with GridFS's two
    indexes; NeoSQLite (not a wire server) gets upload_from_stream. Returns seconds taken."""
    drop_bucket(spec, db)
    start = time.monotonic()
    names_data = []
    spread = max(1, total // TARGETS)
    for i in range(total):
        if total <= TARGETS or i % spread == spread // 2 and (i // spread) < TARGETS:
            t = i if total <= TARGETS else i // spread
            names_data.append((_target_name(t), _target_data(t)))
        else:
            names_data.append((f"file-{i:06d}", i.to_bytes(8, "little") * 8))
    if spec["kind"] == "neo" or "file" in spec:
        # NeoSQLite, and NX-27017 (which serves NeoSQLite's own GridFS tables from its database
        # file, and does not see fs.files/fs.chunks documents inserted through the wire as GridFS
        # files): NeoSQLite's GridFSBucket writes them, file by file, into that SQLite file.
        bucket, close = open_bucket({"kind": "neo", "file": spec["file"]}, db)
        try:
            for name, data in names_data:
                bucket.upload_from_stream(name, data)
        finally:
            close()
        return time.monotonic() - start
    from bson import Binary, Int64, ObjectId
    from pymongo import ASCENDING, MongoClient
    with MongoClient(spec["uri"], socketTimeoutMS=600000) as client:
        from systems import DATABASE
        files, chunks = client[DATABASE][f"{db}.files"], client[DATABASE][f"{db}.chunks"]
        files.create_index([("filename", ASCENDING), ("uploadDate", ASCENDING)])
        chunks.create_index([("files_id", ASCENDING), ("n", ASCENDING)], unique=True)
        now = datetime.datetime.now(datetime.timezone.utc)
        batch = 10000
        for lo in range(0, len(names_data), batch):
            file_docs, chunk_docs = [], []
            for name, data in names_data[lo:lo + batch]:
                file_id = ObjectId()
                chunk_docs.append({"_id": ObjectId(), "files_id": file_id, "n": 0, "data": Binary(data)})
                file_docs.append({"_id": file_id, "length": Int64(len(data)), "chunkSize": 261120,
                                  "uploadDate": now, "filename": name})
            chunks.insert_many(chunk_docs, ordered=True)
            files.insert_many(file_docs, ordered=True)
    return time.monotonic() - start


def lookups(spec: dict, buckets: list[str], repeats: int) -> dict:
    """Median latency (ms) of open_download_stream_by_name(...).read() and of the prefix listing in
    each bucket: {(bucket, "by_name"|"prefix"): value}. The buckets take turns call by call, so
    background work on the server (a checkpoint after the previous workload) hits them alike."""
    result: dict = {}
    opened = {name: open_bucket(spec, name) for name in buckets}
    try:
        for what in ("by_name", "prefix"):
            times: dict = {name: [] for name in buckets}
            failed: dict = {}
            count = repeats if what == "by_name" else max(3, repeats // 3)
            for k in range(count):
                i = (k * 37) % TARGETS
                for name, (bucket, _) in opened.items():
                    if name in failed:
                        continue
                    try:
                        start = time.monotonic()
                        if what == "by_name":
                            out = bucket.open_download_stream_by_name(_target_name(i)).read()
                            times[name].append(time.monotonic() - start)
                            if out != _target_data(i):
                                raise ValueError(f"{_target_name(i)}: downloaded content differs")
                        else:
                            names = [f.filename for f in bucket.find({"filename": {"$regex": "^abc"}})]
                            times[name].append(time.monotonic() - start)
                            if len(names) != TARGETS:
                                raise ValueError(f"prefix listing returned {len(names)} of {TARGETS} files")
                    except Exception as error:
                        failed[name] = _err(error)
            for name in buckets:
                result[(name, what)] = failed.get(name) or statistics.median(times[name]) * 1000
    finally:
        for _, close in opened.values():
            close()
    return result


def rss_gigabyte(spec: dict, pid: int, total: int, piece: bytes) -> dict:
    """Streams `total` bytes (repeating `piece`) up and back down through one file; returns the
    daemon's VmHWM in MiB afterwards, and whether the content verified."""
    from systems import peak_rss_kib
    db = "rss"
    drop_bucket(spec, db)
    bucket, close = open_bucket(spec, db)
    result: dict = {}
    try:
        up_hash = hashlib.sha256()
        start = time.monotonic()
        with bucket.open_upload_stream("gigabyte.bin") as stream:
            written = 0
            while written < total:
                stream.write(piece)
                up_hash.update(piece)
                written += len(piece)
            file_id = stream._id
        result["rss_up_mibs"] = total / MiB / (time.monotonic() - start)
        down_hash = hashlib.sha256()
        start = time.monotonic()
        out = bucket.open_download_stream(file_id)
        while True:
            block = out.read(8 * MiB)
            if not block:
                break
            down_hash.update(block)
        result["rss_down_mibs"] = total / MiB / (time.monotonic() - start)
        result["rss_verified"] = down_hash.hexdigest() == up_hash.hexdigest()
        hwm = peak_rss_kib(pid)
        result["rss_peak_mib"] = hwm / 1024 if hwm else "VmHWM not readable"
    except Exception as error:
        result["rss_peak_mib"] = _err(error)
    finally:
        close()
        drop_bucket(spec, db)
    return result


# --- OP_COMPRESSED ---------------------------------------------------------------------------------

COMPRESSORS = ("snappy", "zlib", "zstd")


def compressible_content(size: int) -> bytes:
    """Log-like text (snappy keeps ~25 %, zlib ~14 %, zstd ~9 %), for the compression rows."""
    parts, total, line = [], 0, 0
    while total < size:
        text = b"2026-12-04T18:%02d:%02d.%03dZ INFO conn%d GET /files/%08d 200 %d bytes\n" % (
            line // 3600 % 60, line // 60 % 60, line % 1000, line % 97, line, line * 7 % 100000)
        parts.append(text)
        total += len(text)
        line += 1
    return b"".join(parts)[:size]


def compressed_large_files(spec: dict, contents: dict[str, tuple[bytes, str]]) -> dict:
    """`large_file` once per compressor (pymongo `compressors=`) and per content kind
    (`{"random": (data, digest), "text": (data, digest)}`); keys `z_<compressor>_<kind>_up/down`."""
    result: dict = {}
    for compressor in COMPRESSORS:
        separator = "&" if "?" in spec["uri"] else "?"
        compressed = dict(spec, uri=f"{spec['uri']}{separator}compressors={compressor}")
        for kind, (data, digest) in contents.items():
            measured = large_file(compressed, data, digest)
            result[f"z_{compressor}_{kind}_up"] = measured.get("large_up", "not run")
            result[f"z_{compressor}_{kind}_down"] = measured.get("large_down", "not run")
    return result
