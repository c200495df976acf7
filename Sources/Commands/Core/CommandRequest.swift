import BSON

/// One command as a handler sees it: the body, any kind-1 document sequences, and the database.
/// It knows nothing of the opcode that carried it.
public struct CommandRequest: Sendable {
    /// The command name as sent (the body's first key).
    public let name: String
    /// The command body (kind-0 section, or the OP_QUERY document unwrapped from `$query`).
    public let body: BSONDocument
    /// Kind-1 document sequences by identifier (`documents`, `updates`, `deletes`).
    public let sequences: [String: [BSONDocument]]
    /// The target database (`$db`, or the database of `<db>.$cmd` for OP_QUERY).
    public let database: String
    /// Whether the caller writes cursor batches itself (``CommandOutcome/deferredBatch``): set by
    /// the wire server for OP_MSG requests, so `find`/`getMore` on GridFS chunks may hand out
    /// deferred documents instead of a finished reply. Off for everything else (in-process callers
    /// get whole reply documents).
    public var allowsDeferredBatches = false
    /// A lower cap on the bytes of a `find`'s first batch, set by the wire server when it answers
    /// the request on its event loop (short work only: the rest of the results come by `getMore`,
    /// which runs where blocking is allowed). nil: the usual cap (``CursorBatch/firstBatchBytes(_:)``).
    public var firstBatchBytesLimit: Int?

    /// Creates a request; `name` is the body's first key.
    public init(body: BSONDocument, sequences: [String: [BSONDocument]] = [:], database: String) throws(CommandError) {
        guard let first = body.elements.first(where: { _ in true }) else {
            throw CommandError(.failedToParse, "Empty command object")
        }
        self.name = first.key
        self.body = body
        self.sequences = sequences
        self.database = database
    }

    /// The database of an OP_MSG command: its `$db` field, which must be a string (mongod's
    /// `OpMsgRequest::getDatabase`: 40571 when missing, 13111 when of another type).
    public static func opMsgDatabase(_ body: BSONDocument) throws(CommandError) -> String {
        guard let value = body["$db"] else {
            throw CommandError(code: 40571, codeName: "Location40571", message: "OP_MSG requests require a $db argument")
        }
        guard case .string(let db) = value else {
            throw CommandError(code: 13111, codeName: "Location13111", message: "wrong type for field ($db) \(value.type.alias) != string")
        }
        return db
    }

    /// The value of the command's first field (e.g. the collection name of `find`).
    public var argument: BSONValue? { body[name] }

    /// The command's first field as a collection name; errors as mongod does when it is not a string.
    public func collectionName() throws(CommandError) -> String {
        guard case .string(let s)? = argument else {
            throw CommandError(.invalidNamespace, "collection name has invalid type \(argument?.type.alias ?? "missing")")
        }
        guard !s.isEmpty else {
            throw CommandError(.invalidNamespace, "Invalid namespace specified '\(database).'")
        }
        return s
    }

    /// An array field that may come inline in the body or as a kind-1 sequence (not both).
    public func documents(_ field: String) throws(CommandError) -> [BSONDocument] {
        let inline = body[field]
        if let seq = sequences[field] {
            if inline != nil {
                throw CommandError(.badValue, "duplicate field '\(field)' in body and document sequence")
            }
            return seq
        }
        switch inline {
        case nil: throw CommandError.missingField(field, in: name)
        case .array(let values)?:
            var out: [BSONDocument] = []
            out.reserveCapacity(values.count)
            for v in values {
                guard case .document(let d) = v else {
                    throw CommandError(.typeMismatch, "BSON field '\(name).\(field)' must be an array of objects")
                }
                out.append(d)
            }
            return out
        case let other?:
            throw CommandError.wrongType(field, in: name, expected: "array", got: other.type)
        }
    }

    /// An optional boolean field (numbers are accepted as MongoDB does).
    public func bool(_ field: String, default value: Bool) throws(CommandError) -> Bool {
        guard let v = body[field] else { return value }
        switch v {
        case .bool(let b): return b
        case .int32, .int64, .double, .decimal128: return v.isTruthy
        case .null: return value
        default: throw CommandError.wrongType(field, in: name, expected: "bool", got: v.type)
        }
    }

    /// An optional integer field (whole doubles accepted).
    public func int(_ field: String) throws(CommandError) -> Int? {
        guard let v = body[field] else { return nil }
        if case .null = v { return nil }
        guard v.isNumber else { throw CommandError.wrongType(field, in: name, expected: "long", got: v.type) }
        guard let i = v.intValue else {
            throw CommandError(.badValue, "BSON field '\(name).\(field)' must be an integer")
        }
        return i
    }

    /// An optional document field.
    public func document(_ field: String) throws(CommandError) -> BSONDocument? {
        guard let v = body[field] else { return nil }
        switch v {
        case .document(let d): return d
        case .null: return nil
        default: throw CommandError.wrongType(field, in: name, expected: "object", got: v.type)
        }
    }

    /// An optional string field.
    public func string(_ field: String) throws(CommandError) -> String? {
        guard let v = body[field] else { return nil }
        switch v {
        case .string(let s): return s
        case .null: return nil
        default: throw CommandError.wrongType(field, in: name, expected: "string", got: v.type)
        }
    }
}
