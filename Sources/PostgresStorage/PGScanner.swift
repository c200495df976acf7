import BSON
import PostgresNIO
import Query
import Storage

/// Runs an ``AccessPlan`` against PostgreSQL with keyset pagination: each page is one
/// `SELECT … WHERE key > last ORDER BY key LIMIT n`, so no server-side cursor or transaction
/// outlives a call, and any daemon can resume a position another one left. In a write
/// transaction (`lockRows`) the rows read are locked (`FOR UPDATE`) so two daemons updating the
/// same document serialize and neither loses the other's change.
struct PGScanner: RecordScanner {
    let session: PGSession
    let entry: PGCollection
    let lockRows: Bool
    /// What the caller will consume at most (a cursor batch's count and bytes), so pages do not
    /// fetch many rows that would be thrown away (chunk documents are 255 KiB each).
    var budget: (count: Int, bytes: Int)?
    /// The average size of the documents an earlier batch of the same cursor returned: with it a
    /// budgeted batch is sized from its first statement (a download's getMore is one range query
    /// instead of a 16-row probe and a second statement).
    var averageHint: Int?
    /// Set for a deferred read (``PGDeferredChunks``): the visitor gets stand-in documents and
    /// the row's deferred document waits here for the caller's `take`.
    var deferred: PGDeferredChunks.Slot?

    init(session: PGSession, entry: PGCollection, lockRows: Bool, budget: (count: Int, bytes: Int)? = nil, averageHint: Int? = nil,
         deferred: PGDeferredChunks.Slot? = nil) {
        self.session = session
        self.entry = entry
        self.lockRows = lockRows
        self.budget = budget
        self.averageHint = averageHint.map { max(1, $0) }
        self.deferred = deferred
    }

    /// The document in a row's `doc` cell (deferred when this scan defers), and its real size.
    private func document(_ row: PostgresRandomAccessRow, _ column: Int, _ id: RecordID) throws -> (BSONDocument, Int) {
        if let deferred {
            guard column < row.count, let cell = row[column].bytes, let (stub, document) = PGDeferredChunks.read(cell) else {
                throw damaged(id)
            }
            deferred.current = document
            return (stub, document.byteCount)
        }
        guard let doc = row.bytes(column).flatMap({ BSONDocument(storedBytes: $0) }) else { throw damaged(id) }
        return (doc, doc.bytes.count)
    }

    /// The first page's size; pages then double up to ``maxPage``. Locking scans start at one row
    /// so a single-document write locks only what it reads; a budgeted scan with an average from
    /// an earlier batch starts at the largest page (``pageSize(_:_:)`` cuts it to the budget).
    private var firstPage: Int {
        if lockRows { return 1 }
        if budget != nil, let averageHint { return min(8192, max(64, (4 << 20) / averageHint)) }
        return 16
    }

    /// The largest page: about 4 MiB of documents at the average size seen so far (so a scan of
    /// 100,000 small documents is a few dozen statements), at least 64 and at most 8,192 rows.
    /// Cursor batches cap pages further by their byte budget.
    private func maxPage(_ tally: Tally) -> Int {
        guard tally.rows > 0 else { return 256 }
        let average = max(1, tally.bytes / tally.rows)
        return min(8192, max(64, (4 << 20) / average))
    }

    /// Rows and bytes handed to the visitor so far in this call, for ``pageSize(_:_:)``.
    private final class Tally {
        var rows = 0
        var bytes = 0
    }

    /// The next page's size: the doubling size, capped by what the budget still allows (by
    /// count, and by bytes at the average document size seen so far).
    private func pageSize(_ page: Int, _ tally: Tally) -> Int {
        guard let budget else { return page }
        var size = min(page, budget.count > tally.rows ? budget.count - tally.rows : 1)
        if let average = tally.rows > 0 ? max(1, tally.bytes / tally.rows) : averageHint {
            let left = budget.bytes > tally.bytes ? budget.bytes - tally.bytes : 0
            size = min(size, left / average &+ 1)
        }
        return size
    }

    func scan(_ plan: AccessPlan, from position: inout ScanPosition, visit: (RecordID, BSONDocument) throws -> ScanStep) throws {
        guard !position.done else { return }
        switch plan.scan {
        case .collection:
            var page = firstPage
            let tally = Tally()
            while true {
                let limit = pageSize(page, tally)
                let rows = try session.query(
                    "SELECT id, id, doc FROM \(entry.table) WHERE id > $1 ORDER BY id LIMIT \(limit)\(lockRows ? " FOR UPDATE" : "")",
                    [.int(position.lastRecord ?? 0)])
                for result in rows {
                    let row = result.makeRandomAccess()
                    let id = row.int(1)
                    let (doc, size) = try document(row, 2, id)
                    tally.rows += 1
                    tally.bytes += size
                    let step = try visit(id, doc)
                    if step == .stopBefore { return }
                    position.lastRecord = id
                    if step == .stopAfter { return }
                }
                if rows.count < limit { break }
                page = min(page * 2, maxPage(tally))
            }
            position.done = true
        case .index(let name, let ranges, let reverse):
            guard let index = entry.indexes.first(where: { $0.spec.name == name }) else {
                throw StorageError(.queryPlanKilled, "index '\(name)' dropped")
            }
            let ordered = reverse ? Array(ranges.reversed()) : ranges
            let tally = Tally()
            // Consecutive ranges go to PostgreSQL together (a big `$in` is thousands of ranges: one
            // statement per range would be one round trip each). They are sorted and disjoint, so
            // (key, id) order over the group is the ranges' order; `position.range` is the
            // group's first range until the group is done.
            while position.range < ordered.count {
                let end = min(position.range + Self.rangesPerStatement, ordered.count)
                let group = Array(ordered[position.range..<end])
                guard try scanRanges(index, group, reverse: reverse, tally, &position, visit) else { return }
                position.range = end
                position.lastKey = nil
                position.lastRecord = nil
            }
            position.done = true
        }
    }

    /// Key ranges one statement reads at most.
    static let rangesPerStatement = 32

    /// Consecutive ranges (in scan order) in (key, id) order; true when they ran to their end.
    private func scanRanges(_ index: PGIndex, _ ranges: [KeyRange], reverse: Bool, _ tally: Tally, _ position: inout ScanPosition,
                            _ visit: (RecordID, BSONDocument) throws -> ScanStep) throws -> Bool {
        // `_id_` and a chunk table's (files_id, n) index are columns of the document table: one
        // index range scan, no join.
        let (from, keyColumn, idColumn) = index.isIdIndex
            ? ("\(entry.table) c", "c.k", "c.id")
            : index.keyColumn
            ? ("\(entry.table) c", "c.fk", "c.id")
            : ("\(index.table) x JOIN \(entry.table) c ON c.id = x.id", "x.key", "x.id")
        let keyUnique = index.isIdIndex || index.spec.unique
        let direction = reverse ? "DESC" : "ASC"
        let order = keyUnique ? "\(keyColumn) \(direction)" : "\(keyColumn) \(direction), \(idColumn) \(direction)"
        var page = firstPage
        while true {
            let limit = pageSize(page, tally)
            var conditions: [String] = []
            var values: [PGValue] = []
            func bounds(_ range: KeyRange) -> [String] {
                var parts: [String] = []
                if let lower = range.lower {
                    values.append(.bytes(lower))
                    parts.append("\(keyColumn) >= $\(values.count)")
                }
                if let upper = range.upper {
                    values.append(.bytes(upper))
                    parts.append("\(keyColumn) < $\(values.count)")
                }
                return parts
            }
            // The group's overall span first (an index range scan), then each range.
            let ascending = reverse ? ranges.reversed() : ranges
            if let first = ascending.first, let last = ascending.last {
                conditions += bounds(KeyRange(lower: first.lower, upper: last.upper))
            }
            if ranges.count > 1 {
                let each = ranges.map { range -> String in
                    let parts = bounds(range)
                    return parts.isEmpty ? "true" : "(" + parts.joined(separator: " AND ") + ")"
                }
                conditions.append("(" + each.joined(separator: " OR ") + ")")
            }
            if let key = position.lastKey, let id = position.lastRecord {
                values.append(.bytes(key))
                let op = reverse ? "<" : ">"
                if keyUnique {
                    conditions.append("\(keyColumn) \(op) $\(values.count)")
                } else {
                    values.append(.int(id))
                    conditions.append("(\(keyColumn), \(idColumn)) \(op) ($\(values.count - 1), $\(values.count))")
                }
            }
            let whereClause = conditions.isEmpty ? "" : " WHERE " + conditions.joined(separator: " AND ")
            var sql = "SELECT \(keyColumn) AS key, c.id AS id, c.doc AS doc FROM \(from)\(whereClause) ORDER BY \(order) LIMIT \(limit)"
                + (lockRows ? " FOR UPDATE OF c" : "")
            let checked = !index.isIdIndex && !index.keyColumn && !index.multikey
            if checked {
                // The plan took this index as single-key (its flag read by an earlier statement). A
                // document that made it multikey commits together with the flag, so the flag read
                // in this statement's snapshot tells whether such a document can be among the rows
                // (or missing from them: single-key bounds are intersected); then the plan is stale.
                values.append(.int(index.id))
                sql = "SELECT r.key, r.id, r.doc, g.multikey FROM (SELECT multikey FROM gl_indexes WHERE id = $\(values.count)) g"
                    + " LEFT JOIN LATERAL (\(sql)) r ON true"
            }
            let fetched = try session.query(sql, values)
            if checked, fetched.first?.bool(3) == true {
                session.stalePlan = true
                throw StalePlan()
            }
            let rows = checked ? fetched.filter { $0.makeRandomAccess()[2].bytes != nil } : fetched
            for result in rows {
                let row = result.makeRandomAccess()
                let key = row.bytes(0) ?? []
                let id = row.int(1)
                let (doc, size) = try document(row, 2, id)
                tally.rows += 1
                tally.bytes += size
                let step = try visit(id, doc)
                if step == .stopBefore { return false }
                position.lastKey = key
                position.lastRecord = id
                if step == .stopAfter { return false }
            }
            if rows.count < limit { return true }
            page = min(page * 2, maxPage(tally))
        }
    }

    private func damaged(_ id: RecordID) -> StorageError {
        StorageError(.internalError, "stored document \(id) of \(entry.namespace) is not BSON")
    }
}

/// A scan found that an index its plan took as single-key has turned multikey (another connection
/// or daemon committed such a document after the plan's catalog lookup): nothing of the statement
/// was used. Before anything was returned the command runs again with a fresh lookup; a cursor
/// that already returned documents ends with 175 QueryPlanKilled.
struct StalePlan: Error {}
