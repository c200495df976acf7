import Logging
import NIOCore
import PostgresNIO

/// A bind parameter of a statement (always sent in binary: `bytea` without hex round trips).
enum PGValue {
    case bytes([UInt8])
    /// Part of a byte array (a chunk's payload inside its document), sent without a copy of its own.
    case slice(ArraySlice<UInt8>)
    case int(Int64)
    case text(String)
    case bool(Bool)
    /// A `bytea[]` (for `unnest`).
    case byteArrays([[UInt8]])
    /// An `int8[]`.
    case ints([Int64])
    case null
}

/// One leased PostgreSQL connection used synchronously by the engine-neutral write and read rules
/// (``CollectionWriter`` and ``RecordScanner`` are synchronous): every statement is sent through
/// postgres-nio's event loop and the calling thread waits for its result. Only ever used on a
/// thread where blocking is allowed (a `BlockingExecutor` thread or a Dispatch worker), never on
/// an event loop or in Swift's cooperative pool. One thread at a time (hence unchecked Sendable).
final class PGSession: @unchecked Sendable {
    let connection: PostgresConnection
    let logger: Logger
    /// Statements sent without waiting (SAVEPOINT, RELEASE): their results are collected before
    /// the next statement's (a connection answers in order), so they cost no extra wake-up.
    private var pending: [EventLoopFuture<PostgresQueryResult>] = []
    /// The first error that broke the session (connection lost, transaction aborted): every later
    /// statement fails with it and the command fails as a whole, never as a per-document error.
    private(set) var broken: (any Error)?

    /// Set when a scan found its plan stale (``StalePlan``): the write rules may have turned that
    /// into a per-statement error, so ``transaction(_:)`` rolls the whole command back instead of
    /// committing, and the engine runs it again.
    var stalePlan = false

    /// The engine's catalog cache (nil: every lookup reads the whole entry).
    let catalogCache: PGCatalogCache?

    init(connection: PostgresConnection, logger: Logger, catalogCache: PGCatalogCache? = nil) {
        self.connection = connection
        self.logger = logger
        self.catalogCache = catalogCache
    }

    private func makeQuery(_ sql: String, _ values: [PGValue]) throws -> PostgresQuery {
        var binds = PostgresBindings(capacity: values.count)
        for value in values {
            switch value {
            case .bytes(let b): binds.append(Bytea(bytes: b[...]))
            case .slice(let b): binds.append(Bytea(bytes: b))
            case .int(let i): binds.append(i)
            case .text(let s): binds.append(s)
            case .bool(let b): binds.append(b)
            case .byteArrays(let list): binds.append(list.map { ByteBuffer(bytes: $0) })
            case .ints(let list): binds.append(list)
            case .null: binds.appendNull()
            }
        }
        return PostgresQuery(unsafeSQL: sql, binds: binds)
    }

    /// Runs a statement and returns its rows (all collected).
    @discardableResult
    func query(_ sql: String, _ values: [PGValue] = []) throws -> [PostgresRow] {
        if let broken { throw broken }
        let future: EventLoopFuture<PostgresQueryResult> = connection.query(try makeQuery(sql, values), logger: logger)
        do {
            try drainPending()
            return try future.wait().rows
        } catch {
            broken = error
            throw error
        }
    }

    /// Runs several statements back to back: all are handed to the connection before the first
    /// result is awaited, so the connection's event loop sends each as soon as PostgreSQL finished
    /// the one before, while this thread is already encoding the next one's parameters; the caller
    /// waits (and wakes) once instead of once per statement. Rows come back per statement, in order.
    func queryAll(_ statements: [(sql: String, values: [PGValue])]) throws -> [[PostgresRow]] {
        if let broken { throw broken }
        var futures: [EventLoopFuture<PostgresQueryResult>] = []
        futures.reserveCapacity(statements.count)
        do {
            for statement in statements {
                futures.append(connection.query(try makeQuery(statement.sql, statement.values), logger: logger))
            }
            try drainPending()
            var results: [[PostgresRow]] = []
            results.reserveCapacity(futures.count)
            for future in futures { results.append(try future.wait().rows) }
            return results
        } catch {
            // Every statement sent must be waited for before the connection goes back to the pool.
            for future in futures { _ = try? future.wait() }
            broken = error
            throw error
        }
    }

    /// Sends a statement whose result nobody needs now; its failure surfaces at the next
    /// ``query(_:_:)`` or ``flush()``.
    func send(_ sql: String) throws {
        if let broken { throw broken }
        let future: EventLoopFuture<PostgresQueryResult> = connection.query(try makeQuery(sql, []), logger: logger)
        pending.append(future)
    }

    /// Runs a statement outside any transaction (it commits by itself); nil when PostgreSQL
    /// refused it (a unique key, a dropped table: it rolled back whole) and the session stays
    /// usable, so the caller can take its slower path.
    func queryUnlessRefused(_ sql: String, _ values: [PGValue]) throws -> [PostgresRow]? {
        if let broken { throw broken }
        let future: EventLoopFuture<PostgresQueryResult> = connection.query(try makeQuery(sql, values), logger: logger)
        do {
            try drainPending()
            return try future.wait().rows
        } catch where PGErrors.isServerError(error) {
            return nil
        } catch {
            broken = error
            throw error
        }
    }

    /// Runs a statement that a unique index may refuse (SQLSTATE 23505) inside a savepoint: false
    /// when refused (the transaction goes on without it), true when it ran.
    func queryUnlessDuplicate(_ sql: String, _ values: [PGValue]) throws -> Bool {
        try send("SAVEPOINT gl_unique")
        if let broken { throw broken }
        let future: EventLoopFuture<PostgresQueryResult> = connection.query(try makeQuery(sql, values), logger: logger)
        do {
            try drainPending()
        } catch {
            broken = error
            throw error
        }
        do {
            _ = try future.wait()
        } catch where PGErrors.sqlState(error) == "23505" {
            try send("ROLLBACK TO SAVEPOINT gl_unique")
            try send("RELEASE SAVEPOINT gl_unique")
            return false
        } catch {
            broken = error
            throw error
        }
        try send("RELEASE SAVEPOINT gl_unique")
        return true
    }

    /// A statement sent ahead of the next ones, whose rows the caller reads afterwards
    /// (``aheadRows()``): the catalog check of a read runs in the same round trip as its scan.
    private var ahead: EventLoopFuture<PostgresQueryResult>?

    /// Sends a statement now without waiting; its rows come from ``aheadRows()``.
    func sendAhead(_ sql: String, _ values: [PGValue]) throws {
        if let broken { throw broken }
        ahead = connection.query(try makeQuery(sql, values), logger: logger)
    }

    /// The rows of the statement ``sendAhead(_:_:)`` sent (waiting for it if nothing else did).
    func aheadRows() throws -> [PostgresRow] {
        guard let future = ahead else { return [] }
        ahead = nil
        do {
            return try future.wait().rows
        } catch {
            broken = error
            throw error
        }
    }

    /// Waits for every sent statement.
    func flush() throws {
        if let broken { throw broken }
        do {
            try drainPending()
        } catch {
            broken = error
            throw error
        }
    }

    private func drainPending() throws {
        guard !pending.isEmpty else { return }
        let futures = pending
        pending.removeAll()
        for f in futures { _ = try f.wait() }
    }

    /// Runs `body` in a transaction: COMMIT when it returns, ROLLBACK when it throws.
    func transaction<T>(_ body: () throws -> T) throws -> T {
        try send("BEGIN")
        let result: T
        do {
            result = try body()
            if let broken { throw broken }
            if stalePlan { throw StalePlan() }
            try query("COMMIT")
        } catch {
            if broken == nil || PGErrors.isServerError(error) {
                // Best effort: a lost connection rolls back by itself.
                let rollback: EventLoopFuture<PostgresQueryResult> = connection.query("ROLLBACK", logger: logger)
                _ = try? rollback.wait()
            }
            throw error
        }
        return result
    }
}

/// A `bytea` parameter written straight from the caller's bytes into the statement's bind buffer
/// (a `ByteBuffer` made first would be one more copy of every chunk).
struct Bytea: PostgresNonThrowingEncodable {
    let bytes: ArraySlice<UInt8>

    static var psqlType: PostgresDataType { .bytea }
    static var psqlFormat: PostgresFormat { .binary }

    func encode<JSONEncoder: PostgresJSONEncoder>(into byteBuffer: inout ByteBuffer, context: PostgresEncodingContext<JSONEncoder>) {
        byteBuffer.writeBytes(bytes)
    }
}

extension PostgresRandomAccessRow {
    /// The cell at `i` as bytes (bytea), nil for NULL.
    func bytes(_ i: Int) -> [UInt8]? {
        guard i < count, let buffer = self[i].bytes else { return nil }
        return Array(buffer.readableBytesView)
    }

    /// The cell at `i` as an integer, 0 for NULL.
    func int(_ i: Int) -> Int64 {
        guard i < count else { return 0 }
        return ((try? self[i].decode(Int64?.self)) ?? nil) ?? 0
    }
}

extension PostgresRow {
    /// The cell at `i` as bytes (bytea), nil for NULL.
    func bytes(_ i: Int) -> [UInt8]? {
        let cells = makeRandomAccess()
        guard i < cells.count, let buffer = cells[i].bytes else { return nil }
        return Array(buffer.readableBytesView)
    }

    /// The cell at `i` as an integer (int2/int4/int8), 0 for NULL.
    func int(_ i: Int) -> Int64 {
        let cells = makeRandomAccess()
        guard i < cells.count else { return 0 }
        return (try? cells[i].decode(Int64?.self)) .flatMap { $0 } ?? 0
    }

    /// The cell at `i` as an integer array (int8[]), empty for NULL.
    func ints(_ i: Int) -> [Int64] {
        let cells = makeRandomAccess()
        guard i < cells.count else { return [] }
        return ((try? cells[i].decode([Int64]?.self)) ?? nil) ?? []
    }

    /// The cell at `i` as text, nil for NULL.
    func text(_ i: Int) -> String? {
        let cells = makeRandomAccess()
        guard i < cells.count else { return nil }
        return (try? cells[i].decode(String?.self)) ?? nil
    }

    /// The cell at `i` as a boolean, false for NULL.
    func bool(_ i: Int) -> Bool {
        let cells = makeRandomAccess()
        guard i < cells.count else { return false }
        return ((try? cells[i].decode(Bool?.self)) ?? nil) ?? false
    }
}
