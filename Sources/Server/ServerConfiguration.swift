/// Where and how the server listens.
public struct ServerConfiguration: Sendable {
    /// Address to bind (`127.0.0.1` by default; `0.0.0.0` for every interface).
    public var host: String
    /// Port to bind; 0 picks a free one.
    public var port: Int
    /// Largest message accepted from a client; larger frames close the connection.
    public var maxMessageSize: Int
    /// Listen backlog.
    public var backlog: Int32

    /// Creates a configuration.
    public init(host: String = "127.0.0.1", port: Int = 27017, maxMessageSize: Int = 48_000_000, backlog: Int32 = 256) {
        self.host = host
        self.port = port
        self.maxMessageSize = maxMessageSize
        self.backlog = backlog
    }
}
