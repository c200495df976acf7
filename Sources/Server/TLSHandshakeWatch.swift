import Commands
import Logging
import NIOCore
import NIOSSL
import NIOTLS

/// Sits behind a connection's `NIOSSLServerHandler` until the handshake is over: closes the
/// connection when the handshake does not finish within the frame read timeout or fails (logging
/// why), and on success records the TLS version and client certificate for the connection.
final class TLSHandshakeWatch: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    private let ssl: NIOSSLServerHandler
    private let timeout: TimeAmount?
    private let transport: ConnectionTransport
    private let logger: Logger
    private var deadline: Scheduled<Void>?
    private var done = false

    init(ssl: NIOSSLServerHandler, timeout: TimeAmount?, transport: ConnectionTransport, logger: Logger) {
        self.ssl = ssl
        self.timeout = timeout
        self.transport = transport
        self.logger = logger
    }

    func handlerAdded(context: ChannelHandlerContext) {
        guard let timeout else { return }
        let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        deadline = context.eventLoop.scheduleTask(in: timeout) {
            let (handler, context) = bound.value
            guard !handler.done else { return }
            handler.fail(context: context, "TLS handshake not finished within the frame read timeout")
        }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        deadline?.cancel()
        deadline = nil
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        guard !done, let tlsEvent = event as? TLSUserEvent, case .handshakeCompleted = tlsEvent else {
            context.fireUserInboundEventTriggered(event)
            return
        }
        done = true
        deadline?.cancel()
        let facts = TLSConnectionFacts(
            version: TLSHandshakeWatch.name(of: ssl.tlsVersion),
            clientCertificateSubject: ssl.peerCertificate.map(TLSHandshakeWatch.subject(of:)))
        transport.resolve(.tls(facts))
        context.fireUserInboundEventTriggered(event)
        context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        guard !done else {
            context.fireErrorCaught(error)
            return
        }
        fail(context: context, "TLS handshake failed: \(error)")
    }

    func channelInactive(context: ChannelHandlerContext) {
        deadline?.cancel()
        if !done {
            done = true
            transport.resolve(.closed)
        }
        context.fireChannelInactive()
    }

    private func fail(context: ChannelHandlerContext, _ reason: String) {
        done = true
        let peer = Connection.describe(context.channel.remoteAddress)
        logger.warning("closing connection from \(peer): \(reason)")
        transport.resolve(.closed)
        context.close(promise: nil)
    }

    /// mongod's names for TLS versions.
    static func name(of version: TLSVersion?) -> String {
        switch version {
        case .tlsv1: "TLS1_0"
        case .tlsv11: "TLS1_1"
        case .tlsv12: "TLS1_2"
        case .tlsv13: "TLS1_3"
        case nil: "unknown"
        }
    }

    /// `CN=…,O=…` from a certificate's subject.
    static func subject(of certificate: NIOSSLCertificate) -> String {
        certificate.subjectName.map { name in
            let key: String
            switch name.type {
            case .commonName: key = "CN"
            case .organization: key = "O"
            case .organizationalUnit: key = "OU"
            case .country: key = "C"
            case .state: key = "ST"
            case .city: key = "L"
            case .emailAddress: key = "emailAddress"
            case .userId: key = "UID"
            default: key = "?"
            }
            return "\(key)=\(name.value)"
        }.joined(separator: ",")
    }
}
