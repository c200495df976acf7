import BSON
import Query
import Storage

/// Moves a collection to another layout kind when a rename changes it (e.g. `fs.chunks` renamed
/// to `archive`): recomputes the built-in key column and its index.
enum Relayout {
    static func change(_ c: SQLiteConnection, _ entry: CollectionEntry, to kind: CollectionKind) throws -> CollectionEntry {
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
                try IndexBuilder.populate(c, entry: entry, index: index)
            }
        }
        entry.kind = kind
        var updated: [(Int64, [UInt8]?)] = []
        try c.withStatement("SELECT rid, \(StoredDocument.columns) FROM \(entry.table)") { s in
            while try s.step() {
                guard let doc = StoredDocument.read(s, at: 1) else { continue }
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
}
