import BSON
import Query
import Storage

/// `delete`: removes the first match (`limit: 1`) or every match (`limit: 0`) of each statement.
public enum DeleteCommand: CommandHandler {
    public static let names = ["delete"]
    public static let help = "Deletes documents."
    public static let parameters = ParameterSpec(
        required: ["deletes"], optional: ["ordered"], ignored: ["writeConcern", "let", "comment"])

    public static func run(_ request: CommandRequest, context: CommandContext) async throws -> BSONDocument {
        let namespace = try request.writableNamespace()
        let statements = try request.documents("deletes")
        try WriteReply.checkBatchSize(statements.count)
        let ordered = try request.bool("ordered", default: true)
        let checked = WriteReply.prevalidate(statements, ordered: ordered) { doc throws in
            try DeleteCommand.parse(doc)
        }
        var result = DeleteResult()
        if !checked.valid.isEmpty {
            result = try await context.storage.delete(checked.valid.map(\.value), in: namespace, ordered: ordered)
        }
        var errors = checked.errors + WriteReply.remap(result.writeErrors, positions: checked.valid.map(\.index))
        if ordered, let first = errors.map(\.index).min() {
            errors = errors.filter { $0.index == first }
        }
        var reply: BSONDocument = ["n": .int32(Int32(clamping: result.deleted))]
        if !errors.isEmpty { reply.append("writeErrors", WriteReply.errors(errors)) }
        return reply
    }

    /// Parses one `{q, limit}` statement.
    static func parse(_ doc: BSONDocument) throws -> DeleteStatement {
        guard case .document(let q)? = doc["q"] else {
            throw CommandError(.failedToParse, "BSON field 'delete.deletes.q' is missing but a required field")
        }
        guard let limitValue = doc["limit"] else {
            throw CommandError(.failedToParse, "BSON field 'delete.deletes.limit' is missing but a required field")
        }
        guard let limit = limitValue.intValue, limit == 0 || limit == 1 else {
            throw CommandError(.failedToParse, "The limit field in delete objects must be 0 or 1. Got \(limitValue)")
        }
        if let c = doc["collation"], c != .null {
            throw CommandError(.notImplemented, "delete: support for field 'collation' is not implemented yet")
        }
        return DeleteStatement(filter: try Filter(q), limit: limit)
    }
}
