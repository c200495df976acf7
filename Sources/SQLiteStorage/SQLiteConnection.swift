import CSQLite

/// One SQLite connection with a statement cache. Not `Sendable`: a connection belongs to one owner
/// (in gridlite, one serial dispatch queue of ``SQLiteDatabase``) and is used by one thread at a time.
public final class SQLiteConnection {
    /// Flags for `sqlite3_open_v2`.
    public struct OpenFlags: OptionSet, Sendable {
        public let rawValue: Int32
        /// Creates flags from `SQLITE_OPEN_*` bits.
        public init(rawValue: Int32) { self.rawValue = rawValue }
        /// `SQLITE_OPEN_READONLY`.
        public static let readOnly = OpenFlags(rawValue: SQLITE_OPEN_READONLY)
        /// `SQLITE_OPEN_READWRITE`.
        public static let readWrite = OpenFlags(rawValue: SQLITE_OPEN_READWRITE)
        /// `SQLITE_OPEN_CREATE`.
        public static let create = OpenFlags(rawValue: SQLITE_OPEN_CREATE)
        /// `SQLITE_OPEN_URI`.
        public static let uri = OpenFlags(rawValue: SQLITE_OPEN_URI)
        /// `SQLITE_OPEN_NOMUTEX`: the connection is confined to one thread at a time (our model).
        public static let noMutex = OpenFlags(rawValue: SQLITE_OPEN_NOMUTEX)
        /// `SQLITE_OPEN_EXRESCODE`: extended result codes from every call.
        public static let extendedResultCodes = OpenFlags(rawValue: 0x0200_0000)
        /// Read-write, created if missing, single-owner, extended codes.
        public static let writerDefault: OpenFlags = [.readWrite, .create, .noMutex, .extendedResultCodes]
        /// Read-only, single-owner, extended codes.
        public static let readerDefault: OpenFlags = [.readOnly, .noMutex, .extendedResultCodes]
    }

    /// How `BEGIN` takes locks.
    public enum TransactionKind: String, Sendable {
        /// Locks on first access (readers).
        case deferred = "DEFERRED"
        /// Takes the write lock at BEGIN (writers: any SQLITE_BUSY happens here, never mid-transaction).
        case immediate = "IMMEDIATE"
        /// Like immediate in WAL mode.
        case exclusive = "EXCLUSIVE"
    }

    /// `sqlite3_wal_checkpoint_v2` modes.
    public enum CheckpointMode: Int32, Sendable {
        /// Copies what it can without waiting for readers or the writer.
        case passive = 0
        /// Waits for the writer, then copies everything readers allow.
        case full = 1
        /// Like full, then waits for readers so the next writer restarts the WAL.
        case restart = 2
        /// Like restart, then truncates the WAL file to zero bytes.
        case truncate = 3
    }

    /// The `sqlite3*` handle; nil once closed.
    private(set) var handle: OpaquePointer?
    /// The path this connection opened.
    public let path: String
    private var cache: [String: SQLiteStatement] = [:]
    private var savepointDepth = 0
    /// The most statements kept in the cache; further ones are finalized after use.
    public var statementCacheCapacity = 64

    /// Opens `path` with `flags` and sets a busy timeout (milliseconds).
    public init(path: String, flags: OpenFlags = .writerDefault, busyTimeoutMilliseconds: Int32 = 5000) throws(SQLiteError) {
        var db: OpaquePointer?
        let rc = sqlite3_open_v2(path, &db, flags.rawValue, nil)
        guard rc == SQLITE_OK, let db else {
            let error = SQLiteError(db: db, code: rc)
            sqlite3_close_v2(db)
            throw error
        }
        sqlite3_extended_result_codes(db, 1)
        sqlite3_busy_timeout(db, busyTimeoutMilliseconds)
        self.handle = db
        self.path = path
    }

    deinit { close() }

    /// Finalizes cached statements and closes the connection; later calls throw `SQLITE_MISUSE`.
    public func close() {
        cache.removeAll()
        if let handle { sqlite3_close_v2(handle) }
        handle = nil
    }

    /// True until ``close()``.
    public var isOpen: Bool { handle != nil }

    private func db() throws(SQLiteError) -> OpaquePointer {
        guard let handle else { throw SQLiteError.closed("connection") }
        return handle
    }

    // MARK: SQL

    /// Runs one or more SQL statements without results (`sqlite3_exec`).
    public func exec(_ sql: String) throws(SQLiteError) {
        let db = try db()
        var message: UnsafeMutablePointer<CChar>?
        let rc = sqlite3_exec(db, sql, nil, nil, &message)
        guard rc == SQLITE_OK else {
            let text = message.map { String(cString: $0) } ?? String(cString: sqlite3_errmsg(db))
            sqlite3_free(message)
            throw SQLiteError(code: sqlite3_extended_errcode(db) != 0 ? sqlite3_extended_errcode(db) : rc,
                              message: text, sql: sql)
        }
    }

    /// Prepares a statement the caller owns (not cached); it is finalized when released.
    public func prepare(_ sql: String) throws(SQLiteError) -> SQLiteStatement {
        let db = try db()
        var stmt: OpaquePointer?
        let rc = sqlite3_prepare_v3(db, sql, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &stmt, nil)
        guard rc == SQLITE_OK, let stmt else { throw SQLiteError(db: db, code: rc == SQLITE_OK ? SQLITE_MISUSE : rc, sql: sql) }
        return SQLiteStatement(handle: stmt, sql: sql)
    }

    /// Runs `body` with a cached statement for `sql` (prepared on first use). When `body` returns or
    /// throws, the statement is reset, its bindings cleared, and it goes back to the cache. A nested use
    /// of the same SQL gets its own statement.
    @discardableResult
    public func withStatement<T>(_ sql: String, _ body: (SQLiteStatement) throws -> T) throws -> T {
        let stmt = try cache.removeValue(forKey: sql) ?? prepare(sql)
        defer {
            stmt.reset()
            stmt.clearBindings()
            if cache.count < statementCacheCapacity, cache[sql] == nil, handle != nil { cache[sql] = stmt }
        }
        return try body(stmt)
    }

    /// The number of statements currently in the cache.
    public var cachedStatementCount: Int { cache.count }

    /// Runs `sql` with `bindings` through the cache, stepping to completion; returns `changes`.
    @discardableResult
    public func execute(_ sql: String, _ bindings: [SQLiteValue] = []) throws -> Int {
        try withStatement(sql) { stmt in
            try stmt.bind(bindings)
            try stmt.run()
        }
        return changes
    }

    /// Runs a query through the cache and returns all rows as ``SQLiteValue`` arrays (tests, small results).
    public func query(_ sql: String, _ bindings: [SQLiteValue] = []) throws -> [[SQLiteValue]] {
        try withStatement(sql) { stmt in
            try stmt.bind(bindings)
            var rows: [[SQLiteValue]] = []
            while try stmt.step() { rows.append((0..<stmt.columnCount).map { stmt.value($0) }) }
            return rows
        }
    }

    /// Runs `PRAGMA name = value` or `PRAGMA name` and returns the first column of the first row, if any.
    @discardableResult
    public func pragma(_ name: String, _ value: String? = nil) throws -> SQLiteValue? {
        let sql = value.map { "PRAGMA \(name) = \($0)" } ?? "PRAGMA \(name)"
        let stmt = try prepare(sql)
        return try stmt.step() ? stmt.value(0) : nil
    }

    // MARK: Transactions

    /// Runs `body` in a transaction: COMMIT when it returns, ROLLBACK when it throws.
    /// Inside an open transaction this nests as a SAVEPOINT instead.
    @discardableResult
    public func transaction<T>(_ kind: TransactionKind = .immediate, _ body: () throws -> T) throws -> T {
        if !isAutocommit {
            savepointDepth += 1
            let name = "gridlite_sp\(savepointDepth)"
            defer { savepointDepth -= 1 }
            try execute("SAVEPOINT \(name)")
            do {
                let result = try body()
                try execute("RELEASE \(name)")
                return result
            } catch {
                _ = try? execute("ROLLBACK TO \(name)")
                _ = try? execute("RELEASE \(name)")
                throw error
            }
        }
        // BEGIN and COMMIT go through the statement cache: sqlite3_exec would compile them anew for
        // every transaction (measured: 4 % of the daemon's CPU in a find_one loop).
        try execute("BEGIN \(kind.rawValue)")
        do {
            let result = try body()
            try execute("COMMIT")
            return result
        } catch {
            if !isAutocommit { _ = try? execute("ROLLBACK") }
            throw error
        }
    }

    /// True when no transaction is open (`sqlite3_get_autocommit`).
    public var isAutocommit: Bool { handle.map { sqlite3_get_autocommit($0) != 0 } ?? true }

    /// The rowid of the last successful INSERT.
    public var lastInsertRowID: Int64 { handle.map { sqlite3_last_insert_rowid($0) } ?? 0 }

    /// Rows changed by the last INSERT/UPDATE/DELETE.
    public var changes: Int { handle.map { Int(sqlite3_changes64($0)) } ?? 0 }

    /// Rows changed since the connection opened.
    public var totalChanges: Int { handle.map { Int(sqlite3_total_changes64($0)) } ?? 0 }

    /// Sets the busy timeout in milliseconds (how long a lock wait may last before SQLITE_BUSY).
    /// Frees as much of this connection's page cache as it can (`sqlite3_db_release_memory`); the
    /// cache refills from the file on the next reads.
    public func releaseMemory() throws(SQLiteError) {
        _ = sqlite3_db_release_memory(try db())
    }

    public func setBusyTimeout(milliseconds: Int32) throws(SQLiteError) {
        sqlite3_busy_timeout(try db(), milliseconds)
    }

    /// Runs a WAL checkpoint; returns (frames in the WAL, frames checkpointed).
    @discardableResult
    public func checkpoint(_ mode: CheckpointMode = .passive) throws(SQLiteError) -> (walFrames: Int, checkpointed: Int) {
        let db = try db()
        var log: Int32 = 0, done: Int32 = 0
        let rc = sqlite3_wal_checkpoint_v2(db, nil, mode.rawValue, &log, &done)
        guard rc == SQLITE_OK else { throw SQLiteError(db: db, code: rc) }
        return (Int(log), Int(done))
    }

    /// Opens incremental blob I/O on `table.column` of row `rowid` (rowid tables only).
    public func openBlob(table: String, column: String, rowid: Int64, writable: Bool = false,
                         schema: String = "main") throws(SQLiteError) -> SQLiteBlob {
        let db = try db()
        var blob: OpaquePointer?
        let rc = sqlite3_blob_open(db, schema, table, column, rowid, writable ? 1 : 0, &blob)
        guard rc == SQLITE_OK, let blob else {
            let error = SQLiteError(db: db, code: rc == SQLITE_OK ? SQLITE_MISUSE : rc)
            sqlite3_blob_close(blob)
            throw error
        }
        return SQLiteBlob(handle: blob, db: db)
    }
}
