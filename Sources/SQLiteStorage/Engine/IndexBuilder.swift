import BSON
import Query
import Storage

/// Creates and fills side-table indexes, and adopts the built-in GridFS key column when a
/// client asks for the index it already is.
enum IndexBuilder {
    /// Creates the side table of an index (unique: the key alone is the primary key).
    static func createTable(_ c: SQLiteConnection, _ index: IndexEntry) throws {
        if index.spec.unique {
            try c.exec("CREATE TABLE \(index.table)(key BLOB PRIMARY KEY, rid INTEGER NOT NULL) WITHOUT ROWID")
        } else {
            try c.exec("CREATE TABLE \(index.table)(key BLOB NOT NULL, rid INTEGER NOT NULL, PRIMARY KEY(key, rid)) WITHOUT ROWID")
        }
    }

    /// Indexes every existing document, streaming (the side table is written while the
    /// collection is read); a duplicate under a unique index is DuplicateKey (11000).
    static func populate(_ c: SQLiteConnection, entry: CollectionEntry, blobs: BlobStore, index: IndexEntry) throws {
        var multikey = false
        try c.withStatement("SELECT rid, \(StoredDocument.columns) FROM \(entry.table) ORDER BY rid") { rows in
            try c.withStatement("INSERT INTO \(index.table)(key, rid) VALUES (?, ?)") { s in
                while try rows.step() {
                    let rid = rows.int64(0)
                    guard let doc = try StoredDocument.read(rows, at: 1, blobs: blobs) else { continue }
                    let keys = try IndexKeyEncoder.keys(for: doc, paths: index.paths, descending: index.descending)
                    multikey = multikey || keys.count > 1
                    for key in keys {
                        try s.bind(key, at: 1)
                        try s.bind(rid, at: 2)
                        do {
                            try s.run()
                        } catch let e as SQLiteError where e.isUniqueViolation {
                            throw duplicate(entry: entry, index: index, doc: doc)
                        }
                    }
                }
            }
        }
        if multikey {
            var updated = index
            updated.multikey = true
            try CatalogSQL.updateIndex(c, updated)
        }
    }

    /// Makes the hidden built-in key index the client's index `spec` (same key pattern).
    static func adoptKeyColumn(_ c: SQLiteConnection, entry: CollectionEntry, blobs: BlobStore, index: IndexEntry, spec: IndexSpec) throws -> IndexEntry {
        var adopted = index
        adopted.spec = spec
        adopted.hidden = false
        if spec.unique {
            var dup: BSONDocument?
            try c.withStatement(
                "SELECT \(StoredDocument.columns) FROM \(entry.table) WHERE k IN (SELECT k FROM \(entry.table) WHERE k IS NOT NULL GROUP BY k HAVING count(*) > 1) LIMIT 1"
            ) { s in
                if try s.step() { dup = try StoredDocument.read(s, at: 0, blobs: blobs) }
            }
            if let dup { throw duplicate(entry: entry, index: adopted, doc: dup) }
            try c.exec("CREATE UNIQUE INDEX IF NOT EXISTS \(entry.table)_ku ON \(entry.table)(k); DROP INDEX IF EXISTS \(entry.table)_k")
        }
        try CatalogSQL.updateIndex(c, adopted)
        return adopted
    }

    /// Returns the built-in key index to its hidden, non-unique state (the client dropped it).
    static func releaseKeyColumn(_ c: SQLiteConnection, entry: CollectionEntry, index: IndexEntry) throws -> IndexEntry {
        var released = index
        guard let spec = CollectionEntry.keyColumnSpec(entry.kind, unique: false) else { return index }
        released.spec = spec
        released.hidden = true
        try c.exec("CREATE INDEX IF NOT EXISTS \(entry.table)_k ON \(entry.table)(k); DROP INDEX IF EXISTS \(entry.table)_ku")
        try CatalogSQL.updateIndex(c, released)
        return released
    }

    /// The error for a unique index that cannot be built over existing duplicates.
    static func duplicate(entry: CollectionEntry, index: IndexEntry, doc: BSONDocument) -> StorageError {
        var keyValue = BSONDocument()
        for p in index.paths { keyValue.append(p, doc.value(atPath: p) ?? .null) }
        return StorageError(.duplicateKey,
            "Index build failed: E11000 duplicate key error collection: \(entry.namespace) index: \(index.spec.name) dup key: \(keyValue)")
    }
}
