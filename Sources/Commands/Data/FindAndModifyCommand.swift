import BSON
import Query
import Storage

/// `findAndModify`: finds one document (the first in `sort` order) and updates, replaces or
/// removes it atomically, returning it as it was before or (`new: true`) after.
///
/// `fields` projects the returned document. Pipeline-style updates, `arrayFilters` and
/// `collation` answer NotImplemented; `bypassDocumentValidation`, `writeConcern`, `hint` and
/// `let` are accepted and have no effect.
public enum FindAndModifyCommand: CommandHandler {
    public static let names = ["findAndModify", "findandmodify"]
    public static let help = "Atomically modifies and returns a single document."
    public static let parameters = ParameterSpec(
        optional: ["query", "sort", "remove", "update", "new", "fields", "upsert", "bypassEmptyTsReplacement"],
        ignored: ["bypassDocumentValidation", "writeConcern", "hint", "let", "maxTimeMS", "comment"],
        unimplemented: ["arrayFilters", "collation"])

    public static func run(_ request: CommandRequest, context: CommandContext) async throws -> BSONDocument {
        let namespace = try request.writableNamespace()
        let query = try request.document("query") ?? BSONDocument()
        let sort = try request.document("sort").flatMap { $0.isEmpty ? nil : try SortSpec($0) }
        let remove = try request.bool("remove", default: false)
        let returnNew = try request.bool("new", default: false)
        let upsert = try request.bool("upsert", default: false)
        let fields = try request.document("fields").flatMap { $0.isEmpty ? nil : try Projection($0) }

        var update: UpdateSpec?
        switch request.body["update"] {
        case nil, .null?:
            update = nil
        case .document(let d)?:
            if remove { throw CommandError(.failedToParse, "Cannot specify both an update and remove=true") }
            update = try UpdateSpec(d)
            if !(try request.bool("bypassEmptyTsReplacement", default: false)) {
                update = try update?.replacingEmptyTimestamps()
            }
        case .array?:
            if remove { throw CommandError(.failedToParse, "Cannot specify both an update and remove=true") }
            throw CommandError(.notImplemented, "\(request.name): pipeline-style updates are not implemented yet")
        case let other?:
            throw CommandError.wrongType("update", in: request.name, expected: "object", got: other.type)
        }
        if !remove && update == nil {
            throw CommandError(.failedToParse, "Either an update or remove=true must be specified")
        }
        if remove && returnNew {
            throw CommandError(.failedToParse, "Cannot specify both new=true and remove=true; 'remove' always returns the deleted document")
        }
        if remove && upsert {
            throw CommandError(.failedToParse, "Cannot specify both upsert=true and remove=true")
        }

        let operation = FindAndModifyOperation(
            filter: try Filter(query), sort: sort, remove: remove, update: update, returnNew: returnNew, upsert: upsert)
        let result = try await context.storage.findAndModify(operation, in: namespace)

        var lastError: BSONDocument = ["n": .int32(Int32(clamping: result.n))]
        if !remove {
            lastError.append("updatedExisting", .bool(result.updatedExisting))
            if let id = result.upsertedId { lastError.append("upserted", id) }
        }
        let value: BSONValue = try result.value.map { doc throws(QueryError) in .document(try fields?.apply(to: doc) ?? doc) } ?? .null
        return ["lastErrorObject": .document(lastError), "value": value]
    }
}
