"""Entities and operations of MongoDB's unified test format, run through pymongo.

Covers what the GridFS tests use: client / database / collection / bucket entities, the bucket
operations (upload, download, downloadByName, delete, deleteByName, rename, renameByName, find, drop)
and the collection operations (find, insertOne, insertMany, deleteOne, deleteMany, updateOne,
updateMany, replaceOne, bulkWrite, countDocuments), the test runner's operations (failPoint,
targetedFailPoint, createEntities) and the client-side operations timeout argument `timeoutMS` (run
inside `pymongo.timeout`). An operation or argument this module does not know raises UnsupportedError,
so a test can never pass by having an argument ignored.
"""

from __future__ import annotations

import contextlib
import io
from collections.abc import Mapping
from typing import Any, Callable, Iterator

import gridfs
import pymongo
from pymongo import _csot
from pymongo import (ASCENDING, DeleteMany, DeleteOne, InsertOne, MongoClient, ReplaceOne, UpdateMany,
                     UpdateOne, monitoring)
from pymongo.collection import Collection
from pymongo.database import Database
from pymongo.results import BulkWriteResult, DeleteResult, InsertManyResult, InsertOneResult, UpdateResult

# Commands the format says a runner never reports as events (unless observeSensitiveCommands is set).
IGNORED_COMMANDS = {"hello", "ismaster", "authenticate", "saslstart", "saslcontinue",
                    "getnonce", "createuser", "updateuser", "copydbgetnonce", "copydbsaslstart",
                    "copydb", "configurefailpoint"}


class UnsupportedError(Exception):
    """The test uses something this runner does not implement (reported as a failure)."""


class EventRecorder(monitoring.CommandListener):
    """Records command events of one client while `recording` is set."""

    def __init__(self, observe: list[str]) -> None:
        self.observe = set(observe)
        self.events: list[tuple[str, Any]] = []
        self.recording = False

    def _keep(self, kind: str, event: Any) -> bool:
        return (self.recording and kind in self.observe
                and event.command_name.lower() not in IGNORED_COMMANDS)

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        if self._keep("commandStartedEvent", event):
            self.events.append(("commandStartedEvent", {
                "command": dict(event.command), "commandName": event.command_name,
                "databaseName": event.database_name}))

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        if self._keep("commandSucceededEvent", event):
            self.events.append(("commandSucceededEvent", {
                "reply": dict(event.reply), "commandName": event.command_name,
                "databaseName": event.database_name}))

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        if self._keep("commandFailedEvent", event):
            self.events.append(("commandFailedEvent", {
                "commandName": event.command_name, "databaseName": event.database_name}))


def _take(arguments: Mapping[str, Any], known: set[str], what: str) -> dict[str, Any]:
    unknown = set(arguments) - known
    if unknown:
        raise UnsupportedError(f"{what}: unsupported arguments {sorted(unknown)}")
    return dict(arguments)


def _source_bytes(source: Any) -> bytes:
    if isinstance(source, Mapping) and set(source) == {"$$hexBytes"}:
        return bytes.fromhex(source["$$hexBytes"])
    raise UnsupportedError(f"upload source must be {{$$hexBytes: ...}}, got {source!r}")


@contextlib.contextmanager
def _operation_timeout(arguments: Mapping[str, Any]) -> Iterator[None]:
    """The operation's `timeoutMS` argument (client-side operations timeout): pymongo.timeout."""
    if "timeoutMS" not in arguments:
        yield
        return
    millis = arguments["timeoutMS"]
    with pymongo.timeout(None if millis == 0 else millis / 1000):
        yield


class Entities:
    """The entity map of one test: creates entities and keeps saved results."""

    def __init__(self, uri: str, client_options: Mapping[str, Any] | None = None) -> None:
        self.uri = uri
        self.client_options = dict(client_options or {})
        self.values: dict[str, Any] = {}
        self.kinds: dict[str, str] = {}
        self.recorders: dict[str, EventRecorder] = {}
        self.clients: list[MongoClient] = []
        # Fail points set through the testRunner operations: (client, name), turned off after the test.
        self.fail_points: list[tuple[MongoClient, str]] = []
        # True once a fail point that closes connections was set: the test then expects network errors.
        self.closes_connections = False

    def create(self, specs: list[Mapping[str, Any]]) -> None:
        for spec in specs:
            (kind, options), = spec.items()
            name = options["id"]
            if name in self.values:
                raise UnsupportedError(f"entity {name} defined twice")
            self.values[name] = getattr(self, f"_create_{kind}", self._unknown_kind(kind))(options)
            self.kinds[name] = kind

    @staticmethod
    def _unknown_kind(kind: str) -> Callable[[Mapping[str, Any]], Any]:
        def fail(_: Mapping[str, Any]) -> Any:
            raise UnsupportedError(f"entity kind {kind}")
        return fail

    def _create_client(self, options: Mapping[str, Any]) -> MongoClient:
        _take(options, {"id", "observeEvents", "useMultipleMongoses", "uriOptions"}, "client")
        uri_options = dict(options.get("uriOptions", {}))
        recorder = EventRecorder(list(options.get("observeEvents", [])))
        kwargs = {"serverSelectionTimeoutMS": 10000, **self.client_options, **uri_options}
        client = MongoClient(self.uri, event_listeners=[recorder], **kwargs)
        self.recorders[options["id"]] = recorder
        self.clients.append(client)
        return client

    def _create_database(self, options: Mapping[str, Any]) -> Database:
        _take(options, {"id", "client", "databaseName"}, "database")
        return self.values[options["client"]][options["databaseName"]]

    def _create_collection(self, options: Mapping[str, Any]) -> Collection:
        _take(options, {"id", "database", "collectionName"}, "collection")
        return self.values[options["database"]][options["collectionName"]]

    def _create_bucket(self, options: Mapping[str, Any]) -> gridfs.GridFSBucket:
        _take(options, {"id", "database", "bucketOptions"}, "bucket")
        bucket_options = _take(options.get("bucketOptions", {}), {"bucketName", "chunkSizeBytes"},
                               "bucketOptions")
        kwargs: dict[str, Any] = {}
        if "bucketName" in bucket_options:
            kwargs["bucket_name"] = bucket_options["bucketName"]
        if "chunkSizeBytes" in bucket_options:
            kwargs["chunk_size_bytes"] = bucket_options["chunkSizeBytes"]
        return gridfs.GridFSBucket(self.values[options["database"]], **kwargs)

    def start_recording(self) -> None:
        for recorder in self.recorders.values():
            recorder.recording = True

    def stop_recording(self) -> None:
        for recorder in self.recorders.values():
            recorder.recording = False

    def disable_fail_points(self) -> None:
        """Turns off every fail point the test set (the format requires it after each test)."""
        for client, name in self.fail_points:
            client.admin.command({"configureFailPoint": name, "mode": "off"})
        self.fail_points.clear()

    def close(self) -> None:
        try:
            self.disable_fail_points()
        finally:
            for client in self.clients:
                client.close()

    # --- operations -----------------------------------------------------------------------------

    def run(self, operation: Mapping[str, Any]) -> Any:
        """Runs one operation and returns its result (bytes, ids, documents or result summaries)."""
        target = operation["object"]
        name = operation["name"]
        arguments = operation.get("arguments", {})
        if target == "testRunner":
            handler = getattr(self, f"_runner_{name}", None)
            if handler is None:
                raise UnsupportedError(f"testRunner operation {name}")
            return handler(arguments)
        if target not in self.kinds:
            raise UnsupportedError(f"operation {name} on unknown object {target}")
        kind = self.kinds[target]
        handler = getattr(self, f"_{kind}_{name}", None)
        if handler is None:
            raise UnsupportedError(f"operation {name} on a {kind}")
        with _operation_timeout(arguments):
            return handler(self.values[target], {k: v for k, v in arguments.items() if k != "timeoutMS"})

    # Test runner operations.

    def _set_fail_point(self, client: MongoClient, command: Mapping[str, Any]) -> None:
        data = command.get("data", {})
        if data.get("closeConnection"):
            self.closes_connections = True
        client.admin.command(dict(command))
        self.fail_points.append((client, command["configureFailPoint"]))

    def _runner_failPoint(self, args: Mapping[str, Any]) -> None:
        a = _take(args, {"client", "failPoint"}, "failPoint")
        self._set_fail_point(self.values[a["client"]], a["failPoint"])

    def _runner_targetedFailPoint(self, args: Mapping[str, Any]) -> None:
        # The session's pinned server; with one server that is the session's client's server.
        a = _take(args, {"session", "failPoint"}, "targetedFailPoint")
        session = self.values[a["session"]]
        self._set_fail_point(session.client, a["failPoint"])

    def _runner_createEntities(self, args: Mapping[str, Any]) -> None:
        self.create(_take(args, {"entities"}, "createEntities")["entities"])
        # Entities created during a test record from the start.
        for recorder in self.recorders.values():
            recorder.recording = True

    # Bucket operations.

    def _bucket_upload(self, bucket: gridfs.GridFSBucket, args: Mapping[str, Any]) -> Any:
        a = _take(args, {"filename", "source", "chunkSizeBytes", "metadata", "disableMD5", "id"}, "upload")
        kwargs: dict[str, Any] = {}
        if "chunkSizeBytes" in a:
            kwargs["chunk_size_bytes"] = a["chunkSizeBytes"]
        if "metadata" in a:
            kwargs["metadata"] = a["metadata"]
        # disableMD5: pymongo never computes an MD5, so there is nothing to disable.
        data = _source_bytes(a["source"])
        if "id" in a:
            bucket.upload_from_stream_with_id(a["id"], a["filename"], data, **kwargs)
            return a["id"]
        return bucket.upload_from_stream(a["filename"], data, **kwargs)

    def _bucket_download(self, bucket: gridfs.GridFSBucket, args: Mapping[str, Any]) -> bytes:
        a = _take(args, {"id"}, "download")
        sink = io.BytesIO()
        bucket.download_to_stream(a["id"], sink)
        return sink.getvalue()

    def _bucket_downloadByName(self, bucket: gridfs.GridFSBucket, args: Mapping[str, Any]) -> bytes:
        a = _take(args, {"filename", "revision"}, "downloadByName")
        with bucket.open_download_stream_by_name(a["filename"], revision=a.get("revision", -1)) as out:
            return out.read()

    def _bucket_delete(self, bucket: gridfs.GridFSBucket, args: Mapping[str, Any]) -> None:
        bucket.delete(_take(args, {"id"}, "delete")["id"])

    def _bucket_deleteByName(self, bucket: gridfs.GridFSBucket, args: Mapping[str, Any]) -> None:
        bucket.delete_by_name(_take(args, {"filename"}, "deleteByName")["filename"])

    def _bucket_rename(self, bucket: gridfs.GridFSBucket, args: Mapping[str, Any]) -> None:
        a = _take(args, {"id", "newFilename"}, "rename")
        bucket.rename(a["id"], a["newFilename"])

    def _bucket_renameByName(self, bucket: gridfs.GridFSBucket, args: Mapping[str, Any]) -> None:
        a = _take(args, {"filename", "newFilename"}, "renameByName")
        bucket.rename_by_name(a["filename"], a["newFilename"])

    def _bucket_drop(self, bucket: gridfs.GridFSBucket, args: Mapping[str, Any]) -> None:
        # pymongo's GridFSBucket has no drop(): the GridFS spec's drop is the files collection's
        # drop, then the chunks collection's, as one operation (one timeoutMS for both).
        _take(args, set(), "bucket drop")
        whole = contextlib.nullcontext()
        client_timeout = bucket._files.database.client.options.timeout
        if _csot.get_timeout() is None and client_timeout is not None:
            whole = pymongo.timeout(client_timeout)
        with whole:
            bucket._files.drop()
            bucket._chunks.drop()

    def _bucket_find(self, bucket: gridfs.GridFSBucket, args: Mapping[str, Any]) -> list[dict]:
        a = _take(args, {"filter", "sort", "skip", "limit"}, "bucket find")
        kwargs = {k: a[k] for k in ("skip", "limit") if k in a}
        if "sort" in a:
            kwargs["sort"] = list(a["sort"].items())
        return [grid_out._file for grid_out in bucket.find(a["filter"], **kwargs)]

    # Collection operations.

    def _collection_find(self, coll: Collection, args: Mapping[str, Any]) -> list[dict]:
        a = _take(args, {"filter", "sort", "skip", "limit", "projection", "batchSize"}, "find")
        kwargs: dict[str, Any] = {}
        if "sort" in a:
            kwargs["sort"] = list(a["sort"].items())
        for key, name in (("skip", "skip"), ("limit", "limit"), ("projection", "projection"),
                          ("batchSize", "batch_size")):
            if key in a:
                kwargs[name] = a[key]
        return list(coll.find(a.get("filter", {}), **kwargs))

    def _collection_countDocuments(self, coll: Collection, args: Mapping[str, Any]) -> int:
        a = _take(args, {"filter", "skip", "limit"}, "countDocuments")
        return coll.count_documents(a["filter"], **{k: a[k] for k in ("skip", "limit") if k in a})

    def _collection_insertOne(self, coll: Collection, args: Mapping[str, Any]) -> dict:
        return summarize(coll.insert_one(_take(args, {"document"}, "insertOne")["document"]))

    def _collection_insertMany(self, coll: Collection, args: Mapping[str, Any]) -> dict:
        a = _take(args, {"documents", "ordered"}, "insertMany")
        return summarize(coll.insert_many(a["documents"], ordered=a.get("ordered", True)))

    def _collection_deleteOne(self, coll: Collection, args: Mapping[str, Any]) -> dict:
        return summarize(coll.delete_one(_take(args, {"filter"}, "deleteOne")["filter"]))

    def _collection_deleteMany(self, coll: Collection, args: Mapping[str, Any]) -> dict:
        return summarize(coll.delete_many(_take(args, {"filter"}, "deleteMany")["filter"]))

    def _collection_updateOne(self, coll: Collection, args: Mapping[str, Any]) -> dict:
        a = _take(args, {"filter", "update", "upsert"}, "updateOne")
        return summarize(coll.update_one(a["filter"], a["update"], upsert=a.get("upsert", False)))

    def _collection_updateMany(self, coll: Collection, args: Mapping[str, Any]) -> dict:
        a = _take(args, {"filter", "update", "upsert"}, "updateMany")
        return summarize(coll.update_many(a["filter"], a["update"], upsert=a.get("upsert", False)))

    def _collection_replaceOne(self, coll: Collection, args: Mapping[str, Any]) -> dict:
        a = _take(args, {"filter", "replacement", "upsert"}, "replaceOne")
        return summarize(coll.replace_one(a["filter"], a["replacement"], upsert=a.get("upsert", False)))

    def _collection_bulkWrite(self, coll: Collection, args: Mapping[str, Any]) -> dict:
        a = _take(args, {"requests", "ordered"}, "bulkWrite")
        return summarize(coll.bulk_write([_bulk_request(r) for r in a["requests"]],
                                         ordered=a.get("ordered", True)))


def _bulk_request(request: Mapping[str, Any]) -> Any:
    (kind, a), = request.items()
    if kind == "insertOne":
        return InsertOne(_take(a, {"document"}, kind)["document"])
    if kind == "deleteOne":
        return DeleteOne(_take(a, {"filter"}, kind)["filter"])
    if kind == "deleteMany":
        return DeleteMany(_take(a, {"filter"}, kind)["filter"])
    if kind in ("updateOne", "updateMany"):
        a = _take(a, {"filter", "update", "upsert"}, kind)
        cls = UpdateOne if kind == "updateOne" else UpdateMany
        return cls(a["filter"], a["update"], upsert=a.get("upsert", False))
    if kind == "replaceOne":
        a = _take(a, {"filter", "replacement", "upsert"}, kind)
        return ReplaceOne(a["filter"], a["replacement"], upsert=a.get("upsert", False))
    raise UnsupportedError(f"bulkWrite request {kind}")


def summarize(result: Any) -> dict[str, Any]:
    """A CRUD result as the unified format's result document."""
    if isinstance(result, InsertOneResult):
        return {"insertedId": result.inserted_id}
    if isinstance(result, InsertManyResult):
        return {"insertedIds": {str(i): v for i, v in enumerate(result.inserted_ids)}}
    if isinstance(result, DeleteResult):
        return {"deletedCount": result.deleted_count}
    if isinstance(result, UpdateResult):
        summary = {"matchedCount": result.matched_count, "modifiedCount": result.modified_count,
                   "upsertedCount": 1 if result.upserted_id is not None else 0}
        if result.upserted_id is not None:
            summary["upsertedId"] = result.upserted_id
        return summary
    if isinstance(result, BulkWriteResult):
        return {"deletedCount": result.deleted_count, "insertedCount": result.inserted_count,
                "matchedCount": result.matched_count, "modifiedCount": result.modified_count,
                "upsertedCount": result.upserted_count,
                "upsertedIds": {str(k): v for k, v in result.upserted_ids.items()}}
    raise UnsupportedError(f"result type {type(result).__name__}")


__all__ = ["ASCENDING", "Entities", "EventRecorder", "IGNORED_COMMANDS", "UnsupportedError", "summarize"]
