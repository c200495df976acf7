import Executors
import BSON
import Foundation
import Logging
import Query
import ServiceLifecycle
import Storage
import Synchronization

/// The SQLite backend: every database and collection in one SQLite file (`gridlite.sqlite`)
/// under the data directory, in WAL mode, with one writer and a pool of readers.
/// See docs/storage.md for the schema and the durability argument.
public final class SQLiteStorageEngine: StorageEngine {
    let db: SQLiteDatabase
    let catalog = Catalog()
    /// Chunk payloads (segment files under `blobs/`).
    let blobs: BlobStore
    let logger: Logger
    /// Set once ``close()`` has run.
    private let closed = Mutex(false)

    /// The database file's name inside the data directory.
    public static let fileName = "gridlite.sqlite"

    private init(db: SQLiteDatabase, blobs: BlobStore, logger: Logger) {
        self.db = db
        self.blobs = blobs
        self.logger = logger
    }

    /// The folder of the segment files inside the data directory.
    public static let blobDirectoryName = "blobs"

    /// Opens (creating if needed) the store in `directory`.
    public static func open(directory: String, logger: Logger, configure: (inout SQLiteConfiguration) -> Void = { _ in }) async throws -> SQLiteStorageEngine {
        try await open(directory: directory, logger: logger, blobConfiguration: BlobStore.Configuration(), configure: configure)
    }

    /// Opens the store with explicit segment-file tunables (tests use small segments).
    static func open(
        directory: String, logger: Logger, blobConfiguration: BlobStore.Configuration,
        configure: (inout SQLiteConfiguration) -> Void = { _ in }
    ) async throws -> SQLiteStorageEngine {
        var configuration = SQLiteConfiguration(path: (directory as NSString).appendingPathComponent(fileName))
        configure(&configuration)
        var blobConfiguration = blobConfiguration
        if configuration.synchronous == .full { blobConfiguration.syncOnCommit = true }
        let blobs = try BlobStore(
            directory: (directory as NSString).appendingPathComponent(blobDirectoryName), configuration: blobConfiguration)
        // Segment bytes reach the disk before a checkpoint puts rows pointing at them in the database.
        let earlier = configuration.beforeCheckpoint
        configuration.beforeCheckpoint = {
            blobs.syncDirty()
            earlier?()
        }
        let db = try await SQLiteDatabase(configuration: configuration)
        let engine = SQLiteStorageEngine(db: db, blobs: blobs, logger: logger)
        let catalog = engine.catalog
        let (reclaimed, recovered) = try await db.write { c -> (Int64, Bool) in
            try c.exec(CatalogSQL.bootstrap)
            let version = try CatalogSQL.migrate(c)
            try blobs.load(c)
            let entries = try CatalogSQL.load(c)
            if version < CatalogSQL.schemaVersion {
                try ChecksumBackfill.run(c, tables: entries.values.map(\.table).sorted(), blobs: blobs, logger: logger)
                try CatalogSQL.markCurrent(c)
            }
            let (reclaimed, recovered) = try c.transaction(.immediate) { () -> (Int64, Bool) in
                // The marker is '1' only after a clean close; otherwise the last run may have died
                // in the middle of a write. No marker at all: a new database.
                let marker = try c.query("SELECT value FROM gl_meta WHERE key = 'clean_shutdown'").first?.first
                let clean = marker == .text("1")
                let tables = entries.values.filter { $0.kind == .gridFSChunks }.map(\.table)
                let found = clean ? 0 : try blobs.reconcileActive(c, tables: tables)
                _ = try c.execute("INSERT OR REPLACE INTO gl_meta(key, value) VALUES ('clean_shutdown', '0')")
                return (found, marker == .text("0"))
            }
            catalog.publish(entries)
            return (reclaimed, recovered)
        }
        if PayloadChecksum.benchDisabled {
            logger.warning("GRIDLITE_BENCH_NO_CHECKSUMS=1: documents are written without checksums and reads verify none (for bench/integrity_bench.py only; never on data you keep)")
        }
        if recovered {
            logger.info("the last run did not shut down cleanly: crash recovery performed (SQLite replayed its write-ahead log; segment space reconciled, \(reclaimed) bytes of interrupted chunk writes counted as free)")
        }
        return engine
    }

    /// Runs as a service: waits for graceful shutdown (or cancellation), then closes. Listed
    /// before the server in the service group, so it closes after the last command has replied.
    public func run() async throws {
        try? await gracefulShutdown()
        await close()
    }

    /// Closes every connection, after flushing the segment files and marking the shutdown clean.
    /// Later calls do nothing.
    public func close() async {
        let first = closed.withLock { wasClosed in
            defer { wasClosed = true }
            return !wasClosed
        }
        guard first else { return }
        blobs.syncAll()
        _ = try? await db.write { c in
            try c.execute("INSERT OR REPLACE INTO gl_meta(key, value) VALUES ('clean_shutdown', '1')")
        }
        await db.close()
    }

    /// Runs `body` in one write transaction with a private copy of the catalog, publishing the
    /// copy only after COMMIT. SQLite errors become InternalError unless `body` mapped them.
    func mutate<T: Sendable>(
        _ body: @escaping @Sendable (SQLiteConnection, inout [Namespace: CollectionEntry]) throws -> T
    ) async throws -> T {
        let catalog = self.catalog
        // The operation's deadline (maxTimeMS): the wait for the writer lock gives up at it, it is
        // checked once the lock is held, and bound again on whichever thread runs the body (the
        // write rules check it per document).
        let deadline = OperationDeadline.current
        try deadline?.check()
        do {
            let blobs = self.blobs
            return try await db.write(until: deadline?.instant) { c in
                try deadline?.check()
                var entries = catalog.snapshot()
                blobs.beginTransaction()
                let result: T
                do {
                    result = try c.transaction(.immediate) {
                        let result = try OperationDeadline.bind(deadline) { try body(c, &entries) }
                        try blobs.prepareCommit(c)
                        return result
                    }
                } catch {
                    blobs.didRollback()
                    throw error
                }
                blobs.didCommit()
                catalog.publish(entries)
                return result
            }
        } catch let e as SQLiteError {
            throw internalError(e)
        } catch is WriterLockTimeout {
            throw OperationDeadline.expiredError
        }
    }

    /// Runs `body` on a reader (one snapshot). Segment files the snapshot may reference stay open
    /// until it ends.
    func read<T: Sendable>(_ body: @escaping @Sendable (SQLiteConnection) throws -> T) async throws -> T {
        let blobs = self.blobs
        let deadline = OperationDeadline.current
        try deadline?.check()
        let token = blobs.beginRead()
        // Ending a read may close the last descriptor of a deleted segment, which frees its page
        // cache in the kernel (milliseconds for a large one): that counts as blocking.
        defer { BlockingExecutor.blocking { blobs.endRead(token) } }
        do {
            return try await db.read { c in try OperationDeadline.bind(deadline) { try body(c) } }
        } catch let e as SQLiteError {
            throw internalError(e)
        } catch let e as StorageError where e.code == ErrorCode.dataCorruptionDetected.rawValue {
            logger.error("data corruption detected: \(e.message)")
            throw e
        }
    }

    /// An SQLite error nothing mapped to a MongoDB error: logged in full (with its SQL) at error
    /// level, answered with SQLite's message only (the client never sees SQL text).
    private func internalError(_ e: SQLiteError) -> StorageError {
        logger.error("internal storage error: \(e)")
        return StorageError(.internalError, "storage error: \(e.message) (SQLite error \(e.code))")
    }

    /// The indexes the planner may use (an incomplete built-in key column is left out).
    static func usableIndexes(_ entry: CollectionEntry) -> [IndexDescriptor] {
        entry.indexes.filter { !($0.backing == .keyColumn && $0.multikey) }.map(\.descriptor)
    }

    // MARK: Catalog

    public func listDatabases() async throws -> [DatabaseInfo] {
        let entries = catalog.all()
        let names = Set(entries.map(\.namespace.database)).sorted()
        let sizes = try await read { c in
            var sizes = try StatsSQL.tableSizes(c, tables: entries.map(\.table))
            // Chunk payloads in segment files belong to their collection's size too.
            for entry in entries where entry.kind == .gridFSChunks {
                sizes[entry.table, default: 0] += try c.withStatement("SELECT COALESCE(SUM(len), 0) FROM \(entry.table)") { s in
                    try s.step() ? s.int64(0) : 0
                }
            }
            return sizes
        }
        return names.map { name in
            let tables = entries.filter { $0.namespace.database == name }
            let size = tables.reduce(Int64(0)) { $0 + (sizes[$1.table] ?? 0) }
            return DatabaseInfo(name: name, sizeOnDisk: size, empty: false)
        }
    }

    public func listCollections(in database: String) async throws -> [CollectionInfo] {
        catalog.all().filter { $0.namespace.database == database }.map {
            CollectionInfo(name: $0.namespace.collection, options: $0.options, uuid: $0.uuid)
        }
    }

    public func createCollection(_ namespace: Namespace, options: BSONDocument) async throws {
        try await mutate { c, entries in
            guard entries[namespace] == nil else {
                throw StorageError(.namespaceExists, "Collection \(namespace) already exists.")
            }
            entries[namespace] = try CatalogSQL.createCollection(c, namespace, options: options)
        }
    }

    public func dropCollection(_ namespace: Namespace) async throws -> Bool {
        guard catalog.entry(namespace) != nil else { return false }
        return try await mutate { c, entries in
            guard let entry = entries[namespace] else { return false }
            try CatalogSQL.dropCollection(c, entry, blobs: self.blobs)
            entries[namespace] = nil
            return true
        }
    }

    public func dropDatabase(_ database: String) async throws {
        try await mutate { c, entries in
            for (ns, entry) in entries where ns.database == database {
                try CatalogSQL.dropCollection(c, entry, blobs: self.blobs)
                entries[ns] = nil
            }
        }
    }

    public func renameCollection(from source: Namespace, to target: Namespace, dropTarget: Bool) async throws {
        try await mutate { c, entries in
            guard var entry = entries[source] else {
                throw StorageError(.namespaceNotFound, "Source collection \(source) does not exist")
            }
            guard source != target else {
                throw StorageError(.illegalOperation, "Can't rename a collection to itself")
            }
            if let existing = entries[target] {
                guard dropTarget else { throw StorageError(.namespaceExists, "target namespace exists") }
                try CatalogSQL.dropCollection(c, existing, blobs: self.blobs)
                entries[target] = nil
            }
            _ = try c.execute("UPDATE gl_collections SET db = ?, name = ?, kind = ? WHERE id = ?", [
                .text(target.database), .text(target.collection), .text(target.kind.rawValue), .integer(entry.id),
            ])
            if target.kind != entry.kind {
                entry = try Relayout.change(c, entry, blobs: self.blobs, to: target.kind)
            }
            entry.namespace = target
            entries[source] = nil
            entries[target] = entry
        }
    }

    // MARK: Reads

    public func find(_ query: FindQuery) async throws -> any DocumentCursor {
        guard let entry = catalog.entry(query.namespace) else { return ArrayCursor([]) }
        let plan = try QueryPlanner.plan(filter: query.filter, sort: query.sort,
                                         indexes: Self.usableIndexes(entry), hint: query.hint)
        let state = QueryState(entry: entry, blobs: blobs, plan: plan, filter: query.filter, skip: query.skip, limit: query.limit)
        guard let sort = query.sort, !plan.providesSort else { return SQLiteCursor(engine: self, state: state) }
        let docs = try await read { c in
            var progress = state.progress
            return try progress.sorted(state.records(c), by: sort, memoryLimit: query.sortMemoryLimit).map(\.doc)
        }
        return ArrayCursor(docs)
    }

    public func count(_ query: FindQuery) async throws -> Int {
        guard let entry = catalog.entry(query.namespace) else { return 0 }
        if query.filter.matchesEverything {
            let total = try await read { c in
                try c.withStatement("SELECT count(*) FROM \(entry.table)") { s in try s.step() ? Int(s.int64(0)) : 0 }
            }
            let afterSkip = max(0, total - query.skip)
            return query.limit > 0 ? min(afterSkip, query.limit) : afterSkip
        }
        let plan = try QueryPlanner.plan(filter: query.filter, sort: nil, indexes: Self.usableIndexes(entry), hint: query.hint)
        let state = QueryState(entry: entry, blobs: blobs, plan: plan, filter: query.filter, skip: query.skip, limit: query.limit)
        return try await read { c in
            var progress = state.progress
            return try progress.count(state.records(c))
        }
    }
}
