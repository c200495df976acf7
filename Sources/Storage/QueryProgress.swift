import BSON
import Query

/// A query's progress between cursor batches, for any backend (a regex that hits a PCRE2 limit
/// stops the scan and fails the query, see `Filter.checkMatching()`): the scan position plus what
/// skip, limit and de-duplication still need. A value, so a cursor can carry it into a reader's
/// thread and back; every batch re-runs the plan from ``position`` (no open statement between
/// batches).
public struct QueryProgress: Sendable {
    /// The plan being run.
    public let plan: AccessPlan
    /// The full filter, re-checked on every record the plan yields.
    public let filter: Filter
    /// Where the scan resumes.
    public var position = ScanPosition()
    /// Matches still to pass over.
    public var skipRemaining: Int
    /// Documents still allowed; nil for no limit.
    public var limitRemaining: Int?
    /// Records already returned or skipped, for multikey scans.
    public var seen: Set<RecordID> = []

    /// Starts a query.
    public init(plan: AccessPlan, filter: Filter, skip: Int, limit: Int) {
        self.plan = plan
        self.filter = filter
        self.skipRemaining = max(0, skip)
        self.limitRemaining = limit > 0 ? limit : nil
    }

    /// True when no more documents can come.
    public var isFinished: Bool { position.done || limitRemaining == 0 }

    /// The next matching documents (after skip, within limit): at most `maxCount` documents and
    /// `maxBytes` bytes, but at least one while any remain.
    public mutating func next(_ records: some RecordScanner, maxCount: Int, maxBytes: Int) throws -> [BSONDocument] {
        try next(records, maxCount: maxCount, maxBytes: maxBytes) { _, doc in (doc, doc.bytes.count) }
    }

    /// ``next(_:maxCount:maxBytes:)`` returning what `take` makes of each matching record: an item
    /// and the bytes it counts as (a backend's deferred documents: a scanner may hand the filter a
    /// stand-in document without its payload, and `take` the real size).
    public mutating func next<Item>(
        _ records: some RecordScanner, maxCount: Int, maxBytes: Int,
        take: (RecordID, BSONDocument) throws -> (Item, Int)
    ) throws -> [Item] {
        var out: [Item] = []
        var bytes = 0
        guard !isFinished, maxCount > 0 else { return out }
        var position = self.position
        var skip = skipRemaining
        var limit = limitRemaining
        var seen = self.seen
        let dedupe = plan.mayDuplicate
        let filter = self.filter
        var deadline = OperationDeadline.Checker()
        try records.scan(plan, from: &position) { id, doc in
            try deadline.tick()
            if dedupe && seen.contains(id) { return .next }
            guard filter.matches(doc) else { return filter.matchingFailed ? .stopBefore : .next }
            if skip > 0 {
                skip -= 1
                if dedupe { seen.insert(id) }
                return .next
            }
            let (item, size) = try take(id, doc)
            if !out.isEmpty && bytes &+ size > maxBytes { return .stopBefore }
            if dedupe { seen.insert(id) }
            out.append(item)
            bytes &+= size
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

    /// How many documents match (after skip, within limit), without keeping any.
    public mutating func count(_ records: some RecordScanner) throws -> Int {
        var n = 0
        var skip = skipRemaining
        var limit = limitRemaining
        var seen = self.seen
        let dedupe = plan.mayDuplicate
        let filter = self.filter
        var deadline = OperationDeadline.Checker()
        try records.scan(plan, from: &position) { id, doc in
            try deadline.tick()
            if dedupe && !seen.insert(id).inserted { return .next }
            guard filter.matches(doc) else { return filter.matchingFailed ? .stopBefore : .next }
            if skip > 0 {
                skip -= 1
                return .next
            }
            n += 1
            if let l = limit { limit = l - 1 }
            return limit == 0 ? .stopAfter : .next
        }
        try filter.checkMatching()
        skipRemaining = skip
        limitRemaining = limit
        self.seen = seen
        return n
    }

    /// The first matching record (ignoring skip and limit), for single-document writes.
    public mutating func first(_ records: some RecordScanner) throws -> (id: RecordID, doc: BSONDocument)? {
        var found: (RecordID, BSONDocument)?
        let filter = self.filter
        var deadline = OperationDeadline.Checker()
        try records.scan(plan, from: &position) { id, doc in
            try deadline.tick()
            guard filter.matches(doc) else { return filter.matchingFailed ? .stopBefore : .next }
            found = (id, doc)
            return .stopAfter
        }
        try filter.checkMatching()
        return found
    }

    /// The ids of every matching record (no documents kept), for multi-document writes: memory
    /// stays at 8 bytes per match however large the documents, and records the write changes
    /// cannot be visited twice.
    public mutating func matchingIDs(_ records: some RecordScanner) throws -> [RecordID] {
        var out: [RecordID] = []
        var seen = Set<RecordID>()
        let dedupe = plan.mayDuplicate
        let filter = self.filter
        var deadline = OperationDeadline.Checker()
        try records.scan(plan, from: &position) { id, doc in
            try deadline.tick()
            if dedupe && !seen.insert(id).inserted { return .next }
            if filter.matches(doc) { out.append(id) }
            return filter.matchingFailed ? .stopBefore : .next
        }
        try filter.checkMatching()
        return out
    }

    /// Every matching record in `sort` order (ties keep scan order), after skip and limit, held in
    /// memory within ``BlockingSort``'s limit: MongoDB's blocking sort, for plans that do not
    /// already give the order.
    public mutating func sorted(_ records: some RecordScanner, by sort: SortSpec, memoryLimit: Int) throws
        -> [(id: RecordID, doc: BSONDocument)]
    {
        var sorter = BlockingSort<RecordID>(sort: sort, skip: skipRemaining, limit: limitRemaining ?? 0, memoryLimit: memoryLimit)
        var seen = Set<RecordID>()
        let dedupe = plan.mayDuplicate
        let filter = self.filter
        var failure: (any Error)?
        var deadline = OperationDeadline.Checker()
        try records.scan(plan, from: &position) { id, doc in
            try deadline.tick()
            if dedupe && !seen.insert(id).inserted { return .next }
            guard filter.matches(doc) else { return filter.matchingFailed ? .stopBefore : .next }
            do {
                try sorter.add(doc, id)
            } catch {
                failure = error
                return .stopBefore
            }
            return .next
        }
        try filter.checkMatching()
        if let failure { throw failure }
        return sorter.finish().map { (id: $0.payload, doc: $0.doc) }
    }
}
