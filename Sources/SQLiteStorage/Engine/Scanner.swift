import BSON
import Storage

/// Runs an ``AccessPlan`` against the tables: the only place that turns pushdown into SQL.
/// Scans resume from a ``ScanPosition`` by key (keyset pagination), so no statement or read
/// transaction has to stay open between cursor batches.
enum Scanner {
    /// The records of one collection, as the engine-neutral layers scan them (``RecordScanner``).
    struct Records: RecordScanner {
        let c: SQLiteConnection
        let entry: CollectionEntry
        let blobs: BlobStore

        func scan(_ plan: AccessPlan, from position: inout ScanPosition,
                  visit: (RecordID, BSONDocument) throws -> ScanStep) throws {
            try Scanner.scan(c, entry: entry, blobs: blobs, plan: plan, position: &position, visit: visit)
        }
    }

    /// Steps through the rows of `plan`, from `position`, calling `visit` with each row id and
    /// document. `visit` says whether to go on, stop after the row, or stop before it (the
    /// row then comes again next time). `position` always points just past the last consumed row.
    static func scan(
        _ c: SQLiteConnection, entry: CollectionEntry, blobs: BlobStore, plan: AccessPlan, position: inout ScanPosition,
        verify: Bool = true, visit: (Int64, BSONDocument) throws -> ScanStep
    ) throws {
        try scan(c, entry: entry, plan: plan, position: &position,
                 row: { s, at in try StoredDocument.read(s, at: at, blobs: blobs, verify: verify) }, visit: visit)
    }

    /// Reads the document of the current row from the ``StoredDocument/columns`` starting at a column.
    typealias RowReader = (SQLiteStatement, Int32) throws -> BSONDocument?

    /// ``scan(_:entry:blobs:plan:position:verify:visit:)`` with the row's document made by `row`
    /// (the deferred read path hands the filter a stand-in without the payload).
    static func scan(
        _ c: SQLiteConnection, entry: CollectionEntry, plan: AccessPlan, position: inout ScanPosition,
        row: RowReader, visit: (Int64, BSONDocument) throws -> ScanStep
    ) throws {
        guard !position.done else { return }
        switch plan.scan {
        case .collection:
            let sql = "SELECT rid, \(StoredDocument.columns) FROM \(entry.table) WHERE rid > ? ORDER BY rid"
            try c.withStatement(sql) { s in
                try s.bind(position.lastRecord ?? 0, at: 1)
                while try s.step() {
                    let rid = s.int64(0)
                    guard let doc = try row(s, 1) else { position.lastRecord = rid; continue }
                    let step = try visit(rid, doc)
                    if step == .stopBefore { return }
                    position.lastRecord = rid
                    if step == .stopAfter { return }
                }
                position.done = true
            }
        case .index(let name, let ranges, let reverse):
            guard let index = entry.indexes.first(where: { $0.spec.name == name }) else {
                throw StorageError(.internalError, "index \(name) vanished during a scan")
            }
            let ordered = reverse ? Array(ranges.reversed()) : ranges
            while position.range < ordered.count {
                let finished = try scanRange(c, entry: entry, index: index, range: ordered[position.range],
                                             reverse: reverse, position: &position, row: row, visit: visit)
                guard finished else { return }
                position.range += 1
                position.lastKey = nil
                position.lastRecord = nil
            }
            position.done = true
        }
    }

    /// Scans one range; returns true when it ran to its end, false when `visit` stopped it.
    private static func scanRange(
        _ c: SQLiteConnection, entry: CollectionEntry, index: IndexEntry, range: KeyRange, reverse: Bool,
        position: inout ScanPosition, row: RowReader, visit: (Int64, BSONDocument) throws -> ScanStep
    ) throws -> Bool {
        let (sql, bindings) = rangeQuery(entry: entry, index: index, range: range, reverse: reverse, position: position)
        return try c.withStatement(sql) { s in
            try s.bind(bindings)
            while try s.step() {
                let rid = s.int64(0)
                let key = s.blob(1)
                var step = ScanStep.next
                if let doc = try row(s, 2) {
                    step = try visit(rid, doc)
                    if step == .stopBefore { return false }
                }
                position.lastKey = key
                position.lastRecord = rid
                if step == .stopAfter { return false }
            }
            return true
        }
    }

    /// The statement (SQL and bindings) that scans one key range of `index` from `position`:
    /// a range condition on the index's key column, resuming after the last (key, row id)
    /// consumed, ordered as the index is (so SQLite walks it once; GridFSLookupPlanTests).
    static func rangeQuery(
        entry: CollectionEntry, index: IndexEntry, range: KeyRange, reverse: Bool, position: ScanPosition
    ) -> (sql: String, bindings: [SQLiteValue]) {
        let keyColumn: String
        let from: String
        let ridColumn: String
        let tiebreak: Bool
        switch index.backing {
        case .idColumn:
            keyColumn = "id_key"; from = entry.table; ridColumn = "rid"; tiebreak = false
        case .keyColumn:
            keyColumn = "k"; from = entry.table; ridColumn = "rid"; tiebreak = true
        case .table:
            keyColumn = "x.key"
            from = "\(index.table) x JOIN \(entry.table) c ON c.rid = x.rid"
            ridColumn = "x.rid"; tiebreak = true
        }
        let docColumns = index.backing == .table ? StoredDocument.columns("c") : StoredDocument.columns
        var conditions: [String] = []
        var bindings: [SQLiteValue] = []
        if let lower = range.lower {
            conditions.append("\(keyColumn) >= ?")
            bindings.append(.blob(lower))
        }
        if let upper = range.upper {
            conditions.append("\(keyColumn) < ?")
            bindings.append(.blob(upper))
        }
        if range.lower == nil && range.upper == nil {
            conditions.append("\(keyColumn) IS NOT NULL")
        }
        let cmp = reverse ? "<" : ">"
        if let lastKey = position.lastKey, let lastRid = position.lastRecord {
            if tiebreak {
                conditions.append("(\(keyColumn), \(ridColumn)) \(cmp) (?, ?)")
                bindings.append(.blob(lastKey))
                bindings.append(.integer(lastRid))
            } else {
                conditions.append("\(keyColumn) \(cmp) ?")
                bindings.append(.blob(lastKey))
            }
        }
        let dir = reverse ? "DESC" : "ASC"
        let order = tiebreak ? "\(keyColumn) \(dir), \(ridColumn) \(dir)" : "\(keyColumn) \(dir)"
        let sql = "SELECT \(ridColumn), \(keyColumn), \(docColumns) FROM \(from) WHERE \(conditions.joined(separator: " AND ")) ORDER BY \(order)"
        return (sql, bindings)
    }
}
