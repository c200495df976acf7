import BSON
import Executors
import Storage

/// A streaming cursor: each batch is read in its own short read transaction, resuming from the
/// last key it returned, so an idle cursor holds no SQLite resources and never pins the WAL.
actor SQLiteCursor: DocumentCursor {
    private let engine: SQLiteStorageEngine
    private var state: QueryState?
    /// Whether a batch was read already: the first batch runs right after the catalog was read,
    /// so only later batches (getMore, possibly minutes later) re-check that nothing was dropped.
    private var started = false

    init(engine: SQLiteStorageEngine, state: QueryState) {
        self.engine = engine
        self.state = state
    }

    func nextBatch(maxCount: Int, maxBytes: Int) async throws -> [BSONDocument] {
        guard let current = state, !current.isFinished else { return [] }
        let recheck = started
        started = true
        let (docs, next) = try await engine.read { c in
            if recheck { try current.checkStillValid(c) }
            var s = current
            let docs = try s.next(c, maxCount: maxCount, maxBytes: maxBytes)
            return (docs, s)
        }
        state = next
        return docs
    }

    /// GridFS chunk batches as deferred documents (see ``DeferredChunks``); nil for other queries.
    /// The batch keeps the segment files it refers to open until it is released.
    func nextDeferredBatch(maxCount: Int, maxBytes: Int) async throws -> DeferredBatch? {
        guard let current = state, !current.isFinished else { return DeferredBatch(documents: []) }
        guard current.canDefer else { return nil }
        let recheck = started
        started = true
        let blobs = current.blobs
        // Registered before the snapshot begins: segments retired after it stay readable until release.
        let token = blobs.beginRead()
        do {
            let (docs, next) = try await engine.read { c in
                if recheck { try current.checkStillValid(c) }
                var s = current
                let docs = try s.nextDeferred(c, maxCount: maxCount, maxBytes: maxBytes)
                return (docs, s)
            }
            state = next
            return DeferredBatch(documents: docs) { BlockingExecutor.blocking { blobs.endRead(token) } }
        } catch {
            BlockingExecutor.blocking { blobs.endRead(token) }
            throw error
        }
    }

    var isExhausted: Bool { state?.isFinished ?? true }

    func close() async {
        state = nil
    }
}
