import BSON

/// One database in `listDatabases`.
public struct DatabaseInfo: Sendable {
    /// The name.
    public var name: String
    /// Bytes used on disk by its collections and indexes.
    public var sizeOnDisk: Int64
    /// True when it has no documents.
    public var empty: Bool

    /// Creates a record.
    public init(name: String, sizeOnDisk: Int64, empty: Bool) {
        self.name = name
        self.sizeOnDisk = sizeOnDisk
        self.empty = empty
    }
}

/// One collection in `listCollections`.
public struct CollectionInfo: Sendable {
    /// The name.
    public var name: String
    /// Options given at creation.
    public var options: BSONDocument
    /// A stable identifier (reported as `info.uuid`).
    public var uuid: [UInt8]

    /// Creates a record.
    public init(name: String, options: BSONDocument, uuid: [UInt8]) {
        self.name = name
        self.options = options
        self.uuid = uuid
    }
}

/// An index definition as `createIndexes` receives it and `listIndexes` returns it.
public struct IndexSpec: Sendable {
    /// The name (`filename_1_uploadDate_1`).
    public var name: String
    /// The key pattern in order: paths and directions (1 or -1).
    public var key: [(path: String, direction: Int)]
    /// Whether two documents may share a key.
    public var unique: Bool
    /// The whole spec document as given (other options kept for listIndexes).
    public var spec: BSONDocument

    /// Creates a spec.
    public init(name: String, key: [(path: String, direction: Int)], unique: Bool, spec: BSONDocument) {
        self.name = name
        self.key = key
        self.unique = unique
        self.spec = spec
    }

    /// The key pattern as a document (`{files_id: 1, n: 1}`).
    public var keyDocument: BSONDocument {
        BSONDocument(key.map { ($0.path, BSONValue.int32(Int32($0.direction))) })
    }

    /// True when two specs have the same key pattern.
    public func sameKey(as other: IndexSpec) -> Bool {
        key.count == other.key.count && zip(key, other.key).allSatisfy { $0.path == $1.path && $0.direction == $1.direction }
    }
}

/// Names an index: by name, by key pattern, or all (`"*"`).
public enum IndexTarget: Sendable {
    /// The index with this name.
    case name(String)
    /// The index with this key pattern.
    case key(BSONDocument)
    /// Every index but `_id_`.
    case all
    /// Several names.
    case names([String])
}

/// What createIndexes did.
public struct CreateIndexesResult: Sendable {
    /// Indexes before.
    public var numIndexesBefore: Int
    /// Indexes after.
    public var numIndexesAfter: Int
    /// Whether the collection was created by this call.
    public var createdCollectionAutomatically: Bool

    /// Creates a result.
    public init(numIndexesBefore: Int, numIndexesAfter: Int, createdCollectionAutomatically: Bool) {
        self.numIndexesBefore = numIndexesBefore
        self.numIndexesAfter = numIndexesAfter
        self.createdCollectionAutomatically = createdCollectionAutomatically
    }
}

/// Figures for `collStats`.
public struct CollectionStats: Sendable {
    /// Documents.
    public var count: Int
    /// Sum of document sizes.
    public var size: Int64
    /// Bytes on disk for the documents.
    public var storageSize: Int64
    /// Bytes on disk per index, by name.
    public var indexSizes: [(String, Int64)]

    /// Creates figures.
    public init(count: Int, size: Int64, storageSize: Int64, indexSizes: [(String, Int64)]) {
        self.count = count
        self.size = size
        self.storageSize = storageSize
        self.indexSizes = indexSizes
    }
}

/// Figures for `dbStats`.
public struct DatabaseStats: Sendable {
    /// Collections.
    public var collections: Int
    /// Documents.
    public var objects: Int
    /// Sum of document sizes.
    public var dataSize: Int64
    /// Bytes on disk for documents.
    public var storageSize: Int64
    /// Indexes.
    public var indexes: Int
    /// Bytes on disk for indexes.
    public var indexSize: Int64

    /// Creates figures.
    public init(collections: Int, objects: Int, dataSize: Int64, storageSize: Int64, indexes: Int, indexSize: Int64) {
        self.collections = collections
        self.objects = objects
        self.dataSize = dataSize
        self.storageSize = storageSize
        self.indexes = indexes
        self.indexSize = indexSize
    }
}

/// What `validate` found.
public struct ValidationReport: Sendable {
    /// True when nothing is wrong.
    public var valid: Bool { errors.isEmpty }
    /// Documents checked.
    public var recordsChecked: Int
    /// Problems that make the collection invalid.
    public var errors: [String]
    /// Problems worth knowing that do not (e.g. orphaned GridFS chunks).
    public var warnings: [String]

    /// Creates a report.
    public init(recordsChecked: Int, errors: [String], warnings: [String]) {
        self.recordsChecked = recordsChecked
        self.errors = errors
        self.warnings = warnings
    }
}
