import BSON
import Query
import Storage

/// `find`: queries a collection and opens a cursor over the results.
public enum FindCommand: CommandHandler {
    public static let names = ["find"]
    public static let help = "Queries a collection."
    public static let parameters = ParameterSpec(
        optional: ["filter", "projection", "sort", "skip", "limit", "batchSize", "singleBatch", "noCursorTimeout", "hint"],
        ignored: ["let", "readConcern", "allowPartialResults", "allowDiskUse", "returnKey", "showRecordId",
                  "awaitData", "tailable", "oplogReplay", "readOnce", "maxTimeMS", "comment", "min", "max"],
        unimplemented: ["collation"])

    public static func run(_ request: CommandRequest, context: CommandContext) async throws -> BSONDocument {
        try await outcome(request, context: context).fullReply()
    }

    /// The reply; on GridFS chunks, when the request allows it, with the batch deferred.
    public static func outcome(_ request: CommandRequest, context: CommandContext) async throws -> CommandOutcome {
        let namespace = try request.namespace()
        let filter = try Filter(request.document("filter") ?? BSONDocument())
        let sort = try request.document("sort").flatMap { $0.isEmpty ? nil : try SortSpec($0) }
        let projection = try request.document("projection").flatMap { $0.isEmpty ? nil : try Projection($0) }
        // Drivers send a negative limit as `limit` plus `singleBatch`; mongod's IDL refuses
        // negative values (51024) rather than negating them (which traps on Int64.min).
        let skip = Int(try ClientNumbers.nonNegative(request.body["skip"], field: "skip", path: "find.skip") ?? 0)
        let limit = Int(try ClientNumbers.nonNegative(request.body["limit"], field: "limit", path: "find.limit") ?? 0)
        let singleBatch = try request.bool("singleBatch", default: false)
        let batchSize = try ClientNumbers.nonNegative(request.body["batchSize"], field: "batchSize", path: "find.batchSize").map { Int($0) }
        let hint = try IndexTarget.parseHint(request.body["hint"])

        var query = FindQuery(namespace: namespace, filter: filter, sort: sort, skip: skip, limit: limit, hint: hint)
        var count = batchSize ?? CursorBatch.defaultFirstBatchCount
        if limit > 0 { count = min(count, limit) }
        query.firstBatch = BatchLimits(count: count, bytes: CursorBatch.firstBatchBytes(namespace))
        let cursor = try await context.storage.find(query)
        let noTimeout = try request.bool("noCursorTimeout", default: false)
        let bytes = min(CursorBatch.firstBatchBytes(namespace), request.firstBatchBytesLimit ?? Int.max)
        if let (batch, exhausted) = try await CursorBatch.fetchDeferred(
            from: cursor, count: count, bytes: bytes, projection: projection, request: request) {
            let id = await keep(cursor, exhausted: exhausted || singleBatch, namespace: namespace, request: request,
                                context: context, noTimeout: noTimeout, projection: projection)
            return CursorBatch.deferredOutcome(batch, id: id, namespace: namespace, first: true)
        }
        let (docs, exhausted) = try await CursorBatch.fetch(
            from: cursor, count: count, bytes: bytes, projection: projection)
        let id = await keep(cursor, exhausted: exhausted || singleBatch, namespace: namespace, request: request,
                            context: context, noTimeout: noTimeout, projection: projection)
        return CommandOutcome(reply: CursorBatch.reply(docs, id: id, namespace: namespace, first: true))
    }

    /// Closes the cursor when it is done, else registers it for getMore; returns the cursor id (0: done).
    private static func keep(
        _ cursor: any DocumentCursor, exhausted: Bool, namespace: Namespace, request: CommandRequest,
        context: CommandContext, noTimeout: Bool, projection: Projection?
    ) async -> Int64 {
        if exhausted {
            await cursor.close()
            return 0
        }
        return await context.cursors.register(
            cursor, namespace: namespace, connectionId: context.connection.id, session: request.body["lsid"],
            noTimeout: noTimeout, projection: projection)
    }
}
