import Executors
import Commands
import Compression
import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle
import Synchronization
import Wire

/// The TCP server: accepts connections and runs one task per connection, each handling its
/// requests in order. It is a `Service`: graceful shutdown stops accepting, lets in-flight
/// commands finish and reply, then closes every connection.
public final class GridliteServer: Service, Sendable {
    private let channel: NIOAsyncChannel<AcceptedConnection, Never>
    private let configuration: ServerConfiguration
    private let logger: Logger
    private let makeContext: @Sendable (ConnectionInfo, Logger) -> CommandContext
    private let dispatcher: CommandDispatcher
    private let hooks: ConnectionHooks
    private let counters: ServerCounters
    private let executor: (any TaskExecutor)?
    /// Connections admitted and not yet finished.
    private let openConnections = Atomic<Int>(0)
    private let refusedConnections = Atomic<Int>(0)
    /// OP_COMPRESSED policy for every connection (enabled compressors, inflated-size limit).
    private var compression: WireCompression {
        WireCompression(enabled: configuration.compressors, maxMessageLength: configuration.maxMessageSize)
    }

    /// The port actually bound (useful with port 0).
    public let boundPort: Int
    /// The shared request-byte budget, when one is configured.
    public let incomingBytes: IncomingByteBudget?
    /// The cap on inflated OP_COMPRESSED bytes in flight (the same limit, its own budget).
    public let inflatedBytes: IncomingByteBudget?

    /// Connections open right now (admitted, not yet closed).
    public var currentConnections: Int { openConnections.load(ordering: .relaxed) }
    /// Connections closed at once because ``ServerConfiguration/maxConnections`` were open.
    public var totalRefusedConnections: Int { refusedConnections.load(ordering: .relaxed) }

    /// Binds the listening socket. Fails (e.g. port in use) before anything else starts.
    /// `makeContext` builds each command's context from the connection's facts.
    ///
    /// `executor`, when given, is every connection task's executor preference (SE-0417): the task, its
    /// children and the default actors it calls run there instead of on the cooperative pool. Pass a
    /// `BlockingExecutor` so storage calls may block their thread (run SQLite inline) with no hop.
    public static func bind(
        configuration: ServerConfiguration, dispatcher: CommandDispatcher, hooks: ConnectionHooks = ConnectionHooks(),
        counters: ServerCounters, executor: (any TaskExecutor)? = nil, logger: Logger,
        makeContext: @escaping @Sendable (ConnectionInfo, Logger) -> CommandContext
    ) async throws -> GridliteServer {
        let maxSize = configuration.maxMessageSize
        let budget = configuration.maxIncomingBytesInFlight.map { IncomingByteBudget(limit: $0) }
        let limits = WireFrameHandler.Limits(budget: budget, frameReadTimeout: configuration.frameReadTimeout)
        let tls = configuration.tls
        let readTimeout = configuration.frameReadTimeout
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.backlog, value: configuration.backlog)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelOption(.allowRemoteHalfClosure, value: false)
            .bind(host: configuration.host, port: configuration.port) { child in
                child.eventLoop.makeCompletedFuture {
                    // The sniffer decides plain or TLS from the first bytes and inserts TLS behind itself.
                    let transport = ConnectionTransport(eventLoop: child.eventLoop)
                    try child.pipeline.syncOperations.addHandler(
                        TLSSniffer(settings: tls, timeout: readTimeout, transport: transport, logger: logger))
                    try child.pipeline.syncOperations.addHandler(
                        WireFrameHandler(maxMessageLength: maxSize, limits: limits))
                    return AcceptedConnection(
                        channel: try NIOAsyncChannel<WireFrame, ByteBuffer>(wrappingChannelSynchronously: child),
                        transport: transport)
                }
            }
        let port = channel.channel.localAddress?.port ?? configuration.port
        return GridliteServer(channel: channel, configuration: configuration, logger: logger,
                              makeContext: makeContext, dispatcher: dispatcher, hooks: hooks, counters: counters,
                              executor: executor, boundPort: port, incomingBytes: budget)
    }

    private init(
        channel: NIOAsyncChannel<AcceptedConnection, Never>, configuration: ServerConfiguration,
        logger: Logger, makeContext: @escaping @Sendable (ConnectionInfo, Logger) -> CommandContext,
        dispatcher: CommandDispatcher, hooks: ConnectionHooks, counters: ServerCounters,
        executor: (any TaskExecutor)?, boundPort: Int, incomingBytes: IncomingByteBudget?
    ) {
        self.channel = channel
        self.configuration = configuration
        self.logger = logger
        self.makeContext = makeContext
        self.dispatcher = dispatcher
        self.hooks = hooks
        self.counters = counters
        self.executor = executor
        self.boundPort = boundPort
        self.incomingBytes = incomingBytes
        self.inflatedBytes = configuration.maxIncomingBytesInFlight.map { IncomingByteBudget(limit: $0) }
    }

    /// Accepts connections until graceful shutdown, then waits for every connection to finish.
    /// Each connection's task prefers the executor given to ``bind(configuration:dispatcher:hooks:counters:executor:logger:makeContext:)``.
    public func run() async throws {
        let serverChannel = channel.channel
        logger.info("listening on \(configuration.host):\(boundPort)")
        try await withGracefulShutdownHandler {
            try await withThrowingDiscardingTaskGroup { group in
                try await channel.executeThenClose { inbound in
                    for try await accepted in inbound {
                        let connection = accepted.channel
                        guard admit(connection.channel) else {
                            // The async wrapper must be finished, not just dropped: closes the channel.
                            group.addTask { try? await connection.executeThenClose { _, _ in } }
                            continue
                        }
                        // With an inline policy the task lives on its channel's event loop and
                        // hops to the executor only for requests that are not short.
                        let inline = self.executor == nil ? nil : self.configuration.inlinePolicy
                        let preference: (any TaskExecutor)? =
                            inline == nil ? self.executor : EventLoopTaskExecutor(connection.channel.eventLoop)
                        group.addTask(executorPreference: preference) {
                            await Connection(
                                channel: connection, transport: accepted.transport, dispatcher: self.dispatcher, hooks: self.hooks,
                                counters: self.counters, compression: self.compression, logger: self.logger,
                                drainLimit: self.configuration.shutdownDrainLimit, makeContext: self.makeContext,
                                executor: self.executor, inlinePolicy: inline, inflatedBytes: self.inflatedBytes
                            ).run()
                            self.openConnections.subtract(1, ordering: .relaxed)
                        }
                    }
                }
            }
        } onGracefulShutdown: {
            serverChannel.close(promise: nil)
        }
        logger.info("server stopped")
    }

    /// Counts a new connection in, or refuses it (with a log line; the caller closes it) when
    /// ``ServerConfiguration/maxConnections`` are already open, as mongod does.
    private func admit(_ channel: any Channel) -> Bool {
        let open = openConnections.wrappingAdd(1, ordering: .relaxed).newValue
        guard open > configuration.maxConnections else { return true }
        openConnections.subtract(1, ordering: .relaxed)
        refusedConnections.add(1, ordering: .relaxed)
        let peer = Connection.describe(channel.remoteAddress)
        logger.warning("connection refused because too many open connections",
                       metadata: ["peer": "\(peer)", "open": "\(open - 1)", "maxConns": "\(configuration.maxConnections)"])
        return false
    }
}

/// An accepted connection: its async channel and what its first bytes turn out to be.
struct AcceptedConnection: Sendable {
    let channel: NIOAsyncChannel<WireFrame, ByteBuffer>
    let transport: ConnectionTransport
}

/// Callbacks the server makes around a connection's life (e.g. to free its cursors).
public struct ConnectionHooks: Sendable {
    /// Called once when a connection has closed, with its id.
    public var onClose: @Sendable (Int64) async -> Void

    /// Creates hooks; by default they do nothing.
    public init(onClose: @escaping @Sendable (Int64) async -> Void = { _ in }) {
        self.onClose = onClose
    }
}
