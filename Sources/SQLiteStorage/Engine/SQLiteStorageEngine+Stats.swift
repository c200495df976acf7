import BSON
import Query
import Storage

/// Size queries over SQLite's `dbstat` table.
enum StatsSQL {
    /// Bytes on disk of each named table together with its SQLite indexes.
    static func tableSizes(_ c: SQLiteConnection, tables: [String]) throws -> [String: Int64] {
        guard !tables.isEmpty else { return [:] }
        var out: [String: Int64] = [:]
        try c.withStatement("SELECT tbl_name, name FROM sqlite_schema WHERE type IN ('table', 'index')") { s in
            var owners: [String: String] = [:]
            while try s.step() { owners[s.text(1) ?? ""] = s.text(0) ?? "" }
            let sizes = try objectSizes(c)
            for (name, size) in sizes {
                guard let owner = owners[name] else { continue }
                let key = tables.contains(owner) ? owner : (owner.hasPrefix("x") ? owner : "")
                out[key, default: 0] += size
            }
        }
        return out
    }

    /// Bytes per SQLite object (table or index) from dbstat.
    static func objectSizes(_ c: SQLiteConnection) throws -> [String: Int64] {
        var out: [String: Int64] = [:]
        try c.withStatement("SELECT name, SUM(pgsize) FROM dbstat GROUP BY name") { s in
            while try s.step() { out[s.text(0) ?? ""] = s.int64(1) }
        }
        return out
    }
}

extension SQLiteStorageEngine {
    public func collectionStats(_ namespace: Namespace) async throws -> CollectionStats {
        guard let entry = catalog.entry(namespace) else {
            return CollectionStats(count: 0, size: 0, storageSize: 0, indexSizes: [])
        }
        return try await read { c in
            var count = 0
            var size: Int64 = 0
            var blobBytes: Int64 = 0
            try c.withStatement(
                "SELECT count(*), COALESCE(SUM(length(head) + COALESCE(length(data), len, 0) + COALESCE(length(tail), 0)), 0), COALESCE(SUM(len), 0) FROM \(entry.table)"
            ) { s in
                if try s.step() {
                    count = Int(s.int64(0))
                    size = s.int64(1)
                    blobBytes = s.int64(2)
                }
            }
            let objects = try StatsSQL.objectSizes(c)
            // Payloads in segment files count as the collection's storage too.
            let storage = (objects[entry.table] ?? size) + blobBytes
            var indexSizes: [(String, Int64)] = []
            for index in entry.visibleIndexes {
                let bytes: Int64
                switch index.backing {
                case .idColumn: bytes = objects["\(entry.table)_id"] ?? 0
                case .keyColumn: bytes = objects["\(entry.table)_ku"] ?? objects["\(entry.table)_k"] ?? 0
                case .table: bytes = objects[index.table] ?? 0
                }
                indexSizes.append((index.spec.name, bytes))
            }
            return CollectionStats(count: count, size: size, storageSize: storage, indexSizes: indexSizes)
        }
    }

    public func databaseStats(_ database: String) async throws -> DatabaseStats {
        var stats = DatabaseStats(collections: 0, objects: 0, dataSize: 0, storageSize: 0, indexes: 0, indexSize: 0)
        for entry in catalog.all() where entry.namespace.database == database {
            let s = try await collectionStats(entry.namespace)
            stats.collections += 1
            stats.objects += s.count
            stats.dataSize += s.size
            stats.storageSize += s.storageSize
            stats.indexes += s.indexSizes.count
            stats.indexSize += s.indexSizes.reduce(0) { $0 + $1.1 }
        }
        return stats
    }

    public func validate(_ namespace: Namespace, full: Bool) async throws -> ValidationReport {
        guard let entry = catalog.entry(namespace) else {
            throw StorageError(.namespaceNotFound, "Collection '\(namespace)' does not exist to validate.")
        }
        let bucket = namespace.bucketName.map { Namespace(unchecked: namespace.database, "\($0).files") }
        let chunksNS = namespace.bucketName.map { Namespace(unchecked: namespace.database, "\($0).chunks") }
        let filesEntry = bucket.flatMap { catalog.entry($0) }
        let chunksEntry = chunksNS.flatMap { catalog.entry($0) }
        let blobs = self.blobs
        return try await read { c in
            var report = ValidationReport(recordsChecked: 0, errors: [], warnings: [])
            try c.withStatement("SELECT rid, \(StoredDocument.columns) FROM \(entry.table)") { s in
                while try s.step() {
                    report.recordsChecked += 1
                    let doc: BSONDocument?
                    do {
                        doc = try StoredDocument.read(s, at: 1, blobs: blobs)
                    } catch {
                        report.errors.append("record \(s.int64(0)): chunk payload unreadable: \(error)")
                        continue
                    }
                    guard let doc else {
                        report.errors.append("record \(s.int64(0)) is not a well-framed BSON document")
                        continue
                    }
                    if full, (try? BSONDocument(validating: doc.bytes)) == nil {
                        report.errors.append("record \(s.int64(0)) is not valid BSON")
                    }
                }
            }
            if let integrity = try c.query("PRAGMA quick_check").first?.first, integrity != .text("ok") {
                report.errors.append("SQLite quick_check: \(integrity)")
            }
            if let filesEntry, let chunksEntry {
                report.warnings += try GridFSCheck.run(c, files: filesEntry, chunks: chunksEntry, blobs: blobs)
            }
            return report
        }
    }
}
