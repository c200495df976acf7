import BSON
import Storage
import Synchronization

/// The collections and indexes, mirrored in memory. The SQLite tables `gl_collections` and
/// `gl_indexes` are the truth; the writer changes them inside its transactions and publishes the
/// new state here only after COMMIT, so readers never see a collection that may still roll back.
final class Catalog: Sendable {
    private let state = Mutex<[Namespace: CollectionEntry]>([:])

    /// The current entry for a namespace.
    func entry(_ namespace: Namespace) -> CollectionEntry? {
        state.withLock { $0[namespace] }
    }

    /// Every entry.
    func all() -> [CollectionEntry] {
        state.withLock { Array($0.values) }.sorted { $0.namespace < $1.namespace }
    }

    /// Replaces the whole catalog (after loading, or after a transaction committed).
    func publish(_ entries: [Namespace: CollectionEntry]) {
        state.withLock { $0 = entries }
    }

    /// A copy to change inside a write transaction.
    func snapshot() -> [Namespace: CollectionEntry] {
        state.withLock { $0 }
    }
}

/// The catalog DDL and the SQL that loads and changes it. Runs on the writer only.
enum CatalogSQL {
    /// Schema version stored in `gl_meta`. 2 added payload references (`seg`, `off`, `len`),
    /// 3 the per-row checksum (`crc`).
    static let schemaVersion = 3

    static let bootstrap = """
        CREATE TABLE IF NOT EXISTS gl_meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
        CREATE TABLE IF NOT EXISTS gl_collections(
            id INTEGER PRIMARY KEY, db TEXT NOT NULL, name TEXT NOT NULL, kind TEXT NOT NULL,
            options BLOB NOT NULL, uuid BLOB NOT NULL, UNIQUE(db, name));
        CREATE TABLE IF NOT EXISTS gl_indexes(
            id INTEGER PRIMARY KEY, collection_id INTEGER NOT NULL, name TEXT NOT NULL, spec BLOB NOT NULL,
            backing TEXT NOT NULL, hidden INTEGER NOT NULL, multikey INTEGER NOT NULL DEFAULT 0,
            UNIQUE(collection_id, name));
        INSERT OR IGNORE INTO gl_meta(key, value) VALUES ('schema_version', '3');
        """

    /// The schema version the file records (nil when it records none).
    static func storedVersion(_ c: SQLiteConnection) throws -> Int? {
        guard case .text(let version)? = try c.query("SELECT value FROM gl_meta WHERE key = 'schema_version'").first?.first else {
            return nil
        }
        return Int(version)
    }

    /// Brings an older file's tables up to ``schemaVersion``: version 1 had no payload-reference
    /// columns, version 2 no `crc` column. The checksums of existing rows are filled in afterwards
    /// by ``ChecksumBackfill`` (which needs the segment files), and the version is raised only once
    /// that has finished, so an interrupted upgrade resumes at the next open. Returns the version
    /// the file had.
    @discardableResult
    static func migrate(_ c: SQLiteConnection) throws -> Int {
        let version = try storedVersion(c) ?? schemaVersion
        guard version < schemaVersion else { return version }
        try c.transaction(.immediate) {
            for row in try c.query("SELECT id FROM gl_collections") {
                guard case .integer(let id)? = row.first else { continue }
                let columns = Set(try c.query("SELECT name FROM pragma_table_info('c\(id)')").compactMap { row -> String? in
                    if case .text(let name)? = row.first { return name }
                    return nil
                })
                for column in ["seg", "off", "len", "crc"] where !columns.contains(column) {
                    try c.exec("ALTER TABLE c\(id) ADD COLUMN \(column) INTEGER")
                }
            }
        }
        return version
    }

    /// Records that the file is at ``schemaVersion``.
    static func markCurrent(_ c: SQLiteConnection) throws {
        _ = try c.execute("UPDATE gl_meta SET value = '\(schemaVersion)' WHERE key = 'schema_version'")
    }

    /// Reads the whole catalog.
    static func load(_ c: SQLiteConnection) throws -> [Namespace: CollectionEntry] {
        var entries: [Int64: CollectionEntry] = [:]
        try c.withStatement("SELECT id, db, name, kind, options, uuid FROM gl_collections") { s in
            while try s.step() {
                let id = s.int64(0)
                let ns = Namespace(unchecked: s.text(1) ?? "", s.text(2) ?? "")
                let kind = CollectionKind(rawValue: s.text(3) ?? "") ?? .plain
                let options = BSONDocument(storedBytes: s.blob(4)) ?? BSONDocument()
                entries[id] = CollectionEntry(id: id, namespace: ns, kind: kind, options: options, uuid: s.blob(5), indexes: [])
            }
        }
        try c.withStatement("SELECT id, collection_id, spec, backing, hidden, multikey FROM gl_indexes ORDER BY id") { s in
            while try s.step() {
                let owner = s.int64(1)
                guard let specDoc = BSONDocument(storedBytes: s.blob(2)), let spec = IndexSpec.fromStored(specDoc) else { continue }
                let index = IndexEntry(
                    id: s.int64(0), spec: spec, backing: IndexBacking(rawValue: s.text(3) ?? "") ?? .table,
                    hidden: s.int64(4) != 0, multikey: s.int64(5) != 0)
                entries[owner]?.indexes.append(index)
            }
        }
        var out: [Namespace: CollectionEntry] = [:]
        for (_, e) in entries { out[e.namespace] = e }
        return out
    }

    /// Creates a collection's table, its `_id_` index and its built-in key index.
    static func createCollection(_ c: SQLiteConnection, _ ns: Namespace, options: BSONDocument) throws -> CollectionEntry {
        let uuid = (0..<16).map { _ in UInt8.random(in: 0...255) }
        let kind = ns.kind
        let id = try c.withStatement("INSERT INTO gl_collections(db, name, kind, options, uuid) VALUES (?, ?, ?, ?, ?)") { s in
            try s.bind(ns.database, at: 1)
            try s.bind(ns.collection, at: 2)
            try s.bind(kind.rawValue, at: 3)
            try s.bind(options.bytes, at: 4)
            try s.bind(uuid, at: 5)
            try s.run()
            return c.lastInsertRowID
        }
        let t = "c\(id)"
        try c.exec("""
            CREATE TABLE \(t)(rid INTEGER PRIMARY KEY, id_key BLOB NOT NULL, k BLOB, head BLOB NOT NULL, tail BLOB, data BLOB,
                seg INTEGER, off INTEGER, len INTEGER, crc INTEGER);
            CREATE UNIQUE INDEX \(t)_id ON \(t)(id_key);
            """)
        var entry = CollectionEntry(id: id, namespace: ns, kind: kind, options: options, uuid: uuid, indexes: [])
        entry.indexes.append(try insertIndex(c, collection: id, spec: CollectionEntry.idIndexSpec, backing: .idColumn, hidden: false))
        if let spec = CollectionEntry.keyColumnSpec(kind, unique: false) {
            try c.exec("CREATE INDEX \(t)_k ON \(t)(k)")
            entry.indexes.append(try insertIndex(c, collection: id, spec: spec, backing: .keyColumn, hidden: true))
        }
        return entry
    }

    /// Records an index in `gl_indexes`.
    static func insertIndex(_ c: SQLiteConnection, collection: Int64, spec: IndexSpec, backing: IndexBacking, hidden: Bool) throws -> IndexEntry {
        let id = try c.withStatement(
            "INSERT INTO gl_indexes(collection_id, name, spec, backing, hidden, multikey) VALUES (?, ?, ?, ?, ?, 0)"
        ) { s in
            try s.bind(collection, at: 1)
            try s.bind(spec.name, at: 2)
            try s.bind(spec.spec.bytes, at: 3)
            try s.bind(backing.rawValue, at: 4)
            try s.bind(hidden ? 1 : 0, at: 5)
            try s.run()
            return c.lastInsertRowID
        }
        return IndexEntry(id: id, spec: spec, backing: backing, hidden: hidden, multikey: false)
    }

    /// Rewrites an index's catalog row.
    static func updateIndex(_ c: SQLiteConnection, _ index: IndexEntry) throws {
        try c.withStatement("UPDATE gl_indexes SET name = ?, spec = ?, hidden = ?, multikey = ? WHERE id = ?") { s in
            try s.bind(index.spec.name, at: 1)
            try s.bind(index.spec.spec.bytes, at: 2)
            try s.bind(index.hidden ? 1 : 0, at: 3)
            try s.bind(index.multikey ? 1 : 0, at: 4)
            try s.bind(index.id, at: 5)
            try s.run()
        }
    }

    /// Drops a collection's tables and catalog rows.
    static func dropCollection(_ c: SQLiteConnection, _ entry: CollectionEntry, blobs: BlobStore) throws {
        try c.withStatement("SELECT seg, SUM(len) FROM \(entry.table) WHERE seg IS NOT NULL GROUP BY seg") { s in
            while try s.step() { blobs.release(segment: s.int64(0), bytes: s.int64(1)) }
        }
        for index in entry.tableIndexes { try c.exec("DROP TABLE IF EXISTS \(index.table)") }
        try c.exec("DROP TABLE IF EXISTS \(entry.table)")
        _ = try c.execute("DELETE FROM gl_indexes WHERE collection_id = ?", [.integer(entry.id)])
        _ = try c.execute("DELETE FROM gl_collections WHERE id = ?", [.integer(entry.id)])
    }
}

extension IndexSpec {
    /// Rebuilds a spec from its stored document.
    static func fromStored(_ doc: BSONDocument) -> IndexSpec? {
        guard case .string(let name)? = doc["name"], case .document(let key)? = doc["key"] else { return nil }
        let parts = key.pairs.map { (path: $0.key, direction: ($0.value.doubleValue ?? 1) < 0 ? -1 : 1) }
        return IndexSpec(name: name, key: parts, unique: doc["unique"]?.isTruthy ?? false, spec: doc)
    }
}
