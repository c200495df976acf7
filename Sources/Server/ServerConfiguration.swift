import Compression
import NIOCore
import Wire

/// Where and how the server listens, and the limits that keep it alive under load
/// (docs/reliability.md, "Limits").
public struct ServerConfiguration: Sendable {
    /// Address to bind (`127.0.0.1` by default; `0.0.0.0` for every interface).
    public var host: String
    /// Port to bind; 0 picks a free one.
    public var port: Int
    /// Largest message accepted from a client; larger frames close the connection.
    public var maxMessageSize: Int
    /// Listen backlog.
    public var backlog: Int32
    /// Most client connections open at once; a connection beyond it is closed at once, with a log line.
    public var maxConnections: Int
    /// Most request bytes held at once across all connections (read, queued, parsed or executing);
    /// readers beyond it wait. nil for no cap.
    public var maxIncomingBytesInFlight: Int?
    /// Longest wait for the next byte of a message that has started; nil for none.
    public var frameReadTimeout: TimeAmount?
    /// OP_COMPRESSED compressors offered and accepted (`--networkMessageCompressors`); empty
    /// disables compression (OP_COMPRESSED frames then close the connection).
    public var compressors: [MessageCompressor] = MessageCompressor.defaultList
    /// On graceful shutdown, how long a connection may take to deliver replies already written
    /// (a large batch to a slow reader) before it is closed anyway.
    public var shutdownDrainLimit: TimeAmount = .seconds(10)
    /// TLS (`--tlsMode` and the certificate contexts); plain only by default.
    public var tls: TLSServerSettings = .disabled
    /// Short requests answered on the connection's event loop, with no thread hop (see
    /// ``InlinePolicy``); nil: every request runs on the server's executor. Takes effect only when
    /// the server has an executor (`GridliteServer.bind(…executor:…)`).
    public var inlinePolicy: InlinePolicy?

    /// The default ``maxConnections``: see docs/reliability.md for the reasoning.
    public static let defaultMaxConnections = 10_000
    /// The default ``maxIncomingBytesInFlight``: 256 MiB, about five 48 MB inserts.
    public static let defaultMaxIncomingBytesInFlight = 256 << 20
    /// The default ``frameReadTimeout``.
    public static let defaultFrameReadTimeout = TimeAmount.seconds(60)

    /// Creates a configuration.
    public init(
        host: String = "127.0.0.1", port: Int = 27017, maxMessageSize: Int = 48_000_000, backlog: Int32 = 256,
        maxConnections: Int = ServerConfiguration.defaultMaxConnections,
        maxIncomingBytesInFlight: Int? = ServerConfiguration.defaultMaxIncomingBytesInFlight,
        frameReadTimeout: TimeAmount? = ServerConfiguration.defaultFrameReadTimeout
    ) {
        self.host = host
        self.port = port
        self.maxMessageSize = maxMessageSize
        self.backlog = backlog
        self.maxConnections = maxConnections
        self.maxIncomingBytesInFlight = maxIncomingBytesInFlight
        self.frameReadTimeout = frameReadTimeout
    }
}
