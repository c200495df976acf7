import BSON
import Query
import Storage

/// The PostgreSQL ``CollectionWriter``: one collection inside a command's transaction.
///
/// A document is a row of `c<id>(id, k, doc)` (`k` = the encoded `_id`, unique); every other
/// index is a table `x<id>(key, id)`. Unique keys are enforced by PostgreSQL with
/// `ON CONFLICT DO NOTHING` (a conflict returns no row instead of aborting the transaction, and
/// waits for a concurrent daemon's insert of the same key to commit or roll back). Rows read for
/// a write are locked (`FOR UPDATE`), so read-modify-write cannot lose another daemon's update.
struct PGWriter: CollectionWriter {
    let session: PGSession
    var entry: PGCollection
    private var savepoints = 0

    init(session: PGSession, entry: PGCollection) {
        self.session = session
        self.entry = entry
    }

    var namespace: Namespace { entry.namespace }

    var plannableIndexes: [IndexDescriptor] { entry.descriptors }

    func indexSpec(named name: String) -> IndexSpec? {
        entry.indexes.first { $0.spec.name == name }?.spec
    }

    func scan(_ plan: AccessPlan, from position: inout ScanPosition, visit: (RecordID, BSONDocument) throws -> ScanStep) throws {
        try PGScanner(session: session, entry: entry, lockRows: true).scan(plan, from: &position, visit: visit)
    }

    func load(_ id: RecordID) throws -> BSONDocument? {
        try session.query("SELECT doc FROM \(entry.table) WHERE id = $1 FOR UPDATE", [.int(id)]).first?.bytes(0)
            .flatMap { BSONDocument(storedBytes: $0) }
    }

    /// The keys of `doc` in every key-table index (computed before any SQL, so a document whose
    /// keys cannot be built changes nothing).
    private func tableKeys(_ doc: BSONDocument) throws -> [(PGIndex, [[UInt8]])] {
        try entry.tableIndexes.map { ($0, try $0.keys(for: doc)) }
    }

    /// One statement per document: the row and every key-table key are inserted together (data-
    /// modifying CTEs), so a chunk costs one round trip whatever its indexes. The counts of keys
    /// each unique index took tell a clash (`ON CONFLICT DO NOTHING` skipped a key).
    mutating func insert(_ document: BSONDocument) throws -> RecordID {
        let keys = try tableKeys(document)
        let idKey = IndexKeyEncoder.encode(document["_id"] ?? .null)
        let keyColumn = try entry.keyColumnIndex.map { ($0, try Self.keyColumnKey($0, document)) }
        var values: [PGValue] = [.bytes(idKey), .bytes(document.bytes)]
        var sql: String
        if let (_, fk) = keyColumn {
            values.append(.bytes(fk))
            sql = "WITH d AS (INSERT INTO \(entry.table)(k, doc, fk) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING RETURNING id)"
        } else {
            sql = "WITH d AS (INSERT INTO \(entry.table)(k, doc) VALUES ($1, $2) ON CONFLICT (k) DO NOTHING RETURNING id)"
        }
        var counts: [String] = []
        for (n, (index, indexKeys)) in keys.enumerated() {
            values.append(.byteArrays(indexKeys))
            sql += ", x\(n) AS (INSERT INTO \(index.table)(key, id) SELECT key, d.id FROM d, unnest($\(values.count)::bytea[]) AS key"
                + " ON CONFLICT DO NOTHING RETURNING 1)"
            counts.append("(SELECT count(*) FROM x\(n))")
        }
        sql += " SELECT d.id" + counts.map { ", " + $0 }.joined() + " FROM d"
        guard let row = try session.query(sql, values).first else {
            if let (index, fk) = keyColumn, try session.query("SELECT 1 FROM \(entry.table) WHERE k = $1", [.bytes(idKey)]).isEmpty {
                throw UniqueIndexViolation(indexName: index.spec.name, key: fk)
            }
            throw UniqueIndexViolation(indexName: "_id_", key: idKey)
        }
        let id = row.int(0)
        for (n, (index, indexKeys)) in keys.enumerated() where index.spec.unique && row.int(n + 1) < Int64(indexKeys.count) {
            // Some key was already there: find it, then undo this document by hand (no savepoint
            // is needed for a plain insert).
            let clash = try session.query("SELECT key FROM \(index.table) WHERE key = ANY($1::bytea[]) AND id <> $2 LIMIT 1",
                                          [.byteArrays(indexKeys), .int(id)]).first?.bytes(0)
            for (other, otherKeys) in keys { try removeKeys(other, otherKeys, id: id) }
            try session.query("DELETE FROM \(entry.table) WHERE id = $1", [.int(id)])
            throw UniqueIndexViolation(indexName: index.spec.name, key: clash)
        }
        for (index, indexKeys) in keys { try noteMultikey(index, indexKeys) }
        return id
    }

    mutating func replace(_ id: RecordID, old: BSONDocument, with document: BSONDocument) throws {
        let newKeys = try tableKeys(document)
        let oldKeys = entry.tableIndexes.map { (try? $0.keys(for: old)) ?? [] }
        if let index = entry.keyColumnIndex, case let fk = try Self.keyColumnKey(index, document), fk != (try? Self.keyColumnKey(index, old)) {
            // A new (files_id, n): the unique index may refuse it, which must not abort the command.
            guard try session.queryUnlessDuplicate("UPDATE \(entry.table) SET doc = $1, fk = $3 WHERE id = $2",
                                                   [.bytes(document.bytes), .int(id), .bytes(fk)]) else {
                throw UniqueIndexViolation(indexName: index.spec.name, key: fk)
            }
        } else {
            try session.query("UPDATE \(entry.table) SET doc = $1 WHERE id = $2", [.bytes(document.bytes), .int(id)])
        }
        for ((index, keys), before) in zip(newKeys, oldKeys) {
            let kept = Set(keys)
            let gone = before.filter { !kept.contains($0) }
            let previous = Set(before)
            let fresh = keys.filter { !previous.contains($0) }
            try removeKeys(index, gone, id: id)
            // The caller's savepoint (or the command's transaction) undoes the rest on a conflict.
            if let conflict = try addKeys(index, fresh, id: id) {
                throw UniqueIndexViolation(indexName: index.spec.name, key: conflict)
            }
            try noteMultikey(index, keys)
        }
    }

    /// With the old document at hand, one statement removes the row and its keys; without it the
    /// row is removed first (`RETURNING doc`) and its keys computed from what it held.
    mutating func delete(_ id: RecordID, old: BSONDocument?) throws {
        let indexes = entry.tableIndexes
        if indexes.isEmpty {
            try session.query("DELETE FROM \(entry.table) WHERE id = $1", [.int(id)])
            return
        }
        if let old {
            var sql = "WITH d AS (DELETE FROM \(entry.table) WHERE id = $1)"
            var values: [PGValue] = [.int(id)]
            for (n, index) in indexes.enumerated() {
                values.append(.byteArrays((try? index.keys(for: old)) ?? []))
                sql += ", x\(n) AS (DELETE FROM \(index.table) WHERE key = ANY($\(values.count)::bytea[]) AND id = $1)"
            }
            try session.query(sql + " SELECT 1", values)
            return
        }
        guard let doc = try session.query("DELETE FROM \(entry.table) WHERE id = $1 RETURNING doc", [.int(id)]).first?.bytes(0)
            .flatMap({ BSONDocument(storedBytes: $0) }) else { return }
        var sql = "WITH "
        var values: [PGValue] = [.int(id)]
        for (n, index) in indexes.enumerated() {
            values.append(.byteArrays((try? index.keys(for: doc)) ?? []))
            sql += (n > 0 ? ", " : "") + "x\(n) AS (DELETE FROM \(index.table) WHERE key = ANY($\(values.count)::bytea[]) AND id = $1)"
        }
        try session.query(sql + " SELECT 1", values)
    }

    mutating func atomically<T>(_ body: (inout PGWriter) throws -> T) throws -> T {
        savepoints += 1
        let name = "s\(savepoints)"
        let saved = entry
        try session.send("SAVEPOINT \(name)")
        do {
            let result = try body(&self)
            try session.send("RELEASE SAVEPOINT \(name)")
            return result
        } catch {
            entry = saved
            if session.broken == nil {
                try session.send("ROLLBACK TO SAVEPOINT \(name)")
                try session.send("RELEASE SAVEPOINT \(name)")
            }
            throw error
        }
    }

    /// A document's key in a chunk table's `fk` column: exactly one, or 171 (an array under
    /// `files_id` or `n` would give several, which one column cannot hold).
    static func keyColumnKey(_ index: PGIndex, _ doc: BSONDocument) throws -> [UInt8] {
        let keys = try index.keys(for: doc)
        guard keys.count == 1, let key = keys.first else {
            throw StorageError(.cannotIndexParallelArrays, "gridlite cannot keep the unique index \(index.spec.name) on array values")
        }
        return key
    }

    /// Adds keys to an index table; returns the first key a unique index already holds.
    private func addKeys(_ index: PGIndex, _ keys: [[UInt8]], id: RecordID) throws -> [UInt8]? {
        for key in keys {
            if index.spec.unique {
                let rows = try session.query(
                    "INSERT INTO \(index.table)(key, id) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING RETURNING id",
                    [.bytes(key), .int(id)])
                if rows.isEmpty { return key }
            } else {
                try session.query("INSERT INTO \(index.table)(key, id) VALUES ($1, $2) ON CONFLICT DO NOTHING", [.bytes(key), .int(id)])
            }
        }
        return nil
    }

    private func removeKeys(_ index: PGIndex, _ keys: [[UInt8]], id: RecordID) throws {
        guard !keys.isEmpty else { return }
        try session.query("DELETE FROM \(index.table) WHERE key = ANY($1::bytea[]) AND id = $2", [.byteArrays(keys), .int(id)])
    }

    /// Flags an index multikey the first time a document gives it several keys.
    mutating func noteMultikey(_ index: PGIndex, _ keys: [[UInt8]]) throws {
        guard keys.count > 1, !index.multikey, let i = entry.indexes.firstIndex(where: { $0.id == index.id }) else { return }
        try PGCatalog.markMultikey(session, index)
        entry.indexes[i].multikey = true
    }
}
