import BSON
import Query
import Storage

extension PostgresStorageEngine {
    /// One leased connection does the catalog lookup and the plan, and for a blocking sort the
    /// whole sort; otherwise it also reads the first batch when the query names it
    /// (``FindQuery/firstBatch``: the `find` command asks for it at once, so a lookup of one small
    /// document costs one lease instead of two), and the cursor reads later batches as they are asked
    /// for (each a fresh statement resumed by key, so nothing is read ahead that a dropped
    /// collection or a getMore's own time limit should have stopped).
    public func find(_ query: FindQuery) async throws -> any DocumentCursor {
        enum Start: Sendable {
            case empty
            case sorted([BSONDocument])
            case scanning(PGCollection, QueryProgress, PostgresCursor.Prefetched?)
        }
        let start = try await replanning { try await withSession { s -> Start in
            guard let entry = try PGCatalog.entry(s, query.namespace, lock: nil) else { return .empty }
            let plan = try QueryPlanner.plan(filter: query.filter, sort: query.sort, indexes: entry.descriptors, hint: query.hint)
            var progress = QueryProgress(plan: plan, filter: query.filter, skip: query.skip, limit: query.limit)
            if let sort = query.sort, !plan.providesSort {
                let scanner = PGScanner(session: s, entry: entry, lockRows: false)
                return .sorted(try progress.sorted(scanner, by: sort, memoryLimit: query.sortMemoryLimit).map(\.doc))
            }
            guard let limits = query.firstBatch, limits.count > 0 else { return .scanning(entry, progress, nil) }
            let before = progress
            let scanner = PGScanner(session: s, entry: entry, lockRows: false, budget: (limits.count, limits.bytes))
            let docs = try progress.next(scanner, maxCount: limits.count, maxBytes: limits.bytes)
            return .scanning(entry, before, PostgresCursor.Prefetched(limits: limits, documents: docs, progress: progress))
        } }
        switch start {
        case .empty: return ArrayCursor([])
        case .sorted(let docs): return ArrayCursor(docs)
        case .scanning(let entry, let progress, let prefetched):
            return PostgresCursor(engine: self, query: query, entry: entry, progress: progress, prefetched: prefetched)
        }
    }

    public func count(_ query: FindQuery) async throws -> Int {
        let namespace = query.namespace
        return try await replanning { try await withSession { s in
            guard let entry = try PGCatalog.entry(s, namespace, lock: nil) else { return 0 }
            if query.filter.matchesEverything {
                let total = Int(try s.query("SELECT count(*) FROM \(entry.table)").first?.int(0) ?? 0)
                let afterSkip = max(0, total - query.skip)
                return query.limit > 0 ? min(afterSkip, query.limit) : afterSkip
            }
            let plan = try QueryPlanner.plan(filter: query.filter, sort: nil, indexes: entry.descriptors, hint: query.hint)
            var progress = QueryProgress(plan: plan, filter: query.filter, skip: query.skip, limit: query.limit)
            return try progress.count(PGScanner(session: s, entry: entry, lockRows: false))
        } }
    }

    /// One batch of a cursor: a fresh statement per page, resumed from the position by key.
    /// `averageHint`: the average document size of the cursor's previous batch (sizes the first page).
    func nextBatch(_ entry: PGCollection, progress: QueryProgress, maxCount: Int, maxBytes: Int, averageHint: Int? = nil) async throws
        -> ([BSONDocument], QueryProgress)
    {
        try await withSession { s in
            var progress = progress
            let scanner = PGScanner(session: s, entry: entry, lockRows: false, budget: (maxCount, maxBytes), averageHint: averageHint)
            let docs = try progress.next(scanner, maxCount: maxCount, maxBytes: maxBytes)
            return (docs, progress)
        }
    }
}

/// A cursor over a PostgreSQL query: it holds only the query's position (no transaction, no
/// server-side cursor), so an idle cursor pins nothing in PostgreSQL.
actor PostgresCursor: DocumentCursor {
    private let engine: PostgresStorageEngine
    private let query: FindQuery
    private let entry: PGCollection
    private var progress: QueryProgress?
    /// True once a batch went to the client.
    private var returned = false
    /// The average document size of the last batch (see ``PGScanner/averageHint``).
    private var averageSize: Int?
    /// A first batch read with the plan, and the progress after it.
    struct Prefetched: Sendable {
        let limits: BatchLimits
        let documents: [BSONDocument]
        let progress: QueryProgress
    }
    /// Handed out by the first ``nextBatch(maxCount:maxBytes:)`` that asks for exactly its limits;
    /// otherwise dropped and that batch read from the progress before it.
    private var prefetched: Prefetched?
    /// The query planned again (its plan went stale before anything was returned).
    private var replanned: (any DocumentCursor)?

    init(engine: PostgresStorageEngine, query: FindQuery, entry: PGCollection, progress: QueryProgress, prefetched: Prefetched? = nil) {
        self.engine = engine
        self.query = query
        self.entry = entry
        self.progress = progress
        self.prefetched = prefetched
    }

    func nextBatch(maxCount: Int, maxBytes: Int) async throws -> [BSONDocument] {
        if let replanned { return try await replanned.nextBatch(maxCount: maxCount, maxBytes: maxBytes) }
        if let first = prefetched {
            prefetched = nil
            if progress != nil, first.limits == BatchLimits(count: maxCount, bytes: maxBytes) {
                progress = first.progress
                returned = returned || !first.documents.isEmpty
                if !first.documents.isEmpty { averageSize = first.documents.reduce(0) { $0 + $1.bytes.count } / first.documents.count }
                return first.documents
            }
        }
        guard let current = progress, !current.isFinished else { return [] }
        do {
            let (docs, next) = try await engine.nextBatch(entry, progress: current, maxCount: maxCount, maxBytes: maxBytes,
                                                          averageHint: averageSize)
            progress = next
            if !docs.isEmpty { averageSize = docs.reduce(0) { $0 + $1.bytes.count } / docs.count }
            returned = returned || !docs.isEmpty
            return docs
        } catch is StalePlan {
            // An index the plan took as single-key turned multikey (``StalePlan``). Before any
            // document went out the query is planned again; afterwards it cannot go on.
            guard !returned else {
                progress = nil
                throw MongoError(.queryPlanKilled, "an index of \(entry.namespace) became multikey during the query")
            }
            let fresh = try await engine.find(query)
            replanned = fresh
            progress = nil
            return try await fresh.nextBatch(maxCount: maxCount, maxBytes: maxBytes)
        }
    }

    var isExhausted: Bool {
        get async {
            if let replanned { return await replanned.isExhausted }
            // Before its first batch a cursor is not exhausted (a prefetched batch may be dropped).
            if prefetched != nil { return false }
            return progress?.isFinished ?? true
        }
    }

    func close() async {
        progress = nil
        prefetched = nil
        await replanned?.close()
        replanned = nil
    }
}
