/// A SQLite database in WAL mode with ONE writer connection and a pool of read-only connections.
///
/// Writes run one at a time, in submission order, on the writer's own thread, so concurrent writers
/// never meet `SQLITE_BUSY`. Reads run on any idle reader, each on its own thread; in WAL mode they see
/// the last committed state and never wait for the writer. Every SQLite call happens on a dedicated
/// dispatch queue, never on Swift's cooperative pool; callers just `await`.
public actor SQLiteDatabase {
    /// The configuration the database was opened with.
    public nonisolated let configuration: SQLiteConfiguration
    private let writer: ConnectionWorker
    private let checkpointer: ConnectionWorker?
    private var idleReaders: [ConnectionWorker]
    private var waiters: [CheckedContinuation<ConnectionWorker, any Error>] = []
    private var isClosed = false

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
            try await writer.installWalHook(CheckpointTrigger(
                thresholdPages: bytes / pageSize, capPages: configuration.walAutoCheckpointPages, checkpointer: worker))
            checkpointer = worker
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
        self.idleReaders = readers
    }

    /// Opens the database at `path` with the default configuration.
    public init(path: String) async throws {
        try await self.init(configuration: SQLiteConfiguration(path: path))
    }

    /// Runs `body` on the writer connection, after every write submitted before it. `body` manages its
    /// own transactions (see ``writeTransaction(_:)``); it must not keep the connection.
    @discardableResult
    public func write<T: Sendable>(_ body: @escaping @Sendable (SQLiteConnection) throws -> T) async throws -> T {
        guard !isClosed else { throw SQLiteError.closed("database") }
        return try await writer.run(body)
    }

    /// Runs `body` on the writer inside `BEGIN IMMEDIATE … COMMIT` (ROLLBACK when it throws).
    @discardableResult
    public func writeTransaction<T: Sendable>(_ body: @escaping @Sendable (SQLiteConnection) throws -> T) async throws -> T {
        try await write { connection in try connection.transaction(.immediate) { try body(connection) } }
    }

    /// Runs `body` on an idle reader inside a read transaction (one consistent snapshot for all its
    /// statements), waiting for a reader to become free if all are busy.
    @discardableResult
    public func read<T: Sendable>(_ body: @escaping @Sendable (SQLiteConnection) throws -> T) async throws -> T {
        let reader = try await checkoutReader()
        defer { checkinReader(reader) }
        return try await reader.run { connection in try connection.transaction(.deferred) { try body(connection) } }
    }

    /// Runs a WAL checkpoint on the checkpointer connection (or the writer, when there is none).
    @discardableResult
    public func checkpoint(_ mode: SQLiteConnection.CheckpointMode = .passive) async throws -> (walFrames: Int, checkpointed: Int) {
        guard !isClosed else { throw SQLiteError.closed("database") }
        let worker = checkpointer ?? writer
        let result = try await worker.run { connection in
            let (frames, done) = try connection.checkpoint(mode)
            return [frames, done]
        }
        return (result[0], result[1])
    }

    /// The number of readers not currently running a read.
    public var idleReaderCount: Int { idleReaders.count }

    /// Closes every connection after the work already submitted; later calls throw `SQLITE_MISUSE`.
    public func close() async {
        guard !isClosed else { return }
        isClosed = true
        let pending = waiters
        waiters.removeAll()
        for waiter in pending { waiter.resume(throwing: SQLiteError.closed("database")) }
        for reader in idleReaders { await reader.close() }
        idleReaders.removeAll()
        await checkpointer?.close()
        await writer.close()
    }

    private func checkoutReader() async throws -> ConnectionWorker {
        guard !isClosed else { throw SQLiteError.closed("database") }
        if let reader = idleReaders.popLast() { return reader }
        return try await withCheckedThrowingContinuation { waiters.append($0) }
    }

    private func checkinReader(_ reader: ConnectionWorker) {
        if isClosed {
            Task { await reader.close() }
        } else if !waiters.isEmpty {
            waiters.removeFirst().resume(returning: reader)
        } else {
            idleReaders.append(reader)
        }
    }
}
