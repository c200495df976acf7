import BSON
import Logging
import Query
import Storage

/// Writes single documents into a collection's table and keeps its side-table indexes in step:
/// the SQLite ``CollectionWriter`` the engine-neutral ``WriteRules`` run on. Runs on the writer,
/// inside the caller's transaction; each write is atomic (a savepoint where it touches several
/// tables), and a unique-constraint failure surfaces as ``UniqueIndexViolation``.
struct RowWriter: CollectionWriter {
    let c: SQLiteConnection
    /// Where chunk payloads go.
    let blobs: BlobStore
    /// The collection, updated when an index turns multikey.
    var entry: CollectionEntry
    /// Where SQLite's own error text goes (never to the client).
    let logger: Logger
    /// Whether documents read by scans are checked against their checksums. Deletes turn it off,
    /// so a damaged file can still be deleted (its bytes are never returned by a delete).
    var verifyChecksums = true

    var namespace: Namespace { entry.namespace }

    var plannableIndexes: [IndexDescriptor] { SQLiteStorageEngine.usableIndexes(entry) }

    func indexSpec(named name: String) -> IndexSpec? {
        entry.indexes.first { $0.spec.name == name }?.spec
    }

    func scan(_ plan: AccessPlan, from position: inout ScanPosition, visit: (RecordID, BSONDocument) throws -> ScanStep) throws {
        try Self.mapErrors(entry, logger) { try Scanner.scan(c, entry: entry, blobs: blobs, plan: plan, position: &position, verify: verifyChecksums, visit: visit) }
    }

    func load(_ id: RecordID) throws -> BSONDocument? {
        try Self.mapErrors(entry, logger) { try loadRow(c, entry: entry, blobs: blobs, rid: id, verify: verifyChecksums) }
    }

    mutating func insert(_ document: BSONDocument) throws -> RecordID {
        let (entry, logger) = (self.entry, self.logger)
        if entry.tableIndexes.isEmpty {
            // One INSERT: if it fails nothing was written, so no savepoint is needed.
            return try Self.mapErrors(entry, logger) { try insertRow(document) }
        }
        return try atomically { w in try Self.mapErrors(entry, logger) { try w.insertRow(document) } }
    }

    mutating func replace(_ id: RecordID, old: BSONDocument, with document: BSONDocument) throws {
        let (entry, logger) = (self.entry, self.logger)
        if entry.tableIndexes.isEmpty {
            return try Self.mapErrors(entry, logger) { try replaceRow(rid: id, old: old, with: document) }
        }
        try atomically { w in try Self.mapErrors(entry, logger) { try w.replaceRow(rid: id, old: old, with: document) } }
    }

    mutating func delete(_ id: RecordID, old: BSONDocument?) throws {
        try Self.mapErrors(entry, logger) {
            var old = old
            if old == nil && !entry.tableIndexes.isEmpty { old = try loadRow(c, entry: entry, blobs: blobs, rid: id, verify: false) }
            try deleteRow(rid: id, old: old)
        }
    }

    mutating func atomically<T>(_ body: (inout RowWriter) throws -> T) throws -> T {
        try blobs.savepoint(c) { try body(&self) }
    }

    /// Runs `body`, turning SQLite's errors into what the layers above understand: a unique
    /// violation names its index; anything else is logged with its SQL and becomes a plain
    /// InternalError.
    private static func mapErrors<T>(_ entry: CollectionEntry, _ logger: Logger, _ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let e as SQLiteError {
            if e.isUniqueViolation { throw UniqueIndexViolation(indexName: violatedIndex(e, entry)) }
            logger.error("SQLite error while writing \(entry.namespace): \(e)")
            throw StorageError(.internalError, "internal storage error while writing to \(entry.namespace)")
        }
    }

    /// Inserts a document; returns its row id. A chunk's payload goes to the segment files first;
    /// if the row then cannot be written, those bytes are counted as dead.
    mutating func insertRow(_ doc: BSONDocument) throws -> Int64 {
        let stored = StoredDocument(doc, kind: entry.kind)
        try noteKeyColumn(stored)
        let ref = try appendPayload(stored)
        do {
            let rid = try c.withStatement(
                "INSERT INTO \(entry.table)(id_key, k, head, tail, data, seg, off, len, crc) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
            ) { s in
                try bindKeys(s, stored)
                try stored.withParts(s, at: 3, ref: ref) { try s.run() }
                return c.lastInsertRowID
            }
            try addIndexKeys(doc, rid: rid)
            return rid
        } catch {
            if let ref { blobs.release(ref) }
            throw error
        }
    }

    /// Replaces the document in row `rid` (`old` is what it held).
    mutating func replaceRow(rid: Int64, old: BSONDocument, with doc: BSONDocument) throws {
        let stored = StoredDocument(doc, kind: entry.kind)
        try noteKeyColumn(stored)
        let oldRef = try c.withStatement("SELECT seg, off, len FROM \(entry.table) WHERE rid = ?") { s in
            try s.bind(rid, at: 1)
            return try s.step() ? StoredDocument.ref(s, at: 0) : nil
        }
        let ref = try appendPayload(stored)
        do {
            try c.withStatement(
                "UPDATE \(entry.table) SET id_key = ?, k = ?, head = ?, tail = ?, data = ?, seg = ?, off = ?, len = ?, crc = ? WHERE rid = ?"
            ) { s in
                try bindKeys(s, stored)
                try s.bind(rid, at: 10)
                try stored.withParts(s, at: 3, ref: ref) { try s.run() }
            }
            try removeIndexKeys(old, rid: rid)
            try addIndexKeys(doc, rid: rid)
        } catch {
            if let ref { blobs.release(ref) }
            throw error
        }
        if let oldRef { blobs.release(oldRef) }
    }

    /// Deletes row `rid`; `old` (what it held) is needed only when side-table indexes exist.
    func deleteRow(rid: Int64, old: BSONDocument?) throws {
        let ref = try c.withStatement("DELETE FROM \(entry.table) WHERE rid = ? RETURNING seg, off, len") { s in
            try s.bind(rid, at: 1)
            var ref: BlobRef?
            while try s.step() { ref = StoredDocument.ref(s, at: 0) }
            return ref
        }
        if let old { try removeIndexKeys(old, rid: rid) }
        if let ref { blobs.release(ref) }
    }

    /// Writes a chunk's payload to the segment files when it is big enough to live there.
    private func appendPayload(_ stored: StoredDocument) throws -> BlobRef? {
        guard entry.kind == .gridFSChunks else { return nil }
        return try stored.withPayload { bytes -> BlobRef? in
            guard bytes.count >= blobs.configuration.minimumBytes else { return nil }
            return try blobs.append(c, bytes)
        } ?? nil
    }

    private func bindKeys(_ s: SQLiteStatement, _ stored: StoredDocument) throws {
        try s.bind(stored.idKey, at: 1)
        if let k = stored.key { try s.bind(k, at: 2) } else { try s.bindNull(at: 2) }
    }

    /// A document whose built-in key cannot be one value (an array field) makes the key column
    /// incomplete; the planner then stops using it.
    private mutating func noteKeyColumn(_ stored: StoredDocument) throws {
        guard stored.key == nil, let i = entry.indexes.firstIndex(where: { $0.backing == .keyColumn }),
              !entry.indexes[i].multikey else { return }
        if entry.indexes[i].spec.unique {
            throw StorageError(.cannotIndexParallelArrays,
                               "gridlite cannot keep the unique index \(entry.indexes[i].spec.name) on array values")
        }
        entry.indexes[i].multikey = true
        try CatalogSQL.updateIndex(c, entry.indexes[i])
    }

    private mutating func addIndexKeys(_ doc: BSONDocument, rid: Int64) throws {
        for i in entry.indexes.indices where entry.indexes[i].backing == .table {
            let index = entry.indexes[i]
            let keys = try IndexKeyEncoder.keys(for: doc, paths: index.paths, descending: index.descending)
            if keys.count > 1 && !index.multikey {
                entry.indexes[i].multikey = true
                try CatalogSQL.updateIndex(c, entry.indexes[i])
            }
            try c.withStatement("INSERT INTO \(index.table)(key, rid) VALUES (?, ?)") { s in
                for key in keys {
                    try s.bind(key, at: 1)
                    try s.bind(rid, at: 2)
                    try s.run()
                }
            }
        }
    }

    private func removeIndexKeys(_ doc: BSONDocument, rid: Int64) throws {
        for index in entry.tableIndexes {
            let keys = (try? IndexKeyEncoder.keys(for: doc, paths: index.paths, descending: index.descending)) ?? []
            try c.withStatement("DELETE FROM \(index.table) WHERE key = ? AND rid = ?") { s in
                for key in keys {
                    try s.bind(key, at: 1)
                    try s.bind(rid, at: 2)
                    try s.run()
                }
            }
        }
    }

    /// The index a SQLite unique-constraint failure is about. SQLite names the violated column
    /// (`c5.id_key`, `c5.k`, `x9.key`) only in its message, so this is the one place that reads
    /// SQLite's text; above this module the violation is a typed ``UniqueIndexViolation``.
    private static func violatedIndex(_ e: SQLiteError, _ entry: CollectionEntry) -> String {
        let message = e.message
        let index: IndexEntry?
        if message.contains("\(entry.table).id_key") {
            index = entry.indexes.first { $0.backing == .idColumn }
        } else if message.contains("\(entry.table).k") {
            index = entry.keyColumnIndex
        } else {
            index = entry.tableIndexes.first { message.contains("\($0.table).") }
        }
        return index?.spec.name ?? DuplicateKeyReport.idIndexSpec.name
    }
}
