#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import ServiceLifecycle
import Storage

/// The HTTP gateway: a second front end (Hummingbird 2, HTTP/1.1) on the storage engine the wire
/// server uses, run as a swift-service-lifecycle `Service` in the daemon's service group. It
/// serves, uploads, deletes and lists GridFS files, and `/metrics`, `/livez`, `/readyz`.
public struct HTTPGateway: Service {
    private let application: Application<GatewayResponder>
    private let executor: (any TaskExecutor)?

    /// A gateway over `storage`. `metricsText` renders every metric of the process (Prometheus text
    /// format); `onListening` is told the bound port once the socket listens. With `executor` (the
    /// daemon passes its `BlockingExecutor`), the server and its connection tasks run there, as the
    /// wire server's do, so storage reads run inline on the request's thread instead of hopping
    /// to a reader queue and back.
    public init(storage: any StorageEngine, settings: GatewaySettings, metrics: GatewayMetrics = GatewayMetrics(),
                logger: Logger, executor: (any TaskExecutor)? = nil, metricsText: @escaping @Sendable () async -> String,
                onListening: @escaping @Sendable (Int) async -> Void = { _ in }) {
        self.executor = executor
        // Hummingbird's own info line ("Server started and listening on HOST:PORT") would match the
        // wire listener's "listening on" line that scripts look for: it logs warnings and up only,
        // and the gateway logs "HTTP gateway on http://HOST:PORT" itself.
        var frameworkLogger = logger
        frameworkLogger.logLevel = max(logger.logLevel, .warning)
        let responder = GatewayResponder(storage: storage, settings: settings, metrics: metrics, logger: logger,
                                         metricsText: metricsText)
        application = Application(
            responder: responder,
            server: .http1(configuration: .init(
                additionalChannelHandlers: [ConnectionCounter(metrics: metrics), ExpectContinueHandler()], idleTimeout: .seconds(300))),
            configuration: ApplicationConfiguration(address: .hostname(settings.host, port: settings.port),
                                                    serverName: "gridlite"),
            onServerRunning: { channel in await onListening(channel.localAddress?.port ?? settings.port) },
            logger: frameworkLogger)
    }

    public func run() async throws {
        // Task executor preference is inherited by the child tasks Hummingbird starts per connection.
        try await withTaskExecutorPreference(executor) {
            try await application.run()
        }
    }

    /// Whether `host:port` can be bound now (a probe before start-up, so a taken port is reported
    /// as one line instead of a failed service group).
    public static func canBind(host: String, port: Int) -> Bool {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_flags = AI_NUMERICSERV | AI_PASSIVE
        var result: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, String(port), &hints, &result) == 0, let info = result else { return false }
        defer { freeaddrinfo(result) }
        let fd = socket(info.pointee.ai_family, info.pointee.ai_socktype, info.pointee.ai_protocol)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var yes: Int32 = 1
        _ = setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
        guard bind(fd, info.pointee.ai_addr, info.pointee.ai_addrlen) == 0 else { return false }
        return listen(fd, 1) == 0
    }
}

/// Counts HTTP connections (current and total) as the pipeline is set up and torn down.
final class ConnectionCounter: ChannelInboundHandler, RemovableChannelHandler, Sendable {
    typealias InboundIn = NIOAny
    let metrics: GatewayMetrics

    init(metrics: GatewayMetrics) { self.metrics = metrics }

    func handlerAdded(context: ChannelHandlerContext) {
        metrics.connectionOpened()
        // NIO's default high-water mark (64 KiB) makes the body writer wait for the socket after
        // every batch: one more hand-off between the event loop and the request's thread per
        // write. Two batches' worth keeps the bound a slow client can hold (the next batch is read
        // only when the writer accepts this one) while a batch goes out without waiting.
        _ = context.channel.setOption(ChannelOptions.writeBufferWaterMark,
                                      value: .init(low: Self.lowWaterMark, high: Self.highWaterMark))
    }

    /// The connection's write buffer marks (bytes).
    static let lowWaterMark = 2 << 20
    static let highWaterMark = 4 << 20
    func handlerRemoved(context: ChannelHandlerContext) { metrics.connectionClosed() }
}
