import BSON
import Storage

extension PostgresStorageEngine {
    public func createIndexes(_ specs: [IndexSpec], on namespace: Namespace) async throws -> CreateIndexesResult {
        try await transaction { s in
            // Exclusive: writes in flight finish first, later ones see the new index.
            var created = false
            var entry: PGCollection
            if let existing = try PGCatalog.entry(s, namespace, lock: .update) {
                entry = existing
            } else {
                (entry, created) = try PGCatalog.create(s, namespace, options: BSONDocument(), lock: .update)
            }
            let before = entry.indexes.count
            for spec in specs {
                if try IndexRules.alreadyExists(spec, among: entry.indexes.map(\.spec)) { continue }
                var index = try PGCatalog.createIndex(s, collection: entry, spec: spec)
                if index.keyColumn {
                    try Self.populateKeyColumn(s, entry: entry, index: index)
                } else {
                    index.multikey = try Self.populate(s, entry: entry, index: index)
                }
                entry.indexes.append(index)
            }
            if entry.indexes.count != before {
                try s.query("UPDATE gl_collections SET version = version + 1 WHERE id = $1", [.int(entry.id)])
            }
            return CreateIndexesResult(numIndexesBefore: before, numIndexesAfter: entry.indexes.count,
                                       createdCollectionAutomatically: created)
        }
    }

    /// Fills a new index table from the collection, a page at a time; a duplicate under a unique
    /// index is 11000. Returns whether the index is multikey.
    static func populate(_ s: PGSession, entry: PGCollection, index: PGIndex) throws -> Bool {
        var multikey = false
        var last: Int64 = 0
        while true {
            let rows = try s.query("SELECT id, doc FROM \(entry.table) WHERE id > $1 ORDER BY id LIMIT 1000", [.int(last)])
            var keys: [[UInt8]] = []
            var ids: [Int64] = []
            var docs: [Int64: BSONDocument] = [:]
            for row in rows {
                let id = row.int(0)
                last = id
                guard let doc = row.bytes(1).flatMap({ BSONDocument(storedBytes: $0) }) else { continue }
                let docKeys = try index.keys(for: doc)
                multikey = multikey || docKeys.count > 1
                for key in docKeys {
                    keys.append(key)
                    ids.append(id)
                }
                if index.spec.unique { docs[id] = doc }
            }
            if !keys.isEmpty {
                // One statement per page; for a unique index the keys that clashed come back.
                let clashes = try s.query("""
                    WITH u AS (SELECT * FROM unnest($1::bytea[], $2::int8[]) AS u(key, id)),
                         i AS (INSERT INTO \(index.table)(key, id) SELECT key, id FROM u ON CONFLICT DO NOTHING RETURNING key, id)
                    SELECT u.id FROM u WHERE NOT EXISTS (SELECT 1 FROM i WHERE i.key = u.key AND i.id = u.id) LIMIT 1
                    """, [.byteArrays(keys), .ints(ids)])
                if index.spec.unique, let clash = clashes.first?.int(0) {
                    var keyValue = BSONDocument()
                    let doc = docs[clash] ?? BSONDocument()
                    for part in index.spec.key { keyValue.append(part.path, doc.value(atPath: part.path) ?? .null) }
                    throw StorageError(.duplicateKey,
                        "Index build failed: E11000 duplicate key error collection: \(entry.namespace) index: \(index.spec.name) dup key: \(keyValue)")
                }
            }
            if rows.count < 1000 { break }
        }
        if multikey { try PGCatalog.markMultikey(s, index) }
        return multikey
    }

    /// Fills a chunk table's `fk` column from its documents (a page of chunks per statement) and
    /// creates its unique index; two documents with one (files_id, n) are 11000, as for any
    /// unique index build, and a document with an array there is 171 (the column holds one key).
    static func populateKeyColumn(_ s: PGSession, entry: PGCollection, index: PGIndex) throws {
        var last: Int64 = 0
        while true {
            let rows = try s.query("SELECT id, doc FROM \(entry.table) WHERE id > $1 ORDER BY id LIMIT 64", [.int(last)])
            var keys: [[UInt8]] = []
            var ids: [Int64] = []
            for row in rows {
                let id = row.int(0)
                last = id
                guard let doc = row.bytes(1).flatMap({ BSONDocument(storedBytes: $0) }) else { continue }
                keys.append(try PGWriter.keyColumnKey(index, doc))
                ids.append(id)
            }
            if !ids.isEmpty {
                try s.query("UPDATE \(entry.table) c SET fk = u.key FROM unnest($1::int8[], $2::bytea[]) AS u(id, key) WHERE c.id = u.id",
                            [.ints(ids), .byteArrays(keys)])
            }
            if rows.count < 64 { break }
        }
        let clash = try s.query("""
            SELECT doc FROM \(entry.table) WHERE fk = (SELECT fk FROM \(entry.table) WHERE fk IS NOT NULL GROUP BY fk HAVING count(*) > 1 LIMIT 1)
            LIMIT 1
            """)
        if let row = clash.first {
            let doc = row.bytes(0).flatMap { BSONDocument(storedBytes: $0) } ?? BSONDocument()
            var keyValue = BSONDocument()
            for part in index.spec.key { keyValue.append(part.path, doc.value(atPath: part.path) ?? .null) }
            throw StorageError(.duplicateKey,
                "Index build failed: E11000 duplicate key error collection: \(entry.namespace) index: \(index.spec.name) dup key: \(keyValue)")
        }
        try s.query("CREATE UNIQUE INDEX \(entry.table)_fk ON \(entry.table)(fk)")
    }

    public func listIndexes(_ namespace: Namespace) async throws -> [IndexSpec] {
        try await withSession { s in
            guard let entry = try PGCatalog.entry(s, namespace, lock: nil) else {
                throw StorageError(.namespaceNotFound, "ns does not exist: \(namespace)")
            }
            return entry.indexes.map(\.spec)
        }
    }

    public func dropIndexes(_ target: IndexTarget, on namespace: Namespace) async throws -> Int {
        try await transaction { s in
            guard let entry = try PGCatalog.entry(s, namespace, lock: .update) else {
                throw StorageError(.namespaceNotFound, "ns not found \(namespace)")
            }
            let before = entry.indexes.count
            let names = Set(try IndexRules.victims(target, among: entry.indexes.map(\.spec)).map(\.name))
            for victim in entry.tableIndexes where names.contains(victim.spec.name) {
                try s.query("DROP TABLE IF EXISTS \(victim.table)")
                try s.query("DELETE FROM gl_indexes WHERE id = $1", [.int(victim.id)])
            }
            if let victim = entry.keyColumnIndex, names.contains(victim.spec.name) {
                // The `fk` values stay (unread) until the index is created again and refills them.
                try s.query("DROP INDEX IF EXISTS \(entry.table)_fk")
                try s.query("DELETE FROM gl_indexes WHERE id = $1", [.int(victim.id)])
            }
            if !names.isEmpty { try s.query("UPDATE gl_collections SET version = version + 1 WHERE id = $1", [.int(entry.id)]) }
            return before
        }
    }
}
