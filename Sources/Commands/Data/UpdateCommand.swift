import BSON
import Query
import Storage

/// `update`: modifies documents with operators or replaces them; supports `multi` and `upsert`.
public enum UpdateCommand: CommandHandler {
    public static let names = ["update"]
    public static let help = "Updates documents."
    public static let parameters = ParameterSpec(
        required: ["updates"], optional: ["ordered", "bypassEmptyTsReplacement"],
        ignored: ["bypassDocumentValidation", "writeConcern", "let", "comment"])

    public static func run(_ request: CommandRequest, context: CommandContext) async throws -> BSONDocument {
        let namespace = try request.writableNamespace()
        let statements = try request.documents("updates")
        try WriteReply.checkBatchSize(statements.count)
        let ordered = try request.bool("ordered", default: true)
        let keepEmptyTimestamps = try request.bool("bypassEmptyTsReplacement", default: false)
        let checked = WriteReply.prevalidate(statements, ordered: ordered) { doc throws in
            try UpdateCommand.parse(doc, replacingEmptyTimestamps: !keepEmptyTimestamps)
        }
        var result = UpdateResult()
        if !checked.valid.isEmpty {
            result = try await context.storage.update(checked.valid.map(\.value), in: namespace, ordered: ordered)
        }
        let positions = checked.valid.map(\.index)
        var errors = checked.errors + WriteReply.remap(result.writeErrors, positions: positions)
        if ordered, let first = errors.map(\.index).min() {
            errors = errors.filter { $0.index == first }
        }
        var reply: BSONDocument = [
            "n": .int32(Int32(clamping: result.matched + result.upserted.count)),
            "nModified": .int32(Int32(clamping: result.modified)),
        ]
        if !result.upserted.isEmpty {
            reply.append("upserted", .array(result.upserted.map { u in
                let index = u.index < positions.count ? positions[u.index] : u.index
                return .document(["index": .int32(Int32(clamping: index)), "_id": u.id])
            }))
        }
        if !errors.isEmpty { reply.append("writeErrors", WriteReply.errors(errors)) }
        return reply
    }

    /// Parses one `{q, u, multi, upsert}` statement. A replacement document's top-level
    /// `Timestamp(0, 0)` fields get the cluster time here, as mongod's replacement executor does
    /// (for a matched document and an upsert alike).
    static func parse(_ doc: BSONDocument, replacingEmptyTimestamps: Bool = true) throws -> UpdateStatement {
        guard case .document(let q)? = doc["q"] else {
            throw CommandError(.failedToParse, "BSON field 'update.updates.q' is missing but a required field")
        }
        var spec: UpdateSpec
        switch doc["u"] {
        case .document(let u)?:
            spec = try UpdateSpec(u)
            if replacingEmptyTimestamps { spec = try spec.replacingEmptyTimestamps() }
        case .array?: throw CommandError(.notImplemented, "update: pipeline-style updates are not implemented yet")
        default: throw CommandError(.failedToParse, "BSON field 'update.updates.u' is missing but a required field")
        }
        for field in ["collation", "arrayFilters"] {
            if let v = doc[field], v != .null {
                throw CommandError(.notImplemented, "update: support for field '\(field)' is not implemented yet")
            }
        }
        let multi = doc["multi"]?.isTruthy ?? false
        if multi && spec.isReplacement {
            throw CommandError(.failedToParse, "multi update is not supported for replacement-style update")
        }
        return UpdateStatement(filter: try Filter(q), update: spec, multi: multi, upsert: doc["upsert"]?.isTruthy ?? false)
    }
}
