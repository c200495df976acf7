/// A database and collection name pair, `db.collection` on the wire.
public struct Namespace: Sendable, Hashable, CustomStringConvertible, Comparable {
    /// The database name.
    public let database: String
    /// The collection name (may itself contain dots, e.g. `fs.chunks`).
    public let collection: String

    /// Creates a namespace after checking MongoDB's naming rules.
    public init(database: String, collection: String) throws(StorageError) {
        try Namespace.checkDatabaseName(database)
        try Namespace.checkCollectionName(collection)
        self.database = database
        self.collection = collection
    }

    /// Creates a namespace without checks (for names this process produced).
    public init(unchecked database: String, _ collection: String) {
        self.database = database
        self.collection = collection
    }

    /// `db.collection`.
    public var description: String { "\(database).\(collection)" }

    /// The kind of layout this collection gets.
    public var kind: CollectionKind {
        if collection.hasSuffix(".chunks") && collection.count > ".chunks".count { return .gridFSChunks }
        if collection.hasSuffix(".files") && collection.count > ".files".count { return .gridFSFiles }
        return .plain
    }

    /// The GridFS bucket name for `.files`/`.chunks` collections (`fs` for `fs.files`).
    public var bucketName: String? {
        switch kind {
        case .gridFSChunks: return String(collection.dropLast(".chunks".count))
        case .gridFSFiles: return String(collection.dropLast(".files".count))
        case .plain: return nil
        }
    }

    /// MongoDB's database-name rules: non-empty, under 64 bytes, none of `/\. "$` or NUL.
    public static func checkDatabaseName(_ name: String) throws(StorageError) {
        guard !name.isEmpty else { throw StorageError(.invalidNamespace, "database name cannot be empty") }
        guard name.utf8.count < 64 else {
            throw StorageError(.invalidNamespace, "db name must be at most 63 characters, found: \(name.utf8.count)")
        }
        // Byte checks (every forbidden character is ASCII, and no byte of a multi-byte UTF-8
        // sequence is): these run on every command, and Foundation's substring search cost ~2 %
        // of a small read's CPU.
        if name.utf8.contains(where: { Self.forbiddenInDatabaseName.contains($0) }) {
            throw StorageError(.invalidNamespace, "Invalid database name: '\(name)'")
        }
    }

    private static let forbiddenInDatabaseName: [UInt8] = Array("/\\. \"$\0".utf8)

    /// MongoDB's collection-name rules: non-empty, no NUL, no `$` (except oplog names), not `system.` for clients.
    public static func checkCollectionName(_ name: String) throws(StorageError) {
        guard !name.isEmpty else { throw StorageError(.invalidNamespace, "Invalid namespace specified: collection name is empty") }
        guard !name.utf8.contains(where: { $0 == 0 || $0 == UInt8(ascii: "$") }) else {
            throw StorageError(.invalidNamespace, "Invalid collection name: \(name)")
        }
        guard !name.hasPrefix(".") && !name.hasSuffix(".") else {
            throw StorageError(.invalidNamespace, "Invalid collection name: \(name)")
        }
    }

    public static func < (lhs: Namespace, rhs: Namespace) -> Bool {
        (lhs.database, lhs.collection) < (rhs.database, rhs.collection)
    }
}

/// How a collection is laid out by a backend.
public enum CollectionKind: String, Sendable {
    /// Any document collection.
    case plain
    /// `<bucket>.files`: GridFS file documents.
    case gridFSFiles
    /// `<bucket>.chunks`: GridFS chunk documents, laid out for streaming.
    case gridFSChunks
}

extension Namespace {
    /// Splits `db.collection` at the first dot; nil when either part is missing or invalid.
    public static func parse(_ full: String) -> Namespace? {
        guard let dot = full.firstIndex(of: ".") else { return nil }
        let db = String(full[..<dot])
        let coll = String(full[full.index(after: dot)...])
        return try? Namespace(database: db, collection: coll)
    }
}
