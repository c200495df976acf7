import BSON
import Query
import Storage

extension PostgresStorageEngine {
    /// One leased connection does the catalog lookup and the plan, and for a blocking sort the
    /// whole sort; otherwise it also reads the first batch when the query names it
    /// (``FindQuery/firstBatch``: the `find` command asks for it at once, so a lookup of one small
    /// document costs one lease instead of two), and the cursor reads later batches as they are asked
    /// for (each a fresh statement resumed by key; only a GridFS download reads its next batch
    /// ahead, handed out only while the collection exists — see ``PostgresCursor``).
    ///
    /// When this daemon has the collection's catalog entry cached, the catalog check is sent
    /// ahead of the scan on the same connection and read after it (``PGCatalog/sendCheck(_:_:)``):
    /// a small `find` is one round trip instead of two. If the check does not confirm the cached
    /// entry (another daemon changed the collection) or the speculative scan fails, its result is
    /// dropped and the query runs again the ordinary way.
    public func find(_ query: FindQuery) async throws -> any DocumentCursor {
        if let cached = catalogCache.get(query.namespace),
           let start = try? await withSession({ s -> Start? in
               try PGCatalog.sendCheck(s, cached)
               let start: Start
               do {
                   start = try Self.start(s, cached, query)
               } catch {
                   _ = try? s.aheadRows()  // nothing stays in flight when the connection goes back
                   throw error
               }
               return PGCatalog.confirms(try s.aheadRows(), cached) ? start : nil
           }) ?? nil {
            return cursor(start, query)
        }
        let start = try await replanning { try await withSession { s -> Start in
            guard let entry = try PGCatalog.entry(s, query.namespace, lock: nil) else { return .empty }
            return try Self.start(s, entry, query)
        } }
        return cursor(start, query)
    }

    /// How a query starts: nothing, a sorted result, or a scan with its first batch.
    enum Start: Sendable {
        case empty
        case sorted([BSONDocument])
        case scanning(PGCollection, QueryProgress, PostgresCursor.Prefetched?)
    }

    /// Plans the query on `entry` and runs what runs at once: a blocking sort whole, otherwise
    /// the first batch when the query names it.
    private static func start(_ s: PGSession, _ entry: PGCollection, _ query: FindQuery) throws -> Start {
        let plan = try QueryPlanner.plan(filter: query.filter, sort: query.sort, indexes: entry.descriptors, hint: query.hint)
        var progress = QueryProgress(plan: plan, filter: query.filter, skip: query.skip, limit: query.limit)
        if let sort = query.sort, !plan.providesSort {
            let scanner = PGScanner(session: s, entry: entry, lockRows: false)
            return .sorted(try progress.sorted(scanner, by: sort, memoryLimit: query.sortMemoryLimit).map(\.doc))
        }
        guard let limits = query.firstBatch, limits.count > 0 else { return .scanning(entry, progress, nil) }
        let before = progress
        if PGDeferredChunks.canDefer(entry, query.filter) {
            let slot = PGDeferredChunks.Slot()
            let scanner = PGScanner(session: s, entry: entry, lockRows: false, budget: (limits.count, limits.bytes), deferred: slot)
            let docs = try progress.next(scanner, maxCount: limits.count, maxBytes: limits.bytes) { _, _ in try slot.take() }
            return .scanning(entry, before, PostgresCursor.Prefetched(limits: limits, batch: .deferred(docs), progress: progress))
        }
        let scanner = PGScanner(session: s, entry: entry, lockRows: false, budget: (limits.count, limits.bytes))
        let docs = try progress.next(scanner, maxCount: limits.count, maxBytes: limits.bytes)
        return .scanning(entry, before, PostgresCursor.Prefetched(limits: limits, batch: .documents(docs), progress: progress))
    }

    private func cursor(_ start: Start, _ query: FindQuery) -> any DocumentCursor {
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

    /// ``nextBatch(_:progress:maxCount:maxBytes:averageHint:)`` as deferred documents
    /// (``PGDeferredChunks``: GridFS chunks, each copied once, into the reply).
    func nextDeferredBatch(_ entry: PGCollection, progress: QueryProgress, maxCount: Int, maxBytes: Int, averageHint: Int?) async throws
        -> ([DeferredDocument], QueryProgress)
    {
        try await withSession { s in
            var progress = progress
            let slot = PGDeferredChunks.Slot()
            let scanner = PGScanner(session: s, entry: entry, lockRows: false, budget: (maxCount, maxBytes), averageHint: averageHint,
                                    deferred: slot)
            let docs = try progress.next(scanner, maxCount: maxCount, maxBytes: maxBytes) { _, _ in try slot.take() }
            return (docs, progress)
        }
    }

    /// Whether the collection's catalog row is still the one `entry` was read from (not dropped,
    /// nor dropped and made again): a batch read ahead is handed out only then.
    func stillExists(_ entry: PGCollection) async throws -> Bool {
        try await withSession { s in
            try s.query("SELECT 1 FROM gl_collections WHERE id = $1", [.int(entry.id)]).first != nil
        }
    }
}

/// A cursor over a PostgreSQL query: it holds only the query's position (no transaction, no
/// server-side cursor), so an idle cursor pins nothing in PostgreSQL.
///
/// A GridFS download (deferred batches, ``PGDeferredChunks``) reads one batch ahead: as a batch
/// goes to the client, the next one is read from PostgreSQL, so the client's receiving and
/// PostgreSQL's reading overlap instead of taking turns (docs/scaling.md, "Downloads"). The batch
/// read ahead is handed out only if the next request's limits allow it and the collection still
/// exists then; otherwise (or if the read failed) it is dropped and the batch read as before.
actor PostgresCursor: DocumentCursor {
    private let engine: PostgresStorageEngine
    private let query: FindQuery
    private let entry: PGCollection
    private var progress: QueryProgress?
    /// True once a batch went to the client.
    private var returned = false
    /// The average document size of the last batch (see ``PGScanner/averageHint``).
    private var averageSize: Int?
    /// A batch as read: documents, or deferred documents (GridFS chunks).
    enum Batch: Sendable {
        case documents([BSONDocument])
        case deferred([DeferredDocument])
    }
    /// A first batch read with the plan, and the progress after it.
    struct Prefetched: Sendable {
        let limits: BatchLimits
        let batch: Batch
        let progress: QueryProgress
    }
    /// Handed out by the first ``nextBatch(maxCount:maxBytes:)`` that asks for exactly its limits;
    /// otherwise dropped and that batch read from the progress before it.
    private var prefetched: Prefetched?
    /// The next deferred batch, being read (with the limits it was read with).
    private var readAhead: (limits: BatchLimits, task: Task<([DeferredDocument], QueryProgress), any Error>)?
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
        dropReadAhead()
        if let first = takePrefetched(BatchLimits(count: maxCount, bytes: maxBytes)) {
            switch first {
            case .documents(let docs):
                noteBatch(docs.count, docs.reduce(0) { $0 + $1.bytes.count })
                return docs
            case .deferred(let docs):
                noteBatch(docs.count, docs.reduce(0) { $0 + $1.byteCount })
                return try docs.map { try $0.materialize() }
            }
        }
        guard let current = progress, !current.isFinished else { return [] }
        do {
            let (docs, next) = try await engine.nextBatch(entry, progress: current, maxCount: maxCount, maxBytes: maxBytes,
                                                          averageHint: averageSize)
            progress = next
            noteBatch(docs.count, docs.reduce(0) { $0 + $1.bytes.count })
            return docs
        } catch is StalePlan {
            return try await replan().nextBatch(maxCount: maxCount, maxBytes: maxBytes)
        }
    }

    func nextDeferredBatch(maxCount: Int, maxBytes: Int) async throws -> DeferredBatch? {
        if let replanned { return try await replanned.nextDeferredBatch(maxCount: maxCount, maxBytes: maxBytes) }
        guard PGDeferredChunks.canDefer(entry, query.filter) else { return nil }
        let limits = BatchLimits(count: maxCount, bytes: maxBytes)
        if let first = takePrefetched(limits) {
            let docs: [DeferredDocument]
            switch first {
            case .documents(let plain): docs = plain.map { DeferredDocument($0) }
            case .deferred(let deferred): docs = deferred
            }
            return handOut(docs, limits)
        }
        guard let current = progress, !current.isFinished else {
            dropReadAhead()
            return DeferredBatch(documents: [])
        }
        if let ahead = readAhead {
            readAhead = nil
            if ahead.limits.count <= maxCount, ahead.limits.bytes <= maxBytes {
                // The existence check runs while the batch read ahead is still coming.
                let engine = self.engine, entry = self.entry
                async let exists = (try? await engine.stillExists(entry)) == true
                let read = try? await ahead.task.value
                if await exists, let (docs, next) = read {
                    guard progress != nil else { return DeferredBatch(documents: []) }
                    progress = next
                    return handOut(docs, limits)
                }
            }
            ahead.task.cancel()
        }
        do {
            let (docs, next) = try await engine.nextDeferredBatch(entry, progress: current, maxCount: maxCount, maxBytes: maxBytes,
                                                                  averageHint: averageSize)
            guard progress != nil else { return DeferredBatch(documents: []) }
            progress = next
            return handOut(docs, limits)
        } catch is StalePlan {
            return try await replan().nextDeferredBatch(maxCount: maxCount, maxBytes: maxBytes)
        }
    }

    /// The prefetched first batch when `limits` are exactly those it was read with (its progress
    /// becomes the cursor's); nil otherwise (it is dropped).
    private func takePrefetched(_ limits: BatchLimits) -> Batch? {
        guard let first = prefetched else { return nil }
        prefetched = nil
        guard progress != nil, first.limits == limits else { return nil }
        progress = first.progress
        return first.batch
    }

    /// Records a batch going out, and starts reading the next one.
    private func handOut(_ docs: [DeferredDocument], _ limits: BatchLimits) -> DeferredBatch {
        noteBatch(docs.count, docs.reduce(0) { $0 + $1.byteCount })
        if let current = progress, !current.isFinished, !docs.isEmpty {
            let engine = self.engine, entry = self.entry, hint = averageSize
            readAhead = (limits, Task {
                try await engine.nextDeferredBatch(entry, progress: current, maxCount: limits.count, maxBytes: limits.bytes,
                                                   averageHint: hint)
            })
        }
        return DeferredBatch(documents: docs)
    }

    private func noteBatch(_ count: Int, _ bytes: Int) {
        guard count > 0 else { return }
        returned = true
        averageSize = bytes / count
    }

    /// Waits until the batch being read ahead, if any, has been read; false when none is (tests).
    func settleReadAhead() async -> Bool {
        guard let task = readAhead?.task else { return false }
        _ = try? await task.value
        return true
    }

    private func dropReadAhead() {
        readAhead?.task.cancel()
        readAhead = nil
    }

    /// An index the plan took as single-key turned multikey (``StalePlan``). Before any document
    /// went out the query is planned again; afterwards it cannot go on.
    private func replan() async throws -> any DocumentCursor {
        dropReadAhead()
        guard !returned else {
            progress = nil
            throw MongoError(.queryPlanKilled, "an index of \(entry.namespace) became multikey during the query")
        }
        let fresh = try await engine.find(query)
        replanned = fresh
        progress = nil
        return fresh
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
        dropReadAhead()
        await replanned?.close()
        replanned = nil
    }
}
