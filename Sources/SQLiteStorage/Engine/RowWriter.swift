import BSON
import Query
import Storage

/// Writes single documents into a collection's table and keeps its side-table indexes in step.
/// Runs on the writer, inside the caller's transaction; each call is wrapped in a savepoint by the
/// caller so a failed document leaves nothing behind.
struct RowWriter {
    let c: SQLiteConnection
    /// Where chunk payloads go.
    let blobs: BlobStore
    /// The collection, updated when an index turns multikey.
    var entry: CollectionEntry

    /// Inserts a document; returns its row id. A chunk's payload goes to the segment files first;
    /// if the row then cannot be written, those bytes are counted as dead.
    mutating func insert(_ doc: BSONDocument) throws -> Int64 {
        let stored = StoredDocument(doc, kind: entry.kind)
        try noteKeyColumn(stored)
        let ref = try appendPayload(stored)
        do {
            let rid = try c.withStatement(
                "INSERT INTO \(entry.table)(id_key, k, head, tail, data, seg, off, len) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
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
    mutating func replace(rid: Int64, old: BSONDocument, with doc: BSONDocument) throws {
        let stored = StoredDocument(doc, kind: entry.kind)
        try noteKeyColumn(stored)
        let oldRef = try c.withStatement("SELECT seg, off, len FROM \(entry.table) WHERE rid = ?") { s in
            try s.bind(rid, at: 1)
            return try s.step() ? StoredDocument.ref(s, at: 0) : nil
        }
        let ref = try appendPayload(stored)
        do {
            try c.withStatement(
                "UPDATE \(entry.table) SET id_key = ?, k = ?, head = ?, tail = ?, data = ?, seg = ?, off = ?, len = ? WHERE rid = ?"
            ) { s in
                try bindKeys(s, stored)
                try s.bind(rid, at: 9)
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
    func delete(rid: Int64, old: BSONDocument?) throws {
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
            throw QueryError(code: 171, codeName: "CannotIndexParallelArrays",
                             message: "gridlite cannot keep the unique index \(entry.indexes[i].spec.name) on array values")
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

    /// Turns a SQLite unique-constraint failure for `doc` into MongoDB's duplicate-key write
    /// error, naming the index and the duplicated values; nil for other errors.
    func duplicateKeyError(_ error: any Error, doc: BSONDocument, index position: Int) -> WriteError? {
        guard let e = error as? SQLiteError, e.isUniqueViolation else { return nil }
        let message = e.message
        let index: IndexEntry?
        if message.contains("\(entry.table).id_key") {
            index = entry.indexes.first { $0.backing == .idColumn }
        } else if message.contains("\(entry.table).k") {
            index = entry.keyColumnIndex
        } else {
            index = entry.tableIndexes.first { message.contains("\($0.table).") }
        }
        let spec = index?.spec ?? CollectionEntry.idIndexSpec
        var keyValue = BSONDocument()
        for part in spec.key { keyValue.append(part.path, doc.value(atPath: part.path) ?? .null) }
        let shown = keyValue.pairs.map { "\($0.key): \(BSONDocument([("", $0.value)]).relaxedValueText)" }.joined(separator: ", ")
        let text = "E11000 duplicate key error collection: \(entry.namespace) index: \(spec.name) dup key: { \(shown) }"
        return WriteError(index: position, error: StorageError(.duplicateKey, text), keyPattern: spec.keyDocument, keyValue: keyValue)
    }
}

extension BSONDocument {
    /// The relaxed extended JSON of this one-field document's value (for error messages).
    var relaxedValueText: String {
        let json = relaxedExtendedJSON
        guard let colon = json.firstIndex(of: ":") else { return json }
        return String(json[json.index(after: colon)...].dropLast()).trimmingCharacters(in: .whitespaces)
    }
}
