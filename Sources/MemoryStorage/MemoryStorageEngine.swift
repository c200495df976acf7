import BSON
import Query
import ServiceLifecycle
import Storage

/// A storage engine that keeps everything in memory, built on the same engine-neutral rules as
/// the SQLite engine (``WriteRules``, ``QueryProgress``, ``BlockingSort``): it only stores
/// documents, keeps sorted encoded index keys and scans them. It keeps the storage conformance
/// suite honest (two engines, one suite), and gives tests an engine without a disk. Nothing
/// survives the process.
///
/// Every call runs on the actor, so each write command is atomic and isolated; a failed command
/// leaves nothing behind (writes are undone).
public actor MemoryStorageEngine: StorageEngine {
    private var collections: [Namespace: MemoryCollection] = [:]

    /// An empty store.
    public init() {}

    /// Nothing to flush: waits for shutdown and returns.
    public func run() async throws {
        try? await gracefulShutdown()
    }

    // MARK: Catalog

    public func listDatabases() async throws -> [DatabaseInfo] {
        var sizes: [String: Int64] = [:]
        for c in collections.values { sizes[c.namespace.database, default: 0] &+= c.dataSize }
        return sizes.keys.sorted().map { DatabaseInfo(name: $0, sizeOnDisk: sizes[$0] ?? 0, empty: false) }
    }

    public func listCollections(in database: String) async throws -> [CollectionInfo] {
        collections.values.filter { $0.namespace.database == database }.sorted { $0.namespace < $1.namespace }.map {
            CollectionInfo(name: $0.namespace.collection, options: $0.options, uuid: $0.uuid)
        }
    }

    public func createCollection(_ namespace: Namespace, options: BSONDocument) async throws {
        guard collections[namespace] == nil else {
            throw StorageError(.namespaceExists, "Collection \(namespace) already exists.")
        }
        collections[namespace] = MemoryCollection(namespace: namespace, options: options)
    }

    public func dropCollection(_ namespace: Namespace) async throws -> Bool {
        collections.removeValue(forKey: namespace) != nil
    }

    public func dropDatabase(_ database: String) async throws {
        for ns in collections.keys where ns.database == database { collections[ns] = nil }
    }

    public func renameCollection(from source: Namespace, to target: Namespace, dropTarget: Bool) async throws {
        guard var collection = collections[source] else {
            throw StorageError(.namespaceNotFound, "Source collection \(source) does not exist")
        }
        guard source != target else { throw StorageError(.illegalOperation, "Can't rename a collection to itself") }
        if collections[target] != nil {
            guard dropTarget else { throw StorageError(.namespaceExists, "target namespace exists") }
        }
        collections[source] = nil
        collection.namespace = target
        collections[target] = collection
    }

    // MARK: Writes

    /// Runs `body` on the collection's writer (creating the collection when `create`); a throw
    /// undoes every write and a collection created for it.
    private func write<T>(_ namespace: Namespace, create: Bool, _ body: (inout MemoryWriter) throws -> T) throws -> T? {
        // The collection moves out of the dictionary into the writer and back, so its arrays
        // stay uniquely referenced and a write mutates them in place (no copy-on-write).
        var writer: MemoryWriter
        let existed: Bool
        if let collection = collections.removeValue(forKey: namespace) {
            writer = MemoryWriter(collection: consume collection)
            existed = true
        } else if create {
            writer = MemoryWriter(collection: MemoryCollection(namespace: namespace, options: BSONDocument()))
            existed = false
        } else {
            return nil
        }
        do {
            let result = try body(&writer)
            collections[namespace] = writer.collection
            return result
        } catch {
            writer.rollback()
            if existed { collections[namespace] = writer.collection }
            throw error
        }
    }

    public func insert(_ documents: [BSONDocument], into namespace: Namespace, ordered: Bool) async throws -> InsertResult {
        try write(namespace, create: true) { try WriteRules.insert(documents, ordered: ordered, into: &$0) }
            ?? InsertResult(inserted: 0, writeErrors: [])
    }

    public func update(_ statements: [UpdateStatement], in namespace: Namespace, ordered: Bool) async throws -> UpdateResult {
        try write(namespace, create: statements.contains(where: \.upsert)) { try WriteRules.update(statements, ordered: ordered, in: &$0) }
            ?? UpdateResult()
    }

    public func delete(_ statements: [DeleteStatement], in namespace: Namespace, ordered: Bool) async throws -> DeleteResult {
        try write(namespace, create: false) { try WriteRules.delete(statements, ordered: ordered, in: &$0) } ?? DeleteResult()
    }

    public func findAndModify(_ op: FindAndModifyOperation, in namespace: Namespace) async throws -> FindAndModifyResult {
        try write(namespace, create: op.upsert) { try WriteRules.findAndModify(op, in: &$0) }
            ?? FindAndModifyResult(value: nil, updatedExisting: false, upsertedId: nil, n: 0)
    }

    // MARK: Reads

    public func find(_ query: FindQuery) async throws -> any DocumentCursor {
        guard let collection = collections[query.namespace] else { return ArrayCursor([]) }
        let plan = try QueryPlanner.plan(filter: query.filter, sort: query.sort,
                                         indexes: collection.indexes.map(\.descriptor), hint: query.hint)
        var progress = QueryProgress(plan: plan, filter: query.filter, skip: query.skip, limit: query.limit)
        guard let sort = query.sort, !plan.providesSort else {
            return MemoryCursor(engine: self, namespace: query.namespace, uuid: collection.uuid, progress: progress)
        }
        return ArrayCursor(try progress.sorted(collection, by: sort, memoryLimit: query.sortMemoryLimit).map(\.doc))
    }

    /// The next batch of a cursor's query; 175 QueryPlanKilled when its collection was dropped.
    func nextBatch(_ namespace: Namespace, uuid: [UInt8], progress: QueryProgress, maxCount: Int, maxBytes: Int) throws
        -> ([BSONDocument], QueryProgress)
    {
        guard let collection = collections[namespace], collection.uuid == uuid else {
            throw StorageError(.queryPlanKilled, "collection dropped: \(namespace)")
        }
        var progress = progress
        let docs = try progress.next(collection, maxCount: maxCount, maxBytes: maxBytes)
        return (docs, progress)
    }

    public func count(_ query: FindQuery) async throws -> Int {
        guard let collection = collections[query.namespace] else { return 0 }
        let plan = try QueryPlanner.plan(filter: query.filter, sort: nil, indexes: collection.indexes.map(\.descriptor), hint: query.hint)
        var progress = QueryProgress(plan: plan, filter: query.filter, skip: query.skip, limit: query.limit)
        return try progress.count(collection)
    }

    // MARK: Indexes

    public func createIndexes(_ specs: [IndexSpec], on namespace: Namespace) async throws -> CreateIndexesResult {
        let created = collections[namespace] == nil
        var collection = collections[namespace] ?? MemoryCollection(namespace: namespace, options: BSONDocument())
        let before = collection.indexes.count
        for spec in specs {
            if try IndexRules.alreadyExists(spec, among: collection.indexes.map(\.spec)) { continue }
            var index = MemoryIndex(spec: spec)
            for id in collection.order {
                guard let doc = collection.docs[id] else { continue }
                let keys = try index.keys(for: doc)
                if index.conflicts(keys, excluding: id) != nil {
                    var keyValue = BSONDocument()
                    for part in spec.key { keyValue.append(part.path, doc.value(atPath: part.path) ?? .null) }
                    throw StorageError(.duplicateKey,
                        "Index build failed: E11000 duplicate key error collection: \(namespace) index: \(spec.name) dup key: \(keyValue)")
                }
                index.add(keys, id: id)
            }
            collection.indexes.append(index)
        }
        collections[namespace] = collection
        return CreateIndexesResult(numIndexesBefore: before, numIndexesAfter: collection.indexes.count,
                                   createdCollectionAutomatically: created)
    }

    public func listIndexes(_ namespace: Namespace) async throws -> [IndexSpec] {
        guard let collection = collections[namespace] else {
            throw StorageError(.namespaceNotFound, "ns does not exist: \(namespace)")
        }
        return collection.indexes.map(\.spec)
    }

    public func dropIndexes(_ target: IndexTarget, on namespace: Namespace) async throws -> Int {
        guard var collection = collections[namespace] else {
            throw StorageError(.namespaceNotFound, "ns not found \(namespace)")
        }
        let before = collection.indexes.count
        let names = Set(try IndexRules.victims(target, among: collection.indexes.map(\.spec)).map(\.name))
        collection.indexes.removeAll { names.contains($0.spec.name) }
        collections[namespace] = collection
        return before
    }

    // MARK: Statistics and checks

    public func collectionStats(_ namespace: Namespace) async throws -> CollectionStats {
        guard let c = collections[namespace] else { return CollectionStats(count: 0, size: 0, storageSize: 0, indexSizes: []) }
        return CollectionStats(count: c.docs.count, size: c.dataSize, storageSize: c.dataSize,
                               indexSizes: c.indexes.map { ($0.spec.name, $0.byteCount) })
    }

    public func databaseStats(_ database: String) async throws -> DatabaseStats {
        var stats = DatabaseStats(collections: 0, objects: 0, dataSize: 0, storageSize: 0, indexes: 0, indexSize: 0)
        for c in collections.values where c.namespace.database == database {
            stats.collections += 1
            stats.objects += c.docs.count
            stats.dataSize &+= c.dataSize
            stats.storageSize &+= c.dataSize
            stats.indexes += c.indexes.count
            stats.indexSize &+= c.indexes.reduce(0) { $0 &+ $1.byteCount }
        }
        return stats
    }

    /// Checks that every index holds exactly the keys of the stored documents.
    public func validate(_ namespace: Namespace, full: Bool) async throws -> ValidationReport {
        guard let c = collections[namespace] else {
            throw StorageError(.namespaceNotFound, "Collection '\(namespace)' does not exist to validate.")
        }
        var errors: [String] = []
        for index in c.indexes {
            var expected = 0
            for id in c.order {
                guard let doc = c.docs[id], let keys = try? index.keys(for: doc) else { continue }
                expected += Set(keys).count
            }
            if expected != index.entries.count {
                errors.append("index \(index.spec.name) has \(index.entries.count) keys, documents give \(expected)")
            }
            if index.entries.contains(where: { c.docs[$0.id] == nil }) {
                errors.append("index \(index.spec.name) points at a missing record")
            }
        }
        return ValidationReport(recordsChecked: c.docs.count, errors: errors, warnings: [])
    }
}

/// A cursor over an in-memory query: each batch resumes the scan from its position on the actor,
/// like the SQLite engine's keyset cursors.
actor MemoryCursor: DocumentCursor {
    private let engine: MemoryStorageEngine
    private let namespace: Namespace
    private let uuid: [UInt8]
    private var progress: QueryProgress?

    init(engine: MemoryStorageEngine, namespace: Namespace, uuid: [UInt8], progress: QueryProgress) {
        self.engine = engine
        self.namespace = namespace
        self.uuid = uuid
        self.progress = progress
    }

    func nextBatch(maxCount: Int, maxBytes: Int) async throws -> [BSONDocument] {
        guard let current = progress, !current.isFinished else { return [] }
        let (docs, next) = try await engine.nextBatch(namespace, uuid: uuid, progress: current, maxCount: maxCount, maxBytes: maxBytes)
        progress = next
        return docs
    }

    var isExhausted: Bool { progress?.isFinished ?? true }

    func close() async {
        progress = nil
    }
}
