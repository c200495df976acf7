import BSON
import Query
import Storage

/// Moves a collection to another layout kind when a rename changes it (e.g. `fs.chunks` renamed
/// to `archive`): recomputes the built-in key column and its index.
enum Relayout {
    static func change(_ c: SQLiteConnection, _ entry: CollectionEntry, blobs: BlobStore, to kind: CollectionKind) throws -> CollectionEntry {
        var entry = entry
        // An index a client made on the old key column becomes an ordinary side-table index.
        if let old = entry.keyColumnIndex {
            try c.exec("DROP INDEX IF EXISTS \(entry.table)_k; DROP INDEX IF EXISTS \(entry.table)_ku")
            _ = try c.execute("DELETE FROM gl_indexes WHERE id = ?", [.integer(old.id)])
            entry.indexes.removeAll { $0.id == old.id }
            if !old.hidden {
                let index = try CatalogSQL.insertIndex(c, collection: entry.id, spec: old.spec, backing: .table, hidden: false)
                try IndexBuilder.createTable(c, index)
                entry.indexes.append(index)
                try IndexBuilder.populate(c, entry: entry, blobs: blobs, index: index)
            }
        }
        entry.kind = kind
        var updated: [(Int64, [UInt8]?)] = []
        try c.withStatement("SELECT rid, \(StoredDocument.columns) FROM \(entry.table)") { s in
            while try s.step() {
                guard let doc = try StoredDocument.read(s, at: 1, blobs: blobs) else { continue }
                updated.append((s.int64(0), StoredDocument(doc, kind: kind).key))
            }
        }
        try c.withStatement("UPDATE \(entry.table) SET k = ? WHERE rid = ?") { s in
            for (rid, key) in updated {
                if let key { try s.bind(key, at: 1) } else { try s.bindNull(at: 1) }
                try s.bind(rid, at: 2)
                try s.run()
            }
        }
        if kind != .gridFSChunks { try moveInline(c, entry, blobs: blobs) }
        if let spec = CollectionEntry.keyColumnSpec(kind, unique: false) {
            try c.exec("CREATE INDEX IF NOT EXISTS \(entry.table)_k ON \(entry.table)(k)")
            var index = try CatalogSQL.insertIndex(c, collection: entry.id, spec: spec, backing: .keyColumn, hidden: true)
            if updated.contains(where: { $0.1 == nil }) {
                index.multikey = true
                try CatalogSQL.updateIndex(c, index)
            }
            entry.indexes.append(index)
        }
        return entry
    }

    /// Brings payloads kept in segment files back into their rows (the collection is no longer a
    /// chunks collection, so its rows must be self-contained again).
    static func moveInline(_ c: SQLiteConnection, _ entry: CollectionEntry, blobs: BlobStore) throws {
        var refs: [(Int64, BlobRef)] = []
        try c.withStatement("SELECT rid, seg, off, len FROM \(entry.table) WHERE seg IS NOT NULL") { s in
            while try s.step() {
                if let ref = StoredDocument.ref(s, at: 1) { refs.append((s.int64(0), ref)) }
            }
        }
        try c.withStatement("UPDATE \(entry.table) SET data = ?, seg = NULL, off = NULL, len = NULL WHERE rid = ?") { s in
            for (rid, ref) in refs {
                var payload = [UInt8](repeating: 0, count: ref.length)
                try payload.withUnsafeMutableBytes { try blobs.read(ref, into: $0) }
                try s.bind(payload, at: 1)
                try s.bind(rid, at: 2)
                try s.run()
                blobs.release(ref)
            }
        }
    }
}
