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

    /// The namespace a `getMore`/`killCursors` names: a collection, or one of the pseudo
    /// collections of mongod's listing cursors, `$cmd.listCollections` and
    /// `$cmd.listIndexes.<collection>`.
    static func cursorNamespace(_ database: String, _ collection: String) throws(CommandError) -> Namespace {
        if collection == "$cmd.listCollections" {
            try Namespace.checkDatabaseName(database)
            return Namespace(unchecked: database, collection)
        }
        if collection.hasPrefix("$cmd.listIndexes.") {
            let target = String(collection.dropFirst("$cmd.listIndexes.".count))
            _ = try Namespace.checked(database, target)
            return Namespace(unchecked: database, collection)
        }
        return try Namespace.checked(database, collection)
    }
}

extension CommandRequest {
    /// The namespace named by the command's first field and `$db`.
    public func namespace() throws(CommandError) -> Namespace {
        try Namespace.checked(database, collectionName())
    }

    /// The namespace of a write: as ``namespace()``, but `system.*` collections are MongoDB's own
    /// and refuse client writes (73 `InvalidNamespace`), and a write may create the collection,
    /// so the name must fit mongod's 255-byte limit.
    public func writableNamespace() throws(CommandError) -> Namespace {
        let ns = try namespace()
        guard !ns.collection.hasPrefix("system.") else {
            throw CommandError(.invalidNamespace, "cannot write to '\(ns)'")
        }
        try Namespace.checkLength(ns)
        return ns
    }

    /// The namespace of `create`/`createIndexes`: no `system.*` collections (the ones a client
    /// may not write either) and at most 255 bytes, as mongod's `userAllowedCreateNS`.
    public func creatableNamespace() throws(CommandError) -> Namespace {
        let ns = try namespace()
        guard !ns.collection.hasPrefix("system.") else {
            throw CommandError(.invalidNamespace, "Invalid system namespace: \(ns)")
        }
        try Namespace.checkLength(ns)
        return ns
    }
}

extension Namespace {
    /// mongod's `MaxNsCollectionLen`: the longest `db.collection`, in bytes.
    public static let maxLength = 255

    /// 73 when `db.collection` is longer than ``maxLength`` bytes.
    static func checkLength(_ ns: Namespace) throws(CommandError) {
        let length = ns.database.utf8.count + 1 + ns.collection.utf8.count
        guard length <= maxLength else {
            throw CommandError(.invalidNamespace, "Fully qualified namespace is too long. Namespace: \(ns) Max: \(maxLength)")
        }
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
