import BSON
import PostgresNIO
import Query
import Storage
import Synchronization

/// One index of a collection as the PostgreSQL engine keeps it.
struct PGIndex: Sendable {
    /// Catalog row id (names the table `x<id>`); 0 for `_id_`, which is the `k` column.
    let id: Int64
    /// The definition.
    var spec: IndexSpec
    /// True once some document produced several keys.
    var multikey: Bool
    /// True for the `(files_id, n)` index of a chunk table: its keys are the table's `fk` column
    /// (unique), not a key table.
    var keyColumn = false

    /// True for `_id_` (kept in the collection table's unique `k` column).
    var isIdIndex: Bool { id == 0 }
    /// The key table's name.
    var table: String { "x\(id)" }

    /// The planner's view.
    var descriptor: IndexDescriptor {
        IndexDescriptor(name: spec.name, key: spec.key, unique: spec.unique, multikey: multikey)
    }

    /// The encoded keys `doc` has in this index, without repeats.
    func keys(for doc: BSONDocument) throws -> [[UInt8]] {
        let keys = try IndexKeyEncoder.keys(for: doc, paths: spec.key.map(\.path), descending: spec.key.map { $0.direction < 0 })
        guard keys.count > 1 else { return keys }
        var seen = Set<[UInt8]>()
        return keys.filter { seen.insert($0).inserted }
    }

    /// The `_id_` index.
    static let idIndex = PGIndex(id: 0, spec: DuplicateKeyReport.idIndexSpec, multikey: false)
}

/// One collection as the PostgreSQL engine keeps it (read from the catalog for each command:
/// the daemons keep no state of their own).
struct PGCollection: Sendable {
    /// Catalog row id (names the table `c<id>`).
    let id: Int64
    /// Its namespace.
    var namespace: Namespace
    /// Creation options.
    var options: BSONDocument
    /// Stable identifier.
    let uuid: [UInt8]
    /// Indexes, `_id_` first.
    var indexes: [PGIndex]
    /// The catalog row's version: every DDL on the collection (index created or dropped, rename)
    /// bumps it, so a cached entry with the same id and version is still right.
    var version: Int64

    /// The document table's name.
    var table: String { "c\(id)" }
    /// True for a chunk table (`<bucket>.chunks` made by this schema): it has the `fk` column.
    var chunkLayout = false

    /// The indexes kept in key tables.
    var tableIndexes: [PGIndex] { indexes.filter { !$0.isIdIndex && !$0.keyColumn } }
    /// The `(files_id, n)` index kept in the `fk` column, if the client has created it.
    var keyColumnIndex: PGIndex? { indexes.first { $0.keyColumn } }
    /// What the planner may use.
    var descriptors: [IndexDescriptor] { indexes.map(\.descriptor) }
}

/// The catalog's SQL: schema creation, lookups and DDL. Table and index names are generated from
/// catalog ids (`c<id>`, `x<id>`), never from client text.
enum PGCatalog {
    /// The schema version this build reads and writes.
    static let schemaVersion = "1"

    /// Creates the catalog tables when missing (under an advisory lock, so several daemons can
    /// start at once) and checks the schema version.
    static func bootstrap(_ s: PGSession) throws -> String? {
        try s.transaction {
            try s.query("SELECT pg_advisory_xact_lock(7301447236)")
            try s.query("CREATE TABLE IF NOT EXISTS gl_meta(key text PRIMARY KEY, value text NOT NULL)")
            try s.query("""
                CREATE TABLE IF NOT EXISTS gl_collections(id bigserial PRIMARY KEY, db text NOT NULL, name text NOT NULL,
                    options bytea NOT NULL, uuid bytea NOT NULL, version bigint NOT NULL DEFAULT 1, UNIQUE(db, name))
                """)
            try s.query("""
                CREATE TABLE IF NOT EXISTS gl_indexes(id bigserial PRIMARY KEY, collection_id bigint NOT NULL,
                    name text NOT NULL, spec bytea NOT NULL, multikey boolean NOT NULL DEFAULT false, UNIQUE(collection_id, name))
                """)
            // Chunk tables came later in the same schema version: an older database gets the
            // columns (its existing chunk collections keep their generic tables).
            for table in ["gl_collections", "gl_indexes"] {
                let has = try s.query("""
                    SELECT 1 FROM information_schema.columns
                    WHERE table_schema = current_schema() AND table_name = $1 AND column_name = 'keycol'
                    """, [.text(table)])
                if has.isEmpty { try s.query("ALTER TABLE \(table) ADD COLUMN keycol boolean NOT NULL DEFAULT false") }
            }
            try s.query("INSERT INTO gl_meta(key, value) VALUES ('schema_version', $1) ON CONFLICT (key) DO NOTHING", [.text(schemaVersion)])
            let found = try s.query("SELECT value FROM gl_meta WHERE key = 'schema_version'").first?.text(0)
            return found == schemaVersion ? nil : found
        }
    }

    /// The columns ``entry(from:)`` reads.
    static let columns = "c.id, c.db, c.name, c.options, c.uuid, i.id, i.spec, i.multikey, c.version, c.keycol, i.keycol"

    /// How a lookup locks the collection's catalog row for the rest of its transaction.
    enum Lock: String {
        /// Writes: index DDL (which locks exclusively) waits for them, and the next write sees
        /// the new indexes.
        case share = "FOR SHARE"
        /// DDL on the collection (indexes, drop, rename).
        case update = "FOR UPDATE"
    }

    /// Looks a collection up, locking its catalog row when asked (the row is locked first, then
    /// the indexes are read, so a lookup that waited for DDL sees its result).
    static func entry(_ s: PGSession, _ namespace: Namespace, lock: Lock?) throws -> PGCollection? {
        if lock != .update, let cache = s.catalogCache { return try cachedEntry(s, namespace, lock: lock, cache: cache) }
        if let lock {
            let locked = try s.query("SELECT id FROM gl_collections WHERE db = $1 AND name = $2 \(lock.rawValue)",
                                     [.text(namespace.database), .text(namespace.collection)])
            guard !locked.isEmpty else { return nil }
        }
        return try entries(s, where: "c.db = $1 AND c.name = $2", [.text(namespace.database), .text(namespace.collection)]).first
    }

    /// The lookup of reads and writes: one statement reads (and for a write share-locks) the
    /// catalog row's id and version and the ids of the multikey indexes; the indexes themselves
    /// come from this daemon's cache while id and version match, and are read again otherwise
    /// (after the lock, so a write that waited for DDL sees its result).
    private static func cachedEntry(_ s: PGSession, _ namespace: Namespace, lock: Lock?, cache: PGCatalogCache) throws -> PGCollection? {
        let rows = try s.query("""
            SELECT c.id, c.version, ARRAY(SELECT i.id FROM gl_indexes i WHERE i.collection_id = c.id AND i.multikey)
            FROM gl_collections c WHERE c.db = $1 AND c.name = $2\(lock.map { " " + $0.rawValue } ?? "")
            """, [.text(namespace.database), .text(namespace.collection)])
        guard let row = rows.first else {
            cache.set(namespace, nil)
            return nil
        }
        let id = row.int(0)
        let version = row.int(1)
        let multikey = Set(row.ints(2))
        if var cached = cache.get(namespace), cached.id == id, cached.version == version {
            var changed = false
            for i in cached.indexes.indices where multikey.contains(cached.indexes[i].id) && !cached.indexes[i].multikey {
                cached.indexes[i].multikey = true
                changed = true
            }
            // An index turns multikey once and stays so until it is dropped (which bumps the
            // version): the cache may keep the flag, so the next read's check matches.
            if changed { cache.set(namespace, cached) }
            return cached
        }
        let loaded = try entries(s, where: "c.id = $1", [.int(id)]).first
        cache.set(namespace, loaded)
        return loaded
    }

    /// Sends, ahead of a read's own statements, the check that a cached entry is still the
    /// collection's (``confirms(_:_:)`` reads the answer): same id, same version, and no index
    /// multikey that the entry has as single-key.
    static func sendCheck(_ s: PGSession, _ entry: PGCollection) throws {
        try s.sendAhead("""
            SELECT c.version, ARRAY(SELECT i.id FROM gl_indexes i WHERE i.collection_id = c.id AND i.multikey)
            FROM gl_collections c WHERE c.id = $1
            """, [.int(entry.id)])
    }

    /// Whether the rows of ``sendCheck(_:_:)`` confirm `entry`.
    static func confirms(_ rows: [PostgresRow], _ entry: PGCollection) -> Bool {
        guard let row = rows.first, row.int(0) == entry.version else { return false }
        let multikey = Set(row.ints(1))
        return entry.indexes.allSatisfy { $0.multikey || !multikey.contains($0.id) }
    }

    /// Every collection matching a condition on `c` (gl_collections), indexes included.
    static func entries(_ s: PGSession, where condition: String, _ values: [PGValue]) throws -> [PGCollection] {
        let rows = try s.query("""
            SELECT \(columns) FROM gl_collections c LEFT JOIN gl_indexes i ON i.collection_id = c.id
            WHERE \(condition) ORDER BY c.db, c.name, i.id
            """, values)
        var out: [PGCollection] = []
        for row in rows {
            let id = row.int(0)
            if out.last?.id != id {
                let options = row.bytes(3).flatMap { BSONDocument(storedBytes: $0) } ?? BSONDocument()
                out.append(PGCollection(id: id, namespace: Namespace(unchecked: row.text(1) ?? "", row.text(2) ?? ""),
                                        options: options, uuid: row.bytes(4) ?? [], indexes: [PGIndex.idIndex], version: row.int(8),
                                        chunkLayout: row.bool(9)))
            }
            guard let indexID = Optional(row.int(5)), indexID != 0,
                  let specBytes = row.bytes(6), let doc = BSONDocument(storedBytes: specBytes),
                  let spec = IndexSpec.fromStored(doc) else { continue }
            out[out.count - 1].indexes.append(PGIndex(id: indexID, spec: spec, multikey: row.bool(7), keyColumn: row.bool(10)))
        }
        return out
    }

    /// Creates a collection's catalog row and table (or finds, locked with `lock`, the one another
    /// daemon just made).
    static func create(_ s: PGSession, _ namespace: Namespace, options: BSONDocument, lock: Lock) throws -> (PGCollection, created: Bool) {
        let uuid = (0..<16).map { _ in UInt8.random(in: 0...255) }
        let chunkLayout = namespace.kind == .gridFSChunks
        let inserted = try s.query("""
            INSERT INTO gl_collections(db, name, options, uuid, keycol) VALUES ($1, $2, $3, $4, $5)
            ON CONFLICT (db, name) DO NOTHING RETURNING id, version
            """, [.text(namespace.database), .text(namespace.collection), .bytes(options.bytes), .bytes(uuid), .bool(chunkLayout)])
        guard let id = inserted.first?.int(0) else {
            guard let existing = try entry(s, namespace, lock: lock) else {
                throw MongoError(.internalError, "collection \(namespace) vanished while being created")
            }
            return (existing, false)
        }
        let table = "c\(id)"
        if chunkLayout {
            // A chunk table: `fk` holds the encoded (files_id, n) key once the client creates that
            // index (unique then, and the downloads' range scans read this table alone).
            try s.query("CREATE TABLE \(table)(id bigserial PRIMARY KEY, k bytea NOT NULL UNIQUE, fk bytea, doc bytea NOT NULL)")
        } else {
            try s.query("CREATE TABLE \(table)(id bigserial PRIMARY KEY, k bytea NOT NULL UNIQUE, doc bytea NOT NULL)")
        }
        // Documents are mostly chunk payloads: compressing them costs CPU and gains nothing.
        try s.query("ALTER TABLE \(table) ALTER COLUMN doc SET STORAGE EXTERNAL")
        let version = inserted.first?.int(1) ?? 1
        return (PGCollection(id: id, namespace: namespace, options: options, uuid: uuid, indexes: [PGIndex.idIndex], version: version,
                             chunkLayout: chunkLayout), true)
    }

    /// Drops a collection's tables and catalog rows.
    static func drop(_ s: PGSession, _ entry: PGCollection) throws {
        try s.query("SELECT id FROM gl_collections WHERE id = $1 FOR UPDATE", [.int(entry.id)])
        for index in entry.tableIndexes { try s.query("DROP TABLE IF EXISTS \(index.table)") }
        try s.query("DROP TABLE IF EXISTS \(entry.table)")
        try s.query("DELETE FROM gl_indexes WHERE collection_id = $1", [.int(entry.id)])
        try s.query("DELETE FROM gl_collections WHERE id = $1", [.int(entry.id)])
    }

    /// True when `spec` is the GridFS chunk index a chunk table keeps in its `fk` column: unique
    /// `{files_id: 1, n: 1}` (what drivers create), and the table has no such index yet.
    static func usesKeyColumn(_ spec: IndexSpec, in entry: PGCollection) -> Bool {
        entry.chunkLayout && entry.keyColumnIndex == nil && spec.unique
            && spec.key.map(\.path) == ["files_id", "n"] && spec.key.allSatisfy { $0.direction == 1 }
    }

    /// Creates an index's catalog row and key table (empty); for the chunk index of a chunk table
    /// only the catalog row (``PostgresStorageEngine/populate(_:entry:index:)`` fills `fk` and
    /// creates its unique index).
    static func createIndex(_ s: PGSession, collection entry: PGCollection, spec: IndexSpec) throws -> PGIndex {
        let keyColumn = usesKeyColumn(spec, in: entry)
        let rows = try s.query("INSERT INTO gl_indexes(collection_id, name, spec, keycol) VALUES ($1, $2, $3, $4) RETURNING id",
                               [.int(entry.id), .text(spec.name), .bytes(spec.spec.bytes), .bool(keyColumn)])
        guard let id = rows.first?.int(0) else { throw MongoError(.internalError, "index row not created") }
        let index = PGIndex(id: id, spec: spec, multikey: false, keyColumn: keyColumn)
        if keyColumn {
            return index
        } else if spec.unique {
            try s.query("CREATE TABLE \(index.table)(key bytea PRIMARY KEY, id bigint NOT NULL)")
        } else {
            try s.query("CREATE TABLE \(index.table)(key bytea NOT NULL, id bigint NOT NULL, PRIMARY KEY(key, id))")
        }
        return index
    }

    /// Marks an index multikey (once; the flag never goes back while the index lives).
    static func markMultikey(_ s: PGSession, _ index: PGIndex) throws {
        try s.query("UPDATE gl_indexes SET multikey = true WHERE id = $1 AND NOT multikey", [.int(index.id)])
    }
}

/// This daemon's copy of catalog entries, keyed by namespace and checked against the catalog row's
/// id and version on every use (``PGCatalog/entry(_:_:lock:)``), so another daemon's DDL is seen
/// by the next command.
final class PGCatalogCache: Sendable {
    private let entries = Mutex<[Namespace: PGCollection]>([:])

    func get(_ namespace: Namespace) -> PGCollection? { entries.withLock { $0[namespace] } }

    func set(_ namespace: Namespace, _ entry: PGCollection?) { entries.withLock { $0[namespace] = entry } }
}

extension IndexSpec {
    /// Rebuilds a spec from its stored document.
    static func fromStored(_ doc: BSONDocument) -> IndexSpec? {
        guard case .string(let name)? = doc["name"], case .document(let key)? = doc["key"] else { return nil }
        let parts = key.pairs.map { (path: $0.key, direction: ($0.value.doubleValue ?? 1) < 0 ? -1 : 1) }
        return IndexSpec(name: name, key: parts, unique: doc["unique"]?.isTruthy ?? false, spec: doc)
    }
}
