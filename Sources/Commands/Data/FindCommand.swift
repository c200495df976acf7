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
        let namespace = try request.namespace()
        let filter = try Filter(request.document("filter") ?? BSONDocument())
        let sort = try request.document("sort").flatMap { $0.isEmpty ? nil : try SortSpec($0) }
        let projection = try request.document("projection").flatMap { $0.isEmpty ? nil : try Projection($0) }
        let skip = try request.int("skip") ?? 0
        guard skip >= 0 else { throw CommandError(.badValue, "BSON field 'skip' value must be >= 0, actual value '\(skip)'") }
        var limit = try request.int("limit") ?? 0
        var singleBatch = try request.bool("singleBatch", default: false)
        if limit < 0 {
            limit = -limit
            singleBatch = true
        }
        let batchSize = try request.int("batchSize")
        if let batchSize, batchSize < 0 {
            throw CommandError(.badValue, "BSON field 'batchSize' value must be >= 0, actual value '\(batchSize)'")
        }
        let hint = try IndexTarget.parseHint(request.body["hint"])
        ServerCounters.bump(context.environment.counters.queries)

        let query = FindQuery(namespace: namespace, filter: filter, sort: sort, skip: skip, limit: limit, hint: hint)
        let cursor = try await context.storage.find(query)
        var count = batchSize ?? CursorBatch.defaultFirstBatchCount
        if limit > 0 { count = min(count, limit) }
        let (docs, exhausted) = try await CursorBatch.fetch(
            from: cursor, count: count, bytes: CursorBatch.maxReplyBytes, projection: projection)
        var id: Int64 = 0
        if exhausted || singleBatch {
            await cursor.close()
        } else {
            id = await context.cursors.register(
                cursor, namespace: namespace, connectionId: context.connection.id, session: request.body["lsid"],
                noTimeout: try request.bool("noCursorTimeout", default: false), projection: projection)
        }
        return CursorBatch.reply(docs, id: id, namespace: namespace, first: true)
    }
}
