import BSON
import Foundation
import Logging
import Storage
import Synchronization

/// Facts about this server process that commands report: version, start time, command line,
/// where it listens. Built once at start-up and shared by every connection.
public final class ServerEnvironment: Sendable {
    /// The MongoDB version gridlite reports (drivers gate features on it; 7.0 ↔ wire version 21).
    public static let mongoVersion = "7.0.0"
    /// `versionArray` matching ``mongoVersion``.
    public static let mongoVersionArray: [Int32] = [7, 0, 0, 0]
    /// Wire protocol versions spoken.
    public static let minWireVersion: Int32 = 0
    /// The highest wire version (MongoDB 7.0).
    public static let maxWireVersion: Int32 = 21
    /// Largest BSON document accepted or produced.
    public static let maxBsonObjectSize: Int32 = 16 * 1024 * 1024
    /// Largest wire message accepted.
    public static let maxMessageSizeBytes: Int32 = 48_000_000
    /// Largest write batch.
    public static let maxWriteBatchSize: Int32 = 100_000

    /// gridlite's own version.
    public let gridliteVersion: String
    /// When the process started.
    public let startDate: Date
    /// The command line as given.
    public let argv: [String]
    /// The parsed options (`getCmdLineOpts.parsed`).
    public let parsedOptions: BSONDocument
    /// The host name of this machine.
    public let hostName: String
    /// The port the server listens on (set once bound; 0 before).
    public var listenPort: Int { port.load(ordering: .relaxed) }
    private let port = Atomic<Int>(0)
    /// Process id.
    public let pid: Int32
    /// Name reported as `storageEngine.name`.
    public let storageEngineName: String
    /// Live counters.
    public let counters: ServerCounters
    /// OP_COMPRESSED compressors this server offers (`--networkMessageCompressors`), by name in
    /// its order; empty when disabled. `hello` answers with the ones the client also lists.
    public let networkMessageCompressors: [String]
    /// Live connections and their in-flight commands (`currentOp`).
    public let connections = ConnectionRegistry()
    /// Commands that take longer are logged at info as `Slow query` (mongod's `--slowms`, 100 ms).
    public let slowOperationThreshold: Duration
    /// Authentication and authorization (`--auth`, users, the failed-login throttle).
    public let auth: ServerAuth
    /// Whether test commands (`configureFailPoint`) exist: `--setParameter enableTestCommands=1`.
    public let testCommandsEnabled: Bool
    /// The fail points (`failCommand`), evaluated by the dispatcher for every command.
    public let failPoints = FailPointRegistry()
    /// This process's `serviceId` in load-balanced mode: one ObjectId for the life of the process,
    /// so a balancer's clients can tell the daemons behind it apart.
    public let serviceId = ObjectId()
    /// The last retryable write (`lsid` + `txnNumber`) of each session and its reply.
    public let retryableWrites = RetryableWriteTable()

    /// Creates the environment.
    public init(
        gridliteVersion: String, argv: [String], parsedOptions: BSONDocument,
        storageEngineName: String, counters: ServerCounters = ServerCounters(), startDate: Date = Date(),
        slowOperationThreshold: Duration = .milliseconds(100), networkMessageCompressors: [String] = [],
        auth: ServerAuth = ServerAuth(enabled: false), testCommandsEnabled: Bool = false
    ) {
        self.auth = auth
        self.testCommandsEnabled = testCommandsEnabled
        self.networkMessageCompressors = networkMessageCompressors
        self.slowOperationThreshold = slowOperationThreshold
        self.gridliteVersion = gridliteVersion
        self.startDate = startDate
        self.argv = argv
        self.parsedOptions = parsedOptions
        self.hostName = ProcessInfo.processInfo.hostName
        self.pid = ProcessInfo.processInfo.processIdentifier
        self.storageEngineName = storageEngineName
        self.counters = counters
    }

    /// Records the port actually bound.
    public func setListenPort(_ value: Int) {
        port.store(value, ordering: .relaxed)
    }

    /// `host:port` as serverStatus reports it.
    public var hostAndPort: String { "\(hostName):\(listenPort)" }

    /// Seconds since start.
    public var uptime: Double { Date().timeIntervalSince(startDate) }
}

/// Facts about the connection a command arrived on.
public struct ConnectionInfo: Sendable, Hashable {
    /// Server-assigned id, increasing from 1.
    public let id: Int64
    /// The peer's `host:port`.
    public let remoteAddress: String
    /// Our `host:port` on this connection.
    public let localAddress: String
    /// What TLS negotiated; nil for a plain connection.
    public let tls: TLSConnectionFacts?

    /// Creates connection facts.
    public init(id: Int64, remoteAddress: String, localAddress: String, tls: TLSConnectionFacts? = nil) {
        self.id = id
        self.remoteAddress = remoteAddress
        self.localAddress = localAddress
        self.tls = tls
    }
}

/// Everything a handler may use while it runs.
public struct CommandContext: Sendable {
    /// The process-wide facts.
    public let environment: ServerEnvironment
    /// What the connection has negotiated (client metadata, authentication, compression). The
    /// connection replaces it after a command returns a ``SessionChange``; handlers only read it.
    public private(set) var session: ConnectionSession
    /// The connection's entry in ``ServerEnvironment/connections`` (nil when a test runs handlers
    /// without a server): the dispatcher marks each command in flight there for `currentOp`.
    public private(set) var activity: ConnectionActivity?
    /// A logger carrying the connection id (and, after the handshake, the application name).
    public private(set) var logger: Logger
    /// Where documents live.
    public let storage: any StorageEngine
    /// Open cursors.
    public let cursors: CursorRegistry

    /// Creates a context for a new connection (not yet visible to `currentOp`: see ``register()``).
    public init(
        environment: ServerEnvironment, connection: ConnectionInfo, logger: Logger, storage: any StorageEngine,
        cursors: CursorRegistry
    ) {
        self.environment = environment
        self.session = ConnectionSession(connection: connection)
        self.activity = nil
        self.logger = logger
        self.storage = storage
        self.cursors = cursors
    }

    /// The connection the command came on.
    public var connection: ConnectionInfo { session.connection }

    /// Makes the connection visible to `currentOp`; the caller unregisters it when the connection
    /// ends (`environment.connections.close(activity)`).
    public mutating func register() -> ConnectionActivity {
        if let activity { return activity }
        let new = environment.connections.open(session)
        activity = new
        return new
    }

    /// Applies the session changes a command returned (in order), publishes the new session to
    /// `currentOp`, and adds the application name to the connection's log metadata.
    public mutating func apply(_ changes: [SessionChange]) {
        guard !changes.isEmpty else { return }
        let before = session.phase
        for change in changes { session.apply(change) }
        activity?.update(session)
        if let app = session.applicationName { logger[metadataKey: "appName"] = "\(app)" }
        if before == .awaitingHandshake, session.phase == .established, let metadata = session.clientMetadata {
            // As mongod logs it once per connection ("client metadata", id 51800).
            logger.info("client metadata", metadata: [
                "remote": "\(session.connection.remoteAddress)", "doc": "\(metadata.document.relaxedExtendedJSON)",
            ])
        }
    }
}

extension Date {
    /// Milliseconds since the epoch, as a BSON date.
    public var bsonDate: BSONValue { .datetime(Int64((timeIntervalSince1970 * 1000).rounded(.down))) }
}
