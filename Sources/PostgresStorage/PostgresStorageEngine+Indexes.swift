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
                var index = try PGCatalog.createIndex(s, collection: entry.id, spec: spec)
                index.multikey = try Self.populate(s, entry: entry, index: index)
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
            let rows = try s.query("SELECT id, doc FROM \(entry.table) WHERE id > $1 ORDER BY id LIMIT 256", [.int(last)])
            for row in rows {
                let id = row.int(0)
                last = id
                guard let doc = row.bytes(1).flatMap({ BSONDocument(storedBytes: $0) }) else { continue }
                let keys = try index.keys(for: doc)
                multikey = multikey || keys.count > 1
                for key in keys {
                    let inserted = try s.query(
                        "INSERT INTO \(index.table)(key, id) VALUES ($1, $2) ON CONFLICT DO NOTHING RETURNING id", [.bytes(key), .int(id)])
                    if inserted.isEmpty && index.spec.unique {
                        var keyValue = BSONDocument()
                        for part in index.spec.key { keyValue.append(part.path, doc.value(atPath: part.path) ?? .null) }
                        throw StorageError(.duplicateKey,
                            "Index build failed: E11000 duplicate key error collection: \(entry.namespace) index: \(index.spec.name) dup key: \(keyValue)")
                    }
                }
            }
            if rows.count < 256 { break }
        }
        if multikey { try PGCatalog.markMultikey(s, index) }
        return multikey
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
            if !names.isEmpty { try s.query("UPDATE gl_collections SET version = version + 1 WHERE id = $1", [.int(entry.id)]) }
            return before
        }
    }
}
