import BSON
import Query
import Storage

/// `insert`: adds documents, from the body or a kind-1 `documents` sequence.
public enum InsertCommand: CommandHandler {
    public static let names = ["insert"]
    public static let help = "Inserts documents."
    public static let parameters = ParameterSpec(
        required: ["documents"], optional: ["ordered", "bypassEmptyTsReplacement"],
        ignored: ["bypassDocumentValidation", "writeConcern", "let", "comment"])

    public static func run(_ request: CommandRequest, context: CommandContext) async throws -> BSONDocument {
        let namespace = try request.writableNamespace()
        let documents = try request.documents("documents")
        let ordered = try request.bool("ordered", default: true)
        let keepEmptyTimestamps = try request.bool("bypassEmptyTsReplacement", default: false)
        try WriteReply.checkBatchSize(documents.count)
        let checked = WriteReply.prevalidate(documents, ordered: ordered) { doc throws(CommandError) in
            try InsertCommand.prepare(doc, replacingEmptyTimestamps: !keepEmptyTimestamps)
        }
        var result = InsertResult(inserted: 0, writeErrors: [])
        if !checked.valid.isEmpty {
            result = try await context.storage.insert(checked.valid.map(\.value), into: namespace, ordered: ordered)
        }
        var errors = checked.errors + WriteReply.remap(result.writeErrors, positions: checked.valid.map(\.index))
        if ordered, let first = errors.map(\.index).min() {
            errors = errors.filter { $0.index == first }
        }
        var reply: BSONDocument = ["n": .int32(Int32(clamping: result.inserted))]
        if !errors.isEmpty { reply.append("writeErrors", WriteReply.errors(errors)) }
        return reply
    }

    /// mongod's `fixDocumentForInsert`: checks the size (2), the nesting depth (15 `Overflow`)
    /// and `_id` (no array/regex/undefined (53), no `$`-prefixed fields inside it (52), only one
    /// (2)), then puts `_id` first, generating an ObjectId when there is none, and gives every
    /// top-level `Timestamp(0, 0)` other than `_id` the next cluster time (unless the command
    /// says `bypassEmptyTsReplacement: true`).
    static func prepare(_ doc: BSONDocument, replacingEmptyTimestamps: Bool = true) throws(CommandError) -> BSONDocument {
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
            do {
                try StorableId.check(e.value)
            } catch {
                throw CommandError(code: error.code, codeName: error.codeName, message: error.message)
            }
            guard id == nil else { throw CommandError(.badValue, "can't have multiple _id fields in one document") }
            id = e
            idIsFirst = first
        }
        let fixed = replacingEmptyTimestamps ? LogicalClock.replacingEmptyTimestamps(in: doc) : nil
        if idIsFirst && fixed == nil { return doc }
        let source = fixed ?? doc
        var out = BSONDocument()
        if let id { out.append(raw: id) } else { out.append("_id", .objectId(ObjectId())) }
        for e in source.elements where e.key != "_id" { out.append(raw: e) }
        guard out.bytes.count <= Int(ServerEnvironment.maxBsonObjectSize) else {
            throw CommandError(.badValue, "object to insert too large. size in bytes: \(out.bytes.count), max size: \(ServerEnvironment.maxBsonObjectSize)")
        }
        return out
    }
}
