import BSON
import Dispatch
import Executors
import Logging
import NIOSSL
import PostgresNIO
import Query
import ServiceLifecycle
import Storage
import Synchronization

/// The PostgreSQL backend: every database and collection in one PostgreSQL database, reached
/// through postgres-nio's pooled `PostgresClient`. The daemon keeps no state of its own (the
/// catalog is read per command), so several daemons can serve one database. See docs/scaling.md.
///
/// Statements run synchronously on a thread where blocking is allowed (the engine-neutral rules
/// in Storage are synchronous): each command leases a connection, runs its transaction there
/// and gives the connection back.
public final class PostgresStorageEngine: StorageEngine, Sendable {
    let client: PostgresClient
    let logger: Logger
    /// How long a command waits for a connection before failing with 6 HostUnreachable.
    let leaseTimeout: Duration
    /// Catalog entries, re-checked against the catalog row's version on every use.
    let catalogCache = PGCatalogCache()
    private let runTask: Task<Void, Never>
    private let closed = Mutex(false)

    private init(client: PostgresClient, logger: Logger, leaseTimeout: Duration) {
        self.client = client
        self.logger = logger
        self.leaseTimeout = leaseTimeout
        runTask = Task { await client.run() }
    }

    /// Connects (checking reachability, credentials and the schema version with one direct
    /// connection first, so a startup error says which is wrong), creates the catalog when the
    /// database is new, and starts the pool.
    public static func open(url: PostgresURL, logger: Logger, leaseTimeout: Duration = .seconds(5)) async throws -> PostgresStorageEngine {
        let tls: PostgresURL.TLSChoice
        let probeTLS: PostgresConnection.Configuration.TLS
        do {
            tls = try url.tlsChoice()
            probeTLS = try tls.connectionTLS()
        } catch {
            throw PostgresStartupError(url: url, reason: "TLS set-up failed (\(error))")
        }
        let probe: PostgresConnection
        do {
            probe = try await PostgresConnection.connect(configuration: connectionConfiguration(url, tls: probeTLS), id: 0, logger: logger)
        } catch {
            throw PostgresStartupError(url: url, reason: startupReason(error))
        }
        let session = PGSession(connection: probe, logger: logger)
        let mismatch: String?
        do {
            mismatch = try await blocking { try PGCatalog.bootstrap(session) }
        } catch {
            try? await probe.close()
            throw PostgresStartupError(url: url, reason: startupReason(error))
        }
        try? await probe.close()
        if let mismatch {
            throw PostgresStartupError(url: url, reason: "wrong schema version \(mismatch) (this gridlite reads version \(PGCatalog.schemaVersion))")
        }
        var configuration: PostgresClient.Configuration
        if let socket = url.socketPath {
            configuration = .init(unixSocketPath: socket, username: url.user, password: url.password, database: url.database)
        } else {
            configuration = .init(host: url.host, port: url.port, username: url.user, password: url.password, database: url.database, tls: tls.clientTLS)
        }
        configuration.options.maximumConnections = url.maximumConnections
        configuration.options.connectTimeout = .seconds(5)
        let client = PostgresClient(configuration: configuration, backgroundLogger: logger)
        logger.info("storage: PostgreSQL at \(url.redacted), up to \(url.maximumConnections) connections, sslmode=\(url.sslMode.rawValue)")
        return PostgresStorageEngine(client: client, logger: logger, leaseTimeout: leaseTimeout)
    }

    private static func connectionConfiguration(_ url: PostgresURL, tls: PostgresConnection.Configuration.TLS) -> PostgresConnection.Configuration {
        var configuration: PostgresConnection.Configuration
        if let socket = url.socketPath {
            configuration = .init(unixSocketPath: socket, username: url.user, password: url.password, database: url.database)
        } else {
            configuration = .init(host: url.host, port: url.port, username: url.user, password: url.password, database: url.database, tls: tls)
        }
        configuration.options.connectTimeout = .seconds(5)
        return configuration
    }

    /// Why a startup connection failed, in a few words.
    private static func startupReason(_ error: any Error) -> String {
        switch PGErrors.sqlState(error) {
        case "28P01", "28000": return "authentication failed (\(PGErrors.shortDescription(error)))"
        case "3D000": return "database does not exist (\(PGErrors.shortDescription(error)))"
        case .some: return PGErrors.shortDescription(error)
        case .none:
            if let e = error as? PSQLError, e.code == .sslUnsupported { return "the server does not accept TLS (sslmode=require or stricter)" }
            if error is NIOSSLError || (error as? PSQLError)?.underlying is NIOSSLError {
                return "TLS handshake failed (\(PGErrors.shortDescription(error)))"
            }
            return "unreachable (\(PGErrors.shortDescription(error)))"
        }
    }

    /// Runs as a service: waits for graceful shutdown (or cancellation), then closes the pool.
    public func run() async throws {
        try? await gracefulShutdown()
        await close()
    }

    /// Stops the pool (connections close). Later calls do nothing.
    public func close() async {
        let first = closed.withLock { wasClosed in
            defer { wasClosed = true }
            return !wasClosed
        }
        guard first else { return }
        runTask.cancel()
        await runTask.value
    }

    // MARK: Running statements

    /// Runs `body` where blocking is allowed: inline on a `BlockingExecutor` thread (every server
    /// connection task runs there), otherwise on a Dispatch worker.
    static func blocking<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        if BlockingExecutor.isCurrentThreadWorker { return try BlockingExecutor.blocking(body) }
        return try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async { continuation.resume(with: Result { try body() }) }
        }
    }

    /// Leases a connection (6 HostUnreachable when none comes within ``leaseTimeout``) and runs
    /// `body` on it synchronously. Failures become MongoDB errors; internal ones are logged.
    func withSession<T: Sendable>(_ body: @escaping @Sendable (PGSession) throws -> T) async throws -> T {
        let logger = self.logger
        let leased = LeaseFlag()
        let timeout = leaseTimeout
        let client = self.client
        let cache = catalogCache
        // The command's time limit, bound again on whatever thread runs the statements.
        let deadline = OperationDeadline.current
        try deadline?.check()
        do {
            return try await withThrowingTaskGroup(of: T?.self) { group in
                group.addTask {
                    try await client.withConnection { connection in
                        leased.set()
                        return try await Self.blocking {
                            try OperationDeadline.bind(deadline) { try body(PGSession(connection: connection, logger: logger, catalogCache: cache)) }
                        }
                    }
                }
                group.addTask {
                    try await Task.sleep(for: timeout)
                    if !leased.isSet { throw PGErrors.unreachable("no connection within \(timeout)") }
                    return nil
                }
                while let result = try await group.next() {
                    if let result {
                        group.cancelAll()
                        return result
                    }
                }
                throw MongoError(.internalError, "storage call ended without a result")
            }
        } catch let retry as RetryUpsert {
            throw retry
        } catch let stale as StalePlan {
            throw stale
        } catch {
            let mapped = leased.isSet ? PGErrors.map(error) : (error is MongoError ? error : PGErrors.unreachable(PGErrors.shortDescription(error)))
            if !(mapped is MongoError) && !(mapped is UniqueIndexViolation) {
                logger.error("internal storage error: \(String(reflecting: error))")
                throw MongoError(.internalError, "storage error: \(PGErrors.shortDescription(error))")
            }
            if let e = mapped as? MongoError, e.code == 6 { logger.warning("storage: \(e.message)") }
            throw mapped
        }
    }

    /// Runs `body` again (a fresh session, so a fresh catalog lookup) when its plan went stale
    /// (``StalePlan``): an index flag goes from single-key to multikey once, so a second attempt
    /// normally suffices.
    func replanning<T: Sendable>(_ run: () async throws -> T) async throws -> T {
        for _ in 1..<Self.planAttempts {
            do {
                return try await run()
            } catch is StalePlan {
                continue
            }
        }
        do {
            return try await run()
        } catch is StalePlan {
            throw MongoError(.queryPlanKilled, "an index became multikey while the query was planned; retry")
        }
    }

    static let planAttempts = 3

    /// Runs `body` in one transaction.
    func transaction<T: Sendable>(_ body: @escaping @Sendable (PGSession) throws -> T) async throws -> T {
        try await withSession { s in try s.transaction { try body(s) } }
    }

    // MARK: Catalog

    public func listDatabases() async throws -> [DatabaseInfo] {
        try await withSession { s in
            let rows = try s.query("""
                SELECT db, sum(pg_total_relation_size(format('c%s', id)::regclass))::bigint FROM gl_collections
                WHERE to_regclass(format('c%s', id)) IS NOT NULL GROUP BY db ORDER BY db
                """)
            return rows.map { DatabaseInfo(name: $0.text(0) ?? "", sizeOnDisk: $0.int(1), empty: false) }
        }
    }

    public func listCollections(in database: String) async throws -> [CollectionInfo] {
        try await withSession { s in
            try s.query("SELECT name, options, uuid FROM gl_collections WHERE db = $1 ORDER BY name", [.text(database)]).map {
                CollectionInfo(name: $0.text(0) ?? "", options: $0.bytes(1).flatMap { BSONDocument(storedBytes: $0) } ?? BSONDocument(),
                               uuid: $0.bytes(2) ?? [])
            }
        }
    }

    public func createCollection(_ namespace: Namespace, options: BSONDocument) async throws {
        try await transaction { s in
            let (_, created) = try PGCatalog.create(s, namespace, options: options, lock: .share)
            guard created else { throw StorageError(.namespaceExists, "Collection \(namespace) already exists.") }
        }
    }

    public func dropCollection(_ namespace: Namespace) async throws -> Bool {
        try await transaction { s in
            guard let entry = try PGCatalog.entry(s, namespace, lock: .update) else { return false }
            try PGCatalog.drop(s, entry)
            return true
        }
    }

    public func dropDatabase(_ database: String) async throws {
        try await transaction { s in
            for entry in try PGCatalog.entries(s, where: "c.db = $1", [.text(database)]) { try PGCatalog.drop(s, entry) }
        }
    }

    public func renameCollection(from source: Namespace, to target: Namespace, dropTarget: Bool) async throws {
        try await transaction { s in
            guard let entry = try PGCatalog.entry(s, source, lock: .update) else {
                throw StorageError(.namespaceNotFound, "Source collection \(source) does not exist")
            }
            guard source != target else { throw StorageError(.illegalOperation, "Can't rename a collection to itself") }
            if let existing = try PGCatalog.entry(s, target, lock: .update) {
                guard dropTarget else { throw StorageError(.namespaceExists, "target namespace exists") }
                try PGCatalog.drop(s, existing)
            }
            try s.query("UPDATE gl_collections SET db = $1, name = $2, version = version + 1 WHERE id = $3",
                        [.text(target.database), .text(target.collection), .int(entry.id)])
        }
    }
}

/// Set once a connection was leased (so a timeout no longer applies).
final class LeaseFlag: Sendable {
    private let value = Mutex(false)
    func set() { value.withLock { $0 = true } }
    var isSet: Bool { value.withLock { $0 } }
}

/// A startup failure, in one line (the password never appears).
public struct PostgresStartupError: Error, CustomStringConvertible {
    let url: PostgresURL
    let reason: String
    public var description: String { "PostgreSQL at \(url.redacted): \(reason)" }
}
