import BSON
import Storage

/// `insert`: adds documents, from the body or a kind-1 `documents` sequence.
public enum InsertCommand: CommandHandler {
    public static let names = ["insert"]
    public static let help = "Inserts documents."
    public static let parameters = ParameterSpec(
        required: ["documents"], optional: ["ordered"],
        ignored: ["bypassDocumentValidation", "writeConcern", "let", "comment"])

    public static func run(_ request: CommandRequest, context: CommandContext) async throws -> BSONDocument {
        let namespace = try request.writableNamespace()
        let documents = try request.documents("documents")
        let ordered = try request.bool("ordered", default: true)
        try WriteReply.checkBatchSize(documents.count)
        let checked = WriteReply.prevalidate(documents, ordered: ordered) { doc throws(CommandError) in
            try InsertCommand.prepare(doc)
        }
        var result = InsertResult(inserted: 0, writeErrors: [])
        if !checked.valid.isEmpty {
            result = try await context.storage.insert(checked.valid.map(\.value), into: namespace, ordered: ordered)
        }
        ServerCounters.bump(context.environment.counters.inserts, by: result.inserted)
        var errors = checked.errors + WriteReply.remap(result.writeErrors, positions: checked.valid.map(\.index))
        if ordered, let first = errors.map(\.index).min() {
            errors = errors.filter { $0.index == first }
        }
        var reply: BSONDocument = ["n": .int32(Int32(clamping: result.inserted))]
        if !errors.isEmpty { reply.append("writeErrors", WriteReply.errors(errors)) }
        return reply
    }

    /// mongod's `fixDocumentForInsert`: checks the size (2), the nesting depth (15 `Overflow`)
    /// and `_id` (no array/regex/undefined, no `$`-prefixed fields inside it (52), only one),
    /// then puts `_id` first, generating an ObjectId when there is none.
    static func prepare(_ doc: BSONDocument) throws(CommandError) -> BSONDocument {
        guard doc.bytes.count <= Int(ServerEnvironment.maxBsonObjectSize) else {
            throw CommandError(.badValue, "object to insert too large. size in bytes: \(doc.bytes.count), max size: \(ServerEnvironment.maxBsonObjectSize)")
        }
        guard doc.storageDepth <= BSONDocument.maxStorageDepth else {
            throw CommandError(code: 15, codeName: "Overflow", message: "cannot insert document because it exceeds \(BSONDocument.maxStorageDepth) levels of nesting")
        }
        var id: BSONElement?
        var idIsFirst = false
        var first = true
        for e in doc.elements {
            defer { first = false }
            guard e.key == "_id" else { continue }
            try checkId(e.value)
            guard id == nil else { throw CommandError(.badValue, "can't have multiple _id fields in one document") }
            id = e
            idIsFirst = first
        }
        if idIsFirst { return doc }
        var out = BSONDocument()
        if let id { out.append(raw: id) } else { out.append("_id", .objectId(ObjectId())) }
        for e in doc.elements where e.key != "_id" { out.append(raw: e) }
        guard out.bytes.count <= Int(ServerEnvironment.maxBsonObjectSize) else {
            throw CommandError(.badValue, "object to insert too large. size in bytes: \(out.bytes.count), max size: \(ServerEnvironment.maxBsonObjectSize)")
        }
        return out
    }

    /// mongod's `storageValidIdField`.
    static func checkId(_ id: BSONValue) throws(CommandError) {
        switch id {
        case .array: throw CommandError(.badValue, "can't use an array for _id")
        case .regex: throw CommandError(.badValue, "can't use a regex for _id")
        case .undefined: throw CommandError(.badValue, "can't use a undefined for _id")
        case .document(let d):
            if let key = d.keys.first(where: { $0.hasPrefix("$") }) {
                throw CommandError(code: 52, codeName: "DollarPrefixedFieldName",
                                   message: "_id fields may not contain '$'-prefixed fields: \(key) is not valid for storage.")
            }
        default: break
        }
    }
}
