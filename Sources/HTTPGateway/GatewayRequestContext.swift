import Hummingbird
import NIOCore

/// The gateway's request context: Hummingbird's core storage plus the peer's address, which the
/// credential check needs to slow down repeated failures from one client (as SCRAM does on the wire)
/// and the failure log line names.
struct GatewayRequestContext: RequestContext, RemoteAddressRequestContext {
    var coreContext: CoreRequestContextStorage
    /// The connection's peer, when the channel knows it.
    let remoteAddress: SocketAddress?

    init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        remoteAddress = source.channel.remoteAddress
    }

    /// The peer's IP address without the port ("" when unknown; the socket path for a Unix socket).
    var clientHost: String {
        guard let remoteAddress else { return "" }
        return remoteAddress.ipAddress ?? remoteAddress.pathname ?? ""
    }
}
