import BSON
import Query
import Storage

extension QueryError: MongoCodedError {
    public var mongoCode: Int32 { code }
    public var mongoCodeName: String { codeName }
    public var mongoMessage: String { message }
}

extension Namespace {
    /// A namespace from a database and collection name, with naming errors as command errors.
    static func checked(_ database: String, _ collection: String) throws(CommandError) -> Namespace {
        try Namespace(database: database, collection: collection)
    }
}

extension CommandRequest {
    /// The namespace named by the command's first field and `$db`.
    public func namespace() throws(CommandError) -> Namespace {
        try Namespace.checked(database, collectionName())
    }

    /// The namespace of a write: as ``namespace()``, but `system.*` collections are MongoDB's own
    /// and refuse client writes (73 `InvalidNamespace`).
    public func writableNamespace() throws(CommandError) -> Namespace {
        let ns = try namespace()
        guard !ns.collection.hasPrefix("system.") else {
            throw CommandError(.invalidNamespace, "cannot write to '\(ns)'")
        }
        return ns
    }
}

extension IndexTarget {
    /// Parses a `hint`: an index name or a key pattern; nil when absent.
    static func parseHint(_ value: BSONValue?) throws(CommandError) -> IndexTarget? {
        switch value {
        case nil, .null?: return nil
        case .string(let name)?: return .name(name)
        case .document(let key)?: return key.isEmpty ? nil : .key(key)
        case let other?: throw CommandError(.failedToParse, "hint must be a string or an object, not \(other.type.alias)")
        }
    }
}
