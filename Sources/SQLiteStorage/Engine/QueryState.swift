import BSON
import Query
import Storage

/// A query's progress between cursor batches: the scan position plus what skip, limit and
/// de-duplication still need. A value, so it can travel into a reader's thread and back.
struct QueryState: Sendable {
    let entry: CollectionEntry
    /// Where chunk payloads are read from.
    let blobs: BlobStore
    let plan: AccessPlan
    let filter: Filter
    var position = ScanPosition()
    var skipRemaining: Int
    /// Documents still allowed; nil for no limit.
    var limitRemaining: Int?
    /// Row ids already returned, for multikey scans.
    var seen: Set<Int64> = []

    init(entry: CollectionEntry, blobs: BlobStore, plan: AccessPlan, filter: Filter, skip: Int, limit: Int) {
        self.entry = entry
        self.blobs = blobs
        self.plan = plan
        self.filter = filter
        self.skipRemaining = skip
        self.limitRemaining = limit > 0 ? limit : nil
    }

    /// True when no more documents can come.
    var isFinished: Bool { position.done || limitRemaining == 0 }

    /// Reads the next matching documents (after skip, within limit) until `maxCount` documents
    /// or `maxBytes` bytes (at least one document while any remain).
    mutating func next(_ c: SQLiteConnection, maxCount: Int, maxBytes: Int) throws -> [BSONDocument] {
        var out: [BSONDocument] = []
        var bytes = 0
        guard !isFinished, maxCount > 0 else { return out }
        var position = self.position
        var skip = skipRemaining
        var limit = limitRemaining
        var seen = self.seen
        let dedupe = plan.mayDuplicate
        let filter = self.filter
        try Scanner.scan(c, entry: entry, blobs: blobs, plan: plan, position: &position) { rid, doc in
            if dedupe && seen.contains(rid) { return .next }
            guard filter.matches(doc) else { return filter.matchingFailed ? .stopBefore : .next }
            if skip > 0 {
                skip -= 1
                if dedupe { seen.insert(rid) }
                return .next
            }
            if !out.isEmpty && bytes + doc.bytes.count > maxBytes { return .stopBefore }
            if dedupe { seen.insert(rid) }
            out.append(doc)
            bytes += doc.bytes.count
            if let l = limit { limit = l - 1 }
            return out.count >= maxCount || limit == 0 || bytes >= maxBytes ? .stopAfter : .next
        }
        try filter.checkMatching()
        self.position = position
        self.skipRemaining = skip
        self.limitRemaining = limit
        self.seen = seen
        return out
    }

    /// Every matching row (ignoring skip and limit), for writes and blocking sorts. Fails once
    /// the documents exceed `memoryLimit` bytes.
    mutating func all(_ c: SQLiteConnection, memoryLimit: Int = 100 * 1024 * 1024) throws -> [(rid: Int64, doc: BSONDocument)] {
        var out: [(Int64, BSONDocument)] = []
        var bytes = 0
        var seen = Set<Int64>()
        let dedupe = plan.mayDuplicate
        let filter = self.filter
        var exceeded = false
        try Scanner.scan(c, entry: entry, blobs: blobs, plan: plan, position: &position) { rid, doc in
            if dedupe && !seen.insert(rid).inserted { return .next }
            guard filter.matches(doc) else { return filter.matchingFailed ? .stopBefore : .next }
            bytes += doc.bytes.count
            if bytes > memoryLimit {
                exceeded = true
                return .stopBefore
            }
            out.append((rid, doc))
            return .next
        }
        try filter.checkMatching()
        if exceeded {
            throw StorageError(.queryExceededMemoryLimit,
                               "Sort exceeded memory limit of \(memoryLimit) bytes, but did not opt in to external sorting.")
        }
        return out
    }

    /// The row ids of every matching document (no documents kept), for multi-document writes:
    /// memory stays at 8 bytes per match however large the documents are, and rows changed by
    /// the write cannot be visited twice.
    mutating func matchingRowIds(_ c: SQLiteConnection) throws -> [Int64] {
        var out: [Int64] = []
        var seen = Set<Int64>()
        let dedupe = plan.mayDuplicate
        let filter = self.filter
        try Scanner.scan(c, entry: entry, blobs: blobs, plan: plan, position: &position) { rid, doc in
            if dedupe && !seen.insert(rid).inserted { return .next }
            if filter.matches(doc) { out.append(rid) }
            return filter.matchingFailed ? .stopBefore : .next
        }
        try filter.checkMatching()
        return out
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

    /// The first matching row, for single-document writes.
    mutating func first(_ c: SQLiteConnection) throws -> (rid: Int64, doc: BSONDocument)? {
        var found: (Int64, BSONDocument)?
        let filter = self.filter
        try Scanner.scan(c, entry: entry, blobs: blobs, plan: plan, position: &position) { rid, doc in
            guard filter.matches(doc) else { return filter.matchingFailed ? .stopBefore : .next }
            found = (rid, doc)
            return .stopAfter
        }
        try filter.checkMatching()
        return found
    }
}

/// Reads one row's document by row id.
func loadRow(_ c: SQLiteConnection, entry: CollectionEntry, blobs: BlobStore, rid: Int64) throws -> BSONDocument? {
    try c.withStatement("SELECT \(StoredDocument.columns) FROM \(entry.table) WHERE rid = ?") { s in
        try s.bind(rid, at: 1)
        return try s.step() ? StoredDocument.read(s, at: 0, blobs: blobs) : nil
    }
}

/// Sorts rows stably by a sort specification (ties keep scan order).
func stableSorted(_ rows: [(rid: Int64, doc: BSONDocument)], by sort: SortSpec) -> [(rid: Int64, doc: BSONDocument)] {
    let keyed = rows.enumerated().map { (offset: $0.offset, key: sort.sortKey(for: $0.element.doc), row: $0.element) }
    return keyed.sorted { a, b in
        let c = sort.compareKeys(a.key, b.key)
        return c != 0 ? c < 0 : a.offset < b.offset
    }.map(\.row)
}
