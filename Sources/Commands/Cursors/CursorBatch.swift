import BSON
import Query
import Storage

/// Shapes cursor replies (`{cursor: {firstBatch|nextBatch, id, ns}}`) and sizes batches.
public enum CursorBatch {
    /// Documents in a first batch when the client names no `batchSize` (mongod's default).
    public static let defaultFirstBatchCount = 101
    /// Bytes of documents in one reply at most, keeping replies under 16 MiB plus overhead.
    public static let maxReplyBytes = 16 * 1024 * 1024 - 16 * 1024
    /// Bytes per getMore batch when the client names no `batchSize`: pymongo downloads fastest
    /// with 4–8 MiB batches (measured; see ../shared/notes/wire-facts.md).
    public static let defaultGetMoreBytes = 8 * 1024 * 1024

    /// Bytes of a `find`'s first batch: on GridFS chunks the getMore size (the first batch of a
    /// download is as large as the next ones, so a 16 MiB first reply does not set the peak), elsewhere
    /// the reply limit (mongod's 101 documents usually stop it first).
    public static func firstBatchBytes(_ namespace: Namespace) -> Int {
        namespace.kind == .gridFSChunks ? defaultGetMoreBytes : maxReplyBytes
    }

    /// Fetches the next batch, applies the projection, and tells whether the cursor is done.
    public static func fetch(
        from cursor: any DocumentCursor, count: Int, bytes: Int, projection: Projection?
    ) async throws -> (documents: [BSONDocument], exhausted: Bool) {
        var docs = count > 0 ? try await cursor.nextBatch(maxCount: count, maxBytes: bytes) : []
        if let projection {
            docs = try docs.map { doc throws(QueryError) in try projection.apply(to: doc) }
        }
        return (docs, await cursor.isExhausted)
    }

    /// The next batch as deferred documents, when the request allows it, there is no projection,
    /// and the cursor can defer (GridFS chunks on SQLite); nil otherwise (use ``fetch``).
    public static func fetchDeferred(
        from cursor: any DocumentCursor, count: Int, bytes: Int, projection: Projection?, request: CommandRequest
    ) async throws -> (batch: DeferredBatch, exhausted: Bool)? {
        guard request.allowsDeferredBatches, projection == nil, count > 0,
              let batch = try await cursor.nextDeferredBatch(maxCount: count, maxBytes: bytes) else { return nil }
        return (batch, await cursor.isExhausted)
    }

    /// The outcome of a deferred batch: the reply with an empty batch array, and the batch.
    public static func deferredOutcome(_ batch: DeferredBatch, id: Int64, namespace: Namespace, first: Bool) -> CommandOutcome {
        CommandOutcome(reply: reply([], id: id, namespace: namespace, first: first), deferredBatch: batch)
    }

    /// The first batch of a listing already in memory (`listCollections`, `listIndexes`): at
    /// most `batchSize` documents (all of them when nil, as mongod) within the reply byte limit.
    /// What is left stays in a cursor registered for `getMore` under `namespace`, owned by the
    /// requesting connection and session like any other cursor.
    public static func firstBatch(
        of docs: [BSONDocument], batchSize: Int?, namespace: Namespace,
        request: CommandRequest, context: CommandContext
    ) async throws -> BSONDocument {
        let cursor = ArrayCursor(docs)
        let (batch, exhausted) = try await fetch(
            from: cursor, count: batchSize ?? Int.max, bytes: maxReplyBytes, projection: nil)
        var id: Int64 = 0
        if exhausted {
            await cursor.close()
        } else {
            id = await context.cursors.register(
                cursor, namespace: namespace, connectionId: context.connection.id,
                session: request.body["lsid"], noTimeout: false, projection: nil)
        }
        return reply(batch, id: id, namespace: namespace, first: true)
    }

    /// The reply document for a batch.
    /// Written in one pass into one buffer: a batch of many megabytes is copied once here.
    public static func reply(_ docs: [BSONDocument], id: Int64, namespace: Namespace, first: Bool) -> BSONDocument {
        var w = BSONWriter(capacity: docs.reduce(128) { $0 + $1.bytes.count + 8 })
        w.beginDocument("cursor")
        w.beginArray(first ? "firstBatch" : "nextBatch")
        for doc in docs { w.append("", document: doc) }
        w.end()
        w.append("id", .int64(id))
        w.append("ns", .string(namespace.description))
        w.end()
        return w.finish()
    }
}
