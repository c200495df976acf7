import BSON
import Query
import Storage

/// `count`: the number of matching documents (after `skip` and `limit`).
public enum CountCommand: CommandHandler {
    public static let names = ["count"]
    public static let help = "Counts documents."
    public static let parameters = ParameterSpec(
        optional: ["query", "skip", "limit", "hint"], ignored: ["readConcern", "fields", "comment"], unimplemented: ["collation"])

    public static func run(_ request: CommandRequest, context: CommandContext) async throws -> BSONDocument {
        let namespace = try request.namespace()
        let filter = try Filter(request.document("query") ?? BSONDocument())
        let (skip, limit) = try CountCommand.skipAndLimit(request.body)
        let n = try await context.storage.count(FindQuery(
            namespace: namespace, filter: filter, skip: skip, limit: limit, hint: try IndexTarget.parseHint(request.body["hint"])))
        return ["n": .int32(Int32(clamping: n))]
    }

    /// count's own parsing (mongod's `countParseSkip`/`countParseLimit`): a negative limit means
    /// the same as its magnitude, except `Int64.min`, which has none; a negative skip is refused.
    static func skipAndLimit(_ body: BSONDocument) throws(CommandError) -> (skip: Int, limit: Int) {
        var skip: Int64 = 0
        if let v = body["skip"], v != .null {
            guard let n = ClientNumbers.saturatingInt64(v) else { throw CommandError(.badValue, "skip value is not a valid number") }
            guard n >= 0 else { throw CommandError(.badValue, "skip value is negative in count query") }
            skip = n
        }
        var limit: Int64 = 0
        if let v = body["limit"], v != .null {
            guard let n = ClientNumbers.saturatingInt64(v) else { throw CommandError(.badValue, "limit value is not a valid number") }
            guard let m = ClientNumbers.magnitude(n) else { throw CommandError(.badValue, "limit value for count cannot be min long") }
            limit = m
        }
        return (Int(skip), Int(limit))
    }
}

/// `distinct`: the distinct values of a field among matching documents (array values unwound),
/// in MongoDB's sort order.
public enum DistinctCommand: CommandHandler {
    public static let names = ["distinct"]
    public static let help = "Lists the distinct values of a field."
    public static let parameters = ParameterSpec(
        required: ["key"], optional: ["query", "hint"], ignored: ["readConcern", "comment"], unimplemented: ["collation"])

    public static func run(_ request: CommandRequest, context: CommandContext) async throws -> BSONDocument {
        let namespace = try request.namespace()
        guard let key = try request.string("key") else { throw CommandError.missingField("key", in: "distinct") }
        let filter = try Filter(request.document("query") ?? BSONDocument())
        let cursor = try await context.storage.find(FindQuery(namespace: namespace, filter: filter))
        var values: [BSONValue] = []
        var seen = Set<[UInt8]>()
        do {
            while true {
                let batch = try await cursor.nextBatch(maxCount: 1000, maxBytes: CursorBatch.maxReplyBytes)
                if batch.isEmpty { break }
                for doc in batch {
                    for v in FieldPath(key).distinctValues(in: doc) where seen.insert(IndexKeyEncoder.encode(v)).inserted {
                        values.append(v)
                    }
                }
            }
        } catch {
            await cursor.close()
            throw error
        }
        await cursor.close()
        values.sort { compareBSON($0, $1) < 0 }
        return ["values": .array(values)]
    }
}
