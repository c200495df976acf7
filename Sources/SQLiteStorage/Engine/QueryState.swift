import BSON
import Query
import Storage

/// A SQLite query between cursor batches: the engine-neutral ``QueryProgress`` (position, skip,
/// limit, de-duplication) plus the collection it runs against. A value, so it can travel into a
/// reader's thread and back.
struct QueryState: Sendable {
    let entry: CollectionEntry
    /// Where chunk payloads are read from.
    let blobs: BlobStore
    var progress: QueryProgress

    init(entry: CollectionEntry, blobs: BlobStore, plan: AccessPlan, filter: Filter, skip: Int, limit: Int) {
        self.entry = entry
        self.blobs = blobs
        self.progress = QueryProgress(plan: plan, filter: filter, skip: skip, limit: limit)
    }

    var plan: AccessPlan { progress.plan }

    /// True when no more documents can come.
    var isFinished: Bool { progress.isFinished }

    /// The collection's records on connection `c`.
    func records(_ c: SQLiteConnection) -> Scanner.Records { Scanner.Records(c: c, entry: entry, blobs: blobs) }

    /// Reads the next matching documents (after skip, within limit) until `maxCount` documents
    /// or `maxBytes` bytes (at least one document while any remain).
    mutating func next(_ c: SQLiteConnection, maxCount: Int, maxBytes: Int) throws -> [BSONDocument] {
        try progress.next(records(c), maxCount: maxCount, maxBytes: maxBytes)
    }

    /// Throws QueryPlanKilled (175) when the collection, or the side-table index the plan scans,
    /// was dropped after the query started. Table names come from catalog row ids, which SQLite
    /// reuses, so a stale cursor could otherwise read another collection's rows. Call it inside
    /// the read transaction of each batch (the check and the scan then see one snapshot).
    func checkStillValid(_ c: SQLiteConnection) throws {
        let uuid = try c.withStatement("SELECT uuid FROM gl_collections WHERE id = ?") { s in
            try s.bind(entry.id, at: 1)
            return try s.step() ? s.blob(0) : nil
        }
        guard uuid == entry.uuid else {
            throw StorageError(code: 175, codeName: "QueryPlanKilled", message: "collection dropped: \(entry.namespace)")
        }
        guard case .index(let name, _, _) = plan.scan,
              let index = entry.indexes.first(where: { $0.spec.name == name }), index.backing == .table else { return }
        let present = try c.withStatement("SELECT 1 FROM gl_indexes WHERE id = ? AND collection_id = ? AND name = ?") { s in
            try s.bind(index.id, at: 1)
            try s.bind(entry.id, at: 2)
            try s.bind(name, at: 3)
            return try s.step()
        }
        guard present else {
            throw StorageError(code: 175, codeName: "QueryPlanKilled", message: "index '\(name)' dropped")
        }
    }
}

/// Reads one row's document by row id.
func loadRow(_ c: SQLiteConnection, entry: CollectionEntry, blobs: BlobStore, rid: Int64, verify: Bool = true) throws -> BSONDocument? {
    try c.withStatement("SELECT \(StoredDocument.columns) FROM \(entry.table) WHERE rid = ?") { s in
        try s.bind(rid, at: 1)
        return try s.step() ? StoredDocument.read(s, at: 0, blobs: blobs, verify: verify) : nil
    }
}
