#!/usr/bin/env python3
"""Records real driver traffic as seed inputs for the fuzz targets.

Starts a gridlite daemon in a temporary directory, puts a recording TCP proxy in front of it, and
drives it through the proxy with pymongo (CRUD, cursors, indexes, aggregation, GridFS bucket and
legacy API, admin commands) and, when built, the libmongoc programs of the integration tests. What
each client connection sent is cut at frame boundaries into pieces of at most MAX_FRAMES frames and
MAX_BYTES bytes, and written to Fuzz/seeds/wire/<sha1-prefix> (identical pieces once).

    .venv/bin/python Fuzz/capture_seeds.py --gridlite .build/debug/gridlite [--c-bin-dir DIR]
"""
import argparse
import hashlib
import io
import os
import re
import socket
import struct
import subprocess
import tempfile
import threading
import time

MAX_FRAMES = 12
MAX_BYTES = 48 * 1024


class RecordingProxy:
    """Forwards every accepted connection to the daemon and keeps what the client sent."""

    def __init__(self, upstream_port):
        self.upstream_port = upstream_port
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.streams = []
        self.lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            server = socket.create_connection(("127.0.0.1", self.upstream_port))
            record = bytearray()
            with self.lock:
                self.streams.append(record)
            threading.Thread(target=self._pump, args=(client, server, record), daemon=True).start()
            threading.Thread(target=self._pump, args=(server, client, None), daemon=True).start()

    @staticmethod
    def _pump(source, sink, record):
        try:
            while True:
                data = source.recv(65536)
                if not data:
                    break
                if record is not None:
                    record.extend(data)
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for s in (source, sink):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass


def frames(stream):
    """The complete frames of a recorded stream."""
    offset = 0
    while offset + 4 <= len(stream):
        (length,) = struct.unpack_from("<i", stream, offset)
        if length < 16 or offset + length > len(stream):
            break
        yield bytes(stream[offset:offset + length])
        offset += length


def pieces(stream):
    """Consecutive frames grouped into seed-sized pieces (a frame larger than MAX_BYTES is skipped)."""
    piece, size = [], 0
    for frame in frames(stream):
        if len(frame) > MAX_BYTES:
            continue
        if piece and (len(piece) >= MAX_FRAMES or size + len(frame) > MAX_BYTES):
            yield b"".join(piece)
            piece, size = [], 0
        piece.append(frame)
        size += len(frame)
    if piece:
        yield b"".join(piece)


def attempt(step):
    """Runs one driver call; a server error is traffic like any other (it still makes a seed)."""
    import pymongo.errors
    try:
        return step()
    except pymongo.errors.OperationFailure as error:
        print(f"  (server refused: {error.details.get('errmsg') if error.details else error})")
        return None


def pymongo_session(port):
    import gridfs
    import pymongo
    from bson import Binary, Decimal128, Int64, ObjectId, Regex

    client = pymongo.MongoClient(f"mongodb://127.0.0.1:{port}/?directConnection=true", serverSelectionTimeoutMS=5000)
    db = client.seeds
    c = db.things
    attempt(lambda: c.drop())
    attempt(lambda: c.insert_one({"_id": 1, "a": 1, "b": "x", "arr": [1, 2, 3], "d": {"e": 1.5}}))
    attempt(lambda: c.insert_many([{"_id": i, "a": i % 3, "s": "v%d" % i, "n": Int64(i), "dec": Decimal128(str(i))} for i in range(2, 40)]))
    attempt(lambda: c.insert_many([{"bin": Binary(b"\x00\x01", 4), "re": Regex("^a", "i"), "oid": ObjectId(), "nested": {"x": [{"y": 1}]}}], ordered=False))
    attempt(lambda: list(c.find({"a": {"$gte": 1, "$lt": 3}}).sort([("a", -1), ("_id", 1)]).skip(2).limit(5)))
    attempt(lambda: list(c.find({}, {"a": 1, "arr": {"$slice": 2}}).batch_size(4)))
    attempt(lambda: list(c.find({"$or": [{"a": 1}, {"s": {"$regex": "^v1"}}], "arr": {"$exists": False}})))
    attempt(lambda: list(c.find({"arr": {"$elemMatch": {"$gt": 1}}, "a": {"$in": [1, 2], "$nin": [5]}, "_id": {"$mod": [2, 0]}})))
    attempt(lambda: list(c.find({"s": {"$type": "string"}, "arr": {"$size": 3}, "$expr": {"$gt": ["$a", 0]}})))
    attempt(lambda: c.update_one({"_id": 1}, {"$set": {"b": "y"}, "$inc": {"a": 2}, "$push": {"arr": {"$each": [4, 5], "$slice": -3}}}))
    attempt(lambda: c.update_many({"a": 0}, {"$mul": {"n": 2}, "$unset": {"s": ""}, "$currentDate": {"t": True}}))
    attempt(lambda: c.update_one({"_id": 999}, {"$setOnInsert": {"z": 1}, "$max": {"m": 3}}, upsert=True))
    attempt(lambda: c.update_one({"_id": 1}, [{"$set": {"c": {"$add": ["$a", 1]}}}]))
    attempt(lambda: c.replace_one({"_id": 2}, {"a": 7, "r": True}))
    attempt(lambda: c.find_one_and_update({"_id": 3}, {"$addToSet": {"tags": "t"}}, return_document=pymongo.ReturnDocument.AFTER))
    attempt(lambda: c.find_one_and_delete({"_id": 4}, sort=[("a", 1)]))
    attempt(lambda: c.find_one_and_replace({"_id": 5}, {"q": 1}, projection={"q": 1}))
    attempt(lambda: c.delete_one({"_id": 6}))
    attempt(lambda: c.delete_many({"a": {"$gt": 5}}))
    attempt(lambda: c.count_documents({"a": 1}))
    attempt(lambda: c.estimated_document_count())
    attempt(lambda: c.distinct("a", {"_id": {"$lt": 20}}))
    attempt(lambda: c.create_index([("a", 1), ("s", -1)], name="a_s"))
    attempt(lambda: c.create_index("n", unique=False))
    attempt(lambda: list(c.list_indexes()))
    attempt(lambda: c.drop_index("a_s"))
    attempt(lambda: list(c.aggregate([{"$match": {"a": {"$ne": None}}}, {"$group": {"_id": "$a", "n": {"$sum": 1}, "avg": {"$avg": "$n"}}},
                          {"$sort": {"n": -1}}, {"$project": {"n": 1, "k": {"$concat": ["k", {"$toString": "$_id"}]}}}, {"$limit": 3}])))
    attempt(lambda: list(c.aggregate([{"$unwind": "$arr"}, {"$count": "total"}])))
    attempt(lambda: c.rename("things2"))
    attempt(lambda: db.things2.drop())
    attempt(lambda: db.list_collection_names())
    attempt(lambda: client.list_database_names())
    for name in ("ping", "buildInfo", "hostInfo", "dbStats", "connectionStatus", "listCommands"):
        attempt(lambda: db.command(name))
    attempt(lambda: client.admin.command("serverStatus"))
    attempt(lambda: client.admin.command("getParameter", "*"))
    attempt(lambda: client.admin.command("getCmdLineOpts"))
    fs_db = client.seedsfs
    bucket = gridfs.GridFSBucket(fs_db, chunk_size_bytes=255)
    file_id = bucket.upload_from_stream("a.txt", io.BytesIO(b"hello gridfs " * 60), metadata={"k": "v"})
    attempt(lambda: bucket.open_download_stream(file_id).read())
    attempt(lambda: bucket.open_download_stream_by_name("a.txt").read())
    attempt(lambda: list(bucket.find({"filename": "a.txt"})))
    attempt(lambda: bucket.rename(file_id, "b.txt"))
    attempt(lambda: bucket.delete(file_id))
    legacy = gridfs.GridFS(fs_db, collection="legacy")
    legacy_id = legacy.put(b"x" * 700, filename="l.bin", chunkSize=256)
    attempt(lambda: legacy.get(legacy_id).read())
    attempt(lambda: legacy.exists(filename="l.bin"))
    attempt(lambda: legacy.delete(legacy_id))
    attempt(lambda: fs_db.command("validate", "fs.chunks"))
    attempt(lambda: fs_db.command("collStats", "fs.files"))
    attempt(lambda: client.drop_database("seedsfs"))
    attempt(lambda: client.drop_database("seeds"))
    client.close()


def start_daemon(binary, directory):
    log_path = os.path.join(directory, "log")
    log = open(log_path, "w")
    proc = subprocess.Popen([binary, "serve", "--port", "0", "--data-dir", os.path.join(directory, "data")],
                            stdout=log, stderr=subprocess.STDOUT)
    for _ in range(200):
        match = re.search(r"listening on [^ ]*:(\d+)", open(log_path).read())
        if match:
            return proc, int(match.group(1))
        time.sleep(0.05)
    proc.kill()
    raise SystemExit("gridlite did not start:\n" + open(log_path).read())


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    parser = argparse.ArgumentParser()
    parser.add_argument("--gridlite", required=True)
    parser.add_argument("--c-bin-dir", default=os.path.join(here, "..", "IntegrationTests", "integration", "bin"))
    parser.add_argument("--out", default=os.path.join(here, "seeds", "wire"))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        proc, port = start_daemon(args.gridlite, directory)
        try:
            proxy = RecordingProxy(port)
            pymongo_session(proxy.port)
            uri = f"mongodb://127.0.0.1:{proxy.port}/?directConnection=true"
            for program in ("handshake", "gridfs_bucket", "gridfs_legacy"):
                path = os.path.join(args.c_bin_dir, program)
                if os.access(path, os.X_OK):
                    subprocess.run([path, uri], check=True, stdout=subprocess.DEVNULL)
            time.sleep(0.5)
        finally:
            proc.terminate()
            proc.wait()
    os.makedirs(args.out, exist_ok=True)
    written = 0
    for stream in proxy.streams:
        for piece in pieces(stream):
            name = hashlib.sha1(piece).hexdigest()[:16]
            with open(os.path.join(args.out, name), "wb") as f:
                f.write(piece)
            written += 1
    print(f"{written} seed files in {args.out} from {len(proxy.streams)} connections")


if __name__ == "__main__":
    main()
