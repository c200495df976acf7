import BSON
import Query
import Storage

extension PostgresStorageEngine {
    public func collectionStats(_ namespace: Namespace) async throws -> CollectionStats {
        try await withSession { s in
            guard let entry = try PGCatalog.entry(s, namespace, lock: nil) else {
                return CollectionStats(count: 0, size: 0, storageSize: 0, indexSizes: [])
            }
            let row = try s.query("""
                SELECT count(*), COALESCE(sum(octet_length(doc)), 0), pg_table_size('\(entry.table)'),
                       pg_indexes_size('\(entry.table)') FROM \(entry.table)
                """).first
            var sizes: [(String, Int64)] = [("_id_", row?.int(3) ?? 0)]
            for index in entry.indexes where index.keyColumn {
                sizes.append((index.spec.name, try s.query("SELECT pg_relation_size('\(entry.table)_fk')").first?.int(0) ?? 0))
            }
            for index in entry.tableIndexes {
                sizes.append((index.spec.name, try s.query("SELECT pg_total_relation_size('\(index.table)')").first?.int(0) ?? 0))
            }
            return CollectionStats(count: Int(row?.int(0) ?? 0), size: row?.int(1) ?? 0, storageSize: row?.int(2) ?? 0, indexSizes: sizes)
        }
    }

    public func databaseStats(_ database: String) async throws -> DatabaseStats {
        let names = try await listCollections(in: database).map(\.name)
        var stats = DatabaseStats(collections: 0, objects: 0, dataSize: 0, storageSize: 0, indexes: 0, indexSize: 0)
        for name in names {
            let c = try await collectionStats(Namespace(unchecked: database, name))
            stats.collections += 1
            stats.objects += c.count
            stats.dataSize &+= c.size
            stats.storageSize &+= c.storageSize
            stats.indexes += c.indexSizes.count
            stats.indexSize &+= c.indexSizes.reduce(0) { $0 &+ $1.1 }
        }
        return stats
    }

    /// Checks that every key table holds exactly the keys of the stored documents, and that
    /// every stored document is BSON whose `_id` key matches its row.
    public func validate(_ namespace: Namespace, full: Bool) async throws -> ValidationReport {
        try await withSession { s in
            guard let entry = try PGCatalog.entry(s, namespace, lock: nil) else {
                throw StorageError(.namespaceNotFound, "Collection '\(namespace)' does not exist to validate.")
            }
            var errors: [String] = []
            var expected = [Int64](repeating: 0, count: entry.tableIndexes.count)
            var records = 0
            var last: Int64 = 0
            while true {
                let rows = try s.query("SELECT id, k, doc\(entry.chunkLayout ? ", fk" : "") FROM \(entry.table) WHERE id > $1 ORDER BY id LIMIT 256",
                                       [.int(last)])
                for row in rows {
                    last = row.int(0)
                    records += 1
                    guard let doc = row.bytes(2).flatMap({ BSONDocument(storedBytes: $0) }) else {
                        errors.append("record \(last) is not a BSON document")
                        continue
                    }
                    if IndexKeyEncoder.encode(doc["_id"] ?? .null) != row.bytes(1) { errors.append("record \(last): _id key mismatch") }
                    if let index = entry.keyColumnIndex, (try? PGWriter.keyColumnKey(index, doc)) != row.bytes(3) {
                        errors.append("record \(last): index \(index.spec.name) key mismatch")
                    }
                    for (i, index) in entry.tableIndexes.enumerated() { expected[i] += Int64((try? index.keys(for: doc).count) ?? 0) }
                }
                if rows.count < 256 { break }
            }
            for (i, index) in entry.tableIndexes.enumerated() {
                let row = try s.query("""
                    SELECT count(*), count(*) FILTER (WHERE NOT EXISTS (SELECT 1 FROM \(entry.table) c WHERE c.id = x.id))
                    FROM \(index.table) x
                    """).first
                let count = row?.int(0) ?? 0
                if count != expected[i] { errors.append("index \(index.spec.name) has \(count) keys, documents give \(expected[i])") }
                if (row?.int(1) ?? 0) > 0 { errors.append("index \(index.spec.name) points at a missing record") }
            }
            var warnings: [String] = []
            if let bucket = namespace.bucketName,
               let files = try PGCatalog.entry(s, Namespace(unchecked: namespace.database, "\(bucket).files"), lock: nil),
               let chunks = try PGCatalog.entry(s, Namespace(unchecked: namespace.database, "\(bucket).chunks"), lock: nil) {
                warnings = try PGGridFSCheck.run(s, files: files, chunks: chunks)
            }
            return ValidationReport(recordsChecked: records, errors: errors, warnings: warnings)
        }
    }
}
