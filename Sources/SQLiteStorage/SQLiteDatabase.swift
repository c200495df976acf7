import Executors
import Storage
import Synchronization

/// A SQLite database in WAL mode with ONE writer connection and a pool of read-only connections.
///
/// Writes run one at a time, in submission order (an ``AsyncFIFOLock`` guards the writer), so
/// concurrent writers never meet `SQLITE_BUSY`. Reads run on any idle reader checked out of a
/// mutex-guarded pool; in WAL mode they see the last committed state and never wait for the writer.
/// A task waiting for the writer or a reader suspends; it never blocks a thread.
///
/// Where the SQLite calls run depends on the caller: on a `BlockingExecutor` thread (the server runs
/// every connection's task there, see `BlockingExecutor`) the body runs inline on that thread, with no
/// thread switch; anywhere else (Swift's cooperative pool, which must never block) it runs on the
/// connection's own dispatch queue and the caller awaits it. Either way the connection is used by
/// the one task that checked it out or holds the writer lock.
///
/// Not an actor: a request goes straight from the caller's task to the connection, so each statement
/// costs at most one thread hop (none on a `BlockingExecutor`).
public final class SQLiteDatabase: Sendable {
    /// The configuration the database was opened with.
    public let configuration: SQLiteConfiguration
    private let writer: ConnectionWorker
    /// Serializes every use of `writer` (writes, writer checkpoints, close), in request order.
    private let writerLock = AsyncFIFOLock()
    private let checkpointer: ConnectionWorker?
    /// The writer's WAL hook when a background checkpointer runs (nil: SQLite's own autocheckpoint).
    private let walTrigger: CheckpointTrigger?

    /// The reader pool: idle readers, tasks waiting for one, and whether the database is closed.
    private struct Pool {
        var idle: [ConnectionWorker]
        var waiters: [CheckedContinuation<ConnectionWorker, any Error>] = []
        var isClosed = false
    }

    private let pool: Mutex<Pool>

    /// Opens (creating if needed) the database: the writer first (it sets WAL mode and page size), then
    /// the readers and, when configured, the background checkpointer.
    public init(configuration: SQLiteConfiguration) async throws {
        let path = configuration.path
        let timeout = configuration.busyTimeoutMilliseconds
        let writer = try await ConnectionWorker.open(
            label: "gridlite.sqlite.writer", path: path, flags: .writerDefault,
            busyTimeoutMilliseconds: timeout, pragmas: configuration.writerPragmas)
        var checkpointer: ConnectionWorker?
        if let bytes = configuration.backgroundCheckpointBytes {
            let worker = try await ConnectionWorker.open(
                label: "gridlite.sqlite.checkpointer", path: path, flags: .writerDefault,
                busyTimeoutMilliseconds: timeout, pragmas: configuration.checkpointerPragmas)
            let pageSize = try await writer.run { connection -> Int in
                guard case .integer(let size)? = try connection.pragma("page_size") else { return 4096 }
                return Int(size)
            }
            let trigger = CheckpointTrigger(
                thresholdPages: bytes / pageSize,
                capPages: configuration.walCapBytes.map { $0 / pageSize } ?? configuration.walAutoCheckpointPages,
                checkpointer: worker, beforeCheckpoint: configuration.beforeCheckpoint)
            try await writer.installWalHook(trigger)
            checkpointer = worker
            walTrigger = trigger
        } else {
            walTrigger = nil
        }
        var readers: [ConnectionWorker] = []
        for index in 0..<max(1, configuration.readerCount) {
            readers.append(try await ConnectionWorker.open(
                label: "gridlite.sqlite.reader\(index)", path: path, flags: .readerDefault,
                busyTimeoutMilliseconds: timeout, pragmas: configuration.readerPragmas))
        }
        self.configuration = configuration
        self.writer = writer
        self.checkpointer = checkpointer
        self.pool = Mutex(Pool(idle: readers))
    }

    /// Opens the database at `path` with the default configuration.
    public convenience init(path: String) async throws {
        try await self.init(configuration: SQLiteConfiguration(path: path))
    }

    /// Runs `body` on the writer connection, after every write submitted before it. `body` manages its
    /// own transactions (see ``writeTransaction(_:)``); it must not keep the connection. It runs inline
    /// when the caller is on a `BlockingExecutor` thread, else on the writer's queue.
    @discardableResult
    public func write<T: Sendable>(
        until deadline: ContinuousClock.Instant? = nil, _ body: @escaping @Sendable (SQLiteConnection) throws -> T
    ) async throws -> T {
        guard !isClosed else { throw SQLiteError.closed("database") }
        guard await writerLock.lock(until: deadline) else { throw WriterLockTimeout() }
        defer { writerLock.unlock() }
        if BlockingExecutor.isCurrentThreadWorker || (InlineWork.isAllowed && mayWriteInline) {
            return try BlockingExecutor.blocking { try writer.runInline(body) }
        }
        return try await writer.run(body)
    }

    /// Whether a short write may commit on a thread that is not a `BlockingExecutor` thread (an
    /// event loop, ``InlineWork``): only when the commit cannot turn into long work there — no
    /// `fsync` per commit (`synchronous = FULL`), no SQLite autocheckpoint on the committing thread
    /// (a background checkpointer runs), and the WAL not near the cap past which the writer
    /// checkpoints itself after the commit.
    private var mayWriteInline: Bool {
        guard configuration.synchronous != .full, let walTrigger else { return false }
        return !walTrigger.isNearCap(marginPages: SQLiteDatabase.inlineWriteMarginPages)
    }

    /// WAL pages a short inline write is assumed to add at most (4 MiB of 4 KiB pages; inline
    /// requests are at most 512 KiB, and a GridFS chunk's payload goes to a segment file, not
    /// the WAL).
    static let inlineWriteMarginPages = 1024

    /// Runs `body` on the writer inside `BEGIN IMMEDIATE … COMMIT` (ROLLBACK when it throws).
    @discardableResult
    public func writeTransaction<T: Sendable>(_ body: @escaping @Sendable (SQLiteConnection) throws -> T) async throws -> T {
        try await write { connection in try connection.transaction(.immediate) { try body(connection) } }
    }

    /// Runs `body` on an idle reader inside a read transaction (one consistent snapshot for all its
    /// statements), waiting for a reader to become free if all are busy. It runs inline when the caller
    /// is on a `BlockingExecutor` thread, else on the reader's queue.
    @discardableResult
    public func read<T: Sendable>(_ body: @escaping @Sendable (SQLiteConnection) throws -> T) async throws -> T {
        let reader: ConnectionWorker
        if let idle = try takeIdleReader() {
            reader = idle
        } else {
            reader = try await waitForReader()
        }
        do {
            let result: T
            if InlineWork.mayRunOnCurrentThread {
                result = try BlockingExecutor.blocking {
                    try reader.runInline { connection in try connection.transaction(.deferred) { try body(connection) } }
                }
            } else {
                result = try await reader.run { connection in try connection.transaction(.deferred) { try body(connection) } }
            }
            await checkinReader(reader)
            return result
        } catch {
            await checkinReader(reader)
            throw error
        }
    }

    /// Runs a WAL checkpoint on the checkpointer connection (or the writer, when there is none).
    @discardableResult
    public func checkpoint(_ mode: SQLiteConnection.CheckpointMode = .passive) async throws -> (walFrames: Int, checkpointed: Int) {
        guard !isClosed else { throw SQLiteError.closed("database") }
        let run: @Sendable (SQLiteConnection) throws -> [Int] = { connection in
            let (frames, done) = try connection.checkpoint(mode)
            return [frames, done]
        }
        let result: [Int]
        if let checkpointer {
            // The checkpointer only ever runs on its queue (the WAL hook submits there too).
            result = try await checkpointer.run(run)
        } else {
            result = try await write(run)
        }
        return (result[0], result[1])
    }

    /// Frees the page caches of the writer, the checkpointer and every reader not running a read
    /// (called when the server is idle, so that RSS returns to its resting level; the caches refill
    /// from the file, mostly from the kernel's page cache, on the next reads).
    public func releaseMemory() async {
        let idle = pool.withLock { state -> [ConnectionWorker] in
            let readers = state.idle
            state.idle.removeAll()
            return readers
        }
        for reader in idle {
            _ = try? await reader.run { connection in try connection.releaseMemory() }
            await checkinReader(reader)
        }
        if let checkpointer { _ = try? await checkpointer.run { connection in try connection.releaseMemory() } }
        _ = try? await write { connection in try connection.releaseMemory() }
    }

    /// The number of readers not currently running a read.
    public var idleReaderCount: Int { pool.withLock { $0.idle.count } }

    private var isClosed: Bool { pool.withLock { $0.isClosed } }

    /// Closes every connection after the work already submitted; later calls throw `SQLITE_MISUSE`.
    /// Readers busy at that moment are closed when their read finishes.
    public func close() async {
        let (pending, idle, wasClosed) = pool.withLock { state in
            let result = (state.waiters, state.idle, state.isClosed)
            state.isClosed = true
            state.waiters.removeAll()
            state.idle.removeAll()
            return result
        }
        guard !wasClosed else { return }
        for waiter in pending { waiter.resume(throwing: SQLiteError.closed("database")) }
        for reader in idle { await reader.close() }
        await checkpointer?.close()
        // After every write already waiting for the writer; later ones find it closed.
        await writerLock.lock()
        await writer.close()
        writerLock.unlock()
    }

    /// Takes an idle reader without suspending; nil when all are busy.
    private func takeIdleReader() throws -> ConnectionWorker? {
        try pool.withLock { state throws(SQLiteError) in
            if state.isClosed { throw SQLiteError.closed("database") }
            return state.idle.popLast()
        }
    }

    /// Suspends until a reader is free (or the database closes).
    private func waitForReader() async throws -> ConnectionWorker {
        try await withCheckedThrowingContinuation { continuation in
            let ready: Result<ConnectionWorker, any Error>? = pool.withLock { state in
                if state.isClosed { return .failure(SQLiteError.closed("database")) }
                if let reader = state.idle.popLast() { return .success(reader) }
                state.waiters.append(continuation)
                return nil
            }
            if let ready { continuation.resume(with: ready) }
        }
    }

    /// Returns a reader to the pool (or hands it to a waiting task); after close, closes it.
    private func checkinReader(_ reader: ConnectionWorker) async {
        let (waiter, closed): (CheckedContinuation<ConnectionWorker, any Error>?, Bool) = pool.withLock { state in
            if state.isClosed { return (nil, true) }
            if !state.waiters.isEmpty { return (state.waiters.removeFirst(), false) }
            state.idle.append(reader)
            return (nil, false)
        }
        if closed {
            await reader.close()
        } else {
            waiter?.resume(returning: reader)
        }
    }
}

/// The wait for the writer lock outlasted the caller's deadline (`SQLiteDatabase.write(until:_:)`).
public struct WriterLockTimeout: Error, Sendable {
    /// Creates the error.
    public init() {}
}
