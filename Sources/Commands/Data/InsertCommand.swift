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
        guard documents.count <= Int(ServerEnvironment.maxWriteBatchSize) else {
            throw CommandError(code: 16, codeName: "InvalidLength", message: "Write batch sizes must be between 1 and 100000. Got \(documents.count) operations.")
        }
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

    /// Gives a document an `_id` (a new ObjectId, first) when it has none, and checks its size and `_id`.
    static func prepare(_ doc: BSONDocument) throws(CommandError) -> BSONDocument {
        var doc = doc
        if let id = doc["_id"] {
            switch id {
            case .array: throw CommandError(.badValue, "can't use an array for _id")
            case .regex: throw CommandError(.badValue, "can't use a regex for _id")
            case .undefined: throw CommandError(.badValue, "can't use a undefined for _id")
            default: break
            }
        } else {
            doc = doc.prepending("_id", .objectId(ObjectId()))
        }
        guard doc.bytes.count <= Int(ServerEnvironment.maxBsonObjectSize) else {
            throw CommandError(.bsonObjectTooLarge, "object to insert too large. size in bytes: \(doc.bytes.count), max size: \(ServerEnvironment.maxBsonObjectSize)")
        }
        return doc
    }
}
