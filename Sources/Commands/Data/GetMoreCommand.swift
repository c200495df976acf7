import BSON
import Storage

/// `getMore`: the next batch of an open cursor.
public enum GetMoreCommand: CommandHandler {
    public static let names = ["getMore"]
    public static let help = "Returns the next batch of a cursor."
    public static let parameters = ParameterSpec(
        required: ["collection"], optional: ["batchSize"], ignored: ["maxTimeMS", "term", "lastKnownCommittedOpTime", "comment"])

    public static func run(_ request: CommandRequest, context: CommandContext) async throws -> BSONDocument {
        try await outcome(request, context: context).fullReply()
    }

    /// The reply; on GridFS chunks, when the request allows it, with the batch deferred.
    public static func outcome(_ request: CommandRequest, context: CommandContext) async throws -> CommandOutcome {
        guard case .int64(let id)? = request.argument else {
            throw CommandError.wrongType("getMore", in: "getMore", expected: "long", got: request.argument?.type ?? .null)
        }
        guard let collection = try request.string("collection") else { throw CommandError.missingField("collection", in: "getMore") }
        let namespace = try Namespace.cursorNamespace(request.database, collection)
        let batchSize = try ClientNumbers.nonNegative(request.body["batchSize"], field: "batchSize", path: "getMore.batchSize").map { Int($0) }
        let lease = try await context.cursors.checkOut(id: id, namespace: namespace, session: request.body["lsid"])
        let count = batchSize.flatMap { $0 > 0 ? $0 : nil } ?? Int.max
        let bytes = batchSize == nil ? CursorBatch.defaultGetMoreBytes : CursorBatch.maxReplyBytes
        do {
            if let (batch, exhausted) = try await CursorBatch.fetchDeferred(
                from: lease.cursor, count: count, bytes: bytes, projection: lease.projection, request: request) {
                await context.cursors.checkIn(id: id, exhausted: exhausted)
                return CursorBatch.deferredOutcome(batch, id: exhausted ? 0 : id, namespace: namespace, first: false)
            }
            let (docs, exhausted) = try await CursorBatch.fetch(
                from: lease.cursor, count: count, bytes: bytes, projection: lease.projection)
            await context.cursors.checkIn(id: id, exhausted: exhausted)
            return CommandOutcome(reply: CursorBatch.reply(docs, id: exhausted ? 0 : id, namespace: namespace, first: false))
        } catch {
            await context.cursors.checkIn(id: id, exhausted: true)
            throw error
        }
    }
}
