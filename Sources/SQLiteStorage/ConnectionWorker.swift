import Executors
import CSQLite
import Dispatch
import Synchronization

/// One connection and the serial dispatch queue where it runs when its caller may not block.
///
/// The connection is used by one party at a time: whoever checked it out of the reader pool or holds
/// the writer lock (see `SQLiteDatabase`). That party either runs its body on `queue` (``run(_:)``:
/// callers on Swift's cooperative pool, which must never block on SQLite) or inline on its own thread
/// (``runInline(_:)``: callers on a `BlockingExecutor` thread, saving two thread switches per call).
/// The queue is only *where* a body runs; exclusivity comes from the checkout/lock.
///
/// `@unchecked Sendable` because the only mutable state, `connection` (and the WAL-hook context), is
/// touched only by the party that has the connection checked out, on the queue or inline, and by
/// open/close, which happen when no one else can have it.
final class ConnectionWorker: @unchecked Sendable {
    /// The serial queue where bodies run for callers that must not block (a thread from Dispatch's
    /// overcommit pool).
    let queue: DispatchQueue
    /// The connection; touched only by the party that has the worker (see the type's comment).
    private var connection: SQLiteConnection?
    /// Keeps the WAL-hook context alive as long as the connection.
    var walHookContext: CheckpointTrigger?

    private init(label: String) {
        queue = DispatchQueue(label: label, qos: .userInitiated)
    }

    /// Opens a connection on a new worker's queue and runs `pragmas` on it.
    static func open(label: String, path: String, flags: SQLiteConnection.OpenFlags,
                     busyTimeoutMilliseconds: Int32, pragmas: [String]) async throws -> ConnectionWorker {
        let worker = ConnectionWorker(label: label)
        try await worker.perform {
            let connection = try SQLiteConnection(path: path, flags: flags, busyTimeoutMilliseconds: busyTimeoutMilliseconds)
            for pragma in pragmas { try connection.exec(pragma) }
            worker.connection = connection
        }
        return worker
    }

    /// Runs `body` on the queue and suspends the calling task until it finishes.
    private func perform<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            queue.async { continuation.resume(with: Result { try body() }) }
        }
    }

    /// Runs `body` with the connection on the queue.
    func run<T: Sendable>(_ body: @escaping @Sendable (SQLiteConnection) throws -> T) async throws -> T {
        try await perform { [self] in
            guard let connection, connection.isOpen else { throw SQLiteError.closed("connection") }
            return try body(connection)
        }
    }

    /// Runs `body` with the connection on the calling thread. The caller must have the worker to itself
    /// (a checked-out reader, or the writer under its lock) and be allowed to block.
    func runInline<T>(_ body: (SQLiteConnection) throws -> T) throws -> T {
        guard let connection, connection.isOpen else { throw SQLiteError.closed("connection") }
        return try body(connection)
    }

    /// Runs `body` with the connection on the queue without waiting (used for the checkpointer, which
    /// only ever runs on its queue).
    func submit(_ body: @escaping @Sendable (SQLiteConnection) -> Void) {
        queue.async { [self] in
            guard let connection, connection.isOpen else { return }
            body(connection)
        }
    }

    /// Closes the connection on its queue.
    func close() async {
        _ = try? await perform { [self] in
            connection?.close()
            connection = nil
            walHookContext = nil
        }
    }

    /// Installs `trigger` as the connection's WAL hook (called after every commit, on the thread that
    /// committed: the writer's queue or a `BlockingExecutor` thread holding the writer lock).
    func installWalHook(_ trigger: CheckpointTrigger) async throws {
        try await perform { [self] in
            guard let handle = connection?.handle else { throw SQLiteError.closed("connection") }
            walHookContext = trigger
            sqlite3_wal_hook(handle, { context, db, _, pages in
                guard let context else { return SQLITE_OK }
                let trigger = Unmanaged<CheckpointTrigger>.fromOpaque(context).takeUnretainedValue()
                if trigger.walDidCommit(pages: Int(pages)) {
                    trigger.beforeCheckpoint?()
                    // The WAL passed the hard cap: checkpoint here, on the writer, like wal_autocheckpoint.
                    sqlite3_wal_checkpoint_v2(db, nil, SQLITE_CHECKPOINT_PASSIVE, nil, nil)
                }
                return SQLITE_OK
            }, Unmanaged.passUnretained(trigger).toOpaque())
        }
    }
}

/// The writer's WAL hook: once the WAL has grown by `thresholdPages` since the last request, asks the
/// checkpointer to run a PASSIVE checkpoint on its own thread, so commits do not wait for it. The hook
/// replaces SQLite's own `wal_autocheckpoint`, so it also enforces `capPages`: past it, the writer itself
/// checkpoints after the commit (cheap when the background checkpointer has kept up), which lets the
/// next write transaction restart the WAL from the beginning.
///
/// `@unchecked Sendable`: `lastRequestedPages` is touched only inside the hook, i.e. by the writer's
/// current user, which holds the writer lock.
final class CheckpointTrigger: @unchecked Sendable {
    private let thresholdPages: Int
    private let capPages: Int
    private let checkpointer: ConnectionWorker
    private var lastRequestedPages = 0
    /// The WAL's size in pages after the last commit (read by other threads: `isNearCap`).
    private let lastPages = Atomic<Int>(0)

    /// `capPages` 0 means no cap.
    /// Runs before every checkpoint this trigger causes, on the checkpointing thread.
    let beforeCheckpoint: (@Sendable () -> Void)?

    init(thresholdPages: Int, capPages: Int, checkpointer: ConnectionWorker, beforeCheckpoint: (@Sendable () -> Void)? = nil) {
        self.thresholdPages = max(1, thresholdPages)
        self.capPages = capPages
        self.checkpointer = checkpointer
        self.beforeCheckpoint = beforeCheckpoint
    }

    /// Whether a commit adding up to `marginPages` pages could reach the cap, so that the writer
    /// would checkpoint synchronously after it (long work that must not run on an event loop).
    func isNearCap(marginPages: Int) -> Bool {
        capPages > 0 && lastPages.load(ordering: .relaxed) + marginPages >= capPages
    }

    /// Called by SQLite on the writer's thread after a commit; `pages` is the WAL's size in pages.
    /// Returns true when the writer should checkpoint synchronously (the WAL passed the cap).
    func walDidCommit(pages: Int) -> Bool {
        lastPages.store(pages, ordering: .relaxed)
        if pages < lastRequestedPages { lastRequestedPages = 0 }  // the WAL was restarted
        // Past the cap the writer checkpoints itself; a background run now would only collide with it
        // (a second concurrent checkpoint gets SQLITE_BUSY and does nothing).
        if capPages > 0 && pages >= capPages { return true }
        if pages - lastRequestedPages >= thresholdPages {
            lastRequestedPages = pages
            let before = beforeCheckpoint
            checkpointer.submit { connection in
                before?()
                _ = try? connection.checkpoint(.passive)
            }
        }
        return false
    }
}
