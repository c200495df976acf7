import BSON
import Query
import ServiceLifecycle

/// What every storage backend provides. Commands speak only this protocol; the SQLite backend is
/// one implementation, a PostgreSQL backend would be another beside it.
///
/// Query semantics (filters, sorts, updates) come parsed from the Query module. A backend answers
/// what it can through its indexes (see ``QueryPlanner`` and ``AccessPlan``, the pushdown hooks)
/// and must re-check the full filter in Swift on whatever rows its plan returns, so pushdown only
/// narrows and never changes results.
///
/// MongoDB's rules are not the backend's business: updates, upserts, `_id` immutability,
/// duplicate-key reports (``WriteRules`` over a ``CollectionWriter``), blocking sorts with their
/// memory bound (``BlockingSort``) and cursor progress (``QueryProgress`` over a
/// ``RecordScanner``) live in this module, written once. A backend stores documents, keeps their
/// encoded index keys, scans key ranges and enforces unique keys.
///
/// An engine is a swift-service-lifecycle `Service`: `run()` returns after graceful shutdown,
/// having flushed and closed its storage, so the service group (which shuts services down in
/// reverse order) closes it after the server has finished its last command. The conformance
/// suite (`Tests/StorageConformance`) is what every engine must pass.
public protocol StorageEngine: Service {
    // MARK: Catalog

    /// Every database that holds at least one collection.
    func listDatabases() async throws -> [DatabaseInfo]
    /// The collections of one database (empty if it does not exist).
    func listCollections(in database: String) async throws -> [CollectionInfo]
    /// Creates an empty collection; `NamespaceExists` (48) if it exists.
    func createCollection(_ namespace: Namespace, options: BSONDocument) async throws
    /// Drops a collection and its indexes; returns false when it did not exist.
    func dropCollection(_ namespace: Namespace) async throws -> Bool
    /// Drops every collection of a database.
    func dropDatabase(_ database: String) async throws
    /// Renames a collection (optionally replacing the target).
    func renameCollection(from source: Namespace, to target: Namespace, dropTarget: Bool) async throws

    // MARK: Writes (each call is one transaction, committed before it returns)

    /// Inserts documents (each already carries `_id`). Ordered: stop at the first error.
    func insert(_ documents: [BSONDocument], into namespace: Namespace, ordered: Bool) async throws -> InsertResult
    /// Runs update statements.
    func update(_ statements: [UpdateStatement], in namespace: Namespace, ordered: Bool) async throws -> UpdateResult
    /// Runs delete statements.
    func delete(_ statements: [DeleteStatement], in namespace: Namespace, ordered: Bool) async throws -> DeleteResult
    /// Finds one document and updates, replaces or removes it, atomically.
    func findAndModify(_ operation: FindAndModifyOperation, in namespace: Namespace) async throws -> FindAndModifyResult

    // MARK: Reads

    /// Starts a query; the cursor yields matching documents in order, after skip and limit.
    func find(_ query: FindQuery) async throws -> any DocumentCursor
    /// Counts matching documents (after skip and limit).
    func count(_ query: FindQuery) async throws -> Int
    /// Reads the payloads of a GridFS file's chunks `first…last` in order of `n` into `sink`, each
    /// verified as every read is, and returns the next chunk number to read (it stops early at
    /// `maxBytes` or at a chunk that is not the next `n`). Default: a `find` on the chunks
    /// (ChunkPayloads.swift); an engine may read its payloads straight into the sink instead.
    func readChunkPayloads<Sink: ChunkPayloadSink>(_ request: ChunkPayloadRequest, into sink: inout Sink) async throws -> Int64
    /// The GridFS files document a lookup names (by `_id`, or a filename's revision), or nil, each
    /// verified as every read is. Default: a `find` (GridFSFileLookup.swift); an engine may answer
    /// it with one indexed statement instead. Nothing is cached: a deleted file is not found.
    func findGridFSFile(_ lookup: GridFSFileLookup, in files: Namespace) async throws -> BSONDocument?

    // MARK: Indexes

    /// Creates indexes (creating the collection if needed).
    func createIndexes(_ specs: [IndexSpec], on namespace: Namespace) async throws -> CreateIndexesResult
    /// The indexes of a collection; `NamespaceNotFound` (26) if it does not exist.
    func listIndexes(_ namespace: Namespace) async throws -> [IndexSpec]
    /// Drops indexes; returns how many existed before.
    func dropIndexes(_ target: IndexTarget, on namespace: Namespace) async throws -> Int

    // MARK: Statistics and checks

    /// Sizes and counts of one collection.
    func collectionStats(_ namespace: Namespace) async throws -> CollectionStats
    /// Sizes and counts of one database.
    func databaseStats(_ database: String) async throws -> DatabaseStats
    /// Checks a collection's structures (and, for GridFS buckets, its files and chunks).
    func validate(_ namespace: Namespace, full: Bool) async throws -> ValidationReport

    // MARK: Maintenance

    /// Background housekeeping the server runs periodically (e.g. reclaiming space); returns a line
    /// per thing it did, for the log. Does a bounded amount of work per call.
    func maintenance() async throws -> [String]
    /// The `compact` command: gives the space of deleted data back to the operating system; returns
    /// the bytes freed. Default in StorageEngine+Compact.swift.
    func compact(_ namespace: Namespace) async throws -> Int64
}

extension StorageEngine {
    /// Engines with nothing to maintain do nothing.
    public func maintenance() async throws -> [String] { [] }
}
