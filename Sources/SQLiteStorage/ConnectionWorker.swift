import CSQLite
import Dispatch

/// One connection confined to its own serial dispatch queue: every use of the connection happens in a
/// block on `queue`, so blocking SQLite calls never occupy Swift's cooperative thread pool.
///
/// `@unchecked Sendable` because the only mutable state, `connection`, is touched on `queue` alone.
final class ConnectionWorker: @unchecked Sendable {
    /// The serial queue that owns the connection (a private thread from Dispatch's overcommit pool).
    let queue: DispatchQueue
    /// The connection; read and written only on `queue`.
    private var connection: SQLiteConnection?
    /// Keeps the WAL-hook context alive as long as the connection (touched only on `queue`).
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

    /// Runs `body` with the connection on the queue without waiting (used by the WAL hook).
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

    /// Installs `trigger` as the connection's WAL hook (called on `queue` after every commit).
    func installWalHook(_ trigger: CheckpointTrigger) async throws {
        try await perform { [self] in
            guard let handle = connection?.handle else { throw SQLiteError.closed("connection") }
            walHookContext = trigger
            sqlite3_wal_hook(handle, { context, db, _, pages in
                guard let context else { return SQLITE_OK }
                let trigger = Unmanaged<CheckpointTrigger>.fromOpaque(context).takeUnretainedValue()
                if trigger.walDidCommit(pages: Int(pages)) {
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
/// `@unchecked Sendable`: `lastRequestedPages` is touched only on the writer's queue (inside the hook).
final class CheckpointTrigger: @unchecked Sendable {
    private let thresholdPages: Int
    private let capPages: Int
    private let checkpointer: ConnectionWorker
    private var lastRequestedPages = 0

    /// `capPages` 0 means no cap.
    init(thresholdPages: Int, capPages: Int, checkpointer: ConnectionWorker) {
        self.thresholdPages = max(1, thresholdPages)
        self.capPages = capPages
        self.checkpointer = checkpointer
    }

    /// Called by SQLite on the writer's thread after a commit; `pages` is the WAL's size in pages.
    /// Returns true when the writer should checkpoint synchronously (the WAL passed the cap).
    func walDidCommit(pages: Int) -> Bool {
        if pages < lastRequestedPages { lastRequestedPages = 0 }  // the WAL was restarted
        // Past the cap the writer checkpoints itself; a background run now would only collide with it
        // (a second concurrent checkpoint gets SQLITE_BUSY and does nothing).
        if capPages > 0 && pages >= capPages { return true }
        if pages - lastRequestedPages >= thresholdPages {
            lastRequestedPages = pages
            checkpointer.submit { connection in _ = try? connection.checkpoint(.passive) }
        }
        return false
    }
}
